// SPDX-License-Identifier: GPL-2.0-or-later
#include "hw/atapi_cdrom.h"

#include <algorithm>

namespace vsa {

namespace {
constexpr std::size_t BLOCK_BYTES = ata::MAX_BLOCK_SECTORS * ata::SECTOR_SIZE; // the channel's buffer
// A block of BLOCK_BYTES starting mid-sector spans one sector more.
constexpr std::size_t SCRATCH_SECTORS = BLOCK_BYTES / AtapiCdrom::SECTOR_SIZE + 1;
constexpr std::size_t MAX_REPLY = 4096;
constexpr std::size_t MAX_PATH = 4096;

namespace ata_cmd {
constexpr u8 PACKET = 0xA0;
constexpr u8 IDENTIFY_PACKET_DEVICE = 0xA1;
constexpr u8 IDENTIFY_DEVICE = 0xEC;
constexpr u8 SET_FEATURES = 0xEF;
constexpr u8 CHECK_POWER_MODE = 0xE5;
constexpr u8 STANDBY_IMMEDIATE = 0xE0;
constexpr u8 IDLE_IMMEDIATE = 0xE1;
constexpr u8 STANDBY = 0xE2;
constexpr u8 IDLE = 0xE3;
constexpr u8 SLEEP = 0xE6;
} // namespace ata_cmd

namespace scsi {
constexpr u8 TEST_UNIT_READY = 0x00;
constexpr u8 REQUEST_SENSE = 0x03;
constexpr u8 INQUIRY = 0x12;
constexpr u8 MODE_SENSE_6 = 0x1A;
constexpr u8 START_STOP_UNIT = 0x1B;
constexpr u8 PREVENT_ALLOW = 0x1E;
constexpr u8 READ_CAPACITY = 0x25;
constexpr u8 READ_10 = 0x28;
constexpr u8 READ_TOC = 0x43;
constexpr u8 GET_CONFIGURATION = 0x46;
constexpr u8 GET_EVENT_STATUS = 0x4A;
constexpr u8 READ_DISC_INFORMATION = 0x51;
constexpr u8 MODE_SENSE_10 = 0x5A;
constexpr u8 READ_12 = 0xA8;
constexpr u8 SET_CD_SPEED = 0xBB;
constexpr u8 MECHANISM_STATUS = 0xBD;
} // namespace scsi

// Sense keys and additional sense codes (SPC-3 4.5.6, annex D).
constexpr u8 NOT_READY = 0x02;
constexpr u8 MEDIUM_ERROR = 0x03;
constexpr u8 ILLEGAL_REQUEST = 0x05;
constexpr u8 UNIT_ATTENTION = 0x06;
constexpr u8 ASC_UNRECOVERED_READ = 0x11;
constexpr u8 ASC_INVALID_OPCODE = 0x20;
constexpr u8 ASC_LBA_OUT_OF_RANGE = 0x21;
constexpr u8 ASC_INVALID_FIELD = 0x24;
constexpr u8 ASC_MEDIUM_CHANGED = 0x28;
constexpr u8 ASC_SAVING_NOT_SUPPORTED = 0x39;
constexpr u8 ASC_MEDIUM_NOT_PRESENT = 0x3A;
constexpr u8 ASC_REMOVAL_PREVENTED = 0x53;

// MMC profiles and features (MMC-5 5.3).
constexpr u16 PROFILE_CD_ROM = 0x0008;
constexpr u16 PROFILE_DVD_ROM = 0x0010;

// The red book's 2-second pregap: LBA 0 is MSF 00:02:00.
constexpr u64 MSF_OFFSET = 150;

// SCSI fields are big-endian.
u32 be(std::array<u8, 12> const& p, unsigned at, unsigned bytes) {
    u32 value = 0;
    for (unsigned i = 0; i < bytes; ++i)
        value = value << 8 | p[at + i];
    return value;
}
void push16(std::vector<u8>& out, u32 value) {
    out.push_back(static_cast<u8>(value >> 8));
    out.push_back(static_cast<u8>(value));
}
void push32(std::vector<u8>& out, u32 value) {
    push16(out, value >> 16);
    push16(out, value);
}
void set16(std::vector<u8>& out, std::size_t at, u32 value) {
    out[at] = static_cast<u8>(value >> 8);
    out[at + 1] = static_cast<u8>(value);
}
// An address for READ TOC: LBA, or 0/M/S/F.
void push_address(std::vector<u8>& out, u64 lba, bool msf) {
    if (!msf) return push32(out, static_cast<u32>(lba));
    u64 frames = lba + MSF_OFFSET;
    out.push_back(0);
    out.push_back(static_cast<u8>(std::min<u64>(frames / (60 * 75), 255)));
    out.push_back(static_cast<u8>(frames / 75 % 60));
    out.push_back(static_cast<u8>(frames % 75));
}
void push_msf(std::vector<u8>& out, u64 lba) {
    u64 frames = lba + MSF_OFFSET;
    out.push_back(static_cast<u8>(std::min<u64>(frames / (60 * 75), 255)));
    out.push_back(static_cast<u8>(frames / 75 % 60));
    out.push_back(static_cast<u8>(frames % 75));
}
} // namespace

AtapiCdrom::AtapiCdrom(std::string serial)
    : m_serial(std::move(serial)), m_block(SCRATCH_SECTORS * SECTOR_SIZE) {
    if (m_serial.size() > 20) m_serial.resize(20);
}

void AtapiCdrom::reset() {
    // A hard reset unlocks the tray (SPC-3: PREVENT is cleared by a
    // power-on or hard reset) and ends any command; the media stays.
    m_locked = false;
    m_sense = {};
    m_dma_mode = DEFAULT_DMA_MODE;
    m_bytes_read = 0;
    soft_reset();
}

void AtapiCdrom::soft_reset() {
    m_phase = Phase::None;
    m_reply.clear();
    m_length = m_position = 0;
    m_from_media = false;
    m_dma = false;
}

bool AtapiCdrom::insert(std::unique_ptr<storage::BlockDevice> media, std::string path, bool force) {
    if (!media || media->sector_size() != SECTOR_SIZE) return false;
    if (m_locked && m_media && !force) {
        m_event_eject_request = true;
        return false;
    }
    if (force) m_locked = false;
    bool had_media = m_media != nullptr;
    m_media = std::move(media);
    m_media_path = std::move(path);
    m_tray_open = false;
    m_unit_attention = true;
    m_event_new_media = true;
    m_event_removal = m_event_removal || had_media;
    return true;
}

bool AtapiCdrom::eject(bool force) {
    if (m_locked && !force) {
        // The guest OS decides: it may unlock and eject the tray itself.
        m_event_eject_request = true;
        return false;
    }
    m_locked = false; // a forced eject breaks the lock
    remove_media();
    m_tray_open = true;
    return true;
}

void AtapiCdrom::remove_media() {
    if (m_media) {
        m_event_removal = true;
        m_event_new_media = false;
        m_unit_attention = true;
    }
    m_media.reset();
    m_media_path.clear();
}

// ---- ATA commands ----------------------------------------------------------

void AtapiCdrom::execute(IdeChannel& ch, u8 command) {
    soft_reset();
    TaskFile& tf = ch.task_file();
    switch (command) {
    case ata_cmd::PACKET:
        // Bit 0 asks for DMA; bit 1, an overlapped command, is not offered
        // in IDENTIFY PACKET DEVICE.
        if (tf.feature & 0x02) return ch.fail(ata::ERROR_ABRT);
        m_dma = tf.feature & 0x01;
        m_byte_limit = static_cast<u16>(tf.lba_mid | tf.lba_high << 8);
        m_phase = Phase::Packet;
        tf.count = ata::REASON_COD;
        // The packet is asked for without an interrupt (IDENTIFY word 0:
        // DRQ within 50 us).
        return ch.pio_out(m_packet.size(), false);
    case ata_cmd::IDENTIFY_PACKET_DEVICE: {
        auto id = identify_block();
        m_phase = Phase::Identify;
        return ch.pio_in(id);
    }
    case ata::COMMAND_DEVICE_RESET:
        m_sense = {};
        return ch.device_reset_done();
    case ata_cmd::IDENTIFY_DEVICE:
        // ATA-6 8.15: a PACKET device aborts it and shows its signature,
        // which is how a driver that probes with it finds out.
        tf.count = 1;
        tf.lba_low = 1;
        tf.lba_mid = static_cast<u8>(ata::PACKET_SIGNATURE);
        tf.lba_high = static_cast<u8>(ata::PACKET_SIGNATURE >> 8);
        return ch.fail(ata::ERROR_ABRT);
    case ata_cmd::SET_FEATURES:
        // Transfer mode: PIO, multiword or Ultra DMA (libata sets a PIO
        // and then a DMA mode); the cache and look-ahead switches mean
        // nothing on a read-only drive.
        if (tf.feature == 0x03) {
            if (!ata::valid_transfer_mode(tf.count)) return ch.fail(ata::ERROR_ABRT);
            if (tf.count >= 0x20) m_dma_mode = tf.count;
            return ch.complete();
        }
        if (tf.feature == 0x02 || tf.feature == 0x82 || tf.feature == 0x55 || tf.feature == 0xAA ||
            tf.feature == 0x66 || tf.feature == 0xCC)
            return ch.complete();
        return ch.fail(ata::ERROR_ABRT);
    case ata_cmd::CHECK_POWER_MODE:
        tf.count = 0xFF;
        return ch.complete();
    case ata_cmd::STANDBY_IMMEDIATE:
    case ata_cmd::IDLE_IMMEDIATE:
    case ata_cmd::STANDBY:
    case ata_cmd::IDLE:
    case ata_cmd::SLEEP:
        return ch.complete();
    default:
        // READ SECTORS and the rest of the ATA disk command set, NOP (which
        // always aborts), the DMA commands.
        return ch.fail(ata::ERROR_ABRT);
    }
}

void AtapiCdrom::block_done(IdeChannel& ch, std::span<u8 const> block) {
    switch (m_phase) {
    case Phase::Identify:
        m_phase = Phase::None;
        return ch.complete(false);
    case Phase::Packet:
        if (block.size() != m_packet.size()) break;
        std::copy(block.begin(), block.end(), m_packet.begin());
        return run_packet(ch);
    case Phase::DataIn:
        if (m_position >= m_length) return good(ch);
        return send_block(ch);
    case Phase::None:
        break;
    }
    soft_reset();
    ch.fail(ata::ERROR_ABRT);
}

void AtapiCdrom::good(IdeChannel& ch) {
    soft_reset();
    // The status phase: CoD and IO both set, with an interrupt.
    ch.task_file().count = ata::REASON_COD | ata::REASON_IO;
    ch.complete(true);
}

void AtapiCdrom::check_condition(IdeChannel& ch, u8 key, u8 asc, u8 ascq) {
    soft_reset();
    m_sense = Sense{key, asc, ascq};
    ch.task_file().count = ata::REASON_COD | ata::REASON_IO;
    ch.fail(static_cast<u8>(key << 4 | ata::ERROR_ABRT));
}

void AtapiCdrom::reply(IdeChannel& ch, std::vector<u8> data, u32 allocation) {
    if (data.size() > allocation) data.resize(allocation);
    if (data.empty()) return good(ch);
    m_reply = std::move(data);
    m_from_media = false;
    m_length = m_reply.size();
    m_position = 0;
    m_phase = Phase::DataIn;
    send_block(ch);
}

void AtapiCdrom::start_read(IdeChannel& ch, u64 lba, u64 count) {
    if (!m_media) return check_condition(ch, NOT_READY, ASC_MEDIUM_NOT_PRESENT);
    u64 sectors = m_media->sector_count();
    if (lba > sectors || count > sectors - lba)
        return check_condition(ch, ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
    if (count == 0) return good(ch);
    m_from_media = true;
    m_read_lba = lba;
    m_length = count * SECTOR_SIZE;
    m_position = 0;
    m_phase = Phase::DataIn;
    send_block(ch);
}

// One DRQ block of the data phase: the byte count goes to LBA mid/high,
// the interrupt reason says "data to the host".
void AtapiCdrom::send_block(IdeChannel& ch) {
    u64 left = m_length - m_position;
    u32 limit = m_byte_limit == 0 || m_byte_limit == 0xFFFF ? 0xFFFE : m_byte_limit;
    u64 n = std::min<u64>(left, BLOCK_BYTES);
    // More to come after this block: keep blocks even so the host's 16-bit
    // reads stay aligned (ATA-6 9.7: an odd limit is rounded down). DMA
    // has no byte count limit: the PRD table says where the bytes go.
    if (left > limit && !m_dma) n = std::min<u64>(n, std::max<u32>(limit & ~1u, 2));
    std::span<u8 const> data;
    if (m_from_media) {
        if (!m_media) return check_condition(ch, NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        u64 first = m_read_lba + m_position / SECTOR_SIZE;
        u64 last = m_read_lba + (m_position + n - 1) / SECTOR_SIZE;
        std::size_t bytes = static_cast<std::size_t>(last - first + 1) * SECTOR_SIZE;
        if (last >= m_media->sector_count() ||
            !m_media->read(first, std::as_writable_bytes(std::span(m_block.data(), bytes))))
            return check_condition(ch, MEDIUM_ERROR, ASC_UNRECOVERED_READ);
        data = std::span<u8 const>(m_block.data() + m_position % SECTOR_SIZE, static_cast<std::size_t>(n));
        m_bytes_read += n;
    } else {
        data = std::span<u8 const>(m_reply.data() + m_position, static_cast<std::size_t>(n));
    }
    m_position += n;
    TaskFile& tf = ch.task_file();
    tf.count = ata::REASON_IO;
    if (m_dma) return ch.dma_in(data);
    tf.lba_mid = static_cast<u8>(n);
    tf.lba_high = static_cast<u8>(n >> 8);
    ch.pio_in(data);
}

// ---- packet commands -------------------------------------------------------

void AtapiCdrom::run_packet(IdeChannel& ch) {
    u8 const op = m_packet[0];
    bool const reports_attention = op == scsi::INQUIRY || op == scsi::REQUEST_SENSE ||
                                   op == scsi::GET_CONFIGURATION || op == scsi::GET_EVENT_STATUS;
    // Sense data describes the last command; REQUEST SENSE reads it first.
    if (op != scsi::REQUEST_SENSE) m_sense = {};
    if (m_unit_attention && !reports_attention) {
        m_unit_attention = false;
        return check_condition(ch, UNIT_ATTENTION, ASC_MEDIUM_CHANGED);
    }
    auto const& p = m_packet;
    switch (op) {
    case scsi::TEST_UNIT_READY:
        if (!m_media) return check_condition(ch, NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        return good(ch);
    case scsi::REQUEST_SENSE:
        return cmd_request_sense(ch);
    case scsi::INQUIRY:
        return cmd_inquiry(ch);
    case scsi::READ_CAPACITY: {
        if (!m_media) return check_condition(ch, NOT_READY, ASC_MEDIUM_NOT_PRESENT);
        std::vector<u8> data;
        u64 sectors = m_media->sector_count();
        push32(data, static_cast<u32>(std::min<u64>(sectors ? sectors - 1 : 0, 0xFFFF'FFFF)));
        push32(data, SECTOR_SIZE);
        return reply(ch, std::move(data), 8);
    }
    case scsi::READ_10:
        return start_read(ch, be(p, 2, 4), be(p, 7, 2));
    case scsi::READ_12:
        return start_read(ch, be(p, 2, 4), be(p, 6, 4));
    case scsi::READ_TOC:
        return cmd_read_toc(ch);
    case scsi::MODE_SENSE_6:
        return cmd_mode_sense(ch, false);
    case scsi::MODE_SENSE_10:
        return cmd_mode_sense(ch, true);
    case scsi::GET_CONFIGURATION:
        return cmd_get_configuration(ch);
    case scsi::GET_EVENT_STATUS:
        return cmd_event_status(ch);
    case scsi::START_STOP_UNIT:
        return cmd_start_stop(ch);
    case scsi::PREVENT_ALLOW:
        // Bit 0: prevent (bit 1, the changer's, has nothing to lock here).
        m_locked = p[4] & 0x01;
        return good(ch);
    case scsi::READ_DISC_INFORMATION:
        return cmd_disc_information(ch);
    case scsi::MECHANISM_STATUS:
        return cmd_mechanism_status(ch);
    case scsi::SET_CD_SPEED:
        // An image reads at whatever speed the host has.
        return good(ch);
    default:
        return check_condition(ch, ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
    }
}

void AtapiCdrom::cmd_request_sense(IdeChannel& ch) {
    Sense sense = m_sense;
    // A pending unit attention is what REQUEST SENSE reports (and clears)
    // when no command failed before it (SPC-3 5.25).
    if (sense.key == 0 && m_unit_attention) {
        sense = Sense{UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0};
        m_unit_attention = false;
    }
    m_sense = {};
    std::vector<u8> data(18, 0);
    data[0] = 0x70; // current error, fixed format (descriptor format not offered)
    data[2] = sense.key;
    data[7] = 10; // additional sense length
    data[12] = sense.asc;
    data[13] = sense.ascq;
    reply(ch, std::move(data), m_packet[4]);
}

void AtapiCdrom::cmd_inquiry(IdeChannel& ch) {
    auto const& p = m_packet;
    u32 allocation = be(p, 3, 2);
    std::vector<u8> data;
    if (p[1] & 0x01) {
        // Vital product data: the supported-pages list and the serial.
        data = {0x05, p[2], 0, 0};
        if (p[2] == 0x00) {
            data.push_back(0x00);
            data.push_back(0x80);
        } else if (p[2] == 0x80) {
            // Byte by byte: GCC 12 at -O2 misreads a range insert into the
            // 4-byte vector as an out-of-bounds memmove (-Warray-bounds).
            for (char c : m_serial)
                data.push_back(static_cast<u8>(c));
        } else {
            return check_condition(ch, ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        }
        data[3] = static_cast<u8>(data.size() - 4);
        return reply(ch, std::move(data), allocation);
    }
    if (p[2] != 0) return check_condition(ch, ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    data.assign(36, ' ');
    data[0] = 0x05; // CD/DVD device
    data[1] = 0x80; // removable medium
    data[2] = 0x05; // SPC-3
    data[3] = 0x02; // response data format 2
    data[4] = 36 - 5;
    data[5] = data[6] = data[7] = 0;
    auto put = [&](std::size_t at, std::string_view text) {
        std::copy(text.begin(), text.end(), data.begin() + at);
    };
    put(8, "VSA");
    put(16, "Virtual CD/DVD");
    put(32, "1.0");
    reply(ch, std::move(data), allocation);
}

void AtapiCdrom::cmd_read_toc(IdeChannel& ch) {
    auto const& p = m_packet;
    if (!m_media) return check_condition(ch, NOT_READY, ASC_MEDIUM_NOT_PRESENT);
    bool msf = p[1] & 0x02;
    unsigned format = p[2] & 0x0F;
    // SFF-8020 drivers put the format in the top bits of byte 9.
    if (format == 0) format = p[9] >> 6;
    u8 track = p[6];
    u32 allocation = be(p, 7, 2);
    u64 leadout = m_media->sector_count();
    std::vector<u8> data{0, 0, 1, 1}; // length, first and last track/session
    switch (format) {
    case 0: // TOC: track 1 (a data track at LBA 0), then the lead-out
        if (track > 1 && track != 0xAA) return check_condition(ch, ILLEGAL_REQUEST, ASC_INVALID_FIELD);
        if (track <= 1) {
            data.insert(data.end(), {0, 0x14, 1, 0});
            push_address(data, 0, msf);
        }
        data.insert(data.end(), {0, 0x14, 0xAA, 0});
        push_address(data, leadout, msf);
        break;
    case 1: // session information: one session, track 1 first in it
        data.insert(data.end(), {0, 0x14, 1, 0});
        push_address(data, 0, msf);
        break;
    case 2: { // full TOC, always MSF: points A0, A1, A2 and track 1
        auto entry = [&](u8 point, u8 pmin, u8 psec, u8 pframe) {
            data.insert(data.end(), {1, 0x14, 0, point, 0, 0, 0, 0, pmin, psec, pframe});
        };
        entry(0xA0, 1, 0x00, 0); // first track 1, disc type CD-ROM
        entry(0xA1, 1, 0, 0);    // last track 1
        std::vector<u8> out;
        push_msf(out, leadout);
        entry(0xA2, out[0], out[1], out[2]);
        entry(0x01, 0, 2, 0); // track 1 at 00:02:00
        break;
    }
    default:
        return check_condition(ch, ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    }
    set16(data, 0, static_cast<u32>(data.size() - 2));
    reply(ch, std::move(data), allocation);
}

void AtapiCdrom::cmd_mode_sense(IdeChannel& ch, bool ten) {
    auto const& p = m_packet;
    unsigned control = p[2] >> 6; // 0 current, 1 changeable, 2 default, 3 saved
    u8 page = p[2] & 0x3F;
    u32 allocation = ten ? be(p, 7, 2) : p[4];
    if (control == 3) return check_condition(ch, ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
    bool changeable = control == 1; // nothing is: all zeros
    std::vector<u8> pages;
    auto error_recovery = [&] {
        pages.insert(pages.end(), {0x01, 0x0A});
        std::size_t at = pages.size();
        pages.resize(at + 10, 0);
        if (!changeable) pages[at + 1] = 5; // read retry count
    };
    auto capabilities = [&] {
        // MMC-3 6.3.11: CD/DVD capabilities and mechanical status.
        pages.insert(pages.end(), {0x2A, 0x14});
        std::size_t at = pages.size();
        pages.resize(at + 20, 0);
        if (changeable) return;
        pages[at + 0] = 0x08; // reads DVD-ROM (CD-ROM is implied)
        pages[at + 2] = 0x70; // multi-session, mode 2 form 1 and 2
        // Tray loader (001b), eject, lock, and the lock state.
        pages[at + 4] = static_cast<u8>(0x29 | (m_locked ? 0x02 : 0));
        constexpr u32 SPEED = 24 * 176; // "24x" in kB/s
        pages[at + 6] = SPEED >> 8;
        pages[at + 7] = SPEED & 0xFF;
        pages[at + 10] = 512 >> 8; // buffer: 512 KiB
        pages[at + 12] = SPEED >> 8;
        pages[at + 13] = SPEED & 0xFF;
    };
    switch (page) {
    case 0x01:
        error_recovery();
        break;
    case 0x2A:
        capabilities();
        break;
    case 0x3F:
        error_recovery();
        capabilities();
        break;
    default:
        return check_condition(ch, ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    }
    std::vector<u8> data;
    if (ten) {
        data.assign(8, 0); // no block descriptors
        data.insert(data.end(), pages.begin(), pages.end());
        set16(data, 0, static_cast<u32>(data.size() - 2));
    } else {
        data.assign(4, 0);
        data.insert(data.end(), pages.begin(), pages.end());
        data[0] = static_cast<u8>(data.size() - 1);
    }
    reply(ch, std::move(data), allocation);
}

void AtapiCdrom::cmd_get_configuration(IdeChannel& ch) {
    auto const& p = m_packet;
    unsigned rt = p[1] & 0x03;
    u16 start = static_cast<u16>(be(p, 2, 2));
    u32 allocation = be(p, 7, 2);
    if (rt == 3) return check_condition(ch, ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    u16 profile = !m_media ? 0 : is_dvd() ? PROFILE_DVD_ROM : PROFILE_CD_ROM;
    std::vector<u8> data(8, 0);
    set16(data, 6, profile);
    // feature code, version, persistent, current, the feature's bytes.
    auto feature = [&](u16 code, u8 version, bool persistent, bool current, std::vector<u8> body) {
        if (code < start) return;
        if (rt == 1 && !current) return;
        if (rt == 2 && code != start) return;
        push16(data, code);
        data.push_back(static_cast<u8>(version << 2 | (persistent ? 2 : 0) | (current ? 1 : 0)));
        data.push_back(static_cast<u8>(body.size()));
        data.insert(data.end(), body.begin(), body.end());
    };
    // Profile list: the highest profile first, each with its "current" bit.
    feature(0x0000, 0, true, true,
            {PROFILE_DVD_ROM >> 8, PROFILE_DVD_ROM & 0xFF, profile == PROFILE_DVD_ROM, 0, PROFILE_CD_ROM >> 8,
             PROFILE_CD_ROM & 0xFF, profile == PROFILE_CD_ROM, 0});
    feature(0x0001, 0, true, true, {0, 0, 0, 2});    // core: ATAPI
    feature(0x0002, 1, true, true, {0x02, 0, 0, 0}); // morphing: polled events (OCEvent)
    feature(0x0003, 0, true, true, {0x29, 0, 0, 0}); // removable: tray, eject, lock
    feature(0x0010, 0, false, profile != 0,          // random readable
            {0, 0, SECTOR_SIZE >> 8, 0, 0, static_cast<u8>(profile == PROFILE_DVD_ROM ? 16 : 1), 0, 0});
    feature(0x001E, 0, false, profile == PROFILE_CD_ROM, {0, 0, 0, 0}); // CD read
    feature(0x001F, 0, false, profile == PROFILE_DVD_ROM, {});          // DVD read
    u32 length = static_cast<u32>(data.size() - 4);
    data[0] = static_cast<u8>(length >> 24);
    data[1] = static_cast<u8>(length >> 16);
    set16(data, 2, length);
    reply(ch, std::move(data), allocation);
}

void AtapiCdrom::cmd_event_status(IdeChannel& ch) {
    auto const& p = m_packet;
    // Only polling (bit 0); asynchronous notification is not offered.
    if (!(p[1] & 0x01)) return check_condition(ch, ILLEGAL_REQUEST, ASC_INVALID_FIELD);
    u8 classes = p[4];
    u32 allocation = be(p, 7, 2);
    constexpr u8 MEDIA_CLASS = 1 << 4;
    std::vector<u8> data{0, 0, 0, MEDIA_CLASS};
    if (!(classes & MEDIA_CLASS)) {
        data[2] = 0x80; // no event available (NEA), class 0
        set16(data, 0, 2);
        return reply(ch, std::move(data), allocation);
    }
    data[2] = 4; // media class
    u8 code = 0;
    if (m_event_eject_request) {
        code = 1;
        m_event_eject_request = false;
    } else if (m_event_new_media) {
        code = 2;
        m_event_new_media = false;
        m_event_removal = false;
    } else if (m_event_removal) {
        code = 3;
        m_event_removal = false;
    }
    data.push_back(code);
    data.push_back(static_cast<u8>((m_tray_open ? 0x01 : 0) | (m_media ? 0x02 : 0)));
    data.push_back(0);
    data.push_back(0);
    set16(data, 0, static_cast<u32>(data.size() - 2));
    reply(ch, std::move(data), allocation);
}

void AtapiCdrom::cmd_start_stop(IdeChannel& ch) {
    bool start = m_packet[4] & 0x01;
    bool load_eject = m_packet[4] & 0x02;
    if (load_eject && !start) {
        if (m_locked) return check_condition(ch, ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
        // The guest opened the tray: the image is released. The guest saw
        // it go, so no unit attention or event for this change.
        remove_media();
        m_unit_attention = false;
        m_event_removal = false;
        m_tray_open = true;
    } else if (load_eject) {
        m_tray_open = false; // closes an empty tray; nothing to load
    }
    // Spinning up or down means nothing for an image.
    good(ch);
}

void AtapiCdrom::cmd_disc_information(IdeChannel& ch) {
    auto const& p = m_packet;
    if (!m_media) return check_condition(ch, NOT_READY, ASC_MEDIUM_NOT_PRESENT);
    if (p[1] & 0x07) return check_condition(ch, ILLEGAL_REQUEST, ASC_INVALID_FIELD); // only standard data
    std::vector<u8> data(34, 0);
    set16(data, 0, 32);
    data[2] = 0x0E; // last session complete, disc complete, not erasable
    data[3] = 1;    // first track
    data[4] = 1;    // sessions
    data[5] = 1;    // first track in the last session
    data[6] = 1;    // last track in the last session
    for (std::size_t i = 16; i < 24; ++i)
        data[i] = 0xFF; // no lead-in / lead-out start (a pressed disc)
    reply(ch, std::move(data), be(p, 7, 2));
}

void AtapiCdrom::cmd_mechanism_status(IdeChannel& ch) {
    std::vector<u8> data(8, 0);
    data[1] = m_tray_open ? 0x10 : 0; // door open; mechanism idle; no changer
    reply(ch, std::move(data), be(m_packet, 8, 2));
}

// ---- IDENTIFY PACKET DEVICE ------------------------------------------------

std::array<u8, ata::SECTOR_SIZE> AtapiCdrom::identify_block() const {
    std::array<u8, ata::SECTOR_SIZE> id{};
    // ATAPI (10b), CD-ROM device type 05h, removable, DRQ within 50 us
    // (10b: no interrupt before the packet), 12-byte packets.
    ata::put_identify_word(id, 0, 0x85C0);
    ata::put_identify_string(id, 10, 10, m_serial);
    ata::put_identify_string(id, 23, 4, "1.0");
    ata::put_identify_string(id, 27, 20, "VSA Virtual CD/DVD");
    // DMA (bit 8), LBA (required of PACKET devices) and IORDY.
    ata::put_identify_word(id, 49, 0x0B00);
    ata::put_identify_word(id, 53, 0x0006); // words 64-70 and 88 valid
    ata::put_identify_dma_modes(id, m_dma_mode);
    ata::put_identify_word(id, 64, 0x0003); // PIO modes 3 and 4
    ata::put_identify_word(id, 67, 120);
    ata::put_identify_word(id, 68, 120);
    ata::put_identify_word(id, 80, 0x0070); // ATA/ATAPI-4 .. 6
    // PACKET feature set (4), DEVICE RESET (9), power management (3).
    ata::put_identify_word(id, 82, 0x0218);
    ata::put_identify_word(id, 83, 0x4000);
    ata::put_identify_word(id, 84, 0x4000);
    ata::put_identify_word(id, 85, 0x0218);
    ata::put_identify_word(id, 87, 0x4000);
    ata::put_identify_cable(id);
    ata::seal_identify(id);
    return id;
}

// ---- saved state -----------------------------------------------------------

void AtapiCdrom::visit_state(StateVisitor& v) {
    v.section("atapi-cdrom", 2);
    u32 const version = v.version();
    // The media is configuration the restoring machine must match.
    std::vector<u8> path(m_media_path.begin(), m_media_path.end());
    u64 sectors = media_sectors();
    bool media = m_media != nullptr;
    v.field("media", media);
    v.field("media_path", path, MAX_PATH);
    v.field("media_sectors", sectors);
    if (v.is_loading() && v.ok()) {
        std::string saved(path.begin(), path.end());
        if (media != has_media())
            return v.fail(media ? "atapi-cdrom: the state was saved with " + saved +
                                      " in the drive, this drive is empty"
                                : "atapi-cdrom: the state was saved with an empty drive, this drive holds " +
                                      m_media_path);
        if (media && (saved != m_media_path || sectors != media_sectors()))
            return v.fail("atapi-cdrom: the state was saved with " + saved + " (" + std::to_string(sectors) +
                          " sectors) in the drive, this drive holds " + m_media_path + " (" +
                          std::to_string(media_sectors()) + " sectors)");
    }
    v.field("tray_open", m_tray_open);
    v.field("locked", m_locked);
    v.field("unit_attention", m_unit_attention);
    v.field("event_eject_request", m_event_eject_request);
    v.field("event_new_media", m_event_new_media);
    v.field("event_removal", m_event_removal);
    v.field("sense_key", m_sense.key);
    v.field("sense_asc", m_sense.asc);
    v.field("sense_ascq", m_sense.ascq);
    v.field("phase", m_phase);
    v.field("packet", m_packet);
    v.field("byte_limit", m_byte_limit);
    v.field("from_media", m_from_media);
    v.field("reply", m_reply, MAX_REPLY);
    v.field("read_lba", m_read_lba);
    v.field("length", m_length);
    v.field("position", m_position);
    if (version >= 2) {
        v.field("dma", m_dma);
        v.field("dma_mode", m_dma_mode);
    } else if (v.is_loading()) {
        // Version 1 had no DMA: a PIO data phase, the power-on mode.
        m_dma = false;
        m_dma_mode = DEFAULT_DMA_MODE;
    }
    if (!v.is_loading() || !v.ok()) return;
    bool bad = false;
    if (m_dma_mode != 0 && (m_dma_mode < 0x20 || !ata::valid_transfer_mode(m_dma_mode))) bad = true;
    if (m_phase > Phase::DataIn) bad = true;
    if (m_phase == Phase::DataIn) {
        if (m_position > m_length || m_length == 0) bad = true;
        if (!m_from_media && m_length != m_reply.size()) bad = true;
        if (m_from_media && (m_length % SECTOR_SIZE || m_read_lba > media_sectors() ||
                             m_length / SECTOR_SIZE > media_sectors() - m_read_lba))
            bad = true;
    }
    if (bad) {
        soft_reset();
        v.fail("atapi-cdrom: bad transfer state");
    }
}

} // namespace vsa
