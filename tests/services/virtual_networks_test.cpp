// SPDX-License-Identifier: GPL-2.0-or-later
// The running side of the virtual networks: running VMs' adapters (the
// worker's end of a socketpair held by the test) plugged into networks,
// moved between them, unplugged (frames go nowhere), dropped with their
// VM, and a network removed under its plugs; counters per network. A
// network with host adapter "NAT": a guest gets a lease from its DHCP
// server naming the NAT's gateway and DNS, reaches the gateway and the
// host's loopback through it, and loses it when the host adapter goes;
// a bridge that cannot be made leaves the network guest-only and says so
// in the log, and so do the DHCP server's own problems.
#include "services/worker/virtual_networks.h"
#include "tests/network/frame_builder.h"

#include <boost/test/unit_test.hpp>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace vsa;
using namespace vsa::services;

namespace {

using Bytes = std::vector<std::uint8_t>;

struct Adapter {
    FileDescriptor worker;
    VirtualNetworks::PlugId plug;
};

Adapter add(VirtualNetworks& nets, Guid vm, std::int32_t index) {
    int fds[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) == 0);
    VirtualNetworks::PlugId plug{vm, index};
    nets.add_adapter(plug, FileDescriptor(fds[1]));
    return Adapter{FileDescriptor(fds[0]), plug};
}

Bytes frame(std::uint8_t src) {
    Bytes f{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x03, 0xFF, 0x00, 0x00, src, 0x08, 0x00};
    f.resize(60, 0x11);
    return f;
}

void send(Adapter const& a, Bytes const& f) {
    BOOST_REQUIRE(::send(a.worker.fd(), f.data(), f.size(), MSG_DONTWAIT) == static_cast<ssize_t>(f.size()));
}

bool receives(Adapter const& a, std::uint8_t src, int ms = 1500) {
    pollfd p{a.worker.fd(), POLLIN, 0};
    while (::poll(&p, 1, ms) > 0) {
        Bytes b(2048);
        ssize_t n = ::recv(a.worker.fd(), b.data(), b.size(), MSG_DONTWAIT);
        if (n <= 0) return false;
        if (n >= 12 && b[11] == src) return true;
    }
    return false;
}

Guid guid(std::uint8_t n) {
    std::array<std::uint8_t, 16> b{};
    b[15] = n;
    return Guid(b);
}

VirtualNetwork net(std::string name, Guid id) {
    return VirtualNetwork(std::move(name), {}, id);
}

// ---- a guest that speaks DHCP, ARP, ICMP and UDP, for the NAT test ----

using network::test_frames::get16;
using network::test_frames::get32;
using network::test_frames::put32;

constexpr network::Mac GUEST_MAC{0x00, 0x03, 0xFF, 0x00, 0x00, 0x42};
constexpr network::test_frames::Ipv4Fields IP_FIELDS{0x2222, 0};

Bytes ipv4(network::Mac dst, std::uint32_t from, std::uint32_t to, std::uint8_t proto, Bytes const& payload) {
    return network::test_frames::ipv4(dst, GUEST_MAC, from, to, proto, payload, IP_FIELDS);
}

Bytes udp(network::Mac dst, std::uint32_t from, std::uint32_t to, std::uint16_t sport, std::uint16_t dport,
          Bytes const& data) {
    return network::test_frames::udp(dst, GUEST_MAC, from, to, sport, dport, data, IP_FIELDS);
}

constexpr std::uint8_t DISCOVER = 1, OFFER = 2, REQUEST = 3, ACK = 5;

