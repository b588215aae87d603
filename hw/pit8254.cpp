// SPDX-License-Identifier: GPL-2.0-or-later
// Intel 82C54 PIT; see pit8254.h for the model and what is left out.
#include "hw/pit8254.h"

#include <algorithm>

namespace vsa {

namespace {

using u128 = unsigned __int128;

constexpr u64 NS_PER_S = 1'000'000'000;
constexpr u32 BINARY_MODULUS = 0x10000;
constexpr u32 BCD_MODULUS = 10000;

// Control word fields (82C54 "Control Word Format").
constexpr u8 CW_SC_SHIFT = 6;
constexpr u8 CW_SC_READBACK = 3;
constexpr u8 CW_RW_LATCH = 0;
constexpr u8 RW_LSB = 1;
constexpr u8 RW_MSB = 2;
constexpr u8 RW_BOTH = 3;
// Read-back command bits.
constexpr u8 RB_NOT_COUNT = 0x20;
constexpr u8 RB_NOT_STATUS = 0x10;
// Status byte bits.
constexpr u8 STATUS_OUT = 0x80;
constexpr u8 STATUS_NULL_COUNT = 0x40;

u16 to_bcd(u32 v) {
    v %= BCD_MODULUS;
    return static_cast<u16>((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10));
}

} // namespace

u64 Pit8254::tick_at(u64 ns) {
    return static_cast<u64>(static_cast<u128>(ns) * INPUT_HZ / NS_PER_S);
}

u64 Pit8254::ns_of_tick(u64 tick) {
    // The first nanosecond at which tick_at() reaches `tick`.
    u128 ns = (static_cast<u128>(tick) * NS_PER_S + INPUT_HZ - 1) / INPUT_HZ;
    return ns >= Clock::NEVER ? Clock::NEVER - 1 : static_cast<u64>(ns);
}

u8 Pit8254::Counter::mode() const {
    // Modes 6 and 7 are 2 and 3 with a don't-care M2 bit.
    u8 m = (control >> 1) & 7;
    return m >= 6 ? static_cast<u8>(m - 4) : m;
}

Pit8254::Pit8254(IrqLine& irq0, Clock& clock)
    : m_irq0(irq0), m_clock(clock), m_irq0_timer(clock, [this] { on_irq0_timer(); }) {
    // The guest's tick: late transitions are replayed (periodic modes keep
    // their count in the tick backlog, a one-shot strobe is never lost), so
    // an idle guest's ticks may be coalesced.
    m_irq0_timer.set_coalescable(true);
    reset();
}

void Pit8254::reset() {
    // The 82C54 has no reset pin; power-on contents are undefined. We start
    // every counter waiting for a count in mode 0 (OUT low, no timer), which
    // is what the BIOS reprograms anyway.
    for (unsigned i = 0; i < CHANNELS; ++i) {
        m_counters[i] = Counter{};
        m_counters[i].gate = i != 2; // counter 2's gate is port 0x61 bit 0, low at reset
    }
    drive_irq0(now_tick(), true);
}

// A count register value as a count of clocks: 0 is the largest count
// (2^16 binary, 10^4 BCD).
u32 Pit8254::count_of(Counter const& c, u16 raw, bool* bad) {
    if (!c.bcd()) return raw ? raw : BINARY_MODULUS;
    u32 n = 0;
    for (int shift = 12; shift >= 0; shift -= 4) {
        u32 digit = (raw >> shift) & 0xF;
        if (digit > 9) {
            digit = 9;
            if (bad) *bad = true;
        }
        n = n * 10 + digit;
    }
    return n ? n : BCD_MODULUS;
}

Pit8254::Segment const& Pit8254::active(Counter const& c, u64 tick) {
    return c.pending && tick >= c.next.start ? c.next : c.seg;
}

u64 Pit8254::elapsed(Counter const& c, Segment const& s, u64 tick) {
    if (!c.counting || tick < s.start) return s.phase;
    return s.phase + (tick - s.start);
}

// The counting element as a binary number of clocks (before BCD encoding).
u32 Pit8254::raw_value(Counter const& c, u64 tick) {
    if (c.state != RUNNING) return c.idle_value;
    Segment const& s = active(c, tick);
    u64 e = elapsed(c, s, tick);
    u32 n = s.n;
    u32 modulus = c.bcd() ? BCD_MODULUS : BINARY_MODULUS;
    switch (c.mode()) {
    case 2:
        return n - static_cast<u32>(e % n);
    case 3: {
        // Decrements by two; odd counts load N-1 and spend one extra clock
        // in the high half (82C54 "Mode 3").
        u32 half = (n + 1) / 2;
        u32 p = static_cast<u32>(e % n);
        u32 q = p < half ? p : p - half;
        return (n & ~1u) - 2 * q;
    }
    default: // 0, 1, 4, 5: count down and wrap after terminal count
        return static_cast<u32>((n + modulus - e % modulus) % modulus);
    }
}

u16 Pit8254::register_value(Counter const& c, u64 tick) {
    u32 v = raw_value(c, tick);
    if (c.state != RUNNING) return static_cast<u16>(v); // already encoded
    return c.bcd() ? to_bcd(v) : static_cast<u16>(v);
}

bool Pit8254::out_at(Counter const& c, u64 tick) {
    u8 mode = c.mode();
    if (c.state == IDLE) return mode != 0; // mode 0 OUT goes low on the control word
    if (c.state == ARMED) return true;
    // Modes 2 and 3 force OUT high while GATE is low.
    if (!c.counting && (mode == 2 || mode == 3)) return true;
    Segment const& s = active(c, tick);
    u64 e = elapsed(c, s, tick);
    u32 n = s.n;
    switch (mode) {
    case 0:
    case 1:
        return e >= n;
    case 2:
        return e % n != n - 1;
    case 3:
        return e % n < (n + 1) / 2;
    default:
        return e != n; // 4, 5: one clock low at terminal count
    }
}

// The first clock edge after `tick` at which OUT changes, or NEVER.
u64 Pit8254::next_change(Counter const& c, u64 tick) {
    if (c.state != RUNNING || !c.counting) return Clock::NEVER;
    Segment const& s = active(c, tick);
    u64 e = elapsed(c, s, tick);
    u32 n = s.n;
    u64 e1 = Clock::NEVER;
    switch (c.mode()) {
    case 0:
    case 1:
        if (e < n) e1 = n;
        break;
    case 2:
        if (n > 1) e1 = e % n == n - 1 ? e + 1 : e + (n - 1 - e % n);
        break;
    case 3:
        if (n > 1) {
            u64 p = e % n, half = (n + 1) / 2;
            e1 = p < half ? e + (half - p) : e + (n - p);
        }
        break;
    default:
        if (e < n)
            e1 = n;
        else if (e == n)
            e1 = n + 1;
        break;
    }
    u64 when = Clock::NEVER;
    if (e1 != Clock::NEVER) {
        u64 base = std::max(tick, s.start);
        when = e1 - e > Clock::NEVER - base ? Clock::NEVER : base + (e1 - e);
    }
    // A pending reload may change the waveform: look again when it lands.
    if (c.pending && &s == &c.seg) when = std::min(when, c.next.start);
    if (when <= tick) when = tick + 1; // a corrupt state must not spin the clock
    return when;
}

u8 Pit8254::status_of(Counter const& c, u64 tick) {
    u8 status = c.control & 0x3F;
    if (out_at(c, tick)) status |= STATUS_OUT;
    if (tick < c.null_until) status |= STATUS_NULL_COUNT;
    return status;
}

void Pit8254::sync(Counter& c, u64 tick) {
    if (c.pending && tick >= c.next.start) {
        c.seg = c.next;
        c.pending = false;
    }
}

bool Pit8254::out(unsigned channel) const {
    if (channel >= CHANNELS) return false;
    return out_at(m_counters[channel], now_tick());
}

void Pit8254::set_gate(unsigned channel, bool high) {
    if (channel >= CHANNELS) return;
    Counter& c = m_counters[channel];
    u64 t = now_tick();
    if (channel == 0) catch_up_irq0(t);
    sync(c, t);
    if (c.gate == high) return;
    c.gate = high;
    u8 mode = c.mode();
    if (high) {
        switch (mode) {
        case 0:
        case 4:
            // Counting resumes from where it stopped.
            if (c.state == RUNNING && !c.counting) {
                c.seg.start = t;
                c.counting = true;
            }
            break;
        case 1:
        case 5:
        case 2:
        case 3:
            // A rising edge (re)triggers: the count register is loaded on the
            // next clock. Modes 1/5 wait for it; 2/3 restart the period.
            if (c.state != IDLE) {
                c.seg = Segment{count_of(c, c.cr, nullptr), t + 1, 0};
                c.state = RUNNING;
                c.counting = true;
                c.pending = false;
                c.null_until = std::min(c.null_until, t + 1);
            }
            break;
        }
    } else if (mode != 1 && mode != 5 && c.state == RUNNING && c.counting) {
        // Modes 0/4 suspend counting; 2/3 also force OUT high and reload on
        // the next rising edge (from the count register, so a waiting new
        // count is taken then).
        c.seg.phase = elapsed(c, c.seg, t);
        c.seg.start = t;
        c.counting = false;
        if (c.pending) {
            c.pending = false;
            c.null_until = Clock::NEVER;
        }
    }
    if (channel == 0) drive_irq0(t, false);
}

void Pit8254::write_control(u8 value) {
    u8 sc = value >> CW_SC_SHIFT;
    u64 t = now_tick();
    if (sc == CW_SC_READBACK) {
        for (unsigned i = 0; i < CHANNELS; ++i) {
            if (!(value & (2u << i))) continue;
            Counter& c = m_counters[i];
            sync(c, t);
            if (!(value & RB_NOT_COUNT) && !c.count_latched) {
                c.count_latched = true;
                c.latched_count = register_value(c, t);
            }
            if (!(value & RB_NOT_STATUS) && !c.status_latched) {
                c.status_latched = true;
                c.latched_status = status_of(c, t);
            }
        }
        return;
    }
    Counter& c = m_counters[sc];
    bool latch = ((value >> 4) & 3) == CW_RW_LATCH;
    if (sc == 0 && !latch) catch_up_irq0(t);
    sync(c, t);
    if (latch) {
        // Counter latch command; a second latch before the read is ignored.
        if (!c.count_latched) {
            c.count_latched = true;
            c.latched_count = register_value(c, t);
        }
        return;
    }
    // A control word resets the counter's logic: the counting element
    // stops (its contents stay readable) until a count is written.
    c.idle_value = register_value(c, t);
    c.control = value & 0x3F;
    c.state = IDLE;
    c.counting = false;
    c.pending = false;
    c.write_msb = false;
    c.read_msb = false;
    c.null_until = Clock::NEVER;
    if (sc == 0) drive_irq0(t, false);
}

void Pit8254::write_count(unsigned channel, u8 value) {
    Counter& c = m_counters[channel];
    u64 t = now_tick();
    if (channel == 0) catch_up_irq0(t);
    sync(c, t);
    switch (c.rw()) {
    case RW_LSB:
        c.cr = value;
        break;
    case RW_MSB:
        c.cr = static_cast<u16>(value << 8);
        break;
    default:
        if (!c.write_msb) {
            c.write_lsb = value;
            c.write_msb = true;
            // Mode 0: the first byte of a two-byte count stops counting and
            // drops OUT at once (82C54 "Mode 0").
            if (c.mode() == 0 && c.state == RUNNING) {
                c.idle_value = register_value(c, t);
                c.state = IDLE;
                c.counting = false;
                if (channel == 0) drive_irq0(t, false);
            }
            return;
        }
        c.write_msb = false;
        c.cr = static_cast<u16>(c.write_lsb | value << 8);
        break;
    }
    load_count(c, t);
    if (channel == 0) drive_irq0(t, false);
}

void Pit8254::load_count(Counter& c, u64 t) {
    bool bad = false;
    u32 n = count_of(c, c.cr, &bad);
    if (bad) count_ignored();
    switch (c.mode()) {
    case 0:
    case 4:
        // Loaded on the next clock; counting continues from the new count.
        c.seg = Segment{n, t + 1, 0};
        c.state = RUNNING;
        c.counting = c.gate;
        c.pending = false;
        c.null_until = t + 1;
        break;
    case 1:
    case 5:
        // Waits for a GATE trigger; a running one-shot is not disturbed.
        if (c.state == IDLE) c.state = ARMED;
        c.null_until = Clock::NEVER;
        break;
    default: // 2, 3
        if (c.state == RUNNING && c.counting && t >= c.seg.start) {
            // Mode 2: the current period ends first; mode 3: the current
            // half cycle does (82C54 "Mode 2", "Mode 3").
            u64 e = elapsed(c, c.seg, t);
            u32 old = c.seg.n;
            u64 p = e % old;
            Segment next{n, 0, 0};
            if (c.mode() == 2) {
                next.start = t + (old - p);
            } else {
                u64 half = (old + 1) / 2;
                if (p < half) {
                    next.start = t + (half - p);
                    next.phase = (n + 1) / 2; // starts in the low half
                } else {
                    next.start = t + (old - p);
                }
            }
            c.next = next;
            c.pending = true;
            c.null_until = next.start;
        } else if (c.state == RUNNING && !c.counting) {
            // GATE low: loaded on its next rising edge.
            c.null_until = Clock::NEVER;
        } else {
            c.seg = Segment{n, t + 1, 0};
            c.state = RUNNING;
            c.counting = c.gate;
            c.pending = false;
            c.null_until = c.gate ? t + 1 : Clock::NEVER;
        }
        break;
    }
}

u8 Pit8254::read_counter(unsigned channel) {
    Counter& c = m_counters[channel];
    u64 t = now_tick();
    sync(c, t);
    if (c.status_latched) {
        c.status_latched = false;
        return c.latched_status;
    }
    u16 v = c.count_latched ? c.latched_count : register_value(c, t);
    u8 byte = 0;
    bool done = true;
    switch (c.rw()) {
    case RW_LSB:
        byte = static_cast<u8>(v);
        break;
    case RW_MSB:
        byte = static_cast<u8>(v >> 8);
        break;
    default:
        byte = c.read_msb ? static_cast<u8>(v >> 8) : static_cast<u8>(v);
        done = c.read_msb;
        c.read_msb = !c.read_msb;
        break;
    }
    if (done) c.count_latched = false;
    return byte;
}

u32 Pit8254::io_read(u16 offset, Width width) {
    u32 high = width_mask(width) & ~0xFFu;
    if (offset < PORT_CONTROL) return high | read_counter(offset);
    count_ignored(); // the control word register is write-only
    return width_mask(width);
}

void Pit8254::io_write(u16 offset, Width, u32 value) {
    u8 byte = static_cast<u8>(value);
    if (offset < PORT_CONTROL)
        write_count(offset, byte);
    else if (offset == PORT_CONTROL)
        write_control(byte);
    else
        count_ignored();
}

// A guest write to counter 0 changes OUT0 from the tick of the write on.
// Two things must not be lost around it:
// - A transition that fell due before the write but whose timer callback
//   has not run yet (the VM loop fires timers between CPU slices): the
//   guest's write comes after it in time, so its edge is replayed first,
//   as the real chip would have raised it. A rewrite of Linux's one-shot
//   timer right after it expired must not swallow that interrupt.
// - The write's own tick: the waveform is evaluated there, not at a later
//   "now". A host thread preempted between the two would otherwise skip a
//   short count's strobe entirely (Linux programs counts of 15 input ticks,
//   12.6 us), and the guest's timer would stop for good.
void Pit8254::catch_up_irq0(u64 t) {
    // Edges collapse in the PIC's latch, so a couple of replays are enough
    // even for a periodic count far behind (on_irq0_timer skips that).
    for (int i = 0; i < 4 && m_irq0_due_tick <= t; ++i)
        drive_irq0(m_irq0_due_tick, false);
}

// OUT0 is evaluated at the tick the transition was due, not at the time the
// timer callback happens to run: the VM loop fires timers between CPU
// slices, so a callback is often late, and a mode 2 low pulse lasts one
// input tick (838 ns). Evaluated "now", the pulse would be over and the
// edge IRQ0 needs would be lost. Each due transition is replayed in order
// (the machine counts the ticks the PIC cannot hold yet and delivers them
// one per acknowledge). Replaying matters under host load: before Linux has
// its ACPI PM timer, it checks the TSC against the "pit" clocksource, which
// counts timer interrupts, and a VM thread kept off the CPU for 10-50 ms
// at a time lost enough ticks (48 ms in 0.7 s) for Linux to call the TSC
// unstable. A VM that fell far behind (a stopped host) skips ahead instead
// of replaying thousands of ticks.
//
// Only the periodic modes (2, 3) skip: their next transition comes anyway.
// A one-shot count (modes 0, 1, 4, 5) has one or two transitions, and a
// skipped mode 4 strobe is an interrupt lost for good: Linux's high
// resolution timers program the next event only from that interrupt, so
// its timer would stop. Those are always replayed, however late.
void Pit8254::on_irq0_timer() {
    u64 now = now_tick();
    u64 due = m_irq0_due_tick;
    u8 mode = m_counters[0].mode();
    bool periodic = mode == 2 || mode == 3;
    u64 max_lag = std::min<u64>(MAX_IRQ0_LAG_TICKS, u64{m_counters[0].seg.n} * MAX_REPLAYED_PERIODS);
    if (due > now || (periodic && now - due > max_lag)) due = now;
    drive_irq0(due, false);
}

void Pit8254::drive_irq0(u64 t, bool force) {
    Counter& c = m_counters[0];
    sync(c, t);
    bool level = out_at(c, t);
    if (force || level != m_irq0_level) {
        m_irq0_level = level;
        m_irq0.set_level(level);
    }
    u64 next = next_change(c, t);
    m_irq0_due_tick = next;
    if (next == Clock::NEVER)
        m_irq0_timer.cancel();
    else
        m_irq0_timer.arm_at(ns_of_tick(next));
}

void Pit8254::visit_counter(StateVisitor& v, Counter& c) {
    v.field("control", c.control);
    v.field("cr", c.cr);
    v.field("write_msb", c.write_msb);
    v.field("write_lsb", c.write_lsb);
    v.field("read_msb", c.read_msb);
    v.field("count_latched", c.count_latched);
    v.field("latched_count", c.latched_count);
    v.field("status_latched", c.status_latched);
    v.field("latched_status", c.latched_status);
    v.field("gate", c.gate);
    v.field("state", c.state);
    v.field("counting", c.counting);
    v.field("n", c.seg.n);
    v.field("start", c.seg.start);
    v.field("phase", c.seg.phase);
    v.field("pending", c.pending);
    v.field("next_n", c.next.n);
    v.field("next_start", c.next.start);
    v.field("next_phase", c.next.phase);
    v.field("idle_value", c.idle_value);
    v.field("null_until", c.null_until);
}

bool Pit8254::valid(Counter const& c) {
    auto n_ok = [](u32 n) { return n >= 1 && n <= BINARY_MODULUS; };
    return c.control < 0x40 && c.rw() != CW_RW_LATCH && c.state <= RUNNING && n_ok(c.seg.n) && n_ok(c.next.n);
}

void Pit8254::visit_state(StateVisitor& v) {
    v.section("pit8254", 1);
    // Load into a copy and take it only if the whole stream was good, so a
    // bad .vsv never leaves a half-loaded counter behind.
    auto counters = m_counters;
    for (auto& c : counters)
        visit_counter(v, c);
    if (!v.is_loading()) return;
    for (auto const& c : counters)
        if (!valid(c)) v.fail("pit8254: counter state out of range");
    if (v.ok()) m_counters = counters;
}

void Pit8254::post_load() {
    drive_irq0(now_tick(), true);
}

} // namespace vsa
