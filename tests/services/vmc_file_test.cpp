// SPDX-License-Identifier: GPL-2.0-or-later
// The .vmc, .vnc and options.xml layouts: round trips, a file in Virtual
// Server's own layout (UTF-16 with a BOM, Windows paths, keys we do not
// model), and values that do not fit.
#include "services/persist/server_options_file.h"
#include "services/persist/vmc_file.h"
#include "services/persist/vnc_file.h"

#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

using namespace vsa::services;
using namespace vsa::services::persist;
namespace fs = std::filesystem;

namespace {

// A .vmc as Virtual Server 2005 R2 writes it (values are ours): the
// preferences tree, typed leaves, ids on repeated elements, Windows paths
// with a relative twin, and keys we do not model (alerts, video, cmos).
constexpr char const* VS_SAMPLE = R"(<?xml version="1.0" encoding="UTF-16"?>
<!-- Microsoft Virtual Machine Options and Settings -->
<preferences>
	<version type="string">2.0</version>
	<alerts>
		<notifications>
			<no_boot_disk type="boolean">true</no_boot_disk>
		</notifications>
	</alerts>
	<hardware>
		<bios>
			<bios_guid type="string">{6B1E4D2A-0C9F-4E55-9A10-22C3D4E5F607}</bios_guid>
			<cmos type="bytes">00112233445566778899AABBCCDDEEFF</cmos>
		</bios>
		<memory>
			<ram_size type="integer">256</ram_size>
		</memory>
		<pci_bus>
			<ethernet_adapter>
				<controller_count type="integer">2</controller_count>
				<ethernet_controller id="0">
					<virtual_network>
						<id type="bytes">4A7C21E05B1311DCA1B2C3D4E5F60718</id>
						<name type="string">Internal Network</name>
					</virtual_network>
					<ethernet_card_address type="bytes">0003FF4A1B2C</ethernet_card_address>
				</ethernet_controller>
				<ethernet_controller id="1">
					<ethernet_card_address type="bytes">0003FF000001</ethernet_card_address>
				</ethernet_controller>
			</ethernet_adapter>
			<ide_adapter>
				<ide_controller id="1">
					<location id="0">
						<drive_type type="integer">2</drive_type>
						<pathname>
							<absolute type="string">D</absolute>
							<relative type="string"/>
						</pathname>
					</location>
				</ide_controller>
				<ide_controller id="0">
					<location id="0">
						<drive_type type="integer">1</drive_type>
						<pathname>
							<absolute type="string">C:\Virtual Machines\legacy\legacy.vhd</absolute>
							<relative type="string">.\legacy.vhd</relative>
						</pathname>
					</location>
					<location id="1">
						<drive_type type="integer">0</drive_type>
					</location>
				</ide_controller>
			</ide_adapter>
			<video_adapter>
				<vram_size type="integer">8</vram_size>
			</video_adapter>
		</pci_bus>
		<super_io>
			<floppy id="0">
				<pathname>
					<absolute type="string">C:\Floppies\boot.vfd</absolute>
					<relative type="string"/>
				</pathname>
			</floppy>
			<serial_port id="0">
				<connect_immediately type="boolean">false</connect_immediately>
			</serial_port>
		</super_io>
	</hardware>
	<integration>
		<microsoft>
			<heartbeat>
				<time type="integer">60</time>
				<rate type="integer">10</rate>
			</heartbeat>
			<version>
				<additions_number type="string">13.813</additions_number>
			</version>
		</microsoft>
	</integration>
	<settings>
		<notes type="string">Migrated from the old host &amp; kept &lt;as is&gt;.</notes>
		<shutdown>
			<quit>
				<action type="integer">1</action>
			</quit>
		</shutdown>
		<undo_drives>
			<enabled type="boolean">true</enabled>
			<default_action type="integer">0</default_action>
		</undo_drives>
	</settings>
</preferences>
)";

// UTF-8 -> UTF-16LE with a BOM, as Virtual Server stores .vmc files (the
// sample is ASCII, so one unit per byte).
std::string utf16le(std::string_view ascii) {
    std::string out = "\xFF\xFE";
    for (char c : ascii) {
        out += c;
        out += '\0';
    }
    return out;
}

