// SPDX-License-Identifier: GPL-2.0-or-later
// The one place where errors become SOAP faults. Every fault carries a
// VirtualServerFault detail with the HRESULT, its name and a message, so a
// client can branch on the same codes the Virtual Server COM API documents,
// including for faults raised by the XML decoder itself.
#pragma once

#include "services/service_error.h"

struct soap;

namespace vsa::appliance {

// Turns a ServiceError into the pending fault of `soap`; returns SOAP_FAULT.
int set_service_fault(struct soap* soap, services::ServiceError const& error);

// An operation's answer from a ServiceResult: its value goes to `store`
// (which fills the response) and the result is SOAP_OK, or it is the fault.
template <typename T, typename Store>
int deliver(struct soap* soap, services::ServiceResult<T> result, Store&& store) {
    if (result.is_error()) return set_service_fault(soap, result.error());
    store(result.release_value());
    return 0; // SOAP_OK (checked in fault_mapping.cpp)
}

inline int deliver_void(struct soap* soap, services::ServiceResult<void> result) {
    return result.is_error() ? set_service_fault(soap, result.error()) : 0; // SOAP_OK
}

// After gSOAP failed on its own (malformed XML, unknown operation, wrong
// namespace, limits), attach our typed detail to the fault it will send:
// E_INVALIDARG for what the client sent, E_FAIL otherwise.
void attach_decoder_fault(struct soap* soap);

// HTTP status for a fault response: 500 as SOAP 1.1 requires.
inline constexpr int FAULT_HTTP_STATUS = 500;

} // namespace vsa::appliance
