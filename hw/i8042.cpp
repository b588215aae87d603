// SPDX-License-Identifier: GPL-2.0-or-later
// Intel 8042 keyboard controller. See i8042.h for the references and what
// is left out.
#include "hw/i8042.h"

namespace vsa {

namespace {

// The 8042 firmware's set 2 -> set 1 table, first half: the set 2 make code
// of each key maps to its set 1 (XT) make code. Written as data because it
// is data: the keyboard controller ROM holds exactly such a table.
constexpr std::array<u8, 128> SET2_TO_SET1_LOW = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59, // 0x00
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b, // 0x10
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d, // 0x20
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f, // 0x30
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61, // 0x40
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76, // 0x50
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f, // 0x60
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54, // 0x70
};

// Input port (command 0xC0): keyboard not inhibited (bit 7), no
// manufacturing jumper (bit 5), colour display (bit 6 clear).
constexpr u8 INPUT_PORT = 0xA0;
// Output port bits 2-3 and 6-7 read as ones (unused lines, keyboard clock
// and data released).
constexpr u8 OUTPUT_PORT_ONES = 0xCC;

} // namespace

u8 ps2_translate_set2_to_set1(u8 set2) {
    if (set2 < 0x80) return SET2_TO_SET1_LOW[set2];
    // The upper half passes through (responses FA, AA, FE, EE and the E0/E1
    // prefixes), except the two keys whose set 2 codes are above 0x7F:
    // F7 (0x83) and Alt+SysRq (0x84).
    if (set2 == 0x83) return 0x41;
    if (set2 == 0x84) return 0x54;
    return set2;
}

I8042::I8042(IrqLine& kbd_irq, IrqLine& aux_irq, Ps2Device& keyboard, std::function<void(bool)> set_a20,
             std::function<void()> request_reset)
    : m_kbd_irq(kbd_irq), m_aux_irq(aux_irq), m_keyboard(keyboard), m_set_a20(std::move(set_a20)),
      m_request_reset(std::move(request_reset)) {
    m_keyboard.set_output_listener([this] { refill(); });
    reset();
}

void I8042::attach_aux(Ps2Device& aux) {
    m_aux = &aux;
    m_aux->set_output_listener([this] { refill(); });
}

void I8042::reset() {
    // Cold boot: the system flag is clear until the BIOS passes its
    // self-test and sets it in the command byte.
    m_status = STATUS_UNLOCKED;
    m_ram.fill(0);
    m_ram[0] = CTR_KBD_INT | CTR_XLATE;
    // CPU running, A20 enabled (what QEMU and most boards come up with; the
    // BIOS sets the gate explicitly anyway). Callbacks are not called: the
    // machine reads a20() when it resets the memory map.
    m_output_port = OUTPUT_PORT_ONES | OUT_RESET | OUT_A20;
    m_output_buffer = 0;
    m_pending_command = 0;
    m_xlate_break = false;
    m_reply_count = 0;
    m_replies.fill(0);
    m_reply_sources.fill(0);
    update_irqs();
}

u32 I8042::io_read(u16 offset, Width width) {
    if (width != Width::Byte || (offset != DATA && offset != STATUS)) {
        count_ignored();
        return width_mask(width);
    }
    if (offset == STATUS) return m_status;
    return read_data();
}

void I8042::io_write(u16 offset, Width width, u32 value) {
    if (width != Width::Byte || (offset != DATA && offset != STATUS)) {
        count_ignored();
        return;
    }
    if (offset == STATUS)
        write_command(static_cast<u8>(value));
    else
        write_data(static_cast<u8>(value));
}

u8 I8042::read_data() {
    // With OBF clear the latch still holds the last byte: a guest reading
    // too often sees a repeat, as on hardware.
    u8 value = m_output_buffer;
    m_status &= static_cast<u8>(~(STATUS_OBF | STATUS_AUX_OBF | STATUS_TIMEOUT | STATUS_PARITY));
    update_irqs();
    // The next byte follows at once; the IRQ line drops and rises again, so
    // an edge-triggered PIC sees a new interrupt for it.
    refill();
    return value;
}

