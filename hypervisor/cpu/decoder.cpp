// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/cpu/decoder.h"

#include "hypervisor/cpu/decode_tables.h"

namespace vsa {

namespace {

constexpr std::size_t MAX_LENGTH = 15;

// Reads little-endian values from the span, tracking the position.
struct ByteReader {
    u8 const* bytes;
    std::size_t available;
    std::size_t pos{0};
    bool short_read{false};

    u32 take(unsigned n) {
        if (pos + n > available) {
            short_read = true;
            pos += n;
            return 0;
        }
        u32 v = 0;
        for (unsigned i = 0; i < n; ++i)
            v |= u32(bytes[pos + i]) << (8 * i);
        pos += n;
        return v;
    }
    u8 take8() { return static_cast<u8>(take(1)); }
};

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

void decode_modrm(ByteReader& in, DecodedInsn& out, bool reg_only) {
    u8 m = in.take8();
    out.has_modrm = true;
    out.modrm = m;
    out.mod = m >> 6;
    out.reg = (m >> 3) & 7;
    out.rm = m & 7;
    if (reg_only) out.mod = 3;
    if (out.mod == 3) return;
    bool ss_default = false;
    if (!out.addr32) {
        if (out.mod == 0 && out.rm == 6) {
            out.base = REG_NONE;
            out.index = REG_NONE;
            out.disp = in.take(2);
        } else {
            Modrm16 const& f = MODRM16[out.rm];
            out.base = f.base;
            out.index = f.index;
            ss_default = f.ss;
            if (out.mod == 1)
                out.disp = static_cast<u32>(static_cast<i32>(static_cast<i8>(in.take8())));
            else if (out.mod == 2)
                out.disp = in.take(2);
        }
    } else {
        if (out.rm == 4) {
            u8 sib = in.take8();
            out.scale = sib >> 6;
            u8 index = (sib >> 3) & 7;
            out.index = index == 4 ? u8(REG_NONE) : index;
            u8 base = sib & 7;
            if (base == 5 && out.mod == 0) {
                out.base = REG_NONE;
                out.disp = in.take(4);
            } else {
                out.base = base;
            }
        } else if (out.mod == 0 && out.rm == 5) {
            out.base = REG_NONE;
            out.index = REG_NONE;
            out.disp = in.take(4);
        } else {
            out.base = out.rm;
        }
        ss_default = out.base == REG_ESP || out.base == REG_EBP;
        if (out.mod == 1)
            out.disp = static_cast<u32>(static_cast<i32>(static_cast<i8>(in.take8())));
        else if (out.mod == 2)
            out.disp = in.take(4);
    }
    if (!out.has_seg_override) out.seg = ss_default ? u8(SEG_SS) : u8(SEG_DS);
}

} // namespace

DecodeStatus decode(u8 const* bytes, std::size_t available, bool code32, DecodedInsn& out) {
    out = DecodedInsn{};
    out.op32 = code32;
    out.addr32 = code32;
    ByteReader in{bytes, available};
    // Prefixes: any number, any order, the last segment override wins;
    // the 15-byte limit bounds the loop.
    u8 op = 0;
    for (;;) {
        if (in.pos >= MAX_LENGTH) return DecodeStatus::TooLong;
        if (in.pos >= available) return DecodeStatus::NeedMore;
        op = bytes[in.pos++];
        switch (op) {
        case 0x26:
            out.seg = SEG_ES;
            out.has_seg_override = true;
            continue;
        case 0x2E:
            out.seg = SEG_CS;
            out.has_seg_override = true;
            continue;
        case 0x36:
            out.seg = SEG_SS;
            out.has_seg_override = true;
            continue;
        case 0x3E:
            out.seg = SEG_DS;
            out.has_seg_override = true;
            continue;
        case 0x64:
            out.seg = SEG_FS;
            out.has_seg_override = true;
            continue;
        case 0x65:
            out.seg = SEG_GS;
            out.has_seg_override = true;
            continue;
        case 0x66:
            out.op32 = !code32;
            continue;
        case 0x67:
            out.addr32 = !code32;
            continue;
        case 0xF0:
            out.lock = true;
            continue;
        case 0xF2:
        case 0xF3:
            out.rep = op;
            continue;
        default:
            break;
        }
        break;
    }
    u16 opcode = op;
    if (op == 0x0F) {
        if (in.pos >= available) return in.pos >= MAX_LENGTH ? DecodeStatus::TooLong : DecodeStatus::NeedMore;
        opcode = 0x100 | bytes[in.pos++];
    }
    out.opcode = opcode;
    OpcodeFormat const& fmt = OPCODE_FORMATS[opcode];
    if (fmt.flags & F_MODRM) decode_modrm(in, out, (fmt.flags & F_REGONLY) != 0);
    u8 imm = fmt.imm;
    if ((fmt.flags & F_GRP3) && out.reg > 1) imm = I_NONE;
    switch (imm) {
    case I_NONE:
        break;
    case I_8:
        out.imm = in.take8();
        break;
    case I_8S:
        out.imm = static_cast<u32>(static_cast<i32>(static_cast<i8>(in.take8())));
        break;
    case I_16:
        out.imm = in.take(2);
        break;
    case I_V:
        out.imm = in.take(out.op32 ? 4 : 2);
        break;
    case I_ENTER:
        out.imm = in.take(2);
        out.imm2 = in.take8();
        break;
    case I_FAR:
        out.imm = in.take(out.op32 ? 4 : 2);
        out.imm2 = in.take(2);
        break;
    case I_MOFFS:
        out.disp = in.take(out.addr32 ? 4 : 2);
        break;
    default:
        break;
    }
    if (in.pos > MAX_LENGTH) return DecodeStatus::TooLong;
    if (in.short_read) return DecodeStatus::NeedMore;
    out.length = static_cast<u8>(in.pos);
    u8 sub = out.has_modrm ? out.reg : 0;
    out.handler = dispatch_table().handlers[opcode][sub][out.op32 ? 1 : 0];
    // A 386 accepts LOCK only on a read-modify-write of memory (SDM vol. 2,
    // LOCK); anything else is #UD.
    if (out.lock && (out.mod == 3 || !lock_allowed(opcode, out.reg))) out.handler = exec_undefined;
    return DecodeStatus::Ok;
}

} // namespace vsa
