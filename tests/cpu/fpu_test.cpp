// SPDX-License-Identifier: GPL-2.0-or-later
// x87 instruction sequences on the interpreter, checked bit-exactly:
// arithmetic in every rounding mode and precision control, integer and
// BCD loads and stores (with the integer indefinite on overflow),
// FCOM/FCOMI/FUCOMI, FXAM classes, stack overflow and underflow, masked
// and unmasked exceptions (#MF with CR0.NE = 1, FERR#/IGNNE# with
// CR0.NE = 0, bias-adjusted overflow), FSAVE/FRSTOR/FSTENV/FLDENV in the
// 16- and 32-bit and real-mode layouts (and a FSAVE that faults before
// writing anything), FPREM/FPREM1 quotient bits and partial remainders,
// transcendental range behaviour, the constants per rounding control,
// #NM with CR0.EM/TS/MP, and save -> load -> save of the FPU state.
//
// Programs were assembled with nasm -f bin (bits 32 unless noted); the
// source is next to the bytes. Expected values that are not plain
// literals come from the host's x87 (long double) or its double/float
// arithmetic under the same rounding mode.
#include "hypervisor/io/irq.h"
#include "hypervisor/io/state_visitor.h"
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ostream>

namespace vsa {

// Boost.Test prints mismatching values.
std::ostream& operator<<(std::ostream& os, F80 const& v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04x:%016llx", unsigned(v.se), static_cast<unsigned long long>(v.sig));
    return os << buf;
}

} // namespace vsa

namespace vsa::test {

namespace {

using namespace x87;

constexpr u64 INT_BIT = 1ull << 63;

struct Fx {
    Fx() : m(4 * MiB) {
        m.enter_flat32();
        fpu().init();
    }
    int run(std::string const& hex) { return m.run_code(from_hex(hex)); }
    Interpreter& cpu() { return *m.cpu; }
    Fpu& fpu() { return m.cpu->fpu(); }
    u16 ax() { return static_cast<u16>(m.cpu->eax()); }

    void poke64(u32 a, u64 v) {
        m.poke32(a, static_cast<u32>(v));
        m.poke32(a + 4, static_cast<u32>(v >> 32));
    }
    u64 peek64(u32 a) { return m.peek32(a) | (u64(m.peek32(a + 4)) << 32); }
    void poke_double(u32 a, double d) {
        u64 v = 0;
        std::memcpy(&v, &d, 8);
        poke64(a, v);
    }
    double peek_double(u32 a) {
        u64 v = peek64(a);
        double d = 0;
        std::memcpy(&d, &v, 8);
        return d;
    }
    void poke80(u32 a, F80 v) {
        poke64(a, v.sig);
        std::memcpy(m.memory->ram() + a + 8, &v.se, 2);
    }
    F80 peek80(u32 a) {
        F80 v{peek64(a), 0};
        std::memcpy(&v.se, m.memory->ram() + a + 8, 2);
        return v;
    }
    u16 peek16(u32 a) { return static_cast<u16>(m.peek32(a)); }
    void poke16(u32 a, u16 v) { std::memcpy(m.memory->ram() + a, &v, 2); }

    TestMachine m;
};

u64 bits_of(double d) {
    u64 v = 0;
    std::memcpy(&v, &d, 8);
    return v;
}

constexpr int HOST_MODES[4] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};

F80 f80(long double v) {
    return from_host(v);
}

} // namespace

BOOST_AUTO_TEST_SUITE(fpu)

BOOST_AUTO_TEST_CASE(load_add_store) {
    Fx t;
    t.poke_double(0x3000, 1.5);
    t.poke_double(0x3008, 2.25);
    // fld qword [0x3000]; fadd qword [0x3008]; fstp qword [0x3010]; fwait
    BOOST_TEST(t.run("dd0500300000dc0508300000dd1d103000009b") == -1);
    BOOST_TEST(t.peek_double(0x3010) == 3.75);
    BOOST_TEST(t.fpu().status() == 0u);
    BOOST_TEST(t.fpu().tag_word() == 0xFFFFu);
    // The last instruction: FSTP m64 at 0x100C, opcode 5 1D, data 0x3010.
    BOOST_TEST(t.fpu().fip == 0x100Cu);
    BOOST_TEST(t.fpu().fop == 0x51Du);
    BOOST_TEST(t.fpu().fdp == 0x3010u);
    BOOST_TEST(t.fpu().fcs == 0x08u);
    BOOST_TEST(t.fpu().fds == 0x10u);
}

