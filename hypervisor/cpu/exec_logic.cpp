// SPDX-License-Identifier: GPL-2.0-or-later
// Bit-level instructions (SDM vol. 2): group 2 shifts and rotates (C0, C1,
// D0-D3, with the undocumented /6 alias of SHL), SHLD/SHRD, BT/BTS/BTR/BTC
// with register and immediate bit offsets (a register offset addresses
// memory beyond the operand, signed), BSF/BSR, SETcc and BSWAP.
//
// Counts are masked to 5 bits as on every CPU since the 80286; a masked
// count of 0 changes no flag. Flags the SDM leaves undefined get: OF as
// the 1-bit formula, AF = 0 for shifts; BT*/BSF/BSR keep them unchanged.
#include "hypervisor/cpu/exec_common.h"

namespace vsa {

namespace {

enum class Shift { Rol, Ror, Rcl, Rcr, Shl, Shr, Sal6, Sar };

template <Shift OP, typename T>
T shift_op(Cpu& cpu, T v, unsigned count) {
    constexpr unsigned W = sizeof(T) * 8;
    count &= 31;
    if (count == 0) return v;
    u32 f = cpu.arith_flags();
    auto set_cf_of = [&](bool c, bool o) {
        f = (f & ~(FLAG_CF | FLAG_OF)) | (c ? FLAG_CF : 0) | (o ? FLAG_OF : 0);
    };
    T msb = msb_of<T>();
    if constexpr (OP == Shift::Rol) {
        unsigned n = count % W;
        T r = n ? static_cast<T>((v << n) | (v >> (W - n))) : v;
        bool c = r & 1;
        set_cf_of(c, ((r & msb) != 0) != c);
        cpu.set_arith_flags(f);
        return r;
    } else if constexpr (OP == Shift::Ror) {
        unsigned n = count % W;
        T r = n ? static_cast<T>((v >> n) | (v << (W - n))) : v;
        bool c = (r & msb) != 0;
        set_cf_of(c, c != ((r & (msb >> 1)) != 0));
        cpu.set_arith_flags(f);
        return r;
    } else if constexpr (OP == Shift::Rcl) {
        unsigned n = count % (W + 1);
        bool c = (f & FLAG_CF) != 0;
        T r = v;
        for (unsigned i = 0; i < n; ++i) {
            bool out = (r & msb) != 0;
            r = static_cast<T>((r << 1) | (c ? 1 : 0));
            c = out;
        }
        set_cf_of(c, ((r & msb) != 0) != c);
        cpu.set_arith_flags(f);
        return r;
    } else if constexpr (OP == Shift::Rcr) {
        unsigned n = count % (W + 1);
        bool c = (f & FLAG_CF) != 0;
        bool o = ((v & msb) != 0) != c;
        T r = v;
        for (unsigned i = 0; i < n; ++i) {
            bool out = r & 1;
            r = static_cast<T>((r >> 1) | (c ? msb : 0));
            c = out;
        }
        set_cf_of(c, o);
        cpu.set_arith_flags(f);
        return r;
    } else if constexpr (OP == Shift::Shl || OP == Shift::Sal6) {
        u64 wide = u64(v) << count;
        T r = static_cast<T>(wide);
        bool c = ((wide >> W) & 1) != 0;
        cpu.flags_szp<T>(r, (c ? FLAG_CF : 0) | ((((r & msb) != 0) != c) ? FLAG_OF : 0));
        return r;
    } else if constexpr (OP == Shift::Shr) {
        T r = static_cast<T>(u64(v) >> count);
        bool c = ((u64(v) >> (count - 1)) & 1) != 0;
        cpu.flags_szp<T>(r, (c ? FLAG_CF : 0) | ((v & msb) ? FLAG_OF : 0));
        return r;
    } else {
        i64 sv = static_cast<Signed<T>>(v);
        T r = static_cast<T>(sv >> count);
        bool c = ((sv >> (count - 1)) & 1) != 0;
        cpu.flags_szp<T>(r, c ? FLAG_CF : 0);
        return r;
    }
}

// SRC: 0 = by 1 (D0/D1), 1 = by CL (D2/D3), 2 = by imm8 (C0/C1).
template <Shift OP, typename T, int SRC>
Exec shift_rm(Cpu& cpu, DecodedInsn const& insn) {
    unsigned count = SRC == 0 ? 1 : SRC == 1 ? cpu.reg<u8>(REG_ECX) : (insn.imm & 0xFF);
    if (insn.mod == 3) {
        cpu.set_reg<T>(insn.rm, shift_op<OP, T>(cpu, cpu.reg<T>(insn.rm), count));
        return {};
    }
    u32 off = cpu.ea(insn);
    TRY(cpu.check_write<sizeof(T)>(insn.seg, off));
    T v = TRY(cpu.read<T>(insn.seg, off));
    if ((count & 31) == 0) return {};
    return cpu.write<T>(insn.seg, off, shift_op<OP, T>(cpu, v, count));
}

template <Shift OP, int SRC>
void register_shift(DispatchTable& t, u16 op8, u16 opv) {
    u8 reg = static_cast<u8>(OP);
    t.set_group(op8, reg, shift_rm<OP, u8, SRC>);
    t.set_group(opv, reg, shift_rm<OP, u16, SRC>, shift_rm<OP, u32, SRC>);
}

template <int SRC>
void register_shifts(DispatchTable& t, u16 op8, u16 opv) {
    register_shift<Shift::Rol, SRC>(t, op8, opv);
    register_shift<Shift::Ror, SRC>(t, op8, opv);
    register_shift<Shift::Rcl, SRC>(t, op8, opv);
    register_shift<Shift::Rcr, SRC>(t, op8, opv);
    register_shift<Shift::Shl, SRC>(t, op8, opv);
    register_shift<Shift::Shr, SRC>(t, op8, opv);
    register_shift<Shift::Sal6, SRC>(t, op8, opv);
    register_shift<Shift::Sar, SRC>(t, op8, opv);
}

// SHLD/SHRD r/m, reg, imm8 or CL.
template <typename T, bool LEFT, bool BY_CL>
Exec shxd(Cpu& cpu, DecodedInsn const& insn) {
    constexpr unsigned W = sizeof(T) * 8;
    unsigned count = (BY_CL ? cpu.reg<u8>(REG_ECX) : insn.imm) & 31;
    u32 off = 0;
    T dst = 0;
    if (insn.mod == 3) {
        dst = cpu.reg<T>(insn.rm);
    } else {
        off = cpu.ea(insn);
        TRY(cpu.check_write<sizeof(T)>(insn.seg, off));
        dst = TRY(cpu.read<T>(insn.seg, off));
    }
    if (count == 0) return {};
    T src = cpu.reg<T>(insn.reg);
    T r = 0;
    bool c = false;
    if constexpr (W == 32) {
        if constexpr (LEFT) {
            r = (dst << count) | (src >> (32 - count));
            c = ((dst >> (32 - count)) & 1) != 0;
        } else {
            r = (dst >> count) | (src << (32 - count));
            c = ((dst >> (count - 1)) & 1) != 0;
        }
    } else if constexpr (LEFT) {
        // dst:src:src shifted left; 16-bit counts above 16 are undefined
        // and give src bits again, as the 386 does.
        u64 cat = (u64(dst) << (2 * W)) | (u64(src) << W) | src;
        u64 shifted = cat << count;
        r = static_cast<T>(shifted >> (2 * W));
        c = ((shifted >> (3 * W)) & 1) != 0;
    } else {
        u64 cat = (u64(src) << (2 * W)) | (u64(src) << W) | dst;
        r = static_cast<T>(cat >> count);
        c = ((cat >> (count - 1)) & 1) != 0;
    }
    bool o = ((r ^ dst) & msb_of<T>()) != 0;
    cpu.flags_szp<T>(r, (c ? FLAG_CF : 0) | (o ? FLAG_OF : 0));
    if (insn.mod == 3) {
        cpu.set_reg<T>(insn.rm, r);
        return {};
    }
    return cpu.write<T>(insn.seg, off, r);
}

enum class BitOp { Test, Set, Reset, Complement };

// BT family. IMM: the offset is imm8 (masked to the width); otherwise it is
// a signed register value that may address memory outside the operand.
template <typename T, BitOp OP, bool IMM>
Exec bit_op(Cpu& cpu, DecodedInsn const& insn) {
    constexpr unsigned W = sizeof(T) * 8;
    u32 offset = IMM ? insn.imm : cpu.reg<T>(insn.reg);
    unsigned bit = offset & (W - 1);
    T mask = static_cast<T>(T(1) << bit);
    auto apply = [&](T v) -> T {
        if constexpr (OP == BitOp::Set) return static_cast<T>(v | mask);
        if constexpr (OP == BitOp::Reset) return static_cast<T>(v & ~mask);
        if constexpr (OP == BitOp::Complement) return static_cast<T>(v ^ mask);
        return v;
    };
    if (insn.mod == 3) {
        T v = cpu.reg<T>(insn.rm);
        cpu.set_arith_flag(FLAG_CF, (v & mask) != 0);
        if constexpr (OP != BitOp::Test) cpu.set_reg<T>(insn.rm, apply(v));
        return {};
    }
    u32 ea = cpu.ea(insn);
    if (!IMM) {
        i32 displacement =
            (static_cast<i32>(sext<T>(static_cast<T>(offset))) >> (W == 16 ? 4 : 5)) * i32(W / 8);
        ea = (ea + static_cast<u32>(displacement)) & addr_mask(insn);
    }
    if constexpr (OP != BitOp::Test) TRY(cpu.check_write<sizeof(T)>(insn.seg, ea));
    T v = TRY(cpu.read<T>(insn.seg, ea));
    if constexpr (OP != BitOp::Test) TRY(cpu.write<T>(insn.seg, ea, apply(v)));
    cpu.set_arith_flag(FLAG_CF, (v & mask) != 0);
    return {};
}

template <typename T, bool REVERSE>
Exec bit_scan(Cpu& cpu, DecodedInsn const& insn) {
    T v = TRY(cpu.read_rm<T>(insn));
    u32 f = cpu.arith_flags();
    if (v == 0) {
        cpu.set_arith_flags(f | FLAG_ZF); // the 486 leaves the destination unchanged
        return {};
    }
    unsigned index = REVERSE ? (31 - static_cast<unsigned>(__builtin_clz(u32(v))))
                             : static_cast<unsigned>(__builtin_ctz(u32(v)));
    cpu.set_reg<T>(insn.reg, static_cast<T>(index));
    cpu.set_arith_flags(f & ~FLAG_ZF);
    return {};
}

Exec setcc(Cpu& cpu, DecodedInsn const& insn) {
    return cpu.write_rm<u8>(insn, cpu.condition(insn.opcode & 0xF) ? 1 : 0);
}

template <typename T>
Exec bswap(Cpu& cpu, DecodedInsn const& insn) {
    unsigned r = insn.opcode & 7;
    if constexpr (sizeof(T) == 4)
        cpu.set_reg32(r, __builtin_bswap32(cpu.reg32(r)));
    else
        cpu.set_reg<u16>(r, 0); // undefined for 16 bits; the 486 clears the word
    return {};
}

} // namespace

void register_logic(DispatchTable& t) {
    register_shifts<2>(t, 0xC0, 0xC1);
    register_shifts<0>(t, 0xD0, 0xD1);
    register_shifts<1>(t, 0xD2, 0xD3);
    t.set(0x1A4, shxd<u16, true, false>, shxd<u32, true, false>);
    t.set(0x1A5, shxd<u16, true, true>, shxd<u32, true, true>);
    t.set(0x1AC, shxd<u16, false, false>, shxd<u32, false, false>);
    t.set(0x1AD, shxd<u16, false, true>, shxd<u32, false, true>);
    t.set(0x1A3, bit_op<u16, BitOp::Test, false>, bit_op<u32, BitOp::Test, false>);
    t.set(0x1AB, bit_op<u16, BitOp::Set, false>, bit_op<u32, BitOp::Set, false>);
    t.set(0x1B3, bit_op<u16, BitOp::Reset, false>, bit_op<u32, BitOp::Reset, false>);
    t.set(0x1BB, bit_op<u16, BitOp::Complement, false>, bit_op<u32, BitOp::Complement, false>);
    for (u8 reg = 0; reg < 4; ++reg)
        t.set_group(0x1BA, reg, exec_undefined);
    t.set_group(0x1BA, 4, bit_op<u16, BitOp::Test, true>, bit_op<u32, BitOp::Test, true>);
    t.set_group(0x1BA, 5, bit_op<u16, BitOp::Set, true>, bit_op<u32, BitOp::Set, true>);
    t.set_group(0x1BA, 6, bit_op<u16, BitOp::Reset, true>, bit_op<u32, BitOp::Reset, true>);
    t.set_group(0x1BA, 7, bit_op<u16, BitOp::Complement, true>, bit_op<u32, BitOp::Complement, true>);
    t.set(0x1BC, bit_scan<u16, false>, bit_scan<u32, false>);
    t.set(0x1BD, bit_scan<u16, true>, bit_scan<u32, true>);
    for (u16 op = 0x190; op <= 0x19F; ++op)
        t.set(op, setcc);
    for (u16 op = 0x1C8; op <= 0x1CF; ++op)
        t.set(op, VSA_BOTH(bswap));
}

} // namespace vsa
