// SPDX-License-Identifier: GPL-2.0-or-later
// VirtualMachine: the configuration of one registered VM, the properties and
// device collections of IVMVirtualMachine that a .vmc holds (vs-api.md
// section 3), with Virtual Server's validation.
//
// A value type: the inventory hands out copies and changes a VM by applying
// a function to a copy, validating, writing the .vmc atomically, and only
// then replacing its own copy (Inventory::update_vm). So every setter
// either succeeds or leaves the object as it was, and a failed write leaves
// memory and disk agreeing.
//
// What needs the VM off (TurnedOff, no saved state; VM_E_VM_RUNNING
// otherwise): Memory, Undoable, adding, removing and moving drives and NICs,
// the SMBIOS strings, host time sync. Media, names, notes and start/stop
// policies change in any state (vs-api.md section 6, preconditions).
//
// Deliberately left out: SCSI controllers (not emulated, see BusLocation),
// event scripts and activation values (not core; a later part), the account
// password of SetAccountNameAndPassword (never stored in a .vmc).
// AutoStartAtLaunch does not require RunAsDefinedAccount: without it a
// vsa-vm worker runs under vsad's service account, which is a defined
// account in Virtual Server's sense (no interactive user is needed).
#pragma once

#include "services/model/bios_settings.h"
#include "services/model/dvd_drive.h"
#include "services/model/enums.h"
#include "services/model/floppy_drive.h"
#include "services/model/guest_os.h"
#include "services/model/guid.h"
#include "services/model/hard_disk_connection.h"
#include "services/model/network_adapter.h"
#include "services/model/parallel_port.h"
#include "services/model/scheduling.h"
#include "services/model/scsi_controller.h"
#include "services/model/serial_port.h"
#include "services/service_error.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace vsa::services {

inline constexpr std::int32_t DEFAULT_MEMORY_MB = 128;
inline constexpr std::size_t MAX_NOTES_CHARACTERS = 40'000;
inline constexpr std::size_t MAX_SMBIOS_STRING = 32;

class VirtualMachine {
public:
    // A new VM as CreateVirtualMachine makes it: 128 MB, no drives, no NICs,
    // an empty floppy drive, unconnected COM1/COM2 and LPT1.
    VirtualMachine(std::string name, std::filesystem::path file, Guid config_id);

    // Identity.
    std::string const& name() const { return m_name; }
    std::filesystem::path const& file() const { return m_file; } // the .vmc
    std::filesystem::path folder() const { return m_file.parent_path(); }
    Guid const& config_id() const { return m_config_id; }
    // "<folder>/<name>.vsv": where Save writes the machine state.
    std::filesystem::path saved_state_file() const;

    // Runtime state, not part of the file: the lifecycle code sets it.
    VmState state() const { return m_state; }
    void set_state(VmState state) { m_state = state; }

    // Syntax only (names.h); uniqueness is the inventory's, which also
    // renames the .vmc as Virtual Server does.
    ServiceResult<void> set_name(std::string name);
    void set_file(std::filesystem::path file) { m_file = std::move(file); }
    void set_config_id(Guid id) { m_config_id = id; }

    std::int32_t memory_mb() const { return m_memory_mb; }
    // E_INVALIDARG outside VmLimits::MIN_MEMORY_MB..MAX_MEMORY_MB.
    ServiceResult<void> set_memory_mb(std::int64_t megabytes);

    std::string const& notes() const { return m_notes; }
    // At most 40,000 characters (E_INVALIDARG); "" clears.
    ServiceResult<void> set_notes(std::string notes);

    // Hard disks and CD/DVD drives share the four IDE slots.
    std::vector<HardDiskConnection> const& hard_disk_connections() const { return m_disks; }
    std::vector<DvdDrive> const& dvd_drives() const { return m_dvds; }
    DriveType drive_type_at(BusLocation const& location) const;
    // VM_E_DRIVE_BUS_LOC_IN_USE when the slot holds a drive,
    // E_SHARING_VIOLATION when the same image is attached elsewhere.
    ServiceResult<void> add_hard_disk_connection(std::string disk_path, BusLocation location);
    // VM_E_DRIVE_INVALID when no disk is at `location`.
    ServiceResult<void> remove_hard_disk_connection(BusLocation const& location);
    ServiceResult<void> move_hard_disk_connection(BusLocation const& from, BusLocation to);
    ServiceResult<HardDiskConnection*> hard_disk_connection_at(BusLocation const& location);
    ServiceResult<void> add_dvd_drive(BusLocation location);
    ServiceResult<void> remove_dvd_drive(BusLocation const& location);
    ServiceResult<void> move_dvd_drive(BusLocation const& from, BusLocation to);
    // Media changes are allowed in any state.
    ServiceResult<DvdDrive*> dvd_drive_at(BusLocation const& location);

