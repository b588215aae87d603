// SPDX-License-Identifier: GPL-2.0-or-later
// The i440FX host bridge: identity, PAM decoding through a real MemoryMap
// with a BIOS image (ROM vs RAM at 0xF0000 and in the 16 KiB segments),
// SeaBIOS's shadow sequence, SMRAM lock, reset and save/restore.
#include "hw/i440fx.h"
#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <random>

using namespace vsa;

namespace {
constexpr u64 BIOS_SIZE = 128 * KiB;

// The BIOS image: byte i of the last 128 KiB is (i * 3 + 1) & 0xFF, so the
// ROM side of the shadow area is recognisable.
std::vector<u8> bios_image() {
    std::vector<u8> image(BIOS_SIZE);
    for (std::size_t i = 0; i < image.size(); ++i)
        image[i] = static_cast<u8>(i * 3 + 1);
    return image;
}
u8 rom_byte(PhysAddr addr) {
    return static_cast<u8>((addr - 0xE0000) * 3 + 1);
}

struct Rig {
    Clock clock{Clock::Mode::Manual};
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
    I440fx bridge{*memory};
    Rig() {
        BOOST_REQUIRE(memory->set_bios(bios_image()));
        bridge.reset();
    }
    u8 pam(unsigned i) {
        return static_cast<u8>(bridge.config_read(static_cast<u8>(I440fx::PAM0 + i), Width::Byte));
    }
    void set_pam(unsigned i, u8 v) { bridge.config_write(static_cast<u8>(I440fx::PAM0 + i), Width::Byte, v); }
};
} // namespace

BOOST_AUTO_TEST_SUITE(i440fx)

