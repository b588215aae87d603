// SPDX-License-Identifier: GPL-2.0-or-later
// 82077AA floppy controller: reset polling, the register file, seek and
// recalibrate interrupts, READ DATA and WRITE DATA through DMA channel 2
// into a MemoryMap, FORMAT TRACK, the disk-change line, write protection,
// media/rate errors, saved state.
#include "hw/fdc82077.h"

#include "hw/dma8237.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/io_bus.h"
#include "tests/hw/hw_test_support.h"
#include "tests/hw/memory_block_device_support.h"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace vsa;
using test::MemoryBlockDevice;

namespace {

constexpr u64 SECTORS_144 = 2880;

struct Rig {
    Clock clock{Clock::Mode::Manual};
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(2 * MiB).release_value();
    Dma8237 dma{*memory};
    test::FakeIrqLine irq;
    Fdc82077 fdc{irq, dma};
    IoBus io;
    MemoryBlockDevice* disk{nullptr}; // owned by the drive

    explicit Rig(bool insert = true, bool read_only = false, bool protect = false,
                 u64 sectors = SECTORS_144) {
        BOOST_REQUIRE(dma.map_ports(io));
        BOOST_REQUIRE(fdc.map_ports(io));
        if (insert) {
            auto image = std::make_unique<MemoryBlockDevice>(sectors, 512, read_only);
            disk = image.get();
            for (u64 lba = 0; lba < 40; ++lba)
                disk->fill_pattern(lba);
            BOOST_REQUIRE(fdc.insert(0, std::move(image), "a.vfd", protect));
        }
    }

    void out(Port p, u8 v) { io.write(p, Width::Byte, v); }
    u8 in(Port p) { return static_cast<u8>(io.read(p, Width::Byte)); }
    u8 msr() { return in(0x3F4); }

    // Out of reset with DMA and IRQ enabled, motor A on, drive 0
    // selected; the four polling statuses taken.
    void bring_up() {
        out(0x3F2, 0x1C);
        out(0x3F7, 0x00); // 500 Kb/s, the 1.44M rate
        BOOST_REQUIRE(irq.level());
        for (unsigned i = 0; i < 4; ++i)
            sensei();
        BOOST_REQUIRE(!irq.level());
    }
    void command(std::vector<u8> const& bytes) {
        for (u8 b : bytes) {
            BOOST_REQUIRE_MESSAGE((msr() & 0xC0) == 0x80, "controller not ready for a command byte");
            out(0x3F5, b);
        }
    }
    std::vector<u8> result() {
        std::vector<u8> r;
        while ((msr() & 0xC0) == 0xC0)
            r.push_back(in(0x3F5));
        return r;
    }
    std::vector<u8> sensei() {
        command({0x08});
        return result();
    }
    // SeaBIOS's DMA setup for channel 2.
    void program_dma(u32 addr, u32 bytes, bool to_memory, bool unmask = true) {
        u16 count = static_cast<u16>(bytes - 1);
        out(0x0A, 0x06);
        out(0x0C, 0);
        out(0x04, static_cast<u8>(addr));
        out(0x04, static_cast<u8>(addr >> 8));
        out(0x0C, 0);
        out(0x05, static_cast<u8>(count));
        out(0x05, static_cast<u8>(count >> 8));
        out(0x0B, to_memory ? 0x46 : 0x4A);
        out(0x81, static_cast<u8>(addr >> 16));
        if (unmask) out(0x0A, 0x02);
    }
    std::vector<u8> ram(u32 addr, std::size_t n) { return {memory->ram() + addr, memory->ram() + addr + n}; }
};

u64 lba_of(unsigned c, unsigned h, unsigned s) {
    return (c * 2 + h) * 18 + (s - 1);
}

} // namespace

BOOST_AUTO_TEST_SUITE(fdc82077)

