// SPDX-License-Identifier: GPL-2.0-or-later
// PIIX4 power management function. See piix4_pm.h.
#include "hw/piix4_pm.h"

namespace vsa {

namespace {

constexpr u64 NS_PER_SECOND = 1'000'000'000;

// PM block storage registers (offsets 0x10..0x3F): which bits software may
// write. Status and input registers are absent (they read 0: no event
// source or pin in this machine sets them).
struct StorageRegister {
    u8 offset;
    u8 bytes;
};
constexpr StorageRegister PM_STORAGE[] = {
    {0x10, 4}, // PCNTRL: processor clock throttling (not modelled)
    {0x20, 2}, // GLBEN: global (SMI) enables
    {0x28, 4}, // GLBCTL: global control, SMI_EN
    {0x2C, 4}, // DEVCTL: device monitor/trap SMI enables
    {0x34, 4}, // GPOREG: general purpose outputs (no pins connected)
};

constexpr bool pm_storage(u16 offset) {
    for (auto const& r : PM_STORAGE)
        if (offset >= r.offset && offset < r.offset + r.bytes) return true;
    return false;
}

// Writable bits of the configuration registers past the standard header.
struct ConfigRange {
    u8 first;
    u8 last;
    u8 mask;
};
constexpr ConfigRange CONFIG_MASKS[] = {
    {0x40, 0x40, 0xC0}, // PMBA: bits 15:6 (64-byte block), bit 0 reads 1
    {0x41, 0x41, 0xFF}, //
    {0x44, 0x7F, 0xFF}, // CNTA, CNTB, GPICTL, DEVRESD, DEVACTA/B, DEVRESA..J
    {0x80, 0x80, 0x01}, // PMREGMISC: PMIOSE
    {0x90, 0x90, 0xF0}, // SMBBA: bits 15:4 (16-byte block), bit 0 reads 1
    {0x91, 0x91, 0xFF}, //
    {0xD2, 0xD2, 0x0F}, // SMBHSTCFG: interrupt select, host enable
    {0xD3, 0xD5, 0xFF}, // SMBSLVC, SMBSHDW1/2: slave interface (storage)
};

constexpr u8 SMB_PROTOCOL_MASK = 7 << 2;
constexpr u8 SMB_PROTOCOL_BLOCK = 4 << 2;
constexpr u8 SMB_HST_STS_W1C =
    Piix4Pm::HST_INTER | Piix4Pm::HST_DEV_ERR | Piix4Pm::HST_BUS_ERR | Piix4Pm::HST_FAILED;
constexpr u8 SMB_HST_CNT_MASK = Piix4Pm::HST_INTEREN | Piix4Pm::HST_KILL | SMB_PROTOCOL_MASK;

} // namespace

u64 Piix4Pm::ticks_at(u64 ns) {
    // Split at whole seconds so the product never overflows.
    return (ns / NS_PER_SECOND) * PM_TIMER_HZ + (ns % NS_PER_SECOND) * PM_TIMER_HZ / NS_PER_SECOND;
}

u64 Piix4Pm::ns_for_ticks(u64 ticks) {
    // The smallest ns with ticks_at(ns) >= ticks: whole seconds of ticks,
    // then the remainder rounded up.
    u64 seconds = ticks / PM_TIMER_HZ;
    u64 rest = ticks % PM_TIMER_HZ;
    return seconds * NS_PER_SECOND + (rest * NS_PER_SECOND + PM_TIMER_HZ - 1) / PM_TIMER_HZ;
}

Piix4Pm::Piix4Pm(IrqLine& sci, Clock& clock, std::function<void()> power_off, LegacyDevices legacy)
    : PciDevice(PciId{.vendor = 0x8086,
                      .device = 0x7113,
                      .class_code = 0x06,
                      .subclass = 0x80,
                      .prog_if = 0x00,
                      // PIIX4E: Linux trusts the PM timer of revision 3 and
                      // up (older parts needed a triple read, a PIIX4 erratum).
                      .revision = 0x03}),
      m_sci(sci), m_clock(clock), m_power_off(std::move(power_off)), m_overflow(clock, [this] {
          update_irq();
          update_timer();
      }) {
    // A time-base tick: TMR_STS is computed from now() when read, so the
    // overflow SCI may come late while the guest idles (idle_coalescer.h).
    m_overflow.set_coalescable(true);
    // Only I/O space enable (it gates the SMBus block) is writable.
    set_write_mask(pci::COMMAND, 0x01);
    set_write_mask(pci::COMMAND + 1, 0x00);
    set_config_word(pci::STATUS, 0x0280); // medium DEVSEL, fast back-to-back
    set_interrupt_pin(1);                 // INTA (SMBus); the SCI is IRQ 9
    for (auto const& r : CONFIG_MASKS)
        for (unsigned at = r.first; at <= r.last; ++at)
            set_write_mask(static_cast<u8>(at), r.mask);
    config_byte(PMBA) = 0x01;  // I/O space indicator
    config_byte(SMBBA) = 0x01; //
    // No SMM: report SMI-on-APMC as already enabled, so SeaBIOS does not
    // try to relocate an SMM handler (it would wait on 0xB3 forever).
    set_config_dword(DEVACTB, DEVACTB_APMC_EN);
    // Decode enables as QEMU and Bochs preset them; SeaBIOS's DSDT reads
    // LPT at 0x5F bit 7, COM1 at 0x67 bit 3 and COM2 at 0x67 bit 7.
    config_byte(DEVRESA + 3) = static_cast<u8>(0x10 | (legacy.lpt ? 0x80 : 0));
    config_byte(0x63) = 0x60;
    config_byte(DEVRESC + 3) = static_cast<u8>((legacy.com1 ? 0x08 : 0) | (legacy.com2 ? 0x90 : 0));
    snapshot_reset_state();
    m_tick_base = ticks_at(m_clock.now());
}

void Piix4Pm::reset() {
    PciDevice::reset();
    m_regs = Registers{};
    // The timer restarts at 0 with PCIRST#.
    m_tick_base = ticks_at(m_clock.now());
    m_tmr_epoch = 0;
    update_pm_mapping();
    update_smb_mapping();
    update_irq();
    update_timer();
}

bool Piix4Pm::map_fixed_ports(IoBus& io) {
    bool ok = io.map(GPE0_BLK, GPE0_SIZE, *this, WIDTH_ANY, GPE0_WINDOW);
    ok = io.map(APM_CNT, 2, *this, WIDTH_8, APM_WINDOW) && ok;
    return io.map(PCI_HOTPLUG, PCI_HOTPLUG_SIZE, *this, WIDTH_ANY, HOTPLUG_WINDOW) && ok;
}

u16 Piix4Pm::pm1_status() const {
    return static_cast<u16>(m_regs.pm1_sts | (timer_status() ? TMR_STS : 0));
}

// --- Port cycles ---------------------------------------------------------
//
// Every block is handled a byte at a time, so any width and alignment the
// guest uses composes the same registers (Linux reads PM1_EVT as two words
// and PM_TMR as a dword; a byte read of SLP_TYP is legal too).

u32 Piix4Pm::io_read(u16 offset, Width width) {
    unsigned n = width_bytes(width);
    u32 value = 0;
    if (offset >= PM_WINDOW && offset + n <= PM_WINDOW + PM_SIZE) {
        u32 timer = pm_timer(); // one sample per access: no torn dword
        for (unsigned i = 0; i < n; ++i)
            value |= u32(pm_read_byte(static_cast<u16>(offset - PM_WINDOW + i), timer)) << (8 * i);
        return value;
    }
    if (offset >= SMB_WINDOW && offset + n <= SMB_WINDOW + SMB_SIZE) {
        for (unsigned i = 0; i < n; ++i)
            value |= u32(smb_read_byte(static_cast<u16>(offset - SMB_WINDOW + i))) << (8 * i);
        return value;
    }
    if (offset >= GPE0_WINDOW && offset + n <= GPE0_WINDOW + GPE0_SIZE) {
        for (unsigned i = 0; i < n; ++i)
            value |= u32(pm_read_byte(static_cast<u16>(GPSTS + offset - GPE0_WINDOW + i), 0)) << (8 * i);
        return value;
    }
    // No slot is hot-pluggable: nothing came, went or can be removed.
    if (offset >= HOTPLUG_WINDOW && offset + n <= HOTPLUG_WINDOW + PCI_HOTPLUG_SIZE) return 0;
    if (width == Width::Byte && offset == APM_WINDOW) return m_regs.apm_cnt;
    if (width == Width::Byte && offset == APM_WINDOW + 1) return m_regs.apm_sts;
    count_ignored();
    return width_mask(width);
}

void Piix4Pm::io_write(u16 offset, Width width, u32 value) {
    unsigned n = width_bytes(width);
    if (offset >= PM_WINDOW && offset + n <= PM_WINDOW + PM_SIZE) {
        for (unsigned i = 0; i < n; ++i)
            pm_write_byte(static_cast<u16>(offset - PM_WINDOW + i), static_cast<u8>(value >> (8 * i)));
    } else if (offset >= SMB_WINDOW && offset + n <= SMB_WINDOW + SMB_SIZE) {
        for (unsigned i = 0; i < n; ++i)
            smb_write_byte(static_cast<u16>(offset - SMB_WINDOW + i), static_cast<u8>(value >> (8 * i)));
    } else if (offset >= GPE0_WINDOW && offset + n <= GPE0_WINDOW + GPE0_SIZE) {
        for (unsigned i = 0; i < n; ++i)
            pm_write_byte(static_cast<u16>(GPSTS + offset - GPE0_WINDOW + i),
                          static_cast<u8>(value >> (8 * i)));
    } else if (width == Width::Byte && (offset == APM_WINDOW || offset == APM_WINDOW + 1)) {
        apm_write(static_cast<u16>(offset - APM_WINDOW), static_cast<u8>(value));
    } else if (offset >= HOTPLUG_WINDOW && offset + n <= HOTPLUG_WINDOW + PCI_HOTPLUG_SIZE) {
        // An eject request (or a write to the read-only bitmaps) for a slot
        // that cannot be removed.
        count_ignored();
        return;
    } else {
        count_ignored();
        return;
    }
    update_irq();
    update_timer();
}

// --- PM block ------------------------------------------------------------

u8 Piix4Pm::pm_read_byte(u16 offset, u32 timer) {
    auto lo = [](u16 v) { return static_cast<u8>(v); };
    auto hi = [](u16 v) { return static_cast<u8>(v >> 8); };
    switch (offset) {
    case PM1_STS:
        return lo(pm1_status());
    case PM1_STS + 1:
        return hi(pm1_status());
    case PM1_EN:
        return lo(m_regs.pm1_en);
    case PM1_EN + 1:
        return hi(m_regs.pm1_en);
    // SLP_EN and GBL_RLS are commands: they read 0.
    case PM1_CNT:
        return lo(m_regs.pm1_cnt);
    case PM1_CNT + 1:
        return hi(m_regs.pm1_cnt);
    case PM_TMR:
    case PM_TMR + 1:
    case PM_TMR + 2:
        return static_cast<u8>(timer >> (8 * (offset - PM_TMR)));
    case GPSTS:
        return lo(m_regs.gp_sts);
    case GPSTS + 1:
        return hi(m_regs.gp_sts);
    case GPEN:
        return lo(m_regs.gp_en);
    case GPEN + 1:
        return hi(m_regs.gp_en);
    case P_LVL2:
    case P_LVL3:
        // Entering C2/C3: without a stop-clock model the first break
        // event ends it at once, so the read simply returns.
        return 0;
    default:
        break;
    }
    if (pm_storage(offset)) return m_regs.pm_store[offset];
    return 0; // reserved, status and input registers
}

void Piix4Pm::pm_write_byte(u16 offset, u8 value) {
    auto set_lo = [](u16& reg, u8 v, u16 mask) {
        reg = static_cast<u16>((reg & ~(mask & 0xFF)) | (v & mask));
    };
    auto set_hi = [](u16& reg, u8 v, u16 mask) {
        reg = static_cast<u16>((reg & ~(mask & 0xFF00)) | ((u16(v) << 8) & mask));
    };
    switch (offset) {
    case PM1_STS:
        // Write 1 to clear. Only TMR_STS and PWRBTN_STS have sources here.
        if (value & TMR_STS) m_tmr_epoch = elapsed_ticks() >> 23;
        m_regs.pm1_sts = static_cast<u16>(m_regs.pm1_sts & ~value);
        return;
    case PM1_STS + 1:
        m_regs.pm1_sts = static_cast<u16>(m_regs.pm1_sts & ~(u16(value) << 8));
        return;
    case PM1_EN:
        return set_lo(m_regs.pm1_en, value, PM1_EN_MASK);
    case PM1_EN + 1:
        return set_hi(m_regs.pm1_en, value, PM1_EN_MASK);
    case PM1_CNT:
        // GBL_RLS asks the SMI handler for the global lock: no SMM here.
        if (value & GBL_RLS) count_ignored();
        return set_lo(m_regs.pm1_cnt, value, SCI_EN | BM_RLD);
    case PM1_CNT + 1:
        set_hi(m_regs.pm1_cnt, value, SLP_TYP_MASK);
        if ((u16(value) << 8) & SLP_EN)
            sleep(static_cast<u8>((m_regs.pm1_cnt & SLP_TYP_MASK) >> SLP_TYP_SHIFT));
        return;
    case GPSTS:
        m_regs.gp_sts = static_cast<u16>(m_regs.gp_sts & ~value);
        return;
    case GPSTS + 1:
        m_regs.gp_sts = static_cast<u16>(m_regs.gp_sts & ~(u16(value) << 8));
        return;
    case GPEN:
        return set_lo(m_regs.gp_en, value, 0xFFFF);
    case GPEN + 1:
        return set_hi(m_regs.gp_en, value, 0xFFFF);
    default:
        break;
    }
    if (pm_storage(offset)) {
        m_regs.pm_store[offset] = value;
        return;
    }
    // GLBSTS and DEVSTS are write-1-to-clear status that nothing here
    // sets: clearing them is a no-op. The timer, P_LVLx, GPIREG and the
    // reserved bytes are read-only or unused.
    if ((offset >= 0x18 && offset < 0x1A) || (offset >= 0x1C && offset < 0x20)) return;
    count_ignored();
}

void Piix4Pm::sleep(u8 type) {
    if (type == SLP_TYP_SOFT_OFF) {
        if (m_power_off) m_power_off();
        return;
    }
    // S1-S4: nothing here can suspend. The OS sees no wake (WAK_STS stays
    // clear) and carries on; our fw_cfg hides \_S3 and \_S4 from it.
    ++m_refused_sleeps;
    count_ignored();
}

bool Piix4Pm::press_power_button() {
    m_regs.pm1_sts |= PWRBTN_STS;
    update_irq();
    return (m_regs.pm1_cnt & SCI_EN) && (m_regs.pm1_en & PWRBTN_EN);
}

// --- APM control/status --------------------------------------------------

void Piix4Pm::apm_write(u16 offset, u8 value) {
    if (offset == 1) {
        m_regs.apm_sts = value;
        return;
    }
    m_regs.apm_cnt = value;
    // The SMI handler of an ACPI BIOS switches the chipset between legacy
    // and ACPI mode (ACPI 1.0b 4.7.2.5); we do its work directly.
    if (value == ACPI_ENABLE) {
        m_regs.pm1_cnt |= SCI_EN;
    } else if (value == ACPI_DISABLE) {
        m_regs.pm1_cnt &= static_cast<u16>(~SCI_EN);
    } else if (config_dword(DEVACTB) & DEVACTB_APMC_EN) {
        // Any other command is an SMI nobody serves.
        count_ignored();
    }
}

// --- SMBus host controller -------------------------------------------------

u8 Piix4Pm::smb_read_byte(u16 offset) {
    switch (offset) {
    case SMBHSTSTS:
        return m_regs.smb_hst_sts;
    case SMBSLVSTS:
        return 0; // the slave interface never receives anything
    case SMBHSTCNT:
        // Reading the control register rewinds the block data pointer.
        m_regs.smb_block_index = 0;
        return m_regs.smb_hst_cnt;
    case SMBHSTCMD:
        return m_regs.smb_hst_cmd;
    case SMBHSTADD:
        return m_regs.smb_hst_add;
    case SMBHSTDAT0:
        return m_regs.smb_hst_dat0;
    case SMBHSTDAT1:
        return m_regs.smb_hst_dat1;
    case SMBBLKDAT: {
        u8 v = m_regs.smb_block[m_regs.smb_block_index];
        m_regs.smb_block_index = static_cast<u8>((m_regs.smb_block_index + 1) % m_regs.smb_block.size());
        return v;
    }
    case 0x08:
    case 0x09:
    case 0x0A:
    case 0x0B:
        return m_regs.smb_slave[offset - 0x08];
    default:
        return 0; // SMBSLVDAT (shadow data from a slave: none) and reserved
    }
}

void Piix4Pm::smb_write_byte(u16 offset, u8 value) {
    switch (offset) {
    case SMBHSTSTS:
        m_regs.smb_hst_sts = static_cast<u8>(m_regs.smb_hst_sts & ~(value & SMB_HST_STS_W1C));
        return;
    case SMBSLVSTS:
        return;
    case SMBHSTCNT: {
        bool kill_rising = (value & HST_KILL) && !(m_regs.smb_hst_cnt & HST_KILL);
        m_regs.smb_hst_cnt = static_cast<u8>(value & SMB_HST_CNT_MASK);
        // KILL ends the transaction in progress with FAILED. Transactions
        // here finish as they start, so there is never one to stop, but a
        // driver killing after a timeout still expects FAILED.
        if (kill_rising) m_regs.smb_hst_sts |= HST_FAILED;
        if (value & HST_START) smb_start();
        return;
    }
    case SMBHSTCMD:
        m_regs.smb_hst_cmd = value;
        return;
    case SMBHSTADD:
        m_regs.smb_hst_add = value;
        return;
    case SMBHSTDAT0:
        m_regs.smb_hst_dat0 = value;
        return;
    case SMBHSTDAT1:
        m_regs.smb_hst_dat1 = value;
        return;
    case SMBBLKDAT:
        m_regs.smb_block[m_regs.smb_block_index] = value;
        m_regs.smb_block_index = static_cast<u8>((m_regs.smb_block_index + 1) % m_regs.smb_block.size());
        return;
    case 0x08:
    case 0x09:
    case 0x0A:
    case 0x0B:
        m_regs.smb_slave[offset - 0x08] = value;
        return;
    default:
        count_ignored(); // SMBSLVDAT is read-only; the rest is reserved
        return;
    }
}

void Piix4Pm::smb_start() {
    // A transaction needs a protocol the controller knows (quick, byte,
    // byte data, word data, block) and no KILL holding it off.
    if ((m_regs.smb_hst_cnt & HST_KILL) || (m_regs.smb_hst_cnt & SMB_PROTOCOL_MASK) > SMB_PROTOCOL_BLOCK) {
        count_ignored();
        return;
    }
    // Every protocol starts with the slave address; nothing on this bus
    // acknowledges it, so the transaction ends there with a device error.
    m_regs.smb_hst_sts = static_cast<u8>((m_regs.smb_hst_sts & ~HST_BUSY) | HST_DEV_ERR);
}

// --- Decoding, interrupt, timer -------------------------------------------

void Piix4Pm::config_written(u8 offset, Width width) {
    unsigned end = offset + width_bytes(width);
    auto touches = [&](unsigned first, unsigned last) { return offset <= last && end > first; };
    if (touches(PMBA, PMBA + 3) || touches(PMREGMISC, PMREGMISC)) update_pm_mapping();
    if (touches(SMBBA, SMBBA + 3) || touches(SMBHSTCFG, SMBHSTCFG) || touches(pci::COMMAND, pci::COMMAND))
        update_smb_mapping();
    // The SMBus interrupt select decides whether its status reaches IRQ 9.
    if (touches(SMBHSTCFG, SMBHSTCFG)) update_irq();
}

void Piix4Pm::update_pm_mapping() {
    Port base = static_cast<Port>(config_word(PMBA) & 0xFFC0);
    bool enabled = (config_byte(PMREGMISC) & PMIOSE) && base != 0 && bus();
    if (m_pm_mapped && (!enabled || base != m_pm_base)) {
        bus()->io().unmap(m_pm_base, *this);
        m_pm_mapped = false;
    }
    if (!enabled || m_pm_mapped) return;
    // A base that collides with another device stays unmapped (counted),
    // as a real decode conflict would leave the block unreachable.
    if (!bus()->io().map(base, PM_SIZE, *this, WIDTH_ANY, PM_WINDOW)) return count_ignored();
    m_pm_mapped = true;
    m_pm_base = base;
}

void Piix4Pm::update_smb_mapping() {
    Port base = static_cast<Port>(config_word(SMBBA) & 0xFFF0);
    bool enabled =
        (config_byte(SMBHSTCFG) & SMB_HST_EN) && (command() & pci::COMMAND_IO) && base != 0 && bus();
    if (m_smb_mapped && (!enabled || base != m_smb_base)) {
        bus()->io().unmap(m_smb_base, *this);
        m_smb_mapped = false;
    }
    if (!enabled || m_smb_mapped) return;
    if (!bus()->io().map(base, SMB_SIZE, *this, WIDTH_ANY, SMB_WINDOW)) return count_ignored();
    m_smb_mapped = true;
    m_smb_base = base;
}

bool Piix4Pm::irq_wanted() const {
    bool sci = (m_regs.pm1_cnt & SCI_EN) &&
               ((pm1_status() & m_regs.pm1_en & PM1_EN_MASK) || (m_regs.gp_sts & m_regs.gp_en));
    u8 cfg = config_byte(SMBHSTCFG);
    bool smbus = (m_regs.smb_hst_cnt & HST_INTEREN) && (m_regs.smb_hst_sts & SMB_HST_STS_W1C) &&
                 (cfg & SMB_HST_EN) && (cfg & SMB_INTRSEL_MASK) == SMB_INTRSEL_IRQ9;
    return sci || smbus;
}

void Piix4Pm::update_irq() {
    bool level = irq_wanted();
    if (level == m_irq_level) return;
    m_irq_level = level;
    m_sci.set_level(level);
}

void Piix4Pm::update_timer() {
    // Only an armed overflow SCI needs the clock: TMR_STS itself is
    // computed when read, so an idle guest costs no timer events.
    bool wanted = (m_regs.pm1_cnt & SCI_EN) && (m_regs.pm1_en & TMR_EN) && !timer_status();
    if (!wanted) {
        m_overflow.cancel();
        return;
    }
    u64 now = m_clock.now();
    u64 elapsed = ticks_at(now) - m_tick_base;
    u64 toggle = (m_tmr_epoch + 1) << 23; // elapsed count of the next toggle
    u64 to_go = toggle > elapsed ? toggle - elapsed : 0;
    u64 at = ns_for_ticks(ticks_at(now) + to_go);
    m_overflow.arm_at(at > now ? at : now);
}

// --- Saved state -----------------------------------------------------------

void Piix4Pm::visit_state(StateVisitor& v) {
    v.section("piix4-pm", 1);
    visit_pci_state(v);
    // Load into copies and take them only if the whole stream was good.
    Registers r = m_regs;
    u64 base = m_tick_base;
    u64 epoch = m_tmr_epoch;
    v.field("pm1_sts", r.pm1_sts);
    v.field("pm1_en", r.pm1_en);
    v.field("pm1_cnt", r.pm1_cnt);
    v.field("gp_sts", r.gp_sts);
    v.field("gp_en", r.gp_en);
    v.field("pm_store", r.pm_store);
    // The timer's start in ticks of the virtual clock. A restored machine
    // sets its clock to the saved time, but only after every device and
    // the CPU loaded (a deterministic clock follows the CPU's instruction
    // count), so the clock's reading during the load means nothing: a
    // count relative to it came out wrong after a load the CPU refused.
    v.field("timer_base", base);
    v.field("timer_epoch", epoch);
    v.field("apm_cnt", r.apm_cnt);
    v.field("apm_sts", r.apm_sts);
    v.field("smb_hst_sts", r.smb_hst_sts);
    v.field("smb_hst_cnt", r.smb_hst_cnt);
    v.field("smb_hst_cmd", r.smb_hst_cmd);
    v.field("smb_hst_add", r.smb_hst_add);
    v.field("smb_hst_dat0", r.smb_hst_dat0);
    v.field("smb_hst_dat1", r.smb_hst_dat1);
    v.field("smb_block", r.smb_block);
    v.field("smb_block_index", r.smb_block_index);
    v.field("smb_slave", r.smb_slave);
    if (!v.is_loading() || !v.ok()) return;
    if (r.smb_block_index >= r.smb_block.size()) return v.fail("piix4-pm: SMBus block index out of range");
    // Against the clock only in post_load(); here against the counter's
    // range (2^64 ticks of 2^23).
    if (epoch >= (u64{1} << 41)) return v.fail("piix4-pm: timer status epoch out of range");
    // Bits no register holds are dropped, as a write would drop them.
    r.pm1_sts &= PWRBTN_STS;
    r.pm1_en &= PM1_EN_MASK;
    r.pm1_cnt &= SCI_EN | BM_RLD | SLP_TYP_MASK;
    for (unsigned i = 0; i < PM_SIZE; ++i)
        if (!pm_storage(static_cast<u16>(i))) r.pm_store[i] = 0;
    r.smb_hst_sts &= SMB_HST_STS_W1C;
    r.smb_hst_cnt &= SMB_HST_CNT_MASK;
    m_regs = r;
    m_tick_base = base;
    m_tmr_epoch = epoch;
}

void Piix4Pm::post_load() {
    PciDevice::post_load();
    // The clock has the saved time now. A timer that would start in the
    // future or a status epoch ahead of the count (an edited file) is
    // clamped, as a bad register value would be.
    u64 now_ticks = ticks_at(m_clock.now());
    if (m_tick_base > now_ticks) {
        m_tick_base = now_ticks;
        count_ignored();
    }
    if (m_tmr_epoch > (elapsed_ticks() >> 23)) {
        m_tmr_epoch = elapsed_ticks() >> 23;
        count_ignored();
    }
    update_pm_mapping();
    update_smb_mapping();
    // The line's receiver was loaded (or reset) on its own: drive it anew.
    m_irq_level = irq_wanted();
    m_sci.set_level(m_irq_level);
    update_timer();
}

} // namespace vsa
