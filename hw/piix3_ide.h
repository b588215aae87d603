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
// address, per channel) is declared and its registers read and write like
// the datasheet says (status bits 1 and 2 write-one-to-clear, bit 2 set on
// each rising edge of the channel's IRQ, drive-DMA-capable bits 5/6
// storage). DMA transfers are NOT implemented in this issue: setting the
// start bit sets the error bit (status bit 1) instead of moving data, and
// IDENTIFY advertises no DMA modes, so drivers use PIO.
#pragma once

#include "hw/ide_channel.h"
#include "hypervisor/io/io_bus.h"
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
    static constexpr u8 BM_STATUS_ACTIVE = 1 << 0;
    static constexpr u8 BM_STATUS_ERROR = 1 << 1;
    static constexpr u8 BM_STATUS_IRQ = 1 << 2;

    Piix3Ide(IrqLine& primary_irq, IrqLine& secondary_irq);

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
    };
    u32 bm_read(unsigned offset, Width width);
    void bm_write(unsigned offset, Width width, u32 value);
    void bm_write_byte(unsigned offset, u8 value);

    std::array<ChannelIrq, 2> m_irq;
    std::array<IdeChannel, 2> m_channels;
    std::array<BusMaster, 2> m_bm;
};

} // namespace vsa
