// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/auth/session_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>

namespace vsa::appliance {

namespace {

constexpr std::size_t TOKEN_BYTES = 32;
constexpr std::size_t TOKEN_LENGTH = (TOKEN_BYTES * 4 + 2) / 3; // 43
constexpr char BASE64URL_ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode_base64url_unpadded(unsigned char const* bytes, std::size_t size) {
    std::string out;
    out.reserve((size * 4 + 2) / 3);
    std::uint32_t accumulator = 0;
    unsigned bits = 0;
    for (std::size_t i = 0; i < size; ++i) {
        accumulator = (accumulator << 8) | bytes[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += BASE64URL_ALPHABET[(accumulator >> bits) & 63];
        }
        accumulator &= (1u << bits) - 1;
    }
    if (bits > 0) out += BASE64URL_ALPHABET[(accumulator << (6 - bits)) & 63];
    return out;
}

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

} // namespace

SessionStore::SessionStore(std::chrono::seconds idle_timeout, Clock clock, std::size_t max_sessions)
    : m_idle_timeout(idle_timeout), m_clock(steady_clock_or_default(std::move(clock))),
      m_max_sessions(std::max<std::size_t>(max_sessions, 1)) {}

// Only strings shaped like our tokens are hashed at all; anything else
// cannot be a session, and refusing it early keeps a client from making us
// hash megabytes.
std::optional<SessionStore::Digest> SessionStore::digest_of(std::string_view token) {
    if (token.size() != TOKEN_LENGTH) return std::nullopt;
    Digest digest{};
    SHA256(reinterpret_cast<unsigned char const*>(token.data()), token.size(), digest.data());
    return digest;
}

bool SessionStore::is_expired(Session const& session, std::chrono::steady_clock::time_point now) const {
    return now - session.last_used > m_idle_timeout;
}

void SessionStore::erase_locked(SessionMap::iterator it) {
    m_by_use.erase(it->second.use_position);
    m_sessions.erase(it);
}

void SessionStore::purge_expired_locked(std::chrono::steady_clock::time_point now) {
    while (!m_by_use.empty()) {
        auto it = m_sessions.find(m_by_use.back());
        if (!is_expired(it->second, now)) break;
        erase_locked(it);
    }
}

std::string SessionStore::create(std::string user) {
    unsigned char random[TOKEN_BYTES];
    if (RAND_bytes(random, int(sizeof random)) != 1) return {};
    std::string token = encode_base64url_unpadded(random, sizeof random);
    OPENSSL_cleanse(random, sizeof random);
    auto digest = *digest_of(token);

    std::lock_guard lock(m_mutex);
    auto now = m_clock();
    // Expired sessions sit at the back of m_by_use, so dropping them here is
    // cheap and keeps abandoned logins from piling up until the cap.
    purge_expired_locked(now);
    if (m_sessions.size() >= m_max_sessions) erase_locked(m_sessions.find(m_by_use.back()));
    // A 256-bit collision does not happen; if it somehow did, replacing the
    // old session is the safe outcome (the old holder is logged out).
    if (auto existing = m_sessions.find(digest); existing != m_sessions.end()) erase_locked(existing);

    m_by_use.push_front(digest);
    m_sessions.emplace(digest, Session{std::move(user), now, m_by_use.begin()});
    return token;
}

std::optional<std::string> SessionStore::touch(std::string_view token) {
    auto digest = digest_of(token);
    if (!digest) return std::nullopt;

    std::lock_guard lock(m_mutex);
    auto it = m_sessions.find(*digest);
    if (it == m_sessions.end()) return std::nullopt;
    auto now = m_clock();
    if (is_expired(it->second, now)) {
        erase_locked(it);
        return std::nullopt;
    }
    it->second.last_used = now;
    m_by_use.splice(m_by_use.begin(), m_by_use, it->second.use_position);
    return it->second.user;
}

bool SessionStore::remove(std::string_view token) {
    auto digest = digest_of(token);
    if (!digest) return false;

    std::lock_guard lock(m_mutex);
    auto it = m_sessions.find(*digest);
    if (it == m_sessions.end()) return false;
    erase_locked(it);
    return true;
}

void SessionStore::remove_user(std::string_view user) {
    std::lock_guard lock(m_mutex);
    for (auto it = m_sessions.begin(); it != m_sessions.end();) {
        if (equal_ignoring_case(it->second.user, user)) {
            m_by_use.erase(it->second.use_position);
            it = m_sessions.erase(it);
        } else {
            ++it;
        }
    }
}

std::size_t SessionStore::size() const {
    std::lock_guard lock(m_mutex);
    return m_sessions.size();
}

} // namespace vsa::appliance
