// SPDX-License-Identifier: GPL-2.0-or-later
// The learning switch on real socketpairs (SOCK_SEQPACKET, as vsad gives
// workers): flooding of unknown and broadcast destinations, learning and
// unicast forwarding, moves, counters per port and in total (kept after a
// detach), runts, oversized datagrams, refused socket kinds, a worker that
// goes away, endpoints in vsad (delivery, answers, polled descriptors),
// and a flooding port that cannot starve another.
#include "services/network/virtual_switch.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fcntl.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace vsa;
using namespace vsa::network;

namespace {

using Bytes = std::vector<std::uint8_t>;

// One NIC: the worker's end of the socketpair; the switch holds the other.
struct Nic {
    FileDescriptor worker;
    PortId port{0};

    static Nic plug(VirtualSwitch& sw, int type = SOCK_SEQPACKET) {
        int fds[2];
        BOOST_REQUIRE(::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) == 0);
        Nic nic;
        nic.worker = FileDescriptor(fds[0]);
        auto id = sw.attach_socket(FileDescriptor(fds[1]), "nic");
        BOOST_REQUIRE(id.has_value());
        nic.port = id.value();
        return nic;
    }
    void send(Bytes const& frame) const {
        BOOST_REQUIRE(::send(worker.fd(), frame.data(), frame.size(), 0) ==
                      static_cast<ssize_t>(frame.size()));
    }
    // The next frame within `ms`, or nothing.
    std::optional<Bytes> receive(int ms = 2000) const {
        pollfd p{worker.fd(), POLLIN, 0};
        if (::poll(&p, 1, ms) <= 0) return std::nullopt;
        Bytes buf(2048);
        ssize_t n = ::recv(worker.fd(), buf.data(), buf.size(), MSG_DONTWAIT);
        if (n <= 0) return std::nullopt; // 0: the switch closed its end
        buf.resize(static_cast<std::size_t>(n));
        return buf;
    }
};

Mac mac(std::uint8_t last) {
    return Mac{0x00, 0x03, 0xFF, 0x00, 0x00, last};
}

Bytes frame(Mac dst, Mac src, std::size_t payload = 46, std::uint8_t fill = 0xAB) {
    // Sized up front (GCC 12's -Warray-bounds misreads growing inserts at -O2).
    Bytes f(14 + payload, fill);
    std::copy(dst.begin(), dst.end(), f.begin());
    std::copy(src.begin(), src.end(), f.begin() + 6);
    f[12] = 0x08;
    f[13] = 0x00;
    return f;
}

// Waits until `pred` holds (the switch thread works asynchronously).
template <typename Pred>
bool eventually(Pred pred, int ms = 2000) {
    for (int i = 0; i < ms / 5; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return pred();
}

// An endpoint that records what it gets and answers pings addressed to it.
class Echo final : public Endpoint {
public:
    explicit Echo(Mac self) : m_self(self) {}
    void attached(Sender sender) override { m_send = std::move(sender); }
    void deliver(std::span<std::uint8_t const> f) override {
        std::lock_guard lock(m_mutex);
        got.emplace_back(f.begin(), f.end());
        if (destination_mac(f) == m_self) {
            Bytes reply = frame(source_mac(f), m_self, 46, 0xEE);
            m_send(reply);
        }
    }
    std::size_t count() {
        std::lock_guard lock(m_mutex);
        return got.size();
    }
    std::vector<Bytes> got;

private:
    Mac m_self;
    Sender m_send;
    std::mutex m_mutex;
};

// An endpoint with a host descriptor: whatever arrives on its pipe is sent
// into the switch as a broadcast from it (what NAT does with sockets).
class PipeSource final : public Endpoint {
public:
    PipeSource() {
        int fds[2];
        BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
        read_end = FileDescriptor(fds[0]);
        write_end = FileDescriptor(fds[1]);
    }
    void attached(Sender sender) override { m_send = std::move(sender); }
    void deliver(std::span<std::uint8_t const>) override {}
    void before_poll(std::vector<pollfd>& fds, int&) override {
        fds.push_back(pollfd{read_end.fd(), POLLIN, 0});
    }
    void after_poll(std::span<pollfd const> fds) override {
        if (fds.empty() || !(fds[0].revents & POLLIN)) return;
        std::uint8_t b;
        while (::read(read_end.fd(), &b, 1) == 1)
            m_send(frame(BROADCAST_MAC, mac(0x77), 46, b));
    }
    FileDescriptor read_end;
    FileDescriptor write_end;

private:
    Sender m_send;
};

// An endpoint that notes whether a frame came before its sender did.
class Recorder final : public Endpoint {
public:
    void attached(Sender) override { m_attached = true; }
    void deliver(std::span<std::uint8_t const>) override {
        if (!m_attached) m_early = true;
        m_delivered = true;
    }
    bool delivered() const { return m_delivered; }
    bool early() const { return m_early; }

private:
    bool m_attached{false}; // switch thread only
    std::atomic<bool> m_delivered{false}, m_early{false};
};

} // namespace

