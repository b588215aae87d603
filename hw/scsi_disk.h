// SPDX-License-Identifier: GPL-2.0-or-later
// ScsiDisk: a SCSI direct-access block device (one target, LUN 0) over a
// storage::BlockDevice, the backend the ATA disk uses (raw, VHD, undo and
// differencing chains). References: SCSI Primary Commands (SPC-3, T10
// 1416-D) for INQUIRY, REQUEST SENSE, MODE SENSE, REPORT LUNS, TEST UNIT
// READY and the sense data; SCSI Block Commands (SBC-2, T10 1417-D) for
// READ/WRITE 6/10/16, READ CAPACITY 10/16, SYNCHRONIZE CACHE and START
// STOP UNIT.
//
// The target knows nothing of the host adapter: it is handed a CDB, the
// LUN and the initiator's data buffer (ScsiDataBuffer), moves the data
// through that buffer and returns a status. The HBA (hw/pvscsi.h) maps the
// buffer onto guest memory.
//
// Modelled:
//   - INQUIRY: the standard data (SPC-3, 36 bytes, tagged queueing),
//     VPD pages 00h (the list), 80h (unit serial number) and 83h (one T10
//     vendor ID designator); any other page, or CmdDt, is ILLEGAL REQUEST
//     / INVALID FIELD IN CDB. On a LUN other than 0, INQUIRY answers
//     "peripheral qualifier 3" (no unit there), everything else fails with
//     LOGICAL UNIT NOT SUPPORTED, and REQUEST SENSE says so.
//   - READ/WRITE(6/10/16): any length the LBA range allows, moved in
//     CHUNK_BYTES pieces (a guest asking for gigabytes costs time, not host
//     memory). Outside the medium: LBA OUT OF RANGE; a write to a
//     read-only backend: DATA PROTECT / WRITE PROTECTED; a backend failure:
//     MEDIUM ERROR (unrecovered read error / write error).
//   - READ CAPACITY(10) (0xFFFFFFFF when the last LBA does not fit, as SBC
//     says, so the initiator moves to the 16-byte form) and (16).
//   - MODE SENSE(6/10): the block descriptor (unless DBD), the caching page
//     (08h, write cache on, what the backend's flush makes true) and the
//     control page (0Ah); 3Fh returns both. The WP bit for a read-only
//     backend. Saved values and changeable masks are refused (PC 1 and 3:
//     the pages are not changeable); MODE SELECT is not modelled.
//   - TEST UNIT READY, START STOP UNIT (accepted; the medium is fixed),
//     SYNCHRONIZE CACHE(10/16) (the backend's flush), VERIFY(10/16)
//     (accepted without comparing), REPORT LUNS (LUN 0 only).
//   - REQUEST SENSE returns the sense of the last failed command in fixed
//     format (70h) and clears it. Autosense: an HBA reads sense() after a
//     CHECK CONDITION.
//   - Any other opcode: CHECK CONDITION, ILLEGAL REQUEST / INVALID COMMAND
//     OPERATION CODE.
//
// Not modelled: unit attentions (power on, reset), reservations, MODE
// SELECT, FORMAT UNIT, descriptor-format sense, protection information,
// block limits VPD (B0h; Linux falls back to its defaults).
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/io/state_visitor.h"
#include "services/storage/block_device.h"

#include <array>
#include <span>
#include <string>
#include <vector>

