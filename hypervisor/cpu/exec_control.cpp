// SPDX-License-Identifier: GPL-2.0-or-later
// Control transfer (SDM vol. 2): Jcc (rel8, rel16/32), JMP and CALL near
// (relative, indirect) and far (direct, indirect through memory), RET and
// RETF with and without imm16, LOOP/LOOPE/LOOPNE/JCXZ at the address
// size, INT n, INT3, INTO, INT1 (F1), IRET/IRETD, ENTER (all nesting
// levels), LEAVE and BOUND.
#include "hypervisor/cpu/exec_common.h"

namespace vsa {

namespace {

template <typename T>
constexpr bool is32() {
    return sizeof(T) == 4;
}

template <typename T>
Exec jcc(Cpu& cpu, DecodedInsn const& insn) {
    if (!cpu.condition(insn.opcode & 0xF)) return {};
    return cpu.jump_near(cpu.eip() + insn.imm, is32<T>());
}

template <typename T>
Exec jmp_rel(Cpu& cpu, DecodedInsn const& insn) {
    return cpu.jump_near(cpu.eip() + insn.imm, is32<T>());
}

template <typename T>
Exec jmp_rm(Cpu& cpu, DecodedInsn const& insn) {
    T target = TRY(cpu.read_rm<T>(insn));
    return cpu.jump_near(target, is32<T>());
}

template <typename T>
Exec call_to(Cpu& cpu, u32 target) {
    if (!is32<T>()) target &= 0xFFFF;
    if (target > cpu.segment(SEG_CS).limit) return Fault::gp(0);
    TRY(cpu.push<T>(static_cast<T>(cpu.eip())));
    cpu.set_eip(target);
    return {};
}

template <typename T>
Exec call_rel(Cpu& cpu, DecodedInsn const& insn) {
    return call_to<T>(cpu, cpu.eip() + insn.imm);
}

template <typename T>
Exec call_rm(Cpu& cpu, DecodedInsn const& insn) {
    T target = TRY(cpu.read_rm<T>(insn));
    return call_to<T>(cpu, target);
}

template <typename T>
Exec jmp_far(Cpu& cpu, DecodedInsn const& insn) {
    return cpu.far_jump(static_cast<u16>(insn.imm2), insn.imm, is32<T>());
}

template <typename T>
Exec call_far(Cpu& cpu, DecodedInsn const& insn) {
    return cpu.far_call(static_cast<u16>(insn.imm2), insn.imm, is32<T>());
}

// FF /3 and FF /5: the far pointer is in memory.
template <typename T, bool CALL>
Exec far_indirect(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.mod == 3) return Fault::invalid_opcode();
    u32 off = cpu.ea(insn);
    T offset = TRY(cpu.read<T>(insn.seg, off));
    u16 sel = TRY(cpu.read<u16>(insn.seg, (off + sizeof(T)) & addr_mask(insn)));
    if (CALL) return cpu.far_call(sel, offset, is32<T>());
    return cpu.far_jump(sel, offset, is32<T>());
}

template <typename T, bool IMM>
Exec ret_near(Cpu& cpu, DecodedInsn const& insn) {
    u32 sp = cpu.stack_pointer();
    T target = TRY(cpu.pop_at<T>(sp));
    if (IMM) sp = (sp + (insn.imm & 0xFFFF)) & cpu.stack_mask();
    TRY(cpu.jump_near(target, is32<T>()));
    cpu.set_stack_pointer(sp);
    return {};
}

template <typename T, bool IMM>
Exec ret_far(Cpu& cpu, DecodedInsn const& insn) {
    return cpu.far_return(is32<T>(), IMM ? static_cast<u16>(insn.imm) : 0);
}

// LOOP/LOOPE/LOOPNE (E0-E2) and JCXZ (E3): the counter is CX or ECX by
// address size, the target is masked by operand size.
template <typename T>
Exec loop(Cpu& cpu, DecodedInsn const& insn) {
    u32 amask = addr_mask(insn);
    u32 count = cpu.ecx() & amask;
    bool take = false;
    if (insn.opcode == 0xE3) {
        take = count == 0;
    } else {
        count = (count - 1) & amask;
        set_addr_reg(cpu, REG_ECX, count, insn);
        take = count != 0;
        if (insn.opcode == 0xE0) take = take && !cpu.zf();
        if (insn.opcode == 0xE1) take = take && cpu.zf();
    }
    if (!take) return {};
    auto r = cpu.jump_near(cpu.eip() + insn.imm, is32<T>());
    if (!r && insn.opcode != 0xE3) set_addr_reg(cpu, REG_ECX, (count + 1) & amask, insn);
    return r;
}

// INT n. In V86 mode only this form (CD) is IOPL-sensitive and subject to
// VME redirection; INT3 (CC), INTO and INT1 go to the IDT at any IOPL
// (SDM vol. 2, INT n), with the gate DPL check of a software interrupt.
Exec int_n(Cpu& cpu, DecodedInsn const& insn) {
    auto vector = static_cast<u8>(insn.imm);
    if (cpu.v86_mode()) return cpu.v86_software_interrupt(vector, cpu.eip());
    return cpu.deliver(vector, false, 0, cpu.eip(), true);
}

Exec int3(Cpu& cpu, DecodedInsn const&) {
    return cpu.deliver(VEC_BP, false, 0, cpu.eip(), true);
}

Exec into(Cpu& cpu, DecodedInsn const&) {
    if (!cpu.of()) return {};
    return cpu.deliver(VEC_OF, false, 0, cpu.eip(), true);
}

// ICEBP: a #DB trap without the gate DPL check of INT n.
Exec int1(Cpu& cpu, DecodedInsn const&) {
    return cpu.deliver(VEC_DB, false, 0, cpu.eip(), false);
}

template <typename T>
Exec iret(Cpu& cpu, DecodedInsn const&) {
    return cpu.interrupt_return(is32<T>());
}

// ENTER imm16, imm8 (SDM vol. 2, ENTER): the frame pointer and the copies
// of outer frame pointers use the stack size for (E)BP arithmetic and the
// operand size for the pushed values.
template <typename T>
Exec enter(Cpu& cpu, DecodedInsn const& insn) {
    u32 alloc = insn.imm & 0xFFFF;
    unsigned level = insn.imm2 & 31;
    u32 smask = cpu.stack_mask();
    u32 sp = cpu.stack_pointer();
    TRY(cpu.push_at<T>(sp, cpu.reg<T>(REG_EBP)));
    u32 frame = sp;
    if (level > 0) {
        u32 bp = cpu.ebp() & smask;
        for (unsigned i = 1; i < level; ++i) {
            bp = (bp - sizeof(T)) & smask;
            T v = TRY(cpu.read<T>(SEG_SS, bp));
            TRY(cpu.push_at<T>(sp, v));
        }
        TRY(cpu.push_at<T>(sp, static_cast<T>(frame)));
    }
    sp = (sp - alloc) & smask;
    // Frame pointer: BP for a 16-bit operand size, EBP for 32.
    cpu.set_reg<T>(REG_EBP, static_cast<T>(frame));
    cpu.set_stack_pointer(sp);
    return {};
}

template <typename T>
Exec leave(Cpu& cpu, DecodedInsn const&) {
    u32 sp = cpu.ebp() & cpu.stack_mask();
    T bp = TRY(cpu.pop_at<T>(sp));
    cpu.set_stack_pointer(sp);
    cpu.set_reg<T>(REG_EBP, bp);
    return {};
}

template <typename T>
Exec bound(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.mod == 3) return Fault::invalid_opcode();
    u32 off = cpu.ea(insn);
    T lower = TRY(cpu.read<T>(insn.seg, off));
    T upper = TRY(cpu.read<T>(insn.seg, (off + sizeof(T)) & addr_mask(insn)));
    auto v = static_cast<Signed<T>>(cpu.reg<T>(insn.reg));
    if (v < static_cast<Signed<T>>(lower) || v > static_cast<Signed<T>>(upper)) return Fault::make(VEC_BR);
    return {};
}

} // namespace