BOOST_AUTO_TEST_SUITE(virtual_switch)

// An endpoint attached while the switch is polling a NIC whose frame is
// already on its way (NAT switched on under a running network): the
// endpoint gets its sender before that frame, or its answer (an ARP
// reply) would be lost.
BOOST_AUTO_TEST_CASE(an_endpoint_attached_under_traffic_has_its_sender_before_its_first_frame) {
    VirtualSwitch sw("busy");
    Nic a = Nic::plug(sw);
    for (int i = 0; i < 20; ++i) {
        auto recorder = std::make_shared<Recorder>();
        PortId ep = sw.attach_endpoint(recorder, "late");
        a.send(frame(BROADCAST_MAC, mac(1)));
        BOOST_TEST(eventually([&] { return recorder->delivered(); }));
        BOOST_TEST(!recorder->early());
        BOOST_TEST(sw.detach(ep));
    }
}

BOOST_AUTO_TEST_CASE(unknown_destinations_flood_then_the_switch_learns) {
    VirtualSwitch sw("internal");
    Nic a = Nic::plug(sw), b = Nic::plug(sw), c = Nic::plug(sw);
    // A -> B before anyone is known: everyone but A gets it.
    auto f1 = frame(mac(2), mac(1));
    a.send(f1);
    BOOST_TEST((b.receive() == f1));
    BOOST_TEST((c.receive() == f1));
    BOOST_TEST(!a.receive(100));
    // B answers A: A is known, so only A gets it.
    auto f2 = frame(mac(1), mac(2));
    b.send(f2);
    BOOST_TEST((a.receive() == f2));
    BOOST_TEST(!c.receive(100));
    // Now both are known: A -> B goes to B only.
    a.send(f1);
    BOOST_TEST((b.receive() == f1));
    BOOST_TEST(!c.receive(100));
    auto table = sw.learned();
    BOOST_TEST(table.at(mac(1)) == a.port);
    BOOST_TEST(table.at(mac(2)) == b.port);
    // Broadcast floods; a broadcast source address is never learned.
    auto bc = frame(BROADCAST_MAC, mac(3));
    c.send(bc);
    BOOST_TEST((a.receive() == bc));
    BOOST_TEST((b.receive() == bc));
    BOOST_TEST(sw.learned().count(BROADCAST_MAC) == 0u);
}

BOOST_AUTO_TEST_CASE(an_address_that_moves_is_relearned) {
    VirtualSwitch sw("internal");
    Nic a = Nic::plug(sw), b = Nic::plug(sw), c = Nic::plug(sw);
    a.send(frame(BROADCAST_MAC, mac(9)));
    (void)b.receive();
    (void)c.receive();
    BOOST_TEST(eventually([&] { return sw.learned().count(mac(9)) == 1; }));
    BOOST_TEST(sw.learned().at(mac(9)) == a.port);
    // The VM behind mac 9 now talks from C (re-plugged).
    c.send(frame(BROADCAST_MAC, mac(9)));
    (void)a.receive();
    (void)b.receive();
    BOOST_TEST(eventually([&] { return sw.learned().at(mac(9)) == c.port; }));
    b.send(frame(mac(9), mac(8)));
    BOOST_TEST(c.receive().has_value());
    BOOST_TEST(!a.receive(100));
}

