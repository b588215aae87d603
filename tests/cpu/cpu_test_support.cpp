// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/cpu/cpu_test_support.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

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

void TestMachine::enter_flat32() {
    cpu->reset();
    cpu->set_cr0(cpu->cr0() | CR0_PE);
    SegmentCache code;
    code.selector = 0x08;
    code.base = 0;
    code.limit = 0xFFFF'FFFF;
    code.access = ACC_P | ACC_S | ACC_CODE | ACC_RW | ACC_ACCESSED;
    code.flags = DESC_G | DESC_DB;
    cpu->set_segment_cache(SEG_CS, code);
    SegmentCache data = code;
    data.selector = 0x10;
    data.access = ACC_P | ACC_S | ACC_RW | ACC_ACCESSED;
    for (SegReg s : {SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS})
        cpu->set_segment_cache(s, data);
    cpu->set_esp(0x8000);
    // GDT at 0x4000: null, code, data (for segment loads and IRET).
    poke32(0x4000, 0);
    poke32(0x4004, 0);
    poke32(0x4008, 0x0000'FFFF);
    poke32(0x400C, 0x00CF'9B00);
    poke32(0x4010, 0x0000'FFFF);
    poke32(0x4014, 0x00CF'9300);
    cpu->set_gdtr(TableRegister{0x4000, 0x17});
    for (u32 v = 0; v < 256; ++v) {
        u32 target = EXCEPTION_HALTS + v;
        poke32(0x5000 + v * 8, (target & 0xFFFF) | (0x08u << 16));
        poke32(0x5000 + v * 8 + 4, (target & 0xFFFF'0000u) | 0x8E00u);
        memory->ram()[target] = 0xF4;
    }
    cpu->set_idtr(TableRegister{0x5000, 0x7FF});
}

int TestMachine::run_code(std::vector<u8> const& code) {
    std::vector<u8> bytes = code;
    bytes.push_back(0xF4);
    load(0x1000, bytes);
    cpu->set_eip(0x1000);
    cpu->set_halted(false);
    CpuExit exit = run_until_halt(1'000'000);
    if (exit.reason != ExitReason::Halted) return -2;
    u32 eip = cpu->eip();
    if (eip > EXCEPTION_HALTS && eip <= EXCEPTION_HALTS + 256)
        return static_cast<int>(eip - EXCEPTION_HALTS - 1);
    return -1;
}

std::vector<u8> from_hex(std::string const& hex) {
    std::vector<u8> out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<u8>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return out;
}

void set_desc(TestMachine& m, u32 table, u16 sel, u32 base, u32 limit, u8 access, u8 flags) {
    u32 lo = (limit & 0xFFFF) | (base << 16);
    u32 hi = ((base >> 16) & 0xFF) | (u32(access) << 8) | (limit & 0xF'0000u) | (u32(flags) << 20) |
             (base & 0xFF00'0000u);
    m.poke32(table + (sel & ~7u), lo);
    m.poke32(table + (sel & ~7u) + 4, hi);
}

void set_gate(TestMachine& m, u32 table, u16 index_offset, u16 sel, u32 offset, u8 access, u8 params) {
    m.poke32(table + index_offset, (offset & 0xFFFF) | (u32(sel) << 16));
    m.poke32(table + index_offset + 4, (offset & 0xFFFF'0000u) | (u32(access) << 8) | params);
}

std::vector<u8> assemble(std::string const& source) {
    char dir[] = "/tmp/vsa-asm-XXXXXX";
    if (!mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
    std::string d(dir);
    {
        std::ofstream in(d + "/t.asm");
        in << source;
    }
    std::string cmd = "nasm -f bin -o " + d + "/t.bin " + d + "/t.asm 2> " + d + "/t.err";
    int rc = std::system(cmd.c_str());
    std::ifstream bin(d + "/t.bin", std::ios::binary);
    std::vector<u8> out((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
    std::ifstream err(d + "/t.err");
    std::stringstream msg;
    msg << err.rdbuf();
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
    if (rc != 0) throw std::runtime_error("nasm failed: " + msg.str());
    return out;
}

} // namespace vsa::test
