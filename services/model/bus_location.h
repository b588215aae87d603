// SPDX-License-Identifier: GPL-2.0-or-later
// BusLocation: where a hard disk or CD/DVD drive sits (busType, busNumber,
// deviceNumber in the COM API).
//
// IDE: the PIIX3 controller's two channels with two devices each, the four
// IDE slots of Virtual Server. SCSI: bus = the number of one of the VM's
// SCSI controllers (0-3), device = a SCSI ID 0-6 other than the
// controller's own, device 0 only on a shared bus. Virtual Server's
// adapter was an Adaptec 7870; the worker emulates a VMware PVSCSI adapter
// per controller (hw/pvscsi.h). Whether the controller exists and allows
// the device is the VirtualMachine's check (scsi_controller.h); here only
// the ranges.
#pragma once

#include "services/model/enums.h"
#include "services/service_error.h"

#include <cstdint>
#include <optional>
#include <string>

namespace vsa::services {

inline constexpr std::int32_t IDE_BUSES = 2;
inline constexpr std::int32_t IDE_DEVICES_PER_BUS = 2;
inline constexpr std::int32_t SCSI_BUSES = 4;   // VmLimits::MAX_SCSI_CONTROLLERS
inline constexpr std::int32_t SCSI_DEVICES = 7; // IDs 0-6

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
// type.
ServiceResult<void> validate_bus_location(BusLocation const& location);

} // namespace vsa::services
