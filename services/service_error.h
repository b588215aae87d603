// SPDX-License-Identifier: GPL-2.0-or-later
// ServiceError: the one error type the management model returns. It carries
// the HRESULT a Virtual Server client expects plus a message for people.
// The SOAP layer maps it to a fault in exactly one place
// (appliance/soap/fault_mapping.h).
#pragma once

#include "hypervisor/base/result.h"
#include "services/hresult.h"

#include <string>

namespace vsa::services {

struct ServiceError {
    HResult code{hr::E_FAIL};
    std::string message;

    // Who is to blame decides the SOAP faultcode: Client for bad input or
    // missing rights, Server for failures on our side.
    bool is_client_error() const;
};

template <typename T>
using ServiceResult = Result<T, ServiceError>;

inline ServiceError service_error(HResult code, std::string message) {
    return {code, std::move(message)};
}

} // namespace vsa::services
