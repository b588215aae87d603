// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/cpu/flags.h"

namespace vsa {

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
