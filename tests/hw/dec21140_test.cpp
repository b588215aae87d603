// SPDX-License-Identifier: GPL-2.0-or-later
// The DEC 21140A NIC: PCI identity, CSR reset values, the SROM and the MII
// PHY through CSR9 bit-banging (as Linux's tulip driver does it), the
// transmit ring (ring and chained descriptors, multi-buffer frames, setup
// frames), the receive ring (status, length, FCS, frames over several
// descriptors, no descriptor), the filters, interrupts, the general
// purpose timer, malformed descriptors, random registers, save/restore.
#include "hw/dec21140.h"
#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <random>
#include <string_view>

using namespace vsa;

namespace {

constexpr Port BASE = 0xC000;
constexpr MacAddress MAC{0x00, 0x03, 0xFF, 0x12, 0x34, 0x56};

class RecordingBackend final : public NetBackend {
public:
    void send(std::span<u8 const> frame) override { frames.emplace_back(frame.begin(), frame.end()); }
    std::vector<std::vector<u8>> frames;
};

// The test's own bitwise CRC-32 (IEEE 802.3, reflected), checked against
// the published check value below so that it is an independent oracle for
// the device's FCS and hash filter rather than a copy of them.
u32 crc32_le(std::span<u8 const> data) {
    u32 crc = 0xFFFF'FFFF;
    for (u8 byte : data) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc >> 1) ^ ((crc & 1) ? 0xEDB8'8320u : 0);
    }
    return crc;
}

struct Rig {
    Clock clock{Clock::Mode::Manual};
    IoBus io;
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
    PciBus bus{io, *memory};
    RecordingBackend backend;
    Dec21140 nic{*memory, clock, backend, MAC};
    bool irq{false};
    unsigned irq_edges{0};

