// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime: IVMKeyboard and IVMMouse of a running VM (see vm_runtime.h).
// What goes to the worker is its console's commands ("key", "mouse",
// control_protocol.h); what vsad remembers of them lives in the session,
// so it ends with the worker and a new start begins with nothing held.
#include "services/worker/vm_runtime.h"
#include "services/worker/vm_runtime_session.h"

#include <algorithm>
#include <thread>

namespace vsa::services {

namespace {

constexpr HResult VM_E_SET_EXCLUSIVE_MODE_FAIL{0xA004'0825};

keys::HeldModifiers held_modifiers(std::set<keys::Key> const& down) {
    keys::HeldModifiers held;
    for (auto key : down) {
        held.alt = held.alt || keys::is_alt(key);
        held.ctrl = held.ctrl || keys::is_ctrl(key);
    }
    return held;
}

} // namespace

ServiceResult<void> VmRuntime::send_keys(Guid const& id, std::vector<keys::KeyStep> const& steps,
                                         std::string const& caller) {
    auto [session, worker] = TRY(live_worker(id));
    std::lock_guard input(session->input_mutex);
    if (!session->keyboard_owner.empty() && session->keyboard_owner != caller) {
        log("virtual machine \"" + session->name + "\": keys from \"" + caller + "\" ignored: \"" +
            session->keyboard_owner + "\" has exclusive access to the keyboard");
        return Ok{};
    }
    bool first = true;
    auto send = [&](keys::Key key, bool down) -> ServiceResult<void> {
        auto bytes = keys::scancodes(key, down, held_modifiers(session->keys_down));
        if (!bytes.empty()) {
            // KEY_INTERVAL after the previous key: the guest takes its
            // bytes from the keyboard's queue in the meantime.
            if (!first) std::this_thread::sleep_for(KEY_INTERVAL);
            first = false;
            control::Request request{0, control::Command::Key};
            request.scancodes = std::move(bytes);
            TRY(worker->request(request, m_options.command_timeout));
        }
        if (down)
            session->keys_down.insert(key);
        else
            session->keys_down.erase(key);
        return Ok{};
    };
    for (auto const& step : steps) {
        switch (step.kind) {
        case keys::KeyStep::Kind::Hold:
            std::this_thread::sleep_for(keys::HOLD_PAUSE);
            break;
        case keys::KeyStep::Kind::Press:
            TRY(send(step.key, true));
            break;
        case keys::KeyStep::Kind::Release:
            TRY(send(step.key, false));
            break;
        case keys::KeyStep::Kind::Tap:
            TRY(send(step.key, true));
            TRY(send(step.key, false));
            break;
        }
    }
    return Ok{};
}

ServiceResult<bool> VmRuntime::key_pressed(Guid const& id, keys::Key key) {
    auto [session, worker] = TRY(live_worker(id));
    std::lock_guard input(session->input_mutex);
    return session->keys_down.contains(key);
}

ServiceResult<bool> VmRuntime::keyboard_exclusive(Guid const& id, std::string const& caller) {
    auto live = live_worker(id);
    if (live.is_error()) {
        // Off: nobody holds anything.
        if (live.error().code == hr::VM_E_VM_NOT_RUNNING) return false;
        return live.release_error();
    }
    auto session = live.value().first;
    std::lock_guard input(session->input_mutex);
    return !caller.empty() && session->keyboard_owner == caller;
}

ServiceResult<bool> VmRuntime::set_keyboard_exclusive(Guid const& id, std::string const& caller,
                                                      bool exclusive) {
    auto live = live_worker(id);
    if (live.is_error()) {
        if (live.error().code != hr::VM_E_VM_NOT_RUNNING) return live.release_error();
        // Nothing to release on a VM that is off; nothing to take either.
        if (!exclusive) return false;
        return service_error(VM_E_SET_EXCLUSIVE_MODE_FAIL,
                             "cannot take the keyboard of a virtual machine that is not running: " +
                                 live.error().message);
    }
    auto session = live.value().first;
    std::lock_guard input(session->input_mutex);
    if (!session->keyboard_owner.empty() && session->keyboard_owner != caller)
        return service_error(VM_E_SET_EXCLUSIVE_MODE_FAIL, "\"" + session->keyboard_owner +
                                                               "\" has exclusive access to the keyboard of "
                                                               "virtual machine \"" +
                                                               session->name + "\"");
    bool const held = !session->keyboard_owner.empty();
    if (held == exclusive) return false;
    session->keyboard_owner = exclusive ? caller : std::string();
    log("virtual machine \"" + session->name + "\": \"" + caller + "\" " + (exclusive ? "took" : "released") +
        " exclusive access to the keyboard");
    return true;
}

ServiceResult<void> VmRuntime::mouse_input(Guid const& id, int dx, int dy, int dz,
                                           std::optional<unsigned> buttons) {
    if (buttons && *buttons > control::MOUSE_BUTTONS)
        return service_error(hr::E_INVALIDARG, "not a set of mouse buttons");
    auto [session, worker] = TRY(live_worker(id));
    std::lock_guard input(session->input_mutex);
    constexpr int MAX = control::MAX_MOUSE_DELTA;
    control::Request request{0, control::Command::Mouse};
    request.dx = std::clamp(dx, -MAX, MAX);
    request.dy = std::clamp(dy, -MAX, MAX);
    request.dz = std::clamp(dz, -MAX, MAX);
    request.buttons = buttons.value_or(session->mouse_buttons);
    TRY(worker->request(request, m_options.command_timeout));
    session->mouse_buttons = request.buttons;
    return Ok{};
}

ServiceResult<unsigned> VmRuntime::mouse_buttons(Guid const& id) {
    auto [session, worker] = TRY(live_worker(id));
    std::lock_guard input(session->input_mutex);
    return session->mouse_buttons;
}

} // namespace vsa::services