    // SCSI controllers (virtual_machine_scsi.cpp), sorted by id. A disk
    // location on SCSI names an existing controller (busNumber = its id)
    // and a device its bus allows (ScsiController::device_allowed).
    std::vector<ScsiController> const& scsi_controllers() const { return m_scsi; }
    ServiceResult<ScsiController const*> scsi_controller(std::int32_t id) const; // VM_E_PREF_NOT_FOUND
    ServiceResult<std::int32_t> add_scsi_controller(); // the lowest free id; E_FAIL past the maximum
    ServiceResult<void> remove_scsi_controller(std::int32_t id); // VM_E_DRIVE_BUS_LOC_IN_USE with disks on it
    ServiceResult<void> configure_scsi_controller(std::int32_t id, bool bus_shared, std::int64_t scsi_id);
    // Loading a .vmc: a controller as it was saved.
    ServiceResult<std::int32_t> restore_scsi_controller(ScsiController controller);

    FloppyDrive const& floppy_drive() const { return m_floppy; }
    FloppyDrive& floppy_drive() { return m_floppy; }

    std::vector<NetworkAdapter> const& network_adapters() const { return m_nics; }
    // Adds an unplugged NIC with the next id and the given (dynamic)
    // address; E_FAIL past VmLimits::MAX_NETWORK_ADAPTERS. Returns the id.
    // Ids are dense: removing a NIC renumbers the ones after it.
    ServiceResult<std::int32_t> add_network_adapter(MacAddress address);
    ServiceResult<void> remove_network_adapter(std::int32_t id);
    // NICs attach and detach in any state (hot plug, vs-api.md 7.1).
    ServiceResult<NetworkAdapter*> network_adapter(std::int32_t id);

    std::array<SerialPort, 2> const& serial_ports() const { return m_serial; }
    // DISP_E_BADINDEX for an id other than 0 or 1.
    ServiceResult<SerialPort*> serial_port(std::int32_t id);
    ParallelPort const& parallel_port() const { return m_parallel; }
    ParallelPort& parallel_port() { return m_parallel; }
    // What clients change (virtual_machine_ports.cpp): only while off
    // (VM_E_VM_RUNNING: the worker opens its host ends at start), and
    // VM_E_PREF_ILLEGAL_VALUE when another port of this VM already uses the
    // same file, device or TCP port. The port's own rules otherwise.
    ServiceResult<void> configure_serial_port(std::int32_t id, SerialPortType type, std::string name,
                                              bool connect_immediately);
    ServiceResult<void> set_parallel_port_name(std::string name);

    // Start and stop policies.
    AutoStartType autostart() const { return m_autostart; }
    std::int32_t autostart_delay_seconds() const { return m_autostart_delay; }
    ShutdownAction shutdown_action() const { return m_shutdown_action; }
    bool was_running_at_quit() const { return m_was_running_at_quit; }
    ServiceResult<void> set_autostart(AutoStartType type);
    ServiceResult<void> set_autostart_delay_seconds(std::int64_t seconds); // 0..86400
    ServiceResult<void> set_shutdown_action(ShutdownAction action);
    void set_was_running_at_quit(bool running) { m_was_running_at_quit = running; }

    // Undo disks.
    bool undoable() const { return m_undoable; }
    UndoAction undo_action() const { return m_undo_action; }
    ServiceResult<void> set_undoable(bool undoable);
    ServiceResult<void> set_undo_action(UndoAction action);

