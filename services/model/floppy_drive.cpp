// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/floppy_drive.h"

#include "services/model/dvd_drive.h"
#include "services/model/hard_disk_connection.h"

namespace vsa::services {

ServiceResult<void> FloppyDrive::attach_image(std::string path) {
    TRY(validate_stored_path(path, "floppy image"));
    if (m_attachment == FloppyAttachment::HostDrive)
        return service_error(hr::VM_E_MEDIA_WRONG_TYPE,
                             "the floppy drive holds host drive " + m_host_drive + "; release it first");
    m_attachment = FloppyAttachment::Image;
    m_image_file = std::move(path);
    return {};
}

ServiceResult<void> FloppyDrive::attach_host_drive(std::string_view letter) {
    // A host drive id ("fd0", host_floppy_drives.h) or, from a Virtual
    // Server .vmc, a letter.
    auto normalized = normalize_host_drive_id(letter);
    if (!normalized)
        return service_error(hr::E_INVALIDARG,
                             "\"" + std::string(letter.substr(0, 16)) + "\" is not a host drive id");
    if (m_attachment == FloppyAttachment::Image)
        return service_error(hr::VM_E_MEDIA_WRONG_TYPE,
                             "the floppy drive holds the image " + m_image_file + "; release it first");
    m_attachment = FloppyAttachment::HostDrive;
    m_host_drive = *normalized;
    return {};
}

ServiceResult<void> FloppyDrive::release_image() {
    if (m_attachment == FloppyAttachment::None)
        return service_error(hr::VM_E_NO_MEDIA_CAPTURED, "the floppy drive is empty");
    if (m_attachment == FloppyAttachment::HostDrive)
        return service_error(hr::VM_E_MEDIA_WRONG_TYPE, "the floppy drive holds a host drive, not an image");
    m_attachment = FloppyAttachment::None;
    m_image_file.clear();
    return {};
}

ServiceResult<void> FloppyDrive::release_host_drive() {
    if (m_attachment == FloppyAttachment::None)
        return service_error(hr::VM_E_NO_MEDIA_CAPTURED, "the floppy drive is empty");
    if (m_attachment == FloppyAttachment::Image)
        return service_error(hr::VM_E_MEDIA_WRONG_TYPE, "the floppy drive holds an image, not a host drive");
    m_attachment = FloppyAttachment::None;
    m_host_drive.clear();
    return {};
}

} // namespace vsa::services