VirtualMachine full_vm() {
    VirtualMachine vm("web01", "/srv/vms/web01/web01.vmc",
                      Guid::parse("{01234567-89AB-4DEF-8123-456789ABCDEF}").value());
    BOOST_REQUIRE(vm.set_memory_mb(768).has_value());
    BOOST_REQUIRE(vm.set_notes("Front end <web> & \"cache\"\nsecond line \xc3\xa9").has_value());
    BOOST_REQUIRE(
        vm.add_hard_disk_connection("/srv/vms/web01/system.vhd", {DriveBusType::Ide, 0, 0}).has_value());
    BOOST_REQUIRE(vm.add_hard_disk_connection("/srv/disks/data.vhd", {DriveBusType::Ide, 0, 1}).has_value());
    // SCSI controllers 0 and 2 (1 removed), 2 shared with ID 6; a disk on each.
    for (int i = 0; i < 3; ++i)
        BOOST_REQUIRE(vm.add_scsi_controller().has_value());
    BOOST_REQUIRE(vm.remove_scsi_controller(1).has_value());
    BOOST_REQUIRE(vm.configure_scsi_controller(2, true, 6).has_value());
    BOOST_REQUIRE(
        vm.add_hard_disk_connection("/srv/disks/scsi0.vhd", {DriveBusType::Scsi, 0, 5}).has_value());
    BOOST_REQUIRE(
        vm.add_hard_disk_connection("/srv/disks/scsi2.vhd", {DriveBusType::Scsi, 2, 0}).has_value());
    vm.hard_disk_connection_at({DriveBusType::Ide, 0, 0})
        .value()
        ->set_undo_disk_path("/srv/vms/web01/system.vud");
    BOOST_REQUIRE(vm.add_dvd_drive({DriveBusType::Ide, 1, 0}).has_value());
    BOOST_REQUIRE(
        vm.dvd_drive_at({DriveBusType::Ide, 1, 0}).value()->attach_image("/srv/iso/debian.iso").has_value());
    BOOST_REQUIRE(vm.add_dvd_drive({DriveBusType::Ide, 1, 1}).has_value());
    BOOST_REQUIRE(vm.dvd_drive_at({DriveBusType::Ide, 1, 1}).value()->attach_host_drive("E").has_value());
    BOOST_REQUIRE(vm.floppy_drive().attach_image("/srv/vms/web01/boot.vfd").has_value());
    BOOST_REQUIRE(vm.add_network_adapter(*MacAddress::parse("00-03-FF-12-34-56")).has_value());
    BOOST_REQUIRE(vm.add_network_adapter(*MacAddress::parse("00-03-FF-65-43-21")).has_value());
    vm.network_adapter(0).value()->attach(
        {Guid::parse("{11111111-2222-4333-8444-555555555555}").value(), "Internal"});
    vm.network_adapter(1).value()->set_ethernet_address_dynamic(false);
    BOOST_REQUIRE(
        vm.serial_port(0).value()->configure(SerialPortType::HostPort, "/dev/ttyS0", true).has_value());
    BOOST_REQUIRE(vm.serial_port(1)
                      .value()
                      ->configure(SerialPortType::TextFile, "/srv/vms/web01/com2.txt", false)
                      .has_value());
    BOOST_REQUIRE(vm.parallel_port().set_name("/dev/parport0").has_value());
    BOOST_REQUIRE(vm.set_autostart(AutoStartType::Always).has_value());
    BOOST_REQUIRE(vm.set_autostart_delay_seconds(30).has_value());
    BOOST_REQUIRE(vm.set_shutdown_action(ShutdownAction::TurnOff).has_value());
    vm.set_was_running_at_quit(true);
    BOOST_REQUIRE(vm.set_undoable(true).has_value());
    BOOST_REQUIRE(vm.set_undo_action(UndoAction::Commit).has_value());
    vm.set_run_as_defined_account(true);
    BOOST_REQUIRE(vm.set_account_name("vsa-runner").has_value());
    BOOST_REQUIRE(vm.set_bios_guid("{AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE}").has_value());
    BOOST_REQUIRE(vm.set_bios_serial_number("1234-5678").has_value());
    BOOST_REQUIRE(vm.set_base_board_serial_number("BB-1").has_value());
    BOOST_REQUIRE(vm.set_chassis_serial_number("CH-1").has_value());
    BOOST_REQUIRE(vm.set_chassis_asset_tag("ASSET-7").has_value());
    BOOST_REQUIRE(vm.set_boot_order({BootDevice::Cdrom, BootDevice::Floppy}).has_value());
    BOOST_REQUIRE(vm.set_num_lock(true).has_value());
    vm.guest_os().set_additions_version("13.820");
    vm.guest_os().set_host_time_sync_enabled(false);
    BOOST_REQUIRE(vm.guest_os().set_heartbeat({120, 20, 15, 3}).has_value());
    return vm;
}

} // namespace

BOOST_AUTO_TEST_SUITE(vmc_file)

