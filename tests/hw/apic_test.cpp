// SPDX-License-Identifier: GPL-2.0-or-later
// The local APIC (hw/local_apic.h) and the I/O APIC (hw/io_apic.h), driven through their MMIO registers on a
// manual clock: reset state and virtual wire (the 8259 through LINT0),
// global disable through IA32_APIC_BASE and relocation, priorities (TPR,
// PPR, ISR nesting), EOI and its broadcast, the timer (one-shot, periodic,
// divisors, current count), self-IPIs and destinations, illegal vectors in
// ESR, software disable masking the LVT; the I/O APIC's registers, edge and
// level inputs (remote IRR, EOI, re-delivery), masking, polarity, logical
// destinations, ExtINT; random registers, save/load/save and bad streams.
#include "hw/io_apic.h"
#include "hw/local_apic.h"

#include "hypervisor/io/clock.h"
#include "tests/hw/hw_test_support.h"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace vsa;

namespace {

// The 8259 behind LINT0: raises INTR on request, answers INTA with a vector.
class FakePic final : public InterruptController {
public:
    bool intr_pending() const override { return pending; }
    u8 acknowledge() override {
        ++acks;
        pending = false;
        return vector;
    }
    bool pending{false};
    u8 vector{0x08};
    unsigned acks{0};
};

constexpr PhysAddr BASE = LocalApic::DEFAULT_BASE;
constexpr PhysAddr IOBASE = IoApic::DEFAULT_BASE;

struct Rig {
    Rig() {
        BOOST_REQUIRE(memory->map_mmio(IOBASE, IoApic::MMIO_SIZE, ioapic));
        apic.set_eoi_listener([this](u8 v) {
            eois.push_back(v);
            ioapic.eoi(v);
        });
        apic.set_nmi_listener([this] { ++nmis; });
    }
    Clock clock{Clock::Mode::Manual};
    std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
    FakePic pic;
    test::FakeIrqLine intr;
    LocalApic apic{*memory, clock, pic, intr};
    IoApic ioapic{apic};
    std::vector<u8> eois;
    unsigned nmis{0};

    u32 rd(u32 reg) { return memory->read(BASE + reg, Width::Dword); }
    void wr(u32 reg, u32 v) { memory->write(BASE + reg, Width::Dword, v); }
    void enable() { wr(LocalApic::REG_SVR, 0x1FF); }
    u32 io_rd(u8 index) {
        memory->write(IOBASE + IoApic::REG_SELECT, Width::Byte, index);
        return memory->read(IOBASE + IoApic::REG_WINDOW, Width::Dword);
    }
    void io_wr(u8 index, u32 v) {
        memory->write(IOBASE + IoApic::REG_SELECT, Width::Byte, index);
        memory->write(IOBASE + IoApic::REG_WINDOW, Width::Dword, v);
    }
    // Redirection entry for `pin`: low dword then high.
    void route(unsigned pin, u32 low, u8 destination = 0) {
        io_wr(static_cast<u8>(0x11 + 2 * pin), u32(destination) << 24);
        io_wr(static_cast<u8>(0x10 + 2 * pin), low);
    }
    // What the CPU does at an instruction boundary with IF=1.
    int take() {
        if (!apic.intr_pending()) return -1;
        return apic.acknowledge();
    }
    void eoi() { wr(LocalApic::REG_EOI, 0); }
};

} // namespace

BOOST_AUTO_TEST_SUITE(apic)
BOOST_AUTO_TEST_SUITE(local_apic)

