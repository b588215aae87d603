// SPDX-License-Identifier: GPL-2.0-or-later
// VhdTasks: IVMVirtualServer's CreateDynamicVirtualHardDisk,
// CreateFixedVirtualHardDisk and CreateDifferencingVirtualHardDisk, each
// run on a thread of its own behind a Task (vs-api.md; the msvs pages of
// the three methods list the HRESULTs).
//
// What fails the call itself (checked before a task exists, as Virtual
// Server does): size <= 0 E_INVALIDARG, over 2,088,960 MB
// VM_E_IMAGE_SIZE_TOO_LARGE, under 3 MB VM_E_IMAGE_SIZE_TOO_SMALL (the
// unformatted minimum); a path that is empty or relative E_BAD_PATHNAME,
// outside the allowed roots E_ACCESSDENIED (PathPolicy); an existing image
// E_ALREADY_EXISTS; a containing folder that cannot be created
// E_PATH_NOT_FOUND (it is created, inside the roots, when missing); a
// volume without room E_DISK_FULL (fixed: the whole size; dynamic and
// differencing: the 8 MB the reference asks for); a missing parent
// E_PATH_NOT_FOUND. Differencing: one of the two paths may be relative to
// the other's folder; both relative is E_BAD_PATHNAME. More than
// MAX_RUNNING creations at once, or any after shutdown() began:
// VM_E_APP_SHUTTING_DOWN for the latter, E_FAIL for the former.
//
// What the task reports: the storage library's errors (an unreadable
// parent, a race that created the file meanwhile) as Error and
// ErrorDescription. Progress: the fixed disk reserves its space in pieces
// and reports after each (storage/vhd_image.h); the other two write a few
// sectors and go from 0 to 100. Only the fixed disk is cancelable; a
// cancel stops it between pieces and the partial file is removed, so the
// task ends Cancelled with no file left. The other two end too fast to
// stop, so their Cancel is E_FAIL.
//
// CreateHostDriveVirtualHardDisk is not here: it writes a link file at once
// (services/host_drive_disks.h). Not implemented: the FAT16/FAT32
// pre-formatted images of the reference's size notes.
#pragma once

#include "services/inventory.h"
#include "services/task/task_registry.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace vsa::services {

class VhdTasks {
public:
    static constexpr std::int64_t MAX_SIZE_MB = 2'088'960;
    static constexpr std::int64_t MIN_SIZE_MB = 3;
    static constexpr std::size_t MAX_RUNNING = 8;
    // The free space a dynamic or differencing disk needs (reference: 8 MB).
    static constexpr std::uint64_t MIN_FREE_BYTES = 8ull << 20;

    struct Options {
        // Tests only: runs on the task's thread at each progress report,
        // before the cancel request is read, so a test can stop a creation
        // at a known point.
        std::function<void(Task&, std::uint32_t percent)> progress_hook;
    };

    VhdTasks(Inventory& inventory, TaskRegistry& tasks) : VhdTasks(inventory, tasks, Options{}) {}
    VhdTasks(Inventory& inventory, TaskRegistry& tasks, Options options);
    ~VhdTasks(); // shutdown()
    VhdTasks(VhdTasks const&) = delete;
    VhdTasks& operator=(VhdTasks const&) = delete;

    ServiceResult<TaskHandle> create_dynamic(std::string_view image_path, std::int64_t size_mb);
    ServiceResult<TaskHandle> create_fixed(std::string_view image_path, std::int64_t size_mb);
    ServiceResult<TaskHandle> create_differencing(std::string_view image_path, std::string_view parent_path);

    // IVMHardDisk.Compact: drops the all-zero blocks of a dynamic VHD
    // (VM_E_WRONG_HD_IMAGE_TYPE for others); cancelable, a cancel leaves
    // the disk as it was. IVMHardDisk.Merge: writes a differencing disk's
    // sectors into its parent (VM_E_WRONG_HD_IMAGE_TYPE for others); the
    // child stays (it now reads the same as the parent) and the merge
    // cannot be cancelled (a half merge cannot be undone). Both refuse a
    // disk a running VM uses (E_SHARING_VIOLATION, hard_disk.h).
    ServiceResult<TaskHandle> compact(std::string_view image_path);
    ServiceResult<TaskHandle> merge(std::string_view image_path);

    // IVMHardDisk.Convert: a new fixed or dynamic image (`target_type`
    // FixedSize or Dynamic, VM_E_WRONG_HD_IMAGE_TYPE otherwise) with the
    // contents of the disk at `image_path`, read through its chain when it
    // is a differencing disk. IVMHardDisk.MergeTo: the same, but only for a
    // differencing disk (VM_E_WRONG_HD_IMAGE_TYPE), the reference's
    // "flatten the chain into a new disk". The new path is checked as the
    // creations check theirs (allowed roots, E_ALREADY_EXISTS, its folder
    // made when missing, E_DISK_FULL: the whole size for a fixed image,
    // MIN_FREE_BYTES for a dynamic one). The source stays as it was; a
    // source a VM that is on has open is E_SHARING_VIOLATION (a Saved VM's
    // disks do not change until it resumes, so copying them is allowed).
    // Cancelable: a cancel (or any failure) leaves no new file
    // (storage::convert writes beside the name and renames at the end).
    ServiceResult<TaskHandle> convert(std::string_view image_path, std::string_view target_path,
                                      std::int32_t target_type);
    ServiceResult<TaskHandle> merge_to(std::string_view image_path, std::string_view target_path,
                                       std::int32_t target_type);

    // Refuses new creations, cancels the running fixed ones and waits for
    // every thread. Idempotent.
    void shutdown();

private:
    struct Worker {
        TaskHandle task;
        std::thread thread;
    };
    using Work = std::function<ServiceResult<void>(Task&)>;

    static ServiceResult<std::uint64_t> size_bytes(std::int64_t size_mb);
    // A new image's path: resolved (against `bases` when relative), not
    // existing yet, its folder created when missing (the folder is recorded
    // so a failed creation removes it again if it is left empty).
    ServiceResult<std::filesystem::path> new_image_path(std::string_view client_path,
                                                        std::vector<std::filesystem::path> const& bases,
                                                        std::filesystem::path& created_folder) const;
    ServiceResult<TaskHandle> start(std::string description, bool cancelable, Work work);
    // convert and merge_to: `flatten_only` is merge_to's differencing-only rule.
    ServiceResult<TaskHandle> copy_disk(std::string_view image_path, std::string_view target_path,
                                        std::int32_t target_type, bool flatten_only);
    // Joins the threads whose tasks are complete; expects m_mutex held.
    void reap_locked();

    Inventory& m_inventory;
    TaskRegistry& m_tasks;
    Options m_options;
    std::mutex m_mutex;
    bool m_shutting_down{false};
    std::vector<Worker> m_workers;
};

} // namespace vsa::services
