// SPDX-License-Identifier: GPL-2.0-or-later
// The virtual network's learning switch; see virtual_switch.h.
#include "services/network/virtual_switch.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vsa::network {

namespace {

// Bounds the endpoint frames handled after one incoming frame.
constexpr std::size_t OUTBOX_BUDGET = 1024;

} // namespace

struct VirtualSwitch::Port {
    PortId id{0};
    std::string label;
    FileDescriptor socket;              // a worker's NIC, or
    std::shared_ptr<Endpoint> endpoint; // an endpoint in vsad
    bool endpoint_started{false};
    PortStats stats;
};

VirtualSwitch::VirtualSwitch(std::string name)
    : m_name(std::move(name)), m_sampled_at(std::chrono::steady_clock::now()) {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    // Without its wake-up descriptor the switch still works: attach and
    // detach then take effect within the poll timeout below.
    if (fd >= 0) m_wake = FileDescriptor(fd);
    m_thread = std::thread([this] { run(); });
}

VirtualSwitch::~VirtualSwitch() {
    m_stop.store(true);
    wake();
    if (m_thread.joinable()) m_thread.join();
}

void VirtualSwitch::wake() {
    if (!m_wake.is_open()) return;
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_wake.fd(), &one, sizeof one);
}

std::uint64_t VirtualSwitch::now_seconds() const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

Result<PortId, std::string> VirtualSwitch::attach_socket(FileDescriptor socket, std::string label) {
    int type = 0;
    socklen_t len = sizeof type;
    if (!socket.is_open() || ::getsockopt(socket.fd(), SOL_SOCKET, SO_TYPE, &type, &len) != 0)
        return std::string("not a socket");
    if (type != SOCK_SEQPACKET && type != SOCK_DGRAM)
        return std::string("a network port needs a datagram or seqpacket socket (one frame per message)");
    auto port = std::make_unique<Port>();
    port->label = std::move(label);
    port->socket = std::move(socket);
    return add_port(std::move(port));
}

PortId VirtualSwitch::add_port(std::unique_ptr<Port> port) {
    PortId id;
    {
        std::lock_guard lock(m_mutex);
        id = m_next_id++;
        port->id = id;
        m_ports.emplace(id, std::move(port));
    }
    wake();
    return id;
}

PortId VirtualSwitch::attach_endpoint(std::shared_ptr<Endpoint> endpoint, std::string label) {
    auto port = std::make_unique<Port>();
    port->label = std::move(label);
    port->endpoint = std::move(endpoint);
    return add_port(std::move(port));
}

bool VirtualSwitch::detach(PortId port) {
    {
        std::lock_guard lock(m_mutex);
        if (!m_ports.count(port)) return false;
        remove_port_locked(port);
    }
    wake();
    return true;
}

FileDescriptor VirtualSwitch::release(PortId port) {
    FileDescriptor socket;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_ports.find(port);
        if (it == m_ports.end() || it->second->endpoint) return socket;
        // The switch thread may still be polling the descriptor; it no
        // longer reads it (the port is gone from the map), and the
        // descriptor stays open in its new owner's hands.
        socket = std::move(it->second->socket);
        remove_port_locked(port);
    }
    wake();
    return socket;
}

void VirtualSwitch::remove_port_locked(PortId id) {
    auto it = m_ports.find(id);
    if (it == m_ports.end()) return;
    PortStats const& s = it->second->stats;
    m_departed.frames_sent += s.frames_sent;
    m_departed.bytes_sent += s.bytes_sent;
    m_departed.frames_received += s.frames_received;
    m_departed.bytes_received += s.bytes_received;
    m_departed.frames_dropped += s.frames_dropped;
    m_graveyard.push_back(std::move(it->second));
    m_ports.erase(it);
    forget_port_locked(id);
}

void VirtualSwitch::forget_port_locked(PortId id) {
    for (auto it = m_table.begin(); it != m_table.end();) {
        if (it->second.port == id)
            it = m_table.erase(it);
        else
            ++it;
    }
}

bool VirtualSwitch::has_port(PortId port) const {
    std::lock_guard lock(m_mutex);
    return m_ports.count(port) != 0;
}

std::vector<PortId> VirtualSwitch::ports() const {
    std::lock_guard lock(m_mutex);
    std::vector<PortId> ids;
    for (auto const& [id, port] : m_ports)
        ids.push_back(id);
    return ids;
}

std::optional<PortStats> VirtualSwitch::stats(PortId port) const {
    std::lock_guard lock(m_mutex);
    auto it = m_ports.find(port);
    if (it == m_ports.end()) return std::nullopt;
    return it->second->stats;
}

PortStats VirtualSwitch::totals() const {
    std::lock_guard lock(m_mutex);
    return totals_locked();
}

