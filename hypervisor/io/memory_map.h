// SPDX-License-Identifier: GPL-2.0-or-later
// MemoryMap: the guest physical address space of a PC.
//
//   0 .. 0x9FFFF          RAM (conventional memory)
//   0xA0000 .. 0xBFFFF    the VGA window (an MMIO region the VGA maps)
//   0xC0000 .. 0xFFFFF    shadow area: per PAM segment, reads and writes go
//                         to RAM or to the "PCI side" (the BIOS ROM alias
//                         at 0xE0000..0xFFFFF, open bus below it); the
//                         i440FX's PAM registers drive set_pam()
//   0x100000 .. low end   RAM, up to the PCI hole at 0xE0000000
//   PCI hole              MMIO BARs, ROM BARs, the BIOS at 4 GiB - size
//   4 GiB ..              RAM above the hole (for the PAE/long-mode CPUs
//                         of later issues)
//
// Guest RAM is one anonymous host mapping (MAP_NORESERVE: untouched pages
// cost nothing) so a KVM backend can register it as one memory slot.
//
// The A20 gate masks physical address bit 20 for every access made through
// this map (CPU and the loaders alike; DMA on a PC ignores A20 but none of
// our devices needs that distinction).
//
// Fast path: host_read_page()/host_write_page() give the host pointer of a
// whole 4 KiB page of plain RAM or ROM, or null when the page needs the slow
// path (MMIO, open bus, write-protected shadow). CPUs cache them in a TLB
// and drop the TLB when generation() changes (any remap, PAM or A20 flip).
#pragma once

#include "hypervisor/base/result.h"
#include "hypervisor/base/types.h"
#include "hypervisor/io/device.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace vsa {

class MemoryMap {
public:
    static constexpr PhysAddr PCI_HOLE_START = 0xE000'0000;
    static constexpr PhysAddr FOUR_GIB = 0x1'0000'0000;
    static constexpr u64 PAGE_SIZE = 4096;
    static constexpr PhysAddr SHADOW_START = 0xC0000;
    static constexpr PhysAddr SHADOW_END = 0x100000;
    static constexpr PhysAddr VGA_WINDOW = 0xA0000;

    // Reserves `ram_bytes` of guest RAM (a multiple of 1 MiB, at least 1 MiB).
    static Result<std::unique_ptr<MemoryMap>, std::string> create(u64 ram_bytes);
    ~MemoryMap();
    MemoryMap(MemoryMap const&) = delete;
    MemoryMap& operator=(MemoryMap const&) = delete;

    u8* ram() { return m_ram; }
    u64 ram_size() const { return m_ram_size; }
    // RAM below the PCI hole; the rest starts at 4 GiB.
    u64 low_ram_size() const { return m_low_ram; }
    u64 high_ram_size() const { return m_ram_size - m_low_ram; }

    // The system BIOS image (a multiple of 64 KiB, at most 16 MiB): mapped
    // at 4 GiB - size, its last 128 KiB (all of a 64 KiB image) also just
    // below 1 MiB on the PCI side of the shadow area.
    Result<void, std::string> set_bios(std::vector<u8> image);

    // A read-only region (a PCI expansion ROM BAR). Writes are dropped.
    bool map_rom(PhysAddr base, std::span<u8 const> data, void const* owner);
    void unmap_rom(void const* owner);
    // A device's MMIO range; offsets seen by the device start at
    // offset_base. Refused (false) if it overlaps another MMIO or ROM range.
    bool map_mmio(PhysAddr base, u64 size, Device& device, u64 offset_base = 0);
    void unmap_mmio(PhysAddr base, Device& device);

    // PAM: route one shadow segment's reads and writes to RAM or to the
    // PCI side. `base`/`size` must lie in [SHADOW_START, SHADOW_END).
    void set_pam(PhysAddr base, u64 size, bool read_ram, bool write_ram);

    void set_a20(bool enabled);
    bool a20() const { return m_a20_mask == ~PhysAddr(0); }
    PhysAddr a20_mask() const { return m_a20_mask; }

    u64 generation() const { return m_generation; }

    // Host pointer to the start of the page holding `addr` (after A20), or
    // null: the caller takes the slow path.
    u8 const* host_read_page(PhysAddr addr) const;
    u8* host_write_page(PhysAddr addr);

    // Slow path: any address, any alignment (an access that crosses a
    // region or page boundary is done byte by byte). Unmapped reads give
    // all ones; writes to ROM or nowhere are dropped.
    u32 read(PhysAddr addr, Width width);
    void write(PhysAddr addr, Width width, u32 value);

    // Block copies for loaders and DMA. Reads take RAM or ROM, writes only
    // RAM; false if any byte is elsewhere (MMIO, open bus), and then
    // nothing is written.
    bool read_bytes(PhysAddr addr, std::span<u8> out) const;
    bool write_bytes(PhysAddr addr, std::span<u8 const> data);

    u64 unmapped_accesses() const { return m_unmapped; }

private:
    MemoryMap() = default;

    struct MmioRegion {
        PhysAddr base;
        u64 size;
        Device* device;
        u64 offset_base;
    };
    struct RomRegion {
        PhysAddr base;
        std::span<u8 const> data;
        void const* owner;
    };
    struct Pam {
        bool read_ram{false};
        bool write_ram{false};
    };
    static constexpr unsigned PAM_GRANULE = 16 * 1024;
    static constexpr unsigned PAM_SLOTS = (SHADOW_END - SHADOW_START) / PAM_GRANULE;

    bool overlaps(PhysAddr base, u64 size) const;
    MmioRegion const* find_mmio(PhysAddr addr) const;
    // Host byte for a read or write of plain memory at `addr` (A20 already
    // applied), or null.
    u8 const* read_pointer(PhysAddr addr) const;
    u8* write_pointer(PhysAddr addr);
    bool page_has_mmio(PhysAddr page) const;
    u8 read_byte_slow(PhysAddr addr);
    void write_byte_slow(PhysAddr addr, u8 value);

    u8* m_ram{nullptr};
    u64 m_ram_size{0};
    u64 m_low_ram{0};
    std::vector<u8> m_bios;
    std::vector<MmioRegion> m_mmio;
    std::vector<RomRegion> m_roms;
    Pam m_pam[PAM_SLOTS];
    PhysAddr m_a20_mask{~PhysAddr(0)};
    u64 m_generation{1};
    u64 m_unmapped{0};
};

} // namespace vsa
