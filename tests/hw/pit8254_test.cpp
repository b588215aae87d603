// SPDX-License-Identifier: GPL-2.0-or-later
// 82C54 PIT driven through its ports on a manual clock: counts and OUT over
// time in each mode, IRQ0 edges, latching, read-back, BCD, gates,
// reprogramming, and saved state.
#include "hw/pit8254.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

using namespace vsa;
using vsa::test::FakeIrqLine;

namespace {

struct PitFixture {
    Clock clock{Clock::Mode::Manual};
    FakeIrqLine irq0;
    Pit8254 pit{irq0, clock};

    void control(u8 value) { pit.io_write(3, Width::Byte, value); }
    void write(unsigned ch, u8 value) { pit.io_write(static_cast<u16>(ch), Width::Byte, value); }
    void write16(unsigned ch, u16 value) {
        write(ch, static_cast<u8>(value));
        write(ch, static_cast<u8>(value >> 8));
    }
    u8 read(unsigned ch) { return static_cast<u8>(pit.io_read(static_cast<u16>(ch), Width::Byte)); }
    u16 read16(unsigned ch) {
        u8 lo = read(ch);
        return static_cast<u16>(lo | read(ch) << 8);
    }
    u64 tick() const { return Pit8254::tick_at(clock.now()); }
    // Moves time to the first nanosecond of input clock edge `t`.
    void goto_tick(u64 t) {
        u64 target = Pit8254::ns_of_tick(t);
        BOOST_REQUIRE(target >= clock.now());
        clock.advance(target - clock.now());
        BOOST_REQUIRE_EQUAL(tick(), t);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(pit8254)

BOOST_AUTO_TEST_CASE(tick_conversion_is_exact) {
    BOOST_TEST(Pit8254::tick_at(0) == 0u);
    BOOST_TEST(Pit8254::tick_at(1'000'000'000) == Pit8254::INPUT_HZ);
    for (u64 t : {1ull, 2ull, 1000ull, 65536ull, 1193182ull, 123456789ull}) {
        BOOST_TEST(Pit8254::tick_at(Pit8254::ns_of_tick(t)) == t);
        BOOST_TEST(Pit8254::tick_at(Pit8254::ns_of_tick(t) - 1) == t - 1);
    }
}

BOOST_FIXTURE_TEST_CASE(mode0_counts_down_and_raises_irq0_at_terminal_count, PitFixture) {
    control(0x30); // counter 0, LSB then MSB, mode 0, binary
    BOOST_TEST(!irq0.level());
    write16(0, 100); // at edge 0: loaded on edge 1
    goto_tick(1);
    BOOST_TEST(read16(0) == 100);
    goto_tick(51);
    BOOST_TEST(read16(0) == 50);
    goto_tick(100);
    BOOST_TEST(read16(0) == 1);
    BOOST_TEST(!pit.out(0));
    BOOST_TEST(irq0.rising_edges() == 0u);
    // OUT goes high N+1 clocks after the count was written.
    goto_tick(101);
    BOOST_TEST(pit.out(0));
    BOOST_TEST(irq0.level());
    BOOST_TEST(irq0.rising_edges() == 1u);
    BOOST_TEST(read16(0) == 0);
    goto_tick(102);
    BOOST_TEST(read16(0) == 0xFFFF); // counts on, wrapping; OUT stays high
    goto_tick(70000);
    BOOST_TEST(pit.out(0));
    BOOST_TEST(irq0.rising_edges() == 1u);
}

BOOST_FIXTURE_TEST_CASE(mode0_irq_fires_from_timer_at_right_time, PitFixture) {
    control(0x30);
    write16(0, 1193); // about 1 ms
    clock.advance(Pit8254::ns_of_tick(1194) - 1);
    BOOST_TEST(!irq0.level());
    clock.advance(1);
    BOOST_TEST(irq0.level());
    BOOST_TEST(irq0.rising_edges() == 1u);
}

BOOST_FIXTURE_TEST_CASE(mode2_rate_generator_pulses_once_per_period, PitFixture) {
    control(0x34);            // counter 0, mode 2
    BOOST_TEST(irq0.level()); // OUT high after the mode set: an edge
    BOOST_TEST(irq0.rising_edges() == 1u);
    irq0.clear_edges();
    write16(0, 10);
    goto_tick(1);
    BOOST_TEST(read16(0) == 10);
    goto_tick(4);
    BOOST_TEST(read16(0) == 7);
    goto_tick(9);
    BOOST_TEST(read16(0) == 2);
    BOOST_TEST(pit.out(0));
    goto_tick(10); // count 1: OUT low for one clock
    BOOST_TEST(read16(0) == 1);
    BOOST_TEST(!pit.out(0));
    BOOST_TEST(!irq0.level());
    goto_tick(11); // reload, OUT high: an edge
    BOOST_TEST(read16(0) == 10);
    BOOST_TEST(irq0.level());
    BOOST_TEST(irq0.rising_edges() == 1u);
    goto_tick(11 + 10 * 99);
    BOOST_TEST(irq0.rising_edges() == 100u);
}

BOOST_FIXTURE_TEST_CASE(mode2_count_zero_gives_18_2_hz, PitFixture) {
    control(0x34);
    write16(0, 0); // 65536
    irq0.clear_edges();
    clock.advance(10'000'000'000ull);
    // 10 s * 1193182 / 65536 = 182.07 periods
    BOOST_TEST(irq0.rising_edges() == 182u);
}

BOOST_FIXTURE_TEST_CASE(mode3_square_wave_even_and_odd, PitFixture) {
    control(0x36); // counter 0, mode 3
    write16(0, 10);
    irq0.clear_edges();
    // High for 5 clocks, low for 5, counting down by two.
    goto_tick(1);
    BOOST_TEST(read16(0) == 10);
    BOOST_TEST(irq0.level());
    goto_tick(3);
    BOOST_TEST(read16(0) == 6);
    goto_tick(5);
    BOOST_TEST(read16(0) == 2);
    BOOST_TEST(irq0.level());
    goto_tick(6);
    BOOST_TEST(read16(0) == 10);
    BOOST_TEST(!irq0.level());
    goto_tick(10);
    BOOST_TEST(!irq0.level());
    goto_tick(11);
    BOOST_TEST(irq0.level());
    BOOST_TEST(irq0.rising_edges() == 1u);
    goto_tick(11 + 10 * 50);
    BOOST_TEST(irq0.rising_edges() == 51u);

    // Odd count 5: high for 3 clocks, low for 2.
    control(0x36);
    write16(0, 5);
    u64 start = tick() + 1;
    goto_tick(start);
    BOOST_TEST(read16(0) == 4);
    unsigned high = 0;
    for (u64 t = start; t < start + 50; ++t) {
        goto_tick(t);
        if (pit.out(0)) ++high;
    }
    BOOST_TEST(high == 30u);
}

BOOST_FIXTURE_TEST_CASE(mode3_irq_rate_1khz, PitFixture) {
    control(0x36);
    write16(0, 1193);
    irq0.clear_edges();
    clock.advance(1'000'000'000);
    BOOST_TEST(irq0.rising_edges() == 1000u);
}

BOOST_FIXTURE_TEST_CASE(mode4_strobe_is_one_clock_low, PitFixture) {
    control(0x38); // mode 4
    BOOST_TEST(irq0.level());
    write16(0, 10);
    irq0.clear_edges();
    goto_tick(10);
    BOOST_TEST(irq0.level());
    goto_tick(11);
    BOOST_TEST(!irq0.level());
    goto_tick(12);
    BOOST_TEST(irq0.level());
    BOOST_TEST(irq0.rising_edges() == 1u);
    goto_tick(100000);
    BOOST_TEST(irq0.rising_edges() == 1u);
}

BOOST_FIXTURE_TEST_CASE(counter_latch_holds_value_while_counter_runs, PitFixture) {
    control(0x34);
    write16(0, 1000);
    goto_tick(101);
    control(0x00); // latch counter 0
    goto_tick(151);
    control(0x00); // ignored: already latched
    BOOST_TEST(read(0) == (900 & 0xFF));
    goto_tick(161);
    BOOST_TEST(read(0) == (900 >> 8));
    // Latch released: live value again.
    BOOST_TEST(read16(0) == 840);
    // LSB-only access mode.
    control(0x10 | 0x04); // counter 0, LSB only, mode 2
    write(0, 200);
    goto_tick(tick() + 1 + 50);
    control(0x00);
    goto_tick(tick() + 20);
    BOOST_TEST(read(0) == 150);
    BOOST_TEST(read(0) == 130); // live
}

BOOST_FIXTURE_TEST_CASE(read_back_latches_status_and_count, PitFixture) {
    control(0x34);
    write16(0, 1000);
    // Before the next clock the count is still in the count register: null count.
    control(0xE2); // read-back status only, counter 0
    BOOST_TEST(read(0) == (0x80 | 0x40 | 0x34));
    goto_tick(11);
    control(0xC2); // status and count
    goto_tick(30);
    BOOST_TEST(read(0) == (0x80 | 0x34)); // status first, OUT high, count loaded
    BOOST_TEST(read16(0) == 990);
    // Several counters at once, count only.
    control(0xB0); // counter 2, mode 0
    pit.set_gate(2, true);
    write16(2, 500);
    goto_tick(40);
    control(0xD0 | 0x02 | 0x08); // count of counters 0 and 2
    goto_tick(60);
    BOOST_TEST(read16(0) == 961);
    BOOST_TEST(read16(2) == 500 - (40 - 31));
    // Status of a mode 0 counter before terminal count: OUT low.
    control(0xE8);
    BOOST_TEST(read(2) == 0x30);
}

BOOST_FIXTURE_TEST_CASE(bcd_counting, PitFixture) {
    control(0x31); // counter 0, mode 0, BCD
    write16(0, 0x0100);
    goto_tick(2);
    BOOST_TEST(read16(0) == 0x0099);
    goto_tick(101);
    BOOST_TEST(read16(0) == 0x0000);
    BOOST_TEST(irq0.level());
    goto_tick(102);
    BOOST_TEST(read16(0) == 0x9999); // wraps in decimal
    control(0x31);
    write16(0, 0x0000); // 10000
    u64 t = tick();
    goto_tick(t + 1 + 1);
    BOOST_TEST(read16(0) == 0x9999);
    goto_tick(t + 1 + 1234);
    BOOST_TEST(read16(0) == 0x8766);
    // A non-decimal digit is clamped and counted.
    u64 ignored = pit.ignored_accesses();
    control(0x31);
    write16(0, 0x00A0);
    BOOST_TEST(pit.ignored_accesses() == ignored + 1);
}

// Linux's PIT clock event device in one-shot mode (mode 4, the next event
// programmed from the interrupt handler): a host that runs the timer
// callback late, here by 50 ms, must still deliver the strobe's edge, or
// the guest's timers stop for good (an idle guest never woke again).
BOOST_FIXTURE_TEST_CASE(late_mode4_strobe_still_interrupts, PitFixture) {
    control(0x38); // counter 0, LSB then MSB, mode 4
    write16(0, 1000);
    irq0.clear_edges();
    u64 due = clock.next_deadline();
    BOOST_REQUIRE(due != Clock::NEVER);
    clock.skip_to(due + 50'000'000); // the callback runs 50 ms late
    clock.run_expired();
    BOOST_TEST(irq0.rising_edges() == 1u);
    write16(0, 500); // the handler programs the next event
    irq0.clear_edges();
    goto_tick(tick() + 502);
    BOOST_TEST(irq0.rising_edges() == 1u);
}

// Linux reprograms its one-shot timer with the shortest count it allows
// (15 input ticks) when an event is already overdue. If the guest writes
// counter 0 again after that strobe fell due but before the VM loop ran
// the timer callback, the strobe's edge still comes first: on the real chip
// it happened in between. Losing it stopped the guest's timer for good.
BOOST_FIXTURE_TEST_CASE(rewrite_after_an_unfired_strobe_keeps_its_edge, PitFixture) {
    control(0x38);
    write16(0, 15);
    irq0.clear_edges();
    u64 due = clock.next_deadline();
    BOOST_REQUIRE(due != Clock::NEVER);
    clock.skip_to(due + 100'000); // past the strobe; no callback has run
    BOOST_TEST(irq0.rising_edges() == 0u);
    control(0x38); // the guest rewrites the counter
    BOOST_TEST(irq0.rising_edges() == 1u);
    write16(0, 15);
    clock.run_expired(); // nothing stale left to fire
    BOOST_TEST(irq0.rising_edges() == 1u);
    goto_tick(tick() + 17);
    BOOST_TEST(irq0.rising_edges() == 2u);
}

// The same for the count bytes: an LSB/MSB write that lands after an
// unfired strobe replays it before loading the new count.
BOOST_FIXTURE_TEST_CASE(count_write_after_an_unfired_strobe_keeps_its_edge, PitFixture) {
    control(0x38);
    write16(0, 20);
    irq0.clear_edges();
    clock.skip_to(clock.next_deadline() + 5'000'000);
    write16(0, 30);
    BOOST_TEST(irq0.rising_edges() == 1u);
    goto_tick(tick() + 32);
    BOOST_TEST(irq0.rising_edges() == 2u);
}

// A host that keeps the VM thread off the CPU for 50 ms: a 250 Hz periodic
// tick's 12 missed edges are replayed, one per transition (the machine's
// backlog turns them into interrupts). Past 200 ms, or past 64 periods of
// a fast count, the PIT skips ahead instead.
BOOST_FIXTURE_TEST_CASE(late_periodic_ticks_are_replayed_up_to_a_bound, PitFixture) {
    control(0x34);    // counter 0, mode 2
    write16(0, 4773); // 250 Hz
    goto_tick(4773 * 10 + 2);
    irq0.clear_edges();
    u64 due = clock.next_deadline();
    clock.skip_to(due + 50'000'000);
    clock.run_expired();
    BOOST_TEST(irq0.rising_edges() == 13u); // the due tick and 12 more
    irq0.clear_edges();
    // Half a second behind: skipped, one edge at most.
    clock.skip_to(clock.next_deadline() + 500'000'000);
    clock.run_expired();
    BOOST_TEST(irq0.rising_edges() <= 1u);
    // A fast count (100 input ticks) 50 ms behind: far more than 64 periods.
    control(0x34);
    write16(0, 100);
    goto_tick(tick() + 250);
    irq0.clear_edges();
    clock.skip_to(clock.next_deadline() + 50'000'000);
    clock.run_expired();
    BOOST_TEST(irq0.rising_edges() <= 1u);
}

BOOST_FIXTURE_TEST_CASE(mode2_reprogramming_takes_effect_after_the_period, PitFixture) {
    control(0x34);
    write16(0, 100);
    irq0.clear_edges();
    goto_tick(31);
    write16(0, 50); // no control word: the current period completes
    control(0xE2);
    BOOST_TEST((read(0) & 0x40) != 0); // null count until the reload
    goto_tick(100);
    BOOST_TEST(read16(0) == 1);
    goto_tick(101);
    BOOST_TEST(irq0.rising_edges() == 1u);
    BOOST_TEST(read16(0) == 50);
    control(0xE2);
    BOOST_TEST((read(0) & 0x40) == 0);
    goto_tick(151);
    BOOST_TEST(irq0.rising_edges() == 2u);
    goto_tick(201);
    BOOST_TEST(irq0.rising_edges() == 3u);
}

BOOST_FIXTURE_TEST_CASE(mode3_reprogramming_waits_for_the_half_cycle, PitFixture) {
    control(0x36);
    write16(0, 100); // high 50, low 50
    irq0.clear_edges();
    goto_tick(11);
    write16(0, 20);
    goto_tick(50);
    BOOST_TEST(irq0.level());
    goto_tick(51); // end of the high half: new count, low half of 10
    BOOST_TEST(!irq0.level());
    BOOST_TEST(read16(0) == 20);
    goto_tick(61);
    BOOST_TEST(irq0.level());
    goto_tick(71);
    BOOST_TEST(!irq0.level());
}

BOOST_FIXTURE_TEST_CASE(mode0_reprogramming_restarts_and_first_byte_stops, PitFixture) {
    control(0x30);
    write16(0, 100);
    goto_tick(51);
    write16(0, 100); // new count on the next clock
    goto_tick(52);
    BOOST_TEST(read16(0) == 100);
    goto_tick(151);
    BOOST_TEST(!irq0.level());
    goto_tick(152);
    BOOST_TEST(irq0.level());
    // Writing a new count after terminal count drops OUT again.
    write(0, 10); // first byte: counting stops, OUT low
    BOOST_TEST(!irq0.level());
    u16 held = read16(0);
    goto_tick(200);
    BOOST_TEST(read16(0) == held);
    write(0, 0); // second byte: count 10 loads
    goto_tick(211);
    BOOST_TEST(irq0.level());
    BOOST_TEST(irq0.rising_edges() == 2u);
}

BOOST_FIXTURE_TEST_CASE(gate_controls_counter2, PitFixture) {
    // Mode 0 with the gate low does not count (SeaBIOS TSC calibration).
    control(0xB0);
    write16(2, 100);
    goto_tick(50);
    BOOST_TEST(read16(2) == 100);
    pit.set_gate(2, true);
    goto_tick(60);
    BOOST_TEST(read16(2) == 90);
    pit.set_gate(2, false);
    goto_tick(80);
    BOOST_TEST(read16(2) == 90);
    BOOST_TEST(!pit.out(2));
    pit.set_gate(2, true);
    goto_tick(170);
    BOOST_TEST(pit.out(2));

    // Mode 2: gate low forces OUT high; a rising edge reloads.
    control(0xB4);
    write16(2, 10);
    goto_tick(tick() + 5);
    pit.set_gate(2, false);
    BOOST_TEST(pit.out(2));
    goto_tick(tick() + 30);
    BOOST_TEST(pit.out(2));
    pit.set_gate(2, true);
    goto_tick(tick() + 1);
    BOOST_TEST(read16(2) == 10);

    // Mode 1: one-shot triggered by the gate's rising edge.
    pit.set_gate(2, false);
    control(0xB2);
    write16(2, 20);
    goto_tick(tick() + 10);
    BOOST_TEST(pit.out(2)); // waits for a trigger
    pit.set_gate(2, true);
    u64 trigger = tick();
    goto_tick(trigger + 1);
    BOOST_TEST(!pit.out(2));
    goto_tick(trigger + 20);
    BOOST_TEST(!pit.out(2));
    goto_tick(trigger + 21);
    BOOST_TEST(pit.out(2));
    // Retrigger.
    pit.set_gate(2, false);
    pit.set_gate(2, true);
    goto_tick(tick() + 2);
    BOOST_TEST(!pit.out(2));
    BOOST_TEST(pit.gate(2));
    BOOST_TEST(!pit.out(7));
}

BOOST_FIXTURE_TEST_CASE(mode5_hardware_strobe, PitFixture) {
    control(0xBA); // counter 2, mode 5
    write16(2, 10);
    goto_tick(30);
    BOOST_TEST(pit.out(2));
    pit.set_gate(2, true);
    goto_tick(30 + 1 + 10);
    BOOST_TEST(!pit.out(2));
    goto_tick(30 + 1 + 11);
    BOOST_TEST(pit.out(2));
}

BOOST_FIXTURE_TEST_CASE(control_register_reads_open_bus, PitFixture) {
    BOOST_TEST(pit.io_read(3, Width::Byte) == 0xFFu);
    BOOST_TEST(pit.ignored_accesses() == 1u);
}

BOOST_FIXTURE_TEST_CASE(random_registers_do_not_crash, PitFixture) {
    for (u32 seed = 1; seed <= 8; ++seed) {
        vsa::test::random_register_loop(pit, 4, 4000, seed);
        clock.advance(1'000'000 * seed);
        pit.set_gate(2, seed & 1);
    }
}

BOOST_FIXTURE_TEST_CASE(save_load_save_is_identical, PitFixture) {
    control(0x34);
    write16(0, 1000);
    control(0xB6);
    pit.set_gate(2, true);
    write16(2, 333);
    goto_tick(500);
    write16(2, 77); // pending reload
    control(0x40);  // latch counter 1
    control(0xC2);
    FakeIrqLine other;
    Pit8254 fresh(other, clock);
    vsa::test::check_save_load_save(pit, fresh);
    BOOST_TEST(other.level() == irq0.level());
    // The loaded copy runs on identically.
    other.clear_edges();
    irq0.clear_edges();
    goto_tick(50000);
    BOOST_TEST(fresh.io_read(2, Width::Byte) == pit.io_read(2, Width::Byte));
    BOOST_TEST(fresh.out(2) == pit.out(2));
    BOOST_TEST(other.rising_edges() == irq0.rising_edges());
    BOOST_TEST(irq0.rising_edges() == 49u); // edges at 1001, 2001, ... 49001
}

BOOST_FIXTURE_TEST_CASE(bad_streams_fail_cleanly, PitFixture) {
    control(0x36);
    write16(0, 0);
    FakeIrqLine other;
    Pit8254 fresh(other, clock);
    vsa::test::check_bad_streams_fail(pit, fresh);
    clock.advance(100'000'000);
}

BOOST_AUTO_TEST_SUITE_END()
