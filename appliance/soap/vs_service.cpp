// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/soap/vs_service.h"

#include "appliance/auth/authenticator.h"
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/host_info_cache.h"
#include "services/virtual_server.h"

#include <ctime>
#include <type_traits>

namespace vsa::appliance {

using services::HostInfo;
using services::ServiceError;
using services::VmLimits;
namespace hr = services::hr;

namespace {

template <typename T>
struct IsResult : std::false_type {};
template <typename T, typename E>
struct IsResult<Result<T, E>> : std::true_type {};

// Generated types differ from model types in a few places; these convert.
template <typename Out, typename In>
void assign(struct soap* soap, Out& out, In&& in) {
    if constexpr (std::is_same_v<Out, vs__ArrayOfString*>) {
        out = soap_new_vs__ArrayOfString(soap);
        out->item = std::forward<In>(in);
    } else if constexpr (std::is_same_v<Out, std::string> && std::is_arithmetic_v<std::decay_t<In>>) {
        out = std::to_string(in); // xsd:decimal travels as text
    } else {
        out = static_cast<Out>(std::forward<In>(in));
    }
}

} // namespace

VsService::VsService() : VirtualServerBindingService(SOAP_XML_STRICT | SOAP_ENC_PLAIN | SOAP_C_UTFSTRING) {}

int VsService::fault(ServiceError const& error) {
    return set_service_fault(soap, error);
}

int VsService::require_principal() {
    if (m_call->principal) return SOAP_OK;
    if (soap->header && soap->header->vs__SessionToken) {
        auto outcome = m_backend->auth.from_token(*soap->header->vs__SessionToken);
        if (outcome.principal) {
            m_call->principal = std::move(outcome.principal);
            return SOAP_OK;
        }
    }
    m_call->unauthenticated = true;
    return fault({hr::E_ACCESSDENIED, "authentication required: use HTTP Basic, the VSASESSION cookie, or "
                                      "the SessionToken header with a token from Session_Logon"});
}

template <typename Out, typename F>
int VsService::answer(Out& out, F&& produce) {
    if (int rc = require_principal()) return rc;
    auto value = produce();
    if constexpr (IsResult<decltype(value)>::value) {
        if (value.is_error()) return fault(value.error());
        assign(soap, out, value.release_value());
    } else {
        assign(soap, out, std::move(value));
    }
    return SOAP_OK;
}

template <typename Out, typename F>
int VsService::host_answer(std::string const& this_ref, Out& out, F&& produce) {
    if (int rc = require_principal()) return rc;
    if (this_ref != HOST_INFO_REF)
        return fault({hr::E_INVALIDARG, "_this is not an IVMHostInfo reference (got '" +
                                            this_ref.substr(0, 64) +
                                            "'; IVMVirtualServer_get_HostInfo returns one)"});
    auto info = m_backend->host_info.current();
    return answer(out, [&] { return produce(*info); });
}

// --- Session --------------------------------------------------------------

int VsService::Session_USCORELogon(_vs__Session_USCORELogon* request,
                                   _vs__Session_USCORELogonResponse& response) {
    auto outcome = m_backend->auth.logon(request->userName, request->password, m_call->client_address);
    switch (outcome.status) {
    case AuthStatus::Authenticated:
        m_call->set_session_cookie = outcome.session_token;
        response.returnval = std::move(outcome.session_token);
        return SOAP_OK;
    case AuthStatus::LockedOut:
        m_call->locked_out = outcome.retry_after;
        return fault({hr::E_ACCESSDENIED, "too many failed logons from this address; retry in " +
                                              std::to_string(outcome.retry_after.count()) + " s"});
    default:
        return fault({hr::E_ACCESSDENIED, "wrong user name or password"});
    }
}

int VsService::Session_USCORELogoff(_vs__Session_USCORELogoff*, _vs__Session_USCORELogoffResponse&) {
    if (int rc = require_principal()) return rc;
    if (soap->header && soap->header->vs__SessionToken)
        m_backend->auth.logoff(*soap->header->vs__SessionToken);
    if (!m_call->cookie_token.empty()) m_backend->auth.logoff(m_call->cookie_token);
    m_call->clear_session_cookie = true;
    return SOAP_OK;
}

int VsService::Session_USCORECurrentUser(_vs__Session_USCORECurrentUser*,
                                         _vs__Session_USCORECurrentUserResponse& response) {
    return answer(response.returnval, [&] { return m_call->principal->user; });
}

// --- IVMVirtualServer -----------------------------------------------------

#define VSA_SERVER_GET(prop, expression)                                                                     \
    int VsService::IVMVirtualServer_USCOREget_USCORE##prop(                                                  \
        _vs__IVMVirtualServer_USCOREget_USCORE##prop*,                                                       \
        _vs__IVMVirtualServer_USCOREget_USCORE##prop##Response& response) {                                  \
        auto const& server = m_backend->server;                                                              \
        (void)server;                                                                                        \
        return answer(response.returnval, [&] { return expression; });                                       \
    }

