// SPDX-License-Identifier: GPL-2.0-or-later
// 32-bit forms the 80286 vectors cannot cover (they are 16-bit real mode
// only), checked against hand-computed values in flat 32-bit protected
// mode: MUL/IMUL/DIV/IDIV with #DE, shifts and rotates, SHLD/SHRD, the BT
// family with memory bit offsets, BSF/BSR, SETcc, MOVZX/MOVSX, CDQ/CWDE,
// the 486 additions, string ops and LOOP at both address sizes, ENTER with
// nesting, 0x66/0x67 prefixes, CPUID, segment-limit faults with error
// codes, #UD, the FPU probe and port I/O. Byte strings are
// nasm output (the source is next to each).
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

namespace vsa::test {

namespace {

struct Flat32 {
    Flat32() : m(4 * MiB) { m.enter_flat32(); }
    int run(std::string const& hex) { return m.run_code(from_hex(hex)); }
    Interpreter& cpu() { return *m.cpu; }
    bool flag(u32 bit) { return (m.cpu->eflags() & bit) != 0; }
    TestMachine m;
};

} // namespace

BOOST_AUTO_TEST_SUITE(exec32)

BOOST_AUTO_TEST_CASE(multiply) {
    Flat32 t;
    t.cpu().set_eax(0x8000'0000);
    t.cpu().set_ecx(4);
    BOOST_TEST(t.run("f7e1") == -1); // mul ecx
    BOOST_TEST(t.cpu().eax() == 0u);
    BOOST_TEST(t.cpu().edx() == 2u);
    BOOST_TEST(t.flag(FLAG_CF));
    BOOST_TEST(t.flag(FLAG_OF));

    t.cpu().set_eax(0xFFFF'FFFD); // -3
    t.cpu().set_ecx(5);
    BOOST_TEST(t.run("f7e9") == -1); // imul ecx
    BOOST_TEST(t.cpu().eax() == 0xFFFF'FFF1u);
    BOOST_TEST(t.cpu().edx() == 0xFFFF'FFFFu);
    BOOST_TEST(!t.flag(FLAG_CF));

    t.cpu().set_ecx(0x10000);
    BOOST_TEST(t.run("69c145230100") == -1); // imul eax, ecx, 0x12345
    BOOST_TEST(t.cpu().eax() == 0x2345'0000u);
    BOOST_TEST(t.flag(FLAG_CF));
    BOOST_TEST(t.flag(FLAG_OF));

    t.cpu().set_ecx(7);
    BOOST_TEST(t.run("6bd9fd") == -1); // imul ebx, ecx, -3
    BOOST_TEST(t.cpu().ebx() == 0xFFFF'FFEBu);
    BOOST_TEST(!t.flag(FLAG_OF));

    t.cpu().set_ebx(0x10000);
    t.cpu().set_ecx(0x10000);
    BOOST_TEST(t.run("0fafd9") == -1); // imul ebx, ecx
    BOOST_TEST(t.cpu().ebx() == 0u);
    BOOST_TEST(t.flag(FLAG_CF));
}

BOOST_AUTO_TEST_CASE(divide_and_divide_error) {
    Flat32 t;
    t.cpu().set_edx(1);
    t.cpu().set_eax(5);
    t.cpu().set_ecx(0x10);
    BOOST_TEST(t.run("f7f1") == -1); // div ecx
    BOOST_TEST(t.cpu().eax() == 0x1000'0000u);
    BOOST_TEST(t.cpu().edx() == 5u);

    t.cpu().set_edx(0x10);
    t.cpu().set_eax(0);
    BOOST_TEST(t.run("f7f1") == VEC_DE); // quotient overflow
    BOOST_TEST(t.cpu().edx() == 0x10u);
    BOOST_TEST(t.m.peek32(0x8000 - 12) == 0x1000u); // pushed EIP: the DIV
    BOOST_TEST(t.m.peek32(0x8000 - 8) == 0x08u);    // pushed CS

    t.m.enter_flat32();
    t.cpu().set_edx(0xFFFF'FFFF);
    t.cpu().set_eax(0xFFFF'FFF9); // -7
    t.cpu().set_ecx(2);
    BOOST_TEST(t.run("f7f9") == -1); // idiv ecx
    BOOST_TEST(t.cpu().eax() == 0xFFFF'FFFDu);
    BOOST_TEST(t.cpu().edx() == 0xFFFF'FFFFu);

    t.cpu().set_edx(0x8000'0000);
    t.cpu().set_eax(0);
    t.cpu().set_ecx(0xFFFF'FFFF);
    BOOST_TEST(t.run("f7f9") == VEC_DE); // INT64_MIN / -1

    t.m.enter_flat32();
    t.cpu().set_ecx(0);
    BOOST_TEST(t.run("f7f1") == VEC_DE); // by zero
}

BOOST_AUTO_TEST_CASE(shifts_and_rotates) {
    Flat32 t;
    t.cpu().set_eax(0x8000'0001);
    t.cpu().set_ecx(33);             // masked to 1
    BOOST_TEST(t.run("d3e0") == -1); // shl eax, cl
    BOOST_TEST(t.cpu().eax() == 2u);
    BOOST_TEST(t.flag(FLAG_CF));
    BOOST_TEST(t.flag(FLAG_OF));

    t.cpu().set_eax(0x8000'0000);
    BOOST_TEST(t.run("c1f81f") == -1); // sar eax, 31
    BOOST_TEST(t.cpu().eax() == 0xFFFF'FFFFu);
    BOOST_TEST(!t.flag(FLAG_CF));

    t.cpu().set_eax(0x1234'5678);
    BOOST_TEST(t.run("c1c008") == -1); // rol eax, 8
    BOOST_TEST(t.cpu().eax() == 0x3456'7812u);
    BOOST_TEST(!t.flag(FLAG_CF));

    t.cpu().set_eax(5);
    t.cpu().set_eflags(t.cpu().eflags() | FLAG_CF);
    BOOST_TEST(t.run("c1d803") == -1); // rcr eax, 3
    BOOST_TEST(t.cpu().eax() == 0x6000'0000u);
    BOOST_TEST(t.flag(FLAG_CF));

    t.cpu().set_eax(0x1234'5678);
    t.cpu().set_ebx(0x9ABC'DEF0);
    BOOST_TEST(t.run("0fa4d808") == -1); // shld eax, ebx, 8
    BOOST_TEST(t.cpu().eax() == 0x3456'789Au);
    BOOST_TEST(!t.flag(FLAG_CF));

    t.cpu().set_eax(0x1234'5678);
    BOOST_TEST(t.run("0facd80c") == -1); // shrd eax, ebx, 12
    BOOST_TEST(t.cpu().eax() == 0xEF01'2345u);
    BOOST_TEST(!t.flag(FLAG_CF));

    t.cpu().set_eax(0xFFFF'1234);
    t.cpu().set_ebx(0xABCD);
    BOOST_TEST(t.run("660fa4d804") == -1); // shld ax, bx, 4
    BOOST_TEST(t.cpu().eax() == 0xFFFF'234Au);
    BOOST_TEST(t.flag(FLAG_CF));
}

BOOST_AUTO_TEST_CASE(bit_test_family) {
    Flat32 t;
    t.cpu().set_eax(0x100);
    t.cpu().set_ecx(40);               // register operand: offset mod 32 = 8
    BOOST_TEST(t.run("0fa3c8") == -1); // bt eax, ecx
    BOOST_TEST(t.flag(FLAG_CF));

    t.cpu().set_eax(0);
    BOOST_TEST(t.run("0fbae805") == -1); // bts eax, 5
    BOOST_TEST(t.cpu().eax() == 0x20u);
    BOOST_TEST(!t.flag(FLAG_CF));

    // Memory operand, register offset 100: dword at +12, bit 4.
    t.m.poke32(0x300C, 0xFFFF'FFFF);
    t.cpu().set_esi(0x3000);
    t.cpu().set_ecx(100);
    BOOST_TEST(t.run("0fb30e") == -1); // btr [esi], ecx
    BOOST_TEST(t.m.peek32(0x300C) == 0xFFFF'FFEFu);
    BOOST_TEST(t.flag(FLAG_CF));

    // Offset -1: the dword below, bit 31.
    t.m.poke32(0x2FFC, 0x8000'0000);
    t.cpu().set_ecx(0xFFFF'FFFF);
    BOOST_TEST(t.run("0fa30e") == -1); // bt [esi], ecx
    BOOST_TEST(t.flag(FLAG_CF));

    t.m.poke32(0x3000, 0);
    BOOST_TEST(t.run("0fba3e03") == -1); // btc [esi], 3
    BOOST_TEST(t.m.peek32(0x3000) == 8u);
    BOOST_TEST(!t.flag(FLAG_CF));

    t.cpu().set_ecx(0x00A0'0000);
    BOOST_TEST(t.run("0fbcc1") == -1); // bsf eax, ecx
    BOOST_TEST(t.cpu().eax() == 21u);
    BOOST_TEST(!t.flag(FLAG_ZF));
    BOOST_TEST(t.run("0fbdc1") == -1); // bsr eax, ecx
    BOOST_TEST(t.cpu().eax() == 23u);
    t.cpu().set_ecx(0);
    BOOST_TEST(t.run("0fbdc1") == -1);
    BOOST_TEST(t.cpu().eax() == 23u); // unchanged
    BOOST_TEST(t.flag(FLAG_ZF));
}

BOOST_AUTO_TEST_CASE(setcc_moves_and_conversions) {
    Flat32 t;
    t.cpu().set_eax(5);
    t.cpu().set_ecx(0xFFFF'FFFF);
    t.cpu().set_ebx(0xFFFF'FF00);
    BOOST_TEST(t.run("39c80f9fc30f92c0") == -1); // cmp eax, ecx; setg bl; setc al
    BOOST_TEST(t.cpu().ebx() == 0xFFFF'FF01u);
    BOOST_TEST((t.cpu().eax() & 0xFF) == 1u);

    t.m.poke32(0x3000, 0x8080);
    t.cpu().set_esi(0x3000);
    BOOST_TEST(t.run("0fb606") == -1); // movzx eax, byte [esi]
    BOOST_TEST(t.cpu().eax() == 0x80u);
    BOOST_TEST(t.run("0fbf06") == -1); // movsx eax, word [esi]
    BOOST_TEST(t.cpu().eax() == 0xFFFF'8080u);

    t.cpu().set_eax(0x8000'0000);
    BOOST_TEST(t.run("99") == -1); // cdq
    BOOST_TEST(t.cpu().edx() == 0xFFFF'FFFFu);
    t.cpu().set_eax(0x1234'8000);
    BOOST_TEST(t.run("98") == -1); // cwde
    BOOST_TEST(t.cpu().eax() == 0xFFFF'8000u);

    t.cpu().set_eax(0x1234'5678);
    BOOST_TEST(t.run("0fc8") == -1); // bswap eax
    BOOST_TEST(t.cpu().eax() == 0x7856'3412u);

    t.cpu().set_ecx(3);
    BOOST_TEST(t.run("8d04cd00100000") == -1); // lea eax, [0x1000+ecx*8]
    BOOST_TEST(t.cpu().eax() == 0x1018u);

    t.cpu().set_eax(0xFFFF'0000);
    BOOST_TEST(t.run("66b83412") == -1); // mov ax, 0x1234
    BOOST_TEST(t.cpu().eax() == 0xFFFF'1234u);

    // 0x67: 16-bit addressing in 32-bit code, upper halves ignored.
    t.m.poke32(0x3010, 0xCAFE'BABE);
    t.cpu().set_ebx(0x1234'3000);
    t.cpu().set_esi(0x5678'0010);
    BOOST_TEST(t.run("678b00") == -1); // mov eax, [bx+si]
    BOOST_TEST(t.cpu().eax() == 0xCAFE'BABEu);
}

BOOST_AUTO_TEST_CASE(the_486_additions) {
    Flat32 t;
    t.m.poke32(0x3000, 10);
    t.cpu().set_esi(0x3000);
    t.cpu().set_eax(5);
    BOOST_TEST(t.run("0fc106") == -1); // xadd [esi], eax
    BOOST_TEST(t.m.peek32(0x3000) == 15u);
    BOOST_TEST(t.cpu().eax() == 10u);

    t.m.poke32(0x3000, 7);
    t.cpu().set_eax(7);
    t.cpu().set_ebx(9);
    BOOST_TEST(t.run("0fb11e") == -1); // cmpxchg [esi], ebx
    BOOST_TEST(t.m.peek32(0x3000) == 9u);
    BOOST_TEST(t.flag(FLAG_ZF));
    t.cpu().set_eax(6);
    BOOST_TEST(t.run("0fb11e") == -1);
    BOOST_TEST(t.cpu().eax() == 9u);
    BOOST_TEST(t.m.peek32(0x3000) == 9u);
    BOOST_TEST(!t.flag(FLAG_ZF));

    t.cpu().set_eax(0);
    BOOST_TEST(t.run("0fa2") == -1);    // cpuid
    BOOST_TEST(t.cpu().eax() == 0x15u); // up to the TSC frequency leaf
    BOOST_TEST(t.cpu().ebx() == 0x756E'6547u);
    BOOST_TEST(t.cpu().edx() == 0x4965'6E69u);
    BOOST_TEST(t.cpu().ecx() == 0x6C65'746Eu);
    t.cpu().set_eax(1);
    BOOST_TEST(t.run("0fa2") == -1);
    BOOST_TEST(t.cpu().eax() == Cpu::CPU_SIGNATURE);
    // FPU VME PSE TSC MSR CX8 SEP PGE CMOV.
    BOOST_TEST(t.cpu().edx() == 0x0000'A93Bu);

    BOOST_TEST(t.run("0f31") == -1); // rdtsc
    u64 first = (u64(t.cpu().edx()) << 32) | t.cpu().eax();
    BOOST_TEST(t.run("0f31") == -1);
    u64 second = (u64(t.cpu().edx()) << 32) | t.cpu().eax();
    BOOST_TEST(second > first);

    // EFLAGS.ID and AC toggle (CPUID is there).
    u32 flags = t.cpu().eflags();
    t.cpu().set_eflags(flags ^ (FLAG_ID | FLAG_AC));
    BOOST_TEST(((t.cpu().eflags() ^ flags) & (FLAG_ID | FLAG_AC)) == (FLAG_ID | FLAG_AC));
}

BOOST_AUTO_TEST_CASE(strings_and_loops_at_both_address_sizes) {
    Flat32 t;
    t.cpu().set_edi(0x3000);
    t.cpu().set_ecx(4);
    t.cpu().set_eax(0xAABB'CCDD);
    BOOST_TEST(t.run("f3ab") == -1); // rep stosd
    BOOST_TEST(t.cpu().edi() == 0x3010u);
    BOOST_TEST(t.cpu().ecx() == 0u);
    BOOST_TEST(t.m.peek32(0x300C) == 0xAABB'CCDDu);

    t.cpu().set_esi(0x3000);
    t.cpu().set_edi(0x3100);
    t.cpu().set_ecx(3);
    BOOST_TEST(t.run("f3a5") == -1); // rep movsd
    BOOST_TEST(t.m.peek32(0x3108) == 0xAABB'CCDDu);
    BOOST_TEST(t.m.peek32(0x310C) == 0u);
    BOOST_TEST(t.cpu().esi() == 0x300Cu);

    // A long REP run is split into chunks and still completes.
    t.cpu().set_edi(0x10000);
    t.cpu().set_ecx(100000);
    BOOST_TEST(t.run("f3ab") == -1);
    BOOST_TEST(t.cpu().ecx() == 0u);
    BOOST_TEST(t.cpu().edi() == 0x10000u + 400000u);

    t.cpu().set_ecx(0x10000);
    BOOST_TEST(t.run("e2fe") == -1); // loop $ counts ECX
    BOOST_TEST(t.cpu().ecx() == 0u);
    t.cpu().set_ecx(0x0001'0003);
    BOOST_TEST(t.run("67e2fd") == -1); // a16 loop $ counts CX only
    BOOST_TEST(t.cpu().ecx() == 0x0001'0000u);

    t.cpu().set_ecx(0);
    t.cpu().set_eax(0);
    BOOST_TEST(t.run("e305b801000000") == -1); // jecxz over mov eax, 1
    BOOST_TEST(t.cpu().eax() == 0u);
}

BOOST_AUTO_TEST_CASE(stack_frames) {
    Flat32 t;
    t.cpu().set_eax(1);
    t.cpu().set_ebx(2);
    t.cpu().set_ebp(3);
    BOOST_TEST(t.run("6061") == -1); // pushad; popad
    BOOST_TEST(t.cpu().eax() == 1u);
    BOOST_TEST(t.cpu().ebx() == 2u);
    BOOST_TEST(t.cpu().ebp() == 3u);
    BOOST_TEST(t.cpu().esp() == 0x8000u);

    t.cpu().set_ebp(0x7000);
    t.m.poke32(0x6FFC, 0x1111'1111);
    t.m.poke32(0x6FF8, 0x2222'2222);
    BOOST_TEST(t.run("c8100003") == -1); // enter 16, 3
    BOOST_TEST(t.cpu().ebp() == 0x7FFCu);
    BOOST_TEST(t.cpu().esp() == 0x7FE0u);
    BOOST_TEST(t.m.peek32(0x7FFC) == 0x7000u);
    BOOST_TEST(t.m.peek32(0x7FF8) == 0x1111'1111u);
    BOOST_TEST(t.m.peek32(0x7FF4) == 0x2222'2222u);
    BOOST_TEST(t.m.peek32(0x7FF0) == 0x7FFCu);
    BOOST_TEST(t.run("c9") == -1); // leave
    BOOST_TEST(t.cpu().ebp() == 0x7000u);
    BOOST_TEST(t.cpu().esp() == 0x8000u);

    BOOST_TEST(t.run("6aff") == -1); // push byte -1
    BOOST_TEST(t.m.peek32(0x7FFC) == 0xFFFF'FFFFu);
    t.m.poke32(0x3000, 0x5555'AAAA);
    t.cpu().set_esi(0x3000);
    BOOST_TEST(t.run("ff368f4604") == -1); // push dword [esi]; pop dword [esi+4]
    BOOST_TEST(t.m.peek32(0x3004) == 0x5555'AAAAu);
    BOOST_TEST(t.cpu().esp() == 0x7FFCu);
}

BOOST_AUTO_TEST_CASE(segment_faults_carry_error_codes) {
    Flat32 t;
    t.cpu().set_eax(0x18);                        // beyond the GDT limit
    BOOST_TEST(t.run("8ee0") == VEC_GP);          // mov fs, ax
    BOOST_TEST(t.m.peek32(0x8000 - 16) == 0x18u); // error code
    BOOST_TEST(t.m.peek32(0x8000 - 12) == 0x1000u);

    t.m.enter_flat32();
    t.cpu().set_eax(0x10);
    BOOST_TEST(t.run("8ee0") == -1);
    BOOST_TEST(t.cpu().selector(SEG_FS) == 0x10);

    // A DS limit of 0xFFF: a dword at 0xFFE overruns it.
    SegmentCache small = t.cpu().segment(SEG_DS);
    small.limit = 0xFFF;
    t.cpu().set_segment_cache(SEG_DS, small);
    t.cpu().set_esi(0xFFE);
    BOOST_TEST(t.run("8b06") == VEC_GP); // mov eax, [esi]
    BOOST_TEST(t.m.peek32(0x8000 - 16) == 0u);

    // A null DS faults on use.
    t.m.enter_flat32();
    t.cpu().set_eax(0);
    t.cpu().set_esi(0x3000);
    BOOST_TEST(t.run("8ed88b06") == VEC_GP); // mov ds, ax; mov eax, [esi]

    // Through SS: #SS.
    t.m.enter_flat32();
    SegmentCache stack = t.cpu().segment(SEG_SS);
    stack.limit = 0x7FFF;
    t.cpu().set_segment_cache(SEG_SS, stack);
    t.cpu().set_ebp(0x7FFE);
    BOOST_TEST(t.run("8b4500") == VEC_SS); // mov eax, [ebp]

    // BOUND out of range: #BR.
    t.m.enter_flat32();
    t.m.poke32(0x3000, 10);
    t.m.poke32(0x3004, 20);
    t.cpu().set_esi(0x3000);
    t.cpu().set_eax(25);
    BOOST_TEST(t.run("6206") == VEC_BR);
}

BOOST_AUTO_TEST_CASE(invalid_opcodes_and_fpu_probe) {
    Flat32 t;
    BOOST_TEST(t.run("0f0b") == VEC_UD);
    t.m.enter_flat32();
    BOOST_TEST(t.run("f090") == VEC_UD); // LOCK NOP
    t.m.enter_flat32();
    BOOST_TEST(t.run("f001c0") == VEC_UD); // LOCK ADD reg, reg
    t.m.enter_flat32();
    t.cpu().set_esi(0x3000);
    BOOST_TEST(t.run("f00106") == -1); // LOCK ADD [esi], eax
    t.m.enter_flat32();
    BOOST_TEST(t.run("8dc0") == VEC_UD); // LEA with a register operand

    // The FPU probe: FNINIT; FNSTSW AX reads 0, FNSTCW reads 037Fh.
    t.m.enter_flat32();
    t.cpu().set_eax(0xFFFF);
    BOOST_TEST(t.run("dbe3dfe0") == -1); // fninit; fnstsw ax
    BOOST_TEST((t.cpu().eax() & 0xFFFF) == 0u);
    t.m.poke32(0x3000, 0x5A5A);
    t.cpu().set_esi(0x3000);
    BOOST_TEST(t.run("d93e") == -1); // fnstcw [esi]
    BOOST_TEST(t.m.peek32(0x3000) == 0x037Fu);
    // CR0.EM: #NM.
    t.cpu().set_cr0(t.cpu().cr0() | CR0_EM);
    BOOST_TEST(t.run("dbe3") == VEC_NM);
}

BOOST_AUTO_TEST_CASE(port_io_goes_to_the_bus) {
    Flat32 t;
    t.cpu().set_eax(0x1234'5678);
    t.cpu().set_edx(0x3F8);
    // out dx, al; out 0x80, ax; in eax, dx; out dx, eax
    BOOST_TEST(t.run("ee66e780ed") == -1);
    BOOST_TEST(t.m.ports.log == "w8:03f8=78 w16:0080=5678 r32:03f8=ffffffff");
    BOOST_TEST(t.cpu().eax() == 0xFFFF'FFFFu);
}

BOOST_AUTO_TEST_CASE(descriptor_table_instructions) {
    Flat32 t;
    // GDT: 08 code, 10 data, 18 LDT (base 0x4800, limit 0x17), 20 available
    // 32-bit TSS (base 0x4A00, limit 0x67), 28 read-only data with DPL 3.
    t.m.poke32(0x4018, 0x4800'0017);
    t.m.poke32(0x401C, 0x0000'8200);
    t.m.poke32(0x4020, 0x4A00'0067);
    t.m.poke32(0x4024, 0x0000'8900);
    t.m.poke32(0x4028, 0x0000'0FFF);
    t.m.poke32(0x402C, 0x0040'F000);
    t.cpu().set_gdtr(TableRegister{0x4000, 0x2F});

    BOOST_TEST(t.run("66b818000f00d0660f00c3") == -1); // lldt 0x18; sldt bx
    BOOST_TEST(t.cpu().ldtr().base == 0x4800u);
    BOOST_TEST((t.cpu().ebx() & 0xFFFF) == 0x18u);
    BOOST_TEST(t.run("66b820000f00d8660f00cb") == -1); // ltr 0x20; str bx
    BOOST_TEST(t.cpu().tr().base == 0x4A00u);
    BOOST_TEST((t.cpu().ebx() & 0xFFFF) == 0x20u);
    BOOST_TEST(((t.m.peek32(0x4024) >> 8) & 0xF) == 0xBu); // marked busy
    // LTR of a busy TSS: #GP(sel).
    BOOST_TEST(t.run("66b820000f00d8660f00cb") == VEC_GP);
    BOOST_TEST(t.m.peek32(0x8000 - 16) == 0x20u);

    t.m.enter_flat32();
    t.cpu().set_gdtr(TableRegister{0x4000, 0x2F});
    t.cpu().set_ecx(0x28);
    t.cpu().set_eax(0);
    BOOST_TEST(t.run("0f02c1") == -1); // lar eax, ecx
    BOOST_TEST(t.flag(FLAG_ZF));
    BOOST_TEST(t.cpu().eax() == 0x0040'F000u);
    BOOST_TEST(t.run("0f03c1") == -1); // lsl eax, ecx
    BOOST_TEST(t.cpu().eax() == 0xFFFu);
    BOOST_TEST(t.run("0f00e1") == -1); // verr cx: readable
    BOOST_TEST(t.flag(FLAG_ZF));
    BOOST_TEST(t.run("0f00e9") == -1); // verw cx: read-only
    BOOST_TEST(!t.flag(FLAG_ZF));
    t.cpu().set_ecx(0x40); // beyond the GDT: ZF = 0, no fault
    BOOST_TEST(t.run("0f03c1") == -1);
    BOOST_TEST(!t.flag(FLAG_ZF));

    t.m.poke32(0x3000, 0x10);
    t.cpu().set_esi(0x3000);
    t.cpu().set_ecx(0x13);
    BOOST_TEST(t.run("630e") == -1); // arpl [esi], cx
    BOOST_TEST(t.m.peek32(0x3000) == 0x13u);
    BOOST_TEST(t.flag(FLAG_ZF));

    // SGDT then LIDT from the same six bytes.
    BOOST_TEST(t.run("0f01060f011e") == -1);
    BOOST_TEST(t.cpu().idtr().base == 0x4000u);
    BOOST_TEST(t.cpu().idtr().limit == 0x2Fu);
}

BOOST_AUTO_TEST_CASE(external_interrupt_through_the_idt_and_shadows) {
    Flat32 t;
    // IF=1 with an interrupt pending: taken at once, through the IDT.
    t.m.interrupts.pending.push_back(0x30);
    t.cpu().set_eflags(t.cpu().eflags() | FLAG_IF);
    BOOST_TEST(t.run("90") == 0x30);
    BOOST_TEST(t.m.peek32(0x8000 - 12) == 0x1000u); // interrupted before the NOP
    BOOST_TEST((t.m.peek32(0x8000 - 4) & FLAG_IF) != 0u);
    BOOST_TEST(!t.cpu().interrupts_enabled()); // interrupt gate

    // MOV SS holds the interrupt until the next instruction has run, so
    // the new ESP is in place when it comes (STI's shadow covers MOV SS).
    t.m.enter_flat32();
    t.m.interrupts.pending.push_back(0x31);
    t.cpu().set_eax(0x10);
    BOOST_TEST(t.run("fb8ed0bc0070000090") == 0x31); // sti; mov ss, ax; mov esp, 0x7000; nop
    BOOST_TEST(t.m.peek32(0x7000 - 12) == 0x1008u);  // return to the NOP

    // A 16-bit interrupt gate pushes 16-bit words.
    t.m.enter_flat32();
    t.m.poke32(0x5000 + 0x32 * 8 + 4, ((TestMachine::EXCEPTION_HALTS + 0x32) & 0xFFFF'0000u) | 0x8600u);
    BOOST_TEST(t.run("cd32") == 0x32);
    BOOST_TEST(t.cpu().esp() == 0x8000u - 6);
    BOOST_TEST((t.m.peek32(0x8000 - 6) & 0xFFFF) == 0x1002u);
    BOOST_TEST((t.m.peek32(0x8000 - 4) & 0xFFFF) == 0x08u);
}

BOOST_AUTO_TEST_CASE(iopl_and_the_io_bitmap_at_cpl3) {
    // Run as CPL 3 with IOPL 0. Interrupts that change privilege are issue
    // 5, so #GP goes through a conforming ring-0 code segment (no stack
    // switch) and the run stops on breakpoints instead of HLT (HLT is
    // privileged).
    Flat32 t;
    t.m.poke32(0x4018, 0x0000'FFFF); // 18: conforming code, DPL 0
    t.m.poke32(0x401C, 0x00CF'9F00);
    t.cpu().set_gdtr(TableRegister{0x4000, 0x1F});
    u32 gp_entry = TestMachine::EXCEPTION_HALTS + VEC_GP;
    t.m.poke32(0x5000 + VEC_GP * 8, (gp_entry & 0xFFFF) | (0x18u << 16));
    SegmentCache code = t.cpu().segment(SEG_CS);
    code.selector = 0x08 | 3;
    code.access = static_cast<u8>(code.access | 0x60); // DPL 3
    t.cpu().set_segment_cache(SEG_CS, code);
    // TSS at 0x10000, I/O map base 0x68, every port denied except 0x80.
    for (u32 i = 0; i < 0x2000 / 4 + 1; ++i)
        t.m.poke32(0x10068 + i * 4, 0xFFFF'FFFF);
    t.m.poke32(0x10064, 0x0068'0000);
    t.m.poke32(0x10068 + 0x80 / 8, 0xFFFF'FFFE);
    SegmentCache tss;
    tss.selector = 0x20;
    tss.base = 0x10000;
    tss.limit = 0x68 + 0x2000;
    tss.access = ACC_P | 0x0B;
    t.cpu().set_tr(tss);
    t.cpu().add_breakpoint(gp_entry);

    auto run_at_cpl3 = [&](std::vector<u8> code_bytes) {
        t.m.load(0x1000, code_bytes);
        u32 end = 0x1000 + static_cast<u32>(code_bytes.size());
        t.cpu().add_breakpoint(end);
        t.cpu().set_eip(0x1000);
        t.cpu().set_esp(0x8000);
        CpuExit exit = t.cpu().run(t.m.clock.now() + 100'000);
        t.cpu().remove_breakpoint(end);
        BOOST_TEST(int(exit.reason) == int(ExitReason::Breakpoint));
        return exit.detail;
    };
    BOOST_TEST(run_at_cpl3({0xE4, 0x80}) == 0x1002u);        // in al, 0x80: allowed by the bitmap
    BOOST_TEST(run_at_cpl3({0xE4, 0x81}) == gp_entry);       // in al, 0x81: #GP
    BOOST_TEST(t.m.peek32(0x8000 - 16) == 0u);               // error code 0
    BOOST_TEST(run_at_cpl3({0xFA}) == gp_entry);             // cli: CPL > IOPL
    BOOST_TEST(run_at_cpl3({0x0F, 0x20, 0xC0}) == gp_entry); // mov eax, cr0
    BOOST_TEST(t.cpu().cpl() == 3);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
