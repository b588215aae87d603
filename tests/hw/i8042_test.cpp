// SPDX-License-Identifier: GPL-2.0-or-later
// The 8042 driven through ports 0x60/0x64 with a real PS/2 keyboard
// behind it: controller commands, the command byte, translation, IRQ1 and
// IRQ12, the A20 and reset callbacks, and the empty aux port.
#include "hw/i8042.h"
#include "hw/ps2_keyboard.h"

#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <optional>
#include <random>
#include <vector>

using namespace vsa;
using vsa::test::FakeIrqLine;

namespace {

struct Rig {
    Clock clock{Clock::Mode::Manual}; // unused by the 8042; kept for symmetry with the other device tests
    FakeIrqLine irq1;
    FakeIrqLine irq12;
    Ps2Keyboard kbd;
    std::vector<bool> a20_calls;
    unsigned resets{0};
    I8042 kbc{irq1, irq12, kbd, [this](bool on) { a20_calls.push_back(on); }, [this] { ++resets; }};

    u8 status() { return static_cast<u8>(kbc.io_read(I8042::STATUS, Width::Byte)); }
    u8 data() { return static_cast<u8>(kbc.io_read(I8042::DATA, Width::Byte)); }
    void command(u8 c) { kbc.io_write(I8042::STATUS, Width::Byte, c); }
    void write_data(u8 d) { kbc.io_write(I8042::DATA, Width::Byte, d); }
    std::optional<u8> poll() {
        if (!(status() & I8042::STATUS_OBF)) return std::nullopt;
        return data();
    }
    std::vector<u8> drain() {
        std::vector<u8> out;
        while (auto b = poll())
            out.push_back(*b);
        return out;
    }
    void set_ctr(u8 value) {
        command(0x60);
        write_data(value);
    }
};

using Bytes = std::vector<u8>;

} // namespace

BOOST_AUTO_TEST_SUITE(i8042)

BOOST_AUTO_TEST_CASE(power_on_state) {
    Rig r;
    BOOST_TEST(r.status() == I8042::STATUS_UNLOCKED);
    BOOST_TEST(r.kbc.a20());
    BOOST_TEST(!r.irq1.level());
    BOOST_TEST(!r.irq12.level());
}

BOOST_AUTO_TEST_CASE(self_test_and_command_byte) {
    Rig r;
    r.command(0xAA);
    u8 st = r.status();
    BOOST_TEST((st & I8042::STATUS_OBF) != 0);
    BOOST_TEST((st & I8042::STATUS_A2) != 0); // last write was a command
    BOOST_TEST((st & I8042::STATUS_SYS) != 0);
    BOOST_TEST(r.data() == 0x55);
    BOOST_TEST((r.status() & I8042::STATUS_OBF) == 0);

    r.command(0x20);
    BOOST_TEST(r.data() == (I8042::CTR_KBD_INT | I8042::CTR_XLATE));
    r.set_ctr(0x65);
    BOOST_TEST((r.status() & I8042::STATUS_A2) == 0); // last write was data
    r.command(0x20);
    BOOST_TEST(r.data() == 0x65);
    BOOST_TEST(r.kbc.command_byte() == 0x65);
    r.set_ctr(0x00);
    BOOST_TEST((r.status() & I8042::STATUS_SYS) == 0); // status mirrors command byte bit 2

    // The rest of the controller RAM through 0x21-0x3F / 0x61-0x7F.
    r.command(0x65);
    r.write_data(0x99);
    r.command(0x25);
    BOOST_TEST(r.data() == 0x99);
}

BOOST_AUTO_TEST_CASE(interface_tests_and_misc_commands) {
    Rig r;
    r.command(0xAB);
    BOOST_TEST(r.data() == 0x00);
    r.command(0xA9);
    BOOST_TEST(r.data() == 0x00);
    r.command(0xA4);
    BOOST_TEST(r.data() == 0xF1);
    r.command(0xC0);
    BOOST_TEST((r.data() & 0x80) != 0);
    r.command(0xA7);
    BOOST_TEST((r.kbc.command_byte() & I8042::CTR_AUX_DISABLE) != 0);
    r.command(0xE0);
    BOOST_TEST(r.data() == 0x01); // keyboard clock high, aux clock held low
    r.command(0xA8);
    BOOST_TEST((r.kbc.command_byte() & I8042::CTR_AUX_DISABLE) == 0);
    r.command(0xAD);
    BOOST_TEST((r.kbc.command_byte() & I8042::CTR_KBD_DISABLE) != 0);
    r.command(0xAE);
    BOOST_TEST((r.kbc.command_byte() & I8042::CTR_KBD_DISABLE) == 0);
    // Several replies queue in order.
    r.command(0xAA);
    r.command(0xAB);
    r.command(0x20);
    BOOST_TEST(r.drain() == (Bytes{0x55, 0x00, 0x41}));
    auto before = r.kbc.ignored_accesses();
    r.command(0xC8); // unknown
    BOOST_TEST(r.kbc.ignored_accesses() == before + 1);
    BOOST_TEST(!r.poll());
}

