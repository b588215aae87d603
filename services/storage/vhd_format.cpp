// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/storage/vhd_format.h"

#include <algorithm>
#include <cstring>
#include <random>

namespace vsa::storage::vhd {

namespace {

constexpr char FOOTER_COOKIE[] = "conectix";
constexpr char HEADER_COOKIE[] = "cxsparse";
constexpr std::size_t FOOTER_CHECKSUM_OFFSET = 64;
constexpr std::size_t HEADER_CHECKSUM_OFFSET = 36;
constexpr std::size_t PARENT_NAME_UNITS = 256;

std::uint16_t load_be16(std::byte const* p) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                      std::to_integer<unsigned>(p[1]));
}
void store_be16(std::byte* p, std::uint16_t value) {
    p[0] = std::byte(value >> 8);
    p[1] = std::byte(value);
}

StorageError corrupt(std::string message) {
    return storage_error(StorageErrorKind::Corrupt, std::move(message));
}

std::string hex32(std::uint32_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08X", value);
    return text;
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) {
        out += char(c);
    } else if (c < 0x800) {
        out += char(0xC0 | (c >> 6));
        out += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += char(0xE0 | (c >> 12));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    } else {
        out += char(0xF0 | (c >> 18));
        out += char(0x80 | ((c >> 12) & 0x3F));
        out += char(0x80 | ((c >> 6) & 0x3F));
        out += char(0x80 | (c & 0x3F));
    }
}

} // namespace

std::uint32_t load_be32(std::byte const* p) {
    std::uint32_t value = 0;
    for (int i = 0; i < 4; ++i)
        value = (value << 8) | std::to_integer<std::uint32_t>(p[i]);
    return value;
}
std::uint64_t load_be64(std::byte const* p) {
    return (std::uint64_t(load_be32(p)) << 32) | load_be32(p + 4);
}
void store_be32(std::byte* p, std::uint32_t value) {
    for (int i = 3; i >= 0; --i, value >>= 8)
        p[i] = std::byte(value & 0xFF);
}
void store_be64(std::byte* p, std::uint64_t value) {
    store_be32(p, std::uint32_t(value >> 32));
    store_be32(p + 4, std::uint32_t(value));
}

std::string_view disk_type_name(DiskType type) {
    switch (type) {
    case DiskType::Fixed:
        return "fixed";
    case DiskType::Dynamic:
        return "dynamic";
    case DiskType::Differencing:
        return "differencing";
    case DiskType::None:
        break;
    }
    return "none";
}

Uuid random_uuid() {
    std::random_device random;
    Uuid uuid{};
    for (std::size_t i = 0; i < uuid.size(); i += 4) {
        std::uint32_t word = random();
        for (std::size_t j = 0; j < 4; ++j)
            uuid[i + j] = std::uint8_t(word >> (8 * j));
    }
    // RFC 4122 version 4, variant 1, so tools that parse it are content.
    uuid[6] = std::uint8_t((uuid[6] & 0x0F) | 0x40);
    uuid[8] = std::uint8_t((uuid[8] & 0x3F) | 0x80);
    return uuid;
}

std::string uuid_string(Uuid const& uuid) {
    std::string text;
    char hex[3];
    for (std::size_t i = 0; i < uuid.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
        std::snprintf(hex, sizeof hex, "%02x", uuid[i]);
        text += hex;
    }
    return text;
}

Geometry chs_geometry(std::uint64_t total_sectors) {
    // Transcribed from the specification's pseudo-code; the variable names
    // follow it so the two can be compared line by line.
    std::uint64_t const max_sectors = 65535ull * 16 * 255;
    if (total_sectors > max_sectors) total_sectors = max_sectors;
    std::uint64_t sectors_per_track = 0;
    std::uint64_t heads = 0;
    std::uint64_t cylinder_times_heads = 0;
    if (total_sectors >= 65535ull * 16 * 63) {
        sectors_per_track = 255;
        heads = 16;
        cylinder_times_heads = total_sectors / sectors_per_track;
    } else {
        sectors_per_track = 17;
        cylinder_times_heads = total_sectors / sectors_per_track;
        heads = (cylinder_times_heads + 1023) / 1024;
        if (heads < 4) heads = 4;
        if (cylinder_times_heads >= heads * 1024 || heads > 16) {
            sectors_per_track = 31;
            heads = 16;
            cylinder_times_heads = total_sectors / sectors_per_track;
        }
        if (cylinder_times_heads >= heads * 1024) {
            sectors_per_track = 63;
            heads = 16;
            cylinder_times_heads = total_sectors / sectors_per_track;
        }
    }
    std::uint64_t const cylinders = cylinder_times_heads / heads;
    return {std::uint16_t(std::min<std::uint64_t>(cylinders, 65535)), std::uint8_t(heads),
            std::uint8_t(sectors_per_track)};
}

