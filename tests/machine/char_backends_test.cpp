// SPDX-License-Identifier: GPL-2.0-or-later
// The host ends of the serial and parallel ports against real host
// objects: files, a pipe standing in for stdin, the log, FIFOs and a TCP
// socket with real client sockets. The test thread plays the VM thread
// (write, pending_input, consume_input).
#include "hypervisor/machine/char_backends.h"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using namespace vsa;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char name[] = "/tmp/vsa-char-backends-XXXXXX";
        path = ::mkdtemp(name);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read_text(fs::path const& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_text(CharBackend& backend, std::string_view text) {
    for (char c : text)
        backend.write(static_cast<u8>(c));
}

template <typename Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit = std::chrono::milliseconds(10'000)) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// Reads from `fd` until `expected` bytes arrived or the time is up.
std::string read_some(int fd, std::size_t expected, int limit_ms = 10'000) {
    std::string got;
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
    char buffer[4096];
    while (got.size() < expected && std::chrono::steady_clock::now() < end) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        got.append(buffer, static_cast<std::size_t>(n));
    }
    return got;
}

// Takes input until `count` bytes came (consuming as the UART would).
std::string take_input(CharBackend& backend, std::size_t count) {
    std::string got;
    wait_until([&] {
        auto span = backend.pending_input();
        got.append(reinterpret_cast<char const*>(span.data()), span.size());
        backend.consume_input(span.size());
        return got.size() >= count;
    });
    return got;
}

int connect_to(u16 port, int receive_buffer = 0) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    return fd;
}

void send_text(int fd, std::string_view text) {
    BOOST_REQUIRE(::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()));
}

} // namespace

BOOST_AUTO_TEST_SUITE(char_backends)

BOOST_AUTO_TEST_CASE(file_truncates_or_appends) {
    TempDir dir;
    auto path = dir.path / "serial.log";
    {
        std::ofstream(path) << "old contents\n";
        auto file = FdCharBackend::open_file(path, false);
        BOOST_REQUIRE(!file.is_error());
        write_text(*file.value(), "line one\nno newline");
        BOOST_TEST(read_text(path) == "line one\n"); // line-buffered
        file.value()->flush();
        BOOST_TEST(read_text(path) == "line one\nno newline");
    }
    {
        auto file = FdCharBackend::open_file(path, true);
        BOOST_REQUIRE(!file.is_error());
        write_text(*file.value(), "+more");
    } // the destructor writes what is buffered
    BOOST_TEST(read_text(path) == "line one\nno newline+more");
    BOOST_TEST(FdCharBackend::open_file((dir.path / "missing" / "x").string(), false).is_error());
}

BOOST_AUTO_TEST_CASE(stdin_style_input_with_flow_control) {
    int in[2], out[2];
    BOOST_REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
    BOOST_REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    std::atomic<int> wakes{0};
    {
        FdCharBackend backend(out[1], true, "stdio", in[0]);
        BOOST_REQUIRE(!backend.start([&] { ++wakes; }).is_error());
        write_text(backend, "echo\n");
        BOOST_TEST(read_some(out[0], 5) == "echo\n");
        // More than the queue holds: the reader pauses, nothing is lost.
        std::string big;
        for (std::size_t i = 0; i < FdCharBackend::INPUT_CAP * 2 + 123; ++i)
            big.push_back(static_cast<char>('a' + i % 26));
        std::thread writer([&] {
            for (std::size_t done = 0; done < big.size();) {
                ssize_t n = ::write(in[1], big.data() + done, big.size() - done);
                if (n <= 0) break;
                done += static_cast<std::size_t>(n);
            }
        });
        std::string got = take_input(backend, big.size());
        writer.join();
        BOOST_TEST(got == big);
        BOOST_TEST(wakes.load() > 0);
        ::close(in[1]); // EOF: the reader thread ends; the destructor joins it
    }
    ::close(in[0]);
    ::close(out[0]);
}

