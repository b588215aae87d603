// SPDX-License-Identifier: GPL-2.0-or-later
// The configuration model's validation: every refusal carries the HRESULT
// of vs-api.md and leaves the object as it was.
#include "services/model/dhcp_settings.h"
#include "services/model/mac_address.h"
#include "services/model/names.h"
#include "services/model/virtual_machine.h"
#include "services/model/virtual_network.h"

#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

using namespace vsa::services;

namespace {

VirtualMachine make_vm() {
    return VirtualMachine("web01", "/srv/vms/web01/web01.vmc",
                          Guid::parse("{01234567-89AB-4DEF-8123-456789ABCDEF}").value());
}

template <typename T>
HResult code_of(ServiceResult<T> const& result) {
    BOOST_REQUIRE(result.is_error());
    return result.error().code;
}

BusLocation ide(int bus, int device) {
    return {DriveBusType::Ide, bus, device};
}

} // namespace

BOOST_AUTO_TEST_SUITE(vm_model)

BOOST_AUTO_TEST_CASE(names_follow_virtual_servers_rules) {
    BOOST_TEST(validate_object_name("Web Server 01").has_value());
    BOOST_TEST(validate_object_name("Serveur \xc3\xa9t\xc3\xa9").has_value()); // UTF-8
    BOOST_TEST(code_of(validate_object_name("")) == hr::VM_E_CONFIG_NO_NAME);
    for (char bad : std::string("*?:<>/|\\\""))
        BOOST_TEST(code_of(validate_object_name(std::string("a") + bad + "b")) ==
                   hr::VM_E_CONFIG_NAME_INVALID_CHAR);
    BOOST_TEST(code_of(validate_object_name("a\tb")) == hr::VM_E_CONFIG_NAME_INVALID_CHAR);
    BOOST_TEST(code_of(validate_object_name("..")) == hr::VM_E_CONFIG_NAME_INVALID_CHAR);
    BOOST_TEST(code_of(validate_object_name("\xc3")) == hr::VM_E_CONFIG_NAME_INVALID_CHAR);
    BOOST_TEST(code_of(validate_object_name("\xed\xa0\x80")) ==
               hr::VM_E_CONFIG_NAME_INVALID_CHAR); // surrogate
    BOOST_TEST(validate_object_name(std::string(250, 'a')).has_value());
    BOOST_TEST(code_of(validate_object_name(std::string(251, 'a'))) == hr::VM_E_CONFIG_NAME_TOO_LONG);
    BOOST_TEST(names_equal("MyVM", "myvm"));
    BOOST_TEST(!names_equal("MyVM", "MyVM2"));
}

