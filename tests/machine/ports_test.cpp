// SPDX-License-Identifier: GPL-2.0-or-later
// COM1 and LPT1 end to end: SeaBIOS boots lpt_disk.img, which prints
// through INT 17h and through the ports with IRQ 7, and reports on COM1;
// both ports go to host files through the worker's backends.
#include "hypervisor/machine/char_backends.h"
#include "hypervisor/machine/pc_machine.h"
#include "test_programs.h" // generated: build/tests/progs
#include "tests/machine/machine_test_support.h"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace vsa;
using namespace vsa::test;
namespace fs = std::filesystem;

namespace {

std::string read_text(fs::path const& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct PortsRun {
    MachineExit exit;
    std::string serial;
    std::string printer;
    std::string debugcon;
};

PortsRun boot_lpt_disk(bool with_printer) {
    auto dir = fs::temp_directory_path() / ("vsa-ports-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    PortsRun run{};
    int typed[2];
    {
        // COM1: output to a file, input from a pipe holding the byte the
        // program waits for (as --serial stdio with stdin a pipe).
        BOOST_REQUIRE(::pipe2(typed, O_CLOEXEC) == 0);
        BOOST_REQUIRE(::write(typed[1], "g", 1) == 1);
        int out = ::open((dir / "com1.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        BOOST_REQUIRE(out >= 0);
        FdCharBackend com1(out, true, "file com1.txt", typed[0]);
        // The run loop polls the UARTs every slice: no post() needed here.
        BOOST_REQUIRE(!com1.start([] {}).is_error());
        auto lpt1 = FdCharBackend::open_file(dir / "lpt1.txt", false);
        BOOST_REQUIRE(!lpt1.is_error());
        SharedBackend debugcon;
        PcMachineConfig config;
        config.ram_bytes = 16 * MiB;
        config.vgabios_path.clear();
        config.disks = {VSA_PROG_LPT_DISK};
        config.disks_read_only = true;
        config.clock_mode = Clock::Mode::Deterministic;
        config.com1 = &com1;
        config.lpt1 = with_printer ? lpt1.value().get() : nullptr;
        config.debugcon = &debugcon;
        auto machine = make_machine(config);
        run.exit = run_with_limit(*machine, std::chrono::seconds(300));
        run.debugcon = debugcon.text();
        machine.reset();
        ::close(typed[1]);
    } // the machine, then the backends: everything is in the files
    ::close(typed[0]);
    run.serial = read_text(dir / "com1.txt");
    run.printer = read_text(dir / "lpt1.txt");
    fs::remove_all(dir);
    return run;
}

} // namespace

BOOST_AUTO_TEST_SUITE(ports)

BOOST_AUTO_TEST_CASE(lpt1_prints_through_the_bios_and_the_ports) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    PortsRun run = boot_lpt_disk(true);
    BOOST_TEST_MESSAGE(run.serial);
    BOOST_TEST((run.exit == MachineExit::PoweredOff));
    BOOST_TEST(run.serial.find("VSA-LPT-TEST\n[lpt] bda ok\n[lpt] waiting for COM1\n[lpt] got g\n"
                               "[lpt] int17 ok\n[lpt] irq ok\nVSA-LPT-OK\n") != std::string::npos);
    BOOST_TEST(run.printer == "INT17: hello, printer\r\nPORTIO: direct, IRQ 7\r\n");
    // SeaBIOS's own account of its probe, when it logs at that level.
    if (run.debugcon.find("lpt ports") != std::string::npos)
        BOOST_TEST(run.debugcon.find("Found 1 lpt ports") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(no_printer_no_port) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    // Without config.lpt1 the BIOS finds no LPT port (the machine as it
    // always was): the program stops at its first check.
    PortsRun run = boot_lpt_disk(false);
    BOOST_TEST((run.exit == MachineExit::PoweredOff));
    BOOST_TEST(run.serial.find("VSA-LPT-FAIL bda-port") != std::string::npos);
    BOOST_TEST(run.printer.empty());
}

// The port is part of the saved state of a machine that has it: a guest
// saved while it waits for COM1 goes on printing after the restore, and a
// machine without LPT1 refuses that state (its layout differs).
BOOST_AUTO_TEST_CASE(lpt1_in_saved_state) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    auto state = fs::temp_directory_path() / ("vsa-ports-" + std::to_string(::getpid()) + ".vsv");
    PcMachineConfig config;
    config.ram_bytes = 16 * MiB;
    config.vgabios_path.clear();
    config.disks = {VSA_PROG_LPT_DISK};
    config.disks_read_only = true;
    config.clock_mode = Clock::Mode::Deterministic;
    {
        SharedBackend com1, printer;
        config.com1 = &com1;
        config.lpt1 = &printer;
        auto machine = make_machine(config);
        std::atomic<bool> done{false};
        std::thread saver([&] {
            while (!done.load() && !com1.contains("waiting for COM1"))
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            machine->request_save();
        });
        MachineExit exit = run_with_limit(*machine, std::chrono::seconds(300));
        done.store(true);
        saver.join();
        BOOST_REQUIRE((exit == MachineExit::SaveRequested));
        auto saved = machine->save_state(state);
        BOOST_REQUIRE_MESSAGE(!saved.is_error(), (saved.is_error() ? saved.error() : std::string()));
    }
    {
        BufferCharBackend com1, printer;
        com1.push_input("s");
        config.com1 = &com1;
        config.lpt1 = &printer;
        auto machine = make_machine(config);
        auto restored = machine->restore_state(state);
        BOOST_REQUIRE_MESSAGE(!restored.is_error(), (restored.is_error() ? restored.error() : std::string()));
        BOOST_TEST((run_with_limit(*machine, std::chrono::seconds(300)) == MachineExit::PoweredOff));
        BOOST_TEST(com1.output().find("[lpt] got s\n[lpt] int17 ok\n[lpt] irq ok\nVSA-LPT-OK\n") !=
                   std::string::npos);
        BOOST_TEST(printer.output() == "INT17: hello, printer\r\nPORTIO: direct, IRQ 7\r\n");
    }
    {
        config.com1 = nullptr;
        config.lpt1 = nullptr;
        auto machine = make_machine(config);
        BOOST_TEST(machine->restore_state(state).is_error());
    }
    fs::remove(state);
}

BOOST_AUTO_TEST_SUITE_END()
