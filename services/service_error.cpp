// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/service_error.h"

namespace vsa::services {

bool ServiceError::is_client_error() const {
    switch (code.value) {
    case hr::E_FAIL.value:
    case hr::E_OUTOFMEMORY.value:
    case hr::E_NOTIMPL.value:
    case 0xA004'0202: // VM_E_TIMED_OUT
    case 0xA004'0203: // VM_E_OUT_OF_RESOURCE
    case 0xA004'0681: // VM_E_HD_IMAGE_ACCESS
    case 0x8007'0070: // E_DISK_FULL
        return false;
    default:
        return true;
    }
}

} // namespace vsa::services
