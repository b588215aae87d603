// SPDX-License-Identifier: GPL-2.0-or-later
// AtaDisk: an ATA hard disk drive over a storage::BlockDevice, speaking the
// PIO and DMA command sets of ATA/ATAPI-6 (T13 1410D rev 3b). Section 8
// gives the commands, 8.15 the IDENTIFY DEVICE words, 9.5/9.6/9.8 the PIO
// and DMA protocols (run by IdeChannel and the controller's bus master).
//
// Commands: IDENTIFY DEVICE; READ/WRITE SECTORS (0x20/0x21, 0x30/0x31) and
// their EXT forms (0x24, 0x34); READ/WRITE MULTIPLE (0xC4/0xC5) and EXT
// (0x29/0x39) after SET MULTIPLE MODE (0xC6, block sizes 1..16); READ/WRITE
// DMA (0xC8/0xC9, 0xCA/0xCB) and EXT (0x25/0x35), moved by the controller's
// bus master engine (8.25, 8.45, 9.8), 16 sectors per channel block; READ
// VERIFY (0x40/0x41, 0x42); INITIALIZE DEVICE PARAMETERS (0x91) with CHS
// addressing through the chosen translation; SEEK (0x7x), RECALIBRATE
// (0x1x); SET FEATURES (0xEF: transfer mode PIO 0-4, multiword DMA 0-2 or
// Ultra DMA 0-5, recorded in IDENTIFY words 63/88; write cache on/off,
// read look-ahead and "revert to defaults" accepted); FLUSH CACHE and EXT
// (0xE7/0xEA); STANDBY IMMEDIATE, IDLE IMMEDIATE, STANDBY, IDLE, SLEEP
// (0xE0-0xE3, 0xE6: accepted, the drive never spins down) and CHECK POWER
// MODE (0xE5, always "active"). EXECUTE DEVICE DIAGNOSTIC is run by the
// channel. Anything else is aborted (ABRT), including READ BUFFER (0xE4),
// READ/WRITE DMA QUEUED and PACKET/IDENTIFY PACKET (not an ATAPI drive).
//
// Errors never crash: an address past the end is IDNF, a failing host read
// is UNC, a failing host write or flush (or a read-only image) is ABRT;
// the LBA registers then hold the failing sector's address.
//
// Data moves one DRQ block (1 sector, or the multiple count; 16 sectors by
// DMA) at a time, so a guest asking for 65536 sectors costs one 8 KiB
// buffer. I/O is synchronous (the BlockDevice is). With the write cache
// disabled through SET FEATURES, every write command flushes before it
// completes.
//
// The selected DMA mode is bookkeeping: any mode moves data at host speed,
// and DMA commands work whichever mode (or none) was selected, as on
// drives that power up in a default DMA mode.
//
// Left out: queued DMA (TCQ), SMART, security, HPA (READ NATIVE MAX), the
// long-command set (READ/WRITE LONG) and the obsolete ATA-1 power commands.
#pragma once

#include "hw/ide_channel.h"
#include "services/storage/block_device.h"

#include <array>
#include <string>

namespace vsa {

class AtaDisk final : public IdeDrive {
public:
    static constexpr unsigned DEFAULT_HEADS = 16;
    static constexpr unsigned DEFAULT_SECTORS = 63;
    static constexpr unsigned MAX_CHS_CYLINDERS = 16383;
    // Multiword DMA 2 after power-on, like most PATA drives (libata
    // selects a mode anyway).
    static constexpr u8 DEFAULT_DMA_MODE = 0x22;

    // `serial` (at most 20 characters) tells disks apart in the guest.
    AtaDisk(storage::BlockDevice& backend, std::string serial);

    std::string_view name() const override { return "ata-disk"; }
    void reset() override;
    void soft_reset() override;
    u16 signature() const override { return 0x0000; }
    u8 status_after_reset() const override { return ata::STATUS_DRDY | ata::STATUS_DSC; }
    void execute(IdeChannel& channel, u8 command) override;
    void block_done(IdeChannel& channel, std::span<u8 const> block) override;
    void visit_state(StateVisitor& v) override;

    // The 256 IDENTIFY DEVICE words as the drive would send them now.
    std::array<u8, ata::SECTOR_SIZE> identify_block() const;

    u64 sectors() const { return m_sectors; }
    unsigned default_cylinders() const { return m_cylinders; }
    unsigned multiple_count() const { return m_multiple; }
    bool write_cache() const { return m_write_cache; }
    // SET FEATURES transfer mode value of the selected DMA mode (0x2n
    // multiword, 0x4n Ultra), 0 for none.
    u8 dma_mode() const { return m_dma_mode; }
    // Bytes the guest read from and wrote to the medium since power-on or
    // the last hard reset (IVMAccountant.DiskBytesRead/DiskBytesWritten).
    // Statistics, not machine state: never saved, zero after a restore.
    u64 bytes_read() const { return m_bytes_read; }
    u64 bytes_written() const { return m_bytes_written; }

private:
    enum class Op : u8 { None, Read, Write, Identify };
    // The addressed sector of a 28-bit command (LBA or CHS), or nothing.
    bool decode_address28(TaskFile const& tf, u64& lba) const;
    unsigned current_cylinders() const;
    bool command_range(IdeChannel& ch, bool ext, u64& lba, u32& count);
    void start_transfer(IdeChannel& ch, Op op, bool ext, bool multiple, bool dma = false);
    void request_write_block(IdeChannel& ch, bool irq);
    void read_block(IdeChannel& ch);
    void verify(IdeChannel& ch, bool ext);
    void flush(IdeChannel& ch);
    void set_features(IdeChannel& ch);
    void set_error_address(IdeChannel& ch, u64 lba) const;
    void fail(IdeChannel& ch, u8 error, u64 lba);

    storage::BlockDevice& m_backend;
    std::string m_serial;
    u64 m_sectors;
    unsigned m_cylinders;
    // INITIALIZE DEVICE PARAMETERS translation.
    u8 m_cur_heads{DEFAULT_HEADS};
    u8 m_cur_sectors{DEFAULT_SECTORS};
    u8 m_multiple{0};
    bool m_write_cache{true};
    u8 m_dma_mode{DEFAULT_DMA_MODE};
    // The command in progress.
    Op m_op{Op::None};
    bool m_ext{false};
    bool m_chs{false};
    bool m_dma{false};
    u8 m_block_sectors{1};
    u64 m_lba{0};
    u32 m_remaining{0};
    std::vector<u8> m_block; // one DRQ block from the backend
    u64 m_bytes_read{0};
    u64 m_bytes_written{0};
};

} // namespace vsa
