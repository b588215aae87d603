// SPDX-License-Identifier: GPL-2.0-or-later
#include "hw/dec21140.h"

#include <algorithm>
#include <cstring>

namespace vsa {

namespace {
constexpr u32 DESCRIPTOR_BYTES = 16;
constexpr u32 SETUP_FRAME_BYTES = 192;
constexpr std::size_t MIN_FRAME = 60; // without FCS
constexpr u32 FCS_BYTES = 4;

// Reset values (manual, table 3-x "CSR reset values"); reserved bits read
// as ones.
constexpr u32 CSR0_RESET = 0xFE00'0000;
constexpr u32 CSR0_WRITABLE = 0x01FF'FFFE;
constexpr u32 CSR0_SWR = 1u << 0;
constexpr u32 CSR0_DSL_SHIFT = 2;
constexpr u32 CSR5_RESET = 0xFC00'0000;
constexpr u32 CSR5_W1C = 0x0001'FFFF;
constexpr u32 CSR5_NORMAL = Dec21140::CSR5_TI | Dec21140::CSR5_TU | Dec21140::CSR5_RI | Dec21140::CSR5_ERI;
constexpr u32 CSR5_ABNORMAL = Dec21140::CSR5_TPS | Dec21140::CSR5_TJT | Dec21140::CSR5_UNF |
                              Dec21140::CSR5_RU | Dec21140::CSR5_RPS | Dec21140::CSR5_RWT |
                              Dec21140::CSR5_ETI | Dec21140::CSR5_GTE | Dec21140::CSR5_FBE;
constexpr u32 CSR5_EB_MASK = 7u << 23;
constexpr u32 CSR5_EB_MASTER_ABORT = 1u << 23;
constexpr u32 CSR6_RESET = 0x3200'0040; // as the manual gives it (PR set, MBO bit 25)
constexpr u32 CSR6_READ_ONLY = Dec21140::CSR6_HP | Dec21140::CSR6_HO | Dec21140::CSR6_IF;
constexpr u32 CSR7_RESET = 0xFFFE'0000;
constexpr u32 CSR7_WRITABLE = 0x0001'FFFF;
constexpr u32 CSR7_NIE = 1u << 16;
constexpr u32 CSR7_AIE = 1u << 15;
constexpr u32 CSR8_RESET = 0xE000'0000;
constexpr u32 CSR8_OVERFLOW = 1u << 16;
constexpr u32 CSR11_RESET = 0xFFFE'0000;
constexpr u32 CSR11_CON = 1u << 16;
constexpr u32 CSR12_GPC = 1u << 8;

// CSR9 bits.
constexpr u32 CSR9_SCS = 1u << 0;
constexpr u32 CSR9_SCLK = 1u << 1;
constexpr u32 CSR9_SDI = 1u << 2;
constexpr u32 CSR9_SDO = 1u << 3;
constexpr u32 CSR9_SR = 1u << 11;
constexpr u32 CSR9_MDC = 1u << 16;
constexpr u32 CSR9_MDO = 1u << 17;
constexpr u32 CSR9_MII_READ = 1u << 18;
constexpr u32 CSR9_MDI = 1u << 19;

// 93C46: start bit, 2 opcode bits, 6 address bits.
constexpr unsigned EE_ADDRESS_BITS = 6;
constexpr u16 EE_OP_READ = 2;

// PHY registers and bits (IEEE 802.3 clause 22).
constexpr unsigned MII_BMCR = 0, MII_BMSR = 1, MII_PHYSID1 = 2, MII_PHYSID2 = 3, MII_ANAR = 4, MII_ANLPAR = 5,
                   MII_ANER = 6;
constexpr u16 BMCR_RESET = 1u << 15;
constexpr u16 BMCR_ANENABLE = 1u << 12;
constexpr u16 BMCR_ANRESTART = 1u << 9;
constexpr u16 BMCR_DEFAULT = 0x3100;      // 100 Mbit, autonegotiation, full duplex
constexpr u16 BMSR_CAPABILITIES = 0x7809; // 100FD 100HD 10FD 10HD, AN able, extended
constexpr u16 BMSR_LINK = 1u << 2, BMSR_ANEG_COMPLETE = 1u << 5;
constexpr u16 ANAR_DEFAULT = 0x01E1;              // 10/100 half/full, 802.3
constexpr u16 ANLPAR_PARTNER = 0x45E1;            // acknowledge + 10/100 half/full
constexpr u16 PHYSID1 = 0x2000, PHYSID2 = 0x5C01; // National DP83840A

u32 le32(u8 const* p) {
    return u32(p[0]) | u32(p[1]) << 8 | u32(p[2]) << 16 | u32(p[3]) << 24;
}
void put_le32(u8* p, u32 v) {
    for (unsigned i = 0; i < 4; ++i)
        p[i] = static_cast<u8>(v >> (8 * i));
}

// The Ethernet CRC-32, bit-reflected, without the final inversion: what
// the chip's hash filter indexes with (its low 9 bits; Linux computes it
// with ether_crc_le) and, inverted, the FCS.
u32 crc32_le(std::span<u8 const> data) {
    u32 crc = 0xFFFF'FFFF;
    for (u8 byte : data) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc >> 1) ^ ((crc & 1) ? 0xEDB8'8320u : 0);
    }
    return crc;
}

u32 tbs1(u32 des1) {
    return des1 & 0x7FF;
}
u32 tbs2(u32 des1) {
    return (des1 >> 11) & 0x7FF;
}
} // namespace

