// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/storage/storage_error.h"

#include <cerrno>
#include <cstring>

namespace vsa::storage {

services::ServiceError StorageError::to_service_error() const {
    using namespace services;
    HResult code = hr::VM_E_HD_IMAGE_ACCESS;
    switch (kind) {
    case StorageErrorKind::InvalidRequest:
        code = hr::E_INVALIDARG;
        break;
    case StorageErrorKind::NotFound:
    case StorageErrorKind::Locked:
        code = hr::VM_E_HD_IMAGE_OPEN_FAIL;
        break;
    case StorageErrorKind::Io:
        code = hr::VM_E_HD_IMAGE_ACCESS;
        break;
    case StorageErrorKind::Corrupt:
        code = hr::VM_E_INVALID_HD_FILE;
        break;
    case StorageErrorKind::ReadOnly:
        code = hr::VM_E_FILE_READ_ONLY;
        break;
    case StorageErrorKind::ParentNotFound:
        code = hr::VM_E_PARENT_PATH_NOT_FOUND;
        break;
    case StorageErrorKind::ParentMismatch:
        code = hr::VM_E_PARENT_CHILD_ID_MISMATCH;
        break;
    case StorageErrorKind::TooLarge:
        code = hr::VM_E_IMAGE_SIZE_TOO_LARGE;
        break;
    case StorageErrorKind::TooSmall:
        code = hr::VM_E_IMAGE_SIZE_TOO_SMALL;
        break;
    case StorageErrorKind::WrongType:
        code = hr::VM_E_WRONG_HD_IMAGE_TYPE;
        break;
    case StorageErrorKind::Unsupported:
        code = hr::E_NOTIMPL;
        break;
    case StorageErrorKind::NoSpace:
        code = hr::E_DISK_FULL;
        break;
    case StorageErrorKind::Cancelled:
        code = hr::E_ABORT;
        break;
    }
    return service_error(code, message);
}

StorageError errno_error(std::string const& what, std::string const& path, int error_number) {
    StorageErrorKind kind = StorageErrorKind::Io;
    switch (error_number) {
    case ENOENT:
    case ENOTDIR:
        kind = StorageErrorKind::NotFound;
        break;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        kind = StorageErrorKind::NoSpace;
        break;
    case EROFS:
    case EACCES:
    case EPERM:
        kind = StorageErrorKind::ReadOnly;
        break;
    case EAGAIN:
    case EBUSY:
        kind = StorageErrorKind::Locked;
        break;
    default:
        break;
    }
    return storage_error(kind, what + " '" + path + "': " + std::strerror(error_number));
}

} // namespace vsa::storage
