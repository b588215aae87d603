// SPDX-License-Identifier: GPL-2.0-or-later
// The host floppy drives a VM's floppy drive may capture
// (IVMFloppyDrive.AttachHostDrive; IVMHostInfo.FloppyDrives lists them).
//
// Virtual Server captured a host floppy drive by its Windows letter. On
// Linux a floppy drive is the block device /dev/fd<N>, present in
// /sys/block when the host has the drive (its floppy driver found one); its
// id here is the device's name, "fd0". The letters map as DOS numbered the
// drives: "A" (or "A:") is fd0, "B" fd1; "/dev/fd0" is fd0 too. Most hosts
// today, and every virtual appliance host without an emulated floppy
// drive, have none: AttachHostDrive then fails with
// VM_E_HOST_FLOPPY_CAPTURE_FAIL saying so.
//
// Configuration only, as floppy images are: the worker does not get the
// floppy drive's media yet (README, "Running VMs").
#pragma once

#include "services/service_error.h"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services {

// "A", "a", "A:", "B", "fd<N>", "/dev/fd<N>" -> "fd0", "fd1", "fd<N>"
// (N 0-7); nullopt for anything else.
std::optional<std::string> normalize_floppy_drive_id(std::string_view letter);

// The ids of the host's floppy drives (sys/block/fd<N> under root), in
// order.
std::vector<std::string> host_floppy_drive_ids(std::filesystem::path const& root = "/");

// The id a client's drive letter names on this host: E_INVALIDARG for an
// empty or malformed letter, VM_E_HOST_FLOPPY_CAPTURE_FAIL (with the drives
// the host does have, if any) when the host has no such drive.
ServiceResult<std::string> find_host_floppy_drive(std::string_view letter,
                                                  std::filesystem::path const& root = "/");

} // namespace vsa::services
