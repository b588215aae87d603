// SPDX-License-Identifier: GPL-2.0-or-later
// The running virtual networks; see virtual_networks.h.
#include "services/worker/virtual_networks.h"

#include "services/network/tap_endpoint.h"

#include <chrono>
#include <cstdio>
#include <sstream>

#include <poll.h>
#include <sys/socket.h>

namespace vsa::services {

namespace {

// The host side on the switch, with what it reports taken to the log as
// it happens (on the switch thread), at most LOG_BURST lines a minute: a
// guest provoking libslirp on every frame must not flood vsad's log.
class LoggedEndpoint final : public network::Endpoint {
public:
    using Take = std::function<std::vector<std::string>()>;
    LoggedEndpoint(std::shared_ptr<network::Endpoint> inner, Take take, VirtualNetworks::Log log,
                   std::string prefix)
        : m_inner(std::move(inner)), m_take(std::move(take)), m_log(std::move(log)),
          m_prefix(std::move(prefix)) {}

    void attached(Sender sender) override { m_inner->attached(std::move(sender)); }
    void deliver(std::span<std::uint8_t const> frame) override {
        m_inner->deliver(frame);
        drain();
    }
    void before_poll(std::vector<pollfd>& fds, int& timeout_ms) override {
        m_inner->before_poll(fds, timeout_ms);
    }
    void after_poll(std::span<pollfd const> fds) override {
        m_inner->after_poll(fds);
        drain();
    }

private:
    void drain() {
        auto lines = m_take();
        auto now = std::chrono::steady_clock::now();
        if (now - m_window >= std::chrono::minutes(1)) {
            if (m_suppressed && m_log)
                m_log(m_prefix + std::to_string(m_suppressed) + " more such messages in the last minute");
            m_window = now;
            m_logged = 0;
            m_suppressed = 0;
        }
        for (auto const& line : lines) {
            if (m_logged < VirtualNetworks::LOG_BURST) {
                ++m_logged;
                if (m_log) m_log(m_prefix + line);
            } else {
                ++m_suppressed;
            }
        }
    }

