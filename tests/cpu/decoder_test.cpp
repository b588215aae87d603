// SPDX-License-Identifier: GPL-2.0-or-later
// The decoder on its own: lengths and operands of a representative set of
// encodings (prefixes, 0x66/0x67 in both code sizes, ModRM/SIB forms incl.
// SIB without base, disp8/disp16/disp32, immediates of every kind, the 0F
// map), the 15-byte limit, short input, LOCK validity, and a fuzz loop over
// random bytes that must never crash or over-read.
#include "hypervisor/cpu/decoder.h"

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

namespace vsa {

namespace {

std::vector<u8> hex(std::string const& h) {
    std::vector<u8> out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back(static_cast<u8>(std::stoul(h.substr(i, 2), nullptr, 16)));
    return out;
}

DecodedInsn decode_ok(std::string const& h, bool code32) {
    auto bytes = hex(h);
    DecodedInsn insn;
    DecodeStatus st = decode(bytes.data(), bytes.size(), code32, insn);
    BOOST_TEST_REQUIRE(int(st) == int(DecodeStatus::Ok), h);
    BOOST_TEST(insn.length == bytes.size(), h);
    BOOST_TEST(insn.handler != nullptr);
    return insn;
}

} // namespace

BOOST_AUTO_TEST_SUITE(decoder)

BOOST_AUTO_TEST_CASE(modrm_and_sib_32) {
    auto i = decode_ok("8d448b10", true); // lea eax, [ebx+ecx*4+0x10]
    BOOST_TEST(i.opcode == 0x8D);
    BOOST_TEST(i.mod == 1);
    BOOST_TEST(i.base == REG_EBX);
    BOOST_TEST(i.index == REG_ECX);
    BOOST_TEST(i.scale == 2);
    BOOST_TEST(i.disp == 0x10u);
    BOOST_TEST(i.seg == SEG_DS);

    i = decode_ok("8d04cd00100000", true); // lea eax, [0x1000+ecx*8]: SIB without base
    BOOST_TEST(i.base == REG_NONE);
    BOOST_TEST(i.index == REG_ECX);
    BOOST_TEST(i.scale == 3);
    BOOST_TEST(i.disp == 0x1000u);

    i = decode_ok("8b442404", true); // mov eax, [esp+4]
    BOOST_TEST(i.base == REG_ESP);
    BOOST_TEST(i.index == REG_NONE);
    BOOST_TEST(i.seg == SEG_SS);

    i = decode_ok("8b45f8", true); // mov eax, [ebp-8]: disp8 sign-extended
    BOOST_TEST(i.base == REG_EBP);
    BOOST_TEST(i.disp == 0xFFFF'FFF8u);
    BOOST_TEST(i.seg == SEG_SS);

    i = decode_ok("8b0578563412", true); // mov eax, [0x12345678]
    BOOST_TEST(i.base == REG_NONE);
    BOOST_TEST(i.disp == 0x1234'5678u);

    i = decode_ok("8b8c2478563412", true); // mov ecx, [esp+0x12345678]: SIB + disp32
    BOOST_TEST(i.base == REG_ESP);
    BOOST_TEST(i.disp == 0x1234'5678u);
    BOOST_TEST(i.reg == REG_ECX);

    i = decode_ok("648b00", true); // mov eax, fs:[eax]
    BOOST_TEST(i.seg == SEG_FS);
    BOOST_TEST(i.has_seg_override);
}

BOOST_AUTO_TEST_CASE(modrm_16_and_address_size_prefix) {
    auto i = decode_ok("8b4608", false); // mov ax, [bp+8]
    BOOST_TEST(i.base == REG_EBP);
    BOOST_TEST(i.index == REG_NONE);
    BOOST_TEST(i.seg == SEG_SS);
    BOOST_TEST(i.disp == 8u);

    i = decode_ok("8b063412", false); // mov ax, [0x1234]
    BOOST_TEST(i.base == REG_NONE);
    BOOST_TEST(i.disp == 0x1234u);

    i = decode_ok("8b803412", false); // mov ax, [bx+si+0x1234]
    BOOST_TEST(i.base == REG_EBX);
    BOOST_TEST(i.index == REG_ESI);

    i = decode_ok("2e8b07", false); // mov ax, cs:[bx]
    BOOST_TEST(i.seg == SEG_CS);

    i = decode_ok("678b00", true); // a16 in 32-bit code: [bx+si]
    BOOST_TEST(!i.addr32);
    BOOST_TEST(i.op32);
    BOOST_TEST(i.base == REG_EBX);
    BOOST_TEST(i.index == REG_ESI);

    i = decode_ok("67668b04cd00100000", false); // a32 o32 in 16-bit code
    BOOST_TEST(i.addr32);
    BOOST_TEST(i.op32);
    BOOST_TEST(i.index == REG_ECX);
}

BOOST_AUTO_TEST_CASE(operand_size_and_immediates) {
    auto i = decode_ok("66b83412", true); // mov ax, 0x1234
    BOOST_TEST(!i.op32);
    BOOST_TEST(i.imm == 0x1234u);
    i = decode_ok("b83412", false);
    BOOST_TEST(i.imm == 0x1234u);
    i = decode_ok("66b878563412", false); // mov eax, imm32 in 16-bit code
    BOOST_TEST(i.op32);
    BOOST_TEST(i.imm == 0x1234'5678u);
    i = decode_ok("69c145230100", true); // imul eax, ecx, 0x12345
    BOOST_TEST(i.imm == 0x12345u);
    i = decode_ok("6bd9fd", true); // imul ebx, ecx, -3
    BOOST_TEST(i.imm == 0xFFFF'FFFDu);
    i = decode_ok("83c0ff", true); // add eax, -1
    BOOST_TEST(i.imm == 0xFFFF'FFFFu);
    i = decode_ok("80c0ff", true); // add al, 0xff: zero-extended
    BOOST_TEST(i.imm == 0xFFu);
    i = decode_ok("c8100003", true); // enter 16, 3
    BOOST_TEST(i.imm == 16u);
    BOOST_TEST(i.imm2 == 3u);
    i = decode_ok("9a785634123412", true); // call 0x1234:0x12345678
    BOOST_TEST(i.imm == 0x1234'5678u);
    BOOST_TEST(i.imm2 == 0x1234u);
    i = decode_ok("ea00f000f0", false); // jmp 0xf000:0xf000
    BOOST_TEST(i.imm == 0xF000u);
    BOOST_TEST(i.imm2 == 0xF000u);
    i = decode_ok("a178563412", true); // mov eax, [moffs32]
    BOOST_TEST(i.disp == 0x1234'5678u);
    i = decode_ok("67a13412", true); // moffs16 by address size
    BOOST_TEST(i.disp == 0x1234u);
    i = decode_ok("c20800", true); // ret 8
    BOOST_TEST(i.imm == 8u);
    i = decode_ok("f6c012", false); // test al, 0x12: group 3 /0 has imm8
    BOOST_TEST(i.imm == 0x12u);
    decode_ok("f6d0", false);        // not al: no immediate
    decode_ok("f7c03412", false);    // test ax, imm16
    decode_ok("f7d8", true);         // neg eax
    decode_ok("e9fcffffff", true);   // jmp rel32
    decode_ok("0f8500010000", true); // jnz rel32
    decode_ok("0f85fc00", false);    // jnz rel16
}

BOOST_AUTO_TEST_CASE(map_0f) {
    auto i = decode_ok("0fbae805", true); // bts eax, 5
    BOOST_TEST(i.opcode == 0x1BA);
    BOOST_TEST(i.reg == 5);
    BOOST_TEST(i.imm == 5u);
    i = decode_ok("0f2000", true); // mov eax, cr0 with mod = 0: still a register, no displacement
    BOOST_TEST(i.opcode == 0x120);
    BOOST_TEST(i.mod == 3);
    decode_ok("0fa4d808", true);      // shld eax, ebx, 8
    decode_ok("0fb606", true);        // movzx eax, byte [esi]
    decode_ok("0fc8", true);          // bswap eax
    decode_ok("0fa2", true);          // cpuid
    decode_ok("0f0116e810", false);   // lgdt [0x10e8]
    auto u = decode_ok("0f0b", true); // ud2
    BOOST_TEST(u.handler == &exec_undefined);
}

BOOST_AUTO_TEST_CASE(prefixes_rep_lock_and_limits) {
    auto i = decode_ok("f3a5", true);
    BOOST_TEST(i.rep == 0xF3);
    i = decode_ok("f2ae", false);
    BOOST_TEST(i.rep == 0xF2);
    // Last segment override wins.
    i = decode_ok("262e3e8b07", false);
    BOOST_TEST(i.seg == SEG_DS);

    // LOCK: only read-modify-write of memory on the listed opcodes.
    BOOST_TEST(decode_ok("f00106", true).handler != &exec_undefined);
    BOOST_TEST(decode_ok("f001c0", true).handler == &exec_undefined);
    BOOST_TEST(decode_ok("f090", true).handler == &exec_undefined);
    BOOST_TEST(decode_ok("f0800e341200", false).handler != &exec_undefined); // lock or byte [0x1234], 0
    BOOST_TEST(decode_ok("f0803e341200", false).handler == &exec_undefined); // CMP (/7) is not lockable

    // 15 bytes is the limit; 14 prefixes + NOP is fine, 15 are too long.
    std::vector<u8> ok(14, 0x66);
    ok.push_back(0x90);
    DecodedInsn insn;
    BOOST_TEST(int(decode(ok.data(), ok.size(), true, insn)) == int(DecodeStatus::Ok));
    BOOST_TEST(insn.length == 15);
    std::vector<u8> too_long(15, 0x66);
    too_long.push_back(0x90);
    BOOST_TEST(int(decode(too_long.data(), too_long.size(), true, insn)) == int(DecodeStatus::TooLong));

    // Short input is reported, never read past.
    auto partial = hex("8b8c2478");
    BOOST_TEST(int(decode(partial.data(), partial.size(), true, insn)) == int(DecodeStatus::NeedMore));
    BOOST_TEST(int(decode(partial.data(), 0, true, insn)) == int(DecodeStatus::NeedMore));
    auto escape = hex("0f");
    BOOST_TEST(int(decode(escape.data(), escape.size(), true, insn)) == int(DecodeStatus::NeedMore));
}

BOOST_AUTO_TEST_CASE(random_bytes_never_crash) {
    std::mt19937 rng(12345);
    unsigned ok = 0, more = 0, too_long = 0;
    for (unsigned round = 0; round < 200'000; ++round) {
        std::size_t n = rng() % 17;
        // Exactly n bytes on the heap so ASan catches any over-read.
        std::vector<u8> bytes(n);
        for (auto& b : bytes)
            b = static_cast<u8>(rng());
        if (rng() % 4 == 0 && n > 3) bytes[0] = 0x0F;
        DecodedInsn insn;
        DecodeStatus st = decode(bytes.data(), n, rng() % 2 == 0, insn);
        switch (st) {
        case DecodeStatus::Ok:
            ++ok;
            BOOST_TEST_REQUIRE((insn.length >= 1 && insn.length <= 15 && insn.length <= n));
            BOOST_TEST_REQUIRE(insn.handler != nullptr);
            break;
        case DecodeStatus::NeedMore:
            ++more;
            break;
        case DecodeStatus::TooLong:
            ++too_long;
            break;
        }
    }
    BOOST_TEST(ok > 100'000u);
    BOOST_TEST(more > 0u);
    BOOST_TEST_MESSAGE("decoded " << ok << ", short " << more << ", too long " << too_long);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa
