// SPDX-License-Identifier: GPL-2.0-or-later
// ControlChannel: the worker's end of the control socket (the protocol is in
// control_protocol.h). A reader thread turns the supervisor's lines into
// Requests for the VM thread and answers garbage itself; any thread may
// send replies and notifications.
//
// Why an inherited socketpair (vsa-vm --control-fd N) rather than a socket
// path the worker connects to: nothing appears in the file system, so there
// is no path to clean up, to race for or to protect with permissions, and
// no other process can connect to a VM; the two ends are connected before
// the worker exists, so there is no listen/accept step that can fail or
// hang; and the end of either process is an immediate EOF on the other
// end, so a worker notices at once that vsad is gone (PR_SET_PDEATHSIG is
// only the backstop) and vsad notices a dead worker before waitpid.
#pragma once

#include "hypervisor/base/file_descriptor.h"
#include "hypervisor/machine/control_protocol.h"

#include <functional>
#include <mutex>
#include <thread>

namespace vsa::control {

class ControlChannel {
public:
    // Takes ownership of `fd`, a connected stream socket.
    explicit ControlChannel(int fd);
    ~ControlChannel(); // stops and joins the reader
    ControlChannel(ControlChannel const&) = delete;
    ControlChannel& operator=(ControlChannel const&) = delete;

    // Starts the reader. on_request runs on the reader thread for every
    // well-formed request; a malformed one is answered "reply 0 error ..."
    // and dropped. on_closed runs once when the supervisor's end is gone (or
    // the socket fails); the reader then stops. Both must not block long.
    void start(std::function<void(Request)> on_request, std::function<void()> on_closed);
    // Stops and joins the reader (on_request and on_closed are not called
    // after this returns); sending still works. Idempotent.
    void stop();

    // Thread-safe. A send to a vanished supervisor is dropped: the worker
    // must never die of SIGPIPE or block on a peer that is gone.
    void send(Reply const& reply);
    void send(Notification const& notification);

private:
    void send_line(std::string const& line);
    void read_loop();

    FileDescriptor m_socket;
    FileDescriptor m_wake; // eventfd: the destructor stops the reader
    std::mutex m_send_mutex;
    std::function<void(Request)> m_on_request;
    std::function<void()> m_on_closed;
    std::thread m_reader;
};

} // namespace vsa::control
