// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/storage/block_device.h"

#include <string>

namespace vsa::storage {

BlockDevice::~BlockDevice() = default;

Result<void, StorageError> BlockDevice::check_request(std::uint64_t first_sector, std::size_t bytes,
                                                      bool for_write) const {
    if (for_write && read_only()) return storage_error(StorageErrorKind::ReadOnly, "the image is read-only");
    std::uint32_t const size = sector_size();
    if (size == 0 || bytes % size != 0)
        return storage_error(StorageErrorKind::InvalidRequest, "request of " + std::to_string(bytes) +
                                                                   " bytes is not a whole number of " +
                                                                   std::to_string(size) + "-byte sectors");
    std::uint64_t const count = bytes / size;
    std::uint64_t const total = sector_count();
    // Written so that first_sector + count cannot overflow.
    if (first_sector > total || count > total - first_sector)
        return storage_error(StorageErrorKind::InvalidRequest,
                             "request for sectors " + std::to_string(first_sector) + "+" +
                                 std::to_string(count) + " is outside the device (" + std::to_string(total) +
                                 " sectors)");
    return {};
}

} // namespace vsa::storage
