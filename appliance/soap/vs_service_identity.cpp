// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: a VM's identity (issue 11). The SMBIOS strings of
// IVMVirtualMachine (BIOSGUID, BIOSSerialNumber, BaseBoardSerialNumber,
// ChassisSerialNumber, ChassisAssetTag): adapters over VirtualMachine's
// setters, which check the form and that the VM is off (VM_E_VM_RUNNING,
// vs-api.md section 9). Their values are made at first boot by
// services/worker/vm_runtime_identity.cpp and reach the guest through the
// worker's SMBIOS tables (hw/smbios_tables.h).
//
// And the run-as account (AccountName, RunAsDefinedAccount,
// SetAccountNameAndPassword): a host account whose password PAM accepted;
// only its name is kept, in the .vmc. What it means at startup is
// services/worker/host_account.h and vm_runtime_identity.cpp.
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/virtual_server.h"
#include "services/worker/host_account.h"

#include <Poco/Logger.h>

namespace vsa::appliance {

using services::Guid;
using services::ServiceError;
using services::ServiceResult;
using services::VirtualMachine;
namespace hr = services::hr;

namespace {

ServiceResult<VirtualMachine> find_vm(services::Inventory const& inventory, std::string_view ref) {
    Guid id = TRY(parse_vm_reference(ref));
    auto vm = inventory.virtual_machine(id);
    if (!vm) return Err{ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string()}};
    return std::move(*vm);
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// get_X reads the string; set_X goes through update_virtual_machine
// (validated on a copy, written to the .vmc, then committed).
#define VSA_SMBIOS_STRING(prop, getter, setter, argument)                                                    \
    VSA_OP(IVMVirtualMachine_USCOREget_USCORE##prop) {                                                       \
        if (int rc = require_principal()) return rc;                                                         \
        auto vm = find_vm(inventory(), request->_USCOREthis);                                                \
        return deliver(soap, std::move(vm),                                                                  \
                       [&](VirtualMachine const& machine) { response.returnval = machine.getter(); });       \
    }                                                                                                        \
    VSA_OP(IVMVirtualMachine_USCOREset_USCORE##prop) {                                                       \
        if (int rc = require_principal()) return rc;                                                         \
        auto id = parse_vm_reference(request->_USCOREthis);                                                  \
        if (id.is_error()) return fault(id.error());                                                         \
        auto changed = inventory().update_virtual_machine(                                                   \
            id.value(), [&](VirtualMachine& vm) { return vm.setter(request->argument); });                   \
        return deliver_void(soap, changed.is_error() ? ServiceResult<void>(Err{changed.error()})             \
                                                     : ServiceResult<void>(Ok{}));                           \
    }

VSA_SMBIOS_STRING(BIOSGUID, bios_guid, set_bios_guid, biosGUID)
VSA_SMBIOS_STRING(BIOSSerialNumber, bios_serial_number, set_bios_serial_number, biosSerialNumber)
VSA_SMBIOS_STRING(BaseBoardSerialNumber, base_board_serial_number, set_base_board_serial_number,
                  baseBoardSerialNumber)
VSA_SMBIOS_STRING(ChassisSerialNumber, chassis_serial_number, set_chassis_serial_number, chassisSerialNumber)
VSA_SMBIOS_STRING(ChassisAssetTag, chassis_asset_tag, set_chassis_asset_tag, chassisAssetTag)
#undef VSA_SMBIOS_STRING

VSA_OP(IVMVirtualMachine_USCOREget_USCOREAccountName) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, find_vm(inventory(), request->_USCOREthis),
                   [&](VirtualMachine const& vm) { response.returnval = vm.account_name(); });
}

VSA_OP(IVMVirtualMachine_USCOREget_USCORERunAsDefinedAccount) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, find_vm(inventory(), request->_USCOREthis),
                   [&](VirtualMachine const& vm) { response.returnval = vm.run_as_defined_account(); });
}

VSA_OP(IVMVirtualMachine_USCOREset_USCORERunAsDefinedAccount) {
    if (int rc = require_principal()) return rc;
    auto id = parse_vm_reference(request->_USCOREthis);
    if (id.is_error()) return fault(id.error());
    auto changed =
        inventory().update_virtual_machine(id.value(), [&](VirtualMachine& vm) -> ServiceResult<void> {
            vm.set_run_as_defined_account(request->runAsDefinedAccountEnabled);
            return Ok{};
        });
    return deliver_void(soap, changed.is_error() ? ServiceResult<void>(Err{changed.error()})
                                                 : ServiceResult<void>(Ok{}));
}

// The password is checked now (E_ACCESSDENIED, as documented, for a wrong
// name or password) and then forgotten; "" as the name goes back to vsad's
// own account, whatever the password.
VSA_OP(IVMVirtualMachine_USCORESetAccountNameAndPassword) {
    if (int rc = require_principal()) return rc;
    auto result = [&]() -> ServiceResult<void> {
        VirtualMachine vm = TRY(find_vm(inventory(), request->_USCOREthis));
        std::string name = request->accountName;
        if (!name.empty()) {
            auto account = TRY(services::lookup_host_account(name));
            TRY(services::verify_host_password(account.name, request->accountPassword));
        }
        TRY(inventory().update_virtual_machine(
            vm.config_id(), [&](VirtualMachine& changed) { return changed.set_account_name(name); }));
        Poco::Logger::get("vsad.security")
            .information("user '" + m_call->principal->user + "' made " +
                         (name.empty() ? std::string("vsad's own account") : "host account '" + name + "'") +
                         " the run-as account of virtual machine \"" + vm.name() + "\"");
        return Ok{};
    }();
    return deliver_void(soap, std::move(result));
}

} // namespace vsa::appliance
