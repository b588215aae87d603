// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/http/connection_tracker.h"

#include <Poco/Net/HTTPServerConnection.h>

#include <sys/socket.h>

namespace vsa::appliance {

namespace {

class TrackedConnection final : public Poco::Net::HTTPServerConnection {
public:
    TrackedConnection(Poco::Net::StreamSocket const& socket, Poco::Net::HTTPServerParams::Ptr params,
                      Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, ConnectionTracker& tracker)
        : HTTPServerConnection(socket, std::move(params), std::move(handlers)), m_tracker(tracker),
          m_fd(this->socket().impl()->sockfd()) {
        m_tracker.add(m_fd);
    }
    // Runs before the base class closes the socket, so the tracker never
    // shuts down a descriptor number that was already reused.
    ~TrackedConnection() override { m_tracker.remove(m_fd); }

private:
    ConnectionTracker& m_tracker;
    int m_fd;
};

} // namespace

ConnectionTracker::ConnectionTracker(Timeouts timeouts)
    : m_timeouts(timeouts), m_watchdog([this] { watch(); }) {}

ConnectionTracker::~ConnectionTracker() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_watchdog.join();
}

void ConnectionTracker::set_deadline(int fd, std::chrono::milliseconds from_now) {
    std::lock_guard lock(m_mutex);
    m_deadlines[fd] = Clock::now() + from_now;
}

void ConnectionTracker::add(int fd) {
    set_deadline(fd, m_timeouts.connecting);
}

void ConnectionTracker::remove(int fd) {
    std::lock_guard lock(m_mutex);
    m_deadlines.erase(fd);
}

void ConnectionTracker::begin_request(int fd) {
    std::lock_guard lock(m_mutex);
    if (auto it = m_deadlines.find(fd); it != m_deadlines.end())
        it->second = Clock::now() + m_timeouts.serving;
}

void ConnectionTracker::end_request(int fd) {
    std::lock_guard lock(m_mutex);
    if (auto it = m_deadlines.find(fd); it != m_deadlines.end())
        it->second = Clock::now() + m_timeouts.waiting;
}

void ConnectionTracker::shutdown_all() {
    std::lock_guard lock(m_mutex);
    for (auto const& [fd, deadline] : m_deadlines)
        ::shutdown(fd, SHUT_RDWR);
}

std::size_t ConnectionTracker::size() const {
    std::lock_guard lock(m_mutex);
    return m_deadlines.size();
}

void ConnectionTracker::watch() {
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        auto now = Clock::now();
        for (auto& [fd, deadline] : m_deadlines) {
            if (deadline > now) continue;
            // The worker sees a read or write error and ends the connection,
            // which removes it; until then, don't shut it down again.
            ::shutdown(fd, SHUT_RDWR);
            deadline = Clock::time_point::max();
            ++m_cut_off;
        }
        m_wake.wait_for(lock, std::chrono::milliseconds(250));
    }
}

Poco::Net::TCPServerConnection*
TrackedConnectionFactory::createConnection(Poco::Net::StreamSocket const& socket) {
    return new TrackedConnection(socket, m_params, m_handlers, m_tracker);
}

} // namespace vsa::appliance
