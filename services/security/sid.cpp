// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/security/sid.h"

#include <charconv>

namespace vsa::services::security {

namespace {

constexpr std::uint64_t MAX_AUTHORITY = (std::uint64_t{1} << 48) - 1;

template <typename T>
std::optional<T> number(std::string_view text) {
    T value{};
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    if (text.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

} // namespace

Sid::Sid(std::uint64_t authority, std::vector<std::uint32_t> sub_authorities)
    : m_authority(authority & MAX_AUTHORITY), m_sub(std::move(sub_authorities)) {
    if (m_sub.size() > MAX_SUB_AUTHORITIES) m_sub.resize(MAX_SUB_AUTHORITIES);
}

std::optional<Sid> Sid::parse(std::string_view text) {
    if (text.size() < 4 || (text[0] != 'S' && text[0] != 's') || text[1] != '-') return std::nullopt;
    text.remove_prefix(2);
    std::vector<std::string_view> parts;
    while (true) {
        auto dash = text.find('-');
        parts.push_back(text.substr(0, dash));
        if (dash == std::string_view::npos) break;
        text.remove_prefix(dash + 1);
    }
    // Revision 1, an authority, 1..15 sub-authorities.
    if (parts.size() < 3 || parts.size() > 2 + MAX_SUB_AUTHORITIES || parts[0] != "1") return std::nullopt;
    auto authority = number<std::uint64_t>(parts[1]);
    if (!authority || *authority > MAX_AUTHORITY) return std::nullopt;
    std::vector<std::uint32_t> sub;
    for (std::size_t i = 2; i < parts.size(); ++i) {
        auto value = number<std::uint32_t>(parts[i]);
        if (!value) return std::nullopt;
        sub.push_back(*value);
    }
    return Sid(*authority, std::move(sub));
}

std::optional<Sid> Sid::from_bytes(std::vector<std::uint8_t> const& bytes, std::size_t offset,
                                   std::size_t* used) {
    if (offset + 8 > bytes.size() || bytes[offset] != 1) return std::nullopt;
    std::size_t count = bytes[offset + 1];
    if (count > MAX_SUB_AUTHORITIES || offset + 8 + 4 * count > bytes.size()) return std::nullopt;
    std::uint64_t authority = 0;
    for (std::size_t i = 0; i < 6; ++i)
        authority = authority << 8 | bytes[offset + 2 + i];
    std::vector<std::uint32_t> sub;
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t at = offset + 8 + 4 * i;
        sub.push_back(static_cast<std::uint32_t>(bytes[at]) | static_cast<std::uint32_t>(bytes[at + 1]) << 8 |
                      static_cast<std::uint32_t>(bytes[at + 2]) << 16 |
                      static_cast<std::uint32_t>(bytes[at + 3]) << 24);
    }
    if (used) *used = 8 + 4 * count;
    return Sid(authority, std::move(sub));
}

std::string Sid::to_string() const {
    // Windows writes authorities of 2^32 and more in hex.
    std::string text = "S-1-";
    if (m_authority >= (std::uint64_t{1} << 32)) {
        char buffer[16];
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, m_authority, 16);
        (void)ec;
        std::string hex(buffer, end);
        for (auto& c : hex)
            if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
        text += "0x" + std::string(12 - std::min<std::size_t>(12, hex.size()), '0') + hex;
    } else {
        text += std::to_string(m_authority);
    }
    for (auto sub : m_sub)
        text += "-" + std::to_string(sub);
    return text;
}

std::vector<std::uint8_t> Sid::bytes() const {
    std::vector<std::uint8_t> out{1, static_cast<std::uint8_t>(m_sub.size())};
    for (int shift = 40; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(m_authority >> shift));
    for (auto sub : m_sub)
        for (int shift = 0; shift < 32; shift += 8)
            out.push_back(static_cast<std::uint8_t>(sub >> shift));
    return out;
}

Sid Sid::with_rid(std::uint32_t rid) const {
    auto sub = m_sub;
    sub.push_back(rid);
    return Sid(m_authority, std::move(sub));
}

std::optional<std::uint32_t> Sid::rid_in(Sid const& domain) const {
    if (m_authority != domain.m_authority || m_sub.size() != domain.m_sub.size() + 1) return std::nullopt;
    for (std::size_t i = 0; i < domain.m_sub.size(); ++i)
        if (m_sub[i] != domain.m_sub[i]) return std::nullopt;
    return m_sub.back();
}

Sid everyone_sid() {
    return Sid(1, {0});
}
Sid builtin_administrators_sid() {
    return Sid(5, {32, 544});
}
Sid builtin_users_sid() {
    return Sid(5, {32, 545});
}
Sid local_system_sid() {
    return Sid(5, {18});
}

} // namespace vsa::services::security
