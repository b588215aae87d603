// SPDX-License-Identifier: GPL-2.0-or-later
// The ATAPI CD/DVD drive behind the PIIX3 IDE primary channel, driven
// through the legacy ports as SeaBIOS and Linux's libata do: signature,
// IDENTIFY PACKET DEVICE, the PACKET protocol with byte-count-limited DRQ
// blocks, the MMC commands, media changes and the tray lock, sense data
// for bad requests, PACKET DMA through the bus master, save/restore (also
// mid-DMA), and a random port loop. The media is a
// synthetic ISO file (every sector's bytes derived from its LBA) opened
// through the real storage layer.
#include "hw/atapi_cdrom.h"
#include "hw/piix3_ide.h"
#include "hypervisor/io/clock.h"
#include "services/storage/raw_image.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>

using namespace vsa;
using vsa::test::FakeIrqLine;

namespace {

constexpr Port DATA = 0x1F0, ERROR = 0x1F1, FEATURES = 0x1F1, COUNT = 0x1F2, LBA_LOW = 0x1F3, LBA_MID = 0x1F4,
               LBA_HIGH = 0x1F5, DEVICE = 0x1F6, STATUS = 0x1F7, COMMAND = 0x1F7, CONTROL = 0x3F6;
constexpr u8 READY = ata::STATUS_DRDY | ata::STATUS_DSC; // 0x50
constexpr u8 DATA_READY = READY | ata::STATUS_DRQ;       // 0x58
constexpr u8 FAILED = READY | ata::STATUS_ERR;           // 0x51
constexpr u64 ISO_SECTORS = 64;

u8 pattern(u64 lba, std::size_t i) {
    return static_cast<u8>(lba * 131 + i * 7 + (i >> 8) * 3 + 1);
}

// A temporary ISO file of `sectors` 2048-byte sectors with the pattern
// above (only the first `written` sectors are written: a big image stays
// sparse).
class IsoFile {
public:
    explicit IsoFile(u64 sectors, u64 written = ISO_SECTORS) {
        static unsigned counter = 0;
        m_path = (std::filesystem::temp_directory_path() /
                  ("vsa-atapi-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".iso"))
                     .string();
        std::ofstream out(m_path, std::ios::binary | std::ios::trunc);
        std::vector<char> sector(AtapiCdrom::SECTOR_SIZE);
        for (u64 lba = 0; lba < std::min(sectors, written); ++lba) {
            for (std::size_t i = 0; i < sector.size(); ++i)
                sector[i] = static_cast<char>(pattern(lba, i));
            out.write(sector.data(), static_cast<std::streamsize>(sector.size()));
        }
        out.close();
        std::filesystem::resize_file(m_path, sectors * AtapiCdrom::SECTOR_SIZE);
    }
    ~IsoFile() {
        std::error_code ec;
        std::filesystem::remove(m_path, ec);
    }
    std::string const& path() const { return m_path; }
    std::unique_ptr<storage::BlockDevice> open() const {
        auto image = storage::open_iso_image(m_path);
        BOOST_REQUIRE(!image.is_error());
        return image.release_value();
    }

private:
    std::string m_path;
};

// Counts the reads that reach the image (the random loop must move data).
class CountingDevice final : public storage::BlockDevice {
public:
    CountingDevice(std::unique_ptr<storage::BlockDevice> inner, unsigned& reads)
        : m_inner(std::move(inner)), m_reads(reads) {}
    std::uint64_t sector_count() const override { return m_inner->sector_count(); }
    std::uint32_t sector_size() const override { return m_inner->sector_size(); }
    bool read_only() const override { return true; }
    Result<void, storage::StorageError> read(std::uint64_t first, std::span<std::byte> out) override {
        ++m_reads;
        return m_inner->read(first, out);
    }
    Result<void, storage::StorageError> write(std::uint64_t first, std::span<std::byte const> data) override {
        return m_inner->write(first, data);
    }
    Result<void, storage::StorageError> flush() override { return m_inner->flush(); }

private:
    std::unique_ptr<storage::BlockDevice> m_inner;
    unsigned& m_reads;
};

struct Reply {
    std::vector<u8> data;
    std::vector<unsigned> blocks; // byte count of each DRQ block
    u8 status{0};
    u8 error{0};
    u8 reason{0};
    u8 sense_key() const { return error >> 4; }
};

using Cdb = std::array<u8, 12>;

struct Rig {
    Clock clock{Clock::Mode::Manual};
    FakeIrqLine irq14, irq15;
    // Rigs whose states are exchanged share their image (the path is
    // part of the state).
    std::shared_ptr<IsoFile> iso_file;
    IsoFile& iso;
    AtapiCdrom cd{"VSACD0001"};
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
    Piix3Ide ide{irq14, irq15, *memory};
    IoBus io;

    explicit Rig(bool media = true, std::shared_ptr<IsoFile> shared = nullptr)
        : iso_file(shared ? shared : std::make_shared<IsoFile>(ISO_SECTORS)), iso(*iso_file) {
        if (media) BOOST_REQUIRE(cd.insert(iso.open(), iso.path()));
        ide.channel(0).attach(0, &cd);
        ide.reset();
        BOOST_REQUIRE(ide.map_ports(io));
        // A drive with media at power-on is ready: the host's insert above
        // came before the guest could look, as a disc in the tray at boot.
        if (media) (void)packet({0x00});
    }
    u8 inb(Port p) { return static_cast<u8>(io.read(p, Width::Byte)); }
    u16 inw(Port p) { return static_cast<u16>(io.read(p, Width::Word)); }
    void outb(Port p, u8 v) { io.write(p, Width::Byte, v); }
    void outw(Port p, u16 v) { io.write(p, Width::Word, v); }

    // PACKET with `limit` in the byte count registers, the CDB, then every
    // data block as the byte count register announces it.
    Reply packet(Cdb cdb, u16 limit = 0xFFFE) {
        outb(DEVICE, 0xA0);
        outb(FEATURES, 0);
        outb(LBA_MID, static_cast<u8>(limit));
        outb(LBA_HIGH, static_cast<u8>(limit >> 8));
        outb(COMMAND, 0xA0);
        BOOST_REQUIRE_EQUAL(inb(CONTROL), DATA_READY);
        BOOST_TEST(inb(COUNT) == ata::REASON_COD);
        for (unsigned i = 0; i < 12; i += 2)
            outw(DATA, static_cast<u16>(cdb[i] | cdb[i + 1] << 8));
        Reply r;
        for (int guard = 0; guard < 100000; ++guard) {
            BOOST_TEST(irq14.level()); // every DRQ block and the status phase interrupt
            u8 st = inb(STATUS);
            if (!(st & ata::STATUS_DRQ)) {
                r.status = st;
                break;
            }
            BOOST_TEST(inb(COUNT) == ata::REASON_IO);
            unsigned n = inb(LBA_MID) | inb(LBA_HIGH) << 8;
            r.blocks.push_back(n);
            for (unsigned i = 0; i < n; i += 2) {
                u16 w = inw(DATA);
                r.data.push_back(static_cast<u8>(w));
                if (i + 1 < n) r.data.push_back(static_cast<u8>(w >> 8));
            }
        }
        BOOST_TEST(!irq14.level());
        r.error = inb(ERROR);
        r.reason = inb(COUNT);
        BOOST_TEST(r.reason == (ata::REASON_COD | ata::REASON_IO));
        return r;
    }
    AtapiCdrom::Sense request_sense() {
        auto r = packet({0x03, 0, 0, 0, 18});
        BOOST_REQUIRE_EQUAL(r.data.size(), 18u);
        BOOST_TEST(r.data[0] == 0x70);
        BOOST_TEST(r.data[7] == 10);
        return {r.data[2], r.data[12], r.data[13]};
    }
    Reply read10(u32 lba, u16 count, u16 limit = 0xFFFE) {
        return packet(
            {0x28, 0, u8(lba >> 24), u8(lba >> 16), u8(lba >> 8), u8(lba), 0, u8(count >> 8), u8(count)},
            limit);
    }
};

bool matches(std::vector<u8> const& data, u64 first_lba) {
    for (std::size_t i = 0; i < data.size(); ++i)
        if (data[i] != pattern(first_lba + i / 2048, i % 2048)) return false;
    return true;
}

u16 word(std::array<u8, ata::SECTOR_SIZE> const& id, unsigned w) {
    return static_cast<u16>(id[2 * w] | id[2 * w + 1] << 8);
}

AtapiCdrom::Sense sense(u8 key, u8 asc, u8 ascq = 0) {
    return {key, asc, ascq};
}

} // namespace

namespace vsa {
std::ostream& operator<<(std::ostream& out, AtapiCdrom::Sense const& s) {
    return out << int(s.key) << "/" << std::hex << int(s.asc) << "/" << int(s.ascq) << std::dec;
}
} // namespace vsa

BOOST_AUTO_TEST_SUITE(atapi_cdrom)

BOOST_AUTO_TEST_CASE(signature_after_reset_and_identify_device_aborts) {
    Rig r(false);
    BOOST_TEST(r.inb(STATUS) == 0); // PACKET devices: status 00h after reset
    BOOST_TEST(r.inb(COUNT) == 1);
    BOOST_TEST(r.inb(LBA_LOW) == 1);
    BOOST_TEST(r.inb(LBA_MID) == 0x14);
    BOOST_TEST(r.inb(LBA_HIGH) == 0xEB);
    r.outb(LBA_MID, 0);
    r.outb(LBA_HIGH, 0);
    r.outb(CONTROL, ata::CONTROL_SRST);
    r.outb(CONTROL, 0);
    BOOST_TEST(r.inb(LBA_MID) == 0x14);
    BOOST_TEST(r.inb(LBA_HIGH) == 0xEB);
    // A driver probing with IDENTIFY DEVICE gets ABRT and the signature.
    r.outb(LBA_MID, 0);
    r.outb(LBA_HIGH, 0);
    r.outb(COMMAND, 0xEC);
    BOOST_TEST(r.inb(STATUS) == FAILED);
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_ABRT);
    BOOST_TEST(r.inb(LBA_MID) == 0x14);
    BOOST_TEST(r.inb(LBA_HIGH) == 0xEB);
    // The ATA disk command set is aborted.
    for (u8 command : {0x20, 0x24, 0x30, 0xC8, 0xCA, 0x00, 0xC4, 0x40}) {
        r.outb(COMMAND, command);
        BOOST_TEST(r.inb(STATUS) == FAILED);
    }
    // Power management and SET FEATURES (PIO mode) are accepted.
    for (u8 command : {0xE0, 0xE1, 0xE5}) {
        r.outb(COMMAND, command);
        BOOST_TEST(r.inb(STATUS) == READY);
    }
    r.outb(FEATURES, 0x03);
    r.outb(0x1F2, 0x0C);
    r.outb(COMMAND, 0xEF);
    BOOST_TEST(r.inb(STATUS) == READY);
    r.outb(0x1F2, 0x45); // UDMA 5, recorded in word 88
    r.outb(COMMAND, 0xEF);
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.cd.dma_mode() == 0x45);
    BOOST_TEST(word(r.cd.identify_block(), 88) == 0x203F);
    BOOST_TEST(word(r.cd.identify_block(), 63) == 0x0007);
    r.outb(0x1F2, 0x46); // UDMA 6 is not offered
    r.outb(COMMAND, 0xEF);
    BOOST_TEST(r.inb(STATUS) == FAILED);
    r.clock.advance(1'000'000'000);
    BOOST_TEST(r.inb(STATUS) == FAILED); // nothing depends on time
}

BOOST_AUTO_TEST_CASE(identify_packet_device) {
    Rig r;
    r.outb(COMMAND, 0xA1);
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    std::array<u8, ata::SECTOR_SIZE> id{};
    for (unsigned i = 0; i < 256; ++i) {
        u16 w = r.inw(DATA);
        id[2 * i] = static_cast<u8>(w);
        id[2 * i + 1] = static_cast<u8>(w >> 8);
    }
    BOOST_TEST(!r.irq14.level()); // PIO data-in: no interrupt after the last block
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(id == r.cd.identify_block());
    BOOST_TEST(word(id, 0) == 0x85C0);
    BOOST_TEST(((word(id, 0) >> 8) & 0x1F) == 0x05); // CD-ROM, what SeaBIOS checks
    BOOST_TEST((word(id, 49) & 0x0100) != 0);        // DMA
    BOOST_TEST(word(id, 53) == 0x0006);
    BOOST_TEST(word(id, 63) == 0x0407);       // multiword DMA 0-2, mode 2 at power-on
    BOOST_TEST(word(id, 88) == 0x003F);       // Ultra DMA 0-5
    BOOST_TEST((word(id, 82) & 0x0010) != 0); // PACKET feature set
    std::string model;
    for (unsigned w = 27; w < 47; ++w)
        model += {static_cast<char>(id[2 * w + 1]), static_cast<char>(id[2 * w])};
    BOOST_TEST(model.starts_with("VSA Virtual CD/DVD  "));
    u8 sum = 0;
    for (u8 b : id)
        sum = static_cast<u8>(sum + b);
    BOOST_TEST(sum == 0);
}

BOOST_AUTO_TEST_CASE(inquiry_standard_vpd_and_odd_lengths) {
    Rig r;
    auto q = r.packet({0x12, 0, 0, 0, 96});
    BOOST_TEST(q.status == READY);
    BOOST_REQUIRE_EQUAL(q.data.size(), 36u);
    BOOST_TEST(q.data[0] == 0x05);
    BOOST_TEST(q.data[1] == 0x80);
    BOOST_TEST(std::string(q.data.begin() + 8, q.data.begin() + 16) == "VSA     ");
    BOOST_TEST(std::string(q.data.begin() + 16, q.data.begin() + 32) == "Virtual CD/DVD  ");
    // An odd allocation length: the byte count says 5, the port pads.
    auto odd = r.packet({0x12, 0, 0, 0, 5});
    BOOST_TEST(odd.blocks == std::vector<unsigned>{5});
    BOOST_TEST(odd.status == READY);
    BOOST_TEST(std::equal(odd.data.begin(), odd.data.end(), q.data.begin()));
    // Allocation length 0: no data phase at all.
    auto none = r.packet({0x12, 0, 0, 0, 0});
    BOOST_TEST(none.blocks.empty());
    BOOST_TEST(none.status == READY);
    auto vpd = r.packet({0x12, 1, 0x80, 0, 64});
    BOOST_TEST(std::string(vpd.data.begin() + 4, vpd.data.end()) == "VSACD0001");
    auto bad = r.packet({0x12, 1, 0x83, 0, 64});
    BOOST_TEST(bad.status == FAILED);
    BOOST_TEST(r.request_sense() == sense(5, 0x24));
}

BOOST_AUTO_TEST_CASE(test_unit_ready_without_media_then_unit_attention_after_insert) {
    Rig r(false);
    auto tur = r.packet({0x00});
    BOOST_TEST(tur.status == FAILED);
    BOOST_TEST(tur.error == (0x20 | ata::ERROR_ABRT)); // NOT READY in bits 7-4
    BOOST_TEST(r.request_sense() == sense(2, 0x3A));
    BOOST_TEST(r.request_sense() == sense(0, 0)); // read once
    BOOST_TEST(r.packet({0x25}).status == FAILED);
    BOOST_TEST(r.request_sense() == sense(2, 0x3A));

    BOOST_REQUIRE(r.cd.insert(r.iso.open(), r.iso.path()));
    // INQUIRY does not consume the unit attention; TEST UNIT READY reports it once.
    BOOST_TEST(r.packet({0x12, 0, 0, 0, 36}).status == READY);
    tur = r.packet({0x00});
    BOOST_TEST(tur.status == FAILED);
    BOOST_TEST(tur.sense_key() == 6);
    BOOST_TEST(r.request_sense() == sense(6, 0x28));
    BOOST_TEST(r.packet({0x00}).status == READY);
    // A pending unit attention is what REQUEST SENSE reports first.
    BOOST_REQUIRE(r.cd.insert(r.iso.open(), r.iso.path()));
    BOOST_TEST(r.request_sense() == sense(6, 0x28));
    BOOST_TEST(r.packet({0x00}).status == READY);
}

BOOST_AUTO_TEST_CASE(read_capacity) {
    Rig r;
    auto cap = r.packet({0x25});
    BOOST_REQUIRE_EQUAL(cap.data.size(), 8u);
    BOOST_TEST((cap.data[0] << 24 | cap.data[1] << 16 | cap.data[2] << 8 | cap.data[3]) == ISO_SECTORS - 1);
    BOOST_TEST((cap.data[4] << 24 | cap.data[5] << 16 | cap.data[6] << 8 | cap.data[7]) == 2048);
}

BOOST_AUTO_TEST_CASE(read_10_and_12_data_and_drq_blocks) {
    Rig r;
    // SeaBIOS: one sector per DRQ block.
    auto a = r.read10(5, 3, 2048);
    BOOST_TEST(a.status == READY);
    BOOST_TEST(a.blocks == (std::vector<unsigned>{2048, 2048, 2048}));
    BOOST_TEST(matches(a.data, 5));
    // A large limit: blocks as large as the channel buffer.
    auto b = r.read10(0, 10);
    BOOST_TEST(b.blocks == (std::vector<unsigned>{8192, 8192, 4096}));
    BOOST_TEST(matches(b.data, 0));
    // Odd and unaligned limits: even blocks spanning sectors.
    auto c = r.read10(7, 2, 3001);
    BOOST_TEST(c.blocks == (std::vector<unsigned>{3000, 1096}));
    BOOST_TEST(matches(c.data, 7));
    auto d = r.read10(1, 1, 0); // 0: no limit
    BOOST_TEST(d.blocks == std::vector<unsigned>{2048});
    BOOST_TEST(matches(d.data, 1));
    // READ(12), up to the last sector.
    auto e = r.packet({0xA8, 0, 0, 0, 0, ISO_SECTORS - 4, 0, 0, 0, 4});
    BOOST_TEST(e.status == READY);
    BOOST_TEST(e.data.size() == 4u * 2048);
    BOOST_TEST(matches(e.data, ISO_SECTORS - 4));
    // Length 0 reads nothing and succeeds.
    auto f = r.read10(3, 0);
    BOOST_TEST(f.blocks.empty());
    BOOST_TEST(f.status == READY);
    // 32-bit dword reads work as well.
    r.outb(LBA_MID, 0x00);
    r.outb(LBA_HIGH, 0x08);
    r.outb(COMMAND, 0xA0);
    Cdb cdb{0x28, 0, 0, 0, 0, 9, 0, 0, 1};
    for (unsigned i = 0; i < 12; i += 4)
        r.io.write(DATA, Width::Dword,
                   u32(cdb[i] | cdb[i + 1] << 8 | cdb[i + 2] << 16 | u32(cdb[i + 3]) << 24));
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    std::vector<u8> data;
    for (int i = 0; i < 512; ++i) {
        u32 v = r.io.read(DATA, Width::Dword);
        for (int k = 0; k < 4; ++k)
            data.push_back(static_cast<u8>(v >> (8 * k)));
    }
    BOOST_TEST(matches(data, 9));
    BOOST_TEST(r.inb(STATUS) == READY);
}

BOOST_AUTO_TEST_CASE(out_of_range_and_overflowing_reads) {
    Rig r;
    auto past = r.read10(ISO_SECTORS, 1);
    BOOST_TEST(past.status == FAILED);
    BOOST_TEST(past.sense_key() == 5);
    BOOST_TEST(r.request_sense() == sense(5, 0x21));
    BOOST_TEST(r.read10(ISO_SECTORS - 1, 2).status == FAILED);
    BOOST_TEST(r.request_sense() == sense(5, 0x21));
    // LBA + count would wrap 32 bits.
    BOOST_TEST(r.packet({0xA8, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}).status == FAILED);
    BOOST_TEST(r.request_sense() == sense(5, 0x21));
    BOOST_TEST(r.packet({0xA8, 0, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF}).status == FAILED);
    // Unknown opcodes.
    BOOST_TEST(r.packet({0xFF}).status == FAILED);
    BOOST_TEST(r.request_sense() == sense(5, 0x20));
    BOOST_TEST(r.packet({0x2A}).status == FAILED); // WRITE(10): a ROM
    BOOST_TEST(r.request_sense() == sense(5, 0x20));
    BOOST_TEST(r.packet({0x00}).status == READY);
}

BOOST_AUTO_TEST_CASE(read_toc_formats) {
    Rig r;
    auto toc = r.packet({0x43, 0, 0, 0, 0, 0, 0, 0, 100});
    BOOST_REQUIRE_EQUAL(toc.data.size(), 20u);
    BOOST_TEST((toc.data[0] << 8 | toc.data[1]) == 18);
    BOOST_TEST(toc.data[2] == 1);
    BOOST_TEST(toc.data[3] == 1);
    BOOST_TEST(toc.data[5] == 0x14);
    BOOST_TEST(toc.data[6] == 1);
    BOOST_TEST(toc.data[14] == 0xAA);
    BOOST_TEST((toc.data[16] << 24 | toc.data[17] << 16 | toc.data[18] << 8 | toc.data[19]) == ISO_SECTORS);
    // MSF: track 1 at 00:02:00, lead-out at 64 + 150 frames = 00:02:64.
    auto msf = r.packet({0x43, 2, 0, 0, 0, 0, 0, 0, 100});
    BOOST_TEST((std::vector<u8>(msf.data.begin() + 8, msf.data.begin() + 12) == std::vector<u8>{0, 0, 2, 0}));
    BOOST_TEST((std::vector<u8>(msf.data.begin() + 16, msf.data.end()) == std::vector<u8>{0, 0, 2, 64}));
    // Starting at the lead-out: only its descriptor.
    auto lead = r.packet({0x43, 0, 0, 0, 0, 0, 0xAA, 0, 100});
    BOOST_TEST(lead.data.size() == 12u);
    BOOST_TEST(r.packet({0x43, 0, 0, 0, 0, 0, 5, 0, 100}).status == FAILED);
    BOOST_TEST(r.request_sense() == sense(5, 0x24));
    // Format 1: session info; the SFF-8020 spelling in byte 9 too.
    auto session = r.packet({0x43, 0, 1, 0, 0, 0, 0, 0, 12});
    BOOST_TEST(session.data.size() == 12u);
    BOOST_TEST((session.data[0] << 8 | session.data[1]) == 10);
    BOOST_TEST(r.packet({0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40}).data == session.data);
    // Format 2: the full TOC, four 11-byte descriptors.
    auto full = r.packet({0x43, 2, 2, 0, 0, 0, 1, 0x10, 0});
    BOOST_TEST(full.data.size() == 4u + 44);
    BOOST_TEST(full.data[4 + 3] == 0xA0);
    BOOST_TEST(full.data[4 + 22 + 3] == 0xA2);
    // Truncated to the allocation length.
    BOOST_TEST(r.packet({0x43, 0, 0, 0, 0, 0, 0, 0, 4}).data.size() == 4u);
    BOOST_TEST(r.packet({0x43, 0, 7, 0, 0, 0, 0, 0, 100}).status == FAILED);
}

BOOST_AUTO_TEST_CASE(mode_sense_pages) {
    Rig r;
    auto caps = r.packet({0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 128});
    BOOST_TEST(caps.status == READY);
    BOOST_REQUIRE_EQUAL(caps.data.size(), 8u + 22);
    BOOST_TEST((caps.data[0] << 8 | caps.data[1]) == 28);
    BOOST_TEST(caps.data[8] == 0x2A);
    BOOST_TEST(caps.data[9] == 0x14);
    BOOST_TEST((caps.data[8 + 6] & 0x09) == 0x09); // lock, eject
    BOOST_TEST((caps.data[8 + 6] & 0x02) == 0);    // not locked
    r.packet({0x1E, 0, 0, 0, 1});
    caps = r.packet({0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 128});
    BOOST_TEST((caps.data[8 + 6] & 0x02) != 0);
    auto six = r.packet({0x1A, 0, 0x2A, 0, 255});
    BOOST_REQUIRE_EQUAL(six.data.size(), 4u + 22);
    BOOST_TEST(six.data[0] == 25);
    auto all = r.packet({0x5A, 0, 0x3F, 0, 0, 0, 0, 0, 255});
    BOOST_TEST(all.data.size() == 8u + 12 + 22);
    BOOST_TEST(all.data[8] == 0x01);
    BOOST_TEST(all.data[20] == 0x2A);
    auto changeable = r.packet({0x5A, 0, 0x40 | 0x2A, 0, 0, 0, 0, 0, 255});
    BOOST_TEST(std::all_of(changeable.data.begin() + 10, changeable.data.end(), [](u8 b) { return b == 0; }));
    BOOST_TEST(r.packet({0x5A, 0, 0xC0 | 0x2A, 0, 0, 0, 0, 0, 255}).status == FAILED);
    BOOST_TEST(r.request_sense() == sense(5, 0x39));
    BOOST_TEST(r.packet({0x5A, 0, 0x05, 0, 0, 0, 0, 0, 255}).status == FAILED);
    BOOST_TEST(r.request_sense() == sense(5, 0x24));
}

BOOST_AUTO_TEST_CASE(get_configuration_profiles) {
    Rig r;
    auto conf = r.packet({0x46, 0, 0, 0, 0, 0, 0, 0x01, 0});
    BOOST_TEST(conf.status == READY);
    u32 length = u32(conf.data[0]) << 24 | conf.data[1] << 16 | conf.data[2] << 8 | conf.data[3];
    BOOST_TEST(length == conf.data.size() - 4);
    BOOST_TEST((conf.data[6] << 8 | conf.data[7]) == 0x0008); // CD-ROM current
    BOOST_TEST((conf.data[8] << 8 | conf.data[9]) == 0x0000); // profile list first
    BOOST_TEST((conf.data[12] << 8 | conf.data[13]) == 0x0010);
    BOOST_TEST(conf.data[14] == 0); // DVD-ROM not current
    BOOST_TEST((conf.data[16] << 8 | conf.data[17]) == 0x0008);
    BOOST_TEST(conf.data[18] == 1);
    // RT=2: one feature (removable medium).
    auto one = r.packet({0x46, 2, 0, 3, 0, 0, 0, 0, 64});
    BOOST_TEST(one.data.size() == 8u + 8);
    BOOST_TEST((one.data[8] << 8 | one.data[9]) == 3);
    // Truncated: the header still gives the whole length.
    auto head = r.packet({0x46, 0, 0, 0, 0, 0, 0, 0, 8});
    BOOST_TEST(head.data.size() == 8u);
    BOOST_TEST(head.data[3] == conf.data[3]);
    // A DVD-sized image (sparse) is a DVD-ROM.
    IsoFile dvd(AtapiCdrom::CD_MAX_SECTORS + 1);
    BOOST_REQUIRE(r.cd.insert(dvd.open(), dvd.path()));
    auto d = r.packet({0x46, 0, 0, 0, 0, 0, 0, 0x01, 0});
    BOOST_TEST((d.data[6] << 8 | d.data[7]) == 0x0010);
    r.cd.eject();
    auto empty = r.packet({0x46, 1, 0, 0, 0, 0, 0, 0x01, 0});
    BOOST_TEST((empty.data[6] << 8 | empty.data[7]) == 0);
}

BOOST_AUTO_TEST_CASE(event_status_notification_media_class) {
    Rig r(false);
    Cdb gesn{0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8};
    auto none = r.packet(gesn);
    BOOST_REQUIRE_EQUAL(none.data.size(), 8u);
    BOOST_TEST(none.data[2] == 4);
    BOOST_TEST(none.data[3] == 0x10);
    BOOST_TEST(none.data[4] == 0); // no change
    BOOST_TEST(none.data[5] == 0); // no media, tray closed
    BOOST_REQUIRE(r.cd.insert(r.iso.open(), r.iso.path()));
    auto fresh = r.packet(gesn);
    BOOST_TEST(fresh.data[4] == 2); // new media
    BOOST_TEST(fresh.data[5] == 2); // media present
    BOOST_TEST(r.packet(gesn).data[4] == 0);
    // Asynchronous mode is not offered; a class we do not have: NEA.
    BOOST_TEST(r.packet({0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8}).status == FAILED);
    auto other = r.packet({0x4A, 1, 0, 0, 0x02, 0, 0, 0, 8});
    BOOST_TEST(other.data.size() == 4u);
    BOOST_TEST(other.data[2] == 0x80);
}

BOOST_AUTO_TEST_CASE(lock_refuses_guest_and_host_eject) {
    Rig r;
    Cdb gesn{0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8};
    BOOST_TEST(r.packet({0x1E, 0, 0, 0, 1}).status == READY); // prevent removal
    BOOST_TEST(r.cd.locked());
    BOOST_TEST(r.packet({0x1B, 0, 0, 0, 0x02}).status == FAILED); // eject
    BOOST_TEST(r.request_sense() == sense(5, 0x53, 0x02));
    BOOST_TEST(r.cd.has_media());
    BOOST_TEST(!r.cd.eject()); // the host's eject is refused ...
    BOOST_TEST(r.cd.has_media());
    BOOST_TEST(r.packet(gesn).data[4] == 1); // ... and the guest hears of it
    IsoFile other(ISO_SECTORS + 1);
    BOOST_TEST(!r.cd.insert(other.open(), other.path())); // so is a media change
    BOOST_TEST(r.cd.media_path() == r.iso.path());
    BOOST_TEST(r.packet(gesn).data[4] == 1);
    BOOST_TEST(r.packet({0x00}).status == READY);
    // Unlocked, the guest's eject opens the tray and releases the image.
    BOOST_TEST(r.packet({0x1E, 0, 0, 0, 0}).status == READY);
    BOOST_TEST(r.packet({0x1B, 0, 0, 0, 0x02}).status == READY);
    BOOST_TEST(!r.cd.has_media());
    BOOST_TEST(r.cd.tray_open());
    auto mech = r.packet({0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8});
    BOOST_TEST(mech.data.size() == 8u);
    BOOST_TEST(mech.data[1] == 0x10); // door open
    BOOST_TEST(r.packet({0x00}).status == FAILED);
    BOOST_TEST(r.request_sense() == sense(2, 0x3A));
    BOOST_TEST(r.packet({0x1B, 0, 0, 0, 0x03}).status == READY); // load: closes the tray
    BOOST_TEST(!r.cd.tray_open());
    // A forced host eject breaks a lock; the guest gets a unit attention.
    BOOST_REQUIRE(r.cd.insert(r.iso.open(), r.iso.path()));
    r.request_sense();
    r.packet({0x1E, 0, 0, 0, 1});
    BOOST_TEST(r.cd.eject(true));
    BOOST_TEST(!r.cd.locked());
    BOOST_TEST(r.packet({0x00}).sense_key() == 6);
    BOOST_TEST(r.packet({0x00}).sense_key() == 2);
    // A hard reset unlocks.
    BOOST_REQUIRE(r.cd.insert(r.iso.open(), r.iso.path()));
    // The last command's sense (no medium) comes before the pending unit
    // attention, which the next command then reports.
    BOOST_TEST(r.request_sense() == sense(2, 0x3A));
    BOOST_TEST(r.packet({0x00}).sense_key() == 6);
    r.packet({0x1E, 0, 0, 0, 1});
    BOOST_TEST(r.cd.locked());
    r.ide.reset();
    BOOST_TEST(!r.cd.locked());
}

BOOST_AUTO_TEST_CASE(disc_information_mechanism_status_speed) {
    Rig r;
    auto info = r.packet({0x51, 0, 0, 0, 0, 0, 0, 0, 34});
    BOOST_REQUIRE_EQUAL(info.data.size(), 34u);
    BOOST_TEST((info.data[0] << 8 | info.data[1]) == 32);
    BOOST_TEST(info.data[2] == 0x0E);
    BOOST_TEST(r.packet({0x51, 1, 0, 0, 0, 0, 0, 0, 34}).status == FAILED);
    auto mech = r.packet({0xBD, 0, 0, 0, 0, 0, 0, 0, 0, 8});
    BOOST_TEST(mech.data == std::vector<u8>(8, 0));
    BOOST_TEST(r.packet({0xBB, 0, 0xFF, 0xFF}).status == READY);
}

BOOST_AUTO_TEST_CASE(short_packets_device_reset_and_dma_requests) {
    Rig r;
    // Half a packet: the drive waits for the rest, register writes are
    // ignored; DEVICE RESET gets it out.
    r.outb(LBA_MID, 0x00);
    r.outb(LBA_HIGH, 0x08);
    r.outb(COMMAND, 0xA0);
    r.outw(DATA, 0x0028);
    r.outw(DATA, 0);
    BOOST_TEST(r.inb(STATUS) == DATA_READY);
    r.outb(LBA_MID, 0x55);
    BOOST_TEST(r.inb(LBA_MID) == 0); // byte count limit latched as written before
    r.outb(COMMAND, 0x08);
    BOOST_TEST(r.inb(STATUS) == 0);
    BOOST_TEST(!r.irq14.level());
    BOOST_TEST(r.inb(LBA_MID) == 0x14);
    BOOST_TEST(r.inb(LBA_HIGH) == 0xEB);
    BOOST_TEST(r.packet({0x00}).status == READY);
    // Half a data phase, then SRST.
    r.outb(LBA_MID, 0);
    r.outb(LBA_HIGH, 0x08);
    r.outb(COMMAND, 0xA0);
    Cdb cdb{0x28, 0, 0, 0, 0, 2, 0, 0, 4};
    for (unsigned i = 0; i < 12; i += 2)
        r.outw(DATA, static_cast<u16>(cdb[i] | cdb[i + 1] << 8));
    for (int i = 0; i < 100; ++i)
        r.inw(DATA);
    r.outb(CONTROL, ata::CONTROL_SRST);
    r.outb(CONTROL, 0);
    BOOST_TEST(r.inb(STATUS) == 0);
    BOOST_TEST(matches(r.read10(2, 1).data, 2));
    // Overlap (feature bit 1) is not offered: the PACKET command aborts.
    r.outb(FEATURES, 2);
    r.outb(COMMAND, 0xA0);
    BOOST_TEST(r.inb(STATUS) == FAILED);
    BOOST_TEST(r.inb(ERROR) == ata::ERROR_ABRT);
    // nIEN: the request stays, the line does not move.
    r.outb(CONTROL, ata::CONTROL_NIEN);
    r.outb(FEATURES, 0);
    r.outb(COMMAND, 0xA0);
    for (unsigned i = 0; i < 6; ++i)
        r.outw(DATA, 0);
    BOOST_TEST(!r.irq14.level());
    BOOST_TEST(r.inb(STATUS) == READY);
}

// PACKET DMA through the PIIX3 bus master (Features bit 0): the packet by
// PIO, the data phase by DMA, the status phase's interrupt at the end.
namespace {
void bm_setup(Rig& r, u32 table) {
    r.ide.config_write(pci::COMMAND, Width::Word, pci::COMMAND_BUS_MASTER);
    r.ide.io_write(4, Width::Dword, table);
    r.ide.io_write(0, Width::Byte, 0x08); // to memory, not started
    r.ide.io_write(2, Width::Byte, 0x06);
}
void prd(Rig& r, u32 table, std::vector<std::pair<u32, u32>> const& entries) {
    for (std::size_t i = 0; i < entries.size(); ++i) {
        r.memory->write(static_cast<u32>(table + 8 * i), Width::Dword, entries[i].first);
        u32 control = entries[i].second | (i + 1 == entries.size() ? 0x8000'0000u : 0);
        r.memory->write(static_cast<u32>(table + 8 * i + 4), Width::Dword, control);
    }
}
void dma_packet(Rig& r, Cdb cdb) {
    r.outb(DEVICE, 0xA0);
    r.outb(FEATURES, 0x01); // DMA
    r.outb(LBA_MID, 0);
    r.outb(LBA_HIGH, 0);
    r.outb(COMMAND, 0xA0);
    BOOST_REQUIRE_EQUAL(r.inb(CONTROL), DATA_READY);
    for (unsigned i = 0; i < 12; i += 2)
        r.outw(DATA, static_cast<u16>(cdb[i] | cdb[i + 1] << 8));
}
std::vector<u8> ram(Rig& r, u32 addr, std::size_t n) {
    std::vector<u8> out(n);
    BOOST_REQUIRE(r.memory->read_bytes(addr, out));
    return out;
}
} // namespace

BOOST_AUTO_TEST_CASE(read_10_and_inquiry_by_dma) {
    Rig r;
    prd(r, 0x10000, {{0x20000, 0x2000}, {0x30000, 0x1000}});
    bm_setup(r, 0x10000);
    dma_packet(r, {0x28, 0, 0, 0, 0, 3, 0, 0, 5}); // READ(10) of 5 sectors at 3
    // The data phase waits for the engine: DRQ, data to the host, no IRQ.
    BOOST_TEST(r.inb(CONTROL) == DATA_READY);
    BOOST_TEST(r.inb(COUNT) == ata::REASON_IO);
    BOOST_TEST(!r.irq14.level());
    r.ide.io_write(0, Width::Byte, 0x09); // START (libata's ata_bmdma_start)
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.ide.bm_status(0) == (Piix3Ide::BM_STATUS_ACTIVE | Piix3Ide::BM_STATUS_IRQ));
    auto data = ram(r, 0x20000, 0x2000);
    auto rest = ram(r, 0x30000, 0x800);
    data.insert(data.end(), rest.begin(), rest.end());
    BOOST_TEST(matches(data, 3));
    BOOST_TEST(ram(r, 0x30800, 2) == std::vector<u8>(2, 0));
    r.ide.io_write(0, Width::Byte, 0x08);
    BOOST_TEST(r.inb(STATUS) == READY);
    BOOST_TEST(r.inb(COUNT) == (ata::REASON_COD | ata::REASON_IO));
    BOOST_TEST(!r.irq14.level());

