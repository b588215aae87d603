// SPDX-License-Identifier: GPL-2.0-or-later
// MC146818A RTC driven through ports 0x70/0x71 on a manual clock: time in
// BCD, binary and 12-hour form, calendar rollover, UIP timing, SET, the
// divider, periodic/alarm/update interrupts, register C, NMI mask, CMOS RAM
// and saved state.
#include "hw/rtc_mc146818.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

using namespace vsa;
using vsa::test::FakeIrqLine;
using Rtc = RtcMc146818;

namespace {

constexpr u64 MS = 1'000'000;
constexpr u64 SECOND = 1'000'000'000;
constexpr i64 NEW_YEARS_EVE_2023 = 1704067199; // 2023-12-31 23:59:59 UTC, a Sunday
constexpr i64 FEB_28_2024 = 1709164799;        // 2024-02-28 23:59:59, a Wednesday
constexpr i64 FEB_28_2100 = 4107542399;        // 2100 is not a leap year
constexpr i64 FEB_28_2000 = 951782399;         // 2000 is
constexpr i64 JUNE_15_2024 = 1718495990;       // 2024-06-15 23:59:50, a Saturday

struct RtcFixture {
    Clock clock{Clock::Mode::Manual};
    FakeIrqLine irq8;
    Rtc rtc;

    explicit RtcFixture(i64 start = JUNE_15_2024) : rtc(irq8, clock, start) {}

    u8 read(u8 index) {
        rtc.io_write(0, Width::Byte, index);
        return static_cast<u8>(rtc.io_read(1, Width::Byte));
    }
    void write(u8 index, u8 value) {
        rtc.io_write(0, Width::Byte, index);
        rtc.io_write(1, Width::Byte, value);
    }
    // Counts IRQ 8 rising edges over `ns`, reading C after each like a handler.
    unsigned count_irqs(u64 ns, u64 step = 10'000) {
        unsigned irqs = 0;
        for (u64 t = 0; t < ns; t += step) {
            clock.advance(step);
            if (irq8.level()) {
                ++irqs;
                (void)read(Rtc::REG_C);
                BOOST_REQUIRE(!irq8.level());
            }
        }
        return irqs;
    }
};

struct Feb2024 : RtcFixture {
    Feb2024() : RtcFixture(FEB_28_2024) {}
};
struct Eve2023 : RtcFixture {
    Eve2023() : RtcFixture(NEW_YEARS_EVE_2023) {}
};

} // namespace

BOOST_AUTO_TEST_SUITE(rtc_mc146818)

BOOST_FIXTURE_TEST_CASE(power_on_state, RtcFixture) {
    BOOST_TEST(read(Rtc::REG_A) == 0x26);
    BOOST_TEST(read(Rtc::REG_B) == 0x02);
    BOOST_TEST(read(Rtc::REG_C) == 0x00);
    BOOST_TEST(read(Rtc::REG_D) == 0x80);
    BOOST_TEST(!irq8.level());
    BOOST_TEST(rtc.unix_time() == JUNE_15_2024);
}

BOOST_FIXTURE_TEST_CASE(time_of_day_bcd_binary_and_12_hour, RtcFixture) {
    // BCD, 24 hours (the power-on format).
    BOOST_TEST(read(Rtc::SECONDS) == 0x50);
    BOOST_TEST(read(Rtc::MINUTES) == 0x59);
    BOOST_TEST(read(Rtc::HOURS) == 0x23);
    BOOST_TEST(read(Rtc::DAY_OF_WEEK) == 0x07);
    BOOST_TEST(read(Rtc::DAY_OF_MONTH) == 0x15);
    BOOST_TEST(read(Rtc::MONTH) == 0x06);
    BOOST_TEST(read(Rtc::YEAR) == 0x24);
    BOOST_TEST(read(Rtc::CENTURY) == 0x20);
    // Binary.
    write(Rtc::REG_B, Rtc::B_24H | Rtc::B_DM_BINARY);
    BOOST_TEST(read(Rtc::SECONDS) == 50);
    BOOST_TEST(read(Rtc::HOURS) == 23);
    BOOST_TEST(read(Rtc::DAY_OF_MONTH) == 15);
    BOOST_TEST(read(Rtc::YEAR) == 24);
    BOOST_TEST(read(Rtc::CENTURY) == 20);
    // 12 hours, BCD: 11 PM.
    write(Rtc::REG_B, 0x00);
    BOOST_TEST(read(Rtc::HOURS) == (Rtc::HOUR_PM | 0x11));
    // 12 hours, binary.
    write(Rtc::REG_B, Rtc::B_DM_BINARY);
    BOOST_TEST(read(Rtc::HOURS) == (Rtc::HOUR_PM | 11));
    // Midnight is 12 AM, noon 12 PM.
    clock.advance(10 * SECOND);
    write(Rtc::REG_B, 0x00);
    BOOST_TEST(read(Rtc::HOURS) == 0x12);
    BOOST_TEST(read(Rtc::DAY_OF_MONTH) == 0x16);
    BOOST_TEST(read(Rtc::DAY_OF_WEEK) == 0x01);
    clock.advance(12 * 3600 * SECOND);
    BOOST_TEST(read(Rtc::HOURS) == (Rtc::HOUR_PM | 0x12));
}

