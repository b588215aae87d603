// SPDX-License-Identifier: GPL-2.0-or-later
// VirtualSwitch: one virtual network's Ethernet switch, living in vsad.
// Virtual Server's virtual network is a switch that its VMs' adapters plug
// into, with an optional DHCP server and an optional host adapter
// (reference/msvs/virtual-network-architecture.md); this is that switch.
//
// Ports:
//   - a worker's NIC: the switch's end of a socketpair (SOCK_SEQPACKET, or
//     SOCK_DGRAM) whose other end the worker (vsa-vm --nic fd:N) holds; one
//     datagram is one frame (ethernet.h), in both directions;
//   - an endpoint in vsad itself (the DHCP server, NAT): an Endpoint that
//     the switch hands frames to and that sends frames back through the
//     Sender it was given; it may also poll host descriptors (NAT's
//     sockets) on the switch's thread.
//
// Forwarding is that of a learning bridge (IEEE 802.1D without spanning
// tree, which one switch does not need): a frame's source address is
// learned on the port it came from (group addresses never are), a unicast
// frame to a learned address goes to that port only, anything else floods
// to every port but the one it came from; a frame is never sent back where
// it came from. Entries age out after AGING_SECONDS and move when the
// address shows up on another port (a VM that moved, a NIC re-plugged).
//
// Threads: each switch has its own thread, which alone reads and writes
// the port sockets and runs the endpoints; vsad's other threads attach and
// detach ports and read counters through a small per-switch lock, never a
// global one, so one busy network never slows another. Output to a worker
// never blocks: a full socket buffer drops the frame (counted), as a
// switch does when a port is congested. A worker that goes away (its end
// closed) is detached by the switch itself.
//
// Hostile input: a datagram shorter than an Ethernet header, or longer
// than MAX_FRAME (recv with MSG_TRUNC tells), is dropped and counted; the
// switch reads at most READ_BUDGET frames from one port per poll round, so
// a guest that floods cannot starve the others.
#pragma once

#include "hypervisor/base/file_descriptor.h"
#include "hypervisor/base/result.h"
#include "services/network/ethernet.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

struct pollfd;

namespace vsa::network {

using PortId = std::uint32_t;

// What a port carried, as seen from the port's side: "received" is what
// the port's owner (the VM's adapter) received from the network, "sent"
// what it sent into it.
struct PortStats {
    std::uint64_t frames_sent{0};
    std::uint64_t bytes_sent{0};
    std::uint64_t frames_received{0};
    std::uint64_t bytes_received{0};
    // Frames from this port the switch refused (runt, oversized), and
    // frames for this port it could not deliver (a full socket buffer).
    std::uint64_t frames_dropped{0};
};

// An endpoint in vsad on a switch port (DHCP server, NAT).
class Endpoint {
public:
    using Sender = std::function<void(std::span<std::uint8_t const> frame)>;
    virtual ~Endpoint() = default;
    // Once, on the switch thread, before any frame: how to send frames into
    // the switch (valid until detach; call it only from the switch thread,
    // i.e. from deliver() or after_poll()).
    virtual void attached(Sender sender) = 0;
    // A frame the switch forwards to this port.
    virtual void deliver(std::span<std::uint8_t const> frame) = 0;
    // Optional host descriptors to wait on, and the longest wait the
    // endpoint allows (milliseconds; -1 = no limit); after_poll gets the
    // same entries back with their revents.
    virtual void before_poll(std::vector<struct pollfd>&, int& /*timeout_ms*/) {}
    virtual void after_poll(std::span<struct pollfd const>) {}
};

// IVMVirtualNetwork's traffic counters: per second, now and for each of
// the last 60 seconds (history[0] the newest), from the network's point of
// view: "received" is what ports sent into the network, "sent" what the
// network delivered to ports, "dropped" what it refused or could not
// deliver.
struct TrafficRates {
    static constexpr std::size_t SECONDS = 60;
    struct Series {
        std::uint64_t current{0};
        std::array<std::uint32_t, SECONDS> history{};
    };
    Series bytes_received, bytes_sent, bytes_dropped;
    Series packets_received, packets_sent, packets_dropped;
};

class VirtualSwitch {
public:
    static constexpr unsigned AGING_SECONDS = 300;
    static constexpr unsigned READ_BUDGET = 64;

