// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/cpu/mmu.h"

namespace vsa {

Mmu::Mmu(MemoryMap& memory, bool& slow_path_hook) : m_memory(memory), m_slow_path_hook(slow_path_hook) {
    flush();
}

void Mmu::flush() {
    for (auto& e : m_read)
        e = Entry{};
    for (auto& e : m_write)
        e = Entry{};
    m_generation = m_memory.generation();
    m_has_large = false;
    ++m_epoch;
    ++m_flushes;
}

void Mmu::flush_page(u32 linear) {
    // A 4 MiB page sits in the TLB as 1024 small entries: INVLPG anywhere
    // in it must drop them all, so any large page costs a full flush.
    if (m_has_large) {
        flush();
        return;
    }
    u32 page = linear >> 12;
    Entry& r = m_read[page % TLB_SIZE];
    Entry& w = m_write[page % TLB_SIZE];
    if ((r.page & ~USER_TAG) == page) r = Entry{};
    if ((w.page & ~USER_TAG) == page) w = Entry{};
    ++m_epoch;
}

void Mmu::set_paging(bool pg, bool wp, bool pse, u32 cr3) {
    m_paging = pg;
    m_wp = wp;
    m_pse = pse;
    m_cr3 = cr3;
    flush();
}

namespace {
// May an access of this kind use an entry whose (combined) U/S and R/W
// bits are `bits`? Supervisor writes ignore R/W unless CR0.WP (SDM vol. 3,
// 4.6.1).
bool allowed(u32 bits, bool write, bool user, bool wp) {
    if (user && !(bits & PTE_US)) return false;
    if (write && !(bits & PTE_RW) && (user || wp)) return false;
    return true;
}
} // namespace

Result<PhysAddr, Fault> Mmu::translate(u32 linear, bool write, bool user) {
    if (!m_paging) return PhysAddr(linear);
    ++m_walks;
    u32 error = (write ? PF_W : 0) | (user ? PF_U : 0);
    PhysAddr pde_addr = (m_cr3 & ~PAGE_MASK) | ((linear >> 22) << 2);
    u32 pde = read_phys32(pde_addr);
    if (!(pde & PTE_P)) return page_fault(linear, error);
    if (m_pse && (pde & PDE_PS)) {
        if (!allowed(pde, write, user, m_wp)) return page_fault(linear, error | PF_P);
        u32 updated = pde | PTE_A | (write ? PTE_D : 0);
        if (updated != pde) m_memory.write(pde_addr, Width::Dword, updated);
        m_has_large = true;
        return PhysAddr((pde & 0xFFC0'0000u) | (linear & 0x003F'FFFFu));
    }
    PhysAddr pte_addr = (pde & ~PAGE_MASK) | (((linear >> 12) & 0x3FF) << 2);
    u32 pte = read_phys32(pte_addr);
    if (!(pte & PTE_P)) return page_fault(linear, error);
    // Both levels must allow the access: the effective U/S and R/W are the
    // AND of the two entries.
    if (!allowed(pde & pte, write, user, m_wp)) return page_fault(linear, error | PF_P);
    if (!(pde & PTE_A)) m_memory.write(pde_addr, Width::Dword, pde | PTE_A);
    u32 updated = pte | PTE_A | (write ? PTE_D : 0);
    if (updated != pte) m_memory.write(pte_addr, Width::Dword, updated);
    return PhysAddr((pte & ~PAGE_MASK) | (linear & PAGE_MASK));
}

bool Mmu::peek_translate(u32 linear, PhysAddr& phys) {
    if (!m_paging) {
        phys = linear;
        return true;
    }
    u32 pde = read_phys32((m_cr3 & ~PAGE_MASK) | ((linear >> 22) << 2));
    if (!(pde & PTE_P)) return false;
    if (m_pse && (pde & PDE_PS)) {
        phys = (pde & 0xFFC0'0000u) | (linear & 0x003F'FFFFu);
        return true;
    }
    u32 pte = read_phys32((pde & ~PAGE_MASK) | (((linear >> 12) & 0x3FF) << 2));
    if (!(pte & PTE_P)) return false;
    phys = (pte & ~PAGE_MASK) | (linear & PAGE_MASK);
    return true;
}

u8 const* Mmu::code_page(u32 linear) {
    check_generation();
    u32 page = linear >> 12;
    Entry& e = m_read[page % TLB_SIZE];
    if (e.page == (page | m_user_tag)) return e.host;
    auto phys = translate(linear & ~PAGE_MASK, false, m_user);
    if (!phys) return nullptr;
    u8 const* host = m_memory.host_read_page(phys.value());
    if (!host) return nullptr;
    // host_read_page gives a const pointer; the TLB keeps one pointer type
    // and never writes through a read entry.
    e.page = page | m_user_tag;
    e.host = const_cast<u8*>(host);
    return host;
}

Result<u32, Fault> Mmu::read_slow(u32 linear, unsigned size, bool user) {
    check_generation();
    u32 offset = linear & PAGE_MASK;
    if (offset + size > 0x1000) {
        // Crosses a page: both translations first, then byte by byte.
        unsigned first = 0x1000 - offset;
        PhysAddr a = TRY(translate(linear, false, user));
        PhysAddr b = TRY(translate((linear & ~PAGE_MASK) + 0x1000, false, user));
        m_slow_path_hook = true;
        u32 v = 0;
        for (unsigned i = 0; i < size; ++i) {
            PhysAddr p = i < first ? a + i : b + (i - first);
            v |= m_memory.read(p, Width::Byte) << (8 * i);
        }
        return v;
    }
    PhysAddr phys = TRY(translate(linear, false, user));
    if (u8 const* host = m_memory.host_read_page(phys & ~PhysAddr(PAGE_MASK))) {
        Entry& e = m_read[(linear >> 12) % TLB_SIZE];
        e.page = (linear >> 12) | (user ? USER_TAG : 0);
        e.host = const_cast<u8*>(host);
        u32 v = 0;
        std::memcpy(&v, host + offset, size);
        return v;
    }
    m_slow_path_hook = true;
    return m_memory.read(phys, static_cast<Width>(size == 3 ? 4 : size));
}

Exec Mmu::probe_write_slow(u32 linear, unsigned size) {
    TRY(translate(linear, true, m_user));
    if ((linear & PAGE_MASK) + size > 0x1000) TRY(translate((linear & ~PAGE_MASK) + 0x1000, true, m_user));
    return {};
}

Exec Mmu::write_slow(u32 linear, unsigned size, u32 value, bool user) {
    check_generation();
    u32 offset = linear & PAGE_MASK;
    if (offset + size > 0x1000) {
        unsigned first = 0x1000 - offset;
        PhysAddr a = TRY(translate(linear, true, user));
        PhysAddr b = TRY(translate((linear & ~PAGE_MASK) + 0x1000, true, user));
        m_slow_path_hook = true;
        for (unsigned i = 0; i < size; ++i) {
            PhysAddr p = i < first ? a + i : b + (i - first);
            m_memory.write(p, Width::Byte, (value >> (8 * i)) & 0xFF);
        }
        check_generation();
        return {};
    }
    PhysAddr phys = TRY(translate(linear, true, user));
    if (u8* host = m_memory.host_write_page(phys & ~PhysAddr(PAGE_MASK))) {
        Entry& e = m_write[(linear >> 12) % TLB_SIZE];
        e.page = (linear >> 12) | (user ? USER_TAG : 0);
        e.host = host;
        std::memcpy(host + offset, &value, size);
        return {};
    }
    m_slow_path_hook = true;
    m_memory.write(phys, static_cast<Width>(size), value);
    // The write may have remapped memory (a device's MMIO register).
    check_generation();
    return {};
}

} // namespace vsa
