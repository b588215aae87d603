// SPDX-License-Identifier: GPL-2.0-or-later
// options.xml: the server-wide settings vsad keeps in its data folder, the
// counterpart of Virtual Server's Options.xml (whose layout is not
// published, so this one is ours, in the .vmc dialect):
//   <preferences>
//     <version type="string">1.0</version>
//     <paths>
//       <default_vm_configuration type="string">/srv/vsa/vms</default_vm_configuration>
//       <default_vn_configuration type="string">/srv/vsa/networks</default_vn_configuration>
//       <search_paths>
//         <path id="0" type="string">/srv/vsa/media</path> ...
//     <virtual_machines>
//       <configuration id="0" type="string">/srv/vsa/vms/web01/web01.vmc</configuration> ...
//     <virtual_networks>
//       <configuration id="0" type="string">/srv/vsa/networks/Internal.vnc</configuration> ...
// Registered VMs and networks are listed by file, as Virtual Server keeps
// shortcuts to them; everything else about them is in their own files.
// Later parts add sections; unknown sections are kept. Security adds
// <security> (the server's ACL and each disk's, security_xml.h), which the
// inventory edits in the preserved text.
#pragma once

#include "services/persist/atomic_file.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace vsa::services::persist {

inline constexpr std::size_t MAX_OPTIONS_BYTES = 4 * 1024 * 1024;
inline constexpr std::size_t MAX_SEARCH_PATHS = 64;
inline constexpr std::size_t MAX_REGISTERED = 4096;

struct ServerOptions {
    std::string default_vm_path;
    std::string default_vn_path;
    std::vector<std::string> search_paths;
    std::vector<std::string> virtual_machines; // .vmc files
    std::vector<std::string> virtual_networks; // .vnc files
    std::string preserved_xml;

    bool same_settings(ServerOptions const& other) const {
        return default_vm_path == other.default_vm_path && default_vn_path == other.default_vn_path &&
               search_paths == other.search_paths && virtual_machines == other.virtual_machines &&
               virtual_networks == other.virtual_networks;
    }
};

ServiceResult<ServerOptions> parse_server_options(std::string_view bytes, std::filesystem::path const& file);
// std::nullopt when the file does not exist (first start).
ServiceResult<std::optional<ServerOptions>> read_server_options(std::filesystem::path const& file);
ServiceResult<std::string> serialize_server_options(ServerOptions const& options);
ServiceResult<void> write_server_options(std::filesystem::path const& file, ServerOptions const& options,
                                         AtomicWriteHooks const& hooks = {});

} // namespace vsa::services::persist
