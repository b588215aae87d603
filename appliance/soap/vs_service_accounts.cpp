// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: the appliance's own accounts over SOAP (the Accounts_*
// extension, wsdl/vsa-api.txt). Virtual Server left accounts to Windows;
// vsad keeps them in AccountStore (appliance/auth/account_store.h), which
// until now only `vsad user` on the appliance's console could change.
//
// Who may do what: managing accounts needs an administrator (membership of
// the built-in group Administrators, the account's administrator flag). The
// access policy cannot say that (its rights are ACL rights, which
// administrators hold everywhere and others can be granted), so the table
// lets any authenticated caller in (Target::Anyone) and every operation here
// checks the flag first. Changing one's own password needs only the current
// password.
//
// The rules, and where they are kept:
//   names, password length, groups   AccountStore (the same checks `vsad
//                                    user` gets), reported as E_INVALIDARG
//   the last administrator           AccountStore::try_remove /
//                                    try_set_administrator, under its lock, so
//                                    two administrators demoting each other
//                                    at once cannot both succeed
//   one's own account                here: an administrator cannot remove
//                                    the account they are signed in with
//   stale credentials                Authenticator::set_password /
//                                    remove_account end the sessions and drop
//                                    the cached Basic credentials
//
// Every change is logged (vsad.security) with who made it; passwords never.
#include "appliance/auth/authenticator.h"
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"

#include <Poco/Logger.h>

#include <algorithm>

