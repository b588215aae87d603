// SPDX-License-Identifier: GPL-2.0-or-later
// System Control Port A: fast A20 and the fast-reset rising edge.
#include "hw/port92.h"

#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace vsa;

namespace {
struct Rig {
    Clock clock{Clock::Mode::Manual}; // no timing in this port; kept for the common test shape
    std::vector<bool> a20;
    unsigned resets{0};
    Port92 port{[this](bool on) { a20.push_back(on); }, [this] { ++resets; }};
    u8 in() { return static_cast<u8>(port.io_read(0, Width::Byte)); }
    void out(u8 v) { port.io_write(0, Width::Byte, v); }
};
} // namespace

BOOST_AUTO_TEST_SUITE(port92)

BOOST_AUTO_TEST_CASE(fast_a20) {
    Rig r;
    BOOST_TEST(r.in() == 0);
    BOOST_TEST(!r.port.a20());
    r.out(Port92::A20);
    BOOST_TEST(r.a20 == std::vector<bool>{true});
    BOOST_TEST(r.in() == Port92::A20);
    r.out(Port92::A20 | 0x80); // other bits read back, A20 unchanged: no call
    BOOST_TEST(r.a20.size() == 1u);
    BOOST_TEST(r.in() == (Port92::A20 | 0x80));
    r.out(0);
    BOOST_TEST(r.a20 == (std::vector<bool>{true, false}));
    BOOST_TEST(r.resets == 0u);
}

BOOST_AUTO_TEST_CASE(fast_reset_on_rising_edge) {
    Rig r;
    // SeaBIOS/Linux style: read, OR in bit 0, write.
    r.out(static_cast<u8>(r.in() | Port92::A20));
    r.out(static_cast<u8>(r.in() | Port92::FAST_RESET));
    BOOST_TEST(r.resets == 1u);
    BOOST_TEST((r.in() & Port92::FAST_RESET) != 0); // reads back
    // Writing it again with bit 0 still set is not an edge.
    r.out(static_cast<u8>(r.in()));
    BOOST_TEST(r.resets == 1u);
    r.out(Port92::A20);
    r.out(Port92::A20 | Port92::FAST_RESET);
    BOOST_TEST(r.resets == 2u);
    r.port.reset();
    BOOST_TEST(r.in() == 0);
}

BOOST_AUTO_TEST_CASE(wide_and_stray_accesses) {
    Rig r;
    r.port.io_write(0, Width::Word, 0x0303);
    BOOST_TEST(r.resets == 0u);
    BOOST_TEST(r.port.io_read(0, Width::Word) == 0xFFFFu);
    BOOST_TEST(r.port.io_read(1, Width::Byte) == 0xFFu);
    BOOST_TEST(r.port.ignored_accesses() == 3u);
}

BOOST_AUTO_TEST_CASE(random_registers) {
    Rig r;
    test::random_register_loop(r.port, 2, 5000);
    BOOST_TEST(r.resets > 0u);
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    Rig a;
    a.out(Port92::A20 | 0x40);
    Rig b;
    test::check_save_load_save(a.port, b.port);
    BOOST_TEST(b.in() == (Port92::A20 | 0x40));
    BOOST_TEST(b.a20 == std::vector<bool>{true}); // post_load re-drives A20
    BOOST_TEST(b.resets == 0u);                   // but never replays a reset
    Rig c;
    test::check_bad_streams_fail(a.port, c.port);
}

BOOST_AUTO_TEST_SUITE_END()
