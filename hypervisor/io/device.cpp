// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/io/device.h"

namespace vsa {

u32 Device::io_read(u16, Width width) {
    count_ignored();
    return width_mask(width);
}

void Device::io_write(u16, Width, u32) {
    count_ignored();
}

u32 Device::mmio_read(u64, Width width) {
    count_ignored();
    return width_mask(width);
}

void Device::mmio_write(u64, Width, u32) {
    count_ignored();
}

} // namespace vsa
