// SPDX-License-Identifier: GPL-2.0-or-later
// BusLocation: where a hard disk or CD/DVD drive sits (busType, busNumber,
// deviceNumber in the COM API).
//
// We emulate the PIIX IDE controller only: two channels with two devices
// each, the four IDE slots of Virtual Server. Virtual Server's Adaptec 7870
// SCSI adapter is not emulated (hw/ has no SCSI controller), so a SCSI
// location is refused with VM_E_DRIVE_INVALID and a message that says so.
#pragma once

#include "services/model/enums.h"
#include "services/service_error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace vsa::services {

inline constexpr std::int32_t IDE_BUSES = 2;
inline constexpr std::int32_t IDE_DEVICES_PER_BUS = 2;

struct BusLocation {
    DriveBusType bus_type{DriveBusType::Ide};
    std::int32_t bus{0};
    std::int32_t device{0};

    // 0..3: primary master, primary slave, secondary master, secondary slave.
    std::int32_t ide_slot() const { return bus * 2 + device; }
    // The worker's drive slot (ide_slot) of a location it emulates, an IDE
    // one in range; nullopt for any other.
    std::optional<unsigned> worker_slot() const {
        if (bus_type != DriveBusType::Ide || bus < 0 || bus >= IDE_BUSES || device < 0 ||
            device >= IDE_DEVICES_PER_BUS)
            return std::nullopt;
        return static_cast<unsigned>(ide_slot());
    }
    std::string to_string() const; // "IDE 1:0"

    friend bool operator==(BusLocation const&, BusLocation const&) = default;
    friend auto operator<=>(BusLocation const&, BusLocation const&) = default;
};

// E_INVALIDARG for a bus or device number out of range or an invalid bus
// type; VM_E_DRIVE_INVALID for SCSI (see above).
ServiceResult<void> validate_bus_location(BusLocation const& location);

} // namespace vsa::services
