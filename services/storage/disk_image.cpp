// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/storage/disk_image.h"

#include "services/storage/host_drive_link.h"
#include "services/storage/host_file.h"
#include "services/storage/raw_image.h"
#include "services/storage/vhd_image.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>

namespace vsa::storage {

namespace {

bool has_cookie(HostFile const& file, std::uint64_t offset) {
    std::array<std::byte, 8> cookie{};
    return file.read_at(offset, cookie).has_value() && std::memcmp(cookie.data(), "conectix", 8) == 0;
}

std::string lower_extension(std::string const& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return ext;
}

} // namespace

std::string_view image_format_name(ImageFormat format) {
    switch (format) {
    case ImageFormat::Vhd:
        return "vhd";
    case ImageFormat::Raw:
        return "raw";
    case ImageFormat::Iso:
        return "iso";
    case ImageFormat::Floppy:
        return "floppy";
    case ImageFormat::HostDrive:
        return "host drive";
    }
    return "raw";
}

StorageResult<ImageFormat> detect_image_format(std::string const& path) {
    // Read-only and shared: detection must not conflict with a reader.
    HostFile file = TRY(HostFile::open(path, HostFile::Mode::ReadOnly));
    std::uint64_t const size = TRY(file.size());
    std::string const ext = lower_extension(path);
    if (size >= 512 && (has_cookie(file, size - 512) || (ext == ".vhd" && has_cookie(file, 0))))
        return ImageFormat::Vhd;
    if (ext == ".vhd" && size <= HOST_DRIVE_LINK_MAX_BYTES && is_host_drive_link(path))
        return ImageFormat::HostDrive;
    if (ext == ".vhd")
        return storage_error(StorageErrorKind::Corrupt, "'" + path + "' is not a valid VHD: no VHD footer");
    if (ext == ".iso") return ImageFormat::Iso;
    if (ext == ".vfd" || ext == ".flp") return ImageFormat::Floppy;
    return ImageFormat::Raw;
}

StorageResult<std::unique_ptr<BlockDevice>> open_disk_image(std::string const& path, bool read_only) {
    switch (TRY(detect_image_format(path))) {
    case ImageFormat::Vhd:
        return std::unique_ptr<BlockDevice>(TRY(VhdImage::open(path, read_only)));
    case ImageFormat::Iso:
        return std::unique_ptr<BlockDevice>(TRY(open_iso_image(path)));
    case ImageFormat::Floppy:
        return std::unique_ptr<BlockDevice>(TRY(open_floppy_image(path, read_only)));
    case ImageFormat::HostDrive:
        return open_host_drive_link(path, read_only);
    case ImageFormat::Raw:
        break;
    }
    return std::unique_ptr<BlockDevice>(TRY(RawImage::open(path, read_only)));
}

} // namespace vsa::storage