Dec21140::Dec21140(MemoryMap& memory, Clock& clock, NetBackend& backend, MacAddress const& mac)
    : PciDevice(PciId{.vendor = 0x1011,
                      .device = 0x0009,
                      .class_code = 0x02, // network controller, Ethernet
                      .subclass = 0x00,
                      .prog_if = 0x00,
                      .revision = 0x20, // 21140A
                      .subsystem_vendor = 0x1011,
                      .subsystem = 0x0009}),
      m_memory(memory), m_clock(clock), m_backend(backend), m_mac(mac),
      m_tx_kick(clock,
                [this] {
                    m_tx_kick_pending = false;
                    run_tx();
                }),
      m_gp_timer(clock, [this] { gp_timer_fired(); }) {
    set_config_word(pci::STATUS, 0x0280); // medium DEVSEL, fast back-to-back
    config_byte(0x0D) = 0x40;             // latency timer
    // CFDD (0x40): the driver-area/sleep register, storage.
    for (u8 off = 0x40; off < 0x44; ++off)
        set_write_mask(off, 0xFF);
    set_interrupt_pin(1);
    declare_bar(0, BarKind::Io, CSR_BYTES);
    declare_bar(1, BarKind::Memory32, CSR_BYTES);
    snapshot_reset_state();
    build_srom();
    chip_reset();
}

// The SROM, 21X4 Serial ROM Format v3.03: an ID block (subsystem IDs,
// format version, controller count, the MAC at byte 20), the controller's
// info leaf offset at byte 27, then the leaf: the default media
// (autosense), the CSR12 direction byte, one extended block of type 1 (a
// 21140 MII PHY). tulip_read_eeprom sizes the part by what the EEPROM
// drives after the sixth address bit, which is a 93C46's dummy zero.
void Dec21140::build_srom() {
    std::array<u8, 128> b{};
    b[0] = 0x11; // subsystem vendor 1011, subsystem 0009
    b[1] = 0x10;
    b[2] = 0x09;
    b[3] = 0x00;
    b[18] = 3; // SROM format version
    b[19] = 1; // one controller
    std::copy(m_mac.begin(), m_mac.end(), b.begin() + 20);
    b[26] = 0;  // controller 0's PCI device number (unused on one-port boards)
    b[27] = 30; // its info leaf
    b[28] = 0;
    u8* leaf = b.data() + 30;
    leaf[0] = 0x00; // connection type 0x0800: autosense
    leaf[1] = 0x08;
    leaf[2] = 0x00; // CSR12 (GPR) direction: all inputs
    leaf[3] = 1;    // one media block
    leaf[4] = 0x8C; // extended block, 12 bytes follow
    leaf[5] = 1;    // type 1: 21140 MII PHY
    leaf[6] = 0;    // PHY number: the first the driver finds
    leaf[7] = 0;    // GPR sequence length
    leaf[8] = 0;    // reset sequence length
    leaf[9] = 0x00; // media capabilities 0x7800: 100FD 100HD 10FD 10HD
    leaf[10] = 0x78;
    leaf[11] = 0xE0; // autonegotiation advertisement 0x01E0
    leaf[12] = 0x01;
    leaf[13] = 0x00; // full duplex bit map 0x5000
    leaf[14] = 0x50;
    leaf[15] = 0x00; // transmit threshold bit map 0x1800
    leaf[16] = 0x18;
    for (unsigned i = 0; i < m_srom.size(); ++i)
        m_srom[i] = static_cast<u16>(b[2 * i] | b[2 * i + 1] << 8);
}

void Dec21140::reset() {
    PciDevice::reset();
    chip_reset();
}

