// SPDX-License-Identifier: GPL-2.0-or-later
// The I/O APIC; see io_apic.h for the model and its wiring.
#include "hw/io_apic.h"

#include "hw/local_apic.h"

namespace vsa {

namespace {

constexpr u8 REG_ID = 0x00;
constexpr u8 REG_VERSION = 0x01;
constexpr u8 REG_ARBITRATION = 0x02;
constexpr u8 REG_TABLE = 0x10;

// Writable bits of a redirection entry: all but delivery status (12) and
// remote IRR (14); bits 17-55 are reserved.
constexpr u64 ENTRY_WRITABLE = 0xFF00'0000'0001'AFFFull;

} // namespace

IoApic::IoApic(LocalApic& apic)
    : m_apic(apic), m_inputs{Input{*this, 0},  Input{*this, 1},  Input{*this, 2},  Input{*this, 3},
                             Input{*this, 4},  Input{*this, 5},  Input{*this, 6},  Input{*this, 7},
                             Input{*this, 8},  Input{*this, 9},  Input{*this, 10}, Input{*this, 11},
                             Input{*this, 12}, Input{*this, 13}, Input{*this, 14}, Input{*this, 15},
                             Input{*this, 16}, Input{*this, 17}, Input{*this, 18}, Input{*this, 19},
                             Input{*this, 20}, Input{*this, 21}, Input{*this, 22}, Input{*this, 23}} {
    reset();
}

void IoApic::reset() {
    // Pin levels are the devices'; everything else starts masked.
    m_select = 0;
    m_id = 0;
    m_entries.fill(ENTRY_MASKED);
    m_edges = 0;
}

IrqLine& IoApic::input(unsigned pin) {
    if (pin >= PINS) return m_null;
    return m_inputs[pin];
}

bool IoApic::asserted(unsigned pin) const {
    bool level = (m_pins >> pin) & 1;
    return (m_entries[pin] & ENTRY_ACTIVE_LOW) ? !level : level;
}

void IoApic::set_pin(unsigned pin, bool high) {
    bool was = asserted(pin);
    if (high)
        m_pins |= 1u << pin;
    else
        m_pins &= ~(1u << pin);
    bool now = asserted(pin);
    if (!(m_entries[pin] & ENTRY_LEVEL) && now && !was) m_edges |= 1u << pin;
    service(pin);
}

void IoApic::service(unsigned pin) {
    u64& e = m_entries[pin];
    if (e & ENTRY_MASKED) return;
    bool level = (e & ENTRY_LEVEL) != 0;
    if (level) {
        if (!asserted(pin) || (e & ENTRY_REMOTE_IRR)) return;
    } else {
        if (!((m_edges >> pin) & 1)) return;
        m_edges &= ~(1u << pin);
    }
    u8 destination = static_cast<u8>(e >> 56);
    bool logical = (e >> 11) & 1;
    unsigned mode = (e >> 8) & 7;
    u8 vector = static_cast<u8>(e & 0xFF);
    if (!m_apic.matches_destination(destination, logical)) {
        ++m_dropped; // addressed to a processor this board does not have
        return;
    }
    switch (mode) {
    case 0: // fixed
    case 1: // lowest priority
        if (level) e |= ENTRY_REMOTE_IRR;
        m_apic.deliver(vector, level);
        break;
    case 7: // ExtINT: the 8259 supplies the vector
        m_apic.deliver_extint();
        break;
    case 4:
        if (m_nmi_listener) m_nmi_listener();
        break;
    default: // SMI, INIT, reserved
        ++m_dropped;
        break;
    }
}

void IoApic::eoi(u8 vector) {
    for (unsigned pin = 0; pin < PINS; ++pin) {
        u64& e = m_entries[pin];
        if ((e & ENTRY_REMOTE_IRR) && static_cast<u8>(e & 0xFF) == vector) {
            e &= ~ENTRY_REMOTE_IRR;
            service(pin); // still asserted: the next message
        }
    }
}

u32 IoApic::read_register(u8 index) const {
    switch (index) {
    case REG_ID:
    case REG_ARBITRATION:
        return m_id;
    case REG_VERSION:
        return VERSION;
    default:
        break;
    }
    if (index >= REG_TABLE && index < REG_TABLE + 2 * PINS) {
        u64 e = m_entries[(index - REG_TABLE) / 2];
        return (index & 1) ? static_cast<u32>(e >> 32) : static_cast<u32>(e);
    }
    return 0;
}

void IoApic::write_register(u8 index, u32 value) {
    if (index == REG_ID) {
        m_id = value & 0x0F00'0000u;
        return;
    }
    if (index < REG_TABLE || index >= REG_TABLE + 2 * PINS) {
        count_ignored(); // version, arbitration: read-only; reserved
        return;
    }
    unsigned pin = (index - REG_TABLE) / 2;
    u64& e = m_entries[pin];
    u64 keep = e & ENTRY_REMOTE_IRR;
    u64 written =
        (index & 1) ? ((u64(value) << 32) | (e & 0xFFFF'FFFFu)) : ((e & ~u64(0xFFFF'FFFFu)) | value);
    e = (written & ENTRY_WRITABLE) | keep;
    // Remote IRR only means something for a level-triggered entry.
    if (!(e & ENTRY_LEVEL)) e &= ~ENTRY_REMOTE_IRR;
    service(pin); // an unmask of an asserted or latched input sends it now
}

u32 IoApic::mmio_read(u64 offset, Width width) {
    if (offset == REG_SELECT) return m_select & width_mask(width);
    if (offset == REG_WINDOW && width == Width::Dword) return read_register(static_cast<u8>(m_select));
    count_ignored();
    return 0;
}

void IoApic::mmio_write(u64 offset, Width width, u32 value) {
    if (offset == REG_SELECT) {
        m_select = value & 0xFF;
        return;
    }
    if (offset == REG_WINDOW && width == Width::Dword) {
        write_register(static_cast<u8>(m_select), value);
        return;
    }
    count_ignored();
}

void IoApic::visit_state(StateVisitor& v) {
    v.section("io-apic", 1);
    v.field("select", m_select);
    v.field("id", m_id);
    v.field("entries", m_entries);
    v.field("pins", m_pins);
    v.field("edges", m_edges);
}

void IoApic::post_load() {
    m_select &= 0xFF;
    m_id &= 0x0F00'0000u;
    u32 all = (1u << PINS) - 1;
    m_pins &= all;
    m_edges &= all;
    for (auto& e : m_entries)
        e &= ENTRY_WRITABLE | ENTRY_REMOTE_IRR;
    // Nothing is sent here: the local APIC's loaded IRR already holds what
    // was in flight, and devices re-drive their lines in their post_load.
}

} // namespace vsa
