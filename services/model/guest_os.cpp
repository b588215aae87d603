// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/guest_os.h"

namespace vsa::services {

ServiceResult<void> GuestOsSettings::set_heartbeat(HeartbeatSettings settings) {
    constexpr std::int64_t DAY = 86'400;
    auto in_range = [](std::int64_t value, std::int64_t min, std::int64_t max) {
        return value >= min && value <= max;
    };
    if (!in_range(settings.time_seconds, 1, DAY) || !in_range(settings.rate, 1, DAY) ||
        !in_range(settings.failure_interval, 1, DAY) || !in_range(settings.failure_attempts, 0, 10'000))
        return service_error(hr::E_INVALIDARG, "heartbeat settings out of range (window, rate and interval "
                                               "1-86400, attempts 0-10000)");
    m_heartbeat = settings;
    return {};
}

} // namespace vsa::services
