// SPDX-License-Identifier: GPL-2.0-or-later
// MemoryBlockDevice: a sparse in-memory storage::BlockDevice for the disk
// controller tests (only written sectors take memory, so a "4 TiB" disk
// exercises 48-bit addressing). It can be read-only and can be told to
// fail I/O from some sector on, or to fail flushes, to drive a
// controller's error paths.
#pragma once

#include "services/storage/block_device.h"

#include <cstdint>
#include <map>
#include <vector>

namespace vsa::test {

class MemoryBlockDevice final : public storage::BlockDevice {
public:
    explicit MemoryBlockDevice(std::uint64_t sectors, std::uint32_t sector_size = 512,
                               bool read_only = false);

    std::uint64_t sector_count() const override { return m_sectors; }
    std::uint32_t sector_size() const override { return m_sector_size; }
    bool read_only() const override { return m_read_only; }

    Result<void, storage::StorageError> read(std::uint64_t first_sector, std::span<std::byte> out) override;
    Result<void, storage::StorageError> write(std::uint64_t first_sector,
                                              std::span<std::byte const> data) override;
    Result<void, storage::StorageError> flush() override;

    // A copy of one sector (zeros if never written) / overwrite one.
    std::vector<std::uint8_t> sector(std::uint64_t lba) const;
    void set_sector(std::uint64_t lba, std::vector<std::uint8_t> const& data);
    // Fills `lba` with a pattern derived from the LBA and `seed`.
    void fill_pattern(std::uint64_t lba, std::uint8_t seed = 0);
    static std::vector<std::uint8_t> pattern(std::uint64_t lba, std::uint8_t seed = 0);

    // Fails I/O touching sectors >= `first_bad` (UINT64_MAX: none).
    void set_bad_from(std::uint64_t first_bad) { m_bad_from = first_bad; }
    void set_fail_flush(bool fail) { m_fail_flush = fail; }
    unsigned flushes() const { return m_flushes; }
    unsigned reads() const { return m_reads; }
    unsigned writes() const { return m_writes; }
    std::size_t largest_read() const { return m_largest_read; }

private:
    std::uint64_t m_sectors;
    std::uint32_t m_sector_size;
    bool m_read_only;
    std::map<std::uint64_t, std::vector<std::uint8_t>> m_data;
    std::uint64_t m_bad_from{UINT64_MAX};
    bool m_fail_flush{false};
    unsigned m_flushes{0};
    unsigned m_reads{0};
    unsigned m_writes{0};
    std::size_t m_largest_read{0};
};

} // namespace vsa::test
