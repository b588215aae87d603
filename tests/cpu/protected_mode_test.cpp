// SPDX-License-Identifier: GPL-2.0-or-later
// Whole programs on the interpreter: entering protected mode (LGDT, CR0.PE,
// far jump), 32-bit flat code with ALU, memory, calls and string ops, INT n
// and a #DE fault through 32-bit IDT gates, a #GP with its error code, the
// way back to real mode keeping a 4 GiB DS limit ("big real mode"), a
// triple fault, HLT and interrupt wake-up through the IVT, the interrupt
// shadow of STI, NMI, the deadline and exit requests, breakpoints, tracing,
// and save -> load -> save of the CPU state.
//
// The programs were assembled with nasm -f bin; the source is in the
// comments next to the bytes.
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

#include <cstdio>

namespace vsa::test {

namespace {

// org 0x1000, bits 16:
//   cli; lgdt [gdt_ptr]; mov eax, cr0; or al, 1; mov cr0, eax; jmp dword 0x08:pm32
// pm32 (bits 32):
//   mov ax, 0x10; mov ds, ax; mov es, ax; mov ss, ax; mov esp, 0x9000; lidt [idt_ptr]
//   mov eax, 0x12345678; add eax, 0x11111111; mov ebx, eax; shl ebx, 4
//   xor edx, edx; mov ecx, 100; loop1: add edx, ecx; loop loop1
//   mov [0x3000], eax; mov esi, 0x3000; mov edi, 0x3100; mov ecx, 4; cld; rep movsb
//   call func; int 0x40
//   mov eax, 7; xor ecx, ecx; xor edx, edx
//   de_site (0x106D): div ecx
//   mov dword [0x200000], 0xdeadbeef; jmp 0x18:pm16
// func: mov ebp, 0xcafe; ret
// int40 (0x1086): mov dword [0x3200], 0x40; iretd
// de_handler (0x1091): mov eax, [esp]; mov [0x3204], eax; add dword [esp], 2; iretd
// pm16 (bits 16, 16-bit code segment 0x18):
//   mov ax, 0x10; mov ds, ax; mov eax, cr0; and al, 0xFE; mov cr0, eax; jmp 0:real
// real: xor ax, ax; mov ss, ax; mov sp, 0x8000; mov ds, ax
//   mov eax, [dword 0x200000]; mov [0x3300], eax; hlt
// gdt: null, flat 32-bit code, flat 32-bit data, 64 KiB 16-bit code
const std::vector<u8> PM_PROGRAM = {
    0xfa, 0x0f, 0x01, 0x16, 0xe8, 0x10, 0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, 0x66, 0xea, 0x16,
    0x10, 0x00, 0x00, 0x08, 0x00, 0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, 0xbc, 0x00,
    0x90, 0x00, 0x00, 0x0f, 0x01, 0x1d, 0xee, 0x10, 0x00, 0x00, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x05, 0x11,
    0x11, 0x11, 0x11, 0x89, 0xc3, 0xc1, 0xe3, 0x04, 0x31, 0xd2, 0xb9, 0x64, 0x00, 0x00, 0x00, 0x01, 0xca,
    0xe2, 0xfc, 0xa3, 0x00, 0x30, 0x00, 0x00, 0xbe, 0x00, 0x30, 0x00, 0x00, 0xbf, 0x00, 0x31, 0x00, 0x00,
    0xb9, 0x04, 0x00, 0x00, 0x00, 0xfc, 0xf3, 0xa4, 0xe8, 0x1e, 0x00, 0x00, 0x00, 0xcd, 0x40, 0xb8, 0x07,
    0x00, 0x00, 0x00, 0x31, 0xc9, 0x31, 0xd2, 0xf7, 0xf1, 0xc7, 0x05, 0x00, 0x00, 0x20, 0x00, 0xef, 0xbe,
    0xad, 0xde, 0xea, 0x9e, 0x10, 0x00, 0x00, 0x18, 0x00, 0xbd, 0xfe, 0xca, 0x00, 0x00, 0xc3, 0xc7, 0x05,
    0x00, 0x32, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xcf, 0x8b, 0x04, 0x24, 0xa3, 0x04, 0x32, 0x00, 0x00,
    0x83, 0x04, 0x24, 0x02, 0xcf, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x0f, 0x20, 0xc0, 0x24, 0xfe, 0x0f, 0x22,
    0xc0, 0xea, 0xb0, 0x10, 0x00, 0x00, 0x31, 0xc0, 0x8e, 0xd0, 0xbc, 0x00, 0x80, 0x8e, 0xd8, 0x66, 0x67,
    0xa1, 0x00, 0x00, 0x20, 0x00, 0x66, 0xa3, 0x00, 0x33, 0xf4, 0x90, 0x90, 0x90, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x92, 0xcf, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0x00, 0x00, 0x1f, 0x00, 0xc8, 0x10, 0x00, 0x00,
    0x07, 0x02, 0x00, 0x20, 0x00, 0x00,
};
constexpr u32 DE_SITE = 0x106D;
constexpr u32 INT40_HANDLER = 0x1086;
constexpr u32 DE_HANDLER = 0x1091;

// org 0x1000: enter protected mode as above (gdt without the 16-bit code
// segment), lidt [idt_ptr], mov ax, 0x48; gp_site (0x102E): mov es, ax; hlt
// gp_handler (0x1031): pop eax; mov [0x3400], eax; mov eax, [esp];
//   mov [0x3404], eax; lidt [zero_idt]; int 0x40; hlt
const std::vector<u8> TRIPLE_FAULT_PROGRAM = {
    0xfa, 0x0f, 0x01, 0x16, 0x68, 0x10, 0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, 0x66, 0xea,
    0x16, 0x10, 0x00, 0x00, 0x08, 0x00, 0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00,
    0x90, 0x00, 0x00, 0x0f, 0x01, 0x1d, 0x6e, 0x10, 0x00, 0x00, 0x66, 0xb8, 0x48, 0x00, 0x8e, 0xc0,
    0xf4, 0x58, 0xa3, 0x00, 0x34, 0x00, 0x00, 0x8b, 0x04, 0x24, 0xa3, 0x04, 0x34, 0x00, 0x00, 0x0f,
    0x01, 0x1d, 0x74, 0x10, 0x00, 0x00, 0xcd, 0x40, 0xf4, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00,
    0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00, 0x17, 0x00, 0x50, 0x10, 0x00, 0x00, 0x07, 0x02,
    0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
constexpr u32 GP_SITE = 0x102E;
constexpr u32 GP_HANDLER = 0x1031;

// org 0x1000: sti; hlt; mov byte [0x3000], 1; hlt
// handler at 0x1100: inc byte [0x3001]; iret
const std::vector<u8> HLT_PROGRAM = {0xfb, 0xf4, 0xc6, 0x06, 0x00, 0x30, 0x01, 0xf4};
const std::vector<u8> HLT_HANDLER = {0xfe, 0x06, 0x01, 0x30, 0xcf};

// A 32-bit interrupt gate to `offset` in code segment 0x08.
void set_gate32(TestMachine& m, u32 idt, u8 vector, u32 offset) {
    m.poke32(idt + vector * 8u, (offset & 0xFFFF) | (0x08u << 16));
    m.poke32(idt + vector * 8u + 4, (offset & 0xFFFF'0000u) | 0x8E00u);
}

// Real mode, CS:IP = 0000:1000, SS:SP = 0000:8000.
void start_real(TestMachine& m) {
    m.cpu->reset();
    m.cpu->set_segment_real(SEG_CS, 0);
    m.cpu->set_eip(0x1000);
    m.cpu->set_segment_real(SEG_SS, 0);
    m.cpu->set_esp(0x8000);
}

void run_pm_program(TestMachine& m) {
    m.load(0x1000, PM_PROGRAM);
    set_gate32(m, 0x2000, 0x00, DE_HANDLER);
    set_gate32(m, 0x2000, 0x40, INT40_HANDLER);
    start_real(m);
    CpuExit exit = m.run_until_halt();
    BOOST_REQUIRE(exit.reason == ExitReason::Halted);
}

} // namespace

BOOST_AUTO_TEST_SUITE(protected_mode)

BOOST_AUTO_TEST_CASE(protected_mode_round_trip_and_big_real_mode) {
    TestMachine m(4 * MiB);
    run_pm_program(m);
    Interpreter& cpu = *m.cpu;
    // 32-bit flat code: ALU, LOOP, memory, REP MOVSB, CALL/RET.
    BOOST_TEST(cpu.ebx() == 0x34567890u);
    BOOST_TEST(m.peek32(0x3000) == 0x23456789u);
    BOOST_TEST(m.peek32(0x3100) == 0x23456789u);
    BOOST_TEST(cpu.ebp() == 0xCAFEu);
    // INT 0x40 through a 32-bit interrupt gate.
    BOOST_TEST(m.peek32(0x3200) == 0x40u);
    // #DE: the pushed EIP is the DIV itself.
    BOOST_TEST(m.peek32(0x3204) == DE_SITE);
    // Memory above 1 MiB from protected mode, then from real mode through
    // the 4 GiB limit DS kept from protected mode.
    BOOST_TEST(m.peek32(0x200000) == 0xDEADBEEFu);
    BOOST_TEST(m.peek32(0x3300) == 0xDEADBEEFu);
    BOOST_TEST(cpu.eax() == 0xDEADBEEFu);
    BOOST_TEST(!cpu.protected_mode());
    BOOST_TEST(cpu.selector(SEG_DS) == 0);
    BOOST_TEST(cpu.segment(SEG_DS).limit == 0xFFFF'FFFFu);
    BOOST_TEST(cpu.selector(SEG_CS) == 0);
    BOOST_TEST(cpu.edx() == 0u);
}

BOOST_AUTO_TEST_CASE(cpl_is_zero_after_pe_whatever_the_real_mode_cs) {
    // CS = 0001 (low bits 01), IP = 0FF0: the same linear address. CPL is
    // 0 in real mode and stays 0 when PE is set, so the far jump to the
    // DPL-0 code segment is allowed.
    TestMachine m(4 * MiB);
    m.load(0x1000, PM_PROGRAM);
    set_gate32(m, 0x2000, 0x00, DE_HANDLER);
    set_gate32(m, 0x2000, 0x40, INT40_HANDLER);
    start_real(m);
    m.cpu->set_segment_real(SEG_CS, 0x0001);
    m.cpu->set_eip(0x0FF0);
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Halted));
    BOOST_TEST(m.peek32(0x3300) == 0xDEADBEEFu);
}

BOOST_AUTO_TEST_CASE(gp_error_code_then_triple_fault_shuts_down) {
    TestMachine m;
    m.load(0x1000, TRIPLE_FAULT_PROGRAM);
    set_gate32(m, 0x2000, 13, GP_HANDLER);
    start_real(m);
    CpuExit exit = m.run_until_halt();
    BOOST_TEST(int(exit.reason) == int(ExitReason::Shutdown));
    BOOST_TEST(exit.detail == 8u); // the double fault could not be delivered
    // MOV ES, 0x48 beyond the GDT limit: #GP(0x48) at the MOV.
    BOOST_TEST(m.peek32(0x3400) == 0x48u);
    BOOST_TEST(m.peek32(0x3404) == GP_SITE);
    // Shut down stays shut down until reset.
    BOOST_TEST(int(m.cpu->run(m.clock.now() + 1000).reason) == int(ExitReason::Shutdown));
    m.cpu->reset();
    BOOST_TEST(m.cpu->eip() == 0xFFF0u);
    BOOST_TEST(m.cpu->segment_base(SEG_CS) == 0xFFFF'0000u);
    BOOST_TEST(m.cpu->edx() == Cpu::CPU_SIGNATURE);
}

BOOST_AUTO_TEST_CASE(real_mode_triple_fault) {
    // IDT limit 0 in real mode: INT 0x40 -> #GP -> #DF -> shutdown.
    TestMachine m;
    // lidt [0x1100]; int 0x40
    m.load(0x1000, {0x0f, 0x01, 0x1e, 0x00, 0x11, 0xcd, 0x40, 0xf4});
    m.load(0x1100, {0, 0, 0, 0, 0, 0});
    start_real(m);
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Shutdown));
}

BOOST_AUTO_TEST_CASE(hlt_sleeps_until_an_interrupt_arrives) {
    TestMachine m;
    m.load(0x1000, HLT_PROGRAM);
    m.load(0x1100, HLT_HANDLER);
    m.poke32(0x20 * 4, 0x0000'1100); // IVT[0x20] = 0000:1100
    start_real(m);
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Halted));
    BOOST_TEST(m.cpu->halted());
    BOOST_TEST(m.cpu->eip() == 0x1002u);
    u64 retired = m.cpu->instructions_retired();
    // Still halted on the next run, nothing executes.
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Halted));
    BOOST_TEST(m.cpu->instructions_retired() == retired);
    BOOST_TEST(m.peek8(0x3000) == 0);
    // The interrupt wakes it: handler through the IVT, back after HLT, on
    // to the second HLT.
    m.interrupts.pending.push_back(0x20);
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Halted));
    BOOST_TEST(m.interrupts.acknowledged == 1u);
    BOOST_TEST(m.peek8(0x3001) == 1);
    BOOST_TEST(m.peek8(0x3000) == 1);
    BOOST_TEST(m.cpu->eip() == 0x1008u);
    BOOST_TEST(m.cpu->esp() == 0x8000u);
}

