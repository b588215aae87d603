// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: IVMAccountant's scheduling and I/O members, and the
// IVMVirtualMachine properties that describe the virtual CPU. Adapters
// only: what the values mean lives in services/worker/
// vm_runtime_accountant.cpp (accounting, admission), services/model/
// scheduling.h (ranges) and hypervisor/cpu/cpu_profile.h (CPUID).
//
// Reference: "<vm ConfigID>/accountant", as handed out by
// IVMVirtualMachine.Accountant (vs_service_display.cpp).
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "hypervisor/cpu/cpu_profile.h"
#include "services/virtual_server.h"

namespace vsa::appliance {

using services::Guid;
using services::ServiceError;
using services::ServiceResult;
namespace hr = services::hr;

namespace {

constexpr std::string_view ACCOUNTANT_MARK = "/accountant";

ServiceResult<Guid> parse_accountant_ref(std::string_view ref) {
    return parse_vm_sub_reference(ref, ACCOUNTANT_MARK, "IVMAccountant");
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// --- IVMAccountant: scheduling ------------------------------------------------------

#define VSA_SCHEDULING_GET(prop, expression)                                                                 \
    VSA_OP(IVMAccountant_USCOREget_USCORE##prop) {                                                           \
        if (int rc = require_principal()) return rc;                                                         \
        auto scheduling = [&]() -> ServiceResult<services::VmRuntime::Scheduling> {                          \
            return runtime().scheduling(TRY(parse_accountant_ref(request->_USCOREthis)));                    \
        }();                                                                                                 \
        return deliver(soap, std::move(scheduling),                                                          \
                       [&](services::VmRuntime::Scheduling const& s) { response.returnval = expression; });  \
    }
VSA_SCHEDULING_GET(AllowableMaximumSystemCapacity, s.allowable_maximum_percent)
VSA_SCHEDULING_GET(AllowableReservedSystemCapacity, s.allowable_reserved_percent)
VSA_SCHEDULING_GET(MaximumSystemCapacity, s.maximum_percent)
VSA_SCHEDULING_GET(ReservedSystemCapacity, s.reserved_percent)
VSA_SCHEDULING_GET(RelativeWeight, s.relative_weight)
#undef VSA_SCHEDULING_GET

VSA_OP(IVMAccountant_USCORESetSchedulingParameters) {
    if (int rc = require_principal()) return rc;
    auto set = [&]() -> ServiceResult<void> {
        Guid id = TRY(parse_accountant_ref(request->_USCOREthis));
        services::SchedulingParameters parameters;
        parameters.reserved_percent = request->reservedSystemCapacity;
        parameters.maximum_percent = request->maxSystemCapacity;
        parameters.relative_weight = request->relativeWeight;
        return runtime().set_scheduling(id, parameters);
    }();
    if (set.is_error()) return set_service_fault(soap, set.error());
    return SOAP_OK;
}

// --- IVMAccountant: counters ---------------------------------------------------------

#define VSA_COUNTER_GET(prop, expression)                                                                    \
    VSA_OP(IVMAccountant_USCOREget_USCORE##prop) {                                                           \
        if (int rc = require_principal()) return rc;                                                         \
        auto accounting = [&]() -> ServiceResult<services::VmRuntime::Accounting> {                          \
            return runtime().accounting(TRY(parse_accountant_ref(request->_USCOREthis)));                    \
        }();                                                                                                 \
        return deliver(soap, std::move(accounting), [&](services::VmRuntime::Accounting const& counts) {     \
            response.returnval = std::to_string(expression); /* xsd:decimal travels as text */               \
        });                                                                                                  \
    }
VSA_COUNTER_GET(DiskBytesRead, counts.disk_bytes_read)
VSA_COUNTER_GET(DiskBytesWritten, counts.disk_bytes_written)
VSA_COUNTER_GET(NetworkBytesReceived, counts.network_bytes_received)
VSA_COUNTER_GET(NetworkBytesSent, counts.network_bytes_sent)
#undef VSA_COUNTER_GET

VSA_OP(IVMAccountant_USCOREget_USCORECPUUtilizationHistory) {
    if (int rc = require_principal()) return rc;
    auto accounting = [&]() -> ServiceResult<services::VmRuntime::Accounting> {
        return runtime().accounting(TRY(parse_accountant_ref(request->_USCOREthis)));
    }();
    return deliver(soap, std::move(accounting), [&](services::VmRuntime::Accounting const& counts) {
        response.returnval = soap_new_vs__ArrayOfUnsignedInt(soap);
        response.returnval->item.assign(counts.cpu_history.begin(), counts.cpu_history.end());
    });
}

// --- IVMVirtualMachine: the virtual CPU ----------------------------------------------

#define VSA_CPU_GET(prop, expression)                                                                        \
    VSA_OP(IVMVirtualMachine_USCOREget_USCORE##prop) {                                                       \
        if (int rc = require_principal()) return rc;                                                         \
        auto known = [&]() -> ServiceResult<bool> {                                                          \
            Guid id = TRY(parse_vm_reference(request->_USCOREthis));                                         \
            if (!inventory().virtual_machine(id))                                                            \
                return Err{                                                                                  \
                    ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string()}};   \
            return true;                                                                                     \
        }();                                                                                                 \
        return deliver(soap, std::move(known), [&](bool) { response.returnval = expression; });              \
    }
VSA_CPU_GET(Has3DNow, cpu_profile::HAS_3DNOW)
VSA_CPU_GET(HasMMX, cpu_profile::has_mmx())
VSA_CPU_GET(HasSSE, cpu_profile::has_sse())
VSA_CPU_GET(HasSSE2, cpu_profile::has_sse2())
VSA_CPU_GET(ProcessorSpeed, static_cast<int>(cpu_profile::processor_mhz()))
#undef VSA_CPU_GET

#undef VSA_OP

} // namespace vsa::appliance
