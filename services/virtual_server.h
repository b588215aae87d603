// SPDX-License-Identifier: GPL-2.0-or-later
// VirtualServer: the root object of the management model (IVMVirtualServer).
// It owns what is server-wide: identity (name, version, installation product
// ID), uptime, the per-VM limits of the hardware we emulate, and the host
// inventory, the inventory of registered VMs and virtual networks, the
// VMs' power lifecycle (one vsa-vm worker per running VM), the tasks of
// asynchronous operations (IVMVirtualServer.Tasks) and the VHD creations.
#pragma once

#include "services/events/event_log.h"
#include "services/host_info.h"
#include "services/inventory.h"
#include "services/model/vm_limits.h"
#include "services/scripts/event_scripts.h"
#include "services/security/account_sids.h"
#include "services/server_preferences.h"
#include "services/service_error.h"
#include "services/task/task_registry.h"
#include "services/task/vhd_tasks.h"
#include "services/vm_configuration.h"
#include "services/worker/vm_runtime.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace vsa::services {

class VirtualServer {
public:
    struct Options {
        std::filesystem::path data_dir;
        std::filesystem::path host_root{"/"}; // tests point this at a fake /proc, /sys, /etc
        // First-start defaults of DefaultVMConfigurationPath and the virtual
        // network folder; empty: "Virtual Machines" and "Virtual Networks"
        // in data_dir. After the first start options.xml has the say.
        std::filesystem::path default_vm_path{};
        std::filesystem::path default_vn_path{};
        // The vsa-vm workers: binary, logging, timeouts (vm_runtime.h).
        VmRuntimeOptions worker{};
        // Retention and bound of the task list (task_registry.h).
        TaskRegistry::Options tasks{};
        // How many events the log keeps (<data_dir>/events.log, event_log.h).
        std::size_t max_events{10'000};
        // Event scripts: timeout, concurrency, where their output goes.
        scripts::EventScriptOptions scripts{};
        // Host drives beyond the ones HostProbe finds (HostProbe::set_configured_drives).
        std::vector<std::string> extra_host_drives{};
    };

    // Loads (or on first start creates) the installation identity kept in
    // data_dir/server.id. Fails with a clear message, never later.
    static ServiceResult<std::unique_ptr<VirtualServer>> open(Options options);
    ~VirtualServer();
    VirtualServer(VirtualServer const&) = delete;
    VirtualServer& operator=(VirtualServer const&) = delete;

    std::string name() const;
    std::string version() const;
    std::string const& product_id() const { return m_product_id; }
    std::int32_t uptime_seconds() const;
    std::uint32_t default_locale() const { return 1033; } // en-US: the only UI language we ship
    // Percent of host CPU not reserved by the VMs that are on
    // (VmRuntime::available_system_capacity, IVMAccountant's reserves).
    double available_system_capacity() const {
        return m_runtime ? m_runtime->available_system_capacity() : 100.0;
    }
    std::int32_t suggested_maximum_memory_mb() const;

    HostProbe const& host() const { return m_host; }

    // The registered VMs and networks and the server paths (inventory.h,
    // which documents its locking). Opened with the server.
    Inventory& inventory() { return *m_inventory; }
    Inventory const& inventory() const { return *m_inventory; }
    // Startup, TurnOff, Save, ... (vm_runtime.h). Destroyed before the
    // inventory: stopping the server saves or turns off the running VMs.
    VmRuntime& runtime() { return *m_runtime; }
    // The event log: every inventory change, VM state change, worker
    // event and task completion lands here, in order (event_log.h).
    EventLog& events() { return *m_events; }
    // Records the server's own start and stop. record_stopping also stops
    // the pending autostarts and wakes the long polls.
    void record_started();
    void record_stopping();

    // AutoStartAtLaunch: starts, each after its AutoStartAtLaunchDelay, the
    // registered VMs whose policy says so - Always, or IfRunningAtQuit when
    // it was running or paused when vsad last stopped (VmRuntime::shutdown
    // records that; its ShutdownActionOnQuit saved it, so it resumes where
    // it was). Runs on a thread of its own, so a long delay holds nothing;
    // a VM a client started meanwhile is left alone, and a failed start is
    // an event (VirtualMachineError). Called once, by vsad, once it serves.
    // Returns how many VMs are due.
    std::size_t start_autostart_vms();

    // Per-user preferences, the script switches, the server's scripts and
    // the locale (server_preferences.h).
    ServerPreferences& preferences() { return *m_preferences; }
    // The running VMs' activation values (vm_configuration.h).
    ActivationStore& activation() { return m_activation; }
    // The dispatcher that runs event scripts (scripts/event_scripts.h).
    scripts::EventScripts& event_scripts() { return *m_scripts; }

    // The SIDs of the appliance's accounts and groups (<data dir>/
    // account-sids.txt, security/account_sids.h).
    security::AccountSids& account_sids() { return *m_account_sids; }

    // IVMVirtualServer.Tasks and the tasks clients look up by reference.
    TaskRegistry& tasks() { return *m_tasks; }
    // CreateDynamic/Fixed/DifferencingVirtualHardDisk (vhd_tasks.h).
    // Destroyed first: running creations are cancelled and joined.
    VhdTasks& disk_tasks() { return *m_disk_tasks; }

private:
    VirtualServer(Options options, std::string product_id, std::unique_ptr<Inventory> inventory,
                  std::unique_ptr<EventLog> events, std::unique_ptr<ServerPreferences> preferences);
    void wire_events();

    Options m_options;
    std::string m_product_id;
    HostProbe m_host;
    std::chrono::steady_clock::time_point m_started;
    // Declared first so it is destroyed last: everything below reports to it.
    std::unique_ptr<EventLog> m_events;
    // Declared before the others so it is destroyed after them: they hold its tasks.
    std::unique_ptr<TaskRegistry> m_tasks;
    std::unique_ptr<Inventory> m_inventory;
    std::unique_ptr<ServerPreferences> m_preferences;
    ActivationStore m_activation;
    std::unique_ptr<security::AccountSids> m_account_sids;
    // Before the runtime, so it is destroyed after it: the state changes of
    // vsad's stop (VMs saved or turned off) still run their scripts.
    std::unique_ptr<scripts::EventScripts> m_scripts;
    std::unique_ptr<VmRuntime> m_runtime;
    std::unique_ptr<VhdTasks> m_disk_tasks;
    // Last, so it is stopped first: it calls into the runtime.
    struct Autostart;
    std::unique_ptr<Autostart> m_autostart;
};

} // namespace vsa::services
