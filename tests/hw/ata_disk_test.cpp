// SPDX-License-Identifier: GPL-2.0-or-later
// The ATA disk behind the PIIX3 IDE primary channel, driven through the
// legacy ports on an IoBus as a BIOS or ata_piix would: IDENTIFY, LBA28,
// LBA48 and CHS transfers, READ/WRITE MULTIPLE, errors, interrupts, SRST,
// the absent slave, and save/restore in the middle of a transfer.
#include "hw/ata_disk.h"
#include "hw/piix3_ide.h"
#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"
#include "tests/hw/memory_block_device_support.h"

#include <boost/test/unit_test.hpp>

#include <memory>
#include <random>

using namespace vsa;
using vsa::test::FakeIrqLine;
using vsa::test::MemoryBlockDevice;

namespace {

constexpr Port DATA = 0x1F0, ERROR = 0x1F1, FEATURES = 0x1F1, COUNT = 0x1F2, LBA_LOW = 0x1F3, LBA_MID = 0x1F4,
               LBA_HIGH = 0x1F5, DEVICE = 0x1F6, STATUS = 0x1F7, COMMAND = 0x1F7, CONTROL = 0x3F6;
constexpr u8 READY = ata::STATUS_DRDY | ata::STATUS_DSC; // 0x50
constexpr u8 DATA_READY = READY | ata::STATUS_DRQ;       // 0x58
constexpr u8 FAILED = READY | ata::STATUS_ERR;           // 0x51
constexpr u64 SMALL_DISK = 40960;                        // 20 MiB
constexpr u64 HUGE_DISK = u64(1) << 33;                  // 4 TiB, sparse

struct Rig {
    Clock clock{Clock::Mode::Manual};
    FakeIrqLine irq14, irq15;
    MemoryBlockDevice disk;
    AtaDisk ata;
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
    Piix3Ide ide{irq14, irq15, *memory};
    IoBus io;

    explicit Rig(u64 sectors = SMALL_DISK, bool read_only = false)
        : disk(sectors, 512, read_only), ata(disk, "VSA0123456789") {
        ide.channel(0).attach(0, &ata);
        ide.reset();
        BOOST_REQUIRE(ide.map_ports(io));
    }
    u8 inb(Port p) { return static_cast<u8>(io.read(p, Width::Byte)); }
    u16 inw(Port p) { return static_cast<u16>(io.read(p, Width::Word)); }
    void outb(Port p, u8 v) { io.write(p, Width::Byte, v); }
    void outw(Port p, u16 v) { io.write(p, Width::Word, v); }

    void lba28(u8 command, u32 lba, u8 count, u8 device = 0xE0) {
        outb(DEVICE, static_cast<u8>(device | ((lba >> 24) & 0x0F)));
        outb(COUNT, count);
        outb(LBA_LOW, static_cast<u8>(lba));
        outb(LBA_MID, static_cast<u8>(lba >> 8));
        outb(LBA_HIGH, static_cast<u8>(lba >> 16));
        outb(COMMAND, command);
    }
    void lba48(u8 command, u64 lba, u16 count) {
        outb(DEVICE, 0x40);
        outb(COUNT, static_cast<u8>(count >> 8));
        outb(LBA_LOW, static_cast<u8>(lba >> 24));
        outb(LBA_MID, static_cast<u8>(lba >> 32));
        outb(LBA_HIGH, static_cast<u8>(lba >> 40));
        outb(COUNT, static_cast<u8>(count));
        outb(LBA_LOW, static_cast<u8>(lba));
        outb(LBA_MID, static_cast<u8>(lba >> 8));
        outb(LBA_HIGH, static_cast<u8>(lba >> 16));
        outb(COMMAND, command);
    }
    void chs(u8 command, unsigned cylinder, unsigned head, unsigned sector, u8 count) {
        outb(DEVICE, static_cast<u8>(0xA0 | head));
        outb(COUNT, count);
        outb(LBA_LOW, static_cast<u8>(sector));
        outb(LBA_MID, static_cast<u8>(cylinder));
        outb(LBA_HIGH, static_cast<u8>(cylinder >> 8));
        outb(COMMAND, command);
    }
    std::vector<u8> read_sector() {
        std::vector<u8> out;
        for (int i = 0; i < 256; ++i) {
            u16 w = inw(DATA);
            out.push_back(static_cast<u8>(w));
            out.push_back(static_cast<u8>(w >> 8));
        }
        return out;
    }
    void write_sector(std::vector<u8> const& data) {
        for (int i = 0; i < 256; ++i)
            outw(DATA, static_cast<u16>(data[2 * i] | data[2 * i + 1] << 8));
    }
    std::vector<u8> identify() {
        outb(DEVICE, 0xA0);
        outb(COMMAND, 0xEC);
        BOOST_REQUIRE_EQUAL(inb(STATUS), DATA_READY);
        return read_sector();
    }
};

u16 word(std::vector<u8> const& id, unsigned w) {
    return static_cast<u16>(id[2 * w] | id[2 * w + 1] << 8);
}
std::string ata_string(std::vector<u8> const& id, unsigned first, unsigned words) {
    std::string s;
    for (unsigned w = first; w < first + words; ++w) {
        s += static_cast<char>(id[2 * w + 1]);
        s += static_cast<char>(id[2 * w]);
    }
    return s;
}

} // namespace

