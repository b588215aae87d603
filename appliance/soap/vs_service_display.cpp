// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: a running VM's IVMDisplay, IVMGuestOS and IVMAccountant, and
// the IVMVirtualMachine properties that hand them out. Adapters only: the
// meaning of every member (no guest Additions, what a heartbeat is, how
// the screen is rendered) lives in services/worker/vm_runtime.h.
//
// References: "<vm ConfigID>/display", "<vm>/guestos", "<vm>/accountant".
// Like the other sub-object references they carry no state, so one for a
// VM that was deleted fails with VM_E_VM_UNKNOWN.
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/virtual_server.h"

#include <cstring>

namespace vsa::appliance {

using services::Guid;
using services::ServiceError;
using services::ServiceResult;
namespace hr = services::hr;

namespace {

constexpr std::string_view DISPLAY_MARK = "/display";
constexpr std::string_view GUEST_OS_MARK = "/guestos";
constexpr std::string_view ACCOUNTANT_MARK = "/accountant";

// A code of the reference that hresult.h does not name.
constexpr services::HResult VM_E_ADDITIONS_FEATURE_NOT_AVAIL{0xA004'0505};

// The sub-object reference of a registered VM.
ServiceResult<std::string> sub_ref(services::Inventory const& inventory, std::string_view vm_ref,
                                   std::string_view mark) {
    Guid id = TRY(parse_vm_reference(vm_ref));
    if (!inventory.virtual_machine(id))
        return Err{ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string()}};
    return id.to_string() + std::string(mark);
}

std::int32_t video_mode_value(control::VideoMode mode) {
    // VMDisplayVideoMode: 0 text, 1 CGA, 2 VGA, 3 SVGA.
    switch (mode) {
    case control::VideoMode::Text:
        return 0;
    case control::VideoMode::Cga:
        return 1;
    case control::VideoMode::Vga:
        return 2;
    case control::VideoMode::Svga:
        return 3;
    }
    return 0;
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// --- IVMVirtualMachine: the sub-objects ---------------------------------------

#define VSA_VM_SUB_OBJECT(prop, mark)                                                                        \
    VSA_OP(IVMVirtualMachine_USCOREget_USCORE##prop) {                                                       \
        if (int rc = require_principal()) return rc;                                                         \
        return deliver(soap, sub_ref(inventory(), request->_USCOREthis, mark),                               \
                       [&](std::string ref) { response.returnval = std::move(ref); });                       \
    }
VSA_VM_SUB_OBJECT(Display, DISPLAY_MARK)
VSA_VM_SUB_OBJECT(GuestOS, GUEST_OS_MARK)
VSA_VM_SUB_OBJECT(Accountant, ACCOUNTANT_MARK)
#undef VSA_VM_SUB_OBJECT

// --- IVMDisplay ---------------------------------------------------------------

#define VSA_DISPLAY_GET(prop, expression)                                                                    \
    VSA_OP(IVMDisplay_USCOREget_USCORE##prop) {                                                              \
        if (int rc = require_principal()) return rc;                                                         \
        auto info = [&]() -> ServiceResult<control::ScreenInfo> {                                            \
            Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, DISPLAY_MARK, "IVMDisplay"));         \
            return runtime().screen_info(id);                                                                \
        }();                                                                                                 \
        return deliver(soap, std::move(info), [&](control::ScreenInfo const& screen) {                       \
            response.returnval = static_cast<std::int32_t>(expression);                                      \
        });                                                                                                  \
    }
VSA_DISPLAY_GET(Width, screen.width)
VSA_DISPLAY_GET(Height, screen.height)
VSA_DISPLAY_GET(VideoMode, video_mode_value(screen.mode))
#undef VSA_DISPLAY_GET

// Thumbnail and _GenerateThumbnail (the hidden method the Administration
// Website called) answer the same picture.
#define VSA_DISPLAY_THUMBNAIL(op)                                                                            \
    VSA_OP(op) {                                                                                             \
        if (int rc = require_principal()) return rc;                                                         \
        auto pixels = [&]() -> ServiceResult<std::vector<u32>> {                                             \
            Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, DISPLAY_MARK, "IVMDisplay"));         \
            return runtime().thumbnail(id);                                                                  \
        }();                                                                                                 \
        return deliver(soap, std::move(pixels), [&](std::vector<u32> values) {                               \
            response.returnval = soap_new_vs__ArrayOfUnsignedInt(soap);                                      \
            response.returnval->item.assign(values.begin(), values.end());                                   \
        });                                                                                                  \
    }
VSA_DISPLAY_THUMBNAIL(IVMDisplay_USCOREget_USCOREThumbnail)
VSA_DISPLAY_THUMBNAIL(IVMDisplay_USCORE_USCOREGenerateThumbnail)
#undef VSA_DISPLAY_THUMBNAIL

VSA_OP(IVMDisplay_USCORECaptureScreen) {
    if (int rc = require_principal()) return rc;
    auto shot = [&]() -> ServiceResult<services::VmRuntime::Screenshot> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, DISPLAY_MARK, "IVMDisplay"));
        if (request->width < 0 || request->height < 0)
            return Err{ServiceError{hr::E_INVALIDARG, "width and height must be 0 (full size) or 1-4096"}};
        return runtime().screenshot(id, static_cast<unsigned>(request->width),
                                    static_cast<unsigned>(request->height));
    }();
    return deliver(soap, std::move(shot), [&](services::VmRuntime::Screenshot const& screenshot) {
        auto size = static_cast<int>(screenshot.png.size());
        response.returnval.__ptr = static_cast<unsigned char*>(soap_malloc(soap, screenshot.png.size()));
        response.returnval.__size = response.returnval.__ptr ? size : 0;
        if (response.returnval.__ptr) std::memcpy(response.returnval.__ptr, screenshot.png.data(), size);
    });
}

