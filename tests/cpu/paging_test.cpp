// SPDX-License-Identifier: GPL-2.0-or-later
// Paging (SDM vol. 3, chapter 4, 32-bit paging): page walks through 4 KiB
// and 4 MiB pages, #PF error codes and CR2 for not-present pages, writes
// to read-only pages with CR0.WP off and on, user accesses to supervisor
// pages, accessed/dirty bits, INVLPG and CR3 reloads against a stale TLB,
// data and instructions that cross into a missing page, and save -> load
// -> save with paging on. The programs are assembled with nasm at test
// time; the machine is TestMachine's flat 32-bit setup with the first
// 4 MiB identity-mapped by a page table at 0x11000.
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

#include <cstring>

namespace vsa::test {

namespace {

constexpr u32 PD = 0x10000;
constexpr u32 PT = 0x11000;
constexpr u32 P_RW_US = PTE_P | PTE_RW | PTE_US;

u32 pte_addr(u32 linear) {
    return PT + (linear >> 12) * 4;
}

// Flat 32-bit protected mode, paging on, identity map of 0..4 MiB (user,
// writable), nothing above.
void enter_paged(TestMachine& m, u32 extra_cr4 = 0) {
    m.enter_flat32();
    for (u32 i = 0; i < 1024; ++i)
        m.poke32(PD + i * 4, 0);
    m.poke32(PD, PT | P_RW_US);
    for (u32 i = 0; i < 1024; ++i)
        m.poke32(PT + i * 4, (i << 12) | P_RW_US);
    m.cpu->set_cr(4, extra_cr4);
    m.cpu->set_cr(3, PD);
    m.cpu->set_cr0(m.cpu->cr0() | CR0_PG);
}

int run(TestMachine& m, std::string const& body) {
    return m.run_code(assemble("bits 32\norg 0x1000\n" + body));
}

// The error code and faulting EIP of the exception just taken (32-bit
// gate, no privilege change: ESP was 0x8000).
u32 pushed_error(TestMachine& m) {
    return m.peek32(0x7FF0);
}
u32 pushed_eip(TestMachine& m) {
    return m.peek32(0x7FF4);
}

} // namespace

BOOST_AUTO_TEST_SUITE(paging)

BOOST_AUTO_TEST_CASE(identity_map_runs_and_sets_accessed_and_dirty) {
    TestMachine m(4 * MiB);
    enter_paged(m);
    m.poke32(0x200000, 0x1234'5678);
    BOOST_TEST(run(m, "mov eax, [0x200000]\nmov [0x201004], eax\n") == -1);
    BOOST_TEST(m.cpu->eax() == 0x1234'5678u);
    BOOST_TEST(m.peek32(0x201004) == 0x1234'5678u);
    // Read: A only. Write: A and D. The directory entry gets A.
    BOOST_TEST((m.peek32(pte_addr(0x200000)) & (PTE_A | PTE_D)) == PTE_A);
    BOOST_TEST((m.peek32(pte_addr(0x201000)) & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
    BOOST_TEST((m.peek32(PD) & PTE_A) != 0u);
    // Untouched pages stay clean.
    BOOST_TEST((m.peek32(pte_addr(0x300000)) & (PTE_A | PTE_D)) == 0u);
}

BOOST_AUTO_TEST_CASE(not_present_page_faults_with_cr2_and_error_code) {
    TestMachine m(4 * MiB);
    enter_paged(m);
    m.poke32(pte_addr(0x200000), 0x200000); // not present
    BOOST_TEST(run(m, "nop\nmov eax, [0x200010]\n") == VEC_PF);
    BOOST_TEST(m.cpu->cr2() == 0x200010u);
    BOOST_TEST(pushed_error(m) == 0u); // not present, read, supervisor
    BOOST_TEST(pushed_eip(m) == 0x1001u);

    enter_paged(m);
    m.poke32(pte_addr(0x200000), 0x200000);
    BOOST_TEST(run(m, "mov dword [0x200ff0], 1\n") == VEC_PF);
    BOOST_TEST(m.cpu->cr2() == 0x200FF0u);
    BOOST_TEST(pushed_error(m) == PF_W);

    // A missing page table (directory entry not present).
    enter_paged(m);
    BOOST_TEST(run(m, "mov eax, [0x00c00004]\n") == VEC_PF);
    BOOST_TEST(m.cpu->cr2() == 0x00C0'0004u);
    BOOST_TEST(pushed_error(m) == 0u);
}

BOOST_AUTO_TEST_CASE(read_only_page_with_wp_off_and_on) {
    TestMachine m(4 * MiB);
    enter_paged(m);
    m.poke32(pte_addr(0x200000), 0x200000 | PTE_P | PTE_US); // read-only
    // WP = 0: a supervisor write goes through.
    BOOST_TEST(run(m, "mov dword [0x200000], 0xabcd\n") == -1);
    BOOST_TEST(m.peek32(0x200000) == 0xABCDu);

    enter_paged(m);
    m.poke32(pte_addr(0x200000), 0x200000 | PTE_P | PTE_US);
    m.cpu->set_cr0(m.cpu->cr0() | CR0_WP);
    // WP = 1: #PF(P|W), and ADD's flags and memory stay as they were.
    BOOST_TEST(run(m, "mov eax, 1\ncmp eax, 2\nadd dword [0x200000], eax\n") == VEC_PF);
    BOOST_TEST(pushed_error(m) == (PF_P | PF_W));
    BOOST_TEST(m.cpu->cr2() == 0x200000u);
    BOOST_TEST(m.peek32(0x200000) == 0xABCDu);
    BOOST_TEST((m.peek32(0x7FFC) & FLAG_CF) != 0u); // CMP's borrow survived
    // The read-only directory entry also counts (both levels must allow).
    enter_paged(m);
    m.cpu->set_cr0(m.cpu->cr0() | CR0_WP);
    m.poke32(PD + 4, 0x12000 | PTE_P | PTE_US); // linear 4 MiB.., read-only
    m.poke32(0x12000, 0x200000 | P_RW_US);
    BOOST_TEST(run(m, "mov eax, [0x400000]\nmov dword [0x400000], 1\n") == VEC_PF);
    BOOST_TEST(m.cpu->cr2() == 0x400000u);
    BOOST_TEST(m.cpu->eax() == 0xABCDu);
}

BOOST_AUTO_TEST_CASE(user_and_supervisor_translations) {
    TestMachine m(4 * MiB);
    enter_paged(m);
    Mmu& mmu = m.cpu->mmu();
    m.poke32(pte_addr(0x200000), 0x200000 | PTE_P | PTE_RW); // supervisor page
    m.poke32(pte_addr(0x201000), 0x201000 | PTE_P | PTE_US); // user, read-only
    auto sup = mmu.translate(0x200123, false, true);
    BOOST_REQUIRE(!sup);
    BOOST_TEST(sup.error().error == (PF_P | PF_U));
    BOOST_TEST(mmu.fault_address() == 0x200123u);
    auto sup_w = mmu.translate(0x200123, true, true);
    BOOST_TEST(sup_w.error().error == (PF_P | PF_W | PF_U));
    BOOST_TEST(mmu.translate(0x200123, true, false).value() == 0x200123u);
    BOOST_TEST(mmu.translate(0x201000, false, true).value() == 0x201000u);
    auto ro = mmu.translate(0x201000, true, true);
    BOOST_TEST(ro.error().error == (PF_P | PF_W | PF_U)); // user writes ignore WP
    auto np = mmu.translate(0x00C0'0000, true, true);
    BOOST_TEST(np.error().error == (PF_W | PF_U));
}

BOOST_AUTO_TEST_CASE(four_mib_pages_with_pse) {
    TestMachine m(4 * MiB);
    enter_paged(m, CR4_PSE);
    // Linear 8 MiB.. maps physical 0.. as one 4 MiB page.
    m.poke32(PD + 2 * 4, 0x0000'0000u | PDE_PS | P_RW_US);
    m.poke32(0x3000, 0xFEED'F00D);
    BOOST_TEST(run(m, "mov eax, [0x803000]\nmov dword [0x803004], 0x55\n") == -1);
    BOOST_TEST(m.cpu->eax() == 0xFEED'F00Du);
    BOOST_TEST(m.peek32(0x3004) == 0x55u);
    BOOST_TEST((m.peek32(PD + 8) & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
    // Without CR4.PSE the PS bit is ignored: the entry names a page table
    // at physical 0, whose entry 3 is whatever is there (here 0: absent).
    enter_paged(m);
    m.poke32(PD + 2 * 4, 0x0000'0000u | PDE_PS | P_RW_US);
    m.poke32(0x000C, 0);
    BOOST_TEST(run(m, "mov eax, [0x803000]\n") == VEC_PF);
    BOOST_TEST(m.cpu->cr2() == 0x803000u);
}

BOOST_AUTO_TEST_CASE(invlpg_and_cr3_reload_drop_stale_translations) {
    TestMachine m(4 * MiB);
    enter_paged(m);
    m.poke32(0x300000, 0x1111'1111);
    m.poke32(0x301000, 0x2222'2222);
    m.poke32(pte_addr(0x200000), 0x300000 | P_RW_US);
    std::string const body = "mov eax, [0x200000]\n"
                             "mov dword [0x11800], 0x301007\n" // PTE of 0x200000
                             "mov ebx, [0x200000]\n";
    // The TLB still holds the old translation until INVLPG.
    BOOST_TEST(run(m, body + "invlpg [0x200000]\nmov ecx, [0x200000]\n") == -1);
    BOOST_TEST(m.cpu->eax() == 0x1111'1111u);
    BOOST_TEST(m.cpu->ebx() == 0x1111'1111u);
    BOOST_TEST(m.cpu->ecx() == 0x2222'2222u);

    enter_paged(m);
    m.poke32(pte_addr(0x200000), 0x300000 | P_RW_US);
    BOOST_TEST(run(m, body + "mov edx, cr3\nmov cr3, edx\nmov ecx, [0x200000]\n") == -1);
    BOOST_TEST(m.cpu->ebx() == 0x1111'1111u);
    BOOST_TEST(m.cpu->ecx() == 0x2222'2222u);

    // A write entry goes stale the same way.
    enter_paged(m);
    m.poke32(pte_addr(0x200000), 0x300000 | P_RW_US);
    BOOST_TEST(run(m, "mov dword [0x200000], 5\n"
                      "mov dword [0x11800], 0x301007\n"
                      "invlpg [0x200000]\n"
                      "mov dword [0x200000], 6\n") == -1);
    BOOST_TEST(m.peek32(0x300000) == 5u);
    BOOST_TEST(m.peek32(0x301000) == 6u);
}

BOOST_AUTO_TEST_CASE(accesses_crossing_into_a_missing_page) {
    TestMachine m(4 * MiB);
    enter_paged(m);
    m.poke32(pte_addr(0x201000), 0x201000); // not present
    m.poke32(0x200FFC, 0xAAAA'AAAA);
    BOOST_TEST(run(m, "mov dword [0x200ffe], 0x12345678\n") == VEC_PF);
    BOOST_TEST(m.cpu->cr2() == 0x201000u); // the first byte on the missing page
    BOOST_TEST(pushed_error(m) == PF_W);
    BOOST_TEST(m.peek32(0x200FFC) == 0xAAAA'AAAAu); // nothing written
    enter_paged(m);
    m.poke32(pte_addr(0x201000), 0x201000);
    BOOST_TEST(run(m, "mov ax, [0x200fff]\n") == VEC_PF);
    BOOST_TEST(m.cpu->cr2() == 0x201000u);
    BOOST_TEST(pushed_error(m) == 0u);
    // Present on both sides: the halves come from two different frames.
    enter_paged(m);
    m.poke32(pte_addr(0x201000), 0x300000 | P_RW_US);
    m.memory->ram()[0x200FFF] = 0x34;
    m.memory->ram()[0x300000] = 0x12;
    BOOST_TEST(run(m, "mov ax, [0x200fff]\n") == -1);
    BOOST_TEST((m.cpu->eax() & 0xFFFF) == 0x1234u);
}

BOOST_AUTO_TEST_CASE(instruction_crossing_into_a_missing_page) {
    TestMachine m(4 * MiB);
    enter_paged(m);
    m.poke32(pte_addr(0x211000), 0x211000); // not present
    // mov eax, imm32 at 0x210ffe: B8 and one immediate byte on the present
    // page, the rest on the missing one.
    m.memory->ram()[0x210FFE] = 0xB8;
    m.memory->ram()[0x210FFF] = 0x01;
    BOOST_TEST(run(m, "mov ebx, 0x210ffe\njmp ebx\n") == VEC_PF);
    BOOST_TEST(m.cpu->cr2() == 0x211000u);
    BOOST_TEST(pushed_eip(m) == 0x210FFEu);
    BOOST_TEST(pushed_error(m) == 0u);
    // An instruction that ends right at the page end runs, even though
    // the fetcher looks beyond it.
    enter_paged(m);
    m.poke32(pte_addr(0x211000), 0x211000);
    m.memory->ram()[0x210FFB] = 0xB8;
    m.poke32(0x210FFC, 0x0000'0077);
    // After it, execution runs into the missing page: #PF at 0x211000.
    BOOST_TEST(run(m, "mov ebx, 0x210ffb\njmp ebx\n") == VEC_PF);
    BOOST_TEST(m.cpu->eax() == 0x77u);
    BOOST_TEST(pushed_eip(m) == 0x211000u);
}

BOOST_AUTO_TEST_CASE(code_page_pointer_follows_remapping) {
    // Code at linear 0x200000 first runs from one frame, then the PTE is
    // switched to another frame holding different code.
    TestMachine m(4 * MiB);
    enter_paged(m);
    m.poke32(pte_addr(0x200000), 0x300000 | P_RW_US);
    auto a = assemble("bits 32\nmov eax, 1\nret\n");
    auto b = assemble("bits 32\nmov eax, 2\nret\n");
    m.load(0x300000, a);
    m.load(0x301000, b);
    BOOST_TEST(run(m, "call 0x200000\nmov esi, eax\n"
                      "mov dword [0x11800], 0x301007\n"
                      "invlpg [0x200000]\n"
                      "call 0x200000\n") == -1);
    BOOST_TEST(m.cpu->esi() == 1u);
    BOOST_TEST(m.cpu->eax() == 2u);
}

BOOST_AUTO_TEST_CASE(cr4_rejects_unimplemented_bits) {
    TestMachine m(4 * MiB);
    enter_paged(m);
    // PAE (bit 5) is not implemented: #GP(0).
    BOOST_TEST(run(m, "mov eax, 0x20\nmov cr4, eax\n") == VEC_GP);
    BOOST_TEST(run(m, "mov eax, 0x90\nmov cr4, eax\nmov ebx, cr4\n") == -1);
    BOOST_TEST(m.cpu->ebx() == 0x90u);
}

BOOST_AUTO_TEST_CASE(save_load_save_with_paging) {
    TestMachine m(4 * MiB);
    enter_paged(m, CR4_PSE);
    m.poke32(PD + 2 * 4, PDE_PS | P_RW_US);
    BOOST_TEST(run(m, "mov eax, [0x803000]\n") == -1);
    auto saver = StateVisitor::saver();
    m.cpu->visit_state(saver);
    BOOST_REQUIRE(saver.ok());
    auto first = saver.bytes();

    TestMachine fresh(4 * MiB);
    std::memcpy(fresh.memory->ram(), m.memory->ram(), 4 * MiB);
    auto loader = StateVisitor::loader(first);
    fresh.cpu->visit_state(loader);
    BOOST_REQUIRE_MESSAGE(loader.ok(), loader.error());
    auto again = StateVisitor::saver();
    fresh.cpu->visit_state(again);
    BOOST_TEST(first == again.bytes());
    // The restored MMU translates through the same tables.
    BOOST_TEST(fresh.cpu->mmu().paging());
    BOOST_TEST(fresh.cpu->mmu().translate(0x803010, false, false).value() == 0x3010u);
    fresh.poke32(0x3000, 0x4242);
    BOOST_TEST(run(fresh, "mov ecx, [0x803000]\n") == -1);
    BOOST_TEST(fresh.cpu->ecx() == 0x4242u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