BOOST_AUTO_TEST_SUITE(ata_disk)

BOOST_AUTO_TEST_CASE(power_on_signature_and_status) {
    Rig r;
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.inb(ERROR) == 0x01);
    BOOST_TEST(r.inb(COUNT) == 1);
    BOOST_TEST(r.inb(LBA_LOW) == 1);
    BOOST_TEST(r.inb(LBA_MID) == 0);
    BOOST_TEST(r.inb(LBA_HIGH) == 0);
    BOOST_TEST(!r.irq14.level());
    // Nothing here depends on time: a manual clock moving changes nothing.
    r.clock.advance(1'000'000'000);
    BOOST_TEST(r.inb(STATUS) == READY);
}

BOOST_AUTO_TEST_CASE(identify_fields_and_checksum) {
    Rig r;
    r.outb(COMMAND, 0xEC);
    BOOST_TEST(r.irq14.level());        // the data block is announced
    auto id = r.identify();             // its writes are ignored under DRQ: it reads this block
    BOOST_TEST(!r.irq14.level());       // the status read acknowledged it
    BOOST_TEST(r.inb(STATUS) == READY); // all 512 bytes read: DRQ gone
    BOOST_TEST(word(id, 0) == 0x0040);
    BOOST_TEST(word(id, 1) == SMALL_DISK / (16 * 63)); // 40 cylinders
    BOOST_TEST(word(id, 3) == 16);
    BOOST_TEST(word(id, 6) == 63);
    BOOST_TEST(ata_string(id, 27, 20) == "VSA Virtual HD                          ");
    BOOST_TEST(ata_string(id, 10, 10) == "VSA0123456789       ");
    BOOST_TEST(ata_string(id, 23, 4) == "1.0     ");
    BOOST_TEST(word(id, 47) == 0x8010);
    BOOST_TEST((word(id, 49) & 0x0200) != 0); // LBA
    BOOST_TEST((word(id, 49) & 0x0100) != 0); // DMA
    BOOST_TEST(word(id, 53) == 0x0007);       // words 54-58, 64-70, 88 valid
    BOOST_TEST(word(id, 54) == 40);
    BOOST_TEST(word(id, 55) == 16);
    BOOST_TEST(word(id, 56) == 63);
    BOOST_TEST((word(id, 57) | u32(word(id, 58)) << 16) == 40u * 16 * 63);
    BOOST_TEST(word(id, 59) == 0); // multiple mode off at power-on
    BOOST_TEST((word(id, 60) | u32(word(id, 61)) << 16) == SMALL_DISK);
    BOOST_TEST(word(id, 63) == 0x0407); // multiword DMA 0-2, mode 2 selected at power-on
    BOOST_TEST(word(id, 64) == 0x0003);
    BOOST_TEST(word(id, 80) == 0x007E);
    BOOST_TEST((word(id, 83) & 0x0400) != 0); // 48-bit
    BOOST_TEST((word(id, 86) & 0x0400) != 0);
    BOOST_TEST((word(id, 85) & 0x0020) != 0); // write cache on
    BOOST_TEST(word(id, 88) == 0x003F);       // Ultra DMA 0-5, none selected
    BOOST_TEST(word(id, 93) == 0x600B);       // 80-conductor cable
    u64 lba48 =
        word(id, 100) | u64(word(id, 101)) << 16 | u64(word(id, 102)) << 32 | u64(word(id, 103)) << 48;
    BOOST_TEST(lba48 == SMALL_DISK);
    BOOST_TEST(id[510] == 0xA5);
    u8 sum = 0;
    for (u8 b : id)
        sum = static_cast<u8>(sum + b);
    BOOST_TEST(sum == 0);
}

