// SPDX-License-Identifier: GPL-2.0-or-later
// Lazy arithmetic flags (the Bochs/QEMU idea, written in portable C++):
// an ALU instruction records what it did (operation kind, width, the two
// operands and the result) and CF/PF/AF/ZF/SF/OF are computed only when an
// instruction reads them. Most results are overwritten before any flag is
// looked at, so the common path is three stores.
//
// The carry and overflow formulas work from operands and result alone, so
// ADC/SBB need no separate carry-in: for a + b (+ c) = r, the carry out of
// every bit is (a & b) | ((a ^ b) & ~r); for a - b (- c) = r the borrow out
// is (~a & b) | (~(a ^ b) & r) (carry-chain algebra: the carry into bit i
// is a_i ^ b_i ^ r_i).
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/cpu/cpu_types.h"

namespace vsa {

enum class FlagOp : u8 {
    None,  // every arithmetic flag is in the stored EFLAGS
    Add,   // ADD, ADC, XADD
    Sub,   // SUB, SBB, CMP, NEG, CMPS, SCAS, CMPXCHG
    Logic, // AND, OR, XOR, TEST: CF = OF = 0, AF = 0 (undefined)
    Inc,   // like Add with b = 1, CF kept in the stored EFLAGS
    Dec,   // like Sub with b = 1, CF kept in the stored EFLAGS
    Szp,   // SF/ZF/PF from the result, CF/OF/AF stored (shifts, BCD, MUL)
};

struct LazyFlags {
    u32 a{0};
    u32 b{0};
    u32 r{0};
    FlagOp op{FlagOp::None};
    u8 bits{8}; // operand width in bits

    u32 sign_bit() const { return 1u << (bits - 1); }
    u32 mask() const { return bits == 32 ? 0xFFFF'FFFFu : (1u << bits) - 1; }
};

// Computes one flag; `stored` is EFLAGS with whatever the last eager update
// left there.
u32 lazy_arith_flags(LazyFlags const& lf, u32 stored);

inline bool parity_even(u8 v) {
    v ^= v >> 4;
    v ^= v >> 2;
    v ^= v >> 1;
    return (v & 1) == 0;
}

inline bool lazy_zf(LazyFlags const& lf, u32 stored) {
    if (lf.op == FlagOp::None) return (stored & FLAG_ZF) != 0;
    return (lf.r & lf.mask()) == 0;
}
inline bool lazy_sf(LazyFlags const& lf, u32 stored) {
    if (lf.op == FlagOp::None) return (stored & FLAG_SF) != 0;
    return (lf.r & lf.sign_bit()) != 0;
}
inline bool lazy_pf(LazyFlags const& lf, u32 stored) {
    if (lf.op == FlagOp::None) return (stored & FLAG_PF) != 0;
    return parity_even(static_cast<u8>(lf.r));
}

inline bool lazy_cf(LazyFlags const& lf, u32 stored) {
    switch (lf.op) {
    case FlagOp::Add:
        return (((lf.a & lf.b) | ((lf.a ^ lf.b) & ~lf.r)) & lf.sign_bit()) != 0;
    case FlagOp::Sub:
        return (((~lf.a & lf.b) | (~(lf.a ^ lf.b) & lf.r)) & lf.sign_bit()) != 0;
    case FlagOp::Logic:
        return false;
    case FlagOp::None:
    case FlagOp::Inc:
    case FlagOp::Dec:
    case FlagOp::Szp:
        break;
    }
    return (stored & FLAG_CF) != 0;
}

inline bool lazy_of(LazyFlags const& lf, u32 stored) {
    switch (lf.op) {
    case FlagOp::Add:
    case FlagOp::Inc:
        return (((lf.a ^ lf.r) & (lf.b ^ lf.r)) & lf.sign_bit()) != 0;
    case FlagOp::Sub:
    case FlagOp::Dec:
        return (((lf.a ^ lf.b) & (lf.a ^ lf.r)) & lf.sign_bit()) != 0;
    case FlagOp::Logic:
        return false;
    case FlagOp::None:
    case FlagOp::Szp:
        break;
    }
    return (stored & FLAG_OF) != 0;
}

inline bool lazy_af(LazyFlags const& lf, u32 stored) {
    switch (lf.op) {
    case FlagOp::Add:
    case FlagOp::Sub:
    case FlagOp::Inc:
    case FlagOp::Dec:
        return ((lf.a ^ lf.b ^ lf.r) & 0x10) != 0;
    case FlagOp::Logic:
        return false;
    case FlagOp::None:
    case FlagOp::Szp:
        break;
    }
    return (stored & FLAG_AF) != 0;
}

} // namespace vsa
