// SPDX-License-Identifier: GPL-2.0-or-later
// IoBus: the x86 port address space (64 KiB of ports). Devices map ranges;
// the bus finds the device for a port in O(1) (a 64 Ki-entry index) and
// checks the width before the device sees the cycle, like QEMU's
// MemoryRegionOps `valid`: a width the range does not accept is split into
// byte cycles when bytes are accepted (what a real ISA bus does with a
// 16-bit cycle to an 8-bit device), otherwise it reads all ones and the
// write is dropped. Unmapped ports read all ones; writes to them are
// dropped and counted.
//
// Mapping is refused (returns false) when a range overlaps an existing one:
// PCI BARs are guest-programmed, so an overlap is guest input, not a bug.
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/io/device.h"

#include <array>
#include <memory>
#include <vector>

namespace vsa {

class IoBus {
public:
    IoBus();

    // Maps ports [base, base+count). The device sees offset =
    // port - base + offset_base; pass offset_base = base for a device that
    // prefers absolute port numbers (VGA, IDE, with scattered ranges).
    bool map(Port base, u32 count, Device& device, u8 widths = WIDTH_ANY, u16 offset_base = 0);
    // Removes the mapping that starts at `base` and belongs to `device`.
    void unmap(Port base, Device& device);

    u32 read(Port port, Width width);
    void write(Port port, Width width, u32 value);

    Device* device_at(Port port) const;
    u64 unmapped_accesses() const { return m_unmapped; }

private:
    struct Mapping {
        Port base;
        u32 count;
        Device* device;
        u8 widths;
        u16 offset_base;
    };
    u32 read_one(Mapping const& m, Port port, Width width);

    // 0 = unmapped, otherwise index + 1 into m_mappings.
    std::unique_ptr<std::array<u16, 0x10000>> m_index;
    std::vector<Mapping> m_mappings;
    u64 m_unmapped{0};
};

} // namespace vsa
