// SPDX-License-Identifier: GPL-2.0-or-later
// LocalApic: the processor's local APIC (xAPIC as on P6-family parts),
// memory-mapped at IA32_APIC_BASE (0xFEE00000 from reset). Reference:
// Intel SDM vol. 3A chapter 10 ("Advanced Programmable Interrupt
// Controller"): 10.4 (enabling, IA32_APIC_BASE), 10.5 (LVT, timer, error
// handling), 10.6 (ICR, destination modes), 10.8 (IRR/ISR/TMR, TPR/PPR,
// EOI), 10.9 (spurious vector).
//
// Why it exists: Linux (and every SMP-era OS) takes its clock interrupts
// from the local APIC timer and routes device interrupts through the I/O
// APIC (io_apic.h) when the CPU advertises an APIC and the firmware tables
// (SeaBIOS's MP table and ACPI MADT) describe one. A PC without them runs
// such guests in the legacy 8259 mode only.
//
// Where it sits: between the interrupt sources and the CPU core. The CPU
// asks it, as its InterruptController, whether INTR is pending and for the
// vector; it answers for its own IRR (I/O APIC messages, the timer,
// self-IPIs) and, through LINT0 in ExtINT mode ("virtual wire"), for the
// 8259 pair (`external`), whose INTA cycle it passes on. While the APIC is
// globally disabled (IA32_APIC_BASE bit 11 clear) the CPU sees the 8259
// directly, as a P6 with its APIC off does. At reset LINT0 of the
// bootstrap processor is ExtINT and unmasked, as QEMU's model has it and a
// BIOS leaves it: so the 8259 reaches the CPU whether or not anything ever
// programs the APIC (SeaBIOS programs it the same way, level-triggered).
//
// What it does:
//   - Registers: ID, version (0x00040011: integrated APIC, 5 LVT entries as
//     on a P6: timer, LINT0, LINT1, error, performance counter), TPR, APR,
//     PPR, EOI, LDR, DFR, SVR, ISR/TMR/IRR (256 bits each), ESR, ICR, the
//     LVT, timer initial/current count and divide configuration. Accesses
//     are 32-bit at 16-byte aligned offsets; other widths or offsets are
//     counted and ignored (reads 0). Reserved bits read 0.
//   - Interrupt acceptance and priority: a fixed interrupt is taken when
//     the APIC is software-enabled (SVR bit 8) and the class of the highest
//     IRR vector is above the processor priority (max of TPR and the
//     highest in-service class). EOI retires the highest ISR bit; for a
//     level-triggered vector (TMR) it is broadcast to the I/O APIC
//     (set_eoi_listener). Vectors 0-15 are illegal: dropped with
//     ESR "received illegal vector" (an ICR send of one: "send illegal
//     vector").
//   - Timer: one-shot and periodic modes counting at 1 GHz / divisor
//     (1, 2, ..., 128), on the machine's Clock. In periodic mode a tick is
//     not lost when the last one is still waiting in IRR (an interpreted
//     CPU can run with interrupts off for longer than a period) or when
//     the host fired the timer late: up to MAX_TICK_BACKLOG such ticks are
//     counted and given one by one, each as the previous one is taken
//     (INTA), as the machine does for the PIT (pc_machine.cpp). Without
//     that Linux's jiffies fall behind its TSC during boot, and its
//     clocksource watchdog declares the TSC unstable. 1 GHz is the crystal clock
//     CPUID leaf 15h reports (exec_p6.cpp), which Linux takes as the APIC
//     timer's clock instead of calibrating it. TSC-deadline mode is not
//     offered (CPUID.1:ECX.TSC_DEADLINE is clear); a write of mode 10b
//     behaves as one-shot. The current count is computed from the clock,
//     not stored.
//   - ICR: one processor, so an IPI reaches this APIC or nobody: shorthand
//     self and all-including-self, or a destination that matches our
//     physical ID (or 0xFF), or our logical ID in the flat or cluster
//     model. Fixed and lowest-priority IPIs set IRR (Linux's irq_work and
//     reschedule self-IPIs), NMI IPIs go to the `nmi` callback; INIT,
//     STARTUP and SMI have no other processor to go to and are dropped
//     (SeaBIOS broadcasts INIT/SIPI to count processors; with
//     all-excluding-self it finds none, as fw_cfg said). The delivery
//     status bit always reads idle.
//   - LINT0: ExtINT passes the 8259's INTR; fixed mode turns a rising INTR
//     into the LVT's vector (Linux's check_timer fallback). LINT1 NMI mode
//     forwards a rising edge to `nmi` (nothing on this board drives it).
//   - Error LVT: raised when an error bit becomes set and it is unmasked.
//   - IA32_APIC_BASE (ApicBaseMsr): BSP flag (bit 8, read-only), global
//     enable (bit 11), base (bits 35:12). Moving the base remaps the page;
//     a value with reserved bits set is refused (the CPU raises #GP).
//     Clearing the enable bit resets the APIC's registers as the SDM
//     describes; setting it again starts from that state.
//
// Not modelled: x2APIC (not advertised), the thermal LVT (not on P6),
// arbitration between processors (there is one), focus processor checks,
// the remote read register (reads 0, status "invalid").
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/device.h"
#include "hypervisor/io/irq.h"
#include "hypervisor/io/memory_map.h"

