// SPDX-License-Identifier: GPL-2.0-or-later
// SMBIOS tables for SeaBIOS; see smbios_tables.h.
#include "hw/smbios_tables.h"

#include <algorithm>

namespace vsa {

namespace {

constexpr std::string_view MAKER = "Microsoft Corporation";
constexpr std::string_view PRODUCT = "Virtual Machine";
constexpr std::string_view VERSION = "VS2005R2";

constexpr u8 TYPE1_LENGTH = 0x1B; // 2.4+: up to Family
constexpr u8 TYPE2_LENGTH = 0x0F; // no contained object handles
constexpr u8 TYPE3_LENGTH = 0x16; // 2.7+: with SKU, no contained elements
constexpr u8 TYPE127_LENGTH = 4;
constexpr u8 ANCHOR_LENGTH = 0x1F;

// One structure: the formatted area, then its strings, then the double NUL.
class Structure {
public:
    Structure(u8 type, u8 length, u16 handle) {
        m_bytes.reserve(length);
        m_bytes.push_back(type);
        m_bytes.push_back(length);
        put16(handle);
    }
    void put8(u8 value) { m_bytes.push_back(value); }
    void put16(u16 value) {
        put8(static_cast<u8>(value));
        put8(static_cast<u8>(value >> 8));
    }
    void put32(u32 value) {
        put16(static_cast<u16>(value));
        put16(static_cast<u16>(value >> 16));
    }
    // A string field: its 1-based index in the set, or 0 for none.
    void put_string(std::string_view text) {
        if (text.empty()) {
            put8(0);
            return;
        }
        std::string clean(text.substr(0, SMBIOS_MAX_STRING));
        for (auto& c : clean)
            if (c < 0x20 || c > 0x7E) c = '?';
        m_strings.push_back(std::move(clean));
        put8(static_cast<u8>(m_strings.size()));
    }
    void put_bytes(std::array<u8, 16> const& bytes) {
        m_bytes.insert(m_bytes.end(), bytes.begin(), bytes.end());
    }

    std::vector<u8> finish() && {
        for (auto const& s : m_strings) {
            m_bytes.insert(m_bytes.end(), s.begin(), s.end());
            m_bytes.push_back(0);
        }
        // No strings: two NULs; otherwise the last string's NUL plus one.
        if (m_strings.empty()) m_bytes.push_back(0);
        m_bytes.push_back(0);
        return std::move(m_bytes);
    }

private:
    std::vector<u8> m_bytes;
    std::vector<std::string> m_strings;
};

// DSP0134 7.2.1: the first three fields of the UUID are little-endian
// since 2.6 (what Windows and Linux's dmidecode expect at version 2.8).
std::array<u8, 16> smbios_uuid_bytes(std::array<u8, 16> const& rfc) {
    std::array<u8, 16> out = rfc;
    std::reverse(out.begin(), out.begin() + 4);
    std::reverse(out.begin() + 4, out.begin() + 6);
    std::reverse(out.begin() + 6, out.begin() + 8);
    return out;
}

u8 checksum_byte(std::vector<u8> const& bytes, std::size_t from, std::size_t to) {
    u8 sum = 0;
    for (std::size_t i = from; i < to; ++i)
        sum = static_cast<u8>(sum + bytes[i]);
    return static_cast<u8>(0x100 - sum);
}

} // namespace

SmbiosFiles build_smbios_files(SmbiosIdentity const& identity) {
    std::vector<std::vector<u8>> structures;

    Structure system(1, TYPE1_LENGTH, 0x0100);
    system.put_string(MAKER);
    system.put_string(PRODUCT);
    system.put_string(VERSION);
    system.put_string(identity.system_serial);
    system.put_bytes(smbios_uuid_bytes(identity.uuid));
    system.put8(0x06);     // wake-up type: power switch
    system.put_string({}); // SKU
    system.put_string({}); // family
    structures.push_back(std::move(system).finish());

    Structure board(2, TYPE2_LENGTH, 0x0200);
    board.put_string(MAKER);
    board.put_string(PRODUCT);
    board.put_string(VERSION);
    board.put_string(identity.board_serial);
    board.put_string({}); // asset tag
    board.put8(0x01);     // features: a hosting board
    board.put_string({}); // location in chassis
    board.put16(0x0300);  // the chassis below
    board.put8(0x0A);     // board type: motherboard
    board.put8(0);        // no contained object handles
    structures.push_back(std::move(board).finish());

    Structure chassis(3, TYPE3_LENGTH, 0x0300);
    chassis.put_string(MAKER);
    chassis.put8(0x03); // desktop, no lock
    chassis.put_string(VERSION);
    chassis.put_string(identity.chassis_serial);
    chassis.put_string(identity.chassis_asset_tag);
    chassis.put8(0x03);     // boot-up state: safe
    chassis.put8(0x03);     // power supply state: safe
    chassis.put8(0x03);     // thermal state: safe
    chassis.put8(0x02);     // security status: unknown
    chassis.put32(0);       // OEM-defined
    chassis.put8(0);        // height: unspecified
    chassis.put8(0);        // power cords: unspecified
    chassis.put8(0);        // contained element count
    chassis.put8(0);        // contained element record length
    chassis.put_string({}); // SKU
    structures.push_back(std::move(chassis).finish());

    structures.push_back(Structure(127, TYPE127_LENGTH, 0x7F00).finish());

    SmbiosFiles files;
    std::size_t max_size = 0;
    for (auto const& s : structures) {
        files.tables.insert(files.tables.end(), s.begin(), s.end());
        max_size = std::max(max_size, s.size());
    }

    auto& a = files.anchor;
    a = {'_', 'S', 'M', '_', 0, ANCHOR_LENGTH, 2, 8};
    a.push_back(static_cast<u8>(max_size));
    a.push_back(static_cast<u8>(max_size >> 8));
    a.push_back(0);              // entry point revision
    a.insert(a.end(), 5, u8{0}); // formatted area
    for (char c : std::string_view("_DMI_"))
        a.push_back(static_cast<u8>(c));
    a.push_back(0); // intermediate checksum, below
    auto length = static_cast<u16>(files.tables.size());
    a.push_back(static_cast<u8>(length));
    a.push_back(static_cast<u8>(length >> 8));
    a.insert(a.end(), 4, u8{0}); // table address: the BIOS places it
    a.push_back(static_cast<u8>(structures.size()));
    a.push_back(static_cast<u8>(structures.size() >> 8));
    a.push_back(0x28); // BCD revision 2.8
    a[0x15] = checksum_byte(a, 0x10, ANCHOR_LENGTH);
    a[4] = checksum_byte(a, 0, ANCHOR_LENGTH);
    return files;
}

std::optional<std::array<u8, 16>> parse_smbios_uuid(std::string_view text) {
    if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
    if (text.size() != 36) return std::nullopt;
    std::array<u8, 16> out{};
    std::size_t n = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return std::nullopt;
            continue;
        }
        char c = text[i];
        int v = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (v < 0) return std::nullopt;
        out[n / 2] = static_cast<u8>(out[n / 2] | (n % 2 ? v : v << 4));
        ++n;
    }
    return out;
}

} // namespace vsa