VSA_OP(IVMDisplay_USCOREget_USCOREText) {
    if (int rc = require_principal()) return rc;
    auto text = [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, DISPLAY_MARK, "IVMDisplay"));
        return runtime().screen_text(id);
    }();
    return deliver(soap, std::move(text), [&](std::string value) { response.returnval = std::move(value); });
}

// The reference's checks first (E_INVALIDARG), then the VM, then what
// Virtual Server answered without Additions that can resize: the emulated
// VGA shows whatever mode the guest programmed, and nothing outside the
// guest may choose it for the guest.
VSA_OP(IVMDisplay_USCORESetDimensions) {
    if (int rc = require_principal()) return rc;
    return deliver_void(soap, [&]() -> ServiceResult<void> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, DISPLAY_MARK, "IVMDisplay"));
        auto const width = request->displayPixelWidth, height = request->displayPixelHeight;
        if (width < 640 || width > 1600 || height < 480 || height > 1200 || width % 8 != 0 || height % 8 != 0)
            return Err{ServiceError{hr::E_INVALIDARG,
                                    "the display must be 640 to 1600 pixels wide and 480 to "
                                    "1200 high, both multiples of 8 (got " +
                                        std::to_string(width) + "x" + std::to_string(height) + ")"}};
        TRY(runtime().screen_info(id)); // VM_E_VM_UNKNOWN, VM_E_VM_NOT_RUNNING
        return Err{ServiceError{VM_E_ADDITIONS_FEATURE_NOT_AVAIL,
                                "the display size is the video mode the guest sets on the emulated VGA; "
                                "changing it from outside needs the Virtual Machine Additions' video driver, "
                                "which VSA guests do not have (set the resolution inside the guest)"}};
    }());
}

// --- IVMGuestOS -----------------------------------------------------------------

// Guest members need a running VM, as with Additions (VM_E_VM_NOT_RUNNING).
#define VSA_GUEST_GET(prop, expression)                                                                      \
    VSA_OP(IVMGuestOS_USCOREget_USCORE##prop) {                                                              \
        if (int rc = require_principal()) return rc;                                                         \
        auto activity = [&]() -> ServiceResult<services::VmRuntime::GuestActivity> {                         \
            Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, GUEST_OS_MARK, "IVMGuestOS"));        \
            return runtime().guest_activity(id);                                                             \
        }();                                                                                                 \
        return deliver(soap, std::move(activity), [&](services::VmRuntime::GuestActivity const& guest) {     \
            (void)guest;                                                                                     \
            response.returnval = expression;                                                                 \
        });                                                                                                  \
    }
VSA_GUEST_GET(IsHeartbeating, guest.heartbeating)
VSA_GUEST_GET(HeartbeatPercentage, guest.heartbeat_percentage)
#undef VSA_GUEST_GET

// The guest agent's answers (vm_runtime.h: the guest agent).
VSA_OP(IVMGuestOS_USCOREget_USCOREOSName) {
    if (int rc = require_principal()) return rc;
    auto name = [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, GUEST_OS_MARK, "IVMGuestOS"));
        return runtime().guest_os_name(id);
    }();
    return deliver(soap, std::move(name), [&](std::string value) { response.returnval = std::move(value); });
}

// As Virtual Server, the version cached in the .vmc while the VM is off.
VSA_OP(IVMGuestOS_USCOREget_USCOREAdditionsVersion) {
    if (int rc = require_principal()) return rc;
    auto known = [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, GUEST_OS_MARK, "IVMGuestOS"));
        return runtime().guest_additions_version(id);
    }();
    return deliver(soap, std::move(known),
                   [&](std::string version) { response.returnval = std::move(version); });
}

VSA_OP(IVMGuestOS_USCOREShutdown) {
    if (int rc = require_principal()) return rc;
    auto task = [&]() -> ServiceResult<services::TaskHandle> {
        Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, GUEST_OS_MARK, "IVMGuestOS"));
        return runtime().shutdown_guest(id);
    }();
    return deliver(soap, std::move(task), [&](services::TaskHandle const& handle) {
        response.returnval = handle->id().to_string();
    });
}

// --- IVMAccountant --------------------------------------------------------------

#define VSA_ACCOUNTANT_GET(prop, expression)                                                                 \
    VSA_OP(IVMAccountant_USCOREget_USCORE##prop) {                                                           \
        if (int rc = require_principal()) return rc;                                                         \
        auto accounting = [&]() -> ServiceResult<services::VmRuntime::Accounting> {                          \
            Guid id = TRY(parse_vm_sub_reference(request->_USCOREthis, ACCOUNTANT_MARK, "IVMAccountant"));   \
            return runtime().accounting(id);                                                                 \
        }();                                                                                                 \
        return deliver(soap, std::move(accounting), [&](services::VmRuntime::Accounting const& counts) {     \
            response.returnval = expression;                                                                 \
        });                                                                                                  \
    }
VSA_ACCOUNTANT_GET(CPUUtilization, counts.cpu_percent)
VSA_ACCOUNTANT_GET(UpTime, counts.uptime_seconds)
#undef VSA_ACCOUNTANT_GET

#undef VSA_OP

} // namespace vsa::appliance
