// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/scripts/event_scripts.h"

#include "services/inventory.h"
#include "services/scripts/command_line.h"
#include "services/server_preferences.h"
#include "services/vm_configuration.h"

namespace vsa::services::scripts {

namespace {

constexpr std::size_t MAX_QUEUE = 10'000;

constexpr std::int32_t EV_SERVER_STARTED = 0;
constexpr std::int32_t EV_SERVER_STOPPED = 1;
constexpr std::int32_t EV_LAUNCHED = 2;
constexpr std::int32_t EV_RESTORED = 3;
constexpr std::int32_t EV_SAVED = 4;
constexpr std::int32_t EV_TURNED_OFF = 5;
constexpr std::int32_t EV_TURNED_OFF_BY_GUEST = 6;
constexpr std::int32_t EV_RESET = 7;
constexpr std::int32_t EV_NO_HEARTBEAT = 8;
constexpr std::int32_t EV_PROCESSOR_ERROR = 9;

bool is_running_state(VmState state) {
    return state == VmState::Running || state == VmState::Paused || state == VmState::Saving ||
           state == VmState::TurningOff || state == VmState::TurningOn || state == VmState::Restoring;
}

} // namespace

EventScripts::EventScripts(EventScriptOptions options, std::filesystem::path data_dir, EventLog& events,
                           ServerPreferences& preferences, Inventory& inventory, ActivationStore& activation)
    : m_options(std::move(options)), m_data_dir(std::move(data_dir)), m_events(events),
      m_preferences(preferences), m_inventory(inventory), m_activation(activation),
      m_runner(m_options.max_running) {
    m_thread = std::thread([this] { run(); });
    m_events.set_listener([this](Event const& event) { enqueue(event); });
}

EventScripts::~EventScripts() {
    m_events.set_listener({});
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
    // m_runner's destructor waits for the scripts still running.
}

void EventScripts::enqueue(Event const& event) {
    // Only what can map to a VMEventType; the rest (and our own failures)
    // never reach the thread.
    switch (event.kind) {
    case EventKind::VirtualServerStarted:
    case EventKind::VirtualServerStopped:
    case EventKind::VmStateChange:
    case EventKind::VmTurnedOffByGuest:
    case EventKind::VmReset:
    case EventKind::HeartbeatStopped:
    case EventKind::VmProcessorError:
        break;
    default:
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        if (m_queue.size() >= MAX_QUEUE) return; // counted below by the gap in the log
        m_queue.push_back(event);
    }
    m_wake.notify_all();
}

void EventScripts::run() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_wake.wait(lock, [&] { return m_stop || !m_queue.empty(); });
        if (m_queue.empty()) {
            if (m_stop) return;
            continue;
        }
        auto event = std::move(m_queue.front());
        m_queue.pop_front();
        m_busy = true;
        lock.unlock();
        try {
            handle(event);
        } catch (std::exception const& e) {
            log(std::string("event scripts: ") + e.what());
        } catch (...) {
            log("event scripts: unexpected exception");
        }
        lock.lock();
        m_busy = false;
        m_wake.notify_all();
    }
}

void EventScripts::wait_idle() {
    {
        std::unique_lock lock(m_mutex);
        m_wake.wait(lock, [&] { return m_queue.empty() && !m_busy; });
    }
    m_runner.wait_idle();
}

