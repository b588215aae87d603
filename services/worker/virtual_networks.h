// SPDX-License-Identifier: GPL-2.0-or-later
// VirtualNetworks: the running side of the registered virtual networks in
// vsad: one VirtualSwitch (services/network/virtual_switch.h) per network,
// made when the first adapter plugs in, and the plugs of the running VMs'
// adapters.
//
// An adapter of a running VM is a socketpair: the worker holds one end for
// the life of the process (vsa-vm --nic fd:N), vsad the other. Plugging
// the adapter into a network hands vsad's end to that network's switch;
// unplugging takes it back (VirtualSwitch::release) and keeps it here, so
// the worker's socket stays valid and its frames simply go nowhere, like a
// NIC with no cable; AttachToVirtualNetwork while the VM runs moves it.
// Nobody reads an unplugged end: its socket buffer fills (bounded by the
// kernel) and the worker, which never blocks on its NIC socket, drops what
// it cannot send.
//
// A network's switch also carries its DHCP server (dhcp_endpoint.h) when
// the network's DHCP settings enable it, with its leases in
// "<network>.vnc.leases" beside the .vnc; configure() follows changes.
//
// And its way to the host, by the network's host adapter (virtual_network.h):
//   "NAT"     a NatEndpoint (nat_endpoint.h). Its addresses come from the
//             DHCP settings, enabled or not (nat_config below): the
//             network and mask; the gateway is DefaultGatewayAddress when
//             that is a host address of the network other than the DHCP
//             server's, else the first such address from network+1 up
//             (network+2 with the default server at +1); the DNS address
//             is the first DNSServers entry when that qualifies likewise
//             and is not the gateway, else the next free one (network+3).
//             Both lie among the 15 addresses the DHCP pool never uses.
//             The DHCP server hands out that gateway and DNS server when
//             the administrator left those settings empty, so a guest
//             that only runs a DHCP client reaches the outside; the host's
//             own 127.0.0.1:port is gateway:port.
//   a bridge  a TapEndpoint (tap_endpoint.h): a TAP device "vsa<8 hex
//             digits of the network's id><n>" in that bridge. Making it
//             needs CAP_NET_ADMIN; when it cannot be made the reason goes
//             to the log and the network runs guest-only (nothing
//             pretends), until the next configure() tries again.
//   ""        nothing: guest-only.
// What libslirp reports of guest misbehaviour and a TAP device that fails
// go to the log too (at most LOG_BURST lines a minute per network).
//
// Thread-safe; the switches have their own threads (the log function is
// called from them: it must be thread-safe, as vsad's logger is).
#pragma once

#include "hypervisor/base/file_descriptor.h"
#include "services/model/guid.h"
#include "services/model/virtual_network.h"
#include "services/network/dhcp_endpoint.h"
#include "services/network/nat_endpoint.h"
#include "services/network/virtual_switch.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace vsa::services {

class VirtualNetworks {
public:
    using Log = std::function<void(std::string const&)>;
    static constexpr unsigned LOG_BURST = 10;

    // `log`: where problems go (default: nowhere).
    explicit VirtualNetworks(Log log = {});
    ~VirtualNetworks();
    VirtualNetworks(VirtualNetworks const&) = delete;
    VirtualNetworks& operator=(VirtualNetworks const&) = delete;

    // One adapter of a running VM: vsad's end of its socketpair.
    struct PlugId {
        Guid vm;
        std::int32_t adapter{0};
        friend auto operator<=>(PlugId const&, PlugId const&) = default;
    };
    // Takes vsad's end of a new adapter socket, unplugged.
    void add_adapter(PlugId plug, FileDescriptor socket);
    // Plugs into `network` (its switch made on first use), or with nullopt
    // unplugs. Unknown plugs are ignored (the VM stopped meanwhile).
    void plug(PlugId plug, std::optional<VirtualNetwork> const& network);
    // The network's settings changed (DHCP, host adapter): its running
    // switch follows (NAT or bridge attached, replaced or removed).
    void configure(VirtualNetwork const& network);
    // The DHCP server's records of a network with a running switch.
    std::vector<network::DhcpLease> leases(Guid const& network) const;
    // The VM's worker is gone: every adapter of it is dropped.
    void remove_vm(Guid const& vm);
    // A network was unregistered: its switch stops, its plugs are unplugged.
    void remove_network(Guid const& network);

    // Where a plug is now (nullopt: unplugged or unknown).
    std::optional<Guid> network_of(PlugId plug) const;
    // The switch of a network that has one.
    std::shared_ptr<network::VirtualSwitch> switch_of(Guid const& network) const;
    // IVMVirtualNetwork's counters (zeros for a network without a switch).
    network::TrafficRates rates(Guid const& network) const;
    // IVMAccountant.NetworkBytesSent/Received: what the running VM's
    // adapters sent into and received from their networks since the worker
    // started, across re-plugs (zeros for a VM without adapters or worker).
    struct VmTraffic {
        std::uint64_t bytes_sent{0};
        std::uint64_t bytes_received{0};
    };
    VmTraffic vm_traffic(Guid const& vm) const;
    // What a running network's switch has on its host side: "" (nothing),
    // "NAT", or the bridge's name.
    std::string host_side(Guid const& network) const;

    // The NAT addresses of a network (see the top), or why there are none.
    static Result<network::NatEndpoint::Config, std::string> nat_config(VirtualNetwork const& network);
    // The TAP device name (pattern) of a network bridged to the host.
    static std::string tap_name(Guid const& network);

private:
    struct Plug {
        FileDescriptor held; // while unplugged
        std::optional<Guid> network;
        network::PortId port{0};
        VmTraffic before; // carried through switch ports it has left
    };
    void unplug_locked(Plug& plug);
    struct Running {
        std::shared_ptr<network::VirtualSwitch> sw;
        std::shared_ptr<network::DhcpEndpoint> dhcp;
        network::PortId dhcp_port{0};
        // The host side: "" / "NAT" / a bridge, its port, NAT's addresses.
        std::string host;
        network::PortId host_port{0};
        std::optional<network::NatEndpoint::Config> nat;
    };
    std::shared_ptr<network::VirtualSwitch> make_switch_locked(VirtualNetwork const& network);
    void configure_locked(Running& running, VirtualNetwork const& network);
    void configure_host_locked(Running& running, VirtualNetwork const& network);
    void detach_host_locked(Running& running);
    void log(std::string const& line) const;

    Log m_log;
    mutable std::mutex m_mutex;
    std::map<Guid, Running> m_switches;
    std::map<PlugId, Plug> m_plugs;
};

} // namespace vsa::services
