// SPDX-License-Identifier: GPL-2.0-or-later
#include "hw/ata_disk.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace vsa {

namespace {
constexpr u64 LBA28_MAX = 0x0FFF'FFFF;
constexpr std::size_t BLOCK_BYTES = ata::MAX_BLOCK_SECTORS * ata::SECTOR_SIZE;
// CHS capacity limit of the classic 16383/16/63 translation.
constexpr u64 CHS_MAX_SECTORS = u64(AtaDisk::MAX_CHS_CYLINDERS) * 16 * 63;

namespace cmd {
constexpr u8 READ_SECTORS = 0x20;
constexpr u8 READ_SECTORS_NORETRY = 0x21;
constexpr u8 READ_SECTORS_EXT = 0x24;
constexpr u8 READ_MULTIPLE_EXT = 0x29;
constexpr u8 WRITE_SECTORS = 0x30;
constexpr u8 WRITE_SECTORS_NORETRY = 0x31;
constexpr u8 WRITE_SECTORS_EXT = 0x34;
constexpr u8 WRITE_MULTIPLE_EXT = 0x39;
constexpr u8 READ_VERIFY = 0x40;
constexpr u8 READ_VERIFY_NORETRY = 0x41;
constexpr u8 READ_VERIFY_EXT = 0x42;
constexpr u8 INITIALIZE_DEVICE_PARAMETERS = 0x91;
constexpr u8 READ_DMA_EXT = 0x25;
constexpr u8 WRITE_DMA_EXT = 0x35;
constexpr u8 READ_DMA = 0xC8;
constexpr u8 READ_DMA_NORETRY = 0xC9;
constexpr u8 WRITE_DMA = 0xCA;
constexpr u8 WRITE_DMA_NORETRY = 0xCB;
constexpr u8 READ_MULTIPLE = 0xC4;
constexpr u8 WRITE_MULTIPLE = 0xC5;
constexpr u8 SET_MULTIPLE_MODE = 0xC6;
constexpr u8 STANDBY_IMMEDIATE = 0xE0;
constexpr u8 IDLE_IMMEDIATE = 0xE1;
constexpr u8 STANDBY = 0xE2;
constexpr u8 IDLE = 0xE3;
constexpr u8 CHECK_POWER_MODE = 0xE5;
constexpr u8 SLEEP = 0xE6;
constexpr u8 FLUSH_CACHE = 0xE7;
constexpr u8 FLUSH_CACHE_EXT = 0xEA;
constexpr u8 IDENTIFY_DEVICE = 0xEC;
constexpr u8 SET_FEATURES = 0xEF;
} // namespace cmd

} // namespace

AtaDisk::AtaDisk(storage::BlockDevice& backend, std::string serial)
    : m_backend(backend), m_serial(std::move(serial)),
      // An ATA disk has 512-byte sectors; a backend with another sector
      // size (a CD image) would be misread, so it shows as empty: every
      // access fails with IDNF.
      m_sectors(backend.sector_size() == ata::SECTOR_SIZE ? backend.sector_count() : 0),
      // Default CHS translation: 16 heads, 63 sectors (ATA-6 annex B),
      // at least one cylinder so the geometry is never degenerate.
      m_cylinders(static_cast<unsigned>(
          std::clamp<u64>(m_sectors / (DEFAULT_HEADS * DEFAULT_SECTORS), 1, MAX_CHS_CYLINDERS))),
      m_block(BLOCK_BYTES) {
    if (m_serial.size() > 20) m_serial.resize(20);
}

void AtaDisk::reset() {
    m_cur_heads = DEFAULT_HEADS;
    m_cur_sectors = DEFAULT_SECTORS;
    m_multiple = 0;
    m_write_cache = true;
    m_dma_mode = DEFAULT_DMA_MODE;
    m_bytes_read = m_bytes_written = 0;
    soft_reset();
}

void AtaDisk::soft_reset() {
    // SRST keeps the translation, multiple mode and features (ATA-6 9.2:
    // "unless SET FEATURES 66h"), and ends any command.
    m_op = Op::None;
    m_remaining = 0;
    m_dma = false;
}

unsigned AtaDisk::current_cylinders() const {
    unsigned per_cylinder = unsigned(m_cur_heads) * m_cur_sectors;
    if (per_cylinder == 0) return 0;
    return static_cast<unsigned>(std::min<u64>(std::min(m_sectors, CHS_MAX_SECTORS) / per_cylinder, 65535));
}

