// SPDX-License-Identifier: GPL-2.0-or-later
// SIDs and the binary security descriptor (issue 11, area "identity"):
// services/security/sid.h, account_sids.h, security_descriptor_binary.h,
// and the descriptor's primary group, ACE flags and special bits in the
// XML section (services/persist/security_xml.h). The binary descriptor is
// decoded field by field as [MS-DTYP] 2.4.6 lays it out.
#include "services/persist/security_xml.h"
#include "services/security/access_control.h"
#include "services/security/account_sids.h"
#include "services/security/security_descriptor_binary.h"
#include "services/security/sid.h"

#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <ostream>

using namespace vsa::services;
using namespace vsa::services::security;
namespace fs = std::filesystem;
using vsa::test::TempDir;

namespace vsa::services::security {
// For BOOST_TEST's messages.
std::ostream& operator<<(std::ostream& out, Sid const& sid) {
    return out << sid.to_string();
}
} // namespace vsa::services::security

namespace {

std::uint16_t u16_at(std::vector<std::uint8_t> const& b, std::size_t at) {
    return static_cast<std::uint16_t>(b.at(at) | b.at(at + 1) << 8);
}

std::uint32_t u32_at(std::vector<std::uint8_t> const& b, std::size_t at) {
    return static_cast<std::uint32_t>(u16_at(b, at)) | static_cast<std::uint32_t>(u16_at(b, at + 2)) << 16;
}

} // namespace

BOOST_AUTO_TEST_SUITE(security_identity)

BOOST_AUTO_TEST_CASE(sid_text_and_binary_forms) {
    auto admins = Sid::parse("S-1-5-32-544");
    BOOST_REQUIRE(admins);
    BOOST_TEST(*admins == builtin_administrators_sid());
    BOOST_TEST(admins->to_string() == "S-1-5-32-544");
    std::vector<std::uint8_t> expected{1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0, 0x20, 0x02, 0, 0};
    BOOST_TEST(admins->bytes() == expected, boost::test_tools::per_element());
    std::size_t used = 0;
    auto back = Sid::from_bytes(expected, 0, &used);
    BOOST_REQUIRE(back);
    BOOST_TEST(*back == *admins);
    BOOST_TEST(used == 16u);

    BOOST_TEST(everyone_sid().to_string() == "S-1-1-0");
    BOOST_TEST(everyone_sid().bytes().size() == 12u);
    auto domain = Sid::parse("s-1-5-21-1004336348-1177238915-682003330-1001");
    BOOST_REQUIRE(domain);
    BOOST_TEST(domain->to_string() == "S-1-5-21-1004336348-1177238915-682003330-1001");
    BOOST_TEST(*domain->rid_in(*Sid::parse("S-1-5-21-1004336348-1177238915-682003330")) == 1001u);
    BOOST_TEST(!domain->rid_in(builtin_administrators_sid()));
    // Authorities of 2^32 and more are written in hex, as Windows does.
    BOOST_TEST(Sid::parse("S-1-0x123456789ABC-1")->to_string() == "S-1-0x123456789ABC-1");
    BOOST_TEST(Sid::parse("S-1-0x123456789ABC-1")->bytes()[2] == 0x12);

    for (char const* bad : {"", "S-1", "S-1-5", "S-2-5-32", "S-1-5-", "S-1--5", "S-1-5-x", "S-1-5-4294967296",
                            "S-1-0x1000000000000-1", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",
                            "Administrators", " S-1-5-32-544"})
        BOOST_CHECK_MESSAGE(!Sid::parse(bad), bad);
    std::vector<std::uint8_t> truncated{1, 3, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0};
    BOOST_TEST(!Sid::from_bytes(truncated, 0));
}