BOOST_AUTO_TEST_CASE(every_property_survives_a_round_trip) {
    auto vm = full_vm();
    auto text = serialize_vmc(vm).value();
    BOOST_TEST(text.find("<ram_size type=\"integer\">768</ram_size>") != std::string::npos);
    BOOST_TEST(text.find("<boot_order type=\"string\">cdrom,floppy</boot_order>") != std::string::npos);
    BOOST_TEST(text.find("<num_lock type=\"boolean\">true</num_lock>") != std::string::npos);
    BOOST_TEST(text.find("<relative type=\"string\">.\\system.vhd</relative>") != std::string::npos);
    BOOST_TEST(text.find("<ethernet_card_address type=\"bytes\">0003FF123456</ethernet_card_address>") !=
               std::string::npos);
    BOOST_TEST(text.find("<scsi_id type=\"integer\">6</scsi_id>") != std::string::npos);
    auto back = parse_vmc(text, vm.file());
    BOOST_REQUIRE_MESSAGE(back.has_value(), why(back));
    BOOST_TEST(back.value().same_configuration(vm));
    BOOST_TEST(back.value().scsi_controllers().size() == 2u);
    BOOST_TEST(back.value().scsi_controllers()[1].id == 2);
    BOOST_TEST(back.value().scsi_controllers()[1].bus_shared);
    // Writing what was read changes nothing.
    BOOST_TEST(serialize_vmc(back.value()).value() == text);
}

BOOST_AUTO_TEST_CASE(a_new_vm_round_trips) {
    VirtualMachine vm("blank", "/srv/vms/blank/blank.vmc",
                      Guid::parse("{01234567-89AB-4DEF-8123-456789ABCDEF}").value());
    auto back = parse_vmc(serialize_vmc(vm).value(), vm.file());
    BOOST_REQUIRE_MESSAGE(back.has_value(), why(back));
    BOOST_TEST(back.value().same_configuration(vm));
}

BOOST_AUTO_TEST_CASE(a_virtual_server_file_in_utf16_registers) {
    fs::path file = "/srv/vms/legacy/legacy.vmc";
    auto parsed = parse_vmc(utf16le(VS_SAMPLE), file);
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), why(parsed));
    auto const& vm = parsed.value();
    BOOST_TEST(vm.name() == "legacy");
    BOOST_TEST(vm.config_id().is_null()); // the inventory assigns one
    BOOST_TEST(vm.memory_mb() == 256);
    BOOST_TEST(vm.notes() == "Migrated from the old host & kept <as is>.");
    BOOST_REQUIRE(vm.hard_disk_connections().size() == 1u);
    // The Windows absolute path is useless here; the relative one is taken
    // against the .vmc's folder.
    BOOST_TEST(vm.hard_disk_connections()[0].disk_path() == "/srv/vms/legacy/legacy.vhd");
    BOOST_REQUIRE(vm.dvd_drives().size() == 1u);
    BOOST_TEST((vm.dvd_drives()[0].location() == BusLocation{DriveBusType::Ide, 1, 0}));
    BOOST_TEST((vm.dvd_drives()[0].attachment() == DvdAttachment::HostDrive));
    BOOST_TEST(vm.dvd_drives()[0].host_drive_letter() == "D");
    // No relative twin: the file name in the VM's folder.
    BOOST_TEST(vm.floppy_drive().image_file() == "/srv/vms/legacy/boot.vfd");
    BOOST_REQUIRE(vm.network_adapters().size() == 2u);
    auto const& nic = vm.network_adapters()[0];
    BOOST_TEST(nic.ethernet_address().to_string() == "00-03-FF-4A-1B-2C");
    BOOST_TEST(nic.is_ethernet_address_dynamic());
    BOOST_REQUIRE(nic.virtual_network().has_value());
    BOOST_TEST(nic.virtual_network()->name == "Internal Network");
    BOOST_TEST(nic.virtual_network()->id.to_string() == "{4A7C21E0-5B13-11DC-A1B2-C3D4E5F60718}");
    BOOST_TEST(!vm.network_adapters()[1].virtual_network().has_value());
    BOOST_TEST(vm.undoable());
    BOOST_TEST((vm.undo_action() == UndoAction::Discard));
    BOOST_TEST((vm.shutdown_action() == ShutdownAction::TurnOff));
    BOOST_TEST(vm.bios_guid() == "{6B1E4D2A-0C9F-4E55-9A10-22C3D4E5F607}");
    BOOST_TEST(vm.guest_os().additions_version() == "13.813");

    // Our rewrite keeps the keys we do not model.
    auto text = serialize_vmc(vm).value();
    BOOST_TEST(text.find("<no_boot_disk type=\"boolean\">true</no_boot_disk>") != std::string::npos);
    BOOST_TEST(text.find("<cmos type=\"bytes\">00112233445566778899AABBCCDDEEFF</cmos>") !=
               std::string::npos);
    BOOST_TEST(text.find("<vram_size type=\"integer\">8</vram_size>") != std::string::npos);
    BOOST_TEST(text.find("Microsoft Virtual Machine Options and Settings") != std::string::npos);
    auto again = parse_vmc(text, file);
    BOOST_REQUIRE_MESSAGE(again.has_value(), why(again));
    BOOST_TEST(again.value().same_configuration(vm));
}

