// SPDX-License-Identifier: GPL-2.0-or-later
// Far control transfers in every mode (SDM vol. 3, 5.8 and vol. 2, CALL,
// JMP, RET, IRET): real mode; protected mode to a code segment at the same
// level (conforming or not); far CALL/JMP through 16- and 32-bit call
// gates, CALL to an inner level with the stack switch through the TSS and
// the parameter copy; RETF and IRET to an outer level (SS:ESP popped, data
// segment registers the outer level may not see are nulled); IRET with NT
// and JMP/CALL to a TSS or task gate (tasks.cpp); IRET to V86 mode
// (v86.cpp).
#include "hypervisor/cpu/cpu.h"

namespace vsa {

Cpu::StackSnapshot Cpu::snapshot_stack() const {
    return StackSnapshot{m_seg[SEG_SS], m_regs[REG_ESP], m_cpl};
}

void Cpu::restore_stack(StackSnapshot const& s) {
    m_seg[SEG_SS] = s.ss;
    refresh_segment(SEG_SS);
    m_regs[REG_ESP] = s.esp;
    set_cpl(s.cpl);
}

Exec Cpu::tss_stack(u8 level, u16& ss, u32& esp) {
    bool tss32 = (m_tr.access & 0x8) != 0;
    u32 off = tss32 ? 4 + 8u * level : 2 + 4u * level;
    if (off + (tss32 ? 7 : 3) > m_tr.limit) return Fault::ts(m_tr.selector & 0xFFFC);
    if (tss32) {
        esp = TRY(m_mmu.read_sys<u32>(m_tr.base + off));
        ss = TRY(m_mmu.read_sys<u16>(m_tr.base + off + 4));
    } else {
        esp = TRY(m_mmu.read_sys<u16>(m_tr.base + off));
        ss = TRY(m_mmu.read_sys<u16>(m_tr.base + off + 2));
    }
    return {};
}

Result<SegmentCache, Fault> Cpu::inner_stack_segment(u16 ss, u8 level, u32 ext) {
    u32 error = (ss & 0xFFFC) | ext;
    if ((ss & ~3u) == 0) return Fault::ts(ext);
    auto d = read_descriptor(ss);
    if (!d) {
        if (d.error().vector == VEC_GP) return Fault::ts(error);
        return d.error();
    }
    SegmentCache c = cache_from_descriptor(ss, d.value());
    bool writable_data = (c.access & (ACC_S | ACC_CODE | ACC_RW)) == (ACC_S | ACC_RW);
    if ((ss & 3) != level || c.dpl() != level || !writable_data) return Fault::ts(error);
    if (!(c.access & ACC_P)) return Fault::ss(error);
    mark_accessed(ss, d.value());
    c.access |= ACC_ACCESSED;
    return c;
}

Exec Cpu::switch_to_inner_stack(u8 level, u32 ext) {
    u16 ss = 0;
    u32 esp = 0;
    TRY(tss_stack(level, ss, esp));
    SegmentCache c = TRY(inner_stack_segment(ss, level, ext));
    set_cpl(level);
    m_seg[SEG_SS] = c;
    refresh_segment(SEG_SS);
    m_regs[REG_ESP] = esp;
    return {};
}

Result<SegmentCache, Fault> Cpu::outer_stack_segment(u16 ss, u8 level) {
    if ((ss & ~3u) == 0) return Fault::gp(0);
    u64 d = TRY(read_descriptor(ss));
    SegmentCache c = cache_from_descriptor(ss, d);
    bool writable_data = (c.access & (ACC_S | ACC_CODE | ACC_RW)) == (ACC_S | ACC_RW);
    if ((ss & 3) != level || c.dpl() != level || !writable_data) return Fault::gp(ss & 0xFFFC);
    if (!(c.access & ACC_P)) return Fault::ss(ss & 0xFFFC);
    mark_accessed(ss, d);
    c.access |= ACC_ACCESSED;
    return c;
}

void Cpu::null_invisible_segments() {
    // After a return to an outer level, a data segment (or non-conforming
    // code segment) more privileged than the new CPL must not stay usable
    // (SDM vol. 2, RET: "FOR each of segment register (ES, FS, GS, and DS)").
    for (SegReg s : {SEG_ES, SEG_DS, SEG_FS, SEG_GS}) {
        SegmentCache const& c = m_seg[s];
        bool conforming_code = c.is_code() && (c.access & ACC_DC);
        if (c.valid && !conforming_code && c.dpl() < m_cpl) load_null(s, 0);
    }
}

void Cpu::load_null(SegReg s, u16 selector) {
    SegmentCache c;
    c.selector = selector;
    c.valid = false;
    c.access = 0;
    m_seg[s] = c;
    refresh_segment(s);
}

Result<SegmentCache, Fault> Cpu::check_return_cs(u16 selector, u64 d) {
    u16 error = selector & 0xFFFC;
    SegmentCache c = cache_from_descriptor(selector, d);
    u8 rpl = selector & 3;
    if (!(c.access & ACC_S) || !c.is_code()) return Fault::gp(error);
    if (c.access & ACC_DC) {
        if (c.dpl() > rpl) return Fault::gp(error);
    } else if (c.dpl() != rpl) {
        return Fault::gp(error);
    }
    if (!(c.access & ACC_P)) return Fault::np(error);
    return c;
}

Exec Cpu::far_jump(u16 selector, u32 offset, bool op32) {
    if (!op32) offset &= 0xFFFF;
    if (!protected_mode() || v86_mode()) {
        // Real mode keeps the cached CS limit: check before loading.
        if (offset > m_seg[SEG_CS].limit) return Fault::gp(0);
        set_segment_real(SEG_CS, selector);
        m_eip = offset;
        return {};
    }
    if ((selector & ~3u) == 0) return Fault::gp(0);
    u64 d = TRY(read_descriptor(selector));
    SegmentCache c = cache_from_descriptor(selector, d);
    if (!(c.access & ACC_S)) {
        u8 type = c.access & 0xF;
        if (type == 0x4 || type == 0xC) return through_call_gate(selector, d, false);
        if (type == 0x1 || type == 0x9 || type == 0x5) return task_transfer(selector, d, TaskEntry::Jmp);
        return Fault::gp(selector & 0xFFFC);
    }
    if (offset > c.limit) return Fault::gp(0);
    TRY(load_cs_protected(selector, d));
    m_eip = offset;
    return {};
}

Exec Cpu::far_call(u16 selector, u32 offset, bool op32) {
    if (!op32) offset &= 0xFFFF;
    u32 sp = stack_pointer();
    u16 old_cs = m_seg[SEG_CS].selector;
    if (!protected_mode() || v86_mode()) {
        if (op32) {
            TRY(push_at<u32>(sp, old_cs));
            TRY(push_at<u32>(sp, m_eip));
        } else {
            TRY(push_at<u16>(sp, old_cs));
            TRY(push_at<u16>(sp, static_cast<u16>(m_eip)));
        }
        if (offset > m_seg[SEG_CS].limit) return Fault::gp(0);
        set_segment_real(SEG_CS, selector);
        set_stack_pointer(sp);
        m_eip = offset;
        return {};
    }
    if ((selector & ~3u) == 0) return Fault::gp(0);
    u64 d = TRY(read_descriptor(selector));
    SegmentCache c = cache_from_descriptor(selector, d);
    if (!(c.access & ACC_S)) {
        u8 type = c.access & 0xF;
        if (type == 0x4 || type == 0xC) return through_call_gate(selector, d, true);
        if (type == 0x1 || type == 0x9 || type == 0x5) return task_transfer(selector, d, TaskEntry::Call);
        return Fault::gp(selector & 0xFFFC);
    }
    if (offset > c.limit) return Fault::gp(0);
    if (op32) {
        TRY(push_at<u32>(sp, old_cs));
        TRY(push_at<u32>(sp, m_eip));
    } else {
        TRY(push_at<u16>(sp, old_cs));
        TRY(push_at<u16>(sp, static_cast<u16>(m_eip)));
    }
    TRY(load_cs_protected(selector, d));
    set_stack_pointer(sp);
    m_eip = offset;
    return {};
}

// JMP or CALL through a call gate (SDM vol. 3, 5.8.4-5.8.6). The gate's
// size, not the instruction's, sizes the pushes and the offset.
Exec Cpu::through_call_gate(u16 gate_sel, u64 gate, bool call) {
    u32 lo = static_cast<u32>(gate);
    u32 hi = static_cast<u32>(gate >> 32);
    u8 gate_dpl = (hi >> 13) & 3;
    if (gate_dpl < cpl() || gate_dpl < (gate_sel & 3)) return Fault::gp(gate_sel & 0xFFFC);
    if (!(hi & 0x8000)) return Fault::np(gate_sel & 0xFFFC);
    bool gate32 = ((hi >> 8) & 0xF) == 0xC;
    u16 target = static_cast<u16>(lo >> 16);
    u32 offset = (lo & 0xFFFF) | (gate32 ? (hi & 0xFFFF'0000u) : 0);
    unsigned params = hi & 0x1F;
    if ((target & ~3u) == 0) return Fault::gp(0);
    u64 d = TRY(read_descriptor(target));
    SegmentCache c = cache_from_descriptor(target, d);
    u16 error = target & 0xFFFC;
    if (!(c.access & ACC_S) || !c.is_code() || c.dpl() > cpl()) return Fault::gp(error);
    bool conforming = (c.access & ACC_DC) != 0;
    if (!call && !conforming && c.dpl() != cpl()) return Fault::gp(error);
    if (!(c.access & ACC_P)) return Fault::np(error);
    if (offset > c.limit) return Fault::gp(0);

    u16 old_cs = m_seg[SEG_CS].selector;
    u32 ret = m_eip;
    if (call && !conforming && c.dpl() < cpl()) {
        // CALL to an inner level: new stack from the TSS, then the old
        // SS:ESP, the parameters copied from the old stack, CS:EIP.
        u32 copied[32];
        u32 old_sp = stack_pointer();
        for (unsigned i = 0; i < params; ++i) {
            u32 at = (old_sp + i * (gate32 ? 4 : 2)) & stack_mask();
            copied[i] = gate32 ? TRY(read<u32>(SEG_SS, at)) : TRY(read<u16>(SEG_SS, at));
        }
        StackSnapshot snap = snapshot_stack();
        u16 old_ss = m_seg[SEG_SS].selector;
        u32 old_esp = m_regs[REG_ESP];
        TRY(switch_to_inner_stack(c.dpl(), 0));
        u32 sp = stack_pointer();
        Exec r = [&]() -> Exec {
            if (gate32) {
                TRY(push_at<u32>(sp, old_ss));
                TRY(push_at<u32>(sp, old_esp));
                for (unsigned i = params; i-- > 0;)
                    TRY(push_at<u32>(sp, copied[i]));
                TRY(push_at<u32>(sp, old_cs));
                TRY(push_at<u32>(sp, ret));
            } else {
                TRY(push_at<u16>(sp, old_ss));
                TRY(push_at<u16>(sp, static_cast<u16>(old_esp)));
                for (unsigned i = params; i-- > 0;)
                    TRY(push_at<u16>(sp, static_cast<u16>(copied[i])));
                TRY(push_at<u16>(sp, old_cs));
                TRY(push_at<u16>(sp, static_cast<u16>(ret)));
            }
            return {};
        }();
        if (!r) {
            restore_stack(snap);
            return r;
        }
        set_stack_pointer(sp);
        mark_accessed(target, d);
        c.access |= ACC_ACCESSED;
        c.selector = static_cast<u16>((target & ~3u) | c.dpl());
        set_segment_cache(SEG_CS, c);
        m_eip = offset;
        return {};
    }
    if (call) {
        u32 sp = stack_pointer();
        if (gate32) {
            TRY(push_at<u32>(sp, old_cs));
            TRY(push_at<u32>(sp, ret));
        } else {
            TRY(push_at<u16>(sp, old_cs));
            TRY(push_at<u16>(sp, static_cast<u16>(ret)));
        }
        set_stack_pointer(sp);
    }
    mark_accessed(target, d);
    c.access |= ACC_ACCESSED;
    c.selector = static_cast<u16>((target & ~3u) | cpl());
    m_seg[SEG_CS] = c;
    refresh_segment(SEG_CS);
    m_eip = offset;
    return {};
}

// RETF and IRET to an outer privilege level: the caller's SS:ESP follow on
// the stack (at `sp`); check the return CS and the new stack, then load CS,
// SS and ESP. Nothing changes unless every check passes.
Exec Cpu::return_to_outer_level(u16 selector, u64 d, u32 offset, u32& sp, u8 rpl, bool op32) {
    SegmentCache c = TRY(check_return_cs(selector, d));
    u32 new_esp = 0;
    u16 new_ss = 0;
    if (op32) {
        new_esp = TRY(pop_at<u32>(sp));
        new_ss = static_cast<u16>(TRY(pop_at<u32>(sp)));
    } else {
        new_esp = TRY(pop_at<u16>(sp));
        new_ss = TRY(pop_at<u16>(sp));
    }
    SegmentCache ssc = TRY(outer_stack_segment(new_ss, rpl));
    if (offset > c.limit) return Fault::gp(0);
    mark_accessed(selector, d);
    c.access |= ACC_ACCESSED;
    set_segment_cache(SEG_CS, c);
    m_seg[SEG_SS] = ssc;
    refresh_segment(SEG_SS);
    // A popped 16-bit SP is zero-extended into a 32-bit stack's ESP; a
    // 16-bit stack keeps the upper half (as Bochs and hardware do).
    if (!ssc.big()) new_esp = (m_regs[REG_ESP] & 0xFFFF'0000u) | (new_esp & 0xFFFF);
    m_regs[REG_ESP] = new_esp;
    return {};
}

Exec Cpu::far_return(bool op32, u16 release) {
    u32 sp = stack_pointer();
    u32 offset = 0;
    u16 selector = 0;
    if (op32) {
        offset = TRY(pop_at<u32>(sp));
        selector = static_cast<u16>(TRY(pop_at<u32>(sp)));
    } else {
        offset = TRY(pop_at<u16>(sp));
        selector = TRY(pop_at<u16>(sp));
    }
    sp = (sp + release) & stack_mask();
    if (!protected_mode() || v86_mode()) {
        if (offset > m_seg[SEG_CS].limit) return Fault::gp(0);
        set_segment_real(SEG_CS, selector);
        set_stack_pointer(sp);
        m_eip = offset;
        return {};
    }
    if ((selector & ~3u) == 0) return Fault::gp(0);
    u8 rpl = selector & 3;
    if (rpl < cpl()) return Fault::gp(selector & 0xFFFC);
    u64 d = TRY(read_descriptor(selector));
    if (rpl == cpl()) {
        SegmentCache c = cache_from_descriptor(selector, d);
        if (offset > c.limit) return Fault::gp(0);
        TRY(load_cs_protected(selector, d));
        set_stack_pointer(sp);
        m_eip = offset;
        return {};
    }
    // To an outer level: the caller's SS:ESP follow CS:EIP.
    TRY(return_to_outer_level(selector, d, offset, sp, rpl, op32));
    set_stack_pointer(stack_pointer() + release);
    null_invisible_segments();
    m_eip = offset;
    return {};
}

Exec Cpu::interrupt_return(bool op32) {
    if (v86_mode()) return v86_iret(op32);
    if (protected_mode() && (m_eflags & FLAG_NT)) return task_return();
    u32 sp = stack_pointer();
    u32 offset = 0;
    u16 selector = 0;
    u32 flags = 0;
    if (op32) {
        offset = TRY(pop_at<u32>(sp));
        selector = static_cast<u16>(TRY(pop_at<u32>(sp)));
        flags = TRY(pop_at<u32>(sp));
    } else {
        offset = TRY(pop_at<u16>(sp));
        selector = TRY(pop_at<u16>(sp));
        flags = TRY(pop_at<u16>(sp));
    }
    if (protected_mode() && op32 && (flags & FLAG_VM) && cpl() == 0)
        return iret_to_v86(offset, selector, flags, sp);
    u32 old = eflags();
    // Which bits IRET may change (SDM vol. 2, IRET): 16-bit forms keep the
    // upper half; VM is not loaded here; IOPL, VIF and VIP only at CPL 0
    // (never in real mode) and IF only when CPL <= IOPL (all judged at the
    // old CPL).
    u32 changeable = op32 ? (FLAGS_VALID & ~FLAG_VM) : 0xFFFFu;
    if (protected_mode()) {
        if (cpl() > 0) changeable &= ~(FLAG_IOPL | FLAG_VIF | FLAG_VIP);
        if (cpl() > iopl()) changeable &= ~FLAG_IF;
    } else {
        changeable &= ~(FLAG_VIF | FLAG_VIP);
    }
    u32 new_flags = (old & ~changeable) | (flags & changeable);
    if (!protected_mode()) {
        if (!op32) offset &= 0xFFFF;
        if (offset > m_seg[SEG_CS].limit) return Fault::gp(0);
        set_segment_real(SEG_CS, selector);
        set_stack_pointer(sp);
        set_eflags(new_flags);
        m_nmi_blocked = false;
        m_eip = offset;
        return {};
    }
    if ((selector & ~3u) == 0) return Fault::gp(0);
    u8 rpl = selector & 3;
    if (rpl < cpl()) return Fault::gp(selector & 0xFFFC);
    u64 d = TRY(read_descriptor(selector));
    if (!op32) offset &= 0xFFFF;
    if (rpl == cpl()) {
        SegmentCache c = cache_from_descriptor(selector, d);
        if (offset > c.limit) return Fault::gp(0);
        TRY(load_cs_protected(selector, d));
        set_stack_pointer(sp);
        set_eflags(new_flags);
        m_nmi_blocked = false;
        m_eip = offset;
        return {};
    }
    TRY(return_to_outer_level(selector, d, offset, sp, rpl, op32));
    set_eflags(new_flags);
    null_invisible_segments();
    m_nmi_blocked = false;
    m_eip = offset;
    return {};
}

} // namespace vsa
