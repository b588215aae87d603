// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime: the power lifecycle of the registered VMs (IVMVirtualMachine
// Startup, TurnOff, Save, Pause, Resume, Reset, DiscardSavedState and the
// State property), carried out by one vsa-vm worker process per running VM
// (WorkerProcess).
//
// States follow vs-api.md section 6. The VM's state lives in the Inventory
// (so configuration changes, Delete and Unregister see it under the same
// lock); every transition is checked and made atomically there
// (Inventory::change_vm_state), so two racing calls cannot both start or
// both save a VM:
//
//   Startup    TurnedOff -> TurningOn -> Running
//              Saved -> TurningOn -> Restoring -> Running (the .vsv is
//              deleted once the worker runs: from then on the disks move on
//              and the file could only restore an inconsistent machine)
//   TurnOff    Running/Paused -> TurningOff -> TurnedOff
//   Save       Running/Paused -> Saving -> Saved (a failed save goes back)
//   Reset      Running -> Running (the worker resets in place)
//   Pause      Running -> Paused        Resume  Paused -> Running
//   DiscardSavedState  Saved -> TurnedOff (the .vsv is deleted)
//   worker ends by itself (guest power-off, triple fault, crash, kill -9):
//              -> TurnedOff, or Saved if it left a saved state; reported
//              through the event hook (the event log will hang there)
//
// Refusals: Startup when on or in transition VM_E_VM_RUNNING, past
// VmLimits::MAX_RUNNING_VMS VM_E_TOO_MANY_VMS, while vsad stops
// VM_E_APP_SHUTTING_DOWN; TurnOff/Save/Reset when not running
// VM_E_VM_NOT_RUNNING; Save of an undoable VM whose UndoAction is Discard
// E_FAIL; Pause/Resume in the wrong state E_FAIL (the codes the reference
// documents for them); DiscardSavedState VM_E_VM_NO_SAVED_STATE or
// VM_E_VM_RUNNING.
//
// Asynchronous operations (Virtual Server returns an IVMTask for Startup,
// TurnOff, Save and Reset) return a Task from the server's TaskRegistry once
// accepted (so IVMVirtualServer.Tasks lists it); it completes when the
// worker reports the outcome. A refusal above is the call's error, not a
// task's, as in Virtual Server. Progress reads 0 until the task completes
// (the worker reports no intermediate progress, not even for a save), and
// none of them can be cancelled: a started worker, a save under way or a
// pulled plug cannot be undone, so Cancel is E_FAIL. Reset completes before
// the call returns (the worker resets before it replies). Pause, Resume and
// DiscardSavedState are synchronous, as in Virtual Server.
//
// The worker's command line comes from the .vmc: --memory, the hard disks
// by IDE location (primary master, primary slave, secondary master,
// secondary slave), --save-state <folder>/<name>.vsv (and --restore-state
// from it when Saved), COM1 and COM2 as configured (worker_serial_spec:
// a text file, FIFOs, a TCP socket, a host tty), an unconnected COM1 to
// "<folder>/<name>.com1.log" (appended, so the log reads as one across save
// and restore), and LPT1 appended to its file when it has a name.
//
// Shutdown (vsad stopping): new operations are refused, every running VM
// is saved or turned off according to its ShutdownActionOnQuit (Shutdown,
// which needs guest Additions, falls back to Save as Virtual Server does),
// and any worker still there after that is killed: no worker outlives vsad.
//
// Undo disks (Undoable; vs-api.md IVMVirtualMachine Undoable, UndoAction,
// DiscardUndoDisks, MergeUndoDisks, IVMHardDiskConnection.UndoHardDisk):
// an undoable VM's worker gets, for each hard disk, its undo disk
// "<dir>/<stem>.vud" (a differencing VHD on the base, storage::
// undo_disk_path) instead of the base, so the base is never written while
// the VM is undoable. Startup makes the undo disks that do not exist yet and
// reuses kept ones (a file of that name that is not a differencing child of
// the base refuses the start); their paths are recorded in the .vmc
// (undo_pathname), which is what "the VM has undo disks" means to
// DiscardUndoDisks, MergeUndoDisks and UndoHardDisk. Restoring a saved state
// needs the recorded undo disks it was saved over (E_FILE_NOT_FOUND when one
// is gone); a disk without one (merged while Saved: the base then holds
// exactly what the guest saw) gets a fresh one.
//   TurnOff, Save, a crash or triple fault: the undo disks stay, as in
//     Virtual Server, until the owner decides.
//   The guest powering the machine off: the VM's UndoAction. Discard deletes
//     them, Keep keeps them, Commit merges them into their bases as a
//     background merge (the state is MergingDrives meanwhile, then
//     TurnedOff; a failure is logged and recorded in the merge's task, which
//     IVMVirtualServer.Tasks lists, and the undo disks it could not merge
//     stay). While vsad shuts down, Commit keeps the disks instead.
//   DiscardUndoDisks: only TurnedOff (VM_E_VM_RUNNING when on; a Saved VM is
//     refused with E_FAIL, because its saved state was taken over the undo
//     disks and would restore onto disks that no longer match). Nothing to
//     discard is S_OK.
//   MergeUndoDisks: TurnedOff or Saved (VM_E_VM_RUNNING otherwise); the
//     state is MergingDrives while its task runs, then what it was. Progress
//     is commit_undo_disk's, spread over the disks. Not cancelable: a merge
//     stopped half way leaves the base with some of the changes (the undo
//     disk still holds them all and a new merge finishes the job, but a
//     discard would leave the base neither old nor new), so Cancel is
//     E_FAIL and vsad's shutdown waits for a running merge. Nothing to merge
//     gives a task that is already complete.
//   Undoable set to false (TurnedOff only) deletes the undo disks first.
//   A merge that failed or was cut off (a vsad crash) leaves a base with part
//     of the changes: each disk's .vmc entry records that its merge began
//     (undo_merge_started) until it is done, and while such an undo disk
//     exists, DiscardUndoDisks, Undoable off and UndoAction Discard are
//     refused (E_FAIL naming MergeUndoDisks, which finishes the merge).
//     Startup still works: reads through the undo disk see all the changes.
//
// A running VM's display, guest and accounting (vm_runtime_display.cpp):
// IVMDisplay, IVMGuestOS and IVMAccountant read the worker. The screen
// comes from the worker's "screenshot" command: size and mode on the line,
// the picture as a PNG file the worker writes into screenshot_dir, which
// vsad reads and deletes. A sampler thread asks every worker for its state
// once a sample_interval and reads its CPU time from /proc/<pid>/stat:
//   heartbeat    there are no Virtual Machine Additions, so a heartbeat is
//                what the emulator sees: a sample is one when the VM runs
//                (not paused) and its virtual CPU retired instructions
//                since the previous sample. A guest halted with interrupts
//                off, stuck in a triple fault or paused has none; an idle
//                guest taking timer interrupts has them. A guest spinning
//                with interrupts off still does (an accepted limit).
//                IsHeartbeating: the latest sample was one;
//                HeartbeatPercentage: the share of the last minute's samples.
//   CPU          the worker process's CPU time (user + system) over the last
//                sample interval, as a percentage of the whole host (all
//                logical processors), as Virtual Server's capacity figures.
//   UpTime       seconds since the worker reported "started" (0 when off).
// IVMGuestOS.Shutdown presses the ACPI power button (the guest's ACPI OS
// shuts down and powers off by itself); its task completes when the guest
// powers the VM off, fails (E_ABORT) if the VM stops another way, and times
// out (VM_E_TIMED_OUT) after guest_shutdown_timeout when the guest ignores
// the button (no ACPI driver): the VM then keeps running.
// DVD media of a running VM (attach_dvd_image, release_dvd_image,
// attach_dvd_host_drive, release_dvd_host_drive) go to the worker's drive
// first (insert-media / eject-media) and then into the .vmc; a guest that
// locked the tray refuses with VM_E_DRIVE_IN_USE and nothing changes.
// Stopped VMs change only the .vmc.
// A captured host optical drive (HostOpticalDrives, by id) is, to the
// worker, its device or image path opened read-only like an ISO image, at
// startup (--cdrom=PATH) and when captured while running (insert-media).
// When the drive holds no disc, cannot be opened, or its id is no longer
// in the table (a drive unplugged, a .vmc from Virtual Server with a
// letter), the worker's drive is empty instead: the guest sees no media,
// the VM starts and the capture stays recorded. A disc inserted, removed or
// swapped in the host drive later reaches a running VM's drive within a
// sample interval: the sampler compares each captured drive's disc
// (HostOpticalDrives::media_signature) with the one its worker drive was
// given, and inserts the new disc or ejects (breaking a guest's tray lock:
// the disc is gone from the host drive whatever the guest says).
// A saved state records the disc as an image path (AtapiCdrom): restoring
// it needs the same disc in the host drive (or none if there was none),
// as it needs an attached ISO image to still be there; otherwise the
// worker refuses the state and the VM stays Saved (DiscardSavedState).
//
// The floppy drive (vm_runtime_floppy.cpp): every VM has one, so every
// worker gets drive A: (--floppy), holding the VM's floppy image, the disk
// of its captured host floppy drive (HostFloppyDrives, by id), or nothing.
// Either is write-protected (--floppy-ro) when the host cannot write it.
// An image or host drive that is gone or of no floppy size at startup
// leaves the drive empty (logged): the VM still starts. AttachImage,
// ReleaseImage, AttachHostDrive and ReleaseHostDrive on a running (or
// paused) VM go to the worker first (insert-media / eject-media fd0, which
// raise the controller's disk-change line as a real disk change does) and
// then into the .vmc; AttachImage checks the file first, in any state (a
// missing file or one of no floppy size is VM_E_IMAGE_CAPTURE_FAIL). A
// saved state records the disk (path, size, write protection): restoring
// needs the same one, as for a DVD image. A disk swapped in a captured host
// floppy drive is not followed while the VM runs (a floppy drive has no
// media-change notification on Linux): release and attach it again.
//
// Not yet: network adapters,
// AutoStartAtLaunch, triple fault resetting the VM (the worker stops and
// the VM is turned off, with a hook event).
#pragma once

