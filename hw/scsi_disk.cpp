// SPDX-License-Identifier: GPL-2.0-or-later
#include "hw/scsi_disk.h"

#include <algorithm>
#include <cstring>

namespace vsa {

namespace {

constexpr u8 ASC_WRITE_ERROR = 0x0C;
constexpr u8 ASC_UNRECOVERED_READ_ERROR = 0x11;
constexpr u8 ASC_INVALID_OPCODE = 0x20;
constexpr u8 ASC_LBA_OUT_OF_RANGE = 0x21;
constexpr u8 ASC_INVALID_FIELD_IN_CDB = 0x24;
constexpr u8 ASC_LUN_NOT_SUPPORTED = 0x25;
constexpr u8 ASC_WRITE_PROTECTED = 0x27;
constexpr u8 ASC_SAVING_NOT_SUPPORTED = 0x39;

constexpr char VENDOR[] = "VSA     ";           // 8 bytes
constexpr char PRODUCT[] = "Virtual SCSI Disk"; // padded to 16
constexpr char REVISION[] = "1.0 ";

u16 be16(std::span<u8 const> p, std::size_t at) {
    return static_cast<u16>(p[at] << 8 | p[at + 1]);
}
u32 be32(std::span<u8 const> p, std::size_t at) {
    return static_cast<u32>(p[at]) << 24 | static_cast<u32>(p[at + 1]) << 16 |
           static_cast<u32>(p[at + 2]) << 8 | p[at + 3];
}
u64 be64(std::span<u8 const> p, std::size_t at) {
    return static_cast<u64>(be32(p, at)) << 32 | be32(p, at + 4);
}
void put16(std::vector<u8>& v, std::size_t at, u16 x) {
    v[at] = static_cast<u8>(x >> 8);
    v[at + 1] = static_cast<u8>(x);
}
void put32(std::vector<u8>& v, std::size_t at, u32 x) {
    for (int i = 0; i < 4; ++i)
        v[at + static_cast<std::size_t>(i)] = static_cast<u8>(x >> (24 - 8 * i));
}
void put64(std::vector<u8>& v, std::size_t at, u64 x) {
    put32(v, at, static_cast<u32>(x >> 32));
    put32(v, at + 4, static_cast<u32>(x));
}
void put_text(std::vector<u8>& v, std::size_t at, std::string_view text, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i)
        v[at + i] = i < text.size() ? static_cast<u8>(text[i]) : ' ';
}

// Bytes of the CDB of each group (SAM-4 5.2): the opcode's top three bits.
std::size_t cdb_length(u8 opcode) {
    switch (opcode >> 5) {
    case 0:
        return 6;
    case 1:
    case 2:
        return 10;
    case 4:
        return 16;
    case 5:
        return 12;
    default:
        return 6;
    }
}

} // namespace

ScsiDisk::ScsiDisk(storage::BlockDevice& backend, std::string serial)
    : m_backend(backend), m_serial(std::move(serial)), m_sectors(backend.sector_count()),
      m_block_size(backend.sector_size()) {}

ScsiResult ScsiDisk::check(u8 key, u8 asc, u8 ascq) {
    m_sense = {};
    m_sense[0] = 0x70; // current error, fixed format
    m_sense[2] = key;
    m_sense[7] = SENSE_BYTES - 8;
    m_sense[12] = asc;
    m_sense[13] = ascq;
    return ScsiResult{.status = scsi::STATUS_CHECK_CONDITION};
}

// Sends `data`, cut to the CDB's allocation length and to the buffer (a
// shorter transfer is normal for these commands: the initiator sees the
// residue).
ScsiResult ScsiDisk::reply(std::span<u8 const> data, u64 allocation, ScsiDataBuffer& buffer) {
    u64 n = std::min<u64>({data.size(), allocation, buffer.size()});
    ScsiResult r;
    if (n && !buffer.write(0, data.first(static_cast<std::size_t>(n)))) {
        r.buffer_fault = true;
        return r;
    }
    r.transferred = n;
    m_sense = {};
    return r;
}

