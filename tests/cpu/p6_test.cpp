// SPDX-License-Identifier: GPL-2.0-or-later
// P6 additions: CMOVcc, CMPXCHG8B, RDMSR/WRMSR (TSC, SYSENTER MSRs,
// APIC_BASE, unknown MSRs), RDPMC and RDTSC permission, SYSENTER and
// SYSEXIT between rings 0 and 3, CPUID's family-6 profile, and the
// single-step trap (DR6.BS, and MOV SS holding it for one instruction).
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

namespace vsa::test {

namespace {

int run(TestMachine& m, std::string const& body) {
    return m.run_code(assemble("bits 32\norg 0x1000\n" + body));
}

constexpr u32 GDT = 0x20000;

void setup_rings(TestMachine& m) {
    m.enter_flat32();
    for (u32 i = 0; i < 0x100; i += 4)
        m.poke32(GDT + i, 0);
    set_desc(m, GDT, 0x08, 0, 0xFFFFF, 0x9B, 0xC);
    set_desc(m, GDT, 0x10, 0, 0xFFFFF, 0x93, 0xC);
    set_desc(m, GDT, 0x18, 0, 0xFFFFF, 0xFB, 0xC);
    set_desc(m, GDT, 0x20, 0, 0xFFFFF, 0xF3, 0xC);
    set_desc(m, GDT, 0x28, 0x21000, 0x67, 0x89, 0);
    m.cpu->set_gdtr(TableRegister{GDT, 0xFF});
    for (u32 i = 0; i < 0x68; i += 4)
        m.poke32(0x21000 + i, 0);
    m.poke32(0x21004, 0x9F000);
    m.poke32(0x21008, 0x10);
}

} // namespace

BOOST_AUTO_TEST_SUITE(p6)

BOOST_AUTO_TEST_CASE(cmov_and_cmpxchg8b) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    BOOST_TEST(run(m, "mov eax, 1\nmov ebx, 2\nmov ecx, 0x55\nmov edx, 0x66\n"
                      "cmp eax, eax\ncmovz ecx, ebx\ncmovnz edx, ebx\n"
                      "mov dword [0x3000], 0x77\ncmovz si, [0x3000]\ncmovl edi, [0x3000]\n") == -1);
    BOOST_TEST(m.cpu->ecx() == 2u);
    BOOST_TEST(m.cpu->edx() == 0x66u);
    BOOST_TEST((m.cpu->esi() & 0xFFFF) == 0x77u);
    BOOST_TEST(m.cpu->edi() == 0u);

