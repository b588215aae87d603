// SPDX-License-Identifier: GPL-2.0-or-later
// Debug console port. See debug_console.h.
#include "hw/debug_console.h"

namespace vsa {

u32 DebugConsole::io_read(u16 offset, Width width) {
    if (offset != 0 || width != Width::Byte) {
        count_ignored();
        return width_mask(width);
    }
    return PRESENCE;
}

void DebugConsole::io_write(u16 offset, Width width, u32 value) {
    if (offset != 0 || width != Width::Byte) {
        count_ignored();
        return;
    }
    ++m_bytes;
    m_backend.write(static_cast<u8>(value));
}

void DebugConsole::visit_state(StateVisitor& v) {
    // No guest-visible state; the section still marks the device's place in
    // the stream, so a machine with a different device list fails to load.
    v.section("debug_console", 1);
}

} // namespace vsa