BOOST_AUTO_TEST_CASE(memory_limits_and_state) {
    auto vm = make_vm();
    BOOST_TEST(vm.memory_mb() == DEFAULT_MEMORY_MB);
    BOOST_TEST(vm.set_memory_mb(4).has_value());
    BOOST_TEST(vm.set_memory_mb(3712).has_value());
    BOOST_TEST(code_of(vm.set_memory_mb(3)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.set_memory_mb(3713)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.set_memory_mb(-1)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.set_memory_mb(1LL << 40)) == hr::E_INVALIDARG);
    BOOST_TEST(vm.memory_mb() == 3712);
    vm.set_state(VmState::Running);
    BOOST_TEST(code_of(vm.set_memory_mb(512)) == hr::VM_E_VM_RUNNING);
    vm.set_state(VmState::Saved);
    BOOST_TEST(code_of(vm.set_memory_mb(512)) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(vm.set_memory_mb(3712).has_value()); // no change is no change
    BOOST_TEST(vm.memory_mb() == 3712);
}

BOOST_AUTO_TEST_CASE(ide_slots_hold_one_drive_each) {
    auto vm = make_vm();
    BOOST_TEST(vm.add_hard_disk_connection("/srv/vms/web01/disk0.vhd", ide(0, 0)).has_value());
    BOOST_TEST(vm.add_dvd_drive(ide(1, 0)).has_value());
    BOOST_TEST(code_of(vm.add_hard_disk_connection("/srv/vms/web01/disk1.vhd", ide(0, 0))) ==
               hr::VM_E_DRIVE_BUS_LOC_IN_USE);
    BOOST_TEST(code_of(vm.add_dvd_drive(ide(0, 0))) == hr::VM_E_DRIVE_BUS_LOC_IN_USE);
    BOOST_TEST(code_of(vm.add_hard_disk_connection("/srv/vms/web01/disk0.vhd", ide(0, 1))) ==
               hr::E_SHARING_VIOLATION);
    BOOST_TEST(code_of(vm.add_hard_disk_connection("relative.vhd", ide(0, 1))) == hr::E_BAD_PATHNAME);
    BOOST_TEST(code_of(vm.add_hard_disk_connection("/x.vhd", ide(2, 0))) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.add_hard_disk_connection("/x.vhd", ide(0, -1))) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.add_hard_disk_connection("/x.vhd", {DriveBusType::Scsi, 0, 0})) ==
               hr::E_INVALIDARG); // no SCSI controller 0
    BOOST_TEST(code_of(vm.add_dvd_drive({DriveBusType::Scsi, 0, 0})) == hr::E_INVALIDARG);
    BOOST_TEST(vm.hard_disk_connections().size() == 1u);
    BOOST_TEST(vm.dvd_drives().size() == 1u);
    BOOST_TEST((vm.drive_type_at(ide(1, 0)) == DriveType::Dvd));
    BOOST_TEST((vm.drive_type_at(ide(1, 1)) == DriveType::Null));

    BOOST_TEST(code_of(vm.move_hard_disk_connection(ide(0, 0), ide(1, 0))) == hr::VM_E_DRIVE_BUS_LOC_IN_USE);
    BOOST_TEST(vm.move_hard_disk_connection(ide(0, 0), ide(1, 1)).has_value());
    BOOST_TEST((vm.drive_type_at(ide(1, 1)) == DriveType::HardDisk));
    BOOST_TEST(code_of(vm.remove_hard_disk_connection(ide(0, 0))) == hr::VM_E_DRIVE_INVALID);

    vm.set_state(VmState::Running);
    BOOST_TEST(code_of(vm.add_dvd_drive(ide(0, 0))) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(vm.remove_hard_disk_connection(ide(1, 1))) == hr::VM_E_VM_RUNNING);
    // Media changes while running.
    auto* dvd = vm.dvd_drive_at(ide(1, 0)).value();
    BOOST_TEST(dvd->attach_image("/srv/iso/debian.iso").has_value());
    BOOST_TEST((dvd->attachment() == DvdAttachment::Image));
    BOOST_TEST(code_of(dvd->attach_host_drive("D")) == hr::VM_E_DRIVE_IN_USE);
    BOOST_TEST(code_of(dvd->release_host_drive()) == hr::VM_E_MEDIA_WRONG_TYPE);
    BOOST_TEST(dvd->release_image().has_value());
    // Host drive ids: a letter or a name, never a path.
    for (auto bad : {"", "/dev/sr0", "../sr0", "sr 0", "sr0:", "a.b", "x123456789012345678901234567890123"})
        BOOST_TEST(code_of(dvd->attach_host_drive(bad)) == hr::E_INVALIDARG, bad);
    BOOST_TEST(dvd->attach_host_drive("e:").has_value());
    BOOST_TEST(dvd->host_drive_letter() == "E");
    BOOST_TEST(code_of(dvd->release_image()) == hr::VM_E_MEDIA_WRONG_TYPE);
    BOOST_TEST(code_of(dvd->attach_host_drive("sr0")) == hr::VM_E_DRIVE_IN_USE);
    BOOST_TEST(dvd->release_host_drive().has_value());
    BOOST_TEST(dvd->attach_host_drive("sr10").has_value());
    BOOST_TEST(dvd->host_drive_letter() == "sr10");
    BOOST_TEST(code_of(dvd->attach_image("/srv/iso/debian.iso")) == hr::VM_E_DRIVE_IN_USE);
    BOOST_TEST(dvd->release_host_drive().has_value());
    BOOST_TEST((dvd->attachment() == DvdAttachment::None));
    BOOST_TEST(dvd->release_host_drive().has_value()); // nothing captured: S_OK
}

BOOST_AUTO_TEST_CASE(the_floppy_drive_swaps_images) {
    auto vm = make_vm();
    auto& floppy = vm.floppy_drive();
    BOOST_TEST(code_of(floppy.release_image()) == hr::VM_E_NO_MEDIA_CAPTURED);
    BOOST_TEST(floppy.attach_image("/srv/fd/a.vfd").has_value());
    BOOST_TEST(floppy.attach_image("/srv/fd/b.vfd").has_value());
    BOOST_TEST(floppy.image_file() == "/srv/fd/b.vfd");
    BOOST_TEST(code_of(floppy.attach_host_drive("A")) == hr::VM_E_MEDIA_WRONG_TYPE);
    BOOST_TEST(code_of(floppy.release_host_drive()) == hr::VM_E_MEDIA_WRONG_TYPE);
    BOOST_TEST(floppy.release_image().has_value());
    BOOST_TEST((floppy.attachment() == FloppyAttachment::None));
}

