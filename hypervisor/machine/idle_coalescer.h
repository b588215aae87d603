// SPDX-License-Identifier: GPL-2.0-or-later
// IdleCoalescer: when a halted guest wakes up next.
//
// An idle guest still takes its timer tick: Debian's i686 kernel is built
// with a periodic 250 Hz tick, so an idle Linux guest wakes the VM thread
// 250 times a second. Each wakeup costs far more than the few thousand
// guest instructions of the tick, because the host's caches went cold
// while the thread slept: about 170 us, 4 % of a host core for a guest
// doing nothing (QEMU pays 3 % for the same guest).
//
// So while the guest idles, its ticks come late, together: the wakeup for
// a coalescable timer (Timer::set_coalescable: the PIT and the RTC, the
// guest's time base) is rounded up to the next multiple of the slack. A
// tickless or hrtimer guest reprograms its next tick from the current time
// and skips the missed ones; a periodic-tick guest gets the missed ticks
// replayed back to back (the PIT's backlog). Either way the guest keeps
// time from its clock sources, which follow the host's time exactly. Work
// the guest waits on (precise timers, device completions, a kick from
// another thread such as network or console input) is never delayed.
//
// "Idle" is measured, so a busy guest keeps exact timers: over each window
// of WINDOW_NS, the share of time the VM thread slept. At IDLE_PERCENT or
// more the next window coalesces, first on a grid of half the slack; a
// guest idle for SETTLE_WINDOWS windows in a row (a second) gets the whole
// slack. The half grid's points include the whole grid's, so guests in
// either phase still wake together. With Linux's 250 Hz tick the whole
// slack (32 ms by default) means about 31 wakeups a second, measured at
// 0.8 % of a host core against 1.4 % for 16 ms. Host operating systems do
// the same for idle processes (timer slack); Windows guests tick at 64 Hz
// anyway.
#pragma once

#include "hypervisor/base/types.h"

namespace vsa {

class IdleCoalescer {
public:
    static constexpr u64 WINDOW_NS = 250'000'000;
    static constexpr unsigned IDLE_PERCENT = 90;
    static constexpr unsigned SETTLE_WINDOWS = 4;
    static constexpr u64 NEVER = ~u64(0);

    // slack_ns: the most a tick may come late once the guest settled into
    // idling; 0: never coalesce.
    explicit IdleCoalescer(u64 slack_ns) : m_slack(slack_ns) {}

    // At a halt at `now` with the next precise and coalescable deadlines
    // (Clock::next_deadlines): when to wake up. NEVER if neither is set.
    u64 wake_time(u64 now, u64 precise, u64 coalescable);
    // The VM thread slept from `from` to `to` (times of the same clock).
    void slept(u64 from, u64 to);

    bool coalescing() const { return m_coalescing; }
    u64 slack_ns() const { return m_slack; }
    // The grid the next wakeups are rounded to (0 while not coalescing).
    u64 grid_ns() const;

private:
    void roll_window(u64 now);

    u64 m_slack;
    bool m_coalescing{false};
    bool m_started{false};
    u64 m_window_start{0};
    u64 m_window_slept{0};
    // Idle windows in a row, up to SETTLE_WINDOWS.
    unsigned m_idle_windows{0};
};

} // namespace vsa
