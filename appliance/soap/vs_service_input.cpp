// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: a running VM's IVMKeyboard and IVMMouse and the IVMVirtualMachine
// properties that hand them out. Adapters only: key identifiers and the string forms live
// in services/worker/key_identifiers.h, the input state and its delivery
// in VmRuntime (vm_runtime_input.cpp).
//
// References: "<vm ConfigID>/keyboard", "<vm>/mouse".
// They carry no state: what the reference keeps per object (exclusive
// access, the coordinate mode) is per user or fixed here; see
// wsdl/vsa-api.txt.
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/virtual_server.h"
#include "services/worker/key_identifiers.h"

namespace vsa::appliance {

using services::Guid;
using services::ServiceError;
using services::ServiceResult;
namespace hr = services::hr;
namespace keys = services::keys;

namespace {

constexpr std::string_view KEYBOARD_MARK = "/keyboard";
constexpr std::string_view MOUSE_MARK = "/mouse";

// Codes of the reference that hresult.h does not name.
constexpr services::HResult VM_E_ADDITIONS_FEATURE_NOT_AVAIL{0xA004'0505};
constexpr services::HResult VM_E_USING_RELATIVE_COORDINATES{0xA004'0802};

ServiceResult<Guid> known_vm(services::Inventory const& inventory, Guid id) {
    if (!inventory.virtual_machine(id))
        return Err{ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string()}};
    return id;
}

ServiceResult<keys::Key> key_named(std::string_view identifier) {
    if (identifier.empty()) return Err{ServiceError{hr::E_INVALIDARG, "the key identifier is empty"}};
    auto key = keys::find_key(identifier);
    if (!key) {
        std::string shown(identifier.substr(0, 40));
        for (char& c : shown)
            if (c < 0x20 || c > 0x7E) c = '?';
        return Err{
            ServiceError{hr::E_INVALIDARG, "'" + shown +
                                               "' is not a key identifier (Key_A, Key_Enter, KeyPad_0, "
                                               "...: see the Key Identifiers Reference)"}};
    }
    return *key;
}

// VMMouseButton (1 left, 2 right, 3 center) to the protocol's button bit.
ServiceResult<unsigned> button_bit(std::int32_t index) {
    switch (index) {
    case 1:
        return control::MOUSE_LEFT;
    case 2:
        return control::MOUSE_RIGHT;
    case 3:
        return control::MOUSE_MIDDLE;
    default:
        return Err{ServiceError{hr::E_INVALIDARG, "buttonIndex " + std::to_string(index) +
                                                      " is not a VMMouseButton (1 left, 2 right, 3 center)"}};
    }
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// --- IVMVirtualMachine: the sub-objects ---------------------------------------

// Keyboard: any state (its members need the VM running).
VSA_OP(IVMVirtualMachine_USCOREget_USCOREKeyboard) {
    if (int rc = require_principal()) return rc;
    auto ref = [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_vm_reference(request->_USCOREthis));
        TRY(known_vm(inventory(), id));
        return id.to_string() + std::string(KEYBOARD_MARK);
    }();
    return deliver(soap, std::move(ref), [&](std::string value) { response.returnval = std::move(value); });
}

// Mouse: the reference's page says VM_E_VM_NOT_RUNNING when the VM is off.
VSA_OP(IVMVirtualMachine_USCOREget_USCOREMouse) {
    if (int rc = require_principal()) return rc;
    auto ref = [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_vm_reference(request->_USCOREthis));
        TRY(runtime().mouse_buttons(id)); // VM_E_VM_UNKNOWN, VM_E_VM_NOT_RUNNING
        return id.to_string() + std::string(MOUSE_MARK);
    }();
    return deliver(soap, std::move(ref), [&](std::string value) { response.returnval = std::move(value); });
}

// --- IVMKeyboard ----------------------------------------------------------------

VSA_OP(IVMKeyboard_USCOREget_USCOREHasExclusiveAccess) {
    if (int rc = require_principal()) return rc;
    auto held = [&]() -> ServiceResult<bool> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, KEYBOARD_MARK, "IVMKeyboard"));
        return runtime().keyboard_exclusive(id, m_call->principal->user);
    }();
    return deliver(soap, std::move(held), [&](bool value) { response.returnval = value; });
}

VSA_OP(IVMKeyboard_USCOREset_USCOREHasExclusiveAccess) {
    if (int rc = require_principal()) return rc;
    auto changed = [&]() -> ServiceResult<bool> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, KEYBOARD_MARK, "IVMKeyboard"));
        return runtime().set_keyboard_exclusive(id, m_call->principal->user, request->makeExclusive);
    }();
    return deliver(soap, std::move(changed), [&](bool value) { response.returnval = value; });
}

VSA_OP(IVMKeyboard_USCOREIsPressed) {
    if (int rc = require_principal()) return rc;
    auto pressed = [&]() -> ServiceResult<bool> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, KEYBOARD_MARK, "IVMKeyboard"));
        auto key = TRY(key_named(request->key));
        return runtime().key_pressed(id, key);
    }();
    return deliver(soap, std::move(pressed), [&](bool value) { response.returnval = value; });
}

// One key: a single step of `kind`.
#define VSA_KEY_OP(op, kind)                                                                                 \
    VSA_OP(IVMKeyboard_USCORE##op) {                                                                         \
        if (int rc = require_principal()) return rc;                                                         \
        return deliver_void(soap, [&]() -> ServiceResult<void> {                                             \
            Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, KEYBOARD_MARK, "IVMKeyboard"));       \
            auto key = TRY(key_named(request->key));                                                         \
            return runtime().send_keys(id, {keys::KeyStep{kind, key}}, m_call->principal->user);             \
        }());                                                                                                \
    }
