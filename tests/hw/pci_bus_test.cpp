// SPDX-License-Identifier: GPL-2.0-or-later
// PciBus and the PciDevice base: configuration mechanism #1 through the
// port bus, BAR sizing (I/O, memory, expansion ROM), BAR mapping that
// follows the command register, overlap refusal, INTx to the PIRQ sink.
#include "hypervisor/io/clock.h"
#include "hypervisor/io/pci.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace vsa;

namespace {
struct TestFunction final : PciDevice {
    explicit TestFunction(u16 device_id, std::vector<u8> const* rom = nullptr)
        : PciDevice(PciId{0x1AF4, device_id, 0x02, 0x00, 0x00, 0x01, 0x1AF4, 0x1100}) {
        declare_bar(0, BarKind::Io, 32);
        declare_bar(1, BarKind::Memory32, 4096);
        if (rom) declare_rom(*rom);
        set_interrupt_pin(1);
    }
    std::string_view name() const override { return "test-function"; }
    u32 io_read(u16 offset, Width) override { return 0xA000u + offset; }
    void io_write(u16 offset, Width, u32 value) override { last_io = {offset, value}; }
    u32 mmio_read(u64 offset, Width) override { return 0xB000'0000u + static_cast<u32>(offset); }
    void visit_state(StateVisitor& v) override { visit_pci_state(v); }
    void raise(bool level) { set_irq_level(level); }
    std::pair<u16, u32> last_io{0xFFFF, 0};
};

struct Rig {
    Clock clock{Clock::Mode::Manual};
    IoBus io;
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
    PciBus bus{io, *memory};
    std::vector<u8> rom = std::vector<u8>(6000, 0x55);
    TestFunction a{0x1000, &rom};
    TestFunction b{0x1001};
    std::vector<std::pair<unsigned, bool>> pirq;
    Rig() {
        BOOST_REQUIRE(io.map(PciBus::CONFIG_ADDRESS, 8, bus));
        BOOST_REQUIRE(bus.attach(3, 0, a));
        BOOST_REQUIRE(bus.attach(4, 2, b));
        bus.set_pirq_sink([this](unsigned n, bool level) { pirq.emplace_back(n, level); });
    }
    static u32 address(u8 bus_number, u8 dev, u8 fn, u8 reg) {
        return 0x8000'0000u | u32(bus_number) << 16 | u32(dev) << 11 | u32(fn) << 8 | reg;
    }
    u32 read(u8 dev, u8 fn, u8 reg, Width w = Width::Dword, u8 bus_number = 0) {
        io.write(0xCF8, Width::Dword, address(bus_number, dev, fn, reg & 0xFC));
        return io.read(static_cast<Port>(0xCFC + (reg & 3)), w);
    }
    void write(u8 dev, u8 fn, u8 reg, u32 value, Width w = Width::Dword) {
        io.write(0xCF8, Width::Dword, address(0, dev, fn, reg & 0xFC));
        io.write(static_cast<Port>(0xCFC + (reg & 3)), w, value);
    }
};
} // namespace

BOOST_AUTO_TEST_SUITE(pci_bus)

BOOST_AUTO_TEST_CASE(mechanism_1_through_the_port_bus) {
    Rig r;
    BOOST_TEST(r.read(3, 0, 0x00) == 0x1000'1AF4u);
    BOOST_TEST(r.read(4, 2, 0x00) == 0x1001'1AF4u);
    BOOST_TEST(r.read(3, 0, 0x02, Width::Word) == 0x1000u);
    BOOST_TEST(r.read(3, 0, 0x0B, Width::Byte) == 0x02u);
    BOOST_TEST(r.read(3, 0, 0x2C) == 0x1100'1AF4u);
    // The address register reads back (reserved low bits clear).
    r.io.write(0xCF8, Width::Dword, 0x8000'1823u);
    BOOST_TEST(r.io.read(0xCF8, Width::Dword) == 0x8000'1820u);
    // Enable bit clear: data reads all ones.
    r.io.write(0xCF8, Width::Dword, 0x0000'1800u);
    BOOST_TEST(r.io.read(0xCFC, Width::Dword) == 0xFFFF'FFFFu);
    // A bus other than 0 has nothing.
    BOOST_TEST(r.read(3, 0, 0x00, Width::Dword, 1) == 0xFFFF'FFFFu);
    // An absent device or function: vendor 0xFFFF.
    BOOST_TEST(r.read(5, 0, 0x00, Width::Word) == 0xFFFFu);
    BOOST_TEST(r.read(3, 1, 0x00, Width::Word) == 0xFFFFu);
    // Byte cycles at 0xCF8 are not config address writes.
    r.io.write(0xCF8, Width::Dword, Rig::address(0, 3, 0, 0));
    r.io.write(0xCF8, Width::Byte, 0x00);
    BOOST_TEST(r.io.read(0xCF8, Width::Dword) == Rig::address(0, 3, 0, 0));
    // Writes to read-only registers are dropped; the interrupt line is RW.
    r.write(3, 0, 0x00, 0);
    BOOST_TEST(r.read(3, 0, 0x00) == 0x1000'1AF4u);
    r.write(3, 0, 0x3C, 0x0B, Width::Byte);
    BOOST_TEST(r.read(3, 0, 0x3C, Width::Word) == 0x010Bu); // line 11, pin A
}

BOOST_AUTO_TEST_CASE(bar_sizing) {
    Rig r;
    r.write(3, 0, 0x10, 0xFFFF'FFFF);
    BOOST_TEST(r.read(3, 0, 0x10) == 0xFFFF'FFE1u); // 32 bytes of I/O
    r.write(3, 0, 0x14, 0xFFFF'FFFF);
    BOOST_TEST(r.read(3, 0, 0x14) == 0xFFFF'F000u); // 4 KiB of memory
    r.write(3, 0, 0x18, 0xFFFF'FFFF);
    BOOST_TEST(r.read(3, 0, 0x18) == 0u); // not implemented
    r.write(3, 0, 0x30, 0xFFFF'FFFF);
    BOOST_TEST(r.read(3, 0, 0x30) == 0xFFFF'E001u); // 8 KiB ROM + enable bit
    r.write(4, 2, 0x30, 0xFFFF'FFFF);
    BOOST_TEST(r.read(4, 2, 0x30) == 0u); // no ROM
}

BOOST_AUTO_TEST_CASE(bar_mapping_follows_the_command_register) {
    Rig r;
    r.write(3, 0, 0x10, 0xC100);
    r.write(3, 0, 0x14, 0xE100'0000);
    BOOST_TEST(r.io.read(0xC104, Width::Word) == 0xFFFFu);
    BOOST_TEST(r.memory->read(0xE100'0010, Width::Dword) == 0xFFFF'FFFFu);
    r.write(3, 0, 0x04, pci::COMMAND_IO, Width::Word);
    BOOST_TEST(r.io.read(0xC104, Width::Word) == 0xA004u);
    r.io.write(0xC11F, Width::Byte, 0x42);
    BOOST_TEST(r.a.last_io.first == 0x1F);
    BOOST_TEST(r.memory->read(0xE100'0010, Width::Dword) == 0xFFFF'FFFFu);
    r.write(3, 0, 0x04, pci::COMMAND_IO | pci::COMMAND_MEMORY, Width::Word);
    BOOST_TEST(r.memory->read(0xE100'0010, Width::Dword) == 0xB000'0010u);
    // Moving a BAR while enabled moves the decode.
    r.write(3, 0, 0x10, 0xC200);
    BOOST_TEST(r.io.read(0xC104, Width::Word) == 0xFFFFu);
    BOOST_TEST(r.io.read(0xC204, Width::Word) == 0xA004u);
    // The ROM decodes only with its enable bit and memory decode.
    r.write(3, 0, 0x30, 0xE200'0000);
    BOOST_TEST(r.memory->read(0xE200'0000, Width::Byte) == 0xFFu);
    r.write(3, 0, 0x30, 0xE200'0001);
    BOOST_TEST(r.memory->read(0xE200'0000, Width::Byte) == 0x55u);
    r.write(3, 0, 0x04, pci::COMMAND_IO, Width::Word);
    BOOST_TEST(r.memory->read(0xE200'0000, Width::Byte) == 0xFFu);
    BOOST_TEST(r.memory->read(0xE100'0010, Width::Dword) == 0xFFFF'FFFFu);
    // Reset unmaps everything and restores the BARs.
    r.a.reset();
    BOOST_TEST(r.io.read(0xC204, Width::Word) == 0xFFFFu);
    BOOST_TEST(r.read(3, 0, 0x10) == 0x0000'0001u);
}

BOOST_AUTO_TEST_CASE(overlapping_bar_is_refused) {
    Rig r;
    r.write(3, 0, 0x10, 0xC000);
    r.write(3, 0, 0x04, pci::COMMAND_IO, Width::Word);
    r.write(4, 2, 0x10, 0xC010); // overlaps a's 32 bytes at 0xC000
    r.write(4, 2, 0x04, pci::COMMAND_IO, Width::Word);
    BOOST_TEST(r.io.device_at(0xC010) == &r.a);
    BOOST_TEST(r.b.ignored_accesses() >= 1u);
    // Once a moves away, b can take its place on its next decode update.
    r.write(3, 0, 0x10, 0xD000);
    r.write(4, 2, 0x04, pci::COMMAND_IO, Width::Word);
    BOOST_TEST(r.io.device_at(0xC010) == &r.b);
    // Memory BARs overlap the same way.
    r.write(3, 0, 0x14, 0xE000'0000);
    r.write(4, 2, 0x14, 0xE000'0000);
    r.write(3, 0, 0x04, pci::COMMAND_MEMORY, Width::Word);
    r.write(4, 2, 0x04, pci::COMMAND_MEMORY, Width::Word);
    BOOST_TEST(r.memory->read(0xE000'0000, Width::Dword) == 0xB000'0000u);
    u64 before = r.b.ignored_accesses();
    r.write(4, 2, 0x14, 0xE000'0800 & ~0xFFFu);
    BOOST_TEST(r.b.ignored_accesses() > before);
}

BOOST_AUTO_TEST_CASE(intx_reaches_the_pirq_sink) {
    Rig r;
    r.a.raise(true); // device 3 pin A: PIRQ (3 - 1 + 1 - 1) % 4 = 2 (C), as SeaBIOS's _PRT says
    BOOST_REQUIRE(r.pirq.size() == 1u);
    BOOST_TEST(r.pirq[0].first == 2u);
    BOOST_TEST(r.pirq[0].second == true);
    BOOST_TEST((r.read(3, 0, 0x06, Width::Word) & 0x8) != 0); // interrupt status
    r.b.raise(true);                                          // device 4 pin A: PIRQ 3 (D)
    BOOST_TEST(r.pirq.back().first == 3u);
    // INTx disable masks the pin but not the status bit.
    r.write(3, 0, 0x04, pci::COMMAND_INTX_DISABLE, Width::Word);
    BOOST_TEST((r.pirq.back() == std::make_pair(2u, false)));
    BOOST_TEST((r.read(3, 0, 0x06, Width::Word) & 0x8) != 0);
    r.write(3, 0, 0x04, 0, Width::Word);
    BOOST_TEST((r.pirq.back() == std::make_pair(2u, true)));
    r.a.raise(false);
    BOOST_TEST((r.pirq.back() == std::make_pair(2u, false)));
}

BOOST_AUTO_TEST_CASE(save_load_remaps_and_bad_streams_fail) {
    Rig a;
    a.write(3, 0, 0x10, 0xC100);
    a.write(3, 0, 0x04, pci::COMMAND_IO, Width::Word);
    a.io.write(0xCF8, Width::Dword, Rig::address(0, 3, 0, 0x10));
    Rig b;
    vsa::test::check_save_load_save(a.a, b.a);
    BOOST_TEST(b.io.read(0xC104, Width::Word) == 0xA004u);
    vsa::test::check_save_load_save(a.bus, b.bus);
    BOOST_TEST(b.io.read(0xCF8, Width::Dword) == Rig::address(0, 3, 0, 0x10));
    Rig c;
    vsa::test::check_bad_streams_fail(a.a, c.a);
    vsa::test::check_bad_streams_fail(a.bus, c.bus);
}

BOOST_AUTO_TEST_CASE(random_config_cycles) {
    Rig r;
    std::mt19937 rng(5);
    Width const widths[] = {Width::Byte, Width::Word, Width::Dword};
    for (int i = 0; i < 30000; ++i) {
        Width w = widths[rng() % 3];
        Port port = static_cast<Port>(0xCF8 + rng() % 8);
        u32 value = rng() & width_mask(w);
        if (rng() % 2)
            r.io.write(port, w, value);
        else
            (void)r.io.read(port, w);
        r.clock.advance(10);
    }
    vsa::test::random_register_loop(r.bus, 8, 20000, 9);
    r.a.reset();
    r.b.reset();
    BOOST_TEST(r.read(3, 0, 0x00) == 0x1000'1AF4u);
}

BOOST_AUTO_TEST_SUITE_END()
