// SPDX-License-Identifier: GPL-2.0-or-later
// The ATAPI CD/DVD drive in the assembled PC: SeaBIOS boots the El Torito
// test image (tests/progs/boot_cdrom.asm) from it, alone or before a disk
// with BootDevice::Cdrom; host media changes go through posted work; a
// saved state records the drive's media and refuses another.
#include "hypervisor/machine/pc_machine.h"
#include "test_programs.h" // generated: build/tests/progs
#include "tests/machine/machine_test_support.h"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace vsa;
using namespace vsa::test;

namespace {

bool has(std::string const& text, std::string_view needle) {
    return text.find(needle) != std::string::npos;
}

// Runs posted work (a media change) without running the guest: the first
// thing run() does is take posted work, the stop request ends it there.
void run_posted(PcMachine& machine) {
    machine.request_stop();
    BOOST_TEST((machine.run() == MachineExit::Stopped));
}

} // namespace

BOOST_AUTO_TEST_SUITE(cdrom_boot)

BOOST_AUTO_TEST_CASE(seabios_boots_el_torito_from_the_cd_drive) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    // The CD on the secondary master, a bootable disk on the primary
    // master: --boot cdrom must still pick the CD.
    SharedBackend serial, debugcon;
    PcMachineConfig config;
    config.ram_bytes = 16 * MiB;
    config.disks = {VSA_PROG_BOOT_DISK};
    config.disks_read_only = true;
    config.cdroms = {{2, VSA_PROG_BOOT_CDROM}};
    config.boot_order = PcMachineConfig::boot_first(PcMachineConfig::BootDevice::Cdrom);
    config.clock_mode = Clock::Mode::Deterministic;
    config.rtc_start = 1'700'000'000;
    config.com1 = &serial;
    config.debugcon = &debugcon;
    config.vgabios_path.clear(); // no VGA ROM: a shorter POST
    auto machine = make_machine(config);
    MachineExit exit = run_with_limit(*machine, std::chrono::seconds(300));
    BOOST_TEST_MESSAGE("serial:\n" << serial.text());
    BOOST_TEST(has(debugcon.text(), "DVD/CD [ata1-0: VSA Virtual CD/DVD ATAPI-6 DVD/CD]"));
    BOOST_TEST(has(debugcon.text(), "Booting from DVD/CD"));
    BOOST_TEST(has(serial.text(), "[cdboot] pvd"));
    BOOST_TEST(has(serial.text(), "[cdboot] data"));
    BOOST_TEST(has(serial.text(), "VSA-CDBOOT-OK"));
    BOOST_TEST(!has(serial.text(), "VSA-CDBOOT-FAIL"));
    BOOST_TEST(!has(serial.text(), "VSA boot disk test"));
    BOOST_TEST((exit == MachineExit::PoweredOff));
}

BOOST_AUTO_TEST_CASE(configuration_errors) {
    PcMachineConfig config;
    config.vgabios_path.clear();
    config.bios_path = VSA_PROG_CPU_TEST_ROM;
    config.disks = {VSA_PROG_BOOT_DISK};
    config.disks_read_only = true;
    config.cdroms = {{0, VSA_PROG_BOOT_CDROM}};
    BOOST_TEST(PcMachine::create(config).is_error()); // slot 0 holds the disk
    config.cdroms = {{4, ""}};
    BOOST_TEST(PcMachine::create(config).is_error());
    config.cdroms = {{1, ""}, {1, ""}};
    BOOST_TEST(PcMachine::create(config).is_error());
    config.cdroms = {{1, "/nonexistent/x.iso"}};
    BOOST_TEST(PcMachine::create(config).is_error());
    config.cdroms = {{1, ""}, {3, VSA_PROG_BOOT_CDROM}};
    BOOST_TEST(!PcMachine::create(config).is_error());
}

BOOST_AUTO_TEST_CASE(media_changes_and_saved_state) {
    PcMachineConfig config;
    config.vgabios_path.clear();
    config.bios_path = VSA_PROG_CPU_TEST_ROM; // the guest never runs here
    config.cdroms = {{0, ""}};
    auto machine = make_machine(config);

    std::vector<std::string> outcomes;
    auto note = [&](Result<void, std::string> r) { outcomes.push_back(r.is_error() ? r.error() : "ok"); };
    machine->insert_media(0, VSA_PROG_BOOT_CDROM, note);
    machine->insert_media(1, VSA_PROG_BOOT_CDROM, note); // no drive there
    machine->insert_media(0, "/nonexistent/x.iso", note);
    machine->eject_media(0, false, note);
    machine->insert_media(0, VSA_PROG_BOOT_CDROM, note);
    run_posted(*machine);
    BOOST_REQUIRE_EQUAL(outcomes.size(), 5u);
    BOOST_TEST(outcomes[0] == "ok");
    BOOST_TEST(has(outcomes[1], "no CD drive in IDE slot 1"));
    BOOST_TEST(has(outcomes[2], "/nonexistent/x.iso"));
    BOOST_TEST(outcomes[3] == "ok");
    BOOST_TEST(outcomes[4] == "ok");

    // The state remembers the image: the same configuration restores it,
    // an empty drive or another image is refused with a message.
    auto dir = std::filesystem::temp_directory_path() / ("vsa-cdrom-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string state = (dir / "cd.vsv").string();
    auto saved = machine->save_state(state);
    BOOST_REQUIRE_MESSAGE(!saved.is_error(), (saved.is_error() ? saved.error() : ""));

    PcMachineConfig same = config;
    same.cdroms = {{0, VSA_PROG_BOOT_CDROM}};
    auto restored = make_machine(same);
    auto ok = restored->restore_state(state);
    BOOST_TEST(!ok.is_error(), (ok.is_error() ? ok.error() : ""));

    auto empty = make_machine(config);
    auto refused = empty->restore_state(state);
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(has(refused.error(), VSA_PROG_BOOT_CDROM));

    // A disk where the CD drive was: the identity check names it.
    PcMachineConfig disk = config;
    disk.cdroms.clear();
    disk.disks = {VSA_PROG_BOOT_DISK};
    disk.disks_read_only = true;
    auto other = make_machine(disk);
    BOOST_TEST(other->restore_state(state).is_error());
    std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
