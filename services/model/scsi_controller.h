// SPDX-License-Identifier: GPL-2.0-or-later
// ScsiController: one of a VM's SCSI adapters (IVMSCSIController). Virtual
// Server's was an Adaptec 7870; the worker emulates a VMware PVSCSI adapter
// instead (hw/pvscsi.h says why). Its number (_ID, 0-3) is the busNumber
// of the disks on it and stays the same while it exists, so a disk's
// location does not move when another controller is removed.
//
// SCSIID is the adapter's own ID on its bus, 6 or 7 (default 7); a disk
// may not use it. A shared bus (IsBusShared, Virtual Server's clustering
// of two VMs on one bus) holds one disk, at device 0. Nothing is shared
// between VMs here: the flag only narrows where disks may go.
#pragma once

#include "services/service_error.h"

#include <cstdint>

namespace vsa::services {

inline constexpr std::int32_t SCSI_DEVICES_PER_BUS = 7; // device IDs 0-6
inline constexpr std::int32_t DEFAULT_SCSI_ID = 7;

struct ScsiController {
    std::int32_t id{0};
    bool bus_shared{false};
    std::int32_t scsi_id{DEFAULT_SCSI_ID};

    // Whether a disk may sit at `device` on this controller's bus.
    bool device_allowed(std::int32_t device) const {
        if (device < 0 || device >= SCSI_DEVICES_PER_BUS || device == scsi_id) return false;
        return !bus_shared || device == 0;
    }

    friend bool operator==(ScsiController const&, ScsiController const&) = default;
};

// E_INVALIDARG unless 6 or 7 (IVMSCSIController.Configure).
ServiceResult<void> validate_scsi_id(std::int64_t scsi_id);

} // namespace vsa::services