PortStats VirtualSwitch::totals_locked() const {
    PortStats t = m_departed;
    for (auto const& [id, port] : m_ports) {
        t.frames_sent += port->stats.frames_sent;
        t.bytes_sent += port->stats.bytes_sent;
        t.frames_received += port->stats.frames_received;
        t.bytes_received += port->stats.bytes_received;
        t.frames_dropped += port->stats.frames_dropped;
    }
    return t;
}

TrafficRates VirtualSwitch::rates() const {
    std::lock_guard lock(m_mutex);
    return m_rates;
}

void VirtualSwitch::sample_locked() {
    auto now = std::chrono::steady_clock::now();
    auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - m_sampled_at).count();
    if (elapsed < 1) return;
    PortStats t = totals_locked();
    Sample s{t.bytes_sent,  t.bytes_received,  m_bytes_dropped,
             t.frames_sent, t.frames_received, t.frames_dropped};
    auto push = [&](TrafficRates::Series& series, std::uint64_t total, std::uint64_t last) {
        // A late sample (a busy host) puts the whole delta in one second and
        // zeros for the others it missed, so the minute's sum stays right.
        std::uint64_t delta = total - last;
        std::size_t shift = std::min<std::size_t>(static_cast<std::size_t>(elapsed), TrafficRates::SECONDS);
        std::move_backward(series.history.begin(), series.history.end() - static_cast<std::ptrdiff_t>(shift),
                           series.history.end());
        std::fill(series.history.begin(), series.history.begin() + static_cast<std::ptrdiff_t>(shift), 0u);
        series.history[0] = static_cast<std::uint32_t>(std::min<std::uint64_t>(delta, UINT32_MAX));
        series.current = delta / static_cast<std::uint64_t>(elapsed);
    };
    push(m_rates.bytes_received, s.bytes_received, m_last_sample.bytes_received);
    push(m_rates.bytes_sent, s.bytes_sent, m_last_sample.bytes_sent);
    push(m_rates.bytes_dropped, s.bytes_dropped, m_last_sample.bytes_dropped);
    push(m_rates.packets_received, s.packets_received, m_last_sample.packets_received);
    push(m_rates.packets_sent, s.packets_sent, m_last_sample.packets_sent);
    push(m_rates.packets_dropped, s.packets_dropped, m_last_sample.packets_dropped);
    m_last_sample = s;
    m_sampled_at = now;
}

std::map<Mac, PortId> VirtualSwitch::learned() const {
    std::lock_guard lock(m_mutex);
    std::map<Mac, PortId> out;
    for (auto const& [mac, entry] : m_table)
        out.emplace(mac, entry.port);
    return out;
}

// ---- the switch thread ------------------------------------------------------

void VirtualSwitch::start_endpoint(Port& port) {
    if (port.endpoint_started) return;
    port.endpoint_started = true;
    PortId pid = port.id;
    port.endpoint->attached([this, pid](std::span<std::uint8_t const> frame) {
        // Runs on this thread with m_mutex held (from deliver or
        // after_poll): queued, not recursed.
        m_outbox.push_back(Queued{pid, std::vector<std::uint8_t>(frame.begin(), frame.end())});
    });
}

void VirtualSwitch::send_to(Port& to, std::span<std::uint8_t const> frame) {
    if (to.endpoint) {
        // An endpoint attached while this round's frames were being read
        // gets its sender before its first frame (its answer would be lost).
        start_endpoint(to);
        to.stats.frames_received++;
        to.stats.bytes_received += frame.size();
        to.endpoint->deliver(frame);
        return;
    }
    ssize_t n = ::send(to.socket.fd(), frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(frame.size())) {
        to.stats.frames_received++;
        to.stats.bytes_received += frame.size();
    } else {
        to.stats.frames_dropped++; // congested (EAGAIN) or gone (the read side notices)
        m_bytes_dropped += frame.size();
    }
}

void VirtualSwitch::forward(Port& from, std::span<std::uint8_t const> frame, std::uint64_t now) {
    if (frame.size() < MIN_FRAME || frame.size() > MAX_FRAME) {
        from.stats.frames_dropped++;
        m_bytes_dropped += frame.size();
        return;
    }
    from.stats.frames_sent++;
    from.stats.bytes_sent += frame.size();
    Mac src = source_mac(frame);
    Mac dst = destination_mac(frame);
    if (!is_multicast(src)) m_table[src] = Learned{from.id, now};
    if (!is_multicast(dst)) {
        auto it = m_table.find(dst);
        if (it != m_table.end() && now - it->second.seen <= AGING_SECONDS) {
            if (it->second.port == from.id) return; // both on that port: not ours to repeat
            auto to = m_ports.find(it->second.port);
            if (to != m_ports.end()) {
                send_to(*to->second, frame);
                return;
            }
        }
    }
    for (auto& [id, port] : m_ports)
        if (id != from.id) send_to(*port, frame);
}

