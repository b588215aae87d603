// SPDX-License-Identifier: GPL-2.0-or-later
// The virtual network's DHCP server, driven with frames built byte by byte
// here (not with the server's own code) and replies decoded here too, with
// the checksums recomputed independently.
#include "services/network/dhcp_server.h"

#include <boost/test/unit_test.hpp>

#include <chrono>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <unistd.h>

using namespace vsa::network;
using Bytes = std::vector<std::uint8_t>;

namespace {

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
}

constexpr Mac SERVER_MAC{0x02, 0x56, 0x53, 0x41, 0x00, 0x01};
constexpr Mac CLIENT_A{0x00, 0x03, 0xFF, 0x00, 0x00, 0xA1};
constexpr Mac CLIENT_B{0x00, 0x03, 0xFF, 0x00, 0x00, 0xB2};
constexpr Mac CLIENT_C{0x00, 0x03, 0xFF, 0x00, 0x00, 0xC3};
constexpr std::uint32_t SERVER = ip(192, 168, 131, 1);
constexpr std::uint64_t T0 = 1'700'000'000;

DhcpServer::Config test_config() {
    DhcpServer::Config c;
    c.server_mac = SERVER_MAC;
    c.server_ip = SERVER;
    c.network = ip(192, 168, 131, 0);
    c.mask = ip(255, 255, 255, 0);
    c.pool_start = ip(192, 168, 131, 16);
    c.pool_end = ip(192, 168, 131, 40);
    c.gateway = ip(192, 168, 131, 16); // inside the pool: must never be handed out
    c.dns = {ip(192, 168, 131, 3), ip(192, 168, 131, 4)};
    c.wins = {ip(192, 168, 131, 5)};
    c.lease_seconds = 3600;
    c.renewal_seconds = 1800;
    c.rebinding_seconds = 3150;
    c.domain_name = "vsa.test";
    return c;
}

// Independent RFC 1071 sum, complemented.
std::uint16_t inet_sum(Bytes const& d, std::size_t from, std::size_t len, std::uint32_t sum = 0) {
    for (std::size_t i = 0; i < len; i += 2)
        sum += (std::uint32_t{d[from + i]} << 8) | (i + 1 < len ? d[from + i + 1] : 0u);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

void w16(Bytes& b, std::size_t at, unsigned v) {
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}
void w32(Bytes& b, std::size_t at, std::uint32_t v) {
    w16(b, at, v >> 16);
    w16(b, at + 2, v & 0xFFFF);
}
unsigned r16(Bytes const& b, std::size_t at) {
    return (unsigned{b[at]} << 8) | b[at + 1];
}
std::uint32_t r32(Bytes const& b, std::size_t at) {
    return (std::uint32_t{r16(b, at)} << 16) | r16(b, at + 2);
}
Mac mac_at(Bytes const& b, std::size_t at) {
    return Mac{b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5]};
}
Bytes ip_bytes(std::uint32_t a) {
    return {std::uint8_t(a >> 24), std::uint8_t(a >> 16), std::uint8_t(a >> 8), std::uint8_t(a)};
}

// Recomputes the IPv4 header and UDP checksums of a frame (the fuzz loop
// uses it so that mutated frames get past the checksum checks).
void fix_checksums(Bytes& f) {
    if (f.size() < 34) return;
    std::size_t const ihl = (f[14] & 15u) * 4;
    if (ihl < 20 || 14 + ihl > f.size()) return;
    w16(f, 24, 0);
    w16(f, 24, inet_sum(f, 14, ihl));
    std::size_t const total = r16(f, 16);
    if (f[23] != 17 || total < ihl + 8 || 14 + total > f.size()) return;
    std::size_t const udp = 14 + ihl;
    std::size_t const udp_len = r16(f, udp + 4);
    if (udp_len < 8 || udp + udp_len > f.size()) return;
    w16(f, udp + 6, 0);
    Bytes pseudo(12, 0);
    std::copy(f.begin() + 26, f.begin() + 34, pseudo.begin());
    pseudo[9] = 17;
    w16(pseudo, 10, static_cast<unsigned>(udp_len));
    std::uint32_t s = static_cast<std::uint16_t>(~inet_sum(pseudo, 0, 12));
    w16(f, udp + 6, inet_sum(f, udp, udp_len, s));
}

// An Ethernet + IPv4 frame around `payload`.
Bytes ipv4_frame(Mac dst, Mac src, std::uint8_t proto, std::uint32_t sip, std::uint32_t dip,
                 Bytes const& payload) {
    Bytes f(14 + 20, 0);
    std::copy(dst.begin(), dst.end(), f.begin());
    std::copy(src.begin(), src.end(), f.begin() + 6);
    w16(f, 12, 0x0800);
    f[14] = 0x45;
    w16(f, 16, static_cast<unsigned>(20 + payload.size()));
    f[22] = 64;
    f[23] = proto;
    w32(f, 26, sip);
    w32(f, 30, dip);
    f.insert(f.end(), payload.begin(), payload.end());
    fix_checksums(f);
    return f;
}

