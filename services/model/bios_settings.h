// SPDX-License-Identifier: GPL-2.0-or-later
// A VM's BIOS settings beside the SMBIOS strings: the order the BIOS tries
// the kinds of drive in, and Num Lock when the guest's operating system
// starts. Virtual Server kept them in its AMI BIOS's CMOS, changed in the
// BIOS setup screen; VSA's SeaBIOS has no setup screen, so they are .vmc
// keys that IVMVirtualMachine.GetConfigurationValue/SetConfigurationValue
// reach (while the VM is off, as every hardware/ key):
//   hardware/bios/boot_order  "disk,cdrom,floppy" (the default): each kind
//                             at most once; kinds left out follow in the
//                             default order
//   hardware/bios/num_lock    boolean, default false
// The worker gets them as vsa-vm --boot ORDER and --num-lock
// (hypervisor/machine/pc_machine.h: fw_cfg "bootorder", CMOS 3Dh and a
// Num Lock option ROM).
#pragma once

#include "services/service_error.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services {

enum class BootDevice : std::uint8_t { Disk, Cdrom, Floppy };

struct BiosSettings {
    std::vector<BootDevice> boot_order{BootDevice::Disk, BootDevice::Cdrom, BootDevice::Floppy};
    bool num_lock{false};
};

// "cdrom,floppy" -> {Cdrom, Floppy}: names disk, cdrom, floppy, separated
// by commas (spaces around them allowed); E_INVALIDARG naming the problem
// for an unknown or repeated name or an empty list.
ServiceResult<std::vector<BootDevice>> parse_boot_order(std::string_view text);
std::string format_boot_order(std::span<BootDevice const> order);

} // namespace vsa::services