    Rig() {
        BOOST_REQUIRE(io.map(PciBus::CONFIG_ADDRESS, 8, bus));
        bus.set_pirq_sink([this](unsigned, bool level) {
            if (level && !irq) ++irq_edges;
            irq = level;
        });
        BOOST_REQUIRE(bus.attach(3, 0, nic));
        cfg_write(0x10, BASE);
        cfg_write(0x14, 0xFEB0'0000);
        cfg_write(0x04, pci::COMMAND_IO | pci::COMMAND_MEMORY | pci::COMMAND_BUS_MASTER);
    }
    u32 cfg_read(u8 reg) {
        io.write(0xCF8, Width::Dword, 0x8000'0000u | (3u << 11) | reg);
        return io.read(0xCFC, Width::Dword);
    }
    void cfg_write(u8 reg, u32 value) {
        io.write(0xCF8, Width::Dword, 0x8000'0000u | (3u << 11) | reg);
        io.write(0xCFC, Width::Dword, value);
    }
    u32 csr(unsigned n) { return io.read(static_cast<Port>(BASE + 8 * n), Width::Dword); }
    void csr(unsigned n, u32 v) { io.write(static_cast<Port>(BASE + 8 * n), Width::Dword, v); }

    // ---- CSR9 bit-banging, the way tulip drives the chip ----
    u32 srom_read(unsigned location, unsigned addr_len) {
        constexpr u32 ENB = 0x4800 | 1, CLK = 2, DI = 4, DO = 8;
        u32 cmd = location | (6u << addr_len), ret = 0;
        csr(9, ENB & ~1u);
        csr(9, ENB);
        for (int i = 4 + static_cast<int>(addr_len); i >= 0; --i) {
            u32 d = (cmd >> i) & 1 ? DI : 0;
            csr(9, ENB | d);
            csr(9, ENB | d | CLK);
            ret = ret << 1 | ((csr(9) & DO) ? 1 : 0);
        }
        csr(9, ENB);
        for (int i = 16; i > 0; --i) {
            csr(9, ENB | CLK);
            ret = ret << 1 | ((csr(9) & DO) ? 1 : 0);
            csr(9, ENB);
        }
        csr(9, ENB & ~1u);
        return ret;
    }
    static constexpr u32 MDC = 0x10000, MDO = 0x20000, MREAD = 0x40000, MDI = 0x80000;
    u16 mdio_read(unsigned phy, unsigned reg) {
        u32 cmd = (0xF6u << 10) | (phy << 5) | reg, ret = 0;
        for (int i = 32; i >= 0; --i) {
            csr(9, MDO);
            csr(9, MDO | MDC);
        }
        for (int i = 15; i >= 0; --i) {
            u32 d = (cmd >> i) & 1 ? MDO : 0;
            csr(9, d);
            csr(9, d | MDC);
        }
        for (int i = 19; i > 0; --i) {
            csr(9, MREAD);
            ret = ret << 1 | ((csr(9) & MDI) ? 1 : 0);
            csr(9, MREAD | MDC);
        }
        return static_cast<u16>((ret >> 1) & 0xFFFF);
    }
    void mdio_write(unsigned phy, unsigned reg, u16 value) {
        u32 cmd = (0x5002u << 16) | (phy << 23) | (reg << 18) | value;
        for (int i = 32; i >= 0; --i) {
            csr(9, MDO);
            csr(9, MDO | MDC);
        }
        for (int i = 31; i >= 0; --i) {
            u32 d = (cmd >> i) & 1 ? MDO : 0;
            csr(9, d);
            csr(9, d | MDC);
        }
        for (int i = 2; i > 0; --i) {
            csr(9, MREAD);
            csr(9, MREAD | MDC);
        }
    }

    // ---- guest memory ----
    void put32(u32 addr, u32 v) {
        u8 b[4] = {static_cast<u8>(v), static_cast<u8>(v >> 8), static_cast<u8>(v >> 16),
                   static_cast<u8>(v >> 24)};
        BOOST_REQUIRE(memory->write_bytes(addr, b));
    }
    u32 get32(u32 addr) {
        u8 b[4];
        BOOST_REQUIRE(memory->read_bytes(addr, b));
        return u32(b[0]) | u32(b[1]) << 8 | u32(b[2]) << 16 | u32(b[3]) << 24;
    }
    void put_bytes(u32 addr, std::span<u8 const> data) { BOOST_REQUIRE(memory->write_bytes(addr, data)); }
    std::vector<u8> get_bytes(u32 addr, std::size_t n) {
        std::vector<u8> out(n);
        BOOST_REQUIRE(memory->read_bytes(addr, out));
        return out;
    }
    void descriptor(u32 at, u32 des0, u32 des1, u32 buf1, u32 buf2) {
        put32(at, des0);
        put32(at + 4, des1);
        put32(at + 8, buf1);
        put32(at + 12, buf2);
    }

    // A setup frame through the transmit ring at 0x1000 (buffer at 0x2000).
    void setup_frame(std::vector<MacAddress> const& perfect, std::vector<MacAddress> const& hashed = {},
                     bool hash = false, bool hash_only = false) {
        std::array<u8, 192> f{};
        auto put_entry = [&](unsigned i, MacAddress const& m) {
            for (unsigned w = 0; w < 3; ++w) {
                f[12 * i + 4 * w] = m[2 * w];
                f[12 * i + 4 * w + 1] = m[2 * w + 1];
            }
        };
        if (!hash) {
            for (unsigned i = 0; i < 16; ++i)
                put_entry(i, perfect.empty() ? MacAddress{}
                                             : perfect[std::min<std::size_t>(i, perfect.size() - 1)]);
        } else {
            for (auto const& m : hashed) {
                u32 index = crc32_le(m) & 0x1FF;
                f[4 * (index / 16) + (index % 16) / 8] |= static_cast<u8>(1u << (index % 8));
            }
            if (!perfect.empty()) put_entry(13, perfect[0]);
        }
        put_bytes(0x2000, f);
        u32 des1 = Dec21140::TDES1_SET | Dec21140::TDES1_TER | 192;
        if (hash) des1 |= Dec21140::TDES1_FT0;
        if (hash_only) des1 |= Dec21140::TDES1_FT1;
        descriptor(0x1000, Dec21140::DES0_OWN, des1, 0x2000, 0);
        csr(4, 0x1000);
        csr(6, csr(6) | Dec21140::CSR6_ST);
        csr(1, 0);
        BOOST_REQUIRE_EQUAL(get32(0x1000) & Dec21140::DES0_OWN, 0u);
    }
    // A receive ring of `n` descriptors at 0x3000, buffers of `size` from 0x10000.
    void rx_ring(unsigned n, u32 size = 1536) {
        for (unsigned i = 0; i < n; ++i)
            descriptor(0x3000 + 16 * i, Dec21140::DES0_OWN, size | (i + 1 == n ? Dec21140::RDES1_RER : 0),
                       0x10000 + 0x800 * i, 0);
        csr(3, 0x3000);
        csr(6, csr(6) | Dec21140::CSR6_SR);
    }
    void start_plain() {
        csr(6, 0); // stop, not promiscuous
        csr(5, 0xFFFF'FFFF);
    }
};

std::vector<u8> make_frame(MacAddress const& dst, std::size_t len, u8 seed = 1) {
    std::vector<u8> f(len);
    std::copy(dst.begin(), dst.end(), f.begin());
    MacAddress src{0x52, 0x54, 0, 0, 0, 9};
    std::copy(src.begin(), src.end(), f.begin() + 6);
    f[12] = 0x08;
    f[13] = 0x00;
    for (std::size_t i = 14; i < len; ++i)
        f[i] = static_cast<u8>(i * 7 + seed);
    return f;
}

} // namespace

BOOST_AUTO_TEST_SUITE(dec21140)

BOOST_AUTO_TEST_CASE(test_crc_matches_the_published_check_value) {
    std::string_view check = "123456789";
    BOOST_TEST(~crc32_le(std::span(reinterpret_cast<u8 const*>(check.data()), check.size())) == 0xCBF4'3926u);
}

BOOST_AUTO_TEST_CASE(pci_identity_and_bars) {
    Rig r;
    BOOST_TEST(r.cfg_read(0x00) == 0x0009'1011u);
    BOOST_TEST(r.cfg_read(0x08) == 0x0200'0020u);     // class 02/00/00, revision 0x20
    BOOST_TEST((r.cfg_read(0x3C) >> 8 & 0xFF) == 1u); // INTA
    r.cfg_write(0x10, 0xFFFF'FFFF);
    BOOST_TEST(r.cfg_read(0x10) == 0xFFFF'FF81u); // 128 bytes of I/O
    r.cfg_write(0x14, 0xFFFF'FFFF);
    BOOST_TEST(r.cfg_read(0x14) == 0xFFFF'FF80u); // 128 bytes of memory
    r.cfg_write(0x10, BASE);
    r.cfg_write(0x14, 0xFEB0'0000);
    // The memory BAR reaches the same CSRs.
    r.csr(7, 0x1234);
    BOOST_TEST((r.memory->read(0xFEB0'0038, Width::Dword) & 0xFFFF) == 0x1234u);
    r.memory->write(0xFEB0'0038, Width::Dword, 0x4321);
    BOOST_TEST((r.csr(7) & 0xFFFF) == 0x4321u);
}

BOOST_AUTO_TEST_CASE(csr_reset_values) {
    Rig r;
    BOOST_TEST(r.csr(0) == 0xFE00'0000u);
    BOOST_TEST(r.csr(5) == 0xFC00'0000u);
    BOOST_TEST(r.csr(6) == 0x3200'0040u);
    BOOST_TEST(r.csr(7) == 0xFFFE'0000u);
    BOOST_TEST(r.csr(8) == 0xE000'0000u);
    BOOST_TEST(r.csr(11) == 0xFFFE'0000u);
    // Storage, then a software reset puts it all back.
    r.csr(0, 0x01A0'8000);
    BOOST_TEST(r.csr(0) == 0xFFA0'8000u);
    r.csr(7, 0x0001'EBEF);
    r.csr(15, 0xABCD);
    r.csr(0, 1);
    BOOST_TEST(r.csr(0) == 0xFE00'0000u);
    BOOST_TEST(r.csr(7) == 0xFFFE'0000u);
    BOOST_TEST(r.csr(15) == 0xFFFF'FEC8u);
    // Byte writes are not CSR cycles; byte reads are.
    r.io.write(BASE + 8 * 7, Width::Byte, 0xFF);
    BOOST_TEST(r.csr(7) == 0xFFFE'0000u);
    BOOST_TEST(r.io.read(BASE + 3, Width::Byte) == 0xFEu);
}

BOOST_AUTO_TEST_CASE(srom_through_csr9_gives_the_mac_and_an_mii_leaf) {
    Rig r;
    // tulip's size probe: bit 18 is the 93C46's dummy zero after 6 address bits.
    BOOST_TEST((r.srom_read(0xFF, 8) & 0x40000) == 0u);
    std::array<u8, 128> ee{};
    for (unsigned i = 0; i < 64; ++i) {
        u16 w = static_cast<u16>(r.srom_read(i, 6));
        ee[2 * i] = static_cast<u8>(w);
        ee[2 * i + 1] = static_cast<u8>(w >> 8);
        BOOST_TEST(w == r.nic.srom_word(i));
    }
    // Not the old "address in the first bytes" layout: the MAC is at 20.
    BOOST_TEST(!std::equal(ee.begin(), ee.begin() + 8, ee.begin() + 16));
    BOOST_TEST(std::equal(MAC.begin(), MAC.end(), ee.begin() + 20));
    unsigned leaf = ee[27];
    BOOST_TEST(leaf == 30u);
    BOOST_TEST(ee[leaf + 3] == 1u);          // one block
    BOOST_TEST((ee[leaf + 4] & 0x80) != 0u); // extended
    BOOST_TEST(ee[leaf + 5] == 1u);          // 21140 MII PHY
    BOOST_TEST((ee[leaf + 11] | ee[leaf + 12] << 8) == 0x01E0);
    // A second probe after a different command still works.
    BOOST_TEST(static_cast<u16>(r.srom_read(10, 6)) == (MAC[0] | MAC[1] << 8));
}

BOOST_AUTO_TEST_CASE(mii_phy_link_and_registers) {
    Rig r;
    BOOST_TEST(r.mdio_read(0, 1) == 0xFFFFu); // nobody at address 0
    u16 bmsr = r.mdio_read(Dec21140::PHY_ADDRESS, 1);
    BOOST_TEST(bmsr == 0x782Du);
    BOOST_TEST((bmsr & 0x8301) != 0x8001); // what tulip_find_mii screens for ...
    BOOST_TEST(((bmsr & 0x8000) == 0 && (bmsr & 0x7800) != 0));
    BOOST_TEST(r.mdio_read(1, 2) == 0x2000u);
    BOOST_TEST(r.mdio_read(1, 3) == 0x5C01u);
    BOOST_TEST(r.mdio_read(1, 4) == 0x01E1u);
    BOOST_TEST(r.mdio_read(1, 5) == 0x45E1u);
    r.mdio_write(1, 4, 0x0181);
    BOOST_TEST(r.mdio_read(1, 4) == 0x0181u);
    r.mdio_write(1, 0, 0x1200); // autoneg enable + restart
    BOOST_TEST(r.mdio_read(1, 0) == 0x1000u);
    r.mdio_write(1, 0, 0x8000); // reset
    BOOST_TEST(r.mdio_read(1, 0) == 0x3100u);
    BOOST_TEST(r.mdio_read(1, 4) == 0x01E1u);

    r.nic.set_link(false);
    BOOST_TEST((r.mdio_read(1, 1) & 0x0024) == 0u);
    BOOST_TEST(r.mdio_read(1, 5) == 0u);
    r.nic.set_link(true);
    BOOST_TEST((r.mdio_read(1, 1) & 0x0004) != 0u);
    // Down and up again between two reads: latched low for one read.
    r.nic.set_link(false);
    r.nic.set_link(true);
    BOOST_TEST((r.mdio_read(1, 1) & 0x0004) == 0u);
    BOOST_TEST((r.mdio_read(1, 1) & 0x0004) != 0u);
}

BOOST_AUTO_TEST_CASE(tx_ring_multi_buffer_frames) {
    Rig r;
    r.start_plain();
    r.csr(7, 0x0001'EBEF);
    auto frame = make_frame({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, 300);
    r.put_bytes(0x5000, std::span(frame).subspan(0, 100));
    r.put_bytes(0x6000, std::span(frame).subspan(100, 50));
    r.put_bytes(0x7000, std::span(frame).subspan(150, 150));
    // Descriptor 0: FS, buffers of 100 and 50; descriptor 1: LS|IC|TER, 150.
    r.descriptor(0x1000, Dec21140::DES0_OWN, Dec21140::TDES1_FS | 100 | 50u << 11, 0x5000, 0x6000);
    r.descriptor(0x1010, Dec21140::DES0_OWN,
                 Dec21140::TDES1_LS | Dec21140::TDES1_IC | Dec21140::TDES1_TER | 150, 0x7000, 0);
    r.csr(4, 0x1000);
    r.csr(6, Dec21140::CSR6_ST);
    BOOST_REQUIRE_EQUAL(r.backend.frames.size(), 1u);
    BOOST_TEST(r.backend.frames[0] == frame);
    BOOST_TEST(r.get32(0x1000) == 0u);
    BOOST_TEST(r.get32(0x1010) == 0u);
    u32 s = r.csr(5);
    BOOST_TEST((s & Dec21140::CSR5_TI) != 0u);
    BOOST_TEST((s & Dec21140::CSR5_TU) != 0u); // wrapped to descriptor 0, host-owned
    BOOST_TEST(((s >> 20) & 7) == 6u);         // suspended
    BOOST_TEST((s & Dec21140::CSR5_NIS) != 0u);
    BOOST_TEST(r.irq);
    // Wrapped: descriptor 0 again, after a poll demand. No IC: only TU.
    r.csr(5, 0x1FFFF);
    BOOST_TEST(!r.irq);
    auto small = make_frame(MAC, 60, 3);
    r.put_bytes(0x5000, small);
    r.descriptor(0x1000, Dec21140::DES0_OWN, Dec21140::TDES1_FS | Dec21140::TDES1_LS | 60, 0x5000, 0);
    r.csr(1, 0);
    BOOST_REQUIRE_EQUAL(r.backend.frames.size(), 2u);
    BOOST_TEST(r.backend.frames[1] == small);
    BOOST_TEST((r.csr(5) & Dec21140::CSR5_TI) == 0u);
    // Without a cable the frame goes nowhere, with carrier errors.
    r.nic.set_link(false);
    r.descriptor(0x1010, Dec21140::DES0_OWN,
                 Dec21140::TDES1_FS | Dec21140::TDES1_LS | Dec21140::TDES1_TER | 60, 0x5000, 0);
    r.csr(1, 0);
    BOOST_TEST(r.backend.frames.size() == 2u);
    BOOST_TEST(r.get32(0x1010) == (Dec21140::TDES0_ES | Dec21140::TDES0_LO | Dec21140::TDES0_NC));
    r.nic.set_link(true);
    // Stopping both processes: states stopped at once, and no RPS/TPS
    // (nor an interrupt) for a stop the driver commanded.
    r.csr(7, 0xFFFFFFFF);
    r.csr(5, 0xFFFFFFFF);
    r.csr(6, 0);
    BOOST_TEST(((r.csr(5) >> 20) & 7) == 0u);
    BOOST_TEST(((r.csr(5) >> 17) & 7) == 0u);
    BOOST_TEST((r.csr(5) & (Dec21140::CSR5_TPS | Dec21140::CSR5_RPS)) == 0u);
    BOOST_TEST(!r.irq);
}

BOOST_AUTO_TEST_CASE(tx_chained_descriptors_and_skip_length) {
    Rig r;
    r.start_plain();
    auto frame = make_frame(MAC, 200);
    // Three chained descriptors at scattered addresses, one buffer each.
    r.put_bytes(0x5000, std::span(frame).subspan(0, 64));
    r.put_bytes(0x5100, std::span(frame).subspan(64, 64));
    r.put_bytes(0x5200, std::span(frame).subspan(128, 72));
    u32 tch = Dec21140::TDES1_TCH;
    r.descriptor(0x8000, Dec21140::DES0_OWN, tch | Dec21140::TDES1_FS | 64 | 0x7FFu << 11, 0x5000, 0x9000);
    r.descriptor(0x9000, Dec21140::DES0_OWN, tch | 64, 0x5100, 0xA000);
    r.descriptor(0xA000, Dec21140::DES0_OWN, tch | Dec21140::TDES1_LS | 72, 0x5200, 0x8000);
    r.csr(4, 0x8000);
    r.csr(6, Dec21140::CSR6_ST);
    BOOST_REQUIRE_EQUAL(r.backend.frames.size(), 1u);
    BOOST_TEST(r.backend.frames[0] == frame);
    // Ring mode with a descriptor skip length of 2 longwords (24-byte stride).
    r.csr(6, 0);
    r.csr(0, 2u << 2);
    r.put_bytes(0x5000, frame);
    r.descriptor(0xB000, Dec21140::DES0_OWN, Dec21140::TDES1_FS | Dec21140::TDES1_LS | 100, 0x5000, 0);
    r.descriptor(0xB018, Dec21140::DES0_OWN, Dec21140::TDES1_FS | Dec21140::TDES1_LS | 200, 0x5000, 0);
    r.put32(0xB010, Dec21140::DES0_OWN); // a descriptor at the wrong stride would be OWNed garbage
    r.csr(4, 0xB000);
    r.csr(6, Dec21140::CSR6_ST);
    BOOST_REQUIRE_EQUAL(r.backend.frames.size(), 3u);
    BOOST_TEST(r.backend.frames[1].size() == 100u);
    BOOST_TEST(r.backend.frames[2] == frame);
    // Zero-length "dummy" descriptor (tulip puts one before a setup frame).
    r.descriptor(0xB030, Dec21140::DES0_OWN, 0, 0, 0);
    r.csr(1, 0);
    BOOST_TEST(r.backend.frames.size() == 3u);
    BOOST_TEST(r.get32(0xB030) == 0u);
}

BOOST_AUTO_TEST_CASE(rx_ring_status_length_and_fcs) {
    Rig r;
    r.start_plain();
    r.csr(7, 0x0001'EBEF);
    r.setup_frame({MAC});
    BOOST_TEST((r.csr(6) & 0x15) == 0u); // perfect filtering: HP HO IF clear
    r.rx_ring(4);
    auto frame = make_frame(MAC, 100);
    BOOST_TEST(r.nic.receive(frame));
    u32 st = r.get32(0x3000);
    BOOST_TEST((st & Dec21140::DES0_OWN) == 0u);
    BOOST_TEST((st & (Dec21140::RDES0_FS | Dec21140::RDES0_LS)) == (Dec21140::RDES0_FS | Dec21140::RDES0_LS));
    BOOST_TEST(((st >> 16) & 0x3FFF) == 104u); // with the FCS
    BOOST_TEST((st & Dec21140::RDES0_ES) == 0u);
    BOOST_TEST((st & 0x3800'8300) == 0x0300u); // what tulip_rx calls a good frame
    auto got = r.get_bytes(0x10000, 104);
    BOOST_TEST(std::equal(frame.begin(), frame.end(), got.begin()));
    u32 fcs = got[100] | got[101] << 8 | got[102] << 16 | u32(got[103]) << 24;
    BOOST_TEST(fcs == ~crc32_le(frame));
    BOOST_TEST((r.csr(5) & Dec21140::CSR5_RI) != 0u);
    BOOST_TEST(r.irq);
    // A runt is padded to 60 bytes (64 with FCS).
    BOOST_TEST(r.nic.receive(make_frame(MAC, 20)));
    BOOST_TEST(((r.get32(0x3010) >> 16) & 0x3FFF) == 64u);
    BOOST_TEST(r.nic.frames_received() == 2u);
}

BOOST_AUTO_TEST_CASE(rx_frame_spanning_descriptors) {
    Rig r;
    r.start_plain();
    r.setup_frame({MAC});
    r.rx_ring(8, 256);
    auto frame = make_frame(MAC, 1000);
    BOOST_TEST(r.nic.receive(frame));
    // 1004 bytes: four 256-byte buffers.
    BOOST_TEST(r.get32(0x3000) == Dec21140::RDES0_FS);
    BOOST_TEST(r.get32(0x3010) == 0u);
    BOOST_TEST(r.get32(0x3020) == 0u);
    u32 last = r.get32(0x3030);
    BOOST_TEST((last & Dec21140::RDES0_LS) != 0u);
    BOOST_TEST(((last >> 16) & 0x3FFF) == 1004u);
    BOOST_TEST((r.get32(0x3040) & Dec21140::DES0_OWN) != 0u);
    std::vector<u8> got;
    for (unsigned i = 0; i < 4; ++i) {
        auto part = r.get_bytes(0x10000 + 0x800 * i, 256);
        got.insert(got.end(), part.begin(), part.end());
    }
    BOOST_TEST(std::equal(frame.begin(), frame.end(), got.begin()));
    // Chained receive descriptors with both sizes honoured: RBS2 ignored.
    r.csr(6, 0);
    r.descriptor(0x4000, Dec21140::DES0_OWN, Dec21140::RDES1_RCH | 1536 | 0x7FFu << 11, 0x20000, 0x4100);
    r.descriptor(0x4100, Dec21140::DES0_OWN, Dec21140::RDES1_RCH | 1536, 0x21000, 0x4000);
    r.csr(3, 0x4000);
    r.csr(6, Dec21140::CSR6_SR);
    BOOST_TEST(r.nic.receive(frame));
    BOOST_TEST(r.nic.receive(frame));
    BOOST_TEST(((r.get32(0x4100) >> 16) & 0x3FFF) == 1004u);
    BOOST_TEST(r.get_bytes(0x21000, 1000) == frame);
}

BOOST_AUTO_TEST_CASE(perfect_and_hash_filters) {
    Rig r;
    r.start_plain();
    MacAddress bcast{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    MacAddress other{0x00, 0x03, 0xFF, 0x99, 0x99, 0x99};
    MacAddress mc1{0x01, 0x00, 0x5E, 0x00, 0x00, 0x01};
    MacAddress mc2{0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
    r.rx_ring(16);
    r.setup_frame({MAC, bcast});
    BOOST_TEST(r.nic.receive(make_frame(MAC, 64)));
    BOOST_TEST(r.nic.receive(make_frame(bcast, 64)));
    BOOST_TEST(!r.nic.receive(make_frame(other, 64)));
    BOOST_TEST(!r.nic.receive(make_frame(mc1, 64)));
    // Pass all multicast; promiscuous.
    r.csr(6, r.csr(6) | Dec21140::CSR6_PM);
    BOOST_TEST(r.nic.receive(make_frame(mc1, 64)));
    BOOST_TEST((r.get32(0x3020) & Dec21140::RDES0_MF) != 0u);
    BOOST_TEST(!r.nic.receive(make_frame(other, 64)));
    r.csr(6, r.csr(6) | Dec21140::CSR6_PR);
    BOOST_TEST(r.nic.receive(make_frame(other, 64)));
    r.csr(6, r.csr(6) & ~(Dec21140::CSR6_PR | Dec21140::CSR6_PM));

    // Hash filtering: mc1 and broadcast hashed, one perfect address.
    r.setup_frame({MAC}, {mc1, bcast}, true);
    BOOST_TEST((r.csr(6) & Dec21140::CSR6_HP) != 0u);
    BOOST_TEST((r.csr(6) & Dec21140::CSR6_HO) == 0u);
    BOOST_TEST(r.nic.receive(make_frame(mc1, 64)));
    BOOST_TEST(r.nic.receive(make_frame(bcast, 64)));
    BOOST_TEST(!r.nic.receive(make_frame(mc2, 64)));
    BOOST_TEST(r.nic.receive(make_frame(MAC, 64)));
    BOOST_TEST(!r.nic.receive(make_frame(other, 64)));
    // Hash only: the unicast address goes through the hash too.
    r.setup_frame({}, {other}, true, true);
    BOOST_TEST((r.csr(6) & (Dec21140::CSR6_HP | Dec21140::CSR6_HO)) ==
               (Dec21140::CSR6_HP | Dec21140::CSR6_HO));
    BOOST_TEST(r.nic.receive(make_frame(other, 64)));
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 64)));
    // Inverse perfect filtering.
    r.setup_frame({MAC});
    r.descriptor(0x1000, Dec21140::DES0_OWN,
                 Dec21140::TDES1_SET | Dec21140::TDES1_TER | Dec21140::TDES1_FT1 | 192, 0x2000, 0);
    r.csr(1, 0);
    BOOST_TEST((r.csr(6) & Dec21140::CSR6_IF) != 0u);
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 64)));
    BOOST_TEST(r.nic.receive(make_frame(other, 64)));
    // Nothing when the receiver is stopped or the cable is out.
    r.setup_frame({MAC});
    r.nic.set_link(false);
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 64)));
    r.nic.set_link(true);
    r.csr(6, r.csr(6) & ~Dec21140::CSR6_SR);
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 64)));
}

BOOST_AUTO_TEST_CASE(rx_without_descriptors_is_missed) {
    Rig r;
    r.start_plain();
    r.csr(7, 0x0001'EBEF);
    r.setup_frame({MAC});
    r.rx_ring(2);
    BOOST_TEST(r.nic.receive(make_frame(MAC, 64)));
    BOOST_TEST(r.nic.receive(make_frame(MAC, 64)));
    r.csr(5, 0x1FFFF);
    BOOST_TEST(!r.irq);
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 64)));
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 64)));
    u32 s = r.csr(5);
    BOOST_TEST((s & Dec21140::CSR5_RU) != 0u);
    BOOST_TEST((s & Dec21140::CSR5_AIS) != 0u);
    BOOST_TEST(((s >> 17) & 7) == 4u); // suspended
    BOOST_TEST(r.irq);
    BOOST_TEST((r.csr(8) & 0x1FFFF) == 2u);
    BOOST_TEST((r.csr(8) & 0x1FFFF) == 0u); // cleared by the read
    // The host gives the descriptor back; a poll demand resumes.
    r.put32(0x3000, Dec21140::DES0_OWN);
    r.csr(2, 0);
    BOOST_TEST(((r.csr(5) >> 17) & 7) == 3u);
    BOOST_TEST(r.nic.receive(make_frame(MAC, 64)));
    // A frame too big for what the ring has left is missed whole.
    r.put32(0x3010, Dec21140::DES0_OWN);
    r.put32(0x3014, 100 | Dec21140::RDES1_RER);
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 300)));
    BOOST_TEST(r.get32(0x3010) == Dec21140::DES0_OWN);
}

BOOST_AUTO_TEST_CASE(malformed_descriptors_end_cleanly) {
    Rig r;
    r.start_plain();
    r.csr(7, 0x0001'EBEF);
    // Transmit ring outside RAM: fatal bus error, stopped.
    r.csr(4, 0xF000'0000);
    r.csr(6, Dec21140::CSR6_ST);
    u32 s = r.csr(5);
    BOOST_TEST((s & Dec21140::CSR5_FBE) != 0u);
    BOOST_TEST(((s >> 20) & 7) == 0u);
    BOOST_TEST(r.irq);
    r.csr(0, 1);
    BOOST_TEST(!r.irq);
    // A buffer outside RAM, and one running off the end of RAM.
    r.start_plain();
    r.descriptor(0x1000, Dec21140::DES0_OWN, Dec21140::TDES1_FS | Dec21140::TDES1_LS | 0x7FF, 16 * MiB - 16,
                 0);
    r.csr(4, 0x1000);
    r.csr(6, Dec21140::CSR6_ST);
    BOOST_TEST((r.csr(5) & Dec21140::CSR5_FBE) != 0u);
    BOOST_TEST(r.backend.frames.empty());
    r.csr(0, 1);
    // A chained descriptor pointing at itself without LS: each pass closes
    // it, so the walk ends; the frame never completes.
    r.start_plain();
    r.descriptor(0x1000, Dec21140::DES0_OWN, Dec21140::TDES1_TCH | Dec21140::TDES1_FS | 100, 0x5000, 0x1000);
    r.csr(4, 0x1000);
    r.csr(6, Dec21140::CSR6_ST);
    BOOST_TEST(r.get32(0x1000) == 0u);
    BOOST_TEST(r.backend.frames.empty());
    // A self-chained descriptor in ROM: readable, never closable.
    static std::array<u8, 4096> rom{};
    std::array<u8, 16> d{0, 0, 0, 0x80, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0};
    d[12] = 0x00;
    d[13] = 0x00;
    d[14] = 0xF0;
    d[15] = 0xFE; // buffer 2 / next = 0xFEF00000
    std::copy(d.begin(), d.end(), rom.begin());
    BOOST_REQUIRE(r.memory->map_rom(0xFEF0'0000, rom, &rom));
    r.csr(0, 1);
    r.start_plain();
    r.csr(4, 0xFEF0'0000);
    r.csr(6, Dec21140::CSR6_ST);
    BOOST_TEST((r.csr(5) & Dec21140::CSR5_FBE) != 0u);
    // An oversized frame (jabber): not sent, ES|TO, TJT.
    r.csr(0, 1);
    r.start_plain();
    for (unsigned i = 0; i < 4; ++i)
        r.descriptor(0x1000 + 16 * i, Dec21140::DES0_OWN,
                     (i == 0 ? Dec21140::TDES1_FS : 0) | (i == 3 ? Dec21140::TDES1_LS : 0) | 0x7FF |
                         0x7FFu << 11,
                     0x5000, 0x5000);
    r.csr(4, 0x1000);
    r.csr(6, Dec21140::CSR6_ST);
    BOOST_TEST(r.backend.frames.empty());
    BOOST_TEST(r.get32(0x1030) == (Dec21140::TDES0_ES | Dec21140::TDES0_TO));
    BOOST_TEST((r.csr(5) & Dec21140::CSR5_TJT) != 0u);
    // A huge ring of owned empty descriptors: bounded per pass, continued
    // on the clock, and it ends.
    r.csr(0, 1);
    r.start_plain();
    constexpr unsigned N = 3000;
    for (unsigned i = 0; i < N; ++i)
        r.descriptor(0x100000 + 16 * i, Dec21140::DES0_OWN, i + 1 == N ? Dec21140::TDES1_TER : 0, 0, 0);
    r.csr(4, 0x100000);
    r.csr(6, Dec21140::CSR6_ST);
    BOOST_TEST((r.get32(0x100000 + 16 * (N - 1)) & Dec21140::DES0_OWN) != 0u);
    for (unsigned i = 0; i < 20; ++i)
        r.clock.advance(10'000);
    BOOST_TEST((r.get32(0x100000 + 16 * (N - 1)) & Dec21140::DES0_OWN) == 0u);
    BOOST_TEST(((r.csr(5) >> 20) & 7) == 6u);

    // Receive: a ring of empty buffers is missed; a ring outside RAM stops.
    r.csr(0, 1);
    r.start_plain();
    r.setup_frame({MAC});
    for (unsigned i = 0; i < 100; ++i)
        r.descriptor(0x3000 + 16 * i, Dec21140::DES0_OWN, 0, 0, 0);
    r.csr(3, 0x3000);
    r.csr(6, r.csr(6) | Dec21140::CSR6_SR);
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 64)));
    BOOST_TEST((r.csr(8) & 0xFFFF) == 1u);
    r.csr(6, r.csr(6) & ~Dec21140::CSR6_SR);
    r.descriptor(0x3000, Dec21140::DES0_OWN, 1536, 0xF000'0000, 0);
    r.csr(3, 0x3000);
    r.csr(6, r.csr(6) | Dec21140::CSR6_SR);
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 64)));
    BOOST_TEST((r.csr(5) & Dec21140::CSR5_FBE) != 0u);
    BOOST_TEST(((r.csr(5) >> 17) & 7) == 0u);
    // Oversized and undersized frames from the host are refused.
    r.csr(0, 1);
    r.start_plain();
    r.setup_frame({MAC});
    r.rx_ring(4);
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 4000)));
    BOOST_TEST(!r.nic.receive(std::vector<u8>(MAC.begin(), MAC.end())));
    // No bus mastering: no DMA at all.
    r.cfg_write(0x04, pci::COMMAND_IO);
    BOOST_TEST(!r.nic.receive(make_frame(MAC, 64)));
    BOOST_TEST((r.get32(0x3000) & Dec21140::DES0_OWN) != 0u);
}

BOOST_AUTO_TEST_CASE(interrupts_follow_csr5_and_csr7) {
    Rig r;
    r.start_plain();
    r.setup_frame({MAC});
    r.rx_ring(4);
    r.csr(5, 0x1FFFF);
    r.csr(7, 0);
    BOOST_TEST(r.nic.receive(make_frame(MAC, 64)));
    BOOST_TEST((r.csr(5) & Dec21140::CSR5_RI) != 0u);
    BOOST_TEST((r.csr(5) & Dec21140::CSR5_NIS) == 0u); // RI not enabled
    BOOST_TEST(!r.irq);
    r.csr(7, Dec21140::CSR5_RI); // RIE without NIE: summary, no interrupt
    BOOST_TEST((r.csr(5) & Dec21140::CSR5_NIS) != 0u);
    BOOST_TEST(!r.irq);
    r.csr(7, Dec21140::CSR5_RI | Dec21140::CSR5_NIS);
    BOOST_TEST(r.irq);
    r.csr(5, Dec21140::CSR5_TI); // clearing another bit changes nothing
    BOOST_TEST(r.irq);
    r.csr(5, Dec21140::CSR5_RI);
    BOOST_TEST(!r.irq);
    // PCI INTx disable masks the pin.
    BOOST_TEST(r.nic.receive(make_frame(MAC, 64)));
    BOOST_TEST(r.irq);
    r.cfg_write(0x04, pci::COMMAND_IO | pci::COMMAND_BUS_MASTER | pci::COMMAND_INTX_DISABLE);
    BOOST_TEST(!r.irq);
    r.cfg_write(0x04, pci::COMMAND_IO | pci::COMMAND_BUS_MASTER);
    BOOST_TEST(r.irq);
    // General purpose timer: 10 units of 204.8 us, one shot, then continuous.
    r.csr(5, 0x1FFFF);
    r.csr(7, Dec21140::CSR5_GTE | Dec21140::CSR5_AIS);
    r.csr(11, 10);
    BOOST_TEST((r.csr(11) & 0xFFFF) == 10u);
    r.clock.advance(5 * Dec21140::GP_TIMER_UNIT_NS);
    BOOST_TEST((r.csr(11) & 0xFFFF) == 5u);
    BOOST_TEST(!r.irq);
    r.clock.advance(5 * Dec21140::GP_TIMER_UNIT_NS);
    BOOST_TEST((r.csr(5) & (Dec21140::CSR5_GTE | Dec21140::CSR5_AIS)) ==
               (Dec21140::CSR5_GTE | Dec21140::CSR5_AIS));
    BOOST_TEST(r.irq);
    r.csr(5, Dec21140::CSR5_GTE);
    r.clock.advance(20 * Dec21140::GP_TIMER_UNIT_NS);
    BOOST_TEST(!r.irq);
    r.csr(11, 0x10000 | 4);
    r.clock.advance(4 * Dec21140::GP_TIMER_UNIT_NS);
    BOOST_TEST(r.irq);
    r.csr(5, Dec21140::CSR5_GTE);
    r.clock.advance(4 * Dec21140::GP_TIMER_UNIT_NS);
    BOOST_TEST(r.irq);
}

BOOST_AUTO_TEST_CASE(random_registers_and_descriptors) {
    Rig r;
    std::mt19937 rng(21140);
    // Random descriptors in low RAM and random CSR values, rings included.
    for (unsigned round = 0; round < 20000; ++round) {
        if (round % 64 == 0)
            for (u32 a = 0; a < 0x400; a += 4)
                r.put32(a, rng() % 4 ? static_cast<u32>(rng()) : (rng() & 0x3FC));
        unsigned n = rng() % 16;
        switch (rng() % 6) {
        case 0:
            r.csr(n, static_cast<u32>(rng()) & (n == 0 ? ~1u : ~0u));
            break;
        case 1:
            r.csr(n, static_cast<u32>(rng() & 0x3FC));
            break;
        case 2:
            (void)r.csr(n);
            break;
        case 3: {
            std::vector<u8> f(rng() % 1600);
            for (auto& b : f)
                b = static_cast<u8>(rng());
            (void)r.nic.receive(f);
            break;
        }
        case 4:
            r.nic.set_link(rng() & 1);
            break;
        case 5:
            r.clock.advance(rng() % 100'000);
            break;
        }
    }
    vsa::test::random_register_loop(r.nic, Dec21140::CSR_BYTES, 20000);
}

BOOST_AUTO_TEST_CASE(save_load_save_and_bad_streams) {
    Rig r;
    r.start_plain();
    r.setup_frame({MAC}, {MacAddress{0x01, 0, 0x5E, 0, 0, 1}}, true);
    r.rx_ring(4);
    r.csr(7, 0x0001'EBEF);
    r.csr(11, 0x10000 | 100);
    BOOST_TEST(r.nic.receive(make_frame(MAC, 64)));
    // Mid-frame transmit and mid-command SROM read.
    r.descriptor(0x1000, Dec21140::DES0_OWN, Dec21140::TDES1_FS | 40, 0x5000, 0);
    r.csr(1, 0);
    r.csr(9, 0x4801);
    r.csr(9, 0x4805);
    r.csr(9, 0x4807);
    r.nic.set_link(false);

    Rig other;
    vsa::test::check_save_load_save(r.nic, other.nic);
    BOOST_TEST(other.irq == r.irq);
    BOOST_TEST(other.csr(6) == r.csr(6));
    // The loaded NIC carries on: the frame's end is transmitted (the
    // cable was out at the save; plugged in again).
    BOOST_TEST(!other.nic.link_up());
    other.nic.set_link(true);
    other.descriptor(0x1010, Dec21140::DES0_OWN, Dec21140::TDES1_LS | 20, 0x5000, 0);
    other.put_bytes(0x5000, std::vector<u8>(64, 0xAB));
    other.csr(1, 0);
    BOOST_REQUIRE_EQUAL(other.backend.frames.size(), 1u);
    BOOST_TEST(other.backend.frames[0].size() == 60u);
    Rig third;
    vsa::test::check_bad_streams_fail(r.nic, third.nic);
}

BOOST_AUTO_TEST_SUITE_END()
