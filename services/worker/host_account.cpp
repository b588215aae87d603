// SPDX-License-Identifier: GPL-2.0-or-later
// Host accounts for VM workers; see host_account.h.
#include "services/worker/host_account.h"

#include "hypervisor/base/file_descriptor.h"

#include <security/pam_appl.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace vsa::services {

namespace {

constexpr char const* VSAD_PAM_SERVICE = "vsad";
constexpr std::size_t MAX_HOST_NAME = 32; // useradd's limit

bool plausible_host_name(std::string_view name) {
    if (name.empty() || name.size() > MAX_HOST_NAME || name.front() == '-') return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-' || c == '.' || c == '$';
    });
}

ServiceError denied(std::string message) {
    return {hr::E_ACCESSDENIED, std::move(message)};
}

// The PAM conversation: the password for every hidden prompt, nothing
// for the others (messages are dropped).
int answer_prompts(int count, pam_message const** messages, pam_response** responses, void* data) {
    if (count <= 0 || count > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
    auto* replies =
        static_cast<pam_response*>(std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
    if (!replies) return PAM_BUF_ERR;
    auto const* password = static_cast<std::string const*>(data);
    for (int i = 0; i < count; ++i) {
        if (messages[i]->msg_style != PAM_PROMPT_ECHO_OFF) continue;
        replies[i].resp = ::strdup(password->c_str());
        if (!replies[i].resp) {
            for (int j = 0; j < i; ++j)
                std::free(replies[j].resp);
            std::free(replies);
            return PAM_BUF_ERR;
        }
    }
    *responses = replies;
    return PAM_SUCCESS;
}

} // namespace

ServiceResult<HostCredentials> lookup_host_account(std::string_view name) {
    if (!plausible_host_name(name))
        return Err{denied("'" + std::string(name.substr(0, 64)) + "' is not a host account name")};
    std::string key(name);
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    int rc = ::getpwnam_r(key.c_str(), &entry, buffer.data(), buffer.size(), &found);
    if (rc != 0 || !found) return Err{denied("there is no host account '" + key + "'")};
    HostCredentials account{key, entry.pw_uid, entry.pw_gid, {}};
    int count = 64;
    for (int attempt = 0; attempt < 4; ++attempt) {
        account.groups.assign(static_cast<std::size_t>(count), 0);
        int n = count;
        if (::getgrouplist(key.c_str(), entry.pw_gid, account.groups.data(), &n) >= 0) {
            account.groups.resize(static_cast<std::size_t>(n));
            return account;
        }
        count = std::max(n, count * 2);
    }
    return Err{denied("cannot read the groups of host account '" + key + "'")};
}

ServiceResult<void> verify_host_password(std::string const& name, std::string const& password) {
    pam_conv conversation{answer_prompts, const_cast<std::string*>(&password)};
    pam_handle_t* handle = nullptr;
    int rc = ::pam_start(VSAD_PAM_SERVICE, name.c_str(), &conversation, &handle);
    if (rc != PAM_SUCCESS) return Err{ServiceError{hr::E_FAIL, "PAM is not usable on this host"}};
    rc = ::pam_authenticate(handle, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
    std::string failure;
    if (rc != PAM_SUCCESS)
        failure = "wrong account name or password for host account '" + name + "'";
    else if ((rc = ::pam_acct_mgmt(handle, PAM_SILENT)) != PAM_SUCCESS)
        failure = "host account '" + name + "' may not be used now (" + ::pam_strerror(handle, rc) + ")";
    ::pam_end(handle, rc);
    if (!failure.empty()) return Err{denied(failure)};
    return Ok{};
}

ServiceResult<void> may_switch_to(HostCredentials const& account) {
    if (::geteuid() == 0 || account.uid == ::geteuid()) return Ok{};
    return Err{denied("vsad does not run as root, so it cannot run a virtual machine as host account '" +
                      account.name + "'")};
}

ServiceResult<void> check_access_as(HostCredentials const& account, std::vector<AccessNeed> const& needs) {
    // Everything the child touches is prepared here: after fork, a
    // multithreaded parent's child makes only async-signal-safe calls.
    std::vector<std::string> paths;
    for (auto const& need : needs)
        paths.push_back(need.path.string());
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0)
        return Err{ServiceError{hr::E_FAIL, std::string("pipe: ") + std::strerror(errno)}};
    FileDescriptor reader(ends[0]);
    FileDescriptor writer(ends[1]);
    pid_t pid = ::fork();
    if (pid < 0) return Err{ServiceError{hr::E_FAIL, std::string("fork: ") + std::strerror(errno)}};
    if (pid == 0) {
        // Answer: int index (-1: all fine, -2: the credentials failed), int errno.
        int answer[2] = {-1, 0};
        if (::setgroups(account.groups.size(), account.groups.data()) != 0 || ::setgid(account.gid) != 0 ||
            ::setuid(account.uid) != 0) {
            answer[0] = -2;
            answer[1] = errno;
        } else {
            for (std::size_t i = 0; i < paths.size(); ++i) {
                if (::access(paths[i].c_str(), needs[i].mode) != 0) {
                    answer[0] = static_cast<int>(i);
                    answer[1] = errno;
                    break;
                }
            }
        }
        ssize_t written = ::write(writer.fd(), answer, sizeof answer);
        ::_exit(written == sizeof answer ? 0 : 1);
    }
    writer.reset();
    int answer[2] = {-2, 0};
    ssize_t got = 0;
    while ((got = ::read(reader.fd(), answer, sizeof answer)) < 0 && errno == EINTR) {
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (got != sizeof answer)
        return Err{
            ServiceError{hr::E_FAIL, "the access check as host account '" + account.name + "' failed"}};
    if (answer[0] == -1) return Ok{};
    if (answer[0] == -2)
        return Err{denied("cannot take the credentials of host account '" + account.name +
                          "': " + std::strerror(answer[1]))};
    auto const& need = needs.at(static_cast<std::size_t>(answer[0]));
    std::string what = (need.mode & W_OK)                          ? "write"
                       : (need.mode & X_OK) && !(need.mode & R_OK) ? "run"
                                                                   : "read";
    if ((need.mode & R_OK) && (need.mode & W_OK)) what = "read and write";
    return Err{denied("host account '" + account.name + "' (uid " + std::to_string(account.uid) +
                      ") cannot " + what + " " + need.path.string() + ": " + std::strerror(answer[1]))};
}

} // namespace vsa::services
