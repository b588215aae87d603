// SPDX-License-Identifier: GPL-2.0-or-later
// Vocabulary shared by the interpreter's parts: register and segment
// numbers in x86 encoding order, EFLAGS/CR0 bits, the cached part of a
// segment register, and Fault, the value every memory access and every
// instruction handler returns instead of throwing (STYLE.md: a guest must
// not be able to unwind the emulator).
#pragma once

#include "hypervisor/base/result.h"
#include "hypervisor/base/types.h"

#include <type_traits>
#include <utility>

namespace vsa {

// General registers in ModRM encoding order. REG_NONE indexes a register
// slot that always holds zero, so an effective address is always
// base + (index << scale) + disp without branches.
enum : u8 {
    REG_EAX = 0,
    REG_ECX = 1,
    REG_EDX = 2,
    REG_EBX = 3,
    REG_ESP = 4,
    REG_EBP = 5,
    REG_ESI = 6,
    REG_EDI = 7,
    REG_NONE = 8,
};

// Segment registers in Sreg encoding order.
enum SegReg : u8 { SEG_ES = 0, SEG_CS = 1, SEG_SS = 2, SEG_DS = 3, SEG_FS = 4, SEG_GS = 5, SEG_COUNT = 6 };

// Exception vectors (SDM vol. 3, table 6-1).
enum : u8 {
    VEC_DE = 0,
    VEC_DB = 1,
    VEC_NMI = 2,
    VEC_BP = 3,
    VEC_OF = 4,
    VEC_BR = 5,
    VEC_UD = 6,
    VEC_NM = 7,
    VEC_DF = 8,
    VEC_TS = 10,
    VEC_NP = 11,
    VEC_SS = 12,
    VEC_GP = 13,
    VEC_PF = 14,
    VEC_MF = 16,
    VEC_AC = 17,
};

// EFLAGS bits.
constexpr u32 FLAG_CF = 1u << 0;
constexpr u32 FLAG_FIXED1 = 1u << 1; // always reads as 1
constexpr u32 FLAG_PF = 1u << 2;
constexpr u32 FLAG_AF = 1u << 4;
constexpr u32 FLAG_ZF = 1u << 6;
constexpr u32 FLAG_SF = 1u << 7;
constexpr u32 FLAG_TF = 1u << 8;
constexpr u32 FLAG_IF = 1u << 9;
constexpr u32 FLAG_DF = 1u << 10;
constexpr u32 FLAG_OF = 1u << 11;
constexpr u32 FLAG_IOPL = 3u << 12;
constexpr u32 FLAG_NT = 1u << 14;
constexpr u32 FLAG_RF = 1u << 16;
constexpr u32 FLAG_VM = 1u << 17;
constexpr u32 FLAG_AC = 1u << 18;
// Virtual interrupt flag and virtual interrupt pending (CR4.VME/PVI,
// v86.cpp). The processor tests VIP but never sets it: the monitor does,
// in the EFLAGS image that IRETD at CPL 0 or a task switch loads.
constexpr u32 FLAG_VIF = 1u << 19;
constexpr u32 FLAG_VIP = 1u << 20;
constexpr u32 FLAG_ID = 1u << 21;
constexpr u32 FLAGS_ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
// Bits a P6 can hold (the rest read as 0, bit 1 as 1).
constexpr u32 FLAGS_VALID = FLAGS_ARITH | FLAG_TF | FLAG_IF | FLAG_DF | FLAG_IOPL | FLAG_NT | FLAG_RF |
                            FLAG_VM | FLAG_AC | FLAG_VIF | FLAG_VIP | FLAG_ID;

// CR0 bits the interpreter acts on; the others are kept as storage.
constexpr u32 CR0_PE = 1u << 0;
constexpr u32 CR0_MP = 1u << 1;
constexpr u32 CR0_EM = 1u << 2;
constexpr u32 CR0_TS = 1u << 3;
constexpr u32 CR0_ET = 1u << 4;
constexpr u32 CR0_NE = 1u << 5;
constexpr u32 CR0_WP = 1u << 16;
constexpr u32 CR0_AM = 1u << 18;
constexpr u32 CR0_NW = 1u << 29;
constexpr u32 CR0_CD = 1u << 30;
constexpr u32 CR0_PG = 1u << 31;
constexpr u32 DR6_BS = 1u << 14; // single-step caused the #DB
constexpr u32 CR4_VME = 1u << 0;
constexpr u32 CR4_PVI = 1u << 1;
constexpr u32 CR4_TSD = 1u << 2;
constexpr u32 CR4_DE = 1u << 3;
constexpr u32 CR4_PSE = 1u << 4;
constexpr u32 CR4_PGE = 1u << 7;
constexpr u32 CR4_PCE = 1u << 8;

// Descriptor access byte (bits 40..47 of a descriptor).
constexpr u8 ACC_ACCESSED = 0x01;
constexpr u8 ACC_RW = 0x02;   // data: writable; code: readable
constexpr u8 ACC_DC = 0x04;   // data: expand-down; code: conforming
constexpr u8 ACC_CODE = 0x08; // executable
constexpr u8 ACC_S = 0x10;    // code/data (not system)
constexpr u8 ACC_P = 0x80;
// Descriptor flags nibble (bits 52..55), kept shifted down.
constexpr u8 DESC_AVL = 0x1;
constexpr u8 DESC_DB = 0x4;
constexpr u8 DESC_G = 0x8;

// The hidden part of a segment register (SDM vol. 3, 3.4.3): loaded from a
// descriptor in protected mode, only base and selector change in real
// mode, which is what makes "big real mode" work.
struct SegmentCache {
    u16 selector{0};
    u8 access{ACC_P | ACC_S | ACC_RW | ACC_ACCESSED};
    u8 flags{0}; // DESC_* nibble
    u32 base{0};
    u32 limit{0xFFFF}; // byte granular (G already applied)
    bool valid{true};  // false after loading a null selector in protected mode

