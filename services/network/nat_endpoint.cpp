// SPDX-License-Identifier: GPL-2.0-or-later
// NAT through libslirp; see nat_endpoint.h.
#include "services/network/nat_endpoint.h"

#include <algorithm>
#include <chrono>

#include <arpa/inet.h>
#include <poll.h>
#include <slirp/libslirp.h>

namespace vsa::network {

namespace {

constexpr std::size_t MAX_GUEST_ERRORS = 64;

in_addr to_in_addr(std::uint32_t host_order) {
    in_addr a{};
    a.s_addr = htonl(host_order);
    return a;
}

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

short to_poll_events(int slirp_events) {
    short e = 0;
    if (slirp_events & SLIRP_POLL_IN) e |= POLLIN;
    if (slirp_events & SLIRP_POLL_OUT) e |= POLLOUT;
    if (slirp_events & SLIRP_POLL_PRI) e |= POLLPRI;
    return e;
}

int to_slirp_events(short revents) {
    int e = 0;
    if (revents & POLLIN) e |= SLIRP_POLL_IN;
    if (revents & POLLOUT) e |= SLIRP_POLL_OUT;
    if (revents & POLLPRI) e |= SLIRP_POLL_PRI;
    if (revents & (POLLERR | POLLNVAL)) e |= SLIRP_POLL_ERR;
    if (revents & POLLHUP) e |= SLIRP_POLL_HUP;
    return e;
}

} // namespace

struct NatEndpoint::SlirpTimer {
    SlirpTimerId id;
    void* cb_opaque;
    std::int64_t expire_ms{-1}; // -1: not armed
};

struct SlirpGlue {
    static NatEndpoint& self(void* opaque) { return *static_cast<NatEndpoint*>(opaque); }

    static ssize_t send_packet(void const* buf, size_t len, void* opaque) {
        NatEndpoint& n = self(opaque);
        // Before attached() nothing can have come in, so nothing goes out;
        // a frame then would only be dropped (TCP retransmits).
        if (n.m_send) n.m_send(std::span<std::uint8_t const>(static_cast<std::uint8_t const*>(buf), len));
        return static_cast<ssize_t>(len);
    }
    static void guest_error(char const* msg, void* opaque) {
        NatEndpoint& n = self(opaque);
        std::lock_guard lock(n.m_errors_mutex);
        if (n.m_guest_errors.size() < MAX_GUEST_ERRORS) n.m_guest_errors.emplace_back(msg ? msg : "");
    }
    static int64_t clock_ns(void*) { return steady_ns(); }
    static void* timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
        NatEndpoint& n = self(opaque);
        n.m_timers.push_back(
            std::make_unique<NatEndpoint::SlirpTimer>(NatEndpoint::SlirpTimer{id, cb_opaque}));
        return n.m_timers.back().get();
    }
    static void timer_free(void* timer, void* opaque) {
        NatEndpoint& n = self(opaque);
        std::erase_if(n.m_timers, [&](auto const& t) { return t.get() == timer; });
    }
    static void timer_mod(void* timer, int64_t expire_ms, void*) {
        static_cast<NatEndpoint::SlirpTimer*>(timer)->expire_ms = expire_ms;
    }
    static void fd_noop(int, void*) {}
    // libslirp says a socket buffer has room again: the switch thread polls
    // the stack every round anyway (its timeout comes from pollfds_fill).
    static void notify(void*) {}
    static int add_poll(int fd, int events, void* opaque) {
        NatEndpoint& n = self(opaque);
        n.m_filling->push_back(pollfd{fd, to_poll_events(events), 0});
        return static_cast<int>(n.m_filling->size() - 1 - n.m_base);
    }
    static int get_revents(int idx, void* opaque) {
        NatEndpoint& n = self(opaque);
        if (idx < 0 || static_cast<std::size_t>(idx) >= n.m_polled.size()) return 0;
        return to_slirp_events(n.m_polled[static_cast<std::size_t>(idx)].revents);
    }
};

namespace {

SlirpCb const CALLBACKS = [] {
    SlirpCb cb{};
    cb.send_packet = SlirpGlue::send_packet;
    cb.guest_error = SlirpGlue::guest_error;
    cb.clock_get_ns = SlirpGlue::clock_ns;
    cb.timer_free = SlirpGlue::timer_free;
    cb.timer_mod = SlirpGlue::timer_mod;
    cb.register_poll_fd = SlirpGlue::fd_noop;
    cb.unregister_poll_fd = SlirpGlue::fd_noop;
    cb.notify = SlirpGlue::notify;
    cb.timer_new_opaque = SlirpGlue::timer_new_opaque;
    return cb;
}();

} // namespace

