// SPDX-License-Identifier: GPL-2.0-or-later
// Vga: registers (general, sequencer, graphics controller, CRTC, attribute
// controller, DAC), the Bochs DISPI interface, PCI identity and state.
// The display memory data path and the text screen are in vga_memory.cpp.
// See vga.h for the chip, the references and what is left out.
#include "hw/vga.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace vsa {

namespace {
// Ports.
constexpr u16 ATTR_INDEX = 0x3C0; // write: index/data (flip-flop); read: index
constexpr u16 ATTR_DATA = 0x3C1;  // read: data
constexpr u16 MISC_WRITE = 0x3C2; // write: misc output; read: input status 0
constexpr u16 VGA_ENABLE = 0x3C3;
constexpr u16 SEQ_INDEX = 0x3C4;
constexpr u16 SEQ_DATA = 0x3C5;
constexpr u16 DAC_MASK = 0x3C6;
constexpr u16 DAC_READ_INDEX = 0x3C7; // write: read index; read: DAC state
constexpr u16 DAC_WRITE_INDEX = 0x3C8;
constexpr u16 DAC_DATA = 0x3C9;
constexpr u16 FEATURE_READ = 0x3CA;
constexpr u16 MISC_READ = 0x3CC;
constexpr u16 GC_INDEX = 0x3CE;
constexpr u16 GC_DATA = 0x3CF;
constexpr u16 CRTC_INDEX_MONO = 0x3B4;
constexpr u16 CRTC_DATA_MONO = 0x3B5;
constexpr u16 STATUS1_MONO = 0x3BA; // read: input status 1; write: feature control
constexpr u16 CRTC_INDEX_COLOR = 0x3D4;
constexpr u16 CRTC_DATA_COLOR = 0x3D5;
constexpr u16 STATUS1_COLOR = 0x3DA;
constexpr u16 VGA_ENABLE_46E8 = 0x46E8;
constexpr u16 DISPI_DATA_ALT = 0x1D0;

constexpr Port VGA_PORT_BASE = 0x3B0;
constexpr u32 VGA_PORT_COUNT = 0x30;
constexpr u32 DISPI_PORT_COUNT = 4; // 0x1CE..0x1D1, so a word at 0x1D0 fits

// Writable bits per register (the rest read as zero), from the VGA
// register descriptions.
constexpr u8 SR_MASK[5] = {0x03, 0x3D, 0x0F, 0x3F, 0x0E};
constexpr u8 GR_MASK[9] = {0x0F, 0x0F, 0x0F, 0x1F, 0x03, 0x7B, 0x0F, 0x0F, 0xFF};

// CRTC registers named where the code uses them.
constexpr u8 CR_OVERFLOW = 0x07;
constexpr u8 CR_MAX_SCAN = 0x09;
constexpr u8 CR_VSYNC_END = 0x11; // bit 7: protect CR0-CR7
constexpr u8 CR_OFFSET = 0x13;
constexpr u8 CR_MODE = 0x17;
constexpr u8 CR_LINE_COMPARE = 0x18;

// Retrace model: mode 3's 449-line frame at 70 Hz; 400 lines displayed,
// vertical retrace on lines 412-413 (its VRS/VRE), horizontal blanking in
// the last fifth of each line.
constexpr u64 LINE_NS = Vga::FRAME_NS / Vga::FRAME_LINES;
constexpr u64 DISPLAYED_LINES = 400;
constexpr u64 VRETRACE_FIRST = 412;
constexpr u64 VRETRACE_END = 414;
} // namespace

