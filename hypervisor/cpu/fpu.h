// SPDX-License-Identifier: GPL-2.0-or-later
// The x87 floating-point unit of a 486DX / P6-class CPU (SDM vol. 1,
// chapter 8; the 387 and later integrated FPUs): eight 80-bit registers as
// a stack, control, status and tag words, the last-instruction pointers
// (fpu_state.cpp), and the arithmetic on 80-bit extended values (fpu.cpp).
// The instructions are in exec_fpu.cpp.
//
// Arithmetic is software: the basic operations (add, subtract, multiply,
// divide, square root, conversions to and from the memory formats and
// integers, FRNDINT, FSCALE, FPREM/FPREM1, FXTRACT, comparisons) compute
// an exact or sticky 128-bit significand with integer arithmetic and round
// it once, in round_pack(), to the precision control (24/53/64 bits) and
// the rounding control. So results, the C1 round-up bit and the six
// exception flags are bit-exact and do not depend on the host FPU.
//
// The transcendentals (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X,
// FYL2XP1) use the host's `long double` libm, so the emulator needs a host
// whose long double is the x87 extended format (static_assert in fpu.cpp):
// a portability limit, documented here. Their results are within an ulp
// or two of a real x87, not bit-exact (a real x87 is not correctly rounded
// either).
//
// Deliberately left out: the 287's projective infinity (the X bit of the
// control word is stored and ignored, as on a 387), FISTTP (SSE3), the
// FXSAVE image (SSE), the precise denormal-result rounding of precision
// control below 64 bits (a tiny result is rounded at the position the
// format's denormal or the precision gives, whichever is coarser).
#pragma once

#include "hypervisor/base/types.h"

#include <string>

namespace vsa {

class StateVisitor;
class IrqLine;

// One 80-bit register value: 64-bit significand with explicit integer bit,
// sign and 15-bit biased exponent in `se`.
struct F80 {
    u64 sig{0};
    u16 se{0};

