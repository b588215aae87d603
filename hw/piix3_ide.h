// SPDX-License-Identifier: GPL-2.0-or-later
// Piix3Ide: function 1 of the Intel 82371SB PIIX3, the IDE controller
// (8086:7010, class 01/01, prog-if 0x80), at PCI 01.1. Reference: 82371FB/SB
// PIIX/PIIX3 datasheet (order number 290550), section 2.4 "IDE
// configuration registers" and 2.7 "Bus master IDE I/O registers".
//
// The PIIX3 runs in compatibility ("legacy") mode only: the primary channel
// decodes 0x1F0-0x1F7 and 0x3F6 and raises ISA IRQ 14, the secondary
// 0x170-0x177 and 0x376 and IRQ 15. These are the fixed ISA resources of an
// AT, so INTx is not used and the legacy ports are decoded whatever the
// command register and the IDETIM decode-enable bits say (as QEMU does; a
// BIOS enables them anyway, and our own tests drive the ports without PCI
// setup). 0x3F7 belongs to the floppy controller and is not claimed.
//
// IDE timing registers (IDETIM 0x40-0x43, SIDETIM 0x44) are storage.
//
// BAR4: the 16-byte bus master IDE range (command, status, PRD table
// address, per channel), datasheet 2.7 and the SFF-8038i programming
// interface (rev 1.0, "Bus Master Programming Interface for IDE ATA
// Controllers"). The engine is real:
//
//   - The PRD table: 8-byte entries, dword 0 the memory region's physical
//     address, dword 1 bits 15-0 its byte count (0 = 64 KiB) and bit 31
//     EOT. Bit 0 of address and count is ignored (the engine moves words).
//     The spec forbids a table that crosses a 64 KiB boundary; we model
//     the PIIX's 16-bit descriptor counter: the low 16 bits of the entry
//     address count and wrap, the high half stays. A table without EOT
//     therefore ends after 8192 entries (it has wrapped onto itself),
//     which also bounds the walk. A region that crosses 64 KiB (also
//     forbidden) is moved linearly: no correct driver can tell.
//   - Command bit 0 START: 0->1 sets ACTIVE and restarts at the first PRD;
//     1->0 stops the engine and clears ACTIVE (a transfer still in the
//     drive waits there; starting again begins the table anew). Bit 3 is
//     the direction (1 = the engine writes memory, a drive read).
//   - Status bit 0 ACTIVE clears when the last PRD (EOT) has been used up;
//     bit 2 INTERRUPT latches each rising edge of the channel's IRQ (PIO
//     too); bit 1 ERROR is set when the engine cannot reach memory. Bits
//     1 and 2 are write-one-to-clear, bits 5/6 (drive DMA capable)
//     storage. The end states (SFF-8038i table 3, what libata's
//     ata_bmdma_port_intr and ata_bmdma_error_handler read):
//       INTERRUPT=1 ACTIVE=0  the drive finished, the PRDs were exact;
//       INTERRUPT=1 ACTIVE=1  the drive finished, PRDs to spare (normal:
//                             libata only checks INTERRUPT and ERROR);
//       INTERRUPT=0 ACTIVE=0  the PRD table ran out before the drive's
//                             data did. As on the chip, the drive keeps
//                             waiting with DRQ, no interrupt comes: libata
//                             times out, stops the engine and resets;
//       ERROR=1               a PRD (or the table) outside RAM, bus
//                             mastering disabled in the PCI command
//                             register at the start of a move, or the
//                             direction bit against the drive's
//                             transfer: the bytes so far stay moved, the
//                             engine stops (ACTIVE=0) and, as QEMU does,
//                             the drive's command fails with ABRT and an
//                             interrupt, so the driver sees INTERRUPT and
//                             ERROR at once instead of timing out. Each
//                             such event is counted (count_ignored).
//   - Memory goes through MemoryMap::read_bytes/write_bytes: bounds
//     checked, RAM only for writes (RAM or ROM for reads). Every guest
//     address and length is checked there; the host is never touched
//     outside guest RAM.
//   - Timing: the engine runs synchronously inside the port write that
//     makes it runnable (START set, or the command / packet that gives
//     the drive its data phase, whichever comes last), so the whole
//     transfer and its interrupt happen in that write, as with PIO.
//
// Decoded code and DMA: the issue asks that DMA writes into RAM invalidate
// decoded code. Nothing needs doing here: the interpreter's decoded-
// instruction cache (hypervisor/cpu/interpreter.h) keeps the bytes each
// entry was decoded from and compares them with guest memory on every
// hit, so a page rewritten by DMA (or anything else) is re-decoded on its
// next execution. A future cache that skips that compare must hook the
// memory map's writes, DMA included.
//
// Not modelled: the drive-side DMA timing (IDETIM/SIDETIM are storage;
// any mode moves at host speed), PCI latency and the engine's FIFO
// (bytes are moved whole, never left half in a FIFO), native-mode
// channels.
#pragma once

