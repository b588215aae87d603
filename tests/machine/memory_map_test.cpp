// SPDX-License-Identifier: GPL-2.0-or-later
// The physical address space: RAM, BIOS ROM and its 0xE0000 alias, PAM
// routing, A20, MMIO dispatch, and the host-page fast path the CPU caches.
#include "hypervisor/io/memory_map.h"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace vsa;

namespace {
struct MmioRecorder final : Device {
    std::vector<std::pair<u64, u32>> writes;
    std::string_view name() const override { return "mmio"; }
    void reset() override {}
    u32 mmio_read(u64 offset, Width) override { return static_cast<u32>(0xA0 + offset); }
    void mmio_write(u64 offset, Width, u32 value) override { writes.emplace_back(offset, value); }
    void visit_state(StateVisitor&) override {}
};

std::unique_ptr<MemoryMap> make(u64 ram = 4 * MiB) {
    auto map = MemoryMap::create(ram);
    BOOST_REQUIRE(map.has_value());
    return map.release_value();
}

std::vector<u8> bios_image() {
    std::vector<u8> image(128 * KiB);
    for (std::size_t i = 0; i < image.size(); ++i)
        image[i] = static_cast<u8>(i * 7);
    return image;
}
} // namespace

BOOST_AUTO_TEST_SUITE(memory_map)

BOOST_AUTO_TEST_CASE(ram_reads_back_and_rejects_bad_sizes) {
    auto map = make();
    map->write(0x1000, Width::Dword, 0xDEADBEEF);
    BOOST_TEST(map->read(0x1000, Width::Dword) == 0xDEADBEEFu);
    BOOST_TEST(map->read(0x1001, Width::Byte) == 0xBEu);
    BOOST_TEST(map->ram()[0x1003] == 0xDE);
    BOOST_TEST(!MemoryMap::create(0).has_value());
    BOOST_TEST(!MemoryMap::create(MiB + 1).has_value());
}

BOOST_AUTO_TEST_CASE(beyond_ram_is_open_bus) {
    auto map = make(2 * MiB);
    BOOST_TEST(map->read(3 * MiB, Width::Word) == 0xFFFFu);
    map->write(3 * MiB, Width::Byte, 1); // dropped, no crash
    BOOST_TEST(map->host_read_page(3 * MiB) == nullptr);
}

