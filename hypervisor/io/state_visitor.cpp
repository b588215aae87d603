// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/io/state_visitor.h"

namespace vsa {

namespace {
// Tags in front of each record, so a stream cut or shifted by one byte is
// caught at the next record rather than read as plausible values.
constexpr u8 TAG_SECTION = 0xA5;
constexpr u8 TAG_FIELD = 0x5A;
constexpr std::size_t MAX_NAME = 64;
} // namespace

StateVisitor::StateVisitor(Mode mode, std::span<u8 const> stream)
    : m_mode(mode), m_buffer(stream.begin(), stream.end()) {}

void StateVisitor::fail(std::string message) {
    if (m_error.empty()) m_error = std::move(message);
}

void StateVisitor::put(void const* data, std::size_t size) {
    if (size == 0) return; // an empty FIFO: data may be null
    auto const* p = static_cast<u8 const*>(data);
    m_buffer.insert(m_buffer.end(), p, p + size);
}

bool StateVisitor::take(void* out, std::size_t size) {
    if (!ok()) return false;
    if (m_buffer.size() - m_pos < size) {
        fail("saved state is truncated");
        return false;
    }
    if (size == 0) return true;
    std::memcpy(out, m_buffer.data() + m_pos, size);
    m_pos += size;
    return true;
}

void StateVisitor::put_name(std::string_view name) {
    auto length = static_cast<u8>(std::min(name.size(), MAX_NAME));
    put(&length, 1);
    put(name.data(), length);
}

bool StateVisitor::expect_name(std::string_view name) {
    u8 length = 0;
    if (!take(&length, 1)) return false;
    char stored[MAX_NAME];
    if (length > MAX_NAME || !take(stored, length)) {
        fail("saved state: bad field name");
        return false;
    }
    auto expected = name.substr(0, MAX_NAME);
    if (std::string_view(stored, length) != expected) {
        fail("saved state: expected '" + std::string(expected) + "', found '" + std::string(stored, length) +
             "'");
        return false;
    }
    return true;
}

void StateVisitor::section(std::string_view name, u32 version) {
    if (m_mode == Mode::Save) {
        put(&TAG_SECTION, 1);
        put_name(name);
        put(&version, sizeof version);
        m_version = version;
        return;
    }
    u8 tag = 0;
    if (!take(&tag, 1)) return;
    if (tag != TAG_SECTION) return fail("saved state: expected section '" + std::string(name) + "'");
    if (!expect_name(name)) return;
    u32 stored = 0;
    if (!take(&stored, sizeof stored)) return;
    if (stored == 0 || stored > version)
        return fail("saved state: section '" + std::string(name) + "' has version " + std::to_string(stored) +
                    ", this build reads up to " + std::to_string(version));
    m_version = stored;
}

bool StateVisitor::raw_field(std::string_view name, u8* data, std::size_t size) {
    u32 size32 = static_cast<u32>(size);
    if (m_mode == Mode::Save) {
        put(&TAG_FIELD, 1);
        put_name(name);
        put(&size32, sizeof size32);
        put(data, size);
        return true;
    }
    u8 tag = 0;
    if (!take(&tag, 1)) return false;
    if (tag != TAG_FIELD) {
        fail("saved state: expected field '" + std::string(name) + "'");
        return false;
    }
    if (!expect_name(name)) return false;
    u32 stored = 0;
    if (!take(&stored, sizeof stored)) return false;
    if (stored != size32) {
        fail("saved state: field '" + std::string(name) + "' has the wrong size");
        return false;
    }
    return take(data, size);
}

void StateVisitor::field(std::string_view name, bool& value) {
    u8 raw = value ? 1 : 0;
    if (!raw_field(name, &raw, 1)) return;
    if (m_mode == Mode::Load) {
        if (raw > 1) return fail("saved state: field '" + std::string(name) + "' is not a boolean");
        value = raw != 0;
    }
}

void StateVisitor::bytes_field(std::string_view name, std::span<std::byte> data) {
    raw_field(name, reinterpret_cast<u8*>(data.data()), data.size());
}

void StateVisitor::field(std::string_view name, std::vector<u8>& data, std::size_t max_size) {
    u32 length = static_cast<u32>(data.size());
    field(std::string(name) + ".length", length);
    if (!ok()) return;
    if (length > max_size) return fail("saved state: '" + std::string(name) + "' is longer than its limit");
    std::vector<u8> copy = data;
    copy.resize(length);
    if (!raw_field(name, copy.data(), length)) return;
    if (m_mode == Mode::Load) data = std::move(copy);
}

void StateVisitor::field(std::string_view name, std::deque<u8>& data, std::size_t max_size) {
    std::vector<u8> flat(data.begin(), data.end());
    field(name, flat, max_size);
    if (m_mode == Mode::Load && ok()) data.assign(flat.begin(), flat.end());
}

} // namespace vsa
