// SPDX-License-Identifier: GPL-2.0-or-later
// COM and LPT port settings (services/model/serial_port.h, parallel_port.h,
// VirtualMachine's port changes) and host floppy drive letters
// (services/host_floppy_drives.h): which Names each type takes, how they
// are normalized, what the worker is told, conflicts and the VM's state.
#include "services/host_floppy_drives.h"
#include "services/model/virtual_machine.h"
#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
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

SerialPort configured(SerialPortType type, std::string name, bool immediate = false) {
    SerialPort port(0);
    auto done = port.configure(type, std::move(name), immediate);
    BOOST_REQUIRE_MESSAGE(done.has_value(), (done.is_error() ? done.error().message : ""));
    return port;
}

} // namespace

BOOST_AUTO_TEST_SUITE(port_settings)

BOOST_AUTO_TEST_CASE(tcp_targets) {
    auto t = parse_tcp_target("tcp:127.0.0.1:4555");
    BOOST_REQUIRE(t.has_value());
    BOOST_TEST(t->host == "127.0.0.1");
    BOOST_TEST(t->port == 4555);
    BOOST_TEST(parse_tcp_target("tcp:[::1]:23").value().host == "[::1]");
    BOOST_TEST(parse_tcp_target("tcp:localhost:65535").value().port == 65535);
    BOOST_TEST(parse_tcp_target("tcp:0.0.0.0:1").has_value());
    for (char const* bad : {"tcp:127.0.0.1:0", "tcp:127.0.0.1:65536", "tcp:127.0.0.1:", "tcp:127.0.0.1",
                            "tcp::80", "tcp:1.2.3:80", "tcp:example.com:80", "tcp:[::1:80",
                            "tcp:[nonsense]:80", "tcp:127.0.0.1:8x", "tcp:127.0.0.1:-1", "udp:127.0.0.1:80",
                            "127.0.0.1:80", "tcp:127.0.0.1:80 ", "tcp:1.2.3.4:99999999999"})
        BOOST_TEST(!parse_tcp_target(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(host_serial_devices) {
    BOOST_TEST(host_serial_device("COM1").value() == "/dev/ttyS0");
    BOOST_TEST(host_serial_device("com4").value() == "/dev/ttyS3");
    BOOST_TEST(host_serial_device("/dev/ttyS12").value() == "/dev/ttyS12");
    BOOST_TEST(host_serial_device("/dev/ttyUSB0").value() == "/dev/ttyUSB0");
    BOOST_TEST(host_serial_device("/dev/ttyACM3").value() == "/dev/ttyACM3");
    for (char const* bad : {"COM0", "COM5", "COM10", "COM", "/dev/tty", "/dev/ttyS", "/dev/sda",
                            "/dev/ttyS0/x", "/dev/ttyS../x", "/etc/passwd", "ttyS0", ""})
        BOOST_TEST(!host_serial_device(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(each_type_takes_its_names) {
    // Host ports: normalized, ConnectImmediately kept.
    auto host = configured(SerialPortType::HostPort, "com2", true);
    BOOST_TEST(host.name() == "COM2");
    BOOST_TEST(host.connect_immediately());
    BOOST_TEST(worker_serial_spec(host) == "tty:/dev/ttyS1");
    BOOST_TEST(!serial_port_file(host).has_value());
    BOOST_TEST(worker_serial_spec(configured(SerialPortType::HostPort, "/dev/ttyUSB1")) ==
               "tty:/dev/ttyUSB1");
    // Text files: appended; ConnectImmediately is for host ports only.
    auto text = configured(SerialPortType::TextFile, "/srv/vms/web01/com1.txt", true);
    BOOST_TEST(!text.connect_immediately());
    BOOST_TEST(worker_serial_spec(text) == "append:/srv/vms/web01/com1.txt");
    BOOST_TEST(serial_port_file(text).value() == "/srv/vms/web01/com1.txt");
    // Named pipes: FIFOs at a path, or a TCP socket.
    auto pipe = configured(SerialPortType::NamedPipe, "/srv/vms/web01/com1");
    BOOST_TEST(worker_serial_spec(pipe) == "pipe:/srv/vms/web01/com1");
    BOOST_TEST(serial_port_file(pipe).value() == "/srv/vms/web01/com1");
    auto tcp = configured(SerialPortType::NamedPipe, "tcp:127.0.0.1:4555");
    BOOST_TEST(worker_serial_spec(tcp) == "tcp:127.0.0.1:4555");
    BOOST_TEST(!serial_port_file(tcp).has_value());
    // Null drops the name.
    auto null = configured(SerialPortType::Null, "whatever");
    BOOST_TEST(null.name() == "");
    BOOST_TEST(worker_serial_spec(null) == "none");

    SerialPort port(1);
    BOOST_TEST(code_of(port.configure(static_cast<SerialPortType>(4), "", false)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(port.configure(static_cast<SerialPortType>(-1), "", false)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(port.configure(SerialPortType::HostPort, "COM9", false)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(port.configure(SerialPortType::HostPort, "/srv/x.txt", false)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(port.configure(SerialPortType::TextFile, "com1.txt", false)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(port.configure(SerialPortType::TextFile, "", false)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(port.configure(SerialPortType::TextFile, std::string("/a\0b", 4), false)) ==
               hr::E_INVALIDARG);
    BOOST_TEST(code_of(port.configure(SerialPortType::NamedPipe, "\\\\.\\pipe\\com1", false)) ==
               hr::E_INVALIDARG);
    BOOST_TEST(code_of(port.configure(SerialPortType::NamedPipe, "tcp:127.0.0.1:0", false)) ==
               hr::E_INVALIDARG);
    BOOST_TEST(code_of(port.configure(SerialPortType::NamedPipe, "pipe", false)) == hr::E_INVALIDARG);
    // A refused configuration leaves the port as it was.
    BOOST_TEST(static_cast<int>(port.type()) == static_cast<int>(SerialPortType::Null));
    BOOST_TEST(port.name() == "");
}

BOOST_AUTO_TEST_CASE(parallel_port_names) {
    ParallelPort lpt;
    BOOST_TEST(!lpt.output_file("/srv/vms/web01", "web01").has_value());
    BOOST_TEST(lpt.set_name("lpt1").has_value());
    BOOST_TEST(lpt.name() == "LPT1");
    BOOST_TEST(lpt.output_file("/srv/vms/web01", "web01").value() ==
               fs::path("/srv/vms/web01/web01.lpt1.txt"));
    BOOST_TEST(lpt.set_name("/srv/print.txt").has_value());
    BOOST_TEST(lpt.output_file("/srv/vms/web01", "web01").value() == fs::path("/srv/print.txt"));
    for (char const* bad : {"LPT2", "LPT", "PRN", "print.txt", "LPT1:"})
        BOOST_TEST(code_of(lpt.set_name(bad)) == hr::E_INVALIDARG, bad);
    BOOST_TEST(lpt.name() == "/srv/print.txt");
    BOOST_TEST(lpt.set_name("").has_value());
    BOOST_TEST(!lpt.output_file("/srv/vms/web01", "web01").has_value());
}

BOOST_AUTO_TEST_CASE(vm_ports_conflict_and_need_the_vm_off) {
    auto vm = make_vm();
    BOOST_TEST(
        vm.configure_serial_port(0, SerialPortType::NamedPipe, "tcp:127.0.0.1:4555", false).has_value());
    // The same TCP port on another address cannot be bound twice.
    BOOST_TEST(code_of(vm.configure_serial_port(1, SerialPortType::NamedPipe, "tcp:0.0.0.0:4555", false)) ==
               hr::VM_E_PREF_ILLEGAL_VALUE);
    BOOST_TEST(vm.configure_serial_port(1, SerialPortType::HostPort, "COM1", false).has_value());
    // COM1 and /dev/ttyS0 are one device.
    BOOST_TEST(code_of(vm.configure_serial_port(0, SerialPortType::HostPort, "/dev/ttyS0", false)) ==
               hr::VM_E_PREF_ILLEGAL_VALUE);
    BOOST_TEST(code_of(vm.configure_serial_port(2, SerialPortType::Null, "", false)) == hr::DISP_E_BADINDEX);
    // LPT1's file against a COM port's text file, both ways.
    BOOST_TEST(vm.configure_serial_port(1, SerialPortType::TextFile, "/srv/vms/web01/web01.lpt1.txt", false)
                   .has_value());
    BOOST_TEST(code_of(vm.set_parallel_port_name("LPT1")) == hr::VM_E_PREF_ILLEGAL_VALUE);
    BOOST_TEST(vm.set_parallel_port_name("/srv/vms/web01/printer.txt").has_value());
    BOOST_TEST(code_of(vm.configure_serial_port(0, SerialPortType::TextFile, "/srv/vms/web01/printer.txt",
                                                false)) == hr::VM_E_PREF_ILLEGAL_VALUE);
    BOOST_TEST(vm.serial_ports()[0].name() == "tcp:127.0.0.1:4555");

    // Running or saved: refused, unless nothing changes.
    for (auto state : {VmState::Running, VmState::Paused, VmState::Saved}) {
        vm.set_state(state);
        BOOST_TEST(code_of(vm.configure_serial_port(0, SerialPortType::Null, "", false)) ==
                   hr::VM_E_VM_RUNNING);
        BOOST_TEST(code_of(vm.set_parallel_port_name("")) == hr::VM_E_VM_RUNNING);
        BOOST_TEST(
            vm.configure_serial_port(0, SerialPortType::NamedPipe, "tcp:127.0.0.1:4555", false).has_value());
        BOOST_TEST(vm.set_parallel_port_name("/srv/vms/web01/printer.txt").has_value());
    }
    vm.set_state(VmState::TurnedOff);
    BOOST_TEST(vm.configure_serial_port(0, SerialPortType::Null, "", false).has_value());
}

BOOST_AUTO_TEST_CASE(floppy_drive_letters) {
    BOOST_TEST(normalize_floppy_drive_id("A").value() == "fd0");
    BOOST_TEST(normalize_floppy_drive_id("a:").value() == "fd0");
    BOOST_TEST(normalize_floppy_drive_id("B").value() == "fd1");
    BOOST_TEST(normalize_floppy_drive_id("fd3").value() == "fd3");
    BOOST_TEST(normalize_floppy_drive_id("/dev/fd1").value() == "fd1");
    for (char const* bad : {"", "C", "fd8", "fd", "fd00", "/dev/sda", "/dev/fd0/..", "sr0"})
        BOOST_TEST(!normalize_floppy_drive_id(bad).has_value(), bad);

    vsa::test::TempDir root;
    BOOST_TEST(host_floppy_drive_ids(root.path()).empty());
    BOOST_TEST(code_of(find_host_floppy_drive("A", root.path())) == hr::VM_E_HOST_FLOPPY_CAPTURE_FAIL);
    BOOST_TEST(code_of(find_host_floppy_drive("", root.path())) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(find_host_floppy_drive("Q", root.path())) == hr::E_INVALIDARG);
    for (char const* name : {"fd1", "sda", "sr0", "fd9"})
        fs::create_directories(root.path() / "sys/block" / name);
    BOOST_TEST(host_floppy_drive_ids(root.path()) == std::vector<std::string>{"fd1"},
               boost::test_tools::per_element());
    BOOST_TEST(find_host_floppy_drive("b:", root.path()).value() == "fd1");
    auto missing = find_host_floppy_drive("A", root.path());
    BOOST_TEST(code_of(missing) == hr::VM_E_HOST_FLOPPY_CAPTURE_FAIL);
    BOOST_TEST(missing.error().message.find("fd1") != std::string::npos);

    // The model keeps the id; a Virtual Server .vmc's letter still loads.
    FloppyDrive drive;
    BOOST_TEST(drive.attach_host_drive("fd1").has_value());
    BOOST_TEST(drive.host_drive_letter() == "fd1");
    BOOST_TEST(code_of(drive.attach_image("/srv/a.vfd")) == hr::VM_E_MEDIA_WRONG_TYPE);
    BOOST_TEST(code_of(drive.release_image()) == hr::VM_E_MEDIA_WRONG_TYPE);
    BOOST_TEST(drive.release_host_drive().has_value());
    BOOST_TEST(code_of(drive.release_host_drive()) == hr::VM_E_NO_MEDIA_CAPTURED);
    BOOST_TEST(drive.attach_host_drive("A").has_value());
    BOOST_TEST(code_of(drive.attach_host_drive("/dev/fd0")) == hr::E_INVALIDARG);
}

// The table AttachHostDrive and IVMHostInfo.FloppyDrives use: discovered
// fd<N> plus floppy.host_drive entries; media_signature tells a floppy disk.
BOOST_AUTO_TEST_CASE(host_floppy_drive_table) {
    vsa::test::TempDir root;
    for (char const* name : {"fd0", "fd1", "sda"})
        fs::create_directories(root.path() / "sys/block" / name);
    auto image = root.path() / "usb.img";
    {
        std::ofstream out(image, std::ios::binary);
        out << std::string(1'474'560, '\0');
    }
    HostFloppyDrives table(root.path(), {{"usbfloppy", image}, {"fd1", image}});
    BOOST_TEST(table.ids() == (std::vector<std::string>{"fd0", "usbfloppy", "fd1"}),
               boost::test_tools::per_element());
    BOOST_TEST(table.find("A").value().device == "/dev/fd0");
    BOOST_TEST(table.find("/dev/fd0").value().id == "fd0");
    BOOST_TEST(table.find("usbfloppy").value().device == image);
    BOOST_TEST(table.find("b:").value().device == image); // the configured fd1 replaced the discovered one
    BOOST_TEST(code_of(table.find("")) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(table.find("nosuch")) == hr::E_INVALIDARG);
    auto missing = HostFloppyDrives(root.path() / "none", {{"usbfloppy", image}}).find("A");
    BOOST_TEST(code_of(missing) == hr::VM_E_HOST_FLOPPY_CAPTURE_FAIL);
    BOOST_TEST(missing.error().message.find("usbfloppy") != std::string::npos);

    // Media: a floppy size, else none (no file, another size, a folder).
    BOOST_TEST(HostFloppyDrives::media_signature(image).has_value());
    BOOST_TEST(!HostFloppyDrives::media_signature(root.path() / "gone.img").has_value());
    BOOST_TEST(!HostFloppyDrives::media_signature(root.path()).has_value());
    fs::resize_file(image, 1'000'000);
    BOOST_TEST(!HostFloppyDrives::media_signature(image).has_value());

    // Configuration checks.
    BOOST_TEST(!HostFloppyDrives::configuration_problem({"usbfloppy", "/dev/sdc"}).has_value());
    BOOST_TEST(HostFloppyDrives::configuration_problem({"usb", "sdc"}).has_value());
    BOOST_TEST(HostFloppyDrives::configuration_problem({"b@d", "/dev/sdc"}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
