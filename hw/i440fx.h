// SPDX-License-Identifier: GPL-2.0-or-later
// I440fx: the host bridge (PMC) of the Intel 82441FX "Natoma" chipset, PCI
// function 00.0, as described in the 82440FX PCIset datasheet (order number
// 290549), section 3.2 "PCI configuration registers".
//
// Deliberate deviation: Microsoft Virtual Server 2005 emulated an Intel
// 440BX host bridge. We present the 440FX (8086:1237) instead because
// Debian's SeaBIOS shadows itself into RAM through the PAM registers (and
// so can keep its data segment writable) only when it finds the i440FX ID;
// guests do not care which of the two Intel bridges they see.
//
// What it does:
//   - PAM0..PAM6 (0x59..0x5F) drive MemoryMap::set_pam() for the shadow
//     area 0xC0000..0xFFFFF on every write and after a load: per 16 KiB
//     segment (64 KiB for PAM0's 0xF0000 segment) reads and writes go to
//     DRAM or to the PCI side (the BIOS ROM alias, open bus) independently,
//     including the write-only mode old BIOSes use to copy ROM onto itself.
//   - The DRAM control registers (0x50..0x58, the row boundaries
//     0x60..0x67, 0x68 and the timers 0x70/0x71) are plain storage with
//     the datasheet's reset values: no BIOS we run interprets them, and the
//     emulated DRAM does not care about its timings.
//   - SMRAM (0x72) keeps its bits and the D_LCK lock semantics.
// Left out: SMM itself (the CPU has no SMM in this issue, so the SMRAM
// register never opens the 0xA0000 SMRAM window), the error reporting
// registers 0x90..0x93 (never set: our DRAM has no ECC errors), and the
// 440FX's memory-buffer and arbitration tuning registers beyond storage.
#pragma once

#include "hypervisor/io/memory_map.h"
#include "hypervisor/io/pci.h"

namespace vsa {

class I440fx final : public PciDevice {
public:
    static constexpr u8 PAM0 = 0x59;
    static constexpr u8 PAM_COUNT = 7;
    static constexpr u8 SMRAM = 0x72;
    // PAM nibble attribute bits (datasheet 3.2.20).
    static constexpr u8 PAM_RE = 1 << 0;
    static constexpr u8 PAM_WE = 1 << 1;
    // SMRAM bits (datasheet 3.2.27).
    static constexpr u8 SMRAM_D_OPEN = 1 << 6;
    static constexpr u8 SMRAM_D_CLS = 1 << 5;
    static constexpr u8 SMRAM_D_LCK = 1 << 4;
    static constexpr u8 SMRAM_G_SMRAME = 1 << 3;

    explicit I440fx(MemoryMap& memory);

    std::string_view name() const override { return "i440fx"; }
    void reset() override;
    void visit_state(StateVisitor& v) override;
    void post_load() override;

protected:
    void config_written(u8 offset, Width width) override;

private:
    void apply_pam();
    void setup_registers();

    MemoryMap& m_memory;
};

} // namespace vsa
