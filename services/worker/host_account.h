// SPDX-License-Identifier: GPL-2.0-or-later
// Host accounts a VM's worker may run under (IVMVirtualMachine.AccountName,
// RunAsDefinedAccount, SetAccountNameAndPassword).
//
// Virtual Server ran each VM's process in a Windows account; here the
// worker (vsa-vm) is a Linux process, so the account is a host (Linux)
// account: the one vsad runs as by default, or a named one the client
// proved it may use by giving its password.
//
// The password is checked through PAM (service "vsad"; a host without
// /etc/pam.d/vsad uses its "other" stack, on Debian the common-auth and
// common-account files), not by reading /etc/shadow with crypt(3): PAM
// also honours locked and expired accounts (pam_acct_mgmt), any other
// account source the host configured (LDAP, SSSD) and the host's failure
// delays, and vsad never handles password hashes. The password is never
// stored: only the name goes in the .vmc.
//
// At startup the worker gets the account's uid, primary gid and
// supplementary groups (initgroups semantics, read then); first a child
// process with those credentials checks that the account can reach the
// VM's files (check_access_as), so a startup the account could not run
// fails with a message naming the file, not with a worker that dies.
#pragma once

#include "services/service_error.h"

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services {

struct HostCredentials {
    std::string name;
    uid_t uid{0};
    gid_t gid{0};
    std::vector<gid_t> groups; // supplementary, the primary included
};

// The host account `name` now. E_ACCESSDENIED when there is none (or the
// name cannot be a host account name).
ServiceResult<HostCredentials> lookup_host_account(std::string_view name);

// PAM authentication plus account management for `name` with `password`:
// E_ACCESSDENIED when either refuses (the message says which, not why the
// password was wrong). Blocks for the PAM stack's failure delay.
ServiceResult<void> verify_host_password(std::string const& name, std::string const& password);

// Whether vsad can start a process as `account`: root can start any; any
// other vsad only its own account. E_ACCESSDENIED otherwise.
ServiceResult<void> may_switch_to(HostCredentials const& account);

struct AccessNeed {
    std::filesystem::path path;
    int mode; // R_OK, W_OK, X_OK as access(2)
};

// In a child process running as `account`: access(2) for every need in
// order. E_ACCESSDENIED naming the first path the account cannot use.
ServiceResult<void> check_access_as(HostCredentials const& account, std::vector<AccessNeed> const& needs);

} // namespace vsa::services
