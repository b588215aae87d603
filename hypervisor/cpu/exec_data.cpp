// SPDX-License-Identifier: GPL-2.0-or-later
// Data movement (SDM vol. 2): MOV in all forms incl. segment registers and
// moffs, XCHG, LEA, MOVZX/MOVSX, XLAT, PUSH/POP of registers, segment
// registers, immediates and memory, PUSHA/POPA, PUSHF/POPF, LAHF/SAHF,
// LDS/LES/LSS/LFS/LGS, and the flag instructions CLC/STC/CMC/CLD/STD.
//
// PUSH of a segment register with a 32-bit operand size writes the
// zero-extended selector as a dword (what the 386/486 do; Pentiums write
// only the low word).
#include "hypervisor/cpu/exec_common.h"

namespace vsa {

namespace {

template <typename T>
Exec mov_rm_reg(Cpu& cpu, DecodedInsn const& insn) {
    return cpu.write_rm<T>(insn, cpu.reg<T>(insn.reg));
}

template <typename T>
Exec mov_reg_rm(Cpu& cpu, DecodedInsn const& insn) {
    T v = TRY(cpu.read_rm<T>(insn));
    cpu.set_reg<T>(insn.reg, v);
    return {};
}

template <typename T>
Exec mov_rm_imm(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.reg != 0) return Fault::invalid_opcode();
    return cpu.write_rm<T>(insn, static_cast<T>(insn.imm));
}

template <typename T>
Exec mov_reg_imm(Cpu& cpu, DecodedInsn const& insn) {
    cpu.set_reg<T>(insn.opcode & 7, static_cast<T>(insn.imm));
    return {};
}

template <typename T>
Exec mov_acc_moffs(Cpu& cpu, DecodedInsn const& insn) {
    T v = TRY(cpu.read<T>(insn.seg, insn.disp));
    cpu.set_reg<T>(REG_EAX, v);
    return {};
}

template <typename T>
Exec mov_moffs_acc(Cpu& cpu, DecodedInsn const& insn) {
    return cpu.write<T>(insn.seg, insn.disp, cpu.reg<T>(REG_EAX));
}

// MOV r/m, Sreg (8C): a register destination takes the zero-extended
// selector at the operand size; memory always gets 16 bits.
template <typename T>
Exec mov_rm_sreg(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.reg >= SEG_COUNT) return Fault::invalid_opcode();
    u16 sel = cpu.selector(static_cast<SegReg>(insn.reg));
    if (insn.mod == 3) {
        cpu.set_reg<T>(insn.rm, static_cast<T>(sel));
        return {};
    }
    return cpu.write<u16>(insn.seg, cpu.ea(insn), sel);
}

Exec mov_sreg_rm(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.reg >= SEG_COUNT || insn.reg == SEG_CS) return Fault::invalid_opcode();
    u16 sel = TRY(cpu.read_rm<u16>(insn));
    TRY(cpu.load_segment(static_cast<SegReg>(insn.reg), sel));
    if (insn.reg == SEG_SS) cpu.inhibit_interrupts_and_traps();
    return {};
}

template <typename T>
Exec xchg_rm_reg(Cpu& cpu, DecodedInsn const& insn) {
    T a = TRY(cpu.read_rm_for_write<T>(insn));
    T b = cpu.reg<T>(insn.reg);
    TRY(cpu.write_rm<T>(insn, b));
    cpu.set_reg<T>(insn.reg, a);
    return {};
}

template <typename T>
Exec xchg_acc_reg(Cpu& cpu, DecodedInsn const& insn) {
    unsigned r = insn.opcode & 7;
    T a = cpu.reg<T>(REG_EAX);
    cpu.set_reg<T>(REG_EAX, cpu.reg<T>(r));
    cpu.set_reg<T>(r, a);
    return {};
}

Exec nop(Cpu&, DecodedInsn const&) {
    return {};
}

template <typename T>
Exec lea(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.mod == 3) return Fault::invalid_opcode();
    cpu.set_reg<T>(insn.reg, static_cast<T>(cpu.ea(insn)));
    return {};
}

