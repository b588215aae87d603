// SPDX-License-Identifier: GPL-2.0-or-later
// System Control Port A at 0x92 ("fast A20 and fast reset"), introduced by
// the IBM PS/2 and kept by every PC chipset; here as on the Intel PIIX/PIIX3
// (82371SB datasheet, "Port 92h"). Reference for bit meanings: IBM PS/2
// Hardware Interface Technical Reference, "System Control Port A".
//
// Bit 1 gates A20 (ALT_A20): every write reports its state to the machine.
// Bit 0 (ALT_RESET/FAST_INIT) resets the CPU on a 0 -> 1 transition; it
// reads back as written, so a guest must clear it before the next reset,
// as on the chipsets. The other bits (security lock, disk activity lights)
// are stored and read back with no effect.
//
// The 8042's output port also drives A20. On a PIIX board the two are
// ORed (A20M# is asserted only when both are off); the machine combines
// a20() of both devices, or wires both callbacks to MemoryMap::set_a20 and
// lets the last writer win, as QEMU does.
//
// Deliberately left out: nothing of the register; the CPU reset is a
// request to the machine (a warm reset: RAM and the CMOS shutdown byte
// survive, which is how 286-era code returns from protected mode).
#pragma once

#include "hypervisor/io/device.h"

#include <functional>

namespace vsa {

class Port92 final : public Device {
public:
    static constexpr u8 FAST_RESET = 0x01;
    static constexpr u8 A20 = 0x02;

    // Both callbacks run inside the guest's port write: the machine notes
    // the request and acts at the next instruction boundary.
    Port92(std::function<void(bool)> set_a20, std::function<void()> request_reset);

    std::string_view name() const override { return "port92"; }
    void reset() override;
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    u8 value() const { return m_value; }
    bool a20() const { return (m_value & A20) != 0; }

private:
    std::function<void(bool)> m_set_a20;
    std::function<void()> m_request_reset;
    u8 m_value{0};
};

} // namespace vsa
