// SPDX-License-Identifier: GPL-2.0-or-later
// Checks on a SOAP body before any XML parser sees it. gSOAP does not expand
// DTD entities, but it does not reject a DOCTYPE either; SOAP 1.1/1.2 forbid
// DTDs in messages, so any document type declaration is refused outright
// (HTTP 400), which closes entity-expansion and external-entity attacks.
#pragma once

#include <string_view>

namespace vsa::appliance {

// True if `body` has a markup declaration (<!DOCTYPE, <!ENTITY, <!ELEMENT,
// <!ATTLIST, <!NOTATION), in any letter case. Comments and CDATA sections
// are allowed.
bool has_markup_declaration(std::string_view body);

// True for the media types a SOAP 1.1 or 1.2 request may use. Requiring one
// also keeps a cross-site HTML form (which can only send form or text/plain
// bodies) from posting to the endpoint with a victim's cookie.
bool is_soap_content_type(std::string_view content_type);

} // namespace vsa::appliance