#include "hw/ide_channel.h"
#include "hypervisor/io/io_bus.h"
#include "hypervisor/io/memory_map.h"
#include "hypervisor/io/pci.h"

#include <array>

namespace vsa {

class Piix3Ide final : public PciDevice {
public:
    static constexpr Port PRIMARY_BASE = 0x1F0;
    static constexpr Port PRIMARY_CONTROL = 0x3F6;
    static constexpr Port SECONDARY_BASE = 0x170;
    static constexpr Port SECONDARY_CONTROL = 0x376;
    static constexpr unsigned BM_BAR = 4;
    static constexpr u8 BM_COMMAND_START = 1 << 0;
    static constexpr u8 BM_COMMAND_TO_MEMORY = 1 << 3; // "read/write control": 1 = a drive read
    static constexpr u8 BM_STATUS_ACTIVE = 1 << 0;
    static constexpr u8 BM_STATUS_ERROR = 1 << 1;
    static constexpr u8 BM_STATUS_IRQ = 1 << 2;

    // A PRD table without EOT ends after this many entries (64 KiB).
    static constexpr u32 PRD_TABLE_ENTRIES = 8192;

    Piix3Ide(IrqLine& primary_irq, IrqLine& secondary_irq, MemoryMap& memory);

    std::string_view name() const override { return "piix3-ide"; }
    void reset() override;
    void visit_state(StateVisitor& v) override;
    void post_load() override;

    // Offsets 0..15: the bus master BAR; otherwise absolute legacy ports
    // (map_ports maps them with offset_base = base).
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;

    bool map_ports(IoBus& io);

    IdeChannel& channel(unsigned index) { return m_channels[index & 1]; }
    u8 bm_status(unsigned index) const { return m_bm[index & 1].status; }

private:
    // Forwards a channel's INTRQ to its ISA IRQ and latches the bus master
    // interrupt bit on the rising edge.
    class ChannelIrq final : public IrqLine {
    public:
        ChannelIrq(Piix3Ide& owner, unsigned index, IrqLine& out)
            : m_owner(owner), m_index(index), m_out(out) {}
        void set_level(bool high) override;

    private:
        Piix3Ide& m_owner;
        unsigned m_index;
        IrqLine& m_out;
    };
    struct BusMaster {
        u8 command{0};
        u8 status{0};
        u32 prd_table{0};
        // The PRD walk: entries fetched so far, and what is left of the
        // current one (its address, bytes, EOT).
        u32 prd_index{0};
        u32 region_addr{0};
        u32 region_left{0};
        bool region_eot{false};
    };
    u32 bm_read(unsigned offset, Width width);
    void bm_write(unsigned offset, Width width, u32 value);
    void bm_write_byte(unsigned offset, u8 value);
    // Moves data between the channel's pending DMA block and memory while
    // the engine is active and the drive has data; see the file comment.
    void run_dma(unsigned index);
    // Fetches the next PRD into the walk state; false at the end of the
    // table (ACTIVE is then cleared) or on a bus error (handled).
    bool next_prd(unsigned index);
    void dma_error(unsigned index);

    MemoryMap& m_memory;
    std::array<ChannelIrq, 2> m_irq;
    std::array<IdeChannel, 2> m_channels;
    std::array<BusMaster, 2> m_bm;
};

} // namespace vsa
