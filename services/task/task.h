// SPDX-License-Identifier: GPL-2.0-or-later
// Task: one asynchronous operation as a Virtual Server client sees it
// through IVMTask and IVMTask2 (vs-api.md, IVMTask): a description, a
// progress of 0..100, whether it is complete, its VMTaskResult, the failing
// HRESULT and its text, and a cancel request.
//
// A Task is also the operation's completion handle: the code doing the work
// (VmRuntime for Startup/TurnOff/Save/Reset, VhdTasks for the disk creations)
// reports progress, polls cancel_requested() and calls complete() exactly
// once (later calls are ignored, so an exit after a completed startup cannot
// overwrite its success); clients and VmRuntime's shutdown wait on the same
// object. There is no second completion mechanism.
//
// Progress only grows and stays below 100 until the task completes; a
// successful task reads 100, a failed or cancelled one keeps the progress
// it had reached (the work was not done). Tasks are made by TaskRegistry,
// which gives them their identity and its clock.
#pragma once

#include "services/model/guid.h"
#include "services/service_error.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace vsa::services {

// VMTaskResult (vs-api.md): the values a client tests for.
enum class TaskResult : std::int32_t {
    Success = 0,
    Cancelled = 1,
    UnexpectedError = 2,
    OutOfMemoryError = 3,
    DiskRelatedError = 4,
    IncompatibleSavedStateError = 5,
    TimeOutError = 6,
    IllegalValueError = 7,
    ThreadCrashError = 8,
};

// The time source of a registry and its tasks: injected so retention is
// tested by stepping a fake clock, not by sleeping ten minutes.
using TaskClock = std::function<std::chrono::steady_clock::time_point()>;

class Task {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    // Use TaskRegistry::create; public for std::make_shared.
    // on_complete runs once, right after complete() took effect, on the
    // completing thread and without the task's lock (it may read the task).
    using CompletionHook = std::function<void(Task const&)>;
    Task(Guid id, std::int32_t number, std::string description, bool cancelable, TaskClock clock,
         CompletionHook on_complete = {});
    Task(Task const&) = delete;
    Task& operator=(Task const&) = delete;

    // The IVMTask reference a client passes back as _this.
    Guid const& id() const { return m_id; }
    // IVMTask.ID: a small number, unique for the registry's lifetime.
    std::int32_t number() const { return m_number; }
    std::string const& description() const { return m_description; }
    bool is_cancelable() const { return m_cancelable; }
    TimePoint start_time() const { return m_start; }

    // --- The operation's side -------------------------------------------
    // A percentage (clamped to 0..99; it never goes back).
    void report_progress(std::int32_t percent);
    // True once a client asked to cancel; the operation stops when it can
    // and completes with an E_ABORT error, which reads as Cancelled.
    bool cancel_requested() const;
    // The first call wins. An error becomes Result/Error/ErrorDescription.
    void complete(ServiceResult<void> outcome);

    // --- The client's side --------------------------------------------------
    // IVMTask.Cancel: E_FAIL when the task cannot be cancelled or is
    // already complete (the reference's "cannot be canceled").
    ServiceResult<void> cancel();
    // Blocks until complete or `timeout` passes; true when complete.
    bool wait_until_complete(std::chrono::milliseconds timeout) const;
    // The outcome once complete, VM_E_TIMED_OUT if not within `timeout`
    // (the operation goes on).
    ServiceResult<void> wait_for(std::chrono::milliseconds timeout) const;

    bool is_complete() const;
    std::int32_t percent_completed() const;
    // Meaningful once complete; Success while running (as Virtual Server's
    // Result reads before completion: nothing has failed yet).
    TaskResult result() const;
    // IVMTask2.Error / ErrorDescription: S_OK and "" unless it failed.
    HResult error() const;
    std::string error_description() const;
    std::optional<TimePoint> end_time() const;

    // The VMTaskResult an error stands for (E_ABORT: Cancelled, disk and
    // saved-state failures their own kinds, anything else UnexpectedError).
    static TaskResult result_of(HResult code);

private:
    Guid const m_id;
    std::int32_t const m_number;
    std::string const m_description;
    bool const m_cancelable;
    TaskClock const m_clock;
    CompletionHook const m_on_complete;
    TimePoint const m_start;

    mutable std::mutex m_mutex;
    mutable std::condition_variable m_done;
    std::int32_t m_percent{0};
    bool m_cancel_requested{false};
    std::optional<ServiceResult<void>> m_outcome;
    std::optional<TimePoint> m_end;
};

using TaskHandle = std::shared_ptr<Task>;

} // namespace vsa::services