BOOST_AUTO_TEST_CASE(division_in_every_rounding_mode_and_precision) {
    static constexpr unsigned PC_BITS[4] = {24, 0, 53, 64};
    for (double divisor : {3.0, 7.0, -10.0}) {
        for (unsigned pc : {0u, 2u, 3u}) {
            for (unsigned rc = 0; rc < 4; ++rc) {
                Fx t;
                t.poke_double(0x3000, divisor);
                t.poke16(0x3100, static_cast<u16>(0x007F | (pc << 8) | (rc << 10)));
                // fldcw [0x3100]; fld1; fdiv qword [0x3000]; fnstsw ax; fstp tword [0x3010]
                BOOST_TEST(t.run("d92d00310000d9e8dc3500300000dfe0db3d10300000") == -1);
                std::fesetround(HOST_MODES[rc]);
                volatile long double one = 1.0L;
                volatile long double d = divisor;
                long double want = 0;
                long double toward_zero = 0;
                if (PC_BITS[pc] == 64) {
                    want = one / d;
                } else if (PC_BITS[pc] == 53) {
                    volatile double q = 1.0 / double(d);
                    want = q;
                } else {
                    volatile float q = 1.0f / float(d);
                    want = q;
                }
                std::fesetround(FE_TOWARDZERO);
                if (PC_BITS[pc] == 64) {
                    toward_zero = one / d;
                } else if (PC_BITS[pc] == 53) {
                    volatile double q = 1.0 / double(d);
                    toward_zero = q;
                } else {
                    volatile float q = 1.0f / float(d);
                    toward_zero = q;
                }
                std::fesetround(FE_TONEAREST);
                BOOST_TEST_CONTEXT("divisor " << divisor << " pc " << pc << " rc " << rc) {
                    BOOST_TEST(t.peek80(0x3010) == f80(want));
                    bool up = !(f80(want) == f80(toward_zero));
                    BOOST_TEST(t.ax() == (SW_PE | (up ? SW_C1 : 0) | (7u << 11)));
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(integer_loads_and_stores) {
    Fx t;
    t.poke16(0x3000, static_cast<u16>(-1234));
    t.m.poke32(0x3004, 100000);
    t.poke64(0x3008, static_cast<u64>(-(i64(1) << 40) + 5));
    // fild word [0x3000]; fild dword [0x3004]; fild qword [0x3008];
    // fistp qword [0x3020]; fistp dword [0x3030]; fistp word [0x3034]
    BOOST_TEST(t.run("df0500300000db0504300000df2d08300000df3d20300000db1d30300000df1d34300000") == -1);
    BOOST_TEST(t.peek64(0x3020) == static_cast<u64>(-(i64(1) << 40) + 5));
    BOOST_TEST(t.m.peek32(0x3030) == 100000u);
    BOOST_TEST(t.peek16(0x3034) == static_cast<u16>(-1234));
    BOOST_TEST(t.fpu().status() == 0u);

    // FIST rounds with RC: 2.5 / -2.5 / 3.5 in the four modes.
    struct Case {
        long double v;
        i32 want[4];
    };
    for (Case c : {Case{2.5L, {2, 2, 3, 2}}, Case{-2.5L, {-2, -3, -2, -2}}, Case{3.5L, {4, 3, 4, 3}}}) {
        for (unsigned rc = 0; rc < 4; ++rc) {
            Fx u;
            u.poke80(0x3000, f80(c.v));
            u.poke16(0x3100, static_cast<u16>(0x037F | (rc << 10)));
            // fldcw [0x3100]; fld tword [0x3000]; fist dword [0x3020]; fistp word [0x3024]; fnstsw ax
            BOOST_TEST(u.run("d92d00310000db2d00300000db1520300000df1d24300000dfe0") == -1);
            BOOST_TEST(static_cast<i32>(u.m.peek32(0x3020)) == c.want[rc]);
            BOOST_TEST(static_cast<i16>(u.peek16(0x3024)) == c.want[rc]);
            bool up = std::fabs(double(c.want[rc])) > std::fabs(double(c.v));
            BOOST_TEST(u.ax() == (SW_PE | (up ? SW_C1 : 0)));
        }
    }

    // Out of range for a word: IE and the integer indefinite 8000h (masked).
    Fx o;
    o.poke80(0x3000, f80(40000.0L));
    o.poke16(0x3100, 0x037F);
    BOOST_TEST(o.run("d92d00310000db2d00300000db1520300000df1d24300000dfe0") == -1);
    BOOST_TEST(o.m.peek32(0x3020) == 40000u);
    BOOST_TEST(o.peek16(0x3024) == 0x8000u);
    BOOST_TEST(o.ax() == SW_IE);
    // Unmasked IE: memory and the stack stay as they were, ES is set.
    Fx n;
    n.poke80(0x3000, f80(40000.0L));
    n.poke16(0x3100, 0x037E);
    n.poke16(0x3024, 0x5A5A);
    BOOST_TEST(n.run("d92d00310000db2d00300000db1520300000df1d24300000dfe0") == -1);
    BOOST_TEST(n.peek16(0x3024) == 0x5A5Au);
    BOOST_TEST(n.ax() == (SW_B | SW_ES | SW_IE | (7u << 11)));
}

BOOST_AUTO_TEST_CASE(packed_bcd) {
    Fx t;
    // -123456789012345678
    t.poke64(0x3000, 0x3456'7890'1234'5678ull);
    t.poke16(0x3008, 0x8012);
    // fbld [0x3000]; fbstp [0x3020]; fnstsw ax
    BOOST_TEST(t.run("df2500300000df3520300000dfe0") == -1);
    BOOST_TEST(t.peek64(0x3020) == 0x3456'7890'1234'5678ull);
    BOOST_TEST(t.peek16(0x3028) == 0x8012u);
    BOOST_TEST(t.ax() == 0u);

    // 10^18 does not fit: IE and the BCD indefinite.
    Fx o;
    o.fpu().push(from_int(1'000'000'000'000'000'000ll));
    BOOST_TEST(o.run("df3520300000dfe0") == -1); // fbstp [0x3020]; fnstsw ax
    BOOST_TEST(o.peek64(0x3020) == 0xC000'0000'0000'0000ull);
    BOOST_TEST(o.peek16(0x3028) == 0xFFFFu);
    BOOST_TEST(o.ax() == SW_IE);

    // Rounding: 2.5 -> 2 (nearest even), C1 clear, PE.
    Fx r;
    r.fpu().push(f80(2.5L));
    BOOST_TEST(r.run("df3520300000dfe0") == -1);
    BOOST_TEST(r.peek64(0x3020) == 2u);
    BOOST_TEST(r.ax() == SW_PE);
}

BOOST_AUTO_TEST_CASE(comparisons_and_fcomi) {
    Fx t;
    t.poke_double(0x3000, 1.0);
    t.poke_double(0x3008, 2.0);
    // fld qword [0x3008]; fld qword [0x3000]; fcom st1; fnstsw ax; mov bx, ax;
    // fcomp qword [0x3008]; fnstsw ax
    std::string const FCOM = "dd0508300000dd0500300000d8d1dfe06689c3dc1d08300000dfe0";
    BOOST_TEST(t.run(FCOM) == -1);
    BOOST_TEST((t.cpu().ebx() & 0xFFFF) == (SW_C0 | (6u << 11)));
    BOOST_TEST(t.ax() == (SW_C0 | (7u << 11)));

    Fx e;
    e.poke_double(0x3000, 2.0);
    e.poke_double(0x3008, 2.0);
    BOOST_TEST(e.run(FCOM) == -1);
    BOOST_TEST(e.ax() == (SW_C3 | (7u << 11)));

    Fx g;
    g.poke_double(0x3000, 3.0);
    g.poke_double(0x3008, -2.0);
    BOOST_TEST(g.run(FCOM) == -1);
    BOOST_TEST(g.ax() == (7u << 11));

    // A QNaN: unordered, and FCOM (unlike FUCOM) raises IE.
    Fx q;
    q.poke64(0x3000, 0x7FF8'0000'0000'0001ull);
    q.poke_double(0x3008, 2.0);
    BOOST_TEST(q.run(FCOM) == -1);
    BOOST_TEST(q.ax() == (SW_C3 | SW_C2 | SW_C0 | SW_IE | (7u << 11)));

    // fld qword [0x3008]; fld qword [0x3000]; fcomi st0, st1; pushfd; pop ebx;
    // fucomip st0, st1; pushfd; pop ecx; fnstsw ax
    std::string const FCOMI = "dd0508300000dd0500300000dbf19c5bdfe99c59dfe0";
    u32 const ZPC = FLAG_ZF | FLAG_PF | FLAG_CF;
    Fx c;
    c.poke_double(0x3000, 1.0);
    c.poke_double(0x3008, 2.0);
    c.cpu().set_eflags(FLAG_OF | FLAG_SF | FLAG_AF);
    BOOST_TEST(c.run(FCOMI) == -1);
    BOOST_TEST((c.cpu().ebx() & (ZPC | FLAG_OF | FLAG_SF | FLAG_AF)) == FLAG_CF);
    BOOST_TEST((c.cpu().ecx() & ZPC) == FLAG_CF);
    BOOST_TEST(c.ax() == (7u << 11)); // FUCOMIP popped once

    Fx ce;
    ce.poke_double(0x3000, -0.0);
    ce.poke_double(0x3008, 0.0);
    BOOST_TEST(ce.run(FCOMI) == -1);
    BOOST_TEST((ce.cpu().ebx() & ZPC) == FLAG_ZF);

    // FUCOMIP with a QNaN: unordered (ZF PF CF), no IE.
    Fx uq;
    uq.poke64(0x3000, 0x7FF8'0000'0000'0001ull);
    uq.poke_double(0x3008, 2.0);
    BOOST_TEST(uq.run("dd0508300000dd0500300000dfe99c59dfe0") == -1);
    BOOST_TEST((uq.cpu().ecx() & ZPC) == ZPC);
    BOOST_TEST(uq.ax() == (7u << 11));
    // FCOMI with it raises IE.
    Fx cq;
    cq.poke64(0x3000, 0x7FF8'0000'0000'0001ull);
    cq.poke_double(0x3008, 2.0);
    BOOST_TEST(cq.run(FCOMI) == -1);
    BOOST_TEST((cq.cpu().ebx() & ZPC) == ZPC);
    BOOST_TEST((cq.ax() & SW_IE) != 0);
}

BOOST_AUTO_TEST_CASE(fxam_classes) {
    struct Case {
        F80 v;
        u16 cc;
    };
    Case const cases[] = {
        {ONE, SW_C2},
        {F80{INT_BIT, 0xBFFF}, SW_C2 | SW_C1},
        {F80{0, 0}, SW_C3},
        {F80{0, 0x8000}, SW_C3 | SW_C1},
        {F80{1, 0}, SW_C3 | SW_C2},
        {F80{INT_BIT, 0x7FFF}, SW_C2 | SW_C0},
        {F80{INT_BIT, 0xFFFF}, SW_C2 | SW_C1 | SW_C0},
        {F80{0xC000'0000'0000'0000ull, 0x7FFF}, SW_C0},
        {F80{0x8000'0000'0000'0001ull, 0x7FFF}, SW_C0},
        {F80{0x4000'0000'0000'0000ull, 0x4000}, 0}, // unnormal: unsupported
    };
    for (Case const& c : cases) {
        Fx t;
        t.poke80(0x3000, c.v);
        BOOST_TEST(t.run("db2d00300000d9e5dfe0") == -1); // fld tword [0x3000]; fxam; fnstsw ax
        BOOST_TEST((t.ax() & SW_CC) == c.cc);
    }
    Fx e;
    BOOST_TEST(e.run("dbe3d9e5dfe0") == -1); // fninit; fxam; fnstsw ax
    BOOST_TEST((e.ax() & (SW_C3 | SW_C2 | SW_C0)) == (SW_C3 | SW_C0));
}

BOOST_AUTO_TEST_CASE(stack_overflow_and_underflow) {
    Fx t;
    // fninit; fld1 x 9; fnstsw ax
    BOOST_TEST(t.run("dbe3d9e8d9e8d9e8d9e8d9e8d9e8d9e8d9e8d9e8dfe0") == -1);
    BOOST_TEST(t.ax() == (SW_IE | SW_SF | SW_C1 | (7u << 11)));
    BOOST_TEST(t.fpu().st(0) == INDEFINITE);
    BOOST_TEST(t.fpu().st(1) == ONE);

    Fx u;
    BOOST_TEST(u.run("dbe3d8c1dfe0") == -1); // fninit; fadd st0, st1; fnstsw ax
    BOOST_TEST(u.ax() == (SW_IE | SW_SF));
    BOOST_TEST(u.fpu().st(0) == INDEFINITE);

    // Unmasked: the push does not happen and ES is set.
    Fx n;
    n.fpu().set_control(0x037E);
    for (int i = 0; i < 8; ++i)
        n.fpu().push(ONE);
    BOOST_TEST(n.run("d9eedfe0") == -1); // fldz; fnstsw ax
    BOOST_TEST(n.ax() == (SW_B | SW_ES | SW_IE | SW_SF | SW_C1));
    BOOST_TEST(n.fpu().st(0) == ONE);
}

BOOST_AUTO_TEST_CASE(masked_and_unmasked_exceptions) {
    Fx t;
    BOOST_TEST(t.run("dbe3d9e8d9eedef9dfe0") == -1); // fninit; fld1; fldz; fdivp st1, st0; fnstsw ax
    BOOST_TEST(t.ax() == (SW_ZE | (7u << 11)));
    BOOST_TEST(t.fpu().st(0) == (F80{INT_BIT, 0x7FFF}));

    // fninit; fldcw [0x3100] (ZE unmasked); fld1; fldz; fdivp st1, st0;
    // fnstsw ax; mov ebx, eax; fwait
    std::string const PROGRAM = "dbe3d92d00310000d9e8d9eedef9dfe089c39b";
    Fx n;
    n.poke16(0x3100, 0x037B);
    BOOST_TEST(n.run(PROGRAM) == -1); // CR0.NE = 0, FERR# not wired: FWAIT goes on
    BOOST_TEST((n.cpu().ebx() & 0xFFFF) == (SW_B | SW_ES | SW_ZE | (6u << 11)));
    BOOST_TEST(n.fpu().st(0) == ZERO); // nothing stored, nothing popped
    BOOST_TEST(n.fpu().st(1) == ONE);

    // CR0.NE = 1: #MF at the FWAIT, with the FDIVP in the pointers.
    Fx m;
    m.poke16(0x3100, 0x037B);
    m.cpu().set_cr0(m.cpu().cr0() | (1u << 5));
    BOOST_TEST(m.run(PROGRAM) == VEC_MF);
    BOOST_TEST(m.m.peek32(m.cpu().esp()) == 0x1012u); // the FWAIT
    BOOST_TEST(m.fpu().fip == 0x100Cu);
    BOOST_TEST(m.fpu().fop == 0x6F9u);
    // A non-waiting instruction does not report it: FNSTSW, FNCLEX, FNINIT.
    BOOST_TEST(m.run("dfe0dbe2dfe0dbe3") == -1); // fnstsw ax; fnclex; fnstsw ax; fninit

    // Unmasked overflow into a register: the exponent is bias-adjusted.
    Fx o;
    o.fpu().set_control(0x0377);
    o.fpu().push(F80{INT_BIT, 0x7FFE});
    BOOST_TEST(o.run("dcc8dfe0") == -1); // fmul st0, st0; fnstsw ax
    BOOST_TEST(o.fpu().st(0) == (F80{INT_BIT, 0x7FFE * 2 - 16383 - 24576}));
    BOOST_TEST(o.ax() == (SW_B | SW_ES | SW_OE | (7u << 11)));

    // Masked overflow in FST m32: +infinity, OE PE, C1 (rounded up).
    Fx s;
    s.poke80(0x3000, F80{INT_BIT, 0x7FFE});
    BOOST_TEST(s.run("db2d00300000d91510300000dfe0") == -1); // fld tword; fst dword [0x3010]; fnstsw ax
    BOOST_TEST(s.m.peek32(0x3010) == 0x7F80'0000u);
    BOOST_TEST(s.ax() == (SW_OE | SW_PE | SW_C1 | (7u << 11)));
    // Unmasked: memory unchanged.
    Fx su;
    su.fpu().set_control(0x0377);
    su.poke80(0x3000, F80{INT_BIT, 0x7FFE});
    su.m.poke32(0x3010, 0x1234);
    BOOST_TEST(su.run("db2d00300000d91510300000dfe0") == -1);
    BOOST_TEST(su.m.peek32(0x3010) == 0x1234u);
    BOOST_TEST((su.ax() & (SW_ES | SW_OE)) == (SW_ES | SW_OE));

    // Masked underflow to a single: 0 with UE PE; an SNaN load: IE, quieted.
    Fx d;
    d.poke80(0x3000, F80{INT_BIT, 1});
    BOOST_TEST(d.run("db2d00300000d91510300000dfe0") == -1);
    BOOST_TEST(d.m.peek32(0x3010) == 0u);
    BOOST_TEST(d.ax() == (SW_UE | SW_PE | (7u << 11)));
    Fx sn;
    sn.poke64(0x3000, 0x7FF0'0000'0000'0001ull);
    // fld qword [0x3000]; fst dword [0x3010]; fstp qword [0x3018]; fnstsw ax
    BOOST_TEST(sn.run("dd0500300000d91510300000dd1d18300000dfe0") == -1);
    BOOST_TEST(sn.peek64(0x3018) == 0x7FF8'0000'0000'0001ull);
    BOOST_TEST(sn.ax() == SW_IE);
}

BOOST_AUTO_TEST_CASE(ferr_and_ignne_with_cr0_ne_clear) {
    Fx t;
    bool level = false;
    unsigned edges = 0;
    CallbackIrqLine line([&](bool high) {
        level = high;
        if (high) ++edges;
    });
    t.fpu().set_ferr_line(&line);
    t.poke16(0x3100, 0x037B);
    // ...fdivp raises an unmasked ZE; the FWAIT (at 0x1012) freezes.
    BOOST_TEST(t.run("dbe3d92d00310000d9e8d9eedef9dfe089c39b") == -1);
    BOOST_TEST(t.cpu().eip() == 0x1012u);
    BOOST_TEST(t.cpu().halted());
    BOOST_TEST(level);
    BOOST_TEST(edges == 1u);
    // The IRQ13 handler's OUT F0h: IRQ13 drops, IGNNE# lets FWAIT go on.
    t.fpu().port_f0_write();
    BOOST_TEST(!level);
    t.cpu().set_halted(false);
    CpuExit exit = t.m.run_until_halt(1000);
    BOOST_TEST((exit.reason == ExitReason::Halted));
    BOOST_TEST(t.cpu().eip() == 0x1014u); // past the HLT after the FWAIT
    // FNCLEX ends the episode: IGNNE# goes away with ES.
    BOOST_TEST(t.fpu().ignne());
    BOOST_TEST(t.run("dbe2") == -1);
    BOOST_TEST(!t.fpu().ignne());
}

BOOST_AUTO_TEST_CASE(fsave_frstor_fstenv_round_trips) {
    for (bool op32 : {true, false}) {
        Fx t;
        Fpu& f = t.fpu();
        f.push(f80(3.25L));
        f.push(F80{1, 0});                             // denormal: tag "special"
        f.push(F80{0, 0x8000});                        // -0: tag "zero"
        f.push(F80{0xC000'0000'0000'0000ull, 0x7FFF}); // NaN
        f.set_control(0x0A7F);
        f.raise(SW_PE);
        f.fip = 0x1234'5678;
        f.fcs = 0x08;
        f.fop = 0x5E8;
        f.fdp = 0x9ABC'DEF0;
        f.fds = 0x10;
        u16 cw = f.control(), sw = f.status(), tw = f.tag_word();
        F80 regs[8];
        for (unsigned i = 0; i < 8; ++i)
            regs[i] = f.reg(i);
        // Slots 7..4: valid, special (denormal), zero, special (NaN); 3..0 empty.
        BOOST_TEST(tw == 0x26FFu);
        // fsave [0x3200] (with nasm's FWAIT); then the state is FNINIT's.
        BOOST_TEST(t.run(op32 ? "9bdd3500320000" : "9b66dd3500320000") == -1);
        BOOST_TEST(f.control() == 0x037Fu);
        BOOST_TEST(f.tag_word() == 0xFFFFu);
        u32 const base = 0x3200;
        if (op32) {
            BOOST_TEST(t.m.peek32(base) == (0xFFFF'0000u | cw));
            BOOST_TEST(t.m.peek32(base + 4) == (0xFFFF'0000u | sw));
            BOOST_TEST(t.m.peek32(base + 8) == (0xFFFF'0000u | tw));
            BOOST_TEST(t.m.peek32(base + 12) == 0x1234'5678u);
            BOOST_TEST(t.m.peek32(base + 16) == (0x08u | (0x5E8u << 16)));
            BOOST_TEST(t.m.peek32(base + 20) == 0x9ABC'DEF0u);
            BOOST_TEST(t.m.peek32(base + 24) == 0xFFFF'0010u);
        } else {
            BOOST_TEST(t.peek16(base) == cw);
            BOOST_TEST(t.peek16(base + 2) == sw);
            BOOST_TEST(t.peek16(base + 4) == tw);
            BOOST_TEST(t.peek16(base + 6) == 0x5678u);
            BOOST_TEST(t.peek16(base + 8) == 0x08u);
            BOOST_TEST(t.peek16(base + 10) == 0xDEF0u);
            BOOST_TEST(t.peek16(base + 12) == 0x10u);
        }
        u32 st0 = base + (op32 ? 28 : 14);
        BOOST_TEST(t.peek80(st0) == (F80{0xC000'0000'0000'0000ull, 0x7FFF}));
        BOOST_TEST(t.peek80(st0 + 30) == f80(3.25L));
        // frstor [0x3200]
        BOOST_TEST(t.run(op32 ? "dd2500320000" : "66dd2500320000") == -1);
        BOOST_TEST(f.control() == cw);
        BOOST_TEST(f.status() == sw);
        BOOST_TEST(f.tag_word() == tw);
        for (unsigned i = 0; i < 8; ++i)
            BOOST_TEST(f.reg(i) == regs[i]);
        BOOST_TEST(f.fdp == (op32 ? 0x9ABC'DEF0u : 0xDEF0u));
    }

    // FNSTENV masks all exceptions; FLDENV brings the old control word back.
    Fx e;
    e.fpu().set_control(0x0360);
    e.fpu().push(ONE);
    // fnstenv [0x3200]; fldenv [0x3200]; fnstcw [0x3300]
    BOOST_TEST(e.run("d93500320000d92500320000d93d00330000") == -1);
    BOOST_TEST(e.peek16(0x3200) == 0x0360u);
    BOOST_TEST(e.peek16(0x3300) == 0x0360u);
    BOOST_TEST(e.fpu().tag_word() == 0x3FFFu); // ST(0) in slot 7 holds 1.0: valid
}

BOOST_AUTO_TEST_CASE(real_mode_environment_layout) {
    for (bool op32 : {false, true}) {
        Fx t;
        t.cpu().reset();
        t.cpu().set_segment_real(SEG_CS, 0x0100);
        t.cpu().set_segment_real(SEG_SS, 0);
        t.cpu().set_esp(0x8000);
        t.cpu().set_segment_real(SEG_DS, 0);
        // bits 16: fninit; fld1; [o32] fnstenv [0x3200]; [o32] fldenv [0x3200]; hlt
        t.m.load(0x1000 + 0x10,
                 from_hex(op32 ? "dbe3d9e866d936003266d9260032f4" : "dbe3d9e8d9360032d9260032f4"));
        t.cpu().set_eip(0x0010);
        BOOST_TEST((t.m.run_until_halt(1000).reason == ExitReason::Halted));
        u32 lip = 0x1000 + 0x10 + 2; // the FLD1, linear
        if (op32) {
            BOOST_TEST(t.m.peek32(0x3200 + 12) == (0xFFFF'0000u | (lip & 0xFFFF)));
            BOOST_TEST(t.m.peek32(0x3200 + 16) == (((lip >> 16) << 12) | 0x1E8u));
        } else {
            BOOST_TEST(t.peek16(0x3200 + 6) == (lip & 0xFFFF));
            BOOST_TEST(t.peek16(0x3200 + 8) == ((((lip >> 16) & 0xF) << 12) | 0x1E8u));
        }
        // FLDENV reads the linear pointer back (the real-mode image has no selector).
        BOOST_TEST(t.fpu().fip == lip);
        BOOST_TEST(t.fpu().fcs == 0u);
        BOOST_TEST(t.fpu().fop == 0x1E8u);
    }
}

BOOST_AUTO_TEST_CASE(fsave_faults_before_writing) {
    Fx t;
    SegmentCache ds = t.cpu().segment(SEG_DS);
    ds.limit = 0x3250; // the 108-byte image at 0x3200 runs past it
    ds.flags = DESC_DB;
    t.cpu().set_segment_cache(SEG_DS, ds);
    t.fpu().push(ONE);
    t.m.poke32(0x3200, 0xA5A5'A5A5);
    BOOST_TEST(t.run("9bdd3500320000") == VEC_GP);
    BOOST_TEST(t.m.peek32(0x3200) == 0xA5A5'A5A5u);
    BOOST_TEST(t.fpu().st(0) == ONE); // not reinitialized
    BOOST_TEST(t.fpu().control() == 0x037Fu);
}

BOOST_AUTO_TEST_CASE(fprem_quotient_bits) {
    struct Case {
        double a, b;
        bool ieee;
        double rem;
        u16 cc;
    };
    Case const cases[] = {
        {17, 5, false, 2, SW_C3 | SW_C1},           // q = 3
        {17, 5, true, 2, SW_C3 | SW_C1},            // 3.4 -> 3
        {18, 5, false, 3, SW_C3 | SW_C1},           // q = 3
        {18, 5, true, -2, SW_C0},                   // 3.6 -> 4
        {-29, 4, false, -1, SW_C0 | SW_C3 | SW_C1}, // q = 7
        {1, 5, false, 1, 0},
        {3, 2, true, -1, SW_C3}, // 1.5 -> 2 (even)
        {5, 2, true, 1, SW_C3},  // 2.5 -> 2 (even)
    };
    for (Case const& c : cases) {
        Fx t;
        t.poke_double(0x3000, c.a);
        t.poke_double(0x3008, c.b);
        // fld qword [0x3008]; fld qword [0x3000]; fprem/fprem1; fnstsw ax; fstp qword [0x3010]
        BOOST_TEST(t.run(c.ieee ? "dd0508300000dd0500300000d9f5dfe0dd1d10300000"
                                : "dd0508300000dd0500300000d9f8dfe0dd1d10300000") == -1);
        BOOST_TEST_CONTEXT(c.a << " rem " << c.b << (c.ieee ? " ieee" : "")) {
            BOOST_TEST(t.peek_double(0x3010) == c.rem);
            BOOST_TEST((t.ax() & SW_CC) == c.cc);
        }
    }
    // 2^100 mod 3 takes partial steps (C2 = 1) and ends with 1.
    Fx p;
    p.poke_double(0x3008, 3.0);
    p.poke80(0x3020, F80{INT_BIT, 16383 + 100});
    p.cpu().set_ecx(0);
    // fld qword [0x3008]; fld tword [0x3020]; again: fprem; fnstsw ax; inc ecx;
    // test ah, 4; jnz again; fstp qword [0x3010]
    BOOST_TEST(p.run("dd0508300000db2d20300000d9f8dfe041f6c40475f6dd1d10300000") == -1);
    BOOST_TEST(p.peek_double(0x3010) == 1.0);
    BOOST_TEST(p.cpu().ecx() > 1u);
}

BOOST_AUTO_TEST_CASE(transcendentals_and_their_range) {
    Fx t;
    t.poke80(0x3000, f80(0.5L));
    BOOST_TEST(t.run("db2d00300000d9fedfe0db3d10300000") == -1); // fld; fsin; fnstsw ax; fstp tword
    BOOST_TEST(t.peek80(0x3010) == f80(sinl(0.5L)));
    BOOST_TEST((t.ax() & SW_C2) == 0);

    // |x| >= 2^63: C2 = 1 and ST(0) unchanged.
    F80 const big{INT_BIT, 16383 + 63};
    Fx r;
    r.poke80(0x3000, big);
    BOOST_TEST(r.run("db2d00300000d9fedfe0db3d10300000") == -1);
    BOOST_TEST((r.ax() & SW_C2) != 0);
    BOOST_TEST(r.peek80(0x3010) == big);
    // FSINCOS out of range pushes nothing.
    Fx rs;
    rs.poke80(0x3000, big);
    BOOST_TEST(rs.run("db2d00300000d9fbdfe0") == -1);
    BOOST_TEST((rs.ax() & SW_C2) != 0);
    BOOST_TEST(rs.fpu().top() == 7u);

    // fld; fsincos; fnstsw ax; fstp tword [0x3010] (cos); fstp tword [0x3020] (sin)
    Fx sc;
    sc.poke80(0x3000, f80(0.5L));
    BOOST_TEST(sc.run("db2d00300000d9fbdfe0db3d10300000db3d20300000") == -1);
    BOOST_TEST(sc.peek80(0x3010) == f80(cosl(0.5L)));
    BOOST_TEST(sc.peek80(0x3020) == f80(sinl(0.5L)));
    // fptan pushes 1.0 over the tangent.
    Fx tn;
    tn.poke80(0x3000, f80(0.5L));
    BOOST_TEST(tn.run("db2d00300000d9f2dfe0db3d10300000db3d20300000") == -1);
    BOOST_TEST(tn.peek80(0x3010) == ONE);
    BOOST_TEST(tn.peek80(0x3020) == f80(tanl(0.5L)));

    // fld1; fld1; fpatan (pi/4); fstp tword [0x3010]; fld1; fld qword [0x3000] (8);
    // fyl2x (1 * log2 8); fstp qword [0x3020]; f2xm1 (on an empty stack)
    Fx a;
    a.poke_double(0x3000, 8.0);
    BOOST_TEST(a.run("d9e8d9e8d9f3db3d10300000d9e8dd0500300000d9f1dd1d20300000d9f0") == -1);
    BOOST_TEST(a.peek80(0x3010) == f80(atan2l(1.0L, 1.0L)));
    BOOST_TEST(a.peek_double(0x3020) == 3.0);
    BOOST_TEST((a.fpu().status() & (SW_IE | SW_SF)) == (SW_IE | SW_SF));
}

BOOST_AUTO_TEST_CASE(constants_follow_rounding_control) {
    // fldcw [0x3100]; fldpi; fldl2e; fldl2t; fldlg2; fldln2; fld1; fldz; fsave [0x3200]
    std::string const PROGRAM = "d92d00310000d9ebd9ead9e9d9ecd9edd9e8d9ee9bdd3500320000";
    struct Want {
        u16 se;
        u64 trunc;
        bool nearest_up;
    };
    // Stack order after the pushes: fldz ... fldpi.
    Want const want[7] = {
        {0, 0, false},
        {0x3FFF, INT_BIT, false},
        {0x3FFE, 0xB172'17F7'D1CF'79ABull, true},
        {0x3FFD, 0x9A20'9A84'FBCF'F798ull, true},
        {0x4000, 0xD49A'784B'CD1B'8AFEull, false},
        {0x3FFF, 0xB8AA'3B29'5C17'F0BBull, true},
        {0x4000, 0xC90F'DAA2'2168'C234ull, true},
    };
    for (unsigned rc = 0; rc < 4; ++rc) {
        Fx t;
        t.poke16(0x3100, static_cast<u16>(0x037F | (rc << 10)));
        BOOST_TEST(t.run(PROGRAM) == -1);
        for (unsigned i = 0; i < 7; ++i) {
            bool exact = i < 2;
            u64 sig = want[i].trunc +
                      ((!exact && (rc == RC_UP || (rc == RC_NEAREST && want[i].nearest_up))) ? 1 : 0);
            BOOST_TEST_CONTEXT("rc " << rc << " constant " << i) {
                BOOST_TEST(t.peek80(0x3200 + 28 + 10 * i) == (F80{sig, want[i].se}));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(more_arithmetic) {
    Fx t;
    t.poke_double(0x3000, 2.0);
    t.m.poke32(0x3008, 3);
    // fld qword [0x3000]; fsqrt; fstp qword [0x3010]; fild dword [0x3008];
    // fld qword [0x3000]; fscale; fstp qword [0x3018]; fstp st0
    BOOST_TEST(t.run("dd0500300000d9fadd1d10300000db0508300000dd0500300000d9fddd1d18300000ddd8") == -1);
    BOOST_TEST(t.peek_double(0x3010) == static_cast<double>(sqrtl(2.0L)));
    BOOST_TEST(t.peek_double(0x3018) == 16.0);
    BOOST_TEST(t.fpu().tag_word() == 0xFFFFu);

    Fx x;
    x.poke_double(0x3000, -12.0);
    // fld qword [0x3000]; fxtract; fstp qword [0x3010]; fstp qword [0x3018]; fnstsw ax
    BOOST_TEST(x.run("dd0500300000d9f4dd1d10300000dd1d18300000dfe0") == -1);
    BOOST_TEST(x.peek_double(0x3010) == -1.5);
    BOOST_TEST(x.peek_double(0x3018) == 3.0);

    struct R {
        double v;
        unsigned rc;
        double want;
    };
    for (R c : {R{2.5, 0, 2.0}, R{2.5, 2, 3.0}, R{-2.5, 1, -3.0}, R{-2.5, 3, -2.0}, R{0.4, 2, 1.0},
                R{-0.4, 0, -0.0}}) {
        Fx r;
        r.poke_double(0x3000, c.v);
        r.poke16(0x3100, static_cast<u16>(0x037F | (c.rc << 10)));
        // fldcw [0x3100]; fld qword [0x3000]; frndint; fstp qword [0x3010]
        BOOST_TEST(r.run("d92d00310000dd0500300000d9fcdd1d10300000") == -1);
        BOOST_TEST(bits_of(r.peek_double(0x3010)) == bits_of(c.want));
    }

    Fx i;
    i.poke_double(0x3000, 10.0);
    i.m.poke32(0x3008, 3);
    i.poke16(0x300C, 2);
    // fld qword [0x3000]; fiadd dword [0x3008]; fisub word [0x300c];
    // fimul dword [0x3008]; fidivr word [0x300c]; fstp qword [0x3010]
    BOOST_TEST(i.run("dd0500300000da0508300000de250c300000da0d08300000de3d0c300000dd1d10300000") == -1);
    BOOST_TEST(i.peek_double(0x3010) == static_cast<double>(2.0L / 33.0L));

    Fx c;
    // fld1; fldz; fxch st1; fchs; fstp qword [0x3010]; fchs; fabs; fstp qword [0x3018]
    BOOST_TEST(c.run("d9e8d9eed9c9d9e0dd1d10300000d9e0d9e1dd1d18300000") == -1);
    BOOST_TEST(c.peek_double(0x3010) == -1.0);
    BOOST_TEST(bits_of(c.peek_double(0x3018)) == 0u);

    Fx s;
    s.poke_double(0x3000, 0.1);
    // fld qword [0x3000]; fst dword [0x3010]; fstp qword [0x3018]; fnstsw ax
    BOOST_TEST(s.run("dd0500300000d91510300000dd1d18300000dfe0") == -1);
    BOOST_TEST(s.m.peek32(0x3010) == 0x3DCC'CCCDu);
    BOOST_TEST(s.peek_double(0x3018) == 0.1);
    BOOST_TEST(s.ax() == SW_PE); // PE from the FST m32; the exact FSTP m64 clears C1

    // FCMOVB: stc moves ST(1) into ST(0), clc does not.
    Fx m;
    m.poke_double(0x3000, 1.0);
    m.poke_double(0x3008, 2.0);
    BOOST_TEST(m.run("dd0508300000dd0500300000f9dac1dd1d10300000dd0500300000f8dac1dd1d18300000") == -1);
    BOOST_TEST(m.peek_double(0x3010) == 2.0);
    BOOST_TEST(m.peek_double(0x3018) == 1.0);
}

BOOST_AUTO_TEST_CASE(device_not_available) {
    Fx t;
    t.cpu().set_cr0(t.cpu().cr0() | CR0_EM);
    BOOST_TEST(t.run("dbe3") == VEC_NM); // fninit
    BOOST_TEST(t.run("9b") == -1);       // WAIT ignores EM
    t.cpu().set_cr0((t.cpu().cr0() & ~CR0_EM) | CR0_TS);
    BOOST_TEST(t.run("dbe3") == VEC_NM);
    BOOST_TEST(t.run("9b") == -1); // TS without MP
    t.cpu().set_cr0(t.cpu().cr0() | CR0_MP);
    BOOST_TEST(t.run("9b") == VEC_NM);
    t.cpu().set_cr0(t.cpu().cr0() & ~(CR0_TS | CR0_MP));
    BOOST_TEST(t.run("dbe3") == -1);
    // FISTTP (SSE3) and reserved forms are #UD.
    BOOST_TEST(t.run("db0d00300000") == VEC_UD);
    BOOST_TEST(t.run("d9d1") == VEC_UD);
}

BOOST_AUTO_TEST_CASE(state_save_load_save) {
    Fx t;
    Fpu& f = t.fpu();
    f.push(f80(3.25L));
    f.push(F80{0xC000'0000'0000'0000ull, 0xFFFF});
    f.set_control(0x0B7A);
    f.raise(SW_PE | SW_ZE);
    f.fip = 0x1234;
    f.fop = 0x123;
    auto saver = StateVisitor::saver();
    t.cpu().visit_state(saver);
    std::vector<u8> first = saver.bytes();

    Fx u;
    auto loader = StateVisitor::loader(first);
    u.cpu().visit_state(loader);
    BOOST_TEST(loader.ok());
    BOOST_TEST(loader.at_end());
    BOOST_TEST(u.fpu().status() == f.status());
    BOOST_TEST(u.fpu().control() == f.control());
    BOOST_TEST(u.fpu().tag_word() == f.tag_word());
    BOOST_TEST(u.fpu().st(1) == f80(3.25L));
    auto again = StateVisitor::saver();
    u.cpu().visit_state(again);
    BOOST_TEST(again.bytes() == first);

    // A stream from before the FPU (section version 1, no x87 fields)
    // loads with the FNINIT state: cut the x87 fields off the end (they
    // come last) and patch the version after tag, name length and name.
    std::string const key = std::string(1, '\x07') + "st0.sig";
    auto at = std::search(first.begin(), first.end(), key.begin(), key.end());
    BOOST_REQUIRE(at != first.end());
    std::vector<u8> old(first.begin(), at - 1);
    BOOST_REQUIRE((old[0] == 0xA5 && old[1] == 6)); // section tag, "cpu486"
    old[8] = 1;
    // The interpreter's own section follows the CPU's: keep it.
    std::vector<u8> interp{0xA5, 11}; // section tag, name length
    for (char c : std::string_view("interpreter"))
        interp.push_back(static_cast<u8>(c));
    auto tail = std::search(at, first.end(), interp.begin(), interp.end());
    BOOST_REQUIRE(tail != first.end());
    old.insert(old.end(), tail, first.end());
    Fx w;
    w.fpu().push(ONE);
    auto old_loader = StateVisitor::loader(old);
    w.cpu().visit_state(old_loader);
    BOOST_TEST(old_loader.ok());
    BOOST_TEST(old_loader.at_end());
    BOOST_TEST(w.fpu().control() == 0x037Fu);
    BOOST_TEST(w.fpu().tag_word() == 0xFFFFu);

    // A truncated stream fails cleanly.
    std::vector<u8> cut(first.begin(), first.end() - 20);
    Fx v;
    auto bad = StateVisitor::loader(cut);
    v.cpu().visit_state(bad);
    BOOST_TEST(!bad.ok());
}

// Random ESC instructions on random register contents (unsupported
// encodings, NaNs, denormals included), random control words and CR0.NE:
// only has to not crash (the build runs under ASan/UBSan) and keep TOP and
// the tags consistent.
BOOST_AUTO_TEST_CASE(random_instructions_do_not_crash) {
    Fx t;
    t.cpu().set_cr0(t.cpu().cr0() | (1u << 5));
    u64 seed = 0x8087;
    auto next = [&] {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return seed >> 17;
    };
    for (unsigned n = 0; n < 20'000; ++n) {
        if (n % 64 == 0) {
            Fpu& f = t.fpu();
            f.init();
            f.set_control(static_cast<u16>(next()));
            for (unsigned p = 0; p < 8; ++p) {
                F80 v{next() << 20 ^ next(), static_cast<u16>(next())};
                if (next() % 4 == 0) v.se = static_cast<u16>((v.se & 0x8000) | (0x3FF0 + next() % 0x20));
                f.set_reg(p, v);
            }
            f.set_tag_word(static_cast<u16>(next()));
            f.set_top(static_cast<unsigned>(next()));
            for (u32 a = 0x3000; a < 0x3100; a += 4)
                t.m.poke32(a, static_cast<u32>(next()));
        }
        u8 op = static_cast<u8>(0xD8 + next() % 8);
        u8 modrm = static_cast<u8>(next());
        std::vector<u8> code{op, modrm};
        if ((modrm >> 6) != 3) code[1] = static_cast<u8>((modrm & 0x38) | 0x06); // [esi]
        t.cpu().set_esi(0x3000 + static_cast<u32>(next() % 0x90));
        t.cpu().set_esp(0x8000); // exceptions push; keep the stack away from the IDT
        int r = t.m.run_code(code);
        BOOST_TEST_REQUIRE((r == -1 || r == VEC_MF || r == VEC_UD),
                           "vector " << r << " at " << int(op) << " " << int(code[1]));
        if (r == VEC_MF) t.fpu().set_status(t.fpu().status() & ~SW_EXC);
        BOOST_TEST_REQUIRE(t.fpu().top() < 8u);
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
