// SPDX-License-Identifier: GPL-2.0-or-later
// Debug console: the 0xE9 presence read SeaBIOS checks, bytes to the host.
#include "hw/debug_console.h"

#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace vsa;

BOOST_AUTO_TEST_SUITE(debug_console)

BOOST_AUTO_TEST_CASE(presence_and_output) {
    Clock clock{Clock::Mode::Manual}; // bytes go out at once, whatever the time
    BufferCharBackend host;
    DebugConsole con(host);
    BOOST_TEST(con.io_read(0, Width::Byte) == 0xE9u);
    for (char c : std::string("SeaBIOS (version 1.16.2)\n"))
        con.io_write(0, Width::Byte, static_cast<u8>(c));
    BOOST_TEST(host.output() == "SeaBIOS (version 1.16.2)\n");
    BOOST_TEST(con.bytes_written() == 25u);
    clock.advance(1'000'000);
    BOOST_TEST(host.output().size() == 25u);
}

BOOST_AUTO_TEST_CASE(wide_accesses_ignored) {
    BufferCharBackend host;
    DebugConsole con(host);
    con.io_write(0, Width::Word, 0x4141);
    BOOST_TEST(host.output().empty());
    BOOST_TEST(con.io_read(0, Width::Word) == 0xFFFFu);
    BOOST_TEST(con.ignored_accesses() == 2u);
}

BOOST_AUTO_TEST_CASE(null_backend_swallows) {
    NullCharBackend host;
    DebugConsole con(host);
    con.io_write(0, Width::Byte, 'x');
    BOOST_TEST(con.bytes_written() == 1u);
}

BOOST_AUTO_TEST_CASE(random_registers) {
    BufferCharBackend host;
    DebugConsole con(host);
    test::random_register_loop(con, 1, 5000);
    BOOST_TEST(!host.output().empty());
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    BufferCharBackend host;
    DebugConsole a(host), b(host), c(host);
    a.io_write(0, Width::Byte, 'a');
    test::check_save_load_save(a, b);
    test::check_bad_streams_fail(a, c);
}

BOOST_AUTO_TEST_SUITE_END()