    m.enter_flat32();
    m.poke32(0x3000, 0x3333'4444);
    m.poke32(0x3004, 0x1111'2222);
    BOOST_TEST(run(m, "mov eax, 0x33334444\nmov edx, 0x11112222\nmov ebx, 0xaaaa\nmov ecx, 0xbbbb\n"
                      "lock cmpxchg8b [0x3000]\nsetz [0x3100]\n"
                      "mov eax, 1\nmov edx, 2\ncmpxchg8b [0x3000]\nsetz [0x3101]\n") == -1);
    BOOST_TEST(m.peek8(0x3100) == 1u);
    BOOST_TEST(m.peek8(0x3101) == 0u);
    BOOST_TEST(m.peek32(0x3000) == 0xAAAAu);
    BOOST_TEST(m.peek32(0x3004) == 0xBBBBu);
    BOOST_TEST(m.cpu->eax() == 0xAAAAu); // loaded on the mismatch
    BOOST_TEST(m.cpu->edx() == 0xBBBBu);
    // The register form is #UD.
    BOOST_TEST(run(m, "db 0x0f, 0xc7, 0xc8\n") == VEC_UD);
}

// The hint-NOP space 0F 18..0F 1F: multi-byte NOPs (0F 1F /0) and ENDBR32
// (F3 0F 1E FB) run as NOPs and never touch their memory operand, which
// here points at an unmapped address. Debian's static glibc starts with
// ENDBR32: without this the CPU oracle died of SIGILL.
BOOST_AUTO_TEST_CASE(hint_nops) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    BOOST_TEST(run(m, "mov eax, 7\ndb 0xF3, 0x0F, 0x1E, 0xFB\n"
                      "nop dword [eax + eax * 1 + 0x7FFFFFF0]\nnop word [0xFFFFFFF0]\n"
                      "db 0x0F, 0x18, 0x00\ndb 0x0F, 0x1F, 0x44, 0x00, 0x00\ninc eax\n") == -1);
    BOOST_TEST(m.cpu->eax() == 8u);
}

BOOST_AUTO_TEST_CASE(msrs_rdpmc_rdtsc) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    BOOST_TEST(
        run(m, "mov ecx, 0x10\nxor edx, edx\nmov eax, 0x100000\nwrmsr\nrdmsr\nmov esi, eax\nmov edi, edx\n"
               "mov ecx, 0x175\nmov eax, 0x12345678\nwrmsr\nxor eax, eax\nrdmsr\nmov ebp, eax\n"
               "mov ecx, 0x1b\nrdmsr\nmov ebx, eax\nor ebx, edx\n") == -1);
    BOOST_TEST(m.cpu->esi() >= 0x100000u);
    BOOST_TEST(m.cpu->esi() < 0x110000u);
    BOOST_TEST(m.cpu->edi() == 0u);
    BOOST_TEST(m.cpu->ebp() == 0x1234'5678u);
    BOOST_TEST(m.cpu->ebx() == 0u); // no APIC enabled
    BOOST_TEST(run(m, "mov ecx, 0x1234\nrdmsr\n") == VEC_GP);
    BOOST_TEST(run(m, "mov ecx, 0x1234\nwrmsr\n") == VEC_GP);
    BOOST_TEST(run(m, "mov ecx, 0x1b\nmov eax, 0x800\nxor edx, edx\nwrmsr\n") == VEC_GP);
    BOOST_TEST(run(m, "mov ecx, 0x8b\nxor eax, eax\nxor edx, edx\nwrmsr\nrdmsr\n") == -1);
    BOOST_TEST(run(m, "xor ecx, ecx\nrdpmc\n") == -1);
    BOOST_TEST(run(m, "mov ecx, 2\nrdpmc\n") == VEC_GP);

    // Ring 3: RDMSR is privileged, RDPMC needs CR4.PCE, RDTSC fails with TSD.
    std::string const to_ring3 = "mov ax, 0x28\nltr ax\npush dword 0x23\npush dword 0x70000\npush dword 2\n"
                                 "push dword 0x1b\npush dword r3\niretd\nr3:\n";
    setup_rings(m);
    BOOST_TEST(run(m, to_ring3 + "rdtsc\nxor ecx, ecx\nrdpmc\n") == VEC_GP);
    setup_rings(m);
    m.cpu->set_cr(4, CR4_PCE);
    BOOST_TEST(run(m, to_ring3 + "xor ecx, ecx\nrdpmc\nmov ecx, 0x10\nrdmsr\n") == VEC_GP);
    u32 at = m.peek32(0x9F000 - 20); // the #GP is at RDMSR: RDPMC ran
    BOOST_TEST(m.peek8(at) == 0x0Fu);
    BOOST_TEST(m.peek8(at + 1) == 0x32u);
    setup_rings(m);
    m.cpu->set_cr(4, CR4_TSD);
    BOOST_TEST(run(m, to_ring3 + "rdtsc\n") == VEC_GP);
}

BOOST_AUTO_TEST_CASE(sysenter_and_sysexit) {
    TestMachine m(4 * MiB);
    setup_rings(m);
    auto prog = assemble("bits 32\norg 0x1000\n"
                         "mov ecx, 0x174\nmov eax, 0x08\nxor edx, edx\nwrmsr\n"
                         "mov ecx, 0x175\nmov eax, 0x9e000\nwrmsr\n"
                         "mov ecx, 0x176\nmov eax, kernel\nwrmsr\n"
                         "mov ecx, 0x70000\nmov edx, user\n"
                         "sysexit\n"
                         "user:\n"
                         "mov esi, cs\nmov edi, ss\nmov ebx, esp\n"
                         "sysenter\n"
                         "kernel:\n"
                         "mov ebp, cs\nmov eax, ss\nhlt\n");
    m.load(0x1000, prog);
    m.cpu->set_eip(0x1000);
    BOOST_REQUIRE(m.run_until_halt(1'000'000).reason == ExitReason::Halted);
    BOOST_TEST(m.cpu->esi() == 0x1Bu);
    BOOST_TEST(m.cpu->edi() == 0x23u);
    BOOST_TEST(m.cpu->ebx() == 0x70000u);
    BOOST_TEST(m.cpu->ebp() == 0x08u);
    BOOST_TEST(m.cpu->eax() == 0x10u);
    BOOST_TEST(m.cpu->esp() == 0x9E000u);
    BOOST_TEST(m.cpu->cpl() == 0u);
    // SYSENTER with SYSENTER_CS = 0, and SYSEXIT at ring 3: #GP(0).
    setup_rings(m);
    BOOST_TEST(run(m, "sysenter\n") == VEC_GP);
}

BOOST_AUTO_TEST_CASE(cpuid_family6_profile) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    BOOST_TEST(run(m, "mov eax, 1\ncpuid\n") == -1);
    BOOST_TEST(m.cpu->eax() == 0x633u);
    u32 edx = m.cpu->edx();
    for (unsigned bit : {1u, 3u, 4u, 5u, 8u, 11u, 13u, 15u})
        BOOST_TEST((edx >> bit & 1) == 1u);
    // No DE, PAE, MCE, APIC, MTRR, PAT, MMX, FXSR, SSE.
    for (unsigned bit : {2u, 6u, 7u, 9u, 12u, 14u, 16u, 23u, 24u, 25u})
        BOOST_TEST((edx >> bit & 1) == 0u);
}

