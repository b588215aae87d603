// SPDX-License-Identifier: GPL-2.0-or-later
// ConnectionTracker: bounds how long any connection may hold a worker.
//
// Poco's receive timeout applies to each read, so a client that trickles one
// byte a second, or never finishes its TLS handshake, keeps a worker thread
// for as long as it likes; with pool.threads such clients the service is
// gone (slowloris). Poco also cannot interrupt a worker still waiting for a
// TLS handshake when the server stops (SSL_shutdown fails before the
// handshake, so the socket is never shut down), which made SIGTERM wait for
// the full receive timeout.
//
// Every connection is registered here with a deadline for its current
// phase: connecting (receive timeout, for the handshake and the first
// request's headers), waiting for the next request on a kept-alive
// connection (keep-alive wait + receive timeout), or serving a request
// (request timeout). A watchdog thread shuts down the socket of
// any connection past its deadline, which wakes the blocked worker; at stop
// every socket is shut down the same way.
#pragma once

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/TCPServerConnectionFactory.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace vsa::appliance {

class ConnectionTracker {
public:
    using Clock = std::chrono::steady_clock;
    struct Timeouts {
        std::chrono::milliseconds
            connecting; // from accept to the first request's headers (TLS handshake included)
        std::chrono::milliseconds waiting; // from a response to the next request's headers (keep-alive)
        std::chrono::milliseconds serving; // from the headers to the end of the response
    };

    explicit ConnectionTracker(Timeouts timeouts);
    ~ConnectionTracker();
    ConnectionTracker(ConnectionTracker const&) = delete;
    ConnectionTracker& operator=(ConnectionTracker const&) = delete;

    void add(int fd);
    void remove(int fd);
    void begin_request(int fd);
    void end_request(int fd);
    // Shuts down every tracked socket (used when the server stops).
    void shutdown_all();
    std::size_t size() const;
    std::size_t cut_off() const { return m_cut_off; }

private:
    void watch();
    void set_deadline(int fd, std::chrono::milliseconds from_now);

    Timeouts m_timeouts;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::unordered_map<int, Clock::time_point> m_deadlines;
    std::size_t m_cut_off{0};
    bool m_stopping{false};
    std::thread m_watchdog;
};

// Poco's HTTP connection, registered with a tracker for its lifetime.
class TrackedConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
public:
    TrackedConnectionFactory(Poco::Net::HTTPServerParams::Ptr params,
                             Poco::Net::HTTPRequestHandlerFactory::Ptr handlers, ConnectionTracker& tracker)
        : m_params(std::move(params)), m_handlers(std::move(handlers)), m_tracker(tracker) {}
    Poco::Net::TCPServerConnection* createConnection(Poco::Net::StreamSocket const& socket) override;

private:
    Poco::Net::HTTPServerParams::Ptr m_params;
    Poco::Net::HTTPRequestHandlerFactory::Ptr m_handlers;
    ConnectionTracker& m_tracker;
};

} // namespace vsa::appliance
