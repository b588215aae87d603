// SPDX-License-Identifier: GPL-2.0-or-later
// Configuration files are untrusted input: RegisterVirtualMachine reads any
// .vmc a client points at. Whatever they hold, parsing ends with a value or
// a clear error, quickly, and never crashes (ASan/UBSan builds run this).
#include "services/persist/preferences_xml.h"
#include "services/persist/server_options_file.h"
#include "services/persist/vmc_file.h"
#include "services/persist/vnc_file.h"

#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <random>

using namespace vsa::services;
using namespace vsa::services::persist;
namespace fs = std::filesystem;

namespace {

void expect_refused(std::string const& text, std::string const& expect) {
    auto start = std::chrono::steady_clock::now();
    auto parsed = parse_vmc(text, "/srv/vms/evil/evil.vmc");
    auto took = std::chrono::steady_clock::now() - start;
    BOOST_REQUIRE_MESSAGE(parsed.is_error(), "accepted a hostile file expecting: " + expect);
    BOOST_TEST(parsed.error().message.find(expect) != std::string::npos, parsed.error().message);
    BOOST_TEST(parsed.error().message.find("evil.vmc") != std::string::npos, parsed.error().message);
    BOOST_TEST(std::chrono::duration_cast<std::chrono::seconds>(took).count() < 5);
}

} // namespace

BOOST_AUTO_TEST_SUITE(hostile_xml)

