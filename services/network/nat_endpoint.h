// SPDX-License-Identifier: GPL-2.0-or-later
// NatEndpoint: a virtual network's way out to the host's network without
// root, through Debian's libslirp (the user-mode TCP/IP stack QEMU's
// "user" networking uses) rather than a TCP/IP stack of our own: it
// terminates the guests' TCP and UDP flows and ICMP echo in vsad and
// re-issues them as ordinary host sockets, so vsad needs no privilege,
// no TAP device and no packet forwarding on the host.
//
// On the switch it is one more port (virtual_switch.h Endpoint) with the
// gateway's address: guests reach the outside through `gateway`, and
// `gateway` itself is the host (its loopback) unless `host_loopback` is
// off; `dns` is a virtual address whose DNS queries go to the host's
// resolvers. The network's own DHCP server (dhcp_server.h) hands out
// addresses with that gateway and DNS server: libslirp's built-in DHCP
// is switched off so a network never has two.
//
// Threads: libslirp is not thread-safe; everything here (frames in, host
// sockets, its timers) runs on the switch's thread, which polls the
// stack's sockets together with the NICs' (before_poll/after_poll).
#pragma once

#include "services/network/virtual_switch.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct Slirp;

namespace vsa::network {

class NatEndpoint final : public Endpoint {
public:
    struct Config {
        std::uint32_t network{0}; // host order: 10.0.2.0
        std::uint32_t mask{0};    // 255.255.255.0
        std::uint32_t gateway{0}; // the guests' router and the host's face
        std::uint32_t dns{0};     // answers DNS with the host's resolvers
        bool host_loopback{true}; // gateway:port reaches 127.0.0.1:port
    };

    // Refuses a configuration libslirp would not take (the addresses must
    // lie in the network).
    static Result<std::shared_ptr<NatEndpoint>, std::string> create(Config config);
    ~NatEndpoint() override;

    void attached(Sender sender) override;
    void deliver(std::span<std::uint8_t const> frame) override;
    void before_poll(std::vector<struct pollfd>& fds, int& timeout_ms) override;
    void after_poll(std::span<struct pollfd const> fds) override;

    // What libslirp complained about (guest misbehaviour), for the log.
    std::vector<std::string> take_guest_errors();

private:
    explicit NatEndpoint(Config config);
    struct SlirpTimer;

    // libslirp's callbacks (nat_endpoint.cpp), with its exact C types.
    friend struct SlirpGlue;
    void run_timers();

    Config m_config;
    ::Slirp* m_slirp{nullptr};
    Sender m_send;
    std::vector<std::unique_ptr<SlirpTimer>> m_timers;
    std::mutex m_errors_mutex; // take_guest_errors runs on other threads
    std::vector<std::string> m_guest_errors;
    // During before_poll / after_poll: the vector being filled and where
    // this endpoint's entries start, the span being read.
    std::vector<struct pollfd>* m_filling{nullptr};
    std::size_t m_base{0};
    std::span<struct pollfd const> m_polled;
};

} // namespace vsa::network
