// SPDX-License-Identifier: GPL-2.0-or-later
// PC16550D UART. See uart16550.h for the datasheet references and what is
// left out.
#include "hw/uart16550.h"

#include <algorithm>
#include <array>

namespace vsa {

namespace {
constexpr u8 LSR_ERROR_BITS = Uart16550::LSR_OE | Uart16550::LSR_PE | Uart16550::LSR_FE | Uart16550::LSR_BI;
// The character timeout is "4 continuous character times" (8.4).
constexpr u64 TIMEOUT_CHARS = 4;
} // namespace

Uart16550::Uart16550(IrqLine& irq, Clock& clock, CharBackend& backend)
    : m_irq(irq), m_clock(clock), m_backend(backend), m_tx_timer(clock, [this] { on_char_sent(); }),
      m_timeout_timer(clock, [this] { on_timeout(); }) {
    reset();
}

void Uart16550::reset() {
    // Bytes the guest wrote before a reset still reach the host: a guest's
    // last words before it reboots are the ones worth reading.
    flush_output();
    m_tx_timer.cancel();
    m_timeout_timer.cancel();
    // Master reset (datasheet Table IV): IER, FCR, LCR, MCR and the MSR
    // deltas clear; LSR reads 0x60. The divisor latch and SCR are not
    // touched by MR on the chip; at power-on they are undefined, and 12
    // (9600 baud, what BIOSes program) keeps runs deterministic.
    m_ier = 0;
    m_lcr = 0;
    m_mcr = 0;
    m_fcr = 0;
    m_scr = 0;
    m_divisor = 12;
    m_lsr_errors = 0;
    m_msr_deltas = 0;
    m_last_rbr = 0;
    m_rx.clear();
    m_rx_break.clear();
    m_tx.clear();
    m_tsr = 0;
    m_tsr_busy = false;
    m_thre_pending = false;
    m_timeout_pending = false;
    update_irq();
}

u64 Uart16550::char_time_ns() const {
    // Counted in half bits because 5-bit words with two stop bits use 1.5.
    unsigned data_bits = 5 + (m_lcr & 0x03);
    unsigned half_bits = 2 * (1 + data_bits + ((m_lcr & 0x08) ? 1 : 0));
    if (m_lcr & 0x04)
        half_bits += data_bits == 5 ? 3 : 4;
    else
        half_bits += 2;
    // The divisor feeds a 16-bit down counter: 0 counts a full 65536.
    u64 divisor = m_divisor ? m_divisor : 65536;
    // One bit is 16 * divisor input clocks.
    return u64(half_bits) * divisor * 8 * 1'000'000'000ull / INPUT_CLOCK_HZ;
}

unsigned Uart16550::rx_trigger() const {
    switch (m_fcr & FCR_TRIGGER_MASK) {
    case 0x00:
        return 1;
    case 0x40:
        return 4;
    case 0x80:
        return 8;
    default:
        return 14;
    }
}

std::size_t Uart16550::rx_space() const {
    return m_rx.size() >= rx_capacity() ? 0 : rx_capacity() - m_rx.size();
}

// Interrupt priorities, highest first (datasheet Table II).
u8 Uart16550::interrupt_id() const {
    if ((m_ier & IER_RLS) && (m_lsr_errors & LSR_ERROR_BITS)) return IIR_RLS;
    if (m_ier & IER_RDA) {
        bool at_trigger = fifo_enabled() ? m_rx.size() >= rx_trigger() : !m_rx.empty();
        if (at_trigger) return IIR_RDA;
        if (m_timeout_pending) return IIR_TIMEOUT;
    }
    if ((m_ier & IER_THRE) && m_thre_pending) return IIR_THRE;
    if ((m_ier & IER_MSI) && (m_msr_deltas & 0x0F)) return IIR_MSI;
    return IIR_NONE;
}

u8 Uart16550::line_status() const {
    u8 lsr = m_lsr_errors;
    if (!m_rx.empty()) lsr |= LSR_DR;
    if (m_tx.empty()) {
        lsr |= LSR_THRE;
        if (!m_tsr_busy) lsr |= LSR_TEMT;
    }
    if (fifo_enabled() && std::find(m_rx_break.begin(), m_rx_break.end(), 1) != m_rx_break.end())
        lsr |= LSR_FIFO_ERROR;
    return lsr;
}

u8 Uart16550::modem_inputs() const {
    if (!loopback()) return m_modem_in;
    // Loopback wires the modem outputs to the inputs (8.6, MCR bit 4).
    u8 in = 0;
    if (m_mcr & MCR_DTR) in |= MSR_DSR;
    if (m_mcr & MCR_RTS) in |= MSR_CTS;
    if (m_mcr & MCR_OUT1) in |= MSR_RI;
    if (m_mcr & MCR_OUT2) in |= MSR_DCD;
    return in;
}

void Uart16550::modem_inputs_changed(u8 before, u8 after) {
    u8 changed = before ^ after;
    if (changed & MSR_CTS) m_msr_deltas |= MSR_DCTS;
    if (changed & MSR_DSR) m_msr_deltas |= MSR_DDSR;
    if (changed & MSR_DCD) m_msr_deltas |= MSR_DDCD;
    // TERI: only the trailing edge (RI going inactive) counts.
    if ((before & MSR_RI) && !(after & MSR_RI)) m_msr_deltas |= MSR_TERI;
}

void Uart16550::update_irq() {
    // INTRPT gated by OUT2; in loopback the OUT2 pin is forced inactive.
    bool pin = interrupt_id() != IIR_NONE;
    m_irq_level = pin && (m_mcr & MCR_OUT2) && !loopback();
    m_irq.set_level(m_irq_level);
}

u32 Uart16550::io_read(u16 offset, Width width) {
    if (width != Width::Byte || offset >= PORT_COUNT) {
        count_ignored();
        return width_mask(width);
    }
    bool dlab = (m_lcr & LCR_DLAB) != 0;
    switch (offset) {
    case RBR_THR:
        return dlab ? u8(m_divisor & 0xFF) : read_rbr();
    case IER:
        return dlab ? u8(m_divisor >> 8) : m_ier;
    case IIR_FCR:
        return read_iir();
    case LCR:
        return m_lcr;
    case MCR:
        return m_mcr;
    case LSR:
        return read_lsr();
    case MSR:
        return read_msr();
    default:
        return m_scr;
    }
}

void Uart16550::io_write(u16 offset, Width width, u32 value) {
    if (width != Width::Byte || offset >= PORT_COUNT) {
        count_ignored();
        return;
    }
    u8 byte = static_cast<u8>(value);
    bool dlab = (m_lcr & LCR_DLAB) != 0;
    switch (offset) {
    case RBR_THR:
        if (dlab)
            m_divisor = u16((m_divisor & 0xFF00) | byte);
        else
            write_thr(byte);
        break;
    case IER:
        if (dlab)
            m_divisor = u16((m_divisor & 0x00FF) | (byte << 8));
        else
            write_ier(byte);
        break;
    case IIR_FCR:
        write_fcr(byte);
        break;
    case LCR:
        // A character already shifting keeps its timing; the new format
        // applies from the next one, as on the chip.
        m_lcr = byte;
        break;
    case MCR:
        write_mcr(byte);
        break;
    case LSR:
        // LSR is read-only on a PC's 16550 (writes are a factory test
        // mode). Ignore, count.
        count_ignored();
        break;
    case MSR:
        count_ignored();
        break;
    default:
        m_scr = byte;
        break;
    }
}

u8 Uart16550::read_rbr() {
    if (m_rx.empty()) return m_last_rbr; // the holding register keeps its last byte
    m_last_rbr = m_rx.front();
    m_rx.pop_front();
    m_rx_break.pop_front();
    reveal_top_error();
    // A CPU read restarts the character timeout and clears its interrupt.
    m_timeout_pending = false;
    restart_timeout();
    update_irq();
    pull_input();
    return m_last_rbr;
}

u8 Uart16550::read_iir() {
    u8 id = interrupt_id();
    // Reading IIR while it reports THRE acknowledges that interrupt (8.6).
    if (id == IIR_THRE) {
        m_thre_pending = false;
        update_irq();
    }
    return u8(id | (fifo_enabled() ? IIR_FIFO_ENABLED : 0));
}

u8 Uart16550::read_lsr() {
    u8 lsr = line_status();
    m_lsr_errors = 0;
    update_irq();
    return lsr;
}

u8 Uart16550::read_msr() {
    u8 msr = u8(modem_inputs() | m_msr_deltas);
    m_msr_deltas = 0;
    update_irq();
    return msr;
}

void Uart16550::write_thr(u8 value) {
    m_thre_pending = false;
    if (m_tx.size() >= tx_capacity()) {
        // The guest wrote past a full FIFO without checking THRE. The chip
        // would overwrite a byte; we send the one on the wire now instead,
        // so the host sees every byte the guest wrote.
        ++m_tx_overruns;
        if (m_tsr_busy) {
            m_tx_timer.cancel();
            on_char_sent();
        }
    }
    if (m_tx.size() >= tx_capacity()) {
        // Still full: the shift register was idle (a loaded state); push
        // the head straight out.
        m_backend.write(m_tx.front());
        m_tx.pop_front();
    }
    m_tx.push_back(value);
    // THR holds a byte now, whatever making room above did to THRE; if the
    // shifter is free the byte moves on at once and THRE is back.
    m_thre_pending = false;
    start_next_char();
    update_irq();
}

void Uart16550::write_ier(u8 value) {
    u8 before = m_ier;
    m_ier = value & 0x0F;
    // Enabling the THRE interrupt while THR is empty raises it at once:
    // drivers (Linux 8250, Windows serial.sys) kick transmission this way.
    if (!(before & IER_THRE) && (m_ier & IER_THRE) && m_tx.empty()) m_thre_pending = true;
    update_irq();
}

void Uart16550::write_fcr(u8 value) {
    bool was_enabled = fifo_enabled();
    bool enable = (value & FCR_ENABLE) != 0;
    if (was_enabled != enable) {
        // Changing FCR0 clears both FIFOs (8.5).
        clear_rx();
        m_tx.clear();
        m_thre_pending = true;
    }
    if (!enable) {
        // "FCR0 must be 1 when other FCR bits are written to or they will
        // not be programmed."
        m_fcr = 0;
        update_irq();
        pull_input();
        return;
    }
    m_fcr = value & (FCR_ENABLE | FCR_DMA_MODE | FCR_TRIGGER_MASK);
    if (value & FCR_RX_RESET) clear_rx();
    if (value & FCR_TX_RESET) {
        // The shift register keeps the byte it is sending.
        m_tx.clear();
        m_thre_pending = true;
    }
    update_irq();
    pull_input();
}

void Uart16550::write_mcr(u8 value) {
    u8 before_in = modem_inputs();
    bool was_loop = loopback();
    m_mcr = value & 0x1F;
    modem_inputs_changed(before_in, modem_inputs());
    update_irq();
    if (was_loop && !loopback()) pull_input();
}

void Uart16550::clear_rx() {
    m_rx.clear();
    m_rx_break.clear();
    m_timeout_pending = false;
    m_timeout_timer.cancel();
}

void Uart16550::reveal_top_error() {
    // A break is reported when its character reaches the top of the FIFO.
    if (!m_rx_break.empty() && m_rx_break.front()) m_lsr_errors |= LSR_BI;
}

bool Uart16550::push_rx(u8 byte, bool flag_break) {
    if (m_rx.size() >= rx_capacity()) {
        // Overrun (8.6, LSR bit 1): in FIFO mode the FIFO keeps its bytes
        // and the new character is lost; without FIFO it overwrites RBR.
        m_lsr_errors |= LSR_OE;
        if (!fifo_enabled() && !m_rx.empty()) {
            m_rx.back() = byte;
            m_rx_break.back() = flag_break ? 1 : 0;
        }
        return false;
    }
    m_rx.push_back(byte);
    m_rx_break.push_back(flag_break ? 1 : 0);
    if (m_rx.size() == 1) reveal_top_error();
    return true;
}

void Uart16550::restart_timeout() {
    if (fifo_enabled() && !m_rx.empty())
        m_timeout_timer.arm_after(TIMEOUT_CHARS * char_time_ns());
    else
        m_timeout_timer.cancel();
}

void Uart16550::on_timeout() {
    if (fifo_enabled() && !m_rx.empty()) m_timeout_pending = true;
    update_irq();
}

std::size_t Uart16550::receive(std::span<u8 const> bytes) {
    if (loopback()) return 0;
    std::size_t taken = std::min(bytes.size(), rx_space());
    for (std::size_t i = 0; i < taken; ++i)
        push_rx(bytes[i], false);
    if (taken) {
        // A new character restarts the timeout; a pending timeout stays
        // until the CPU reads (8.4).
        restart_timeout();
        update_irq();
    }
    return taken;
}

void Uart16550::pull_input() {
    if (loopback() || rx_space() == 0) return;
    auto pending = m_backend.pending_input();
    if (pending.empty()) return;
    m_backend.consume_input(receive(pending));
}

bool Uart16550::receive_break() {
    if (loopback() || rx_space() == 0) return false;
    push_rx(0, true);
    restart_timeout();
    update_irq();
    return true;
}

void Uart16550::set_modem_inputs(u8 msr_status_bits) {
    u8 before = modem_inputs();
    m_modem_in = msr_status_bits & 0xF0;
    modem_inputs_changed(before, modem_inputs());
    update_irq();
}

void Uart16550::loop_back(u8 byte) {
    push_rx(byte, false);
    restart_timeout();
}

void Uart16550::start_next_char() {
    if (m_tsr_busy || m_tx.empty()) return;
    m_tsr = m_tx.front();
    m_tx.pop_front();
    m_tsr_busy = true;
    m_tx_timer.arm_after(char_time_ns());
    // THR (or the TX FIFO) just became empty.
    if (m_tx.empty()) m_thre_pending = true;
}

void Uart16550::on_char_sent() {
    if (!m_tsr_busy) return;
    m_tsr_busy = false;
    // In loopback SOUT is held marking and the byte goes to our receiver.
    if (loopback())
        loop_back(m_tsr);
    else
        m_backend.write(m_tsr);
    start_next_char();
    update_irq();
}

void Uart16550::flush_output() {
    if (!loopback()) {
        if (m_tsr_busy) m_backend.write(m_tsr);
        for (u8 byte : m_tx)
            m_backend.write(byte);
    }
    m_tsr_busy = false;
    m_tx.clear();
    m_tx_timer.cancel();
}

void Uart16550::visit_state(StateVisitor& v) {
    v.section("uart16550", 1);
    v.field("ier", m_ier);
    v.field("lcr", m_lcr);
    v.field("mcr", m_mcr);
    v.field("fcr", m_fcr);
    v.field("scr", m_scr);
    v.field("divisor", m_divisor);
    v.field("lsr_errors", m_lsr_errors);
    v.field("msr_deltas", m_msr_deltas);
    v.field("modem_in", m_modem_in);
    v.field("last_rbr", m_last_rbr);
    // FIFOs are saved as fixed arrays plus counts (bytes past the count are
    // zero) and loaded into copies, so a rejected stream never leaves them
    // with mismatched lengths.
    std::array<u8, FIFO_DEPTH> rx{}, tx{};
    std::copy(m_rx.begin(), m_rx.end(), rx.begin());
    std::copy(m_tx.begin(), m_tx.end(), tx.begin());
    u8 rx_count = static_cast<u8>(m_rx.size());
    u8 tx_count = static_cast<u8>(m_tx.size());
    u16 rx_break = 0;
    for (std::size_t i = 0; i < m_rx_break.size(); ++i)
        if (m_rx_break[i]) rx_break = u16(rx_break | (1u << i));
    v.field("rx_count", rx_count);
    v.field("rx", rx);
    v.field("rx_break", rx_break);
    v.field("tx_count", tx_count);
    v.field("tx", tx);
    v.field("tsr", m_tsr);
    v.field("tsr_busy", m_tsr_busy);
    v.field("thre_pending", m_thre_pending);
    v.field("timeout_pending", m_timeout_pending);
    u64 tx_deadline = m_tx_timer.deadline();
    u64 timeout_deadline = m_timeout_timer.deadline();
    v.field("tx_deadline", tx_deadline);
    v.field("timeout_deadline", timeout_deadline);
    if (!v.is_loading() || !v.ok()) return;

    m_ier &= 0x0F;
    m_mcr &= 0x1F;
    m_fcr &= FCR_ENABLE | FCR_DMA_MODE | FCR_TRIGGER_MASK;
    m_modem_in &= 0xF0;
    m_msr_deltas &= 0x0F;
    m_lsr_errors &= LSR_ERROR_BITS;
    std::size_t depth = fifo_enabled() ? FIFO_DEPTH : 1;
    if (rx_count > depth || tx_count > depth)
        return v.fail("uart16550: FIFO contents do not match the FIFO mode");
    if (rx_break >> rx_count) return v.fail("uart16550: break flag beyond the received bytes");
    if (!m_tsr_busy && tx_count) return v.fail("uart16550: transmit FIFO holds bytes with the shifter idle");
    m_rx.assign(rx.begin(), rx.begin() + rx_count);
    m_rx_break.clear();
    for (unsigned i = 0; i < rx_count; ++i)
        m_rx_break.push_back((rx_break >> i) & 1);
    m_tx.assign(tx.begin(), tx.begin() + tx_count);
    m_tx_timer.arm_at(m_tsr_busy ? tx_deadline : Clock::NEVER);
    m_timeout_timer.arm_at(timeout_deadline);
}

void Uart16550::post_load() {
    // A busy shifter without a deadline (an edited stream) finishes one
    // character time from now rather than never.
    if (m_tsr_busy && !m_tx_timer.armed()) m_tx_timer.arm_after(char_time_ns());
    if (!m_tsr_busy) m_tx_timer.cancel();
    update_irq();
}

} // namespace vsa