BOOST_AUTO_TEST_CASE(identify_of_a_huge_disk_caps_chs_and_lba28) {
    Rig r(HUGE_DISK);
    auto id = r.identify();
    BOOST_TEST(word(id, 1) == 16383);
    BOOST_TEST((word(id, 60) | u32(word(id, 61)) << 16) == 0x0FFF'FFFFu);
    u64 lba48 =
        word(id, 100) | u64(word(id, 101)) << 16 | u64(word(id, 102)) << 32 | u64(word(id, 103)) << 48;
    BOOST_TEST(lba48 == HUGE_DISK);
    u8 sum = 0;
    for (u8 b : id)
        sum = static_cast<u8>(sum + b);
    BOOST_TEST(sum == 0);
}

BOOST_AUTO_TEST_CASE(identify_read_with_32_bit_cycles) {
    Rig r;
    auto by_words = r.identify();
    r.outb(COMMAND, 0xEC);
    std::vector<u8> by_dwords;
    for (int i = 0; i < 128; ++i) {
        u32 d = r.io.read(DATA, Width::Dword);
        for (int b = 0; b < 4; ++b)
            by_dwords.push_back(static_cast<u8>(d >> (8 * b)));
    }
    BOOST_TEST(by_words == by_dwords);
    BOOST_TEST(r.inb(STATUS) == READY);
}

BOOST_AUTO_TEST_CASE(lba28_write_then_read_round_trip) {
    Rig r;
    r.lba28(0x30, 100, 3);
    // PIO data-out: DRQ for the first sector without an interrupt.
    BOOST_TEST(r.inb(0x3F6) == DATA_READY);
    BOOST_TEST(!r.irq14.level());
    for (u64 s = 0; s < 3; ++s) {
        r.write_sector(MemoryBlockDevice::pattern(100 + s, 9));
        BOOST_TEST(r.irq14.level()); // a block taken (or the command done)
        u8 st = r.inb(STATUS);
        BOOST_TEST(st == (s < 2 ? DATA_READY : READY));
        BOOST_TEST(!r.irq14.level());
    }
    for (u64 s = 0; s < 3; ++s)
        BOOST_TEST(r.disk.sector(100 + s) == MemoryBlockDevice::pattern(100 + s, 9));
    BOOST_TEST(r.disk.sector(103) == std::vector<u8>(512, 0));

    r.lba28(0x20, 100, 3);
    for (u64 s = 0; s < 3; ++s) {
        BOOST_TEST(r.irq14.level()); // an interrupt per sector
        BOOST_TEST(r.inb(STATUS) == DATA_READY);
        BOOST_TEST(r.read_sector() == MemoryBlockDevice::pattern(100 + s, 9));
    }
    // After the last block of a read: no interrupt, just not busy.
    BOOST_TEST(!r.irq14.level());
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.disk.largest_read() == 512);
}

BOOST_AUTO_TEST_CASE(lba28_uses_the_device_register_nibble) {
    Rig r(HUGE_DISK);
    u32 lba = 0x0ABC'DEF1;
    r.disk.fill_pattern(lba);
    r.lba28(0x20, lba, 1);
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    BOOST_TEST(r.read_sector() == MemoryBlockDevice::pattern(lba));
}

BOOST_AUTO_TEST_CASE(lba48_write_then_read_round_trip) {
    Rig r(HUGE_DISK);
    u64 lba = 0x1'2345'6789; // above both 2^28 and 2^32
    r.lba48(0x34, lba, 2);
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    r.write_sector(MemoryBlockDevice::pattern(lba, 1));
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    r.write_sector(MemoryBlockDevice::pattern(lba + 1, 1));
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.disk.sector(lba) == MemoryBlockDevice::pattern(lba, 1));
    BOOST_TEST(r.disk.sector(lba + 1) == MemoryBlockDevice::pattern(lba + 1, 1));

    r.lba48(0x24, lba, 2);
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    BOOST_TEST(r.read_sector() == MemoryBlockDevice::pattern(lba, 1));
    BOOST_TEST(r.read_sector() == MemoryBlockDevice::pattern(lba + 1, 1));
    BOOST_TEST(r.inb(STATUS) == READY);
}

BOOST_AUTO_TEST_CASE(lba48_count_zero_means_65536_read_block_by_block) {
    Rig r(HUGE_DISK);
    r.disk.fill_pattern(5);
    r.lba48(0x24, 0, 0);
    for (u64 s = 0; s < 8; ++s) {
        BOOST_TEST(r.inb(STATUS) == DATA_READY);
        BOOST_TEST(r.read_sector() == r.disk.sector(s));
    }
    BOOST_TEST(r.inb(STATUS) == DATA_READY);  // 65528 sectors still to go
    BOOST_TEST(r.disk.largest_read() == 512); // never a 32 MiB buffer
    // The same count on a READ MULTIPLE EXT: one 16-sector block at a time.
    r.outb(CONTROL, ata::CONTROL_SRST);
    r.outb(CONTROL, 0);
    r.outb(COUNT, 16);
    r.outb(COMMAND, 0xC6);
    BOOST_TEST(r.inb(STATUS) == READY);
    r.lba48(0x29, 0, 0);
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    BOOST_TEST(r.disk.largest_read() == 16 * 512);
}

BOOST_AUTO_TEST_CASE(read_multiple_transfers_blocks) {
    Rig r;
    for (u64 s = 0; s < 10; ++s)
        r.disk.fill_pattern(200 + s, 3);
    // Multiple mode is off: READ MULTIPLE aborts.
    r.lba28(0xC4, 200, 10);
    BOOST_TEST(r.inb(STATUS) == FAILED);
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_ABRT);
    // 3 is not a supported block size.
    r.outb(COUNT, 3);
    r.outb(COMMAND, 0xC6);
    BOOST_TEST(r.inb(STATUS) == FAILED);
    r.outb(COUNT, 4);
    r.outb(COMMAND, 0xC6);
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(word(r.identify(), 59) == 0x0104);

    r.irq14.clear_edges();
    r.lba28(0xC4, 200, 10);
    // Blocks of 4, 4 and 2 sectors: DRQ stays up through a block, one
    // interrupt per block.
    unsigned sector = 0;
    for (unsigned block = 0; block < 3; ++block) {
        BOOST_TEST(r.irq14.rising_edges() == block + 1);
        BOOST_TEST(r.inb(STATUS) == DATA_READY);
        unsigned n = block < 2 ? 4 : 2;
        for (unsigned i = 0; i < n; ++i, ++sector) {
            if (i > 0) BOOST_TEST(r.inb(0x3F6) == DATA_READY);
            BOOST_TEST(r.read_sector() == MemoryBlockDevice::pattern(200 + sector, 3));
        }
    }
    BOOST_TEST(r.irq14.rising_edges() == 3u);
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.disk.largest_read() == 4 * 512);
}

