// SPDX-License-Identifier: GPL-2.0-or-later
#include "tests/hw/memory_block_device_support.h"

#include <algorithm>
#include <cstring>

namespace vsa::test {

using storage::StorageError;
using storage::StorageErrorKind;

MemoryBlockDevice::MemoryBlockDevice(std::uint64_t sectors, std::uint32_t sector_size, bool read_only)
    : m_sectors(sectors), m_sector_size(sector_size), m_read_only(read_only) {}

Result<void, StorageError> MemoryBlockDevice::read(std::uint64_t first_sector, std::span<std::byte> out) {
    TRY(check_request(first_sector, out.size(), false));
    ++m_reads;
    m_largest_read = std::max(m_largest_read, out.size());
    std::uint64_t count = out.size() / m_sector_size;
    if (first_sector + count > m_bad_from)
        return storage::storage_error(StorageErrorKind::Io, "injected read error");
    for (std::uint64_t i = 0; i < count; ++i) {
        auto it = m_data.find(first_sector + i);
        std::byte* dst = out.data() + i * m_sector_size;
        if (it == m_data.end())
            std::memset(dst, 0, m_sector_size);
        else
            std::memcpy(dst, it->second.data(), m_sector_size);
    }
    return {};
}

Result<void, StorageError> MemoryBlockDevice::write(std::uint64_t first_sector,
                                                    std::span<std::byte const> data) {
    TRY(check_request(first_sector, data.size(), true));
    ++m_writes;
    std::uint64_t count = data.size() / m_sector_size;
    if (first_sector + count > m_bad_from)
        return storage::storage_error(StorageErrorKind::Io, "injected write error");
    for (std::uint64_t i = 0; i < count; ++i) {
        auto& sector = m_data[first_sector + i];
        sector.resize(m_sector_size);
        std::memcpy(sector.data(), data.data() + i * m_sector_size, m_sector_size);
    }
    return {};
}

Result<void, StorageError> MemoryBlockDevice::flush() {
    ++m_flushes;
    if (m_fail_flush) return storage::storage_error(StorageErrorKind::Io, "injected flush error");
    return {};
}

std::vector<std::uint8_t> MemoryBlockDevice::sector(std::uint64_t lba) const {
    auto it = m_data.find(lba);
    return it == m_data.end() ? std::vector<std::uint8_t>(m_sector_size, 0) : it->second;
}

void MemoryBlockDevice::set_sector(std::uint64_t lba, std::vector<std::uint8_t> const& data) {
    auto& sector = m_data[lba];
    sector = data;
    sector.resize(m_sector_size);
}

std::vector<std::uint8_t> MemoryBlockDevice::pattern(std::uint64_t lba, std::uint8_t seed) {
    std::vector<std::uint8_t> data(512);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<std::uint8_t>((lba * 131 + i * 7 + seed + (lba >> 24)) & 0xFF);
    return data;
}

void MemoryBlockDevice::fill_pattern(std::uint64_t lba, std::uint8_t seed) {
    set_sector(lba, pattern(lba, seed));
}

} // namespace vsa::test
