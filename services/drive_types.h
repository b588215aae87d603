// SPDX-License-Identifier: GPL-2.0-or-later
// IVMVirtualMachine.AttachedDriveTypes: the VMDriveType of every bus
// location, which Virtual Server returned as a byte SAFEARRAY indexed
// [busType][busNumber][deviceNumber]. SOAP has no such array, so the bytes
// are flattened row-major into one byte string (base64) with fixed
// dimensions, the largest Virtual Server had: 2 bus types (IDE 0, SCSI 1),
// 4 buses (IDE has 2, SCSI up to 4 adapters) and 7 devices (IDE has 2, a
// SCSI adapter IDs 0-6). Locations that cannot exist here stay 0 (Null).
#pragma once

#include "services/model/bus_location.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

namespace vsa::services {

// DriveType (VMDriveType) is in model/enums.h.
inline constexpr std::size_t DRIVE_BUS_TYPES = 2;
inline constexpr std::size_t DRIVE_BUS_NUMBERS = 4;
inline constexpr std::size_t DRIVE_DEVICE_NUMBERS = 7;
inline constexpr std::size_t DRIVE_TYPE_BYTES = DRIVE_BUS_TYPES * DRIVE_BUS_NUMBERS * DRIVE_DEVICE_NUMBERS;

// (busType * 4 + busNumber) * 7 + deviceNumber; nullopt outside the array.
std::optional<std::size_t> drive_type_index(BusLocation const& location);

// The array for the given drives; a drive outside the array is left out.
std::array<std::uint8_t, DRIVE_TYPE_BYTES>
attached_drive_types(std::span<std::pair<BusLocation, DriveType> const> drives);

} // namespace vsa::services
