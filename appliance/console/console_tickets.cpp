// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/console/console_tickets.h"

#include "appliance/password_generator.h"

#include <rfb/rfb.h> // extern "C" around rfbproto.h (rfbEncryptBytes)

#include <algorithm>
#include <cstring>

namespace vsa::appliance::console {

bool constant_time_equal(std::span<u8 const> a, std::span<u8 const> b) {
    if (a.size() != b.size()) return false;
    // volatile: the compiler must not turn the loop into an early exit.
    volatile u8 difference = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        difference = static_cast<u8>(difference | (a[i] ^ b[i]));
    return difference == 0;
}

VncChallenge vnc_auth_response(VncChallenge const& challenge, std::string const& password) {
    VncChallenge bytes = challenge;
    // rfbEncryptBytes reads at most 8 characters of a NUL-terminated key.
    char key[9] = {};
    std::memcpy(key, password.data(), std::min<std::size_t>(password.size(), 8));
    rfbEncryptBytes(bytes.data(), key);
    std::memset(key, 0, sizeof key);
    return bytes;
}

TicketStore::Ticket TicketStore::issue(services::Guid const& vm, Clock::time_point now) {
    Ticket ticket{generate_password(PASSWORD_LENGTH), now + LIFETIME};
    std::lock_guard lock(m_mutex);
    expire_locked(vm, now);
    auto& tickets = m_tickets[vm];
    if (tickets.size() >= MAX_LIVE_PER_VM) tickets.erase(tickets.begin());
    tickets.push_back(ticket);
    return ticket;
}

bool TicketStore::redeem(services::Guid const& vm,
                         std::function<bool(std::string const& password)> const& matches,
                         Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    expire_locked(vm, now);
    auto it = m_tickets.find(vm);
    if (it == m_tickets.end()) return false;
    auto& tickets = it->second;
    std::size_t matched = tickets.size();
    // Every ticket is tried, whichever matches.
    for (std::size_t i = 0; i < tickets.size(); ++i)
        if (matches(tickets[i].password) && matched == tickets.size()) matched = i;
    if (matched == tickets.size()) return false;
    tickets.erase(tickets.begin() + static_cast<std::ptrdiff_t>(matched));
    if (tickets.empty()) m_tickets.erase(it);
    return true;
}

bool TicketStore::redeem_vnc_response(services::Guid const& vm, VncChallenge const& challenge,
                                      std::span<u8 const> response, Clock::time_point now) {
    if (response.size() != VNC_CHALLENGE_SIZE) return false;
    return redeem(
        vm,
        [&](std::string const& password) {
            auto expected = vnc_auth_response(challenge, password);
            return constant_time_equal(expected, response);
        },
        now);
}

void TicketStore::forget(services::Guid const& vm) {
    std::lock_guard lock(m_mutex);
    m_tickets.erase(vm);
}

std::size_t TicketStore::live_count(services::Guid const& vm, Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    expire_locked(vm, now);
    auto it = m_tickets.find(vm);
    return it == m_tickets.end() ? 0 : it->second.size();
}

void TicketStore::expire_locked(services::Guid const& vm, Clock::time_point now) {
    auto it = m_tickets.find(vm);
    if (it == m_tickets.end()) return;
    std::erase_if(it->second, [&](Ticket const& ticket) { return ticket.expires <= now; });
    if (it->second.empty()) m_tickets.erase(it);
}

} // namespace vsa::appliance::console
