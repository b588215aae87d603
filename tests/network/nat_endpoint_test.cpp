// SPDX-License-Identifier: GPL-2.0-or-later
// NAT through libslirp on a real switch: a "guest" (the worker's end of a
// socketpair) resolves the gateway by ARP, pings it, and exchanges UDP
// with a socket the test opens on the host's loopback through the
// gateway's address (what the HTTP fetch does over TCP); bad
// configurations are refused.
#include "services/network/nat_endpoint.h"
#include "tests/network/frame_builder.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <optional>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace vsa;
using namespace vsa::network;

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint32_t NET = 0x0A000200;   // 10.0.2.0
constexpr std::uint32_t GW = 0x0A000202;    // 10.0.2.2
constexpr std::uint32_t DNS = 0x0A000203;   // 10.0.2.3
constexpr std::uint32_t GUEST = 0x0A00020F; // 10.0.2.15
constexpr Mac GUEST_MAC{0x00, 0x03, 0xFF, 0x00, 0x00, 0x0F};

using test_frames::get16;
using test_frames::get32;

constexpr test_frames::Ipv4Fields IP_FIELDS{0x1234, 0x4000}; // DF

Bytes arp_request(std::uint32_t target) {
    return test_frames::arp_request(GUEST_MAC, GUEST, target);
}

Bytes udp(Mac dst, std::uint32_t to, std::uint16_t sport, std::uint16_t dport, std::string const& data) {
    return test_frames::udp(dst, GUEST_MAC, GUEST, to, sport, dport, Bytes(data.begin(), data.end()),
                            IP_FIELDS);
}

Bytes icmp_echo(Mac dst, std::uint32_t to) {
    return test_frames::ipv4(dst, GUEST_MAC, GUEST, to, 1, test_frames::icmp_echo_request(0x4242, 1),
                             IP_FIELDS);
}

struct Guest {
    FileDescriptor end;
    void send(Bytes const& f) const {
        BOOST_REQUIRE(::send(end.fd(), f.data(), f.size(), 0) == static_cast<ssize_t>(f.size()));
    }
    // The next frame of `type` within `ms` (others are skipped).
    std::optional<Bytes> receive(std::uint16_t type, int ms = 3000) const {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{end.fd(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            Bytes b(2048);
            ssize_t n = ::recv(end.fd(), b.data(), b.size(), MSG_DONTWAIT);
            if (n <= 0) continue;
            b.resize(static_cast<std::size_t>(n));
            if (ethertype(b) == type) return b;
        }
        return std::nullopt;
    }
};

struct Rig {
    VirtualSwitch sw{"nat"};
    std::shared_ptr<NatEndpoint> nat;
    Guest guest;
    Rig() {
        auto made = NatEndpoint::create({.network = NET, .mask = 0xFFFFFF00, .gateway = GW, .dns = DNS});
        BOOST_REQUIRE_MESSAGE(made.has_value(), (made.has_value() ? std::string() : made.error()));
        nat = made.release_value();
        sw.attach_endpoint(nat, "nat");
        int fds[2];
        BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
        guest.end = FileDescriptor(fds[0]);
        BOOST_REQUIRE(sw.attach_socket(FileDescriptor(fds[1]), "guest").has_value());
    }
    // ARP for the gateway: its MAC.
    Mac gateway_mac() {
        guest.send(arp_request(GW));
        auto reply = guest.receive(ETHERTYPE_ARP);
        BOOST_REQUIRE(reply.has_value());
        BOOST_REQUIRE(get16(*reply, 20) == 2); // reply
        BOOST_REQUIRE(get32(*reply, 28) == GW);
        return source_mac(*reply);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(nat_endpoint)

BOOST_AUTO_TEST_CASE(the_gateway_answers_arp_and_ping) {
    Rig r;
    Mac gw = r.gateway_mac();
    BOOST_TEST(!is_multicast(gw));
    r.guest.send(icmp_echo(gw, GW));
    auto reply = r.guest.receive(ETHERTYPE_IPV4);
    BOOST_REQUIRE(reply.has_value());
    BOOST_TEST((*reply)[23] == 1);           // ICMP
    BOOST_TEST(get32(*reply, 26) == GW);     // from the gateway
    BOOST_TEST(get32(*reply, 30) == GUEST);  // to the guest
    BOOST_TEST((*reply)[34] == 0);           // echo reply
    BOOST_TEST(get16(*reply, 38) == 0x4242); // our identifier
}

BOOST_AUTO_TEST_CASE(udp_through_the_gateway_reaches_the_hosts_loopback_and_back) {
    Rig r;
    int host = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    BOOST_REQUIRE(host >= 0);
    FileDescriptor host_fd(host);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::bind(host, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    BOOST_REQUIRE(::getsockname(host, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    std::uint16_t port = ntohs(addr.sin_port);

    Mac gw = r.gateway_mac();
    r.guest.send(udp(gw, GW, 40000, port, "hello from the guest"));
    pollfd p{host, POLLIN, 0};
    BOOST_REQUIRE(::poll(&p, 1, 3000) == 1);
    char buf[128];
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    ssize_t n = ::recvfrom(host, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    BOOST_REQUIRE(n > 0);
    BOOST_TEST(std::string(buf, static_cast<std::size_t>(n)) == "hello from the guest");
    // The host answers where it came from: libslirp carries it back.
    std::string answer = "hello from the host";
    BOOST_REQUIRE(::sendto(host, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from),
                           from_len) == static_cast<ssize_t>(answer.size()));
    std::optional<Bytes> back;
    for (int i = 0; i < 5 && !back; ++i) {
        auto f = r.guest.receive(ETHERTYPE_IPV4);
        if (f && (*f)[23] == 17) back = f;
    }
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST(get32(*back, 26) == GW);
    BOOST_TEST(get16(*back, 34) == port);  // source port: the host's
    BOOST_TEST(get16(*back, 36) == 40000); // to the guest's port
    BOOST_TEST(std::string(back->begin() + 42, back->end()) == answer);
}

BOOST_AUTO_TEST_CASE(bad_configurations_are_refused) {
    auto bad = [](NatEndpoint::Config c) { return NatEndpoint::create(c).is_error(); };
    BOOST_TEST(bad({.network = NET, .mask = 0xFF00FF00, .gateway = GW, .dns = DNS}));     // holes in the mask
    BOOST_TEST(bad({.network = NET | 1, .mask = 0xFFFFFF00, .gateway = GW, .dns = DNS})); // host bits
    BOOST_TEST(bad({.network = NET, .mask = 0xFFFFFF00, .gateway = 0x0A000302, .dns = DNS})); // outside
    BOOST_TEST(bad({.network = NET, .mask = 0xFFFFFF00, .gateway = GW, .dns = GW})); // same as gateway
    BOOST_TEST(bad({.network = NET, .mask = 0xFFFFFF00, .gateway = NET | 255, .dns = DNS})); // broadcast
}

BOOST_AUTO_TEST_SUITE_END()
