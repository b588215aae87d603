// SPDX-License-Identifier: GPL-2.0-or-later
// POST code port: last value, history, listener.
#include "hw/post_port.h"

#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace vsa;

BOOST_AUTO_TEST_SUITE(post_port)

BOOST_AUTO_TEST_CASE(last_code_reads_back) {
    Clock clock{Clock::Mode::Manual}; // no timing in this port; kept for the common test shape
    PostPort port;
    BOOST_TEST(port.io_read(0, Width::Byte) == 0u);
    port.io_write(0, Width::Byte, 0x12);
    port.io_write(0, Width::Byte, 0x34);
    clock.advance(1000);
    BOOST_TEST(port.io_read(0, Width::Byte) == 0x34u);
    BOOST_TEST(port.last() == 0x34);
    BOOST_TEST(port.history() == (std::vector<u8>{0x12, 0x34}));
}

BOOST_AUTO_TEST_CASE(history_keeps_the_newest) {
    PostPort port;
    std::vector<u8> heard;
    port.set_listener([&](u8 code) { heard.push_back(code); });
    for (unsigned i = 0; i < 40; ++i)
        port.io_write(0, Width::Byte, i);
    auto h = port.history();
    BOOST_TEST(h.size() == PostPort::HISTORY);
    BOOST_TEST(h.front() == 40 - PostPort::HISTORY);
    BOOST_TEST(h.back() == 39);
    BOOST_TEST(heard.size() == 40u);
    port.reset();
    BOOST_TEST(port.history().empty());
    BOOST_TEST(port.last() == 0);
}

BOOST_AUTO_TEST_CASE(wide_accesses_ignored) {
    PostPort port;
    port.io_write(0, Width::Word, 0x1234);
    BOOST_TEST(port.history().empty());
    BOOST_TEST(port.io_read(0, Width::Dword) == 0xFFFF'FFFFu);
    BOOST_TEST(port.ignored_accesses() == 2u);
}

BOOST_AUTO_TEST_CASE(random_registers) {
    PostPort port;
    test::random_register_loop(port, 2, 5000);
    BOOST_TEST(port.history().size() == PostPort::HISTORY);
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    PostPort a, b, c, empty_a, empty_b;
    for (u8 code : {0x01, 0x02, 0xAA})
        a.io_write(0, Width::Byte, code);
    test::check_save_load_save(a, b);
    BOOST_TEST(b.last() == 0xAA);
    BOOST_TEST(b.history() == (std::vector<u8>{0x01, 0x02, 0xAA}));
    test::check_save_load_save(empty_a, empty_b);
    test::check_bad_streams_fail(a, c);
}

BOOST_AUTO_TEST_SUITE_END()
