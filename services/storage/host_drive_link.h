// SPDX-License-Identifier: GPL-2.0-or-later
// A host drive virtual hard disk (IVMVirtualServer.CreateHostDriveVirtualHardDisk,
// Virtual Server's "linked" disk): a small .vhd file that names a host block
// device; a VM that has it attached reads and writes the device itself.
//
// Virtual Server's on-disk layout for these files was never published (the
// VHD specification defines fixed, dynamic and differencing disks only), so
// the file is ours: text, at most HOST_DRIVE_LINK_MAX_BYTES, that starts
// with HOST_DRIVE_LINK_MAGIC, then "device=/dev/NAME" and
// "read_only=true|false" lines. It has no VHD cookie, so a VHD tool refuses
// it rather than mistaking it for a disk.
//
// Only a ".vhd" file without a VHD footer or header is ever taken for a
// link, and only when it is this small: a guest can write the magic into
// its raw disk, but a raw disk is never a cookie-less .vhd of under 4 KiB
// (such a .vhd was an error before links existed), so no guest can make
// vsad or a worker open a host device. The device must be a block device
// when the link is opened.
#pragma once

#include "services/storage/block_device.h"

#include <memory>
#include <string>
#include <string_view>

namespace vsa::storage {

inline constexpr std::string_view HOST_DRIVE_LINK_MAGIC = "VSA-HOST-DRIVE-LINK 1\n";
inline constexpr std::uint64_t HOST_DRIVE_LINK_MAX_BYTES = 4096;

struct HostDriveLink {
    std::string device; // "/dev/sdb"
    bool read_only{false};
};

// The file's text, and the link a text holds (Corrupt when malformed).
std::string host_drive_link_text(HostDriveLink const& link);
StorageResult<HostDriveLink> parse_host_drive_link(std::string_view text);

// Whether `path` is a link file as above (false for anything else,
// including files that cannot be read).
bool is_host_drive_link(std::string const& path);
StorageResult<HostDriveLink> read_host_drive_link(std::string const& path);
// Creates the file (never over an existing one: an error then).
StorageResult<void> write_host_drive_link(std::string const& path, HostDriveLink const& link);

// The size in bytes of the block device at `device` (no lock is taken):
// NotFound when it is gone, WrongType when it is no block device.
StorageResult<std::uint64_t> host_drive_size(std::string const& device);

// The device as the disk: read-only when asked or when the link says so.
// NotFound when the device is gone, WrongType when it is no block device.
StorageResult<std::unique_ptr<BlockDevice>> open_host_drive_link(std::string const& path, bool read_only);

} // namespace vsa::storage
