// SPDX-License-Identifier: GPL-2.0-or-later
// IBM PC/AT parallel printer adapter, SPP mode. See parallel_port.h for the
// references, the printer's handshake and what is left out.
#include "hw/parallel_port.h"

namespace vsa {

ParallelPort::ParallelPort(IrqLine& irq, Clock& clock, CharBackend& printer)
    : m_irq(irq), m_printer(printer), m_timer(clock, [this] { on_timer(); }) {
    reset();
}

void ParallelPort::reset() {
    m_timer.cancel();
    m_data = 0;
    m_control = CONTROL_RESET;
    m_phase = Phase::Idle;
    m_ack_unseen = false;
    m_irq.lower();
}

u32 ParallelPort::io_read(u16 offset, Width width) {
    if (width != Width::Byte || offset >= PORT_COUNT) {
        count_ignored();
        return width_mask(width);
    }
    switch (offset) {
    case DATA:
        return m_data;
    case STATUS:
        return read_status();
    default:
        return u8(CONTROL_READS_ONE | m_control);
    }
}

void ParallelPort::io_write(u16 offset, Width width, u32 value) {
    if (width != Width::Byte || offset >= PORT_COUNT) {
        count_ignored();
        return;
    }
    u8 byte = static_cast<u8>(value);
    switch (offset) {
    case DATA:
        m_data = byte;
        break;
    case STATUS:
        // Input lines from the printer: nothing to latch.
        count_ignored();
        break;
    default:
        write_control(byte);
        break;
    }
}

u8 ParallelPort::read_status() {
    u8 status = STATUS_SELECT | STATUS_NERROR;
    if (m_phase == Phase::Idle) status |= STATUS_NOT_BUSY;
    bool ack_low = m_phase == Phase::Ack || m_ack_unseen;
    if (!ack_low) status |= STATUS_NACK;
    m_ack_unseen = false;
    return status;
}

void ParallelPort::write_control(u8 value) {
    u8 before = m_control;
    m_control = value & CONTROL_WRITABLE;
    if (!(m_control & CONTROL_NINIT)) {
        // nINIT low: the printer resets and forgets the handshake it was
        // in (no acknowledge, no interrupt for the byte it was taking).
        m_timer.cancel();
        m_phase = Phase::Idle;
        m_ack_unseen = false;
    }
    if (!(before & CONTROL_STROBE) && (m_control & CONTROL_STROBE)) strobe();
}

void ParallelPort::strobe() {
    if (!(m_control & CONTROL_NINIT)) {
        count_ignored();
        return;
    }
    if (m_phase != Phase::Idle) ++m_strobes_while_busy;
    m_printer.write(m_data);
    ++m_bytes_printed;
    m_phase = Phase::Busy;
    m_ack_unseen = false;
    m_timer.arm_after(BUSY_NS);
}

void ParallelPort::on_timer() {
    switch (m_phase) {
    case Phase::Busy:
        m_phase = Phase::Ack;
        m_ack_unseen = true;
        m_timer.arm_after(ACK_NS);
        break;
    case Phase::Ack:
        // nACK rises and BUSY drops together; the adapter turns the rising
        // edge into IRQ 7 when the guest enabled it.
        m_phase = Phase::Idle;
        if (m_control & CONTROL_IRQ_ENABLE) m_irq.pulse();
        break;
    case Phase::Idle:
        break;
    }
}

void ParallelPort::visit_state(StateVisitor& v) {
    v.section("parallel-port", 1);
    v.field("data", m_data);
    v.field("control", m_control);
    u8 phase = static_cast<u8>(m_phase);
    v.field("phase", phase);
    v.field("ack_unseen", m_ack_unseen);
    u64 deadline = m_timer.deadline();
    v.field("deadline", deadline);
    if (!v.is_loading() || !v.ok()) return;
    if (phase > static_cast<u8>(Phase::Ack)) return v.fail("parallel-port: bad handshake phase");
    m_control &= CONTROL_WRITABLE;
    m_phase = static_cast<Phase>(phase);
    m_timer.arm_at(m_phase == Phase::Idle ? Clock::NEVER : deadline);
}

void ParallelPort::post_load() {
    // A handshake in flight without a deadline (an edited stream) finishes
    // its step from now rather than leaving the printer busy for ever.
    if (m_phase != Phase::Idle && !m_timer.armed())
        m_timer.arm_after(m_phase == Phase::Busy ? BUSY_NS : ACK_NS);
    if (m_phase == Phase::Idle) m_timer.cancel();
    m_irq.lower();
}

} // namespace vsa
