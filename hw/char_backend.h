// SPDX-License-Identifier: GPL-2.0-or-later
// CharBackend: the host end of a character device (a UART's cable, the
// debug console's log file).
//
// Guest -> host: the device calls write() once per byte, on the VM thread,
// when the byte leaves the wire (for a UART: after its character time).
//
// Host -> guest: input may be produced on other threads (a console
// WebSocket, a named pipe), but devices run only on the VM thread. So the
// backend keeps its input until the VM thread asks for it: the device (or
// the machine, on the backend's wake-up) calls pending_input() to see what
// is waiting and consume_input(n) for the n bytes the guest-visible FIFO
// had room for. Bytes not consumed stay queued and are offered again later:
// flow control, nothing is lost. A threaded backend moves its input into a
// VM-thread-owned buffer inside pending_input(); the span it returns must
// stay valid until the matching consume_input() or the next
// pending_input().
#pragma once

#include "hypervisor/base/types.h"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace vsa {

class CharBackend {
public:
    virtual ~CharBackend() = default;

    // One byte from the guest. Must not block the VM thread for long: a
    // slow sink buffers.
    virtual void write(u8 byte) = 0;

    // Input waiting for the guest, oldest first (empty: none).
    virtual std::span<u8 const> pending_input() { return {}; }
    // The first `count` bytes of the last pending_input() were delivered.
    virtual void consume_input(std::size_t count) { (void)count; }
};

// An unconnected port: output vanishes, no input ever arrives.
class NullCharBackend final : public CharBackend {
public:
    void write(u8) override {}
};

// Collects output in a string and serves input from a string: for device
// tests, the boot tests (assert on serial output) and simple scripting.
class BufferCharBackend final : public CharBackend {
public:
    void write(u8 byte) override { m_output.push_back(static_cast<char>(byte)); }

    std::string const& output() const { return m_output; }
    // Returns the output collected so far and starts afresh.
    std::string take_output() {
        std::string out;
        out.swap(m_output);
        return out;
    }

    // Queues bytes for the guest (typed text, a scripted reply).
    void push_input(std::string_view text) {
        compact();
        m_input.append(text);
    }
    std::size_t input_waiting() const { return m_input.size() - m_consumed; }

    std::span<u8 const> pending_input() override {
        return {reinterpret_cast<u8 const*>(m_input.data()) + m_consumed, m_input.size() - m_consumed};
    }
    void consume_input(std::size_t count) override {
        m_consumed += count < input_waiting() ? count : input_waiting();
        compact();
    }

private:
    // Drops what was consumed once nothing refers to it any more, so a long
    // session does not grow the buffer without bound.
    void compact() {
        if (m_consumed == m_input.size()) {
            m_input.clear();
            m_consumed = 0;
        }
    }

    std::string m_output;
    std::string m_input;
    std::size_t m_consumed{0};
};

} // namespace vsa
