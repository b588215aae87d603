// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/drive_types.h"

namespace vsa::services {

std::optional<std::size_t> drive_type_index(BusLocation const& location) {
    auto const bus_type = static_cast<std::int32_t>(location.bus_type);
    if (bus_type < 0 || std::size_t(bus_type) >= DRIVE_BUS_TYPES) return std::nullopt;
    if (location.bus < 0 || std::size_t(location.bus) >= DRIVE_BUS_NUMBERS) return std::nullopt;
    if (location.device < 0 || std::size_t(location.device) >= DRIVE_DEVICE_NUMBERS) return std::nullopt;
    return (std::size_t(bus_type) * DRIVE_BUS_NUMBERS + std::size_t(location.bus)) * DRIVE_DEVICE_NUMBERS +
           std::size_t(location.device);
}

std::array<std::uint8_t, DRIVE_TYPE_BYTES>
attached_drive_types(std::span<std::pair<BusLocation, DriveType> const> drives) {
    std::array<std::uint8_t, DRIVE_TYPE_BYTES> types{};
    for (auto const& [location, type] : drives)
        if (auto index = drive_type_index(location)) types[*index] = static_cast<std::uint8_t>(type);
    return types;
}

} // namespace vsa::services