#include <array>
#include <functional>
#include <string_view>

namespace vsa {

class LocalApic final : public Device, public InterruptController, public ApicBaseMsr {
public:
    static constexpr PhysAddr DEFAULT_BASE = 0xFEE0'0000;
    static constexpr u64 MMIO_SIZE = 4096;
    static constexpr u32 VERSION = 0x0004'0011;

    // Register offsets (SDM vol. 3A table 10-1).
    static constexpr u32 REG_ID = 0x020;
    static constexpr u32 REG_VERSION = 0x030;
    static constexpr u32 REG_TPR = 0x080;
    static constexpr u32 REG_APR = 0x090;
    static constexpr u32 REG_PPR = 0x0A0;
    static constexpr u32 REG_EOI = 0x0B0;
    static constexpr u32 REG_RRD = 0x0C0;
    static constexpr u32 REG_LDR = 0x0D0;
    static constexpr u32 REG_DFR = 0x0E0;
    static constexpr u32 REG_SVR = 0x0F0;
    static constexpr u32 REG_ISR = 0x100;
    static constexpr u32 REG_TMR = 0x180;
    static constexpr u32 REG_IRR = 0x200;
    static constexpr u32 REG_ESR = 0x280;
    static constexpr u32 REG_ICR_LOW = 0x300;
    static constexpr u32 REG_ICR_HIGH = 0x310;
    static constexpr u32 REG_LVT_TIMER = 0x320;
    static constexpr u32 REG_LVT_PERF = 0x340;
    static constexpr u32 REG_LVT_LINT0 = 0x350;
    static constexpr u32 REG_LVT_LINT1 = 0x360;
    static constexpr u32 REG_LVT_ERROR = 0x370;
    static constexpr u32 REG_TIMER_INITIAL = 0x380;
    static constexpr u32 REG_TIMER_CURRENT = 0x390;
    static constexpr u32 REG_TIMER_DIVIDE = 0x3E0;

    static constexpr u32 LVT_MASKED = 1u << 16;
    static constexpr u32 SVR_ENABLE = 1u << 8;
    static constexpr u64 BASE_BSP = 1u << 8;
    static constexpr u64 BASE_ENABLE = 1u << 11;
    static constexpr u32 MAX_TICK_BACKLOG = 50; // 200 ms at Linux's 250 Hz

    // `memory` is where the register page is mapped (and remapped when the
    // guest moves it); `external` is the 8259 pair behind LINT0; `intr` is
    // the CPU's INTR input (the machine wakes a halted CPU on it).
    LocalApic(MemoryMap& memory, Clock& clock, InterruptController& external, IrqLine& intr);
    ~LocalApic() override;
    LocalApic(LocalApic const&) = delete;
    LocalApic& operator=(LocalApic const&) = delete;

