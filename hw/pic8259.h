// SPDX-License-Identifier: GPL-2.0-or-later
// The PC/AT's cascaded pair of Intel 8259A programmable interrupt
// controllers as one device: the master at 0x20/0x21 takes IRQ 0-7, the
// slave at 0xA0/0xA1 takes IRQ 8-15 and drives the master's IR2.
//
// Datasheet: Intel 8259A Programmable Interrupt Controller (order 231468):
// "Interrupt Sequence", "Programming the 8259A" (ICW1-4, OCW1-3), "Fully
// Nested Mode", "Automatic Rotation", "Special Mask Mode", "Poll Command",
// "Edge and Level Triggered Modes", "The Special Fully Nested Mode",
// "Cascade Mode". ELCR: Intel PIIX3 datasheet, ports 4D0h/4D1h.
//
// Edge-triggered inputs latch a rising edge in IRR until the INTA cycle, so
// a device may pulse() its line (raise then lower) - the datasheet asks the
// real pin to stay high until INTA, which an instantaneous pulse cannot do.
// Level-triggered inputs (ICW1 LTIM or the ELCR) follow the pin. The
// slave's INT feeds the master's IR2 like any input (edge-triggered unless
// LTIM): a slave request withdrawn before INTA leaves IR2 latched on the
// master, and the INTA gets the slave's IR7 - the spurious IRQ15 guests
// check for. The INTA cycle ends the slave's INT pulse, so a request the
// slave still holds afterwards (special mask mode, SFNM) is a fresh edge.
//
// Deliberately left out: MCS-80/85 mode (ICW4 uPM=0; vectors are always
// 8086 style), buffered mode (BUF, M/S stored only), and the slave's
// cascade ID compare (the slave always answers for IR2: there is one slave).
// IRQ2 of the AT bus is routed to the slave's IR1, so input(2) is input(9).
//
// Mapping, with absolute port numbers as offsets:
//   io.map(0x20, 2, pic, WIDTH_8, 0x20);
//   io.map(0xA0, 2, pic, WIDTH_8, 0xA0);
#pragma once

#include "hypervisor/io/device.h"
#include "hypervisor/io/irq.h"

#include <array>
#include <functional>

namespace vsa {

class Pic8259 final : public Device, public InterruptController {
public:
    static constexpr u16 MASTER_COMMAND = 0x20;
    static constexpr u16 MASTER_DATA = 0x21;
    static constexpr u16 SLAVE_COMMAND = 0xA0;
    static constexpr u16 SLAVE_DATA = 0xA1;
    static constexpr unsigned IRQS = 16;
    static constexpr unsigned CASCADE_IR = 2;
    // IRQ 0, 1, 2, 8 and 13 are always edge-triggered: ELCR bits reserved
    // (PIIX3 "ELCR1/ELCR2").
    static constexpr u16 ELCR_WRITABLE = 0xDEF8;

    // `intr` is the CPU's INTR pin: the machine wakes a halted CPU on it.
    explicit Pic8259(IrqLine& intr);

    std::string_view name() const override { return "pic8259"; }
    void reset() override;
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    bool intr_pending() const override;
    u8 acknowledge() override;
    // Called after an INTA cycle with the IRQ (0..15) it serviced; the
    // machine uses it to deliver timer ticks that arrived while the
    // previous one was still pending (see PcMachine's tick backlog).
    void set_ack_listener(std::function<void(unsigned irq)> listener) {
        m_ack_listener = std::move(listener);
    }

    // The request input for IRQ 0-15 (an out-of-range number gets an
    // unconnected line).
    IrqLine& input(unsigned irq);

    // Edge/level control, owned by the PIIX3 at 0x4D0/0x4D1: bit n set makes
    // IRQ n level-triggered.
    void set_elcr(u16 level_mask);
    u16 elcr() const { return m_elcr; }

    // Register views for tests and the debugger (0 = master, 1 = slave).
    u8 irr(unsigned chip) const;
    u8 isr(unsigned chip) const { return m_chips[chip & 1].isr; }
    u8 imr(unsigned chip) const { return m_chips[chip & 1].imr; }

private:
    struct Chip {
        u8 pins{0};     // current input levels
        u8 edge_irr{0}; // edges latched for edge-triggered inputs
        u8 isr{0};
        u8 imr{0xFF};
        u8 level_mask{0}; // from the ELCR
        bool ltim{false}; // ICW1: whole chip level-triggered
        u8 vector_base{0};
        u8 icw3{0};
        u8 icw4{0};
        u8 init_step{0}; // 0 operational, else the ICW expected next (2, 3, 4)
        bool single{false};
        bool icw4_needed{false};
        bool read_isr{false};
        bool poll{false};
        bool special_mask{false};
        bool rotate_aeoi{false};
        u8 lowest{7}; // the IR of lowest priority (rotation)
    };

    class Input final : public IrqLine {
    public:
        Input(Pic8259& pic, unsigned irq) : m_pic(pic), m_irq(irq) {}
        void set_level(bool high) override { m_pic.set_input(m_irq, high); }

    private:
        Pic8259& m_pic;
        unsigned m_irq;
    };

    static u8 level_bits(Chip const& c) { return c.ltim ? 0xFF : c.level_mask; }
    static u8 chip_irr(Chip const& c);
    static void set_pin(Chip& c, unsigned ir, bool high);
    static int highest(u8 bits, u8 lowest);
    static unsigned rank(unsigned ir, u8 lowest) { return (ir - lowest - 1) & 7; }
    int request(unsigned chip) const;
    void intack(Chip& c, unsigned ir);
    bool cascaded(unsigned ir) const;
    void write(unsigned chip, bool a0, u8 value);
    u8 read(unsigned chip, bool a0);
    void write_ocw2(Chip& c, u8 value);
    void set_input(unsigned irq, bool high);
    void update(bool force = false);
    static void visit_chip(StateVisitor& v, Chip& c);

    IrqLine& m_intr;
    std::array<Chip, 2> m_chips{};
    u16 m_elcr{0};
    bool m_intr_level{false};
    std::array<Input, IRQS> m_inputs;
    NullIrqLine m_unconnected;
    std::function<void(unsigned)> m_ack_listener;
};

} // namespace vsa
