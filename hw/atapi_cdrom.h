// SPDX-License-Identifier: GPL-2.0-or-later
// AtapiCdrom: an ATAPI CD/DVD-ROM drive on an IdeChannel, reading 2048-byte
// sectors from an ISO image (a storage::BlockDevice with 2048-byte
// sectors, opened read-only by the machine). References: ATA/ATAPI-6 (T13
// 1410D rev 3b) 8.23 PACKET, 8.17 IDENTIFY PACKET DEVICE, 8.10 DEVICE
// RESET, 9.12 signature EB14h; the PACKET protocol (9.7) runs in
// IdeChannel. SCSI commands per SPC-3 (T10 1416-D: INQUIRY, REQUEST SENSE
// fixed format, TEST UNIT READY, MODE SENSE, PREVENT ALLOW MEDIUM REMOVAL,
// START STOP UNIT) and MMC-5 (T10 1675-D: READ CAPACITY, READ(10)/(12),
// READ TOC/PMA/ATIP formats 0, 1 and 2, GET CONFIGURATION, GET EVENT
// STATUS NOTIFICATION, READ DISC INFORMATION, MECHANISM STATUS, SET CD
// SPEED).
//
// Data phases: each DRQ block is at most the byte count limit the host
// wrote to LBA mid/high with the PACKET command (0 or FFFFh: FFFEh; an odd
// limit loses its low bit when more data follows), and at most the
// channel's 8 KiB block buffer, which ATA-6 allows (a device may send less
// than the limit per DRQ). SeaBIOS asks for exactly 2048 bytes per block,
// Linux reads whatever the byte count register says.
//
// Media: insert() / eject() come from the host (PcMachine, on the VM
// thread). A change makes the next command other than INQUIRY, REQUEST
// SENSE, GET CONFIGURATION and GET EVENT STATUS NOTIFICATION fail once
// with UNIT ATTENTION 06/28/00; the event is reported through GET EVENT
// STATUS NOTIFICATION (media class, polled). The guest can lock the tray
// (PREVENT ALLOW MEDIUM REMOVAL): then its own eject (START STOP UNIT)
// fails with 05/53/02, and a host eject is refused unless forced and
// reported to the guest as an "eject request" event. An ejected drive is
// empty (the image is released), as a tray opened in Virtual Server.
//
// Guest errors give sense data, never a crash: unknown opcodes 05/20/00,
// bad fields 05/24/00, LBA past the end 05/21/00, no medium 02/3A/00, a
// failing host read 03/11/00. The error register carries the sense key in
// bits 7-4 with ABRT.
//
// DMA (ATA-6 9.10, "PACKET DMA"): a PACKET command with Features bit 0
// set sends its data phase, whatever the command (READ(10)/(12), or a
// reply such as INQUIRY, which libata also moves by DMA when its length
// is a multiple of 16), through the controller's bus master engine: the
// byte count limit does not apply and the whole phase is one transfer,
// ended by the status-phase interrupt. The packet itself always comes by
// PIO. IDENTIFY PACKET DEVICE advertises multiword DMA 0-2 and Ultra DMA
// 0-5; SET FEATURES records the selected mode (words 63/88); any mode
// moves data at host speed.
//
// Left out: DMADIR (Features bit 2, for bridges), overlapped/queued commands, audio
// (PLAY AUDIO, READ SUB-CHANNEL, READ CD, CD-DA tracks), DVD structures and
// CSS (READ DVD STRUCTURE, REPORT KEY), writing, MODE SELECT, a power-on
// UNIT ATTENTION (06/29: a drive with media at power-on is simply ready),
// multi-session and multi-track images (an ISO is one data track).
#pragma once

