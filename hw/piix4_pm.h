// SPDX-License-Identifier: GPL-2.0-or-later
// Piix4Pm: function 3 of the Intel 82371AB/EB PIIX4(E), the power
// management function (8086:7113, class 0680), at PCI 01.3 beside our PIIX3
// functions, as in QEMU's "pc" machine. Reference: 82371AB PIIX4 datasheet
// (order number 290562), the function 3 chapters: power management
// configuration registers, system power management I/O registers (the PM
// block) and SMBus I/O registers; ACPI 1.0b chapter 4 for the fixed
// hardware (PM1 event/control blocks, PM timer, GPE block).
//
// Why it exists: SeaBIOS builds its ACPI tables only when it finds this
// function (src/fw/acpi.c acpi_setup), and an ACPI PM timer is the second
// continuous clocksource Linux needs to validate the TSC for high-resolution
// timers and so for a tickless idle. ACPI S5 is also the power-off every
// ACPI operating system uses.
//
// What SeaBIOS 1.16 does with it (no QEMU table loader: src/fw/pciinit.c
// piix4_pm_setup, src/fw/acpi.c piix4_fadt_setup, src/fw/dev-piix.h):
//   config 0x40 PMBA = 0xB001, 0x80 PMREGMISC = 1, 0x90 SMBBA = 0xB101,
//   0xD2 SMBHSTCFG = 0x09, interrupt line 9. FADT: PM1a_EVT 0xB000 (4),
//   PM1a_CNT 0xB004 (2), PM_TMR 0xB008 (4), GPE0 0xAFE0 (4), SMI_CMD 0xB2,
//   ACPI_ENABLE 0xF1, ACPI_DISABLE 0xF0, SCI IRQ 9. Its built-in DSDT has
//   \_S5 = SLP_TYP 0 (S3 = 1, S4 = 2 unless fw_cfg "etc/system-states"
//   hides them), reads the serial/parallel decode enables at config 0x5F
//   bit 7 (LPT) and 0x67 bits 3 (COM1) and 7 (COM2), and routes slot 1
//   INTA to a fixed link at IRQ 9. Its APM power-off (INT 15h AX=5307h)
//   writes SLP_EN with SLP_TYP 0 to PM1a_CNT, and it reads its own time
//   from the PM timer once it has found one.
//
// What it does:
//   - PM I/O block (64 bytes at PMBA when PMREGMISC.PMIOSE = 1):
//     PM1 status (write 1 to clear) and enable, PM1 control (SCI_EN; SLP_EN
//     with SLP_TYP 0 = soft off calls the power-off callback, other sleep
//     types are refused and counted: nothing here can suspend), the 24-bit
//     PM timer at 3.579545 MHz computed from Clock::now(), TMR_STS on every
//     toggle of its bit 23 (with an SCI through a Timer when TMR_EN is set),
//     PWRBTN_STS from press_power_button(), and the general purpose
//     status/enable pair GPSTS/GPEN. P_LVL2/P_LVL3 read 0: the stop-clock
//     states are not modelled, so a read is a C2/C3 entry that a break
//     event ends at once (SeaBIOS's FADT marks C2/C3 unsupported anyway).
//     PCNTRL, GLBEN, GLBCTL, DEVCTL, GPOREG are storage (no throttling, no
//     SMI, no general purpose pins); GLBSTS, DEVSTS, GPIREG read 0 (no
//     event source here sets them).
//   - GPE0 block at 0xAFE0: SeaBIOS's FADT puts GPE0_BLK at QEMU's fixed
//     address, so GPSTS/GPEN (PMBA+0x0C) decode there as well: one pair of
//     registers at two addresses. Nothing in this machine raises a GPE yet.
//   - SCI: hardwired to ISA IRQ 9 (the PIIX4 routes it there; SeaBIOS's
//     FADT and DSDT say so too), driven as a level, high while SCI_EN is set and an enabled
//     PM1 or GPE status bit is set. With SCI_EN clear a real PIIX4 would
//     raise an SMI instead; there is no SMM here, so nothing is raised.
//   - APM control/status ports 0xB2/0xB3 (on a real board they sit in
//     function 0; QEMU models them with this function, and so do we):
//     0xB3 is a scratch byte; a write of ACPI_ENABLE/ACPI_DISABLE to 0xB2
//     sets/clears SCI_EN directly, which is what the SMI handler of an
//     ACPI BIOS does. Other 0xB2 values would be SMIs: counted, dropped.
//     DEVACTB.APMC_EN (SMI on 0xB2 writes) reads 1 from reset, the flag
//     SeaBIOS takes for "SMM already set up": it then skips its SMM
//     relocation, which would spin on 0xB3 forever without SMM.
//   - SMBus host controller (16 bytes at SMBBA when SMBHSTCFG.SMB_HST_EN
//     and PCI command I/O are set): an honest controller with nothing on
//     the bus. Every host transaction ends at once with DEV_ERR (no slave
//     acknowledged its address), KILL sets FAILED, the interrupt goes to
//     IRQ 9 when SMBHSTCFG selects it (level, ORed with the SCI).
//   - QEMU's PCI hotplug registers at 0xAE00 (slots up, slots down, eject,
//     removable slots), which QEMU's PIIX4 PM function carries and
//     SeaBIOS's tables read: SeaBIOS gives every slot whose removable bit
//     it reads from 0xAE0C an _EJ0 method, and Linux registers a hotplug
//     slot for each. Nothing here is hot-pluggable, so the block reads 0
//     (open bus would have made all 31 slots "removable"); an eject
//     request is counted and dropped.
//   - The other configuration registers (CNTA/CNTB, GPICTL, DEVACTA/B,
//     DEVRESA..J, SMBus slave registers) are storage: nothing here
//     interprets them. The decode enables the DSDT reads are preset from
//     the machine's legacy devices, as QEMU presets them.
//
// Deliberately left out: SMM/SMI (no SMM in this CPU), sleep states other
// than soft off (S1-S4), wake events, the RTC alarm and power-button
// override status bits, bus-master status, clock throttling and stop-clock
// states, the general purpose I/O pins, SMBus slaves and the SMBus slave
// interface, the 32-bit timer extension (TMR_VAL_EXT is not set).
#pragma once

