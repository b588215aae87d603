// SPDX-License-Identifier: GPL-2.0-or-later
// Integer arithmetic (SDM vol. 2): ADD OR ADC SBB AND SUB XOR CMP in all
// their forms (00-3D, group 1 80-83 with the undocumented 82 alias of 80),
// TEST, INC/DEC, group 3 (TEST with the undocumented /1 alias, NOT, NEG,
// MUL, IMUL, DIV, IDIV), IMUL 0F AF/69/6B, the BCD adjustments, CBW/CWD
// and their 32-bit forms, SALC (D6), XADD and CMPXCHG (486).
//
// Undefined flags follow what the 80286 conformance vectors show where
// they are compared; elsewhere (MUL's SF/ZF/PF, DIV's flags) the values
// are our choice and no guest may depend on them.
#include "hypervisor/cpu/exec_common.h"

namespace vsa {

namespace {

enum class Alu { Add, Or, Adc, Sbb, And, Sub, Xor, Cmp };

template <Alu OP, typename T>
inline T alu(Cpu& cpu, T a, T b) {
    if constexpr (OP == Alu::Add) {
        T r = static_cast<T>(a + b);
        cpu.flags_add<T>(a, b, r);
        return r;
    } else if constexpr (OP == Alu::Adc) {
        T r = static_cast<T>(a + b + (cpu.cf() ? 1 : 0));
        cpu.flags_add<T>(a, b, r);
        return r;
    } else if constexpr (OP == Alu::Sub || OP == Alu::Cmp) {
        T r = static_cast<T>(a - b);
        cpu.flags_sub<T>(a, b, r);
        return OP == Alu::Cmp ? a : r;
    } else if constexpr (OP == Alu::Sbb) {
        T r = static_cast<T>(a - b - (cpu.cf() ? 1 : 0));
        cpu.flags_sub<T>(a, b, r);
        return r;
    } else if constexpr (OP == Alu::Or) {
        T r = static_cast<T>(a | b);
        cpu.flags_logic<T>(r);
        return r;
    } else if constexpr (OP == Alu::And) {
        T r = static_cast<T>(a & b);
        cpu.flags_logic<T>(r);
        return r;
    } else {
        T r = static_cast<T>(a ^ b);
        cpu.flags_logic<T>(r);
        return r;
    }
}

// op r/m, reg
template <Alu OP, typename T>
Exec alu_rm_reg(Cpu& cpu, DecodedInsn const& insn) {
    T src = cpu.reg<T>(insn.reg);
    if (insn.mod == 3) {
        T r = alu<OP, T>(cpu, cpu.reg<T>(insn.rm), src);
        if constexpr (OP != Alu::Cmp) cpu.set_reg<T>(insn.rm, r);
        return {};
    }
    u32 off = cpu.ea(insn);
    if constexpr (OP == Alu::Cmp) {
        T dst = TRY(cpu.read<T>(insn.seg, off));
        alu<OP, T>(cpu, dst, src);
        return {};
    } else {
        TRY(cpu.check_write<sizeof(T)>(insn.seg, off));
        T dst = TRY(cpu.read<T>(insn.seg, off));
        return cpu.write<T>(insn.seg, off, alu<OP, T>(cpu, dst, src));
    }
}

// op reg, r/m
template <Alu OP, typename T>
Exec alu_reg_rm(Cpu& cpu, DecodedInsn const& insn) {
    T src = TRY(cpu.read_rm<T>(insn));
    T r = alu<OP, T>(cpu, cpu.reg<T>(insn.reg), src);
    if constexpr (OP != Alu::Cmp) cpu.set_reg<T>(insn.reg, r);
    return {};
}

// op AL/AX/EAX, imm
template <Alu OP, typename T>
Exec alu_acc_imm(Cpu& cpu, DecodedInsn const& insn) {
    T r = alu<OP, T>(cpu, cpu.reg<T>(REG_EAX), static_cast<T>(insn.imm));
    if constexpr (OP != Alu::Cmp) cpu.set_reg<T>(REG_EAX, r);
    return {};
}

// group 1: op r/m, imm (the decoder already sign-extended 83's imm8)
template <Alu OP, typename T>
Exec alu_rm_imm(Cpu& cpu, DecodedInsn const& insn) {
    T src = static_cast<T>(insn.imm);
    if (insn.mod == 3) {
        T r = alu<OP, T>(cpu, cpu.reg<T>(insn.rm), src);
        if constexpr (OP != Alu::Cmp) cpu.set_reg<T>(insn.rm, r);
        return {};
    }
    u32 off = cpu.ea(insn);
    if constexpr (OP == Alu::Cmp) {
        T dst = TRY(cpu.read<T>(insn.seg, off));
        alu<OP, T>(cpu, dst, src);
        return {};
    } else {
        TRY(cpu.check_write<sizeof(T)>(insn.seg, off));
        T dst = TRY(cpu.read<T>(insn.seg, off));
        return cpu.write<T>(insn.seg, off, alu<OP, T>(cpu, dst, src));
    }
}

template <typename T>
Exec test_rm_reg(Cpu& cpu, DecodedInsn const& insn) {
    T a = TRY(cpu.read_rm<T>(insn));
    cpu.flags_logic<T>(static_cast<T>(a & cpu.reg<T>(insn.reg)));
    return {};
}

template <typename T>
Exec test_acc_imm(Cpu& cpu, DecodedInsn const& insn) {
    cpu.flags_logic<T>(static_cast<T>(cpu.reg<T>(REG_EAX) & insn.imm));
    return {};
}

template <typename T>
Exec test_rm_imm(Cpu& cpu, DecodedInsn const& insn) {
    T a = TRY(cpu.read_rm<T>(insn));
    cpu.flags_logic<T>(static_cast<T>(a & insn.imm));
    return {};
}

template <typename T>
Exec inc_reg(Cpu& cpu, DecodedInsn const& insn) {
    unsigned r = insn.opcode & 7;
    T a = cpu.reg<T>(r);
    T v = static_cast<T>(a + 1);
    cpu.flags_inc<T>(a, v);
    cpu.set_reg<T>(r, v);
    return {};
}

template <typename T>
Exec dec_reg(Cpu& cpu, DecodedInsn const& insn) {
    unsigned r = insn.opcode & 7;
    T a = cpu.reg<T>(r);
    T v = static_cast<T>(a - 1);
    cpu.flags_dec<T>(a, v);
    cpu.set_reg<T>(r, v);
    return {};
}

template <typename T>
Exec inc_rm(Cpu& cpu, DecodedInsn const& insn) {
    T a = TRY(cpu.read_rm_for_write<T>(insn));
    T v = static_cast<T>(a + 1);
    TRY(cpu.write_rm<T>(insn, v));
    cpu.flags_inc<T>(a, v);
    return {};
}

template <typename T>
Exec dec_rm(Cpu& cpu, DecodedInsn const& insn) {
    T a = TRY(cpu.read_rm_for_write<T>(insn));
    T v = static_cast<T>(a - 1);
    TRY(cpu.write_rm<T>(insn, v));
    cpu.flags_dec<T>(a, v);
    return {};
}

template <typename T>
Exec not_rm(Cpu& cpu, DecodedInsn const& insn) {
    T a = TRY(cpu.read_rm_for_write<T>(insn));
    return cpu.write_rm<T>(insn, static_cast<T>(~a));
}

template <typename T>
Exec neg_rm(Cpu& cpu, DecodedInsn const& insn) {
    T a = TRY(cpu.read_rm_for_write<T>(insn));
    T r = static_cast<T>(0 - a);
    TRY(cpu.write_rm<T>(insn, r));
    cpu.flags_sub<T>(0, a, r);
    return {};
}

// The double-width accumulator of MUL/DIV: AX for bytes, DX:AX, EDX:EAX.
template <typename T>
u64 wide_acc(Cpu& cpu) {
    if constexpr (sizeof(T) == 1) return cpu.reg<u16>(REG_EAX);
    return (u64(cpu.reg<T>(REG_EDX)) << (sizeof(T) * 8)) | cpu.reg<T>(REG_EAX);
}

template <typename T>
void set_wide_acc(Cpu& cpu, T low, T high) {
    if constexpr (sizeof(T) == 1) {
        cpu.set_reg<u16>(REG_EAX, static_cast<u16>(low | (u16(high) << 8)));
    } else {
        cpu.set_reg<T>(REG_EAX, low);
        cpu.set_reg<T>(REG_EDX, high);
    }
}

template <typename T>
Exec mul_rm(Cpu& cpu, DecodedInsn const& insn) {
    T src = TRY(cpu.read_rm<T>(insn));
    u64 r = u64(cpu.reg<T>(REG_EAX)) * src;
    T low = static_cast<T>(r);
    T high = static_cast<T>(r >> (sizeof(T) * 8));
    set_wide_acc<T>(cpu, low, high);
    cpu.flags_szp<T>(low, high ? (FLAG_CF | FLAG_OF) : 0);
    return {};
}

template <typename T>
Exec imul_rm(Cpu& cpu, DecodedInsn const& insn) {
    T src = TRY(cpu.read_rm<T>(insn));
    i64 r = i64(static_cast<Signed<T>>(cpu.reg<T>(REG_EAX))) * i64(static_cast<Signed<T>>(src));
    T low = static_cast<T>(r);
    T high = static_cast<T>(static_cast<u64>(r) >> (sizeof(T) * 8));
    set_wide_acc<T>(cpu, low, high);
    bool overflow = r != i64(static_cast<Signed<T>>(low));
    cpu.flags_szp<T>(low, overflow ? (FLAG_CF | FLAG_OF) : 0);
    return {};
}

template <typename T>
Exec div_rm(Cpu& cpu, DecodedInsn const& insn) {
    T src = TRY(cpu.read_rm<T>(insn));
    if (src == 0) return Fault::divide_error();
    u64 dividend = wide_acc<T>(cpu);
    u64 q = dividend / src;
    if (q > T(~T(0))) return Fault::divide_error();
    set_wide_acc<T>(cpu, static_cast<T>(q), static_cast<T>(dividend % src));
    return {};
}

template <typename T>
Exec idiv_rm(Cpu& cpu, DecodedInsn const& insn) {
    T src = TRY(cpu.read_rm<T>(insn));
    if (src == 0) return Fault::divide_error();
    constexpr unsigned W = sizeof(T) * 8;
    u64 raw = wide_acc<T>(cpu);
    // Sign-extend the 2W-bit dividend to 64 bits.
    i64 dividend = W == 32 ? static_cast<i64>(raw) : static_cast<i64>(raw << (64 - 2 * W)) >> (64 - 2 * W);
    i64 divisor = static_cast<Signed<T>>(src);
    if (W == 32 && dividend == INT64_MIN && divisor == -1) return Fault::divide_error();
    i64 q = dividend / divisor;
    i64 rem = dividend % divisor;
    i64 lo = -(i64(1) << (W - 1));
    i64 hi = (i64(1) << (W - 1)) - 1;
    if (q < lo || q > hi) return Fault::divide_error();
    set_wide_acc<T>(cpu, static_cast<T>(q), static_cast<T>(rem));
    return {};
}

// IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B).
template <typename T, bool IMM>
Exec imul_reg(Cpu& cpu, DecodedInsn const& insn) {
    T src = TRY(cpu.read_rm<T>(insn));
    T other = IMM ? static_cast<T>(insn.imm) : cpu.reg<T>(insn.reg);
    i64 r = i64(static_cast<Signed<T>>(src)) * i64(static_cast<Signed<T>>(other));
    T low = static_cast<T>(r);
    cpu.set_reg<T>(insn.reg, low);
    bool overflow = r != i64(static_cast<Signed<T>>(low));
    cpu.flags_szp<T>(low, overflow ? (FLAG_CF | FLAG_OF) : 0);
    return {};
}

Exec daa(Cpu& cpu, DecodedInsn const&) {
    u8 al = cpu.reg<u8>(REG_EAX);
    u8 old_al = al;
    bool old_cf = cpu.cf();
    u32 f = 0;
    if ((al & 0xF) > 9 || cpu.af()) {
        if (old_cf || al > 0xF9) f |= FLAG_CF;
        al = static_cast<u8>(al + 6);
        f |= FLAG_AF;
    }
    if (old_al > 0x99 || old_cf) {
        al = static_cast<u8>(al + 0x60);
        f |= FLAG_CF;
    } else {
        f &= ~FLAG_CF;
    }
    cpu.set_reg<u8>(REG_EAX, al);
    cpu.flags_szp<u8>(al, f);
    return {};
}

Exec das(Cpu& cpu, DecodedInsn const&) {
    u8 al = cpu.reg<u8>(REG_EAX);
    u8 old_al = al;
    bool old_cf = cpu.cf();
    u32 f = 0;
    if ((al & 0xF) > 9 || cpu.af()) {
        if (old_cf || al < 6) f |= FLAG_CF;
        al = static_cast<u8>(al - 6);
        f |= FLAG_AF;
    }
    if (old_al > 0x99 || old_cf) {
        al = static_cast<u8>(al - 0x60);
        f |= FLAG_CF;
    }
    cpu.set_reg<u8>(REG_EAX, al);
    cpu.flags_szp<u8>(al, f);
    return {};
}

Exec aaa(Cpu& cpu, DecodedInsn const&) {
    u16 ax = cpu.reg<u16>(REG_EAX);
    u32 f = 0;
    if ((ax & 0xF) > 9 || cpu.af()) {
        ax = static_cast<u16>(ax + 0x106);
        f = FLAG_AF | FLAG_CF;
    }
    ax &= 0xFF0F;
    cpu.set_reg<u16>(REG_EAX, ax);
    cpu.flags_szp<u8>(static_cast<u8>(ax), f);
    return {};
}

Exec aas(Cpu& cpu, DecodedInsn const&) {
    u16 ax = cpu.reg<u16>(REG_EAX);
    u32 f = 0;
    if ((ax & 0xF) > 9 || cpu.af()) {
        ax = static_cast<u16>(ax - 6);
        ax = static_cast<u16>(ax - 0x100);
        f = FLAG_AF | FLAG_CF;
    }
    ax &= 0xFF0F;
    cpu.set_reg<u16>(REG_EAX, ax);
    cpu.flags_szp<u8>(static_cast<u8>(ax), f);
    return {};
}

Exec aam(Cpu& cpu, DecodedInsn const& insn) {
    u8 base = static_cast<u8>(insn.imm);
    if (base == 0) return Fault::divide_error();
    u8 al = cpu.reg<u8>(REG_EAX);
    u8 q = al / base;
    u8 r = al % base;
    cpu.set_reg<u16>(REG_EAX, static_cast<u16>((q << 8) | r));
    cpu.flags_szp<u8>(r, 0);
    return {};
}

Exec aad(Cpu& cpu, DecodedInsn const& insn) {
    u8 base = static_cast<u8>(insn.imm);
    u8 al = cpu.reg<u8>(REG_EAX);
    u8 ah = cpu.reg<u8>(4);
    u8 product = static_cast<u8>(ah * base);
    u8 r = static_cast<u8>(al + product);
    cpu.set_reg<u16>(REG_EAX, r);
    // Flags as the ADD AL, AH*imm8 the microcode performs.
    cpu.flags_add<u8>(al, product, r);
    return {};
}

Exec salc(Cpu& cpu, DecodedInsn const&) {
    cpu.set_reg<u8>(REG_EAX, cpu.cf() ? 0xFF : 0x00);
    return {};
}

template <typename T>
Exec cbw(Cpu& cpu, DecodedInsn const&) {
    if constexpr (sizeof(T) == 2)
        cpu.set_reg<u16>(REG_EAX, static_cast<u16>(sext<u8>(cpu.reg<u8>(REG_EAX))));
    else
        cpu.set_eax(sext<u16>(cpu.reg<u16>(REG_EAX)));
    return {};
}

template <typename T>
Exec cwd(Cpu& cpu, DecodedInsn const&) {
    T sign = (cpu.reg<T>(REG_EAX) & msb_of<T>()) ? T(~T(0)) : T(0);
    cpu.set_reg<T>(REG_EDX, sign);
    return {};
}

template <typename T>
Exec xadd(Cpu& cpu, DecodedInsn const& insn) {
    T dst = TRY(cpu.read_rm_for_write<T>(insn));
    T src = cpu.reg<T>(insn.reg);
    T sum = static_cast<T>(dst + src);
    TRY(cpu.write_rm<T>(insn, sum));
    cpu.set_reg<T>(insn.reg, dst);
    if (insn.mod == 3) cpu.set_reg<T>(insn.rm, sum); // xadd r, r with the same register
    cpu.flags_add<T>(dst, src, sum);
    return {};
}

template <typename T>
Exec cmpxchg(Cpu& cpu, DecodedInsn const& insn) {
    T dst = TRY(cpu.read_rm_for_write<T>(insn));
    T acc = cpu.reg<T>(REG_EAX);
    T diff = static_cast<T>(acc - dst);
    if (acc == dst) {
        TRY(cpu.write_rm<T>(insn, cpu.reg<T>(insn.reg)));
    } else {
        // The 486 writes the destination back in either case.
        TRY(cpu.write_rm<T>(insn, dst));
        cpu.set_reg<T>(REG_EAX, dst);
    }
    cpu.flags_sub<T>(acc, dst, diff);
    return {};
}

template <Alu OP>
void register_alu(DispatchTable& t, u16 base) {
    t.set(base + 0, alu_rm_reg<OP, u8>);
    t.set(base + 1, alu_rm_reg<OP, u16>, alu_rm_reg<OP, u32>);
    t.set(base + 2, alu_reg_rm<OP, u8>);
    t.set(base + 3, alu_reg_rm<OP, u16>, alu_reg_rm<OP, u32>);
    t.set(base + 4, alu_acc_imm<OP, u8>);
    t.set(base + 5, alu_acc_imm<OP, u16>, alu_acc_imm<OP, u32>);
    u8 reg = static_cast<u8>(base / 8);
    t.set_group(0x80, reg, alu_rm_imm<OP, u8>);
    t.set_group(0x81, reg, alu_rm_imm<OP, u16>, alu_rm_imm<OP, u32>);
    t.set_group(0x82, reg, alu_rm_imm<OP, u8>);
    t.set_group(0x83, reg, alu_rm_imm<OP, u16>, alu_rm_imm<OP, u32>);
}

} // namespace

void register_arith(DispatchTable& t) {
    register_alu<Alu::Add>(t, 0x00);
    register_alu<Alu::Or>(t, 0x08);
    register_alu<Alu::Adc>(t, 0x10);
    register_alu<Alu::Sbb>(t, 0x18);
    register_alu<Alu::And>(t, 0x20);
    register_alu<Alu::Sub>(t, 0x28);
    register_alu<Alu::Xor>(t, 0x30);
    register_alu<Alu::Cmp>(t, 0x38);
    t.set(0x84, test_rm_reg<u8>);
    t.set(0x85, VSA_BOTH(test_rm_reg));
    t.set(0xA8, test_acc_imm<u8>);
    t.set(0xA9, VSA_BOTH(test_acc_imm));
    for (u16 op = 0x40; op <= 0x47; ++op)
        t.set(op, VSA_BOTH(inc_reg));
    for (u16 op = 0x48; op <= 0x4F; ++op)
        t.set(op, VSA_BOTH(dec_reg));
    t.set_group(0xFE, 0, inc_rm<u8>);
    t.set_group(0xFE, 1, dec_rm<u8>);
    t.set_group(0xFF, 0, VSA_BOTH(inc_rm));
    t.set_group(0xFF, 1, VSA_BOTH(dec_rm));
    // Group 3; /1 is an undocumented alias of TEST on every Intel CPU.
    t.set_group(0xF6, 0, test_rm_imm<u8>);
    t.set_group(0xF6, 1, test_rm_imm<u8>);
    t.set_group(0xF6, 2, not_rm<u8>);
    t.set_group(0xF6, 3, neg_rm<u8>);
    t.set_group(0xF6, 4, mul_rm<u8>);
    t.set_group(0xF6, 5, imul_rm<u8>);
    t.set_group(0xF6, 6, div_rm<u8>);
    t.set_group(0xF6, 7, idiv_rm<u8>);
    t.set_group(0xF7, 0, VSA_BOTH(test_rm_imm));
    t.set_group(0xF7, 1, VSA_BOTH(test_rm_imm));
    t.set_group(0xF7, 2, VSA_BOTH(not_rm));
    t.set_group(0xF7, 3, VSA_BOTH(neg_rm));
    t.set_group(0xF7, 4, VSA_BOTH(mul_rm));
    t.set_group(0xF7, 5, VSA_BOTH(imul_rm));
    t.set_group(0xF7, 6, VSA_BOTH(div_rm));
    t.set_group(0xF7, 7, VSA_BOTH(idiv_rm));
    t.set(0x1AF, imul_reg<u16, false>, imul_reg<u32, false>);
    t.set(0x69, imul_reg<u16, true>, imul_reg<u32, true>);
    t.set(0x6B, imul_reg<u16, true>, imul_reg<u32, true>);
    t.set(0x27, daa);
    t.set(0x2F, das);
    t.set(0x37, aaa);
    t.set(0x3F, aas);
    t.set(0xD4, aam);
    t.set(0xD5, aad);
    t.set(0xD6, salc);
    t.set(0x98, VSA_BOTH(cbw));
    t.set(0x99, VSA_BOTH(cwd));
    t.set(0x1C0, xadd<u8>);
    t.set(0x1C1, VSA_BOTH(xadd));
    t.set(0x1B0, cmpxchg<u8>);
    t.set(0x1B1, VSA_BOTH(cmpxchg));
}

} // namespace vsa
