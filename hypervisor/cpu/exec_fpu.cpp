// SPDX-License-Identifier: GPL-2.0-or-later
// The coprocessor interface of a CPU without FPU (an i486SX, or a 386
// without 387): ESC opcodes D8-DF and WAIT (9B).
//
// With CR0.EM or CR0.TS set, ESC raises #NM (SDM vol. 3, 2.5 and table
// 12-8), as an OS that emulates the FPU expects. With both clear the
// instruction goes to a coprocessor that is not there: nothing happens,
// except that the status/control-word stores (FNSTSW AX, FNSTSW m16,
// FNSTCW m16) read the floating bus as all ones. So the classic probe
// "FNINIT; FNSTSW; test for 0" and "FNSTCW; and 103Fh; cmp 3Fh" both
// find no FPU. WAIT raises #NM when MP and TS are both set; otherwise it
// has nothing to wait for.
//
// Deliberately left out: x87 arithmetic (the issue asks for none; no
// guest BIOS we run needs it). The 286 sends ESC operands to ports
// F8h/FCh; a 386 does not, so there is no port traffic here.
#include "hypervisor/cpu/exec_common.h"

namespace vsa {

namespace {

Exec esc(Cpu& cpu, DecodedInsn const& insn) {
    if (cpu.cr0() & (CR0_EM | CR0_TS)) return Fault::no_device();
    u8 op = static_cast<u8>(insn.opcode);
    bool fnstsw_ax = op == 0xDF && insn.modrm == 0xE0;
    if (fnstsw_ax) {
        cpu.set_reg<u16>(REG_EAX, 0xFFFF);
        return {};
    }
    bool store_word = insn.mod != 3 && insn.reg == 7 && (op == 0xD9 || op == 0xDD);
    if (store_word) return cpu.write<u16>(insn.seg, cpu.ea(insn), 0xFFFF);
    return {};
}

Exec wait(Cpu& cpu, DecodedInsn const&) {
    if ((cpu.cr0() & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS)) return Fault::no_device();
    return {};
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