    bool sign() const { return (se & 0x8000) != 0; }
    u16 exp() const { return se & 0x7FFF; }
    bool operator==(F80 const&) const = default;
};

namespace x87 {

// Status word bits (SDM vol. 1, 8.1.3).
constexpr u16 SW_IE = 0x0001;
constexpr u16 SW_DE = 0x0002;
constexpr u16 SW_ZE = 0x0004;
constexpr u16 SW_OE = 0x0008;
constexpr u16 SW_UE = 0x0010;
constexpr u16 SW_PE = 0x0020;
constexpr u16 SW_SF = 0x0040;
constexpr u16 SW_ES = 0x0080;
constexpr u16 SW_C0 = 0x0100;
constexpr u16 SW_C1 = 0x0200;
constexpr u16 SW_C2 = 0x0400;
constexpr u16 SW_TOP = 0x3800;
constexpr u16 SW_C3 = 0x4000;
constexpr u16 SW_B = 0x8000;
constexpr u16 SW_EXC = 0x003F;
constexpr u16 SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;

// Rounding control values (control word bits 10-11).
enum : u8 { RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3 };

enum class Class : u8 { Zero, Denormal, Normal, Infinity, QNaN, SNaN, Unsupported };
Class classify(F80 a);

constexpr F80 INDEFINITE{0xC000'0000'0000'0000ull, 0xFFFF};
constexpr F80 ZERO{0, 0};
constexpr F80 ONE{0x8000'0000'0000'0000ull, 0x3FFF};

// How an operation rounds and which exceptions are masked (control word
// bits 0-5). `reg_dest`: the result goes to a register, so unmasked
// overflow/underflow deliver a result with the exponent bias-adjusted by
// 24576 (SDM vol. 1, 8.5.4/8.5.5); a memory destination is left unchanged.
struct Env {
    u8 rc{RC_NEAREST};
    u8 precision{64}; // 24, 53 or 64 significand bits
    u16 masks{SW_EXC};
    bool reg_dest{true};
};

// A result, the exception flags it raised, and whether the rounding
// increased its magnitude (C1).
struct Res {
    F80 value{};
    u16 exc{0};
    bool up{false};
};

// Results with an unmasked IE, DE or ZE in `exc` must not be stored: those
// exceptions are detected before anything is computed.
constexpr bool blocks_store(u16 exc, u16 masks) {
    return (exc & ~masks & (SW_IE | SW_DE | SW_ZE)) != 0;
}

Res add(F80 a, F80 b, Env env);
Res sub(F80 a, F80 b, Env env);
Res mul(F80 a, F80 b, Env env);
Res div(F80 a, F80 b, Env env);
Res sqrt(F80 a, Env env);
Res round_to_int(F80 a, Env env); // FRNDINT
Res scale(F80 a, F80 b, Env env); // FSCALE: a * 2^trunc(b)
F80 quiet(F80 a);                 // SNaN -> QNaN
Res propagate_nan(F80 a, F80 b);  // at least one NaN: which one an x87 returns

// FPREM (ieee=false, truncating quotient) and FPREM1 (round to nearest):
// the (partial) remainder, the low three quotient bits and whether the
// reduction is complete.
struct Rem {
    Res r;
    u8 quotient{0};
    bool partial{false};
};
Rem remainder(F80 a, F80 b, bool ieee, Env env);

// Comparison result, as C3 C2 C0 encode it.
enum class Cmp : u8 { Greater, Less, Equal, Unordered };
// `quiet`: FUCOM (only SNaN raise IE); otherwise any NaN raises IE.
Cmp compare(F80 a, F80 b, bool quiet, u16& exc);

// Memory formats. Loads are exact (SNaN -> IE and quieted, denormals -> DE).
Res from_f32(u32 bits);
Res from_f64(u64 bits);
F80 from_int(i64 v);
struct Store32 {
    u32 bits{0};
    u16 exc{0};
    bool up{false};
};
struct Store64 {
    u64 bits{0};
    u16 exc{0};
    bool up{false};
};
Store32 to_f32(F80 a, Env env);
Store64 to_f64(F80 a, Env env);
// To a signed integer of `bits` (16, 32, 64) with env.rc; NaN, infinity or
// out of range -> IE and the integer indefinite (the most negative value).
Store64 to_int(F80 a, unsigned bits, Env env);
// Packed BCD (FBLD / FBSTP): 10 bytes as (low 8 bytes, top 2 bytes).
F80 from_bcd(u64 lo, u16 hi);
struct StoreBcd {
    u64 lo{0};
    u16 hi{0};
    u16 exc{0};
    bool up{false};
};
StoreBcd to_bcd(F80 a, Env env);

// FXTRACT: (exponent, significand); FXAM class bits (C3 C2 C0, C1).
struct Extract {
    Res exponent;
    Res significand;
};
Extract extract(F80 a, Env env);

// Load constants with the x87's rounding-control-dependent last bit.
enum class Constant : u8 { One, L2T, L2E, Pi, LG2, LN2, Zero };
F80 constant(Constant c, u8 rc);

// Transcendentals through the host long double (see the file comment).
// `out_of_range`: |a| >= 2^63, the x87 sets C2 and leaves ST(0) alone.
struct Trig {
    Res a;
    Res b; // FSINCOS: the cosine; FPTAN: the 1.0 pushed
    bool out_of_range{false};
};
Trig sin(F80 a, Env env);
Trig cos(F80 a, Env env);
Trig sincos(F80 a, Env env);
Trig tan(F80 a, Env env);
Res atan2(F80 y, F80 x, Env env);    // FPATAN: arctan(y / x)
Res exp2m1(F80 a, Env env);          // F2XM1
Res ylog2x(F80 y, F80 x, Env env);   // FYL2X
Res ylog2xp1(F80 y, F80 x, Env env); // FYL2XP1

// Host conversions (tests and the transcendentals).
long double to_host(F80 a);
F80 from_host(long double v);

} // namespace x87

// The register file, control/status/tag words and pointers.
class Fpu {
public:
    Fpu() { reset(); }

    // RESET: P6 values (SDM vol. 3, table 9-1): FCW 0040h, FSW 0, all
    // registers +0.0 and tagged valid (zero), pointers 0.
    void reset();
    // FNINIT: FCW 037Fh, FSW 0, all registers empty, pointers 0.
    void init();

    u16 control() const { return m_cw; }
    void set_control(u16 cw);
    // The status word with TOP merged in; B mirrors ES (387 and later).
    u16 status() const;
    void set_status(u16 sw);
    // The full tag word (valid/zero/special/empty) computed from the
    // registers, as FSTENV and FSAVE store it.
    u16 tag_word() const;
    // FLDENV/FRSTOR: only "empty" (11) versus not is kept; the processor
    // recomputes the rest from the contents.
    void set_tag_word(u16 tags);

    unsigned top() const { return m_top; }
    void set_top(unsigned t) { m_top = t & 7; }
    unsigned phys(unsigned i) const { return (m_top + i) & 7; }
    F80 st(unsigned i) const { return m_regs[phys(i)]; }
    bool empty(unsigned i) const { return (m_empty >> phys(i)) & 1; }
    void set_st(unsigned i, F80 v) {
        m_regs[phys(i)] = v;
        m_empty &= static_cast<u8>(~(1u << phys(i)));
    }
    void free(unsigned i) { m_empty |= static_cast<u8>(1u << phys(i)); }
    // Physical register access (FSAVE/FRSTOR keep stack order, FXAM and
    // tests look at slots).
    F80 reg(unsigned p) const { return m_regs[p & 7]; }
    void set_reg(unsigned p, F80 v) { m_regs[p & 7] = v; }
    bool reg_empty(unsigned p) const { return (m_empty >> (p & 7)) & 1; }

    // Stack movement without checks (the callers handle overflow).
    void push(F80 v) {
        m_top = (m_top - 1) & 7;
        set_st(0, v);
    }
    void pop() {
        free(0);
        m_top = (m_top + 1) & 7;
    }

    x87::Env env(bool reg_dest = true) const;
    u16 masks() const { return m_cw & x87::SW_EXC; }
    u8 rounding() const { return (m_cw >> 10) & 3; }

    // Sets exception flags; ES/B when one is unmasked. Returns true when
    // an unmasked exception was raised.
    bool raise(u16 exc);
    void set_cc(u16 cc) { m_sw = static_cast<u16>((m_sw & ~x87::SW_CC) | (cc & x87::SW_CC)); }
    void set_c1(bool on) { m_sw = static_cast<u16>(on ? (m_sw | x87::SW_C1) : (m_sw & ~x87::SW_C1)); }
    bool error_pending() const { return (m_sw & x87::SW_ES) != 0; }

    // Stack faults (SDM vol. 1, 8.5.1.1): IE + SF, C1 = 1 on overflow, 0
    // on underflow. Return true when the exception is masked (the caller
    // then delivers the masked response).
    bool stack_overflow();
    bool stack_underflow();

    // Last non-control instruction (FSTENV/FSAVE image).
    u32 fip{0};
    u16 fcs{0};
    u16 fop{0};
    u32 fdp{0};
    u16 fds{0};

    // FERR#/IGNNE# for CR0.NE = 0 (MS-DOS compatible error reporting, SDM
    // vol. 1, appendix D): the machine wires `line` to IRQ13 of the master
    // 8259; a write to port F0h calls port_f0_write(), which lowers the
    // request and asserts IGNNE# until the status word's ES clears.
    void set_ferr_line(IrqLine* line) { m_ferr_line = line; }
    bool ferr_wired() const { return m_ferr_line != nullptr; }
    void assert_ferr();
    void port_f0_write();
    bool ignne() const { return m_ignne; }
    bool ferr() const { return m_ferr; }

    void visit_state(StateVisitor& v);

private:
    void error_cleared();

    F80 m_regs[8]{};
    u16 m_cw{0x037F};
    u16 m_sw{0}; // without TOP
    u8 m_top{0};
    u8 m_empty{0xFF}; // bit per physical register
    bool m_ferr{false};
    bool m_ignne{false};
    IrqLine* m_ferr_line{nullptr};
};

} // namespace vsa
