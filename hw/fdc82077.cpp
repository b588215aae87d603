// SPDX-License-Identifier: GPL-2.0-or-later
// 82077AA floppy disk controller. See fdc82077.h.
#include "hw/fdc82077.h"

#include "hypervisor/io/io_bus.h"

#include <algorithm>

namespace vsa {

namespace {

// DOR bits.
constexpr u8 DOR_SELECT = 0x03;
constexpr u8 DOR_NRESET = 0x04;
constexpr u8 DOR_DMA_GATE = 0x08;
// DSR bits.
constexpr u8 DSR_SW_RESET = 0x80;
// MSR bits.
constexpr u8 MSR_RQM = 0x80;
constexpr u8 MSR_DIO = 0x40;
constexpr u8 MSR_CB = 0x10;
// ST0.
constexpr u8 ST0_ABNORMAL = 0x40;
constexpr u8 ST0_INVALID = 0x80;
constexpr u8 ST0_SEEK_END = 0x20;
constexpr u8 ST0_EQUIPMENT_CHECK = 0x10;
constexpr u8 ST0_POLL = 0xC0; // "ready changed" after a reset
// ST1.
constexpr u8 ST1_MA = 0x01; // missing address mark
constexpr u8 ST1_NW = 0x02; // not writable
constexpr u8 ST1_ND = 0x04; // no data (sector not found)
constexpr u8 ST1_DE = 0x20; // data error (CRC)
constexpr u8 ST1_EN = 0x80; // end of cylinder
// ST2.
constexpr u8 ST2_DD = 0x20; // data error in the data field
constexpr u8 ST2_WC = 0x10; // wrong cylinder
// ST3.
constexpr u8 ST3_WP = 0x40;
constexpr u8 ST3_RDY = 0x20;
constexpr u8 ST3_T0 = 0x10;
constexpr u8 ST3_TS = 0x08;

// Command opcodes (low five bits; MT = 80h, MFM = 40h, SK = 20h).
constexpr u8 CMD_MASK = 0x1F;
constexpr u8 CMD_MT = 0x80;
constexpr u8 CMD_MFM = 0x40;
constexpr u8 CMD_READ = 0x06;
constexpr u8 CMD_WRITE = 0x05;
constexpr u8 CMD_FORMAT = 0x0D;
constexpr u8 CMD_READ_ID = 0x0A;
constexpr u8 CMD_RECALIBRATE = 0x07;
constexpr u8 CMD_SENSE_INTERRUPT = 0x08;
constexpr u8 CMD_SPECIFY = 0x03;
constexpr u8 CMD_SENSE_DRIVE = 0x04;
constexpr u8 CMD_SEEK = 0x0F;
constexpr u8 CMD_CONFIGURE = 0x13;
constexpr u8 CMD_VERSION = 0x10;
constexpr u8 CMD_DUMPREG = 0x0E;
constexpr u8 CMD_LOCK = 0x14;
constexpr u8 CMD_PERPENDICULAR = 0x12;

constexpr u8 VERSION_82077AA = 0x90;
constexpr u8 SIZE_CODE_512 = 2;
// CONFIGURE byte defaults after a reset: FIFO disabled, polling enabled.
constexpr u8 CONFIG_DEFAULT = 0x20;
constexpr u8 CONFIG_LOCKED_BITS = 0x2F; // EFIFO and FIFOTHR survive a reset when locked
constexpr u8 RATE_AFTER_RESET = 0x02;   // 250 Kb/s

struct CommandShape {
    u8 opcode;    // low five bits
    u8 free_bits; // high bits the guest may set (MT, MFM, SK, DIR ...)
    u8 length;
};
constexpr CommandShape COMMANDS[] = {
    {CMD_READ, 0xE0, 9},     {CMD_WRITE, 0xC0, 9},        {CMD_FORMAT, 0x40, 6}, {CMD_READ_ID, 0x40, 2},
    {CMD_RECALIBRATE, 0, 2}, {CMD_SENSE_INTERRUPT, 0, 1}, {CMD_SPECIFY, 0, 3},   {CMD_SENSE_DRIVE, 0, 2},
    {CMD_SEEK, 0xC0, 3},     {CMD_CONFIGURE, 0, 4},       {CMD_VERSION, 0, 1},   {CMD_DUMPREG, 0, 1},
    {CMD_LOCK, 0x80, 1},     {CMD_PERPENDICULAR, 0, 2},
};

u8 command_length(u8 first) {
    for (auto const& c : COMMANDS)
        if ((first & CMD_MASK) == c.opcode && (first & ~(CMD_MASK | c.free_bits)) == 0) {
            // SEEK's free bits are the relative seek's 1 DIR pair: 40h
            // alone is not a command.
            if (c.opcode == CMD_SEEK && (first & 0xC0) == 0x40) return 0;
            return c.length;
        }
    return 0;
}

constexpr std::size_t MAX_PATH = 4096;

} // namespace

Fdc82077::Geometry Fdc82077::geometry_for_size(u64 bytes) {
    switch (bytes) {
    case 368'640:
        return {40, 2, 9, Rate::K300, 1};
    case 737'280:
        return {80, 2, 9, Rate::K250, 3};
    case 1'228'800:
        return {80, 2, 15, Rate::K500, 2};
    case 1'474'560:
        return {80, 2, 18, Rate::K500, 4};
    case 1'720'320: // DMF: a 1.44M disk with 21 sectors a track
        return {80, 2, 21, Rate::K500, 4};
    case 2'949'120:
        return {80, 2, 36, Rate::M1, 5};
    default:
        return {};
    }
}

Fdc82077::Fdc82077(IrqLine& irq, Dma8237& dma, unsigned drives)
    : m_irq(irq), m_dma(dma), m_drive_count(std::min(drives, DRIVES)) {
    m_dma.attach(DMA_CHANNEL, this);
    reset();
}

Fdc82077::~Fdc82077() {
    m_dma.attach(DMA_CHANNEL, nullptr);
}

bool Fdc82077::map_ports(IoBus& io) {
    bool ok = io.map(BASE, 6, *this, WIDTH_8, 0);
    return io.map(DIR_PORT, 1, *this, WIDTH_8, DIR) && ok;
}

void Fdc82077::reset() {
    // Hardware reset: every register to its default, the DOR included
    // (so the controller stays in reset until the BIOS sets DOR bit 2).
    // The drives keep their heads where they are.
    m_dor = 0;
    m_tdr = 0;
    m_step_unload = 0;
    m_load_nodma = 0;
    m_lock = false;
    m_config = CONFIG_DEFAULT;
    m_pretrk = 0;
    m_perpendicular = 0;
    m_eot = 0;
    controller_reset(true);
}

void Fdc82077::controller_reset(bool from_power_on) {
    // Software reset (DOR bit 2 low, DSR bit 7): the command in progress
    // ends; SPECIFY and the data rate survive (SeaBIOS resets the
    // controller after a timeout without sensing the media again),
    // CONFIGURE too where LOCK protects it (82077AA datasheet, "LOCK").
    // A hardware reset starts at 250 Kb/s.
    if (from_power_on) m_dsr = RATE_AFTER_RESET;
    if (!m_lock || from_power_on) {
        m_config = CONFIG_DEFAULT;
        m_pretrk = 0;
    } else {
        m_config = static_cast<u8>((m_config & CONFIG_LOCKED_BITS) | (CONFIG_DEFAULT & ~CONFIG_LOCKED_BITS));
    }
    m_perpendicular &= 0x3C; // GAP and WGATE clear, the drive bits stay
    m_phase = Phase::Command;
    m_command_length = 0;
    m_command_received = 0;
    m_result_length = 0;
    m_result_read = 0;
    m_seek_pending = false;
    m_seek_st0 = 0;
    m_reset_sensei = 0;
    m_busy = 0;
    m_op = Op::None;
    m_dma.set_dreq(DMA_CHANNEL, false);
    m_irq_pending = false;
    update_irq();
}

void Fdc82077::update_irq() {
    // In AT mode DOR bit 3 gates both the interrupt and the DMA request.
    m_irq.set_level(m_irq_pending && (m_dor & DOR_DMA_GATE));
}

void Fdc82077::raise_irq() {
    m_irq_pending = true;
    update_irq();
}

u8 Fdc82077::msr() const {
    if (!(m_dor & DOR_NRESET)) return 0;
    switch (m_phase) {
    case Phase::Command:
        return static_cast<u8>(MSR_RQM | (m_command_received ? MSR_CB : 0) | m_busy);
    case Phase::Execution:
        return static_cast<u8>(MSR_CB | m_busy);
    case Phase::Result:
        return static_cast<u8>(MSR_RQM | MSR_DIO | MSR_CB | m_busy);
    }
    return 0;
}

u32 Fdc82077::io_read(u16 offset, Width width) {
    if (width != Width::Byte) {
        count_ignored();
        return width_mask(width);
    }
    switch (offset) {
    case DOR:
        return m_dor;
    case TDR:
        return m_tdr;
    case MSR:
        return msr();
    case FIFO:
        return read_fifo();
    case DIR: {
        Drive* d = drive(m_dor & DOR_SELECT);
        return d && d->disk_changed ? 0x80 : 0x00;
    }
    default:
        // SRA/SRB exist only in PS/2 mode.
        count_ignored();
        return 0xFF;
    }
}

void Fdc82077::io_write(u16 offset, Width width, u32 value) {
    if (width != Width::Byte) {
        count_ignored();
        return;
    }
    u8 v = static_cast<u8>(value);
    switch (offset) {
    case DOR: {
        u8 old = m_dor;
        m_dor = v;
        if (!(v & DOR_NRESET)) {
            // Held in reset.
            if (old & DOR_NRESET) controller_reset(false);
            return;
        }
        if (!(old & DOR_NRESET)) {
            // Out of reset: the drive polling reports "ready changed" for
            // each of the four drives, one SENSE INTERRUPT STATUS each.
            m_reset_sensei = 4;
            raise_irq();
        }
        update_irq();
        // The gate also decides whether the DMA sees our request.
        if (m_phase == Phase::Execution) m_dma.set_dreq(DMA_CHANNEL, (m_dor & DOR_DMA_GATE) != 0);
        return;
    }
    case TDR:
        m_tdr = v & 0x03;
        return;
    case DSR:
        m_dsr = v & static_cast<u8>(~DSR_SW_RESET);
        if (v & DSR_SW_RESET) {
            // Self-clearing software reset, then the same polling interrupt.
            controller_reset(false);
            if (m_dor & DOR_NRESET) {
                m_reset_sensei = 4;
                raise_irq();
            }
        }
        return;
    case FIFO:
        write_fifo(v);
        return;
    case CCR:
        m_dsr = static_cast<u8>((m_dsr & ~3) | (v & 3));
        return;
    default:
        count_ignored();
        return;
    }
}

void Fdc82077::write_fifo(u8 value) {
    if (!(m_dor & DOR_NRESET) || m_phase != Phase::Command) {
        // A byte the controller did not ask for (RQM low or DIO set).
        count_ignored();
        return;
    }
    if (m_command_received == 0) {
        m_command_length = command_length(value);
        if (m_command_length == 0) {
            m_command[0] = value;
            invalid_command();
            return;
        }
    }
    m_command[m_command_received++] = value;
    if (m_command_received == m_command_length) execute();
}

u8 Fdc82077::read_fifo() {
    if (!(m_dor & DOR_NRESET) || m_phase != Phase::Result || m_result_read >= m_result_length) {
        count_ignored();
        return 0xFF;
    }
    // Reading the result clears the interrupt of a transfer or READ ID
    // (only theirs: a seek's waits for SENSE INTERRUPT STATUS even if the
    // guest asks for VERSION first).
    u8 op = m_command[0] & CMD_MASK;
    bool result_interrupt = op == CMD_READ || op == CMD_WRITE || op == CMD_FORMAT || op == CMD_READ_ID;
    if (m_result_read == 0 && m_irq_pending && result_interrupt && command_length(m_command[0]) != 0) {
        m_irq_pending = false;
        update_irq();
    }
    u8 v = m_result[m_result_read++];
    if (m_result_read == m_result_length) {
        m_phase = Phase::Command;
        m_command_received = 0;
    }
    return v;
}

void Fdc82077::finish_with_result(std::vector<u8> result) {
    m_result_length = static_cast<u8>(std::min(result.size(), m_result.size()));
    std::copy_n(result.begin(), m_result_length, m_result.begin());
    m_result_read = 0;
    m_command_received = 0;
    m_phase = m_result_length ? Phase::Result : Phase::Command;
}

void Fdc82077::invalid_command() {
    // One result byte, ST0 = 80h; no interrupt.
    finish_with_result({ST0_INVALID});
}

void Fdc82077::seek_drive(unsigned n, u8 cylinder, bool relative_down, bool relative) {
    Drive* d = drive(n);
    u8 head = (m_command[1] >> 2) & 1;
    if (!d) {
        // No drive answers: TRK0 never comes.
        m_seek_st0 = static_cast<u8>(ST0_ABNORMAL | ST0_SEEK_END | ST0_EQUIPMENT_CHECK | st0(n, head));
    } else {
        u8 target = cylinder;
        if (relative)
            target = relative_down ? static_cast<u8>(d->track > cylinder ? d->track - cylinder : 0)
                                   : static_cast<u8>(std::min(255, d->track + cylinder));
        // A step pulse with a disk in the drive resets its disk-change
        // line (how Linux clears it: a seek away and back).
        if (target != d->track && d->media) d->disk_changed = false;
        d->track = target;
        d->head = head;
        m_seek_st0 = static_cast<u8>(ST0_SEEK_END | st0(n, head));
    }
    m_busy = static_cast<u8>(m_busy | (1u << n));
    m_seek_pending = true;
    m_reset_sensei = 0;
    finish_with_result({});
    raise_irq();
}

bool Fdc82077::media_readable(unsigned n) {
    Drive* d = drive(n);
    // FM recording, no disk, or a disk at another data rate: the
    // controller never finds an ID address mark.
    if (!d || !d->media || !(m_command[0] & CMD_MFM) || d->geometry.rate != rate()) {
        u8 head = (m_command[1] >> 2) & 1;
        m_cyl = d ? d->track : 0;
        m_head = head;
        m_sec = m_command_length == 9 ? m_command[4] : 1;
        finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, head)), ST1_MA, 0);
        return false;
    }
    return true;
}

