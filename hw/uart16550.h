// SPDX-License-Identifier: GPL-2.0-or-later
// National Semiconductor PC16550D UART with FIFOs (the "16550A" every PC
// COM port emulates). Reference: PC16550D datasheet (June 1995), sections
// 8.1-8.10 (registers), Table II (interrupt control), 8.4 (FIFO interrupt
// mode operation, character timeout).
//
// The machine maps 8 byte-wide ports at the port's base (COM1 0x3F8 with
// IRQ4, COM2 0x2F8 with IRQ3); offsets 0-7 are the registers below. Wider
// cycles are split into bytes by the bus (map with WIDTH_8); a wider cycle
// that reaches the device anyway is ignored and counted.
//
// Timing runs on virtual time: a byte written to THR moves into the
// transmit shift register and leaves one character time later (start +
// data + parity + stop bits at the programmed divisor, 1.8432 MHz clock),
// so a guest polling LSR sees THRE/TEMT as on hardware. Output is never
// lost: a guest that writes past a full FIFO makes the byte on the wire
// leave at once instead of being overwritten, and reset() flushes what is
// still queued to the backend.
//
// Receive: the host side delivers bytes with receive() (or pull_input(),
// which asks the CharBackend) and gets back how many fit in the RX FIFO, so
// it retries the rest later; host input therefore never overruns. Overrun
// (LSR.OE) happens only in loopback, where the guest feeds its own
// receiver. The FIFO character timeout (4 character times) runs on a Timer.
//
// The IRQ line is the INTRPT pin gated by MCR.OUT2, as on a PC, where OUT2
// enables the IRQ driver; in loopback the datasheet forces the OUT pins
// inactive, so a PC sees no IRQ in loopback.
//
// Deliberately left out: parity and framing errors (the host side has no
// notion of them; LSR.PE/FE stay 0), the DMA mode signals (FCR bit 3 is
// stored, RXRDY/TXRDY are not wired on a PC), break generation via LCR
// bit 6 (stored; the host sees no break), the one-character delay of the
// first THRE interrupt after the TX FIFO was filled (8.4, note), and
// received bytes pacing at the baud rate (input arrives as fast as the FIFO
// takes it).
#pragma once

#include "hw/char_backend.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/device.h"
#include "hypervisor/io/irq.h"

#include <cstddef>
#include <deque>
#include <span>

namespace vsa {

class Uart16550 final : public Device {
public:
    // Register offsets from the base port (DLAB = LCR bit 7 selects the
    // divisor latch at offsets 0 and 1).
    static constexpr u16 RBR_THR = 0; // DLL when DLAB
    static constexpr u16 IER = 1;     // DLM when DLAB
    static constexpr u16 IIR_FCR = 2;
    static constexpr u16 LCR = 3;
    static constexpr u16 MCR = 4;
    static constexpr u16 LSR = 5;
    static constexpr u16 MSR = 6;
    static constexpr u16 SCR = 7;
    static constexpr u16 PORT_COUNT = 8;

    static constexpr u8 IER_RDA = 0x01;
    static constexpr u8 IER_THRE = 0x02;
    static constexpr u8 IER_RLS = 0x04;
    static constexpr u8 IER_MSI = 0x08;

    static constexpr u8 IIR_NONE = 0x01;
    static constexpr u8 IIR_MSI = 0x00;
    static constexpr u8 IIR_THRE = 0x02;
    static constexpr u8 IIR_RDA = 0x04;
    static constexpr u8 IIR_RLS = 0x06;
    static constexpr u8 IIR_TIMEOUT = 0x0C;
    static constexpr u8 IIR_FIFO_ENABLED = 0xC0;

    static constexpr u8 FCR_ENABLE = 0x01;
    static constexpr u8 FCR_RX_RESET = 0x02;
    static constexpr u8 FCR_TX_RESET = 0x04;
    static constexpr u8 FCR_DMA_MODE = 0x08;
    static constexpr u8 FCR_TRIGGER_MASK = 0xC0;

    static constexpr u8 LCR_DLAB = 0x80;
    static constexpr u8 LCR_BREAK = 0x40;

    static constexpr u8 MCR_DTR = 0x01;
    static constexpr u8 MCR_RTS = 0x02;
    static constexpr u8 MCR_OUT1 = 0x04;
    static constexpr u8 MCR_OUT2 = 0x08;
    static constexpr u8 MCR_LOOP = 0x10;

