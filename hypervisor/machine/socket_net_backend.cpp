// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/machine/socket_net_backend.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vsa {

Result<std::unique_ptr<SocketNetBackend>, std::string> SocketNetBackend::open(int fd) {
    int type = 0;
    socklen_t len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
        return "descriptor " + std::to_string(fd) + " is not a socket";
    if (type != SOCK_SEQPACKET && type != SOCK_DGRAM)
        return "descriptor " + std::to_string(fd) + " is not a SOCK_SEQPACKET or SOCK_DGRAM socket";
    FileDescriptor socket(fd);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    FileDescriptor stop(::eventfd(0, EFD_CLOEXEC));
    if (stop.fd() < 0) return std::string("eventfd: ") + std::strerror(errno);
    return std::unique_ptr<SocketNetBackend>(new SocketNetBackend(std::move(socket), std::move(stop)));
}

SocketNetBackend::SocketNetBackend(FileDescriptor socket, FileDescriptor stop)
    : m_socket(std::move(socket)), m_stop(std::move(stop)) {}

SocketNetBackend::~SocketNetBackend() {
    if (m_thread.joinable()) {
        u64 one = 1;
        [[maybe_unused]] auto n = ::write(m_stop.fd(), &one, sizeof one);
        m_thread.join();
    }
}

void SocketNetBackend::send(std::span<u8 const> frame) {
    ssize_t n = ::send(m_socket.fd(), frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(frame.size())) ++m_dropped_out;
}

Result<void, std::string> SocketNetBackend::start(std::function<void()> wake) {
    m_wake = std::move(wake);
    try {
        m_thread = std::thread([this] { reader(); });
    } catch (std::exception const& e) {
        return std::string("cannot start the network reader: ") + e.what();
    }
    return Ok{};
}

void SocketNetBackend::reader() {
    std::vector<u8> buffer(MAX_FRAME + 1);
    for (;;) {
        pollfd fds[2] = {{m_socket.fd(), POLLIN, 0}, {m_stop.fd(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (fds[1].revents) return;
        if (fds[0].revents & (POLLERR | POLLNVAL)) return;
        if (!(fds[0].revents & (POLLIN | POLLHUP))) continue;
        bool queued = false;
        // Drain what is there, then wake the VM thread once.
        for (;;) {
            ssize_t n = ::recv(m_socket.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC);
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                return;
            }
            if (n == 0) {
                // Seqpacket: the peer hung up (an empty datagram is not a frame either).
                int type = 0;
                socklen_t len = sizeof type;
                ::getsockopt(m_socket.fd(), SOL_SOCKET, SO_TYPE, &type, &len);
                if (type == SOCK_SEQPACKET) {
                    if (queued && m_wake) m_wake();
                    return;
                }
                continue;
            }
            if (static_cast<std::size_t>(n) > MAX_FRAME) {
                ++m_dropped_in;
                continue;
            }
            std::lock_guard lock(m_mutex);
            if (m_queue.size() >= QUEUE_FRAMES) {
                ++m_dropped_in;
                continue;
            }
            m_queue.emplace_back(buffer.begin(), buffer.begin() + n);
            queued = true;
        }
        if (queued && m_wake) m_wake();
    }
}

std::vector<std::vector<u8>> SocketNetBackend::take() {
    std::lock_guard lock(m_mutex);
    std::vector<std::vector<u8>> frames(std::make_move_iterator(m_queue.begin()),
                                        std::make_move_iterator(m_queue.end()));
    m_queue.clear();
    return frames;
}

} // namespace vsa