void Fdc82077::finish_transfer(u8 st0_flags, u8 st1, u8 st2) {
    m_op = Op::None;
    m_dma.set_dreq(DMA_CHANNEL, false);
    u8 n = SIZE_CODE_512;
    if ((m_command[0] & CMD_MASK) == CMD_FORMAT) n = m_command[2];
    finish_with_result({st0_flags, st1, st2, m_cyl, m_head, m_sec, n});
    raise_irq();
}

void Fdc82077::execute() {
    u8 op = m_command[0] & CMD_MASK;
    unsigned n = selected_command_drive();
    switch (op) {
    case CMD_SPECIFY:
        m_step_unload = m_command[1];
        m_load_nodma = m_command[2];
        return finish_with_result({});
    case CMD_SENSE_DRIVE: {
        Drive* d = drive(n);
        u8 head = (m_command[1] >> 2) & 1;
        u8 st3 = st0(n, head);
        if (d) {
            st3 |= ST3_RDY | ST3_TS;
            if (d->track == 0) st3 |= ST3_T0;
            // No disk: the drive's sensor sees no write-enable notch.
            if (!d->media || d->write_protected) st3 |= ST3_WP;
        }
        return finish_with_result({st3});
    }
    case CMD_RECALIBRATE:
        return seek_drive(n, 0);
    case CMD_SEEK:
        // RELATIVE SEEK: bit 6 (DIR) set steps in, towards higher cylinders.
        return seek_drive(n, m_command[2], (m_command[0] & 0x40) == 0, (m_command[0] & 0x80) != 0);
    case CMD_SENSE_INTERRUPT: {
        if (m_reset_sensei) {
            unsigned polled = 4u - m_reset_sensei;
            --m_reset_sensei;
            m_irq_pending = false;
            update_irq();
            Drive* d = drive(polled);
            return finish_with_result({static_cast<u8>(ST0_POLL | polled), d ? d->track : u8(0)});
        }
        if (m_seek_pending) {
            m_seek_pending = false;
            unsigned seeked = m_seek_st0 & 3;
            m_busy = static_cast<u8>(m_busy & ~(1u << seeked));
            m_irq_pending = false;
            update_irq();
            Drive* d = drive(seeked);
            return finish_with_result({m_seek_st0, d ? d->track : u8(0)});
        }
        // Nothing to report: the 82077AA answers as to an invalid command.
        return invalid_command();
    }
    case CMD_CONFIGURE:
        m_config = m_command[2] & 0x7F;
        m_pretrk = m_command[3];
        return finish_with_result({});
    case CMD_VERSION:
        return finish_with_result({VERSION_82077AA});
    case CMD_DUMPREG:
        return finish_with_result({m_drives[0].track, m_drives[1].track, 0, 0, m_step_unload, m_load_nodma,
                                   m_eot, static_cast<u8>((m_lock ? 0x80 : 0) | (m_perpendicular & 0x3F)),
                                   m_config, m_pretrk});
    case CMD_LOCK:
        m_lock = (m_command[0] & 0x80) != 0;
        return finish_with_result({static_cast<u8>(m_lock ? 0x10 : 0)});
    case CMD_PERPENDICULAR: {
        u8 v = m_command[1];
        u8 drives = (v & 0x80) ? (v & 0x3C) : (m_perpendicular & 0x3C);
        m_perpendicular = static_cast<u8>(drives | (v & 0x03));
        return finish_with_result({});
    }
    case CMD_READ_ID: {
        if (!media_readable(n)) return;
        Drive& d = m_drives[n];
        d.head = (m_command[1] >> 2) & 1;
        // The next ID field to pass under the head: successive READ IDs
        // see the sectors go by, as on a spinning disk.
        d.sector = static_cast<u8>(d.sector % d.geometry.sectors + 1);
        m_cyl = d.track;
        m_head = d.head;
        m_sec = d.sector;
        if (d.track >= d.geometry.cylinders || d.head >= d.geometry.heads)
            return finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, d.head)), ST1_MA, 0);
        return finish_transfer(st0(n, d.head), 0, 0);
    }
    case CMD_READ:
        return start_transfer(Op::Read);
    case CMD_WRITE:
        return start_transfer(Op::Write);
    case CMD_FORMAT:
        return start_transfer(Op::Format);
    default:
        // command_length() accepted only the opcodes above.
        return invalid_command();
    }
}

