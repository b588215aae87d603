// SPDX-License-Identifier: GPL-2.0-or-later
// SMBIOS tables for SeaBIOS: the identity of a virtual machine as Virtual
// Server showed it to its guests (IVMVirtualMachine.BIOSGUID,
// BIOSSerialNumber, BaseBoardSerialNumber, ChassisSerialNumber,
// ChassisAssetTag), handed to the BIOS as the fw_cfg files
// "etc/smbios/smbios-anchor" and "etc/smbios/smbios-tables".
//
// Reference: DMTF DSP0134 (SMBIOS) 2.8, sections 5.2.1 (the 2.1 32-bit
// entry point), 7.1 (type 1), 7.3 (type 2), 7.4 (type 3), 7.45 (type 127).
// SeaBIOS (src/fw/biostables.c, smbios_romfile_setup) takes the anchor as
// a 31-byte 2.1 entry point whose structure-table length equals the size
// of the tables file; it adds its own type 0 (BIOS vendor "SeaBIOS",
// version, date) when the tables have none, puts the tables in the F
// segment (or high memory when large), fills in the address, and fixes
// both checksums. We still write correct checksums, so the anchor is a
// valid entry point on its own.
//
// What the guest gets:
//   type 1  System: "Microsoft Corporation" / "Virtual Machine" / version
//           "VS2005R2", serial = BIOSSerialNumber, UUID = BIOSGUID (in the
//           2.6+ encoding: the first three fields little-endian)
//   type 2  Base board: the same maker and product, serial =
//           BaseBoardSerialNumber, contained in the type 3 chassis
//   type 3  Chassis: desktop, serial = ChassisSerialNumber, asset tag =
//           ChassisAssetTag
//   type 127 end of table
// An empty string becomes "no string" (index 0), as DSP0134 6.1.3 allows.
// Strings are at most 64 bytes; bytes outside printable ASCII become '?'
// (the worker's command line is trusted, but a table must stay parseable).
//
// Left out: type 0 (SeaBIOS's), processor, memory and slot structures
// (SeaBIOS's legacy builder wrote them; no Virtual Server guest needs
// them), and the 64-bit 3.0 entry point.
#pragma once

#include "hypervisor/base/types.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsa {

struct SmbiosIdentity {
    // RFC 4122 byte order (as the text form reads).
    std::array<u8, 16> uuid{};
    std::string system_serial;
    std::string board_serial;
    std::string chassis_serial;
    std::string chassis_asset_tag;
};

struct SmbiosFiles {
    std::vector<u8> anchor; // 31 bytes
    std::vector<u8> tables;
};

inline constexpr std::string_view SMBIOS_ANCHOR_FILE = "etc/smbios/smbios-anchor";
inline constexpr std::string_view SMBIOS_TABLES_FILE = "etc/smbios/smbios-tables";
inline constexpr std::size_t SMBIOS_MAX_STRING = 64;

SmbiosFiles build_smbios_files(SmbiosIdentity const& identity);

// "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", with or without braces, any case.
std::optional<std::array<u8, 16>> parse_smbios_uuid(std::string_view text);

} // namespace vsa
