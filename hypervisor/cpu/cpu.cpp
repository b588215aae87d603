// SPDX-License-Identifier: GPL-2.0-or-later
// Cpu services: flags, control registers, segment loads (SDM vol. 3, 3.4
// and 5.4-5.8), port-I/O permission (IOPL and the TSS bitmap; SDM vol. 1,
// 18.5) and the saved state. Far transfers are in transfers.cpp.
#include "hypervisor/cpu/cpu.h"

namespace vsa {

Cpu::Cpu(CpuEnvironment env) : m_env(env), m_mmu(env.memory, m_events) {
    reset_state();
}

void Cpu::reset_state() {
    // SDM vol. 3, 9.1.1, table 9-1 (486 column where it differs).
    for (auto& r : m_regs)
        r = 0;
    m_regs[REG_EDX] = CPU_SIGNATURE;
    m_eip = 0xFFF0;
    m_eflags = FLAG_FIXED1;
    m_lf = LazyFlags{};
    for (auto& s : m_seg)
        s = SegmentCache{};
    m_seg[SEG_CS].selector = 0xF000;
    m_seg[SEG_CS].base = 0xFFFF'0000;
    m_cr0 = 0x6000'0000 | CR0_ET; // CD, NW, ET
    m_cr2 = m_cr3 = m_cr4 = 0;
    for (auto& d : m_dr)
        d = 0;
    m_dr[6] = 0xFFFF'0FF0;
    m_dr[7] = 0x0000'0400;
    m_gdtr = TableRegister{};
    m_idtr = TableRegister{0, 0x3FF};
    m_ldtr = SegmentCache{};
    m_ldtr.access = ACC_P | 0x02; // LDT
    m_tr = SegmentCache{};
    m_tr.access = ACC_P | 0x0B; // busy 32-bit TSS
    m_inhibit = 0;
    m_inhibit_debug = false;
    m_sysenter_cs = m_sysenter_esp = m_sysenter_eip = 0;
    m_misc_enable = 0;
    m_halted = false;
    m_nmi_pending = false;
    m_nmi_blocked = false;
    m_shutdown = false;
    m_shutdown_vector = 0;
    set_cpl(0);
    m_fpu.reset();
    m_events = true;
    refresh_all_segments();
    update_paging();
}

void Cpu::set_eflags(u32 v) {
    // VM only changes through IRET, task switches and interrupts
    // (enter_v86 / leave_v86), which also reload the segments.
    m_eflags = (v & FLAGS_VALID & ~FLAG_VM) | (m_eflags & FLAG_VM) | FLAG_FIXED1;
    m_lf.op = FlagOp::None;
    m_events = true;
}

void Cpu::set_vm(bool on) {
    if (on)
        m_eflags |= FLAG_VM;
    else
        m_eflags &= ~FLAG_VM;
    refresh_all_segments();
    m_events = true;
}

void Cpu::refresh_segment(u8 s) {
    SegmentCache const& c = m_seg[s];
    if (c.expand_down()) {
        m_lim_lo[s] = c.limit + 1;
        m_lim_hi[s] = c.big() ? 0xFFFF'FFFFu : 0xFFFFu;
    } else {
        m_lim_lo[s] = 0;
        m_lim_hi[s] = c.limit;
    }
    if (real_addressing()) {
        // Real and V86 mode ignore the cached type; only the limit applies.
        m_perm[s] = PERM_R | PERM_W;
    } else if (!c.valid) {
        m_perm[s] = 0;
    } else if (c.is_code()) {
        m_perm[s] = (c.access & ACC_RW) ? PERM_R : 0;
    } else {
        m_perm[s] = PERM_R | ((c.access & ACC_RW) ? PERM_W : 0);
    }
    if (s == SEG_CS) m_code32 = c.big();
    if (s == SEG_SS) m_stack32 = c.big();
}

void Cpu::refresh_all_segments() {
    for (u8 s = 0; s < SEG_COUNT; ++s)
        refresh_segment(s);
}

void Cpu::set_segment_real(SegReg s, u16 selector) {
    m_seg[s].selector = selector;
    m_seg[s].base = u32(selector) << 4;
    m_seg[s].valid = true;
    refresh_segment(s);
}

void Cpu::set_segment_cache(SegReg s, SegmentCache const& cache) {
    m_seg[s] = cache;
    if (s == SEG_CS) set_cpl(cache.selector & 3);
    refresh_segment(s);
}

void Cpu::set_cr0(u32 v) {
    bool pe_changed = ((v ^ m_cr0) & CR0_PE) != 0;
    // Only PG, WP and PE change translations; CLTS and the FPU bits (an
    // OS flips TS on every context switch) keep the TLB.
    bool paging_changed = ((v ^ m_cr0) & (CR0_PG | CR0_WP | CR0_PE)) != 0;
    m_cr0 = v | CR0_ET; // ET is hardwired to 1 since the 486DX
    if (pe_changed) set_cpl(0);
    if (pe_changed) refresh_all_segments();
    if (paging_changed) update_paging();
    m_events = true;
}

void Cpu::set_cpl(u8 cpl) {
    m_cpl = cpl & 3;
    m_mmu.set_user(protected_mode() && m_cpl == 3);
}

void Cpu::update_paging() {
    bool pg = (m_cr0 & CR0_PG) && (m_cr0 & CR0_PE);
    m_mmu.set_paging(pg, (m_cr0 & CR0_WP) != 0, (m_cr4 & CR4_PSE) != 0, m_cr3);
    m_mmu.set_user(protected_mode() && m_cpl == 3);
}

void Cpu::set_cr(unsigned n, u32 v) {
    switch (n) {
    case 0:
        set_cr0(v);
        break;
    case 2:
        m_cr2 = v;
        break;
    case 3:
        // Reloading CR3 flushes the TLB (all of it: global pages are
        // treated as non-global).
        m_cr3 = v;
        update_paging();
        break;
    case 4:
        m_cr4 = v & CR4_VALID;
        update_paging();
        break;
    default:
        break;
    }
}

u32 Cpu::cr(unsigned n) const {
    switch (n) {
    case 0:
        return m_cr0;
    case 2:
        return m_cr2;
    case 3:
        return m_cr3;
    case 4:
        return m_cr4;
    default:
        return 0;
    }
}

SegmentCache Cpu::cache_from_descriptor(u16 selector, u64 descriptor) {
    u32 lo = static_cast<u32>(descriptor);
    u32 hi = static_cast<u32>(descriptor >> 32);
    SegmentCache c;
    c.selector = selector;
    c.base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF00'0000u);
    c.limit = (lo & 0xFFFF) | (hi & 0xF'0000u);
    c.flags = static_cast<u8>((hi >> 20) & 0xF);
    if (c.flags & DESC_G) c.limit = (c.limit << 12) | 0xFFF;
    c.access = static_cast<u8>(hi >> 8);
    c.valid = true;
    return c;
}

Result<u64, Fault> Cpu::read_descriptor(u16 selector) {
    return read_descriptor_in(selector, m_ldtr);
}

Result<u64, Fault> Cpu::read_descriptor_in(u16 selector, SegmentCache const& ldt) {
    u32 index = selector & ~7u;
    u32 base = 0;
    u32 limit = 0;
    if (selector & 4) {
        if (!ldt.valid || (ldt.selector & ~3u) == 0) return Fault::gp(selector & 0xFFFC);
        base = ldt.base;
        limit = ldt.limit;
    } else {
        base = m_gdtr.base;
        limit = m_gdtr.limit;
    }
    if (index + 7 > limit) return Fault::gp(selector & 0xFFFC);
    u32 lo = TRY(m_mmu.read_sys<u32>(base + index));
    u32 hi = TRY(m_mmu.read_sys<u32>(base + index + 4));
    return (u64(hi) << 32) | lo;
}

void Cpu::mark_accessed(u16 selector, u64 descriptor) {
    u8 access = static_cast<u8>(descriptor >> 40);
    if (access & ACC_ACCESSED) return;
    u32 base = (selector & 4) ? m_ldtr.base : m_gdtr.base;
    // A descriptor table in ROM simply keeps its bit clear.
    (void)m_mmu.write_sys<u8>(base + (selector & ~7u) + 5, access | ACC_ACCESSED);
}

Exec Cpu::load_segment(SegReg s, u16 selector) {
    if (real_addressing()) {
        set_segment_real(s, selector);
        return {};
    }
    u16 error = selector & 0xFFFC;
    if ((selector & ~3u) == 0) {
        if (s == SEG_SS) return Fault::gp(0);
        // A null selector loads, and faults only when used (SDM 3.4.2).
        load_null(s, selector);
        return {};
    }
    u64 d = TRY(read_descriptor(selector));
    SegmentCache c = cache_from_descriptor(selector, d);
    u8 rpl = selector & 3;
    u8 cpl_now = cpl();
    bool code = c.is_code();
    bool readable_or_writable = (c.access & ACC_RW) != 0;
    if (!(c.access & ACC_S)) return Fault::gp(error);
    if (s == SEG_SS) {
        if (rpl != cpl_now || code || !readable_or_writable || c.dpl() != cpl_now) return Fault::gp(error);
        if (!(c.access & ACC_P)) return Fault::ss(error);
    } else {
        if (code && !readable_or_writable) return Fault::gp(error);
        bool conforming = code && (c.access & ACC_DC);
        if (!conforming && (rpl > c.dpl() || cpl_now > c.dpl())) return Fault::gp(error);
        if (!(c.access & ACC_P)) return Fault::np(error);
    }
    mark_accessed(selector, d);
    c.access |= ACC_ACCESSED;
    m_seg[s] = c;
    refresh_segment(s);
    return {};
}

// Checks a code-segment descriptor for JMP/CALL/RET to it at the same
// privilege level and loads CS. Gates and TSS descriptors are issue 5.
Exec Cpu::load_cs_protected(u16 selector, u64 d) {
    u16 error = selector & 0xFFFC;
    SegmentCache c = cache_from_descriptor(selector, d);
    if (!(c.access & ACC_S) || !c.is_code()) return Fault::gp(error);
    u8 cpl_now = cpl();
    if (c.access & ACC_DC) {
        if (c.dpl() > cpl_now) return Fault::gp(error);
    } else {
        if ((selector & 3) > cpl_now || c.dpl() != cpl_now) return Fault::gp(error);
    }
    if (!(c.access & ACC_P)) return Fault::np(error);
    mark_accessed(selector, d);
    c.access |= ACC_ACCESSED;
    c.selector = static_cast<u16>((selector & ~3u) | cpl_now);
    m_seg[SEG_CS] = c;
    refresh_segment(SEG_CS);
    return {};
}

Exec Cpu::check_io(Port port, unsigned size) {
    if (!protected_mode()) return {};
    // V86 mode consults only the bitmap, never IOPL (SDM vol. 1, 18.5.2).
    if (!v86_mode() && cpl() <= iopl()) return {};
    // The I/O permission bitmap of a 32-bit TSS (SDM vol. 1, 18.5.2).
    u8 type = m_tr.access & 0xF;
    if ((type != 0x9 && type != 0xB) || m_tr.limit < 0x67) return Fault::gp(0);
    u16 map_base = TRY(m_mmu.read_sys<u16>(m_tr.base + 0x66));
    u32 byte = u32(map_base) + port / 8;
    if (byte + 1 > m_tr.limit) return Fault::gp(0);
    u16 bits = TRY(m_mmu.read_sys<u16>(m_tr.base + byte));
    u16 mask = static_cast<u16>(((1u << size) - 1) << (port & 7));
    if (bits & mask) return Fault::gp(0);
    return {};
}

u32 Cpu::io_in(Port port, Width w) {
    u32 v = m_env.io.read(port, w);
    // A port cycle may raise an interrupt or remap memory (PAM, A20).
    m_events = true;
    m_mmu.check_generation();
    return v & width_mask(w);
}

void Cpu::io_out(Port port, Width w, u32 value) {
    m_env.io.write(port, w, value & width_mask(w));
    m_events = true;
    m_mmu.check_generation();
}

u64 Cpu::rdtsc_value() const {
    // A nominal 1 GHz time-stamp counter: one tick per virtual nanosecond.
    return m_env.clock.now() + m_tsc_offset;
}

namespace {
void visit_segment(StateVisitor& v, char const* name, SegmentCache& c) {
    std::string n(name);
    v.field(n + ".sel", c.selector);
    v.field(n + ".acc", c.access);
    v.field(n + ".flags", c.flags);
    v.field(n + ".base", c.base);
    v.field(n + ".limit", c.limit);
    v.field(n + ".valid", c.valid);
}
} // namespace

void Cpu::visit_cpu_state(StateVisitor& v) {
    // 2: x87 state, 3: P6 MSRs and debug shadow, 4: no new field, but
    // CR4.VME/PVI and EFLAGS.VIF/VIP may be set (a build without them
    // must refuse the stream rather than drop them).
    v.section("cpu486", 4);
    static char const* const REG_NAMES[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (unsigned i = 0; i < 8; ++i)
        v.field(REG_NAMES[i], m_regs[i]);
    v.field("eip", m_eip);
    u32 flags = eflags();
    v.field("eflags", flags);
    static char const* const SEG_NAMES[SEG_COUNT] = {"es", "cs", "ss", "ds", "fs", "gs"};
    for (unsigned i = 0; i < SEG_COUNT; ++i)
        visit_segment(v, SEG_NAMES[i], m_seg[i]);
    visit_segment(v, "ldtr", m_ldtr);
    visit_segment(v, "tr", m_tr);
    v.field("gdtr.base", m_gdtr.base);
    v.field("gdtr.limit", m_gdtr.limit);
    v.field("idtr.base", m_idtr.base);
    v.field("idtr.limit", m_idtr.limit);
    v.field("cr0", m_cr0);
    v.field("cpl", m_cpl);
    v.field("cr2", m_cr2);
    v.field("cr3", m_cr3);
    v.field("cr4", m_cr4);
    for (unsigned i = 0; i < 8; ++i)
        v.field("dr" + std::to_string(i), m_dr[i]);
    v.field("inhibit", m_inhibit);
    v.field("halted", m_halted);
    v.field("nmi_pending", m_nmi_pending);
    v.field("nmi_blocked", m_nmi_blocked);
    v.field("shutdown", m_shutdown);
    v.field("shutdown_vector", m_shutdown_vector);
    v.field("icount", m_icount);
    if (v.version() >= 2)
        m_fpu.visit_state(v);
    else if (v.is_loading())
        m_fpu.init(); // a stream from before the FPU: FNINIT state
    if (v.version() >= 3) {
        v.field("sysenter_cs", m_sysenter_cs);
        v.field("sysenter_esp", m_sysenter_esp);
        v.field("sysenter_eip", m_sysenter_eip);
        v.field("misc_enable", m_misc_enable);
        v.field("tsc_offset", m_tsc_offset);
        v.field("inhibit_debug", m_inhibit_debug);
    }
    if (v.is_loading() && v.ok()) {
        if (v.version() < 4) {
            // Older builds could not set these bits: clear them as those
            // builds would have.
            flags &= ~(FLAG_VIF | FLAG_VIP);
            m_cr4 &= ~(CR4_VME | CR4_PVI);
        }
        if (m_inhibit > 1) m_inhibit = 1;
        m_regs[REG_NONE] = 0;
        set_eflags(flags);
        m_eflags = (m_eflags & ~FLAG_VM) | (flags & FLAG_VM);
        m_cr0 |= CR0_ET;
        m_cr4 &= CR4_VALID;
        refresh_all_segments();
        set_cpl(m_cpl);
        update_paging();
        m_events = true;
    }
}

} // namespace vsa
