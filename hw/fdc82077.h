// SPDX-License-Identifier: GPL-2.0-or-later
// Fdc82077: an Intel 82077AA floppy disk controller in PC/AT mode (82077AA
// datasheet, 290166: section 2 "Registers", 5 "Command set", 6 "Status
// register encoding"; the PC/AT wiring: ports 3F0h-3F5h and 3F7h, IRQ 6,
// DMA channel 2) with two drives reading and writing raw floppy images
// (.vfd/.flp: storage::open_floppy_image).
//
//   3F2h DOR  drive select, controller reset (bit 2 low), DMA/IRQ gate
//             (bit 3), motor enables
//   3F3h TDR  tape drive select (read back, no tape drives)
//   3F4h MSR  (read) RQM, DIO, command busy, drive busy bits
//        DSR  (write) software reset (bit 7), data rate (bits 1-0)
//   3F5h FIFO command, result and (non-DMA) data bytes
//   3F7h DIR  (read) bit 7: the selected drive's disk-change line; bits
//             6-0 are the IDE drive's on a real board and read 0 here
//        CCR  (write) data rate (bits 1-0)
//
// 3F6h is the IDE primary channel's device control register
// (hw/piix3_ide.h); 3F0h/3F1h (PS/2 status registers A/B) read all ones as
// on an AT-mode 82077AA.
//
// Commands: READ DATA, WRITE DATA (MT, multi-sector up to EOT or terminal
// count), FORMAT TRACK, READ ID, RECALIBRATE, SEEK and RELATIVE SEEK,
// SENSE INTERRUPT STATUS, SENSE DRIVE STATUS, SPECIFY, CONFIGURE, VERSION
// (90h: an 82077AA), DUMPREG, LOCK/UNLOCK and PERPENDICULAR MODE. Anything
// else (READ TRACK, VERIFY, the SCAN and deleted-data commands, PART ID of
// the 82078) is an invalid command: one result byte 80h, which is how
// Linux's floppy.ko tells an 82077AA from its successors.
//
// Media: the image size gives the geometry (360K, 720K, 1.2M, 1.44M, 1.68M
// DMF, 2.88M) and the data rate its sectors are recorded at; a read, write
// or READ ID at another rate (CCR/DSR) finds no address mark, which is how
// BIOSes and Linux sense the media type. Data transfers seek implicitly to
// the command's cylinder, as QEMU's controller does: SeaBIOS 1.16 sends
// READ DATA without a SEEK. A media change sets the drive's disk-change
// line (DIR bit 7), which a step pulse with media in the drive clears
// (Linux seeks away and back). A read-only image or the write-protect flag
// makes WRITE DATA and FORMAT TRACK fail with NW (ST1 bit 1) and shows in
// ST3. A failing host read or write is a guest-visible error (data error,
// ST1 DE / ST2 DD), never a crash. Transfers complete at once: the
// interrupt is raised inside the port write (or the DMA grant) that
// completed the command.
//
// Deliberately left out: non-DMA (PIO) data transfers (SPECIFY's ND bit is
// kept and read back by DUMPREG, but data moves through DMA channel 2
// only), the FIFO threshold and FIFO timing (the whole sector moves at
// once), motor spin-up and seek timing (a drive need not spin to read),
// drives 2 and 3 (absent, like an unconnected drive 0 or 1: a seek to
// them fails with equipment check),
// deleted-data marks and sector sizes other than 512 bytes (N=2), the
// power-down mode (DSR bit 6, read back only) and implied seek/EIS
// distinction beyond the above.
#pragma once

#include "hw/dma8237.h"
#include "hypervisor/io/device.h"
#include "hypervisor/io/irq.h"
#include "services/storage/block_device.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace vsa {

class IoBus;

class Fdc82077 final : public Device, private DmaClient {
public:
    static constexpr Port BASE = 0x3F0;
    static constexpr Port DIR_PORT = 0x3F7;
    static constexpr unsigned IRQ = 6;
    static constexpr unsigned DMA_CHANNEL = 2;
    static constexpr unsigned DRIVES = 2;
    static constexpr u32 SECTOR_SIZE = 512;

    // Register offsets from BASE.
    static constexpr u16 SRA = 0, SRB = 1, DOR = 2, TDR = 3, MSR = 4, DSR = 4, FIFO = 5, DIR = 7, CCR = 7;

    // CCR/DSR data rates.
    enum class Rate : u8 { K500 = 0, K300 = 1, K250 = 2, M1 = 3 };

    struct Geometry {
        u8 cylinders{0};
        u8 heads{0};
        u8 sectors{0};
        Rate rate{Rate::K500};
        // The drive type the BIOS reads in CMOS 10h for a drive made for
        // this media (1 = 360K, 2 = 1.2M, 3 = 720K, 4 = 1.44M, 5 = 2.88M).
        u8 cmos_type{4};
    };
    // The geometry of an image of `bytes`; cylinders == 0 if no PC floppy
    // format has that size.
    static Geometry geometry_for_size(u64 bytes);

    // `drives` (0-2) drives are connected, as drive 0 (A:) and 1 (B:).
    Fdc82077(IrqLine& irq, Dma8237& dma, unsigned drives = DRIVES);
    ~Fdc82077() override;

