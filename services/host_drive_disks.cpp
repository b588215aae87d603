// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/host_drive_disks.h"

#include "services/storage/host_drive_link.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace vsa::services {

namespace fs = std::filesystem;

namespace {

std::string quoted(fs::path const& path) {
    return "'" + path.string() + "'";
}

} // namespace

ServiceResult<HostDriveDisk> create_host_drive_disk(PathPolicy const& policy, HostProbe const& host,
                                                    std::string_view image_path, std::string_view drive_id,
                                                    bool mount_read_only) {
    fs::path const path = TRY(policy.resolve(image_path));
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (ext != ".vhd")
        return service_error(hr::E_INVALIDARG,
                             "a host drive virtual hard disk is a .vhd file, not " + quoted(path.filename()));
    TRY(host.host_drive_size_mb(drive_id)); // E_INVALIDARG, VM_E_HOST_DRIVE_NOT_FOUND
    bool const mounted = TRY(host.is_host_drive_mounted(drive_id));
    struct stat info {};
    if (::lstat(path.c_str(), &info) == 0)
        return service_error(hr::E_ALREADY_EXISTS, quoted(path) + " already exists");
    fs::path const folder = path.parent_path();
    fs::path created;
    if (::stat(folder.c_str(), &info) != 0) {
        std::error_code error;
        fs::create_directories(folder, error);
        if (error)
            return service_error(hr::E_PATH_NOT_FOUND,
                                 "cannot create " + quoted(folder) + ": " + error.message());
        created = folder;
    }
    HostDriveDisk disk{path, std::string(drive_id), mount_read_only || mounted};
    auto written = storage::write_host_drive_link(path.string(), {disk.device, disk.read_only});
    if (written.is_error()) {
        if (!created.empty()) ::rmdir(created.c_str());
        auto error = written.error().to_service_error();
        if (written.error().kind == storage::StorageErrorKind::InvalidRequest)
            error.code = hr::E_ALREADY_EXISTS;
        return Err{std::move(error)};
    }
    return disk;
}

ServiceResult<std::string> host_drive_identifier(fs::path const& disk) {
    if (!storage::is_host_drive_link(disk.string())) return std::string();
    auto link = storage::read_host_drive_link(disk.string());
    if (link.is_error()) return Err{link.error().to_service_error()};
    auto size = storage::host_drive_size(link.value().device);
    if (size.is_error())
        return service_error(hr::VM_E_HOST_DRIVE_NOT_FOUND, quoted(disk) + " links to host drive " +
                                                                link.value().device + ": " +
                                                                size.error().message);
    return link.value().device;
}

} // namespace vsa::services
