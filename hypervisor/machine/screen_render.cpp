// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/machine/screen_render.h"

#include "hw/vga.h"

#include <endian.h>

#include <algorithm>
#include <cstring>

namespace vsa {

namespace {

// VGA-mode plane offsets wrap at 64 KiB, as the CRTC's 16-bit address does.
constexpr u32 PLANE_SIZE_VGA = 64 * KiB;
// Font blocks in plane 2: 32 bytes a glyph, 256 glyphs.
constexpr u32 GLYPH_BYTES = 32;

// Every VRAM read goes through here: the registers that address VRAM are
// the guest's to set, so an index is wrapped into VRAM, never trusted.
struct Vram {
    std::span<u8 const> bytes;
    u8 at(std::size_t index) const { return bytes.empty() ? 0 : bytes[index % bytes.size()]; }
    // Byte `offset` of plane `plane` (vga.h: byte 4n + p).
    u8 plane(u32 offset, unsigned plane) const { return at(std::size_t(offset) * 4 + plane); }
};

u32 expand6(u8 value) {
    value &= 0x3F;
    return u32(value << 2 | value >> 4);
}

// DAC entry `index` as 0x00RRGGBB.
u32 dac_colour(Vga const& vga, u8 index) {
    auto const& palette = vga.palette();
    std::size_t at = std::size_t(index) * 3;
    if (vga.dac_8bit()) return u32(palette[at]) << 16 | u32(palette[at + 1]) << 8 | palette[at + 2];
    return expand6(palette[at]) << 16 | expand6(palette[at + 1]) << 8 | expand6(palette[at + 2]);
}

// A 4-bit colour through the attribute controller's palette to a DAC index:
// AR00-0F give 6 bits; AR10 bit 7 takes bits 4-5 from AR14 bits 0-1; AR14
// bits 2-3 are always bits 6-7.
u8 attribute_to_dac(Vga const& vga, u8 colour) {
    u8 entry = vga.attribute(colour & 0x0F) & 0x3F;
    u8 select = vga.attribute(0x14);
    u8 index = (vga.attribute(0x10) & 0x80) ? u8((entry & 0x0F) | (select & 0x03) << 4) : entry;
    return u8(index | (select & 0x0C) << 4);
}

u32 start_address(Vga const& vga) {
    return u32(vga.crtc(0x0C)) << 8 | vga.crtc(0x0D);
}

bool screen_off(Vga const& vga) {
    return (vga.sequencer(0x01) & 0x20) != 0; // SR01 bit 5: screen off
}

u32 char_height(Vga const& vga) {
    return (vga.crtc(0x09) & 0x1F) + 1u;
}

u32 char_width(Vga const& vga) {
    return (vga.sequencer(0x01) & 0x01) ? 8 : 9;
}

ScreenImage blank(u32 width, u32 height) {
    ScreenImage image;
    image.width = width;
    image.height = height;
    image.pixels.assign(std::size_t(width) * height, 0);
    return image;
}

// Plane 2 offset of font block `map` (0-7): blocks 0-3 at 16 KiB steps,
// 4-7 between them (the map select's high bit adds 8 KiB).
u32 font_base(u32 map) {
    return (map & 3) * 16 * KiB + (map >> 2) * 8 * KiB;
}

ScreenImage render_text(Vga const& vga, u32 columns, u32 rows) {
    Vram vram{vga.vram()};
    u32 cell_w = char_width(vga);
    u32 cell_h = char_height(vga);
    ScreenImage image = blank(columns * cell_w, rows * cell_h);
    if (screen_off(vga)) return image;

    u8 sr03 = vga.sequencer(0x03);
    u32 font_a = font_base((sr03 >> 2 & 3) | (sr03 >> 3 & 4)); // attribute bit 3 set
    u32 font_b = font_base((sr03 & 3) | (sr03 >> 2 & 4));      // attribute bit 3 clear
    u8 mode_control = vga.attribute(0x10);
    bool blink = (mode_control & 0x08) != 0;
    bool line_graphics = (mode_control & 0x04) != 0;
    u32 start = start_address(vga);
    // Characters per row in memory, as Vga::text_screen() counts them.
    u32 stride = vga.crtc(0x13) ? vga.crtc(0x13) * 2u : columns;

    u32 cursor = u32(vga.crtc(0x0E)) << 8 | vga.crtc(0x0F);
    bool cursor_on = !(vga.crtc(0x0A) & 0x20);
    u32 cursor_first = vga.crtc(0x0A) & 0x1F;
    u32 cursor_last = vga.crtc(0x0B) & 0x1F;

    std::array<u32, 16> colours{};
    for (u8 c = 0; c < 16; ++c)
        colours[c] = dac_colour(vga, attribute_to_dac(vga, c));

    for (u32 row = 0; row < rows; ++row) {
        for (u32 col = 0; col < columns; ++col) {
            u32 character = start + row * stride + col;
            u32 plane_offset = (character * 2) % PLANE_SIZE_VGA;
            u8 code = vram.plane(plane_offset, 0);
            u8 attr = vram.plane(plane_offset, 1);
            u32 fg = colours[attr & 0x0F];
            u32 bg = colours[blink ? (attr >> 4) & 0x07 : attr >> 4];
            u32 glyph = ((attr & 0x08) ? font_a : font_b) + u32(code) * GLYPH_BYTES;
            bool repeat_ninth = line_graphics && code >= 0xC0 && code <= 0xDF;
            bool has_cursor = cursor_on && character == cursor;
            for (u32 y = 0; y < cell_h; ++y) {
                u8 bits = y < GLYPH_BYTES ? vram.plane(glyph + y, 2) : 0;
                if (has_cursor && y >= cursor_first && y <= cursor_last) bits = 0xFF;
                u32* out = &image.pixels[std::size_t(row * cell_h + y) * image.width + col * cell_w];
                for (u32 x = 0; x < 8; ++x)
                    out[x] = (bits & (0x80 >> x)) ? fg : bg;
                if (cell_w == 9) out[8] = (repeat_ninth && (bits & 1)) ? fg : bg;
            }
        }
    }
    return image;
}

// The plane offset where scan line `y` starts. With CGA addressing (CR17
// bit 0 clear) odd lines come from the second 8 KiB bank, as on a CGA.
u32 line_offset(Vga const& vga, u32 y) {
    u32 pitch = vga.crtc(0x13) * 2u;
    u32 start = start_address(vga);
    if (vga.crtc(0x17) & 0x01) return start + y * pitch;
    return start + (y >> 1) * pitch + (y & 1) * 0x2000;
}

// Planar 16- and 2-colour modes: one bit per plane per pixel.
ScreenImage render_planar(Vga const& vga, u32 width, u32 height, u32 pitch_override = 0) {
    Vram vram{vga.vram()};
    ScreenImage image = blank(width, height);
    if (screen_off(vga)) return image;
    std::array<u32, 16> colours{};
    for (u8 c = 0; c < 16; ++c)
        colours[c] = dac_colour(vga, attribute_to_dac(vga, c));
    u8 plane_enable = vga.attribute(0x12) & 0x0F;
    for (u32 y = 0; y < height; ++y) {
        u32 base = pitch_override ? y * pitch_override : line_offset(vga, y);
        for (u32 x = 0; x < width; ++x) {
            u32 offset = base + x / 8;
            unsigned bit = 7 - x % 8;
            u8 colour = 0;
            for (unsigned p = 0; p < 4; ++p)
                colour |= u8(((vram.plane(offset, p) >> bit) & 1) << p);
            image.pixels[std::size_t(y) * width + x] = colours[colour & plane_enable];
        }
    }
    return image;
}

// CGA 4-colour modes (04h/05h): odd/even memory, so CPU byte k is plane
// k & 1 at plane offset k & ~1; four 2-bit pixels a byte, high bits first.
ScreenImage render_cga4(Vga const& vga, u32 width, u32 height) {
    Vram vram{vga.vram()};
    ScreenImage image = blank(width, height);
    if (screen_off(vga)) return image;
    std::array<u32, 4> colours{};
    for (u8 c = 0; c < 4; ++c)
        colours[c] = dac_colour(vga, attribute_to_dac(vga, c));
    for (u32 y = 0; y < height; ++y) {
        u32 base = line_offset(vga, y);
        for (u32 x = 0; x < width; ++x) {
            u32 k = base + x / 4;
            u8 byte = vram.plane(k & ~1u, k & 1);
            u8 colour = (byte >> (6 - 2 * (x % 4))) & 3;
            image.pixels[std::size_t(y) * width + x] = colours[colour];
        }
    }
    return image;
}

// Mode 13h: chain-4, so pixel (x, y) is simply VRAM byte start*4 + y*pitch
// + x (vga.h); the byte indexes the DAC directly.
ScreenImage render_chain4(Vga const& vga, u32 width, u32 height) {
    Vram vram{vga.vram()};
    ScreenImage image = blank(width, height);
    if (screen_off(vga)) return image;
    std::array<u32, 256> colours{};
    for (unsigned c = 0; c < 256; ++c)
        colours[c] = dac_colour(vga, u8(c));
    u32 pitch = vga.crtc(0x13) * 8u;
    u32 start = start_address(vga) * 4;
    for (u32 y = 0; y < height; ++y)
        for (u32 x = 0; x < width; ++x)
            image.pixels[std::size_t(y) * width + x] = colours[vram.at(start + std::size_t(y) * pitch + x)];
    return image;
}

u32 expand_bits(u32 value, unsigned bits) {
    value &= (1u << bits) - 1;
    return (value << (8 - bits)) | (value >> (2 * bits - 8));
}

ScreenImage render_vbe(Vga const& vga, u32 width, u32 height, u32 bpp) {
    Vram vram{vga.vram()};
    if (bpp == 4) return render_planar(vga, width, height, vga.vbe_line_bytes());
    ScreenImage image = blank(width, height);
    u32 pitch = vga.vbe_line_bytes();
    u32 start = vga.vbe_start_offset();
    std::array<u32, 256> colours{};
    if (bpp == 8)
        for (unsigned c = 0; c < 256; ++c)
            colours[c] = dac_colour(vga, u8(c));
    u32 bytes = (bpp + 7) / 8;
    auto const memory = vga.vram();
    for (u32 y = 0; y < height; ++y) {
        std::size_t line = std::size_t(start) + std::size_t(y) * pitch;
        u32* out = &image.pixels[std::size_t(y) * width];
        // Direct colour rows wholly inside VRAM (every row of a sane mode)
        // are copied without the per-byte bounds checks: the console
        // renders up to 30 frames a second, and at 1024x768x32 the
        // checked path cost 5 ms a frame.
        if ((bpp == 32 || bpp == 24) && line + std::size_t(width) * bytes <= memory.size()) {
            u8 const* in = memory.data() + line;
            if (bpp == 32) {
                std::memcpy(out, in, std::size_t(width) * 4);
                for (u32 x = 0; x < width; ++x)
                    out[x] = le32toh(out[x]) & 0xFF'FFFF;
            } else {
                for (u32 x = 0; x < width; ++x, in += 3)
                    out[x] = u32(in[2]) << 16 | u32(in[1]) << 8 | in[0];
            }
            continue;
        }
        for (u32 x = 0; x < width; ++x) {
            std::size_t at = line + std::size_t(x) * bytes;
            u32 pixel = 0;
            switch (bpp) {
            case 8:
                pixel = colours[vram.at(at)];
                break;
            case 15: {
                u32 v = vram.at(at) | u32(vram.at(at + 1)) << 8;
                pixel = expand_bits(v >> 10, 5) << 16 | expand_bits(v >> 5, 5) << 8 | expand_bits(v, 5);
                break;
            }
            case 16: {
                u32 v = vram.at(at) | u32(vram.at(at + 1)) << 8;
                pixel = expand_bits(v >> 11, 5) << 16 | expand_bits(v >> 5, 6) << 8 | expand_bits(v, 5);
                break;
            }
            default: // 24 and 32: blue, green, red in memory order
                pixel = u32(vram.at(at + 2)) << 16 | u32(vram.at(at + 1)) << 8 | vram.at(at);
                break;
            }
            image.pixels[std::size_t(y) * width + x] = pixel;
        }
    }
    return image;
}

} // namespace

control::ScreenInfo screen_info(Vga const& vga) {
    Vga::DisplayMode mode = vga.display_mode();
    control::ScreenInfo info;
    if (!mode.graphics) {
        info.mode = control::VideoMode::Text;
        info.width = mode.width * char_width(vga);
        info.height = mode.height * char_height(vga);
    } else {
        info.mode = mode.vbe                                      ? control::VideoMode::Svga
                    : (mode.bpp == 2 || !(vga.crtc(0x17) & 0x01)) ? control::VideoMode::Cga
                                                                  : control::VideoMode::Vga;
        info.width = mode.width;
        info.height = mode.height;
    }
    // A guest can program a CRTC that describes nothing sensible; the
    // picture is bounded by what VBE can show.
    info.width = std::min<u32>(info.width, Vga::DISPI_MAX_XRES);
    info.height = std::min<u32>(info.height, Vga::DISPI_MAX_YRES);
    return info;
}

ScreenImage render_screen(Vga const& vga) {
    Vga::DisplayMode mode = vga.display_mode();
    control::ScreenInfo info = screen_info(vga);
    if (info.width == 0 || info.height == 0) return blank(0, 0);
    if (!mode.graphics) {
        u32 columns = info.width / char_width(vga);
        u32 rows = info.height / char_height(vga);
        return render_text(vga, columns, rows);
    }
    if (mode.vbe) return render_vbe(vga, info.width, info.height, mode.bpp);
    switch (mode.bpp) {
    case 8:
        return render_chain4(vga, info.width, info.height);
    case 2:
        return render_cga4(vga, info.width, info.height);
    default:
        return render_planar(vga, info.width, info.height);
    }
}

ScreenImage scale_image(ScreenImage const& image, u32 width, u32 height) {
    if (width == 0 || height == 0 || image.width == 0 || image.height == 0) return ScreenImage{};
    ScreenImage out = blank(width, height);
    for (u32 ty = 0; ty < height; ++ty) {
        // The source rows and columns this target pixel covers (at least one).
        u32 y0 = u32(u64(ty) * image.height / height);
        u32 y1 = std::max(y0 + 1, u32(u64(ty + 1) * image.height / height));
        for (u32 tx = 0; tx < width; ++tx) {
            u32 x0 = u32(u64(tx) * image.width / width);
            u32 x1 = std::max(x0 + 1, u32(u64(tx + 1) * image.width / width));
            u64 r = 0, g = 0, b = 0;
            for (u32 y = y0; y < y1; ++y)
                for (u32 x = x0; x < x1; ++x) {
                    u32 p = image.at(x, y);
                    r += p >> 16 & 0xFF;
                    g += p >> 8 & 0xFF;
                    b += p & 0xFF;
                }
            u64 n = u64(y1 - y0) * (x1 - x0);
            out.pixels[std::size_t(ty) * width + tx] =
                u32((r + n / 2) / n) << 16 | u32((g + n / 2) / n) << 8 | u32((b + n / 2) / n);
        }
    }
    return out;
}

} // namespace vsa
