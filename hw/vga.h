// SPDX-License-Identifier: GPL-2.0-or-later
// Vga: an IBM VGA plus the Bochs VBE "DISPI" extensions, presented as the
// PCI function 1234:1111 (class 03/00) that QEMU calls "stdvga" and that
// SeaBIOS's vgabios-stdvga.bin drives.
//
// References: IBM VGA Technical Reference (registers: sequencer, graphics
// controller, attribute controller, CRTC, DAC, general registers; the
// display memory data path: read modes 0/1, write modes 0-3, latches),
// FreeVGA's register descriptions, the Bochs vbe_display_api.txt (DISPI
// registers), QEMU hw/display/vga.c and SeaBIOS vgasrc/{stdvga,bochsvga}.c
// for what the VGA BIOS really programs (behaviour only; no code copied).
//
// What the guest sees:
//   ports 0x3B0-0x3DF  the VGA registers (CRTC and input status 1 at 0x3Bx
//                      or 0x3Dx as misc output bit 0 selects; the other
//                      range reads 0xFF)
//   ports 0x1CE/0x1CF  DISPI index/data (16-bit), 0x1D0 also data (QEMU)
//   port 0x46E8        VGA enable (storage only)
//   0xA0000-0xBFFFF    the legacy window, decoded by GR06's memory map
//                      select (A0000/128K, A0000/64K + VBE bank, B0000/32K,
//                      B8000/32K) and gated by misc output bit 1
//   PCI BAR0           the linear framebuffer (prefetchable, 32-bit, the
//                      size of VRAM)
//   PCI ROM BAR        the VGA BIOS image given to the constructor (SeaBIOS
//                      erases 0xC0000 before it runs VGA ROMs, so the BIOS
//                      must come from here)
//
// VRAM layout (as QEMU's): byte 4*n + p is plane p's byte n. Planar modes
// address "n" per CPU byte; chain-4 (mode 13h, VBE packed modes) is then
// simply vram[cpu offset]; odd/even (text modes) puts even CPU addresses in
// plane 0 (characters) and odd ones in plane 1 (attributes) at the even
// plane offset, so character k of a text page sits at plane offset 2k, as
// the CRTC's word mode fetches it. Fonts live in plane 2.
//
// Deliberately left out:
//   - Rendering pixels (text or graphics) to a host framebuffer: that is
//     the web console's job (issue 7). All state it needs is kept and
//     readable (vram(), palette(), registers, display_mode()).
//   - The odd/even page bit (misc output bit 5), CRTC split screen (line
//     compare) and panning in text_screen(), light pen, vertical retrace
//     interrupts (no IRQ on PCI VGAs in practice; CR11 bit 4/5 stored).
//   - The ALU (write modes, bit mask, set/reset) in chain-4 and odd/even
//     addressing: like QEMU and SVGA chips in packed modes those write the
//     CPU byte straight to the selected plane(s), honouring the map mask.
//   - QEMU's BAR2 MMIO alias of the VGA/DISPI registers (Linux's bochs-drm
//     falls back to the ports when BAR2 is absent).
//   - DISPI's LFB_ENABLED bit is stored only: the framebuffer BAR decodes
//     whenever PCI memory decoding is on (as in QEMU).
//   - Legacy decode does not depend on the PCI command register (QEMU
//     does the same): the VGA BIOS pokes the hardware before and after
//     SeaBIOS enables the function.
// Retrace timing is a fixed 70 Hz, 449-line frame (mode 3's timing), taken
// from Clock::now(), whatever the CRTC programs.
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/io_bus.h"
#include "hypervisor/io/memory_map.h"
#include "hypervisor/io/pci.h"

#include <array>
#include <span>
#include <string>
#include <vector>

namespace vsa {

class Vga final : public PciDevice {
public:
    static constexpr u32 DEFAULT_VRAM = 16 * MiB;
    static constexpr u32 MIN_VRAM = 256 * KiB;
    static constexpr u32 MAX_VRAM = 256 * MiB;
    static constexpr std::size_t PALETTE_BYTES = 768; // 256 entries of R, G, B