BOOST_AUTO_TEST_CASE(bios_at_top_and_in_shadow_alias) {
    auto map = make();
    auto image = bios_image();
    BOOST_TEST(map->set_bios(image).has_value());
    BOOST_TEST(map->read(0xFFFF'FFF0, Width::Byte) == image[image.size() - 16]);
    BOOST_TEST(map->read(0xFFFF0, Width::Byte) == image[image.size() - 16]);
    BOOST_TEST(map->read(0xE0000, Width::Byte) == image[0]);
    // ROM is not writable.
    map->write(0xFFFF0, Width::Byte, 0x99);
    BOOST_TEST(map->read(0xFFFF0, Width::Byte) == image[image.size() - 16]);
    BOOST_TEST(!map->set_bios(std::vector<u8>(1000)).has_value());
    // A 64 KiB test ROM appears at 0xF0000 only.
    std::vector<u8> small(64 * KiB, 0x33);
    small.back() = 0x44;
    BOOST_REQUIRE(map->set_bios(small).has_value());
    BOOST_TEST(map->read(0xFFFFF, Width::Byte) == 0x44u);
    BOOST_TEST(map->read(0xF0000, Width::Byte) == 0x33u);
    BOOST_TEST(map->read(0xEFFFF, Width::Byte) == 0xFFu);
}

BOOST_AUTO_TEST_CASE(pam_shadowing_sequence) {
    auto map = make();
    auto image = bios_image();
    BOOST_REQUIRE(map->set_bios(image).has_value());
    u64 generation = map->generation();
    // What a BIOS does: write-enable RAM while still reading ROM, copy,
    // then read RAM, write-protect.
    map->set_pam(0xF0000, 0x10000, false, true);
    BOOST_TEST(map->generation() != generation);
    u32 rom_byte = map->read(0xF1234, Width::Byte);
    map->write(0xF1234, Width::Byte, rom_byte);
    map->write(0xF1235, Width::Byte, 0x5A);
    BOOST_TEST(map->read(0xF1235, Width::Byte) == image[0x11235]); // still ROM
    map->set_pam(0xF0000, 0x10000, true, false);
    BOOST_TEST(map->read(0xF1234, Width::Byte) == rom_byte);
    BOOST_TEST(map->read(0xF1235, Width::Byte) == 0x5Au);
    map->write(0xF1235, Width::Byte, 0x00); // write-protected now
    BOOST_TEST(map->read(0xF1235, Width::Byte) == 0x5Au);
    BOOST_TEST(map->host_write_page(0xF1000) == nullptr);
    BOOST_TEST(map->host_read_page(0xF1000) == map->ram() + 0xF1000);
    // Below the BIOS alias the PCI side is open bus.
    BOOST_TEST(map->read(0xC8000, Width::Byte) == 0xFFu);
}

BOOST_AUTO_TEST_CASE(a20_wraps_the_high_memory_area) {
    auto map = make();
    map->write(0x100010, Width::Byte, 0x11);
    map->write(0x000010, Width::Byte, 0x22);
    BOOST_TEST(map->read(0x100010, Width::Byte) == 0x11u);
    map->set_a20(false);
    BOOST_TEST(!map->a20());
    BOOST_TEST(map->read(0x100010, Width::Byte) == 0x22u);
    BOOST_TEST(map->host_read_page(0x100000) == map->ram());
    map->set_a20(true);
    BOOST_TEST(map->read(0x100010, Width::Byte) == 0x11u);
}

BOOST_AUTO_TEST_CASE(mmio_dispatch_overlap_and_fast_path) {
    auto map = make();
    MmioRecorder dev, other;
    BOOST_TEST(map->map_mmio(0xA0000, 0x20000, dev));
    BOOST_TEST(!map->map_mmio(0xB0000, 0x1000, other));
    BOOST_TEST(map->read(0xA0004, Width::Byte) == 0xA4u);
    map->write(0xB8000, Width::Word, 0x0741);
    BOOST_REQUIRE(dev.writes.size() == 1u);
    BOOST_TEST(dev.writes[0].first == 0x18000u);
    BOOST_TEST(map->host_read_page(0xB8000) == nullptr);
    // A block copy into MMIO is refused as a whole.
    std::vector<u8> data(16, 1);
    BOOST_TEST(!map->write_bytes(0x9FFF8, data));
    BOOST_TEST(map->ram()[0x9FFF8] == 0);
    map->unmap_mmio(0xA0000, dev);
    BOOST_TEST(map->map_mmio(0xB0000, 0x1000, other));
}

BOOST_AUTO_TEST_CASE(rom_regions_and_block_copies) {
    auto map = make();
    std::vector<u8> rom(0x800, 0x55);
    int owner = 0;
    BOOST_TEST(map->map_rom(0xFEB00000, rom, &owner));
    BOOST_TEST(map->read(0xFEB00010, Width::Byte) == 0x55u);
    std::vector<u8> out(0x10);
    BOOST_TEST(map->read_bytes(0xFEB00000, out)); // DMA may read a ROM
    BOOST_TEST(out[3] == 0x55);
    BOOST_TEST(!map->write_bytes(0xFEB00000, out)); // but never write it
    map->unmap_rom(&owner);
    BOOST_TEST(map->read(0xFEB00010, Width::Byte) == 0xFFu);
    std::vector<u8> block(6000, 0x42);
    BOOST_TEST(map->write_bytes(0x2FFF, block));
    std::vector<u8> back(6000);
    BOOST_TEST(map->read_bytes(0x2FFF, back));
    BOOST_TEST(back == block);
    BOOST_TEST(!map->read_bytes(4 * MiB - 10, back));
}

BOOST_AUTO_TEST_SUITE_END()
