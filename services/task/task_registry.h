// SPDX-License-Identifier: GPL-2.0-or-later
// TaskRegistry: every Task the server has handed out, for
// IVMVirtualServer.Tasks (IVMTaskCollection) and for looking a task up by
// the reference a client passes back.
//
// Retention: a running task is never dropped. A completed task stays listed
// for `retention` (10 minutes) after it completed, so a client that polls
// slowly still finds its result, and is dropped after that. Dropping is
// lazy: every create/find/list sweeps first, so nothing runs in the
// background.
//
// Bound: at most `max_completed` completed tasks are kept; beyond that the
// ones that completed first are dropped early, even inside their 10
// minutes. Creating a task is never refused (a power operation must not
// fail because a client listed too much), so the memory bound holds only
// together with the producers' own bounds on running tasks: one pending
// power operation per VM, VhdTasks::MAX_RUNNING disk creations. In all at
// most max_completed + running tasks exist, each a few hundred bytes.
// Clients cannot create tasks faster than those producers accept work.
//
// Thread-safe; tasks are shared, so a dropped task a client or worker still
// holds stays valid for them.
#pragma once

#include "services/task/task.h"

#include <cstddef>
#include <mutex>
#include <random>
#include <vector>

namespace vsa::services {

class TaskRegistry {
public:
    struct Options {
        std::chrono::milliseconds retention{std::chrono::minutes(10)};
        std::size_t max_completed{1000};
        TaskClock clock{}; // empty: std::chrono::steady_clock
    };

    // IVMTask.WaitForCompletion accepts -1 (forever) or 0..4,000,000 ms.
    static constexpr std::int64_t MAX_WAIT_MS = 4'000'000;

    TaskRegistry();
    explicit TaskRegistry(Options options);
    TaskRegistry(TaskRegistry const&) = delete;
    TaskRegistry& operator=(TaskRegistry const&) = delete;

    // Runs when any task of this registry completes (the event log). Set
    // once, before the registry is shared.
    void set_completion_hook(Task::CompletionHook hook) { m_on_complete = std::move(hook); }

    // A new running task at 0 %, listed at once.
    TaskHandle create(std::string description, bool cancelable);
    // nullptr for an unknown or dropped task.
    TaskHandle find(Guid const& id);
    // In creation order.
    std::vector<TaskHandle> list();
    std::size_t size();

    // IVMTask.WaitForCompletion: E_POINTER for a timeout outside -1 and
    // 0..MAX_WAIT_MS (the reference's code for it). The wait is cut to `cap`
    // (the caller's limit on how long it may hold a thread; -1 waits the cap
    // too). Returns whether the task is complete.
    static ServiceResult<bool> wait(Task const& task, std::int64_t timeout_ms, std::chrono::milliseconds cap);

    TaskClock const& clock() const { return m_clock; }

private:
    Task::CompletionHook m_on_complete;
    // Drops what retention and the bound say; expects m_mutex held.
    void sweep_locked();

    Options m_options;
    TaskClock m_clock;
    std::mutex m_mutex;
    std::vector<TaskHandle> m_tasks; // creation order
    std::int32_t m_next_number{1};
    std::mt19937_64 m_random;
};

} // namespace vsa::services
