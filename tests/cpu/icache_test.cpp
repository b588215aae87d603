// SPDX-License-Identifier: GPL-2.0-or-later
// The decoded-instruction cache (interpreter.h) keeps the bytes each entry
// was decoded from and compares them on every hit, so code that rewrites
// itself runs the new instruction without any invalidation. These programs
// run an instruction, patch it, and run it again; the second patch lands in
// the entry's second 64-bit word. Byte strings are nasm output (source
// next to each).
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

namespace vsa::test {

BOOST_AUTO_TEST_SUITE(icache)

BOOST_AUTO_TEST_CASE(patched_immediate_is_seen) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    // org 0x1000
    //     xor ecx, ecx
    //     xor ebx, ebx
    // patch:
    //     mov eax, 0x11111111
    //     add ebx, eax
    //     inc ecx
    //     cmp ecx, 2
    //     je done
    //     mov dword [patch+1], 0x22222222
    //     jmp patch
    // done:
    BOOST_TEST(m.run_code(from_hex("31c931dbb81111111101c34183f902740cc7050510000022222222ebe7")) == -1);
    BOOST_TEST(m.cpu->ebx() == 0x3333'3333u); // old immediate once, the patched one once
}

BOOST_AUTO_TEST_CASE(patch_past_the_eighth_byte_is_seen) {
    TestMachine m(4 * MiB);
    m.enter_flat32();
    // org 0x1000
    //     xor ecx, ecx
    // patch:
    //     mov dword [0x2000], 0xAABBCCDD   ; 10 bytes: the immediate's top
    //     inc ecx                          ; byte is byte 9
    //     cmp ecx, 2
    //     je done
    //     mov byte [patch+9], 0x55
    //     jmp patch
    // done:
    BOOST_TEST(m.run_code(from_hex("31c9c70500200000ddccbbaa4183f9027409c6050b10000055ebe7")) == -1);
    BOOST_TEST(m.peek32(0x2000) == 0x55BB'CCDDu);
}

BOOST_AUTO_TEST_CASE(host_write_between_runs_is_seen) {
    // A write that does not come from the CPU (a device's DMA, a debugger)
    // goes straight to RAM: the next run still sees it.
    TestMachine m(4 * MiB);
    m.enter_flat32();
    BOOST_TEST(m.run_code(from_hex("b811111111")) == -1); // mov eax, 0x11111111
    BOOST_TEST(m.cpu->eax() == 0x1111'1111u);
    m.poke32(0x1001, 0x2222'2222);
    m.cpu->set_eip(0x1000);
    m.cpu->set_halted(false);
    BOOST_TEST(static_cast<int>(m.run_until_halt().reason) == static_cast<int>(ExitReason::Halted));
    BOOST_TEST(m.cpu->eax() == 0x2222'2222u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
