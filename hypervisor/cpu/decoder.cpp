// SPDX-License-Identifier: GPL-2.0-or-later
// One decoding core, unchecked: it may look at up to DECODE_WINDOW bytes
// (15 prefix bytes plus the longest tail) and never more. decode_window()
// is the hot path for the interpreter when the code page has that many
// bytes left; decode() copies a short input into a zero-padded window
// first and then judges the length against what it was really given.
#include "hypervisor/cpu/decoder.h"

#include "hypervisor/cpu/decode_tables.h"

#include <cstring>

namespace vsa {

namespace {

constexpr unsigned MAX_LENGTH = 15;

// Prefix byte -> what it sets (0: not a prefix).
enum : u8 { P_NONE = 0, P_SEG, P_OPSIZE, P_ADDRSIZE, P_LOCK, P_REP };
constexpr auto make_prefix_table() {
    std::array<u8, 256> t{};
    for (u8 b : {0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65})
        t[b] = P_SEG;
    t[0x66] = P_OPSIZE;
    t[0x67] = P_ADDRSIZE;
    t[0xF0] = P_LOCK;
    t[0xF2] = P_REP;
    t[0xF3] = P_REP;
    return t;
}
constexpr std::array<u8, 256> PREFIX = make_prefix_table();

constexpr u8 segment_of_prefix(u8 b) {
    switch (b) {
    case 0x26:
        return SEG_ES;
    case 0x2E:
        return SEG_CS;
    case 0x36:
        return SEG_SS;
    case 0x64:
        return SEG_FS;
    case 0x65:
        return SEG_GS;
    default:
        return SEG_DS;
    }
}

inline u32 load16(u8 const* p) {
    u16 v;
    std::memcpy(&v, p, 2);
    return v;
}
inline u32 load32(u8 const* p) {
    u32 v;
    std::memcpy(&v, p, 4);
    return v;
}
inline u32 sext8(u8 b) {
    return static_cast<u32>(static_cast<i32>(static_cast<i8>(b)));
}

// 16-bit ModRM memory forms (SDM vol. 2, table 2-1): base, index, default
// segment. rm = 6 with mod = 0 is a bare disp16.
struct Modrm16 {
    u8 base;
    u8 index;
    bool ss;
};
constexpr Modrm16 MODRM16[8] = {
    {REG_EBX, REG_ESI, false}, {REG_EBX, REG_EDI, false},  {REG_EBP, REG_ESI, true},
    {REG_EBP, REG_EDI, true},  {REG_ESI, REG_NONE, false}, {REG_EDI, REG_NONE, false},
    {REG_EBP, REG_NONE, true}, {REG_EBX, REG_NONE, false},
};

// Decodes ModRM (+SIB, +displacement) at p; returns the bytes consumed.
inline unsigned decode_modrm(u8 const* p, DecodedInsn& out, bool reg_only) {
    u8 m = p[0];
    out.has_modrm = true;
    out.modrm = m;
    out.mod = m >> 6;
    out.reg = (m >> 3) & 7;
    out.rm = m & 7;
    if (reg_only) out.mod = 3;
    if (out.mod == 3) return 1;
    unsigned n = 1;
    bool ss_default = false;
    if (!out.addr32) {
        if (out.mod == 0 && out.rm == 6) {
            out.disp = load16(p + 1);
            n = 3;
        } else {
            Modrm16 const& f = MODRM16[out.rm];
            out.base = f.base;
            out.index = f.index;
            ss_default = f.ss;
            if (out.mod == 1) {
                out.disp = sext8(p[1]);
                n = 2;
            } else if (out.mod == 2) {
                out.disp = load16(p + 1);
                n = 3;
            }
        }
    } else {
        if (out.rm == 4) {
            u8 sib = p[1];
            n = 2;
            out.scale = sib >> 6;
            u8 index = (sib >> 3) & 7;
            out.index = index == 4 ? u8(REG_NONE) : index;
            u8 base = sib & 7;
            if (base == 5 && out.mod == 0) {
                out.disp = load32(p + 2);
                n = 6;
            } else {
                out.base = base;
            }
        } else if (out.mod == 0 && out.rm == 5) {
            out.disp = load32(p + 1);
            return 5;
        } else {
            out.base = out.rm;
        }
        ss_default = out.base == REG_ESP || out.base == REG_EBP;
        if (out.mod == 1) {
            out.disp = sext8(p[n]);
            n += 1;
        } else if (out.mod == 2) {
            out.disp = load32(p + n);
            n += 4;
        }
    }
    if (ss_default && !out.has_seg_override) out.seg = SEG_SS;
    return n;
}

DispatchTable const& DISPATCH = dispatch_table();

} // namespace

unsigned decode_window(u8 const* p, bool code32, DecodedInsn& out) {
    // Field by field: building a DecodedInsn{} temporary and copying it
    // costs store-forwarding stalls on the hottest path of the emulator.
    out.disp = 0;
    out.imm = 0;
    out.imm2 = 0;
    out.modrm = 0;
    out.mod = 3;
    out.reg = 0;
    out.rm = 0;
    out.base = REG_NONE;
    out.index = REG_NONE;
    out.scale = 0;
    out.seg = SEG_DS;
    out.rep = 0;
    out.has_seg_override = false;
    out.lock = false;
    out.op32 = code32;
    out.addr32 = code32;
    out.has_modrm = false;
    unsigned pos = 0;
    u8 op = p[0];
    if (PREFIX[op]) [[unlikely]] {
        // Any number, any order; the last segment override wins.
        while (PREFIX[op] && pos < MAX_LENGTH) {
            switch (PREFIX[op]) {
            case P_SEG:
                out.seg = segment_of_prefix(op);
                out.has_seg_override = true;
                break;
            case P_OPSIZE:
                out.op32 = !code32;
                break;
            case P_ADDRSIZE:
                out.addr32 = !code32;
                break;
            case P_LOCK:
                out.lock = true;
                break;
            default:
                out.rep = op;
                break;
            }
            op = p[++pos];
        }
        if (pos >= MAX_LENGTH) return MAX_LENGTH + 1;
    }
    ++pos;
    u16 opcode = op;
    if (op == 0x0F) opcode = 0x100 | p[pos++];
    out.opcode = opcode;
    OpcodeFormat const fmt = OPCODE_FORMATS[opcode];
    if (fmt.flags & F_MODRM) pos += decode_modrm(p + pos, out, (fmt.flags & F_REGONLY) != 0);
    u8 imm = fmt.imm;
    if ((fmt.flags & F_GRP3) && out.reg > 1) imm = I_NONE;
    switch (imm) {
    case I_NONE:
        break;
    case I_8:
        out.imm = p[pos];
        pos += 1;
        break;
    case I_8S:
        out.imm = sext8(p[pos]);
        pos += 1;
        break;
    case I_16:
        out.imm = load16(p + pos);
        pos += 2;
        break;
    case I_V:
        if (out.op32) {
            out.imm = load32(p + pos);
            pos += 4;
        } else {
            out.imm = load16(p + pos);
            pos += 2;
        }
        break;
    case I_ENTER:
        out.imm = load16(p + pos);
        out.imm2 = p[pos + 2];
        pos += 3;
        break;
    case I_FAR:
        if (out.op32) {
            out.imm = load32(p + pos);
            pos += 4;
        } else {
            out.imm = load16(p + pos);
            pos += 2;
        }
        out.imm2 = load16(p + pos);
        pos += 2;
        break;
    case I_MOFFS:
        if (out.addr32) {
            out.disp = load32(p + pos);
            pos += 4;
        } else {
            out.disp = load16(p + pos);
            pos += 2;
        }
        break;
    default:
        break;
    }
    out.length = static_cast<u8>(pos > MAX_LENGTH ? 0 : pos);
    u8 sub = out.has_modrm ? out.reg : 0;
    out.handler = DISPATCH.handlers[opcode][sub][out.op32 ? 1 : 0];
    // A 386 accepts LOCK only on a read-modify-write of memory (SDM vol. 2,
    // LOCK); anything else is #UD.
    if (out.lock) [[unlikely]] {
        if (out.mod == 3 || !lock_allowed(opcode, out.reg)) out.handler = exec_undefined;
    }
    return pos;
}

DecodeStatus decode(u8 const* bytes, std::size_t available, bool code32, DecodedInsn& out) {
    u8 window[DECODE_WINDOW] = {};
    std::size_t n = available < MAX_LENGTH ? available : MAX_LENGTH;
    if (n) std::memcpy(window, bytes, n);
    unsigned length = decode_window(window, code32, out);
    if (length > n) {
        // Prefixes alone filled the 15 bytes, or the instruction is longer
        // than 15 bytes: too long if we saw 15 bytes, else maybe just short.
        if (n < MAX_LENGTH) return DecodeStatus::NeedMore;
        return DecodeStatus::TooLong;
    }
    return DecodeStatus::Ok;
}

} // namespace vsa