BOOST_AUTO_TEST_CASE(sti_shadow_lets_hlt_run_first) {
    // An interrupt already pending at STI is taken after the HLT that
    // follows it: the return address is past the HLT.
    TestMachine m;
    m.load(0x1000, HLT_PROGRAM);
    m.load(0x1100, HLT_HANDLER);
    m.poke32(0x20 * 4, 0x0000'1100);
    start_real(m);
    m.interrupts.pending.push_back(0x20);
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Halted));
    BOOST_TEST(m.peek8(0x3001) == 1);
    BOOST_TEST(m.peek8(0x3000) == 1);
    BOOST_TEST(m.cpu->eip() == 0x1008u);
}

BOOST_AUTO_TEST_CASE(cli_hlt_wakes_only_on_nmi) {
    TestMachine m;
    // cli; hlt; mov byte [0x3000], 1; hlt
    m.load(0x1000, {0xfa, 0xf4, 0xc6, 0x06, 0x00, 0x30, 0x01, 0xf4});
    m.load(0x1100, HLT_HANDLER);
    m.poke32(0x20 * 4, 0x0000'1100);
    m.poke32(2 * 4, 0x0000'1100); // NMI vector
    start_real(m);
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Halted));
    m.interrupts.pending.push_back(0x20);
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Halted));
    BOOST_TEST(m.interrupts.acknowledged == 0u);
    m.cpu->raise_nmi();
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Halted));
    BOOST_TEST(m.peek8(0x3001) == 1);
    BOOST_TEST(m.peek8(0x3000) == 1);
}

