// SPDX-License-Identifier: GPL-2.0-or-later
// The DHCP server's protocol side: frame parsing (every length and offset
// from the wire is checked against the bytes actually there), RFC 2131
// message handling, address allocation and reply building. The lease file
// is in dhcp_lease_file.cpp.
#include "services/network/dhcp_server.h"

#include <algorithm>
#include <array>
#include <utility>

namespace vsa::network {

namespace {

constexpr std::size_t IPV4_MIN_HEADER = 20;
constexpr std::size_t UDP_HEADER = 8;
constexpr std::uint8_t PROTO_ICMP = 1;
constexpr std::uint8_t PROTO_UDP = 17;
constexpr std::uint16_t PORT_SERVER = 67;
constexpr std::uint16_t PORT_CLIENT = 68;
constexpr std::uint32_t BROADCAST_IP = 0xFFFF'FFFF;

// BOOTP message layout (RFC 2131 figure 1).
constexpr std::size_t BOOTP_SNAME = 44;
constexpr std::size_t BOOTP_SNAME_LEN = 64;
constexpr std::size_t BOOTP_FILE = 108;
constexpr std::size_t BOOTP_FILE_LEN = 128;
constexpr std::size_t BOOTP_OPTIONS = 240; // after the magic cookie
constexpr std::uint32_t MAGIC_COOKIE = 0x6382'5363;
// A reply must fit a client that announces no larger size (option 57):
// 576 bytes of IP datagram leave 548 for the message, 308 for the options.
constexpr std::size_t MAX_REPLY_OPTIONS = 576 - IPV4_MIN_HEADER - UDP_HEADER - BOOTP_OPTIONS;
// Old BOOTP relays and clients drop messages shorter than 300 bytes.
constexpr std::size_t MIN_REPLY_MESSAGE = 300;

enum : std::uint8_t {
    OPT_PAD = 0,
    OPT_SUBNET_MASK = 1,
    OPT_ROUTER = 3,
    OPT_DNS = 6,
    OPT_DOMAIN_NAME = 15,
    OPT_NETBIOS_NAME_SERVER = 44,
    OPT_REQUESTED_IP = 50,
    OPT_LEASE_TIME = 51,
    OPT_OVERLOAD = 52,
    OPT_MESSAGE_TYPE = 53,
    OPT_SERVER_ID = 54,
    OPT_PARAMETER_LIST = 55,
    OPT_RENEWAL_TIME = 58,
    OPT_REBINDING_TIME = 59,
    OPT_CLIENT_ID = 61,
    OPT_END = 255,
};

enum : std::uint8_t {
    DHCPDISCOVER = 1,
    DHCPOFFER = 2,
    DHCPREQUEST = 3,
    DHCPDECLINE = 4,
    DHCPACK = 5,
    DHCPNAK = 6,
    DHCPRELEASE = 7,
    DHCPINFORM = 8,
};

std::uint16_t get16(std::span<std::uint8_t const> d, std::size_t at) {
    return static_cast<std::uint16_t>((d[at] << 8) | d[at + 1]);
}
std::uint32_t get32(std::span<std::uint8_t const> d, std::size_t at) {
    return (std::uint32_t{d[at]} << 24) | (std::uint32_t{d[at + 1]} << 16) | (std::uint32_t{d[at + 2]} << 8) |
           d[at + 3];
}
void put16(std::vector<std::uint8_t>& d, std::size_t at, std::uint16_t v) {
    d[at] = static_cast<std::uint8_t>(v >> 8);
    d[at + 1] = static_cast<std::uint8_t>(v);
}
void put32(std::vector<std::uint8_t>& d, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        d[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
void append32(std::vector<std::uint8_t>& d, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        d.push_back(static_cast<std::uint8_t>(v >> (24 - 8 * i)));
}

bool is_unicast_ip(std::uint32_t a) {
    return a != 0 && a != BROADCAST_IP && (a >> 28) != 0xE;
}

// An Ethernet frame carrying an IPv4 datagram from the server, padded to the
// 60-byte Ethernet minimum.
std::vector<std::uint8_t> ipv4_frame(Mac const& dst, Mac const& src, std::uint8_t protocol,
                                     std::uint32_t src_ip, std::uint32_t dst_ip, std::uint16_t id,
                                     std::span<std::uint8_t const> payload) {
    std::size_t const total = IPV4_MIN_HEADER + payload.size();
    std::vector<std::uint8_t> f(std::max<std::size_t>(ETH_HEADER + total, 60), 0);
    std::copy(dst.begin(), dst.end(), f.begin());
    std::copy(src.begin(), src.end(), f.begin() + 6);
    put16(f, 12, ETHERTYPE_IPV4);
    std::size_t const ip = ETH_HEADER;
    f[ip] = 0x45;
    put16(f, ip + 2, static_cast<std::uint16_t>(total));
    put16(f, ip + 4, id);
    f[ip + 8] = 64; // TTL
    f[ip + 9] = protocol;
    put32(f, ip + 12, src_ip);
    put32(f, ip + 16, dst_ip);
    put16(f, ip + 10,
          checksum_finish(checksum_add(std::span<std::uint8_t const>(f).subspan(ip, IPV4_MIN_HEADER))));
    std::copy(payload.begin(), payload.end(), f.begin() + static_cast<std::ptrdiff_t>(ip + IPV4_MIN_HEADER));
    return f;
}

// The UDP pseudo-header sum (RFC 768).
std::uint32_t pseudo_header_sum(std::uint32_t src, std::uint32_t dst, std::size_t udp_length) {
    std::array<std::uint8_t, 12> p{};
    for (int i = 0; i < 4; ++i) {
        p[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(src >> (24 - 8 * i));
        p[4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(dst >> (24 - 8 * i));
    }
    p[9] = PROTO_UDP;
    p[10] = static_cast<std::uint8_t>(udp_length >> 8);
    p[11] = static_cast<std::uint8_t>(udp_length);
    return checksum_add(p);
}

// The options of one message, by code. Repeated options are concatenated
// (RFC 3396); the total is bounded by the message size.
struct Options {
    std::map<std::uint8_t, std::vector<std::uint8_t>> values;
    std::vector<std::uint8_t> const* find(std::uint8_t code) const {
        auto it = values.find(code);
        return it == values.end() ? nullptr : &it->second;
    }
};

// Parses one options area. False when an option overruns it; a missing End
// is tolerated (some clients stop at the padding).
bool parse_options(std::span<std::uint8_t const> area, Options& out) {
    std::size_t i = 0;
    while (i < area.size()) {
        std::uint8_t const code = area[i];
        if (code == OPT_END) return true;
        if (code == OPT_PAD) {
            ++i;
            continue;
        }
        if (i + 1 >= area.size()) return false;
        std::size_t const len = area[i + 1];
        if (i + 2 + len > area.size()) return false;
        auto& v = out.values[code];
        v.insert(v.end(), area.begin() + static_cast<std::ptrdiff_t>(i + 2),
                 area.begin() + static_cast<std::ptrdiff_t>(i + 2 + len));
        i += 2 + len;
    }
    return true;
}

std::optional<std::uint32_t> option_ip(Options const& o, std::uint8_t code) {
    auto const* v = o.find(code);
    if (v == nullptr || v->size() != 4) return std::nullopt;
    return get32(*v, 0);
}

// Reply options, never beyond what a 576-byte datagram holds.
class OptionWriter {
public:
    bool add(std::uint8_t code, std::span<std::uint8_t const> value) {
        if (value.size() > 255 || m_bytes.size() + 2 + value.size() + 1 > MAX_REPLY_OPTIONS) return false;
        m_bytes.push_back(code);
        m_bytes.push_back(static_cast<std::uint8_t>(value.size()));
        m_bytes.insert(m_bytes.end(), value.begin(), value.end());
        return true;
    }
    bool add32(std::uint8_t code, std::uint32_t v) {
        std::vector<std::uint8_t> b;
        append32(b, v);
        return add(code, b);
    }
    bool add_ips(std::uint8_t code, std::vector<std::uint32_t> const& ips) {
        std::vector<std::uint8_t> b;
        for (auto ip : ips)
            if (b.size() + 4 <= 255) append32(b, ip);
        return add(code, b);
    }
    std::vector<std::uint8_t> finish() {
        m_bytes.push_back(OPT_END);
        return std::move(m_bytes);
    }

private:
    std::vector<std::uint8_t> m_bytes;
};

} // namespace

// One parsed DHCP message from a client.
struct DhcpServer::Request {
    std::uint8_t type{};
    std::uint32_t xid{};
    std::uint16_t flags{};
    std::uint32_t ciaddr{};
    Mac chaddr{};
    std::vector<std::uint8_t> client_id;
    std::optional<std::uint32_t> requested_ip;
    std::optional<std::uint32_t> server_id;
    std::optional<std::vector<std::uint8_t>> parameter_list;

    bool broadcast_flag() const { return (flags & 0x8000) != 0; }
    bool same_client(DhcpLease const& l) const {
        if (l.state == DhcpLease::State::Declined) return false;
        // Keyed by the client identifier when the client sends one (RFC 2131
        // 4.2), otherwise by the hardware address.
        if (!client_id.empty()) return l.client_id == client_id;
        return l.client_id.empty() && l.mac == chaddr;
    }
    bool wants(std::uint8_t code) const {
        if (!parameter_list) return true;
        return std::find(parameter_list->begin(), parameter_list->end(), code) != parameter_list->end();
    }
};

DhcpServer::DhcpServer(Config config, std::filesystem::path lease_file)
    : m_config(std::move(config)), m_lease_file(std::move(lease_file)) {
    load();
}

bool DhcpServer::allocatable(std::uint32_t a) const {
    auto const& c = m_config;
    std::uint32_t const net = c.network & c.mask;
    std::uint32_t const bcast = net | ~c.mask;
    if ((a & c.mask) != net || a == bcast) return false;
    // The first 15 host addresses are Virtual Server's (ConfigureDHCPServer).
    if (a - net < 16) return false;
    if (a < c.pool_start || a > c.pool_end) return false;
    if (a == c.server_ip || (c.gateway && a == *c.gateway)) return false;
    if (std::find(c.dns.begin(), c.dns.end(), a) != c.dns.end()) return false;
    if (std::find(c.wins.begin(), c.wins.end(), a) != c.wins.end()) return false;
    return true;
}

std::vector<DhcpLease> DhcpServer::leases() const {
    std::vector<DhcpLease> out;
    out.reserve(m_records.size());
    for (auto const& [address, lease] : m_records)
        out.push_back(lease);
    return out;
}

void DhcpServer::reconfigure(Config config) {
    m_config = std::move(config);
    std::size_t const before = m_records.size();
    std::erase_if(m_records, [this](auto const& entry) { return !allocatable(entry.first); });
    if (m_records.size() != before) save();
}

std::vector<std::string> DhcpServer::take_problems() {
    if (m_problems_dropped != 0)
        m_problems.push_back(std::to_string(m_problems_dropped) + " more problems not shown");
    m_problems_dropped = 0;
    return std::exchange(m_problems, {});
}

void DhcpServer::problem(std::string text) {
    if (m_problems.size() < MAX_PROBLEMS)
        m_problems.push_back(std::move(text));
    else
        ++m_problems_dropped;
}

std::vector<std::vector<std::uint8_t>> DhcpServer::handle(std::span<std::uint8_t const> frame,
                                                          std::uint64_t now_seconds) {
    if (frame.size() < ETH_HEADER || frame.size() > MAX_FRAME) return {};
    Mac const dst = destination_mac(frame);
    // A switch floods unknown unicast: only broadcast and our own MAC concern us.
    if (dst != BROADCAST_MAC && dst != m_config.server_mac) return {};
    if (source_mac(frame) == m_config.server_mac || is_multicast(source_mac(frame))) return {};
    switch (ethertype(frame)) {
    case ETHERTYPE_ARP: {
        auto r = handle_arp(frame);
        if (r.empty()) return {};
        std::vector<std::vector<std::uint8_t>> out;
        out.push_back(std::move(r));
        return out;
    }
    case ETHERTYPE_IPV4:
        return handle_ipv4(frame, now_seconds);
    default:
        return {};
    }
}

// ARP (RFC 826) for Ethernet/IPv4 only: a request for the server's address
// gets a reply to the asker.
std::vector<std::uint8_t> DhcpServer::handle_arp(std::span<std::uint8_t const> frame) const {
    constexpr std::size_t A = ETH_HEADER;
    if (frame.size() < A + 28) return {};
    if (get16(frame, A) != 1 || get16(frame, A + 2) != ETHERTYPE_IPV4 || frame[A + 4] != 6 ||
        frame[A + 5] != 4 || get16(frame, A + 6) != 1)
        return {};
    if (get32(frame, A + 24) != m_config.server_ip) return {};
    Mac sha{};
    std::copy_n(frame.begin() + A + 8, 6, sha.begin());
    if (is_multicast(sha)) return {};
    std::uint32_t const spa = get32(frame, A + 14);
    std::vector<std::uint8_t> r(60, 0);
    std::copy(sha.begin(), sha.end(), r.begin());
    std::copy(m_config.server_mac.begin(), m_config.server_mac.end(), r.begin() + 6);
    put16(r, 12, ETHERTYPE_ARP);
    put16(r, A, 1);
    put16(r, A + 2, ETHERTYPE_IPV4);
    r[A + 4] = 6;
    r[A + 5] = 4;
    put16(r, A + 6, 2);
    std::copy(m_config.server_mac.begin(), m_config.server_mac.end(), r.begin() + A + 8);
    put32(r, A + 14, m_config.server_ip);
    std::copy(sha.begin(), sha.end(), r.begin() + A + 18);
    put32(r, A + 24, spa);
    return r;
}

std::vector<std::vector<std::uint8_t>> DhcpServer::handle_ipv4(std::span<std::uint8_t const> frame,
                                                               std::uint64_t now) {
    constexpr std::size_t IP = ETH_HEADER;
    if (frame.size() < IP + IPV4_MIN_HEADER) return {};
    std::uint8_t const vihl = frame[IP];
    std::size_t const ihl = std::size_t{vihl & 0x0Fu} * 4;
    if ((vihl >> 4) != 4 || ihl < IPV4_MIN_HEADER || IP + ihl > frame.size()) return {};
    std::size_t const total = get16(frame, IP + 2);
    // The frame may carry Ethernet padding after the datagram, never less.
    if (total < ihl || IP + total > frame.size()) return {};
    if (checksum_finish(checksum_add(frame.subspan(IP, ihl))) != 0) return {};
    // Fragments (MF set or an offset): nothing we answer comes fragmented.
    if ((get16(frame, IP + 6) & 0x3FFF) != 0) return {};
    std::uint8_t const protocol = frame[IP + 9];
    std::uint32_t const dst_ip = get32(frame, IP + 16);

    std::vector<std::vector<std::uint8_t>> out;
    if (protocol == PROTO_ICMP) {
        if (dst_ip != m_config.server_ip) return {};
        auto r = handle_icmp(frame, IP, ihl, total);
        if (!r.empty()) out.push_back(std::move(r));
        return out;
    }
    if (protocol != PROTO_UDP) return {};
    std::uint32_t const net = m_config.network & m_config.mask;
    if (dst_ip != BROADCAST_IP && dst_ip != m_config.server_ip && dst_ip != (net | ~m_config.mask)) return {};
    std::size_t const udp = IP + ihl;
    if (total - ihl < UDP_HEADER) return {};
    std::size_t const udp_len = get16(frame, udp + 4);
    if (udp_len < UDP_HEADER || udp_len > total - ihl) return {};
    if (get16(frame, udp) != PORT_CLIENT || get16(frame, udp + 2) != PORT_SERVER) return {};
    if (get16(frame, udp + 6) != 0) {
        // A checksum was sent: it must hold (0 means none, RFC 768).
        std::uint32_t sum = pseudo_header_sum(get32(frame, IP + 12), dst_ip, udp_len);
        if (checksum_finish(checksum_add(frame.subspan(udp, udp_len), sum)) != 0) return {};
    }
    return handle_dhcp(frame.subspan(udp + UDP_HEADER, udp_len - UDP_HEADER), now);
}

// ICMP echo (RFC 792) to the server's address: the same identifier,
// sequence and data back.
std::vector<std::uint8_t> DhcpServer::handle_icmp(std::span<std::uint8_t const> frame, std::size_t ip,
                                                  std::size_t ihl, std::size_t total) {
    auto const icmp = frame.subspan(ip + ihl, total - ihl);
    if (icmp.size() < 8 || icmp[0] != 8 || icmp[1] != 0) return {};
    if (checksum_finish(checksum_add(icmp)) != 0) return {};
    std::uint32_t const src_ip = get32(frame, ip + 12);
    if (!is_unicast_ip(src_ip)) return {};
    std::vector<std::uint8_t> reply(icmp.begin(), icmp.end());
    reply[0] = 0; // echo reply
    reply[2] = reply[3] = 0;
    put16(reply, 2, checksum_finish(checksum_add(reply)));
    return ipv4_frame(source_mac(frame), m_config.server_mac, PROTO_ICMP, m_config.server_ip, src_ip,
                      next_ip_id(), reply);
}

std::vector<std::vector<std::uint8_t>> DhcpServer::handle_dhcp(std::span<std::uint8_t const> m,
                                                               std::uint64_t now) {
    if (m.size() < BOOTP_OPTIONS) return {};
    if (m[0] != 1 /* BOOTREQUEST */) return {};
    // Ethernet only: htype 1, hlen 6 (a "huge hardware length" is refused here).
    if (m[1] != 1 || m[2] != 6) return {};
    if (get32(m, 24) != 0) return {}; // giaddr: relayed, see the header
    if (get32(m, 236) != MAGIC_COOKIE) return {};

    Options options;
    if (!parse_options(m.subspan(BOOTP_OPTIONS), options)) return {};
    // Option overload (RFC 2132 9.3): more options in `file`, then `sname`.
    // Only honoured in the main area, so it cannot recurse.
    if (auto const* ov = options.find(OPT_OVERLOAD)) {
        if (ov->size() != 1 || (*ov)[0] < 1 || (*ov)[0] > 3) return {};
        std::uint8_t const which = (*ov)[0];
        if ((which & 1) && !parse_options(m.subspan(BOOTP_FILE, BOOTP_FILE_LEN), options)) return {};
        if ((which & 2) && !parse_options(m.subspan(BOOTP_SNAME, BOOTP_SNAME_LEN), options)) return {};
    }

    auto const* type = options.find(OPT_MESSAGE_TYPE);
    if (type == nullptr || type->size() != 1) return {}; // BOOTP: not served

    Request r;
    r.type = (*type)[0];
    r.xid = get32(m, 4);
    r.flags = get16(m, 10);
    r.ciaddr = get32(m, 12);
    std::copy_n(m.begin() + 28, 6, r.chaddr.begin());
    if (is_multicast(r.chaddr)) return {};
    if (auto const* id = options.find(OPT_CLIENT_ID)) {
        // RFC 2132 9.14: at least 2 bytes; the lease file keeps at most 255.
        if (id->size() < 2 || id->size() > 255) return {};
        r.client_id = *id;
    }
    r.requested_ip = option_ip(options, OPT_REQUESTED_IP);
    r.server_id = option_ip(options, OPT_SERVER_ID);
    if (auto const* p = options.find(OPT_PARAMETER_LIST)) r.parameter_list = *p;

    std::vector<std::uint8_t> frame;
    switch (r.type) {
    case DHCPDISCOVER:
        frame = on_discover(r, now);
        break;
    case DHCPREQUEST:
        frame = on_request(r, now);
        break;
    case DHCPDECLINE:
        on_decline(r, now);
        break;
    case DHCPRELEASE:
        on_release(r, now);
        break;
    case DHCPINFORM:
        frame = on_inform(r);
        break;
    default:
        break;
    }
    std::vector<std::vector<std::uint8_t>> out;
    if (!frame.empty()) out.push_back(std::move(frame));
    return out;
}

// Free for this client: not held by anyone else (an expired record of
// anyone is free), and room for a new record if there is none yet.
bool DhcpServer::free_for(std::uint32_t address, Request const& request, std::uint64_t now) const {
    if (!allocatable(address)) return false;
    auto it = m_records.find(address);
    if (it == m_records.end()) return m_records.size() < m_config.max_records;
    return request.same_client(it->second) || it->second.expires <= now;
}

// RFC 2131 4.3.1: the client's current or previous address, else the one
// it asks for, else the lowest free one in the pool.
std::optional<std::uint32_t> DhcpServer::choose_address(Request const& request, std::uint64_t now) const {
    for (auto const& [address, lease] : m_records)
        if (request.same_client(lease) && allocatable(address)) return address;
    if (request.requested_ip && free_for(*request.requested_ip, request, now)) return request.requested_ip;
    // Walk the pool and the records side by side: an address that is not a
    // record is free unless excluded (server, gateway, DNS, WINS: a few), so
    // the walk takes at most about max_records steps even in a /8 pool, and
    // when the records are at their limit it jumps from record to record.
    auto const& c = m_config;
    std::uint64_t const net = c.network & c.mask;
    std::uint64_t const bcast = net | (~c.mask & 0xFFFF'FFFFu);
    if (bcast <= net + 16) return std::nullopt; // a network too small for a pool
    std::uint64_t a = std::max<std::uint64_t>(c.pool_start, net + 16);
    std::uint64_t const last = std::min<std::uint64_t>(c.pool_end, bcast - 1);
    if (a > last) return std::nullopt;
    auto it = m_records.lower_bound(static_cast<std::uint32_t>(a));
    while (a <= last) {
        auto const address = static_cast<std::uint32_t>(a);
        if (it != m_records.end() && it->first == address) {
            if (allocatable(address) && (it->second.expires <= now || request.same_client(it->second)))
                return address;
            ++it;
            ++a;
            continue;
        }
        if (m_records.size() >= m_config.max_records) {
            if (it == m_records.end()) break;
            a = it->first;
            continue;
        }
        if (allocatable(address)) return address;
        ++a;
    }
    return std::nullopt;
}

// Gives `address` to the client as a bound lease (dropping any other record
// of the client), and persists.
void DhcpServer::bind(Request const& request, std::uint32_t address, std::uint64_t now) {
    std::erase_if(m_records,
                  [&](auto const& e) { return e.first != address && request.same_client(e.second); });
    DhcpLease& l = m_records[address];
    l.address = address;
    l.mac = request.chaddr;
    l.client_id = request.client_id;
    l.expires = now + m_config.lease_seconds;
    l.state = DhcpLease::State::Bound;
    save();
}

std::vector<std::uint8_t> DhcpServer::on_discover(Request const& request, std::uint64_t now) {
    auto address = choose_address(request, now);
    if (!address) return {}; // pool exhausted: no offer (RFC 2131 4.3.1)
    auto it = m_records.find(*address);
    bool const keeps_lease = it != m_records.end() && request.same_client(it->second) &&
                             it->second.state == DhcpLease::State::Bound && it->second.expires > now;
    if (!keeps_lease) {
        // Hold the address for this client; drop its other records only if
        // they are mere offers (a bound lease elsewhere stays until REQUEST).
        std::erase_if(m_records, [&](auto const& e) {
            return e.first != *address && request.same_client(e.second) &&
                   e.second.state == DhcpLease::State::Offered;
        });
        DhcpLease& l = m_records[*address];
        l.address = *address;
        l.mac = request.chaddr;
        l.client_id = request.client_id;
        l.expires = now + OFFER_HOLD_SECONDS;
        l.state = DhcpLease::State::Offered;
    }
    return reply(request, Reply::Offer, *address);
}

// RFC 2131 4.3.2. We are the only DHCP server a virtual network has, so we
// answer authoritatively: a request for an address that is free and ours is
// granted even without a record (a lost lease file, a guest moved from
// another network's server with the same settings), and everything else that
// names an address we cannot give gets a NAK.
std::vector<std::uint8_t> DhcpServer::on_request(Request const& request, std::uint64_t now) {
    std::uint32_t address = 0;
    if (request.server_id) {
        // SELECTING: the answer to an OFFER.
        if (*request.server_id != m_config.server_ip) {
            // The client chose another server: release what we offered.
            std::erase_if(m_records, [&](auto const& e) {
                return request.same_client(e.second) && e.second.state == DhcpLease::State::Offered;
            });
            return {};
        }
        if (!request.requested_ip || request.ciaddr != 0) return {}; // malformed
        address = *request.requested_ip;
    } else if (request.requested_ip) {
        // INIT-REBOOT: a client checking the address it remembers.
        if (request.ciaddr != 0) return {};
        address = *request.requested_ip;
    } else if (request.ciaddr != 0) {
        // RENEWING (unicast to us) or REBINDING (broadcast).
        address = request.ciaddr;
    } else {
        return {};
    }
    if (!free_for(address, request, now)) return reply(request, Reply::Nak, 0);
    bind(request, address, now);
    return reply(request, Reply::Ack, address);
}

// RFC 2131 4.3.3: the client found the address in use; it is not handed out
// again for DECLINE_HOLD_SECONDS.
void DhcpServer::on_decline(Request const& request, std::uint64_t now) {
    if (request.server_id && *request.server_id != m_config.server_ip) return;
    if (!request.requested_ip) return;
    auto it = m_records.find(*request.requested_ip);
    if (it == m_records.end() || !request.same_client(it->second)) return;
    it->second =
        DhcpLease{*request.requested_ip, Mac{}, {}, now + DECLINE_HOLD_SECONDS, DhcpLease::State::Declined};
    save();
}

// RFC 2131 4.3.4: the address is free again; the record stays (expired) so
// the client gets the same address next time if nobody took it.
void DhcpServer::on_release(Request const& request, std::uint64_t now) {
    if (request.server_id && *request.server_id != m_config.server_ip) return;
    auto it = m_records.find(request.ciaddr);
    if (it == m_records.end() || !request.same_client(it->second) || it->second.expires <= now) return;
    it->second.expires = now;
    it->second.state = DhcpLease::State::Bound;
    save();
}

// RFC 2131 4.3.5: configuration only, no lease, sent to ciaddr.
std::vector<std::uint8_t> DhcpServer::on_inform(Request const& request) {
    return reply(request, Reply::InformAck, 0);
}

std::vector<std::uint8_t> DhcpServer::reply(Request const& request, Reply kind, std::uint32_t yiaddr) {
    auto const& c = m_config;
    std::vector<std::uint8_t> m(BOOTP_OPTIONS, 0);
    m[0] = 2; // BOOTREPLY
    m[1] = 1;
    m[2] = 6;
    put32(m, 4, request.xid);
    put16(m, 10, static_cast<std::uint16_t>(request.flags & 0x8000));
    if (kind == Reply::Ack || kind == Reply::InformAck) put32(m, 12, request.ciaddr);
    put32(m, 16, yiaddr);
    std::copy(request.chaddr.begin(), request.chaddr.end(), m.begin() + 28);
    put32(m, 236, MAGIC_COOKIE);

    OptionWriter o;
    std::uint8_t const type = kind == Reply::Offer ? DHCPOFFER : kind == Reply::Nak ? DHCPNAK : DHCPACK;
    o.add(OPT_MESSAGE_TYPE, std::array<std::uint8_t, 1>{type});
    o.add32(OPT_SERVER_ID, c.server_ip);
    // RFC 6842: the client identifier is echoed, so a client can match it.
    if (!request.client_id.empty()) o.add(OPT_CLIENT_ID, request.client_id);
    if (kind != Reply::Nak) {
        if (kind != Reply::InformAck) {
            // T1 < T2 < lease, or the RFC 2131 4.4.5 defaults.
            std::uint32_t t1 = c.renewal_seconds;
            std::uint32_t t2 = c.rebinding_seconds;
            if (!(t1 < t2 && t2 < c.lease_seconds)) {
                t1 = c.lease_seconds / 2;
                t2 = static_cast<std::uint32_t>(std::uint64_t{c.lease_seconds} * 7 / 8);
            }
            o.add32(OPT_LEASE_TIME, c.lease_seconds);
            o.add32(OPT_RENEWAL_TIME, t1);
            o.add32(OPT_REBINDING_TIME, t2);
        }
        // The mask always (a client without it guesses from the class);
        // the rest as the parameter request list asks, in our order.
        o.add32(OPT_SUBNET_MASK, c.mask);
        if (c.gateway && request.wants(OPT_ROUTER)) o.add32(OPT_ROUTER, *c.gateway);
        if (!c.dns.empty() && request.wants(OPT_DNS)) o.add_ips(OPT_DNS, c.dns);
        if (!c.domain_name.empty() && request.wants(OPT_DOMAIN_NAME)) {
            std::string_view name(c.domain_name);
            name = name.substr(0, 64);
            o.add(OPT_DOMAIN_NAME,
                  std::span(reinterpret_cast<std::uint8_t const*>(name.data()), name.size()));
        }
        if (!c.wins.empty() && request.wants(OPT_NETBIOS_NAME_SERVER))
            o.add_ips(OPT_NETBIOS_NAME_SERVER, c.wins);
    }
    auto const opts = o.finish();
    m.insert(m.end(), opts.begin(), opts.end());
    if (m.size() < MIN_REPLY_MESSAGE) m.resize(MIN_REPLY_MESSAGE, 0);

    // Where it goes (RFC 2131 4.1, giaddr is always 0 here): a NAK is
    // broadcast; with ciaddr set, unicast to ciaddr; with the broadcast bit,
    // broadcast; otherwise unicast to yiaddr at chaddr.
    Mac dst_mac = request.chaddr;
    std::uint32_t dst_ip = yiaddr;
    if (kind == Reply::Nak) {
        dst_mac = BROADCAST_MAC;
        dst_ip = BROADCAST_IP;
    } else if (request.ciaddr != 0 && is_unicast_ip(request.ciaddr)) {
        dst_ip = request.ciaddr;
    } else if (request.broadcast_flag() || yiaddr == 0) {
        dst_mac = BROADCAST_MAC;
        dst_ip = BROADCAST_IP;
    }

    std::vector<std::uint8_t> udp(UDP_HEADER, 0);
    put16(udp, 0, PORT_SERVER);
    put16(udp, 2, PORT_CLIENT);
    put16(udp, 4, static_cast<std::uint16_t>(UDP_HEADER + m.size()));
    udp.insert(udp.end(), m.begin(), m.end());
    std::uint16_t sum =
        checksum_finish(checksum_add(udp, pseudo_header_sum(c.server_ip, dst_ip, udp.size())));
    put16(udp, 6, sum == 0 ? 0xFFFF : sum); // 0 would mean "no checksum"
    return ipv4_frame(dst_mac, c.server_mac, PROTO_UDP, c.server_ip, dst_ip, next_ip_id(), udp);
}

} // namespace vsa::network
