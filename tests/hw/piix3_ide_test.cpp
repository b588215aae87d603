// SPDX-License-Identifier: GPL-2.0-or-later
// The PIIX3 IDE function: its PCI identity, the timing registers, the bus
// master BAR (sizing, mapping, registers), bus master DMA (PRD tables,
// status bit semantics, bad PRDs, short tables, the 64 KiB wrap), legacy
// port decoding of both channels with their ISA IRQs, save/restore (also
// mid-DMA), and random register loops that start DMA with random PRDs.
#include "hw/ata_disk.h"
#include "hw/atapi_cdrom.h"
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
    Piix3Ide ide{irq14, irq15, *memory};
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

    // ---- bus master DMA helpers (BAR4 at 0xC000) ----
    static constexpr Port BM = 0xC000;
    void enable_bus_master() {
        cfg_write(0x20, BM);
        cfg_write(0x04, pci::COMMAND_IO | pci::COMMAND_BUS_MASTER, Width::Word);
    }
    u8 bm_status(unsigned ch = 0) {
        return static_cast<u8>(io.read(static_cast<Port>(BM + 8 * ch + 2), Width::Byte));
    }
    void bm_command(u8 value, unsigned ch = 0) {
        io.write(static_cast<Port>(BM + 8 * ch), Width::Byte, value);
    }
    // A PRD table at `table`: (address, byte count with 0 = 64 KiB); EOT
    // on the last entry unless `eot` is false.
    void prd_table(u32 table, std::vector<std::pair<u32, u32>> const& entries, bool eot = true) {
        for (std::size_t i = 0; i < entries.size(); ++i) {
            u32 control = entries[i].second & 0xFFFF;
            if (eot && i + 1 == entries.size()) control |= 0x8000'0000u;
            u32 at = static_cast<u32>((table & 0xFFFF'0000u) | ((table + 8 * i) & 0xFFFF));
            memory->write(at, Width::Dword, entries[i].first);
            memory->write(at + 4, Width::Dword, control);
        }
    }
    // What libata's ata_bmdma_setup does: table, direction, status clear.
    void bm_setup(u32 table, bool to_memory, unsigned ch = 0) {
        io.write(static_cast<Port>(BM + 8 * ch + 4), Width::Dword, table);
        bm_command(to_memory ? 0x08 : 0x00, ch);
        io.write(static_cast<Port>(BM + 8 * ch + 2), Width::Byte, 0x06);
    }
    void lba28(u8 command, u32 lba, u8 count, Port base = 0x1F0) {
        io.write(base + 6, Width::Byte, 0xE0 | ((lba >> 24) & 0x0F));
        io.write(base + 2, Width::Byte, count);
        io.write(base + 3, Width::Byte, lba & 0xFF);
        io.write(base + 4, Width::Byte, (lba >> 8) & 0xFF);
        io.write(base + 5, Width::Byte, (lba >> 16) & 0xFF);
        io.write(base + 7, Width::Byte, command);
    }
    void lba48(u8 command, u64 lba, u16 count) {
        io.write(0x1F6, Width::Byte, 0x40);
        io.write(0x1F2, Width::Byte, count >> 8);
        io.write(0x1F3, Width::Byte, (lba >> 24) & 0xFF);
        io.write(0x1F4, Width::Byte, (lba >> 32) & 0xFF);
        io.write(0x1F5, Width::Byte, (lba >> 40) & 0xFF);
        io.write(0x1F2, Width::Byte, count & 0xFF);
        io.write(0x1F3, Width::Byte, lba & 0xFF);
        io.write(0x1F4, Width::Byte, (lba >> 8) & 0xFF);
        io.write(0x1F5, Width::Byte, (lba >> 16) & 0xFF);
        io.write(0x1F7, Width::Byte, command);
    }
    std::vector<u8> ram(u32 addr, std::size_t n) {
        std::vector<u8> out(n);
        BOOST_REQUIRE(memory->read_bytes(addr, out));
        return out;
    }
    // The disk's sectors [first, first + count) as one byte string.
    std::vector<u8> disk_bytes(MemoryBlockDevice const& d, u64 first, unsigned count) {
        std::vector<u8> out;
        for (unsigned i = 0; i < count; ++i) {
            auto sector = d.sector(first + i);
            out.insert(out.end(), sector.begin(), sector.end());
        }
        return out;
    }
};

constexpr u8 READY = 0x50, DATA_READY = 0x58, FAILED = 0x51;
constexpr u8 ACTIVE = Piix3Ide::BM_STATUS_ACTIVE, ERR = Piix3Ide::BM_STATUS_ERROR,
             INT = Piix3Ide::BM_STATUS_IRQ;
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

BOOST_AUTO_TEST_CASE(bus_master_bar_sizes_and_maps) {
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
    // Starting the engine with no drive transfer: ACTIVE, nothing moves.
    r.io.write(0xC000, Width::Byte, 0x09);
    BOOST_TEST(r.io.read(0xC000, Width::Byte) == 0x09u);
    BOOST_TEST(r.io.read(0xC002, Width::Byte) == (0x60u | Piix3Ide::BM_STATUS_ACTIVE));
    BOOST_TEST(r.ide.ignored_accesses() == 0u);
    // Stopping clears ACTIVE; reserved bits of the command read 0.
    r.io.write(0xC000, Width::Byte, 0xF6);
    BOOST_TEST(r.io.read(0xC000, Width::Byte) == 0x00u);
    BOOST_TEST(r.io.read(0xC002, Width::Byte) == 0x60u);
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

BOOST_AUTO_TEST_CASE(dma_read_through_several_prds_command_first) {
    Rig r;
    r.enable_bus_master();
    for (u64 lba = 100; lba < 140; ++lba)
        r.disk0.fill_pattern(lba, 5);
    // Three regions: 4 KiB + 8 KiB + 64 KiB (count 0) for a 20 KiB read:
    // the table has room to spare.
    r.prd_table(0x10000, {{0x20000, 0x1000}, {0x30000, 0x2000}, {0x40000, 0}});
    r.bm_setup(0x10000, true);
    r.lba28(0xC8, 100, 40); // READ DMA, the order libata uses: command, then START
    BOOST_TEST(r.io.read(0x3F6, Width::Byte) == DATA_READY);
    BOOST_TEST(!r.irq14.level()); // a DMA data phase raises no interrupt
    BOOST_TEST(r.bm_status() == 0u);
    BOOST_TEST(r.io.read(0x1F0, Width::Word) == 0xFFFFu); // the data port moves nothing
    r.bm_command(0x09);
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.bm_status() == (ACTIVE | INT)); // drive done, PRDs to spare
    auto want = r.disk_bytes(r.disk0, 100, 40);
    std::vector<u8> got = r.ram(0x20000, 0x1000);
    auto more = r.ram(0x30000, 0x2000);
    got.insert(got.end(), more.begin(), more.end());
    more = r.ram(0x40000, 20480 - 0x3000);
    got.insert(got.end(), more.begin(), more.end());
    BOOST_TEST(got == want);
    BOOST_TEST(r.ram(0x40000 + 20480 - 0x3000, 4) == std::vector<u8>(4, 0)); // not a byte more
    // The driver: stop the engine, read the status, clear INT.
    r.bm_command(0x08);
    BOOST_TEST(r.bm_status() == INT);
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == READY);
    BOOST_TEST(!r.irq14.level());
    r.io.write(0xC002, Width::Byte, INT);
    BOOST_TEST(r.bm_status() == 0u);
    BOOST_TEST(r.ide.ignored_accesses() == 0u);
}

