// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/task/vhd_tasks.h"

#include "services/hard_disk.h"
#include "services/storage/vhd_operations.h"

#include "services/storage/host_file.h"
#include "services/storage/vhd_image.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

namespace vsa::services {

namespace fs = std::filesystem;

namespace {

ServiceResult<void> from_storage(Result<void, storage::StorageError> result) {
    if (result.is_error()) return Err{result.error().to_service_error()};
    return Ok{};
}

bool path_exists(fs::path const& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

std::string quoted(fs::path const& path) {
    return "'" + path.string() + "'";
}

} // namespace

VhdTasks::VhdTasks(Inventory& inventory, TaskRegistry& tasks, Options options)
    : m_inventory(inventory), m_tasks(tasks), m_options(std::move(options)) {}

VhdTasks::~VhdTasks() {
    shutdown();
}

ServiceResult<std::uint64_t> VhdTasks::size_bytes(std::int64_t size_mb) {
    if (size_mb <= 0)
        return service_error(hr::E_INVALIDARG,
                             "the size is in MB and must be positive, not " + std::to_string(size_mb));
    if (size_mb > MAX_SIZE_MB)
        return service_error(hr::VM_E_IMAGE_SIZE_TOO_LARGE,
                             std::to_string(size_mb) + " MB is over the maximum of 2,088,960 MB");
    if (size_mb < MIN_SIZE_MB)
        return service_error(hr::VM_E_IMAGE_SIZE_TOO_SMALL,
                             std::to_string(size_mb) + " MB is under the minimum of 3 MB");
    return std::uint64_t(size_mb) << 20;
}

ServiceResult<fs::path> VhdTasks::new_image_path(std::string_view client_path,
                                                 std::vector<fs::path> const& bases,
                                                 fs::path& created_folder) const {
    auto path = TRY(m_inventory.path_policy().resolve(client_path, bases));
    if (path_exists(path)) return service_error(hr::E_ALREADY_EXISTS, quoted(path) + " already exists");
    auto folder = path.parent_path();
    if (!path_exists(folder)) {
        std::error_code error;
        fs::create_directories(folder, error);
        if (error)
            return service_error(hr::E_PATH_NOT_FOUND,
                                 "cannot create " + quoted(folder) + ": " + error.message());
        created_folder = folder;
    }
    return path;
}

ServiceResult<TaskHandle> VhdTasks::create_dynamic(std::string_view image_path, std::int64_t size_mb) {
    auto bytes = TRY(size_bytes(size_mb));
    fs::path created;
    auto path = TRY(new_image_path(image_path, {}, created));
    auto started = [&]() -> ServiceResult<TaskHandle> {
        TRY(from_storage(storage::require_free_space(path.string(), MIN_FREE_BYTES)));
        return start("Creation of dynamic virtual hard disk " + quoted(path) + " (" +
                         std::to_string(size_mb) + " MB)",
                     false, [path, bytes](Task&) {
                         return from_storage(storage::VhdImage::create_dynamic(path.string(), bytes));
                     });
    }();
    if (started.is_error() && !created.empty()) ::rmdir(created.c_str());
    return started;
}

ServiceResult<TaskHandle> VhdTasks::create_fixed(std::string_view image_path, std::int64_t size_mb) {
    auto bytes = TRY(size_bytes(size_mb));
    fs::path created;
    auto path = TRY(new_image_path(image_path, {}, created));
    auto started = [&]() -> ServiceResult<TaskHandle> {
        // The whole size plus the footer, as VhdImage::create_fixed checks
        // again; here it fails the call, which is what a client expects.
        TRY(from_storage(storage::require_free_space(path.string(), bytes + 512)));
        auto hook = m_options.progress_hook;
        return start(
            "Creation of fixed virtual hard disk " + quoted(path) + " (" + std::to_string(size_mb) + " MB)",
            true, [path, bytes, hook, created](Task& task) {
                storage::Progress progress;
                progress.report = [&task, &hook](std::uint32_t percent) {
                    task.report_progress(static_cast<std::int32_t>(percent));
                    if (hook) hook(task, percent);
                    return !task.cancel_requested();
                };
                auto made = from_storage(storage::VhdImage::create_fixed(path.string(), bytes, progress));
                // The partial file is gone (create_fixed); so goes
                // the folder made for it, if nothing else is there.
                if (made.is_error() && !created.empty()) ::rmdir(created.c_str());
                return made;
            });
    }();
    if (started.is_error() && !created.empty()) ::rmdir(created.c_str());
    return started;
}

ServiceResult<TaskHandle> VhdTasks::create_differencing(std::string_view image_path,
                                                        std::string_view parent_path) {
    auto policy = m_inventory.path_policy();
    bool const image_absolute = fs::path(image_path).is_absolute();
    bool const parent_absolute = fs::path(parent_path).is_absolute();
    if (image_path.empty() || parent_path.empty())
        return service_error(hr::E_BAD_PATHNAME, "both the new disk's and the parent's path are needed");
    if (!image_absolute && !parent_absolute)
        return service_error(hr::E_BAD_PATHNAME, "the new disk's path or the parent's must be absolute");
    // One path may be relative to the other's folder (the reference's
    // remark); the absolute one is resolved first.
    fs::path parent;
    fs::path created;
    fs::path path;
    if (parent_absolute) {
        parent = TRY(policy.resolve(parent_path));
        path = TRY(new_image_path(image_path, {parent.parent_path()}, created));
    } else {
        path = TRY(new_image_path(image_path, {}, created));
        auto resolved = policy.resolve(parent_path, {path.parent_path()});
        if (resolved.is_error()) {
            if (!created.empty()) ::rmdir(created.c_str());
            return resolved.release_error();
        }
        parent = resolved.release_value();
    }
    auto started = [&]() -> ServiceResult<TaskHandle> {
        struct stat info {};
        if (::stat(parent.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
            return service_error(hr::E_PATH_NOT_FOUND,
                                 "the parent disk " + quoted(parent) + " does not exist");
        TRY(from_storage(storage::require_free_space(path.string(), MIN_FREE_BYTES)));
        return start("Creation of differencing virtual hard disk " + quoted(path) + " on " + quoted(parent),
                     false, [path, parent, created](Task&) {
                         auto made = from_storage(
                             storage::VhdImage::create_differencing(path.string(), parent.string()));
                         if (made.is_error() && !created.empty()) ::rmdir(created.c_str());
                         return made;
                     });
    }();
    if (started.is_error() && !created.empty()) ::rmdir(created.c_str());
    return started;
}

ServiceResult<TaskHandle> VhdTasks::compact(std::string_view image_path) {
    // In use first: a running worker holds its disks locked, so inspecting
    // one would only say it cannot be opened.
    auto file = TRY(resolve_hard_disk(m_inventory, image_path));
    if (auto user = vm_using_disk(m_inventory, file, false))
        return service_error(hr::E_SHARING_VIOLATION,
                             quoted(file) + " is in use by the running virtual machine \"" + *user + "\"");
    auto info = TRY(inspect_hard_disk(m_inventory, image_path));
    if (info.type != HardDiskType::Dynamic)
        return service_error(hr::VM_E_WRONG_HD_IMAGE_TYPE,
                             quoted(info.file) +
                                 " is not a dynamically expanding disk; only those are compacted");
    auto hook = m_options.progress_hook;
    return start("Compaction of virtual hard disk " + quoted(info.file), true,
                 [path = info.file, hook](Task& task) {
                     storage::Progress progress;
                     progress.report = [&task, &hook](std::uint32_t percent) {
                         task.report_progress(static_cast<std::int32_t>(percent));
                         if (hook) hook(task, percent);
                         return !task.cancel_requested();
                     };
                     return from_storage(storage::compact(path.string(), progress));
                 });
}

ServiceResult<TaskHandle> VhdTasks::merge(std::string_view image_path) {
    // In use first: a running worker holds its disks locked, so inspecting
    // one would only say it cannot be opened.
    auto file = TRY(resolve_hard_disk(m_inventory, image_path));
    if (auto user = vm_using_disk(m_inventory, file, false))
        return service_error(hr::E_SHARING_VIOLATION,
                             quoted(file) + " is in use by the running virtual machine \"" + *user + "\"");
    auto info = TRY(inspect_hard_disk(m_inventory, image_path));
    if (info.type != HardDiskType::Differencing)
        return service_error(hr::VM_E_WRONG_HD_IMAGE_TYPE,
                             quoted(info.file) +
                                 " is not a differencing disk; only those merge into a parent");
    if (auto user = vm_using_disk(m_inventory, info.parent, true))
        return service_error(hr::E_SHARING_VIOLATION, "the parent " + quoted(info.parent) +
                                                          " is in use by virtual machine \"" + *user +
                                                          "\" (running or saved on it)");
    if (::access(info.parent.c_str(), W_OK) != 0)
        return service_error(hr::VM_E_FILE_READ_ONLY, "the parent " + quoted(info.parent) + " is read-only");
    return start("Merge of virtual hard disk " + quoted(info.file) + " into " + quoted(info.parent), false,
                 [path = info.file](Task& task) {
                     storage::Progress progress;
                     progress.report = [&task](std::uint32_t percent) {
                         task.report_progress(static_cast<std::int32_t>(percent));
                         return true;
                     };
                     return from_storage(storage::merge(path.string(), progress));
                 });
}

ServiceResult<TaskHandle> VhdTasks::convert(std::string_view image_path, std::string_view target_path,
                                            std::int32_t target_type) {
    return copy_disk(image_path, target_path, target_type, false);
}

ServiceResult<TaskHandle> VhdTasks::merge_to(std::string_view image_path, std::string_view target_path,
                                             std::int32_t target_type) {
    return copy_disk(image_path, target_path, target_type, true);
}

ServiceResult<TaskHandle> VhdTasks::copy_disk(std::string_view image_path, std::string_view target_path,
                                              std::int32_t target_type, bool flatten_only) {
    storage::vhd::DiskType type;
    if (target_type == static_cast<std::int32_t>(HardDiskType::Dynamic))
        type = storage::vhd::DiskType::Dynamic;
    else if (target_type == static_cast<std::int32_t>(HardDiskType::FixedSize))
        type = storage::vhd::DiskType::Fixed;
    else
        return service_error(hr::VM_E_WRONG_HD_IMAGE_TYPE,
                             "the new disk's type must be 0 (dynamic) or 1 (fixed size), not " +
                                 std::to_string(target_type));
    // In use first, as compact does: a running worker holds its disks
    // locked, so inspecting one would only say it cannot be opened.
    auto file = TRY(resolve_hard_disk(m_inventory, image_path));
    if (auto user = vm_using_disk(m_inventory, file, false))
        return service_error(hr::E_SHARING_VIOLATION,
                             quoted(file) + " is in use by the running virtual machine \"" + *user + "\"");
    // A chain member some process holds for writing (a running worker's
    // own disk under this child, another vsa-vhd) cannot be read. (Opened
    // with its lock: inspect_vhd would describe it all the same.)
    if (auto probe = storage::VhdImage::open(file.string(), true);
        probe.is_error() && probe.error().kind == storage::StorageErrorKind::Locked)
        return service_error(hr::E_SHARING_VIOLATION, probe.error().message);
    auto info = TRY(inspect_hard_disk(m_inventory, image_path));
    // The reference refuses a source whose parent is in use too: a running
    // VM writing a parent (its own disk) would change what the copy reads.
    fs::path parent = info.parent;
    for (int depth = 0; depth < storage::MAX_PARENT_DEPTH && !parent.empty(); ++depth) {
        if (auto user = vm_using_disk(m_inventory, parent, false))
            return service_error(hr::E_SHARING_VIOLATION, "the parent " + quoted(parent) +
                                                              " is in use by the running virtual machine \"" +
                                                              *user + "\"");
        auto next = storage::inspect_vhd(parent.string());
        if (next.is_error() || next.value().type != storage::vhd::DiskType::Differencing) break;
        parent = next.value().parent_path;
    }
    if (flatten_only && info.type != HardDiskType::Differencing)
        return service_error(hr::VM_E_WRONG_HD_IMAGE_TYPE,
                             quoted(info.file) +
                                 " is not a differencing disk; MergeTo flattens a chain (Convert copies "
                                 "other disks)");
    if (target_path.empty() || !fs::path(target_path).is_absolute())
        return service_error(hr::E_BAD_PATHNAME, "the new disk is named by an absolute path");
    fs::path created;
    auto path = TRY(new_image_path(target_path, {}, created));
    auto started = [&]() -> ServiceResult<TaskHandle> {
        std::error_code ec;
        if (fs::equivalent(path, info.file, ec))
            return service_error(hr::E_ALREADY_EXISTS, quoted(path) + " is the source itself");
        std::uint64_t const needed =
            type == storage::vhd::DiskType::Fixed ? info.size_in_guest + 512 : MIN_FREE_BYTES;
        TRY(from_storage(storage::require_free_space(path.string(), needed)));
        std::string const kind = type == storage::vhd::DiskType::Fixed ? "fixed" : "dynamic";
        std::string description =
            (flatten_only ? "Merge of virtual hard disk " : "Conversion of virtual hard disk ") +
            quoted(info.file) + " into the new " + kind + " disk " + quoted(path);
        auto hook = m_options.progress_hook;
        return start(std::move(description), true,
                     [source = info.file, path, type, flatten_only, hook, created](Task& task) {
                         storage::Progress progress;
                         progress.report = [&task, &hook](std::uint32_t percent) {
                             task.report_progress(static_cast<std::int32_t>(percent));
                             if (hook) hook(task, percent);
                             return !task.cancel_requested();
                         };
                         auto made = from_storage(
                             flatten_only ? storage::merge_to(source.string(), path.string(), type, progress)
                                          : storage::convert(source.string(), path.string(), type, progress));
                         // No file is left (storage::convert); nor is the
                         // folder made for it, if nothing else is there.
                         if (made.is_error() && !created.empty()) ::rmdir(created.c_str());
                         return made;
                     });
    }();
    if (started.is_error() && !created.empty()) ::rmdir(created.c_str());
    return started;
}

ServiceResult<TaskHandle> VhdTasks::start(std::string description, bool cancelable, Work work) {
    std::lock_guard lock(m_mutex);
    if (m_shutting_down) return service_error(hr::VM_E_APP_SHUTTING_DOWN, "the server is shutting down");
    reap_locked();
    if (m_workers.size() >= MAX_RUNNING)
        return service_error(hr::E_FAIL, std::to_string(MAX_RUNNING) +
                                             " virtual hard disks are being created already; wait for one "
                                             "of their tasks to complete");
    auto task = m_tasks.create(std::move(description), cancelable);
    // Every exit completes the task: a thread that threw would otherwise
    // leave a client waiting forever.
    std::thread thread([task, work = std::move(work)] {
        ServiceResult<void> outcome = Ok{};
        try {
            outcome = work(*task);
        } catch (std::exception const& e) {
            outcome = service_error(hr::E_FAIL, std::string("unexpected failure: ") + e.what());
        } catch (...) {
            outcome = service_error(hr::E_FAIL, "unexpected failure");
        }
        task->complete(std::move(outcome));
    });
    m_workers.push_back({task, std::move(thread)});
    return task;
}

void VhdTasks::reap_locked() {
    // A complete task's thread has at most its return left to run.
    std::erase_if(m_workers, [](Worker& worker) {
        if (!worker.task->is_complete()) return false;
        worker.thread.join();
        return true;
    });
}

void VhdTasks::shutdown() {
    std::vector<Worker> workers;
    {
        std::lock_guard lock(m_mutex);
        m_shutting_down = true;
        workers = std::move(m_workers);
        m_workers.clear();
    }
    for (auto& worker : workers)
        if (worker.task->is_cancelable()) (void)worker.task->cancel();
    for (auto& worker : workers)
        worker.thread.join();
}

} // namespace vsa::services
