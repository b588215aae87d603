// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/persist/preferences_xml.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace vsa::services::persist {

namespace {

struct StringWriter final : pugi::xml_writer {
    std::string text;
    void write(void const* data, std::size_t size) override {
        text.append(static_cast<char const*>(data), size);
    }
};

std::string_view trim(std::string_view text) {
    auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && is_space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_space(text.back()))
        text.remove_suffix(1);
    return text;
}

// One step of a key path: "location" or "location[@id=3]".
struct Step {
    std::string name;
    std::optional<long> id;
};

std::optional<Step> parse_step(std::string_view text) {
    Step step;
    auto bracket = text.find('[');
    if (bracket == std::string_view::npos) {
        step.name = std::string(text);
    } else {
        step.name = std::string(text.substr(0, bracket));
        auto rest = text.substr(bracket);
        if (!rest.starts_with("[@id=") || !rest.ends_with("]")) return std::nullopt;
        auto number = rest.substr(5, rest.size() - 6);
        if (number.size() >= 2 && number.front() == '"' && number.back() == '"')
            number = number.substr(1, number.size() - 2);
        long id = 0;
        auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), id);
        if (error != std::errc() || end != number.data() + number.size()) return std::nullopt;
        step.id = id;
    }
    if (step.name.empty()) return std::nullopt;
    return step;
}

template <typename Visit>
pugi::xml_node walk(pugi::xml_node node, std::string_view path, Visit visit) {
    while (!path.empty() && node) {
        auto slash = path.find('/');
        auto part = path.substr(0, slash);
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
        auto step = parse_step(part);
        if (!step) return {};
        node = visit(node, *step);
    }
    return node;
}

bool id_matches(pugi::xml_node node, long id) {
    auto attribute = node.attribute("id");
    if (!attribute) return false;
    std::string_view text = attribute.value();
    long value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && value == id;
}

} // namespace

PreferencesXml::PreferencesXml(std::string_view comment)
    : m_document(std::make_unique<pugi::xml_document>()) {
    auto declaration = m_document->append_child(pugi::node_declaration);
    declaration.append_attribute("version") = "1.0";
    declaration.append_attribute("encoding") = "UTF-8";
    m_document->append_child(pugi::node_comment).set_value(std::string(comment).c_str());
    m_document->append_child("preferences");
}

ServiceResult<PreferencesXml> PreferencesXml::parse(std::string_view bytes, std::string source,
                                                    XmlLimits const& limits) {
    if (bytes.size() > limits.max_bytes)
        return service_error(hr::VM_E_PREF_ILLEGAL_VALUE, source + ": " + std::to_string(bytes.size()) +
                                                              " bytes is more than the " +
                                                              std::to_string(limits.max_bytes) + " allowed");
    PreferencesXml xml;
    xml.m_source = std::move(source);
    xml.m_document = std::make_unique<pugi::xml_document>();
    // parse_default without parse_doctype: the DOCTYPE (and any entity
    // declarations in it) is skipped, never interpreted.
    auto parsed = xml.m_document->load_buffer(bytes.data(), bytes.size(),
                                              pugi::parse_default | pugi::parse_ws_pcdata_single |
                                                  pugi::parse_comments | pugi::parse_declaration,
                                              pugi::encoding_auto);
    if (!parsed)
        return service_error(hr::VM_E_PREF_ILLEGAL_VALUE, xml.m_source + ": not well-formed XML (" +
                                                              parsed.description() + " at byte " +
                                                              std::to_string(parsed.offset) + ")");
    // Depth and size of the tree, without recursion: a hostile file nested a
    // million deep must not overflow our stack here or anywhere later.
    std::size_t nodes = 0;
    std::size_t depth = 0;
    pugi::xml_node node = xml.m_document->first_child();
    while (node) {
        if (++nodes > limits.max_nodes)
            return service_error(hr::VM_E_PREF_ILLEGAL_VALUE, xml.m_source + ": more than " +
                                                                  std::to_string(limits.max_nodes) +
                                                                  " XML nodes");
        if (node.first_child()) {
            if (++depth > limits.max_depth)
                return service_error(hr::VM_E_PREF_ILLEGAL_VALUE, xml.m_source + ": XML nested deeper than " +
                                                                      std::to_string(limits.max_depth) +
                                                                      " levels");
            node = node.first_child();
            continue;
        }
        while (node && !node.next_sibling()) {
            node = node.parent();
            if (node == *xml.m_document) {
                node = {};
                break;
            }
            --depth;
        }
        if (node) node = node.next_sibling();
    }
    auto root = xml.m_document->document_element();
    if (std::strcmp(root.name(), "preferences") != 0)
        return service_error(hr::VM_E_PREF_ILLEGAL_VALUE, xml.m_source + ": the root element is <" +
                                                              root.name() + ">, expected <preferences>");
    return xml;
}

