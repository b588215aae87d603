// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/cpu/cpu_test_support.h"

#include <cstring>
#include <stdexcept>

namespace vsa::test {

TestMachine::TestMachine(u64 ram, Clock::Mode mode) : clock(mode) {
    auto m = MemoryMap::create(ram);
    if (!m) throw std::runtime_error(m.error());
    memory = m.release_value();
    // The whole shadow area is plain RAM for these tests.
    memory->set_pam(MemoryMap::SHADOW_START, MemoryMap::SHADOW_END - MemoryMap::SHADOW_START, true, true);
    memory->set_a20(true);
    io.map(0, 0x10000, ports);
    cpu = std::make_unique<Interpreter>(CpuEnvironment{*memory, io, clock, interrupts});
    if (mode == Clock::Mode::Deterministic) clock.set_instruction_counter(cpu->instruction_counter(), 1);
}

void TestMachine::load(u32 phys, std::vector<u8> const& bytes) {
    std::memcpy(memory->ram() + phys, bytes.data(), bytes.size());
}

u32 TestMachine::peek32(u32 phys) {
    u32 v = 0;
    std::memcpy(&v, memory->ram() + phys, 4);
    return v;
}

void TestMachine::poke32(u32 phys, u32 v) {
    std::memcpy(memory->ram() + phys, &v, 4);
}

CpuExit TestMachine::run_until_halt(u64 budget) {
    return cpu->run(clock.now() + budget);
}

} // namespace vsa::test