BOOST_AUTO_TEST_CASE(dma_exact_table_start_first_and_lba48) {
    Rig r;
    r.enable_bus_master();
    for (u64 lba = 0x800; lba < 0x800 + 24; ++lba)
        r.disk0.fill_pattern(lba, 9);
    // 12 KiB exactly: the table ends with the data, ACTIVE clears.
    r.prd_table(0x8000, {{0x100000, 0x0800}, {0x180000, 0x2000}, {0x1FF000, 0x0800}});
    r.bm_setup(0x8000, true);
    r.bm_command(0x09); // START first, then the command: both orders work
    BOOST_TEST(r.bm_status() == ACTIVE);
    r.lba48(0x25, 0x800, 24); // READ DMA EXT
    BOOST_TEST(r.bm_status() == INT);
    BOOST_TEST(r.irq14.level());
    auto want = r.disk_bytes(r.disk0, 0x800, 24);
    std::vector<u8> got = r.ram(0x100000, 0x800);
    auto b = r.ram(0x180000, 0x2000);
    got.insert(got.end(), b.begin(), b.end());
    b = r.ram(0x1FF000, 0x800);
    got.insert(got.end(), b.begin(), b.end());
    BOOST_TEST(got == want);
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == READY);
}

BOOST_AUTO_TEST_CASE(dma_write_through_several_prds) {
    Rig r;
    r.enable_bus_master();
    std::vector<u8> source(20 * 512);
    std::mt19937 rng(42);
    for (auto& byte : source)
        byte = static_cast<u8>(rng());
    // Odd-sized (but even) regions that split sectors.
    BOOST_REQUIRE(r.memory->write_bytes(0x50000, std::span(source).first(1000)));
    BOOST_REQUIRE(r.memory->write_bytes(0x60000, std::span(source).subspan(1000, 6000)));
    BOOST_REQUIRE(r.memory->write_bytes(0x70000, std::span(source).subspan(7000)));
    r.prd_table(0x9000,
                {{0x50000, 1000}, {0x60000, 6000}, {0x70000, static_cast<u32>(source.size() - 7000)}});
    r.bm_setup(0x9000, false);
    r.lba48(0x35, 2000, 20); // WRITE DMA EXT
    BOOST_TEST(r.io.read(0x3F6, Width::Byte) == DATA_READY);
    r.bm_command(0x01);
    BOOST_TEST(r.bm_status() == INT);
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.disk_bytes(r.disk0, 2000, 20) == source);
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == READY);
    // WRITE DMA (28-bit) on the secondary channel, one 64 KiB region.
    r.prd_table(0xA000, {{0x50000, 0}});
    r.bm_setup(0xA000, false, 1);
    r.lba28(0xCA, 7, 128, 0x170);
    r.bm_command(0x01, 1);
    BOOST_TEST(r.bm_status(1) == INT);
    BOOST_TEST(r.irq15.level());
    BOOST_TEST(r.disk_bytes(r.disk1, 7, 128) == r.ram(0x50000, 65536));
}

