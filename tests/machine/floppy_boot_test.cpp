// SPDX-License-Identifier: GPL-2.0-or-later
// The floppy controller in the assembled PC: SeaBIOS boots a 1.44 MB image
// built from tests/progs/boot_floppy.asm with BootDevice::Floppy, reading
// and writing it through INT 13h (the 82077AA and DMA channel 2); host disk
// changes go through posted work; a saved state records the disks and
// refuses others.
#include "hypervisor/machine/pc_machine.h"
#include "test_programs.h" // generated: build/tests/progs
#include "tests/machine/machine_test_support.h"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

using namespace vsa;
using namespace vsa::test;

namespace {

constexpr std::size_t FLOPPY_BYTES = 1'474'560;

bool has(std::string const& text, std::string_view needle) {
    return text.find(needle) != std::string::npos;
}

void run_posted(PcMachine& machine) {
    machine.request_stop();
    BOOST_TEST((machine.run() == MachineExit::Stopped));
}

// A scratch directory with a 1.44 MB image: the assembled sectors, zeros
// to the end of the disk.
struct FloppyImage {
    std::filesystem::path dir;
    std::string path;
    explicit FloppyImage(std::string const& name) {
        dir = std::filesystem::temp_directory_path() /
              ("vsa-floppy-" + name + "-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        path = (dir / "boot.vfd").string();
        std::filesystem::copy_file(VSA_PROG_BOOT_FLOPPY, path,
                                   std::filesystem::copy_options::overwrite_existing);
        std::filesystem::resize_file(path, FLOPPY_BYTES);
    }
    ~FloppyImage() { std::filesystem::remove_all(dir); }
    std::vector<char> sector(std::size_t lba) const {
        std::ifstream in(path, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(lba * 512));
        std::vector<char> data(512);
        in.read(data.data(), 512);
        return data;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(floppy_boot)

BOOST_AUTO_TEST_CASE(seabios_boots_the_floppy_and_writes_it) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    FloppyImage image("boot");
    // A bootable disk too: --boot floppy must still pick the floppy.
    SharedBackend serial, debugcon;
    PcMachineConfig config;
    config.ram_bytes = 16 * MiB;
    config.disks = {VSA_PROG_BOOT_DISK};
    config.disks_read_only = true;
    config.floppies = {{image.path, false}};
    config.boot_order = PcMachineConfig::boot_first(PcMachineConfig::BootDevice::Floppy);
    config.clock_mode = Clock::Mode::Deterministic;
    config.rtc_start = 1'700'000'000;
    config.com1 = &serial;
    config.debugcon = &debugcon;
    config.vgabios_path.clear();
    auto machine = make_machine(config);
    MachineExit exit = run_with_limit(*machine, std::chrono::seconds(300));
    BOOST_TEST_MESSAGE("serial:\n" << serial.text());
    BOOST_TEST_MESSAGE("debugcon:\n" << debugcon.text());
    BOOST_TEST(has(debugcon.text(), "Searching bootorder for: /pci@i0cf8/isa@1/fdc@03f0/floppy@0"));
    BOOST_TEST(has(debugcon.text(), "Booting from Floppy"));
    BOOST_TEST(has(serial.text(), "fd: track0"));
    BOOST_TEST(has(serial.text(), "fd: head1"));
    BOOST_TEST(has(serial.text(), "fd: cyl1"));
    BOOST_TEST(has(serial.text(), "fd: write"));
    BOOST_TEST(has(serial.text(), "VSA-FDBOOT-OK"));
    BOOST_TEST(!has(serial.text(), "VSA-FDBOOT-FAIL"));
    BOOST_TEST((exit == MachineExit::PoweredOff));
    machine.reset();
    // The guest's write reached the image file.
    auto last = image.sector(2879);
    BOOST_TEST(std::string(last.data(), 16) == "VSA-FD-WRITTEN!!");
    BOOST_TEST(static_cast<u8>(last[511]) == 0xC3u);
}

BOOST_AUTO_TEST_CASE(a_write_protected_floppy_refuses_the_write) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    FloppyImage image("ro");
    SharedBackend serial;
    PcMachineConfig config;
    config.ram_bytes = 16 * MiB;
    config.floppies = {{image.path, true}};
    config.boot_order = PcMachineConfig::boot_first(PcMachineConfig::BootDevice::Floppy);
    config.clock_mode = Clock::Mode::Deterministic;
    config.rtc_start = 1'700'000'000;
    config.com1 = &serial;
    config.vgabios_path.clear();
    auto machine = make_machine(config);
    MachineExit exit = run_with_limit(*machine, std::chrono::seconds(300));
    BOOST_TEST_MESSAGE("serial:\n" << serial.text());
    // The reads pass, the write fails after its retries (INT 13h AH=03h
    // reports write protection).
    BOOST_TEST(has(serial.text(), "fd: cyl1"));
    BOOST_TEST(!has(serial.text(), "fd: write"));
    BOOST_TEST(has(serial.text(), "VSA-FDBOOT-FAIL"));
    BOOST_TEST((exit == MachineExit::PoweredOff));
    BOOST_TEST(image.sector(2879) == std::vector<char>(512, 0));
}

BOOST_AUTO_TEST_CASE(configuration_errors) {
    PcMachineConfig config;
    config.vgabios_path.clear();
    config.bios_path = VSA_PROG_CPU_TEST_ROM;
    config.floppies = {{"", false}, {"", false}, {"", false}};
    BOOST_TEST(PcMachine::create(config).is_error());
    config.floppies = {{"/nonexistent/a.vfd", false}};
    BOOST_TEST(PcMachine::create(config).is_error());
    config.floppies = {{VSA_PROG_BOOT_DISK, true}}; // not a floppy size
    BOOST_TEST(PcMachine::create(config).is_error());
    config.floppies = {{"", false}, {"", false}};
    BOOST_TEST(!PcMachine::create(config).is_error());
}

BOOST_AUTO_TEST_CASE(disk_changes_and_saved_state) {
    FloppyImage image("state");
    PcMachineConfig config;
    config.vgabios_path.clear();
    config.bios_path = VSA_PROG_CPU_TEST_ROM; // the guest never runs here
    config.floppies = {{"", false}};
    auto machine = make_machine(config);

    std::vector<std::string> outcomes;
    auto note = [&](Result<void, std::string> r) { outcomes.push_back(r.is_error() ? r.error() : "ok"); };
    machine->insert_floppy(0, image.path, false, note);
    machine->insert_floppy(1, image.path, false, note); // no drive B:
    machine->insert_floppy(0, "/nonexistent/a.vfd", false, note);
    machine->eject_floppy(0, note);
    machine->insert_floppy(0, image.path, true, note);
    // The CD API is unchanged and knows nothing of the floppy.
    machine->eject_media(0, false, note);
    run_posted(*machine);
    BOOST_REQUIRE_EQUAL(outcomes.size(), 6u);
    BOOST_TEST(outcomes[0] == "ok");
    BOOST_TEST(has(outcomes[1], "no floppy drive 1"));
    BOOST_TEST(has(outcomes[2], "/nonexistent/a.vfd"));
    BOOST_TEST(outcomes[3] == "ok");
    BOOST_TEST(outcomes[4] == "ok");
    BOOST_TEST(has(outcomes[5], "no CD drive"));

    std::string state = (image.dir / "fd.vsv").string();
    auto saved = machine->save_state(state);
    BOOST_REQUIRE_MESSAGE(!saved.is_error(), (saved.is_error() ? saved.error() : ""));

    PcMachineConfig same = config;
    same.floppies = {{image.path, true}};
    auto restored = make_machine(same);
    auto ok = restored->restore_state(state);
    BOOST_TEST(!ok.is_error(), (ok.is_error() ? ok.error() : ""));

    // An empty drive, a writable disk or no floppy drive at all: refused.
    auto empty = make_machine(config);
    auto refused = empty->restore_state(state);
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(has(refused.error(), image.path));
    // The machines above hold read locks on the image: let go first.
    machine.reset();
    restored.reset();
    empty.reset();
    PcMachineConfig writable = same;
    writable.floppies[0].read_only = false;
    auto refused_writable = make_machine(writable)->restore_state(state);
    BOOST_REQUIRE(refused_writable.is_error());
    BOOST_TEST(has(refused_writable.error(), "write-protected"));
    PcMachineConfig none = config;
    none.floppies.clear();
    BOOST_TEST(make_machine(none)->restore_state(state).is_error());
}

BOOST_AUTO_TEST_SUITE_END()
