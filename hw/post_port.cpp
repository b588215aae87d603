// SPDX-License-Identifier: GPL-2.0-or-later
// POST code port. See post_port.h.
#include "hw/post_port.h"

#include <algorithm>

namespace vsa {

void PostPort::reset() {
    // A reset starts a new boot and the history shows only its codes; the
    // machine logs resets itself.
    m_last = 0;
    m_history.fill(0);
    m_count = 0;
}

u32 PostPort::io_read(u16 offset, Width width) {
    if (offset != 0 || width != Width::Byte) {
        count_ignored();
        return width_mask(width);
    }
    return m_last;
}

void PostPort::io_write(u16 offset, Width width, u32 value) {
    if (offset != 0 || width != Width::Byte) {
        count_ignored();
        return;
    }
    m_last = static_cast<u8>(value);
    if (m_count == HISTORY) {
        std::rotate(m_history.begin(), m_history.begin() + 1, m_history.end());
        m_history[HISTORY - 1] = m_last;
    } else {
        m_history[m_count++] = m_last;
    }
    if (m_listener) m_listener(m_last);
}

void PostPort::visit_state(StateVisitor& v) {
    v.section("post_port", 1);
    u8 last = m_last, count = m_count;
    auto history = m_history;
    v.field("last", last);
    v.field("count", count);
    v.field("history", history);
    if (!v.is_loading() || !v.ok()) return;
    if (count > HISTORY) return v.fail("post_port: history longer than its depth");
    for (std::size_t i = count; i < HISTORY; ++i)
        if (history[i]) return v.fail("post_port: codes past the end of the history");
    m_last = last;
    m_count = count;
    m_history = history;
}

} // namespace vsa
