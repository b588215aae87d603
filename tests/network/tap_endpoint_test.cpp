// SPDX-License-Identifier: GPL-2.0-or-later
// A virtual network bridged to the host through a TAP device.
//
// tap_endpoint: what needs no privilege and changes nothing on the host
// (a missing bridge is refused with a clear message before any device is
// made).
//
// tap_bridge: the real thing, in a network namespace of the test's own
// (tests/network/tap_bridge.sh runs it under `unshare --net` as ctest
// network.tap_bridge, and SKIPs where that cannot be done). The test makes
// a bridge br0 with 10.9.0.1/24 there, puts a TapEndpoint in it and a
// "guest" (a socketpair end) on the switch: the guest's ARP request for
// 10.9.0.1 and its ping reach the bridge's host stack and the answers come
// back; a frame too long for the switch that the host sends through the
// TAP is dropped and counted; "lo" is refused as not a bridge. Outside
// that namespace (VSA_TEST_NETNS unset) the suite is skipped: it must
// never make a bridge on the machine running the tests.
#include "services/network/tap_endpoint.h"
#include "tests/network/frame_builder.h"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace vsa;
using namespace vsa::network;

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint32_t HOST = 0x0A090001;  // 10.9.0.1, br0's address
constexpr std::uint32_t GUEST = 0x0A090032; // 10.9.0.50
constexpr Mac GUEST_MAC{0x02, 0x00, 0x00, 0x09, 0x00, 0x32};

using test_frames::get16;
using test_frames::get32;

// Padded to Ethernet's minimum (60 bytes without the FCS).
Bytes arp_request(std::uint32_t target) {
    Bytes f = test_frames::arp_request(GUEST_MAC, GUEST, target);
    f.resize(60, 0);
    return f;
}

Bytes icmp_echo(Mac dst, std::uint32_t to) {
    return test_frames::ipv4(dst, GUEST_MAC, GUEST, to, 1, test_frames::icmp_echo_request(0x5151, 7),
                             {0x0101, 0x4000});
}

