// SPDX-License-Identifier: GPL-2.0-or-later
// Mmu: linear-address accesses for the interpreter. Segmentation (limit
// and type checks, done by Cpu against its SegmentCache) produces a linear
// address; this class turns it into a physical one through the 32-bit
// two-level page tables when CR0.PG is set (SDM vol. 3, 4.3: 4 KiB pages,
// and 4 MiB pages with CR4.PSE), checks U/S and R/W (with CR0.WP for
// supervisor writes), sets the accessed and dirty bits, and performs the
// access, or returns #PF with its error code (P, W/R, U/S).
//
// Fast path: a direct-mapped software TLB of linear page -> host pointer,
// with separate read and write entries. An entry's tag is the linear page
// number plus a user bit (bit 20), so user accesses (CPL 3) and supervisor
// accesses (CPL 0-2, and the implicit supervisor accesses to descriptor
// tables and the TSS) never share an entry, while the lookup stays one
// load and compare (a table pointer per privilege cost the memory loop
// 15%). An entry
// exists only when the access it serves is allowed: a write entry only
// once the dirty bit is set, a user entry only for a user page. Entries
// come from MemoryMap::host_read_page()/host_write_page() on the physical
// page; a null page (MMIO, open bus, write-protected shadow RAM, ROM for
// writes) is never cached and takes the slow path every time.
//
// Flushes: the whole TLB on CR0/CR3/CR4 writes and task switches (global
// pages are treated as non-global, which is always correct), one page on
// INVLPG, and everything when MemoryMap::generation() changes (remaps,
// PAM, A20). epoch() counts flushes and privilege switches, so a cached
// code-page pointer knows when to look again.
//
// Accesses that cross a page translate both pages before touching either,
// so a fault on the second page leaves nothing half written, and the
// fault address is that of the first byte on the faulting page.
//
// The linear address of the last #PF is kept here; the CPU copies it into
// CR2 when it raises the fault (a speculative translation, such as the
// instruction fetcher reading ahead, must not change CR2).
//
// Deliberately left out: PAE, NX (so no I/D error bit), the alignment
// check (#AC), global-page retention across CR3 loads (see above).
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

// Page-table entry bits (SDM vol. 3, 4.3, tables 4-4 .. 4-6).
constexpr u32 PTE_P = 1u << 0;
constexpr u32 PTE_RW = 1u << 1;
constexpr u32 PTE_US = 1u << 2;
constexpr u32 PTE_A = 1u << 5;
constexpr u32 PTE_D = 1u << 6;
constexpr u32 PDE_PS = 1u << 7;
// #PF error code bits.
constexpr u32 PF_P = 1u << 0;
constexpr u32 PF_W = 1u << 1;
constexpr u32 PF_U = 1u << 2;

class Mmu {
public:
    static constexpr unsigned TLB_SIZE = 256;
    static constexpr u32 PAGE_MASK = 0xFFF;

    // `slow_path_hook` is set to true after every slow-path access: an MMIO
    // cycle may have changed the interrupt state or the memory map.
    Mmu(MemoryMap& memory, bool& slow_path_hook);

    MemoryMap& memory() { return m_memory; }

    // Paging controls, from CR0.PG/WP, CR4.PSE and CR3. Flushes.
    void set_paging(bool pg, bool wp, bool pse, u32 cr3);
    bool paging() const { return m_paging; }
    // Accesses through read()/write() are user accesses (CPL 3).
    void set_user(bool user) {
        if (user == m_user) return;
        m_user = user;
        m_user_tag = user ? USER_TAG : 0;
        ++m_epoch;
    }
    bool user() const { return m_user; }

    void flush();
    // INVLPG: drops the translations of the page holding `linear`.
    void flush_page(u32 linear);
    // Counts flushes and privilege switches: a cached code-page pointer
    // compares it to know it went stale.
    u64 epoch() const { return m_epoch; }
    u64 flushes() const { return m_flushes; }
    u64 walks() const { return m_walks; } // page-table walks (TLB misses)
    void check_generation() {
        if (m_memory.generation() != m_generation) flush();
    }
    // Linear address of the last #PF returned (for CR2).
    u32 fault_address() const { return m_fault_address; }

