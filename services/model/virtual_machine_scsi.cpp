// SPDX-License-Identifier: GPL-2.0-or-later
// VirtualMachine: SCSI controllers as clients add, configure and remove
// them, and the SCSI rules for a disk location.
#include "services/model/virtual_machine.h"
#include "services/model/vm_limits.h"

#include <algorithm>

namespace vsa::services {

ServiceResult<void> validate_scsi_id(std::int64_t scsi_id) {
    if (scsi_id == 6 || scsi_id == 7) return {};
    return service_error(hr::E_INVALIDARG,
                         "a SCSI controller's own ID is 6 or 7, not " + std::to_string(scsi_id));
}

ServiceResult<ScsiController const*> VirtualMachine::scsi_controller(std::int32_t id) const {
    for (auto const& c : m_scsi)
        if (c.id == id) return &c;
    return service_error(hr::VM_E_PREF_NOT_FOUND, "the virtual machine \"" + m_name +
                                                      "\" has no SCSI controller " + std::to_string(id));
}

ServiceResult<std::int32_t> VirtualMachine::add_scsi_controller() {
    TRY(require_off("SCSI controllers"));
    if (m_scsi.size() >= static_cast<std::size_t>(VmLimits::MAX_SCSI_CONTROLLERS))
        return service_error(hr::E_FAIL, "a virtual machine has at most " +
                                             std::to_string(VmLimits::MAX_SCSI_CONTROLLERS) +
                                             " SCSI controllers");
    std::int32_t id = 0;
    while (scsi_controller(id).has_value())
        ++id;
    return restore_scsi_controller(ScsiController{.id = id});
}

ServiceResult<std::int32_t> VirtualMachine::restore_scsi_controller(ScsiController controller) {
    if (controller.id < 0 || controller.id >= VmLimits::MAX_SCSI_CONTROLLERS)
        return service_error(hr::E_INVALIDARG, "SCSI controller numbers are 0-" +
                                                   std::to_string(VmLimits::MAX_SCSI_CONTROLLERS - 1));
    if (scsi_controller(controller.id).has_value())
        return service_error(hr::E_INVALIDARG,
                             "SCSI controller " + std::to_string(controller.id) + " exists");
    TRY(validate_scsi_id(controller.scsi_id));
    m_scsi.push_back(controller);
    std::sort(m_scsi.begin(), m_scsi.end(), [](auto const& a, auto const& b) { return a.id < b.id; });
    return controller.id;
}

ServiceResult<void> VirtualMachine::remove_scsi_controller(std::int32_t id) {
    TRY(scsi_controller(id));
    TRY(require_off("SCSI controllers"));
    for (auto const& disk : m_disks)
        if (disk.location().bus_type == DriveBusType::Scsi && disk.location().bus == id)
            return service_error(hr::VM_E_DRIVE_BUS_LOC_IN_USE,
                                 "SCSI controller " + std::to_string(id) + " still holds the hard disk at " +
                                     disk.location().to_string() + "; remove or move it first");
    std::erase_if(m_scsi, [&](auto const& c) { return c.id == id; });
    return {};
}

ServiceResult<void> VirtualMachine::configure_scsi_controller(std::int32_t id, bool bus_shared,
                                                              std::int64_t scsi_id) {
    auto const* current = TRY(scsi_controller(id));
    TRY(validate_scsi_id(scsi_id));
    ScsiController wanted{.id = id, .bus_shared = bus_shared, .scsi_id = static_cast<std::int32_t>(scsi_id)};
    if (wanted == *current) return {};
    TRY(require_off("SCSI controller settings"));
    for (auto const& disk : m_disks)
        if (disk.location().bus_type == DriveBusType::Scsi && disk.location().bus == id &&
            !wanted.device_allowed(disk.location().device))
            return service_error(hr::VM_E_DRIVE_BUS_LOC_IN_USE,
                                 "the hard disk at " + disk.location().to_string() + " cannot stay on " +
                                     (bus_shared ? "a shared bus (device 0 only)" : "this bus") +
                                     " with the controller at SCSI ID " + std::to_string(scsi_id) +
                                     "; move it first");
    for (auto& c : m_scsi)
        if (c.id == id) c = wanted;
    return {};
}

ServiceResult<void> VirtualMachine::require_scsi_location(BusLocation const& location) const {
    if (location.bus_type != DriveBusType::Scsi) return {};
    auto found = scsi_controller(location.bus);
    if (!found.has_value())
        return service_error(hr::E_INVALIDARG, "SCSI location " + location.to_string() +
                                                   ": the virtual machine has no SCSI controller " +
                                                   std::to_string(location.bus) + " (AddSCSIController)");
    auto const* controller = found.value();
    if (!controller->device_allowed(location.device))
        return service_error(hr::E_INVALIDARG, "SCSI location " + location.to_string() + ": device " +
                                                   std::to_string(location.device) + " is " +
                                                   (location.device == controller->scsi_id
                                                        ? "the controller's own SCSI ID"
                                                        : "not allowed on a shared bus (device 0 only)"));
    return {};
}

} // namespace vsa::services
