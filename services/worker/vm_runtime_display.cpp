// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime: a running VM's screen, guest activity, accounting and DVD
// media (see vm_runtime.h for what each means without guest Additions).
#include "hypervisor/machine/png_image.h"
#include "services/worker/vm_runtime.h"
#include "services/worker/vm_runtime_session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace vsa::services {

namespace {

// Codes of the reference that hresult.h does not name yet.
constexpr HResult VM_E_VM_PAUSED{0xA004'0507};

using SteadyClock = std::chrono::steady_clock;

// The heartbeat window: the reference's "last minute".
constexpr std::chrono::seconds HEARTBEAT_WINDOW{60};
// A screenshot PNG vsad reads back: a 2560x1600 RGB screen compresses
// to far less; anything larger is not what the worker was asked for.
constexpr std::uintmax_t MAX_SCREENSHOT_BYTES = 32 * MiB;

// The worker's user + system CPU time in clock ticks, from
// /proc/<pid>/stat fields 14 and 15 (counted after the command name,
// which may itself hold spaces and parentheses).
std::optional<u64> process_cpu_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(text.substr(close + 1));
    std::string field;
    u64 utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
        if (i == 15) {
            stime = std::strtoull(field.c_str(), nullptr, 10);
            return utime + stime;
        }
    }
    return std::nullopt;
}

ServiceResult<std::vector<u8>> read_small_file(std::filesystem::path const& path) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec) return service_error(hr::E_FAIL, "the VM worker wrote no screenshot: " + ec.message());
    if (size > MAX_SCREENSHOT_BYTES)
        return service_error(hr::E_FAIL, "the VM worker's screenshot is too large");
    std::ifstream in(path, std::ios::binary);
    std::vector<u8> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof())
        return service_error(hr::E_FAIL, "cannot read the screenshot " + path.string());
    return bytes;
}

} // namespace

// --- Workers of running VMs -------------------------------------------------

ServiceResult<std::pair<std::shared_ptr<VmRuntime::Session>, std::shared_ptr<WorkerProcess>>>
VmRuntime::live_worker(Guid const& id) {
    auto vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    auto session = session_of(id);
    std::shared_ptr<WorkerProcess> worker;
    if (session) {
        std::lock_guard lock(m_mutex);
        if (!session->ended) worker = session->worker;
    }
    if (!worker || (vm->state() != VmState::Running && vm->state() != VmState::Paused))
        return service_error(hr::VM_E_VM_NOT_RUNNING,
                             "virtual machine \"" + vm->name() + "\" is not running");
    return std::pair{session, worker};
}

// --- Display ------------------------------------------------------------------