template <typename T, typename S, bool SIGNED>
Exec movx(Cpu& cpu, DecodedInsn const& insn) {
    S v = TRY(cpu.read_rm<S>(insn));
    cpu.set_reg<T>(insn.reg, static_cast<T>(SIGNED ? sext<S>(v) : u32(v)));
    return {};
}

Exec xlat(Cpu& cpu, DecodedInsn const& insn) {
    u32 off = (cpu.ebx() + cpu.reg<u8>(REG_EAX)) & addr_mask(insn);
    u8 v = TRY(cpu.read<u8>(insn.seg, off));
    cpu.set_reg<u8>(REG_EAX, v);
    return {};
}

template <typename T>
Exec push_reg(Cpu& cpu, DecodedInsn const& insn) {
    return cpu.push<T>(cpu.reg<T>(insn.opcode & 7));
}

template <typename T>
Exec pop_reg(Cpu& cpu, DecodedInsn const& insn) {
    T v = TRY(cpu.pop<T>());
    cpu.set_reg<T>(insn.opcode & 7, v);
    return {};
}

template <typename T>
Exec push_imm(Cpu& cpu, DecodedInsn const& insn) {
    return cpu.push<T>(static_cast<T>(insn.imm));
}

template <typename T>
Exec push_rm(Cpu& cpu, DecodedInsn const& insn) {
    T v = TRY(cpu.read_rm<T>(insn));
    return cpu.push<T>(v);
}

// POP r/m: an ESP-based destination address uses ESP after the pop
// (SDM vol. 2, POP).
template <typename T>
Exec pop_rm(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.reg != 0) return Fault::invalid_opcode();
    u32 old_esp = cpu.esp();
    u32 sp = cpu.stack_pointer();
    T v = TRY(cpu.pop_at<T>(sp));
    cpu.set_stack_pointer(sp);
    auto r = cpu.write_rm<T>(insn, v);
    if (!r) cpu.set_esp(old_esp);
    return r;
}

template <typename T, SegReg S>
Exec push_sreg(Cpu& cpu, DecodedInsn const&) {
    return cpu.push<T>(cpu.selector(S));
}

template <typename T, SegReg S>
Exec pop_sreg(Cpu& cpu, DecodedInsn const&) {
    u32 sp = cpu.stack_pointer();
    T v = TRY(cpu.pop_at<T>(sp));
    TRY(cpu.load_segment(S, static_cast<u16>(v)));
    cpu.set_stack_pointer(sp);
    if (S == SEG_SS) cpu.inhibit_interrupts_and_traps();
    return {};
}

template <typename T>
Exec pusha(Cpu& cpu, DecodedInsn const&) {
    u32 sp = cpu.stack_pointer();
    T original_sp = cpu.reg<T>(REG_ESP);
    for (unsigned r = 0; r < 8; ++r)
        TRY(cpu.push_at<T>(sp, r == REG_ESP ? original_sp : cpu.reg<T>(r)));
    cpu.set_stack_pointer(sp);
    return {};
}

template <typename T>
Exec popa(Cpu& cpu, DecodedInsn const&) {
    u32 sp = cpu.stack_pointer();
    T values[8];
    for (int r = 7; r >= 0; --r)
        values[r] = TRY(cpu.pop_at<T>(sp));
    for (unsigned r = 0; r < 8; ++r)
        if (r != REG_ESP) cpu.set_reg<T>(r, values[r]);
    cpu.set_stack_pointer(sp);
    return {};
}

// PUSHF/POPF in V86 mode at IOPL < 3 trap to the monitor, except the
// 16-bit forms under CR4.VME, which work on VIF (v86.cpp, SDM vol. 2).
template <typename T>
Exec pushf(Cpu& cpu, DecodedInsn const&) {
    u32 flags = cpu.eflags();
    if (cpu.v86_mode() && cpu.iopl() < 3) {
        if (sizeof(T) == 4 || !cpu.virtual_interrupts()) return Fault::gp(0);
        // The 8086 program sees VIF as its IF, and IOPL 3.
        flags = (flags & ~FLAG_IF) | FLAG_IOPL | ((flags & FLAG_VIF) ? FLAG_IF : 0);
    }
    // The image has RF and VM clear (SDM vol. 2, PUSHF).
    return cpu.push<T>(static_cast<T>(flags & ~(FLAG_RF | FLAG_VM)));
}