void Fdc82077::start_transfer(Op op) {
    unsigned n = selected_command_drive();
    if (!media_readable(n)) return;
    Drive& d = m_drives[n];
    u8 head = (m_command[1] >> 2) & 1;
    d.head = head;
    m_head = head;
    if (op == Op::Format) {
        m_cyl = d.track;
        m_sec = 1;
        if (d.write_protected)
            return finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, head)), ST1_NW, 0);
        m_format_count = m_command[3];
        m_format_fill = m_command[5];
        if (m_command[2] != SIZE_CODE_512 || m_format_count == 0)
            return finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, head)), ST1_ND, 0);
    } else {
        m_cyl = m_command[2];
        m_sec = m_command[4];
        m_eot = m_command[6];
        // The implied seek (see the header): the head goes to the
        // command's cylinder.
        if (d.track != m_cyl && d.media) d.disk_changed = false;
        d.track = m_cyl;
        if (op == Op::Write && d.write_protected)
            return finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, head)), ST1_NW, 0);
        // The ID fields name cylinder, head and sector as the image lays
        // them out; anything else is a sector the controller cannot find.
        if (m_cyl >= d.geometry.cylinders)
            return finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, head)), ST1_ND, ST2_WC);
        if (m_command[3] != head || head >= d.geometry.heads || m_command[5] != SIZE_CODE_512 || m_sec == 0 ||
            m_sec > d.geometry.sectors)
            return finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, head)), ST1_ND, 0);
    }
    m_op = op;
    m_phase = Phase::Execution;
    // The DMA request goes out through the DOR gate; the transfer runs
    // when channel 2 is granted (now, or when the guest unmasks it).
    if (m_dor & DOR_DMA_GATE) m_dma.set_dreq(DMA_CHANNEL, true);
}

