// SPDX-License-Identifier: GPL-2.0-or-later
// The BIOS settings of the assembled PC (PcMachineConfig::boot_order and
// num_lock) as SeaBIOS and the guest see them: the kinds of drive are tried
// in the configured order (SeaBIOS's "Booting from ..." lines, with empty
// floppy and CD drives failing before the disk boots), and with Num Lock on
// the guest's INT 16h shift flags have bit 5 set (tests/progs/kbflags_disk).
#include "hypervisor/machine/pc_machine.h"
#include "test_programs.h" // generated: build/tests/progs
#include "tests/machine/machine_test_support.h"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace vsa;
using namespace vsa::test;

namespace {

using Boot = PcMachineConfig::BootDevice;

struct Run {
    std::string serial, debugcon;
    MachineExit exit{};
};

Run boot(PcMachineConfig config) {
    SharedBackend serial, debugcon;
    config.ram_bytes = 16 * MiB;
    config.disks_read_only = true;
    config.clock_mode = Clock::Mode::Deterministic;
    config.rtc_start = 1'700'000'000;
    config.com1 = &serial;
    config.debugcon = &debugcon;
    config.vgabios_path.clear();
    auto machine = make_machine(config);
    Run run;
    run.exit = run_with_limit(*machine, std::chrono::seconds(300));
    run.serial = serial.text();
    run.debugcon = debugcon.text();
    BOOST_TEST_MESSAGE("serial:\n" << run.serial);
    return run;
}

std::size_t at(std::string const& text, std::string_view needle) {
    return text.find(needle);
}

} // namespace

BOOST_AUTO_TEST_SUITE(bios_settings)

BOOST_AUTO_TEST_CASE(kinds_left_out_follow_in_the_default_order) {
    auto order = PcMachineConfig::boot_first(Boot::Floppy);
    BOOST_TEST((order == std::vector<Boot>{Boot::Floppy, Boot::Disk, Boot::Cdrom}));
    BOOST_TEST((PcMachineConfig::boot_first(Boot::Disk) ==
                std::vector<Boot>{Boot::Disk, Boot::Cdrom, Boot::Floppy}));
}

BOOST_AUTO_TEST_CASE(seabios_tries_the_kinds_in_the_configured_order) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    // An empty floppy drive, an empty CD drive and a bootable disk: floppy,
    // CD, disk in that order means two failed attempts, then the disk.
    PcMachineConfig config;
    config.disks = {VSA_PROG_KBFLAGS_DISK};
    config.cdroms = {{2, ""}};
    config.floppies = {{"", false}};
    config.boot_order = {Boot::Floppy, Boot::Cdrom, Boot::Disk};
    Run run = boot(config);
    auto floppy = at(run.debugcon, "Booting from Floppy");
    auto cd = at(run.debugcon, "Booting from DVD/CD");
    auto disk = at(run.debugcon, "Booting from Hard Disk");
    BOOST_TEST_MESSAGE("debugcon:\n" << run.debugcon);
    BOOST_TEST(floppy != std::string::npos);
    BOOST_TEST(cd != std::string::npos);
    BOOST_TEST(disk != std::string::npos);
    BOOST_TEST((floppy < cd && cd < disk));
    BOOST_TEST(run.serial.find("VSA-KBFLAGS ") != std::string::npos);
    BOOST_TEST((run.exit == MachineExit::PoweredOff));

    // The disk first: no other kind is tried.
    config.boot_order = {Boot::Disk};
    run = boot(config);
    BOOST_TEST(at(run.debugcon, "Booting from Hard Disk") != std::string::npos);
    BOOST_TEST(at(run.debugcon, "Booting from Floppy") == std::string::npos);
    BOOST_TEST(at(run.debugcon, "Booting from DVD/CD") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(num_lock_at_boot_reaches_the_guests_keyboard_flags) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    PcMachineConfig config;
    config.disks = {VSA_PROG_KBFLAGS_DISK};
    Run off = boot(config);
    BOOST_TEST(off.serial.find("VSA-KBFLAGS 0\n") != std::string::npos);
    BOOST_TEST((off.exit == MachineExit::PoweredOff));
    config.num_lock = true;
    Run on = boot(config);
    BOOST_TEST(on.serial.find("VSA-KBFLAGS 32\n") != std::string::npos);
    BOOST_TEST((on.exit == MachineExit::PoweredOff));
}

BOOST_AUTO_TEST_SUITE_END()
