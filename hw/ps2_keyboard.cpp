// SPDX-License-Identifier: GPL-2.0-or-later
// PS/2 keyboard. See ps2_keyboard.h for the reference and what is left out.
#include "hw/ps2_keyboard.h"

#include <vector>

namespace vsa {

namespace {

// Set 2 make code of each Key; 0xE0xx marks an extended (E0-prefixed) key.
// PrintScreen and Pause have multi-code sequences and are special-cased.
constexpr u16 EXT = 0xE000;
// clang-format off
constexpr std::array<u16, static_cast<std::size_t>(Ps2Keyboard::Key::Count)> KEY_CODES = {
    0x1C, 0x32, 0x21, 0x23, 0x24, 0x2B, 0x34, 0x33, 0x43, 0x3B, 0x42, 0x4B, 0x3A,  // A-M
    0x31, 0x44, 0x4D, 0x15, 0x2D, 0x1B, 0x2C, 0x3C, 0x2A, 0x1D, 0x22, 0x35, 0x1A,  // N-Z
    0x45, 0x16, 0x1E, 0x26, 0x25, 0x2E, 0x36, 0x3D, 0x3E, 0x46,                    // 0-9
    0x05, 0x06, 0x04, 0x0C, 0x03, 0x0B, 0x83, 0x0A, 0x01, 0x09, 0x78, 0x07,        // F1-F12
    0x76, 0x0D, 0x58, 0x66, 0x5A, 0x29,                  // Esc Tab CapsLock Backspace Enter Space
    0x12, 0x59, 0x14, EXT | 0x14, 0x11, EXT | 0x11,      // Shift L/R, Ctrl L/R, Alt L/R
    EXT | 0x1F, EXT | 0x27, EXT | 0x2F,                  // Meta L/R, Menu
    0x4E, 0x55, 0x54, 0x5B, 0x5D, 0x4C, 0x52, 0x0E, 0x41, 0x49, 0x4A,  // - = [ ] \ ; ' ` , . /
    EXT | 0x70, EXT | 0x71, EXT | 0x6C, EXT | 0x69, EXT | 0x7D, EXT | 0x7A,  // Ins Del Home End PgUp PgDn
    EXT | 0x75, EXT | 0x72, EXT | 0x6B, EXT | 0x74,      // Up Down Left Right
    0x77, 0x7E, EXT | 0x5A,                              // NumLock ScrollLock KeypadEnter
    0, 0,                                                // PrintScreen, Pause: sequences, see press()
};
// clang-format on

constexpr u8 OVERRUN_SET2 = 0x00;
constexpr u8 OVERRUN_SET1 = 0xFF;

bool is_command(u8 byte) {
    return byte >= 0xED;
}

} // namespace

Ps2Keyboard::Ps2Keyboard() {
    reset();
}

void Ps2Keyboard::reset() {
    clear_output();
    set_defaults();
    m_scanning = true;
    m_leds = 0;
    m_expect = 0;
    m_last_sent = 0;
}

void Ps2Keyboard::set_defaults() {
    m_set = 2;
    m_typematic = 0x2B; // 10.9 characters/s after 500 ms
}

void Ps2Keyboard::clear_output() {
    m_queue.fill(0);
    m_count = 0;
    m_overrun = false;
}

void Ps2Keyboard::respond(u8 byte) {
    if (m_count >= QUEUE_DEPTH) {
        count_ignored();
        return;
    }
    m_queue[m_count++] = byte;
}

u8 Ps2Keyboard::read_output() {
    if (!m_count) return m_last_sent;
    u8 byte = m_queue[0];
    for (std::size_t i = 1; i < m_count; ++i)
        m_queue[i - 1] = m_queue[i];
    m_queue[--m_count] = 0;
    m_last_sent = byte;
    return byte;
}

void Ps2Keyboard::write(u8 byte) {
    if (m_expect && !is_command(byte))
        parameter(byte);
    else
        command(byte);
    // Once, after every response byte is queued: the controller may take
    // the first one from inside this call.
    if (m_count) notify_output();
}

void Ps2Keyboard::parameter(u8 byte) {
    switch (m_expect) {
    case 0xED:
        m_leds = byte & 0x07; // Scroll, Num, Caps Lock
        m_expect = 0;
        respond(ACK);
        break;
    case 0xF3:
        m_typematic = byte & 0x7F;
        m_expect = 0;
        respond(ACK);
        break;
    case 0xF0:
        m_expect = 0;
        if (byte == 0) {
            respond(ACK);
            respond(m_set);
        } else if (byte == 1 || byte == 2) {
            m_set = byte;
            respond(ACK);
        } else {
            // Set 3 is not implemented; refusing it makes drivers stay on 2.
            count_ignored();
            respond(RESEND);
        }
        break;
    default:
        // 0xFB-0xFD take a list of keys, each acknowledged, until the
        // next command.
        respond(ACK);
        break;
    }
}

void Ps2Keyboard::command(u8 byte) {
    m_expect = 0;
    switch (byte) {
    case 0xED: // set LEDs
    case 0xF3: // typematic rate/delay
    case 0xF0: // scan code set
        respond(ACK);
        m_expect = byte;
        break;
    case 0xEE: // echo
        respond(0xEE);
        break;
    case 0xF2: // identify: MF2 keyboard
        respond(ACK);
        respond(0xAB);
        respond(0x83);
        break;
    case 0xF4: // enable scanning
        clear_output();
        m_scanning = true;
        respond(ACK);
        break;
    case 0xF5: // default and disable
        clear_output();
        set_defaults();
        m_scanning = false;
        respond(ACK);
        break;
    case 0xF6: // set defaults, keep scanning state
        clear_output();
        set_defaults();
        respond(ACK);
        break;
    case 0xF7:
    case 0xF8:
    case 0xF9:
    case 0xFA:
        respond(ACK);
        break;
    case 0xFB:
    case 0xFC:
    case 0xFD:
        respond(ACK);
        m_expect = byte;
        break;
    case 0xFE: // resend the last byte sent
        respond(m_last_sent);
        break;
    case 0xFF: // reset: ACK, then the basic assurance test passes
        clear_output();
        set_defaults();
        m_scanning = true;
        m_leds = 0;
        respond(ACK);
        respond(BAT_OK);
        break;
    default:
        count_ignored();
        respond(RESEND);
        break;
    }
}

bool Ps2Keyboard::send_scancodes(std::span<u8 const> set2) {
    if (!m_scanning || set2.empty()) return false;
    std::vector<u8> bytes;
    bytes.reserve(set2.size());
    if (m_set == 1) {
        // The keyboard speaks set 1: the same conversion a translating 8042
        // applies (F0 xx -> xx|0x80 translated).
        bool brk = false;
        for (u8 b : set2) {
            if (b == 0xF0) {
                brk = true;
                continue;
            }
            bytes.push_back(static_cast<u8>(ps2_translate_set2_to_set1(b) | (brk ? 0x80 : 0)));
            brk = false;
        }
    } else {
        bytes.assign(set2.begin(), set2.end());
    }
    if (m_count + bytes.size() > KEY_BUFFER) {
        // Buffer overrun: the overrun code takes the last place, once.
        if (!m_overrun && m_count < KEY_BUFFER) {
            respond(m_set == 1 ? OVERRUN_SET1 : OVERRUN_SET2);
            m_overrun = true;
            notify_output();
        }
        return false;
    }
    m_overrun = false;
    for (u8 b : bytes)
        respond(b);
    notify_output();
    return true;
}

bool Ps2Keyboard::press(Key key) {
    if (key == Key::PrintScreen) {
        static constexpr u8 seq[] = {0xE0, 0x12, 0xE0, 0x7C};
        return send_scancodes(seq);
    }
    if (key == Key::Pause) {
        // Pause has no break code; its make carries both halves.
        static constexpr u8 seq[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
        return send_scancodes(seq);
    }
    if (key >= Key::Count) return false;
    u16 code = KEY_CODES[static_cast<std::size_t>(key)];
    if (code & EXT) {
        u8 const seq[] = {0xE0, static_cast<u8>(code)};
        return send_scancodes(seq);
    }
    u8 const seq[] = {static_cast<u8>(code)};
    return send_scancodes(seq);
}

bool Ps2Keyboard::release(Key key) {
    if (key == Key::PrintScreen) {
        static constexpr u8 seq[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
        return send_scancodes(seq);
    }
    if (key == Key::Pause) return true;
    if (key >= Key::Count) return false;
    u16 code = KEY_CODES[static_cast<std::size_t>(key)];
    if (code & EXT) {
        u8 const seq[] = {0xE0, 0xF0, static_cast<u8>(code)};
        return send_scancodes(seq);
    }
    u8 const seq[] = {0xF0, static_cast<u8>(code)};
    return send_scancodes(seq);
}

void Ps2Keyboard::visit_state(StateVisitor& v) {
    v.section("ps2_keyboard", 1);
    auto queue = m_queue;
    u8 count = m_count, set = m_set, expect = m_expect;
    bool scanning = m_scanning, overrun = m_overrun;
    u8 leds = m_leds, typematic = m_typematic, last_sent = m_last_sent;
    v.field("queue", queue);
    v.field("count", count);
    v.field("scanning", scanning);
    v.field("overrun", overrun);
    v.field("set", set);
    v.field("leds", leds);
    v.field("typematic", typematic);
    v.field("expect", expect);
    v.field("last_sent", last_sent);
    if (!v.is_loading() || !v.ok()) return;
    if (count > QUEUE_DEPTH) return v.fail("ps2_keyboard: queue longer than its depth");
    for (std::size_t i = count; i < QUEUE_DEPTH; ++i)
        if (queue[i]) return v.fail("ps2_keyboard: bytes past the end of the queue");
    if (set != 1 && set != 2) return v.fail("ps2_keyboard: bad scan code set");
    bool expect_ok = expect == 0 || expect == 0xED || expect == 0xF0 || expect == 0xF3 ||
                     (expect >= 0xFB && expect <= 0xFD);
    if (!expect_ok) return v.fail("ps2_keyboard: bad pending command");
    m_queue = queue;
    m_count = count;
    m_scanning = scanning;
    m_overrun = overrun;
    m_set = set;
    m_leds = leds & 0x07;
    m_typematic = typematic & 0x7F;
    m_expect = expect;
    m_last_sent = last_sent;
}

} // namespace vsa