// Power-on and CSR0 software reset: every CSR to its reset value, the
// processes stopped, the filter cleared, the PHY reset. The cable (link)
// is physical and stays as it is.
void Dec21140::chip_reset() {
    m_csr.fill(0);
    m_csr[0] = CSR0_RESET;
    m_csr[1] = 0xFFFF'FFFF;
    m_csr[2] = 0xFFFF'FFFF;
    m_csr[5] = CSR5_RESET;
    m_csr[6] = CSR6_RESET;
    m_csr[7] = CSR7_RESET;
    m_csr[8] = CSR8_RESET;
    m_csr[9] = 0xFFF4'83FF & ~(CSR9_SCS | CSR9_MDC | CSR9_SCLK);
    m_csr[10] = 0xFFFF'FFFF;
    m_csr[11] = CSR11_RESET;
    m_csr[12] = 0;
    m_csr[13] = 0xFFFF'FFFF;
    m_csr[14] = 0xFFFF'FFFF;
    m_csr[15] = 0xFFFF'FEC8;
    m_tx_current = 0;
    m_rx_current = 0;
    m_tx_frame.clear();
    m_tx_in_frame = false;
    m_tx_kick_pending = false;
    m_tx_kick.cancel();
    m_perfect.fill(0);
    m_hash.fill(0);
    m_gp_deadline = Clock::NEVER;
    m_gp_timer.cancel();
    m_ee_state = EeState::Idle;
    m_ee_count = 0;
    m_ee_bits = 0;
    m_ee_pos = 0;
    m_ee_addr = 0;
    m_ee_clock = false;
    m_mii_state = MiiState::Idle;
    m_mii_ones = 0;
    m_mii_count = 0;
    m_mii_bits = 0;
    m_mii_out = 0xFFFF'FFFF;
    m_mii_target = 0;
    m_mii_clock = false;
    m_bmcr = BMCR_DEFAULT;
    m_anar = ANAR_DEFAULT;
    m_link_latched_low = false;
    update_irq();
}

// ---- register access -----------------------------------------------------

u32 Dec21140::io_read(u16 offset, Width width) {
    return mmio_read(offset, width);
}

void Dec21140::io_write(u16 offset, Width width, u32 value) {
    mmio_write(offset, width, value);
}

u32 Dec21140::mmio_read(u64 offset, Width width) {
    if (offset >= CSR_BYTES || (offset & 7) + width_bytes(width) > 4) {
        count_ignored();
        return width_mask(width);
    }
    u32 value = read_csr(static_cast<unsigned>(offset / 8));
    return (value >> (8 * (offset & 3))) & width_mask(width);
}

void Dec21140::mmio_write(u64 offset, Width width, u32 value) {
    // CSRs are written as longwords only (manual 3.1).
    if (offset >= CSR_BYTES || (offset & 7) != 0 || width != Width::Dword) return count_ignored();
    write_csr(static_cast<unsigned>(offset / 8), value);
}

u32 Dec21140::csr(unsigned n) const {
    n &= 15;
    if (n == 9) {
        u32 v = m_csr[9] & ~(CSR9_SDO | CSR9_MDI);
        if (m_ee_state == EeState::Read) {
            u32 pos = m_ee_pos;
            bool bit =
                pos == 0 ? false : (m_srom[(m_ee_addr + (pos - 1) / 16) & 63] >> (15 - (pos - 1) % 16)) & 1;
            if (bit) v |= CSR9_SDO;
        }
        if (m_mii_state != MiiState::Read || (m_mii_out >> 31)) v |= CSR9_MDI;
        return v;
    }
    if (n == 11) {
        u32 remaining = 0;
        if (m_gp_deadline != Clock::NEVER) {
            u64 now = m_clock.now();
            u64 left = m_gp_deadline > now ? m_gp_deadline - now : 0;
            remaining =
                static_cast<u32>(std::min<u64>((left + GP_TIMER_UNIT_NS - 1) / GP_TIMER_UNIT_NS, 0xFFFF));
        }
        return (m_csr[11] & ~0xFFFFu) | remaining;
    }
    return m_csr[n];
}

u32 Dec21140::read_csr(unsigned n) {
    u32 value = csr(n);
    if (n == 8) m_csr[8] = CSR8_RESET; // the counter clears when read
    return value;
}

