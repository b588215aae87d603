// SPDX-License-Identifier: GPL-2.0-or-later
// NetworkAdapter: one emulated DEC 21140 NIC of a VM (IVMNetworkAdapter)
// and the virtual network it is plugged into, if any.
//
// The adapter refers to its network by id and name, as a .vmc does
// (ethernet_controller/virtual_network/{id,name}): the id is what binds,
// the name is for people and for files whose id we do not know.
//
// IsEthernetAddressDynamic defaults to TRUE. A dynamic address is drawn once
// and kept (a guest's DHCP lease and licence checks follow the MAC); the
// inventory redraws it only when it collides with another NIC. A static one
// is whatever the administrator set, and only collisions they made are
// theirs to fix.
#pragma once

#include "services/model/guid.h"
#include "services/model/mac_address.h"
#include "services/service_error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace vsa::services {

struct NetworkReference {
    Guid id;
    std::string name;
    friend bool operator==(NetworkReference const&, NetworkReference const&) = default;
};

class NetworkAdapter {
public:
    NetworkAdapter(std::int32_t id, MacAddress address) : m_id(id), m_address(address) {}

    std::int32_t id() const { return m_id; } // _ID: 0..3, the ethernet_controller id
    MacAddress const& ethernet_address() const { return m_address; }
    bool is_ethernet_address_dynamic() const { return m_dynamic; }
    std::optional<NetworkReference> const& virtual_network() const { return m_network; }

    // VM_E_CANT_SET_DYNAMIC_MAC_ADDRESS while dynamic; E_INVALIDARG unless
    // "XX-XX-XX-XX-XX-XX" naming a unicast, non-zero address.
    ServiceResult<void> set_ethernet_address(std::string_view text);
    void set_ethernet_address_dynamic(bool dynamic) { m_dynamic = dynamic; }
    // Used by the inventory and the .vmc reader only: no dynamic check.
    void assign_address(MacAddress address) { m_address = address; }

    void renumber(std::int32_t id) { m_id = id; }
    void attach(NetworkReference network) { m_network = std::move(network); }
    void detach() { m_network.reset(); }

    friend bool operator==(NetworkAdapter const&, NetworkAdapter const&) = default;

private:
    std::int32_t m_id;
    MacAddress m_address;
    bool m_dynamic{true};
    std::optional<NetworkReference> m_network;
};

} // namespace vsa::services
