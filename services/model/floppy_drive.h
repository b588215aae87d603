// SPDX-License-Identifier: GPL-2.0-or-later
// FloppyDrive: the floppy drive of a VM (IVMFloppyDrive). Virtual Server
// gives every VM its floppy drive (the API has no Add/RemoveFloppyDrive),
// and so do we: one drive, number 0. Media is an image file or a host
// drive letter (see DvdDrive).
#pragma once

#include "services/model/enums.h"
#include "services/service_error.h"

#include <optional>
#include <string>
#include <string_view>

namespace vsa::services {

class FloppyDrive {
public:
    explicit FloppyDrive(std::int32_t number = 0) : m_number(number) {}

    std::int32_t drive_number() const { return m_number; }
    FloppyAttachment attachment() const { return m_attachment; }
    std::string const& image_file() const { return m_image_file; }
    std::string const& host_drive_letter() const { return m_host_drive; }

    // Inserting an image into a drive that holds another swaps the disks, as
    // a person at a real drive would; a captured host drive must be released
    // first (VM_E_MEDIA_WRONG_TYPE).
    ServiceResult<void> attach_image(std::string path);
    ServiceResult<void> attach_host_drive(std::string_view letter);
    // VM_E_NO_MEDIA_CAPTURED when empty, VM_E_MEDIA_WRONG_TYPE for the
    // other kind of media.
    ServiceResult<void> release_image();
    ServiceResult<void> release_host_drive();

    friend bool operator==(FloppyDrive const&, FloppyDrive const&) = default;

private:
    std::int32_t m_number;
    FloppyAttachment m_attachment{FloppyAttachment::None};
    std::string m_image_file;
    std::string m_host_drive;
};

} // namespace vsa::services
