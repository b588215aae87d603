// SPDX-License-Identifier: GPL-2.0-or-later
// The PVSCSI host adapter and the SCSI disk behind it, driven the way
// SeaBIOS and Linux's vmw_pvscsi drive them: the command register and its
// descriptor words, SETUP_RINGS, requests in the request ring, a kick,
// completions in the completion ring and INTR_STATUS / INTA. The SCSI
// commands (INQUIRY and its VPD pages, READ CAPACITY, READ/WRITE 6/10/16
// with flat buffers and scatter-gather lists, MODE SENSE, REPORT LUNS,
// REQUEST SENSE, autosense), then what a broken or hostile guest can do:
// addresses outside RAM, runaway producer indexes, a full completion
// ring, bad command words, random registers; and save/restore.
#include "hw/pvscsi.h"
#include "tests/hw/hw_test_support.h"
#include "tests/hw/memory_block_device_support.h"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace vsa;
using vsa::test::MemoryBlockDevice;

namespace {

constexpr u8 SLOT = 5;
constexpr PhysAddr BAR = 0xFEB0'0000;
constexpr PhysAddr STATE = 0x10000;
constexpr PhysAddr REQ_RING = 0x11000;
constexpr PhysAddr CMP_RING = 0x12000;
constexpr PhysAddr SENSE = 0x13000;
constexpr PhysAddr SGL = 0x14000;
constexpr PhysAddr DATA = 0x20000;
constexpr u64 DISK_SECTORS = 2048;

struct Completion {
    u64 context;
    u64 data_len;
    u32 sense_len;
    u16 host_status;
    u16 scsi_status;
};

struct Rig {
    IoBus io;
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
    PciBus bus{io, *memory};
    MemoryBlockDevice backend{DISK_SECTORS};
    ScsiDisk disk{backend, "VSASCSI0001"};
    Pvscsi hba{*memory};
    bool irq{false};
    u32 req_prod{0};
    u32 cmp_cons{0};

