// SPDX-License-Identifier: GPL-2.0-or-later
// TapEndpoint: a virtual network bridged to the host's network. Virtual
// Server bridges a virtual network to a host NIC; on Linux the NIC is a
// port of a bridge (br0 with eth0 in it), and the virtual network becomes
// one more port of that bridge: a TAP device vsad makes, whose other side
// is this endpoint on the network's switch (virtual_switch.h). Frames the
// bridge sends to the TAP come out here and go into the switch; frames
// the switch delivers here are written to the TAP and enter the bridge,
// which forwards them to the NIC or to the host's own stack.
//
// The device: /dev/net/tun with IFF_TAP | IFF_NO_PI (plain Ethernet
// frames, one per read or write), non-blocking, polled on the switch
// thread (before_poll/after_poll, like NatEndpoint), not persistent (it
// goes away with the descriptor, when the endpoint does). create() brings
// it up and makes it a port of the bridge with the kernel's ioctls
// (SIOCBRADDIF), not by running ip(8).
//
// Privilege: making a TAP device and adding it to a bridge needs
// CAP_NET_ADMIN (vsad as root, or the capability given to it); without
// it, or without /dev/net/tun, or when `bridge` is missing or not a
// Linux bridge, create() fails with a message saying which, and makes
// nothing.
//
// Hostile or odd input: the TAP can hand over frames of any size up to
// 64 KiB; they go into the switch as they are, which drops a runt or an
// oversized one and counts it on this port (PortStats::frames_dropped).
// At most VirtualSwitch::READ_BUDGET frames are read per poll round, so a
// busy host LAN cannot starve the VMs' ports. A frame the TAP cannot take
// (its queue full) is dropped and counted here.
#pragma once

#include "hypervisor/base/file_descriptor.h"
#include "hypervisor/base/result.h"
#include "services/network/virtual_switch.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vsa::network {

class TapEndpoint final : public Endpoint {
public:
    // A TAP device named `device` (at most 15 bytes; a "%d" in it lets the
    // kernel number it) made a port of the Linux bridge `bridge`, up.
    static Result<std::shared_ptr<TapEndpoint>, std::string> create(std::string const& device,
                                                                    std::string const& bridge);
    ~TapEndpoint() override;

    // The device's name as the kernel gave it.
    std::string const& device() const { return m_device; }
    std::string const& bridge() const { return m_bridge; }
    // Frames the TAP refused (its queue full).
    std::uint64_t frames_refused() const { return m_refused.load(); }

    void attached(Sender sender) override;
    void deliver(std::span<std::uint8_t const> frame) override;
    void before_poll(std::vector<struct pollfd>& fds, int& timeout_ms) override;
    void after_poll(std::span<struct pollfd const> fds) override;

    // What went wrong with the device after it was made (it was deleted
    // under vsad, say), for the log; the endpoint then stops reading it.
    std::vector<std::string> take_problems();

private:
    TapEndpoint(FileDescriptor tap, std::string device, std::string bridge);
    void problem(std::string text);

    FileDescriptor m_tap;
    std::string m_device;
    std::string m_bridge;
    Sender m_send;
    bool m_dead{false};
    std::vector<std::uint8_t> m_buffer;
    std::atomic<std::uint64_t> m_refused{0};
    std::mutex m_problems_mutex;
    std::vector<std::string> m_problems;
};

} // namespace vsa::network
