// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/bus_location.h"

namespace vsa::services {

std::string BusLocation::to_string() const {
    std::string bus_name = bus_type == DriveBusType::Ide    ? "IDE"
                           : bus_type == DriveBusType::Scsi ? "SCSI"
                                                            : "invalid bus";
    return bus_name + " " + std::to_string(bus) + ":" + std::to_string(device);
}

ServiceResult<void> validate_bus_location(BusLocation const& location) {
    if (location.bus_type == DriveBusType::Scsi) {
        if (location.bus < 0 || location.bus >= SCSI_BUSES || location.device < 0 ||
            location.device >= SCSI_DEVICES)
            return service_error(hr::E_INVALIDARG, "SCSI location " + location.to_string() +
                                                       " is out of range (bus 0-3, device 0-6)");
        return {};
    }
    if (location.bus_type != DriveBusType::Ide)
        return service_error(hr::E_INVALIDARG, "the bus type must be IDE (0) or SCSI (1)");
    if (location.bus < 0 || location.bus >= IDE_BUSES || location.device < 0 ||
        location.device >= IDE_DEVICES_PER_BUS)
        return service_error(hr::E_INVALIDARG, "IDE location " + location.to_string() +
                                                   " is out of range (bus 0-1, device 0-1)");
    return {};
}

} // namespace vsa::services