#include "hypervisor/io/clock.h"
#include "hypervisor/io/irq.h"
#include "hypervisor/io/pci.h"

#include <array>
#include <functional>

namespace vsa {

class Piix4Pm final : public PciDevice {
public:
    // Configuration registers.
    static constexpr u8 PMBA = 0x40;
    static constexpr u8 DEVACTB = 0x58;
    static constexpr u8 DEVRESA = 0x5C;
    static constexpr u8 DEVRESC = 0x64;
    static constexpr u8 PMREGMISC = 0x80;
    static constexpr u8 SMBBA = 0x90;
    static constexpr u8 SMBHSTCFG = 0xD2;
    static constexpr u32 DEVACTB_APMC_EN = 1u << 25;
    static constexpr u8 PMIOSE = 1 << 0;
    static constexpr u8 SMB_HST_EN = 1 << 0;
    static constexpr u8 SMB_INTRSEL_MASK = 7 << 1;
    static constexpr u8 SMB_INTRSEL_IRQ9 = 4 << 1;

    // PM I/O block, offsets from PMBA.
    static constexpr u16 PM_SIZE = 64;
    static constexpr u16 PM1_STS = 0x00;
    static constexpr u16 PM1_EN = 0x02;
    static constexpr u16 PM1_CNT = 0x04;
    static constexpr u16 PM_TMR = 0x08;
    static constexpr u16 GPSTS = 0x0C;
    static constexpr u16 GPEN = 0x0E;
    static constexpr u16 P_LVL2 = 0x14;
    static constexpr u16 P_LVL3 = 0x15;
    // PM1 status/enable bits (the enable bit sits at its status bit).
    static constexpr u16 TMR_STS = 1 << 0;
    static constexpr u16 BM_STS = 1 << 4;
    static constexpr u16 GBL_STS = 1 << 5;
    static constexpr u16 PWRBTN_STS = 1 << 8;
    static constexpr u16 RTC_STS = 1 << 10;
    static constexpr u16 PWRBTNOR_STS = 1 << 11;
    static constexpr u16 WAK_STS = 1 << 15;
    static constexpr u16 TMR_EN = TMR_STS;
    static constexpr u16 GBL_EN = GBL_STS;
    static constexpr u16 PWRBTN_EN = PWRBTN_STS;
    static constexpr u16 RTC_EN = RTC_STS;
    static constexpr u16 PM1_EN_MASK = TMR_EN | GBL_EN | PWRBTN_EN | RTC_EN;
    // PM1 control bits.
    static constexpr u16 SCI_EN = 1 << 0;
    static constexpr u16 BM_RLD = 1 << 1;
    static constexpr u16 GBL_RLS = 1 << 2;
    static constexpr unsigned SLP_TYP_SHIFT = 10;
    static constexpr u16 SLP_TYP_MASK = 7 << SLP_TYP_SHIFT;
    static constexpr u16 SLP_EN = 1 << 13;
    // The sleep type this machine implements: soft off (the PIIX4's
    // SUS_TYP 000b; SeaBIOS's \_S5 package says 0).
    static constexpr u8 SLP_TYP_SOFT_OFF = 0;
    static constexpr u64 PM_TIMER_HZ = 3'579'545;
    static constexpr u32 PM_TIMER_MASK = 0x00FF'FFFF;

