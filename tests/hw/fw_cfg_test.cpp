// SPDX-License-Identifier: GPL-2.0-or-later
// FwCfg through its ports and a real MemoryMap: the traditional selector /
// data interface, the file directory, the standard-file builders, and the
// DMA interface including requests that point outside RAM.
#include "hw/fw_cfg.h"

#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <memory>
#include <random>
#include <string>

using namespace vsa;

namespace {

u32 bswap32(u32 v) {
    return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}

struct Rig {
    Rig() : memory(MemoryMap::create(2 * MiB).release_value()), fw(*memory, io) {}

    void select(u16 key) { io.write(FwCfg::SELECTOR_PORT, Width::Word, key); }
    std::vector<u8> read(std::size_t n) {
        std::vector<u8> out;
        for (std::size_t i = 0; i < n; ++i)
            out.push_back(static_cast<u8>(io.read(FwCfg::DATA_PORT, Width::Byte)));
        return out;
    }
    u32 read_be32() {
        auto b = read(4);
        return u32(b[0]) << 24 | u32(b[1]) << 16 | u32(b[2]) << 8 | b[3];
    }
    // Writes an FWCfgDmaAccess at `at` and starts it the way SeaBIOS does.
    void dma(PhysAddr at, u32 control, u32 length, u64 address) {
        u8 access[16];
        for (int i = 0; i < 4; ++i) {
            access[i] = static_cast<u8>(control >> (24 - 8 * i));
            access[4 + i] = static_cast<u8>(length >> (24 - 8 * i));
        }
        for (int i = 0; i < 8; ++i)
            access[8 + i] = static_cast<u8>(address >> (56 - 8 * i));
        // Outside RAM the structure cannot be placed: the device must then
        // fail to read it.
        (void)memory->write_bytes(at, access);
        io.write(0x514, Width::Dword, bswap32(static_cast<u32>(at >> 32)));
        io.write(0x518, Width::Dword, bswap32(static_cast<u32>(at)));
    }
    u32 dma_status(PhysAddr at) {
        u8 raw[4];
        BOOST_REQUIRE(memory->read_bytes(at, raw));
        return u32(raw[0]) << 24 | u32(raw[1]) << 16 | u32(raw[2]) << 8 | raw[3];
    }
    std::vector<u8> ram(PhysAddr at, std::size_t n) {
        std::vector<u8> out(n);
        BOOST_REQUIRE(memory->read_bytes(at, out));
        return out;
    }