void Dec21140::write_csr(unsigned n, u32 value) {
    switch (n) {
    case 0:
        if (value & CSR0_SWR) return chip_reset();
        m_csr[0] = CSR0_RESET | (value & CSR0_WRITABLE);
        return;
    case 1:
        // Transmit poll demand: a suspended process looks at the ring again.
        if ((m_csr[6] & CSR6_ST) && tx_state() != STATE_STOPPED) run_tx();
        return;
    case 2:
        if ((m_csr[6] & CSR6_SR) && rx_state() == RX_SUSPENDED && check_rx_descriptor())
            set_rx_state(RX_WAITING);
        return;
    case 3:
        m_csr[3] = value & ~3u;
        m_rx_current = m_csr[3];
        return;
    case 4:
        m_csr[4] = value & ~3u;
        m_tx_current = m_csr[4];
        return;
    case 5:
        m_csr[5] &= ~(value & CSR5_W1C);
        return update_irq();
    case 6:
        return write_csr6(value);
    case 7:
        m_csr[7] = CSR7_RESET | (value & CSR7_WRITABLE);
        return update_irq();
    case 9:
        return write_csr9(value);
    case 11:
        return write_csr11(value);
    case 12:
        // Bit 8 set: the write programs the pins' direction; else their data.
        if (value & CSR12_GPC)
            m_csr[12] = (m_csr[12] & 0xFF) | ((value & 0xFF) << 8);
        else
            m_csr[12] = (m_csr[12] & 0xFF00) | (value & 0xFF);
        return;
    case 15:
        m_csr[15] = value;
        return;
    default:
        count_ignored(); // CSR8, 10, 13, 14: read only or reserved
        return;
    }
}

void Dec21140::write_csr6(u32 value) {
    u32 old = m_csr[6];
    m_csr[6] = (value & ~CSR6_READ_ONLY) | (old & CSR6_READ_ONLY);
    bool rx_on = value & CSR6_SR, tx_on = value & CSR6_ST;
    // A commanded stop raises neither RPS nor TPS (dec21140.h).
    if (!rx_on && rx_state() != STATE_STOPPED) set_rx_state(STATE_STOPPED);
    if (!tx_on && tx_state() != STATE_STOPPED) {
        set_tx_state(STATE_STOPPED);
        m_tx_kick.cancel();
        m_tx_kick_pending = false;
    }
    if (rx_on && !(old & CSR6_SR)) set_rx_state(RX_WAITING);
    if (tx_on && !(old & CSR6_ST)) {
        set_tx_state(1); // running, fetching
        run_tx();
    }
    update_irq();
}

void Dec21140::write_csr11(u32 value) {
    m_csr[11] = CSR11_RESET | (value & 0x1FFFF);
    u32 count = value & 0xFFFF;
    if (count == 0) {
        m_gp_deadline = Clock::NEVER;
        m_gp_timer.cancel();
        return;
    }
    m_gp_deadline = m_clock.now() + count * GP_TIMER_UNIT_NS;
    m_gp_timer.arm_at(m_gp_deadline);
}

void Dec21140::gp_timer_fired() {
    m_csr[5] |= CSR5_GTE;
    u32 count = m_csr[11] & 0xFFFF;
    if ((m_csr[11] & CSR11_CON) && count) {
        m_gp_deadline += count * GP_TIMER_UNIT_NS;
        m_gp_timer.arm_at(m_gp_deadline);
    } else {
        m_gp_deadline = Clock::NEVER;
    }
    update_irq();
}

// ---- CSR9: serial ROM and MII management -------------------------------

void Dec21140::write_csr9(u32 value) {
    m_csr[9] = value & ~(CSR9_SDO | CSR9_MDI);
    // Serial ROM: selected by SR; chip select low ends any command.
    bool sr = value & CSR9_SR;
    bool cs = sr && (value & CSR9_SCS);
    bool sclk = sr && (value & CSR9_SCLK);
    if (!cs) {
        m_ee_state = EeState::Idle;
        m_ee_count = 0;
        m_ee_bits = 0;
    } else if (sclk && !m_ee_clock) {
        eeprom_clock(value & CSR9_SDI);
    }
    m_ee_clock = sclk;
    // MII: a rising MDC edge clocks MDO in (bit 18 clear: the chip drives)
    // or the PHY's next bit out.
    bool mdc = value & CSR9_MDC;
    if (mdc && !m_mii_clock) mii_clock(value & CSR9_MDO, !(value & CSR9_MII_READ));
    m_mii_clock = mdc;
}

// One rising SK edge with CS high. Leading zeros before the start bit are
// ignored (93C46 data sheet); after a read command's last address bit the
// part drives a dummy zero, then the words from that address on, as many
// as are clocked out (sequential read).
void Dec21140::eeprom_clock(bool di) {
    switch (m_ee_state) {
    case EeState::Idle:
        if (di) {
            m_ee_state = EeState::Command;
            m_ee_count = 0;
            m_ee_bits = 0;
        }
        return;
    case EeState::Command:
        m_ee_bits = static_cast<u16>(m_ee_bits << 1 | (di ? 1 : 0));
        if (++m_ee_count < 2 + EE_ADDRESS_BITS) return;
        if ((m_ee_bits >> EE_ADDRESS_BITS) == EE_OP_READ) {
            m_ee_state = EeState::Read;
            m_ee_addr = static_cast<u8>(m_ee_bits & 63);
            m_ee_pos = 0;
        } else {
            m_ee_state = EeState::Ignore; // write, erase, enable: a ROM here
        }
        return;
    case EeState::Read:
        // Bounded: the position wraps over the whole part.
        m_ee_pos = m_ee_pos >= 64 * 16 ? 1 : m_ee_pos + 1;
        return;
    case EeState::Ignore:
        return;
    }
}

