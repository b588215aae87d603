// SPDX-License-Identifier: GPL-2.0-or-later
// IdleCoalescer: exact wakeups for a busy guest, ticks rounded up to the
// slack grid once a whole window was spent asleep, precise deadlines never
// delayed, and back to exact as soon as a window shows work.
#include "hypervisor/machine/idle_coalescer.h"

#include <boost/test/unit_test.hpp>

using namespace vsa;

namespace {

constexpr u64 MS = 1'000'000;
constexpr u64 NEVER = IdleCoalescer::NEVER;

// A guest with a 4 ms tick that sleeps from each halt to its wakeup and then
// runs `busy_ns`: returns the time after `windows` windows, and counts wakeups.
u64 run_guest(IdleCoalescer& c, u64 t, unsigned windows, u64 busy_ns, unsigned& wakeups) {
    u64 end = t + windows * IdleCoalescer::WINDOW_NS;
    u64 tick = t + 4 * MS;
    while (t < end) {
        u64 wake = c.wake_time(t, NEVER, tick);
        BOOST_REQUIRE(wake >= t);
        c.slept(t, wake);
        t = wake + busy_ns;
        ++wakeups;
        // The guest programs its next tick 4 ms after the current time.
        tick = t + 4 * MS;
    }
    return t;
}

} // namespace

BOOST_AUTO_TEST_SUITE(idle_coalescer)

BOOST_AUTO_TEST_CASE(first_window_is_exact) {
    IdleCoalescer c(16 * MS);
    BOOST_TEST(c.wake_time(0, NEVER, 4 * MS) == 4 * MS);
    BOOST_TEST(c.wake_time(0, NEVER, NEVER) == NEVER);
    BOOST_TEST(c.wake_time(0, 2 * MS, 4 * MS) == 2 * MS);
    BOOST_TEST(!c.coalescing());
}

BOOST_AUTO_TEST_CASE(an_idle_guest_ticks_on_the_slack_grid) {
    IdleCoalescer c(32 * MS);
    unsigned wakeups = 0;
    // 100 us of work per 4 ms tick: 97.5 % asleep.
    u64 t = run_guest(c, 0, 2, 100'000, wakeups);
    BOOST_TEST(c.coalescing());
    // Newly idle: half the slack.
    BOOST_TEST(c.grid_ns() == 16 * MS);
    wakeups = 0;
    t = run_guest(c, t, 2, 100'000, wakeups); // half a second
    // About 62.5 wakeups a second instead of 250.
    BOOST_TEST(wakeups >= 29u);
    BOOST_TEST(wakeups <= 34u);
    // Idle for a second in a row: the whole slack.
    t = run_guest(c, t, 2, 100'000, wakeups);
    BOOST_TEST(c.grid_ns() == 32 * MS);
    wakeups = 0;
    t = run_guest(c, t, 4, 100'000, wakeups); // one second
    BOOST_TEST(wakeups >= 30u);
    BOOST_TEST(wakeups <= 33u);
    // The wakeup is the tick's deadline rounded up to the grid.
    u64 grid = (t / (32 * MS) + 2) * 32 * MS;
    BOOST_TEST(c.wake_time(t, NEVER, grid + 1) == grid + 32 * MS);
    BOOST_TEST(c.wake_time(t, NEVER, grid) == grid);
    // Half-grid points are whole-grid points too, so guests in either
    // phase wake together.
    BOOST_TEST(grid % (16 * MS) == 0u);
}

BOOST_AUTO_TEST_CASE(work_restarts_the_settling) {
    IdleCoalescer c(32 * MS);
    unsigned wakeups = 0;
    u64 t = run_guest(c, 0, 6, 100'000, wakeups);
    BOOST_REQUIRE(c.grid_ns() == 32 * MS);
    // A busy half second, then idle again: back to half the slack first.
    t += 500 * MS;
    c.wake_time(t, NEVER, t + 4 * MS);
    BOOST_TEST(c.grid_ns() == 0u);
    t = run_guest(c, t, 2, 100'000, wakeups);
    BOOST_TEST(c.grid_ns() == 16 * MS);
}

BOOST_AUTO_TEST_CASE(precise_deadlines_and_due_ticks_are_never_delayed) {
    IdleCoalescer c(16 * MS);
    unsigned wakeups = 0;
    u64 t = run_guest(c, 0, 2, 100'000, wakeups);
    BOOST_REQUIRE(c.coalescing());
    // A device completion 1 ms away: on time, whatever the tick.
    BOOST_TEST(c.wake_time(t, t + MS, t + 2 * MS) == t + MS);
    // A tick already due fires now.
    BOOST_TEST(c.wake_time(t, NEVER, t - 1) == t - 1);
    BOOST_TEST(c.wake_time(t, NEVER, NEVER) == NEVER);
}

BOOST_AUTO_TEST_CASE(a_busy_guest_keeps_exact_ticks) {
    IdleCoalescer c(16 * MS);
    unsigned wakeups = 0;
    // 1 ms of work per 4 ms tick: 80 % asleep, below the 90 % bar.
    run_guest(c, 0, 4, MS, wakeups);
    BOOST_TEST(!c.coalescing());
}

BOOST_AUTO_TEST_CASE(work_after_idling_ends_coalescing) {
    IdleCoalescer c(16 * MS);
    unsigned wakeups = 0;
    u64 t = run_guest(c, 0, 2, 100'000, wakeups);
    BOOST_REQUIRE(c.coalescing());
    // Half a second of work without a halt: the next halt closes a window
    // that holds almost no sleep.
    t += 500 * MS;
    BOOST_TEST(c.wake_time(t, NEVER, t + 4 * MS) == t + 4 * MS);
    BOOST_TEST(!c.coalescing());
}

BOOST_AUTO_TEST_CASE(zero_slack_never_coalesces) {
    IdleCoalescer c(0);
    unsigned wakeups = 0;
    run_guest(c, 0, 4, 10'000, wakeups);
    BOOST_TEST(!c.coalescing());
    BOOST_TEST(wakeups >= 240u);
}

BOOST_AUTO_TEST_CASE(time_going_back_starts_over) {
    IdleCoalescer c(16 * MS);
    unsigned wakeups = 0;
    u64 t = run_guest(c, 10'000 * MS, 2, 100'000, wakeups);
    BOOST_REQUIRE(c.coalescing());
    // A restored state resumes at an earlier virtual time.
    BOOST_TEST(c.wake_time(t - 5'000 * MS, NEVER, t - 4'996 * MS) == t - 4'996 * MS);
    BOOST_TEST(!c.coalescing());
    // Near the end of time the grid does not overflow.
    IdleCoalescer d(16 * MS);
    u64 late = run_guest(d, NEVER - 2'000 * MS, 2, 100'000, wakeups);
    BOOST_REQUIRE(d.coalescing());
    BOOST_TEST(d.wake_time(late, NEVER, NEVER - 1) == NEVER);
}

BOOST_AUTO_TEST_SUITE_END()
