// SPDX-License-Identifier: GPL-2.0-or-later
// Piix3Isa: function 0 of the Intel 82371SB PIIX3, the PCI-to-ISA bridge
// (8086:7000), at PCI 01.0. Reference: 82371FB/SB PIIX/PIIX3 datasheet
// (order number 290550), section 2.2 "PCI to ISA bridge configuration
// registers", 4.1.17 (ELCR) and 4.1.20 (reset control register).
//
// What it does:
//   - PIRQ route control 0x60..0x63: routes the four PCI interrupt lines
//     (reported by PciBus through the PIRQ sink this bridge installs) to
//     ISA IRQs. Bit 7 disables a route; IRQ 0, 1, 2, 8 and 13 are reserved
//     and route nowhere. Several PIRQs on one IRQ are wired-OR, and
//     re-routing a PIRQ while it is asserted moves its level from the old
//     IRQ to the new one. The ISA-IRQ callback receives the PCI side's
//     level of an IRQ only; the machine ORs it with any ISA device on the
//     same input (in practice the BIOS routes PCI only to free IRQs).
//   - ELCR 0x4D0/0x4D1: edge/level select of the 8259 inputs, handed to
//     the machine through a callback (the PICs live elsewhere). IRQ 0, 1,
//     2, 8 and 13 are always edge: those bits read 0.
//   - Reset control 0xCF9: bit 1 picks a hard (1) or soft reset, a write
//     with bit 2 (RCPU) set requests it through a callback.
//   - The other function-0 registers (ISA clock, X-bus chip select, top of
//     memory, motherboard IRQ and DMA routes, APIC base, SMI/power
//     management control) are storage with their reset values: nothing in
//     this machine interprets them.
//
// Port decoding: the ELCR is at 0x4D0 (map_ports). 0xCF9 lies inside the
// range of configuration mechanism #1; the host bridge claims only dword
// cycles at 0xCF8 and the PIIX3 positively decodes the byte at 0xCF9. Our
// PciBus owns 0xCF8..0xCFF, so it must forward the cycles it does not
// claim to this device with the absolute port number (io_read(0xCF9, ...)).
// map_reset_control() maps 0xCF9 directly for a bus without PciBus there.
//
// Left out: the PIIX3 DMA and interrupt controllers, timers and RTC (they
// are the separate 8237/8259/8254/MC146818 models), the APIC chip select
// (no I/O APIC in this issue), SMI generation and the power management
// timers (the PIIX3 has no ACPI; stored only), the USB function.
#pragma once

#include "hypervisor/io/pci.h"

#include <array>
#include <functional>

namespace vsa {

class Piix3Isa final : public PciDevice {
public:
    static constexpr u8 PIRQRC = 0x60;
    static constexpr u8 PIRQ_DISABLE = 0x80;
    static constexpr Port ELCR1 = 0x4D0;
    static constexpr Port ELCR2 = 0x4D1;
    static constexpr Port RESET_CONTROL = 0xCF9;
    static constexpr u8 RC_SYSTEM_RESET = 1 << 1;
    static constexpr u8 RC_RESET_CPU = 1 << 2;
    // Edge/level control bits that may be set (IRQ 0, 1, 2, 8, 13 are
    // always edge).
    static constexpr u16 ELCR_MASK = 0xDEF8;

    using IsaIrqSink = std::function<void(unsigned isa_irq, bool level)>;
    using ElcrSink = std::function<void(u16 elcr)>;
    // hard = bit 1 of the reset control register (a full system reset,
    // PCIRST#) rather than a CPU INIT.
    using ResetSink = std::function<void(bool hard)>;

    // Installs itself as `bus`'s PIRQ sink (it does not attach itself: the
    // machine places it at 01.0).
    Piix3Isa(PciBus& bus, IsaIrqSink set_isa_irq, ElcrSink set_elcr, ResetSink request_reset);

    std::string_view name() const override { return "piix3-isa"; }
    void reset() override;
    void visit_state(StateVisitor& v) override;
    void post_load() override;

    // Absolute port numbers (mapped with offset_base = base).
    u32 io_read(u16 port, Width width) override;
    void io_write(u16 port, Width width, u32 value) override;

    bool map_ports(IoBus& io);
    bool map_reset_control(IoBus& io);

    u16 elcr() const { return m_elcr; }
    // The PCI side's level of ISA IRQ `irq` (for tests and the machine).
    bool isa_irq_level(unsigned irq) const { return irq < 16 && m_isa_level[irq]; }

    // The PIRQ sink (public so a machine with a different bus wiring can
    // call it directly).
    void pirq_changed(unsigned pirq, bool level);

protected:
    void config_written(u8 offset, Width width) override;

private:
    void update_isa_irqs();
    void write_elcr(unsigned index, u8 value);

    IsaIrqSink m_set_isa_irq;
    ElcrSink m_set_elcr;
    ResetSink m_request_reset;
    std::array<u8, 4> m_pirq_level{};
    std::array<bool, 16> m_isa_level{};
    u16 m_elcr{0};
    u8 m_reset_control{0};
};

} // namespace vsa