BOOST_AUTO_TEST_CASE(values_that_do_not_fit_name_the_file_and_key) {
    auto check = [](std::string const& from, std::string const& to, std::string const& expect) {
        std::string text = VS_SAMPLE;
        auto at = text.find(from);
        BOOST_REQUIRE_MESSAGE(at != std::string::npos, from);
        text.replace(at, from.size(), to);
        auto parsed = parse_vmc(text, "/srv/vms/legacy/legacy.vmc");
        BOOST_REQUIRE_MESSAGE(parsed.is_error(), "accepted: " + to);
        BOOST_TEST(parsed.error().code == hr::VM_E_PREF_ILLEGAL_VALUE, parsed.error().message);
        BOOST_TEST(parsed.error().message.find("legacy.vmc") != std::string::npos, parsed.error().message);
        BOOST_TEST(parsed.error().message.find(expect) != std::string::npos, parsed.error().message);
    };
    check(">256<", ">99999<", "hardware/memory/ram_size");
    check(">256<", ">2<", "out of range");
    check(">256<", ">lots<", "not an integer");
    check(">256<", ">-5<", "hardware/memory/ram_size");
    check(">256<", ">18446744073709551617<", "not an integer");
    check("ram_size type=\"integer\"", "ram_size type=\"string\"", "expected type \"integer\"");
    check("<enabled type=\"boolean\">true", "<enabled type=\"boolean\">maybe", "not a boolean");
    check("0003FF4A1B2C", "0003FF4A1B", "ethernet_card_address");
    check("0003FF4A1B2C", "0003FF4A1B2Z", "not hex");
    check("<controller_count type=\"integer\">2", "<controller_count type=\"integer\">9", "controller_count");
    check("<controller_count type=\"integer\">2", "<controller_count type=\"integer\">3", "is missing");
    check("ide_controller id=\"1\"", "ide_controller id=\"7\"", "ide_controller[@id=7]");
    check("ide_controller id=\"1\"", "ide_controller id=\"x\"", "not a number");
    check("<drive_type type=\"integer\">2", "<drive_type type=\"integer\">5", "drive_type");
    check("ide_controller id=\"1\"", "ide_controller id=\"0\"", "already holds"); // two drives in IDE 0:0
    check("</preferences>", "", "not well-formed");
    check("{6B1E4D2A-0C9F-4E55-9A10-22C3D4E5F607}", "not-a-guid", "bios_guid");
    check("<bios_guid type=\"string\">",
          "<boot_order type=\"string\">disk,tape</boot_order><bios_guid type=\"string\">",
          "hardware/bios/boot_order");
    auto wrong_root = parse_vmc("<settings><notes/></settings>", "/srv/vms/legacy/legacy.vmc");
    BOOST_REQUIRE(wrong_root.is_error());
    BOOST_TEST(wrong_root.error().message.find("expected <preferences>") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(virtual_network_files_round_trip) {
    VirtualNetwork network("Lab Net", "/srv/net/Lab Net.vnc",
                           Guid::parse("{11111111-2222-4333-8444-555555555555}").value());
    BOOST_REQUIRE(network.set_notes("lab & tests").has_value());
    BOOST_REQUIRE(network.set_host_adapter("eth1").has_value());
    auto& dhcp = network.dhcp();
    dhcp.set_enabled(true);
    BOOST_REQUIRE(
        dhcp.configure("172.16.0.0", "255.255.0.0", "172.16.0.16", "172.16.0.200", "172.16.0.1").has_value());
    BOOST_REQUIRE(dhcp.set_default_gateway_address("172.16.0.1").has_value());
    BOOST_REQUIRE(dhcp.set_dns_servers("172.16.0.1,9.9.9.9").has_value());
    BOOST_REQUIRE(dhcp.configure_lease_times(7200, 3600, 6300).has_value());
    auto text = serialize_vnc(network).value();
    auto back = parse_vnc(text, network.file());
    BOOST_REQUIRE_MESSAGE(back.has_value(), why(back));
    BOOST_TEST(back.value().same_configuration(network));
    BOOST_TEST(serialize_vnc(back.value()).value() == text);

    auto bad = text;
    bad.replace(bad.find("172.16.0.200"), 12, "172.17.0.200");
    auto refused = parse_vnc(bad, network.file());
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(refused.error().message.find("dhcp_server") != std::string::npos, refused.error().message);
}

BOOST_AUTO_TEST_CASE(server_options_round_trip) {
    ServerOptions options;
    options.default_vm_path = "/srv/vms";
    options.default_vn_path = "/srv/net";
    options.search_paths = {"/srv/iso", "/srv/disks"};
    options.virtual_machines = {"/srv/vms/a/a.vmc", "/srv/vms/b/b.vmc"};
    options.virtual_networks = {"/srv/net/Internal.vnc"};
    auto text = serialize_server_options(options).value();
    auto back = parse_server_options(text, "/var/lib/vsa/options.xml");
    BOOST_REQUIRE_MESSAGE(back.has_value(), why(back));
    BOOST_TEST(back.value().same_settings(options));
    auto relative = text;
    relative.replace(relative.find("/srv/iso"), 8, "srv/iso");
    auto refused = parse_server_options(relative, "/var/lib/vsa/options.xml");
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(refused.error().message.find("search_paths/path[@id=0]") != std::string::npos,
               refused.error().message);
}

BOOST_AUTO_TEST_CASE(files_are_read_from_and_written_to_disk) {
    vsa::test::TempDir dir;
    auto vm = full_vm();
    vm.set_file(dir.path() / "web01.vmc");
    BOOST_REQUIRE(write_vmc(vm).has_value());
    auto back = read_vmc(dir.path() / "web01.vmc");
    BOOST_REQUIRE_MESSAGE(back.has_value(), why(back));
    BOOST_TEST(back.value().same_configuration(vm));
    auto missing = read_vmc(dir.path() / "none.vmc");
    BOOST_REQUIRE(missing.is_error());
    BOOST_TEST(missing.error().code == hr::E_FILE_NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(host_drive_ids_are_stored_with_their_attachment_type) {
    VirtualMachine vm("media", "/srv/vms/media/media.vmc",
                      Guid::parse("{01234567-89AB-4DEF-8123-456789ABCDEF}").value());
    BOOST_REQUIRE(vm.add_dvd_drive({DriveBusType::Ide, 0, 1}).has_value());
    BOOST_REQUIRE(vm.add_dvd_drive({DriveBusType::Ide, 1, 0}).has_value());
    BOOST_REQUIRE(vm.add_dvd_drive({DriveBusType::Ide, 1, 1}).has_value());
    BOOST_REQUIRE(vm.dvd_drive_at({DriveBusType::Ide, 0, 1}).value()->attach_host_drive("sr0").has_value());
    // An image whose file name could pass for an id stays an image.
    BOOST_REQUIRE(
        vm.dvd_drive_at({DriveBusType::Ide, 1, 0}).value()->attach_image("/srv/vms/media/E").has_value());
    auto text = serialize_vmc(vm).value();
    BOOST_TEST(text.find("<attachment type=\"integer\">2</attachment>") != std::string::npos, text);
    BOOST_TEST(text.find("<attachment type=\"integer\">1</attachment>") != std::string::npos, text);
    BOOST_TEST(text.find("<attachment type=\"integer\">0</attachment>") != std::string::npos, text);
    auto back = parse_vmc(text, vm.file());
    BOOST_REQUIRE_MESSAGE(back.has_value(), why(back));
    BOOST_TEST(back.value().same_configuration(vm));
    auto const& drives = back.value().dvd_drives();
    BOOST_REQUIRE(drives.size() == 3u);
    BOOST_TEST((drives[0].attachment() == DvdAttachment::HostDrive));
    BOOST_TEST(drives[0].host_drive_letter() == "sr0");
    BOOST_TEST((drives[1].attachment() == DvdAttachment::Image));
    BOOST_TEST(drives[1].image_file() == "/srv/vms/media/E");
    BOOST_TEST((drives[2].attachment() == DvdAttachment::None));
    // A type out of range, or an id that is a path, names the key.
    auto bad = text;
    bad.replace(bad.find(">2</attachment>"), 2, ">7");
    auto refused = parse_vmc(bad, vm.file());
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(refused.error().message.find("attachment") != std::string::npos, refused.error().message);
    bad = text;
    bad.replace(bad.find(">sr0<"), 5, ">/dev/sda<");
    refused = parse_vmc(bad, vm.file());
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(refused.error().code == hr::VM_E_PREF_ILLEGAL_VALUE, refused.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
