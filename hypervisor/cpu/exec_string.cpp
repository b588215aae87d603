// SPDX-License-Identifier: GPL-2.0-or-later
// String instructions (SDM vol. 2): MOVS, CMPS, SCAS, LODS, STOS, INS and
// OUTS with REP/REPE/REPNE, at the instruction's address size (SI/DI/CX or
// ESI/EDI/ECX). The source segment may be overridden; ES:DI may not.
//
// Restartable: every iteration commits its registers, so a fault in the
// middle leaves the completed iterations done and EIP on the instruction
// (the run loop rewinds it). Long runs stop after CHUNK iterations with
// EIP rewound, so interrupts and the deadline get a look in between; the
// instruction simply continues on the next pass.
#include "hypervisor/cpu/exec_common.h"

namespace vsa {

namespace {

constexpr unsigned CHUNK = 4096;

enum class Str { Movs, Cmps, Scas, Lods, Stos, Ins, Outs };

template <typename T>
Width width_of() {
    return sizeof(T) == 1 ? Width::Byte : sizeof(T) == 2 ? Width::Word : Width::Dword;
}

// One iteration; updates SI/DI.
template <Str OP, typename T>
Exec iteration(Cpu& cpu, DecodedInsn const& insn, u32 amask, u32 step) {
    u32 si = cpu.esi() & amask;
    u32 di = cpu.edi() & amask;
    if constexpr (OP == Str::Movs) {
        T v = TRY(cpu.read<T>(insn.seg, si));
        TRY(cpu.write<T>(SEG_ES, di, v));
        set_addr_reg(cpu, REG_ESI, si + step, insn);
        set_addr_reg(cpu, REG_EDI, di + step, insn);
    } else if constexpr (OP == Str::Cmps) {
        T a = TRY(cpu.read<T>(insn.seg, si));
        T b = TRY(cpu.read<T>(SEG_ES, di));
        cpu.flags_sub<T>(a, b, static_cast<T>(a - b));
        set_addr_reg(cpu, REG_ESI, si + step, insn);
        set_addr_reg(cpu, REG_EDI, di + step, insn);
    } else if constexpr (OP == Str::Scas) {
        T b = TRY(cpu.read<T>(SEG_ES, di));
        T a = cpu.reg<T>(REG_EAX);
        cpu.flags_sub<T>(a, b, static_cast<T>(a - b));
        set_addr_reg(cpu, REG_EDI, di + step, insn);
    } else if constexpr (OP == Str::Lods) {
        T v = TRY(cpu.read<T>(insn.seg, si));
        cpu.set_reg<T>(REG_EAX, v);
        set_addr_reg(cpu, REG_ESI, si + step, insn);
    } else if constexpr (OP == Str::Stos) {
        TRY(cpu.write<T>(SEG_ES, di, cpu.reg<T>(REG_EAX)));
        set_addr_reg(cpu, REG_EDI, di + step, insn);
    } else if constexpr (OP == Str::Ins) {
        TRY(cpu.check_write<sizeof(T)>(SEG_ES, di));
        T v = static_cast<T>(cpu.io_in(cpu.reg<u16>(REG_EDX), width_of<T>()));
        TRY(cpu.write<T>(SEG_ES, di, v));
        set_addr_reg(cpu, REG_EDI, di + step, insn);
    } else {
        T v = TRY(cpu.read<T>(insn.seg, si));
        cpu.io_out(cpu.reg<u16>(REG_EDX), width_of<T>(), v);
        set_addr_reg(cpu, REG_ESI, si + step, insn);
    }
    return {};
}

template <Str OP, typename T>
Exec string_op(Cpu& cpu, DecodedInsn const& insn) {
    if constexpr (OP == Str::Ins || OP == Str::Outs) TRY(cpu.check_io(cpu.reg<u16>(REG_EDX), sizeof(T)));
    u32 amask = addr_mask(insn);
    u32 step = cpu.df() ? static_cast<u32>(-static_cast<i32>(sizeof(T))) : static_cast<u32>(sizeof(T));
    if (!insn.rep) return iteration<OP, T>(cpu, insn, amask, step);
    u32 count = cpu.ecx() & amask;
    for (unsigned done = 0; count != 0; ++done) {
        if (done == CHUNK) {
            cpu.set_eip(cpu.insn_start()); // resume after a look at interrupts
            cpu.note_event();
            return {};
        }
        TRY((iteration<OP, T>(cpu, insn, amask, step)));
        --count;
        set_addr_reg(cpu, REG_ECX, count, insn);
        if constexpr (OP == Str::Cmps || OP == Str::Scas) {
            // REPE stops on ZF = 0, REPNE on ZF = 1.
            if (cpu.zf() != (insn.rep == 0xF3)) break;
        }
    }
    return {};
}

template <Str OP>
void register_string_op(DispatchTable& t, u16 op8) {
    t.set(op8, string_op<OP, u8>);
    t.set(op8 + 1, string_op<OP, u16>, string_op<OP, u32>);
}

} // namespace

void register_string(DispatchTable& t) {
    register_string_op<Str::Movs>(t, 0xA4);
    register_string_op<Str::Cmps>(t, 0xA6);
    register_string_op<Str::Stos>(t, 0xAA);
    register_string_op<Str::Lods>(t, 0xAC);
    register_string_op<Str::Scas>(t, 0xAE);
    register_string_op<Str::Ins>(t, 0x6C);
    register_string_op<Str::Outs>(t, 0x6E);
}

} // namespace vsa
