// SPDX-License-Identifier: GPL-2.0-or-later
// The x86 instruction decoder: bytes in, a DecodedInsn value out. It
// handles the prefixes (segment, 0x66 operand size, 0x67 address size,
// LOCK, REP/REPNE), ModRM and SIB in both address sizes, displacements,
// immediates, the one-byte map and the 0F map of the 80486 (SDM vol. 2,
// appendix A), and the 15-byte length limit.
//
// decode() is pure: it reads only the span it is given and says NeedMore
// when an instruction runs past its end (the caller decides whether that is
// a segment-limit #GP or a fetch fault). Every DecodedInsn carries the
// handler that executes it, looked up from the dispatch table once, so a
// later decoded-instruction cache (issue 5) can keep the decoded value and
// call it directly.
#pragma once

#include "hypervisor/base/types.h"
#include "hypervisor/cpu/cpu_types.h"

#include <cstddef>

namespace vsa {

class Cpu;
struct DecodedInsn;
using Handler = Exec (*)(Cpu& cpu, DecodedInsn const& insn);

struct DecodedInsn {
    Handler handler{nullptr};
    u32 disp{0};
    u32 imm{0};    // first immediate, sign-extended for the imm8 forms that the SDM sign-extends
    u32 imm2{0};   // ENTER's nesting level, a far pointer's selector
    u16 opcode{0}; // 0x00..0xFF one-byte map, 0x100..0x1FF the 0F map
    u8 length{0};
    u8 modrm{0};
    u8 mod{3};
    u8 reg{0};
    u8 rm{0};
    u8 base{REG_NONE};  // memory operand: base register or REG_NONE
    u8 index{REG_NONE}; // memory operand: index register or REG_NONE
    u8 scale{0};        // log2 of the index scale
    u8 seg{SEG_DS};     // segment of the memory operand (default or override)
    u8 rep{0};          // 0, 0xF2 (REPNE) or 0xF3 (REP/REPE)
    bool has_seg_override{false};
    bool lock{false};
    bool op32{false};
    bool addr32{false};
    bool has_modrm{false};
    // Not the decoder's: the interpreter's decoded-instruction cache keeps
    // here (in what would be padding) the slot of the instruction that
    // follows this one in memory. decode() leaves it alone.
    u16 cache_next{0};

    bool is_reg_form() const { return mod == 3; }
};

static_assert(sizeof(DecodedInsn) == 40, "a cached instruction is one 64-byte host line");

enum class DecodeStatus : u8 {
    Ok,
    NeedMore, // the instruction runs past the given bytes
    TooLong,  // more than 15 bytes: #GP(0)
};

// `code32`: the D bit of the current code segment.
DecodeStatus decode(u8 const* bytes, std::size_t available, bool code32, DecodedInsn& out);

// The hot path: `window` must have DECODE_WINDOW readable bytes (the most
// the decoder can look at: 15 prefix bytes and the longest tail). Returns
// the length, which is above 15 for an over-long instruction. The caller
// checks the length against the segment limit.
constexpr std::size_t DECODE_WINDOW = 32;
unsigned decode_window(u8 const* window, bool code32, DecodedInsn& out);

// The handler table: one handler per (opcode, ModRM reg, operand size).
// Filled once by the exec_*.cpp files (register_* functions); opcodes
// nobody registered raise #UD.
struct DispatchTable {
    Handler handlers[512][8][2];

    void set(u16 opcode, Handler h16, Handler h32);
    void set(u16 opcode, Handler both) { set(opcode, both, both); }
    void set_group(u16 opcode, u8 reg, Handler h16, Handler h32);
    void set_group(u16 opcode, u8 reg, Handler both) { set_group(opcode, reg, both, both); }
};

DispatchTable const& dispatch_table();

// The #UD handler (also used for forms a handler rejects).
Exec exec_undefined(Cpu& cpu, DecodedInsn const& insn);

// A short mnemonic for traces ("add", "jcc", "grp1"...).
char const* mnemonic(DecodedInsn const& insn);

// Each family registers its handlers (exec_*.cpp).
void register_arith(DispatchTable& t);
void register_logic(DispatchTable& t);
void register_data(DispatchTable& t);
void register_string(DispatchTable& t);
void register_control(DispatchTable& t);
void register_system(DispatchTable& t);
void register_fpu(DispatchTable& t);
void register_p6(DispatchTable& t);

} // namespace vsa
