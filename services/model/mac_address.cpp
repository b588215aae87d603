// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/mac_address.h"

#include <charconv>

namespace vsa::services {

std::optional<MacAddress> MacAddress::parse(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    std::array<std::uint8_t, 6> bytes{};
    char separator = text[2];
    if (separator != '-' && separator != ':') return std::nullopt;
    for (std::size_t i = 0; i < 6; ++i) {
        auto pair = text.substr(i * 3, 2);
        if (i < 5 && text[i * 3 + 2] != separator) return std::nullopt;
        unsigned value = 0;
        auto [end, error] = std::from_chars(pair.data(), pair.data() + 2, value, 16);
        if (error != std::errc() || end != pair.data() + 2) return std::nullopt;
        bytes[i] = static_cast<std::uint8_t>(value);
    }
    return MacAddress(bytes);
}

std::optional<MacAddress> MacAddress::from_bytes(std::vector<std::uint8_t> const& bytes) {
    if (bytes.size() != 6) return std::nullopt;
    std::array<std::uint8_t, 6> octets{};
    for (std::size_t i = 0; i < 6; ++i)
        octets[i] = bytes[i];
    return MacAddress(octets);
}

MacAddress MacAddress::generate_dynamic(std::mt19937_64& random) {
    auto draw = random();
    return MacAddress({MICROSOFT_OUI[0], MICROSOFT_OUI[1], MICROSOFT_OUI[2], static_cast<std::uint8_t>(draw),
                       static_cast<std::uint8_t>(draw >> 8), static_cast<std::uint8_t>(draw >> 16)});
}

std::string MacAddress::to_string() const {
    static constexpr char HEX[] = "0123456789ABCDEF";
    std::string text;
    for (std::size_t i = 0; i < 6; ++i) {
        if (i) text += '-';
        text += HEX[m_bytes[i] >> 4];
        text += HEX[m_bytes[i] & 15];
    }
    return text;
}

bool MacAddress::is_zero() const {
    for (auto byte : m_bytes)
        if (byte) return false;
    return true;
}

} // namespace vsa::services
