// SPDX-License-Identifier: GPL-2.0-or-later
// The SMBIOS builder (hw/smbios_tables.h), decoded the way a guest reads
// the tables: the 2.1 entry point, then each structure's formatted area
// and string set, field by field.
#include "hw/smbios_tables.h"

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

using namespace vsa;

namespace {

struct Decoded {
    u8 type;
    u16 handle;
    std::vector<u8> formatted; // the whole formatted area, header included
    std::vector<std::string> strings;

    std::string string_at(std::size_t offset) const {
        u8 index = formatted.at(offset);
        return index == 0 ? std::string() : strings.at(index - 1u);
    }
};

u16 le16(std::vector<u8> const& b, std::size_t at) {
    return static_cast<u16>(b.at(at) | b.at(at + 1) << 8);
}

u8 sum(std::vector<u8> const& b, std::size_t from, std::size_t to) {
    u8 s = 0;
    for (std::size_t i = from; i < to; ++i)
        s = static_cast<u8>(s + b[i]);
    return s;
}

std::vector<Decoded> decode(std::vector<u8> const& tables) {
    std::vector<Decoded> out;
    std::size_t at = 0;
    while (at < tables.size()) {
        BOOST_REQUIRE(at + 4 <= tables.size());
        Decoded d;
        d.type = tables[at];
        u8 length = tables[at + 1];
        d.handle = le16(tables, at + 2);
        BOOST_REQUIRE(at + length + 2 <= tables.size());
        d.formatted.assign(tables.begin() + static_cast<long>(at),
                           tables.begin() + static_cast<long>(at + length));
        std::size_t p = at + length;
        if (tables.at(p) == 0) {
            BOOST_REQUIRE_EQUAL(tables.at(p + 1), 0); // no strings: a double NUL
            p += 2;
        } else {
            while (tables.at(p) != 0) {
                std::string s;
                while (tables.at(p) != 0)
                    s.push_back(static_cast<char>(tables.at(p++)));
                ++p;
                d.strings.push_back(s);
            }
            ++p; // the set's closing NUL
        }
        at = p;
        out.push_back(d);
        if (d.type == 127) break;
    }
    BOOST_CHECK_EQUAL(at, tables.size()); // nothing after type 127
    return out;
}

SmbiosIdentity sample() {
    SmbiosIdentity id;
    id.uuid = *parse_smbios_uuid("{00112233-4455-6677-8899-AABBCCDDEEFF}");
    id.system_serial = "1111-2222-3333-4444-5555-6666-77";
    id.board_serial = "BOARD-42";
    id.chassis_serial = "CHASSIS-7";
    id.chassis_asset_tag = "ASSET tag 9";
    return id;
}

} // namespace

BOOST_AUTO_TEST_SUITE(smbios_tables)

BOOST_AUTO_TEST_CASE(entry_point_is_a_valid_21_anchor_describing_the_tables) {
    auto files = build_smbios_files(sample());
    auto const& a = files.anchor;
    BOOST_REQUIRE_EQUAL(a.size(), 31u);
    BOOST_CHECK_EQUAL(std::string(a.begin(), a.begin() + 4), "_SM_");
    BOOST_CHECK_EQUAL(a[5], 0x1F);          // entry point length
    BOOST_CHECK_EQUAL(a[6], 2);             // major
    BOOST_CHECK_EQUAL(a[7], 8);             // minor
    BOOST_CHECK_EQUAL(sum(a, 0, 31), 0);    // whole entry point
    BOOST_CHECK_EQUAL(sum(a, 0x10, 31), 0); // intermediate part
    BOOST_CHECK_EQUAL(std::string(a.begin() + 0x10, a.begin() + 0x15), "_DMI_");
    BOOST_CHECK_EQUAL(le16(a, 0x16), files.tables.size()); // SeaBIOS requires equality
    BOOST_CHECK_EQUAL(le16(a, 0x18) | le16(a, 0x1A), 0);   // address: the BIOS's
    BOOST_CHECK_EQUAL(le16(a, 0x1C), 4);                   // types 1, 2, 3, 127
    BOOST_CHECK_EQUAL(a[0x1E], 0x28);
    std::size_t max = 0;
    auto structures = decode(files.tables);
    // Recompute each structure's full size from the decode.
    std::size_t at = 0;
    for (auto const& s : structures) {
        std::size_t size = s.formatted.size() + 1;
        for (auto const& str : s.strings)
            size += str.size() + 1;
        if (s.strings.empty()) size += 1;
        max = std::max(max, size);
        at += size;
    }
    BOOST_CHECK_EQUAL(at, files.tables.size());
    BOOST_CHECK_EQUAL(le16(a, 8), max);
}

