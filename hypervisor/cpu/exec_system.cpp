// SPDX-License-Identifier: GPL-2.0-or-later
// System instructions (SDM vol. 2 and vol. 3): CLI/STI (with the STI
// interrupt shadow), HLT, IN/OUT, CPUID, RDTSC, MOV to/from CRn and DRn,
// group 6 (SLDT STR LLDT LTR VERR VERW), group 7 (SGDT SIDT LGDT LIDT SMSW
// LMSW INVLPG), CLTS, LAR, LSL, ARPL, INVD, WBINVD.
//
// CPUID and the P6 additions are in exec_p6.cpp.
//
// Privileged instructions are #GP(0) at CPL > 0 (and in V86 mode); group
// 6, LAR, LSL and ARPL are #UD in real and V86 mode. INVLPG drops one page
// from the TLB; MOV CR4 accepts only the bits Cpu::CR4_VALID lists. CLI
// and STI change VIF under CR4.VME/PVI (v86.cpp has the overview).
#include "hypervisor/cpu/exec_common.h"

namespace vsa {

namespace {

Exec privileged(Cpu& cpu) {
    if (cpu.protected_mode() && cpu.cpl() != 0) return Fault::gp(0);
    return {};
}

// CLI/STI change IF at CPL <= IOPL (V86 mode: IOPL 3). Above it they
// change VIF under CR4.VME (V86 mode) or CR4.PVI (CPL 3), and are #GP(0)
// otherwise (SDM vol. 2, CLI/STI; vol. 3, 20.3.2 and 20.4).
Exec cli(Cpu& cpu, DecodedInsn const&) {
    if (!cpu.protected_mode() || cpu.cpl() <= cpu.iopl()) {
        cpu.set_eflags(cpu.eflags() & ~FLAG_IF);
        return {};
    }
    if (!cpu.virtual_interrupts()) return Fault::gp(0);
    cpu.set_eflags(cpu.eflags() & ~FLAG_VIF);
    return {};
}

Exec sti(Cpu& cpu, DecodedInsn const&) {
    if (cpu.protected_mode() && cpu.cpl() > cpu.iopl()) {
        if (!cpu.virtual_interrupts()) return Fault::gp(0);
        // VIP: the monitor holds an interrupt back until the program
        // enables them; this #GP(0) is its cue. Setting VIF has no
        // interrupt shadow: IF, which gates INTR, does not change.
        u32 flags = cpu.eflags();
        if (flags & FLAG_VIP) return Fault::gp(0);
        cpu.set_eflags(flags | FLAG_VIF);
        return {};
    }
    bool was_enabled = cpu.interrupts_enabled();
    cpu.set_eflags(cpu.eflags() | FLAG_IF);
    // One more instruction runs before an interrupt (STI; HLT sleeps
    // with interrupts on, STI; RET returns first).
    if (!was_enabled) cpu.inhibit_interrupts();
    return {};
}

Exec hlt(Cpu& cpu, DecodedInsn const&) {
    TRY(privileged(cpu));
    cpu.halt();
    return {};
}

template <typename T>
Width width_of() {
    return sizeof(T) == 1 ? Width::Byte : sizeof(T) == 2 ? Width::Word : Width::Dword;
}

// IN acc, imm8 / DX (E4, E5, EC, ED)
template <typename T, bool DX>
Exec in(Cpu& cpu, DecodedInsn const& insn) {
    Port port = DX ? cpu.reg<u16>(REG_EDX) : static_cast<Port>(insn.imm & 0xFF);
    TRY(cpu.check_io(port, sizeof(T)));
    cpu.set_reg<T>(REG_EAX, static_cast<T>(cpu.io_in(port, width_of<T>())));
    return {};
}

// OUT imm8 / DX, acc (E6, E7, EE, EF)
template <typename T, bool DX>
Exec out(Cpu& cpu, DecodedInsn const& insn) {
    Port port = DX ? cpu.reg<u16>(REG_EDX) : static_cast<Port>(insn.imm & 0xFF);
    TRY(cpu.check_io(port, sizeof(T)));
    cpu.io_out(port, width_of<T>(), cpu.reg<T>(REG_EAX));
    return {};
}

Exec rdtsc(Cpu& cpu, DecodedInsn const&) {
    if ((cpu.cr4() & CR4_TSD) && cpu.protected_mode() && cpu.cpl() != 0) return Fault::gp(0);
    u64 tsc = cpu.rdtsc_value();
    cpu.set_eax(static_cast<u32>(tsc));
    cpu.set_edx(static_cast<u32>(tsc >> 32));
    return {};
}

// MOV r32, CRn (0F 20) and MOV CRn, r32 (0F 22); the operand size is
// always 32 bits and mod is ignored.
Exec mov_from_cr(Cpu& cpu, DecodedInsn const& insn) {
    TRY(privileged(cpu));
    if (insn.reg == 1 || insn.reg > 4) return Fault::invalid_opcode();
    cpu.set_reg32(insn.rm, cpu.cr(insn.reg));
    return {};
}

Exec mov_to_cr(Cpu& cpu, DecodedInsn const& insn) {
    TRY(privileged(cpu));
    if (insn.reg == 1 || insn.reg > 4) return Fault::invalid_opcode();
    u32 v = cpu.reg32(insn.rm);
    if (insn.reg == 0) {
        // PG without PE, or NW without CD, is #GP(0) (SDM vol. 3, 2.5).
        if ((v & CR0_PG) && !(v & CR0_PE)) return Fault::gp(0);
        if ((v & (1u << 29)) && !(v & (1u << 30))) return Fault::gp(0);
    }
    if (insn.reg == 4 && (v & ~Cpu::CR4_VALID)) return Fault::gp(0);
    cpu.set_cr(insn.reg, v);
    return {};
}

Exec mov_from_dr(Cpu& cpu, DecodedInsn const& insn) {
    TRY(privileged(cpu));
    unsigned n = insn.reg;
    if ((n == 4 || n == 5) && (cpu.cr4() & CR4_DE)) return Fault::invalid_opcode();
    if (n == 4 || n == 5) n += 2; // aliases of DR6/DR7 while CR4.DE = 0
    cpu.set_reg32(insn.rm, cpu.dr(n));
    return {};
}

Exec mov_to_dr(Cpu& cpu, DecodedInsn const& insn) {
    TRY(privileged(cpu));
    unsigned n = insn.reg;
    if ((n == 4 || n == 5) && (cpu.cr4() & CR4_DE)) return Fault::invalid_opcode();
    if (n == 4 || n == 5) n += 2;
    cpu.set_dr(n, cpu.reg32(insn.rm));
    return {};
}

Exec clts(Cpu& cpu, DecodedInsn const&) {
    TRY(privileged(cpu));
    cpu.set_cr0(cpu.cr0() & ~CR0_TS);
    return {};
}

Exec nop_privileged(Cpu& cpu, DecodedInsn const&) {
    // INVD, WBINVD: there are no caches to write back or drop.
    return privileged(cpu);
}

// INVLPG m: drops the TLB entries of the page holding the operand's
// linear address (no segment-limit check: the operand is not accessed).
Exec invlpg(Cpu& cpu, DecodedInsn const& insn) {
    TRY(privileged(cpu));
    cpu.mmu().flush_page(cpu.segment_base(static_cast<SegReg>(insn.seg)) + cpu.ea(insn));
    return {};
}

// Group 7 /0 /1: SGDT, SIDT. A 16-bit operand size stores a 24-bit base
// with the top byte zero.
template <bool IDT>
Exec store_table(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.mod == 3) return Fault::invalid_opcode();
    TableRegister t = IDT ? cpu.idtr() : cpu.gdtr();
    u32 off = cpu.ea(insn);
    u32 base = insn.op32 ? t.base : (t.base & 0x00FF'FFFF);
    TRY(cpu.check_write<2>(insn.seg, off));
    TRY(cpu.check_write<4>(insn.seg, (off + 2) & addr_mask(insn)));
    TRY(cpu.write<u16>(insn.seg, off, t.limit));
    return cpu.write<u32>(insn.seg, (off + 2) & addr_mask(insn), base);
}

template <bool IDT>
Exec load_table(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.mod == 3) return Fault::invalid_opcode();
    TRY(privileged(cpu));
    u32 off = cpu.ea(insn);
    u16 limit = TRY(cpu.read<u16>(insn.seg, off));
    u32 base = TRY(cpu.read<u32>(insn.seg, (off + 2) & addr_mask(insn)));
    if (!insn.op32) base &= 0x00FF'FFFF;
    if (IDT)
        cpu.set_idtr(TableRegister{base, limit});
    else
        cpu.set_gdtr(TableRegister{base, limit});
    return {};
}

Exec smsw(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.mod == 3) {
        if (insn.op32)
            cpu.set_reg32(insn.rm, cpu.cr0());
        else
            cpu.set_reg<u16>(insn.rm, static_cast<u16>(cpu.cr0()));
        return {};
    }
    return cpu.write<u16>(insn.seg, cpu.ea(insn), static_cast<u16>(cpu.cr0()));
}

