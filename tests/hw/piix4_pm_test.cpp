// SPDX-License-Identifier: GPL-2.0-or-later
// The PIIX4 power management function: identity and the configuration
// SeaBIOS programs, the PM block and SMBus block decoding, the PM timer on
// a manual clock (rate, 24-bit wrap, TMR_STS and its SCI), write-1-to-clear
// status, ACPI enable/disable through 0xB2, S5 power-off, the power button,
// the GPE0 block at both addresses, the SMBus host controller with an empty
// bus, random registers, save/restore and bad streams.
#include "hw/piix4_pm.h"

#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>
#include <string>

using namespace vsa;

namespace {

constexpr Port PM = 0xB000;  // where SeaBIOS puts the PM block
constexpr Port SMB = 0xB100; // and the SMBus block

struct Rig {
    explicit Rig(Piix4Pm::LegacyDevices legacy = {.com1 = true, .com2 = true, .lpt = false}, u64 start_ns = 0)
        : pm(
              sci, clock, [this] { ++power_offs; }, legacy) {
        clock.advance(start_ns);
        BOOST_REQUIRE(bus.attach(1, 3, pm));
        pm.reset();
        BOOST_REQUIRE(pm.map_fixed_ports(io));
    }
    Clock clock{Clock::Mode::Manual};
    IoBus io;
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
    PciBus bus{io, *memory};
    test::FakeIrqLine sci;
    unsigned power_offs{0};
    Piix4Pm pm;

    // What SeaBIOS's piix4_pm_setup and pci_bios_init_device do.
    void seabios_setup() {
        pm.config_write(pci::INTERRUPT_LINE, Width::Byte, 9);
        pm.config_write(Piix4Pm::PMBA, Width::Dword, PM | 1);
        pm.config_write(Piix4Pm::PMREGMISC, Width::Byte, 0x01);
        pm.config_write(Piix4Pm::SMBBA, Width::Dword, SMB | 1);
        pm.config_write(Piix4Pm::SMBHSTCFG, Width::Byte, 0x09);
        pm.config_write(pci::COMMAND, Width::Word, 0x0107);
    }
    // What Linux's acpi_enable() does.
    void acpi_enable() { io.write(Piix4Pm::APM_CNT, Width::Byte, Piix4Pm::ACPI_ENABLE); }
    u32 timer() { return io.read(PM + Piix4Pm::PM_TMR, Width::Dword); }
    u16 status() { return static_cast<u16>(io.read(PM + Piix4Pm::PM1_STS, Width::Word)); }
};

u64 ticks_to_ns(u64 ticks) {
    return Piix4Pm::ns_for_ticks(ticks);
}

} // namespace

BOOST_AUTO_TEST_SUITE(piix4_pm)

