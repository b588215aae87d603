// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/virtual_server.h"

#include "services/version.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <system_error>
#include <thread>

namespace vsa::services {

namespace {

// A product ID in Microsoft's 5-5-5-5 shape, drawn once per installation so
// tools that key inventories by it see distinct appliances.
std::string make_product_id() {
    std::random_device random;
    std::string id;
    for (int group = 0; group < 4; ++group) {
        if (group) id += '-';
        char digits[8];
        std::snprintf(digits, sizeof digits, "%05u", static_cast<unsigned>(random() % 100000));
        id += digits;
    }
    return id;
}

bool valid_product_id(std::string const& id) {
    if (id.size() != 23) return false;
    for (std::size_t i = 0; i < id.size(); ++i) {
        bool dash = i % 6 == 5;
        if (dash ? id[i] != '-' : (id[i] < '0' || id[i] > '9')) return false;
    }
    return true;
}

} // namespace

ServiceResult<std::unique_ptr<VirtualServer>> VirtualServer::open(Options options) {
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec)
        return service_error(hr::E_FAIL, "cannot create data directory " + options.data_dir.string() + ": " +
                                             ec.message());
    auto id_file = options.data_dir / "server.id";
    std::string product_id;
    if (std::filesystem::exists(id_file, ec)) {
        std::ifstream in(id_file);
        std::getline(in, product_id);
        if (!valid_product_id(product_id))
            return service_error(hr::E_FAIL, id_file.string() + " is corrupt (expected a product ID like "
                                                                "12345-12345-12345-12345); remove it to "
                                                                "draw a new one");
    } else {
        product_id = make_product_id();
        auto tmp = id_file;
        tmp += ".tmp";
        {
            std::ofstream out(tmp, std::ios::trunc);
            out << product_id << '\n';
            if (!out.flush()) return service_error(hr::E_FAIL, "cannot write " + tmp.string());
        }
        std::filesystem::rename(tmp, id_file, ec);
        if (ec) return service_error(hr::E_FAIL, "cannot write " + id_file.string() + ": " + ec.message());
    }
    std::error_code absolute_error;
    auto data_dir = std::filesystem::absolute(options.data_dir, absolute_error);
    if (absolute_error)
        return service_error(hr::E_FAIL,
                             "cannot resolve " + options.data_dir.string() + ": " + absolute_error.message());
    auto inventory = TRY(Inventory::open({data_dir, options.default_vm_path, options.default_vn_path, {}}));
    auto events = EventLog::open({data_dir / "events.log", options.max_events});
    auto preferences = TRY(ServerPreferences::open(data_dir));
    auto sids = TRY(security::AccountSids::open(data_dir / "account-sids.txt"));
    std::unique_ptr<VirtualServer> server(new VirtualServer(std::move(options), std::move(product_id),
                                                            std::move(inventory), std::move(events),
                                                            std::move(preferences)));
    server->m_account_sids = std::move(sids);
    return server;
}

namespace {

Event vm_event(EventKind kind, EventSeverity severity, Guid const& id, std::string name,
               std::string message) {
    Event event;
    event.kind = kind;
    event.severity = severity;
    event.object_kind = OBJECT_VM;
    event.object = id.to_string();
    event.object_name = std::move(name);
    event.message = std::move(message);
    return event;
}

} // namespace

VirtualServer::VirtualServer(Options options, std::string product_id, std::unique_ptr<Inventory> inventory,
                             std::unique_ptr<EventLog> events, std::unique_ptr<ServerPreferences> preferences)
    : m_options(std::move(options)), m_product_id(std::move(product_id)), m_host(m_options.host_root),
      m_started(std::chrono::steady_clock::now()), m_events(std::move(events)),
      m_tasks(std::make_unique<TaskRegistry>(m_options.tasks)), m_inventory(std::move(inventory)),
      m_preferences(std::move(preferences)) {
    m_host.set_configured_drives(m_options.extra_host_drives);
    // The hooks go in before the runtime and the disk tasks exist, so no
    // change can happen unrecorded.
    wire_events();
    m_scripts = std::make_unique<scripts::EventScripts>(m_options.scripts, m_options.data_dir, *m_events,
                                                        *m_preferences, *m_inventory, m_activation);
    m_runtime = std::make_unique<VmRuntime>(*m_inventory, *m_tasks, m_options.worker);
    m_disk_tasks = std::make_unique<VhdTasks>(*m_inventory, *m_tasks);
}