    static constexpr u8 LSR_DR = 0x01;
    static constexpr u8 LSR_OE = 0x02;
    static constexpr u8 LSR_PE = 0x04;
    static constexpr u8 LSR_FE = 0x08;
    static constexpr u8 LSR_BI = 0x10;
    static constexpr u8 LSR_THRE = 0x20;
    static constexpr u8 LSR_TEMT = 0x40;
    static constexpr u8 LSR_FIFO_ERROR = 0x80;

    static constexpr u8 MSR_DCTS = 0x01;
    static constexpr u8 MSR_DDSR = 0x02;
    static constexpr u8 MSR_TERI = 0x04;
    static constexpr u8 MSR_DDCD = 0x08;
    static constexpr u8 MSR_CTS = 0x10;
    static constexpr u8 MSR_DSR = 0x20;
    static constexpr u8 MSR_RI = 0x40;
    static constexpr u8 MSR_DCD = 0x80;

    static constexpr std::size_t FIFO_DEPTH = 16;
    static constexpr u32 INPUT_CLOCK_HZ = 1'843'200;

    Uart16550(IrqLine& irq, Clock& clock, CharBackend& backend);

    std::string_view name() const override { return "uart16550"; }
    void reset() override;
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    // Host side, VM thread only. Puts as many of `bytes` into the receiver
    // as it has room for and returns that count; the caller keeps the rest.
    // Returns 0 in loopback mode (the serial input is disconnected).
    std::size_t receive(std::span<u8 const> bytes);
    // Offers the backend's pending input to receive() and consumes what was
    // taken. The UART calls it itself whenever the guest makes room; the
    // machine calls it when the backend signals new input.
    void pull_input();
    // A break condition on the line: a zero byte flagged with LSR.BI.
    // Returns false if the receiver had no room (retry later).
    bool receive_break();
    // The modem status inputs from the far end (MSR bits 4-7: CTS, DSR, RI,
    // DCD). Changes set the MSR delta bits as on hardware.
    void set_modem_inputs(u8 msr_status_bits);
    // Sends every byte still queued for transmission to the backend now
    // (power-off, reset: output is never lost).
    void flush_output();

    // Introspection for the machine, tests and debug output.
    bool irq_level() const { return m_irq_level; }
    std::size_t rx_space() const;
    u16 divisor() const { return m_divisor; }
    u64 char_time_ns() const;
    u8 mcr() const { return m_mcr; }
    u64 tx_overruns() const { return m_tx_overruns; }

private:
    bool fifo_enabled() const { return (m_fcr & FCR_ENABLE) != 0; }
    bool loopback() const { return (m_mcr & MCR_LOOP) != 0; }
    std::size_t rx_capacity() const { return fifo_enabled() ? FIFO_DEPTH : 1; }
    std::size_t tx_capacity() const { return fifo_enabled() ? FIFO_DEPTH : 1; }
    unsigned rx_trigger() const;
    u8 interrupt_id() const;
    u8 line_status() const;
    u8 modem_inputs() const;
    void update_irq();

    u8 read_rbr();
    u8 read_iir();
    u8 read_lsr();
    u8 read_msr();
    void write_thr(u8 value);
    void write_ier(u8 value);
    void write_fcr(u8 value);
    void write_mcr(u8 value);

    // Receiver: one byte into the FIFO (or RBR), `flag_break` marks a break.
    bool push_rx(u8 byte, bool flag_break);
    void loop_back(u8 byte);
    void restart_timeout();
    void on_timeout();
    void reveal_top_error();
    void clear_rx();

    // Transmitter: start shifting the next byte if the shift register is
    // free; on_char_sent() fires at the end of its character time.
    void start_next_char();
    void on_char_sent();
    void modem_inputs_changed(u8 before, u8 after);

    IrqLine& m_irq;
    Clock& m_clock;
    CharBackend& m_backend;
    Timer m_tx_timer;
    Timer m_timeout_timer;

    u8 m_ier{0};
    u8 m_lcr{0};
    u8 m_mcr{0};
    u8 m_fcr{0};
    u8 m_scr{0};
    u16 m_divisor{12};
    u8 m_lsr_errors{0}; // sticky OE/PE/FE/BI, cleared by reading LSR
    u8 m_msr_deltas{0}; // MSR bits 0-3, cleared by reading MSR
    u8 m_modem_in{MSR_CTS | MSR_DSR | MSR_DCD};
    u8 m_last_rbr{0};
    std::deque<u8> m_rx;
    std::deque<u8> m_rx_break; // 1 per RX byte that arrived as a break
    std::deque<u8> m_tx;
    u8 m_tsr{0};
    bool m_tsr_busy{false};
    bool m_thre_pending{false};
    bool m_timeout_pending{false};

    bool m_irq_level{false};
    u64 m_tx_overruns{0};
};

} // namespace vsa
