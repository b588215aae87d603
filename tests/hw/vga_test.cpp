// SPDX-License-Identifier: GPL-2.0-or-later
// Vga: registers through the port bus, display memory through a real
// MemoryMap (the 0xA0000 window and the PCI BAR0 framebuffer), the Bochs
// DISPI interface, the PCI identity and ROM BAR, retrace timing on a manual
// clock, and the usual fuzz / save-load / bad-stream checks.
#include "hw/vga.h"

#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>

using namespace vsa;

namespace {

constexpr u8 PCI_SLOT = 2;
constexpr PhysAddr LFB_BASE = 0xE000'0000;
constexpr PhysAddr ROM_BASE = 0xFEB0'0000;

std::vector<u8> test_rom() {
    std::vector<u8> rom(40 * 1024);
    for (std::size_t i = 0; i < rom.size(); ++i)
        rom[i] = static_cast<u8>(i * 7 + 3);
    rom[0] = 0x55;
    rom[1] = 0xAA;
    rom[2] = static_cast<u8>(rom.size() / 512);
    return rom;
}

struct Rig {
    explicit Rig(u32 vram = 4 * MiB)
        : memory(MemoryMap::create(2 * MiB).release_value()), pci(io, *memory),
          vga(*memory, io, clock, test_rom(), vram) {
        BOOST_REQUIRE(pci.attach(PCI_SLOT, 0, vga));
    }
    void out8(Port port, u8 value) { io.write(port, Width::Byte, value); }
    u8 in8(Port port) { return static_cast<u8>(io.read(port, Width::Byte)); }
    void out16(Port port, u16 value) { io.write(port, Width::Word, value); }
    u16 in16(Port port) { return static_cast<u16>(io.read(port, Width::Word)); }
    void seq(u8 index, u8 value) { out16(0x3C4, static_cast<u16>(value << 8 | index)); }
    void gc(u8 index, u8 value) { out16(0x3CE, static_cast<u16>(value << 8 | index)); }
    void crtc(u8 index, u8 value) {
        out8(0x3D4, index);
        out8(0x3D5, value);
    }
    u8 read_seq(u8 index) {
        out8(0x3C4, index);
        return in8(0x3C5);
    }
    u8 read_gc(u8 index) {
        out8(0x3CE, index);
        return in8(0x3CF);
    }
    u8 read_crtc(u8 index) {
        out8(0x3D4, index);
        return in8(0x3D5);
    }
    void attr(u8 index, u8 value) {
        (void)in8(0x3DA);
        out8(0x3C0, index);
        out8(0x3C0, value);
    }
    void dispi(u16 index, u16 value) {
        out16(Vga::DISPI_INDEX_PORT, index);
        out16(Vga::DISPI_DATA_PORT, value);
    }
    u16 read_dispi(u16 index) {
        out16(Vga::DISPI_INDEX_PORT, index);
        return in16(Vga::DISPI_DATA_PORT);
    }
    u8 mem8(PhysAddr a) { return static_cast<u8>(memory->read(a, Width::Byte)); }
    void poke8(PhysAddr a, u8 v) { memory->write(a, Width::Byte, v); }
    u8 plane(u32 offset, unsigned p) const { return vga.vram()[offset * 4 + p]; }

    // Graphics, A0000 64K, planar (no chain-4, no odd/even), all planes.
    void planar_setup() {
        out8(0x3C2, 0x63);
        seq(0x02, 0x0F);
        seq(0x04, 0x06);
        gc(0x05, 0x00);
        gc(0x06, 0x05);
        gc(0x01, 0x00);
        gc(0x03, 0x00);
        gc(0x08, 0xFF);
    }
    // The registers the VGA BIOS programs for mode 3 that matter here.
    void mode3_setup() {
        out8(0x3C2, 0x67);
        seq(0x02, 0x03);
        seq(0x04, 0x02);
        gc(0x04, 0x00);
        gc(0x05, 0x10);
        gc(0x06, 0x0E);
        gc(0x08, 0xFF);
        crtc(0x11, 0x00);
        crtc(0x01, 0x4F);
        crtc(0x07, 0x1F);
        crtc(0x09, 0x4F);
        crtc(0x12, 0x8F);
        crtc(0x13, 0x28);
        crtc(0x0C, 0x00);
        crtc(0x0D, 0x00);
    }
    void program_lfb() {
        pci.config_write(PCI_SLOT, 0, pci::BAR0, Width::Dword, static_cast<u32>(LFB_BASE));
        pci.config_write(PCI_SLOT, 0, pci::COMMAND, Width::Word, pci::COMMAND_MEMORY | pci::COMMAND_IO);
    }

    Clock clock{Clock::Mode::Manual};
    std::unique_ptr<MemoryMap> memory;
    IoBus io;
    PciBus pci;
    Vga vga;
};

std::string row_of(std::string const& screen, unsigned row, unsigned cols = 80) {
    return screen.substr(row * (cols + 1), cols);
}

} // namespace

BOOST_AUTO_TEST_SUITE(vga)

