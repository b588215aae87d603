// SPDX-License-Identifier: GPL-2.0-or-later
// AccountStore: the appliance's local user accounts, kept in one JSON file
//
//     {"version":1,"accounts":[{"name":"admin","hash":"$scrypt$...","administrator":true}]}
//
// An account may also list the groups it belongs to ("groups":["operators"],
// written only when not empty, so files without it stay valid and older
// readers, which ignore unknown keys, still read ours). Groups only name
// sets of accounts for access control lists (services/security); the
// administrator flag is membership of the built-in group "Administrators".
//
// Only scrypt hashes are stored (appliance/auth/password_hash.h); a password
// lives in memory just long enough to be hashed. Names are case-insensitive
// like Windows account names, which Virtual Server clients expect, but keep
// the spelling they were created with.
//
// Every change is written to disk (temp file, fsync, rename, fsync of the
// directory) before it is reported as done, and is undone in memory if the
// write fails, so memory never claims something the file does not hold.
// Slow work (scrypt) runs outside the lock; the lock only guards the map
// and the file write.
//
// Two processes share the file: vsad, and `vsad user` run by root (the
// appliance console changes the administrator's password with it while
// vsad runs). Every change is a read-modify-write under flock() on the
// file's directory, starting from the file as it is now, so neither side
// loses the other's change; refresh() lets vsad pick up a change made
// behind its back. A file written by root keeps the owner of the one it
// replaces, so vsad (its own user) can still read and replace it.
#pragma once

#include "appliance/auth/password_hash.h"
#include "hypervisor/base/file_descriptor.h"
#include "hypervisor/base/result.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::appliance {

struct Account {
    std::string name;
    std::string password_hash;
    bool administrator = false;
    std::vector<std::string> groups{}; // names as the account names; not Administrators/Everyone
};

// At most this many groups per account.
inline constexpr std::size_t MAX_GROUPS_PER_ACCOUNT = 32;

// Why a change was refused, for callers that answer differently per reason
// (the SOAP accounts extension maps each to an HRESULT); the message says
// it in words either way.
enum class AccountErrorKind : std::uint8_t {
    Invalid,           // a name, password or group the rules do not allow
    NotFound,          // no such account
    Exists,            // an account of that name exists already
    LastAdministrator, // the change would leave no administrator
    Storage,           // the file could not be written (memory is unchanged)
};

struct AccountError {
    AccountErrorKind kind{AccountErrorKind::Invalid};
    std::string message;
};

class AccountStore {
public:
    // A missing file is an empty store (first start). A file that exists but
    // cannot be read or does not hold a valid version-1 document is an error:
    // starting with no accounts would silently lock every user out, or let a
    // first-run setup path re-create the administrator.
    static Result<std::unique_ptr<AccountStore>, std::string> open(std::filesystem::path file,
                                                                   PasswordHashParams params = {});

    AccountStore(AccountStore const&) = delete;
    AccountStore& operator=(AccountStore const&) = delete;

    // name: [A-Za-z0-9][A-Za-z0-9._-]{0,63}; password: 8..1024 bytes.
    Result<void, std::string> add(std::string const& name, std::string_view password, bool administrator,
                                  std::vector<std::string> groups = {});
    Result<void, std::string> set_password(std::string const& name, std::string_view password);
    Result<void, std::string> remove(std::string const& name);
    // Replaces the account's groups (an empty list: none).
    Result<void, std::string> set_groups(std::string const& name, std::vector<std::string> groups);

    // The same changes with the reason of a refusal. try_remove with
    // keep_an_administrator, and try_set_administrator always, refuse to
    // leave the store without an administrator (LastAdministrator): over
    // the network nobody could get one back. The command line (vsad user,
    // run by root on the appliance) may; it can also add one again.
    Result<void, AccountError> try_add(std::string const& name, std::string_view password, bool administrator,
                                       std::vector<std::string> groups = {});
    Result<void, AccountError> try_set_password(std::string const& name, std::string_view password);
    Result<void, AccountError> try_remove(std::string const& name, bool keep_an_administrator);
    Result<void, AccountError> try_set_groups(std::string const& name, std::vector<std::string> groups);
    Result<void, AccountError> try_set_administrator(std::string const& name, bool administrator);

    // The rules add() applies, for callers that check input before they
    // act on it: the reason in words, or nothing when it is allowed.
    static std::optional<std::string> name_problem(std::string_view name);
    static std::optional<std::string> password_problem(std::string_view password);
    static std::optional<std::string> groups_problem(std::vector<std::string> const& groups);

    std::optional<Account> find(std::string_view name) const;
    // Whether some account belongs to the group `name` (case-insensitive);
    // gives the group's name as spelled in the first such account.
    std::optional<std::string> find_group(std::string_view name) const;
    // Unknown users cost one scrypt run too, so response time does not tell
    // an attacker which names exist.
    bool verify(std::string_view name, std::string_view password) const;

    // Spelled as created, ordered case-insensitively.
    std::vector<std::string> names() const;
    std::size_t size() const;
    // Bumped by every successful change (add, set_password, remove,
    // set_groups, set_administrator); callers caching
    // authentication results compare it to notice changes.
    std::uint64_t generation() const;

    std::filesystem::path const& file() const { return m_file; }

    // Re-reads the file if another process replaced it since this store
    // last read or wrote it. Gives the accounts whose password or
    // administrator flag changed or that were removed (also by such a
    // reload during a change made here), whose sessions must end. A file
    // that cannot be read or parsed leaves memory as it was (error).
    Result<std::vector<std::string>, std::string> refresh();

private:
    // Keyed by the lower-cased name.
    using AccountMap = std::map<std::string, Account>;

    AccountStore(std::filesystem::path file, PasswordHashParams params, std::string dummy_hash,
                 AccountMap accounts);

    // Caller holds m_mutex exclusively.
    Result<void, std::string> save_locked() const;
    Result<void, AccountError> save_locked_or_error() const;
    // Administrators other than the account under `key`; caller holds m_mutex.
    std::size_t other_administrators_locked(std::string const& key) const;
    // Caller holds m_mutex exclusively: takes the cross-process lock (held
    // by the returned descriptor until it closes) and reloads the file if
    // another process changed it.
    Result<FileDescriptor, AccountError> lock_file_and_reload_locked();
    Result<void, std::string> reload_if_changed_locked();
    // (device, inode, size, mtime) of the file when last read or written.
    struct FileIdentity {
        std::uint64_t device{0}, inode{0}, size{0}, mtime_ns{0};
        bool exists{false};
        bool operator==(FileIdentity const&) const = default;
    };
    static FileIdentity identity_of(std::filesystem::path const& file);

    std::filesystem::path m_file;
    PasswordHashParams m_params;
    // A hash of a throwaway password with m_params: verify() runs against it
    // for unknown names.
    std::string m_dummy_hash;

    mutable std::shared_mutex m_mutex;
    AccountMap m_accounts;
    std::uint64_t m_generation{0};
    mutable FileIdentity m_seen{}; // written by save_locked()
    // Names whose credentials changed in a reload, until refresh() reports them.
    std::vector<std::string> m_stale;
};

} // namespace vsa::appliance
