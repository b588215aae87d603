// SPDX-License-Identifier: GPL-2.0-or-later
// The Bochs/QEMU debug console ("debugcon"): one port where every byte the
// guest writes goes to a host log. SeaBIOS (CONFIG_DEBUG_IO, port 0x402 in
// the QEMU build) prints its debug log there, but only after a read of the
// port returns 0xE9, its way of knowing it runs on an emulator that has
// the port. There is no chip: the reference is SeaBIOS src/output.c and
// Bochs' "port E9 hack".
//
// The device is port-agnostic: the machine maps it at 0x402 (what SeaBIOS
// uses), at 0xE9 (the Bochs convention our asm test ROMs use), or both, on
// one byte-wide port each; every mapping reads 0xE9 and writes to the same
// backend.
//
// Deliberately left out: nothing; input from the host is not part of the
// protocol.
#pragma once

#include "hw/char_backend.h"
#include "hypervisor/io/device.h"

namespace vsa {

class DebugConsole final : public Device {
public:
    static constexpr u8 PRESENCE = 0xE9;
    static constexpr u16 SEABIOS_PORT = 0x402;
    static constexpr u16 BOCHS_PORT = 0xE9;

    explicit DebugConsole(CharBackend& backend) : m_backend(backend) {}

    std::string_view name() const override { return "debug_console"; }
    void reset() override {}
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;

    u64 bytes_written() const { return m_bytes; }

private:
    CharBackend& m_backend;
    u64 m_bytes{0}; // statistics only, not guest state
};

} // namespace vsa
