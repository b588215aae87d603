// SPDX-License-Identifier: GPL-2.0-or-later
// Virtual-8086 mode (SDM vol. 3, chapter 20): entered by IRET from CPL 0
// with VM set in the popped EFLAGS image (or by a task switch to a TSS
// whose EFLAGS has VM), left by any interrupt or exception (a ring-0
// handler; interrupts.cpp pushes GS, FS, DS, ES and nulls them). Inside,
// segment registers hold paragraphs as in real mode, CPL is 3, and the
// IOPL-sensitive instructions (CLI, STI, PUSHF, POPF, INT n, IRET) raise
// #GP(0) for the monitor unless IOPL is 3; IN/OUT consult only the I/O
// permission bitmap. INT3, INTO and INT1 are not IOPL-sensitive: they go
// to the IDT like exceptions (SDM vol. 2, INT n).
//
// The virtual-8086 mode extensions (CR4.VME, Pentium; CPUID.1:EDX bit 1):
// - INT n consults the interrupt redirection bitmap, the 32 bytes below
//   the I/O permission bitmap of the TSS. A clear bit sends the interrupt
//   through the 8086 program's own vector table at linear address 0, like
//   real mode, without leaving V86 mode (methods 5 and 6 of table 20-2); a
//   set bit behaves as without VME (IDT at IOPL 3, #GP(0) below).
// - At IOPL < 3, EFLAGS.VIF stands in for IF: CLI/STI change VIF (STI
//   with VIP set is #GP(0), so the monitor can deliver the interrupt it
//   held back), 16-bit PUSHF shows VIF as IF and IOPL as 3, 16-bit POPF
//   and IRET load IF into VIF (#GP(0) if the image has TF, or IF while
//   VIP is set) and leave IF and IOPL alone. PUSHFD/POPFD/IRETD still trap.
//   Redirected interrupts push the same kind of image and clear VIF.
// Protected-mode virtual interrupts (CR4.PVI, 20.4): at CPL 3 and IOPL < 3
// CLI/STI change VIF the same way (exec_system.cpp); nothing else changes.
// Hardware interrupts and exceptions always go to the IDT; VIF masks
// nothing and the processor never sets VIP (the monitor does).
//
// Left out: nothing of VME/PVI that we know of. The redirected INT n reads
// the vector table with supervisor rights (as Bochs does): the SDM does
// not say which rights apply, and a V86 task must map its vector table
// page anyway.
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

// Bit `vector` of the interrupt redirection bitmap, which ends where the
// I/O permission bitmap starts (SDM vol. 3, figure 20-5). A TSS without
// room for it (16-bit, too short, map base below 32) is #GP(0), as the
// I/O bitmap check does.
Loaded<bool> Cpu::redirection_bit(u8 vector) {
    u8 type = m_tr.access & 0xF;
    if ((type != 0x9 && type != 0xB) || m_tr.limit < 0x67) return Fault::gp(0);
    u16 map_base = TRY(m_mmu.read_sys<u16>(m_tr.base + 0x66));
    if (map_base < 32) return Fault::gp(0);
    u32 byte = u32(map_base) - 32 + vector / 8;
    if (byte > m_tr.limit) return Fault::gp(0);
    u8 bits = TRY(m_mmu.read_sys<u8>(m_tr.base + byte));
    return ((bits >> (vector & 7)) & 1) != 0;
}

// Methods 5 and 6 of table 20-2: a real-mode style call through the
// vector table of the V86 task. At IOPL < 3 the FLAGS image carries VIF
// in IF and IOPL 3, and VIF is what gets cleared.
Exec Cpu::redirect_to_v86_handler(u8 vector, u32 return_eip) {
    u16 ip = TRY(m_mmu.read_sys<u16>(u32(vector) * 4));
    u16 cs = TRY(m_mmu.read_sys<u16>(u32(vector) * 4 + 2));
    u32 flags = eflags();
    bool virt = iopl() < 3;
    u16 image = static_cast<u16>(flags);
    if (virt) image = static_cast<u16>((image & ~FLAG_IF) | FLAG_IOPL | ((flags & FLAG_VIF) ? FLAG_IF : 0));
    u32 sp = stack_pointer();
    TRY(push_at<u16>(sp, image));
    TRY(push_at<u16>(sp, m_seg[SEG_CS].selector));
    TRY(push_at<u16>(sp, static_cast<u16>(return_eip)));
    set_stack_pointer(sp);
    set_segment_real(SEG_CS, cs);
    m_eip = ip;
    set_eflags(flags & ~(FLAG_TF | (virt ? FLAG_VIF : FLAG_IF)));
    return {};
}

Exec Cpu::v86_software_interrupt(u8 vector, u32 return_eip) {
    if (m_cr4 & CR4_VME) {
        bool to_idt = TRY(redirection_bit(vector));
        if (!to_idt) return redirect_to_v86_handler(vector, return_eip);
    }
    if (iopl() < 3) return Fault::gp(0); // methods 2 and 3: the monitor
    return deliver(vector, false, 0, return_eip, true);
}

Loaded<u32> Cpu::v86_virtual_flags(u16 image) const {
    u32 now = eflags();
    if ((image & FLAG_TF) || ((image & FLAG_IF) && (now & FLAG_VIP))) return Fault::gp(0);
    constexpr u32 CHANGEABLE = 0xFFFFu & ~(FLAG_IF | FLAG_IOPL);
    u32 next = (now & ~(CHANGEABLE | FLAG_VIF)) | (image & CHANGEABLE);
    return (image & FLAG_IF) ? (next | FLAG_VIF) : next;
}

// IRET inside V86 mode: at IOPL 3 a real-mode IRET that can change
// neither IOPL nor VM (nor, as IRETD, VIF and VIP); at IOPL < 3 only the
// 16-bit form under CR4.VME runs, on VIF.
Exec Cpu::v86_iret(bool op32) {
    bool virt = iopl() < 3;
    if (virt && (op32 || !(m_cr4 & CR4_VME))) return Fault::gp(0);
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
    u32 next = 0;
    if (virt) {
        next = TRY(v86_virtual_flags(static_cast<u16>(flags)));
    } else {
        u32 changeable = (op32 ? FLAGS_VALID : 0xFFFFu) & ~(FLAG_IOPL | FLAG_VM | FLAG_VIF | FLAG_VIP);
        next = (eflags() & ~changeable) | (flags & changeable);
    }
    set_segment_real(SEG_CS, selector);
    set_stack_pointer(sp);
    set_eflags(next);
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
