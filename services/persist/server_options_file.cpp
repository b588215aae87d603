// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/persist/server_options_file.h"

#include "services/model/hard_disk_connection.h"
#include "services/persist/preferences_xml.h"

#include <cerrno>
#include <sys/stat.h>

namespace vsa::services::persist {

namespace {

constexpr char const* HEADER = " Virtual Server Appliance Options ";

ServiceResult<std::vector<std::string>> read_list(PreferenceReader const& reader, pugi::xml_node parent,
                                                  char const* element, std::size_t max) {
    std::vector<std::string> items;
    std::size_t seen = 0;
    for (auto node : parent.children(element)) {
        if (++seen > max)
            return reader.illegal(parent, "more than " + std::to_string(max) + " <" + element + "> entries");
        TRY(reader.id(node, 0, static_cast<long>(max)));
        auto value = TRY(reader.string(node, "", MAX_PATH_BYTES)).value_or("");
        if (auto valid = validate_stored_path(value, element); valid.is_error())
            return reader.illegal(node, valid.error().message);
        items.push_back(std::move(value));
    }
    return items;
}

void write_list(pugi::xml_node parent, char const* element, std::vector<std::string> const& items) {
    while (auto child = parent.child(element))
        parent.remove_child(child);
    for (std::size_t i = 0; i < items.size(); ++i)
        set_string(ensure_child_with_id(parent, element, static_cast<long>(i)), "", items[i]);
}

} // namespace

ServiceResult<ServerOptions> parse_server_options(std::string_view bytes, std::filesystem::path const& file) {
    auto xml = TRY(PreferencesXml::parse(bytes, file.string(), XmlLimits{MAX_OPTIONS_BYTES, 16, 100'000}));
    PreferenceReader reader(file.string());
    auto root = xml.root();
    ServerOptions options;
    auto paths = root.child("paths");
    for (auto [key, field] : {std::pair{"default_vm_configuration", &options.default_vm_path},
                              std::pair{"default_vn_configuration", &options.default_vn_path}}) {
        auto value = TRY(reader.string(paths, key, MAX_PATH_BYTES)).value_or("");
        if (!value.empty()) {
            if (auto valid = validate_stored_path(value, key); valid.is_error())
                return reader.illegal(paths.child(key), valid.error().message);
        }
        *field = std::move(value);
    }
    options.search_paths = TRY(read_list(reader, paths.child("search_paths"), "path", MAX_SEARCH_PATHS));
    options.virtual_machines =
        TRY(read_list(reader, root.child("virtual_machines"), "configuration", MAX_REGISTERED));
    options.virtual_networks =
        TRY(read_list(reader, root.child("virtual_networks"), "configuration", MAX_REGISTERED));
    options.preserved_xml = std::string(bytes);
    return options;
}

ServiceResult<std::optional<ServerOptions>> read_server_options(std::filesystem::path const& file) {
    struct stat info {};
    if (::lstat(file.c_str(), &info) != 0 && errno == ENOENT) return std::optional<ServerOptions>{};
    auto bytes = TRY(read_file_capped(file, MAX_OPTIONS_BYTES));
    return std::optional<ServerOptions>(TRY(parse_server_options(bytes, file)));
}

ServiceResult<std::string> serialize_server_options(ServerOptions const& options) {
    std::optional<PreferencesXml> parsed;
    if (!options.preserved_xml.empty()) {
        auto reparsed = PreferencesXml::parse(options.preserved_xml, "options",
                                              XmlLimits{MAX_OPTIONS_BYTES, 16, 100'000});
        if (reparsed.has_value()) parsed.emplace(reparsed.release_value());
    }
    if (!parsed) parsed.emplace(HEADER);
    auto root = parsed->root();
    if (!root.child("version")) set_string(root, "version", "1.0");
    auto paths = ensure_child(root, "paths");
    set_string(paths, "default_vm_configuration", options.default_vm_path);
    set_string(paths, "default_vn_configuration", options.default_vn_path);
    write_list(ensure_child(paths, "search_paths"), "path", options.search_paths);
    write_list(ensure_child(root, "virtual_machines"), "configuration", options.virtual_machines);
    write_list(ensure_child(root, "virtual_networks"), "configuration", options.virtual_networks);
    return parsed->serialize();
}

ServiceResult<void> write_server_options(std::filesystem::path const& file, ServerOptions const& options,
                                         AtomicWriteHooks const& hooks) {
    auto text = TRY(serialize_server_options(options));
    return write_file_atomically(file, text, hooks);
}

} // namespace vsa::services::persist
