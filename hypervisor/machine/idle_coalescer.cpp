// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/machine/idle_coalescer.h"

#include <algorithm>

namespace vsa {

void IdleCoalescer::roll_window(u64 now) {
    if (!m_started || now < m_window_start) {
        // First halt, or time went back (a restored state): a new window,
        // decided from scratch.
        m_started = true;
        m_window_start = now;
        m_window_slept = 0;
        m_coalescing = false;
        m_idle_windows = 0;
        return;
    }
    u64 length = now - m_window_start;
    if (length < WINDOW_NS) return;
    // A guest busy for a while halts again: the long window holds little
    // sleep, so it is not idle.
    // In floating point: a window can be centuries of virtual time long.
    m_coalescing = m_slack != 0 && static_cast<double>(m_window_slept) * 100.0 >=
                                       static_cast<double>(length) * static_cast<double>(IDLE_PERCENT);
    m_idle_windows = m_coalescing ? std::min(m_idle_windows + 1, SETTLE_WINDOWS) : 0;
    m_window_start = now;
    m_window_slept = 0;
}

u64 IdleCoalescer::grid_ns() const {
    if (!m_coalescing) return 0;
    if (m_idle_windows >= SETTLE_WINDOWS) return m_slack;
    return std::max<u64>(1, m_slack / 2);
}

u64 IdleCoalescer::wake_time(u64 now, u64 precise, u64 coalescable) {
    roll_window(now);
    // A tick already due fires now.
    if (!m_coalescing || coalescable == NEVER || coalescable <= now) return std::min(precise, coalescable);
    // Rounded up to the slack grid, so ticks that fall due within one slack
    // period share a wakeup (and several idle guests wake together).
    u64 grid = grid_ns();
    u64 late = coalescable / grid * grid;
    if (late < coalescable) late = late > NEVER - grid ? NEVER : late + grid;
    return std::min(precise, late);
}

void IdleCoalescer::slept(u64 from, u64 to) {
    if (!m_started || to <= from) return;
    // Only what falls inside the current window counts.
    from = std::max(from, m_window_start);
    if (to > from) m_window_slept += to - from;
}

} // namespace vsa