// A DHCP client message (BOOTP + options), broadcast from 0.0.0.0.
Bytes dhcp(std::uint8_t type, std::optional<std::uint32_t> requested, std::optional<std::uint32_t> server) {
    Bytes m(236, 0);
    m[0] = 1; // BOOTREQUEST
    m[1] = 1; // Ethernet
    m[2] = 6;
    m[4] = 0x12, m[5] = 0x34, m[6] = 0x56, m[7] = 0x78; // xid
    m[10] = 0x80;                                       // broadcast flag
    std::copy(GUEST_MAC.begin(), GUEST_MAC.end(), m.begin() + 28);
    put32(m, 0x63825363);
    m.insert(m.end(), {53, 1, type});
    if (requested) {
        m.insert(m.end(), {50, 4});
        put32(m, *requested);
    }
    if (server) {
        m.insert(m.end(), {54, 4});
        put32(m, *server);
    }
    m.insert(m.end(), {55, 3, 1, 3, 6}); // mask, router, DNS
    m.push_back(255);
    return udp(network::BROADCAST_MAC, 0, 0xFFFFFFFF, 68, 67, m);
}

// A DHCP reply's message type, yiaddr and options by code.
struct DhcpReply {
    std::uint8_t type{0};
    std::uint32_t yiaddr{0};
    std::map<std::uint8_t, Bytes> options;
};
std::optional<DhcpReply> parse_dhcp(Bytes const& f) {
    if (network::ethertype(f) != network::ETHERTYPE_IPV4 || f.size() < 42 + 240 || f[23] != 17 ||
        get16(f, 34) != 67)
        return std::nullopt;
    std::size_t m = 42;
    DhcpReply r;
    r.yiaddr = get32(f, m + 16);
    for (std::size_t at = m + 240; at + 1 < f.size() && f[at] != 255;) {
        if (f[at] == 0) {
            ++at;
            continue;
        }
        std::size_t len = f[at + 1];
        if (at + 2 + len > f.size()) break;
        r.options[f[at]] = Bytes(f.begin() + static_cast<std::ptrdiff_t>(at + 2),
                                 f.begin() + static_cast<std::ptrdiff_t>(at + 2 + len));
        at += 2 + len;
    }
    if (auto it = r.options.find(53); it != r.options.end() && it->second.size() == 1) r.type = it->second[0];
    return r;
}

template <typename Wanted>
std::optional<Bytes> receive_if(Adapter const& a, Wanted wanted, int ms = 3000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{a.worker.fd(), POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        Bytes b(2048);
        ssize_t n = ::recv(a.worker.fd(), b.data(), b.size(), MSG_DONTWAIT);
        if (n <= 0) continue;
        b.resize(static_cast<std::size_t>(n));
        if (wanted(b)) return b;
    }
    return std::nullopt;
}

Bytes arp_request(std::uint32_t from, std::uint32_t target) {
    return network::test_frames::arp_request(GUEST_MAC, from, target);
}

std::optional<network::Mac> arp(Adapter const& a, std::uint32_t from, std::uint32_t target, int ms = 2000) {
    send(a, arp_request(from, target));
    auto reply = receive_if(
        a,
        [&](Bytes const& b) {
            return network::ethertype(b) == network::ETHERTYPE_ARP && b.size() >= 42 && get16(b, 20) == 2 &&
                   get32(b, 28) == target;
        },
        ms);
    if (!reply) return std::nullopt;
    return network::source_mac(*reply);
}

struct LogLines {
    std::mutex mutex;
    std::vector<std::string> lines;
    VirtualNetworks::Log function() {
        return [this](std::string const& line) {
            std::lock_guard lock(mutex);
            lines.push_back(line);
        };
    }
    bool contains(std::string const& text) {
        std::lock_guard lock(mutex);
        for (auto const& l : lines)
            if (l.find(text) != std::string::npos) return true;
        return false;
    }
};

constexpr std::uint32_t ip(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return (std::uint32_t(a) << 24) | (std::uint32_t(b) << 16) | (std::uint32_t(c) << 8) | d;
}

VirtualNetwork dhcp_net(std::string name, Guid id) {
    VirtualNetwork model = net(std::move(name), id);
    BOOST_REQUIRE(model.dhcp()
                      .configure("10.237.0.0", "255.255.0.0", "10.237.0.16", "10.237.255.254", "10.237.0.1")
                      .has_value());
    model.dhcp().set_enabled(true);
    return model;
}

} // namespace

