// SPDX-License-Identifier: GPL-2.0-or-later
// Shared helpers of the device tests: an IRQ line that records what the
// device did with it, the save -> load -> save round trip every device must
// pass, and a deterministic random-register loop.
#pragma once

#include "hypervisor/io/device.h"
#include "hypervisor/io/irq.h"
#include "hypervisor/io/state_visitor.h"

#include <boost/test/unit_test.hpp>

#include <random>
#include <vector>

namespace vsa::test {

class FakeIrqLine final : public IrqLine {
public:
    void set_level(bool high) override {
        if (high && !m_level) ++m_rising_edges;
        m_level = high;
    }
    bool level() const { return m_level; }
    unsigned rising_edges() const { return m_rising_edges; }
    void clear_edges() { m_rising_edges = 0; }

private:
    bool m_level{false};
    unsigned m_rising_edges{0};
};

inline std::vector<u8> save_state(Device& device) {
    auto saver = StateVisitor::saver();
    device.visit_state(saver);
    BOOST_REQUIRE(saver.ok());
    return saver.bytes();
}

// Saves `device`, loads the bytes into `fresh` (a device built the same
// way), saves `fresh`, and checks the two streams are byte-identical.
inline void check_save_load_save(Device& device, Device& fresh) {
    auto first = save_state(device);
    auto loader = StateVisitor::loader(first);
    fresh.visit_state(loader);
    BOOST_REQUIRE_MESSAGE(loader.ok(), loader.error());
    BOOST_TEST(loader.at_end());
    fresh.post_load();
    auto second = save_state(fresh);
    BOOST_TEST(first == second);
}

// A truncated or corrupted stream must fail cleanly, never crash.
inline void check_bad_streams_fail(Device& device, Device& fresh) {
    auto good = save_state(device);
    for (std::size_t cut = 0; cut < good.size(); cut += 1 + good.size() / 64) {
        std::vector<u8> truncated(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
        auto loader = StateVisitor::loader(truncated);
        fresh.visit_state(loader);
        BOOST_TEST(!loader.ok());
    }
    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
        auto bad = good;
        bad[rng() % bad.size()] ^= static_cast<u8>(1u << (rng() % 8));
        auto loader = StateVisitor::loader(bad);
        fresh.visit_state(loader);
        if (loader.ok()) fresh.post_load(); // a flipped value bit can be a valid state
    }
}

// Random port cycles over [0, span) of a device's mapping: the device only
// has to survive (no crash, no sanitizer report).
inline void random_register_loop(Device& device, u16 span, unsigned iterations, u32 seed = 1) {
    std::mt19937 rng(seed);
    Width const widths[] = {Width::Byte, Width::Byte, Width::Byte, Width::Word, Width::Dword};
    for (unsigned i = 0; i < iterations; ++i) {
        u16 offset = static_cast<u16>(rng() % span);
        Width w = widths[rng() % 5];
        if (rng() % 2)
            device.io_write(offset, w, rng() & width_mask(w));
        else
            (void)device.io_read(offset, w);
    }
}

} // namespace vsa::test