// LMSW loads PE, MP, EM, TS; it can set PE but never clear it.
Exec lmsw(Cpu& cpu, DecodedInsn const& insn) {
    TRY(privileged(cpu));
    u16 v = TRY(cpu.read_rm<u16>(insn));
    u32 cr0 = cpu.cr0();
    u32 low = (cr0 & CR0_PE) | (v & 0xF);
    cpu.set_cr0((cr0 & ~0xFu) | low);
    return {};
}

Exec group7(Cpu& cpu, DecodedInsn const& insn) {
    switch (insn.reg) {
    case 0:
        return store_table<false>(cpu, insn);
    case 1:
        return store_table<true>(cpu, insn);
    case 2:
        return load_table<false>(cpu, insn);
    case 3:
        return load_table<true>(cpu, insn);
    case 4:
        return smsw(cpu, insn);
    case 6:
        return lmsw(cpu, insn);
    case 7:
        if (insn.mod == 3) return Fault::invalid_opcode();
        return invlpg(cpu, insn);
    default:
        return Fault::invalid_opcode();
    }
}

// Group 6 and LAR/LSL/ARPL exist only in protected mode (#UD in real mode).
Exec sldt_str(Cpu& cpu, DecodedInsn const& insn, u16 sel) {
    if (insn.mod == 3) {
        if (insn.op32)
            cpu.set_reg32(insn.rm, sel);
        else
            cpu.set_reg<u16>(insn.rm, sel);
        return {};
    }
    return cpu.write<u16>(insn.seg, cpu.ea(insn), sel);
}

