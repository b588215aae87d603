// SPDX-License-Identifier: GPL-2.0-or-later
// screen_render and png_image: a Vga programmed through its ports (as the
// VGA BIOS would) with known text, fonts, pixels and palettes; the rendered
// pixels checked one by one; the PNG decoded back with libpng.
#include "hypervisor/machine/png_image.h"
#include "hypervisor/machine/screen_render.h"

#include "hw/vga.h"
#include "hypervisor/io/pci.h"
#include "tests/machine/vga_test_rig.h"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <unistd.h>

using namespace vsa;

namespace {

constexpr PhysAddr LFB_BASE = test::VgaTestRig::LFB_BASE;

struct Rig : test::VgaTestRig {
    Rig() : VgaTestRig(4 * MiB) {}

    void identity_attribute_palette() {
        for (u8 i = 0; i < 16; ++i)
            attr(i, i);
        attr(0x12, 0x0F);
        attr(0x14, 0x00);
    }
    // Mode 3 as the VGA BIOS leaves it, with `glyph` loaded for 'A' and
    // the cursor off.
    void mode3(std::array<u8, 16> const& glyph) {
        // Font load: plane 2 only, linear, A0000, CPU data written as is.
        out8(0x3C2, 0x67);
        gc(0x01, 0x00);
        gc(0x03, 0x00);
        gc(0x08, 0xFF);
        seq(0x02, 0x04);
        seq(0x04, 0x06);
        gc(0x04, 0x02);
        gc(0x05, 0x00);
        gc(0x06, 0x04);
        for (u32 i = 0; i < 16; ++i)
            poke8(0xA0000 + 'A' * 32 + i, glyph[i]);
        // Text addressing.
        seq(0x01, 0x00); // 9-dot characters
        seq(0x02, 0x03);
        seq(0x03, 0x00);
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
        crtc(0x0A, 0x20);
        crtc(0x0C, 0x00);
        crtc(0x0D, 0x00);
        crtc(0x17, 0xA3);
        identity_attribute_palette();
        attr(0x10, 0x0C); // line graphics, blink
    }
    void mode13h() {
        out8(0x3C2, 0x63);
        seq(0x01, 0x01);
        seq(0x02, 0x0F);
        seq(0x04, 0x0E);
        gc(0x05, 0x40);
        gc(0x06, 0x05);
        crtc(0x11, 0x00);
        crtc(0x01, 0x4F);
        crtc(0x07, 0x1F);
        crtc(0x09, 0x41);
        crtc(0x12, 0x8F);
        crtc(0x13, 0x28);
        crtc(0x17, 0xA3);
        identity_attribute_palette();
        attr(0x10, 0x41);
    }
};

constexpr u32 BLUE = 0x0000AA;   // DAC (0, 0, 42)
constexpr u32 YELLOW = 0xFFFF55; // DAC (63, 63, 21)

} // namespace

BOOST_AUTO_TEST_SUITE(screen_render)

BOOST_AUTO_TEST_CASE(text_mode_uses_the_font_in_plane_2_and_the_palettes) {
    Rig rig;
    std::array<u8, 16> glyph{};
    glyph[0] = 0x80; // leftmost dot
    glyph[1] = 0x01; // eighth dot
    glyph[15] = 0xFF;
    rig.mode3(glyph);
    rig.dac(0x01, 0, 0, 42);
    rig.dac(0x0E, 63, 63, 21);
    rig.dac(0x00, 0, 0, 0);
    // 'A' yellow on blue at row 0, column 1; a line-graphics character
    // (0xC4, its glyph all zero here) next to it.
    rig.poke8(0xB8000 + 2, 'A');
    rig.poke8(0xB8000 + 3, 0x1E);

    auto info = screen_info(rig.vga);
    BOOST_TEST(info.width == 720u);
    BOOST_TEST(info.height == 400u);
    BOOST_TEST((info.mode == control::VideoMode::Text));

    ScreenImage image = render_screen(rig.vga);
    BOOST_REQUIRE(image.width == 720u);
    BOOST_REQUIRE(image.height == 400u);
    u32 x0 = 9; // column 1
    BOOST_TEST(image.at(x0, 0) == YELLOW);
    BOOST_TEST(image.at(x0 + 1, 0) == BLUE);
    BOOST_TEST(image.at(x0 + 7, 1) == YELLOW);
    BOOST_TEST(image.at(x0 + 6, 1) == BLUE);
    BOOST_TEST(image.at(x0 + 8, 15) == BLUE); // 'A' is no line-graphics character
    BOOST_TEST(image.at(x0 + 3, 15) == YELLOW);
    BOOST_TEST(image.at(x0 + 3, 8) == BLUE);
    // Column 0 holds NUL with attribute 0: black.
    BOOST_TEST(image.at(0, 0) == 0u);

    // The attribute palette is applied: colour 0x0E shown as DAC entry 0x3F.
    rig.dac(0x3F, 63, 0, 0);
    rig.attr(0x0E, 0x3F);
    BOOST_TEST(render_screen(rig.vga).at(x0, 0) == 0xFF0000u);
    rig.attr(0x0E, 0x0E);

    // 8-dot characters: 640 wide, column 1 starts at x = 8.
    rig.seq(0x01, 0x01);
    image = render_screen(rig.vga);
    BOOST_TEST(image.width == 640u);
    BOOST_TEST(image.at(8, 0) == YELLOW);

    // The cursor, scan lines 14-15 of the cell it is on.
    rig.crtc(0x0A, 0x0E);
    rig.crtc(0x0B, 0x0F);
    rig.crtc(0x0E, 0x00);
    rig.crtc(0x0F, 0x01);
    image = render_screen(rig.vga);
    BOOST_TEST(image.at(8 + 4, 14) == YELLOW);
    BOOST_TEST(image.at(8 + 4, 13) == BLUE);

    // Screen off (SR01 bit 5): black.
    rig.seq(0x01, 0x21);
    image = render_screen(rig.vga);
    BOOST_TEST(image.at(8, 0) == 0u);
}

