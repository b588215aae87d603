// SPDX-License-Identifier: GPL-2.0-or-later
// Authenticator: turns what a request carries (HTTP Basic, the session
// cookie, a SessionToken SOAP header, or Session_Logon's user and password)
// into a Principal, with failed attempts delayed and rate-limited per client
// address. Passwords are never logged or kept: a verified Basic credential is
// remembered only as an HMAC keyed with a per-process secret.
#pragma once

#include "appliance/auth/account_store.h"
#include "appliance/auth/login_throttle.h"
#include "appliance/auth/session_store.h"
#include "appliance/config.h"

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <unordered_map>
#include <vector>

namespace vsa::appliance {

struct Principal {
    std::string user;
    bool administrator{false};
    std::vector<std::string> groups{}; // besides Administrators (the flag above) and Everyone
};

enum class AuthStatus {
    Authenticated,
    NoCredentials,  // nothing presented: the operation decides (Session_Logon needs none)
    BadCredentials, // 401
    LockedOut,      // 429 with Retry-After
};

struct AuthOutcome {
    AuthStatus status{AuthStatus::NoCredentials};
    std::optional<Principal> principal;
    std::chrono::seconds retry_after{0};
    std::string session_token; // set by logon()
};

inline constexpr std::string_view SESSION_COOKIE = "VSASESSION";

class Authenticator {
public:
    Authenticator(AccountStore& accounts, SessionStore& sessions, LoginThrottle& throttle, AuthConfig config);

    // HTTP-level credentials: an Authorization header (Basic only) wins over
    // the cookie. `authorization` and `cookie_token` may be empty.
    AuthOutcome from_http(std::string_view authorization, std::string_view cookie_token,
                          std::string const& client);
    // A token from the SessionToken SOAP header or the cookie.
    AuthOutcome from_token(std::string_view token);
    // Session_Logon: verify and open a session.
    AuthOutcome logon(std::string const& user, std::string_view password, std::string const& client);
    bool logoff(std::string_view token) { return m_sessions.remove(token); }
    // The accounts, for naming users in access control lists.
    AccountStore const& accounts() const { return m_accounts; }

    // Account management over the network (appliance/soap/vs_service_accounts.cpp).
    // Checks a password like a logon does (throttled and delayed on
    // failure) without opening a session: for changing one's own password.
    AuthOutcome check_password(std::string const& user, std::string_view password, std::string const& client);
    // A new session for an account that just proved its password.
    std::string open_session(std::string const& user) { return m_sessions.create(user); }
    // Changes that make a credential stale end every session of the account
    // and forget its cached credentials, so neither an old token nor the
    // old password (HTTP Basic, remembered for auth.credential_cache_seconds)
    // is accepted afterwards.
    Result<void, AccountError> set_password(std::string const& user, std::string_view password);
    Result<void, AccountError> remove_account(std::string const& user);
    // The others change only what the account may do, which every request
    // reads afresh from the store (principal_for): nothing to end.
    AccountStore& account_store() { return m_accounts; }

private:
    using Digest = std::array<unsigned char, 32>;
    struct CachedCredential {
        std::string user;
        std::chrono::steady_clock::time_point expires;
        std::uint64_t generation;
    };
    struct PendingVerification {
        std::mutex mutex;
        std::condition_variable done_changed;
        bool done{false};
        bool verified{false};
    };
    struct DigestHash {
        std::size_t operator()(Digest const& d) const;
    };

    AuthOutcome verify_password(std::string const& user, std::string_view password,
                                std::string const& client);
    AuthOutcome failed(std::string const& client);
    Digest credential_digest(std::string_view user, std::string_view password) const;
    std::optional<Principal> principal_for(std::string_view user) const;
    // Ends the sessions and drops the cached credentials of `user`.
    void forget_credentials_of(std::string_view user);
    // Picks up account changes another process (`vsad user`, the
    // appliance console) wrote to the file, at most once a second, and
    // ends the sessions of the accounts whose password or rights changed.
    void sync_accounts();

    AccountStore& m_accounts;
    SessionStore& m_sessions;
    LoginThrottle& m_throttle;
    AuthConfig m_config;
    std::array<unsigned char, 32> m_cache_key{};
    std::mutex m_cache_mutex;
    std::unordered_map<Digest, CachedCredential, DigestHash> m_cache;
    std::unordered_map<Digest, std::shared_ptr<PendingVerification>, DigestHash> m_pending;
    std::counting_semaphore<> m_hash_slots;
    std::atomic<std::int64_t> m_next_sync_ns{0};
};

// Parses "Basic base64(user:password)". Exposed for tests.
bool parse_basic_authorization(std::string_view header, std::string& user, std::string& password);

} // namespace vsa::appliance
