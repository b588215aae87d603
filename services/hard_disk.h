// SPDX-License-Identifier: GPL-2.0-or-later
// IVMHardDisk: a virtual hard disk image as the management model sees it -
// IVMVirtualServer.GetHardDisk, File, Type, SizeInGuest, SizeOnHost,
// Parent (vs-api.md, IVMHardDisk). A disk is named by the canonical path
// of its .vhd, which must lie inside the allowed roots (the default folders
// and the search paths, PathPolicy). Compact and Merge are tasks
// (VhdTasks::compact, VhdTasks::merge).
//
// "In use": a disk a VM that is on (not TurnedOff or Saved) has open - its
// hard disks, their undo disks and every parent in their chains. Compact
// and Merge refuse such a disk with E_SHARING_VIOLATION (the reference's
// code for a file another process has open); Merge also refuses while a
// Saved VM uses the parent, whose contents the merge changes under the
// saved state.
//
// set_hard_disk_parent (IVMHardDisk.Parent's setter) re-links a
// differencing disk to its parent at another path (storage::relink_parent
// says how the file changes and why a crash cannot break it).
//
// Host drive disks (Type 4) are link files (storage/host_drive_link.h):
// inspect_hard_disk reports the linked device's size.
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace vsa::services {

class Inventory;

// VMHardDiskType (vs-api.md section 4).
enum class HardDiskType : std::int32_t { Dynamic = 0, FixedSize = 1, Differencing = 2, HostDrive = 4 };

struct HardDiskInfo {
    std::filesystem::path file;
    HardDiskType type{HardDiskType::Dynamic};
    std::uint64_t size_in_guest{0}; // bytes the guest sees
    std::uint64_t size_on_host{0};  // bytes the file occupies (allocated blocks)
    std::filesystem::path parent;   // differencing disks: the parent opened; else empty
};

// The canonical path of an existing VHD at `path` (absolute, inside the
// allowed roots): E_BAD_PATHNAME, E_ACCESSDENIED, E_FILE_NOT_FOUND,
// VM_E_INVALID_HD_FILE for a file that is no VHD.
ServiceResult<std::filesystem::path> resolve_hard_disk(Inventory const& inventory, std::string_view path);
ServiceResult<HardDiskInfo> inspect_hard_disk(Inventory const& inventory, std::string_view path);

// IVMHardDisk.HostFreeDiskSpace: bytes an unprivileged writer may still
// use on the volume holding the disk at `path` (resolved as
// resolve_hard_disk does; statvfs of its folder).
ServiceResult<std::uint64_t> hard_disk_free_space(Inventory const& inventory, std::string_view path);

// The name of a VM that has `disk` open (running, paused or in
// transition), or with `saved_too` also one that is Saved; nullopt if none.
std::optional<std::string> vm_using_disk(Inventory const& inventory, std::filesystem::path const& disk,
                                         bool saved_too);

// IVMHardDisk.Parent's setter: `child` (a differencing disk) names `parent`
// from now on. Both are absolute paths inside the allowed roots, resolved
// as resolve_hard_disk does (E_BAD_PATHNAME, E_ACCESSDENIED,
// E_FILE_NOT_FOUND). E_SHARING_VIOLATION while a VM that is on or Saved uses
// either (a saved state was taken over the chain as it was; a running
// worker holds the child open), or another process has the child open;
// VM_E_WRONG_HD_IMAGE_TYPE when the child is not a differencing disk;
// VM_E_INVALID_HD_FILE for a damaged child or a parent that is no VHD;
// VM_E_PARENT_CHILD_ID_MISMATCH when the parent's unique ID is not the one
// the child was made from; E_INVALIDARG for a parent whose chain holds the
// child. The child is unchanged on every error.
ServiceResult<void> set_hard_disk_parent(Inventory const& inventory, std::string_view child,
                                         std::string_view parent);

} // namespace vsa::services