    // Bochs VBE limits reported through ENABLE.GETCAPS (SeaBIOS drops the
    // modes above them).
    static constexpr u16 DISPI_MAX_XRES = 2560;
    static constexpr u16 DISPI_MAX_YRES = 1600;
    static constexpr u16 DISPI_MAX_BPP = 32;

    // DISPI register indices and values (vbe_display_api.txt).
    static constexpr Port DISPI_INDEX_PORT = 0x1CE;
    static constexpr Port DISPI_DATA_PORT = 0x1CF;
    enum DispiIndex : u16 {
        DISPI_ID = 0,
        DISPI_XRES,
        DISPI_YRES,
        DISPI_BPP,
        DISPI_ENABLE,
        DISPI_BANK,
        DISPI_VIRT_WIDTH,
        DISPI_VIRT_HEIGHT,
        DISPI_X_OFFSET,
        DISPI_Y_OFFSET,
        DISPI_VIDEO_MEMORY_64K,
        DISPI_REGISTER_COUNT = DISPI_VIDEO_MEMORY_64K,
    };
    static constexpr u16 DISPI_ID0 = 0xB0C0;
    static constexpr u16 DISPI_ID5 = 0xB0C5;
    static constexpr u16 DISPI_ENABLED = 0x01;
    static constexpr u16 DISPI_GETCAPS = 0x02;
    static constexpr u16 DISPI_8BIT_DAC = 0x20;
    static constexpr u16 DISPI_LFB_ENABLED = 0x40;
    static constexpr u16 DISPI_NOCLEARMEM = 0x80;

    // `vga_bios`: the option ROM served through the ROM BAR (may be empty:
    // no ROM BAR then). `vram_bytes` is rounded up to a power of two and
    // clamped to [MIN_VRAM, MAX_VRAM] (the BAR must be a power of two).
    // Maps its ports and the 0xA0000 window at once; unmaps them when
    // destroyed (destroy it before `memory` and `io`).
    Vga(MemoryMap& memory, IoBus& io, Clock& clock, std::vector<u8> vga_bios, u32 vram_bytes = DEFAULT_VRAM);
    ~Vga() override;
    Vga(Vga const&) = delete;
    Vga& operator=(Vga const&) = delete;

    std::string_view name() const override { return "vga"; }
    void reset() override;
    // Offsets are absolute port numbers.
    u32 io_read(u16 port, Width width) override;
    void io_write(u16 port, Width width, u32 value) override;
    // Offsets below LEGACY_WINDOW_TAG are framebuffer (BAR0) offsets; the
    // legacy window is mapped with offset_base LEGACY_WINDOW_TAG.
    u32 mmio_read(u64 offset, Width width) override;
    void mmio_write(u64 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& v) override;
    void post_load() override;

    // The visible text screen: rows of cols characters, each row ended by
    // '\n'. CP437 is mapped to ASCII: printable ASCII as is, NUL and 0xFF
    // (blank cells) as a space, box-drawing characters as '|', '-', '+',
    // shade/block characters as '#', everything else as '.'. In a graphics
    // mode: one line such as "[graphics mode 640x480x8]".
    std::string text_screen() const;

    struct DisplayMode {
        bool graphics{false};
        bool vbe{false};
        u32 width{0};  // pixels, or text columns
        u32 height{0}; // pixels, or text rows
        u32 bpp{0};    // 0 in text mode
    };
    DisplayMode display_mode() const;