BOOST_AUTO_TEST_CASE(pci_identity_bar_and_rom) {
    Rig rig;
    BOOST_TEST(rig.pci.config_read(PCI_SLOT, 0, 0x00, Width::Dword) == 0x1111'1234u);
    BOOST_TEST(rig.pci.config_read(PCI_SLOT, 0, 0x08, Width::Dword) >> 8 == 0x030000u);
    // BAR0: prefetchable 32-bit memory, the size of VRAM.
    BOOST_TEST(rig.pci.config_read(PCI_SLOT, 0, pci::BAR0, Width::Dword) == 0x8u);
    rig.pci.config_write(PCI_SLOT, 0, pci::BAR0, Width::Dword, 0xFFFF'FFFF);
    BOOST_TEST(rig.pci.config_read(PCI_SLOT, 0, pci::BAR0, Width::Dword) ==
               ((~(4 * MiB - 1) & 0xFFFF'FFF0u) | 0x8u));
    // The ROM BAR sizes to 64 KiB (40 KiB image) and serves the image.
    rig.pci.config_write(PCI_SLOT, 0, pci::ROM_BAR, Width::Dword, 0xFFFF'F800);
    BOOST_TEST(rig.pci.config_read(PCI_SLOT, 0, pci::ROM_BAR, Width::Dword) == 0xFFFF'0000u);
    rig.pci.config_write(PCI_SLOT, 0, pci::ROM_BAR, Width::Dword, static_cast<u32>(ROM_BASE) | 1);
    rig.pci.config_write(PCI_SLOT, 0, pci::COMMAND, Width::Word, pci::COMMAND_MEMORY);
    auto rom = test_rom();
    BOOST_TEST(rig.mem8(ROM_BASE) == 0x55);
    BOOST_TEST(rig.mem8(ROM_BASE + 1) == 0xAA);
    bool same = true;
    for (std::size_t i = 0; i < rom.size(); i += 97)
        same = same && rig.mem8(ROM_BASE + i) == rom[i];
    BOOST_TEST(same);
    // Read-only.
    rig.poke8(ROM_BASE + 4, 0x00);
    BOOST_TEST(rig.mem8(ROM_BASE + 4) == rom[4]);
    // A reset unmaps the BARs and keeps BAR0 prefetchable.
    rig.vga.reset();
    BOOST_TEST(rig.mem8(ROM_BASE) == 0xFF);
    BOOST_TEST(rig.pci.config_read(PCI_SLOT, 0, pci::BAR0, Width::Dword) == 0x8u);

    // Without a ROM image: no ROM BAR, BAR0 still prefetchable.
    Clock clock;
    auto memory = MemoryMap::create(MiB).release_value();
    IoBus io;
    PciBus pci(io, *memory);
    Vga bare(*memory, io, clock, {}, Vga::MIN_VRAM);
    BOOST_REQUIRE(pci.attach(PCI_SLOT, 0, bare));
    pci.config_write(PCI_SLOT, 0, pci::ROM_BAR, Width::Dword, 0xFFFF'FFFF);
    BOOST_TEST(pci.config_read(PCI_SLOT, 0, pci::ROM_BAR, Width::Dword) == 0u);
    bare.reset();
    pci.config_write(PCI_SLOT, 0, pci::BAR0, Width::Dword, 0xFFFF'FFFF);
    BOOST_TEST(pci.config_read(PCI_SLOT, 0, pci::BAR0, Width::Dword) == 0xFFFC'0008u);
}

// SeaBIOS runs a PCI option ROM only if its PCIR structure names the
// function's vendor and device: check Debian's stdvga BIOS against ours.
BOOST_AUTO_TEST_CASE(debian_vgabios_matches_pci_identity) {
    std::ifstream file("/usr/share/seabios/vgabios-stdvga.bin", std::ios::binary);
    if (!file) {
        BOOST_TEST_MESSAGE("vgabios-stdvga.bin not installed; skipped");
        return;
    }
    std::vector<u8> image((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    BOOST_REQUIRE(image.size() > 0x40);
    Clock clock{Clock::Mode::Manual};
    auto memory = MemoryMap::create(2 * MiB).release_value();
    IoBus io;
    PciBus pci(io, *memory);
    Vga vga(*memory, io, clock, image);
    BOOST_REQUIRE(pci.attach(PCI_SLOT, 0, vga));
    pci.config_write(PCI_SLOT, 0, pci::ROM_BAR, Width::Dword, static_cast<u32>(ROM_BASE) | 1);
    pci.config_write(PCI_SLOT, 0, pci::COMMAND, Width::Word, pci::COMMAND_MEMORY);
    auto byte = [&](u64 offset) { return static_cast<u8>(memory->read(ROM_BASE + offset, Width::Byte)); };
    BOOST_TEST(byte(0) == 0x55);
    BOOST_TEST(byte(1) == 0xAA);
    u32 pcir = byte(0x18) | byte(0x19) << 8;
    BOOST_TEST(byte(pcir) == 'P');
    BOOST_TEST(byte(pcir + 3) == 'R');
    u32 vendor = byte(pcir + 4) | byte(pcir + 5) << 8;
    u32 device = byte(pcir + 6) | byte(pcir + 7) << 8;
    BOOST_TEST(vendor == (pci.config_read(PCI_SLOT, 0, 0, Width::Word)));
    BOOST_TEST(device == (pci.config_read(PCI_SLOT, 0, 2, Width::Word)));
    BOOST_TEST(byte(image.size() - 1) == image.back());
}

BOOST_AUTO_TEST_CASE(sequencer_gc_register_round_trips) {
    Rig rig;
    rig.seq(0x02, 0x0A);
    BOOST_TEST(rig.read_seq(0x02) == 0x0A);
    rig.seq(0x02, 0xFF); // map mask has four bits
    BOOST_TEST(rig.read_seq(0x02) == 0x0F);
    rig.seq(0x04, 0xFF);
    BOOST_TEST(rig.read_seq(0x04) == 0x0E);
    BOOST_TEST(rig.read_seq(0x07) == 0x00); // no such register
    BOOST_TEST(rig.in8(0x3C4) == 0x07);
    rig.gc(0x05, 0xFF);
    BOOST_TEST(rig.read_gc(0x05) == 0x7B);
    rig.gc(0x08, 0x5A);
    BOOST_TEST(rig.read_gc(0x08) == 0x5A);
    // A 16-bit read of index+data.
    rig.out8(0x3CE, 0x08);
    BOOST_TEST(rig.in16(0x3CE) == 0x5A08);
    rig.out8(0x3C2, 0x67);
    BOOST_TEST(rig.in8(0x3CC) == 0x67);
    rig.out8(0x3DA, 0x01); // feature control (colour address)
    BOOST_TEST(rig.in8(0x3CA) == 0x01);
    rig.out8(0x3C3, 0x01);
    BOOST_TEST(rig.in8(0x3C3) == 0x01);
    rig.out8(0x46E8, 0x08);
    BOOST_TEST(rig.in8(0x46E8) == 0x08);
}

BOOST_AUTO_TEST_CASE(crtc_address_select_and_protect) {
    Rig rig;
    // Misc bit 0 clear: the CRTC answers at 0x3B4/5 only.
    rig.out8(0x3C2, 0x66);
    rig.out8(0x3B4, 0x0E);
    rig.out8(0x3B5, 0x12);
    BOOST_TEST(rig.in8(0x3B5) == 0x12);
    BOOST_TEST(rig.in8(0x3D5) == 0xFF);
    rig.out8(0x3C2, 0x67);
    BOOST_TEST(rig.in8(0x3B5) == 0xFF);
    BOOST_TEST(rig.read_crtc(0x0E) == 0x12);

    rig.crtc(0x00, 0x5F);
    rig.crtc(0x07, 0x00);
    rig.crtc(0x11, 0x80); // protect CR0-CR7
    rig.crtc(0x00, 0x11);
    BOOST_TEST(rig.read_crtc(0x00) == 0x5F);
    rig.crtc(0x07, 0xFF); // only bit 4 gets through
    BOOST_TEST(rig.read_crtc(0x07) == 0x10);
    rig.crtc(0x0A, 0x0D); // CR8+ unaffected
    BOOST_TEST(rig.read_crtc(0x0A) == 0x0D);
    rig.crtc(0x11, 0x00);
    rig.crtc(0x00, 0x11);
    BOOST_TEST(rig.read_crtc(0x00) == 0x11);
}

BOOST_AUTO_TEST_CASE(attribute_flip_flop) {
    Rig rig;
    rig.out8(0x3C2, 0x67);
    (void)rig.in8(0x3DA);
    rig.out8(0x3C0, 0x12); // index
    rig.out8(0x3C0, 0xFF); // data: colour plane enable, 6 bits
    BOOST_TEST(rig.in8(0x3C0) == 0x12);
    BOOST_TEST(rig.in8(0x3C1) == 0x3F);
    // Index written, then input status 1 read: the next write is an index
    // again.
    rig.out8(0x3C0, 0x01);
    (void)rig.in8(0x3DA);
    rig.out8(0x3C0, 0x21); // index 1 with PAS
    rig.out8(0x3C0, 0x2A);
    BOOST_TEST(rig.in8(0x3C0) == 0x21);
    BOOST_TEST(rig.in8(0x3C1) == 0x2A);
    BOOST_TEST(rig.vga.attribute(0x12) == 0x3F);
    // Reading the inactive (mono) status port does not reset the flip-flop.
    rig.out8(0x3C0, 0x13);
    (void)rig.in8(0x3BA);
    rig.out8(0x3C0, 0x05);
    BOOST_TEST(rig.vga.attribute(0x13) == 0x05);
}

BOOST_AUTO_TEST_CASE(dac_cycles) {
    Rig rig;
    rig.out8(0x3C8, 5);
    BOOST_TEST(rig.in8(0x3C7) == 0x00); // write mode
    for (u8 v : {0x3F, 0x20, 0x10, 0x01, 0x02, 0xFF})
        rig.out8(0x3C9, v);
    BOOST_TEST(rig.in8(0x3C8) == 7);
    rig.out8(0x3C7, 5);
    BOOST_TEST(rig.in8(0x3C7) == 0x03); // read mode
    std::vector<u8> got;
    for (int i = 0; i < 6; ++i)
        got.push_back(rig.in8(0x3C9));
    std::vector<u8> want{0x3F, 0x20, 0x10, 0x01, 0x02, 0x3F}; // six-bit DAC
    BOOST_TEST(got == want, boost::test_tools::per_element());
    rig.out8(0x3C6, 0x0F);
    BOOST_TEST(rig.in8(0x3C6) == 0x0F);
    // A partial cycle is dropped when the index is rewritten.
    rig.out8(0x3C8, 9);
    rig.out8(0x3C9, 0x11);
    rig.out8(0x3C8, 9);
    rig.out8(0x3C9, 0x01);
    rig.out8(0x3C9, 0x02);
    rig.out8(0x3C9, 0x03);
    BOOST_TEST(rig.vga.palette()[27] == 0x01);
    // The VBE 8-bit DAC keeps all bits.
    rig.dispi(Vga::DISPI_ENABLE, Vga::DISPI_8BIT_DAC);
    rig.out8(0x3C8, 0);
    for (u8 v : {0xFF, 0x80, 0x40})
        rig.out8(0x3C9, v);
    rig.out8(0x3C7, 0);
    BOOST_TEST(rig.in8(0x3C9) == 0xFF);
    BOOST_TEST(rig.in8(0x3C9) == 0x80);
}

BOOST_AUTO_TEST_CASE(planar_write_modes) {
    Rig rig;
    rig.planar_setup();
    PhysAddr a = 0xA0000 + 0x100;

    // Write mode 0, no set/reset: all four planes get the byte.
    rig.poke8(a, 0xA5);
    for (unsigned p = 0; p < 4; ++p)
        BOOST_TEST(rig.plane(0x100, p) == 0xA5);
    // Set/reset for planes 0 and 2 (plane 0 set, plane 2 reset).
    rig.gc(0x01, 0x05);
    rig.gc(0x00, 0x01);
    rig.poke8(a, 0x3C);
    BOOST_TEST(rig.plane(0x100, 0) == 0xFF);
    BOOST_TEST(rig.plane(0x100, 1) == 0x3C);
    BOOST_TEST(rig.plane(0x100, 2) == 0x00);
    BOOST_TEST(rig.plane(0x100, 3) == 0x3C);
    rig.gc(0x01, 0x00);
    // Rotate right by 1.
    rig.gc(0x03, 0x01);
    rig.poke8(a, 0x01);
    BOOST_TEST(rig.plane(0x100, 1) == 0x80);
    // XOR with the latch (loaded by a read), rotate off.
    rig.gc(0x03, 0x18);
    (void)rig.mem8(a);
    rig.poke8(a, 0xFF);
    BOOST_TEST(rig.plane(0x100, 1) == 0x7F);
    // AND, and a bit mask keeping the latch's upper nibble.
    rig.gc(0x03, 0x08);
    rig.gc(0x08, 0x0F);
    (void)rig.mem8(a);
    rig.poke8(a, 0x00);
    BOOST_TEST(rig.plane(0x100, 1) == 0x70);
    rig.gc(0x03, 0x00);
    rig.gc(0x08, 0xFF);
    // Map mask: only plane 2.
    rig.seq(0x02, 0x04);
    rig.poke8(a, 0x99);
    BOOST_TEST(rig.plane(0x100, 2) == 0x99);
    BOOST_TEST(rig.plane(0x100, 3) == 0x70);
    rig.seq(0x02, 0x0F);

    // Write mode 1: latches copied from one address to another.
    rig.gc(0x05, 0x01);
    (void)rig.mem8(a);
    rig.poke8(0xA0000 + 0x200, 0x00);
    for (unsigned p = 0; p < 4; ++p)
        BOOST_TEST(rig.plane(0x200, p) == rig.plane(0x100, p));

    // Write mode 2: CPU bits 0-3 are the colour, bit mask 0xF0.
    rig.gc(0x05, 0x02);
    rig.gc(0x08, 0xF0);
    (void)rig.mem8(0xA0000 + 0x300); // latch = zeros
    rig.poke8(0xA0000 + 0x300, 0x05);
    BOOST_TEST(rig.plane(0x300, 0) == 0xF0);
    BOOST_TEST(rig.plane(0x300, 1) == 0x00);
    BOOST_TEST(rig.plane(0x300, 2) == 0xF0);
    BOOST_TEST(rig.plane(0x300, 3) == 0x00);

    // Write mode 3: set/reset colour, rotated CPU byte AND bit mask as mask.
    rig.gc(0x05, 0x03);
    rig.gc(0x08, 0xFF);
    rig.gc(0x00, 0x0A);
    (void)rig.mem8(0xA0000 + 0x300);
    rig.poke8(0xA0000 + 0x300, 0x3C);
    BOOST_TEST(rig.plane(0x300, 0) == 0xC0); // latch F0 with 3C cleared
    BOOST_TEST(rig.plane(0x300, 1) == 0x3C);
    BOOST_TEST(rig.plane(0x300, 2) == 0xC0);
    BOOST_TEST(rig.plane(0x300, 3) == 0x3C);
}

BOOST_AUTO_TEST_CASE(planar_read_modes) {
    Rig rig;
    rig.planar_setup();
    // Colour per pixel bit: plane p holds bit p of the colour.
    rig.seq(0x02, 0x01);
    rig.poke8(0xA0010, 0xF0);
    rig.seq(0x02, 0x02);
    rig.poke8(0xA0010, 0xCC);
    rig.seq(0x02, 0x04);
    rig.poke8(0xA0010, 0xAA);
    rig.seq(0x02, 0x08);
    rig.poke8(0xA0010, 0x00);
    rig.seq(0x02, 0x0F);
    // Read mode 0: the plane read map select names.
    for (u8 p = 0; p < 4; ++p) {
        rig.gc(0x04, p);
        u8 want[] = {0xF0, 0xCC, 0xAA, 0x00};
        BOOST_TEST(rig.mem8(0xA0010) == want[p]);
    }
    // Read mode 1: pixel 0 (bit 7) has colour 0b0111; pixel 7 colour 0.
    rig.gc(0x05, 0x08);
    rig.gc(0x07, 0x0F);
    rig.gc(0x02, 0x07);
    BOOST_TEST(rig.mem8(0xA0010) == 0x80);
    rig.gc(0x02, 0x00);
    BOOST_TEST(rig.mem8(0xA0010) == 0x01);
    // Colour don't care: only plane 0 compared.
    rig.gc(0x07, 0x01);
    rig.gc(0x02, 0x01);
    BOOST_TEST(rig.mem8(0xA0010) == 0xF0);
}

BOOST_AUTO_TEST_CASE(memory_map_select_and_ram_enable) {
    Rig rig;
    rig.planar_setup();
    rig.poke8(0xA0000, 0x11);
    BOOST_TEST(rig.plane(0, 0) == 0x11);
    // 64K map: B0000 is not decoded.
    rig.poke8(0xB0000, 0x22);
    BOOST_TEST(rig.mem8(0xB0000) == 0xFF);
    // B0000 map (32K): A0000 reads open bus, B0000 is offset 0.
    rig.gc(0x06, 0x09);
    BOOST_TEST(rig.mem8(0xA0000) == 0xFF);
    rig.poke8(0xB0000, 0x33);
    BOOST_TEST(rig.plane(0, 1) == 0x33);
    // 128K map: B8000 is offset 0x18000 (wraps in 64K planes to 0x8000).
    rig.gc(0x06, 0x01);
    rig.poke8(0xB8000, 0x44);
    BOOST_TEST(rig.plane(0x8000, 2) == 0x44);
    // Misc output bit 1 clear: no CPU access at all.
    rig.out8(0x3C2, 0x61);
    rig.poke8(0xA0000, 0x55);
    BOOST_TEST(rig.mem8(0xA0000) == 0xFF);
    BOOST_TEST(rig.plane(0, 0) == 0x33);
}

BOOST_AUTO_TEST_CASE(chain4_mode_13h) {
    Rig rig;
    rig.out8(0x3C2, 0x63);
    rig.seq(0x02, 0x0F);
    rig.seq(0x04, 0x0E);
    rig.gc(0x05, 0x40);
    rig.gc(0x06, 0x05);
    rig.crtc(0x11, 0x00);
    rig.crtc(0x01, 0x4F);
    rig.crtc(0x07, 0x1F);
    rig.crtc(0x09, 0x41);
    rig.crtc(0x12, 0x8F);
    rig.crtc(0x17, 0xA3);
    for (u32 i = 0; i < 320 * 200; i += 37)
        rig.poke8(0xA0000 + i, static_cast<u8>(i));
    for (u32 i = 0; i < 320 * 200; i += 37) {
        if (rig.vga.vram()[i] != static_cast<u8>(i) || rig.mem8(0xA0000 + i) != static_cast<u8>(i)) {
            BOOST_ERROR("pixel " << i);
            break;
        }
    }
    // Pixel (x, y) = y * 320 + x, in plane x & 3.
    rig.poke8(0xA0000 + 5 * 320 + 6, 0x2A);
    BOOST_TEST(rig.plane((5 * 320 + 6) >> 2, 2) == 0x2A);
    // The map mask still applies.
    rig.seq(0x02, 0x01);
    rig.poke8(0xA0001, 0x77);
    BOOST_TEST(rig.mem8(0xA0001) != 0x77);
    BOOST_TEST(rig.vga.text_screen() == "[graphics mode 320x200x8]\n");
}

BOOST_AUTO_TEST_CASE(text_mode_odd_even) {
    Rig rig;
    rig.mode3_setup();
    std::string const hello = "Hello";
    for (std::size_t i = 0; i < hello.size(); ++i) {
        rig.poke8(0xB8000 + 2 * i, static_cast<u8>(hello[i]));
        rig.poke8(0xB8000 + 2 * i + 1, 0x1F);
    }
    // Word writes, as most software does: 'W' with attribute 0x07 on row 1.
    rig.memory->write(0xB8000 + 160, Width::Word, 0x0757);
    rig.poke8(0xB8000 + 162, 0xC4); // box drawing: horizontal line
    rig.poke8(0xB8000 + 164, 0x00); // NUL shows as a space
    rig.poke8(0xB8000 + 166, 0x01); // a smiley: not ASCII

    // Characters in plane 0, attributes in plane 1, at even plane offsets.
    BOOST_TEST(rig.plane(0, 0) == 'H');
    BOOST_TEST(rig.plane(0, 1) == 0x1F);
    BOOST_TEST(rig.plane(2, 0) == 'e');
    BOOST_TEST(rig.plane(0, 2) == 0x00); // font plane untouched
    // Reads through the window come back the same way.
    BOOST_TEST(rig.mem8(0xB8002) == 'e');
    BOOST_TEST(rig.mem8(0xB8003) == 0x1F);
    BOOST_TEST(rig.memory->read(0xB8000 + 160, Width::Word) == 0x0757u);

    std::string screen = rig.vga.text_screen();
    BOOST_TEST(screen.size() == 25u * 81u);
    BOOST_TEST(row_of(screen, 0) == "Hello" + std::string(75, ' '));
    BOOST_TEST(row_of(screen, 1).substr(0, 5) == "W- . ");
    BOOST_TEST(screen[80] == '\n');

    // The CRTC start address scrolls the view by one row.
    rig.crtc(0x0C, 0x00);
    rig.crtc(0x0D, 80);
    BOOST_TEST(row_of(rig.vga.text_screen(), 0).substr(0, 2) == "W-");

    // Loading a font into plane 2 (as the BIOS does) leaves the text alone.
    rig.seq(0x02, 0x04);
    rig.seq(0x04, 0x06);
    rig.gc(0x04, 0x02);
    rig.gc(0x05, 0x00);
    rig.gc(0x06, 0x04);
    for (u32 i = 0; i < 32; ++i)
        rig.poke8(0xA0000 + 'H' * 32 + i, 0xFF);
    BOOST_TEST(rig.plane('H' * 32, 2) == 0xFF);
    BOOST_TEST(rig.plane(0, 0) == 'H');
    // Back to text addressing; the mode still shows as text.
    rig.seq(0x02, 0x03);
    rig.seq(0x04, 0x02);
    rig.gc(0x04, 0x00);
    rig.gc(0x05, 0x10);
    rig.gc(0x06, 0x0E);
    rig.crtc(0x0D, 0);
    BOOST_TEST(row_of(rig.vga.text_screen(), 0).substr(0, 5) == "Hello");
}

BOOST_AUTO_TEST_CASE(text_screen_before_bios_is_80x25) {
    Rig rig;
    std::string screen = rig.vga.text_screen();
    BOOST_TEST(screen.size() == 25u * 81u);
    BOOST_TEST(row_of(screen, 24) == std::string(80, ' '));
}

BOOST_AUTO_TEST_CASE(vbe_dispi_registers) {
    Rig rig;
    BOOST_TEST(rig.read_dispi(Vga::DISPI_ID) == Vga::DISPI_ID5);
    rig.dispi(Vga::DISPI_ID, Vga::DISPI_ID0);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_ID) == Vga::DISPI_ID0);
    rig.dispi(Vga::DISPI_ID, 0x1234); // not an ID: ignored
    BOOST_TEST(rig.read_dispi(Vga::DISPI_ID) == Vga::DISPI_ID0);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_VIDEO_MEMORY_64K) == 64);
    // The alternate data port 0x1D0.
    rig.out16(Vga::DISPI_INDEX_PORT, Vga::DISPI_VIDEO_MEMORY_64K);
    BOOST_TEST(rig.in16(0x1D0) == 64);
    BOOST_TEST(rig.in16(Vga::DISPI_INDEX_PORT) == Vga::DISPI_VIDEO_MEMORY_64K);
    // GETCAPS: XRES/YRES/BPP read the limits.
    rig.dispi(Vga::DISPI_XRES, 640);
    rig.dispi(Vga::DISPI_ENABLE, Vga::DISPI_GETCAPS);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_XRES) == Vga::DISPI_MAX_XRES);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_YRES) == Vga::DISPI_MAX_YRES);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_BPP) == Vga::DISPI_MAX_BPP);
    rig.dispi(Vga::DISPI_ENABLE, 0);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_XRES) == 640);
    // Bank numbers beyond VRAM are masked (64 banks in 4 MiB).
    rig.dispi(Vga::DISPI_BANK, 0xFFFF);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_BANK) == 63);
    BOOST_TEST(rig.read_dispi(0x55) == 0);

    // Clamping while enabled: too wide, bad depth, too tall for VRAM.
    rig.dispi(Vga::DISPI_XRES, 9999);
    rig.dispi(Vga::DISPI_YRES, 1600);
    rig.dispi(Vga::DISPI_BPP, 7);
    rig.dispi(Vga::DISPI_ENABLE, Vga::DISPI_ENABLED);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_XRES) == Vga::DISPI_MAX_XRES);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_BPP) == 8);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_YRES) == 1600); // 2560 * 1600 < 4 MiB
    rig.dispi(Vga::DISPI_BPP, 32);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_YRES) == 4 * MiB / (2560 * 4));
    BOOST_TEST(rig.read_dispi(Vga::DISPI_VIRT_HEIGHT) == 4 * MiB / (2560 * 4));
    // An offset that would push the frame past VRAM is dropped.
    rig.dispi(Vga::DISPI_Y_OFFSET, 300);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_Y_OFFSET) == 0);
}

