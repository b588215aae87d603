// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/guid.h"

#include <charconv>

namespace vsa::services {

Guid Guid::random(std::mt19937_64& generator) {
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < 16; i += 8) {
        auto draw = generator();
        for (std::size_t k = 0; k < 8; ++k)
            bytes[i + k] = static_cast<std::uint8_t>(draw >> (8 * k));
    }
    bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40); // version 4
    bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
    return Guid(bytes);
}

std::optional<Guid> Guid::parse(std::string_view text) {
    if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
    if (text.size() != 36) return std::nullopt;
    std::array<std::uint8_t, 16> bytes{};
    std::size_t out = 0;
    for (std::size_t i = 0; i < text.size();) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return std::nullopt;
            ++i;
            continue;
        }
        unsigned value = 0;
        auto [end, error] = std::from_chars(text.data() + i, text.data() + i + 2, value, 16);
        if (error != std::errc() || end != text.data() + i + 2 || out >= 16) return std::nullopt;
        bytes[out++] = static_cast<std::uint8_t>(value);
        i += 2;
    }
    if (out != 16) return std::nullopt;
    return Guid(bytes);
}

std::optional<Guid> Guid::from_bytes(std::vector<std::uint8_t> const& bytes) {
    if (bytes.size() != 16) return std::nullopt;
    std::array<std::uint8_t, 16> octets{};
    for (std::size_t i = 0; i < 16; ++i)
        octets[i] = bytes[i];
    return Guid(octets);
}

std::string Guid::to_string() const {
    static constexpr char HEX[] = "0123456789ABCDEF";
    std::string text = "{";
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        text += HEX[m_bytes[i] >> 4];
        text += HEX[m_bytes[i] & 15];
    }
    return text + "}";
}

bool Guid::is_null() const {
    for (auto byte : m_bytes)
        if (byte) return false;
    return true;
}

} // namespace vsa::services
