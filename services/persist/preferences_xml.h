// SPDX-License-Identifier: GPL-2.0-or-later
// PreferencesXml: the XML dialect of Virtual Server's configuration files.
//
// A .vmc (and our .vnc and options.xml) is a <preferences> tree whose leaves
// carry their type in an attribute:
//   <ram_size type="integer">128</ram_size>          VT_UI4
//   <absolute type="string">C:\disk.vhd</absolute>   VT_BSTR
//   <enabled type="boolean">true</enabled>           VT_BOOL
//   <id type="bytes">DF36471DB985...</id>             VT_ARRAY|VT_UI1 (hex)
// and repeated elements are told apart by an id attribute
// (ide_controller id="1"), which key paths write as ide_controller[@id=1]
// (IVMVirtualMachine.GetConfigurationValue).
//
// The files come from clients (RegisterVirtualMachine takes any .vmc) and
// from disk, so parsing is defensive: a size cap before parsing, a depth and
// node cap after, no DTD processing at all (pugixml skips the DOCTYPE and
// never expands entities it does not know, so neither "billion laughs" nor
// external entities can happen), and typed reads that name the key and the
// file when a value is missing, of the wrong type or out of range. Real
// files are UTF-16 with a BOM; pugixml converts them. We write UTF-8, which
// the Windows XML parser reads as well and which Linux tools can grep.
//
// Only the persist/*.cpp files include this header: pugixml stays out of the
// model's interface.
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services::persist {

struct XmlLimits {
    std::size_t max_bytes{4 * 1024 * 1024};
    std::size_t max_depth{32};
    std::size_t max_nodes{100'000};
};

class PreferencesXml {
public:
    // A new, empty <preferences> document headed by `comment`.
    explicit PreferencesXml(std::string_view comment);

    // Parses `bytes` (UTF-8 or UTF-16 with a BOM). `source` names the file in
    // error messages. The root must be <preferences>.
    static ServiceResult<PreferencesXml> parse(std::string_view bytes, std::string source,
                                               XmlLimits const& limits = {});

    PreferencesXml(PreferencesXml&&) = default;
    PreferencesXml& operator=(PreferencesXml&&) = default;

    pugi::xml_node root() const { return m_document->document_element(); }
    std::string const& source() const { return m_source; }

    // UTF-8 text with a declaration, tab indentation as in real files.
    std::string serialize() const;

private:
    PreferencesXml() = default;
    // unique_ptr: pugi::xml_document cannot move in pugixml 1.13's API guarantees
    // for all builds, and nodes must stay valid when the wrapper moves.
    std::unique_ptr<pugi::xml_document> m_document;
    std::string m_source;
};

// The child `name` whose id attribute is `id`, or an empty node.
pugi::xml_node child_with_id(pugi::xml_node parent, char const* name, long id);
// The child `name`, created (appended) when missing.
pugi::xml_node ensure_child(pugi::xml_node parent, char const* name);
// The child `name` with id attribute `id`, created when missing.
pugi::xml_node ensure_child_with_id(pugi::xml_node parent, char const* name, long id);
// Follows "a/b/c" from `node`, creating what is missing.
pugi::xml_node ensure_path(pugi::xml_node node, std::string_view path);
// Follows "a/b/c" from `node`; an empty node when any step is missing.
pugi::xml_node find_path(pugi::xml_node node, std::string_view path);
// "hardware/pci_bus/ide_adapter/ide_controller[@id=1]" for messages.
std::string key_path(pugi::xml_node node);

// Leaf writers: set the type attribute and the text, creating the path.
void set_string(pugi::xml_node parent, std::string_view path, std::string_view value);
void set_integer(pugi::xml_node parent, std::string_view path, std::int64_t value);
void set_boolean(pugi::xml_node parent, std::string_view path, bool value);
void set_bytes(pugi::xml_node parent, std::string_view path, std::vector<std::uint8_t> const& value);

// Typed reads of the leaf at `path` under `parent`. std::nullopt when the
// leaf is absent; an error (VM_E_PREF_ILLEGAL_VALUE naming the file and the
// key) when its type attribute or its text does not fit.
class PreferenceReader {
public:
    explicit PreferenceReader(std::string source) : m_source(std::move(source)) {}

    ServiceResult<std::optional<std::string>> string(pugi::xml_node parent, std::string_view path,
                                                     std::size_t max_length) const;
    ServiceResult<std::optional<std::int64_t>> integer(pugi::xml_node parent, std::string_view path,
                                                       std::int64_t min, std::int64_t max) const;
    ServiceResult<std::optional<bool>> boolean(pugi::xml_node parent, std::string_view path) const;
    ServiceResult<std::optional<std::vector<std::uint8_t>>>
    bytes(pugi::xml_node parent, std::string_view path, std::size_t max_length) const;
    // The id attribute of a repeated element, within [min, max].
    ServiceResult<long> id(pugi::xml_node node, long min, long max) const;

    ServiceError illegal(pugi::xml_node node, std::string const& why) const;

private:
    ServiceResult<pugi::xml_node> leaf(pugi::xml_node parent, std::string_view path, char const* type) const;

    std::string m_source;
};

} // namespace vsa::services::persist
