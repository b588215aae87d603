// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/auth/login_throttle.h"

#include <algorithm>

namespace vsa::appliance {

LoginThrottle::LoginThrottle(Params params, SteadyClockFn clock)
    : m_params(params), m_clock(steady_clock_or_default(std::move(clock))) {
    // Zero would mean "lock before the first failure" or "track nobody";
    // neither is a configuration anyone means.
    m_params.max_failures = std::max(m_params.max_failures, 1);
    m_params.max_clients = std::max<std::size_t>(m_params.max_clients, 1);
}

bool LoginThrottle::forget_stale(Client& client, TimePoint now) const {
    if (client.locked_until && now >= *client.locked_until) client.locked_until.reset();
    while (!client.failures.empty() && now - client.failures.front() >= m_params.window)
        client.failures.pop_front();
    return !client.locked_until && client.failures.empty();
}

void LoginThrottle::erase_locked(ClientMap::iterator it) {
    m_by_activity.erase(it->second.activity_position);
    m_clients.erase(it);
}

bool LoginThrottle::is_locked(std::string const& client) {
    std::lock_guard lock(m_mutex);
    auto it = m_clients.find(client);
    if (it == m_clients.end()) return false;
    if (forget_stale(it->second, m_clock())) {
        erase_locked(it);
        return false;
    }
    return it->second.locked_until.has_value();
}

void LoginThrottle::record_failure(std::string const& client) {
    std::lock_guard lock(m_mutex);
    auto now = m_clock();
    auto it = m_clients.find(client);
    if (it == m_clients.end()) {
        if (m_clients.size() >= m_params.max_clients) erase_locked(m_clients.find(m_by_activity.back()));
        m_by_activity.push_front(client);
        it = m_clients.emplace(client, Client{{}, std::nullopt, m_by_activity.begin()}).first;
    } else {
        m_by_activity.splice(m_by_activity.begin(), m_by_activity, it->second.activity_position);
    }

    Client& entry = it->second;
    forget_stale(entry, now);
    // Failures while locked out do not extend the lockout: a well-behaved
    // client never gets here (callers check is_locked first), and extending
    // it would let a third party keep a shared NAT address locked forever.
    if (entry.locked_until) return;
    entry.failures.push_back(now);
    if (entry.failures.size() >= std::size_t(m_params.max_failures)) {
        entry.locked_until = now + m_params.lockout;
        entry.failures.clear();
    }
}

void LoginThrottle::record_success(std::string const& client) {
    std::lock_guard lock(m_mutex);
    auto it = m_clients.find(client);
    if (it == m_clients.end()) return;
    // A running lockout stays: a caller that skipped is_locked() must not be
    // able to lift it with one lucky guess.
    forget_stale(it->second, m_clock());
    it->second.failures.clear();
    if (!it->second.locked_until) erase_locked(it);
}

std::chrono::seconds LoginThrottle::retry_after(std::string const& client) {
    std::lock_guard lock(m_mutex);
    auto it = m_clients.find(client);
    if (it == m_clients.end()) return std::chrono::seconds{0};
    auto now = m_clock();
    if (forget_stale(it->second, now)) {
        erase_locked(it);
        return std::chrono::seconds{0};
    }
    if (!it->second.locked_until) return std::chrono::seconds{0};
    return std::chrono::ceil<std::chrono::seconds>(*it->second.locked_until - now);
}

std::size_t LoginThrottle::size() const {
    std::lock_guard lock(m_mutex);
    return m_clients.size();
}

} // namespace vsa::appliance
