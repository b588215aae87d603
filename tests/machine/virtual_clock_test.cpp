// SPDX-License-Identifier: GPL-2.0-or-later
// The virtual clock: manual stepping fires timers in order, deterministic
// time follows the instruction counter, real time pauses.
#include "hypervisor/io/clock.h"

#include <boost/test/unit_test.hpp>

#include <thread>
#include <vector>

using namespace vsa;

BOOST_AUTO_TEST_SUITE(virtual_clock)

BOOST_AUTO_TEST_CASE(manual_timers_fire_in_deadline_order) {
    Clock clock{Clock::Mode::Manual};
    std::vector<std::pair<int, u64>> fired;
    Timer a(clock, [&] { fired.emplace_back(1, clock.now()); });
    Timer b(clock, [&] { fired.emplace_back(2, clock.now()); });
    a.arm_at(300);
    b.arm_at(100);
    BOOST_TEST(clock.next_deadline() == 100u);
    clock.advance(250);
    BOOST_REQUIRE(fired.size() == 1u);
    BOOST_TEST(fired[0].first == 2);
    BOOST_TEST(fired[0].second == 100u);
    clock.advance(100);
    BOOST_REQUIRE(fired.size() == 2u);
    BOOST_TEST(fired[1].second == 300u);
    BOOST_TEST(clock.now() == 350u);
    BOOST_TEST(!a.armed());
}

BOOST_AUTO_TEST_CASE(deadlines_split_precise_and_coalescable_timers) {
    Clock clock{Clock::Mode::Manual};
    Timer tick(clock, [] {});
    Timer uart(clock, [] {});
    tick.set_coalescable(true);
    BOOST_TEST(clock.next_deadlines().precise == Clock::NEVER);
    BOOST_TEST(clock.next_deadlines().coalescable == Clock::NEVER);
    tick.arm_at(400);
    uart.arm_at(900);
    BOOST_TEST(clock.next_deadlines().coalescable == 400u);
    BOOST_TEST(clock.next_deadlines().precise == 900u);
    BOOST_TEST(clock.next_deadline() == 400u);
    // Coalescable or not, a timer fires at its deadline when time gets
    // there: only the run loop's sleep treats them differently.
    clock.advance(400);
    BOOST_TEST(!tick.armed());
    BOOST_TEST(clock.next_deadlines().coalescable == Clock::NEVER);
}

BOOST_AUTO_TEST_CASE(periodic_rearm_and_cancel) {
    Clock clock{Clock::Mode::Manual};
    int count = 0;
    Timer* self = nullptr;
    Timer t(clock, [&] {
        ++count;
        self->arm_at(self->deadline() == Clock::NEVER ? clock.now() + 10 : clock.now() + 10);
    });
    self = &t;
    t.arm_at(10);
    clock.advance(105);
    BOOST_TEST(count == 10);
    t.cancel();
    clock.advance(100);
    BOOST_TEST(count == 10);
}

BOOST_AUTO_TEST_CASE(destroyed_timer_never_fires) {
    Clock clock{Clock::Mode::Manual};
    int count = 0;
    {
        Timer t(clock, [&] { ++count; });
        t.arm_at(5);
    }
    clock.advance(10);
    BOOST_TEST(count == 0);
    BOOST_TEST(clock.next_deadline() == Clock::NEVER);
}

BOOST_AUTO_TEST_CASE(deterministic_time_follows_instructions) {
    Clock clock{Clock::Mode::Deterministic};
    u64 retired = 0;
    clock.set_instruction_counter(&retired, 4);
    retired = 1000;
    BOOST_TEST(clock.now() == 4000u);
    clock.skip_to(10'000); // idle time while halted
    BOOST_TEST(clock.now() == 10'000u);
    retired = 1500;
    BOOST_TEST(clock.now() == 12'000u);
    clock.skip_to(5); // never backwards
    BOOST_TEST(clock.now() == 12'000u);
}

BOOST_AUTO_TEST_CASE(real_time_moves_and_pauses) {
    Clock clock{Clock::Mode::RealTime};
    u64 t0 = clock.now();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    u64 t1 = clock.now();
    BOOST_TEST(t1 > t0);
    clock.pause();
    u64 paused = clock.now();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    BOOST_TEST(clock.now() == paused);
    clock.resume();
    BOOST_TEST(clock.now() >= paused);
    BOOST_TEST(clock.now() < paused + 4'000'000u); // the 5 ms pause is not counted
}

// A restored saved state resumes at its virtual time, in every mode, and
// may go back in time (restoring an older state).
BOOST_AUTO_TEST_CASE(set_now_resumes_at_a_saved_time) {
    Clock manual{Clock::Mode::Manual};
    manual.advance(500);
    manual.set_now(123'456);
    BOOST_TEST(manual.now() == 123'456u);
    manual.set_now(7);
    BOOST_TEST(manual.now() == 7u);

    Clock det{Clock::Mode::Deterministic};
    u64 retired = 0;
    det.set_instruction_counter(&retired, 10);
    retired = 5000; // the loaded CPU's counter, set before the clock
    det.set_now(1'000'000);
    BOOST_TEST(det.now() == 1'000'000u);
    retired = 5100;
    BOOST_TEST(det.now() == 1'001'000u);
    retired = 1'000'000; // the counter's share is past the saved time
    det.set_now(20);
    BOOST_TEST(det.now() == 20u);
    retired += 3;
    BOOST_TEST(det.now() == 50u);

    Clock real{Clock::Mode::RealTime};
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    real.set_now(5'000'000'000);
    u64 t = real.now();
    BOOST_TEST(t >= 5'000'000'000u);
    BOOST_TEST(t < 5'000'000'000u + 1'000'000'000u);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    BOOST_TEST(real.now() > t);

    // Set while paused: time stays there until resume() and runs on from it.
    real.pause();
    real.set_now(42);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    BOOST_TEST(real.now() == 42u);
    real.resume();
    BOOST_TEST(real.now() >= 42u);
    BOOST_TEST(real.now() < 42u + 4'000'000u);
}

BOOST_AUTO_TEST_SUITE_END()
