// SPDX-License-Identifier: GPL-2.0-or-later
// IdeChannel: one ATA channel (cable) as the host sees it: the command
// block registers (data, error/features, sector count, LBA low/mid/high,
// device, status/command), the control block (alternate status / device
// control), two drive slots and the INTRQ line. Reference: ATA/ATAPI-6
// (T13 1410D rev 3b), sections 7 (registers), 9 (protocols: PIO data-in,
// PIO data-out, non-data, software reset) and 9.12 (signatures).
//
// The channel runs the PIO handshake for its drives. A drive (IdeDrive)
// gets the command byte, reads the task file, and answers through the
// channel: pio_in(block) (DRQ, data for the host), pio_out(bytes) (DRQ,
// room for the host's data), complete() or fail(error). The channel moves
// the data through its block buffer (at most 16 sectors: the largest
// READ/WRITE MULTIPLE block), tells the drive when the host has drained or
// filled it, and raises INTRQ as the protocol asks. Commands run
// synchronously, so BSY is never visible to the guest; a BIOS or Linux
// driver polling for !BSY sees the next state at once.
//
// Register model: a write to a command block register reaches both drives
// on a real cable, and each drive keeps its own copy (with the 48-bit
// "previous content" FIFO, read back when device control HOB is set; any
// command block write clears HOB): the channel writes both copies, a
// drive's results and its reset signature go into its own, and reads show
// the selected drive's. libata's probe depends on this: after SRST it
// selects each device and classifies it by its own signature (an ATAPI
// slave behind an ATA master). Status, error and the interrupt request
// are per drive too. With device 1 selected and absent,
// device 0 answers the register reads but status reads 0 (ATA-6 7.1:
// "device 0 shall respond ... Status register 00h"); with no drive at all
// every register reads 0 so a BIOS sees its 0x55/0xAA probe fail.
//
// PACKET devices (ATA-6 9.7, "PACKET protocol"): the drive asks for the
// 12-byte command packet with pio_out(12) and the interrupt reason
// (sector count: CoD/IO) set, and sends each data block with pio_in()
// after writing the byte count into LBA mid/high. A block may have an
// odd length (the last byte then comes with a zero pad byte on the
// 16-bit port). DEVICE RESET is accepted by a PACKET device even in the
// middle of a transfer (ATA-6 8.10: it is how a host unwedges one).
//
// DMA (ATA-6 9.8 "DMA data-in/data-out", 9.10 "PACKET DMA"): a drive
// offers a block with dma_in(block) / dma_out(bytes) instead of pio_in /
// pio_out. The channel then shows DRQ but raises no interrupt and the data
// port moves nothing; the bus master engine of the controller (Piix3Ide)
// drains or fills the block through dma_window()/dma_advance(), and the
// drive is told the block is done exactly as after PIO (block_done), so
// it offers the next block or ends the command, with an interrupt (a DMA
// command always ends with one). If the engine cannot move the data (a bad
// PRD, bus mastering off) the controller calls dma_abort(): the command
// fails with ABRT. A DMA block waits in the channel as long as the engine
// is not started (Linux issues the command first, then sets START), and
// is saved with the channel like a PIO block.
//
// Deliberate simplification: the drive's DEV bit is taken from device 0's
// copy of the device register (only the host writes that bit, into both).
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/io/irq.h"
#include "hypervisor/io/state_visitor.h"

#include <array>
#include <span>
#include <string_view>