BOOST_AUTO_TEST_CASE(cpuid_reports_the_tsc_frequency_in_leaf_15h) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    BOOST_TEST(run(m, "xor eax, eax\ncpuid\n") == -1);
    BOOST_TEST(m.cpu->eax() == 0x15u);
    BOOST_TEST(m.cpu->ebx() == 0x756E'6547u); // "Genu"
    // TSC Hz = ECX * EBX / EAX = 1 GHz: the counter counts virtual ns.
    BOOST_TEST(run(m, "mov eax, 0x15\ncpuid\n") == -1);
    BOOST_TEST(m.cpu->eax() == 1u);
    BOOST_TEST(m.cpu->ebx() == 1u);
    BOOST_TEST(m.cpu->ecx() == 1'000'000'000u);
    // Leaf 2: one call, no descriptors; leaves 3..14h: zero (leaf 4: no
    // cache parameters, leaf 7: no structured features, 0Bh: no topology).
    BOOST_TEST(run(m, "mov eax, 2\ncpuid\n") == -1);
    BOOST_TEST(m.cpu->eax() == 1u);
    BOOST_TEST((m.cpu->ebx() | m.cpu->ecx() | m.cpu->edx()) == 0u);
    for (u32 leaf : {3u, 4u, 7u, 0xBu, 0xDu, 0x14u}) {
        m.enter_flat32();
        BOOST_TEST(run(m, "mov eax, " + std::to_string(leaf) + "\ncpuid\n") == -1);
        BOOST_TEST((m.cpu->eax() | m.cpu->ebx() | m.cpu->ecx() | m.cpu->edx()) == 0u);
    }
    // Above the maximum, extended leaves included: the highest basic leaf,
    // whose EAX (1) tells the guest there are no extended leaves.
    m.enter_flat32();
    BOOST_TEST(run(m, "mov eax, 0x80000000\ncpuid\n") == -1);
    BOOST_TEST(m.cpu->eax() == 1u);
    BOOST_TEST(m.cpu->ecx() == 1'000'000'000u);
}

BOOST_AUTO_TEST_CASE(single_step_sets_bs_and_waits_after_mov_ss) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    m.cpu->set_dr(6, 0xFFFF'0FF0);
    // POPFD sets TF: the NOP after it traps.
    BOOST_TEST(run(m, "pushfd\nor dword [esp], 0x100\npopfd\nnop\nnop\n") == VEC_DB);
    BOOST_TEST(m.peek32(0x7FF4) == 0x1000u + 1 + 7 + 1 + 1);
    BOOST_TEST((m.cpu->dr(6) & DR6_BS) != 0u);
    // After MOV SS the trap is held through the next instruction.
    m.enter_flat32();
    m.poke32(0x2000, 0x10);
    BOOST_TEST(run(m, "pushfd\nor dword [esp], 0x100\npopfd\nmov ss, [0x2000]\nnop\nnop\n") == VEC_DB);
    BOOST_TEST(m.peek32(0x7FF4) == 0x1000u + 1 + 7 + 1 + 6 + 1);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