    std::shared_ptr<network::Endpoint> m_inner;
    Take m_take;
    VirtualNetworks::Log m_log;
    std::string m_prefix;
    std::chrono::steady_clock::time_point m_window{};
    unsigned m_logged{0};
    unsigned m_suppressed{0};
};

std::vector<std::uint32_t> address_list(std::string const& list) {
    std::vector<std::uint32_t> out;
    std::stringstream in(list);
    std::string item;
    while (std::getline(in, item, ','))
        if (auto a = parse_ipv4(item)) out.push_back(*a);
    return out;
}

// The model's settings (validated by DhcpSettings) as the server wants them;
// on a NAT network the NAT's gateway and DNS server stand in for settings
// the administrator left empty.
std::optional<network::DhcpServer::Config>
dhcp_config(VirtualNetwork const& net, std::optional<network::NatEndpoint::Config> const& nat) {
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
    if (nat && !c.gateway) c.gateway = nat->gateway;
    if (nat && c.dns.empty()) c.dns.push_back(nat->dns);
    c.wins = address_list(d.wins_servers());
    c.lease_seconds = d.lease_time();
    c.renewal_seconds = d.lease_renewal_time();
    c.rebinding_seconds = d.lease_rebinding_time();
    return c;
}

} // namespace

Result<network::NatEndpoint::Config, std::string> VirtualNetworks::nat_config(VirtualNetwork const& net) {
    DhcpSettings const& d = net.dhcp();
    auto network = parse_ipv4(d.network());
    auto mask = parse_ipv4(d.network_mask());
    if (!network || !mask)
        return std::string("NAT needs the network's address and mask (its DHCP server's settings)");
    auto server = parse_ipv4(d.server_ip_address());
    // A host address of the network that is not the DHCP server's.
    auto usable = [&](std::uint32_t a) {
        return (a & *mask) == *network && a != *network && (a | *mask) != 0xFFFF'FFFFu && a != server;
    };
    // The first usable address from network+1 up, other than `taken`
    // (network+15 at most: the DHCP pool starts above).
    auto first_free = [&](std::optional<std::uint32_t> taken) -> std::optional<std::uint32_t> {
        for (std::uint32_t k = 1; k < 16; ++k)
            if (usable(*network + k) && *network + k != taken) return *network + k;
        return std::nullopt;
    };
    network::NatEndpoint::Config c;
    c.network = *network;
    c.mask = *mask;
    c.host_loopback = true;
    auto gateway = parse_ipv4(d.default_gateway_address());
    if (!gateway || !usable(*gateway)) gateway = first_free(std::nullopt);
    if (!gateway) return std::string("NAT: the network has no free address for its gateway");
    c.gateway = *gateway;
    auto dns = address_list(d.dns_servers());
    std::optional<std::uint32_t> resolver;
    if (!dns.empty() && usable(dns.front()) && dns.front() != c.gateway) resolver = dns.front();
    if (!resolver) resolver = first_free(c.gateway);
    if (!resolver) return std::string("NAT: the network has no free address for its DNS server");
    c.dns = *resolver;
    return c;
}

std::string VirtualNetworks::tap_name(Guid const& network) {
    // FNV-1a of the id: 8 hex digits fit IFNAMSIZ with "vsa" and the
    // kernel's number ("%d": a replaced device may linger a moment).
    std::uint32_t hash = 2'166'136'261u;
    for (auto byte : network.bytes()) {
        hash ^= byte;
        hash *= 16'777'619u;
    }
    char name[16];
    std::snprintf(name, sizeof name, "vsa%08x%%d", hash);
    return name;
}

VirtualNetworks::VirtualNetworks(Log log) : m_log(std::move(log)) {}

void VirtualNetworks::log(std::string const& line) const {
    if (m_log) m_log(line);
}

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

void VirtualNetworks::detach_host_locked(Running& running) {
    if (running.host_port) running.sw->detach(running.host_port);
    running.host.clear();
    running.host_port = 0;
    running.nat.reset();
}

void VirtualNetworks::configure_host_locked(Running& running, VirtualNetwork const& network) {
    std::string const& wanted = network.host_adapter();
    std::string const prefix = "virtual network \"" + network.name() + "\": ";
    if (wanted.empty()) {
        if (!running.host.empty()) log(prefix + "no longer connected to the host (" + running.host + ")");
        detach_host_locked(running);
        return;
    }
    if (wanted == NAT_HOST_ADAPTER) {
        auto config = nat_config(network);
        if (config.is_error()) {
            detach_host_locked(running);
            log(prefix + config.error() + "; the network is guest-only");
            return;
        }
        auto const& c = config.value();
        auto asked = parse_ipv4(network.dhcp().default_gateway_address());
        if (asked && *asked != c.gateway && running.host != wanted)
            log(prefix + "the DHCP default gateway " + format_ipv4(*asked) +
                " cannot be the NAT's (it is not a free host address of the network); NAT uses " +
                format_ipv4(c.gateway));
        if (running.host == wanted && running.nat && running.nat->network == c.network &&
            running.nat->mask == c.mask && running.nat->gateway == c.gateway && running.nat->dns == c.dns)
            return; // as it is
        detach_host_locked(running);
        auto nat = network::NatEndpoint::create(c);
        if (nat.is_error()) {
            log(prefix + nat.error() + "; the network is guest-only");
            return;
        }
        auto endpoint = nat.release_value();
        auto logged = std::make_shared<LoggedEndpoint>(
            endpoint, [endpoint] { return endpoint->take_guest_errors(); }, m_log, prefix + "NAT: ");
        running.host_port = running.sw->attach_endpoint(logged, "nat");
        running.host = wanted;
        running.nat = c;
        log(prefix + "NAT through gateway " + format_ipv4(c.gateway) + ", DNS " + format_ipv4(c.dns));
        return;
    }
    if (running.host == wanted) return; // the same bridge
    detach_host_locked(running);
    auto tap = network::TapEndpoint::create(tap_name(network.id()), wanted);
    if (tap.is_error()) {
        log(prefix + "cannot bridge to \"" + wanted + "\": " + tap.error() + "; the network is guest-only");
        return;
    }
    auto endpoint = tap.release_value();
    auto logged = std::make_shared<LoggedEndpoint>(
        endpoint, [endpoint] { return endpoint->take_problems(); }, m_log, prefix);
    running.host_port = running.sw->attach_endpoint(logged, "bridge " + wanted);
    running.host = wanted;
    log(prefix + "bridged to \"" + wanted + "\" through TAP device \"" + endpoint->device() + "\"");
}

void VirtualNetworks::configure_locked(Running& running, VirtualNetwork const& network) {
    configure_host_locked(running, network);
    auto config = dhcp_config(network, running.nat);
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
    auto dhcp = std::make_shared<network::DhcpEndpoint>(*config, leases);
    running.dhcp = dhcp;
    // The server's own problems (a leases file it cannot write) reach the
    // log, rate-limited like the host side's.
    auto logged = std::make_shared<LoggedEndpoint>(
        dhcp, [dhcp] { return dhcp->take_problems(); }, m_log,
        "virtual network \"" + network.name() + "\": DHCP server: ");
    running.dhcp_port = running.sw->attach_endpoint(logged, "dhcp");
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
    if (it != m_switches.end()) {
        if (auto stats = it->second.sw->stats(plug.port)) {
            plug.before.bytes_sent += stats->bytes_sent;
            plug.before.bytes_received += stats->bytes_received;
        }
        plug.held = it->second.sw->release(plug.port);
    }
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

VirtualNetworks::VmTraffic VirtualNetworks::vm_traffic(Guid const& vm) const {
    std::lock_guard lock(m_mutex);
    VmTraffic total;
    for (auto const& [id, p] : m_plugs) {
        if (id.vm != vm) continue;
        total.bytes_sent += p.before.bytes_sent;
        total.bytes_received += p.before.bytes_received;
        if (!p.network) continue;
        auto it = m_switches.find(*p.network);
        if (it == m_switches.end()) continue;
        if (auto stats = it->second.sw->stats(p.port)) {
            total.bytes_sent += stats->bytes_sent;
            total.bytes_received += stats->bytes_received;
        }
    }
    return total;
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

std::string VirtualNetworks::host_side(Guid const& network) const {
    std::lock_guard lock(m_mutex);
    auto it = m_switches.find(network);
    return it == m_switches.end() ? std::string() : it->second.host;
}

network::TrafficRates VirtualNetworks::rates(Guid const& network) const {
    auto sw = switch_of(network);
    return sw ? sw->rates() : network::TrafficRates{};
}

} // namespace vsa::services
