// SPDX-License-Identifier: GPL-2.0-or-later
// BlockDevice: the narrow interface the disk controllers (IDE, ATAPI,
// floppy) use to reach an image, whatever its format. Addresses are in
// sectors of sector_size() bytes; a request must be a whole number of
// sectors inside the device, or it fails with InvalidRequest: a guest can
// program any LBA and count, so range checks live here, once, not in every
// backend and controller.
//
// The interface is synchronous today: the VM thread blocks on the host I/O.
// FIXME: an async backend (io_uring or a worker thread) fits behind a second
// interface, `submit(Request, completion)`, whose default implementation
// calls these methods and completes at once; controllers would move to that
// when they raise their IRQ from the completion instead of inline.
#pragma once

#include "services/storage/storage_error.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace vsa::storage {

class BlockDevice {
public:
    virtual ~BlockDevice();

    virtual std::uint64_t sector_count() const = 0;
    virtual std::uint32_t sector_size() const = 0;
    virtual bool read_only() const = 0;

    // out.size() must be a multiple of sector_size(), and the range must lie
    // inside the device.
    virtual Result<void, StorageError> read(std::uint64_t first_sector, std::span<std::byte> out) = 0;
    virtual Result<void, StorageError> write(std::uint64_t first_sector, std::span<std::byte const> data) = 0;
    // Makes every completed write durable on the host (fsync).
    virtual Result<void, StorageError> flush() = 0;

    std::uint64_t size_bytes() const { return sector_count() * sector_size(); }

protected:
    // The common argument check; backends call it first. Overflow-safe.
    Result<void, StorageError> check_request(std::uint64_t first_sector, std::size_t bytes,
                                             bool for_write) const;
};

} // namespace vsa::storage