BOOST_AUTO_TEST_CASE(write_multiple_and_ext) {
    Rig r(HUGE_DISK);
    r.outb(COUNT, 2);
    r.outb(COMMAND, 0xC6);
    r.irq14.clear_edges();
    r.lba28(0xC5, 300, 3);
    BOOST_TEST(r.irq14.rising_edges() == 0u); // first block: DRQ only
    r.write_sector(MemoryBlockDevice::pattern(300, 4));
    BOOST_TEST(r.inb(0x3F6) == DATA_READY); // still inside the block
    r.write_sector(MemoryBlockDevice::pattern(301, 4));
    BOOST_TEST(r.irq14.rising_edges() == 1u);
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    r.write_sector(MemoryBlockDevice::pattern(302, 4));
    BOOST_TEST(r.irq14.rising_edges() == 2u);
    BOOST_TEST(r.inb(STATUS) == READY);
    for (u64 s = 300; s < 303; ++s)
        BOOST_TEST(r.disk.sector(s) == MemoryBlockDevice::pattern(s, 4));

    u64 lba = 0x1'F000'0001;
    r.lba48(0x39, lba, 2);
    r.write_sector(MemoryBlockDevice::pattern(lba, 5));
    r.write_sector(MemoryBlockDevice::pattern(lba + 1, 5));
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.disk.sector(lba + 1) == MemoryBlockDevice::pattern(lba + 1, 5));
}

BOOST_AUTO_TEST_CASE(chs_addressing_default_and_initialized_geometry) {
    Rig r;
    // Default translation 16 heads x 63 sectors: C=1 H=2 S=3.
    u64 lba = (1 * 16 + 2) * 63 + 2;
    r.disk.fill_pattern(lba);
    r.chs(0x20, 1, 2, 3, 1);
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    BOOST_TEST(r.read_sector() == MemoryBlockDevice::pattern(lba));

    // INITIALIZE DEVICE PARAMETERS: 4 heads (device low nibble + 1), 17 sectors.
    r.outb(DEVICE, 0xA3);
    r.outb(COUNT, 17);
    r.outb(COMMAND, 0x91);
    BOOST_TEST(r.inb(STATUS) == READY);
    auto id = r.identify();
    BOOST_TEST(word(id, 55) == 4);
    BOOST_TEST(word(id, 56) == 17);
    BOOST_TEST(word(id, 54) == SMALL_DISK / (4 * 17));
    BOOST_TEST(word(id, 3) == 16); // the default geometry words do not move

    lba = (2 * 4 + 1) * 17 + 4; // C=2 H=1 S=5
    r.disk.fill_pattern(lba, 8);
    r.chs(0x20, 2, 1, 5, 1);
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    BOOST_TEST(r.read_sector() == MemoryBlockDevice::pattern(lba, 8));

    // Write through CHS too.
    r.chs(0x30, 3, 0, 1, 1);
    r.write_sector(MemoryBlockDevice::pattern(7, 7));
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.disk.sector(3 * 4 * 17) == MemoryBlockDevice::pattern(7, 7));

    // Sector 0, a head or sector past the translation: IDNF.
    for (auto [c, h, s] : {std::tuple{0u, 0u, 0u}, std::tuple{0u, 4u, 1u}, std::tuple{0u, 0u, 18u},
                           std::tuple{60000u, 0u, 1u}}) {
        r.chs(0x20, c, h, s, 1);
        BOOST_TEST(r.inb(STATUS) == FAILED);
        BOOST_TEST(r.inb(ERROR) == ata::ERROR_IDNF);
    }
}

BOOST_AUTO_TEST_CASE(out_of_range_is_idnf_with_an_interrupt) {
    Rig r;
    r.lba28(0x20, SMALL_DISK - 1, 2);
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.inb(STATUS) == FAILED);
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_IDNF);
    BOOST_TEST(!r.irq14.level());
    r.lba28(0x30, SMALL_DISK, 1);
    BOOST_TEST(r.inb(STATUS) == FAILED);
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_IDNF);
    r.lba48(0x24, u64(1) << 40, 1);
    BOOST_TEST(r.inb(STATUS) == FAILED);
    r.lba28(0x40, SMALL_DISK - 4, 8); // READ VERIFY
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_IDNF);
    r.lba28(0x70, SMALL_DISK, 0); // SEEK
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_IDNF);
    // The last sector itself is fine.
    r.lba28(0x20, SMALL_DISK - 1, 1);
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
}