BOOST_AUTO_TEST_SUITE(virtual_networks)

BOOST_AUTO_TEST_CASE(adapters_plug_move_and_unplug) {
    VirtualNetworks nets;
    Guid vm1 = guid(1), vm2 = guid(2), vm3 = guid(3), lan = guid(10), dmz = guid(11);
    Adapter a = add(nets, vm1, 0), b = add(nets, vm2, 0), c = add(nets, vm3, 0);
    // Unplugged at first: nothing goes anywhere.
    send(a, frame(1));
    BOOST_TEST(!receives(b, 1, 200));
    nets.plug(a.plug, net("lan", lan));
    nets.plug(b.plug, net("lan", lan));
    nets.plug(c.plug, net("dmz", dmz));
    BOOST_TEST((nets.network_of(a.plug) == lan));
    send(a, frame(1));
    BOOST_TEST(receives(b, 1));
    BOOST_TEST(!receives(c, 1, 200));
    // A running VM's adapter moves to the other network.
    nets.plug(a.plug, net("dmz", dmz));
    send(a, frame(1));
    BOOST_TEST(receives(c, 1));
    BOOST_TEST(!receives(b, 1, 200));
    // Unplugged (DetachFromVirtualNetwork): the cable is out.
    nets.plug(a.plug, std::nullopt);
    BOOST_TEST(!nets.network_of(a.plug));
    send(a, frame(1));
    BOOST_TEST(!receives(c, 1, 200));
    // Counters of the network the traffic went through.
    auto sw = nets.switch_of(lan);
    BOOST_REQUIRE(sw);
    BOOST_TEST(sw->totals().frames_sent >= 1u);
    // Unknown plugs are ignored.
    nets.plug({guid(99), 0}, net("lan", lan));
    BOOST_TEST(!nets.network_of({guid(99), 0}));
}

// IVMAccountant's network counters: a VM's adapters' bytes, kept across
// a move to another network and an unplug, gone with the VM's worker.
BOOST_AUTO_TEST_CASE(a_vms_traffic_adds_up_across_networks) {
    VirtualNetworks nets;
    Guid vm1 = guid(1), vm2 = guid(2), vm3 = guid(3), lan = guid(10), dmz = guid(11);
    Adapter a = add(nets, vm1, 0), b = add(nets, vm2, 0), c = add(nets, vm3, 0);
    auto settled = [&](auto condition) {
        for (int i = 0; i < 150 && !condition(); ++i)
            ::poll(nullptr, 0, 10);
        return condition();
    };
    BOOST_TEST(nets.vm_traffic(vm1).bytes_sent == 0u);
    nets.plug(a.plug, net("lan", lan));
    nets.plug(b.plug, net("lan", lan));
    nets.plug(c.plug, net("dmz", dmz));
    auto const size = frame(1).size();
    send(a, frame(1));
    BOOST_TEST(receives(b, 1));
    BOOST_TEST(settled([&] { return nets.vm_traffic(vm2).bytes_received == size; }));
    BOOST_TEST(nets.vm_traffic(vm1).bytes_sent == size);
    BOOST_TEST(nets.vm_traffic(vm1).bytes_received == 0u);
    nets.plug(a.plug, net("dmz", dmz));
    BOOST_TEST(nets.vm_traffic(vm1).bytes_sent == size); // carried over
    send(a, frame(1));
    BOOST_TEST(receives(c, 1));
    BOOST_TEST(settled([&] { return nets.vm_traffic(vm1).bytes_sent == 2 * size; }));
    nets.plug(a.plug, std::nullopt);
    BOOST_TEST(nets.vm_traffic(vm1).bytes_sent == 2 * size);
    BOOST_TEST(nets.vm_traffic(vm3).bytes_received == size);
    nets.remove_vm(vm1);
    BOOST_TEST(nets.vm_traffic(vm1).bytes_sent == 0u);
}