BOOST_AUTO_TEST_CASE(reset_polling_and_register_file) {
    Rig r;
    BOOST_TEST(r.msr() == 0u); // DOR bit 2 low after power-on: held in reset
    r.out(0x3F2, 0x0C);
    BOOST_TEST(r.irq.level());
    BOOST_TEST(r.msr() == 0x80u);
    for (u8 d = 0; d < 4; ++d)
        BOOST_TEST(r.sensei() == (std::vector<u8>{static_cast<u8>(0xC0 | d), 0}));
    BOOST_TEST(!r.irq.level());
    // Nothing pending: SENSE INTERRUPT STATUS is invalid.
    BOOST_TEST(r.sensei() == std::vector<u8>{0x80});
    BOOST_TEST(r.in(0x3F2) == 0x0Cu);
    r.out(0x3F3, 0xFF);
    BOOST_TEST(r.in(0x3F3) == 0x03u);
    BOOST_TEST(r.in(0x3F0) == 0xFFu);             // no PS/2 status registers in AT mode
    BOOST_TEST(r.io.device_at(0x3F6) == nullptr); // IDE's
    // A DSR software reset interrupts again.
    r.out(0x3F4, 0x80);
    BOOST_TEST(r.irq.level());
    r.sensei();
    BOOST_TEST(!r.irq.level());
    // The DOR gate masks the interrupt line, not the pending interrupt.
    r.out(0x3F2, 0x00);
    r.out(0x3F2, 0x04);
    BOOST_TEST(!r.irq.level());
    BOOST_TEST(r.fdc.irq_pending());
    r.out(0x3F2, 0x0C);
    BOOST_TEST(r.irq.level());
}

BOOST_AUTO_TEST_CASE(version_configure_dumpreg_lock) {
    Rig r;
    r.bring_up();
    r.command({0x10});
    BOOST_TEST(r.result() == std::vector<u8>{0x90});
    r.command({0x03, 0xAF, 0x02}); // SPECIFY
    BOOST_TEST(r.msr() == 0x80u);
    r.command({0x13, 0x00, 0x57, 0x05}); // CONFIGURE: EIS, FIFO on, polling off, threshold 7
    r.command({0x12, 0x80 | 0x0C});      // PERPENDICULAR: drives 0/1
    r.command({0x94});                   // LOCK
    BOOST_TEST(r.result() == std::vector<u8>{0x10});
    r.command({0x0E});
    BOOST_TEST(r.result() == (std::vector<u8>{0, 0, 0, 0, 0xAF, 0x02, 0, 0x80 | 0x0C, 0x57, 0x05}));
    // A software reset keeps the locked FIFO settings (FIFO on, threshold
    // 7), not EIS or polling off.
    r.out(0x3F4, 0x80);
    for (int i = 0; i < 4; ++i)
        r.sensei();
    r.command({0x0E});
    auto dump = r.result();
    BOOST_REQUIRE(dump.size() == 10u);
    BOOST_TEST(dump[8] == 0x07u);
    BOOST_TEST(dump[9] == 0x05u);
    r.command({0x14}); // UNLOCK
    BOOST_TEST(r.result() == std::vector<u8>{0x00});
    // Invalid: PART ID (an 82078 command), READ TRACK; one byte 80h, no IRQ.
    r.command({0x18});
    BOOST_TEST(r.result() == std::vector<u8>{0x80});
    r.command({0x42});
    BOOST_TEST(r.result() == std::vector<u8>{0x80});
    BOOST_TEST(!r.irq.level());
}

BOOST_AUTO_TEST_CASE(seek_and_recalibrate_interrupt) {
    Rig r;
    r.bring_up();
    r.command({0x0F, 0x00, 10});
    BOOST_TEST(r.irq.level());
    BOOST_TEST((r.msr() & 0x01) != 0); // drive 0 busy until sensed
    r.command({0x10});                 // another command's result leaves it pending
    r.result();
    BOOST_TEST(r.irq.level());
    BOOST_TEST(r.sensei() == (std::vector<u8>{0x20, 10}));
    BOOST_TEST(!r.irq.level());
    BOOST_TEST((r.msr() & 0x01) == 0);
    r.command({0x04, 0x00});
    BOOST_TEST(r.result() == std::vector<u8>{0x28}); // RDY, two-sided, not track 0
    // Relative seek in by 5, out by 20 (stops at 0).
    r.command({0xCF, 0x00, 5});
    BOOST_TEST(r.sensei() == (std::vector<u8>{0x20, 15}));
    r.command({0x8F, 0x04, 20});
    BOOST_TEST(r.sensei() == (std::vector<u8>{0x24, 0}));
    r.command({0x0F, 0x00, 30});
    r.sensei();
    r.command({0x07, 0x00});
    BOOST_TEST(r.irq.level());
    BOOST_TEST(r.sensei() == (std::vector<u8>{0x20, 0}));
    r.command({0x04, 0x00});
    BOOST_TEST(r.result() == std::vector<u8>{0x38});
    // Drive 2 does not exist: equipment check.
    r.command({0x07, 0x02});
    BOOST_TEST(r.sensei() == (std::vector<u8>{0x72, 0}));
}