namespace vsa {

class IdeChannel;

// Status register bits (ATA-6 7.15).
namespace ata {
constexpr u8 STATUS_ERR = 1 << 0;
constexpr u8 STATUS_DRQ = 1 << 3;
constexpr u8 STATUS_DSC = 1 << 4; // "device seek complete", obsolete, still tested by BIOSes
constexpr u8 STATUS_DF = 1 << 5;
constexpr u8 STATUS_DRDY = 1 << 6;
constexpr u8 STATUS_BSY = 1 << 7;
// Error register bits.
constexpr u8 ERROR_AMNF = 1 << 0;
constexpr u8 ERROR_ABRT = 1 << 2;
constexpr u8 ERROR_IDNF = 1 << 4;
constexpr u8 ERROR_UNC = 1 << 6;
// Device control bits.
constexpr u8 CONTROL_NIEN = 1 << 1;
constexpr u8 CONTROL_SRST = 1 << 2;
constexpr u8 CONTROL_HOB = 1 << 7;
// Device register bits.
constexpr u8 DEVICE_DEV = 1 << 4;
constexpr u8 DEVICE_LBA = 1 << 6;
// Command block register offsets.
constexpr unsigned REG_DATA = 0;
constexpr unsigned REG_ERROR = 1; // write: features
constexpr unsigned REG_COUNT = 2;
constexpr unsigned REG_LBA_LOW = 3;
constexpr unsigned REG_LBA_MID = 4;
constexpr unsigned REG_LBA_HIGH = 5;
constexpr unsigned REG_DEVICE = 6;
constexpr unsigned REG_STATUS = 7; // write: command
constexpr unsigned SECTOR_SIZE = 512;
constexpr unsigned MAX_BLOCK_SECTORS = 16;
constexpr u8 COMMAND_DEVICE_RESET = 0x08;
constexpr u16 PACKET_SIGNATURE = 0xEB14;
// Interrupt reason (the sector count register of a PACKET device).
constexpr u8 REASON_COD = 1 << 0; // a command packet, or the status
constexpr u8 REASON_IO = 1 << 1;  // to the host

// IDENTIFY (PACKET) DEVICE data, shared by the disk and the CD drive.
using IdentifyData = std::array<u8, SECTOR_SIZE>;
// An ATA string: two characters per word, the first in the high byte,
// space padded (ATA-6 8.15.x "ATA string convention").
void put_identify_string(IdentifyData& id, unsigned first_word, unsigned words, std::string_view text);
void put_identify_word(IdentifyData& id, unsigned word, u16 value);
// SET FEATURES 03h (set transfer mode) values a drive accepts: PIO default
// (00h/01h), PIO 0-4 (08h-0Ch), multiword DMA 0-2 (20h-22h), Ultra DMA
// 0-5 (40h-45h) (ATA-6 8.46.11).
bool valid_transfer_mode(u8 mode);
// Words 63 (multiword DMA) and 88 (Ultra DMA): every mode supported, the
// one `selected` (a transfer mode value, 0 = none) marked in the high byte.
void put_identify_dma_modes(IdentifyData& id, u8 selected);
// Word 93: an 80-conductor cable detected, device 0 passed its diagnostic
// (libata reads bit 13 before using Ultra DMA above mode 2).
void put_identify_cable(IdentifyData& id);
// The integrity word last: signature A5h, then the byte that makes the
// sum of all 512 bytes zero (ATA-6 8.15.61).
void seal_identify(IdentifyData& id);
} // namespace ata

// The task-file latches. `hob_*` hold the previous write (48-bit FIFO).
struct TaskFile {
    u8 feature{0}, hob_feature{0};
    u8 count{0}, hob_count{0};
    u8 lba_low{0}, hob_lba_low{0};
    u8 lba_mid{0}, hob_lba_mid{0};
    u8 lba_high{0}, hob_lba_high{0};
    u8 device{0};

    u64 lba28() const { return u64(device & 0x0F) << 24 | u64(lba_high) << 16 | u64(lba_mid) << 8 | lba_low; }
    u64 lba48() const {
        return u64(hob_lba_high) << 40 | u64(hob_lba_mid) << 32 | u64(hob_lba_low) << 24 |
               u64(lba_high) << 16 | u64(lba_mid) << 8 | lba_low;
    }
    // Sector counts with 0 meaning the maximum.
    u32 count28() const { return count ? count : 256; }
    u32 count48() const {
        u32 c = u32(hob_count) << 8 | count;
        return c ? c : 65536;
    }
    void set_lba28(u64 lba);
    void set_lba48(u64 lba);
};

// A drive on the channel (an ATA disk today, ATAPI later).
class IdeDrive {
public:
    virtual ~IdeDrive() = default;
    virtual std::string_view name() const = 0;
    // Power-on / hard reset: the drive's defaults.
    virtual void reset() = 0;
    // Software reset (SRST) or EXECUTE DEVICE DIAGNOSTIC: abandon any
    // command. The channel then writes the signature.
    virtual void soft_reset() = 0;
    // The LBA mid/high signature (ATA-6 9.12): 0x0000 for ATA, 0xEB14 for
    // a PACKET device.
    virtual u16 signature() const = 0;
    // Status after a reset or diagnostic: DRDY|DSC for ATA (a PACKET
    // device reports 0 until it is identified).
    virtual u8 status_after_reset() const = 0;
    // The host wrote the command register with this drive selected.
    virtual void execute(IdeChannel& channel, u8 command) = 0;
    // The host has drained (PIO or DMA in) or filled (PIO or DMA out) the
    // block the drive set up; the drive continues or completes the
    // command. `block` (the host's data for an out transfer) is valid
    // until the drive calls back into the channel.
    virtual void block_done(IdeChannel& channel, std::span<u8 const> block) = 0;
    virtual void visit_state(StateVisitor& v) = 0;
};

class IdeChannel {
public:
    explicit IdeChannel(IrqLine& irq);