std::string PreferencesXml::serialize() const {
    // We write UTF-8 whatever the file was read in (real .vmc files are
    // UTF-16): the declaration must say so.
    auto declaration = m_document->first_child();
    if (declaration.type() != pugi::node_declaration)
        declaration = m_document->prepend_child(pugi::node_declaration);
    declaration.remove_attributes();
    declaration.append_attribute("version") = "1.0";
    declaration.append_attribute("encoding") = "UTF-8";
    StringWriter writer;
    m_document->save(writer, "\t", pugi::format_default, pugi::encoding_utf8);
    return std::move(writer.text);
}

pugi::xml_node child_with_id(pugi::xml_node parent, char const* name, long id) {
    for (auto child : parent.children(name))
        if (id_matches(child, id)) return child;
    return {};
}

pugi::xml_node ensure_child(pugi::xml_node parent, char const* name) {
    auto child = parent.child(name);
    return child ? child : parent.append_child(name);
}

pugi::xml_node ensure_child_with_id(pugi::xml_node parent, char const* name, long id) {
    auto child = child_with_id(parent, name, id);
    if (child) return child;
    child = parent.append_child(name);
    child.append_attribute("id") = std::to_string(id).c_str();
    return child;
}

pugi::xml_node ensure_path(pugi::xml_node node, std::string_view path) {
    return walk(node, path, [](pugi::xml_node at, Step const& step) {
        return step.id ? ensure_child_with_id(at, step.name.c_str(), *step.id)
                       : ensure_child(at, step.name.c_str());
    });
}

pugi::xml_node find_path(pugi::xml_node node, std::string_view path) {
    return walk(node, path, [](pugi::xml_node at, Step const& step) {
        return step.id ? child_with_id(at, step.name.c_str(), *step.id) : at.child(step.name.c_str());
    });
}

std::string key_path(pugi::xml_node node) {
    std::vector<std::string> parts;
    for (; node && node.parent() && node.parent().type() != pugi::node_document; node = node.parent()) {
        std::string part = node.name();
        if (auto id = node.attribute("id")) part += std::string("[@id=") + id.value() + "]";
        parts.push_back(std::move(part));
    }
    std::string path;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (!path.empty()) path += '/';
        path += *it;
    }
    return path;
}

namespace {

pugi::xml_node typed_leaf(pugi::xml_node parent, std::string_view path, char const* type) {
    auto leaf = ensure_path(parent, path);
    auto attribute = leaf.attribute("type");
    if (!attribute) attribute = leaf.append_attribute("type");
    attribute = type;
    return leaf;
}

} // namespace

void set_string(pugi::xml_node parent, std::string_view path, std::string_view value) {
    auto leaf = typed_leaf(parent, path, "string");
    // Drop child elements a hand-edited file might have put here.
    while (auto child = leaf.first_child())
        leaf.remove_child(child);
    if (!value.empty()) leaf.text().set(std::string(value).c_str());
}

void set_integer(pugi::xml_node parent, std::string_view path, std::int64_t value) {
    auto leaf = typed_leaf(parent, path, "integer");
    while (auto child = leaf.first_child())
        leaf.remove_child(child);
    leaf.text().set(std::to_string(value).c_str());
}

void set_boolean(pugi::xml_node parent, std::string_view path, bool value) {
    auto leaf = typed_leaf(parent, path, "boolean");
    while (auto child = leaf.first_child())
        leaf.remove_child(child);
    leaf.text().set(value ? "true" : "false");
}

void set_bytes(pugi::xml_node parent, std::string_view path, std::vector<std::uint8_t> const& value) {
    static constexpr char HEX[] = "0123456789ABCDEF";
    std::string text;
    for (auto byte : value) {
        text += HEX[byte >> 4];
        text += HEX[byte & 15];
    }
    auto leaf = typed_leaf(parent, path, "bytes");
    while (auto child = leaf.first_child())
        leaf.remove_child(child);
    if (!text.empty()) leaf.text().set(text.c_str());
}

