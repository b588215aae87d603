// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/path_policy.h"

#include "services/model/hard_disk_connection.h"
#include "services/model/names.h"
#include "services/persist/atomic_file.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <sys/stat.h>

namespace vsa::services {

namespace {

bool has_dot_dot(std::filesystem::path const& path) {
    for (auto const& part : path)
        if (part == "..") return true;
    return false;
}

bool exists_no_follow(std::filesystem::path const& path, int& error_number) {
    struct stat info {};
    if (::lstat(path.c_str(), &info) == 0) return true;
    error_number = errno;
    return false;
}

bool within(std::filesystem::path const& path, std::filesystem::path const& root) {
    auto p = path.begin();
    for (auto r = root.begin(); r != root.end(); ++r, ++p) {
        if (r->empty()) continue; // a trailing separator
        if (p == path.end() || *p != *r) return false;
    }
    return true;
}

} // namespace

ServiceResult<std::filesystem::path> PathPolicy::canonicalize(std::filesystem::path const& absolute) {
    std::filesystem::path prefix = "/";
    std::filesystem::path rest;
    bool missing = false;
    for (auto const& part : absolute.relative_path()) {
        if (part.empty() || part == ".") continue;
        if (missing) {
            rest /= part;
            continue;
        }
        int error_number = 0;
        auto candidate = prefix / part;
        if (exists_no_follow(candidate, error_number)) {
            prefix = candidate;
        } else if (error_number == ENOENT) {
            missing = true;
            rest /= part;
        } else {
            return errno_service_error("cannot inspect", candidate, error_number);
        }
    }
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(prefix.c_str(), nullptr), &std::free);
    if (!real) {
        if (errno == ENOENT || errno == ELOOP)
            return service_error(hr::E_ACCESSDENIED, absolute.string() + ": " + prefix.string() +
                                                         " is a symbolic link that leads nowhere");
        return errno_service_error("cannot resolve", prefix, errno);
    }
    std::filesystem::path resolved(real.get());
    if (!rest.empty()) resolved /= rest;
    return resolved;
}

PathPolicy::PathPolicy(std::vector<std::filesystem::path> const& roots) {
    for (auto const& root : roots) {
        if (root.empty() || !root.is_absolute() || has_dot_dot(root)) continue;
        auto canonical = canonicalize(root);
        if (canonical.has_value()) m_roots.push_back(canonical.release_value());
    }
}

bool PathPolicy::contains(std::filesystem::path const& canonical) const {
    for (auto const& root : m_roots)
        if (within(canonical, root)) return true;
    return false;
}

ServiceResult<std::filesystem::path>
PathPolicy::resolve(std::string_view client_path, std::vector<std::filesystem::path> const& bases) const {
    if (client_path.empty()) return service_error(hr::E_BAD_PATHNAME, "no path given");
    if (client_path.size() > MAX_PATH_BYTES)
        return service_error(hr::E_BUFFER_OVERFLOW,
                             "the path is longer than " + std::to_string(MAX_PATH_BYTES) + " bytes");
    if (!is_valid_utf8(client_path)) return service_error(hr::E_INVALID_NAME, "the path is not valid UTF-8");
    for (char c : client_path)
        if (static_cast<unsigned char>(c) < 0x20)
            return service_error(hr::E_INVALID_NAME, "the path contains a control character");
    std::filesystem::path path(client_path);
    if (has_dot_dot(path))
        return service_error(hr::E_ACCESSDENIED,
                             "\"" + std::string(client_path) + "\": paths may not contain \"..\" components");
    if (path.is_relative()) {
        std::filesystem::path chosen;
        for (auto const& base : bases) {
            if (base.empty()) continue;
            auto candidate = base / path;
            int error_number = 0;
            if (exists_no_follow(candidate, error_number)) {
                chosen = candidate;
                break;
            }
            if (chosen.empty()) chosen = candidate;
        }
        if (chosen.empty())
            return service_error(hr::E_BAD_PATHNAME, "\"" + std::string(client_path) +
                                                         "\" is relative; an absolute path is required");
        path = chosen;
        if (has_dot_dot(path))
            return service_error(hr::E_ACCESSDENIED,
                                 path.string() + ": paths may not contain \"..\" components");
    }
    auto resolved = TRY(canonicalize(path));
    if (!contains(resolved)) {
        std::string allowed;
        for (auto const& root : m_roots)
            allowed += (allowed.empty() ? "" : ", ") + root.string();
        return service_error(hr::E_ACCESSDENIED, "\"" + std::string(client_path) + "\" resolves to " +
                                                     resolved.string() +
                                                     ", outside the folders this server may use (" +
                                                     (allowed.empty() ? "none configured" : allowed) + ")");
    }
    return resolved;
}

} // namespace vsa::services
