// SPDX-License-Identifier: GPL-2.0-or-later
// Ethernet II frames as the virtual networks move them: what the switch
// (virtual_switch.h) and the endpoints that live on it (the DHCP server,
// NAT) share. A frame is the bytes from the destination MAC to the end of
// the payload, without preamble or FCS, as a NIC model hands it over
// (hw/dec21140.h) and as one datagram on a worker's network socket.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace vsa::network {

using Mac = std::array<std::uint8_t, 6>;

constexpr std::size_t ETH_HEADER = 14;
// Ethernet's 1500-byte MTU plus the header; a frame above MAX_FRAME (room
// for an 802.1Q tag) is dropped at the switch port and counted.
constexpr std::size_t MAX_FRAME = ETH_HEADER + 1500 + 4;
constexpr std::size_t MIN_FRAME = ETH_HEADER;

constexpr std::uint16_t ETHERTYPE_IPV4 = 0x0800;
constexpr std::uint16_t ETHERTYPE_ARP = 0x0806;

constexpr Mac BROADCAST_MAC{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

inline Mac destination_mac(std::span<std::uint8_t const> frame) {
    Mac m{};
    for (std::size_t i = 0; i < 6 && i < frame.size(); ++i)
        m[i] = frame[i];
    return m;
}
inline Mac source_mac(std::span<std::uint8_t const> frame) {
    Mac m{};
    for (std::size_t i = 0; i < 6 && 6 + i < frame.size(); ++i)
        m[i] = frame[6 + i];
    return m;
}
// Group addresses (broadcast included) have the I/G bit set.
inline bool is_multicast(Mac const& m) {
    return (m[0] & 1) != 0;
}
inline std::uint16_t ethertype(std::span<std::uint8_t const> frame) {
    return frame.size() < ETH_HEADER ? 0 : static_cast<std::uint16_t>((frame[12] << 8) | frame[13]);
}

// "00:03:ff:12:34:56"
std::string format_mac(Mac const& m);

// The Internet checksum (RFC 1071) of `data`, folded, not complemented,
// continuing from `sum` (for pseudo-headers).
std::uint32_t checksum_add(std::span<std::uint8_t const> data, std::uint32_t sum = 0);
std::uint16_t checksum_finish(std::uint32_t sum);

} // namespace vsa::network