void Fdc82077::dma_service(Dma8237& dma, unsigned) {
    // Sector after sector until the command ends or the channel stops
    // granting (it cannot: a transfer ends at terminal count).
    for (unsigned guard = 0; m_op != Op::None && guard < 256; ++guard) {
        bool more = m_op == Op::Format ? format_sector(dma) : transfer_sector(dma);
        if (!more) return;
    }
}

bool Fdc82077::transfer_sector(Dma8237& dma) {
    unsigned n = selected_command_drive();
    Drive& d = m_drives[n];
    Geometry const& g = d.geometry;
    u64 lba = (u64(m_cyl) * g.heads + m_head) * g.sectors + (m_sec - 1u);
    auto bytes = std::as_writable_bytes(std::span(m_buffer));
    Dma8237::Moved moved;
    if (m_op == Op::Read) {
        if (!d.media || d.media->read(lba, bytes).is_error()) {
            // A host read error: the guest sees a CRC error in the data field.
            finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, m_head)), ST1_DE, ST2_DD);
            return false;
        }
        moved = dma.write_memory(DMA_CHANNEL, m_buffer);
        if (moved.bytes == 0 && !moved.terminal_count) return false; // not granted: wait
    } else {
        moved = dma.read_memory(DMA_CHANNEL, m_buffer);
        if (moved.bytes == 0 && !moved.terminal_count) return false;
        // Terminal count inside the sector: the rest is written as zeros.
        std::fill(m_buffer.begin() + static_cast<std::ptrdiff_t>(moved.bytes), m_buffer.end(), u8(0));
        if (!d.media || d.media->write(lba, std::as_bytes(std::span(m_buffer))).is_error()) {
            finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, m_head)), ST1_DE, ST2_DD);
            return false;
        }
    }
    d.sector = m_sec;
    // ST0's head bit is the head that read the last sector; the ID
    // fields of the result name the sector after it.
    u8 last_head = m_head;
    // The next sector's ID (82077AA datasheet, table "Result phase ID
    // information"): past EOT the multi-track bit moves to head 1, else
    // to the next cylinder.
    bool at_eot = m_sec == m_eot;
    bool to_other_head = at_eot && (m_command[0] & CMD_MT) && m_head == 0 && g.heads == 2;
    if (at_eot) {
        m_sec = 1;
        if (to_other_head) {
            m_head = 1;
        } else {
            m_head = (m_command[0] & CMD_MT) ? 0 : m_head;
            m_cyl = static_cast<u8>(m_cyl + 1);
        }
    } else {
        m_sec = static_cast<u8>(m_sec + 1);
    }
    if (moved.terminal_count) {
        finish_transfer(st0(n, last_head), 0, 0);
        return false;
    }
    if (at_eot && !to_other_head) {
        // The track ran out before terminal count.
        finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, last_head)), ST1_EN, 0);
        return false;
    }
    if (m_sec > g.sectors) {
        // EOT past the last sector: the next ID is never found.
        finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, last_head)), ST1_ND, 0);
        return false;
    }
    if (to_other_head) d.head = 1;
    return true;
}

