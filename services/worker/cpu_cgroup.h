// SPDX-License-Identifier: GPL-2.0-or-later
// CpuCgroups: a running VM's CPU scheduling (scheduling.h) enforced on its
// vsa-vm worker with the cgroup v2 "cpu" controller.
//
// Layout: one group per VM, <root>/<vm ConfigID>, under a group of vsad's
// own, <root> (by default "vsa" at the top of the cgroup2 mount, so
// /sys/fs/cgroup/vsa/<id> on a pure cgroup v2 host). At the first VM the
// "cpu" controller is enabled for <root>'s parent's children and for
// <root>'s (cgroup.subtree_control "+cpu"); each worker's pid is written
// to its VM's cgroup.procs (all its threads move), the group is removed
// when the worker has ended.
//
// The mappings (pure functions below, unit-tested):
//   RelativeWeight -> cpu.weight: the same number. Both range 1-10000
//       with a default of 100 and are proportional shares among siblings,
//       so Virtual Server's weight is cgroup's weight unchanged.
//   MaximumSystemCapacity -> cpu.max "<quota> <period>": a cap of p percent
//       of a host with n processors is p / 100 * n processors' time, so
//       quota = p / 100 * n * period, period 100000 us (the kernel's
//       default), quota at least 1000 us (the kernel's minimum). The cap
//       that is a whole processor (100 / n percent, the default) is "max":
//       a VM's one virtual CPU cannot use more, and its worker's helper
//       threads (control, screen) are not to be throttled for it.
//   ReservedSystemCapacity: nothing here. cgroup v2 has no CPU minimum;
//       the reserve is admission control (VmRuntime: the reserves of the
//       running VMs never add up to more than the host).
//
// Where cgroup v2 cannot be used (not mounted, the cpu controller bound to
// cgroup v1 or not delegated to us, no permission) the settings are still
// stored and checked by the callers; place() and apply() then fail with
// the reason, which goes to the log once (the first time), and the VM runs
// unconfined. A VM never fails to start because of it.
//
// Thread-safe.
#pragma once

#include "services/model/guid.h"
#include "services/model/scheduling.h"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace vsa::services {

inline constexpr std::uint64_t CGROUP_CPU_PERIOD_US = 100'000;
inline constexpr std::uint64_t CGROUP_MIN_QUOTA_US = 1'000;

// RelativeWeight (1-10000) as cpu.weight (1-10000): the same value,
// clamped into the range.
std::uint32_t cgroup_cpu_weight(std::int32_t relative_weight);

// MaximumSystemCapacity (percent of the host) on a host of
// `host_processors` processors as cpu.max: quota (nullopt: "max") and
// period in microseconds.
struct CgroupCpuMax {
    std::optional<std::uint64_t> quota_us;
    std::uint64_t period_us{CGROUP_CPU_PERIOD_US};
    // The text cpu.max takes: "60000 100000" or "max 100000".
    std::string text() const;
    friend bool operator==(CgroupCpuMax const&, CgroupCpuMax const&) = default;
};
CgroupCpuMax cgroup_cpu_max(double maximum_percent, unsigned host_processors,
                            std::uint64_t period_us = CGROUP_CPU_PERIOD_US);

class CpuCgroups {
public:
    using Log = std::function<void(std::string const&)>;

    // `root`: vsad's group (see the top); empty: off, with `off_reason`
    // as the reason place() gives.
    CpuCgroups(std::filesystem::path root, Log log, std::string off_reason = "cgroup v2 is not mounted");

    // "<cgroup2 mount>/vsa" from a mounts table (/proc/self/mounts
    // format), or nullopt when no cgroup2 file system is mounted.
    static std::optional<std::filesystem::path>
    default_root(std::filesystem::path const& mounts = "/proc/self/mounts");

    std::filesystem::path const& root() const { return m_root; }
    std::filesystem::path group_of(Guid const& vm) const;

    // Makes the VM's group, writes its cpu.weight and cpu.max and moves
    // `pid` into it. The error is the reason it could not (logged once).
    Result<void, std::string> place(Guid const& vm, pid_t pid, SchedulingParameters const& parameters,
                                    unsigned host_processors);
    // New parameters for a VM already placed.
    Result<void, std::string> apply(Guid const& vm, SchedulingParameters const& parameters,
                                    unsigned host_processors);
    // Removes the VM's group (its worker has ended); quiet.
    void remove(Guid const& vm);

private:
    Result<void, std::string> prepare_locked();
    Result<void, std::string> write_locked(Guid const& vm, SchedulingParameters const& parameters,
                                           unsigned host_processors);
    Result<void, std::string> failed_locked(std::string reason);

    std::filesystem::path m_root;
    Log m_log;
    std::mutex m_mutex;
    bool m_prepared{false};
    std::optional<std::string> m_off; // the reason, when there is no cgroup to use
    bool m_logged{false};
};

} // namespace vsa::services
