// SPDX-License-Identifier: GPL-2.0-or-later
// PS/2 mouse. See ps2_mouse.h for the references and what is left out.
#include "hw/ps2_mouse.h"

#include <algorithm>
#include <cstdlib>

namespace vsa {

namespace {

// The rates the IBM reference lists for F3.
constexpr u8 VALID_RATES[] = {10, 20, 40, 60, 80, 100, 200};

bool valid_rate(u8 rate) {
    return std::find(std::begin(VALID_RATES), std::end(VALID_RATES), rate) != std::end(VALID_RATES);
}

// The commands a mouse knows; a byte from this set ends a parameter wait.
bool is_command(u8 byte) {
    switch (byte) {
    case 0xE6:
    case 0xE7:
    case 0xE8:
    case 0xE9:
    case 0xEA:
    case 0xEB:
    case 0xEC:
    case 0xEE:
    case 0xF0:
    case 0xF2:
    case 0xF3:
    case 0xF4:
    case 0xF5:
    case 0xF6:
    case 0xFE:
    case 0xFF:
        return true;
    default:
        return false;
    }
}

// Scaling 2:1 (stream mode only): the IBM reference's table for small
// counts, doubling from 6 on.
int scale_2to1(int count) {
    static constexpr int TABLE[] = {0, 1, 1, 3, 6, 9};
    int magnitude = std::abs(count);
    int scaled = magnitude < 6 ? TABLE[magnitude] : 2 * magnitude;
    return count < 0 ? -scaled : scaled;
}

// The IntelliMouse "knock": sample rates 200, 100, 80 in a row.
constexpr std::array<u8, 3> INTELLIMOUSE_SEQUENCE{200, 100, 80};

} // namespace

Ps2Mouse::Ps2Mouse() {
    reset();
}

void Ps2Mouse::reset() {
    clear_output();
    set_defaults();
    m_wrap = false;
    m_id = 0;
    m_expect = 0;
    m_last_rates = {};
    m_buttons = 0;
    m_last_sent = 0;
}

// F6's defaults (also part of FF): 100 samples/s, 4 counts/mm, 1:1,
// stream mode, reporting disabled.
void Ps2Mouse::set_defaults() {
    m_rate = 100;
    m_resolution = 2;
    m_scaling21 = false;
    m_remote = false;
    m_reporting = false;
    m_acc_dx = m_acc_dy = m_acc_dz = 0;
}

void Ps2Mouse::clear_output() {
    m_queue.fill(0);
    m_count = 0;
}

void Ps2Mouse::respond(u8 byte) {
    if (m_count >= QUEUE_DEPTH) {
        count_ignored();
        return;
    }
    m_queue[m_count++] = byte;
}

u8 Ps2Mouse::read_output() {
    if (!m_count) return m_last_sent;
    u8 byte = m_queue[0];
    std::copy(m_queue.begin() + 1, m_queue.begin() + m_count, m_queue.begin());
    m_queue[--m_count] = 0;
    m_last_sent = byte;
    return byte;
}

void Ps2Mouse::write(u8 byte) {
    if (m_wrap && byte != 0xEC && byte != 0xFF) {
        // Wrap (echo) mode: a diagnostic loopback of every byte.
        respond(byte);
    } else if (m_expect && !is_command(byte)) {
        parameter(byte);
    } else {
        command(byte);
    }
    if (m_count) notify_output();
}

void Ps2Mouse::parameter(u8 byte) {
    if (m_expect == 0xF3) {
        if (!valid_rate(byte)) {
            // Still waiting: the host is expected to send the rate again.
            count_ignored();
            respond(RESEND);
            return;
        }
        m_rate = byte;
        m_last_rates = {m_last_rates[1], m_last_rates[2], byte};
        // Linux, Windows and X detect the wheel this way, then ask F2.
        if (m_last_rates == INTELLIMOUSE_SEQUENCE) m_id = 3;
    } else {
        if (byte > 3) {
            count_ignored();
            respond(RESEND);
            return;
        }
        m_resolution = byte;
    }
    m_expect = 0;
    respond(ACK);
}

void Ps2Mouse::command(u8 byte) {
    m_expect = 0;
    switch (byte) {
    case 0xFF: // reset: ACK, the self test passed, device ID 0
        reset();
        respond(ACK);
        respond(BAT_OK);
        respond(0x00);
        break;
    case 0xFE: // resend
        respond(m_last_sent);
        break;
    case 0xF6: // set defaults
        clear_output();
        set_defaults();
        respond(ACK);
        break;
    case 0xF5: // disable data reporting; packets not yet taken are gone
        clear_output();
        m_reporting = false;
        respond(ACK);
        break;
    case 0xF4: // enable data reporting
        clear_output();
        m_reporting = true;
        respond(ACK);
        break;
    case 0xF3: // sample rate, parameter follows
    case 0xE8: // resolution, parameter follows
        respond(ACK);
        m_expect = byte;
        break;
    case 0xF2: // get device ID
        respond(ACK);
        respond(m_id);
        break;
    case 0xF0: // remote mode
        m_remote = true;
        m_acc_dx = m_acc_dy = m_acc_dz = 0;
        respond(ACK);
        break;
    case 0xEE: // wrap mode
        m_wrap = true;
        respond(ACK);
        break;
    case 0xEC: // reset wrap mode
        m_wrap = false;
        respond(ACK);
        break;
    case 0xEB: // read data: one packet of the motion since the last one
        respond(ACK);
        if (!queue_packet(m_acc_dx, m_acc_dy, m_acc_dz)) ++m_dropped;
        m_acc_dx = m_acc_dy = m_acc_dz = 0;
        break;
    case 0xEA: // stream mode
        m_remote = false;
        m_acc_dx = m_acc_dy = m_acc_dz = 0;
        respond(ACK);
        break;
    case 0xE9: { // status request
        respond(ACK);
        // Byte 1: remote mode, enabled, 2:1 scaling, then the buttons
        // left, middle, right (not the packet's order).
        u8 status =
            static_cast<u8>((m_remote ? 0x40 : 0) | (m_reporting ? 0x20 : 0) | (m_scaling21 ? 0x10 : 0) |
                            (m_buttons & BUTTON_LEFT ? 0x04 : 0) | (m_buttons & BUTTON_MIDDLE ? 0x02 : 0) |
                            (m_buttons & BUTTON_RIGHT ? 0x01 : 0));
        respond(status);
        respond(m_resolution);
        respond(m_rate);
        break;
    }
    case 0xE7: // scaling 2:1
        m_scaling21 = true;
        respond(ACK);
        break;
    case 0xE6: // scaling 1:1
        m_scaling21 = false;
        respond(ACK);
        break;
    default:
        count_ignored();
        respond(RESEND);
        break;
    }
}

bool Ps2Mouse::queue_packet(int dx, int dy, int dz) {
    if (m_count + packet_size() > QUEUE_DEPTH) return false;
    bool x_overflow = dx < -256 || dx > 255;
    bool y_overflow = dy < -256 || dy > 255;
    dx = std::clamp(dx, -256, 255);
    dy = std::clamp(dy, -256, 255);
    u8 head = static_cast<u8>(0x08 | (m_buttons & 0x07) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0) |
                              (x_overflow ? 0x40 : 0) | (y_overflow ? 0x80 : 0));
    respond(head);
    respond(static_cast<u8>(dx));
    respond(static_cast<u8>(dy));
    if (m_id == 3) respond(static_cast<u8>(std::clamp(dz, -8, 7)));
    return true;
}

