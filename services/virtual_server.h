// SPDX-License-Identifier: GPL-2.0-or-later
// VirtualServer: the root object of the management model (IVMVirtualServer).
// It owns what is server-wide: identity (name, version, installation product
// ID), uptime, the per-VM limits of the hardware we emulate, and the host
// inventory. Later issues add the VM and network inventories here.
#pragma once

#include "services/host_info.h"
#include "services/service_error.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace vsa::services {

// Limits of the PC we emulate, exposed through IVMVirtualServer.Maximum*.
// They follow Virtual Server 2005 R2 (vs-api.md section 7.1), which is what
// management tools written for it expect.
struct VmLimits {
    static constexpr std::int32_t MAX_RUNNING_VMS = 64;
    // 32-bit guest without PAE: RAM ends below the PCI hole at 3.625 GiB.
    static constexpr std::int32_t MAX_MEMORY_MB = 3712;
    static constexpr std::int32_t MIN_MEMORY_MB = 4;
    static constexpr std::int32_t MAX_FLOPPY_DRIVES = 2;
    static constexpr std::int32_t MAX_NETWORK_ADAPTERS = 4;
    static constexpr std::int32_t MAX_IDE_BUSES = 2;
    static constexpr std::int32_t MAX_SCSI_CONTROLLERS = 4;
    static constexpr std::int32_t MAX_PARALLEL_PORTS = 1;
    static constexpr std::int32_t MAX_SERIAL_PORTS = 2;
    // RAM the host keeps for itself when we suggest a per-VM maximum.
    static constexpr std::int64_t HOST_RESERVE_MB = 512;
};

class VirtualServer {
public:
    struct Options {
        std::filesystem::path data_dir;
        std::filesystem::path host_root{"/"}; // tests point this at a fake /proc, /sys, /etc
    };

    // Loads (or on first start creates) the installation identity kept in
    // data_dir/server.id. Fails with a clear message, never later.
    static ServiceResult<std::unique_ptr<VirtualServer>> open(Options options);

    std::string name() const;
    std::string version() const;
    std::string const& product_id() const { return m_product_id; }
    std::int32_t uptime_seconds() const;
    std::uint32_t default_locale() const { return 1033; } // en-US: the only UI language we ship
    // Percent of host CPU not reserved by running VMs. No VM reserves
    // capacity yet, so all of it is available.
    double available_system_capacity() const { return 100.0; }
    std::int32_t suggested_maximum_memory_mb() const;

    HostProbe const& host() const { return m_host; }

private:
    VirtualServer(Options options, std::string product_id);

    Options m_options;
    std::string m_product_id;
    HostProbe m_host;
    std::chrono::steady_clock::time_point m_started;
};

} // namespace vsa::services
