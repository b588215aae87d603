// SPDX-License-Identifier: GPL-2.0-or-later
// Shared helpers of the CPU tests: a machine around one Interpreter (RAM,
// a port bus whose every port logs its cycles and reads all ones, a fake
// interrupt controller) and a loader for hand-assembled programs.
#pragma once

#include "hypervisor/cpu/interpreter.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/io_bus.h"
#include "hypervisor/io/memory_map.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace vsa::test {

// Every port: reads return all ones; every cycle is logged as the vectors
// write it ("r8:0060=ff", "w16:000c=fe9b").
class LoggingPorts final : public Device {
public:
    std::string_view name() const override { return "logging-ports"; }
    void reset() override { log.clear(); }
    u32 io_read(u16 offset, Width w) override {
        u32 v = width_mask(w);
        record('r', offset, w, v);
        return v;
    }
    void io_write(u16 offset, Width w, u32 value) override { record('w', offset, w, value); }
    void visit_state(StateVisitor&) override {}

    std::string log;

private:
    void record(char dir, u16 port, Width w, u32 v) {
        char buf[48];
        if (w == Width::Byte)
            std::snprintf(buf, sizeof buf, "%c8:%04x=%02x", dir, unsigned(port), unsigned(v & 0xFF));
        else if (w == Width::Word)
            std::snprintf(buf, sizeof buf, "%c16:%04x=%04x", dir, unsigned(port), unsigned(v & 0xFFFF));
        else
            std::snprintf(buf, sizeof buf, "%c32:%04x=%08x", dir, unsigned(port), unsigned(v));
        if (!log.empty()) log += ' ';
        log += buf;
    }
};

class FakeInterrupts final : public InterruptController {
public:
    bool intr_pending() const override { return !pending.empty(); }
    u8 acknowledge() override {
        if (pending.empty()) return 0xFF;
        u8 v = pending.front();
        pending.erase(pending.begin());
        ++acknowledged;
        return v;
    }
    std::vector<u8> pending;
    unsigned acknowledged{0};
};

struct TestMachine {
    explicit TestMachine(u64 ram = 2 * MiB, Clock::Mode mode = Clock::Mode::Deterministic);

    std::unique_ptr<MemoryMap> memory;
    IoBus io;
    LoggingPorts ports;
    Clock clock;
    FakeInterrupts interrupts;
    std::unique_ptr<Interpreter> cpu;

    void load(u32 phys, std::vector<u8> const& bytes);
    u8 peek8(u32 phys) { return memory->ram()[phys]; }
    u32 peek32(u32 phys);
    void poke32(u32 phys, u32 v);
    // Runs until HLT (or `budget` instructions): the exit of the last run().
    CpuExit run_until_halt(u64 budget = 10'000'000);

    // Flat 32-bit protected mode set up directly through the API: CS = 08
    // (code, base 0, 4 GiB, D=1), DS/ES/FS/GS/SS = 10 (data, 4 GiB, B=1),
    // ESP = 0x8000, and an IDT at 0x5000 whose vector v enters a HLT at
    // EXCEPTION_HALTS + v, so a test sees which exception was taken.
    static constexpr u32 EXCEPTION_HALTS = 0x6000;
    void enter_flat32();
    // Loads `code` + HLT at 0x1000, runs from there; returns the vector of
    // the exception taken, or -1 if the code ran into its HLT.
    int run_code(std::vector<u8> const& code);
};

std::vector<u8> from_hex(std::string const& hex);

// Writes a segment or system descriptor at `sel` of the table at `table`
// (`flags` is the G/DB/AVL nibble), or a gate (call, interrupt, trap,
// task) to `sel`:`offset` with the access byte `access`.
void set_desc(TestMachine& m, u32 table, u16 sel, u32 base, u32 limit, u8 access, u8 flags);
void set_gate(TestMachine& m, u32 table, u16 index_offset, u16 sel, u32 offset, u8 access, u8 params = 0);

// Assembles `source` with nasm -f bin (the source sets its own org and
// bits); throws with nasm's messages if it does not assemble.
std::vector<u8> assemble(std::string const& source);

} // namespace vsa::test
