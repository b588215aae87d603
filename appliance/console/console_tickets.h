// SPDX-License-Identifier: GPL-2.0-or-later
// One-time VNC passwords for the plain VNC listener (IVMVirtualMachine.
// CreateConsoleTicket). A ticket is 8 random characters (all that VNC
// authentication's DES key uses), belongs to one VM, lives 60 s and works
// once: the first VNC authentication that proves it uses it up.
//
// VNC authentication (RFB 3.8, 7.2.2) never sends the password: the server
// sends a random 16-byte challenge and the client answers it DES-encrypted
// with the password as the key. So the server cannot look a ticket up; it
// computes the expected answer for each of the VM's live tickets and
// compares. Every live ticket is tried (no early exit) and the comparison
// is constant-time, so the time an answer takes says nothing about how
// close it came.
#pragma once

#include "hypervisor/base/types.h"
#include "services/model/guid.h"

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace vsa::appliance::console {

// Equal length and bytes, in a time that depends only on the length.
bool constant_time_equal(std::span<u8 const> a, std::span<u8 const> b);

inline constexpr std::size_t VNC_CHALLENGE_SIZE = 16;
using VncChallenge = std::array<u8, VNC_CHALLENGE_SIZE>;
// The answer a VNC client gives to `challenge` with `password` (libvncserver's
// DES, so it matches what every VNC client computes).
VncChallenge vnc_auth_response(VncChallenge const& challenge, std::string const& password);

class TicketStore {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds LIFETIME{60};
    static constexpr std::size_t PASSWORD_LENGTH = 8;
    // Live tickets kept per VM; issuing more drops the oldest (a client
    // asking in a loop cannot grow vsad's memory or the work per attempt).
    static constexpr std::size_t MAX_LIVE_PER_VM = 8;

    struct Ticket {
        std::string password;
        Clock::time_point expires;
    };

    // A new ticket for `vm` (random password from the system CSPRNG; throws
    // std::runtime_error if that fails).
    Ticket issue(services::Guid const& vm, Clock::time_point now);
    // Tries `matches` on every live ticket of `vm`; if one matched, it is
    // used up and true is returned. Expired tickets are dropped.
    bool redeem(services::Guid const& vm, std::function<bool(std::string const& password)> const& matches,
                Clock::time_point now);
    // The VNC authentication check: `response` to `challenge` against the
    // VM's live tickets (see redeem).
    bool redeem_vnc_response(services::Guid const& vm, VncChallenge const& challenge,
                             std::span<u8 const> response, Clock::time_point now);
    // Drops every ticket of `vm` (the VM stopped).
    void forget(services::Guid const& vm);
    std::size_t live_count(services::Guid const& vm, Clock::time_point now);

private:
    void expire_locked(services::Guid const& vm, Clock::time_point now);

    std::mutex m_mutex;
    std::map<services::Guid, std::vector<Ticket>> m_tickets;
};

} // namespace vsa::appliance::console