BOOST_FIXTURE_TEST_CASE(new_year_rollover, Eve2023) {
    BOOST_TEST(read(Rtc::YEAR) == 0x23);
    BOOST_TEST(read(Rtc::DAY_OF_WEEK) == 0x01);
    clock.advance(SECOND - 1);
    BOOST_TEST(read(Rtc::SECONDS) == 0x59);
    clock.advance(1);
    BOOST_TEST(read(Rtc::SECONDS) == 0x00);
    BOOST_TEST(read(Rtc::MINUTES) == 0x00);
    BOOST_TEST(read(Rtc::HOURS) == 0x00);
    BOOST_TEST(read(Rtc::DAY_OF_MONTH) == 0x01);
    BOOST_TEST(read(Rtc::MONTH) == 0x01);
    BOOST_TEST(read(Rtc::YEAR) == 0x24);
    BOOST_TEST(read(Rtc::CENTURY) == 0x20);
    BOOST_TEST(read(Rtc::DAY_OF_WEEK) == 0x02);
}

BOOST_FIXTURE_TEST_CASE(century_rollover, RtcFixture) {
    // Set 2099-12-31 23:59:59 through SET.
    write(Rtc::REG_B, Rtc::B_SET | Rtc::B_24H);
    write(Rtc::CENTURY, 0x20);
    write(Rtc::YEAR, 0x99);
    write(Rtc::MONTH, 0x12);
    write(Rtc::DAY_OF_MONTH, 0x31);
    write(Rtc::HOURS, 0x23);
    write(Rtc::MINUTES, 0x59);
    write(Rtc::SECONDS, 0x59);
    write(Rtc::REG_B, Rtc::B_24H);
    clock.advance(SECOND);
    BOOST_TEST(read(Rtc::YEAR) == 0x00);
    BOOST_TEST(read(Rtc::CENTURY) == 0x21);
    BOOST_TEST(read(Rtc::MONTH) == 0x01);
}

BOOST_FIXTURE_TEST_CASE(leap_years, Feb2024) {
    clock.advance(SECOND);
    BOOST_TEST(read(Rtc::DAY_OF_MONTH) == 0x29);
    BOOST_TEST(read(Rtc::MONTH) == 0x02);
    BOOST_TEST(read(Rtc::DAY_OF_WEEK) == 0x05);
    clock.advance(86400 * SECOND);
    BOOST_TEST(read(Rtc::DAY_OF_MONTH) == 0x01);
    BOOST_TEST(read(Rtc::MONTH) == 0x03);
    BOOST_TEST(read(Rtc::DAY_OF_WEEK) == 0x06);
    for (auto [start, day] : {std::pair{FEB_28_2100, 0x01}, std::pair{FEB_28_2000, 0x29}}) {
        Clock c{Clock::Mode::Manual};
        FakeIrqLine line;
        Rtc other(line, c, start);
        c.advance(SECOND);
        other.io_write(0, Width::Byte, Rtc::DAY_OF_MONTH);
        BOOST_TEST(other.io_read(1, Width::Byte) == static_cast<u32>(day));
    }
}

