// SPDX-License-Identifier: GPL-2.0-or-later
// The HRESULT table: every Virtual Server specific code (shared/reference/vs-api.md section 5)
// and the standard Windows codes the reference names on member pages. Kept as data so the
// SOAP fault, the web UI and the logs all print the same name and text.
#include "services/hresult.h"

namespace vsa::services {

namespace {

constexpr HResultInfo TABLE[] = {
    {0x00000000u, "S_OK", "Success."},
    {0x00000001u, "S_FALSE", "Success; nothing to do or nothing found."},
    {0x80004001u, "E_NOTIMPL", "Not implemented."},
    {0x80004003u, "E_POINTER", "Invalid pointer (a required object reference is missing)."},
    {0x80004004u, "E_ABORT", "The operation was cancelled."},
    {0x80004005u, "E_FAIL", "Unspecified failure."},
    {0x80070005u, "E_ACCESSDENIED", "Access denied."},
    {0x8007000Eu, "E_OUTOFMEMORY", "Out of memory."},
    {0x80070057u, "E_INVALIDARG", "One or more arguments are invalid."},
    {0x80070002u, "E_FILE_NOT_FOUND", "The file was not found."},
    {0x80070003u, "E_PATH_NOT_FOUND", "The path was not found."},
    {0x80070020u, "E_SHARING_VIOLATION", "The file is in use."},
    {0x80070070u, "E_DISK_FULL", "The disk is full."},
    {0x8007006Fu, "E_BUFFER_OVERFLOW", "The name is too long."},
    {0x8007007Bu, "E_INVALID_NAME", "The name syntax is incorrect."},
    {0x800700A1u, "E_BAD_PATHNAME", "The path is invalid."},
    {0x800700B7u, "E_ALREADY_EXISTS", "The object already exists."},
    {0x80020008u, "DISP_E_BADVARTYPE", "Bad variant type."},
    {0x80020009u, "DISP_E_EXCEPTION", "Exception occurred."},
    {0x8002000Au, "DISP_E_OVERFLOW", "Value out of range."},
    {0x8002000Bu, "DISP_E_BADINDEX", "Index out of range."},
    {0xA0040202u, "VM_E_TIMED_OUT", "Operation exceeded its time limit."},
    {0xA0040203u, "VM_E_OUT_OF_RESOURCE", "Host lacks resources for the request."},
    {0xA0040204u, "VM_E_TOO_MANY_VMS", "Limit on concurrently started VMs reached."},
    {0xA0040206u, "VM_E_VM_NOT_RUNNING", "Operation requires a running VM."},
    {0xA0040207u, "VM_E_VM_UNKNOWN", "VM/configuration not found (stale or unknown object)."},
    {0xA0040208u, "VM_E_OUT_OF_RESERVE",
     "VM cannot start: its CPU reservation exceeds what the host has left."},
    {0xA0040209u, "VM_E_APP_SHUTTING_DOWN",
     "Service is stopping; new async work (start VM, create VHD...) refused."},
    {0xA004020Au, "VM_E_SCRIPT_ALREADY_EXISTS", "A script is already bound to that event."},
    {0xA0040300u, "VM_E_PREF_NOT_FOUND", "Configuration/preference key does not exist."},
    {0xA0040301u, "VM_E_PREF_ILLEGAL_VALUE", "Configuration/preference value not allowed."},
    {0xA0040302u, "VM_E_PREF_VM_ACTIVE", "Setting cannot change while the VM is running or saved."},
    {0xA0040303u, "VM_E_PREF_CONFIG_UPDATED_VM_ACTIVE",
     "Change stored but applies only after the next VM start (success-like, yet failure severity)."},
    {0xA0040306u, "VM_E_PREF_UNLOADABLE_ACTIVATION",
     "Activation data unreadable (saved-state file corrupt or missing)."},
    {0xA0040307u, "VM_E_PREF_SAVED_STATE_BAD_VERSION", "Saved state was written by an incompatible version."},
    {0xA0040308u, "VM_E_PREF_SAVED_STATE_ACCESS_DENIED", "Caller lacks rights on the saved-state file."},
    {0xA0040400u, "VM_E_CONFIG_NO_NAME", "No VM name supplied."},
    {0xA0040401u, "VM_E_CONFIG_NAME_TOO_LONG", "VM name longer than 256 characters."},
    {0xA0040402u, "VM_E_CONFIG_NAME_INVALID_CHAR", "VM name contains one of * ? : < > / | \\ \"."},
    {0xA0040403u, "VM_E_CONFIG_DUPLICATE_NAME", "A VM (or network) with that name already exists."},
    {0xA0040500u, "VM_E_VM_RUNNING",
     "Not allowed while the VM is running (or saved, for configuration changes)."},
    {0xA0040501u, "VM_E_VM_NO_SAVED_STATE", "No saved state to restore or discard."},
    {0xA0040502u, "VM_E_DRIVE_INVALID", "Drive object or bus location invalid."},
    {0xA0040503u, "VM_E_DRIVE_BUS_LOC_IN_USE", "Bus location already occupied."},
    {0xA0040504u, "VM_E_ADDITIONS_NOT_AVAIL", "Additions missing, or the VM has never been started."},
    {0xA0040505u, "VM_E_ADDITIONS_FEATURE_NOT_AVAIL",
     "Additions missing or that Additions feature disabled."},
    {0xA0040506u, "VM_E_FOLDER_NOT_SHARED",
     "Folder is not shared through Additions (folder sharing has no API here)."},
    {0xA0040507u, "VM_E_VM_PAUSED", "Guest command impossible while paused."},
    {0xA0040508u, "VM_E_MEDIA_UNMOUNT_FAIL", "Could not eject the media in the VM's DVD drive."},
    {0xA0040650u, "VM_E_IMAGE_CAPTURE_FAIL", "Floppy image could not be attached."},
    {0xA0040651u, "VM_E_HOST_FLOPPY_CAPTURE_FAIL", "Host floppy drive could not be captured."},
    {0xA0040652u, "VM_E_NO_MEDIA_CAPTURED",
     "Nothing is captured to release (page text duplicates IMAGE_CAPTURE_FAIL)."},
    {0xA0040677u, "VM_E_PARENT_PATH_NOT_FOUND", "Differencing disk's parent path invalid."},
    {0xA0040679u, "VM_E_FILE_TOO_LARGE_FOR_VOLUME", "File would exceed the host volume's maximum file size."},
    {0xA004067Au, "VM_E_FILE_READ_ONLY", "File must not be read-only."},
    {0xA004067Bu, "VM_E_WRONG_HD_IMAGE_TYPE", "Operation not valid for this VHD type."},
    {0xA004067Cu, "VM_E_HD_IMAGE_OPEN_FAIL", "VHD cannot be opened (missing or in use)."},
    {0xA004067Eu, "VM_E_HOST_DRIVE_NOT_FOUND", "Host drive behind a host-drive VHD no longer exists."},
    {0xA0040681u, "VM_E_HD_IMAGE_ACCESS", "Unspecified error accessing a VHD."},
    {0xA0040682u, "VM_E_INVALID_HD_FILE", "File is not a valid .vhd."},
    {0xA0040683u, "VM_E_IMAGE_SIZE_TOO_LARGE", "VHD size above 2,088,960 MB (FAT16 image: above 2,000 MB)."},
    {0xA0040684u, "VM_E_IMAGE_SIZE_TOO_SMALL",
     "VHD size below minimum (3 MB unformatted/FAT16, 514 MB FAT32)."},
    {0xA0040685u, "VM_E_PARENT_CHILD_ID_MISMATCH",
     "Differencing disk does not match the parent it was created from."},
    {0xA0040700u, "VM_E_ADAPTER_NOT_FOUND", "Named host Ethernet adapter does not exist."},
    {0xA0040701u, "VM_E_VIRTUAL_NETWORK_NAME_ALREADY_EXISTS", "Virtual network name already used."},
    {0xA0040702u, "VM_E_INVALID_VIRTUAL_NETWORK_ID", "No virtual network with that id."},
    {0xA0040703u, "VM_E_CANT_SET_ETHERNET_ADDRESS", "MAC cannot be set while the NIC uses a dynamic MAC."},
    {0xA0040704u, "VM_E_INVALID_IP_ADDRESS", "Malformed dotted IPv4 string."},
    {0xA0040705u, "VM_E_INVALID_NETWORK_ADDRESS", "Network address must be class A, B or C."},
    {0xA0040706u, "VM_E_INVALID_NETWORK_MASK", "Mask does not fit the address class."},
    {0xA0040707u, "VM_E_INVALID_STARTING_ADDRESS", "DHCP pool start out of range."},
    {0xA0040708u, "VM_E_INVALID_ENDING_ADDRESS", "DHCP pool end out of range."},
    {0xA0040709u, "VM_E_INVALID_ADDRESS_RANGE", "DHCP pool start not below pool end."},
    {0xA004070Au, "VM_E_CANT_SET_DYNAMIC_MAC_ADDRESS",
     "MAC is dynamic; clear IsEthernetAddressDynamic before setting it."},
    {0xA0040727u, "VM_E_DRIVE_IN_USE", "Requested host drive already in use."},
    {0xA0040728u, "VM_E_MEDIA_WRONG_TYPE",
     "Captured media is not the kind the call expects (image vs host drive)."},
    {0xA0040750u, "VM_E_NO_LICENSE", "No license available."},
    {0xA0040751u, "VM_E_INVALID_LICENSE", "Installed license invalid."},
    {0xA0040752u, "VM_E_INVALID_LICENSE_KEY", "License key invalid."},
    {0xA0040753u, "VM_E_INVALID_LICENSE_VALUE", "License value invalid."},
    {0xA0040754u, "VM_E_LICENSE_ACTIVE_VM_LIMIT", "Licensed number of running VMs reached."},
    {0xA0040755u, "VM_E_LICENSE_HOST_MEMORY_LIMIT", "Licensed host memory limit reached."},
    {0xA0040756u, "VM_E_LICENSE_VM_MEMORY_LIMIT", "Licensed per-VM memory limit reached."},
    {0xA0040757u, "VM_E_NOT_A_TRIAL_VERSION", "Trial-only call on a non-trial license."},
    {0xA0040758u, "VM_E_NON_ACTIVE_TRIAL", "Trial not started yet or expired."},
    {0xA0040800u, "VM_E_MOUSE_NOT_ACTIVE", "Guest has not initialised the mouse."},
    {0xA0040801u, "VM_E_USING_ABSOLUTE_COORDINATES", "Mouse is in absolute mode."},
    {0xA0040802u, "VM_E_USING_RELATIVE_COORDINATES", "Mouse is in relative mode."},
    {0xA0040825u, "VM_E_SET_EXCLUSIVE_MODE_FAIL",
     "Keyboard exclusive mode could not be taken/released (VM stopped or another holder)."},
    {0xA0040850u, "VM_E_NO_DISPLAY", "VM's video device not found."},
    {0xA0040900u, "VM_E_SECURITY_DUPLICATE_USER", "Account/group already has an entry of that type."},
};

} // namespace

std::span<HResultInfo const> hresult_table() {
    return TABLE;
}

HResultInfo const* find_hresult(HResult code) {
    for (auto const& info : TABLE)
        if (info.value == code.value) return &info;
    return nullptr;
}

} // namespace vsa::services
