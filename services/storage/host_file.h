// SPDX-License-Identifier: GPL-2.0-or-later
// HostFile: an owned file descriptor with exact positional I/O and the
// image lock. Every backend goes through it so that short reads (a
// truncated image) and EINTR are handled in one place.
#pragma once

#include "hypervisor/base/file_descriptor.h"
#include "services/storage/storage_error.h"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace vsa::storage {

// Bytes free (for an unprivileged writer) on the volume holding `path`,
// which may be a file that does not exist yet: its folder is asked.
StorageResult<std::uint64_t> free_space_for(std::string const& path);
// NoSpace, with both figures in the message, when fewer than `needed`
// bytes are free for `path`.
Result<void, StorageError> require_free_space(std::string const& path, std::uint64_t needed);

class HostFile;

// The crash tests' seam (tests/services/storage_crash_writer.cpp): when one
// is installed, it sees every call that changes a file just before the call
// is made, so a test can stop the process at an exact point, or first undo
// what a power cut would lose (everything since the last sync). Nothing
// outside the tests installs one; the cost is one load and branch per call.
class HostFileObserver {
public:
    enum class Change { Write, Truncate, Preallocate, Sync, SyncData };
    virtual ~HostFileObserver() = default;
    // Write: `offset` and `data`. Truncate, Preallocate: `offset` is the new
    // size. Sync, SyncData: neither.
    virtual void before_change(HostFile const& file, Change change, std::uint64_t offset,
                               std::span<std::byte const> data) = 0;
};

class HostFile {
public:
    // Process-wide; pass nullptr to remove. Tests only.
    static void set_observer(HostFileObserver* observer) { s_observer = observer; }

    // Inspect: read-only and without a lock, only to describe an image that
    // a running VM holds open for writing (IVMHardDisk's properties); the
    // reader must expect metadata the writer is changing under it.
    enum class Mode { ReadOnly, ReadWrite, CreateNew, Inspect };

    // Opens the file and takes an OFD lock over the whole file: exclusive for
    // ReadWrite/CreateNew, shared for ReadOnly. So a second writer, or a
    // writer while a VM reads the image (a differencing disk's parent), is
    // refused with Locked instead of corrupting the image. OFD locks belong
    // to the open file description, so two opens in one process conflict too,
    // and QEMU's byte-range locks conflict with ours.
    static StorageResult<HostFile> open(std::string const& path, Mode mode);

    HostFile() = default;

    // Reads exactly out.size() bytes; past end of file is Corrupt (truncated).
    Result<void, StorageError> read_at(std::uint64_t offset, std::span<std::byte> out) const;
    // Reads what exists and zero-fills the rest (raw images of odd sizes).
    Result<void, StorageError> read_at_padded(std::uint64_t offset, std::span<std::byte> out) const;
    Result<void, StorageError> write_at(std::uint64_t offset, std::span<std::byte const> data);
    StorageResult<std::uint64_t> size() const;
    // Bytes the file occupies on the host (sparse files use less).
    StorageResult<std::uint64_t> allocated_bytes() const;
    Result<void, StorageError> truncate(std::uint64_t size);
    // Reserves [from, size) on the host so later writes cannot run out of
    // space (a fixed VHD's promise); a range lets a long reservation report
    // progress and stop between pieces. A file system without fallocate()
    // leaves the file sparse and returns Unsupported; the caller decides.
    Result<void, StorageError> preallocate(std::uint64_t size, std::uint64_t from = 0);
    Result<void, StorageError> sync();
    Result<void, StorageError> sync_data();

    std::string const& path() const { return m_path; }
    bool is_open() const { return m_fd.is_open(); }

private:
    HostFile(int fd, std::string path) : m_fd(fd), m_path(std::move(path)) {}
    // Reads until `out` is full or the file ends; returns the bytes read.
    StorageResult<std::size_t> read_up_to(std::uint64_t offset, std::span<std::byte> out) const;

    void notify(HostFileObserver::Change change, std::uint64_t offset = 0,
                std::span<std::byte const> data = {}) const {
        if (s_observer) s_observer->before_change(*this, change, offset, data);
    }

    inline static HostFileObserver* s_observer{nullptr};
    FileDescriptor m_fd;
    std::string m_path;
};

} // namespace vsa::storage
