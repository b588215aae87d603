// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/worker/worker_process.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace vsa::services {

namespace {

// The descriptors the worker finds its control socket and its screen on.
constexpr int CHILD_CONTROL_FD = 3;
constexpr int CHILD_FRAMEBUFFER_FD = 4;
// Where the child parks descriptors before moving them to their places
// (above both, so no dup2 can close the other one's source).
constexpr int CHILD_PARKING_FD = 10;
static_assert(WorkerProcess::FIRST_INHERITED_FD + static_cast<int>(WorkerProcess::MAX_INHERITED) <=
              CHILD_PARKING_FD);
// Replies nobody waits for any more (a request that timed out) are kept at
// most this many, so a worker spamming replies cannot grow vsad's memory.
constexpr std::size_t MAX_PENDING_REPLIES = 16;
// Bad lines logged per worker: enough to diagnose, not a log flood.
constexpr unsigned MAX_LOGGED_BAD_LINES = 8;

std::string errno_text(char const* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

} // namespace

std::string WorkerExit::describe() const {
    if (signal != 0) return "killed by signal " + std::to_string(signal) + " (" + strsignal(signal) + ")";
    return "exit status " + std::to_string(status);
}

ServiceResult<std::unique_ptr<WorkerProcess>> WorkerProcess::spawn(std::filesystem::path const& binary,
                                                                   std::vector<std::string> const& arguments,
                                                                   Callbacks callbacks,
                                                                   std::vector<FileDescriptor> inherited,
                                                                   std::optional<HostCredentials> run_as) {
    if (inherited.size() > MAX_INHERITED)
        return service_error(hr::E_INVALIDARG, "a VM worker inherits at most " +
                                                   std::to_string(MAX_INHERITED) +
                                                   " descriptors besides its control socket and screen");
    std::unique_ptr<WorkerProcess> worker(new WorkerProcess());
    worker->m_callbacks = std::move(callbacks);
    worker->m_run_as = std::move(run_as);
    if (auto framebuffer = SharedFramebuffer::create(); framebuffer.is_error()) {
        if (worker->m_callbacks.on_log)
            worker->m_callbacks.on_log(
                "no shared framebuffer for the VM worker (the console will not show it): " +
                framebuffer.error());
    } else {
        worker->m_framebuffer = std::make_shared<SharedFramebuffer>(framebuffer.release_value());
    }
    WorkerProcess* self = worker.get();
    auto handed = std::make_shared<std::vector<FileDescriptor>>(std::move(inherited));
    worker->m_monitor = std::thread(
        [self, binary, arguments, handed] { self->monitor(binary, arguments, std::move(*handed)); });
    std::unique_lock lock(worker->m_mutex);
    worker->m_changed.wait(lock, [&] { return worker->m_spawned || !worker->m_spawn_error.empty(); });
    if (!worker->m_spawned) {
        auto error = worker->m_spawn_error;
        lock.unlock();
        return service_error(hr::E_FAIL, "cannot start the VM worker " + binary.string() + ": " + error);
    }
    return worker;
}

WorkerProcess::~WorkerProcess() {
    kill();
    if (m_monitor.joinable()) m_monitor.join();
}

void WorkerProcess::monitor(std::filesystem::path binary, std::vector<std::string> arguments,
                            std::vector<FileDescriptor> inherited) {
    // Everything the child needs is prepared here: between fork and exec a
    // multithreaded parent's child may only make async-signal-safe calls.
    std::array<int, 2> ends{-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends.data()) != 0) {
        std::lock_guard lock(m_mutex);
        m_spawn_error = errno_text("socketpair");
        m_changed.notify_all();
        return;
    }
    FileDescriptor ours(ends[0]);
    FileDescriptor theirs(ends[1]);
    FileDescriptor null_input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    arguments.insert(arguments.begin(), binary.string());
    arguments.push_back("--control-fd");
    arguments.push_back(std::to_string(CHILD_CONTROL_FD));
    int framebuffer_fd = m_framebuffer ? m_framebuffer->fd() : -1;
    if (framebuffer_fd >= 0) arguments.push_back("--framebuffer-fd=" + std::to_string(CHILD_FRAMEBUFFER_FD));
    std::vector<char*> argv;
    for (auto& argument : arguments)
        argv.push_back(argument.data());
    argv.push_back(nullptr);
    std::string path = binary.string();
    pid_t parent = ::getpid();
    HostCredentials const* run_as = m_run_as ? &*m_run_as : nullptr;