BOOST_AUTO_TEST_CASE(mode_13h_pixels_go_through_the_dac) {
    Rig rig;
    rig.mode13h();
    rig.dac(0x00, 0, 0, 0);
    rig.dac(0x2A, 63, 0, 0);
    rig.dac(0xFF, 0, 63, 0);
    rig.poke8(0xA0000 + 5 * 320 + 6, 0x2A);
    rig.poke8(0xA0000 + 199 * 320 + 319, 0xFF);

    auto info = screen_info(rig.vga);
    BOOST_TEST(info.width == 320u);
    BOOST_TEST(info.height == 200u);
    BOOST_TEST((info.mode == control::VideoMode::Vga));
    ScreenImage image = render_screen(rig.vga);
    BOOST_REQUIRE(image.width == 320u);
    BOOST_REQUIRE(image.height == 200u);
    BOOST_TEST(image.at(6, 5) == 0xFF0000u);
    BOOST_TEST(image.at(7, 5) == 0u);
    BOOST_TEST(image.at(319, 199) == 0x00FF00u);
}

BOOST_AUTO_TEST_CASE(vbe_32bpp_is_direct_colour) {
    Rig rig;
    rig.pci.config_write(2, 0, pci::BAR0, Width::Dword, static_cast<u32>(LFB_BASE));
    rig.pci.config_write(2, 0, pci::COMMAND, Width::Word, pci::COMMAND_MEMORY | pci::COMMAND_IO);
    rig.dispi(Vga::DISPI_XRES, 64);
    rig.dispi(Vga::DISPI_YRES, 48);
    rig.dispi(Vga::DISPI_BPP, 32);
    rig.dispi(Vga::DISPI_ENABLE, Vga::DISPI_ENABLED | Vga::DISPI_LFB_ENABLED);
    rig.memory->write(LFB_BASE + (10 * 64 + 3) * 4, Width::Dword, 0x00123456);
    auto info = screen_info(rig.vga);
    BOOST_TEST(info.width == 64u);
    BOOST_TEST(info.height == 48u);
    BOOST_TEST((info.mode == control::VideoMode::Svga));
    ScreenImage image = render_screen(rig.vga);
    BOOST_TEST(image.at(3, 10) == 0x123456u);
    BOOST_TEST(image.at(4, 10) == 0u);

    // 16 bpp 5-6-5: pure red and pure green expand to full intensity.
    rig.dispi(Vga::DISPI_ENABLE, 0);
    rig.dispi(Vga::DISPI_BPP, 16);
    rig.dispi(Vga::DISPI_ENABLE, Vga::DISPI_ENABLED | Vga::DISPI_LFB_ENABLED);
    rig.memory->write(LFB_BASE, Width::Word, 0xF800);
    rig.memory->write(LFB_BASE + 2, Width::Word, 0x07E0);
    image = render_screen(rig.vga);
    BOOST_TEST(image.at(0, 0) == 0xFF0000u);
    BOOST_TEST(image.at(1, 0) == 0x00FF00u);
}

