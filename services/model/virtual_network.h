// SPDX-License-Identifier: GPL-2.0-or-later
// VirtualNetwork: the configuration side of IVMVirtualNetwork, what a .vnc
// holds: id, name, notes, the host adapter it bridges to ("" = guest-only,
// the state CreateVirtualNetwork leaves it in) and its DHCP settings. The
// switch that moves frames, its counters and the NIC list (which the
// inventory derives from the VMs) are not configuration.
//
// The host adapter (services/worker/virtual_networks.h makes it real):
//   ""             guest-only: the VMs on the network see each other only;
//   "NAT"          (NAT_HOST_ADAPTER) the network reaches the host's
//                  networks through NAT in vsad (libslirp), no privilege
//                  needed; its addresses come from the DHCP settings;
//   a Linux bridge ("br0"): the network is one more port of that bridge,
//                  through a TAP device vsad makes (needs CAP_NET_ADMIN).
// A host interface that happens to be called "NAT" cannot be chosen.
#pragma once

#include "services/model/dhcp_settings.h"
#include "services/model/guid.h"
#include "services/service_error.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace vsa::services {

// The host adapter name that means NAT rather than a host interface;
// IVMHostInfo.NetworkAdapters lists it first.
inline constexpr std::string_view NAT_HOST_ADAPTER = "NAT";

class VirtualNetwork {
public:
    VirtualNetwork(std::string name, std::filesystem::path file, Guid id);

    Guid const& id() const { return m_id; }
    std::string const& name() const { return m_name; }
    std::filesystem::path const& file() const { return m_file; }
    std::string const& notes() const { return m_notes; }
    std::string const& host_adapter() const { return m_host_adapter; }
    DhcpSettings const& dhcp() const { return m_dhcp; }
    DhcpSettings& dhcp() { return m_dhcp; }

    // Syntax only; the inventory checks uniqueness.
    ServiceResult<void> set_name(std::string name);
    ServiceResult<void> set_notes(std::string notes); // <= 40,000 characters
    // A host interface name (as IVMHostInfo lists them): at most 15 bytes,
    // no '/', whitespace or control characters (E_INVALIDARG); "" = none.
    // Whether it exists is the inventory's check (VM_E_ADAPTER_NOT_FOUND).
    ServiceResult<void> set_host_adapter(std::string adapter);
    void set_file(std::filesystem::path file) { m_file = std::move(file); }
    void set_id(Guid id) { m_id = id; }

    std::string const& preserved_xml() const { return m_preserved_xml; }
    void set_preserved_xml(std::string xml) { m_preserved_xml = std::move(xml); }

    bool same_configuration(VirtualNetwork const& other) const {
        return m_id == other.m_id && m_name == other.m_name && m_file == other.m_file &&
               m_notes == other.m_notes && m_host_adapter == other.m_host_adapter && m_dhcp == other.m_dhcp;
    }

private:
    Guid m_id;
    std::string m_name;
    std::filesystem::path m_file;
    std::string m_notes;
    std::string m_host_adapter;
    DhcpSettings m_dhcp;
    std::string m_preserved_xml;
};

} // namespace vsa::services
