// SPDX-License-Identifier: GPL-2.0-or-later
// What the virtual CPU tells the guest about itself through CPUID
// (exec_p6.cpp answers the instruction from these), in one place so the
// management side can report the same facts (IVMVirtualMachine.HasMMX,
// HasSSE, HasSSE2, Has3DNow, ProcessorSpeed) without asking a running
// worker: the profile is fixed at build time, the same for every VM.
#pragma once

#include "hypervisor/base/types.h"

namespace vsa::cpu_profile {

// CPUID.1:EDX bits (SDM vol. 2, CPUID, table "Feature Information").
inline constexpr u32 EDX_FPU = 1u << 0;
inline constexpr u32 EDX_APIC = 1u << 9;
inline constexpr u32 EDX_MMX = 1u << 23;
inline constexpr u32 EDX_FXSR = 1u << 24;
inline constexpr u32 EDX_SSE = 1u << 25;
inline constexpr u32 EDX_SSE2 = 1u << 26;

// Leaf 1 EDX as advertised (APIC is added when the machine has one):
// FPU, VME, PSE, TSC, MSR, CX8, SEP, PGE, CMOV. No MMX, FXSR, SSE or SSE2:
// the interpreter does not execute those instructions.
inline constexpr u32 LEAF1_EDX = EDX_FPU | (1u << 1) /* VME */ | (1u << 3) /* PSE */ | (1u << 4) /* TSC */ |
                                 (1u << 5) /* MSR */ | (1u << 8) /* CX8 */ | (1u << 11) /* SEP */ |
                                 (1u << 13) /* PGE */ | (1u << 15) /* CMOV */;

// The extended leaves (8000_0000h and up) are not implemented: an Intel
// part answers them with the highest basic leaf, so 8000_0001h EDX bit 31
// (AMD's 3DNow!) is never set.
inline constexpr bool HAS_3DNOW = false;

// The time-stamp counter counts virtual nanoseconds, reported in CPUID leaf
// 15h: the guest measures a 1000 MHz processor (Linux's "cpu MHz"). It is
// the clock the guest sees, not the interpreter's instruction rate.
inline constexpr u32 TSC_HZ = 1'000'000'000;

inline constexpr bool has_mmx() {
    return (LEAF1_EDX & EDX_MMX) != 0;
}
inline constexpr bool has_sse() {
    return (LEAF1_EDX & EDX_SSE) != 0;
}
inline constexpr bool has_sse2() {
    return (LEAF1_EDX & EDX_SSE2) != 0;
}
inline constexpr u32 processor_mhz() {
    return TSC_HZ / 1'000'000;
}

} // namespace vsa::cpu_profile
