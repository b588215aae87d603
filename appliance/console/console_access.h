// SPDX-License-Identifier: GPL-2.0-or-later
// Who may open a VM's console, and from which page.
//
// The WebSocket rides on the session cookie, which a browser attaches to a
// WebSocket handshake from ANY site (cross-site WebSocket hijacking: the
// cookie's SameSite=Strict does not cover every browser and case). So the
// handshake must also carry an Origin equal to vsad's own: "https://" and
// the Host the request was sent to. A browser always sends Origin on a
// WebSocket handshake; a request without one is refused too (non-browser
// clients can send it like any header).
//
// The right: controlling a VM's keyboard and mouse is as strong as its
// power operations, so the console needs the right the access policy
// (appliance/soap/access_policy.cpp) gives IVMVirtualMachine_Startup and
// TurnOff; it is read from the table's CreateConsoleTicket row, so the
// WebSocket and the VNC ticket can never disagree.
#pragma once

#include "appliance/auth/authenticator.h"
#include "services/model/guid.h"
#include "services/service_error.h"

#include <string_view>

namespace vsa::services {
class Inventory;
}

namespace vsa::appliance::console {

// True when `origin` is exactly https://<host> (scheme and host compared
// without case; a default :443 on either side is ignored) and `host` is a
// well-formed Host header.
bool origin_matches_host(std::string_view origin, std::string_view host);

// Ok when `who` may control `vm`; VM_E_VM_UNKNOWN for no such VM,
// E_ACCESSDENIED naming the right and the VM (logged to vsad.security).
services::ServiceResult<void> check_console_right(services::Inventory const& inventory, Principal const& who,
                                                  services::Guid const& vm);

} // namespace vsa::appliance::console
