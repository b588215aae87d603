// SPDX-License-Identifier: GPL-2.0-or-later
#include "hw/piix3_isa.h"

namespace vsa {

namespace {
struct RegisterDefault {
    u8 offset;
    u8 value;
    u8 write_mask;
};
// Datasheet 2.2 reset values. The route registers default to "disabled".
constexpr RegisterDefault REGISTERS[] = {
    {0x4C, 0x4D, 0x7F}, // IORT: ISA I/O recovery timer
    {0x4E, 0x03, 0xFF}, // XBCS: X-bus chip select
    {0x4F, 0x00, 0x03}, //
    {0x60, 0x80, 0x8F}, // PIRQRC[A..D]
    {0x61, 0x80, 0x8F}, //
    {0x62, 0x80, 0x8F}, //
    {0x63, 0x80, 0x8F}, //
    {0x69, 0x02, 0xFE}, // TOM: top of memory
    {0x6A, 0x00, 0xD7}, // MSTAT: miscellaneous status
    {0x6B, 0x00, 0x80}, //
    {0x70, 0x80, 0xCF}, // MBIRQ0: motherboard device IRQ route
    {0x71, 0x80, 0xCF}, // MBIRQ1
    {0x76, 0x0C, 0x8F}, // MBDMA0
    {0x77, 0x0C, 0x8F}, // MBDMA1
    {0x78, 0x02, 0xFF}, // PCSC: programmable chip select
    {0x79, 0x00, 0xFF}, //
    {0x80, 0x00, 0x7F}, // APICBASE
    {0x82, 0x00, 0x0F}, // DLC: deterministic latency control
    {0xA0, 0x08, 0x1F}, // SMICNTL
    {0xA2, 0x00, 0xFF}, // SMIEN
    {0xA3, 0x00, 0x01}, //
    {0xA4, 0x00, 0xFF}, // SEE: system event enable
    {0xA5, 0x00, 0xFF}, //
    {0xA6, 0x00, 0xFF}, //
    {0xA7, 0x00, 0xE0}, //
    {0xA8, 0x0F, 0xFF}, // FTMR: fast off timer
    {0xAA, 0x00, 0xFF}, // SMIREQ
    {0xAB, 0x00, 0x01}, //
    {0xAC, 0x00, 0xFF}, // CTLTMR
    {0xAE, 0x00, 0xFF}, // CTHTMR
};

// PIRQ route values that name no IRQ (datasheet: "reserved").
constexpr bool routable(u8 irq) {
    return irq >= 3 && irq != 8 && irq != 13 && irq <= 15;
}
} // namespace

Piix3Isa::Piix3Isa(PciBus& bus, IsaIrqSink set_isa_irq, ElcrSink set_elcr, ResetSink request_reset)
    : PciDevice(PciId{.vendor = 0x8086,
                      .device = 0x7000,
                      .class_code = 0x06,
                      .subclass = 0x01,
                      .prog_if = 0x00,
                      .revision = 0x00}),
      m_set_isa_irq(std::move(set_isa_irq)), m_set_elcr(std::move(set_elcr)),
      m_request_reset(std::move(request_reset)) {
    // Multi-function: the IDE (and USB) functions follow at 01.1/01.2.
    config_byte(pci::HEADER_TYPE) = 0x80;
    // I/O, memory and bus master: the bridge always forwards ISA cycles.
    set_config_word(pci::COMMAND, 0x0007);
    set_config_word(pci::STATUS, 0x0200);
    for (auto const& r : REGISTERS) {
        config_byte(r.offset) = r.value;
        set_write_mask(r.offset, r.write_mask);
    }
    snapshot_reset_state();
    bus.set_pirq_sink([this](unsigned pirq, bool level) { pirq_changed(pirq, level); });
}

void Piix3Isa::reset() {
    PciDevice::reset();
    m_reset_control = 0;
    m_elcr = 0;
    if (m_set_elcr) m_set_elcr(m_elcr);
    // PIRQ input levels belong to the PCI devices (they are reset too and
    // report through the bus); the routes are disabled now, so nothing
    // reaches the ISA side.
    update_isa_irqs();
}

void Piix3Isa::pirq_changed(unsigned pirq, bool level) {
    if (pirq >= m_pirq_level.size()) return;
    m_pirq_level[pirq] = level ? 1 : 0;
    update_isa_irqs();
}

void Piix3Isa::update_isa_irqs() {
    std::array<bool, 16> level{};
    for (unsigned pirq = 0; pirq < 4; ++pirq) {
        u8 route = config_byte(static_cast<u8>(PIRQRC + pirq));
        if ((route & PIRQ_DISABLE) || !routable(route & 0x0F)) continue;
        if (m_pirq_level[pirq]) level[route & 0x0F] = true;
    }
    // Drop levels before raising others, so a PIRQ moved from one IRQ to
    // another never shows on both at once.
    for (int pass = 0; pass < 2; ++pass)
        for (unsigned irq = 0; irq < 16; ++irq) {
            if (level[irq] == m_isa_level[irq] || level[irq] != (pass == 1)) continue;
            m_isa_level[irq] = level[irq];
            if (m_set_isa_irq) m_set_isa_irq(irq, level[irq]);
        }
}

void Piix3Isa::config_written(u8 offset, Width width) {
    unsigned end = offset + width_bytes(width);
    if (offset < PIRQRC + 4 && end > PIRQRC) {
        for (unsigned i = 0; i < 4; ++i) {
            u8 route = config_byte(static_cast<u8>(PIRQRC + i));
            // A reserved IRQ number routes nowhere; the value is kept (it
            // reads back) but counted, since a BIOS should not write it.
            if (!(route & PIRQ_DISABLE) && !routable(route & 0x0F) && offset <= PIRQRC + i &&
                end > PIRQRC + i)
                count_ignored();
        }
        update_isa_irqs();
    }
}

void Piix3Isa::write_elcr(unsigned index, u8 value) {
    u16 bits = static_cast<u16>(value) << (8 * index);
    u16 keep = index == 0 ? 0xFF00 : 0x00FF;
    u16 elcr = static_cast<u16>(((m_elcr & keep) | bits) & ELCR_MASK);
    if ((bits & ~ELCR_MASK & ~keep) != 0) count_ignored();
    m_elcr = elcr;
    if (m_set_elcr) m_set_elcr(m_elcr);
}

u32 Piix3Isa::io_read(u16 port, Width width) {
    switch (port) {
    case ELCR1:
        if (width == Width::Word) return m_elcr;
        if (width == Width::Byte) return m_elcr & 0xFF;
        break;
    case ELCR2:
        if (width == Width::Byte) return m_elcr >> 8;
        break;
    case RESET_CONTROL:
        if (width == Width::Byte) return m_reset_control;
        break;
    default:
        break;
    }
    count_ignored();
    return width_mask(width);
}

void Piix3Isa::io_write(u16 port, Width width, u32 value) {
    switch (port) {
    case ELCR1:
        if (width == Width::Word) {
            write_elcr(0, static_cast<u8>(value));
            write_elcr(1, static_cast<u8>(value >> 8));
            return;
        }
        if (width == Width::Byte) return write_elcr(0, static_cast<u8>(value));
        break;
    case ELCR2:
        if (width == Width::Byte) return write_elcr(1, static_cast<u8>(value));
        break;
    case RESET_CONTROL:
        if (width != Width::Byte) break;
        // Only the reset type is kept: RCPU is a command bit (reading it
        // back as 1 would make Linux's read-modify-write sequence fire on
        // its first write).
        m_reset_control = static_cast<u8>(value & RC_SYSTEM_RESET);
        if ((value & RC_RESET_CPU) && m_request_reset) m_request_reset((value & RC_SYSTEM_RESET) != 0);
        return;
    default:
        break;
    }
    count_ignored();
}

bool Piix3Isa::map_ports(IoBus& io) {
    return io.map(ELCR1, 2, *this, WIDTH_8_16, ELCR1);
}

bool Piix3Isa::map_reset_control(IoBus& io) {
    return io.map(RESET_CONTROL, 1, *this, WIDTH_8, RESET_CONTROL);
}

void Piix3Isa::visit_state(StateVisitor& v) {
    v.section("piix3-isa", 1);
    visit_pci_state(v);
    v.field("pirq_level", m_pirq_level);
    v.field("elcr", m_elcr);
    v.field("reset_control", m_reset_control);
    if (v.is_loading() && v.ok()) {
        m_elcr &= ELCR_MASK;
        m_reset_control &= RC_SYSTEM_RESET;
        for (auto& l : m_pirq_level)
            l = l ? 1 : 0;
    }
}

void Piix3Isa::post_load() {
    PciDevice::post_load();
    if (m_set_elcr) m_set_elcr(m_elcr);
    update_isa_irqs();
}

} // namespace vsa
