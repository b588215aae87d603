// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/cpu/flags.h"

namespace vsa {

bool lazy_cf(LazyFlags const& lf, u32 stored) {
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

bool lazy_of(LazyFlags const& lf, u32 stored) {
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

bool lazy_af(LazyFlags const& lf, u32 stored) {
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

u32 lazy_arith_flags(LazyFlags const& lf, u32 stored) {
    if (lf.op == FlagOp::None) return stored & FLAGS_ARITH;
    u32 f = 0;
    if (lazy_cf(lf, stored)) f |= FLAG_CF;
    if (lazy_pf(lf, stored)) f |= FLAG_PF;
    if (lazy_af(lf, stored)) f |= FLAG_AF;
    if (lazy_zf(lf, stored)) f |= FLAG_ZF;
    if (lazy_sf(lf, stored)) f |= FLAG_SF;
    if (lazy_of(lf, stored)) f |= FLAG_OF;
    return f;
}

} // namespace vsa
