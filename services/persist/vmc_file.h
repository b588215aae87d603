// SPDX-License-Identifier: GPL-2.0-or-later
// The .vmc file: a VirtualMachine in Virtual Server's XML layout.
//
// We follow the layout of real Virtual PC / Virtual Server 2005 files
// (<preferences> with typed leaves, see preferences_xml.h) for every key
// whose real name is known, so a .vmc copied from a Windows host registers
// and one of ours reads back there:
//   hardware/memory/ram_size                                     Memory
//   hardware/pci_bus/ide_adapter/ide_controller[@id=B]/location[@id=D]/
//       drive_type (0 none, 1 hard disk, 2 CD/DVD),
//       pathname/{absolute,relative}, undo_pathname/{absolute,relative}
//   hardware/pci_bus/ethernet_adapter/controller_count,
//       ethernet_controller[@id=N]/{ethernet_card_address (bytes),
//       virtual_network/{id (bytes), name}}
//   hardware/super_io/floppy[@id=0]/pathname/{absolute,relative}
//   hardware/super_io/serial_port[@id=N]/connect_immediately
//   hardware/bios/{bios_guid, bios_serial_number, base_board/serial_number,
//       chassis/{asset_tag, serial_number}}
//   integration/microsoft/heartbeat/{time,rate,failure_interval,failure_attempts}
//   integration/microsoft/host_time_sync/enabled
//   integration/microsoft/version/additions_number
//   settings/notes, settings/undo_drives/{enabled, default_action}
//   settings/shutdown/quit/{action, was_running}
//   settings/startup/automatic/type               AutoStartAtLaunch
//   settings/configuration/saved_state/path/{absolute,relative}
// Keys of our own, for properties whose real key we could not confirm:
//   settings/configuration/config_id (string)     ConfigID
//   settings/startup/automatic/delay (integer)    AutoStartAtLaunchDelay
//   settings/run_as/{enabled, account_name}       RunAsDefinedAccount, AccountName
//   ethernet_controller/ethernet_card_address_is_dynamic (boolean)
//   serial_port/{type (integer VMSerialPortType), name (string)}
//   parallel_port[@id=0]/name (string)
//   settings/security                             IVMSecurity (security_xml.h;
//                                                 kept as preserved text)
// A CD/DVD or floppy "pathname/absolute" of one letter (or "X:") is a host
// drive, as in the reference's example; anything else is an image path.
//
// The VM's name is the file's stem, as in Virtual Server (renaming a VM
// renames its .vmc). Paths: "absolute" is used when it is a POSIX absolute
// path; otherwise (a file from Windows) "relative" (backslashes read as
// '/') is taken against the .vmc's folder, and failing that the Windows
// path's last component in that folder. Keys we do not model are kept from
// the file as read (VirtualMachine::preserved_xml) and written back;
// SCSI attachments in a real file are among them (not emulated, ignored).
#pragma once

#include "services/model/virtual_machine.h"
#include "services/persist/atomic_file.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace vsa::services::persist {

inline constexpr std::size_t MAX_VMC_BYTES = 2 * 1024 * 1024;

// Parses .vmc text that lives at `file`. ConfigID is null when the file has
// none (a file from Windows); the inventory assigns one.
ServiceResult<VirtualMachine> parse_vmc(std::string_view bytes, std::filesystem::path const& file);
ServiceResult<VirtualMachine> read_vmc(std::filesystem::path const& file);

// The text of vm's .vmc: its preserved document with the modelled keys
// rewritten.
ServiceResult<std::string> serialize_vmc(VirtualMachine const& vm);
// Writes vm.file() atomically.
ServiceResult<void> write_vmc(VirtualMachine const& vm, AtomicWriteHooks const& hooks = {});

} // namespace vsa::services::persist