BOOST_AUTO_TEST_CASE(vbe_800x600x32_lfb_and_banks) {
    Rig rig;
    rig.out8(0x3C2, 0x67);
    rig.program_lfb();
    // Leave something in VRAM: enabling clears the frame.
    rig.vga.mmio_write(100, Width::Byte, 0xEE);
    rig.dispi(Vga::DISPI_XRES, 800);
    rig.dispi(Vga::DISPI_YRES, 600);
    rig.dispi(Vga::DISPI_BPP, 32);
    rig.dispi(Vga::DISPI_BANK, 0);
    rig.dispi(Vga::DISPI_ENABLE, Vga::DISPI_ENABLED | Vga::DISPI_LFB_ENABLED);
    BOOST_TEST(rig.vga.vram()[100] == 0);
    BOOST_TEST(rig.vga.text_screen() == "[graphics mode 800x600x32]\n");
    BOOST_TEST(rig.vga.vbe_line_bytes() == 3200u);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_VIRT_WIDTH) == 800);

    // Pixel (10, 20) through the LFB.
    u32 offset = 20 * 3200 + 10 * 4;
    rig.memory->write(LFB_BASE + offset, Width::Dword, 0x00FF'8040);
    BOOST_TEST(rig.vga.vram()[offset] == 0x40);
    BOOST_TEST(rig.vga.vram()[offset + 2] == 0xFF);
    BOOST_TEST(rig.memory->read(LFB_BASE + offset, Width::Dword) == 0x00FF'8040u);
    // The last byte of VRAM is reachable, one past it is not mapped.
    rig.memory->write(LFB_BASE + 4 * MiB - 1, Width::Byte, 0x5A);
    BOOST_TEST(rig.vga.vram()[4 * MiB - 1] == 0x5A);
    BOOST_TEST(rig.memory->read(LFB_BASE + 4 * MiB, Width::Byte) == 0xFFu);

    // Banked access: bank 3 shows VRAM 0x30000.. in the A0000 window.
    rig.dispi(Vga::DISPI_BANK, 3);
    rig.poke8(0xA0000 + 0x10, 0x77);
    BOOST_TEST(rig.vga.vram()[0x30010] == 0x77);
    BOOST_TEST(rig.memory->read(LFB_BASE + 0x30010, Width::Byte) == 0x77u);
    rig.memory->write(LFB_BASE + 0x3FFFC, Width::Dword, 0x1122'3344);
    BOOST_TEST(rig.memory->read(0xA0000 + 0xFFFC, Width::Dword) == 0x1122'3344u);
    // The upper half of the 128K window is not decoded with the 64K map.
    rig.poke8(0xB0000, 0x12);
    BOOST_TEST(rig.mem8(0xB0000) == 0xFF);

    // Direct out-of-range offsets are ignored and read open bus.
    u64 before = rig.vga.ignored_accesses();
    rig.vga.mmio_write(4 * MiB, Width::Dword, 0xDEAD'BEEF);
    rig.vga.mmio_write(u64(1) << 39, Width::Byte, 1);
    rig.vga.mmio_write(Vga::LEGACY_WINDOW_TAG + Vga::LEGACY_WINDOW_SIZE, Width::Byte, 1);
    BOOST_TEST(rig.vga.mmio_read(4 * MiB - 2, Width::Dword) == 0xFFFF'5A00u);
    BOOST_TEST(rig.vga.mmio_read(~u64(0) - 1, Width::Dword) == 0xFFFF'FFFFu);
    BOOST_TEST(rig.vga.ignored_accesses() > before);

    // Disabling DISPI returns to the VGA view; the bank no longer applies.
    rig.dispi(Vga::DISPI_ENABLE, 0);
    BOOST_TEST(rig.vga.text_screen().rfind("[graphics mode", 0) == 0);
    rig.poke8(0xA0000 + 0x10, 0x66);
    BOOST_TEST(rig.vga.vram()[0x30010] == 0x77);
    BOOST_TEST(rig.vga.vram()[0x10] == 0x66);
}

BOOST_AUTO_TEST_CASE(vbe_planar_4bpp_banks) {
    Rig rig(MiB);
    rig.out8(0x3C2, 0x67);
    rig.dispi(Vga::DISPI_XRES, 1024);
    rig.dispi(Vga::DISPI_YRES, 768);
    rig.dispi(Vga::DISPI_BPP, 4);
    rig.dispi(Vga::DISPI_ENABLE, Vga::DISPI_ENABLED);
    rig.seq(0x04, 0x06); // planar, as the BIOS sets mode 6Ah first
    rig.seq(0x02, 0x0F);
    rig.gc(0x05, 0x00);
    rig.gc(0x08, 0xFF);
    // 1 MiB / 4 planes = 4 banks of 64 KiB plane offsets.
    rig.dispi(Vga::DISPI_BANK, 0xFF);
    BOOST_TEST(rig.read_dispi(Vga::DISPI_BANK) == 3);
    rig.dispi(Vga::DISPI_BANK, 1);
    rig.poke8(0xA0000 + 4, 0x81);
    for (unsigned p = 0; p < 4; ++p)
        BOOST_TEST(rig.plane(0x10004, p) == 0x81);
    BOOST_TEST(rig.vga.text_screen() == "[graphics mode 1024x768x4]\n");
}

BOOST_AUTO_TEST_CASE(retrace_toggles_with_virtual_time) {
    Rig rig;
    rig.out8(0x3C2, 0x67);
    bool seen_retrace = false;
    bool seen_no_retrace = false;
    bool seen_display = false;
    bool seen_blank = false;
    unsigned edges = 0;
    bool last = false;
    // Three frames in 20 us steps.
    for (u64 t = 0; t < 3 * Vga::FRAME_NS; t += 20'000) {
        u8 status = rig.in8(0x3DA);
        bool retrace = status & 0x08;
        seen_retrace |= retrace;
        seen_no_retrace |= !retrace;
        seen_display |= !(status & 0x01);
        seen_blank |= (status & 0x01) != 0;
        // Vertical retrace implies display disabled.
        if (retrace) BOOST_TEST((status & 0x01) == 1);
        if (retrace && !last) ++edges;
        last = retrace;
        rig.clock.advance(20'000);
    }
    BOOST_TEST(seen_retrace);
    BOOST_TEST(seen_no_retrace);
    BOOST_TEST(seen_display);
    BOOST_TEST(seen_blank);
    BOOST_TEST(edges == 3u);
    // Time standing still: the status does not change.
    u8 a = rig.in8(0x3DA);
    BOOST_TEST(rig.in8(0x3DA) == a);
}

BOOST_AUTO_TEST_CASE(random_registers_and_memory) {
    Rig rig;
    rig.program_lfb();
    test::random_register_loop(rig.vga, 0x3E0, 40000, 11);
    // Through the bus too, including DISPI and the memory windows.
    std::mt19937 rng(5);
    Width const widths[] = {Width::Byte, Width::Word, Width::Dword};
    for (int i = 0; i < 40000; ++i) {
        Width w = widths[rng() % 3];
        switch (rng() % 6) {
        case 0:
            rig.io.write(static_cast<Port>(0x3B0 + rng() % 0x30), w, rng());
            break;
        case 1:
            rig.io.write(static_cast<Port>(0x1CE + rng() % 4), w, rng() % 2 ? rng() : rng() % 12);
            break;
        case 2:
            (void)rig.io.read(static_cast<Port>(0x1CE + rng() % 4), w);
            break;
        case 3:
            rig.memory->write(0xA0000 + rng() % 0x20000, w, rng());
            break;
        case 4:
            (void)rig.memory->read(0xA0000 + rng() % 0x20000, w);
            break;
        default:
            rig.memory->write(LFB_BASE + rng() % (4 * MiB + 16), w, rng());
            break;
        }
        if (i % 5000 == 0) (void)rig.vga.text_screen();
    }
    (void)rig.vga.display_mode();
    // Still a working VGA: back to a known text mode, then write and see it.
    rig.vga.mmio_write(0, Width::Byte, 0); // LFB still decodes
    rig.dispi(Vga::DISPI_ENABLE, 0);
    rig.mode3_setup();
    rig.attr(0x10, 0x0C);
    rig.poke8(0xB8000, 'O');
    rig.poke8(0xB8002, 'K');
    BOOST_TEST(row_of(rig.vga.text_screen(), 0).substr(0, 2) == "OK");
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    Rig rig;
    rig.mode3_setup();
    rig.poke8(0xB8000, 'X');
    rig.attr(0x10, 0x0C);
    rig.out8(0x3C8, 1);
    rig.out8(0x3C9, 0x2A); // a partial DAC cycle is state too
    rig.dispi(Vga::DISPI_XRES, 640);
    rig.program_lfb();
    rig.vga.mmio_write(0x1234, Width::Dword, 0xCAFEBABE);
    (void)rig.in8(0x3DA);
    rig.out8(0x3C0, 0x11); // flip-flop now "data"

    Rig fresh;
    test::check_save_load_save(rig.vga, fresh.vga);
    BOOST_TEST(fresh.vga.text_screen() == rig.vga.text_screen());
    BOOST_TEST(fresh.vga.vram()[0x1234] == 0xBE);
    // BAR0 is remapped at load.
    BOOST_TEST(fresh.memory->read(LFB_BASE + 0x1234, Width::Dword) == 0xCAFE'BABEu);
}

BOOST_AUTO_TEST_CASE(bad_streams_fail_cleanly) {
    Rig rig(Vga::MIN_VRAM);
    rig.mode3_setup();
    rig.poke8(0xB8000, 'Y');
    Rig fresh(Vga::MIN_VRAM);
    test::check_bad_streams_fail(rig.vga, fresh.vga);
    // A stream from a VGA with a different VRAM size does not load.
    Rig big(MiB);
    auto stream = test::save_state(big.vga);
    auto loader = StateVisitor::loader(stream);
    fresh.vga.visit_state(loader);
    BOOST_TEST(!loader.ok());
    // Whatever the bad streams left behind, the device still works.
    (void)fresh.vga.text_screen();
    test::random_register_loop(fresh.vga, 0x3E0, 2000, 3);
}

BOOST_AUTO_TEST_CASE(reset_restores_power_on_state) {
    Rig rig;
    rig.mode3_setup();
    rig.poke8(0xB8000, 'Z');
    rig.dispi(Vga::DISPI_ID, Vga::DISPI_ID0);
    rig.vga.reset();
    BOOST_TEST(rig.vga.misc_output() == 0);
    BOOST_TEST(rig.vga.vram()[0] == 0);
    BOOST_TEST(rig.vga.dispi(Vga::DISPI_ID) == Vga::DISPI_ID5);
    std::string blank;
    for (int row = 0; row < 25; ++row)
        blank += std::string(80, ' ') + '\n';
    BOOST_TEST(rig.vga.text_screen() == blank);
}

BOOST_AUTO_TEST_SUITE_END()