    // slot 0 = master, 1 = slave; nullptr empties the slot.
    void attach(unsigned slot, IdeDrive* drive);
    IdeDrive* drive(unsigned slot) const { return slot < 2 ? m_drives[slot] : nullptr; }

    void reset();

    // Command block register `reg` (0..7), control block (alternate status
    // read / device control write).
    u32 read(unsigned reg, Width width);
    void write(unsigned reg, Width width, u32 value);
    u8 read_alt_status() const;
    void write_control(u8 value);

    bool irq_level() const { return m_irq_out; }
    u64 ignored_accesses() const { return m_ignored; }

    // What drives use while they execute. `slot` is the active drive.
    TaskFile& task_file() { return m_tf[m_active]; }
    unsigned active_slot() const { return m_active; }
    u8 status(unsigned slot) const { return m_status[slot & 1]; }
    // Data for the host: copies `data` (at most the block buffer; an odd
    // length gets a zero pad byte), sets DRQ and raises INTRQ.
    void pio_in(std::span<u8 const> data);
    // Room for `bytes` from the host: sets DRQ; INTRQ only if `irq` (the
    // first block of a PIO-out command is not announced by an interrupt).
    void pio_out(std::size_t bytes, bool irq);
    // The same for a DMA transfer: DRQ, no interrupt; the bus master
    // engine moves the block (dma_window/dma_advance).
    void dma_in(std::span<u8 const> data);
    void dma_out(std::size_t bytes);
    // The command ended well; INTRQ unless `irq` is false (the end of a
    // PIO-in command, whose last block was its last interrupt).
    void complete(bool irq = true);
    // The command ended with `error` in the error register, ERR set.
    void fail(u8 error);
    // DEVICE RESET done: the active drive shows its signature and its
    // after-reset status, no interrupt (ATA-6 9.4).
    void device_reset_done();

    // The bus master engine's side. dma_pending(): a DMA block is waiting;
    // dma_to_memory(): it goes to the host (a read). dma_window() is what
    // is left of it (host data for a read, room for a write);
    // dma_advance(n) consumes n bytes of it, and at its end hands the
    // block to the drive, which may offer the next one at once.
    bool dma_pending() const { return m_transfer == Transfer::DmaIn || m_transfer == Transfer::DmaOut; }
    bool dma_to_memory() const { return m_transfer == Transfer::DmaIn; }
    std::span<u8> dma_window();
    void dma_advance(std::size_t bytes);
    // The engine gave up (bad PRD, host bus error): the drive drops the
    // command, which fails with `error` and an interrupt.
    void dma_abort(u8 error);

    void visit_state(StateVisitor& v);
    void post_load();

private:
    enum class Transfer : u8 { None, In, Out, DmaIn, DmaOut };
    void start_block(std::size_t n, Transfer kind);
    unsigned selected() const { return (m_tf[0].device & ata::DEVICE_DEV) ? 1 : 0; }
    bool present(unsigned slot) const { return m_drives[slot] != nullptr; }
    u16 read_data16();
    void write_data16(u16 value);
    void block_finished();
    void set_irq(unsigned slot, bool pending);
    void update_irq();
    void software_reset();
    void command(u8 value);

    IrqLine& m_irq;
    IdeDrive* m_drives[2]{nullptr, nullptr};
    std::array<TaskFile, 2> m_tf{}; // per drive
    u8 m_control{0};
    u8 m_status[2]{0, 0};
    u8 m_error[2]{0, 0};
    bool m_irq_pending[2]{false, false};
    bool m_irq_out{false};
    u8 m_active{0};
    Transfer m_transfer{Transfer::None};
    // The block in flight (m_buffer_len bytes of it), and the block just
    // finished, handed to the drive.
    std::array<u8, ata::MAX_BLOCK_SECTORS * ata::SECTOR_SIZE> m_buffer{};
    std::array<u8, ata::MAX_BLOCK_SECTORS * ata::SECTOR_SIZE> m_done{};
    u32 m_buffer_len{0};
    u32 m_buffer_pos{0};
    u64 m_ignored{0};
};

} // namespace vsa
