// SPDX-License-Identifier: GPL-2.0-or-later
// Virtual-8086 mode (SDM vol. 3, chapter 20): IRETD from ring 0 into V86
// mode, real-mode addressing at CPL 3, an IOPL-sensitive INT n raising #GP
// to a ring-0 monitor (which gets GS, FS, DS, ES on its stack and null
// data segments), the monitor's IRETD back into V86 mode, and at IOPL 3
// INT n straight to a ring-0 handler plus CLI/PUSHF/POPF allowed.
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

namespace vsa::test {

namespace {

constexpr u32 GDT = 0x20000;
constexpr u32 ESP0 = 0x9F000;

void setup(TestMachine& m) {
    m.enter_flat32();
    for (u32 i = 0; i < 0x100; i += 4)
        m.poke32(GDT + i, 0);
    set_desc(m, GDT, 0x08, 0, 0xFFFFF, 0x9B, 0xC);
    set_desc(m, GDT, 0x10, 0, 0xFFFFF, 0x93, 0xC);
    set_desc(m, GDT, 0x28, 0x21000, 0x67, 0x89, 0);
    m.cpu->set_gdtr(TableRegister{GDT, 0xFF});
    for (u32 i = 0; i < 0x68; i += 4)
        m.poke32(0x21000 + i, 0);
    m.poke32(0x21004, ESP0);
    m.poke32(0x21008, 0x10);
}

// IRETD into V86 mode at 0700:0000 with SS:SP 0800:0100, DS 0700.
std::string enter_v86(u32 eflags) {
    return "mov ax, 0x28\nltr ax\n"
           "push dword 0\npush dword 0\npush dword 0x0700\npush dword 0\n"
           "push dword 0x0800\npush dword 0x0100\npush dword " +
           std::to_string(eflags) +
           "\n"
           "push dword 0x0700\npush dword 0\niretd\n";
}

} // namespace

BOOST_AUTO_TEST_SUITE(v86)

BOOST_AUTO_TEST_CASE(monitor_round_trip_at_iopl0) {
    TestMachine m(4 * MiB);
    setup(m);
    auto prog = assemble("bits 32\norg 0x1000\n" + enter_v86(0x20002) +
                         "monitor:\n"
                         "inc dword [ss:0x3204]\n"
                         "mov [ss:0x3200], eax\n"
                         "cmp dword [ss:0x3204], 1\n"
                         "jne done\n"
                         "add dword [esp+4], 2\n" // skip INT 21h
                         "add esp, 4\n"
                         "iretd\n"
                         "done:\n"
                         "mov edi, [esp+28]\n" // the V86 DS in the frame
                         "mov esi, ds\n"
                         "hlt\n");
    u32 monitor = 0x1000 + static_cast<u32>(prog.size()) - 33;
    for (u32 i = 0; i + 1 < prog.size(); ++i)
        if (prog[i] == 0xCF && prog[i + 1] == 0x36) monitor = 0x1000 + i + 1; // iretd; ss: inc
    set_gate(m, 0x5000, VEC_GP * 8, 0x08, monitor, 0x8E);
    m.load(0x1000, prog);
    m.load(0x7000, assemble("bits 16\nmov ax, 0x1234\nint 0x21\nmov bx, 0x5678\nmov [0x10], bx\n"
                            "mov cx, cs\nhlt\n"));
    m.cpu->set_eip(0x1000);
    BOOST_REQUIRE(m.run_until_halt(1'000'000).reason == ExitReason::Halted);
    BOOST_TEST(m.peek32(0x3204) == 2u);      // INT 21h, then HLT
    BOOST_TEST(m.peek32(0x3200) == 0x1234u); // V86 registers reach the monitor
    BOOST_TEST((m.cpu->ebx() & 0xFFFF) == 0x5678u);
    BOOST_TEST((m.cpu->ecx() & 0xFFFF) == 0x0700u);
    BOOST_TEST(m.peek32(0x7010) == 0x5678u); // DS 0700 addresses 0x7000
    BOOST_TEST(m.cpu->edi() == 0x0700u);
    BOOST_TEST(m.cpu->esi() == 0u); // data segments nulled on entry
    BOOST_TEST(m.cpu->cpl() == 0u);
    BOOST_TEST(!m.cpu->v86_mode());
    // The frame: error 0, IP of HLT, CS, EFLAGS with VM, SP, SS.
    BOOST_TEST(m.peek32(ESP0 - 40) == 0u);
    BOOST_TEST(m.peek32(ESP0 - 32) == 0x0700u);
    BOOST_TEST((m.peek32(ESP0 - 28) & FLAG_VM) != 0u);
    BOOST_TEST(m.peek32(ESP0 - 24) == 0x0100u);
    BOOST_TEST(m.peek32(ESP0 - 20) == 0x0800u);
}

BOOST_AUTO_TEST_CASE(iopl3_int_goes_to_the_handler_and_flags_instructions_run) {
    TestMachine m(4 * MiB);
    setup(m);
    auto prog = assemble("bits 32\norg 0x1000\n" + enter_v86(0x23002) +
                         "handler:\n"
                         "mov [ss:0x3300], eax\n"
                         "mov ebx, [esp+8]\n" // EFLAGS image
                         "mov [ss:0x3304], ebx\n"
                         "iretd\n");
    u32 handler = 0;
    for (u32 i = 0; i + 1 < prog.size(); ++i)
        if (prog[i] == 0xCF && prog[i + 1] == 0x36) handler = 0x1000 + i + 1;
    BOOST_REQUIRE(handler != 0);
    set_gate(m, 0x5000, 0x21 * 8, 0x08, handler, 0xEE); // DPL 3
    m.load(0x1000, prog);
    m.load(0x7000,
           assemble("bits 16\nmov ax, 0x4321\ncli\npushf\npop dx\nsti\nint 0x21\nmov bx, 0x9999\nhlt\n"));
    m.cpu->set_eip(0x1000);
    BOOST_REQUIRE(m.run_until_halt(1'000'000).reason == ExitReason::Halted);
    BOOST_TEST(m.cpu->eip() == 0x6000u + VEC_GP + 1); // HLT is privileged even at IOPL 3
    BOOST_TEST(m.peek32(0x3300) == 0x4321u);
    BOOST_TEST((m.peek32(0x3304) & (FLAG_VM | FLAG_IF)) == (FLAG_VM | FLAG_IF));
    BOOST_TEST((m.cpu->edx() & FLAG_IF) == 0u); // PUSHF after CLI
    BOOST_TEST((m.cpu->ebx() & 0xFFFF) == 0x9999u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
