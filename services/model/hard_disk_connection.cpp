// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/hard_disk_connection.h"

#include "services/model/names.h"

namespace vsa::services {

ServiceResult<void> validate_stored_path(std::string const& path, char const* what) {
    if (path.empty()) return service_error(hr::E_BAD_PATHNAME, std::string("no ") + what + " path given");
    if (path.size() > MAX_PATH_BYTES)
        return service_error(hr::E_BUFFER_OVERFLOW, std::string(what) + " path is longer than " +
                                                        std::to_string(MAX_PATH_BYTES) + " bytes");
    if (path.find('\0') != std::string::npos || !is_valid_utf8(path))
        return service_error(hr::E_INVALID_NAME, std::string(what) + " path contains a NUL or invalid UTF-8");
    if (path.front() != '/')
        return service_error(hr::E_BAD_PATHNAME,
                             std::string(what) + " path \"" + path + "\" is not absolute");
    return {};
}

} // namespace vsa::services
