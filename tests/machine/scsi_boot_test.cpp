// SPDX-License-Identifier: GPL-2.0-or-later
// SCSI in the assembled PC: SeaBIOS finds the PVSCSI controllers (PCI
// slots 7 and 9), scans their targets through the request and completion
// rings, and boots tests/progs/boot_disk.asm from a SCSI disk on a machine
// without any IDE disk: INT 13h CHS and EDD reads end up as SCSI READs.
// Controller 1 is absent (slot 8 stays empty); controller 2 has SCSI ID 2
// and its disk at target 5.
#include "hypervisor/machine/pc_machine.h"
#include "test_programs.h" // generated: build/tests/progs
#include "tests/machine/machine_test_support.h"

#include <boost/test/unit_test.hpp>

using namespace vsa;
using namespace vsa::test;

BOOST_AUTO_TEST_SUITE(scsi_boot)

BOOST_AUTO_TEST_CASE(seabios_boots_a_scsi_disk) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    SharedBackend serial, debugcon;
    PcMachineConfig config;
    config.ram_bytes = 16 * MiB;
    config.scsi = {PcMachineConfig::ScsiController{true, 7, {{0, VSA_PROG_BOOT_DISK}}},
                   PcMachineConfig::ScsiController{false, 7, {}},
                   PcMachineConfig::ScsiController{true, 2, {{5, VSA_PROG_COUNTER_DISK}}}};
    config.disks_read_only = true;
    config.clock_mode = Clock::Mode::Deterministic;
    config.rtc_start = 1'700'000'000;
    config.com1 = &serial;
    config.debugcon = &debugcon;
    auto machine = make_machine(config);
    MachineExit exit = run_with_limit(*machine, std::chrono::seconds(120));
    BOOST_TEST_MESSAGE("serial:\n" << serial.text());
    BOOST_TEST_MESSAGE("debugcon:\n" << debugcon.text());
    BOOST_TEST(debugcon.contains("found pvscsi at 00:07.0"));
    BOOST_TEST(debugcon.contains("found pvscsi at 00:09.0"));
    BOOST_TEST(!debugcon.contains("found pvscsi at 00:08.0"));
    BOOST_TEST(debugcon.contains("Searching bootorder for: /pci@i0cf8/*@7/*@0/*@0,0"));
    BOOST_TEST(debugcon.contains("pvscsi 00:09.0 5:0"));
    BOOST_TEST(debugcon.contains("Booting from Hard Disk"));
    BOOST_TEST(serial.contains("[boot] edd"));
    BOOST_TEST(serial.contains("[boot] chs-data"));
    BOOST_TEST(serial.contains("VSA-BOOT-OK"));
    BOOST_TEST(!serial.contains("VSA-BOOT-FAIL"));
    BOOST_TEST((exit == MachineExit::PoweredOff));
    BOOST_TEST(machine->disk_traffic().read > 0u);
}

BOOST_AUTO_TEST_CASE(bad_scsi_configurations_are_refused) {
    auto refused = [](PcMachineConfig const& config) { return PcMachine::create(config).is_error(); };
    PcMachineConfig config;
    config.ram_bytes = 16 * MiB;
    config.disks_read_only = true;
    config.scsi = {PcMachineConfig::ScsiController{true, 7, {{7, VSA_PROG_BOOT_DISK}}}};
    BOOST_TEST(refused(config)); // target 7: not a device ID
    config.scsi = {PcMachineConfig::ScsiController{true, 3, {{3, VSA_PROG_BOOT_DISK}}}};
    BOOST_TEST(refused(config)); // the controller's own ID
    config.scsi = {
        PcMachineConfig::ScsiController{true, 7, {{1, VSA_PROG_BOOT_DISK}, {1, VSA_PROG_BOOT_DISK}}}};
    BOOST_TEST(refused(config)); // twice the same ID
    config.scsi = std::vector<PcMachineConfig::ScsiController>(5);
    BOOST_TEST(refused(config)); // five controllers
    config.scsi = {PcMachineConfig::ScsiController{true, 7, {{0, "/nonexistent/disk.vhd"}}}};
    BOOST_TEST(refused(config));
}

BOOST_AUTO_TEST_SUITE_END()