BOOST_AUTO_TEST_CASE(keyboard_reset_and_identify_through_controller) {
    Rig r;
    r.write_data(0xFF);
    BOOST_TEST(r.drain() == (Bytes{0xFA, 0xAA}));
    // Translated, the identify bytes AB 83 read as AB 41 (8042 firmware).
    r.write_data(0xF2);
    BOOST_TEST(r.drain() == (Bytes{0xFA, 0xAB, 0x41}));
    r.set_ctr(I8042::CTR_KBD_INT);
    r.write_data(0xF2);
    BOOST_TEST(r.drain() == (Bytes{0xFA, 0xAB, 0x83}));
    r.write_data(0xEE);
    BOOST_TEST(r.drain() == (Bytes{0xEE}));
}

BOOST_AUTO_TEST_CASE(translation_set2_to_set1) {
    Rig r;
    BOOST_TEST(ps2_translate_set2_to_set1(0x1C) == 0x1E);
    BOOST_TEST(ps2_translate_set2_to_set1(0x76) == 0x01);
    BOOST_TEST(ps2_translate_set2_to_set1(0x83) == 0x41);
    BOOST_TEST(ps2_translate_set2_to_set1(0xFA) == 0xFA);

    BOOST_TEST(r.kbd.press(Ps2Keyboard::Key::A));
    BOOST_TEST(r.drain() == (Bytes{0x1E}));
    BOOST_TEST(r.kbd.release(Ps2Keyboard::Key::A));
    BOOST_TEST(r.drain() == (Bytes{0x9E})); // F0 1C -> 9E
    r.kbd.press(Ps2Keyboard::Key::Up);
    r.kbd.release(Ps2Keyboard::Key::Up);
    BOOST_TEST(r.drain() == (Bytes{0xE0, 0x48, 0xE0, 0xC8}));
    r.kbd.press(Ps2Keyboard::Key::Pause);
    BOOST_TEST(r.drain() == (Bytes{0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5}));

    // Every key's set 2 make code translates to its well-known set 1 code.
    struct Case {
        Ps2Keyboard::Key key;
        Bytes set1;
    };
    using K = Ps2Keyboard::Key;
    Case const cases[] = {
        {K::Escape, {0x01}},
        {K::Digit1, {0x02}},
        {K::Digit0, {0x0B}},
        {K::Backspace, {0x0E}},
        {K::Tab, {0x0F}},
        {K::Q, {0x10}},
        {K::Enter, {0x1C}},
        {K::LeftCtrl, {0x1D}},
        {K::Z, {0x2C}},
        {K::Slash, {0x35}},
        {K::Space, {0x39}},
        {K::CapsLock, {0x3A}},
        {K::F1, {0x3B}},
        {K::F7, {0x41}},
        {K::F10, {0x44}},
        {K::F11, {0x57}},
        {K::F12, {0x58}},
        {K::NumLock, {0x45}},
        {K::Delete, {0xE0, 0x53}},
        {K::RightAlt, {0xE0, 0x38}},
        {K::Left, {0xE0, 0x4B}},
        {K::KeypadEnter, {0xE0, 0x1C}},
        {K::LeftMeta, {0xE0, 0x5B}},
    };
    for (auto const& c : cases) {
        r.kbd.press(c.key);
        BOOST_TEST(r.drain() == c.set1);
    }

    // Translation off: the raw set 2 stream.
    r.set_ctr(I8042::CTR_KBD_INT);
    r.kbd.press(Ps2Keyboard::Key::A);
    r.kbd.release(Ps2Keyboard::Key::A);
    BOOST_TEST(r.drain() == (Bytes{0x1C, 0xF0, 0x1C}));
}

