// SPDX-License-Identifier: GPL-2.0-or-later
// HostInfoCache: one read of /proc, /sys and /etc serves all the IVMHostInfo
// property calls a client makes in a burst (the overview page makes ~30),
// instead of re-reading every file for each property.
#pragma once

#include "services/host_info.h"

#include <chrono>
#include <memory>
#include <mutex>

namespace vsa::appliance {

class HostInfoCache {
public:
    explicit HostInfoCache(services::HostProbe const& probe,
                           std::chrono::milliseconds max_age = std::chrono::seconds(2))
        : m_probe(probe), m_max_age(max_age) {}

    std::shared_ptr<services::HostInfo const> current() {
        std::lock_guard lock(m_mutex);
        auto now = std::chrono::steady_clock::now();
        if (!m_info || now - m_read_at > m_max_age) {
            m_info = std::make_shared<services::HostInfo const>(m_probe.read());
            m_read_at = now;
        }
        return m_info;
    }

private:
    services::HostProbe const& m_probe;
    std::chrono::milliseconds m_max_age;
    std::mutex m_mutex;
    std::shared_ptr<services::HostInfo const> m_info;
    std::chrono::steady_clock::time_point m_read_at;
};

} // namespace vsa::appliance
