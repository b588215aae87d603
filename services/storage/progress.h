// SPDX-License-Identifier: GPL-2.0-or-later
// Progress: how a long storage operation (creating a fixed disk, compact,
// convert, merge) reports how far it got and learns that it should stop.
// IVMTask's PercentCompleted and Cancel sit on top of it.
#pragma once

#include <cstdint>
#include <functional>

namespace vsa::storage {

struct Progress {
    // Called with a percentage that only grows, at least every 1% and once
    // with 100 before the result is made final. Return false to cancel. May
    // be empty.
    std::function<bool(std::uint32_t percent)> report;
};

} // namespace vsa::storage
