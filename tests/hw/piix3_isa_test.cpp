// SPDX-License-Identifier: GPL-2.0-or-later
// The PIIX3 ISA bridge: identity, PIRQ routing of PCI INTx to ISA IRQs
// (disable bit, reserved IRQs, sharing, re-routing while asserted), the
// ELCR ports, the reset control register, save/restore.
#include "hw/piix3_isa.h"
#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace vsa;

namespace {
// A PCI function that only raises its INTx pin.
struct IntxDevice final : PciDevice {
    explicit IntxDevice(u8 pin) : PciDevice(PciId{0x1234, 0x0001, 0xFF, 0, 0, 0}) { set_interrupt_pin(pin); }
    std::string_view name() const override { return "intx"; }
    void visit_state(StateVisitor& v) override { visit_pci_state(v); }
    void raise(bool level) { set_irq_level(level); }
};

struct Rig {
    Clock clock{Clock::Mode::Manual};
    IoBus io;
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
    PciBus bus{io, *memory};
    std::array<bool, 16> irq{};
    std::array<unsigned, 16> changes{};
    u16 elcr{0xFFFF};
    std::vector<bool> resets;
    Piix3Isa isa{bus, [this](unsigned n, bool level) { irq.at(n) = level, ++changes.at(n); },
                 [this](u16 e) { elcr = e; }, [this](bool hard) { resets.push_back(hard); }};
    // Pin A of devices 5..8 drives PIRQ (device - 1 + pin - 1) % 4 = A, B,
    // C, D (the PIIX board's swizzle); device 11 shares PIRQ C with device 7.
    IntxDevice pa{1}, pb{1}, pc{1}, pd{1};
    IntxDevice pc2{1};
    Rig() {
        BOOST_REQUIRE(bus.attach(1, 0, isa));
        BOOST_REQUIRE(bus.attach(5, 0, pa));
        BOOST_REQUIRE(bus.attach(6, 0, pb));
        BOOST_REQUIRE(bus.attach(7, 0, pc));
        BOOST_REQUIRE(bus.attach(8, 0, pd));
        BOOST_REQUIRE(bus.attach(11, 0, pc2));
        isa.reset();
        BOOST_REQUIRE(isa.map_ports(io));
    }
    void route(unsigned pirq, u8 value) {
        isa.config_write(static_cast<u8>(0x60 + pirq), Width::Byte, value);
    }
};
} // namespace

BOOST_AUTO_TEST_SUITE(piix3_isa)

