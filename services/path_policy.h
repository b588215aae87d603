// SPDX-License-Identifier: GPL-2.0-or-later
// PathPolicy: where client-given paths may point.
//
// Every path a SOAP client hands us (a .vmc to register, a VM folder, a disk
// or ISO to attach) and every path inside a file a client made us read is
// resolved here and must end up inside one of the allowed roots: the
// default VM and virtual network folders and the search paths. Otherwise
// the call fails with E_ACCESSDENIED naming the path, so a client cannot
// make vsad read, create or delete files elsewhere on the appliance.
//
// Resolution: a relative path is taken against the given bases in order
// (Virtual Server looks in the VM's folder, then the default folder, then
// the search paths), the first base where it exists winning, else the
// first base. Any ".." component is refused outright (it is never needed
// and would make the lexical and the kernel's views differ across
// symlinks). Then the longest existing prefix is canonicalised with
// realpath(), which follows every symlink, and the rest is appended: a
// symlink inside a root that points outside it is caught, and so is a
// dangling symlink (creating a file through it would land wherever it
// points). The roots are canonicalised the same way.
//
// Not covered: a local user who swaps a folder for a symlink between our
// check and our use (TOCTOU). Clients have no filesystem access but the
// API, so only the appliance's administrators could, and they own it.
#pragma once

#include "services/service_error.h"

#include <filesystem>
#include <string_view>
#include <vector>

namespace vsa::services {

class PathPolicy {
public:
    PathPolicy() = default;
    // Empty roots are ignored.
    explicit PathPolicy(std::vector<std::filesystem::path> const& roots);

    // E_BAD_PATHNAME (empty, or relative with no base), E_INVALID_NAME (NUL,
    // control characters, bad UTF-8), E_BUFFER_OVERFLOW (over 4095 bytes),
    // E_ACCESSDENIED ("..", outside every root, dangling symlink).
    ServiceResult<std::filesystem::path> resolve(std::string_view client_path,
                                                 std::vector<std::filesystem::path> const& bases = {}) const;

    // True when `canonical` (already resolved) lies in a root or is one.
    bool contains(std::filesystem::path const& canonical) const;
    std::vector<std::filesystem::path> const& roots() const { return m_roots; }

    // The existing-prefix canonicalisation described above, for an absolute
    // path without "..": E_ACCESSDENIED for a dangling symlink.
    static ServiceResult<std::filesystem::path> canonicalize(std::filesystem::path const& absolute);

private:
    std::vector<std::filesystem::path> m_roots;
};

} // namespace vsa::services
