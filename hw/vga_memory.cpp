// SPDX-License-Identifier: GPL-2.0-or-later
// Vga display memory: the 0xA0000 window (memory map select, VBE bank),
// the three CPU addressing schemes (planar with latches and the graphics
// controller's read/write modes, chain-4, odd/even), the linear
// framebuffer, and the text screen. IBM VGA Technical Reference, "Graphics
// Controller Registers" (read/write modes, set/reset, data rotate, bit
// mask) and "Sequencer Registers" (map mask, memory mode).
//
// Every VRAM index is bounds-checked here: window, bank, LFB offsets and
// the CRTC start address are all guest-controlled.
#include "hw/vga.h"

#include <cstdio>

namespace vsa {

namespace {
constexpr u32 PLANE_SIZE_VGA = 64 * KiB; // 256 KiB in four planes

u8 rotate_right(u8 value, unsigned count) {
    count &= 7;
    return count == 0 ? value : static_cast<u8>((value >> count) | (value << (8 - count)));
}

// Expands four bits to four bytes (bit p -> byte p all ones), the shape of
// set/reset values against the latch.
u32 expand_planes(u8 bits) {
    u32 out = 0;
    for (unsigned p = 0; p < 4; ++p)
        if (bits & (1u << p)) out |= 0xFFu << (8 * p);
    return out;
}

char cp437_to_ascii(u8 c) {
    if (c >= 0x20 && c < 0x7F) return static_cast<char>(c);
    if (c == 0x00 || c == 0xFF) return ' ';
    // Box drawing (0xB3-0xDA): vertical lines, horizontal lines, corners
    // and junctions, so BIOS menus stay readable in a log.
    switch (c) {
    case 0xB3:
    case 0xBA:
        return '|';
    case 0xC4:
    case 0xCD:
        return '-';
    default:
        break;
    }
    if (c >= 0xB4 && c <= 0xDA) return '+';
    if ((c >= 0xB0 && c <= 0xB2) || (c >= 0xDB && c <= 0xDF)) return '#';
    return '.';
}
} // namespace

// --- MMIO entry points -----------------------------------------------------

u32 Vga::mmio_read(u64 offset, Width width) {
    u32 value = 0;
    for (unsigned i = 0; i < width_bytes(width); ++i) {
        u64 at = offset + i;
        u8 byte;
        if (at < offset)
            byte = 0xFF; // wrapped past the top of the offset space
        else if (at >= LEGACY_WINDOW_TAG)
            byte = at - LEGACY_WINDOW_TAG < LEGACY_WINDOW_SIZE
                       ? window_read(static_cast<u32>(at - LEGACY_WINDOW_TAG))
                       : 0xFF;
        else
            byte = lfb_read(at);
        value |= u32(byte) << (8 * i);
    }
    return value;
}

void Vga::mmio_write(u64 offset, Width width, u32 value) {
    for (unsigned i = 0; i < width_bytes(width); ++i) {
        u64 at = offset + i;
        auto byte = static_cast<u8>(value >> (8 * i));
        if (at < offset) {
            count_ignored();
        } else if (at >= LEGACY_WINDOW_TAG) {
            if (at - LEGACY_WINDOW_TAG < LEGACY_WINDOW_SIZE)
                window_write(static_cast<u32>(at - LEGACY_WINDOW_TAG), byte);
            else
                count_ignored();
        } else {
            lfb_write(at, byte);
        }
    }
}

u8 Vga::lfb_read(u64 offset) const {
    return offset < m_vram.size() ? m_vram[offset] : 0xFF;
}

void Vga::lfb_write(u64 offset, u8 value) {
    if (offset < m_vram.size())
        m_vram[offset] = value;
    else
        count_ignored();
}

// --- The legacy window -----------------------------------------------------

bool Vga::window_decode(u32 window_offset, u32& cpu_offset) const {
    // Misc output bit 1 enables CPU access to display memory.
    if (!(m_misc & 0x02)) return false;
    switch ((m_gr[6] >> 2) & 3) {
    case 0: // A0000-BFFFF
        cpu_offset = window_offset;
        return true;
    case 1: // A0000-AFFFF, where the VBE bank applies
        if (window_offset >= 0x10000) return false;
        cpu_offset = window_offset + (vbe_enabled() ? u32(m_vbe[DISPI_BANK]) << 16 : 0);
        return true;
    case 2: // B0000-B7FFF (monochrome text)
        if (window_offset < 0x10000 || window_offset >= 0x18000) return false;
        cpu_offset = window_offset - 0x10000;
        return true;
    default: // B8000-BFFFF (colour text, CGA graphics)
        if (window_offset < 0x18000) return false;
        cpu_offset = window_offset - 0x18000;
        return true;
    }
}

u32 Vga::plane_limit() const {
    return vbe_enabled() ? vram_size() / 4 : PLANE_SIZE_VGA;
}

void Vga::load_latch(u32 plane_offset) {
    std::size_t at = std::size_t(plane_offset) * 4;
    m_latch =
        u32(m_vram[at]) | u32(m_vram[at + 1]) << 8 | u32(m_vram[at + 2]) << 16 | u32(m_vram[at + 3]) << 24;
}

u8 Vga::window_read(u32 window_offset) {
    u32 cpu = 0;
    if (!window_decode(window_offset, cpu)) return 0xFF;
    u32 plane;
    u32 plane_offset;
    if (m_sr[4] & 0x08) {
        // Chain-4: the low two address bits pick the plane.
        plane = cpu & 3;
        plane_offset = cpu >> 2;
    } else if (m_gr[5] & 0x10) {
        // Odd/even reads: A0 picks within the pair read map select bit 1
        // names.
        plane = (m_gr[4] & 0x02) | (cpu & 1);
        plane_offset = cpu & ~1u;
    } else {
        plane = 0;
        plane_offset = cpu;
    }
    // Standard VGA wraps within its 64 KiB planes; with VBE on, an offset
    // past VRAM (a bank beyond the end) reads open bus.
    if (vbe_enabled()) {
        if (plane_offset >= plane_limit()) {
            count_ignored();
            return 0xFF;
        }
    } else {
        plane_offset %= PLANE_SIZE_VGA;
    }
    if ((m_sr[4] & 0x08) || (m_gr[5] & 0x10)) {
        load_latch(plane_offset);
        return m_vram[std::size_t(plane_offset) * 4 + plane];
    }
    return planar_read(plane_offset);
}

void Vga::window_write(u32 window_offset, u8 value) {
    u32 cpu = 0;
    if (!window_decode(window_offset, cpu)) return;
    u8 planes;
    u32 plane_offset;
    bool planar = false;
    if (m_sr[4] & 0x08) {
        planes = static_cast<u8>(1u << (cpu & 3));
        plane_offset = cpu >> 2;
    } else if (!(m_sr[4] & 0x04)) {
        // Odd/even writes (SR4 bit 2 clear): even addresses go to planes 0
        // and 2, odd ones to 1 and 3, as far as the map mask allows.
        planes = (cpu & 1) ? 0x0A : 0x05;
        plane_offset = cpu & ~1u;
    } else {
        planes = 0x0F;
        plane_offset = cpu;
        planar = true;
    }
    if (vbe_enabled()) {
        if (plane_offset >= plane_limit()) {
            count_ignored();
            return;
        }
    } else {
        plane_offset %= PLANE_SIZE_VGA;
    }
    if (planar) {
        planar_write(plane_offset, value);
        return;
    }
    planes &= m_sr[2];
    for (unsigned p = 0; p < 4; ++p)
        if (planes & (1u << p)) m_vram[std::size_t(plane_offset) * 4 + p] = value;
}

u8 Vga::planar_read(u32 plane_offset) {
    load_latch(plane_offset);
    if (!(m_gr[5] & 0x08)) {
        // Read mode 0: the plane read map select names.
        return static_cast<u8>(m_latch >> (8 * (m_gr[4] & 3)));
    }
    // Read mode 1 (colour compare): a bit is 1 where every plane that
    // colour don't care includes matches colour compare.
    u32 differ = (m_latch ^ expand_planes(m_gr[2])) & expand_planes(m_gr[7]);
    u8 any = static_cast<u8>(differ | differ >> 8 | differ >> 16 | differ >> 24);
    return static_cast<u8>(~any);
}

void Vga::planar_write(u32 plane_offset, u8 value) {
    u32 data;
    u8 bit_mask = m_gr[8];
    switch (m_gr[5] & 3) {
    case 0: {
        // Rotate, then set/reset replaces the planes enable set/reset
        // selects.
        u8 rotated = rotate_right(value, m_gr[3] & 7);
        u32 enable = expand_planes(m_gr[1]);
        data = (rotated * 0x01010101u & ~enable) | (expand_planes(m_gr[0]) & enable);
        break;
    }
    case 1:
        // Write mode 1: the latches go back unchanged (fast copies).
        data = m_latch;
        bit_mask = 0xFF;
        break;
    case 2:
        // Write mode 2: CPU bits 0-3 fill the planes.
        data = expand_planes(value & 0x0F);
        break;
    default: {
        // Write mode 3: the rotated CPU byte ANDed with the bit mask is the
        // mask; set/reset gives the colour.
        u8 rotated = rotate_right(value, m_gr[3] & 7);
        bit_mask &= rotated;
        data = expand_planes(m_gr[0]);
        break;
    }
    }
    if ((m_gr[5] & 3) != 1) {
        // Logical function against the latch, then the bit mask keeps the
        // latch's bits where the mask is 0.
        switch ((m_gr[3] >> 3) & 3) {
        case 1:
            data &= m_latch;
            break;
        case 2:
            data |= m_latch;
            break;
        case 3:
            data ^= m_latch;
            break;
        default:
            break;
        }
        u32 mask = bit_mask * 0x01010101u;
        data = (data & mask) | (m_latch & ~mask);
    }
    std::size_t at = std::size_t(plane_offset) * 4;
    for (unsigned p = 0; p < 4; ++p)
        if (m_sr[2] & (1u << p)) m_vram[at + p] = static_cast<u8>(data >> (8 * p));
}

// --- Mode and text screen --------------------------------------------------

Vga::DisplayMode Vga::display_mode() const {
    if (vbe_enabled()) return {true, true, m_vbe[DISPI_XRES], m_vbe[DISPI_YRES], m_vbe[DISPI_BPP]};
    u32 columns = m_cr[0x01] + 1u;
    u32 display_end = m_cr[0x12] | ((m_cr[0x07] & 0x02) << 7) | ((m_cr[0x07] & 0x40) << 3);
    u32 scan_lines = display_end + 1;
    u32 max_scan = (m_cr[0x09] & 0x1F) + 1u;
    if (!(m_gr[6] & 0x01)) {
        // An unprogrammed CRTC (before the VGA BIOS ran) shows as 80x25.
        u32 rows = scan_lines / max_scan;
        if (m_cr[0x01] == 0 || rows == 0) return {false, false, 80, 25, 0};
        return {false, false, columns, rows, 0};
    }
    u32 bpp = (m_gr[5] & 0x40) ? 8 : (m_gr[5] & 0x20) ? 2 : (m_ar[0x12] & 0x0F) == 0x01 ? 1 : 4;
    u32 width = columns * 8 / (bpp == 8 ? 2 : 1);
    u32 double_scan = (m_cr[0x09] >> 7) & 1;
    // With CGA addressing (CR17 bit 0 clear) the row scan counter selects
    // the interleaved bank rather than repeating lines.
    u32 height = (m_cr[0x17] & 0x01) ? scan_lines / (max_scan << double_scan) : scan_lines >> double_scan;
    return {true, false, width, height, bpp};
}

std::string Vga::text_screen() const {
    DisplayMode mode = display_mode();
    if (mode.graphics) {
        char line[64];
        std::snprintf(line, sizeof line, "[graphics mode %ux%ux%u]\n", mode.width, mode.height, mode.bpp);
        return line;
    }
    u32 start = u32(m_cr[0x0C]) << 8 | m_cr[0x0D];
    // CR13 counts words per row in the text modes' word addressing.
    u32 stride = m_cr[0x13] ? m_cr[0x13] * 2u : mode.width;
    std::string out;
    out.reserve(std::size_t(mode.height) * (mode.width + 1));
    for (u32 row = 0; row < mode.height; ++row) {
        for (u32 col = 0; col < mode.width; ++col) {
            u32 character = start + row * stride + col;
            // Character k is at plane offset 2k of plane 0 (see vga.h).
            u32 plane_offset = (character * 2) % PLANE_SIZE_VGA;
            out.push_back(cp437_to_ascii(m_vram[std::size_t(plane_offset) * 4]));
        }
        out.push_back('\n');
    }
    return out;
}

} // namespace vsa
