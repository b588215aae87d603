// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/worker/vm_runtime.h"

#include "services/worker/vm_runtime_session.h"

#include "services/model/vm_limits.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <iostream>

namespace vsa::services {

namespace {

bool file_exists(std::filesystem::path const& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

std::string describe(VirtualMachine const& vm) {
    return "virtual machine \"" + vm.name() + "\" (" + std::string(vm_state_name(vm.state())) + ")";
}

std::string task_description(std::string_view what, std::string const& vm_name) {
    return std::string(what) + " of virtual machine \"" + vm_name + "\"";
}

std::filesystem::path cgroup_root(VmRuntimeOptions const& options) {
    if (!options.cpu_cgroup_root.empty()) return options.cpu_cgroup_root;
    return CpuCgroups::default_root().value_or(std::filesystem::path());
}

} // namespace

VmRuntime::VmRuntime(Inventory& inventory, TaskRegistry& tasks, VmRuntimeOptions options)
    // The networks get their own copy of the log function: their switch
    // threads outlive m_options (m_networks is destroyed after it).
    : m_inventory(inventory),
      m_networks(options.log ? options.log
                             : [](std::string const& line) { std::cerr << "vsad: " << line << std::endl; }),
      m_tasks(tasks), m_options(std::move(options)),
      m_cgroups(
          cgroup_root(m_options), [this](std::string const& line) { log(line); },
          "no cgroup2 file system is mounted") {
    m_sampler = std::thread([this] { sample_loop(); });
}

VmRuntime::~VmRuntime() {
    shutdown();
}

void VmRuntime::log(std::string const& line) const {
    if (m_options.log)
        m_options.log(line);
    else
        std::cerr << "vsad: " << line << std::endl;
}

std::filesystem::path VmRuntime::default_serial_log(VirtualMachine const& vm) {
    return vm.folder() / (vm.name() + ".com1.log");
}

std::vector<std::string> VmRuntime::worker_arguments(VirtualMachine const& vm) const {
    std::vector<std::string> args = m_options.extra_arguments;
    args.push_back("--memory");
    args.push_back(std::to_string(vm.memory_mb()) + "M");
    // IDE order: primary master, primary slave, secondary master, slave.
    // vsa-vm gives each --disk / --cdrom the next slot, so every slot up to
    // the last used one is named: "--disk=" keeps a free slot free.
    std::array<std::string, 4> slots;
    for (auto& slot : slots)
        slot = "--disk=";
    std::size_t used = 0;
    for (auto const& disk : vm.hard_disk_connections()) {
        auto emulated = disk.location().worker_slot();
        if (!emulated) continue; // the model allows only these; SCSI is not emulated
        std::size_t const slot = *emulated;
        // An undoable VM's worker never sees its base disks (an undo disk
        // not recorded yet leaves the slot empty rather than expose the
        // base; startup records them first).
        slots[slot] = "--disk=" + (vm.undoable() ? disk.undo_disk_path() : disk.disk_path());
        used = std::max(used, slot + 1);
    }
    // DVD drives are ATAPI drives in their slots, with their ISO image, the
    // disc of their captured host drive, or empty (a host drive without a
    // disc, or one the table no longer has: vm_runtime_media.cpp).
    for (auto const& dvd : vm.dvd_drives()) {
        auto emulated = dvd.location().worker_slot();
        if (!emulated) continue;
        std::size_t const slot = *emulated;
        std::optional<std::string> media;
        if (dvd.attachment() == DvdAttachment::Image && !dvd.image_file().empty())
            media = dvd.image_file();
        else if (dvd.attachment() == DvdAttachment::HostDrive)
            media = probe_host_drive(dvd.host_drive_letter()).path;
        slots[slot] = "--cdrom=" + media.value_or("empty");
        used = std::max(used, slot + 1);
    }
    for (std::size_t i = 0; i < used; ++i)
        args.push_back(slots[i]);
    // Drive A: (vm_runtime_floppy.cpp): every VM has its floppy drive.
    auto floppy = floppy_media_of(vm);
    args.push_back("--floppy");
    args.push_back(floppy ? floppy->path : "empty");
    if (floppy && floppy->read_only) args.push_back("--floppy-ro");
    // SCSI controllers (a PVSCSI adapter each, PCI slot 7 + number) and
    // their disks, at their target IDs.
    for (auto const& controller : vm.scsi_controllers())
        args.push_back("--scsi-controller=" + std::to_string(controller.id) + ":" +
                       std::to_string(controller.scsi_id));
    for (auto const& disk : vm.hard_disk_connections()) {
        auto const& at = disk.location();
        auto const& path = vm.undoable() ? disk.undo_disk_path() : disk.disk_path();
        if (at.bus_type != DriveBusType::Scsi || path.empty()) continue; // as an IDE slot left empty
        args.push_back("--scsi-disk=" + std::to_string(at.bus) + ":" + std::to_string(at.device) + ":" +
                       path);
    }
    // COM ports as configured (SerialPort: a text file, FIFOs, a TCP
    // socket, a host tty); an unconnected COM1 still goes to its log.
    auto const& com1 = vm.serial_ports()[0];
    args.push_back("--serial");
    args.push_back(com1.type() == SerialPortType::Null ? "append:" + default_serial_log(vm).string()
                                                       : worker_serial_spec(com1));
    auto const& com2 = vm.serial_ports()[1];
    if (com2.type() != SerialPortType::Null) {
        args.push_back("--serial2");
        args.push_back(worker_serial_spec(com2));
    }
    // LPT1 prints into its file (ParallelPort); without a name, no port.
    if (auto lpt = vm.parallel_port().output_file(vm.folder(), vm.name())) {
        args.push_back("--parallel");
        args.push_back("append:" + lpt->string());
    }
    // Network adapters: socketpairs the worker inherits in adapter order
    // (open_network_adapters), with the adapter's MAC address; one attached
    // to no network starts with its cable pulled, as the guest should see.
    int fd = WorkerProcess::FIRST_INHERITED_FD;
    for (auto const& adapter : vm.network_adapters()) {
        std::string mac = adapter.ethernet_address().to_string();
        for (auto& c : mac)
            c = c == '-' ? ':' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto const& ref = adapter.virtual_network();
        bool const plugged = ref && m_inventory.virtual_network(ref->id).has_value();
        args.push_back("--nic");
        args.push_back("fd:" + std::to_string(fd++) + ",mac=" + mac + (plugged ? "" : ",link=down"));
    }
    // BIOS settings (bios_settings.h).
    args.push_back("--boot");
    args.push_back(format_boot_order(vm.bios().boot_order));
    if (vm.bios().num_lock) args.push_back("--num-lock");
    for (auto& option : smbios_arguments(vm))
        args.push_back(std::move(option));
    args.push_back("--save-state");
    args.push_back(vm.saved_state_file().string());
    if (vm.state() == VmState::Saved) {
        args.push_back("--restore-state");
        args.push_back(vm.saved_state_file().string());
    }
    return args;
}

std::shared_ptr<VmRuntime::Session> VmRuntime::session_of(Guid const& id) const {
    std::lock_guard lock(m_mutex);
    auto it = m_sessions.find(id);
    if (it == m_sessions.end() || it->second->ended) return nullptr;
    return it->second;
}

pid_t VmRuntime::worker_pid(Guid const& id) const {
    auto session = session_of(id);
    std::lock_guard lock(m_mutex);
    return session && session->worker ? session->worker->pid() : -1;
}

std::size_t VmRuntime::running_count() const {
    std::lock_guard lock(m_mutex);
    std::size_t count = 0;
    for (auto const& [id, session] : m_sessions)
        if (!session->ended) ++count;
    return count;
}

void VmRuntime::set_state_locked(Session const& session, VmState state) {
    if (session.ended) return;
    (void)m_inventory.set_vm_state(session.id, state);
}

// --- Startup -----------------------------------------------------------------

ServiceResult<TaskHandle> VmRuntime::startup(Guid const& id) {
    std::shared_ptr<Session> session;
    std::shared_ptr<WorkerProcess> previous; // an ended worker, joined outside the lock
    TRY(assign_smbios_identity(id));
    VirtualMachine vm("", {}, id);
    {
        std::lock_guard lock(m_mutex);
        if (m_shutting_down) return service_error(hr::VM_E_APP_SHUTTING_DOWN, "the server is shutting down");
        std::size_t live = 0;
        for (auto const& [other, s] : m_sessions)
            if (!s->ended) ++live;
        bool restoring = false;
        vm =
            TRY(m_inventory.change_vm_state(id, [&](VirtualMachine const& current) -> ServiceResult<VmState> {
                restoring = current.state() == VmState::Saved;
                if (!is_stopped(current.state()))
                    return service_error(hr::VM_E_VM_RUNNING, describe(current) + " is already on");
                if (live >= static_cast<std::size_t>(VmLimits::MAX_RUNNING_VMS))
                    return service_error(hr::VM_E_TOO_MANY_VMS,
                                         std::to_string(live) + " virtual machines already run");
                TRY(admit_locked(current));
                return VmState::TurningOn;
            }));
        // The snapshot says TurningOn; the worker's arguments want to know
        // whether it starts from its saved state.
        vm.set_state(restoring ? VmState::Saved : VmState::TurnedOff);
        if (auto it = m_sessions.find(id); it != m_sessions.end()) {
            previous = std::move(it->second->worker);
            m_sessions.erase(it);
        }
        session = std::make_shared<Session>();
        session->id = id;
        session->name = vm.name();
        session->saved_state = vm.saved_state_file();
        session->restoring = restoring;
        session->reserved_percent = vm.scheduling().reserved_percent;
        session->operation = m_tasks.create(task_description("Startup", vm.name()), false);
        m_sessions[id] = session;
    }
    previous.reset();

    if (vm.undoable()) {
        // Made and recorded with the VM TurningOn: no configuration change
        // or second startup can come between.
        auto prepared = prepare_undo_disks(id, session->restoring);
        if (prepared.is_error()) {
            std::lock_guard lock(m_mutex);
            session->ended = true;
            session->pending = Pending::None;
            (void)m_inventory.set_vm_state(id, session->restoring ? VmState::Saved : VmState::TurnedOff);
            session->operation->complete(prepared.error());
            log(prepared.error().message);
            m_changed.notify_all();
            return prepared.release_error();
        }
        vm = prepared.release_value();
        vm.set_state(session->restoring ? VmState::Saved : VmState::TurnedOff);
    }

    // Spawned outside the lock: the worker's callbacks take it.
    std::weak_ptr<Session> weak = session;
    WorkerProcess::Callbacks callbacks;
    callbacks.on_event = [this, weak](control::Notification const& event) {
        if (auto s = weak.lock()) on_worker_event(s, event);
    };
    callbacks.on_exit = [this, weak](WorkerExit const& exit) {
        if (auto s = weak.lock()) on_worker_exit(s, exit);
    };
    callbacks.on_log = [this, name = vm.name()](std::string const& line) {
        log("virtual machine \"" + name + "\": " + line);
    };
    // Noted before the worker's arguments are: a disc that changes in
    // between is seen as a change by the next sample (vm_runtime_media.cpp).
    auto host_media = host_media_of(vm);
    auto arguments = worker_arguments(vm);
    auto account = worker_account(vm, arguments);
    auto nics = account.is_error() ? ServiceResult<std::vector<FileDescriptor>>(account.error())
                                   : open_network_adapters(vm);
    // The guest agent's port (guest_agent.h): a socketpair, the worker's
    // end inherited after the network adapters' sockets.
    std::shared_ptr<GuestAgent> agent;
    if (nics.has_value()) {
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0) {
            arguments.push_back("--agent");
            arguments.push_back("fd:" +
                                std::to_string(WorkerProcess::FIRST_INHERITED_FD + int(nics.value().size())));
            nics.value().emplace_back(pair[1]);
            agent = make_guest_agent(id, FileDescriptor(pair[0]), vm.guest_os().is_host_time_sync_enabled());
        } else {
            log("virtual machine \"" + vm.name() +
                "\": no guest agent port: socketpair: " + std::strerror(errno));
        }
    }
    auto spawned = nics.is_error()
                       ? ServiceResult<std::unique_ptr<WorkerProcess>>(nics.error())
                       : WorkerProcess::spawn(m_options.worker_binary, arguments, std::move(callbacks),
                                              nics.release_value(), account.release_value());
    if (spawned.is_error()) m_networks.remove_vm(id);
    std::lock_guard lock(m_mutex);
    session->host_media = std::move(host_media);
    if (spawned.is_error()) {
        session->ended = true;
        session->pending = Pending::None;
        (void)m_inventory.set_vm_state(id, session->restoring ? VmState::Saved : VmState::TurnedOff);
        session->operation->complete(spawned.error());
        log(spawned.error().message);
        return spawned.release_error();
    }
    session->worker = spawned.release_value();
    session->agent = std::move(agent);
    log("virtual machine \"" + vm.name() + "\": worker " + std::to_string(session->worker->pid()) +
        (session->restoring ? " restoring its saved state" : " starting") +
        (vm.run_as_defined_account() && !vm.account_name().empty() ? " as host account " + vm.account_name()
                                                                   : std::string()));
    place_worker(id, session->worker->pid(), vm.scheduling());
    return session->operation;
}

// --- Worker events -------------------------------------------------------------

void VmRuntime::on_worker_event(std::shared_ptr<Session> const& session, control::Notification const& event) {
    std::lock_guard lock(m_mutex);
    Session& s = *session;
    switch (event.event) {
    case control::Event::Restoring:
        set_state_locked(s, VmState::Restoring);
        break;
    case control::Event::Started:
        set_state_locked(s, VmState::Running);
        s.running_since = std::chrono::steady_clock::now();
        if (s.restoring && s.agent) s.agent->request_time_sync(); // its clock is the save's
        if (s.restoring) {
            // The guest runs on: its disks now move away from the saved
            // state, which could only restore an inconsistent machine.
            if (::unlink(s.saved_state.c_str()) != 0 && errno != ENOENT)
                log("virtual machine \"" + s.name + "\": cannot delete the used saved state " +
                    s.saved_state.string() + ": " + std::strerror(errno));
        }
        if (s.pending == Pending::Startup) {
            s.pending = Pending::None;
            s.operation->complete(Ok{});
        }
        break;
    case control::Event::Paused:
        set_state_locked(s, VmState::Paused);
        break;
    case control::Event::Resumed:
        set_state_locked(s, VmState::Running);
        // The guest's clock stood still while paused.
        if (s.agent) s.agent->request_time_sync();
        break;
    case control::Event::Reset:
        log("virtual machine \"" + s.name + "\": reset");
        // IVMAccountant's network counters restart, as the disk ones do in
        // the worker.
        s.network_at_reset = m_networks.vm_traffic(s.id);
        break;
    case control::Event::Saved:
        s.saved = true;
        break;
    case control::Event::SaveFailed:
        log("virtual machine \"" + s.name + "\": save failed: " + event.text);
        if (s.pending == Pending::Save) {
            set_state_locked(s, s.before_save);
            s.pending = Pending::None;
            s.operation->complete(service_error(hr::E_FAIL, "cannot save \"" + s.name + "\": " + event.text));
        }
        break;
    case control::Event::PoweredOff:
        s.end_reason = "the guest turned the machine off";
        s.guest_off = true;
        break;
    case control::Event::TripleFault:
        s.end_reason = "the guest triple-faulted (processor shutdown)";
        break;
    case control::Event::TurnedOff:
        break;
    case control::Event::Error:
        s.last_error = event.text;
        log("virtual machine \"" + s.name + "\": worker error: " + event.text);
        break;
    }
}

void VmRuntime::on_worker_exit(std::shared_ptr<Session> const& session, WorkerExit const& exit) {
    std::optional<VmEvent> unsolicited;
    std::string detail;
    // Destroyed after the lock (it joins its monitor thread).
    std::shared_ptr<GuestAgent> agent;
    {
        std::lock_guard lock(m_mutex);
        Session& s = *session;
        s.ended = true;
        agent = std::move(s.agent);
        m_networks.remove_vm(s.id);
        m_cgroups.remove(s.id);
        // Renamed while running: the .vmc moved and the saved state goes
        // with it, as the inventory does for a stopped VM.
        auto vm = m_inventory.virtual_machine(s.id);
        auto saved_state = vm ? vm->saved_state_file() : s.saved_state;
        if (saved_state != s.saved_state && file_exists(s.saved_state) && !file_exists(saved_state))
            ::rename(s.saved_state.c_str(), saved_state.c_str());
        bool has_saved_state = file_exists(saved_state);
        // Only a guest's own power-off applies the UndoAction; a turn-off,
        // a crash or a triple fault keeps the undo disks for the owner.
        bool const undo_action =
            s.pending == Pending::None && s.guest_off && !has_saved_state && vm && vm->undoable();
        bool const merging = undo_action && vm->undo_action() == UndoAction::Commit && !m_shutting_down;
        (void)m_inventory.set_vm_state(s.id, merging           ? VmState::MergingDrives
                                             : has_saved_state ? VmState::Saved
                                                               : VmState::TurnedOff);
        if (undo_action) {
            if (merging) vm->set_state(VmState::MergingDrives);
            // Under m_mutex: a startup cannot take the undo disks meanwhile.
            apply_undo_action_locked(*vm);
        }

        std::string why = !s.last_error.empty() ? s.last_error : "the worker ended (" + exit.describe() + ")";
        switch (s.pending) {
        case Pending::Startup:
            s.operation->complete(
                service_error(s.restoring ? hr::VM_E_PREF_UNLOADABLE_ACTIVATION : hr::E_FAIL,
                              "virtual machine \"" + s.name + "\" did not start: " + why));
            break;
        case Pending::TurnOff:
            s.operation->complete(Ok{});
            break;
        case Pending::Save:
            if (s.saved && has_saved_state)
                s.operation->complete(Ok{});
            else
                s.operation->complete(
                    service_error(hr::E_FAIL, "virtual machine \"" + s.name + "\" was not saved: " + why));
            break;
        case Pending::None:
            if (!s.end_reason.empty()) {
                unsolicited = exit.status == 3 ? VmEvent::TripleFault : VmEvent::TurnedOffByGuest;
                detail = s.end_reason;
            } else if (!s.last_error.empty()) {
                unsolicited = VmEvent::WorkerError;
                detail = s.last_error;
            } else if (!(exit.status == 6 && has_saved_state)) {
                unsolicited = VmEvent::WorkerDied;
                detail = "the VM worker ended unexpectedly (" + exit.describe() + ")";
            }
            break;
        }
        s.pending = Pending::None;
        if (s.guest_shutdown) {
            // IVMGuestOS.Shutdown succeeded only if the guest itself
            // powered off; a turn-off, save or crash meanwhile aborts it.
            s.guest_shutdown->complete(s.guest_off
                                           ? ServiceResult<void>(Ok{})
                                           : service_error(hr::E_ABORT, "virtual machine \"" + s.name +
                                                                            "\" stopped before its guest "
                                                                            "shut down: " +
                                                                            why));
            s.guest_shutdown.reset();
        }
        log("virtual machine \"" + s.name + "\": worker ended, " + exit.describe() + "; now " +
            (has_saved_state ? "Saved" : "TurnedOff") + (detail.empty() ? "" : ": " + detail));
        m_changed.notify_all();
    }
    if (unsolicited && m_options.on_event)
        m_options.on_event(session->id, session->name, *unsolicited, detail);
}

// --- Commands --------------------------------------------------------------------

ServiceResult<VmRuntime::CommandTarget> VmRuntime::command_target(Guid const& id, VmState wanted,
                                                                  HResult refusal) {
    auto refuse = [&](VirtualMachine const& vm) {
        return service_error(refusal, describe(vm) + " is not " + std::string(vm_state_name(wanted)));
    };
    auto vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    CommandTarget target;
    target.session = session_of(id);
    if (!target.session) return refuse(*vm);
    target.lock = std::unique_lock(target.session->command_mutex);
    // Checked again under the command lock: another command may have
    // changed it while this one waited.
    vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    if (vm->state() != wanted) return refuse(*vm);
    std::lock_guard lock(m_mutex);
    target.worker = target.session->ended ? nullptr : target.session->worker;
    if (!target.worker) return refuse(*vm);
    return target;
}

ServiceResult<void> VmRuntime::pause(Guid const& id) {
    auto target = TRY(command_target(id, VmState::Running, hr::E_FAIL));
    TRY(target.worker->request(control::Command::Pause, m_options.command_timeout));
    std::lock_guard lock(m_mutex);
    set_state_locked(*target.session, VmState::Paused);
    return Ok{};
}

ServiceResult<void> VmRuntime::resume(Guid const& id) {
    auto target = TRY(command_target(id, VmState::Paused, hr::E_FAIL));
    TRY(target.worker->request(control::Command::Resume, m_options.command_timeout));
    std::lock_guard lock(m_mutex);
    set_state_locked(*target.session, VmState::Running);
    return Ok{};
}

ServiceResult<TaskHandle> VmRuntime::reset(Guid const& id) {
    auto target = TRY(command_target(id, VmState::Running, hr::VM_E_VM_NOT_RUNNING));
    // The worker resets before it replies: the operation is complete.
    TRY(target.worker->request(control::Command::Reset, m_options.command_timeout));
    auto task = m_tasks.create(task_description("Reset", target.session->name), false);
    task->complete(Ok{});
    if (m_options.on_event) m_options.on_event(id, target.session->name, VmEvent::Reset, "reset");
    return task;
}

ServiceResult<control::Status> VmRuntime::query(Guid const& id) {
    auto session = session_of(id);
    std::shared_ptr<WorkerProcess> worker;
    if (session) {
        std::lock_guard lock(m_mutex);
        worker = session->worker;
    }
    if (!worker) return service_error(hr::VM_E_VM_NOT_RUNNING, "the virtual machine has no worker");
    auto reply = TRY(worker->request(control::Command::Query, m_options.command_timeout));
    if (!reply.status) return service_error(hr::E_FAIL, "the VM worker's answer had no state");
    return *reply.status;
}

ServiceResult<std::shared_ptr<VmRuntime::Session>> VmRuntime::running_session(Guid const& id) {
    {
        std::lock_guard lock(m_mutex);
        if (m_shutting_down) return service_error(hr::VM_E_APP_SHUTTING_DOWN, "the server is shutting down");
    }
    auto vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    auto session = session_of(id);
    if (!session) return service_error(hr::VM_E_VM_NOT_RUNNING, describe(*vm) + " is not running");
    return session;
}

ServiceResult<TaskHandle> VmRuntime::turn_off(Guid const& id) {
    auto session = TRY(running_session(id));
    // Before the plug is pulled, as IVMVirtualMachineEvents.OnRequestShutdown.
    if (m_options.on_event) m_options.on_event(id, session->name, VmEvent::ShutdownRequested, "turn off");
    return begin_stop(session, Pending::TurnOff);
}

ServiceResult<TaskHandle> VmRuntime::save(Guid const& id) {
    return begin_stop(TRY(running_session(id)), Pending::Save);
}

ServiceResult<TaskHandle> VmRuntime::begin_stop(std::shared_ptr<Session> const& session, Pending kind) {
    bool saving = kind == Pending::Save;
    std::lock_guard one_command(session->command_mutex);
    std::shared_ptr<WorkerProcess> worker;
    TaskHandle operation;
    {
        std::lock_guard lock(m_mutex);
        if (session->ended || !session->worker)
            return service_error(hr::VM_E_VM_NOT_RUNNING,
                                 "virtual machine \"" + session->name + "\" is not running");
        VmState before = VmState::Running;
        TRY(m_inventory.change_vm_state(session->id, [&](VirtualMachine const& vm) -> ServiceResult<VmState> {
            if (vm.state() != VmState::Running && vm.state() != VmState::Paused)
                return service_error(hr::VM_E_VM_NOT_RUNNING, describe(vm) + " is not running");
            // Saving would keep changes the owner asked to throw away.
            if (saving && vm.undoable() && vm.undo_action() == UndoAction::Discard)
                return service_error(hr::E_FAIL,
                                     describe(vm) + " discards its undo disks; it cannot be saved");
            before = vm.state();
            return saving ? VmState::Saving : VmState::TurningOff;
        }));
        operation = m_tasks.create(task_description(saving ? "Save" : "Turn-off", session->name), false);
        session->pending = kind;
        session->before_save = before;
        session->saved = false;
        session->operation = operation;
        worker = session->worker;
    }
    // The worker's exit completes the operation (or, for a save, its
    // "save-failed").
    auto accepted = worker->request(saving ? control::Command::Save : control::Command::TurnOff,
                                    m_options.command_timeout);
    if (accepted.has_value()) return operation;
    if (!saving) {
        // Pulling the plug cannot be refused: a worker that does not take
        // the command is killed.
        log("virtual machine \"" + session->name + "\": turn-off not acknowledged (" +
            accepted.error().message + "); killing the worker");
        worker->kill();
        return operation;
    }
    std::lock_guard lock(m_mutex);
    if (session->pending == Pending::Save) {
        set_state_locked(*session, session->before_save);
        session->pending = Pending::None;
        operation->complete(accepted.error());
    }
    return accepted.release_error();
}

ServiceResult<void> VmRuntime::discard_saved_state(Guid const& id) {
    TRY(m_inventory.change_vm_state(id, [](VirtualMachine const& vm) -> ServiceResult<VmState> {
        if (vm.state() == VmState::TurnedOff)
            return service_error(hr::VM_E_VM_NO_SAVED_STATE, describe(vm) + " has no saved state");
        if (vm.state() != VmState::Saved) return service_error(hr::VM_E_VM_RUNNING, describe(vm) + " is on");
        auto file = vm.saved_state_file();
        if (::unlink(file.c_str()) != 0 && errno != ENOENT)
            return service_error(hr::E_FAIL, "cannot delete " + file.string() + ": " + std::strerror(errno));
        return VmState::TurnedOff;
    }));
    return Ok{};
}

// --- Shutdown --------------------------------------------------------------------

void VmRuntime::shutdown() {
    std::vector<std::shared_ptr<Session>> sessions;
    bool first = false; // a later call (the destructor's) must not record again
    {
        std::lock_guard lock(m_mutex);
        first = !m_shutting_down;
        m_shutting_down = true;
        for (auto const& [id, session] : m_sessions)
            sessions.push_back(session);
    }
    stop_sampler();
    // Remember which VMs are on, for AutoStartAtLaunch IfRunningAtQuit at
    // the next start (persisted in each .vmc before the VMs go down).
    auto record_running_at_quit = [this, first] {
        if (!first) return;
        for (auto const& vm : m_inventory.virtual_machines()) {
            bool running = vm.state() == VmState::Running || vm.state() == VmState::Paused;
            if (vm.was_running_at_quit() == running) continue;
            auto marked = m_inventory.update_virtual_machine(vm.config_id(), [&](VirtualMachine& changed) {
                changed.set_was_running_at_quit(running);
                return ServiceResult<void>{};
            });
            if (marked.is_error())
                log("virtual machine \"" + vm.name() +
                    "\": cannot record whether it was running: " + marked.error().message);
        }
    };
    if (sessions.empty()) {
        record_running_at_quit();
        join_merges();
        return;
    }

    // First let startups in flight finish (a half-started VM cannot save).
    for (auto const& session : sessions) {
        TaskHandle pending;
        {
            std::lock_guard lock(m_mutex);
            if (!session->ended && session->pending != Pending::None) pending = session->operation;
        }
        if (pending) (void)pending->wait_for(m_options.command_timeout);
    }
    // After the startups in flight: a VM turning on counts as on.
    record_running_at_quit();
    // Then save or turn off each running VM, all at once.
    std::vector<std::pair<std::shared_ptr<Session>, TaskHandle>> stopping;
    for (auto const& session : sessions) {
        auto vm = m_inventory.virtual_machine(session->id);
        if (!vm || session_of(session->id) != session) continue;
        bool turn_off = vm->shutdown_action() == ShutdownAction::TurnOff;
        // Shutdown needs guest Additions to ask the guest; without them
        // Virtual Server saves.
        auto operation = begin_stop(session, turn_off ? Pending::TurnOff : Pending::Save);
        if (operation.is_error() && !turn_off) {
            log("virtual machine \"" + session->name + "\": cannot save at shutdown (" +
                operation.error().message + "); turning it off");
            operation = begin_stop(session, Pending::TurnOff);
        }
        if (operation.has_value()) stopping.emplace_back(session, operation.value());
    }
    for (auto& [session, operation] : stopping) {
        auto done = operation->wait_for(m_options.shutdown_timeout);
        if (done.is_error())
            log("virtual machine \"" + session->name + "\": " + done.error().message + " at shutdown");
    }
    // No worker outlives vsad: whatever is left is killed and reaped.
    std::vector<std::shared_ptr<WorkerProcess>> workers;
    {
        std::lock_guard lock(m_mutex);
        for (auto const& [id, session] : m_sessions)
            if (session->worker) workers.push_back(std::move(session->worker));
        m_sessions.clear();
    }
    for (auto& worker : workers) {
        if (!worker->exited()) {
            worker->kill();
            worker->wait_exited(std::chrono::seconds(10));
        }
    }
    workers.clear(); // joins the monitors
    // Last: a guest power-off seen above may have started one.
    join_merges();
}

} // namespace vsa::services