BOOST_AUTO_TEST_CASE(reset_state_is_a_p6_bsp_in_virtual_wire_mode) {
    Rig r;
    BOOST_TEST(r.apic.apic_base() == 0xFEE00900u);
    BOOST_TEST(r.rd(LocalApic::REG_ID) == 0u);
    BOOST_TEST(r.rd(LocalApic::REG_VERSION) == 0x00040011u);
    BOOST_TEST(r.rd(LocalApic::REG_SVR) == 0xFFu);
    BOOST_TEST(r.rd(LocalApic::REG_DFR) == 0xFFFFFFFFu);
    BOOST_TEST(r.rd(LocalApic::REG_LVT_TIMER) == LocalApic::LVT_MASKED);
    BOOST_TEST(r.rd(LocalApic::REG_LVT_LINT0) == 0x700u);
    BOOST_TEST(r.rd(LocalApic::REG_LVT_LINT1) == LocalApic::LVT_MASKED);
    BOOST_TEST(r.rd(LocalApic::REG_LVT_ERROR) == LocalApic::LVT_MASKED);
    // The 8259 reaches the CPU through LINT0 without any programming.
    r.pic.pending = true;
    r.apic.lint0().set_level(true);
    BOOST_TEST(r.intr.level());
    BOOST_TEST(r.take() == 0x08);
    BOOST_TEST(r.pic.acks == 1u);
    r.apic.lint0().set_level(false);
    BOOST_TEST(!r.intr.level());
}