BOOST_AUTO_TEST_CASE(entity_expansion_never_happens) {
    // "Billion laughs": the entities are not expanded, so nothing grows and
    // the undefined reference stays literal text where a string is read.
    std::string laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE preferences [\n <!ENTITY lol \"lol\">\n";
    for (int i = 1; i < 10; ++i)
        laughs += " <!ENTITY lol" + std::to_string(i) + " \"&lol" + std::to_string(i - 1 == 0 ? 0 : i - 1) +
                  ";&lol" + std::to_string(i - 1) + ";&lol" + std::to_string(i - 1) + ";\">\n";
    laughs += "]>\n<preferences><settings><notes type=\"string\">&lol9;</notes></settings></preferences>";
    auto parsed = parse_vmc(laughs, "/srv/vms/evil/evil.vmc");
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), why(parsed));
    BOOST_TEST(parsed.value().notes().size() < 16u);

    // An external entity is not fetched either.
    std::string external = "<?xml version=\"1.0\"?>\n<!DOCTYPE preferences [ <!ENTITY x SYSTEM "
                           "\"file:///etc/passwd\"> ]>\n<preferences><settings><notes "
                           "type=\"string\">&x;</notes></settings></preferences>";
    auto no_xxe = parse_vmc(external, "/srv/vms/evil/evil.vmc");
    BOOST_REQUIRE_MESSAGE(no_xxe.has_value(), why(no_xxe));
    BOOST_TEST(no_xxe.value().notes().find("root:") == std::string::npos);

    // The same in a memory field is a type error, not an expansion.
    std::string in_integer = "<?xml version=\"1.0\"?>\n<!DOCTYPE preferences [ <!ENTITY n \"512\"> ]>\n"
                             "<preferences><hardware><memory><ram_size type=\"integer\">&n;</ram_size>"
                             "</memory></hardware></preferences>";
    expect_refused(in_integer, "not an integer");
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_without_recursion) {
    std::string deep = "<preferences>";
    for (int i = 0; i < 200'000; ++i)
        deep += "<a>";
    for (int i = 0; i < 200'000; ++i)
        deep += "</a>";
    deep += "</preferences>";
    expect_refused(deep, "nested deeper");
    // A DOCTYPE of deeply nested conditional sections and groups: skipped
    // (or refused) without overflowing the stack.
    std::string doctype = "<!DOCTYPE preferences [";
    for (int i = 0; i < 100'000; ++i)
        doctype += "<![INCLUDE[";
    for (int i = 0; i < 100'000; ++i)
        doctype += "]]>";
    doctype += "]><preferences/>";
    (void)parse_vmc(doctype, "/srv/vms/evil/evil.vmc");
    std::string groups =
        "<!DOCTYPE preferences [<!ELEMENT a " + std::string(100'000, '(') + "]><preferences/>";
    (void)parse_vmc(groups, "/srv/vms/evil/evil.vmc");
    // Unclosed deep nesting: not well-formed, still no crash.
    expect_refused(std::string(100'000, '<'), "not well-formed");
    std::string open_only = "<preferences>";
    for (int i = 0; i < 100'000; ++i)
        open_only += "<a>";
    expect_refused(open_only, "not well-formed");
}

BOOST_AUTO_TEST_CASE(huge_files_and_node_floods_are_capped) {
    expect_refused(std::string(MAX_VMC_BYTES + 1, ' '), "bytes is more than");
    std::string flood = "<preferences>";
    for (int i = 0; i < 120'000; ++i)
        flood += "<a/>";
    flood += "</preferences>";
    expect_refused(flood, "more than 100000 XML nodes");
    // A huge string where a short one belongs.
    std::string big_name = "<preferences><settings><run_as><account_name type=\"string\">" +
                           std::string(100'000, 'x') + "</account_name></run_as></settings></preferences>";
    expect_refused(big_name, "settings/run_as/account_name");
    // Reading from disk refuses before parsing.
    vsa::test::TempDir dir;
    auto file = dir.path() / "big.vmc";
    std::ofstream(file) << std::string(MAX_VMC_BYTES + 10, ' ');
    auto read = read_vmc(file);
    BOOST_REQUIRE(read.is_error());
    BOOST_TEST(read.error().message.find("bytes allowed") != std::string::npos, read.error().message);
}

BOOST_AUTO_TEST_CASE(wrong_shapes_are_clear_errors) {
    expect_refused("", "not well-formed");
    expect_refused("\xFF\xFE<\0p\0", "not well-formed");
    expect_refused("<preferences><hardware><memory><ram_size type=\"integer\"><x/></ram_size></memory>"
                   "</hardware></preferences>",
                   "found child elements");
    expect_refused("<preferences><hardware><pci_bus><ide_adapter><ide_controller id=\"0\"><location id=\"0\">"
                   "<drive_type type=\"integer\">1</drive_type></location></ide_controller></ide_adapter>"
                   "</pci_bus></hardware></preferences>",
                   "no image path");
    expect_refused("<preferences><hardware><pci_bus><ide_adapter><ide_controller id=\"99999999999999999999\">"
                   "</ide_controller></ide_adapter></pci_bus></hardware></preferences>",
                   "not a number");
    expect_refused("<preferences><settings><notes type=\"string\">\xC3\x28</notes></settings></preferences>",
                   "not valid UTF-8");
    // A .vmc whose file name is not a valid VM name.
    auto bad_name = parse_vmc("<preferences/>", "/srv/vms/evil/a*b.vmc");
    BOOST_REQUIRE(bad_name.is_error());
    BOOST_TEST(bad_name.error().code == hr::VM_E_CONFIG_NAME_INVALID_CHAR);
    // Minimal valid file: every default.
    BOOST_TEST(parse_vmc("<preferences/>", "/srv/vms/ok/ok.vmc").has_value());
}

BOOST_AUTO_TEST_CASE(random_mutations_never_crash) {
    // Mutate a valid file byte by byte; each result must parse or fail
    // cleanly, in all three file kinds.
    VirtualMachine vm("fuzz", "/srv/vms/fuzz/fuzz.vmc", Guid{});
    BOOST_REQUIRE(vm.add_hard_disk_connection("/srv/vms/fuzz/a.vhd", {DriveBusType::Ide, 0, 0}).has_value());
    BOOST_REQUIRE(vm.add_dvd_drive({DriveBusType::Ide, 1, 0}).has_value());
    BOOST_REQUIRE(vm.add_network_adapter(*MacAddress::parse("00-03-FF-00-00-01")).has_value());
    auto seed_vmc = serialize_vmc(vm).value();
    VirtualNetwork network("net", "/srv/net/net.vnc", Guid{});
    auto seed_vnc = serialize_vnc(network).value();
    ServerOptions options;
    options.default_vm_path = "/srv/vms";
    options.virtual_machines = {"/srv/vms/a/a.vmc"};
    auto seed_options = serialize_server_options(options).value();

    std::mt19937 random(1234);
    std::string const alphabet = "<>/=\"'&;![]?-x0 \n\xC3\xFF\x00";
    int accepted = 0;
    for (int round = 0; round < 1500; ++round) {
        std::string const& seed = round % 3 == 0 ? seed_vmc : round % 3 == 1 ? seed_vnc : seed_options;
        std::string text = seed;
        int edits = 1 + static_cast<int>(random() % 8);
        for (int e = 0; e < edits; ++e) {
            auto at = random() % text.size();
            switch (random() % 3) {
            case 0:
                text[at] = alphabet[random() % alphabet.size()];
                break;
            case 1:
                text.erase(at, 1 + random() % 16);
                break;
            default:
                text.insert(at, std::string(1 + random() % 4, alphabet[random() % alphabet.size()]));
                break;
            }
            if (text.empty()) text = "<";
        }
        bool ok = round % 3 == 0   ? parse_vmc(text, "/srv/vms/fuzz/fuzz.vmc").has_value()
                  : round % 3 == 1 ? parse_vnc(text, "/srv/net/net.vnc").has_value()
                                   : parse_server_options(text, "/var/lib/vsa/options.xml").has_value();
        accepted += ok;
    }
    BOOST_TEST_MESSAGE(accepted << " of 1500 mutated files parsed");
}

BOOST_AUTO_TEST_CASE(key_paths_tolerate_odd_input) {
    PreferencesXml xml(" test ");
    auto root = xml.root();
    BOOST_TEST(!find_path(root, "a[@id=x]/b"));
    BOOST_TEST(!find_path(root, "a[@id=1"));
    BOOST_TEST(!find_path(root, "[@id=1]"));
    set_integer(root, "a[@id=3]/b", 5);
    BOOST_TEST(key_path(find_path(root, "a[@id=\"3\"]/b")) == "a[@id=3]/b");
    PreferenceReader reader("test");
    BOOST_TEST(reader.integer(root, "a[@id=3]/b", 0, 10).value().value() == 5);
    BOOST_TEST(!reader.integer(root, "a[@id=4]/b", 0, 10).value().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
