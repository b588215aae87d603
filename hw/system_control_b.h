// SPDX-License-Identifier: GPL-2.0-or-later
// Port 0x61, "System Control Port B" / NMI status and control of the PC/AT
// (IBM PC/AT Technical Reference, "System Board I/O": port 61h; the same
// register in the PIIX3 datasheet, "NMI Status and Control Register").
//
//   bit 0  R/W  PIT counter 2 GATE (speaker / timer 2 gate)
//   bit 1  R/W  speaker data enable (stored; there is no audio)
//   bit 2  R/W  parity check (PCI SERR#) enable (stored; no source)
//   bit 3  R/W  IOCHK# enable (stored; no source)
//   bit 4  RO   refresh toggle: flips every 15.085 us of virtual time, the
//               DRAM refresh period (PIT counter 1, count 18). BIOS delay
//               loops count its flips.
//   bit 5  RO   PIT counter 2 OUT: SeaBIOS polls it during TSC calibration
//   bit 6  RO   IOCHK# NMI status (0: no source)
//   bit 7  RO   parity / SERR# NMI status (0: no source)
//
// Deliberately left out: the speaker itself and NMI sources.
//
// Mapping: io.map(0x61, 1, port_b, WIDTH_8) - offset 0.
#pragma once

#include "hw/pit8254.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/device.h"

namespace vsa {

class SystemControlB final : public Device {
public:
    static constexpr u8 GATE2 = 0x01;
    static constexpr u8 SPEAKER_DATA = 0x02;
    static constexpr u8 PARITY_CHECK_ENABLE = 0x04;
    static constexpr u8 IOCHK_ENABLE = 0x08;
    static constexpr u8 REFRESH_TOGGLE = 0x10;
    static constexpr u8 OUT2 = 0x20;
    static constexpr u8 WRITABLE = 0x0F;
    static constexpr u64 REFRESH_HALF_PERIOD_NS = 15'085;

    SystemControlB(Pit8254& pit, Clock& clock);

    std::string_view name() const override { return "system_control_b"; }
    void reset() override;
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;

    bool speaker_enabled() const { return m_control & SPEAKER_DATA; }

private:
    Pit8254& m_pit;
    Clock& m_clock;
    u8 m_control{0};
};

} // namespace vsa
