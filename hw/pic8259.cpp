// SPDX-License-Identifier: GPL-2.0-or-later
// Cascaded Intel 8259A pair; see pic8259.h for the model and what is left out.
#include "hw/pic8259.h"

namespace vsa {

namespace {

constexpr unsigned MASTER = 0;
constexpr unsigned SLAVE = 1;

// ICW1 / OCW bits (8259A "Programming the 8259A").
constexpr u8 ICW1 = 0x10;
constexpr u8 ICW1_IC4 = 0x01;
constexpr u8 ICW1_SNGL = 0x02;
constexpr u8 ICW1_LTIM = 0x08;
constexpr u8 OCW3 = 0x08;
constexpr u8 OCW3_RIS = 0x01;
constexpr u8 OCW3_RR = 0x02;
constexpr u8 OCW3_P = 0x04;
constexpr u8 OCW3_SMM = 0x20;
constexpr u8 OCW3_ESMM = 0x40;
constexpr u8 ICW4_UPM = 0x01;
constexpr u8 ICW4_AEOI = 0x02;
constexpr u8 ICW4_SFNM = 0x10;
constexpr u8 ICW4_BITS = 0x1F;

constexpr u8 SPURIOUS_IR = 7;

} // namespace

Pic8259::Pic8259(IrqLine& intr)
    : m_intr(intr), m_inputs{Input{*this, 0},  Input{*this, 1},  Input{*this, 2},  Input{*this, 3},
                             Input{*this, 4},  Input{*this, 5},  Input{*this, 6},  Input{*this, 7},
                             Input{*this, 8},  Input{*this, 9},  Input{*this, 10}, Input{*this, 11},
                             Input{*this, 12}, Input{*this, 13}, Input{*this, 14}, Input{*this, 15}} {
    reset();
}

void Pic8259::reset() {
    // Power-on contents are undefined until ICW1-4; we start as a PC BIOS
    // leaves the pair (vectors 08h/70h, cascade on IR2, 8086 mode) but with
    // every request masked, so nothing reaches the CPU before the guest
    // programs the chips. Input pin levels are the devices', not ours.
    for (unsigned i = 0; i < 2; ++i) {
        u8 pins = m_chips[i].pins;
        m_chips[i] = Chip{};
        m_chips[i].pins = pins;
        m_chips[i].icw4 = ICW4_UPM;
    }
    m_chips[MASTER].vector_base = 0x08;
    m_chips[MASTER].icw3 = 1u << CASCADE_IR;
    m_chips[SLAVE].vector_base = 0x70;
    m_chips[SLAVE].icw3 = CASCADE_IR;
    m_elcr = 0;
    update(true);
}

IrqLine& Pic8259::input(unsigned irq) {
    if (irq == CASCADE_IR) irq = 9; // the AT bus's IRQ2 pin is wired to IR9
    if (irq >= IRQS) return m_unconnected;
    return m_inputs[irq];
}

void Pic8259::set_elcr(u16 level_mask) {
    m_elcr = level_mask & ELCR_WRITABLE;
    for (unsigned i = 0; i < 2; ++i) {
        Chip& c = m_chips[i];
        c.level_mask = static_cast<u8>(m_elcr >> (8 * i));
        // A latched edge means nothing to a level input; the pin rules.
        c.edge_irr &= static_cast<u8>(~c.level_mask);
    }
    update();
}

u8 Pic8259::chip_irr(Chip const& c) {
    u8 level = level_bits(c);
    return static_cast<u8>((c.edge_irr & ~level) | (c.pins & level));
}

u8 Pic8259::irr(unsigned chip) const {
    return chip_irr(m_chips[chip & 1]);
}

void Pic8259::set_pin(Chip& c, unsigned ir, bool high) {
    u8 bit = static_cast<u8>(1u << ir);
    // The edge sense latch: a low-to-high transition requests service.
    if (high && !(c.pins & bit) && !(level_bits(c) & bit)) c.edge_irr |= bit;
    if (high)
        c.pins |= bit;
    else
        c.pins &= static_cast<u8>(~bit);
}

void Pic8259::set_input(unsigned irq, bool high) {
    if (irq >= IRQS) return;
    set_pin(m_chips[irq / 8], irq % 8, high);
    update();
}

// The IR of highest priority among `bits`, or -1.
int Pic8259::highest(u8 bits, u8 lowest) {
    for (unsigned i = 1; i <= 8; ++i) {
        unsigned ir = (lowest + i) & 7;
        if (bits & (1u << ir)) return static_cast<int>(ir);
    }
    return -1;
}

bool Pic8259::cascaded(unsigned ir) const {
    Chip const& m = m_chips[MASTER];
    return ir == CASCADE_IR && !m.single && (m.icw3 & (1u << ir));
}

// The priority resolver: the IR this chip asks the CPU (or its master) to
// service, or -1 when INT stays low.
int Pic8259::request(unsigned chip) const {
    Chip const& c = m_chips[chip];
    int ir = highest(static_cast<u8>(chip_irr(c) & ~c.imr), c.lowest);
    if (ir < 0) return -1;
    u8 in_service = c.isr;
    // Special mask mode: a masked level no longer blocks lower ones.
    if (c.special_mask) in_service &= static_cast<u8>(~c.imr);
    // Special fully nested mode: a slave already in service may still be
    // interrupted by a higher request of its own, which arrives on the same IR.
    if (chip == MASTER && (c.icw4 & ICW4_SFNM) && !c.single) in_service &= static_cast<u8>(~c.icw3);
    int busy = highest(in_service, c.lowest);
    if (busy >= 0 && rank(static_cast<unsigned>(busy), c.lowest) <= rank(static_cast<unsigned>(ir), c.lowest))
        return -1;
    return ir;
}

void Pic8259::intack(Chip& c, unsigned ir) {
    u8 bit = static_cast<u8>(1u << ir);
    c.edge_irr &= static_cast<u8>(~bit);
    if (c.icw4 & ICW4_AEOI) {
        // Automatic EOI at the end of INTA; rotation makes the IR lowest.
        if (c.rotate_aeoi) c.lowest = static_cast<u8>(ir);
    } else {
        c.isr |= bit;
    }
}

bool Pic8259::intr_pending() const {
    return request(MASTER) >= 0;
}

u8 Pic8259::acknowledge() {
    Chip& master = m_chips[MASTER];
    int ir = request(MASTER);
    if (ir < 0) {
        // The request went away before INTA: the 8259A answers IR7 without
        // setting ISR (datasheet, "Interrupt Sequence").
        return static_cast<u8>(master.vector_base | SPURIOUS_IR);
    }
    intack(master, static_cast<unsigned>(ir));
    u8 vector;
    if (cascaded(static_cast<unsigned>(ir))) {
        // The INTA sequence ends the slave's INT pulse; update() raises it
        // again (a fresh edge on IR2) if the slave still has a request, so a
        // request unblocked by special mask mode is not lost.
        master.pins &= static_cast<u8>(~(1u << CASCADE_IR));
        Chip& slave = m_chips[SLAVE];
        int sir = request(SLAVE);
        if (sir < 0) {
            // Spurious IRQ15: the master's IR2 stays in service, as on the
            // real pair; Linux EOIs the master for it.
            vector = static_cast<u8>(slave.vector_base | SPURIOUS_IR);
        } else {
            intack(slave, static_cast<unsigned>(sir));
            vector = static_cast<u8>(slave.vector_base + sir);
            update();
            if (m_ack_listener) m_ack_listener(8 + static_cast<unsigned>(sir));
            return vector;
        }
    } else {
        vector = static_cast<u8>(master.vector_base + ir);
    }
    update();
    if (m_ack_listener && !cascaded(static_cast<unsigned>(ir))) m_ack_listener(static_cast<unsigned>(ir));
    return vector;
}

void Pic8259::write_ocw2(Chip& c, u8 value) {
    unsigned level = value & 7;
    int top = highest(c.isr, c.lowest);
    switch (value >> 5) {
    case 0:
        c.rotate_aeoi = false;
        break;
    case 1: // non-specific EOI
        if (top >= 0) c.isr &= static_cast<u8>(~(1u << top));
        break;
    case 2:
        break; // no operation
    case 3:
        c.isr &= static_cast<u8>(~(1u << level));
        break;
    case 4:
        c.rotate_aeoi = true;
        break;
    case 5: // rotate on non-specific EOI
        if (top >= 0) {
            c.isr &= static_cast<u8>(~(1u << top));
            c.lowest = static_cast<u8>(top);
        }
        break;
    case 6:
        c.lowest = static_cast<u8>(level);
        break; // set priority
    case 7:    // rotate on specific EOI
        c.isr &= static_cast<u8>(~(1u << level));
        c.lowest = static_cast<u8>(level);
        break;
    }
}

void Pic8259::write(unsigned chip, bool a0, u8 value) {
    Chip& c = m_chips[chip];
    if (!a0) {
        if (value & ICW1) {
            // ICW1 starts initialization: edge latches and IMR cleared, IR7
            // lowest priority, IRR selected for reads, special mask off, and
            // without IC4 every ICW4 function is zero.
            c.edge_irr = 0;
            c.isr = 0;
            c.imr = 0;
            c.lowest = 7;
            c.special_mask = false;
            c.read_isr = false;
            c.poll = false;
            c.rotate_aeoi = false;
            c.ltim = value & ICW1_LTIM;
            c.single = value & ICW1_SNGL;
            c.icw4_needed = value & ICW1_IC4;
            if (!c.icw4_needed) c.icw4 = 0;
            c.init_step = 2;
        } else if (value & OCW3) {
            if (value & OCW3_P) c.poll = true;
            if (value & OCW3_RR) c.read_isr = value & OCW3_RIS;
            if (value & OCW3_ESMM) c.special_mask = value & OCW3_SMM;
        } else {
            write_ocw2(c, value);
        }
        return;
    }
    switch (c.init_step) {
    case 2:
        c.vector_base = value & 0xF8; // T7-T3 in 8086 mode
        c.init_step = c.single ? (c.icw4_needed ? 4 : 0) : 3;
        break;
    case 3:
        c.icw3 = value;
        c.init_step = c.icw4_needed ? 4 : 0;
        break;
    case 4:
        c.icw4 = value & ICW4_BITS;
        if (!(c.icw4 & ICW4_UPM)) count_ignored(); // MCS-80 mode is not modelled
        c.init_step = 0;
        break;
    default:
        c.imr = value;
        break; // OCW1
    }
}

u8 Pic8259::read(unsigned chip, bool a0) {
    Chip& c = m_chips[chip];
    if (c.poll) {
        // Poll command: this read is the interrupt acknowledge.
        c.poll = false;
        int ir = request(chip);
        if (ir < 0) return 0;
        intack(c, static_cast<unsigned>(ir));
        return static_cast<u8>(0x80 | ir);
    }
    if (a0) return c.imr;
    return c.read_isr ? c.isr : chip_irr(c);
}

u32 Pic8259::io_read(u16 offset, Width width) {
    u32 high = width_mask(width) & ~0xFFu;
    switch (offset) {
    case MASTER_COMMAND:
    case MASTER_DATA:
    case SLAVE_COMMAND:
    case SLAVE_DATA: {
        u8 value = read(offset >= SLAVE_COMMAND ? SLAVE : MASTER, offset & 1);
        update();
        return high | value;
    }
    default:
        return Device::io_read(offset, width);
    }
}

void Pic8259::io_write(u16 offset, Width width, u32 value) {
    switch (offset) {
    case MASTER_COMMAND:
    case MASTER_DATA:
    case SLAVE_COMMAND:
    case SLAVE_DATA:
        write(offset >= SLAVE_COMMAND ? SLAVE : MASTER, offset & 1, static_cast<u8>(value));
        update();
        break;
    default:
        Device::io_write(offset, width, value);
    }
}

void Pic8259::update(bool force) {
    // The slave's INT pin is the master's IR2 input.
    set_pin(m_chips[MASTER], CASCADE_IR, request(SLAVE) >= 0);
    bool level = request(MASTER) >= 0;
    if (force || level != m_intr_level) {
        m_intr_level = level;
        m_intr.set_level(level);
    }
}

void Pic8259::visit_chip(StateVisitor& v, Chip& c) {
    v.field("pins", c.pins);
    v.field("edge_irr", c.edge_irr);
    v.field("isr", c.isr);
    v.field("imr", c.imr);
    v.field("ltim", c.ltim);
    v.field("vector_base", c.vector_base);
    v.field("icw3", c.icw3);
    v.field("icw4", c.icw4);
    v.field("init_step", c.init_step);
    v.field("single", c.single);
    v.field("icw4_needed", c.icw4_needed);
    v.field("read_isr", c.read_isr);
    v.field("poll", c.poll);
    v.field("special_mask", c.special_mask);
    v.field("rotate_aeoi", c.rotate_aeoi);
    v.field("lowest", c.lowest);
}

void Pic8259::visit_state(StateVisitor& v) {
    v.section("pic8259", 1);
    auto chips = m_chips;
    u16 elcr = m_elcr;
    visit_chip(v, chips[MASTER]);
    visit_chip(v, chips[SLAVE]);
    v.field("elcr", elcr);
    if (!v.is_loading()) return;
    for (auto const& c : chips) {
        bool step_ok = c.init_step == 0 || (c.init_step >= 2 && c.init_step <= 4);
        if (!step_ok || c.lowest > 7 || c.icw4 > ICW4_BITS || (c.vector_base & 7))
            v.fail("pic8259: register state out of range");
    }
    if (elcr & ~ELCR_WRITABLE) v.fail("pic8259: reserved ELCR bits set");
    if (!v.ok()) return;
    m_chips = chips;
    m_elcr = elcr;
    for (unsigned i = 0; i < 2; ++i)
        m_chips[i].level_mask = static_cast<u8>(m_elcr >> (8 * i));
}

void Pic8259::post_load() {
    update(true);
}

} // namespace vsa
