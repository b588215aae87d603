// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/storage/raw_image.h"

#include <array>

#include <unistd.h>

namespace vsa::storage {

StorageResult<std::unique_ptr<RawImage>> RawImage::open(std::string const& path, bool read_only,
                                                        std::uint32_t sector_size) {
    std::unique_ptr<RawImage> image(new RawImage);
    image->m_file =
        TRY(HostFile::open(path, read_only ? HostFile::Mode::ReadOnly : HostFile::Mode::ReadWrite));
    image->m_read_only = read_only;
    image->m_sector_size = sector_size;
    std::uint64_t const size = TRY(image->m_file.size());
    image->m_sector_count = (size + sector_size - 1) / sector_size;
    return image;
}

Result<void, StorageError> RawImage::create(std::string const& path, std::uint64_t size_bytes) {
    HostFile file = TRY(HostFile::open(path, HostFile::Mode::CreateNew));
    auto result = file.truncate(size_bytes);
    if (result.is_error()) ::unlink(path.c_str());
    return result;
}

Result<void, StorageError> RawImage::read(std::uint64_t first_sector, std::span<std::byte> out) {
    TRY(check_request(first_sector, out.size(), false));
    return m_file.read_at_padded(first_sector * m_sector_size, out);
}

Result<void, StorageError> RawImage::write(std::uint64_t first_sector, std::span<std::byte const> data) {
    TRY(check_request(first_sector, data.size(), true));
    return m_file.write_at(first_sector * m_sector_size, data);
}

Result<void, StorageError> RawImage::flush() {
    if (m_read_only) return {};
    return m_file.sync();
}

StorageResult<std::unique_ptr<RawImage>> open_iso_image(std::string const& path) {
    return RawImage::open(path, true, CD_SECTOR_SIZE);
}

namespace {
// 360 KB, 720 KB, 1.2 MB, 1.44 MB, DMF 1.68 MB, 2.88 MB.
constexpr std::array<std::uint64_t, 6> FLOPPY_SIZES{368'640,          737'280,   1'228'800,
                                                    FLOPPY_144_BYTES, 1'720'320, 2'949'120};
} // namespace

bool is_floppy_image_size(std::uint64_t bytes) {
    for (auto size : FLOPPY_SIZES)
        if (bytes == size) return true;
    return false;
}

StorageResult<std::unique_ptr<RawImage>> open_floppy_image(std::string const& path, bool read_only) {
    auto image = TRY(RawImage::open(path, read_only));
    if (!is_floppy_image_size(image->size_bytes()))
        return storage_error(StorageErrorKind::Corrupt,
                             "'" + path + "' is not a floppy image: " + std::to_string(image->size_bytes()) +
                                 " bytes (a 1.44 MB floppy is 1,474,560)");
    return image;
}

} // namespace vsa::storage
