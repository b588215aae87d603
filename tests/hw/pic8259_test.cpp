// SPDX-License-Identifier: GPL-2.0-or-later
// The cascaded 8259A pair driven through its ports and the CPU's INTA:
// priorities and nested EOI, cascade, masking, edge vs level (ELCR, LTIM),
// poll, spurious vectors, rotation, special modes, and saved state.
#include "hw/pic8259.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

using namespace vsa;
using vsa::test::FakeIrqLine;

namespace {

constexpr u16 M_CMD = Pic8259::MASTER_COMMAND;
constexpr u16 M_DATA = Pic8259::MASTER_DATA;
constexpr u16 S_CMD = Pic8259::SLAVE_COMMAND;
constexpr u16 S_DATA = Pic8259::SLAVE_DATA;
constexpr u8 EOI = 0x20;

struct PicFixture {
    FakeIrqLine intr;
    Pic8259 pic{intr};

    PicFixture() { init(0x01, 0x01); }

    void out(u16 port, u8 value) { pic.io_write(port, Width::Byte, value); }
    u8 in(u16 port) { return static_cast<u8>(pic.io_read(port, Width::Byte)); }
    // The PC BIOS sequence: edge-triggered, cascaded, vectors 08h and 70h.
    void init(u8 master_icw4, u8 slave_icw4, u8 icw1 = 0x11) {
        out(M_CMD, icw1);
        out(M_DATA, 0x08);
        out(M_DATA, 0x04);
        out(M_DATA, master_icw4);
        out(S_CMD, icw1);
        out(S_DATA, 0x70);
        out(S_DATA, 0x02);
        out(S_DATA, slave_icw4);
        out(M_DATA, 0x00);
        out(S_DATA, 0x00);
    }
    void pulse(unsigned irq) { pic.input(irq).pulse(); }
    u8 ack() {
        BOOST_REQUIRE(pic.intr_pending());
        BOOST_REQUIRE(intr.level());
        return pic.acknowledge();
    }
    u8 read_isr(u16 cmd) {
        out(cmd, 0x0B);
        u8 v = in(cmd);
        out(cmd, 0x0A);
        return v;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(pic8259)

BOOST_FIXTURE_TEST_CASE(nothing_pending_after_init, PicFixture) {
    BOOST_TEST(!pic.intr_pending());
    BOOST_TEST(!intr.level());
    BOOST_TEST(in(M_DATA) == 0);
    BOOST_TEST(in(S_DATA) == 0);
}

BOOST_FIXTURE_TEST_CASE(reset_masks_everything, PicFixture) {
    pic.reset();
    pulse(4);
    BOOST_TEST(!pic.intr_pending());
    BOOST_TEST(in(M_DATA) == 0xFF);
    out(M_DATA, 0xEF);
    BOOST_TEST(ack() == 0x0C);
}

BOOST_FIXTURE_TEST_CASE(priorities_and_nested_eoi, PicFixture) {
    pulse(3);
    pulse(1);
    BOOST_TEST(ack() == 0x09); // IRQ1 beats IRQ3
    BOOST_TEST(!intr.level()); // IRQ3 waits behind IRQ1 in service
    pulse(0);
    BOOST_TEST(ack() == 0x08); // IRQ0 nests above IRQ1
    BOOST_TEST(read_isr(M_CMD) == 0x03);
    out(M_CMD, EOI); // non-specific: clears IRQ0
    BOOST_TEST(read_isr(M_CMD) == 0x02);
    BOOST_TEST(!intr.level());
    out(M_CMD, EOI);
    BOOST_TEST(ack() == 0x0B);
    out(M_CMD, 0x63); // specific EOI for IR3
    BOOST_TEST(read_isr(M_CMD) == 0x00);
    BOOST_TEST(!pic.intr_pending());
}

BOOST_FIXTURE_TEST_CASE(cascade_through_slave, PicFixture) {
    pulse(12);
    BOOST_TEST(ack() == 0x74);
    BOOST_TEST(read_isr(M_CMD) == 0x04);
    BOOST_TEST(read_isr(S_CMD) == 0x10);
    // A lower slave request waits; a master request above IR2 nests; one
    // below does not.
    pulse(14);
    pulse(5);
    BOOST_TEST(!intr.level());
    pulse(1);
    BOOST_TEST(ack() == 0x09);
    out(M_CMD, EOI);
    BOOST_TEST(!intr.level());
    // EOI to slave, then master (Linux order): IRQ14 comes next, then IRQ5.
    out(S_CMD, EOI);
    out(M_CMD, EOI);
    BOOST_TEST(ack() == 0x76);
    out(S_CMD, EOI);
    out(M_CMD, EOI);
    BOOST_TEST(ack() == 0x0D);
    out(M_CMD, EOI);
    BOOST_TEST(!pic.intr_pending());
    // Master first, then slave, works too.
    pulse(8);
    pulse(9);
    BOOST_TEST(ack() == 0x70);
    out(M_CMD, EOI);
    out(S_CMD, EOI);
    BOOST_TEST(ack() == 0x71);
}

BOOST_FIXTURE_TEST_CASE(masking, PicFixture) {
    out(M_DATA, 0x10);
    BOOST_TEST(in(M_DATA) == 0x10);
    pulse(4);
    BOOST_TEST(!intr.level());
    out(M_CMD, 0x0A);
    BOOST_TEST(in(M_CMD) == 0x10); // latched in IRR while masked
    out(M_DATA, 0x00);
    BOOST_TEST(ack() == 0x0C);
    out(M_CMD, EOI);
    // Masking the cascade input masks the whole slave.
    out(M_DATA, 0x04);
    pulse(11);
    BOOST_TEST(!intr.level());
    out(M_DATA, 0x00);
    BOOST_TEST(ack() == 0x73);
    out(S_CMD, EOI);
    out(M_CMD, EOI);
    // Slave mask.
    out(S_DATA, 0x08);
    pulse(11);
    BOOST_TEST(!intr.level());
    BOOST_TEST(pic.irr(1) == 0x08);
    BOOST_TEST(pic.imr(1) == 0x08);
}

BOOST_FIXTURE_TEST_CASE(edge_versus_level, PicFixture) {
    // Edge: a line held high interrupts once.
    pic.input(10).raise();
    BOOST_TEST(ack() == 0x72);
    out(S_CMD, EOI);
    out(M_CMD, EOI);
    BOOST_TEST(!intr.level());
    pic.input(10).lower();
    pic.input(10).raise();
    BOOST_TEST(ack() == 0x72);
    out(S_CMD, EOI);
    out(M_CMD, EOI);
    pic.input(10).lower();

    // Level (ELCR, as the PIIX3 sets for PCI INTx): interrupts while high.
    pic.set_elcr(1u << 10);
    BOOST_TEST(pic.elcr() == (1u << 10));
    pic.input(10).raise();
    BOOST_TEST(ack() == 0x72);
    out(S_CMD, EOI);
    out(M_CMD, EOI);
    BOOST_TEST(ack() == 0x72); // still high: again
    pic.input(10).lower();     // the handler cleared the device
    out(S_CMD, EOI);
    out(M_CMD, EOI);
    BOOST_TEST(!pic.intr_pending());
    // A level request that goes away before INTA is gone from the slave,
    // but the master latched the edge of the slave's INT on IR2: the INTA
    // then finds nothing on the slave and gets its IR7 (spurious IRQ15).
    pic.input(10).pulse();
    BOOST_TEST(pic.irr(1) == 0x00);
    BOOST_TEST(ack() == 0x77);
    out(M_CMD, EOI);
    BOOST_TEST(!pic.intr_pending());
    // On the master a level request that goes away is simply gone.
    pic.set_elcr((1u << 10) | (1u << 5));
    pic.input(5).pulse();
    BOOST_TEST(!pic.intr_pending());
    pulse(11);
    BOOST_TEST(pic.intr_pending());

    // IRQ 0, 1, 2, 8 and 13 cannot be made level-triggered.
    pic.set_elcr(0xFFFF);
    BOOST_TEST(pic.elcr() == Pic8259::ELCR_WRITABLE);
}

BOOST_FIXTURE_TEST_CASE(ltim_makes_a_chip_level_triggered, PicFixture) {
    init(0x01, 0x01, 0x19); // ICW1 with LTIM
    pic.input(3).raise();
    BOOST_TEST(ack() == 0x0B);
    out(M_CMD, EOI);
    BOOST_TEST(ack() == 0x0B);
    pic.input(3).lower();
    out(M_CMD, EOI);
    BOOST_TEST(!pic.intr_pending());
}

BOOST_FIXTURE_TEST_CASE(icw1_resets_edge_latches, PicFixture) {
    pic.input(5).raise();
    BOOST_TEST(pic.intr_pending());
    init(0x01, 0x01);
    // The line is still high but has made no new low-to-high transition.
    BOOST_TEST(!pic.intr_pending());
    pic.input(5).lower();
    pic.input(5).raise();
    BOOST_TEST(ack() == 0x0D);
}

BOOST_FIXTURE_TEST_CASE(poll_command, PicFixture) {
    out(M_CMD, 0x0C);              // OCW3 poll
    BOOST_TEST(in(M_CMD) == 0x00); // no request
    pulse(6);
    pulse(3);
    out(M_CMD, 0x0C);
    BOOST_TEST(in(M_DATA) == 0x83); // the next read of either port
    BOOST_TEST(read_isr(M_CMD) == 0x08);
    BOOST_TEST(in(M_CMD) == 0x40);  // IRR: IRQ6 still waits
    BOOST_TEST(in(M_DATA) == 0x00); // IMR again after the poll
    out(M_CMD, EOI);
    out(M_CMD, 0x0C);
    BOOST_TEST(in(M_CMD) == 0x86);
    out(M_CMD, EOI);
    // Polling the slave.
    pulse(13);
    out(S_CMD, 0x0C);
    BOOST_TEST(in(S_CMD) == 0x85);
    BOOST_TEST(read_isr(S_CMD) == 0x20);
}

BOOST_FIXTURE_TEST_CASE(spurious_vectors, PicFixture) {
    // INTA with nothing requesting: IR7 of the master, ISR untouched.
    BOOST_TEST(pic.acknowledge() == 0x0F);
    BOOST_TEST(read_isr(M_CMD) == 0x00);
    // The slave's request vanishes (masked) after the master latched IR2:
    // spurious IRQ15, with IR2 in service on the master.
    pulse(10);
    BOOST_TEST(pic.intr_pending());
    out(S_DATA, 0x04);
    BOOST_TEST(ack() == 0x77);
    BOOST_TEST(read_isr(M_CMD) == 0x04);
    BOOST_TEST(read_isr(S_CMD) == 0x00);
    out(M_CMD, EOI);
    out(S_DATA, 0x00);
    BOOST_TEST(ack() == 0x72); // the masked request was kept in IRR
}

BOOST_FIXTURE_TEST_CASE(rotation, PicFixture) {
    // Set priority: IR4 lowest, so IR5 is highest.
    out(M_CMD, 0xC4);
    pulse(3);
    pulse(6);
    BOOST_TEST(ack() == 0x0E);
    // Rotate on non-specific EOI: IR6 becomes lowest, IR7 highest.
    out(M_CMD, 0xA0);
    pulse(7);
    pulse(0);
    BOOST_TEST(ack() == 0x0F);
    // Rotate on specific EOI for IR7: IR0 highest.
    out(M_CMD, 0xE7);
    BOOST_TEST(ack() == 0x08);
    out(M_CMD, 0x60);
    BOOST_TEST(ack() == 0x0B);
    out(M_CMD, EOI);
    // Automatic rotation in AEOI mode (equal priority devices).
    init(0x03, 0x01);
    out(M_CMD, 0x80); // rotate in AEOI: set
    pulse(1);
    pulse(2 + 3);
    BOOST_TEST(ack() == 0x09);
    BOOST_TEST(read_isr(M_CMD) == 0x00); // AEOI: never in service
    pulse(1);
    BOOST_TEST(ack() == 0x0D); // IR1 now lowest: IR5 first
    BOOST_TEST(ack() == 0x09);
    out(M_CMD, 0x00); // rotate in AEOI: clear
    pulse(5);
    pulse(1);
    BOOST_TEST(ack() == 0x0D); // the last rotation left IR1 lowest
}

BOOST_FIXTURE_TEST_CASE(special_mask_mode, PicFixture) {
    pulse(1);
    BOOST_TEST(ack() == 0x09);
    pulse(3);
    BOOST_TEST(!intr.level());
    out(M_CMD, 0x68);          // set special mask
    out(M_DATA, 0x02);         // mask IR1, which is in service
    BOOST_TEST(ack() == 0x0B); // lower priority now gets through
    out(M_CMD, 0x63);
    out(M_CMD, 0x48); // reset special mask
    out(M_DATA, 0x00);
    pulse(4);
    BOOST_TEST(!intr.level()); // IR1 in service blocks again
    out(M_CMD, 0x61);
    BOOST_TEST(ack() == 0x0C);
}

BOOST_FIXTURE_TEST_CASE(special_fully_nested_mode, PicFixture) {
    init(0x11, 0x01); // master SFNM
    pulse(12);
    BOOST_TEST(ack() == 0x74);
    pulse(9); // higher on the same slave: allowed through IR2 in service
    BOOST_TEST(ack() == 0x71);
    BOOST_TEST(read_isr(S_CMD) == 0x12);
    out(S_CMD, EOI);
    out(S_CMD, EOI);
    out(M_CMD, EOI);
    // Without SFNM the second request waits for the master EOI.
    init(0x01, 0x01);
    pulse(12);
    BOOST_TEST(ack() == 0x74);
    pulse(9);
    BOOST_TEST(!intr.level());
}

BOOST_FIXTURE_TEST_CASE(auto_eoi, PicFixture) {
    init(0x03, 0x03);
    pulse(4);
    BOOST_TEST(ack() == 0x0C);
    BOOST_TEST(read_isr(M_CMD) == 0x00);
    pulse(4);
    BOOST_TEST(ack() == 0x0C);
    pulse(15);
    BOOST_TEST(ack() == 0x77);
    BOOST_TEST(read_isr(S_CMD) == 0x00);
}

BOOST_FIXTURE_TEST_CASE(intr_line_follows_requests, PicFixture) {
    pulse(0);
    BOOST_TEST(intr.level());
    BOOST_TEST(intr.rising_edges() == 1u);
    out(M_DATA, 0x01);
    BOOST_TEST(!intr.level());
    out(M_DATA, 0x00);
    BOOST_TEST(intr.level());
    (void)pic.acknowledge();
    BOOST_TEST(!intr.level());
    out(M_CMD, EOI);
    // IRQ2 of the AT bus is IRQ9; out-of-range inputs go nowhere.
    pulse(2);
    BOOST_TEST(ack() == 0x71);
    pic.input(99).raise();
}

BOOST_FIXTURE_TEST_CASE(random_registers_do_not_crash, PicFixture) {
    vsa::test::random_register_loop(pic, 0xA2, 2000);
    std::mt19937 rng(3);
    u16 const ports[] = {M_CMD, M_DATA, S_CMD, S_DATA};
    for (int i = 0; i < 20000; ++i) {
        switch (rng() % 4) {
        case 0:
            out(ports[rng() % 4], static_cast<u8>(rng()));
            break;
        case 1:
            (void)in(ports[rng() % 4]);
            break;
        case 2:
            pic.input(rng() % 16).set_level(rng() & 1);
            break;
        case 3:
            if (pic.intr_pending()) (void)pic.acknowledge();
            if (rng() % 64 == 0) pic.set_elcr(static_cast<u16>(rng()));
            break;
        }
        BOOST_REQUIRE(intr.level() == pic.intr_pending());
    }
}

BOOST_FIXTURE_TEST_CASE(save_load_save_is_identical, PicFixture) {
    pic.set_elcr(0x0C00);
    pulse(12);
    pulse(3);
    pic.input(11).raise();
    (void)ack();
    out(M_CMD, 0xC5);
    out(S_CMD, 0x0B);
    FakeIrqLine other;
    Pic8259 fresh(other);
    fresh.input(11).raise(); // the devices re-drive their lines on the new machine
    vsa::test::check_save_load_save(pic, fresh);
    BOOST_TEST(other.level() == intr.level());
    BOOST_TEST(fresh.elcr() == 0x0C00);
    BOOST_TEST(fresh.acknowledge() == pic.acknowledge());
}

BOOST_FIXTURE_TEST_CASE(bad_streams_fail_cleanly, PicFixture) {
    pulse(9);
    FakeIrqLine other;
    Pic8259 fresh(other);
    vsa::test::check_bad_streams_fail(pic, fresh);
}

BOOST_AUTO_TEST_SUITE_END()
