// SPDX-License-Identifier: GPL-2.0-or-later
// Bridge: one console viewer's bytes between its network connection (a
// WebSocket on vsad's HTTPS listener, or a TCP connection to the plain VNC
// listener) and libvncserver.
//
// libvncserver reads and writes plain file descriptors and owns no
// listening socket for the WebSocket viewers; so each viewer gets a
// socketpair: libvncserver serves RFB on one end (rfbNewClient), and the
// bridge's own thread copies between the other end and the viewer's
// connection: WebSocket binary frames or raw TCP bytes. libvncserver's
// thread never touches a TLS session, and only this thread does (OpenSSL
// sessions must not be used by two threads at once), which is why one
// thread both reads and writes the connection, polling both sides.
//
// The viewer's bytes reach libvncserver only after libvncserver has sent
// its ProtocolVersion: libvncserver (built with its own WebSocket and TLS
// detection) sniffs a new client's first bytes, and a viewer must not be
// able to steer it into those paths. At most PRE_HANDSHAKE_BYTES may wait.
//
// Ending: either side closing ends both. A WebSocket frame over the payload
// cap, a malformed frame, a text frame, a read stalled mid-frame for longer
// than the receive timeout, or a send blocked for longer than the send
// timeout closes the connection. abort() (any thread) shuts both sockets
// down, which wakes the thread at once.
#pragma once

#include "hypervisor/base/file_descriptor.h"
#include "hypervisor/base/types.h"

#include <Poco/Net/WebSocket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <thread>

namespace Poco {
class Logger;
}

namespace vsa::appliance::console {

// A viewer's connection, used by the bridge's thread only (abort() aside).
class Transport {
public:
    virtual ~Transport() = default;
    virtual int fd() const = 0;
    // Bytes read from the socket but not yet handed out (TLS records,
    // Poco's WebSocket buffer), which poll() cannot see.
    virtual bool buffered() = 0;
    // Appends what arrived to `out`; false when the viewer is gone or broke
    // the protocol (`why` says which, for the log).
    virtual bool receive(std::string& out, std::string& why) = 0;
    virtual bool send(std::span<u8 const> bytes) = 0;
    // A polite goodbye where the protocol has one (WebSocket close frame).
    virtual void close(std::string const&) {}
    // Any thread: shuts the socket down so a blocked receive/send returns.
    virtual void abort() = 0;
};

struct TransportLimits {
    int max_frame_payload{64 * 1024};
    std::chrono::milliseconds receive_timeout{10'000}; // a frame started must finish in this
    std::chrono::milliseconds send_timeout{30'000};
};

std::unique_ptr<Transport> make_websocket_transport(Poco::Net::WebSocket socket, TransportLimits limits);
std::unique_ptr<Transport> make_tcp_transport(FileDescriptor socket, TransportLimits limits);

class Bridge {
public:
    static constexpr std::size_t PRE_HANDSHAKE_BYTES = 4096;

    // `peer` names the viewer in log lines ("203.0.113.7:51234 (WebSocket)").
    Bridge(std::unique_ptr<Transport> transport, std::string peer, Poco::Logger& log);
    ~Bridge(); // abort() and join
    Bridge(Bridge const&) = delete;
    Bridge& operator=(Bridge const&) = delete;

    // Makes the socketpair; false (and logged) on failure.
    bool open();
    // libvncserver's end; the caller passes it to rfbNewClient, which owns
    // it from then on (closes it when the client goes). Once.
    int release_server_fd();
    void start();
    bool finished() const { return m_finished.load(); }
    void abort();
    std::string const& peer() const { return m_peer; }

private:
    void run();
    void pump();
    bool write_to_server(std::string_view bytes);

    std::unique_ptr<Transport> m_transport;
    std::string m_peer;
    Poco::Logger& m_log;
    FileDescriptor m_ours; // the bridge's end of the socketpair
    int m_server_fd{-1};   // libvncserver's end until released
    std::atomic<bool> m_aborted{false};
    std::atomic<bool> m_finished{false};
    std::thread m_thread;
};

} // namespace vsa::appliance::console
