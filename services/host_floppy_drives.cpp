// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/host_floppy_drives.h"

#include "services/host_optical_drives.h"

#include "services/model/dvd_drive.h"
#include "services/storage/raw_image.h"

#include <algorithm>
#include <system_error>

namespace vsa::services {

std::optional<std::string> normalize_floppy_drive_id(std::string_view letter) {
    if (letter.size() == 2 && letter[1] == ':') letter.remove_suffix(1);
    if (letter == "A" || letter == "a") return "fd0";
    if (letter == "B" || letter == "b") return "fd1";
    if (letter.starts_with("/dev/")) letter.remove_prefix(5);
    if (letter.size() == 3 && letter.starts_with("fd") && letter[2] >= '0' && letter[2] <= '7')
        return std::string(letter);
    return std::nullopt;
}

std::vector<std::string> host_floppy_drive_ids(std::filesystem::path const& root) {
    std::vector<std::string> ids;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(root / "sys/block", ec), end; !ec && it != end;
         it.increment(ec)) {
        auto name = it->path().filename().string();
        if (auto id = normalize_floppy_drive_id(name); id && *id == name) ids.push_back(name);
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

ServiceResult<std::string> find_host_floppy_drive(std::string_view letter,
                                                  std::filesystem::path const& root) {
    if (letter.empty()) return service_error(hr::E_INVALIDARG, "no host floppy drive letter given");
    auto id = normalize_floppy_drive_id(letter);
    if (!id)
        return service_error(hr::E_INVALIDARG, "\"" + std::string(letter.substr(0, 40)) +
                                                   "\" is not a floppy drive letter (A, B, fd0..fd7)");
    auto present = host_floppy_drive_ids(root);
    if (std::find(present.begin(), present.end(), *id) != present.end()) return *id;
    std::string have = "this host has no floppy drive at all";
    if (!present.empty()) {
        have = "this host's floppy drives:";
        for (auto const& drive : present)
            have += " " + drive;
    }
    return service_error(hr::VM_E_HOST_FLOPPY_CAPTURE_FAIL,
                         "host floppy drive " + *id + " (/dev/" + *id + ") does not exist; " + have);
}

HostFloppyDrives::HostFloppyDrives(std::filesystem::path root, std::vector<HostFloppyDrive> configured)
    : m_root(std::move(root)), m_configured(std::move(configured)) {}

std::vector<HostFloppyDrive> HostFloppyDrives::list() const {
    std::vector<HostFloppyDrive> drives;
    for (auto const& id : host_floppy_drive_ids(m_root)) {
        bool const replaced = std::any_of(m_configured.begin(), m_configured.end(),
                                          [&](HostFloppyDrive const& c) { return c.id == id; });
        if (!replaced) drives.push_back({id, std::filesystem::path("/dev") / id});
    }
    drives.insert(drives.end(), m_configured.begin(), m_configured.end());
    return drives;
}

std::vector<std::string> HostFloppyDrives::ids() const {
    std::vector<std::string> ids;
    for (auto const& drive : list())
        ids.push_back(drive.id);
    return ids;
}

ServiceResult<HostFloppyDrive> HostFloppyDrives::find(std::string_view letter) const {
    for (auto const& drive : m_configured)
        if (drive.id == letter) return drive;
    if (letter.empty()) return service_error(hr::E_INVALIDARG, "no host floppy drive letter given");
    auto id = normalize_floppy_drive_id(letter);
    if (!id)
        return service_error(hr::E_INVALIDARG, "\"" + std::string(letter.substr(0, 40)) +
                                                   "\" is not a floppy drive letter (A, B, fd0..fd7) or "
                                                   "a configured host floppy drive");
    auto const drives = list();
    for (auto const& drive : drives)
        if (drive.id == *id) return drive;
    std::string have = "this host has no floppy drive at all";
    if (!drives.empty()) {
        have = "this host's floppy drives:";
        for (auto const& drive : drives)
            have += " " + drive.id;
    }
    return service_error(hr::VM_E_HOST_FLOPPY_CAPTURE_FAIL,
                         "host floppy drive " + *id + " (/dev/" + *id + ") does not exist; " + have);
}

std::optional<std::string> HostFloppyDrives::media_signature(std::filesystem::path const& device) {
    auto media = probe_host_media(device);
    if (!media || !storage::is_floppy_image_size(media->size)) return std::nullopt;
    return media->signature;
}

std::optional<std::string> HostFloppyDrives::configuration_problem(HostFloppyDrive const& drive) {
    auto id = normalize_host_drive_id(drive.id);
    if (!id || *id != drive.id)
        return "\"" + drive.id +
               "\" is not a host drive id (1 to 32 of A-Z a-z 0-9 _ -; a drive letter upper-case)";
    if (!drive.device.is_absolute()) return "the host floppy drive " + drive.id + " needs an absolute path";
    return std::nullopt;
}

} // namespace vsa::services