BOOST_AUTO_TEST_CASE(prd_outside_ram_ends_with_error) {
    Rig r;
    r.enable_bus_master();
    // A region past the end of the 16 MiB of RAM: the engine stops with
    // ERROR, the command fails with an interrupt, the host is untouched.
    r.prd_table(0x10000, {{0x1000, 0x200}, {0x0400'0000, 0x1000}});
    r.bm_setup(0x10000, true);
    r.lba28(0xC8, 0, 16);
    r.bm_command(0x09);
    BOOST_TEST(r.bm_status() == (ERR | INT));
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == FAILED);
    BOOST_TEST(r.io.read(0x1F1, Width::Byte) == ata::ERROR_ABRT);
    BOOST_TEST(r.ide.ignored_accesses() == 1u);
    BOOST_TEST(r.ram(0x1000, 0x200) == r.disk_bytes(r.disk0, 0, 1)); // what came before stays
    r.bm_command(0x08);
    r.io.write(0xC002, Width::Byte, ERR | INT);
    BOOST_TEST(r.bm_status() == 0u);

    // A region that straddles the end of RAM, a DMA write from the PCI
    // hole, a table outside RAM: each the same way.
    struct Case {
        u32 table;
        u32 addr;
        u8 command;
    };
    for (Case c : {Case{0x10000, 16 * MiB - 0x200, 0xC8}, Case{0x10000, 0xE000'0000u, 0xCA},
                   Case{0x0800'0000, 0x1000, 0xC8}, Case{0xFFFF'FFF8u, 0x1000, 0xC8}}) {
        BOOST_TEST_CONTEXT("table " << c.table << " region " << c.addr) {
            if (c.table < 16 * MiB) r.prd_table(c.table, {{c.addr, 0x1000}});
            bool to_memory = c.command == 0xC8;
            r.bm_setup(c.table, to_memory);
            r.lba28(c.command, 0, 8);
            r.bm_command(to_memory ? 0x09 : 0x01);
            BOOST_TEST(r.bm_status() == (ERR | INT));
            BOOST_TEST(r.io.read(0x1F7, Width::Byte) == FAILED);
            r.bm_command(0x00);
        }
    }
    BOOST_TEST(r.ide.ignored_accesses() == 5u);
}

BOOST_AUTO_TEST_CASE(prd_table_too_short_stalls_until_restarted_or_reset) {
    Rig r;
    r.enable_bus_master();
    for (u64 lba = 0; lba < 16; ++lba)
        r.disk0.fill_pattern(lba, 1);
    // 4 KiB of table for an 8 KiB read: the table runs out first.
    r.prd_table(0x10000, {{0x20000, 0x1000}});
    r.bm_setup(0x10000, true);
    r.lba28(0xC8, 0, 16);
    r.bm_command(0x09);
    // SFF-8038i: INTERRUPT=0, ACTIVE=0: the drive still holds data, no IRQ.
    BOOST_TEST(r.bm_status() == 0u);
    BOOST_TEST(!r.irq14.level());
    BOOST_TEST(r.io.read(0x3F6, Width::Byte) == DATA_READY);
    BOOST_TEST(r.ram(0x20000, 0x1000) == r.disk_bytes(r.disk0, 0, 8));
    // Restarting the engine on a new table finishes the transfer.
    r.bm_command(0x08);
    r.prd_table(0x11000, {{0x30000, 0x1000}});
    r.bm_setup(0x11000, true);
    r.bm_command(0x09);
    BOOST_TEST(r.bm_status() == INT);
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.ram(0x30000, 0x1000) == r.disk_bytes(r.disk0, 8, 8));
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == READY);
    // Again short, and this time the driver gives up: SRST ends it.
    r.bm_command(0x08);
    r.bm_setup(0x10000, true);
    r.lba28(0xC8, 0, 16);
    r.bm_command(0x09);
    BOOST_TEST(r.bm_status() == 0u);
    r.bm_command(0x08);
    r.io.write(0x3F6, Width::Byte, ata::CONTROL_SRST);
    r.io.write(0x3F6, Width::Byte, 0);
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == READY);
    r.lba28(0x20, 3, 1); // PIO works after it
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == DATA_READY);
    BOOST_TEST(r.ide.ignored_accesses() == 0u);
}

