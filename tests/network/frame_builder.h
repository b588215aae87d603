// SPDX-License-Identifier: GPL-2.0-or-later
// Frames a test "guest" sends (Ethernet, ARP, IPv4, UDP, ICMP echo) and
// the big-endian field access its checks use: one copy for the network
// tests (tests/network, tests/services/virtual_networks_test.cpp). The IPv4
// header checksum is the product's (services/network/ethernet.h);
// dhcp_server_test.cpp builds its frames independently on purpose.
#pragma once

#include "services/network/ethernet.h"

#include <cstdint>
#include <span>
#include <vector>

namespace vsa::network::test_frames {

using Bytes = std::vector<std::uint8_t>;

inline void put16(Bytes& b, std::uint16_t v) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v));
}
inline void put32(Bytes& b, std::uint32_t v) {
    put16(b, static_cast<std::uint16_t>(v >> 16));
    put16(b, static_cast<std::uint16_t>(v));
}
inline std::uint16_t get16(Bytes const& b, std::size_t at) {
    return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
inline std::uint32_t get32(Bytes const& b, std::size_t at) {
    return (std::uint32_t(get16(b, at)) << 16) | get16(b, at + 2);
}

// The 14-byte Ethernet header from src to dst.
inline Bytes ethernet(Mac dst, Mac src, std::uint16_t type) {
    Bytes f(dst.begin(), dst.end());
    f.insert(f.end(), src.begin(), src.end());
    put16(f, type);
    return f;
}

// A broadcast "who has target" from (src, from), unpadded (42 bytes).
inline Bytes arp_request(Mac src, std::uint32_t from, std::uint32_t target) {
    Bytes f = ethernet(BROADCAST_MAC, src, ETHERTYPE_ARP);
    put16(f, 1);      // Ethernet
    put16(f, 0x0800); // IPv4
    f.push_back(6);
    f.push_back(4);
    put16(f, 1); // request
    f.insert(f.end(), src.begin(), src.end());
    put32(f, from);
    f.insert(f.end(), 6, 0);
    put32(f, target);
    return f;
}

// The header fields a test may pick (each test keeps its own values).
struct Ipv4Fields {
    std::uint16_t id{0};
    std::uint16_t flags_fragment{0}; // 0x4000: DF
};

// IPv4 with `proto` and `payload` (the L4 header included), header checksum set.
inline Bytes ipv4(Mac dst, Mac src, std::uint32_t from, std::uint32_t to, std::uint8_t proto,
                  Bytes const& payload, Ipv4Fields fields = {}) {
    Bytes f = ethernet(dst, src, ETHERTYPE_IPV4);
    std::size_t ip = f.size();
    f.push_back(0x45);
    f.push_back(0);
    put16(f, static_cast<std::uint16_t>(20 + payload.size()));
    put16(f, fields.id);
    put16(f, fields.flags_fragment);
    f.push_back(64);
    f.push_back(proto);
    put16(f, 0);
    put32(f, from);
    put32(f, to);
    std::uint16_t sum = checksum_finish(checksum_add(std::span(f).subspan(ip, 20)));
    f[ip + 10] = static_cast<std::uint8_t>(sum >> 8);
    f[ip + 11] = static_cast<std::uint8_t>(sum);
    f.insert(f.end(), payload.begin(), payload.end());
    return f;
}

// UDP without a checksum (allowed over IPv4).
inline Bytes udp(Mac dst, Mac src, std::uint32_t from, std::uint32_t to, std::uint16_t sport,
                 std::uint16_t dport, Bytes const& data, Ipv4Fields fields = {}) {
    Bytes u;
    put16(u, sport);
    put16(u, dport);
    put16(u, static_cast<std::uint16_t>(8 + data.size()));
    put16(u, 0);
    u.insert(u.end(), data.begin(), data.end());
    return ipv4(dst, src, from, to, 17, u, fields);
}

// An ICMP echo request (the L4 part) with 32 bytes 0, 1, ... 31 of data.
inline Bytes icmp_echo_request(std::uint16_t id, std::uint16_t sequence) {
    Bytes i{8, 0, 0, 0};
    put16(i, id);
    put16(i, sequence);
    for (int k = 0; k < 32; ++k)
        i.push_back(static_cast<std::uint8_t>(k));
    std::uint16_t sum = checksum_finish(checksum_add(i));
    i[2] = static_cast<std::uint8_t>(sum >> 8);
    i[3] = static_cast<std::uint8_t>(sum);
    return i;
}

} // namespace vsa::network::test_frames
