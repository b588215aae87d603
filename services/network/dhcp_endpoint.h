// SPDX-License-Identifier: GPL-2.0-or-later
// DhcpEndpoint: a network's DHCP server (dhcp_server.h) on a switch port.
// The switch thread hands it every frame it floods or addresses to the
// server's MAC; its answers (OFFER/ACK/NAK, ARP and ping replies for the
// server's address) go back into the switch. The lease table is read by
// the management API from other threads, hence the lock.
#pragma once

#include "services/network/dhcp_server.h"
#include "services/network/virtual_switch.h"

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace vsa::network {

class DhcpEndpoint final : public Endpoint {
public:
    DhcpEndpoint(DhcpServer::Config config, std::filesystem::path lease_file);

    void attached(Sender sender) override;
    void deliver(std::span<std::uint8_t const> frame) override;

    void reconfigure(DhcpServer::Config config);
    std::vector<DhcpLease> leases() const;
    std::vector<std::string> take_problems();

private:
    mutable std::mutex m_mutex;
    DhcpServer m_server;
    Sender m_send;
};

} // namespace vsa::network