Exec lldt(Cpu& cpu, DecodedInsn const& insn) {
    TRY(privileged(cpu));
    u16 sel = TRY(cpu.read_rm<u16>(insn));
    if ((sel & ~3u) == 0) {
        SegmentCache c;
        c.selector = sel;
        c.valid = false;
        c.access = 0;
        cpu.set_ldtr(c);
        return {};
    }
    if (sel & 4) return Fault::gp(sel & 0xFFFC);
    u64 d = TRY(cpu.read_descriptor(sel));
    SegmentCache c = Cpu::cache_from_descriptor(sel, d);
    if ((c.access & 0x1F) != 0x02) return Fault::gp(sel & 0xFFFC);
    if (!(c.access & ACC_P)) return Fault::np(sel & 0xFFFC);
    cpu.set_ldtr(c);
    return {};
}

Exec ltr(Cpu& cpu, DecodedInsn const& insn) {
    TRY(privileged(cpu));
    u16 sel = TRY(cpu.read_rm<u16>(insn));
    if ((sel & ~3u) == 0) return Fault::gp(0);
    if (sel & 4) return Fault::gp(sel & 0xFFFC);
    u64 d = TRY(cpu.read_descriptor(sel));
    SegmentCache c = Cpu::cache_from_descriptor(sel, d);
    u8 type = c.access & 0x1F;
    if (type != 0x01 && type != 0x09) return Fault::gp(sel & 0xFFFC); // available TSS only
    if (!(c.access & ACC_P)) return Fault::np(sel & 0xFFFC);
    c.access |= 0x02; // busy
    TRY(cpu.mmu().write_sys<u8>(cpu.gdtr().base + (sel & ~7u) + 5, c.access));
    cpu.set_tr(c);
    return {};
}

// Is the descriptor visible at this CPL/RPL for LAR, LSL, VERR, VERW?
bool visible(Cpu& cpu, u16 sel, SegmentCache const& c) {
    bool conforming_code = (c.access & (ACC_S | ACC_CODE | ACC_DC)) == (ACC_S | ACC_CODE | ACC_DC);
    if (conforming_code) return true;
    return c.dpl() >= cpu.cpl() && c.dpl() >= (sel & 3);
}

// LAR/LSL/VERR/VERW report through ZF; a selector beyond the table is
// ZF = 0, not a fault.
Result<u64, Fault> probe(Cpu& cpu, u16 sel, bool& found) {
    found = false;
    if ((sel & ~3u) == 0) return u64(0);
    auto d = cpu.read_descriptor(sel);
    if (!d) {
        if (d.error().vector == VEC_GP) return u64(0);
        return d.error();
    }
    found = true;
    return d.value();
}

