// SPDX-License-Identifier: GPL-2.0-or-later
// Hardware task switching (SDM vol. 3, chapter 7): 16- and 32-bit TSS,
// entered by JMP or CALL to a TSS descriptor or a task gate, by an
// interrupt or exception through a task gate (interrupts.cpp), and left by
// IRET with EFLAGS.NT (the back link). Busy bits, the back link, NT, CR0.TS
// and the CR3 switch (32-bit TSS) follow table 7-2.
//
// Order of work: everything that can fault on the new task's side (its TSS
// fields, its LDT and segment descriptors) is read and checked before the
// old task's state is saved, so a bad new TSS faults in the old task with
// nothing changed (#TS/#NP/#SS with the selector as error code). Real
// CPUs raise some of these after the switch, in the new task; no guest we
// know relies on that difference.
//
// Left out: the debug trap bit (T) of the TSS is stored but raises no #DB;
// the I/O bitmap is used by check_io() (cpu.cpp).
#include "hypervisor/cpu/cpu.h"

namespace vsa {

namespace {
bool is_available_tss(u64 d) {
    u8 type = static_cast<u8>(d >> 40) & 0x1F;
    return type == 0x01 || type == 0x09;
}
bool is_busy_tss(u64 d) {
    u8 type = static_cast<u8>(d >> 40) & 0x1F;
    return type == 0x03 || type == 0x0B;
}
} // namespace

Exec Cpu::task_transfer(u16 selector, u64 d, TaskEntry how) {
    u16 error = selector & 0xFFFC;
    u8 dpl = static_cast<u8>(d >> 45) & 3;
    if (dpl < cpl() || dpl < (selector & 3)) return Fault::gp(error);
    if (!(d & (u64(ACC_P) << 40))) return Fault::np(error);
    u16 tss_sel = selector;
    u64 tss = d;
    if (((d >> 40) & 0xF) == 0x5) {
        // Task gate: names the TSS, which must be in the GDT and available.
        tss_sel = static_cast<u16>(d >> 16);
        if (tss_sel & 4) return Fault::gp(tss_sel & 0xFFFC);
        tss = TRY(read_descriptor(tss_sel));
        if (!(tss & (u64(ACC_P) << 40))) return Fault::np(tss_sel & 0xFFFC);
    }
    if ((tss_sel & 4) || !is_available_tss(tss)) return Fault::gp(tss_sel & 0xFFFC);
    return task_switch(tss_sel, tss, how, m_eip);
}

Exec Cpu::task_return() {
    u16 link = TRY(m_mmu.read_sys<u16>(m_tr.base));
    if ((link & ~3u) == 0 || (link & 4)) return Fault::ts(link & 0xFFFC);
    auto d = read_descriptor(link);
    if (!d) return Fault::ts(link & 0xFFFC);
    if (!is_busy_tss(d.value())) return Fault::ts(link & 0xFFFC);
    if (!(d.value() & (u64(ACC_P) << 40))) return Fault::np(link & 0xFFFC);
    return task_switch(link, d.value(), TaskEntry::Iret, m_eip);
}

namespace {
struct TaskImage {
    u32 cr3{0};
    u32 eip{0};
    u32 eflags{0};
    u32 regs[8]{};
    u16 seg[SEG_COUNT]{};
    u16 ldt{0};
};
} // namespace

Exec Cpu::task_switch(u16 selector, u64 d, TaskEntry how, u32 ret_eip) {
    u16 error = selector & 0xFFFC;
    SegmentCache next = cache_from_descriptor(selector, d);
    bool next32 = (next.access & 0x8) != 0;
    if (next.limit < (next32 ? 0x67u : 0x2Bu)) return Fault::ts(error);
    bool old32 = (m_tr.access & 0x8) != 0;
    if (m_tr.limit < (old32 ? 0x67u : 0x2Bu)) return Fault::ts(m_tr.selector & 0xFFFC);

    // 1. Read the new task's state.
    TaskImage img;
    u32 b = next.base;
    if (next32) {
        img.cr3 = TRY(m_mmu.read_sys<u32>(b + 0x1C));
        img.eip = TRY(m_mmu.read_sys<u32>(b + 0x20));
        img.eflags = TRY(m_mmu.read_sys<u32>(b + 0x24));
        for (unsigned i = 0; i < 8; ++i)
            img.regs[i] = TRY(m_mmu.read_sys<u32>(b + 0x28 + 4 * i));
        for (unsigned i = 0; i < SEG_COUNT; ++i)
            img.seg[i] = TRY(m_mmu.read_sys<u16>(b + 0x48 + 4 * i));
        img.ldt = TRY(m_mmu.read_sys<u16>(b + 0x60));
    } else {
        img.eip = TRY(m_mmu.read_sys<u16>(b + 0x0E));
        img.eflags = TRY(m_mmu.read_sys<u16>(b + 0x10));
        for (unsigned i = 0; i < 8; ++i)
            img.regs[i] = TRY(m_mmu.read_sys<u16>(b + 0x12 + 2 * i));
        for (unsigned i = 0; i < 4; ++i)
            img.seg[i] = TRY(m_mmu.read_sys<u16>(b + 0x22 + 2 * i));
        img.ldt = TRY(m_mmu.read_sys<u16>(b + 0x2A));
    }
    if (how == TaskEntry::Call || how == TaskEntry::Interrupt) img.eflags |= FLAG_NT;
    bool to_v86 = next32 && (img.eflags & FLAG_VM);

    // 2. Check the new LDT and segment descriptors.
    SegmentCache ldt;
    ldt.access = 0;
    ldt.valid = false;
    ldt.selector = img.ldt;
    if ((img.ldt & ~3u) != 0) {
        if (img.ldt & 4) return Fault::ts(img.ldt & 0xFFFC);
        auto ld = read_descriptor(img.ldt);
        if (!ld) return Fault::ts(img.ldt & 0xFFFC);
        ldt = cache_from_descriptor(img.ldt, ld.value());
        if ((ldt.access & 0x1F) != 0x02) return Fault::ts(img.ldt & 0xFFFC);
        if (!(ldt.access & ACC_P)) return Fault::ts(img.ldt & 0xFFFC);
    }
    SegmentCache caches[SEG_COUNT];
    u64 descs[SEG_COUNT]{};
    u8 new_cpl = to_v86 ? 3 : (img.seg[SEG_CS] & 3);
    if (!to_v86) {
        for (unsigned i = 0; i < SEG_COUNT; ++i) {
            u16 sel = img.seg[i];
            u16 serr = sel & 0xFFFC;
            if ((sel & ~3u) == 0) {
                if (i == SEG_CS || i == SEG_SS) return Fault::ts(serr);
                caches[i].selector = sel;
                caches[i].valid = false;
                caches[i].access = 0;
                continue;
            }
            auto sd = read_descriptor_in(sel, ldt);
            if (!sd) return Fault::ts(serr);
            descs[i] = sd.value();
            SegmentCache c = cache_from_descriptor(sel, sd.value());
            bool code = c.is_code();
            bool conforming = code && (c.access & ACC_DC);
            if (!(c.access & ACC_S)) return Fault::ts(serr);
            if (i == SEG_CS) {
                if (!code) return Fault::ts(serr);
                if (conforming ? c.dpl() > new_cpl : c.dpl() != new_cpl) return Fault::ts(serr);
                if (!(c.access & ACC_P)) return Fault::np(serr);
            } else if (i == SEG_SS) {
                if (code || !(c.access & ACC_RW) || c.dpl() != new_cpl || (sel & 3) != new_cpl)
                    return Fault::ts(serr);
                if (!(c.access & ACC_P)) return Fault::ss(serr);
            } else {
                if (code && !(c.access & ACC_RW)) return Fault::ts(serr);
                if (!conforming && (c.dpl() < new_cpl || c.dpl() < (sel & 3))) return Fault::ts(serr);
                if (!(c.access & ACC_P)) return Fault::np(serr);
            }
            c.access |= ACC_ACCESSED;
            caches[i] = c;
        }
    }

    // 3. Save the old task's dynamic state. IRET leaves with NT clear in
    // the old task's image.
    u32 old_flags = eflags();
    if (how == TaskEntry::Iret) old_flags &= ~FLAG_NT;
    u32 ob = m_tr.base;
    if (old32) {
        TRY(m_mmu.write_sys<u32>(ob + 0x20, ret_eip));
        TRY(m_mmu.write_sys<u32>(ob + 0x24, old_flags));
        for (unsigned i = 0; i < 8; ++i)
            TRY(m_mmu.write_sys<u32>(ob + 0x28 + 4 * i, m_regs[i]));
        for (unsigned i = 0; i < SEG_COUNT; ++i)
            TRY(m_mmu.write_sys<u16>(ob + 0x48 + 4 * i, m_seg[i].selector));
    } else {
        TRY(m_mmu.write_sys<u16>(ob + 0x0E, static_cast<u16>(ret_eip)));
        TRY(m_mmu.write_sys<u16>(ob + 0x10, static_cast<u16>(old_flags)));
        for (unsigned i = 0; i < 8; ++i)
            TRY(m_mmu.write_sys<u16>(ob + 0x12 + 2 * i, static_cast<u16>(m_regs[i])));
        for (unsigned i = 0; i < 4; ++i)
            TRY(m_mmu.write_sys<u16>(ob + 0x22 + 2 * i, m_seg[i].selector));
    }

    // 4. Busy bits and the back link.
    u32 gdt = m_gdtr.base;
    if (how == TaskEntry::Jmp || how == TaskEntry::Iret) {
        u8 acc = TRY(m_mmu.read_sys<u8>(gdt + (m_tr.selector & ~7u) + 5));
        TRY(m_mmu.write_sys<u8>(gdt + (m_tr.selector & ~7u) + 5, static_cast<u8>(acc & ~0x02)));
    }
    if (how != TaskEntry::Iret) {
        TRY(m_mmu.write_sys<u8>(gdt + (selector & ~7u) + 5, static_cast<u8>(next.access | 0x02)));
    }
    if (how == TaskEntry::Call || how == TaskEntry::Interrupt) TRY(m_mmu.write_sys<u16>(b, m_tr.selector));

    // 5. Load the new task.
    next.access |= 0x02;
    m_tr = next;
    m_cr0 |= CR0_TS;
    if (next32) m_cr3 = img.cr3;
    update_paging(); // a task switch flushes the TLB
    for (unsigned i = 0; i < 8; ++i)
        m_regs[i] = next32 ? img.regs[i] : ((m_regs[i] & 0xFFFF'0000u) | (img.regs[i] & 0xFFFF));
    m_eip = img.eip;
    m_ldtr = ldt;
    m_eflags = (img.eflags & FLAGS_VALID) | FLAG_FIXED1 | (next32 ? 0 : (m_eflags & 0xFFFF'0000u & ~FLAG_VM));
    m_lf.op = FlagOp::None;
    if (to_v86) {
        for (unsigned i = 0; i < SEG_COUNT; ++i) {
            m_seg[i] = SegmentCache{};
            m_seg[i].selector = img.seg[i];
            m_seg[i].base = u32(img.seg[i]) << 4;
        }
        set_cpl(3);
        refresh_all_segments();
    } else {
        for (unsigned i = 0; i < SEG_COUNT; ++i) {
            if (descs[i]) mark_accessed(img.seg[i], descs[i]);
            m_seg[i] = caches[i];
        }
        refresh_all_segments();
        set_cpl(new_cpl);
    }
    m_events = true;
    return {};
}

} // namespace vsa