BOOST_AUTO_TEST_CASE(network_adapters_and_mac_addresses) {
    auto vm = make_vm();
    std::mt19937_64 random(42);
    for (int i = 0; i < 4; ++i) {
        auto mac = MacAddress::generate_dynamic(random);
        BOOST_TEST(mac.to_string().starts_with("00-03-FF-"));
        BOOST_TEST(mac.is_assignable());
        BOOST_TEST(vm.add_network_adapter(mac).value() == i);
    }
    BOOST_TEST(code_of(vm.add_network_adapter(MacAddress::generate_dynamic(random))) == hr::E_FAIL);
    auto* nic = vm.network_adapter(2).value();
    BOOST_TEST(nic->is_ethernet_address_dynamic());
    BOOST_TEST(code_of(nic->set_ethernet_address("00-11-22-33-44-55")) ==
               hr::VM_E_CANT_SET_DYNAMIC_MAC_ADDRESS);
    nic->set_ethernet_address_dynamic(false);
    BOOST_TEST(nic->set_ethernet_address("00-11-22-33-44-55").has_value());
    BOOST_TEST(nic->ethernet_address().to_string() == "00-11-22-33-44-55");
    BOOST_TEST(code_of(nic->set_ethernet_address("00-00-00-00-00-00")) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(nic->set_ethernet_address("01-00-5E-00-00-01")) == hr::E_INVALIDARG); // multicast
    BOOST_TEST(code_of(nic->set_ethernet_address("00-11-22-33-44")) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(nic->set_ethernet_address("00-11-22-33-44-GG")) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(nic->set_ethernet_address("00-11:22-33-44-55")) == hr::E_INVALIDARG);
    BOOST_TEST(nic->ethernet_address().to_string() == "00-11-22-33-44-55");
    // Removing renumbers the rest so ids stay 0..n-1.
    BOOST_TEST(vm.remove_network_adapter(1).has_value());
    BOOST_TEST(vm.network_adapters().size() == 3u);
    BOOST_TEST(vm.network_adapters()[1].ethernet_address().to_string() == "00-11-22-33-44-55");
    BOOST_TEST(vm.network_adapters()[1].id() == 1);
    BOOST_TEST(code_of(vm.remove_network_adapter(3)) == hr::E_INVALIDARG);
}

