// SPDX-License-Identifier: GPL-2.0-or-later
// The running side of the virtual networks: running VMs' adapters (the
// worker's end of a socketpair held by the test) plugged into networks,
// moved between them, unplugged (frames go nowhere), dropped with their
// VM, and a network removed under its plugs; counters per network.
#include "services/worker/virtual_networks.h"

#include <boost/test/unit_test.hpp>

#include <array>
#include <vector>

#include <poll.h>
#include <sys/socket.h>

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

BOOST_AUTO_TEST_SUITE_END()
