// SPDX-License-Identifier: GPL-2.0-or-later
// The PIIX3 IDE function: its PCI identity, the timing registers, the bus
// master BAR (sizing, mapping, registers, DMA refused visibly), legacy
// port decoding of both channels with their ISA IRQs, save/restore.
#include "hw/ata_disk.h"
#include "hw/piix3_ide.h"
#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"
#include "tests/hw/memory_block_device_support.h"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace vsa;
using vsa::test::FakeIrqLine;
using vsa::test::MemoryBlockDevice;

namespace {
struct Rig {
    Clock clock{Clock::Mode::Manual};
    FakeIrqLine irq14, irq15;
    IoBus io;
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
    PciBus bus{io, *memory};
    MemoryBlockDevice disk0{4096}, disk1{4096};
    AtaDisk primary{disk0, "P0"}, secondary{disk1, "S0"};
    Piix3Ide ide{irq14, irq15};
    Rig() {
        BOOST_REQUIRE(io.map(PciBus::CONFIG_ADDRESS, 8, bus));
        BOOST_REQUIRE(bus.attach(1, 1, ide));
        ide.channel(0).attach(0, &primary);
        ide.channel(1).attach(0, &secondary);
        ide.reset();
        BOOST_REQUIRE(ide.map_ports(io));
    }
    u32 cfg_read(u8 reg, Width w = Width::Dword) {
        io.write(0xCF8, Width::Dword, 0x8000'0000u | (1u << 11) | (1u << 8) | (reg & 0xFCu));
        return io.read(static_cast<Port>(0xCFC + (reg & 3)), w);
    }
    void cfg_write(u8 reg, u32 value, Width w = Width::Dword) {
        io.write(0xCF8, Width::Dword, 0x8000'0000u | (1u << 11) | (1u << 8) | (reg & 0xFCu));
        io.write(static_cast<Port>(0xCFC + (reg & 3)), w, value);
    }
};
} // namespace

BOOST_AUTO_TEST_SUITE(piix3_ide)

BOOST_AUTO_TEST_CASE(pci_identity) {
    Rig r;
    BOOST_TEST(r.cfg_read(0x00) == 0x7010'8086u);
    BOOST_TEST(r.cfg_read(0x08) == 0x0101'8000u); // class 01/01, prog-if 80, rev 00
    BOOST_TEST(r.cfg_read(0x0E, Width::Byte) == 0x80u);
    BOOST_TEST(r.cfg_read(0x3D, Width::Byte) == 0u); // legacy mode: no INTx pin
    // Only BAR4 exists.
    for (u8 bar : {0x10, 0x14, 0x18, 0x1C, 0x24}) {
        r.cfg_write(bar, 0xFFFF'FFFF);
        BOOST_TEST(r.cfg_read(bar) == 0u);
    }
}

BOOST_AUTO_TEST_CASE(timing_registers_are_storage) {
    Rig r;
    // What SeaBIOS writes: IDE decode enable on both channels.
    r.cfg_write(0x40, 0x8000, Width::Word);
    r.cfg_write(0x42, 0x8000, Width::Word);
    r.cfg_write(0x44, 0x5A, Width::Byte);
    BOOST_TEST(r.cfg_read(0x40) == 0x8000'8000u);
    BOOST_TEST(r.cfg_read(0x44, Width::Byte) == 0x5Au);
    r.ide.reset();
    BOOST_TEST(r.cfg_read(0x40) == 0u);
}

BOOST_AUTO_TEST_CASE(bus_master_bar_sizes_maps_and_refuses_dma) {
    Rig r;
    r.cfg_write(0x20, 0xFFFF'FFFF);
    BOOST_TEST(r.cfg_read(0x20) == 0xFFFF'FFF1u); // 16 bytes of I/O
    r.cfg_write(0x20, 0xC000);
    BOOST_TEST(r.io.read(0xC000, Width::Byte) == 0xFFu); // I/O decode still off
    r.cfg_write(0x04, pci::COMMAND_IO | pci::COMMAND_BUS_MASTER, Width::Word);
    BOOST_TEST(r.io.device_at(0xC000) == &r.ide);

    // PRD table address: dword aligned, per channel.
    r.io.write(0xC004, Width::Dword, 0x0012'3457);
    r.io.write(0xC00C, Width::Dword, 0x00AB'CDEF);
    BOOST_TEST(r.io.read(0xC004, Width::Dword) == 0x0012'3454u);
    BOOST_TEST(r.io.read(0xC00C, Width::Dword) == 0x00AB'CDECu);
    // Drive-capable bits are storage.
    r.io.write(0xC002, Width::Byte, 0x60);
    BOOST_TEST(r.io.read(0xC002, Width::Byte) == 0x60u);
    // Starting DMA is refused visibly: error bit, never active.
    r.io.write(0xC000, Width::Byte, 0x09);
    BOOST_TEST(r.io.read(0xC000, Width::Byte) == 0x09u);
    BOOST_TEST(r.io.read(0xC002, Width::Byte) == (0x60u | Piix3Ide::BM_STATUS_ERROR));
    BOOST_TEST(r.ide.ignored_accesses() == 1u);
    // Error and interrupt bits are write-one-to-clear.
    r.io.write(0xC002, Width::Byte, 0x62);
    BOOST_TEST(r.io.read(0xC002, Width::Byte) == 0x60u);
    r.io.write(0xC000, Width::Byte, 0x00);
    // The secondary channel's registers are separate.
    BOOST_TEST(r.io.read(0xC00A, Width::Byte) == 0u);
    // Moving the BAR moves the registers.
    r.cfg_write(0x20, 0xD000);
    BOOST_TEST(r.io.device_at(0xC000) == nullptr);
    BOOST_TEST(r.io.read(0xD004, Width::Dword) == 0x0012'3454u);
}

BOOST_AUTO_TEST_CASE(legacy_channels_use_irq_14_and_15) {
    Rig r;
    BOOST_TEST(r.io.device_at(0x1F0) == &r.ide);
    BOOST_TEST(r.io.device_at(0x3F6) == &r.ide);
    BOOST_TEST(r.io.device_at(0x3F7) == nullptr); // the floppy's
    BOOST_TEST(r.io.device_at(0x170) == &r.ide);
    BOOST_TEST(r.io.device_at(0x376) == &r.ide);
    r.io.write(0x177, Width::Byte, 0xE5);
    BOOST_TEST(r.irq15.level());
    BOOST_TEST(!r.irq14.level());
    // The rising edge latched the secondary bus master interrupt bit.
    BOOST_TEST((r.ide.bm_status(1) & Piix3Ide::BM_STATUS_IRQ) != 0);
    BOOST_TEST((r.ide.bm_status(0) & Piix3Ide::BM_STATUS_IRQ) == 0);
    BOOST_TEST(r.io.read(0x177, Width::Byte) == 0x50u);
    BOOST_TEST(!r.irq15.level());
    r.io.write(0x1F7, Width::Byte, 0xE5);
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.io.read(0x3F6, Width::Byte) == 0x50u);
    // Legacy ports decode with PCI I/O decode off (as QEMU; the BIOS
    // enables it anyway).
    BOOST_TEST((r.cfg_read(0x04, Width::Word) & pci::COMMAND_IO) == 0u);
}

BOOST_AUTO_TEST_CASE(save_load_and_bad_streams) {
    Rig a;
    a.cfg_write(0x40, 0xA307, Width::Word);
    a.cfg_write(0x20, 0xC000);
    a.cfg_write(0x04, pci::COMMAND_IO, Width::Word);
    a.io.write(0xC004, Width::Dword, 0x1000);
    a.io.write(0x1F7, Width::Byte, 0xEC); // IDENTIFY in flight
    Rig b;
    vsa::test::check_save_load_save(a.ide, b.ide);
    // The loaded device remapped its BAR and kept the transfer.
    BOOST_TEST(b.io.device_at(0xC000) == &b.ide);
    BOOST_TEST(b.io.read(0xC004, Width::Dword) == 0x1000u);
    BOOST_TEST(b.io.read(0x1F7, Width::Byte) == 0x58u);
    BOOST_TEST(b.io.read(0x1F0, Width::Word) == 0x0040u);
    Rig c;
    vsa::test::check_bad_streams_fail(a.ide, c.ide);
}

BOOST_AUTO_TEST_CASE(random_config_and_port_loop) {
    Rig r;
    std::mt19937 rng(3);
    for (int i = 0; i < 20000; ++i) {
        u8 reg = static_cast<u8>(rng());
        Width w = rng() % 2 ? Width::Byte : Width::Dword;
        if (w == Width::Dword) reg &= 0xFC;
        if (rng() % 2)
            r.ide.config_write(reg, w, rng());
        else
            (void)r.ide.config_read(reg, w);
    }
    vsa::test::random_register_loop(r.ide, 0x400, 50000, 11);
    r.clock.advance(1'000'000);
    r.ide.reset();
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == 0x50u);
}

BOOST_AUTO_TEST_SUITE_END()