BOOST_AUTO_TEST_CASE(backend_errors_become_unc_and_abrt) {
    Rig r;
    r.disk.set_bad_from(50);
    r.lba28(0x20, 49, 3);
    BOOST_TEST(r.inb(STATUS) == DATA_READY); // sector 49 is good
    r.read_sector();
    BOOST_TEST(r.inb(STATUS) == FAILED); // sector 50 is not
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_UNC);
    BOOST_TEST(r.inb(LBA_LOW) == 50); // the failing address
    BOOST_TEST(r.inb(LBA_MID) == 0);

    r.lba28(0x30, 50, 1);
    r.write_sector(std::vector<u8>(512, 0xEE));
    BOOST_TEST(r.inb(STATUS) == FAILED);
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_ABRT);

    r.lba28(0x40, 40, 20); // READ VERIFY reads the media
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_UNC);

    r.disk.set_fail_flush(true);
    r.outb(COMMAND, 0xE7);
    BOOST_TEST(r.inb(STATUS) == FAILED);
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_ABRT);
}

BOOST_AUTO_TEST_CASE(read_only_image_aborts_writes) {
    Rig r(SMALL_DISK, true);
    r.lba28(0x30, 1, 1);
    BOOST_TEST(r.inb(STATUS) == FAILED);
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_ABRT);
    r.lba28(0x20, 1, 1);
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
}

BOOST_AUTO_TEST_CASE(nien_masks_the_interrupt_line_not_the_request) {
    Rig r;
    r.outb(CONTROL, ata::CONTROL_NIEN);
    r.outb(COMMAND, 0xE5); // CHECK POWER MODE
    BOOST_TEST(!r.irq14.level());
    BOOST_TEST(r.inb(COUNT) == 0xFF);
    // Unmasking shows the pending request; reading Alternate Status keeps
    // it, reading Status acknowledges it.
    r.outb(CONTROL, 0);
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.inb(0x3F6) == READY);
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(!r.irq14.level());
    // Writing a new command also clears a pending request.
    r.outb(COMMAND, 0xE1);
    BOOST_TEST(r.irq14.level());
    r.outb(CONTROL, ata::CONTROL_NIEN);
    BOOST_TEST(!r.irq14.level());
    r.outb(CONTROL, 0);
    r.outb(COMMAND, 0xE3);
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(!r.irq15.level()); // the other channel's line never moved
}

BOOST_AUTO_TEST_CASE(software_reset_writes_the_signature) {
    Rig r;
    r.lba28(0x20, 0x1234, 7); // leaves a transfer in flight
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    r.outb(CONTROL, ata::CONTROL_SRST | ata::CONTROL_NIEN);
    BOOST_TEST(r.inb(0x3F6) == ata::STATUS_BSY);
    r.outb(CONTROL, ata::CONTROL_NIEN);
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.inb(ERROR) == 0x01);
    BOOST_TEST(r.inb(COUNT) == 1);
    BOOST_TEST(r.inb(LBA_LOW) == 1);
    BOOST_TEST(r.inb(LBA_MID) == 0x00);
    BOOST_TEST(r.inb(LBA_HIGH) == 0x00);
    BOOST_TEST(r.inb(DEVICE) == 0x00);
    BOOST_TEST(r.inw(DATA) == 0xFFFF); // the transfer is gone
    BOOST_TEST(!r.irq14.level());      // no interrupt for SRST
}

BOOST_AUTO_TEST_CASE(execute_device_diagnostic) {
    Rig r;
    r.outb(LBA_MID, 0x77);
    r.outb(DEVICE, 0xB0); // even with the (absent) slave selected
    r.outb(COMMAND, 0x90);
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.inb(ERROR) == 0x01);
    BOOST_TEST(r.inb(LBA_MID) == 0);
    BOOST_TEST(r.inb(COUNT) == 1);
}

BOOST_AUTO_TEST_CASE(absent_slave_and_empty_channel) {
    Rig r;
    r.outb(DEVICE, 0xB0);
    BOOST_TEST(r.inb(STATUS) == 0);
    BOOST_TEST(r.inb(0x3F6) == 0);
    // Device 0 answers the other registers for it.
    r.outb(COUNT, 0x55);
    BOOST_TEST(r.inb(COUNT) == 0x55);
    BOOST_TEST(r.inb(DEVICE) == 0xB0);
    // Commands to nobody are ignored: no interrupt, no data.
    r.outb(COMMAND, 0xEC);
    BOOST_TEST(!r.irq14.level());
    BOOST_TEST(r.inb(STATUS) == 0);
    BOOST_TEST(r.inw(DATA) == 0xFFFF);
    r.outb(DEVICE, 0xA0);
    BOOST_TEST(r.inb(STATUS) == READY);

    // The secondary channel has no drive at all: everything reads 0, so a
    // BIOS's 0x55/0xAA probe fails.
    r.outb(0x172, 0x55);
    r.outb(0x173, 0xAA);
    BOOST_TEST(r.inb(0x172) == 0);
    BOOST_TEST(r.inb(0x173) == 0);
    BOOST_TEST(r.inb(0x177) == 0);
    BOOST_TEST(r.inb(0x376) == 0);
    r.outb(0x177, 0xEC);
    BOOST_TEST(!r.irq15.level());
}

