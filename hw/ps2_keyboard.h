// SPDX-License-Identifier: GPL-2.0-or-later
// IBM PS/2 (MF2) keyboard, the device on the 8042's first port. Reference:
// IBM PS/2 Hardware Interface Technical Reference, "Keyboard" (commands,
// responses, scan code sets, buffer overrun).
//
// Commands: reset 0xFF -> FA AA, identify 0xF2 -> FA AB 83, set LEDs 0xED,
// echo 0xEE, scan code set 0xF0 (get, and set 1 or 2), typematic 0xF3,
// enable 0xF4, default-disable 0xF5, set defaults 0xF6, set-3 key types
// 0xF7-0xFD (acknowledged; they only matter in set 3), resend 0xFE;
// anything else is answered 0xFE. A command byte (0xED and up) that
// arrives where a parameter was expected starts that command instead, as
// on the keyboard.
//
// Host side: the console injects keys as set 2 scan codes or from the Key
// enum below. The keyboard converts them to set 1 itself when the guest
// selected set 1 (a translating 8042 does the same for set 2 on the way).
// The key buffer holds 16 bytes; a key that does not fit is dropped whole
// and the overrun code (0x00 in set 2, 0xFF in set 1) takes the last
// place, once, until the guest catches up.
//
// Deliberately left out: scan code set 3 (selecting it is refused with
// 0xFE; Linux and Windows use set 2), typematic repeat (the host sends
// repeats, the rate is stored for 0xF3 only), the power-on BAT 0xAA without
// a reset command (as QEMU: BIOSes reset the keyboard), and timing (bytes
// are ready at once).
#pragma once

#include "hw/i8042.h"

#include <array>
#include <cstddef>
#include <span>

namespace vsa {

class Ps2Keyboard final : public Ps2Device {
public:
    // A small key set for the console (a US layout's physical keys).
    // clang-format off
    enum class Key : u8 {
        A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P, Q, R, S, T, U, V, W, X, Y, Z,
        Digit0, Digit1, Digit2, Digit3, Digit4, Digit5, Digit6, Digit7, Digit8, Digit9,
        F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12,
        Escape, Tab, CapsLock, Backspace, Enter, Space,
        LeftShift, RightShift, LeftCtrl, RightCtrl, LeftAlt, RightAlt,
        LeftMeta, RightMeta, Menu,
        Minus, Equals, LeftBracket, RightBracket, Backslash, Semicolon, Apostrophe, Grave,
        Comma, Period, Slash,
        Insert, Delete, Home, End, PageUp, PageDown,
        Up, Down, Left, Right,
        NumLock, ScrollLock, KeypadEnter,
        PrintScreen, Pause,
        Count
    };
    // clang-format on

    static constexpr std::size_t KEY_BUFFER = 16;
    // Responses may exceed the key buffer by a few bytes (a reset arriving
    // with the buffer full); past this bound a guest is spamming commands.
    static constexpr std::size_t QUEUE_DEPTH = 32;

    static constexpr u8 ACK = 0xFA;
    static constexpr u8 RESEND = 0xFE;
    static constexpr u8 BAT_OK = 0xAA;

    Ps2Keyboard();

    std::string_view name() const override { return "ps2_keyboard"; }
    void reset() override;
    void visit_state(StateVisitor& visitor) override;

    void write(u8 byte) override;
    bool output_pending() const override { return m_count != 0; }
    u8 read_output() override;

    // Host side. Each returns false if the keys were dropped (scanning
    // disabled by the guest, or the buffer full).
    bool send_scancodes(std::span<u8 const> set2);
    bool press(Key key);
    bool release(Key key);

    u8 leds() const { return m_leds; }
    bool scanning() const { return m_scanning; }
    u8 scancode_set() const { return m_set; }
    u8 typematic() const { return m_typematic; }

private:
    void set_defaults();
    void clear_output();
    void respond(u8 byte);
    void command(u8 byte);
    void parameter(u8 byte);

    std::array<u8, QUEUE_DEPTH> m_queue{};
    u8 m_count{0};
    bool m_scanning{true};
    bool m_overrun{false};
    u8 m_set{2};
    u8 m_leds{0};
    u8 m_typematic{0x2B};
    u8 m_expect{0}; // command waiting for its parameter byte, or 0
    u8 m_last_sent{0};
};

} // namespace vsa
