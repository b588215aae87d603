// SPDX-License-Identifier: GPL-2.0-or-later
// The POST diagnostic port 0x80 (the "port 80 card" latch). BIOSes write
// their progress codes here; operating systems also write to it as an I/O
// delay. There is no chip datasheet: this is the ISA POST card convention,
// and reads return the last value written, as on chipsets that latch it
// (Intel ICH and many clones; a PIIX board reads open bus, which no guest
// relies on).
//
// Keeps the last code and a short history (oldest first) for tests, the
// boot tests' failure reports and vsa-vm's debug output, and can call a
// listener on every write.
//
// Deliberately left out: nothing. The delay the write provides is the bus
// cycle itself; the machine charges it like any port access.
#pragma once

#include "hypervisor/io/device.h"

#include <array>
#include <cstddef>
#include <functional>
#include <vector>

namespace vsa {

class PostPort final : public Device {
public:
    static constexpr std::size_t HISTORY = 16;

    PostPort() { reset(); }

    std::string_view name() const override { return "post_port"; }
    void reset() override;
    u32 io_read(u16 offset, Width width) override;
    void io_write(u16 offset, Width width, u32 value) override;
    void visit_state(StateVisitor& visitor) override;

    u8 last() const { return m_last; }
    // Up to HISTORY codes, oldest first (the last one included).
    std::vector<u8> history() const { return {m_history.begin(), m_history.begin() + m_count}; }
    // Called on every write (VM thread), e.g. to print codes as they come.
    void set_listener(std::function<void(u8)> listener) { m_listener = std::move(listener); }

private:
    std::function<void(u8)> m_listener;
    u8 m_last{0};
    std::array<u8, HISTORY> m_history{};
    u8 m_count{0};
};

} // namespace vsa