bool AtaDisk::decode_address28(TaskFile const& tf, u64& lba) const {
    if (tf.device & ata::DEVICE_LBA) {
        lba = tf.lba28();
        return true;
    }
    unsigned cylinder = tf.lba_mid | unsigned(tf.lba_high) << 8;
    unsigned head = tf.device & 0x0F;
    unsigned sector = tf.lba_low;
    if (sector == 0 || sector > m_cur_sectors || head >= m_cur_heads || cylinder >= current_cylinders())
        return false;
    lba = (u64(cylinder) * m_cur_heads + head) * m_cur_sectors + (sector - 1);
    return true;
}

void AtaDisk::set_error_address(IdeChannel& ch, u64 lba) const {
    TaskFile& tf = ch.task_file();
    if (m_ext) {
        tf.set_lba48(lba);
    } else if (m_chs && m_cur_heads && m_cur_sectors) {
        u64 cylinder = lba / (u64(m_cur_heads) * m_cur_sectors);
        unsigned rest = static_cast<unsigned>(lba % (u64(m_cur_heads) * m_cur_sectors));
        tf.lba_low = static_cast<u8>(rest % m_cur_sectors + 1);
        tf.lba_mid = static_cast<u8>(cylinder);
        tf.lba_high = static_cast<u8>(cylinder >> 8);
        tf.device = static_cast<u8>((tf.device & 0xF0) | ((rest / m_cur_sectors) & 0x0F));
    } else {
        tf.set_lba28(lba & LBA28_MAX);
    }
}

void AtaDisk::fail(IdeChannel& ch, u8 error, u64 lba) {
    set_error_address(ch, lba);
    m_op = Op::None;
    m_remaining = 0;
    ch.fail(error);
}

void AtaDisk::execute(IdeChannel& ch, u8 command) {
    m_op = Op::None;
    m_remaining = 0;
    m_dma = false;
    TaskFile& tf = ch.task_file();
    switch (command) {
    case cmd::IDENTIFY_DEVICE: {
        auto id = identify_block();
        m_op = Op::Identify;
        ch.pio_in(id);
        return;
    }
    case cmd::READ_SECTORS:
    case cmd::READ_SECTORS_NORETRY:
        return start_transfer(ch, Op::Read, false, false);
    case cmd::READ_SECTORS_EXT:
        return start_transfer(ch, Op::Read, true, false);
    case cmd::READ_MULTIPLE:
        return start_transfer(ch, Op::Read, false, true);
    case cmd::READ_MULTIPLE_EXT:
        return start_transfer(ch, Op::Read, true, true);
    case cmd::WRITE_SECTORS:
    case cmd::WRITE_SECTORS_NORETRY:
        return start_transfer(ch, Op::Write, false, false);
    case cmd::WRITE_SECTORS_EXT:
        return start_transfer(ch, Op::Write, true, false);
    case cmd::WRITE_MULTIPLE:
        return start_transfer(ch, Op::Write, false, true);
    case cmd::WRITE_MULTIPLE_EXT:
        return start_transfer(ch, Op::Write, true, true);
    case cmd::READ_DMA:
    case cmd::READ_DMA_NORETRY:
        return start_transfer(ch, Op::Read, false, false, true);
    case cmd::READ_DMA_EXT:
        return start_transfer(ch, Op::Read, true, false, true);
    case cmd::WRITE_DMA:
    case cmd::WRITE_DMA_NORETRY:
        return start_transfer(ch, Op::Write, false, false, true);
    case cmd::WRITE_DMA_EXT:
        return start_transfer(ch, Op::Write, true, false, true);
    case cmd::READ_VERIFY:
    case cmd::READ_VERIFY_NORETRY:
        return verify(ch, false);
    case cmd::READ_VERIFY_EXT:
        return verify(ch, true);
    case cmd::SET_MULTIPLE_MODE:
        // Block sizes the drive supports: powers of two up to 16 (IDENTIFY
        // word 47); 0 turns multiple mode off (ATA-7 behaviour, harmless).
        if (tf.count > ata::MAX_BLOCK_SECTORS || (tf.count && !std::has_single_bit(tf.count)))
            return ch.fail(ata::ERROR_ABRT);
        m_multiple = tf.count;
        return ch.complete();
    case cmd::INITIALIZE_DEVICE_PARAMETERS:
        // Any translation is accepted; one with 0 sectors per track has no
        // cylinders, so CHS commands then fail with IDNF (ATA-6 8.16).
        m_cur_heads = static_cast<u8>((tf.device & 0x0F) + 1);
        m_cur_sectors = tf.count;
        return ch.complete();
    case cmd::SET_FEATURES:
        return set_features(ch);
    case cmd::FLUSH_CACHE:
    case cmd::FLUSH_CACHE_EXT:
        m_ext = command == cmd::FLUSH_CACHE_EXT;
        m_chs = false;
        return flush(ch);
    case cmd::STANDBY_IMMEDIATE:
    case cmd::IDLE_IMMEDIATE:
    case cmd::STANDBY:
    case cmd::IDLE:
    case cmd::SLEEP:
        // The image never spins down: power states are accepted no-ops.
        return ch.complete();
    case cmd::CHECK_POWER_MODE:
        tf.count = 0xFF; // active or idle
        return ch.complete();
    default:
        break;
    }
    if ((command & 0xF0) == 0x10) return ch.complete(); // RECALIBRATE: nothing to move
    if ((command & 0xF0) == 0x70) {
        // SEEK: only the address check is observable.
        m_ext = false;
        m_chs = !(tf.device & ata::DEVICE_LBA);
        u64 lba = 0;
        if (!decode_address28(tf, lba) || lba >= m_sectors) return ch.fail(ata::ERROR_IDNF);
        return ch.complete();
    }
    ch.fail(ata::ERROR_ABRT);
}

