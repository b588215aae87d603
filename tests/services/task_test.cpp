// SPDX-License-Identifier: GPL-2.0-or-later
// Task and TaskRegistry: progress, completion, cancel, waits, and the
// retention and bound of the task list on a fake clock (no sleeping through
// ten minutes).
#include "services/task/task_registry.h"

#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

using namespace vsa::services;
using vsa::Ok;
using namespace std::chrono_literals;

namespace {

// A steady clock the test moves by hand.
struct FakeClock {
    std::shared_ptr<std::atomic<std::int64_t>> ms = std::make_shared<std::atomic<std::int64_t>>(1'000'000);
    TaskClock function() const {
        return [ms = ms] {
            return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms->load()));
        };
    }
    void advance(std::chrono::milliseconds by) { *ms += by.count(); }
};

TaskRegistry::Options fake_options(FakeClock const& clock, std::size_t max_completed = 1000) {
    TaskRegistry::Options options;
    options.clock = clock.function();
    options.max_completed = max_completed;
    return options;
}

std::vector<std::int32_t> numbers(std::vector<TaskHandle> const& tasks) {
    std::vector<std::int32_t> out;
    for (auto const& task : tasks)
        out.push_back(task->number());
    return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(task)

BOOST_AUTO_TEST_CASE(a_task_reports_progress_and_completes_once) {
    FakeClock clock;
    TaskRegistry tasks(fake_options(clock));
    auto task = tasks.create("Creation of something", true);
    BOOST_TEST(!task->is_complete());
    BOOST_TEST(task->percent_completed() == 0);
    BOOST_TEST((task->result() == TaskResult::Success)); // nothing failed yet
    BOOST_TEST(task->error().value == 0u);
    BOOST_TEST(task->description() == "Creation of something");
    BOOST_TEST(task->number() == 1);
    BOOST_TEST(tasks.create("second", false)->number() == 2);

    task->report_progress(40);
    task->report_progress(20); // never goes back
    BOOST_TEST(task->percent_completed() == 40);
    task->report_progress(100); // 100 only at completion
    BOOST_TEST(task->percent_completed() == 99);
    task->report_progress(-5);
    BOOST_TEST(task->percent_completed() == 99);

    clock.advance(1500ms);
    task->complete(Ok{});
    task->complete(service_error(hr::E_FAIL, "too late")); // the first completion wins
    BOOST_TEST(task->is_complete());
    BOOST_TEST(task->percent_completed() == 100);
    BOOST_TEST((task->result() == TaskResult::Success));
    BOOST_TEST(task->error_description().empty());
    BOOST_REQUIRE(task->end_time().has_value());
    BOOST_TEST((*task->end_time() - task->start_time() == 1500ms));
    BOOST_TEST(task->wait_for(0ms).has_value());
}

BOOST_AUTO_TEST_CASE(a_failure_becomes_result_and_error) {
    TaskRegistry tasks;
    auto task = tasks.create("Startup", false);
    task->report_progress(30);
    task->complete(service_error(hr::VM_E_PREF_UNLOADABLE_ACTIVATION, "the saved state does not restore"));
    BOOST_TEST((task->result() == TaskResult::IncompatibleSavedStateError));
    BOOST_TEST(task->error().value == hr::VM_E_PREF_UNLOADABLE_ACTIVATION.value);
    BOOST_TEST(task->error_description() == "the saved state does not restore");
    BOOST_TEST(task->percent_completed() == 30); // the work was not done
    auto outcome = task->wait_for(0ms);
    BOOST_TEST((outcome.error().code == hr::VM_E_PREF_UNLOADABLE_ACTIVATION));

    BOOST_TEST((Task::result_of(hr::E_DISK_FULL) == TaskResult::DiskRelatedError));
    BOOST_TEST((Task::result_of(hr::VM_E_HD_IMAGE_OPEN_FAIL) == TaskResult::DiskRelatedError));
    BOOST_TEST((Task::result_of(hr::E_OUTOFMEMORY) == TaskResult::OutOfMemoryError));
    BOOST_TEST((Task::result_of(hr::VM_E_TIMED_OUT) == TaskResult::TimeOutError));
    BOOST_TEST((Task::result_of(hr::E_FAIL) == TaskResult::UnexpectedError));
}

BOOST_AUTO_TEST_CASE(cancel_is_a_request_the_operation_answers) {
    TaskRegistry tasks;
    auto fixed = tasks.create("cancelable", true);
    BOOST_TEST(!fixed->cancel_requested());
    BOOST_TEST(fixed->cancel().has_value());
    BOOST_TEST(fixed->cancel_requested());
    BOOST_TEST(!fixed->is_complete()); // until the operation stops
    fixed->complete(service_error(hr::E_ABORT, "creating x was cancelled"));
    BOOST_TEST((fixed->result() == TaskResult::Cancelled));
    BOOST_TEST(fixed->error().value == hr::E_ABORT.value);
    // Once complete there is nothing left to cancel.
    BOOST_TEST((fixed->cancel().error().code == hr::E_FAIL));

    auto power = tasks.create("not cancelable", false);
    auto refused = power->cancel();
    BOOST_TEST((refused.error().code == hr::E_FAIL));
    BOOST_TEST(refused.error().message.find("cannot be cancelled") != std::string::npos);
    BOOST_TEST(!power->cancel_requested());
}

BOOST_AUTO_TEST_CASE(waits_time_out_and_are_capped) {
    TaskRegistry tasks;
    auto task = tasks.create("slow", false);
    auto before = std::chrono::steady_clock::now();
    BOOST_TEST(!task->wait_until_complete(30ms));
    BOOST_TEST((task->wait_for(10ms).error().code == hr::VM_E_TIMED_OUT));

    // The reference's range: -1 or 0..4,000,000; outside it E_POINTER.
    BOOST_TEST((TaskRegistry::wait(*task, -2, 50ms).error().code == hr::E_POINTER));
    BOOST_TEST((TaskRegistry::wait(*task, 4'000'001, 50ms).error().code == hr::E_POINTER));
    BOOST_TEST((TaskRegistry::wait(*task, INT64_MIN, 50ms).error().code == hr::E_POINTER));
    // -1 and a huge timeout both stop at the cap.
    auto start = std::chrono::steady_clock::now();
    BOOST_TEST(TaskRegistry::wait(*task, -1, 50ms).value() == false);
    BOOST_TEST(TaskRegistry::wait(*task, 4'000'000, 50ms).value() == false);
    auto waited = std::chrono::steady_clock::now() - start;
    BOOST_TEST((waited >= 100ms && waited < 5s));
    BOOST_TEST(TaskRegistry::wait(*task, 0, 50ms).value() == false);
    BOOST_TEST((std::chrono::steady_clock::now() - before < 10s));

    task->complete(Ok{});
    BOOST_TEST(TaskRegistry::wait(*task, 0, 50ms).value() == true);
}

BOOST_AUTO_TEST_CASE(concurrent_completion_wakes_every_waiter) {
    TaskRegistry tasks;
    auto task = tasks.create("contended", true);
    std::atomic<int> woke{0};
    std::vector<std::thread> waiters;
    for (int i = 0; i < 8; ++i)
        waiters.emplace_back([&] {
            if (task->wait_until_complete(30s)) ++woke;
        });
    // Several threads race to complete it with different outcomes while
    // others report progress and cancel: exactly one outcome sticks.
    std::vector<std::thread> racers;
    for (int i = 0; i < 8; ++i)
        racers.emplace_back([&, i] {
            for (int p = 0; p < 100; ++p)
                task->report_progress(p);
            (void)task->cancel();
            if (i % 2)
                task->complete(Ok{});
            else
                task->complete(service_error(hr::E_ABORT, "cancelled by racer " + std::to_string(i)));
        });
    for (auto& t : racers)
        t.join();
    for (auto& t : waiters)
        t.join();
    BOOST_TEST(woke.load() == 8);
    BOOST_TEST(task->is_complete());
    bool const succeeded = task->result() == TaskResult::Success;
    BOOST_TEST(task->percent_completed() == (succeeded ? 100 : 99));
    BOOST_TEST((succeeded ? task->error().value == 0u : task->error().value == hr::E_ABORT.value));
}

BOOST_AUTO_TEST_CASE(completed_tasks_stay_ten_minutes_and_running_ones_forever) {
    FakeClock clock;
    TaskRegistry tasks(fake_options(clock));
    auto first = tasks.create("first", false);
    auto running = tasks.create("running", false);
    auto third = tasks.create("third", false);
    BOOST_TEST((numbers(tasks.list()) == std::vector<std::int32_t>{1, 2, 3}));

    first->complete(Ok{});
    clock.advance(5min);
    third->complete(service_error(hr::E_FAIL, "failed"));
    clock.advance(5min - 1ms);
    BOOST_TEST(tasks.size() == 3u); // 9:59.999 after the first completed
    clock.advance(1ms);
    BOOST_TEST((numbers(tasks.list()) == std::vector<std::int32_t>{2, 3}));
    BOOST_TEST(tasks.find(first->id()) == nullptr);
    BOOST_TEST(tasks.find(third->id()) == third);
    // The dropped task stays valid for whoever still holds it.
    BOOST_TEST(first->is_complete());

    clock.advance(5min);
    BOOST_TEST((numbers(tasks.list()) == std::vector<std::int32_t>{2}));
    clock.advance(24h * 365);
    BOOST_TEST(tasks.find(running->id()) == running); // never dropped while running
    running->complete(Ok{});
    clock.advance(10min);
    BOOST_TEST(tasks.size() == 0u);
    BOOST_TEST(tasks.find(Guid{}) == nullptr);
}

BOOST_AUTO_TEST_CASE(the_list_is_bounded_by_dropping_the_oldest_completed) {
    FakeClock clock;
    TaskRegistry tasks(fake_options(clock, 3));
    std::vector<TaskHandle> all;
    for (int i = 0; i < 6; ++i)
        all.push_back(tasks.create("t" + std::to_string(i), false));
    // Completed in the order 4, 1, 0, 5, 3; task 2 keeps running.
    for (int i : {4, 1, 0, 5, 3}) {
        all[i]->complete(Ok{});
        clock.advance(1s);
    }
    // Five completed, three may stay: 4 and 1 completed first and go, the
    // running task 2 stays whatever its age.
    BOOST_TEST((numbers(tasks.list()) == std::vector<std::int32_t>{1, 3, 4, 6}));
    // A flood of short tasks keeps the list at the bound plus what runs.
    for (int i = 0; i < 1000; ++i)
        tasks.create("flood", false)->complete(Ok{});
    BOOST_TEST(tasks.size() == 4u);
    BOOST_TEST(tasks.find(all[2]->id()) == all[2]);
}

BOOST_AUTO_TEST_CASE(the_registry_is_thread_safe) {
    TaskRegistry::Options options;
    options.max_completed = 50;
    TaskRegistry tasks(options);
    std::vector<std::thread> threads;
    std::atomic<int> found{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 500; ++i) {
                auto task = tasks.create("x", true);
                if (tasks.find(task->id()) == task) ++found; // running: never dropped
                (void)task->cancel();
                task->complete(service_error(hr::E_ABORT, "cancelled"));
                (void)tasks.list();
            }
        });
    for (auto& t : threads)
        t.join();
    BOOST_TEST(found.load() == 2000);
    BOOST_TEST(tasks.size() == 50u);
    // Numbers are unique.
    auto listed = numbers(tasks.list());
    std::sort(listed.begin(), listed.end());
    BOOST_TEST((std::adjacent_find(listed.begin(), listed.end()) == listed.end()));
}

BOOST_AUTO_TEST_SUITE_END()
