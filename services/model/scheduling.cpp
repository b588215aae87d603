// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/scheduling.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace vsa::services {

namespace {

// 100 / 3 is 33.333...: a client that sends the limit it read back, or a
// rounded decimal of it, must not be refused for the last bits.
constexpr double TOLERANCE = 1e-9;

std::string percent(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.6g", value);
    return text;
}

} // namespace

double per_vm_capacity_limit(unsigned host_processors) {
    return 100.0 / std::max(1u, host_processors);
}

double SchedulingParameters::maximum_on(unsigned host_processors) const {
    double limit = per_vm_capacity_limit(host_processors);
    return maximum_percent ? std::min(*maximum_percent, limit) : limit;
}

ServiceResult<void> check_scheduling(SchedulingParameters const& parameters, unsigned host_processors) {
    double const limit = per_vm_capacity_limit(host_processors);
    std::string const host = " (a VM can use at most one of the host's " + std::to_string(host_processors) +
                             " processors: " + percent(limit) + " percent of the host)";
    double const reserved = parameters.reserved_percent;
    if (!std::isfinite(reserved) || reserved < 0 || reserved > limit + TOLERANCE)
        return service_error(hr::E_INVALIDARG, "reservedSystemCapacity " + percent(reserved) + " is not 0-" +
                                                   percent(limit) + host);
    double const maximum = parameters.maximum_percent.value_or(limit);
    if (!std::isfinite(maximum) || maximum < SchedulingParameters::MIN_MAXIMUM || maximum > limit + TOLERANCE)
        return service_error(hr::E_INVALIDARG,
                             "maxSystemCapacity " + percent(maximum) + " is not 1-" + percent(limit) + host);
    if (reserved > maximum)
        return service_error(hr::E_INVALIDARG, "reservedSystemCapacity " + percent(reserved) +
                                                   " exceeds maxSystemCapacity " + percent(maximum));
    if (parameters.relative_weight < SchedulingParameters::MIN_WEIGHT ||
        parameters.relative_weight > SchedulingParameters::MAX_WEIGHT)
        return service_error(hr::E_INVALIDARG, "relativeWeight " +
                                                   std::to_string(parameters.relative_weight) +
                                                   " is not 1-10000");
    return {};
}

} // namespace vsa::services