void AtaDisk::set_features(IdeChannel& ch) {
    TaskFile& tf = ch.task_file();
    switch (tf.feature) {
    case 0x02: // enable write cache
        m_write_cache = true;
        return ch.complete();
    case 0x82: // disable write cache: flush what is cached, then write through
        m_write_cache = false;
        m_ext = false;
        m_chs = false;
        return flush(ch);
    case 0x03: // set transfer mode (count register)
        if (!ata::valid_transfer_mode(tf.count)) return ch.fail(ata::ERROR_ABRT);
        // A DMA mode replaces the previous one; a PIO mode leaves it.
        if (tf.count >= 0x20) m_dma_mode = tf.count;
        return ch.complete();
    case 0x55: // disable read look-ahead
    case 0xAA: // enable read look-ahead
    case 0x66: // disable reverting to power-on defaults
    case 0xCC: // enable reverting to power-on defaults
        return ch.complete();
    default:
        return ch.fail(ata::ERROR_ABRT);
    }
}

void AtaDisk::flush(IdeChannel& ch) {
    if (!m_backend.flush()) return ch.fail(ata::ERROR_ABRT);
    ch.complete();
}

// The sector range of a READ/WRITE/VERIFY command from the task file (LBA48
// for the EXT forms, else LBA28 or CHS), or false after failing the
// command with IDNF: out of range, the address registers keep the host's
// (bad) address.
bool AtaDisk::command_range(IdeChannel& ch, bool ext, u64& lba, u32& count) {
    TaskFile& tf = ch.task_file();
    m_ext = ext;
    m_chs = !ext && !(tf.device & ata::DEVICE_LBA);
    if (ext) {
        lba = tf.lba48();
        count = tf.count48();
    } else {
        if (!decode_address28(tf, lba)) {
            ch.fail(ata::ERROR_IDNF);
            return false;
        }
        count = tf.count28();
    }
    if (lba >= m_sectors || count > m_sectors - lba) {
        ch.fail(ata::ERROR_IDNF);
        return false;
    }
    return true;
}

void AtaDisk::start_transfer(IdeChannel& ch, Op op, bool ext, bool multiple, bool dma) {
    if (multiple && m_multiple == 0) return ch.fail(ata::ERROR_ABRT); // multiple mode off
    u64 lba = 0;
    u32 count = 0;
    if (!command_range(ch, ext, lba, count)) return;
    if (op == Op::Write && m_backend.read_only()) return fail(ch, ata::ERROR_ABRT, lba);
    m_op = op;
    m_lba = lba;
    m_remaining = count;
    m_dma = dma;
    // DMA moves whole channel buffers: the block size is invisible to the
    // host, only the PRD table decides where the bytes go.
    m_block_sectors = dma ? ata::MAX_BLOCK_SECTORS : multiple ? m_multiple : 1;
    if (op == Op::Read) return read_block(ch);
    // PIO data-out: the first block is requested without an interrupt.
    request_write_block(ch, false);
}

