// SPDX-License-Identifier: GPL-2.0-or-later
// Checks on a SOAP body before any XML parser sees it. gSOAP does not expand
// DTD entities, but it does not reject a DOCTYPE either; SOAP 1.1/1.2 forbid
// DTDs in messages, so any document type declaration is refused outright
// (HTTP 400), which closes entity-expansion and external-entity attacks.
#pragma once

#include <string>
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

// True if elements nest deeper than `max_depth` anywhere in the document
// (header blocks included). A linear scan that
// understands comments, CDATA, processing instructions and quoted
// attribute values, so it cannot be fooled by a '>' inside them.
bool xml_depth_exceeds(std::string_view body, int max_depth);

// Text that is safe to put into an XML response: invalid UTF-8 and code
// points XML 1.0 does not allow (controls, surrogates, U+FFFE/U+FFFF) become
// U+FFFD, and the result is cut to at most `max_bytes` on a character
// boundary. Fault messages echo client input through this.
std::string sanitize_xml_text(std::string_view text, std::size_t max_bytes = 4096);

} // namespace vsa::appliance
