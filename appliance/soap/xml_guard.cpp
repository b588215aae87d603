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

bool xml_depth_exceeds(std::string_view body, int max_depth) {
    int depth = 0;
    std::size_t i = 0;
    // Unterminated constructs end the scan: malformed XML is the decoder's
    // to report (as a Client fault); this only measures depth.
    auto skip_past = [&](std::string_view end) {
        auto at = body.find(end, i);
        i = at == std::string_view::npos ? body.size() : at + end.size();
        return at != std::string_view::npos;
    };
    while ((i = body.find('<', i)) != std::string_view::npos) {
        auto rest = body.substr(i);
        if (rest.starts_with("<!--")) {
            if (!skip_past("-->")) return false;
        } else if (rest.starts_with("<![CDATA[")) {
            if (!skip_past("]]>")) return false;
        } else if (rest.starts_with("<?") || rest.starts_with("<!")) {
            if (!skip_past(">")) return false;
        } else if (rest.starts_with("</")) {
            --depth;
            if (!skip_past(">")) return false;
        } else {
            // A start tag: find its end outside quoted attribute values.
            char quote = 0;
            std::size_t j = i + 1;
            for (; j < body.size(); ++j) {
                char c = body[j];
                if (quote) {
                    if (c == quote) quote = 0;
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '>') {
                    break;
                }
            }
            if (j >= body.size()) return false;
            if (body[j - 1] != '/' && ++depth > max_depth) return true;
            i = j + 1;
        }
    }
    return false;
}

std::string sanitize_xml_text(std::string_view text, std::size_t max_bytes) {
    static constexpr std::string_view REPLACEMENT = "\xEF\xBF\xBD"; // U+FFFD
    std::string out;
    out.reserve(std::min(text.size(), max_bytes));
    auto const* p = reinterpret_cast<unsigned char const*>(text.data());
    std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        unsigned char lead = p[i];
        std::size_t length = lead < 0x80           ? 1
                             : (lead >> 5) == 0x6  ? 2
                             : (lead >> 4) == 0xE  ? 3
                             : (lead >> 3) == 0x1E ? 4
                                                   : 0;
        char32_t cp = 0;
        bool well_formed = length != 0 && i + length <= n;
        if (well_formed) {
            cp = length == 1 ? lead : lead & (0x7F >> length);
            for (std::size_t k = 1; k < length && well_formed; ++k) {
                if ((p[i + k] & 0xC0) != 0x80) well_formed = false;
                cp = (cp << 6) | (p[i + k] & 0x3F);
            }
            // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
            static constexpr char32_t MIN_CODE_POINT[] = {0, 0, 0x80, 0x800, 0x10000};
            well_formed = well_formed && cp >= MIN_CODE_POINT[length] && cp <= 0x10FFFF &&
                          !(cp >= 0xD800 && cp <= 0xDFFF);
        }
        // A well-formed character XML 1.0 does not allow is replaced whole;
        // a malformed byte is replaced alone and decoding resumes after it.
        bool allowed = well_formed && (cp >= 0x20 || cp == 0x9 || cp == 0xA || cp == 0xD) && cp != 0xFFFE &&
                       cp != 0xFFFF;
        std::string_view piece = allowed ? text.substr(i, length) : REPLACEMENT;
        if (out.size() + piece.size() > max_bytes) break;
        out += piece;
        i += well_formed ? length : 1;
    }
    return out;
}

} // namespace vsa::appliance