void AtaDisk::request_write_block(IdeChannel& ch, bool irq) {
    std::size_t bytes = std::size_t(std::min<u32>(m_block_sectors, m_remaining)) * ata::SECTOR_SIZE;
    if (m_dma) return ch.dma_out(bytes);
    ch.pio_out(bytes, irq);
}

void AtaDisk::read_block(IdeChannel& ch) {
    u32 n = std::min<u32>(m_block_sectors, m_remaining);
    std::span<u8> bytes(m_block.data(), std::size_t(n) * ata::SECTOR_SIZE);
    if (!m_backend.read(m_lba, std::as_writable_bytes(bytes))) return fail(ch, ata::ERROR_UNC, m_lba);
    m_bytes_read += bytes.size();
    m_lba += n;
    m_remaining -= n;
    if (m_dma) return ch.dma_in(bytes);
    ch.pio_in(bytes);
}

void AtaDisk::block_done(IdeChannel& ch, std::span<u8 const> block) {
    switch (m_op) {
    case Op::Read:
        // After the last block of a PIO-in command there is no interrupt;
        // a DMA command ends with one.
        if (m_remaining == 0) {
            m_op = Op::None;
            return ch.complete(m_dma);
        }
        return read_block(ch);
    case Op::Write: {
        u32 n = std::min<u32>(m_block_sectors, m_remaining);
        if (block.size() != std::size_t(n) * ata::SECTOR_SIZE) return fail(ch, ata::ERROR_ABRT, m_lba);
        if (!m_backend.write(m_lba, std::as_bytes(block))) return fail(ch, ata::ERROR_ABRT, m_lba);
        m_bytes_written += block.size();
        m_lba += n;
        m_remaining -= n;
        if (m_remaining > 0) return request_write_block(ch, true);
        m_op = Op::None;
        // Write-through when the guest turned the cache off.
        if (!m_write_cache && !m_backend.flush()) return fail(ch, ata::ERROR_ABRT, m_lba - 1);
        return ch.complete();
    }
    case Op::Identify:
        // One block, no interrupt after it (PIO data-in).
        m_op = Op::None;
        return ch.complete(false);
    case Op::None:
        break;
    }
    ch.fail(ata::ERROR_ABRT);
}

void AtaDisk::verify(IdeChannel& ch, bool ext) {
    u64 lba = 0;
    u32 count = 0;
    if (!command_range(ch, ext, lba, count)) return;
    // Really read the range (a block at a time) so a failing host file
    // shows as UNC, as a bad sector would.
    while (count > 0) {
        u32 n = std::min<u32>(count, ata::MAX_BLOCK_SECTORS);
        std::span<u8> bytes(m_block.data(), std::size_t(n) * ata::SECTOR_SIZE);
        if (!m_backend.read(lba, std::as_writable_bytes(bytes))) return fail(ch, ata::ERROR_UNC, lba);
        lba += n;
        count -= n;
    }
    ch.complete();
}