    // For the console renderer (issue 7) and tests.
    std::span<u8 const> vram() const { return m_vram; }
    u32 vram_size() const { return static_cast<u32>(m_vram.size()); }
    std::array<u8, PALETTE_BYTES> const& palette() const { return m_palette; }
    bool dac_8bit() const { return (m_vbe[DISPI_ENABLE] & DISPI_8BIT_DAC) != 0; }
    u8 misc_output() const { return m_misc; }
    u8 sequencer(u8 index) const { return index < m_sr.size() ? m_sr[index] : 0; }
    u8 graphics(u8 index) const { return index < m_gr.size() ? m_gr[index] : 0; }
    u8 crtc(u8 index) const { return index < m_cr.size() ? m_cr[index] : 0; }
    u8 attribute(u8 index) const { return index < m_ar.size() ? m_ar[index] : 0; }
    u16 dispi(u16 index) const { return index < m_vbe.size() ? m_vbe[index] : 0; }
    bool vbe_enabled() const { return (m_vbe[DISPI_ENABLE] & DISPI_ENABLED) != 0; }
    // Bytes per scan line and first visible byte of the VBE framebuffer.
    u32 vbe_line_bytes() const;
    u32 vbe_start_offset() const;

    static constexpr u64 LEGACY_WINDOW_TAG = u64(1) << 40;
    static constexpr PhysAddr LEGACY_WINDOW_BASE = 0xA0000;
    static constexpr u64 LEGACY_WINDOW_SIZE = 128 * KiB;
    static constexpr u64 FRAME_NS = 1'000'000'000 / 70;
    static constexpr u64 FRAME_LINES = 449;

private:
    // Ports (vga.cpp).
    u8 read_port(u16 port);
    void write_port(u16 port, u8 value);
    bool crtc_port_active(u16 port) const;
    u8 input_status_1() const;
    void write_crtc(u8 value);
    void write_attribute(u8 value);
    u16 read_dispi(u16 index) const;
    void write_dispi(u16 index, u16 value);
    void enable_dispi(u16 value);
    void fix_dispi();
    u32 vbe_bits_per_pixel() const;

    // Memory (vga_memory.cpp).
    u8 window_read(u32 window_offset);
    void window_write(u32 window_offset, u8 value);
    // Translates a window offset to the CPU offset within display memory
    // (memory map select, VBE bank); false when the window does not decode it.
    bool window_decode(u32 window_offset, u32& cpu_offset) const;
    // Plane-offset bound: 64 KiB per plane in VGA modes, VRAM/4 with VBE.
    u32 plane_limit() const;
    void load_latch(u32 plane_offset);
    u8 planar_read(u32 plane_offset);
    void planar_write(u32 plane_offset, u8 value);
    u8 lfb_read(u64 offset) const;
    void lfb_write(u64 offset, u8 value);

    MemoryMap& m_memory;
    IoBus& m_io;
    Clock& m_clock;
    std::vector<u8> m_rom;
    std::vector<u8> m_vram;
    bool m_window_mapped{false};
    bool m_ports_mapped[3]{};

    // General registers.
    u8 m_misc{0};
    u8 m_feature{0};
    u8 m_vga_enable{0}; // 0x3C3
    u8 m_port_46e8{0};  // 0x46E8
    // Sequencer, graphics controller, CRTC, attribute controller.
    u8 m_sr_index{0};
    std::array<u8, 5> m_sr{};
    u8 m_gr_index{0};
    std::array<u8, 9> m_gr{};
    u8 m_cr_index{0};
    std::array<u8, 0x19> m_cr{};
    u8 m_ar_index{0}; // bits 0-4 index, bit 5 palette address source
    std::array<u8, 0x15> m_ar{};
    bool m_ar_flip_flop{false}; // false: the next 0x3C0 write is an index
    // DAC.
    u8 m_dac_mask{0xFF};
    u8 m_dac_read_index{0};
    u8 m_dac_write_index{0};
    u8 m_dac_sub_index{0}; // 0..2: R, G, B of the current cycle
    u8 m_dac_state{0};     // 0x3C7 read: 0 = write mode, 3 = read mode
    std::array<u8, 3> m_dac_cache{};
    std::array<u8, PALETTE_BYTES> m_palette{};
    // Display memory data path.
    u32 m_latch{0}; // plane p in byte p
    // Bochs VBE.
    u16 m_vbe_index{0};
    std::array<u16, DISPI_REGISTER_COUNT> m_vbe{};
};

} // namespace vsa