std::uint32_t to_vhd_timestamp(std::chrono::system_clock::time_point time) {
    auto const unix_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
    std::int64_t const seconds = unix_seconds - VHD_EPOCH_UNIX;
    if (seconds < 0) return 0;
    if (seconds > 0xFFFF'FFFFll) return 0xFFFF'FFFF;
    return std::uint32_t(seconds);
}

std::chrono::system_clock::time_point from_vhd_timestamp(std::uint32_t timestamp) {
    return std::chrono::system_clock::time_point(
        std::chrono::seconds(VHD_EPOCH_UNIX + std::int64_t(timestamp)));
}

std::uint32_t checksum(std::span<std::byte const> bytes, std::size_t checksum_offset) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i >= checksum_offset && i < checksum_offset + 4) continue;
        sum += std::to_integer<std::uint32_t>(bytes[i]);
    }
    return ~sum;
}

FooterBytes serialize_footer(Footer const& footer) {
    FooterBytes bytes{};
    std::byte* p = bytes.data();
    std::memcpy(p, FOOTER_COOKIE, 8);
    store_be32(p + 8, footer.features);
    store_be32(p + 12, footer.format_version);
    store_be64(p + 16, footer.data_offset);
    store_be32(p + 24, footer.timestamp);
    std::memcpy(p + 28, footer.creator_application.data(), 4);
    store_be32(p + 32, footer.creator_version);
    store_be32(p + 36, footer.creator_host_os);
    store_be64(p + 40, footer.original_size);
    store_be64(p + 48, footer.current_size);
    store_be16(p + 56, footer.geometry.cylinders);
    p[58] = std::byte(footer.geometry.heads);
    p[59] = std::byte(footer.geometry.sectors_per_track);
    store_be32(p + 60, std::uint32_t(footer.disk_type));
    std::memcpy(p + 68, footer.unique_id.data(), 16);
    p[84] = std::byte(footer.saved_state);
    store_be32(p + FOOTER_CHECKSUM_OFFSET, checksum(bytes, FOOTER_CHECKSUM_OFFSET));
    return bytes;
}

StorageResult<Footer> parse_footer(std::span<std::byte const> bytes) {
    if (bytes.size() < FOOTER_SIZE) return corrupt("the file is too small to hold a VHD footer");
    std::byte const* p = bytes.data();
    if (std::memcmp(p, FOOTER_COOKIE, 8) != 0) return corrupt("no VHD footer (cookie \"conectix\" missing)");
    Footer footer;
    footer.checksum = load_be32(p + FOOTER_CHECKSUM_OFFSET);
    std::uint32_t const expected = checksum(bytes.first(FOOTER_SIZE), FOOTER_CHECKSUM_OFFSET);
    if (footer.checksum != expected)
        return corrupt("VHD footer checksum is " + hex32(footer.checksum) + ", the footer sums to " +
                       hex32(expected));
    footer.features = load_be32(p + 8);
    footer.format_version = load_be32(p + 12);
    if ((footer.format_version >> 16) != 1)
        return corrupt("unsupported VHD format version " + hex32(footer.format_version));
    footer.data_offset = load_be64(p + 16);
    footer.timestamp = load_be32(p + 24);
    std::memcpy(footer.creator_application.data(), p + 28, 4);
    footer.creator_version = load_be32(p + 32);
    footer.creator_host_os = load_be32(p + 36);
    footer.original_size = load_be64(p + 40);
    footer.current_size = load_be64(p + 48);
    footer.geometry.cylinders = load_be16(p + 56);
    footer.geometry.heads = std::to_integer<std::uint8_t>(p[58]);
    footer.geometry.sectors_per_track = std::to_integer<std::uint8_t>(p[59]);
    std::uint32_t const type = load_be32(p + 60);
    if (type != 2 && type != 3 && type != 4)
        return corrupt("unsupported VHD disk type " + std::to_string(type) + " (expected 2, 3 or 4)");
    footer.disk_type = DiskType(type);
    std::memcpy(footer.unique_id.data(), p + 68, 16);
    footer.saved_state = std::to_integer<std::uint8_t>(p[84]);
    if (footer.current_size == 0) return corrupt("VHD virtual size is 0");
    if (footer.current_size % SECTOR_SIZE != 0)
        return corrupt("VHD virtual size " + std::to_string(footer.current_size) +
                       " is not a multiple of 512");
    if (footer.current_size > MAX_DISK_SIZE)
        return storage_error(StorageErrorKind::TooLarge, "VHD virtual size " +
                                                             std::to_string(footer.current_size) +
                                                             " exceeds the maximum of 2,088,960 MB");
    if (footer.disk_type != DiskType::Fixed &&
        (footer.data_offset == NO_DATA_OFFSET || footer.data_offset % SECTOR_SIZE != 0))
        return corrupt("dynamic VHD footer has an invalid header offset " +
                       std::to_string(footer.data_offset));
    return footer;
}

