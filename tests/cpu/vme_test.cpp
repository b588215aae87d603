// SPDX-License-Identifier: GPL-2.0-or-later
// The virtual-8086 mode extensions (CR4.VME) and protected-mode virtual
// interrupts (CR4.PVI), SDM vol. 3, 20.3 and 20.4: the six ways INT n
// leaves (or stays in) V86 mode (table 20-2, VME x IOPL x redirection
// bit), CLI/STI/PUSHF/POPF/IRET working on VIF, STI and POPF/IRET with
// VIP set faulting, INT3/INTO never redirected nor IOPL-checked, hardware
// interrupts ignoring VIF, PVI at CPL 3, the flag rules of POPFD/IRETD
// outside V86 mode, CPUID, and the saved state.
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

namespace vsa::test {

namespace {

constexpr u32 GDT = 0x20000;
constexpr u32 TSS = 0x21000;
constexpr u32 ESP0 = 0x9F000;
// I/O map base of the TSS: the redirection bitmap is TSS+0x68..0x87.
constexpr u32 IO_MAP = 0x88;
constexpr u32 V86_CODE = 0x7000;    // CS 0700, IP 0
constexpr u32 V86_HANDLER = 0x9000; // CS 0900, IP 0 (the 8086 program's INT handler)
constexpr u32 V86_DATA = 0x7000;    // DS 0700
constexpr u32 VM_IF = FLAG_VM | FLAG_IF | FLAG_FIXED1;

void setup(TestMachine& m, u32 cr4) {
    m.enter_flat32();
    for (u32 i = 0; i < 0x100; i += 4)
        m.poke32(GDT + i, 0);
    set_desc(m, GDT, 0x08, 0, 0xFFFFF, 0x9B, 0xC); // ring-0 code
    set_desc(m, GDT, 0x10, 0, 0xFFFFF, 0x93, 0xC); // ring-0 data
    set_desc(m, GDT, 0x18, 0, 0xFFFFF, 0xFB, 0xC); // ring-3 code
    set_desc(m, GDT, 0x20, 0, 0xFFFFF, 0xF3, 0xC); // ring-3 data
    set_desc(m, GDT, 0x28, TSS, IO_MAP, 0x89, 0);  // 32-bit TSS up to the I/O map base
    m.cpu->set_gdtr(TableRegister{GDT, 0xFF});
    for (u32 i = 0; i < 0x100; i += 4)
        m.poke32(TSS + i, 0);
    m.poke32(TSS + 4, ESP0);
    m.poke32(TSS + 8, 0x10);
    m.poke32(TSS + 0x64, IO_MAP << 16);
    m.cpu->set_cr(4, cr4);
}

// Fills the redirection bitmap with `fill` and gives `vector` the bit
// `bit` (so a wrong bit index shows).
void set_redirection(TestMachine& m, u8 fill, u8 vector, bool bit) {
    for (u32 i = 0; i < 32; ++i)
        m.memory->ram()[TSS + 0x68 + i] = fill;
    u8& b = m.memory->ram()[TSS + 0x68 + vector / 8];
    b = static_cast<u8>(bit ? (b | (1u << (vector % 8))) : (b & ~(1u << (vector % 8))));
}

void set_ivt(TestMachine& m, u8 vector, u16 cs, u16 ip) {
    m.poke32(u32(vector) * 4, (u32(cs) << 16) | ip);
}

// Where the run stopped: the vector whose halt stub it reached (-1: a
// plain HLT) and the frame the ring-0 handler got.
struct Stop {
    int vector{-1};
    u32 error{0};
    u32 eip{0};
    u32 cs{0};
    u32 eflags{0};
    u32 esp{0};
};

int stopped_vector(TestMachine& m) {
    u32 eip = m.cpu->eip();
    if (eip > TestMachine::EXCEPTION_HALTS && eip <= TestMachine::EXCEPTION_HALTS + 256)
        return static_cast<int>(eip - TestMachine::EXCEPTION_HALTS - 1);
    return -1;
}

// Runs again from 0x1000 in ring 0 after an earlier run stopped in a
// handler: a fresh ring-0 stack, no stale frame where the next exit puts
// its own, and the TSS available again for LTR.
void prepare_ring0_start(TestMachine& m) {
    for (u32 a = ESP0 - 64; a < ESP0; a += 4)
        m.poke32(a, 0);
    m.memory->ram()[GDT + 0x28 + 5] = 0x89;
    m.cpu->set_esp(0x9E000);
    m.cpu->set_eip(0x1000);
    m.cpu->set_halted(false);
}

// IRETD from ring 0 into V86 mode at 0700:0000 with SS:SP 0800:0100 and
// DS 0700, EFLAGS `eflags`; the V86 program is `v86` (16-bit source).
// Every exit from V86 mode lands on a halt stub; its frame is read back
// (GS FS DS ES SS ESP EFLAGS CS EIP and the error code, if any).
Stop run_v86(TestMachine& m, std::string const& v86, u32 eflags) {
    auto entry = assemble("bits 32\norg 0x1000\nmov ax, 0x28\nltr ax\n"
                          "push dword 0\npush dword 0\npush dword 0x0700\npush dword 0\n"
                          "push dword 0x0800\npush dword 0x0100\npush dword " +
                          std::to_string(eflags) + "\npush dword 0x0700\npush dword 0\niretd\n");
    m.load(0x1000, entry);
    m.load(V86_CODE, assemble("bits 16\norg 0\n" + v86));
    prepare_ring0_start(m);
    BOOST_REQUIRE(m.run_until_halt(1'000'000).reason == ExitReason::Halted);
    Stop s;
    s.vector = stopped_vector(m);
    s.error = m.peek32(ESP0 - 40);
    s.eip = m.peek32(ESP0 - 36);
    s.cs = m.peek32(ESP0 - 32);
    s.eflags = m.peek32(ESP0 - 28);
    s.esp = m.peek32(ESP0 - 24);
    return s;
}

// The offset of the instruction after 16-bit `prefix` (where a fault in
// the next one is reported).
u32 offset_after(std::string const& prefix) {
    return static_cast<u32>(assemble("bits 16\norg 0\n" + prefix).size());
}

// IRETD from ring 0 to ring 3 (CS 1B, SS 23, ESP 0x8000) at the 32-bit
// `user` code, EFLAGS `eflags`. Pushes are `strict` so that the code's
// length does not depend on the values.
std::string ring3_source(std::string const& user, u32 eflags) {
    return "bits 32\norg 0x1000\nmov ax, 0x28\nltr ax\npush strict dword 0x23\npush strict dword 0x8000\n"
           "push strict dword " +
           std::to_string(eflags) + "\npush strict dword 0x1B\npush strict dword user\niretd\nuser:\n" + user;
}

// Runs `user` at ring 3; the ring-0 frame of the exit is read back (SS
// ESP EFLAGS CS EIP and the error code).
Stop run_ring3(TestMachine& m, std::string const& user, u32 eflags) {
    m.load(0x1000, assemble(ring3_source(user, eflags)));
    prepare_ring0_start(m);
    BOOST_REQUIRE(m.run_until_halt(1'000'000).reason == ExitReason::Halted);
    Stop s;
    s.vector = stopped_vector(m);
    s.error = m.peek32(ESP0 - 24);
    s.eip = m.peek32(ESP0 - 20);
    s.cs = m.peek32(ESP0 - 16);
    s.eflags = m.peek32(ESP0 - 12);
    s.esp = m.peek32(ESP0 - 8);
    return s;
}

// The address of the ring-3 instruction after `prefix`.
u32 user_offset(std::string const& prefix) {
    return 0x1000 + static_cast<u32>(assemble(ring3_source(prefix, 0)).size());
}

u32 iopl(u32 level) {
    return level << 12;
}

} // namespace

BOOST_AUTO_TEST_SUITE(vme)

BOOST_AUTO_TEST_CASE(cpuid_advertises_vme_and_cr4_takes_vme_and_pvi) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    BOOST_TEST(m.run_code(assemble("bits 32\norg 0x1000\nmov eax, 1\ncpuid\nmov ecx, cr4\nor ecx, 3\n"
                                   "mov cr4, ecx\nmov esi, cr4\n")) == -1);
    BOOST_TEST((m.cpu->edx() & 2u) == 2u);
    BOOST_TEST((m.cpu->esi() & 3u) == 3u);
}