BOOST_AUTO_TEST_CASE(identity_and_defaults) {
    Rig r;
    BOOST_TEST(r.bridge.config_read(0x00, Width::Dword) == 0x1237'8086u);
    BOOST_TEST(r.bridge.config_read(0x08, Width::Dword) == 0x0600'0002u);
    BOOST_TEST(r.bridge.config_read(0x0E, Width::Byte) == 0u);
    BOOST_TEST(r.bridge.config_read(0x04, Width::Word) == 0x0006u);
    BOOST_TEST(r.bridge.config_read(I440fx::SMRAM, Width::Byte) == 0x02u);
    BOOST_TEST(r.bridge.config_read(0x58, Width::Byte) == 0x10u);
    // SeaBIOS reads PAM as dwords at 0x58 and 0x5C: all PCI side at reset.
    BOOST_TEST(r.bridge.config_read(0x58, Width::Dword) == 0x0000'0010u);
    BOOST_TEST(r.bridge.config_read(0x5C, Width::Dword) == 0u);
    // Vendor/device/class are read-only.
    r.bridge.config_write(0x00, Width::Dword, 0);
    r.bridge.config_write(0x08, Width::Dword, 0);
    BOOST_TEST(r.bridge.config_read(0x00, Width::Dword) == 0x1237'8086u);
    BOOST_TEST(r.bridge.config_read(0x08, Width::Dword) == 0x0600'0002u);
}

BOOST_AUTO_TEST_CASE(pam0_switches_the_f_segment_between_rom_and_ram) {
    Rig r;
    MemoryMap& m = *r.memory;
    m.ram()[0xF0000] = 0xAB;
    BOOST_TEST(m.read(0xF0000, Width::Byte) == rom_byte(0xF0000));
    BOOST_TEST(m.read(0xFFFF0, Width::Byte) == rom_byte(0xFFFF0));
    r.set_pam(0, 0x10); // read RAM
    BOOST_TEST(m.read(0xF0000, Width::Byte) == 0xABu);
    m.write(0xF0000, Width::Byte, 0x11); // write still to the PCI side: dropped
    BOOST_TEST(m.read(0xF0000, Width::Byte) == 0xABu);
    r.set_pam(0, 0x20); // write-only: reads come from ROM, writes go to RAM
    BOOST_TEST(m.read(0xF0000, Width::Byte) == rom_byte(0xF0000));
    m.write(0xF0000, Width::Byte, 0x22);
    BOOST_TEST(m.ram()[0xF0000] == 0x22);
    r.set_pam(0, 0x30);
    BOOST_TEST(m.read(0xF0000, Width::Byte) == 0x22u);
    // PAM0's low nibble is reserved.
    r.set_pam(0, 0x0F);
    BOOST_TEST(r.pam(0) == 0u);
    BOOST_TEST(m.read(0xF0000, Width::Byte) == rom_byte(0xF0000));
}

BOOST_AUTO_TEST_CASE(pam1_to_pam6_map_16k_segments) {
    Rig r;
    MemoryMap& m = *r.memory;
    // Mark every 16 KiB segment of 0xC0000..0xEFFFF in RAM.
    for (unsigned seg = 0; seg < 12; ++seg)
        m.ram()[0xC0000 + seg * 0x4000] = static_cast<u8>(0xA0 + seg);
    for (unsigned seg = 0; seg < 12; ++seg) {
        unsigned reg = 1 + seg / 2;
        u8 value = seg % 2 ? 0x10 : 0x01; // RE in the segment's nibble
        r.set_pam(reg, value);
        PhysAddr addr = 0xC0000 + seg * 0x4000;
        BOOST_TEST_CONTEXT("segment " << seg) {
            BOOST_TEST(m.read(addr, Width::Byte) == 0xA0u + seg);
            // The neighbouring segment in the same register is untouched.
            PhysAddr other = seg % 2 ? addr - 0x4000 : addr + 0x4000;
            BOOST_TEST(m.read(other, Width::Byte) != (0xA0u + (seg % 2 ? seg - 1 : seg + 1)));
        }
        r.set_pam(reg, 0);
    }
    // Below 0xE0000 the PCI side is open bus; from 0xE0000 the BIOS alias.
    BOOST_TEST(m.read(0xC0000, Width::Byte) == 0xFFu);
    BOOST_TEST(m.read(0xE4000, Width::Byte) == rom_byte(0xE4000));
    // A dword write at 0x5C sets PAM3..PAM6 at once.
    r.bridge.config_write(0x5C, Width::Dword, 0x3333'3333);
    m.write(0xD0000, Width::Byte, 0x5A);
    m.write(0xEC000, Width::Byte, 0x5B);
    BOOST_TEST(m.read(0xD0000, Width::Byte) == 0x5Au);
    BOOST_TEST(m.read(0xEC000, Width::Byte) == 0x5Bu);
}

BOOST_AUTO_TEST_CASE(seabios_shadow_sequence) {
    Rig r;
    MemoryMap& m = *r.memory;
    // make_bios_writable: read both PAM dwords, set 0x33 for PAM1..6 and
    // 0x30 for PAM0, write them back as dwords.
    u32 lo = r.bridge.config_read(0x58, Width::Dword);
    u32 hi = r.bridge.config_read(0x5C, Width::Dword);
    lo = (lo & 0x0000'00FF) | 0x3333'3000;
    hi = 0x3333'3333;
    r.bridge.config_write(0x58, Width::Dword, lo);
    r.bridge.config_write(0x5C, Width::Dword, hi);
    BOOST_TEST(r.bridge.config_read(0x58, Width::Byte) == 0x10u); // DRAMT kept
    // Copy the BIOS from its high alias (4 GiB - 128 KiB) into the RAM at
    // 0xE0000..0xFFFFF.
    for (PhysAddr a = 0xE0000; a < 0x100000; a += 4) {
        u32 v = m.read(0xFFFE'0000 + (a - 0xE0000), Width::Dword);
        m.write(a, Width::Dword, v);
    }
    // The shadow is RAM now: the BIOS may patch its data in place.
    m.write(0xF1000, Width::Byte, 0x77);
    BOOST_TEST(m.read(0xF1000, Width::Byte) == 0x77u);
    BOOST_TEST(m.read(0xFFFF0, Width::Byte) == rom_byte(0xFFFF0));
    // make_bios_readonly: F segment read-only RAM (0x10), the rest too.
    r.bridge.config_write(0x58, Width::Dword, (lo & 0x0000'00FF) | 0x1111'1000);
    r.bridge.config_write(0x5C, Width::Dword, 0x1111'1111);
    m.write(0xF1000, Width::Byte, 0x99); // dropped
    BOOST_TEST(m.read(0xF1000, Width::Byte) == 0x77u);
    BOOST_TEST(m.read(0xE0010, Width::Byte) == rom_byte(0xE0010));
    // The fast path sees plain RAM pages for reads and none for writes.
    BOOST_TEST(m.host_read_page(0xF0000) == m.ram() + 0xF0000);
    BOOST_TEST(m.host_write_page(0xF0000) == nullptr);
}

// Debian's SeaBIOS image, when installed: its reset vector (a far JMP,
// 0xEA) is seen at 0xFFFF0 through the PCI side, then through the shadow
// RAM after the copy, and the copy is byte-identical to the high alias.
BOOST_AUTO_TEST_CASE(shadowing_the_real_seabios_image) {
    std::ifstream file("/usr/share/seabios/bios.bin", std::ios::binary);
    if (!file) {
        BOOST_TEST_MESSAGE("no /usr/share/seabios/bios.bin; skipped");
        return;
    }
    std::vector<u8> image((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto memory = MemoryMap::create(16 * MiB).release_value();
    BOOST_REQUIRE(memory->set_bios(image));
    I440fx bridge(*memory);
    bridge.reset();
    BOOST_TEST(memory->read(0xFFFF0, Width::Byte) == 0xEAu);
    BOOST_TEST(memory->read(0xFFFF'FFF0, Width::Byte) == 0xEAu);
    bridge.config_write(I440fx::PAM0, Width::Byte, 0x30);
    BOOST_TEST(memory->read(0xFFFF0, Width::Byte) == 0u); // RAM, not yet copied
    PhysAddr alias = MemoryMap::FOUR_GIB - image.size();
    for (PhysAddr a = 0x100000 - image.size(); a < 0x100000; a += 4)
        memory->write(a, Width::Dword, memory->read(alias + (a - (0x100000 - image.size())), Width::Dword));
    bridge.config_write(I440fx::PAM0, Width::Byte, 0x10);
    BOOST_TEST(memory->read(0xFFFF0, Width::Byte) == 0xEAu);
    BOOST_TEST(std::equal(image.end() - 0x10000, image.end(), memory->ram() + 0xF0000));
}

BOOST_AUTO_TEST_CASE(smram_lock) {
    Rig r;
    auto smram = [&] { return r.bridge.config_read(I440fx::SMRAM, Width::Byte); };
    r.bridge.config_write(I440fx::SMRAM, Width::Byte, 0xEF);
    // C_BASE_SEG is fixed; D_OPEN and D_CLS together: D_OPEN dropped.
    BOOST_TEST(smram() == 0x2Au);
    r.bridge.config_write(I440fx::SMRAM, Width::Byte, 0x4A); // open, enabled
    BOOST_TEST(smram() == 0x4Au);
    r.bridge.config_write(I440fx::SMRAM, Width::Byte, 0x5A); // lock
    BOOST_TEST(smram() == 0x1Au);                            // locking closes
    r.bridge.config_write(I440fx::SMRAM, Width::Byte, 0x42); // try to reopen, unlock
    BOOST_TEST(smram() == 0x1Au);
    r.bridge.config_write(I440fx::SMRAM, Width::Byte, 0x3A); // D_CLS still works
    BOOST_TEST(smram() == 0x3Au);
    r.bridge.reset();
    BOOST_TEST(smram() == 0x02u);
    r.bridge.config_write(I440fx::SMRAM, Width::Byte, 0x4A);
    BOOST_TEST(smram() == 0x4Au);
}

BOOST_AUTO_TEST_CASE(reset_returns_the_shadow_area_to_rom) {
    Rig r;
    r.memory->ram()[0xF0000] = 0xAB;
    r.set_pam(0, 0x30);
    BOOST_TEST(r.memory->read(0xF0000, Width::Byte) == 0xABu);
    r.clock.advance(1'000'000);
    r.bridge.reset();
    BOOST_TEST(r.pam(0) == 0u);
    BOOST_TEST(r.memory->read(0xF0000, Width::Byte) == rom_byte(0xF0000));
}

BOOST_AUTO_TEST_CASE(save_load_applies_pam_and_lock) {
    Rig a;
    a.memory->ram()[0xC8000] = 0x42;
    a.set_pam(2, 0x03);
    a.bridge.config_write(I440fx::SMRAM, Width::Byte, 0x1A);
    Rig b;
    b.memory->ram()[0xC8000] = 0x43;
    vsa::test::check_save_load_save(a.bridge, b.bridge);
    BOOST_TEST(b.memory->read(0xC8000, Width::Byte) == 0x43u); // b's RAM, through PAM
    b.bridge.config_write(I440fx::SMRAM, Width::Byte, 0x4A);
    BOOST_TEST(b.bridge.config_read(I440fx::SMRAM, Width::Byte) == 0x1Au); // still locked
    Rig c;
    vsa::test::check_bad_streams_fail(a.bridge, c.bridge);
}

BOOST_AUTO_TEST_CASE(random_config_loop) {
    Rig r;
    std::mt19937 rng(17);
    Width const widths[] = {Width::Byte, Width::Word, Width::Dword};
    for (int i = 0; i < 50000; ++i) {
        Width w = widths[rng() % 3];
        u8 reg = static_cast<u8>(rng() & ~(width_bytes(w) - 1));
        if (rng() % 2)
            r.bridge.config_write(reg, w, rng());
        else
            (void)r.bridge.config_read(reg, w);
        (void)r.memory->read(0xC0000 + rng() % 0x40000, Width::Byte);
    }
    vsa::test::random_register_loop(r.bridge, 16, 1000);
    r.bridge.reset();
    BOOST_TEST(r.memory->read(0xF0000, Width::Byte) == rom_byte(0xF0000));
}

BOOST_AUTO_TEST_SUITE_END()