namespace vsa {

namespace scsi {
// Status bytes.
constexpr u8 STATUS_GOOD = 0x00;
constexpr u8 STATUS_CHECK_CONDITION = 0x02;
// Sense keys.
constexpr u8 SENSE_NO_SENSE = 0x0;
constexpr u8 SENSE_MEDIUM_ERROR = 0x3;
constexpr u8 SENSE_ILLEGAL_REQUEST = 0x5;
constexpr u8 SENSE_DATA_PROTECT = 0x7;
// Operation codes.
constexpr u8 TEST_UNIT_READY = 0x00;
constexpr u8 REQUEST_SENSE = 0x03;
constexpr u8 READ_6 = 0x08;
constexpr u8 WRITE_6 = 0x0A;
constexpr u8 INQUIRY = 0x12;
constexpr u8 MODE_SENSE_6 = 0x1A;
constexpr u8 START_STOP_UNIT = 0x1B;
constexpr u8 READ_CAPACITY_10 = 0x25;
constexpr u8 READ_10 = 0x28;
constexpr u8 WRITE_10 = 0x2A;
constexpr u8 VERIFY_10 = 0x2F;
constexpr u8 SYNCHRONIZE_CACHE_10 = 0x35;
constexpr u8 MODE_SENSE_10 = 0x5A;
constexpr u8 READ_16 = 0x88;
constexpr u8 WRITE_16 = 0x8A;
constexpr u8 VERIFY_16 = 0x8F;
constexpr u8 SYNCHRONIZE_CACHE_16 = 0x91;
constexpr u8 SERVICE_ACTION_IN_16 = 0x9E;
constexpr u8 READ_CAPACITY_16 = 0x10; // service action of 9Eh
constexpr u8 REPORT_LUNS = 0xA0;
} // namespace scsi

// The initiator's data buffer as a target sees it: `size()` bytes the HBA
// was given for this command. False from a copy means the HBA could not
// move the bytes (a bad guest address): the target stops and the HBA
// reports its own error.
class ScsiDataBuffer {
public:
    virtual ~ScsiDataBuffer() = default;
    virtual u64 size() const = 0;
    // Data in (target -> initiator), at `offset` of the buffer.
    virtual bool write(u64 offset, std::span<u8 const> data) = 0;
    // Data out (initiator -> target).
    virtual bool read(u64 offset, std::span<u8> out) = 0;
};

struct ScsiResult {
    u8 status{scsi::STATUS_GOOD};
    u64 transferred{0};       // bytes moved through the buffer
    bool overrun{false};      // the command needed more than size() bytes
    bool buffer_fault{false}; // a copy through the buffer failed
};

class ScsiDisk {
public:
    static constexpr u64 CHUNK_BYTES = 64 * KiB;
    static constexpr std::size_t SENSE_BYTES = 18;

    ScsiDisk(storage::BlockDevice& backend, std::string serial);

    ScsiResult execute(std::span<u8 const> cdb, u8 lun, ScsiDataBuffer& buffer);

    // Fixed-format sense of the last CHECK CONDITION (all zero: none).
    std::array<u8, SENSE_BYTES> const& sense() const { return m_sense; }
    void reset() { m_sense = {}; }
    void visit_state(StateVisitor& v);

    u64 sectors() const { return m_sectors; }
    u32 block_size() const { return m_block_size; }
    u64 bytes_read() const { return m_bytes_read; }
    u64 bytes_written() const { return m_bytes_written; }

private:
    ScsiResult check(u8 key, u8 asc, u8 ascq = 0);
    ScsiResult reply(std::span<u8 const> data, u64 allocation, ScsiDataBuffer& buffer);
    ScsiResult inquiry(std::span<u8 const> cdb, u8 lun, ScsiDataBuffer& buffer);
    ScsiResult mode_sense(std::span<u8 const> cdb, bool ten, ScsiDataBuffer& buffer);
    ScsiResult read_capacity(std::span<u8 const> cdb, bool sixteen, ScsiDataBuffer& buffer);
    ScsiResult read_write(u64 lba, u64 blocks, bool write, ScsiDataBuffer& buffer);
    ScsiResult request_sense(std::span<u8 const> cdb, u8 lun, ScsiDataBuffer& buffer);

    storage::BlockDevice& m_backend;
    std::string m_serial;
    u64 m_sectors;
    u32 m_block_size;
    std::array<u8, SENSE_BYTES> m_sense{};
    std::vector<u8> m_chunk;
    u64 m_bytes_read{0};
    u64 m_bytes_written{0};
};

} // namespace vsa
