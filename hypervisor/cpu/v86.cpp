// SPDX-License-Identifier: GPL-2.0-or-later
// Virtual-8086 mode (SDM vol. 3, chapter 20): entered by IRET from CPL 0
// with VM set in the popped EFLAGS image (or by a task switch to a TSS
// whose EFLAGS has VM), left by any interrupt or exception (a ring-0
// handler; interrupts.cpp pushes GS, FS, DS, ES and nulls them). Inside,
// segment registers hold paragraphs as in real mode, CPL is 3, and the
// IOPL-sensitive instructions (CLI, STI, PUSHF, POPF, INT n, IRET) raise
// #GP(0) for the monitor unless IOPL is 3; IN/OUT consult only the I/O
// permission bitmap.
//
// Left out: CR4.VME (virtual interrupt flag, interrupt redirection
// bitmap) and CR4.PVI; CPUID does not advertise VME.
#include "hypervisor/cpu/cpu.h"

namespace vsa {

namespace {
SegmentCache paragraph_segment(u16 selector) {
    SegmentCache c;
    c.selector = selector;
    c.base = u32(selector) << 4;
    return c;
}
} // namespace

// IRET inside V86 mode at IOPL 3: a real-mode IRET that can change
// neither IOPL nor VM.
Exec Cpu::v86_iret(bool op32) {
    if (iopl() < 3) return Fault::gp(0);
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
    if (offset > 0xFFFF) return Fault::gp(0);
    u32 changeable = (op32 ? FLAGS_VALID : 0xFFFFu) & ~(FLAG_IOPL | FLAG_VM);
    set_segment_real(SEG_CS, selector);
    set_stack_pointer(sp);
    set_eflags((eflags() & ~changeable) | (flags & changeable));
    m_nmi_blocked = false;
    m_eip = offset;
    return {};
}

// IRETD at CPL 0 with VM in the image: the rest of the V86 frame follows
// (ESP, SS, ES, DS, FS, GS; SDM vol. 2, IRET, RETURN-TO-VIRTUAL-8086-MODE).
Exec Cpu::iret_to_v86(u32 eip, u16 cs, u32 flags, u32 sp) {
    u32 new_esp = TRY(pop_at<u32>(sp));
    u16 sel[SEG_COUNT]{};
    sel[SEG_CS] = cs;
    sel[SEG_SS] = static_cast<u16>(TRY(pop_at<u32>(sp)));
    sel[SEG_ES] = static_cast<u16>(TRY(pop_at<u32>(sp)));
    sel[SEG_DS] = static_cast<u16>(TRY(pop_at<u32>(sp)));
    sel[SEG_FS] = static_cast<u16>(TRY(pop_at<u32>(sp)));
    sel[SEG_GS] = static_cast<u16>(TRY(pop_at<u32>(sp)));
    m_eflags = (flags & FLAGS_VALID) | FLAG_VM | FLAG_FIXED1;
    m_lf.op = FlagOp::None;
    for (unsigned i = 0; i < SEG_COUNT; ++i)
        m_seg[i] = paragraph_segment(sel[i]);
    refresh_all_segments();
    set_cpl(3);
    m_regs[REG_ESP] = new_esp;
    m_eip = eip & 0xFFFF;
    m_nmi_blocked = false;
    m_events = true;
    return {};
}

} // namespace vsa