BOOST_FIXTURE_TEST_CASE(uip_is_high_for_244us_before_each_update, RtcFixture) {
    BOOST_TEST((read(Rtc::REG_A) & Rtc::A_UIP) == 0);
    clock.advance(SECOND - Rtc::UIP_LEAD_NS - 1);
    BOOST_TEST((read(Rtc::REG_A) & Rtc::A_UIP) == 0);
    clock.advance(1);
    BOOST_TEST((read(Rtc::REG_A) & Rtc::A_UIP) != 0);
    BOOST_TEST(read(Rtc::SECONDS) == 0x50); // the update has not happened
    clock.advance(Rtc::UIP_LEAD_NS - 1);
    BOOST_TEST((read(Rtc::REG_A) & Rtc::A_UIP) != 0);
    clock.advance(1);
    BOOST_TEST((read(Rtc::REG_A) & Rtc::A_UIP) == 0);
    BOOST_TEST(read(Rtc::SECONDS) == 0x51);
    // Polling every 100 us for 10 s sees UIP high for 244 us of each second.
    unsigned high = 0;
    for (int i = 0; i < 100000; ++i) {
        clock.advance(100'000);
        if (read(Rtc::REG_A) & Rtc::A_UIP) ++high;
    }
    BOOST_TEST(high >= 20u);
    BOOST_TEST(high <= 30u);
}

BOOST_FIXTURE_TEST_CASE(set_bit_freezes_time_and_takes_written_time, RtcFixture) {
    write(Rtc::REG_B, Rtc::B_24H | Rtc::B_UIE);
    write(Rtc::REG_B, Rtc::B_SET | Rtc::B_24H | Rtc::B_UIE);
    BOOST_TEST(read(Rtc::REG_B) == (Rtc::B_SET | Rtc::B_24H)); // SET clears UIE
    clock.advance(SECOND - 100'000);
    BOOST_TEST((read(Rtc::REG_A) & Rtc::A_UIP) == 0); // no update while SET
    clock.advance(5 * SECOND);
    BOOST_TEST(read(Rtc::SECONDS) == 0x50);
    BOOST_TEST((read(Rtc::REG_C) & Rtc::C_UF) == 0);
    // Write 1999-12-31 23:59:58, a Friday.
    write(Rtc::CENTURY, 0x19);
    write(Rtc::YEAR, 0x99);
    write(Rtc::MONTH, 0x12);
    write(Rtc::DAY_OF_MONTH, 0x31);
    write(Rtc::DAY_OF_WEEK, 0x06);
    write(Rtc::HOURS, 0x23);
    write(Rtc::MINUTES, 0x59);
    write(Rtc::SECONDS, 0x58);
    clock.advance(3 * SECOND);
    BOOST_TEST(read(Rtc::SECONDS) == 0x58);
    write(Rtc::REG_B, Rtc::B_24H);
    // The divider kept running: the next update is on the old grid.
    u64 to_next = SECOND - clock.now() % SECOND;
    clock.advance(to_next - 1);
    BOOST_TEST(read(Rtc::SECONDS) == 0x58);
    clock.advance(1 + SECOND);
    BOOST_TEST(read(Rtc::SECONDS) == 0x00);
    BOOST_TEST(read(Rtc::YEAR) == 0x00);
    BOOST_TEST(read(Rtc::CENTURY) == 0x20);
    BOOST_TEST(read(Rtc::DAY_OF_WEEK) == 0x07);
    BOOST_TEST(rtc.unix_time() == 946684800); // 2000-01-01 00:00:00
}

BOOST_FIXTURE_TEST_CASE(writing_a_field_while_running, RtcFixture) {
    write(Rtc::MINUTES, 0x10);
    BOOST_TEST(read(Rtc::MINUTES) == 0x10);
    BOOST_TEST(read(Rtc::HOURS) == 0x23);
    clock.advance(SECOND);
    BOOST_TEST(read(Rtc::SECONDS) == 0x51);
    // Out-of-range values are clamped and counted.
    u64 ignored = rtc.ignored_accesses();
    write(Rtc::MINUTES, 0x75);
    BOOST_TEST(read(Rtc::MINUTES) == 0x59);
    BOOST_TEST(rtc.ignored_accesses() == ignored + 1);
}

BOOST_FIXTURE_TEST_CASE(divider_reset_stops_time_and_restarts_half_a_second_later, RtcFixture) {
    write(Rtc::REG_A, 0x70);
    clock.advance(10 * SECOND);
    BOOST_TEST(read(Rtc::SECONDS) == 0x50);
    BOOST_TEST((read(Rtc::REG_A) & Rtc::A_UIP) == 0);
    write(Rtc::REG_A, 0x26);
    clock.advance(SECOND / 2 - 1);
    BOOST_TEST(read(Rtc::SECONDS) == 0x50);
    clock.advance(1);
    BOOST_TEST(read(Rtc::SECONDS) == 0x51);
    clock.advance(SECOND);
    BOOST_TEST(read(Rtc::SECONDS) == 0x52);
    // Other time bases do not run here either.
    write(Rtc::REG_A, 0x06);
    clock.advance(5 * SECOND);
    BOOST_TEST(read(Rtc::SECONDS) == 0x52);
}

BOOST_FIXTURE_TEST_CASE(periodic_interrupt_rates, RtcFixture) {
    write(Rtc::REG_B, Rtc::B_24H | Rtc::B_PIE);
    BOOST_TEST(count_irqs(SECOND) == 1024u); // rate 6 (power-on)
    write(Rtc::REG_A, 0x2F);                 // rate 15: 2 Hz
    (void)read(Rtc::REG_C);
    BOOST_TEST(count_irqs(2 * SECOND, 1 * MS) == 4u);
    write(Rtc::REG_A, 0x21); // rate 1 behaves as rate 8: 256 Hz
    BOOST_TEST(count_irqs(SECOND) == 256u);
    write(Rtc::REG_A, 0x22); // rate 2 behaves as rate 9: 128 Hz
    BOOST_TEST(count_irqs(SECOND) == 128u);
    write(Rtc::REG_A, 0x23); // rate 3: 8192 Hz
    BOOST_TEST(count_irqs(SECOND / 4, 10'000) == 2048u);
    write(Rtc::REG_A, 0x20); // off
    (void)read(Rtc::REG_C);
    BOOST_TEST(count_irqs(SECOND) == 0u);
}

BOOST_FIXTURE_TEST_CASE(periodic_flag_without_enable, RtcFixture) {
    clock.advance(2 * MS);
    BOOST_TEST(read(Rtc::REG_C) == Rtc::C_PF); // PF without IRQF
    BOOST_TEST(!irq8.level());
    BOOST_TEST(read(Rtc::REG_C) == 0x00);
    clock.advance(2 * MS);
    // Enabling PIE with PF already set raises IRQ at once.
    write(Rtc::REG_B, Rtc::B_24H | Rtc::B_PIE);
    BOOST_TEST(irq8.level());
    BOOST_TEST(read(Rtc::REG_C) == (Rtc::C_IRQF | Rtc::C_PF));
    BOOST_TEST(!irq8.level());
}

BOOST_FIXTURE_TEST_CASE(update_interrupt_each_second, RtcFixture) {
    write(Rtc::REG_B, Rtc::B_24H | Rtc::B_UIE);
    write(Rtc::REG_A, 0x20); // no periodic flag in the way
    clock.advance(SECOND - 1);
    BOOST_TEST(!irq8.level());
    clock.advance(1);
    BOOST_TEST(irq8.level());
    BOOST_TEST(read(Rtc::SECONDS) == 0x51);
    BOOST_TEST(read(Rtc::REG_C) == (Rtc::C_IRQF | Rtc::C_UF));
    BOOST_TEST(!irq8.level());
    BOOST_TEST(count_irqs(10 * SECOND, MS) == 10u);
    // The line stays high until C is read: no second edge.
    irq8.clear_edges();
    clock.advance(3 * SECOND);
    BOOST_TEST(irq8.level());
    BOOST_TEST(irq8.rising_edges() == 1u);
}

BOOST_FIXTURE_TEST_CASE(alarm_interrupt, RtcFixture) {
    write(Rtc::REG_A, 0x20);
    // 23:59:53, three seconds from now.
    write(Rtc::HOURS_ALARM, 0x23);
    write(Rtc::MINUTES_ALARM, 0x59);
    write(Rtc::SECONDS_ALARM, 0x53);
    write(Rtc::REG_B, Rtc::B_24H | Rtc::B_AIE);
    clock.advance(3 * SECOND - 1);
    BOOST_TEST(!irq8.level());
    clock.advance(1);
    BOOST_TEST(irq8.level());
    BOOST_TEST(read(Rtc::REG_C) == (Rtc::C_IRQF | Rtc::C_AF | Rtc::C_UF));
    clock.advance(60 * SECOND);
    BOOST_TEST(!irq8.level());
    BOOST_TEST((read(Rtc::REG_C) & Rtc::C_AF) == 0);
    // Don't-care hours and minutes: once a minute at second 00.
    write(Rtc::HOURS_ALARM, 0xC0);
    write(Rtc::MINUTES_ALARM, 0xFF);
    write(Rtc::SECONDS_ALARM, 0x00);
    BOOST_TEST(count_irqs(180 * SECOND, 10 * MS) == 3u);
    // All don't-care: every second.
    write(Rtc::SECONDS_ALARM, 0xC0);
    BOOST_TEST(count_irqs(5 * SECOND, 10 * MS) == 5u);
}

BOOST_FIXTURE_TEST_CASE(reading_c_clears_flags_and_lowers_irq, RtcFixture) {
    write(Rtc::REG_B, Rtc::B_24H | Rtc::B_UIE | Rtc::B_PIE);
    clock.advance(SECOND);
    BOOST_TEST(irq8.level());
    u8 c = read(Rtc::REG_C);
    BOOST_TEST(c == (Rtc::C_IRQF | Rtc::C_PF | Rtc::C_UF));
    BOOST_TEST(!irq8.level());
    BOOST_TEST(read(Rtc::REG_C) == 0x00);
    // The machine's view does not clear.
    clock.advance(SECOND);
    BOOST_TEST(rtc.cmos(Rtc::REG_C) != 0);
    BOOST_TEST(rtc.cmos(Rtc::REG_C) != 0);
    BOOST_TEST(irq8.level());
    // C and D are read-only; D reports a good battery.
    u64 ignored = rtc.ignored_accesses();
    write(Rtc::REG_C, 0x00);
    write(Rtc::REG_D, 0x00);
    BOOST_TEST(rtc.ignored_accesses() == ignored + 2);
    BOOST_TEST(read(Rtc::REG_D) == Rtc::D_VRT);
    // The RESET pin clears enables and flags.
    rtc.reset();
    BOOST_TEST(!irq8.level());
    BOOST_TEST(read(Rtc::REG_B) == Rtc::B_24H);
}

BOOST_FIXTURE_TEST_CASE(nmi_mask_and_cmos_ram, RtcFixture) {
    BOOST_TEST(!rtc.nmi_masked());
    rtc.io_write(0, Width::Byte, 0x80 | 0x30);
    BOOST_TEST(rtc.nmi_masked());
    rtc.io_write(1, Width::Byte, 0x55);
    BOOST_TEST(rtc.cmos(0x30) == 0x55);
    rtc.io_write(0, Width::Byte, 0x31);
    BOOST_TEST(!rtc.nmi_masked());
    BOOST_TEST(rtc.io_read(0, Width::Byte) == 0xFFu); // index is write-only
    // The machine's CMOS setup (memory size, boot order, CPUs).
    rtc.set_cmos(0x34, 0x12);
    rtc.set_cmos(0x5F, 0x01);
    rtc.set_cmos(0xFF, 0x42); // index wraps at 128
    BOOST_TEST(read(0x34) == 0x12);
    BOOST_TEST(read(0x5F) == 0x01);
    BOOST_TEST(read(0x7F) == 0x42);
    for (u8 i = 0x0E; i < 0x80; ++i)
        if (i != Rtc::CENTURY) write(i, static_cast<u8>(i * 3));
    for (u8 i = 0x0E; i < 0x80; ++i)
        if (i != Rtc::CENTURY) BOOST_TEST(read(i) == static_cast<u8>(i * 3));
    // The machine sets the time registers like the guest would.
    rtc.set_cmos(Rtc::REG_B, Rtc::B_24H | Rtc::B_DM_BINARY);
    BOOST_TEST(rtc.cmos(Rtc::SECONDS) == 50);
}

BOOST_FIXTURE_TEST_CASE(random_registers_do_not_crash, RtcFixture) {
    std::mt19937 rng(5);
    for (int round = 0; round < 20; ++round) {
        vsa::test::random_register_loop(rtc, 2, 500, static_cast<u32>(round + 1));
        for (int i = 0; i < 50; ++i)
            write(static_cast<u8>(rng() % 16), static_cast<u8>(rng()));
        clock.advance(rng() % (2 * SECOND));
    }
}

BOOST_FIXTURE_TEST_CASE(save_load_save_is_identical, RtcFixture) {
    write(Rtc::REG_B, Rtc::B_24H | Rtc::B_PIE | Rtc::B_AIE);
    write(Rtc::SECONDS_ALARM, 0xC0);
    write(0x40, 0xAB);
    rtc.io_write(0, Width::Byte, 0x8E);
    clock.advance(1500 * MS);
    FakeIrqLine other;
    Rtc fresh(other, clock, 0);
    vsa::test::check_save_load_save(rtc, fresh);
    BOOST_TEST(other.level() == irq8.level());
    BOOST_TEST(fresh.unix_time() == rtc.unix_time());
    BOOST_TEST(fresh.nmi_masked());
    BOOST_TEST(fresh.cmos(0x40) == 0xAB);
    // Both run on the same way.
    clock.advance(3 * SECOND);
    BOOST_TEST(fresh.cmos(Rtc::SECONDS) == rtc.cmos(Rtc::SECONDS));
    BOOST_TEST(fresh.cmos(Rtc::REG_C) == rtc.cmos(Rtc::REG_C));
}

BOOST_FIXTURE_TEST_CASE(bad_streams_fail_cleanly, RtcFixture) {
    write(Rtc::REG_B, Rtc::B_24H | Rtc::B_PIE);
    FakeIrqLine other;
    Rtc fresh(other, clock, 0);
    vsa::test::check_bad_streams_fail(rtc, fresh);
    clock.advance(3 * SECOND);
}

BOOST_AUTO_TEST_SUITE_END()
