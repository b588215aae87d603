// SPDX-License-Identifier: GPL-2.0-or-later
// Host drive virtual hard disks: IVMVirtualServer.CreateHostDriveVirtualHardDisk
// and IVMHardDisk.HostDriveIdentifier. The file is a link to the host block
// device (storage/host_drive_link.h); a VM with the disk attached reads and
// writes the device itself (its worker opens it through open_disk_image).
//
// The drive is one of IVMHostInfo.HostDrives ("/dev/sdb"; HostProbe decides,
// including the devices an administrator names with harddisk.host_drive.ID
// keys). A drive the host has mounted (or uses for swap, LVM, RAID) is
// linked read-only whatever the client asked, as the reference says; so is
// one the client asks to mount read-only.
#pragma once

#include "services/host_info.h"
#include "services/path_policy.h"
#include "services/service_error.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace vsa::services {

struct HostDriveDisk {
    std::filesystem::path file;
    std::string device;
    bool read_only{false};
};

// Makes the link file: the path as the VHD creations check theirs
// (PathPolicy, absolute, ".vhd", E_ALREADY_EXISTS, its folder made when
// missing), the drive as HostProbe checks ids (E_INVALIDARG malformed,
// VM_E_HOST_DRIVE_NOT_FOUND unknown).
ServiceResult<HostDriveDisk> create_host_drive_disk(PathPolicy const& policy, HostProbe const& host,
                                                    std::string_view image_path, std::string_view drive_id,
                                                    bool mount_read_only);

// The device a host drive disk at `disk` (already resolved) links to; empty
// for any other disk (the reference's S_FALSE). VM_E_HOST_DRIVE_NOT_FOUND
// when the linked device is gone.
ServiceResult<std::string> host_drive_identifier(std::filesystem::path const& disk);

} // namespace vsa::services