BOOST_AUTO_TEST_CASE(counters_per_port_and_in_total_survive_a_detach) {
    VirtualSwitch sw("internal");
    Nic a = Nic::plug(sw), b = Nic::plug(sw);
    for (int i = 0; i < 10; ++i) {
        a.send(frame(mac(2), mac(1), 100));
        BOOST_REQUIRE(b.receive().has_value());
    }
    auto sa = sw.stats(a.port);
    auto sb = sw.stats(b.port);
    BOOST_REQUIRE(sa && sb);
    BOOST_TEST(sa->frames_sent == 10u);
    BOOST_TEST(sa->bytes_sent == 10u * 114);
    BOOST_TEST(sb->frames_received == 10u);
    BOOST_TEST(sb->bytes_received == 10u * 114);
    BOOST_TEST(sa->frames_received == 0u);
    BOOST_TEST(sw.detach(b.port));
    BOOST_TEST(!sw.detach(b.port));
    BOOST_TEST(!sw.stats(b.port));
    auto t = sw.totals();
    BOOST_TEST(t.frames_sent == 10u);
    BOOST_TEST(t.frames_received == 10u);
    // Nothing reaches a detached port, and its addresses are forgotten.
    BOOST_TEST(sw.learned().count(mac(2)) == 0u);
    a.send(frame(mac(2), mac(1)));
    BOOST_TEST(!b.receive(200));
}

BOOST_AUTO_TEST_CASE(per_second_rates_and_the_last_minute) {
    VirtualSwitch sw("internal");
    Nic a = Nic::plug(sw), b = Nic::plug(sw);
    for (int i = 0; i < 10; ++i) {
        a.send(frame(mac(2), mac(1), 100));
        BOOST_REQUIRE(b.receive().has_value());
    }
    a.send(Bytes(10, 0)); // a runt: 10 bytes dropped
    auto sum = [](TrafficRates::Series const& s) {
        std::uint64_t total = 0;
        for (auto v : s.history)
            total += v;
        return total;
    };
    // Sampled once a second by the switch thread.
    BOOST_TEST(eventually([&] { return sum(sw.rates().packets_received) == 10; }, 3000));
    BOOST_TEST(eventually([&] { return sum(sw.rates().packets_dropped) == 1; }, 3000));
    auto r = sw.rates();
    BOOST_TEST(sum(r.bytes_received) == 1140u);
    BOOST_TEST(sum(r.packets_sent) == 10u);
    BOOST_TEST(sum(r.bytes_sent) == 1140u);
    BOOST_TEST(sum(r.bytes_dropped) == 10u);
    // A quiet second later the current rate is back to zero and the
    // minute still holds the burst.
    BOOST_TEST(eventually([&] { return sw.rates().packets_received.current == 0; }, 3000));
    BOOST_TEST(sum(sw.rates().packets_received) == 10u);
}

BOOST_AUTO_TEST_CASE(runts_and_oversized_datagrams_are_dropped_and_counted) {
    VirtualSwitch sw("internal");
    Nic a = Nic::plug(sw), b = Nic::plug(sw);
    a.send(Bytes(10, 0x11));                                   // shorter than a header
    a.send(frame(mac(2), mac(1), MAX_FRAME - ETH_HEADER + 1)); // one byte too long
    a.send(frame(mac(2), mac(1), 1500));                       // the largest normal frame
    auto got = b.receive();
    BOOST_REQUIRE(got.has_value());
    BOOST_TEST(got->size() == 1514u);
    BOOST_TEST(!b.receive(100));
    BOOST_TEST(eventually([&] { return sw.stats(a.port)->frames_dropped == 2u; }));
}