template <typename T>
Exec popf(Cpu& cpu, DecodedInsn const&) {
    if (cpu.v86_mode() && cpu.iopl() < 3) {
        if (sizeof(T) == 4 || !cpu.virtual_interrupts()) return Fault::gp(0);
        u32 sp = cpu.stack_pointer();
        u16 image = TRY(cpu.pop_at<u16>(sp));
        u32 next = TRY(cpu.v86_virtual_flags(image));
        cpu.set_stack_pointer(sp);
        cpu.set_eflags(next);
        return {};
    }
    T v = TRY(cpu.pop<T>());
    // VIF and VIP never change through POPF (only IRETD at CPL 0 and task
    // switches load them).
    u32 changeable = FLAGS_VALID & ~(FLAG_VM | FLAG_RF | FLAG_VIF | FLAG_VIP);
    if (cpu.v86_mode()) {
        changeable &= ~FLAG_IOPL; // at IOPL 3: IF changes, IOPL never
    } else if (cpu.protected_mode()) {
        if (cpu.cpl() > 0) changeable &= ~FLAG_IOPL;
        if (cpu.cpl() > cpu.iopl()) changeable &= ~FLAG_IF;
    }
    if (sizeof(T) == 2) changeable &= 0xFFFF;
    u32 old = cpu.eflags();
    cpu.set_eflags((old & ~changeable) | (u32(v) & changeable));
    return {};
}

Exec sahf(Cpu& cpu, DecodedInsn const&) {
    constexpr u32 MASK = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;
    u32 f = cpu.arith_flags();
    cpu.set_arith_flags((f & ~MASK) | (cpu.reg<u8>(4) & MASK));
    return {};
}

Exec lahf(Cpu& cpu, DecodedInsn const&) {
    cpu.set_reg<u8>(4, static_cast<u8>(cpu.eflags()));
    return {};
}

// LDS, LES, LSS, LFS, LGS: a far pointer from memory.
template <typename T, SegReg S>
Exec load_far_pointer(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.mod == 3) return Fault::invalid_opcode();
    u32 off = cpu.ea(insn);
    T offset = TRY(cpu.read<T>(insn.seg, off));
    u16 sel = TRY(cpu.read<u16>(insn.seg, (off + sizeof(T)) & addr_mask(insn)));
    TRY(cpu.load_segment(S, sel));
    cpu.set_reg<T>(insn.reg, offset);
    return {};
}

Exec clc(Cpu& cpu, DecodedInsn const&) {
    cpu.set_arith_flag(FLAG_CF, false);
    return {};
}
Exec stc(Cpu& cpu, DecodedInsn const&) {
    cpu.set_arith_flag(FLAG_CF, true);
    return {};
}
Exec cmc(Cpu& cpu, DecodedInsn const&) {
    cpu.set_arith_flag(FLAG_CF, !cpu.cf());
    return {};
}
Exec cld(Cpu& cpu, DecodedInsn const&) {
    cpu.set_eflags(cpu.eflags() & ~FLAG_DF);
    return {};
}
Exec std_(Cpu& cpu, DecodedInsn const&) {
    cpu.set_eflags(cpu.eflags() | FLAG_DF);
    return {};
}

} // namespace