void VirtualServer::wire_events() {
    EventLog& log = *m_events;
    m_inventory->set_observer([&log](InventoryChange const& change) {
        using Kind = InventoryChange::Kind;
        auto quoted = "\"" + change.name + "\"";
        switch (change.kind) {
        case Kind::VmState: {
            auto event =
                vm_event(EventKind::VmStateChange, EventSeverity::Information, change.id, change.name,
                         "virtual machine " + quoted + " is " + std::string(vm_state_name(change.state)));
            event.state = static_cast<std::int32_t>(change.state);
            log.append(std::move(event));
            break;
        }
        case Kind::VmAdded:
        case Kind::VmRemoved:
        case Kind::VmConfiguration: {
            auto kind = change.kind == Kind::VmAdded     ? EventKind::VmRegistered
                        : change.kind == Kind::VmRemoved ? EventKind::VmUnregistered
                                                         : EventKind::VmConfigurationChange;
            auto text = change.kind == Kind::VmConfiguration
                            ? "configuration of virtual machine " + quoted + " changed"
                            : "virtual machine " + quoted + " " + change.detail;
            if (change.kind == Kind::VmConfiguration && !change.detail.empty())
                text += " (" + change.detail + ")";
            auto event = vm_event(kind, EventSeverity::Information, change.id, change.name, text);
            event.state = static_cast<std::int32_t>(change.state);
            log.append(std::move(event));
            break;
        }
        case Kind::NetworkAdded:
        case Kind::NetworkRemoved:
        case Kind::NetworkConfiguration: {
            Event event;
            event.kind = change.kind == Kind::NetworkAdded     ? EventKind::NetworkRegistered
                         : change.kind == Kind::NetworkRemoved ? EventKind::NetworkUnregistered
                                                               : EventKind::NetworkConfigurationChange;
            event.object_kind = OBJECT_NETWORK;
            event.object = change.id.to_string();
            event.object_name = change.name;
            event.message = change.kind == Kind::NetworkConfiguration
                                ? "configuration of virtual network " + quoted + " changed"
                                : "virtual network " + quoted + " " + change.detail;
            log.append(std::move(event));
            break;
        }
        case Kind::ServerOptions: {
            Event event;
            event.kind = EventKind::ServerConfigurationChange;
            event.object_kind = OBJECT_SERVER;
            event.message = change.detail;
            log.append(std::move(event));
            break;
        }
        case Kind::MediaInserted:
        case Kind::MediaEjected: {
            // About the drive (IVMDVDDriveEvents / IVMFloppyDriveEvents):
            // its reference, the VM's name, the media's path or host drive.
            bool inserted = change.kind == Kind::MediaInserted;
            bool dvd = change.drive.starts_with("/dvd/");
            Event event;
            event.kind = inserted ? EventKind::MediaInserted : EventKind::MediaEjected;
            event.object_kind = dvd ? OBJECT_DVD_DRIVE : OBJECT_FLOPPY_DRIVE;
            event.object = change.id.to_string() + change.drive;
            event.object_name = change.name;
            event.message = std::string(inserted ? "\"" + change.detail + "\" inserted into"
                                                 : "\"" + change.detail + "\" ejected from") +
                            (dvd ? " a CD/DVD drive" : " the floppy drive") + " of virtual machine " + quoted;
            log.append(std::move(event));
            break;
        }
        }
    });
    m_tasks->set_completion_hook([&log](Task const& task) {
        Event event;
        event.kind = EventKind::TaskCompleted;
        event.object_kind = OBJECT_TASK;
        event.object = task.id().to_string();
        event.object_name = task.description();
        auto error = task.error();
        if (error.value == 0) {
            event.message = "task \"" + task.description() + "\" succeeded";
        } else {
            event.severity = EventSeverity::Warning;
            event.message = "task \"" + task.description() + "\" failed: " + task.error_description();
        }
        log.append(std::move(event));
    });
    // Worker events: recorded, then whatever the caller asked for (vsad logs them).
    auto forward = std::move(m_options.worker.on_event);
    m_options.worker.on_event = [&log, forward](Guid const& id, std::string const& name, VmEvent what,
                                                std::string const& detail) {
        auto quoted = "\"" + name + "\"";
        switch (what) {
        case VmEvent::TurnedOffByGuest:
            log.append(vm_event(EventKind::VmTurnedOffByGuest, EventSeverity::Information, id, name,
                                "the guest turned virtual machine " + quoted + " off"));
            break;
        case VmEvent::TripleFault:
            log.append(vm_event(EventKind::VmProcessorError, EventSeverity::Error, id, name,
                                "virtual machine " + quoted +
                                    " stopped: its processor shut down (triple fault)" +
                                    (detail.empty() ? "" : ": " + detail)));
            break;
        case VmEvent::WorkerDied:
            log.append(vm_event(EventKind::VmWorkerDied, EventSeverity::Error, id, name,
                                "the worker of virtual machine " + quoted + " ended unexpectedly" +
                                    (detail.empty() ? "" : ": " + detail)));
            break;
        case VmEvent::HeartbeatStopped: {
            auto event = vm_event(EventKind::HeartbeatStopped, EventSeverity::Warning, id, name,
                                  "the guest of virtual machine " + quoted + " stopped making progress" +
                                      (detail.empty() ? "" : ": " + detail));
            log.append(std::move(event));
            break;
        }
        case VmEvent::WorkerError:
            log.append(vm_event(EventKind::VmError, EventSeverity::Error, id, name,
                                "virtual machine " + quoted + ": " + detail));
            break;
        case VmEvent::Reset:
            log.append(vm_event(EventKind::VmReset, EventSeverity::Information, id, name,
                                "virtual machine " + quoted + " was reset"));
            break;
        case VmEvent::ShutdownRequested:
            log.append(vm_event(EventKind::VmShutdownRequested, EventSeverity::Information, id, name,
                                "virtual machine " + quoted + " is about to power down (" + detail + ")"));
            break;
        }
        if (forward) forward(id, name, what, detail);
    };
}

