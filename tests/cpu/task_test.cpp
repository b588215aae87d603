// SPDX-License-Identifier: GPL-2.0-or-later
// Hardware task switches (SDM vol. 3, chapter 7): CALL through a task gate
// and IRET back through the back link with NT, INT n through an IDT task
// gate, a double fault handled by a task (as Linux's i386 #DF handler is),
// busy bits, CR0.TS, and the #TS / #GP checks on bad targets.
//
// Layout: GDT at 0x20000 with ring-0 code/data at 08/10, TSS 1 (the task
// the test starts in) at 0x21000, TSS 2 at 0x22000, a task gate to TSS 2
// at 0x40, a TSS for #DF at 0x23000 (selector 0x50), and a too-short TSS
// at 0x58.
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

namespace vsa::test {

namespace {

constexpr u32 GDT = 0x20000;

void setup_task(TestMachine& m, u32 tss, u32 eip, u32 esp) {
    for (u32 i = 0; i < 0x68; i += 4)
        m.poke32(tss + i, 0);
    m.poke32(tss + 0x20, eip);
    m.poke32(tss + 0x24, 0x2);
    m.poke32(tss + 0x38, esp);
    m.poke32(tss + 0x28, 0x2222); // EAX
    for (unsigned s = 0; s < 6; ++s)
        m.poke32(tss + 0x48 + 4 * s, s == 1 ? 0x08 : 0x10);
}

void setup(TestMachine& m) {
    m.enter_flat32();
    for (u32 i = 0; i < 0x100; i += 4)
        m.poke32(GDT + i, 0);
    set_desc(m, GDT, 0x08, 0, 0xFFFFF, 0x9B, 0xC);
    set_desc(m, GDT, 0x10, 0, 0xFFFFF, 0x93, 0xC);
    set_desc(m, GDT, 0x28, 0x21000, 0x67, 0x89, 0);
    set_desc(m, GDT, 0x38, 0x22000, 0x67, 0x89, 0);
    set_gate(m, GDT, 0x40, 0x38, 0, 0x85);
    set_desc(m, GDT, 0x50, 0x23000, 0x67, 0x89, 0);
    set_desc(m, GDT, 0x58, 0x24000, 0x20, 0x89, 0);
    m.cpu->set_gdtr(TableRegister{GDT, 0xFF});
    for (u32 i = 0; i < 0x68; i += 4)
        m.poke32(0x21000 + i, 0);
}

u32 find(std::vector<u8> const& code, std::vector<u8> const& pattern) {
    for (u32 i = 0; i + pattern.size() <= code.size(); ++i)
        if (std::equal(pattern.begin(), pattern.end(), code.begin() + i)) return 0x1000 + i;
    return 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(task)

BOOST_AUTO_TEST_CASE(call_through_task_gate_int_through_idt_and_iret_back) {
    TestMachine m(4 * MiB);
    setup(m);
    auto prog = assemble("bits 32\norg 0x1000\n"
                         "mov ax, 0x28\nltr ax\n"
                         "mov eax, 0xaaaa\n"
                         "call 0x40:0\n"
                         "mov [0x3000], eax\n"
                         "pushfd\npop dword [0x3004]\n"
                         "int 0x41\n"
                         "mov [0x3008], eax\n"
                         "hlt\n"
                         "t2:\n"
                         "inc dword [0x3100]\n"
                         "mov [0x3104], eax\n"
                         "mov eax, 0x7777\n"
                         "str [0x3108]\n"
                         "pushfd\npop dword [0x310c]\n"
                         "iretd\n"
                         "jmp t2\n");
    u32 t2 = find(prog, {0xFF, 0x05, 0x00, 0x31}); // inc dword [0x3100]
    BOOST_REQUIRE(t2 != 0);
    setup_task(m, 0x22000, t2, 0x60000);
    set_gate(m, 0x5000, 0x41 * 8, 0x38, 0, 0x85);
    m.load(0x1000, prog);
    m.cpu->set_eip(0x1000);
    BOOST_REQUIRE(m.run_until_halt(1'000'000).reason == ExitReason::Halted);
    BOOST_TEST(m.cpu->eip() < 0x6000u);      // the HLT of task 1, not an exception
    BOOST_TEST(m.peek32(0x3100) == 2u);      // task 2 ran twice
    BOOST_TEST(m.peek32(0x3104) == 0x7777u); // its EAX survived in its TSS
    BOOST_TEST(m.peek32(0x3108) == 0x38u);   // STR in task 2
    BOOST_TEST((m.peek32(0x310C) & FLAG_NT) != 0u);
    BOOST_TEST(m.peek32(0x3000) == 0xAAAAu); // task 1's EAX came back
    BOOST_TEST((m.peek32(0x3004) & FLAG_NT) == 0u);
    BOOST_TEST(m.peek32(0x3008) == 0xAAAAu);
    BOOST_TEST(m.peek32(0x22000) == 0x28u);              // back link
    BOOST_TEST(m.memory->ram()[GDT + 0x28 + 5] == 0x8B); // task 1 busy
    BOOST_TEST(m.memory->ram()[GDT + 0x38 + 5] == 0x89); // task 2 free again
    BOOST_TEST(m.cpu->tr().selector == 0x28u);
    BOOST_TEST((m.cpu->cr0() & CR0_TS) != 0u);
}

BOOST_AUTO_TEST_CASE(jmp_to_a_tss_and_the_checks_on_it) {
    TestMachine m(4 * MiB);
    setup(m);
    auto prog = assemble("bits 32\norg 0x1000\n"
                         "mov ax, 0x28\nltr ax\n"
                         "jmp 0x38:0\n"
                         "t2:\n"
                         "mov ebx, 0x4242\n"
                         "hlt\n");
    u32 t2 = find(prog, {0xBB, 0x42, 0x42});
    setup_task(m, 0x22000, t2, 0x60000);
    m.load(0x1000, prog);
    m.cpu->set_eip(0x1000);
    BOOST_REQUIRE(m.run_until_halt(1'000'000).reason == ExitReason::Halted);
    BOOST_TEST(m.cpu->ebx() == 0x4242u);
    BOOST_TEST(m.cpu->eax() == 0x2222u); // from TSS 2's image
    BOOST_TEST(m.cpu->esp() == 0x60000u);
    // JMP clears the old busy bit and sets the new one; no back link, no NT.
    BOOST_TEST(m.memory->ram()[GDT + 0x28 + 5] == 0x89);
    BOOST_TEST(m.memory->ram()[GDT + 0x38 + 5] == 0x8B);
    BOOST_TEST((m.cpu->eflags() & FLAG_NT) == 0u);
    BOOST_TEST(m.peek32(0x21020) == 0x1000u + 4 + 3 + 7); // task 1's EIP after the JMP

    // A busy TSS: #GP(selector).
    setup(m);
    set_desc(m, GDT, 0x38, 0x22000, 0x67, 0x8B, 0);
    BOOST_TEST(m.run_code(assemble("bits 32\nmov ax, 0x28\nltr ax\njmp 0x38:0\n")) == VEC_GP);
    BOOST_TEST(m.peek32(0x7FF0) == 0x38u);
    // A TSS shorter than 0x67 bytes: #TS(selector).
    setup(m);
    BOOST_TEST(m.run_code(assemble("bits 32\nmov ax, 0x28\nltr ax\njmp 0x58:0\n")) == VEC_TS);
    BOOST_TEST(m.peek32(0x7FF0) == 0x58u);
    // A TSS whose CS is a data segment: #TS(CS selector), nothing switched.
    setup(m);
    setup_task(m, 0x22000, 0, 0x60000);
    m.poke32(0x22000 + 0x4C, 0x10);
    BOOST_TEST(m.run_code(assemble("bits 32\nmov ax, 0x28\nltr ax\njmp 0x38:0\n")) == VEC_TS);
    BOOST_TEST(m.peek32(0x7FF0) == 0x10u);
    BOOST_TEST(m.cpu->tr().selector == 0x28u);
}

BOOST_AUTO_TEST_CASE(call_to_a_16bit_tss_and_back) {
    TestMachine m(4 * MiB);
    setup(m);
    set_desc(m, GDT, 0x60, 0x25000, 0x2B, 0x81, 0); // 16-bit TSS, available
    for (u32 i = 0; i < 0x2C; i += 4)
        m.poke32(0x25000 + i, 0);
    auto task16 = assemble("bits 32\norg 0x2c00\nmov [0x3400], ebx\nmov [0x3404], esp\nmov bx, ss\n"
                           "mov [0x3408], bx\niretd\n");
    m.load(0x2C00, task16);
    auto w16 = [&](u32 off, u16 v) {
        m.memory->ram()[0x25000 + off] = static_cast<u8>(v);
        m.memory->ram()[0x25000 + off + 1] = static_cast<u8>(v >> 8);
    };
    w16(0x0E, 0x2C00); // IP
    w16(0x10, 0x0002); // FLAGS
    w16(0x18, 0x1234); // BX
    w16(0x1A, 0x7000); // SP
    w16(0x22, 0x10);   // ES
    w16(0x24, 0x08);   // CS
    w16(0x26, 0x10);   // SS
    w16(0x28, 0x10);   // DS
    BOOST_TEST(m.run_code(assemble("bits 32\nmov ax, 0x28\nltr ax\nmov ebx, 0xaaaa0000\nmov esp, 0x8000\n"
                                   "call 0x60:0\nmov [0x340c], ebx\n")) == -1);
    // A 16-bit task loads only the low halves of the registers.
    BOOST_TEST(m.peek32(0x3400) == 0xAAAA'1234u);
    BOOST_TEST(m.peek32(0x3404) == 0x7000u);
    BOOST_TEST(m.peek32(0x3408) == 0x10u);
    BOOST_TEST(m.peek32(0x340C) == 0xAAAA'0000u);        // task 1's EBX came back from its 32-bit TSS
    BOOST_TEST(m.memory->ram()[0x25000] == 0x28);        // back link
    BOOST_TEST(m.memory->ram()[GDT + 0x60 + 5] == 0x81); // free again after IRET
}

BOOST_AUTO_TEST_CASE(double_fault_through_a_task_gate) {
    TestMachine m(4 * MiB);
    setup(m);
    auto handler = assemble("bits 32\norg 0x2800\npop eax\nmov [0x3200], eax\nstr [0x3204]\nhlt\n");
    m.load(0x2800, handler);
    setup_task(m, 0x23000, 0x2800, 0x58000);
    set_gate(m, 0x5000, VEC_DF * 8, 0x50, 0, 0x85);
    // #GP whose gate names a selector beyond the GDT: #DF.
    m.poke32(0x5000 + VEC_GP * 8, (m.peek32(0x5000 + VEC_GP * 8) & 0xFFFF) | (0x1F8u << 16));
    m.poke32(0x3200, 0xFFFF'FFFF);
    auto code = assemble("bits 32\norg 0x1000\nmov ax, 0x28\nltr ax\nmov ax, 0x1f0\nmov es, ax\n");
    code.push_back(0xF4);
    m.load(0x1000, code);
    m.cpu->set_eip(0x1000);
    BOOST_REQUIRE(m.run_until_halt(1'000'000).reason == ExitReason::Halted);
    BOOST_TEST(m.peek32(0x3200) == 0u); // #DF's error code on the handler task's stack
    BOOST_TEST(m.peek32(0x3204) == 0x50u);
    BOOST_TEST(m.peek32(0x23000) == 0x28u);
    BOOST_TEST(m.peek32(0x21020) == 0x1000u + 4 + 3 + 4); // task 1 saved at the faulting MOV ES
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
