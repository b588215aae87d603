// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime and the VM's identity towards its guest: the SMBIOS strings
// (IVMVirtualMachine.BIOSGUID, BIOSSerialNumber, BaseBoardSerialNumber,
// ChassisSerialNumber, ChassisAssetTag).
//
// Virtual Server left them empty in a new .vmc and made them at the VM's
// first boot; so do we: at startup, an empty one gets a fresh value written
// to the .vmc before the worker starts (so the guest sees the same machine
// on every boot, and a client reads what the guest sees). The serial
// numbers and the asset tag take the form Microsoft's virtual machines
// show, 26 digits in groups of four ("1234-5678-...-12", 32 characters); BIOSGUID is a
// random GUID. A client may set any of them while the VM is off; setting
// one to "" makes the next boot draw a new one.
//
// The worker gets them as --smbios KEY=VALUE (hypervisor/machine/
// vsa_vm_main.cpp), which it hands SeaBIOS as SMBIOS tables
// (hw/smbios_tables.h).
//
// And the host account the worker runs as (RunAsDefinedAccount,
// AccountName; host_account.h): with RunAsDefinedAccount TRUE and an
// AccountName, that host account; otherwise vsad's own, as every worker
// ran before (Virtual Server ran such a VM as the user who started it,
// and a SOAP user is no host account). The account must reach the VM's
// files: the startup checks that first and fails naming the file.
#include "services/worker/vm_runtime.h"

#include <unistd.h>

#include <random>

namespace vsa::services {

namespace {

std::string random_serial(std::mt19937_64& generator) {
    std::uniform_int_distribution<int> digit(0, 9);
    std::string serial;
    for (int i = 0; i < 26; ++i) {
        if (i && i % 4 == 0) serial.push_back('-');
        serial.push_back(static_cast<char>('0' + digit(generator)));
    }
    return serial;
}

bool needs_identity(VirtualMachine const& vm) {
    return vm.bios_guid().empty() || vm.bios_serial_number().empty() ||
           vm.base_board_serial_number().empty() || vm.chassis_serial_number().empty() ||
           vm.chassis_asset_tag().empty();
}

} // namespace

ServiceResult<void> VmRuntime::assign_smbios_identity(Guid const& id) {
    auto current = m_inventory.virtual_machine(id);
    // Unknown VMs and running ones: the startup itself says why it refuses.
    if (!current || current->state() != VmState::TurnedOff || !needs_identity(*current)) return Ok{};
    std::random_device seed;
    std::mt19937_64 generator((static_cast<std::uint64_t>(seed()) << 32) ^ seed());
    auto updated = m_inventory.update_virtual_machine(id, [&](VirtualMachine& vm) -> ServiceResult<void> {
        if (vm.bios_guid().empty()) TRY(vm.set_bios_guid(Guid::random(generator).to_string()));
        if (vm.bios_serial_number().empty()) TRY(vm.set_bios_serial_number(random_serial(generator)));
        if (vm.base_board_serial_number().empty())
            TRY(vm.set_base_board_serial_number(random_serial(generator)));
        if (vm.chassis_serial_number().empty()) TRY(vm.set_chassis_serial_number(random_serial(generator)));
        if (vm.chassis_asset_tag().empty()) TRY(vm.set_chassis_asset_tag(random_serial(generator)));
        return Ok{};
    });
    if (updated.is_error()) {
        // A VM that started in between: its own startup made them.
        if (updated.error().code == hr::VM_E_VM_RUNNING) return Ok{};
        return Err{updated.error()};
    }
    log("virtual machine \"" + updated.value().name() + "\": SMBIOS identity made at first boot (BIOSGUID " +
        updated.value().bios_guid() + ")");
    return Ok{};
}

std::vector<std::string> VmRuntime::smbios_arguments(VirtualMachine const& vm) {
    std::vector<std::string> args;
    auto add = [&](char const* key, std::string const& value) {
        if (value.empty()) return;
        args.push_back("--smbios");
        args.push_back(std::string(key) + "=" + value);
    };
    add("uuid", vm.bios_guid());
    add("serial", vm.bios_serial_number());
    add("board-serial", vm.base_board_serial_number());
    add("chassis-serial", vm.chassis_serial_number());
    add("asset-tag", vm.chassis_asset_tag());
    return args;
}

ServiceResult<std::optional<HostCredentials>>
VmRuntime::worker_account(VirtualMachine const& vm, std::vector<std::string> const& arguments) const {
    if (!vm.run_as_defined_account() || vm.account_name().empty()) return std::optional<HostCredentials>{};
    auto account = TRY(lookup_host_account(vm.account_name()));
    TRY(may_switch_to(account));
    namespace fs = std::filesystem;
    std::vector<AccessNeed> needs{{m_options.worker_binary, X_OK}, {vm.folder(), W_OK | X_OK}};
    std::error_code ignored;
    // A file the worker appends to or rewrites: the file if it is there,
    // else its folder.
    auto output = [&](fs::path const& path) {
        if (fs::exists(path, ignored))
            needs.push_back({path, W_OK});
        else
            needs.push_back({path.parent_path(), W_OK | X_OK});
    };
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        std::string_view arg = arguments[i];
        if (arg.starts_with("--disk=") && arg.size() > 7)
            needs.push_back({std::string(arg.substr(7)), R_OK | W_OK});
        if (arg.starts_with("--cdrom=") && arg != "--cdrom=empty")
            needs.push_back({std::string(arg.substr(8)), R_OK});
        if (arg == "--floppy" && i + 1 < arguments.size() && arguments[i + 1] != "empty")
            needs.push_back({arguments[i + 1], R_OK});
        bool port = arg == "--serial" || arg == "--serial2" || arg == "--parallel";
        if (port && i + 1 < arguments.size()) {
            std::string_view spec = arguments[i + 1];
            if (spec.starts_with("append:")) output(std::string(spec.substr(7)));
            if (spec.starts_with("file:")) output(std::string(spec.substr(5)));
        }
        if (arg == "--restore-state" && i + 1 < arguments.size()) needs.push_back({arguments[i + 1], R_OK});
    }
    // An undoable VM's worker opens the base disks under its undo disks.
    if (vm.undoable())
        for (auto const& disk : vm.hard_disk_connections())
            needs.push_back({disk.disk_path(), R_OK});
    if (fs::exists(vm.saved_state_file(), ignored)) needs.push_back({vm.saved_state_file(), R_OK | W_OK});
    TRY(check_access_as(account, needs));
    return std::optional<HostCredentials>{std::move(account)};
}

} // namespace vsa::services