#include "hw/ide_channel.h"
#include "services/storage/block_device.h"

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace vsa {

class AtapiCdrom final : public IdeDrive {
public:
    static constexpr u32 SECTOR_SIZE = 2048;
    // The largest CD (80 minutes); anything bigger is reported as a DVD.
    static constexpr u64 CD_MAX_SECTORS = 80 * 60 * 75;

    struct Sense {
        u8 key{0}, asc{0}, ascq{0};
        bool operator==(Sense const&) const = default;
    };

    // `serial` (at most 20 characters) tells drives apart in the guest.
    explicit AtapiCdrom(std::string serial);

    std::string_view name() const override { return "atapi-cdrom"; }
    void reset() override;
    void soft_reset() override;
    u16 signature() const override { return ata::PACKET_SIGNATURE; }
    // ATA-6 9.12: a PACKET device shows status 00h after a reset.
    u8 status_after_reset() const override { return 0; }
    void execute(IdeChannel& channel, u8 command) override;
    void block_done(IdeChannel& channel, std::span<u8 const> block) override;
    // The media path and size are saved; a restore needs the same media in
    // the drive (or both empty), like a disk's size.
    void visit_state(StateVisitor& v) override;

    // Host side. insert() replaces any media; it fails for a backend
    // without 2048-byte sectors, and, unless `force`, while the guest has
    // locked a tray with media in it (that is an eject first: the guest is
    // sent an eject request event, as for eject()).
    bool insert(std::unique_ptr<storage::BlockDevice> media, std::string path, bool force = false);
    // False (and an eject request event for the guest) while the guest has
    // the tray locked, unless `force`.
    bool eject(bool force = false);

    bool has_media() const { return m_media != nullptr; }
    std::string const& media_path() const { return m_media_path; }
    u64 media_sectors() const { return m_media ? m_media->sector_count() : 0; }
    bool locked() const { return m_locked; }
    bool tray_open() const { return m_tray_open; }
    bool unit_attention() const { return m_unit_attention; }
    Sense sense() const { return m_sense; }
    u8 dma_mode() const { return m_dma_mode; }
    static constexpr u8 DEFAULT_DMA_MODE = 0x22; // multiword DMA 2
    // Bytes of media data the guest read since power-on or the last hard
    // reset (IVMAccountant.DiskBytesRead); statistics, never saved.
    u64 bytes_read() const { return m_bytes_read; }

    std::array<u8, ata::SECTOR_SIZE> identify_block() const;

private:
    enum class Phase : u8 { None, Identify, Packet, DataIn };
    // Guest-ejected media: the host image goes away.
    void remove_media();
    void run_packet(IdeChannel& ch);
    void good(IdeChannel& ch);
    void check_condition(IdeChannel& ch, u8 key, u8 asc, u8 ascq = 0);
    // Starts a data-in phase of min(data.size(), allocation) bytes.
    void reply(IdeChannel& ch, std::vector<u8> data, u32 allocation);
    void start_read(IdeChannel& ch, u64 lba, u64 count);
    void send_block(IdeChannel& ch);
    bool is_dvd() const { return media_sectors() > CD_MAX_SECTORS; }

    void cmd_inquiry(IdeChannel& ch);
    void cmd_request_sense(IdeChannel& ch);
    void cmd_read_toc(IdeChannel& ch);
    void cmd_mode_sense(IdeChannel& ch, bool ten);
    void cmd_get_configuration(IdeChannel& ch);
    void cmd_event_status(IdeChannel& ch);
    void cmd_start_stop(IdeChannel& ch);
    void cmd_disc_information(IdeChannel& ch);
    void cmd_mechanism_status(IdeChannel& ch);

    std::string m_serial;
    std::unique_ptr<storage::BlockDevice> m_media;
    std::string m_media_path;
    u8 m_dma_mode{DEFAULT_DMA_MODE};
    bool m_tray_open{false};
    bool m_locked{false};
    bool m_unit_attention{false};
    // Pending media events for GET EVENT STATUS NOTIFICATION.
    bool m_event_eject_request{false};
    bool m_event_new_media{false};
    bool m_event_removal{false};
    Sense m_sense;
    // The command in progress.
    Phase m_phase{Phase::None};
    std::array<u8, 12> m_packet{};
    u16 m_byte_limit{0};
    bool m_dma{false}; // the data phase goes through the bus master
    bool m_from_media{false};
    std::vector<u8> m_reply; // a data phase not read from the media
    u64 m_read_lba{0};
    u64 m_length{0};         // bytes of the data phase
    u64 m_position{0};       // bytes sent
    std::vector<u8> m_block; // scratch: the sectors one DRQ block spans
    u64 m_bytes_read{0};
};

} // namespace vsa
