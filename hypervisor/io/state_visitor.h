// SPDX-License-Identifier: GPL-2.0-or-later
// StateVisitor: one walk over a device's fields that saves or loads them
// (Dolphin's PointerWrap symmetry, QEMU's names and versions). A device
// writes its visit_state() once; the same code produces a saved state and
// reads it back.
//
// The stream is self-describing enough to catch a layout mismatch: every
// section carries its name and version, every field its name and size. On
// load the stream is untrusted (a .vsv file): every length is bounded, the
// first mismatch latches an error, and from then on every field is left as
// it was, so a device is never half-filled with garbage from a bad stream.
// Callers check ok()/error() after the walk and discard the machine if the
// load failed.
#pragma once

#include "hypervisor/base/types.h"

#include <array>
#include <cstring>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace vsa {

class StateVisitor {
public:
    enum class Mode { Save, Load };

    // A saver appends to its own buffer; take it with bytes().
    static StateVisitor saver() { return StateVisitor(Mode::Save, {}); }
    // A loader reads a copy of `stream`.
    static StateVisitor loader(std::span<u8 const> stream) { return StateVisitor(Mode::Load, stream); }

    Mode mode() const { return m_mode; }
    bool is_loading() const { return m_mode == Mode::Load; }
    bool ok() const { return m_error.empty(); }
    std::string const& error() const { return m_error; }
    std::vector<u8> const& bytes() const { return m_buffer; }
    // Load: true once every byte of the stream has been consumed.
    bool at_end() const { return m_pos == m_buffer.size(); }

    // Opens a section. On save `version` is written; on load the stored
    // version is read, must be >= 1 and <= `version` (a newer stream than
    // this build understands is refused), and version() returns it so the
    // device can skip fields that older streams lack.
    void section(std::string_view name, u32 version);
    u32 version() const { return m_version; }

    void field(std::string_view name, bool& value);
    template <typename T>
    requires(std::is_integral_v<T> || std::is_enum_v<T>) void field(std::string_view name, T& value) {
        u8 raw[sizeof(T)];
        if (m_mode == Mode::Save) std::memcpy(raw, &value, sizeof(T));
        if (!raw_field(name, raw, sizeof(T))) return;
        if (m_mode == Mode::Load) std::memcpy(&value, raw, sizeof(T));
    }
    template <typename T, std::size_t N>
    requires(std::is_integral_v<T>) void field(std::string_view name, std::array<T, N>& values) {
        bytes_field(name, std::as_writable_bytes(std::span(values)));
    }
    // A fixed-size byte block (RAM pages, VRAM, config space).
    void bytes_field(std::string_view name, std::span<std::byte> data);
    // A variable-length byte buffer or FIFO; a load longer than `max_size`
    // is an error (guest-visible FIFOs have a hardware depth).
    void field(std::string_view name, std::vector<u8>& data, std::size_t max_size);
    void field(std::string_view name, std::deque<u8>& data, std::size_t max_size);

    // Load: enum values and indices must be range-checked by the device; it
    // reports a bad value here so the whole load fails cleanly.
    void fail(std::string message);

private:
    StateVisitor(Mode mode, std::span<u8 const> stream);
    bool raw_field(std::string_view name, u8* data, std::size_t size);
    void put_name(std::string_view name);
    bool expect_name(std::string_view name);
    bool take(void* out, std::size_t size);
    void put(void const* data, std::size_t size);

    Mode m_mode;
    std::vector<u8> m_buffer;
    std::size_t m_pos{0};
    u32 m_version{0};
    std::string m_error;
};

} // namespace vsa