std::uint64_t locator_space_bytes(ParentLocator const& locator) {
    // Virtual PC writes sectors as the specification says; Hyper-V writes
    // bytes. A value below one sector can only be a sector count.
    std::uint64_t const space = locator.platform_data_space;
    return space < SECTOR_SIZE ? space * SECTOR_SIZE : space;
}

DynamicHeaderBytes serialize_dynamic_header(DynamicHeader const& header) {
    DynamicHeaderBytes bytes{};
    std::byte* p = bytes.data();
    std::memcpy(p, HEADER_COOKIE, 8);
    store_be64(p + 8, header.data_offset);
    store_be64(p + 16, header.table_offset);
    store_be32(p + 24, header.header_version);
    store_be32(p + 28, header.max_table_entries);
    store_be32(p + 32, header.block_size);
    std::memcpy(p + 40, header.parent_unique_id.data(), 16);
    store_be32(p + 56, header.parent_timestamp);
    std::size_t const units = std::min(header.parent_unicode_name.size(), PARENT_NAME_UNITS);
    for (std::size_t i = 0; i < units; ++i)
        store_be16(p + 64 + 2 * i, header.parent_unicode_name[i]);
    for (std::size_t i = 0; i < MAX_PARENT_LOCATORS; ++i) {
        std::byte* entry = p + 576 + 24 * i;
        ParentLocator const& locator = header.parent_locators[i];
        store_be32(entry, locator.platform_code);
        store_be32(entry + 4, locator.platform_data_space);
        store_be32(entry + 8, locator.platform_data_length);
        store_be64(entry + 16, locator.platform_data_offset);
    }
    store_be32(p + HEADER_CHECKSUM_OFFSET, checksum(bytes, HEADER_CHECKSUM_OFFSET));
    return bytes;
}

StorageResult<DynamicHeader> parse_dynamic_header(std::span<std::byte const> bytes) {
    if (bytes.size() < DYNAMIC_HEADER_SIZE) return corrupt("the dynamic disk header is truncated");
    std::byte const* p = bytes.data();
    if (std::memcmp(p, HEADER_COOKIE, 8) != 0)
        return corrupt("no dynamic disk header (cookie \"cxsparse\" missing)");
    DynamicHeader header;
    header.checksum = load_be32(p + HEADER_CHECKSUM_OFFSET);
    std::uint32_t const expected = checksum(bytes.first(DYNAMIC_HEADER_SIZE), HEADER_CHECKSUM_OFFSET);
    if (header.checksum != expected)
        return corrupt("dynamic disk header checksum is " + hex32(header.checksum) + ", the header sums to " +
                       hex32(expected));
    header.data_offset = load_be64(p + 8);
    header.table_offset = load_be64(p + 16);
    header.header_version = load_be32(p + 24);
    if ((header.header_version >> 16) != 1)
        return corrupt("unsupported dynamic disk header version " + hex32(header.header_version));
    header.max_table_entries = load_be32(p + 28);
    header.block_size = load_be32(p + 32);
    if (header.block_size < MIN_BLOCK_SIZE || header.block_size > MAX_BLOCK_SIZE ||
        (header.block_size & (header.block_size - 1)) != 0)
        return corrupt("dynamic disk block size " + std::to_string(header.block_size) +
                       " is not a power of two between 4 KiB and 256 MiB");
    std::memcpy(header.parent_unique_id.data(), p + 40, 16);
    header.parent_timestamp = load_be32(p + 56);
    for (std::size_t i = 0; i < PARENT_NAME_UNITS; ++i) {
        char16_t unit = load_be16(p + 64 + 2 * i);
        if (unit == 0) break;
        header.parent_unicode_name += unit;
    }
    for (std::size_t i = 0; i < MAX_PARENT_LOCATORS; ++i) {
        std::byte const* entry = p + 576 + 24 * i;
        ParentLocator& locator = header.parent_locators[i];
        locator.platform_code = load_be32(entry);
        locator.platform_data_space = load_be32(entry + 4);
        locator.platform_data_length = load_be32(entry + 8);
        locator.platform_data_offset = load_be64(entry + 16);
    }
    return header;
}

