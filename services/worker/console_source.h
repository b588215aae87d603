// SPDX-License-Identifier: GPL-2.0-or-later
// ConsoleSource: what the console (appliance/console, vsad's VNC server)
// may do with one running VM: read its screen from the worker's shared
// framebuffer and send it keyboard and mouse input. VmRuntime::
// console_source hands one out per console session.
//
// Lifetime: the source shares the framebuffer (the mapping outlives the
// worker, so a viewer connected while the VM stops reads the last picture
// and never faults) and only watches the worker (weak): running() turns
// false once the worker has exited or VmRuntime dropped it, and the
// console then ends its session.
//
// Input goes to the worker as "key" and "mouse" control commands
// (control_protocol.h) from the source's own thread, so the console's
// thread never waits for the worker (whose command channel may be busy with
// a screenshot or the sampler's query). The queue is bounded
// (MAX_QUEUED): when the worker cannot keep up, further input is dropped
// and counted rather than buffered without limit. Consecutive pointer
// motions with the same buttons are merged into one command (up to the
// protocol's largest step), so a fast mouse costs a few commands, not one
// per RFB message; key events and button changes are never merged or
// reordered.
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/machine/shared_framebuffer.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace vsa::services {

class WorkerProcess;

class ConsoleSource {
public:
    static constexpr std::size_t MAX_QUEUED = 256;

    ConsoleSource(std::shared_ptr<SharedFramebuffer> framebuffer, std::weak_ptr<WorkerProcess> worker,
                  std::chrono::milliseconds command_timeout, std::function<void(std::string const&)> log);
    // Stops the input thread (a command in flight finishes or times out).
    ~ConsoleSource();
    ConsoleSource(ConsoleSource const&) = delete;
    ConsoleSource& operator=(ConsoleSource const&) = delete;

    SharedFramebuffer& framebuffer() { return *m_framebuffer; }
    // False once the worker has exited: the console should end.
    bool running() const;

    // Queue input for the worker; false when it was dropped (queue full,
    // or a value the protocol cannot carry).
    bool send_key(std::vector<u8> set2_bytes);
    bool send_pointer(int dx, int dy, int dz, unsigned buttons);
    // Input dropped so far (queue full or refused by the worker).
    std::size_t dropped() const;

private:
    struct Input {
        bool key{false};
        std::vector<u8> bytes;
        int dx{0}, dy{0}, dz{0};
        unsigned buttons{0};
    };
    void run();
    void start_locked();

    std::shared_ptr<SharedFramebuffer> m_framebuffer;
    std::weak_ptr<WorkerProcess> m_worker;
    std::chrono::milliseconds m_timeout;
    std::function<void(std::string const&)> m_log;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Input> m_queue;
    std::size_t m_dropped{0};
    bool m_refusal_logged{false};
    bool m_stop{false};
    std::thread m_thread; // started by the first input
};

} // namespace vsa::services
