// SPDX-License-Identifier: GPL-2.0-or-later
// GuestOsSettings: the configuration side of IVMGuestOS, what a .vmc keeps
// under integration/microsoft: the Additions version last reported (shown
// while the VM is off), host time synchronisation, and the heartbeat
// parameters of vs-api.md section 8.1. The live side (heartbeat, OS name,
// Shutdown) belongs to the running worker and comes in a later part.
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <string>

namespace vsa::services {

struct HeartbeatSettings {
    std::int64_t time_seconds{60};     // window
    std::int64_t rate{10};             // ticks expected per window
    std::int64_t failure_interval{10}; // seconds between restart attempts
    std::int64_t failure_attempts{12}; // restart attempts
    friend bool operator==(HeartbeatSettings const&, HeartbeatSettings const&) = default;
};

class GuestOsSettings {
public:
    std::string const& additions_version() const { return m_additions_version; }
    bool is_host_time_sync_enabled() const { return m_host_time_sync; }
    HeartbeatSettings const& heartbeat() const { return m_heartbeat; }

    void set_additions_version(std::string version) { m_additions_version = std::move(version); }
    void set_host_time_sync_enabled(bool enabled) { m_host_time_sync = enabled; }
    // E_INVALIDARG for a zero window, rate or interval, or values past a day.
    ServiceResult<void> set_heartbeat(HeartbeatSettings settings);

    friend bool operator==(GuestOsSettings const&, GuestOsSettings const&) = default;

private:
    std::string m_additions_version;
    bool m_host_time_sync{true};
    HeartbeatSettings m_heartbeat;
};

} // namespace vsa::services