BOOST_AUTO_TEST_CASE(prd_table_wraps_in_its_64k_page_and_is_bounded) {
    Rig r;
    r.enable_bus_master();
    for (u64 lba = 0; lba < 2; ++lba)
        r.disk0.fill_pattern(lba, 3);
    // The second entry of a table at 0x1FFF8 is read from 0x10000, not
    // 0x20000 (the PIIX counts the low 16 bits of the pointer).
    r.prd_table(0x1FFF8, {{0x40000, 0x200}, {0x50000, 0x200}});
    r.memory->write(0x20000, Width::Dword, 0x60000); // what a linear walk would use
    r.memory->write(0x20004, Width::Dword, 0x8000'0200u);
    r.bm_setup(0x1FFF8, true);
    r.lba28(0xC8, 0, 2);
    r.bm_command(0x09);
    BOOST_TEST(r.bm_status() == INT);
    BOOST_TEST(r.ram(0x50000, 0x200) == r.disk_bytes(r.disk0, 1, 1));
    BOOST_TEST(r.ram(0x60000, 0x200) == std::vector<u8>(0x200, 0));
    // A whole 64 KiB of 2-byte entries without EOT: after 8192 entries
    // the table counts as used up; the transfer stalls, nothing hangs.
    r.bm_command(0x08);
    for (u32 i = 0; i < Piix3Ide::PRD_TABLE_ENTRIES; ++i) {
        r.memory->write(0x300000 + 8 * i, Width::Dword, 0x400000);
        r.memory->write(0x300000 + 8 * i + 4, Width::Dword, 2);
    }
    r.bm_setup(0x300000, true);
    r.lba28(0xC8, 0, 64); // 32 KiB, more than 8192 x 2 bytes
    r.bm_command(0x09);
    BOOST_TEST(r.bm_status() == 0u);
    BOOST_TEST(r.io.read(0x3F6, Width::Byte) == DATA_READY);
}

BOOST_AUTO_TEST_CASE(status_bits_and_refused_transfers) {
    Rig r;
    r.enable_bus_master();
    // ACTIVE is read-only; ERROR and INT are write-one-to-clear; bits 5/6
    // storage; the other bits read 0.
    r.io.write(0xC002, Width::Byte, 0xFF);
    BOOST_TEST(r.bm_status() == 0x60u);
    r.io.write(0x1F7, Width::Byte, 0xE5); // a PIO/non-data interrupt sets INT too
    BOOST_TEST(r.bm_status() == (0x60u | INT));
    r.io.write(0xC002, Width::Byte, 0x60 | ERR); // writing ERR (not set) clears nothing else
    BOOST_TEST(r.bm_status() == (0x60u | INT));
    r.io.write(0xC002, Width::Byte, INT);
    BOOST_TEST(r.bm_status() == 0u);
    (void)r.io.read(0x1F7, Width::Byte);
    // Direction bit against the command: a read with the engine set to
    // read memory is an error (counted), the command fails.
    r.prd_table(0x10000, {{0x20000, 0x1000}});
    r.bm_setup(0x10000, false);
    r.lba28(0xC8, 0, 8);
    r.bm_command(0x01);
    BOOST_TEST(r.bm_status() == (ERR | INT));
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == FAILED);
    BOOST_TEST(r.ide.ignored_accesses() == 1u);
    // Bus mastering off in the PCI command register: the same.
    r.bm_command(0x00);
    r.cfg_write(0x04, pci::COMMAND_IO, Width::Word);
    r.bm_setup(0x10000, true);
    r.lba28(0xC8, 0, 8);
    r.bm_command(0x09);
    BOOST_TEST(r.bm_status() == (ERR | INT));
    BOOST_TEST(r.ide.ignored_accesses() == 2u);
    // A second START while started does not restart the walk; a command
    // that fails without data leaves ACTIVE with INT (libata stops it).
    r.bm_command(0x00);
    r.enable_bus_master();
    r.bm_setup(0x10000, true);
    r.bm_command(0x09);
    r.lba28(0xC8, 5000, 8); // past the end: IDNF
    BOOST_TEST(r.bm_status() == (ACTIVE | INT));
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == FAILED);
    BOOST_TEST(r.io.read(0x1F1, Width::Byte) == ata::ERROR_IDNF);
    // Channels are independent: the secondary engine saw nothing.
    BOOST_TEST(r.bm_status(1) == 0u);
}