BOOST_AUTO_TEST_CASE(account_sids_are_stable_across_reopens) {
    TempDir dir;
    auto file = dir.path() / "account-sids.txt";
    auto opened = AccountSids::open(file);
    BOOST_REQUIRE(opened.has_value());
    auto& sids = *opened.value();
    auto const& sub = sids.domain().sub_authorities();
    BOOST_REQUIRE_EQUAL(sub.size(), 4u);
    BOOST_TEST(sids.domain().authority() == 5u);
    BOOST_TEST(sub[0] == 21u);

    BOOST_TEST(sids.sid_of("Everyone").value() == everyone_sid());
    BOOST_TEST(sids.sid_of("administrators").value() == builtin_administrators_sid());
    auto alice = sids.sid_of("alice").value();
    auto operators = sids.sid_of("operators").value();
    BOOST_TEST(alice == sids.domain().with_rid(1000));
    BOOST_TEST(operators == sids.domain().with_rid(1001));
    BOOST_TEST(sids.sid_of("ALICE").value() == alice); // names are case-insensitive
    BOOST_TEST(*sids.name_of(alice) == "alice");
    BOOST_TEST(*sids.name_of(builtin_administrators_sid()) == "Administrators");
    BOOST_TEST(!sids.name_of(sids.domain().with_rid(4242)));
    BOOST_TEST(!sids.name_of(*Sid::parse("S-1-5-21-1-2-3-1000"))); // another machine's
    BOOST_TEST(sids.sid_of("bad/name").is_error());

    auto again = AccountSids::open(file);
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(again.value()->domain() == sids.domain());
    BOOST_TEST(again.value()->sid_of("alice").value() == alice);
    BOOST_TEST(again.value()->sid_of("operators").value() == operators);
    BOOST_TEST(again.value()->sid_of("carol").value() == sids.domain().with_rid(1002)); // never reused

    // Another appliance draws another domain.
    TempDir other;
    BOOST_TEST(!(AccountSids::open(other.path() / "account-sids.txt").value()->domain() == sids.domain()));

    // A damaged file is refused, not silently replaced.
    for (char const* damage : {"garbage\n", "vsa-account-sids 1\ndomain S-1-5-32-544\n",
                               "vsa-account-sids 1\ndomain S-1-5-21-1-2-3\n12 alice\n",
                               "vsa-account-sids 1\ndomain S-1-5-21-1-2-3\n1000 alice\n1000 bob\n"}) {
        std::ofstream(file, std::ios::trunc) << damage;
        BOOST_CHECK_MESSAGE(AccountSids::open(file).is_error(), damage);
    }
}