    bool big() const { return (flags & DESC_DB) != 0; }
    u8 dpl() const { return (access >> 5) & 3; }
    bool is_code() const { return (access & ACC_CODE) != 0; }
    bool expand_down() const { return (access & (ACC_CODE | ACC_DC)) == ACC_DC; }
};

// A descriptor-table register (GDTR, IDTR) holds only base and limit.
struct TableRegister {
    u32 base{0};
    u16 limit{0xFFFF};
};

// An exception the current instruction raised. Interrupts and traps use
// the same delivery path (interpreter: deliver()).
struct Fault {
    u8 vector{0};
    bool has_error{false};
    u32 error{0};

    static Fault make(u8 vector) { return Fault{vector, false, 0}; }
    static Fault with_error(u8 vector, u32 error) { return Fault{vector, true, error}; }
    static Fault divide_error() { return make(VEC_DE); }
    static Fault invalid_opcode() { return make(VEC_UD); }
    static Fault no_device() { return make(VEC_NM); }
    static Fault gp(u32 error = 0) { return with_error(VEC_GP, error); }
    static Fault ss(u32 error = 0) { return with_error(VEC_SS, error); }
    static Fault np(u32 error) { return with_error(VEC_NP, error); }
    static Fault ts(u32 error) { return with_error(VEC_TS, error); }
};

// What an instruction handler (and every check or store that can fault)
// returns: done, or a fault to deliver with EIP rewound to the
// instruction's first byte. It behaves like Result<void, Fault> (TRY works
// on it and converts it) but packs into one register: a Result<void, Fault>
// is returned through the stack in pieces, and the store-forwarding stalls
// of that cost more than the average instruction handler.
class [[nodiscard]] Exec {
public:
    Exec() = default;
    Exec(Ok) {}
    Exec(Fault f) : m_bits(FAILED | (u64(f.vector) << 40) | (u64(f.has_error ? 1 : 0) << 32) | f.error) {}
    template <typename F>
    requires std::is_constructible_v<Fault, F&&> Exec(Err<F> e) : Exec(Fault(std::move(e.value))) {}

    bool has_value() const { return m_bits == 0; }
    bool is_error() const { return m_bits != 0; }
    explicit operator bool() const { return m_bits == 0; }
    void value() const {}
    void release_value() const {}
    Fault error() const {
        return Fault{static_cast<u8>(m_bits >> 40), ((m_bits >> 32) & 1) != 0, static_cast<u32>(m_bits)};
    }
    Fault release_error() const { return error(); }

private:
    static constexpr u64 FAILED = 1ull << 63;
    u64 m_bits{0};
};

// A memory read's result: the value or a fault, packed into one register
// like Exec. It converts to Result<T, Fault> and works with TRY. A
// Result<u32, Fault> (a std::variant) is assembled on the stack and read
// back whole, a store-forwarding stall on every load of the hot loops.
template <typename T>
class [[nodiscard]] Loaded {
    static_assert(sizeof(T) <= 4);

public:
    Loaded(T v) : m_bits(static_cast<u64>(v)) {}
    Loaded(Fault f) : m_bits(FAILED | (u64(f.vector) << 40) | (u64(f.has_error ? 1 : 0) << 32) | f.error) {}
    template <typename F>
    requires std::is_constructible_v<Fault, F&&> Loaded(Err<F> e) : Loaded(Fault(std::move(e.value))) {}

    bool has_value() const { return (m_bits & FAILED) == 0; }
    bool is_error() const { return (m_bits & FAILED) != 0; }
    explicit operator bool() const { return has_value(); }
    T value() const { return static_cast<T>(m_bits); }
    T release_value() const { return value(); }
    Fault error() const {
        return Fault{static_cast<u8>(m_bits >> 40), ((m_bits >> 32) & 1) != 0, static_cast<u32>(m_bits)};
    }
    Fault release_error() const { return error(); }
    operator Result<T, Fault>() const {
        if (is_error()) return error();
        return value();
    }

private:
    static constexpr u64 FAILED = 1ull << 63;
    u64 m_bits{0};
};

} // namespace vsa