// Table 20-2 with INT 21h; the frame shows where each method went.
BOOST_AUTO_TEST_CASE(int_n_follows_the_six_methods) {
    struct Case {
        int method;
        bool vme;
        u32 iopl;
        bool bit;
    };
    Case const cases[] = {
        {1, false, 3, false}, {1, false, 3, true}, {2, false, 0, false}, {2, false, 2, true},
        {3, true, 0, true},   {3, true, 1, true},  {4, true, 3, true},   {5, true, 3, false},
        {6, true, 0, false},  {6, true, 2, false},
    };
    // The 8086 program's handler saves the FLAGS image it was called with
    // and the FLAGS it runs with (PUSHF: real at IOPL 3, virtual below),
    // then returns with IRET.
    std::string const handler = "bits 16\norg 0\nmov bp, sp\nmov ax, [ss:bp+4]\nmov [0x300], ax\n"
                                "pushf\npop word [0x302]\nmov word [0x304], 0x1111\niret\n";
    for (Case const& c : cases) {
        BOOST_TEST_CONTEXT("method " << c.method << " vme " << c.vme << " iopl " << c.iopl << " bit "
                                     << c.bit) {
            TestMachine m(4 * MiB);
            setup(m, c.vme ? CR4_VME : 0);
            set_redirection(m, c.bit ? 0x00 : 0xFF, 0x21, c.bit);
            set_gate(m, 0x5000, 0x21 * 8, 0x08, TestMachine::EXCEPTION_HALTS + 0x21, 0xEE);
            set_ivt(m, 0x21, 0x0900, 0);
            m.load(V86_HANDLER, assemble(handler));
            // At IOPL 3 the real IF is on; below, IF is off and VIF on, so
            // the image shows which one it copied.
            u32 flags = FLAG_VM | FLAG_FIXED1 | iopl(c.iopl) | (c.iopl == 3 ? FLAG_IF : FLAG_VIF);
            Stop s = run_v86(m, "int 0x21\nmov bx, 0x5678\nhlt\n", flags);
            u32 hlt_at = offset_after("int 0x21\nmov bx, 0x5678\n");
            switch (c.method) {
            case 1:
            case 4:
                BOOST_TEST(s.vector == 0x21);
                BOOST_TEST(s.eip == 2u); // after INT 21h
                BOOST_TEST((s.eflags & FLAG_VM) != 0u);
                break;
            case 2:
            case 3:
                BOOST_TEST(s.vector == VEC_GP);
                BOOST_TEST(s.error == 0u);
                BOOST_TEST(s.eip == 0u); // the INT itself
                BOOST_TEST(m.peek32(V86_DATA + 0x304) == 0u);
                break;
            case 5:
            case 6:
                // Through the IVT and back, still in V86 mode: HLT traps.
                BOOST_TEST(s.vector == VEC_GP);
                BOOST_TEST(s.eip == hlt_at);
                BOOST_TEST((m.cpu->ebx() & 0xFFFF) == 0x5678u);
                BOOST_TEST((m.peek32(V86_DATA + 0x304) & 0xFFFF) == 0x1111u);
                BOOST_TEST(s.esp == 0x100u);
                break;
            }
            u32 image = m.peek32(V86_DATA + 0x300) & 0xFFFF;
            u32 inside = m.peek32(V86_DATA + 0x302) & 0xFFFF;
            if (c.method == 5) {
                BOOST_TEST((image & (FLAG_IF | FLAG_IOPL)) == (FLAG_IF | FLAG_IOPL)); // the real IF
                BOOST_TEST((inside & (FLAG_IF | FLAG_TF)) == 0u);                     // IF cleared
                BOOST_TEST((s.eflags & FLAG_IF) != 0u);                               // IRET restored it
            }
            if (c.method == 6) {
                BOOST_TEST((image & FLAG_IF) != 0u);          // VIF copied into IF
                BOOST_TEST((image & FLAG_IOPL) == FLAG_IOPL); // IOPL shown as 3
                BOOST_TEST((inside & FLAG_IF) == 0u);         // VIF cleared
                BOOST_TEST((s.eflags & FLAG_VIF) != 0u);      // IRET: IF of the image to VIF
                BOOST_TEST((s.eflags & FLAG_IF) == 0u);       // the real IF never moved
                BOOST_TEST((s.eflags & FLAG_IOPL) == iopl(c.iopl));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(redirection_clears_tf) {
    TestMachine m(4 * MiB);
    setup(m, CR4_VME);
    set_redirection(m, 0x00, 0x21, false);
    set_ivt(m, 0x21, 0x0900, 0);
    // The handler stops at once: HLT traps, and the frame shows its flags.
    m.load(V86_HANDLER, assemble("bits 16\nhlt\n"));
    Stop s = run_v86(m, "int 0x21\n", FLAG_VM | FLAG_FIXED1 | FLAG_VIF | FLAG_TF);
    // HLT's #GP, or the single-step trap of INT n if it comes first: either
    // way the handler's first instruction, with TF and VIF clear.
    BOOST_TEST((s.vector == VEC_GP || s.vector == VEC_DB));
    BOOST_TEST(s.cs == 0x0900u);
    BOOST_TEST(s.eip == 0u);
    BOOST_TEST((s.eflags & (FLAG_TF | FLAG_VIF)) == 0u);
    BOOST_TEST(s.esp == 0x100u - 6);
    // The pushed image: TF and VIF (as IF) as they were, IOPL 3; CS, IP.
    BOOST_TEST((m.peek32(0x8100 - 2) & 0xFFFF) == (FLAG_TF | FLAG_IF | FLAG_IOPL | FLAG_FIXED1));
    BOOST_TEST((m.peek32(0x8100 - 4) & 0xFFFF) == 0x0700u);
    BOOST_TEST((m.peek32(0x8100 - 6) & 0xFFFF) == 2u);
}

// A TSS without room for the bitmap (map base below 32, or a limit short
// of the bitmap byte) makes INT n #GP(0) under VME, even at IOPL 3.
BOOST_AUTO_TEST_CASE(redirection_bitmap_outside_the_tss_is_gp) {
    for (int variant = 0; variant < 2; ++variant) {
        TestMachine m(4 * MiB);
        setup(m, CR4_VME);
        set_gate(m, 0x5000, 0x21 * 8, 0x08, TestMachine::EXCEPTION_HALTS + 0x21, 0xEE);
        if (variant == 0)
            m.poke32(TSS + 0x64, 0x10u << 16);
        else
            set_desc(m, GDT, 0x28, TSS, 0x69, 0x89, 0); // bitmap byte 4 is at 0x6C
        Stop s = run_v86(m, "int 0x21\n", VM_IF | iopl(3));
        BOOST_TEST(s.vector == VEC_GP);
        BOOST_TEST(s.error == 0u);
        BOOST_TEST(s.eip == 0u);
    }
    // Without VME the bitmap is never read.
    TestMachine m(4 * MiB);
    setup(m, 0);
    m.poke32(TSS + 0x64, 0x10u << 16);
    set_gate(m, 0x5000, 0x21 * 8, 0x08, TestMachine::EXCEPTION_HALTS + 0x21, 0xEE);
    BOOST_TEST(run_v86(m, "int 0x21\n", VM_IF | iopl(3)).vector == 0x21);
}

// INT3 (CC), INTO and INT1 are neither IOPL-sensitive nor redirected: the
// IDT gate's DPL decides. CD 03 is an INT n like any other.
BOOST_AUTO_TEST_CASE(int3_and_into_go_to_the_idt_at_any_iopl) {
    for (u32 cr4 : {0u, CR4_VME}) {
        BOOST_TEST_CONTEXT("cr4 " << cr4) {
            TestMachine m(4 * MiB);
            setup(m, cr4);
            set_redirection(m, 0x00, 3, false);
            set_ivt(m, 3, 0x0900, 0);
            set_ivt(m, 4, 0x0900, 0);
            m.load(V86_HANDLER, assemble("bits 16\nmov word [0x304], 0x2222\nhlt\n"));
            // DPL 0 gate: #GP with the IDT error code, not #GP(0).
            Stop s = run_v86(m, "int3\n", VM_IF);
            BOOST_TEST(s.vector == VEC_GP);
            BOOST_TEST(s.error == 3u * 8 + 2);
            set_gate(m, 0x5000, 3 * 8, 0x08, TestMachine::EXCEPTION_HALTS + 3, 0xEE);
            set_gate(m, 0x5000, 4 * 8, 0x08, TestMachine::EXCEPTION_HALTS + 4, 0xEE);
            s = run_v86(m, "int3\n", VM_IF);
            BOOST_TEST(s.vector == VEC_BP);
            BOOST_TEST(s.eip == 1u);
            s = run_v86(m, "mov al, 0x7f\nadd al, 1\ninto\n", VM_IF);
            BOOST_TEST(s.vector == VEC_OF);
            BOOST_TEST(s.eip == offset_after("mov al, 0x7f\nadd al, 1\ninto\n"));
            BOOST_TEST(m.peek32(V86_DATA + 0x304) == 0u);
            // INT1 (F1) takes the gate whatever its DPL.
            s = run_v86(m, "db 0xF1\n", VM_IF);
            BOOST_TEST(s.vector == VEC_DB);
            // CD 03: redirected under VME, #GP(0) without.
            s = run_v86(m, "db 0xCD, 0x03\n", VM_IF);
            BOOST_TEST(s.vector == VEC_GP);
            if (cr4) {
                BOOST_TEST(s.cs == 0x0900u);
                BOOST_TEST((m.peek32(V86_DATA + 0x304) & 0xFFFF) == 0x2222u);
            } else {
                BOOST_TEST(s.error == 0u);
                BOOST_TEST(s.eip == 0u);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(cli_sti_pushf_work_on_vif) {
    TestMachine m(4 * MiB);
    setup(m, CR4_VME);
    Stop s = run_v86(m, "cli\npushf\npop ax\nsti\npushf\npop bx\nhlt\n", VM_IF | FLAG_VIF);
    BOOST_TEST(s.vector == VEC_GP);
    BOOST_TEST(s.eip == offset_after("cli\npushf\npop ax\nsti\npushf\npop bx\n"));
    BOOST_TEST((m.cpu->eax() & (FLAG_IF | FLAG_IOPL)) == FLAG_IOPL); // VIF 0, IOPL shown as 3
    BOOST_TEST((m.cpu->ebx() & (FLAG_IF | FLAG_IOPL)) == (FLAG_IF | FLAG_IOPL));
    BOOST_TEST((s.eflags & (FLAG_IF | FLAG_VIF | FLAG_IOPL)) == (FLAG_IF | FLAG_VIF));
    // CLI clears VIF, leaving IF.
    s = run_v86(m, "cli\nhlt\n", VM_IF | FLAG_VIF | iopl(1));
    BOOST_TEST(s.eip == 1u);
    BOOST_TEST((s.eflags & (FLAG_IF | FLAG_VIF)) == FLAG_IF);
    // Without VME, or as PUSHFD, they trap.
    for (std::string prog : {"pushfd\n", "o32 popf\n"}) {
        s = run_v86(m, prog, VM_IF);
        BOOST_TEST(s.vector == VEC_GP);
        BOOST_TEST(s.eip == 0u);
    }
    setup(m, 0);
    for (std::string prog : {"cli\n", "sti\n", "pushf\n", "popf\n"}) {
        s = run_v86(m, prog, VM_IF | FLAG_VIF);
        BOOST_TEST(s.vector == VEC_GP);
        BOOST_TEST(s.eip == 0u);
        BOOST_TEST(s.error == 0u);
    }
    // At IOPL 3 with VME they use the real IF, and VIF stays.
    setup(m, CR4_VME);
    s = run_v86(m, "cli\npushf\npop ax\nhlt\n", VM_IF | FLAG_VIF | iopl(3));
    BOOST_TEST((m.cpu->eax() & FLAG_IF) == 0u);
    BOOST_TEST((s.eflags & (FLAG_IF | FLAG_VIF)) == FLAG_VIF);
}

// STI with VIP set is #GP(0), leaving VIF clear: the monitor's cue to
// deliver the interrupt it held back.
BOOST_AUTO_TEST_CASE(sti_with_vip_set_is_gp) {
    TestMachine m(4 * MiB);
    setup(m, CR4_VME);
    Stop s = run_v86(m, "cli\nsti\nhlt\n", VM_IF | FLAG_VIF | FLAG_VIP);
    BOOST_TEST(s.vector == VEC_GP);
    BOOST_TEST(s.error == 0u);
    BOOST_TEST(s.eip == 1u);
    BOOST_TEST((s.eflags & (FLAG_VIF | FLAG_VIP)) == FLAG_VIP);
    // Without VIP it runs on to HLT.
    s = run_v86(m, "cli\nsti\nhlt\n", VM_IF);
    BOOST_TEST(s.eip == 2u);
    BOOST_TEST((s.eflags & FLAG_VIF) != 0u);
}

BOOST_AUTO_TEST_CASE(popf_loads_if_into_vif) {
    TestMachine m(4 * MiB);
    setup(m, CR4_VME);
    std::string const prog = "push word 0x0201\npopf\npushf\npop bx\n"
                             "push word 0x0000\npopf\npushf\npop cx\nhlt\n";
    Stop s = run_v86(m, prog, VM_IF);
    BOOST_TEST(s.vector == VEC_GP);
    BOOST_TEST(s.eip == offset_after(prog.substr(0, prog.size() - 4)));
    BOOST_TEST((m.cpu->ebx() & (FLAG_IF | FLAG_IOPL | FLAG_CF)) == (FLAG_IF | FLAG_IOPL | FLAG_CF));
    BOOST_TEST((m.cpu->ecx() & (FLAG_IF | FLAG_IOPL | FLAG_CF)) == FLAG_IOPL);
    // IF and IOPL never moved.
    BOOST_TEST((s.eflags & (FLAG_IF | FLAG_VIF | FLAG_IOPL | FLAG_VM)) == (FLAG_IF | FLAG_VM));
    BOOST_TEST(s.esp == 0x100u);

    // TF in the image, or IF while VIP is set: #GP(0) with SP unchanged.
    s = run_v86(m, "push word 0x0100\npopf\n", VM_IF);
    BOOST_TEST(s.vector == VEC_GP);
    BOOST_TEST(s.eip == offset_after("push word 0x0100\n"));
    BOOST_TEST(s.esp == 0xFEu);
    BOOST_TEST((s.eflags & FLAG_TF) == 0u);
    s = run_v86(m, "push word 0x0200\npopf\n", VM_IF | FLAG_VIP);
    BOOST_TEST(s.eip == offset_after("push word 0x0200\n"));
    BOOST_TEST(s.esp == 0xFEu);
    BOOST_TEST((s.eflags & FLAG_VIF) == 0u);
    // IF clear with VIP set is fine.
    s = run_v86(m, "push word 0x0001\npopf\nhlt\n", VM_IF | FLAG_VIP | FLAG_VIF);
    BOOST_TEST(s.eip == offset_after("push word 0x0001\npopf\n"));
    BOOST_TEST((s.eflags & (FLAG_VIF | FLAG_VIP | FLAG_CF)) == (FLAG_VIP | FLAG_CF));
}

BOOST_AUTO_TEST_CASE(iret_loads_if_into_vif) {
    TestMachine m(4 * MiB);
    setup(m, CR4_VME);
    std::string const prog = "push word 0x0200\npush cs\npush word back\niret\nback:\npushf\npop ax\nhlt\n";
    Stop s = run_v86(m, prog, FLAG_VM | FLAG_FIXED1);
    BOOST_TEST(s.vector == VEC_GP);
    BOOST_TEST(s.eip ==
               offset_after("push word 0x0200\npush cs\npush word back\niret\nback:\npushf\npop ax\n"));
    BOOST_TEST((m.cpu->eax() & (FLAG_IF | FLAG_IOPL)) == (FLAG_IF | FLAG_IOPL));
    BOOST_TEST((s.eflags & (FLAG_IF | FLAG_VIF)) == FLAG_VIF);
    BOOST_TEST(s.esp == 0x100u);

    // TF in the image, IF while VIP is set, and IRETD: #GP(0) before
    // anything moves.
    struct Bad {
        std::string image;
        u32 flags;
        bool op32;
    };
    for (Bad const& b : {Bad{"0x0100", 0, false}, Bad{"0x0200", FLAG_VIP, false}, Bad{"0x0000", 0, true}}) {
        std::string head = b.op32 ? "push dword 0\npush dword 0x0900\npush dword 0\n"
                                  : "push word " + b.image + "\npush word 0x0900\npush word 0\n";
        s = run_v86(m, head + (b.op32 ? "iretd\n" : "iret\n"), VM_IF | b.flags);
        BOOST_TEST(s.vector == VEC_GP);
        BOOST_TEST(s.error == 0u);
        BOOST_TEST(s.eip == offset_after(head));
        BOOST_TEST(s.cs == 0x0700u);
        BOOST_TEST(s.esp == (b.op32 ? 0x100u - 12 : 0x100u - 6));
    }
    // Without VME: #GP(0) as before.
    setup(m, 0);
    s = run_v86(m, "push word 0\npush word 0x0900\npush word 0\niret\n", VM_IF);
    BOOST_TEST(s.vector == VEC_GP);
    BOOST_TEST(s.eip == offset_after("push word 0\npush word 0x0900\npush word 0\n"));
}

// VIF masks nothing: INTR still goes to the IDT while the program has
// "disabled" interrupts, and the monitor finds VIF in the frame.
BOOST_AUTO_TEST_CASE(hardware_interrupts_ignore_vif) {
    TestMachine m(4 * MiB);
    setup(m, CR4_VME);
    m.interrupts.pending.push_back(0x30);
    Stop s = run_v86(m, "nop\nnop\nhlt\n", VM_IF);
    BOOST_TEST(s.vector == 0x30);
    BOOST_TEST(s.eip == 0u);
    BOOST_TEST((s.eflags & (FLAG_VM | FLAG_IF | FLAG_VIF)) == (FLAG_VM | FLAG_IF));
    BOOST_TEST(m.interrupts.acknowledged == 1u);
}

// PVI: CLI/STI at CPL 3 with IOPL < 3 change VIF; POPF is unaffected.
BOOST_AUTO_TEST_CASE(pvi_cli_sti_at_cpl3) {
    std::string const user = "cli\npushfd\npop eax\nsti\npushfd\npop ebx\n"
                             "push dword 0\npopfd\npushfd\npop ecx\nhlt\n";
    u32 const base = FLAG_IF | FLAG_FIXED1;
    {
        TestMachine m(4 * MiB);
        setup(m, CR4_PVI);
        Stop s = run_ring3(m, user, base | FLAG_VIF);
        BOOST_TEST(s.vector == VEC_GP);
        BOOST_TEST(s.cs == 0x1Bu);
        BOOST_TEST(s.eip == user_offset(user.substr(0, user.size() - 4)));
        BOOST_TEST((m.cpu->eax() & (FLAG_IF | FLAG_VIF)) == FLAG_IF);
        BOOST_TEST((m.cpu->ebx() & (FLAG_IF | FLAG_VIF)) == (FLAG_IF | FLAG_VIF));
        // POPFD at CPL 3 > IOPL: IF and VIF stay.
        BOOST_TEST((m.cpu->ecx() & (FLAG_IF | FLAG_VIF)) == (FLAG_IF | FLAG_VIF));
        BOOST_TEST((s.eflags & (FLAG_IF | FLAG_VIF)) == (FLAG_IF | FLAG_VIF));
    }
    {
        // STI with VIP: #GP(0).
        TestMachine m(4 * MiB);
        setup(m, CR4_PVI);
        Stop s = run_ring3(m, user, base | FLAG_VIP);
        BOOST_TEST(s.vector == VEC_GP);
        BOOST_TEST(s.error == 0u);
        BOOST_TEST(s.eip == user_offset("cli\npushfd\npop eax\n"));
    }
    {
        // IOPL 3: the real IF, VIF untouched.
        TestMachine m(4 * MiB);
        setup(m, CR4_PVI);
        Stop s = run_ring3(m, user, base | iopl(3) | FLAG_VIF);
        BOOST_TEST((m.cpu->eax() & (FLAG_IF | FLAG_VIF)) == FLAG_VIF);
        BOOST_TEST((m.cpu->ebx() & (FLAG_IF | FLAG_VIF)) == (FLAG_IF | FLAG_VIF));
        BOOST_TEST(s.eip == user_offset(user.substr(0, user.size() - 4)));
    }
    for (u32 cr4 : {0u, CR4_VME}) {
        // Without PVI (VME alone does nothing outside V86 mode): #GP(0).
        TestMachine m(4 * MiB);
        setup(m, cr4);
        Stop s = run_ring3(m, user, base | FLAG_VIF);
        BOOST_TEST(s.vector == VEC_GP);
        BOOST_TEST(s.eip == user_offset(""));
    }
    {
        // PVI below CPL 3 changes nothing: CPL 0 uses IF.
        TestMachine m(4 * MiB);
        setup(m, CR4_PVI);
        m.cpu->set_eflags(FLAG_IF | FLAG_VIF);
        BOOST_TEST(m.run_code(assemble("bits 32\norg 0x1000\ncli\npushfd\npop eax\n")) == -1);
        BOOST_TEST((m.cpu->eax() & (FLAG_IF | FLAG_VIF)) == FLAG_VIF);
    }
}

// Outside V86 mode: POPF never changes VIF/VIP, IRETD at CPL 0 loads
// them, real-mode IRETD and 16-bit IRET keep them.
BOOST_AUTO_TEST_CASE(vif_vip_through_popfd_and_iretd) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    BOOST_TEST(m.run_code(assemble(
                   "bits 32\norg 0x1000\npush dword 0x180002\npopfd\npushfd\npop eax\n"
                   "push dword 0x180002\npush cs\npush dword back\niretd\nback:\n"
                   "pushfd\npop ebx\npush dword 2\npopfd\npushfd\npop ecx\n"
                   "push word 0\no16 push cs\npush word back2\niretw\nback2:\npushfd\npop edx\n")) == -1);
    BOOST_TEST((m.cpu->eax() & (FLAG_VIF | FLAG_VIP)) == 0u);
    BOOST_TEST((m.cpu->ebx() & (FLAG_VIF | FLAG_VIP)) == (FLAG_VIF | FLAG_VIP));
    BOOST_TEST((m.cpu->ecx() & (FLAG_VIF | FLAG_VIP)) == (FLAG_VIF | FLAG_VIP));
    BOOST_TEST((m.cpu->edx() & (FLAG_VIF | FLAG_VIP)) == (FLAG_VIF | FLAG_VIP));

    // Real mode: IRETD keeps VIF/VIP (mask 1A0000h of the SDM).
    TestMachine r(4 * MiB);
    r.cpu->set_segment_real(SEG_CS, 0);
    r.cpu->set_segment_real(SEG_SS, 0);
    r.cpu->set_esp(0x8000);
    r.cpu->set_eflags(FLAG_VIF);
    r.load(0x1000, assemble("bits 16\norg 0x1000\npush dword 0x100002\npush dword 0\npush dword back\n"
                            "iretd\nback:\npushfd\npop eax\nhlt\n"));
    r.cpu->set_eip(0x1000);
    BOOST_REQUIRE(r.run_until_halt(100'000).reason == ExitReason::Halted);
    BOOST_TEST((r.cpu->eax() & (FLAG_VIF | FLAG_VIP)) == FLAG_VIF);
}

// A V86 task entered by a task switch takes VIF/VIP from its TSS, and
// VME applies to it at once.
BOOST_AUTO_TEST_CASE(task_switch_into_v86_loads_vif) {
    TestMachine m(4 * MiB);
    setup(m, CR4_VME);
    // A second, V86 TSS at 0x22000: EIP 0, EFLAGS VM|VIF|IOPL 0, CS 0700,
    // SS 0800, ESP 0x100, DS 0700.
    constexpr u32 TSS2 = 0x22000;
    for (u32 i = 0; i < 0x100; i += 4)
        m.poke32(TSS2 + i, 0);
    m.poke32(TSS2 + 0x24, FLAG_VM | FLAG_VIF | FLAG_FIXED1);
    m.poke32(TSS2 + 0x38, 0x100);
    m.poke32(TSS2 + 0x4C, 0x0700);
    m.poke32(TSS2 + 0x50, 0x0800);
    m.poke32(TSS2 + 0x54, 0x0700);
    m.poke32(TSS2 + 0x64, IO_MAP << 16);
    m.poke32(TSS2 + 0x04, ESP0);
    m.poke32(TSS2 + 0x08, 0x10);
    set_desc(m, GDT, 0x30, TSS2, IO_MAP, 0x89, 0);
    m.load(V86_CODE, assemble("bits 16\npushf\npop ax\ncli\nhlt\n"));
    m.load(0x1000, assemble("bits 32\norg 0x1000\nmov ax, 0x28\nltr ax\njmp 0x30:0\n"));
    m.cpu->set_eip(0x1000);
    BOOST_REQUIRE(m.run_until_halt(100'000).reason == ExitReason::Halted);
    BOOST_TEST(stopped_vector(m) == VEC_GP);
    BOOST_TEST((m.cpu->eax() & (FLAG_IF | FLAG_IOPL)) == (FLAG_IF | FLAG_IOPL));
    BOOST_TEST((m.peek32(ESP0 - 28) & (FLAG_VM | FLAG_VIF)) == FLAG_VM);
}

BOOST_AUTO_TEST_CASE(state_round_trip_keeps_vme_state) {
    TestMachine m(4 * MiB);
    setup(m, CR4_VME | CR4_PVI | CR4_PSE);
    m.cpu->set_eflags(FLAG_IF | FLAG_VIF | FLAG_VIP);
    auto saver = StateVisitor::saver();
    m.cpu->visit_state(saver);
    BOOST_REQUIRE(saver.ok());
    auto first = saver.bytes();

    TestMachine fresh(4 * MiB);
    auto loader = StateVisitor::loader(first);
    fresh.cpu->visit_state(loader);
    BOOST_REQUIRE_MESSAGE(loader.ok(), loader.error());
    BOOST_TEST(loader.at_end());
    BOOST_TEST(fresh.cpu->cr4() == (CR4_VME | CR4_PVI | CR4_PSE));
    BOOST_TEST((fresh.cpu->eflags() & (FLAG_IF | FLAG_VIF | FLAG_VIP)) == (FLAG_IF | FLAG_VIF | FLAG_VIP));
    auto again = StateVisitor::saver();
    fresh.cpu->visit_state(again);
    BOOST_TEST(first == again.bytes());

    // A version-3 stream (same fields) loads with the bits a version-3
    // build could not have set cleared.
    BOOST_REQUIRE((first[0] == 0xA5 && first[1] == 6)); // section tag, "cpu486"
    BOOST_REQUIRE(first[8] == 4);
    auto old = first;
    old[8] = 3;
    TestMachine older(4 * MiB);
    auto old_loader = StateVisitor::loader(old);
    older.cpu->visit_state(old_loader);
    BOOST_REQUIRE_MESSAGE(old_loader.ok(), old_loader.error());
    BOOST_TEST(older.cpu->cr4() == CR4_PSE);
    BOOST_TEST((older.cpu->eflags() & (FLAG_IF | FLAG_VIF | FLAG_VIP)) == FLAG_IF);

    // A stream from a newer build is refused.
    auto newer = first;
    newer[8] = 5;
    auto new_loader = StateVisitor::loader(newer);
    older.cpu->visit_state(new_loader);
    BOOST_TEST(!new_loader.ok());
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
