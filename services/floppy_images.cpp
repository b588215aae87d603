// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/floppy_images.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace vsa::services {

namespace fs = std::filesystem;

// Not in hresult.h (every file includes it); the table names it.
constexpr HResult DISP_E_EXCEPTION{0x8002'0009};

namespace {

constexpr std::array<std::pair<std::uint64_t, FloppyImageType>, 7> SIZES{{
    {737'280, FloppyImageType::LowDensity},
    {1'474'560, FloppyImageType::HighDensity},
    {1'720'320, FloppyImageType::Dmf},
    {368'640, FloppyImageType::LowDensitySingleSided},
    {1'228'800, FloppyImageType::MediumDensity},
    {1'884'160, FloppyImageType::HighDensityMss},
    {2'949'120, FloppyImageType::Unknown}, // 2.88 MB: a floppy, but no enum value
}};

std::string quoted(fs::path const& path) {
    return "'" + path.string() + "'";
}

ServiceError errno_error(HResult code, std::string const& what, fs::path const& path, int err) {
    return {code, what + " " + quoted(path) + ": " + std::strerror(err)};
}

} // namespace

std::optional<FloppyImageType> floppy_image_type_for_size(std::uint64_t bytes) {
    for (auto const& [size, type] : SIZES)
        if (size == bytes) return type;
    return std::nullopt;
}

std::optional<std::uint64_t> creatable_floppy_image_size(std::int32_t type) {
    if (type == std::int32_t(FloppyImageType::LowDensity)) return 737'280;
    if (type == std::int32_t(FloppyImageType::HighDensity)) return 1'474'560;
    return std::nullopt;
}

ServiceResult<fs::path> create_floppy_image(PathPolicy const& policy, std::string_view image_path,
                                            std::int32_t type) {
    auto const bytes = creatable_floppy_image_size(type);
    if (!bytes)
        return service_error(
            hr::E_INVALIDARG,
            "only vmFloppyDiskImage_LowDensity (1, 720 KB) and vmFloppyDiskImage_HighDensity "
            "(2, 1.44 MB) images can be created, not type " +
                std::to_string(type));
    fs::path const path = TRY(policy.resolve(image_path));
    fs::path const folder = path.parent_path();
    fs::path created_folder;
    struct stat info {};
    if (::stat(folder.c_str(), &info) != 0) {
        // "The containing folder will be created if it does not exist."
        std::error_code error;
        fs::create_directories(folder, error);
        if (error)
            return service_error(hr::E_PATH_NOT_FOUND,
                                 "cannot create " + quoted(folder) + ": " + error.message());
        created_folder = folder;
    }
    auto drop_folder = [&] {
        if (!created_folder.empty()) ::rmdir(created_folder.c_str());
    };
    // O_EXCL: an existing file (or symlink) is never overwritten, even one
    // that appears between a check and the open.
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        int err = errno;
        drop_folder();
        if (err == EEXIST) return service_error(hr::E_ALREADY_EXISTS, quoted(path) + " already exists");
        if (err == ENOENT || err == ENOTDIR)
            return Err{errno_error(hr::E_PATH_NOT_FOUND, "cannot create", path, err)};
        if (err == ENOSPC || err == EDQUOT)
            return Err{errno_error(hr::E_DISK_FULL, "cannot create", path, err)};
        if (err == EACCES || err == EPERM || err == EROFS)
            return Err{errno_error(hr::E_ACCESSDENIED, "cannot create", path, err)};
        return Err{errno_error(hr::E_FAIL, "cannot create", path, err)};
    }
    int err = ::posix_fallocate(fd, 0, off_t(*bytes));
    if (err == EOPNOTSUPP || err == EINVAL) // a file system without it: zeros by size
        err = ::ftruncate(fd, off_t(*bytes)) == 0 ? 0 : errno;
    if (err == 0 && ::fsync(fd) != 0) err = errno;
    ::close(fd);
    if (err != 0) {
        ::unlink(path.c_str());
        drop_folder();
        return Err{errno_error(err == ENOSPC || err == EDQUOT ? hr::E_DISK_FULL : hr::E_FAIL,
                               "cannot fill the floppy image", path, err)};
    }
    return path;
}

ServiceResult<FloppyImageType> floppy_image_type(PathPolicy const& policy, std::string_view image_path) {
    fs::path const path = TRY(policy.resolve(image_path));
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        int err = errno;
        struct stat folder {};
        if (err == ENOENT && ::stat(path.parent_path().c_str(), &folder) == 0 && S_ISDIR(folder.st_mode))
            return service_error(hr::E_FILE_NOT_FOUND, "no floppy image " + quoted(path));
        if (err == ENOENT || err == ENOTDIR)
            return service_error(hr::E_PATH_NOT_FOUND, "no folder " + quoted(path.parent_path()));
        return Err{errno_error(hr::E_FAIL, "cannot read", path, err)};
    }
    if (!S_ISREG(info.st_mode))
        return service_error(DISP_E_EXCEPTION, quoted(path) + " is not a floppy image: not a regular file");
    auto type = floppy_image_type_for_size(std::uint64_t(info.st_size));
    if (!type)
        return service_error(DISP_E_EXCEPTION, quoted(path) +
                                                   " is not a floppy image: " + std::to_string(info.st_size) +
                                                   " bytes is no floppy size (a 1.44 MB image is 1,474,560)");
    return *type;
}

} // namespace vsa::services