    pid_t pid = ::fork();
    if (pid == 0) {
        // The child. Its account first: a change of credentials clears the
        // parent-death signal, so the prctl below comes after it.
        if (run_as && (::setgroups(run_as->groups.size(), run_as->groups.data()) != 0 ||
                       ::setgid(run_as->gid) != 0 || ::setuid(run_as->uid) != 0))
            ::_exit(126);
        // A backstop: vsad's death (this thread's, which lives exactly as
        // long as the worker) kills it even if it hangs.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127); // vsad died before the prctl
        ::setpgid(0, 0);
        // vsad blocks its termination signals for sigwait() and Poco may
        // ignore some; the worker needs them as a plain process has them.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGCHLD})
            ::sigaction(sig, &dfl, nullptr);
        if (null_input.fd() >= 0) ::dup2(null_input.fd(), STDIN_FILENO);
        // Both descriptors are parked above their places first (F_DUPFD
        // makes copies without CLOEXEC), so one dup2 cannot close the
        // other's source; dup2 then clears CLOEXEC on the places, and
        // close_range closes the parked copies with everything else.
        int control = ::fcntl(theirs.fd(), F_DUPFD, CHILD_PARKING_FD);
        int screen = framebuffer_fd >= 0 ? ::fcntl(framebuffer_fd, F_DUPFD, CHILD_PARKING_FD) : -1;
        if (control < 0 || (framebuffer_fd >= 0 && screen < 0)) ::_exit(127);
        int parked[MAX_INHERITED];
        for (std::size_t i = 0; i < inherited.size(); ++i) {
            parked[i] = ::fcntl(inherited[i].fd(), F_DUPFD, CHILD_PARKING_FD);
            if (parked[i] < 0) ::_exit(127);
        }
        ::dup2(control, CHILD_CONTROL_FD);
        if (screen >= 0)
            ::dup2(screen, CHILD_FRAMEBUFFER_FD);
        else
            ::close(CHILD_FRAMEBUFFER_FD); // never a stray descriptor where the screen would be
        int last = screen >= 0 ? CHILD_FRAMEBUFFER_FD : CHILD_CONTROL_FD;
        for (std::size_t i = 0; i < inherited.size(); ++i) {
            last = FIRST_INHERITED_FD + static_cast<int>(i);
            ::dup2(parked[i], last);
        }
        ::close_range(static_cast<unsigned>(last + 1), ~0U, 0);
        ::execv(path.c_str(), argv.data());
        ::_exit(127);
    }
    if (pid < 0) {
        std::lock_guard lock(m_mutex);
        m_spawn_error = errno_text("fork");
        m_changed.notify_all();
        return;
    }
    theirs.reset();
    null_input.reset();
    inherited.clear(); // the child has its copies
    {
        std::lock_guard lock(m_mutex);
        m_pid = pid;
        m_socket = std::move(ours);
        m_spawned = true;
        m_changed.notify_all();
    }

    try {
        read_until_eof();
    } catch (...) {
        // A callback failed (out of memory): stop listening, still reap.
        kill();
    }
    {
        std::lock_guard lock(m_mutex);
        m_eof = true;
        m_changed.notify_all();
    }
    // Wait without reaping first: until the zombie is reaped its pid cannot
    // be reused, so kill() (under m_mutex) never hits another process.
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
    }
    WorkerExit exit;
    {
        std::lock_guard lock(m_mutex);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (WIFSIGNALED(status))
            exit.signal = WTERMSIG(status);
        else if (WIFEXITED(status))
            exit.status = WEXITSTATUS(status);
        m_pid = -1;
    }
    try {
        if (m_callbacks.on_exit) m_callbacks.on_exit(exit);
    } catch (...) {
    }
    std::lock_guard lock(m_mutex);
    m_exited = true;
    m_changed.notify_all();
}