Vga::Vga(MemoryMap& memory, IoBus& io, Clock& clock, std::vector<u8> vga_bios, u32 vram_bytes)
    : PciDevice(PciId{0x1234, 0x1111, 0x03, 0x00, 0x00, 0x02, 0x1AF4, 0x1100}), m_memory(memory), m_io(io),
      m_clock(clock), m_rom(std::move(vga_bios)) {
    m_vram.assign(std::bit_ceil(std::clamp(vram_bytes, MIN_VRAM, MAX_VRAM)), 0);
    declare_bar(0, BarKind::Memory32, vram_size());
    // The prefetchable bit of BAR0 is set in reset(): PciDevice has no
    // BAR kind for it and its reset restores the config snapshot taken by
    // declare_bar()/declare_rom().
    if (!m_rom.empty()) declare_rom(m_rom);

    m_window_mapped = m_memory.map_mmio(LEGACY_WINDOW_BASE, LEGACY_WINDOW_SIZE, *this, LEGACY_WINDOW_TAG);
    m_ports_mapped[0] = m_io.map(VGA_PORT_BASE, VGA_PORT_COUNT, *this, WIDTH_8, VGA_PORT_BASE);
    m_ports_mapped[1] = m_io.map(DISPI_INDEX_PORT, DISPI_PORT_COUNT, *this, WIDTH_8_16, DISPI_INDEX_PORT);
    m_ports_mapped[2] = m_io.map(VGA_ENABLE_46E8, 1, *this, WIDTH_8, VGA_ENABLE_46E8);
    Vga::reset();
}

Vga::~Vga() {
    if (m_window_mapped) m_memory.unmap_mmio(LEGACY_WINDOW_BASE, *this);
    if (m_ports_mapped[0]) m_io.unmap(VGA_PORT_BASE, *this);
    if (m_ports_mapped[1]) m_io.unmap(DISPI_INDEX_PORT, *this);
    if (m_ports_mapped[2]) m_io.unmap(VGA_ENABLE_46E8, *this);
    // Unmaps BAR0 and the ROM BAR.
    PciDevice::reset();
}

void Vga::reset() {
    PciDevice::reset();
    // Prefetchable (BAR bit 3): the framebuffer has no read side effects,
    // so firmware may place it in a prefetchable window.
    config_byte(pci::BAR0) |= 0x08;
    m_misc = 0;
    m_feature = 0;
    m_vga_enable = 0;
    m_port_46e8 = 0;
    m_sr_index = 0;
    m_sr.fill(0);
    m_gr_index = 0;
    m_gr.fill(0);
    m_cr_index = 0;
    m_cr.fill(0);
    m_ar_index = 0;
    m_ar.fill(0);
    m_ar_flip_flop = false;
    m_dac_mask = 0xFF;
    m_dac_read_index = 0;
    m_dac_write_index = 0;
    m_dac_sub_index = 0;
    m_dac_state = 0;
    m_dac_cache.fill(0);
    m_palette.fill(0);
    m_latch = 0;
    m_vbe_index = 0;
    m_vbe.fill(0);
    m_vbe[DISPI_ID] = DISPI_ID5;
    std::fill(m_vram.begin(), m_vram.end(), u8(0));
}

// --- Ports -----------------------------------------------------------------

u32 Vga::io_read(u16 port, Width width) {
    if (port >= DISPI_INDEX_PORT && port < DISPI_INDEX_PORT + DISPI_PORT_COUNT) {
        // DISPI registers are 16 bits wide; a byte cycle sees the low half.
        u16 value;
        if (port == DISPI_INDEX_PORT) {
            value = m_vbe_index;
        } else if (port == DISPI_DATA_PORT || port == DISPI_DATA_ALT) {
            value = read_dispi(m_vbe_index);
        } else {
            count_ignored();
            return width_mask(width);
        }
        return value & width_mask(width);
    }
    // The bus splits wide cycles for us (the VGA range accepts bytes only);
    // split here too for direct callers.
    u32 value = 0;
    for (unsigned i = 0; i < width_bytes(width); ++i)
        value |= u32(read_port(static_cast<u16>(port + i))) << (8 * i);
    return value;
}

void Vga::io_write(u16 port, Width width, u32 value) {
    if (port >= DISPI_INDEX_PORT && port < DISPI_INDEX_PORT + DISPI_PORT_COUNT) {
        auto v = static_cast<u16>(value & width_mask(width));
        if (port == DISPI_INDEX_PORT)
            m_vbe_index = v;
        else if (port == DISPI_DATA_PORT || port == DISPI_DATA_ALT)
            write_dispi(m_vbe_index, v);
        else
            count_ignored();
        return;
    }
    for (unsigned i = 0; i < width_bytes(width); ++i)
        write_port(static_cast<u16>(port + i), static_cast<u8>(value >> (8 * i)));
}

