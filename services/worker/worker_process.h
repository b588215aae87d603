// SPDX-License-Identifier: GPL-2.0-or-later
// WorkerProcess: one running vsa-vm, as vsad sees it. It starts the
// process with the worker's end of a socketpair as --control-fd (why a
// socketpair: hypervisor/machine/control_channel.h), sends commands and
// waits for their replies, hands the worker's events to a callback, and
// reaps the process.
//
// One monitor thread per worker does all of it in order: it forks (so the
// child's PR_SET_PDEATHSIG, which is tied to the forking *thread*, fires
// exactly when vsad dies and not when some pool thread retires), reads the
// socket until EOF, then waitpid()s. So on_exit always comes after the last
// event, and a worker that dies in any way (kill -9 included) is noticed at
// once by the EOF. Callbacks run on the monitor thread; they must not
// destroy the WorkerProcess (its destructor joins that thread).
//
// The child: its own process group (a terminal's Ctrl-C reaches vsad, which
// then saves or turns off its VMs, not the workers directly), stdin from
// /dev/null, stdout/stderr shared with vsad (the journal), no other
// inherited descriptors, SIGKILL when vsad dies.
//
// A worker's output is untrusted: lines that do not decode are reported
// through on_log and dropped; they never reach the state machine.
//
// The screen: each worker gets a SharedFramebuffer (a memfd vsad creates
// and seals, hypervisor/machine/shared_framebuffer.h) as
// --framebuffer-fd=4, which the console (appliance/console) reads. It is
// shared, so a console still reading it after the worker is gone reads a
// valid mapping (the last picture) and never faults. If the memfd cannot
// be made the worker starts without one (no console) and on_log says so.
#pragma once

#include "hypervisor/base/file_descriptor.h"
#include "hypervisor/machine/control_protocol.h"
#include "hypervisor/machine/shared_framebuffer.h"
#include "services/service_error.h"
#include "services/worker/host_account.h"

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace vsa::services {

struct WorkerExit {
    int status{-1}; // exit status, or -1 when killed by a signal
    int signal{0};  // the signal that killed it, or 0
    std::string describe() const;
};

class WorkerProcess {
public:
    struct Callbacks {
        std::function<void(control::Notification const&)> on_event;
        std::function<void(WorkerExit const&)> on_exit; // once, after the last event
        std::function<void(std::string const&)> on_log; // protocol noise worth a log line
    };

    // Descriptors a worker may inherit besides its control socket and
    // screen (its network adapters' sockets, then its guest agent port's):
    // the child finds inherited[i] as descriptor FIRST_INHERITED_FD + i,
    // which `arguments` name.
    static constexpr int FIRST_INHERITED_FD = 5;
    static constexpr std::size_t MAX_INHERITED = 5;

    // Starts `binary` with `arguments` plus "--control-fd 3" and
    // "--framebuffer-fd=4", handing it `inherited` (at most MAX_INHERITED;
    // vsad's copies are closed once the child has its own). Returns once
    // the process exists (exec failures show up as exit status 127).
    // With `run_as`, the child takes that account's groups, gid and uid
    // before it execs (failing that: exit status 126); the caller checked
    // that vsad may (host_account.h).
    static ServiceResult<std::unique_ptr<WorkerProcess>>
    spawn(std::filesystem::path const& binary, std::vector<std::string> const& arguments, Callbacks callbacks,
          std::vector<FileDescriptor> inherited = {}, std::optional<HostCredentials> run_as = {});

    // Kills the process if it still runs (SIGKILL) and joins the monitor.
    ~WorkerProcess();
    WorkerProcess(WorkerProcess const&) = delete;
    WorkerProcess& operator=(WorkerProcess const&) = delete;

    pid_t pid() const { return m_pid; }
    // The worker's screen (null when the memfd could not be made).
    std::shared_ptr<SharedFramebuffer> framebuffer() const { return m_framebuffer; }

    // Sends a command and waits for its reply. An error reply is E_FAIL
    // with the worker's text; no reply in time is VM_E_TIMED_OUT; a worker
    // that is gone is VM_E_VM_NOT_RUNNING. Thread-safe; commands are
    // answered in order.
    ServiceResult<control::Reply> request(control::Command command, std::chrono::milliseconds timeout);
    // The same for a command with arguments (insert-media, screenshot ...);
    // `request.seq` is chosen here.
    ServiceResult<control::Reply> request(control::Request request, std::chrono::milliseconds timeout);

    // SIGKILL (pulling the plug). The exit still arrives through on_exit.
    void kill();
    // True once the process has been reaped.
    bool exited() const;
    bool wait_exited(std::chrono::milliseconds timeout) const;

private:
    WorkerProcess() = default;
    void monitor(std::filesystem::path binary, std::vector<std::string> arguments,
                 std::vector<FileDescriptor> inherited);
    void read_until_eof();
    void route(std::string const& line);
    void log_bad(std::string const& line); // monitor thread only

    Callbacks m_callbacks;
    std::optional<HostCredentials> m_run_as;
    std::shared_ptr<SharedFramebuffer> m_framebuffer;
    FileDescriptor m_socket;
    pid_t m_pid{-1};
    std::thread m_monitor;
    unsigned m_bad_lines{0}; // monitor thread only

    mutable std::mutex m_mutex;
    mutable std::condition_variable m_changed;
    bool m_spawned{false};
    std::string m_spawn_error;
    bool m_exited{false};
    bool m_eof{false};
    u32 m_next_seq{1};
    std::vector<control::Reply> m_replies; // arrived, not yet taken
    std::mutex m_request_mutex;            // one command in flight
};

} // namespace vsa::services