    explicit VirtualSwitch(std::string name);
    ~VirtualSwitch();
    VirtualSwitch(VirtualSwitch const&) = delete;
    VirtualSwitch& operator=(VirtualSwitch const&) = delete;

    std::string const& name() const { return m_name; }

    // A worker NIC's socket (the switch takes it): it must be a datagram or
    // seqpacket socket. `label` names the port in counters and logs.
    Result<PortId, std::string> attach_socket(FileDescriptor socket, std::string label);
    PortId attach_endpoint(std::shared_ptr<Endpoint> endpoint, std::string label);
    // Unplugs a port: no frame goes to or comes from it once this returns
    // (its socket is closed and an endpoint released on the switch thread,
    // shortly after). Returns false for an unknown port.
    bool detach(PortId port);

    // Unplugs a socket port and gives its socket back (to plug it into
    // another network: a running VM's adapter moves without the worker
    // knowing). Null for an unknown port or an endpoint.
    FileDescriptor release(PortId port);

    bool has_port(PortId port) const;
    std::vector<PortId> ports() const;
    std::optional<PortStats> stats(PortId port) const;
    // Everything that went through the network: the sum over every port
    // that is or was attached (IVMVirtualNetwork's counters do not reset
    // when a VM leaves).
    PortStats totals() const;
    // Per-second counters over the last minute (sampled by the switch
    // thread once a second).
    TrafficRates rates() const;
    // The learned address table, for tests and diagnostics.
    std::map<Mac, PortId> learned() const;

private:
    struct Port;

    PortId add_port(std::unique_ptr<Port> port);
    void run();
    void wake();
    void forward(Port& from, std::span<std::uint8_t const> frame, std::uint64_t now);
    void send_to(Port& to, std::span<std::uint8_t const> frame);
    void start_endpoint(Port& port); // gives it its Sender, once
    void read_socket(Port& port, std::uint64_t now);
    void remove_port_locked(PortId id);
    void forget_port_locked(PortId id);
    std::uint64_t now_seconds() const;

    std::string m_name;
    FileDescriptor m_wake;
    std::atomic<bool> m_stop{false};

    mutable std::mutex m_mutex; // ports, stats, the learned table
    std::map<PortId, std::unique_ptr<Port>> m_ports;
    struct Learned {
        PortId port;
        std::uint64_t seen;
    };
    std::map<Mac, Learned> m_table;
    PortId m_next_id{1};
    PortStats m_departed;             // counters of ports already detached
    std::uint64_t m_bytes_dropped{0}; // PortStats counts dropped frames only
    TrafficRates m_rates;
    struct Sample {
        std::uint64_t bytes_received, bytes_sent, bytes_dropped, packets_received, packets_sent,
            packets_dropped;
    };
    Sample m_last_sample{};
    std::chrono::steady_clock::time_point m_sampled_at;
    void sample_locked();
    PortStats totals_locked() const;
    // Detached ports, released by the switch thread after its poll() (so
    // a socket it may still be polling is never closed under it).
    std::vector<std::unique_ptr<Port>> m_graveyard;
    // Frames endpoints sent, forwarded after the frame that caused them
    // (never recursively: two endpoints answering each other's broadcasts
    // cannot nest without bound).
    struct Queued {
        PortId from;
        std::vector<std::uint8_t> frame;
    };
    std::vector<Queued> m_outbox;
    void drain_outbox(std::uint64_t now);

    std::thread m_thread;
};

} // namespace vsa::network
