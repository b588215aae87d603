// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: the IVMGuestOS / IVMGuestOS2 members served by the guest
// agent (issue 11, area "guest agent"). Adapters only: the meaning of each
// member is services/worker/vm_runtime.h, the protocol
// services/worker/guest_agent.h. IVMGuestOS2's reference is IVMGuestOS's
// ("<vm ConfigID>/guestos", as vs_service_display.cpp hands it out).
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/virtual_server.h"

namespace vsa::appliance {

using services::Guid;
using services::ServiceResult;

namespace {

constexpr std::string_view GUEST_OS_MARK = "/guestos";

ServiceResult<Guid> parse_guest_ref(std::string_view ref) {
    return parse_vm_sub_reference(ref, GUEST_OS_MARK, "IVMGuestOS");
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// A member whose answer is runtime().call(id).
#define VSA_GUEST_VALUE(op, type, call)                                                                      \
    VSA_OP(op) {                                                                                             \
        if (int rc = require_principal()) return rc;                                                         \
        auto result = [&]() -> ServiceResult<type> {                                                         \
            Guid id = TRY(parse_guest_ref(request->_USCOREthis));                                            \
            return runtime().call(id);                                                                       \
        }();                                                                                                 \
        return deliver(soap, std::move(result), [&](type value) { response.returnval = std::move(value); }); \
    }

VSA_GUEST_VALUE(IVMGuestOS_USCOREget_USCORECanShutdown, bool, guest_can_shutdown)
VSA_GUEST_VALUE(IVMGuestOS_USCOREget_USCOREIsHostTimeSyncEnabled, bool, host_time_sync)
VSA_GUEST_VALUE(IVMGuestOS2_USCOREget_USCOREComputerName, std::string, guest_computer_name)
#undef VSA_GUEST_VALUE

VSA_OP(IVMGuestOS_USCOREset_USCOREIsHostTimeSyncEnabled) {
    if (int rc = require_principal()) return rc;
    return deliver_void(soap, [&]() -> ServiceResult<void> {
        Guid id = TRY(parse_guest_ref(request->_USCOREthis));
        return runtime().set_host_time_sync(id, request->enabled);
    }());
}

VSA_OP(IVMGuestOS_USCOREExecuteCommand) {
    if (int rc = require_principal()) return rc;
    auto output = [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_guest_ref(request->_USCOREthis));
        return runtime().guest_execute(id, request->command);
    }();
    return deliver(soap, std::move(output), [&](std::string text) { response.returnval = std::move(text); });
}

VSA_OP(IVMGuestOS_USCOREInstallAdditions) {
    if (int rc = require_principal()) return rc;
    return deliver_void(soap, [&]() -> ServiceResult<void> {
        Guid id = TRY(parse_guest_ref(request->_USCOREthis));
        return runtime().install_guest_additions(id);
    }());
}

VSA_OP(IVMGuestOS_USCORESetParameter) {
    if (int rc = require_principal()) return rc;
    return deliver_void(soap, [&]() -> ServiceResult<void> {
        Guid id = TRY(parse_guest_ref(request->_USCOREthis));
        return runtime().set_guest_parameter(id, request->name, request->value);
    }());
}

VSA_OP(IVMGuestOS2_USCOREGetParameter) {
    if (int rc = require_principal()) return rc;
    auto value = [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_guest_ref(request->_USCOREthis));
        return runtime().guest_parameter(id, request->name);
    }();
    return deliver(soap, std::move(value), [&](std::string text) { response.returnval = std::move(text); });
}

#undef VSA_OP

} // namespace vsa::appliance