BOOST_AUTO_TEST_CASE(access_masks_and_generic_mapping) {
    RightMask all = ALL_RIGHTS;
    BOOST_TEST(access_mask(all, 0, nullptr) == 0xE007'0000u);
    BOOST_TEST(access_mask(mask(Right::Read), 0, nullptr) == GENERIC_READ);
    // Special bits ride along; bits the six rights own are not special.
    BOOST_TEST(access_mask(mask(Right::Execute), 0x0000'0100 | GENERIC_READ, nullptr) ==
               (GENERIC_EXECUTE | 0x0000'0100u));
    // A file-like mapping (FILE_GENERIC_READ etc.): generic bits replaced.
    GenericMapping files{0x0012'0089, 0x0012'0116, 0x0012'00A0, 0x001F'01FF};
    BOOST_TEST(access_mask(static_cast<RightMask>(mask(Right::Read) | mask(Right::Delete)), 0, &files) ==
               (0x0012'0089u | DELETE_RIGHT));
    BOOST_TEST(access_mask(mask(Right::Write), 0x0000'0100, &files) == (0x0012'0116u | 0x0000'0100u));
    BOOST_TEST(rights_of_mask(0xE007'0000) == ALL_RIGHTS);
    BOOST_TEST(rights_of_mask(GENERIC_WRITE | 0x100) == mask(Right::Write));
}

BOOST_AUTO_TEST_CASE(self_relative_descriptor_field_by_field) {
    Sid owner = *Sid::parse("S-1-5-21-1-2-3-1000");
    Sid group = builtin_administrators_sid();
    std::vector<DescriptorAce> aces{
        {AceType::Allowed, 0x00, GENERIC_READ | GENERIC_EXECUTE, owner},
        {AceType::Denied, 0x03, DELETE_RIGHT, everyone_sid()},
        {AceType::Allowed, 0x10, 0x001F'01FF, group},
    };
    auto sd = self_relative_descriptor(owner, group, aces);
    // Header.
    BOOST_TEST(sd.at(0) == 1);               // Revision
    BOOST_TEST(sd.at(1) == 0);               // Sbz1
    BOOST_TEST(u16_at(sd, 2) == 0x8004);     // SE_SELF_RELATIVE | SE_DACL_PRESENT
    BOOST_TEST(u32_at(sd, 4) == 20u);        // OffsetOwner
    BOOST_TEST(u32_at(sd, 8) == 20u + 28u);  // OffsetGroup: the owner has 5 sub-authorities
    BOOST_TEST(u32_at(sd, 12) == 0u);        // OffsetSacl: none
    BOOST_TEST(u32_at(sd, 16) == 48u + 16u); // OffsetDacl
    BOOST_TEST(*Sid::from_bytes(sd, 20) == owner);
    BOOST_TEST(*Sid::from_bytes(sd, 48) == group);
    // ACL header.
    std::size_t acl = 64;
    BOOST_TEST(sd.at(acl) == 2); // ACL_REVISION
    BOOST_TEST(u16_at(sd, acl + 2) == sd.size() - acl);
    BOOST_TEST(u16_at(sd, acl + 4) == 3);
    // ACEs: the deny entry first (canonical order), then the allows in order.
    std::size_t at = acl + 8;
    struct Expect {
        std::uint8_t type, flags;
        std::uint32_t mask;
        Sid sid;
    };
    for (auto const& e :
         {Expect{1, 0x03, DELETE_RIGHT, everyone_sid()},
          Expect{0, 0x00, GENERIC_READ | GENERIC_EXECUTE, owner}, Expect{0, 0x10, 0x001F'01FF, group}}) {
        BOOST_TEST(sd.at(at) == e.type);
        BOOST_TEST(sd.at(at + 1) == e.flags);
        BOOST_TEST(u16_at(sd, at + 2) == 8u + e.sid.byte_size());
        BOOST_TEST(u32_at(sd, at + 4) == e.mask);
        BOOST_TEST(*Sid::from_bytes(sd, at + 8) == e.sid);
        at += u16_at(sd, at + 2);
    }
    BOOST_TEST(at == sd.size());
}

BOOST_AUTO_TEST_CASE(group_flags_and_special_bits_survive_the_xml) {
    SecurityDescriptor descriptor = SecurityDescriptor::default_for("alice");
    BOOST_TEST(descriptor.group == "Administrators");
    descriptor.group = "operators";
    auto* admins = descriptor.acl.find("Administrators", AceType::Allowed);
    BOOST_REQUIRE(admins);
    admins->flags = 0x13;
    admins->special = 0x0000'01FF;
    std::string const doc = "<?xml version=\"1.0\"?><preferences/>";
    auto written = persist::with_security(doc, "t.vmc", persist::VMC_SECURITY_PATH, descriptor);
    BOOST_REQUIRE(written.has_value());
    auto back = persist::security_in(written.value(), "t.vmc", persist::VMC_SECURITY_PATH);
    BOOST_REQUIRE(back.has_value() && back.value().has_value());
    BOOST_TEST((*back.value() == descriptor));
    BOOST_TEST(back.value()->acl.find("Administrators", AceType::Allowed)->special == 0x1FFu);

    // A file from before: no group (Administrators), no flags or special.
    auto plain = SecurityDescriptor::default_for("");
    auto old = persist::with_security(doc, "t.vmc", persist::VMC_SECURITY_PATH, plain).value();
    BOOST_TEST(old.find("<flags") == std::string::npos);
    BOOST_TEST(old.find("<special") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
