// SPDX-License-Identifier: GPL-2.0-or-later
// LoginThrottle: slows password guessing per client address. After
// max_failures failed logins within `window`, the address is refused for
// `lockout` (callers answer with 429/Retry-After or a SOAP fault without
// running scrypt). It is keyed by address, not by user name, so an attacker
// cannot lock the administrator out by failing on purpose; guessing from
// many addresses is left to the firewall.
//
// Memory is bounded: at max_clients tracked addresses the one least recently
// seen failing is forgotten. A flood from many addresses can therefore free
// a locked one early, which is the price of not growing without bound.
#pragma once

#include "appliance/auth/clock.h"

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace vsa::appliance {

class LoginThrottle {
public:
    struct Params {
        int max_failures = 5;
        std::chrono::seconds window{60};
        std::chrono::seconds lockout{60};
        std::size_t max_clients = 4096;
    };

    // An empty clock means std::chrono::steady_clock::now.
    explicit LoginThrottle(Params params, SteadyClockFn clock = {});

    LoginThrottle(LoginThrottle const&) = delete;
    LoginThrottle& operator=(LoginThrottle const&) = delete;

    bool is_locked(std::string const& client);
    void record_failure(std::string const& client);
    // Clears the failure history; a lockout already running still runs out.
    void record_success(std::string const& client);
    // Remaining lockout rounded up to whole seconds, 0 when not locked.
    std::chrono::seconds retry_after(std::string const& client);
    // Addresses currently tracked; never more than max_clients.
    std::size_t size() const;

private:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct Client {
        // Failures inside the window, oldest first; never more than
        // max_failures because reaching it locks and clears.
        std::deque<TimePoint> failures;
        std::optional<TimePoint> locked_until;
        std::list<std::string>::iterator activity_position;
    };
    using ClientMap = std::unordered_map<std::string, Client>;

    // Drops an expired lockout and failures older than the window. Returns
    // true if nothing is left to remember.
    bool forget_stale(Client& client, TimePoint now) const;
    void erase_locked(ClientMap::iterator it);

    Params m_params;
    SteadyClockFn m_clock;

    mutable std::mutex m_mutex;
    ClientMap m_clients;
    // Addresses by last failure, most recent first.
    std::list<std::string> m_by_activity;
};

} // namespace vsa::appliance