// One rising MDC edge. The frame: at least 32 ones of preamble, start
// 01, opcode (10 read, 01 write), PHY address, register, then a
// turnaround and 16 data bits, driven by the PHY for a read.
void Dec21140::mii_clock(bool mdo, bool driving) {
    switch (m_mii_state) {
    case MiiState::Idle:
        if (!driving) return;
        if (mdo) {
            if (m_mii_ones < 32) ++m_mii_ones;
        } else if (m_mii_ones >= 32) {
            m_mii_state = MiiState::Command; // the 0 of the start bits
            m_mii_bits = 0;
            m_mii_count = 1;
        } else {
            m_mii_ones = 0;
        }
        return;
    case MiiState::Command: {
        m_mii_bits = m_mii_bits << 1 | (mdo ? 1 : 0);
        if (++m_mii_count < 14) return;
        unsigned start = (m_mii_bits >> 12) & 3, op = (m_mii_bits >> 10) & 3;
        unsigned phy = (m_mii_bits >> 5) & 31, reg = m_mii_bits & 31;
        m_mii_ones = 0;
        m_mii_count = 0;
        if (start == 1 && op == 2) {
            // The turnaround's high-impedance bit, its zero, the data, then
            // an idle (high) line. An absent PHY leaves the line high.
            u16 data = phy == PHY_ADDRESS ? phy_read(reg) : 0xFFFF;
            m_mii_out = phy == PHY_ADDRESS ? 0x8000'0000u | u32(data) << 14 | 0x3FFFu : 0xFFFF'FFFFu;
            m_mii_state = MiiState::Read;
        } else if (start == 1 && op == 1) {
            m_mii_target = static_cast<u16>(phy << 5 | reg);
            m_mii_bits = 0;
            m_mii_state = MiiState::Write;
        } else {
            m_mii_state = MiiState::Idle;
        }
        return;
    }
    case MiiState::Read:
        m_mii_out = m_mii_out << 1 | 1;
        if (++m_mii_count >= 18) {
            m_mii_state = MiiState::Idle;
            m_mii_out = 0xFFFF'FFFF;
        }
        return;
    case MiiState::Write:
        m_mii_bits = m_mii_bits << 1 | (mdo ? 1 : 0);
        if (++m_mii_count < 18) return; // turnaround and 16 data bits
        if ((m_mii_target >> 5) == PHY_ADDRESS) phy_write(m_mii_target & 31, static_cast<u16>(m_mii_bits));
        m_mii_state = MiiState::Idle;
        m_mii_count = 0;
        return;
    }
}

u16 Dec21140::phy_read(unsigned reg) {
    switch (reg) {
    case MII_BMCR:
        return m_bmcr;
    case MII_BMSR: {
        // Link status latches low until read (clause 22.2.4.2.13).
        bool link = m_link_up && !m_link_latched_low;
        m_link_latched_low = false;
        u16 v = BMSR_CAPABILITIES;
        if (link) v |= BMSR_LINK;
        if (link && (m_bmcr & BMCR_ANENABLE)) v |= BMSR_ANEG_COMPLETE;
        return v;
    }
    case MII_PHYSID1:
        return PHYSID1;
    case MII_PHYSID2:
        return PHYSID2;
    case MII_ANAR:
        return m_anar;
    case MII_ANLPAR:
        return m_link_up ? ANLPAR_PARTNER : 0;
    case MII_ANER:
        return m_link_up ? 1 : 0; // link partner autonegotiation able
    default:
        return 0;
    }
}

void Dec21140::phy_write(unsigned reg, u16 value) {
    if (reg == MII_BMCR) {
        if (value & BMCR_RESET) {
            m_bmcr = BMCR_DEFAULT;
            m_anar = ANAR_DEFAULT;
            return;
        }
        m_bmcr = value & ~BMCR_ANRESTART; // negotiation completes at once
    } else if (reg == MII_ANAR) {
        m_anar = value;
    }
}

void Dec21140::set_link(bool up) {
    if (!up && m_link_up) m_link_latched_low = true;
    m_link_up = up;
}

// ---- descriptors -------------------------------------------------------

bool Dec21140::fetch(u32 addr, Descriptor& d) {
    std::array<u8, DESCRIPTOR_BYTES> raw{};
    if (!m_memory.read_bytes(addr, raw)) return false;
    d.addr = addr;
    d.des0 = le32(raw.data());
    d.des1 = le32(raw.data() + 4);
    d.des2 = le32(raw.data() + 8);
    d.des3 = le32(raw.data() + 12);
    return true;
}

