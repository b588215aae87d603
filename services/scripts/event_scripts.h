// SPDX-License-Identifier: GPL-2.0-or-later
// EventScripts: runs the scripts attached to VMEventTypes (the server's,
// ServerPreferences; each VM's, vm_configuration.h) when vsad records the
// matching event, as Virtual Server ran them.
//
// It listens to the event log (EventLog::set_listener), which only queues a
// copy of the event; a thread of its own maps the event to a VMEventType
// and starts the scripts on a ScriptRunner (script_runner.h), so neither
// the SOAP threads nor a VM's lifecycle ever wait for a script. Mapping:
//   VirtualServerStarted / Stopped       0 / 1 (server scripts only)
//   OnVMStateChange to Running from TurnedOff/TurningOn   2 Launched
//   OnVMStateChange to Running from Saved/Restoring       3 StateRestored
//   OnVMStateChange to Saved from a running state         4 StateSaved
//   OnVMStateChange to TurnedOff from a running state     5 TurnedOff
//   VirtualMachineTurnedOffByGuest       6 (5 follows with the state change)
//   OnReset                              7 Reset
//   OnHeartbeatStopped                   8 NoHeartbeat
//   VirtualMachineProcessorError         9 ProcessorError
// vsad records no event for host disk space (10, 11), so scripts on those
// never run. A VM event runs the server's script for it
// when VSScriptsEnabled, and the VM's own when VMScriptsEnabled.
// Launched/Restored also take the VM's activation values, TurnedOff/Saved
// drop them (ActivationStore).
//
// What a script gets: the argv its command line splits into (no shell),
// and an environment of only
//   PATH=/usr/local/bin:/usr/bin:/bin  LANG=C.UTF-8
//   VSA_EVENT=<VMEventType number>  VSA_EVENT_NAME=vmEvent_...
//   VSA_SCRIPT_SCOPE=server|vm      VSA_EVENT_MESSAGE=<the log's sentence>
//   VSA_EVENT_SEQUENCE=<event number>
// and for VM events VSA_VM_NAME, VSA_VM_ID (ConfigID) and VSA_VM_FILE (the
// .vmc); its working folder is the VM's folder (else the data folder). Its
// stdout and stderr go to vsad's log (Options::log) with the outcome; a
// script that cannot start, exits non-zero, is killed or times out is also
// an EventScriptFailed event (which runs no script).
#pragma once

#include "services/events/event_log.h"
#include "services/scripts/script_runner.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace vsa::services {

class Inventory;
class ServerPreferences;
class ActivationStore;

namespace scripts {

struct EventScriptOptions {
    std::chrono::milliseconds timeout{60'000};
    std::size_t max_running{8};
    std::function<void(std::string const&)> log; // one line of vsad's log; empty: none
};

class EventScripts {
public:
    EventScripts(EventScriptOptions options, std::filesystem::path data_dir, EventLog& events,
                 ServerPreferences& preferences, Inventory& inventory, ActivationStore& activation);
    // Stops listening, handles the events already queued (vsad's stop
    // event among them), and waits for the scripts still running.
    ~EventScripts();
    EventScripts(EventScripts const&) = delete;
    EventScripts& operator=(EventScripts const&) = delete;

    // Blocks until the queue is empty and no script runs (tests).
    void wait_idle();

private:
    void enqueue(Event const& event);
    void run();
    void handle(Event const& event);
    void fire(std::int32_t type, bool vm_scope, std::string const& command_line, Event const& event,
              std::optional<std::filesystem::path> vm_file);
    void log(std::string const& line) const;

    EventScriptOptions m_options;
    std::filesystem::path m_data_dir;
    EventLog& m_events;
    ServerPreferences& m_preferences;
    Inventory& m_inventory;
    ActivationStore& m_activation;
    ScriptRunner m_runner;
    std::map<std::string, std::int32_t> m_last_state; // VM reference -> VMVMState

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Event> m_queue;
    bool m_busy{false};
    bool m_stop{false};
    std::thread m_thread; // last: started once everything above exists
};

} // namespace scripts
} // namespace vsa::services
