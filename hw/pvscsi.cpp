// SPDX-License-Identifier: GPL-2.0-or-later
#include "hw/pvscsi.h"

#include <algorithm>
#include <bit>

namespace vsa {

namespace {

// Rings state page offsets.
constexpr u32 STATE_REQ_PROD = 0x00;
constexpr u32 STATE_REQ_CONS = 0x04;
constexpr u32 STATE_REQ_LOG2 = 0x08;
constexpr u32 STATE_CMP_PROD = 0x0C;
constexpr u32 STATE_CMP_CONS = 0x10;
constexpr u32 STATE_CMP_LOG2 = 0x14;

constexpr u32 REQ_PER_PAGE = Pvscsi::PAGE / Pvscsi::REQ_DESC_BYTES; // 32
constexpr u32 CMP_PER_PAGE = Pvscsi::PAGE / Pvscsi::CMP_DESC_BYTES; // 128

u32 le32(u8 const* p) {
    return static_cast<u32>(p[0]) | static_cast<u32>(p[1]) << 8 | static_cast<u32>(p[2]) << 16 |
           static_cast<u32>(p[3]) << 24;
}
u64 le64(u8 const* p) {
    return static_cast<u64>(le32(p)) | static_cast<u64>(le32(p + 4)) << 32;
}
void put_le(u8* p, u64 value, unsigned bytes) {
    for (unsigned i = 0; i < bytes; ++i)
        p[i] = static_cast<u8>(value >> (8 * i));
}

struct Segment {
    u64 addr;
    u64 length;
};

// The request's data buffer: a list of guest-physical segments. Copies go
// through MemoryMap's checked accessors; a cursor makes the sequential
// accesses of a transfer linear in the number of segments.
class GuestBuffer final : public ScsiDataBuffer {
public:
    GuestBuffer(MemoryMap& memory, std::vector<Segment> segments)
        : m_memory(memory), m_segments(std::move(segments)) {
        for (auto const& s : m_segments)
            m_size += s.length;
    }
    u64 size() const override { return m_size; }
    bool write(u64 offset, std::span<u8 const> data) override {
        return walk(offset, data.size(), [&](u64 addr, std::size_t at, std::size_t n) {
            return m_memory.write_bytes(addr, data.subspan(at, n));
        });
    }
    bool read(u64 offset, std::span<u8> out) override {
        return walk(offset, out.size(), [&](u64 addr, std::size_t at, std::size_t n) {
            return m_memory.read_bytes(addr, out.subspan(at, n));
        });
    }

private:
    template <typename F>
    bool walk(u64 offset, std::size_t bytes, F&& copy) {
        if (offset > m_size || bytes > m_size - offset) return false;
        if (offset < m_cursor_offset) {
            m_cursor = 0;
            m_cursor_offset = 0;
        }
        std::size_t done = 0;
        while (done < bytes) {
            if (m_cursor >= m_segments.size()) return false;
            Segment const& s = m_segments[m_cursor];
            u64 pos = offset + done;
            if (pos >= m_cursor_offset + s.length) {
                m_cursor_offset += s.length;
                ++m_cursor;
                continue;
            }
            u64 in_segment = pos - m_cursor_offset;
            std::size_t n = static_cast<std::size_t>(std::min<u64>(s.length - in_segment, bytes - done));
            if (s.addr + in_segment < s.addr || !copy(s.addr + in_segment, done, n)) return false;
            done += n;
        }
        return true;
    }

