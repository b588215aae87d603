// SPDX-License-Identifier: GPL-2.0-or-later
#include "hw/ide_channel.h"

#include <algorithm>

namespace vsa {

namespace {
constexpr std::size_t MAX_BUFFER = ata::MAX_BLOCK_SECTORS * ata::SECTOR_SIZE;
constexpr u8 COMMAND_EXECUTE_DEVICE_DIAGNOSTIC = 0x90;
// Diagnostic code "device 0 passed, device 1 passed or not present".
constexpr u8 DIAGNOSTIC_PASSED = 0x01;
} // namespace

void TaskFile::set_lba28(u64 lba) {
    lba_low = static_cast<u8>(lba);
    lba_mid = static_cast<u8>(lba >> 8);
    lba_high = static_cast<u8>(lba >> 16);
    device = static_cast<u8>((device & 0xF0) | ((lba >> 24) & 0x0F));
}

void TaskFile::set_lba48(u64 lba) {
    lba_low = static_cast<u8>(lba);
    lba_mid = static_cast<u8>(lba >> 8);
    lba_high = static_cast<u8>(lba >> 16);
    hob_lba_low = static_cast<u8>(lba >> 24);
    hob_lba_mid = static_cast<u8>(lba >> 32);
    hob_lba_high = static_cast<u8>(lba >> 40);
}

IdeChannel::IdeChannel(IrqLine& irq) : m_irq(irq) {}

void IdeChannel::attach(unsigned slot, IdeDrive* drive) {
    if (slot >= 2) return;
    m_drives[slot] = drive;
    m_status[slot] = drive ? drive->status_after_reset() : 0;
    m_error[slot] = drive ? DIAGNOSTIC_PASSED : 0;
    update_irq();
}

void IdeChannel::reset() {
    m_tf = {};
    m_control = 0;
    m_transfer = Transfer::None;
    m_buffer_len = 0;
    m_buffer_pos = 0;
    m_active = 0;
    for (unsigned slot = 0; slot < 2; ++slot) {
        m_irq_pending[slot] = false;
        if (present(slot)) m_drives[slot]->reset();
    }
    software_reset();
    update_irq();
}

// The end of a reset or diagnostic: every present drive shows its
// signature (ATA-6 9.12) and the "passed" diagnostic code.
void IdeChannel::software_reset() {
    m_transfer = Transfer::None;
    m_buffer_len = 0;
    m_buffer_pos = 0;
    // Each drive puts its own signature into its own registers; an absent
    // slot's copy shows the other drive's (what a lone device 1 answers
    // for, and all that a read with device 0 absent can see).
    for (unsigned slot = 0; slot < 2; ++slot) {
        unsigned source = present(slot) ? slot : 1 - slot;
        u16 signature = present(source) ? m_drives[source]->signature() : 0;
        TaskFile& tf = m_tf[slot];
        tf.count = tf.hob_count = 1;
        tf.lba_low = tf.hob_lba_low = 1;
        tf.lba_mid = tf.hob_lba_mid = static_cast<u8>(signature);
        tf.lba_high = tf.hob_lba_high = static_cast<u8>(signature >> 8);
        // Device register 00h selects device 0, unless only device 1 exists.
        tf.device = present(0) || !present(1) ? 0 : ata::DEVICE_DEV;
    }
    for (unsigned slot = 0; slot < 2; ++slot) {
        m_status[slot] = present(slot) ? m_drives[slot]->status_after_reset() : 0;
        m_error[slot] = present(slot) ? DIAGNOSTIC_PASSED : 0;
    }
}

void IdeChannel::set_irq(unsigned slot, bool pending) {
    m_irq_pending[slot & 1] = pending;
    update_irq();
}

void IdeChannel::update_irq() {
    // Only the selected device drives INTRQ, and only with nIEN clear.
    unsigned sel = selected();
    bool out = present(sel) && m_irq_pending[sel] && !(m_control & ata::CONTROL_NIEN);
    if (out == m_irq_out) return;
    m_irq_out = out;
    m_irq.set_level(out);
}

u8 IdeChannel::read_alt_status() const {
    unsigned sel = selected();
    return present(sel) ? m_status[sel] : 0;
}

u32 IdeChannel::read(unsigned reg, Width width) {
    if (!present(0) && !present(1)) return 0;
    if (reg == ata::REG_DATA) {
        switch (width) {
        case Width::Byte:
            // The data port is 16 bits wide; a byte cycle loses a byte.
            ++m_ignored;
            return 0xFF;
        case Width::Word:
            return read_data16();
        case Width::Dword: {
            u32 low = read_data16();
            return low | u32(read_data16()) << 16;
        }
        }
    }
    bool hob = m_control & ata::CONTROL_HOB;
    unsigned sel = selected();
    // Device 0 answers for an absent device 1, except for the status.
    unsigned responder = present(sel) ? sel : 0;
    TaskFile const& tf = m_tf[responder];
    u32 value = 0;
    switch (reg) {
    case ata::REG_ERROR:
        value = m_error[responder]; // no FIFO: the same with HOB set
        break;
    case ata::REG_COUNT:
        value = hob ? tf.hob_count : tf.count;
        break;
    case ata::REG_LBA_LOW:
        value = hob ? tf.hob_lba_low : tf.lba_low;
        break;
    case ata::REG_LBA_MID:
        value = hob ? tf.hob_lba_mid : tf.lba_mid;
        break;
    case ata::REG_LBA_HIGH:
        value = hob ? tf.hob_lba_high : tf.lba_high;
        break;
    case ata::REG_DEVICE:
        value = tf.device;
        break;
    case ata::REG_STATUS:
        if (!present(sel)) return 0;
        value = m_status[sel];
        // Reading Status (not Alternate Status) acknowledges the interrupt.
        set_irq(sel, false);
        break;
    default:
        ++m_ignored;
        return width_mask(width);
    }
    // A wider cycle to an 8-bit register: the upper lines float.
    return value | (width_mask(width) & ~0xFFu);
}

void IdeChannel::write(unsigned reg, Width width, u32 value) {
    if (reg == ata::REG_DATA) {
        switch (width) {
        case Width::Byte:
            ++m_ignored;
            return;
        case Width::Word:
            write_data16(static_cast<u16>(value));
            return;
        case Width::Dword:
            write_data16(static_cast<u16>(value));
            write_data16(static_cast<u16>(value >> 16));
            return;
        }
    }
    if (reg > ata::REG_STATUS) {
        ++m_ignored;
        return;
    }
    // ATA-6 7.1: command block writes are ignored while BSY or DRQ is set
    // (a data transfer is in flight; SRST is the way out). A PACKET device
    // also takes DEVICE RESET then (ATA-6 8.10).
    if (m_transfer != Transfer::None && reg == ata::REG_STATUS &&
        static_cast<u8>(value) == ata::COMMAND_DEVICE_RESET && selected() == m_active && present(m_active) &&
        m_drives[m_active]->signature() == ata::PACKET_SIGNATURE) {
        m_transfer = Transfer::None;
        m_buffer_len = 0;
        m_buffer_pos = 0;
    }
    if (m_transfer != Transfer::None) {
        ++m_ignored;
        return;
    }
    u8 byte = static_cast<u8>(value);
    // Any command block write clears HOB (ATA-6 7.9).
    m_control &= static_cast<u8>(~ata::CONTROL_HOB);
    auto push = [byte](u8& current, u8& previous) {
        previous = current;
        current = byte;
    };
    // Both drives on the cable latch every command block write.
    for (TaskFile& tf : m_tf) {
        switch (reg) {
        case ata::REG_ERROR:
            push(tf.feature, tf.hob_feature);
            break;
        case ata::REG_COUNT:
            push(tf.count, tf.hob_count);
            break;
        case ata::REG_LBA_LOW:
            push(tf.lba_low, tf.hob_lba_low);
            break;
        case ata::REG_LBA_MID:
            push(tf.lba_mid, tf.hob_lba_mid);
            break;
        case ata::REG_LBA_HIGH:
            push(tf.lba_high, tf.hob_lba_high);
            break;
        case ata::REG_DEVICE:
            tf.device = byte;
            break;
        default:
            break;
        }
    }
    switch (reg) {
    case ata::REG_DEVICE:
        update_irq();
        break;
    case ata::REG_STATUS:
        command(byte);
        break;
    default:
        break;
    }
}

void IdeChannel::command(u8 value) {
    if (m_control & ata::CONTROL_SRST) {
        ++m_ignored;
        return;
    }
    if (value == COMMAND_EXECUTE_DEVICE_DIAGNOSTIC && (present(0) || present(1))) {
        // Both devices run it whichever is selected; device 0 reports
        // (ATA-6 8.11), or device 1 when it is alone.
        for (unsigned slot = 0; slot < 2; ++slot) {
            m_irq_pending[slot] = false;
            if (present(slot)) m_drives[slot]->soft_reset();
        }
        software_reset();
        m_active = present(0) ? 0 : 1;
        set_irq(m_active, true);
        return;
    }
    unsigned sel = selected();
    if (!present(sel)) {
        // Nobody there to execute it.
        ++m_ignored;
        return;
    }
    m_active = static_cast<u8>(sel);
    m_irq_pending[sel] = false;
    update_irq();
    m_error[sel] = 0;
    m_status[sel] = ata::STATUS_BSY;
    m_drives[sel]->execute(*this, value);
    // A drive must end every command one way or another; never leave the
    // channel busy forever.
    if (m_status[sel] & ata::STATUS_BSY) fail(ata::ERROR_ABRT);
}

void IdeChannel::write_control(u8 value) {
    u8 old = m_control;
    m_control = value;
    if ((value & ata::CONTROL_SRST) && !(old & ata::CONTROL_SRST)) {
        // Entering reset: abandon everything, look busy until SRST drops.
        m_transfer = Transfer::None;
        m_buffer_len = 0;
        m_buffer_pos = 0;
        for (unsigned slot = 0; slot < 2; ++slot) {
            m_irq_pending[slot] = false;
            if (!present(slot)) continue;
            m_drives[slot]->soft_reset();
            m_status[slot] = ata::STATUS_BSY;
        }
    } else if (!(value & ata::CONTROL_SRST) && (old & ata::CONTROL_SRST)) {
        software_reset();
    }
    update_irq();
}

u16 IdeChannel::read_data16() {
    if (m_transfer != Transfer::In || m_buffer_pos + 2 > m_buffer_len) {
        ++m_ignored;
        return 0xFFFF;
    }
    u16 value = static_cast<u16>(m_buffer[m_buffer_pos] | m_buffer[m_buffer_pos + 1] << 8);
    m_buffer_pos += 2;
    if (m_buffer_pos >= m_buffer_len) block_finished();
    return value;
}

void IdeChannel::write_data16(u16 value) {
    if (m_transfer != Transfer::Out || m_buffer_pos + 2 > m_buffer_len) {
        ++m_ignored;
        return;
    }
    m_buffer[m_buffer_pos] = static_cast<u8>(value);
    m_buffer[m_buffer_pos + 1] = static_cast<u8>(value >> 8);
    m_buffer_pos += 2;
    if (m_buffer_pos >= m_buffer_len) block_finished();
}

void IdeChannel::block_finished() {
    unsigned slot = m_active;
    m_transfer = Transfer::None;
    m_buffer_pos = 0;
    // Hand the block to the drive from a second buffer: the drive may set
    // up the next block (refilling m_buffer) while it still reads this one.
    std::size_t length = m_buffer_len;
    std::copy_n(m_buffer.begin(), length, m_done.begin());
    m_buffer_len = 0;
    m_status[slot] = ata::STATUS_BSY;
    if (present(slot)) m_drives[slot]->block_done(*this, std::span<u8 const>(m_done.data(), length));
    if (m_status[slot] & ata::STATUS_BSY) fail(ata::ERROR_ABRT);
}

void IdeChannel::start_block(std::size_t n, Transfer kind) {
    m_buffer_len = static_cast<u32>(n);
    m_buffer_pos = 0;
    m_transfer = kind;
    m_status[m_active] = ata::STATUS_DRDY | ata::STATUS_DSC | ata::STATUS_DRQ;
}

void IdeChannel::pio_in(std::span<u8 const> data) {
    std::size_t n = std::min(data.size(), MAX_BUFFER);
    if (n == 0) return complete();
    std::copy_n(data.begin(), n, m_buffer.begin());
    // The port moves 16 bits: an odd block (an ATAPI reply) ends in a pad.
    if (n % 2) m_buffer[n++] = 0;
    start_block(n, Transfer::In);
    set_irq(m_active, true);
}

void IdeChannel::pio_out(std::size_t bytes, bool irq) {
    std::size_t n = std::min(bytes, MAX_BUFFER) & ~std::size_t(1);
    if (n == 0) return complete();
    std::fill_n(m_buffer.begin(), n, u8(0));
    start_block(n, Transfer::Out);
    if (irq) set_irq(m_active, true);
}

void IdeChannel::dma_in(std::span<u8 const> data) {
    std::size_t n = std::min(data.size(), MAX_BUFFER);
    if (n == 0) return complete();
    std::copy_n(data.begin(), n, m_buffer.begin());
    // DMA moves words too (a PRD byte count has bit 0 clear).
    if (n % 2) m_buffer[n++] = 0;
    start_block(n, Transfer::DmaIn);
}

void IdeChannel::dma_out(std::size_t bytes) {
    std::size_t n = std::min(bytes, MAX_BUFFER) & ~std::size_t(1);
    if (n == 0) return complete();
    std::fill_n(m_buffer.begin(), n, u8(0));
    start_block(n, Transfer::DmaOut);
}

std::span<u8> IdeChannel::dma_window() {
    if (!dma_pending()) return {};
    return std::span<u8>(m_buffer.data() + m_buffer_pos, m_buffer_len - m_buffer_pos);
}

void IdeChannel::dma_advance(std::size_t bytes) {
    if (!dma_pending()) return;
    m_buffer_pos += static_cast<u32>(std::min<std::size_t>(bytes, m_buffer_len - m_buffer_pos));
    if (m_buffer_pos >= m_buffer_len) block_finished();
}

void IdeChannel::dma_abort(u8 error) {
    if (!dma_pending()) return;
    unsigned slot = m_active;
    if (present(slot)) m_drives[slot]->soft_reset();
    fail(error);
}

void IdeChannel::complete(bool irq) {
    m_transfer = Transfer::None;
    m_buffer_len = 0;
    m_buffer_pos = 0;
    m_status[m_active] = ata::STATUS_DRDY | ata::STATUS_DSC;
    if (irq) set_irq(m_active, true);
}

void IdeChannel::fail(u8 error) {
    m_transfer = Transfer::None;
    m_buffer_len = 0;
    m_buffer_pos = 0;
    m_error[m_active] = error;
    m_status[m_active] = ata::STATUS_DRDY | ata::STATUS_DSC | ata::STATUS_ERR;
    set_irq(m_active, true);
}

void IdeChannel::device_reset_done() {
    m_transfer = Transfer::None;
    m_buffer_len = 0;
    m_buffer_pos = 0;
    unsigned slot = m_active;
    u16 signature = present(slot) ? m_drives[slot]->signature() : 0;
    TaskFile& tf = m_tf[slot];
    tf.count = 1;
    tf.lba_low = 1;
    tf.lba_mid = static_cast<u8>(signature);
    tf.lba_high = static_cast<u8>(signature >> 8);
    m_status[slot] = present(slot) ? m_drives[slot]->status_after_reset() : 0;
    m_error[slot] = DIAGNOSTIC_PASSED;
}

void IdeChannel::visit_state(StateVisitor& v) {
    v.section("ide-channel", 2);
    u32 const version = v.version();
    // Version 1 kept one set of registers for both drives: it loads into
    // both copies.
    for (unsigned slot = 0; slot < (version >= 2 ? 2u : 1u); ++slot) {
        TaskFile& tf = m_tf[slot];
        v.field("feature", tf.feature);
        v.field("hob_feature", tf.hob_feature);
        v.field("count", tf.count);
        v.field("hob_count", tf.hob_count);
        v.field("lba_low", tf.lba_low);
        v.field("hob_lba_low", tf.hob_lba_low);
        v.field("lba_mid", tf.lba_mid);
        v.field("hob_lba_mid", tf.hob_lba_mid);
        v.field("lba_high", tf.lba_high);
        v.field("hob_lba_high", tf.hob_lba_high);
        v.field("device", tf.device);
    }
    if (version < 2 && v.is_loading()) m_tf[1] = m_tf[0];
    v.field("control", m_control);
    for (unsigned slot = 0; slot < 2; ++slot) {
        v.field("status", m_status[slot]);
        v.field("error", m_error[slot]);
        v.field("irq_pending", m_irq_pending[slot]);
    }
    v.field("active", m_active);
    v.field("transfer", m_transfer);
    v.field("buffer_len", m_buffer_len);
    v.field("buffer_pos", m_buffer_pos);
    if (v.is_loading() && v.ok()) {
        bool transferring = m_transfer == Transfer::In || m_transfer == Transfer::Out ||
                            m_transfer == Transfer::DmaIn || m_transfer == Transfer::DmaOut;
        if (m_active > 1)
            v.fail("ide-channel: bad active drive");
        else if (m_transfer != Transfer::None && !transferring)
            v.fail("ide-channel: bad transfer state");
        else if (m_buffer_len > MAX_BUFFER || m_buffer_len % 2 || m_buffer_pos % 2 ||
                 (transferring &&
                  (m_buffer_len == 0 || m_buffer_pos >= m_buffer_len || !present(m_active))) ||
                 (!transferring && m_buffer_len != 0))
            v.fail("ide-channel: bad transfer buffer");
        if (!v.ok()) {
            // Never leave a half-loaded channel able to index past its buffer.
            m_transfer = Transfer::None;
            m_buffer_len = m_buffer_pos = 0;
            m_active = 0;
        }
    }
    // Only the bytes of a block in flight are state.
    if (v.ok()) v.bytes_field("buffer", std::as_writable_bytes(std::span(m_buffer.data(), m_buffer_len)));
    // The drives' own state (geometry, the command in progress). The set of
    // drives is configuration: a stream saved with another set fails.
    for (unsigned slot = 0; slot < 2; ++slot) {
        bool here = present(slot);
        bool saved = here;
        v.field("drive_present", saved);
        if (v.is_loading() && v.ok() && saved != here) v.fail("ide-channel: the saved drive set differs");
        if (here && v.ok()) m_drives[slot]->visit_state(v);
    }
}

void IdeChannel::post_load() {
    unsigned sel = selected();
    m_irq_out = present(sel) && m_irq_pending[sel] && !(m_control & ata::CONTROL_NIEN);
    m_irq.set_level(m_irq_out);
}

namespace ata {

void put_identify_string(IdentifyData& id, unsigned first_word, unsigned words, std::string_view text) {
    for (unsigned i = 0; i < words * 2; ++i) {
        char c = i < text.size() ? text[i] : ' ';
        id[first_word * 2 + (i ^ 1)] = static_cast<u8>(c);
    }
}

void put_identify_word(IdentifyData& id, unsigned word, u16 value) {
    id[word * 2] = static_cast<u8>(value);
    id[word * 2 + 1] = static_cast<u8>(value >> 8);
}

bool valid_transfer_mode(u8 mode) {
    return mode <= 0x01 || (mode >= 0x08 && mode <= 0x0C) || (mode >= 0x20 && mode <= 0x22) ||
           (mode >= 0x40 && mode <= 0x45);
}

void put_identify_dma_modes(IdentifyData& id, u8 selected) {
    u16 mwdma = 0x0007;
    u16 udma = 0x003F;
    if (selected >= 0x20 && selected <= 0x22) mwdma |= static_cast<u16>(0x100 << (selected & 7));
    if (selected >= 0x40 && selected <= 0x45) udma |= static_cast<u16>(0x100 << (selected & 7));
    put_identify_word(id, 63, mwdma);
    put_identify_word(id, 88, udma);
}

void put_identify_cable(IdentifyData& id) {
    // Bit 14 set, bit 15 clear: the word is valid; bit 13 CBLID; bits 3,
    // 1, 0: device 0 passed diagnostics, jumper-selected.
    put_identify_word(id, 93, 0x600B);
}

void seal_identify(IdentifyData& id) {
    id[510] = 0xA5;
    u8 sum = 0;
    for (unsigned i = 0; i < 511; ++i)
        sum = static_cast<u8>(sum + id[i]);
    id[511] = static_cast<u8>(-sum);
}

} // namespace ata

} // namespace vsa
