// SPDX-License-Identifier: GPL-2.0-or-later
// VhdTasks: the three VHD creations as tasks, against real files in a
// temporary inventory's folders. Cancel is made deterministic by the
// progress hook, which holds a fixed-disk creation at a chosen percentage
// until the test has cancelled it.
#include "services/task/vhd_tasks.h"

#include "services/storage/vhd_image.h"
#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

using namespace vsa::services;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct Fixture {
    vsa::test::TempDir dir;
    fs::path root = fs::canonical(dir.path());
    fs::path vms = root / "vms";
    TaskRegistry tasks;
    std::unique_ptr<Inventory> inventory;

    Fixture() {
        auto opened = Inventory::open({root / "data", vms, root / "nets", {}});
        BOOST_REQUIRE_MESSAGE(opened.has_value(), why(opened));
        inventory = opened.release_value();
    }

    // Waits for the task and requires it to have succeeded.
    static void require_success(TaskHandle const& task) {
        auto done = task->wait_for(60s);
        BOOST_REQUIRE_MESSAGE(done.has_value(), why(done));
        BOOST_TEST(task->percent_completed() == 100);
        BOOST_TEST((task->result() == TaskResult::Success));
    }
};

template <typename T>
HResult code_of(ServiceResult<T> const& result) {
    BOOST_REQUIRE_MESSAGE(result.is_error(), "expected an error");
    return result.error().code;
}

bool wait_until(std::function<bool()> const& condition, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return condition();
}

} // namespace

BOOST_AUTO_TEST_SUITE(vhd_tasks)

BOOST_FIXTURE_TEST_CASE(the_three_kinds_are_created_with_progress, Fixture) {
    std::mutex mutex;
    std::vector<std::uint32_t> seen;
    VhdTasks::Options options;
    options.progress_hook = [&](Task&, std::uint32_t percent) {
        std::lock_guard lock(mutex);
        seen.push_back(percent);
    };
    VhdTasks disks(*inventory, tasks, options);

    // The folder is created (inside the roots).
    auto dynamic_path = vms / "disks" / "dynamic.vhd";
    auto dynamic = disks.create_dynamic(dynamic_path.string(), 16);
    BOOST_REQUIRE_MESSAGE(dynamic.has_value(), why(dynamic));
    require_success(dynamic.value());
    BOOST_TEST(!dynamic.value()->is_cancelable());
    BOOST_TEST(dynamic.value()->description().find("dynamic.vhd") != std::string::npos);
    auto info = vsa::storage::inspect_vhd(dynamic_path.string());
    BOOST_REQUIRE(info.has_value());
    BOOST_TEST((info.value().type == vsa::storage::vhd::DiskType::Dynamic));
    BOOST_TEST(info.value().virtual_size == 16ull << 20);

    // 200 MB: four reservation pieces, so progress has steps between 0 and 100.
    auto fixed_path = vms / "fixed.vhd";
    auto fixed = disks.create_fixed(fixed_path.string(), 200);
    BOOST_REQUIRE_MESSAGE(fixed.has_value(), why(fixed));
    require_success(fixed.value());
    BOOST_TEST(fixed.value()->is_cancelable());
    {
        std::lock_guard lock(mutex);
        BOOST_TEST(seen.size() >= 4u);
        BOOST_TEST(std::is_sorted(seen.begin(), seen.end()));
        BOOST_TEST(seen.front() == 0u);
        BOOST_TEST(seen.back() == 100u);
    }
    info = vsa::storage::inspect_vhd(fixed_path.string());
    BOOST_REQUIRE(info.has_value());
    BOOST_TEST((info.value().type == vsa::storage::vhd::DiskType::Fixed));
    BOOST_TEST(info.value().virtual_size == 200ull << 20);

    // Differencing: the parent relative to the child's folder, then the
    // child relative to the parent's.
    auto child = disks.create_differencing((vms / "disks" / "child.vhd").string(), "dynamic.vhd");
    BOOST_REQUIRE_MESSAGE(child.has_value(), why(child));
    require_success(child.value());
    auto sibling = disks.create_differencing("sibling.vhd", fixed_path.string());
    BOOST_REQUIRE_MESSAGE(sibling.has_value(), why(sibling));
    require_success(sibling.value());
    info = vsa::storage::inspect_vhd((vms / "disks" / "child.vhd").string());
    BOOST_REQUIRE(info.has_value());
    BOOST_TEST((info.value().type == vsa::storage::vhd::DiskType::Differencing));
    BOOST_TEST(info.value().parent_path == dynamic_path.string());
    BOOST_TEST(fs::exists(vms / "sibling.vhd"));

    // All four are listed, in creation order; none could be cancelled.
    auto listed = tasks.list();
    BOOST_REQUIRE(listed.size() == 4u);
    BOOST_TEST(listed[0] == dynamic.value());
    BOOST_TEST(listed[3] == sibling.value());
    BOOST_TEST((dynamic.value()->cancel().error().code == hr::E_FAIL));
}