    MemoryMap& m_memory;
    std::vector<Segment> m_segments;
    u64 m_size{0};
    std::size_t m_cursor{0};
    u64 m_cursor_offset{0};
};

} // namespace

Pvscsi::Pvscsi(MemoryMap& memory, u8 own_id)
    : PciDevice(PciId{.vendor = 0x15AD,
                      .device = 0x07C0,
                      .class_code = 0x01, // mass storage, SCSI
                      .subclass = 0x00,
                      .prog_if = 0x00,
                      .revision = 0x02,
                      .subsystem_vendor = 0x15AD,
                      .subsystem = 0x07C0}),
      m_memory(memory), m_own_id(own_id) {
    set_interrupt_pin(1);
    declare_bar(0, BarKind::Memory32, MEM_BYTES);
    snapshot_reset_state();
}

bool Pvscsi::attach(unsigned target, ScsiDisk* disk) {
    if (target >= MAX_TARGETS || target == m_own_id) return false;
    m_disks[target] = disk;
    return true;
}

void Pvscsi::reset() {
    PciDevice::reset();
    m_command = 0;
    m_command_status = 0;
    m_collecting = false;
    m_command_data.clear();
    adapter_reset();
}

void Pvscsi::adapter_reset() {
    m_intr_status = 0;
    m_intr_mask = 0;
    m_rings_ready = false;
    m_state_ppn = 0;
    m_req_pages = m_cmp_pages = 0;
    m_req_ppn = {};
    m_cmp_ppn = {};
    m_req_cons = m_cmp_prod = 0;
    for (auto* d : m_disks)
        if (d) d->reset();
    update_irq();
}

void Pvscsi::update_irq() {
    set_irq_level((m_intr_status & m_intr_mask) != 0);
}

u32 Pvscsi::mmio_read(u64 offset, Width width) {
    if (width != Width::Dword || (offset & 3) || offset >= MEM_BYTES) {
        count_ignored();
        return width_mask(width);
    }
    switch (offset) {
    case REG_COMMAND_STATUS:
        return m_command_status;
    case REG_INTR_STATUS:
        return m_intr_status;
    case REG_INTR_MASK:
        return m_intr_mask;
    default:
        return 0;
    }
}

void Pvscsi::mmio_write(u64 offset, Width width, u32 value) {
    if (width != Width::Dword || (offset & 3) || offset >= MEM_BYTES) return count_ignored();
    switch (offset) {
    case REG_COMMAND:
        return start_command(value);
    case REG_COMMAND_DATA:
        return command_data(value);
    case REG_INTR_STATUS:
        m_intr_status &= ~value;
        return update_irq();
    case REG_INTR_MASK:
        m_intr_mask = value & INTR_ALL;
        return update_irq();
    case REG_KICK_NON_RW_IO:
    case REG_KICK_RW_IO:
        return process_rings();
    default:
        return count_ignored();
    }
}

// ---- commands ----------------------------------------------------------

// Descriptor dwords a command takes after it is written (0: none, or a
// command we refuse, whose data is then dropped).
u32 Pvscsi::descriptor_dwords(u32 command) {
    switch (command) {
    case CMD_SETUP_RINGS:
        return SETUP_RINGS_DWORDS;
    case CMD_RESET_DEVICE:
        return 3; // target, lun[8]
    case CMD_ABORT_CMD:
        return 4; // context, target, pad
    default:
        return 0;
    }
}

void Pvscsi::start_command(u32 command) {
    m_command = command;
    m_command_data.clear();
    m_collecting = descriptor_dwords(command) != 0;
    m_command_status = 0;
    switch (command) {
    case CMD_ADAPTER_RESET:
        return adapter_reset();
    case CMD_RESET_BUS:
        for (auto* d : m_disks)
            if (d) d->reset();
        return;
    case CMD_SETUP_RINGS:
    case CMD_RESET_DEVICE:
    case CMD_ABORT_CMD:
        return;
    default:
        // CONFIG, the message ring, unplug, call thresholds, ISSUE_SCSI
        // (the rings are the only way in) and anything unknown.
        m_command_status = STATUS_FAILED;
        return;
    }
}

void Pvscsi::command_data(u32 value) {
    if (!m_collecting) return count_ignored();
    m_command_data.push_back(value);
    if (m_command_data.size() < descriptor_dwords(m_command)) return;
    m_collecting = false;
    run_command();
    m_command_data.clear();
}

void Pvscsi::run_command() {
    switch (m_command) {
    case CMD_SETUP_RINGS:
        return setup_rings();
    case CMD_RESET_DEVICE: {
        u32 target = m_command_data[0];
        if (target < MAX_TARGETS && m_disks[target]) m_disks[target]->reset();
        return;
    }
    default:
        return; // ABORT_CMD: nothing is ever outstanding after a kick
    }
}

void Pvscsi::setup_rings() {
    auto const& d = m_command_data;
    u32 req_pages = d[0], cmp_pages = d[1];
    auto valid = [](u32 pages) {
        return pages >= 1 && pages <= MAX_RING_PAGES && std::has_single_bit(pages);
    };
    m_rings_ready = false;
    if (!valid(req_pages) || !valid(cmp_pages)) {
        m_command_status = STATUS_FAILED;
        return;
    }
    m_state_ppn = static_cast<u64>(d[2]) | static_cast<u64>(d[3]) << 32;
    for (unsigned i = 0; i < MAX_RING_PAGES; ++i) {
        m_req_ppn[i] = static_cast<u64>(d[4 + 2 * i]) | static_cast<u64>(d[5 + 2 * i]) << 32;
        m_cmp_ppn[i] = static_cast<u64>(d[4 + 2 * MAX_RING_PAGES + 2 * i]) |
                       static_cast<u64>(d[5 + 2 * MAX_RING_PAGES + 2 * i]) << 32;
    }
    m_req_pages = req_pages;
    m_cmp_pages = cmp_pages;
    m_req_cons = m_cmp_prod = 0;
    bool ok = write_state(STATE_REQ_CONS, 0) && write_state(STATE_CMP_PROD, 0) &&
              write_state(STATE_REQ_LOG2, static_cast<u32>(std::countr_zero(req_pages * REQ_PER_PAGE))) &&
              write_state(STATE_CMP_LOG2, static_cast<u32>(std::countr_zero(cmp_pages * CMP_PER_PAGE)));
    if (!ok) {
        m_command_status = STATUS_FAILED;
        return;
    }
    m_rings_ready = true;
}

// ---- rings -------------------------------------------------------------

bool Pvscsi::read_state(u32 offset, u32& value) const {
    std::array<u8, 4> b{};
    if (m_state_ppn > (~u64(0) >> 12) || !m_memory.read_bytes(m_state_ppn * PAGE + offset, b)) return false;
    value = le32(b.data());
    return true;
}

bool Pvscsi::write_state(u32 offset, u32 value) {
    std::array<u8, 4> b{};
    put_le(b.data(), value, 4);
    return m_state_ppn <= (~u64(0) >> 12) && m_memory.write_bytes(m_state_ppn * PAGE + offset, b);
}

PhysAddr Pvscsi::req_addr(u32 index) const {
    u32 slot = index & (m_req_pages * REQ_PER_PAGE - 1);
    return m_req_ppn[slot / REQ_PER_PAGE] * PAGE + (slot % REQ_PER_PAGE) * REQ_DESC_BYTES;
}

PhysAddr Pvscsi::cmp_addr(u32 index) const {
    u32 slot = index & (m_cmp_pages * CMP_PER_PAGE - 1);
    return m_cmp_ppn[slot / CMP_PER_PAGE] * PAGE + (slot % CMP_PER_PAGE) * CMP_DESC_BYTES;
}

void Pvscsi::process_rings() {
    if (!m_rings_ready || !(command() & pci::COMMAND_BUS_MASTER)) return;
    u32 prod = 0;
    if (!read_state(STATE_REQ_PROD, prod)) {
        ++m_adapter_errors;
        return;
    }
    u32 req_entries = m_req_pages * REQ_PER_PAGE;
    u32 cmp_entries = m_cmp_pages * CMP_PER_PAGE;
    // A producer index further ahead than the ring is long is a guest bug:
    // one kick handles at most one ring's worth, so the work stays bounded.
    u32 pending = std::min(prod - m_req_cons, req_entries);
    bool completed = false;
    for (u32 i = 0; i < pending; ++i) {
        u32 cmp_cons = 0;
        if (!read_state(STATE_CMP_CONS, cmp_cons)) {
            ++m_adapter_errors;
            break;
        }
        if (m_cmp_prod - cmp_cons >= cmp_entries) break; // completion ring full: wait for the next kick
        if (!handle_request(req_addr(m_req_cons), m_cmp_prod)) {
            ++m_adapter_errors;
            break; // the completion ring is not writable
        }
        ++m_req_cons;
        ++m_cmp_prod;
        completed = true;
        if (!write_state(STATE_REQ_CONS, m_req_cons) || !write_state(STATE_CMP_PROD, m_cmp_prod)) {
            ++m_adapter_errors;
            break;
        }
    }
    if (completed) {
        m_intr_status |= INTR_CMPL_0;
        update_irq();
    }
}

bool Pvscsi::handle_request(PhysAddr desc_addr, u32 cmp_index) {
    ++m_requests;
    std::array<u8, REQ_DESC_BYTES> d{};
    std::array<u8, CMP_DESC_BYTES> c{};
    u16 host_status = BTSTAT_SUCCESS;
    u8 scsi_status = 0;
    u64 data_moved = 0;
    u32 sense_written = 0;

    if (!m_memory.read_bytes(desc_addr, d)) {
        host_status = BTSTAT_HAHARDWARE;
        ++m_adapter_errors;
    } else {
        u8 const* p = d.data();
        std::copy_n(p, 8, c.begin()); // context
        u64 data_addr = le64(p + 8);
        u64 data_len = le64(p + 16);
        u64 sense_addr = le64(p + 24);
        u32 sense_len = le32(p + 32);
        u32 flags = le32(p + 36);
        u8 cdb_len = p[56];
        u8 lun = p[58]; // lun[1]: SAM single-level LUN
        bool lun_high = p[57] != 0;
        u8 bus = p[66];
        u8 target = p[67];
        ScsiDisk* disk = bus == 0 && target < MAX_TARGETS ? m_disks[target] : nullptr;

        std::vector<Segment> segments;
        if ((flags & FLAG_OUT_OF_BAND_CDB) || cdb_len > 16) {
            host_status = BTSTAT_INVPARAM;
        } else if (!disk) {
            host_status = BTSTAT_SELTIMEO;
        } else if ((flags & FLAG_DIR_NONE) || data_len == 0) {
            // no data phase
        } else if (!(flags & FLAG_SG_LIST)) {
            segments.push_back({data_addr, data_len});
        } else {
            // The list is not terminated: it holds as many bytes as dataLen.
            u64 remaining = data_len;
            u64 at = data_addr;
            for (unsigned n = 0; remaining > 0; ++n) {
                std::array<u8, SG_ELEMENT_BYTES> e{};
                if (n >= MAX_SG_ELEMENTS || !m_memory.read_bytes(at, e)) {
                    host_status = BTSTAT_INVPARAM;
                    break;
                }
                u64 addr = le64(e.data());
                u32 length = le32(e.data() + 8);
                if (le32(e.data() + 12) & SGE_FLAG_CHAIN) {
                    at = addr;
                    continue;
                }
                at += SG_ELEMENT_BYTES;
                u64 take = std::min<u64>(length, remaining);
                if (take) segments.push_back({addr, take});
                remaining -= take;
            }
        }

        if (host_status == BTSTAT_SUCCESS) {
            GuestBuffer buffer(m_memory, std::move(segments));
            std::span<u8 const> cdb(p + 40, cdb_len ? cdb_len : 16);
            ScsiResult r = disk->execute(cdb, lun_high ? u8{0xFF} : lun, buffer);
            data_moved = r.transferred;
            if (r.buffer_fault) {
                host_status = BTSTAT_HAHARDWARE;
                ++m_adapter_errors;
            } else if (r.overrun) {
                host_status = BTSTAT_DATARUN;
            } else {
                scsi_status = r.status;
                if (r.status == scsi::STATUS_CHECK_CONDITION && sense_addr && sense_len) {
                    auto const& sense = disk->sense();
                    u32 n = std::min<u32>(sense_len, static_cast<u32>(sense.size()));
                    if (m_memory.write_bytes(sense_addr, std::span<u8 const>(sense.data(), n)))
                        sense_written = n;
                }
            }
        }
    }

    put_le(c.data() + 8, data_moved, 8);
    put_le(c.data() + 16, sense_written, 4);
    put_le(c.data() + 20, host_status, 2);
    put_le(c.data() + 22, scsi_status, 2);
    return m_memory.write_bytes(cmp_addr(cmp_index), c);
}

// ---- state -------------------------------------------------------------

void Pvscsi::visit_state(StateVisitor& v) {
    v.section("pvscsi", 1);
    visit_pci_state(v);
    v.field("command", m_command);
    v.field("command_status", m_command_status);
    v.field("collecting", m_collecting);
    u32 count = static_cast<u32>(m_command_data.size());
    v.field("command_data_count", count);
    if (count >= SETUP_RINGS_DWORDS) {
        v.fail("pvscsi: command data too long");
        return;
    }
    m_command_data.resize(count);
    for (auto& word : m_command_data)
        v.field("command_word", word);
    v.field("intr_status", m_intr_status);
    v.field("intr_mask", m_intr_mask);
    v.field("rings_ready", m_rings_ready);
    v.field("state_ppn", m_state_ppn);
    v.field("req_pages", m_req_pages);
    v.field("cmp_pages", m_cmp_pages);
    v.field("req_ppn", m_req_ppn);
    v.field("cmp_ppn", m_cmp_ppn);
    v.field("req_cons", m_req_cons);
    v.field("cmp_prod", m_cmp_prod);
    for (auto* d : m_disks)
        if (d) d->visit_state(v);
}

void Pvscsi::post_load() {
    PciDevice::post_load();
    auto valid = [](u32 pages) {
        return pages >= 1 && pages <= MAX_RING_PAGES && std::has_single_bit(pages);
    };
    if (m_rings_ready && (!valid(m_req_pages) || !valid(m_cmp_pages))) m_rings_ready = false;
    if (m_command_data.size() >= descriptor_dwords(m_command)) m_collecting = false;
    m_intr_status &= INTR_ALL;
    m_intr_mask &= INTR_ALL;
    update_irq();
}

} // namespace vsa
