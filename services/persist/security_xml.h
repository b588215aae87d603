// SPDX-License-Identifier: GPL-2.0-or-later
// Security descriptors (services/security/access_control.h) inside our XML
// files. The section, in the .vmc dialect (preferences_xml.h):
//   <security>
//     <owner type="string">alice</owner>
//     <access_control_list>
//       <entry id="0">
//         <name type="string">Administrators</name>
//         <type type="integer">0</type>        VMAccessRightsType
//         <rights type="integer">63</rights>   bit mask, services/security Right
// lives at settings/security in a .vmc, virtual_network/security in a .vnc
// and security/server in options.xml, where security/disks/disk[@id=N] holds
// each virtual hard disk's, with its canonical <path>. These are keys of our
// own: Virtual Server kept ACLs as NTFS permissions on the files, which a
// Linux appliance does not have.
//
// The files keep these sections as text they do not model (the preserved
// document of each file), so these helpers edit that text: every other
// writer then carries the section along unchanged.
#pragma once

#include "services/security/access_control.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services::persist {

inline constexpr std::string_view VMC_SECURITY_PATH = "settings/security";
inline constexpr std::string_view VNC_SECURITY_PATH = "virtual_network/security";
inline constexpr std::string_view SERVER_SECURITY_PATH = "security/server";
inline constexpr std::string_view DISKS_SECURITY_PATH = "security/disks";
inline constexpr std::size_t MAX_DISK_DESCRIPTORS = 4096;

// The descriptor stored at `path` in the document `text` (the file named
// `source`); std::nullopt when the section is absent. A malformed section is
// VM_E_PREF_ILLEGAL_VALUE naming the key.
ServiceResult<std::optional<security::SecurityDescriptor>>
security_in(std::string_view text, std::string const& source, std::string_view path);
// `text` with the section at `path` replaced by `descriptor`. `text` must
// be a <preferences> document.
ServiceResult<std::string> with_security(std::string_view text, std::string const& source,
                                         std::string_view path,
                                         security::SecurityDescriptor const& descriptor);

// Disks in options.xml, by canonical path.
ServiceResult<std::optional<security::SecurityDescriptor>>
disk_security_in(std::string_view text, std::string const& source, std::string_view disk_path);
ServiceResult<std::string> with_disk_security(std::string_view text, std::string const& source,
                                              std::string_view disk_path,
                                              security::SecurityDescriptor const& descriptor);

} // namespace vsa::services::persist
