// SPDX-License-Identifier: GPL-2.0-or-later
// The PS/2 mouse alone (commands, packets from host input, the
// IntelliMouse wheel, remote and wrap mode, the bounded queue) and behind
// an 8042 on its aux port, as a guest driver talks to it: D4-prefixed
// commands, replies with AUX OBF and IRQ12, packets after input().
#include "hw/ps2_mouse.h"

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

using Bytes = std::vector<u8>;

// The device alone: bytes in with write(), out with read_output().
struct Mouse {
    Clock clock{Clock::Mode::Manual}; // the mouse has no timers; kept for symmetry
    Ps2Mouse mouse;
    unsigned notifications{0};
    Mouse() {
        mouse.set_output_listener([this] { ++notifications; });
    }
    // Each byte's reply is read before the next byte goes out, as a
    // driver does (F4/F5/F6/FF discard output not read yet).
    Bytes send(std::initializer_list<u8> bytes) {
        Bytes out;
        for (u8 b : bytes) {
            mouse.write(b);
            for (u8 reply : drain())
                out.push_back(reply);
        }
        return out;
    }
    Bytes drain() {
        Bytes out;
        while (mouse.output_pending())
            out.push_back(mouse.read_output());
        return out;
    }
    // Reset, IntelliMouse knock if asked, enable reporting.
    void enable(bool wheel = false) {
        BOOST_TEST((send({0xFF}) == Bytes{0xFA, 0xAA, 0x00}));
        if (wheel) send({0xF3, 200, 0xF3, 100, 0xF3, 80});
        BOOST_TEST((send({0xF4}) == Bytes{0xFA}));
    }
};

// A mouse behind the 8042, driven through ports 0x60/0x64.
struct Rig {
    Clock clock{Clock::Mode::Manual};
    FakeIrqLine irq1;
    FakeIrqLine irq12;
    Ps2Keyboard kbd;
    Ps2Mouse mouse;
    I8042 kbc{irq1, irq12, kbd, [](bool) {}, [] {}};
    Rig() { kbc.attach_aux(mouse); }

