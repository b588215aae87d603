// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: IVMVirtualServer's VMRC members, IVMRCAuthenticator and
// IVMRCAuthenticatorCollection. Adapters only: the settings and their
// checks are appliance/console/vmrc_settings.h, the certificate
// appliance/console/vmrc_certificate.h, and what they change in the
// console console_service.h (vmrc_changed).
//
// References: an IVMRCAuthenticator is "vmrcauth/<VMRCAuthenticationType>",
// the collection "server/VMRCAuthenticators".
#include "appliance/console/console_service.h"
#include "appliance/console/vmrc_certificate.h"
#include "appliance/console/vmrc_settings.h"
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"

namespace vsa::appliance {

using console::VmrcSettings;
using services::ServiceError;
using services::ServiceResult;
namespace hr = services::hr;

namespace {

constexpr std::string_view AUTHENTICATOR_PREFIX = "vmrcauth/";
constexpr std::string_view COLLECTION_REF = "server/VMRCAuthenticators";

std::string authenticator_ref(console::VmrcAuthType type) {
    return std::string(AUTHENTICATOR_PREFIX) + std::to_string(static_cast<std::int32_t>(type));
}

ServiceResult<console::VmrcAuthenticator const*> parse_authenticator_ref(std::string_view ref) {
    if (ref.starts_with(AUTHENTICATOR_PREFIX)) {
        if (auto type = parse_reference_number(ref.substr(AUTHENTICATOR_PREFIX.size())))
            if (auto const* found = console::find_vmrc_authenticator(*type)) return found;
    }
    return Err{bad_reference(ref, "IVMRCAuthenticator")};
}

ServiceResult<std::vector<std::string>> authenticator_refs(std::string_view collection) {
    if (collection != COLLECTION_REF) return Err{bad_reference(collection, "IVMRCAuthenticatorCollection")};
    std::vector<std::string> refs;
    for (auto const& authenticator : console::vmrc_authenticators())
        refs.push_back(authenticator_ref(authenticator.type));
    return refs;
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// The console service, or E_FAIL where this vsad runs none.
#define VSA_CONSOLE_OR_FAULT(name)                                                                           \
    if (int rc = require_principal()) return rc;                                                             \
    auto* name = m_backend->console;                                                                         \
    if (!name)                                                                                               \
        return set_service_fault(soap, ServiceError{hr::E_FAIL, "the console is not running in this vsad"});

// A setting's value.
#define VSA_VMRC_GET(prop, expression)                                                                       \
    VSA_OP(IVMVirtualServer_USCOREget_USCORE##prop) {                                                        \
        VSA_CONSOLE_OR_FAULT(console_service)                                                                \
        VmrcSettings const s = console_service->vmrc().snapshot();                                           \
        response.returnval = expression;                                                                     \
        return SOAP_OK;                                                                                      \
    }

// A change: `check` (a ServiceResult<void> expression) first, then `apply`
// (statements on VmrcSettings& s, with `value`), stored, then applied to
// the console.
#define VSA_VMRC_SET(prop, field, check, apply)                                                              \
    VSA_OP(IVMVirtualServer_USCOREset_USCORE##prop) {                                                        \
        VSA_CONSOLE_OR_FAULT(console_service)                                                                \
        auto value = request->field;                                                                         \
        auto changed = [&]() -> ServiceResult<void> {                                                        \
            TRY(check);                                                                                      \
            TRY(console_service->vmrc().update([&](VmrcSettings& s) { apply; }));                            \
            console_service->vmrc_changed();                                                                 \
            return {};                                                                                       \
        }();                                                                                                 \
        return deliver_void(soap, std::move(changed));                                                       \
    }

inline ServiceResult<void> no_check() {
    return {};
}

VSA_VMRC_GET(VMRCEnabled, s.enabled)
VSA_VMRC_SET(VMRCEnabled, enabled, no_check(), s.enabled = value)

VSA_VMRC_GET(VMRCAdminAddress, s.admin_address)
VSA_OP(IVMVirtualServer_USCOREset_USCOREVMRCAdminAddress) {
    VSA_CONSOLE_OR_FAULT(console_service)
    auto changed = [&]() -> ServiceResult<void> {
        auto address =
            TRY(console::check_admin_address(request->address, console::host_interface_addresses()));
        TRY(console_service->vmrc().update([&](VmrcSettings& s) { s.admin_address = address; }));
        console_service->vmrc_changed();
        return {};
    }();
    return deliver_void(soap, std::move(changed));
}

VSA_VMRC_GET(VMRCAdminPortNumber, static_cast<std::int32_t>(s.port_first))
VSA_VMRC_SET(VMRCAdminPortNumber, port, console::check_admin_port(value), {
    auto range = console::moved_port_range(static_cast<std::uint16_t>(value), s.port_first, s.port_last);
    s.port_first = range.first;
    s.port_last = range.second;
})

VSA_VMRC_GET(VMRCAuthenticator, authenticator_ref(s.authenticator))
VSA_VMRC_SET(VMRCAuthenticator, authenticator, console::check_authenticator(value),
             s.authenticator = static_cast<console::VmrcAuthType>(value))

VSA_OP(IVMVirtualServer_USCOREget_USCOREVMRCAuthenticators) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, authenticator_refs(COLLECTION_REF), [&](std::vector<std::string> refs) {
        response.returnval = soap_new_vs__ArrayOfString(soap);
        response.returnval->item = std::move(refs);
    });
}

VSA_VMRC_GET(VMRCEncryptionEnabled, s.encryption_enabled)
VSA_VMRC_SET(VMRCEncryptionEnabled, enabled, no_check(), s.encryption_enabled = value)

VSA_VMRC_GET(VMRCIdleConnectionTimeout, s.idle_timeout_s)
VSA_VMRC_SET(VMRCIdleConnectionTimeout, timeout, console::check_idle_timeout(value), s.idle_timeout_s = value)

VSA_VMRC_GET(VMRCIdleConnectionTimeoutEnabled, s.idle_timeout_enabled)
VSA_VMRC_SET(VMRCIdleConnectionTimeoutEnabled, enabled, no_check(), s.idle_timeout_enabled = value)

VSA_VMRC_GET(VMRCXResolution, s.x_resolution)
VSA_VMRC_SET(VMRCXResolution, width, console::check_resolution('X', value), s.x_resolution = value)

VSA_VMRC_GET(VMRCYResolution, s.y_resolution)
VSA_VMRC_SET(VMRCYResolution, height, console::check_resolution('Y', value), s.y_resolution = value)

#undef VSA_VMRC_SET
#undef VSA_VMRC_GET

// --- The certificate ----------------------------------------------------------------

#define VSA_CERTIFICATES_OR_FAULT(name)                                                                      \
    VSA_CONSOLE_OR_FAULT(console_service)                                                                    \
    auto* name = console_service->certificates();                                                            \
    if (!name)                                                                                               \
        return set_service_fault(soap,                                                                       \
                                 ServiceError{hr::E_FAIL, "this vsad has no console certificate store"});

VSA_OP(IVMVirtualServer_USCOREget_USCOREVMRCEncryptionCertificate) {
    VSA_CERTIFICATES_OR_FAULT(certificates)
    return deliver(soap, certificates->certificate(),
                   [&](std::string text) { response.returnval = std::move(text); });
}

VSA_OP(IVMVirtualServer_USCOREset_USCOREVMRCEncryptionCertificate) {
    VSA_CERTIFICATES_OR_FAULT(certificates)
    return deliver_void(soap, certificates->install(request->certificate));
}

VSA_OP(IVMVirtualServer_USCOREget_USCOREVMRCEncryptionCertificateRequest) {
    VSA_CERTIFICATES_OR_FAULT(certificates)
    response.returnval = certificates->pending_request();
    return SOAP_OK;
}

VSA_OP(IVMVirtualServer_USCOREVMRCCreateEncryptionCertificateRequest) {
    VSA_CERTIFICATES_OR_FAULT(certificates)
    return deliver(soap, certificates->create_request(request->distinguishedName, request->keyLength),
                   [&](std::string text) { response.returnval = std::move(text); });
}

#undef VSA_CERTIFICATES_OR_FAULT
#undef VSA_CONSOLE_OR_FAULT

// --- IVMRCAuthenticator and its collection -----------------------------------------

#define VSA_AUTHENTICATOR_GET(prop, expression)                                                              \
    VSA_OP(IVMRCAuthenticator_USCOREget_USCORE##prop) {                                                      \
        if (int rc = require_principal()) return rc;                                                         \
        return deliver(soap, parse_authenticator_ref(request->_USCOREthis),                                  \
                       [&](console::VmrcAuthenticator const* a) { response.returnval = expression; });       \
    }
VSA_AUTHENTICATOR_GET(Name, std::string(a->name))
VSA_AUTHENTICATOR_GET(Description, std::string(a->description))
VSA_AUTHENTICATOR_GET(Type, static_cast<std::int32_t>(a->type))
#undef VSA_AUTHENTICATOR_GET

VSA_OP(IVMRCAuthenticatorCollection_USCOREget_USCORECount) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, authenticator_refs(request->_USCOREthis), [&](std::vector<std::string> const& refs) {
        response.returnval = static_cast<std::int32_t>(refs.size());
    });
}

VSA_OP(IVMRCAuthenticatorCollection_USCOREget_USCOREItem) {
    if (int rc = require_principal()) return rc;
    auto item = [&]() -> ServiceResult<std::string> {
        auto refs = TRY(authenticator_refs(request->_USCOREthis));
        if (request->index < 1 || static_cast<std::size_t>(request->index) > refs.size())
            return services::service_error(hr::DISP_E_BADINDEX, "index " + std::to_string(request->index) +
                                                                    " is outside 1.." +
                                                                    std::to_string(refs.size()));
        return refs[static_cast<std::size_t>(request->index) - 1];
    }();
    return deliver(soap, std::move(item), [&](std::string ref) { response.returnval = std::move(ref); });
}

VSA_OP(IVMRCAuthenticatorCollection_USCOREget_USCORE_USCORENewEnum) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, authenticator_refs(request->_USCOREthis), [&](std::vector<std::string> refs) {
        response.returnval = soap_new_vs__ArrayOfString(soap);
        response.returnval->item = std::move(refs);
    });
}

#undef VSA_OP

} // namespace vsa::appliance
