// SPDX-License-Identifier: GPL-2.0-or-later
// The DHCP server on a switch port; see dhcp_endpoint.h.
#include "services/network/dhcp_endpoint.h"

#include <chrono>

namespace vsa::network {

DhcpEndpoint::DhcpEndpoint(DhcpServer::Config config, std::filesystem::path lease_file)
    : m_server(std::move(config), std::move(lease_file)) {}

void DhcpEndpoint::attached(Sender sender) {
    m_send = std::move(sender);
}

void DhcpEndpoint::deliver(std::span<std::uint8_t const> frame) {
    // Lease expiries are stored as Unix time (they outlive vsad).
    auto now = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    std::vector<std::vector<std::uint8_t>> replies;
    {
        std::lock_guard lock(m_mutex);
        replies = m_server.handle(frame, now);
    }
    for (auto const& reply : replies)
        if (m_send) m_send(reply);
}

void DhcpEndpoint::reconfigure(DhcpServer::Config config) {
    std::lock_guard lock(m_mutex);
    m_server.reconfigure(std::move(config));
}

std::vector<DhcpLease> DhcpEndpoint::leases() const {
    std::lock_guard lock(m_mutex);
    return m_server.leases();
}

std::vector<std::string> DhcpEndpoint::take_problems() {
    std::lock_guard lock(m_mutex);
    return m_server.take_problems();
}

} // namespace vsa::network
