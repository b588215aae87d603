// SPDX-License-Identifier: GPL-2.0-or-later
// The Bochs/QEMU APM power-off port 0x8900. SeaBIOS's APM BIOS (src/apm.c,
// INT 15h AX=5307h "set power state", BX=1 all devices, CX=3 off) writes
// the ASCII bytes of "Shutdown" to PORT_BIOS_APM (0x8900, src/hw/ioport.h)
// and then halts with interrupts off; Bochs and QEMU power the machine off
// when they see that string. "Standby" and "Suspend" (CX=1, 2) are written
// the same way and, as in QEMU, mean nothing here.
//
// Every byte either continues the match or restarts it (a byte 'S' starts
// a new match), so a half-written string followed by a full one still
// powers off exactly once.
//
// Deliberately left out: ACPI power-off (the PIIX4 PM device's SLP_EN),
// which is a different device.
#pragma once

#include "hypervisor/io/device.h"

#include <functional>
#include <string_view>

namespace vsa {

class ApmShutdownPort final : public Device {
public:
    static constexpr u16 PORT = 0x8900;
    static constexpr std::string_view MAGIC = "Shutdown";

    // Called on the VM thread inside the guest's port write: the machine
    // notes the request and stops the VM at the next instruction boundary.
    explicit ApmShutdownPort(std::function<void()> power_off) : m_power_off(std::move(power_off)) {}

    std::string_view name() const override { return "apm_shutdown_port"; }
    void reset() override { m_matched = 0; }
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;

    // Bytes of MAGIC seen so far.
    unsigned matched() const { return m_matched; }

private:
    std::function<void()> m_power_off;
    u8 m_matched{0};
};

} // namespace vsa
