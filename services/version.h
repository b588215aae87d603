// SPDX-License-Identifier: GPL-2.0-or-later
// Product identity. The version follows Virtual Server's "v.s.bbb.t ee"
// shape (major.minor.build.type edition; type 0 = release build) so scripts
// that parse IVMVirtualServer.Version keep working.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#ifndef VSA_VERSION_MAJOR
#error "VSA_VERSION_MAJOR/MINOR/PATCH come from CMake (project VERSION)"
#endif

namespace vsa::services {

inline constexpr std::string_view PRODUCT_NAME = "VSA Virtual Server Appliance";

inline std::string version_string() {
    char text[48];
    std::snprintf(text, sizeof text, "%d.%d.%03d.0 EE", VSA_VERSION_MAJOR, VSA_VERSION_MINOR,
                  VSA_VERSION_PATCH);
    return text;
}

} // namespace vsa::services