ServiceResult<std::filesystem::path> VmRuntime::screens_dir() {
    std::lock_guard lock(m_mutex);
    // Made after shutdown() it would never be removed.
    if (m_shutting_down) return service_error(hr::VM_E_APP_SHUTTING_DOWN, "the server is shutting down");
    if (!m_screens_dir.empty()) return m_screens_dir;
    std::filesystem::path base =
        m_options.screenshot_dir.empty() ? std::filesystem::temp_directory_path() : m_options.screenshot_dir;
    // A folder of our own (mode 0700, a fresh name): nobody else can place
    // a file or a symbolic link where a worker is told to write.
    std::string pattern = (base / "vsad-screens-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
        return service_error(hr::E_FAIL, "cannot make a folder for screenshots in " + base.string() + ": " +
                                             std::strerror(errno));
    m_screens_dir = pattern;
    return m_screens_dir;
}

ServiceResult<control::ScreenInfo> VmRuntime::screen_info(Guid const& id) {
    auto [session, worker] = TRY(live_worker(id));
    auto reply =
        TRY(worker->request(control::Request{0, control::Command::Screenshot}, m_options.command_timeout));
    if (!reply.screen) return service_error(hr::E_FAIL, "the VM worker's answer had no screen size");
    return *reply.screen;
}

ServiceResult<VmRuntime::Screenshot> VmRuntime::screenshot(Guid const& id, unsigned width, unsigned height) {
    if ((width == 0) != (height == 0) || width > control::MAX_SCREENSHOT_SIDE ||
        height > control::MAX_SCREENSHOT_SIDE)
        return service_error(hr::E_INVALIDARG,
                             "a screenshot is full size (0 x 0) or 1 to 4096 pixels a side");
    control::Request request{0, control::Command::Screenshot};
    request.width = width;
    request.height = height;
    return screen_file(id, std::move(request));
}

ServiceResult<std::string> VmRuntime::screen_text(Guid const& id) {
    control::Request request{0, control::Command::Screenshot};
    request.text = true;
    auto shot = TRY(screen_file(id, std::move(request)));
    return std::string(shot.png.begin(), shot.png.end());
}

// A screenshot request whose answer travels through a file the worker
// writes into our private folder (a PNG, or the text).
ServiceResult<VmRuntime::Screenshot> VmRuntime::screen_file(Guid const& id, control::Request request) {
    auto [session, worker] = TRY(live_worker(id));
    auto dir = TRY(screens_dir());
    static std::atomic<u64> counter{0};
    auto path = dir / ("screen-" + std::to_string(counter.fetch_add(1)) + (request.text ? ".txt" : ".png"));
    request.path = path.string();
    auto reply = worker->request(request, m_options.command_timeout);
    // Whatever happened, the file (and a torn temporary) goes.
    struct Cleanup {
        std::filesystem::path path;
        ~Cleanup() {
            std::error_code ec;
            std::filesystem::remove(path, ec);
            std::filesystem::remove(path.string() + ".tmp", ec);
        }
    } cleanup{path};
    if (reply.is_error()) return reply.release_error();
    if (!reply.value().screen) return service_error(hr::E_FAIL, "the VM worker's answer had no screen size");
    Screenshot shot;
    shot.info = *reply.value().screen;
    shot.png = TRY(read_small_file(path));
    return shot;
}

ServiceResult<std::vector<u32>> VmRuntime::thumbnail(Guid const& id) {
    auto shot = TRY(screenshot(id, THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT));
    auto image = decode_png(shot.png, u64(THUMBNAIL_WIDTH) * THUMBNAIL_HEIGHT);
    if (image.is_error()) return service_error(hr::E_FAIL, "the VM worker's thumbnail: " + image.error());
    if (image.value().width != THUMBNAIL_WIDTH || image.value().height != THUMBNAIL_HEIGHT)
        return service_error(hr::E_FAIL, "the VM worker's thumbnail has the wrong size");
    std::vector<u32> pixels;
    pixels.reserve(image.value().pixels.size());
    for (u32 rgb : image.value().pixels) {
        u32 red = rgb >> 16 & 0xFF, green = rgb >> 8 & 0xFF, blue = rgb & 0xFF;
        pixels.push_back(blue << 24 | green << 16 | red << 8);
    }
    return pixels;
}

// --- Guest --------------------------------------------------------------------

ServiceResult<VmRuntime::GuestActivity> VmRuntime::guest_activity(Guid const& id) {
    auto [session, worker] = TRY(live_worker(id));
    std::lock_guard lock(m_mutex);
    GuestActivity activity;
    // With a guest agent that answered, its pings are the heartbeat (as
    // the Additions' was); without one, what the emulator observes.
    if (session->agent) {
        auto status = session->agent->status();
        if (status.answered) {
            activity.heartbeating = status.heartbeating;
            activity.heartbeat_percentage = status.heartbeat_percentage;
            return activity;
        }
    }
    if (session->samples.empty()) return activity;
    activity.heartbeating = session->samples.back().progressed;
    auto since = SteadyClock::now() - HEARTBEAT_WINDOW;
    unsigned seen = 0, beats = 0;
    for (auto const& sample : session->samples) {
        if (sample.at < since) continue;
        ++seen;
        if (sample.progressed) ++beats;
    }
    activity.heartbeat_percentage = seen ? static_cast<std::int32_t>((beats * 100 + seen / 2) / seen) : 0;
    return activity;
}

ServiceResult<TaskHandle> VmRuntime::shutdown_guest(Guid const& id) {
    auto vm = m_inventory.virtual_machine(id);
    if (vm && vm->state() == VmState::Paused)
        return service_error(VM_E_VM_PAUSED, "virtual machine \"" + vm->name() + "\" is paused");
    auto target = TRY(command_target(id, VmState::Running, hr::VM_E_VM_NOT_RUNNING));
    TaskHandle task;
    {
        std::lock_guard lock(m_mutex);
        if (target.session->guest_shutdown)
            return service_error(hr::E_FAIL, "a guest shutdown of virtual machine \"" + target.session->name +
                                                 "\" is already under way");
        task = m_tasks.create("Shutdown of the guest of virtual machine \"" + target.session->name + "\"",
                              false);
        target.session->guest_shutdown = task;
        target.session->guest_shutdown_deadline = SteadyClock::now() + m_options.guest_shutdown_timeout;
    }
    // A guest agent that answers shuts its guest down (guest-shutdown);
    // without one, the ACPI power button.
    std::shared_ptr<GuestAgent> agent;
    {
        std::lock_guard lock(m_mutex);
        if (target.session->agent && target.session->agent->status().heartbeating)
            agent = target.session->agent;
    }
    if (agent) {
        auto asked = agent->shutdown();
        if (asked.has_value()) {
            log("virtual machine \"" + target.session->name + "\": guest shutdown asked of the guest agent");
            if (m_options.on_event)
                m_options.on_event(id, target.session->name, VmEvent::ShutdownRequested, "guest shutdown");
            return task;
        }
        log("virtual machine \"" + target.session->name + "\": the guest agent's shutdown failed (" +
            asked.error().message + "); pressing the ACPI power button");
    }
    auto pressed = target.worker->request(control::Command::PowerButton, m_options.command_timeout);
    if (pressed.is_error()) {
        std::lock_guard lock(m_mutex);
        if (target.session->guest_shutdown == task) target.session->guest_shutdown.reset();
        task->complete(pressed.error());
        return pressed.release_error();
    }
    log("virtual machine \"" + target.session->name + "\": ACPI power button pressed (guest shutdown)");
    if (m_options.on_event)
        m_options.on_event(id, target.session->name, VmEvent::ShutdownRequested, "guest shutdown");
    return task;
}

// --- The sampler ----------------------------------------------------------------

void VmRuntime::sample_loop() {
    std::unique_lock lock(m_sampler_mutex);
    while (!m_sampler_stop) {
        m_sampler_wake.wait_for(lock, m_options.sample_interval, [&] { return m_sampler_stop; });
        if (m_sampler_stop) break;
        lock.unlock();
        sample_all();
        watch_host_drives();
        lock.lock();
    }
}

void VmRuntime::stop_sampler() {
    {
        std::lock_guard lock(m_sampler_mutex);
        m_sampler_stop = true;
    }
    m_sampler_wake.notify_all();
    if (m_sampler.joinable() && m_sampler.get_id() != std::this_thread::get_id()) m_sampler.join();
    std::lock_guard lock(m_mutex);
    if (!m_screens_dir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(m_screens_dir, ec);
        m_screens_dir.clear();
    }
}

void VmRuntime::sample_all() {
    std::vector<std::pair<std::shared_ptr<Session>, std::shared_ptr<WorkerProcess>>> live;
    {
        std::lock_guard lock(m_mutex);
        for (auto const& [id, session] : m_sessions)
            if (!session->ended && session->worker && session->running_since)
                live.emplace_back(session, session->worker);
    }
    static long const ticks_per_second = std::max(1L, ::sysconf(_SC_CLK_TCK));
    unsigned const processors = host_processors();
    // A worker busy with a long command (a save) is not waited for long.
    auto const timeout = std::min(m_options.command_timeout, std::chrono::milliseconds(2'000));
    for (auto const& [session, worker] : live) {
        ActivitySample sample;
        sample.at = SteadyClock::now();
        pid_t pid = worker->pid();
        auto ticks = pid > 0 ? process_cpu_ticks(pid) : std::nullopt;
        auto status = worker->request(control::Command::Query, timeout);
        if (status.has_value() && status.value().status) {
            sample.running = status.value().status->state == control::RunState::Running;
            sample.instructions = status.value().status->instructions;
        }
        sample.cpu_ticks = ticks.value_or(0);
        std::unique_lock lock(m_mutex);
        if (session->ended) continue;
        if (status.has_value() && status.value().status) {
            session->disk_read = status.value().status->disk_read;
            session->disk_written = status.value().status->disk_written;
        }
        bool heartbeat_lost = false;
        if (!session->samples.empty()) {
            auto const& previous = session->samples.back();
            sample.progressed = sample.running && sample.instructions > previous.instructions;
            // Running (not paused) yet no instruction retired for a whole
            // interval: the guest hung (or the worker is stuck) - the event
            // Virtual Server raised when the Additions' heartbeat stopped.
            heartbeat_lost = previous.progressed && sample.running && !sample.progressed;
            double wall = std::chrono::duration<double>(sample.at - previous.at).count();
            if (ticks && wall > 0 && sample.cpu_ticks >= previous.cpu_ticks)
                sample.cpu_percent = double(sample.cpu_ticks - previous.cpu_ticks) /
                                     double(ticks_per_second) / wall / processors * 100.0;
        } else {
            // The first sample: progress since the worker started.
            sample.progressed = sample.running && sample.instructions > 0;
        }
        session->samples.push_back(sample);
        while (!session->samples.empty() && session->samples.front().at < sample.at - HEARTBEAT_WINDOW)
            session->samples.pop_front();
        if (session->guest_shutdown && sample.at >= session->guest_shutdown_deadline) {
            session->guest_shutdown->complete(service_error(
                hr::VM_E_TIMED_OUT, "the guest of virtual machine \"" + session->name +
                                        "\" did not shut down after the ACPI power button (no ACPI "
                                        "support?); it keeps running"));
            session->guest_shutdown.reset();
        }
        lock.unlock();
        if (heartbeat_lost && m_options.on_event)
            m_options.on_event(session->id, session->name, VmEvent::HeartbeatStopped,
                               "the guest retired no instruction in the last sampling interval");
    }
}

// --- DVD media ------------------------------------------------------------------

ServiceResult<void> VmRuntime::attach_dvd_image(Guid const& id, BusLocation const& at,
                                                std::filesystem::path const& image) {
    return change_dvd_media(
        id, at, {[&](DvdDrive& drive) { return drive.attach_image(image.string()); }, image.string()});
}

ServiceResult<void> VmRuntime::release_dvd_image(Guid const& id, BusLocation const& at) {
    return change_dvd_media(id, at, {[](DvdDrive& drive) { return drive.release_image(); }, std::nullopt});
}

ServiceResult<void>
VmRuntime::change_media(Guid const& id, std::string const& drive,
                        std::function<ServiceResult<void>(VirtualMachine&)> const& edit,
                        std::function<ServiceResult<void>(WorkerProcess&, VirtualMachine const&)> const& live,
                        std::function<void(Session&)> const& after) {
    auto vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    VirtualMachine trial = *vm;
    TRY(edit(trial));

    auto session = session_of(id);
    if (!session) {
        TRY(m_inventory.update_virtual_machine(id, edit));
        return Ok{};
    }
    // With the VM's command lock: no pause, save or turn-off in between.
    std::unique_lock command(session->command_mutex);
    std::shared_ptr<WorkerProcess> worker;
    {
        std::lock_guard lock(m_mutex);
        if (!session->ended) worker = session->worker;
    }
    vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    if (worker) {
        if (vm->state() != VmState::Running && vm->state() != VmState::Paused)
            return service_error(hr::VM_E_VM_RUNNING, "virtual machine \"" + vm->name() +
                                                          "\" is changing state; change the media of its " +
                                                          drive + " once it runs or is off");
        TRY(live(*worker, *vm));
    }
    auto updated = m_inventory.update_virtual_machine(id, edit);
    if (updated.is_error()) {
        if (worker)
            log("virtual machine \"" + vm->name() + "\": the " + drive +
                " changed media but the configuration was not saved: " + updated.error().message);
        return updated.release_error();
    }
    if (worker && after) {
        std::lock_guard lock(m_mutex);
        after(*session);
    }
    return Ok{};
}

ServiceResult<void> VmRuntime::change_dvd_media(Guid const& id, BusLocation const& at,
                                                DvdChange const& change) {
    auto const& image = change.insert;
    auto edit = [&](VirtualMachine& vm) -> ServiceResult<void> {
        auto* drive = TRY(vm.dvd_drive_at(at));
        return change.edit(*drive);
    };
    bool inserted = false;
    auto live = [&](WorkerProcess& worker, VirtualMachine const& vm) -> ServiceResult<void> {
        auto const slot = at.worker_slot();
        if (!slot)
            return service_error(hr::VM_E_DRIVE_INVALID, "the DVD drive is not on an IDE bus location");
        inserted = image.has_value();
        control::Request request{0, image ? control::Command::InsertMedia : control::Command::EjectMedia};
        request.slot = *slot;
        if (image) request.path = *image;
        auto reply = worker.request(request, m_options.command_timeout);
        if (reply.is_error()) {
            auto error = reply.release_error();
            // The worker's words for a tray the guest locked (pc_machine.h:
            // the guest is asked to eject and may do so itself).
            bool const locked = error.code == hr::E_FAIL && error.message.find("locked") != std::string::npos;
            if (locked)
                return service_error(hr::VM_E_DRIVE_IN_USE,
                                     "the guest has locked the DVD drive at " + at.to_string() +
                                         " (it was asked to eject; try again once it has): " + error.message);
            if (!image || !change.empty_if_unreadable) return error;
            // A host drive whose disc went away since we looked: an empty
            // drive, as if it had had none.
            log("virtual machine \"" + vm.name() + "\": the DVD drive at " + at.to_string() +
                " stays empty: " + error.message);
            request = control::Request{0, control::Command::EjectMedia};
            request.slot = *slot;
            TRY(worker.request(request, m_options.command_timeout));
            inserted = false;
        }
        return Ok{};
    };
    std::function<void(Session&)> after;
    if (change.done) after = [&](Session& session) { change.done(session, inserted); };
    return change_media(id, "DVD drive at " + at.to_string(), edit, live, after);
}

} // namespace vsa::services

namespace vsa::services {

// --- The console --------------------------------------------------------------

ServiceResult<std::shared_ptr<ConsoleSource>> VmRuntime::console_source(Guid const& id) {
    auto [session, worker] = TRY(live_worker(id));
    auto framebuffer = worker->framebuffer();
    if (!framebuffer)
        return service_error(hr::E_FAIL, "the worker of virtual machine \"" + session->name +
                                             "\" has no shared framebuffer (see vsad's log)");
    return std::make_shared<ConsoleSource>(std::move(framebuffer), std::weak_ptr<WorkerProcess>(worker),
                                           m_options.command_timeout,
                                           [this](std::string const& line) { log(line); });
}

ConsoleSource::ConsoleSource(std::shared_ptr<SharedFramebuffer> framebuffer,
                             std::weak_ptr<WorkerProcess> worker, std::chrono::milliseconds command_timeout,
                             std::function<void(std::string const&)> log)
    : m_framebuffer(std::move(framebuffer)), m_worker(std::move(worker)),
      // Input older than a couple of seconds is worse than lost input.
      m_timeout(std::min(command_timeout, std::chrono::milliseconds(2'000))), m_log(std::move(log)) {}

ConsoleSource::~ConsoleSource() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

void ConsoleSource::start_locked() {
    // A view-only session never starts the thread.
    if (!m_thread.joinable()) m_thread = std::thread([this] { run(); });
    m_wake.notify_one();
}

bool ConsoleSource::running() const {
    auto worker = m_worker.lock();
    return worker && !worker->exited();
}

bool ConsoleSource::send_key(std::vector<u8> set2_bytes) {
    if (set2_bytes.empty() || set2_bytes.size() > control::MAX_KEY_BYTES) return false;
    std::lock_guard lock(m_mutex);
    if (m_queue.size() >= MAX_QUEUED) {
        ++m_dropped;
        return false;
    }
    m_queue.push_back(Input{true, std::move(set2_bytes)});
    start_locked();
    return true;
}

bool ConsoleSource::send_pointer(int dx, int dy, int dz, unsigned buttons) {
    constexpr int MAX = control::MAX_MOUSE_DELTA;
    if (buttons > control::MOUSE_BUTTONS) return false;
    std::lock_guard lock(m_mutex);
    // A motion that only continues the last queued one (same buttons, no
    // wheel) is folded into it while the sum still fits one command.
    if (!m_queue.empty() && dz == 0) {
        auto& last = m_queue.back();
        if (!last.key && last.buttons == buttons && last.dz == 0 && std::abs(last.dx + dx) <= MAX &&
            std::abs(last.dy + dy) <= MAX) {
            last.dx += dx;
            last.dy += dy;
            return true;
        }
    }
    if (m_queue.size() >= MAX_QUEUED) {
        ++m_dropped;
        return false;
    }
    Input input;
    input.dx = std::clamp(dx, -MAX, MAX);
    input.dy = std::clamp(dy, -MAX, MAX);
    input.dz = std::clamp(dz, -MAX, MAX);
    input.buttons = buttons;
    m_queue.push_back(std::move(input));
    start_locked();
    return true;
}

std::size_t ConsoleSource::dropped() const {
    std::lock_guard lock(m_mutex);
    return m_dropped;
}

void ConsoleSource::run() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [&] { return m_stop || !m_queue.empty(); });
        if (m_stop) return;
        Input input = std::move(m_queue.front());
        m_queue.pop_front();
        lock.unlock();
        control::Request request{0, input.key ? control::Command::Key : control::Command::Mouse};
        request.scancodes = std::move(input.bytes);
        request.dx = input.dx;
        request.dy = input.dy;
        request.dz = input.dz;
        request.buttons = input.buttons;
        ServiceResult<control::Reply> reply = service_error(hr::VM_E_VM_NOT_RUNNING, "the VM worker is gone");
        if (auto worker = m_worker.lock()) reply = worker->request(request, m_timeout);
        lock.lock();
        if (reply.is_error()) {
            ++m_dropped;
            // One line per source: a worker that refuses input refuses all.
            if (!m_refusal_logged && m_log) {
                m_refusal_logged = true;
                auto text = "console input not delivered: " + reply.error().message;
                lock.unlock();
                m_log(text);
                lock.lock();
            }
        }
    }
}

} // namespace vsa::services
