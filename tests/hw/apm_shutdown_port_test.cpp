// SPDX-License-Identifier: GPL-2.0-or-later
// APM power-off port: the "Shutdown" string SeaBIOS writes to 0x8900.
#include "hw/apm_shutdown_port.h"

#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace vsa;

namespace {
struct Rig {
    Clock clock{Clock::Mode::Manual}; // no timing in this port; kept for the common test shape
    unsigned power_offs{0};
    ApmShutdownPort port{[this] { ++power_offs; }};
    void say(std::string const& s) {
        for (char c : s)
            port.io_write(0, Width::Byte, static_cast<u8>(c));
    }
};
} // namespace

BOOST_AUTO_TEST_SUITE(apm_shutdown_port)

BOOST_AUTO_TEST_CASE(shutdown_string_powers_off) {
    Rig r;
    r.say("Shutdow");
    BOOST_TEST(r.power_offs == 0u);
    BOOST_TEST(r.port.matched() == 7u);
    r.say("n");
    BOOST_TEST(r.power_offs == 1u);
    BOOST_TEST(r.port.matched() == 0u);
}

BOOST_AUTO_TEST_CASE(other_strings_do_not) {
    Rig r;
    r.say("Standby");
    r.say("Suspend");
    r.say("shutdown");
    r.say("ShutdownX"); // powers off on the 'n', the X is a fresh mismatch
    BOOST_TEST(r.power_offs == 1u);
}

BOOST_AUTO_TEST_CASE(mismatch_restarts_the_match) {
    Rig r;
    r.say("ShutSShutdown");
    BOOST_TEST(r.power_offs == 1u);
    r.say("SShutdown");
    BOOST_TEST(r.power_offs == 2u);
    r.say("Shut");
    r.port.io_write(0, Width::Word, 'd'); // a wide cycle is ignored, not a mismatch
    r.say("down");
    BOOST_TEST(r.power_offs == 3u);
    BOOST_TEST(r.port.ignored_accesses() == 1u);
    r.say("Shut");
    r.port.reset();
    r.say("down");
    BOOST_TEST(r.power_offs == 3u);
}

BOOST_AUTO_TEST_CASE(random_registers) {
    Rig r;
    test::random_register_loop(r.port, 1, 5000);
    BOOST_TEST(r.power_offs == 0u);
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    Rig a, b, c;
    a.say("Shutd");
    test::check_save_load_save(a.port, b.port);
    BOOST_TEST(b.port.matched() == 5u);
    b.say("own");
    BOOST_TEST(b.power_offs == 1u);
    test::check_bad_streams_fail(a.port, c.port);
    BOOST_TEST(c.power_offs == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