BOOST_AUTO_TEST_CASE(save_load_save_during_dma) {
    // A command waiting for START (the data is in the channel).
    Rig a;
    a.enable_bus_master();
    for (u64 lba = 40; lba < 72; ++lba)
        a.disk0.fill_pattern(lba, 7);
    a.prd_table(0x10000, {{0x20000, 0x1000}, {0x30000, 0x3000}});
    a.bm_setup(0x10000, true);
    a.lba28(0xC8, 40, 32);
    Rig b;
    for (u64 lba = 40; lba < 72; ++lba)
        b.disk0.fill_pattern(lba, 7);
    b.prd_table(0x10000, {{0x20000, 0x1000}, {0x30000, 0x3000}});
    vsa::test::check_save_load_save(a.ide, b.ide);
    b.bm_command(0x09);
    BOOST_TEST(b.bm_status() == INT);
    auto got = b.ram(0x20000, 0x1000);
    auto rest = b.ram(0x30000, 0x3000);
    got.insert(got.end(), rest.begin(), rest.end());
    BOOST_TEST(got == b.disk_bytes(b.disk0, 40, 32));

    // A write stalled half-way on a short table: the engine's walk, the
    // channel's partial block and the disk's position all come back.
    Rig c;
    c.enable_bus_master();
    std::vector<u8> source(16 * 512);
    for (std::size_t i = 0; i < source.size(); ++i)
        source[i] = static_cast<u8>(i * 13 + 1);
    BOOST_REQUIRE(c.memory->write_bytes(0x40000, source));
    c.prd_table(0x10000, {{0x40000, 0x0C00}});
    c.bm_setup(0x10000, false);
    c.lba28(0xCA, 9, 16);
    c.bm_command(0x01);
    BOOST_TEST(c.bm_status() == 0u); // stalled at 3 KiB of 8 KiB
    Rig d;
    BOOST_REQUIRE(d.memory->write_bytes(0x40000, source));
    d.prd_table(0x10000, {{0x40C00, 0x1400}});
    vsa::test::check_save_load_save(c.ide, d.ide);
    d.bm_command(0x00);
    d.bm_setup(0x10000, false);
    d.bm_command(0x01);
    BOOST_TEST(d.bm_status() == INT);
    BOOST_TEST(d.disk_bytes(d.disk0, 9, 16) == source);

    // The engine mid-region after a short command (PRDs to spare).
    Rig e;
    e.enable_bus_master();
    e.prd_table(0x10000, {{0x20000, 0x1000}, {0x30000, 0x1000}});
    e.bm_setup(0x10000, true);
    e.bm_command(0x09);
    e.lba28(0xC8, 0, 1);
    BOOST_TEST(e.bm_status() == (ACTIVE | INT));
    Rig f;
    vsa::test::check_save_load_save(e.ide, f.ide);
    BOOST_TEST(f.bm_status() == (ACTIVE | INT));
    Rig g;
    vsa::test::check_bad_streams_fail(c.ide, g.ide);
}