ScsiResult ScsiDisk::execute(std::span<u8 const> cdb_in, u8 lun, ScsiDataBuffer& buffer) {
    // Work on a zero-padded 16-byte copy: a short CDB cannot make us read
    // past what the initiator gave.
    std::array<u8, 16> raw{};
    std::copy_n(cdb_in.begin(), std::min<std::size_t>(cdb_in.size(), raw.size()), raw.begin());
    std::span<u8 const> cdb(raw);
    u8 op = cdb[0];
    if (cdb_in.size() < cdb_length(op) && cdb_in.size() < raw.size())
        return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);

    if (op == scsi::INQUIRY) return inquiry(cdb, lun, buffer);
    if (op == scsi::REQUEST_SENSE) return request_sense(cdb, lun, buffer);
    if (lun != 0) {
        if (op == scsi::REPORT_LUNS) {
            // Addressed to any LUN, it answers for the target.
        } else {
            return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
        }
    }

    switch (op) {
    case scsi::TEST_UNIT_READY:
    case scsi::START_STOP_UNIT:
    case scsi::VERIFY_10:
    case scsi::VERIFY_16:
        m_sense = {};
        return {};
    case scsi::SYNCHRONIZE_CACHE_10:
    case scsi::SYNCHRONIZE_CACHE_16:
        if (m_backend.flush().is_error()) return check(scsi::SENSE_MEDIUM_ERROR, ASC_WRITE_ERROR);
        m_sense = {};
        return {};
    case scsi::READ_6:
    case scsi::WRITE_6: {
        u64 lba = (static_cast<u64>(cdb[1] & 0x1F) << 16) | be16(cdb, 2);
        u64 blocks = cdb[4] ? cdb[4] : 256; // SBC: 0 means 256 blocks
        return read_write(lba, blocks, op == scsi::WRITE_6, buffer);
    }
    case scsi::READ_10:
    case scsi::WRITE_10:
        return read_write(be32(cdb, 2), be16(cdb, 7), op == scsi::WRITE_10, buffer);
    case scsi::READ_16:
    case scsi::WRITE_16:
        return read_write(be64(cdb, 2), be32(cdb, 10), op == scsi::WRITE_16, buffer);
    case scsi::READ_CAPACITY_10:
        return read_capacity(cdb, false, buffer);
    case scsi::SERVICE_ACTION_IN_16:
        if ((cdb[1] & 0x1F) == scsi::READ_CAPACITY_16) return read_capacity(cdb, true, buffer);
        return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
    case scsi::MODE_SENSE_6:
        return mode_sense(cdb, false, buffer);
    case scsi::MODE_SENSE_10:
        return mode_sense(cdb, true, buffer);
    case scsi::REPORT_LUNS: {
        std::vector<u8> data(16, 0);
        put32(data, 0, 8); // one LUN, 0
        return reply(data, be32(cdb, 6), buffer);
    }
    default:
        return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
    }
}

ScsiResult ScsiDisk::inquiry(std::span<u8 const> cdb, u8 lun, ScsiDataBuffer& buffer) {
    u16 allocation = be16(cdb, 3);
    if (cdb[1] & 0x02) return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB); // CmdDt
    bool evpd = cdb[1] & 0x01;
    if (lun != 0) {
        if (evpd) return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
        // Peripheral qualifier 3, type 1Fh: no logical unit here (SPC-3 6.4.2).
        std::vector<u8> data(36, 0);
        data[0] = 0x7F;
        data[2] = 0x05;
        data[3] = 0x02;
        data[4] = 31;
        return reply(data, allocation, buffer);
    }
    if (!evpd) {
        if (cdb[2] != 0) return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
        std::vector<u8> data(36, 0);
        data[0] = 0x00; // direct access block device, connected
        data[2] = 0x05; // SPC-3
        data[3] = 0x02; // response data format 2
        data[4] = 31;   // additional length
        data[7] = 0x02; // CmdQue: tagged commands
        put_text(data, 8, VENDOR, 8);
        put_text(data, 16, PRODUCT, 16);
        put_text(data, 32, REVISION, 4);
        return reply(data, allocation, buffer);
    }
    std::vector<u8> data(4, 0);
    data[1] = cdb[2];
    switch (cdb[2]) {
    case 0x00: // supported pages
        data.insert(data.end(), {0x00, 0x80, 0x83});
        break;
    case 0x80: // unit serial number
        data.insert(data.end(), m_serial.begin(), m_serial.end());
        break;
    case 0x83: { // device identification: one T10 vendor ID designator
        std::string id = std::string(VENDOR) + m_serial;
        data.insert(data.end(), {0x02, 0x01, 0x00, static_cast<u8>(id.size())});
        data.insert(data.end(), id.begin(), id.end());
        break;
    }
    default:
        return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
    }
    put16(data, 2, static_cast<u16>(data.size() - 4));
    return reply(data, allocation, buffer);
}

ScsiResult ScsiDisk::request_sense(std::span<u8 const> cdb, u8 lun, ScsiDataBuffer& buffer) {
    if (cdb[1] & 0x01)
        return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB); // descriptor format
    std::array<u8, SENSE_BYTES> sense = m_sense;
    if (lun != 0) {
        sense = {};
        sense[2] = scsi::SENSE_ILLEGAL_REQUEST;
        sense[12] = ASC_LUN_NOT_SUPPORTED;
    }
    sense[0] = 0x70; // also "no sense" when nothing failed

    sense[7] = SENSE_BYTES - 8;
    return reply(sense, cdb[4], buffer); // clears m_sense
}

