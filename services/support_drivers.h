// SPDX-License-Identifier: GPL-2.0-or-later
// IVMVirtualServer.SupportDrivers: the host kernel drivers Virtual Server
// relies on. Virtual Server listed its own Windows drivers (the VMM driver
// and the virtual network service); on this appliance the kernel's modules
// play those parts, so those are what is listed:
//   VirtualMachineMonitor  kvm, kvm_intel, kvm_amd: the kernel's VMM, for
//                          a KVM CPU backend (vsa-vm interprets today, so
//                          it runs without them; the text says so)
//   NetworkServices        tun (TAP devices, a virtual network's port on
//                          the host) and bridge (the host bridges they join)
// Other modules vsad can use (loop, sr_mod, floppy) are neither kind and
// are not listed.
//
// A module is listed when this host has it: loaded or built in (its
// /sys/module directory, or the device it makes, /dev/kvm or
// /sys/class/misc/tun), or installed (lib/modules/<release>/modules.dep,
// modules.builtin). One the host lacks (kvm_amd on an Intel host, a
// kernel built without it) is left out rather than listed as broken: the
// reference has no "missing" state for a driver.
//
// The fields are read from plain files, not through libkmod: libkmod reads
// the same lib/modules files and would add nothing for built-in modules or
// hosts without lib/modules (microVM kernels), which are the common cases
// here. Description and author come from modules.builtin.modinfo when the
// host has it; a loadable module's .ko (often compressed) is not parsed, so
// its description is vsad's own text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services {

enum class SupportDriverType : std::int32_t { Invalid = -1, VirtualMachineMonitor = 0, NetworkServices = 1 };

struct SupportDriver {
    std::string module; // "kvm"
    SupportDriverType type{SupportDriverType::Invalid};
    std::string date; // YYYY-MM-DD of the module file; empty if unknown
    std::string description;
    std::string manufacturer;
    std::string provider;
    std::string version;
};

// The support drivers of the host whose file system is at `root`, running
// kernel `release` (empty: uname's), in the order above.
std::vector<SupportDriver> support_drivers(std::filesystem::path const& root = "/", std::string release = {});

// "6.1.0-18-amd64" -> "6.1.0.0": the release's first numbers as w.x.y.z.
std::string kernel_version_quad(std::string_view release);

} // namespace vsa::services