VSA_SERVER_GET(Name, server.name())
VSA_SERVER_GET(Version, server.version())
VSA_SERVER_GET(ProductID, server.product_id())
VSA_SERVER_GET(UpTime, server.uptime_seconds())
VSA_SERVER_GET(DefaultLocale, server.default_locale())
VSA_SERVER_GET(AvailableSystemCapacity, server.available_system_capacity())
VSA_SERVER_GET(MaximumNumberOfVMs, VmLimits::MAX_RUNNING_VMS)
VSA_SERVER_GET(MaximumMemoryPerVM, VmLimits::MAX_MEMORY_MB)
VSA_SERVER_GET(MinimumMemoryPerVM, VmLimits::MIN_MEMORY_MB)
VSA_SERVER_GET(SuggestedMaximumMemoryPerVM, server.suggested_maximum_memory_mb())
VSA_SERVER_GET(MaximumFloppyDrivesPerVM, VmLimits::MAX_FLOPPY_DRIVES)
VSA_SERVER_GET(MaximumNetworkAdaptersPerVM, VmLimits::MAX_NETWORK_ADAPTERS)
VSA_SERVER_GET(MaximumNumberOfIDEBuses, VmLimits::MAX_IDE_BUSES)
VSA_SERVER_GET(MaximumNumberOfSCSIControllers, VmLimits::MAX_SCSI_CONTROLLERS)
VSA_SERVER_GET(MaximumParallelPortsPerVM, VmLimits::MAX_PARALLEL_PORTS)
VSA_SERVER_GET(MaximumSerialPortsPerVM, VmLimits::MAX_SERIAL_PORTS)
VSA_SERVER_GET(HostInfo, std::string(HOST_INFO_REF))
#undef VSA_SERVER_GET

// --- IVMHostInfo ----------------------------------------------------------

#define VSA_HOST_GET(prop, expression)                                                                       \
    int VsService::IVMHostInfo_USCOREget_USCORE##prop(                                                       \
        _vs__IVMHostInfo_USCOREget_USCORE##prop* request,                                                    \
        _vs__IVMHostInfo_USCOREget_USCORE##prop##Response& response) {                                       \
        return host_answer(request->_USCOREthis, response.returnval,                                         \
                           [&]([[maybe_unused]] HostInfo const& host) { return expression; });               \
    }

VSA_HOST_GET(DVDDrives, host.dvd_drives)
VSA_HOST_GET(FloppyDrives, host.floppy_drives)
VSA_HOST_GET(HostDrives, host.host_drives)
VSA_HOST_GET(LogicalProcessorCount, host.logical_processor_count)
VSA_HOST_GET(Memory, host.memory_mb)
VSA_HOST_GET(MemoryAvail, host.memory_avail_mb)
VSA_HOST_GET(MemoryAvailString, std::to_string(host.memory_avail_mb))
VSA_HOST_GET(MemoryTotalString, std::to_string(host.memory_mb))
VSA_HOST_GET(MMX, host.mmx)
VSA_HOST_GET(NetworkAdapters, host.network_adapters)
VSA_HOST_GET(NetworkAddresses, host.network_addresses)
VSA_HOST_GET(OperatingSystem, host.operating_system)
VSA_HOST_GET(OSMajorVersion, host.os_major_version)
VSA_HOST_GET(OSMinorVersion, host.os_minor_version)
VSA_HOST_GET(OSServicePackString, host.os_service_pack)
VSA_HOST_GET(OSVersionString, host.os_version)
VSA_HOST_GET(ParallelPort, host.parallel_port)
VSA_HOST_GET(PhysicalProcessorCount, host.physical_processor_count)
VSA_HOST_GET(ProcessorFeaturesString, host.processor_features)
VSA_HOST_GET(ProcessorManufacturerString, host.processor_manufacturer)
VSA_HOST_GET(ProcessorSpeed, host.processor_speed_mhz)
VSA_HOST_GET(ProcessorSpeedString, std::to_string(host.processor_speed_mhz))
VSA_HOST_GET(ProcessorVersionString, host.processor_version)
VSA_HOST_GET(SerialPorts, host.serial_ports)
VSA_HOST_GET(SSE, host.sse)
VSA_HOST_GET(SSE2, host.sse2)
VSA_HOST_GET(ThreeDNow, host.three_d_now)
VSA_HOST_GET(UTCTime, std::time(nullptr))
#undef VSA_HOST_GET

int VsService::IVMHostInfo_USCOREGetHostDriveSize(_vs__IVMHostInfo_USCOREGetHostDriveSize* request,
                                                  _vs__IVMHostInfo_USCOREGetHostDriveSizeResponse& response) {
    return host_answer(request->_USCOREthis, response.returnval, [&](HostInfo const&) {
        return m_backend->server.host().host_drive_size_mb(request->hostDriveIdentifier);
    });
}

int VsService::IVMHostInfo_USCOREIsHostDriveMounted(
    _vs__IVMHostInfo_USCOREIsHostDriveMounted* request,
    _vs__IVMHostInfo_USCOREIsHostDriveMountedResponse& response) {
    return host_answer(request->_USCOREthis, response.returnval, [&](HostInfo const&) {
        return m_backend->server.host().is_host_drive_mounted(request->hostDriveIdentifier);
    });
}

} // namespace vsa::appliance
