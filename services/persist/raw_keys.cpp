// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/persist/raw_keys.h"

#include <charconv>
#include <cstring>

namespace vsa::services::persist {

namespace {

ServiceError bad_key(std::string_view key, std::string const& why) {
    return service_error(hr::E_INVALIDARG,
                         "configuration key \"" + std::string(key.substr(0, 120)) + "\": " + why);
}

ServiceError not_found(std::string_view key, std::string const& why = "not found") {
    return service_error(hr::VM_E_PREF_NOT_FOUND,
                         "configuration key \"" + std::string(key.substr(0, 120)) + "\": " + why);
}

bool is_name(std::string_view name) {
    if (name.empty()) return false;
    auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
    if (!alpha(name.front())) return false;
    for (char c : name)
        if (!alpha(c) && !(c >= '0' && c <= '9') && c != '-' && c != '.') return false;
    return true;
}

// Whether `node` holds a value (a typed leaf or a leaf with text), as opposed
// to a key that only groups other keys.
bool is_value(pugi::xml_node node) {
    if (node.attribute("type")) return true;
    for (auto child : node.children())
        if (child.type() == pugi::node_element) return false;
    return true;
}

} // namespace

PreferenceValue PreferenceValue::of_string(std::string value) {
    PreferenceValue v;
    v.kind = Kind::String;
    v.text = std::move(value);
    return v;
}

PreferenceValue PreferenceValue::of_integer(std::uint32_t value) {
    PreferenceValue v;
    v.kind = Kind::Integer;
    v.integer = value;
    return v;
}

PreferenceValue PreferenceValue::of_boolean(bool value) {
    PreferenceValue v;
    v.kind = Kind::Boolean;
    v.boolean = value;
    return v;
}

PreferenceValue PreferenceValue::of_bytes(std::vector<std::uint8_t> value) {
    PreferenceValue v;
    v.kind = Kind::Bytes;
    v.bytes = std::move(value);
    return v;
}

std::string_view preference_kind_name(PreferenceValue::Kind kind) {
    switch (kind) {
    case PreferenceValue::Kind::String:
        return "string";
    case PreferenceValue::Kind::Integer:
        return "integer";
    case PreferenceValue::Kind::Boolean:
        return "boolean";
    case PreferenceValue::Kind::Bytes:
        return "bytes";
    }
    return "string";
}

std::optional<PreferenceValue::Kind> preference_kind_from_name(std::string_view name) {
    for (auto kind : {PreferenceValue::Kind::String, PreferenceValue::Kind::Integer,
                      PreferenceValue::Kind::Boolean, PreferenceValue::Kind::Bytes})
        if (preference_kind_name(kind) == name) return kind;
    return std::nullopt;
}

ServiceResult<void> check_key(std::string_view key) {
    if (key.empty()) return bad_key(key, "empty");
    if (key.size() > MAX_KEY_BYTES)
        return bad_key(key, "longer than " + std::to_string(MAX_KEY_BYTES) + " bytes");
    std::size_t steps = 0;
    std::string_view rest = key;
    while (true) {
        auto slash = rest.find('/');
        auto step = rest.substr(0, slash);
        if (++steps > MAX_KEY_STEPS)
            return bad_key(key, "more than " + std::to_string(MAX_KEY_STEPS) + " levels");
        auto bracket = step.find('[');
        auto name = step.substr(0, bracket);
        if (!is_name(name))
            return bad_key(key, "\"" + std::string(step.substr(0, 60)) + "\" is not an element name");
        if (bracket != std::string_view::npos) {
            auto selector = step.substr(bracket);
            if (!selector.starts_with("[@id=") || !selector.ends_with("]"))
                return bad_key(key, "expected [@id=N] after \"" + std::string(name) + "\"");
            auto number = selector.substr(5, selector.size() - 6);
            if (number.size() >= 2 && number.front() == '"' && number.back() == '"')
                number = number.substr(1, number.size() - 2);
            long id = 0;
            auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), id);
            if (number.empty() || error != std::errc() || end != number.data() + number.size())
                return bad_key(key, "the id in \"" + std::string(step.substr(0, 60)) + "\" is not a number");
        }
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
    }
    return {};
}

ServiceResult<PreferenceValue> get_value(pugi::xml_node root, std::string_view key,
                                         std::string const& source) {
    TRY(check_key(key));
    auto node = find_path(root, key);
    if (!node) return not_found(key);
    if (!is_value(node)) return not_found(key, "a key with sub-keys, not a value");
    PreferenceReader reader(source);
    std::string_view type = node.attribute("type").value();
    if (type.empty() || type == "string") {
        auto value = TRY(reader.string(node, "", MAX_VALUE_BYTES));
        return PreferenceValue::of_string(value.value_or(std::string()));
    }
    if (type == "integer") {
        auto value = TRY(reader.integer(node, "", 0, UINT32_MAX));
        return PreferenceValue::of_integer(static_cast<std::uint32_t>(value.value_or(0)));
    }
    if (type == "boolean") {
        auto value = TRY(reader.boolean(node, ""));
        return PreferenceValue::of_boolean(value.value_or(false));
    }
    if (type == "bytes") {
        auto value = TRY(reader.bytes(node, "", MAX_VALUE_BYTES));
        return PreferenceValue::of_bytes(value.value_or(std::vector<std::uint8_t>{}));
    }
    return reader.illegal(node, "unknown type \"" + std::string(type.substr(0, 40)) + "\"");
}

ServiceResult<void> set_value(pugi::xml_node root, std::string_view key, PreferenceValue const& value) {
    TRY(check_key(key));
    if (value.kind == PreferenceValue::Kind::String && value.text.size() > MAX_VALUE_BYTES)
        return service_error(hr::E_INVALIDARG,
                             "a string value may have at most " + std::to_string(MAX_VALUE_BYTES) + " bytes");
    if (value.kind == PreferenceValue::Kind::Bytes && value.bytes.size() > MAX_VALUE_BYTES)
        return service_error(hr::E_INVALIDARG,
                             "a bytes value may have at most " + std::to_string(MAX_VALUE_BYTES) + " bytes");
    if (value.kind == PreferenceValue::Kind::String) {
        for (unsigned char c : value.text)
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return service_error(hr::E_INVALIDARG, "a string value may not hold control characters");
    }
    // No step above the leaf may already be a value.
    for (auto slash = key.find('/'); slash != std::string_view::npos; slash = key.find('/', slash + 1)) {
        auto parent = find_path(root, key.substr(0, slash));
        if (!parent) break;
        if (parent.attribute("type") || !std::string_view(parent.child_value()).empty())
            return bad_key(key, "\"" + std::string(key.substr(0, slash)) + "\" is a value, not a key");
    }
    switch (value.kind) {
    case PreferenceValue::Kind::String:
        set_string(root, key, value.text);
        break;
    case PreferenceValue::Kind::Integer:
        set_integer(root, key, value.integer);
        break;
    case PreferenceValue::Kind::Boolean:
        set_boolean(root, key, value.boolean);
        break;
    case PreferenceValue::Kind::Bytes:
        set_bytes(root, key, value.bytes);
        break;
    }
    return {};
}

ServiceResult<void> remove_value(pugi::xml_node root, std::string_view key) {
    TRY(check_key(key));
    auto node = find_path(root, key);
    if (!node) return not_found(key);
    node.parent().remove_child(node);
    return {};
}

} // namespace vsa::services::persist