BOOST_AUTO_TEST_CASE(identity_and_defaults) {
    Rig r;
    BOOST_TEST(r.isa.config_read(0x00, Width::Dword) == 0x7000'8086u);
    BOOST_TEST(r.isa.config_read(0x08, Width::Dword) == 0x0601'0000u);
    BOOST_TEST(r.isa.config_read(0x0E, Width::Byte) == 0x80u);
    BOOST_TEST(r.isa.config_read(0x04, Width::Word) == 0x0007u);
    BOOST_TEST(r.isa.config_read(0x60, Width::Dword) == 0x8080'8080u);
    BOOST_TEST(r.isa.config_read(0x4C, Width::Byte) == 0x4Du);
    BOOST_TEST(r.isa.config_read(0x69, Width::Byte) == 0x02u);
    BOOST_TEST(r.elcr == 0u); // reset told the PICs: all edge
}

BOOST_AUTO_TEST_CASE(pirq_routing_and_disable) {
    Rig r;
    r.pa.raise(true); // PIRQ A, not routed yet
    for (bool level : r.irq)
        BOOST_TEST(!level);
    r.route(0, 11); // SeaBIOS: activate the route
    BOOST_TEST(r.irq[11]);
    BOOST_TEST(r.isa.isa_irq_level(11));
    r.pa.raise(false);
    BOOST_TEST(!r.irq[11]);
    r.pa.raise(true);
    BOOST_TEST(r.irq[11]);
    r.route(0, 0x80 | 11); // disabled: the level leaves IRQ 11
    BOOST_TEST(!r.irq[11]);
    r.route(0, 11);
    BOOST_TEST(r.irq[11]);
    // INTx disable in the device's command register also drops it.
    r.pa.config_write(0x04, Width::Word, pci::COMMAND_INTX_DISABLE);
    BOOST_TEST(!r.irq[11]);
    r.pa.config_write(0x04, Width::Word, 0);
    BOOST_TEST(r.irq[11]);
}

BOOST_AUTO_TEST_CASE(reserved_irqs_route_nowhere) {
    Rig r;
    r.pb.raise(true); // PIRQ B
    for (u8 bad : {0, 1, 2, 8, 13}) {
        r.route(1, bad);
        BOOST_TEST_CONTEXT("irq " << int(bad)) {
            BOOST_TEST(r.isa.config_read(0x61, Width::Byte) == bad); // reads back
            for (bool level : r.irq)
                BOOST_TEST(!level);
        }
    }
    BOOST_TEST(r.isa.ignored_accesses() == 5u);
    r.route(1, 0x8F & 0xFF); // upper bits 6:4 are reserved in the register
    r.isa.config_write(0x61, Width::Byte, 0x7A);
    BOOST_TEST(r.isa.config_read(0x61, Width::Byte) == 0x0Au);
    BOOST_TEST(r.irq[10]);
}

BOOST_AUTO_TEST_CASE(shared_irq_is_wired_or) {
    Rig r;
    r.route(0, 10); // PIRQ A
    r.route(2, 10); // PIRQ C
    r.pa.raise(true);
    BOOST_TEST(r.irq[10]);
    r.pc.raise(true);
    BOOST_TEST(r.irq[10]);
    r.pa.raise(false);
    BOOST_TEST(r.irq[10]); // PIRQ C still holds it
    // Two functions on one PIRQ (devices 7 and 11 both use PIRQ C).
    r.pc2.raise(true);
    r.pc.raise(false);
    BOOST_TEST(r.irq[10]);
    r.pc2.raise(false);
    BOOST_TEST(!r.irq[10]);
    // Every change reached the callback only when the level changed.
    BOOST_TEST(r.changes[10] == 2u);
}

BOOST_AUTO_TEST_CASE(reroute_while_asserted_moves_the_level) {
    Rig r;
    r.route(3, 5); // PIRQ D
    r.pd.raise(true);
    BOOST_TEST(r.irq[5]);
    r.route(3, 9);
    BOOST_TEST(!r.irq[5]);
    BOOST_TEST(r.irq[9]);
    // Moving onto an IRQ another asserted PIRQ holds keeps it high when
    // the other one leaves.
    r.route(0, 9);
    r.pa.raise(true);
    r.route(3, 7);
    BOOST_TEST(r.irq[9]);
    BOOST_TEST(r.irq[7]);
    r.pa.raise(false);
    BOOST_TEST(!r.irq[9]);
    // Dword write of all four routes (what a BIOS may do).
    r.isa.config_write(0x60, Width::Dword, 0x0E80'8080u);
    BOOST_TEST(!r.irq[7]);
    BOOST_TEST(r.irq[14]);
}

BOOST_AUTO_TEST_CASE(elcr_ports) {
    Rig r;
    r.io.write(0x4D0, Width::Byte, 0xFF);
    BOOST_TEST(r.elcr == 0x00F8u); // IRQ 0, 1, 2 always edge
    r.io.write(0x4D1, Width::Byte, 0xFF);
    BOOST_TEST(r.elcr == 0xDEF8u); // IRQ 8 and 13 always edge
    BOOST_TEST(r.io.read(0x4D0, Width::Byte) == 0xF8u);
    BOOST_TEST(r.io.read(0x4D1, Width::Byte) == 0xDEu);
    BOOST_TEST(r.io.read(0x4D0, Width::Word) == 0xDEF8u);
    // What SeaBIOS writes for PCI IRQs 5, 9, 10, 11.
    r.io.write(0x4D0, Width::Byte, 0x20);
    r.io.write(0x4D1, Width::Byte, 0x0E);
    BOOST_TEST(r.elcr == 0x0E20u);
    BOOST_TEST(r.isa.elcr() == 0x0E20u);
    r.io.write(0x4D0, Width::Word, 0x0C00);
    BOOST_TEST(r.elcr == 0x0C00u);
    r.isa.reset();
    BOOST_TEST(r.elcr == 0u);
    BOOST_TEST(r.io.read(0x4D0, Width::Word) == 0u);
}

BOOST_AUTO_TEST_CASE(reset_control_register) {
    Rig r;
    // With PciBus on 0xCF8..0xCFF the bus must forward 0xCF9 (see the
    // report); here the register is reached the way the bus would.
    r.isa.io_write(0xCF9, Width::Byte, 0x02);
    BOOST_TEST(r.resets.empty());
    BOOST_TEST(r.isa.io_read(0xCF9, Width::Byte) == 0x02u);
    r.isa.io_write(0xCF9, Width::Byte, 0x06); // Linux's "pci" reboot
    BOOST_REQUIRE(r.resets.size() == 1u);
    BOOST_TEST(r.resets[0] == true);
    BOOST_TEST(r.isa.io_read(0xCF9, Width::Byte) == 0x02u); // RCPU does not stick
    r.isa.io_write(0xCF9, Width::Byte, 0x04);               // soft reset
    BOOST_REQUIRE(r.resets.size() == 2u);
    BOOST_TEST(r.resets[1] == false);
    // Word cycles are not the reset register.
    r.isa.io_write(0xCF9, Width::Word, 0x0606);
    BOOST_TEST(r.resets.size() == 2u);

    // On a port bus without PciBus at 0xCF8 it maps directly.
    IoBus io;
    BOOST_TEST(r.isa.map_reset_control(io));
    io.write(0xCF9, Width::Byte, 0x0E);
    BOOST_TEST(r.resets.size() == 3u);
    // Where PciBus owns the range, the direct mapping is refused.
    BOOST_TEST(r.io.map(PciBus::CONFIG_ADDRESS, 8, r.bus));
    BOOST_TEST(!r.isa.map_reset_control(r.io));
}

BOOST_AUTO_TEST_CASE(save_load_and_bad_streams) {
    Rig a;
    a.route(0, 11);
    a.route(2, 0x80 | 5);
    a.pa.raise(true);
    a.io.write(0x4D1, Width::Byte, 0x08);
    a.isa.io_write(0xCF9, Width::Byte, 0x02);
    Rig b;
    vsa::test::check_save_load_save(a.isa, b.isa);
    // The loaded bridge re-drove its outputs from the loaded state.
    BOOST_TEST(b.irq[11]);
    BOOST_TEST(b.elcr == 0x0800u);
    Rig c;
    vsa::test::check_bad_streams_fail(a.isa, c.isa);
}

BOOST_AUTO_TEST_CASE(random_register_loop) {
    Rig r;
    std::mt19937 rng(23);
    IntxDevice* devs[] = {&r.pa, &r.pb, &r.pc, &r.pd, &r.pc2};
    for (int i = 0; i < 50000; ++i) {
        switch (rng() % 4) {
        case 0: {
            u8 reg = static_cast<u8>(rng());
            r.isa.config_write(reg, Width::Byte, rng());
            break;
        }
        case 1:
            r.isa.config_write(static_cast<u8>(rng() & 0xFC), Width::Dword, rng());
            break;
        case 2:
            devs[rng() % 5]->raise(rng() % 2);
            break;
        default:
            r.isa.io_write(static_cast<u16>(0x4D0 + rng() % 2), Width::Byte, rng() & 0xFF);
            break;
        }
        r.clock.advance(100);
    }
    vsa::test::random_register_loop(r.isa, 0xD00, 50000);
    // The ISA levels still match the routes and device levels.
    for (auto* d : devs)
        d->raise(false);
    for (bool level : r.irq)
        BOOST_TEST(!level);
}

BOOST_AUTO_TEST_SUITE_END()
