// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/host_floppy_drives.h"

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

} // namespace vsa::services
