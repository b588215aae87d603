// SPDX-License-Identifier: GPL-2.0-or-later
// Interpreter speed, informational only (no assertion on time): a tight
// 32-bit ALU loop and a loop with memory operands, CALL/RET and PUSH/POP,
// in flat protected mode. Prints MIPS. The target is Bochs 2.7's
// speed (70-90 MIPS on our build machine) in a Release build without
// sanitizers; Debug/sanitizer builds run a shorter loop.
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>

namespace vsa::test {

namespace {

#ifdef NDEBUG
constexpr u32 SCALE = 1;
#else
constexpr u32 SCALE = 10;
#endif

double run_loop(char const* name, std::vector<u8> code, u32 iterations, unsigned insns_per_iteration) {
    // The loop count is the imm32 of the leading MOV ECX.
    code[1] = static_cast<u8>(iterations);
    code[2] = static_cast<u8>(iterations >> 8);
    code[3] = static_cast<u8>(iterations >> 16);
    code[4] = static_cast<u8>(iterations >> 24);
    TestMachine m(4 * MiB, Clock::Mode::Manual);
    m.enter_flat32();
    m.load(0x1000, code);
    m.cpu->set_eip(0x1000);
    u64 before = m.cpu->instructions_retired();
    auto t0 = std::chrono::steady_clock::now();
    CpuExit exit = m.cpu->run(Clock::NEVER);
    auto t1 = std::chrono::steady_clock::now();
    BOOST_TEST(int(exit.reason) == int(ExitReason::Halted));
    u64 retired = m.cpu->instructions_retired() - before;
    BOOST_TEST(retired >= u64(iterations) * insns_per_iteration);
    double seconds = std::chrono::duration<double>(t1 - t0).count();
    double mips = double(retired) / seconds / 1e6;
    std::printf("throughput %-12s %llu instructions in %.3f s: %.1f MIPS\n", name,
                static_cast<unsigned long long>(retired), seconds, mips);
    BOOST_TEST_MESSAGE("throughput " << name << ": " << mips << " MIPS");
    return mips;
}

} // namespace

BOOST_AUTO_TEST_SUITE(throughput)

BOOST_AUTO_TEST_CASE(alu_loop) {
    // mov ecx, N; l: add eax, ebx; xor edx, eax; sub ebx, 3; inc esi; dec ecx; jnz l; hlt
    run_loop("alu", from_hex("b915287f0001d831c283eb03464975f5f4"), 8'333'333 / SCALE, 6);
}

BOOST_AUTO_TEST_CASE(memory_and_call_loop) {
    // mov ecx, N; mov esi, 0x3000
    // l: mov eax, [esi]; add eax, 1; mov [esi], eax; call f; push ecx; pop ecx; dec ecx; jnz l; hlt
    // f: add edx, eax; ret
    run_loop("memory+call", from_hex("b9105e5f00be003000008b0683c0018906e80600000051594975eff401c2c3"),
             6'250'000 / SCALE, 10);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
