// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/names.h"

namespace vsa::services {

bool is_valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        auto byte = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t code = 0;
        if (byte < 0x80) {
            ++i;
            continue;
        } else if ((byte & 0xE0) == 0xC0) {
            length = 2;
            code = byte & 0x1F;
        } else if ((byte & 0xF0) == 0xE0) {
            length = 3;
            code = byte & 0x0F;
        } else if ((byte & 0xF8) == 0xF0) {
            length = 4;
            code = byte & 0x07;
        } else {
            return false;
        }
        if (i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            code = (code << 6) | (next & 0x3F);
        }
        static constexpr std::uint32_t MIN_FOR_LENGTH[] = {0, 0, 0x80, 0x800, 0x10000};
        if (code < MIN_FOR_LENGTH[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return false;
        i += length;
    }
    return true;
}

ServiceResult<void> validate_object_name(std::string_view name) {
    if (name.empty()) return service_error(hr::VM_E_CONFIG_NO_NAME, "no name given");
    if (!is_valid_utf8(name))
        return service_error(hr::VM_E_CONFIG_NAME_INVALID_CHAR, "the name is not valid UTF-8");
    std::size_t characters = 0;
    for (char c : name)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++characters;
    if (characters > MAX_NAME_CHARACTERS || name.size() > MAX_NAME_BYTES)
        return service_error(hr::VM_E_CONFIG_NAME_TOO_LONG,
                             "the name has " + std::to_string(characters) + " characters (" +
                                 std::to_string(name.size()) + " bytes); at most " +
                                 std::to_string(MAX_NAME_CHARACTERS) + " characters and " +
                                 std::to_string(MAX_NAME_BYTES) + " bytes are allowed");
    for (char c : name) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7F)
            return service_error(hr::VM_E_CONFIG_NAME_INVALID_CHAR, "the name contains a control character");
        if (std::string_view("*?:<>/|\\\"").find(c) != std::string_view::npos)
            return service_error(hr::VM_E_CONFIG_NAME_INVALID_CHAR,
                                 std::string("the name \"") + std::string(name) + "\" contains '" + c +
                                     "' (none of * ? : < > / | \\ \" are allowed)");
    }
    if (name == "." || name == "..")
        return service_error(hr::VM_E_CONFIG_NAME_INVALID_CHAR,
                             "\"" + std::string(name) + "\" is not a name");
    return {};
}

std::string fold_name(std::string_view name) {
    std::string folded(name);
    for (auto& c : folded)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return folded;
}

bool names_equal(std::string_view a, std::string_view b) {
    return fold_name(a) == fold_name(b);
}

} // namespace vsa::services
