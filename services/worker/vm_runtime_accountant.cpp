// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime: IVMAccountant - a VM's CPU and I/O accounting and its CPU
// scheduling (reserve, cap, weight).
//
// Accounting (zeros when the VM is not on, as Virtual Server's S_FALSE):
//   CPUUtilization         the sampler's last figure (vm_runtime_display.cpp):
//                          the worker's CPU time over the last second, in
//                          percent of the whole host.
//   CPUUtilizationHistory  the same for each of the last 60 samples, newest
//                          first (the order of IVMVirtualNetwork's
//                          histories), zeros where there was none yet.
//   DiskBytesRead/Written  the worker's IDE drives' counters (ATA disks,
//                          ATAPI media; hw/ata_disk.h), which restart at
//                          power-on and at a reset, as of the sampler's last
//                          "query" (at most a sample interval old).
//   NetworkBytesSent/Received  what the VM's adapters sent into and got from
//                          their virtual switches (VirtualNetworks::
//                          vm_traffic), since the worker started or the last
//                          reset.
// Scheduling: see services/model/scheduling.h for the meaning and ranges,
// services/worker/cpu_cgroup.h for how a running worker is held to them.
// The reserve is admission control: a VM starts only if its reserve fits
// in what the VMs that are on (any state with a worker) leave of the host
// (VM_E_OUT_OF_RESERVE otherwise), and a running VM's reserve can grow only
// as far (AllowableReservedSystemCapacity; E_INVALIDARG beyond).
#include "services/worker/vm_runtime.h"
#include "services/worker/vm_runtime_session.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vsa::services {

namespace {

constexpr HResult VM_E_OUT_OF_RESERVE{0xA004'0208};
constexpr std::size_t HISTORY_LENGTH = 60;
// Percentages are doubles that clients round-trip through text.
constexpr double TOLERANCE = 1e-9;

std::string percent(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.6g", value);
    return text;
}

} // namespace

unsigned VmRuntime::host_processors() {
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<unsigned>(n) : 1;
}

// --- Accounting -----------------------------------------------------------------

ServiceResult<VmRuntime::Accounting> VmRuntime::accounting(Guid const& id) {
    if (!m_inventory.virtual_machine(id))
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    Accounting accounting;
    accounting.cpu_history.assign(HISTORY_LENGTH, 0);
    auto session = session_of(id);
    if (!session) return accounting;
    std::lock_guard lock(m_mutex);
    if (session->ended || !session->running_since) return accounting;
    accounting.running = true;
    auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                               *session->running_since);
    accounting.uptime_seconds = static_cast<std::int32_t>(std::min<std::int64_t>(up.count(), INT32_MAX));
    auto rounded = [](double value) { return static_cast<u8>(std::lround(std::clamp(value, 0.0, 100.0))); };
    if (!session->samples.empty()) accounting.cpu_percent = rounded(session->samples.back().cpu_percent);
    std::size_t slot = 0;
    for (auto it = session->samples.rbegin(); it != session->samples.rend() && slot < HISTORY_LENGTH; ++it)
        accounting.cpu_history[slot++] = rounded(it->cpu_percent);
    accounting.disk_bytes_read = session->disk_read;
    accounting.disk_bytes_written = session->disk_written;
    auto traffic = m_networks.vm_traffic(id);
    auto since = [](u64 now, u64 then) { return now >= then ? now - then : 0; };
    accounting.network_bytes_sent = since(traffic.bytes_sent, session->network_at_reset.bytes_sent);
    accounting.network_bytes_received =
        since(traffic.bytes_received, session->network_at_reset.bytes_received);
    return accounting;
}

// --- Scheduling -----------------------------------------------------------------

double VmRuntime::reserved_locked() const {
    double reserved = 0;
    for (auto const& [id, session] : m_sessions)
        if (!session->ended) reserved += session->reserved_percent;
    return reserved;
}

double VmRuntime::available_system_capacity() const {
    std::lock_guard lock(m_mutex);
    return std::max(0.0, 100.0 - reserved_locked());
}

ServiceResult<void> VmRuntime::admit_locked(VirtualMachine const& vm) const {
    double const wanted = vm.scheduling().reserved_percent;
    double const available = std::max(0.0, 100.0 - reserved_locked());
    if (wanted > available + TOLERANCE)
        return service_error(VM_E_OUT_OF_RESERVE,
                             "virtual machine \"" + vm.name() + "\" reserves " + percent(wanted) +
                                 " percent of the host's CPU capacity; " + "only " + percent(available) +
                                 " percent is not reserved by running virtual machines");
    return {};
}

ServiceResult<VmRuntime::Scheduling> VmRuntime::scheduling(Guid const& id) const {
    auto vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    unsigned const processors = host_processors();
    double const limit = per_vm_capacity_limit(processors);
    Scheduling result;
    result.reserved_percent = vm->scheduling().reserved_percent;
    result.maximum_percent = vm->scheduling().maximum_on(processors);
    result.relative_weight = vm->scheduling().relative_weight;
    result.allowable_maximum_percent = limit;
    std::lock_guard lock(m_mutex);
    // What the others leave: a VM that is on counts its own reserve back.
    double others = reserved_locked();
    if (auto it = m_sessions.find(id); it != m_sessions.end() && !it->second->ended)
        others -= it->second->reserved_percent;
    result.allowable_reserved_percent = std::clamp(100.0 - others, 0.0, limit);
    return result;
}

ServiceResult<void> VmRuntime::set_scheduling(Guid const& id, SchedulingParameters parameters) {
    unsigned const processors = host_processors();
    std::shared_ptr<Session> live;
    {
        std::lock_guard lock(m_mutex);
        auto vm = m_inventory.virtual_machine(id);
        if (!vm)
            return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
        TRY(check_scheduling(parameters, processors));
        if (auto it = m_sessions.find(id); it != m_sessions.end() && !it->second->ended) live = it->second;
        if (live) {
            double const allowed = std::clamp(100.0 - (reserved_locked() - live->reserved_percent), 0.0,
                                              per_vm_capacity_limit(processors));
            if (parameters.reserved_percent > allowed + TOLERANCE)
                return service_error(hr::E_INVALIDARG,
                                     "reservedSystemCapacity " + percent(parameters.reserved_percent) +
                                         " exceeds what the other running virtual machines leave (" +
                                         percent(allowed) + ", AllowableReservedSystemCapacity)");
        }
        // Under m_mutex: a startup cannot take the capacity meanwhile.
        TRY(m_inventory.update_virtual_machine(
            id, [&](VirtualMachine& changed) { return changed.set_scheduling(parameters, processors); }));
        if (live) live->reserved_percent = parameters.reserved_percent;
    }
    if (live) (void)m_cgroups.apply(id, parameters, processors); // a failure is logged once
    return {};
}

void VmRuntime::place_worker(Guid const& id, pid_t pid, SchedulingParameters const& parameters) {
    // Never fails the start: without a usable cgroup the VM runs
    // unconfined and the reason is in the log (once).
    (void)m_cgroups.place(id, pid, parameters, host_processors());
}

} // namespace vsa::services