std::uint32_t sectors_per_block(DynamicHeader const& header) {
    return header.block_size / SECTOR_SIZE;
}

std::uint32_t bitmap_bytes(DynamicHeader const& header) {
    std::uint32_t const bits = sectors_per_block(header);
    std::uint32_t const bytes = (bits + 7) / 8;
    return (bytes + SECTOR_SIZE - 1) / SECTOR_SIZE * SECTOR_SIZE;
}

std::uint64_t aligned_block_start(std::uint64_t end, DynamicHeader const& header) {
    std::uint64_t const bitmap = bitmap_bytes(header);
    std::uint64_t const data =
        (end + bitmap + BLOCK_DATA_ALIGNMENT - 1) / BLOCK_DATA_ALIGNMENT * BLOCK_DATA_ALIGNMENT;
    return data - bitmap;
}

std::uint64_t bat_bytes(DynamicHeader const& header) {
    std::uint64_t const bytes = std::uint64_t(header.max_table_entries) * 4;
    return (bytes + SECTOR_SIZE - 1) / SECTOR_SIZE * SECTOR_SIZE;
}

namespace {

bool overlaps(Extent const& a, Extent const& b) {
    return a.length != 0 && b.length != 0 && a.offset < b.offset + b.length && b.offset < a.offset + a.length;
}

} // namespace

StorageResult<std::vector<Extent>> validate_dynamic_layout(Footer const& footer, DynamicHeader const& header,
                                                           std::uint64_t file_size) {
    if (file_size < FOOTER_SIZE + DYNAMIC_HEADER_SIZE)
        return corrupt("the file is too small for a dynamic VHD");
    std::uint64_t const data_end = file_size - FOOTER_SIZE; // where the footer starts
    auto inside = [&](std::uint64_t offset, std::uint64_t length) {
        return offset <= data_end && length <= data_end - offset;
    };
    if (!inside(footer.data_offset, DYNAMIC_HEADER_SIZE))
        return corrupt("the dynamic disk header offset " + std::to_string(footer.data_offset) +
                       " lies outside the file");
    std::uint64_t const needed = (footer.current_size + header.block_size - 1) / header.block_size;
    if (header.max_table_entries < needed)
        return corrupt("the block allocation table has " + std::to_string(header.max_table_entries) +
                       " entries, a disk of this size needs " + std::to_string(needed));
    // More entries than the disk can use are legal (some tools round up), but
    // not more than the largest disk could use: that is our memory bound.
    if (header.max_table_entries > MAX_DISK_SIZE / header.block_size + 1)
        return corrupt("the block allocation table has an absurd " +
                       std::to_string(header.max_table_entries) + " entries");
    if (header.table_offset % SECTOR_SIZE != 0 || !inside(header.table_offset, bat_bytes(header)))
        return corrupt("the block allocation table (" + std::to_string(bat_bytes(header)) +
                       " bytes at offset " + std::to_string(header.table_offset) + ") lies outside the file");

    std::vector<Extent> extents;
    extents.push_back({0, FOOTER_SIZE, "footer copy"});
    extents.push_back({footer.data_offset, DYNAMIC_HEADER_SIZE, "dynamic disk header"});
    extents.push_back({header.table_offset, bat_bytes(header), "block allocation table"});
    for (std::size_t i = 0; i < MAX_PARENT_LOCATORS; ++i) {
        ParentLocator const& locator = header.parent_locators[i];
        if (locator.platform_code == PLATFORM_NONE) continue;
        if (footer.disk_type != DiskType::Differencing) continue; // ignored for dynamic disks
        if (locator.platform_data_length > MAX_LOCATOR_BYTES)
            return corrupt("parent locator " + std::to_string(i) + " is " +
                           std::to_string(locator.platform_data_length) + " bytes long");
        if (!inside(locator.platform_data_offset, locator.platform_data_length))
            return corrupt("parent locator " + std::to_string(i) + " lies outside the file");
        extents.push_back({locator.platform_data_offset, locator.platform_data_length,
                           "parent locator " + std::to_string(i)});
    }
    for (std::size_t i = 0; i < extents.size(); ++i)
        for (std::size_t j = i + 1; j < extents.size(); ++j)
            if (overlaps(extents[i], extents[j]))
                return corrupt("the " + extents[i].what + " overlaps the " + extents[j].what);
    return extents;
}