    // RunAs account (name only): the host account the worker runs as when
    // run_as_defined_account() (services/worker/host_account.h).
    bool run_as_defined_account() const { return m_run_as_defined_account; }
    std::string const& account_name() const { return m_account_name; }
    void set_run_as_defined_account(bool value) { m_run_as_defined_account = value; }
    ServiceResult<void> set_account_name(std::string name); // <= 256 bytes, no control characters

    // SMBIOS strings: empty until first boot in Virtual Server; <= 32
    // printable ASCII characters; BIOSGUID as {8-4-4-4-12}.
    std::string const& bios_guid() const { return m_bios_guid; }
    std::string const& bios_serial_number() const { return m_bios_serial; }
    std::string const& base_board_serial_number() const { return m_base_board_serial; }
    std::string const& chassis_serial_number() const { return m_chassis_serial; }
    std::string const& chassis_asset_tag() const { return m_chassis_asset_tag; }
    ServiceResult<void> set_bios_guid(std::string value);
    ServiceResult<void> set_bios_serial_number(std::string value);
    ServiceResult<void> set_base_board_serial_number(std::string value);
    ServiceResult<void> set_chassis_serial_number(std::string value);
    ServiceResult<void> set_chassis_asset_tag(std::string value);

    // Boot order and Num Lock at boot (bios_settings.h); while off only.
    BiosSettings const& bios() const { return m_bios; }
    ServiceResult<void> set_boot_order(std::vector<BootDevice> order);
    ServiceResult<void> set_num_lock(bool on);

    // CPU scheduling (scheduling.h), in any state. The setter checks the
    // parameters against a host of `host_processors` processors (the .vmc
    // reader passes 1: a file from a bigger host still loads, and the
    // runtime clamps the cap to the host it runs on).
    SchedulingParameters const& scheduling() const { return m_scheduling; }
    ServiceResult<void> set_scheduling(SchedulingParameters parameters, unsigned host_processors);

    GuestOsSettings const& guest_os() const { return m_guest_os; }
    GuestOsSettings& guest_os() { return m_guest_os; }
    ServiceResult<void> set_host_time_sync_enabled(bool enabled);

    // The .vmc as it was read, so keys we do not model (BIOS CMOS bytes,
    // UI options, ...) survive our rewrites. Empty for a new VM.
    std::string const& preserved_xml() const { return m_preserved_xml; }
    void set_preserved_xml(std::string xml) { m_preserved_xml = std::move(xml); }

    // Configuration equality (the runtime state and the preserved text are
    // not configuration).
    bool same_configuration(VirtualMachine const& other) const;

private:
    ServiceResult<void> require_off(char const* what) const;
    ServiceResult<void> require_free_slot(BusLocation const& location) const;
    ServiceResult<void> require_scsi_location(BusLocation const& location) const;
    ServiceResult<void> set_smbios(std::string& field, std::string value, char const* what);

    std::string m_name;
    std::filesystem::path m_file;
    Guid m_config_id;
    VmState m_state{VmState::TurnedOff};

    std::int32_t m_memory_mb{DEFAULT_MEMORY_MB};
    std::string m_notes;
    std::vector<HardDiskConnection> m_disks; // sorted by location
    std::vector<DvdDrive> m_dvds;            // sorted by location
    FloppyDrive m_floppy{0};
    std::vector<NetworkAdapter> m_nics; // sorted by id
    std::vector<ScsiController> m_scsi; // sorted by id
    std::array<SerialPort, 2> m_serial{SerialPort(0), SerialPort(1)};
    ParallelPort m_parallel;

    AutoStartType m_autostart{AutoStartType::IfRunningAtQuit};
    std::int32_t m_autostart_delay{0};
    ShutdownAction m_shutdown_action{ShutdownAction::Save};
    bool m_was_running_at_quit{false};
    bool m_undoable{false};
    UndoAction m_undo_action{UndoAction::Keep};
    bool m_run_as_defined_account{false};
    std::string m_account_name;
    std::string m_bios_guid;
    std::string m_bios_serial;
    std::string m_base_board_serial;
    std::string m_chassis_serial;
    std::string m_chassis_asset_tag;
    BiosSettings m_bios;
    GuestOsSettings m_guest_os;
    SchedulingParameters m_scheduling;

    std::string m_preserved_xml;
};

} // namespace vsa::services
