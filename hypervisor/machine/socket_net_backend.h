// SPDX-License-Identifier: GPL-2.0-or-later
// SocketNetBackend: a NIC's cable as a datagram socket the worker
// inherited (vsa-vm --nic fd:N). Each datagram is one Ethernet frame,
// destination MAC first, without FCS; SOCK_SEQPACKET (what vsad's virtual
// switch and the tests use, from socketpair) or SOCK_DGRAM.
//
// Guest -> host: send() on the VM thread, non-blocking; a frame the
// socket cannot take now is dropped (as on a congested wire) and counted.
//
// Host -> guest: a reader thread waits on the socket, queues what arrives
// (at most QUEUE_FRAMES; beyond that frames are dropped and counted: a
// paused or busy guest must not make the worker's memory grow) and calls
// the wake function, which posts work to the VM thread; there take()
// hands the queued frames over, and the machine gives them to the NIC.
// A datagram longer than an Ethernet frame is dropped. The peer closing
// its end ends the reader (the cable stays plugged in: a switch that goes
// away looks like silence).
#pragma once

#include "hw/net_backend.h"
#include "hypervisor/base/file_descriptor.h"
#include "hypervisor/base/result.h"

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vsa {

class SocketNetBackend final : public NetBackend {
public:
    static constexpr std::size_t QUEUE_FRAMES = 256;
    static constexpr std::size_t MAX_FRAME = 1518;

    // Takes `fd` (checked to be a datagram or seqpacket socket).
    static Result<std::unique_ptr<SocketNetBackend>, std::string> open(int fd);
    ~SocketNetBackend() override;

    void send(std::span<u8 const> frame) override;
    // Starts the reader thread; `wake` is called (on that thread) after
    // frames were queued.
    Result<void, std::string> start(std::function<void()> wake);
    // VM thread: the frames that arrived, oldest first.
    std::vector<std::vector<u8>> take();

    u64 dropped_in() const { return m_dropped_in.load(); }
    u64 dropped_out() const { return m_dropped_out; }

private:
    SocketNetBackend(FileDescriptor socket, FileDescriptor stop);
    void reader();

    FileDescriptor m_socket;
    FileDescriptor m_stop; // an eventfd that ends the reader
    std::function<void()> m_wake;
    std::thread m_thread;
    std::mutex m_mutex;
    std::deque<std::vector<u8>> m_queue;
    std::atomic<u64> m_dropped_in{0};
    u64 m_dropped_out{0};
};

} // namespace vsa
