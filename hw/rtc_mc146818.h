// SPDX-License-Identifier: GPL-2.0-or-later
// Motorola MC146818A real-time clock with its 128 bytes of CMOS RAM, as in
// the PC/AT: index port 0x70 (bit 7 masks NMI - a PC chipset latch, kept
// here and exposed through nmi_masked()), data port 0x71, IRQ 8.
//
// Datasheet: Motorola MC146818A "Real-Time Clock Plus RAM (RTC)": "Address
// Map", "Time, Calendar and Alarm Locations", "Update Cycle", registers A-D,
// "Interrupts" (periodic rate table, alarm don't-care codes 0xC0-0xFF).
// The century byte at 0x32 is the IBM PC convention, kept with the time.
//
// Time is the start time passed to the constructor (seconds since the Unix
// epoch; the machine passes host time at power-on) plus whole update cycles
// of the Clock: it is computed from Clock::now() on every read, never ticked.
// Update cycles fall on a one-second grid that starts 500 ms after the
// divider leaves reset (A bits 6-4 = 010). UIP (A bit 7) is high for the
// last 244 us before each update; the new time, UF and the alarm compare
// take effect at the update instant. Timers fire only for the once-a-second
// update and, while PIE is set and PF is clear, the next periodic tick; PF
// without PIE is computed when register C is read.
//
// The IRQ output follows IRQF (high while an enabled flag is set), so the
// edge-triggered PIC input sees a new edge only after register C is read.
//
// Deliberately left out: daylight saving (B bit 0 DSE is stored only), the
// SQW pin (B bit 3 stored only), the 4.194304 and 1.048576 MHz time bases
// (only divider 010 runs; any other value stops time and interrupts), and
// the raw-byte behaviour of time registers across a DM or 24/12 change while
// the clock runs (the registers are re-encoded in the new format). Invalid
// time values written while SET is clear are clamped to the nearest valid
// date (and counted); while SET is set they read back exactly as written and
// are clamped when SET is cleared. reset() is the chip's RESET pin (interrupt
// enables and flags cleared); time and RAM are battery-backed and kept.
//
// Mapping: io.map(0x70, 2, rtc, WIDTH_8) - offset 0 index, offset 1 data.
#pragma once

#include "hypervisor/io/clock.h"
#include "hypervisor/io/device.h"
#include "hypervisor/io/irq.h"

#include <array>

namespace vsa {

class RtcMc146818 final : public Device {
public:
    // Register indices.
    static constexpr u8 SECONDS = 0x00;
    static constexpr u8 SECONDS_ALARM = 0x01;
    static constexpr u8 MINUTES = 0x02;
    static constexpr u8 MINUTES_ALARM = 0x03;
    static constexpr u8 HOURS = 0x04;
    static constexpr u8 HOURS_ALARM = 0x05;
    static constexpr u8 DAY_OF_WEEK = 0x06;
    static constexpr u8 DAY_OF_MONTH = 0x07;
    static constexpr u8 MONTH = 0x08;
    static constexpr u8 YEAR = 0x09;
    static constexpr u8 REG_A = 0x0A;
    static constexpr u8 REG_B = 0x0B;
    static constexpr u8 REG_C = 0x0C;
    static constexpr u8 REG_D = 0x0D;
    static constexpr u8 CENTURY = 0x32;
    static constexpr unsigned CMOS_SIZE = 128;

    // Register A.
    static constexpr u8 A_UIP = 0x80;
    static constexpr u8 A_DIVIDER_MASK = 0x70;
    static constexpr u8 A_DIVIDER_32K = 0x20;
    static constexpr u8 A_RATE_MASK = 0x0F;
    // Register B.
    static constexpr u8 B_SET = 0x80;
    static constexpr u8 B_PIE = 0x40;
    static constexpr u8 B_AIE = 0x20;
    static constexpr u8 B_UIE = 0x10;
    static constexpr u8 B_SQWE = 0x08;
    static constexpr u8 B_DM_BINARY = 0x04;
    static constexpr u8 B_24H = 0x02;
    static constexpr u8 B_DSE = 0x01;
    // Register C.
    static constexpr u8 C_IRQF = 0x80;
    static constexpr u8 C_PF = 0x40;
    static constexpr u8 C_AF = 0x20;
    static constexpr u8 C_UF = 0x10;
    // Register D.
    static constexpr u8 D_VRT = 0x80;
    // Hours byte in 12-hour mode.
    static constexpr u8 HOUR_PM = 0x80;
    // Time from the start of UIP to the update (8 cycles of 32.768 kHz).
    static constexpr u64 UIP_LEAD_NS = 244'141;

    RtcMc146818(IrqLine& irq8, Clock& clock, i64 start_unix_seconds);

    std::string_view name() const override { return "rtc_mc146818"; }
    void reset() override;
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    // The machine's view of CMOS: RAM bytes directly; the clock registers
    // as the guest sees them, except that cmos(REG_C) does not clear it.
    void set_cmos(u8 index, u8 value);
    u8 cmos(u8 index) const;

    bool nmi_masked() const { return m_nmi_masked; }
    // The clock registers' time now, as seconds since the Unix epoch.
    i64 unix_time() const;

private:
    using i128 = __int128;
    struct DateTime {
        i64 year;
        u32 month, day, hour, minute, second;
    };

    u8 reg(u8 index) const { return m_ram[index]; }
    i64 now() const { return static_cast<i64>(m_clock.now()); }
    bool divider_running() const { return (reg(REG_A) & A_DIVIDER_MASK) == A_DIVIDER_32K; }
    bool set_mode() const { return reg(REG_B) & B_SET; }
    bool ticking() const { return divider_running() && !set_mode(); }
    u32 periodic_period() const; // in 32.768 kHz cycles, 0 = off

    i128 updates_upto(i64 t) const;
    i64 next_update_after(i64 t) const;
    i128 periodic_upto(i64 t) const;
    i64 next_periodic_after(i64 t) const;
    i64 time_at(i64 t) const;
    u8 day_of_week_at(i64 t) const;
    bool pf_at(i64 t) const;
    u8 flags_at(i64 t) const;
    bool uip_at(i64 t) const;

    u8 encode(u32 value) const;
    u32 decode(u8 value) const;
    u8 encode_hour(u32 hour) const;
    u32 decode_hour(u8 value) const;
    u8 time_register(u8 index, i64 seconds, u8 dow) const;
    u8 peek(u8 index) const;
    void write_register(u8 index, u8 value);
    void write_time_field(u8 index, u8 value);
    void load_time_from_registers();
    void store_time_to_registers();
    bool alarm_matches() const;

    void fold_time();
    void fold_pf();
    void refresh(bool force_irq = false);
    void on_update();
    void on_periodic();

    IrqLine& m_irq;
    Clock& m_clock;
    Timer m_update_timer;
    Timer m_periodic_timer;

    std::array<u8, CMOS_SIZE> m_ram{};
    u8 m_index{0};
    bool m_nmi_masked{false};
    i64 m_time{0};           // clock registers' time at m_time_ref (SET clear)
    i64 m_time_ref{0};       // Clock ns
    u8 m_day_of_week{1};     // register 6 at m_time_ref (1 = Sunday)
    i64 m_divider_origin{0}; // Clock ns when the divider chain left reset
    u8 m_flags{0};           // latched PF/AF/UF
    i64 m_pf_ref{0};         // periodic ticks after this ns (and before a C read) set PF
    bool m_irq_level{false};
};

} // namespace vsa