    // Accesses at the current privilege.
    template <typename T>
    Loaded<T> read(u32 linear) {
        return read_in<T>(m_user_tag, linear);
    }
    template <typename T>
    Exec write(u32 linear, T value) {
        return write_in<T>(m_user_tag, linear, value);
    }
    // Implicit supervisor accesses (descriptor tables, IDT, TSS), even at
    // CPL 3 (SDM vol. 3, 4.6.1).
    template <typename T>
    Loaded<T> read_sys(u32 linear) {
        return read_in<T>(0, linear);
    }
    template <typename T>
    Exec write_sys(u32 linear, T value) {
        return write_in<T>(0, linear, value);
    }

    // Would a write of `size` bytes at `linear` succeed? Faults as the
    // write would (and sets the dirty bits it would set), writes nothing.
    Exec probe_write(u32 linear, unsigned size) {
        u32 page = linear >> 12;
        Entry const& e = m_write[page % TLB_SIZE];
        if ((e.page == (page | m_user_tag) && (linear & PAGE_MASK) <= 0x1000 - size) || !m_paging) [[likely]]
            return {};
        return probe_write_slow(linear, size);
    }

    // Host pointer to the 4 KiB page holding `linear` for instruction
    // fetch at the current privilege, or null (fetch byte by byte through
    // read(), which raises the fault if there is one).
    u8 const* code_page(u32 linear);

    // Linear -> physical for an access of the given kind, with the
    // accessed/dirty updates. On failure the fault is #PF and
    // fault_address() is `linear`.
    Result<PhysAddr, Fault> translate(u32 linear, bool write, bool user);
    // The same without side effects and without checks beyond presence
    // (debuggers, traces): false if not mapped.
    bool peek_translate(u32 linear, PhysAddr& phys);

private:
    static constexpr u32 USER_TAG = 1u << 20;
    struct Entry {
        u32 page{~0u}; // linear page number | USER_TAG; ~0 never matches
        u8* host{nullptr};
    };

    template <typename T>
    Loaded<T> read_in(u32 tag, u32 linear) {
        u32 page = linear >> 12;
        Entry const& e = m_read[page % TLB_SIZE];
        if (e.page == (page | tag) && (linear & PAGE_MASK) <= 0x1000 - sizeof(T)) [[likely]] {
            T v;
            std::memcpy(&v, e.host + (linear & PAGE_MASK), sizeof(T));
            return v;
        }
        u32 v = TRY(read_slow(linear, sizeof(T), tag != 0));
        return static_cast<T>(v);
    }

    template <typename T>
    Exec write_in(u32 tag, u32 linear, T value) {
        u32 page = linear >> 12;
        Entry const& e = m_write[page % TLB_SIZE];
        if (e.page == (page | tag) && (linear & PAGE_MASK) <= 0x1000 - sizeof(T)) [[likely]] {
            std::memcpy(e.host + (linear & PAGE_MASK), &value, sizeof(T));
            return {};
        }
        return write_slow(linear, sizeof(T), value, tag != 0);
    }

    Result<u32, Fault> read_slow(u32 linear, unsigned size, bool user);
    Exec write_slow(u32 linear, unsigned size, u32 value, bool user);
    Exec probe_write_slow(u32 linear, unsigned size);
    Fault page_fault(u32 linear, u32 error) {
        m_fault_address = linear;
        return Fault::with_error(VEC_PF, error);
    }
    u32 read_phys32(PhysAddr a) { return m_memory.read(a, Width::Dword); }

    MemoryMap& m_memory;
    bool& m_slow_path_hook;
    u64 m_generation{0};
    u64 m_epoch{0};
    u64 m_flushes{0};
    u64 m_walks{0};
    bool m_paging{false};
    bool m_wp{false};
    bool m_pse{false};
    bool m_user{false};
    u32 m_user_tag{0};       // USER_TAG while m_user
    bool m_has_large{false}; // a 4 MiB page was entered since the last flush
    u32 m_cr3{0};
    u32 m_fault_address{0};
    Entry m_read[TLB_SIZE];
    Entry m_write[TLB_SIZE];
};

} // namespace vsa