bool Fdc82077::format_sector(Dma8237& dma) {
    unsigned n = selected_command_drive();
    Drive& d = m_drives[n];
    Geometry const& g = d.geometry;
    std::array<u8, 4> id{};
    auto moved = dma.read_memory(DMA_CHANNEL, id);
    if (moved.bytes == 0 && !moved.terminal_count) return false;
    if (moved.bytes == id.size()) {
        // An image stores sectors, not ID fields: the sector the ID names
        // is filled (QEMU does the same). An ID the image cannot hold
        // (another size, outside the geometry) is dropped.
        m_cyl = id[0];
        m_head = id[1];
        m_sec = id[2];
        if (id[3] == SIZE_CODE_512 && id[0] < g.cylinders && id[1] < g.heads && id[2] >= 1 &&
            id[2] <= g.sectors) {
            m_buffer.fill(m_format_fill);
            u64 lba = (u64(id[0]) * g.heads + id[1]) * g.sectors + (id[2] - 1u);
            if (!d.media || d.media->write(lba, std::as_bytes(std::span(m_buffer))).is_error()) {
                finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, m_head)), ST1_DE, ST2_DD);
                return false;
            }
        } else {
            count_ignored();
        }
    }
    if (--m_format_count == 0 || moved.terminal_count) {
        finish_transfer(st0(n, (m_command[1] >> 2) & 1), 0, 0);
        return false;
    }
    return true;
}