    std::string_view name() const override { return "local-apic"; }
    void reset() override;
    u32 mmio_read(u64 offset, Width width) override;
    void mmio_write(u64 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;
    void post_load() override;

    // InterruptController (the CPU's view).
    bool intr_pending() const override;
    u8 acknowledge() override;

    // ApicBaseMsr (the CPU's IA32_APIC_BASE).
    u64 apic_base() const override { return m_base_msr; }
    bool set_apic_base(u64 value) override;

    // The 8259's INTR output: wire it to lint0().
    IrqLine& lint0() { return m_lint0; }
    IrqLine& lint1() { return m_lint1; }

    // An interrupt message from the I/O APIC: a fixed/lowest-priority
    // vector (level-triggered ones are remembered in TMR for the EOI
    // broadcast), or an ExtINT request that the 8259 answers.
    void deliver(u8 vector, bool level_triggered);
    void deliver_extint();
    // Does a message with this destination (physical or logical) reach us?
    bool matches_destination(u8 destination, bool logical) const;

    // EOI of a level-triggered vector (to the I/O APIC).
    void set_eoi_listener(std::function<void(u8 vector)> listener) { m_eoi_listener = std::move(listener); }
    // Every INTA cycle that returned an APIC vector (the machine's tick
    // backlog for the PIT through the I/O APIC).
    void set_ack_listener(std::function<void(u8 vector)> listener) { m_ack_listener = std::move(listener); }
    // NMI messages (ICR, LINT1 in NMI mode).
    void set_nmi_listener(std::function<void()> listener) { m_nmi_listener = std::move(listener); }

    bool software_enabled() const { return (m_svr & SVR_ENABLE) != 0; }
    bool globally_enabled() const { return (m_base_msr & BASE_ENABLE) != 0; }
    u8 id() const { return static_cast<u8>(m_id >> 24); }
    // Bit `vector` of IRR / ISR / TMR (for tests and traces).
    bool irr(u8 vector) const { return test(m_irr, vector); }
    bool isr(u8 vector) const { return test(m_isr, vector); }
    bool tmr(u8 vector) const { return test(m_tmr, vector); }
    u64 ignored_ipis() const { return m_ignored_ipis; }
    u32 tick_backlog() const { return m_tick_backlog; }

private:
    using Bits = std::array<u32, 8>;
    static bool test(Bits const& bits, u8 v) { return (bits[v >> 5] >> (v & 31)) & 1; }
    static void set(Bits& bits, u8 v) { bits[v >> 5] |= 1u << (v & 31); }
    static void clear(Bits& bits, u8 v) { bits[v >> 5] &= ~(1u << (v & 31)); }
    static int highest(Bits const& bits);

    class Pin final : public IrqLine {
    public:
        Pin(LocalApic& apic, unsigned index) : m_apic(apic), m_index(index) {}
        void set_level(bool high) override { m_apic.set_lint(m_index, high); }

    private:
        LocalApic& m_apic;
        unsigned m_index;
    };

    void reset_registers();
    void set_lint(unsigned index, bool high);
    void accept(u8 vector, bool level_triggered);
    void set_error(u32 bit);
    void write_lvt(unsigned index, u32 value);
    void send_ipi();
    u32 ppr() const;
    int pending_vector() const;
    bool extint_pending() const;
    void update();
    // Timer.
    unsigned divide_shift() const;
    u32 timer_current() const;
    void arm_timer();
    void timer_fired();
    void map();

    MemoryMap& m_memory;
    Clock& m_clock;
    InterruptController& m_external;
    IrqLine& m_intr;
    Pin m_lint0{*this, 0};
    Pin m_lint1{*this, 1};
    Timer m_timer;
    std::function<void(u8)> m_eoi_listener;
    std::function<void(u8)> m_ack_listener;
    std::function<void()> m_nmi_listener;
    PhysAddr m_mapped_at{0};
    bool m_mapped{false};

    // Architectural state (saved).
    u64 m_base_msr{DEFAULT_BASE | BASE_BSP | BASE_ENABLE};
    u32 m_id{0};
    u32 m_tpr{0};
    u32 m_ldr{0};
    u32 m_dfr{0xFFFF'FFFF};
    u32 m_svr{0xFF};
    Bits m_isr{};
    Bits m_tmr{};
    Bits m_irr{};
    u32 m_esr{0};         // what the guest reads (latched by an ESR write)
    u32 m_esr_pending{0}; // errors seen since the last ESR write
    u32 m_icr_low{0};
    u32 m_icr_high{0};
    // LVT: timer, LINT0, LINT1, error, performance counter.
    static constexpr unsigned LVT_TIMER = 0, LVT_LINT0 = 1, LVT_LINT1 = 2, LVT_ERROR = 3, LVT_PERF = 4;
    std::array<u32, 5> m_lvt{};
    u32 m_timer_initial{0};
    u32 m_timer_divide{0};
    u64 m_timer_start_ns{0};     // when the initial count was written (or the period restarted)
    bool m_timer_expired{false}; // one-shot: the count reached 0
    u32 m_tick_backlog{0};       // periodic ticks owed (see the timer above)
    bool m_extint{false};        // an ExtINT message from the I/O APIC waits for INTA
    std::array<bool, 2> m_lint_level{};

    u64 m_ignored_ipis{0};
};

} // namespace vsa