// A client's DHCP message.
struct Msg {
    std::uint8_t type{1};
    Mac chaddr{CLIENT_A};
    std::uint32_t xid{0x1234'5678};
    std::uint16_t flags{0};
    std::uint32_t ciaddr{0};
    std::vector<std::pair<std::uint8_t, Bytes>> options; // after 53
    Mac eth_dst{BROADCAST_MAC};
    std::uint32_t ip_src{0};
    std::uint32_t ip_dst{0xFFFF'FFFF};
};

Bytes dhcp_payload(Msg const& m) {
    Bytes d(240, 0);
    d[0] = 1;
    d[1] = 1;
    d[2] = 6;
    w32(d, 4, m.xid);
    w16(d, 10, m.flags);
    w32(d, 12, m.ciaddr);
    std::copy(m.chaddr.begin(), m.chaddr.end(), d.begin() + 28);
    w32(d, 236, 0x6382'5363);
    d.insert(d.end(), {53, 1, m.type});
    for (auto const& [code, value] : m.options) {
        d.push_back(code);
        d.push_back(static_cast<std::uint8_t>(value.size()));
        d.insert(d.end(), value.begin(), value.end());
    }
    d.push_back(255);
    // The UDP header goes in front of the payload (sized up front: GCC 12's
    // -Warray-bounds misreads an insert into an 8-byte vector at -O2).
    Bytes udp(8 + d.size(), 0);
    w16(udp, 0, 68);
    w16(udp, 2, 67);
    w16(udp, 4, static_cast<unsigned>(udp.size()));
    std::copy(d.begin(), d.end(), udp.begin() + 8);
    return udp;
}

Bytes dhcp_frame(Msg const& m) {
    return ipv4_frame(m.eth_dst, m.chaddr, 17, m.ip_src, m.ip_dst, dhcp_payload(m));
}

// A decoded reply; the checks that every reply must pass are done here.
struct Reply {
    Mac eth_dst{};
    std::uint32_t ip_src{}, ip_dst{};
    std::uint32_t xid{}, ciaddr{}, yiaddr{};
    std::uint16_t flags{};
    Mac chaddr{};
    std::map<std::uint8_t, Bytes> opts;
    std::uint8_t type() const { return opts.count(53) ? opts.at(53).at(0) : 0; }
    std::uint32_t opt32(std::uint8_t c) const { return r32(opts.at(c), 0); }
};

Reply decode(Bytes const& f) {
    Reply r;
    BOOST_REQUIRE_GE(f.size(), 14u + 20 + 8 + 240);
    std::copy_n(f.begin(), 6, r.eth_dst.begin());
    BOOST_TEST(mac_at(f, 6) == SERVER_MAC);
    BOOST_TEST(r16(f, 12) == 0x0800u);
    BOOST_TEST(f[14] == 0x45);
    std::size_t const total = r16(f, 16);
    BOOST_REQUIRE_LE(14 + total, f.size());
    BOOST_TEST(inet_sum(f, 14, 20) == 0); // header checksum valid
    BOOST_TEST(f[23] == 17);
    r.ip_src = r32(f, 26);
    r.ip_dst = r32(f, 30);
    BOOST_TEST(r16(f, 34) == 67u);
    BOOST_TEST(r16(f, 36) == 68u);
    std::size_t const udp_len = r16(f, 38);
    BOOST_REQUIRE_EQUAL(udp_len, total - 20);
    BOOST_TEST(r16(f, 40) != 0u); // we always send a UDP checksum
    Bytes pseudo(12, 0);
    std::copy(f.begin() + 26, f.begin() + 34, pseudo.begin());
    pseudo[9] = 17;
    w16(pseudo, 10, static_cast<unsigned>(udp_len));
    std::uint32_t s = static_cast<std::uint16_t>(~inet_sum(pseudo, 0, 12));
    BOOST_TEST(inet_sum(f, 34, udp_len, s) == 0); // UDP checksum valid
    BOOST_REQUIRE_LE(total, 576u);
    std::size_t const d = 42;
    BOOST_TEST(f[d] == 2); // BOOTREPLY
    r.xid = r32(f, d + 4);
    r.flags = static_cast<std::uint16_t>(r16(f, d + 10));
    r.ciaddr = r32(f, d + 12);
    r.yiaddr = r32(f, d + 16);
    std::copy_n(f.begin() + d + 28, 6, r.chaddr.begin());
    BOOST_TEST(r32(f, d + 236) == 0x6382'5363u);
    std::size_t i = d + 240;
    std::size_t const end = 34 + udp_len;
    bool ended = false;
    while (i < end) {
        if (f[i] == 0) {
            ++i;
            continue;
        }
        if (f[i] == 255) {
            ended = true;
            break;
        }
        BOOST_REQUIRE_LE(i + 2 + f[i + 1], end);
        r.opts[f[i]] = Bytes(f.begin() + i + 2, f.begin() + i + 2 + f[i + 1]);
        i += 2 + f[i + 1];
    }
    BOOST_TEST(ended);
    return r;
}

Bytes client_id(Mac m) {
    Bytes id(1 + m.size(), 1); // type 1 (Ethernet), then the address
    std::copy(m.begin(), m.end(), id.begin() + 1);
    return id;
}

// The reply to `m`, which must be exactly one frame.
Reply ask(DhcpServer& s, Msg const& m, std::uint64_t now) {
    auto out = s.handle(dhcp_frame(m), now);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    return decode(out[0]);
}

// DISCOVER + REQUEST: the address bound.
std::uint32_t obtain(DhcpServer& s, Mac mac, std::uint64_t now) {
    Msg d;
    d.chaddr = mac;
    Reply offer = ask(s, d, now);
    BOOST_REQUIRE_EQUAL(offer.type(), 2);
    Msg r;
    r.type = 3;
    r.chaddr = mac;
    r.options = {{50, ip_bytes(offer.yiaddr)}, {54, ip_bytes(SERVER)}};
    Reply ack = ask(s, r, now);
    BOOST_REQUIRE_EQUAL(ack.type(), 5);
    BOOST_REQUIRE_EQUAL(ack.yiaddr, offer.yiaddr);
    return ack.yiaddr;
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char name[] = "/tmp/vsa-dhcp-test-XXXXXX";
        path = ::mkdtemp(name);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(dhcp_server)

BOOST_AUTO_TEST_CASE(discover_gets_an_offer_with_every_option) {
    DhcpServer s(test_config(), {});
    Msg d;
    d.options = {{61, client_id(CLIENT_A)}, {55, {1, 3, 6, 15, 44, 51, 58, 59}}};
    Reply o = ask(s, d, T0);
    BOOST_TEST(o.type() == 2);
    BOOST_TEST(o.xid == 0x1234'5678u);
    BOOST_TEST(o.chaddr == CLIENT_A);
    // .16 is the gateway: the lowest free address is .17.
    BOOST_TEST(o.yiaddr == ip(192, 168, 131, 17));
    BOOST_TEST(o.ciaddr == 0u);
    // No broadcast flag: unicast to yiaddr at chaddr (RFC 2131 4.1).
    BOOST_TEST(o.eth_dst == CLIENT_A);
    BOOST_TEST(o.ip_dst == o.yiaddr);
    BOOST_TEST(o.ip_src == SERVER);
    BOOST_TEST(o.opt32(54) == SERVER);
    BOOST_TEST(o.opt32(51) == 3600u);
    BOOST_TEST(o.opt32(58) == 1800u);
    BOOST_TEST(o.opt32(59) == 3150u);
    BOOST_TEST(o.opt32(1) == ip(255, 255, 255, 0));
    BOOST_TEST(o.opt32(3) == ip(192, 168, 131, 16));
    BOOST_TEST(o.opts.at(6) == (Bytes{192, 168, 131, 3, 192, 168, 131, 4}));
    BOOST_TEST(o.opts.at(44) == (Bytes{192, 168, 131, 5}));
    BOOST_TEST(std::string(o.opts.at(15).begin(), o.opts.at(15).end()) == "vsa.test");
    BOOST_TEST(o.opts.at(61) == client_id(CLIENT_A));
    // Held as an offer.
    auto l = s.leases();
    BOOST_REQUIRE_EQUAL(l.size(), 1u);
    BOOST_TEST((l[0].state == DhcpLease::State::Offered));
    BOOST_TEST(l[0].expires == T0 + DhcpServer::OFFER_HOLD_SECONDS);
    BOOST_TEST(l[0].client_id == client_id(CLIENT_A));
}

BOOST_AUTO_TEST_CASE(broadcast_flag_and_parameter_list) {
    DhcpServer s(test_config(), {});
    Msg d;
    d.flags = 0x8000;
    d.options = {{55, {1, 51}}};
    Reply o = ask(s, d, T0);
    BOOST_TEST(o.eth_dst == BROADCAST_MAC);
    BOOST_TEST(o.ip_dst == 0xFFFF'FFFFu);
    BOOST_TEST(o.flags == 0x8000u);
    BOOST_TEST(o.opts.count(1) == 1u);
    BOOST_TEST(o.opts.count(51) == 1u);
    BOOST_TEST(o.opts.count(3) == 0u);
    BOOST_TEST(o.opts.count(6) == 0u);
    BOOST_TEST(o.opts.count(15) == 0u);
    BOOST_TEST(o.opts.count(44) == 0u);
    BOOST_TEST(o.opts.count(61) == 0u); // none sent, none echoed
}

BOOST_AUTO_TEST_CASE(request_ack_and_second_client) {
    DhcpServer s(test_config(), {});
    std::uint32_t a = obtain(s, CLIENT_A, T0);
    BOOST_TEST(a == ip(192, 168, 131, 17));
    auto l = s.leases();
    BOOST_REQUIRE_EQUAL(l.size(), 1u);
    BOOST_TEST((l[0].state == DhcpLease::State::Bound));
    BOOST_TEST(l[0].mac == CLIENT_A);
    BOOST_TEST(l[0].expires == T0 + 3600);
    std::uint32_t b = obtain(s, CLIENT_B, T0);
    BOOST_TEST(b == ip(192, 168, 131, 18));
    // Two DISCOVERs at once: the offers differ.
    Msg c;
    c.chaddr = CLIENT_C;
    Msg c2 = c;
    c2.chaddr = Mac{0x00, 0x03, 0xFF, 0x00, 0x00, 0xD4};
    BOOST_TEST(ask(s, c, T0).yiaddr == ip(192, 168, 131, 19));
    BOOST_TEST(ask(s, c2, T0).yiaddr == ip(192, 168, 131, 20));
    // The same client discovering again is offered its lease.
    Msg again;
    again.chaddr = CLIENT_A;
    BOOST_TEST(ask(s, again, T0 + 10).yiaddr == a);
}

BOOST_AUTO_TEST_CASE(requested_address_is_honoured_when_free) {
    DhcpServer s(test_config(), {});
    Msg d;
    d.options = {{50, ip_bytes(ip(192, 168, 131, 30))}};
    BOOST_TEST(ask(s, d, T0).yiaddr == ip(192, 168, 131, 30));
    // Not in the pool (reserved, server, gateway, DNS, outside): the lowest free.
    for (auto bad :
         {ip(192, 168, 131, 5), SERVER, ip(192, 168, 131, 16), ip(10, 0, 0, 20), ip(192, 168, 131, 41)}) {
        Msg e;
        e.chaddr = CLIENT_B;
        e.options = {{50, ip_bytes(bad)}};
        BOOST_TEST(ask(s, e, T0).yiaddr == ip(192, 168, 131, 17));
    }
}

BOOST_AUTO_TEST_CASE(renewing_and_rebinding) {
    DhcpServer s(test_config(), {});
    std::uint32_t a = obtain(s, CLIENT_A, T0);
    // RENEWING: unicast to the server, ciaddr set, no 50/54.
    Msg r;
    r.type = 3;
    r.ciaddr = a;
    r.eth_dst = SERVER_MAC;
    r.ip_src = a;
    r.ip_dst = SERVER;
    Reply ack = ask(s, r, T0 + 1800);
    BOOST_TEST(ack.type() == 5);
    BOOST_TEST(ack.yiaddr == a);
    BOOST_TEST(ack.ciaddr == a);
    BOOST_TEST(ack.eth_dst == CLIENT_A);
    BOOST_TEST(ack.ip_dst == a);
    BOOST_TEST(s.leases().at(0).expires == T0 + 1800 + 3600);
    // REBINDING: the same, broadcast.
    r.eth_dst = BROADCAST_MAC;
    r.ip_dst = 0xFFFF'FFFF;
    ack = ask(s, r, T0 + 3200);
    BOOST_TEST(ack.type() == 5);
    BOOST_TEST(ack.ip_dst == a); // still to ciaddr
    BOOST_TEST(s.leases().at(0).expires == T0 + 3200 + 3600);
    // Renewing someone else's address: NAK, broadcast.
    Msg other = r;
    other.chaddr = CLIENT_B;
    Reply nak = ask(s, other, T0 + 3201);
    BOOST_TEST(nak.type() == 6);
    BOOST_TEST(nak.eth_dst == BROADCAST_MAC);
    BOOST_TEST(nak.ip_dst == 0xFFFF'FFFFu);
    BOOST_TEST(nak.yiaddr == 0u);
    BOOST_TEST(nak.opts.count(51) == 0u);
    BOOST_TEST(nak.opt32(54) == SERVER);
}

BOOST_AUTO_TEST_CASE(wrong_requests_get_a_nak) {
    DhcpServer s(test_config(), {});
    std::uint32_t a = obtain(s, CLIENT_A, T0);
    // INIT-REBOOT on another network.
    Msg r;
    r.type = 3;
    r.chaddr = CLIENT_B;
    r.options = {{50, ip_bytes(ip(10, 1, 2, 3))}};
    BOOST_TEST(ask(s, r, T0).type() == 6);
    // INIT-REBOOT for an address another client holds.
    r.options = {{50, ip_bytes(a)}};
    BOOST_TEST(ask(s, r, T0).type() == 6);
    // SELECTING an address that was not offered and is taken.
    r.options = {{50, ip_bytes(a)}, {54, ip_bytes(SERVER)}};
    BOOST_TEST(ask(s, r, T0).type() == 6);
    // INIT-REBOOT for a free pool address (lost lease file): granted.
    r.options = {{50, ip_bytes(ip(192, 168, 131, 25))}};
    Reply ack = ask(s, r, T0);
    BOOST_TEST(ack.type() == 5);
    BOOST_TEST(ack.yiaddr == ip(192, 168, 131, 25));
    // A reserved address in the network.
    r.options = {{50, ip_bytes(ip(192, 168, 131, 9))}};
    BOOST_TEST(ask(s, r, T0).type() == 6);
    // The client chose another server: no reply, and the offer is released.
    Msg d;
    d.chaddr = CLIENT_C;
    std::uint32_t offered = ask(s, d, T0).yiaddr;
    BOOST_TEST(s.leases().size() == 3u);
    Msg other;
    other.type = 3;
    other.chaddr = CLIENT_C;
    other.options = {{50, ip_bytes(offered)}, {54, ip_bytes(ip(192, 168, 131, 2))}};
    BOOST_TEST(s.handle(dhcp_frame(other), T0).empty());
    BOOST_TEST(s.leases().size() == 2u);
}

BOOST_AUTO_TEST_CASE(release_frees_the_address) {
    DhcpServer s(test_config(), {});
    std::uint32_t a = obtain(s, CLIENT_A, T0);
    Msg rel;
    rel.type = 7;
    rel.ciaddr = a;
    rel.eth_dst = SERVER_MAC;
    rel.ip_src = a;
    rel.ip_dst = SERVER;
    rel.options = {{54, ip_bytes(SERVER)}};
    BOOST_TEST(s.handle(dhcp_frame(rel), T0 + 5).empty());
    BOOST_TEST(s.leases().at(0).expires == T0 + 5);
    // Someone else may have it now.
    BOOST_TEST(obtain(s, CLIENT_B, T0 + 6) == a);
    // A release from a client that does not hold it changes nothing.
    rel.chaddr = CLIENT_C;
    BOOST_TEST(s.handle(dhcp_frame(rel), T0 + 7).empty());
    BOOST_TEST(s.leases().at(0).mac == CLIENT_B);
    BOOST_TEST(s.leases().at(0).expires == T0 + 6 + 3600);
}

BOOST_AUTO_TEST_CASE(expired_leases_and_offers_are_reused) {
    DhcpServer s(test_config(), {});
    BOOST_TEST(obtain(s, CLIENT_A, T0) == ip(192, 168, 131, 17));
    BOOST_TEST(obtain(s, CLIENT_B, T0 + 500) == ip(192, 168, 131, 18));
    // After A's lease ran out (B's has not), C gets A's old address.
    BOOST_TEST(obtain(s, CLIENT_C, T0 + 3650) == ip(192, 168, 131, 17));
    // An offer not taken up is free again after the hold.
    Msg d;
    d.chaddr = CLIENT_A;
    BOOST_TEST(ask(s, d, T0 + 3650).yiaddr == ip(192, 168, 131, 19));
    Msg e;
    e.chaddr = Mac{0x00, 0x03, 0xFF, 0x00, 0x00, 0xE5};
    BOOST_TEST(ask(s, e, T0 + 3650 + 30).yiaddr == ip(192, 168, 131, 20));
    BOOST_TEST(ask(s, e, T0 + 3650 + 61).yiaddr == ip(192, 168, 131, 20)); // its own offer still
    Msg f;
    f.chaddr = Mac{0x00, 0x03, 0xFF, 0x00, 0x00, 0xF6};
    BOOST_TEST(ask(s, f, T0 + 3650 + 61).yiaddr == ip(192, 168, 131, 19)); // A's offer lapsed
}

BOOST_AUTO_TEST_CASE(pool_exhaustion_means_no_offer) {
    auto c = test_config();
    c.pool_start = ip(192, 168, 131, 17);
    c.pool_end = ip(192, 168, 131, 18);
    DhcpServer s(c, {});
    obtain(s, CLIENT_A, T0);
    obtain(s, CLIENT_B, T0);
    Msg d;
    d.chaddr = CLIENT_C;
    BOOST_TEST(s.handle(dhcp_frame(d), T0).empty());
    BOOST_TEST(ask(s, d, T0 + 3601).yiaddr == ip(192, 168, 131, 17));
}

BOOST_AUTO_TEST_CASE(record_limit_in_a_huge_pool) {
    // A /8 pool and a guest inventing MACs: at the limit there is no offer,
    // and finding that out must not walk 16 million addresses.
    DhcpServer::Config c;
    c.server_mac = SERVER_MAC;
    c.server_ip = ip(10, 0, 0, 1);
    c.network = ip(10, 0, 0, 0);
    c.mask = ip(255, 0, 0, 0);
    c.pool_start = ip(10, 0, 0, 16);
    c.pool_end = ip(10, 255, 255, 254);
    c.max_records = 50;
    DhcpServer s(c, {});
    Msg far;
    far.type = 3;
    far.chaddr = Mac{0x00, 0x03, 0xFF, 0x01, 0x00, 0x00};
    far.options = {{50, ip_bytes(ip(10, 200, 0, 5))}};
    BOOST_TEST(ask(s, far, T0).type() == 5); // a record far up the pool
    Msg d;
    for (int i = 0; i < 49; ++i) {
        d.chaddr = Mac{0x00, 0x03, 0xFF, 0x00, 0x00, static_cast<std::uint8_t>(i)};
        BOOST_TEST(ask(s, d, T0).yiaddr == ip(10, 0, 0, 16) + static_cast<std::uint32_t>(i));
    }
    BOOST_TEST(s.leases().size() == 50u);
    d.chaddr = CLIENT_C;
    auto const start = std::chrono::steady_clock::now();
    BOOST_TEST(s.handle(dhcp_frame(d), T0 + 1).empty());
    auto const took =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    BOOST_TEST(took.count() < 500);
    // Once the offers lapse their addresses are reused, the limit holds.
    BOOST_TEST(ask(s, d, T0 + 61).yiaddr == ip(10, 0, 0, 16));
    BOOST_TEST(s.leases().size() == 50u);
}

BOOST_AUTO_TEST_CASE(leases_persist_across_instances) {
    TempDir dir;
    auto const file = dir.path / "net.leases";
    std::vector<DhcpLease> before;
    {
        DhcpServer s(test_config(), file);
        obtain(s, CLIENT_A, T0);
        Msg d;
        d.chaddr = CLIENT_B;
        d.options = {{61, Bytes{0xFF, 'h', 'o', 's', 't'}}};
        Reply o = ask(s, d, T0);
        Msg r;
        r.type = 3;
        r.chaddr = CLIENT_B;
        r.options = {{61, Bytes{0xFF, 'h', 'o', 's', 't'}}, {50, ip_bytes(o.yiaddr)}, {54, ip_bytes(SERVER)}};
        BOOST_TEST(ask(s, r, T0).type() == 5);
        // An offer is not stored.
        Msg c;
        c.chaddr = CLIENT_C;
        ask(s, c, T0);
        before = s.leases();
        BOOST_TEST(s.take_problems().empty());
    }
    BOOST_TEST(!std::filesystem::exists(file.string() + ".tmp"));
    DhcpServer s(test_config(), file);
    BOOST_TEST(s.take_problems().empty());
    auto after = s.leases();
    BOOST_REQUIRE_EQUAL(after.size(), 2u);
    BOOST_TEST((after[0] == before[0]));
    BOOST_TEST((after[1] == before[1]));
    BOOST_TEST(after[1].client_id == (Bytes{0xFF, 'h', 'o', 's', 't'}));
    // The same MAC with another client id is another client.
    Msg d;
    d.chaddr = CLIENT_B;
    BOOST_TEST(ask(s, d, T0 + 1).yiaddr == ip(192, 168, 131, 19));
    d.options = {{61, Bytes{0xFF, 'h', 'o', 's', 't'}}};
    BOOST_TEST(ask(s, d, T0 + 1).yiaddr == ip(192, 168, 131, 18));
}

BOOST_AUTO_TEST_CASE(hostile_lease_file_lines_are_reported_and_skipped) {
    TempDir dir;
    auto const file = dir.path / "net.leases";
    {
        std::ofstream out(file, std::ios::binary);
        out << "# comment\n\n";
        out << "lease 192.168.131.20 00:03:ff:00:00:a1 - 1700003600\n"; // good
        out << "lease 192.168.131.21 00:03:ff:00:00:a1 - 1700003600\n"; // same client twice
        out << "lease 192.168.131.20 00:03:ff:00:00:b2 - 1700003600\n"; // same address twice
        out << "lease 300.168.131.22 00:03:ff:00:00:c3 - 1\n";
        out << "lease 192.168.131.022 00:03:ff:00:00:c3 - 1\n";
        out << "lease 192.168.131.5 00:03:ff:00:00:c3 - 1\n";  // reserved
        out << "lease 10.0.0.20 00:03:ff:00:00:c3 - 1\n";      // other network
        out << "lease 192.168.131.23 01:03:ff:00:00:c3 - 1\n"; // multicast MAC
        out << "lease 192.168.131.23 00:03:ff:00:00:c3 0 1\n"; // odd client id
        out << "lease 192.168.131.23 00:03:ff:00:00:c3 zz 1\n";
        out << "lease 192.168.131.23 00:03:ff:00:00:c3 - 99999999999999999999999\n";
        out << "lease 192.168.131.23 00:03:ff:00:00:c3 - -5\n";
        out << "lease 192.168.131.23 00:03:ff:00:00:c3 -\n";
        out << "lease 192.168.131.23 00:03:ff:00:00:c3 - 1 extra\n";
        out << "declined 192.168.131.24\n";
        out << "frobnicate\n";
        out << std::string(5000, 'x') << "\n";
        out << std::string("lease 192.168.131.25\0 00:03:ff:00:00:c3 - 1\n", 44);
        out << "declined 192.168.131.26 1700000600\r\n"; // good, CRLF
        for (int i = 0; i < 200; ++i)
            out << "\xff\xfe garbage " << i << "\n";
        out << "lease 192.168.131.27 00:03:ff:00:00:d4 0102 1700003600"; // good, no final newline
    }
    DhcpServer s(test_config(), file);
    auto problems = s.take_problems();
    BOOST_TEST(problems.size() == DhcpServer::MAX_PROBLEMS + 1); // the last says how many more
    BOOST_TEST(problems.back().find("more problems") != std::string::npos);
    for (auto const& p : problems)
        BOOST_TEST(p.find('\xff') == std::string::npos); // bytes of the file are not echoed
    auto l = s.leases();
    BOOST_REQUIRE_EQUAL(l.size(), 3u);
    BOOST_TEST(l[0].address == ip(192, 168, 131, 20));
    BOOST_TEST(l[1].address == ip(192, 168, 131, 26));
    BOOST_TEST((l[1].state == DhcpLease::State::Declined));
    BOOST_TEST(l[2].address == ip(192, 168, 131, 27));
    BOOST_TEST(l[2].client_id == (Bytes{1, 2}));

    // Random binary content: no crash, nothing loaded that is not in the pool.
    std::mt19937 rng(7);
    for (int round = 0; round < 20; ++round) {
        {
            std::ofstream out(file, std::ios::binary | std::ios::trunc);
            std::size_t n = rng() % 4096;
            for (std::size_t i = 0; i < n; ++i)
                out.put(static_cast<char>(round % 2 ? "lease 192.168.131.:0123456789abcdef- \n"[rng() % 38]
                                                    : rng()));
        }
        DhcpServer t(test_config(), file);
        for (auto const& lease : t.leases())
            BOOST_TEST(t.allocatable(lease.address));
    }
}

BOOST_AUTO_TEST_CASE(unwritable_lease_file_is_reported) {
    DhcpServer s(test_config(), "/nonexistent-dir/x/net.leases");
    BOOST_TEST(s.take_problems().empty()); // a missing file is a new network
    obtain(s, CLIENT_A, T0);
    BOOST_TEST(!s.take_problems().empty());
}

BOOST_AUTO_TEST_CASE(decline_marks_the_address_bad) {
    DhcpServer s(test_config(), {});
    std::uint32_t a = obtain(s, CLIENT_A, T0);
    Msg dec;
    dec.type = 4;
    dec.options = {{50, ip_bytes(a)}, {54, ip_bytes(SERVER)}};
    BOOST_TEST(s.handle(dhcp_frame(dec), T0 + 1).empty());
    BOOST_REQUIRE_EQUAL(s.leases().size(), 1u);
    BOOST_TEST((s.leases()[0].state == DhcpLease::State::Declined));
    // A declines for an address it does not hold: ignored.
    Msg bogus = dec;
    bogus.chaddr = CLIENT_B;
    bogus.options = {{50, ip_bytes(ip(192, 168, 131, 30))}, {54, ip_bytes(SERVER)}};
    BOOST_TEST(s.handle(dhcp_frame(bogus), T0 + 1).empty());
    BOOST_TEST(s.leases().size() == 1u);
    // A starts over and gets another address; so does anyone else for a while.
    Msg d;
    BOOST_TEST(ask(s, d, T0 + 2).yiaddr == ip(192, 168, 131, 18));
    d.chaddr = CLIENT_B;
    BOOST_TEST(ask(s, d, T0 + 2).yiaddr == ip(192, 168, 131, 19));
    d.chaddr = CLIENT_C;
    BOOST_TEST(ask(s, d, T0 + 1 + DhcpServer::DECLINE_HOLD_SECONDS).yiaddr == a);
}

BOOST_AUTO_TEST_CASE(inform_gets_configuration_only) {
    DhcpServer s(test_config(), {});
    Msg inf;
    inf.type = 8;
    inf.ciaddr = ip(192, 168, 131, 9); // a static address
    inf.ip_src = inf.ciaddr;
    inf.ip_dst = SERVER;
    inf.eth_dst = SERVER_MAC;
    Reply r = ask(s, inf, T0);
    BOOST_TEST(r.type() == 5);
    BOOST_TEST(r.yiaddr == 0u);
    BOOST_TEST(r.ciaddr == inf.ciaddr);
    BOOST_TEST(r.ip_dst == inf.ciaddr);
    BOOST_TEST(r.eth_dst == CLIENT_A);
    BOOST_TEST(r.opts.count(51) == 0u);
    BOOST_TEST(r.opts.count(58) == 0u);
    BOOST_TEST(r.opts.count(59) == 0u);
    BOOST_TEST(r.opt32(1) == ip(255, 255, 255, 0));
    BOOST_TEST(r.opt32(3) == ip(192, 168, 131, 16));
    BOOST_TEST(s.leases().empty());
}

BOOST_AUTO_TEST_CASE(option_overload_and_concatenation) {
    DhcpServer s(test_config(), {});
    // Option 52 = 1: the message type and the requested address are in `file`.
    Msg m;
    m.options = {};
    Bytes udp = dhcp_payload(m);
    std::size_t const d = 8;
    udp[d + 240] = 52; // replaces 53,1,1 by 52,1,1
    udp[d + 241] = 1;
    udp[d + 242] = 1;
    Bytes file_opts{53, 1, 1, 50, 4, 192, 168, 131, 33, 255};
    std::copy(file_opts.begin(), file_opts.end(), udp.begin() + d + 108);
    Bytes f = ipv4_frame(BROADCAST_MAC, CLIENT_A, 17, 0, 0xFFFF'FFFF, udp);
    auto out = s.handle(f, T0);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(decode(out[0]).yiaddr == ip(192, 168, 131, 33));
    // An overload value out of range, or an option overrunning `file`: dropped.
    udp[d + 242] = 4;
    BOOST_TEST(s.handle(ipv4_frame(BROADCAST_MAC, CLIENT_A, 17, 0, 0xFFFF'FFFF, udp), T0).empty());
    udp[d + 242] = 1;
    udp[d + 108 + 126] = 12;
    udp[d + 108 + 127] = 200;
    for (std::size_t i = 0; i < file_opts.size(); ++i)
        udp[d + 108 + i] = 0;
    BOOST_TEST(s.handle(ipv4_frame(BROADCAST_MAC, CLIENT_A, 17, 0, 0xFFFF'FFFF, udp), T0).empty());
    // A requested address split over two option 50s (RFC 3396).
    Msg split;
    split.chaddr = CLIENT_B;
    split.options = {{50, {192, 168}}, {50, {131, 34}}};
    BOOST_TEST(ask(s, split, T0).yiaddr == ip(192, 168, 131, 34));
}

BOOST_AUTO_TEST_CASE(malformed_frames_get_no_reply) {
    DhcpServer s(test_config(), {});
    Msg m;
    Bytes const good = dhcp_frame(m);
    BOOST_REQUIRE_EQUAL(s.handle(good, T0).size(), 1u);
    auto none = [&](Bytes f, bool fix) {
        if (fix) fix_checksums(f);
        return s.handle(f, T0).empty();
    };
    // Truncated anywhere.
    for (std::size_t n = 0; n < good.size(); n += 7)
        BOOST_TEST(none(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)), false));
    Bytes f = good;
    f[14] = 0x44; // IHL 16 bytes
    BOOST_TEST(none(f, true));
    f = good;
    f[14] = 0x4F; // IHL 60 bytes: header checksum then UDP at the wrong place
    BOOST_TEST(none(f, true));
    f = good;
    w16(f, 16, 60000); // total length beyond the frame
    BOOST_TEST(none(f, true));
    f = good;
    f[20] = 0x20; // more fragments
    BOOST_TEST(none(f, true));
    f = good;
    w16(f, 20, 5); // fragment offset
    BOOST_TEST(none(f, true));
    f = good;
    f[25] ^= 1; // bad header checksum
    BOOST_TEST(none(f, false));
    f = good;
    w16(f, 36, 68); // wrong destination port
    BOOST_TEST(none(f, true));
    f = good;
    w16(f, 34, 1234); // wrong source port
    BOOST_TEST(none(f, true));
    f = good;
    w16(f, 38, 4000); // UDP length beyond the datagram
    BOOST_TEST(none(f, true));
    f = good;
    f[f.size() - 1] ^= 0x55; // bad UDP checksum
    BOOST_TEST(none(f, false));
    f = good;
    f[42 + 2] = 200; // huge hardware length
    BOOST_TEST(none(f, true));
    f = good;
    f[42 + 1] = 6; // IEEE 802 hardware type
    BOOST_TEST(none(f, true));
    f = good;
    f[42] = 2; // a BOOTREPLY
    BOOST_TEST(none(f, true));
    f = good;
    w32(f, 42 + 24, ip(10, 0, 0, 1)); // relayed
    BOOST_TEST(none(f, true));
    f = good;
    f[42 + 236] = 0; // no magic cookie
    BOOST_TEST(none(f, true));
    f = good;
    f[42 + 241] = 40; // message type overruns
    BOOST_TEST(none(f, true));
    f = good;
    f[42 + 240] = 12; // no message type: BOOTP
    BOOST_TEST(none(f, true));
    f = good;
    f[0] = 0x00; // unicast to someone else
    BOOST_TEST(none(f, false));
    f = good;
    w32(f, 30, ip(192, 168, 131, 99)); // UDP to another host
    BOOST_TEST(none(f, true));
    f = good;
    f[23] = 6; // TCP
    BOOST_TEST(none(f, true));
    // Still answering.
    BOOST_TEST(s.handle(good, T0).size() == 1u);
}

BOOST_AUTO_TEST_CASE(arp_for_the_server_address) {
    DhcpServer s(test_config(), {});
    auto arp = [](std::uint32_t target) {
        Bytes f(14 + 28, 0);
        std::fill_n(f.begin(), 6, 0xFF);
        std::copy(CLIENT_A.begin(), CLIENT_A.end(), f.begin() + 6);
        w16(f, 12, 0x0806);
        w16(f, 14, 1);
        w16(f, 16, 0x0800);
        f[18] = 6;
        f[19] = 4;
        w16(f, 20, 1);
        std::copy(CLIENT_A.begin(), CLIENT_A.end(), f.begin() + 22);
        w32(f, 28, ip(192, 168, 131, 17));
        w32(f, 38, target);
        return f;
    };
    auto out = s.handle(arp(SERVER), T0);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    Bytes const& r = out[0];
    BOOST_REQUIRE_GE(r.size(), 60u);
    BOOST_TEST(mac_at(r, 0) == CLIENT_A);
    BOOST_TEST(mac_at(r, 6) == SERVER_MAC);
    BOOST_TEST(r16(r, 12) == 0x0806u);
    BOOST_TEST(r16(r, 20) == 2u); // reply
    BOOST_TEST(mac_at(r, 22) == SERVER_MAC);
    BOOST_TEST(r32(r, 28) == SERVER);
    BOOST_TEST(mac_at(r, 32) == CLIENT_A);
    BOOST_TEST(r32(r, 38) == ip(192, 168, 131, 17));
    BOOST_TEST(s.handle(arp(ip(192, 168, 131, 2)), T0).empty());
    BOOST_TEST(s.handle(arp(ip(192, 168, 131, 17)), T0).empty());
    Bytes reply_op = arp(SERVER);
    w16(reply_op, 20, 2);
    BOOST_TEST(s.handle(reply_op, T0).empty());
    Bytes short_arp = arp(SERVER);
    short_arp.resize(40);
    BOOST_TEST(s.handle(short_arp, T0).empty());
}

BOOST_AUTO_TEST_CASE(ping_the_server) {
    DhcpServer s(test_config(), {});
    Bytes icmp{8, 0, 0, 0, 0x12, 0x34, 0x00, 0x07};
    for (int i = 0; i < 57; ++i) // odd length payload
        icmp.push_back(static_cast<std::uint8_t>(i * 3));
    w16(icmp, 2, inet_sum(icmp, 0, icmp.size()));
    std::uint32_t const guest = ip(192, 168, 131, 17);
    auto out = s.handle(ipv4_frame(SERVER_MAC, CLIENT_A, 1, guest, SERVER, icmp), T0);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    Bytes const& r = out[0];
    BOOST_TEST(mac_at(r, 0) == CLIENT_A);
    BOOST_TEST(inet_sum(r, 14, 20) == 0);
    BOOST_TEST(r[23] == 1);
    BOOST_TEST(r32(r, 26) == SERVER);
    BOOST_TEST(r32(r, 30) == guest);
    BOOST_REQUIRE_EQUAL(r16(r, 16), 20 + icmp.size());
    BOOST_TEST(r[34] == 0); // echo reply
    BOOST_TEST(inet_sum(r, 34, icmp.size()) == 0);
    BOOST_TEST(Bytes(r.begin() + 38, r.begin() + 34 + static_cast<std::ptrdiff_t>(icmp.size())) ==
               Bytes(icmp.begin() + 4, icmp.end()));
    // Bad checksum, another destination, a broadcast source: nothing.
    Bytes bad = icmp;
    bad[10] ^= 1;
    BOOST_TEST(s.handle(ipv4_frame(SERVER_MAC, CLIENT_A, 1, guest, SERVER, bad), T0).empty());
    BOOST_TEST(s.handle(ipv4_frame(SERVER_MAC, CLIENT_A, 1, guest, ip(192, 168, 131, 2), icmp), T0).empty());
    BOOST_TEST(s.handle(ipv4_frame(SERVER_MAC, CLIENT_A, 1, 0xFFFF'FFFF, SERVER, icmp), T0).empty());
}

BOOST_AUTO_TEST_CASE(reconfigure_drops_leases_outside_the_new_pool) {
    TempDir dir;
    auto const file = dir.path / "net.leases";
    DhcpServer s(test_config(), file);
    BOOST_TEST(obtain(s, CLIENT_A, T0) == ip(192, 168, 131, 17));
    BOOST_TEST(obtain(s, CLIENT_B, T0) == ip(192, 168, 131, 18));
    auto c = test_config();
    c.pool_start = ip(192, 168, 131, 18);
    s.reconfigure(c);
    auto l = s.leases();
    BOOST_REQUIRE_EQUAL(l.size(), 1u);
    BOOST_TEST(l[0].mac == CLIENT_B);
    BOOST_TEST(DhcpServer(c, file).leases().size() == 1u); // and on disk
    // A's renewal of the dropped address is refused.
    Msg r;
    r.type = 3;
    r.ciaddr = ip(192, 168, 131, 17);
    BOOST_TEST(ask(s, r, T0 + 10).type() == 6);
    // A whole new network: everything goes; the server answers with it.
    c.network = ip(10, 237, 0, 0);
    c.mask = ip(255, 255, 0, 0);
    c.server_ip = ip(10, 237, 0, 1);
    c.pool_start = ip(10, 237, 0, 16);
    c.pool_end = ip(10, 237, 255, 254);
    c.gateway.reset();
    c.dns.clear();
    c.wins.clear();
    s.reconfigure(c);
    BOOST_TEST(s.leases().empty());
    Msg d;
    auto out = s.handle(dhcp_frame(d), T0 + 20);
    BOOST_REQUIRE_EQUAL(out.size(), 1u);
    BOOST_TEST(r32(out[0], 42 + 16) == ip(10, 237, 0, 16));
}

BOOST_AUTO_TEST_CASE(nonsense_configurations_do_not_hang) {
    for (auto [mask, start, end] :
         std::initializer_list<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>>{
             {0xFFFF'FFFF, 0, 0xFFFF'FFFF},
             {0, 0, 0xFFFF'FFFF},
             {ip(255, 255, 255, 0), ip(192, 168, 131, 40), ip(192, 168, 131, 16)},
             {ip(255, 255, 255, 0), ip(192, 168, 131, 16), 0xFFFF'FFFF},
             {ip(255, 255, 255, 252), 0, 0xFFFF'FFFF}}) {
        auto c = test_config();
        c.mask = mask;
        c.pool_start = start;
        c.pool_end = end;
        DhcpServer s(c, {});
        Msg d;
        for (int i = 0; i < 3; ++i) {
            d.chaddr[5] = static_cast<std::uint8_t>(i);
            for (auto const& f : s.handle(dhcp_frame(d), T0))
                BOOST_TEST(s.allocatable(r32(f, 42 + 16)));
        }
    }
}

BOOST_AUTO_TEST_CASE(fuzz_malformed_frames) {
    DhcpServer s(test_config(), {});
    std::mt19937 rng(20261127);
    std::vector<Bytes> seeds;
    Msg m;
    m.options = {{61, client_id(CLIENT_A)}, {55, {1, 3, 6, 15, 44}}, {50, ip_bytes(ip(192, 168, 131, 20))}};
    for (std::uint8_t type = 1; type <= 8; ++type) {
        m.type = type;
        m.ciaddr = type >= 3 ? ip(192, 168, 131, 20) : 0;
        seeds.push_back(dhcp_frame(m));
    }
    {
        Msg o;
        o.options = {{52, {3}}};
        seeds.push_back(dhcp_frame(o));
    }
    Bytes arp(42, 0);
    std::fill_n(arp.begin(), 6, 0xFF);
    w16(arp, 12, 0x0806);
    w16(arp, 14, 1);
    w16(arp, 16, 0x0800);
    arp[18] = 6;
    arp[19] = 4;
    w16(arp, 20, 1);
    w32(arp, 38, SERVER);
    seeds.push_back(arp);
    Bytes icmp{8, 0, 0, 0, 1, 2, 3, 4, 5, 6};
    w16(icmp, 2, inet_sum(icmp, 0, icmp.size()));
    seeds.push_back(ipv4_frame(SERVER_MAC, CLIENT_B, 1, ip(192, 168, 131, 21), SERVER, icmp));

    std::size_t replies = 0;
    for (int i = 0; i < 30000; ++i) {
        Bytes f;
        if (i % 10 == 0) {
            f.resize(rng() % 1600);
            for (auto& b : f)
                b = static_cast<std::uint8_t>(rng());
        } else {
            f = seeds[rng() % seeds.size()];
            int const edits = 1 + static_cast<int>(rng() % 8);
            for (int e = 0; e < edits; ++e) {
                switch (rng() % 5) {
                case 0:
                case 1:
                    if (!f.empty()) f[rng() % f.size()] = static_cast<std::uint8_t>(rng());
                    break;
                case 2:
                    if (!f.empty()) f.resize(rng() % f.size());
                    break;
                case 3:
                    f.resize(f.size() + rng() % 64, static_cast<std::uint8_t>(rng()));
                    break;
                case 4: // an option-ish run in the options area
                    if (f.size() > 290) {
                        std::size_t at = 282 + rng() % (f.size() - 282);
                        f[at] = static_cast<std::uint8_t>(rng() % 64);
                        if (at + 1 < f.size()) f[at + 1] = static_cast<std::uint8_t>(rng());
                    }
                    break;
                }
            }
            if (rng() % 4 != 0) fix_checksums(f);
        }
        for (auto const& r : s.handle(f, T0 + static_cast<std::uint64_t>(i / 100))) {
            ++replies;
            BOOST_TEST_REQUIRE(r.size() >= 60u);
            BOOST_TEST_REQUIRE(r.size() <= MAX_FRAME);
        }
    }
    BOOST_TEST_MESSAGE("fuzz: " << replies << " replies to 30000 frames");
    BOOST_TEST(replies > 100u); // the mutations do reach the protocol
    for (auto const& lease : s.leases())
        BOOST_TEST(s.allocatable(lease.address));
}

BOOST_AUTO_TEST_SUITE_END()