bool Vga::crtc_port_active(u16 port) const {
    // Misc output bit 0 (I/O address select): 1 = colour (0x3Dx), 0 = mono.
    bool color = (m_misc & 0x01) != 0;
    return color ? (port & 0xFFF0) == 0x3D0 : (port & 0xFFF0) == 0x3B0;
}

u8 Vga::input_status_1() const {
    u64 position = m_clock.now() % FRAME_NS;
    u64 line = position / LINE_NS;
    bool vretrace = line >= VRETRACE_FIRST && line < VRETRACE_END;
    bool blanking = line >= DISPLAYED_LINES || (position % LINE_NS) >= LINE_NS * 4 / 5;
    // Bit 0: display disabled (any blanking); bit 3: vertical retrace.
    return static_cast<u8>((blanking ? 0x01 : 0) | (vretrace ? 0x08 : 0));
}

u8 Vga::read_port(u16 port) {
    switch (port) {
    case ATTR_INDEX:
        return m_ar_index;
    case ATTR_DATA: {
        u8 index = m_ar_index & 0x1F;
        return index < m_ar.size() ? m_ar[index] : 0;
    }
    case MISC_WRITE:
        // Input status 0: no retrace interrupt pending, switch sense low
        // (no monitor to sense).
        return 0;
    case VGA_ENABLE:
        return m_vga_enable;
    case SEQ_INDEX:
        return m_sr_index;
    case SEQ_DATA:
        return m_sr_index < m_sr.size() ? m_sr[m_sr_index] : 0;
    case DAC_MASK:
        return m_dac_mask;
    case DAC_READ_INDEX:
        return m_dac_state;
    case DAC_WRITE_INDEX:
        return m_dac_write_index;
    case DAC_DATA: {
        u8 value = m_palette[std::size_t(m_dac_read_index) * 3 + m_dac_sub_index];
        if (++m_dac_sub_index == 3) {
            m_dac_sub_index = 0;
            ++m_dac_read_index;
        }
        return value;
    }
    case FEATURE_READ:
        return m_feature;
    case MISC_READ:
        return m_misc;
    case GC_INDEX:
        return m_gr_index;
    case GC_DATA:
        return m_gr_index < m_gr.size() ? m_gr[m_gr_index] : 0;
    case CRTC_INDEX_MONO:
    case CRTC_INDEX_COLOR:
        return crtc_port_active(port) ? m_cr_index : 0xFF;
    case CRTC_DATA_MONO:
    case CRTC_DATA_COLOR:
        if (!crtc_port_active(port)) return 0xFF;
        return m_cr_index < m_cr.size() ? m_cr[m_cr_index] : 0;
    case STATUS1_MONO:
    case STATUS1_COLOR:
        if (!crtc_port_active(port)) return 0xFF;
        // Reading input status 1 resets the attribute flip-flop to
        // "index": the documented way software resynchronises with it.
        m_ar_flip_flop = false;
        return input_status_1();
    case VGA_ENABLE_46E8:
        return m_port_46e8;
    default:
        count_ignored();
        return 0xFF;
    }
}

