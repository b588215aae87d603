// SPDX-License-Identifier: GPL-2.0-or-later
// GuestAgent: vsad's client of a guest agent speaking qemu-guest-agent's
// protocol (QEMU's qga/qapi-schema.json), the stand-in for Virtual Server's
// Virtual Machine Additions behind IVMGuestOS. Linux guests already ship
// the agent (Debian: qemu-guest-agent); in the guest it runs as
//   qemu-ga -m isa-serial -p /dev/ttyS2
// on the worker's agent port (a 16550A at 0x3E8, pc_machine.h), whose
// bytes reach vsad through a socketpair the worker inherits (--agent fd:N).
//
// Wire format: one JSON object a line each way. A command is
//   {"execute":"guest-ping","arguments":{...}}
// and its reply {"return": VALUE} or {"error":{"class":..,"desc":..}}.
// The port is a byte stream without framing: a reply that timed out may
// still arrive later, and an agent that just started may see half a line.
// So every call first synchronises: vsad sends the byte 0xFF (the agent
// resets its parser on it) and guest-sync-delimited with a fresh id; the
// agent answers 0xFF followed by {"return": id}. Everything before that
// sentinel, and sync answers with another id, is stale and dropped. Then
// the command goes out and the next line is its reply.
//
// Bounds, since the guest is untrusted: a reply line is at most MAX_LINE
// bytes, nested at most MAX_DEPTH deep, and every call has a deadline. A
// guest that answers garbage, too much or nothing makes the call fail
// (VM_E_ADDITIONS_FEATURE_NOT_AVAIL: no agent answered; E_FAIL: the agent
// answered with an error or nonsense); the next call resynchronises.
//
// Besides the calls, a monitor thread pings the agent once a
// ping_interval (five times less often after 10 unanswered pings): the heartbeat (IsHeartbeating,
// HeartbeatPercentage when an agent answers), and on the first answer after a (re)connection it reads the
// agent's version and the OS name (cached here), and sets the guest's clock when host time sync is enabled
// (then again every time_sync_interval and after request_time_sync(): a restore, a resume).
#pragma once

#include "hypervisor/base/file_descriptor.h"
#include "services/service_error.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace vsa::services {

class GuestAgent {
public:
    static constexpr std::size_t MAX_LINE = 1024 * 1024; // one reply line, bytes
    static constexpr std::size_t MAX_DEPTH = 16;         // JSON nesting of a reply
    static constexpr std::size_t MAX_TEXT = 4096;        // a name, a version, an error text

