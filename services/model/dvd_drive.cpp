// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/dvd_drive.h"

#include "services/model/hard_disk_connection.h"

namespace vsa::services {

std::optional<std::string> normalize_drive_letter(std::string_view letter) {
    if (letter.size() == 2 && letter[1] == ':') letter.remove_suffix(1);
    if (letter.size() != 1) return std::nullopt;
    char c = letter[0];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c < 'A' || c > 'Z') return std::nullopt;
    return std::string(1, c);
}

std::optional<std::string> normalize_host_drive_id(std::string_view id) {
    if (auto letter = normalize_drive_letter(id)) return letter;
    if (id.empty() || id.size() > 32) return std::nullopt;
    for (char c : id) {
        bool const ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '_' || c == '-';
        if (!ok) return std::nullopt;
    }
    return std::string(id);
}

ServiceResult<void> DvdDrive::attach_image(std::string path) {
    TRY(validate_stored_path(path, "ISO image"));
    if (m_attachment != DvdAttachment::None)
        return service_error(hr::VM_E_DRIVE_IN_USE,
                             "the DVD drive at " + m_location.to_string() + " already holds " +
                                 (m_attachment == DvdAttachment::Image ? "the image " + m_image_file
                                                                       : "host drive " + m_host_drive) +
                                 "; release it first");
    m_attachment = DvdAttachment::Image;
    m_image_file = std::move(path);
    return {};
}

ServiceResult<void> DvdDrive::attach_host_drive(std::string_view id) {
    auto normalized = normalize_host_drive_id(id);
    if (!normalized)
        return service_error(hr::E_INVALIDARG, "\"" + std::string(id.substr(0, 40)) +
                                                   "\" is not a host drive id (see IVMHostInfo.DVDDrives)");
    if (m_attachment != DvdAttachment::None)
        return service_error(hr::VM_E_DRIVE_IN_USE, "the DVD drive at " + m_location.to_string() +
                                                        " already holds media; release it first");
    m_attachment = DvdAttachment::HostDrive;
    m_host_drive = *normalized;
    return {};
}

ServiceResult<void> DvdDrive::release_image() {
    if (m_attachment == DvdAttachment::HostDrive)
        return service_error(hr::VM_E_MEDIA_WRONG_TYPE, "the DVD drive at " + m_location.to_string() +
                                                            " holds host drive " + m_host_drive +
                                                            ", not an image");
    m_attachment = DvdAttachment::None;
    m_image_file.clear();
    return {};
}

ServiceResult<void> DvdDrive::release_host_drive() {
    if (m_attachment == DvdAttachment::Image)
        return service_error(hr::VM_E_MEDIA_WRONG_TYPE, "the DVD drive at " + m_location.to_string() +
                                                            " holds the image " + m_image_file +
                                                            ", not a host drive");
    m_attachment = DvdAttachment::None;
    m_host_drive.clear();
    return {};
}

} // namespace vsa::services