Exec verr_verw(Cpu& cpu, DecodedInsn const& insn, bool write) {
    u16 sel = TRY(cpu.read_rm<u16>(insn));
    bool found = false;
    u64 d = TRY(probe(cpu, sel, found));
    bool ok = false;
    if (found) {
        SegmentCache c = Cpu::cache_from_descriptor(sel, d);
        if ((c.access & ACC_S) && visible(cpu, sel, c)) {
            if (write)
                ok = !c.is_code() && (c.access & ACC_RW);
            else
                ok = !c.is_code() || (c.access & ACC_RW);
        }
    }
    cpu.set_arith_flag(FLAG_ZF, ok);
    return {};
}

Exec group6(Cpu& cpu, DecodedInsn const& insn) {
    if (cpu.real_addressing()) return Fault::invalid_opcode();
    switch (insn.reg) {
    case 0:
        return sldt_str(cpu, insn, cpu.ldtr().selector);
    case 1:
        return sldt_str(cpu, insn, cpu.tr().selector);
    case 2:
        return lldt(cpu, insn);
    case 3:
        return ltr(cpu, insn);
    case 4:
        return verr_verw(cpu, insn, false);
    case 5:
        return verr_verw(cpu, insn, true);
    default:
        return Fault::invalid_opcode();
    }
}

template <typename T, bool LSL>
Exec lar_lsl(Cpu& cpu, DecodedInsn const& insn) {
    if (cpu.real_addressing()) return Fault::invalid_opcode();
    u16 sel = TRY(cpu.read_rm<u16>(insn));
    bool found = false;
    u64 d = TRY(probe(cpu, sel, found));
    bool ok = false;
    if (found) {
        SegmentCache c = Cpu::cache_from_descriptor(sel, d);
        if (c.access & ACC_S) {
            ok = visible(cpu, sel, c);
        } else {
            u8 type = c.access & 0xF;
            // LSL: TSS and LDT types; LAR also accepts gates.
            bool valid = type == 1 || type == 2 || type == 3 || type == 9 || type == 0xB;
            if (!LSL) valid = valid || type == 4 || type == 5 || type == 0xC;
            ok = valid && visible(cpu, sel, c);
        }
        if (ok) {
            if (LSL)
                cpu.set_reg<T>(insn.reg, static_cast<T>(c.limit));
            else
                cpu.set_reg<T>(insn.reg, static_cast<T>(static_cast<u32>(d >> 32) & 0x00FF'FF00u));
        }
    }
    cpu.set_arith_flag(FLAG_ZF, ok);
    return {};
}

Exec arpl(Cpu& cpu, DecodedInsn const& insn) {
    if (cpu.real_addressing()) return Fault::invalid_opcode();
    u16 dst = TRY(cpu.read_rm_for_write<u16>(insn));
    u16 src = cpu.reg<u16>(insn.reg);
    if ((dst & 3) < (src & 3)) {
        TRY(cpu.write_rm<u16>(insn, static_cast<u16>((dst & ~3u) | (src & 3))));
        cpu.set_arith_flag(FLAG_ZF, true);
    } else {
        cpu.set_arith_flag(FLAG_ZF, false);
    }
    return {};
}

} // namespace

void register_system(DispatchTable& t) {
    t.set(0xFA, cli);
    t.set(0xFB, sti);
    t.set(0xF4, hlt);
    t.set(0xE4, in<u8, false>);
    t.set(0xE5, in<u16, false>, in<u32, false>);
    t.set(0xEC, in<u8, true>);
    t.set(0xED, in<u16, true>, in<u32, true>);
    t.set(0xE6, out<u8, false>);
    t.set(0xE7, out<u16, false>, out<u32, false>);
    t.set(0xEE, out<u8, true>);
    t.set(0xEF, out<u16, true>, out<u32, true>);
    t.set(0x131, rdtsc);
    t.set(0x120, mov_from_cr);
    t.set(0x122, mov_to_cr);
    t.set(0x121, mov_from_dr);
    t.set(0x123, mov_to_dr);
    t.set(0x106, clts);
    t.set(0x108, nop_privileged);
    t.set(0x109, nop_privileged);
    t.set(0x100, group6);
    t.set(0x101, group7);
    t.set(0x102, lar_lsl<u16, false>, lar_lsl<u32, false>);
    t.set(0x103, lar_lsl<u16, true>, lar_lsl<u32, true>);
    t.set(0x63, arpl);
}

} // namespace vsa