ScsiResult ScsiDisk::read_capacity(std::span<u8 const> cdb, bool sixteen, ScsiDataBuffer& buffer) {
    u64 last = m_sectors ? m_sectors - 1 : 0;
    if (!sixteen) {
        std::vector<u8> data(8, 0);
        put32(data, 0, last > 0xFFFF'FFFFull ? 0xFFFF'FFFFu : static_cast<u32>(last));
        put32(data, 4, m_block_size);
        return reply(data, data.size(), buffer);
    }
    std::vector<u8> data(32, 0);
    put64(data, 0, last);
    put32(data, 8, m_block_size);
    return reply(data, be32(cdb, 10), buffer);
}

ScsiResult ScsiDisk::mode_sense(std::span<u8 const> cdb, bool ten, ScsiDataBuffer& buffer) {
    bool dbd = cdb[1] & 0x08;
    u8 pc = static_cast<u8>(cdb[2] >> 6);
    u8 page = cdb[2] & 0x3F;
    u8 subpage = cdb[3];
    u64 allocation = ten ? be16(cdb, 7) : cdb[4];
    if (pc == 3) return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
    if (subpage != 0 && subpage != 0xFF) return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
    if (page != 0x08 && page != 0x0A && page != 0x3F)
        return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_IN_CDB);
    bool changeable = pc == 1; // a mask of what MODE SELECT could change: nothing

    std::size_t header = ten ? 8 : 4;
    std::vector<u8> data(header, 0);
    u8 wp = m_backend.read_only() ? 0x80 : 0x00;
    if (!dbd) {
        std::vector<u8> desc(8, 0);
        u32 blocks = m_sectors > 0xFF'FFFF ? 0 : static_cast<u32>(m_sectors); // 0: more than fits
        desc[1] = static_cast<u8>(blocks >> 16);
        desc[2] = static_cast<u8>(blocks >> 8);
        desc[3] = static_cast<u8>(blocks);
        desc[5] = static_cast<u8>(m_block_size >> 16);
        desc[6] = static_cast<u8>(m_block_size >> 8);
        desc[7] = static_cast<u8>(m_block_size);
        data.insert(data.end(), desc.begin(), desc.end());
    }
    if (page == 0x08 || page == 0x3F) {
        std::vector<u8> caching(20, 0);
        caching[0] = 0x08;
        caching[1] = 18;
        if (!changeable) caching[2] = 0x04; // WCE
        data.insert(data.end(), caching.begin(), caching.end());
    }
    if (page == 0x0A || page == 0x3F) {
        std::vector<u8> control(12, 0);
        control[0] = 0x0A;
        control[1] = 10;
        data.insert(data.end(), control.begin(), control.end());
    }
    if (ten) {
        put16(data, 0, static_cast<u16>(data.size() - 2));
        data[3] = wp;
        put16(data, 6, dbd ? 0 : 8);
    } else {
        data[0] = static_cast<u8>(data.size() - 1);
        data[2] = wp;
        data[3] = dbd ? 0 : 8;
    }
    return reply(data, allocation, buffer);
}

ScsiResult ScsiDisk::read_write(u64 lba, u64 blocks, bool write, ScsiDataBuffer& buffer) {
    if (lba > m_sectors || blocks > m_sectors - lba)
        return check(scsi::SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
    if (write && m_backend.read_only()) return check(scsi::SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED);
    u64 bytes = blocks * m_block_size;
    ScsiResult r;
    if (bytes > buffer.size()) {
        // The initiator offered less than the command moves: an overrun,
        // reported by the HBA; nothing is transferred.
        r.overrun = true;
        return r;
    }
    u64 chunk_blocks = std::max<u64>(1, CHUNK_BYTES / m_block_size);
    while (blocks) {
        u64 n = std::min(blocks, chunk_blocks);
        std::size_t len = static_cast<std::size_t>(n * m_block_size);
        m_chunk.resize(len);
        std::span<u8> chunk(m_chunk.data(), len);
        if (write) {
            if (!buffer.read(r.transferred, chunk)) {
                r.buffer_fault = true;
                return r;
            }
            if (m_backend.write(lba, std::as_bytes(chunk)).is_error())
                return check(scsi::SENSE_MEDIUM_ERROR, ASC_WRITE_ERROR);
            m_bytes_written += len;
        } else {
            if (m_backend.read(lba, std::as_writable_bytes(chunk)).is_error())
                return check(scsi::SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ_ERROR);
            if (!buffer.write(r.transferred, chunk)) {
                r.buffer_fault = true;
                return r;
            }
            m_bytes_read += len;
        }
        r.transferred += len;
        lba += n;
        blocks -= n;
    }
    m_sense = {};
    return r;
}

void ScsiDisk::visit_state(StateVisitor& v) {
    v.section("scsi_disk", 1);
    v.field("sense", m_sense);
}

} // namespace vsa
