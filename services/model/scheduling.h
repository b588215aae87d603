// SPDX-License-Identifier: GPL-2.0-or-later
// SchedulingParameters: a VM's CPU scheduling settings (IVMAccountant
// ReservedSystemCapacity, MaximumSystemCapacity, RelativeWeight and
// SetSchedulingParameters), kept in its .vmc.
//
// Capacities are percentages of the whole host (all logical processors),
// as Virtual Server's: a VM has one virtual CPU, so it can use at most one
// host processor, 100 / <host processors> percent of the host. That is the
// upper bound of both the reserve and the cap (the reference's "for two
// host processors, the maximum percentage is 50"); the reserve is 0 or
// more, the cap 1 or more, the reserve at most the cap; the weight
// 1-10000 (default 100).
//
// What the runtime does with them (services/worker/cpu_cgroup.h): the cap
// and the weight become the worker's cgroup v2 cpu.max and cpu.weight;
// the reserve is admission control (the reserves of the running VMs add
// up to at most 100 percent; IVMVirtualServer.AvailableSystemCapacity is
// what is left).
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <optional>

namespace vsa::services {

struct SchedulingParameters {
    static constexpr std::int32_t MIN_WEIGHT = 1;
    static constexpr std::int32_t MAX_WEIGHT = 10'000;
    static constexpr std::int32_t DEFAULT_WEIGHT = 100;
    static constexpr double MIN_MAXIMUM = 1.0;

    double reserved_percent{0.0};
    // Absent: never set, which means "all of one host processor" on
    // whatever host the VM runs (per_vm_capacity_limit).
    std::optional<double> maximum_percent;
    std::int32_t relative_weight{DEFAULT_WEIGHT};

    // The cap on a host with `host_processors` processors.
    double maximum_on(unsigned host_processors) const;

    friend bool operator==(SchedulingParameters const&, SchedulingParameters const&) = default;
};

// 100 / host_processors: one processor's share of the host.
double per_vm_capacity_limit(unsigned host_processors);

// E_INVALIDARG, naming the bad value, unless the parameters fit a host with
// `host_processors` processors (see the top of this file). An absent
// maximum stands for the limit.
ServiceResult<void> check_scheduling(SchedulingParameters const& parameters, unsigned host_processors);

} // namespace vsa::services
