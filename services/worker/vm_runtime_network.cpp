// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime and the virtual networks: each adapter of a running VM is a
// socketpair between its worker and vsad (virtual_networks.h), plugged
// into the switch of the network the model attaches it to.
#include "services/worker/vm_runtime.h"

#include "services/worker/vm_runtime_session.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace vsa::services {

ServiceResult<std::vector<FileDescriptor>> VmRuntime::open_network_adapters(VirtualMachine const& vm) {
    std::vector<FileDescriptor> workers;
    auto const& adapters = vm.network_adapters();
    if (adapters.size() > WorkerProcess::MAX_INHERITED - 1) // one is the guest agent port's
        return service_error(hr::E_FAIL, "a virtual machine has at most " +
                                             std::to_string(WorkerProcess::MAX_INHERITED - 1) +
                                             " network adapters");
    for (auto const& adapter : adapters) {
        int ends[2];
        // SOCK_SEQPACKET: one frame per message, and a peer that goes away
        // reads as end of file (the switch unplugs it).
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
            m_networks.remove_vm(vm.config_id());
            return service_error(hr::E_FAIL, std::string("cannot make a network adapter's socket: ") +
                                                 std::strerror(errno));
        }
        workers.emplace_back(ends[0]);
        VirtualNetworks::PlugId plug{vm.config_id(), adapter.id()};
        m_networks.add_adapter(plug, FileDescriptor(ends[1]));
        if (auto const& ref = adapter.virtual_network())
            m_networks.plug(plug, m_inventory.virtual_network(ref->id));
    }
    return workers;
}

void VmRuntime::sync_network_adapters(Guid const& id) {
    auto vm = m_inventory.virtual_machine(id);
    if (!vm) return;
    std::vector<bool> plugged;
    for (auto const& adapter : vm->network_adapters()) {
        std::optional<VirtualNetwork> network;
        if (auto const& ref = adapter.virtual_network()) network = m_inventory.virtual_network(ref->id);
        // Ignored for a VM that does not run (no plugs).
        m_networks.plug({id, adapter.id()}, network);
        plugged.push_back(network.has_value());
    }
    // The guest sees the cable follow: the worker's NIC i is adapter i
    // (worker_arguments), its link up while plugged into a network.
    auto live = live_worker(id);
    if (live.is_error()) return;
    auto [session, worker] = live.release_value();
    for (std::size_t i = 0; i < plugged.size(); ++i) {
        control::Request request{0, control::Command::NicLink};
        request.slot = static_cast<unsigned>(i);
        request.link_up = plugged[i];
        auto reply = worker->request(request, m_options.command_timeout);
        if (reply.is_error())
            log("virtual machine \"" + vm->name() + "\": network adapter " + std::to_string(i + 1) +
                " keeps its cable state: " + reply.error().message);
    }
}

void VmRuntime::network_removed(Guid const& network) {
    m_networks.remove_network(network);
}

} // namespace vsa::services