void Vga::write_port(u16 port, u8 value) {
    switch (port) {
    case ATTR_INDEX:
        write_attribute(value);
        return;
    case MISC_WRITE:
        m_misc = value;
        return;
    case VGA_ENABLE:
        m_vga_enable = value & 0x01;
        return;
    case SEQ_INDEX:
        m_sr_index = value & 0x07;
        return;
    case SEQ_DATA:
        if (m_sr_index < m_sr.size())
            m_sr[m_sr_index] = value & SR_MASK[m_sr_index];
        else
            count_ignored();
        return;
    case DAC_MASK:
        m_dac_mask = value;
        return;
    case DAC_READ_INDEX:
        m_dac_read_index = value;
        m_dac_sub_index = 0;
        m_dac_state = 3;
        return;
    case DAC_WRITE_INDEX:
        m_dac_write_index = value;
        m_dac_sub_index = 0;
        m_dac_state = 0;
        return;
    case DAC_DATA:
        // A 6-bit DAC keeps 6 bits per gun; the VBE 8-bit DAC keeps all 8.
        m_dac_cache[m_dac_sub_index] = dac_8bit() ? value : (value & 0x3F);
        if (++m_dac_sub_index == 3) {
            std::memcpy(&m_palette[std::size_t(m_dac_write_index) * 3], m_dac_cache.data(), 3);
            m_dac_sub_index = 0;
            ++m_dac_write_index;
        }
        return;
    case GC_INDEX:
        m_gr_index = value & 0x0F;
        return;
    case GC_DATA:
        if (m_gr_index < m_gr.size())
            m_gr[m_gr_index] = value & GR_MASK[m_gr_index];
        else
            count_ignored();
        return;
    case CRTC_INDEX_MONO:
    case CRTC_INDEX_COLOR:
        if (crtc_port_active(port)) m_cr_index = value;
        return;
    case CRTC_DATA_MONO:
    case CRTC_DATA_COLOR:
        if (crtc_port_active(port)) write_crtc(value);
        return;
    case STATUS1_MONO:
    case STATUS1_COLOR:
        if (crtc_port_active(port)) m_feature = value & 0x03;
        return;
    case VGA_ENABLE_46E8:
        m_port_46e8 = value;
        return;
    default:
        // Includes 0x3C1 (attribute data is read-only there) and the
        // inactive CRTC range.
        count_ignored();
        return;
    }
}

void Vga::write_crtc(u8 value) {
    if (m_cr_index >= m_cr.size()) {
        count_ignored();
        return;
    }
    // CR11 bit 7 write-protects CR0-CR7, except CR7 bit 4 (line compare
    // bit 8), so a mode setter can unlock the timing registers first.
    if ((m_cr[CR_VSYNC_END] & 0x80) && m_cr_index <= CR_OVERFLOW) {
        if (m_cr_index == CR_OVERFLOW) m_cr[CR_OVERFLOW] = (m_cr[CR_OVERFLOW] & ~0x10) | (value & 0x10);
        return;
    }
    m_cr[m_cr_index] = value;
}

void Vga::write_attribute(u8 value) {
    if (!m_ar_flip_flop) {
        m_ar_index = value & 0x3F;
    } else {
        u8 index = m_ar_index & 0x1F;
        // Palette registers are 6 bits, and so is colour plane enable
        // (with video status mux); mode control and overscan are 8.
        if (index < 0x10 || index == 0x12)
            m_ar[index] = value & 0x3F;
        else if (index == 0x10 || index == 0x11)
            m_ar[index] = value;
        else if (index == 0x13 || index == 0x14)
            m_ar[index] = value & 0x0F; // pel panning, colour select
        else
            count_ignored();
    }
    m_ar_flip_flop = !m_ar_flip_flop;
}

// --- Bochs DISPI -----------------------------------------------------------

u32 Vga::vbe_bits_per_pixel() const {
    u16 bpp = m_vbe[DISPI_BPP];
    return bpp == 15 ? 16 : bpp;
}

u32 Vga::vbe_line_bytes() const {
    return m_vbe[DISPI_VIRT_WIDTH] * vbe_bits_per_pixel() / 8;
}

u32 Vga::vbe_start_offset() const {
    return m_vbe[DISPI_X_OFFSET] * vbe_bits_per_pixel() / 8 + m_vbe[DISPI_Y_OFFSET] * vbe_line_bytes();
}

u16 Vga::read_dispi(u16 index) const {
    if (index < m_vbe.size()) {
        if (m_vbe[DISPI_ENABLE] & DISPI_GETCAPS) {
            // GETCAPS turns XRES/YRES/BPP into the limits (SeaBIOS prunes
            // its mode list with them).
            if (index == DISPI_XRES) return DISPI_MAX_XRES;
            if (index == DISPI_YRES) return DISPI_MAX_YRES;
            if (index == DISPI_BPP) return DISPI_MAX_BPP;
        }
        return m_vbe[index];
    }
    if (index == DISPI_VIDEO_MEMORY_64K)
        return static_cast<u16>(std::min<u32>(vram_size() / (64 * KiB), 0xFFFF));
    return 0;
}