    // INQUIRY by DMA (libata moves replies that are a multiple of 16 this
    // way): the reply's 36 bytes, then the status phase.
    prd(r, 0x10000, {{0x40000, 96}});
    bm_setup(r, 0x10000);
    r.ide.io_write(0, Width::Byte, 0x09);
    dma_packet(r, {0x12, 0, 0, 0, 96});
    BOOST_TEST(r.irq14.level());
    BOOST_TEST(r.ide.bm_status(0) == (Piix3Ide::BM_STATUS_ACTIVE | Piix3Ide::BM_STATUS_IRQ));
    auto inquiry = ram(r, 0x40000, 36);
    BOOST_TEST(inquiry[0] == 0x05);
    BOOST_TEST(std::string(inquiry.begin() + 8, inquiry.begin() + 11) == "VSA");
    BOOST_TEST(r.inb(STATUS) == READY);
    // A failing command in DMA mode still gives sense data.
    r.ide.io_write(0, Width::Byte, 0x08);
    bm_setup(r, 0x10000);
    r.ide.io_write(0, Width::Byte, 0x09);
    dma_packet(r, {0x28, 0, 0, 0, 0, ISO_SECTORS, 0, 0, 1});
    BOOST_TEST(r.inb(STATUS) == FAILED);
    BOOST_TEST(r.request_sense() == sense(0x05, 0x21));
}

BOOST_AUTO_TEST_CASE(save_load_save_mid_dma_read) {
    Rig a;
    // The table runs out after 3 KiB of a 4-sector read: the transfer
    // waits in the drive and the channel.
    prd(a, 0x10000, {{0x20000, 0x0C00}});
    bm_setup(a, 0x10000);
    dma_packet(a, {0x28, 0, 0, 0, 0, 20, 0, 0, 4});
    a.ide.io_write(0, Width::Byte, 0x09);
    BOOST_TEST(a.ide.bm_status(0) == 0u);
    BOOST_TEST(!a.irq14.level());
    Rig b(true, a.iso_file);
    vsa::test::check_save_load_save(a.ide, b.ide);
    // The driver restarts the engine on the rest of the buffer in b.
    prd(b, 0x10000, {{0x20C00, 0x1400}});
    b.ide.io_write(0, Width::Byte, 0x08);
    bm_setup(b, 0x10000);
    b.ide.io_write(0, Width::Byte, 0x09);
    BOOST_TEST(b.irq14.level());
    BOOST_TEST(b.ide.bm_status(0) == Piix3Ide::BM_STATUS_IRQ);
    auto got = ram(a, 0x20000, 0x0C00); // the first 3 KiB landed in a's RAM
    auto rest = ram(b, 0x20C00, 0x1400);
    got.insert(got.end(), rest.begin(), rest.end());
    BOOST_TEST(matches(got, 20));
    BOOST_TEST(b.inb(STATUS) == READY);
    Rig c(true, a.iso_file);
    vsa::test::check_bad_streams_fail(a.ide, c.ide);
}

BOOST_AUTO_TEST_CASE(save_load_save_mid_transfer_and_bad_streams) {
    Rig a;
    a.packet({0x1E, 0, 0, 0, 1});
    a.outb(LBA_MID, 0x00);
    a.outb(LBA_HIGH, 0x10);
    a.outb(COMMAND, 0xA0);
    Cdb cdb{0x28, 0, 0, 0, 0, 10, 0, 0, 5};
    for (unsigned i = 0; i < 12; i += 2)
        a.outw(DATA, static_cast<u16>(cdb[i] | cdb[i + 1] << 8));
    for (int i = 0; i < 300; ++i)
        a.inw(DATA);
    auto state = vsa::test::save_state(a.ide);

    Rig b(true, a.iso_file);
    auto loader = StateVisitor::loader(state);
    b.ide.visit_state(loader);
    BOOST_REQUIRE_MESSAGE(loader.ok(), loader.error());
    b.ide.post_load();
    BOOST_TEST(b.cd.locked());
    BOOST_TEST(b.inb(STATUS) == DATA_READY);
    std::vector<u8> rest;
    for (int guard = 0; guard < 100 && (b.inb(STATUS) & ata::STATUS_DRQ); ++guard) {
        unsigned n = b.inb(LBA_MID) | b.inb(LBA_HIGH) << 8;
        unsigned start = rest.empty() ? 600 : 0;
        for (unsigned i = start; i < n; i += 2) {
            u16 w = b.inw(DATA);
            rest.push_back(static_cast<u8>(w));
            rest.push_back(static_cast<u8>(w >> 8));
        }
    }
    BOOST_TEST(b.inb(STATUS) == READY);
    BOOST_REQUIRE_EQUAL(rest.size(), 5u * 2048 - 600);
    for (std::size_t i = 0; i < rest.size(); ++i) {
        std::size_t at = i + 600;
        if (rest[i] != pattern(10 + at / 2048, at % 2048)) {
            BOOST_TEST(false, "byte " << at << " differs");
            break;
        }
    }
    Rig c(true, a.iso_file);
    vsa::test::check_save_load_save(a.ide, c.ide);
    Rig d(true, a.iso_file);
    vsa::test::check_bad_streams_fail(a.ide, d.ide);

    // Another image, or none, refuses the state.
    Rig empty(false);
    auto l2 = StateVisitor::loader(state);
    empty.ide.visit_state(l2);
    BOOST_TEST(!l2.ok());
    BOOST_TEST(l2.error().find("empty") != std::string::npos);
    Rig other;
    IsoFile bigger(ISO_SECTORS * 2);
    BOOST_REQUIRE(other.cd.insert(bigger.open(), bigger.path()));
    auto l3 = StateVisitor::loader(state);
    other.ide.visit_state(l3);
    BOOST_TEST(!l3.ok());
}

BOOST_AUTO_TEST_CASE(random_register_and_packet_loop_survives) {
    Rig r;
    AtapiCdrom slave("SLAVE");
    r.ide.channel(0).attach(1, &slave);
    unsigned reads = 0;
    r.cd.insert(std::make_unique<CountingDevice>(r.iso.open(), reads), r.iso.path(), true);
    std::mt19937 rng(42);
    u8 const opcodes[] = {0x00, 0x03, 0x12, 0x1A, 0x1B, 0x1E, 0x25, 0x28, 0x43,
                          0x46, 0x4A, 0x51, 0x5A, 0xA8, 0xBB, 0xBD, 0x2A, 0xFF};
    u8 const commands[] = {0xA0, 0xA0, 0xA0, 0xA1, 0x08, 0xEC, 0x20, 0xEF, 0x90, 0xE5};
    Port const registers[] = {ERROR, COUNT, LBA_LOW, LBA_MID, LBA_HIGH, DEVICE};
    Width const widths[] = {Width::Byte, Width::Word, Width::Dword};
    for (int i = 0; i < 200000; ++i) {
        unsigned action = rng() % 1000;
        u32 value = rng();
        if (action < 40) {
            // A whole plausible packet: a known opcode, an LBA near the
            // image, small lengths, random flags (it lands wherever the
            // protocol is: in a packet phase, a data phase, or nowhere).
            Cdb cdb{};
            for (auto& b : cdb)
                b = static_cast<u8>(rng() % 4 == 0 ? rng() : rng() % 8);
            cdb[0] = opcodes[rng() % std::size(opcodes)];
            cdb[2] = cdb[3] = 0;
            cdb[4] = rng() % 2 ? 0 : cdb[4];
            cdb[5] = static_cast<u8>(rng() % (ISO_SECTORS + 8));
            cdb[6] = cdb[7] = 0; // lengths that mostly fit the image
            if (cdb[0] == 0xA8) cdb[8] = 0;
            if (rng() % 2) {
                r.outb(FEATURES, 0);
                r.outb(COMMAND, 0xA0);
            }
            for (unsigned k = 0; k < 12; k += 2)
                r.outw(DATA, static_cast<u16>(cdb[k] | cdb[k + 1] << 8));
        } else if (action < 500) {
            Width w = widths[rng() % 3];
            if (rng() % 2) {
                // Mostly plausible packets: an opcode, small fields.
                u32 v = value & width_mask(w) & 0x0F0F0F0F;
                if (rng() % 3 == 0) v = (v & ~0xFFu) | opcodes[rng() % std::size(opcodes)];
                r.io.write(DATA, w, v);
            } else {
                (void)r.io.read(DATA, w);
            }
        } else if (action < 750) {
            Port p = registers[rng() % std::size(registers)];
            if (rng() % 2)
                r.io.write(p, Width::Byte, value & 0xFF);
            else
                (void)r.io.read(p, widths[rng() % 3]);
        } else if (action < 850) {
            r.outb(COMMAND, rng() % 4 ? commands[rng() % std::size(commands)] : static_cast<u8>(value));
        } else if (action < 990) {
            (void)r.inb(rng() % 2 ? STATUS : CONTROL);
        } else if (action < 995) {
            r.outb(CONTROL, static_cast<u8>(value & 0x82));
        } else if (action < 997) {
            if (rng() % 2)
                r.cd.eject(rng() % 2);
            else
                r.cd.insert(std::make_unique<CountingDevice>(r.iso.open(), reads), r.iso.path());
        } else {
            r.outb(CONTROL, ata::CONTROL_SRST);
            r.outb(CONTROL, 0);
        }
        r.clock.advance(1000);
    }
    BOOST_TEST_MESSAGE("random loop: " << reads << " image reads");
    BOOST_TEST(reads > 20u);
    vsa::test::random_register_loop(r.ide, 16, 20000);
    // Still a working drive afterwards.
    r.outb(CONTROL, ata::CONTROL_SRST);
    r.outb(CONTROL, 0);
    if (!r.cd.has_media()) r.cd.insert(r.iso.open(), r.iso.path());
    r.outb(DEVICE, 0xA0);
    r.request_sense();
    r.request_sense();
    BOOST_TEST(matches(r.read10(3, 2).data, 3));
}

BOOST_AUTO_TEST_SUITE_END()
