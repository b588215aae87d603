// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/hard_disk.h"

#include "services/inventory.h"
#include "services/storage/host_drive_link.h"
#include "services/storage/host_file.h"
#include "services/storage/vhd_image.h"
#include "services/storage/vhd_relink.h"

#include <sys/stat.h>

namespace vsa::services {

namespace fs = std::filesystem;

ServiceResult<fs::path> resolve_hard_disk(Inventory const& inventory, std::string_view path) {
    if (path.empty() || !fs::path(path).is_absolute())
        return service_error(hr::E_BAD_PATHNAME, "a hard disk is named by the absolute path of its .vhd");
    auto resolved = TRY(inventory.path_policy().resolve(path));
    struct stat info {};
    if (::stat(resolved.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
        return service_error(hr::E_FILE_NOT_FOUND, "no virtual hard disk " + resolved.string());
    return resolved;
}

ServiceResult<HardDiskInfo> inspect_hard_disk(Inventory const& inventory, std::string_view path) {
    auto file = TRY(resolve_hard_disk(inventory, path));
    if (storage::is_host_drive_link(file.string())) {
        // A host drive disk: its size is the device's; on the host it is the
        // small link file (host_drive_link.h). Read without a lock, so a
        // running VM's worker holding the device is no conflict.
        HardDiskInfo info;
        info.file = file;
        info.type = HardDiskType::HostDrive;
        auto link = storage::read_host_drive_link(file.string());
        if (link.is_error()) return Err{link.error().to_service_error()};
        auto size = storage::host_drive_size(link.value().device);
        if (size.is_error())
            return service_error(hr::VM_E_HOST_DRIVE_NOT_FOUND,
                                 "'" + file.string() + "' links to host drive " + link.value().device + ": " +
                                     size.error().message);
        info.size_in_guest = size.value();
        std::error_code ec;
        info.size_on_host = fs::file_size(file, ec);
        return info;
    }
    auto inspected = storage::inspect_vhd(file.string());
    if (inspected.is_error()) {
        auto error = inspected.error().to_service_error();
        // Whatever makes it unreadable as a VHD, to the client it is no VHD.
        if (error.code == hr::E_FAIL) error.code = hr::VM_E_INVALID_HD_FILE;
        return Err{std::move(error)};
    }
    auto const& vhd = inspected.value();
    HardDiskInfo info;
    info.file = file;
    switch (vhd.type) {
    case storage::vhd::DiskType::Fixed:
        info.type = HardDiskType::FixedSize;
        break;
    case storage::vhd::DiskType::Differencing:
        info.type = HardDiskType::Differencing;
        break;
    default:
        info.type = HardDiskType::Dynamic;
        break;
    }
    info.size_in_guest = vhd.virtual_size;
    info.size_on_host = vhd.host_allocated_bytes;
    if (vhd.type == storage::vhd::DiskType::Differencing) info.parent = vhd.parent_path;
    return info;
}

ServiceResult<std::uint64_t> hard_disk_free_space(Inventory const& inventory, std::string_view path) {
    auto file = TRY(resolve_hard_disk(inventory, path));
    auto free = storage::free_space_for(file.string());
    if (free.is_error()) return Err{free.error().to_service_error()};
    return free.value();
}

namespace {

// `disk` and, through inspect_vhd, every parent below it.
bool chain_contains(fs::path const& top, fs::path const& disk) {
    fs::path current = top;
    for (int depth = 0; depth <= storage::MAX_PARENT_DEPTH && !current.empty(); ++depth) {
        std::error_code ec;
        if (fs::equivalent(current, disk, ec)) return true;
        auto info = storage::inspect_vhd(current.string());
        if (info.is_error() || info.value().type != storage::vhd::DiskType::Differencing) return false;
        current = info.value().parent_path;
    }
    return false;
}

} // namespace

std::optional<std::string> vm_using_disk(Inventory const& inventory, fs::path const& disk, bool saved_too) {
    for (auto const& vm : inventory.virtual_machines()) {
        if (vm.state() == VmState::TurnedOff || (vm.state() == VmState::Saved && !saved_too)) continue;
        for (auto const& connection : vm.hard_disk_connections()) {
            if (chain_contains(connection.disk_path(), disk)) return vm.name();
            if (!connection.undo_disk_path().empty() && chain_contains(connection.undo_disk_path(), disk))
                return vm.name();
        }
    }
    return std::nullopt;
}

ServiceResult<void> set_hard_disk_parent(Inventory const& inventory, std::string_view child,
                                         std::string_view parent) {
    auto child_file = TRY(resolve_hard_disk(inventory, child));
    auto parent_file = TRY(resolve_hard_disk(inventory, parent));
    for (auto const* disk : {&child_file, &parent_file})
        if (auto user = vm_using_disk(inventory, *disk, true))
            return service_error(hr::E_SHARING_VIOLATION, "'" + disk->string() +
                                                              "' is in use by virtual machine \"" + *user +
                                                              "\" (running or saved on it)");
    auto relinked = storage::relink_parent(child_file.string(), parent_file.string());
    if (relinked.has_value()) return Ok{};
    auto const& failure = relinked.error();
    auto error = failure.to_service_error();
    switch (failure.kind) {
    case storage::StorageErrorKind::Locked:
        error.code = hr::E_SHARING_VIOLATION; // another process holds the child (or the parent for writing)
        break;
    case storage::StorageErrorKind::NotFound:
        error.code = hr::E_FILE_NOT_FOUND;
        break;
    case storage::StorageErrorKind::Unsupported:
    case storage::StorageErrorKind::Io:
        error.code = hr::VM_E_HD_IMAGE_ACCESS;
        break;
    default:
        break;
    }
    return Err{std::move(error)};
}

} // namespace vsa::services