BOOST_AUTO_TEST_CASE(identity_and_firmware_view) {
    Rig r;
    BOOST_TEST(r.pm.config_read(0x00, Width::Dword) == 0x7113'8086u);
    // Class 0680 (other bridge), revision 3: Linux's PM timer erratum
    // workaround only applies below revision 3.
    BOOST_TEST(r.pm.config_read(0x08, Width::Dword) == 0x0680'0003u);
    BOOST_TEST(r.pm.config_read(pci::INTERRUPT_PIN, Width::Byte) == 1u);
    BOOST_TEST(r.pm.config_read(Piix4Pm::PMBA, Width::Dword) == 1u);
    BOOST_TEST(r.pm.config_read(Piix4Pm::SMBBA, Width::Dword) == 1u);
    // SMM "already set up": SeaBIOS skips its SMM relocation.
    BOOST_TEST((r.pm.config_read(Piix4Pm::DEVACTB, Width::Dword) & Piix4Pm::DEVACTB_APMC_EN) != 0u);
    // The decode enables SeaBIOS's DSDT reads: no LPT, COM1 and COM2.
    BOOST_TEST(r.pm.config_read(0x5F, Width::Byte) == 0x10u);
    BOOST_TEST(r.pm.config_read(0x67, Width::Byte) == 0x98u);
    Rig lpt_only({.com1 = false, .com2 = false, .lpt = true});
    BOOST_TEST(lpt_only.pm.config_read(0x5F, Width::Byte) == 0x90u);
    BOOST_TEST(lpt_only.pm.config_read(0x67, Width::Byte) == 0x00u);
    // PMBA keeps its I/O indicator and drops the bits below 64 bytes.
    r.pm.config_write(Piix4Pm::PMBA, Width::Dword, 0xFFFF'FFFF);
    BOOST_TEST(r.pm.config_read(Piix4Pm::PMBA, Width::Dword) == 0xFFC1u);
    r.pm.config_write(Piix4Pm::SMBBA, Width::Dword, 0xFFFF'FFFF);
    BOOST_TEST(r.pm.config_read(Piix4Pm::SMBBA, Width::Dword) == 0xFFF1u);
    // Only I/O space enable is writable in the command register.
    r.pm.config_write(pci::COMMAND, Width::Word, 0xFFFF);
    BOOST_TEST(r.pm.config_read(pci::COMMAND, Width::Word) == 1u);
}

BOOST_AUTO_TEST_CASE(blocks_decode_only_when_enabled) {
    Rig r;
    BOOST_TEST(!r.pm.pm_io_mapped());
    BOOST_TEST(r.io.read(PM + Piix4Pm::PM1_CNT, Width::Word) == 0xFFFFu);
    r.pm.config_write(Piix4Pm::PMBA, Width::Dword, PM | 1);
    BOOST_TEST(!r.pm.pm_io_mapped()); // PMIOSE still clear
    r.pm.config_write(Piix4Pm::PMREGMISC, Width::Byte, 1);
    BOOST_TEST(r.pm.pm_io_mapped());
    BOOST_TEST(r.io.read(PM + Piix4Pm::PM1_CNT, Width::Word) == 0u);
    // Moving the block: the old range goes, the new one answers.
    r.pm.config_write(Piix4Pm::PMBA, Width::Word, 0x4001);
    BOOST_TEST(r.io.read(PM + Piix4Pm::PM1_CNT, Width::Word) == 0xFFFFu);
    BOOST_TEST(r.io.read(0x4000 + Piix4Pm::PM1_CNT, Width::Word) == 0u);
    r.pm.config_write(Piix4Pm::PMREGMISC, Width::Byte, 0);
    BOOST_TEST(!r.pm.pm_io_mapped());
    // SMBus needs its host enable and the command register's I/O enable.
    r.pm.config_write(Piix4Pm::SMBBA, Width::Dword, SMB | 1);
    r.pm.config_write(Piix4Pm::SMBHSTCFG, Width::Byte, 0x09);
    BOOST_TEST(!r.pm.smbus_mapped());
    r.pm.config_write(pci::COMMAND, Width::Byte, 1);
    BOOST_TEST(r.pm.smbus_mapped());
    BOOST_TEST(r.io.read(SMB + Piix4Pm::SMBHSTSTS, Width::Byte) == 0u);
    // A base that collides with another device stays unmapped.
    r.pm.config_write(Piix4Pm::PMBA, Width::Dword, SMB | 1);
    r.pm.config_write(Piix4Pm::PMREGMISC, Width::Byte, 1);
    BOOST_TEST(!r.pm.pm_io_mapped());
    // Reset unmaps both.
    r.pm.reset();
    BOOST_TEST(!r.pm.pm_io_mapped());
    BOOST_TEST(!r.pm.smbus_mapped());
}

BOOST_AUTO_TEST_CASE(timer_runs_at_3_579545_mhz_of_virtual_time) {
    Rig r;
    r.seabios_setup();
    BOOST_TEST(r.timer() == 0u);
    r.clock.advance(1'000'000'000);
    BOOST_TEST(r.timer() == 3'579'545u);
    r.clock.advance(1'000); // 1 us = 3.58 ticks
    BOOST_TEST(r.timer() == 3'579'548u);
    // Narrow reads see the same count.
    BOOST_TEST(r.io.read(PM + Piix4Pm::PM_TMR, Width::Word) == (3'579'548u & 0xFFFF));
    BOOST_TEST(r.io.read(PM + Piix4Pm::PM_TMR + 2, Width::Byte) == (3'579'548u >> 16));
    BOOST_TEST(r.io.read(PM + Piix4Pm::PM_TMR + 3, Width::Byte) == 0u);
    // 24 bits: it wraps after 2^24 ticks (4.69 s).
    r.clock.advance(ticks_to_ns(1u << 24) - 1'000'000'001);
    BOOST_TEST(r.timer() < 20u);
    // Writes do not move it.
    r.io.write(PM + Piix4Pm::PM_TMR, Width::Dword, 0x123456);
    BOOST_TEST(r.timer() < 20u);
    BOOST_TEST(r.pm.ignored_accesses() >= 1u);
}

BOOST_AUTO_TEST_CASE(conversions_are_exact_and_do_not_overflow) {
    for (u64 ns : {u64(0), u64(1), u64(279), u64(280), u64(999'999'999), u64(1'000'000'000),
                   u64(123'456'789'012'345), u64(10'000'000'000'000'000)}) {
        u64 t = Piix4Pm::ticks_at(ns);
        // ns_for_ticks is the first nanosecond at which t ticks have passed.
        u64 first = Piix4Pm::ns_for_ticks(t);
        BOOST_TEST(first <= ns);
        BOOST_TEST(Piix4Pm::ticks_at(first) == t);
        if (first > 0) BOOST_TEST(Piix4Pm::ticks_at(first - 1) == t - 1);
    }
    // 3 hours: a naive ns * 3579545 would have overflowed after 85 minutes.
    BOOST_TEST(Piix4Pm::ticks_at(3 * 3600 * 1'000'000'000ull) == 3 * 3600 * 3'579'545ull);
}

BOOST_AUTO_TEST_CASE(timer_status_sets_on_each_bit_23_toggle_and_clears_on_write) {
    Rig r;
    r.seabios_setup();
    u64 toggle = ticks_to_ns(1u << 23);
    r.clock.advance(toggle - 1);
    BOOST_TEST((r.status() & Piix4Pm::TMR_STS) == 0);
    r.clock.advance(1);
    BOOST_TEST((r.status() & Piix4Pm::TMR_STS) != 0);
    // Writing 0 changes nothing; writing 1 clears.
    r.io.write(PM + Piix4Pm::PM1_STS, Width::Word, 0);
    BOOST_TEST((r.status() & Piix4Pm::TMR_STS) != 0);
    r.io.write(PM + Piix4Pm::PM1_STS, Width::Word, Piix4Pm::TMR_STS);
    BOOST_TEST((r.status() & Piix4Pm::TMR_STS) == 0);
    // The 1 -> 0 toggle of bit 23 (the wrap) sets it again.
    r.clock.advance(ticks_to_ns(1u << 24) - toggle - 1);
    BOOST_TEST((r.status() & Piix4Pm::TMR_STS) == 0);
    r.clock.advance(1);
    BOOST_TEST((r.status() & Piix4Pm::TMR_STS) != 0);
    // Without TMR_EN and SCI_EN nothing was ever raised.
    BOOST_TEST(r.sci.rising_edges() == 0u);
}

BOOST_AUTO_TEST_CASE(timer_overflow_raises_the_sci_at_the_toggle) {
    Rig r;
    r.seabios_setup();
    r.io.write(PM + Piix4Pm::PM1_EN, Width::Word, Piix4Pm::TMR_EN);
    // Legacy mode (SCI_EN clear): an SMI would be raised, and there is no SMM.
    r.clock.advance(ticks_to_ns(1u << 23));
    BOOST_TEST(!r.sci.level());
    // Entering ACPI mode with the status pending raises the SCI at once.
    r.acpi_enable();
    BOOST_TEST(r.pm.acpi_enabled());
    BOOST_TEST(r.sci.level());
    r.io.write(PM + Piix4Pm::PM1_STS, Width::Word, Piix4Pm::TMR_STS);
    BOOST_TEST(!r.sci.level());
    // The next toggle, exactly on time, through the timer.
    u64 next = ticks_to_ns(2u << 23);
    r.clock.advance(next - r.clock.now() - 1);
    BOOST_TEST(!r.sci.level());
    r.clock.advance(1);
    BOOST_TEST(r.sci.level());
    BOOST_TEST(r.sci.rising_edges() == 2u);
    // Disabling the event drops the level though the status stays.
    r.io.write(PM + Piix4Pm::PM1_EN, Width::Word, 0);
    BOOST_TEST(!r.sci.level());
    BOOST_TEST((r.status() & Piix4Pm::TMR_STS) != 0);
    // ACPI_DISABLE leaves ACPI mode: no SCI even when re-enabled.
    r.io.write(PM + Piix4Pm::PM1_EN, Width::Word, Piix4Pm::TMR_EN);
    BOOST_TEST(r.sci.level());
    r.io.write(Piix4Pm::APM_CNT, Width::Byte, Piix4Pm::ACPI_DISABLE);
    BOOST_TEST(!r.pm.acpi_enabled());
    BOOST_TEST(!r.sci.level());
    BOOST_TEST(r.io.read(Piix4Pm::APM_CNT, Width::Byte) == Piix4Pm::ACPI_DISABLE);
}

BOOST_AUTO_TEST_CASE(no_timer_event_unless_the_overflow_sci_is_armed) {
    // An idle guest that never enables TMR_EN must not cost timer wakeups.
    Rig r;
    r.seabios_setup();
    r.acpi_enable();
    BOOST_TEST(r.clock.next_deadline() == Clock::NEVER);
    r.io.write(PM + Piix4Pm::PM1_EN, Width::Word, Piix4Pm::TMR_EN);
    BOOST_TEST(r.clock.next_deadline() == ticks_to_ns(1u << 23));
    r.io.write(PM + Piix4Pm::PM1_EN, Width::Word, 0);
    BOOST_TEST(r.clock.next_deadline() == Clock::NEVER);
}

BOOST_AUTO_TEST_CASE(pm1_control_and_s5_soft_off) {
    Rig r;
    r.seabios_setup();
    // SLP_TYP reads back, SLP_EN and GBL_RLS do not.
    r.io.write(PM + Piix4Pm::PM1_CNT, Width::Word, 0x1C00 | Piix4Pm::GBL_RLS | Piix4Pm::BM_RLD);
    BOOST_TEST(r.io.read(PM + Piix4Pm::PM1_CNT, Width::Word) == (0x1C00u | Piix4Pm::BM_RLD));
    BOOST_TEST(r.power_offs == 0u);
    // S3 (SLP_TYP 1) and S4 (2): refused and counted, the guest goes on.
    r.io.write(PM + Piix4Pm::PM1_CNT, Width::Word, 0x0400 | Piix4Pm::SLP_EN);
    r.io.write(PM + Piix4Pm::PM1_CNT, Width::Word, 0x0800 | Piix4Pm::SLP_EN);
    BOOST_TEST(r.pm.refused_sleeps() == 2u);
    BOOST_TEST(r.power_offs == 0u);
    // Linux's sequence: SLP_TYP first, then SLP_TYP | SLP_EN.
    r.io.write(PM + Piix4Pm::PM1_CNT, Width::Word, 0x0000 | Piix4Pm::SCI_EN);
    BOOST_TEST(r.power_offs == 0u);
    r.io.write(PM + Piix4Pm::PM1_CNT, Width::Word, Piix4Pm::SLP_EN | Piix4Pm::SCI_EN);
    BOOST_TEST(r.power_offs == 1u);
    // SeaBIOS's APM power-off: outw(0x2000, pm1a_cnt). A byte write of the
    // high half does the same.
    r.io.write(PM + Piix4Pm::PM1_CNT, Width::Word, 0x2000);
    r.io.write(PM + Piix4Pm::PM1_CNT + 1, Width::Byte, 0x20);
    BOOST_TEST(r.power_offs == 3u);
}

BOOST_AUTO_TEST_CASE(power_button_and_write_one_to_clear) {
    Rig r;
    r.seabios_setup();
    // Not armed: the press is latched, no SCI.
    BOOST_TEST(!r.pm.press_power_button());
    BOOST_TEST((r.status() & Piix4Pm::PWRBTN_STS) != 0);
    BOOST_TEST(!r.sci.level());
    r.acpi_enable();
    BOOST_TEST(!r.sci.level());
    r.io.write(PM + Piix4Pm::PM1_EN, Width::Word, Piix4Pm::PWRBTN_EN);
    BOOST_TEST(r.sci.level()); // the latched press
    // Write-1-to-clear, byte-wise: the low byte does not touch bit 8.
    r.io.write(PM + Piix4Pm::PM1_STS, Width::Byte, 0xFF);
    BOOST_TEST(r.sci.level());
    r.io.write(PM + Piix4Pm::PM1_STS + 1, Width::Byte, 0x01);
    BOOST_TEST(!r.sci.level());
    BOOST_TEST(r.status() == 0);
    BOOST_TEST(r.pm.press_power_button());
    BOOST_TEST(r.sci.level());
    BOOST_TEST(r.sci.rising_edges() == 2u);
    // Enable bits that exist read back; the rest read 0.
    r.io.write(PM + Piix4Pm::PM1_EN, Width::Word, 0xFFFF);
    BOOST_TEST(r.io.read(PM + Piix4Pm::PM1_EN, Width::Word) == Piix4Pm::PM1_EN_MASK);
    // Reset forgets everything.
    r.pm.reset();
    BOOST_TEST(!r.sci.level());
    BOOST_TEST(!r.pm.acpi_enabled());
}

BOOST_AUTO_TEST_CASE(gpe0_block_decodes_at_0xafe0_and_in_the_pm_block) {
    Rig r;
    r.seabios_setup();
    r.io.write(Piix4Pm::GPE0_BLK + 2, Width::Word, 0x1234);
    BOOST_TEST(r.io.read(PM + Piix4Pm::GPEN, Width::Word) == 0x1234u);
    BOOST_TEST(r.io.read(Piix4Pm::GPE0_BLK, Width::Dword) == 0x1234'0000u);
    r.io.write(Piix4Pm::GPE0_BLK, Width::Word, 0xFFFF); // no status to clear
    BOOST_TEST(r.io.read(Piix4Pm::GPE0_BLK, Width::Byte) == 0u);
    BOOST_TEST(!r.sci.level());
}

BOOST_AUTO_TEST_CASE(pci_hotplug_block_reports_nothing_removable) {
    // SeaBIOS reads 0xAE0C to decide which slots get an _EJ0 method.
    Rig r;
    BOOST_TEST(r.io.read(Piix4Pm::PCI_HOTPLUG + 0x0C, Width::Dword) == 0u);
    BOOST_TEST(r.io.read(Piix4Pm::PCI_HOTPLUG, Width::Dword) == 0u);     // slots up
    BOOST_TEST(r.io.read(Piix4Pm::PCI_HOTPLUG + 4, Width::Dword) == 0u); // slots down
    u64 before = r.pm.ignored_accesses();
    r.io.write(Piix4Pm::PCI_HOTPLUG + Piix4Pm::PCI_HOTPLUG_EJECT, Width::Dword, 1u << 3);
    BOOST_TEST(r.pm.ignored_accesses() == before + 1);
    BOOST_TEST(r.power_offs == 0u);
}

BOOST_AUTO_TEST_CASE(storage_and_reserved_pm_registers) {
    Rig r;
    r.seabios_setup();
    r.io.write(PM + 0x28, Width::Dword, 0xDEAD'BEEF); // GLBCTL
    BOOST_TEST(r.io.read(PM + 0x28, Width::Dword) == 0xDEAD'BEEFu);
    r.io.write(PM + 0x10, Width::Dword, 0x1F); // PCNTRL
    BOOST_TEST(r.io.read(PM + 0x10, Width::Byte) == 0x1Fu);
    BOOST_TEST(r.io.read(PM + Piix4Pm::P_LVL2, Width::Byte) == 0u);
    BOOST_TEST(r.io.read(PM + 0x18, Width::Word) == 0u); // GLBSTS
    u64 before = r.pm.ignored_accesses();
    r.io.write(PM + 0x18, Width::Word, 0xFFFF); // clearing nothing: fine
    BOOST_TEST(r.pm.ignored_accesses() == before);
    r.io.write(PM + 0x3E, Width::Byte, 0x55); // reserved
    BOOST_TEST(r.io.read(PM + 0x3E, Width::Byte) == 0u);
    BOOST_TEST(r.pm.ignored_accesses() == before + 1);
    // The APM status port is a scratch byte.
    r.io.write(Piix4Pm::APM_STS, Width::Byte, 0x5A);
    BOOST_TEST(r.io.read(Piix4Pm::APM_STS, Width::Byte) == 0x5Au);
}

BOOST_AUTO_TEST_CASE(smbus_host_transactions_find_an_empty_bus) {
    Rig r;
    r.seabios_setup(); // SMBHSTCFG 0x09: host enabled, interrupt on IRQ 9
    auto out = [&](u16 reg, u8 v) { r.io.write(SMB + reg, Width::Byte, v); };
    auto in = [&](u16 reg) { return r.io.read(SMB + reg, Width::Byte); };
    // A byte-data read of an SPD EEPROM (0x50), polled.
    out(Piix4Pm::SMBHSTADD, 0xA1);
    out(Piix4Pm::SMBHSTCMD, 0x00);
    out(Piix4Pm::SMBHSTCNT, (2 << 2) | Piix4Pm::HST_START);
    BOOST_TEST(in(Piix4Pm::SMBHSTSTS) == Piix4Pm::HST_DEV_ERR);
    BOOST_TEST(in(Piix4Pm::SMBHSTCNT) == (2u << 2)); // START reads 0
    BOOST_TEST(!r.sci.level());                      // INTEREN clear
    out(Piix4Pm::SMBHSTSTS, 0xFF);
    BOOST_TEST(in(Piix4Pm::SMBHSTSTS) == 0u);
    // With the interrupt enabled the error reaches IRQ 9 until cleared.
    out(Piix4Pm::SMBHSTCNT, Piix4Pm::HST_INTEREN | Piix4Pm::HST_START);
    BOOST_TEST(r.sci.level());
    out(Piix4Pm::SMBHSTSTS, Piix4Pm::HST_DEV_ERR);
    BOOST_TEST(!r.sci.level());
    // SMI selected instead of IRQ 9: nothing (no SMM).
    r.pm.config_write(Piix4Pm::SMBHSTCFG, Width::Byte, 0x01);
    out(Piix4Pm::SMBHSTCNT, Piix4Pm::HST_INTEREN | Piix4Pm::HST_START);
    BOOST_TEST(!r.sci.level());
    r.pm.config_write(Piix4Pm::SMBHSTCFG, Width::Byte, 0x09);
    BOOST_TEST(r.sci.level());
    out(Piix4Pm::SMBHSTSTS, 0xFF);
    // KILL (a driver's timeout path) reports FAILED, and holds off START.
    out(Piix4Pm::SMBHSTCNT, Piix4Pm::HST_KILL);
    BOOST_TEST(in(Piix4Pm::SMBHSTSTS) == Piix4Pm::HST_FAILED);
    out(Piix4Pm::SMBHSTSTS, 0xFF);
    out(Piix4Pm::SMBHSTCNT, Piix4Pm::HST_KILL | Piix4Pm::HST_START);
    BOOST_TEST(in(Piix4Pm::SMBHSTSTS) == 0u);
    out(Piix4Pm::SMBHSTCNT, 0);
    // Block data: a 32-byte buffer whose pointer rewinds on a control read.
    for (u8 i = 0; i < 3; ++i)
        out(Piix4Pm::SMBBLKDAT, static_cast<u8>(0x10 + i));
    (void)in(Piix4Pm::SMBHSTCNT);
    BOOST_TEST(in(Piix4Pm::SMBBLKDAT) == 0x10u);
    BOOST_TEST(in(Piix4Pm::SMBBLKDAT) == 0x11u);
    // Data registers are plain storage.
    out(Piix4Pm::SMBHSTDAT0, 0x77);
    out(Piix4Pm::SMBHSTDAT1, 0x88);
    BOOST_TEST(r.io.read(SMB + Piix4Pm::SMBHSTDAT0, Width::Word) == 0x8877u);
}

BOOST_AUTO_TEST_CASE(random_registers) {
    Rig r;
    r.seabios_setup();
    r.acpi_enable();
    // Every window the device decodes, and offsets past them; the power-off
    // callback may fire (SLP_EN), which only has to be survivable.
    test::random_register_loop(r.pm, 0x420, 40000, 3);
    for (int i = 0; i < 200; ++i) {
        r.clock.advance(50'000'000);
        test::random_register_loop(r.pm, 0x420, 200, static_cast<u32>(i));
    }
    // Config space too, then the ports again at wherever the blocks went.
    std::mt19937 rng(5);
    for (int i = 0; i < 20000; ++i) {
        u8 off = static_cast<u8>(rng());
        if (rng() % 2)
            r.pm.config_write(off, Width::Byte, rng() & 0xFF);
        else
            (void)r.pm.config_read(off, Width::Byte);
        if (i % 64 == 0) test::random_register_loop(r.pm, 0x420, 16, static_cast<u32>(i));
    }
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    Rig a;
    a.seabios_setup();
    a.acpi_enable();
    a.io.write(PM + Piix4Pm::PM1_EN, Width::Word, Piix4Pm::TMR_EN | Piix4Pm::PWRBTN_EN);
    a.io.write(PM + 0x28, Width::Dword, 0x0102'0304);
    a.io.write(Piix4Pm::GPE0_BLK + 2, Width::Word, 0x00F0);
    a.io.write(SMB + Piix4Pm::SMBHSTADD, Width::Byte, 0xA0);
    a.io.write(SMB + Piix4Pm::SMBBLKDAT, Width::Byte, 0x42);
    a.clock.advance(3 * ticks_to_ns(1u << 23) + 12345); // TMR_STS pending
    u32 timer = a.timer();
    BOOST_TEST(a.sci.level());

    // The machine sets its clock to the saved time when it restores.
    Rig b;
    b.clock.advance(a.clock.now());
    test::check_save_load_save(a.pm, b.pm);
    // The loaded function decodes where it was, counts on, and drives its line.
    BOOST_TEST(b.pm.pm_io_mapped());
    BOOST_TEST(b.pm.smbus_mapped());
    BOOST_TEST(b.timer() == timer);
    BOOST_TEST(b.sci.level());
    BOOST_TEST(b.io.read(PM + 0x28, Width::Dword) == 0x0102'0304u);
    BOOST_TEST(b.io.read(Piix4Pm::GPE0_BLK + 2, Width::Word) == 0x00F0u);
    b.io.write(PM + Piix4Pm::PM1_STS, Width::Word, Piix4Pm::TMR_STS);
    BOOST_TEST(!b.sci.level());
    // The next toggle still raises the SCI through the re-armed timer.
    b.clock.advance(ticks_to_ns(1u << 23));
    BOOST_TEST(b.sci.level());

    // The PM timer is saved as its start on the virtual clock: loaded while
    // the clock reads anything (the machine loads the CPU, whose count a
    // deterministic clock follows, after the devices) and then set to the
    // saved time, it counts on from where it was.
    Rig c({}, 987'654'321'000);
    auto bytes = test::save_state(a.pm);
    auto loader = StateVisitor::loader(bytes);
    c.pm.visit_state(loader);
    BOOST_REQUIRE(loader.ok());
    c.clock.set_now(a.clock.now());
    c.pm.post_load();
    BOOST_TEST(c.timer() == timer);
    // A timer that would start after the clock's time is clamped, not a
    // counter running backwards.
    Rig d;
    auto loader2 = StateVisitor::loader(bytes);
    d.pm.visit_state(loader2);
    BOOST_REQUIRE(loader2.ok());
    d.pm.post_load();
    BOOST_TEST(d.timer() == 0u);
}

BOOST_AUTO_TEST_CASE(bad_streams_fail_cleanly) {
    Rig a, b;
    a.seabios_setup();
    a.clock.advance(ticks_to_ns(1u << 23) / 2);
    test::check_bad_streams_fail(a.pm, b.pm);
    // A status epoch ahead of the timer is refused. A field is stored as
    // tag, name length, name, u32 size, value: overwrite the epoch's value.
    Rig fresh, target;
    auto bytes = test::save_state(fresh.pm);
    std::string name = "timer_epoch";
    auto it = std::search(bytes.begin(), bytes.end(), name.begin(), name.end());
    BOOST_REQUIRE(it != bytes.end());
    auto value = it + static_cast<std::ptrdiff_t>(name.size() + 4);
    BOOST_REQUIRE(bytes.end() - value >= 8);
    std::fill(value, value + 8, u8{0xFF});
    auto loader = StateVisitor::loader(bytes);
    target.pm.visit_state(loader);
    BOOST_TEST(!loader.ok());
    BOOST_TEST(loader.error().find("epoch") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
