// SPDX-License-Identifier: GPL-2.0-or-later
// System Control Port A. See port92.h.
#include "hw/port92.h"

namespace vsa {

Port92::Port92(std::function<void(bool)> set_a20, std::function<void()> request_reset)
    : m_set_a20(std::move(set_a20)), m_request_reset(std::move(request_reset)) {
    reset();
}

void Port92::reset() {
    // PIIX default: 0 (A20 through this port off, so the 8042 decides).
    // No callback: the machine reads a20() when it resets the memory map.
    m_value = 0;
}

u32 Port92::io_read(u16 offset, Width width) {
    if (offset != 0 || width != Width::Byte) {
        count_ignored();
        return width_mask(width);
    }
    return m_value;
}

void Port92::io_write(u16 offset, Width width, u32 value) {
    if (offset != 0 || width != Width::Byte) {
        count_ignored();
        return;
    }
    u8 old = m_value;
    m_value = static_cast<u8>(value);
    if (((old ^ m_value) & A20) && m_set_a20) m_set_a20(a20());
    // Only the rising edge resets: writing the value back with bit 0 still
    // set (a read-modify-write of the A20 bit) must not reboot.
    if (!(old & FAST_RESET) && (m_value & FAST_RESET) && m_request_reset) m_request_reset();
}

void Port92::visit_state(StateVisitor& v) {
    v.section("port92", 1);
    v.field("value", m_value);
}

void Port92::post_load() {
    if (m_set_a20) m_set_a20(a20());
}

} // namespace vsa