BOOST_AUTO_TEST_CASE(deadline_and_exit_request) {
    TestMachine m;
    m.load(0x1000, {0xeb, 0xfe}); // jmp $
    start_real(m);
    u64 start = m.clock.now();
    CpuExit exit = m.cpu->run(start + 10'000);
    BOOST_TEST(int(exit.reason) == int(ExitReason::Deadline));
    BOOST_TEST(m.clock.now() >= start + 10'000);
    BOOST_TEST(m.clock.now() <= start + 10'000 + 2 * Interpreter::BATCH);
    m.cpu->request_exit();
    BOOST_TEST(int(m.cpu->run(Clock::NEVER).reason) == int(ExitReason::ExitRequested));
    // A deadline already passed returns at once.
    BOOST_TEST(int(m.cpu->run(0).reason) == int(ExitReason::Deadline));
}

BOOST_AUTO_TEST_CASE(breakpoint_stops_before_the_instruction) {
    TestMachine m(4 * MiB);
    m.load(0x1000, PM_PROGRAM);
    set_gate32(m, 0x2000, 0x00, DE_HANDLER);
    set_gate32(m, 0x2000, 0x40, INT40_HANDLER);
    start_real(m);
    m.cpu->add_breakpoint(DE_SITE);
    CpuExit exit = m.run_until_halt();
    BOOST_TEST(int(exit.reason) == int(ExitReason::Breakpoint));
    BOOST_TEST(exit.detail == DE_SITE);
    BOOST_TEST(m.cpu->eip() == DE_SITE);
    m.cpu->remove_breakpoint(DE_SITE);
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Halted));
    BOOST_TEST(m.peek32(0x3300) == 0xDEADBEEFu);
}

BOOST_AUTO_TEST_CASE(trace_prints_one_line_per_instruction) {
    TestMachine m;
    m.load(0x1000, {0x90, 0x40, 0xf4}); // nop; inc ax; hlt
    start_real(m);
    FILE* out = std::tmpfile();
    BOOST_REQUIRE(out);
    m.cpu->set_trace(out);
    BOOST_TEST(int(m.run_until_halt().reason) == int(ExitReason::Halted));
    m.cpu->set_trace(nullptr);
    std::rewind(out);
    char line[512];
    unsigned lines = 0;
    std::string first;
    while (std::fgets(line, sizeof line, out)) {
        if (lines == 0) first = line;
        ++lines;
    }
    std::fclose(out);
    BOOST_TEST(lines == 3u);
    BOOST_TEST(first.find("0000:00001000 90") == 0u);
    BOOST_TEST(first.find("nop") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(save_load_save_is_identical) {
    TestMachine m(4 * MiB);
    run_pm_program(m);
    auto saver = StateVisitor::saver();
    m.cpu->visit_state(saver);
    BOOST_REQUIRE(saver.ok());
    auto first = saver.bytes();

    TestMachine fresh(4 * MiB);
    auto loader = StateVisitor::loader(first);
    fresh.cpu->visit_state(loader);
    BOOST_REQUIRE_MESSAGE(loader.ok(), loader.error());
    BOOST_TEST(loader.at_end());
    auto again = StateVisitor::saver();
    fresh.cpu->visit_state(again);
    BOOST_TEST(first == again.bytes());
    // The loaded CPU carries the big-real-mode cache and the halt.
    BOOST_TEST(fresh.cpu->segment(SEG_DS).limit == 0xFFFF'FFFFu);
    BOOST_TEST(fresh.cpu->halted());
    BOOST_TEST(fresh.cpu->eax() == 0xDEADBEEFu);
}

BOOST_AUTO_TEST_CASE(bad_state_streams_fail_cleanly) {
    TestMachine m(4 * MiB);
    run_pm_program(m);
    auto saver = StateVisitor::saver();
    m.cpu->visit_state(saver);
    auto good = saver.bytes();
    TestMachine fresh(4 * MiB);
    for (std::size_t cut = 0; cut < good.size(); cut += 1 + good.size() / 64) {
        std::vector<u8> truncated(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
        auto loader = StateVisitor::loader(truncated);
        fresh.cpu->visit_state(loader);
        BOOST_TEST(!loader.ok());
    }
    // Flipped bits either fail or load a state the CPU can run from.
    for (unsigned round = 0; round < 100; ++round) {
        auto bad = good;
        bad[(round * 7919u) % bad.size()] ^= static_cast<u8>(1u << (round % 8));
        auto loader = StateVisitor::loader(bad);
        fresh.cpu->visit_state(loader);
        if (loader.ok()) (void)fresh.cpu->run(fresh.clock.now() + 2000);
    }
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