void register_control(DispatchTable& t) {
    for (u16 op = 0x70; op <= 0x7F; ++op)
        t.set(op, VSA_BOTH(jcc));
    for (u16 op = 0x180; op <= 0x18F; ++op)
        t.set(op, VSA_BOTH(jcc));
    t.set(0xEB, VSA_BOTH(jmp_rel));
    t.set(0xE9, VSA_BOTH(jmp_rel));
    t.set(0xE8, VSA_BOTH(call_rel));
    t.set_group(0xFF, 2, VSA_BOTH(call_rm));
    t.set_group(0xFF, 3, far_indirect<u16, true>, far_indirect<u32, true>);
    t.set_group(0xFF, 4, VSA_BOTH(jmp_rm));
    t.set_group(0xFF, 5, far_indirect<u16, false>, far_indirect<u32, false>);
    t.set(0xEA, VSA_BOTH(jmp_far));
    t.set(0x9A, VSA_BOTH(call_far));
    t.set(0xC3, ret_near<u16, false>, ret_near<u32, false>);
    t.set(0xC2, ret_near<u16, true>, ret_near<u32, true>);
    t.set(0xCB, ret_far<u16, false>, ret_far<u32, false>);
    t.set(0xCA, ret_far<u16, true>, ret_far<u32, true>);
    for (u16 op = 0xE0; op <= 0xE3; ++op)
        t.set(op, VSA_BOTH(loop));
    t.set(0xCD, int_n);
    t.set(0xCC, int3);
    t.set(0xCE, into);
    t.set(0xF1, int1);
    t.set(0xCF, VSA_BOTH(iret));
    t.set(0xC8, VSA_BOTH(enter));
    t.set(0xC9, VSA_BOTH(leave));
    t.set(0x62, VSA_BOTH(bound));
}

} // namespace vsa
