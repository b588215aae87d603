// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/task/task.h"

#include <algorithm>

namespace vsa::services {

Task::Task(Guid id, std::int32_t number, std::string description, bool cancelable, TaskClock clock,
           CompletionHook on_complete)
    : m_id(id), m_number(number), m_description(std::move(description)), m_cancelable(cancelable),
      m_clock(std::move(clock)), m_on_complete(std::move(on_complete)), m_start(m_clock()) {}

void Task::report_progress(std::int32_t percent) {
    std::lock_guard lock(m_mutex);
    if (m_outcome) return;
    m_percent = std::max(m_percent, std::clamp(percent, 0, 99));
}

bool Task::cancel_requested() const {
    std::lock_guard lock(m_mutex);
    return m_cancel_requested;
}

void Task::complete(ServiceResult<void> outcome) {
    {
        std::lock_guard lock(m_mutex);
        if (m_outcome) return;
        if (outcome.has_value()) m_percent = 100;
        m_outcome = std::move(outcome);
        m_end = m_clock();
        m_done.notify_all();
    }
    if (m_on_complete) m_on_complete(*this);
}

ServiceResult<void> Task::cancel() {
    std::lock_guard lock(m_mutex);
    if (!m_cancelable)
        return service_error(hr::E_FAIL, "the task \"" + m_description + "\" cannot be cancelled");
    if (m_outcome) return service_error(hr::E_FAIL, "the task \"" + m_description + "\" is already complete");
    m_cancel_requested = true;
    return Ok{};
}

bool Task::wait_until_complete(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(m_mutex);
    return m_done.wait_for(lock, timeout, [&] { return m_outcome.has_value(); });
}

ServiceResult<void> Task::wait_for(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(m_mutex);
    if (!m_done.wait_for(lock, timeout, [&] { return m_outcome.has_value(); }))
        return service_error(hr::VM_E_TIMED_OUT, "\"" + m_description + "\" did not complete within " +
                                                     std::to_string(timeout.count() / 1000) + " s");
    return *m_outcome;
}

bool Task::is_complete() const {
    std::lock_guard lock(m_mutex);
    return m_outcome.has_value();
}

std::int32_t Task::percent_completed() const {
    std::lock_guard lock(m_mutex);
    return m_percent;
}

TaskResult Task::result() const {
    std::lock_guard lock(m_mutex);
    if (!m_outcome || m_outcome->has_value()) return TaskResult::Success;
    return result_of(m_outcome->error().code);
}

HResult Task::error() const {
    std::lock_guard lock(m_mutex);
    if (!m_outcome || m_outcome->has_value()) return hr::S_OK;
    return m_outcome->error().code;
}

std::string Task::error_description() const {
    std::lock_guard lock(m_mutex);
    if (!m_outcome || m_outcome->has_value()) return {};
    return m_outcome->error().message;
}

std::optional<Task::TimePoint> Task::end_time() const {
    std::lock_guard lock(m_mutex);
    return m_end;
}

TaskResult Task::result_of(HResult code) {
    if (code == hr::E_ABORT) return TaskResult::Cancelled;
    if (code == hr::E_OUTOFMEMORY) return TaskResult::OutOfMemoryError;
    if (code == hr::VM_E_TIMED_OUT) return TaskResult::TimeOutError;
    if (code == hr::VM_E_PREF_UNLOADABLE_ACTIVATION) return TaskResult::IncompatibleSavedStateError;
    if (code == hr::E_DISK_FULL || code == hr::VM_E_HD_IMAGE_ACCESS || code == hr::VM_E_HD_IMAGE_OPEN_FAIL ||
        code == hr::VM_E_INVALID_HD_FILE || code == hr::VM_E_FILE_READ_ONLY)
        return TaskResult::DiskRelatedError;
    return TaskResult::UnexpectedError;
}

} // namespace vsa::services
