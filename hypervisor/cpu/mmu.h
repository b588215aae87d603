// SPDX-License-Identifier: GPL-2.0-or-later
// Mmu: linear-address accesses for the interpreter. Segmentation (limit
// and type checks, done by Cpu against its SegmentCache) produces a linear
// address; this class turns it into a physical one (translate(), the one
// place where paging will slot in with issue 5: today linear = physical)
// and performs the access.
//
// Fast path: a direct-mapped software TLB of linear page -> host pointer,
// with separate read and write entries filled from
// MemoryMap::host_read_page()/host_write_page(). A null page (MMIO, open
// bus, write-protected shadow RAM, ROM for writes) takes the slow path,
// MemoryMap::read()/write(), every time. The TLB is dropped whenever
// MemoryMap::generation() changes (remaps, PAM, A20); the CPU checks that
// after every port or MMIO cycle and at the start of run(), the only
// places where the map can change.
//
// Accesses that cross a page are split into bytes, each translated on its
// own, as paging will need. Every access returns a Result; none throws.
//
// Deliberately left out (issue 5): paging (CR0.PG, CR3 walks, #PF), the
// alignment check (#AC).
#pragma once

#include "hypervisor/base/result.h"
#include "hypervisor/base/types.h"
#include "hypervisor/cpu/cpu_types.h"
#include "hypervisor/io/memory_map.h"

#include <bit>
#include <cstring>

namespace vsa {

static_assert(std::endian::native == std::endian::little,
              "the TLB fast path copies guest bytes as host integers");

class Mmu {
public:
    static constexpr unsigned TLB_SIZE = 256;
    static constexpr u32 PAGE_MASK = 0xFFF;

    // `slow_path_hook` is set to true after every slow-path access: an MMIO
    // cycle may have changed the interrupt state or the memory map.
    Mmu(MemoryMap& memory, bool& slow_path_hook);

    MemoryMap& memory() { return m_memory; }

    void flush();
    // Counts flushes, so a cached code-page pointer knows it went stale.
    u64 flush_count() const { return m_flush_count; }
    void check_generation() {
        if (m_memory.generation() != m_generation) flush();
    }

    // Linear -> physical. Identity until paging exists (issue 5).
    static PhysAddr translate(u32 linear) { return linear; }

    template <typename T>
    Result<T, Fault> read(u32 linear) {
        u32 page = linear >> 12;
        Entry const& e = m_read[page % TLB_SIZE];
        if (e.page == page && (linear & PAGE_MASK) <= 0x1000 - sizeof(T)) [[likely]] {
            T v;
            std::memcpy(&v, e.host + (linear & PAGE_MASK), sizeof(T));
            return v;
        }
        return static_cast<T>(read_slow(linear, sizeof(T)));
    }

    template <typename T>
    Exec write(u32 linear, T value) {
        u32 page = linear >> 12;
        Entry const& e = m_write[page % TLB_SIZE];
        if (e.page == page && (linear & PAGE_MASK) <= 0x1000 - sizeof(T)) [[likely]] {
            std::memcpy(e.host + (linear & PAGE_MASK), &value, sizeof(T));
            return {};
        }
        write_slow(linear, sizeof(T), value);
        return {};
    }

    // Host pointer to the 4 KiB page holding `linear` for instruction
    // fetch, or null (fetch byte by byte through read()).
    u8 const* code_page(u32 linear);

private:
    struct Entry {
        u32 page{~0u}; // linear page number; ~0 never matches (pages are 20 bits)
        u8* host{nullptr};
    };

    u32 read_slow(u32 linear, unsigned size);
    void write_slow(u32 linear, unsigned size, u32 value);

    MemoryMap& m_memory;
    bool& m_slow_path_hook;
    u64 m_generation{0};
    u64 m_flush_count{0};
    Entry m_read[TLB_SIZE];
    Entry m_write[TLB_SIZE];
};

} // namespace vsa
