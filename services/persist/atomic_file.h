// SPDX-License-Identifier: GPL-2.0-or-later
// Whole-file writes that a crash cannot tear, and size-capped reads.
//
// Every configuration file the management model keeps (.vmc, .vnc, the
// server options) is rewritten whole through write_file_atomically: the new
// contents go to a temporary file in the same folder, which is fsynced and
// then renamed over the old name, and the folder is fsynced so the rename
// itself is durable. A crash at any point leaves either the old file or the
// new one, never a mix. A crash before the rename can leave the temporary
// (".<name>.tmp-XXXXXX"); readers never look at those names, and
// remove_stale_temporaries() sweeps them.
#pragma once

#include "services/service_error.h"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace vsa::services {

struct AtomicWriteHooks {
    // Runs after the temporary is written and fsynced, before the rename.
    // An error here aborts the write as a failing rename would: tests use it
    // to stand for a crash or a failure at the worst moment.
    std::function<ServiceResult<void>(std::filesystem::path const& temporary)> before_rename;
};

// Replaces `path` with `contents` (mode 0640 for a new file; an existing
// file's mode is kept). The folder must exist. On any error the old file is
// untouched and the temporary is removed.
ServiceResult<void> write_file_atomically(std::filesystem::path const& path, std::string_view contents,
                                          AtomicWriteHooks const& hooks = {});

// Reads a regular file of at most max_bytes. FIFOs, devices and folders are
// refused (a hostile path must not block or stream forever), and so is a
// file over the cap, with both sizes in the message.
ServiceResult<std::string> read_file_capped(std::filesystem::path const& path, std::size_t max_bytes);

// fsync() of a folder, so that a rename or unlink in it is durable.
ServiceResult<void> sync_directory(std::filesystem::path const& folder);

// Removes ".<name>.tmp-*" leftovers of interrupted writes in `folder`.
// Returns how many it removed.
std::size_t remove_stale_temporaries(std::filesystem::path const& folder);

// The HRESULT that stands for errno `error_number` (ENOENT ->
// E_FILE_NOT_FOUND, EACCES -> E_ACCESSDENIED, ENOSPC -> E_DISK_FULL, ...),
// with "what path: strerror" as the message.
ServiceError errno_service_error(std::string_view what, std::filesystem::path const& path, int error_number);

} // namespace vsa::services
