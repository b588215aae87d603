// SPDX-License-Identifier: GPL-2.0-or-later
// The fixed-width vocabulary of the machine layers (hypervisor/, hw/): short
// integer names, the access width of a port or MMIO cycle, and the address
// types that cross layer boundaries.
#pragma once

#include <cstdint>

namespace vsa {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i8 = std::int8_t;
using i16 = std::int16_t;
using i32 = std::int32_t;
using i64 = std::int64_t;

// A guest physical address (after segmentation and paging, after A20).
using PhysAddr = u64;
// An x86 I/O port number.
using Port = u16;

// Width of one bus cycle, in bytes.
enum class Width : u8 { Byte = 1, Word = 2, Dword = 4 };

constexpr unsigned width_bytes(Width w) {
    return static_cast<unsigned>(w);
}
constexpr u32 width_mask(Width w) {
    return w == Width::Byte ? 0xFFu : w == Width::Word ? 0xFFFFu : 0xFFFF'FFFFu;
}

// A set of widths, for the sizes a port or MMIO range accepts.
enum WidthSet : u8 {
    WIDTH_8 = 1,
    WIDTH_16 = 2,
    WIDTH_32 = 4,
    WIDTH_8_16 = WIDTH_8 | WIDTH_16,
    WIDTH_ANY = WIDTH_8 | WIDTH_16 | WIDTH_32,
};
constexpr bool width_in(Width w, u8 set) {
    return (set & (w == Width::Byte ? WIDTH_8 : w == Width::Word ? WIDTH_16 : WIDTH_32)) != 0;
}

constexpr u64 KiB = 1024;
constexpr u64 MiB = 1024 * KiB;
constexpr u64 GiB = 1024 * MiB;

} // namespace vsa