namespace vsa::appliance {

using services::ServiceError;
using services::ServiceResult;
namespace hr = services::hr;

namespace {

Poco::Logger& accounts_log() {
    return Poco::Logger::get("vsad.security");
}

ServiceError from_account_error(AccountError const& error, std::string_view name) {
    switch (error.kind) {
    case AccountErrorKind::Invalid:
        return {hr::E_INVALIDARG, error.message};
    case AccountErrorKind::NotFound:
        return {hr::E_INVALIDARG, "no account '" + std::string(name.substr(0, 64)) + "'"};
    case AccountErrorKind::Exists:
        return {hr::E_ALREADY_EXISTS, error.message};
    case AccountErrorKind::LastAdministrator:
        return {hr::E_ACCESSDENIED, error.message};
    case AccountErrorKind::Storage:
        return {hr::E_FAIL, "the account file could not be written: " + error.message};
    }
    return {hr::E_FAIL, error.message};
}

std::vector<std::string> items_of(vs__ArrayOfString const* array) {
    return array ? array->item : std::vector<std::string>{};
}

bool same_account(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// The fault for a non-administrator, naming what they tried; nullopt for
// an administrator. The guard in front (AccessCheckedVsService) has already
// authenticated the caller.
std::optional<ServiceError> not_an_administrator(SoapCall const& call, std::string_view what) {
    if (call.principal && call.principal->administrator) return std::nullopt;
    std::string user = call.principal ? call.principal->user : std::string("(nobody)");
    std::string message = "access denied: user '" + user +
                          "' is not an administrator; only members of "
                          "Administrators may " +
                          std::string(what);
    accounts_log().warning(message);
    return ServiceError{hr::E_ACCESSDENIED, message};
}

void log_change(SoapCall const& call, std::string const& what) {
    accounts_log().notice("user '" + call.principal->user + "' from " + call.client_address + ": " + what);
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

VSA_OP(Accounts_USCOREList) {
    if (int rc = require_principal()) return rc;
    if (auto denied = not_an_administrator(*m_call, "list accounts")) return fault(*denied);
    auto& store = m_backend->auth.accounts();
    auto* out = soap_new_vs__ArrayOfVsaAccount(soap);
    for (auto const& name : store.names()) {
        auto account = store.find(name);
        if (!account) continue; // removed since names() was read
        auto* item = soap_new_vs__VsaAccount(soap);
        item->name = account->name;
        item->administrator = account->administrator;
        item->groups = soap_new_vs__ArrayOfString(soap);
        item->groups->item = account->groups;
        out->item.push_back(item);
    }
    response.returnval = out;
    return SOAP_OK;
}

VSA_OP(Accounts_USCOREAdd) {
    if (int rc = require_principal()) return rc;
    if (auto denied = not_an_administrator(*m_call, "add accounts")) return fault(*denied);
    auto added = m_backend->auth.account_store().try_add(request->name, request->password,
                                                         request->administrator, items_of(request->groups));
    if (added.is_error()) return fault(from_account_error(added.error(), request->name));
    log_change(*m_call, std::string("added account '") + request->name + "'" +
                            (request->administrator ? " (administrator)" : ""));
    return SOAP_OK;
}

VSA_OP(Accounts_USCORERemove) {
    if (int rc = require_principal()) return rc;
    if (auto denied = not_an_administrator(*m_call, "remove accounts")) return fault(*denied);
    // Removing the account one is signed in with would end the very session
    // making the call; another administrator has to do it.
    if (same_account(request->name, m_call->principal->user))
        return fault({hr::E_ACCESSDENIED, "you cannot remove your own account ('" + m_call->principal->user +
                                              "'); another administrator has to"});
    auto removed = m_backend->auth.remove_account(request->name);
    if (removed.is_error()) return fault(from_account_error(removed.error(), request->name));
    log_change(*m_call, "removed account '" + request->name + "'");
    return SOAP_OK;
}

VSA_OP(Accounts_USCORESetGroups) {
    if (int rc = require_principal()) return rc;
    if (auto denied = not_an_administrator(*m_call, "change group memberships")) return fault(*denied);
    auto groups = items_of(request->groups);
    auto changed = m_backend->auth.account_store().try_set_groups(request->name, groups);
    if (changed.is_error()) return fault(from_account_error(changed.error(), request->name));
    std::string list;
    for (auto const& group : groups)
        list += (list.empty() ? "" : ",") + group;
    log_change(*m_call, "set the groups of '" + request->name + "' to [" + list + "]");
    return SOAP_OK;
}

VSA_OP(Accounts_USCORESetAdministrator) {
    if (int rc = require_principal()) return rc;
    if (auto denied = not_an_administrator(*m_call, "make administrators")) return fault(*denied);
    auto changed =
        m_backend->auth.account_store().try_set_administrator(request->name, request->administrator);
    if (changed.is_error()) return fault(from_account_error(changed.error(), request->name));
    log_change(*m_call, std::string(request->administrator ? "made '" : "removed administrator rights of '") +
                            request->name + (request->administrator ? "' an administrator" : "'"));
    return SOAP_OK;
}

VSA_OP(Accounts_USCORESetPassword) {
    if (int rc = require_principal()) return rc;
    if (auto denied = not_an_administrator(*m_call, "set other accounts' passwords")) return fault(*denied);
    auto changed = m_backend->auth.set_password(request->name, request->password);
    if (changed.is_error()) return fault(from_account_error(changed.error(), request->name));
    log_change(*m_call, "set a new password for '" + request->name + "' (its sessions ended)");
    return SOAP_OK;
}

VSA_OP(Accounts_USCOREChangeOwnPassword) {
    if (int rc = require_principal()) return rc;
    auto user = m_call->principal->user;
    // The policy first: a too short new password is the caller's typing
    // mistake and should not cost them a failed-logon count.
    if (auto problem = AccountStore::password_problem(request->newPassword))
        return fault({hr::E_INVALIDARG, "new password: " + *problem});
    auto checked = m_backend->auth.check_password(user, request->currentPassword, m_call->client_address);
    switch (checked.status) {
    case AuthStatus::Authenticated:
        break;
    case AuthStatus::LockedOut:
        m_call->locked_out = checked.retry_after;
        return fault({hr::E_ACCESSDENIED, "too many failed attempts from this address; retry in " +
                                              std::to_string(checked.retry_after.count()) + " s"});
    default:
        accounts_log().warning("user '" + user + "' from " + m_call->client_address +
                               ": password change refused (wrong current password)");
        return fault({hr::E_ACCESSDENIED, "the current password is wrong"});
    }
    auto changed = m_backend->auth.set_password(user, request->newPassword);
    if (changed.is_error()) return fault(from_account_error(changed.error(), user));
    // Every session of the account ended with the change, this caller's
    // too; a fresh one keeps the caller signed in (a browser gets it as its
    // cookie, other clients from the answer).
    auto token = m_backend->auth.open_session(user);
    m_call->set_session_cookie = token;
    response.returnval = std::move(token);
    log_change(*m_call, "changed their own password (their other sessions ended)");
    return SOAP_OK;
}

#undef VSA_OP

} // namespace vsa::appliance