BOOST_AUTO_TEST_CASE(read_data_by_dma_multi_track) {
    Rig r;
    r.bring_up();
    // C0 H0 R18, EOT 18, MT: sector 18 of head 0, then sector 1 of head 1.
    r.program_dma(0x1'0000, 1024, true);
    r.command({0xE6, 0x00, 0, 0, 18, 2, 18, 0x1B, 0xFF});
    BOOST_TEST(r.irq.level());
    BOOST_TEST(r.ram(0x1'0000, 512) == MemoryBlockDevice::pattern(lba_of(0, 0, 18)));
    BOOST_TEST(r.ram(0x1'0200, 512) == MemoryBlockDevice::pattern(lba_of(0, 1, 1)));
    // Normal termination at TC; the next sector's ID.
    BOOST_TEST(r.result() == (std::vector<u8>{0x04, 0, 0, 0, 1, 2, 2}));
    BOOST_TEST(!r.irq.level());
    BOOST_TEST(r.dma.tc_status(2));
    // A read on cylinder 1 seeks there implicitly.
    r.program_dma(0x2'0000, 512, true);
    r.command({0x46, 0x00, 1, 0, 3, 2, 3, 0x1B, 0xFF});
    BOOST_TEST(r.result() == (std::vector<u8>{0x00, 0, 0, 2, 0, 1, 2}));
    BOOST_TEST(r.fdc.cylinder(0) == 1u);
    BOOST_TEST(r.ram(0x2'0000, 512) == MemoryBlockDevice::pattern(lba_of(1, 0, 3)));
}

BOOST_AUTO_TEST_CASE(read_past_eot_without_tc_ends_the_cylinder) {
    Rig r;
    r.bring_up();
    r.program_dma(0x1'0000, 4096, true);
    r.command({0x46, 0x00, 0, 0, 17, 2, 18, 0x1B, 0xFF});
    auto res = r.result();
    BOOST_REQUIRE(res.size() == 7u);
    BOOST_TEST(res[0] == 0x40u);
    BOOST_TEST(res[1] == 0x80u); // EN
    BOOST_TEST(res[3] == 1u);
    BOOST_TEST(res[5] == 1u);
    BOOST_TEST(r.ram(0x1'0200, 512) == MemoryBlockDevice::pattern(lba_of(0, 0, 18)));
}

BOOST_AUTO_TEST_CASE(write_data_back_to_the_image) {
    Rig r;
    r.bring_up();
    for (u32 i = 0; i < 1024; ++i)
        r.memory->ram()[0x3'0000 + i] = static_cast<u8>(i ^ 0x5A);
    r.program_dma(0x3'0000, 1024, false);
    r.command({0xC5, 0x04, 2, 1, 5, 2, 6, 0x1B, 0xFF});
    // Past EOT on head 1 with MT: the next cylinder, head 0.
    BOOST_TEST(r.result() == (std::vector<u8>{0x04, 0, 0, 3, 0, 1, 2}));
    BOOST_TEST(r.disk->sector(lba_of(2, 1, 5)) == r.ram(0x3'0000, 512));
    BOOST_TEST(r.disk->sector(lba_of(2, 1, 6)) == r.ram(0x3'0200, 512));
    BOOST_TEST(r.disk->writes() >= 2u);
}

BOOST_AUTO_TEST_CASE(write_protect_is_an_error) {
    for (bool read_only : {true, false}) {
        Rig r(true, read_only, !read_only);
        r.bring_up();
        BOOST_TEST(r.fdc.write_protected(0));
        r.command({0x04, 0x00});
        BOOST_TEST((r.result()[0] & 0x40) != 0); // ST3 WP
        r.program_dma(0x3'0000, 512, false);
        r.command({0xC5, 0x00, 0, 0, 1, 2, 1, 0x1B, 0xFF});
        auto res = r.result();
        BOOST_REQUIRE(res.size() == 7u);
        BOOST_TEST(res[0] == 0x40u);
        BOOST_TEST(res[1] == 0x02u); // NW
        BOOST_TEST(r.disk->writes() == 0u);
        r.program_dma(0x3'0000, 72, false);
        r.command({0x4D, 0x00, 2, 18, 0x6C, 0xF6}); // FORMAT
        BOOST_TEST(r.result()[1] == 0x02u);
    }
}

BOOST_AUTO_TEST_CASE(disk_change_line) {
    Rig r;
    r.bring_up();
    BOOST_TEST((r.in(0x3F7) & 0x80) != 0); // inserted: changed
    r.command({0x0F, 0x00, 1});            // a step pulse with a disk in clears it
    r.sensei();
    BOOST_TEST((r.in(0x3F7) & 0x80) == 0);
    BOOST_TEST(r.fdc.eject(0));
    BOOST_TEST((r.in(0x3F7) & 0x80) != 0);
    r.command({0x0F, 0x00, 0}); // no disk: the line stays
    r.sensei();
    BOOST_TEST((r.in(0x3F7) & 0x80) != 0);
    r.command({0x04, 0x00});
    BOOST_TEST((r.result()[0] & 0x40) != 0); // no disk reads as protected
    // Drive 1 has no disk, and its line is its own.
    r.out(0x3F2, 0x1D);
    BOOST_TEST((r.in(0x3F7) & 0x80) != 0);
    r.out(0x3F2, 0x1C);
    auto image = std::make_unique<MemoryBlockDevice>(SECTORS_144);
    BOOST_TEST(r.fdc.insert(0, std::move(image), "b.vfd", false));
    BOOST_TEST((r.in(0x3F7) & 0x80) != 0);
    r.command({0x0F, 0x00, 5});
    r.sensei();
    BOOST_TEST((r.in(0x3F7) & 0x80) == 0);
    // Sizes that are no floppy format are refused.
    BOOST_TEST(!r.fdc.insert(0, std::make_unique<MemoryBlockDevice>(1000), "c.img", false));
    BOOST_TEST(r.fdc.media_path(0) == "b.vfd");
}

BOOST_AUTO_TEST_CASE(media_and_rate_errors) {
    Rig r;
    r.bring_up();
    // READ ID at 250 Kb/s finds nothing on 1.44M media.
    r.out(0x3F7, 0x02);
    r.command({0x4A, 0x00});
    auto res = r.result();
    BOOST_TEST(res[0] == 0x40u);
    BOOST_TEST(res[1] == 0x01u); // MA
    r.out(0x3F7, 0x00);          // CCR: 500 Kb/s
    r.command({0x4A, 0x04});
    res = r.result();
    BOOST_TEST(res[0] == 0x04u);
    BOOST_TEST(res[4] == 1u);
    BOOST_TEST(res[6] == 2u);
    // FM mode: no address marks.
    r.program_dma(0x1'0000, 512, true);
    r.command({0x06, 0x00, 0, 0, 1, 2, 1, 0x1B, 0xFF});
    BOOST_TEST(r.result()[1] == 0x01u);
    // A sector past the track's end: no data.
    r.program_dma(0x1'0000, 512, true);
    r.command({0x46, 0x00, 0, 0, 19, 2, 19, 0x1B, 0xFF});
    BOOST_TEST(r.result()[1] == 0x04u);
    // A failing host read is a CRC error, not a crash.
    r.disk->set_bad_from(lba_of(0, 0, 3));
    r.program_dma(0x1'0000, 1024, true);
    r.command({0x46, 0x00, 0, 0, 2, 2, 18, 0x1B, 0xFF});
    res = r.result();
    BOOST_TEST(res[0] == 0x40u);
    BOOST_TEST(res[1] == 0x20u);
    BOOST_TEST(res[2] == 0x20u);
    BOOST_TEST(r.ram(0x1'0000, 512) == MemoryBlockDevice::pattern(lba_of(0, 0, 2)));
    // No media at all.
    Rig empty(false);
    empty.bring_up();
    empty.out(0x3F7, 0x00);
    empty.command({0x4A, 0x00});
    BOOST_TEST(empty.result()[1] == 0x01u);
}

BOOST_AUTO_TEST_CASE(transfer_waits_for_the_dma_channel) {
    Rig r;
    r.bring_up();
    r.out(0x3F7, 0x00);
    r.program_dma(0x4'0000, 512, true, false); // left masked
    r.command({0x46, 0x00, 0, 0, 1, 2, 1, 0x1B, 0xFF});
    BOOST_TEST(r.msr() == 0x10u); // execution phase, busy
    BOOST_TEST(!r.irq.level());
    r.out(0x0A, 0x02);
    BOOST_TEST(r.irq.level());
    BOOST_TEST(r.result()[0] == 0x00u);
    BOOST_TEST(r.ram(0x4'0000, 512) == MemoryBlockDevice::pattern(0));
}

BOOST_AUTO_TEST_CASE(format_track) {
    Rig r;
    r.bring_up();
    r.out(0x3F7, 0x00);
    r.command({0x0F, 0x00, 3});
    r.sensei();
    std::vector<u8> ids;
    for (u8 s = 1; s <= 18; ++s)
        ids.insert(ids.end(), {3, 1, s, 2});
    std::copy(ids.begin(), ids.end(), r.memory->ram() + 0x5'0000);
    r.program_dma(0x5'0000, static_cast<u32>(ids.size()), false);
    r.command({0x4D, 0x04, 2, 18, 0x6C, 0xF6});
    auto res = r.result();
    BOOST_REQUIRE(res.size() == 7u);
    BOOST_TEST(res[0] == 0x04u);
    BOOST_TEST(r.disk->sector(lba_of(3, 1, 1)) == std::vector<u8>(512, 0xF6));
    BOOST_TEST(r.disk->sector(lba_of(3, 1, 18)) == std::vector<u8>(512, 0xF6));
    BOOST_TEST(r.disk->sector(lba_of(3, 0, 1)) == std::vector<u8>(512, 0));
}

BOOST_AUTO_TEST_CASE(geometry_table) {
    BOOST_TEST(Fdc82077::geometry_for_size(1'474'560).sectors == 18u);
    BOOST_TEST(Fdc82077::geometry_for_size(737'280).cmos_type == 3u);
    BOOST_TEST(Fdc82077::geometry_for_size(2'949'120).cmos_type == 5u);
    BOOST_TEST(Fdc82077::geometry_for_size(368'640).cylinders == 40u);
    BOOST_TEST(Fdc82077::geometry_for_size(12345).cylinders == 0u);
}

BOOST_AUTO_TEST_CASE(random_registers) {
    Rig r;
    r.bring_up();
    r.program_dma(0x1'0000, 0x8000, true);
    test::random_register_loop(r.fdc, 8, 50000, 3);
    test::random_register_loop(r.dma, 0x10, 5000, 4);
    test::random_register_loop(r.fdc, 8, 50000, 5);
    BOOST_TEST(r.fdc.ignored_accesses() > 0u);
}

BOOST_AUTO_TEST_CASE(save_load_save) {
    Rig a, b;
    a.bring_up();
    a.out(0x3F7, 0x00);
    a.command({0x0F, 0x00, 7});
    a.sensei();
    a.command({0x03, 0xAF, 0x02});
    // A read waiting for a masked channel: the execution phase is saved.
    a.program_dma(0x1'0000, 512, true, false);
    a.command({0x46, 0x00, 1, 0, 4, 2, 4, 0x1B, 0xFF});
    test::check_save_load_save(a.fdc, b.fdc);
    test::check_save_load_save(a.dma, b.dma);
    BOOST_TEST(b.msr() == 0x10u);
    b.out(0x0A, 0x02);
    BOOST_TEST(b.result() == (std::vector<u8>{0x00, 0, 0, 2, 0, 1, 2}));
    BOOST_TEST(b.ram(0x1'0000, 512) == MemoryBlockDevice::pattern(lba_of(1, 0, 4)));
    // A half-sent command and a half-read result survive too.
    a.out(0x0A, 0x02);
    a.result();
    a.command({0x0F, 0x00});
    test::check_save_load_save(a.fdc, b.fdc);
    b.out(0x3F5, 9);
    BOOST_TEST(b.sensei() == (std::vector<u8>{0x20, 9}));
}

BOOST_AUTO_TEST_CASE(media_mismatch_is_refused) {
    Rig a, empty(false), protect(true, false, true);
    auto saved = test::save_state(a.fdc);
    for (Rig* other : {&empty, &protect}) {
        auto loader = StateVisitor::loader(saved);
        other->fdc.visit_state(loader);
        BOOST_TEST(!loader.ok());
        BOOST_TEST(loader.error().find("a.vfd") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(bad_streams_fail) {
    Rig a, b;
    a.bring_up();
    a.command({0x0F, 0x00, 3});
    test::check_bad_streams_fail(a.fdc, b.fdc);
}

BOOST_AUTO_TEST_SUITE_END()
