// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/console/console_bridge.h"

#include <Poco/Logger.h>
#include <Poco/Net/NetException.h>
#include <Poco/Timespan.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace vsa::appliance::console {

namespace {

Poco::Timespan timespan(std::chrono::milliseconds ms) {
    return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

class WebSocketTransport final : public Transport {
public:
    WebSocketTransport(Poco::Net::WebSocket socket, TransportLimits limits)
        : m_socket(std::move(socket)), m_buffer(static_cast<std::size_t>(limits.max_frame_payload)) {
        m_socket.setMaxPayloadSize(limits.max_frame_payload);
        m_socket.setReceiveTimeout(timespan(limits.receive_timeout));
        m_socket.setSendTimeout(timespan(limits.send_timeout));
        m_socket.setNoDelay(true);
        m_fd = m_socket.impl()->sockfd();
    }

    int fd() const override { return m_fd; }
    bool buffered() override { return m_socket.available() > 0; }

    bool receive(std::string& out, std::string& why) override {
        int flags = 0;
        int n = m_socket.receiveFrame(m_buffer.data(), static_cast<int>(m_buffer.size()), flags);
        if (n == 0 && flags == 0) {
            why = "connection closed";
            return false;
        }
        switch (flags & Poco::Net::WebSocket::FRAME_OP_BITMASK) {
        case Poco::Net::WebSocket::FRAME_OP_BINARY:
        case Poco::Net::WebSocket::FRAME_OP_CONT:
            out.append(m_buffer.data(), static_cast<std::size_t>(n));
            return true;
        case Poco::Net::WebSocket::FRAME_OP_PING:
            m_socket.sendFrame(m_buffer.data(), n,
                               static_cast<int>(Poco::Net::WebSocket::FRAME_FLAG_FIN) |
                                   static_cast<int>(Poco::Net::WebSocket::FRAME_OP_PONG));
            return true;
        case Poco::Net::WebSocket::FRAME_OP_PONG:
            return true;
        case Poco::Net::WebSocket::FRAME_OP_CLOSE:
            why = "viewer closed the WebSocket";
            m_closed = true; // Poco answered the close frame
            return false;
        default:
            why = "text or unknown WebSocket frame (RFB travels in binary frames)";
            m_close_code = Poco::Net::WebSocket::WS_PAYLOAD_NOT_ACCEPTABLE;
            return false;
        }
    }

    bool send(std::span<u8 const> bytes) override {
        int n = m_socket.sendFrame(bytes.data(), static_cast<int>(bytes.size()),
                                   Poco::Net::WebSocket::FRAME_BINARY);
        return n >= 0;
    }

    void close(std::string const& reason) override {
        if (m_closed) return;
        m_closed = true;
        try {
            m_socket.shutdown(static_cast<Poco::UInt16>(m_close_code), reason.substr(0, 120));
        } catch (...) {
            // The peer may be gone already: nothing to say goodbye to.
        }
    }

    void abort() override { ::shutdown(m_fd, SHUT_RDWR); }

private:
    Poco::Net::WebSocket m_socket;
    std::vector<char> m_buffer;
    int m_fd{-1};
    bool m_closed{false};
    int m_close_code{Poco::Net::WebSocket::WS_NORMAL_CLOSE};
};

class TcpTransport final : public Transport {
public:
    TcpTransport(FileDescriptor socket, TransportLimits limits) : m_socket(std::move(socket)) {
        timeval send{};
        send.tv_sec = static_cast<time_t>(limits.send_timeout.count() / 1000);
        send.tv_usec = static_cast<suseconds_t>((limits.send_timeout.count() % 1000) * 1000);
        ::setsockopt(m_socket.fd(), SOL_SOCKET, SO_SNDTIMEO, &send, sizeof send);
    }

    int fd() const override { return m_socket.fd(); }
    bool buffered() override { return false; }

    bool receive(std::string& out, std::string& why) override {
        std::array<char, 16384> buffer{};
        ssize_t n = ::recv(m_socket.fd(), buffer.data(), buffer.size(), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
        if (n <= 0) {
            why = n == 0 ? "connection closed" : std::string("receive failed: ") + std::strerror(errno);
            return false;
        }
        out.append(buffer.data(), static_cast<std::size_t>(n));
        return true;
    }

    bool send(std::span<u8 const> bytes) override {
        std::size_t done = 0;
        while (done < bytes.size()) {
            ssize_t n = ::send(m_socket.fd(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            done += static_cast<std::size_t>(n);
        }
        return true;
    }

    void abort() override { ::shutdown(m_socket.fd(), SHUT_RDWR); }

private:
    FileDescriptor m_socket;
};

} // namespace

std::unique_ptr<Transport> make_websocket_transport(Poco::Net::WebSocket socket, TransportLimits limits) {
    return std::make_unique<WebSocketTransport>(std::move(socket), limits);
}

std::unique_ptr<Transport> make_tcp_transport(FileDescriptor socket, TransportLimits limits) {
    return std::make_unique<TcpTransport>(std::move(socket), limits);
}

Bridge::Bridge(std::unique_ptr<Transport> transport, std::string peer, Poco::Logger& log)
    : m_transport(std::move(transport)), m_peer(std::move(peer)), m_log(log) {}

Bridge::~Bridge() {
    abort();
    if (m_thread.joinable()) m_thread.join();
    if (m_server_fd >= 0) ::close(m_server_fd);
}

bool Bridge::open() {
    int ends[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
        m_log.error("console: socketpair failed for " + m_peer + ": " + std::strerror(errno));
        return false;
    }
    m_ours = FileDescriptor(ends[0]);
    m_server_fd = ends[1];
    return true;
}

int Bridge::release_server_fd() {
    return std::exchange(m_server_fd, -1);
}

void Bridge::start() {
    m_thread = std::thread([this] { run(); });
}

void Bridge::abort() {
    if (m_aborted.exchange(true)) return;
    if (m_ours.is_open()) ::shutdown(m_ours.fd(), SHUT_RDWR);
    if (m_transport) m_transport->abort();
}

void Bridge::run() {
    try {
        pump();
    } catch (Poco::Net::WebSocketException const& e) {
        if (e.code() == Poco::Net::WebSocket::WS_ERR_PAYLOAD_TOO_BIG)
            m_log.warning("console: " + m_peer + " sent a WebSocket frame over the payload cap; closed");
        else
            m_log.information("console: " + m_peer + ": " + e.displayText());
    } catch (Poco::TimeoutException const&) {
        m_log.information("console: " + m_peer + " stalled in the middle of a message; closed");
    } catch (Poco::Exception const& e) {
        m_log.information("console: " + m_peer + ": " + e.displayText());
    } catch (std::exception const& e) {
        m_log.warning("console: " + m_peer + ": " + e.what());
    } catch (...) {
        m_log.warning("console: " + m_peer + ": unknown exception");
    }
    // libvncserver sees EOF on its end and drops the client.
    if (m_ours.is_open()) ::shutdown(m_ours.fd(), SHUT_RDWR);
    m_transport->abort();
    m_finished = true;
}

bool Bridge::write_to_server(std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::send(m_ours.fd(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

void Bridge::pump() {
    std::string from_viewer;                           // not yet given to libvncserver
    std::size_t server_bytes = 0;                      // sent by libvncserver so far
    constexpr std::size_t PROTOCOL_VERSION_BYTES = 12; // "RFB 003.008\n"
    std::array<u8, 65536> buffer{};
    std::string why;
    while (!m_aborted) {
        bool viewer_ready = m_transport->buffered();
        bool server_ready = false;
        if (!viewer_ready) {
            pollfd fds[2] = {{m_transport->fd(), POLLIN, 0}, {m_ours.fd(), POLLIN, 0}};
            int n = ::poll(fds, 2, 1000);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return;
            viewer_ready = fds[0].revents != 0;
            server_ready = fds[1].revents != 0;
        }
        if (server_ready) {
            ssize_t n = ::recv(m_ours.fd(), buffer.data(), buffer.size(), 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                m_transport->close("the console session ended");
                return;
            }
            server_bytes += static_cast<std::size_t>(n);
            if (!m_transport->send(std::span<u8 const>(buffer.data(), static_cast<std::size_t>(n)))) return;
        }
        if (viewer_ready) {
            if (!m_transport->receive(from_viewer, why)) {
                m_log.debug("console: " + m_peer + ": " + why);
                m_transport->close(why);
                return;
            }
        }
        if (!from_viewer.empty()) {
            if (server_bytes < PROTOCOL_VERSION_BYTES) {
                if (from_viewer.size() > PRE_HANDSHAKE_BYTES) {
                    m_log.warning("console: " + m_peer + " sent data before the RFB handshake; closed");
                    m_transport->close("RFB protocol violation");
                    return;
                }
                continue;
            }
            if (!write_to_server(from_viewer)) return;
            from_viewer.clear();
        }
    }
}

} // namespace vsa::appliance::console
