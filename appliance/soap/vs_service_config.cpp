// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: configuration values, event scripts and locale (issue 11,
// area "config"). Adapters only: the rules are in
// services/server_preferences.h (per-user preferences, the server's
// scripts, the switches, locale), services/vm_configuration.h (a VM's raw
// .vmc keys, its scripts, activation values) and services/scripts/ (how
// scripts run). A VARIANT travels as a ConfigurationValue.
//
// Attaching or removing a script, and turning scripts on or off, needs an
// administrator on top of the ACL right of the policy row: a script runs
// as vsad's own user, which no ACL entry is meant to grant.
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/server_preferences.h"
#include "services/virtual_server.h"
#include "services/vm_configuration.h"

#include <cstring>

namespace vsa::appliance {

using services::ServiceError;
using services::ServiceResult;
using services::persist::PreferenceValue;
namespace hr = services::hr;

namespace {

ServiceResult<PreferenceValue> from_soap(vs__ConfigurationValue const* value) {
    if (!value) return services::service_error(hr::E_INVALIDARG, "no value given");
    auto kind = services::persist::preference_kind_from_name(value->type);
    if (!kind)
        return services::service_error(hr::E_INVALIDARG, "value type \"" + value->type.substr(0, 40) +
                                                             "\" is not string, integer, boolean or bytes");
    auto missing = [&](char const* field) {
        return services::service_error(hr::E_INVALIDARG,
                                       "a " + value->type + " value needs its " + field + " element");
    };
    switch (*kind) {
    case PreferenceValue::Kind::String:
        if (!value->stringValue) return missing("stringValue");
        return PreferenceValue::of_string(*value->stringValue);
    case PreferenceValue::Kind::Integer:
        if (!value->integerValue) return missing("integerValue");
        return PreferenceValue::of_integer(*value->integerValue);
    case PreferenceValue::Kind::Boolean:
        if (!value->booleanValue) return missing("booleanValue");
        return PreferenceValue::of_boolean(*value->booleanValue);
    case PreferenceValue::Kind::Bytes: {
        if (!value->bytesValue) return missing("bytesValue");
        std::vector<std::uint8_t> bytes;
        if (value->bytesValue->__ptr && value->bytesValue->__size > 0)
            bytes.assign(value->bytesValue->__ptr, value->bytesValue->__ptr + value->bytesValue->__size);
        return PreferenceValue::of_bytes(std::move(bytes));
    }
    }
    return missing("value");
}

vs__ConfigurationValue* to_soap(struct soap* soap, PreferenceValue const& value) {
    auto* out = soap_new_vs__ConfigurationValue(soap);
    out->type = std::string(services::persist::preference_kind_name(value.kind));
    switch (value.kind) {
    case PreferenceValue::Kind::String:
        out->stringValue = soap_new_std__string(soap);
        *out->stringValue = value.text;
        break;
    case PreferenceValue::Kind::Integer:
        out->integerValue = soap_new_unsignedInt(soap);
        *out->integerValue = value.integer;
        break;
    case PreferenceValue::Kind::Boolean:
        out->booleanValue = soap_new_bool(soap);
        *out->booleanValue = value.boolean;
        break;
    case PreferenceValue::Kind::Bytes: {
        out->bytesValue = soap_new_xsd__base64Binary(soap);
        auto size = static_cast<int>(value.bytes.size());
        out->bytesValue->__ptr =
            size ? static_cast<unsigned char*>(soap_malloc(soap, value.bytes.size())) : nullptr;
        out->bytesValue->__size = out->bytesValue->__ptr ? size : 0;
        if (out->bytesValue->__ptr)
            std::memcpy(out->bytesValue->__ptr, value.bytes.data(), value.bytes.size());
        break;
    }
    }
    return out;
}

// The refusal of a script member to a user who is not an administrator.
// Built by appending (not `std::string(what) + "..."` inline in each
// operation): GCC 12's -Warray-bounds misreads that temporary at -O2.
ServiceError needs_administrator(std::string_view what) {
    std::string text(what);
    text += " needs an administrator: a script runs with vsad's own rights";
    return ServiceError{hr::E_ACCESSDENIED, std::move(text)};
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// Authenticated, and an administrator: for the script members.
#define VSA_REQUIRE_ADMINISTRATOR(what)                                                                      \
    if (int rc = require_principal()) return rc;                                                             \
    if (!m_call->principal->administrator) return set_service_fault(soap, needs_administrator(what));

// IVMVirtualServer: per-user preferences.

VSA_OP(IVMVirtualServer_USCOREGetConfigurationValue) {
    if (int rc = require_principal()) return rc;
    return deliver(
        soap, m_backend->server.preferences().user_value(m_call->principal->user, request->preferenceKey),
        [&](PreferenceValue value) { response.returnval = to_soap(soap, value); });
}

VSA_OP(IVMVirtualServer_USCORESetConfigurationValue) {
    if (int rc = require_principal()) return rc;
    auto value = from_soap(request->preferenceValue);
    if (value.is_error()) return set_service_fault(soap, value.error());
    return deliver_void(soap, m_backend->server.preferences().set_user_value(
                                  m_call->principal->user, request->preferenceKey, value.value()));
}

VSA_OP(IVMVirtualServer_USCORERemoveConfigurationValue) {
    if (int rc = require_principal()) return rc;
    return deliver_void(soap, m_backend->server.preferences().remove_user_value(m_call->principal->user,
                                                                                request->preferenceKey));
}

// IVMVirtualServer: the server's scripts and the switches.

VSA_OP(IVMVirtualServer_USCOREAttachScriptToEvent) {
    VSA_REQUIRE_ADMINISTRATOR("AttachScriptToEvent")
    return deliver_void(
        soap, m_backend->server.preferences().attach_script(request->eventType, request->scriptCommandLine));
}

VSA_OP(IVMVirtualServer_USCOREFetchScriptByEvent) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, m_backend->server.preferences().script(request->eventType),
                   [&](std::optional<std::string> line) { response.returnval = line.value_or(""); });
}

VSA_OP(IVMVirtualServer_USCORERemoveScriptFromEvent) {
    VSA_REQUIRE_ADMINISTRATOR("RemoveScriptFromEvent")
    return deliver_void(soap, m_backend->server.preferences().remove_script(request->eventType));
}

VSA_OP(IVMVirtualServer_USCOREget_USCOREVMScriptsEnabled) {
    if (int rc = require_principal()) return rc;
    response.returnval = m_backend->server.preferences().vm_scripts_enabled();
    return SOAP_OK;
}

VSA_OP(IVMVirtualServer_USCOREset_USCOREVMScriptsEnabled) {
    VSA_REQUIRE_ADMINISTRATOR("VMScriptsEnabled")
    return deliver_void(soap, m_backend->server.preferences().set_vm_scripts_enabled(request->shouldEnable));
}

VSA_OP(IVMVirtualServer_USCOREget_USCOREVSScriptsEnabled) {
    if (int rc = require_principal()) return rc;
    response.returnval = m_backend->server.preferences().vs_scripts_enabled();
    return SOAP_OK;
}

VSA_OP(IVMVirtualServer_USCOREset_USCOREVSScriptsEnabled) {
    VSA_REQUIRE_ADMINISTRATOR("VSScriptsEnabled")
    return deliver_void(soap, m_backend->server.preferences().set_vs_scripts_enabled(request->shouldEnable));
}

// IVMVirtualServer: locale.

VSA_OP(IVMVirtualServer_USCOREset_USCORELocale) {
    if (int rc = require_principal()) return rc;
    return deliver_void(soap, m_backend->server.preferences().set_locale(request->inLocale));
}

VSA_OP(IVMVirtualServer_USCOREQueryLocale) {
    if (int rc = require_principal()) return rc;
    response.returnval = services::query_locale(request->inLanguage);
    return SOAP_OK;
}

// IVMVirtualMachine: raw .vmc keys.

VSA_OP(IVMVirtualMachine_USCOREGetConfigurationValue) {
    if (int rc = require_principal()) return rc;
    auto id = parse_vm_reference(request->_USCOREthis);
    if (id.is_error()) return set_service_fault(soap, id.error());
    return deliver(soap, services::vm_configuration_value(inventory(), id.value(), request->configurationKey),
                   [&](PreferenceValue value) { response.returnval = to_soap(soap, value); });
}

VSA_OP(IVMVirtualMachine_USCORESetConfigurationValue) {
    if (int rc = require_principal()) return rc;
    auto id = parse_vm_reference(request->_USCOREthis);
    if (id.is_error()) return set_service_fault(soap, id.error());
    auto value = from_soap(request->configurationValue);
    if (value.is_error()) return set_service_fault(soap, value.error());
    return deliver_void(soap, services::set_vm_configuration_value(inventory(), id.value(),
                                                                   request->configurationKey, value.value()));
}

VSA_OP(IVMVirtualMachine_USCORERemoveConfigurationValue) {
    if (int rc = require_principal()) return rc;
    auto id = parse_vm_reference(request->_USCOREthis);
    if (id.is_error()) return set_service_fault(soap, id.error());
    return deliver_void(
        soap, services::remove_vm_configuration_value(inventory(), id.value(), request->configurationKey));
}

// IVMVirtualMachine: its scripts.

VSA_OP(IVMVirtualMachine_USCOREAttachScriptToEvent) {
    VSA_REQUIRE_ADMINISTRATOR("AttachScriptToEvent")
    auto id = parse_vm_reference(request->_USCOREthis);
    if (id.is_error()) return set_service_fault(soap, id.error());
    return deliver_void(soap, services::attach_vm_script(inventory(), id.value(), request->eventType,
                                                         request->scriptCommandLine));
}

VSA_OP(IVMVirtualMachine_USCOREFetchScriptByEvent) {
    if (int rc = require_principal()) return rc;
    auto id = parse_vm_reference(request->_USCOREthis);
    if (id.is_error()) return set_service_fault(soap, id.error());
    return deliver(soap, services::vm_script(inventory(), id.value(), request->eventType),
                   [&](std::optional<std::string> line) { response.returnval = line.value_or(""); });
}

VSA_OP(IVMVirtualMachine_USCORERemoveScriptFromEvent) {
    VSA_REQUIRE_ADMINISTRATOR("RemoveScriptFromEvent")
    auto id = parse_vm_reference(request->_USCOREthis);
    if (id.is_error()) return set_service_fault(soap, id.error());
    return deliver_void(soap, services::remove_vm_script(inventory(), id.value(), request->eventType));
}

// IVMVirtualMachine: activation values.

VSA_OP(IVMVirtualMachine_USCOREGetActivationValue) {
    if (int rc = require_principal()) return rc;
    auto id = parse_vm_reference(request->_USCOREthis);
    if (id.is_error()) return set_service_fault(soap, id.error());
    return deliver(soap,
                   m_backend->server.activation().value(inventory(), id.value(), request->activationKey),
                   [&](PreferenceValue value) { response.returnval = to_soap(soap, value); });
}

VSA_OP(IVMVirtualMachine_USCORESetActivationValue) {
    if (int rc = require_principal()) return rc;
    auto id = parse_vm_reference(request->_USCOREthis);
    if (id.is_error()) return set_service_fault(soap, id.error());
    auto value = from_soap(request->activationValue);
    if (value.is_error()) return set_service_fault(soap, value.error());
    return deliver_void(soap, m_backend->server.activation().set_value(
                                  inventory(), id.value(), request->activationKey, value.value()));
}

VSA_OP(IVMVirtualMachine_USCORERemoveActivationValue) {
    if (int rc = require_principal()) return rc;
    auto id = parse_vm_reference(request->_USCOREthis);
    if (id.is_error()) return set_service_fault(soap, id.error());
    return deliver_void(
        soap, m_backend->server.activation().remove_value(inventory(), id.value(), request->activationKey));
}

#undef VSA_REQUIRE_ADMINISTRATOR
#undef VSA_OP

} // namespace vsa::appliance
