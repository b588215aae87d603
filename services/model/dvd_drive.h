// SPDX-License-Identifier: GPL-2.0-or-later
// DvdDrive: an IDE CD/DVD-ROM drive of one VM (IVMDVDDrive) and what it
// holds: nothing, an ISO image, or a captured host drive.
//
// Virtual Server named host drives by their Windows drive letter
// (AttachHostDrive("D")). Here the "letter" is the id of a host optical
// drive ("sr0", or an id vsad's configuration defines); which device an id
// stands for is HostOpticalDrives' business (host_optical_drives.h), looked
// up when the VM starts, not the configuration's. The model only checks an
// id's form; a .vmc from Virtual Server keeps its letter ("D").
#pragma once

#include "services/model/bus_location.h"

#include <optional>
#include <string>
#include <string_view>

namespace vsa::services {

class DvdDrive {
public:
    explicit DvdDrive(BusLocation location) : m_location(location) {}

    BusLocation const& location() const { return m_location; }
    DvdAttachment attachment() const { return m_attachment; }
    std::string const& image_file() const { return m_image_file; }
    std::string const& host_drive_letter() const { return m_host_drive; }

    // VM_E_DRIVE_IN_USE when an image or host drive is already attached
    // (release it first, as in Virtual Server).
    ServiceResult<void> attach_image(std::string path);
    // E_INVALIDARG unless `id` is a host drive id (normalize_host_drive_id).
    ServiceResult<void> attach_host_drive(std::string_view id);
    // VM_E_MEDIA_WRONG_TYPE when a host drive, not an image, is attached.
    ServiceResult<void> release_image();
    // VM_E_MEDIA_WRONG_TYPE when an image, not a host drive, is attached.
    ServiceResult<void> release_host_drive();

    void set_location(BusLocation location) { m_location = location; }

    friend bool operator==(DvdDrive const&, DvdDrive const&) = default;

private:
    BusLocation m_location;
    DvdAttachment m_attachment{DvdAttachment::None};
    std::string m_image_file;
    std::string m_host_drive;
};

// "D", "d" or "D:" -> "D"; nullopt for anything else.
std::optional<std::string> normalize_drive_letter(std::string_view letter);
// A host optical drive id: a Windows drive letter as normalize_drive_letter
// has it, or 1 to 32 of A-Z a-z 0-9 _ - ("sr0", "sr10", "usb-dvd"); nullopt
// for anything else (no path can pass for an id).
std::optional<std::string> normalize_host_drive_id(std::string_view id);

} // namespace vsa::services