void VirtualSwitch::drain_outbox(std::uint64_t now) {
    std::size_t handled = 0;
    while (!m_outbox.empty() && handled < OUTBOX_BUDGET) {
        std::vector<Queued> batch;
        batch.swap(m_outbox);
        for (auto& q : batch) {
            if (++handled > OUTBOX_BUDGET) break;
            auto it = m_ports.find(q.from);
            if (it != m_ports.end()) forward(*it->second, q.frame, now);
        }
    }
    m_outbox.clear(); // past the budget: endpoints looping on each other lose the rest
}

void VirtualSwitch::read_socket(Port& port, std::uint64_t now) {
    std::uint8_t buffer[MAX_FRAME + 1];
    for (unsigned i = 0; i < READ_BUDGET; ++i) {
        ssize_t n = ::recv(port.socket.fd(), buffer, sizeof buffer, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            remove_port_locked(port.id); // the socket failed: unplugged
            return;
        }
        if (n == 0) {
            // A seqpacket peer that closed reads 0 (an empty datagram on a
            // DGRAM socket too: that one is only a runt).
            int type = 0;
            socklen_t len = sizeof type;
            ::getsockopt(port.socket.fd(), SOL_SOCKET, SO_TYPE, &type, &len);
            if (type == SOCK_SEQPACKET) {
                remove_port_locked(port.id);
                return;
            }
            port.stats.frames_dropped++;
            continue;
        }
        if (static_cast<std::size_t>(n) > MAX_FRAME) {
            port.stats.frames_dropped++; // MSG_TRUNC: the datagram was longer
            m_bytes_dropped += static_cast<std::uint64_t>(n);
            continue;
        }
        forward(port, std::span<std::uint8_t const>(buffer, static_cast<std::size_t>(n)), now);
        drain_outbox(now);
        if (!m_ports.count(port.id)) return;
    }
}

void VirtualSwitch::run() {
    std::vector<pollfd> fds;
    // What each entry of `fds` belongs to: a socket port, an endpoint's
    // range, or the wake-up descriptor.
    struct Slot {
        PortId port;
        std::size_t first;
        std::size_t count;
        bool endpoint;
    };
    std::vector<Slot> slots;
    while (!m_stop.load()) {
        int timeout = 1000;
        fds.clear();
        slots.clear();
        {
            std::unique_lock lock(m_mutex);
            m_graveyard.clear();
            std::uint64_t now = now_seconds();
            for (auto& [id, port] : m_ports) {
                if (port->endpoint) {
                    start_endpoint(*port);
                    std::size_t first = fds.size();
                    int endpoint_timeout = -1;
                    port->endpoint->before_poll(fds, endpoint_timeout);
                    if (endpoint_timeout >= 0 && endpoint_timeout < timeout) timeout = endpoint_timeout;
                    slots.push_back(Slot{id, first, fds.size() - first, true});
                } else {
                    slots.push_back(Slot{id, fds.size(), 1, false});
                    fds.push_back(pollfd{port->socket.fd(), POLLIN, 0});
                }
            }
            drain_outbox(now);
            sample_locked();
            // Aging: forget what was not heard from for AGING_SECONDS.
            for (auto it = m_table.begin(); it != m_table.end();) {
                if (now - it->second.seen > AGING_SECONDS)
                    it = m_table.erase(it);
                else
                    ++it;
            }
        }
        std::size_t wake_index = fds.size();
        if (m_wake.is_open()) fds.push_back(pollfd{m_wake.fd(), POLLIN, 0});
        int ready = ::poll(fds.data(), fds.size(), m_wake.is_open() ? timeout : std::min(timeout, 100));
        if (ready < 0 && errno != EINTR) {
            // Nothing sensible to do but not spin.
            ::usleep(10000);
            continue;
        }
        if (m_wake.is_open() && wake_index < fds.size() && (fds[wake_index].revents & POLLIN)) {
            std::uint64_t value;
            [[maybe_unused]] auto n = ::read(m_wake.fd(), &value, sizeof value);
        }
        std::unique_lock lock(m_mutex);
        std::uint64_t now = now_seconds();
        for (auto const& slot : slots) {
            auto it = m_ports.find(slot.port);
            if (it == m_ports.end()) continue; // detached meanwhile
            Port& port = *it->second;
            if (slot.endpoint) {
                port.endpoint->after_poll(std::span<pollfd const>(fds.data() + slot.first, slot.count));
                drain_outbox(now);
                continue;
            }
            short revents = fds[slot.first].revents;
            if (revents & (POLLIN | POLLERR)) {
                read_socket(port, now);
            } else if (revents & (POLLHUP | POLLNVAL)) {
                remove_port_locked(port.id);
            }
        }
    }
    std::lock_guard lock(m_mutex);
    m_graveyard.clear();
}

} // namespace vsa::network