    u8 status() { return static_cast<u8>(kbc.io_read(I8042::STATUS, Width::Byte)); }
    u8 data() { return static_cast<u8>(kbc.io_read(I8042::DATA, Width::Byte)); }
    void command(u8 c) { kbc.io_write(I8042::STATUS, Width::Byte, c); }
    void write_data(u8 d) { kbc.io_write(I8042::DATA, Width::Byte, d); }
    void to_mouse(u8 byte) {
        command(0xD4);
        write_data(byte);
    }
    // Every byte waiting, each checked to come from the aux port.
    Bytes drain_aux() {
        Bytes out;
        while (status() & I8042::STATUS_OBF) {
            BOOST_TEST((status() & I8042::STATUS_AUX_OBF) != 0);
            out.push_back(data());
        }
        return out;
    }
    void set_ctr(u8 value) {
        command(0x60);
        write_data(value);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(ps2_mouse)

BOOST_AUTO_TEST_CASE(reset_id_and_defaults) {
    Mouse m;
    BOOST_TEST(!m.mouse.output_pending());
    BOOST_TEST((m.send({0xFF}) == Bytes{0xFA, 0xAA, 0x00}));
    BOOST_TEST(m.notifications > 0u);
    BOOST_TEST((m.send({0xF2}) == Bytes{0xFA, 0x00}));
    // Status: stream mode, disabled, 1:1, no buttons; 4 counts/mm; 100/s.
    BOOST_TEST((m.send({0xE9}) == Bytes{0xFA, 0x00, 0x02, 100}));
    BOOST_TEST(!m.mouse.reporting());
    BOOST_TEST((m.send({0xF4}) == Bytes{0xFA}));
    BOOST_TEST(
        (m.send({0xE7, 0xE8, 3, 0xF3, 40, 0xE9}) == Bytes{0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x30, 3, 40}));
    BOOST_TEST(m.mouse.scaling_2to1());
    BOOST_TEST(m.mouse.resolution() == 3);
    BOOST_TEST(m.mouse.sample_rate() == 40);
    BOOST_TEST((m.send({0xE6, 0xF0, 0xE9}) == Bytes{0xFA, 0xFA, 0xFA, 0x60, 3, 40}));
    BOOST_TEST(m.mouse.remote_mode());
    BOOST_TEST((m.send({0xEA, 0xF5, 0xE9}) == Bytes{0xFA, 0xFA, 0xFA, 0x00, 3, 40}));
    // F6: the defaults again, still disabled. Output not read yet is gone.
    m.mouse.write(0xF2);
    BOOST_TEST((m.send({0xF5}) == Bytes{0xFA}));
    BOOST_TEST((m.send({0xF4, 0xF6, 0xE9}) == Bytes{0xFA, 0xFA, 0xFA, 0x00, 0x02, 100}));
}

BOOST_AUTO_TEST_CASE(intellimouse_sequence_gives_id_3) {
    Mouse m;
    m.send({0xFF});
    // Another sequence (the Explorer's 200, 200, 80) does nothing.
    m.send({0xF3, 200, 0xF3, 200, 0xF3, 80});
    BOOST_TEST((m.send({0xF2}) == Bytes{0xFA, 0x00}));
    BOOST_TEST((m.send({0xF3, 200, 0xF3, 100, 0xF3, 80}) == Bytes{0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA}));
    BOOST_TEST((m.send({0xF2}) == Bytes{0xFA, 0x03}));
    // ... and then the Explorer sequence leaves it at 3 (no ID 4).
    m.send({0xF3, 200, 0xF3, 200, 0xF3, 80});
    BOOST_TEST((m.send({0xF2}) == Bytes{0xFA, 0x03}));
    // Set defaults keeps the wheel; a reset does not.
    m.send({0xF6});
    BOOST_TEST(m.mouse.device_id() == 3);
    m.send({0xFF});
    BOOST_TEST((m.send({0xF2}) == Bytes{0xFA, 0x00}));
}

BOOST_AUTO_TEST_CASE(bad_commands_and_parameters_get_resend) {
    Mouse m;
    m.send({0xFF});
    auto before = m.mouse.ignored_accesses();
    BOOST_TEST((m.send({0x12}) == Bytes{0xFE}));
    BOOST_TEST((m.send({0xED}) == Bytes{0xFE}));           // a keyboard command
    BOOST_TEST((m.send({0xF3, 33}) == Bytes{0xFA, 0xFE})); // not a rate
    // Still waiting for the rate: the driver sends it again.
    BOOST_TEST((m.send({60}) == Bytes{0xFA}));
    BOOST_TEST(m.mouse.sample_rate() == 60);
    BOOST_TEST((m.send({0xE8, 4}) == Bytes{0xFA, 0xFE}));
    BOOST_TEST((m.send({2}) == Bytes{0xFA}));
    // A command where a parameter was expected runs as a command.
    BOOST_TEST((m.send({0xE8, 0xF2}) == Bytes{0xFA, 0xFA, 0x00}));
    BOOST_TEST(m.mouse.ignored_accesses() == before + 4);
    // Resend repeats the last byte.
    BOOST_TEST((m.send({0xFE}) == Bytes{0x00}));
}

BOOST_AUTO_TEST_CASE(wrap_mode_echoes) {
    Mouse m;
    m.send({0xFF});
    BOOST_TEST((m.send({0xEE}) == Bytes{0xFA}));
    BOOST_TEST((m.send({0x12, 0xF2, 0xE9}) == Bytes{0x12, 0xF2, 0xE9}));
    BOOST_TEST(m.mouse.wrap_mode());
    m.mouse.input(5, 5, 0, 1); // no packets in wrap mode
    BOOST_TEST(m.drain().empty());
    BOOST_TEST((m.send({0xEC}) == Bytes{0xFA}));
    BOOST_TEST(!m.mouse.wrap_mode());
    BOOST_TEST((m.send({0xEE, 0xFF}) == Bytes{0xFA, 0xFA, 0xAA, 0x00}));
    BOOST_TEST(!m.mouse.wrap_mode());
}

BOOST_AUTO_TEST_CASE(stream_packets_from_host_input) {
    Mouse m;
    // Not enabled: nothing.
    m.send({0xFF});
    m.mouse.input(10, 10, 0, 0);
    BOOST_TEST(m.drain().empty());
    m.enable();
    // Right 10, down 3 (PS/2: Y up, so -3), left button.
    m.mouse.input(10, 3, 0, 1);
    BOOST_TEST((m.drain() == Bytes{0x08 | 0x01 | 0x20, 10, 0xFD}));
    // Left 1, up 2, right + middle; the wheel is not reported by a plain mouse.
    m.mouse.input(-1, -2, 3, 6);
    BOOST_TEST((m.drain() == Bytes{0x08 | 0x06 | 0x10, 0xFF, 2}));
    // A button change alone is a packet; nothing at all is none.
    m.mouse.input(0, 0, 0, 0);
    BOOST_TEST((m.drain() == Bytes{0x08, 0, 0}));
    m.mouse.input(0, 0, 0, 0);
    BOOST_TEST(m.drain().empty());
    // A large motion is split into packets that never overflow.
    m.mouse.input(600, -300, 0, 0);
    BOOST_TEST((m.drain() == Bytes{0x08, 255, 255, 0x08, 255, 45, 0x08, 90, 0}));
    // Status shows the buttons held (left, middle, right in that order).
    m.mouse.input(0, 0, 0, 1 | 2);
    m.drain();
    BOOST_TEST((m.send({0xE9}) == Bytes{0xFA, 0x20 | 0x04 | 0x01, 0x02, 100}));
    // F5 stops the stream.
    m.send({0xF5});
    m.mouse.input(1, 1, 0, 0);
    BOOST_TEST(m.drain().empty());
}

BOOST_AUTO_TEST_CASE(scaling_2to1_in_stream_mode) {
    Mouse m;
    m.enable();
    m.send({0xE7});
    m.mouse.input(3, 0, 0, 0);
    BOOST_TEST((m.drain() == Bytes{0x08, 3, 0}));
    m.mouse.input(4, 0, 0, 0);
    BOOST_TEST((m.drain() == Bytes{0x08, 6, 0}));
    m.mouse.input(-10, 0, 0, 0);
    BOOST_TEST((m.drain() == Bytes{0x18, static_cast<u8>(-20), 0}));
    // 200 is split at 127 before doubling: 254, then 73 * 2.
    m.mouse.input(200, 0, 0, 0);
    BOOST_TEST((m.drain() == Bytes{0x08, 254, 0, 0x08, 146, 0}));
}

BOOST_AUTO_TEST_CASE(wheel_packets_with_id_3) {
    Mouse m;
    m.enable(true);
    BOOST_TEST(m.mouse.device_id() == 3);
    // One notch towards the user: +1 (Linux reports it as wheel down).
    m.mouse.input(0, 0, 1, 0);
    BOOST_TEST((m.drain() == Bytes{0x08, 0, 0, 1}));
    m.mouse.input(1, 0, -2, 0);
    BOOST_TEST((m.drain() == Bytes{0x08, 1, 0, 0xFE}));
    // Past -8..7 per packet: split.
    m.mouse.input(0, 0, 10, 0);
    BOOST_TEST((m.drain() == Bytes{0x08, 0, 0, 7, 0x08, 0, 0, 3}));
}

BOOST_AUTO_TEST_CASE(remote_mode_reads_accumulated_motion) {
    Mouse m;
    m.enable();
    m.send({0xF0});
    m.mouse.input(5, 5, 0, 1);
    m.mouse.input(5, 0, 0, 1);
    BOOST_TEST(m.drain().empty()); // nothing unasked
    BOOST_TEST((m.send({0xEB}) == Bytes{0xFA, 0x08 | 0x01 | 0x20, 10, 0xFB}));
    BOOST_TEST((m.send({0xEB}) == Bytes{0xFA, 0x08 | 0x01, 0, 0}));
    // Past 9 bits: the overflow bits, the count clamped.
    m.mouse.input(1000, -1000, 0, 0);
    BOOST_TEST((m.send({0xEB}) == Bytes{0xFA, 0x08 | 0x40 | 0x80, 255, 255}));
    m.mouse.input(-1000, 0, 0, 0);
    BOOST_TEST((m.send({0xEB}) == Bytes{0xFA, 0x08 | 0x40 | 0x10, 0x00, 0}));
}

BOOST_AUTO_TEST_CASE(full_queue_drops_whole_packets) {
    Mouse m;
    m.enable();
    for (int i = 0; i < 200; ++i)
        m.mouse.input(1, 0, 0, 0);
    BOOST_TEST(m.mouse.dropped_packets() > 0u);
    auto bytes = m.drain();
    BOOST_TEST(bytes.size() % 3 == 0u);
    BOOST_TEST(bytes.size() <= Ps2Mouse::QUEUE_DEPTH);
    for (std::size_t i = 0; i < bytes.size(); i += 3)
        BOOST_TEST((bytes[i] & 0x08) != 0);
}

BOOST_AUTO_TEST_CASE(through_the_8042) {
    Rig r;
    // Enable the aux port and its interrupt, as a driver does.
    r.command(0xA8);
    r.set_ctr(I8042::CTR_KBD_INT | I8042::CTR_AUX_INT | I8042::CTR_SYS | I8042::CTR_XLATE);
    r.to_mouse(0xFF);
    BOOST_TEST(r.irq12.level());
    BOOST_TEST(!r.irq1.level());
    BOOST_TEST((r.status() & (I8042::STATUS_OBF | I8042::STATUS_AUX_OBF)) ==
               (I8042::STATUS_OBF | I8042::STATUS_AUX_OBF));
    BOOST_TEST((r.drain_aux() == Bytes{0xFA, 0xAA, 0x00}));
    BOOST_TEST(!r.irq12.level());
    r.to_mouse(0xF2);
    BOOST_TEST((r.drain_aux() == Bytes{0xFA, 0x00}));
    for (u8 rate : {200, 100, 80}) {
        r.to_mouse(0xF3);
        r.to_mouse(rate);
    }
    BOOST_TEST((r.drain_aux() == Bytes{0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA}));
    r.to_mouse(0xF2);
    BOOST_TEST((r.drain_aux() == Bytes{0xFA, 0x03}));
    r.to_mouse(0xF4);
    BOOST_TEST((r.drain_aux() == Bytes{0xFA}));
    // Host input: a packet with IRQ12 (edges per byte for the PIC).
    r.irq12.clear_edges();
    r.mouse.input(-3, 4, 1, 2);
    BOOST_TEST(r.irq12.level());
    BOOST_TEST((r.drain_aux() == Bytes{0x08 | 0x02 | 0x10 | 0x20, 0xFD, 0xFC, 0x01}));
    BOOST_TEST(r.irq12.rising_edges() == 4u);
    // The aux port disabled (A7): the packet waits in the mouse.
    r.command(0xA7);
    r.mouse.input(1, 0, 0, 2);
    BOOST_TEST(!(r.status() & I8042::STATUS_OBF));
    r.command(0xA8);
    r.to_mouse(0xE6); // any byte to the port: the mouse output comes through
    BOOST_TEST((r.drain_aux() == Bytes{0x08 | 0x02, 1, 0, 0, 0xFA}));
    // The keyboard still has its own IRQ.
    r.write_data(0xF2);
    BOOST_TEST(r.irq1.level());
    BOOST_TEST(!r.irq12.level());
}

BOOST_AUTO_TEST_CASE(random_bytes) {
    // Random commands, parameters and host input: only has to survive,
    // with every queue within its bound.
    Rig r;
    std::mt19937 rng(11);
    for (int i = 0; i < 20000; ++i) {
        switch (rng() % 6) {
        case 0:
            r.to_mouse(static_cast<u8>(0xE0 + rng() % 32));
            break;
        case 1:
            r.to_mouse(static_cast<u8>(rng()));
            break;
        case 2:
            r.mouse.input(static_cast<int>(rng() % 8193) - 4096, static_cast<int>(rng() % 8193) - 4096,
                          static_cast<int>(rng() % 17) - 8, static_cast<u8>(rng()));
            break;
        case 3:
            (void)r.data();
            break;
        default:
            (void)r.status();
            break;
        }
    }
    vsa::test::random_register_loop(r.kbc, I8042::PORT_SPAN, 5000);
    // Whatever state that left: a reset through the controller answers.
    for (int i = 0; i < 1000 && (r.status() & I8042::STATUS_OBF); ++i)
        (void)r.data();
    r.to_mouse(0xFF);
    Bytes out;
    for (int i = 0; i < 1000 && (r.status() & I8042::STATUS_OBF); ++i)
        out.push_back(r.data());
    BOOST_REQUIRE(out.size() >= 3u);
    BOOST_TEST((Bytes(out.end() - 3, out.end()) == Bytes{0xFA, 0xAA, 0x00}));
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    Mouse m;
    m.enable(true);
    m.send({0xE7, 0xE8, 1, 0xF3}); // a parameter pending
    m.mouse.input(300, -20, 3, 5); // packets queued
    Ps2Mouse fresh;
    vsa::test::check_save_load_save(m.mouse, fresh);
    BOOST_TEST(fresh.device_id() == 3);
    BOOST_TEST(fresh.scaling_2to1());
    // The loaded mouse goes on where the saved one was: same bytes out.
    Bytes saved, loaded;
    while (m.mouse.output_pending())
        saved.push_back(m.mouse.read_output());
    while (fresh.output_pending())
        loaded.push_back(fresh.read_output());
    BOOST_TEST(saved == loaded);
    // Remote mode with motion kept.
    Mouse r;
    r.enable();
    r.send({0xF0});
    r.mouse.input(-70, 9, 0, 1);
    Ps2Mouse fresh_remote;
    vsa::test::check_save_load_save(r.mouse, fresh_remote);
}

BOOST_AUTO_TEST_CASE(bad_streams_fail) {
    Mouse m;
    m.enable(true);
    m.mouse.input(10, 10, 1, 1);
    Ps2Mouse fresh;
    vsa::test::check_bad_streams_fail(m.mouse, fresh);
    // A loaded mouse still works whatever was refused.
    fresh.reset();
    fresh.write(0xF2);
    BOOST_TEST(fresh.output_pending());
}

BOOST_AUTO_TEST_SUITE_END()