// Writes the status longword back, which hands the descriptor to the host.
bool Dec21140::close(Descriptor const& d, u32 des0) {
    std::array<u8, 4> raw{};
    put_le32(raw.data(), des0);
    return m_memory.write_bytes(d.addr, raw);
}

u32 Dec21140::next_descriptor(Descriptor const& d, u32 ring_bit, u32 chain_bit, u32 base) const {
    // End of ring wins over chaining (manual 4.2.2).
    if (d.des1 & ring_bit) return base;
    if (d.des1 & chain_bit) return d.des3 & ~3u;
    u32 skip = ((m_csr[0] >> CSR0_DSL_SHIFT) & 31) * 4;
    return d.addr + DESCRIPTOR_BYTES + skip;
}

// A master abort (the address is not RAM): both processes stop, FBE.
void Dec21140::fatal_bus_error() {
    count_ignored();
    m_csr[5] = (m_csr[5] & ~CSR5_EB_MASK) | CSR5_FBE | CSR5_EB_MASTER_ABORT;
    set_tx_state(STATE_STOPPED);
    set_rx_state(STATE_STOPPED);
    m_tx_kick.cancel();
    m_tx_kick_pending = false;
    m_tx_frame.clear();
    m_tx_in_frame = false;
    update_irq();
}

void Dec21140::set_tx_state(u8 s) {
    m_csr[5] = (m_csr[5] & ~(7u << 20)) | u32(s & 7) << 20;
}

void Dec21140::set_rx_state(u8 s) {
    m_csr[5] = (m_csr[5] & ~(7u << 17)) | u32(s & 7) << 17;
}

// ---- transmit ----------------------------------------------------------

void Dec21140::run_tx() {
    for (unsigned n = 0; n < TX_DESCRIPTORS_PER_PASS; ++n) {
        if (!(m_csr[6] & CSR6_ST) || tx_state() == STATE_STOPPED) return;
        if (!bus_master()) return; // no DMA: the process waits
        Descriptor d;
        if (!fetch(m_tx_current, d)) return fatal_bus_error();
        if (!(d.des0 & DES0_OWN)) {
            set_tx_state(TX_SUSPENDED);
            m_csr[5] |= CSR5_TU;
            return update_irq();
        }
        set_tx_state(3); // running, reading buffers
        u32 status = 0;
        bool interrupt = false;
        if (d.des1 & TDES1_SET) {
            process_setup_frame(d);
            interrupt = d.des1 & TDES1_IC;
        } else {
            if (d.des1 & TDES1_FS) {
                m_tx_frame.clear();
                m_tx_in_frame = true;
            }
            // Both buffers (the second is the next descriptor when chained).
            std::array<std::pair<u32, u32>, 2> buffers{
                {{d.des2, tbs1(d.des1)}, {d.des3, (d.des1 & TDES1_TCH) ? 0 : tbs2(d.des1)}}};
            for (auto [addr, len] : buffers) {
                if (len == 0 || !m_tx_in_frame) continue;
                std::size_t at = m_tx_frame.size();
                // Past the jabber limit only the length is kept counting.
                std::size_t keep =
                    std::min<std::size_t>(len, MAX_TX_FRAME + 1 - std::min(at, MAX_TX_FRAME + 1));
                std::array<u8, 0x7FF> chunk{};
                if (!m_memory.read_bytes(addr, std::span(chunk.data(), len))) return fatal_bus_error();
                m_tx_frame.insert(m_tx_frame.end(), chunk.begin(),
                                  chunk.begin() + static_cast<std::ptrdiff_t>(keep));
            }
            if ((d.des1 & TDES1_LS) && m_tx_in_frame) {
                if (m_tx_frame.size() > MAX_TX_FRAME) {
                    status = TDES0_ES | TDES0_TO;
                    m_csr[5] |= CSR5_TJT;
                    count_ignored();
                } else if (!m_link_up) {
                    // No cable: the frame goes nowhere, without carrier.
                    status = TDES0_ES | TDES0_LO | TDES0_NC;
                } else {
                    m_backend.send(m_tx_frame);
                    ++m_frames_sent;
                }
                m_tx_frame.clear();
                m_tx_in_frame = false;
                interrupt = d.des1 & TDES1_IC;
            }
        }
        set_tx_state(7); // closing
        if (!close(d, status)) return fatal_bus_error();
        if (interrupt) m_csr[5] |= CSR5_TI;
        m_tx_current = next_descriptor(d, TDES1_TER, TDES1_TCH, m_csr[4]);
        set_tx_state(1);
    }
    // Bounded work per call: the rest of a long ring on the next tick.
    m_tx_kick_pending = true;
    m_tx_kick.arm_after(1000);
    update_irq();
}

