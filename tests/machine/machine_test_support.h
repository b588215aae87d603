// SPDX-License-Identifier: GPL-2.0-or-later
// What the tests that run the assembled PC share: a capture of what the
// guest writes, a run with a host-time watchdog, machine creation that fails
// the test with the reason, and whether SeaBIOS is installed.
#pragma once

#include "hypervisor/machine/pc_machine.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace vsa::test {

// Output a guest writes (COM1, the debug console), readable from the test
// thread: the machine's thread appends under a lock.
class SharedBackend final : public CharBackend {
public:
    void write(u8 byte) override;
    std::string text() const;
    bool contains(std::string_view needle) const { return text().find(needle) != std::string::npos; }

private:
    mutable std::mutex m_mutex;
    std::string m_text;
};

// Runs the machine on this thread until it exits; a watchdog stops it after
// `limit` of host time, so a broken guest fails the test instead of hanging it.
MachineExit run_with_limit(PcMachine& machine, std::chrono::seconds limit = std::chrono::seconds(300));

// PcMachine::create, failing the test with the reason.
std::unique_ptr<PcMachine> make_machine(PcMachineConfig const& config);

// The firmware the boots need (Debian's seabios package).
bool seabios_present();

} // namespace vsa::test