void Vga::write_dispi(u16 index, u16 value) {
    switch (index) {
    case DISPI_ID:
        // The BIOS writes an ID and reads it back to learn the interface
        // version; we speak every one up to B0C5.
        if (value >= DISPI_ID0 && value <= DISPI_ID5)
            m_vbe[DISPI_ID] = value;
        else
            count_ignored();
        return;
    case DISPI_XRES:
    case DISPI_YRES:
    case DISPI_BPP:
    case DISPI_VIRT_WIDTH:
    case DISPI_X_OFFSET:
    case DISPI_Y_OFFSET:
        m_vbe[index] = value;
        fix_dispi();
        return;
    case DISPI_ENABLE:
        enable_dispi(value);
        return;
    case DISPI_BANK: {
        // 64 KiB banks over VRAM (over one plane in the 4 bpp planar mode,
        // whose window offsets are plane offsets).
        u32 span = vbe_bits_per_pixel() == 4 ? vram_size() / 4 : vram_size();
        u32 banks = std::max<u32>(span / (64 * KiB), 1);
        m_vbe[DISPI_BANK] = static_cast<u16>(value & (banks - 1));
        return;
    }
    case DISPI_VIRT_HEIGHT:
        // Derived from VRAM and the line length; writes are ignored as in
        // QEMU and Bochs.
        return;
    default:
        count_ignored();
        return;
    }
}

// Brings the DISPI geometry to the nearest mode that fits VRAM. There is
// no way to report an error through DISPI, so values are clamped, and only
// while the interface is enabled (a BIOS writes XRES, YRES and BPP one at
// a time before enabling).
void Vga::fix_dispi() {
    if (!vbe_enabled()) return;
    u16& bpp = m_vbe[DISPI_BPP];
    if (bpp != 4 && bpp != 8 && bpp != 15 && bpp != 16 && bpp != 24 && bpp != 32) bpp = 8;
    u32 bits = vbe_bits_per_pixel();

    u16& xres = m_vbe[DISPI_XRES];
    xres = static_cast<u16>(std::clamp<u32>(xres & ~7u, 8, DISPI_MAX_XRES));
    u16& virt_width = m_vbe[DISPI_VIRT_WIDTH];
    virt_width = static_cast<u16>(std::clamp<u32>(virt_width & ~7u, xres, DISPI_MAX_XRES));

    u32 line = virt_width * bits / 8;
    u32 max_lines = std::min<u32>(vram_size() / line, 0xFFFF);
    u16& yres = m_vbe[DISPI_YRES];
    yres = static_cast<u16>(std::clamp<u32>(yres, 1, std::min<u32>(DISPI_MAX_YRES, max_lines)));

    u16& x_offset = m_vbe[DISPI_X_OFFSET];
    u16& y_offset = m_vbe[DISPI_Y_OFFSET];
    x_offset = std::min<u16>(x_offset, DISPI_MAX_XRES);
    y_offset = std::min<u16>(y_offset, static_cast<u16>(std::min<u32>(max_lines, 0xFFFF)));
    // The visible frame must lie inside VRAM: drop the offsets that push
    // it out, Y first.
    auto frame_end = [&] { return u64(vbe_start_offset()) + u64(yres) * line; };
    if (frame_end() > vram_size()) y_offset = 0;
    if (frame_end() > vram_size()) x_offset = 0;
    m_vbe[DISPI_VIRT_HEIGHT] = static_cast<u16>(max_lines);
}