BOOST_AUTO_TEST_CASE(random_dma_loop_with_random_prd_pointers) {
    Rig r;
    r.enable_bus_master();
    std::mt19937 rng(2024);
    // Random PRD tables in the first MiB (addresses anywhere in 4 GiB,
    // counts anywhere, EOT or not).
    auto scribble = [&] {
        for (int i = 0; i < 64; ++i) {
            u32 at = (rng() % (1 * MiB)) & ~7u;
            u32 addr = rng() % 4 ? rng() % (20 * MiB) : static_cast<u32>(rng());
            r.memory->write(at, Width::Dword, addr);
            r.memory->write(at + 4, Width::Dword, static_cast<u32>(rng()) & 0x8000'FFFFu);
        }
    };
    scribble();
    u8 const commands[] = {0xC8, 0xCA, 0x25, 0x35, 0xC9, 0xCB, 0x20, 0x30, 0xEC, 0xEF, 0xE7};
    for (int i = 0; i < 30000; ++i) {
        unsigned ch = rng() % 2;
        Port base = ch ? 0x170 : 0x1F0;
        Port bm = static_cast<Port>(Rig::BM + 8 * ch);
        switch (rng() % 10) {
        case 0: {
            u32 table = rng() % 8 ? (rng() % (1 * MiB)) : static_cast<u32>(rng());
            r.io.write(bm + 4, Width::Dword, table);
            break;
        }
        case 1:
        case 2:
            r.io.write(bm, Width::Byte, rng() % 16);
            break;
        case 3:
            r.io.write(static_cast<Port>(bm + 2), Width::Byte, rng() & 0xFF);
            break;
        case 4:
        case 5: {
            u8 command = commands[rng() % std::size(commands)];
            if (command == 0x25 || command == 0x35)
                r.lba48(command, rng() % 4200, static_cast<u16>(rng() % 300));
            else
                r.lba28(command, rng() % 4200, static_cast<u8>(rng()), base);
            break;
        }
        case 6:
            (void)r.io.read(base + (rng() % 8), rng() % 2 ? Width::Word : Width::Byte);
            break;
        case 7:
            r.io.write(base + (rng() % 8), Width::Word, rng() & 0xFFFF);
            break;
        case 8:
            if (rng() % 50 == 0) r.io.write(ch ? 0x376 : 0x3F6, Width::Byte, rng() % 2 ? 0x04 : 0x00);
            if (rng() % 200 == 0) scribble();
            if (rng() % 300 == 0) r.cfg_write(0x04, rng() % 8, Width::Word);
            if (rng() % 300 == 0) r.enable_bus_master();
            break;
        default:
            (void)r.io.read(static_cast<Port>(bm + (rng() % 8)), Width::Byte);
            break;
        }
    }
    Rig fresh;
    vsa::test::check_save_load_save(r.ide, fresh.ide);
    r.ide.reset();
    BOOST_TEST(r.ide.bm_status(0) == 0u);
    BOOST_TEST(r.ide.bm_status(1) == 0u);
}

BOOST_AUTO_TEST_CASE(each_drive_shows_its_own_signature_after_reset) {
    // libata's probe (ata_sff_softreset, ata_sff_dev_classify): SRST, then
    // select each device and classify it by its own LBA mid/high. An
    // ATAPI slave behind an ATA master must read EB14h.
    Rig r;
    AtapiCdrom cd{"SLAVE"};
    r.ide.channel(0).attach(1, &cd);
    r.io.write(0x3F6, Width::Byte, ata::CONTROL_SRST);
    r.io.write(0x3F6, Width::Byte, 0);
    r.io.write(0x1F6, Width::Byte, 0xB0);
    BOOST_TEST(r.io.read(0x1F1, Width::Byte) == 0x01u); // diagnostic passed
    BOOST_TEST(r.io.read(0x1F4, Width::Byte) == 0x14u);
    BOOST_TEST(r.io.read(0x1F5, Width::Byte) == 0xEBu);
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == 0u);
    r.io.write(0x1F6, Width::Byte, 0xA0);
    BOOST_TEST(r.io.read(0x1F4, Width::Byte) == 0u);
    BOOST_TEST(r.io.read(0x1F5, Width::Byte) == 0u);
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == READY);
    // Host writes reach both; a command's results only its drive's copy.
    r.io.write(0x1F4, Width::Byte, 0x12);
    r.io.write(0x1F6, Width::Byte, 0xB0);
    BOOST_TEST(r.io.read(0x1F4, Width::Byte) == 0x12u);
    r.io.write(0x1F7, Width::Byte, 0xEC); // IDENTIFY DEVICE: the CD aborts it, shows EB14h
    BOOST_TEST(r.io.read(0x1F7, Width::Byte) == FAILED);
    BOOST_TEST(r.io.read(0x1F4, Width::Byte) == 0x14u);
    r.io.write(0x1F6, Width::Byte, 0xA0);
    BOOST_TEST(r.io.read(0x1F4, Width::Byte) == 0x12u);
    Rig fresh;
    AtapiCdrom cd2{"SLAVE"};
    fresh.ide.channel(0).attach(1, &cd2);
    vsa::test::check_save_load_save(r.ide, fresh.ide);
    fresh.io.write(0x1F6, Width::Byte, 0xB0);
    BOOST_TEST(fresh.io.read(0x1F4, Width::Byte) == 0x14u);
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
