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
    if (adapters.size() > WorkerProcess::MAX_INHERITED)
        return service_error(hr::E_FAIL, "a virtual machine has at most " +
                                             std::to_string(WorkerProcess::MAX_INHERITED) +
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
    for (auto const& adapter : vm->network_adapters()) {
        std::optional<VirtualNetwork> network;
        if (auto const& ref = adapter.virtual_network()) network = m_inventory.virtual_network(ref->id);
        // Ignored for a VM that does not run (no plugs).
        m_networks.plug({id, adapter.id()}, network);
    }
}

void VmRuntime::network_removed(Guid const& network) {
    m_networks.remove_network(network);
}

} // namespace vsa::services
