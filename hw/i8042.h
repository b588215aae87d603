// SPDX-License-Identifier: GPL-2.0-or-later
// Intel 8042 keyboard controller as on PC/AT and PS/2 boards (the "KBC"):
// port 0x60 data and port 0x64 status/command. Port 0x61 in between belongs
// to the PIT/speaker, so the machine maps the two ports separately, 0x60
// with offset_base 0 and 0x64 with offset_base 4 (offsets DATA and STATUS),
// byte-wide. References: IBM PC/AT Technical Reference,
// "Keyboard Controller"; IBM PS/2 Hardware Interface Technical Reference,
// "Keyboard/Auxiliary Device Controller" (command list, status and
// command byte layout); the scan code translation table of the 8042
// firmware.
//
// Works: status register (OBF, SYS, A2, keylock, AUX OBF, timeout),
// command byte (0x20/0x60 and the rest of the 32-byte RAM via 0x21-0x3F /
// 0x61-0x7F), self-test 0xAA -> 0x55, interface tests 0xAB/0xA9 -> 0x00,
// keyboard interface disable/enable 0xAD/0xAE, aux disable/enable
// 0xA7/0xA8, input port 0xC0, output port 0xD0/0xD1 (bit 0 = system reset,
// bit 1 = A20 gate, both to callbacks), 0xD2/0xD3 (write keyboard/aux
// output buffer), 0xD4 (next byte to the aux device), test inputs 0xE0,
// A20 0xDD/0xDF, pulse output port 0xF0-0xFF (bit 0 low = reset), password
// check 0xA4 (no password). Set 2 -> set 1 translation (command byte bit 6)
// of every byte from the keyboard, as the real firmware does, which is why
// a translated identify reads AB 41. IRQ1 when a keyboard byte is in the
// output buffer, IRQ12 for an aux byte (levels; the PIC takes edges).
//
// The aux port (PS/2 mouse, issue 9) is "minimally present": the
// controller side works (A7/A8/A9, D3, command byte bits 1/5, IRQ12), but
// until a device is attached with attach_aux(), a byte sent with 0xD4 gets
// what a real controller reports for an empty port: 0xFE in the output
// buffer with the timeout and AUX OBF status bits set.
//
// Deliberately left out: controller timing (commands complete at once, so
// IBF is never seen set), parity errors, the password feature (A5/A6),
// vendor commands (AMI 0xA1 version, 0xCA/0xCB mode, 0xC1/0xC2 input port
// polling; ignored and counted), and the brief A20 pulse of 0xF0-0xFD
// with bit 1 clear.
#pragma once

#include "hypervisor/io/device.h"
#include "hypervisor/io/irq.h"

#include <array>
#include <cstddef>
#include <functional>

namespace vsa {

// Set 2 -> set 1 translation of one byte, as the 8042 applies it (without
// the F0 break prefix handling, which needs the previous byte).
u8 ps2_translate_set2_to_set1(u8 set2);

// A device on one of the 8042's PS/2 ports (keyboard, mouse). The
// controller writes bytes to it and takes its output one byte at a time
// when its own output buffer is free. The device tells the controller it
// has output by calling notify_output(); the controller may take the byte
// from inside that call.
class Ps2Device : public Device {
public:
    // One byte from the host (a command or a command's parameter).
    virtual void write(u8 byte) = 0;
    virtual bool output_pending() const = 0;
    // Only when output_pending().
    virtual u8 read_output() = 0;

    void set_output_listener(std::function<void()> listener) { m_listener = std::move(listener); }

protected:
    void notify_output() {
        if (m_listener) m_listener();
    }

private:
    std::function<void()> m_listener;
};

class I8042 final : public Device {
public:
    static constexpr u16 DATA = 0;   // port 0x60
    static constexpr u16 STATUS = 4; // port 0x64: read status, write command
    static constexpr u16 PORT_SPAN = 5;

    static constexpr u8 STATUS_OBF = 0x01;
    static constexpr u8 STATUS_IBF = 0x02;
    static constexpr u8 STATUS_SYS = 0x04;
    static constexpr u8 STATUS_A2 = 0x08; // last write was to the command port
    static constexpr u8 STATUS_UNLOCKED = 0x10;
    static constexpr u8 STATUS_AUX_OBF = 0x20;
    static constexpr u8 STATUS_TIMEOUT = 0x40;
    static constexpr u8 STATUS_PARITY = 0x80;

    static constexpr u8 CTR_KBD_INT = 0x01;
    static constexpr u8 CTR_AUX_INT = 0x02;
    static constexpr u8 CTR_SYS = 0x04;
    static constexpr u8 CTR_KBD_DISABLE = 0x10;
    static constexpr u8 CTR_AUX_DISABLE = 0x20;
    static constexpr u8 CTR_XLATE = 0x40;

    static constexpr u8 OUT_RESET = 0x01; // 0 holds the CPU in reset
    static constexpr u8 OUT_A20 = 0x02;
    static constexpr u8 OUT_KBD_OBF = 0x10;
    static constexpr u8 OUT_AUX_OBF = 0x20;

    // `set_a20` is called with the new gate state whenever the output port's
    // A20 bit changes; `request_reset` when the guest pulls the CPU reset
    // line. Both run inside the guest's port write: the machine should
    // only note the request and act at the next instruction boundary.
    I8042(IrqLine& kbd_irq, IrqLine& aux_irq, Ps2Device& keyboard, std::function<void(bool)> set_a20,
          std::function<void()> request_reset);

    // Plugs a device into the aux port (the mouse, issue 9).
    void attach_aux(Ps2Device& aux);

    std::string_view name() const override { return "i8042"; }
    void reset() override;
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    u8 status() const { return m_status; }
    u8 command_byte() const { return m_ram[0]; }
    u8 output_port() const { return m_output_port; }
    bool a20() const { return (m_output_port & OUT_A20) != 0; }

private:
    // Where an output buffer byte came from; AuxTimeout is the reply of an
    // empty aux port.
    enum class Source : u8 { Keyboard = 0, Aux = 1, AuxTimeout = 2 };

    u8 read_data();
    void write_data(u8 value);
    void write_command(u8 command);
    void write_output_port(u8 value);
    void set_command_byte(u8 value);
    // Queues a byte produced by the controller itself (command replies,
    // D2/D3), ahead of the devices' data.
    void reply(u8 byte, Source source = Source::Keyboard);
    // Fills the output buffer if it is free: controller replies first, then
    // the keyboard (translated), then the aux device.
    void refill();
    void load_output(u8 byte, Source source);
    void update_irqs();

    IrqLine& m_kbd_irq;
    IrqLine& m_aux_irq;
    Ps2Device& m_keyboard;
    Ps2Device* m_aux{nullptr};
    std::function<void(bool)> m_set_a20;
    std::function<void()> m_request_reset;

    u8 m_status{0};
    std::array<u8, 32> m_ram{}; // m_ram[0] is the command byte
    u8 m_output_port{0};
    u8 m_output_buffer{0};
    u8 m_pending_command{0};   // a command waiting for its data byte, or 0
    bool m_xlate_break{false}; // translation saw F0: OR 0x80 into the next byte
    // Replies waiting for the output buffer (a guest may issue several
    // commands before reading): a small fixed queue.
    static constexpr std::size_t MAX_REPLIES = 8;
    std::array<u8, MAX_REPLIES> m_replies{};
    std::array<u8, MAX_REPLIES> m_reply_sources{};
    u8 m_reply_count{0};
};

} // namespace vsa
