// SPDX-License-Identifier: GPL-2.0-or-later
// Running an event script: a host program started with posix_spawn (no
// shell; command_line.h splits the line), stdin from /dev/null, stdout and
// stderr captured through one pipe, in a process group of its own, with a
// clean signal mask, only the environment we give it, the descriptors
// 0-2 and nothing else of vsad's (closefrom), in `working_dir`.
// At the deadline the whole group gets SIGKILL, so a script that hangs (or
// left a child holding the pipe) never holds a vsad thread longer than its
// timeout.
//
// run_script is synchronous (a unit under test, or a runner thread);
// ScriptRunner runs scripts on threads of its own, at most max_running at
// once, so neither the SOAP threads nor a VM ever wait for one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vsa::services::scripts {

struct ScriptSpec {
    std::vector<std::string> argv;        // argv[0]: the program's absolute path
    std::vector<std::string> environment; // "NAME=value", the whole environment
    std::string working_dir;              // "" = vsad's
    std::chrono::milliseconds timeout{60'000};
    std::size_t max_output{64 * 1024}; // kept of stdout+stderr; the rest is read and dropped
};

struct ScriptOutcome {
    bool started{false};
    std::string spawn_error; // why it did not start (strerror of posix_spawn)
    bool timed_out{false};   // killed at the deadline
    int exit_code{-1};       // when it exited
    int signal{0};           // when a signal ended it (SIGKILL after a timeout)
    std::string output;      // stdout and stderr, interleaved as written
    bool output_truncated{false};
    std::chrono::milliseconds elapsed{0};

    bool succeeded() const { return started && !timed_out && signal == 0 && exit_code == 0; }
    // "exit status 3", "killed by signal 9", "timed out after 2000 ms",
    // "could not start: No such file or directory".
    std::string describe() const;
};

ScriptOutcome run_script(ScriptSpec const& spec);

class ScriptRunner {
public:
    explicit ScriptRunner(std::size_t max_running = 8) : m_max_running(max_running) {}
    // Waits for the scripts still running (each ends by its timeout).
    ~ScriptRunner();
    ScriptRunner(ScriptRunner const&) = delete;
    ScriptRunner& operator=(ScriptRunner const&) = delete;

    using Done = std::function<void(ScriptOutcome const&)>;
    // Starts `spec` on a thread of its own and calls `done` there when it
    // ended. false (nothing started) when max_running scripts are running.
    bool submit(ScriptSpec spec, Done done);
    std::size_t running() const;
    // Blocks until no script runs (tests).
    void wait_idle() const;

private:
    void reap_finished(std::unique_lock<std::mutex>& lock);

    std::size_t m_max_running;
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_idle;
    struct Slot {
        std::thread thread;
        bool finished{false};
    };
    std::list<Slot> m_slots;
    std::size_t m_running{0};
};

} // namespace vsa::services::scripts
