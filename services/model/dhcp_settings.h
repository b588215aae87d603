// SPDX-License-Identifier: GPL-2.0-or-later
// DhcpSettings: the configuration of a virtual network's built-in DHCP
// server (IVMDHCPVirtualNetworkServer), with the checks of
// ConfigureDHCPServer and ConfigureDHCPLeaseTimes. The server itself (the
// part that answers guests) belongs to the virtual switch, a later part.
//
// Defaults: disabled, 10.237.0.0/16 with the pool from the 16th address
// (the first 15 are reserved, vs-api.md), server at .1, leases of a day.
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vsa::services {

// "a.b.c.d" -> host-order address; nullopt for anything else (no leading
// zeros beyond "0", no spaces, four parts).
std::optional<std::uint32_t> parse_ipv4(std::string_view text);
std::string format_ipv4(std::uint32_t address);

class DhcpSettings {
public:
    DhcpSettings();

    bool is_enabled() const { return m_enabled; }
    std::string const& network() const { return m_network; }
    std::string const& network_mask() const { return m_mask; }
    std::string const& starting_ip_address() const { return m_start; }
    std::string const& ending_ip_address() const { return m_end; }
    std::string const& server_ip_address() const { return m_server; }
    std::string const& default_gateway_address() const { return m_gateway; }
    std::string const& dns_servers() const { return m_dns; }
    std::string const& wins_servers() const { return m_wins; }
    std::uint32_t lease_time() const { return m_lease; }
    std::uint32_t lease_renewal_time() const { return m_renewal; }
    std::uint32_t lease_rebinding_time() const { return m_rebinding; }

    void set_enabled(bool enabled) { m_enabled = enabled; }
    // VM_E_INVALID_IP_ADDRESS, VM_E_INVALID_NETWORK_ADDRESS (not class A, B
    // or C, or host bits set), VM_E_INVALID_NETWORK_MASK (not contiguous, or
    // shorter than the class's), VM_E_INVALID_STARTING_ADDRESS (outside the
    // network or among the 15 reserved), VM_E_INVALID_ENDING_ADDRESS (outside
    // the network or the broadcast address), VM_E_INVALID_ADDRESS_RANGE
    // (start not below end); the server address must lie in the network
    // below the pool (VM_E_INVALID_IP_ADDRESS).
    ServiceResult<void> configure(std::string_view network, std::string_view mask, std::string_view start,
                                  std::string_view end, std::string_view server);
    // "" removes the gateway; otherwise an address in the network.
    ServiceResult<void> set_default_gateway_address(std::string_view address);
    // Comma-separated addresses, at most 8; "" clears.
    ServiceResult<void> set_dns_servers(std::string_view list);
    ServiceResult<void> set_wins_servers(std::string_view list);
    // Seconds: lease >= 60, renewal >= 30, rebinding >= 45, renewal <
    // rebinding < lease (E_INVALIDARG).
    ServiceResult<void> configure_lease_times(std::int64_t lease, std::int64_t renewal,
                                              std::int64_t rebinding);

    friend bool operator==(DhcpSettings const&, DhcpSettings const&) = default;

private:
    bool m_enabled{false};
    std::string m_network;
    std::string m_mask;
    std::string m_start;
    std::string m_end;
    std::string m_server;
    std::string m_gateway;
    std::string m_dns;
    std::string m_wins;
    std::uint32_t m_lease{86'400};
    std::uint32_t m_renewal{43'200};
    std::uint32_t m_rebinding{75'600};
};

} // namespace vsa::services
