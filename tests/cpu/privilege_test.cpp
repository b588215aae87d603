// SPDX-License-Identifier: GPL-2.0-or-later
// Privilege levels (SDM vol. 3, chapter 5): IRET from ring 0 to ring 3,
// a 32-bit call gate with parameter copy and the TSS stack switch, RETF
// imm back to ring 3, an interrupt from ring 3 into a ring-0 handler and
// IRET back, #GP for CLI at CPL 3 with IOPL 0, the I/O permission bitmap,
// privileged instructions, data-segment loads against DPL, and the nulling
// of data segments when returning outward. Also the double fault of a #GP
// raised while delivering a #GP.
//
// Layout: the GDT at 0x20000 (built here), the TSS at 0x21000 (ESP0 =
// 0x9F000, SS0 = 0x10, I/O bitmap at +0x68), ring-3 stack at 0x70000.
// Exceptions land on TestMachine's ring-0 HLTs at 0x6000 + vector.
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

namespace vsa::test {

namespace {

constexpr u32 GDT = 0x20000;
constexpr u32 TSS = 0x21000;
constexpr u32 ESP0 = 0x9F000;

// Rings 0 and 3, a TSS with an I/O bitmap allowing port 0x80 only.
void setup_rings(TestMachine& m) {
    m.enter_flat32();
    for (u32 i = 0; i < 0x100; i += 4)
        m.poke32(GDT + i, 0);
    set_desc(m, GDT, 0x08, 0, 0xFFFFF, 0x9B, 0xC);
    set_desc(m, GDT, 0x10, 0, 0xFFFFF, 0x93, 0xC);
    set_desc(m, GDT, 0x18, 0, 0xFFFFF, 0xFB, 0xC); // ring-3 code
    set_desc(m, GDT, 0x20, 0, 0xFFFFF, 0xF3, 0xC); // ring-3 data
    set_desc(m, GDT, 0x28, TSS, 0x2068, 0x89, 0);  // 32-bit TSS, available
    m.cpu->set_gdtr(TableRegister{GDT, 0xFF});
    for (u32 i = 0; i < 0x68; i += 4)
        m.poke32(TSS + i, 0);
    m.poke32(TSS + 4, ESP0);
    m.poke32(TSS + 8, 0x10);
    m.poke32(TSS + 0x64, 0x0068'0000u); // I/O map base 0x68
    for (u32 i = 0; i < 0x2001; ++i)
        m.memory->ram()[TSS + 0x68 + i] = 0xFF;
    m.memory->ram()[TSS + 0x68 + 0x80 / 8] = 0xFE; // port 0x80 allowed
    // The halts on exception entry work from any ring: DPL 3 would let
    // INT n reach them from ring 3, so keep DPL 0 (software INT -> #GP).
}

int run(TestMachine& m, std::string const& body) {
    return m.run_code(assemble("bits 32\norg 0x1000\n" + body));
}

// Ring-0 prologue: LTR, then IRET to ring 3 at `ring3` with ESP 0x70000.
std::string const TO_RING3 = "mov ax, 0x28\n"
                             "ltr ax\n"
                             "push dword 0x23\n"
                             "push dword 0x70000\n"
                             "push dword 0x002\n"
                             "push dword 0x1b\n"
                             "push dword ring3\n"
                             "iretd\n"
                             "ring3:\n";

// The exception frame on the ring-0 stack after an exception with an error
// code from ring 3: error, EIP, CS, EFLAGS, ESP, SS.
u32 frame(TestMachine& m, unsigned i) {
    return m.peek32(ESP0 - 24 + 4 * i);
}

} // namespace

BOOST_AUTO_TEST_SUITE(privilege)

BOOST_AUTO_TEST_CASE(iret_to_ring3_nulls_ring0_data_segments) {
    TestMachine m(4 * MiB);
    setup_rings(m);
    // At ring 3, DS (DPL 0) was nulled by the IRET: a load through it is #GP.
    BOOST_TEST(run(m, TO_RING3 + "mov ebx, ss\nmov ecx, cs\nmov eax, [0x3000]\n") == VEC_GP);
    BOOST_TEST(m.cpu->ebx() == 0x23u);
    BOOST_TEST(m.cpu->ecx() == 0x1Bu);
    BOOST_TEST(frame(m, 0) == 0u);
    BOOST_TEST(frame(m, 2) == 0x1Bu);
    BOOST_TEST(frame(m, 4) == 0x70000u);
    BOOST_TEST(frame(m, 5) == 0x23u);
    BOOST_TEST(m.cpu->cpl() == 0u);
    BOOST_TEST(m.cpu->selector(SEG_DS) == 0u);
}

BOOST_AUTO_TEST_CASE(call_gate_to_ring0_with_parameters_and_retf_back) {
    TestMachine m(4 * MiB);
    setup_rings(m);
    auto prog = assemble("bits 32\norg 0x1000\n" + TO_RING3 +
                         "mov ax, 0x23\nmov ds, ax\nmov es, ax\n"
                         "push dword 0x11111111\n"
                         "push dword 0x22222222\n"
                         "call 0x33:0\n"
                         "mov [0x3000], eax\n"
                         "mov [0x3004], esp\n"
                         "mov edx, cs\n"
                         "hlt\n" // #GP: HLT at CPL 3
                         "gate:\n"
                         "mov eax, [esp+8]\n"
                         "add eax, [esp+12]\n"
                         "mov ecx, [esp+16]\n"
                         "mov [ss:0x300c], ecx\n"
                         "mov ecx, ss\n"
                         "mov [ss:0x3010], ecx\n"
                         "mov [ss:0x3014], esp\n"
                         "mov ecx, [esp+4]\n"
                         "mov [ss:0x3018], ecx\n"
                         "retf 8\n");
    // The gate's offset: find "gate" as the instruction after HLT (F4).
    u32 gate = 0;
    for (u32 i = 0; i < prog.size(); ++i)
        if (prog[i] == 0xF4 && prog[i + 1] == 0x8B) gate = 0x1000 + i + 1;
    BOOST_REQUIRE(gate != 0);
    set_gate(m, GDT, 0x30, 0x08, gate, 0xEC, 2); // 32-bit call gate, DPL 3, 2 dwords
    m.load(0x1000, prog);
    m.cpu->set_eip(0x1000);
    CpuExit exit = m.run_until_halt(1'000'000);
    BOOST_REQUIRE(exit.reason == ExitReason::Halted);
    BOOST_TEST(m.cpu->eip() == 0x6000u + VEC_GP + 1);
    BOOST_TEST(m.peek32(0x3000) == 0x3333'3333u); // both parameters were copied
    BOOST_TEST(m.peek32(0x300C) == 0x70000u - 8); // caller's ESP, pushed on the inner stack
    BOOST_TEST(m.peek32(0x3010) == 0x10u);        // SS0 from the TSS
    BOOST_TEST(m.peek32(0x3014) == ESP0 - 4 * 6); // SS, ESP, 2 params, CS, EIP
    BOOST_TEST(m.peek32(0x3018) == 0x1Bu);        // caller's CS
    BOOST_TEST(m.peek32(0x3004) == 0x70000u);     // RETF 8 released both copies
    BOOST_TEST(m.cpu->edx() == 0x1Bu);
}

BOOST_AUTO_TEST_CASE(sixteen_bit_call_gate_to_ring0) {
    TestMachine m(4 * MiB);
    setup_rings(m);
    auto prog = assemble("bits 32\norg 0x1000\n" + TO_RING3 +
                         "mov ax, 0x23\nmov ds, ax\n"
                         "push word 0x4444\n"
                         "call 0x3b:0\n"
                         "mov [0x3000], esp\n"
                         "hlt\n"
                         "gate:\n"
                         "movzx eax, word [ss:esp+4]\n" // the copied word
                         "mov [ss:0x3004], eax\n"
                         "mov [ss:0x3008], esp\n"
                         "o16 retf 2\n");
    u32 gate = 0;
    for (u32 i = 0; i + 1 < prog.size(); ++i)
        if (prog[i] == 0xF4 && prog[i + 1] == 0x36) gate = 0x1000 + i + 1;
    BOOST_REQUIRE(gate != 0);
    set_gate(m, GDT, 0x38, 0x08, gate, 0xE4, 1); // 16-bit call gate, DPL 3, one word
    m.load(0x1000, prog);
    m.cpu->set_eip(0x1000);
    BOOST_REQUIRE(m.run_until_halt(1'000'000).reason == ExitReason::Halted);
    BOOST_TEST(m.cpu->eip() == 0x6000u + VEC_GP + 1);
    BOOST_TEST(m.peek32(0x3004) == 0x4444u);
    BOOST_TEST(m.peek32(0x3008) == ESP0 - 2 * 5); // SS, SP, 1 param, CS, IP as words
    // A 16-bit gate saved only SP (0xFFFE): back on the 32-bit ring-3
    // stack ESP is that, zero-extended, plus the released word.
    BOOST_TEST(m.peek32(0x3000) == 0x10000u);
}

BOOST_AUTO_TEST_CASE(interrupt_from_ring3_switches_stacks_and_iret_returns) {
    TestMachine m(4 * MiB);
    setup_rings(m);
    auto prog = assemble("bits 32\norg 0x1000\n" + TO_RING3 +
                         "mov ax, 0x23\nmov ds, ax\n"
                         "mov esi, 0x5a5a\n"
                         "int 0x40\n"
                         "mov [0x3100], esp\n"
                         "mov ebp, cs\n"
                         "cli\n" // #GP(0): CPL 3 > IOPL 0
                         "handler:\n"
                         "mov ebx, [esp+4]\n"  // CS
                         "mov ecx, [esp+12]\n" // ESP
                         "mov edx, [esp+16]\n" // SS
                         "mov edi, esp\n"
                         "iretd\n");
    u32 handler = 0;
    for (u32 i = 0; i + 1 < prog.size(); ++i)
        if (prog[i] == 0xFA) handler = 0x1000 + i + 1;
    set_gate(m, 0x5000, 0x40 * 8, 0x08, handler, 0xEE); // interrupt gate, DPL 3
    m.load(0x1000, prog);
    m.cpu->set_eip(0x1000);
    BOOST_REQUIRE(m.run_until_halt(1'000'000).reason == ExitReason::Halted);
    BOOST_TEST(m.cpu->eip() == 0x6000u + VEC_GP + 1);
    BOOST_TEST(m.cpu->ebx() == 0x1Bu);
    BOOST_TEST(m.cpu->ecx() == 0x70000u);
    BOOST_TEST(m.cpu->edx() == 0x23u);
    BOOST_TEST(m.cpu->edi() == ESP0 - 20);
    BOOST_TEST(m.peek32(0x3100) == 0x70000u);
    BOOST_TEST(m.cpu->ebp() == 0x1Bu);
    BOOST_TEST(frame(m, 0) == 0u); // CLI's #GP(0)
    BOOST_TEST(frame(m, 2) == 0x1Bu);
    // INT n to a DPL-0 gate from ring 3 is #GP(vector * 8 + 2).
    setup_rings(m);
    BOOST_TEST(run(m, TO_RING3 + "int 0x41\n") == VEC_GP);
    BOOST_TEST(frame(m, 0) == 0x41u * 8 + 2);
}

BOOST_AUTO_TEST_CASE(io_permission_bitmap_and_privileged_instructions) {
    TestMachine m(4 * MiB);
    setup_rings(m);
    BOOST_TEST(run(m, TO_RING3 + "mov al, 0x12\nout 0x80, al\nmov dx, 0x81\nout dx, al\n") == VEC_GP);
    BOOST_TEST(m.ports.log == "w8:0080=12");
    BOOST_TEST(frame(m, 0) == 0u);
    // A word at 0x7F touches port 0x80 and the forbidden 0x7F.
    setup_rings(m);
    BOOST_TEST(run(m, TO_RING3 + "in ax, 0x7f\n") == VEC_GP);
    // IOPL 3 makes the bitmap irrelevant outside V86 mode.
    setup_rings(m);
    m.ports.log.clear();
    BOOST_TEST(run(m, "mov ax, 0x28\nltr ax\npush dword 0x23\npush dword 0x70000\npush dword 0x3002\n"
                      "push dword 0x1b\npush dword r3\niretd\nr3:\nin al, 0x60\ncli\nsti\nhlt\n") == VEC_GP);
    BOOST_TEST(m.ports.log == "r8:0060=ff");
    BOOST_TEST(frame(m, 0) == 0u);
    for (std::string insn : {"mov eax, cr0", "mov cr3, eax", "lgdt [0]", "invlpg [0]", "wbinvd", "clts",
                             "mov eax, dr7", "lmsw ax"}) {
        setup_rings(m);
        BOOST_TEST_INFO("instruction " << insn);
        BOOST_TEST(run(m, TO_RING3 + insn + "\n") == VEC_GP);
    }
}

BOOST_AUTO_TEST_CASE(segment_loads_check_dpl_and_rpl) {
    TestMachine m(4 * MiB);
    setup_rings(m);
    // Ring 3 may not load the DPL-0 data segment (error code = selector).
    BOOST_TEST(run(m, TO_RING3 + "mov ax, 0x10\nmov ds, ax\n") == VEC_GP);
    BOOST_TEST(frame(m, 0) == 0x10u);
    // Nor SS with RPL != CPL.
    setup_rings(m);
    BOOST_TEST(run(m, TO_RING3 + "mov ax, 0x20\nmov ss, ax\n") == VEC_GP);
    BOOST_TEST(frame(m, 0) == 0x20u);
    // Ring 0 loading DS with RPL 3 of a DPL-0 segment: #GP.
    setup_rings(m);
    BOOST_TEST(run(m, "mov ax, 0x13\nmov ds, ax\n") == VEC_GP);
    BOOST_TEST(m.peek32(0x7FF0) == 0x10u);
    // ARPL raises the RPL to the caller's.
    setup_rings(m);
    BOOST_TEST(run(m, "mov ax, 0x10\nmov bx, 0x23\narpl ax, bx\nsetz cl\n") == -1);
    BOOST_TEST((m.cpu->eax() & 0xFFFF) == 0x13u);
    BOOST_TEST((m.cpu->ecx() & 0xFF) == 1u);
    // LAR/LSL/VERR/VERW at ring 3 see only DPL-3 descriptors.
    setup_rings(m);
    BOOST_TEST(run(m, TO_RING3 + "mov ax, 0x10\nverr ax\nsetz bl\nmov ax, 0x23\nverw ax\nsetz bh\n"
                                 "mov ax, 0x1b\nlar ecx, eax\nmov ax, 0x23\nlsl edx, eax\nhlt\n") == VEC_GP);
    BOOST_TEST((m.cpu->ebx() & 0xFFFF) == 0x0100u);
    BOOST_TEST(m.cpu->ecx() == 0x00CF'FB00u);
    BOOST_TEST(m.cpu->edx() == 0xFFFF'FFFFu);
}

BOOST_AUTO_TEST_CASE(ring3_under_paging_sees_only_user_pages) {
    TestMachine m(4 * MiB);
    setup_rings(m);
    // Identity map of 0..4 MiB, user and writable, except: 0x300000 is
    // supervisor-only, 0x301000 is user read-only.
    constexpr u32 PD = 0x10000;
    constexpr u32 PT = 0x11000;
    for (u32 i = 0; i < 1024; ++i) {
        m.poke32(PD + i * 4, 0);
        m.poke32(PT + i * 4, (i << 12) | PTE_P | PTE_RW | PTE_US);
    }
    m.poke32(PD, PT | PTE_P | PTE_RW | PTE_US);
    m.poke32(PT + 0x300 * 4, 0x300000 | PTE_P | PTE_RW);
    m.poke32(PT + 0x301 * 4, 0x301000 | PTE_P | PTE_US);
    m.cpu->set_cr(3, PD);
    m.cpu->set_cr0(m.cpu->cr0() | CR0_PG | CR0_WP);
    m.poke32(0x300000, 0x5EC2E7);
    m.poke32(0x301000, 0x0B11C);
    // Ring 0 reads the supervisor page first: the TLB entry it leaves must
    // not serve ring 3.
    std::string const ring0 = "mov esi, [0x300000]\n";
    BOOST_TEST(run(m, ring0 + TO_RING3 +
                          "mov ax, 0x23\nmov ds, ax\nmov ebx, [0x301000]\nmov ecx, [0x300000]\n") == VEC_PF);
    BOOST_TEST(m.cpu->esi() == 0x5EC2E7u);
    BOOST_TEST(m.cpu->ebx() == 0x0B11Cu);
    BOOST_TEST(frame(m, 0) == (PF_P | PF_U));
    BOOST_TEST(m.cpu->cr2() == 0x300000u);
    // Ring 3 writing its read-only page: #PF(P|W|U).
    setup_rings(m);
    m.cpu->set_cr(3, PD);
    m.cpu->set_cr0(m.cpu->cr0() | CR0_PG);
    BOOST_TEST(run(m, TO_RING3 + "mov ax, 0x23\nmov ds, ax\nmov dword [0x301000], 2\n") == VEC_PF);
    BOOST_TEST(frame(m, 0) == (PF_P | PF_W | PF_U));
    BOOST_TEST(m.peek32(0x301000) == 0x0B11Cu);
}

BOOST_AUTO_TEST_CASE(gp_during_gp_delivery_is_a_double_fault) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    // #GP's gate names a selector beyond the GDT: delivering the first #GP
    // raises another #GP, which is contributory on contributory: #DF(0).
    m.poke32(0x5000 + VEC_GP * 8, (m.peek32(0x5000 + VEC_GP * 8) & 0xFFFF) | (0x48u << 16));
    BOOST_TEST(m.run_code(assemble("bits 32\nmov ax, 0x50\nmov es, ax\n")) == VEC_DF);
    BOOST_TEST(m.peek32(0x7FF0) == 0u);
    BOOST_TEST(m.peek32(0x7FF4) == 0x1004u); // the faulting MOV ES
    // And a #DF that cannot be delivered either shuts the machine down.
    m.enter_flat32();
    m.poke32(0x5000 + VEC_GP * 8, (m.peek32(0x5000 + VEC_GP * 8) & 0xFFFF) | (0x48u << 16));
    m.poke32(0x5000 + VEC_DF * 8 + 4, 0);
    BOOST_TEST(m.run_code(assemble("bits 32\nmov ax, 0x50\nmov es, ax\n")) == -2);
    BOOST_TEST(m.cpu->shutdown_pending());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
