// SPDX-License-Identifier: GPL-2.0-or-later
// The on-disk structures of the Microsoft Virtual Hard Disk Image Format
// Specification (v1.0, 2006): the 512-byte footer, the 1024-byte dynamic
// disk header with its eight parent locator entries, the block allocation
// table (BAT) and the sector bitmaps. Everything is big-endian except the
// W2ku/W2ru locator data (UTF-16LE).
//
// This file is pure: bytes in, values or a StorageError out, and values back
// to bytes. It never touches a file, so it can be fuzzed and tested to the
// byte. Every field read from an image is untrusted: parse_* checks cookies,
// checksums and versions, and validate_* checks the layout (offsets, sizes,
// overlaps) against the real file size before anything is allocated from it.
#pragma once

#include "services/storage/storage_error.h"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::storage::vhd {

inline constexpr std::uint32_t SECTOR_SIZE = 512;
inline constexpr std::size_t FOOTER_SIZE = 512;
inline constexpr std::size_t DYNAMIC_HEADER_SIZE = 1024;
inline constexpr std::uint32_t DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024;
inline constexpr std::uint32_t MIN_BLOCK_SIZE = 4096;
inline constexpr std::uint32_t MAX_BLOCK_SIZE = 256 * 1024 * 1024;
// Virtual Server 2005's limit (VM_E_IMAGE_SIZE_TOO_LARGE: 2,088,960 MB) is
// also where the VHD geometry saturates; we refuse larger images on open too.
inline constexpr std::uint64_t MAX_DISK_SIZE = 2'088'960ull * 1024 * 1024;
// Virtual Server's minimum for a new disk (VM_E_IMAGE_SIZE_TOO_SMALL).
inline constexpr std::uint64_t MIN_CREATE_SIZE = 3ull * 1024 * 1024;
inline constexpr std::uint32_t UNUSED_BAT_ENTRY = 0xFFFF'FFFF;
inline constexpr std::uint64_t NO_DATA_OFFSET = 0xFFFF'FFFF'FFFF'FFFF;
inline constexpr std::size_t MAX_PARENT_LOCATORS = 8;
// Longest locator we read: a Windows path of 32K UTF-16 units.
inline constexpr std::uint32_t MAX_LOCATOR_BYTES = 65536;

enum class DiskType : std::uint32_t { None = 0, Fixed = 2, Dynamic = 3, Differencing = 4 };
std::string_view disk_type_name(DiskType type);

using Uuid = std::array<std::uint8_t, 16>;
Uuid random_uuid();
// The usual 8-4-4-4-12 form, bytes in file order.
std::string uuid_string(Uuid const& uuid);

struct Geometry {
    std::uint16_t cylinders{0};
    std::uint8_t heads{0};
    std::uint8_t sectors_per_track{0};
    std::uint64_t total_sectors() const { return std::uint64_t(cylinders) * heads * sectors_per_track; }
    friend bool operator==(Geometry const&, Geometry const&) = default;
};
// The specification's CHS algorithm (appendix "CHS Calculation").
Geometry chs_geometry(std::uint64_t total_sectors);

// VHD timestamps count seconds since 2000-01-01 00:00:00 UTC.
inline constexpr std::int64_t VHD_EPOCH_UNIX = 946'684'800;
std::uint32_t to_vhd_timestamp(std::chrono::system_clock::time_point time);
std::chrono::system_clock::time_point from_vhd_timestamp(std::uint32_t timestamp);

// One's complement of the byte sum, with the checksum field itself taken as 0.
std::uint32_t checksum(std::span<std::byte const> bytes, std::size_t checksum_offset);

