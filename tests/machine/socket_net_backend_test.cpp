// SPDX-License-Identifier: GPL-2.0-or-later
// vsa-vm's NIC cable (hypervisor/machine/socket_net_backend.h): frames both
// ways over a seqpacket socketpair, the reader's wake-up, what it refuses
// (non-sockets, stream sockets, oversized datagrams) and its bounded queue.
#include "hypervisor/machine/socket_net_backend.h"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace vsa;

namespace {
struct Pair {
    int fds[2]{-1, -1};
    explicit Pair(int type = SOCK_SEQPACKET) { BOOST_REQUIRE(::socketpair(AF_UNIX, type, 0, fds) == 0); }
    ~Pair() {
        if (fds[1] >= 0) ::close(fds[1]);
    }
};

struct Waker {
    std::mutex mutex;
    std::condition_variable cv;
    unsigned wakes{0};
    void operator()() {
        std::lock_guard lock(mutex);
        ++wakes;
        cv.notify_all();
    }
    bool wait_for(unsigned n) {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, std::chrono::seconds(5), [&] { return wakes >= n; });
    }
};
} // namespace

BOOST_AUTO_TEST_SUITE(socket_net_backend)

BOOST_AUTO_TEST_CASE(frames_both_ways) {
    Pair p;
    auto opened = SocketNetBackend::open(p.fds[0]);
    BOOST_REQUIRE(opened.has_value());
    auto backend = opened.release_value();
    Waker waker;
    BOOST_REQUIRE(backend->start([&] { waker(); }).has_value());

    std::vector<u8> out(60, 0xA5);
    backend->send(out);
    std::vector<u8> got(2000);
    ssize_t n = ::recv(p.fds[1], got.data(), got.size(), 0);
    BOOST_TEST(n == 60);
    BOOST_TEST(std::equal(out.begin(), out.end(), got.begin()));

    std::vector<u8> in(1514);
    for (std::size_t i = 0; i < in.size(); ++i)
        in[i] = static_cast<u8>(i);
    std::vector<u8> too_big(SocketNetBackend::MAX_FRAME + 1, 1);
    BOOST_REQUIRE(::send(p.fds[1], too_big.data(), too_big.size(), 0) ==
                  static_cast<ssize_t>(too_big.size()));
    BOOST_REQUIRE(::send(p.fds[1], in.data(), in.size(), 0) == static_cast<ssize_t>(in.size()));
    std::vector<std::vector<u8>> frames;
    for (int tries = 0; tries < 50 && frames.empty(); ++tries) {
        BOOST_REQUIRE(waker.wait_for(1));
        frames = backend->take();
    }
    BOOST_REQUIRE_EQUAL(frames.size(), 1u);
    BOOST_TEST(frames[0] == in);
    BOOST_TEST(backend->dropped_in() == 1u);
}

BOOST_AUTO_TEST_CASE(queue_is_bounded) {
    Pair p;
    auto backend = SocketNetBackend::open(p.fds[0]).release_value();
    Waker waker;
    BOOST_REQUIRE(backend->start([&] { waker(); }).has_value());
    std::vector<u8> frame(64, 7);
    unsigned sent = 0;
    for (unsigned i = 0; i < SocketNetBackend::QUEUE_FRAMES + 50; ++i)
        if (::send(p.fds[1], frame.data(), frame.size(), MSG_DONTWAIT) == 64) ++sent;
    // Wait until the reader has seen every datagram (queued or dropped).
    for (int tries = 0; tries < 500; ++tries) {
        waker.wait_for(1);
        int pending = 0;
        if (::recv(p.fds[0], &pending, 0, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto frames = backend->take();
    BOOST_TEST(frames.size() <= SocketNetBackend::QUEUE_FRAMES);
    BOOST_TEST(frames.size() + backend->dropped_in() == sent);
}

BOOST_AUTO_TEST_CASE(refuses_what_is_not_a_datagram_socket) {
    int pipefd[2];
    BOOST_REQUIRE(::pipe(pipefd) == 0);
    BOOST_TEST(SocketNetBackend::open(pipefd[0]).is_error());
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    Pair stream(SOCK_STREAM);
    BOOST_TEST(SocketNetBackend::open(stream.fds[0]).is_error());
    ::close(stream.fds[0]);
    Pair dgram(SOCK_DGRAM);
    BOOST_TEST(SocketNetBackend::open(dgram.fds[0]).has_value());
}

BOOST_AUTO_TEST_CASE(peer_hangup_ends_the_reader) {
    Pair p;
    auto backend = SocketNetBackend::open(p.fds[0]).release_value();
    Waker waker;
    BOOST_REQUIRE(backend->start([&] { waker(); }).has_value());
    ::close(p.fds[1]);
    p.fds[1] = -1;
    std::vector<u8> frame(64, 1);
    backend->send(frame); // the peer is gone: dropped, no SIGPIPE
    BOOST_TEST(backend->dropped_out() == 1u);
    backend.reset(); // joins the (ended) reader
}

BOOST_AUTO_TEST_SUITE_END()