    // SMBus I/O block, offsets from SMBBA.
    static constexpr u16 SMB_SIZE = 16;
    static constexpr u16 SMBHSTSTS = 0x00;
    static constexpr u16 SMBSLVSTS = 0x01;
    static constexpr u16 SMBHSTCNT = 0x02;
    static constexpr u16 SMBHSTCMD = 0x03;
    static constexpr u16 SMBHSTADD = 0x04;
    static constexpr u16 SMBHSTDAT0 = 0x05;
    static constexpr u16 SMBHSTDAT1 = 0x06;
    static constexpr u16 SMBBLKDAT = 0x07;
    static constexpr u8 HST_BUSY = 1 << 0;
    static constexpr u8 HST_INTER = 1 << 1;
    static constexpr u8 HST_DEV_ERR = 1 << 2;
    static constexpr u8 HST_BUS_ERR = 1 << 3;
    static constexpr u8 HST_FAILED = 1 << 4;
    static constexpr u8 HST_INTEREN = 1 << 0;
    static constexpr u8 HST_KILL = 1 << 1;
    static constexpr u8 HST_START = 1 << 6;

    // Fixed ports.
    static constexpr Port GPE0_BLK = 0xAFE0;
    static constexpr u16 GPE0_SIZE = 4;
    static constexpr Port APM_CNT = 0xB2;
    static constexpr Port APM_STS = 0xB3;
    static constexpr u8 ACPI_ENABLE = 0xF1;
    static constexpr u8 ACPI_DISABLE = 0xF0;
    static constexpr Port PCI_HOTPLUG = 0xAE00;
    static constexpr u16 PCI_HOTPLUG_SIZE = 16;
    static constexpr u16 PCI_HOTPLUG_EJECT = 0x08;

    // io_read/io_write offsets: each decoded block is mapped with its own
    // offset base, since the PM and SMBus blocks move with the guest.
    static constexpr u16 PM_WINDOW = 0x000;
    static constexpr u16 SMB_WINDOW = 0x100;
    static constexpr u16 GPE0_WINDOW = 0x200;
    static constexpr u16 APM_WINDOW = 0x300;
    static constexpr u16 HOTPLUG_WINDOW = 0x400;

    // The machine's motherboard devices whose decode enables the DSDT
    // reads from DEVRESA/DEVRESC.
    struct LegacyDevices {
        bool com1{false};
        bool com2{false};
        bool lpt{false};
    };