BOOST_FIXTURE_TEST_CASE(cancelling_a_big_fixed_disk_removes_it, Fixture) {
    std::atomic<bool> held{false};
    std::atomic<bool> file_was_there{false};
    VhdTasks::Options options;
    auto path = vms / "new-folder" / "big.vhd";
    // Holds the creation at a quarter until the test has cancelled it.
    options.progress_hook = [&](Task& task, std::uint32_t percent) {
        if (percent < 25 || held.exchange(true)) return;
        file_was_there = fs::exists(path);
        wait_until([&] { return task.cancel_requested(); }, 30s);
    };
    VhdTasks disks(*inventory, tasks, options);
    auto begun = disks.create_fixed(path.string(), 1024);
    BOOST_REQUIRE_MESSAGE(begun.has_value(), why(begun));
    auto task = begun.value();
    BOOST_REQUIRE(wait_until([&] { return held.load(); }, 30s));
    BOOST_TEST(!task->is_complete());
    BOOST_TEST(task->percent_completed() >= 25);
    BOOST_TEST(task->cancel().has_value());
    BOOST_TEST(task->wait_until_complete(30s));
    BOOST_TEST((task->result() == TaskResult::Cancelled));
    BOOST_TEST(task->error().value == hr::E_ABORT.value);
    BOOST_TEST(task->percent_completed() < 100);
    BOOST_TEST(file_was_there.load());
    BOOST_TEST(!fs::exists(path));
    BOOST_TEST(!fs::exists(path.parent_path())); // the folder made for it goes too
}