BOOST_AUTO_TEST_CASE(ports_policies_and_smbios) {
    auto vm = make_vm();
    auto* com1 = vm.serial_port(0).value();
    BOOST_TEST(com1->configure(SerialPortType::TextFile, "/srv/vms/web01/com1.txt", true).has_value());
    BOOST_TEST(!com1->connect_immediately()); // host ports only
    BOOST_TEST(code_of(com1->configure(SerialPortType::NamedPipe, "", false)) == hr::E_INVALIDARG);
    BOOST_TEST(com1->name() == "/srv/vms/web01/com1.txt");
    BOOST_TEST(code_of(vm.serial_port(2)) == hr::DISP_E_BADINDEX);
    BOOST_TEST(code_of(vm.parallel_port().set_name("LPT2")) == hr::E_INVALIDARG);
    BOOST_TEST(vm.parallel_port().set_name("/dev/parport0").has_value());

    BOOST_TEST(code_of(vm.set_autostart(static_cast<AutoStartType>(7))) == hr::E_INVALIDARG);
    BOOST_TEST(vm.set_autostart(AutoStartType::Always).has_value());
    BOOST_TEST(code_of(vm.set_shutdown_action(static_cast<ShutdownAction>(-1))) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.set_autostart_delay_seconds(-5)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.set_notes(std::string(40'001, 'n'))) == hr::E_INVALIDARG);
    BOOST_TEST(vm.set_notes(std::string(40'000, 'n')).has_value());

    BOOST_TEST(vm.set_bios_guid("{01234567-89ab-cdef-0123-456789abcdef}").has_value());
    BOOST_TEST(vm.bios_guid() == "{01234567-89AB-CDEF-0123-456789ABCDEF}");
    BOOST_TEST(code_of(vm.set_bios_guid("01234567")) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.set_bios_serial_number(std::string(33, '1'))) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.set_chassis_asset_tag("tag\x01")) == hr::E_INVALIDARG);
    BOOST_TEST(vm.set_chassis_asset_tag("ASSET-42").has_value());
    vm.set_state(VmState::Running);
    BOOST_TEST(code_of(vm.set_chassis_asset_tag("ASSET-43")) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(vm.set_undoable(true)) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(vm.set_host_time_sync_enabled(false)) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(vm.set_undo_action(UndoAction::Commit).has_value()); // any state
    BOOST_TEST(vm.chassis_asset_tag() == "ASSET-42");
}

BOOST_AUTO_TEST_CASE(dhcp_settings_follow_configure_dhcp_server) {
    VirtualNetwork network("Internal", "/srv/net/Internal.vnc", Guid{});
    auto& dhcp = network.dhcp();
    BOOST_TEST(!dhcp.is_enabled());
    BOOST_TEST(
        dhcp.configure("192.168.77.0", "255.255.255.0", "192.168.77.16", "192.168.77.254", "192.168.77.1")
            .has_value());
    BOOST_TEST(code_of(dhcp.configure("192.168.77", "255.255.255.0", "192.168.77.16", "192.168.77.254",
                                      "192.168.77.1")) == hr::VM_E_INVALID_IP_ADDRESS);
    BOOST_TEST(code_of(dhcp.configure("224.0.0.0", "255.255.255.0", "224.0.0.16", "224.0.0.254",
                                      "224.0.0.1")) == hr::VM_E_INVALID_NETWORK_ADDRESS);
    BOOST_TEST(code_of(dhcp.configure("192.168.77.0", "255.255.0.0", "192.168.77.16", "192.168.77.254",
                                      "192.168.77.1")) ==
               hr::VM_E_INVALID_NETWORK_MASK); // shorter than class C
    BOOST_TEST(code_of(dhcp.configure("10.0.0.0", "255.0.255.0", "10.0.0.16", "10.0.0.254", "10.0.0.1")) ==
               hr::VM_E_INVALID_NETWORK_MASK);
    BOOST_TEST(code_of(dhcp.configure("10.0.0.1", "255.255.255.0", "10.0.0.16", "10.0.0.254", "10.0.0.2")) ==
               hr::VM_E_INVALID_NETWORK_ADDRESS);
    BOOST_TEST(code_of(dhcp.configure("10.0.0.0", "255.255.255.0", "10.0.0.10", "10.0.0.254", "10.0.0.1")) ==
               hr::VM_E_INVALID_STARTING_ADDRESS); // among the 15 reserved
    BOOST_TEST(code_of(dhcp.configure("10.0.0.0", "255.255.255.0", "10.0.0.16", "10.0.0.255", "10.0.0.1")) ==
               hr::VM_E_INVALID_ENDING_ADDRESS);
    BOOST_TEST(code_of(dhcp.configure("10.0.0.0", "255.255.255.0", "10.0.0.100", "10.0.0.50", "10.0.0.1")) ==
               hr::VM_E_INVALID_ADDRESS_RANGE);
    BOOST_TEST(
        code_of(dhcp.configure("10.0.0.0", "255.255.255.0", "10.0.0.16", "10.0.0.200", "10.0.0.201")) ==
        hr::VM_E_INVALID_IP_ADDRESS);             // server inside the pool
    BOOST_TEST(dhcp.network() == "192.168.77.0"); // the refusals changed nothing
    BOOST_TEST(dhcp.set_dns_servers("192.168.77.1, 8.8.8.8").has_value());
    BOOST_TEST(dhcp.dns_servers() == "192.168.77.1,8.8.8.8");
    BOOST_TEST(code_of(dhcp.set_dns_servers("1.2.3.4,")) == hr::VM_E_INVALID_IP_ADDRESS);
    BOOST_TEST(code_of(dhcp.set_dns_servers("01.2.3.4")) == hr::VM_E_INVALID_IP_ADDRESS);
    BOOST_TEST(code_of(dhcp.configure_lease_times(100, 60, 50)) == hr::E_INVALIDARG);
    BOOST_TEST(dhcp.configure_lease_times(3600, 1800, 3000).has_value());
    BOOST_TEST(code_of(network.set_host_adapter("eth0; rm -rf /")) == hr::E_INVALIDARG);
    BOOST_TEST(network.set_host_adapter("enp3s0").has_value());
}

BOOST_AUTO_TEST_CASE(boot_order_text_and_num_lock) {
    auto order = parse_boot_order(" cdrom , floppy");
    BOOST_REQUIRE(order.has_value());
    BOOST_TEST((order.value() == std::vector<BootDevice>{BootDevice::Cdrom, BootDevice::Floppy}));
    BOOST_TEST(format_boot_order(order.value()) == "cdrom,floppy");
    BOOST_TEST(code_of(parse_boot_order("")) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(parse_boot_order("disk,disk")) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(parse_boot_order("disk,network")) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(parse_boot_order("disk,")) == hr::E_INVALIDARG);

    VirtualMachine vm("bios", "/srv/vms/bios/bios.vmc",
                      Guid::parse("{01234567-89AB-4DEF-8123-456789ABCDEF}").value());
    BOOST_TEST(format_boot_order(vm.bios().boot_order) == "disk,cdrom,floppy");
    BOOST_TEST(!vm.bios().num_lock);
    BOOST_TEST(vm.set_boot_order({BootDevice::Floppy}).has_value());
    BOOST_TEST(vm.set_num_lock(true).has_value());
    BOOST_TEST(code_of(vm.set_boot_order({})) == hr::E_INVALIDARG);
    vm.set_state(VmState::Running);
    BOOST_TEST(code_of(vm.set_num_lock(false)) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(vm.set_boot_order({BootDevice::Disk})) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(vm.set_num_lock(true).has_value()); // no change
}

BOOST_AUTO_TEST_CASE(scsi_controllers_and_locations) {
    VirtualMachine vm("scsi", "/srv/vms/scsi/scsi.vmc",
                      Guid::parse("{01234567-89AB-4DEF-8123-456789ABCDEF}").value());
    using L = BusLocation;
    BOOST_TEST(code_of(vm.add_hard_disk_connection("/d/a.vhd", L{DriveBusType::Scsi, 0, 0})) ==
               hr::E_INVALIDARG);
    BOOST_TEST(vm.add_scsi_controller().value() == 0);
    BOOST_TEST(vm.add_scsi_controller().value() == 1);
    BOOST_TEST(vm.add_hard_disk_connection("/d/a.vhd", L{DriveBusType::Scsi, 0, 6}).has_value());
    BOOST_TEST(code_of(vm.add_hard_disk_connection("/d/b.vhd", L{DriveBusType::Scsi, 0, 7})) ==
               hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.add_hard_disk_connection("/d/b.vhd", L{DriveBusType::Scsi, 0, 6})) ==
               hr::VM_E_DRIVE_BUS_LOC_IN_USE);
    // ID 6 would be the disk's; the disk must move first.
    BOOST_TEST(code_of(vm.configure_scsi_controller(0, false, 6)) == hr::VM_E_DRIVE_BUS_LOC_IN_USE);
    BOOST_TEST(code_of(vm.configure_scsi_controller(0, false, 5)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(vm.configure_scsi_controller(3, false, 7)) == hr::VM_E_PREF_NOT_FOUND);
    BOOST_TEST(
        vm.move_hard_disk_connection(L{DriveBusType::Scsi, 0, 6}, L{DriveBusType::Scsi, 1, 0}).has_value());
    BOOST_TEST(vm.configure_scsi_controller(1, true, 6).has_value());
    BOOST_TEST(
        code_of(vm.move_hard_disk_connection(L{DriveBusType::Scsi, 1, 0}, L{DriveBusType::Scsi, 1, 1})) ==
        hr::E_INVALIDARG); // a shared bus: device 0 only
    BOOST_TEST(code_of(vm.remove_scsi_controller(1)) == hr::VM_E_DRIVE_BUS_LOC_IN_USE);
    BOOST_TEST(vm.remove_scsi_controller(0).has_value());
    BOOST_TEST(code_of(vm.remove_scsi_controller(0)) == hr::VM_E_PREF_NOT_FOUND);
    BOOST_TEST(vm.add_scsi_controller().value() == 0); // the lowest free number
    BOOST_TEST(vm.add_scsi_controller().value() == 2);
    BOOST_TEST(vm.add_scsi_controller().value() == 3);
    BOOST_TEST(code_of(vm.add_scsi_controller()) == hr::E_FAIL);
    vm.set_state(VmState::Running);
    BOOST_TEST(code_of(vm.remove_scsi_controller(3)) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(vm.configure_scsi_controller(3, true, 6)) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(vm.configure_scsi_controller(3, false, 7).has_value()); // no change
}

BOOST_AUTO_TEST_SUITE_END()
