// SPDX-License-Identifier: GPL-2.0-or-later
// The x87 instructions: ESC opcodes D8-DF and WAIT (9B) (SDM vol. 2; vol. 1
// chapter 8; opcode map: vol. 2, appendix A.4). The values and arithmetic
// are in fpu.{h,cpp}; this file decodes, moves operands between memory and
// the register stack, and applies the stack-fault, masked-response and
// error-reporting rules.
//
// Device checks (SDM vol. 3, table 2-2): CR0.EM or CR0.TS -> #NM for every
// ESC opcode; WAIT -> #NM only when MP and TS are both set.
//
// Error reporting: an unmasked exception sets ES in the status word; the
// next *waiting* x87 instruction (all but FNINIT, FNCLEX, FNSTSW, FNSTCW,
// FNSTENV, FNSAVE and the 287 FNENI/FNDISI/FNSETPM no-ops) or WAIT then
//  - raises #MF (vector 16) with CR0.NE = 1, or
//  - with CR0.NE = 0 (MS-DOS compatible mode, SDM vol. 1, appendix D):
//    asserts FERR# (Fpu::set_ferr_line(), wired by the machine to IRQ13)
//    and freezes before the instruction until an interrupt (the IRQ13
//    handler writes port F0h -> Fpu::port_f0_write(), which asserts
//    IGNNE#, and usually FNCLEXes); the instruction then runs. Without a
//    wired FERR# line the instruction simply runs, as with IGNNE#.
//
// Memory operands go through Cpu::read/write, so faults are precise: every
// read happens before any state changes, and stores check the whole
// destination (check_write) before the first byte is written. 8- and
// 10-byte operands and the FSTENV/FSAVE images are moved in 16/32-bit
// pieces.
//
// Deliberately left out: FISTTP (SSE3; DB/DD/DF /1 raise #UD), FXSAVE and
// FXRSTOR (SSE), the 287XL FRSTPM (DB E5, #UD). The reserved forms D9 /1,
// DB /4, DB /6, DD /5 and register encodings without an instruction raise
// #UD; the undocumented aliases a P6 accepts (FSTP1, FCOM2, FCOMP3, FXCH4,
// FCOMP5, FFREEP, FXCH7, FSTP8, FSTP9) are implemented.
#include "hypervisor/cpu/exec_common.h"
#include "hypervisor/cpu/fpu.h"

