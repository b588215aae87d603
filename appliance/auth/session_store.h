// SPDX-License-Identifier: GPL-2.0-or-later
// SessionStore: bearer tokens handed out after a successful login, so the
// web console and SOAP clients do not send (and we do not re-run scrypt on)
// the password with every request.
//
// Tokens are 256 random bits. The map is keyed by SHA-256 of the token, not
// the token itself: a look-up then compares digests an attacker cannot steer
// byte by byte, so comparison timing does not leak a valid token's prefix,
// and a memory dump does not hold usable tokens. Sessions expire after an
// idle period; the store is bounded, dropping the least recently used
// session when full.
#pragma once

#include "appliance/auth/clock.h"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace vsa::appliance {

class SessionStore {
public:
    using Clock = SteadyClockFn;

    // An empty clock means std::chrono::steady_clock::now.
    SessionStore(std::chrono::seconds idle_timeout, Clock clock = {}, std::size_t max_sessions = 10000);

    SessionStore(SessionStore const&) = delete;
    SessionStore& operator=(SessionStore const&) = delete;

    // Returns a new token (43 characters, base64url without padding) for the
    // user. Returns an empty string, which never matches, only if OpenSSL has
    // no randomness to give.
    std::string create(std::string user);
    // The session's user if the token is valid, refreshing its idle timer.
    std::optional<std::string> touch(std::string_view token);
    bool remove(std::string_view token);
    // Ends every session of the user (password change, account removal).
    // Compared case-insensitively, like account names.
    void remove_user(std::string_view user);
    std::size_t size() const;

private:
    using Digest = std::array<unsigned char, 32>;
    struct DigestHash {
        // The digest is already uniformly random; any eight bytes of it do.
        std::size_t operator()(Digest const& digest) const {
            std::size_t value;
            std::memcpy(&value, digest.data(), sizeof value);
            return value;
        }
    };
    struct Session {
        std::string user;
        std::chrono::steady_clock::time_point last_used;
        // Position in m_by_use.
        std::list<Digest>::iterator use_position;
    };
    using SessionMap = std::unordered_map<Digest, Session, DigestHash>;

    static std::optional<Digest> digest_of(std::string_view token);
    bool is_expired(Session const& session, std::chrono::steady_clock::time_point now) const;
    void erase_locked(SessionMap::iterator it);
    void purge_expired_locked(std::chrono::steady_clock::time_point now);

    std::chrono::seconds m_idle_timeout;
    Clock m_clock;
    std::size_t m_max_sessions;

    mutable std::mutex m_mutex;
    SessionMap m_sessions;
    // Digests ordered by last use, most recent first. The clock is monotonic,
    // so the back is both the least recently used and the first to expire.
    std::list<Digest> m_by_use;
};

} // namespace vsa::appliance