BOOST_AUTO_TEST_CASE(masked_lint0_hides_the_8259_and_global_disable_bypasses_the_apic) {
    Rig r;
    r.enable();
    r.wr(LocalApic::REG_LVT_LINT0, 0x10700);
    r.pic.pending = true;
    r.apic.lint0().set_level(true);
    BOOST_TEST(!r.apic.intr_pending());
    // Globally disabled: the 8259 is the CPU's INTR, the page is gone.
    BOOST_TEST(r.apic.set_apic_base(0xFEE00000u));
    BOOST_TEST(r.apic.apic_base() == 0xFEE00100u); // the BSP bit stays
    BOOST_TEST(r.apic.intr_pending());
    BOOST_TEST(r.apic.acknowledge() == 0x08);
    BOOST_TEST(r.memory->read(BASE + LocalApic::REG_VERSION, Width::Dword) == 0xFFFFFFFFu);
    // Enabled again: registers from their reset state.
    BOOST_TEST(r.apic.set_apic_base(0xFEE00800u));
    BOOST_TEST(r.rd(LocalApic::REG_SVR) == 0xFFu);
    BOOST_TEST(r.rd(LocalApic::REG_LVT_LINT0) == 0x700u);
    // Reserved bits are refused (#GP in the CPU).
    BOOST_TEST(!r.apic.set_apic_base(0xFEE00801u));
    BOOST_TEST(!r.apic.set_apic_base(0x1'FEE00800ull));
}

BOOST_AUTO_TEST_CASE(the_register_page_moves_with_the_base) {
    Rig r;
    BOOST_TEST(r.apic.set_apic_base(0xFED00800u));
    BOOST_TEST(r.memory->read(0xFED00000u + LocalApic::REG_VERSION, Width::Dword) == 0x00040011u);
    BOOST_TEST(r.memory->read(BASE + LocalApic::REG_VERSION, Width::Dword) == 0xFFFFFFFFu);
}

BOOST_AUTO_TEST_CASE(fixed_interrupts_follow_priority_and_nest) {
    Rig r;
    // Software-disabled: accepted into IRR but not given to the CPU.
    r.apic.deliver(0x41, false);
    BOOST_TEST(r.apic.irr(0x41));
    BOOST_TEST(!r.apic.intr_pending());
    r.enable();
    BOOST_TEST(r.intr.level());
    // TPR at the same class blocks it; PPR follows TPR.
    r.wr(LocalApic::REG_TPR, 0x40);
    BOOST_TEST(!r.apic.intr_pending());
    BOOST_TEST(r.rd(LocalApic::REG_PPR) == 0x40u);
    r.wr(LocalApic::REG_TPR, 0x30);
    BOOST_TEST(r.take() == 0x41);
    BOOST_TEST(r.apic.isr(0x41));
    BOOST_TEST(r.rd(LocalApic::REG_PPR) == 0x40u);
    // Same class while in service: waits. Higher class: nests.
    r.apic.deliver(0x45, false);
    BOOST_TEST(!r.apic.intr_pending());
    r.apic.deliver(0x61, false);
    BOOST_TEST(r.take() == 0x61);
    BOOST_TEST(r.rd(LocalApic::REG_ISR + 0x30) == 0x2u); // bit 97 = 0x61
    r.eoi();
    BOOST_TEST(!r.apic.isr(0x61));
    BOOST_TEST(!r.apic.intr_pending()); // 0x45 still below 0x41's class
    r.eoi();
    BOOST_TEST(r.take() == 0x45);
    r.eoi();
    BOOST_TEST(!r.apic.intr_pending());
    // Edge-triggered EOIs are not broadcast.
    BOOST_TEST(r.eois.empty());
    // Withdrawn before INTA: the spurious vector, nothing in service.
    r.apic.deliver(0x50, false);
    BOOST_TEST(r.apic.intr_pending());
    r.wr(LocalApic::REG_TPR, 0xF0);
    BOOST_TEST(r.apic.acknowledge() == 0xFF);
    BOOST_TEST(!r.apic.isr(0xFF));
}

BOOST_AUTO_TEST_CASE(illegal_vectors_set_esr_and_raise_the_error_lvt) {
    Rig r;
    r.enable();
    r.wr(LocalApic::REG_LVT_ERROR, 0xFE);
    r.apic.deliver(0x05, false);
    BOOST_TEST(!r.apic.irr(0x05));
    BOOST_TEST(r.rd(LocalApic::REG_ESR) == 0u); // latched by the next write
    r.wr(LocalApic::REG_ESR, 0);
    BOOST_TEST(r.rd(LocalApic::REG_ESR) == 0x40u);
    BOOST_TEST(r.take() == 0xFE);
    r.eoi();
    // A self-IPI with an illegal vector: send error.
    r.wr(LocalApic::REG_ICR_LOW, 0x40003);
    r.wr(LocalApic::REG_ESR, 0);
    BOOST_TEST(r.rd(LocalApic::REG_ESR) == 0x20u);
    BOOST_TEST(r.take() == 0xFE);
    r.eoi();
    // An error vector that is itself illegal reports nothing more.
    r.wr(LocalApic::REG_LVT_ERROR, 0x02);
    r.apic.deliver(0x01, false);
    BOOST_TEST(!r.apic.intr_pending());
}

BOOST_AUTO_TEST_CASE(software_disable_masks_every_lvt) {
    Rig r;
    r.enable();
    r.wr(LocalApic::REG_LVT_TIMER, 0x30);
    r.wr(LocalApic::REG_SVR, 0xFF);
    BOOST_TEST(r.rd(LocalApic::REG_LVT_TIMER) == 0x10030u);
    BOOST_TEST(r.rd(LocalApic::REG_LVT_LINT0) == 0x10700u);
    r.wr(LocalApic::REG_LVT_TIMER, 0x30); // cannot be unmasked while disabled
    BOOST_TEST(r.rd(LocalApic::REG_LVT_TIMER) == 0x10030u);
}

BOOST_AUTO_TEST_CASE(one_shot_timer_counts_at_1_ghz_over_the_divisor) {
    Rig r;
    r.enable();
    r.wr(LocalApic::REG_TIMER_DIVIDE, 0x3); // divide by 16
    r.wr(LocalApic::REG_LVT_TIMER, 0xEF);
    r.wr(LocalApic::REG_TIMER_INITIAL, 1000);
    BOOST_TEST(r.rd(LocalApic::REG_TIMER_CURRENT) == 1000u);
    r.clock.advance(16 * 400);
    BOOST_TEST(r.rd(LocalApic::REG_TIMER_CURRENT) == 600u);
    BOOST_TEST(!r.apic.intr_pending());
    r.clock.advance(16 * 600 - 1);
    BOOST_TEST(!r.apic.intr_pending());
    r.clock.advance(1);
    BOOST_TEST(r.rd(LocalApic::REG_TIMER_CURRENT) == 0u);
    BOOST_TEST(r.take() == 0xEF);
    r.eoi();
    // One shot: nothing more.
    r.clock.advance(1'000'000);
    BOOST_TEST(!r.apic.intr_pending());
    BOOST_TEST(r.rd(LocalApic::REG_TIMER_CURRENT) == 0u);
    // Divide by 1 (111b) and a write of 0 stops it.
    r.wr(LocalApic::REG_TIMER_DIVIDE, 0xB);
    r.wr(LocalApic::REG_TIMER_INITIAL, 50);
    r.wr(LocalApic::REG_TIMER_INITIAL, 0);
    r.clock.advance(100);
    BOOST_TEST(!r.apic.intr_pending());
}

BOOST_AUTO_TEST_CASE(periodic_timer_reloads_and_a_masked_one_keeps_counting) {
    Rig r;
    r.enable();
    r.wr(LocalApic::REG_TIMER_DIVIDE, 0x0);                   // divide by 2
    r.wr(LocalApic::REG_LVT_TIMER, 0x20000 | 0x10000 | 0xEF); // periodic, masked
    r.wr(LocalApic::REG_TIMER_INITIAL, 500);                  // 1 us
    r.clock.advance(2500);
    BOOST_TEST(!r.apic.intr_pending());
    BOOST_TEST(r.rd(LocalApic::REG_TIMER_CURRENT) == 250u);
    r.wr(LocalApic::REG_LVT_TIMER, 0x20000 | 0xEF);
    unsigned ticks = 0;
    for (int i = 0; i < 10; ++i) {
        r.clock.advance(1000);
        if (r.take() == 0xEF) {
            ++ticks;
            r.eoi();
        }
    }
    BOOST_TEST(ticks == 10u);
}

BOOST_AUTO_TEST_CASE(periodic_ticks_are_owed_not_lost) {
    Rig r;
    r.enable();
    r.wr(LocalApic::REG_TIMER_DIVIDE, 0xB);   // divide by 1
    r.wr(LocalApic::REG_LVT_TIMER, 0x200EF);  // periodic
    r.wr(LocalApic::REG_TIMER_INITIAL, 1000); // 1 us
    // Interrupts off for five periods: one in IRR, four owed.
    r.clock.advance(5000);
    BOOST_TEST(r.apic.tick_backlog() == 4u);
    unsigned ticks = 0;
    while (r.take() == 0xEF) {
        ++ticks;
        r.eoi();
    }
    BOOST_TEST(ticks == 5u);
    BOOST_TEST(r.apic.tick_backlog() == 0u);
    // Bounded: a guest that never takes them gets MAX_TICK_BACKLOG late.
    r.clock.advance(1000 * 1000);
    BOOST_TEST(r.apic.tick_backlog() == LocalApic::MAX_TICK_BACKLOG);
    // A new initial count forgets them.
    r.wr(LocalApic::REG_TIMER_INITIAL, 1000);
    BOOST_TEST(r.apic.tick_backlog() == 0u);
}

BOOST_AUTO_TEST_CASE(self_ipis_and_destinations) {
    Rig r;
    r.enable();
    r.wr(LocalApic::REG_ICR_LOW, 0x40000 | 0xF6); // self shorthand, fixed
    BOOST_TEST(r.take() == 0xF6);
    r.eoi();
    r.wr(LocalApic::REG_ICR_LOW, 0xC0000 | 0xF7); // all excluding self
    BOOST_TEST(!r.apic.intr_pending());
    BOOST_TEST(r.apic.ignored_ipis() == 1u);
    // Physical destination 0 (our ID) and 1 (nobody).
    r.wr(LocalApic::REG_ICR_HIGH, 0x01000000);
    r.wr(LocalApic::REG_ICR_LOW, 0xF8);
    BOOST_TEST(!r.apic.intr_pending());
    r.wr(LocalApic::REG_ICR_HIGH, 0);
    r.wr(LocalApic::REG_ICR_LOW, 0xF8);
    BOOST_TEST(r.take() == 0xF8);
    r.eoi();
    // Logical flat: LDR bit 0.
    r.wr(LocalApic::REG_LDR, 0x01000000);
    BOOST_TEST(r.apic.matches_destination(0x01, true));
    BOOST_TEST(!r.apic.matches_destination(0x02, true));
    // Cluster model: cluster 0, member bit 0.
    r.wr(LocalApic::REG_DFR, 0x0FFFFFFF);
    BOOST_TEST(r.rd(LocalApic::REG_DFR) == 0x0FFFFFFFu);
    BOOST_TEST(r.apic.matches_destination(0x01, true));
    BOOST_TEST(!r.apic.matches_destination(0x11, true));
    // NMI IPI, INIT and SIPI (SeaBIOS's broadcast).
    r.wr(LocalApic::REG_ICR_LOW, 0x40400);
    BOOST_TEST(r.nmis == 1u);
    r.wr(LocalApic::REG_ICR_LOW, 0x000C4500);
    r.wr(LocalApic::REG_ICR_LOW, 0x000C4600 | 0x9F);
    BOOST_TEST(!r.apic.intr_pending());
    BOOST_TEST((r.rd(LocalApic::REG_ICR_LOW) & 0x1000) == 0u); // delivery status idle
}

BOOST_AUTO_TEST_CASE(lint0_fixed_mode_and_lint1_nmi) {
    Rig r;
    r.enable();
    r.wr(LocalApic::REG_LVT_LINT0, 0x31); // fixed, edge
    r.apic.lint0().set_level(true);
    BOOST_TEST(r.take() == 0x31);
    r.eoi();
    r.apic.lint0().set_level(false);
    r.wr(LocalApic::REG_LVT_LINT1, 0x400);
    r.apic.lint1().set_level(true);
    BOOST_TEST(r.nmis == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(io_apic)

BOOST_AUTO_TEST_CASE(registers_and_reset) {
    Rig r;
    BOOST_TEST(r.io_rd(0x01) == 0x00170011u);
    BOOST_TEST(r.io_rd(0x00) == 0u);
    r.io_wr(0x00, 0x0F000000u | 0xFF);
    BOOST_TEST(r.io_rd(0x00) == 0x0F000000u);
    BOOST_TEST(r.io_rd(0x02) == 0x0F000000u);
    for (unsigned pin = 0; pin < IoApic::PINS; ++pin)
        BOOST_TEST(r.io_rd(static_cast<u8>(0x10 + 2 * pin)) == 0x10000u);
    // Read-only bits stay clear; reserved bits read 0.
    r.io_wr(0x10, 0xFFFFFFFFu);
    BOOST_TEST(r.io_rd(0x10) == 0x1AFFFu);
    r.io_wr(0x11, 0xFFFFFFFFu);
    BOOST_TEST(r.io_rd(0x11) == 0xFF000000u);
    BOOST_TEST(r.io_rd(0x40) == 0u); // past the table
}

BOOST_AUTO_TEST_CASE(edge_inputs_deliver_once_per_edge_and_survive_a_mask) {
    Rig r;
    r.enable();
    r.route(2, 0x30); // the PIT: fixed, edge, physical 0
    r.ioapic.input(2).set_level(true);
    BOOST_TEST(r.take() == 0x30);
    r.eoi();
    BOOST_TEST(r.eois.empty());
    BOOST_TEST(!r.apic.intr_pending()); // held high: one edge, one message
    r.ioapic.input(2).set_level(false);
    // An edge while masked is sent at the unmask.
    r.route(2, 0x10030);
    r.ioapic.input(2).set_level(true);
    BOOST_TEST(!r.apic.intr_pending());
    r.route(2, 0x30);
    BOOST_TEST(r.take() == 0x30);
    r.eoi();
}

BOOST_AUTO_TEST_CASE(level_inputs_hold_remote_irr_until_eoi) {
    Rig r;
    r.enable();
    r.route(9, 0x8000 | 0x39); // the SCI: level, active high
    r.ioapic.input(9).set_level(true);
    BOOST_TEST((r.io_rd(0x10 + 18) & IoApic::ENTRY_REMOTE_IRR) != 0u);
    BOOST_TEST(r.take() == 0x39);
    BOOST_TEST(r.apic.tmr(0x39));
    // Still asserted at the EOI: sent again.
    r.eoi();
    BOOST_TEST(r.eois == std::vector<u8>{0x39});
    BOOST_TEST(r.take() == 0x39);
    // The device lets go before the EOI: no more.
    r.ioapic.input(9).set_level(false);
    r.eoi();
    BOOST_TEST((r.io_rd(0x10 + 18) & IoApic::ENTRY_REMOTE_IRR) == 0u);
    BOOST_TEST(!r.apic.intr_pending());
}

BOOST_AUTO_TEST_CASE(polarity_logical_destinations_and_extint) {
    Rig r;
    r.enable();
    // Active low: a low pin is asserted.
    r.route(11, 0x8000 | 0x2000 | 0x3B);
    BOOST_TEST(r.take() == 0x3B);
    r.ioapic.input(11).set_level(true); // deasserted
    r.eoi();
    BOOST_TEST(!r.apic.intr_pending());
    // Logical destination 0x02 misses LDR 0x01; 0x01 hits.
    r.wr(LocalApic::REG_LDR, 0x01000000);
    r.route(4, 0x800 | 0x34, 0x02);
    r.ioapic.input(4).set_level(true);
    BOOST_TEST(!r.apic.intr_pending());
    BOOST_TEST(r.ioapic.dropped_messages() == 1u);
    r.ioapic.input(4).set_level(false);
    r.route(4, 0x800 | 0x34, 0x01);
    r.ioapic.input(4).set_level(true);
    BOOST_TEST(r.take() == 0x34);
    r.eoi();
    // ExtINT: the 8259 answers the INTA.
    r.wr(LocalApic::REG_LVT_LINT0, 0x10700);
    r.pic.pending = true;
    r.pic.vector = 0x20;
    r.route(0, 0x700);
    r.ioapic.input(0).set_level(true);
    BOOST_TEST(r.take() == 0x20);
    BOOST_TEST(r.pic.acks == 1u);
}

BOOST_AUTO_TEST_CASE(random_registers_do_not_crash) {
    for (u32 seed = 1; seed <= 4; ++seed) {
        Rig r;
        std::mt19937 rng(seed);
        Width const widths[] = {Width::Byte, Width::Word, Width::Dword, Width::Dword};
        for (int i = 0; i < 6000; ++i) {
            Width w = widths[rng() % 4];
            bool io = rng() % 3 == 0;
            PhysAddr at = io ? IOBASE + rng() % 0x20 : BASE + rng() % 0x1000;
            if (rng() % 2)
                r.memory->write(at, w, rng() & width_mask(w));
            else
                (void)r.memory->read(at, w);
            if (rng() % 16 == 0) r.ioapic.input(rng() % 24).set_level(rng() % 2);
            if (rng() % 16 == 0) (void)r.take();
            if (rng() % 64 == 0) r.clock.advance(rng() % 10000);
            if (rng() % 512 == 0) (void)r.apic.set_apic_base(rng() % 2 ? 0xFEE00800u : 0xFEE00000u);
        }
    }
}

BOOST_AUTO_TEST_CASE(save_load_save_is_identical_and_bad_streams_fail) {
    Rig r;
    r.enable();
    r.wr(LocalApic::REG_TIMER_DIVIDE, 0x1);
    r.wr(LocalApic::REG_LVT_TIMER, 0x200EF);
    r.wr(LocalApic::REG_TIMER_INITIAL, 12345);
    r.wr(LocalApic::REG_LDR, 0x01000000);
    r.apic.deliver(0x41, true);
    (void)r.take();
    r.apic.deliver(0x52, false);
    r.route(9, 0x8039);
    r.ioapic.input(9).set_level(true);
    r.clock.advance(777);
    Rig fresh;
    fresh.clock.advance(777);
    test::check_save_load_save(r.apic, fresh.apic);
    test::check_save_load_save(r.ioapic, fresh.ioapic);
    // The restored timer runs on: same current count, same next tick.
    BOOST_TEST(fresh.rd(LocalApic::REG_TIMER_CURRENT) == r.rd(LocalApic::REG_TIMER_CURRENT));
    BOOST_TEST(fresh.apic.irr(0x52));
    BOOST_TEST(fresh.apic.isr(0x41));
    Rig other;
    test::check_bad_streams_fail(r.apic, other.apic);
    test::check_bad_streams_fail(r.ioapic, other.ioapic);
}

BOOST_AUTO_TEST_SUITE_END()
BOOST_AUTO_TEST_SUITE_END() // apic
