// SPDX-License-Identifier: GPL-2.0-or-later
// The guest's screen as a picture: a pure function of the Vga's state
// (VRAM, registers, DAC palette), for IVMDisplay's thumbnail and size and
// for screenshots. Nothing here touches the device: it reads what
// Vga exposes (hw/vga.h explains the VRAM layout).
//
// What it draws, following the IBM VGA Technical Reference's display path
// (CRTC address generation -> attribute controller -> DAC):
//   - Text modes: each cell's character from plane 0 and attribute from
//     plane 1, the glyph from the font the VGA BIOS loaded into plane 2
//     (character map select SR03 picks font A/B by attribute bit 3), 8 or
//     9 dots wide (SR01 bit 0; the 9th column repeats the 8th for the line
//     graphics characters C0-DF when AR10 bit 2 is set), CR09+1 scan lines
//     high; foreground and background through the attribute palette
//     (AR00-0F, AR10 bit 7 / AR14 colour select) and the DAC; blink
//     (AR10 bit 3) shows the "on" phase with the 8 background colours; the
//     cursor (CR0A/0B/0E/0F) is drawn unless disabled.
//   - VGA graphics: chain-4 256-colour (mode 13h), planar 16-colour (0Dh,
//     0Eh, 10h, 12h) and 2-colour (11h, and 06h with CGA addressing), the
//     CGA 4-colour interleaved modes (04h/05h): pixels through the attribute
//     palette (not for 256 colours) and the DAC.
//   - Bochs VBE packed modes: 8 bpp through the DAC (6 or 8 bit), 15, 16,
//     24 and 32 bpp direct colour; 4 bpp VBE modes as planar.
// Left out: monochrome attributes (underline, AR10 bit 1), the CRTC
// split screen and horizontal panning, the DAC pixel mask, blanking by
// the attribute index's palette-address-source bit, double-width pixels of
// the 256-colour mode's horizontal half clock beyond mode 13h's own.
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/machine/control_protocol.h"

#include <vector>

namespace vsa {

class Vga;

struct ScreenImage {
    u32 width{0};
    u32 height{0};
    std::vector<u32> pixels; // row-major, 0x00RRGGBB
    u32 at(u32 x, u32 y) const { return pixels[std::size_t(y) * width + x]; }
};

// The screen's size in pixels and the kind of mode, as IVMDisplay reports
// them (text modes: columns x character width by rows x character height).
control::ScreenInfo screen_info(Vga const& vga);

// The whole visible screen, screen_info()'s size (never larger than
// Vga::DISPI_MAX_XRES x DISPI_MAX_YRES).
ScreenImage render_screen(Vga const& vga);

// `image` scaled to exactly width x height by averaging the source pixels
// each target pixel covers (a box filter: a thumbnail keeps the shade of
// text rather than dropping most of its strokes). A zero size or an empty
// image gives an empty image.
ScreenImage scale_image(ScreenImage const& image, u32 width, u32 height);

} // namespace vsa
