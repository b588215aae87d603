// SPDX-License-Identifier: GPL-2.0-or-later
// Interpreter: the reference CpuBackend, a table-driven interpreter of the
// P6 integer instruction set (8086..80486 plus CMOVcc, CMPXCHG8B, RDMSR,
// WRMSR, RDPMC, SYSENTER, SYSEXIT) in real, protected (paged, rings 0-3,
// tasks) and virtual-8086 mode. Cpu holds the state and the services handlers
// use; this class adds the run loop, tracing and breakpoints.
//
// The run loop, per instruction: a one-byte "events" test (interrupts to
// check, halt, shutdown, single-step, breakpoints, tracing all set it),
// fetch through a cached host pointer of the code page, decode, call the
// decoded handler directly, count the instruction. The deadline and
// request_exit() are checked every BATCH instructions.
//
// Interrupt state can only change inside run() through a port or MMIO
// cycle, or when IF goes to 1, so INTR is sampled at run() entry and
// after those, not on every instruction.
#pragma once

#include "hypervisor/cpu/cpu.h"
#include "hypervisor/cpu/cpu_backend.h"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

namespace vsa {

class Interpreter final : public CpuBackend, public Cpu {
public:
    static constexpr unsigned BATCH = 1024;

    explicit Interpreter(CpuEnvironment env);

    CpuExit run(u64 deadline_ns) override;
    void reset() override;
    void raise_nmi() override;
    bool halted() const override { return m_halted; }
    u64 instructions_retired() const override { return m_icount; }
    u64 const* instruction_counter() const override { return &m_icount; }
    // Instructions decoded (decoded-instruction cache misses and slow
    // fetches near page or segment ends), full TLB flushes and page walks,
    // for vsa-vm --stats: the costs a guest's code pattern can multiply.
    u64 decodes() const { return m_decodes; }
    u64 tlb_flushes() const { return m_mmu.flushes(); }
    u64 page_walks() const { return m_mmu.walks(); }
    void visit_state(StateVisitor& v) override;

    // One line per instruction to `out` (null: off): CS:EIP, bytes,
    // mnemonic, registers and EFLAGS before the instruction runs.
    void set_trace(FILE* out) {
        m_trace = out;
        m_events = true;
    }
    // run() returns Breakpoint before executing an instruction at this
    // linear address; the next run() executes it.
    void add_breakpoint(u32 linear);
    void remove_breakpoint(u32 linear);
    void clear_breakpoints() { m_breakpoints.clear(); }

private:
    std::optional<CpuExit> boundary();
    [[gnu::always_inline]] inline void execute_one();
    [[gnu::noinline]] void fetch_fault_or_decode(u32 start, DecodedInsn& insn, bool& ok);
    void trace_line(FILE* out);

    FILE* m_trace{nullptr};
    std::vector<u32> m_breakpoints;
    bool m_skip_breakpoint{false};
    bool m_single_step{false}; // TF was set when the current instruction started
    bool m_faulted{false};     // the last instruction raised a fault
    // Cached code page: linear page number, host pointer, Mmu flush count.
    u32 m_fetch_page{~0u};
    u8 const* m_fetch_host{nullptr};
    u64 m_fetch_flushes{~0ull};

    // Decoded-instruction cache. An entry is keyed by the host address of
    // the instruction's first byte and the code size, and it keeps the
    // bytes it was decoded from: a hit is confirmed by comparing them with
    // the bytes there now (two masked 64-bit compares). So no write path
    // (CPU stores, string instructions, device DMA, a remapped page) needs
    // to invalidate anything, and self-modifying code is always seen.
    // Decoding was half of the interpreter's time on a tight loop.
    //
    // An entry is one host cache line (the masks come from the length),
    // and entries live in an arena filled in the order instructions are
    // first run, so straight-line code is consecutive lines the host
    // prefetches as a stream. Each entry links the one of the instruction
    // that follows it in memory (DecodedInsn::cache_next); the hash table
    // of 2-byte slots, small enough to stay in the host's L1/L2, is only
    // consulted after a jump or when a link went stale. A hash-indexed
    // table of entries made the entry load the hottest instruction of a
    // guest boot: a Linux guest's code does not fit the host's L2, and
    // scattered lines defeat the prefetcher.
    //
    // The arena is reused first-in first-out. A link or slot to a reused
    // entry fails the tag compare and falls back to the hash, then to a
    // fresh decode.
    struct alignas(64) CachedInsn {
        std::uintptr_t tag{0}; // host address | CODE32_TAG; 0 never matches
        u64 bytes_lo{0};       // the instruction's bytes, masked to its length
        u64 bytes_hi{0};
        DecodedInsn insn;
    };
    static_assert(sizeof(CachedInsn) == 64);
    static constexpr std::uintptr_t CODE32_TAG = std::uintptr_t(1) << 63; // above any user-space address
    static constexpr unsigned ARENA_ENTRIES = 16384;                      // 1 MiB; indexes fit a u16
    static constexpr unsigned LOOKUP_SLOTS = 16384;
    static_assert(ARENA_ENTRIES <= 65536);
    static std::size_t lookup_slot(std::uintptr_t key) { return (key ^ (key >> 14)) & (LOOKUP_SLOTS - 1); }
    std::unique_ptr<CachedInsn[]> m_arena;
    std::unique_ptr<u16[]> m_lookup;
    u16 m_alloc{0};     // the arena entry to reuse next
    u16 m_predicted{0}; // the last entry's link: the likely next entry
    // The entry just run and the host address that follows it: the entry
    // found for that address becomes its link.
    CachedInsn* m_link_from{nullptr};
    std::uintptr_t m_link_key{0};
    // Instructions near a page or segment end are decoded here.
    DecodedInsn m_slow_insn;
    u64 m_decodes{0};
};

} // namespace vsa
