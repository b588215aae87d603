// SPDX-License-Identifier: GPL-2.0-or-later
// Device: what every hardware model in hw/ is to the machine. It sees port
// and MMIO cycles with offsets relative to its mapping (the bus has already
// checked the width), raises interrupts only through the IrqLine it was
// given, schedules work only on the Clock it was given, and saves and
// loads its state through one StateVisitor walk.
//
// A guest can send any value to any register: devices ignore what they do
// not understand, count it, and never assert or throw.
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/io/state_visitor.h"

#include <string_view>

namespace vsa {

class Device {
public:
    virtual ~Device() = default;

    virtual std::string_view name() const = 0;
    // Power-on / hard reset state.
    virtual void reset() = 0;

    // Default: open bus (all ones) and dropped writes, both counted.
    virtual u32 io_read(u16 offset, Width width);
    virtual void io_write(u16 offset, Width width, u32 value);
    virtual u32 mmio_read(u64 offset, Width width);
    virtual void mmio_write(u64 offset, Width width, u32 value);

    virtual void visit_state(StateVisitor& visitor) = 0;
    // After a successful load: recompute derived state (IRQ levels, armed
    // timers, memory mappings) from the loaded registers.
    virtual void post_load() {}

    // Guest accesses this device did not understand (for logs and tests).
    u64 ignored_accesses() const { return m_ignored; }

protected:
    void count_ignored() { ++m_ignored; }

private:
    u64 m_ignored{0};
};

} // namespace vsa