    Clock clock{Clock::Mode::Manual};
    std::unique_ptr<MemoryMap> memory;
    IoBus io;
    FwCfg fw;
};

std::vector<u8> bytes(std::string const& s) {
    return {s.begin(), s.end()};
}

struct DirEntry {
    u32 size;
    u16 select;
    std::string name;
};

std::vector<DirEntry> read_directory(Rig& rig) {
    rig.select(FwCfg::FILE_DIR);
    u32 count = rig.read_be32();
    std::vector<DirEntry> out;
    for (u32 i = 0; i < count; ++i) {
        auto raw = rig.read(64);
        DirEntry e;
        e.size = u32(raw[0]) << 24 | u32(raw[1]) << 16 | u32(raw[2]) << 8 | raw[3];
        e.select = static_cast<u16>(raw[4] << 8 | raw[5]);
        BOOST_TEST((raw[6] == 0 && raw[7] == 0));
        e.name.assign(reinterpret_cast<char const*>(raw.data() + 8),
                      strnlen(reinterpret_cast<char const*>(raw.data() + 8), 56));
        out.push_back(e);
    }
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(fw_cfg)

BOOST_AUTO_TEST_CASE(signature_and_id_through_ports) {
    Rig rig;
    rig.select(FwCfg::SIGNATURE);
    BOOST_TEST(rig.read(4) == bytes("QEMU"), boost::test_tools::per_element());
    // Past the end: zeros, and the offset stays put.
    BOOST_TEST(rig.read(3) == std::vector<u8>(3, 0), boost::test_tools::per_element());
    BOOST_TEST(rig.fw.offset() == 4u);
    rig.select(FwCfg::ID);
    auto id = rig.read(4);
    BOOST_TEST(id[0] == (FwCfg::FEATURE_TRADITIONAL | FwCfg::FEATURE_DMA));
    BOOST_TEST((id[1] | id[2] | id[3]) == 0);
    // The DMA register reads as the "QEMU CFG" signature.
    BOOST_TEST(rig.io.read(0x514, Width::Dword) == 0x554D'4551u); // "QEMU"
    BOOST_TEST(rig.io.read(0x518, Width::Dword) == 0x4746'4320u); // " CFG"
    BOOST_TEST(rig.io.read(0x515, Width::Byte) == u32('E'));
}

BOOST_AUTO_TEST_CASE(select_resets_offset_and_unknown_reads_zero) {
    Rig rig;
    rig.select(FwCfg::SIGNATURE);
    BOOST_TEST(rig.read(2) == bytes("QE"), boost::test_tools::per_element());
    // Time passing changes nothing (the device has no timing).
    rig.clock.advance(1'000'000);
    BOOST_TEST(rig.read(1) == bytes("M"), boost::test_tools::per_element());
    rig.select(FwCfg::SIGNATURE);
    BOOST_TEST(rig.read(4) == bytes("QEMU"), boost::test_tools::per_element());
    rig.select(0x1234);
    BOOST_TEST(rig.read(8) == std::vector<u8>(8, 0), boost::test_tools::per_element());
    // The write-channel bit selects the same item.
    rig.select(FwCfg::SIGNATURE | FwCfg::WRITE_CHANNEL);
    BOOST_TEST(rig.read(1) == bytes("Q"), boost::test_tools::per_element());
    // Data writes are ignored; a byte read at 0x510 reads data (as QEMU).
    rig.io.write(FwCfg::DATA_PORT, Width::Byte, 0x99);
    BOOST_TEST(rig.io.read(FwCfg::SELECTOR_PORT, Width::Byte) == u32('E'));
    // A byte write to the selector is not a selection.
    rig.io.write(FwCfg::SELECTOR_PORT, Width::Byte, 1);
    BOOST_TEST(rig.fw.selector() == (FwCfg::SIGNATURE | FwCfg::WRITE_CHANNEL));
}

BOOST_AUTO_TEST_CASE(numbered_items) {
    Rig rig;
    rig.fw.set_cpus(2, 4);
    rig.fw.set_ram_size(2 * MiB);
    rig.fw.set_boot_menu(true);
    rig.fw.set_nographic(false);
    rig.fw.set_uuid({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
    rig.select(FwCfg::NB_CPUS);
    BOOST_TEST(rig.read(2) == (std::vector<u8>{2, 0}), boost::test_tools::per_element());
    rig.select(FwCfg::MAX_CPUS);
    BOOST_TEST(rig.read(2) == (std::vector<u8>{4, 0}), boost::test_tools::per_element());
    rig.select(FwCfg::RAM_SIZE);
    BOOST_TEST(rig.read(8) == (std::vector<u8>{0, 0, 0x20, 0, 0, 0, 0, 0}), boost::test_tools::per_element());
    rig.select(FwCfg::BOOT_MENU);
    BOOST_TEST(rig.read(2) == (std::vector<u8>{1, 0}), boost::test_tools::per_element());
    rig.select(FwCfg::UUID);
    BOOST_TEST(rig.read(16)[15] == 16);
    BOOST_TEST(rig.fw.set_item(0x8003, {1, 2, 3}));
    rig.select(0x8003);
    BOOST_TEST(rig.read(3) == (std::vector<u8>{1, 2, 3}), boost::test_tools::per_element());
    // The directory and the file selectors are not numbered items.
    BOOST_TEST(!rig.fw.set_item(FwCfg::FILE_DIR, {}));
    BOOST_TEST(!rig.fw.set_item(FwCfg::FILE_FIRST + 3, {}));
}

BOOST_AUTO_TEST_CASE(file_directory_and_reading_a_file) {
    Rig rig;
    BOOST_TEST(read_directory(rig).empty());
    std::vector<std::string> order{"/pci@i0cf8/ide@1,1/drive@0/disk@0", "HALT"};
    auto boot = rig.fw.add_file("bootorder", FwCfg::bootorder_file(order));
    BOOST_REQUIRE(boot.has_value());
    BOOST_TEST(boot.value() == FwCfg::FILE_FIRST);
    auto other = rig.fw.add_file("etc/boot-fail-wait", FwCfg::le32(5));
    BOOST_REQUIRE(other.has_value());
    BOOST_TEST(other.value() == FwCfg::FILE_FIRST + 1);

    auto dir = read_directory(rig);
    BOOST_REQUIRE(dir.size() == 2u);
    // Sorted by name.
    BOOST_TEST(dir[0].name == "bootorder");
    BOOST_TEST(dir[1].name == "etc/boot-fail-wait");
    BOOST_TEST(dir[1].size == 4u);
    BOOST_TEST(dir[1].select == FwCfg::FILE_FIRST + 1);

    rig.select(dir[0].select);
    auto content = rig.read(dir[0].size);
    std::string text(content.begin(), content.end());
    BOOST_TEST(text == std::string("/pci@i0cf8/ide@1,1/drive@0/disk@0\nHALT") + '\0');

    // Replacing keeps the selector and updates the size.
    auto again = rig.fw.add_file("bootorder", bytes("HALT"));
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(again.value() == boot.value());
    BOOST_TEST(read_directory(rig)[0].size == 4u);

    BOOST_TEST(!rig.fw.add_file("", {}).has_value());
    BOOST_TEST(!rig.fw.add_file(std::string(56, 'x'), {}).has_value());
    BOOST_TEST(rig.fw.add_file(std::string(55, 'x'), {}).has_value());
    BOOST_TEST(!rig.fw.add_file(std::string("a\0b", 3), {}).has_value());
}

BOOST_AUTO_TEST_CASE(e820_layout) {
    FwCfg::E820Entry entries[] = {
        {0, 0x9FC00, FwCfg::E820Type::Ram},
        {0x100000, 0x1'2340'0000, FwCfg::E820Type::Ram},
        {0xFEFFC000, 0x4000, FwCfg::E820Type::Reserved},
    };
    auto file = FwCfg::e820_file(entries);
    BOOST_REQUIRE(file.size() == 60u);
    auto u64_at = [&](std::size_t at) {
        u64 v = 0;
        for (int i = 7; i >= 0; --i)
            v = v << 8 | file[at + static_cast<std::size_t>(i)];
        return v;
    };
    auto u32_at = [&](std::size_t at) {
        return u32(file[at]) | u32(file[at + 1]) << 8 | u32(file[at + 2]) << 16 | u32(file[at + 3]) << 24;
    };
    BOOST_TEST(u64_at(0) == 0u);
    BOOST_TEST(u64_at(8) == 0x9FC00u);
    BOOST_TEST(u32_at(16) == 1u);
    BOOST_TEST(u64_at(20) == 0x100000u);
    BOOST_TEST(u64_at(28) == 0x1'2340'0000u);
    BOOST_TEST(u32_at(36) == 1u);
    BOOST_TEST(u64_at(40) == 0xFEFFC000u);
    BOOST_TEST(u32_at(56) == 2u);

    Rig rig;
    auto key = rig.fw.add_file("etc/e820", file);
    BOOST_REQUIRE(key.has_value());
    rig.select(key.value());
    BOOST_TEST(rig.read(60) == file, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(dma_read_skip_and_select) {
    Rig rig;
    std::vector<u8> blob(10000);
    for (std::size_t i = 0; i < blob.size(); ++i)
        blob[i] = static_cast<u8>(i * 13 + 1);
    auto key = rig.fw.add_file("etc/blob", blob);
    BOOST_REQUIRE(key.has_value());

    // Select + read the whole file (crosses the 4 KiB bounce chunks).
    rig.dma(0x1000, u32(key.value()) << 16 | FwCfg::DMA_SELECT | FwCfg::DMA_READ, 10000, 0x10000);
    BOOST_TEST(rig.dma_status(0x1000) == 0u);
    BOOST_TEST(rig.ram(0x10000, 10000) == blob);
    BOOST_TEST(rig.fw.offset() == 10000u);

    // Skip then read, on the current selection.
    rig.select(FwCfg::SIGNATURE);
    rig.dma(0x1000, FwCfg::DMA_SKIP, 2, 0);
    BOOST_TEST(rig.dma_status(0x1000) == 0u);
    rig.dma(0x1000, FwCfg::DMA_READ, 2, 0x20000);
    BOOST_TEST(rig.ram(0x20000, 2) == bytes("MU"));

    // Reading past the end fills zeros.
    std::vector<u8> junk(8, 0xEE);
    BOOST_REQUIRE(rig.memory->write_bytes(0x30000, junk));
    rig.dma(0x1000, FwCfg::SIGNATURE << 16 | FwCfg::DMA_SELECT | FwCfg::DMA_READ, 8, 0x30000);
    BOOST_TEST(rig.dma_status(0x1000) == 0u);
    BOOST_TEST(rig.ram(0x30000, 8) == (std::vector<u8>{'Q', 'E', 'M', 'U', 0, 0, 0, 0}),
               boost::test_tools::per_element());
    // Select only.
    rig.dma(0x1000, u32(FwCfg::ID) << 16 | FwCfg::DMA_SELECT, 0, 0);
    BOOST_TEST(rig.dma_status(0x1000) == 0u);
    BOOST_TEST(rig.fw.selector() == FwCfg::ID);
}

BOOST_AUTO_TEST_CASE(dma_out_of_range_fails_cleanly) {
    Rig rig;
    // Destination past RAM (2 MiB): ERROR, nothing written.
    rig.dma(0x1000, FwCfg::SIGNATURE << 16 | FwCfg::DMA_SELECT | FwCfg::DMA_READ, 4, 0x30'0000);
    BOOST_TEST(rig.dma_status(0x1000) == FwCfg::DMA_ERROR);
    // Straddling the end of RAM.
    rig.dma(0x1000, FwCfg::SIGNATURE << 16 | FwCfg::DMA_SELECT | FwCfg::DMA_READ, 8192, 2 * MiB - 4096);
    BOOST_TEST(rig.dma_status(0x1000) == FwCfg::DMA_ERROR);
    // Into the BIOS area (not writable RAM) and to the top of the address
    // space.
    rig.dma(0x1000, FwCfg::DMA_READ, 4, 0xF0000);
    BOOST_TEST(rig.dma_status(0x1000) == FwCfg::DMA_ERROR);
    rig.dma(0x1000, FwCfg::DMA_READ, 16, ~u64(0) - 7);
    BOOST_TEST(rig.dma_status(0x1000) == FwCfg::DMA_ERROR);
    // Writes to read-only items fail.
    rig.dma(0x1000, FwCfg::DMA_WRITE, 4, 0x2000);
    BOOST_TEST(rig.dma_status(0x1000) == FwCfg::DMA_ERROR);
    // The access structure itself outside RAM: dropped and counted.
    u64 before = rig.fw.ignored_accesses();
    rig.dma(0x7FFF'0000'0000, FwCfg::DMA_READ, 4, 0x2000);
    rig.dma(2 * MiB - 8, FwCfg::DMA_READ, 4, 0x2000);
    BOOST_TEST(rig.fw.ignored_accesses() >= before + 2);
    // Still works afterwards.
    rig.dma(0x1000, FwCfg::SIGNATURE << 16 | FwCfg::DMA_SELECT | FwCfg::DMA_READ, 4, 0x2000);
    BOOST_TEST(rig.dma_status(0x1000) == 0u);
    BOOST_TEST(rig.ram(0x2000, 4) == bytes("QEMU"));
}

BOOST_AUTO_TEST_CASE(random_register_loop) {
    Rig rig;
    rig.fw.add_file("etc/e820", std::vector<u8>(40, 1)).value();
    test::random_register_loop(rig.fw, 0x520, 20000, 9);
    std::mt19937 rng(4);
    for (int i = 0; i < 3000; ++i) {
        // Random (often garbage) descriptors in RAM, random triggers.
        PhysAddr at = (rng() % (3 * MiB)) & ~u64(15);
        u32 control = rng() % 4 ? (rng() & 0xFFFF'001F) : rng();
        u32 length = rng() % 3 ? rng() % 20000 : rng();
        u64 address = rng() % 2 ? rng() % (3 * MiB) : (u64(rng()) << 32 | rng());
        switch (rng() % 4) {
        case 0:
            rig.dma(at, control, length % 65536, address);
            break;
        case 1:
            rig.io.write(static_cast<Port>(0x510 + rng() % 12), Width::Word, rng());
            break;
        case 2:
            (void)rig.io.read(static_cast<Port>(0x510 + rng() % 12), Width::Byte);
            break;
        default:
            rig.io.write(static_cast<Port>(0x514 + (rng() % 2) * 4), Width::Dword, rng());
            break;
        }
    }
    // Still a working fw_cfg.
    rig.select(FwCfg::SIGNATURE);
    BOOST_TEST(rig.read(4) == bytes("QEMU"), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(save_load_save_and_bad_streams) {
    Rig rig;
    rig.fw.add_file("bootorder", bytes("HALT")).value();
    rig.select(FwCfg::SIGNATURE);
    (void)rig.read(3);
    rig.io.write(0x514, Width::Dword, bswap32(1)); // a pending high half
    Rig fresh;
    fresh.fw.add_file("bootorder", bytes("HALT")).value();
    test::check_save_load_save(rig.fw, fresh.fw);
    BOOST_TEST(fresh.read(1) == bytes("U"), boost::test_tools::per_element());
    test::check_bad_streams_fail(rig.fw, fresh.fw);
    fresh.fw.reset();
    BOOST_TEST(fresh.fw.selector() == 0);
    BOOST_TEST(fresh.fw.offset() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
