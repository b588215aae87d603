// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/auth/authenticator.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace vsa::appliance {

namespace {

constexpr std::size_t MAX_CACHED_CREDENTIALS = 1024;

bool iequals_prefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    return true;
}

} // namespace

bool parse_basic_authorization(std::string_view header, std::string& user, std::string& password) {
    if (!iequals_prefix(header, "basic ")) return false;
    auto encoded = header.substr(6);
    while (!encoded.empty() && encoded.front() == ' ')
        encoded.remove_prefix(1);
    while (!encoded.empty() && encoded.back() == ' ')
        encoded.remove_suffix(1);
    if (encoded.empty() || encoded.size() > 4096 || encoded.size() % 4 != 0) return false;
    std::string decoded(encoded.size() / 4 * 3, '\0');
    int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                 reinterpret_cast<unsigned char const*>(encoded.data()),
                                 static_cast<int>(encoded.size()));
    if (length < 0) return false;
    // EVP_DecodeBlock counts the padding as zero bytes: drop them.
    if (encoded.ends_with("=="))
        length -= 2;
    else if (encoded.ends_with('='))
        length -= 1;
    decoded.resize(static_cast<std::size_t>(length));
    auto colon = decoded.find(':');
    if (colon == std::string::npos || colon == 0) return false;
    user = decoded.substr(0, colon);
    password = decoded.substr(colon + 1);
    OPENSSL_cleanse(decoded.data(), decoded.size());
    return true;
}

std::size_t Authenticator::DigestHash::operator()(Digest const& d) const {
    std::size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
}

Authenticator::Authenticator(AccountStore& accounts, SessionStore& sessions, LoginThrottle& throttle,
                             AuthConfig config)
    : m_accounts(accounts), m_sessions(sessions), m_throttle(throttle), m_config(std::move(config)),
      m_hash_slots(std::max<std::ptrdiff_t>(1, std::thread::hardware_concurrency())) {
    RAND_bytes(m_cache_key.data(), static_cast<int>(m_cache_key.size()));
}

Authenticator::Digest Authenticator::credential_digest(std::string_view user,
                                                       std::string_view password) const {
    Digest out{};
    unsigned int length = 0;
    std::string message;
    message.reserve(user.size() + 1 + password.size());
    message.append(user).push_back('\0');
    message.append(password);
    HMAC(EVP_sha256(), m_cache_key.data(), static_cast<int>(m_cache_key.size()),
         reinterpret_cast<unsigned char const*>(message.data()), message.size(), out.data(), &length);
    OPENSSL_cleanse(message.data(), message.size());
    return out;
}

std::optional<Principal> Authenticator::principal_for(std::string_view user) const {
    auto account = m_accounts.find(user);
    if (!account) return std::nullopt;
    return Principal{account->name, account->administrator, account->groups};
}

AuthOutcome Authenticator::failed(std::string const& client) {
    m_throttle.record_failure(client);
    // The delay makes guessing slow even below the lockout threshold. It
    // holds this worker, which is why the lockout answers 429 at once.
    if (m_config.failure_delay.count() > 0) std::this_thread::sleep_for(m_config.failure_delay);
    return {AuthStatus::BadCredentials, std::nullopt, {}, {}};
}

AuthOutcome Authenticator::verify_password(std::string const& user, std::string_view password,
                                           std::string const& client) {
    if (m_throttle.is_locked(client))
        return {AuthStatus::LockedOut, std::nullopt, m_throttle.retry_after(client), {}};

    sync_accounts();
    auto digest = credential_digest(user, password);
    auto generation = m_accounts.generation();
    std::shared_ptr<PendingVerification> pending;
    bool leader = false;
    {
        std::lock_guard lock(m_cache_mutex);
        auto now = std::chrono::steady_clock::now();
        auto it = m_cache.find(digest);
        if (it != m_cache.end()) {
            if (it->second.expires > now && it->second.generation == generation) {
                if (auto principal = principal_for(it->second.user)) {
                    // Sliding expiry: a client that keeps calling never has
                    // all its connections miss at the same moment.
                    it->second.expires = now + m_config.credential_cache;
                    return {AuthStatus::Authenticated, std::move(principal), {}, {}};
                }
            }
            m_cache.erase(it);
        }
        // Single flight: when many connections bring the same credential at
        // once (a client's first burst), one runs the slow hash and the rest
        // wait for its answer instead of each spending 32 MiB and ~150 ms.
        auto& slot = m_pending[digest];
        if (!slot) {
            slot = std::make_shared<PendingVerification>();
            leader = true;
        }
        pending = slot;
    }

    if (!leader) {
        std::unique_lock lock(pending->mutex);
        pending->done_changed.wait(lock, [&] { return pending->done; });
        if (!pending->verified) return failed(client);
        auto principal = principal_for(user);
        if (!principal) return failed(client);
        return {AuthStatus::Authenticated, std::move(principal), {}, {}};
    }

    bool verified;
    {
        // At most as many slow hashes at once as there are cores: a flood of
        // distinct wrong passwords queues here instead of exhausting memory.
        m_hash_slots.acquire();
        verified = m_accounts.verify(user, password);
        m_hash_slots.release();
    }
    auto principal = verified ? principal_for(user) : std::nullopt; // removed while we were hashing?
    {
        std::lock_guard lock(m_cache_mutex);
        if (principal && m_config.credential_cache.count() > 0) {
            auto now = std::chrono::steady_clock::now();
            if (m_cache.size() >= MAX_CACHED_CREDENTIALS) {
                std::erase_if(m_cache, [&](auto const& entry) { return entry.second.expires <= now; });
                if (m_cache.size() >= MAX_CACHED_CREDENTIALS) m_cache.clear();
            }
            m_cache[digest] = {principal->user, now + m_config.credential_cache, generation};
        }
        m_pending.erase(digest);
    }
    {
        std::lock_guard lock(pending->mutex);
        pending->done = true;
        pending->verified = principal.has_value();
    }
    pending->done_changed.notify_all();

    if (!principal) return failed(client);
    m_throttle.record_success(client);
    return {AuthStatus::Authenticated, std::move(principal), {}, {}};
}