void Ps2Mouse::input(int dx, int dy, int dz, u8 buttons) {
    buttons &= 0x07;
    bool buttons_changed = buttons != m_buttons;
    m_buttons = buttons;
    // PS/2 counts Y upwards; the host gives screen orientation.
    dy = -dy;
    // A plain mouse has no wheel: its steps are simply not reported.
    if (m_id != 3) dz = 0;
    if (m_wrap) return;
    if (m_remote) {
        // The guest polls (EB): keep the motion, bounded.
        m_acc_dx = std::clamp(m_acc_dx + std::clamp(dx, -MAX_ACCUMULATED, MAX_ACCUMULATED), -MAX_ACCUMULATED,
                              MAX_ACCUMULATED);
        m_acc_dy = std::clamp(m_acc_dy + std::clamp(dy, -MAX_ACCUMULATED, MAX_ACCUMULATED), -MAX_ACCUMULATED,
                              MAX_ACCUMULATED);
        m_acc_dz = std::clamp(m_acc_dz + std::clamp(dz, -MAX_ACCUMULATED, MAX_ACCUMULATED), -MAX_ACCUMULATED,
                              MAX_ACCUMULATED);
        return;
    }
    if (!m_reporting) return;
    if (dx == 0 && dy == 0 && dz == 0 && !buttons_changed) return;
    // Split into packets no count of which overflows (after 2:1 scaling,
    // which doubles counts from 6 up).
    int const step = m_scaling21 ? 127 : 255;
    bool queued = false;
    do {
        int px = std::clamp(dx, -step, step);
        int py = std::clamp(dy, -step, step);
        int pz = std::clamp(dz, -8, 7);
        dx -= px;
        dy -= py;
        dz -= pz;
        if (m_scaling21) {
            px = scale_2to1(px);
            py = scale_2to1(py);
        }
        if (!queue_packet(px, py, pz)) {
            // The guest is not reading: drop the rest of this motion.
            ++m_dropped;
            break;
        }
        queued = true;
    } while (dx != 0 || dy != 0 || dz != 0);
    if (queued) notify_output();
}