BOOST_AUTO_TEST_CASE(irq1_follows_obf) {
    Rig r;
    BOOST_TEST(!r.irq1.level());
    r.kbd.press(Ps2Keyboard::Key::A);
    r.kbd.press(Ps2Keyboard::Key::B);
    BOOST_TEST(r.irq1.level());
    BOOST_TEST(r.irq1.rising_edges() == 1u);
    BOOST_TEST(!r.irq12.level());
    (void)r.data();
    // The second byte follows at once: the line dropped and rose again.
    BOOST_TEST(r.irq1.level());
    BOOST_TEST(r.irq1.rising_edges() == 2u);
    (void)r.data();
    BOOST_TEST(!r.irq1.level());

    // Interrupt disabled in the command byte: OBF without IRQ1.
    r.set_ctr(I8042::CTR_XLATE);
    r.kbd.press(Ps2Keyboard::Key::C);
    BOOST_TEST((r.status() & I8042::STATUS_OBF) != 0);
    BOOST_TEST(!r.irq1.level());
    r.set_ctr(I8042::CTR_XLATE | I8042::CTR_KBD_INT);
    BOOST_TEST(r.irq1.level());
}

BOOST_AUTO_TEST_CASE(disabled_keyboard_holds_its_data) {
    Rig r;
    r.command(0xAD);
    r.kbd.press(Ps2Keyboard::Key::A);
    BOOST_TEST(!r.poll());
    r.command(0xAE);
    BOOST_TEST(r.drain() == (Bytes{0x1E}));
    // Writing to the keyboard re-enables its interface.
    r.command(0xAD);
    r.write_data(0xEE);
    BOOST_TEST((r.kbc.command_byte() & I8042::CTR_KBD_DISABLE) == 0);
    BOOST_TEST(r.drain() == (Bytes{0xEE}));
}

BOOST_AUTO_TEST_CASE(a20_and_reset_via_output_port) {
    Rig r;
    r.command(0xD0);
    u8 out = r.data();
    BOOST_TEST((out & (I8042::OUT_RESET | I8042::OUT_A20)) == (I8042::OUT_RESET | I8042::OUT_A20));

    r.command(0xD1);
    r.write_data(0xDD); // A20 off, CPU running
    BOOST_TEST(r.a20_calls == std::vector<bool>{false});
    BOOST_TEST(!r.kbc.a20());
    BOOST_TEST(r.resets == 0u);
    r.command(0xD0);
    BOOST_TEST((r.data() & I8042::OUT_A20) == 0);
    r.command(0xD1);
    r.write_data(0xDF); // A20 on
    BOOST_TEST(r.a20_calls == (std::vector<bool>{false, true}));
    r.command(0xD1);
    r.write_data(0xDF); // unchanged: no call
    BOOST_TEST(r.a20_calls.size() == 2u);
    r.command(0xDD);
    r.command(0xDF);
    BOOST_TEST(r.a20_calls == (std::vector<bool>{false, true, false, true}));

    r.command(0xD1);
    r.write_data(0xDE); // bit 0 low: CPU reset
    BOOST_TEST(r.resets == 1u);
    r.command(0xFE);
    BOOST_TEST(r.resets == 2u);
    r.command(0xFF); // pulses nothing
    r.command(0xFD); // pulses bit 1 only
    BOOST_TEST(r.resets == 2u);
    r.command(0xF0);
    BOOST_TEST(r.resets == 3u);
    // The D0 reply reports the output buffer bits.
    r.kbd.press(Ps2Keyboard::Key::A); // occupies the output buffer
    r.command(0xD0);                  // reply waits behind it
    BOOST_TEST(r.data() == 0x1E);
    BOOST_TEST((r.data() & I8042::OUT_KBD_OBF) != 0);
}

BOOST_AUTO_TEST_CASE(write_output_buffers) {
    Rig r;
    r.set_ctr(I8042::CTR_KBD_INT | I8042::CTR_AUX_INT | I8042::CTR_XLATE);
    r.command(0xD2);
    r.write_data(0x1C); // not translated: comes from the controller
    BOOST_TEST(r.irq1.level());
    BOOST_TEST((r.status() & I8042::STATUS_AUX_OBF) == 0);
    BOOST_TEST(r.data() == 0x1C);
    r.command(0xD3);
    r.write_data(0xA5);
    BOOST_TEST(r.irq12.level());
    BOOST_TEST(!r.irq1.level());
    BOOST_TEST((r.status() & I8042::STATUS_AUX_OBF) != 0);
    BOOST_TEST(r.data() == 0xA5);
    BOOST_TEST(!r.irq12.level());
}