std::vector<std::string> find_bat_problems(std::span<std::uint32_t const> bat, DynamicHeader const& header,
                                           std::vector<Extent> const& metadata, std::uint64_t data_end,
                                           std::size_t max_problems) {
    std::vector<std::string> problems;
    std::uint64_t const block_bytes = std::uint64_t(bitmap_bytes(header)) + header.block_size;
    struct Block {
        std::uint64_t offset;
        std::uint32_t index;
    };
    std::vector<Block> blocks;
    for (std::uint32_t i = 0; i < bat.size() && problems.size() < max_problems; ++i) {
        if (bat[i] == UNUSED_BAT_ENTRY) continue;
        std::uint64_t const offset = std::uint64_t(bat[i]) * SECTOR_SIZE;
        if (offset > data_end || block_bytes > data_end - offset) {
            problems.push_back("BAT entry " + std::to_string(i) +
                               " points past the end of the data (sector " + std::to_string(bat[i]) + ")");
            continue;
        }
        Extent const block{offset, block_bytes, ""};
        bool clash = false;
        for (Extent const& extent : metadata) {
            if (overlaps(block, extent)) {
                problems.push_back("BAT entry " + std::to_string(i) + " overlaps the " + extent.what);
                clash = true;
                break;
            }
        }
        if (!clash) blocks.push_back({offset, i});
    }
    std::sort(blocks.begin(), blocks.end(), [](Block a, Block b) { return a.offset < b.offset; });
    for (std::size_t i = 1; i < blocks.size() && problems.size() < max_problems; ++i)
        if (blocks[i].offset < blocks[i - 1].offset + block_bytes)
            problems.push_back("BAT entries " + std::to_string(blocks[i - 1].index) + " and " +
                               std::to_string(blocks[i].index) + " overlap");
    return problems;
}

std::vector<std::uint32_t> parse_bat(std::span<std::byte const> bytes, std::uint32_t entries) {
    std::vector<std::uint32_t> bat(std::min<std::size_t>(entries, bytes.size() / 4));
    for (std::size_t i = 0; i < bat.size(); ++i)
        bat[i] = load_be32(bytes.data() + 4 * i);
    return bat;
}

std::string utf16_to_utf8(std::u16string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char32_t c = text[i];
        if (c >= 0xD800 && c < 0xDC00 && i + 1 < text.size() && text[i + 1] >= 0xDC00 &&
            text[i + 1] < 0xE000) {
            c = 0x10000 + ((c - 0xD800) << 10) + (text[i + 1] - 0xDC00);
            ++i;
        } else if (c >= 0xD800 && c < 0xE000) {
            c = 0xFFFD;
        }
        append_utf8(out, c);
    }
    return out;
}

std::string utf16le_to_utf8(std::span<std::byte const> bytes) {
    std::u16string text;
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) {
        char16_t unit =
            char16_t(std::to_integer<unsigned>(bytes[i]) | (std::to_integer<unsigned>(bytes[i + 1]) << 8));
        if (unit == 0) break; // some writers NUL-terminate
        text += unit;
    }
    return utf16_to_utf8(text);
}

std::u16string utf8_to_utf16(std::string_view text) {
    std::u16string out;
    std::size_t i = 0;
    while (i < text.size()) {
        unsigned char const lead = static_cast<unsigned char>(text[i]);
        int extra = lead < 0x80 ? 0 : lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : -1;
        char32_t c = extra == 0 ? lead : extra == 1 ? lead & 0x1F : extra == 2 ? lead & 0x0F : lead & 0x07;
        bool ok = extra >= 0 && i + std::size_t(extra) < text.size(); // the last continuation byte exists
        for (int k = 1; ok && k <= extra; ++k) {
            unsigned char const next = static_cast<unsigned char>(text[i + std::size_t(k)]);
            if ((next & 0xC0) != 0x80) ok = false;
            c = (c << 6) | (next & 0x3F);
        }
        if (!ok) {
            out += char16_t(0xFFFD);
            ++i;
            continue;
        }
        i += std::size_t(extra) + 1;
        if (c >= 0x10000) {
            c -= 0x10000;
            out += char16_t(0xD800 + (c >> 10));
            out += char16_t(0xDC00 + (c & 0x3FF));
        } else {
            out += char16_t(c);
        }
    }
    return out;
}

std::vector<std::byte> utf8_to_utf16le(std::string_view text) {
    std::vector<std::byte> out;
    for (char16_t unit : utf8_to_utf16(text)) {
        out.push_back(std::byte(unit & 0xFF));
        out.push_back(std::byte(unit >> 8));
    }
    return out;
}

} // namespace vsa::storage::vhd
