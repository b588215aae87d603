// SPDX-License-Identifier: GPL-2.0-or-later
// IBM PC/AT parallel printer adapter (LPT1 at 0x378-0x37A, IRQ 7) in
// standard (SPP, "compatibility") mode, with a printer attached whose paper
// is a CharBackend. References: IBM PC AT Technical Reference (1984),
// "Parallel Printer Adapter" (the three registers and their bits); IEEE
// 1284-1994 section 7.2, compatibility mode (the Centronics STROBE, BUSY
// and ACK handshake).
//
// Registers (offsets from the base; map three byte-wide ports, WIDTH_8):
//   0 data     write: the output latch on D0-D7. Read: the data lines,
//              which on an SPP port are the latch (there is no input mode).
//   1 status   read-only: bit 7 = not BUSY, 6 = nACK, 5 = paper end,
//              4 = SELECT (on line), 3 = nERROR; bits 2-0 read 0.
//   2 control  bit 0 STROBE, 1 AUTOFD, 2 nINIT (0 = initialise the
//              printer), 3 SELECT IN, 4 IRQ enable; bits 5-7 read 1.
//
// The printer (an ideal Centronics printer on virtual time):
//   STROBE asserted (control bit 0 going 0 -> 1): the printer takes the
//   byte on the data lines, which goes to the backend at once, and raises
//   BUSY. BUSY_NS later it pulses nACK low for ACK_NS; at the end of the
//   pulse BUSY drops, and if control bit 4 is set the adapter pulses IRQ 7
//   (the 8259 sees the rising edge of nACK, as on the IBM card).
//   So a driver that polls BUSY (Linux lp, the parport compatibility-mode
//   writer, DOS programs) or waits for the interrupt sees real handshakes.
//
// One deliberate difference from a wire: nACK as the status register shows
// it stays low until a status read has seen it. SeaBIOS's INT 17h AH=00h
// (and DOS drivers built the same way) strobe and then poll for nACK low,
// yielding between polls; a 5 us pulse can fall between two polls on a
// slow interpreter, and the BIOS would report a time-out for a byte the
// printer took. The interrupt still comes at the end of the timed pulse.
//
// Output is never lost: a strobe while the printer is still busy is taken
// (and counted) rather than dropped as a real printer might. A strobe
// while nINIT is asserted is ignored and counted: the printer is resetting.
//
// Deliberately left out: the PS/2 bidirectional mode (control bit 5 is
// not implemented: data reads always return the latch, so drivers detect
// an SPP-only port), EPP/ECP (ports 0x37B-0x37F and the ECR at base +
// 0x400 stay unmapped: open bus, as drivers expect of a plain port),
// AUTOFD (stored; line endings are the host's business), SELECT IN
// (stored; the printer is always selected), and paper-end / off-line /
// error conditions (the status always shows a ready printer).
#pragma once

#include "hw/char_backend.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/device.h"
#include "hypervisor/io/irq.h"

namespace vsa {

class ParallelPort final : public Device {
public:
    static constexpr u16 DATA = 0;
    static constexpr u16 STATUS = 1;
    static constexpr u16 CONTROL = 2;
    static constexpr u16 PORT_COUNT = 3;

    static constexpr u8 STATUS_NOT_BUSY = 0x80;
    static constexpr u8 STATUS_NACK = 0x40;
    static constexpr u8 STATUS_PAPER_END = 0x20;
    static constexpr u8 STATUS_SELECT = 0x10;
    static constexpr u8 STATUS_NERROR = 0x08;

    static constexpr u8 CONTROL_STROBE = 0x01;
    static constexpr u8 CONTROL_AUTOFD = 0x02;
    static constexpr u8 CONTROL_NINIT = 0x04;
    static constexpr u8 CONTROL_SELECT_IN = 0x08;
    static constexpr u8 CONTROL_IRQ_ENABLE = 0x10;
    static constexpr u8 CONTROL_WRITABLE = 0x1F;
    // Bits 5-7 have no latch on an SPP port and read as ones.
    static constexpr u8 CONTROL_READS_ONE = 0xE0;

    // After power-on the BIOS leaves nINIT and SELECT IN high (0x0C), as
    // QEMU's and most real adapters start; a guest may print at once.
    static constexpr u8 CONTROL_RESET = CONTROL_NINIT | CONTROL_SELECT_IN;

    // The printer's handshake times (IEEE 1284 compatibility mode allows
    // 0.5-10 us for nACK; the printer's BUSY time is its own).
    static constexpr u64 BUSY_NS = 4'000;
    static constexpr u64 ACK_NS = 5'000;

    ParallelPort(IrqLine& irq, Clock& clock, CharBackend& printer);

    std::string_view name() const override { return "parallel-port"; }
    void reset() override;
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    // Introspection for the machine, tests and statistics.
    u8 data() const { return m_data; }
    u8 control() const { return m_control; }
    bool busy() const { return m_phase != Phase::Idle; }
    u64 bytes_printed() const { return m_bytes_printed; }
    u64 strobes_while_busy() const { return m_strobes_while_busy; }

private:
    // Where the printer is in its handshake after a strobe.
    enum class Phase : u8 { Idle = 0, Busy = 1, Ack = 2 };

    u8 read_status();
    void write_control(u8 value);
    void strobe();
    void on_timer();

    IrqLine& m_irq;
    CharBackend& m_printer;
    Timer m_timer;

    u8 m_data{0};
    u8 m_control{CONTROL_RESET};
    Phase m_phase{Phase::Idle};
    // An nACK pulse no status read has seen yet (see the file comment).
    bool m_ack_unseen{false};

    u64 m_bytes_printed{0};
    u64 m_strobes_while_busy{0};
};

} // namespace vsa
