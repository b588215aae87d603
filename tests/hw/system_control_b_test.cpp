// SPDX-License-Identifier: GPL-2.0-or-later
// Port 0x61 on a manual clock: PIT counter 2 gate and OUT, the refresh
// toggle, and saved state.
#include "hw/system_control_b.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

using namespace vsa;
using vsa::test::FakeIrqLine;

namespace {

struct PortBFixture {
    Clock clock{Clock::Mode::Manual};
    FakeIrqLine irq0;
    Pit8254 pit{irq0, clock};
    SystemControlB port_b{pit, clock};

    u8 read() { return static_cast<u8>(port_b.io_read(0, Width::Byte)); }
    void write(u8 value) { port_b.io_write(0, Width::Byte, value); }
    void pit_write(u16 port, u8 value) { pit.io_write(port, Width::Byte, value); }
    void goto_tick(u64 t) { clock.advance(Pit8254::ns_of_tick(t) - clock.now()); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(system_control_b)

BOOST_FIXTURE_TEST_CASE(bit5_follows_counter2_mode0_with_gate, PortBFixture) {
    // What SeaBIOS does to calibrate the TSC: gate on, speaker off, counter
    // 2 in mode 0, then spin until bit 5 rises.
    write(0x01);
    BOOST_TEST(pit.gate(2));
    pit_write(3, 0xB0);
    pit_write(2, 100);
    pit_write(2, 0);
    BOOST_TEST((read() & SystemControlB::OUT2) == 0);
    goto_tick(100);
    BOOST_TEST((read() & SystemControlB::OUT2) == 0);
    goto_tick(101);
    BOOST_TEST((read() & SystemControlB::OUT2) != 0);

    // Gate off: the counter holds and OUT stays low.
    write(0x00);
    pit_write(3, 0xB0);
    pit_write(2, 50);
    pit_write(2, 0);
    goto_tick(1000);
    BOOST_TEST((read() & SystemControlB::OUT2) == 0);
    write(0x01);
    goto_tick(1049);
    BOOST_TEST((read() & SystemControlB::OUT2) == 0);
    goto_tick(1050);
    BOOST_TEST((read() & SystemControlB::OUT2) != 0);
}

BOOST_FIXTURE_TEST_CASE(bit4_toggles_every_15us, PortBFixture) {
    BOOST_TEST((read() & SystemControlB::REFRESH_TOGGLE) == 0);
    clock.advance(15'084);
    BOOST_TEST((read() & SystemControlB::REFRESH_TOGGLE) == 0);
    clock.advance(1);
    BOOST_TEST((read() & SystemControlB::REFRESH_TOGGLE) != 0);
    clock.advance(15'085);
    BOOST_TEST((read() & SystemControlB::REFRESH_TOGGLE) == 0);
    // Over 1 ms of polling every microsecond: 66 flips.
    unsigned flips = 0;
    u8 last = read() & SystemControlB::REFRESH_TOGGLE;
    for (int i = 0; i < 1000; ++i) {
        clock.advance(1000);
        u8 now = read() & SystemControlB::REFRESH_TOGGLE;
        if (now != last) ++flips;
        last = now;
    }
    BOOST_TEST(flips >= 66u);
    BOOST_TEST(flips <= 67u);
}

BOOST_FIXTURE_TEST_CASE(writable_bits_and_status_bits, PortBFixture) {
    write(0xFF);
    BOOST_TEST((read() & 0xCF) == 0x0F); // bits 6/7 NMI status read 0
    BOOST_TEST(port_b.speaker_enabled());
    BOOST_TEST(pit.gate(2));
    write(0x02);
    BOOST_TEST(!pit.gate(2));
    BOOST_TEST((read() & 0x0F) == 0x02);
    port_b.reset();
    BOOST_TEST((read() & 0x0F) == 0);
    BOOST_TEST(port_b.ignored_accesses() == 0u);
    (void)port_b.io_read(1, Width::Byte);
    BOOST_TEST(port_b.ignored_accesses() == 1u);
}

BOOST_FIXTURE_TEST_CASE(random_registers_do_not_crash, PortBFixture) {
    vsa::test::random_register_loop(port_b, 2, 2000);
    clock.advance(12345);
    vsa::test::random_register_loop(port_b, 1, 2000, 9);
}

BOOST_FIXTURE_TEST_CASE(save_load_save_is_identical, PortBFixture) {
    write(0x0B);
    SystemControlB fresh(pit, clock);
    vsa::test::check_save_load_save(port_b, fresh);
    BOOST_TEST(fresh.io_read(0, Width::Byte) == port_b.io_read(0, Width::Byte));
}

BOOST_FIXTURE_TEST_CASE(bad_streams_fail_cleanly, PortBFixture) {
    write(0x03);
    SystemControlB fresh(pit, clock);
    vsa::test::check_bad_streams_fail(port_b, fresh);
}

BOOST_AUTO_TEST_SUITE_END()
