// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/scripts/script_runner.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace vsa::services::scripts {

namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
    int fd{-1};
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    void reset() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

struct SpawnActions {
    posix_spawn_file_actions_t actions;
    SpawnActions() { posix_spawn_file_actions_init(&actions); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&actions); }
};

struct SpawnAttributes {
    posix_spawnattr_t attributes;
    SpawnAttributes() { posix_spawnattr_init(&attributes); }
    ~SpawnAttributes() { posix_spawnattr_destroy(&attributes); }
};

void record_status(ScriptOutcome& outcome, int status) {
    if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
}

} // namespace

std::string ScriptOutcome::describe() const {
    if (!started) return "could not start: " + spawn_error;
    if (timed_out) return "timed out after " + std::to_string(elapsed.count()) + " ms and was killed";
    if (signal) return "killed by signal " + std::to_string(signal);
    return "exit status " + std::to_string(exit_code);
}

ScriptOutcome run_script(ScriptSpec const& spec) {
    ScriptOutcome outcome;
    auto began = Clock::now();
    auto deadline = began + spec.timeout;
    if (spec.argv.empty() || spec.argv.front().empty()) {
        outcome.spawn_error = "no program";
        return outcome;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        outcome.spawn_error = std::string("pipe: ") + std::strerror(errno);
        return outcome;
    }
    Fd read_end{fds[0]};
    Fd write_end{fds[1]};

    SpawnActions actions;
    posix_spawn_file_actions_addopen(&actions.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions.actions, write_end.fd, 1);
    posix_spawn_file_actions_adddup2(&actions.actions, write_end.fd, 2);
    // Nothing of vsad's (sockets, disk images, the worker channels) leaks
    // into a script, CLOEXEC or not.
    posix_spawn_file_actions_addclosefrom_np(&actions.actions, 3);
    if (!spec.working_dir.empty())
        posix_spawn_file_actions_addchdir_np(&actions.actions, spec.working_dir.c_str());

    SpawnAttributes attributes;
    sigset_t empty_mask;
    sigemptyset(&empty_mask);
    sigset_t all_signals;
    sigfillset(&all_signals);
    posix_spawnattr_setsigmask(&attributes.attributes, &empty_mask);
    posix_spawnattr_setsigdefault(&attributes.attributes, &all_signals);
    posix_spawnattr_setpgroup(&attributes.attributes, 0);
    posix_spawnattr_setflags(&attributes.attributes,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

    std::vector<char*> argv;
    for (auto const& argument : spec.argv)
        argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto const& variable : spec.environment)
        envp.push_back(const_cast<char*>(variable.c_str()));
    envp.push_back(nullptr);

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, spec.argv.front().c_str(), &actions.actions, &attributes.attributes,
                           argv.data(), envp.data());
    write_end.reset();
    if (rc != 0) {
        outcome.spawn_error = std::strerror(rc);
        outcome.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
        return outcome;
    }
    outcome.started = true;

    bool exited = false;
    bool pipe_open = true;
    int status = 0;
    char buffer[4096];
    while (true) {
        if (!exited) {
            pid_t done = ::waitpid(pid, &status, WNOHANG);
            if (done == pid) exited = true;
        }
        if (exited && !pipe_open) break;
        auto now = Clock::now();
        if (now >= deadline) {
            outcome.timed_out = true;
            break;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
        if (!pipe_open || exited) {
            // Exited with a descendant still holding the pipe, or the pipe
            // closed while it runs: look again shortly.
            left = std::min<long long>(left, 20);
        }
        if (pipe_open) {
            pollfd poll_fd{read_end.fd, POLLIN, 0};
            int ready = ::poll(&poll_fd, 1, static_cast<int>(std::min<long long>(left, 100)));
            if (ready > 0) {
                auto n = ::read(read_end.fd, buffer, sizeof buffer);
                if (n > 0) {
                    auto keep = std::min<std::size_t>(static_cast<std::size_t>(n),
                                                      spec.max_output -
                                                          std::min(spec.max_output, outcome.output.size()));
                    outcome.output.append(buffer, keep);
                    if (keep < static_cast<std::size_t>(n)) outcome.output_truncated = true;
                } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                    pipe_open = false;
                }
            }
            if (exited && pipe_open && ready == 0) {
                // The script ended; whatever is left on the pipe comes from a
                // descendant that outlives it. Do not wait for that one.
                break;
            }
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(left));
        }
    }
    if (!exited) {
        if (outcome.timed_out) {
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
        }
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    } else if (outcome.timed_out) {
        // It exited, but a descendant kept the pipe until the deadline.
        outcome.timed_out = false;
        ::kill(-pid, SIGKILL);
    }
    record_status(outcome, status);
    outcome.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - began);
    return outcome;
}

ScriptRunner::~ScriptRunner() {
    std::list<Slot> slots;
    {
        std::unique_lock lock(m_mutex);
        m_idle.wait(lock, [&] { return m_running == 0; });
        slots.swap(m_slots);
    }
    for (auto& slot : slots)
        if (slot.thread.joinable()) slot.thread.join();
}

void ScriptRunner::reap_finished(std::unique_lock<std::mutex>& lock) {
    std::list<Slot> finished;
    for (auto it = m_slots.begin(); it != m_slots.end();) {
        auto next = std::next(it);
        if (it->finished) finished.splice(finished.end(), m_slots, it);
        it = next;
    }
    lock.unlock();
    for (auto& slot : finished)
        if (slot.thread.joinable()) slot.thread.join();
    lock.lock();
}

bool ScriptRunner::submit(ScriptSpec spec, Done done) {
    std::unique_lock lock(m_mutex);
    reap_finished(lock);
    if (m_running >= m_max_running) return false;
    ++m_running;
    auto& slot = m_slots.emplace_back();
    slot.thread = std::thread([this, &slot, spec = std::move(spec), done = std::move(done)] {
        auto outcome = run_script(spec);
        try {
            if (done) done(outcome);
        } catch (...) {
            // A reporting hook must not take vsad down with it.
        }
        std::lock_guard lock(m_mutex);
        slot.finished = true;
        --m_running;
        m_idle.notify_all();
    });
    return true;
}

std::size_t ScriptRunner::running() const {
    std::lock_guard lock(m_mutex);
    return m_running;
}

void ScriptRunner::wait_idle() const {
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [&] { return m_running == 0; });
}

} // namespace vsa::services::scripts