std::array<u8, ata::SECTOR_SIZE> AtaDisk::identify_block() const {
    std::array<u8, ata::SECTOR_SIZE> id{};
    unsigned cur_cyl = current_cylinders();
    u64 lba28 = std::min(m_sectors, LBA28_MAX);
    u64 cur_capacity = u64(cur_cyl) * m_cur_heads * m_cur_sectors;
    ata::put_identify_word(id, 0, 0x0040); // fixed (non-removable) ATA device
    ata::put_identify_word(id, 1, static_cast<u16>(m_cylinders));
    ata::put_identify_word(id, 3, DEFAULT_HEADS);
    ata::put_identify_word(id, 6, DEFAULT_SECTORS);
    ata::put_identify_string(id, 10, 10, m_serial);
    ata::put_identify_string(id, 23, 4, "1.0");
    ata::put_identify_string(id, 27, 20, "VSA Virtual HD");
    // Word 47: 0x80 in the high byte (ATA-6), up to 16 sectors per block.
    ata::put_identify_word(id, 47, 0x8000 | ata::MAX_BLOCK_SECTORS);
    // Word 48 is "reserved" in ATA-6 but ATA-1..5 drivers (Linux's pio32
    // check among them) read bit 0 as "32-bit PIO works": it does here.
    ata::put_identify_word(id, 48, 0x0001);
    // Capabilities: DMA (bit 8), LBA (bit 9), IORDY supported (bit 11) and
    // can be disabled (bit 10).
    ata::put_identify_word(id, 49, 0x0F00);
    ata::put_identify_word(id, 50, 0x4000);
    ata::put_identify_word(id, 51, 0x0200); // PIO timing mode 2 (obsolete field)
    // Words 54-58, 64-70 and 88 are valid.
    ata::put_identify_word(id, 53, 0x0007);
    ata::put_identify_word(id, 54, static_cast<u16>(cur_cyl));
    ata::put_identify_word(id, 55, m_cur_heads);
    ata::put_identify_word(id, 56, m_cur_sectors);
    ata::put_identify_word(id, 57, static_cast<u16>(cur_capacity));
    ata::put_identify_word(id, 58, static_cast<u16>(cur_capacity >> 16));
    // Current multiple setting; bit 8 = the setting is valid.
    ata::put_identify_word(id, 59, m_multiple ? static_cast<u16>(0x0100 | m_multiple) : 0);
    ata::put_identify_word(id, 60, static_cast<u16>(lba28));
    ata::put_identify_word(id, 61, static_cast<u16>(lba28 >> 16));
    ata::put_identify_dma_modes(id, m_dma_mode);
    ata::put_identify_word(id, 64, 0x0003); // PIO modes 3 and 4
    ata::put_identify_word(id, 67, 120);    // minimum PIO cycle without flow control (ns)
    ata::put_identify_word(id, 68, 120);    // with IORDY
    ata::put_identify_word(id, 80, 0x007E); // ATA-1 .. ATA-6
    // Supported: power management (bit 3), write cache (bit 5); bit 14 set.
    ata::put_identify_word(id, 82, 0x4028);
    // 48-bit addressing (10), FLUSH CACHE (12), FLUSH CACHE EXT (13), bit 14 set.
    ata::put_identify_word(id, 83, 0x7400);
    ata::put_identify_word(id, 84, 0x4000);
    ata::put_identify_word(id, 85, static_cast<u16>(0x0008 | (m_write_cache ? 0x0020 : 0)));
    ata::put_identify_word(id, 86, 0x3400);
    ata::put_identify_word(id, 87, 0x4000);
    ata::put_identify_cable(id);
    ata::put_identify_word(id, 100, static_cast<u16>(m_sectors));
    ata::put_identify_word(id, 101, static_cast<u16>(m_sectors >> 16));
    ata::put_identify_word(id, 102, static_cast<u16>(m_sectors >> 32));
    ata::put_identify_word(id, 103, static_cast<u16>(m_sectors >> 48));
    ata::seal_identify(id);
    return id;
}

void AtaDisk::visit_state(StateVisitor& v) {
    v.section("ata-disk", 2);
    u32 version = v.version();
    u64 sectors = m_sectors;
    v.field("sectors", sectors);
    v.field("cur_heads", m_cur_heads);
    v.field("cur_sectors", m_cur_sectors);
    v.field("multiple", m_multiple);
    v.field("write_cache", m_write_cache);
    v.field("op", m_op);
    v.field("ext", m_ext);
    v.field("chs", m_chs);
    v.field("block_sectors", m_block_sectors);
    v.field("lba", m_lba);
    v.field("remaining", m_remaining);
    if (version >= 2) {
        v.field("dma", m_dma);
        v.field("dma_mode", m_dma_mode);
    } else if (v.is_loading()) {
        // Version 1 had no DMA: a PIO command, the power-on mode.
        m_dma = false;
        m_dma_mode = DEFAULT_DMA_MODE;
    }
    if (!v.is_loading() || !v.ok()) return;
    if (m_dma_mode != 0 && (m_dma_mode < 0x20 || !ata::valid_transfer_mode(m_dma_mode)))
        return v.fail("ata-disk: bad DMA mode");
    if (sectors != m_sectors) return v.fail("ata-disk: the saved disk has another size");
    if (m_op > Op::Identify) return v.fail("ata-disk: bad operation");
    if (m_cur_heads < 1 || m_cur_heads > 16) return v.fail("ata-disk: bad head count");
    if (m_multiple > ata::MAX_BLOCK_SECTORS || (m_multiple && !std::has_single_bit(m_multiple)))
        return v.fail("ata-disk: bad multiple count");
    if (m_block_sectors < 1 || m_block_sectors > ata::MAX_BLOCK_SECTORS)
        return v.fail("ata-disk: bad block size");
    if (m_remaining > 65536 || m_lba > m_sectors || m_remaining > m_sectors - m_lba)
        return v.fail("ata-disk: bad transfer position");
}

} // namespace vsa
