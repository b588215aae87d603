// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/soap/fault_mapping.h"

#include "appliance/soap/xml_guard.h"

#include "soapH.h"

#include <cstdio>

static_assert(SOAP_OK == 0, "deliver() in fault_mapping.h returns 0 for SOAP_OK");

namespace vsa::appliance {

namespace {

std::string hresult_name(services::HResult code) {
    if (auto const* info = services::find_hresult(code)) return std::string(info->name);
    char text[16];
    std::snprintf(text, sizeof text, "0x%08X", code.value);
    return text;
}

void attach_detail(struct soap* soap, services::HResult code, std::string const& message) {
    auto* fault = soap_new__vs__VirtualServerFault(soap);
    fault->hresult = code.value;
    fault->hresultName = hresult_name(code);
    fault->message = message;
    soap_fault(soap);
    // gSOAP answers in the SOAP version the client spoke: 1.1 carries the
    // detail in <detail>, 1.2 in <SOAP-ENV:Detail>.
    auto* detail = soap_new_SOAP_ENV__Detail(soap);
    soap_default_SOAP_ENV__Detail(soap, detail);
    detail->vs__VirtualServerFault = fault;
    if (soap->version == 2) {
        soap->fault->SOAP_ENV__Detail = detail;
        soap->fault->detail = nullptr;
    } else {
        soap->fault->detail = detail;
        soap->fault->SOAP_ENV__Detail = nullptr;
    }
}

} // namespace

int set_service_fault(struct soap* soap, services::ServiceError const& error) {
    // Messages may quote what the client sent: keep the response valid XML.
    std::string text = sanitize_xml_text(error.message.empty() ? hresult_name(error.code) : error.message);
    if (error.is_client_error())
        soap_sender_fault(soap, text.c_str(), nullptr);
    else
        soap_receiver_fault(soap, text.c_str(), nullptr);
    attach_detail(soap, error.code, text);
    return SOAP_FAULT;
}

void attach_decoder_fault(struct soap* soap) {
    if (soap->error == SOAP_OK || soap->error == SOAP_FAULT) return;
    soap_set_fault(soap);
    char const* const* code = soap_faultcode(soap);
    char const* const* text = soap_faultstring(soap);
    char const* const* detail = soap_faultdetail(soap);
    std::string message = (text && *text) ? *text : "malformed request";
    // gSOAP puts the offending element into the detail string; keep it in
    // the message, where people look first.
    if (detail && *detail && **detail) {
        message += ": ";
        message += *detail;
    }
    message = sanitize_xml_text(message);
    // gSOAP's own text may quote the client's bytes (an unknown operation
    // name): replace it with the sanitized message.
    if (text) *const_cast<char const**>(text) = soap_strdup(soap, message.c_str());
    bool client = code && *code && std::string_view(*code).find("Client") != std::string_view::npos;
    bool sender = code && *code && std::string_view(*code).find("Sender") != std::string_view::npos;
    attach_detail(soap, (client || sender) ? services::hr::E_INVALIDARG : services::hr::E_FAIL, message);
}

} // namespace vsa::appliance
