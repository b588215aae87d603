// SPDX-License-Identifier: GPL-2.0-or-later
// IBM PS/2 mouse with the Microsoft IntelliMouse wheel extension, the
// device on the 8042's aux port. References: IBM PS/2 Hardware Interface
// Technical Reference, "Pointing Device" (commands, status bytes, the
// 3-byte data packet, scaling); Microsoft's IntelliMouse PS/2 protocol
// (the 200/100/80 sample-rate sequence that turns on the 4-byte packet
// and device ID 3); Linux drivers/input/mouse/psmouse-base.c for what a
// guest driver actually relies on.
//
// Commands (each acknowledged with FA first): reset FF -> FA AA 00 (back
// to a plain 3-byte mouse), set defaults F6, disable F5, enable data
// reporting F4, sample rate F3 <rate> (10-200), resolution E8 <0-3>,
// scaling 1:1 E6 / 2:1 E7, status request E9 -> 3 bytes, stream mode EA,
// remote mode F0, read data EB -> one packet, wrap mode EE / reset wrap
// EC (in wrap mode every other byte is echoed back), get device ID F2 ->
// 00 (03 after the IntelliMouse sequence), resend FE (the last byte
// again). Unknown commands and invalid parameters are answered FE, as
// real mice do; a command byte that arrives where a parameter was expected
// starts that command instead.
//
// Host side: input() takes a relative motion in screen orientation (dy > 0
// down), a wheel step (dz > 0 towards the user) and the buttons held. The
// mouse converts to PS/2's Y-up, 9-bit two's complement counts with sign
// bits, 4-byte packets with the wheel (-8..7 per packet) in IntelliMouse
// mode. In stream mode with reporting enabled it queues packets at once,
// splitting a large motion into several packets rather than setting the
// overflow bits; in remote mode the motion accumulates until the guest
// reads it with EB (then the overflow bits report a count past 9 bits).
// The output queue is bounded: a packet that does not fit is dropped whole
// (never half a packet: the guest would lose the packet framing) and
// counted (dropped_packets()).
//
// Deliberately left out: the IntelliMouse Explorer's 5 buttons and device
// ID 4 (the 200/200/80 sequence leaves the ID at 3), timing (bytes are
// ready at once; the sample rate only matters for the ID sequence and the
// status bytes), resolution scaling of the host's motion (the guest's
// pointer speed is its own setting; the resolution is only stored and
// reported), and the power-on BAT without a reset command (BIOSes and
// drivers reset the mouse).
#pragma once

#include "hw/i8042.h"

#include <array>
#include <cstddef>

namespace vsa {

class Ps2Mouse final : public Ps2Device {
public:
    // Room for a burst of host input (a 4096-pixel motion is 17 packets)
    // and any command's reply.
    static constexpr std::size_t QUEUE_DEPTH = 256;
    // Remote mode: motion the guest has not read yet is kept up to this
    // much each way (the count reported is clamped to 9 bits anyway).
    static constexpr int MAX_ACCUMULATED = 1 << 15;

    static constexpr u8 ACK = 0xFA;
    static constexpr u8 RESEND = 0xFE;
    static constexpr u8 BAT_OK = 0xAA;

    static constexpr u8 BUTTON_LEFT = 1;
    static constexpr u8 BUTTON_RIGHT = 2;
    static constexpr u8 BUTTON_MIDDLE = 4;

    Ps2Mouse();

    std::string_view name() const override { return "ps2_mouse"; }
    void reset() override;
    void visit_state(StateVisitor& visitor) override;

    void write(u8 byte) override;
    bool output_pending() const override { return m_count != 0; }
    u8 read_output() override;

    // Host side: one motion, in screen orientation (dx > 0 right, dy > 0
    // down), the wheel (dz > 0 towards the user) and the buttons held now
    // (BUTTON_*). Reported only if the guest enabled it.
    void input(int dx, int dy, int dz, u8 buttons);

    bool reporting() const { return m_reporting; }
    bool remote_mode() const { return m_remote; }
    bool wrap_mode() const { return m_wrap; }
    u8 device_id() const { return m_id; }
    u8 sample_rate() const { return m_rate; }
    u8 resolution() const { return m_resolution; }
    bool scaling_2to1() const { return m_scaling21; }
    // Host-side counter (not saved): packets lost to a full queue.
    u64 dropped_packets() const { return m_dropped; }

private:
    void set_defaults();
    void clear_output();
    void respond(u8 byte);
    void command(u8 byte);
    void parameter(u8 byte);
    // One packet of the given counts (already in PS/2 orientation), with
    // the overflow bits for counts past 9 bits; false if it did not fit.
    bool queue_packet(int dx, int dy, int dz);
    std::size_t packet_size() const { return m_id == 3 ? 4 : 3; }

    std::array<u8, QUEUE_DEPTH> m_queue{};
    u16 m_count{0};
    bool m_reporting{false};
    bool m_remote{false};
    bool m_wrap{false};
    bool m_scaling21{false};
    u8 m_rate{100};
    u8 m_resolution{2};
    u8 m_id{0};
    u8 m_expect{0};                   // F3 or E8 waiting for its parameter, or 0
    std::array<u8, 3> m_last_rates{}; // the last three sample rates set, newest last
    u8 m_buttons{0};                  // held now
    // Remote mode: motion since the last read (PS/2 orientation).
    i32 m_acc_dx{0};
    i32 m_acc_dy{0};
    i32 m_acc_dz{0};
    u8 m_last_sent{0};
    u64 m_dropped{0};
};

} // namespace vsa
