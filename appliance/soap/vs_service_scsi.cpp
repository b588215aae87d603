// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: SCSI controllers (IVMSCSIController, its collection, and
// IVMVirtualMachine's SCSIControllers, AddSCSIController,
// RemoveSCSIController). Adapters only: the rules are VirtualMachine's
// (virtual_machine_scsi.cpp, scsi_controller.h); disks on SCSI go through
// AddHardDiskConnection / SetBusLocation with busType 1 (vs_service.cpp).
//
// References: "<vm>/scsi/<id>" (the controller's number, 0-3), the
// collection "<vm>/SCSIControllers". They carry no state: one of a VM that
// is gone fails with VM_E_VM_UNKNOWN, one of a controller removed since
// with VM_E_PREF_NOT_FOUND.
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/model/vm_limits.h"
#include "services/virtual_server.h"

namespace vsa::appliance {

using services::Guid;
using services::ScsiController;
using services::ServiceError;
using services::ServiceResult;
using services::VirtualMachine;
namespace hr = services::hr;

namespace {

constexpr std::string_view SCSI_MARK = "/scsi/";
constexpr std::string_view COLLECTION = "/SCSIControllers";

// A controller reference comes as _this or as an argument (controller):
// this file's messages name no parameter.
constexpr std::string_view ANY_PARAMETER = "";

ServiceResult<VirtualMachine> find_vm(services::Inventory const& inventory, Guid const& id) {
    auto vm = inventory.virtual_machine(id);
    if (!vm) return Err{ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string()}};
    return std::move(*vm);
}

ServiceResult<Guid> parse_vm(std::string_view ref) {
    auto id = Guid::parse(ref);
    if (!id) return Err{bad_reference(ref, "IVMVirtualMachine", ANY_PARAMETER)};
    return *id;
}

// "<vm>/scsi/<id>": the VM and the controller number.
ServiceResult<std::pair<Guid, std::int32_t>> parse_controller(std::string_view ref) {
    auto at = ref.find(SCSI_MARK);
    if (at == std::string_view::npos) return Err{bad_reference(ref, "IVMSCSIController", ANY_PARAMETER)};
    auto id = Guid::parse(ref.substr(0, at));
    auto number = parse_reference_number(ref.substr(at + SCSI_MARK.size()));
    if (!id || !number || *number < 0 || *number >= services::VmLimits::MAX_SCSI_CONTROLLERS)
        return Err{bad_reference(ref, "IVMSCSIController", ANY_PARAMETER)};
    return std::pair{*id, *number};
}

std::string controller_ref(Guid const& vm, std::int32_t id) {
    return vm.to_string() + std::string(SCSI_MARK) + std::to_string(id);
}

ServiceResult<ScsiController> lookup_controller(services::Inventory const& inventory, std::string_view ref) {
    auto parsed = TRY(parse_controller(ref));
    VirtualMachine vm = TRY(find_vm(inventory, parsed.first));
    return *TRY(vm.scsi_controller(parsed.second));
}

ServiceResult<std::vector<std::string>> scsi_controller_refs(services::Inventory const& inventory,
                                                             Guid const& id) {
    VirtualMachine vm = TRY(find_vm(inventory, id));
    std::vector<std::string> refs;
    for (auto const& c : vm.scsi_controllers())
        refs.push_back(controller_ref(id, c.id));
    return refs;
}

// "<vm>/SCSIControllers".
ServiceResult<std::vector<std::string>> scsi_collection(services::Inventory const& inventory,
                                                        std::string_view ref) {
    if (!ref.ends_with(COLLECTION))
        return Err{bad_reference(ref, "IVMSCSIControllerCollection", ANY_PARAMETER)};
    auto id = Guid::parse(ref.substr(0, ref.size() - COLLECTION.size()));
    if (!id) return Err{bad_reference(ref, "IVMSCSIControllerCollection", ANY_PARAMETER)};
    return scsi_controller_refs(inventory, *id);
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

namespace {

void store_value(vs__ArrayOfString*& out, std::vector<std::string> value, struct soap* soap) {
    out = soap_new_vs__ArrayOfString(soap);
    out->item = std::move(value);
}
template <typename Out, typename In>
void store_value(Out& out, In value, struct soap*) {
    out = static_cast<Out>(std::move(value));
}

} // namespace

// The model's answer into the response, or its error as the fault.
#define VSA_SCSI_ANSWER(type, expression)                                                                    \
    do {                                                                                                     \
        if (int rc = require_principal()) return rc;                                                         \
        return deliver(                                                                                      \
            soap, [&]() -> ServiceResult<type> { return expression; }(),                                     \
            [&](type value) { store_value(response.returnval, std::move(value), soap); });                   \
    } while (false)
#define VSA_SCSI_ACT(expression)                                                                             \
    do {                                                                                                     \
        if (int rc = require_principal()) return rc;                                                         \
        return deliver_void(soap, expression);                                                               \
    } while (false)

// --- IVMVirtualMachine ------------------------------------------------------

VSA_OP(IVMVirtualMachine_USCOREget_USCORESCSIControllers) {
    VSA_SCSI_ANSWER(std::vector<std::string>,
                    scsi_controller_refs(inventory(), TRY(parse_vm(request->_USCOREthis))));
}

VSA_OP(IVMVirtualMachine_USCOREAddSCSIController) {
    VSA_SCSI_ANSWER(
        std::string, ([&]() -> ServiceResult<std::string> {
            Guid id = TRY(parse_vm(request->_USCOREthis));
            std::int32_t added = 0;
            TRY(inventory().update_virtual_machine(id, [&](VirtualMachine& vm) -> ServiceResult<void> {
                added = TRY(vm.add_scsi_controller());
                return Ok{};
            }));
            return controller_ref(id, added);
        }()));
}

VSA_OP(IVMVirtualMachine_USCORERemoveSCSIController) {
    VSA_SCSI_ACT(([&]() -> ServiceResult<void> {
        Guid id = TRY(parse_vm(request->_USCOREthis));
        auto parsed = TRY(parse_controller(request->controller));
        if (parsed.first != id)
            return service_error(hr::E_INVALIDARG, "the SCSI controller belongs to another virtual machine");
        TRY(inventory().update_virtual_machine(
            id, [&](VirtualMachine& vm) { return vm.remove_scsi_controller(parsed.second); }));
        return Ok{};
    }()));
}

// --- IVMSCSIController ------------------------------------------------------

VSA_OP(IVMSCSIController_USCOREget_USCORE_USCOREID) {
    VSA_SCSI_ANSWER(std::int32_t, TRY(lookup_controller(inventory(), request->_USCOREthis)).id);
}

VSA_OP(IVMSCSIController_USCOREget_USCOREIsBusShared) {
    VSA_SCSI_ANSWER(bool, TRY(lookup_controller(inventory(), request->_USCOREthis)).bus_shared);
}

VSA_OP(IVMSCSIController_USCOREget_USCORESCSIID) {
    VSA_SCSI_ANSWER(std::int32_t, TRY(lookup_controller(inventory(), request->_USCOREthis)).scsi_id);
}

VSA_OP(IVMSCSIController_USCOREConfigure) {
    VSA_SCSI_ACT(([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_controller(request->_USCOREthis));
        TRY(find_vm(inventory(), parsed.first));
        TRY(inventory().update_virtual_machine(parsed.first, [&](VirtualMachine& vm) {
            return vm.configure_scsi_controller(parsed.second, request->isBusShared, request->SCSIID);
        }));
        return Ok{};
    }()));
}

// --- IVMSCSIControllerCollection --------------------------------------------

VSA_OP(IVMSCSIControllerCollection_USCOREget_USCORECount) {
    VSA_SCSI_ANSWER(std::int32_t, static_cast<std::int32_t>(
                                      TRY(scsi_collection(inventory(), request->_USCOREthis)).size()));
}

VSA_OP(IVMSCSIControllerCollection_USCOREget_USCOREItem) {
    VSA_SCSI_ANSWER(std::string, ([&]() -> ServiceResult<std::string> {
                        auto items = TRY(scsi_collection(inventory(), request->_USCOREthis));
                        if (request->index < 1 || static_cast<std::size_t>(request->index) > items.size())
                            return service_error(hr::DISP_E_BADINDEX,
                                                 "index " + std::to_string(request->index) +
                                                     " is outside 1.." + std::to_string(items.size()));
                        return items[static_cast<std::size_t>(request->index) - 1];
                    }()));
}

VSA_OP(IVMSCSIControllerCollection_USCOREget_USCORE_USCORENewEnum) {
    VSA_SCSI_ANSWER(std::vector<std::string>, scsi_collection(inventory(), request->_USCOREthis));
}

#undef VSA_SCSI_ACT
#undef VSA_SCSI_ANSWER
#undef VSA_OP

} // namespace vsa::appliance
