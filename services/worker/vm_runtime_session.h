// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime's per-worker record, shared by the files that implement
// VmRuntime (vm_runtime.cpp: the power lifecycle; vm_runtime_display.cpp:
// display, guest, accounting and media of a running VM;
// vm_runtime_media.cpp: captured host drives). Not for users of VmRuntime.
#pragma once

#include "services/worker/vm_runtime.h"

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <set>

namespace vsa::services {

// What the sampler saw of a worker at one moment.
struct ActivitySample {
    std::chrono::steady_clock::time_point at;
    u64 cpu_ticks{0};       // the worker's utime + stime, in clock ticks
    u64 instructions{0};    // retired by the virtual CPU, from "query"
    bool running{false};    // the worker said "state=running"
    bool progressed{false}; // running, and instructions retired since the previous sample
    double cpu_percent{0};  // of the host, since the previous sample
};

struct VmRuntime::Session {
    Guid id;
    std::string name;
    std::filesystem::path saved_state; // the worker's --save-state file
    // Shared so a command can use it without holding the runtime's lock
    // while the session moves on; never destroyed on its monitor thread.
    std::shared_ptr<WorkerProcess> worker;
    Pending pending{Pending::Startup};
    TaskHandle operation;
    VmState before_save{VmState::Running};
    bool restoring{false}; // started from a saved state
    bool saved{false};     // the worker reported "saved"
    bool ended{false};     // the worker has exited and been handled
    bool guest_off{false}; // the guest powered the machine off
    std::string last_error;
    std::string end_reason;
    // One client command at a time per VM (pause, resume, reset, save,
    // turn-off): a state check and the command it allows belong together.
    std::mutex command_mutex;

    // The CPU reserve the VM holds while on (admission control,
    // vm_runtime_accountant.cpp), under the runtime's m_mutex.
    double reserved_percent{0};
    // The network byte counts at the last reset (IVMAccountant's counters
    // restart at a reset; the switch ports' do not).
    VirtualNetworks::VmTraffic network_at_reset;
    // The worker's IDE byte counters as of its last answered "query".
    u64 disk_read{0};
    u64 disk_written{0};

    // Monitoring (vm_runtime_display.cpp), under the runtime's m_mutex.
    // When the worker reported "started" (IVMAccountant.UpTime).
    std::optional<std::chrono::steady_clock::time_point> running_since;
    // The sampler's view: one sample a sample_interval, the last minute's.
    std::deque<ActivitySample> samples;
    // IVMGuestOS.Shutdown in progress: its task completes when the worker
    // ends (Success when the guest powered off) or at its deadline.
    // The guest agent's client (vm_runtime_guest.cpp), null when the port
    // could not be made. Set once at startup, taken away at the end.
    std::shared_ptr<GuestAgent> agent;
    TaskHandle guest_shutdown;
    std::chrono::steady_clock::time_point guest_shutdown_deadline{};

    // IVMKeyboard and IVMMouse (vm_runtime_input.cpp), under input_mutex,
    // which is held while their commands go out, so one caller's keys are
    // never interleaved with another's.
    std::mutex input_mutex;
    std::set<keys::Key> keys_down;
    unsigned mouse_buttons{0};
    std::string keyboard_owner; // HasExclusiveAccess: its holder, or ""

    // Captured host drives (vm_runtime_media.cpp), under the runtime's
    // m_mutex: by IDE slot, the drive and the disc its worker drive was
    // last given.
    std::map<unsigned, HostMedia> host_media;
};

} // namespace vsa::services
