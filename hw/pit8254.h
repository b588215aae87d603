// SPDX-License-Identifier: GPL-2.0-or-later
// Intel 82C54 programmable interval timer, as wired in a PC/AT: three
// counters clocked at 1.193182 MHz; counter 0 OUT drives IRQ0, counter 1
// (DRAM refresh) has no consumer, counter 2 GATE and OUT are bits 0 and 5
// of port 0x61 (SystemControlB).
//
// Datasheet: Intel 82C54 CHMOS Programmable Interval Timer (order 231244),
// "Operation", "Modes 0-5", "Read Operations" (counter latch, read-back).
//
// Counts are never ticked: a counter is a segment (count N loaded into the
// counting element at input-clock edge `start`, having counted `phase`
// clocks by then), and its value and OUT at any time follow from
// Clock::now() by arithmetic. Counter 0 arms one Timer for its next OUT
// transition, so IRQ0 sees exact edges (mode 2: low for one clock per
// period; mode 3: half periods; mode 4: one-clock strobe) at two timer
// events per period at most.
//
// Deliberately left out: reading the counting element before the first
// clock after a count is written returns the new count rather than the
// stale contents; invalid BCD digits in a count are clamped to 9 (and
// counted); the control register reads as 0xFF (the 82C54 cannot read it).
//
// Mapping: io.map(0x40, 4, pit, WIDTH_8) - offsets 0-2 are the counters,
// offset 3 the control word register.
#pragma once

#include "hypervisor/io/clock.h"
#include "hypervisor/io/device.h"
#include "hypervisor/io/irq.h"

#include <array>

namespace vsa {

class Pit8254 final : public Device {
public:
    static constexpr u64 INPUT_HZ = 1'193'182;
    static constexpr unsigned CHANNELS = 3;
    static constexpr u16 PORT_COUNTER0 = 0;
    static constexpr u16 PORT_CONTROL = 3;

    Pit8254(IrqLine& irq0, Clock& clock);

    std::string_view name() const override { return "pit8254"; }
    void reset() override;
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    // OUT pin of a counter now (port 0x61 bit 5 reads counter 2's).
    bool out(unsigned channel) const;
    // GATE input; counters 0 and 1 have theirs tied high on a PC.
    void set_gate(unsigned channel, bool high);
    bool gate(unsigned channel) const { return channel < CHANNELS && m_counters[channel].gate; }

    // The input clock edge count at `ns` and the first time of edge `tick`.
    static u64 tick_at(u64 ns);
    static u64 ns_of_tick(u64 tick);

private:
    enum State : u8 {
        IDLE = 0,    // control word written, no count yet (or mode 0 between two count bytes)
        ARMED = 1,   // modes 1/5: count written, waiting for a GATE trigger
        RUNNING = 2, // counting element loaded
    };
    // Counting element history: loaded with `n` at clock edge `start`,
    // `phase` clocks already counted at that edge.
    struct Segment {
        u32 n{0x10000};
        u64 start{0};
        u64 phase{0};
    };
    struct Counter {
        u8 control{0x30}; // bits 5-0 of the last control word (RW1 RW0 M2 M1 M0 BCD)
        u16 cr{0};        // count register as written
        bool write_msb{false};
        u8 write_lsb{0};
        bool read_msb{false};
        bool count_latched{false};
        u16 latched_count{0};
        bool status_latched{false};
        u8 latched_status{0};
        bool gate{false};
        u8 state{IDLE};
        bool counting{false};
        Segment seg{};
        bool pending{false}; // modes 2/3: a new count waits for the end of the period / half cycle
        Segment next{};
        u16 idle_value{0};            // counting element contents while not running
        u64 null_until{Clock::NEVER}; // null count bit is set before this clock edge

        u8 mode() const;
        u8 rw() const { return (control >> 4) & 3; }
        bool bcd() const { return control & 1; }
    };

    static u32 count_of(Counter const& c, u16 raw, bool* bad);
    static Segment const& active(Counter const& c, u64 tick);
    static u64 elapsed(Counter const& c, Segment const& s, u64 tick);
    static u32 raw_value(Counter const& c, u64 tick);
    static u16 register_value(Counter const& c, u64 tick);
    static bool out_at(Counter const& c, u64 tick);
    static u64 next_change(Counter const& c, u64 tick);
    static u8 status_of(Counter const& c, u64 tick);
    static void sync(Counter& c, u64 tick);
    static void visit_counter(StateVisitor& v, Counter& c);
    static bool valid(Counter const& c);

    u64 now_tick() const { return tick_at(m_clock.now()); }
    void write_control(u8 value);
    void write_count(unsigned channel, u8 value);
    void load_count(Counter& c, u64 tick);
    u8 read_counter(unsigned channel);
    void catch_up_irq0(u64 tick);
    void on_irq0_timer();
    void drive_irq0(u64 tick, bool force);

    IrqLine& m_irq0;
    Clock& m_clock;
    Timer m_irq0_timer;
    std::array<Counter, CHANNELS> m_counters{};
    bool m_irq0_level{false};
    // The input tick of the next OUT0 transition the timer is armed for.
    u64 m_irq0_due_tick{Clock::NEVER};
    // A periodic count's transitions further behind than this are skipped,
    // not replayed: 200 ms of input ticks (the machine's tick backlog holds
    // 50 ticks, 200 ms at Linux's 250 Hz), and never more than
    // MAX_REPLAYED_PERIODS periods, so a fast square wave late by 200 ms
    // does not replay thousands of transitions.
    static constexpr u64 MAX_IRQ0_LAG_TICKS = INPUT_HZ / 5;
    static constexpr u64 MAX_REPLAYED_PERIODS = 64;
};

} // namespace vsa
