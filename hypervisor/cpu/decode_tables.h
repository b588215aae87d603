// SPDX-License-Identifier: GPL-2.0-or-later
// Operand-format tables of the decoder (decode_tables.cpp): for every
// opcode, whether it has a ModRM byte and which immediates follow it.
#pragma once

#include "hypervisor/base/types.h"

#include <array>

namespace vsa {

enum : u8 {
    F_MODRM = 0x01,
    F_REGONLY = 0x02, // ModRM whose mod field is ignored (MOV CRn/DRn): never a memory operand
    F_GRP3 = 0x04,    // F6/F7: only /0 and /1 (TEST) carry an immediate
    F_LOCK = 0x08,    // LOCK allowed with a memory destination (groups refine by reg)
};

enum : u8 {
    I_NONE = 0,
    I_8 = 1,     // imm8, zero-extended
    I_8S = 2,    // imm8, sign-extended (83, 6A, 6B, Jcc rel8, ...)
    I_16 = 3,    // imm16 (RET imm16)
    I_V = 4,     // imm16 or imm32 by operand size
    I_ENTER = 5, // imm16, imm8
    I_FAR = 6,   // offset16/32 by operand size, then selector16
    I_MOFFS = 7, // offset16/32 by address size (A0..A3)
};

struct OpcodeFormat {
    u8 flags;
    u8 imm;
};

extern std::array<OpcodeFormat, 512> const OPCODE_FORMATS;

// LOCK is legal for this opcode and ModRM reg (memory form checked apart).
bool lock_allowed(u16 opcode, u8 reg);

} // namespace vsa