BOOST_AUTO_TEST_CASE(slave_only_drive_is_reachable) {
    Clock clock{Clock::Mode::Manual};
    FakeIrqLine irq14, irq15;
    MemoryBlockDevice disk(2048);
    AtaDisk ata(disk, "SLAVE");
    auto memory = MemoryMap::create(16 * MiB).release_value();
    Piix3Ide ide(irq14, irq15, *memory);
    ide.channel(1).attach(1, &ata);
    ide.reset();
    IdeChannel& ch = ide.channel(1);
    BOOST_TEST(ch.read(ata::REG_DEVICE, Width::Byte) == ata::DEVICE_DEV);
    BOOST_TEST(ch.read(ata::REG_STATUS, Width::Byte) == READY);
    ch.write(ata::REG_DEVICE, Width::Byte, 0xA0);
    BOOST_TEST(ch.read(ata::REG_STATUS, Width::Byte) == 0);
    ch.write(ata::REG_DEVICE, Width::Byte, 0xB0);
    ch.write(ata::REG_STATUS, Width::Byte, 0xEC);
    BOOST_TEST(irq15.level());
    BOOST_TEST(ch.read(ata::REG_STATUS, Width::Byte) == DATA_READY);
}

BOOST_AUTO_TEST_CASE(hob_reads_the_previous_register_contents) {
    Rig r;
    r.outb(COUNT, 0x12);
    r.outb(COUNT, 0x34);
    r.outb(LBA_HIGH, 0xAB);
    r.outb(LBA_HIGH, 0xCD);
    BOOST_TEST(r.inb(COUNT) == 0x34);
    r.outb(CONTROL, ata::CONTROL_HOB);
    BOOST_TEST(r.inb(COUNT) == 0x12);
    BOOST_TEST(r.inb(LBA_HIGH) == 0xAB);
    // Any command block write clears HOB.
    r.outb(FEATURES, 0);
    BOOST_TEST(r.inb(COUNT) == 0x00 + 0x34);
}

BOOST_AUTO_TEST_CASE(commands_accepted_and_aborted) {
    Rig r;
    for (u8 c : {0x10, 0x1F, 0xE0, 0xE1, 0xE2, 0xE3, 0xE6, 0xE7, 0xEA}) {
        r.outb(COMMAND, c);
        BOOST_TEST_CONTEXT("command " << int(c)) {
            BOOST_TEST(r.inb(STATUS) == READY);
        }
    }
    unsigned flushes = r.disk.flushes();
    r.outb(COMMAND, 0xE7);
    BOOST_TEST(r.disk.flushes() == flushes + 1);
    r.lba28(0x70, 1000, 0);
    BOOST_TEST(r.inb(STATUS) == READY);
    r.lba28(0x40, 0, 100); // READ VERIFY: no data phase
    BOOST_TEST(r.inb(STATUS) == READY);
    r.lba48(0x42, 10, 300);
    BOOST_TEST(r.inb(STATUS) == READY);
    // IDENTIFY PACKET, PACKET, queued DMA, READ BUFFER, NOP, garbage: ABRT.
    for (u8 c : {0xA1, 0xA0, 0xC7, 0x26, 0xCC, 0xE4, 0x00, 0x08, 0xFF, 0x55}) {
        r.outb(COMMAND, c);
        BOOST_TEST_CONTEXT("command " << int(c)) {
            BOOST_TEST(r.inb(STATUS) == FAILED);
            BOOST_TEST(r.inb(ERROR) == ata::ERROR_ABRT);
        }
    }
}

BOOST_AUTO_TEST_CASE(set_features) {
    Rig r;
    auto set_feature = [&](u8 feature, u8 count) {
        r.outb(FEATURES, feature);
        r.outb(COUNT, count);
        r.outb(COMMAND, 0xEF);
        return r.inb(STATUS);
    };
    BOOST_TEST(set_feature(0x03, 0x0C) == READY); // PIO 4
    BOOST_TEST(set_feature(0x03, 0x01) == READY); // PIO default
    BOOST_TEST(r.ata.dma_mode() == 0x22);         // a PIO mode leaves the DMA mode
    BOOST_TEST(set_feature(0x03, 0x45) == READY); // UDMA 5
    BOOST_TEST(r.ata.dma_mode() == 0x45);
    BOOST_TEST(word(r.identify(), 88) == 0x203F);
    BOOST_TEST(word(r.identify(), 63) == 0x0007);
    BOOST_TEST(set_feature(0x03, 0x21) == READY); // MWDMA 1
    BOOST_TEST(word(r.identify(), 63) == 0x0207);
    BOOST_TEST(word(r.identify(), 88) == 0x003F);
    for (u8 bad : {0x02, 0x0D, 0x10, 0x23, 0x46, 0x80, 0xFF})
        BOOST_TEST(set_feature(0x03, bad) == FAILED);
    BOOST_TEST(r.ata.dma_mode() == 0x21);
    BOOST_TEST(set_feature(0xAA, 0) == READY);
    BOOST_TEST(set_feature(0x99, 0) == FAILED);
    unsigned flushes = r.disk.flushes();
    BOOST_TEST(set_feature(0x82, 0) == READY); // write cache off: flushes
    BOOST_TEST(r.disk.flushes() == flushes + 1);
    BOOST_TEST((word(r.identify(), 85) & 0x20) == 0);
    // Writes are now written through.
    r.lba28(0x30, 5, 1);
    r.write_sector(std::vector<u8>(512, 1));
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.disk.flushes() == flushes + 2);
    BOOST_TEST(set_feature(0x02, 0) == READY);
    BOOST_TEST((word(r.identify(), 85) & 0x20) != 0);
}

