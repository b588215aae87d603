// SPDX-License-Identifier: GPL-2.0-or-later
// The running virtual networks; see virtual_networks.h.
#include "services/worker/virtual_networks.h"

#include <sstream>

#include <sys/socket.h>

namespace vsa::services {

namespace {

std::vector<std::uint32_t> address_list(std::string const& list) {
    std::vector<std::uint32_t> out;
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ','))
        if (auto a = parse_ipv4(item)) out.push_back(*a);
    return out;
}

// The model's settings (validated by DhcpSettings) as the server wants them.
std::optional<network::DhcpServer::Config> dhcp_config(VirtualNetwork const& net) {
    DhcpSettings const& d = net.dhcp();
    if (!d.is_enabled()) return std::nullopt;
    auto server = parse_ipv4(d.server_ip_address());
    auto network = parse_ipv4(d.network());
    auto mask = parse_ipv4(d.network_mask());
    auto start = parse_ipv4(d.starting_ip_address());
    auto end = parse_ipv4(d.ending_ip_address());
    if (!server || !network || !mask || !start || !end) return std::nullopt;
    network::DhcpServer::Config c;
    // A locally administered address of the network's own, from its id.
    auto id = net.id().bytes();
    c.server_mac = {0x02, id[0], id[1], id[2], id[3], id[4]};
    c.server_ip = *server;
    c.network = *network;
    c.mask = *mask;
    c.pool_start = *start;
    c.pool_end = *end;
    if (auto gw = parse_ipv4(d.default_gateway_address())) c.gateway = *gw;
    c.dns = address_list(d.dns_servers());
    c.wins = address_list(d.wins_servers());
    c.lease_seconds = d.lease_time();
    c.renewal_seconds = d.lease_renewal_time();
    c.rebinding_seconds = d.lease_rebinding_time();
    return c;
}

} // namespace

VirtualNetworks::VirtualNetworks() = default;

VirtualNetworks::~VirtualNetworks() {
    std::lock_guard lock(m_mutex);
    m_plugs.clear();
    m_switches.clear(); // each switch joins its thread
}

std::shared_ptr<network::VirtualSwitch> VirtualNetworks::make_switch_locked(VirtualNetwork const& network) {
    auto& running = m_switches[network.id()];
    if (!running.sw) {
        running.sw = std::make_shared<network::VirtualSwitch>(network.name());
        configure_locked(running, network);
    }
    return running.sw;
}

void VirtualNetworks::configure_locked(Running& running, VirtualNetwork const& network) {
    auto config = dhcp_config(network);
    if (!config) {
        if (running.dhcp) running.sw->detach(running.dhcp_port);
        running.dhcp.reset();
        return;
    }
    if (running.dhcp) {
        running.dhcp->reconfigure(*config);
        return;
    }
    std::filesystem::path leases;
    if (!network.file().empty()) leases = network.file().string() + ".leases";
    running.dhcp = std::make_shared<network::DhcpEndpoint>(*config, leases);
    running.dhcp_port = running.sw->attach_endpoint(running.dhcp, "dhcp");
}

void VirtualNetworks::configure(VirtualNetwork const& network) {
    std::lock_guard lock(m_mutex);
    auto it = m_switches.find(network.id());
    if (it != m_switches.end()) configure_locked(it->second, network);
}

std::vector<network::DhcpLease> VirtualNetworks::leases(Guid const& network) const {
    std::lock_guard lock(m_mutex);
    auto it = m_switches.find(network);
    if (it == m_switches.end() || !it->second.dhcp) return {};
    return it->second.dhcp->leases();
}

void VirtualNetworks::add_adapter(PlugId plug, FileDescriptor socket) {
    std::lock_guard lock(m_mutex);
    auto& p = m_plugs[plug];
    unplug_locked(p);
    p.held = std::move(socket);
}

void VirtualNetworks::unplug_locked(Plug& plug) {
    if (!plug.network) return;
    auto it = m_switches.find(*plug.network);
    if (it != m_switches.end()) plug.held = it->second.sw->release(plug.port);
    plug.network.reset();
    plug.port = 0;
}

void VirtualNetworks::plug(PlugId id, std::optional<VirtualNetwork> const& network) {
    std::lock_guard lock(m_mutex);
    auto it = m_plugs.find(id);
    if (it == m_plugs.end()) return;
    Plug& p = it->second;
    std::optional<Guid> target = network ? std::optional<Guid>(network->id()) : std::nullopt;
    if (p.network == target) return;
    unplug_locked(p);
    if (!network || !p.held.is_open()) return;
    // What the guest sent while unplugged went nowhere, as on a NIC without
    // a cable: it must not reach the network now.
    std::uint8_t byte;
    for (int i = 0; i < 100'000; ++i)
        if (::recv(p.held.fd(), &byte, 1, MSG_DONTWAIT | MSG_TRUNC) <= 0) break;
    auto sw = make_switch_locked(*network);
    auto port = sw->attach_socket(std::move(p.held), id.vm.to_string() + "/" + std::to_string(id.adapter));
    // Cannot fail for the seqpacket sockets VmRuntime makes; if it did, the
    // adapter stays unplugged (its end is closed: the worker's sends fail).
    if (port.is_error()) return;
    p.network = target;
    p.port = port.value();
}

void VirtualNetworks::remove_vm(Guid const& vm) {
    std::lock_guard lock(m_mutex);
    for (auto it = m_plugs.begin(); it != m_plugs.end();) {
        if (it->first.vm == vm) {
            if (it->second.network) {
                auto sw = m_switches.find(*it->second.network);
                if (sw != m_switches.end()) sw->second.sw->detach(it->second.port);
            }
            it = m_plugs.erase(it);
        } else {
            ++it;
        }
    }
}

void VirtualNetworks::remove_network(Guid const& network) {
    std::lock_guard lock(m_mutex);
    for (auto& [id, p] : m_plugs)
        if (p.network == network) unplug_locked(p);
    m_switches.erase(network);
}

std::optional<Guid> VirtualNetworks::network_of(PlugId plug) const {
    std::lock_guard lock(m_mutex);
    auto it = m_plugs.find(plug);
    if (it == m_plugs.end()) return std::nullopt;
    return it->second.network;
}

std::shared_ptr<network::VirtualSwitch> VirtualNetworks::switch_of(Guid const& network) const {
    std::lock_guard lock(m_mutex);
    auto it = m_switches.find(network);
    return it == m_switches.end() ? nullptr : it->second.sw;
}

network::TrafficRates VirtualNetworks::rates(Guid const& network) const {
    auto sw = switch_of(network);
    return sw ? sw->rates() : network::TrafficRates{};
}

} // namespace vsa::services
