// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/storage/host_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace vsa::storage {

StorageResult<HostFile> HostFile::open(std::string const& path, Mode mode) {
    // O_NONBLOCK: a path from an untrusted image (a parent locator) may name
    // a FIFO, and a blocking open() of one never returns. Cleared below once
    // we know it is a regular file or a disk.
    int flags = O_CLOEXEC | O_NONBLOCK;
    switch (mode) {
    case Mode::ReadOnly:
    case Mode::Inspect:
        flags |= O_RDONLY;
        break;
    case Mode::ReadWrite:
        flags |= O_RDWR;
        break;
    case Mode::CreateNew:
        flags |= O_RDWR | O_CREAT | O_EXCL;
        break;
    }
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) {
        int error = errno;
        if (error == EEXIST)
            return storage_error(StorageErrorKind::InvalidRequest, "'" + path + "' already exists");
        return errno_error("cannot open", path, error);
    }
    HostFile file(fd, path);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return errno_error("cannot stat", path, errno);
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return storage_error(StorageErrorKind::InvalidRequest,
                             "'" + path + "' is not a regular file or block device");
    if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        return errno_error("cannot open", path, errno);

    if (mode == Mode::Inspect) return file;
    struct flock lock {};
    lock.l_type = mode == Mode::ReadOnly ? F_RDLCK : F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0;
    lock.l_len = 0; // the whole file, however it grows
    if (::fcntl(fd, F_OFD_SETLK, &lock) != 0) {
        int error = errno;
        if (error == EAGAIN || error == EACCES)
            return storage_error(StorageErrorKind::Locked,
                                 "'" + path + "' is in use by another process or virtual machine" +
                                     (mode == Mode::ReadOnly ? " (open for writing)" : ""));
        // Filesystems without locks (some network mounts): carry on unlocked
        // rather than refuse every image there.
        if (error != ENOLCK && error != EINVAL && error != EOPNOTSUPP)
            return errno_error("cannot lock", path, error);
    }
    return file;
}

StorageResult<std::size_t> HostFile::read_up_to(std::uint64_t offset, std::span<std::byte> out) const {
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n =
            ::pread(m_fd.fd(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("cannot read", m_path, errno);
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

Result<void, StorageError> HostFile::read_at(std::uint64_t offset, std::span<std::byte> out) const {
    auto done = TRY(read_up_to(offset, out));
    if (done < out.size())
        return storage_error(StorageErrorKind::Corrupt, "'" + m_path + "' is truncated: no data at offset " +
                                                            std::to_string(offset + done));
    return {};
}

Result<void, StorageError> HostFile::read_at_padded(std::uint64_t offset, std::span<std::byte> out) const {
    auto done = TRY(read_up_to(offset, out));
    std::memset(out.data() + done, 0, out.size() - done);
    return {};
}

Result<void, StorageError> HostFile::write_at(std::uint64_t offset, std::span<std::byte const> data) {
    notify(HostFileObserver::Change::Write, offset, data);
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n =
            ::pwrite(m_fd.fd(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno_error("cannot write", m_path, errno);
        }
        if (n == 0) return errno_error("cannot write", m_path, ENOSPC);
        done += static_cast<std::size_t>(n);
    }
    return {};
}

StorageResult<std::uint64_t> HostFile::size() const {
    struct stat st {};
    if (::fstat(m_fd.fd(), &st) != 0) return errno_error("cannot stat", m_path, errno);
    if (S_ISBLK(st.st_mode)) {
        // A block device's st_size is 0; the kernel knows its size (0 for a
        // CD-ROM drive without a disc).
        std::uint64_t bytes = 0;
        if (::ioctl(m_fd.fd(), BLKGETSIZE64, &bytes) != 0) return errno_error("cannot size", m_path, errno);
        return bytes;
    }
    return static_cast<std::uint64_t>(st.st_size);
}

StorageResult<std::uint64_t> HostFile::allocated_bytes() const {
    struct stat st {};
    if (::fstat(m_fd.fd(), &st) != 0) return errno_error("cannot stat", m_path, errno);
    return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

Result<void, StorageError> HostFile::truncate(std::uint64_t size) {
    notify(HostFileObserver::Change::Truncate, size);
    if (::ftruncate(m_fd.fd(), static_cast<off_t>(size)) != 0)
        return errno_error("cannot resize", m_path, errno);
    return {};
}

Result<void, StorageError> HostFile::preallocate(std::uint64_t size, std::uint64_t from) {
    if (size <= from) return {};
    notify(HostFileObserver::Change::Preallocate, size);
    int const result =
        ::posix_fallocate(m_fd.fd(), static_cast<off_t>(from), static_cast<off_t>(size - from));
    if (result == 0) return {};
    if (result == EOPNOTSUPP || result == EINVAL)
        return storage_error(StorageErrorKind::Unsupported,
                             "'" + m_path + "': the file system cannot preallocate");
    return errno_error("cannot allocate", m_path, result);
}

Result<void, StorageError> HostFile::sync() {
    notify(HostFileObserver::Change::Sync);
    if (::fsync(m_fd.fd()) != 0) return errno_error("cannot sync", m_path, errno);
    return {};
}

Result<void, StorageError> HostFile::sync_data() {
    notify(HostFileObserver::Change::SyncData);
    if (::fdatasync(m_fd.fd()) != 0) return errno_error("cannot sync", m_path, errno);
    return {};
}

StorageResult<std::uint64_t> free_space_for(std::string const& path) {
    std::string folder = std::filesystem::path(path).parent_path().string();
    if (folder.empty()) folder = ".";
    struct statvfs vfs {};
    if (::statvfs(folder.c_str(), &vfs) != 0) return errno_error("cannot query free space of", folder, errno);
    return std::uint64_t(vfs.f_bavail) * vfs.f_frsize;
}

Result<void, StorageError> require_free_space(std::string const& path, std::uint64_t needed) {
    std::uint64_t const available = TRY(free_space_for(path));
    if (available >= needed) return {};
    constexpr std::uint64_t MIB = 1024 * 1024;
    return storage_error(StorageErrorKind::NoSpace, "'" + path + "' needs " +
                                                        std::to_string((needed + MIB - 1) / MIB) +
                                                        " MiB but only " + std::to_string(available / MIB) +
                                                        " MiB are free on its volume");
}

} // namespace vsa::storage
