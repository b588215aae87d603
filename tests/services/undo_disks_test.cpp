// SPDX-License-Identifier: GPL-2.0-or-later
// Undo disks with real vsa-vm workers (services/worker/vm_runtime.h): the
// guest is tests/progs/undo_disk.asm, which adds one to a boot count in
// sector 1 of its disk at every boot (and powers itself off when a flag in
// that sector says so). Reading the count from the base VHD and from its
// .vud tells which file the guest wrote: the base must never change while
// the VM is undoable, TurnOff keeps the .vud, DiscardUndoDisks removes it,
// MergeUndoDisks folds it into the base, and a guest power-off applies the
// UndoAction (Discard, Keep, Commit). Plus the refusals while on.
#include "services/inventory.h"
#include "services/storage/vhd_image.h"
#include "services/storage/vhd_operations.h"
#include "services/worker/vm_runtime.h"

#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <array>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

using namespace vsa::services;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The message of a storage failure ("" on success: Boost evaluates the
// message of a passing check too).
template <typename R>
std::string failure(R const& result) {
    return result.has_value() ? std::string() : result.error().message;
}

constexpr std::uint64_t RECORD_SECTOR = 1; // undo_disk.asm's record

struct Fixture {
    vsa::test::TempDir dir;
    fs::path root = fs::canonical(dir.path());
    TaskRegistry tasks;
    std::unique_ptr<Inventory> inventory;
    std::unique_ptr<VmRuntime> runtime;

    Fixture() {
        auto opened = Inventory::open({root / "data", root / "vms", root / "nets", {}});
        BOOST_REQUIRE_MESSAGE(opened.has_value(), why(opened));
        inventory = opened.release_value();
        VmRuntimeOptions options;
        options.worker_binary = VSA_WORKER_BINARY;
        options.command_timeout = 30s; // ASan, a busy CI host
        options.shutdown_timeout = 60s;
        options.log = [](std::string const& line) { BOOST_TEST_MESSAGE("runtime: " << line); };
        runtime = std::make_unique<VmRuntime>(*inventory, tasks, options);
    }

    // An undoable VM on a fixed VHD holding the undo disk program at IDE
    // 0:0; `power_off` sets the record's flag so the guest turns itself off
    // after its write.
    VirtualMachine make_vm(std::string const& name, bool power_off = false,
                           UndoAction action = UndoAction::Keep) {
        auto vm = inventory->create_virtual_machine(name, "");
        BOOST_REQUIRE_MESSAGE(vm.has_value(), why(vm));
        auto disk = (vm.value().folder() / (name + ".vhd")).string();
        std::ifstream in(VSA_UNDO_DISK, std::ios::binary);
        std::vector<char> program((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        BOOST_REQUIRE(program.size() % 512 == 0 && program.size() > 1024);
        if (power_off) program[512 + 12] = 1;
        auto made = vsa::storage::VhdImage::create_fixed(disk, 4u << 20);
        BOOST_REQUIRE_MESSAGE(made.has_value(), failure(made));
        {
            auto image = vsa::storage::VhdImage::open(disk, false);
            BOOST_REQUIRE_MESSAGE(image.has_value(), failure(image));
            auto bytes = std::as_bytes(std::span(program));
            BOOST_REQUIRE(image.value()->write(0, bytes).has_value());
            BOOST_REQUIRE(image.value()->flush().has_value());
        }
        auto updated = inventory->update_virtual_machine(
            vm.value().config_id(), [&](VirtualMachine& v) -> ServiceResult<void> {
                TRY(v.set_memory_mb(16));
                TRY(v.set_undoable(true));
                TRY(v.set_undo_action(action));
                return v.add_hard_disk_connection(disk, {DriveBusType::Ide, 0, 0});
            });
        BOOST_REQUIRE_MESSAGE(updated.has_value(), why(updated));
        return updated.release_value();
    }

    VirtualMachine vm_of(Guid const& id) { return inventory->virtual_machine(id).value(); }
    VmState state(Guid const& id) { return vm_of(id).state(); }

    // The guest's boot count as `path` (a VHD, read through its chain)
    // shows it.
    static std::uint32_t boots(std::string const& path) {
        auto image = vsa::storage::VhdImage::open(path, true);
        BOOST_REQUIRE_MESSAGE(image.has_value(), failure(image));
        std::array<std::byte, 512> sector{};
        BOOST_REQUIRE(image.value()->read(RECORD_SECTOR, sector).has_value());
        BOOST_REQUIRE(std::memcmp(sector.data(), "VSA-UNDO", 8) == 0);
        std::uint32_t count = 0;
        std::memcpy(&count, sector.data() + 8, 4);
        return count;
    }

    // The bytes of a file, to show the base is not written at all.
    static std::vector<char> bytes_of(std::string const& path) {
        std::ifstream in(path, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

    std::vector<std::string> serial(VirtualMachine const& vm) {
        std::ifstream in(VmRuntime::default_serial_log(vm));
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line);)
            lines.push_back(line);
        return lines;
    }

    static bool wait_until(std::function<bool()> const& condition, std::chrono::milliseconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (condition()) return true;
            std::this_thread::sleep_for(50ms);
        }
        return condition();
    }

    // Waits until the guest has reported `count` writes in all.
    void wait_for_writes(VirtualMachine const& vm, std::size_t count) {
        BOOST_REQUIRE_MESSAGE(wait_until(
                                  [&] {
                                      std::size_t wrote = 0;
                                      for (auto const& line : serial(vm))
                                          if (line.rfind("VSA-UNDO-WROTE ", 0) == 0) ++wrote;
                                      return wrote >= count;
                                  },
                                  60s),
                              "the guest did not write its disk");
    }

    void run(ServiceResult<TaskHandle> begun) {
        BOOST_REQUIRE_MESSAGE(begun.has_value(), why(begun));
        auto done = begun.value()->wait_for(60s);
        BOOST_REQUIRE_MESSAGE(done.has_value(), why(done));
        BOOST_TEST(begun.value()->percent_completed() == 100);
    }

    // Starts the VM, waits for its write, turns it off.
    void boot_once(VirtualMachine const& vm, std::size_t writes_so_far) {
        run(runtime->startup(vm.config_id()));
        wait_for_writes(vm, writes_so_far + 1);
        run(runtime->turn_off(vm.config_id()));
        BOOST_TEST((state(vm.config_id()) == VmState::TurnedOff));
    }
};

template <typename T>
HResult code_of(ServiceResult<T> const& result) {
    BOOST_REQUIRE_MESSAGE(result.is_error(), "expected an error");
    return result.error().code;
}

} // namespace

BOOST_AUTO_TEST_SUITE(undo_disks)

BOOST_FIXTURE_TEST_CASE(the_guest_writes_the_undo_disk_and_turn_off_keeps_it, Fixture) {
    auto vm = make_vm("keep");
    auto id = vm.config_id();
    auto base = vm.hard_disk_connections()[0].disk_path();
    auto vud = vsa::storage::undo_disk_path(base);
    auto before = bytes_of(base);
    BOOST_TEST(vm.hard_disk_connections()[0].undo_disk_path().empty());

    run(runtime->startup(id));
    // The worker got the undo disk, never the base.
    auto args = runtime->worker_arguments(vm_of(id));
    BOOST_TEST((std::find(args.begin(), args.end(), "--disk=" + vud) != args.end()));
    BOOST_TEST((std::find(args.begin(), args.end(), "--disk=" + base) == args.end()));
    BOOST_TEST(vm_of(id).hard_disk_connections()[0].undo_disk_path() == vud);
    wait_for_writes(vm, 1);

    // Refusals while on.
    BOOST_TEST(code_of(runtime->discard_undo_disks(id)) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(runtime->merge_undo_disks(id)) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(runtime->set_undoable(id, false)) == hr::VM_E_VM_RUNNING);
    // Save would keep what Discard throws away.
    (void)inventory->update_virtual_machine(
        id, [](VirtualMachine& v) { return v.set_undo_action(UndoAction::Discard); });
    BOOST_TEST(code_of(runtime->save(id)) == hr::E_FAIL);
    BOOST_TEST((state(id) == VmState::Running));

    run(runtime->turn_off(id));
    BOOST_TEST((state(id) == VmState::TurnedOff));
    // TurnOff keeps the undo disk (whatever the UndoAction): the change is
    // in it and only there.
    BOOST_TEST(fs::exists(vud));
    BOOST_TEST(bytes_of(base) == before);
    BOOST_TEST(boots(base) == 0u);
    BOOST_TEST(boots(vud) == 1u);

    // The next run goes on from the kept undo disk.
    boot_once(vm, 1);
    BOOST_TEST(boots(vud) == 2u);
    BOOST_TEST(bytes_of(base) == before);

    // Discard: the change is gone, the base as it was.
    BOOST_TEST(runtime->discard_undo_disks(id).has_value());
    BOOST_TEST(!fs::exists(vud));
    BOOST_TEST(vm_of(id).hard_disk_connections()[0].undo_disk_path().empty());
    BOOST_TEST(bytes_of(base) == before);
    // Nothing left to discard is no error; nothing to merge a done task.
    BOOST_TEST(runtime->discard_undo_disks(id).has_value());
    auto nothing = runtime->merge_undo_disks(id);
    BOOST_REQUIRE(nothing.has_value());
    BOOST_TEST(nothing.value()->is_complete());
    BOOST_TEST((state(id) == VmState::TurnedOff));
}

BOOST_FIXTURE_TEST_CASE(merge_folds_the_changes_into_the_base, Fixture) {
    auto vm = make_vm("merge");
    auto id = vm.config_id();
    auto base = vm.hard_disk_connections()[0].disk_path();
    auto vud = vsa::storage::undo_disk_path(base);
    boot_once(vm, 0);
    BOOST_TEST(boots(vud) == 1u);

    auto begun = runtime->merge_undo_disks(id);
    BOOST_REQUIRE_MESSAGE(begun.has_value(), why(begun));
    auto task = begun.value();
    BOOST_TEST(!task->is_cancelable());
    BOOST_TEST(task->description().find("undo disks") != std::string::npos);
    // MergingDrives while it runs (unless it already finished).
    auto now = state(id);
    BOOST_TEST((now == VmState::MergingDrives || (task->is_complete() && now == VmState::TurnedOff)));
    if (!task->is_complete()) {
        BOOST_TEST(code_of(runtime->startup(id)) == hr::VM_E_VM_RUNNING);
        BOOST_TEST(code_of(runtime->merge_undo_disks(id)) == hr::VM_E_VM_RUNNING);
    }
    BOOST_REQUIRE(task->wait_for(60s).has_value());
    BOOST_TEST(task->percent_completed() == 100);
    BOOST_TEST((task->result() == TaskResult::Success));
    BOOST_TEST((state(id) == VmState::TurnedOff));
    BOOST_TEST(!fs::exists(vud));
    BOOST_TEST(vm_of(id).hard_disk_connections()[0].undo_disk_path().empty());
    BOOST_TEST(boots(base) == 1u);

    // Still undoable: the next run gets a fresh undo disk over the new base.
    boot_once(vm, 1);
    BOOST_TEST(boots(base) == 1u);
    BOOST_TEST(boots(vud) == 2u);

    // Switching Undoable off deletes the undo disks.
    BOOST_TEST(runtime->set_undoable(id, false).has_value());
    BOOST_TEST(!fs::exists(vud));
    BOOST_TEST(!vm_of(id).undoable());
    BOOST_TEST(vm_of(id).hard_disk_connections()[0].undo_disk_path().empty());
    BOOST_TEST(boots(base) == 1u);
}

BOOST_FIXTURE_TEST_CASE(saved_vms_keep_their_undo_disks, Fixture) {
    auto vm = make_vm("saved");
    auto id = vm.config_id();
    auto base = vm.hard_disk_connections()[0].disk_path();
    auto vud = vsa::storage::undo_disk_path(base);
    run(runtime->startup(id));
    wait_for_writes(vm, 1);
    run(runtime->save(id));
    BOOST_TEST((state(id) == VmState::Saved));
    // The saved state was taken over the undo disk: discarding it would
    // restore onto the wrong disk.
    BOOST_TEST(code_of(runtime->discard_undo_disks(id)) == hr::E_FAIL);
    BOOST_TEST(fs::exists(vud));
    // Restoring needs it.
    fs::rename(vud, vud + ".away");
    BOOST_TEST(code_of(runtime->startup(id)) == hr::E_FILE_NOT_FOUND);
    BOOST_TEST((state(id) == VmState::Saved));
    fs::rename(vud + ".away", vud);
    run(runtime->startup(id));
    BOOST_TEST((state(id) == VmState::Running));
    run(runtime->save(id));
    // Merging while Saved is allowed and comes back to Saved; the restore
    // then runs on a fresh undo disk over the merged base.
    run(runtime->merge_undo_disks(id));
    BOOST_TEST((state(id) == VmState::Saved));
    BOOST_TEST(boots(base) == 1u);
    BOOST_TEST(!fs::exists(vud));
    run(runtime->startup(id));
    BOOST_TEST(fs::exists(vud));
    run(runtime->turn_off(id));
}

BOOST_FIXTURE_TEST_CASE(a_guest_power_off_applies_the_undo_action, Fixture) {
    for (auto action : {UndoAction::Discard, UndoAction::Keep, UndoAction::Commit}) {
        auto name = "guest" + std::to_string(static_cast<int>(action));
        BOOST_TEST_CONTEXT(name) {
            auto vm = make_vm(name, true, action);
            auto id = vm.config_id();
            auto base = vm.hard_disk_connections()[0].disk_path();
            auto vud = vsa::storage::undo_disk_path(base);
            run(runtime->startup(id));
            // The guest writes, then turns the machine off by itself.
            BOOST_REQUIRE(wait_until(
                [&] { return state(id) == VmState::TurnedOff && runtime->running_count() == 0; }, 60s));
            wait_for_writes(vm, 1);
            switch (action) {
            case UndoAction::Discard:
                BOOST_TEST(!fs::exists(vud));
                BOOST_TEST(boots(base) == 0u);
                BOOST_TEST(vm_of(id).hard_disk_connections()[0].undo_disk_path().empty());
                break;
            case UndoAction::Keep:
                BOOST_TEST(fs::exists(vud));
                BOOST_TEST(boots(vud) == 1u);
                BOOST_TEST(boots(base) == 0u);
                break;
            case UndoAction::Commit: {
                // The merge is a task of its own (IVMVirtualServer.Tasks).
                TaskHandle merge;
                for (auto const& task : tasks.list())
                    if (task->description().find("undo disks of virtual machine \"" + name) !=
                        std::string::npos)
                        merge = task;
                BOOST_REQUIRE(merge);
                BOOST_REQUIRE(merge->wait_for(60s).has_value());
                BOOST_TEST((state(id) == VmState::TurnedOff));
                BOOST_TEST(!fs::exists(vud));
                BOOST_TEST(boots(base) == 1u);
                break;
            }
            }
        }
    }
}

BOOST_FIXTURE_TEST_CASE(a_base_that_is_no_vhd_refuses_the_start, Fixture) {
    auto vm = inventory->create_virtual_machine("raw", "").value();
    auto disk = vm.folder() / "raw.img";
    fs::copy_file(VSA_UNDO_DISK, disk);
    auto before = bytes_of(disk.string());
    auto id = vm.config_id();
    BOOST_REQUIRE(inventory
                      ->update_virtual_machine(
                          id,
                          [&](VirtualMachine& v) -> ServiceResult<void> {
                              TRY(v.set_undoable(true));
                              return v.add_hard_disk_connection(disk.string(), {DriveBusType::Ide, 0, 0});
                          })
                      .has_value());
    BOOST_TEST(runtime->startup(id).is_error());
    BOOST_TEST((state(id) == VmState::TurnedOff));
    BOOST_TEST(runtime->running_count() == 0u);
    BOOST_TEST(!fs::exists(vsa::storage::undo_disk_path(disk.string())));
    BOOST_TEST(bytes_of(disk.string()) == before);
    // A file in the way of the undo disk that is not one is refused too,
    // and left alone.
    auto vhd = make_vm("inway");
    auto vud = vsa::storage::undo_disk_path(vhd.hard_disk_connections()[0].disk_path());
    std::ofstream(vud) << "not a disk";
    BOOST_TEST(runtime->startup(vhd.config_id()).is_error());
    BOOST_TEST((state(vhd.config_id()) == VmState::TurnedOff));
    BOOST_TEST(fs::file_size(vud) == 10u);
    // Unknown VMs.
    Guid unknown = Guid::parse("{00000000-0000-0000-0000-000000000001}").value();
    BOOST_TEST(code_of(runtime->discard_undo_disks(unknown)) == hr::VM_E_VM_UNKNOWN);
    BOOST_TEST(code_of(runtime->merge_undo_disks(unknown)) == hr::VM_E_VM_UNKNOWN);
    BOOST_TEST(code_of(runtime->set_undoable(unknown, false)) == hr::VM_E_VM_UNKNOWN);
}

// What a merge that failed or died with vsad leaves: the .vmc records that
// the merge began. The undo disk then holds changes the base only partly
// has, so it may be merged but never thrown away; a restart keeps that.
BOOST_FIXTURE_TEST_CASE(an_interrupted_merge_must_be_finished, Fixture) {
    auto vm = make_vm("half");
    auto id = vm.config_id();
    auto base = vm.hard_disk_connections()[0].disk_path();
    auto vud = vsa::storage::undo_disk_path(base);
    boot_once(vm, 0);
    BOOST_TEST(boots(vud) == 1u);
    // As the merge thread records it before it writes the base.
    BOOST_REQUIRE(
        inventory
            ->update_virtual_machine(
                id,
                [&](VirtualMachine& v) -> ServiceResult<void> {
                    TRY(v.hard_disk_connection_at({DriveBusType::Ide, 0, 0}))->set_merge_started(true);
                    return vsa::Ok{};
                })
            .has_value());

    // vsad restarts: the mark comes back from the .vmc.
    runtime.reset();
    auto reopened = Inventory::open({root / "data", root / "vms", root / "nets", {}});
    BOOST_REQUIRE_MESSAGE(reopened.has_value(), why(reopened));
    inventory = reopened.release_value();
    VmRuntimeOptions options;
    options.worker_binary = VSA_WORKER_BINARY;
    options.command_timeout = 30s;
    options.shutdown_timeout = 60s;
    runtime = std::make_unique<VmRuntime>(*inventory, tasks, options);
    BOOST_TEST(vm_of(id).hard_disk_connections()[0].merge_started());

    auto refused = runtime->discard_undo_disks(id);
    BOOST_TEST(code_of(refused) == hr::E_FAIL);
    BOOST_TEST(refused.error().message.find("MergeUndoDisks") != std::string::npos);
    BOOST_TEST(code_of(runtime->set_undoable(id, false)) == hr::E_FAIL);
    BOOST_TEST(vm_of(id).undoable());
    BOOST_TEST(fs::exists(vud));
    // The VM still runs, on its undo disk.
    boot_once(vm_of(id), 1);
    BOOST_TEST(fs::exists(vud));
    BOOST_TEST(boots(vud) == 2u);

    // Finishing the merge clears the mark with the undo disk.
    run(runtime->merge_undo_disks(id));
    BOOST_TEST(!fs::exists(vud));
    BOOST_TEST(!vm_of(id).hard_disk_connections()[0].merge_started());
    BOOST_TEST(vm_of(id).hard_disk_connections()[0].undo_disk_path().empty());
    BOOST_TEST(boots(base) == 2u);
    BOOST_TEST(runtime->discard_undo_disks(id).has_value());

    // A mark whose undo disk is gone (the merge finished, vsad died before it
    // cleared the mark) stops nothing.
    BOOST_REQUIRE(inventory
                      ->update_virtual_machine(
                          id,
                          [&](VirtualMachine& v) -> ServiceResult<void> {
                              auto* disk = TRY(v.hard_disk_connection_at({DriveBusType::Ide, 0, 0}));
                              disk->set_undo_disk_path(vud);
                              disk->set_merge_started(true);
                              return vsa::Ok{};
                          })
                      .has_value());
    BOOST_TEST(runtime->discard_undo_disks(id).has_value());
    BOOST_TEST(runtime->set_undoable(id, false).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