void WorkerProcess::read_until_eof() {
    control::LineReader reader;
    std::array<char, 4096> buffer{};
    for (;;) {
        ssize_t n = ::recv(m_socket.fd(), buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        while (auto line = reader.next()) {
            if (line->is_error()) {
                log_bad("worker sent a bad line: " + line->error());
                continue;
            }
            route(line->value());
        }
    }
}

void WorkerProcess::log_bad(std::string const& line) {
    if (!m_callbacks.on_log || m_bad_lines > MAX_LOGGED_BAD_LINES) return;
    ++m_bad_lines;
    m_callbacks.on_log(m_bad_lines > MAX_LOGGED_BAD_LINES ? "worker keeps sending bad lines; no longer logged"
                                                          : line);
}

void WorkerProcess::route(std::string const& line) {
    auto message = control::decode_worker_message(line);
    if (message.is_error()) {
        log_bad("worker sent a bad message: " + message.error());
        return;
    }
    if (auto* reply = std::get_if<control::Reply>(&message.value())) {
        std::lock_guard lock(m_mutex);
        if (m_replies.size() >= MAX_PENDING_REPLIES) m_replies.erase(m_replies.begin());
        m_replies.push_back(*reply);
        m_changed.notify_all();
        return;
    }
    if (m_callbacks.on_event) m_callbacks.on_event(std::get<control::Notification>(message.value()));
}

ServiceResult<control::Reply> WorkerProcess::request(control::Command command,
                                                     std::chrono::milliseconds timeout) {
    return request(control::Request{0, command}, timeout);
}

ServiceResult<control::Reply> WorkerProcess::request(control::Request request,
                                                     std::chrono::milliseconds timeout) {
    control::Command command = request.command;
    std::lock_guard one_at_a_time(m_request_mutex);
    std::unique_lock lock(m_mutex);
    if (m_eof || !m_spawned) return service_error(hr::VM_E_VM_NOT_RUNNING, "the VM worker is not running");
    u32 seq = m_next_seq++;
    if (m_next_seq == 0) m_next_seq = 1;
    m_replies.clear(); // anything older answers a request nobody waits for
    request.seq = seq;
    auto line = control::encode(request);
    int fd = m_socket.fd();
    lock.unlock();
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::send(fd, line.data() + done, line.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0)
            return service_error(hr::VM_E_VM_NOT_RUNNING,
                                 "the VM worker is gone (" + std::string(std::strerror(errno)) + ")");
        done += static_cast<std::size_t>(n);
    }
    lock.lock();
    std::optional<control::Reply> reply;
    bool answered = m_changed.wait_for(lock, timeout, [&] {
        for (auto const& r : m_replies)
            if (r.seq == seq) reply = r;
        return reply.has_value() || m_eof;
    });
    std::erase_if(m_replies, [&](control::Reply const& r) { return r.seq == seq; });
    if (reply) {
        if (!reply->ok)
            return service_error(hr::E_FAIL, "the VM worker refused '" +
                                                 std::string(control::command_name(command)) +
                                                 "': " + reply->error);
        return *reply;
    }
    if (!answered)
        return service_error(hr::VM_E_TIMED_OUT, "the VM worker did not answer '" +
                                                     std::string(control::command_name(command)) +
                                                     "' within " + std::to_string(timeout.count()) + " ms");
    return service_error(hr::VM_E_VM_NOT_RUNNING, "the VM worker exited");
}

void WorkerProcess::kill() {
    std::lock_guard lock(m_mutex);
    if (m_pid > 0) ::kill(m_pid, SIGKILL);
}

bool WorkerProcess::exited() const {
    std::lock_guard lock(m_mutex);
    return m_exited || (!m_spawned && !m_spawn_error.empty());
}

bool WorkerProcess::wait_exited(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, timeout, [&] { return m_exited || !m_spawn_error.empty(); });
}

} // namespace vsa::services
