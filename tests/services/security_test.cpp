// SPDX-License-Identifier: GPL-2.0-or-later
// The security model (services/security): access control lists, the
// evaluation with deny precedence, the owner's implicit rights and the
// Administrators' override; their XML section (services/persist/
// security_xml.h); and the inventory keeping descriptors in the .vmc, the
// .vnc and options.xml across a reopen.
#include "services/inventory.h"
#include "services/persist/security_xml.h"
#include "services/security/access_control.h"

#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>

using namespace vsa::services;
using namespace vsa::services::security;
namespace fs = std::filesystem;

namespace {

Identity user(std::string name, std::vector<std::string> groups = {}) {
    return {std::move(name), std::move(groups), false};
}

std::string slurp(fs::path const& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

SecurityDescriptor sample() {
    SecurityDescriptor descriptor = SecurityDescriptor::default_for("alice");
    auto bob = descriptor.acl.add("bob", AceType::Allowed);
    BOOST_REQUIRE(bob.has_value());
    descriptor.acl.find("bob", AceType::Allowed)->set(Right::Read, true);
    BOOST_REQUIRE(descriptor.acl.add("Everyone", AceType::Denied).has_value());
    descriptor.acl.find("Everyone", AceType::Denied)->set(Right::Delete, true);
    return descriptor;
}

} // namespace

BOOST_AUTO_TEST_SUITE(security)

BOOST_AUTO_TEST_CASE(default_descriptors) {
    auto server = SecurityDescriptor::default_for("");
    BOOST_TEST(server.owner == "Administrators");
    BOOST_REQUIRE_EQUAL(server.acl.size(), 1u);
    BOOST_TEST(server.acl.entries()[0].name == "Administrators");
    BOOST_TEST(server.acl.entries()[0].rights == ALL_RIGHTS);
    BOOST_TEST(effective_rights(server, user("bob")) == NO_RIGHTS);
    BOOST_TEST(effective_rights(server, Identity{"root", {}, true}) == ALL_RIGHTS);

    auto created = SecurityDescriptor::default_for("alice");
    BOOST_TEST(created.owner == "alice");
    BOOST_REQUIRE_EQUAL(created.acl.size(), 2u);
    BOOST_TEST(effective_rights(created, user("ALICE")) == ALL_RIGHTS); // names fold case
    BOOST_TEST(effective_rights(created, user("bob")) == NO_RIGHTS);
}

BOOST_AUTO_TEST_CASE(entries_add_find_remove) {
    AccessControlList acl;
    BOOST_REQUIRE(acl.add("bob", AceType::Allowed).has_value());
    BOOST_REQUIRE(acl.add("bob", AceType::Denied).has_value()); // one of each type
    auto duplicate = acl.add("BOB", AceType::Allowed);
    BOOST_REQUIRE(duplicate.is_error());
    BOOST_TEST(duplicate.error().code == hr::VM_E_SECURITY_DUPLICATE_USER);
    BOOST_TEST(acl.find("Bob", AceType::Denied) != nullptr);
    BOOST_TEST(acl.find("carol", AceType::Allowed) == nullptr);
    BOOST_TEST(acl.find("bob", AceType::Allowed)->rights == NO_RIGHTS); // new entries grant nothing
    BOOST_TEST(acl.remove("bob", AceType::Denied));
    BOOST_TEST(!acl.remove("bob", AceType::Denied)); // already gone: S_FALSE
    BOOST_TEST(acl.size() == 1u);

    for (std::string bad :
         std::vector<std::string>{"", "a/b", "a#b", " lead", std::string(65, 'x'), std::string("nul\0", 4)}) {
        auto refused = acl.add(bad, AceType::Allowed);
        BOOST_REQUIRE(refused.is_error());
        BOOST_TEST(refused.error().code == hr::E_INVALIDARG);
    }
    BOOST_TEST(acl.add("Domain Users", AceType::Allowed).has_value());

    AccessControlList full;
    for (std::size_t i = 0; i < MAX_ENTRIES; ++i)
        BOOST_REQUIRE(full.add("u" + std::to_string(i), AceType::Allowed).has_value());
    BOOST_TEST(full.add("one-more", AceType::Allowed).error().code == hr::E_OUTOFMEMORY);
}

BOOST_AUTO_TEST_CASE(deny_wins_over_allow_in_any_order) {
    SecurityDescriptor descriptor{"Administrators", {}};
    BOOST_REQUIRE(descriptor.acl.add("bob", AceType::Denied).has_value());
    descriptor.acl.find("bob", AceType::Denied)->set(Right::Read, true);
    BOOST_REQUIRE(descriptor.acl.add("operators", AceType::Allowed).has_value());
    auto* group = descriptor.acl.find("operators", AceType::Allowed);
    group->set(Right::Read, true);
    group->set(Right::Execute, true);

    auto bob = user("bob", {"operators"});
    auto carol = user("carol", {"Operators"});
    BOOST_TEST(!allows(descriptor, bob, Right::Read));   // denied for him although his group may
    BOOST_TEST(allows(descriptor, bob, Right::Execute)); // the deny covers read only
    BOOST_TEST(allows(descriptor, carol, Right::Read));
    BOOST_TEST(!allows(descriptor, carol, Right::Write));
    BOOST_TEST(!allows(descriptor, user("dave"), Right::Read));

    // Everyone matches every user; a deny for Everyone beats a user's allow.
    BOOST_REQUIRE(descriptor.acl.add("Everyone", AceType::Denied).has_value());
    descriptor.acl.find("Everyone", AceType::Denied)->set(Right::Execute, true);
    BOOST_TEST(!allows(descriptor, carol, Right::Execute));
    // Administrators are not subject to the list at all.
    BOOST_TEST(effective_rights(descriptor, Identity{"root", {}, true}) == ALL_RIGHTS);
}

BOOST_AUTO_TEST_CASE(owner_may_always_manage_permissions_unless_denied) {
    SecurityDescriptor descriptor{"bob", {}};
    auto rights = effective_rights(descriptor, user("bob"));
    BOOST_TEST(rights == (mask(Right::ReadPermissions) | mask(Right::ChangePermissions)));
    BOOST_TEST(effective_rights(descriptor, user("carol")) == NO_RIGHTS);
    // A group can own an object.
    descriptor.owner = "operators";
    BOOST_TEST(allows(descriptor, user("carol", {"operators"}), Right::ChangePermissions));
    BOOST_REQUIRE(descriptor.acl.add("carol", AceType::Denied).has_value());
    descriptor.acl.find("carol", AceType::Denied)->set(Right::ChangePermissions, true);
    BOOST_TEST(!allows(descriptor, user("carol", {"operators"}), Right::ChangePermissions));
    BOOST_TEST(allows(descriptor, user("carol", {"operators"}), Right::ReadPermissions));
}

BOOST_AUTO_TEST_CASE(right_names_and_types) {
    BOOST_TEST(right_name(Right::Execute) == "execute");
    BOOST_TEST(right_name(Right::ChangePermissions) == "change-permissions");
    BOOST_TEST((ace_type_from(0) == std::optional<AceType>(AceType::Allowed)));
    BOOST_TEST((ace_type_from(1) == std::optional<AceType>(AceType::Denied)));
    BOOST_TEST(!ace_type_from(2).has_value());
    BOOST_TEST(!ace_type_from(-1).has_value());
}

BOOST_AUTO_TEST_CASE(xml_section_round_trip_and_bad_sections) {
    std::string const doc =
        "<?xml version=\"1.0\"?><preferences><keep type=\"string\">x</keep></preferences>";
    auto absent = persist::security_in(doc, "t.vmc", persist::VMC_SECURITY_PATH);
    BOOST_REQUIRE(absent.has_value());
    BOOST_TEST(!absent.value().has_value());

    auto written = persist::with_security(doc, "t.vmc", persist::VMC_SECURITY_PATH, sample());
    BOOST_REQUIRE_MESSAGE(written.has_value(), why(written));
    BOOST_TEST(written.value().find("<keep type=\"string\">x</keep>") !=
               std::string::npos); // other keys kept
    auto back = persist::security_in(written.value(), "t.vmc", persist::VMC_SECURITY_PATH);
    BOOST_REQUIRE_MESSAGE(back.has_value(), why(back));
    BOOST_REQUIRE(back.value().has_value());
    BOOST_TEST((*back.value() == sample()));

    // Rewriting replaces the section rather than adding to it.
    auto smaller = SecurityDescriptor::default_for("");
    auto rewritten = persist::with_security(written.value(), "t.vmc", persist::VMC_SECURITY_PATH, smaller);
    BOOST_REQUIRE(rewritten.has_value());
    BOOST_TEST(
        (*persist::security_in(rewritten.value(), "t.vmc", persist::VMC_SECURITY_PATH).value() == smaller));

    // Damaged sections are errors naming the key, never a silently empty ACL.
    auto const broken = [](std::string const& section) {
        return "<preferences><settings><security>" + section + "</security></settings></preferences>";
    };
    std::string const entry_head = "<owner type=\"string\">bob</owner><access_control_list><entry id=\"0\">";
    for (std::string bad : std::vector<std::string>{
             broken(""), broken("<owner type=\"string\">a/b</owner>"),
             broken(entry_head + "<name type=\"string\">x</name><type type=\"integer\">2</type>"
                                 "<rights type=\"integer\">1</rights></entry></access_control_list>"),
             broken(entry_head + "<name type=\"string\">x</name><type type=\"integer\">0</type>"
                                 "<rights type=\"integer\">64</rights></entry></access_control_list>"),
             broken(entry_head + "<name type=\"string\">x</name></entry></access_control_list>"),
             broken(entry_head +
                    "<name type=\"string\">x</name><type type=\"integer\">0</type>"
                    "<rights type=\"integer\">1</rights></entry><entry id=\"1\"><name type=\"string\">X"
                    "</name><type type=\"integer\">0</type><rights type=\"integer\">1</rights></entry>"
                    "</access_control_list>")}) {
        auto read = persist::security_in(bad, "t.vmc", persist::VMC_SECURITY_PATH);
        BOOST_REQUIRE_MESSAGE(read.is_error(), bad);
        BOOST_TEST(read.error().code == hr::VM_E_PREF_ILLEGAL_VALUE);
    }
}

BOOST_AUTO_TEST_CASE(disk_sections_by_path) {
    std::string doc = "<preferences/>";
    auto one = persist::with_disk_security(doc, "options.xml", "/srv/a.vhd", sample());
    BOOST_REQUIRE(one.has_value());
    auto two =
        persist::with_disk_security(one.value(), "options.xml", "/srv/b.vhd", SecurityDescriptor{"bob", {}});
    BOOST_REQUIRE(two.has_value());
    auto again = persist::with_disk_security(two.value(), "options.xml", "/srv/a.vhd",
                                             SecurityDescriptor{"carol", {}});
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(
        (persist::disk_security_in(again.value(), "options.xml", "/srv/a.vhd").value()->owner == "carol"));
    BOOST_TEST(
        (persist::disk_security_in(again.value(), "options.xml", "/srv/b.vhd").value()->owner == "bob"));
    BOOST_TEST(!persist::disk_security_in(again.value(), "options.xml", "/srv/c.vhd").value().has_value());
}

BOOST_AUTO_TEST_CASE(inventory_keeps_descriptors_in_the_files) {
    vsa::test::TempDir dir;
    fs::path root = fs::canonical(dir.path());
    fs::path disk = root / "vms" / "disk.vhd";
    Guid vm_id, net_id;
    {
        auto opened = Inventory::open({root / "data", root / "vms", root / "nets", {}});
        BOOST_REQUIRE_MESSAGE(opened.has_value(), why(opened));
        auto inventory = opened.release_value();
        auto vm = inventory->create_virtual_machine("web", "");
        BOOST_REQUIRE_MESSAGE(vm.has_value(), why(vm));
        vm_id = vm.value().config_id();
        auto net = inventory->create_virtual_network("lan", "");
        BOOST_REQUIRE(net.has_value());
        net_id = net.value().id();

        BOOST_TEST(!inventory->vm_security(vm_id).value().has_value()); // none stored yet
        BOOST_TEST(!inventory->server_security().value().has_value());
        BOOST_REQUIRE(inventory->set_vm_security(vm_id, sample()).has_value());
        BOOST_REQUIRE(
            inventory->set_network_security(net_id, SecurityDescriptor::default_for("bob")).has_value());
        BOOST_REQUIRE(inventory->set_server_security(SecurityDescriptor{"carol", {}}).has_value());
        std::ofstream(disk) << "vhd";
        BOOST_REQUIRE(inventory->set_disk_security(disk, SecurityDescriptor{"dave", {}}).has_value());

        // Other changes carry the section along.
        BOOST_REQUIRE(inventory
                          ->update_virtual_machine(vm_id,
                                                   [](VirtualMachine& changed) -> ServiceResult<void> {
                                                       return changed.set_notes("after security");
                                                   })
                          .has_value());
        BOOST_REQUIRE(inventory->set_search_paths({}).has_value());
        BOOST_TEST(slurp(inventory->virtual_machine(vm_id)->file()).find("<security>") != std::string::npos);

        BOOST_TEST(inventory->vm_security(Guid{}).error().code == hr::VM_E_VM_UNKNOWN);
        BOOST_TEST(inventory->network_security(Guid{}).error().code == hr::VM_E_INVALID_VIRTUAL_NETWORK_ID);
    }
    auto reopened = Inventory::open({root / "data", root / "vms", root / "nets", {}});
    BOOST_REQUIRE_MESSAGE(reopened.has_value(), why(reopened));
    auto inventory = reopened.release_value();
    BOOST_TEST((*inventory->vm_security(vm_id).value() == sample()));
    BOOST_TEST(inventory->virtual_machine(vm_id)->notes() == "after security");
    BOOST_TEST(inventory->network_security(net_id).value()->owner == "bob");
    BOOST_TEST(inventory->server_security().value()->owner == "carol");
    BOOST_TEST(inventory->disk_security(disk).value()->owner == "dave");
    BOOST_TEST(!inventory->disk_security(root / "other.vhd").value().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