bool Fdc82077::insert(unsigned n, std::unique_ptr<storage::BlockDevice> media, std::string path,
                      bool write_protected) {
    if (n >= m_drive_count || !media || media->sector_size() != SECTOR_SIZE) return false;
    Geometry g = geometry_for_size(media->size_bytes());
    if (g.cylinders == 0) return false;
    Drive& d = m_drives[n];
    d.media = std::move(media);
    d.path = std::move(path);
    d.geometry = g;
    d.write_protected = write_protected || d.media->read_only();
    d.disk_changed = true;
    d.sector = 0;
    return true;
}

bool Fdc82077::eject(unsigned n) {
    if (n >= m_drive_count) return false;
    Drive& d = m_drives[n];
    d.media.reset();
    d.path.clear();
    d.geometry = {};
    d.write_protected = false;
    d.disk_changed = true;
    // A transfer in flight on this drive finds no more sectors.
    if (m_op != Op::None && selected_command_drive() == n)
        finish_transfer(static_cast<u8>(ST0_ABNORMAL | st0(n, m_head)), ST1_MA, 0);
    return true;
}

// ---- saved state -----------------------------------------------------------

void Fdc82077::visit_state(StateVisitor& v) {
    v.section("fdc82077", 1);
    u32 drives = m_drive_count;
    v.field("drives", drives);
    if (v.is_loading() && v.ok() && drives != m_drive_count)
        return v.fail("fdc82077: the state was saved with " + std::to_string(drives) +
                      " floppy drives, this machine has " + std::to_string(m_drive_count));
    for (unsigned n = 0; n < DRIVES; ++n) {
        Drive& d = m_drives[n];
        // The media is configuration the restoring machine must match.
        bool media = d.media != nullptr;
        std::vector<u8> path(d.path.begin(), d.path.end());
        u64 bytes = media ? d.media->size_bytes() : 0;
        bool wp = d.write_protected;
        v.field("media", media);
        v.field("media_path", path, MAX_PATH);
        v.field("media_bytes", bytes);
        v.field("write_protected", wp);
        if (v.is_loading() && v.ok()) {
            std::string saved(path.begin(), path.end());
            std::string where = "fdc82077: drive " + std::to_string(n) + ": the state was saved with ";
            if (media != (d.media != nullptr))
                return v.fail(media ? where + saved + " in the drive, this drive is empty"
                                    : where + "an empty drive, this drive holds " + d.path);
            if (media && (saved != d.path || bytes != d.media->size_bytes() || wp != d.write_protected))
                return v.fail(where + saved + " (" + std::to_string(bytes) + " bytes" +
                              (wp ? ", write-protected" : "") + "), this drive holds " + d.path + " (" +
                              std::to_string(d.media->size_bytes()) + " bytes" +
                              (d.write_protected ? ", write-protected" : "") + ")");
        }
        v.field("disk_changed", d.disk_changed);
        v.field("track", d.track);
        v.field("head", d.head);
        v.field("sector", d.sector);
    }
    v.field("dor", m_dor);
    v.field("tdr", m_tdr);
    v.field("dsr", m_dsr);
    v.field("step_unload", m_step_unload);
    v.field("load_nodma", m_load_nodma);
    v.field("config", m_config);
    v.field("pretrk", m_pretrk);
    v.field("lock", m_lock);
    v.field("perpendicular", m_perpendicular);
    v.field("eot", m_eot);
    v.field("phase", m_phase);
    v.field("command", m_command);
    v.field("command_length", m_command_length);
    v.field("command_received", m_command_received);
    v.field("result", m_result);
    v.field("result_length", m_result_length);
    v.field("result_read", m_result_read);
    v.field("irq_pending", m_irq_pending);
    v.field("busy", m_busy);
    v.field("seek_pending", m_seek_pending);
    v.field("seek_st0", m_seek_st0);
    v.field("reset_sensei", m_reset_sensei);
    v.field("op", m_op);
    v.field("cyl", m_cyl);
    v.field("head", m_head);
    v.field("sec", m_sec);
    v.field("format_count", m_format_count);
    v.field("format_fill", m_format_fill);
    if (!v.is_loading() || !v.ok()) return;
    bool bad =
        m_phase > Phase::Result || m_command_length > m_command.size() ||
        m_command_received > m_command_length || m_result_length > m_result.size() ||
        m_result_read > m_result_length || m_op > Op::Format || m_reset_sensei > 4 || m_busy > 0x0F ||
        (m_phase == Phase::Result && m_result_read == m_result_length) ||
        (m_phase == Phase::Command && m_command_received == m_command_length && m_command_received != 0);
    // A command's bytes must be a command of that length.
    if (!bad && m_command_received && command_length(m_command[0]) != m_command_length) bad = true;
    // A transfer in progress needs the execution phase, its drive's media
    // and a sector inside that media.
    if (!bad && ((m_op != Op::None) != (m_phase == Phase::Execution))) bad = true;
    u8 opcode = m_command[0] & CMD_MASK;
    if (!bad && m_op != Op::None &&
        opcode != (m_op == Op::Read    ? CMD_READ
                   : m_op == Op::Write ? CMD_WRITE
                                       : CMD_FORMAT))
        bad = true;
    if (!bad && m_op != Op::None) {
        unsigned n = m_command[1] & 3;
        Drive* d = drive(n);
        if (!d || !d->media)
            bad = true;
        else if (m_op != Op::Format) {
            Geometry const& g = d->geometry;
            if (m_cyl >= g.cylinders || m_head >= g.heads || m_sec == 0 || m_sec > g.sectors) bad = true;
        } else if (m_format_count == 0) {
            bad = true;
        }
    }
    if (bad) {
        controller_reset(false);
        v.fail("fdc82077: bad controller state");
    }
}

void Fdc82077::post_load() {
    update_irq();
}

} // namespace vsa