void VirtualServer::record_started() {
    Event event;
    event.kind = EventKind::VirtualServerStarted;
    event.object_kind = OBJECT_SERVER;
    event.message = name() + " " + version() + " started";
    m_events->append(std::move(event));
}

struct VirtualServer::Autostart {
    std::mutex mutex;
    std::condition_variable wake;
    bool stop{false};
    std::thread thread;

    void halt() {
        {
            std::lock_guard lock(mutex);
            stop = true;
        }
        wake.notify_all();
        if (thread.joinable()) thread.join();
    }
    ~Autostart() { halt(); }
};

VirtualServer::~VirtualServer() {
    if (m_autostart) m_autostart->halt();
}

std::size_t VirtualServer::start_autostart_vms() {
    struct Due {
        std::chrono::seconds delay;
        Guid id;
        std::string name;
    };
    std::vector<Due> due;
    for (auto const& vm : m_inventory->virtual_machines()) {
        bool start = vm.autostart() == AutoStartType::Always ||
                     (vm.autostart() == AutoStartType::IfRunningAtQuit && vm.was_running_at_quit());
        if (start && is_stopped(vm.state()))
            due.push_back({std::chrono::seconds(vm.autostart_delay_seconds()), vm.config_id(), vm.name()});
    }
    if (due.empty() || m_autostart) return 0;
    std::stable_sort(due.begin(), due.end(), [](Due const& a, Due const& b) { return a.delay < b.delay; });
    m_autostart = std::make_unique<Autostart>();
    auto* state = m_autostart.get();
    auto count = due.size();
    m_autostart->thread = std::thread([this, state, due = std::move(due)] {
        auto began = std::chrono::steady_clock::now();
        for (auto const& vm : due) {
            {
                std::unique_lock lock(state->mutex);
                if (state->wake.wait_until(lock, began + vm.delay, [&] { return state->stop; })) return;
            }
            auto started = m_runtime->startup(vm.id);
            // Started by a client meanwhile, or unregistered: nothing to do.
            if (started.is_error() && started.error().code != hr::VM_E_VM_RUNNING &&
                started.error().code != hr::VM_E_VM_UNKNOWN)
                m_events->append(vm_event(EventKind::VmError, EventSeverity::Error, vm.id, vm.name,
                                          "AutoStartAtLaunch could not start virtual machine \"" + vm.name +
                                              "\": " + started.error().message));
        }
    });
    return count;
}

void VirtualServer::record_stopping() {
    if (m_autostart) m_autostart->halt();
    Event event;
    event.kind = EventKind::VirtualServerStopped;
    event.object_kind = OBJECT_SERVER;
    event.message = name() + " is stopping";
    m_events->append(std::move(event));
    m_events->close(); // long polls return now
}

std::string VirtualServer::name() const {
    return std::string(PRODUCT_NAME);
}

std::string VirtualServer::version() const {
    return version_string();
}

std::int32_t VirtualServer::uptime_seconds() const {
    auto elapsed = std::chrono::steady_clock::now() - m_started;
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(elapsed).count();
    return static_cast<std::int32_t>(std::min<long long>(seconds, INT32_MAX));
}

std::int32_t VirtualServer::suggested_maximum_memory_mb() const {
    auto info = m_host.read();
    auto spare = static_cast<std::int64_t>(info.memory_avail_mb) - VmLimits::HOST_RESERVE_MB;
    return static_cast<std::int32_t>(
        std::clamp<std::int64_t>(spare, VmLimits::MIN_MEMORY_MB, VmLimits::MAX_MEMORY_MB));
}

} // namespace vsa::services