BOOST_AUTO_TEST_CASE(writes_during_drq_are_ignored) {
    Rig r;
    r.disk.fill_pattern(10);
    r.lba28(0x20, 10, 1);
    r.outb(LBA_LOW, 0x99); // ignored: DRQ is set
    r.outb(COMMAND, 0xEC); // ignored too
    BOOST_TEST(r.inb(LBA_LOW) == 10);
    BOOST_TEST(r.read_sector() == MemoryBlockDevice::pattern(10));
    BOOST_TEST(r.ide.channel(0).ignored_accesses() == 2u);
}

BOOST_AUTO_TEST_CASE(backend_with_other_sector_size_shows_as_empty) {
    MemoryBlockDevice cd(1000, 2048);
    AtaDisk ata(cd, "CD");
    BOOST_TEST(ata.sectors() == 0u);
    BOOST_TEST(ata.default_cylinders() == 1u);
}

BOOST_AUTO_TEST_CASE(save_and_restore_in_the_middle_of_a_transfer) {
    Rig a;
    for (u64 s = 0; s < 4; ++s)
        a.disk.fill_pattern(60 + s, 2);
    a.outb(COUNT, 2);
    a.outb(COMMAND, 0xC6);
    a.lba28(0xC4, 60, 4);
    auto first = a.read_sector();
    for (int i = 0; i < 100; ++i)
        a.inw(DATA); // stop in the middle of the block's second sector
    auto state = vsa::test::save_state(a.ide);

    Rig b;
    for (u64 s = 0; s < 4; ++s)
        b.disk.fill_pattern(60 + s, 2);
    auto loader = StateVisitor::loader(state);
    b.ide.visit_state(loader);
    BOOST_REQUIRE_MESSAGE(loader.ok(), loader.error());
    b.ide.post_load();
    BOOST_TEST(b.irq14.level()); // the block's interrupt is still pending
    BOOST_TEST(b.inb(STATUS) == DATA_READY);
    auto expected = MemoryBlockDevice::pattern(61, 2);
    for (int i = 100; i < 256; ++i) {
        u16 w = b.inw(DATA);
        BOOST_TEST(w == (expected[2 * i] | expected[2 * i + 1] << 8));
    }
    BOOST_TEST(b.inb(STATUS) == DATA_READY);
    BOOST_TEST(b.read_sector() == MemoryBlockDevice::pattern(62, 2));
    BOOST_TEST(b.read_sector() == MemoryBlockDevice::pattern(63, 2));
    BOOST_TEST(b.inb(STATUS) == READY);
    BOOST_TEST(first == MemoryBlockDevice::pattern(60, 2));

    Rig c;
    vsa::test::check_save_load_save(a.ide, c.ide);
    Rig d;
    vsa::test::check_bad_streams_fail(a.ide, d.ide);
}

BOOST_AUTO_TEST_CASE(a_different_disk_or_drive_set_refuses_the_state) {
    Rig a;
    auto state = vsa::test::save_state(a.ide);
    Rig bigger(SMALL_DISK * 2);
    auto loader = StateVisitor::loader(state);
    bigger.ide.visit_state(loader);
    BOOST_TEST(!loader.ok());

    Clock clock{Clock::Mode::Manual};
    FakeIrqLine i14, i15;
    auto memory = MemoryMap::create(16 * MiB).release_value();
    Piix3Ide empty(i14, i15, *memory);
    auto loader2 = StateVisitor::loader(state);
    empty.visit_state(loader2);
    BOOST_TEST(!loader2.ok());
}

// Streams written before DMA (ata-disk and ide-channel version 1, one
// shared task file) still load: written here field by field as that code
// wrote them.
namespace {
void write_v1_disk(StateVisitor& s, u64 sectors, u8 multiple) {
    s.section("ata-disk", 1);
    u8 heads = 16, spt = 63, op = 0, block = 1;
    bool write_cache = false, ext = false, chs = false;
    u64 lba = 0;
    u32 remaining = 0;
    s.field("sectors", sectors);
    s.field("cur_heads", heads);
    s.field("cur_sectors", spt);
    s.field("multiple", multiple);
    s.field("write_cache", write_cache);
    s.field("op", op);
    s.field("ext", ext);
    s.field("chs", chs);
    s.field("block_sectors", block);
    s.field("lba", lba);
    s.field("remaining", remaining);
}
} // namespace

