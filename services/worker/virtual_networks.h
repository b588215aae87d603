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
// Thread-safe; the switches have their own threads.
#pragma once

#include "hypervisor/base/file_descriptor.h"
#include "services/model/guid.h"
#include "services/model/virtual_network.h"
#include "services/network/dhcp_endpoint.h"
#include "services/network/virtual_switch.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace vsa::services {

class VirtualNetworks {
public:
    VirtualNetworks();
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
    // The network's settings changed (DHCP): its running switch follows.
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

private:
    struct Plug {
        FileDescriptor held; // while unplugged
        std::optional<Guid> network;
        network::PortId port{0};
    };
    void unplug_locked(Plug& plug);
    struct Running {
        std::shared_ptr<network::VirtualSwitch> sw;
        std::shared_ptr<network::DhcpEndpoint> dhcp;
        network::PortId dhcp_port{0};
    };
    std::shared_ptr<network::VirtualSwitch> make_switch_locked(VirtualNetwork const& network);
    void configure_locked(Running& running, VirtualNetwork const& network);

    mutable std::mutex m_mutex;
    std::map<Guid, Running> m_switches;
    std::map<PlugId, Plug> m_plugs;
};

} // namespace vsa::services
