// SPDX-License-Identifier: GPL-2.0-or-later
// Guid: the 128-bit identifiers of the model. A VM's ConfigID is shown as
// "{8-4-4-4-12}" (Windows GUID text); a virtual network's id is stored in
// .vmc/.vnc files as 32 hex digits of type "bytes", as real .vmc files
// reference their network (hardware/pci_bus/ethernet_adapter/
// ethernet_controller/virtual_network/id).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services {

class Guid {
public:
    Guid() = default;
    explicit Guid(std::array<std::uint8_t, 16> bytes) : m_bytes(bytes) {}

    // A random (version 4) GUID.
    static Guid random(std::mt19937_64& generator);
    // "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", braces optional, any case.
    static std::optional<Guid> parse(std::string_view text);
    static std::optional<Guid> from_bytes(std::vector<std::uint8_t> const& bytes);

    std::string to_string() const; // braces, upper case
    std::vector<std::uint8_t> bytes() const { return {m_bytes.begin(), m_bytes.end()}; }
    bool is_null() const;

    friend bool operator==(Guid const&, Guid const&) = default;
    friend auto operator<=>(Guid const&, Guid const&) = default;

private:
    std::array<std::uint8_t, 16> m_bytes{};
};

} // namespace vsa::services