BOOST_AUTO_TEST_CASE(types_carry_the_identity) {
    auto structures = decode(build_smbios_files(sample()).tables);
    BOOST_REQUIRE_EQUAL(structures.size(), 4u);

    auto const& system = structures[0];
    BOOST_CHECK_EQUAL(system.type, 1);
    BOOST_CHECK_EQUAL(system.formatted.size(), 0x1Bu);
    BOOST_CHECK_EQUAL(system.handle, 0x0100);
    BOOST_CHECK_EQUAL(system.string_at(4), "Microsoft Corporation");
    BOOST_CHECK_EQUAL(system.string_at(5), "Virtual Machine");
    BOOST_CHECK_EQUAL(system.string_at(7), "1111-2222-3333-4444-5555-6666-77");
    // UUID at 08h: 33 22 11 00 55 44 77 66 then 88 99 AA ... as is.
    std::vector<u8> uuid(system.formatted.begin() + 8, system.formatted.begin() + 24);
    std::vector<u8> expected{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
                             0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
    BOOST_CHECK_EQUAL_COLLECTIONS(uuid.begin(), uuid.end(), expected.begin(), expected.end());

    auto const& board = structures[1];
    BOOST_CHECK_EQUAL(board.type, 2);
    BOOST_CHECK_EQUAL(board.formatted.size(), 0x0Fu);
    BOOST_CHECK_EQUAL(board.string_at(7), "BOARD-42");
    BOOST_CHECK_EQUAL(board.string_at(8), "");              // no asset tag
    BOOST_CHECK_EQUAL(le16(board.formatted, 0x0B), 0x0300); // its chassis
    BOOST_CHECK_EQUAL(board.formatted[0x0D], 0x0A);         // motherboard

    auto const& chassis = structures[2];
    BOOST_CHECK_EQUAL(chassis.type, 3);
    BOOST_CHECK_EQUAL(chassis.handle, 0x0300);
    BOOST_CHECK_EQUAL(chassis.formatted.size(), 0x16u);
    BOOST_CHECK_EQUAL(chassis.formatted[5], 0x03); // desktop
    BOOST_CHECK_EQUAL(chassis.string_at(7), "CHASSIS-7");
    BOOST_CHECK_EQUAL(chassis.string_at(8), "ASSET tag 9");

    BOOST_CHECK_EQUAL(structures[3].type, 127);
    BOOST_CHECK_EQUAL(structures[3].formatted.size(), 4u);
}

BOOST_AUTO_TEST_CASE(empty_and_hostile_strings) {
    SmbiosIdentity id;
    id.system_serial = "";
    id.board_serial = std::string("a\x01\x7f\xff", 4) + std::string(100, 'x');
    auto structures = decode(build_smbios_files(id).tables);
    BOOST_CHECK_EQUAL(structures[0].string_at(7), "");
    auto board = structures[1].string_at(7);
    BOOST_CHECK_EQUAL(board.size(), SMBIOS_MAX_STRING);
    BOOST_CHECK_EQUAL(board.substr(0, 4), "a???");
    // Chassis with no strings but its maker and version still decodes.
    BOOST_CHECK_EQUAL(structures[2].string_at(7), "");
}

BOOST_AUTO_TEST_CASE(uuid_text_forms) {
    auto plain = parse_smbios_uuid("00112233-4455-6677-8899-aabbccddeeff");
    BOOST_REQUIRE(plain);
    BOOST_CHECK_EQUAL((*plain)[0], 0x00);
    BOOST_CHECK_EQUAL((*plain)[15], 0xFF);
    BOOST_CHECK(parse_smbios_uuid("{00112233-4455-6677-8899-AABBCCDDEEFF}") == plain);
    BOOST_CHECK(!parse_smbios_uuid(""));
    BOOST_CHECK(!parse_smbios_uuid("{00112233-4455-6677-8899-AABBCCDDEEF}"));
    BOOST_CHECK(!parse_smbios_uuid("00112233x4455-6677-8899-aabbccddeeff"));
    BOOST_CHECK(!parse_smbios_uuid("0011223g-4455-6677-8899-aabbccddeeff"));
}

BOOST_AUTO_TEST_SUITE_END()
