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

BOOST_AUTO_TEST_SUITE_END()
