// SPDX-License-Identifier: GPL-2.0-or-later
#include "hw/piix3_ide.h"

#include <algorithm>

namespace vsa {

namespace {
constexpr u8 IDETIM = 0x40;  // primary/secondary timing, 2 x 16 bits
constexpr u8 SIDETIM = 0x44; // slave timing
constexpr unsigned BM_COMMAND = 0;
constexpr unsigned BM_STATUS = 2;
constexpr unsigned BM_PRD = 4;
constexpr unsigned BM_CHANNEL_STRIDE = 8;
constexpr u8 BM_COMMAND_MASK = 0x09; // start/stop, read/write control
constexpr u8 BM_STATUS_DRIVE_CAPABLE = 0x60;
constexpr u32 PRD_ENTRY_BYTES = 8;
constexpr u32 PRD_EOT = 1u << 31;
constexpr u32 MAX_REGION = 64 * 1024;

u32 le32(u8 const* p) {
    return u32(p[0]) | u32(p[1]) << 8 | u32(p[2]) << 16 | u32(p[3]) << 24;
}
} // namespace

void Piix3Ide::ChannelIrq::set_level(bool high) {
    // Bus master status bit 2 latches every rising edge of the channel's
    // interrupt, PIO included (datasheet 2.7.2, IDEINTS).
    if (high) m_owner.m_bm[m_index].status |= BM_STATUS_IRQ;
    m_out.set_level(high);
}

Piix3Ide::Piix3Ide(IrqLine& primary_irq, IrqLine& secondary_irq, MemoryMap& memory)
    : PciDevice(PciId{.vendor = 0x8086,
                      .device = 0x7010,
                      .class_code = 0x01,
                      .subclass = 0x01,
                      .prog_if = 0x80, // bus-master capable, both channels fixed in compatibility mode
                      .revision = 0x00}),
      m_memory(memory), m_irq{ChannelIrq{*this, 0, primary_irq}, ChannelIrq{*this, 1, secondary_irq}},
      m_channels{IdeChannel{m_irq[0]}, IdeChannel{m_irq[1]}} {
    config_byte(pci::HEADER_TYPE) = 0x80; // part of the multi-function PIIX3
    set_config_word(pci::STATUS, 0x0280);
    for (u8 off = IDETIM; off < IDETIM + 4; ++off)
        set_write_mask(off, 0xFF);
    set_write_mask(SIDETIM, 0xFF);
    // Takes the reset snapshot too (no INTx: compatibility mode).
    declare_bar(BM_BAR, BarKind::Io, 16);
}

void Piix3Ide::reset() {
    PciDevice::reset();
    m_bm = {};
    for (auto& ch : m_channels)
        ch.reset();
}

u32 Piix3Ide::io_read(u16 offset, Width width) {
    if (offset < 16) return bm_read(offset, width);
    if (offset >= PRIMARY_BASE && offset < PRIMARY_BASE + 8)
        return m_channels[0].read(offset - PRIMARY_BASE, width);
    if (offset >= SECONDARY_BASE && offset < SECONDARY_BASE + 8)
        return m_channels[1].read(offset - SECONDARY_BASE, width);
    if (offset == PRIMARY_CONTROL) return m_channels[0].read_alt_status() | (width_mask(width) & ~0xFFu);
    if (offset == SECONDARY_CONTROL) return m_channels[1].read_alt_status() | (width_mask(width) & ~0xFFu);
    count_ignored();
    return width_mask(width);
}

void Piix3Ide::io_write(u16 offset, Width width, u32 value) {
    if (offset < 16) return bm_write(offset, width, value);
    // A command (or the last word of an ATAPI packet) may give the drive
    // a DMA data phase: the engine runs if it is already started.
    if (offset >= PRIMARY_BASE && offset < PRIMARY_BASE + 8) {
        m_channels[0].write(offset - PRIMARY_BASE, width, value);
        return run_dma(0);
    }
    if (offset >= SECONDARY_BASE && offset < SECONDARY_BASE + 8) {
        m_channels[1].write(offset - SECONDARY_BASE, width, value);
        return run_dma(1);
    }
    if (offset == PRIMARY_CONTROL) return m_channels[0].write_control(static_cast<u8>(value));
    if (offset == SECONDARY_CONTROL) return m_channels[1].write_control(static_cast<u8>(value));
    count_ignored();
}

bool Piix3Ide::map_ports(IoBus& io) {
    return io.map(PRIMARY_BASE, 8, *this, WIDTH_ANY, PRIMARY_BASE) &&
           io.map(PRIMARY_CONTROL, 1, *this, WIDTH_8, PRIMARY_CONTROL) &&
           io.map(SECONDARY_BASE, 8, *this, WIDTH_ANY, SECONDARY_BASE) &&
           io.map(SECONDARY_CONTROL, 1, *this, WIDTH_8, SECONDARY_CONTROL);
}

u32 Piix3Ide::bm_read(unsigned offset, Width width) {
    u32 value = 0;
    for (unsigned i = 0; i < width_bytes(width); ++i) {
        unsigned off = (offset + i) & 15;
        BusMaster const& bm = m_bm[off / BM_CHANNEL_STRIDE];
        unsigned reg = off % BM_CHANNEL_STRIDE;
        u8 byte = 0;
        if (reg == BM_COMMAND)
            byte = bm.command;
        else if (reg == BM_STATUS)
            byte = bm.status;
        else if (reg >= BM_PRD)
            byte = static_cast<u8>(bm.prd_table >> (8 * (reg - BM_PRD)));
        value |= u32(byte) << (8 * i);
    }
    return value;
}

void Piix3Ide::bm_write(unsigned offset, Width width, u32 value) {
    for (unsigned i = 0; i < width_bytes(width); ++i)
        bm_write_byte((offset + i) & 15, static_cast<u8>(value >> (8 * i)));
    // A 32-bit write that sets START also sets the other bytes first; run
    // the engines once the whole cycle is in.
    for (unsigned index = 0; index < m_bm.size(); ++index)
        run_dma(index);
}

void Piix3Ide::bm_write_byte(unsigned offset, u8 value) {
    BusMaster& bm = m_bm[offset / BM_CHANNEL_STRIDE];
    unsigned reg = offset % BM_CHANNEL_STRIDE;
    if (reg == BM_COMMAND) {
        bool starting = (value & BM_COMMAND_START) && !(bm.command & BM_COMMAND_START);
        bool stopping = !(value & BM_COMMAND_START) && (bm.command & BM_COMMAND_START);
        bm.command = value & BM_COMMAND_MASK;
        if (starting) {
            // The walk begins at the first PRD (SFF-8038i: the table
            // pointer is reloaded on every start).
            bm.status |= BM_STATUS_ACTIVE;
            bm.prd_index = 0;
            bm.region_addr = 0;
            bm.region_left = 0;
            bm.region_eot = false;
        } else if (stopping) {
            // Halting the engine ends the transfer on the bus side; a drive
            // still holding data keeps it (DRQ) until reset or restarted.
            bm.status &= static_cast<u8>(~BM_STATUS_ACTIVE);
        }
    } else if (reg == BM_STATUS) {
        u8 cleared = value & (BM_STATUS_ERROR | BM_STATUS_IRQ);
        bm.status = static_cast<u8>(((bm.status & ~cleared) & ~BM_STATUS_DRIVE_CAPABLE) |
                                    (value & BM_STATUS_DRIVE_CAPABLE));
    } else if (reg >= BM_PRD) {
        unsigned shift = 8 * (reg - BM_PRD);
        u32 prd = (bm.prd_table & ~(0xFFu << shift)) | (u32(value) << shift);
        bm.prd_table = prd & ~3u; // the table is dword aligned
    } else {
        count_ignored(); // reserved bytes 1 and 3
    }
}

bool Piix3Ide::next_prd(unsigned index) {
    BusMaster& bm = m_bm[index];
    if (bm.region_eot || bm.prd_index >= PRD_TABLE_ENTRIES) {
        // The table is used up: the engine stops, the drive may still
        // want data (then no interrupt comes; see the file comment).
        bm.status &= static_cast<u8>(~BM_STATUS_ACTIVE);
        return false;
    }
    // The PIIX's descriptor pointer counts in its low 16 bits only.
    u32 entry = (bm.prd_table & 0xFFFF'0000u) | ((bm.prd_table + bm.prd_index * PRD_ENTRY_BYTES) & 0xFFFFu);
    std::array<u8, PRD_ENTRY_BYTES> raw{};
    if (!m_memory.read_bytes(entry, raw)) {
        dma_error(index);
        return false;
    }
    ++bm.prd_index;
    u32 control = le32(raw.data() + 4);
    u32 count = control & 0xFFFEu;
    bm.region_addr = le32(raw.data()) & ~1u;
    bm.region_left = count ? count : MAX_REGION;
    bm.region_eot = control & PRD_EOT;
    return true;
}

void Piix3Ide::dma_error(unsigned index) {
    BusMaster& bm = m_bm[index];
    count_ignored();
    bm.status = static_cast<u8>((bm.status | BM_STATUS_ERROR) & ~BM_STATUS_ACTIVE);
    // The drive drops the command and interrupts: INTERRUPT and ERROR
    // together tell libata at once (AC_ERR_HOST_BUS).
    m_channels[index].dma_abort(ata::ERROR_ABRT);
}

void Piix3Ide::run_dma(unsigned index) {
    BusMaster& bm = m_bm[index];
    IdeChannel& ch = m_channels[index];
    // Each pass moves at most one PRD region or one channel block, and a
    // transfer has a bounded size (at most 65536 sectors), as has the
    // table (PRD_TABLE_ENTRIES): the loop ends.
    while ((bm.command & BM_COMMAND_START) && (bm.status & BM_STATUS_ACTIVE) && ch.dma_pending()) {
        // Without bus mastering the engine cannot reach memory.
        if (!(config_word(pci::COMMAND) & pci::COMMAND_BUS_MASTER)) return dma_error(index);
        // Direction bit against the drive's transfer: the bytes would go
        // the wrong way (the spec leaves it undefined).
        if (bool(bm.command & BM_COMMAND_TO_MEMORY) != ch.dma_to_memory()) return dma_error(index);
        if (bm.region_left == 0 && !next_prd(index)) return;
        std::span<u8> window = ch.dma_window();
        std::size_t n = std::min<std::size_t>(window.size(), bm.region_left);
        bool moved = ch.dma_to_memory() ? m_memory.write_bytes(bm.region_addr, window.first(n))
                                        : m_memory.read_bytes(bm.region_addr, window.first(n));
        if (!moved) return dma_error(index);
        bm.region_addr += static_cast<u32>(n);
        bm.region_left -= static_cast<u32>(n);
        // The last byte of the last PRD clears ACTIVE, before the drive
        // (handed the block below) may raise its interrupt.
        if (bm.region_left == 0 && bm.region_eot) bm.status &= static_cast<u8>(~BM_STATUS_ACTIVE);
        ch.dma_advance(n);
    }
}

void Piix3Ide::visit_state(StateVisitor& v) {
    v.section("piix3-ide", 2);
    u32 const version = v.version();
    visit_pci_state(v);
    for (auto& bm : m_bm) {
        v.field("bm_command", bm.command);
        v.field("bm_status", bm.status);
        v.field("bm_prd", bm.prd_table);
    }
    // Version 2: the PRD walk of a transfer in flight. Version 1 had no
    // DMA (its ACTIVE bit was never set): an idle engine.
    for (auto& bm : m_bm) {
        if (version >= 2) {
            v.field("bm_prd_index", bm.prd_index);
            v.field("bm_region_addr", bm.region_addr);
            v.field("bm_region_left", bm.region_left);
            v.field("bm_region_eot", bm.region_eot);
        } else if (v.is_loading()) {
            bm.prd_index = bm.region_addr = bm.region_left = 0;
            bm.region_eot = false;
        }
    }
    if (v.is_loading() && v.ok()) {
        for (auto& bm : m_bm)
            if (bm.prd_index > PRD_TABLE_ENTRIES || bm.region_left > MAX_REGION || (bm.region_left & 1) ||
                (bm.region_addr & 1))
                v.fail("piix3-ide: bad PRD walk state");
        for (auto& bm : m_bm) {
            bm.command &= BM_COMMAND_MASK;
            bm.status &= BM_STATUS_ACTIVE | BM_STATUS_ERROR | BM_STATUS_IRQ | BM_STATUS_DRIVE_CAPABLE;
            bm.prd_table &= ~3u;
            if (!v.ok()) bm.prd_index = bm.region_addr = bm.region_left = 0;
        }
    }
    for (auto& ch : m_channels)
        ch.visit_state(v);
}

void Piix3Ide::post_load() {
    PciDevice::post_load();
    // The channels re-drive their IRQ lines at the level they were saved
    // with: that is no new edge, so the loaded IRQ status bits stand (a
    // driver may have cleared one while the line was still high).
    std::array<u8, 2> status{m_bm[0].status, m_bm[1].status};
    for (auto& ch : m_channels)
        ch.post_load();
    for (std::size_t i = 0; i < m_bm.size(); ++i)
        m_bm[i].status = status[i];
}

} // namespace vsa
