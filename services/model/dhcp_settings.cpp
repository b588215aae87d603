// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/dhcp_settings.h"

#include <charconv>
#include <vector>

namespace vsa::services {

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
    std::uint32_t address = 0;
    for (int part = 0; part < 4; ++part) {
        auto dot = text.find('.');
        auto piece = part < 3 ? text.substr(0, dot) : text;
        if (part < 3 && dot == std::string_view::npos) return std::nullopt;
        if (piece.empty() || piece.size() > 3 || (piece.size() > 1 && piece[0] == '0')) return std::nullopt;
        unsigned value = 0;
        auto [end, error] = std::from_chars(piece.data(), piece.data() + piece.size(), value);
        if (error != std::errc() || end != piece.data() + piece.size() || value > 255) return std::nullopt;
        address = (address << 8) | value;
        if (part < 3) text.remove_prefix(dot + 1);
    }
    return address;
}

std::string format_ipv4(std::uint32_t address) {
    return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 255) + "." +
           std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
}

namespace {

ServiceResult<std::uint32_t> address(std::string_view text, char const* what) {
    auto parsed = parse_ipv4(text);
    if (!parsed)
        return service_error(hr::VM_E_INVALID_IP_ADDRESS, std::string(what) + " \"" +
                                                              std::string(text.substr(0, 40)) +
                                                              "\" is not a dotted IPv4 address");
    return *parsed;
}

ServiceResult<std::string> address_list(std::string_view list, char const* what) {
    std::string normalized;
    std::size_t count = 0;
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = list.substr(0, comma);
        while (!item.empty() && item.front() == ' ')
            item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ')
            item.remove_suffix(1);
        auto parsed = TRY(address(item, what));
        if (++count > 8) return service_error(hr::E_INVALIDARG, std::string("at most 8 ") + what + "s");
        if (!normalized.empty()) normalized += ',';
        normalized += format_ipv4(parsed);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
        if (list.empty()) return service_error(hr::VM_E_INVALID_IP_ADDRESS, std::string("empty ") + what);
    }
    return normalized;
}

} // namespace

DhcpSettings::DhcpSettings()
    : m_network("10.237.0.0"), m_mask("255.255.0.0"), m_start("10.237.0.16"), m_end("10.237.255.254"),
      m_server("10.237.0.1") {}

ServiceResult<void> DhcpSettings::configure(std::string_view network_text, std::string_view mask_text,
                                            std::string_view start_text, std::string_view end_text,
                                            std::string_view server_text) {
    auto network = TRY(address(network_text, "network"));
    auto mask = TRY(address(mask_text, "network mask"));
    auto start = TRY(address(start_text, "starting address"));
    auto end = TRY(address(end_text, "ending address"));
    auto server = TRY(address(server_text, "server address"));

    auto first_octet = network >> 24;
    std::uint32_t class_mask = 0;
    if (first_octet >= 1 && first_octet <= 126)
        class_mask = 0xFF00'0000u;
    else if (first_octet >= 128 && first_octet <= 191)
        class_mask = 0xFFFF'0000u;
    else if (first_octet >= 192 && first_octet <= 223)
        class_mask = 0xFFFF'FF00u;
    else
        return service_error(hr::VM_E_INVALID_NETWORK_ADDRESS,
                             format_ipv4(network) + " is not a class A, B or C network");
    // Contiguous, at least the class's length, and leaving room for the 15
    // reserved addresses plus a pool.
    bool contiguous = ((~mask + 1) & ~mask) == 0;
    if (!contiguous || (mask & class_mask) != class_mask || mask > 0xFFFF'FFE0u)
        return service_error(hr::VM_E_INVALID_NETWORK_MASK, format_ipv4(mask) + " does not fit network " +
                                                                format_ipv4(network) +
                                                                " (contiguous, at least the class mask, at "
                                                                "most /27)");
    if ((network & ~mask) != 0)
        return service_error(hr::VM_E_INVALID_NETWORK_ADDRESS,
                             format_ipv4(network) + " has host bits set under mask " + format_ipv4(mask));
    auto broadcast = network | ~mask;
    if ((start & mask) != network || start < network + 16)
        return service_error(hr::VM_E_INVALID_STARTING_ADDRESS,
                             format_ipv4(start) + " must lie in the network from its 16th address (" +
                                 format_ipv4(network + 16) + ")");
    if ((end & mask) != network || end >= broadcast)
        return service_error(hr::VM_E_INVALID_ENDING_ADDRESS,
                             format_ipv4(end) + " must lie in the network below its broadcast address");
    if (start >= end)
        return service_error(hr::VM_E_INVALID_ADDRESS_RANGE, "the pool start " + format_ipv4(start) +
                                                                 " is not below its end " + format_ipv4(end));
    if ((server & mask) != network || server == network || server >= start)
        return service_error(hr::VM_E_INVALID_IP_ADDRESS, "the server address " + format_ipv4(server) +
                                                              " must lie in the network below the pool");
    m_network = format_ipv4(network);
    m_mask = format_ipv4(mask);
    m_start = format_ipv4(start);
    m_end = format_ipv4(end);
    m_server = format_ipv4(server);
    return {};
}

ServiceResult<void> DhcpSettings::set_default_gateway_address(std::string_view text) {
    if (text.empty()) {
        m_gateway.clear();
        return {};
    }
    auto gateway = TRY(address(text, "gateway"));
    // The clients reach their gateway directly: it must be on their network
    // (and be neither the network nor the broadcast address).
    auto network = parse_ipv4(m_network).value_or(0);
    auto mask = parse_ipv4(m_mask).value_or(0);
    if ((gateway & mask) != network || gateway == network || gateway == (network | ~mask))
        return service_error(hr::VM_E_INVALID_IP_ADDRESS, format_ipv4(gateway) +
                                                              " is not a host address of network " +
                                                              m_network + "/" + m_mask);
    m_gateway = format_ipv4(gateway);
    return {};
}

ServiceResult<void> DhcpSettings::set_dns_servers(std::string_view list) {
    m_dns = TRY(address_list(list, "DNS server"));
    return {};
}

ServiceResult<void> DhcpSettings::set_wins_servers(std::string_view list) {
    m_wins = TRY(address_list(list, "WINS server"));
    return {};
}

ServiceResult<void> DhcpSettings::configure_lease_times(std::int64_t lease, std::int64_t renewal,
                                                        std::int64_t rebinding) {
    constexpr std::int64_t MAX = 0xFFFF'FFFF;
    if (lease < 60 || renewal < 30 || rebinding < 45 || lease > MAX || renewal >= rebinding ||
        rebinding >= lease)
        return service_error(hr::E_INVALIDARG, "lease times must satisfy 30 <= renewal < rebinding < lease, "
                                               "rebinding >= 45, 60 <= lease <= 4294967295");
    m_lease = static_cast<std::uint32_t>(lease);
    m_renewal = static_cast<std::uint32_t>(renewal);
    m_rebinding = static_cast<std::uint32_t>(rebinding);
    return {};
}

} // namespace vsa::services
