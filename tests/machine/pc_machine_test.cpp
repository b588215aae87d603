// SPDX-License-Identifier: GPL-2.0-or-later
// The assembled PC: test ROMs and a real SeaBIOS boot through PcMachine,
// the same code path vsa-vm runs.
#include "hypervisor/machine/pc_machine.h"
#include "test_programs.h" // generated: build/tests/progs
#include "tests/machine/machine_test_support.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace vsa;
using namespace vsa::test;

namespace {

std::string write_rom(std::vector<u8> const& rom) {
    auto path = std::filesystem::temp_directory_path() / ("vsa-rom-" + std::to_string(::getpid()) + ".bin");
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<char const*>(rom.data()), rom.size());
    return path.string();
}

} // namespace

BOOST_AUTO_TEST_SUITE(pc_machine)

// 139 checks of 386 forms the 286 vectors cannot cover (32-bit operands,
// 0F opcodes, protected mode and back, exceptions with pushed EIP and error
// codes); the ROM powers off through port 0x8900 at the end.
BOOST_AUTO_TEST_CASE(cpu_test_rom_passes) {
    SharedBackend debugcon;
    PcMachineConfig config;
    config.ram_bytes = 16 * MiB;
    config.bios_path = VSA_PROG_CPU_TEST_ROM;
    config.vgabios_path.clear();
    config.clock_mode = Clock::Mode::Deterministic;
    config.debugcon = &debugcon;
    auto machine = make_machine(config);
    MachineExit exit = run_with_limit(*machine, std::chrono::seconds(600));
    BOOST_TEST_MESSAGE(debugcon.text());
    BOOST_TEST((exit == MachineExit::PoweredOff));
    BOOST_TEST(debugcon.contains("ALL PASS"));
    BOOST_TEST(!debugcon.contains("FAIL"));
}

// The boot test: Debian's SeaBIOS finds the IDE disk, boots the
// nasm boot sector, which reads more of itself through INT 13h, goes to
// protected mode and back, sees timer interrupts and reports on COM1 and
// the VGA text screen.
BOOST_AUTO_TEST_CASE(seabios_boots_the_test_disk) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    struct Run {
        MachineExit exit;
        u64 instructions;
        std::string serial, debugcon, screen;
    };
    auto boot = [] {
        SharedBackend serial, debugcon;
        PcMachineConfig config;
        config.ram_bytes = 32 * MiB;
        config.disks = {VSA_PROG_BOOT_DISK};
        config.disks_read_only = true;
        config.clock_mode = Clock::Mode::Deterministic;
        config.rtc_start = 1'700'000'000;
        config.com1 = &serial;
        config.debugcon = &debugcon;
        auto machine = make_machine(config);
        MachineExit exit = run_with_limit(*machine, std::chrono::seconds(600));
        return Run{exit, machine->instructions_retired(), serial.text(), debugcon.text(),
                   machine->text_screen()};
    };
    Run first = boot();
    BOOST_TEST_MESSAGE("serial:\n" << first.serial << "\nscreen:\n" << first.screen);
    auto has = [](std::string const& text, std::string_view needle) {
        return text.find(needle) != std::string::npos;
    };
    BOOST_TEST(has(first.debugcon, "SeaBIOS (version"));
    BOOST_TEST(has(first.debugcon, "Booting from Hard Disk"));
    BOOST_TEST(has(first.serial, "[boot] pm32 idt int ok"));
    BOOST_TEST(has(first.serial, "[boot] timer-irq"));
    BOOST_TEST(has(first.serial, "VSA-BOOT-OK"));
    BOOST_TEST(!has(first.serial, "VSA-BOOT-FAIL"));
    BOOST_TEST(has(first.screen, "VSA-BOOT-OK"));
    BOOST_TEST(has(first.screen, "VSA 32-BIT PROTECTED MODE OK!"));
    BOOST_TEST((first.exit == MachineExit::PoweredOff));
    // Deterministic time: the same guest and inputs give the same run, to
    // the instruction, timer interrupts included.
    Run second = boot();
    BOOST_TEST(second.instructions == first.instructions);
    BOOST_TEST(second.serial == first.serial);
    BOOST_TEST(second.debugcon == first.debugcon);
    BOOST_TEST(second.screen == first.screen);
}

