// SPDX-License-Identifier: GPL-2.0-or-later
// CpuBackend: the seam between the machine's run loop and whatever executes
// guest instructions: the interpreter today (hypervisor/cpu/), KVM where
// /dev/kvm exists (hypervisor/kvm/, later). Both see the same memory map,
// port bus and interrupt controller.
//
// run(deadline) executes until the clock reaches `deadline` or something
// needs the run loop, and says why it stopped. The interpreter performs
// port and MMIO cycles itself, inline, through the buses in CpuEnvironment
// (an instruction must complete with the value read); a KVM backend exits
// with Io/Mmio, and its own run() dispatches them to the same buses before
// re-entering, so the reasons are there for tracing and statistics.
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/io_bus.h"
#include "hypervisor/io/irq.h"
#include "hypervisor/io/memory_map.h"
#include "hypervisor/io/state_visitor.h"

#include <atomic>

namespace vsa {

struct CpuEnvironment {
    MemoryMap& memory;
    IoBus& io;
    Clock& clock;
    InterruptController& interrupts;
    // The local APIC's IA32_APIC_BASE, where the machine has one (then
    // `interrupts` is that APIC); null: no APIC (CPUID does not list one).
    ApicBaseMsr* apic{nullptr};
};

enum class ExitReason {
    Deadline,      // the clock reached the deadline
    Halted,        // HLT with IF=0 or no interrupt pending: sleep until one is
    Shutdown,      // triple fault (or a shutdown cycle): the machine resets or stops
    Breakpoint,    // a debugger breakpoint address was reached
    ExitRequested, // request_exit() was called (another thread, or a device)
    Io,            // (KVM) a port access was handled
    Mmio,          // (KVM) an MMIO access was handled
};

struct CpuExit {
    ExitReason reason{ExitReason::Deadline};
    // Shutdown: the exception vector that could not be delivered.
    u32 detail{0};
};

class CpuBackend {
public:
    virtual ~CpuBackend() = default;

    // Runs until clock.now() >= deadline_ns (checked at least every few
    // thousand instructions) or another reason. A halted CPU whose interrupt
    // is now pending (IF=1) resumes by itself on the next run().
    virtual CpuExit run(u64 deadline_ns) = 0;
    // Power-on / RESET# state (CS:IP = F000:FFF0, CS base FFFF0000).
    virtual void reset() = 0;
    // INIT or the 8042/port-92 reset pulse: same as reset() for a 386.
    virtual void soft_reset() { reset(); }
    // Thread-safe: makes the current or next run() return ExitRequested soon.
    void request_exit() { m_exit_requested.store(true, std::memory_order_release); }
    // The NMI pin (edge): delivered at the next instruction boundary.
    virtual void raise_nmi() = 0;

    virtual bool halted() const = 0;
    virtual u64 instructions_retired() const = 0;
    // Where deterministic time reads the instruction count from.
    virtual u64 const* instruction_counter() const = 0;

    virtual void visit_state(StateVisitor& v) = 0;

protected:
    bool take_exit_request() {
        return m_exit_requested.load(std::memory_order_relaxed) &&
               m_exit_requested.exchange(false, std::memory_order_acq_rel);
    }

private:
    std::atomic<bool> m_exit_requested{false};
};

} // namespace vsa