BOOST_AUTO_TEST_CASE(log_lines_are_prefixed_and_clean) {
    int fds[2];
    BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    {
        LogCharBackend log("vsa-vm: LPT1: ", fds[1]);
        write_text(log, "Hello\r\n\x1b[1mbold\tx\n");
        write_text(log, "part");
        log.flush(); // whole lines only: the part waits for the rest
        write_text(log, "ial\n");
        write_text(log, std::string(LogCharBackend::MAX_LINE + 3, 'z'));
        write_text(log, "tail");
    }
    ::close(fds[1]);
    std::string text = read_some(fds[0], 1'000'000, 2'000);
    ::close(fds[0]);
    std::string expected =
        "vsa-vm: LPT1: Hello\nvsa-vm: LPT1: \\x1B[1mbold\tx\nvsa-vm: LPT1: partial\nvsa-vm: LPT1: " +
        std::string(LogCharBackend::MAX_LINE, 'z') + "\nvsa-vm: LPT1: zzztail\n";
    BOOST_TEST(text == expected);
}

BOOST_AUTO_TEST_CASE(parser_forms_and_errors) {
    TempDir dir;
    auto none = open_char_backend("none", "COM1", true);
    BOOST_REQUIRE(!none.is_error());
    BOOST_TEST(!none.value());
    auto file = open_char_backend("file:" + (dir.path / "a").string(), "COM1", true);
    BOOST_REQUIRE(!file.is_error());
    BOOST_TEST(file.value()->description() == "file " + (dir.path / "a").string());
    auto append = open_char_backend("append:" + (dir.path / "b").string(), "COM1", true);
    BOOST_REQUIRE(!append.is_error());
    BOOST_TEST(append.value()->description().starts_with("append "));
    auto bare = open_char_backend((dir.path / "c").string(), "COM1", true);
    BOOST_REQUIRE(!bare.is_error());
    BOOST_TEST(fs::exists(dir.path / "c"));
    auto log = open_char_backend("log", "COM2", true);
    BOOST_REQUIRE(!log.is_error());
    BOOST_TEST(log.value()->description() == "log");
    BOOST_TEST(open_char_backend("tcp:127.0.0.1:notaport", "COM1", true).is_error());
    BOOST_TEST(open_char_backend("tcp:127.0.0.1:70000", "COM1", true).is_error());
    BOOST_TEST(open_char_backend("tcp:127.0.0.1:", "COM1", true).is_error());
    BOOST_TEST(open_char_backend("tcp:no.such.host.invalid:1234", "COM1", true).is_error());
    BOOST_TEST(open_char_backend("pipe:", "COM1", true).is_error());
    BOOST_TEST(open_char_backend("", "COM1", true).is_error());
    auto tcp = open_char_backend("tcp::0", "COM1", true);
    BOOST_REQUIRE(!tcp.is_error());
    BOOST_TEST(tcp.value()->description().starts_with("tcp 127.0.0.1:"));
}

// tty:DEVICE against a pseudo-terminal: raw bytes both ways (no echo, no
// CR/LF translation), and a hang-up (the master closed) stops input
// without a busy loop and drops later output.
BOOST_AUTO_TEST_CASE(tty_round_trip_and_hang_up) {
    TempDir dir;
    BOOST_TEST(open_char_backend("tty:", "COM1", true).is_error());
    BOOST_TEST(open_char_backend("tty:" + (dir.path / "missing").string(), "COM1", true).is_error());
    std::ofstream(dir.path / "plain") << "x";
    auto plain = open_char_backend("tty:" + (dir.path / "plain").string(), "COM1", true);
    BOOST_REQUIRE(plain.is_error());
    BOOST_TEST(plain.error().find("not a terminal") != std::string::npos);

    int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    BOOST_REQUIRE(master >= 0);
    BOOST_REQUIRE(::grantpt(master) == 0);
    BOOST_REQUIRE(::unlockpt(master) == 0);
    std::string const device = ::ptsname(master);
    auto opened = open_char_backend("tty:" + device, "COM1", true);
    BOOST_REQUIRE_MESSAGE(!opened.is_error(), (opened.is_error() ? opened.error() : ""));
    auto& tty = *opened.value();
    BOOST_TEST(tty.description() == "tty " + device);
    std::atomic<int> wakes{0};
    BOOST_REQUIRE(!tty.start([&] { ++wakes; }).is_error());

    write_text(tty, "guest\r\nsays\n");
    BOOST_TEST(read_some(master, 12) == "guest\r\nsays\n"); // raw: no \n -> \r\n
    BOOST_REQUIRE(::write(master, "host\r\x03\n", 7) == 7);
    BOOST_TEST(wait_until([&] { return wakes.load() > 0; }));
    BOOST_TEST(take_input(tty, 7) == "host\r\x03\n"); // raw: no signals, no translation
    BOOST_TEST(read_some(master, 1, 200).empty());    // and no echo

    ::close(master);
    write_text(tty, "into the void\n");
    BOOST_TEST(wait_until([&] { return tty.dropped_output() > 0; }));
}

BOOST_AUTO_TEST_CASE(fifo_round_trip) {
    TempDir dir;
    std::string base = (dir.path / "com1").string();
    auto opened = PipeCharBackend::open(base);
    BOOST_REQUIRE_MESSAGE(!opened.is_error(), (opened.is_error() ? opened.error() : std::string()));
    auto& pipe = *opened.value();
    struct stat info {};
    BOOST_TEST((::stat((base + ".in").c_str(), &info) == 0 && S_ISFIFO(info.st_mode)));
    BOOST_TEST((::stat((base + ".out").c_str(), &info) == 0 && S_ISFIFO(info.st_mode)));
    std::atomic<int> wakes{0};
    BOOST_REQUIRE(!pipe.start([&] { ++wakes; }).is_error());

    // Guest output waits in the FIFO for a reader that comes later.
    write_text(pipe, "before the reader\n");
    int reader = ::open((base + ".out").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    BOOST_REQUIRE(reader >= 0);
    BOOST_TEST(read_some(reader, 18) == "before the reader\n");
    write_text(pipe, "login: ");
    BOOST_TEST(read_some(reader, 7) == "login: "); // no newline needed

    // Host input, with flow control: more than the queue holds arrives
    // whole and in order.
    int writer = ::open((base + ".in").c_str(), O_WRONLY | O_CLOEXEC);
    BOOST_REQUIRE(writer >= 0);
    std::string typed = "root\n";
    BOOST_REQUIRE(::write(writer, typed.data(), typed.size()) == 5);
    BOOST_TEST(wait_until([&] { return wakes.load() > 0; }));
    BOOST_TEST(take_input(pipe, 5) == "root\n");
    std::string big;
    for (std::size_t i = 0; i < 3 * ThreadedCharBackend::INPUT_CAP; ++i)
        big.push_back(static_cast<char>(i * 7 % 251));
    std::thread feed([&] {
        for (std::size_t done = 0; done < big.size();) {
            ssize_t n = ::write(writer, big.data() + done, big.size() - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
    });
    // Let the queue fill up before the guest takes anything.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    BOOST_TEST(pipe.pending_input().size() <= ThreadedCharBackend::INPUT_CAP);
    BOOST_TEST(take_input(pipe, big.size()) == big);
    feed.join();
    ::close(writer);
    ::close(reader);
}

BOOST_AUTO_TEST_CASE(fifo_reuses_existing_and_refuses_other_files) {
    TempDir dir;
    std::string base = (dir.path / "port").string();
    BOOST_REQUIRE(::mkfifo((base + ".in").c_str(), 0600) == 0);
    BOOST_REQUIRE(::mkfifo((base + ".out").c_str(), 0600) == 0);
    BOOST_TEST(!PipeCharBackend::open(base).is_error());
    std::string other = (dir.path / "plain").string();
    std::ofstream(other + ".in") << "x";
    auto refused = PipeCharBackend::open(other);
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(refused.error().find("not a FIFO") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(tcp_client_connects_leaves_and_reconnects) {
    auto opened = TcpCharBackend::listen("127.0.0.1", 0);
    BOOST_REQUIRE_MESSAGE(!opened.is_error(), (opened.is_error() ? opened.error() : std::string()));
    auto& tcp = *opened.value();
    BOOST_TEST(tcp.port() != 0);
    BOOST_TEST(tcp.description() == "tcp 127.0.0.1:" + std::to_string(tcp.port()));
    std::atomic<int> wakes{0};
    BOOST_REQUIRE(!tcp.start([&] { ++wakes; }).is_error());

    // Nobody attached: output is dropped and counted.
    write_text(tcp, "lost");
    BOOST_TEST(tcp.dropped_output() == 4u);

    int client = connect_to(tcp.port());
    BOOST_REQUIRE(wait_until([&] { return tcp.client_attached(); }));
    write_text(tcp, "Welcome\r\n");
    BOOST_TEST(read_some(client, 9) == "Welcome\r\n");
    send_text(client, "ls -l\n");
    BOOST_TEST(wait_until([&] { return wakes.load() > 0; }));
    BOOST_TEST(take_input(tcp, 6) == "ls -l\n");

    // A second client while the first is attached is turned away at once.
    int second = connect_to(tcp.port());
    char byte;
    pollfd p{second, POLLIN, 0};
    BOOST_TEST(::poll(&p, 1, 10'000) == 1);
    BOOST_TEST(::recv(second, &byte, 1, 0) <= 0);
    ::close(second);
    BOOST_TEST(tcp.clients_refused() == 1u);
    write_text(tcp, "still here\n");
    BOOST_TEST(read_some(client, 11) == "still here\n");

    // The client leaves; the port listens again and a new one is served.
    ::close(client);
    BOOST_REQUIRE(wait_until([&] { return !tcp.client_attached(); }));
    u64 dropped = tcp.dropped_output();
    write_text(tcp, "nobody");
    BOOST_TEST(tcp.dropped_output() == dropped + 6);
    client = connect_to(tcp.port());
    BOOST_REQUIRE(wait_until([&] { return tcp.client_attached(); }));
    write_text(tcp, "again\n");
    BOOST_TEST(read_some(client, 6) == "again\n"); // nothing stale before it
    send_text(client, "x");
    BOOST_TEST(take_input(tcp, 1) == "x");
    BOOST_TEST(tcp.clients_served() == 2u);
    ::close(client);
}

BOOST_AUTO_TEST_CASE(tcp_client_that_never_reads_does_not_block) {
    auto opened = TcpCharBackend::listen("127.0.0.1", 0);
    BOOST_REQUIRE(!opened.is_error());
    auto& tcp = *opened.value();
    BOOST_REQUIRE(!tcp.start([] {}).is_error());
    int client = connect_to(tcp.port(), 4096);
    BOOST_REQUIRE(wait_until([&] { return tcp.client_attached(); }));
    // Far more than the socket buffers and the queue hold.
    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 8 * 1024 * 1024; ++i)
        tcp.write(static_cast<u8>(i));
    auto took = std::chrono::steady_clock::now() - started;
    BOOST_TEST(took < std::chrono::seconds(60));
    BOOST_TEST(tcp.dropped_output() > 0u);
    // The stuck client goes; the next one gets fresh output.
    ::close(client);
    BOOST_REQUIRE(wait_until([&] { return !tcp.client_attached(); }));
    client = connect_to(tcp.port());
    BOOST_REQUIRE(wait_until([&] { return tcp.client_attached(); }));
    write_text(tcp, "fresh\n");
    BOOST_TEST(read_some(client, 6) == "fresh\n");
    ::close(client);
}

BOOST_AUTO_TEST_CASE(tcp_listen_errors) {
    auto first = TcpCharBackend::listen("127.0.0.1", 0);
    BOOST_REQUIRE(!first.is_error());
    auto second = TcpCharBackend::listen("127.0.0.1", first.value()->port());
    BOOST_TEST(second.is_error());                                 // the port is taken
    BOOST_TEST(TcpCharBackend::listen("192.0.2.1", 0).is_error()); // not an address of this host
    auto ipv6 = TcpCharBackend::listen("[::1]", 0);
    if (!ipv6.is_error()) BOOST_TEST(ipv6.value()->description().starts_with("tcp [::1]:"));
}

BOOST_AUTO_TEST_SUITE_END()
