// SPDX-License-Identifier: GPL-2.0-or-later
// P6-family additions (SDM vol. 2): CMOVcc, CMPXCHG8B, RDMSR/WRMSR,
// RDPMC, SYSENTER/SYSEXIT, and the CPUID profile that advertises them.
//
// CPUID: "GenuineIntel" family 6 model 3 stepping 3 (a Pentium II
// "Klamath" class part; model 3 stepping 3 matters: Linux drops SEP on
// family 6 model < 3 stepping < 3, the Pentium Pro whose SYSENTER is
// broken). Leaf 1 EDX advertises exactly what works here: FPU (the x87 in
// fpu.h, with FCMOV/FCOMI), VME (with PVI; v86.cpp), PSE, TSC, MSR, CX8,
// SEP, PGE (global pages are accepted and flushed like any other, which
// the architecture allows), CMOV, and APIC when the machine has a local
// APIC (CpuEnvironment::apic) and it is globally enabled (IA32_APIC_BASE
// bit 11, as real parts clear the flag with it); leaf 1 EBX[31:24] is the
// initial APIC ID (0: one processor). Not advertised: DE, PAE, MCE, MTRR,
// MCA, PAT, MMX, FXSR, SSE.
//
// The basic leaves go up to 15h, which reports the time-stamp counter's
// frequency (1 GHz: one tick per virtual nanosecond, cpu.cpp). Without it
// Linux measures the TSC against the PIT, and on a loaded host, where the
// VM thread can be descheduled for milliseconds while virtual time runs on
// with the host's, that measurement fails or comes out wrong: Linux then
// drops the TSC for the PIT clocksource, or keeps time 5x fast. Hypervisors
// report the frequency for this reason. Leaves 2..14h are all zero: no
// cache or TLB descriptors (leaf 2 still says "call once"), no
// deterministic cache parameters, no MONITOR, thermal, structured
// extended features, performance monitoring, topology or XSAVE leaves.
//
// MSRs: TSC (0x10, writes move the counter), APIC_BASE (0x1B: the local
// APIC's (hw/local_apic.h); without one it reads 0 and a write that tries
// to enable one is #GP),
// BIOS_SIGN_ID (0x8B: microcode revision, reads 0; Linux writes 0 and
// reads it back on every Intel family-6 CPU), SYSENTER_CS/ESP/EIP
// (0x174-0x176), MISC_ENABLE (0x1A0, storage). Any other MSR is #GP(0).
// RDPMC: no performance counters count; counters 0 and 1 read 0 at CPL 0
// or with CR4.PCE, anything else is #GP(0).
#include "hypervisor/cpu/cpu_profile.h"
#include "hypervisor/cpu/exec_common.h"

