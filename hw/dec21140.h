// SPDX-License-Identifier: GPL-2.0-or-later
// Dec21140: the DEC (Intel) 21140A "Tulip" Fast Ethernet PCI controller,
// 1011:0009 revision 0x20, the adapter Virtual Server 2005 gave its VMs
// (up to four). References: "Digital Semiconductor 21140A PCI Fast
// Ethernet LAN Controller Hardware Reference Manual" (EC-QN7NC-TE), chapter
// 3 (CSRs), chapter 4 (descriptors, setup frames, filtering); "Digital
// Semiconductor 21X4 Serial ROM Format" version 3.03; IEEE 802.3 clause 22
// (MII management). The behaviour a guest relies on was checked against
// what Linux's tulip driver (drivers/net/ethernet/dec/tulip) does with the
// chip; no driver code is used here.
//
// Registers: 16 CSRs, CSR n at 8*n of a 128-byte I/O BAR (BAR0, what tulip
// uses) and the same CSRs in a 128-byte memory BAR (BAR1). The manual
// demands longword accesses: a byte or word read returns that part of the
// CSR, a byte or word write is dropped and counted.
//
// Modelled:
//   - CSR0 bus mode: software reset (bit 0: the chip resets at once, the
//     write is not kept); the descriptor skip length (bits 6:2) spaces ring
//     descriptors; the rest (burst, cache alignment, arbitration, TAP) is
//     storage.
//   - CSR1/CSR2 poll demands, CSR3/CSR4 ring bases (a write also moves the
//     process's current descriptor to the base).
//   - CSR5 status: write-one-to-clear bits 16:0, NIS/AIS as the OR of the
//     enabled normal (TI TU RI ERI) and abnormal (TPS TJT UNF RU RPS RWT
//     ETI GTE FBE) bits, the transmit and receive process states
//     (bits 22:20 and 19:17) and the bus error bits. INTA is
//     (NIS and NIE) or (AIS and AIE).
//   - CSR6 operating mode: SR/ST start and stop the processes (stopping
//     sets the state to stopped at once, which tulip waits for, without
//     RPS/TPS: those report a stop the driver did not command — tulip
//     counts RPS as a receive error and restarts both processes on
//     either, which raced its own stop and logged "tulip_stop_rxtx()
//     failed" at every duplex change); PR, PM and RA filter; HP/HO/IF are read only and reflect the
//     filter mode of the last setup frame; FD, port select, TTM and the
//     rest are storage.
//   - CSR7 interrupt enables; CSR8 missed frames (bits 15:0, overflow bit
//     16, cleared by a read); CSR11 general purpose timer (bits 15:0 in
//     204.8 us units, bit 16 continuous, GTE on expiry, on the Clock);
//     CSR12 general purpose port (bit 8 set: direction write), CSR15
//     watchdog: storage.
//   - CSR9: a 93C46 serial EEPROM (64 x 16 bits, read command only;
//     writes/erases are ignored) holding an SROM in the 21X4 format v3:
//     the MAC at byte 20 and one info leaf with one 21140 MII PHY block
//     (PHY 0 of the leaf, no GPR or reset sequence, advertising 10/100
//     half and full duplex), so tulip reads the MAC and selects MII media.
//     The SROM has no CRC in its last word (tulip does not check it).
//     And MII management (MDC bit 16, MDO 17, mode 18, MDI 19) to a PHY at
//     address 1: BMCR (reset and restart self-clear), BMSR (link, latched
//     low as clause 22 says; autonegotiation complete while the link is
//     up), PHYSID (a National DP83840A's), ANAR (writable), ANLPAR (a
//     link partner doing 10/100 half/full, so the link comes up 100 Mbit
//     full duplex), ANER. Other PHY addresses read all ones.
//   - Transmit: the ring from CSR4 (ring mode, TER, TCH chaining), frames
//     from FS to LS over any number of descriptors and both buffers, IC ->
//     TI, a host-owned descriptor suspends the process with TU (tulip
//     reclaims its ring on TU), setup frames (SET, 192 bytes): perfect (16
//     addresses), hash (512 bits + one perfect address), inverse perfect,
//     hash only, selected by FT1/FT0. A descriptor with OWN and no
//     buffers (tulip's "dummy" entry before a setup frame) is closed and
//     sends nothing. A frame over MAX_TX_FRAME bytes is not sent: its last
//     descriptor gets ES|TO and CSR5 TJT (the jabber timer would cut it).
//   - Receive: filtering, then the frame plus its FCS (and padding to 64
//     bytes) goes to the ring from CSR3, over as many descriptors as it
//     needs (FS on the first, LS and the frame length incl. FCS on the
//     last, MF for multicast, FT for a type field), RI. No owned descriptor
//     when a frame arrives: RU, the process suspends, the frame is missed
//     (CSR8). A suspended process resumes on CSR2 or the next frame.
//   - Guest memory only through MemoryMap::read_bytes/write_bytes, which
//     check every address and length: a descriptor or buffer outside RAM
//     is a master abort, CSR5 FBE, and both processes stop (as the chip
//     does on a fatal bus error). Without PCI bus mastering the processes
//     make no progress. Each pass over the transmit ring handles at most
//     TX_DESCRIPTORS_PER_PASS descriptors and continues on a timer, a
//     frame may use at most RX_DESCRIPTORS_PER_FRAME descriptors: a ring
//     that loops, or of empty buffers, costs bounded host time per call.
//   - set_link(): the PHY's link bit (latched low). The 21140 has no link
//     interrupt with an MII PHY; tulip polls BMSR (every 60 s while the
//     link is up, 3 s while down). While the link is down nothing is
//     received, and transmitted frames go nowhere: their descriptors
//     close with ES, LO and NC (no carrier).
//
// Not modelled: the FIFOs and their thresholds (frames move whole, at
// host speed), loopback modes (frames always go to the backend), big
// endian descriptors and buffers (CSR0 DBO/BLE), transmit automatic
// polling (CSR0 TAP: tulip uses poll demands), the boot ROM, early
// transmit/receive interrupts, collisions, the SYM/SRL ports, the
// receive watchdog and transmit jabber timers as timers. The 21140A has
// no interrupt mitigation in CSR11 (that is the 21143's); tulip does not
// use any on a 21140.
//
// The host side: frames leave through the NetBackend (hw/net_backend.h)
// and enter through receive(), both on the VM thread.
#pragma once