void Ps2Mouse::visit_state(StateVisitor& v) {
    v.section("ps2_mouse", 1);
    auto queue = m_queue;
    u16 count = m_count;
    bool reporting = m_reporting, remote = m_remote, wrap = m_wrap, scaling21 = m_scaling21;
    u8 rate = m_rate, resolution = m_resolution, id = m_id, expect = m_expect, buttons = m_buttons;
    auto last_rates = m_last_rates;
    i32 acc_dx = m_acc_dx, acc_dy = m_acc_dy, acc_dz = m_acc_dz;
    u8 last_sent = m_last_sent;
    v.field("queue", queue);
    v.field("count", count);
    v.field("reporting", reporting);
    v.field("remote", remote);
    v.field("wrap", wrap);
    v.field("scaling21", scaling21);
    v.field("rate", rate);
    v.field("resolution", resolution);
    v.field("id", id);
    v.field("expect", expect);
    v.field("last_rates", last_rates);
    v.field("buttons", buttons);
    v.field("acc_dx", acc_dx);
    v.field("acc_dy", acc_dy);
    v.field("acc_dz", acc_dz);
    v.field("last_sent", last_sent);
    if (!v.is_loading() || !v.ok()) return;
    if (count > QUEUE_DEPTH) return v.fail("ps2_mouse: queue longer than its depth");
    for (std::size_t i = count; i < QUEUE_DEPTH; ++i)
        if (queue[i]) return v.fail("ps2_mouse: bytes past the end of the queue");
    if (!valid_rate(rate)) return v.fail("ps2_mouse: bad sample rate");
    if (resolution > 3) return v.fail("ps2_mouse: bad resolution");
    if (id != 0 && id != 3) return v.fail("ps2_mouse: bad device ID");
    if (expect != 0 && expect != 0xF3 && expect != 0xE8) return v.fail("ps2_mouse: bad pending command");
    if (buttons > 7) return v.fail("ps2_mouse: bad buttons");
    for (i32 acc : {acc_dx, acc_dy, acc_dz})
        if (acc < -MAX_ACCUMULATED || acc > MAX_ACCUMULATED)
            return v.fail("ps2_mouse: motion past its bound");
    m_queue = queue;
    m_count = count;
    m_reporting = reporting;
    m_remote = remote;
    m_wrap = wrap;
    m_scaling21 = scaling21;
    m_rate = rate;
    m_resolution = resolution;
    m_id = id;
    m_expect = expect;
    m_last_rates = last_rates;
    m_buttons = buttons;
    m_acc_dx = acc_dx;
    m_acc_dy = acc_dy;
    m_acc_dz = acc_dz;
    m_last_sent = last_sent;
}

} // namespace vsa
