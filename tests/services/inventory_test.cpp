// SPDX-License-Identifier: GPL-2.0-or-later
// The inventory: IVMVirtualServer's VM and network operations, their
// persistence across restarts, confinement of client paths, and changes
// that fail leaving nothing changed.
#include "services/inventory.h"
#include "services/persist/vmc_file.h"
#include "services/storage/vhd_operations.h"
#include "services/virtual_server.h"

#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <fstream>
#include <thread>

using namespace vsa::services;
namespace fs = std::filesystem;

namespace {

struct Fixture {
    vsa::test::TempDir dir;
    fs::path root = fs::canonical(dir.path());
    fs::path data = root / "data";
    fs::path vms = root / "vms";
    fs::path nets = root / "nets";
    fs::path media = root / "media";
    fs::path outside = root / "outside";

    Fixture() {
        fs::create_directories(media);
        fs::create_directories(outside);
        std::ofstream(media / "debian.iso") << "iso";
        std::ofstream(outside / "secret.vhd") << "x";
    }

    std::unique_ptr<Inventory> open(AtomicWriteHooks hooks = {}) {
        auto inventory = Inventory::open({data, vms, nets, std::move(hooks)});
        BOOST_REQUIRE_MESSAGE(inventory.has_value(), why(inventory));
        return inventory.release_value();
    }
};

template <typename T>
HResult code_of(ServiceResult<T> const& result) {
    BOOST_REQUIRE_MESSAGE(result.is_error(), "expected an error");
    return result.error().code;
}

std::string slurp(fs::path const& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

BusLocation ide(int bus, int device) {
    return {DriveBusType::Ide, bus, device};
}

} // namespace

BOOST_AUTO_TEST_SUITE(inventory)

BOOST_AUTO_TEST_CASE(create_configure_restart_and_compare) {
    Fixture f;
    std::vector<VirtualMachine> before_vms;
    std::vector<VirtualNetwork> before_networks;
    {
        auto inventory = f.open();
        BOOST_TEST(fs::is_directory(f.vms));
        BOOST_TEST(fs::exists(f.data / "options.xml"));
        BOOST_REQUIRE(inventory->set_search_paths({f.media.string()}).has_value());

        auto network = inventory->create_virtual_network("Internal", "").value();
        BOOST_TEST(network.file() == f.nets / "Internal" / "Internal.vnc");
        BOOST_REQUIRE(inventory
                          ->update_virtual_network(network.id(),
                                                   [](VirtualNetwork& n) {
                                                       n.dhcp().set_enabled(true);
                                                       return n.set_notes("lab");
                                                   })
                          .has_value());

        auto web = inventory->create_virtual_machine("web01", "").value();
        BOOST_TEST(web.file() == f.vms / "web01" / "web01.vmc");
        BOOST_TEST(fs::exists(web.file()));
        BOOST_TEST(!web.config_id().is_null());
        auto disk = inventory->resolve_media_path(web.config_id(), "system.vhd").value();
        BOOST_TEST(disk == f.vms / "web01" / "system.vhd"); // the VM's own folder first
        auto iso = inventory->resolve_media_path(web.config_id(), "debian.iso").value();
        BOOST_TEST(iso == f.media / "debian.iso"); // found in a search path
        auto updated = inventory->update_virtual_machine(
            web.config_id(), [&](VirtualMachine& vm) -> ServiceResult<void> {
                TRY(vm.set_memory_mb(512));
                TRY(vm.set_notes("front end"));
                TRY(vm.add_hard_disk_connection(disk.string(), ide(0, 0)));
                TRY(vm.add_dvd_drive(ide(1, 0)));
                TRY(TRY(vm.dvd_drive_at(ide(1, 0)))->attach_image(iso.string()));
                return vm.set_autostart(AutoStartType::Always);
            });
        BOOST_REQUIRE_MESSAGE(updated.has_value(), why(updated));
        BOOST_TEST(updated.value().memory_mb() == 512);
        auto nic = inventory->add_network_adapter(web.config_id()).value();
        BOOST_REQUIRE(inventory->attach_network_adapter(web.config_id(), nic, network.id()).has_value());
        BOOST_REQUIRE(inventory->add_network_adapter(web.config_id()).has_value());

        auto db = inventory->create_virtual_machine("db01", (f.vms / "databases").string()).value();
        BOOST_TEST(db.file() == f.vms / "databases" / "db01.vmc");
        auto relative = inventory->create_virtual_machine("cache", "caches").value();
        BOOST_TEST(relative.file() == f.vms / "caches" / "cache.vmc");

        BOOST_TEST(inventory->network_adapters_on(network.id()).size() == 1u);
        BOOST_TEST(inventory->unconnected_network_adapters().size() == 1u);
        before_vms = inventory->virtual_machines();
        before_networks = inventory->virtual_networks();
    }
    // Everything comes back from disk.
    auto reopened = f.open();
    BOOST_TEST(reopened->load_warnings().empty());
    BOOST_TEST(reopened->search_paths() == std::vector<fs::path>{f.media});
    BOOST_TEST(reopened->default_vm_path() == f.vms);
    auto after_vms = reopened->virtual_machines();
    BOOST_REQUIRE(after_vms.size() == before_vms.size());
    for (std::size_t i = 0; i < after_vms.size(); ++i)
        BOOST_TEST(after_vms[i].same_configuration(before_vms[i]), after_vms[i].name());
    auto after_networks = reopened->virtual_networks();
    BOOST_REQUIRE(after_networks.size() == 1u);
    BOOST_TEST(after_networks[0].same_configuration(before_networks[0]));
    auto web = reopened->find_virtual_machine("WEB01"); // case-insensitive
    BOOST_REQUIRE(web.has_value());
    BOOST_TEST(web->network_adapters()[0].virtual_network()->name == "Internal");
    BOOST_TEST(web->network_adapters()[0].ethernet_address().to_string().starts_with("00-03-FF-"));
    BOOST_TEST(web->network_adapters()[0].ethernet_address() !=
               web->network_adapters()[1].ethernet_address());
    BOOST_TEST((web->state() == VmState::TurnedOff));
}

BOOST_AUTO_TEST_CASE(names_are_unique_and_checked) {
    Fixture f;
    auto inventory = f.open();
    BOOST_REQUIRE(inventory->create_virtual_machine("Alpha", "").has_value());
    BOOST_TEST(code_of(inventory->create_virtual_machine("ALPHA", (f.vms / "elsewhere").string())) ==
               hr::VM_E_CONFIG_DUPLICATE_NAME);
    BOOST_TEST(code_of(inventory->create_virtual_machine("a/b", "")) == hr::VM_E_CONFIG_NAME_INVALID_CHAR);
    BOOST_TEST(code_of(inventory->create_virtual_machine("", "")) == hr::VM_E_CONFIG_NO_NAME);
    BOOST_TEST(code_of(inventory->create_virtual_machine(std::string(300, 'n'), "")) ==
               hr::VM_E_CONFIG_NAME_TOO_LONG);
    // A .vmc already at the place (not registered): E_ALREADY_EXISTS.
    fs::create_directories(f.vms / "Beta");
    std::ofstream(f.vms / "Beta" / "Beta.vmc") << "<preferences/>";
    BOOST_TEST(code_of(inventory->create_virtual_machine("Beta", "")) == hr::E_ALREADY_EXISTS);
    // Empty name: the path is the whole .vmc path.
    auto gamma = inventory->create_virtual_machine("", (f.vms / "g" / "Gamma.vmc").string());
    BOOST_REQUIRE_MESSAGE(gamma.has_value(), why(gamma));
    BOOST_TEST(gamma.value().name() == "Gamma");
    BOOST_TEST(inventory->create_virtual_network("Net", "").has_value());
    BOOST_TEST(code_of(inventory->create_virtual_network("net", (f.nets / "x").string())) ==
               hr::VM_E_CONFIG_DUPLICATE_NAME);
    BOOST_TEST(inventory->virtual_machines().size() == 2u);
}

BOOST_AUTO_TEST_CASE(renaming_a_vm_renames_its_file) {
    Fixture f;
    auto inventory = f.open();
    auto vm = inventory->create_virtual_machine("old", "").value();
    BOOST_REQUIRE(inventory->create_virtual_machine("taken", "").has_value());
    std::ofstream(vm.saved_state_file()) << "state";
    BOOST_TEST(code_of(inventory->update_virtual_machine(vm.config_id(), [](VirtualMachine& m) {
                   return m.set_name("TAKEN");
               })) == hr::VM_E_CONFIG_DUPLICATE_NAME);
    auto renamed = inventory->update_virtual_machine(vm.config_id(),
                                                     [](VirtualMachine& m) { return m.set_name("new"); });
    BOOST_REQUIRE_MESSAGE(renamed.has_value(), why(renamed));
    BOOST_TEST(renamed.value().file() == f.vms / "old" / "new.vmc"); // the folder stays
    BOOST_TEST(fs::exists(f.vms / "old" / "new.vmc"));
    BOOST_TEST(!fs::exists(f.vms / "old" / "old.vmc"));
    BOOST_TEST(fs::exists(f.vms / "old" / "new.vsv")); // the saved state follows
    inventory.reset();
    auto reopened = f.open();
    BOOST_TEST(reopened->find_virtual_machine("new").has_value());
    BOOST_TEST(!reopened->find_virtual_machine("old").has_value());
    BOOST_TEST((reopened->find_virtual_machine("new")->state() == VmState::Saved));
}

BOOST_AUTO_TEST_CASE(failed_changes_change_nothing) {
    Fixture f;
    std::atomic<bool> fail_writes{false};
    AtomicWriteHooks hooks;
    hooks.before_rename = [&](fs::path const&) -> ServiceResult<void> {
        if (fail_writes) return service_error(hr::E_DISK_FULL, "simulated: disk full before rename");
        return {};
    };
    auto inventory = f.open(hooks);
    auto vm = inventory->create_virtual_machine("steady", "").value();
    auto file_before = slurp(vm.file());
    auto options_before = slurp(f.data / "options.xml");

    // The change itself fails halfway: the first setter's effect is dropped.
    BOOST_TEST(code_of(inventory->update_virtual_machine(vm.config_id(),
                                                         [](VirtualMachine& m) -> ServiceResult<void> {
                                                             TRY(m.set_memory_mb(1024));
                                                             return m.set_memory_mb(99999);
                                                         })) == hr::E_INVALIDARG);
    BOOST_TEST(inventory->virtual_machine(vm.config_id())->memory_mb() == DEFAULT_MEMORY_MB);

    // The write fails between write and rename: memory and disk unchanged.
    fail_writes = true;
    BOOST_TEST(code_of(inventory->update_virtual_machine(vm.config_id(), [](VirtualMachine& m) {
                   return m.set_memory_mb(1024);
               })) == hr::E_DISK_FULL);
    BOOST_TEST(inventory->virtual_machine(vm.config_id())->memory_mb() == DEFAULT_MEMORY_MB);
    BOOST_TEST(slurp(vm.file()) == file_before);
    BOOST_TEST(code_of(inventory->create_virtual_machine("never", "")) == hr::E_DISK_FULL);
    BOOST_TEST(!fs::exists(f.vms / "never"));
    BOOST_TEST(!inventory->find_virtual_machine("never").has_value());
    BOOST_TEST(code_of(inventory->unregister_virtual_machine(vm.config_id())) == hr::E_DISK_FULL);
    BOOST_TEST(inventory->virtual_machine(vm.config_id()).has_value());
    BOOST_TEST(code_of(inventory->set_search_paths({f.media.string()})) == hr::E_DISK_FULL);
    BOOST_TEST(inventory->search_paths().empty());
    BOOST_TEST(slurp(f.data / "options.xml") == options_before);
    // No temporaries were left behind.
    for (auto const& entry : fs::recursive_directory_iterator(f.root))
        BOOST_TEST(entry.path().filename().string().find(".tmp-") == std::string::npos, entry.path());
    fail_writes = false;
    BOOST_TEST(
        inventory
            ->update_virtual_machine(vm.config_id(), [](VirtualMachine& m) { return m.set_memory_mb(1024); })
            .has_value());
}

BOOST_AUTO_TEST_CASE(client_paths_stay_inside_the_allowed_folders) {
    Fixture f;
    auto inventory = f.open();
    BOOST_TEST(code_of(inventory->create_virtual_machine("evil", f.outside.string())) == hr::E_ACCESSDENIED);
    BOOST_TEST(code_of(inventory->create_virtual_machine("evil", "../outside")) == hr::E_ACCESSDENIED);
    BOOST_TEST(!fs::exists(f.outside / "evil.vmc"));
    fs::create_directory_symlink(f.outside, f.vms / "escape");
    BOOST_TEST(code_of(inventory->create_virtual_machine("evil", (f.vms / "escape").string())) ==
               hr::E_ACCESSDENIED);
    BOOST_TEST(code_of(inventory->create_virtual_network("evil", "/etc")) == hr::E_ACCESSDENIED);

    auto vm = inventory->create_virtual_machine("good", "").value();
    auto denied = inventory->resolve_media_path(vm.config_id(), (f.outside / "secret.vhd").string());
    BOOST_TEST(code_of(denied) == hr::E_ACCESSDENIED);
    BOOST_TEST(denied.error().message.find("secret.vhd") != std::string::npos);
    BOOST_TEST(code_of(inventory->resolve_media_path(vm.config_id(), "escape/secret.vhd")) ==
               hr::E_ACCESSDENIED);
    // Even a change that skips resolve_media_path is checked.
    BOOST_TEST(code_of(inventory->update_virtual_machine(vm.config_id(), [&](VirtualMachine& m) {
                   return m.add_hard_disk_connection((f.outside / "secret.vhd").string(), ide(0, 0));
               })) == hr::E_ACCESSDENIED);
    BOOST_TEST(inventory->virtual_machine(vm.config_id())->hard_disk_connections().empty());

    // Registering: the .vmc must be inside, and so must every path in it.
    std::ofstream(f.outside / "stray.vmc") << "<preferences/>";
    BOOST_TEST(code_of(inventory->register_virtual_machine("", (f.outside / "stray.vmc").string())) ==
               hr::E_ACCESSDENIED);
    fs::create_directories(f.vms / "sneaky");
    std::ofstream(f.vms / "sneaky" / "sneaky.vmc")
        << "<preferences><hardware><pci_bus><ide_adapter><ide_controller id=\"0\"><location id=\"0\">"
           "<drive_type type=\"integer\">1</drive_type><pathname><absolute type=\"string\">"
        << (f.outside / "secret.vhd").string()
        << "</absolute></pathname></location></ide_controller></ide_adapter></pci_bus></hardware></"
           "preferences>";
    auto sneaky = inventory->register_virtual_machine("sneaky", (f.vms / "sneaky").string());
    BOOST_TEST(code_of(sneaky) == hr::E_ACCESSDENIED);
    BOOST_TEST(sneaky.error().message.find("secret.vhd") != std::string::npos, sneaky.error().message);
    BOOST_TEST(!inventory->find_virtual_machine("sneaky").has_value());

    // Roots themselves: existing, absolute, and never exposing the data folder.
    BOOST_TEST(code_of(inventory->set_search_paths({"relative"})) == hr::E_BAD_PATHNAME);
    BOOST_TEST(code_of(inventory->set_search_paths({(f.root / "missing").string()})) == hr::E_PATH_NOT_FOUND);
    BOOST_TEST(code_of(inventory->set_search_paths({"/"})) == hr::E_ACCESSDENIED);
    BOOST_TEST(code_of(inventory->set_search_paths({f.root.string()})) == hr::E_ACCESSDENIED); // holds data/
    BOOST_TEST(code_of(inventory->set_default_vm_path(f.data.string())) == hr::E_ACCESSDENIED);
    BOOST_TEST(inventory->set_search_paths({f.outside.string()}).has_value());
    BOOST_TEST(
        inventory->resolve_media_path(vm.config_id(), (f.outside / "secret.vhd").string()).has_value());
}

BOOST_AUTO_TEST_CASE(registering_a_virtual_server_vmc) {
    Fixture f;
    auto inventory = f.open();
    BOOST_REQUIRE(inventory->set_search_paths({f.media.string()}).has_value());
    auto network = inventory->create_virtual_network("Internal Network", "").value();
    auto existing = inventory->create_virtual_machine("existing", "").value();
    auto nic = inventory->add_network_adapter(existing.config_id()).value();
    auto taken_mac =
        inventory->virtual_machine(existing.config_id())->network_adapters()[0].ethernet_address();
    (void)nic;

    // A copied Windows .vmc: no ConfigID, a dynamic MAC that collides, a
    // network known by name only, a relative disk path.
    fs::create_directories(f.media / "legacy");
    std::string text =
        "<?xml version=\"1.0\"?>\n<preferences><hardware><pci_bus><ethernet_adapter>"
        "<controller_count type=\"integer\">1</controller_count><ethernet_controller id=\"0\">"
        "<virtual_network><id type=\"bytes\">00112233445566778899AABBCCDDEEFF</id>"
        "<name type=\"string\">internal network</name></virtual_network>"
        "<ethernet_card_address type=\"bytes\">" +
        [&] {
            std::string hex;
            for (auto byte : taken_mac.bytes()) {
                char two[3];
                std::snprintf(two, sizeof two, "%02X", byte);
                hex += two;
            }
            return hex;
        }() +
        "</ethernet_card_address></ethernet_controller></ethernet_adapter><ide_adapter>"
        "<ide_controller id=\"0\"><location id=\"0\"><drive_type type=\"integer\">1</drive_type>"
        "<pathname><absolute type=\"string\">D:\\VMs\\legacy\\legacy.vhd</absolute>"
        "<relative type=\"string\">.\\legacy.vhd</relative></pathname></location>"
        "</ide_controller></ide_adapter></pci_bus></hardware></preferences>";
    std::ofstream(f.media / "legacy" / "legacy.vmc") << text;
    // Relative: found through the search paths.
    auto registered = inventory->register_virtual_machine("legacy.vmc", "legacy");
    BOOST_REQUIRE_MESSAGE(registered.has_value(), why(registered));
    auto const& vm = registered.value();
    BOOST_TEST(vm.file() == f.media / "legacy" / "legacy.vmc");
    BOOST_TEST(!vm.config_id().is_null());
    BOOST_TEST(vm.hard_disk_connections()[0].disk_path() == (f.media / "legacy" / "legacy.vhd").string());
    BOOST_TEST(vm.network_adapters()[0].ethernet_address() != taken_mac); // redrawn
    BOOST_TEST(vm.network_adapters()[0].virtual_network()->id == network.id());
    BOOST_TEST(vm.network_adapters()[0].virtual_network()->name == "Internal Network");
    // The fix-ups were written back.
    auto on_disk = persist::read_vmc(vm.file()).value();
    BOOST_TEST(on_disk.config_id() == vm.config_id());
    BOOST_TEST(code_of(inventory->register_virtual_machine("", vm.file().string())) ==
               hr::VM_E_CONFIG_DUPLICATE_NAME);
    BOOST_TEST(code_of(inventory->register_virtual_machine("nothere", "")) == hr::E_FILE_NOT_FOUND);
    BOOST_TEST(code_of(inventory->register_virtual_machine("", "")) == hr::VM_E_CONFIG_NO_NAME);

    // Unregister keeps the files; registering again brings it back.
    BOOST_TEST(inventory->unregister_virtual_machine(vm.config_id()).value());
    BOOST_TEST(!inventory->unregister_virtual_machine(vm.config_id()).value()); // S_FALSE
    BOOST_TEST(fs::exists(vm.file()));
    auto again = inventory->register_virtual_machine("", vm.file().string());
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(again.value().config_id() == vm.config_id());
}

BOOST_AUTO_TEST_CASE(delete_removes_the_vms_own_files_only) {
    Fixture f;
    auto inventory = f.open();
    auto vm = inventory->create_virtual_machine("doomed", "").value();
    auto folder = vm.folder();
    auto base = folder / "doomed.vhd";
    std::ofstream(base) << "vhd";
    BOOST_REQUIRE(inventory
                      ->update_virtual_machine(vm.config_id(),
                                               [&](VirtualMachine& m) {
                                                   return m.add_hard_disk_connection(base.string(),
                                                                                     ide(0, 0));
                                               })
                      .has_value());
    std::ofstream(vm.saved_state_file()) << "state";
    std::ofstream(vsa::storage::undo_disk_path(base.string())) << "undo";
    BOOST_REQUIRE(
        inventory
            ->update_virtual_machine(vm.config_id(), [](VirtualMachine& m) { return m.set_undoable(true); })
            .has_value());
    BOOST_REQUIRE(inventory->set_vm_state(vm.config_id(), VmState::Running).has_value());
    BOOST_TEST(code_of(inventory->delete_virtual_machine(vm.config_id())) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(inventory->unregister_virtual_machine(vm.config_id())) == hr::VM_E_VM_RUNNING);
    BOOST_REQUIRE(inventory->set_vm_state(vm.config_id(), VmState::Saved).has_value());
    BOOST_TEST(inventory->delete_virtual_machine(vm.config_id()).value());
    BOOST_TEST(!fs::exists(vm.file()));
    BOOST_TEST(!fs::exists(vm.saved_state_file()));
    BOOST_TEST(!fs::exists(vsa::storage::undo_disk_path(base.string())));
    BOOST_TEST(fs::exists(base)); // Virtual Server never deletes the .vhd
    BOOST_TEST(!inventory->delete_virtual_machine(vm.config_id()).value());
    // An emptied folder goes with it.
    auto empty = inventory->create_virtual_machine("tidy", "").value();
    BOOST_TEST(inventory->delete_virtual_machine(empty.config_id()).value());
    BOOST_TEST(!fs::exists(empty.folder()));
    BOOST_TEST(fs::exists(f.vms));
    inventory.reset();
    BOOST_TEST(f.open()->virtual_machines().empty());
}

BOOST_AUTO_TEST_CASE(virtual_networks_and_their_adapters) {
    Fixture f;
    auto inventory = f.open();
    auto net = inventory->create_virtual_network("Lab", "").value();
    auto vm = inventory->create_virtual_machine("client", "").value();
    auto nic = inventory->add_network_adapter(vm.config_id()).value();
    BOOST_TEST(code_of(inventory->attach_network_adapter(vm.config_id(), nic, Guid{})) ==
               hr::VM_E_INVALID_VIRTUAL_NETWORK_ID);
    BOOST_TEST(code_of(inventory->attach_network_adapter(vm.config_id(), 5, net.id())) == hr::E_INVALIDARG);
    BOOST_REQUIRE(inventory->attach_network_adapter(vm.config_id(), nic, net.id()).has_value());
    // Renaming the network updates what the NIC shows.
    BOOST_REQUIRE(
        inventory->update_virtual_network(net.id(), [](VirtualNetwork& n) { return n.set_name("Lab2"); })
            .has_value());
    BOOST_TEST(inventory->virtual_machine(vm.config_id())->network_adapters()[0].virtual_network()->name ==
               "Lab2");
    BOOST_TEST(persist::read_vmc(vm.file()).value().network_adapters()[0].virtual_network()->name == "Lab2");
    // Static MAC, then dynamic again.
    BOOST_REQUIRE(inventory->set_ethernet_address_dynamic(vm.config_id(), nic, false).has_value());
    BOOST_REQUIRE(inventory
                      ->update_virtual_machine(
                          vm.config_id(),
                          [&](VirtualMachine& m) -> ServiceResult<void> {
                              return TRY(m.network_adapter(nic))->set_ethernet_address("02-00-00-00-00-01");
                          })
                      .has_value());
    BOOST_TEST(
        inventory->virtual_machine(vm.config_id())->network_adapters()[0].ethernet_address().to_string() ==
        "02-00-00-00-00-01");
    // Unregister keeps the .vnc; delete unplugs the NICs and removes it.
    auto other = inventory->create_virtual_network("Other", "").value();
    auto second = inventory->add_network_adapter(vm.config_id()).value();
    BOOST_REQUIRE(inventory->attach_network_adapter(vm.config_id(), second, other.id()).has_value());
    BOOST_TEST(inventory->unregister_virtual_network(other.id()).value());
    BOOST_TEST(fs::exists(other.file()));
    BOOST_TEST(
        !inventory->virtual_machine(vm.config_id())->network_adapters()[1].virtual_network().has_value());
    // The VM stays changeable (no dangling network reference).
    BOOST_TEST(inventory
                   ->update_virtual_machine(vm.config_id(),
                                            [](VirtualMachine& m) { return m.set_notes("still fine"); })
                   .has_value());
    BOOST_TEST(inventory->register_virtual_network("", other.file().string()).has_value());
    BOOST_TEST(inventory->delete_virtual_network(net.id()).value());
    BOOST_TEST(!fs::exists(net.file()));
    BOOST_TEST(
        !inventory->virtual_machine(vm.config_id())->network_adapters()[0].virtual_network().has_value());
    BOOST_TEST(!persist::read_vmc(vm.file()).value().network_adapters()[0].virtual_network().has_value());
    BOOST_TEST(!inventory->delete_virtual_network(net.id()).value());
    BOOST_TEST(inventory->find_virtual_network("other").has_value());
}

BOOST_AUTO_TEST_CASE(a_broken_file_does_not_stop_the_server) {
    Fixture f;
    {
        auto inventory = f.open();
        BOOST_REQUIRE(inventory->create_virtual_machine("fine", "").has_value());
        BOOST_REQUIRE(inventory->create_virtual_machine("broken", "").has_value());
    }
    std::ofstream(f.vms / "broken" / "broken.vmc") << "<preferences><hardware><memory><ram_size "
                                                      "type=\"integer\">1</ram_size></memory></hardware>"
                                                      "</preferences>";
    auto inventory = f.open();
    BOOST_TEST(inventory->virtual_machines().size() == 1u);
    auto warnings = inventory->load_warnings();
    BOOST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find("broken.vmc") != std::string::npos, warnings[0]);
    BOOST_TEST(warnings[0].find("ram_size") != std::string::npos, warnings[0]);
    // It stays listed so it comes back once fixed.
    BOOST_REQUIRE(inventory->create_virtual_machine("another", "").has_value());
    BOOST_TEST(slurp(f.data / "options.xml").find("broken.vmc") != std::string::npos);
    std::ofstream(f.vms / "broken" / "broken.vmc", std::ios::trunc) << "<preferences/>";
    inventory.reset();
    BOOST_TEST(f.open()->virtual_machines().size() == 3u);
    // A corrupt options.xml refuses to start, naming the file.
    std::ofstream(f.data / "options.xml", std::ios::trunc) << "<preferences><paths>";
    auto refused = Inventory::open({f.data, f.vms, f.nets, {}});
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(refused.error().message.find("options.xml") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(listing_files_in_the_search_paths) {
    Fixture f;
    auto inventory = f.open();
    BOOST_REQUIRE(inventory->set_search_paths({f.media.string()}).has_value());
    auto registered = inventory->create_virtual_machine("known", "").value();
    fs::create_directories(f.vms / "loose");
    std::ofstream(f.vms / "loose" / "loose.VMC") << "<preferences/>";
    std::ofstream(f.vms / "loose" / ".loose.vmc.tmp-x") << "";
    fs::create_directories(f.media / "a" / "b" / "c" / "d" / "e");
    std::ofstream(f.media / "a" / "disk.vhd") << "";
    std::ofstream(f.media / "a" / "b" / "c" / "d" / "e" / "deep.vhd") << ""; // past 4 levels
    std::ofstream(f.media / "notes.txt") << "";
    std::ofstream(f.media / "boot.vfd") << "";
    fs::create_symlink(f.outside / "secret.vhd", f.media / "leak.vhd");

    auto vmcs = inventory->find_files(Inventory::FileKind::VirtualMachine, {}, false).value();
    BOOST_TEST(vmcs == (std::vector<std::string>{registered.file().string(),
                                                 (f.vms / "loose" / "loose.VMC").string()}));
    auto unregistered = inventory->find_files(Inventory::FileKind::VirtualMachine, {}, true).value();
    BOOST_TEST(unregistered == std::vector<std::string>{(f.vms / "loose" / "loose.VMC").string()});
    auto disks = inventory->find_files(Inventory::FileKind::HardDisk, {}, false).value();
    BOOST_TEST(disks == std::vector<std::string>{(f.media / "a" / "disk.vhd").string()});
    auto isos = inventory->find_files(Inventory::FileKind::Dvd, {}, false).value();
    BOOST_TEST(isos == std::vector<std::string>{(f.media / "debian.iso").string()});
    BOOST_TEST(inventory->find_files(Inventory::FileKind::Floppy, {}, false).value().size() == 1u);
    BOOST_TEST(code_of(inventory->find_files(Inventory::FileKind::HardDisk, {f.outside.string()}, false)) ==
               hr::E_ACCESSDENIED);
    BOOST_TEST(
        inventory->find_files(Inventory::FileKind::HardDisk, {(f.media / "a").string()}, false).has_value());
}

BOOST_AUTO_TEST_CASE(concurrent_readers_and_writers) {
    Fixture f;
    auto inventory = f.open();
    std::vector<Guid> ids;
    for (int i = 0; i < 4; ++i)
        ids.push_back(inventory->create_virtual_machine("vm" + std::to_string(i), "").value().config_id());
    std::atomic<bool> stop{false};
    std::atomic<int> reads{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t)
        readers.emplace_back([&] {
            while (!stop) {
                for (auto const& vm : inventory->virtual_machines())
                    BOOST_CHECK(vm.memory_mb() >= DEFAULT_MEMORY_MB);
                BOOST_CHECK(inventory->find_virtual_machine("vm1").has_value());
                ++reads;
            }
        });
    std::vector<std::thread> writers;
    for (int t = 0; t < 2; ++t)
        writers.emplace_back([&, t] {
            for (int round = 0; round < 10; ++round) {
                auto id = ids[(t + round) % ids.size()];
                auto result = inventory->update_virtual_machine(
                    id, [&](VirtualMachine& vm) { return vm.set_memory_mb(DEFAULT_MEMORY_MB + round); });
                BOOST_CHECK(result.has_value());
            }
        });
    for (auto& writer : writers)
        writer.join();
    stop = true;
    for (auto& reader : readers)
        reader.join();
    BOOST_TEST(reads > 0);
}

BOOST_AUTO_TEST_CASE(the_virtual_server_owns_an_inventory) {
    vsa::test::TempDir dir;
    auto server = VirtualServer::open({fs::canonical(dir.path()) / "data", "/"}).release_value();
    BOOST_TEST(server->inventory().default_vm_path() ==
               fs::canonical(dir.path()) / "data" / "Virtual Machines");
    BOOST_TEST(server->inventory().create_virtual_machine("first", "").has_value());
    server.reset();
    auto again = VirtualServer::open({fs::canonical(dir.path()) / "data", "/"}).release_value();
    BOOST_TEST(again->inventory().find_virtual_machine("first").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