AuthOutcome Authenticator::from_http(std::string_view authorization, std::string_view cookie_token,
                                     std::string const& client) {
    if (!authorization.empty()) {
        std::string user, password;
        if (!parse_basic_authorization(authorization, user, password)) {
            if (m_throttle.is_locked(client))
                return {AuthStatus::LockedOut, std::nullopt, m_throttle.retry_after(client), {}};
            return failed(client);
        }
        auto outcome = verify_password(user, password, client);
        OPENSSL_cleanse(password.data(), password.size());
        return outcome;
    }
    if (!cookie_token.empty()) {
        auto outcome = from_token(cookie_token);
        // An expired cookie is not an attack: treat it as no credentials so
        // Session_Logon still works from a browser holding a stale cookie.
        if (outcome.status == AuthStatus::BadCredentials) outcome.status = AuthStatus::NoCredentials;
        return outcome;
    }
    return {};
}

void Authenticator::sync_accounts() {
    auto now = std::chrono::steady_clock::now().time_since_epoch() / std::chrono::nanoseconds(1);
    auto due = m_next_sync_ns.load(std::memory_order_relaxed);
    if (now < due) return;
    // One thread checks per second; the others go on with what memory holds.
    if (!m_next_sync_ns.compare_exchange_strong(due, now + 1'000'000'000)) return;
    auto stale = m_accounts.refresh();
    // A file we cannot read now (being edited by hand, say) is not a
    // reason to refuse everybody: memory keeps the last good version (and
    // changes are refused until the file reads again).
    if (stale.is_error()) return;
    for (auto const& user : stale.value())
        forget_credentials_of(user);
}

AuthOutcome Authenticator::from_token(std::string_view token) {
    if (token.empty() || token.size() > 256) return {AuthStatus::BadCredentials, std::nullopt, {}, {}};
    sync_accounts();
    auto user = m_sessions.touch(token);
    if (!user) return {AuthStatus::BadCredentials, std::nullopt, {}, {}};
    auto principal = principal_for(*user);
    if (!principal) {
        m_sessions.remove(token);
        return {AuthStatus::BadCredentials, std::nullopt, {}, {}};
    }
    return {AuthStatus::Authenticated, std::move(principal), {}, {}};
}

AuthOutcome Authenticator::logon(std::string const& user, std::string_view password,
                                 std::string const& client) {
    auto outcome = verify_password(user, password, client);
    if (outcome.status == AuthStatus::Authenticated)
        outcome.session_token = m_sessions.create(outcome.principal->user);
    return outcome;
}

AuthOutcome Authenticator::check_password(std::string const& user, std::string_view password,
                                          std::string const& client) {
    return verify_password(user, password, client);
}

void Authenticator::forget_credentials_of(std::string_view user) {
    m_sessions.remove_user(user);
    // The store's generation moved on with the change, which already makes
    // every cached entry stale; dropping the account's entries as well
    // means no later reasoning about generations has to hold for this.
    std::lock_guard lock(m_cache_mutex);
    std::erase_if(m_cache, [&](auto const& entry) {
        auto const& cached = entry.second.user;
        return cached.size() == user.size() &&
               std::equal(cached.begin(), cached.end(), user.begin(), [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) ==
                          std::tolower(static_cast<unsigned char>(b));
               });
    });
}

Result<void, AccountError> Authenticator::set_password(std::string const& user, std::string_view password) {
    auto changed = m_accounts.try_set_password(user, password);
    if (changed.has_value()) forget_credentials_of(user);
    return changed;
}

Result<void, AccountError> Authenticator::remove_account(std::string const& user) {
    auto removed = m_accounts.try_remove(user, true);
    if (removed.has_value()) forget_credentials_of(user);
    return removed;
}

} // namespace vsa::appliance
