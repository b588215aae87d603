// SPDX-License-Identifier: GPL-2.0-or-later
// A VGA on a PCI bus with the port writes that program it, for tests that
// set a mode up register by register and look at what the card shows
// (screen_render_test, shared_framebuffer_test). The card's BAR0 is not
// programmed: tests that use the linear framebuffer point it at LFB_BASE.
#pragma once

#include "hw/vga.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/io_bus.h"
#include "hypervisor/io/memory_map.h"
#include "hypervisor/io/pci.h"

#include <boost/test/unit_test.hpp>

#include <memory>

namespace vsa::test {

struct VgaTestRig {
    static constexpr PhysAddr LFB_BASE = 0xE000'0000;

    explicit VgaTestRig(u64 vram_bytes)
        : memory(MemoryMap::create(2 * MiB).release_value()), pci(io, *memory),
          vga(*memory, io, clock, {}, vram_bytes) {
        BOOST_REQUIRE(pci.attach(2, 0, vga));
    }
    void out8(Port port, u8 value) { io.write(port, Width::Byte, value); }
    void out16(Port port, u16 value) { io.write(port, Width::Word, value); }
    void seq(u8 index, u8 value) { out16(0x3C4, static_cast<u16>(value << 8 | index)); }
    void gc(u8 index, u8 value) { out16(0x3CE, static_cast<u16>(value << 8 | index)); }
    void crtc(u8 index, u8 value) {
        out8(0x3D4, index);
        out8(0x3D5, value);
    }
    void attr(u8 index, u8 value) {
        (void)io.read(0x3DA, Width::Byte);
        out8(0x3C0, index);
        out8(0x3C0, value);
        out8(0x3C0, 0x20); // palette address source back on: the screen shows
    }
    void dac(u8 index, u8 r, u8 g, u8 b) {
        out8(0x3C8, index);
        out8(0x3C9, r);
        out8(0x3C9, g);
        out8(0x3C9, b);
    }
    void dispi(u16 index, u16 value) {
        out16(Vga::DISPI_INDEX_PORT, index);
        out16(Vga::DISPI_DATA_PORT, value);
    }
    void poke8(PhysAddr a, u8 v) { memory->write(a, Width::Byte, v); }

    Clock clock{Clock::Mode::Manual};
    std::unique_ptr<MemoryMap> memory;
    IoBus io;
    PciBus pci;
    Vga vga;
};

} // namespace vsa::test
