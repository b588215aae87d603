// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/io/clock.h"

#include <algorithm>

namespace vsa {

Clock::Clock(Mode mode) : m_mode(mode), m_origin(std::chrono::steady_clock::now()) {}

void Clock::set_instruction_counter(u64 const* counter, u32 ns_per_instruction) {
    // Keep now() continuous across the switch.
    u64 current = now();
    m_instructions = counter;
    m_ns_per_instruction = std::max<u32>(1, ns_per_instruction);
    u64 from_counter = counter ? *counter * m_ns_per_instruction : 0;
    m_offset_ns = current > from_counter ? current - from_counter : 0;
}

void Clock::attach(Timer* timer) {
    m_timers.push_back(timer);
}

void Clock::detach(Timer* timer) {
    std::erase(m_timers, timer);
}

u64 Clock::next_deadline() const {
    u64 next = NEVER;
    for (Timer const* t : m_timers)
        next = std::min(next, t->m_deadline);
    return next;
}

Clock::Deadlines Clock::next_deadlines() const {
    Deadlines d;
    for (Timer const* t : m_timers) {
        u64& slot = t->m_coalescable ? d.coalescable : d.precise;
        slot = std::min(slot, t->m_deadline);
    }
    return d;
}

unsigned Clock::run_expired() {
    unsigned fired = 0;
    // A callback may arm, cancel or even destroy timers: rescan after each.
    // Bounded so a timer re-armed in the past cannot spin forever here.
    for (unsigned round = 0; round < 1024; ++round) {
        u64 t = now();
        Timer* due = nullptr;
        for (Timer* timer : m_timers)
            if (timer->m_deadline <= t && (!due || timer->m_deadline < due->m_deadline)) due = timer;
        if (!due) break;
        due->m_deadline = NEVER;
        ++fired;
        due->m_callback();
    }
    return fired;
}

void Clock::advance(u64 ns) {
    u64 target = now() + ns;
    // Fire timers in order, each seeing now() equal to its own deadline.
    for (;;) {
        u64 next = next_deadline();
        if (next > target) break;
        if (next > now()) skip_to(next);
        run_expired();
    }
    skip_to(target);
}

void Clock::skip_to(u64 when) {
    if (m_mode == Mode::RealTime) return;
    u64 current = now();
    if (when > current) m_offset_ns += when - current;
}

void Clock::pause() {
    if (m_mode != Mode::RealTime || m_paused) return;
    m_paused_at = now();
    m_paused_steady = std::chrono::steady_clock::now();
    m_paused = true;
}

void Clock::resume() {
    if (m_mode != Mode::RealTime || !m_paused) return;
    // Time stood still while paused: move the origin by the gap.
    m_origin += std::chrono::steady_clock::now() - m_paused_steady;
    m_paused = false;
}

void Clock::set_now(u64 ns) {
    switch (m_mode) {
    case Mode::RealTime:
        // now() = offset + (steady now - origin): restart the origin here.
        // Paused, the origin is where resume() will count the gap from.
        m_offset_ns = ns;
        if (m_paused) {
            m_paused_at = ns;
            m_origin = m_paused_steady;
        } else {
            m_origin = std::chrono::steady_clock::now();
        }
        return;
    case Mode::Deterministic:
        // Unsigned wrap-around keeps offset + icount x ns exact even when
        // the counter's share is larger than `ns` (an edited stream).
        m_offset_ns = ns - (m_instructions ? *m_instructions * m_ns_per_instruction : 0);
        return;
    case Mode::Manual:
        m_offset_ns = ns;
        return;
    }
}

Timer::Timer(Clock& clock, std::function<void()> callback) : m_clock(clock), m_callback(std::move(callback)) {
    m_clock.attach(this);
}

Timer::~Timer() {
    m_clock.detach(this);
}

} // namespace vsa