BOOST_AUTO_TEST_CASE(version_1_streams_load) {
    MemoryBlockDevice disk(SMALL_DISK);
    AtaDisk alone(disk, "V1");
    auto s = StateVisitor::saver();
    write_v1_disk(s, SMALL_DISK, 8);
    auto l = StateVisitor::loader(s.bytes());
    alone.visit_state(l);
    BOOST_REQUIRE_MESSAGE(l.ok(), l.error());
    BOOST_TEST(l.at_end());
    BOOST_TEST(alone.multiple_count() == 8u);
    BOOST_TEST(!alone.write_cache());
    BOOST_TEST(alone.dma_mode() == AtaDisk::DEFAULT_DMA_MODE);

    // A channel with the disk as master, its one register set showing
    // LBA mid 0x34: both drives' copies get it.
    Rig r;
    auto c = StateVisitor::saver();
    c.section("ide-channel", 1);
    u8 zero = 0, mid = 0x34, status = READY, diag = 1;
    bool no = false, yes = true;
    u32 none = 0;
    for (char const* name : {"feature", "hob_feature", "count", "hob_count", "lba_low", "hob_lba_low"})
        c.field(name, zero);
    c.field("lba_mid", mid);
    for (char const* name : {"hob_lba_mid", "lba_high", "hob_lba_high", "device", "control"})
        c.field(name, zero);
    c.field("status", status);
    c.field("error", diag);
    c.field("irq_pending", no);
    c.field("status", zero);
    c.field("error", zero);
    c.field("irq_pending", no);
    c.field("active", zero);
    c.field("transfer", zero);
    c.field("buffer_len", none);
    c.field("buffer_pos", none);
    c.bytes_field("buffer", {});
    c.field("drive_present", yes);
    write_v1_disk(c, SMALL_DISK, 4);
    c.field("drive_present", no);
    auto lc = StateVisitor::loader(c.bytes());
    r.ide.channel(0).visit_state(lc);
    BOOST_REQUIRE_MESSAGE(lc.ok(), lc.error());
    BOOST_TEST(lc.at_end());
    BOOST_TEST(r.inb(LBA_MID) == 0x34);
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.ata.multiple_count() == 4u);
    BOOST_TEST(word(r.identify(), 63) == 0x0407);
}

BOOST_AUTO_TEST_CASE(random_register_loop_survives) {
    Rig r(HUGE_DISK);
    AtaDisk slave(r.disk, "SLAVE");
    r.ide.channel(0).attach(1, &slave);
    std::mt19937 rng(42);
    // Real commands most of the time (random bytes otherwise), data cycles
    // to move transfers along, registers, and a rare reset.
    u8 const commands[] = {0x20, 0x24, 0x29, 0x30, 0x34, 0x39, 0xC4, 0xC5, 0xC6, 0x91,
                           0xEC, 0xEF, 0xE7, 0x90, 0x10, 0x70, 0x41, 0xE5, 0xA1};
    Port const registers[] = {ERROR, COUNT, LBA_LOW, LBA_MID, LBA_HIGH, DEVICE};
    Width const widths[] = {Width::Byte, Width::Word, Width::Dword};
    for (int i = 0; i < 300000; ++i) {
        unsigned action = rng() % 1000;
        u32 value = rng();
        if (action < 500) {
            Width w = widths[rng() % 3];
            if (rng() % 2)
                r.io.write(DATA, w, value & width_mask(w));
            else
                (void)r.io.read(DATA, w);
        } else if (action < 750) {
            Port p = registers[rng() % std::size(registers)];
            // Small counts keep the transfers short enough to finish.
            if (p == COUNT) value %= 8;
            if (rng() % 2)
                r.io.write(p, rng() % 8 ? Width::Byte : widths[rng() % 3], value & 0xFF);
            else
                (void)r.io.read(p, widths[rng() % 3]);
        } else if (action < 850) {
            r.outb(COMMAND, rng() % 4 ? commands[rng() % std::size(commands)] : static_cast<u8>(value));
        } else if (action < 990) {
            (void)r.inb(rng() % 2 ? STATUS : CONTROL);
        } else if (action < 999) {
            r.outb(CONTROL, static_cast<u8>(value & 0x82)); // nIEN, HOB
        } else {
            r.outb(CONTROL, ata::CONTROL_SRST);
            r.outb(CONTROL, 0);
        }
        r.clock.advance(1000);
    }
    BOOST_TEST_MESSAGE("random loop: " << r.disk.reads() << " reads, " << r.disk.writes() << " writes");
    BOOST_TEST(r.disk.reads() > 50u);
    BOOST_TEST(r.disk.writes() > 50u);
    vsa::test::random_register_loop(r.ide, 0x400, 20000, 5);
    // Still a working disk afterwards.
    r.outb(CONTROL, ata::CONTROL_SRST);
    r.outb(CONTROL, 0);
    r.outb(DEVICE, 0xA0);
    BOOST_TEST(r.identify().size() == 512u);
}

BOOST_AUTO_TEST_SUITE_END()