void register_data(DispatchTable& t) {
    t.set(0x88, mov_rm_reg<u8>);
    t.set(0x89, VSA_BOTH(mov_rm_reg));
    t.set(0x8A, mov_reg_rm<u8>);
    t.set(0x8B, VSA_BOTH(mov_reg_rm));
    t.set(0xC6, mov_rm_imm<u8>);
    t.set(0xC7, VSA_BOTH(mov_rm_imm));
    for (u16 op = 0xB0; op <= 0xB7; ++op)
        t.set(op, mov_reg_imm<u8>);
    for (u16 op = 0xB8; op <= 0xBF; ++op)
        t.set(op, VSA_BOTH(mov_reg_imm));
    t.set(0xA0, mov_acc_moffs<u8>);
    t.set(0xA1, VSA_BOTH(mov_acc_moffs));
    t.set(0xA2, mov_moffs_acc<u8>);
    t.set(0xA3, VSA_BOTH(mov_moffs_acc));
    t.set(0x8C, VSA_BOTH(mov_rm_sreg));
    t.set(0x8E, mov_sreg_rm);
    t.set(0x86, xchg_rm_reg<u8>);
    t.set(0x87, VSA_BOTH(xchg_rm_reg));
    t.set(0x90, nop);
    for (u16 op = 0x118; op <= 0x11F; ++op) // hint NOPs (P6): multi-byte NOP, ENDBR32
        t.set(op, nop);
    for (u16 op = 0x91; op <= 0x97; ++op)
        t.set(op, VSA_BOTH(xchg_acc_reg));
    t.set(0x8D, VSA_BOTH(lea));
    t.set(0x1B6, movx<u16, u8, false>, movx<u32, u8, false>);
    t.set(0x1B7, movx<u16, u16, false>, movx<u32, u16, false>);
    t.set(0x1BE, movx<u16, u8, true>, movx<u32, u8, true>);
    t.set(0x1BF, movx<u16, u16, true>, movx<u32, u16, true>);
    t.set(0xD7, xlat);
    for (u16 op = 0x50; op <= 0x57; ++op)
        t.set(op, VSA_BOTH(push_reg));
    for (u16 op = 0x58; op <= 0x5F; ++op)
        t.set(op, VSA_BOTH(pop_reg));
    t.set(0x68, VSA_BOTH(push_imm));
    t.set(0x6A, VSA_BOTH(push_imm));
    t.set_group(0xFF, 6, VSA_BOTH(push_rm));
    t.set(0x8F, VSA_BOTH(pop_rm));
    t.set(0x06, push_sreg<u16, SEG_ES>, push_sreg<u32, SEG_ES>);
    t.set(0x0E, push_sreg<u16, SEG_CS>, push_sreg<u32, SEG_CS>);
    t.set(0x16, push_sreg<u16, SEG_SS>, push_sreg<u32, SEG_SS>);
    t.set(0x1E, push_sreg<u16, SEG_DS>, push_sreg<u32, SEG_DS>);
    t.set(0x1A0, push_sreg<u16, SEG_FS>, push_sreg<u32, SEG_FS>);
    t.set(0x1A8, push_sreg<u16, SEG_GS>, push_sreg<u32, SEG_GS>);
    t.set(0x07, pop_sreg<u16, SEG_ES>, pop_sreg<u32, SEG_ES>);
    t.set(0x17, pop_sreg<u16, SEG_SS>, pop_sreg<u32, SEG_SS>);
    t.set(0x1F, pop_sreg<u16, SEG_DS>, pop_sreg<u32, SEG_DS>);
    t.set(0x1A1, pop_sreg<u16, SEG_FS>, pop_sreg<u32, SEG_FS>);
    t.set(0x1A9, pop_sreg<u16, SEG_GS>, pop_sreg<u32, SEG_GS>);
    t.set(0x60, VSA_BOTH(pusha));
    t.set(0x61, VSA_BOTH(popa));
    t.set(0x9C, VSA_BOTH(pushf));
    t.set(0x9D, VSA_BOTH(popf));
    t.set(0x9E, sahf);
    t.set(0x9F, lahf);
    t.set(0xC4, load_far_pointer<u16, SEG_ES>, load_far_pointer<u32, SEG_ES>);
    t.set(0xC5, load_far_pointer<u16, SEG_DS>, load_far_pointer<u32, SEG_DS>);
    t.set(0x1B2, load_far_pointer<u16, SEG_SS>, load_far_pointer<u32, SEG_SS>);
    t.set(0x1B4, load_far_pointer<u16, SEG_FS>, load_far_pointer<u32, SEG_FS>);
    t.set(0x1B5, load_far_pointer<u16, SEG_GS>, load_far_pointer<u32, SEG_GS>);
    t.set(0xF8, clc);
    t.set(0xF9, stc);
    t.set(0xF5, cmc);
    t.set(0xFC, cld);
    t.set(0xFD, std_);
}

} // namespace vsa