// fw_cfg carries extra firmware: an option ROM given as "genroms/NAME" is
// found and run by SeaBIOS at POST (it prints on the debug console).
BOOST_AUTO_TEST_CASE(fw_cfg_option_rom_runs) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    std::vector<u8> rom(512, 0);
    // 55 AA, 1 block; init: push ax/dx/si; mov dx,402h; mov si,20h;
    // cs lodsb; test al,al; jz done; out dx,al; jmp back; done: pop; retf
    u8 const code[] = {0x55, 0xAA, 0x01, 0x50, 0x52, 0x56, 0xBA, 0x02, 0x04, 0xBE, 0x20, 0x00, 0x2E,
                       0xAC, 0x84, 0xC0, 0x74, 0x03, 0xEE, 0xEB, 0xF7, 0x5E, 0x5A, 0x58, 0xCB};
    std::copy(std::begin(code), std::end(code), rom.begin());
    std::string message = "VSA-OPTION-ROM-RAN\n";
    std::copy(message.begin(), message.end(), rom.begin() + 0x20);
    u8 sum = 0;
    for (u8 b : rom)
        sum = static_cast<u8>(sum + b);
    rom.back() = static_cast<u8>(-sum);
    SharedBackend debugcon;
    PcMachineConfig config;
    config.ram_bytes = 16 * MiB;
    config.clock_mode = Clock::Mode::Deterministic;
    config.debugcon = &debugcon;
    config.fw_cfg_files = {{"genroms/vsa-test.rom", write_rom(rom)}};
    auto machine = make_machine(config);
    std::thread vm([&] { machine->run(); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!debugcon.contains("No bootable device") && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    machine->request_stop();
    vm.join();
    std::filesystem::remove(config.fw_cfg_files[0].second);
    BOOST_TEST(debugcon.contains("VSA-OPTION-ROM-RAN"));
}

// A real-mode IDT with limit 0: INT 3 cannot be delivered, nor the #GP it
// raises, nor the double fault: the CPU shuts down and the machine says so.
BOOST_AUTO_TEST_CASE(triple_fault_stops_the_machine) {
    std::vector<u8> rom(64 * KiB, 0xF4);
    // F000:0000  cli; lidt cs:[0x0100]; int3
    u8 const code[] = {0xFA, 0x2E, 0x0F, 0x01, 0x1E, 0x00, 0x01, 0xCC};
    std::copy(std::begin(code), std::end(code), rom.begin());
    std::fill(rom.begin() + 0x100, rom.begin() + 0x106, 0); // limit 0, base 0
    // Reset vector F000:FFF0: jmp far F000:0000.
    u8 const reset[] = {0xEA, 0x00, 0x00, 0x00, 0xF0};
    std::copy(std::begin(reset), std::end(reset), rom.end() - 16);
    PcMachineConfig config;
    config.ram_bytes = 4 * MiB;
    config.bios_path = write_rom(rom);
    config.vgabios_path.clear();
    config.clock_mode = Clock::Mode::Deterministic;
    auto machine = make_machine(config);
    MachineExit exit = run_with_limit(*machine, std::chrono::seconds(300));
    std::filesystem::remove(config.bios_path);
    BOOST_TEST((exit == MachineExit::TripleFault));
}

// HLT with nothing to do sleeps the VM thread: SeaBIOS with no bootable
// disk waits in HLT for its retry timer; over two seconds of that the
// machine must use a small fraction of one host CPU.
BOOST_AUTO_TEST_CASE(idle_guest_costs_no_host_cpu) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    SharedBackend debugcon;
    PcMachineConfig config;
    config.ram_bytes = 16 * MiB;
    config.clock_mode = Clock::Mode::RealTime;
    config.debugcon = &debugcon;
    auto machine = make_machine(config);
    std::atomic<double> cpu_seconds{0};
    std::thread vm([&] {
        machine->run();
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        cpu_seconds.store(double(ts.tv_sec) + ts.tv_nsec / 1e9);
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!debugcon.contains("No bootable device") && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    BOOST_REQUIRE(debugcon.contains("No bootable device"));
    // CPU time of the VM thread so far, read on the VM thread itself.
    std::atomic<double> before{-1};
    machine->post([&] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        before.store(double(ts.tv_sec) + ts.tv_nsec / 1e9);
    });
    while (before.load() < 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    machine->request_stop();
    vm.join();
    double used = cpu_seconds.load() - before.load();
    BOOST_TEST_MESSAGE("VM thread CPU while the guest idles: " << used << " s in 2 s");
    BOOST_TEST(used < 0.4);
}

BOOST_AUTO_TEST_SUITE_END()
