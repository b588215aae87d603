// SPDX-License-Identifier: GPL-2.0-or-later
// StorageError: what a disk backend reports. It is small on purpose (a kind
// and a message) because hw/ devices only need to know "the request failed"
// and turn it into an ATA/ATAPI error; services/ map the kind to the HRESULT
// a Virtual Server client expects (to_service_error).
#pragma once

#include "hypervisor/base/result.h"
#include "services/service_error.h"

#include <string>

namespace vsa::storage {

enum class StorageErrorKind {
    InvalidRequest, // out of range, misaligned, bad argument: the caller's fault
    NotFound,       // the image file does not exist
    Io,             // the host failed a read/write/sync
    Corrupt,        // the image's metadata is invalid (untrusted input)
    Locked,         // another writer (or a reader, for a writer) holds the image
    ReadOnly,       // write to a read-only image or file
    ParentNotFound, // differencing disk: no locator leads to a parent
    ParentMismatch, // differencing disk: the parent's UUID is not the recorded one
    TooLarge,
    TooSmall,
    WrongType,   // operation not valid for this kind of image
    Unsupported, // valid but a feature we do not implement
    NoSpace,
    Cancelled, // the caller's progress callback asked to stop
};

struct StorageError {
    StorageErrorKind kind{StorageErrorKind::Io};
    std::string message;

    services::ServiceError to_service_error() const;
};

template <typename T>
using StorageResult = Result<T, StorageError>;

inline StorageError storage_error(StorageErrorKind kind, std::string message) {
    return {kind, std::move(message)};
}

// A file that is no valid VHD, and why (Corrupt).
inline StorageError corrupt_vhd(std::string const& path, std::string const& message) {
    return storage_error(StorageErrorKind::Corrupt, "'" + path + "' is not a valid VHD: " + message);
}

// A failed system call: errno picks the kind (ENOENT, ENOSPC, EROFS, ...).
StorageError errno_error(std::string const& what, std::string const& path, int error_number);

} // namespace vsa::storage
