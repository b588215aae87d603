// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime's undo disks (the rules are at the top of vm_runtime.h): making
// them at startup, the UndoAction at a guest power-off, DiscardUndoDisks,
// MergeUndoDisks and switching Undoable off.
#include "services/storage/vhd_image.h"
#include "services/storage/vhd_operations.h"
#include "services/worker/vm_runtime.h"

#include <sys/stat.h>

#include <algorithm>
#include <exception>
#include <utility>

namespace vsa::services {

namespace {

namespace fs = std::filesystem;

struct UndoDisk {
    BusLocation location;
    std::string path;
};

bool exists(std::string const& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0;
}

ServiceResult<void> from_storage(Result<void, storage::StorageError> result) {
    if (result.is_error()) return Err{result.error().to_service_error()};
    return Ok{};
}

// The undo disks a VM has: the ones its .vmc records.
std::vector<UndoDisk> recorded_undo_disks(VirtualMachine const& vm) {
    std::vector<UndoDisk> disks;
    for (auto const& disk : vm.hard_disk_connections())
        if (!disk.undo_disk_path().empty()) disks.push_back({disk.location(), disk.undo_disk_path()});
    return disks;
}

// A kept undo disk is reused only if it really is a differencing child of
// the base: anything else under that name would show the guest a different
// disk (or none), and must not be written either.
ServiceResult<void> check_is_undo_disk_of(std::string const& vud, std::string const& base) {
    auto opened = storage::VhdImage::open(vud, true);
    if (opened.is_error())
        return service_error(opened.error().to_service_error().code,
                             "cannot use the undo disk '" + vud + "': " + opened.error().message);
    auto const& image = opened.value();
    std::error_code error;
    if (image->type() != storage::vhd::DiskType::Differencing || image->parent() == nullptr ||
        !fs::equivalent(image->parent()->path(), base, error))
        return service_error(hr::E_FAIL, "'" + vud + "' is in the way of the undo disk of '" + base +
                                             "': it is not a differencing disk on it; move it away");
    return Ok{};
}

// A merge into `disk`'s base began and did not finish (it failed, or vsad
// died): the base holds part of the changes. Once the merge has finished,
// commit_undo_disk has deleted the undo disk, so a flag left over from a
// crash just after that means nothing.
bool half_merged(HardDiskConnection const& disk) {
    return disk.merge_started() && !disk.undo_disk_path().empty() && exists(disk.undo_disk_path());
}

ServiceError half_merged_error(VirtualMachine const& vm, HardDiskConnection const& disk,
                               char const* refused) {
    return {hr::E_FAIL, "virtual machine \"" + vm.name() + "\": a merge of the undo disk '" +
                            disk.undo_disk_path() + "' into '" + disk.disk_path() +
                            "' did not finish, so that base holds part of the changes; " + refused +
                            " would lose them. MergeUndoDisks finishes the merge"};
}

std::string merge_description(std::string const& vm_name) {
    return "Merge of the undo disks of virtual machine \"" + vm_name + "\"";
}

} // namespace

ServiceResult<VirtualMachine> VmRuntime::prepare_undo_disks(Guid const& id, bool restoring) {
    auto vm = m_inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    std::vector<UndoDisk> disks;
    std::vector<std::string> created;
    // What this call made goes again on failure: empty undo disks only.
    auto fail = [&](ServiceError error) -> ServiceResult<VirtualMachine> {
        for (auto const& path : created)
            (void)storage::discard_undo_disk(path);
        return Err{std::move(error)};
    };
    for (auto const& disk : vm->hard_disk_connections()) {
        std::string const& base = disk.disk_path();
        std::string const& recorded = disk.undo_disk_path();
        std::string vud = recorded.empty() ? storage::undo_disk_path(base) : recorded;
        if (exists(vud)) {
            if (auto checked = check_is_undo_disk_of(vud, base); checked.is_error())
                return fail(checked.release_error());
        } else if (restoring && !recorded.empty()) {
            return fail(ServiceError{hr::E_FILE_NOT_FOUND,
                                     "the saved state of virtual machine \"" + vm->name() +
                                         "\" was taken over the undo disk '" + recorded +
                                         "', which is missing; discard the saved state to start afresh"});
        } else {
            auto made = storage::create_undo_disk(base);
            if (made.is_error()) {
                auto error = made.error().to_service_error();
                error.message = "cannot make the undo disk of '" + base +
                                "' (undo disks need a VHD): " + made.error().message;
                return fail(std::move(error));
            }
            vud = made.release_value();
            created.push_back(vud);
        }
        disks.push_back({disk.location(), vud});
    }
    bool const changed = std::any_of(disks.begin(), disks.end(), [&](UndoDisk const& disk) {
        auto const& connections = vm->hard_disk_connections();
        return std::none_of(connections.begin(), connections.end(), [&](HardDiskConnection const& c) {
            return c.location() == disk.location && c.undo_disk_path() == disk.path;
        });
    });
    if (!changed) return std::move(*vm);
    auto updated = m_inventory.update_virtual_machine(id, [&](VirtualMachine& v) -> ServiceResult<void> {
        for (auto const& disk : disks)
            TRY(v.hard_disk_connection_at(disk.location))->set_undo_disk_path(disk.path);
        return Ok{};
    });
    if (updated.is_error()) return fail(updated.release_error());
    return updated.release_value();
}

void VmRuntime::apply_undo_action_locked(VirtualMachine const& vm) {
    std::string const who = "virtual machine \"" + vm.name() + "\"";
    switch (vm.undo_action()) {
    case UndoAction::Keep:
        log(who + ": the guest turned it off; its undo disks are kept (UndoAction Keep)");
        break;
    case UndoAction::Discard:
        if (auto discarded = discard_undo_disks(vm.config_id()); discarded.is_error())
            log(who + ": cannot discard its undo disks (UndoAction Discard): " + discarded.error().message);
        else
            log(who + ": the guest turned it off; its undo disks were discarded (UndoAction Discard)");
        break;
    case UndoAction::Commit:
        if (vm.state() == VmState::MergingDrives) {
            auto task = start_merge_locked(vm, VmState::TurnedOff);
            log(who + ": the guest turned it off; merging its undo disks (UndoAction Commit, task " +
                std::to_string(task->number()) + ")");
        } else {
            log(who + ": the guest turned it off while vsad stops; its undo disks are kept instead of "
                      "merged (UndoAction Commit)");
        }
        break;
    }
}

ServiceResult<void> VmRuntime::discard_undo_disks(Guid const& id) {
    TRY(m_inventory.update_virtual_machine(id, [](VirtualMachine& vm) -> ServiceResult<void> {
        if (vm.state() == VmState::Saved)
            return service_error(hr::E_FAIL, "the saved state of virtual machine \"" + vm.name() +
                                                 "\" was taken over its undo disks; discard the saved "
                                                 "state first");
        if (!is_off(vm.state()))
            return service_error(hr::VM_E_VM_RUNNING,
                                 "virtual machine \"" + vm.name() + "\" is on; turn it off first");
        for (auto const& connection : vm.hard_disk_connections())
            if (half_merged(connection))
                return Err{half_merged_error(vm, connection, "discarding the undo disk")};
        // In the inventory's change: no startup can take the files
        // meanwhile. A recorded file already gone is simply forgotten.
        for (auto const& disk : recorded_undo_disks(vm)) {
            if (exists(disk.path)) TRY(from_storage(storage::discard_undo_disk(disk.path)));
            TRY(vm.hard_disk_connection_at(disk.location))->set_undo_disk_path("");
        }
        return Ok{};
    }));
    return Ok{};
}

ServiceResult<void> VmRuntime::set_undoable(Guid const& id, bool undoable) {
    TRY(m_inventory.update_virtual_machine(id, [&](VirtualMachine& vm) -> ServiceResult<void> {
        bool const disabling = vm.undoable() && !undoable;
        if (disabling)
            for (auto const& connection : vm.hard_disk_connections())
                if (half_merged(connection))
                    return Err{
                        half_merged_error(vm, connection, "switching Undoable off (which deletes it)")};
        TRY(vm.set_undoable(undoable)); // a change needs the VM TurnedOff
        if (!disabling) return Ok{};
        // "Disabling deletes existing undo files" (the reference). The
        // recorded ones, and the derived name when it holds an undo disk of
        // the base that was made but not recorded (a crash at startup); a
        // foreign file of that name is left alone.
        for (std::size_t i = 0; i < vm.hard_disk_connections().size(); ++i) {
            auto const disk = vm.hard_disk_connections()[i];
            bool const recorded = !disk.undo_disk_path().empty();
            std::string const path =
                recorded ? disk.undo_disk_path() : storage::undo_disk_path(disk.disk_path());
            if (exists(path)) {
                auto discarded = from_storage(storage::discard_undo_disk(path));
                if (discarded.is_error() && recorded) return discarded;
            }
            TRY(vm.hard_disk_connection_at(disk.location()))->set_undo_disk_path("");
        }
        return Ok{};
    }));
    return Ok{};
}

ServiceResult<TaskHandle> VmRuntime::merge_undo_disks(Guid const& id) {
    std::lock_guard lock(m_mutex);
    if (m_shutting_down) return service_error(hr::VM_E_APP_SHUTTING_DOWN, "the server is shutting down");
    VmState before = VmState::TurnedOff;
    bool any = false;
    auto vm =
        TRY(m_inventory.change_vm_state(id, [&](VirtualMachine const& current) -> ServiceResult<VmState> {
            if (!is_stopped(current.state()))
                return service_error(
                    hr::VM_E_VM_RUNNING,
                    "virtual machine \"" + current.name() +
                        "\" is on or busy; save it or turn it off before merging its undo disks");
            before = current.state();
            any = !recorded_undo_disks(current).empty();
            return any ? VmState::MergingDrives : before;
        }));
    if (!any) {
        // Nothing to merge: done, as a task all the same (the call's type).
        auto task = m_tasks.create(merge_description(vm.name()), false);
        task->complete(Ok{});
        return task;
    }
    return start_merge_locked(vm, before);
}

TaskHandle VmRuntime::start_merge_locked(VirtualMachine const& vm, VmState after) {
    std::erase_if(m_merges, [](Merge& merge) {
        if (!merge.task->is_complete()) return false;
        merge.thread.join(); // at most its return is left
        return true;
    });
    // Not cancelable: see vm_runtime.h (a half merge cannot be undone).
    auto task = m_tasks.create(merge_description(vm.name()), false);
    std::thread thread([this, task, id = vm.config_id(), name = vm.name(), disks = recorded_undo_disks(vm),
                        after] {
        ServiceResult<void> outcome = Ok{};
        try {
            for (std::size_t i = 0; i < disks.size(); ++i) {
                storage::Progress progress;
                progress.report = [&](std::uint32_t percent) {
                    task->report_progress(static_cast<std::int32_t>((i * 100 + percent) / disks.size()));
                    return true;
                };
                // Recorded in the .vmc before the base is written, cleared
                // with the undo disk after: see half_merged().
                auto location = disks[i].location;
                auto marked =
                    m_inventory.update_virtual_machine(id, [&](VirtualMachine& v) -> ServiceResult<void> {
                        TRY(v.hard_disk_connection_at(location))->set_merge_started(true);
                        return Ok{};
                    });
                if (marked.is_error()) {
                    outcome = marked.release_error();
                    break;
                }
                outcome = from_storage(storage::commit_undo_disk(disks[i].path, progress));
                if (outcome.is_error()) break;
                auto forgotten =
                    m_inventory.update_virtual_machine(id, [&](VirtualMachine& v) -> ServiceResult<void> {
                        auto* disk = TRY(v.hard_disk_connection_at(location));
                        disk->set_undo_disk_path("");
                        disk->set_merge_started(false);
                        return Ok{};
                    });
                if (forgotten.is_error()) {
                    outcome = forgotten.release_error();
                    break;
                }
            }
        } catch (std::exception const& e) {
            outcome = service_error(hr::E_FAIL, std::string("unexpected failure: ") + e.what());
        } catch (...) {
            outcome = service_error(hr::E_FAIL, "unexpected failure");
        }
        // The state first, so a client that sees the task complete sees
        // the VM back too.
        (void)m_inventory.change_vm_state(id, [&](VirtualMachine const& current) -> ServiceResult<VmState> {
            return current.state() == VmState::MergingDrives ? after : current.state();
        });
        if (outcome.is_error())
            log("virtual machine \"" + name +
                "\": merging its undo disks failed: " + outcome.error().message);
        else
            log("virtual machine \"" + name + "\": its undo disks were merged into their base disks");
        task->complete(std::move(outcome));
    });
    m_merges.push_back({task, std::move(thread)});
    return task;
}

void VmRuntime::join_merges() {
    std::vector<Merge> merges;
    {
        std::lock_guard lock(m_mutex);
        merges = std::move(m_merges);
        m_merges.clear();
    }
    for (auto& merge : merges)
        merge.thread.join();
}

} // namespace vsa::services
