// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/storage/host_drive_link.h"

#include "services/storage/raw_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

namespace vsa::storage {

namespace {

bool has_vhd_extension(std::string const& path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return ext == ".vhd";
}

// The whole file when it may be a link: a .vhd, a regular file of at most
// HOST_DRIVE_LINK_MAX_BYTES. nullopt otherwise.
std::optional<std::string> small_vhd_text(std::string const& path) {
    if (!has_vhd_extension(path)) return std::nullopt;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat info {};
    std::optional<std::string> text;
    if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) &&
        std::uint64_t(info.st_size) <= HOST_DRIVE_LINK_MAX_BYTES) {
        std::array<char, HOST_DRIVE_LINK_MAX_BYTES> buffer{};
        ssize_t got = ::pread(fd, buffer.data(), buffer.size(), 0);
        if (got >= 0) text = std::string(buffer.data(), std::size_t(got));
    }
    ::close(fd);
    return text;
}

} // namespace

std::string host_drive_link_text(HostDriveLink const& link) {
    return std::string(HOST_DRIVE_LINK_MAGIC) + "device=" + link.device +
           "\nread_only=" + (link.read_only ? "true" : "false") + "\n";
}

StorageResult<HostDriveLink> parse_host_drive_link(std::string_view text) {
    if (!text.starts_with(HOST_DRIVE_LINK_MAGIC))
        return storage_error(StorageErrorKind::Corrupt, "not a host drive link");
    text.remove_prefix(HOST_DRIVE_LINK_MAGIC.size());
    HostDriveLink link;
    bool have_device = false;
    bool have_mode = false;
    while (!text.empty()) {
        auto end = text.find('\n');
        if (end == std::string_view::npos)
            return storage_error(StorageErrorKind::Corrupt, "host drive link: unterminated line");
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end + 1);
        if (line.starts_with("device=")) {
            std::string_view device = line.substr(7);
            bool ok = device.starts_with("/dev/") && device.size() > 5 && device.size() < 256 &&
                      device.find("..") == std::string_view::npos &&
                      std::all_of(device.begin(), device.end(),
                                  [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
            if (!ok || have_device)
                return storage_error(StorageErrorKind::Corrupt, "host drive link: bad device line");
            link.device = std::string(device);
            have_device = true;
        } else if (line == "read_only=true" || line == "read_only=false") {
            if (have_mode)
                return storage_error(StorageErrorKind::Corrupt, "host drive link: two read_only lines");
            link.read_only = line == "read_only=true";
            have_mode = true;
        } else {
            return storage_error(StorageErrorKind::Corrupt, "host drive link: unknown line");
        }
    }
    if (!have_device) return storage_error(StorageErrorKind::Corrupt, "host drive link: no device");
    return link;
}

bool is_host_drive_link(std::string const& path) {
    auto text = small_vhd_text(path);
    return text && text->starts_with(HOST_DRIVE_LINK_MAGIC);
}

StorageResult<HostDriveLink> read_host_drive_link(std::string const& path) {
    auto text = small_vhd_text(path);
    if (!text || !text->starts_with(HOST_DRIVE_LINK_MAGIC))
        return storage_error(StorageErrorKind::WrongType,
                             "'" + path + "' is not a host drive virtual hard disk");
    auto link = parse_host_drive_link(*text);
    if (link.is_error())
        return storage_error(StorageErrorKind::Corrupt, "'" + path + "': " + link.error().message);
    return link;
}

StorageResult<void> write_host_drive_link(std::string const& path, HostDriveLink const& link) {
    std::string const text = host_drive_link_text(link);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        int err = errno;
        return storage_error(err == EEXIST   ? StorageErrorKind::InvalidRequest
                             : err == ENOSPC ? StorageErrorKind::NoSpace
                                             : StorageErrorKind::Io,
                             "cannot create '" + path + "': " + std::strerror(err));
    }
    bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    if (!ok) {
        ::unlink(path.c_str());
        return storage_error(err == ENOSPC ? StorageErrorKind::NoSpace : StorageErrorKind::Io,
                             "cannot write '" + path + "': " + std::strerror(err));
    }
    return {};
}

namespace {

StorageResult<void> require_block_device(std::string const& device) {
    struct stat info {};
    if (::stat(device.c_str(), &info) != 0)
        return storage_error(StorageErrorKind::NotFound, "host drive " + device + " does not exist");
    if (!S_ISBLK(info.st_mode))
        return storage_error(StorageErrorKind::WrongType, device + " is not a block device");
    return {};
}

} // namespace

StorageResult<std::uint64_t> host_drive_size(std::string const& device) {
    TRY(require_block_device(device));
    int fd = ::open(device.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return storage_error(StorageErrorKind::Io, "cannot open " + device + ": " + std::strerror(errno));
    off_t end = ::lseek(fd, 0, SEEK_END);
    int err = errno;
    ::close(fd);
    if (end < 0)
        return storage_error(StorageErrorKind::Io, "cannot size " + device + ": " + std::strerror(err));
    return std::uint64_t(end);
}

StorageResult<std::unique_ptr<BlockDevice>> open_host_drive_link(std::string const& path, bool read_only) {
    HostDriveLink link = TRY(read_host_drive_link(path));
    auto checked = require_block_device(link.device);
    if (checked.is_error())
        return storage_error(checked.error().kind, "'" + path + "' links to " + checked.error().message);
    return std::unique_ptr<BlockDevice>(TRY(RawImage::open(link.device, read_only || link.read_only)));
}

} // namespace vsa::storage
