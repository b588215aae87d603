// SPDX-License-Identifier: GPL-2.0-or-later
// EventLog: the server's ordered record of what happened - VM state
// changes, a guest powering off or triple faulting, a worker dying,
// configuration changes, registrations, task completions, the server
// starting and stopping. Virtual Server raised these as COM events
// (IVMVirtualServerEvents.OnVMStateChange, OnHeartbeatStopped, ...) and in
// its event viewer log; a SOAP client cannot take callbacks, so it reads
// the log instead: "events after sequence N, at most M" (GetEvents), or it
// long-polls until there is something new (WaitForUpdates).
//
// Sequence numbers start at 1, grow by one per event and never repeat for
// a data folder, across restarts: a client that remembers the last number
// it saw asks for what came after and misses nothing that is still kept.
//
// Bound: the newest `max_records` events are kept (in memory and on disk);
// older ones are dropped first. A client asking for events after a dropped
// number gets the oldest kept ones, and sees the gap in their numbers.
//
// Persistence: <data_dir>/events.log, one event per line, every field
// percent-encoded so a message with spaces or newlines stays one line.
// Each event is appended with one write(2) as it happens, without fsync:
// it survives a vsad crash (the kernel has it) and costs no disk flush on
// the power path; a host power loss may lose the last seconds of events,
// never the file. The file is compacted (rewritten atomically with the
// kept events) when it holds twice the bound. Loading skips lines that do
// not parse - a torn last line after a power loss, hand edits - and says
// so in load_warnings(); a log that cannot be read at all starts empty.
//
// Thread-safe. Waiters (wait_after) block on a condition variable and are
// woken by append() and by close().
#pragma once

#include "services/service_error.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services {

// What happened. The names (event_kind_name) are the contract: they are
// what GetEvents returns and what the log file stores. The first ones are
// the COM event names of IVMVirtualServerEvents; the rest follow
// VMEventType (vs-api.md section 4) where it has a value for them.
enum class EventKind {
    VmStateChange,         // OnVMStateChange: a VM entered `state`
    HeartbeatStopped,      // OnHeartbeatStopped: the guest stopped making progress
    VirtualServerStarted,  // vsad started serving
    VirtualServerStopped,  // vsad is stopping
    VmTurnedOffByGuest,    // the guest powered the machine off
    VmProcessorError,      // triple fault: the virtual CPU shut down
    VmWorkerDied,          // the VM's worker process crashed or was killed
    VmError,               // the worker reported a host error (disk, saved state)
    VmRegistered,          // created or registered
    VmUnregistered,        // unregistered or deleted
    VmConfigurationChange, // a property of the VM's configuration changed
    NetworkRegistered,
    NetworkUnregistered,
    NetworkConfigurationChange,
    ServerConfigurationChange, // search paths, default folders
    TaskCompleted,             // an IVMTask completed (successfully or not)
    // The members of the per-object event interfaces that have no entry
    // above (IVMVirtualMachineEvents, IVMDVDDriveEvents,
    // IVMFloppyDriveEvents), under their COM names, and the service's own
    // log (IVMVirtualServerEvents.OnEventLogged).
    VmReset,             // OnReset: the VM was reset
    VmShutdownRequested, // OnRequestShutdown: the VM is about to power down
    MediaInserted,       // OnMediaInsert: an image or host drive went into a DVD or floppy drive
    MediaEjected,        // OnMediaEject: it came out
    EventLogged,         // OnEventLogged: vsad wrote a warning or an error to its log
    ScriptFailed,        // an event script did not start, failed or timed out
};

enum class EventSeverity { Information, Warning, Error };

std::string_view event_kind_name(EventKind kind);
std::optional<EventKind> event_kind_from_name(std::string_view name);
std::string_view event_severity_name(EventSeverity severity);

// The kinds of object an event is about, as the SOAP interface names them.
inline constexpr std::string_view OBJECT_SERVER = "IVMVirtualServer";
inline constexpr std::string_view OBJECT_VM = "IVMVirtualMachine";
inline constexpr std::string_view OBJECT_NETWORK = "IVMVirtualNetwork";
inline constexpr std::string_view OBJECT_TASK = "IVMTask";
inline constexpr std::string_view OBJECT_DVD_DRIVE = "IVMDVDDrive";
inline constexpr std::string_view OBJECT_FLOPPY_DRIVE = "IVMFloppyDrive";

struct Event {
    std::uint64_t sequence{0};                    // set by append
    std::chrono::system_clock::time_point time{}; // set by append
    EventKind kind{EventKind::VirtualServerStarted};
    EventSeverity severity{EventSeverity::Information};
    std::string object_kind; // OBJECT_*
    std::string object;      // the object's reference (GUID text); empty for the server
    std::string object_name; // its display name when it happened
    std::int32_t state{0};   // VmStateChange: the new VMVMState; else 0
    std::string message;     // one human-readable sentence
};

class EventLog {
public:
    struct Options {
        std::filesystem::path file; // empty: memory only (tests)
        std::size_t max_records{10'000};
    };

    // Loads the kept events of `file` (a missing file is an empty log).
    // Never fails for a damaged file: see load_warnings().
    static std::unique_ptr<EventLog> open(Options options);
    ~EventLog();
    EventLog(EventLog const&) = delete;
    EventLog& operator=(EventLog const&) = delete;

    // Records `event` with the next sequence number and the current time;
    // returns the number. Never fails: a write error is counted
    // (write_errors) and the event is still served from memory.
    std::uint64_t append(Event event);

    // Called with every appended event, in order, under the log's lock (so
    // it must be quick and must not call back into the log): the event
    // scripts' dispatcher queues them (services/scripts/event_scripts.h).
    // Set and cleared by its owner; an empty function removes it.
    using Listener = std::function<void(Event const&)>;
    void set_listener(Listener listener);

    // Up to `max` events with sequence > `after`, oldest first.
    std::vector<Event> after(std::uint64_t after, std::size_t max) const;
    // The newest event's number (0 for an empty log), and the oldest kept.
    std::uint64_t last_sequence() const;
    std::uint64_t first_sequence() const;
    std::size_t size() const;

    // Blocks until an event with sequence > `after` exists, `timeout` passes
    // or close() is called; returns last_sequence().
    std::uint64_t wait_after(std::uint64_t after, std::chrono::milliseconds timeout) const;
    // Wakes every waiter; later waits return at once (vsad stopping).
    void close();

    std::vector<std::string> load_warnings() const;
    std::size_t write_errors() const;

    // The line format, public for tests: encode_line(e) + '\n' is one line
    // of the file; decode_line(encode_line(e)) == e.
    static std::string encode_line(Event const& event);
    static std::optional<Event> decode_line(std::string_view line);

private:
    explicit EventLog(Options options);
    void load();
    void append_to_file(Event const& event);
    void compact();

    Options m_options;
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_changed;
    std::deque<Event> m_events;
    std::uint64_t m_last{0};
    std::size_t m_file_lines{0};
    int m_fd{-1};
    bool m_closed{false};
    std::size_t m_write_errors{0};
    std::vector<std::string> m_warnings;
    Listener m_listener;
};

bool operator==(Event const& a, Event const& b);

} // namespace vsa::services
