// SPDX-License-Identifier: GPL-2.0-or-later
// What every exec_*.cpp family needs: the Cpu services, the dispatch
// table, and small width helpers. Handlers are templates on the operand
// type (u8/u16/u32); the table holds one instantiation per width.
#pragma once

#include "hypervisor/cpu/cpu.h"
#include "hypervisor/cpu/decoder.h"

#include <type_traits>

namespace vsa {

template <typename T>
using Signed = std::make_signed_t<T>;

template <typename T>
constexpr T msb_of() {
    return static_cast<T>(T(1) << (sizeof(T) * 8 - 1));
}

// Sign-extends T to 32 bits.
template <typename T>
constexpr u32 sext(T v) {
    return static_cast<u32>(static_cast<i32>(static_cast<Signed<T>>(v)));
}

// Address-size mask of an instruction (string ops, LOOP, XLAT).
inline u32 addr_mask(DecodedInsn const& insn) {
    return insn.addr32 ? 0xFFFF'FFFFu : 0xFFFFu;
}

// Writes a counter/index register at the instruction's address size.
inline void set_addr_reg(Cpu& cpu, unsigned r, u32 v, DecodedInsn const& insn) {
    if (insn.addr32)
        cpu.set_reg32(r, v);
    else
        cpu.set_reg32(r, (cpu.reg32(r) & 0xFFFF'0000u) | (v & 0xFFFF));
}

// A handler for operand-size forms: instantiates H<u16> and H<u32>.
#define VSA_BOTH(h) h<u16>, h<u32>

} // namespace vsa