BOOST_FIXTURE_TEST_CASE(bad_input_faults_the_call_and_makes_no_task, Fixture) {
    VhdTasks disks(*inventory, tasks);
    auto in_vms = [&](char const* name) { return (vms / name).string(); };
    BOOST_TEST(code_of(disks.create_dynamic(in_vms("a.vhd"), 0)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(disks.create_fixed(in_vms("a.vhd"), -5)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(disks.create_fixed(in_vms("a.vhd"), INT64_MIN)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(disks.create_dynamic(in_vms("a.vhd"), 2'088'961)) == hr::VM_E_IMAGE_SIZE_TOO_LARGE);
    BOOST_TEST(code_of(disks.create_fixed(in_vms("a.vhd"), INT64_MAX)) == hr::VM_E_IMAGE_SIZE_TOO_LARGE);
    BOOST_TEST(code_of(disks.create_dynamic(in_vms("a.vhd"), 2)) == hr::VM_E_IMAGE_SIZE_TOO_SMALL);
    BOOST_TEST(code_of(disks.create_dynamic("relative.vhd", 16)) == hr::E_BAD_PATHNAME);
    BOOST_TEST(code_of(disks.create_dynamic("", 16)) == hr::E_BAD_PATHNAME);
    BOOST_TEST(code_of(disks.create_dynamic("/etc/evil.vhd", 16)) == hr::E_ACCESSDENIED);
    BOOST_TEST(code_of(disks.create_fixed((vms / ".." / "escape.vhd").string(), 16)) == hr::E_ACCESSDENIED);
    BOOST_TEST(code_of(disks.create_dynamic(in_vms("a\x01.vhd"), 16)) == hr::E_INVALID_NAME);
    // Larger than the volume: refused before anything is written.
    BOOST_TEST(code_of(disks.create_fixed(in_vms("huge.vhd"), 2'088'960)) == hr::E_DISK_FULL);
    BOOST_TEST(!fs::exists(vms / "huge.vhd"));
    { std::ofstream(vms / "taken.vhd") << "x"; }
    BOOST_TEST(code_of(disks.create_fixed(in_vms("taken.vhd"), 16)) == hr::E_ALREADY_EXISTS);
    BOOST_TEST(code_of(disks.create_differencing("child.vhd", "parent.vhd")) == hr::E_BAD_PATHNAME);
    BOOST_TEST(code_of(disks.create_differencing(in_vms("child.vhd"), "missing.vhd")) ==
               hr::E_PATH_NOT_FOUND);
    BOOST_TEST(code_of(disks.create_differencing(in_vms("child.vhd"), "/etc/passwd")) == hr::E_ACCESSDENIED);
    BOOST_TEST(code_of(disks.create_differencing(in_vms("taken.vhd"), in_vms("taken.vhd"))) ==
               hr::E_ALREADY_EXISTS);
    // A missing parent in a folder that did not exist leaves no folder.
    BOOST_TEST(code_of(disks.create_differencing(in_vms("sub/child.vhd"), "missing.vhd")) ==
               hr::E_PATH_NOT_FOUND);
    BOOST_TEST(!fs::exists(vms / "sub"));
    BOOST_TEST(tasks.size() == 0u);

    // A parent that is no VHD fails the task, not the call.
    auto begun = disks.create_differencing(in_vms("child.vhd"), "taken.vhd");
    BOOST_REQUIRE_MESSAGE(begun.has_value(), why(begun));
    BOOST_TEST(begun.value()->wait_until_complete(30s));
    BOOST_TEST((begun.value()->result() == TaskResult::DiskRelatedError));
    BOOST_TEST(begun.value()->error().value == hr::VM_E_INVALID_HD_FILE.value);
    BOOST_TEST(!begun.value()->error_description().empty());
    BOOST_TEST(!fs::exists(vms / "child.vhd"));
}

BOOST_FIXTURE_TEST_CASE(creations_are_bounded_and_shutdown_cancels_them, Fixture) {
    std::atomic<bool> release{false};
    std::atomic<int> holding{0};
    VhdTasks::Options options;
    // Every creation waits at 0 % until released or cancelled.
    options.progress_hook = [&](Task& task, std::uint32_t percent) {
        if (percent != 0) return;
        ++holding;
        wait_until([&] { return release.load() || task.cancel_requested(); }, 30s);
    };
    VhdTasks disks(*inventory, tasks, options);
    std::vector<TaskHandle> running;
    for (std::size_t i = 0; i < VhdTasks::MAX_RUNNING; ++i) {
        auto begun = disks.create_fixed((vms / ("d" + std::to_string(i) + ".vhd")).string(), 8);
        BOOST_REQUIRE_MESSAGE(begun.has_value(), why(begun));
        running.push_back(begun.value());
    }
    BOOST_REQUIRE(wait_until([&] { return holding.load() == int(VhdTasks::MAX_RUNNING); }, 30s));
    auto refused = disks.create_dynamic((vms / "one-more.vhd").string(), 8);
    BOOST_TEST(code_of(refused) == hr::E_FAIL);
    BOOST_TEST(refused.error().message.find("being created already") != std::string::npos);

    // One finishes: there is room again.
    BOOST_TEST(running[0]->cancel().has_value());
    BOOST_TEST(running[0]->wait_until_complete(30s));
    auto again = disks.create_dynamic((vms / "one-more.vhd").string(), 8);
    BOOST_REQUIRE_MESSAGE(again.has_value(), why(again));
    require_success(again.value());

    disks.shutdown();
    for (std::size_t i = 1; i < running.size(); ++i) {
        BOOST_TEST(running[i]->is_complete());
        BOOST_TEST((running[i]->result() == TaskResult::Cancelled));
        BOOST_TEST(!fs::exists(vms / ("d" + std::to_string(i) + ".vhd")));
    }
    BOOST_TEST(code_of(disks.create_dynamic((vms / "late.vhd").string(), 8)) == hr::VM_E_APP_SHUTTING_DOWN);
}

BOOST_AUTO_TEST_SUITE_END()