struct Footer {
    std::uint32_t features{2}; // bit 1 is reserved and always set
    std::uint32_t format_version{0x0001'0000};
    std::uint64_t data_offset{NO_DATA_OFFSET};
    std::uint32_t timestamp{0};
    std::array<char, 4> creator_application{'v', 's', 'a', ' '};
    std::uint32_t creator_version{0x0001'0000};
    std::uint32_t creator_host_os{0x5769'326B}; // "Wi2k", as Virtual Server writes
    std::uint64_t original_size{0};
    std::uint64_t current_size{0};
    Geometry geometry{};
    DiskType disk_type{DiskType::Fixed};
    std::uint32_t checksum{0}; // filled in by serialize_footer
    Uuid unique_id{};
    std::uint8_t saved_state{0};
};

using FooterBytes = std::array<std::byte, FOOTER_SIZE>;
FooterBytes serialize_footer(Footer const& footer);
// Checks cookie, checksum, version, type and size; not the layout.
StorageResult<Footer> parse_footer(std::span<std::byte const> bytes);

// Platform codes of the parent locator entries.
inline constexpr std::uint32_t PLATFORM_NONE = 0;
inline constexpr std::uint32_t PLATFORM_W2KU = 0x5732'6B75; // "W2ku": absolute path, UTF-16LE
inline constexpr std::uint32_t PLATFORM_W2RU = 0x5732'7275; // "W2ru": relative path, UTF-16LE
inline constexpr std::uint32_t PLATFORM_WI2R = 0x5769'3272; // deprecated
inline constexpr std::uint32_t PLATFORM_WI2K = 0x5769'326B; // deprecated
inline constexpr std::uint32_t PLATFORM_MAC = 0x4D61'6320;
inline constexpr std::uint32_t PLATFORM_MACX = 0x4D61'6358;

struct ParentLocator {
    std::uint32_t platform_code{PLATFORM_NONE};
    // The specification says sectors; Hyper-V and others write bytes. See
    // locator_space_bytes().
    std::uint32_t platform_data_space{0};
    std::uint32_t platform_data_length{0};
    std::uint64_t platform_data_offset{0};
};
std::uint64_t locator_space_bytes(ParentLocator const& locator);

struct DynamicHeader {
    std::uint64_t data_offset{NO_DATA_OFFSET};
    std::uint64_t table_offset{0};
    std::uint32_t header_version{0x0001'0000};
    std::uint32_t max_table_entries{0};
    std::uint32_t block_size{DEFAULT_BLOCK_SIZE};
    std::uint32_t checksum{0};
    Uuid parent_unique_id{};
    std::uint32_t parent_timestamp{0};
    // UTF-16 *big-endian* in the file (unlike the locators), 256 units.
    std::u16string parent_unicode_name;
    std::array<ParentLocator, MAX_PARENT_LOCATORS> parent_locators{};
};

using DynamicHeaderBytes = std::array<std::byte, DYNAMIC_HEADER_SIZE>;
DynamicHeaderBytes serialize_dynamic_header(DynamicHeader const& header);
StorageResult<DynamicHeader> parse_dynamic_header(std::span<std::byte const> bytes);

// Sizes derived from a header: sectors per block and the bitmap in front of
// each block, padded to whole sectors.
std::uint32_t sectors_per_block(DynamicHeader const& header);
std::uint32_t bitmap_bytes(DynamicHeader const& header);
std::uint64_t bat_bytes(DynamicHeader const& header); // padded to whole sectors

// Where we put a new block when the data so far ends at `end`: the first
// place at or after it where the block's data (after its bitmap) starts on
// a 4 KiB boundary of the file. That is the host's page size: a guest's
// aligned 4 KiB write then replaces whole pages of the page cache, where a
// block data area 512 bytes off made every such write to a block not in the
// cache read two pages from the disk first (a dynamic disk's random writes
// ran at a tenth of a raw file's). The format allows gaps between blocks;
// the gap (under 4 KiB) is unreferenced space, and readers follow the BAT.
inline constexpr std::uint64_t BLOCK_DATA_ALIGNMENT = 4096;
std::uint64_t aligned_block_start(std::uint64_t end, DynamicHeader const& header);

// A byte range of the image file that holds something, for overlap checks.
struct Extent {
    std::uint64_t offset{0};
    std::uint64_t length{0};
    std::string what;
};

// Checks a dynamic/differencing image's metadata layout against the size of
// the file (the footer sits at file_size - 512): the header and BAT lie in
// the file, nothing overlaps, the BAT covers the disk and is not absurdly
// large. Returns the metadata extents (footer copy, header, BAT, locators).
StorageResult<std::vector<Extent>> validate_dynamic_layout(Footer const& footer, DynamicHeader const& header,
                                                           std::uint64_t file_size);

// Every problem with the BAT entries (blocks past the data area, overlapping
// each other or the metadata). Empty means good. Stops after max_problems.
std::vector<std::string> find_bat_problems(std::span<std::uint32_t const> bat, DynamicHeader const& header,
                                           std::vector<Extent> const& metadata, std::uint64_t data_end,
                                           std::size_t max_problems = 20);

// The BAT in host order, from its big-endian bytes.
std::vector<std::uint32_t> parse_bat(std::span<std::byte const> bytes, std::uint32_t entries);

// Locator text: UTF-16LE <-> UTF-8. Bad surrogates become U+FFFD.
std::string utf16le_to_utf8(std::span<std::byte const> bytes);
std::vector<std::byte> utf8_to_utf16le(std::string_view text);
std::string utf16_to_utf8(std::u16string_view text);
std::u16string utf8_to_utf16(std::string_view text);

// Big-endian field access, shared with the image code.
std::uint32_t load_be32(std::byte const* p);
std::uint64_t load_be64(std::byte const* p);
void store_be32(std::byte* p, std::uint32_t value);
void store_be64(std::byte* p, std::uint64_t value);

} // namespace vsa::storage::vhd
