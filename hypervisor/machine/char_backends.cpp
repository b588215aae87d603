// SPDX-License-Identifier: GPL-2.0-or-later
// Host ends of the character devices. See char_backends.h for the specs,
// the threading and what each one does when its peer is slow or gone.
#include "hypervisor/machine/char_backends.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace vsa {

namespace {

// Bytes a backend thread reads or sends in one go.
constexpr std::size_t CHUNK = 16 * KiB;

// Writes all of `data` to a blocking descriptor; false if the reader is
// gone (the output is then dropped: the guest must not stall on it).
bool write_all(int fd, char const* data, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::write(fd, data + done, size - done);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

void signal_eventfd(int fd) {
    u64 one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
}

void drain_eventfd(int fd) {
    u64 value = 0;
    [[maybe_unused]] auto n = ::read(fd, &value, sizeof value);
}

bool retry_later(int error) {
    return error == EAGAIN || error == EWOULDBLOCK || error == EINTR;
}

} // namespace

// ---- CharInputQueue -------------------------------------------------------

std::size_t CharInputQueue::room() const {
    std::lock_guard lock(m_mutex);
    return m_capacity - m_queued;
}

std::size_t CharInputQueue::push(std::span<u8 const> bytes) {
    std::lock_guard lock(m_mutex);
    std::size_t taken = std::min(bytes.size(), m_capacity - m_queued);
    m_incoming.insert(m_incoming.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(taken));
    m_queued += taken;
    return taken;
}

std::span<u8 const> CharInputQueue::pending() {
    std::lock_guard lock(m_mutex);
    m_input.insert(m_input.end(), m_incoming.begin(), m_incoming.end());
    m_incoming.clear();
    return m_input;
}

bool CharInputQueue::consume(std::size_t count) {
    count = std::min(count, m_input.size());
    m_input.erase(m_input.begin(), m_input.begin() + static_cast<std::ptrdiff_t>(count));
    std::lock_guard lock(m_mutex);
    bool was_full = m_queued >= m_capacity;
    m_queued -= count;
    return was_full && count > 0;
}

// ---- FdCharBackend --------------------------------------------------------

FdCharBackend::FdCharBackend(int fd, bool owned, std::string description, int input_fd)
    : m_fd(fd), m_owned(owned), m_description(std::move(description)), m_input_fd(input_fd) {
    if (m_input_fd >= 0) m_wake = FileDescriptor(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
}

Result<std::unique_ptr<FdCharBackend>, std::string> FdCharBackend::open_file(std::string const& path,
                                                                             bool append) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
    return std::make_unique<FdCharBackend>(fd, true, (append ? "append " : "file ") + path);
}

FdCharBackend::~FdCharBackend() {
    m_stop.store(true);
    if (m_wake.is_open()) signal_eventfd(m_wake.fd());
    if (m_thread.joinable()) m_thread.join();
    flush();
    if (m_owned) ::close(m_fd);
}

void FdCharBackend::write(u8 byte) {
    m_buffer.push_back(static_cast<char>(byte));
    // Line-buffered: tests read serial output as it comes. A partial line
    // (a prompt, a key echoed) goes out when the worker's VM thread comes
    // round its run loop (flush()), at the latest at vsad's next
    // once-a-second query.
    if (byte == '\n' || m_buffer.size() >= 4096) flush();
}

void FdCharBackend::flush() {
    // A reader that went away: drop, the guest must not stall.
    if (!m_buffer.empty()) write_all(m_fd, m_buffer.data(), m_buffer.size());
    m_buffer.clear();
}

void FdCharBackend::consume_input(std::size_t count) {
    if (m_input.consume(count) && m_wake.is_open()) signal_eventfd(m_wake.fd());
}

Result<void, std::string> FdCharBackend::start(std::function<void()> input_arrived) {
    if (m_input_fd < 0) return Ok{};
    if (!m_wake.is_open()) return std::string("eventfd: ") + std::strerror(errno);
    m_thread = std::thread([this, input_arrived = std::move(input_arrived)] { read_input(input_arrived); });
    return Ok{};
}

// The input thread blocks until there is something to do (no polling
// period): a thread waking 10 or 50 times a second was a third of an idle
// guest's host wakeups.
void FdCharBackend::read_input(std::function<void()> input_arrived) {
    std::array<u8, 4096> buffer;
    while (!m_stop.load()) {
        std::size_t room = m_input.room();
        // A full queue: stop reading until the guest takes some (the
        // writer on the other end then blocks: nothing is lost).
        pollfd p[2] = {{m_wake.fd(), POLLIN, 0}, {room ? m_input_fd : -1, POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) continue;
        if (m_stop.load()) break;
        if (p[0].revents) drain_eventfd(m_wake.fd());
        if (!p[1].revents) continue;
        ssize_t n = ::read(m_input_fd, buffer.data(), std::min(room, buffer.size()));
        if (n < 0 && retry_later(errno)) continue;
        if (n <= 0) break; // EOF: the guest simply gets no more input
        m_input.push(std::span<u8 const>(buffer.data(), static_cast<std::size_t>(n)));
        if (input_arrived) input_arrived();
    }
}

// ---- LogCharBackend -------------------------------------------------------

LogCharBackend::LogCharBackend(std::string prefix, int fd) : m_prefix(std::move(prefix)), m_fd(fd) {}

LogCharBackend::~LogCharBackend() {
    if (!m_line.empty()) emit_line();
}

void LogCharBackend::write(u8 byte) {
    if (byte == '\n' || m_line.size() >= MAX_LINE) {
        emit_line();
        if (byte == '\n') return;
    }
    // A log line is text: escape sequences and other control bytes would
    // garble the terminal or the journal that shows it.
    if (byte == '\r') return;
    if ((byte < 0x20 && byte != '\t') || byte == 0x7F) {
        static constexpr char HEX[] = "0123456789ABCDEF";
        m_line += "\\x";
        m_line.push_back(HEX[byte >> 4]);
        m_line.push_back(HEX[byte & 0x0F]);
        return;
    }
    m_line.push_back(static_cast<char>(byte));
}

void LogCharBackend::emit_line() {
    std::string out = m_prefix + m_line + '\n';
    write_all(m_fd, out.data(), out.size());
    m_line.clear();
}

// ---- ThreadedCharBackend --------------------------------------------------

ThreadedCharBackend::ThreadedCharBackend(FileDescriptor wake, std::string description)
    : m_wake(std::move(wake)), m_description(std::move(description)) {}

ThreadedCharBackend::~ThreadedCharBackend() {
    stop_thread();
}

Result<FileDescriptor, std::string> ThreadedCharBackend::make_wake_fd() {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return std::string("eventfd: ") + std::strerror(errno);
    return FileDescriptor(fd);
}

void ThreadedCharBackend::wake() {
    signal_eventfd(m_wake.fd());
}

void ThreadedCharBackend::drain_wake() {
    drain_eventfd(m_wake.fd());
}

Result<void, std::string> ThreadedCharBackend::start(std::function<void()> input_arrived) {
    if (m_thread.joinable()) return std::string("already started");
    m_input_arrived = std::move(input_arrived);
    m_thread = std::thread([this] { serve(); });
    return Ok{};
}

void ThreadedCharBackend::stop_thread() {
    m_stop.store(true);
    wake();
    if (m_thread.joinable()) m_thread.join();
}

void ThreadedCharBackend::write(u8 byte) {
    if (!m_accepting.load()) {
        m_dropped.fetch_add(1);
        return;
    }
    bool was_empty;
    {
        std::lock_guard lock(m_out_mutex);
        if (m_out.size() >= OUTPUT_CAP) {
            m_dropped.fetch_add(1);
            return;
        }
        was_empty = m_out.empty();
        m_out.push_back(static_cast<char>(byte));
    }
    // One wake-up per burst: the thread takes everything queued by then.
    if (was_empty) wake();
}

void ThreadedCharBackend::consume_input(std::size_t count) {
    // The thread stopped reading when the queue filled: it may go on.
    if (m_input.consume(count)) wake();
}

bool ThreadedCharBackend::output_waiting() const {
    std::lock_guard lock(m_out_mutex);
    return !m_out.empty();
}

bool ThreadedCharBackend::send_output(std::function<long(u8 const*, std::size_t)> const& send) {
    // Only this thread removes from m_out, so the chunk copied out is
    // still at the front when the sent part is erased.
    std::array<u8, CHUNK> chunk;
    for (;;) {
        std::size_t size;
        {
            std::lock_guard lock(m_out_mutex);
            size = std::min(m_out.size(), chunk.size());
            std::memcpy(chunk.data(), m_out.data(), size);
        }
        if (size == 0) return true;
        long sent = send(chunk.data(), size);
        if (sent < 0) return false;
        if (sent == 0) return true; // the peer is full: poll for POLLOUT
        std::lock_guard lock(m_out_mutex);
        m_out.erase(0, static_cast<std::size_t>(sent));
    }
}

void ThreadedCharBackend::discard_output() {
    std::lock_guard lock(m_out_mutex);
    m_dropped.fetch_add(m_out.size());
    m_out.clear();
}

void ThreadedCharBackend::deliver_input(std::span<u8 const> bytes) {
    m_input.push(bytes);
    if (m_input_arrived) m_input_arrived();
}

// ---- PipeCharBackend ------------------------------------------------------

namespace {

Result<FileDescriptor, std::string> open_fifo(std::string const& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        if (errno != ENOENT) return "cannot use " + path + ": " + std::strerror(errno);
        // Another process may create it at the same moment: that is fine.
        if (::mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST)
            return "cannot create the FIFO " + path + ": " + std::strerror(errno);
    } else if (!S_ISFIFO(info.st_mode)) {
        return path + " exists and is not a FIFO";
    }
    // O_RDWR: the open does not wait for a peer, and a peer closing its
    // end is no EOF (char_backends.h).
    int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
    if (::fstat(fd, &info) != 0 || !S_ISFIFO(info.st_mode)) {
        ::close(fd);
        return path + " is not a FIFO";
    }
    return FileDescriptor(fd);
}

} // namespace

Result<std::unique_ptr<PipeCharBackend>, std::string> PipeCharBackend::open(std::string const& path) {
    if (path.empty()) return std::string("pipe: wants a path");
    FileDescriptor in = TRY(open_fifo(path + ".in"));
    FileDescriptor out = TRY(open_fifo(path + ".out"));
    FileDescriptor wake = TRY(make_wake_fd());
    return std::unique_ptr<PipeCharBackend>(
        new PipeCharBackend(std::move(wake), std::move(in), std::move(out), path));
}

PipeCharBackend::PipeCharBackend(FileDescriptor wake, FileDescriptor in, FileDescriptor out,
                                 std::string const& path)
    : ThreadedCharBackend(std::move(wake), "pipe " + path + ".in/.out"), m_in(std::move(in)),
      m_out(std::move(out)) {}

PipeCharBackend::~PipeCharBackend() {
    stop_thread();
}

void PipeCharBackend::serve() {
    auto send = [this](u8 const* data, std::size_t size) -> long {
        ssize_t n = ::write(m_out.fd(), data, size);
        if (n < 0) return retry_later(errno) ? 0 : -1;
        return n;
    };
    std::array<u8, 4096> buffer;
    while (!stopping()) {
        std::size_t room = input_room();
        pollfd p[3] = {{wake_fd(), POLLIN, 0},
                       {room ? m_in.fd() : -1, POLLIN, 0},
                       {output_waiting() ? m_out.fd() : -1, POLLOUT, 0}};
        if (::poll(p, 3, -1) < 0) continue;
        if (stopping()) break;
        if (p[0].revents) drain_wake();
        if (p[1].revents) {
            ssize_t n = ::read(m_in.fd(), buffer.data(), std::min(room, buffer.size()));
            if (n > 0) deliver_input(std::span<u8 const>(buffer.data(), static_cast<std::size_t>(n)));
        }
        // Our own read end keeps the FIFO open, so a write fails only if
        // something is badly wrong: then output has nowhere to go.
        if (!send_output(send)) discard_output();
    }
    // The last words queued before the stop.
    if (!send_output(send)) discard_output();
}

// ---- TtyCharBackend -------------------------------------------------------

Result<std::unique_ptr<TtyCharBackend>, std::string> TtyCharBackend::open(std::string const& device) {
    if (device.empty()) return std::string("tty: wants a device path");
    FileDescriptor tty(::open(device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!tty.is_open()) return "cannot open " + device + ": " + std::strerror(errno);
    termios mode{};
    if (!::isatty(tty.fd()) || ::tcgetattr(tty.fd(), &mode) != 0)
        return "tty:" + device + " is not a terminal device";
    // Raw 8-bit bytes both ways; CLOCAL: no hang-up from the modem lines,
    // which nothing drives (the guest's modem control stays in the UART).
    ::cfmakeraw(&mode);
    mode.c_cflag |= CLOCAL | CREAD;
    mode.c_cc[VMIN] = 1;
    mode.c_cc[VTIME] = 0;
    if (::tcsetattr(tty.fd(), TCSANOW, &mode) != 0)
        return "cannot set " + device + " to raw mode: " + std::strerror(errno);
    FileDescriptor wake = TRY(make_wake_fd());
    return std::unique_ptr<TtyCharBackend>(
        new TtyCharBackend(std::move(wake), std::move(tty), "tty " + device));
}

Result<std::unique_ptr<TtyCharBackend>, std::string> TtyCharBackend::adopt(int fd) {
    int flags = fd >= 0 ? ::fcntl(fd, F_GETFL) : -1;
    if (flags < 0) return "fd:" + std::to_string(fd) + " is not an open descriptor";
    if (::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 || ::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
        return "fd:" + std::to_string(fd) + ": " + std::strerror(errno);
    FileDescriptor stream(fd);
    FileDescriptor wake = TRY(make_wake_fd());
    return std::unique_ptr<TtyCharBackend>(
        new TtyCharBackend(std::move(wake), std::move(stream), "fd " + std::to_string(fd)));
}

TtyCharBackend::TtyCharBackend(FileDescriptor wake, FileDescriptor tty, std::string description)
    : ThreadedCharBackend(std::move(wake), std::move(description)), m_tty(std::move(tty)) {}

TtyCharBackend::~TtyCharBackend() {
    stop_thread();
}

void TtyCharBackend::serve() {
    bool gone = false; // hung up or failed: no more input, output dropped
    auto send = [this, &gone](u8 const* data, std::size_t size) -> long {
        ssize_t n = ::write(m_tty.fd(), data, size);
        if (n < 0) {
            if (retry_later(errno)) return 0;
            gone = true;
            return -1;
        }
        return n;
    };
    std::array<u8, 4096> buffer;
    while (!stopping()) {
        std::size_t room = input_room();
        pollfd p[2] = {{wake_fd(), POLLIN, 0},
                       {gone ? -1 : m_tty.fd(),
                        static_cast<short>((room ? POLLIN : 0) | (output_waiting() ? POLLOUT : 0)), 0}};
        if (::poll(p, 2, -1) < 0) continue;
        if (stopping()) break;
        if (p[0].revents) drain_wake();
        if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = ::read(m_tty.fd(), buffer.data(), std::min(room, buffer.size()));
            if (n > 0)
                deliver_input(std::span<u8 const>(buffer.data(), static_cast<std::size_t>(n)));
            else if (n == 0 || !retry_later(errno))
                gone = true; // a hang-up would otherwise wake poll forever
        }
        if (gone || !send_output(send)) {
            gone = true;
            set_accepting_output(false); // write() drops and counts from now on
            discard_output();
        }
    }
    if (!gone && !send_output(send)) discard_output();
}

// ---- TcpCharBackend -------------------------------------------------------

Result<std::unique_ptr<TcpCharBackend>, std::string> TcpCharBackend::listen(std::string const& host_in,
                                                                            u16 port) {
    std::string host = host_in.empty() ? "127.0.0.1" : host_in;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string service = std::to_string(port);
    if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
        return "tcp:" + host + ":" + service + ": " + ::gai_strerror(rc);
    std::string error = "no address";
    FileDescriptor listener;
    for (addrinfo* a = found; a && !listener.is_open(); a = a->ai_next) {
        FileDescriptor s(
            ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol));
        if (!s.is_open()) {
            error = std::strerror(errno);
            continue;
        }
        // A worker restarted on the same port must not wait for the old
        // connection's TIME_WAIT.
        int on = 1;
        ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (::bind(s.fd(), a->ai_addr, a->ai_addrlen) != 0 || ::listen(s.fd(), 4) != 0) {
            error = std::strerror(errno);
            continue;
        }
        listener = std::move(s);
    }
    ::freeaddrinfo(found);
    if (!listener.is_open()) return "cannot listen on tcp:" + host + ":" + service + ": " + error;

    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    if (::getsockname(listener.fd(), reinterpret_cast<sockaddr*>(&bound), &length) != 0)
        return std::string("getsockname: ") + std::strerror(errno);
    char name[NI_MAXHOST] = {};
    char serv[NI_MAXSERV] = {};
    ::getnameinfo(reinterpret_cast<sockaddr*>(&bound), length, name, sizeof name, serv, sizeof serv,
                  NI_NUMERICHOST | NI_NUMERICSERV);
    u16 actual = 0;
    if (std::from_chars(serv, serv + std::strlen(serv), actual).ec != std::errc())
        return "tcp:" + host + ":" + service + ": cannot read back the port";
    std::string address = bound.ss_family == AF_INET6 ? "[" + std::string(name) + "]" : std::string(name);
    FileDescriptor wake = TRY(make_wake_fd());
    return std::unique_ptr<TcpCharBackend>(
        new TcpCharBackend(std::move(wake), std::move(listener), address, actual));
}

TcpCharBackend::TcpCharBackend(FileDescriptor wake, FileDescriptor listener, std::string address, u16 port)
    : ThreadedCharBackend(std::move(wake), "tcp " + address + ":" + std::to_string(port)),
      m_listener(std::move(listener)), m_port(port) {
    // Nobody to send to until a client connects.
    set_accepting_output(false);
}

TcpCharBackend::~TcpCharBackend() {
    stop_thread();
}

void TcpCharBackend::serve() {
    FileDescriptor client;
    auto send = [&client](u8 const* data, std::size_t size) -> long {
        ssize_t n = ::send(client.fd(), data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) return retry_later(errno) ? 0 : -1;
        return n;
    };
    auto drop_client = [&] {
        // Output queued for this client is not for the next one: a new
        // client starts with what the guest writes from then on.
        set_accepting_output(false);
        discard_output();
        client.reset();
        m_client_attached.store(false);
    };
    std::array<u8, 4096> buffer;
    while (!stopping()) {
        std::size_t room = input_room();
        short client_events = static_cast<short>((room ? POLLIN : 0) | (output_waiting() ? POLLOUT : 0));
        pollfd p[3] = {{wake_fd(), POLLIN, 0},
                       {m_listener.fd(), POLLIN, 0},
                       {client.is_open() ? client.fd() : -1, client_events, 0}};
        if (::poll(p, 3, -1) < 0) continue;
        if (stopping()) break;
        if (p[0].revents) drain_wake();
        if (p[1].revents) {
            int fd = ::accept4(m_listener.fd(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (fd >= 0 && client.is_open()) {
                // One client at a time: the second learns at once. Counted
                // before the close, so whoever sees the connection end
                // also sees it counted.
                m_clients_refused.fetch_add(1);
                ::close(fd);
            } else if (fd >= 0) {
                client = FileDescriptor(fd);
                int on = 1;
                ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on); // keystrokes, prompts
                m_client_attached.store(true);
                m_clients_served.fetch_add(1);
                set_accepting_output(true);
                continue;
            }
        }
        if (!client.is_open()) continue;
        short revents = p[2].revents;
        if (revents & POLLIN) {
            ssize_t n = ::recv(client.fd(), buffer.data(), std::min(room, buffer.size()), MSG_DONTWAIT);
            if (n > 0) {
                deliver_input(std::span<u8 const>(buffer.data(), static_cast<std::size_t>(n)));
            } else if (n == 0 || !retry_later(errno)) {
                drop_client(); // EOF or reset
                continue;
            }
        } else if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
            drop_client();
            continue;
        }
        if (!send_output(send)) drop_client();
    }
    if (client.is_open()) (void)send_output(send);
}

// ---- the parser -----------------------------------------------------------

Result<std::unique_ptr<HostCharBackend>, std::string>
open_char_backend(std::string const& spec, std::string_view port_name, bool with_input) {
    using Backend = std::unique_ptr<HostCharBackend>;
    auto after = [&](std::string_view prefix) { return spec.substr(prefix.size()); };
    if (spec == "none") return Backend();
    if (spec == "stdio" || spec == "-")
        return Backend(std::make_unique<FdCharBackend>(1, false, "stdio", with_input ? 0 : -1));
    if (spec == "stderr") return Backend(std::make_unique<FdCharBackend>(2, false, "stderr"));
    if (spec == "log")
        return Backend(std::make_unique<LogCharBackend>("vsa-vm: " + std::string(port_name) + ": "));
    if (spec.starts_with("append:")) return Backend(TRY(FdCharBackend::open_file(after("append:"), true)));
    if (spec.starts_with("file:")) return Backend(TRY(FdCharBackend::open_file(after("file:"), false)));
    if (spec.starts_with("pipe:")) return Backend(TRY(PipeCharBackend::open(after("pipe:"))));
    if (spec.starts_with("tty:")) return Backend(TRY(TtyCharBackend::open(after("tty:"))));
    if (spec.starts_with("fd:")) {
        std::string text = after("fd:");
        int fd = -1;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fd);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || fd < 3)
            return "bad descriptor in '" + spec + "' (fd:N, N >= 3)";
        return Backend(TRY(TtyCharBackend::adopt(fd)));
    }
    if (spec.starts_with("tcp:")) {
        std::string rest = after("tcp:");
        auto colon = rest.rfind(':');
        std::string host = colon == std::string::npos ? std::string() : rest.substr(0, colon);
        std::string port_text = colon == std::string::npos ? rest : rest.substr(colon + 1);
        unsigned port = 0;
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
            port > 65535)
            return "bad TCP port in '" + spec + "' (tcp:HOST:PORT)";
        return Backend(TRY(TcpCharBackend::listen(host, static_cast<u16>(port))));
    }
    if (spec.empty()) return std::string("empty character device");
    // A bare path: a file, truncated (the oldest form of the option).
    return Backend(TRY(FdCharBackend::open_file(spec, false)));
}

} // namespace vsa