void I8042::write_data(u8 value) {
    m_status &= static_cast<u8>(~STATUS_A2);
    u8 command = m_pending_command;
    m_pending_command = 0;
    if (command >= 0x60 && command <= 0x7F) {
        if (command == 0x60)
            set_command_byte(value);
        else
            m_ram[command & 0x1F] = value;
        return;
    }
    switch (command) {
    case 0xD1:
        write_output_port(value);
        return;
    case 0xD2:
        reply(value, Source::Keyboard);
        return;
    case 0xD3:
        reply(value, Source::Aux);
        return;
    case 0xD4:
        // Sending to a port re-enables its clock line, as the keyboard
        // case below.
        m_ram[0] &= static_cast<u8>(~CTR_AUX_DISABLE);
        if (m_aux) {
            m_aux->write(value);
            refill();
        } else {
            // No device answers: the controller's transmit timeout.
            reply(0xFE, Source::AuxTimeout);
        }
        return;
    default:
        break;
    }
    // A plain byte to port 0x60 goes to the keyboard. Sending data to the
    // keyboard enables its interface (command byte bit 4), as the 8042
    // firmware does and QEMU models: BIOSes disable the keyboard with 0xAD
    // and then talk to it without 0xAE.
    m_ram[0] &= static_cast<u8>(~CTR_KBD_DISABLE);
    m_keyboard.write(value);
    refill();
}

void I8042::write_command(u8 command) {
    m_status |= STATUS_A2;
    // A new command abandons one still waiting for its data byte.
    m_pending_command = 0;
    if (command >= 0x20 && command <= 0x3F) {
        reply(m_ram[command & 0x1F]);
        return;
    }
    if ((command >= 0x60 && command <= 0x7F) || (command >= 0xD1 && command <= 0xD4)) {
        m_pending_command = command;
        return;
    }
    if (command >= 0xF0) {
        // Pulse output port bits 0-3 low for ~6 us where the command has a
        // 0. Only bit 0 (CPU reset) has an effect worth modelling: 0xFE is
        // the classic reboot.
        if (!(command & 0x01) && m_request_reset) m_request_reset();
        return;
    }
    switch (command) {
    case 0xA4: // password installed? 0xF1 = no
        reply(0xF1);
        break;
    case 0xA7:
        set_command_byte(m_ram[0] | CTR_AUX_DISABLE);
        break;
    case 0xA8:
        set_command_byte(m_ram[0] & static_cast<u8>(~CTR_AUX_DISABLE));
        break;
    case 0xA9: // aux interface test: 0x00 = no clock/data line fault
        reply(0x00);
        break;
    case 0xAA: // controller self-test passed; the firmware sets the system flag
        m_status |= STATUS_SYS;
        reply(0x55);
        break;
    case 0xAB: // keyboard interface test
        reply(0x00);
        break;
    case 0xAD:
        set_command_byte(m_ram[0] | CTR_KBD_DISABLE);
        break;
    case 0xAE:
        set_command_byte(m_ram[0] & static_cast<u8>(~CTR_KBD_DISABLE));
        break;
    case 0xC0:
        reply(INPUT_PORT);
        break;
    case 0xD0: {
        u8 out = static_cast<u8>(m_output_port & ~(OUT_KBD_OBF | OUT_AUX_OBF));
        if (m_status & STATUS_OBF) out |= (m_status & STATUS_AUX_OBF) ? OUT_AUX_OBF : OUT_KBD_OBF;
        reply(out);
        break;
    }
    case 0xDD: // HP Vectra style A20 control, still accepted by later KBCs
        write_output_port(m_output_port & static_cast<u8>(~OUT_A20));
        break;
    case 0xDF:
        write_output_port(m_output_port | OUT_A20);
        break;
    case 0xE0: {
        // Test inputs T0/T1: the keyboard and aux clock lines, high unless
        // the controller holds them low (interface disabled).
        u8 t = 0;
        if (!(m_ram[0] & CTR_KBD_DISABLE)) t |= 0x01;
        if (!(m_ram[0] & CTR_AUX_DISABLE)) t |= 0x02;
        reply(t);
        break;
    }
    default:
        count_ignored();
        break;
    }
}

void I8042::write_output_port(u8 value) {
    bool old_a20 = a20();
    // Bit 0 low holds the CPU in reset. We turn that into a reset request
    // and keep the bit set, as if the firmware had released the line: the
    // CPU restarts (warm) and the controller keeps running.
    bool reset_cpu = !(value & OUT_RESET);
    m_output_port = static_cast<u8>((value & ~(OUT_KBD_OBF | OUT_AUX_OBF)) | OUT_RESET);
    if (a20() != old_a20 && m_set_a20) m_set_a20(a20());
    if (reset_cpu && m_request_reset) m_request_reset();
}

void I8042::set_command_byte(u8 value) {
    m_ram[0] = value;
    // The system flag in the status register mirrors command byte bit 2.
    if (value & CTR_SYS)
        m_status |= STATUS_SYS;
    else
        m_status &= static_cast<u8>(~STATUS_SYS);
    update_irqs();
    refill();
}

