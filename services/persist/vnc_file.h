// SPDX-License-Identifier: GPL-2.0-or-later
// The .vnc file: a VirtualNetwork as XML.
//
// We found no published sample of a real Virtual Server .vnc, so the layout
// is ours, written in the same dialect as the .vmc (preferences_xml.h) so
// that one parser, one set of limits and one key-path syntax serve both:
//   <preferences>
//     <version type="string">1.0</version>
//     <virtual_network>
//       <id type="bytes">32 hex digits</id>         what .vmc NICs refer to
//       <name type="string">Internal</name>
//       <notes type="string"/>
//       <host_adapter type="string"/>               "" = guest-only
//       <dhcp_server>
//         <enabled type="boolean">false</enabled>
//         <network/> <network_mask/> <starting_ip_address/>
//         <ending_ip_address/> <server_ip_address/>  (strings, dotted)
//         <default_gateway_address/> <dns_servers/> <wins_servers/>
//         <lease_time/> <lease_renewal_time/> <lease_rebinding_time/>
//                                                      (integers, seconds)
// virtual_network/security holds the IVMSecurity descriptor (security_xml.h),
// kept as preserved text. Unknown keys are kept as in the .vmc. A file without an id gets one from
// the inventory; the name defaults to the file's stem.
#pragma once

#include "services/model/virtual_network.h"
#include "services/persist/atomic_file.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace vsa::services::persist {

inline constexpr std::size_t MAX_VNC_BYTES = 1024 * 1024;

ServiceResult<VirtualNetwork> parse_vnc(std::string_view bytes, std::filesystem::path const& file);
ServiceResult<VirtualNetwork> read_vnc(std::filesystem::path const& file);
ServiceResult<std::string> serialize_vnc(VirtualNetwork const& network);
ServiceResult<void> write_vnc(VirtualNetwork const& network, AtomicWriteHooks const& hooks = {});

} // namespace vsa::services::persist
