// SPDX-License-Identifier: GPL-2.0-or-later
// The DHCP server's lease file: one text line per lease or declined address
// (format in dhcp_server.h), rewritten whole on every change through a
// temporary file, fsync and rename, so a crash leaves the old or the new
// file, never half of one. Loading treats the file as hostile: its size and
// line lengths are bounded, every field is checked, and a bad line is
// reported by number (its bytes are not echoed into the log) and skipped.
#include "services/network/dhcp_server.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <unistd.h>

namespace vsa::network {

namespace {

constexpr std::size_t MAX_FILE_BYTES = 16 * 1024 * 1024;
constexpr std::size_t MAX_LINE = 1024;

std::vector<std::string_view> split_words(std::string_view line) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size() && words.size() <= 8) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
            ++i;
        std::size_t const start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t')
            ++i;
        if (i > start) words.push_back(line.substr(start, i - start));
    }
    return words;
}

bool parse_decimal(std::string_view text, std::uint64_t max, std::uint64_t& out) {
    if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size() && out <= max;
}

std::optional<std::uint32_t> parse_address(std::string_view text) {
    std::uint32_t a = 0;
    for (int part = 0; part < 4; ++part) {
        auto const dot = text.find('.');
        if ((part < 3) == (dot == std::string_view::npos)) return std::nullopt;
        std::uint64_t v = 0;
        if (!parse_decimal(text.substr(0, dot), 255, v)) return std::nullopt;
        a = (a << 8) | static_cast<std::uint32_t>(v);
        text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
    }
    return a;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool parse_hex(std::string_view text, std::vector<std::uint8_t>& out) {
    if (text.size() % 2 != 0) return false;
    for (std::size_t i = 0; i < text.size(); i += 2) {
        int const hi = hex_value(text[i]);
        int const lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    return true;
}

std::optional<Mac> parse_mac(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    Mac m{};
    for (std::size_t i = 0; i < 6; ++i) {
        if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
        int const hi = hex_value(text[i * 3]);
        int const lo = hex_value(text[i * 3 + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        m[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return m;
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t const n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

} // namespace

std::string format_ipv4_address(std::uint32_t a) {
    return std::to_string(a >> 24) + '.' + std::to_string((a >> 16) & 0xFF) + '.' +
           std::to_string((a >> 8) & 0xFF) + '.' + std::to_string(a & 0xFF);
}

std::string format_lease_line(DhcpLease const& lease) {
    if (lease.state == DhcpLease::State::Declined)
        return "declined " + format_ipv4_address(lease.address) + ' ' + std::to_string(lease.expires);
    std::string id;
    static constexpr char HEX[] = "0123456789abcdef";
    for (auto b : lease.client_id) {
        id += HEX[b >> 4];
        id += HEX[b & 15];
    }
    if (id.empty()) id = "-";
    return "lease " + format_ipv4_address(lease.address) + ' ' + format_mac(lease.mac) + ' ' + id + ' ' +
           std::to_string(lease.expires);
}

std::optional<DhcpLease> parse_lease_line(std::string_view line, std::string& error) {
    auto fail = [&error](char const* why) -> std::optional<DhcpLease> {
        error = why;
        return std::nullopt;
    };
    auto const words = split_words(line);
    DhcpLease lease;
    std::uint64_t expires = 0;
    if (!words.empty() && words[0] == "declined") {
        if (words.size() != 3) return fail("a declined line has 3 fields");
        lease.state = DhcpLease::State::Declined;
    } else if (!words.empty() && words[0] == "lease") {
        if (words.size() != 5) return fail("a lease line has 5 fields");
        auto mac = parse_mac(words[2]);
        if (!mac || is_multicast(*mac)) return fail("bad MAC address");
        lease.mac = *mac;
        if (words[3] != "-" && (!parse_hex(words[3], lease.client_id) || lease.client_id.size() < 2 ||
                                lease.client_id.size() > 255))
            return fail("bad client identifier");
        lease.state = DhcpLease::State::Bound;
    } else {
        return fail("unknown record");
    }
    auto address = parse_address(words[1]);
    if (!address) return fail("bad address");
    lease.address = *address;
    if (!parse_decimal(words.back(), UINT64_MAX, expires)) return fail("bad expiry");
    lease.expires = expires;
    return lease;
}

void DhcpServer::load() {
    if (m_lease_file.empty()) return;
    std::FILE* f = std::fopen(m_lease_file.c_str(), "rb");
    if (f == nullptr) {
        if (errno != ENOENT) problem("lease file " + m_lease_file.string() + ": " + std::strerror(errno));
        return;
    }
    std::string text(MAX_FILE_BYTES + 1, '\0');
    std::size_t const got = std::fread(text.data(), 1, text.size(), f);
    bool const read_error = std::ferror(f) != 0;
    std::fclose(f);
    text.resize(got);
    std::string const name = "lease file " + m_lease_file.string();
    if (read_error) problem(name + ": read error, using what was read");
    if (got > MAX_FILE_BYTES) {
        problem(name + ": larger than " + std::to_string(MAX_FILE_BYTES) + " bytes, the rest is ignored");
        text.resize(MAX_FILE_BYTES);
    }

    std::set<std::vector<std::uint8_t>> clients; // "i" + client id or "m" + MAC
    std::string_view rest(text);
    std::size_t number = 0;
    while (!rest.empty()) {
        auto const nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        ++number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty() || line[0] == '#') continue;
        std::string const where = name + " line " + std::to_string(number) + ": ";
        if (line.size() > MAX_LINE) {
            problem(where + "too long, ignored");
            continue;
        }
        std::string error;
        auto lease = parse_lease_line(line, error);
        if (!lease) {
            problem(where + error + ", ignored");
            continue;
        }
        if (!allocatable(lease->address)) {
            problem(where + "address " + format_ipv4_address(lease->address) +
                    " is not in the pool, ignored");
            continue;
        }
        if (m_records.contains(lease->address)) {
            problem(where + "address " + format_ipv4_address(lease->address) + " given twice, ignored");
            continue;
        }
        if (lease->state == DhcpLease::State::Bound) {
            std::vector<std::uint8_t> key{lease->client_id.empty() ? std::uint8_t{'m'} : std::uint8_t{'i'}};
            if (lease->client_id.empty())
                key.insert(key.end(), lease->mac.begin(), lease->mac.end());
            else
                key.insert(key.end(), lease->client_id.begin(), lease->client_id.end());
            if (!clients.insert(std::move(key)).second) {
                problem(where + "client has a lease already, ignored");
                continue;
            }
        }
        if (m_records.size() >= m_config.max_records) {
            problem(where + "too many records, the rest is ignored");
            break;
        }
        m_records.emplace(lease->address, std::move(*lease));
    }
}

void DhcpServer::save() {
    if (m_lease_file.empty()) return;
    std::string text = "# VSA DHCP leases: lease <address> <mac> <client id|-> <expiry>; declined <address> "
                       "<expiry>\n";
    for (auto const& [address, lease] : m_records)
        if (lease.state != DhcpLease::State::Offered) text += format_lease_line(lease) + '\n';

    std::filesystem::path tmp = m_lease_file;
    tmp += ".tmp";
    std::string const name = "lease file " + m_lease_file.string();
    int const fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        problem(name + ": cannot create " + tmp.string() + ": " + std::strerror(errno));
        return;
    }
    bool ok = write_all(fd, text) && ::fsync(fd) == 0;
    int const saved_errno = errno;
    ok = ::close(fd) == 0 && ok;
    if (!ok || ::rename(tmp.c_str(), m_lease_file.c_str()) != 0) {
        problem(name + ": cannot write: " + std::strerror(ok ? errno : saved_errno));
        ::unlink(tmp.c_str());
        return;
    }
    // The rename itself is durable once the directory is synced.
    auto dir = m_lease_file.parent_path();
    if (dir.empty()) dir = ".";
    int const dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

} // namespace vsa::network
