// SPDX-License-Identifier: GPL-2.0-or-later
// Operation: the completion of one asynchronous lifecycle operation
// (Startup, TurnOff, Save, Reset), which Virtual Server returns as an
// IVMTask. VmRuntime hands out the handle as soon as the operation is
// accepted (state checked, worker asked) and completes it from the worker's
// events. Until the Task layer exists the SOAP adapter simply waits for it;
// a Task will wrap the same handle (progress: is_complete, result: result(),
// WaitForCompletion: wait_for).
#pragma once

#include "services/service_error.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

namespace vsa::services {

class Operation {
public:
    // First completion wins; later ones are ignored (an exit after a
    // completed startup must not overwrite its success).
    void complete(ServiceResult<void> result) {
        std::lock_guard lock(m_mutex);
        if (m_result) return;
        m_result = std::move(result);
        m_done.notify_all();
    }
    bool is_complete() const {
        std::lock_guard lock(m_mutex);
        return m_result.has_value();
    }
    // Blocks until complete, or `timeout` passes (VM_E_TIMED_OUT; the
    // operation goes on).
    ServiceResult<void> wait_for(std::chrono::milliseconds timeout) const {
        std::unique_lock lock(m_mutex);
        if (!m_done.wait_for(lock, timeout, [&] { return m_result.has_value(); }))
            return service_error(hr::VM_E_TIMED_OUT, "the operation did not complete within " +
                                                         std::to_string(timeout.count() / 1000) + " s");
        return *m_result;
    }

private:
    mutable std::mutex m_mutex;
    mutable std::condition_variable m_done;
    std::optional<ServiceResult<void>> m_result;
};

using OperationHandle = std::shared_ptr<Operation>;

} // namespace vsa::services