void EventScripts::handle(Event const& event) {
    std::optional<std::int32_t> type;
    std::optional<VirtualMachine> vm;
    if (event.kind == EventKind::VirtualServerStarted) type = EV_SERVER_STARTED;
    if (event.kind == EventKind::VirtualServerStopped) type = EV_SERVER_STOPPED;
    if (event.object_kind == OBJECT_VM) {
        auto id = Guid::parse(event.object);
        if (!id) return;
        vm = m_inventory.virtual_machine(*id);
        switch (event.kind) {
        case EventKind::VmStateChange: {
            auto state = static_cast<VmState>(event.state);
            auto known = m_last_state.find(event.object);
            auto before =
                known == m_last_state.end() ? VmState::TurnedOff : static_cast<VmState>(known->second);
            m_last_state[event.object] = event.state;
            if (state == VmState::Running && (before == VmState::TurnedOff || before == VmState::TurningOn)) {
                type = EV_LAUNCHED;
            } else if (state == VmState::Running &&
                       (before == VmState::Saved || before == VmState::Restoring)) {
                type = EV_RESTORED;
            } else if (state == VmState::Saved && is_running_state(before)) {
                type = EV_SAVED;
            } else if (state == VmState::TurnedOff && is_running_state(before)) {
                type = EV_TURNED_OFF;
            }
            if (type == EV_LAUNCHED || type == EV_RESTORED) {
                if (vm) m_activation.begin(*vm);
            }
            if (state == VmState::TurnedOff || state == VmState::Saved) m_activation.end(*id);
            if (!vm) m_last_state.erase(event.object);
            break;
        }
        case EventKind::VmTurnedOffByGuest:
            type = EV_TURNED_OFF_BY_GUEST;
            break;
        case EventKind::VmReset:
            type = EV_RESET;
            break;
        case EventKind::HeartbeatStopped:
            type = EV_NO_HEARTBEAT;
            break;
        case EventKind::VmProcessorError:
            type = EV_PROCESSOR_ERROR;
            break;
        default:
            break;
        }
    }
    if (!type) return;
    if (m_preferences.vs_scripts_enabled()) {
        auto line = m_preferences.script(*type);
        if (line.has_value() && line.value())
            fire(*type, false, *line.value(), event, vm ? std::optional(vm->file()) : std::nullopt);
    }
    if (vm && m_preferences.vm_scripts_enabled()) {
        if (auto line = vm_script_of(*vm, *type)) fire(*type, true, *line, event, vm->file());
    }
}

void EventScripts::fire(std::int32_t type, bool vm_scope, std::string const& command_line, Event const& event,
                        std::optional<std::filesystem::path> vm_file) {
    auto what = std::string(vm_scope ? "the script of virtual machine \"" + event.object_name + "\""
                                     : "the server's script") +
                " for " + std::string(vm_event_type_name(type));
    auto report_failure = [this, what, event](std::string const& why) {
        log(what + " failed: " + why);
        Event failed;
        failed.kind = EventKind::ScriptFailed;
        failed.severity = EventSeverity::Warning;
        failed.object_kind = event.object_kind;
        failed.object = event.object;
        failed.object_name = event.object_name;
        failed.message = what + " failed: " + why;
        m_events.append(std::move(failed));
    };
    auto argv = split_command_line(command_line);
    if (argv.is_error()) {
        report_failure(argv.error().message);
        return;
    }
    ScriptSpec spec;
    spec.argv = argv.release_value();
    spec.timeout = m_options.timeout;
    spec.environment = {
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "LANG=C.UTF-8",
        "VSA_EVENT=" + std::to_string(type),
        "VSA_EVENT_NAME=" + std::string(vm_event_type_name(type)),
        std::string("VSA_SCRIPT_SCOPE=") + (vm_scope ? "vm" : "server"),
        "VSA_EVENT_MESSAGE=" + event.message,
        "VSA_EVENT_SEQUENCE=" + std::to_string(event.sequence),
    };
    if (event.object_kind == OBJECT_VM) {
        spec.environment.push_back("VSA_VM_NAME=" + event.object_name);
        spec.environment.push_back("VSA_VM_ID=" + event.object);
        if (vm_file) spec.environment.push_back("VSA_VM_FILE=" + vm_file->string());
    }
    spec.working_dir = vm_file ? vm_file->parent_path().string() : m_data_dir.string();
    log("running " + what + ": " + command_line);
    bool started =
        m_runner.submit(std::move(spec), [this, what, report_failure](ScriptOutcome const& outcome) {
            std::string line = what + ": " + outcome.describe() + " after " +
                               std::to_string(outcome.elapsed.count()) + " ms";
            if (!outcome.output.empty()) {
                line += "; output:";
                std::size_t start = 0;
                while (start < outcome.output.size()) {
                    auto end = outcome.output.find('\n', start);
                    if (end == std::string::npos) end = outcome.output.size();
                    line += "\n  | " + outcome.output.substr(start, end - start);
                    start = end + 1;
                }
                if (outcome.output_truncated) line += "\n  | (output truncated)";
            }
            log(line);
            if (!outcome.succeeded()) report_failure(outcome.describe());
        });
    if (!started)
        report_failure("not started: " + std::to_string(m_options.max_running) +
                       " scripts are running already");
}

void EventScripts::log(std::string const& line) const {
    if (m_options.log) m_options.log(line);
}

} // namespace vsa::services::scripts
