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
    ++m_flush_count;
}

u8 const* Mmu::code_page(u32 linear) {
    check_generation();
    u32 page = linear >> 12;
    Entry& e = m_read[page % TLB_SIZE];
    if (e.page == page) return e.host;
    // host_read_page gives a const pointer; the TLB keeps one pointer type
    // and never writes through a read entry.
    u8 const* host = m_memory.host_read_page(translate(linear & ~PAGE_MASK));
    if (!host) return nullptr;
    e.page = page;
    e.host = const_cast<u8*>(host);
    return host;
}

u32 Mmu::read_slow(u32 linear, unsigned size) {
    u32 offset = linear & PAGE_MASK;
    if (offset + size > 0x1000) {
        // Crosses a page: one byte at a time, each translated on its own.
        u32 v = 0;
        for (unsigned i = 0; i < size; ++i)
            v |= read_slow(linear + i, 1) << (8 * i);
        return v;
    }
    check_generation();
    u32 page = linear >> 12;
    if (u8 const* host = m_memory.host_read_page(translate(linear & ~PAGE_MASK))) {
        Entry& e = m_read[page % TLB_SIZE];
        e.page = page;
        e.host = const_cast<u8*>(host);
        u32 v = 0;
        std::memcpy(&v, host + offset, size);
        return v;
    }
    m_slow_path_hook = true;
    u32 v = m_memory.read(translate(linear), static_cast<Width>(size == 3 ? 4 : size));
    return v;
}

void Mmu::write_slow(u32 linear, unsigned size, u32 value) {
    u32 offset = linear & PAGE_MASK;
    if (offset + size > 0x1000) {
        for (unsigned i = 0; i < size; ++i)
            write_slow(linear + i, 1, (value >> (8 * i)) & 0xFF);
        return;
    }
    check_generation();
    u32 page = linear >> 12;
    if (u8* host = m_memory.host_write_page(translate(linear & ~PAGE_MASK))) {
        Entry& e = m_write[page % TLB_SIZE];
        e.page = page;
        e.host = host;
        std::memcpy(host + offset, &value, size);
        return;
    }
    m_slow_path_hook = true;
    m_memory.write(translate(linear), static_cast<Width>(size), value);
    // The write may have remapped memory (a device's MMIO register).
    check_generation();
}

} // namespace vsa
