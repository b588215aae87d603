// SPDX-License-Identifier: GPL-2.0-or-later
// Flat images: a raw hard disk (.img, any size), an ISO 9660 CD/DVD image
// (read-only, 2048-byte sectors, what the ATAPI device reads) and a floppy
// image (.vfd/.flp: raw, but only the sizes a PC floppy drive formats).
//
// A file whose size is not a whole number of sectors shows its last partial
// sector padded with zeros; writing that sector extends the file to the
// whole sector.
#pragma once

#include "services/storage/block_device.h"
#include "services/storage/host_file.h"

#include <memory>
#include <string>

namespace vsa::storage {

inline constexpr std::uint32_t CD_SECTOR_SIZE = 2048;

class RawImage final : public BlockDevice {
public:
    static StorageResult<std::unique_ptr<RawImage>> open(std::string const& path, bool read_only,
                                                         std::uint32_t sector_size = 512);
    // A new raw image of size_bytes (sparse zeros).
    static Result<void, StorageError> create(std::string const& path, std::uint64_t size_bytes);

    std::uint64_t sector_count() const override { return m_sector_count; }
    std::uint32_t sector_size() const override { return m_sector_size; }
    bool read_only() const override { return m_read_only; }
    Result<void, StorageError> read(std::uint64_t first_sector, std::span<std::byte> out) override;
    Result<void, StorageError> write(std::uint64_t first_sector, std::span<std::byte const> data) override;
    Result<void, StorageError> flush() override;

    std::string const& path() const { return m_file.path(); }

private:
    RawImage() = default;

    HostFile m_file;
    std::uint32_t m_sector_size{512};
    std::uint64_t m_sector_count{0};
    bool m_read_only{true};
};

// ISO images are always read-only.
StorageResult<std::unique_ptr<RawImage>> open_iso_image(std::string const& path);

// The floppy sizes Virtual Server's drive accepts: 360 KB, 720 KB, 1.2 MB,
// 1.44 MB, DMF 1.68 MB and 2.88 MB. Anything else is VM_E_INVALID_HD_FILE.
bool is_floppy_image_size(std::uint64_t bytes);
inline constexpr std::uint64_t FLOPPY_144_BYTES = 1'474'560;
StorageResult<std::unique_ptr<RawImage>> open_floppy_image(std::string const& path, bool read_only);

} // namespace vsa::storage
