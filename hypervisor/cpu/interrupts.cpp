// SPDX-License-Identifier: GPL-2.0-or-later
// Interrupt and exception delivery (SDM vol. 3, chapter 6; real mode:
// 20.1.4): through the IVT in real mode, through 16- and 32-bit interrupt
// and trap gates of the IDT in protected mode, with the double-fault and
// triple-fault rules of table 6-5.
//
// Gates to a more privileged level switch to the stack the TSS names for
// it; from V86 mode the handler also gets GS, FS, DS, ES on its stack and
// those registers are nulled; task gates switch tasks (tasks.cpp). INT n
// in V86 mode (IOPL-sensitive, redirected under CR4.VME) is sorted out in
// v86.cpp before it gets here.
#include "hypervisor/cpu/cpu.h"

namespace vsa {

namespace {
bool contributory(u8 vector) {
    return vector == VEC_DE || (vector >= VEC_TS && vector <= VEC_GP);
}
} // namespace

Exec Cpu::deliver(u8 vector, bool has_error, u32 error, u32 return_eip, bool software) {
    u32 sp = stack_pointer();
    if (!protected_mode()) {
        if (u32(vector) * 4 + 3 > m_idtr.limit) return Fault::gp(0);
        u16 flags = static_cast<u16>(eflags());
        TRY(push_at<u16>(sp, flags));
        TRY(push_at<u16>(sp, m_seg[SEG_CS].selector));
        TRY(push_at<u16>(sp, static_cast<u16>(return_eip)));
        u16 ip = TRY(m_mmu.read_sys<u16>(m_idtr.base + u32(vector) * 4));
        u16 cs = TRY(m_mmu.read_sys<u16>(m_idtr.base + u32(vector) * 4 + 2));
        set_stack_pointer(sp);
        m_eflags &= ~(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF);
        set_segment_real(SEG_CS, cs);
        m_eip = ip;
        m_halted = false;
        return {};
    }

    u32 ext = software ? 0 : 1;
    u32 idt_error = u32(vector) * 8 + 2 + ext;
    if (u32(vector) * 8 + 7 > m_idtr.limit) return Fault::gp(idt_error);
    u32 lo = TRY(m_mmu.read_sys<u32>(m_idtr.base + u32(vector) * 8));
    u32 hi = TRY(m_mmu.read_sys<u32>(m_idtr.base + u32(vector) * 8 + 4));
    u8 type = (hi >> 8) & 0x1F;
    bool gate32 = false;
    bool trap = false;
    switch (type) {
    case 0x05:
        break;
    case 0x06:
        break;
    case 0x07:
        trap = true;
        break;
    case 0x0E:
        gate32 = true;
        break;
    case 0x0F:
        gate32 = true;
        trap = true;
        break;
    default:
        return Fault::gp(idt_error);
    }
    u8 gate_dpl = (hi >> 13) & 3;
    if (software && gate_dpl < cpl()) return Fault::gp(idt_error);
    if (!(hi & 0x8000)) return Fault::np(idt_error);
    u16 selector = static_cast<u16>(lo >> 16);
    if (type == 0x05) {
        // Task gate: the handler is a task; the error code goes on its stack.
        if (selector & 4) return Fault::ts((selector & 0xFFFC) + ext);
        auto tss = read_descriptor(selector);
        if (!tss) return Fault::ts((selector & 0xFFFC) + ext);
        u8 tss_type = static_cast<u8>(tss.value() >> 40) & 0x1F;
        if (tss_type != 0x01 && tss_type != 0x09) return Fault::ts((selector & 0xFFFC) + ext);
        if (!(tss.value() & (u64(ACC_P) << 40))) return Fault::np((selector & 0xFFFC) + ext);
        TRY(task_switch(selector, tss.value(), TaskEntry::Interrupt, return_eip));
        if (has_error) {
            if (m_stack32)
                TRY(push<u32>(error));
            else
                TRY(push<u16>(static_cast<u16>(error)));
        }
        m_halted = false;
        return {};
    }
    u32 offset = (lo & 0xFFFF) | (gate32 ? (hi & 0xFFFF'0000u) : 0);
    if ((selector & ~3u) == 0) return Fault::gp(ext);
    auto desc = read_descriptor(selector);
    if (!desc) return Fault::gp((selector & 0xFFFC) + ext);
    SegmentCache c = cache_from_descriptor(selector, desc.value());
    if (!(c.access & ACC_S) || !c.is_code() || c.dpl() > cpl()) return Fault::gp((selector & 0xFFFC) + ext);
    if (!(c.access & ACC_P)) return Fault::np((selector & 0xFFFC) + ext);
    bool conforming = (c.access & ACC_DC) != 0;
    bool from_v86 = v86_mode();
    bool inner = !conforming && c.dpl() < cpl();
    // From V86 mode only a ring-0, non-conforming handler will do.
    if (from_v86 && (!inner || c.dpl() != 0)) return Fault::gp((selector & 0xFFFC) + ext);
    if (offset > c.limit) return Fault::gp(0);

    u32 flags = eflags();
    u16 old_cs = m_seg[SEG_CS].selector;
    StackSnapshot snap = snapshot_stack();
    u16 old_ss = m_seg[SEG_SS].selector;
    u32 old_esp = m_regs[REG_ESP];
    if (inner) {
        // The handler's stack comes from the TSS (SDM vol. 3, 6.12.1).
        TRY(switch_to_inner_stack(c.dpl(), ext));
    }
    sp = stack_pointer();
    Exec pushed = [&]() -> Exec {
        if (gate32) {
            if (from_v86) {
                TRY(push_at<u32>(sp, m_seg[SEG_GS].selector));
                TRY(push_at<u32>(sp, m_seg[SEG_FS].selector));
                TRY(push_at<u32>(sp, m_seg[SEG_DS].selector));
                TRY(push_at<u32>(sp, m_seg[SEG_ES].selector));
            }
            if (inner) {
                TRY(push_at<u32>(sp, old_ss));
                TRY(push_at<u32>(sp, old_esp));
            }
            TRY(push_at<u32>(sp, flags));
            TRY(push_at<u32>(sp, old_cs));
            TRY(push_at<u32>(sp, return_eip));
            if (has_error) TRY(push_at<u32>(sp, error));
        } else {
            if (from_v86) {
                TRY(push_at<u16>(sp, m_seg[SEG_GS].selector));
                TRY(push_at<u16>(sp, m_seg[SEG_FS].selector));
                TRY(push_at<u16>(sp, m_seg[SEG_DS].selector));
                TRY(push_at<u16>(sp, m_seg[SEG_ES].selector));
            }
            if (inner) {
                TRY(push_at<u16>(sp, old_ss));
                TRY(push_at<u16>(sp, static_cast<u16>(old_esp)));
            }
            TRY(push_at<u16>(sp, static_cast<u16>(flags)));
            TRY(push_at<u16>(sp, old_cs));
            TRY(push_at<u16>(sp, static_cast<u16>(return_eip)));
            if (has_error) TRY(push_at<u16>(sp, static_cast<u16>(error)));
        }
        return {};
    }();
    if (!pushed) {
        restore_stack(snap);
        return pushed;
    }
    mark_accessed(selector, desc.value());
    c.access |= ACC_ACCESSED;
    u8 new_cpl = inner ? c.dpl() : cpl();
    c.selector = static_cast<u16>((selector & ~3u) | new_cpl);
    set_stack_pointer(sp);
    m_eflags &= ~(FLAG_TF | FLAG_NT | FLAG_RF);
    if (!trap) m_eflags &= ~FLAG_IF;
    if (from_v86) {
        set_vm(false);
        for (SegReg s : {SEG_ES, SEG_DS, SEG_FS, SEG_GS})
            load_null(s, 0);
    }
    set_segment_cache(SEG_CS, c);
    m_eip = offset;
    m_halted = false;
    return {};
}

void Cpu::raise_exception(Fault fault, u32 fault_eip) {
    Fault current = fault;
    // Bounded: a benign fault while delivering a benign fault is delivered
    // in turn, and a machine whose every vector faults must still stop.
    for (int attempt = 0; attempt < 8; ++attempt) {
        if (current.vector == VEC_PF) m_cr2 = m_mmu.fault_address();
        auto r = deliver(current.vector, current.has_error, current.error, fault_eip, false);
        if (r) return;
        Fault next = r.error();
        if (current.vector == VEC_DF) break;
        bool df = (contributory(current.vector) && contributory(next.vector)) ||
                  (current.vector == VEC_PF && (next.vector == VEC_PF || contributory(next.vector)));
        current = df ? Fault::with_error(VEC_DF, 0) : next;
    }
    m_shutdown = true;
    m_shutdown_vector = current.vector;
    m_events = true;
}

} // namespace vsa