void I8042::reply(u8 byte, Source source) {
    if (m_reply_count >= MAX_REPLIES) {
        // A guest issuing commands without ever reading the answers.
        count_ignored();
        return;
    }
    m_replies[m_reply_count] = byte;
    m_reply_sources[m_reply_count] = static_cast<u8>(source);
    ++m_reply_count;
    refill();
}

void I8042::load_output(u8 byte, Source source) {
    m_output_buffer = byte;
    m_status |= STATUS_OBF;
    m_status &= static_cast<u8>(~(STATUS_AUX_OBF | STATUS_TIMEOUT));
    if (source != Source::Keyboard) m_status |= STATUS_AUX_OBF;
    if (source == Source::AuxTimeout) m_status |= STATUS_TIMEOUT;
    update_irqs();
}

void I8042::refill() {
    if (m_status & STATUS_OBF) return;
    if (m_reply_count) {
        u8 byte = m_replies[0];
        auto source = static_cast<Source>(m_reply_sources[0]);
        for (std::size_t i = 1; i < m_reply_count; ++i) {
            m_replies[i - 1] = m_replies[i];
            m_reply_sources[i - 1] = m_reply_sources[i];
        }
        --m_reply_count;
        m_replies[m_reply_count] = 0;
        m_reply_sources[m_reply_count] = 0;
        load_output(byte, source);
        return;
    }
    if (!(m_ram[0] & CTR_KBD_DISABLE)) {
        while (m_keyboard.output_pending()) {
            u8 byte = m_keyboard.read_output();
            if (m_ram[0] & CTR_XLATE) {
                // Translation: F0 is swallowed and marks the next code as
                // a break (bit 7 set), turning F0 1C into 9E.
                if (byte == 0xF0) {
                    m_xlate_break = true;
                    continue;
                }
                byte = ps2_translate_set2_to_set1(byte);
                if (m_xlate_break) byte |= 0x80;
                m_xlate_break = false;
            }
            load_output(byte, Source::Keyboard);
            return;
        }
    }
    if (!(m_ram[0] & CTR_AUX_DISABLE) && m_aux && m_aux->output_pending())
        load_output(m_aux->read_output(), Source::Aux);
}

void I8042::update_irqs() {
    bool full = (m_status & STATUS_OBF) != 0;
    bool aux = (m_status & STATUS_AUX_OBF) != 0;
    m_kbd_irq.set_level(full && !aux && (m_ram[0] & CTR_KBD_INT));
    m_aux_irq.set_level(full && aux && (m_ram[0] & CTR_AUX_INT));
}

void I8042::visit_state(StateVisitor& v) {
    v.section("i8042", 1);
    u8 status = m_status, output_port = m_output_port, pending = m_pending_command, count = m_reply_count;
    auto ram = m_ram;
    auto replies = m_replies;
    auto sources = m_reply_sources;
    bool xlate_break = m_xlate_break;
    u8 output_buffer = m_output_buffer;
    v.field("status", status);
    v.field("ram", ram);
    v.field("output_port", output_port);
    v.field("output_buffer", output_buffer);
    v.field("pending_command", pending);
    v.field("xlate_break", xlate_break);
    v.field("reply_count", count);
    v.field("replies", replies);
    v.field("reply_sources", sources);
    if (!v.is_loading() || !v.ok()) return;
    if (count > MAX_REPLIES) return v.fail("i8042: reply queue longer than its depth");
    for (std::size_t i = 0; i < MAX_REPLIES; ++i)
        if (sources[i] > static_cast<u8>(Source::AuxTimeout) || (i >= count && (sources[i] || replies[i])))
            return v.fail("i8042: bad reply queue");
    bool pending_ok =
        pending == 0 || (pending >= 0x60 && pending <= 0x7F) || (pending >= 0xD1 && pending <= 0xD4);
    if (!pending_ok) return v.fail("i8042: bad pending command");
    // IBF is never set (commands complete at once) and the keylock is open.
    m_status = static_cast<u8>((status & ~STATUS_IBF) | STATUS_UNLOCKED);
    m_ram = ram;
    m_output_port = static_cast<u8>((output_port & ~(OUT_KBD_OBF | OUT_AUX_OBF)) | OUT_RESET);
    m_output_buffer = output_buffer;
    m_pending_command = pending;
    m_xlate_break = xlate_break;
    m_reply_count = count;
    m_replies = replies;
    m_reply_sources = sources;
}

void I8042::post_load() {
    update_irqs();
    if (m_set_a20) m_set_a20(a20());
}

} // namespace vsa
