// SPDX-License-Identifier: GPL-2.0-or-later
// Interrupt and exception delivery (SDM vol. 3, chapter 6; real mode:
// 20.1.4): through the IVT in real mode, through 16- and 32-bit interrupt
// and trap gates of the IDT in protected mode, with the double-fault and
// triple-fault rules of table 6-5.
//
// Left for issue 5 (delivery raises #GP with the IDT error code instead):
// task gates, and gates to a more privileged code segment, which need the
// stack switch through the TSS. Ring-0 guests (SeaBIOS, boot loaders)
// never take either.
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
        return Fault::gp(idt_error); // task gate (issue 5) or not a gate
    }
    u8 gate_dpl = (hi >> 13) & 3;
    if (software && gate_dpl < cpl()) return Fault::gp(idt_error);
    if (!(hi & 0x8000)) return Fault::np(idt_error);
    u16 selector = static_cast<u16>(lo >> 16);
    u32 offset = (lo & 0xFFFF) | (gate32 ? (hi & 0xFFFF'0000u) : 0);
    if ((selector & ~3u) == 0) return Fault::gp(ext);
    auto desc = read_descriptor(selector);
    if (!desc) return Fault::gp((selector & 0xFFFC) + ext);
    SegmentCache c = cache_from_descriptor(selector, desc.value());
    if (!(c.access & ACC_S) || !c.is_code() || c.dpl() > cpl()) return Fault::gp((selector & 0xFFFC) + ext);
    if (!(c.access & ACC_P)) return Fault::np((selector & 0xFFFC) + ext);
    bool conforming = (c.access & ACC_DC) != 0;
    if (!conforming && c.dpl() < cpl()) return Fault::gp((selector & 0xFFFC) + ext); // stack switch: issue 5
    if (offset > c.limit) return Fault::gp(0);

    u32 flags = eflags();
    u16 old_cs = m_seg[SEG_CS].selector;
    if (gate32) {
        TRY(push_at<u32>(sp, flags));
        TRY(push_at<u32>(sp, old_cs));
        TRY(push_at<u32>(sp, return_eip));
        if (has_error) TRY(push_at<u32>(sp, error));
    } else {
        TRY(push_at<u16>(sp, static_cast<u16>(flags)));
        TRY(push_at<u16>(sp, old_cs));
        TRY(push_at<u16>(sp, static_cast<u16>(return_eip)));
        if (has_error) TRY(push_at<u16>(sp, static_cast<u16>(error)));
    }
    mark_accessed(selector, desc.value());
    c.access |= ACC_ACCESSED;
    c.selector = static_cast<u16>((selector & ~3u) | cpl());
    m_seg[SEG_CS] = c;
    refresh_segment(SEG_CS);
    set_stack_pointer(sp);
    m_eflags &= ~(FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM);
    if (!trap) m_eflags &= ~FLAG_IF;
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