    struct Options {
        // How long the agent may stay silent within a call. Every byte it
        // sends gives it that long again, up to reply_limit from the call's
        // start: guest-info (~4 KB) crosses the 38400-baud agent port in
        // over a second, and a guest on a loaded host refills the UART
        // slowly, but a guest that dribbles bytes forever is still cut off.
        std::chrono::milliseconds call_timeout{3'000};
        std::chrono::milliseconds reply_limit{30'000};
        std::chrono::milliseconds ping_interval{1'000};
        std::chrono::milliseconds ping_timeout{1'500};
        std::chrono::milliseconds time_sync_interval{600'000};
        // Heartbeat window (HeartbeatPercentage).
        std::chrono::seconds window{60};
        // The monitor thread (off for protocol tests).
        bool monitor{true};
        // The first answer of the agent: its version (for the .vmc).
        std::function<void(std::string const& version)> on_contact;
    };

    // `stream`: vsad's end of the agent port (a stream socket).
    GuestAgent(FileDescriptor stream, Options options);
    ~GuestAgent(); // stops the monitor, interrupts a call under way
    GuestAgent(GuestAgent const&) = delete;
    GuestAgent& operator=(GuestAgent const&) = delete;

    // --- One command each (thread-safe, one at a time) ---------------------
    // Its "return" value as JSON text ("{}" for guest-ping). `arguments`:
    // a JSON object's text, or "" for none.
    ServiceResult<std::string> call(std::string_view command, std::string_view arguments,
                                    std::optional<std::chrono::milliseconds> timeout = std::nullopt);
    ServiceResult<void> ping();
    ServiceResult<std::string> version();   // guest-info "version"
    ServiceResult<std::string> os_name();   // guest-get-osinfo "pretty-name" (else "name")
    ServiceResult<std::string> host_name(); // guest-get-host-name "host-name"
    // guest-shutdown mode powerdown. On success the agent does not answer
    // (it is going away), so only an error reply within a short wait fails.
    ServiceResult<void> shutdown();
    // guest-set-time to `ns_since_epoch`.
    ServiceResult<void> set_time(std::int64_t ns_since_epoch);
    struct ExecResult {
        std::int64_t exit_code{0};
        std::optional<std::int64_t> signal;
        std::string out;
        std::string err;
        bool truncated{false};
    };
    // guest-exec with captured output, then guest-exec-status until it
    // exited or `timeout` passed (VM_E_TIMED_OUT; the process runs on).
    ServiceResult<ExecResult> exec(std::string const& path, std::vector<std::string> const& args,
                                   std::chrono::milliseconds timeout);
    // A whole guest file through guest-file-open/read/close (at most
    // max_bytes), or nullopt when it cannot be opened (the agent's error).
    ServiceResult<std::optional<std::string>> read_file(std::string const& path, std::size_t max_bytes);
    ServiceResult<void> write_file(std::string const& path, std::string const& data);

    // --- What the monitor learned --------------------------------------------
    struct Status {
        bool answered{false};     // the agent answered since the port connected
        bool heartbeating{false}; // the latest ping was answered
        std::int32_t heartbeat_percentage{0};
        std::string version; // guest-info, once known
        std::string os_name; // guest-get-osinfo, once known
    };
    Status status() const;
    // Host time sync (IVMGuestOS.IsHostTimeSyncEnabled): set the guest's
    // clock now (when enabled) and periodically.
    void set_time_sync(bool enabled);
    void request_time_sync();

private:
    enum class Read { Line, Timeout, Closed, TooLong, Stopped };
    // A call's time limit: `at` moves to `quiet` after each byte the agent
    // sends (progress), never past `cap`.
    struct Deadline {
        std::chrono::steady_clock::time_point at;
        std::chrono::steady_clock::time_point cap;
        std::chrono::milliseconds quiet;
        void progress();
    };
    // From now: silent for at most `quiet`, reply_limit in all.
    Deadline deadline_in(std::chrono::milliseconds quiet) const;

    ServiceResult<std::string> call_locked(std::string_view command, std::string_view arguments,
                                           Deadline deadline, bool expect_reply);
    ServiceResult<void> synchronise(Deadline& deadline);
    bool send(std::string_view bytes, Deadline const& deadline);
    // Fills m_in until it holds '\n' (a line: returned without it, and
    // consumed). `after_sentinel`: first drop everything up to a 0xFF.
    Read read_line(Deadline& deadline, bool after_sentinel, std::string& line);
    bool wait_readable(Deadline const& deadline);
    ServiceError no_agent(std::string_view what) const;
    void monitor_loop();
    void record_ping(bool ok);

    FileDescriptor m_stream;
    FileDescriptor m_wake; // eventfd: stop
    Options m_options;
    std::atomic<bool> m_stopping{false};

    std::mutex m_call_mutex; // one call at a time; guards the below
    std::string m_in;        // bytes read, not yet a line
    bool m_closed{false};    // the worker's end went away
    std::int64_t m_next_sync_id;

    mutable std::mutex m_status_mutex;
    std::deque<std::pair<std::chrono::steady_clock::time_point, bool>> m_pings; // the window's
    bool m_answered{false};
    bool m_contacted{false}; // version and name read since the last silence
    std::string m_version;
    std::string m_os_name;
    bool m_time_sync{false};
    bool m_time_sync_due{false};
    std::chrono::steady_clock::time_point m_last_time_sync{};

    std::mutex m_monitor_mutex;
    std::condition_variable m_monitor_wake;
    std::thread m_monitor;
};

// The protocol's pieces, for tests (guest_agent.cpp).
namespace guest_agent_protocol {
// {"execute":"NAME"} or {"execute":"NAME","arguments":ARGS}, with '\n'.
std::string command_line(std::string_view command, std::string_view arguments);
// A reply line: the "return" value as JSON text; an {"error"} reply as
// E_FAIL with the agent's class and description; anything else (not JSON,
// too deep, neither member) as E_FAIL saying so.
ServiceResult<std::string> parse_reply(std::string_view line);
// JSON string escaping (quotes included).
std::string quote(std::string_view text);
// Printable ASCII, at most GuestAgent::MAX_TEXT bytes: for text from the
// guest that goes into messages and SOAP answers.
std::string clean_text(std::string_view text);
} // namespace guest_agent_protocol

} // namespace vsa::services
