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
// An administrator adds drives of his own with floppy.host_drive.ID = PATH
// (HostFloppyDrives below): a device the discovery does not see (a USB
// floppy drive, /dev/sdX), a loop device, or a raw floppy image file, which
// the tests use. A configured id ("usbfloppy"; "A" or "fd0" replace the
// discovered drive of that name) is what AttachHostDrive takes; a client
// never names a path. IVMHostInfo.FloppyDrives lists the table's ids.
// The worker opens the drive's path as a raw floppy image (write-protected
// when the host cannot write it); a drive without a disk, or whose size is
// no floppy format, is an empty drive to the guest.
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

struct HostFloppyDrive {
    std::string id;               // "fd0", or a configured id
    std::filesystem::path device; // "/dev/fd0", or a configured device or image file
    friend bool operator==(HostFloppyDrive const&, HostFloppyDrive const&) = default;
};

// The host floppy drives a VM may capture: the discovered /dev/fd<N>
// (sys/block under root) and the configured ones; a configured id replaces
// a discovered one of the same name. Read afresh on each call.
class HostFloppyDrives {
public:
    explicit HostFloppyDrives(std::filesystem::path root = "/", std::vector<HostFloppyDrive> configured = {});

    // Discovered drives in order, then the configured ones as given.
    std::vector<HostFloppyDrive> list() const;
    std::vector<std::string> ids() const;
    // A configured id as given; else a letter, "fd<N>" or "/dev/fd<N>" of a
    // discovered drive. E_INVALIDARG for an empty or malformed letter,
    // VM_E_HOST_FLOPPY_CAPTURE_FAIL (naming the drives there are) for one
    // this host does not have.
    ServiceResult<HostFloppyDrive> find(std::string_view letter) const;

    // The device's size when it holds a disk of a PC floppy format (opened
    // read-only, never blocking); nullopt otherwise (no disk, no access,
    // another size). Changes with the disk: vsad compares it over time.
    static std::optional<std::string> media_signature(std::filesystem::path const& device);
    // Checks a configured entry: the id's form (normalize_host_drive_id; a
    // floppy letter or fd<N> as "fd<N>") and an absolute path. A message
    // naming the problem, or nullopt when fine.
    static std::optional<std::string> configuration_problem(HostFloppyDrive const& drive);

private:
    std::filesystem::path m_root;
    std::vector<HostFloppyDrive> m_configured;
};

} // namespace vsa::services
