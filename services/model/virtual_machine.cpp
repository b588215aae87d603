// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/virtual_machine.h"

#include "services/model/names.h"
#include "services/model/vm_limits.h"

#include <algorithm>

namespace vsa::services {

namespace {

template <typename Item>
void sort_by_location(std::vector<Item>& items) {
    std::sort(items.begin(), items.end(),
              [](Item const& a, Item const& b) { return a.location() < b.location(); });
}

std::size_t utf8_characters(std::string_view text) {
    std::size_t count = 0;
    for (char c : text)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
    return count;
}

} // namespace

VirtualMachine::VirtualMachine(std::string name, std::filesystem::path file, Guid config_id)
    : m_name(std::move(name)), m_file(std::move(file)), m_config_id(config_id) {}

std::filesystem::path VirtualMachine::saved_state_file() const {
    return folder() / (m_name + ".vsv");
}

ServiceResult<void> VirtualMachine::require_off(char const* what) const {
    if (is_off(m_state)) return {};
    return service_error(hr::VM_E_VM_RUNNING, std::string(what) +
                                                  " can change only while the virtual machine \"" + m_name +
                                                  "\" is turned off with no saved state");
}

ServiceResult<void> VirtualMachine::set_name(std::string name) {
    TRY(validate_object_name(name));
    m_name = std::move(name);
    return {};
}

ServiceResult<void> VirtualMachine::set_memory_mb(std::int64_t megabytes) {
    if (megabytes < VmLimits::MIN_MEMORY_MB || megabytes > VmLimits::MAX_MEMORY_MB)
        return service_error(hr::E_INVALIDARG, std::to_string(megabytes) +
                                                   " MB is out of range; memory must be " +
                                                   std::to_string(VmLimits::MIN_MEMORY_MB) + "-" +
                                                   std::to_string(VmLimits::MAX_MEMORY_MB) + " MB");
    if (megabytes != m_memory_mb) TRY(require_off("Memory"));
    m_memory_mb = static_cast<std::int32_t>(megabytes);
    return {};
}

ServiceResult<void> VirtualMachine::set_notes(std::string notes) {
    if (!is_valid_utf8(notes)) return service_error(hr::E_INVALIDARG, "the notes are not valid UTF-8");
    if (utf8_characters(notes) > MAX_NOTES_CHARACTERS)
        return service_error(hr::E_INVALIDARG,
                             "notes are limited to " + std::to_string(MAX_NOTES_CHARACTERS) + " characters");
    m_notes = std::move(notes);
    return {};
}

DriveType VirtualMachine::drive_type_at(BusLocation const& location) const {
    for (auto const& disk : m_disks)
        if (disk.location() == location) return DriveType::HardDisk;
    for (auto const& dvd : m_dvds)
        if (dvd.location() == location) return DriveType::Dvd;
    return DriveType::Null;
}

ServiceResult<void> VirtualMachine::require_free_slot(BusLocation const& location) const {
    TRY(validate_bus_location(location));
    TRY(require_scsi_location(location));
    auto occupant = drive_type_at(location);
    if (occupant != DriveType::Null)
        return service_error(hr::VM_E_DRIVE_BUS_LOC_IN_USE,
                             location.to_string() + " already holds a " +
                                 (occupant == DriveType::HardDisk ? "hard disk" : "CD/DVD drive"));
    return {};
}

ServiceResult<void> VirtualMachine::add_hard_disk_connection(std::string disk_path, BusLocation location) {
    TRY(require_off("Hard disk connections"));
    TRY(validate_stored_path(disk_path, "hard disk"));
    TRY(require_free_slot(location));
    for (auto const& disk : m_disks)
        if (disk.disk_path() == disk_path)
            return service_error(hr::E_SHARING_VIOLATION,
                                 disk_path + " is already attached at " + disk.location().to_string());
    m_disks.emplace_back(location, std::move(disk_path));
    sort_by_location(m_disks);
    return {};
}

ServiceResult<HardDiskConnection*> VirtualMachine::hard_disk_connection_at(BusLocation const& location) {
    for (auto& disk : m_disks)
        if (disk.location() == location) return &disk;
    return service_error(hr::VM_E_DRIVE_INVALID, "no hard disk at " + location.to_string());
}

ServiceResult<void> VirtualMachine::remove_hard_disk_connection(BusLocation const& location) {
    TRY(require_off("Hard disk connections"));
    auto* disk = TRY(hard_disk_connection_at(location));
    m_disks.erase(m_disks.begin() + (disk - m_disks.data()));
    return {};
}

ServiceResult<void> VirtualMachine::move_hard_disk_connection(BusLocation const& from, BusLocation to) {
    TRY(require_off("Hard disk locations"));
    auto* disk = TRY(hard_disk_connection_at(from));
    if (from == to) return {};
    TRY(require_free_slot(to));
    disk->set_location(to);
    sort_by_location(m_disks);
    return {};
}

ServiceResult<void> VirtualMachine::add_dvd_drive(BusLocation location) {
    TRY(require_off("CD/DVD drives"));
    if (location.bus_type == DriveBusType::Scsi)
        return service_error(hr::E_INVALIDARG, "CD/DVD drives attach to IDE only");
    TRY(require_free_slot(location));
    m_dvds.emplace_back(location);
    sort_by_location(m_dvds);
    return {};
}

ServiceResult<DvdDrive*> VirtualMachine::dvd_drive_at(BusLocation const& location) {
    for (auto& dvd : m_dvds)
        if (dvd.location() == location) return &dvd;
    return service_error(hr::VM_E_DRIVE_INVALID, "no CD/DVD drive at " + location.to_string());
}

ServiceResult<void> VirtualMachine::remove_dvd_drive(BusLocation const& location) {
    TRY(require_off("CD/DVD drives"));
    auto* dvd = TRY(dvd_drive_at(location));
    m_dvds.erase(m_dvds.begin() + (dvd - m_dvds.data()));
    return {};
}

ServiceResult<void> VirtualMachine::move_dvd_drive(BusLocation const& from, BusLocation to) {
    TRY(require_off("CD/DVD drive locations"));
    if (to.bus_type == DriveBusType::Scsi)
        return service_error(hr::E_INVALIDARG, "CD/DVD drives attach to IDE only");
    auto* dvd = TRY(dvd_drive_at(from));
    if (from == to) return {};
    TRY(require_free_slot(to));
    dvd->set_location(to);
    sort_by_location(m_dvds);
    return {};
}

ServiceResult<std::int32_t> VirtualMachine::add_network_adapter(MacAddress address) {
    TRY(require_off("Network adapters"));
    if (m_nics.size() >= static_cast<std::size_t>(VmLimits::MAX_NETWORK_ADAPTERS))
        return service_error(hr::E_FAIL, "a virtual machine has at most " +
                                             std::to_string(VmLimits::MAX_NETWORK_ADAPTERS) +
                                             " network adapters");
    auto id = static_cast<std::int32_t>(m_nics.size());
    m_nics.emplace_back(id, address);
    return id;
}

ServiceResult<NetworkAdapter*> VirtualMachine::network_adapter(std::int32_t id) {
    for (auto& nic : m_nics)
        if (nic.id() == id) return &nic;
    return service_error(hr::E_INVALIDARG,
                         "virtual machine \"" + m_name + "\" has no network adapter " + std::to_string(id));
}

ServiceResult<void> VirtualMachine::remove_network_adapter(std::int32_t id) {
    TRY(require_off("Network adapters"));
    auto* nic = TRY(network_adapter(id));
    m_nics.erase(m_nics.begin() + (nic - m_nics.data()));
    // Ids stay dense (0..n-1): a .vmc numbers its ethernet_controller
    // elements below controller_count.
    for (std::size_t i = 0; i < m_nics.size(); ++i)
        m_nics[i].renumber(static_cast<std::int32_t>(i));
    return {};
}

ServiceResult<SerialPort*> VirtualMachine::serial_port(std::int32_t id) {
    if (id < 0 || id > 1) return service_error(hr::DISP_E_BADINDEX, "serial ports are 0 (COM1) and 1 (COM2)");
    return &m_serial[static_cast<std::size_t>(id)];
}

ServiceResult<void> VirtualMachine::set_autostart(AutoStartType type) {
    if (!enum_from_int<AutoStartType>(static_cast<std::int64_t>(type)))
        return service_error(hr::E_INVALIDARG,
                             "unknown VMAutoStartType " + std::to_string(static_cast<int>(type)));
    m_autostart = type;
    return {};
}

ServiceResult<void> VirtualMachine::set_autostart_delay_seconds(std::int64_t seconds) {
    if (seconds < 0 || seconds > 86'400)
        return service_error(hr::E_INVALIDARG, "the autostart delay must be 0-86400 seconds");
    m_autostart_delay = static_cast<std::int32_t>(seconds);
    return {};
}

ServiceResult<void> VirtualMachine::set_shutdown_action(ShutdownAction action) {
    if (!enum_from_int<ShutdownAction>(static_cast<std::int64_t>(action)))
        return service_error(hr::E_INVALIDARG,
                             "unknown VMShutdownAction " + std::to_string(static_cast<int>(action)));
    m_shutdown_action = action;
    return {};
}

ServiceResult<void> VirtualMachine::set_undoable(bool undoable) {
    if (undoable != m_undoable) TRY(require_off("Undoable"));
    m_undoable = undoable;
    return {};
}

ServiceResult<void> VirtualMachine::set_undo_action(UndoAction action) {
    if (!enum_from_int<UndoAction>(static_cast<std::int64_t>(action)))
        return service_error(hr::E_INVALIDARG,
                             "unknown VMUndoAction " + std::to_string(static_cast<int>(action)));
    m_undo_action = action;
    return {};
}

ServiceResult<void> VirtualMachine::set_account_name(std::string name) {
    if (name.size() > 256 || !is_valid_utf8(name) ||
        std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
        return service_error(hr::E_INVALIDARG, "invalid account name");
    m_account_name = std::move(name);
    return {};
}

ServiceResult<void> VirtualMachine::set_smbios(std::string& field, std::string value, char const* what) {
    if (value == field) return {};
    TRY(require_off(what));
    if (value.size() > MAX_SMBIOS_STRING ||
        std::any_of(value.begin(), value.end(), [](char c) { return c < 0x20 || c > 0x7E; }))
        return service_error(hr::E_INVALIDARG, std::string(what) + " must be at most " +
                                                   std::to_string(MAX_SMBIOS_STRING) +
                                                   " printable ASCII characters");
    field = std::move(value);
    return {};
}

ServiceResult<void> VirtualMachine::set_boot_order(std::vector<BootDevice> order) {
    if (order.empty()) return service_error(hr::E_INVALIDARG, "the boot order is empty");
    if (order == m_bios.boot_order) return {};
    TRY(require_off("The boot order"));
    m_bios.boot_order = std::move(order);
    return {};
}

ServiceResult<void> VirtualMachine::set_num_lock(bool on) {
    if (on == m_bios.num_lock) return {};
    TRY(require_off("Num Lock at boot"));
    m_bios.num_lock = on;
    return {};
}

ServiceResult<void> VirtualMachine::set_bios_guid(std::string value) {
    if (!value.empty()) {
        auto guid = Guid::parse(value);
        if (!guid || value.front() != '{')
            return service_error(hr::E_INVALIDARG,
                                 "BIOSGUID must look like {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}");
        value = guid->to_string();
    }
    if (value == m_bios_guid) return {};
    TRY(require_off("BIOSGUID"));
    m_bios_guid = std::move(value);
    return {};
}

ServiceResult<void> VirtualMachine::set_bios_serial_number(std::string value) {
    return set_smbios(m_bios_serial, std::move(value), "BIOSSerialNumber");
}
ServiceResult<void> VirtualMachine::set_base_board_serial_number(std::string value) {
    return set_smbios(m_base_board_serial, std::move(value), "BaseBoardSerialNumber");
}
ServiceResult<void> VirtualMachine::set_chassis_serial_number(std::string value) {
    return set_smbios(m_chassis_serial, std::move(value), "ChassisSerialNumber");
}
ServiceResult<void> VirtualMachine::set_chassis_asset_tag(std::string value) {
    return set_smbios(m_chassis_asset_tag, std::move(value), "ChassisAssetTag");
}

ServiceResult<void> VirtualMachine::set_host_time_sync_enabled(bool enabled) {
    if (enabled != m_guest_os.is_host_time_sync_enabled()) TRY(require_off("IsHostTimeSyncEnabled"));
    m_guest_os.set_host_time_sync_enabled(enabled);
    return {};
}

bool VirtualMachine::same_configuration(VirtualMachine const& other) const {
    return m_name == other.m_name && m_file == other.m_file && m_config_id == other.m_config_id &&
           m_memory_mb == other.m_memory_mb && m_notes == other.m_notes && m_disks == other.m_disks &&
           m_dvds == other.m_dvds && m_floppy == other.m_floppy && m_nics == other.m_nics &&
           m_scsi == other.m_scsi && m_serial == other.m_serial && m_parallel == other.m_parallel &&
           m_autostart == other.m_autostart && m_autostart_delay == other.m_autostart_delay &&
           m_shutdown_action == other.m_shutdown_action &&
           m_was_running_at_quit == other.m_was_running_at_quit && m_undoable == other.m_undoable &&
           m_undo_action == other.m_undo_action &&
           m_run_as_defined_account == other.m_run_as_defined_account &&
           m_account_name == other.m_account_name && m_bios_guid == other.m_bios_guid &&
           m_bios.boot_order == other.m_bios.boot_order && m_bios.num_lock == other.m_bios.num_lock &&
           m_bios_serial == other.m_bios_serial && m_base_board_serial == other.m_base_board_serial &&
           m_chassis_serial == other.m_chassis_serial && m_chassis_asset_tag == other.m_chassis_asset_tag &&
           m_guest_os == other.m_guest_os && m_scheduling == other.m_scheduling;
}

ServiceResult<void> VirtualMachine::set_scheduling(SchedulingParameters parameters,
                                                   unsigned host_processors) {
    TRY(check_scheduling(parameters, host_processors));
    m_scheduling = parameters;
    return {};
}

} // namespace vsa::services
