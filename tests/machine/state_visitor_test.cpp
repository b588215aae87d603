// SPDX-License-Identifier: GPL-2.0-or-later
// The save/load walk: round trip, versions, and hostile streams.
#include "hypervisor/io/state_visitor.h"

#include <boost/test/unit_test.hpp>

using namespace vsa;

namespace {
enum class Mode : u8 { A, B };
struct Sample {
    u8 a{1};
    u16 b{2};
    u32 c{3};
    u64 d{4};
    bool e{true};
    Mode m{Mode::B};
    std::array<u8, 4> arr{{9, 8, 7, 6}};
    std::vector<u8> fifo{1, 2, 3};
    std::deque<u8> queue{4, 5};
    u32 added_in_v2{77};

    void visit(StateVisitor& v, u32 version = 2) {
        v.section("sample", version);
        v.field("a", a);
        v.field("b", b);
        v.field("c", c);
        v.field("d", d);
        v.field("e", e);
        v.field("m", m);
        v.field("arr", arr);
        v.field("fifo", fifo, 16);
        v.field("queue", queue, 16);
        if (v.version() >= 2) v.field("added", added_in_v2);
    }
};
} // namespace

BOOST_AUTO_TEST_SUITE(state_visitor)

BOOST_AUTO_TEST_CASE(round_trip) {
    Sample s;
    s.a = 0x11;
    s.d = 0x1122334455667788;
    s.fifo = {7, 7, 7, 7, 7};
    auto saver = StateVisitor::saver();
    s.visit(saver);
    Sample t{};
    t.a = 0;
    t.fifo.clear();
    auto loader = StateVisitor::loader(saver.bytes());
    t.visit(loader);
    BOOST_REQUIRE_MESSAGE(loader.ok(), loader.error());
    BOOST_TEST(loader.at_end());
    BOOST_TEST(t.a == 0x11);
    BOOST_TEST(t.d == 0x1122334455667788u);
    BOOST_TEST(t.fifo == s.fifo);
    BOOST_TEST(t.queue == s.queue);
}

BOOST_AUTO_TEST_CASE(older_stream_loads_newer_is_refused) {
    Sample old;
    auto saver = StateVisitor::saver();
    old.visit(saver, 1);
    Sample t;
    t.added_in_v2 = 5;
    auto loader = StateVisitor::loader(saver.bytes());
    t.visit(loader, 2);
    BOOST_TEST(loader.ok());
    BOOST_TEST(t.added_in_v2 == 5u); // left alone: v1 has no such field

    auto newer = StateVisitor::saver();
    old.visit(newer, 3);
    auto refuse = StateVisitor::loader(newer.bytes());
    t.visit(refuse, 2);
    BOOST_TEST(!refuse.ok());
}

BOOST_AUTO_TEST_CASE(hostile_streams_fail_without_partial_garbage) {
    Sample s;
    auto saver = StateVisitor::saver();
    s.visit(saver);
    auto bytes = saver.bytes();
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        std::vector<u8> truncated(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
        Sample t;
        auto loader = StateVisitor::loader(truncated);
        t.visit(loader);
        BOOST_TEST(!loader.ok());
    }
    // A FIFO length beyond its limit.
    Sample big;
    big.fifo.assign(100, 1);
    auto oversized = StateVisitor::saver();
    big.visit(oversized);
    Sample t;
    auto loader = StateVisitor::loader(oversized.bytes());
    t.visit(loader);
    BOOST_TEST(!loader.ok());
    BOOST_TEST(t.fifo.size() == 3u);
    // Booleans must be 0 or 1.
    auto flipped = bytes;
    bool found = false;
    for (std::size_t i = 0; i + 1 < flipped.size(); ++i)
        if (flipped[i] == 'e' && flipped[i - 1] == 1 && flipped[i + 5] == 1) {
            flipped[i + 5] = 7;
            found = true;
            break;
        }
    BOOST_TEST(found);
    Sample u;
    auto bad_bool = StateVisitor::loader(flipped);
    u.visit(bad_bool);
    BOOST_TEST(!bad_bool.ok());
}

BOOST_AUTO_TEST_SUITE_END()