struct Guest {
    FileDescriptor end;
    void send(Bytes const& f) const {
        BOOST_REQUIRE(::send(end.fd(), f.data(), f.size(), 0) == static_cast<ssize_t>(f.size()));
    }
    // The next frame `wanted` accepts within `ms` (the bridge's IPv6
    // chatter and the like are skipped).
    template <typename Wanted>
    std::optional<Bytes> receive(Wanted wanted, int ms = 3000) const {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{end.fd(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            Bytes b(2048);
            ssize_t n = ::recv(end.fd(), b.data(), b.size(), MSG_DONTWAIT);
            if (n <= 0) continue;
            b.resize(static_cast<std::size_t>(n));
            if (wanted(b)) return b;
        }
        return std::nullopt;
    }
};

bool in_private_namespace() {
    char const* flag = std::getenv("VSA_TEST_NETNS");
    return flag && std::string(flag) == "1";
}

struct InPrivateNamespace {
    boost::test_tools::assertion_result operator()(boost::unit_test::test_unit_id) const {
        boost::test_tools::assertion_result r(in_private_namespace());
        r.message() << "needs a network namespace of its own (ctest network.tap_bridge, tap_bridge.sh)";
        return r;
    }
};

void interface_ioctl(unsigned long request, ifreq& ifr, char const* what) {
    FileDescriptor s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    BOOST_REQUIRE(s.is_open());
    BOOST_REQUIRE_MESSAGE(::ioctl(s.fd(), request, &ifr) == 0, what << ": " << std::strerror(errno));
}

ifreq named(std::string const& name) {
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    return ifr;
}

void set_address(std::string const& name, std::uint32_t address, unsigned long request) {
    ifreq ifr = named(name);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(address);
    std::memcpy(&ifr.ifr_addr, &a, sizeof a);
    interface_ioctl(request, ifr, "address");
}

void bring_up(std::string const& name) {
    ifreq ifr = named(name);
    interface_ioctl(SIOCGIFFLAGS, ifr, "get flags");
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    interface_ioctl(SIOCSIFFLAGS, ifr, "bring up");
}

void set_mtu(std::string const& name, int mtu) {
    ifreq ifr = named(name);
    ifr.ifr_mtu = mtu;
    interface_ioctl(SIOCSIFMTU, ifr, "mtu");
}

// br0 with 10.9.0.1/24, up: what `ip link add br0 type bridge; ip addr
// add 10.9.0.1/24 dev br0; ip link set br0 up` makes, through the same
// ioctls brctl uses.
void make_bridge() {
    FileDescriptor s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    BOOST_REQUIRE(s.is_open());
    // An earlier test case in this namespace may have made it already.
    BOOST_REQUIRE_MESSAGE(::ioctl(s.fd(), SIOCBRADDBR, "br0") == 0 || errno == EEXIST,
                          "add bridge: " << std::strerror(errno));
    set_address("br0", HOST, SIOCSIFADDR);
    set_address("br0", 0xFFFFFF00, SIOCSIFNETMASK);
    bring_up("br0");
    bring_up("lo");
}

struct Rig {
    VirtualSwitch sw{"bridged"};
    std::shared_ptr<TapEndpoint> tap;
    PortId tap_port{0};
    Guest guest;
    Rig() {
        make_bridge();
        auto made = TapEndpoint::create("vsatest%d", "br0");
        BOOST_REQUIRE_MESSAGE(made.has_value(), (made.has_value() ? std::string() : made.error()));
        tap = made.release_value();
        BOOST_TEST(tap->device().starts_with("vsatest"));
        tap_port = sw.attach_endpoint(tap, "tap");
        int fds[2];
        BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
        guest.end = FileDescriptor(fds[0]);
        BOOST_REQUIRE(sw.attach_socket(FileDescriptor(fds[1]), "guest").has_value());
    }
    // The bridge's host stack answers ARP for its address: its MAC.
    Mac host_mac() {
        std::optional<Bytes> reply;
        // The first request may race the port's start: ask a few times.
        for (int i = 0; i < 5 && !reply; ++i) {
            guest.send(arp_request(HOST));
            reply = guest.receive(
                [](Bytes const& b) {
                    return ethertype(b) == ETHERTYPE_ARP && b.size() >= 42 && get16(b, 20) == 2 &&
                           get32(b, 28) == HOST;
                },
                1000);
        }
        BOOST_REQUIRE_MESSAGE(reply.has_value(), "no ARP reply from br0's address");
        BOOST_TEST(get32(*reply, 38) == GUEST); // to us
        return source_mac(*reply);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(tap_endpoint)

BOOST_AUTO_TEST_CASE(a_missing_bridge_is_refused_with_a_clear_message) {
    auto made = TapEndpoint::create("vsatest%d", "vsa-nobridge");
    BOOST_REQUIRE(made.is_error());
    BOOST_TEST(made.error().find("no network interface \"vsa-nobridge\"") != std::string::npos, made.error());
}

BOOST_AUTO_TEST_CASE(bad_names_are_refused) {
    BOOST_TEST(TapEndpoint::create("a/b", "br0").is_error());
    BOOST_TEST(TapEndpoint::create("vsa", "").is_error());
    BOOST_TEST(TapEndpoint::create("vsa", "a-name-far-too-long-for-linux").is_error());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(tap_bridge, *boost::unit_test::precondition(InPrivateNamespace()))

BOOST_AUTO_TEST_CASE(arp_and_ping_reach_the_bridges_host_stack_and_come_back) {
    Rig r;
    Mac host = r.host_mac();
    BOOST_TEST(!is_multicast(host));
    r.guest.send(icmp_echo(host, HOST));
    auto reply = r.guest.receive([](Bytes const& b) {
        return ethertype(b) == ETHERTYPE_IPV4 && b.size() >= 42 && b[23] == 1 && b[34] == 0;
    });
    BOOST_REQUIRE_MESSAGE(reply.has_value(), "no echo reply from 10.9.0.1");
    BOOST_TEST(get32(*reply, 26) == HOST);
    BOOST_TEST(get32(*reply, 30) == GUEST);
    BOOST_TEST(get16(*reply, 38) == 0x5151); // our identifier
    BOOST_TEST(get16(*reply, 40) == 7);      // and sequence number
    auto stats = r.sw.stats(r.tap_port);
    BOOST_REQUIRE(stats.has_value());
    BOOST_TEST(stats->frames_sent >= 2u);     // ARP and echo replies came out of the TAP
    BOOST_TEST(stats->frames_received >= 2u); // ARP request and echo went into it
}

BOOST_AUTO_TEST_CASE(a_frame_too_long_for_the_switch_is_dropped_and_counted) {
    Rig r;
    r.host_mac(); // the host now knows the guest's MAC (from its request)
    // Jumbo frames on the host side: a 4000-byte datagram to the guest
    // leaves br0 as one frame, which the switch (1518 bytes at most) drops.
    set_mtu(r.tap->device(), 9000);
    set_mtu("br0", 9000);
    auto before = r.sw.stats(r.tap_port)->frames_dropped;
    FileDescriptor s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    BOOST_REQUIRE(s.is_open());
    int off = IP_PMTUDISC_DONT;
    ::setsockopt(s.fd(), IPPROTO_IP, IP_MTU_DISCOVER, &off, sizeof off);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(GUEST);
    to.sin_port = htons(9);
    std::vector<char> big(4000, 'x');
    BOOST_REQUIRE(::sendto(s.fd(), big.data(), big.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) ==
                  static_cast<ssize_t>(big.size()));
    std::string small = "small enough";
    BOOST_REQUIRE(::sendto(s.fd(), small.data(), small.size(), 0, reinterpret_cast<sockaddr*>(&to),
                           sizeof to) == static_cast<ssize_t>(small.size()));
    // The small one arrives; the big one never does, and is counted.
    auto got = r.guest.receive([](Bytes const& b) {
        return ethertype(b) == ETHERTYPE_IPV4 && b.size() >= 42 && b[23] == 17 && get16(b, 36) == 9;
    });
    BOOST_REQUIRE(got.has_value());
    BOOST_TEST(std::string(got->begin() + 42, got->end()) == small);
    BOOST_TEST(r.sw.stats(r.tap_port)->frames_dropped == before + 1);
}

BOOST_AUTO_TEST_CASE(an_interface_that_is_not_a_bridge_is_refused) {
    bring_up("lo");
    auto made = TapEndpoint::create("vsatest%d", "lo");
    BOOST_REQUIRE(made.is_error());
    BOOST_TEST(made.error().find("\"lo\" is not a Linux bridge") != std::string::npos, made.error());
    // Nothing is left behind: the TAP made on the way went with its descriptor.
    ifreq ifr = named("vsatest0");
    FileDescriptor s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    BOOST_TEST(::ioctl(s.fd(), SIOCGIFINDEX, &ifr) != 0);
}

BOOST_AUTO_TEST_SUITE_END()