BOOST_AUTO_TEST_CASE(a_stopped_vm_and_a_removed_network_leave_nothing_behind) {
    VirtualNetworks nets;
    Guid vm1 = guid(1), vm2 = guid(2), lan = guid(10);
    Adapter a = add(nets, vm1, 0), b = add(nets, vm2, 0);
    nets.plug(a.plug, net("lan", lan));
    nets.plug(b.plug, net("lan", lan));
    auto sw = nets.switch_of(lan);
    BOOST_REQUIRE(sw);
    BOOST_TEST(sw->ports().size() == 2u);
    nets.remove_vm(vm1);
    BOOST_TEST(sw->ports().size() == 1u);
    BOOST_TEST(!nets.network_of(a.plug));
    // The network goes: its plugs are unplugged, the switch is dropped.
    nets.remove_network(lan);
    BOOST_TEST(!nets.switch_of(lan));
    BOOST_TEST(!nets.network_of(b.plug));
    auto rates = nets.rates(lan);
    BOOST_TEST(rates.packets_received.current == 0u);
}

BOOST_AUTO_TEST_CASE(a_network_with_dhcp_enabled_gets_its_server_on_the_switch) {
    VirtualNetworks nets;
    Guid vm1 = guid(1), lan = guid(10);
    VirtualNetwork model = net("lan", lan);
    BOOST_REQUIRE(model.dhcp()
                      .configure("10.237.0.0", "255.255.0.0", "10.237.0.16", "10.237.255.254", "10.237.0.1")
                      .has_value());
    model.dhcp().set_enabled(true);
    Adapter a = add(nets, vm1, 0);
    nets.plug(a.plug, model);
    auto sw = nets.switch_of(lan);
    BOOST_REQUIRE(sw);
    BOOST_TEST(sw->ports().size() == 2u); // the adapter and the DHCP server
    BOOST_TEST(nets.leases(lan).empty());
    // Disabled: the server leaves the switch.
    model.dhcp().set_enabled(false);
    nets.configure(model);
    BOOST_TEST(sw->ports().size() == 1u);
}

BOOST_AUTO_TEST_CASE(nat_addresses_come_from_the_dhcp_settings) {
    VirtualNetwork model = dhcp_net("nat", guid(20));
    auto c = VirtualNetworks::nat_config(model);
    BOOST_REQUIRE(c.has_value());
    BOOST_TEST(c.value().network == ip(10, 237, 0, 0));
    BOOST_TEST(c.value().mask == 0xFFFF0000u);
    BOOST_TEST(c.value().gateway == ip(10, 237, 0, 2)); // .1 is the DHCP server
    BOOST_TEST(c.value().dns == ip(10, 237, 0, 3));
    BOOST_TEST(c.value().host_loopback);
    // The administrator's gateway and DNS server, when they can be the NAT's.
    BOOST_REQUIRE(model.dhcp().set_default_gateway_address("10.237.0.9").has_value());
    BOOST_REQUIRE(model.dhcp().set_dns_servers("10.237.0.10,192.0.2.53").has_value());
    c = VirtualNetworks::nat_config(model);
    BOOST_TEST(c.value().gateway == ip(10, 237, 0, 9));
    BOOST_TEST(c.value().dns == ip(10, 237, 0, 10));
    // Not the DHCP server's address, and a DNS server outside the network
    // is not the NAT's: the fixed ones then.
    BOOST_REQUIRE(model.dhcp().set_default_gateway_address("10.237.0.1").has_value());
    BOOST_REQUIRE(model.dhcp().set_dns_servers("192.0.2.53").has_value());
    c = VirtualNetworks::nat_config(model);
    BOOST_TEST(c.value().gateway == ip(10, 237, 0, 2));
    BOOST_TEST(c.value().dns == ip(10, 237, 0, 3));
    // The TAP name fits IFNAMSIZ with the kernel's number.
    auto tap = VirtualNetworks::tap_name(guid(20));
    BOOST_TEST(tap.size() == 13u);
    BOOST_TEST(tap.starts_with("vsa"));
    BOOST_TEST(tap.ends_with("%d"));
    BOOST_TEST(tap != VirtualNetworks::tap_name(guid(21)));
}

