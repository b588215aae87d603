// SPDX-License-Identifier: GPL-2.0-or-later
// The local APIC; see local_apic.h for the model and what is left out.
#include "hw/local_apic.h"

#include <algorithm>

namespace vsa {

namespace {

// ESR bits (SDM vol. 3A 10.5.3).
constexpr u32 ESR_SEND_ILLEGAL_VECTOR = 1u << 5;
constexpr u32 ESR_RECEIVE_ILLEGAL_VECTOR = 1u << 6;
constexpr u32 ESR_ILLEGAL_REGISTER = 1u << 7;

// LVT fields.
constexpr u32 LVT_VECTOR = 0xFF;
constexpr u32 LVT_DELIVERY_SHIFT = 8;
constexpr u32 LVT_LEVEL_TRIGGER = 1u << 15;
constexpr u32 LVT_TIMER_PERIODIC = 1u << 17;
constexpr u32 DELIVERY_FIXED = 0;
constexpr u32 DELIVERY_NMI = 4;
constexpr u32 DELIVERY_EXTINT = 7;
// Writable bits of each LVT entry (timer, LINT0, LINT1, error, perf):
// delivery status and remote IRR are read-only, the timer has no TSC
// deadline mode here.
constexpr std::array<u32, 5> LVT_WRITABLE{0x300FF, 0x1A7FF, 0x1A7FF, 0x100FF, 0x107FF};

// ICR fields.
constexpr u32 ICR_WRITABLE = 0x000C'CFFF;
constexpr u32 ICR_LOGICAL = 1u << 11;

} // namespace

LocalApic::LocalApic(MemoryMap& memory, Clock& clock, InterruptController& external, IrqLine& intr)
    : m_memory(memory), m_clock(clock), m_external(external), m_intr(intr),
      m_timer(clock, [this] { timer_fired(); }) {
    // A guest's tick (Linux's clock event device): an idle guest's ticks
    // may come late together, as the PIT's do (clock.h).
    m_timer.set_coalescable(true);
    reset();
}

LocalApic::~LocalApic() {
    if (m_mapped) m_memory.unmap_mmio(m_mapped_at, *this);
}

void LocalApic::reset() {
    m_base_msr = DEFAULT_BASE | BASE_BSP | BASE_ENABLE;
    m_extint = false;
    reset_registers();
    map();
    update();
}

void LocalApic::reset_registers() {
    m_id = 0;
    m_tpr = 0;
    m_ldr = 0;
    m_dfr = 0xFFFF'FFFF;
    m_svr = 0xFF;
    m_isr = {};
    m_tmr = {};
    m_irr = {};
    m_esr = 0;
    m_esr_pending = 0;
    m_icr_low = 0;
    m_icr_high = 0;
    m_lvt.fill(LVT_MASKED);
    // The bootstrap processor's LINT0 in virtual wire mode (local_apic.h).
    m_lvt[LVT_LINT0] = DELIVERY_EXTINT << LVT_DELIVERY_SHIFT;
    m_timer_initial = 0;
    m_timer_divide = 0;
    m_timer_start_ns = m_clock.now();
    m_timer_expired = false;
    m_tick_backlog = 0;
    m_timer.cancel();
}

void LocalApic::map() {
    bool want = globally_enabled();
    PhysAddr at = m_base_msr & 0xFFFF'F000u;
    if (m_mapped && (!want || at != m_mapped_at)) {
        m_memory.unmap_mmio(m_mapped_at, *this);
        m_mapped = false;
    }
    if (want && !m_mapped) {
        // Refused only where another device already decodes the page: the
        // APIC then stays unreachable there, as on a board where the
        // chipset claims the range first.
        m_mapped = m_memory.map_mmio(at, MMIO_SIZE, *this);
        if (m_mapped) m_mapped_at = at;
    }
}

bool LocalApic::set_apic_base(u64 value) {
    // Reserved: bits 0-7, 9, 10 and everything above MAXPHYADDR (32 here).
    if (value & ~u64(0xFFFF'F000u | BASE_BSP | BASE_ENABLE)) return false;
    bool was_enabled = globally_enabled();
    m_base_msr = (value & (0xFFFF'F000u | BASE_ENABLE)) | BASE_BSP;
    if (was_enabled && !globally_enabled()) {
        // Globally disabled: the APIC's state is lost (SDM 10.4.3).
        m_extint = false;
        reset_registers();
    }
    map();
    update();
    return true;
}

// ---- priorities and acceptance ------------------------------------------

int LocalApic::highest(Bits const& bits) {
    for (int i = 7; i >= 0; --i) {
        u32 word = bits[static_cast<unsigned>(i)];
        if (word) return i * 32 + 31 - __builtin_clz(word);
    }
    return -1;
}

u32 LocalApic::ppr() const {
    u32 tpr = m_tpr & 0xFF;
    int isrv = highest(m_isr);
    u32 isr_class = isrv < 0 ? 0 : static_cast<u32>(isrv) & 0xF0;
    return (tpr & 0xF0) >= isr_class ? tpr : isr_class;
}

int LocalApic::pending_vector() const {
    if (!software_enabled()) return -1;
    int v = highest(m_irr);
    if (v < 0) return -1;
    if ((static_cast<u32>(v) & 0xF0) <= (ppr() & 0xF0)) return -1;
    return v;
}

bool LocalApic::extint_pending() const {
    if (m_extint) return true;
    u32 lint0 = m_lvt[LVT_LINT0];
    if (lint0 & LVT_MASKED) return false;
    if (((lint0 >> LVT_DELIVERY_SHIFT) & 7) != DELIVERY_EXTINT) return false;
    return m_external.intr_pending();
}

bool LocalApic::intr_pending() const {
    if (!globally_enabled()) return m_external.intr_pending();
    return pending_vector() >= 0 || extint_pending();
}

u8 LocalApic::acknowledge() {
    if (!globally_enabled()) return m_external.acknowledge();
    int v = pending_vector();
    u8 vector;
    if (v >= 0) {
        vector = static_cast<u8>(v);
        clear(m_irr, vector);
        set(m_isr, vector);
        // The next owed tick waits in IRR behind this one (same class: it
        // is taken after the EOI).
        u32 lvt = m_lvt[LVT_TIMER];
        if (m_tick_backlog && (lvt & LVT_VECTOR) == vector && !(lvt & LVT_MASKED)) {
            --m_tick_backlog;
            set(m_irr, vector);
            clear(m_tmr, vector);
        }
        if (m_ack_listener) m_ack_listener(vector);
    } else if (extint_pending()) {
        // The INTA cycle goes to the 8259, which supplies the vector.
        m_extint = false;
        vector = m_external.acknowledge();
    } else {
        // Raised and withdrawn before the INTA cycle (a TPR raise, say):
        // the spurious vector, which is not put in service.
        vector = static_cast<u8>(m_svr & 0xFF);
    }
    update();
    return vector;
}

void LocalApic::update() {
    m_intr.set_level(intr_pending());
}

void LocalApic::accept(u8 vector, bool level_triggered) {
    if (vector < 16) {
        set_error(ESR_RECEIVE_ILLEGAL_VECTOR);
        return;
    }
    set(m_irr, vector);
    if (level_triggered)
        set(m_tmr, vector);
    else
        clear(m_tmr, vector);
    update();
}

void LocalApic::deliver(u8 vector, bool level_triggered) {
    if (!globally_enabled()) return; // the APIC bus is not listened to
    accept(vector, level_triggered);
}

void LocalApic::deliver_extint() {
    if (!globally_enabled()) return;
    m_extint = true;
    update();
}

bool LocalApic::matches_destination(u8 destination, bool logical) const {
    if (!logical) return destination == 0xFF || destination == id();
    if (destination == 0xFF) return true; // broadcast in either model
    u8 ldr = static_cast<u8>(m_ldr >> 24);
    if ((m_dfr >> 28) == 0xF) return (destination & ldr) != 0;                  // flat
    if ((m_dfr >> 28) != 0x0) return false;                                     // undefined model
    return (destination >> 4) == (ldr >> 4) && (destination & ldr & 0x0F) != 0; // cluster
}

void LocalApic::set_error(u32 bit) {
    m_esr_pending |= bit;
    u32 lvt = m_lvt[LVT_ERROR];
    // An error vector that is itself illegal is not delivered (and does
    // not report itself again).
    if (!(lvt & LVT_MASKED) && (lvt & LVT_VECTOR) >= 16) accept(static_cast<u8>(lvt & LVT_VECTOR), false);
}

void LocalApic::set_lint(unsigned index, bool high) {
    bool rising = high && !m_lint_level[index];
    m_lint_level[index] = high;
    u32 lvt = m_lvt[index == 0 ? LVT_LINT0 : LVT_LINT1];
    if (!globally_enabled()) {
        update(); // LINT0 is the CPU's INTR pin now
        return;
    }
    u32 mode = (lvt >> LVT_DELIVERY_SHIFT) & 7;
    if (!(lvt & LVT_MASKED) && rising) {
        if (mode == DELIVERY_FIXED)
            accept(static_cast<u8>(lvt & LVT_VECTOR), (lvt & LVT_LEVEL_TRIGGER) != 0);
        else if (mode == DELIVERY_NMI && m_nmi_listener)
            m_nmi_listener();
    }
    update();
}

void LocalApic::write_lvt(unsigned index, u32 value) {
    value &= LVT_WRITABLE[index];
    // While software-disabled every LVT entry stays masked (SDM 10.4.7.2).
    if (!software_enabled()) value |= LVT_MASKED;
    if (index == LVT_TIMER && ((m_lvt[index] ^ value) & (LVT_TIMER_PERIODIC | LVT_MASKED)))
        m_tick_backlog = 0;
    m_lvt[index] = value;
    if (index == LVT_TIMER) arm_timer();
    update();
}

// ---- IPIs -----------------------------------------------------------------

void LocalApic::send_ipi() {
    u32 shorthand = (m_icr_low >> 18) & 3;
    u32 mode = (m_icr_low >> 8) & 7;
    u8 vector = static_cast<u8>(m_icr_low & 0xFF);
    bool to_self =
        shorthand == 1 || shorthand == 2 ||
        (shorthand == 0 && matches_destination(static_cast<u8>(m_icr_high >> 24), m_icr_low & ICR_LOGICAL));
    if ((mode == 0 || mode == 1) && vector < 16) {
        set_error(ESR_SEND_ILLEGAL_VECTOR);
        return;
    }
    if (!to_self) {
        ++m_ignored_ipis; // there is no other processor
        return;
    }
    switch (mode) {
    case 0: // fixed
    case 1: // lowest priority: we are the lowest
        accept(vector, false);
        break;
    case 4:
        if (m_nmi_listener) m_nmi_listener();
        break;
    default: // SMI, INIT, STARTUP, reserved: nothing to do them to
        ++m_ignored_ipis;
        break;
    }
}

// ---- timer -----------------------------------------------------------------

unsigned LocalApic::divide_shift() const {
    u32 value = (m_timer_divide & 3) | ((m_timer_divide >> 1) & 4);
    return (value + 1) & 7; // 111b: divide by 1
}

u32 LocalApic::timer_current() const {
    if (m_timer_initial == 0) return 0;
    u64 now = m_clock.now();
    u64 elapsed = now > m_timer_start_ns ? (now - m_timer_start_ns) >> divide_shift() : 0;
    if (m_lvt[LVT_TIMER] & LVT_TIMER_PERIODIC)
        return static_cast<u32>(m_timer_initial - elapsed % m_timer_initial);
    if (m_timer_expired || elapsed >= m_timer_initial) return 0;
    return static_cast<u32>(m_timer_initial - elapsed);
}

void LocalApic::arm_timer() {
    if (m_timer_initial == 0) {
        m_timer.cancel();
        return;
    }
    u64 period = u64(m_timer_initial) << divide_shift();
    if (m_lvt[LVT_TIMER] & LVT_TIMER_PERIODIC) {
        u64 now = m_clock.now();
        u64 periods = now > m_timer_start_ns ? (now - m_timer_start_ns) / period : 0;
        m_timer.arm_at(m_timer_start_ns + (periods + 1) * period);
    } else if (m_timer_expired) {
        m_timer.cancel();
    } else {
        m_timer.arm_at(m_timer_start_ns + period);
    }
}

void LocalApic::timer_fired() {
    u32 lvt = m_lvt[LVT_TIMER];
    u8 vector = static_cast<u8>(lvt & LVT_VECTOR);
    bool periodic = (lvt & LVT_TIMER_PERIODIC) != 0;
    if (m_timer_initial == 0) return;
    if (!periodic) {
        m_timer_expired = true;
        if (!(lvt & LVT_MASKED)) accept(vector, false);
        return;
    }
    // The count restarts from the initial value at each period. Periods
    // the host fired late for, and a tick whose predecessor is still in
    // IRR, are owed (local_apic.h).
    u64 period = u64(m_timer_initial) << divide_shift();
    u64 now = m_clock.now();
    u64 periods = now > m_timer_start_ns ? (now - m_timer_start_ns) / period : 1;
    if (periods == 0) periods = 1;
    m_timer_start_ns += periods * period;
    if (!(lvt & LVT_MASKED)) {
        u64 owed = periods - 1;
        if (test(m_irr, vector))
            ++owed;
        else
            accept(vector, false);
        m_tick_backlog = static_cast<u32>(std::min<u64>(m_tick_backlog + owed, MAX_TICK_BACKLOG));
    }
    arm_timer();
}

// ---- registers --------------------------------------------------------------

u32 LocalApic::mmio_read(u64 offset, Width width) {
    u32 reg = static_cast<u32>(offset & 0xFF0);
    unsigned byte = static_cast<unsigned>(offset & 0xF);
    if (offset >= MMIO_SIZE || byte + width_bytes(width) > 4) {
        count_ignored();
        return 0;
    }
    u32 value = 0;
    switch (reg) {
    case REG_ID:
        value = m_id;
        break;
    case REG_VERSION:
        value = VERSION;
        break;
    case REG_TPR:
        value = m_tpr;
        break;
    case REG_APR: {
        // SDM 10.8.3.1: the TPR unless a higher request or service wins.
        int irrv = highest(m_irr);
        int isrv = highest(m_isr);
        u32 irr_class = irrv < 0 ? 0 : static_cast<u32>(irrv) & 0xF0;
        u32 isr_class = isrv < 0 ? 0 : static_cast<u32>(isrv) & 0xF0;
        if ((m_tpr & 0xF0) >= irr_class && (m_tpr & 0xF0) > isr_class)
            value = m_tpr;
        else
            value = std::max({m_tpr & 0xF0, irr_class, isr_class});
        break;
    }
    case REG_PPR:
        value = ppr();
        break;
    case REG_LDR:
        value = m_ldr;
        break;
    case REG_DFR:
        value = m_dfr;
        break;
    case REG_SVR:
        value = m_svr;
        break;
    case REG_ESR:
        value = m_esr;
        break;
    case REG_ICR_LOW:
        value = m_icr_low; // delivery status: always idle
        break;
    case REG_ICR_HIGH:
        value = m_icr_high;
        break;
    case REG_LVT_TIMER:
        value = m_lvt[LVT_TIMER];
        break;
    case REG_LVT_PERF:
        value = m_lvt[LVT_PERF];
        break;
    case REG_LVT_LINT0:
        value = m_lvt[LVT_LINT0];
        break;
    case REG_LVT_LINT1:
        value = m_lvt[LVT_LINT1];
        break;
    case REG_LVT_ERROR:
        value = m_lvt[LVT_ERROR];
        break;
    case REG_TIMER_INITIAL:
        value = m_timer_initial;
        break;
    case REG_TIMER_CURRENT:
        value = timer_current();
        break;
    case REG_TIMER_DIVIDE:
        value = m_timer_divide;
        break;
    case REG_EOI:
    case REG_RRD:
        value = 0; // write-only / remote read never valid
        break;
    default:
        if (reg >= REG_ISR && reg < REG_ISR + 0x80)
            value = m_isr[(reg - REG_ISR) >> 4];
        else if (reg >= REG_TMR && reg < REG_TMR + 0x80)
            value = m_tmr[(reg - REG_TMR) >> 4];
        else if (reg >= REG_IRR && reg < REG_IRR + 0x80)
            value = m_irr[(reg - REG_IRR) >> 4];
        else
            count_ignored();
        break;
    }
    return (value >> (byte * 8)) & width_mask(width);
}

void LocalApic::mmio_write(u64 offset, Width width, u32 value) {
    u32 reg = static_cast<u32>(offset & 0xFF0);
    if (offset >= MMIO_SIZE || (offset & 0xF) != 0 || width != Width::Dword) {
        count_ignored();
        return;
    }
    switch (reg) {
    case REG_ID:
        m_id = value & 0xFF00'0000u;
        break;
    case REG_TPR:
        m_tpr = value & 0xFF;
        update();
        break;
    case REG_EOI: {
        int v = highest(m_isr);
        if (v < 0) break; // an EOI with nothing in service
        u8 vector = static_cast<u8>(v);
        clear(m_isr, vector);
        if (test(m_tmr, vector) && m_eoi_listener) m_eoi_listener(vector);
        update();
        break;
    }
    case REG_LDR:
        m_ldr = value & 0xFF00'0000u;
        break;
    case REG_DFR:
        m_dfr = value | 0x0FFF'FFFFu;
        break;
    case REG_SVR:
        // Bits 0-3 of the spurious vector are hardwired to 1 on P6.
        m_svr = (value & 0x3F0) | 0xF;
        if (!software_enabled())
            for (auto& lvt : m_lvt)
                lvt |= LVT_MASKED;
        update();
        break;
    case REG_ESR:
        m_esr = m_esr_pending;
        m_esr_pending = 0;
        break;
    case REG_ICR_LOW:
        m_icr_low = value & ICR_WRITABLE;
        send_ipi();
        break;
    case REG_ICR_HIGH:
        m_icr_high = value & 0xFF00'0000u;
        break;
    case REG_LVT_TIMER:
        write_lvt(LVT_TIMER, value);
        break;
    case REG_LVT_PERF:
        write_lvt(LVT_PERF, value);
        break;
    case REG_LVT_LINT0:
        write_lvt(LVT_LINT0, value);
        break;
    case REG_LVT_LINT1:
        write_lvt(LVT_LINT1, value);
        break;
    case REG_LVT_ERROR:
        write_lvt(LVT_ERROR, value);
        break;
    case REG_TIMER_INITIAL:
        m_timer_initial = value;
        m_timer_start_ns = m_clock.now();
        m_timer_expired = false;
        m_tick_backlog = 0;
        arm_timer();
        break;
    case REG_TIMER_DIVIDE:
        m_timer_divide = value & 0xB;
        arm_timer();
        break;
    default:
        // Read-only (version, APR, PPR, ISR/TMR/IRR, current count,
        // remote read) or reserved: the APIC flags an illegal register.
        set_error(ESR_ILLEGAL_REGISTER);
        count_ignored();
        break;
    }
}

// ---- saved state ------------------------------------------------------------

void LocalApic::visit_state(StateVisitor& v) {
    v.section("local-apic", 1);
    v.field("base_msr", m_base_msr);
    v.field("id", m_id);
    v.field("tpr", m_tpr);
    v.field("ldr", m_ldr);
    v.field("dfr", m_dfr);
    v.field("svr", m_svr);
    v.field("isr", m_isr);
    v.field("tmr", m_tmr);
    v.field("irr", m_irr);
    v.field("esr", m_esr);
    v.field("esr_pending", m_esr_pending);
    v.field("icr_low", m_icr_low);
    v.field("icr_high", m_icr_high);
    v.field("lvt", m_lvt);
    v.field("timer_initial", m_timer_initial);
    v.field("timer_divide", m_timer_divide);
    v.field("timer_start_ns", m_timer_start_ns);
    v.field("timer_expired", m_timer_expired);
    v.field("extint", m_extint);
    v.field("lint_level", m_lint_level);
    v.field("tick_backlog", m_tick_backlog);
}

void LocalApic::post_load() {
    // A damaged stream may carry any bits: keep the registers to what a
    // guest could have written.
    m_base_msr = (m_base_msr & (0xFFFF'F000u | BASE_ENABLE)) | BASE_BSP;
    m_id &= 0xFF00'0000u;
    m_tpr &= 0xFF;
    m_ldr &= 0xFF00'0000u;
    m_dfr |= 0x0FFF'FFFFu;
    m_svr = (m_svr & 0x3F0) | 0xF;
    m_icr_low &= ICR_WRITABLE;
    m_icr_high &= 0xFF00'0000u;
    for (unsigned i = 0; i < m_lvt.size(); ++i)
        m_lvt[i] &= LVT_WRITABLE[i];
    m_timer_divide &= 0xB;
    m_tick_backlog = std::min(m_tick_backlog, MAX_TICK_BACKLOG);
    map();
    arm_timer();
    update();
}

} // namespace vsa
