// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/io/io_bus.h"

namespace vsa {

IoBus::IoBus() : m_index(std::make_unique<std::array<u16, 0x10000>>()) {
    m_index->fill(0);
}

bool IoBus::map(Port base, u32 count, Device& device, u8 widths, u16 offset_base) {
    if (count == 0 || u32(base) + count > 0x10000) return false;
    for (u32 p = base; p < u32(base) + count; ++p)
        if ((*m_index)[p] != 0) return false;
    // Reuse a freed slot so a guest remapping a BAR forever cannot grow
    // the table.
    std::size_t slot = m_mappings.size();
    for (std::size_t i = 0; i < m_mappings.size(); ++i)
        if (m_mappings[i].device == nullptr) {
            slot = i;
            break;
        }
    if (slot == m_mappings.size()) {
        if (m_mappings.size() >= 0xFFFE) return false;
        m_mappings.push_back({});
    }
    m_mappings[slot] = {base, count, &device, widths, offset_base};
    for (u32 p = base; p < u32(base) + count; ++p)
        (*m_index)[p] = static_cast<u16>(slot + 1);
    return true;
}

void IoBus::unmap(Port base, Device& device) {
    u16 entry = (*m_index)[base];
    if (entry == 0) return;
    Mapping& m = m_mappings[entry - 1];
    if (m.device != &device || m.base != base) return;
    for (u32 p = base; p < u32(base) + m.count; ++p)
        (*m_index)[p] = 0;
    m.device = nullptr;
}

Device* IoBus::device_at(Port port) const {
    u16 entry = (*m_index)[port];
    return entry ? m_mappings[entry - 1].device : nullptr;
}

u32 IoBus::read_one(Mapping const& m, Port port, Width width) {
    return m.device->io_read(static_cast<u16>(port - m.base + m.offset_base), width) & width_mask(width);
}

u32 IoBus::read(Port port, Width width) {
    u16 entry = (*m_index)[port];
    if (entry == 0) {
        if (width == Width::Byte) {
            ++m_unmapped;
            return 0xFF;
        }
    } else {
        Mapping const& m = m_mappings[entry - 1];
        bool fits = u32(port) + width_bytes(width) <= u32(m.base) + m.count;
        if (fits && width_in(width, m.widths)) return read_one(m, port, width);
        if (width == Width::Byte) return 0xFF; // bytes not accepted at all
    }
    // Split into byte cycles, each routed on its own (ports wrap at 64 Ki).
    u32 value = 0;
    for (unsigned i = 0; i < width_bytes(width); ++i) {
        Port p = static_cast<Port>(port + i);
        u16 e = (*m_index)[p];
        u32 byte = 0xFF;
        if (e == 0)
            ++m_unmapped;
        else if (width_in(Width::Byte, m_mappings[e - 1].widths))
            byte = read_one(m_mappings[e - 1], p, Width::Byte);
        value |= byte << (8 * i);
    }
    return value;
}

void IoBus::write(Port port, Width width, u32 value) {
    value &= width_mask(width);
    u16 entry = (*m_index)[port];
    if (entry != 0) {
        Mapping const& m = m_mappings[entry - 1];
        bool fits = u32(port) + width_bytes(width) <= u32(m.base) + m.count;
        if (fits && width_in(width, m.widths)) {
            m.device->io_write(static_cast<u16>(port - m.base + m.offset_base), width, value);
            return;
        }
        if (width == Width::Byte) return;
    } else if (width == Width::Byte) {
        ++m_unmapped;
        return;
    }
    for (unsigned i = 0; i < width_bytes(width); ++i) {
        Port p = static_cast<Port>(port + i);
        u16 e = (*m_index)[p];
        if (e == 0) {
            ++m_unmapped;
            continue;
        }
        Mapping const& m = m_mappings[e - 1];
        if (width_in(Width::Byte, m.widths))
            m.device->io_write(static_cast<u16>(p - m.base + m.offset_base), Width::Byte,
                               (value >> (8 * i)) & 0xFF);
    }
}

} // namespace vsa