NatEndpoint::NatEndpoint(Config config) : m_config(config) {}

Result<std::shared_ptr<NatEndpoint>, std::string> NatEndpoint::create(Config config) {
    auto inside = [&](std::uint32_t a) {
        return (a & config.mask) == config.network && a != config.network &&
               (a | config.mask) != 0xFFFF'FFFFu;
    };
    // A contiguous mask with at least two host bits.
    std::uint32_t inverted = ~config.mask;
    if (config.mask == 0 || (inverted & (inverted + 1)) != 0 || inverted < 3)
        return std::string("NAT: the network mask must be contiguous and leave room for hosts");
    if ((config.network & ~config.mask) != 0)
        return std::string("NAT: the network address has host bits set");
    if (!inside(config.gateway)) return std::string("NAT: the gateway must be a host address in the network");
    if (!inside(config.dns) || config.dns == config.gateway)
        return std::string("NAT: the DNS address must be another host address in the network");
    std::shared_ptr<NatEndpoint> nat(new NatEndpoint(config));
    SlirpConfig cfg{};
    cfg.version = 4;
    cfg.restricted = 0;
    cfg.in_enabled = true;
    cfg.vnetwork = to_in_addr(config.network);
    cfg.vnetmask = to_in_addr(config.mask);
    cfg.vhost = to_in_addr(config.gateway);
    cfg.in6_enabled = false;
    // Unused with DHCP off, but libslirp wants an address in the network.
    cfg.vdhcp_start = to_in_addr(config.network | 15);
    cfg.vnameserver = to_in_addr(config.dns);
    cfg.disable_host_loopback = !config.host_loopback;
    cfg.enable_emu = false; // its protocol emulations are not safe (libslirp.h)
    cfg.disable_dns = false;
    cfg.disable_dhcp = true; // the network's own DHCP server answers
    nat->m_slirp = slirp_new(&cfg, &CALLBACKS, nat.get());
    if (!nat->m_slirp) return std::string("NAT: libslirp refused the configuration");
    return nat;
}

NatEndpoint::~NatEndpoint() {
    if (m_slirp) slirp_cleanup(m_slirp);
}

void NatEndpoint::attached(Sender sender) {
    m_send = std::move(sender);
}

void NatEndpoint::deliver(std::span<std::uint8_t const> frame) {
    // libslirp parses what it is given with its own length checks; frames
    // the switch passes are 14..1518 bytes.
    slirp_input(m_slirp, frame.data(), static_cast<int>(frame.size()));
}

void NatEndpoint::before_poll(std::vector<pollfd>& fds, int& timeout_ms) {
    m_filling = &fds;
    m_base = fds.size();
    std::uint32_t timeout = timeout_ms < 0 ? UINT32_MAX : static_cast<std::uint32_t>(timeout_ms);
    slirp_pollfds_fill(m_slirp, &timeout, SlirpGlue::add_poll, this);
    m_filling = nullptr;
    std::int64_t now_ms = steady_ns() / 1'000'000;
    for (auto const& t : m_timers)
        if (t->expire_ms >= 0)
            timeout = std::min<std::uint32_t>(
                timeout, static_cast<std::uint32_t>(std::max<std::int64_t>(0, t->expire_ms - now_ms)));
    timeout_ms = timeout > 1000 ? 1000 : static_cast<int>(timeout);
}

void NatEndpoint::after_poll(std::span<pollfd const> fds) {
    m_polled = fds;
    slirp_pollfds_poll(m_slirp, 0, SlirpGlue::get_revents, this);
    m_polled = {};
    run_timers();
}

void NatEndpoint::run_timers() {
    std::int64_t now_ms = steady_ns() / 1'000'000;
    // A timer callback may re-arm or free timers: collect first.
    std::vector<std::pair<SlirpTimerId, void*>> due;
    for (auto& t : m_timers) {
        if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
            t->expire_ms = -1;
            due.emplace_back(t->id, t->cb_opaque);
        }
    }
    for (auto const& [id, opaque] : due)
        slirp_handle_timer(m_slirp, id, opaque);
}

std::vector<std::string> NatEndpoint::take_guest_errors() {
    std::vector<std::string> out;
    std::lock_guard lock(m_errors_mutex);
    out.swap(m_guest_errors);
    return out;
}

} // namespace vsa::network