BOOST_AUTO_TEST_CASE(hostile_registers_stay_in_bounds) {
    // Whatever the CRTC says, rendering reads inside VRAM and the picture is
    // bounded (ASan checks the first, the size the second).
    Rig rig;
    rig.mode13h();
    rig.crtc(0x0C, 0xFF);
    rig.crtc(0x0D, 0xFF);
    rig.crtc(0x13, 0xFF);
    rig.crtc(0x01, 0xFF);
    ScreenImage image = render_screen(rig.vga);
    BOOST_TEST(image.width <= Vga::DISPI_MAX_XRES);
    BOOST_TEST(image.pixels.size() == std::size_t(image.width) * image.height);
    rig.gc(0x06, 0x0E); // text with the same registers
    rig.crtc(0x09, 0x1F);
    image = render_screen(rig.vga);
    BOOST_TEST(image.height <= Vga::DISPI_MAX_YRES);
}

BOOST_AUTO_TEST_CASE(scaling_averages_the_covered_pixels) {
    ScreenImage image;
    image.width = 4;
    image.height = 2;
    image.pixels = {0xFF0000, 0x000000, 0x00FF00, 0x00FF00, 0xFF0000, 0x000000, 0x00FF00, 0x00FF00};
    ScreenImage half = scale_image(image, 2, 1);
    BOOST_REQUIRE(half.pixels.size() == 2u);
    BOOST_TEST(half.at(0, 0) == 0x800000u); // red and black: half red (rounded)
    BOOST_TEST(half.at(1, 0) == 0x00FF00u);
    ScreenImage big = scale_image(image, 8, 4);
    BOOST_TEST(big.at(0, 0) == 0xFF0000u);
    BOOST_TEST(big.at(7, 3) == 0x00FF00u);
    BOOST_TEST(scale_image(image, 0, 5).pixels.empty());
}

BOOST_AUTO_TEST_CASE(png_round_trip_through_libpng) {
    Rig rig;
    rig.mode13h();
    rig.dac(0x2A, 63, 0, 0);
    rig.poke8(0xA0000 + 5 * 320 + 6, 0x2A);
    ScreenImage image = render_screen(rig.vga);
    auto png = encode_png(image);
    BOOST_REQUIRE(png.has_value());
    BOOST_TEST(png.value().size() > 8u);
    auto decoded = decode_png(png.value());
    BOOST_REQUIRE(decoded.has_value());
    BOOST_TEST(decoded.value().width == 320u);
    BOOST_TEST(decoded.value().height == 200u);
    BOOST_TEST((decoded.value().pixels == image.pixels));

    // Through a file, written atomically.
    auto dir = std::filesystem::temp_directory_path() / ("vsa-png-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = dir / "screen.png";
    BOOST_REQUIRE(write_png_file(path, scale_image(image, 64, 48)).has_value());
    BOOST_TEST(!std::filesystem::exists(dir / "screen.png.tmp"));
    std::ifstream in(path, std::ios::binary);
    std::vector<u8> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto thumb = decode_png(bytes);
    BOOST_REQUIRE(thumb.has_value());
    BOOST_TEST(thumb.value().width == 64u);
    BOOST_TEST(thumb.value().height == 48u);
    // A missing folder is an error, not a crash.
    BOOST_TEST(write_png_file(dir / "no" / "such.png", image).is_error());
    std::filesystem::remove_all(dir);

    // Garbage, a truncated PNG and an empty picture are refused.
    std::vector<u8> junk(100, 0x42);
    BOOST_TEST(decode_png(junk).is_error());
    std::vector<u8> cut(png.value().begin(), png.value().begin() + png.value().size() / 2);
    BOOST_TEST(decode_png(cut).is_error());
    BOOST_TEST(encode_png(ScreenImage{}).is_error());
    BOOST_TEST(decode_png(png.value(), 100).is_error()); // over the pixel bound
}

BOOST_AUTO_TEST_CASE(render_timing) {
    // A figure for the report, not a limit: a full 720x400 text render,
    // scaling to 64x48 and encoding.
    Rig rig;
    std::array<u8, 16> glyph{};
    glyph.fill(0x5A);
    rig.mode3(glyph);
    for (u32 i = 0; i < 80 * 25; ++i) {
        rig.poke8(0xB8000 + 2 * i, 'A');
        rig.poke8(0xB8000 + 2 * i + 1, 0x1E);
    }
    auto start = std::chrono::steady_clock::now();
    ScreenImage image = render_screen(rig.vga);
    auto rendered = std::chrono::steady_clock::now();
    auto png = encode_png(image);
    auto encoded = std::chrono::steady_clock::now();
    ScreenImage thumb = scale_image(image, 64, 48);
    auto scaled = std::chrono::steady_clock::now();
    BOOST_TEST(png.has_value());
    BOOST_TEST(thumb.width == 64u);
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    BOOST_TEST_MESSAGE("render 720x400 " << ms(start, rendered) << " ms, PNG " << ms(rendered, encoded)
                                         << " ms (" << png.value().size() << " bytes), scale to 64x48 "
                                         << ms(encoded, scaled) << " ms");
}

BOOST_AUTO_TEST_SUITE_END()