// A setup frame (manual 4.2.3): 192 bytes in buffer 1, each 16-bit
// quantity of an address in the low half of a longword. FT1/FT0 choose
// the filter: 00 perfect (16 addresses), 01 hash (512 bits in longwords
// 0-31, one perfect address in entry 13), 10 inverse perfect, 11 hash
// only. A shorter buffer is not a setup frame the chip can use: ignored.
void Dec21140::process_setup_frame(Descriptor const& d) {
    if (tbs1(d.des1) < SETUP_FRAME_BYTES) return count_ignored();
    std::array<u8, SETUP_FRAME_BYTES> b{};
    if (!m_memory.read_bytes(d.des2, b)) return count_ignored();
    bool ft1 = d.des1 & TDES1_FT1, ft0 = d.des1 & TDES1_FT0;
    auto entry = [&](unsigned i, u8* out) {
        u8 const* e = b.data() + 12 * i;
        out[0] = e[0], out[1] = e[1], out[2] = e[4], out[3] = e[5], out[4] = e[8], out[5] = e[9];
    };
    m_csr[6] &= ~CSR6_READ_ONLY;
    if (!ft0) {
        for (unsigned i = 0; i < 16; ++i)
            entry(i, m_perfect.data() + 6 * i);
        if (ft1) m_csr[6] |= CSR6_IF;
    } else {
        for (unsigned i = 0; i < 32; ++i) {
            m_hash[2 * i] = b[4 * i];
            m_hash[2 * i + 1] = b[4 * i + 1];
        }
        m_perfect.fill(0);
        if (!ft1) entry(13, m_perfect.data());
        m_csr[6] |= CSR6_HP | (ft1 ? CSR6_HO : 0);
    }
}

// ---- receive -----------------------------------------------------------

bool Dec21140::hash_hit(u8 const* mac) const {
    u32 index = crc32_le(std::span(mac, 6)) & 0x1FF;
    return (m_hash[index / 8] >> (index % 8)) & 1;
}

bool Dec21140::accepts(std::span<u8 const> frame) const {
    u8 const* dst = frame.data();
    bool multicast = dst[0] & 1;
    if (m_csr[6] & (CSR6_PR | CSR6_RA)) return true;
    if (multicast && (m_csr[6] & CSR6_PM)) return true;
    auto in_perfect = [&](unsigned count) {
        for (unsigned i = 0; i < count; ++i)
            if (std::memcmp(m_perfect.data() + 6 * i, dst, 6) == 0) return true;
        return false;
    };
    if (!(m_csr[6] & CSR6_HP)) {
        bool hit = in_perfect(16);
        return (m_csr[6] & CSR6_IF) ? !hit : hit;
    }
    if (m_csr[6] & CSR6_HO) return hash_hit(dst);
    return multicast ? hash_hit(dst) : in_perfect(1);
}

// The current descriptor is the chip's (or is readable at all).
bool Dec21140::check_rx_descriptor() {
    Descriptor d;
    if (!fetch(m_rx_current, d)) {
        fatal_bus_error();
        return false;
    }
    return d.des0 & DES0_OWN;
}

