// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/machine/control_channel.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

namespace vsa::control {

ControlChannel::ControlChannel(int fd) : m_socket(fd), m_wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

ControlChannel::~ControlChannel() {
    stop();
}

void ControlChannel::stop() {
    if (!m_reader.joinable()) return;
    u64 one = 1;
    [[maybe_unused]] auto n = ::write(m_wake.fd(), &one, sizeof one);
    m_reader.join();
}

void ControlChannel::start(std::function<void(Request)> on_request, std::function<void()> on_closed) {
    m_on_request = std::move(on_request);
    m_on_closed = std::move(on_closed);
    m_reader = std::thread([this] { read_loop(); });
}

void ControlChannel::send(Reply const& reply) {
    send_line(encode(reply));
}

void ControlChannel::send(Notification const& notification) {
    send_line(encode(notification));
}

void ControlChannel::send_line(std::string const& line) {
    std::lock_guard lock(m_send_mutex);
    std::size_t done = 0;
    while (done < line.size()) {
        // MSG_NOSIGNAL: a closed peer is EPIPE here, not a SIGPIPE.
        ssize_t n = ::send(m_socket.fd(), line.data() + done, line.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

void ControlChannel::read_loop() {
    LineReader reader;
    std::array<char, 4096> buffer{};
    for (;;) {
        std::array<pollfd, 2> fds{{{m_socket.fd(), POLLIN, 0}, {m_wake.fd(), POLLIN, 0}}};
        int ready = ::poll(fds.data(), fds.size(), -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (fds[1].revents) return; // shutting down: not a lost supervisor
        if (!fds[0].revents) continue;
        ssize_t n = ::recv(m_socket.fd(), buffer.data(), buffer.size(), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) break; // EOF or a dead socket: the supervisor is gone
        reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        while (auto line = reader.next()) {
            if (line->is_error()) {
                send(Reply{0, false, line->error(), std::nullopt});
                continue;
            }
            auto request = decode_request(line->value());
            if (request.is_error()) {
                send(Reply{salvage_seq(line->value()), false, request.error(), std::nullopt});
                continue;
            }
            m_on_request(request.value());
        }
    }
    if (m_on_closed) m_on_closed();
}

} // namespace vsa::control
