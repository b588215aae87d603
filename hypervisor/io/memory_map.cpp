// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/io/memory_map.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vsa {

namespace {
constexpr u64 BIOS_ALIAS_SIZE = 128 * KiB;
constexpr u64 MAX_BIOS = 16 * MiB;
} // namespace

Result<std::unique_ptr<MemoryMap>, std::string> MemoryMap::create(u64 ram_bytes) {
    if (ram_bytes < MiB || ram_bytes % MiB != 0 || ram_bytes > 64 * GiB)
        return std::string("guest RAM must be a whole number of MiB between 1 MiB and 64 GiB");
    void* p =
        mmap(nullptr, ram_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return std::string("cannot reserve guest RAM: ") + std::strerror(errno);
    std::unique_ptr<MemoryMap> map(new MemoryMap());
    map->m_ram = static_cast<u8*>(p);
    map->m_ram_size = ram_bytes;
    map->m_low_ram = std::min<u64>(ram_bytes, PCI_HOLE_START);
    return map;
}

MemoryMap::~MemoryMap() {
    if (m_ram) munmap(m_ram, m_ram_size);
}

Result<void, std::string> MemoryMap::set_bios(std::vector<u8> image) {
    if (image.empty() || image.size() % (64 * KiB) != 0 || image.size() > MAX_BIOS)
        return std::string("the BIOS image must be a multiple of 64 KiB, at most 16 MiB");
    m_bios = std::move(image);
    ++m_generation;
    return Ok{};
}

bool MemoryMap::overlaps(PhysAddr base, u64 size) const {
    for (auto const& m : m_mmio)
        if (base < m.base + m.size && m.base < base + size) return true;
    for (auto const& r : m_roms)
        if (base < r.base + r.data.size() && r.base < base + size) return true;
    return false;
}

bool MemoryMap::map_rom(PhysAddr base, std::span<u8 const> data, void const* owner) {
    if (data.empty() || base + data.size() < base || overlaps(base, data.size())) return false;
    m_roms.push_back({base, data, owner});
    ++m_generation;
    return true;
}

void MemoryMap::unmap_rom(void const* owner) {
    std::erase_if(m_roms, [owner](RomRegion const& r) { return r.owner == owner; });
    ++m_generation;
}

bool MemoryMap::map_mmio(PhysAddr base, u64 size, Device& device, u64 offset_base) {
    if (size == 0 || base + size < base || overlaps(base, size)) return false;
    m_mmio.push_back({base, size, &device, offset_base});
    ++m_generation;
    return true;
}

void MemoryMap::unmap_mmio(PhysAddr base, Device& device) {
    std::erase_if(m_mmio, [&](MmioRegion const& m) { return m.base == base && m.device == &device; });
    ++m_generation;
}

void MemoryMap::set_pam(PhysAddr base, u64 size, bool read_ram, bool write_ram) {
    if (base < SHADOW_START || base + size > SHADOW_END) return;
    for (PhysAddr a = base; a < base + size; a += PAM_GRANULE)
        m_pam[(a - SHADOW_START) / PAM_GRANULE] = {read_ram, write_ram};
    ++m_generation;
}

void MemoryMap::set_a20(bool enabled) {
    PhysAddr mask = enabled ? ~PhysAddr(0) : ~PhysAddr(1u << 20);
    if (mask == m_a20_mask) return;
    m_a20_mask = mask;
    ++m_generation;
}

MemoryMap::MmioRegion const* MemoryMap::find_mmio(PhysAddr addr) const {
    for (auto const& m : m_mmio)
        if (addr >= m.base && addr - m.base < m.size) return &m;
    return nullptr;
}

bool MemoryMap::page_has_mmio(PhysAddr page) const {
    for (auto const& m : m_mmio)
        if (page < m.base + m.size && m.base < page + PAGE_SIZE) return true;
    return false;
}

u8 const* MemoryMap::read_pointer(PhysAddr addr) const {
    if (addr >= SHADOW_START && addr < SHADOW_END) {
        if (m_pam[(addr - SHADOW_START) / PAM_GRANULE].read_ram) return m_ram + addr;
        // The last 128 KiB of the image (all of a smaller one) end at 1 MiB.
        u64 alias = std::min<u64>(m_bios.size(), BIOS_ALIAS_SIZE);
        if (addr >= SHADOW_END - alias) return m_bios.data() + m_bios.size() - (SHADOW_END - addr);
        return nullptr;
    }
    if (addr < m_low_ram) return m_ram + addr;
    if (addr >= FOUR_GIB && addr - FOUR_GIB < high_ram_size()) return m_ram + m_low_ram + (addr - FOUR_GIB);
    if (!m_bios.empty() && addr < FOUR_GIB && addr >= FOUR_GIB - m_bios.size())
        return m_bios.data() + (addr - (FOUR_GIB - m_bios.size()));
    for (auto const& r : m_roms)
        if (addr >= r.base && addr - r.base < r.data.size()) return r.data.data() + (addr - r.base);
    return nullptr;
}

u8* MemoryMap::write_pointer(PhysAddr addr) {
    if (addr >= SHADOW_START && addr < SHADOW_END)
        return m_pam[(addr - SHADOW_START) / PAM_GRANULE].write_ram ? m_ram + addr : nullptr;
    if (addr < m_low_ram) return m_ram + addr;
    if (addr >= FOUR_GIB && addr - FOUR_GIB < high_ram_size()) return m_ram + m_low_ram + (addr - FOUR_GIB);
    return nullptr;
}

u8 const* MemoryMap::host_read_page(PhysAddr addr) const {
    PhysAddr page = (addr & m_a20_mask) & ~(PAGE_SIZE - 1);
    if (page_has_mmio(page)) return nullptr;
    u8 const* first = read_pointer(page);
    // A ROM smaller than a page, or a page that straddles two regions, is
    // served by the slow path.
    if (!first || read_pointer(page + PAGE_SIZE - 1) != first + PAGE_SIZE - 1) return nullptr;
    return first;
}

u8* MemoryMap::host_write_page(PhysAddr addr) {
    PhysAddr page = (addr & m_a20_mask) & ~(PAGE_SIZE - 1);
    if (page_has_mmio(page)) return nullptr;
    u8* first = write_pointer(page);
    if (!first || write_pointer(page + PAGE_SIZE - 1) != first + PAGE_SIZE - 1) return nullptr;
    return first;
}

u8 MemoryMap::read_byte_slow(PhysAddr addr) {
    addr &= m_a20_mask;
    if (auto const* m = find_mmio(addr))
        return static_cast<u8>(m->device->mmio_read(addr - m->base + m->offset_base, Width::Byte));
    if (u8 const* p = read_pointer(addr)) return *p;
    ++m_unmapped;
    return 0xFF;
}

void MemoryMap::write_byte_slow(PhysAddr addr, u8 value) {
    addr &= m_a20_mask;
    if (auto const* m = find_mmio(addr)) {
        m->device->mmio_write(addr - m->base + m->offset_base, Width::Byte, value);
        return;
    }
    if (u8* p = write_pointer(addr)) {
        *p = value;
        return;
    }
    ++m_unmapped;
}

u32 MemoryMap::read(PhysAddr addr, Width width) {
    unsigned n = width_bytes(width);
    PhysAddr a = addr & m_a20_mask;
    if (auto const* m = find_mmio(a); m && a - m->base + n <= m->size)
        return m->device->mmio_read(a - m->base + m->offset_base, width) & width_mask(width);
    u32 value = 0;
    for (unsigned i = 0; i < n; ++i)
        value |= u32(read_byte_slow(addr + i)) << (8 * i);
    return value;
}

void MemoryMap::write(PhysAddr addr, Width width, u32 value) {
    unsigned n = width_bytes(width);
    PhysAddr a = addr & m_a20_mask;
    if (auto const* m = find_mmio(a); m && a - m->base + n <= m->size) {
        m->device->mmio_write(a - m->base + m->offset_base, width, value & width_mask(width));
        return;
    }
    for (unsigned i = 0; i < n; ++i)
        write_byte_slow(addr + i, static_cast<u8>(value >> (8 * i)));
}

bool MemoryMap::read_bytes(PhysAddr addr, std::span<u8> out) const {
    for (std::size_t done = 0; done < out.size();) {
        PhysAddr a = (addr + done) & m_a20_mask;
        u64 chunk = std::min<u64>(out.size() - done, PAGE_SIZE - (a % PAGE_SIZE));
        if (page_has_mmio(a & ~(PAGE_SIZE - 1))) return false;
        u8 const* p = read_pointer(a);
        if (!p || read_pointer(a + chunk - 1) != p + chunk - 1) return false;
        std::memcpy(out.data() + done, p, chunk);
        done += chunk;
    }
    return true;
}

bool MemoryMap::write_bytes(PhysAddr addr, std::span<u8 const> data) {
    // Check the whole range first: nothing is written unless all of it is RAM.
    for (std::size_t done = 0; done < data.size();) {
        PhysAddr a = (addr + done) & m_a20_mask;
        u64 chunk = std::min<u64>(data.size() - done, PAGE_SIZE - (a % PAGE_SIZE));
        if (page_has_mmio(a & ~(PAGE_SIZE - 1))) return false;
        u8* p = write_pointer(a);
        if (!p || write_pointer(a + chunk - 1) != p + chunk - 1) return false;
        done += chunk;
    }
    for (std::size_t done = 0; done < data.size();) {
        PhysAddr a = (addr + done) & m_a20_mask;
        u64 chunk = std::min<u64>(data.size() - done, PAGE_SIZE - (a % PAGE_SIZE));
        std::memcpy(write_pointer(a), data.data() + done, chunk);
        done += chunk;
    }
    return true;
}

} // namespace vsa
