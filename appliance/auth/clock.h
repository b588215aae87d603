// SPDX-License-Identifier: GPL-2.0-or-later
// SteadyClockFn: the time source the session store and the login throttle
// read. It is injected (rather than calling steady_clock::now directly) so
// tests can step time instead of sleeping through idle timeouts and lockouts.
#pragma once

#include <chrono>
#include <functional>
#include <utility>

namespace vsa::appliance {

using SteadyClockFn = std::function<std::chrono::steady_clock::time_point()>;

// An empty function means "the real clock"; resolve that once at construction
// so the hot paths never test for it.
inline SteadyClockFn steady_clock_or_default(SteadyClockFn clock) {
    if (clock) return clock;
    return [] { return std::chrono::steady_clock::now(); };
}

} // namespace vsa::appliance
