// SPDX-License-Identifier: GPL-2.0-or-later
// The decoder's data: operand formats of the one-byte and 0F opcode maps
// (SDM vol. 2, appendix A, tables, restricted to what our P6
// profile decodes: integer, x87, CMOV/CMPXCHG8B/SYSENTER/MSRs, no MMX/SSE),
// the LOCK table, the dispatch table built from
// the exec_*.cpp families, and mnemonics for traces.
#include "hypervisor/cpu/decode_tables.h"

#include "hypervisor/cpu/decoder.h"

#include <array>

namespace vsa {

namespace {

constexpr std::array<OpcodeFormat, 512> make_formats() {
    std::array<OpcodeFormat, 512> t{};
    auto set = [&](unsigned op, u8 flags, u8 imm) { t[op] = OpcodeFormat{flags, imm}; };
    // One-byte map.
    for (unsigned alu = 0; alu < 8; ++alu) {
        unsigned b = alu * 8;
        set(b + 0, F_MODRM | F_LOCK, I_NONE);
        set(b + 1, F_MODRM | F_LOCK, I_NONE);
        set(b + 2, F_MODRM, I_NONE);
        set(b + 3, F_MODRM, I_NONE);
        set(b + 4, 0, I_8);
        set(b + 5, 0, I_V);
    }
    set(0x62, F_MODRM, I_NONE); // BOUND
    set(0x63, F_MODRM, I_NONE); // ARPL
    set(0x68, 0, I_V);
    set(0x69, F_MODRM, I_V);
    set(0x6A, 0, I_8S);
    set(0x6B, F_MODRM, I_8S);
    for (unsigned op = 0x70; op <= 0x7F; ++op)
        set(op, 0, I_8S);
    set(0x80, F_MODRM | F_LOCK, I_8);
    set(0x81, F_MODRM | F_LOCK, I_V);
    set(0x82, F_MODRM | F_LOCK, I_8);
    set(0x83, F_MODRM | F_LOCK, I_8S);
    for (unsigned op = 0x84; op <= 0x8F; ++op)
        set(op, F_MODRM, I_NONE);
    set(0x86, F_MODRM | F_LOCK, I_NONE);
    set(0x87, F_MODRM | F_LOCK, I_NONE);
    set(0x9A, 0, I_FAR);
    for (unsigned op = 0xA0; op <= 0xA3; ++op)
        set(op, 0, I_MOFFS);
    set(0xA8, 0, I_8);
    set(0xA9, 0, I_V);
    for (unsigned op = 0xB0; op <= 0xB7; ++op)
        set(op, 0, I_8);
    for (unsigned op = 0xB8; op <= 0xBF; ++op)
        set(op, 0, I_V);
    set(0xC0, F_MODRM, I_8);
    set(0xC1, F_MODRM, I_8);
    set(0xC2, 0, I_16);
    set(0xC4, F_MODRM, I_NONE);
    set(0xC5, F_MODRM, I_NONE);
    set(0xC6, F_MODRM, I_8);
    set(0xC7, F_MODRM, I_V);
    set(0xC8, 0, I_ENTER);
    set(0xCA, 0, I_16);
    set(0xCD, 0, I_8);
    for (unsigned op = 0xD0; op <= 0xD3; ++op)
        set(op, F_MODRM, I_NONE);
    set(0xD4, 0, I_8);
    set(0xD5, 0, I_8);
    for (unsigned op = 0xD8; op <= 0xDF; ++op)
        set(op, F_MODRM, I_NONE);
    for (unsigned op = 0xE0; op <= 0xE3; ++op)
        set(op, 0, I_8S);
    for (unsigned op = 0xE4; op <= 0xE7; ++op)
        set(op, 0, I_8);
    set(0xE8, 0, I_V);
    set(0xE9, 0, I_V);
    set(0xEA, 0, I_FAR);
    set(0xEB, 0, I_8S);
    set(0xF6, F_MODRM | F_GRP3 | F_LOCK, I_8);
    set(0xF7, F_MODRM | F_GRP3 | F_LOCK, I_V);
    set(0xFE, F_MODRM | F_LOCK, I_NONE);
    set(0xFF, F_MODRM | F_LOCK, I_NONE);
    // 0F map.
    constexpr unsigned X = 0x100;
    for (unsigned op : {0x00u, 0x01u, 0x02u, 0x03u})
        set(X + op, F_MODRM, I_NONE);
    for (unsigned op = 0x20; op <= 0x23; ++op)
        set(X + op, F_MODRM | F_REGONLY, I_NONE);
    for (unsigned op = 0x80; op <= 0x8F; ++op)
        set(X + op, 0, I_V);
    for (unsigned op = 0x90; op <= 0x9F; ++op)
        set(X + op, F_MODRM, I_NONE);
    for (unsigned op :
         {0xA3u, 0xA5u, 0xADu, 0xAFu, 0xB2u, 0xB4u, 0xB5u, 0xB6u, 0xB7u, 0xBCu, 0xBDu, 0xBEu, 0xBFu})
        set(X + op, F_MODRM, I_NONE);
    for (unsigned op : {0xABu, 0xB0u, 0xB1u, 0xB3u, 0xBBu, 0xC0u, 0xC1u})
        set(X + op, F_MODRM | F_LOCK, I_NONE);
    set(X + 0xA4, F_MODRM, I_8);
    set(X + 0xAC, F_MODRM, I_8);
    set(X + 0xBA, F_MODRM | F_LOCK, I_8);
    for (unsigned op = 0x40; op <= 0x4F; ++op) // CMOVcc (P6)
        set(X + op, F_MODRM, I_NONE);
    set(X + 0xC7, F_MODRM | F_LOCK, I_NONE); // group 9: CMPXCHG8B
    // 0F 18..0F 1F: the P6 hint-NOP space with a ModRM operand (0F 1F /0 is
    // the multi-byte NOP compilers pad with; F3 0F 1E FB is ENDBR32 in
    // CET-built code, a NOP here). The operand is decoded, never accessed.
    for (unsigned op = 0x18; op <= 0x1F; ++op)
        set(X + op, F_MODRM, I_NONE);
    return t;
}

} // namespace

constexpr std::array<OpcodeFormat, 512> OPCODE_FORMATS = make_formats();

bool lock_allowed(u16 opcode, u8 reg) {
    if (!(OPCODE_FORMATS[opcode].flags & F_LOCK)) return false;
    switch (opcode) {
    case 0x80:
    case 0x81:
    case 0x82:
    case 0x83:
        return reg != 7; // not CMP
    case 0xF6:
    case 0xF7:
        return reg == 2 || reg == 3; // NOT, NEG
    case 0xFE:
    case 0xFF:
        return reg <= 1; // INC, DEC
    case 0x1BA:
        return reg >= 5; // BTS, BTR, BTC
    case 0x1C7:
        return reg == 1; // CMPXCHG8B
    default:
        return true;
    }
}

void DispatchTable::set(u16 opcode, Handler h16, Handler h32) {
    for (auto& row : handlers[opcode]) {
        row[0] = h16;
        row[1] = h32;
    }
}

void DispatchTable::set_group(u16 opcode, u8 reg, Handler h16, Handler h32) {
    handlers[opcode][reg & 7][0] = h16;
    handlers[opcode][reg & 7][1] = h32;
}

namespace {
DispatchTable build_dispatch() {
    DispatchTable t{};
    for (auto& op : t.handlers)
        for (auto& row : op)
            row[0] = row[1] = exec_undefined;
    register_arith(t);
    register_logic(t);
    register_data(t);
    register_string(t);
    register_control(t);
    register_system(t);
    register_fpu(t);
    register_p6(t);
    return t;
}
} // namespace

DispatchTable const& dispatch_table() {
    static DispatchTable const table = build_dispatch();
    return table;
}

namespace {
// Mnemonics of the one-byte map; group opcodes are named by their group.
constexpr char const* MNEMONICS_1[256] = {
    "add",      "add",    "add",      "add",    "add",      "add",   "push es", "pop es", "or",    "or",
    "or",       "or",     "or",       "or",     "push cs",  "0f",    "adc",     "adc",    "adc",   "adc",
    "adc",      "adc",    "push ss",  "pop ss", "sbb",      "sbb",   "sbb",     "sbb",    "sbb",   "sbb",
    "push ds",  "pop ds", "and",      "and",    "and",      "and",   "and",     "and",    "es:",   "daa",
    "sub",      "sub",    "sub",      "sub",    "sub",      "sub",   "cs:",     "das",    "xor",   "xor",
    "xor",      "xor",    "xor",      "xor",    "ss:",      "aaa",   "cmp",     "cmp",    "cmp",   "cmp",
    "cmp",      "cmp",    "ds:",      "aas",    "inc",      "inc",   "inc",     "inc",    "inc",   "inc",
    "inc",      "inc",    "dec",      "dec",    "dec",      "dec",   "dec",     "dec",    "dec",   "dec",
    "push",     "push",   "push",     "push",   "push",     "push",  "push",    "push",   "pop",   "pop",
    "pop",      "pop",    "pop",      "pop",    "pop",      "pop",   "pusha",   "popa",   "bound", "arpl",
    "fs:",      "gs:",    "o16/32",   "a16/32", "push",     "imul",  "push",    "imul",   "insb",  "insw",
    "outsb",    "outsw",  "jo",       "jno",    "jb",       "jnb",   "jz",      "jnz",    "jbe",   "ja",
    "js",       "jns",    "jp",       "jnp",    "jl",       "jge",   "jle",     "jg",     "grp1",  "grp1",
    "grp1",     "grp1",   "test",     "test",   "xchg",     "xchg",  "mov",     "mov",    "mov",   "mov",
    "mov sreg", "lea",    "mov sreg", "pop",    "nop",      "xchg",  "xchg",    "xchg",   "xchg",  "xchg",
    "xchg",     "xchg",   "cbw",      "cwd",    "call far", "wait",  "pushf",   "popf",   "sahf",  "lahf",
    "mov",      "mov",    "mov",      "mov",    "movsb",    "movsw", "cmpsb",   "cmpsw",  "test",  "test",
    "stosb",    "stosw",  "lodsb",    "lodsw",  "scasb",    "scasw", "mov",     "mov",    "mov",   "mov",
    "mov",      "mov",    "mov",      "mov",    "mov",      "mov",   "mov",     "mov",    "mov",   "mov",
    "mov",      "mov",    "grp2",     "grp2",   "ret",      "ret",   "les",     "lds",    "mov",   "mov",
    "enter",    "leave",  "retf",     "retf",   "int3",     "int",   "into",    "iret",   "grp2",  "grp2",
    "grp2",     "grp2",   "aam",      "aad",    "salc",     "xlat",  "esc",     "esc",    "esc",   "esc",
    "esc",      "esc",    "esc",      "esc",    "loopnz",   "loopz", "loop",    "jcxz",   "in",    "in",
    "out",      "out",    "call",     "jmp",    "jmp far",  "jmp",   "in",      "in",     "out",   "out",
    "lock",     "int1",   "repne",    "rep",    "hlt",      "cmc",   "grp3",    "grp3",   "clc",   "stc",
    "cli",      "sti",    "cld",      "std",    "grp4",     "grp5",
};
} // namespace

char const* mnemonic(DecodedInsn const& insn) {
    if (insn.opcode < 0x100) return MNEMONICS_1[insn.opcode];
    u8 op = static_cast<u8>(insn.opcode);
    if (op >= 0x80 && op <= 0x8F) return "jcc";
    if (op >= 0x90 && op <= 0x9F) return "setcc";
    if (op >= 0x40 && op <= 0x4F) return "cmovcc";
    if (op >= 0xC8) return "bswap";
    switch (op) {
    case 0x00:
        return "grp6";
    case 0x01:
        return "grp7";
    case 0x02:
        return "lar";
    case 0x03:
        return "lsl";
    case 0x06:
        return "clts";
    case 0x08:
        return "invd";
    case 0x09:
        return "wbinvd";
    case 0x20:
    case 0x22:
        return "mov crn";
    case 0x21:
    case 0x23:
        return "mov drn";
    case 0x30:
        return "wrmsr";
    case 0x31:
        return "rdtsc";
    case 0x32:
        return "rdmsr";
    case 0x33:
        return "rdpmc";
    case 0x34:
        return "sysenter";
    case 0x35:
        return "sysexit";
    case 0xC7:
        return "grp9";
    case 0xA0:
    case 0xA8:
        return "push";
    case 0xA1:
    case 0xA9:
        return "pop";
    case 0xA2:
        return "cpuid";
    case 0xA3:
        return "bt";
    case 0xA4:
    case 0xA5:
        return "shld";
    case 0xAB:
        return "bts";
    case 0xAC:
    case 0xAD:
        return "shrd";
    case 0xAF:
        return "imul";
    case 0xB0:
    case 0xB1:
        return "cmpxchg";
    case 0xB2:
        return "lss";
    case 0xB3:
        return "btr";
    case 0xB4:
        return "lfs";
    case 0xB5:
        return "lgs";
    case 0xB6:
    case 0xB7:
        return "movzx";
    case 0xBA:
        return "grp8";
    case 0xBB:
        return "btc";
    case 0xBC:
        return "bsf";
    case 0xBD:
        return "bsr";
    case 0xBE:
    case 0xBF:
        return "movsx";
    case 0xC0:
    case 0xC1:
        return "xadd";
    default:
        return "0f ??";
    }
}

} // namespace vsa
