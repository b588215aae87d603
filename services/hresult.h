// SPDX-License-Identifier: GPL-2.0-or-later
// HRESULT values as the Virtual Server COM API defines them. Every error the
// management model reports carries one, so SOAP clients written against the
// Microsoft documentation can test for the codes they already know.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace vsa::services {

struct HResult {
    std::uint32_t value{0};
    constexpr bool failed() const { return (value & 0x8000'0000u) != 0; }
    friend constexpr bool operator==(HResult, HResult) = default;
};

struct HResultInfo {
    std::uint32_t value;
    std::string_view name;
    std::string_view meaning;
};

std::span<HResultInfo const> hresult_table();
// nullptr for a code we do not know by name.
HResultInfo const* find_hresult(HResult code);

namespace hr {
inline constexpr HResult S_OK{0x0000'0000};
inline constexpr HResult S_FALSE{0x0000'0001};
inline constexpr HResult E_NOTIMPL{0x8000'4001};
inline constexpr HResult E_POINTER{0x8000'4003};
inline constexpr HResult E_ABORT{0x8000'4004};
inline constexpr HResult E_FAIL{0x8000'4005};
inline constexpr HResult E_ACCESSDENIED{0x8007'0005};
inline constexpr HResult E_OUTOFMEMORY{0x8007'000E};
inline constexpr HResult E_INVALIDARG{0x8007'0057};
inline constexpr HResult E_FILE_NOT_FOUND{0x8007'0002};
inline constexpr HResult DISP_E_BADINDEX{0x8002'000B};
inline constexpr HResult VM_E_TIMED_OUT{0xA004'0202};
inline constexpr HResult VM_E_TOO_MANY_VMS{0xA004'0204};
inline constexpr HResult VM_E_VM_NOT_RUNNING{0xA004'0206};
inline constexpr HResult VM_E_VM_UNKNOWN{0xA004'0207};
inline constexpr HResult VM_E_APP_SHUTTING_DOWN{0xA004'0209};
inline constexpr HResult VM_E_SCRIPT_ALREADY_EXISTS{0xA004'020A};
inline constexpr HResult VM_E_VM_RUNNING{0xA004'0500};
inline constexpr HResult VM_E_HOST_DRIVE_NOT_FOUND{0xA004'067E};
inline constexpr HResult E_DISK_FULL{0x8007'0070};
inline constexpr HResult VM_E_PARENT_PATH_NOT_FOUND{0xA004'0677};
inline constexpr HResult VM_E_FILE_READ_ONLY{0xA004'067A};
inline constexpr HResult VM_E_WRONG_HD_IMAGE_TYPE{0xA004'067B};
inline constexpr HResult VM_E_HD_IMAGE_OPEN_FAIL{0xA004'067C};
inline constexpr HResult VM_E_HD_IMAGE_ACCESS{0xA004'0681};
inline constexpr HResult VM_E_INVALID_HD_FILE{0xA004'0682};
inline constexpr HResult VM_E_IMAGE_SIZE_TOO_LARGE{0xA004'0683};
inline constexpr HResult VM_E_IMAGE_SIZE_TOO_SMALL{0xA004'0684};
inline constexpr HResult VM_E_PARENT_CHILD_ID_MISMATCH{0xA004'0685};
inline constexpr HResult E_PATH_NOT_FOUND{0x8007'0003};
inline constexpr HResult E_BUFFER_OVERFLOW{0x8007'006F};
inline constexpr HResult E_INVALID_NAME{0x8007'007B};
inline constexpr HResult E_BAD_PATHNAME{0x8007'00A1};
inline constexpr HResult E_ALREADY_EXISTS{0x8007'00B7};
inline constexpr HResult VM_E_PREF_NOT_FOUND{0xA004'0300};
inline constexpr HResult VM_E_PREF_ILLEGAL_VALUE{0xA004'0301};
inline constexpr HResult VM_E_PREF_VM_ACTIVE{0xA004'0302};
inline constexpr HResult VM_E_PREF_UNLOADABLE_ACTIVATION{0xA004'0306};
inline constexpr HResult VM_E_CONFIG_NO_NAME{0xA004'0400};
inline constexpr HResult VM_E_CONFIG_NAME_TOO_LONG{0xA004'0401};
inline constexpr HResult VM_E_CONFIG_NAME_INVALID_CHAR{0xA004'0402};
inline constexpr HResult VM_E_CONFIG_DUPLICATE_NAME{0xA004'0403};
inline constexpr HResult VM_E_VM_NO_SAVED_STATE{0xA004'0501};
inline constexpr HResult VM_E_DRIVE_INVALID{0xA004'0502};
inline constexpr HResult VM_E_DRIVE_BUS_LOC_IN_USE{0xA004'0503};
inline constexpr HResult VM_E_ADDITIONS_FEATURE_NOT_AVAIL{0xA004'0505}; // no guest agent answered
inline constexpr HResult VM_E_VM_PAUSED{0xA004'0507};
inline constexpr HResult VM_E_NO_MEDIA_CAPTURED{0xA004'0652};
inline constexpr HResult VM_E_ADAPTER_NOT_FOUND{0xA004'0700};
inline constexpr HResult VM_E_INVALID_VIRTUAL_NETWORK_ID{0xA004'0702};
inline constexpr HResult VM_E_INVALID_IP_ADDRESS{0xA004'0704};
inline constexpr HResult VM_E_INVALID_NETWORK_ADDRESS{0xA004'0705};
inline constexpr HResult VM_E_INVALID_NETWORK_MASK{0xA004'0706};
inline constexpr HResult VM_E_INVALID_STARTING_ADDRESS{0xA004'0707};
inline constexpr HResult VM_E_INVALID_ENDING_ADDRESS{0xA004'0708};
inline constexpr HResult VM_E_INVALID_ADDRESS_RANGE{0xA004'0709};
inline constexpr HResult VM_E_CANT_SET_DYNAMIC_MAC_ADDRESS{0xA004'070A};
inline constexpr HResult VM_E_DRIVE_IN_USE{0xA004'0727};
inline constexpr HResult VM_E_MEDIA_WRONG_TYPE{0xA004'0728};
inline constexpr HResult E_SHARING_VIOLATION{0x8007'0020};
inline constexpr HResult VM_E_IMAGE_CAPTURE_FAIL{0xA004'0650};
inline constexpr HResult VM_E_HOST_FLOPPY_CAPTURE_FAIL{0xA004'0651};
// Security (IVMSecurity.AddEntry).
inline constexpr HResult VM_E_SECURITY_DUPLICATE_USER{0xA004'0900};
} // namespace hr

} // namespace vsa::services