    explicit Rig(bool setup = true) {
        BOOST_REQUIRE(io.map(PciBus::CONFIG_ADDRESS, 8, bus));
        bus.set_pirq_sink([this](unsigned, bool level) { irq = level; });
        BOOST_REQUIRE(bus.attach(SLOT, 0, hba));
        BOOST_REQUIRE(hba.attach(0, &disk));
        cfg_write(0x10, static_cast<u32>(BAR));
        cfg_write(0x04, pci::COMMAND_MEMORY | pci::COMMAND_BUS_MASTER);
        if (setup) setup_rings(1, 1);
    }
    u32 cfg_read(u8 reg) {
        io.write(0xCF8, Width::Dword, 0x8000'0000u | (u32{SLOT} << 11) | reg);
        return io.read(0xCFC, Width::Dword);
    }
    void cfg_write(u8 reg, u32 value) {
        io.write(0xCF8, Width::Dword, 0x8000'0000u | (u32{SLOT} << 11) | reg);
        io.write(0xCFC, Width::Dword, value);
    }
    u32 reg(u32 offset) { return memory->read(BAR + offset, Width::Dword); }
    void reg(u32 offset, u32 value) { memory->write(BAR + offset, Width::Dword, value); }

    void put32(PhysAddr a, u32 v) {
        std::array<u8, 4> b{static_cast<u8>(v), static_cast<u8>(v >> 8), static_cast<u8>(v >> 16),
                            static_cast<u8>(v >> 24)};
        BOOST_REQUIRE(memory->write_bytes(a, b));
    }
    void put64(PhysAddr a, u64 v) {
        put32(a, static_cast<u32>(v));
        put32(a + 4, static_cast<u32>(v >> 32));
    }
    u32 get32(PhysAddr a) {
        std::array<u8, 4> b{};
        BOOST_REQUIRE(memory->read_bytes(a, b));
        return b[0] | b[1] << 8 | b[2] << 16 | static_cast<u32>(b[3]) << 24;
    }
    std::vector<u8> bytes(PhysAddr a, std::size_t n) {
        std::vector<u8> out(n);
        BOOST_REQUIRE(memory->read_bytes(a, out));
        return out;
    }

    // SETUP_RINGS as the drivers issue it: the command, then 132 dwords.
    void setup_rings(u32 req_pages, u32 cmp_pages, u64 state_ppn = STATE >> 12) {
        std::vector<u32> words(Pvscsi::SETUP_RINGS_DWORDS, 0);
        words[0] = req_pages;
        words[1] = cmp_pages;
        words[2] = static_cast<u32>(state_ppn);
        words[3] = static_cast<u32>(state_ppn >> 32);
        for (u32 i = 0; i < req_pages && i < 32; ++i)
            words[4 + 2 * i] = static_cast<u32>((REQ_RING >> 12) + i * 0x10);
        for (u32 i = 0; i < cmp_pages && i < 32; ++i)
            words[68 + 2 * i] = static_cast<u32>((CMP_RING >> 12) + i * 0x10);
        reg(Pvscsi::REG_COMMAND, Pvscsi::CMD_SETUP_RINGS);
        for (u32 w : words)
            reg(Pvscsi::REG_COMMAND_DATA, w);
    }

    // Queues one request (not kicked).
    void queue(u8 target, std::vector<u8> const& cdb, u64 data_addr, u64 data_len, u32 flags,
               u64 context = 0x1234, u8 lun = 0, u64 sense_addr = SENSE, u32 sense_len = 96) {
        PhysAddr d = REQ_RING + (req_prod & 31) * 128;
        std::vector<u8> zero(128, 0);
        BOOST_REQUIRE(memory->write_bytes(d, zero));
        put64(d, context);
        put64(d + 8, data_addr);
        put64(d + 16, data_len);
        put64(d + 24, sense_addr);
        put32(d + 32, sense_len);
        put32(d + 36, flags);
        BOOST_REQUIRE(memory->write_bytes(
            d + 40, std::span<u8 const>(cdb.data(), std::min<std::size_t>(cdb.size(), 16))));
        std::array<u8, 1> len{static_cast<u8>(cdb.size())};
        BOOST_REQUIRE(memory->write_bytes(d + 56, len));
        std::array<u8, 1> l{lun};
        BOOST_REQUIRE(memory->write_bytes(d + 58, l));
        std::array<u8, 1> t{target};
        BOOST_REQUIRE(memory->write_bytes(d + 67, t));
        put32(STATE + 0, ++req_prod);
    }
    Completion next_completion() {
        BOOST_REQUIRE(get32(STATE + 12) != cmp_cons);
        PhysAddr c = CMP_RING + (cmp_cons & 127) * 32;
        Completion r{};
        r.context = get32(c) | static_cast<u64>(get32(c + 4)) << 32;
        r.data_len = get32(c + 8) | static_cast<u64>(get32(c + 12)) << 32;
        r.sense_len = get32(c + 16);
        u32 st = get32(c + 20);
        r.host_status = static_cast<u16>(st);
        r.scsi_status = static_cast<u16>(st >> 16);
        put32(STATE + 16, ++cmp_cons);
        return r;
    }
    Completion run(u8 target, std::vector<u8> const& cdb, u64 data_addr, u64 data_len, u32 flags,
                   u8 lun = 0) {
        queue(target, cdb, data_addr, data_len, flags, 0x1234, lun);
        reg(Pvscsi::REG_KICK_RW_IO, 0);
        return next_completion();
    }
};

std::vector<u8> read10(u32 lba, u16 blocks) {
    return {0x28,
            0,
            static_cast<u8>(lba >> 24),
            static_cast<u8>(lba >> 16),
            static_cast<u8>(lba >> 8),
            static_cast<u8>(lba),
            0,
            static_cast<u8>(blocks >> 8),
            static_cast<u8>(blocks),
            0};
}
std::vector<u8> write10(u32 lba, u16 blocks) {
    auto c = read10(lba, blocks);
    c[0] = 0x2A;
    return c;
}

} // namespace

BOOST_AUTO_TEST_SUITE(pvscsi)

BOOST_AUTO_TEST_CASE(pci_identity_and_bar) {
    Rig r(false);
    BOOST_TEST(r.cfg_read(0x00) == 0x07C0'15ADu);
    BOOST_TEST((r.cfg_read(0x08) >> 8) == 0x010000u);
    BOOST_TEST(((r.cfg_read(0x3C) >> 8) & 0xFF) == 1u); // INTA
    r.cfg_write(0x10, 0xFFFF'FFFF);
    BOOST_TEST(r.cfg_read(0x10) == 0xFFFF'8000u); // 32 KiB memory BAR
    BOOST_TEST(!r.hba.attach(7, &r.disk));        // the adapter's own ID
    BOOST_TEST(!r.hba.attach(16, &r.disk));
}

BOOST_AUTO_TEST_CASE(setup_rings_and_command_status) {
    Rig r(false);
    r.setup_rings(1, 1);
    BOOST_TEST(r.reg(Pvscsi::REG_COMMAND_STATUS) == 0u);
    BOOST_TEST(r.hba.rings_ready());
    BOOST_TEST(r.get32(STATE + 8) == 5u);  // 32 request entries
    BOOST_TEST(r.get32(STATE + 20) == 7u); // 128 completion entries
    r.setup_rings(8, 8);
    BOOST_TEST(r.get32(STATE + 8) == 8u);
    BOOST_TEST(r.get32(STATE + 20) == 10u);
    // Not a power of two, zero, too many: refused, rings off.
    for (u32 pages : {3u, 0u, 64u}) {
        r.setup_rings(pages, 1);
        BOOST_TEST(r.reg(Pvscsi::REG_COMMAND_STATUS) == Pvscsi::STATUS_FAILED);
        BOOST_TEST(!r.hba.rings_ready());
    }
    // Linux's probes for the message ring and call threshold: unsupported.
    for (u32 cmd :
         {Pvscsi::CMD_SETUP_MSG_RING, Pvscsi::CMD_SETUP_REQCALLTHRESHOLD, Pvscsi::CMD_CONFIG, 99u}) {
        r.reg(Pvscsi::REG_COMMAND, cmd);
        BOOST_TEST(r.reg(Pvscsi::REG_COMMAND_STATUS) == Pvscsi::STATUS_FAILED);
        for (int i = 0; i < 10; ++i)
            r.reg(Pvscsi::REG_COMMAND_DATA, 0xDEAD'BEEF); // dropped
    }
    BOOST_TEST(!r.hba.rings_ready());
    // A state page outside RAM: refused.
    r.setup_rings(1, 1, 0xFFFF'FFFF'FFull);
    BOOST_TEST(r.reg(Pvscsi::REG_COMMAND_STATUS) == Pvscsi::STATUS_FAILED);
    r.setup_rings(1, 1);
    BOOST_TEST(r.hba.rings_ready());
    r.reg(Pvscsi::REG_COMMAND, Pvscsi::CMD_ADAPTER_RESET);
    BOOST_TEST(!r.hba.rings_ready());
}

BOOST_AUTO_TEST_CASE(inquiry_interrupts_and_vpd) {
    Rig r;
    auto c = r.run(0, {0x12, 0, 0, 0, 96, 0}, DATA, 96, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.context == 0x1234u);
    BOOST_TEST(c.host_status == 0u);
    BOOST_TEST(c.scsi_status == 0u);
    BOOST_TEST(c.data_len == 36u);
    auto inq = r.bytes(DATA, 36);
    BOOST_TEST(inq[0] == 0x00);
    BOOST_TEST(inq[4] == 31);
    BOOST_TEST(std::string(inq.begin() + 8, inq.begin() + 16) == "VSA     ");
    BOOST_TEST(r.get32(STATE + 4) == 1u); // reqConsIdx
    // The completion is flagged in INTR_STATUS; INTA only when unmasked.
    BOOST_TEST((r.reg(Pvscsi::REG_INTR_STATUS) & Pvscsi::INTR_CMPL_0) != 0u);
    BOOST_TEST(!r.irq);
    r.reg(Pvscsi::REG_INTR_MASK, Pvscsi::INTR_CMPL_MASK);
    BOOST_TEST(r.irq);
    r.reg(Pvscsi::REG_INTR_STATUS, Pvscsi::INTR_CMPL_MASK);
    BOOST_TEST(!r.irq);
    BOOST_TEST(r.reg(Pvscsi::REG_INTR_STATUS) == 0u);
    r.cfg_write(0x04, pci::COMMAND_MEMORY | pci::COMMAND_BUS_MASTER | pci::COMMAND_INTX_DISABLE);
    r.run(0, {0x00, 0, 0, 0, 0, 0}, 0, 0, Pvscsi::FLAG_DIR_NONE);
    BOOST_TEST(!r.irq);
    r.cfg_write(0x04, pci::COMMAND_MEMORY | pci::COMMAND_BUS_MASTER);
    BOOST_TEST(r.irq);

    // VPD 00h, 80h, 83h.
    c = r.run(0, {0x12, 1, 0x00, 0, 255, 0}, DATA, 255, Pvscsi::FLAG_DIR_TOHOST);
    auto pages = r.bytes(DATA, 7);
    BOOST_TEST(c.data_len == 7u);
    BOOST_TEST((pages == std::vector<u8>{0, 0, 0, 3, 0x00, 0x80, 0x83}));
    c = r.run(0, {0x12, 1, 0x80, 0, 255, 0}, DATA, 255, Pvscsi::FLAG_DIR_TOHOST);
    auto serial = r.bytes(DATA, c.data_len);
    BOOST_TEST(std::string(serial.begin() + 4, serial.end()) == "VSASCSI0001");
    c = r.run(0, {0x12, 1, 0x83, 0, 255, 0}, DATA, 255, Pvscsi::FLAG_DIR_TOHOST);
    auto id = r.bytes(DATA, c.data_len);
    BOOST_TEST(id[1] == 0x83);
    BOOST_TEST(id[5] == 0x01); // T10 vendor ID designator
    c = r.run(0, {0x12, 1, 0xB0, 0, 255, 0}, DATA, 255, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.scsi_status == scsi::STATUS_CHECK_CONDITION);
    BOOST_TEST(c.sense_len == 18u);
    auto sense = r.bytes(SENSE, 18);
    BOOST_TEST(sense[2] == scsi::SENSE_ILLEGAL_REQUEST);
    BOOST_TEST(sense[12] == 0x24);
    // LUN 1: no unit there.
    c = r.run(0, {0x12, 0, 0, 0, 36, 0}, DATA, 36, Pvscsi::FLAG_DIR_TOHOST, 1);
    BOOST_TEST(r.bytes(DATA, 1)[0] == 0x7F);
    c = r.run(0, {0x00, 0, 0, 0, 0, 0}, 0, 0, Pvscsi::FLAG_DIR_NONE, 1);
    BOOST_TEST(c.scsi_status == scsi::STATUS_CHECK_CONDITION);
    BOOST_TEST(r.bytes(SENSE, 18)[12] == 0x25);
}

BOOST_AUTO_TEST_CASE(absent_targets_time_out) {
    Rig r;
    for (u8 t : {1, 6, 7, 15, 16, 200}) {
        auto c = r.run(t, {0x12, 0, 0, 0, 36, 0}, DATA, 36, Pvscsi::FLAG_DIR_TOHOST);
        BOOST_TEST(c.host_status == Pvscsi::BTSTAT_SELTIMEO);
    }
}

BOOST_AUTO_TEST_CASE(capacity_read_write) {
    Rig r;
    auto c = r.run(0, {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, DATA, 8, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.data_len == 8u);
    BOOST_TEST((r.bytes(DATA, 8) == std::vector<u8>{0, 0, 0x07, 0xFF, 0, 0, 0x02, 0}));
    c = r.run(0, {0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}, DATA, 32, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.data_len == 32u);
    auto cap16 = r.bytes(DATA, 12);
    BOOST_TEST(cap16[6] == 0x07);
    BOOST_TEST(cap16[7] == 0xFF);
    BOOST_TEST(cap16[10] == 0x02);

    for (u64 lba = 10; lba < 14; ++lba)
        r.backend.fill_pattern(lba, 3);
    // READ(10) of 4 sectors into a flat buffer.
    c = r.run(0, read10(10, 4), DATA, 2048, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.host_status == 0u);
    BOOST_TEST(c.data_len == 2048u);
    BOOST_TEST(r.bytes(DATA + 512, 512) == MemoryBlockDevice::pattern(11, 3));
    // The same through a scatter-gather list of three uneven pieces.
    r.put64(SGL, DATA + 0x10000);
    r.put32(SGL + 8, 100);
    r.put32(SGL + 12, 0);
    r.put64(SGL + 16, DATA + 0x20000);
    r.put32(SGL + 24, 1000);
    r.put32(SGL + 28, 0);
    r.put64(SGL + 32, DATA + 0x30000);
    r.put32(SGL + 40, 4096); // more than needed: the list ends at dataLen
    r.put32(SGL + 44, 0);
    c = r.run(0, read10(10, 4), SGL, 2048, Pvscsi::FLAG_DIR_TOHOST | Pvscsi::FLAG_SG_LIST);
    BOOST_TEST(c.data_len == 2048u);
    std::vector<u8> joined = r.bytes(DATA + 0x10000, 100);
    auto b = r.bytes(DATA + 0x20000, 1000);
    joined.insert(joined.end(), b.begin(), b.end());
    b = r.bytes(DATA + 0x30000, 948);
    joined.insert(joined.end(), b.begin(), b.end());
    std::vector<u8> expect;
    for (u64 lba = 10; lba < 14; ++lba) {
        auto p = MemoryBlockDevice::pattern(lba, 3);
        expect.insert(expect.end(), p.begin(), p.end());
    }
    BOOST_TEST(joined == expect);

    // WRITE(10), WRITE(6), WRITE(16) land on the backend; READ(6)/(16) read back.
    std::vector<u8> data(1024);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<u8>(i * 7 + 1);
    BOOST_REQUIRE(r.memory->write_bytes(DATA, data));
    c = r.run(0, write10(100, 2), DATA, 1024, Pvscsi::FLAG_DIR_TODEVICE);
    BOOST_TEST(c.scsi_status == 0u);
    BOOST_TEST(r.backend.sector(101) == std::vector<u8>(data.begin() + 512, data.end()));
    c = r.run(0, {0x0A, 0, 0, 200, 1, 0}, DATA, 512, Pvscsi::FLAG_DIR_TODEVICE);
    BOOST_TEST(r.backend.sector(200) == std::vector<u8>(data.begin(), data.begin() + 512));
    c = r.run(0, {0x8A, 0, 0, 0, 0, 0, 0, 0, 1, 0x2C, 0, 0, 0, 1, 0, 0}, DATA + 512, 512,
              Pvscsi::FLAG_DIR_TODEVICE);
    BOOST_TEST(r.backend.sector(300) == std::vector<u8>(data.begin() + 512, data.end()));
    c = r.run(0, {0x08, 0, 0, 200, 1, 0}, DATA + 0x8000, 512, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(r.bytes(DATA + 0x8000, 512) == r.backend.sector(200));
    c = r.run(0, {0x88, 0, 0, 0, 0, 0, 0, 0, 1, 0x2C, 0, 0, 0, 1, 0, 0}, DATA + 0x9000, 512,
              Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(r.bytes(DATA + 0x9000, 512) == r.backend.sector(300));
    BOOST_TEST(r.disk.bytes_written() == 2048u);
    // SYNCHRONIZE CACHE flushes.
    unsigned flushes = r.backend.flushes();
    c = r.run(0, {0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, 0, Pvscsi::FLAG_DIR_NONE);
    BOOST_TEST(c.scsi_status == 0u);
    BOOST_TEST(r.backend.flushes() == flushes + 1);
}

BOOST_AUTO_TEST_CASE(errors_and_sense) {
    Rig r;
    // Past the end of the disk.
    auto c = r.run(0, read10(DISK_SECTORS - 1, 2), DATA, 1024, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.host_status == 0u);
    BOOST_TEST(c.scsi_status == scsi::STATUS_CHECK_CONDITION);
    BOOST_TEST(c.sense_len == 18u);
    auto sense = r.bytes(SENSE, 18);
    BOOST_TEST(sense[0] == 0x70);
    BOOST_TEST(sense[2] == scsi::SENSE_ILLEGAL_REQUEST);
    BOOST_TEST(sense[12] == 0x21);
    // REQUEST SENSE returns it once, then "no sense".
    c = r.run(0, {0x03, 0, 0, 0, 18, 0}, DATA, 18, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.data_len == 18u);
    BOOST_TEST(r.bytes(DATA, 18)[12] == 0x21);
    c = r.run(0, {0x03, 0, 0, 0, 18, 0}, DATA, 18, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(r.bytes(DATA, 18)[2] == 0);
    BOOST_TEST(r.bytes(DATA, 18)[12] == 0);
    // Unknown opcode.
    c = r.run(0, {0xC7, 0, 0, 0, 0, 0}, 0, 0, Pvscsi::FLAG_DIR_NONE);
    BOOST_TEST(c.scsi_status == scsi::STATUS_CHECK_CONDITION);
    BOOST_TEST(r.bytes(SENSE, 18)[12] == 0x20);
    // A buffer shorter than the transfer: data overrun, nothing moved.
    c = r.run(0, read10(0, 8), DATA, 512, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.host_status == Pvscsi::BTSTAT_DATARUN);
    // A backend failure is a medium error.
    r.backend.set_bad_from(1000);
    c = r.run(0, read10(1000, 1), DATA, 512, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.scsi_status == scsi::STATUS_CHECK_CONDITION);
    BOOST_TEST(r.bytes(SENSE, 18)[2] == scsi::SENSE_MEDIUM_ERROR);
    // A CDB longer than 16 bytes is refused by the adapter.
    c = r.run(0, std::vector<u8>(17, 0), 0, 0, Pvscsi::FLAG_DIR_NONE);
    BOOST_TEST(c.host_status == Pvscsi::BTSTAT_INVPARAM);
}

BOOST_AUTO_TEST_CASE(read_only_disk_refuses_writes) {
    Rig r;
    MemoryBlockDevice ro{64, 512, true};
    ScsiDisk disk{ro, "RO"};
    BOOST_REQUIRE(r.hba.attach(3, &disk));
    auto c = r.run(3, write10(0, 1), DATA, 512, Pvscsi::FLAG_DIR_TODEVICE);
    BOOST_TEST(c.scsi_status == scsi::STATUS_CHECK_CONDITION);
    BOOST_TEST(r.bytes(SENSE, 18)[2] == scsi::SENSE_DATA_PROTECT);
    // MODE SENSE(6) shows WP; (10) with page 3Fh holds both pages.
    c = r.run(3, {0x1A, 0, 0x3F, 0, 255, 0}, DATA, 255, Pvscsi::FLAG_DIR_TOHOST);
    auto ms = r.bytes(DATA, c.data_len);
    BOOST_TEST(c.data_len == 4u + 8u + 20u + 12u);
    BOOST_TEST(ms[0] == c.data_len - 1);
    BOOST_TEST(ms[2] == 0x80);
    BOOST_TEST(ms[12] == 0x08);
    BOOST_TEST(ms[32] == 0x0A);
    c = r.run(3, {0x5A, 0x08, 0x08, 0, 0, 0, 0, 0, 255, 0}, DATA, 255, Pvscsi::FLAG_DIR_TOHOST);
    ms = r.bytes(DATA, c.data_len);
    BOOST_TEST(c.data_len == 8u + 20u);
    BOOST_TEST(ms[8] == 0x08);
    BOOST_TEST((ms[10] & 0x04) != 0); // write cache enabled
    c = r.run(3, {0x1A, 0, 0x19, 0, 255, 0}, DATA, 255, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.scsi_status == scsi::STATUS_CHECK_CONDITION);
    // REPORT LUNS: LUN 0 only.
    c = r.run(3, {0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0}, DATA, 64, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.data_len == 16u);
    BOOST_TEST(r.bytes(DATA, 4)[3] == 8);
}

BOOST_AUTO_TEST_CASE(hostile_guest_input) {
    Rig r;
    // Data outside RAM: the adapter fails the request (host status).
    auto c = r.run(0, read10(0, 1), 0xFFFF'FFFF'F000ull, 512, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.host_status == Pvscsi::BTSTAT_HAHARDWARE);
    c = r.run(0, read10(0, 1), ~u64{0} - 10, 512, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.host_status == Pvscsi::BTSTAT_HAHARDWARE);
    // A scatter-gather list outside RAM, and one that chains onto itself.
    c = r.run(0, read10(0, 1), 0xFFFF'0000'0000ull, 512, Pvscsi::FLAG_DIR_TOHOST | Pvscsi::FLAG_SG_LIST);
    BOOST_TEST(c.host_status == Pvscsi::BTSTAT_INVPARAM);
    r.put64(SGL, SGL);
    r.put32(SGL + 8, 0);
    r.put32(SGL + 12, Pvscsi::SGE_FLAG_CHAIN);
    c = r.run(0, read10(0, 1), SGL, 512, Pvscsi::FLAG_DIR_TOHOST | Pvscsi::FLAG_SG_LIST);
    BOOST_TEST(c.host_status == Pvscsi::BTSTAT_INVPARAM);
    // Zero-length elements forever: bounded too.
    std::vector<u8> zeros(4096, 0);
    BOOST_REQUIRE(r.memory->write_bytes(SGL, zeros));
    c = r.run(0, read10(0, 1), SGL, 512, Pvscsi::FLAG_DIR_TOHOST | Pvscsi::FLAG_SG_LIST);
    BOOST_TEST(c.host_status == Pvscsi::BTSTAT_INVPARAM);
    // A huge dataLen on a small command: only what the command moves.
    c = r.run(0, {0x12, 0, 0, 0, 36, 0}, DATA, ~u64{0}, Pvscsi::FLAG_DIR_TOHOST);
    BOOST_TEST(c.data_len == 36u);

    // A producer index far ahead: one kick handles at most one ring.
    u64 before = r.hba.requests();
    r.put32(STATE, r.req_prod + 1'000'000);
    r.reg(Pvscsi::REG_KICK_RW_IO, 0);
    BOOST_TEST(r.hba.requests() - before <= 32u);

    // A full completion ring stops the kick until the guest consumes.
    Rig f;
    for (int i = 0; i < 32; ++i)
        f.queue(1, {0x00, 0, 0, 0, 0, 0}, 0, 0, Pvscsi::FLAG_DIR_NONE);
    f.put32(STATE + 16, f.cmp_cons - 128 + 5); // the guest consumed all but 123 slots
    f.reg(Pvscsi::REG_KICK_RW_IO, 0);
    BOOST_TEST(f.get32(STATE + 4) == 5u);
    f.put32(STATE + 16, f.cmp_cons);
    f.reg(Pvscsi::REG_KICK_RW_IO, 0);
    BOOST_TEST(f.get32(STATE + 4) == 32u);

    // No bus mastering: a kick does nothing.
    Rig n;
    n.cfg_write(0x04, pci::COMMAND_MEMORY);
    n.queue(0, {0x00, 0, 0, 0, 0, 0}, 0, 0, Pvscsi::FLAG_DIR_NONE);
    n.reg(Pvscsi::REG_KICK_RW_IO, 0);
    BOOST_TEST(n.get32(STATE + 12) == 0u);

    // Rings whose pages lie outside RAM.
    Rig o(false);
    std::vector<u32> words(Pvscsi::SETUP_RINGS_DWORDS, 0xFFFF'FFFF);
    words[0] = 32;
    words[1] = 32;
    words[2] = STATE >> 12;
    words[3] = 0;
    o.reg(Pvscsi::REG_COMMAND, Pvscsi::CMD_SETUP_RINGS);
    for (u32 w : words)
        o.reg(Pvscsi::REG_COMMAND_DATA, w);
    BOOST_TEST(o.hba.rings_ready());
    o.put32(STATE, 100);
    o.reg(Pvscsi::REG_KICK_RW_IO, 0);
    BOOST_TEST(o.hba.adapter_errors() > 0u);

    // Random register cycles (any width, any offset): survive.
    std::mt19937 rng(11);
    Width const widths[] = {Width::Byte, Width::Word, Width::Dword, Width::Dword};
    u32 const hot[] = {0x0, 0x4, 0x8, 0x100C, 0x2010, 0x3014, 0x4018};
    for (int i = 0; i < 20000; ++i) {
        u32 off = rng() % 4 ? hot[rng() % 7] : static_cast<u32>(rng() % Pvscsi::MEM_BYTES);
        Width w = widths[rng() % 4];
        u32 v = rng() % 3 ? rng() % 12 : static_cast<u32>(rng());
        if (rng() % 2)
            r.memory->write(BAR + off, w, v & width_mask(w));
        else
            (void)r.memory->read(BAR + off, w);
    }
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    Rig r;
    r.run(0, read10(1, 1), DATA, 512, Pvscsi::FLAG_DIR_TOHOST);
    r.run(0, read10(DISK_SECTORS, 1), DATA, 512, Pvscsi::FLAG_DIR_TOHOST); // leaves sense
    r.reg(Pvscsi::REG_INTR_MASK, 3);
    r.reg(Pvscsi::REG_COMMAND, Pvscsi::CMD_SETUP_RINGS);
    r.reg(Pvscsi::REG_COMMAND_DATA, 1); // a command half written
    Rig fresh(false);
    vsa::test::check_save_load_save(r.hba, fresh.hba);
    BOOST_TEST(fresh.hba.rings_ready());
    BOOST_TEST(fresh.disk.sense()[12] == 0x21);
    vsa::test::check_bad_streams_fail(r.hba, fresh.hba);
}

BOOST_AUTO_TEST_SUITE_END()
