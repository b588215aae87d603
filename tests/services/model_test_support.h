// SPDX-License-Identifier: GPL-2.0-or-later
// Printing of model values for Boost.Test messages (BOOST_TEST(a == b)
// prints both sides when they differ).
#pragma once

#include "services/hresult.h"
#include "services/model/bus_location.h"
#include "services/model/enums.h"
#include "services/model/guid.h"
#include "services/model/mac_address.h"
#include "services/service_error.h"

#include <ostream>

namespace vsa::services {

inline std::ostream& operator<<(std::ostream& out, HResult code) {
    auto const* info = find_hresult(code);
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08X", code.value);
    return out << (info ? std::string(info->name) + " " : std::string()) << hex;
}
inline std::ostream& operator<<(std::ostream& out, Guid const& guid) {
    return out << guid.to_string();
}
inline std::ostream& operator<<(std::ostream& out, MacAddress const& address) {
    return out << address.to_string();
}
inline std::ostream& operator<<(std::ostream& out, BusLocation const& location) {
    return out << location.to_string();
}

// The error message of a failed result, "" for a success: for
// BOOST_REQUIRE_MESSAGE, which evaluates its message even when the check
// passes.
template <typename T>
std::string why(ServiceResult<T> const& result) {
    return result.has_value() ? std::string() : result.error().message;
}

} // namespace vsa::services