ServiceError PreferenceReader::illegal(pugi::xml_node node, std::string const& why) const {
    return service_error(hr::VM_E_PREF_ILLEGAL_VALUE, m_source + ": " + key_path(node) + ": " + why);
}

ServiceResult<pugi::xml_node> PreferenceReader::leaf(pugi::xml_node parent, std::string_view path,
                                                     char const* type) const {
    auto node = find_path(parent, path);
    if (!node) return pugi::xml_node{};
    if (node.first_child() && node.first_child().type() == pugi::node_element)
        return illegal(node, "expected a " + std::string(type) + " value, found child elements");
    auto attribute = node.attribute("type");
    if (attribute && std::strcmp(attribute.value(), type) != 0)
        return illegal(node,
                       "expected type \"" + std::string(type) + "\", found \"" + attribute.value() + "\"");
    return node;
}

ServiceResult<std::optional<std::string>>
PreferenceReader::string(pugi::xml_node parent, std::string_view path, std::size_t max_length) const {
    auto node = TRY(leaf(parent, path, "string"));
    if (!node) return std::optional<std::string>{};
    std::string value = node.text().get();
    if (value.size() > max_length)
        return illegal(node, "text of " + std::to_string(value.size()) + " bytes is longer than the " +
                                 std::to_string(max_length) + " allowed");
    return std::optional<std::string>(std::move(value));
}

ServiceResult<std::optional<std::int64_t>> PreferenceReader::integer(pugi::xml_node parent,
                                                                     std::string_view path, std::int64_t min,
                                                                     std::int64_t max) const {
    auto node = TRY(leaf(parent, path, "integer"));
    if (!node) return std::optional<std::int64_t>{};
    auto text = trim(node.text().get());
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
        return illegal(node, "\"" + std::string(text.substr(0, 40)) + "\" is not an integer");
    if (value < min || value > max)
        return illegal(node, std::to_string(value) + " is out of range " + std::to_string(min) + ".." +
                                 std::to_string(max));
    return std::optional<std::int64_t>(value);
}

ServiceResult<std::optional<bool>> PreferenceReader::boolean(pugi::xml_node parent,
                                                             std::string_view path) const {
    auto node = TRY(leaf(parent, path, "boolean"));
    if (!node) return std::optional<bool>{};
    auto text = trim(node.text().get());
    std::string lower(text.substr(0, 8));
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (text.size() <= 8) {
        if (lower == "true" || lower == "1") return std::optional<bool>(true);
        if (lower == "false" || lower == "0") return std::optional<bool>(false);
    }
    return illegal(node, "\"" + std::string(text.substr(0, 40)) + "\" is not a boolean");
}

ServiceResult<std::optional<std::vector<std::uint8_t>>>
PreferenceReader::bytes(pugi::xml_node parent, std::string_view path, std::size_t max_length) const {
    auto node = TRY(leaf(parent, path, "bytes"));
    if (!node) return std::optional<std::vector<std::uint8_t>>{};
    auto text = trim(node.text().get());
    if (text.size() % 2 != 0 || text.size() / 2 > max_length)
        return illegal(node,
                       "expected at most " + std::to_string(max_length) + " bytes as pairs of hex digits");
    std::vector<std::uint8_t> value;
    value.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        unsigned byte = 0;
        auto [end, error] = std::from_chars(text.data() + i, text.data() + i + 2, byte, 16);
        if (error != std::errc() || end != text.data() + i + 2)
            return illegal(node, "\"" + std::string(text.substr(0, 40)) + "\" is not hex");
        value.push_back(static_cast<std::uint8_t>(byte));
    }
    return std::optional<std::vector<std::uint8_t>>(std::move(value));
}

ServiceResult<long> PreferenceReader::id(pugi::xml_node node, long min, long max) const {
    std::string_view text = node.attribute("id").value();
    long value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size())
        return illegal(node, "id attribute \"" + std::string(text.substr(0, 40)) + "\" is not a number");
    if (value < min || value > max)
        return illegal(node, "id " + std::to_string(value) + " is out of range " + std::to_string(min) +
                                 ".." + std::to_string(max));
    return value;
}

} // namespace vsa::services::persist