#include "hw/net_backend.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/memory_map.h"
#include "hypervisor/io/pci.h"

#include <array>
#include <span>
#include <vector>

namespace vsa {

class Dec21140 final : public PciDevice {
public:
    static constexpr u32 CSR_BYTES = 128;
    static constexpr u8 PHY_ADDRESS = 1;
    static constexpr std::size_t MAX_TX_FRAME = 1536; // without FCS; more is jabber
    static constexpr std::size_t MAX_RX_FRAME = 1518; // without FCS (a VLAN-tagged frame)
    static constexpr unsigned TX_DESCRIPTORS_PER_PASS = 256;
    static constexpr unsigned RX_DESCRIPTORS_PER_FRAME = 64;
    static constexpr u64 GP_TIMER_UNIT_NS = 204'800;

    // CSR5 bits.
    static constexpr u32 CSR5_TI = 1u << 0;
    static constexpr u32 CSR5_TPS = 1u << 1;
    static constexpr u32 CSR5_TU = 1u << 2;
    static constexpr u32 CSR5_TJT = 1u << 3;
    static constexpr u32 CSR5_UNF = 1u << 5;
    static constexpr u32 CSR5_RI = 1u << 6;
    static constexpr u32 CSR5_RU = 1u << 7;
    static constexpr u32 CSR5_RPS = 1u << 8;
    static constexpr u32 CSR5_RWT = 1u << 9;
    static constexpr u32 CSR5_ETI = 1u << 10;
    static constexpr u32 CSR5_GTE = 1u << 11;
    static constexpr u32 CSR5_FBE = 1u << 13;
    static constexpr u32 CSR5_ERI = 1u << 14;
    static constexpr u32 CSR5_AIS = 1u << 15;
    static constexpr u32 CSR5_NIS = 1u << 16;
    // CSR6 bits.
    static constexpr u32 CSR6_HP = 1u << 0;
    static constexpr u32 CSR6_SR = 1u << 1;
    static constexpr u32 CSR6_HO = 1u << 2;
    static constexpr u32 CSR6_IF = 1u << 4;
    static constexpr u32 CSR6_PR = 1u << 6;
    static constexpr u32 CSR6_PM = 1u << 7;
    static constexpr u32 CSR6_ST = 1u << 13;
    static constexpr u32 CSR6_RA = 1u << 30;
    // Process states (CSR5 bits 22:20 transmit, 19:17 receive).
    static constexpr u8 STATE_STOPPED = 0;
    static constexpr u8 RX_WAITING = 3;
    static constexpr u8 RX_SUSPENDED = 4;
    static constexpr u8 TX_SUSPENDED = 6;
    // Descriptor bits.
    static constexpr u32 DES0_OWN = 1u << 31;
    static constexpr u32 TDES0_ES = 1u << 15;
    static constexpr u32 TDES0_TO = 1u << 14;
    static constexpr u32 TDES0_LO = 1u << 11; // loss of carrier
    static constexpr u32 TDES0_NC = 1u << 10; // no carrier
    static constexpr u32 TDES1_IC = 1u << 31;
    static constexpr u32 TDES1_LS = 1u << 30;
    static constexpr u32 TDES1_FS = 1u << 29;
    static constexpr u32 TDES1_FT1 = 1u << 28;
    static constexpr u32 TDES1_SET = 1u << 27;
    static constexpr u32 TDES1_TER = 1u << 25;
    static constexpr u32 TDES1_TCH = 1u << 24;
    static constexpr u32 TDES1_FT0 = 1u << 22;
    static constexpr u32 RDES0_FF = 1u << 30;
    static constexpr u32 RDES0_ES = 1u << 15;
    static constexpr u32 RDES0_MF = 1u << 10;
    static constexpr u32 RDES0_FS = 1u << 9;
    static constexpr u32 RDES0_LS = 1u << 8;
    static constexpr u32 RDES0_FT = 1u << 5;
    static constexpr u32 RDES1_RER = 1u << 25;
    static constexpr u32 RDES1_RCH = 1u << 24;

