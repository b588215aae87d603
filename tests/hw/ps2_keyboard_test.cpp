// SPDX-License-Identifier: GPL-2.0-or-later
// The PS/2 keyboard on its own, driven byte by byte as the controller
// would: commands and their parameters, scan code sets, the key buffer
// and its overrun code.
#include "hw/ps2_keyboard.h"

#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <random>
#include <vector>

using namespace vsa;
using K = Ps2Keyboard::Key;
using Bytes = std::vector<u8>;

namespace {

struct Rig {
    Clock clock{Clock::Mode::Manual}; // the keyboard needs no time; kept for the common test shape
    Ps2Keyboard kbd;
    unsigned notifications{0};
    Rig() {
        kbd.set_output_listener([this] { ++notifications; });
    }
    Bytes send(std::initializer_list<u8> bytes) {
        for (u8 b : bytes)
            kbd.write(b);
        return drain();
    }
    Bytes drain() {
        Bytes out;
        while (kbd.output_pending())
            out.push_back(kbd.read_output());
        return out;
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(ps2_keyboard)

BOOST_AUTO_TEST_CASE(reset_and_identify) {
    Rig r;
    BOOST_TEST(!r.kbd.output_pending()); // no BAT without a reset command
    BOOST_TEST(r.send({0xFF}) == (Bytes{0xFA, 0xAA}));
    BOOST_TEST(r.notifications == 1u);
    BOOST_TEST(r.send({0xF2}) == (Bytes{0xFA, 0xAB, 0x83}));
    BOOST_TEST(r.send({0xEE}) == (Bytes{0xEE}));
}

BOOST_AUTO_TEST_CASE(leds_and_typematic) {
    Rig r;
    BOOST_TEST(r.send({0xED, 0x07}) == (Bytes{0xFA, 0xFA}));
    BOOST_TEST(r.kbd.leds() == 0x07);
    BOOST_TEST(r.send({0xF3, 0x20}) == (Bytes{0xFA, 0xFA}));
    BOOST_TEST(r.kbd.typematic() == 0x20);
    BOOST_TEST(r.send({0xF6}) == (Bytes{0xFA}));
    BOOST_TEST(r.kbd.typematic() == 0x2B);
    BOOST_TEST(r.kbd.leds() == 0x07); // defaults leave the LEDs alone
    BOOST_TEST(r.send({0xFF}) == (Bytes{0xFA, 0xAA}));
    BOOST_TEST(r.kbd.leds() == 0);
}

BOOST_AUTO_TEST_CASE(command_where_parameter_expected) {
    Rig r;
    // ED waits for its LED byte, but F2 is a command: it runs instead.
    BOOST_TEST(r.send({0xED, 0xF2}) == (Bytes{0xFA, 0xFA, 0xAB, 0x83}));
    BOOST_TEST(r.send({0x05}) == (Bytes{0xFE})); // no longer a parameter: unknown command
    BOOST_TEST(r.kbd.leds() == 0);
}

BOOST_AUTO_TEST_CASE(scancode_sets) {
    Rig r;
    BOOST_TEST(r.send({0xF0, 0x00}) == (Bytes{0xFA, 0xFA, 0x02}));
    BOOST_TEST(r.send({0xF0, 0x03}) == (Bytes{0xFA, 0xFE})); // set 3 refused
    BOOST_TEST(r.kbd.scancode_set() == 2);
    BOOST_TEST(r.send({0xF0, 0x01}) == (Bytes{0xFA, 0xFA}));
    BOOST_TEST(r.kbd.scancode_set() == 1);
    BOOST_TEST(r.send({0xF0, 0x00}) == (Bytes{0xFA, 0xFA, 0x01}));
    // In set 1 the keyboard converts its own codes.
    r.kbd.press(K::A);
    r.kbd.release(K::A);
    r.kbd.press(K::Home);
    r.kbd.release(K::Home);
    BOOST_TEST(r.drain() == (Bytes{0x1E, 0x9E, 0xE0, 0x47, 0xE0, 0xC7}));
    BOOST_TEST(r.send({0xF0, 0x02}) == (Bytes{0xFA, 0xFA}));
    r.kbd.press(K::Home);
    r.kbd.release(K::Home);
    BOOST_TEST(r.drain() == (Bytes{0xE0, 0x6C, 0xE0, 0xF0, 0x6C}));
    r.kbd.press(K::PrintScreen);
    r.kbd.release(K::PrintScreen);
    BOOST_TEST(r.drain() == (Bytes{0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12}));
}

BOOST_AUTO_TEST_CASE(enable_disable_and_resend) {
    Rig r;
    BOOST_TEST(r.send({0xF5}) == (Bytes{0xFA}));
    BOOST_TEST(!r.kbd.scanning());
    BOOST_TEST(!r.kbd.press(K::A)); // dropped while disabled
    BOOST_TEST(!r.kbd.output_pending());
    BOOST_TEST(r.send({0xF4}) == (Bytes{0xFA}));
    BOOST_TEST(r.kbd.press(K::A));
    BOOST_TEST(r.drain() == (Bytes{0x1C}));
    BOOST_TEST(r.send({0xFE}) == (Bytes{0x1C})); // resend the last byte
    auto before = r.kbd.ignored_accesses();
    BOOST_TEST(r.send({0xEC}) == (Bytes{0xFE}));
    BOOST_TEST(r.kbd.ignored_accesses() == before + 1);
    BOOST_TEST(r.send({0xF7, 0xFA}) == (Bytes{0xFA, 0xFA}));
    // FB takes a list of keys, each acknowledged, until the next command.
    BOOST_TEST(r.send({0xFB, 0x1C, 0x32, 0x0C}) == (Bytes{0xFA, 0xFA, 0xFA, 0xFA}));
    BOOST_TEST(r.send({0xEE}) == (Bytes{0xEE}));
    // F4 clears keys still waiting.
    r.kbd.press(K::B);
    BOOST_TEST(r.send({0xF4}) == (Bytes{0xFA}));
}

BOOST_AUTO_TEST_CASE(buffer_overrun) {
    Rig r;
    for (int i = 0; i < 16; ++i)
        BOOST_TEST(r.kbd.press(K::A));
    // 16 bytes queued: the 17th key is dropped; the overrun code could not
    // fit either (the buffer is full), so nothing else changes.
    BOOST_TEST(!r.kbd.press(K::B));
    BOOST_TEST(r.drain().size() == 16u);

    // One byte plus seven two-byte keys fill 15 places; the next key does
    // not fit whole, so it is dropped and the overrun code takes the last
    // place, once.
    BOOST_TEST(r.kbd.press(K::A));
    for (int i = 0; i < 7; ++i)
        BOOST_TEST(r.kbd.press(K::Up));
    BOOST_TEST(!r.kbd.press(K::Up));
    BOOST_TEST(!r.kbd.press(K::Down));
    auto got = r.drain();
    BOOST_TEST(got.size() == 16u);
    BOOST_TEST(got.back() == 0x00);
    // Caught up: keys flow again.
    BOOST_TEST(r.kbd.press(K::A));
    BOOST_TEST(r.drain() == (Bytes{0x1C}));
}

BOOST_AUTO_TEST_CASE(random_bytes) {
    Rig r;
    std::mt19937 rng(3);
    for (int i = 0; i < 20000; ++i) {
        switch (rng() % 4) {
        case 0:
            r.kbd.write(static_cast<u8>(rng()));
            break;
        case 1:
            (void)r.kbd.press(static_cast<K>(rng() % static_cast<unsigned>(K::Count)));
            break;
        case 2:
            if (r.kbd.output_pending()) (void)r.kbd.read_output();
            break;
        default:
            (void)r.kbd.release(static_cast<K>(rng() % (static_cast<unsigned>(K::Count) + 2)));
            break;
        }
    }
    test::random_register_loop(r.kbd, 8, 1000); // no ports: all ignored
    BOOST_TEST(r.kbd.ignored_accesses() > 0u);
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    Rig a;
    a.send({0xED, 0x03, 0xF3, 0x10, 0xF0, 0x01});
    a.kbd.write(0xED); // waiting for the LED byte
    a.kbd.press(K::Z);
    Rig b;
    test::check_save_load_save(a.kbd, b.kbd);
    BOOST_TEST(b.kbd.leds() == 0x03);
    BOOST_TEST(b.kbd.scancode_set() == 1);
    BOOST_TEST(b.drain() == (Bytes{0xFA, 0x2C}));
    BOOST_TEST(b.send({0x04}) == (Bytes{0xFA}));
    BOOST_TEST(b.kbd.leds() == 0x04);

    Rig c;
    test::check_bad_streams_fail(a.kbd, c.kbd);
    c.send({0xFF});
}

BOOST_AUTO_TEST_SUITE_END()
