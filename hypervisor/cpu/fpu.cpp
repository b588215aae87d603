// SPDX-License-Identifier: GPL-2.0-or-later
// x87 arithmetic (SDM vol. 1, chapters 4 and 8; IEEE 754-1985 as the x87
// implements it); the register file is in fpu_state.cpp. See fpu.h for the
// approach and what is left out.
//
// Conventions of the soft-float core: a finite nonzero value is unpacked
// to (sign, e, m) with m normalized (bit 63 set) and value = m * 2^(e-63).
// Results are built as a 128-bit significand `sig` and an exponent E with
// value = sig * 2^(E-127); round_pack() normalizes, denormalizes, rounds
// once (the low bit of `sig` is a sticky bit where bits were shifted out)
// and applies the overflow/underflow responses.
//
// Underflow tininess is detected before rounding, as the x87 does.
#include "hypervisor/cpu/fpu.h"

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

static_assert(std::numeric_limits<long double>::digits == 64 &&
                  std::numeric_limits<long double>::max_exponent == 16384,
              "the x87 transcendentals use the host long double, which must be the x87 80-bit format");

namespace vsa {
namespace x87 {

namespace {

__extension__ typedef unsigned __int128 u128;

constexpr i32 EXT_BIAS = 16383;
constexpr u64 INT_BIT = 1ull << 63;
constexpr i32 BIAS_ADJUST = 24576; // unmasked overflow/underflow (SDM vol. 1, 8.5.4)

struct Format {
    i32 bias;
    i32 max_bexp; // biased exponent of infinity
};
constexpr Format EXT{16383, 0x7FFF};
constexpr Format DBL{1023, 0x7FF};
constexpr Format SGL{127, 0xFF};

struct Packed {
    bool sign{false};
    i32 bexp{0};
    u64 sig{0}; // bit 63 = integer bit (0 for a denormal)
    u16 exc{0};
    bool up{false};
};

struct Unp {
    bool sign;
    i32 e;
    u64 m;
};

bool is_nan(Class c) {
    return c == Class::QNaN || c == Class::SNaN;
}

F80 make(bool sign, u16 exp, u64 sig) {
    return F80{sig, static_cast<u16>((sign ? 0x8000 : 0) | exp)};
}
F80 zero(bool sign) {
    return make(sign, 0, 0);
}
F80 inf(bool sign) {
    return make(sign, 0x7FFF, INT_BIT);
}

int clz128(u128 v) {
    u64 hi = static_cast<u64>(v >> 64);
    return hi ? std::countl_zero(hi) : 64 + std::countl_zero(static_cast<u64>(v));
}

// Shifts right, ORing every bit shifted out into bit 0.
u128 shr_sticky(u128 v, i64 n) {
    if (n <= 0) return v;
    if (n >= 128) return v != 0 ? 1 : 0;
    u128 out = v >> n;
    if (v & ((u128(1) << n) - 1)) out |= 1;
    return out;
}

Unp unpack(F80 a) {
    i32 e = (a.exp() == 0 ? 1 : a.exp()) - EXT_BIAS;
    u64 m = a.sig;
    int lz = std::countl_zero(m);
    return Unp{a.sign(), e - lz, m << lz};
}

// The one rounding step. `sig` != 0; value = sig * 2^(E-127).
// `reg_dest`: unmasked overflow/underflow bias-adjust the exponent (a
// register result); otherwise an unmasked one leaves the result to be
// discarded by the caller.
Packed round_pack(bool sign, i64 E, u128 sig, Format f, unsigned precision, u8 rc, u16 masks, bool reg_dest) {
    int lz = clz128(sig);
    sig <<= lz;
    E -= lz;
    Packed p;
    p.sign = sign;
    i64 bexp = E + f.bias;
    bool tiny = bexp < 1;
    bool ue_unmasked = !(masks & SW_UE);
    if (tiny && ue_unmasked) {
        // Unmasked: underflow is signalled on tininess alone.
        p.exc |= SW_UE;
        if (reg_dest) {
            bexp += BIAS_ADJUST;
            tiny = bexp < 1;
        }
    }
    if (tiny) {
        sig = shr_sticky(sig, 1 - bexp);
        bexp = 0;
    }
    unsigned lsb = 128 - precision;
    u128 rmask = (u128(1) << lsb) - 1;
    u128 half = u128(1) << (lsb - 1);
    u128 rbits = sig & rmask;
    bool inexact = rbits != 0;
    bool inc = false;
    switch (rc) {
    case RC_NEAREST:
        inc = rbits > half || (rbits == half && ((sig >> lsb) & 1));
        break;
    case RC_DOWN:
        inc = inexact && sign;
        break;
    case RC_UP:
        inc = inexact && !sign;
        break;
    default:
        break;
    }
    sig &= ~rmask;
    if (inc) {
        sig += u128(1) << lsb;
        if (sig == 0) {
            sig = u128(1) << 127;
            ++bexp;
        }
    }
    if (bexp == 0 && (sig >> 127)) bexp = 1; // a denormal rounded up to the smallest normal
    if (inexact) {
        p.exc |= SW_PE;
        if (tiny) p.exc |= SW_UE;
    }
    p.up = inc;
    if (bexp >= f.max_bexp) {
        p.exc |= SW_OE;
        if (!(masks & SW_OE)) {
            if (reg_dest) bexp -= BIAS_ADJUST;
        } else {
            p.exc |= SW_PE;
            bool to_inf = rc == RC_NEAREST || (rc == RC_UP && !sign) || (rc == RC_DOWN && sign);
            if (to_inf) {
                bexp = f.max_bexp;
                sig = u128(1) << 127;
                p.up = true;
            } else {
                bexp = f.max_bexp - 1;
                sig = ~rmask;
                p.up = false;
            }
        }
    }
    p.bexp = static_cast<i32>(bexp);
    p.sig = static_cast<u64>(sig >> 64);
    return p;
}

Res finish(bool sign, i64 E, u128 sig, Env env, unsigned precision) {
    Packed p = round_pack(sign, E, sig, EXT, precision, env.rc, env.masks, env.reg_dest);
    return Res{make(p.sign, static_cast<u16>(p.bexp & 0x7FFF), p.sig), p.exc, p.up};
}

Res finish(bool sign, i64 E, u128 sig, Env env) {
    return finish(sign, E, sig, env, env.precision);
}

Res with(Res r, u16 exc) {
    r.exc |= exc;
    return r;
}

// An invalid operation or a divide by zero found after the operand checks
// outranks the denormal-operand exception (SDM vol. 1, 4.9.2: priority 3
// before 4), so DE is not reported with it: a denormal divided by zero
// sets ZE alone, as the host x87 does.
u16 outranks_de(u16 pre, u16 exception) {
    return static_cast<u16>((pre & ~SW_DE) | exception);
}

// Unsupported encodings, NaNs and denormal operands of a two-operand
// operation. True when `r` is the final result.
bool specials2(F80 a, F80 b, Env env, Res& r, Class& ca, Class& cb) {
    ca = classify(a);
    cb = classify(b);
    if (ca == Class::Unsupported || cb == Class::Unsupported) {
        r = Res{INDEFINITE, SW_IE};
        return true;
    }
    if (is_nan(ca) || is_nan(cb)) {
        r = propagate_nan(a, b);
        return true;
    }
    if (ca == Class::Denormal || cb == Class::Denormal) {
        r.exc |= SW_DE;
        if (!(env.masks & SW_DE)) return true;
    }
    return false;
}

bool specials1(F80 a, Env env, Res& r, Class& ca) {
    ca = classify(a);
    if (ca == Class::Unsupported) {
        r = Res{INDEFINITE, SW_IE};
        return true;
    }
    if (is_nan(ca)) {
        r = Res{quiet(a), static_cast<u16>(ca == Class::SNaN ? SW_IE : 0)};
        return true;
    }
    if (ca == Class::Denormal) {
        r.exc |= SW_DE;
        if (!(env.masks & SW_DE)) return true;
    }
    return false;
}

Res addsub(F80 a, F80 b, bool negate_b, Env env) {
    Res r;
    Class ca, cb;
    if (specials2(a, b, env, r, ca, cb)) return r;
    u16 pre = r.exc;
    bool sa = a.sign();
    bool sb = b.sign() != negate_b;
    if (ca == Class::Infinity || cb == Class::Infinity) {
        if (ca == Class::Infinity && cb == Class::Infinity && sa != sb)
            return Res{INDEFINITE, outranks_de(pre, SW_IE)};
        return Res{inf(ca == Class::Infinity ? sa : sb), pre};
    }
    if (ca == Class::Zero && cb == Class::Zero) return Res{zero(sa == sb ? sa : env.rc == RC_DOWN), pre};
    if (ca == Class::Zero || cb == Class::Zero) {
        Unp u = unpack(ca == Class::Zero ? b : a);
        return with(finish(ca == Class::Zero ? sb : sa, u.e, u128(u.m) << 64, env), pre);
    }
    Unp ua = unpack(a);
    Unp ub = unpack(b);
    ua.sign = sa;
    ub.sign = sb;
    if (ua.e < ub.e || (ua.e == ub.e && ua.m < ub.m)) std::swap(ua, ub);
    u128 A = u128(ua.m) << 63;
    u128 B = shr_sticky(u128(ub.m) << 63, i64(ua.e) - ub.e);
    u128 R = ua.sign == ub.sign ? A + B : A - B;
    if (R == 0) return Res{zero(env.rc == RC_DOWN), pre};
    return with(finish(ua.sign, i64(ua.e) + 1, R, env), pre);
}

// floor(sqrt(n)) and the remainder n - root^2.
u64 isqrt(u128 n, u128& rem) {
    u128 res = 0;
    u128 bit = u128(1) << 126;
    while (bit > n)
        bit >>= 2;
    while (bit) {
        if (n >= res + bit) {
            n -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    rem = n;
    return static_cast<u64>(res);
}

// |value| rounded to an integer with `rc`, for |value| < 2^64.
struct IntRound {
    u64 mag;
    bool inexact;
    bool up;
};
IntRound round_int_mag(Unp u, u8 rc) {
    if (u.e >= 63) return IntRound{u.m, false, false};       // callers handle e > 63
    u128 fixed = shr_sticky(u128(u.m) << 64, 63 - i64(u.e)); // 64 fraction bits
    u64 ip = static_cast<u64>(fixed >> 64);
    u64 frac = static_cast<u64>(fixed);
    bool inc = false;
    switch (rc) {
    case RC_NEAREST:
        inc = frac > INT_BIT || (frac == INT_BIT && (ip & 1));
        break;
    case RC_DOWN:
        inc = frac && u.sign;
        break;
    case RC_UP:
        inc = frac && !u.sign;
        break;
    default:
        break;
    }
    return IntRound{ip + (inc ? 1 : 0), frac != 0, inc};
}

// A finite, nonzero, in-range magnitude and sign as an exact F80.
F80 from_mag(bool sign, u64 mag) {
    if (mag == 0) return zero(sign);
    int lz = std::countl_zero(mag);
    return make(sign, static_cast<u16>(EXT_BIAS + 63 - lz), mag << lz);
}

} // namespace

Class classify(F80 a) {
    u16 e = a.exp();
    if (e == 0) return a.sig == 0 ? Class::Zero : Class::Denormal; // incl. pseudo-denormals
    if (!(a.sig & INT_BIT)) return Class::Unsupported;             // unnormals, pseudo-NaN/infinity
    if (e == 0x7FFF) {
        if ((a.sig << 1) == 0) return Class::Infinity;
        return (a.sig >> 62) & 1 ? Class::QNaN : Class::SNaN;
    }
    return Class::Normal;
}

F80 quiet(F80 a) {
    a.sig |= 1ull << 62;
    return a;
}

Res propagate_nan(F80 a, F80 b) {
    Class ca = classify(a);
    Class cb = classify(b);
    Res r;
    if (ca == Class::SNaN || cb == Class::SNaN) r.exc = SW_IE;
    bool an = is_nan(ca);
    bool bn = is_nan(cb);
    F80 pick = an ? a : b;
    if (an && bn) {
        // SDM vol. 1, table 4-7: a QNaN beats an SNaN, otherwise the larger
        // significand; equal significands: the positive one.
        if (ca != cb)
            pick = ca == Class::QNaN ? a : b;
        else if (a.sig != b.sig)
            pick = a.sig > b.sig ? a : b;
        else
            pick = a.se < b.se ? a : b;
    }
    r.value = quiet(pick);
    return r;
}

Res add(F80 a, F80 b, Env env) {
    return addsub(a, b, false, env);
}

Res sub(F80 a, F80 b, Env env) {
    return addsub(a, b, true, env);
}

Res mul(F80 a, F80 b, Env env) {
    Res r;
    Class ca, cb;
    if (specials2(a, b, env, r, ca, cb)) return r;
    u16 pre = r.exc;
    bool s = a.sign() != b.sign();
    if (ca == Class::Infinity || cb == Class::Infinity) {
        if (ca == Class::Zero || cb == Class::Zero) return Res{INDEFINITE, outranks_de(pre, SW_IE)};
        return Res{inf(s), pre};
    }
    if (ca == Class::Zero || cb == Class::Zero) return Res{zero(s), pre};
    Unp ua = unpack(a);
    Unp ub = unpack(b);
    return with(finish(s, i64(ua.e) + ub.e + 1, u128(ua.m) * ub.m, env), pre);
}

Res div(F80 a, F80 b, Env env) {
    Res r;
    Class ca, cb;
    if (specials2(a, b, env, r, ca, cb)) return r;
    u16 pre = r.exc;
    bool s = a.sign() != b.sign();
    if (ca == Class::Infinity) {
        if (cb == Class::Infinity) return Res{INDEFINITE, outranks_de(pre, SW_IE)};
        return Res{inf(s), pre};
    }
    if (cb == Class::Infinity) return Res{zero(s), pre};
    if (cb == Class::Zero) {
        if (ca == Class::Zero) return Res{INDEFINITE, outranks_de(pre, SW_IE)};
        return Res{inf(s), outranks_de(pre, SW_ZE)};
    }
    if (ca == Class::Zero) return Res{zero(s), pre};
    Unp ua = unpack(a);
    Unp ub = unpack(b);
    u128 n1 = u128(ua.m) << 63;
    u128 q1 = n1 / ub.m;
    u128 r1 = n1 % ub.m;
    u128 n2 = r1 << 64;
    u128 q2 = n2 / ub.m;
    u128 r2 = n2 % ub.m;
    u128 q = (q1 << 64) | q2 | (r2 != 0 ? 1 : 0);
    return with(finish(s, i64(ua.e) - ub.e, q, env), pre);
}

Res sqrt(F80 a, Env env) {
    Class ca = classify(a);
    Res r;
    if (ca == Class::Unsupported) return Res{INDEFINITE, SW_IE};
    if (is_nan(ca)) return Res{quiet(a), u16(ca == Class::SNaN ? SW_IE : 0)};
    if (ca == Class::Zero) return Res{a, 0};
    if (a.sign()) return Res{INDEFINITE, SW_IE};
    if (ca == Class::Infinity) return Res{a, 0};
    if (ca == Class::Denormal) {
        r.exc = SW_DE;
        if (!(env.masks & SW_DE)) return r;
    }
    Unp u = unpack(a);
    i64 e = i64(u.e) - 63;
    int k = ((e - 63) & 1) ? 64 : 63;
    u128 n = u128(u.m) << k;
    u128 rem = 0;
    u64 root = isqrt(n, rem);
    u128 s = (u128(root) << 64) | (rem > root ? (u128(1) << 63) : 0) | (rem != 0 ? 1 : 0);
    return with(finish(false, (e - k) / 2 + 63, s, env), r.exc);
}

Res round_to_int(F80 a, Env env) {
    Res r;
    Class ca;
    if (specials1(a, env, r, ca)) return r;
    if (ca == Class::Zero || ca == Class::Infinity) return Res{a, r.exc};
    Unp u = unpack(a);
    if (u.e >= 63) return Res{a, r.exc};
    IntRound ir = round_int_mag(u, env.rc);
    Res out{from_mag(u.sign, ir.mag), r.exc, ir.up};
    if (ir.inexact) out.exc |= SW_PE;
    return out;
}

Res scale(F80 a, F80 b, Env env) {
    Res r;
    Class ca, cb;
    if (specials2(a, b, env, r, ca, cb)) return r;
    u16 pre = r.exc;
    if (cb == Class::Infinity) {
        if (!b.sign()) {
            if (ca == Class::Zero) return Res{INDEFINITE, outranks_de(pre, SW_IE)};
            return Res{inf(a.sign()), pre};
        }
        if (ca == Class::Infinity) return Res{INDEFINITE, outranks_de(pre, SW_IE)};
        return Res{zero(a.sign()), pre};
    }
    if (ca == Class::Zero || ca == Class::Infinity) return Res{a, pre};
    i64 n = 0;
    if (cb != Class::Zero) {
        Unp ub = unpack(b);
        if (ub.e >= 30)
            n = 1 << 30;
        else if (ub.e >= 0)
            n = static_cast<i64>(ub.m >> (63 - ub.e));
        if (ub.sign) n = -n;
    }
    Unp ua = unpack(a);
    return with(finish(ua.sign, ua.e + n, u128(ua.m) << 64, env, 64), pre);
}

Rem remainder(F80 a, F80 b, bool ieee, Env env) {
    Rem out;
    Class ca, cb;
    if (specials2(a, b, env, out.r, ca, cb)) return out;
    u16 pre = out.r.exc;
    if (ca == Class::Infinity || cb == Class::Zero) {
        out.r = Res{INDEFINITE, outranks_de(pre, SW_IE)};
        return out;
    }
    if (ca == Class::Zero || cb == Class::Infinity) {
        out.r = Res{a, pre};
        return out;
    }
    Unp ua = unpack(a);
    Unp ub = unpack(b);
    i64 d = i64(ua.e) - ub.e;
    bool sign = ua.sign;
    u64 q = 0;
    u128 rem = 0;
    i64 exp = 0; // value of the remainder = rem * 2^(exp - 63)
    if (d < 0) {
        if (!ieee || d < -1 || ua.m <= ub.m) {
            // |a| < |b| (or exactly |b|/2 for FPREM1, quotient 0 is even).
            out.r = Res{a, pre};
            if (classify(a) == Class::Denormal)
                out.r = with(finish(ua.sign, ua.e, u128(ua.m) << 64, env, 64), pre);
            return out;
        }
        // FPREM1 with |b|/2 < |a| < |b|: quotient 1, remainder |b| - |a|.
        q = 1;
        rem = (u128(ub.m) << 1) - ua.m;
        exp = ua.e;
        sign = !sign;
    } else {
        i64 n = d;
        if (d >= 64) {
            // Partial remainder: reduce the exponent difference by 32 to 63
            // bits per instruction; software loops while C2 = 1.
            n = 32 + (d & 31);
            out.partial = true;
        }
        u128 r = ua.m;
        for (i64 i = 0; i <= n; ++i) {
            q <<= 1;
            if (r >= ub.m) {
                r -= ub.m;
                q |= 1;
            }
            if (i != n) r <<= 1;
        }
        exp = i64(ub.e) + (d - n);
        rem = r;
        if (ieee && !out.partial) {
            u128 twice = rem << 1;
            if (twice > ub.m || (twice == ub.m && (q & 1))) {
                rem = ub.m - rem;
                ++q;
                sign = !sign;
            }
        }
    }
    out.quotient = static_cast<u8>(q & 7);
    if (rem == 0) {
        out.r = Res{zero(ua.sign), pre};
        return out;
    }
    out.r = with(finish(sign, exp, rem << 64, env, 64), pre);
    return out;
}

Cmp compare(F80 a, F80 b, bool quiet_nan, u16& exc) {
    Class ca = classify(a);
    Class cb = classify(b);
    if (ca == Class::Unsupported || cb == Class::Unsupported) {
        exc |= SW_IE;
        return Cmp::Unordered;
    }
    if (is_nan(ca) || is_nan(cb)) {
        if (!quiet_nan || ca == Class::SNaN || cb == Class::SNaN) exc |= SW_IE;
        return Cmp::Unordered;
    }
    if (ca == Class::Denormal || cb == Class::Denormal) exc |= SW_DE;
    if (ca == Class::Zero && cb == Class::Zero) return Cmp::Equal;
    // Order by sign, then magnitude (infinity above every finite value).
    auto key = [](F80 x, Class c) -> std::pair<i64, u64> {
        if (c == Class::Zero) return {std::numeric_limits<i64>::min(), 0};
        if (c == Class::Infinity) return {std::numeric_limits<i64>::max(), 0};
        Unp u = unpack(x);
        return {u.e, u.m};
    };
    bool sa = ca != Class::Zero && a.sign();
    bool sb = cb != Class::Zero && b.sign();
    if (sa != sb) return sa ? Cmp::Less : Cmp::Greater;
    auto ka = key(a, ca);
    auto kb = key(b, cb);
    if (ka == kb) return Cmp::Equal;
    return ((ka < kb) != sa) ? Cmp::Less : Cmp::Greater;
}

Res from_f32(u32 bits) {
    bool s = bits >> 31;
    u32 e = (bits >> 23) & 0xFF;
    u32 frac = bits & 0x7F'FFFF;
    if (e == 0) {
        if (frac == 0) return Res{zero(s), 0};
        int lz = std::countl_zero(u64(frac));
        // value = frac * 2^-149; the top bit lands at 2^(63 - lz - 149).
        return Res{make(s, static_cast<u16>(EXT_BIAS + 63 - lz - 149), u64(frac) << lz), SW_DE};
    }
    if (e == 0xFF) {
        if (frac == 0) return Res{inf(s), 0};
        F80 nan = make(s, 0x7FFF, INT_BIT | (u64(frac) << 40));
        bool snan = !(frac & 0x40'0000);
        return Res{quiet(nan), u16(snan ? SW_IE : 0)};
    }
    return Res{make(s, static_cast<u16>(e - 127 + EXT_BIAS), INT_BIT | (u64(frac) << 40)), 0};
}

Res from_f64(u64 bits) {
    bool s = bits >> 63;
    u32 e = (bits >> 52) & 0x7FF;
    u64 frac = bits & ((1ull << 52) - 1);
    if (e == 0) {
        if (frac == 0) return Res{zero(s), 0};
        int lz = std::countl_zero(frac);
        return Res{make(s, static_cast<u16>(EXT_BIAS + 63 - lz - 1074), frac << lz), SW_DE};
    }
    if (e == 0x7FF) {
        if (frac == 0) return Res{inf(s), 0};
        F80 nan = make(s, 0x7FFF, INT_BIT | (frac << 11));
        bool snan = !(frac & (1ull << 51));
        return Res{quiet(nan), u16(snan ? SW_IE : 0)};
    }
    return Res{make(s, static_cast<u16>(e - 1023 + EXT_BIAS), INT_BIT | (frac << 11)), 0};
}

F80 from_int(i64 v) {
    bool s = v < 0;
    u64 mag = s ? u64(0) - u64(v) : u64(v);
    return mag == 0 ? zero(false) : from_mag(s, mag);
}

Store32 to_f32(F80 a, Env env) {
    Class c = classify(a);
    u32 sign = a.sign() ? 0x8000'0000u : 0;
    switch (c) {
    case Class::Unsupported:
        return Store32{0xFFC0'0000u, SW_IE, false};
    case Class::QNaN:
    case Class::SNaN:
        return Store32{sign | 0x7FC0'0000u | static_cast<u32>((a.sig >> 40) & 0x7F'FFFF),
                       u16(c == Class::SNaN ? SW_IE : 0), false};
    case Class::Infinity:
        return Store32{sign | 0x7F80'0000u, 0, false};
    case Class::Zero:
        return Store32{sign, 0, false};
    default:
        break;
    }
    Unp u = unpack(a);
    Packed p = round_pack(u.sign, u.e, u128(u.m) << 64, SGL, 24, env.rc, env.masks, false);
    u32 bits = sign | (u32(p.bexp & 0xFF) << 23) | static_cast<u32>((p.sig >> 40) & 0x7F'FFFF);
    return Store32{bits, p.exc, p.up};
}

Store64 to_f64(F80 a, Env env) {
    Class c = classify(a);
    u64 sign = a.sign() ? INT_BIT : 0;
    switch (c) {
    case Class::Unsupported:
        return Store64{0xFFF8'0000'0000'0000ull, SW_IE, false};
    case Class::QNaN:
    case Class::SNaN:
        return Store64{sign | 0x7FF8'0000'0000'0000ull | ((a.sig >> 11) & ((1ull << 52) - 1)),
                       u16(c == Class::SNaN ? SW_IE : 0), false};
    case Class::Infinity:
        return Store64{sign | 0x7FF0'0000'0000'0000ull, 0, false};
    case Class::Zero:
        return Store64{sign, 0, false};
    default:
        break;
    }
    Unp u = unpack(a);
    Packed p = round_pack(u.sign, u.e, u128(u.m) << 64, DBL, 53, env.rc, env.masks, false);
    u64 bits = sign | (u64(p.bexp & 0x7FF) << 52) | ((p.sig >> 11) & ((1ull << 52) - 1));
    return Store64{bits, p.exc, p.up};
}

Store64 to_int(F80 a, unsigned bits, Env env) {
    u64 indefinite = 1ull << (bits - 1);
    u64 mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    Class c = classify(a);
    if (c == Class::Zero) return Store64{0, 0, false};
    if (c != Class::Normal && c != Class::Denormal) return Store64{indefinite, SW_IE, false};
    Unp u = unpack(a);
    if (u.e > 63) return Store64{indefinite, SW_IE, false};
    IntRound ir = round_int_mag(u, env.rc);
    u64 limit = u.sign ? indefinite : indefinite - 1;
    if (ir.mag > limit) return Store64{indefinite, SW_IE, false};
    u64 v = u.sign ? u64(0) - ir.mag : ir.mag;
    return Store64{v & mask, u16(ir.inexact ? SW_PE : 0), ir.up};
}

F80 from_bcd(u64 lo, u16 hi) {
    u64 v = 0;
    for (int i = 1; i >= 0; --i)
        v = v * 10 + ((hi >> (4 * i)) & 0xF);
    for (int i = 15; i >= 0; --i)
        v = v * 10 + ((lo >> (4 * i)) & 0xF);
    bool s = (hi & 0x8000) != 0;
    return from_mag(s, v);
}

StoreBcd to_bcd(F80 a, Env env) {
    constexpr StoreBcd INDEF{0xC000'0000'0000'0000ull, 0xFFFF, SW_IE, false};
    Class c = classify(a);
    u16 sign = a.sign() ? 0x8000 : 0;
    if (c == Class::Zero) return StoreBcd{0, sign, 0, false};
    if (c != Class::Normal && c != Class::Denormal) return INDEF;
    Unp u = unpack(a);
    if (u.e > 63) return INDEF;
    IntRound ir = round_int_mag(u, env.rc);
    if (ir.mag > 999'999'999'999'999'999ull) return INDEF;
    u64 v = ir.mag;
    u64 lo = 0;
    for (int i = 0; i < 16; ++i) {
        lo |= (v % 10) << (4 * i);
        v /= 10;
    }
    u16 hi = static_cast<u16>(sign | (v % 10) | ((v / 10) << 4));
    return StoreBcd{lo, hi, u16(ir.inexact ? SW_PE : 0), ir.up};
}

Extract extract(F80 a, Env env) {
    Extract out;
    Res r;
    Class ca;
    if (specials1(a, env, r, ca)) {
        out.exponent = r;
        out.significand = r;
        return out;
    }
    if (ca == Class::Zero) {
        out.exponent = Res{inf(true), u16(r.exc | SW_ZE)};
        out.significand = Res{a, 0};
        return out;
    }
    if (ca == Class::Infinity) {
        out.exponent = Res{inf(false), r.exc};
        out.significand = Res{a, 0};
        return out;
    }
    Unp u = unpack(a);
    out.exponent = Res{from_int(u.e), r.exc};
    out.significand = Res{make(u.sign, EXT_BIAS, u.m), 0};
    return out;
}

F80 constant(Constant c, u8 rc) {
    struct K {
        u64 sig;
        u16 se;
        bool nearest_up; // the bits beyond 64 are above one half
        bool exact;
    };
    static constexpr K TABLE[] = {
        {INT_BIT, 0x3FFF, false, true},                   // 1
        {0xD49A'784B'CD1B'8AFEull, 0x4000, false, false}, // log2(10)
        {0xB8AA'3B29'5C17'F0BBull, 0x3FFF, true, false},  // log2(e)
        {0xC90F'DAA2'2168'C234ull, 0x4000, true, false},  // pi
        {0x9A20'9A84'FBCF'F798ull, 0x3FFD, true, false},  // log10(2)
        {0xB172'17F7'D1CF'79ABull, 0x3FFE, true, false},  // ln(2)
        {0, 0, false, true},                              // +0
    };
    K const& k = TABLE[static_cast<unsigned>(c)];
    F80 v{k.sig, k.se};
    if (!k.exact && (rc == RC_UP || (rc == RC_NEAREST && k.nearest_up))) ++v.sig;
    return v;
}

// ---- Host long double (transcendentals) -------------------------------------

long double to_host(F80 a) {
    long double v = 0;
    unsigned char raw[sizeof(long double)] = {};
    std::memcpy(raw, &a.sig, 8);
    std::memcpy(raw + 8, &a.se, 2);
    std::memcpy(&v, raw, sizeof v);
    return v;
}

F80 from_host(long double v) {
    unsigned char raw[sizeof(long double)];
    std::memcpy(raw, &v, sizeof v);
    F80 a;
    std::memcpy(&a.sig, raw, 8);
    std::memcpy(&a.se, raw + 8, 2);
    return a;
}

namespace {

// Runs `f` on the host with the guest's rounding and collects the
// precision/underflow/overflow flags it raised.
template <typename F>
Res host_op(Env env, F f) {
    static constexpr int MODES[4] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
    int saved = std::fegetround();
    std::fesetround(MODES[env.rc & 3]);
    std::feclearexcept(FE_ALL_EXCEPT);
    volatile long double v = f();
    int flags = std::fetestexcept(FE_INEXACT | FE_UNDERFLOW | FE_OVERFLOW | FE_INVALID | FE_DIVBYZERO);
    std::fesetround(saved);
    Res r;
    r.value = from_host(v);
    if (flags & FE_INEXACT) r.exc |= SW_PE;
    if (flags & FE_UNDERFLOW) r.exc |= SW_UE;
    if (flags & FE_OVERFLOW) r.exc |= SW_OE;
    if (flags & FE_INVALID) r.exc |= SW_IE;
    if (flags & FE_DIVBYZERO) r.exc |= SW_ZE;
    if (r.exc & SW_IE) r.value = INDEFINITE;
    return r;
}

// |a| >= 2^63: FSIN/FCOS/FSINCOS/FPTAN leave ST(0) and set C2.
bool trig_out_of_range(F80 a) {
    return classify(a) != Class::Infinity && a.exp() >= EXT_BIAS + 63;
}

// Shared special cases of the trigonometric functions. True when decided.
bool trig_specials(F80 a, Env env, Trig& t) {
    Class c = classify(a);
    if (c == Class::Unsupported || c == Class::Infinity) {
        t.a = t.b = Res{INDEFINITE, SW_IE};
        return true;
    }
    if (is_nan(c)) {
        t.a = t.b = Res{quiet(a), u16(c == Class::SNaN ? SW_IE : 0)};
        return true;
    }
    if (trig_out_of_range(a)) {
        t.out_of_range = true;
        return true;
    }
    if (c == Class::Denormal) {
        t.a.exc = t.b.exc = SW_DE;
        if (!(env.masks & SW_DE)) return true;
    }
    return false;
}

} // namespace

Trig sin(F80 a, Env env) {
    Trig t;
    if (trig_specials(a, env, t)) return t;
    if (classify(a) == Class::Zero) {
        t.a = Res{a, 0};
        return t;
    }
    long double x = to_host(a);
    t.a = with(host_op(env, [x] { return sinl(x); }), t.a.exc);
    return t;
}

Trig cos(F80 a, Env env) {
    Trig t;
    if (trig_specials(a, env, t)) return t;
    long double x = to_host(a);
    t.a = with(host_op(env, [x] { return cosl(x); }), t.a.exc);
    if (classify(a) == Class::Zero) t.a = Res{ONE, 0};
    return t;
}

Trig sincos(F80 a, Env env) {
    Trig t = sin(a, env);
    if (t.out_of_range || blocks_store(t.a.exc, env.masks)) {
        t.b = t.a;
        return t;
    }
    t.b = cos(a, env).a;
    return t;
}

Trig tan(F80 a, Env env) {
    Trig t;
    if (trig_specials(a, env, t)) return t;
    t.b = Res{ONE, 0};
    if (classify(a) == Class::Zero) {
        t.a = Res{a, 0};
        return t;
    }
    long double x = to_host(a);
    t.a = with(host_op(env, [x] { return tanl(x); }), t.a.exc);
    return t;
}

Res atan2(F80 y, F80 x, Env env) {
    Res r;
    Class cy, cx;
    if (specials2(y, x, env, r, cy, cx)) return r;
    long double hy = to_host(y);
    long double hx = to_host(x);
    Res out = host_op(env, [hy, hx] { return atan2l(hy, hx); });
    out.exc &= ~(SW_IE | SW_ZE); // atan2 of zeros and infinities is defined
    return with(out, r.exc);
}

Res exp2m1(F80 a, Env env) {
    Res r;
    Class c;
    if (specials1(a, env, r, c)) return r;
    if (c == Class::Zero) return Res{a, r.exc};
    if (c == Class::Infinity) return Res{a.sign() ? make(true, 0x3FFF, INT_BIT) : a, r.exc};
    long double x = to_host(a);
    constexpr long double LN2 = 0.693147180559945309417232121458176568L;
    if (fabsl(x) < 0.5L) return with(host_op(env, [x] { return expm1l(x * LN2); }), r.exc);
    return with(host_op(env, [x] { return exp2l(x) - 1.0L; }), r.exc);
}

Res ylog2x(F80 y, F80 x, Env env) {
    Res r;
    Class cy, cx;
    if (specials2(y, x, env, r, cy, cx)) return r;
    u16 pre = r.exc;
    bool x_neg = x.sign() && cx != Class::Zero;
    if (x_neg) return Res{INDEFINITE, outranks_de(pre, SW_IE)};
    if (cx == Class::Zero) {
        if (cy == Class::Zero) return Res{INDEFINITE, outranks_de(pre, SW_IE)};
        return Res{inf(!y.sign()), outranks_de(pre, SW_ZE)};
    }
    bool x_is_one = x == ONE;
    if (cx == Class::Infinity && cy == Class::Zero) return Res{INDEFINITE, outranks_de(pre, SW_IE)};
    if (x_is_one && cy == Class::Infinity) return Res{INDEFINITE, outranks_de(pre, SW_IE)};
    long double hy = to_host(y);
    long double hx = to_host(x);
    return with(host_op(env, [hy, hx] { return hy * log2l(hx); }), pre);
}

Res ylog2xp1(F80 y, F80 x, Env env) {
    Res r;
    Class cy, cx;
    if (specials2(y, x, env, r, cy, cx)) return r;
    u16 pre = r.exc;
    if (cx == Class::Zero && cy == Class::Infinity) return Res{INDEFINITE, outranks_de(pre, SW_IE)};
    if (cx == Class::Zero || cy == Class::Zero) return Res{zero(x.sign() != y.sign()), pre};
    long double hy = to_host(y);
    long double hx = to_host(x);
    constexpr long double LOG2E = 1.442695040888963407359924681001892137L;
    return with(host_op(env, [hy, hx] { return hy * (log1pl(hx) * LOG2E); }), pre);
}

} // namespace x87

} // namespace vsa