VSA_KEY_OP(PressAndReleaseKey, keys::KeyStep::Kind::Tap)
VSA_KEY_OP(PressKey, keys::KeyStep::Kind::Press)
VSA_KEY_OP(ReleaseKey, keys::KeyStep::Kind::Release)
#undef VSA_KEY_OP

// The whole string is checked before the first key goes out.
#define VSA_STEPS_OP(op, field, parse)                                                                       \
    VSA_OP(IVMKeyboard_USCORE##op) {                                                                         \
        if (int rc = require_principal()) return rc;                                                         \
        return deliver_void(soap, [&]() -> ServiceResult<void> {                                             \
            Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, KEYBOARD_MARK, "IVMKeyboard"));       \
            auto steps = parse(request->field);                                                              \
            if (steps.is_error()) return Err{ServiceError{hr::E_INVALIDARG, steps.release_error()}};         \
            return runtime().send_keys(id, steps.value(), m_call->principal->user);                          \
        }());                                                                                                \
    }
VSA_STEPS_OP(TypeAsciiText, text, keys::ascii_text_steps)
VSA_STEPS_OP(TypeKeySequence, keySequence, keys::parse_key_sequence)
#undef VSA_STEPS_OP

// --- IVMMouse -------------------------------------------------------------------

// Without Additions the mouse is relative: no position to read.
#define VSA_MOUSE_POSITION(axis)                                                                             \
    VSA_OP(IVMMouse_USCOREget_USCORE##axis##Position) {                                                      \
        if (int rc = require_principal()) return rc;                                                         \
        auto position = [&]() -> ServiceResult<std::int32_t> {                                               \
            Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, MOUSE_MARK, "IVMMouse"));             \
            TRY(runtime().mouse_buttons(id));                                                                \
            return Err{ServiceError{VM_E_USING_RELATIVE_COORDINATES,                                         \
                                    "the mouse uses relative coordinates (absolute ones need the Virtual "   \
                                    "Machine Additions): its position cannot be read"}};                     \
        }();                                                                                                 \
        return deliver(soap, std::move(position), [&](std::int32_t value) { response.returnval = value; });  \
    }
VSA_MOUSE_POSITION(Horizontal)
VSA_MOUSE_POSITION(Vertical)
#undef VSA_MOUSE_POSITION

#define VSA_MOUSE_MOVE(prop, dx, dy, dz)                                                                     \
    VSA_OP(IVMMouse_USCOREset_USCORE##prop) {                                                                \
        if (int rc = require_principal()) return rc;                                                         \
        return deliver_void(soap, [&]() -> ServiceResult<void> {                                             \
            Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, MOUSE_MARK, "IVMMouse"));             \
            int const position = request->position;                                                          \
            return runtime().mouse_input(id, dx, dy, dz);                                                    \
        }());                                                                                                \
    }
VSA_MOUSE_MOVE(HorizontalPosition, position, 0, 0)
VSA_MOUSE_MOVE(VerticalPosition, 0, position, 0)
VSA_MOUSE_MOVE(ScrollWheelPosition, 0, 0, position)
#undef VSA_MOUSE_MOVE

VSA_OP(IVMMouse_USCOREget_USCOREUsingAbsoluteCoordinates) {
    if (int rc = require_principal()) return rc;
    auto absolute = [&]() -> ServiceResult<bool> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, MOUSE_MARK, "IVMMouse"));
        TRY(known_vm(inventory(), id));
        return false;
    }();
    return deliver(soap, std::move(absolute), [&](bool value) { response.returnval = value; });
}

VSA_OP(IVMMouse_USCOREset_USCOREUsingAbsoluteCoordinates) {
    if (int rc = require_principal()) return rc;
    return deliver_void(soap, [&]() -> ServiceResult<void> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, MOUSE_MARK, "IVMMouse"));
        TRY(known_vm(inventory(), id));
        if (request->usingAbsoluteCoordinates)
            return Err{
                ServiceError{VM_E_ADDITIONS_FEATURE_NOT_AVAIL,
                             "absolute mouse coordinates need the Virtual Machine Additions, which VSA "
                             "guests do not have: the mouse stays relative"}};
        return Ok{};
    }());
}

VSA_OP(IVMMouse_USCOREClick) {
    if (int rc = require_principal()) return rc;
    return deliver_void(soap, [&]() -> ServiceResult<void> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, MOUSE_MARK, "IVMMouse"));
        unsigned bit = TRY(button_bit(request->buttonIndex));
        unsigned held = TRY(runtime().mouse_buttons(id));
        TRY(runtime().mouse_input(id, 0, 0, 0, held | bit));
        return runtime().mouse_input(id, 0, 0, 0, held & ~bit);
    }());
}

VSA_OP(IVMMouse_USCOREGetButton) {
    if (int rc = require_principal()) return rc;
    auto down = [&]() -> ServiceResult<bool> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, MOUSE_MARK, "IVMMouse"));
        unsigned bit = TRY(button_bit(request->buttonIndex));
        unsigned held = TRY(runtime().mouse_buttons(id));
        return (held & bit) != 0;
    }();
    return deliver(soap, std::move(down), [&](bool value) { response.returnval = value; });
}

VSA_OP(IVMMouse_USCORESetButton) {
    if (int rc = require_principal()) return rc;
    return deliver_void(soap, [&]() -> ServiceResult<void> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, MOUSE_MARK, "IVMMouse"));
        unsigned bit = TRY(button_bit(request->buttonIndex));
        unsigned held = TRY(runtime().mouse_buttons(id));
        return runtime().mouse_input(id, 0, 0, 0, request->down ? held | bit : held & ~bit);
    }());
}

#undef VSA_OP

} // namespace vsa::appliance
