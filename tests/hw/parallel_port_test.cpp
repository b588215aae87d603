// SPDX-License-Identifier: GPL-2.0-or-later
// The LPT port driven through its ports on a manual clock: what SeaBIOS's
// probe and INT 17h do, the BUSY/ACK handshake a polling driver sees, the
// IRQ 7 edge, nINIT, and saved state.
#include "hw/parallel_port.h"

#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace vsa;
using vsa::test::FakeIrqLine;

namespace {

using P = ParallelPort;

struct Rig {
    Clock clock{Clock::Mode::Manual};
    FakeIrqLine irq;
    BufferCharBackend printer;
    ParallelPort lpt{irq, clock, printer};

    u8 in(u16 reg) { return static_cast<u8>(lpt.io_read(reg, Width::Byte)); }
    void out(u16 reg, u8 value) { lpt.io_write(reg, Width::Byte, value); }
    // What a polling driver does for one byte: wait for not-BUSY, data,
    // strobe pulse.
    void print(u8 byte) {
        for (int i = 0; i < 100 && !(in(P::STATUS)&P::STATUS_NOT_BUSY); ++i)
            clock.advance(1'000);
        out(P::DATA, byte);
        u8 control = in(P::CONTROL);
        out(P::CONTROL, control | P::CONTROL_STROBE);
        clock.advance(1'000);
        out(P::CONTROL, control & ~P::CONTROL_STROBE);
    }
};

constexpr u8 READY = P::STATUS_NOT_BUSY | P::STATUS_NACK | P::STATUS_SELECT | P::STATUS_NERROR;

} // namespace

BOOST_AUTO_TEST_SUITE(parallel_port)

BOOST_AUTO_TEST_CASE(reset_state) {
    Rig r;
    BOOST_TEST(r.in(P::STATUS) == READY);
    BOOST_TEST(r.in(P::STATUS) == 0xD8); // INT 17h reports 0xD8 ^ 0x48 = 90h: ready
    BOOST_TEST(r.in(P::CONTROL) == 0xEC);
    BOOST_TEST(r.in(P::DATA) == 0);
    BOOST_TEST(!r.irq.level());
}

BOOST_AUTO_TEST_CASE(seabios_probe_finds_the_port) {
    // detect_parport(): clear the direction bit, write AAh, read it back.
    Rig r;
    r.out(P::CONTROL, r.in(P::CONTROL)&0xDF);
    r.out(P::DATA, 0xAA);
    BOOST_TEST(r.in(P::DATA) == 0xAA);
    r.out(P::DATA, 0x55);
    BOOST_TEST(r.in(P::DATA) == 0x55);
    // Linux's SPP test: control bits 0-3 read back.
    r.out(P::CONTROL, 0x0E);
    BOOST_TEST((r.in(P::CONTROL)&0x0F) == 0x0E);
    // No bidirectional mode: with the direction bit set, data still reads
    // the latch (Linux then calls the port SPP-only).
    r.out(P::CONTROL, 0x2C);
    r.out(P::DATA, 0x5A);
    BOOST_TEST(r.in(P::DATA) == 0x5A);
    BOOST_TEST(r.printer.output().empty()); // no strobe, nothing printed
}

BOOST_AUTO_TEST_CASE(strobe_prints_and_runs_the_handshake) {
    Rig r;
    r.out(P::DATA, 'A');
    r.out(P::CONTROL, 0x0D); // strobe
    BOOST_TEST(r.printer.output() == "A");
    BOOST_TEST(r.in(P::STATUS) == (READY & ~P::STATUS_NOT_BUSY));
    r.out(P::CONTROL, 0x0C);
    // Releasing the strobe does not print again.
    BOOST_TEST(r.printer.output() == "A");
    r.clock.advance(P::BUSY_NS - 1);
    BOOST_TEST(r.in(P::STATUS) == (READY & ~P::STATUS_NOT_BUSY));
    r.clock.advance(1);
    // nACK low, still busy.
    BOOST_TEST(r.in(P::STATUS) == (READY & ~(P::STATUS_NOT_BUSY | P::STATUS_NACK)));
    r.clock.advance(P::ACK_NS);
    BOOST_TEST(r.in(P::STATUS) == READY);
    BOOST_TEST(r.lpt.bytes_printed() == 1u);
    BOOST_TEST(r.irq.rising_edges() == 0u); // interrupts were not enabled
}

BOOST_AUTO_TEST_CASE(polling_driver_prints_a_line) {
    Rig r;
    std::string text = "Hello, printer\r\n";
    for (char c : text)
        r.print(static_cast<u8>(c));
    BOOST_TEST(r.printer.output() == text);
    BOOST_TEST(r.lpt.strobes_while_busy() == 0u);
}

BOOST_AUTO_TEST_CASE(ack_is_held_until_a_status_read_sees_it) {
    // SeaBIOS INT 17h: strobe, then poll for nACK low. A poll that comes
    // after the pulse ended still sees it, once.
    Rig r;
    r.out(P::DATA, 'x');
    r.out(P::CONTROL, 0x0D);
    r.out(P::CONTROL, 0x0C);
    r.clock.advance(P::BUSY_NS + P::ACK_NS + 50'000);
    BOOST_TEST(r.in(P::STATUS) == (READY & ~P::STATUS_NACK));
    BOOST_TEST(r.in(P::STATUS) == READY);
    // Seen during the pulse: not reported again after it.
    r.out(P::CONTROL, 0x0D);
    r.out(P::CONTROL, 0x0C);
    r.clock.advance(P::BUSY_NS);
    BOOST_TEST((r.in(P::STATUS)&P::STATUS_NACK) == 0);
    r.clock.advance(P::ACK_NS);
    BOOST_TEST(r.in(P::STATUS) == READY);
}

BOOST_AUTO_TEST_CASE(irq7_at_the_end_of_ack_when_enabled) {
    Rig r;
    r.out(P::CONTROL, 0x1C);                // IRQ enable
    BOOST_TEST(r.irq.rising_edges() == 0u); // enabling alone raises nothing
    r.out(P::DATA, 'i');
    r.out(P::CONTROL, 0x1D);
    r.out(P::CONTROL, 0x1C);
    r.clock.advance(P::BUSY_NS);
    BOOST_TEST(r.irq.rising_edges() == 0u);
    r.clock.advance(P::ACK_NS);
    BOOST_TEST(r.irq.rising_edges() == 1u);
    BOOST_TEST(!r.irq.level()); // an edge for the 8259, not a held level
    // Disabled again: the next byte gives no interrupt.
    r.out(P::CONTROL, 0x0C);
    r.print('j');
    r.clock.advance(P::BUSY_NS + P::ACK_NS);
    BOOST_TEST(r.irq.rising_edges() == 1u);
    BOOST_TEST(r.printer.output() == "ij");
}

BOOST_AUTO_TEST_CASE(strobe_while_busy_is_printed_and_counted) {
    Rig r;
    r.out(P::DATA, '1');
    r.out(P::CONTROL, 0x0D);
    r.out(P::CONTROL, 0x0C);
    r.out(P::DATA, '2');
    r.out(P::CONTROL, 0x0D);
    r.out(P::CONTROL, 0x0C);
    BOOST_TEST(r.printer.output() == "12");
    BOOST_TEST(r.lpt.strobes_while_busy() == 1u);
    // The handshake restarted with the second byte.
    r.clock.advance(P::BUSY_NS + P::ACK_NS);
    BOOST_TEST((r.in(P::STATUS)&P::STATUS_NOT_BUSY) != 0);
}

BOOST_AUTO_TEST_CASE(init_resets_the_printer) {
    Rig r;
    r.out(P::CONTROL, 0x1C);
    r.out(P::DATA, 'a');
    r.out(P::CONTROL, 0x1D);
    // INT 17h AH=01h: nINIT low, then high again.
    r.out(P::CONTROL, 0x18);
    BOOST_TEST(r.in(P::STATUS) == READY);
    // A strobe while the printer resets is not taken.
    r.out(P::DATA, 'b');
    r.out(P::CONTROL, 0x19);
    BOOST_TEST(r.printer.output() == "a");
    BOOST_TEST(r.lpt.ignored_accesses() == 1u);
    r.out(P::CONTROL, 0x1C);
    r.clock.advance(P::BUSY_NS + P::ACK_NS);
    BOOST_TEST(r.irq.rising_edges() == 0u); // the reset dropped the pending acknowledge
}

BOOST_AUTO_TEST_CASE(bad_accesses_are_ignored_and_counted) {
    Rig r;
    r.out(P::STATUS, 0x00);
    BOOST_TEST(r.in(P::STATUS) == READY);
    BOOST_TEST(r.lpt.io_read(P::DATA, Width::Word) == 0xFFFFu);
    r.lpt.io_write(P::DATA, Width::Dword, 0x12345678);
    BOOST_TEST(r.in(P::DATA) == 0);
    BOOST_TEST(r.lpt.io_read(7, Width::Byte) == 0xFFu);
    BOOST_TEST(r.lpt.ignored_accesses() == 4u);
}

BOOST_AUTO_TEST_CASE(reset_returns_to_power_on) {
    Rig r;
    r.out(P::CONTROL, 0x1D);
    r.out(P::DATA, 0x42);
    r.lpt.reset();
    BOOST_TEST(r.in(P::CONTROL) == 0xEC);
    BOOST_TEST(r.in(P::DATA) == 0);
    BOOST_TEST(r.in(P::STATUS) == READY);
    r.clock.advance(1'000'000);
    BOOST_TEST(r.irq.rising_edges() == 0u);
}

BOOST_AUTO_TEST_CASE(random_registers_do_not_crash) {
    Rig r;
    vsa::test::random_register_loop(r.lpt, 8, 20'000);
    r.clock.advance(1'000'000);
    vsa::test::random_register_loop(r.lpt, 3, 20'000, 99);
    r.clock.advance(1'000'000);
}

BOOST_AUTO_TEST_CASE(save_load_save_mid_handshake) {
    Rig r;
    r.out(P::CONTROL, 0x1C);
    r.out(P::DATA, 'q');
    r.out(P::CONTROL, 0x1D);
    r.clock.advance(P::BUSY_NS + 1'000); // in the nACK pulse
    Rig fresh;
    fresh.clock.set_now(r.clock.now());
    vsa::test::check_save_load_save(r.lpt, fresh.lpt);
    // The restored port finishes the handshake on time, with its interrupt.
    BOOST_TEST(fresh.lpt.busy());
    BOOST_TEST((fresh.in(P::STATUS)&P::STATUS_NACK) == 0);
    fresh.clock.advance(P::ACK_NS - 1'000);
    BOOST_TEST(!fresh.lpt.busy());
    BOOST_TEST(fresh.irq.rising_edges() == 1u);
    BOOST_TEST(fresh.in(P::DATA) == 'q');
    BOOST_TEST(fresh.in(P::CONTROL) == 0xFD);
    BOOST_TEST(fresh.printer.output().empty()); // the byte was printed before the save
}

BOOST_AUTO_TEST_CASE(bad_streams_fail_cleanly) {
    Rig r;
    r.out(P::DATA, 0x33);
    r.out(P::CONTROL, 0x1D);
    Rig fresh;
    vsa::test::check_bad_streams_fail(r.lpt, fresh.lpt);
    // A phase byte past the last phase is refused.
    auto good = vsa::test::save_state(r.lpt);
    bool refused = false;
    for (std::size_t i = 0; i < good.size(); ++i) {
        if (good[i] != 1) continue; // the Busy phase, among other bytes that are 1
        auto bad = good;
        bad[i] = 7;
        auto loader = StateVisitor::loader(bad);
        Rig other;
        other.lpt.visit_state(loader);
        if (!loader.ok() && loader.error().find("phase") != std::string::npos) refused = true;
    }
    BOOST_TEST(refused);
}

BOOST_AUTO_TEST_SUITE_END()