#include "services/host_floppy_drives.h"
#include "services/host_optical_drives.h"
#include "services/inventory.h"
#include "services/task/task_registry.h"
#include "services/worker/console_source.h"
#include "services/worker/cpu_cgroup.h"
#include "services/worker/guest_agent.h"
#include "services/worker/key_identifiers.h"
#include "services/worker/virtual_networks.h"
#include "services/worker/worker_process.h"

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace vsa::services {

// What happened to a VM without a client asking (the event log's input).
enum class VmEvent {
    TurnedOffByGuest,  // the guest powered the machine off
    TripleFault,       // the virtual CPU shut down
    WorkerDied,        // the worker crashed or was killed
    WorkerError,       // the worker reported a host error (disk, saved state)
    HeartbeatStopped,  // running, but no instruction retired in a sampling interval
    Reset,             // reset by Reset (the worker reset in place)
    ShutdownRequested, // about to power down: a turn-off or a guest shutdown was asked for
};

struct VmRuntimeOptions {
    std::filesystem::path worker_binary; // vsa-vm
    // Passed to every worker before the VM's own arguments (tests and
    // appliances with their own firmware: --bios, --vgabios).
    std::vector<std::string> extra_arguments;
    // How long a worker may take to answer a command, and to finish a
    // save or a turn-off at vsad's shutdown before it is killed.
    std::chrono::milliseconds command_timeout{15'000};
    std::chrono::milliseconds shutdown_timeout{120'000};
    // The sampler's period (heartbeat and CPU samples), the time a guest
    // gets to act on IVMGuestOS.Shutdown, and where workers write
    // screenshots (empty: the system's temporary folder).
    std::chrono::milliseconds sample_interval{1'000};
    std::chrono::milliseconds guest_shutdown_timeout{600'000};
    // The guest agent's install media (an ISO image) for InstallAdditions;
    // empty: none.
    std::filesystem::path agent_media;
    std::filesystem::path screenshot_dir;
    // Log lines (vsad passes its logger); default: stderr.
    std::function<void(std::string const&)> log;
    // vsad's cgroup v2 group for the workers' CPU groups (cpu_cgroup.h);
    // empty: "vsa" at the top of the cgroup2 mount.
    std::filesystem::path cpu_cgroup_root;
    // Unsolicited VM events, after the state has changed. Runs on the
    // worker's monitor thread: it must not call VmRuntime synchronously
    // (queue the work instead).
    std::function<void(Guid const&, std::string const& vm_name, VmEvent, std::string const& detail)> on_event;
    // The host optical drives DVD drives may capture (by id).
    HostOpticalDrives optical_drives{};
    // The host floppy drives the floppy drive may capture (by id).
    HostFloppyDrives floppy_drives{};
};

class VmRuntime {
public:
    // `tasks` makes the operations' tasks and must outlive the runtime.
    VmRuntime(Inventory& inventory, TaskRegistry& tasks, VmRuntimeOptions options);
    ~VmRuntime(); // shutdown()
    VmRuntime(VmRuntime const&) = delete;
    VmRuntime& operator=(VmRuntime const&) = delete;

    ServiceResult<TaskHandle> startup(Guid const& id);
    ServiceResult<TaskHandle> turn_off(Guid const& id);
    ServiceResult<TaskHandle> save(Guid const& id);
    ServiceResult<TaskHandle> reset(Guid const& id);
    ServiceResult<void> pause(Guid const& id);
    ServiceResult<void> resume(Guid const& id);
    ServiceResult<void> discard_saved_state(Guid const& id);

    // Undo disks (see the top of this file).
    ServiceResult<void> set_undoable(Guid const& id, bool undoable);
    ServiceResult<void> discard_undo_disks(Guid const& id);
    ServiceResult<TaskHandle> merge_undo_disks(Guid const& id);

    // A running VM's screen, guest and accounting (see the top of this
    // file). All VM_E_VM_NOT_RUNNING without a worker, except accounting
    // (zeros, as Virtual Server's S_FALSE).
    struct Screenshot {
        control::ScreenInfo info;
        std::vector<u8> png; // empty when only the info was asked for
    };
    ServiceResult<control::ScreenInfo> screen_info(Guid const& id);
    // A PNG of the screen, full size (0 x 0) or scaled to width x height.
    ServiceResult<Screenshot> screenshot(Guid const& id, unsigned width, unsigned height);
    // The screen's text (IVMDisplay.Text): the rows of a text mode as
    // ASCII (line-drawing and shade characters approximated), or one line
    // naming a graphics mode.
    ServiceResult<std::string> screen_text(Guid const& id);
    static constexpr unsigned THUMBNAIL_WIDTH = 64;
    static constexpr unsigned THUMBNAIL_HEIGHT = 48;
    // IVMDisplay.Thumbnail: 64 x 48 pixels, row-major, each blue << 24 |
    // green << 16 | red << 8 (vs-api.md, _GenerateThumbnail).
    ServiceResult<std::vector<u32>> thumbnail(Guid const& id);
    struct GuestActivity {
        bool heartbeating{false};
        std::int32_t heartbeat_percentage{0};
    };
    ServiceResult<GuestActivity> guest_activity(Guid const& id);
    // Running only (VM_E_VM_PAUSED when paused); one at a time (E_FAIL).
    ServiceResult<TaskHandle> shutdown_guest(Guid const& id);

    // --- The guest agent (vm_runtime_guest.cpp; guest_agent.h) ----------------
    // IVMGuestOS / IVMGuestOS2 through qemu-guest-agent's protocol on the
    // worker's agent port. Members that need the agent want the VM running
    // (VM_E_VM_NOT_RUNNING; VM_E_VM_PAUSED when paused) and an agent that
    // answered since the VM started (else VM_E_ADDITIONS_FEATURE_NOT_AVAIL,
    // saying no guest agent answered).
    ServiceResult<std::string> guest_os_name(Guid const& id);
    // The agent's version: a running VM's live one, else the one the .vmc
    // kept from the last time an agent answered ("" if never).
    ServiceResult<std::string> guest_additions_version(Guid const& id);
    // Running (else VM_E_VM_NOT_RUNNING): whether an agent answers (then
    // Shutdown is guest-shutdown; without one it is the ACPI power button,
    // which a guest may ignore, so not a clean shutdown one can count on).
    ServiceResult<bool> guest_can_shutdown(Guid const& id);
    // In the .vmc, any state; a running agent is told at once.
    ServiceResult<bool> host_time_sync(Guid const& id);
    ServiceResult<void> set_host_time_sync(Guid const& id, bool enabled);
    ServiceResult<std::string> guest_computer_name(Guid const& id);
    // /bin/sh -c `command` in the guest (guest-exec), waiting up to
    // GUEST_EXEC_TIMEOUT; its standard output (E_FAIL with the exit status
    // and standard error when it failed).
    static constexpr std::chrono::seconds GUEST_EXEC_TIMEOUT{30};
    ServiceResult<std::string> guest_execute(Guid const& id, std::string const& command);
    // Guest parameters: the stock ones (HostName, PhysicalHostName,
    // PhysicalHostNameFullyQualified, VirtualMachineName) are vsad's answer;
    // others live in the guest file GUEST_PARAMETERS_FILE (a JSON object),
    // read and written through guest-file-*. Names: 1-255 characters, no
    // backslash (E_INVALIDARG). A name never set reads as "".
    static constexpr char const* GUEST_PARAMETERS_FILE = "/var/lib/vsa-guest-parameters.json";
    ServiceResult<void> set_guest_parameter(Guid const& id, std::string const& name,
                                            std::string const& value);
    ServiceResult<std::string> guest_parameter(Guid const& id, std::string const& name);
    // IVMGuestOS.InstallAdditions: the agent's install media
    // (Options::agent_media) into the first empty DVD drive of the running
    // VM (VM_E_DRIVE_INVALID when it has none; E_FAIL when vsad has no
    // media). Needs no agent.
    ServiceResult<void> install_guest_additions(Guid const& id);
    struct Accounting {
        bool running{false};
        std::int32_t cpu_percent{0};
        std::int32_t uptime_seconds{0};
        // The last minute's samples, newest first, zero-padded to 60 (vm_runtime_accountant.cpp).
        std::vector<u8> cpu_history;
        u64 disk_bytes_read{0};
        u64 disk_bytes_written{0};
        u64 network_bytes_sent{0};
        u64 network_bytes_received{0};
    };
    ServiceResult<Accounting> accounting(Guid const& id);

    // CPU scheduling (vm_runtime_accountant.cpp; scheduling.h, cpu_cgroup.h).
    struct Scheduling {
        double reserved_percent{0};
        double maximum_percent{0};
        std::int32_t relative_weight{SchedulingParameters::DEFAULT_WEIGHT};
        double allowable_maximum_percent{0};  // one processor's share of the host
        double allowable_reserved_percent{0}; // what is not reserved by other running VMs, at most that
    };
    // VM_E_VM_UNKNOWN for an unknown VM.
    ServiceResult<Scheduling> scheduling(Guid const& id) const;
    // IVMAccountant.SetSchedulingParameters: checked (E_INVALIDARG), stored
    // in the .vmc, and applied to a running worker's cgroup.
    ServiceResult<void> set_scheduling(Guid const& id, SchedulingParameters parameters);
    // IVMVirtualServer.AvailableSystemCapacity: 100 less the reserves of
    // the VMs that are on (a VM whose reserve exceeds it cannot start:
    // VM_E_OUT_OF_RESERVE).
    double available_system_capacity() const;
    // The host's logical processors (as the capacity figures count them).
    static unsigned host_processors();
    CpuCgroups const& cpu_cgroups() const { return m_cgroups; }
    ServiceResult<void> attach_dvd_image(Guid const& id, BusLocation const& at,
                                         std::filesystem::path const& image);
    ServiceResult<void> release_dvd_image(Guid const& id, BusLocation const& at);
    // IVMDVDDrive.AttachHostDrive / ReleaseHostDrive (see the top of this
    // file): E_INVALIDARG for an id the table does not have, then as the
    // image calls (VM_E_DRIVE_IN_USE, VM_E_MEDIA_WRONG_TYPE, ...).
    ServiceResult<void> attach_dvd_host_drive(Guid const& id, BusLocation const& at,
                                              std::string_view drive_id);
    ServiceResult<void> release_dvd_host_drive(Guid const& id, BusLocation const& at);
    HostOpticalDrives const& optical_drives() const { return m_options.optical_drives; }
    // IVMFloppyDrive media (vm_runtime_floppy.cpp; see the top of this
    // file). attach_floppy_image: VM_E_IMAGE_CAPTURE_FAIL for a file that
    // is missing or of no floppy size; attach_floppy_host_drive: as
    // HostFloppyDrives::find; then the model's refusals (FloppyDrive).
    ServiceResult<void> attach_floppy_image(Guid const& id, std::filesystem::path const& image);
    ServiceResult<void> release_floppy_image(Guid const& id);
    ServiceResult<void> attach_floppy_host_drive(Guid const& id, std::string_view letter);
    ServiceResult<void> release_floppy_host_drive(Guid const& id);
    HostFloppyDrives const& floppy_drives() const { return m_options.floppy_drives; }
    // What a worker started now gets in drive A: nullopt for an empty
    // drive.
    struct FloppyMedia {
        std::string path;
        bool read_only{false};
    };
    std::optional<FloppyMedia> floppy_media_of(VirtualMachine const& vm) const;

    // The console's view of a running VM (console_source.h): its screen and
    // its keyboard and mouse. A new source per call (one per console
    // session). VM_E_VM_NOT_RUNNING without a worker; E_FAIL when the
    // worker has no shared framebuffer.
    ServiceResult<std::shared_ptr<ConsoleSource>> console_source(Guid const& id);

    // The keyboard and mouse of a running (or paused) VM: IVMKeyboard and
    // IVMMouse (vm_runtime_input.cpp). vsad keeps what it sent to each
    // worker: the keys it holds down, the mouse buttons, and who has the
    // keyboard to himself (HasExclusiveAccess: a user name); all of it ends
    // with the worker. Keys go out one scan code sequence a command, paced
    // (KEY_INTERVAL) so the guest's 32-byte keyboard queue never overflows.
    // Keys from anyone but the exclusive holder are ignored, as the
    // reference says (and logged). VM_E_VM_NOT_RUNNING without a worker.
    static constexpr std::chrono::milliseconds KEY_INTERVAL{10};
    ServiceResult<void> send_keys(Guid const& id, std::vector<keys::KeyStep> const& steps,
                                  std::string const& caller);
    ServiceResult<bool> key_pressed(Guid const& id, keys::Key key);
    ServiceResult<bool> keyboard_exclusive(Guid const& id, std::string const& caller);
    // True when the mode changed, false (S_FALSE) when it already was so;
    // VM_E_SET_EXCLUSIVE_MODE_FAIL when another user holds it or (to take
    // it) the VM is not running.
    ServiceResult<bool> set_keyboard_exclusive(Guid const& id, std::string const& caller, bool exclusive);
    // A relative motion (each clamped to the protocol's +-4096) with the
    // buttons as they are; `buttons` (control::MOUSE_* bits) sets them.
    ServiceResult<void> mouse_input(Guid const& id, int dx, int dy, int dz,
                                    std::optional<unsigned> buttons = {});
    // The buttons vsad last sent (control::MOUSE_* bits).
    ServiceResult<unsigned> mouse_buttons(Guid const& id);

    // The worker's own view (running or paused, instructions retired);
    // VM_E_VM_NOT_RUNNING when there is no worker.
    ServiceResult<control::Status> query(Guid const& id);
    // The worker's process id, for tests and diagnostics (-1 if none).
    pid_t worker_pid(Guid const& id) const;
    std::size_t running_count() const;

    // Saves or turns off every running VM per its ShutdownActionOnQuit, then
    // makes sure no worker is left. Idempotent; later operations are
    // refused with VM_E_APP_SHUTTING_DOWN.
    void shutdown();

    // The worker's command line for `vm` (without --control-fd).
    std::vector<std::string> worker_arguments(VirtualMachine const& vm) const;
    // The SMBIOS identity as worker options (vm_runtime_identity.cpp).
    static std::vector<std::string> smbios_arguments(VirtualMachine const& vm);

    // Networks (vm_runtime_network.cpp). A running VM's adapters follow
    // the model: after the inventory changed a VM's adapters (Attach/
    // DetachFromVirtualNetwork) or removed a network, these re-plug them
    // (the inventory's observer runs under its lock, so the callers, not
    // the observer, call these).
    void sync_network_adapters(Guid const& vm);
    void network_removed(Guid const& network);
    VirtualNetworks& networks() { return m_networks; }
    static std::filesystem::path default_serial_log(VirtualMachine const& vm);

private:
    struct Session;
    enum class Pending { None, Startup, TurnOff, Save };

    std::shared_ptr<Session> session_of(Guid const& id) const;
    // For a client command: the VM's session with its command lock held,
    // the VM in state `wanted` (else `refusal`), and its worker.
    struct CommandTarget {
        std::shared_ptr<Session> session;
        std::unique_lock<std::mutex> lock;
        std::shared_ptr<WorkerProcess> worker;
    };
    ServiceResult<CommandTarget> command_target(Guid const& id, VmState wanted, HResult refusal);
    // A session whose worker runs, for TurnOff and Save (VM_E_VM_UNKNOWN,
    // VM_E_VM_NOT_RUNNING, VM_E_APP_SHUTTING_DOWN).
    ServiceResult<std::shared_ptr<Session>> running_session(Guid const& id);
    // TurnOff or Save (kind), from Running or Paused.
    ServiceResult<TaskHandle> begin_stop(std::shared_ptr<Session> const& session, Pending kind);
    void on_worker_event(std::shared_ptr<Session> const& session, control::Notification const& event);
    void on_worker_exit(std::shared_ptr<Session> const& session, WorkerExit const& exit);
    void log(std::string const& line) const;
    // Socketpairs for the VM's adapters: the worker's ends (in adapter
    // order, as worker_arguments names them) and vsad's, plugged as the
    // model says.
    ServiceResult<std::vector<FileDescriptor>> open_network_adapters(VirtualMachine const& vm);
    // vsad's end of a starting VM's agent port (vm_runtime_guest.cpp).
    std::shared_ptr<GuestAgent> make_guest_agent(Guid const& id, FileDescriptor stream, bool time_sync);
    // The running VM's agent, if one answered (see guest_os_name).
    ServiceResult<std::shared_ptr<GuestAgent>> answering_agent(Guid const& id);
    // Startup of an undoable VM: makes or checks the undo disk of each hard
    // disk and records them in the .vmc; returns the VM as recorded.
    ServiceResult<VirtualMachine> prepare_undo_disks(Guid const& id, bool restoring);
    // First boot: the SMBIOS strings still empty get their values, in the
    // .vmc (vm_runtime_identity.cpp).
    ServiceResult<void> assign_smbios_identity(Guid const& id);
    // The host account the worker runs as (none: vsad's), after checking
    // it can reach the files `arguments` name (vm_runtime_identity.cpp).
    ServiceResult<std::optional<HostCredentials>>
    worker_account(VirtualMachine const& vm, std::vector<std::string> const& arguments) const;
    // The guest turned an undoable VM off: its UndoAction. Commit has set
    // the state to MergingDrives already. Expects m_mutex held.
    void apply_undo_action_locked(VirtualMachine const& vm);
    // Merges `vm`'s undo disks on a thread of its own behind a new task,
    // then sets the state `after` (the VM is MergingDrives). Expects
    // m_mutex held.
    TaskHandle start_merge_locked(VirtualMachine const& vm, VmState after);
    // Waits for every merge thread (shutdown).
    void join_merges();
    // The reserves of the VMs that are on. Expects m_mutex held.
    double reserved_locked() const;
    // VM_E_OUT_OF_RESERVE when `vm`'s reserve exceeds what the VMs that are
    // on leave. Expects m_mutex held.
    ServiceResult<void> admit_locked(VirtualMachine const& vm) const;
    // Puts a new worker into its VM's CPU cgroup (vm_runtime_accountant.cpp).
    void place_worker(Guid const& id, pid_t pid, SchedulingParameters const& parameters);
    // The sampler thread (vm_runtime_display.cpp).
    void sample_loop();
    void sample_all();
    void stop_sampler();
    // The worker of a VM that has one, or VM_E_VM_NOT_RUNNING.
    ServiceResult<std::pair<std::shared_ptr<Session>, std::shared_ptr<WorkerProcess>>>
    live_worker(Guid const& id);
    // Changes the DVD drive at `at`: `edit` is the .vmc's change (checked
    // first, on a copy); a running worker inserts `insert` (an image or a
    // host drive's path), or ejects when it is empty. `empty_if_unreadable`
    // (host drives): a path the worker cannot read leaves its drive empty
    // instead of failing the call.
    // `done` runs once a running worker's drive has changed (before the
    // command lock is released), with whether it was given `insert`.
    struct DvdChange {
        std::function<ServiceResult<void>(DvdDrive&)> edit;
        std::optional<std::string> insert;
        bool empty_if_unreadable{false};
        std::function<void(Session&, bool inserted)> done{};
    };
    ServiceResult<void> change_dvd_media(Guid const& id, BusLocation const& at, DvdChange const& change);
    // The floppy drive's counterpart (vm_runtime_floppy.cpp): `edit` on
    // the .vmc, a running worker's drive A: given `insert` or emptied.
    struct FloppyChange {
        std::function<ServiceResult<void>(FloppyDrive&)> edit;
        std::optional<FloppyMedia> insert;
    };
    ServiceResult<void> change_floppy_media(Guid const& id, FloppyChange const& change);
    // What both share (vm_runtime_display.cpp): `edit` checked on a copy of
    // the VM first, so nothing reaches the guest that the .vmc would refuse;
    // with no worker, the .vmc only; else, under the VM's command lock and
    // only while it runs or is paused, `live` changes the worker's drive,
    // then the .vmc follows (if that fails, the guest has the new medium
    // anyway: logged). `after` runs, under m_mutex, once a worker's drive
    // has changed and the .vmc with it. `drive` names it in messages.
    ServiceResult<void>
    change_media(Guid const& id, std::string const& drive,
                 std::function<ServiceResult<void>(VirtualMachine&)> const& edit,
                 std::function<ServiceResult<void>(WorkerProcess&, VirtualMachine const&)> const& live,
                 std::function<void(Session&)> const& after = {});
    // A captured host drive's disc as it is now (vm_runtime_media.cpp):
    // path empty when the worker's drive is to stay empty (no disc, or an
    // id the table no longer has).
    struct HostMedia {
        std::string drive_id;
        std::optional<std::string> signature; // HostOpticalDrives::media_signature
        std::optional<std::string> path;
    };
    HostMedia probe_host_drive(std::string const& drive_id) const;
    // The discs of `vm`'s captured host drives by IDE slot, as a worker
    // started now gets them.
    std::map<unsigned, HostMedia> host_media_of(VirtualMachine const& vm) const;
    // The sampler's pass over captured host drives (see the top).
    void watch_host_drives();
    ServiceResult<Screenshot> screen_file(Guid const& id, control::Request request);
    // The private folder workers write screenshots into (made on first use).
    ServiceResult<std::filesystem::path> screens_dir();
    // Sets the inventory state unless the worker has already ended (its end
    // decides the final state). Expects m_mutex held.
    void set_state_locked(Session const& session, VmState state);

    Inventory& m_inventory;
    // Declared early: destroyed after the sessions (their workers' sockets).
    VirtualNetworks m_networks;
    TaskRegistry& m_tasks;
    VmRuntimeOptions m_options;
    CpuCgroups m_cgroups;
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_shutting_down{false};
    std::map<Guid, std::shared_ptr<Session>> m_sessions; // workers that may still run
    struct Merge {
        TaskHandle task;
        std::thread thread;
    };
    std::vector<Merge> m_merges; // joined once complete, or at shutdown
    // The sampler: last, so it starts after everything it reads exists.
    std::mutex m_sampler_mutex;
    std::condition_variable m_sampler_wake;
    bool m_sampler_stop{false};
    std::thread m_sampler;
    std::filesystem::path m_screens_dir; // under m_mutex; removed at shutdown
};

} // namespace vsa::services