    std::string_view name() const override { return "fdc82077"; }
    void reset() override;
    // Offsets relative to BASE (map 3F0h-3F5h with offset_base 0 and 3F7h
    // with offset_base 7: map_ports does both).
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    // The media path, size and write protection of each drive are saved;
    // a restore needs the same media in the same drives (or both empty),
    // like the ATAPI drive's.
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    bool map_ports(IoBus& io);

    // ---- host side (VM thread) ----
    // Replaces the media of `drive` (a change the guest sees on the
    // disk-change line). False if the drive does not exist or no floppy
    // format has the image's size (then nothing changes).
    bool insert(unsigned drive, std::unique_ptr<storage::BlockDevice> media, std::string path,
                bool write_protected);
    // Empties the drive (the disk-change line goes up). False if no such drive.
    bool eject(unsigned drive);
    unsigned drive_count() const { return m_drive_count; }
    bool has_media(unsigned drive) const { return drive < m_drive_count && m_drives[drive].media != nullptr; }
    std::string const& media_path(unsigned drive) const { return m_drives[drive & 1].path; }
    bool write_protected(unsigned drive) const { return m_drives[drive & 1].write_protected; }
    Geometry media_geometry(unsigned drive) const { return m_drives[drive & 1].geometry; }
    bool disk_changed(unsigned drive) const { return m_drives[drive & 1].disk_changed; }
    u8 cylinder(unsigned drive) const { return m_drives[drive & 1].track; }
    bool irq_pending() const { return m_irq_pending; }

private:
    enum class Phase : u8 { Command, Execution, Result };
    enum class Op : u8 { None, Read, Write, Format };

    struct Drive {
        std::unique_ptr<storage::BlockDevice> media;
        std::string path;
        Geometry geometry;
        bool write_protected{false};
        bool disk_changed{true}; // a drive powers up with the line set
        u8 track{0};             // present cylinder (PCN)
        u8 head{0};              // last head used (ST3, READ ID)
        u8 sector{0};            // next sector under the head (READ ID)
    };

    void dma_service(Dma8237& dma, unsigned channel) override;

    void controller_reset(bool from_power_on);
    void update_irq();
    void raise_irq();
    u8 msr() const;
    void write_fifo(u8 value);
    u8 read_fifo();
    void execute();
    void finish_with_result(std::vector<u8> result);
    void finish_transfer(u8 st0_flags, u8 st1, u8 st2);
    void invalid_command();
    void seek_drive(unsigned drive, u8 cylinder, bool relative_down = false, bool relative = false);
    // For READ/WRITE/FORMAT/READ ID: checks the drive has media at the
    // rate the controller runs at; on failure ends the command with MA.
    bool media_readable(unsigned drive);
    void start_transfer(Op op);
    // One sector between the image and the DMA channel; false ends the
    // transfer (its result phase already set).
    bool transfer_sector(Dma8237& dma);
    bool format_sector(Dma8237& dma);
    u8 st0(unsigned drive, u8 head) const { return static_cast<u8>((head & 1) << 2 | (drive & 3)); }
    unsigned selected_command_drive() const { return m_command[1] & 3; }
    Drive* drive(unsigned n) { return n < m_drive_count ? &m_drives[n] : nullptr; }
    Rate rate() const { return static_cast<Rate>(m_dsr & 3); }

    IrqLine& m_irq;
    Dma8237& m_dma;
    unsigned m_drive_count;
    std::array<Drive, DRIVES> m_drives;

    // Registers.
    u8 m_dor{0};
    u8 m_tdr{0};
    u8 m_dsr{0}; // data rate and precompensation (CCR writes the rate too)
    // SPECIFY.
    u8 m_step_unload{0}; // SRT << 4 | HUT
    u8 m_load_nodma{0};  // HLT << 1 | ND
    // CONFIGURE, LOCK, PERPENDICULAR MODE.
    u8 m_config{0x20}; // EIS, EFIFO, POLL, FIFOTHR: FIFO disabled, polling on
    u8 m_pretrk{0};
    bool m_lock{false};
    u8 m_perpendicular{0}; // D3-D0 << 2 | GAP << 1 | WGATE
    u8 m_eot{0};           // the last transfer's EOT (DUMPREG)

    // Command state.
    Phase m_phase{Phase::Command};
    std::array<u8, 9> m_command{};
    u8 m_command_length{0};
    u8 m_command_received{0};
    std::array<u8, 10> m_result{};
    u8 m_result_length{0};
    u8 m_result_read{0};
    bool m_irq_pending{false};
    u8 m_busy{0}; // MSR bits 3-0: drives seeking, until SENSE INTERRUPT STATUS
    // SENSE INTERRUPT STATUS: what the next one reports.
    bool m_seek_pending{false};
    u8 m_seek_st0{0};
    u8 m_reset_sensei{0}; // polling statuses left after a reset
    // A DMA transfer in progress (execution phase).
    Op m_op{Op::None};
    u8 m_cyl{0}, m_head{0}, m_sec{0};
    u8 m_format_count{0}; // FORMAT: sectors left to format
    u8 m_format_fill{0};  // FORMAT: the filler byte
    // Scratch for one sector (not saved: a sector moves within one grant).
    std::array<u8, SECTOR_SIZE> m_buffer{};
};

} // namespace vsa
