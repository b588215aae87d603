// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: re-linking a differencing disk (IVMHardDisk.set_Parent) and
// captured host optical drives (IVMDVDDrive.HostDriveLetter,
// AttachHostDrive, ReleaseHostDrive). Adapters only: the rules live in
// services/hard_disk.h (set_hard_disk_parent), services/storage/
// vhd_relink.h (what happens to the file) and services/worker/vm_runtime.h
// with services/host_optical_drives.h (which drives exist, what a worker
// sees).
//
// References as in vs_service.cpp: a disk is its absolute .vhd path, a DVD
// drive "<vm ConfigID>/dvd/<bus>:<device>".
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/hard_disk.h"
#include "services/virtual_server.h"

#include <charconv>

namespace vsa::appliance {

using services::BusLocation;
using services::DriveBusType;
using services::Guid;
using services::ServiceError;
using services::ServiceResult;
namespace hr = services::hr;

namespace {

constexpr std::string_view DVD_MARK = "/dvd/";

ServiceError bad_dvd_reference(std::string_view ref) {
    return {hr::E_INVALIDARG,
            "_this is not an IVMDVDDrive reference (got '" + std::string(ref.substr(0, 64)) + "')"};
}

std::optional<std::int32_t> parse_int(std::string_view text) {
    std::int32_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// "<vm>/dvd/<bus>:<device>" -> the VM and the drive's IDE location.
ServiceResult<std::pair<Guid, BusLocation>> parse_dvd_ref(std::string_view ref) {
    auto mark = ref.find(DVD_MARK);
    if (mark == std::string_view::npos) return Err{bad_dvd_reference(ref)};
    auto vm = Guid::parse(ref.substr(0, mark));
    auto location = ref.substr(mark + DVD_MARK.size());
    auto colon = location.find(':');
    if (!vm || colon == std::string_view::npos) return Err{bad_dvd_reference(ref)};
    auto bus = parse_int(location.substr(0, colon));
    auto device = parse_int(location.substr(colon + 1));
    if (!bus || !device) return Err{bad_dvd_reference(ref)};
    return std::pair{*vm, BusLocation{DriveBusType::Ide, *bus, *device}};
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// --- IVMHardDisk: re-linking a differencing disk ----------------------------------

VSA_OP(IVMHardDisk_USCOREset_USCOREParent) {
    if (int rc = require_principal()) return rc;
    auto relinked = services::set_hard_disk_parent(inventory(), request->_USCOREthis, request->parent);
    if (relinked.is_error()) return fault(relinked.error());
    return SOAP_OK;
}

// --- IVMDVDDrive: host optical drives ---------------------------------------------

VSA_OP(IVMDVDDrive_USCOREget_USCOREHostDriveLetter) {
    if (int rc = require_principal()) return rc;
    auto letter = [&]() -> ServiceResult<std::string> {
        auto parsed = TRY(parse_dvd_ref(request->_USCOREthis));
        auto vm = inventory().virtual_machine(parsed.first);
        if (!vm)
            return Err{ServiceError{hr::VM_E_VM_UNKNOWN,
                                    "no registered virtual machine " + parsed.first.to_string()}};
        auto const* drive = TRY(vm->dvd_drive_at(parsed.second));
        // Empty (Virtual Server's S_FALSE) for an image or nothing, as
        // ImageFile is empty for a host drive.
        return drive->attachment() == services::DvdAttachment::HostDrive ? drive->host_drive_letter()
                                                                         : std::string();
    }();
    if (letter.is_error()) return fault(letter.error());
    response.returnval = letter.release_value();
    return SOAP_OK;
}

VSA_OP(IVMDVDDrive_USCOREAttachHostDrive) {
    if (int rc = require_principal()) return rc;
    auto attached = [&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_dvd_ref(request->_USCOREthis));
        // A running VM's drive changes first (VmRuntime::attach_dvd_host_drive).
        return runtime().attach_dvd_host_drive(parsed.first, parsed.second, request->driveLetter);
    }();
    if (attached.is_error()) return fault(attached.error());
    return SOAP_OK;
}

VSA_OP(IVMDVDDrive_USCOREReleaseHostDrive) {
    if (int rc = require_principal()) return rc;
    auto released = [&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_dvd_ref(request->_USCOREthis));
        return runtime().release_dvd_host_drive(parsed.first, parsed.second);
    }();
    if (released.is_error()) return fault(released.error());
    return SOAP_OK;
}

#undef VSA_OP

} // namespace vsa::appliance
