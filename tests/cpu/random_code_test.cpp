// SPDX-License-Identifier: GPL-2.0-or-later
// Random bytes executed as code, in real mode and in flat 32-bit protected
// mode, with random registers: the interpreter only has to survive (no
// crash, no sanitizer report, every run() returns). Guest input can never
// take the host down, whatever it is.
#include "tests/cpu/cpu_test_support.h"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <random>

namespace vsa::test {

BOOST_AUTO_TEST_SUITE(random_code)

BOOST_AUTO_TEST_CASE(random_bytes_in_both_modes) {
    std::mt19937 rng(2024);
    TestMachine m(4 * MiB);
    unsigned exits[8] = {};
    for (unsigned round = 0; round < 200; ++round) {
        bool pm = round % 2 == 1;
        if (pm)
            m.enter_flat32();
        else
            m.cpu->reset();
        // Random code and data in the first 64 KiB (IVT and IDT included).
        u8* ram = m.memory->ram();
        for (u32 i = 0; i < 0x10000; i += 4) {
            u32 v = rng();
            std::memcpy(ram + i, &v, 4);
        }
        if (pm) {
            // Keep the gates valid half of the time.
            if (rng() % 2) m.enter_flat32();
        } else {
            m.cpu->set_segment_real(SEG_CS, static_cast<u16>(rng() % 0x1000));
            m.cpu->set_segment_real(SEG_DS, static_cast<u16>(rng()));
            m.cpu->set_segment_real(SEG_SS, static_cast<u16>(rng() % 0x1000));
        }
        for (unsigned r = 0; r < 8; ++r)
            m.cpu->set_reg32(r, rng());
        m.cpu->set_eip(pm ? (rng() % 0xF000) : (rng() % 0x10000));
        m.cpu->set_eflags(rng() & ~FLAG_TF);
        m.cpu->set_halted(false);
        if (rng() % 4 == 0) m.interrupts.pending.push_back(static_cast<u8>(rng()));
        for (int slice = 0; slice < 3; ++slice) {
            CpuExit exit = m.cpu->run(m.clock.now() + 3000);
            ++exits[static_cast<unsigned>(exit.reason) & 7];
            if (exit.reason == ExitReason::Shutdown) break;
            m.cpu->set_halted(false);
        }
        m.interrupts.pending.clear();
    }
    BOOST_TEST_MESSAGE("exits: deadline " << exits[0] << ", halted " << exits[1] << ", shutdown "
                                          << exits[2]);
    BOOST_TEST(exits[0] + exits[1] + exits[2] > 0u);
}

BOOST_AUTO_TEST_SUITE_END()

} // namespace vsa::test
