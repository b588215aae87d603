// SPDX-License-Identifier: GPL-2.0-or-later
// Port 0x61; see system_control_b.h.
#include "hw/system_control_b.h"

namespace vsa {

SystemControlB::SystemControlB(Pit8254& pit, Clock& clock) : m_pit(pit), m_clock(clock) {
    reset();
}

void SystemControlB::reset() {
    m_control = 0;
    m_pit.set_gate(2, false);
}

u32 SystemControlB::io_read(u16 offset, Width width) {
    if (offset != 0) return Device::io_read(offset, width);
    u8 value = m_control;
    if ((m_clock.now() / REFRESH_HALF_PERIOD_NS) & 1) value |= REFRESH_TOGGLE;
    if (m_pit.out(2)) value |= OUT2;
    return (width_mask(width) & ~0xFFu) | value;
}

void SystemControlB::io_write(u16 offset, Width width, u32 value) {
    if (offset != 0) return Device::io_write(offset, width, value);
    // Bits 4-7 are status; writes to them are ignored by the hardware, and
    // software routinely writes back what it read, so they are not counted.
    m_control = static_cast<u8>(value) & WRITABLE;
    m_pit.set_gate(2, m_control & GATE2);
}

void SystemControlB::visit_state(StateVisitor& v) {
    v.section("system_control_b", 1);
    u8 control = m_control;
    v.field("control", control);
    if (!v.is_loading()) return;
    if (control & ~WRITABLE) v.fail("system_control_b: reserved bits set");
    // The PIT saves its own gate; the two are restored from one machine
    // state, so nothing is re-driven here.
    if (v.ok()) m_control = control;
}

} // namespace vsa