BOOST_AUTO_TEST_CASE(a_stream_socket_is_refused_and_a_vanished_worker_is_unplugged) {
    VirtualSwitch sw("internal");
    int fds[2];
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    FileDescriptor keep(fds[0]);
    auto refused = sw.attach_socket(FileDescriptor(fds[1]), "stream");
    BOOST_TEST(refused.is_error());
    BOOST_TEST(sw.attach_socket(FileDescriptor(), "none").is_error());

    Nic a = Nic::plug(sw);
    {
        Nic gone = Nic::plug(sw);
        PortId id = gone.port;
        gone.worker.reset(); // the worker exited
        BOOST_TEST(eventually([&] { return !sw.has_port(id); }));
    }
    BOOST_TEST(sw.has_port(a.port));
    BOOST_TEST(sw.ports().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_released_socket_moves_to_another_network) {
    VirtualSwitch one("one"), two("two");
    Nic a = Nic::plug(one), b = Nic::plug(one), c = Nic::plug(two);
    FileDescriptor moved = one.release(a.port);
    BOOST_REQUIRE(moved.is_open());
    BOOST_TEST(!one.has_port(a.port));
    BOOST_TEST(!one.release(a.port).is_open());
    auto id = two.attach_socket(std::move(moved), "moved");
    BOOST_REQUIRE(id.has_value());
    // A's frames now reach C on the other network, not B.
    auto f = frame(BROADCAST_MAC, mac(1));
    a.send(f);
    BOOST_TEST((c.receive() == f));
    BOOST_TEST(!b.receive(100));
}

BOOST_AUTO_TEST_CASE(datagram_sockets_work_too) {
    VirtualSwitch sw("internal");
    Nic a = Nic::plug(sw, SOCK_DGRAM), b = Nic::plug(sw, SOCK_DGRAM);
    auto f = frame(mac(2), mac(1));
    a.send(f);
    BOOST_TEST((b.receive() == f));
}

BOOST_AUTO_TEST_CASE(endpoints_receive_answer_and_poll_host_descriptors) {
    VirtualSwitch sw("internal");
    auto echo = std::make_shared<Echo>(mac(0x50));
    PortId ep = sw.attach_endpoint(echo, "echo");
    Nic a = Nic::plug(sw), b = Nic::plug(sw);
    // A broadcast reaches the endpoint too.
    a.send(frame(BROADCAST_MAC, mac(1)));
    (void)b.receive();
    BOOST_TEST(eventually([&] { return echo->count() == 1; }));
    // A frame to the endpoint's address: its answer comes back to A only.
    a.send(frame(mac(0x50), mac(1)));
    auto reply = a.receive();
    BOOST_REQUIRE(reply.has_value());
    BOOST_TEST((source_mac(*reply) == mac(0x50)));
    BOOST_TEST((*reply)[20] == 0xEE);
    // B saw the request (the endpoint's address was not learned yet, so it
    // flooded) but not the answer.
    auto flooded = b.receive();
    BOOST_TEST((flooded && destination_mac(*flooded) == mac(0x50)));
    BOOST_TEST(!b.receive(100));
    BOOST_TEST(sw.stats(ep)->frames_sent == 1u);
    // A polled host descriptor drives frames into the network.
    auto source = std::make_shared<PipeSource>();
    sw.attach_endpoint(source, "pipe");
    std::uint8_t byte = 0x42;
    BOOST_REQUIRE(::write(source->write_end.fd(), &byte, 1) == 1);
    auto fa = a.receive();
    BOOST_REQUIRE(fa.has_value());
    BOOST_TEST((*fa)[20] == 0x42);
    BOOST_TEST(b.receive().has_value());
    BOOST_TEST(eventually([&] { return echo->count() == 3; }));
    BOOST_TEST(sw.detach(ep));
}

BOOST_AUTO_TEST_CASE(a_flooding_port_does_not_starve_another) {
    VirtualSwitch sw("internal");
    Nic flood = Nic::plug(sw), victim = Nic::plug(sw), quiet = Nic::plug(sw), sink = Nic::plug(sw);
    // Teach the switch where the victim (never read: its buffer fills and
    // the switch drops) and the sink are, so the flood is unicast.
    victim.send(frame(BROADCAST_MAC, mac(4)));
    sink.send(frame(BROADCAST_MAC, mac(3)));
    BOOST_TEST(eventually([&] { return sw.learned().size() == 2; }));
    while (flood.receive(50) || quiet.receive(50) || sink.receive(50)) {
    }
    std::atomic<bool> stop{false};
    std::thread flooder([&] {
        auto f = frame(mac(4), mac(1), 1000);
        while (!stop.load())
            (void)::send(flood.worker.fd(), f.data(), f.size(), MSG_DONTWAIT);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto marked = frame(mac(3), mac(2), 46, 0x5A);
    quiet.send(marked);
    auto got = sink.receive(5000);
    stop.store(true);
    flooder.join();
    BOOST_TEST((got == marked));
    BOOST_TEST(sw.stats(victim.port)->frames_dropped > 0u);
}

BOOST_AUTO_TEST_SUITE_END()
