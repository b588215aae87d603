// SPDX-License-Identifier: GPL-2.0-or-later
// Raw key access to a <preferences> tree (preferences_xml.h), the way
// Virtual Server's Get/Set/RemoveConfigurationValue and the activation-value
// members address it: a slash path of element names from the root,
// "hardware/memory/ram_size", where an element with an id attribute is
// chosen with [@id=N] (or [@id="N"]), and a VARIANT of one of four kinds
// that maps to the leaf's type attribute:
//   VT_BSTR          string   <k type="string">text</k>
//   VT_UI4           integer  <k type="integer">0..4294967295</k>
//   VT_BOOL          boolean  <k type="boolean">true</k>
//   VT_ARRAY|VT_UI1  bytes    <k type="bytes">hex</k>
// A leaf without a type attribute reads as a string.
//
// Keys are checked before anything is looked up (E_INVALIDARG): 1 to
// MAX_KEY_STEPS steps of XML names ([A-Za-z_][A-Za-z0-9_.-]*), at most
// MAX_KEY_BYTES, ids that are numbers. Deeper keys than the file parser
// accepts (XmlLimits::max_depth) can therefore never be written. Reading or
// removing a key that is not there is VM_E_PREF_NOT_FOUND; reading a key
// that has sub-keys (not a value) too. Remove takes a key with its sub-keys.
// Setting a key below a value (ram_size/x) is E_INVALIDARG: it would make a
// value with children, which no reader accepts.
#pragma once

#include "services/persist/preferences_xml.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services::persist {

inline constexpr std::size_t MAX_KEY_BYTES = 1024;
inline constexpr std::size_t MAX_KEY_STEPS = 24;
inline constexpr std::size_t MAX_VALUE_BYTES = 64 * 1024;

struct PreferenceValue {
    enum class Kind { String, Integer, Boolean, Bytes };
    Kind kind{Kind::String};
    std::string text;                // String
    std::uint32_t integer{0};        // Integer
    bool boolean{false};             // Boolean
    std::vector<std::uint8_t> bytes; // Bytes

    static PreferenceValue of_string(std::string value);
    static PreferenceValue of_integer(std::uint32_t value);
    static PreferenceValue of_boolean(bool value);
    static PreferenceValue of_bytes(std::vector<std::uint8_t> value);
    friend bool operator==(PreferenceValue const&, PreferenceValue const&) = default;
};

// The type attribute's spelling of a kind ("string", "integer", ...).
std::string_view preference_kind_name(PreferenceValue::Kind kind);
std::optional<PreferenceValue::Kind> preference_kind_from_name(std::string_view name);

ServiceResult<void> check_key(std::string_view key);
// `source` names the file in messages.
ServiceResult<PreferenceValue> get_value(pugi::xml_node root, std::string_view key,
                                         std::string const& source);
ServiceResult<void> set_value(pugi::xml_node root, std::string_view key, PreferenceValue const& value);
ServiceResult<void> remove_value(pugi::xml_node root, std::string_view key);

} // namespace vsa::services::persist
