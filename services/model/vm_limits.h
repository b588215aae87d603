// SPDX-License-Identifier: GPL-2.0-or-later
// VmLimits: the hardware limits of the PC we emulate, shared by the server
// (IVMVirtualServer.Maximum*) and the configuration model's validation.
#pragma once

#include <cstdint>

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

} // namespace vsa::services