bool Dec21140::receive(std::span<u8 const> frame) {
    if (!(m_csr[6] & CSR6_SR) || rx_state() == STATE_STOPPED || !m_link_up) return false;
    if (frame.size() < 14 || frame.size() > MAX_RX_FRAME) {
        count_ignored();
        return false;
    }
    if (!accepts(frame)) return false;
    auto missed = [this] {
        u32 count = m_csr[8] & 0xFFFF;
        if (count == 0xFFFF)
            m_csr[8] |= CSR8_OVERFLOW;
        else
            m_csr[8] = (m_csr[8] & ~0xFFFFu) | (count + 1);
        return false;
    };
    if (!bus_master()) return missed();

    // The frame as the wire carried it: padded to the minimum, and its FCS.
    std::array<u8, MAX_RX_FRAME + FCS_BYTES> wire{};
    std::copy(frame.begin(), frame.end(), wire.begin());
    std::size_t len = std::max(frame.size(), MIN_FRAME);
    put_le32(wire.data() + len, ~crc32_le(std::span(wire.data(), len)));
    len += FCS_BYTES;

    // Find the descriptors the frame needs before writing any: a ring
    // without room misses the frame whole.
    std::array<Descriptor, RX_DESCRIPTORS_PER_FRAME> used;
    unsigned count = 0;
    std::size_t room = 0;
    u32 at = m_rx_current;
    while (room < len) {
        if (count == RX_DESCRIPTORS_PER_FRAME) {
            count_ignored(); // a ring of empty buffers
            return missed();
        }
        Descriptor& d = used[count];
        if (!fetch(at, d)) {
            fatal_bus_error();
            return false;
        }
        if (!(d.des0 & DES0_OWN)) {
            set_rx_state(RX_SUSPENDED);
            m_csr[5] |= CSR5_RU;
            update_irq();
            return missed();
        }
        room += tbs1(d.des1) + ((d.des1 & RDES1_RCH) ? 0 : tbs2(d.des1));
        ++count;
        at = next_descriptor(d, RDES1_RER, RDES1_RCH, m_csr[3]);
    }

    std::size_t done = 0;
    for (unsigned i = 0; i < count; ++i) {
        Descriptor const& d = used[i];
        std::array<std::pair<u32, u32>, 2> buffers{
            {{d.des2, tbs1(d.des1)}, {d.des3, (d.des1 & RDES1_RCH) ? 0 : tbs2(d.des1)}}};
        for (auto [addr, size] : buffers) {
            std::size_t n = std::min<std::size_t>(size, len - done);
            if (n == 0) continue;
            if (!m_memory.write_bytes(addr, std::span(wire.data() + done, n))) {
                fatal_bus_error();
                return false;
            }
            done += n;
        }
        u32 status = i == 0 ? RDES0_FS : 0;
        if (i + 1 == count) {
            status |= RDES0_LS | u32(len) << 16;
            if (frame[0] & 1) status |= RDES0_MF;
            if ((u32(frame[12]) << 8 | frame[13]) >= 0x600) status |= RDES0_FT;
        }
        if (!close(d, status)) {
            fatal_bus_error();
            return false;
        }
    }
    m_rx_current = at;
    set_rx_state(RX_WAITING);
    m_csr[5] |= CSR5_RI;
    ++m_frames_received;
    update_irq();
    return true;
}

// ---- interrupts and state ------------------------------------------------

void Dec21140::update_irq() {
    u32 enabled = m_csr[5] & m_csr[7];
    m_csr[5] &= ~(CSR5_NIS | CSR5_AIS);
    if (enabled & CSR5_NORMAL) m_csr[5] |= CSR5_NIS;
    if (enabled & CSR5_ABNORMAL) m_csr[5] |= CSR5_AIS;
    bool level =
        ((m_csr[5] & CSR5_NIS) && (m_csr[7] & CSR7_NIE)) || ((m_csr[5] & CSR5_AIS) && (m_csr[7] & CSR7_AIE));
    set_irq_level(level);
}

void Dec21140::visit_state(StateVisitor& v) {
    v.section("dec21140", 1);
    visit_pci_state(v);
    v.field("csr", m_csr);
    v.field("tx_current", m_tx_current);
    v.field("rx_current", m_rx_current);
    v.field("tx_frame", m_tx_frame, MAX_TX_FRAME + 1);
    v.field("tx_in_frame", m_tx_in_frame);
    v.field("tx_kick_pending", m_tx_kick_pending);
    v.field("perfect", m_perfect);
    v.field("hash", m_hash);
    v.field("gp_deadline", m_gp_deadline);
    v.field("ee_state", m_ee_state);
    v.field("ee_count", m_ee_count);
    v.field("ee_bits", m_ee_bits);
    v.field("ee_pos", m_ee_pos);
    v.field("ee_addr", m_ee_addr);
    v.field("ee_clock", m_ee_clock);
    v.field("mii_state", m_mii_state);
    v.field("mii_ones", m_mii_ones);
    v.field("mii_count", m_mii_count);
    v.field("mii_bits", m_mii_bits);
    v.field("mii_out", m_mii_out);
    v.field("mii_target", m_mii_target);
    v.field("mii_clock", m_mii_clock);
    v.field("bmcr", m_bmcr);
    v.field("anar", m_anar);
    v.field("link_up", m_link_up);
    v.field("link_latched_low", m_link_latched_low);
    if (v.is_loading() && v.ok()) {
        if (m_ee_state > EeState::Ignore || m_mii_state > MiiState::Write)
            v.fail("dec21140: serial interface state out of range");
        else if (m_ee_count > 2 + EE_ADDRESS_BITS || m_ee_addr > 63 || m_ee_pos > 64 * 16 ||
                 m_mii_ones > 32 || m_mii_count > 18)
            v.fail("dec21140: serial interface counter out of range");
    }
}

void Dec21140::post_load() {
    PciDevice::post_load();
    m_tx_kick.cancel();
    if (m_tx_kick_pending) m_tx_kick.arm_after(1000);
    m_gp_timer.cancel();
    if (m_gp_deadline != Clock::NEVER) m_gp_timer.arm_at(m_gp_deadline);
    update_irq();
}

} // namespace vsa
