// SPDX-License-Identifier: GPL-2.0-or-later
// IoApic: an 82093AA-compatible I/O APIC with 24 interrupt inputs, at
// 0xFEC00000 (SeaBIOS's BUILD_IOAPIC_ADDR, ID 0, version 11h, as its MP
// table and ACPI MADT describe it). Reference: Intel 82093AA I/O Advanced
// Programmable Interrupt Controller datasheet (order number 290566):
// IOREGSEL/IOWIN, IOAPICID, IOAPICVER, IOAPICARB, the redirection table.
//
// Wiring (pc_machine.cpp, matching the firmware tables): ISA IRQ n drives
// input n, except IRQ 0 (the PIT), which drives input 2 — SeaBIOS writes
// the "IRQ0 -> INTIN2" interrupt source override (fw_cfg etc/irq0-override)
// into both tables, as QEMU's board has it. The PCI interrupts (PIRQA-D
// through the PIIX3's routing, and the PIIX4's SCI) arrive on the ISA
// input of the IRQ they are routed to; the tables declare IRQ 5, 9, 10 and
// 11 level-triggered, active high.
//
// What it does:
//   - IOREGSEL (offset 00h, the register index) and IOWIN (10h, the
//     selected register, 32-bit); other offsets are ignored (read 0).
//   - Registers: 00h ID (bits 27:24), 01h version (max redirection entry
//     17h, version 11h), 02h arbitration ID (the ID), 10h-3Fh the
//     redirection table, two 32-bit halves per entry: vector, delivery
//     mode, destination mode, delivery status (read-only), polarity, remote
//     IRR (read-only), trigger mode, mask, destination (bits 63:56).
//   - Inputs: the pin level, inverted for active-low entries. Edge-triggered
//     entries latch a rising edge (held while masked, as QEMU's model does,
//     so an edge is not lost to a mask/unmask window) and send it once;
//     level-triggered ones send while asserted and remote IRR is clear,
//     setting remote IRR until the local APIC's EOI broadcast for the
//     vector (eoi()), and send again if the pin is still asserted.
//   - Messages go to the one local APIC when the destination matches it
//     (physical or logical, LocalApic::matches_destination): fixed and
//     lowest priority as vectors, ExtINT as an 8259 request, NMI to the NMI
//     listener; SMI, INIT and reserved modes are dropped and counted.
//   - Delivery status reads 0: messages are delivered at once.
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/io/device.h"
#include "hypervisor/io/irq.h"

#include <array>
#include <functional>
#include <string_view>

namespace vsa {

class LocalApic;

class IoApic final : public Device {
public:
    static constexpr PhysAddr DEFAULT_BASE = 0xFEC0'0000;
    static constexpr u64 MMIO_SIZE = 0x20;
    static constexpr unsigned PINS = 24;
    static constexpr u32 VERSION = ((PINS - 1) << 16) | 0x11;

    static constexpr u32 REG_SELECT = 0x00;
    static constexpr u32 REG_WINDOW = 0x10;

    static constexpr u64 ENTRY_MASKED = 1u << 16;
    static constexpr u64 ENTRY_LEVEL = 1u << 15;
    static constexpr u64 ENTRY_REMOTE_IRR = 1u << 14;
    static constexpr u64 ENTRY_ACTIVE_LOW = 1u << 13;

    explicit IoApic(LocalApic& apic);

    std::string_view name() const override { return "io-apic"; }
    void reset() override;
    u32 mmio_read(u64 offset, Width width) override;
    void mmio_write(u64 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    // Input `pin` (0..23); an out-of-range number gets an unconnected line.
    IrqLine& input(unsigned pin);
    // The local APIC's EOI of a level-triggered vector.
    void eoi(u8 vector);

    void set_nmi_listener(std::function<void()> listener) { m_nmi_listener = std::move(listener); }

    u64 entry(unsigned pin) const { return pin < PINS ? m_entries[pin] : 0; }
    u64 dropped_messages() const { return m_dropped; }

private:
    class Input final : public IrqLine {
    public:
        Input(IoApic& ioapic, unsigned pin) : m_ioapic(ioapic), m_pin(pin) {}
        void set_level(bool high) override { m_ioapic.set_pin(m_pin, high); }

    private:
        IoApic& m_ioapic;
        unsigned m_pin;
    };

    void set_pin(unsigned pin, bool high);
    bool asserted(unsigned pin) const;
    void service(unsigned pin);
    u32 read_register(u8 index) const;
    void write_register(u8 index, u32 value);

    LocalApic& m_apic;
    std::array<Input, PINS> m_inputs;
    NullIrqLine m_null;
    std::function<void()> m_nmi_listener;

    // Saved state.
    u32 m_select{0};
    u32 m_id{0};
    std::array<u64, PINS> m_entries{};
    u32 m_pins{0};  // electrical levels of the inputs
    u32 m_edges{0}; // edges latched for edge-triggered entries, not yet sent

    u64 m_dropped{0};
};

} // namespace vsa
