// SPDX-License-Identifier: GPL-2.0-or-later
// IrqLine: the one way a device signals an interrupt. A device drives its
// line's level; the receiver (8259 input, PCI INTx router, the CPU's INTR
// pin) decides whether it reacts to edges or levels. Edge-triggered ISA
// devices pulse(): raise then lower.
#pragma once

#include "hypervisor/base/types.h"

#include <functional>

namespace vsa {

class IrqLine {
public:
    virtual ~IrqLine() = default;
    virtual void set_level(bool high) = 0;

    void raise() { set_level(true); }
    void lower() { set_level(false); }
    void pulse() {
        set_level(true);
        set_level(false);
    }
};

// A line that goes nowhere (an unconnected pin).
class NullIrqLine final : public IrqLine {
public:
    void set_level(bool) override {}
};

// A line that calls a function on every change of level; the machine uses
// it to wire a device's output to a receiver's input.
class CallbackIrqLine final : public IrqLine {
public:
    explicit CallbackIrqLine(std::function<void(bool)> on_level) : m_on_level(std::move(on_level)) {}
    void set_level(bool high) override {
        if (high == m_level) return;
        m_level = high;
        m_on_level(high);
    }
    bool level() const { return m_level; }

private:
    std::function<void(bool)> m_on_level;
    bool m_level{false};
};

// What the CPU sees of its interrupt controller: is INTR asserted, and the
// INTA cycle that returns a vector (8259A datasheet, "Interrupt Sequence").
class InterruptController {
public:
    virtual ~InterruptController() = default;
    virtual bool intr_pending() const = 0;
    // Only called when intr_pending() was true and the CPU accepts (IF=1).
    // A spurious acknowledge returns the controller's spurious vector.
    virtual u8 acknowledge() = 0;
};

// The CPU's IA32_APIC_BASE MSR (SDM vol. 3A 10.4.4), where the machine has
// a local APIC (hw/local_apic.h): the CPU core forwards RDMSR/WRMSR 1Bh to
// it and reports the APIC in CPUID while it is globally enabled.
class ApicBaseMsr {
public:
    virtual ~ApicBaseMsr() = default;
    virtual u64 apic_base() const = 0;
    // False: the value sets reserved bits (the CPU raises #GP(0)).
    virtual bool set_apic_base(u64 value) = 0;
};

} // namespace vsa
