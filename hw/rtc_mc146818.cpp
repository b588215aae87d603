// SPDX-License-Identifier: GPL-2.0-or-later
// MC146818A RTC + CMOS; see rtc_mc146818.h for the model and what is left out.
#include "hw/rtc_mc146818.h"

#include <algorithm>

namespace vsa {

namespace {

using i128 = __int128;

constexpr i64 NS_PER_S = 1'000'000'000;
constexpr i64 FIRST_UPDATE_DELAY_NS = NS_PER_S / 2;
constexpr i64 TIMEBASE_HZ = 32768;
constexpr i64 SECONDS_PER_DAY = 86400;
constexpr u8 DONT_CARE = 0xC0;
constexpr u8 C_FLAGS = RtcMc146818::C_PF | RtcMc146818::C_AF | RtcMc146818::C_UF;

// Proleptic Gregorian calendar <-> days since 1970-01-01 (the well-known
// era/day-of-era arithmetic: 400-year eras of 146097 days, years starting
// in March so the leap day is last).
i64 floor_div(i64 a, i64 b) {
    i64 q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

i64 days_from_civil(i64 y, u32 m, u32 d) {
    y -= m <= 2;
    i64 era = floor_div(y, 400);
    auto yoe = static_cast<u32>(y - era * 400);
    u32 doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    u32 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<i64>(doe) - 719468;
}

void civil_from_days(i64 z, i64& y, u32& m, u32& d) {
    z += 719468;
    i64 era = floor_div(z, 146097);
    auto doe = static_cast<u32>(z - era * 146097);
    u32 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    u32 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    u32 mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<i64>(yoe) + era * 400 + (m <= 2);
}

bool leap(i64 y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

u32 days_in_month(i64 y, u32 m) {
    static constexpr u8 DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : DAYS[(m - 1) % 12];
}

// Years 0000-9999: what a century byte and a year byte can express.
constexpr i64 MIN_TIME = -62'167'219'200; // 0000-01-01 00:00:00
constexpr i64 MAX_TIME = 253'402'300'799; // 9999-12-31 23:59:59

u8 weekday_of(i64 seconds) {
    // 1970-01-01 was a Thursday; register 6 counts Sunday = 1.
    i64 days = floor_div(seconds, SECONDS_PER_DAY);
    return static_cast<u8>(((days + 4) % 7 + 7) % 7 + 1);
}

} // namespace

RtcMc146818::RtcMc146818(IrqLine& irq8, Clock& clock, i64 start_unix_seconds)
    : m_irq(irq8), m_clock(clock), m_update_timer(clock, [this] { on_update(); }),
      m_periodic_timer(clock, [this] { on_periodic(); }) {
    // Time-base ticks: the registers are computed from now(), not counted
    // per firing, so they may come late while the guest idles.
    m_update_timer.set_coalescable(true);
    m_periodic_timer.set_coalescable(true);
    // Power-on with a good battery: the clock has been running for a long
    // time in the state a PC BIOS leaves it (32.768 kHz divider, 1024 Hz
    // periodic rate, BCD, 24 hours), with its update grid on whole seconds
    // from now.
    i64 t = now();
    m_ram[REG_A] = A_DIVIDER_32K | 0x06;
    m_ram[REG_B] = B_24H;
    m_time = std::clamp(start_unix_seconds, MIN_TIME, MAX_TIME);
    m_time_ref = t;
    m_day_of_week = weekday_of(m_time);
    m_divider_origin = t - FIRST_UPDATE_DELAY_NS;
    m_pf_ref = t;
    refresh(true);
}

void RtcMc146818::reset() {
    // The RESET pin: interrupt enables, SQWE and all flags cleared. Time,
    // RAM and the divider run on the battery.
    m_ram[REG_B] &= static_cast<u8>(~(B_PIE | B_AIE | B_UIE | B_SQWE));
    m_flags = 0;
    m_pf_ref = now();
    refresh(true);
}

// ---- time base ---------------------------------------------------------

u32 RtcMc146818::periodic_period() const {
    u32 rate = reg(REG_A) & A_RATE_MASK;
    if (rate == 0) return 0;
    // With the 32.768 kHz time base, rates 1 and 2 repeat rates 8 and 9
    // (datasheet, periodic interrupt rate table).
    if (rate <= 2) rate += 7;
    return 1u << (rate - 1);
}

// Update cycles at or before `t` since the divider left reset.
i128 RtcMc146818::updates_upto(i64 t) const {
    i128 first = static_cast<i128>(m_divider_origin) + FIRST_UPDATE_DELAY_NS;
    if (t < first) return 0;
    return (t - first) / NS_PER_S + 1;
}

i64 RtcMc146818::next_update_after(i64 t) const {
    i128 when = static_cast<i128>(m_divider_origin) + FIRST_UPDATE_DELAY_NS + updates_upto(t) * NS_PER_S;
    return when > INT64_MAX ? INT64_MAX : static_cast<i64>(when);
}

i128 RtcMc146818::periodic_upto(i64 t) const {
    u32 period = periodic_period();
    if (period == 0 || t < m_divider_origin) return 0;
    i128 cycles = (static_cast<i128>(t) - m_divider_origin) * TIMEBASE_HZ / NS_PER_S;
    return cycles / period;
}

i64 RtcMc146818::next_periodic_after(i64 t) const {
    i128 k = periodic_upto(t) + 1;
    i128 cycles = k * periodic_period();
    i128 when = m_divider_origin + (cycles * NS_PER_S + TIMEBASE_HZ - 1) / TIMEBASE_HZ;
    return when > INT64_MAX ? INT64_MAX : static_cast<i64>(when);
}

i64 RtcMc146818::time_at(i64 t) const {
    if (!ticking()) return m_time;
    i128 seconds = m_time + updates_upto(t) - updates_upto(m_time_ref);
    return static_cast<i64>(std::clamp<i128>(seconds, MIN_TIME, MAX_TIME));
}

u8 RtcMc146818::day_of_week_at(i64 t) const {
    i64 days = floor_div(time_at(t), SECONDS_PER_DAY) - floor_div(m_time, SECONDS_PER_DAY);
    i64 dow = ((m_day_of_week - 1 + days) % 7 + 7) % 7;
    return static_cast<u8>(dow + 1);
}

i64 RtcMc146818::unix_time() const {
    return time_at(now());
}

bool RtcMc146818::pf_at(i64 t) const {
    if (m_flags & C_PF) return true;
    return divider_running() && periodic_upto(t) > periodic_upto(m_pf_ref);
}

u8 RtcMc146818::flags_at(i64 t) const {
    u8 flags = m_flags & C_FLAGS;
    if (pf_at(t)) flags |= C_PF;
    // The enable bits of B sit at the same positions as the flags of C.
    if (flags & reg(REG_B) & C_FLAGS) flags |= C_IRQF;
    return flags;
}

bool RtcMc146818::uip_at(i64 t) const {
    return ticking() && next_update_after(t) - t <= static_cast<i64>(UIP_LEAD_NS);
}

// Moves the running time into m_time, so a change of SET, the divider or a
// time register starts from the time the guest saw.
void RtcMc146818::fold_time() {
    if (set_mode()) return;
    i64 t = now();
    u8 dow = day_of_week_at(t);
    m_time = time_at(t);
    m_day_of_week = dow;
    m_time_ref = t;
}

void RtcMc146818::fold_pf() {
    i64 t = now();
    if (pf_at(t)) m_flags |= C_PF;
    m_pf_ref = t;
}

// ---- register encoding -------------------------------------------------

u8 RtcMc146818::encode(u32 value) const {
    value %= 100;
    if (reg(REG_B) & B_DM_BINARY) return static_cast<u8>(value);
    return static_cast<u8>((value / 10) << 4 | value % 10);
}

u32 RtcMc146818::decode(u8 value) const {
    if (reg(REG_B) & B_DM_BINARY) return value;
    return (value >> 4) * 10u + (value & 0xF);
}

u8 RtcMc146818::encode_hour(u32 hour) const {
    if (reg(REG_B) & B_24H) return encode(hour);
    u32 h12 = hour % 12 ? hour % 12 : 12;
    return static_cast<u8>(encode(h12) | (hour >= 12 ? HOUR_PM : 0));
}

u32 RtcMc146818::decode_hour(u8 value) const {
    if (reg(REG_B) & B_24H) return decode(value);
    u32 h = decode(value & static_cast<u8>(~HOUR_PM)) % 12; // 12 AM is hour 0
    return (value & HOUR_PM) ? h + 12 : h;
}

u8 RtcMc146818::time_register(u8 index, i64 seconds, u8 dow) const {
    i64 days = floor_div(seconds, SECONDS_PER_DAY);
    auto sod = static_cast<u32>(seconds - days * SECONDS_PER_DAY);
    i64 y;
    u32 m, d;
    civil_from_days(days, y, m, d);
    switch (index) {
    case SECONDS:
        return encode(sod % 60);
    case MINUTES:
        return encode(sod / 60 % 60);
    case HOURS:
        return encode_hour(sod / 3600);
    case DAY_OF_WEEK:
        return encode(dow);
    case DAY_OF_MONTH:
        return encode(d);
    case MONTH:
        return encode(m);
    case YEAR:
        return encode(static_cast<u32>(y % 100));
    case CENTURY:
        return encode(static_cast<u32>(y / 100 % 100));
    }
    return 0;
}

static bool is_time_register(u8 index) {
    switch (index) {
    case RtcMc146818::SECONDS:
    case RtcMc146818::MINUTES:
    case RtcMc146818::HOURS:
    case RtcMc146818::DAY_OF_WEEK:
    case RtcMc146818::DAY_OF_MONTH:
    case RtcMc146818::MONTH:
    case RtcMc146818::YEAR:
    case RtcMc146818::CENTURY:
        return true;
    }
    return false;
}

// SET going high: the registers hold what the guest saw, and from now on
// exactly what it writes.
void RtcMc146818::store_time_to_registers() {
    for (u8 index : {SECONDS, MINUTES, HOURS, DAY_OF_WEEK, DAY_OF_MONTH, MONTH, YEAR, CENTURY})
        m_ram[index] = time_register(index, m_time, m_day_of_week);
}

// SET going low: the written registers become the running time.
void RtcMc146818::load_time_from_registers() {
    bool clamped = false;
    auto clamp = [&](u32 v, u32 lo, u32 hi) {
        if (v < lo || v > hi) clamped = true;
        return std::clamp(v, lo, hi);
    };
    u32 second = clamp(decode(m_ram[SECONDS]), 0, 59);
    u32 minute = clamp(decode(m_ram[MINUTES]), 0, 59);
    u32 hour = clamp(decode_hour(m_ram[HOURS]), 0, 23);
    u32 month = clamp(decode(m_ram[MONTH]), 1, 12);
    i64 year = clamp(decode(m_ram[CENTURY]), 0, 99) * 100 + clamp(decode(m_ram[YEAR]), 0, 99);
    u32 day = clamp(decode(m_ram[DAY_OF_MONTH]), 1, days_in_month(year, month));
    m_day_of_week = static_cast<u8>(clamp(decode(m_ram[DAY_OF_WEEK]), 1, 7));
    if (clamped) count_ignored();
    m_time = days_from_civil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;
    m_time_ref = now();
}

// A time register written while the clock runs: change that field of the
// running time. The update grid is not disturbed (the divider runs on).
void RtcMc146818::write_time_field(u8 index, u8 value) {
    fold_time();
    u8 saved[CMOS_SIZE];
    std::copy(m_ram.begin(), m_ram.end(), saved);
    store_time_to_registers();
    m_ram[index] = value;
    load_time_from_registers();
    // The registers only hold the time while SET is high; keep RAM as it was.
    std::copy(saved, saved + CMOS_SIZE, m_ram.begin());
}

bool RtcMc146818::alarm_matches() const {
    i64 t = now();
    i64 seconds = time_at(t);
    auto match = [&](u8 alarm, u8 index) {
        return alarm >= DONT_CARE || alarm == time_register(index, seconds, 1);
    };
    return match(reg(SECONDS_ALARM), SECONDS) && match(reg(MINUTES_ALARM), MINUTES) &&
           match(reg(HOURS_ALARM), HOURS);
}

// ---- registers ---------------------------------------------------------

u8 RtcMc146818::peek(u8 index) const {
    index &= CMOS_SIZE - 1;
    i64 t = now();
    if (is_time_register(index)) {
        if (set_mode()) return reg(index);
        return time_register(index, time_at(t), day_of_week_at(t));
    }
    switch (index) {
    case REG_A:
        return static_cast<u8>((reg(REG_A) & ~A_UIP) | (uip_at(t) ? A_UIP : 0));
    case REG_C:
        return flags_at(t);
    case REG_D:
        return D_VRT; // the battery is good
    }
    return reg(index);
}

u8 RtcMc146818::cmos(u8 index) const {
    return peek(index);
}

void RtcMc146818::set_cmos(u8 index, u8 value) {
    write_register(index & (CMOS_SIZE - 1), value);
}

void RtcMc146818::write_register(u8 index, u8 value) {
    if (is_time_register(index)) {
        if (set_mode())
            m_ram[index] = value;
        else
            write_time_field(index, value);
        return;
    }
    switch (index) {
    case REG_A: {
        fold_time();
        fold_pf();
        bool was_running = divider_running();
        m_ram[REG_A] = value & static_cast<u8>(~A_UIP);
        if (!was_running && divider_running()) {
            // The first update comes 500 ms after the divider leaves reset.
            m_divider_origin = now();
            m_time_ref = now();
            m_pf_ref = now();
        }
        break;
    }
    case REG_B: {
        fold_time();
        fold_pf();
        bool was_set = set_mode();
        if (!was_set && (value & B_SET)) store_time_to_registers(); // in the old format
        if (value & B_SET) value &= static_cast<u8>(~B_UIE);        // SET clears UIE
        m_ram[REG_B] = value;
        if (was_set && !(value & B_SET)) load_time_from_registers(); // in the new format
        break;
    }
    case REG_C:
    case REG_D:
        count_ignored();
        return; // read-only
    default:
        m_ram[index] = value;
        return;
    }
    refresh();
}

u32 RtcMc146818::io_read(u16 offset, Width width) {
    u32 high = width_mask(width) & ~0xFFu;
    if (offset == 0) return width_mask(width); // the index register is write-only
    if (offset != 1) return Device::io_read(offset, width);
    u8 value = peek(m_index);
    if (m_index == REG_C) {
        // Reading C clears every flag and drops IRQ.
        m_flags = 0;
        m_pf_ref = now();
        refresh();
    }
    return high | value;
}

void RtcMc146818::io_write(u16 offset, Width width, u32 value) {
    if (offset == 0) {
        m_index = value & (CMOS_SIZE - 1);
        m_nmi_masked = value & 0x80;
    } else if (offset == 1) {
        write_register(m_index, static_cast<u8>(value));
    } else {
        Device::io_write(offset, width, value);
    }
}

// ---- interrupts --------------------------------------------------------

void RtcMc146818::refresh(bool force_irq) {
    i64 t = now();
    bool level = flags_at(t) & C_IRQF;
    if (force_irq || level != m_irq_level) {
        m_irq_level = level;
        m_irq.set_level(level);
    }
    auto arm = [&](Timer& timer, i64 when) {
        // Never in the past: a corrupt state must not spin the clock.
        timer.arm_at(static_cast<u64>(std::max(when, t + 1)));
    };
    if (ticking())
        arm(m_update_timer, next_update_after(t));
    else
        m_update_timer.cancel();
    // The periodic timer is only needed to raise IRQ; PF alone is computed.
    if (divider_running() && periodic_period() && (reg(REG_B) & B_PIE) && !pf_at(t))
        arm(m_periodic_timer, next_periodic_after(t));
    else
        m_periodic_timer.cancel();
}

void RtcMc146818::on_update() {
    if (ticking()) {
        m_flags |= C_UF;
        if (alarm_matches()) m_flags |= C_AF;
    }
    refresh();
}

void RtcMc146818::on_periodic() {
    fold_pf();
    refresh();
}

// ---- saved state -------------------------------------------------------

void RtcMc146818::visit_state(StateVisitor& v) {
    v.section("rtc_mc146818", 1);
    auto ram = m_ram;
    u8 index = m_index;
    bool nmi = m_nmi_masked;
    i64 time = m_time, time_ref = m_time_ref, origin = m_divider_origin, pf_ref = m_pf_ref;
    u8 dow = m_day_of_week, flags = m_flags;
    v.field("ram", ram);
    v.field("index", index);
    v.field("nmi_masked", nmi);
    v.field("time", time);
    v.field("time_ref", time_ref);
    v.field("day_of_week", dow);
    v.field("divider_origin", origin);
    v.field("flags", flags);
    v.field("pf_ref", pf_ref);
    if (!v.is_loading()) return;
    constexpr i64 LIMIT = i64{1} << 62;
    auto in_range = [](i64 x) { return x > -LIMIT && x < LIMIT; };
    if (index >= CMOS_SIZE || dow < 1 || dow > 7 || (flags & ~C_FLAGS) || time < MIN_TIME ||
        time > MAX_TIME || !in_range(time_ref) || !in_range(origin) || !in_range(pf_ref))
        v.fail("rtc_mc146818: state out of range");
    if (!v.ok()) return;
    m_ram = ram;
    m_index = index;
    m_nmi_masked = nmi;
    m_time = time;
    m_time_ref = time_ref;
    m_day_of_week = dow;
    m_divider_origin = origin;
    m_flags = flags;
    m_pf_ref = pf_ref;
}

void RtcMc146818::post_load() {
    refresh(true);
}

} // namespace vsa