void Vga::enable_dispi(u16 value) {
    bool was_enabled = vbe_enabled();
    m_vbe[DISPI_ENABLE] = value;
    if (!(value & DISPI_ENABLED) || was_enabled) return;

    // Turning DISPI on starts a fresh mode: no panning, virtual width =
    // XRES, geometry fixed up, memory cleared unless asked not to.
    m_vbe[DISPI_VIRT_WIDTH] = 0;
    m_vbe[DISPI_X_OFFSET] = 0;
    m_vbe[DISPI_Y_OFFSET] = 0;
    fix_dispi();
    u32 line = vbe_line_bytes();
    if (!(value & DISPI_NOCLEARMEM)) {
        u64 bytes = std::min<u64>(u64(m_vbe[DISPI_YRES]) * line, vram_size());
        std::fill_n(m_vram.begin(), bytes, u8(0));
    }

    // Put the VGA side in a matching graphics mode, as SeaBIOS's bochsvga
    // and the old Bochs BIOS expect: graphics, the 64 KiB window at A0000
    // (where the bank appears), no CGA addressing, the line length and
    // display size in the CRTC, line compare out of the way, no doubling;
    // chain-4 over all planes for the packed-pixel depths.
    u32 height = m_vbe[DISPI_YRES] - 1u;
    m_gr[6] = static_cast<u8>((m_gr[6] & ~0x0C) | 0x04 | 0x01);
    m_cr[CR_MODE] |= 0x03;
    m_cr[CR_OFFSET] = static_cast<u8>(line >> 3);
    m_cr[0x01] = static_cast<u8>((m_vbe[DISPI_XRES] >> 3) - 1);
    m_cr[0x12] = static_cast<u8>(height);
    m_cr[CR_OVERFLOW] =
        static_cast<u8>((m_cr[CR_OVERFLOW] & ~0x42) | ((height >> 7) & 0x02) | ((height >> 3) & 0x40) | 0x10);
    m_cr[CR_LINE_COMPARE] = 0xFF;
    m_cr[CR_MAX_SCAN] = static_cast<u8>((m_cr[CR_MAX_SCAN] | 0x40) & ~0x9F);
    u8 shift_control;
    if (m_vbe[DISPI_BPP] == 4) {
        shift_control = 0;
        m_sr[1] &= ~0x08;
    } else {
        shift_control = 2;
        m_sr[4] |= 0x08;
        m_sr[2] = 0x0F;
    }
    m_gr[5] = static_cast<u8>((m_gr[5] & ~0x60) | (shift_control << 5));
}

// --- State -----------------------------------------------------------------

void Vga::visit_state(StateVisitor& v) {
    visit_pci_state(v);
    v.section("vga", 1);
    v.field("misc", m_misc);
    v.field("feature", m_feature);
    v.field("vga_enable", m_vga_enable);
    v.field("port_46e8", m_port_46e8);
    v.field("sr_index", m_sr_index);
    v.field("sr", m_sr);
    v.field("gr_index", m_gr_index);
    v.field("gr", m_gr);
    v.field("cr_index", m_cr_index);
    v.field("cr", m_cr);
    v.field("ar_index", m_ar_index);
    v.field("ar", m_ar);
    v.field("ar_flip_flop", m_ar_flip_flop);
    v.field("dac_mask", m_dac_mask);
    v.field("dac_read_index", m_dac_read_index);
    v.field("dac_write_index", m_dac_write_index);
    v.field("dac_sub_index", m_dac_sub_index);
    v.field("dac_state", m_dac_state);
    v.field("dac_cache", m_dac_cache);
    v.field("palette", m_palette);
    v.field("latch", m_latch);
    v.field("vbe_index", m_vbe_index);
    v.field("vbe", m_vbe);
    v.bytes_field("vram", std::as_writable_bytes(std::span(m_vram)));
    if (!v.is_loading() || !v.ok()) return;
    // Indices a guest could never produce mean a corrupt stream.
    if (m_sr_index > 7 || m_gr_index > 15 || m_ar_index > 0x3F || m_dac_sub_index > 2 ||
        (m_dac_state != 0 && m_dac_state != 3) || m_vga_enable > 1 || m_feature > 3)
        v.fail("saved state: vga register index out of range");
}

void Vga::post_load() {
    PciDevice::post_load();
}

} // namespace vsa
