// SPDX-License-Identifier: GPL-2.0-or-later
// Clock: the machine's one notion of time, in nanoseconds since power-on.
// Every device schedules its work on Timers of this clock and reads now()
// from it; no device reads the host's wall clock.
//
// Three sources of time:
//   RealTime       host monotonic time (what a user's VM runs on).
//   Deterministic  time is executed instructions x ns_per_instruction, plus
//                  the idle time skipped while the CPU halts, so the same
//                  guest and inputs give the same run every time (boot
//                  tests, traces).
//   Manual         time moves only when a test calls advance(): device
//                  tests step it like QEMU's qtest clock_step.
//
// Timers fire from run_expired(), which the VM run loop calls between CPU
// slices (and advance() calls in Manual mode); a timer callback runs on the
// VM thread like any device code. Not thread-safe: the VM thread owns it.
#pragma once

#include "hypervisor/base/types.h"

#include <chrono>
#include <functional>
#include <limits>
#include <vector>

namespace vsa {

class Timer;

class Clock {
public:
    enum class Mode { RealTime, Deterministic, Manual };
    static constexpr u64 NEVER = std::numeric_limits<u64>::max();

    explicit Clock(Mode mode = Mode::Manual);
    Clock(Clock const&) = delete;
    Clock& operator=(Clock const&) = delete;

    Mode mode() const { return m_mode; }

    u64 now() const {
        switch (m_mode) {
        case Mode::RealTime:
            if (m_paused) return m_paused_at;
            return m_offset_ns + static_cast<u64>((std::chrono::steady_clock::now() - m_origin).count());
        case Mode::Deterministic:
            return m_offset_ns + (m_instructions ? *m_instructions * m_ns_per_instruction : 0);
        case Mode::Manual:
            break;
        }
        return m_offset_ns;
    }

    // Deterministic mode: the CPU's retired-instruction counter, read on
    // every now(), so a guest polling a timer port sees time move.
    void set_instruction_counter(u64 const* counter, u32 ns_per_instruction);
    u32 ns_per_instruction() const { return m_ns_per_instruction; }

    // Manual mode: move time forward and fire what is due, in deadline order.
    void advance(u64 ns);
    // Deterministic and Manual modes: jump to `when` (the next deadline
    // while the CPU halts). Never goes back.
    void skip_to(u64 when);
    // Fires every timer whose deadline has passed. Returns how many fired.
    unsigned run_expired();
    u64 next_deadline() const;
    // The earliest deadline of the timers that must fire on time, and of
    // the coalescable ones (Timer::set_coalescable): what the run loop
    // needs to let an idle guest's ticks come late together.
    struct Deadlines {
        u64 precise{NEVER};
        u64 coalescable{NEVER};
    };
    Deadlines next_deadlines() const;

    // Stops and restarts RealTime (a paused VM's time does not run).
    void pause();
    void resume();

    // Any mode: now() continues from `ns` (a restored saved state resumes
    // at the virtual time it was saved at). Time may move back; armed
    // timers keep their absolute deadlines, so the caller re-arms them
    // (device loads do). Deterministic mode reads the instruction counter
    // as it is now: set it (load the CPU) first.
    void set_now(u64 ns);

private:
    friend class Timer;
    void attach(Timer* timer);
    void detach(Timer* timer);

    Mode m_mode;
    std::chrono::steady_clock::time_point m_origin;
    u64 m_offset_ns{0};
    u64 m_paused_at{0};
    std::chrono::steady_clock::time_point m_paused_steady;
    bool m_paused{false};
    u64 const* m_instructions{nullptr};
    u32 m_ns_per_instruction{1};
    std::vector<Timer*> m_timers;
};

// A one-shot timer. arm_at() (re)schedules it; the callback may re-arm it.
// Destroying the timer cancels it.
class Timer {
public:
    Timer(Clock& clock, std::function<void()> callback);
    ~Timer();
    Timer(Timer const&) = delete;
    Timer& operator=(Timer const&) = delete;

    void arm_at(u64 deadline_ns) { m_deadline = deadline_ns; }
    void arm_after(u64 delay_ns) { m_deadline = m_clock.now() + delay_ns; }
    void cancel() { m_deadline = Clock::NEVER; }
    bool armed() const { return m_deadline != Clock::NEVER; }
    // A coalescable timer is a tick of the guest's own time base (PIT
    // channel 0, the RTC): a guest learns the time from its clock sources,
    // not from when a tick arrives, so while it idles the run loop may fire
    // it late (PcMachineConfig::idle_timer_slack_ns). Other timers are work
    // a guest waits on and always fire on time.
    void set_coalescable(bool coalescable) { m_coalescable = coalescable; }
    bool coalescable() const { return m_coalescable; }
    u64 deadline() const { return m_deadline; }
    Clock& clock() const { return m_clock; }

private:
    friend class Clock;
    Clock& m_clock;
    std::function<void()> m_callback;
    u64 m_deadline{Clock::NEVER};
    bool m_coalescable{false};
};

} // namespace vsa