    Dec21140(MemoryMap& memory, Clock& clock, NetBackend& backend, MacAddress const& mac);

    std::string_view name() const override { return "dec21140"; }
    void reset() override;
    void visit_state(StateVisitor& v) override;
    void post_load() override;

    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    u32 mmio_read(u64 offset, Width width) override;
    void mmio_write(u64 offset, Width width, u32 value) override;

    // A frame from the wire (destination MAC first, no FCS). True if it
    // was written into the guest's receive ring; false if the receiver is
    // stopped, the link is down, the filter rejects it, it is malformed,
    // or there was no room (then it counts as missed).
    bool receive(std::span<u8 const> frame);
    // Plugs or unplugs the cable.
    void set_link(bool up);
    bool link_up() const { return m_link_up; }
    MacAddress const& mac() const { return m_mac; }
    // CSR n as the guest would read it, without side effects (tests).
    u32 csr(unsigned n) const;
    u16 srom_word(unsigned index) const { return m_srom[index & 63]; }

    u64 frames_sent() const { return m_frames_sent; }
    u64 frames_received() const { return m_frames_received; }

private:
    struct Descriptor {
        u32 addr{0};
        u32 des0{0}, des1{0}, des2{0}, des3{0};
    };
    enum class EeState : u8 { Idle, Command, Read, Ignore };
    enum class MiiState : u8 { Idle, Command, Read, Write };

    u32 read_csr(unsigned n);
    void write_csr(unsigned n, u32 value);
    void chip_reset();
    void write_csr6(u32 value);
    void write_csr9(u32 value);
    void write_csr11(u32 value);
    void eeprom_clock(bool di);
    void mii_clock(bool mdo, bool driving);
    u16 phy_read(unsigned reg);
    void phy_write(unsigned reg, u16 value);

    void run_tx();
    void process_setup_frame(Descriptor const& d);
    bool fetch(u32 addr, Descriptor& d);
    bool close(Descriptor const& d, u32 des0);
    u32 next_descriptor(Descriptor const& d, u32 ring_bit, u32 chain_bit, u32 base) const;
    bool check_rx_descriptor();
    void fatal_bus_error();
    bool accepts(std::span<u8 const> frame) const;
    bool hash_hit(u8 const* mac) const;
    void set_tx_state(u8 s);
    void set_rx_state(u8 s);
    u8 tx_state() const { return static_cast<u8>((m_csr[5] >> 20) & 7); }
    u8 rx_state() const { return static_cast<u8>((m_csr[5] >> 17) & 7); }
    bool bus_master() const { return command() & pci::COMMAND_BUS_MASTER; }
    void update_irq();
    void gp_timer_fired();
    void build_srom();

    MemoryMap& m_memory;
    Clock& m_clock;
    NetBackend& m_backend;
    MacAddress m_mac;
    std::array<u16, 64> m_srom{};

    std::array<u32, 16> m_csr{};
    u32 m_tx_current{0};
    u32 m_rx_current{0};
    std::vector<u8> m_tx_frame;
    bool m_tx_in_frame{false};
    bool m_tx_kick_pending{false};
    Timer m_tx_kick;
    // Filter: 16 perfect addresses, the 512-bit hash table.
    std::array<u8, 16 * 6> m_perfect{};
    std::array<u8, 64> m_hash{};
    // CSR11.
    Timer m_gp_timer;
    u64 m_gp_deadline{Clock::NEVER};
    // CSR9 serial EEPROM.
    EeState m_ee_state{EeState::Idle};
    u8 m_ee_count{0};
    u16 m_ee_bits{0};
    u32 m_ee_pos{0};
    u8 m_ee_addr{0};
    bool m_ee_clock{false};
    // CSR9 MII management and the PHY.
    MiiState m_mii_state{MiiState::Idle};
    u8 m_mii_ones{0};
    u8 m_mii_count{0};
    u32 m_mii_bits{0};
    u32 m_mii_out{0xFFFF'FFFF}; // bits still to present, MSB first
    u16 m_mii_target{0};        // phy << 5 | register of a write in progress
    bool m_mii_clock{false};
    u16 m_bmcr{0};
    u16 m_anar{0};
    bool m_link_up{true};
    bool m_link_latched_low{false};

    u64 m_frames_sent{0};
    u64 m_frames_received{0};
};

} // namespace vsa