namespace vsa {

namespace {

using namespace x87;

// CR0.NE (numeric error): #MF instead of FERR#.
constexpr u32 FPU_CR0_NE = 1u << 5;

// ---- Instruction classes ----------------------------------------------------

bool no_wait(u8 op, DecodedInsn const& insn) {
    if (insn.mod == 3) {
        if (op == 0xDB) return insn.modrm >= 0xE0 && insn.modrm <= 0xE4; // FNENI FNDISI FNCLEX FNINIT FNSETPM
        return op == 0xDF && insn.modrm == 0xE0;
    }
    return (op == 0xD9 || op == 0xDD) && insn.reg >= 6;
}

// Control instructions leave the last-instruction pointers alone.
bool control_insn(u8 op, DecodedInsn const& insn) {
    if (no_wait(op, insn)) return true;
    if (insn.mod == 3) return false;
    return (op == 0xD9 && (insn.reg == 4 || insn.reg == 5)) || (op == 0xDD && insn.reg == 4);
}

// The pending-error check of a waiting instruction. `run` = false: frozen
// (CR0.NE = 0 with FERR# asserted and IGNNE# inactive).
Exec pending_error(Cpu& cpu, bool& run) {
    run = true;
    Fpu& f = cpu.fpu();
    if (!f.error_pending()) return {};
    if (cpu.cr0() & FPU_CR0_NE) return Fault::make(VEC_MF);
    if (!f.ferr_wired() || f.ignne()) return {};
    f.assert_ferr();
    // Wait for the interrupt before this instruction, as HLT does; the
    // IRQ13 handler returns to it.
    cpu.set_eip(cpu.insn_start());
    cpu.halt();
    cpu.note_event();
    run = false;
    return {};
}

// ---- Memory ---------------------------------------------------------------------

Result<u64, Fault> read64(Cpu& cpu, u8 seg, u32 off) {
    u32 lo = TRY(cpu.read<u32>(seg, off));
    u32 hi = TRY(cpu.read<u32>(seg, off + 4));
    return (u64(hi) << 32) | lo;
}

Result<F80, Fault> read80(Cpu& cpu, u8 seg, u32 off) {
    u64 sig = TRY(read64(cpu, seg, off));
    u16 se = TRY(cpu.read<u16>(seg, off + 8));
    return F80{sig, se};
}

// Unchecked parts of a store whose destination was checked as a whole.
Exec put64(Cpu& cpu, u8 seg, u32 off, u64 v) {
    TRY(cpu.write<u32>(seg, off, static_cast<u32>(v)));
    return cpu.write<u32>(seg, off + 4, static_cast<u32>(v >> 32));
}

Exec put80(Cpu& cpu, u8 seg, u32 off, u64 lo, u16 hi) {
    TRY(put64(cpu, seg, off, lo));
    return cpu.write<u16>(seg, off + 8, hi);
}

// ---- Results into registers ---------------------------------------------------

// Stores `r` into ST(i) unless an unmasked pre-computation exception
// forbids it; sets the flags and C1. True when stored.
bool commit(Fpu& f, unsigned i, Res const& r) {
    if (blocks_store(r.exc, f.masks())) {
        f.raise(r.exc);
        return false;
    }
    f.set_st(i, r.value);
    f.set_c1(r.up);
    f.raise(r.exc);
    return true;
}

// Pushes a loaded value (FLD, FILD, FBLD, constants).
void push_value(Fpu& f, Res const& r) {
    if (!f.empty(7)) {
        if (f.stack_overflow()) f.push(INDEFINITE);
        return;
    }
    if (blocks_store(r.exc, f.masks())) {
        f.raise(r.exc);
        return;
    }
    f.push(r.value);
    f.set_c1(false);
    f.raise(r.exc);
}

u16 cc_of(Cmp c) {
    switch (c) {
    case Cmp::Greater:
        return 0;
    case Cmp::Less:
        return SW_C0;
    case Cmp::Equal:
        return SW_C3;
    default:
        return SW_C3 | SW_C2 | SW_C0;
    }
}

// FCOM family: ST(0) against `b`; `b_empty` when b is an empty register.
// `to_eflags`: FCOMI/FUCOMI set ZF PF CF (OF SF AF cleared).
void compare_values(Cpu& cpu, F80 b, bool b_empty, u16 pre, bool quiet, unsigned pops, bool to_eflags) {
    Fpu& f = cpu.fpu();
    Cmp c = Cmp::Unordered;
    if (f.empty(0) || b_empty) {
        if (!f.stack_underflow()) return;
    } else {
        u16 exc = pre;
        c = compare(f.st(0), b, quiet, exc);
        if (blocks_store(exc, f.masks())) {
            f.raise(exc);
            return;
        }
        f.raise(exc);
    }
    if (to_eflags) {
        u32 fl = c == Cmp::Less        ? FLAG_CF
                 : c == Cmp::Equal     ? FLAG_ZF
                 : c == Cmp::Unordered ? (FLAG_ZF | FLAG_PF | FLAG_CF)
                                       : 0;
        cpu.set_arith_flags(fl);
        f.set_c1(false);
    } else {
        f.set_cc(cc_of(c));
    }
    for (unsigned n = 0; n < pops; ++n)
        f.pop();
}

void compare_reg(Cpu& cpu, unsigned i, bool quiet, unsigned pops, bool to_eflags) {
    Fpu& f = cpu.fpu();
    compare_values(cpu, f.st(i), f.empty(i), 0, quiet, pops, to_eflags);
}

// dst = dst OP src for the D8 /r numbering: 0 add, 1 mul, 4 sub, 5 subr,
// 6 div, 7 divr.
Res arith(unsigned op, F80 dst, F80 src, Env env) {
    switch (op) {
    case 0:
        return x87::add(dst, src, env);
    case 1:
        return x87::mul(dst, src, env);
    case 4:
        return x87::sub(dst, src, env);
    case 5:
        return x87::sub(src, dst, env);
    case 6:
        return x87::div(dst, src, env);
    default:
        return x87::div(src, dst, env);
    }
}

// FADD..FDIVR ST(0), memory operand (already converted).
void arith_mem(Cpu& cpu, unsigned op, Res src) {
    Fpu& f = cpu.fpu();
    if (op == 2 || op == 3) {
        compare_values(cpu, src.value, false, src.exc, false, op == 3 ? 1 : 0, false);
        return;
    }
    if (f.empty(0)) {
        if (f.stack_underflow()) f.set_st(0, INDEFINITE);
        return;
    }
    if (blocks_store(src.exc, f.masks())) {
        f.raise(src.exc);
        return;
    }
    Res r = arith(op, f.st(0), src.value, f.env());
    r.exc |= src.exc;
    commit(f, 0, r);
}

// ST(dst) = ST(dst) OP ST(src), then pop if asked.
void arith_reg(Cpu& cpu, unsigned op, unsigned dst, unsigned src, bool pop) {
    Fpu& f = cpu.fpu();
    if (f.empty(dst) || f.empty(src)) {
        if (!f.stack_underflow()) return;
        f.set_st(dst, INDEFINITE);
        if (pop) f.pop();
        return;
    }
    if (commit(f, dst, arith(op, f.st(dst), f.st(src), f.env())) && pop) f.pop();
}

template <typename Fn>
void unary(Fpu& f, Fn fn) {
    if (f.empty(0)) {
        if (f.stack_underflow()) f.set_st(0, INDEFINITE);
        return;
    }
    commit(f, 0, fn(f.st(0), f.env()));
}

// ST(1) = fn(ST(1), ST(0)); pop (FPATAN, FYL2X, FYL2XP1).
template <typename Fn>
void st1_op_pop(Fpu& f, Fn fn) {
    if (f.empty(0) || f.empty(1)) {
        if (!f.stack_underflow()) return;
        f.set_st(1, INDEFINITE);
        f.pop();
        return;
    }
    if (commit(f, 1, fn(f.st(1), f.st(0), f.env()))) f.pop();
}

// FSIN, FCOS.
template <typename Fn>
void trig1(Fpu& f, Fn fn) {
    if (f.empty(0)) {
        if (f.stack_underflow()) f.set_st(0, INDEFINITE);
        return;
    }
    Trig t = fn(f.st(0), f.env());
    if (t.out_of_range) {
        f.set_cc(SW_C2);
        return;
    }
    f.set_cc(0);
    commit(f, 0, t.a);
}

// FPTAN, FSINCOS, FXTRACT: ST(0) replaced and one value pushed.
void replace_and_push(Fpu& f, Res a, Res b) {
    u16 exc = a.exc | b.exc;
    if (blocks_store(exc, f.masks())) {
        f.raise(exc);
        return;
    }
    f.set_st(0, a.value);
    f.push(b.value);
    f.set_c1(a.up || b.up);
    f.raise(exc);
}

// Stack checks shared by the replace-and-push instructions. False: done.
bool replace_and_push_ok(Fpu& f) {
    if (f.empty(0) || !f.empty(7)) {
        bool masked = f.empty(0) ? f.stack_underflow() : f.stack_overflow();
        if (masked) {
            f.set_st(0, INDEFINITE);
            f.push(INDEFINITE);
        }
        return false;
    }
    return true;
}

void two_way_trig(Fpu& f, Trig (*fn)(F80, Env)) {
    if (!replace_and_push_ok(f)) return;
    Trig t = fn(f.st(0), f.env());
    if (t.out_of_range) {
        f.set_cc(SW_C2);
        return;
    }
    f.set_cc(0);
    replace_and_push(f, t.a, t.b);
}

void fst_reg(Fpu& f, unsigned i, bool pop) {
    if (f.empty(0)) {
        if (!f.stack_underflow()) return;
        f.set_st(i, INDEFINITE);
    } else {
        f.set_st(i, f.st(0));
        f.set_c1(false);
    }
    if (pop) f.pop();
}

void fxch(Fpu& f, unsigned i) {
    if (f.empty(0) || f.empty(i)) {
        if (!f.stack_underflow()) return;
        if (f.empty(0)) f.set_st(0, INDEFINITE);
        if (f.empty(i)) f.set_st(i, INDEFINITE);
    }
    F80 t = f.st(0);
    f.set_st(0, f.st(i));
    f.set_st(i, t);
    f.set_c1(false);
}

void fprem(Fpu& f, bool ieee) {
    if (f.empty(0) || f.empty(1)) {
        if (f.stack_underflow()) f.set_st(0, INDEFINITE);
        return;
    }
    Rem r = x87::remainder(f.st(0), f.st(1), ieee, f.env());
    if (blocks_store(r.r.exc, f.masks())) {
        f.raise(r.r.exc);
        return;
    }
    f.set_st(0, r.r.value);
    u16 cc = 0;
    if (r.partial) {
        cc = SW_C2;
    } else {
        if (r.quotient & 4) cc |= SW_C0;
        if (r.quotient & 2) cc |= SW_C3;
        if (r.quotient & 1) cc |= SW_C1;
    }
    f.set_cc(cc);
    f.raise(r.r.exc);
}

void fxam(Fpu& f) {
    F80 v = f.st(0);
    u16 cc = v.sign() ? SW_C1 : 0;
    if (f.empty(0)) {
        cc |= SW_C3 | SW_C0;
    } else {
        switch (classify(v)) {
        case Class::Unsupported:
            break;
        case Class::QNaN:
        case Class::SNaN:
            cc |= SW_C0;
            break;
        case Class::Normal:
            cc |= SW_C2;
            break;
        case Class::Infinity:
            cc |= SW_C2 | SW_C0;
            break;
        case Class::Zero:
            cc |= SW_C3;
            break;
        case Class::Denormal:
            cc |= SW_C3 | SW_C2;
            break;
        }
    }
    f.set_cc(cc);
}

bool fcmov_condition(Cpu& cpu, u8 modrm) {
    switch ((modrm >> 3) & 3) {
    case 0:
        return cpu.cf();
    case 1:
        return cpu.zf();
    case 2:
        return cpu.cf() || cpu.zf();
    default:
        return cpu.pf();
    }
}

void fcmov(Cpu& cpu, unsigned i, bool cond) {
    Fpu& f = cpu.fpu();
    if (f.empty(0) || f.empty(i)) {
        if (f.stack_underflow()) f.set_st(0, INDEFINITE);
        return;
    }
    if (cond) f.set_st(0, f.st(i));
    f.set_c1(false);
}

// ---- Stores to memory ---------------------------------------------------------

// The register-stack side of a store from ST(0): `bits` and `exc` from the
// conversion; an unmasked IE/OE/UE leaves memory and the stack alone.
// Returns false when nothing must be written.
bool store_allowed(Fpu& f, u16 exc) {
    if (exc & ~f.masks() & (SW_IE | SW_OE | SW_UE)) {
        f.raise(exc);
        return false;
    }
    return true;
}

void store_done(Fpu& f, u16 exc, bool up, bool pop) {
    f.set_c1(up);
    f.raise(exc);
    if (pop) f.pop();
}

template <typename T>
Exec store_value(Cpu& cpu, u8 seg, u32 off, T bits) {
    if constexpr (sizeof(T) == 8) {
        TRY(cpu.check_write<8>(seg, off));
        return put64(cpu, seg, off, bits);
    } else {
        return cpu.write<T>(seg, off, bits);
    }
}

// FST/FSTP m32/m64, FIST/FISTP m16/m32/m64: `convert` returns {bits, exc, up}.
template <typename T, typename Convert>
Exec store_st0(Cpu& cpu, u8 seg, u32 off, bool pop, T indefinite, Convert convert) {
    Fpu& f = cpu.fpu();
    if (f.empty(0)) {
        if (f.masks() & SW_IE) TRY(store_value<T>(cpu, seg, off, indefinite));
        if (f.stack_underflow() && pop) f.pop();
        return {};
    }
    auto s = convert(f.st(0), f.env(false));
    if (!store_allowed(f, s.exc)) return {};
    TRY(store_value<T>(cpu, seg, off, static_cast<T>(s.bits)));
    store_done(f, s.exc, s.up, pop);
    return {};
}

// ---- Environment and state images ----------------------------------------------

bool real_layout(Cpu& cpu) {
    return !cpu.protected_mode() || (cpu.eflags() & FLAG_VM);
}

// FSTENV/FSAVE image (SDM vol. 1, figures 8-9 to 8-12). Reserved halves
// of the 32-bit image are stored as ones, as the P6 does.
Exec write_env(Cpu& cpu, u8 seg, u32 off, bool op32) {
    Fpu& f = cpu.fpu();
    bool real = real_layout(cpu);
    u16 cw = f.control();
    u16 sw = f.status();
    u16 tw = f.tag_word();
    u32 lip = (u32(f.fcs) << 4) + f.fip;
    u32 ldp = (u32(f.fds) << 4) + f.fdp;
    if (op32) {
        u32 w[7] = {0xFFFF'0000u | cw, 0xFFFF'0000u | sw, 0xFFFF'0000u | tw, 0, 0, 0, 0};
        if (real) {
            w[3] = 0xFFFF'0000u | (lip & 0xFFFF);
            w[4] = ((lip >> 16) << 12) | f.fop;
            w[5] = 0xFFFF'0000u | (ldp & 0xFFFF);
            w[6] = (ldp >> 16) << 12;
        } else {
            w[3] = f.fip;
            w[4] = f.fcs | (u32(f.fop) << 16);
            w[5] = f.fdp;
            w[6] = 0xFFFF'0000u | f.fds;
        }
        for (unsigned i = 0; i < 7; ++i)
            TRY(cpu.write<u32>(seg, off + 4 * i, w[i]));
        return {};
    }
    u16 w[7] = {cw, sw, tw, 0, 0, 0, 0};
    if (real) {
        w[3] = static_cast<u16>(lip);
        w[4] = static_cast<u16>((((lip >> 16) & 0xF) << 12) | f.fop);
        w[5] = static_cast<u16>(ldp);
        w[6] = static_cast<u16>(((ldp >> 16) & 0xF) << 12);
    } else {
        w[3] = static_cast<u16>(f.fip);
        w[4] = f.fcs;
        w[5] = static_cast<u16>(f.fdp);
        w[6] = f.fds;
    }
    for (unsigned i = 0; i < 7; ++i)
        TRY(cpu.write<u16>(seg, off + 2 * i, w[i]));
    return {};
}

struct EnvImage {
    u16 cw, sw, tw;
    u32 fip;
    u16 fcs, fop;
    u32 fdp;
    u16 fds;
};

Result<EnvImage, Fault> read_env(Cpu& cpu, u8 seg, u32 off, bool op32) {
    bool real = real_layout(cpu);
    u32 w[7];
    for (unsigned i = 0; i < 7; ++i) {
        if (op32)
            w[i] = TRY(cpu.read<u32>(seg, off + 4 * i));
        else
            w[i] = TRY(cpu.read<u16>(seg, off + 2 * i));
    }
    EnvImage e{};
    e.cw = static_cast<u16>(w[0]);
    e.sw = static_cast<u16>(w[1]);
    e.tw = static_cast<u16>(w[2]);
    if (real) {
        unsigned hi_bits = op32 ? 16 : 4;
        u32 hi_mask = (1u << hi_bits) - 1;
        e.fip = (w[3] & 0xFFFF) | (((w[4] >> 12) & hi_mask) << 16);
        e.fop = static_cast<u16>(w[4] & 0x7FF);
        e.fdp = (w[5] & 0xFFFF) | (((w[6] >> 12) & hi_mask) << 16);
    } else {
        e.fip = op32 ? w[3] : (w[3] & 0xFFFF);
        e.fcs = static_cast<u16>(w[4]);
        e.fop = op32 ? static_cast<u16>((w[4] >> 16) & 0x7FF) : 0; // not in the 16-bit image
        e.fdp = op32 ? w[5] : (w[5] & 0xFFFF);
        e.fds = static_cast<u16>(w[6]);
    }
    return e;
}

void apply_env(Fpu& f, EnvImage const& e) {
    f.set_control(e.cw);
    f.set_status(e.sw);
    f.set_tag_word(e.tw);
    f.fip = e.fip;
    f.fcs = e.fcs;
    f.fop = e.fop;
    f.fdp = e.fdp;
    f.fds = e.fds;
}

// Checks that an N-byte image at seg:off can be written in full, so a
// fault comes before the first byte (both ends: with paging, the ends may
// lie in different pages).
template <unsigned N>
Exec check_image(Cpu& cpu, u8 seg, u32 off) {
    TRY(cpu.check_write<N>(seg, off));
    TRY(cpu.check_write<1>(seg, off + N - 1));
    return {};
}

Exec fnstenv(Cpu& cpu, u8 seg, u32 off, bool op32) {
    if (op32)
        TRY(check_image<28>(cpu, seg, off));
    else
        TRY(check_image<14>(cpu, seg, off));
    TRY(write_env(cpu, seg, off, op32));
    // FSTENV then masks every exception (SDM vol. 2, FSTENV).
    Fpu& f = cpu.fpu();
    f.set_control(f.control() | SW_EXC);
    return {};
}

Exec fnsave(Cpu& cpu, u8 seg, u32 off, bool op32) {
    if (op32)
        TRY(check_image<108>(cpu, seg, off));
    else
        TRY(check_image<94>(cpu, seg, off));
    TRY(write_env(cpu, seg, off, op32));
    Fpu& f = cpu.fpu();
    u32 base = off + (op32 ? 28 : 14);
    for (unsigned i = 0; i < 8; ++i) {
        F80 v = f.reg(f.phys(i));
        TRY(put80(cpu, seg, base + 10 * i, v.sig, v.se));
    }
    f.init();
    return {};
}

Exec frstor(Cpu& cpu, u8 seg, u32 off, bool op32) {
    EnvImage e = TRY(read_env(cpu, seg, off, op32));
    u32 base = off + (op32 ? 28 : 14);
    F80 regs[8];
    for (unsigned i = 0; i < 8; ++i)
        regs[i] = TRY(read80(cpu, seg, base + 10 * i));
    Fpu& f = cpu.fpu();
    apply_env(f, e);
    for (unsigned i = 0; i < 8; ++i)
        f.set_reg(f.phys(i), regs[i]);
    return {};
}

// ---- Memory forms ----------------------------------------------------------------

Exec esc_mem(Cpu& cpu, DecodedInsn const& insn, u8 op) {
    Fpu& f = cpu.fpu();
    u8 seg = insn.seg;
    u32 off = cpu.ea(insn);
    unsigned reg = insn.reg;
    switch (op) {
    case 0xD8:
        arith_mem(cpu, reg, from_f32(TRY(cpu.read<u32>(seg, off))));
        return {};
    case 0xDC:
        arith_mem(cpu, reg, from_f64(TRY(read64(cpu, seg, off))));
        return {};
    case 0xDA:
        arith_mem(cpu, reg, Res{from_int(static_cast<i32>(TRY(cpu.read<u32>(seg, off)))), 0});
        return {};
    case 0xDE:
        arith_mem(cpu, reg, Res{from_int(static_cast<i16>(TRY(cpu.read<u16>(seg, off)))), 0});
        return {};
    case 0xD9:
        switch (reg) {
        case 0:
            push_value(f, from_f32(TRY(cpu.read<u32>(seg, off))));
            return {};
        case 2:
        case 3:
            return store_st0<u32>(cpu, seg, off, reg == 3, 0xFFC0'0000u, to_f32);
        case 4: {
            EnvImage e = TRY(read_env(cpu, seg, off, insn.op32));
            apply_env(f, e);
            return {};
        }
        case 5:
            f.set_control(TRY(cpu.read<u16>(seg, off)));
            return {};
        case 6:
            return fnstenv(cpu, seg, off, insn.op32);
        case 7:
            return cpu.write<u16>(seg, off, f.control());
        default:
            return Fault::invalid_opcode();
        }
    case 0xDB:
        switch (reg) {
        case 0:
            push_value(f, Res{from_int(static_cast<i32>(TRY(cpu.read<u32>(seg, off)))), 0});
            return {};
        case 2:
        case 3:
            return store_st0<u32>(cpu, seg, off, reg == 3, 0x8000'0000u,
                                  [](F80 a, Env e) { return to_int(a, 32, e); });
        case 5:
            push_value(f, Res{TRY(read80(cpu, seg, off)), 0});
            return {};
        case 7: {
            TRY(cpu.check_write<10>(seg, off));
            F80 v = f.empty(0) ? INDEFINITE : f.st(0);
            if (f.empty(0)) {
                bool masked = (f.masks() & SW_IE) != 0;
                if (masked) TRY(put80(cpu, seg, off, v.sig, v.se));
                if (f.stack_underflow()) f.pop();
                return {};
            }
            TRY(put80(cpu, seg, off, v.sig, v.se));
            f.set_c1(false);
            f.pop();
            return {};
        }
        default:
            return Fault::invalid_opcode(); // FISTTP (SSE3) and reserved
        }
    case 0xDD:
        switch (reg) {
        case 0:
            push_value(f, from_f64(TRY(read64(cpu, seg, off))));
            return {};
        case 2:
        case 3:
            return store_st0<u64>(cpu, seg, off, reg == 3, 0xFFF8'0000'0000'0000ull, to_f64);
        case 4:
            return frstor(cpu, seg, off, insn.op32);
        case 6:
            return fnsave(cpu, seg, off, insn.op32);
        case 7:
            return cpu.write<u16>(seg, off, f.status());
        default:
            return Fault::invalid_opcode();
        }
    case 0xDF:
        switch (reg) {
        case 0:
            push_value(f, Res{from_int(static_cast<i16>(TRY(cpu.read<u16>(seg, off)))), 0});
            return {};
        case 2:
        case 3:
            return store_st0<u16>(cpu, seg, off, reg == 3, u16(0x8000),
                                  [](F80 a, Env e) { return to_int(a, 16, e); });
        case 4: {
            u64 lo = TRY(read64(cpu, seg, off));
            u16 hi = TRY(cpu.read<u16>(seg, off + 8));
            push_value(f, Res{from_bcd(lo, hi), 0});
            return {};
        }
        case 5:
            push_value(f, Res{from_int(static_cast<i64>(TRY(read64(cpu, seg, off)))), 0});
            return {};
        case 6: {
            TRY(cpu.check_write<10>(seg, off));
            if (f.empty(0)) {
                if (f.masks() & SW_IE) TRY(put80(cpu, seg, off, 0xC000'0000'0000'0000ull, 0xFFFF));
                if (f.stack_underflow()) f.pop();
                return {};
            }
            StoreBcd s = to_bcd(f.st(0), f.env(false));
            if (!store_allowed(f, s.exc)) return {};
            TRY(put80(cpu, seg, off, s.lo, s.hi));
            store_done(f, s.exc, s.up, true);
            return {};
        }
        case 7:
            return store_st0<u64>(cpu, seg, off, true, 0x8000'0000'0000'0000ull,
                                  [](F80 a, Env e) { return to_int(a, 64, e); });
        default:
            return Fault::invalid_opcode();
        }
    default:
        return Fault::invalid_opcode();
    }
}

// ---- Register forms ------------------------------------------------------------

// DC/DE register forms encode SUB/SUBR and DIV/DIVR the other way round.
unsigned reversed(unsigned reg) {
    return reg >= 4 ? (reg ^ 1) : reg;
}

Exec esc_d9_reg(Cpu& cpu, DecodedInsn const& insn) {
    Fpu& f = cpu.fpu();
    unsigned i = insn.rm;
    u8 m = insn.modrm;
    switch (insn.reg) {
    case 0: // FLD ST(i)
        if (!f.empty(7)) {
            if (f.stack_overflow()) f.push(INDEFINITE);
        } else if (f.empty(i)) {
            if (f.stack_underflow()) f.push(INDEFINITE);
        } else {
            f.push(f.st(i));
            f.set_c1(false);
        }
        return {};
    case 1:
        fxch(f, i);
        return {};
    case 2:
        if (m != 0xD0) return Fault::invalid_opcode();
        return {}; // FNOP
    case 3:
        fst_reg(f, i, true); // FSTP1
        return {};
    default:
        break;
    }
    Env env = f.env();
    switch (m) {
    case 0xE0: // FCHS
    case 0xE1: // FABS
        if (f.empty(0)) {
            if (f.stack_underflow()) f.set_st(0, INDEFINITE);
        } else {
            F80 v = f.st(0);
            v.se = static_cast<u16>(m == 0xE0 ? (v.se ^ 0x8000) : (v.se & 0x7FFF));
            f.set_st(0, v);
            f.set_c1(false);
        }
        return {};
    case 0xE4: // FTST
        compare_values(cpu, ZERO, false, 0, false, 0, false);
        return {};
    case 0xE5:
        fxam(f);
        return {};
    case 0xE8:
    case 0xE9:
    case 0xEA:
    case 0xEB:
    case 0xEC:
    case 0xED:
    case 0xEE:
        push_value(f, Res{constant(static_cast<Constant>(m - 0xE8), f.rounding()), 0});
        return {};
    case 0xF0:
        unary(f, exp2m1);
        return {};
    case 0xF1:
        st1_op_pop(f, ylog2x);
        return {};
    case 0xF2:
        two_way_trig(f, x87::tan);
        return {};
    case 0xF3:
        st1_op_pop(f, x87::atan2);
        return {};
    case 0xF4: {
        if (!replace_and_push_ok(f)) return {};
        Extract x = extract(f.st(0), env);
        replace_and_push(f, x.exponent, x.significand);
        return {};
    }
    case 0xF5:
        fprem(f, true);
        return {};
    case 0xF6:
    case 0xF7:
        f.set_top(f.top() + (m == 0xF6 ? 7 : 1));
        f.set_c1(false);
        return {};
    case 0xF8:
        fprem(f, false);
        return {};
    case 0xF9:
        st1_op_pop(f, ylog2xp1);
        return {};
    case 0xFA:
        unary(f, x87::sqrt);
        return {};
    case 0xFB:
        two_way_trig(f, x87::sincos);
        return {};
    case 0xFC:
        unary(f, round_to_int);
        return {};
    case 0xFD:
        if (f.empty(0) || f.empty(1)) {
            if (f.stack_underflow()) f.set_st(0, INDEFINITE);
            return {};
        }
        commit(f, 0, x87::scale(f.st(0), f.st(1), env));
        return {};
    case 0xFE:
        trig1(f, x87::sin);
        return {};
    case 0xFF:
        trig1(f, x87::cos);
        return {};
    default:
        return Fault::invalid_opcode();
    }
}

Exec esc_reg(Cpu& cpu, DecodedInsn const& insn, u8 op) {
    Fpu& f = cpu.fpu();
    unsigned i = insn.rm;
    unsigned reg = insn.reg;
    u8 m = insn.modrm;
    switch (op) {
    case 0xD8:
        if (reg == 2 || reg == 3)
            compare_reg(cpu, i, false, reg == 3 ? 1 : 0, false);
        else
            arith_reg(cpu, reg, 0, i, false);
        return {};
    case 0xD9:
        return esc_d9_reg(cpu, insn);
    case 0xDA:
        if (reg < 4) {
            fcmov(cpu, i, fcmov_condition(cpu, m));
            return {};
        }
        if (m == 0xE9) {
            compare_reg(cpu, 1, true, 2, false); // FUCOMPP
            return {};
        }
        return Fault::invalid_opcode();
    case 0xDB:
        if (reg < 4) {
            fcmov(cpu, i, !fcmov_condition(cpu, m));
            return {};
        }
        if (reg == 5 || reg == 6) {
            compare_reg(cpu, i, reg == 5, 0, true); // FUCOMI / FCOMI
            return {};
        }
        switch (m) {
        case 0xE0: // FNENI, FNDISI, FNSETPM: 8087/287 controls, no-ops since the 387
        case 0xE1:
        case 0xE4:
            return {};
        case 0xE2: // FNCLEX
            f.set_status(static_cast<u16>(f.status() & ~(SW_EXC | SW_SF | SW_ES | SW_B)));
            return {};
        case 0xE3:
            f.init();
            return {};
        default:
            return Fault::invalid_opcode();
        }
    case 0xDC:
        if (reg == 2 || reg == 3)
            compare_reg(cpu, i, false, reg == 3 ? 1 : 0, false); // FCOM2, FCOMP3
        else
            arith_reg(cpu, reversed(reg), i, 0, false);
        return {};
    case 0xDD:
        switch (reg) {
        case 0:
            f.free(i); // FFREE
            return {};
        case 1:
            fxch(f, i); // FXCH4
            return {};
        case 2:
        case 3:
            fst_reg(f, i, reg == 3);
            return {};
        case 4:
        case 5:
            compare_reg(cpu, i, true, reg == 5 ? 1 : 0, false); // FUCOM, FUCOMP
            return {};
        default:
            return Fault::invalid_opcode();
        }
    case 0xDE:
        if (reg == 2) {
            compare_reg(cpu, i, false, 1, false); // FCOMP5
        } else if (reg == 3) {
            if (m != 0xD9) return Fault::invalid_opcode();
            compare_reg(cpu, 1, false, 2, false); // FCOMPP
        } else {
            arith_reg(cpu, reversed(reg), i, 0, true);
        }
        return {};
    case 0xDF:
        switch (reg) {
        case 0: // FFREEP
            f.free(i);
            f.pop();
            return {};
        case 1:
            fxch(f, i); // FXCH7
            return {};
        case 2:
        case 3:
            fst_reg(f, i, true); // FSTP8, FSTP9
            return {};
        case 4:
            if (m != 0xE0) return Fault::invalid_opcode();
            cpu.set_reg<u16>(REG_EAX, f.status()); // FNSTSW AX
            return {};
        case 5:
        case 6:
            compare_reg(cpu, i, reg == 5, 1, true); // FUCOMIP / FCOMIP
            return {};
        default:
            return Fault::invalid_opcode();
        }
    default:
        return Fault::invalid_opcode();
    }
}

Exec esc(Cpu& cpu, DecodedInsn const& insn) {
    if (cpu.cr0() & (CR0_EM | CR0_TS)) return Fault::no_device();
    u8 op = static_cast<u8>(insn.opcode);
    if (!no_wait(op, insn)) {
        bool run = true;
        TRY(pending_error(cpu, run));
        if (!run) return {};
    }
    Exec r = insn.mod == 3 ? esc_reg(cpu, insn, op) : esc_mem(cpu, insn, op);
    if (r && !control_insn(op, insn)) {
        Fpu& f = cpu.fpu();
        f.fip = cpu.insn_start();
        f.fcs = cpu.selector(SEG_CS);
        f.fop = static_cast<u16>(((op & 7) << 8) | insn.modrm);
        if (insn.mod != 3) {
            f.fdp = cpu.ea(insn);
            f.fds = cpu.selector(static_cast<SegReg>(insn.seg));
        }
    }
    return r;
}

Exec wait(Cpu& cpu, DecodedInsn const&) {
    if ((cpu.cr0() & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) return Fault::no_device();
    bool run = true;
    return pending_error(cpu, run);
}

} // namespace

Exec exec_undefined(Cpu&, DecodedInsn const&) {
    return Fault::invalid_opcode();
}

void register_fpu(DispatchTable& t) {
    for (u16 op = 0xD8; op <= 0xDF; ++op)
        t.set(op, esc);
    t.set(0x9B, wait);
}

} // namespace vsa
