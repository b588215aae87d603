// SPDX-License-Identifier: GPL-2.0-or-later
// SoapCall: what one SOAP request carries between the HTTP layer and the
// operations (reached through soap->user), and what the operations ask the
// HTTP layer to do with the response (status, cookie).
#pragma once

#include "appliance/auth/authenticator.h"

#include <optional>
#include <string>

namespace vsa::appliance {

struct SoapCall {
    // In: from the HTTP layer.
    std::optional<Principal> principal; // authenticated by Basic or cookie
    std::string client_address;
    std::string cookie_token;        // the VSASESSION cookie, if any
    bool long_poll{false};           // arrived on the long-poll listener
    std::uint16_t long_poll_port{0}; // that listener's port (0: none)

    // Out: for the HTTP layer.
    bool unauthenticated{false};                    // an operation needed credentials: answer 401
    std::optional<std::chrono::seconds> locked_out; // answer 429 with Retry-After
    std::optional<std::string> set_session_cookie;  // Session_Logon succeeded
    bool clear_session_cookie{false};               // Session_Logoff
};

} // namespace vsa::appliance