namespace vsa {

// CPUID.1:EDX bit 0: the x87 is on chip (fpu.h).
constexpr u32 CPUID1_EDX_FPU = 1u << 0;

namespace {

// The profile lives in cpu_profile.h, which the management side reads too.
constexpr u32 CPUID1_EDX = cpu_profile::LEAF1_EDX;
static_assert((CPUID1_EDX & CPUID1_EDX_FPU) != 0);

constexpr u32 CPUID1_EDX_APIC = cpu_profile::EDX_APIC;

constexpr u32 MAX_BASIC_LEAF = 0x15;

Exec cpuid(Cpu& cpu, DecodedInsn const&) {
    u32 leaf = cpu.eax();
    if (leaf == 0) {
        cpu.set_eax(MAX_BASIC_LEAF);
        cpu.set_ebx(0x756E'6547); // "Genu"
        cpu.set_edx(0x4965'6E69); // "ineI"
        cpu.set_ecx(0x6C65'746E); // "ntel"
        return {};
    }
    if (leaf == 1) {
        cpu.set_eax(Cpu::CPU_SIGNATURE);
        cpu.set_ebx(0);
        cpu.set_ecx(0);
        cpu.set_edx(CPUID1_EDX | (cpu.apic_enabled() ? CPUID1_EDX_APIC : 0));
        return {};
    }
    // Leaves above the maximum (the extended 8000_0000h range included:
    // its EAX then says there is none) return the highest basic leaf, as
    // Intel parts do.
    if (leaf >= MAX_BASIC_LEAF) {
        // TSC = crystal x EBX / EAX, the crystal in ECX (Hz).
        cpu.set_eax(1);
        cpu.set_ebx(1);
        cpu.set_ecx(Cpu::TSC_HZ);
        cpu.set_edx(0);
        return {};
    }
    cpu.set_eax(leaf == 2 ? 1 : 0); // leaf 2: AL = 1 (one call), no descriptors
    cpu.set_ebx(0);
    cpu.set_ecx(0);
    cpu.set_edx(0);
    return {};
}

// CMOVcc r, r/m (0F 40-4F): the source is read (and may fault) whatever
// the condition; a false condition leaves the destination alone.
template <typename T>
Exec cmov(Cpu& cpu, DecodedInsn const& insn) {
    T v = TRY(cpu.read_rm<T>(insn));
    if (cpu.condition(insn.opcode & 0xF)) cpu.set_reg<T>(insn.reg, v);
    return {};
}

// CMPXCHG8B m64 (0F C7 /1). The destination is written either way (with
// its own value on a mismatch), as the locked bus cycle does.
Exec cmpxchg8b(Cpu& cpu, DecodedInsn const& insn) {
    if (insn.mod == 3 || insn.reg != 1) return Fault::invalid_opcode();
    u32 off = cpu.ea(insn);
    u32 hi_off = (off + 4) & addr_mask(insn);
    TRY(cpu.check_write<4>(insn.seg, off));
    TRY(cpu.check_write<4>(insn.seg, hi_off));
    u32 lo = TRY(cpu.read<u32>(insn.seg, off));
    u32 hi = TRY(cpu.read<u32>(insn.seg, hi_off));
    bool equal = lo == cpu.eax() && hi == cpu.edx();
    if (equal) {
        TRY(cpu.write<u32>(insn.seg, off, cpu.ebx()));
        TRY(cpu.write<u32>(insn.seg, hi_off, cpu.ecx()));
    } else {
        TRY(cpu.write<u32>(insn.seg, off, lo));
        TRY(cpu.write<u32>(insn.seg, hi_off, hi));
        cpu.set_eax(lo);
        cpu.set_edx(hi);
    }
    cpu.set_arith_flag(FLAG_ZF, equal);
    return {};
}

Exec privileged(Cpu& cpu) {
    if (cpu.protected_mode() && cpu.cpl() != 0) return Fault::gp(0);
    return {};
}

Exec rdmsr(Cpu& cpu, DecodedInsn const&) {
    TRY(privileged(cpu));
    u64 v = TRY(cpu.read_msr(cpu.ecx()));
    cpu.set_eax(static_cast<u32>(v));
    cpu.set_edx(static_cast<u32>(v >> 32));
    return {};
}

Exec wrmsr(Cpu& cpu, DecodedInsn const&) {
    TRY(privileged(cpu));
    return cpu.write_msr(cpu.ecx(), (u64(cpu.edx()) << 32) | cpu.eax());
}

Exec rdpmc(Cpu& cpu, DecodedInsn const&) {
    bool allowed = !cpu.protected_mode() || cpu.cpl() == 0 || (cpu.cr4() & CR4_PCE);
    if (!allowed || cpu.ecx() > 1) return Fault::gp(0);
    cpu.set_eax(0);
    cpu.set_edx(0);
    return {};
}

Exec sysenter(Cpu& cpu, DecodedInsn const&) {
    return cpu.sysenter();
}

Exec sysexit(Cpu& cpu, DecodedInsn const&) {
    return cpu.sysexit();
}

} // namespace

void register_p6(DispatchTable& t) {
    t.set(0x1A2, cpuid);
    for (u16 op = 0x140; op <= 0x14F; ++op)
        t.set(op, VSA_BOTH(cmov));
    t.set_group(0x1C7, 1, cmpxchg8b);
    t.set(0x132, rdmsr);
    t.set(0x130, wrmsr);
    t.set(0x133, rdpmc);
    t.set(0x134, sysenter);
    t.set(0x135, sysexit);
}

// ---- Cpu services --------------------------------------------------------

Result<u64, Fault> Cpu::read_msr(u32 index) {
    switch (index) {
    case MSR_TSC:
        return rdtsc_value();
    case MSR_APIC_BASE:
        return m_env.apic ? m_env.apic->apic_base() : u64(0);
    case MSR_BIOS_SIGN_ID:
        return u64(0);
    case MSR_SYSENTER_CS:
        return u64(m_sysenter_cs);
    case MSR_SYSENTER_ESP:
        return u64(m_sysenter_esp);
    case MSR_SYSENTER_EIP:
        return u64(m_sysenter_eip);
    case MSR_MISC_ENABLE:
        return m_misc_enable;
    default:
        return Fault::gp(0);
    }
}

Exec Cpu::write_msr(u32 index, u64 value) {
    switch (index) {
    case MSR_TSC:
        // Only the low 32 bits are writable on P6 (upper cleared).
        m_tsc_offset = (value & 0xFFFF'FFFFu) - m_env.clock.now();
        return {};
    case MSR_APIC_BASE:
        if (m_env.apic) {
            if (!m_env.apic->set_apic_base(value)) return Fault::gp(0);
            return {};
        }
        if (value & (1u << 11)) return Fault::gp(0); // there is no APIC to enable
        return {};
    case MSR_BIOS_SIGN_ID:
        return {}; // the microcode-revision probe: nothing to update
    case MSR_SYSENTER_CS:
        m_sysenter_cs = static_cast<u32>(value);
        return {};
    case MSR_SYSENTER_ESP:
        m_sysenter_esp = static_cast<u32>(value);
        return {};
    case MSR_SYSENTER_EIP:
        m_sysenter_eip = static_cast<u32>(value);
        return {};
    case MSR_MISC_ENABLE:
        m_misc_enable = value;
        return {};
    default:
        return Fault::gp(0);
    }
}

namespace {
// The flat segments SYSENTER/SYSEXIT load without reading descriptors.
SegmentCache flat_segment(u16 selector, bool code, u8 dpl) {
    SegmentCache c;
    c.selector = selector;
    c.base = 0;
    c.limit = 0xFFFF'FFFF;
    c.flags = DESC_G | DESC_DB;
    c.access = static_cast<u8>(ACC_P | ACC_S | ACC_ACCESSED | ACC_RW | (code ? ACC_CODE : 0) | (dpl << 5));
    c.valid = true;
    return c;
}
} // namespace

Exec Cpu::sysenter() {
    if (!protected_mode() || (m_sysenter_cs & 0xFFFC) == 0) return Fault::gp(0);
    u16 cs = static_cast<u16>(m_sysenter_cs & 0xFFFC);
    m_eflags &= ~(FLAG_VM | FLAG_IF | FLAG_RF);
    set_segment_cache(SEG_CS, flat_segment(cs, true, 0));
    set_segment_cache(SEG_SS, flat_segment(static_cast<u16>(cs + 8), false, 0));
    refresh_all_segments();
    m_regs[REG_ESP] = m_sysenter_esp;
    m_eip = m_sysenter_eip;
    m_events = true;
    return {};
}

Exec Cpu::sysexit() {
    if (!protected_mode() || v86_mode() || cpl() != 0 || (m_sysenter_cs & 0xFFFC) == 0) return Fault::gp(0);
    u16 cs = static_cast<u16>(((m_sysenter_cs + 16) & 0xFFFC) | 3);
    u16 ss = static_cast<u16>(((m_sysenter_cs + 24) & 0xFFFC) | 3);
    set_segment_cache(SEG_CS, flat_segment(cs, true, 3));
    set_segment_cache(SEG_SS, flat_segment(ss, false, 3));
    m_regs[REG_ESP] = m_regs[REG_ECX];
    m_eip = m_regs[REG_EDX];
    return {};
}

} // namespace vsa