BOOST_AUTO_TEST_CASE(a_nat_network_leases_its_gateway_and_reaches_the_hosts_loopback) {
    LogLines log;
    VirtualNetworks nets(log.function());
    Guid vm1 = guid(1), lan = guid(10);
    VirtualNetwork model = dhcp_net("natnet", lan);
    BOOST_REQUIRE(model.set_host_adapter(std::string(NAT_HOST_ADAPTER)).has_value());
    Adapter a = add(nets, vm1, 0);
    nets.plug(a.plug, model);
    auto sw = nets.switch_of(lan);
    BOOST_REQUIRE(sw);
    BOOST_TEST(sw->ports().size() == 3u); // the adapter, NAT, the DHCP server
    BOOST_TEST(nets.host_side(lan) == "NAT");
    BOOST_TEST(log.contains("virtual network \"natnet\": NAT through gateway 10.237.0.2, DNS 10.237.0.3"));

    // DHCP: DISCOVER, OFFER, REQUEST, ACK; the router and DNS server the
    // administrator left empty are the NAT's.
    auto is = [](std::uint8_t type) {
        return [type](Bytes const& b) {
            auto r = parse_dhcp(b);
            return r && r->type == type;
        };
    };
    send(a, dhcp(DISCOVER, std::nullopt, std::nullopt));
    auto offer = receive_if(a, is(OFFER));
    BOOST_REQUIRE_MESSAGE(offer.has_value(), "no DHCPOFFER");
    std::uint32_t mine = parse_dhcp(*offer)->yiaddr;
    send(a, dhcp(REQUEST, mine, ip(10, 237, 0, 1)));
    auto ack = receive_if(a, is(ACK));
    BOOST_REQUIRE_MESSAGE(ack.has_value(), "no DHCPACK");
    auto lease = *parse_dhcp(*ack);
    BOOST_TEST(lease.yiaddr == mine);
    BOOST_TEST((lease.options[3] == Bytes{10, 237, 0, 2}));
    BOOST_TEST((lease.options[6] == Bytes{10, 237, 0, 3}));
    BOOST_TEST(nets.leases(lan).size() == 1u);

    // The gateway answers ARP and ping.
    auto gw = arp(a, mine, ip(10, 237, 0, 2));
    BOOST_REQUIRE_MESSAGE(gw.has_value(), "the NAT gateway does not answer ARP");
    Bytes echo{8, 0, 0, 0, 0x77, 0x77, 0, 1, 'p', 'i', 'n', 'g'};
    std::uint16_t sum = network::checksum_finish(network::checksum_add(echo));
    echo[2] = static_cast<std::uint8_t>(sum >> 8);
    echo[3] = static_cast<std::uint8_t>(sum);
    send(a, ipv4(*gw, mine, ip(10, 237, 0, 2), 1, echo));
    auto pong = receive_if(a, [&](Bytes const& b) {
        return network::ethertype(b) == network::ETHERTYPE_IPV4 && b.size() >= 42 && b[23] == 1 &&
               b[34] == 0 && get16(b, 38) == 0x7777;
    });
    BOOST_TEST(pong.has_value());

    // UDP to gateway:port reaches the host's 127.0.0.1:port, and back.
    FileDescriptor host(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    BOOST_REQUIRE(host.is_open());
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::bind(host.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    BOOST_REQUIRE(::getsockname(host.fd(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    std::uint16_t port = ntohs(addr.sin_port);
    std::string hello = "hello through NAT";
    send(a, udp(*gw, mine, ip(10, 237, 0, 2), 40000, port, Bytes(hello.begin(), hello.end())));
    pollfd p{host.fd(), POLLIN, 0};
    BOOST_REQUIRE(::poll(&p, 1, 3000) == 1);
    char buf[128];
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    ssize_t n = ::recvfrom(host.fd(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    BOOST_REQUIRE(n > 0);
    BOOST_TEST(std::string(buf, static_cast<std::size_t>(n)) == hello);
    std::string answer = "hello back";
    BOOST_REQUIRE(::sendto(host.fd(), answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from),
                           from_len) == static_cast<ssize_t>(answer.size()));
    auto back = receive_if(a, [&](Bytes const& b) {
        return network::ethertype(b) == network::ETHERTYPE_IPV4 && b.size() >= 42 && b[23] == 17 &&
               get16(b, 34) == port && get16(b, 36) == 40000;
    });
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST(std::string(back->begin() + 42, back->end()) == answer);

    // The host adapter goes while the network runs: so does the NAT.
    BOOST_REQUIRE(model.set_host_adapter("").has_value());
    nets.configure(model);
    BOOST_TEST(nets.host_side(lan) == "");
    BOOST_TEST(sw->ports().size() == 2u);
    BOOST_TEST(!arp(a, mine, ip(10, 237, 0, 2), 500).has_value());
    BOOST_TEST(log.contains("no longer connected to the host (NAT)"));
    // And comes back (answering at once: a guest's frame read in the same
    // round as the new port's attachment once went to a NAT without a
    // sender, and its ARP reply was lost).
    BOOST_REQUIRE(model.set_host_adapter(std::string(NAT_HOST_ADAPTER)).has_value());
    nets.configure(model);
    BOOST_TEST(nets.host_side(lan) == "NAT");
    BOOST_TEST(sw->ports().size() == 3u);
    BOOST_TEST(arp(a, mine, ip(10, 237, 0, 2)).has_value());
}

BOOST_AUTO_TEST_CASE(a_bridge_that_cannot_be_made_leaves_the_network_guest_only_and_says_why) {
    LogLines log;
    VirtualNetworks nets(log.function());
    VirtualNetwork model = net("bridged", guid(12));
    BOOST_REQUIRE(model.set_host_adapter("vsa-nobridge").has_value());
    Adapter a = add(nets, guid(1), 0);
    nets.plug(a.plug, model);
    auto sw = nets.switch_of(guid(12));
    BOOST_REQUIRE(sw);
    BOOST_TEST(sw->ports().size() == 1u); // the adapter only
    BOOST_TEST(nets.host_side(guid(12)) == "");
    std::string last = log.lines.empty() ? std::string() : log.lines.back();
    BOOST_TEST(log.contains("virtual network \"bridged\": cannot bridge to \"vsa-nobridge\": the host has no "
                            "network interface \"vsa-nobridge\""),
               last);
    BOOST_TEST(log.contains("the network is guest-only"));
}

// The DHCP server's own problems (here a damaged line of its leases file)
// reach vsad's log once traffic passes it, naming the network.
BOOST_AUTO_TEST_CASE(the_dhcp_servers_problems_reach_the_log) {
    auto folder = std::filesystem::temp_directory_path() / ("vsa-vnet-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    auto file = folder / "lan.vnc";
    {
        std::ofstream leases(file.string() + ".leases");
        leases << "this is no lease record\n";
    }
    LogLines log;
    {
        VirtualNetworks nets(log.function());
        VirtualNetwork model("lan", file, guid(10));
        BOOST_REQUIRE(
            model.dhcp()
                .configure("10.237.0.0", "255.255.0.0", "10.237.0.16", "10.237.255.254", "10.237.0.1")
                .has_value());
        model.dhcp().set_enabled(true);
        Adapter a = add(nets, guid(1), 0);
        nets.plug(a.plug, model);
        send(a, frame(1)); // any broadcast reaches the server's port
        for (int i = 0; i < 150 && !log.contains("DHCP server: "); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::filesystem::remove_all(folder);
    BOOST_TEST(log.contains("virtual network \"lan\": DHCP server: "));
    BOOST_TEST(log.contains("ignored"));
}

BOOST_AUTO_TEST_SUITE_END()
