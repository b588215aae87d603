// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/network_adapter.h"

namespace vsa::services {

ServiceResult<void> NetworkAdapter::set_ethernet_address(std::string_view text) {
    if (m_dynamic)
        return service_error(hr::VM_E_CANT_SET_DYNAMIC_MAC_ADDRESS,
                             "network adapter " + std::to_string(m_id) +
                                 " has a dynamic address; set IsEthernetAddressDynamic to false first");
    auto address = MacAddress::parse(text);
    if (!address)
        return service_error(hr::E_INVALIDARG, "\"" + std::string(text.substr(0, 32)) +
                                                   "\" is not an Ethernet address like 00-03-FF-12-34-56");
    if (!address->is_assignable())
        return service_error(hr::E_INVALIDARG,
                             address->to_string() +
                                 " cannot be a NIC's address (all zeros or a group address)");
    m_address = *address;
    return {};
}

} // namespace vsa::services
