// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/machine/machine_test_support.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

namespace vsa::test {

void SharedBackend::write(u8 byte) {
    std::lock_guard lock(m_mutex);
    m_text.push_back(static_cast<char>(byte));
}

std::string SharedBackend::text() const {
    std::lock_guard lock(m_mutex);
    return m_text;
}

MachineExit run_with_limit(PcMachine& machine, std::chrono::seconds limit) {
    std::atomic<bool> done{false};
    std::thread watchdog([&] {
        auto until = std::chrono::steady_clock::now() + limit;
        while (!done.load() && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (!done.load()) machine.request_stop();
    });
    MachineExit exit = machine.run();
    done.store(true);
    watchdog.join();
    return exit;
}

std::unique_ptr<PcMachine> make_machine(PcMachineConfig const& config) {
    auto created = PcMachine::create(config);
    if (created.is_error()) BOOST_FAIL(created.error());
    return created.release_value();
}

bool seabios_present() {
    return std::filesystem::exists("/usr/share/seabios/bios.bin");
}

} // namespace vsa::test
