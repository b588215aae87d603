// SPDX-License-Identifier: GPL-2.0-or-later
// The port bus: width checks, byte splitting, overlap refusal, open bus.
#include "hypervisor/io/io_bus.h"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace vsa;

namespace {
struct Recorder final : Device {
    struct Access {
        bool write;
        u16 offset;
        Width width;
        u32 value;
    };
    std::vector<Access> log;
    std::string_view name() const override { return "recorder"; }
    void reset() override {}
    u32 io_read(u16 offset, Width width) override {
        log.push_back({false, offset, width, 0});
        return 0x12345678u + offset;
    }
    void io_write(u16 offset, Width width, u32 value) override {
        log.push_back({true, offset, width, value});
    }
    void visit_state(StateVisitor&) override {}
};
} // namespace

BOOST_AUTO_TEST_SUITE(io_bus)

BOOST_AUTO_TEST_CASE(routes_with_relative_offsets) {
    IoBus bus;
    Recorder dev;
    BOOST_TEST(bus.map(0x60, 4, dev, WIDTH_ANY));
    BOOST_TEST(bus.read(0x62, Width::Byte) == ((0x12345678u + 2) & 0xFF));
    bus.write(0x61, Width::Word, 0xBEEF);
    BOOST_TEST(dev.log.back().offset == 1);
    BOOST_TEST(dev.log.back().value == 0xBEEFu);
}

BOOST_AUTO_TEST_CASE(offset_base_gives_absolute_ports) {
    IoBus bus;
    Recorder dev;
    BOOST_TEST(bus.map(0x3F6, 1, dev, WIDTH_8, 0x3F6));
    bus.write(0x3F6, Width::Byte, 4);
    BOOST_TEST(dev.log.back().offset == 0x3F6);
}

BOOST_AUTO_TEST_CASE(unmapped_reads_all_ones) {
    IoBus bus;
    BOOST_TEST(bus.read(0x1234, Width::Byte) == 0xFFu);
    BOOST_TEST(bus.read(0x1234, Width::Word) == 0xFFFFu);
    BOOST_TEST(bus.read(0x1234, Width::Dword) == 0xFFFF'FFFFu);
    bus.write(0x1234, Width::Byte, 1);
    BOOST_TEST(bus.unmapped_accesses() > 0u);
}

BOOST_AUTO_TEST_CASE(word_to_byte_device_is_split) {
    IoBus bus;
    Recorder dev;
    BOOST_TEST(bus.map(0x70, 2, dev, WIDTH_8));
    bus.write(0x70, Width::Word, 0xAB0F);
    BOOST_TEST_REQUIRE(dev.log.size() == 2u);
    BOOST_TEST(dev.log[0].offset == 0);
    BOOST_TEST(dev.log[0].value == 0x0Fu);
    BOOST_TEST(dev.log[1].offset == 1);
    BOOST_TEST(dev.log[1].value == 0xABu);
}

BOOST_AUTO_TEST_CASE(dword_only_range_rejects_bytes) {
    IoBus bus;
    Recorder dev;
    BOOST_TEST(bus.map(0xCF8, 4, dev, WIDTH_32));
    BOOST_TEST(bus.read(0xCF8, Width::Byte) == 0xFFu);
    BOOST_TEST(dev.log.empty());
}

BOOST_AUTO_TEST_CASE(overlap_is_refused_and_unmap_frees) {
    IoBus bus;
    Recorder a, b;
    BOOST_TEST(bus.map(0x100, 8, a));
    BOOST_TEST(!bus.map(0x104, 8, b));
    BOOST_TEST(!bus.map(0xFFFF, 2, b)); // past the end of the port space
    bus.unmap(0x100, a);
    BOOST_TEST(bus.map(0x104, 8, b));
    BOOST_TEST(bus.device_at(0x104) == &b);
    BOOST_TEST(bus.device_at(0x100) == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
