// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/task/task_registry.h"

#include <algorithm>

namespace vsa::services {

TaskRegistry::TaskRegistry() : TaskRegistry(Options{}) {}

TaskRegistry::TaskRegistry(Options options)
    : m_options(std::move(options)),
      m_clock(m_options.clock ? m_options.clock : [] { return std::chrono::steady_clock::now(); }),
      m_random(std::random_device{}()) {}

TaskHandle TaskRegistry::create(std::string description, bool cancelable) {
    std::lock_guard lock(m_mutex);
    sweep_locked();
    auto number = m_next_number;
    // Wraps after 2^31 tasks; numbers are for people, the GUID is the key.
    m_next_number = m_next_number == INT32_MAX ? 1 : m_next_number + 1;
    auto task = std::make_shared<Task>(Guid::random(m_random), number, std::move(description), cancelable,
                                       m_clock, m_on_complete);
    m_tasks.push_back(task);
    return task;
}

TaskHandle TaskRegistry::find(Guid const& id) {
    std::lock_guard lock(m_mutex);
    sweep_locked();
    for (auto const& task : m_tasks)
        if (task->id() == id) return task;
    return nullptr;
}

std::vector<TaskHandle> TaskRegistry::list() {
    std::lock_guard lock(m_mutex);
    sweep_locked();
    return m_tasks;
}

std::size_t TaskRegistry::size() {
    std::lock_guard lock(m_mutex);
    sweep_locked();
    return m_tasks.size();
}

void TaskRegistry::sweep_locked() {
    auto const now = m_clock();
    std::erase_if(m_tasks, [&](TaskHandle const& task) {
        auto end = task->end_time();
        return end && now - *end >= m_options.retention;
    });
    std::vector<std::pair<Task::TimePoint, Task const*>> completed;
    for (auto const& task : m_tasks)
        if (auto end = task->end_time()) completed.emplace_back(*end, task.get());
    if (completed.size() <= m_options.max_completed) return;
    // The ones that completed first go; equal end times by creation order
    // (stable sort keeps it).
    std::stable_sort(completed.begin(), completed.end(),
                     [](auto const& a, auto const& b) { return a.first < b.first; });
    completed.resize(completed.size() - m_options.max_completed);
    std::erase_if(m_tasks, [&](TaskHandle const& task) {
        return std::any_of(completed.begin(), completed.end(),
                           [&](auto const& entry) { return entry.second == task.get(); });
    });
}

ServiceResult<bool> TaskRegistry::wait(Task const& task, std::int64_t timeout_ms,
                                       std::chrono::milliseconds cap) {
    if (timeout_ms < -1 || timeout_ms > MAX_WAIT_MS)
        return service_error(hr::E_POINTER, "WaitForCompletion takes -1 (no limit) or 0.." +
                                                std::to_string(MAX_WAIT_MS) + " ms, not " +
                                                std::to_string(timeout_ms));
    auto wanted = timeout_ms == -1 ? cap : std::chrono::milliseconds(timeout_ms);
    return task.wait_until_complete(std::min(wanted, cap));
}

} // namespace vsa::services
