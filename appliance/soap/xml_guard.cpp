// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/soap/xml_guard.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace vsa::appliance {

namespace {

bool starts_with_nocase(std::string_view text, std::string_view upper_prefix) {
    if (text.size() < upper_prefix.size()) return false;
    for (std::size_t i = 0; i < upper_prefix.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(text[i])) != upper_prefix[i]) return false;
    return true;
}

} // namespace

bool has_markup_declaration(std::string_view body) {
    for (std::size_t at = body.find("<!"); at != std::string_view::npos; at = body.find("<!", at + 2)) {
        auto rest = body.substr(at + 2);
        // Whitespace between "<!" and the keyword is not XML, but some
        // parsers are lenient: refuse it too.
        while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front())))
            rest.remove_prefix(1);
        for (std::string_view keyword : {"DOCTYPE", "ENTITY", "ELEMENT", "ATTLIST", "NOTATION"})
            if (starts_with_nocase(rest, keyword)) return true;
    }
    return false;
}

bool is_soap_content_type(std::string_view content_type) {
    auto semicolon = content_type.find(';');
    auto type = content_type.substr(0, semicolon);
    while (!type.empty() && type.back() == ' ')
        type.remove_suffix(1);
    while (!type.empty() && type.front() == ' ')
        type.remove_prefix(1);
    std::string lower(type);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower == "text/xml" || lower == "application/soap+xml";
}

} // namespace vsa::appliance
