// SPDX-License-Identifier: GPL-2.0-or-later
// MacAddress: the Ethernet address of a virtual NIC.
//
// Clients see it as "XX-XX-XX-XX-XX-XX" (IVMNetworkAdapter.EthernetAddress);
// a .vmc stores it as 12 hex digits of type "bytes". Dynamic addresses are
// drawn, as Virtual Server drew them, in Microsoft's OUI 00-03-FF with three
// random bytes; the inventory redraws one that collides with another NIC.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services {

class MacAddress {
public:
    static constexpr std::array<std::uint8_t, 3> MICROSOFT_OUI{0x00, 0x03, 0xFF};

    MacAddress() = default;
    explicit MacAddress(std::array<std::uint8_t, 6> bytes) : m_bytes(bytes) {}

    // "00-03-FF-1A-2B-3C" (':' also accepted, any case); nullopt otherwise.
    static std::optional<MacAddress> parse(std::string_view text);
    static std::optional<MacAddress> from_bytes(std::vector<std::uint8_t> const& bytes);
    // 00-03-FF and three bytes from `random`.
    static MacAddress generate_dynamic(std::mt19937_64& random);

    std::string to_string() const; // upper-case, '-' separated
    std::vector<std::uint8_t> bytes() const { return {m_bytes.begin(), m_bytes.end()}; }
    std::array<std::uint8_t, 6> const& octets() const { return m_bytes; }

    bool is_zero() const;
    bool is_multicast() const { return (m_bytes[0] & 1) != 0; } // includes broadcast
    // What a NIC may use: not zero ("00-00-00-00-00-00 is invalid"), not a
    // group address.
    bool is_assignable() const { return !is_zero() && !is_multicast(); }

    friend bool operator==(MacAddress const&, MacAddress const&) = default;

private:
    std::array<std::uint8_t, 6> m_bytes{};
};

} // namespace vsa::services