BOOST_AUTO_TEST_CASE(empty_aux_port_times_out) {
    Rig r;
    r.set_ctr(I8042::CTR_KBD_INT | I8042::CTR_AUX_INT | I8042::CTR_AUX_DISABLE);
    r.command(0xD4);
    r.write_data(0xF2); // identify the mouse: nobody is there
    BOOST_TEST((r.kbc.command_byte() & I8042::CTR_AUX_DISABLE) == 0);
    u8 st = r.status();
    BOOST_TEST((st & (I8042::STATUS_OBF | I8042::STATUS_AUX_OBF | I8042::STATUS_TIMEOUT)) ==
               (I8042::STATUS_OBF | I8042::STATUS_AUX_OBF | I8042::STATUS_TIMEOUT));
    BOOST_TEST(r.irq12.level());
    BOOST_TEST(r.data() == 0xFE);
    BOOST_TEST((r.status() & I8042::STATUS_TIMEOUT) == 0);
}

namespace {
// A stand-in aux device that answers every byte with ACK: shows the aux
// path works once issue 9 plugs a mouse in.
struct EchoAux final : Ps2Device {
    std::vector<u8> out;
    std::string_view name() const override { return "echo_aux"; }
    void reset() override { out.clear(); }
    void visit_state(StateVisitor&) override {}
    void write(u8 byte) override {
        out.push_back(0xFA);
        out.push_back(byte);
        notify_output();
    }
    bool output_pending() const override { return !out.empty(); }
    u8 read_output() override {
        u8 b = out.front();
        out.erase(out.begin());
        return b;
    }
};
} // namespace

BOOST_AUTO_TEST_CASE(attached_aux_device) {
    Rig r;
    EchoAux mouse;
    r.kbc.attach_aux(mouse);
    r.set_ctr(I8042::CTR_KBD_INT | I8042::CTR_AUX_INT);
    r.command(0xD4);
    r.write_data(0xF4);
    BOOST_TEST(r.irq12.level());
    BOOST_TEST((r.status() & I8042::STATUS_AUX_OBF) != 0);
    BOOST_TEST(r.drain() == (Bytes{0xFA, 0xF4}));
    BOOST_TEST(!r.irq12.level());
}

BOOST_AUTO_TEST_CASE(pending_command_abandoned_by_new_command) {
    Rig r;
    r.command(0x60);
    r.command(0x20); // the 0x60 waiting for data is dropped
    BOOST_TEST(r.data() == 0x41);
    r.write_data(0xF2); // goes to the keyboard, not the command byte
    BOOST_TEST(r.kbc.command_byte() == 0x41);
    BOOST_TEST(r.drain() == (Bytes{0xFA, 0xAB, 0x41}));
}

BOOST_AUTO_TEST_CASE(random_registers) {
    Rig r;
    for (u32 seed = 1; seed <= 4; ++seed) {
        // Span 5 covers DATA and STATUS (and unmapped offsets in between).
        test::random_register_loop(r.kbc, I8042::PORT_SPAN, 5000, seed);
        r.kbd.press(Ps2Keyboard::Key::Enter);
    }
    BOOST_TEST(r.resets > 0u); // random commands hit the 0xF0-0xFE pulses
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    Rig a;
    a.set_ctr(0x47);
    a.command(0xAB);
    a.command(0xAA);
    a.command(0xD1); // pending, waiting for data
    a.kbd.press(Ps2Keyboard::Key::E);
    BOOST_TEST(a.irq1.level());

    Rig b;
    test::check_save_load_save(a.kbc, b.kbc);
    test::check_save_load_save(a.kbd, b.kbd);
    BOOST_TEST(b.irq1.level());
    BOOST_TEST(b.a20_calls == std::vector<bool>{true}); // post_load re-drives A20
    BOOST_TEST(b.drain() == (Bytes{0x00, 0x55, 0x12}));
    b.write_data(0xDD); // completes the pending D1
    BOOST_TEST(!b.kbc.a20());

    Rig c;
    test::check_bad_streams_fail(a.kbc, c.kbc);
    test::random_register_loop(c.kbc, I8042::PORT_SPAN, 2000);
}

BOOST_AUTO_TEST_SUITE_END()
