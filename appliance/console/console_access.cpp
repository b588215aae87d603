// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/console/console_access.h"

#include "appliance/http/router.h"
#include "appliance/soap/access_policy.h"
#include "services/inventory.h"
#include "services/security/access_control.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace vsa::appliance::console {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string without_default_port(std::string host) {
    if (host.ends_with(":443")) host.resize(host.size() - 4);
    return host;
}

} // namespace

bool origin_matches_host(std::string_view origin, std::string_view host) {
    if (!is_valid_host_header(host)) return false;
    constexpr std::string_view SCHEME = "https://";
    auto text = lower(origin);
    if (!text.starts_with(SCHEME)) return false;
    auto origin_host = text.substr(SCHEME.size());
    // An origin is scheme://host[:port], nothing after it.
    if (origin_host.empty() || origin_host.find('/') != std::string::npos) return false;
    return without_default_port(origin_host) == without_default_port(lower(host));
}

services::ServiceResult<void> check_console_right(services::Inventory const& inventory, Principal const& who,
                                                  services::Guid const& vm_id) {
    namespace sec = services::security;
    auto vm = inventory.virtual_machine(vm_id);
    if (!vm)
        return services::service_error(services::hr::VM_E_VM_UNKNOWN,
                                       "no registered virtual machine " + vm_id.to_string());
    if (who.administrator) return Ok{}; // Administrators have every right (access_control.h)
    auto const* policy = find_operation_policy("IVMVirtualMachine_CreateConsoleTicket");
    // The row exists (access_policy_test checks every operation has one);
    // without it, fail closed.
    if (!policy)
        return services::service_error(services::hr::E_ACCESSDENIED, "the console has no access policy row");
    auto right = policy->check.right;
    sec::Identity identity{who.user, who.groups, who.administrator};
    if (TRY(holds_vm_right(inventory, identity, vm_id, right))) return Ok{};
    std::string message = "access denied: user '" + who.user + "' lacks the " +
                          std::string(sec::right_name(right)) + " right on virtual machine \"" + vm->name() +
                          "\" (" + vm_id.to_string() + ") (console)";
    Poco::Logger::get("vsad.security").warning(message);
    return services::service_error(services::hr::E_ACCESSDENIED, message);
}

} // namespace vsa::appliance::console
