// SPDX-License-Identifier: GPL-2.0-or-later
// HostOpticalDrives: the host optical drives a VM's DVD drive may capture
// (IVMDVDDrive.AttachHostDrive, HostDriveLetter; IVMHostInfo.DVDDrives).
//
// Virtual Server captured a host drive by its Windows letter. On Linux a
// host optical drive is a block device, /dev/srN; its id here, the "drive
// letter" of the API, is the device's name ("sr0"). The table holds
//   - unless discovery is off, every CD-ROM device of the host: the sr<N>
//     entries of /sys/class/block whose SCSI peripheral type
//     (device/type) is 5 (CD/DVD), or that have no type file;
//   - the drives vsad's configuration names (dvd.host_drive.ID = PATH): a
//     device the discovery does not see (an USB drive under another name)
//     or an image file, which the tests use; a configured id replaces a
//     discovered one of the same name. A Windows drive letter ("D") is an
//     id too, so the drives of a .vmc from Virtual Server can be mapped.
// A client can only name an id from this table, never a path: a SOAP
// client must not make a worker open an arbitrary host device or file.
// The table is read afresh on each call (a drive may come and go).
//
// A drive is opened read-only by the worker, like an ISO image. A drive
// without a disc (a device of size 0, or one that cannot be opened) is an
// empty drive to the guest: has_media() is what vsad asks before it hands
// a worker the device, and media_signature() how it notices a disc change.
//
// Left out: exclusive capture. Virtual Server refused a drive another VM
// had captured (VM_E_DRIVE_IN_USE); read-only sharing is harmless here, so
// several VMs may capture one drive.
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services {

// What a host drive (or an image file standing in for one) holds now: its
// size in bytes and a signature that changes with the medium (size, inode
// and modification time of a file; the size of a block device). nullopt
// when it cannot be opened. Shared by the optical and floppy drive tables,
// which each decide which sizes are media.
struct ProbedMedia {
    std::uint64_t size{0};
    std::string signature;
};
std::optional<ProbedMedia> probe_host_media(std::filesystem::path const& device);

struct HostOpticalDrive {
    std::string id;               // "sr0"
    std::filesystem::path device; // "/dev/sr0", or a configured device or image file
    friend bool operator==(HostOpticalDrive const&, HostOpticalDrive const&) = default;
};

class HostOpticalDrives {
public:
    // root: where sys/ is read ("/" on a real host; tests use a fake tree).
    // The device paths of discovered drives are always /dev/<name>.
    explicit HostOpticalDrives(std::filesystem::path root = "/",
                               std::vector<HostOpticalDrive> configured = {}, bool discover = true);

    // Discovered drives in natural order (sr2 before sr10), then the
    // configured ones in the order given.
    std::vector<HostOpticalDrive> list() const;
    std::vector<std::string> ids() const;
    // E_INVALIDARG for an id that names no drive in the table (the code the
    // reference gives AttachHostDrive for an invalid drive letter).
    ServiceResult<HostOpticalDrive> find(std::string_view id) const;

    // Whether `device` holds something to read: it opens read-only and is
    // at least one 2048-byte sector long (a block device's size comes from
    // the kernel; a CD-ROM device without a disc has size 0 or refuses to
    // open). Never blocks on a tray.
    static bool has_media(std::filesystem::path const& device);
    // What has_media() saw, as a value that changes when the disc does:
    // nullopt without media, else the size (and for an image file its
    // inode and modification time). Compared over time, it tells vsad that
    // a disc was inserted, removed or swapped.
    static std::optional<std::string> media_signature(std::filesystem::path const& device);

    // Checks a configured entry: the id's form (normalize_host_drive_id, a
    // letter upper-case) and an absolute path. A message naming the
    // problem, or nullopt when fine.
    static std::optional<std::string> configuration_problem(HostOpticalDrive const& drive);

private:
    std::filesystem::path m_root;
    std::vector<HostOpticalDrive> m_configured;
    bool m_discover{true};
};

} // namespace vsa::services