    // `sci` is ISA IRQ 9 (the SCI and the SMBus interrupt share it). The
    // power-off callback runs inside the guest's port write, on the VM
    // thread: the machine notes the request and stops at the next
    // instruction boundary.
    Piix4Pm(IrqLine& sci, Clock& clock, std::function<void()> power_off, LegacyDevices legacy);

    std::string_view name() const override { return "piix4-pm"; }
    void reset() override;
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& v) override;
    void post_load() override;

    // Maps GPE0_BLK, the APM ports and the PCI hotplug block. The PM and
    // SMBus blocks map
    // themselves when the guest programs and enables their bases
    // (the function must be attached to a PciBus for that).
    bool map_fixed_ports(IoBus& io);

    // The front-panel power button: sets PWRBTN_STS and raises the SCI if
    // the OS armed it. Returns whether it did (SCI_EN and PWRBTN_EN set);
    // otherwise the press is only latched, as on a board whose OS has not
    // enabled ACPI (or has no button driver).
    bool press_power_button();

    // For tests and the machine.
    u32 pm_timer() const { return static_cast<u32>(elapsed_ticks()) & PM_TIMER_MASK; }
    bool sci_level() const { return m_irq_level; }
    bool acpi_enabled() const { return (m_regs.pm1_cnt & SCI_EN) != 0; }
    u16 pm1_status() const;
    // Sleep requests (SLP_EN) for a sleep type other than soft off.
    u64 refused_sleeps() const { return m_refused_sleeps; }
    bool pm_io_mapped() const { return m_pm_mapped; }
    bool smbus_mapped() const { return m_smb_mapped; }

    // PM timer ticks in `ns` of virtual time (floor), and the first
    // nanosecond at which `ticks` have elapsed (exact, no overflow for any
    // u64 time).
    static u64 ticks_at(u64 ns);
    static u64 ns_for_ticks(u64 ticks);

protected:
    void config_written(u8 offset, Width width) override;

private:
    // Everything a saved state carries besides config space and the timer.
    struct Registers {
        u16 pm1_sts{0}; // without TMR_STS, which is derived from the timer
        u16 pm1_en{0};
        u16 pm1_cnt{0};
        u16 gp_sts{0};
        u16 gp_en{0};
        std::array<u8, PM_SIZE> pm_store{}; // storage registers 0x10..0x3F
        u8 apm_cnt{0};
        u8 apm_sts{0};
        u8 smb_hst_sts{0};
        u8 smb_hst_cnt{0};
        u8 smb_hst_cmd{0};
        u8 smb_hst_add{0};
        u8 smb_hst_dat0{0};
        u8 smb_hst_dat1{0};
        std::array<u8, 32> smb_block{};
        u8 smb_block_index{0};
        std::array<u8, 4> smb_slave{}; // SMBSLVCNT, SMBSHDWCMD, SMBSLVEVT
    };

    u64 elapsed_ticks() const { return ticks_at(m_clock.now()) - m_tick_base; }
    bool timer_status() const { return (elapsed_ticks() >> 23) != m_tmr_epoch; }

    u8 pm_read_byte(u16 offset, u32 timer);
    void pm_write_byte(u16 offset, u8 value);
    u8 smb_read_byte(u16 offset);
    void smb_write_byte(u16 offset, u8 value);
    void smb_start();
    void apm_write(u16 offset, u8 value);
    void sleep(u8 type);

    void update_pm_mapping();
    void update_smb_mapping();
    bool irq_wanted() const;
    void update_irq();
    void update_timer();

    IrqLine& m_sci;
    Clock& m_clock;
    std::function<void()> m_power_off;
    Timer m_overflow;
    Registers m_regs;
    // The PM timer counts from m_tick_base (ticks of the virtual clock);
    // TMR_STS is set while bit 23 has toggled since the status was last
    // cleared, i.e. while (elapsed >> 23) differs from m_tmr_epoch.
    u64 m_tick_base{0};
    u64 m_tmr_epoch{0};
    bool m_irq_level{false};
    bool m_pm_mapped{false};
    Port m_pm_base{0};
    bool m_smb_mapped{false};
    Port m_smb_base{0};
    u64 m_refused_sleeps{0};
};

} // namespace vsa
