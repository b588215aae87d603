// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/persist/atomic_file.h"

#include "hypervisor/base/file_descriptor.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace vsa::services {

namespace {

constexpr std::string_view TEMP_MARKER = ".tmp-";

ServiceResult<void> write_all(int fd, std::string_view data, std::filesystem::path const& path) {
    while (!data.empty()) {
        ssize_t written = ::write(fd, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            return errno_service_error("cannot write", path, errno);
        }
        data.remove_prefix(static_cast<std::size_t>(written));
    }
    return {};
}

} // namespace

ServiceError errno_service_error(std::string_view what, std::filesystem::path const& path, int error_number) {
    HResult code = hr::E_FAIL;
    switch (error_number) {
    case ENOENT:
        code = hr::E_FILE_NOT_FOUND;
        break;
    case ENOTDIR:
        code = hr::E_PATH_NOT_FOUND;
        break;
    case EACCES:
    case EPERM:
    case EROFS:
        code = hr::E_ACCESSDENIED;
        break;
    case ENOSPC:
    case EDQUOT:
        code = hr::E_DISK_FULL;
        break;
    case ENAMETOOLONG:
        code = hr::E_BUFFER_OVERFLOW;
        break;
    case EEXIST:
        code = hr::E_ALREADY_EXISTS;
        break;
    default:
        break;
    }
    return service_error(code, std::string(what) + " " + path.string() + ": " + std::strerror(error_number));
}

ServiceResult<void> sync_directory(std::filesystem::path const& folder) {
    FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.is_open()) return errno_service_error("cannot open folder", folder, errno);
    if (::fsync(fd.fd()) != 0) return errno_service_error("cannot sync folder", folder, errno);
    return {};
}

ServiceResult<void> write_file_atomically(std::filesystem::path const& path, std::string_view contents,
                                          AtomicWriteHooks const& hooks) {
    auto folder = path.parent_path();
    if (folder.empty()) folder = ".";
    auto name = path.filename().string();
    if (name.empty() || name == "." || name == "..")
        return service_error(hr::E_BAD_PATHNAME, "not a file name: " + path.string());

    // The mode of the file we replace survives the replacement.
    mode_t mode = 0640;
    struct stat existing {};
    if (::stat(path.c_str(), &existing) == 0) {
        if (!S_ISREG(existing.st_mode))
            return service_error(hr::E_ACCESSDENIED,
                                 "not a regular file, will not replace: " + path.string());
        mode = existing.st_mode & 07777;
    }

    auto pattern = (folder / ("." + name + std::string(TEMP_MARKER) + "XXXXXX")).string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    FileDescriptor fd(::mkostemp(buffer.data(), O_CLOEXEC));
    if (!fd.is_open()) return errno_service_error("cannot create a temporary file for", path, errno);
    std::filesystem::path temporary(buffer.data());

    auto fail = [&](ServiceError error) -> ServiceResult<void> {
        ::unlink(temporary.c_str());
        return error;
    };

    if (::fchmod(fd.fd(), mode) != 0)
        return fail(errno_service_error("cannot set the mode of", temporary, errno));
    if (auto written = write_all(fd.fd(), contents, temporary); written.is_error())
        return fail(written.release_error());
    if (::fsync(fd.fd()) != 0) return fail(errno_service_error("cannot sync", temporary, errno));
    if (fd.close() != 0) return fail(errno_service_error("cannot close", temporary, errno));
    if (hooks.before_rename) {
        if (auto hooked = hooks.before_rename(temporary); hooked.is_error())
            return fail(hooked.release_error());
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0)
        return fail(errno_service_error("cannot replace", path, errno));
    return sync_directory(folder);
}

ServiceResult<std::string> read_file_capped(std::filesystem::path const& path, std::size_t max_bytes) {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (!fd.is_open()) return errno_service_error("cannot open", path, errno);
    struct stat info {};
    if (::fstat(fd.fd(), &info) != 0) return errno_service_error("cannot inspect", path, errno);
    if (!S_ISREG(info.st_mode))
        return service_error(hr::E_INVALIDARG, "not a regular file: " + path.string());
    if (static_cast<std::uint64_t>(info.st_size) > max_bytes)
        return service_error(hr::E_INVALIDARG, path.string() + " is " + std::to_string(info.st_size) +
                                                   " bytes, more than the " + std::to_string(max_bytes) +
                                                   " bytes allowed for this kind of file");
    std::string data;
    data.resize(static_cast<std::size_t>(info.st_size));
    std::size_t filled = 0;
    // The file may grow while we read: read one byte past the cap at most.
    for (;;) {
        if (filled == data.size()) {
            if (data.size() > max_bytes) break;
            data.resize(std::min(max_bytes + 1, data.size() + 4096));
        }
        ssize_t got = ::read(fd.fd(), data.data() + filled, data.size() - filled);
        if (got < 0) {
            if (errno == EINTR) continue;
            return errno_service_error("cannot read", path, errno);
        }
        if (got == 0) break;
        filled += static_cast<std::size_t>(got);
    }
    data.resize(filled);
    if (data.size() > max_bytes)
        return service_error(hr::E_INVALIDARG, path.string() + " grew past the " + std::to_string(max_bytes) +
                                                   " bytes allowed while being read");
    return data;
}

std::size_t remove_stale_temporaries(std::filesystem::path const& folder) {
    std::size_t removed = 0;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(folder, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        auto name = it->path().filename().string();
        if (name.size() > 1 && name[0] == '.' && name.find(TEMP_MARKER) != std::string::npos &&
            it->is_regular_file(ec)) {
            if (std::filesystem::remove(it->path(), ec)) ++removed;
        }
    }
    return removed;
}

} // namespace vsa::services
