// SPDX-License-Identifier: GPL-2.0-or-later
// APM power-off port. See apm_shutdown_port.h.
#include "hw/apm_shutdown_port.h"

namespace vsa {

void ApmShutdownPort::io_write(u16 offset, Width width, u32 value) {
    if (offset != 0 || width != Width::Byte) {
        count_ignored();
        return;
    }
    char c = static_cast<char>(value & 0xFF);
    if (c == MAGIC[m_matched]) {
        if (++m_matched < MAGIC.size()) return;
        m_matched = 0;
        if (m_power_off) m_power_off();
        return;
    }
    // "SShutdown" must still match: a mismatching 'S' starts over at 1.
    m_matched = c == MAGIC[0] ? 1 : 0;
}

void ApmShutdownPort::visit_state(StateVisitor& v) {
    v.section("apm_shutdown_port", 1);
    u8 matched = m_matched;
    v.field("matched", matched);
    if (!v.is_loading() || !v.ok()) return;
    if (matched >= MAGIC.size()) return v.fail("apm_shutdown_port: match position past the string");
    m_matched = matched;
}

} // namespace vsa
