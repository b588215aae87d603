// SPDX-License-Identifier: GPL-2.0-or-later
// The per-network DHCP server of Virtual Server (IVMDHCPVirtualNetworkServer):
// an endpoint on a port of the virtual switch that speaks in whole Ethernet
// frames. It answers
//   - DHCP (RFC 2131, options of RFC 2132): DISCOVER, REQUEST in all four
//     states, DECLINE, RELEASE, INFORM;
//   - ARP requests for its own address (a guest renewing by unicast, as
//     busybox udhcpc does, needs the server's MAC);
//   - ICMP echo requests to its own address (`ping <server>` from a guest).
// Anything else gets no reply.
//
// Deliberately left out: relay agents (giaddr != 0 is dropped, a virtual
// switch has no routers), BOOTP clients (no option 53), hardware types other
// than Ethernet, IP fragments, and the ARP/ICMP probe of an address before it
// is offered (RFC 2131 4.4.1 says SHOULD): every guest on the network gets its
// address from this server, and a guest with a static address inside the pool
// declines it (DHCPDECLINE), which marks the address bad for a while.
//
// Clock: `now_seconds` is whatever the caller uses, but lease expiries are
// stored in the lease file as absolute values, so it must survive restarts
// (Unix time). Not thread-safe: the switch calls it from one thread.
#pragma once

#include "services/network/ethernet.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vsa::network {

struct DhcpLease {
    enum class State : std::uint8_t {
        Offered,  // held for one client between OFFER and REQUEST
        Bound,    // ACKed; after `expires` free for anyone, but still the client's first choice
        Declined, // a client found the address in use (DHCPDECLINE); no client
    };
    std::uint32_t address{};
    Mac mac{};
    std::vector<std::uint8_t> client_id; // option 61; empty when the client sent none
    std::uint64_t expires{};             // same clock as DhcpServer::handle's now_seconds
    State state{State::Bound};

    friend bool operator==(DhcpLease const&, DhcpLease const&) = default;
};

class DhcpServer {
public:
    // Records kept at most by default (offers, leases, declined addresses):
    // a guest inventing client MACs cannot make the server grow without bound.
    static constexpr std::size_t MAX_RECORDS = 65'536;

    // Addresses in host byte order (the caller converts from DhcpSettings).
    struct Config {
        Mac server_mac{};
        std::uint32_t server_ip{};
        std::uint32_t network{};
        std::uint32_t mask{};
        std::uint32_t pool_start{};
        std::uint32_t pool_end{};
        std::optional<std::uint32_t> gateway;
        std::vector<std::uint32_t> dns;  // option 6
        std::vector<std::uint32_t> wins; // option 44
        std::uint32_t lease_seconds{86'400};
        std::uint32_t renewal_seconds{43'200};   // T1, option 58
        std::uint32_t rebinding_seconds{75'600}; // T2, option 59
        std::string domain_name;                 // option 15 when not empty
        std::size_t max_records{MAX_RECORDS};
    };

    // An offer holds its address for this long (two clients discovering at
    // once must not be offered the same address).
    static constexpr std::uint64_t OFFER_HOLD_SECONDS = 60;
    // A declined address is not offered again for this long.
    static constexpr std::uint64_t DECLINE_HOLD_SECONDS = 600;

    // Loads `lease_file` if it exists (an empty path: leases live in memory
    // only). Problems with it are reported through take_problems().
    DhcpServer(Config config, std::filesystem::path lease_file);

    // Replies to one frame from the switch, possibly none.
    std::vector<std::vector<std::uint8_t>> handle(std::span<std::uint8_t const> frame,
                                                  std::uint64_t now_seconds);

    // Every record, ordered by address, expired ones included (a client's
    // expired lease is still its first choice until someone else gets it).
    std::vector<DhcpLease> leases() const;

    // New settings; records whose address is no longer allocatable go.
    void reconfigure(Config config);
    Config const& config() const { return m_config; }

    // Problems since the last call (damaged lease file lines, failed
    // writes), for the caller's log. At most MAX_PROBLEMS are kept.
    std::vector<std::string> take_problems();
    static constexpr std::size_t MAX_PROBLEMS = 64;

    // Whether `address` may be handed out under the current configuration:
    // inside the pool and the network, not among the 15 reserved addresses,
    // not the network, broadcast, server, gateway, DNS or WINS address.
    bool allocatable(std::uint32_t address) const;

private:
    struct Client;
    struct Request;

    std::vector<std::vector<std::uint8_t>> handle_ipv4(std::span<std::uint8_t const> frame,
                                                       std::uint64_t now);
    std::vector<std::uint8_t> handle_arp(std::span<std::uint8_t const> frame) const;
    std::vector<std::uint8_t> handle_icmp(std::span<std::uint8_t const> frame, std::size_t ip_offset,
                                          std::size_t ihl, std::size_t ip_total);
    std::vector<std::vector<std::uint8_t>> handle_dhcp(std::span<std::uint8_t const> message,
                                                       std::uint64_t now);

    std::vector<std::uint8_t> on_discover(Request const& request, std::uint64_t now);
    std::vector<std::uint8_t> on_request(Request const& request, std::uint64_t now);
    void on_decline(Request const& request, std::uint64_t now);
    void on_release(Request const& request, std::uint64_t now);
    std::vector<std::uint8_t> on_inform(Request const& request);

    std::optional<std::uint32_t> choose_address(Request const& request, std::uint64_t now) const;
    bool free_for(std::uint32_t address, Request const& request, std::uint64_t now) const;
    void bind(Request const& request, std::uint32_t address, std::uint64_t now);

    enum class Reply : std::uint8_t { Offer, Ack, Nak, InformAck };
    std::vector<std::uint8_t> reply(Request const& request, Reply kind, std::uint32_t yiaddr);

    void load();
    void save();
    void problem(std::string text);
    std::uint16_t next_ip_id() { return m_ip_id++; }

    Config m_config;
    std::filesystem::path m_lease_file;
    std::map<std::uint32_t, DhcpLease> m_records; // by address
    std::vector<std::string> m_problems;
    std::size_t m_problems_dropped{0};
    std::uint16_t m_ip_id{1};
};

// Lease file lines, one record each (exposed for the tests):
//   lease <a.b.c.d> <mac> <client id in hex, or -> <expiry>
//   declined <a.b.c.d> <expiry>
// plus '#' comments and blank lines. Offers are not stored.
std::string format_lease_line(DhcpLease const& lease);
// nullopt with `error` set for a line that is not a record.
std::optional<DhcpLease> parse_lease_line(std::string_view line, std::string& error);

std::string format_ipv4_address(std::uint32_t address);

} // namespace vsa::network
