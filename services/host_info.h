// SPDX-License-Identifier: GPL-2.0-or-later
// IVMHostInfo: the read-only inventory of the host (shared/reference/vs-api.md, section
// "IVMHostInfo"), taken from a Linux host's procfs, sysfs and os-release.
//
// Everything is read below a root directory so the tests can point the probe at a fake tree
// and check each parser against fixed text. Every file is untrusted: it may be missing,
// truncated or garbage, and then the field is simply empty or zero. Reading never throws.
//
// Left out on purpose: UTCTime is a clock rather than inventory, and the *String twins
// (MemoryTotalString, ProcessorSpeedString, ...) are formatting, which belongs in the SOAP
// adapter. Where Windows reports drive letters we report device nodes ("/dev/sr0").
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// From <ifaddrs.h>; declared here so that callers need not pull in POSIX network headers.
struct ifaddrs;

namespace vsa::services {

struct HostInfo {
    std::vector<std::string> dvd_drives;    // "/dev/sr0", from sys/block/sr*
    std::vector<std::string> floppy_drives; // "/dev/fd0", from sys/block/fd*
    // Whole disks usable for pass-through (sd*, vd*, hd*, xvd*, nvme*n*, mmcblk*), never
    // loop, ram, zram, dm, sr or fd devices.
    std::vector<std::string> host_drives;
    std::int32_t logical_processor_count{0};  // online logical CPUs
    std::int32_t physical_processor_count{0}; // distinct cpuinfo "physical id"s (1 if none listed)
    std::uint64_t memory_mb{0};               // MemTotal / 1024
    std::uint64_t memory_avail_mb{0};         // MemAvailable / 1024, never above memory_mb
    bool mmx{false};
    bool sse{false};
    bool sse2{false};
    bool three_d_now{false};
    // "NAT" first, then network_bridges, then the other sys/class/net
    // entries but "lo" (virtual_network.h: what a host adapter may be).
    std::vector<std::string> network_adapters;
    std::vector<std::string> network_bridges;   // the Linux bridges among them (sys/class/net/X/bridge)
    std::vector<std::string> network_addresses; // IPv4 (not 127/8), then IPv6 (not ::1, not fe80::/10)
    std::string operating_system;               // os-release PRETTY_NAME, else the kernel's sysname
    std::int32_t os_major_version{0};           // kernel release "6.1.0-21-amd64" -> 6
    std::int32_t os_minor_version{0};           // -> 1
    std::string os_service_pack;                // -> "21-amd64"
    std::string os_version;                     // "Linux 6.1.0-21-amd64 #1 SMP PREEMPT_DYNAMIC ..."
    std::string parallel_port;                  // "/dev/parport0" or ""
    std::string processor_features;             // cpuinfo flags, comma-separated
    std::string processor_manufacturer;         // vendor_id, "GenuineIntel"
    std::int32_t processor_speed_mhz{0};        // cpufreq maximum, else cpuinfo "cpu MHz" rounded
    std::string processor_version;              // "model name"
    std::string serial_ports;                   // "/dev/ttyS0;/dev/ttyS1": only UARTs that exist

    friend bool operator==(HostInfo const&, HostInfo const&) = default;
};

struct KernelRelease {
    std::int32_t major{0};
    std::int32_t minor{0};
    std::int32_t patch{0};
    std::string service_pack; // what follows major.minor.patch, without its leading '-' or '.'
};

// "6.1.0-21-amd64" -> {6, 1, 0, "21-amd64"}. Anything that does not start with a number that
// fits an int32 gives {0, 0, 0, ""}.
KernelRelease parse_kernel_release(std::string_view release);

// NetworkAddresses from a getifaddrs() list: IPv4 addresses first, then IPv6, each in list
// order without duplicates; loopback, unspecified and IPv6 link-local addresses are dropped
// because no remote client can reach the host through them.
std::vector<std::string> interface_addresses(ifaddrs const* list);

class HostProbe {
public:
    // root: prefix under which proc/, sys/ and etc/ are read ("/" on a real host). Addresses
    // come from getifaddrs() only when root is "/": a fake root has none.
    explicit HostProbe(std::filesystem::path root = "/");
    // For fake hosts: NetworkAddresses is exactly `addresses`, whatever the root.
    HostProbe(std::filesystem::path root, std::vector<std::string> addresses);

    // Extra host drives an administrator names (harddisk.host_drive.ID keys:
    // "/dev/loop0", any block device the name rules below leave out). Each
    // is listed in HostDrives and accepted as a drive id while its
    // sys/block entry exists.
    void set_configured_drives(std::vector<std::string> device_paths) {
        m_configured = std::move(device_paths);
    }

    // A fresh snapshot on every call; never throws.
    HostInfo read() const;

    // IVMHostInfo.GetHostDriveSize: the size in MB (rounded down) of a host drive from
    // host_drives ("/dev/sda"). A malformed id is E_INVALIDARG; a well-formed id that is not a
    // host drive is VM_E_HOST_DRIVE_NOT_FOUND.
    ServiceResult<std::int32_t> host_drive_size_mb(std::string_view drive_id) const;

    // IVMHostInfo.IsHostDriveMounted: whether the host uses the disk or one of its partitions,
    // as a mount, as active swap or underneath another block device (LVM, RAID, dm-crypt).
    // Errors as for host_drive_size_mb.
    ServiceResult<bool> is_host_drive_mounted(std::string_view drive_id) const;

private:
    ServiceResult<std::string> find_host_drive(std::string_view drive_id) const;

    std::filesystem::path m_root;
    bool m_is_real_root{false};
    std::optional<std::vector<std::string>> m_addresses;
    std::vector<std::string> m_configured;
};

} // namespace vsa::services
