// SPDX-License-Identifier: GPL-2.0-or-later
// The host ends of the guest's serial ports, parallel port and debug
// console (hw/char_backend.h is the interface the devices see), and the
// one parser of the worker's `--serial` / `--serial2` / `--parallel` /
// `--debugcon` values:
//
//   none           unconnected: output vanishes, no input
//   stdio, -       output to stdout; serial input from stdin
//   stderr         output to stderr
//   file:PATH      output to PATH, truncated when the worker starts;
//                  a bare PATH means the same
//   append:PATH    output appended to PATH (a VM's log reads as one across
//                  save and restore; vsad uses it)
//   log            lines into the worker's own log (stderr), each
//                  prefixed "vsa-vm: COM1: " (the port's name)
//   pipe:PATH      named pipes, as QEMU's `pipe:` chardev: the guest's
//                  input is read from the FIFO PATH.in, its output written
//                  to the FIFO PATH.out. Missing FIFOs are created (mode
//                  0600); an existing path that is not a FIFO is refused.
//   tty:DEVICE     a host serial port (/dev/ttyS0, /dev/ttyUSB0, ...),
//                  opened without becoming the controlling terminal and
//                  switched to raw mode (8 bits, no echo, modem lines
//                  ignored) at the speed the host port is set to; raw
//                  bytes both ways. A port that hangs up (a USB adapter
//                  unplugged) stops giving input; output is then dropped.
//   fd:N           descriptor N, inherited from the parent (a stream
//                  socket): raw bytes both ways; vsad hands the guest
//                  agent's port one (--agent fd:N)
//   tcp:HOST:PORT  a listening TCP socket on HOST (an address or name;
//                  empty = 127.0.0.1, [::1] for IPv6), PORT 0 = any free
//                  port; raw bytes both ways, one client at a time
//
// Threading. Devices call write(), pending_input() and consume_input() on
// the VM thread. Backends with a host end that can stall (a FIFO, a
// socket, stdin) serve it on their own thread, started by start(); input
// that thread receives is queued (bounded: when the queue is full the
// thread stops reading, so the host end sees back pressure and nothing is
// lost) and announced through the `input_arrived` callback, which the
// worker points at PcMachine::post() (the VM thread polls the UARTs after
// posted work).
//
// Output never blocks the VM thread where a peer controls the pace: the
// FIFO and TCP backends queue it (up to OUTPUT_CAP bytes) for their
// thread, and what does not fit is dropped and counted (dropped_output()),
// as is everything written while no TCP client is attached. Files, stdout,
// stderr and the log are written on the VM thread, line-buffered, and lose
// nothing (a stalled stdout reader stalls the guest, as before).
//
// Why not one FIFO for both directions (QEMU's fallback when PATH.in and
// PATH.out do not exist): the worker would read back its own output as
// guest input. Both FIFOs are opened O_RDWR | O_NONBLOCK (Linux): the open
// never waits for a peer, a writer closing PATH.in is no EOF, and output
// written while nobody reads PATH.out waits in the pipe (64 KiB) and then
// in the queue, and is dropped past that.
//
// TCP: while a client is attached, further connections are accepted and
// closed at once (they learn immediately rather than hanging in the
// backlog). A client that goes away (EOF, reset) is dropped with the output
// still queued for it, and the socket listens again. There is no telnet
// negotiation (QEMU's `telnet` option): clients get the raw byte stream.
#pragma once

#include "hw/char_backend.h"
#include "hypervisor/base/file_descriptor.h"
#include "hypervisor/base/result.h"
#include "hypervisor/base/types.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace vsa {

// What every host end offers the worker besides CharBackend.
class HostCharBackend : public CharBackend {
public:
    // Starts the backend's thread, if it has one. `input_arrived` runs on
    // that thread after input was queued. Call at most once.
    virtual Result<void, std::string> start(std::function<void()> input_arrived) {
        (void)input_arrived;
        return Ok{};
    }
    // VM thread: write out what is buffered (the worker calls it whenever
    // PcMachine::run() returns).
    virtual void flush() {}
    // Where the bytes go, for the worker's log: "file /tmp/x",
    // "tcp 127.0.0.1:4555".
    virtual std::string description() const = 0;
    // Output the host end could not take (no client, a full queue).
    virtual u64 dropped_output() const { return 0; }
};

// Host -> guest bytes on their way from a backend thread to the VM thread,
// bounded (CharBackend's flow control, one queue further out).
class CharInputQueue {
public:
    explicit CharInputQueue(std::size_t capacity) : m_capacity(capacity) {}
    // Any thread: room left, and queueing (at most room() bytes are taken).
    std::size_t room() const;
    std::size_t push(std::span<u8 const> bytes);
    // VM thread: CharBackend::pending_input() / consume_input(). consume()
    // returns true when the queue had been full (the reader may go on).
    std::span<u8 const> pending();
    bool consume(std::size_t count);

private:
    std::size_t const m_capacity;
    mutable std::mutex m_mutex;
    std::vector<u8> m_incoming; // under m_mutex
    std::size_t m_queued{0};    // under m_mutex: incoming + m_input
    std::vector<u8> m_input;    // VM thread
};

// Output to a descriptor (a file, stdout, stderr), line-buffered on the VM
// thread; optionally input from another descriptor (stdin) read by a thread.
class FdCharBackend final : public HostCharBackend {
public:
    static constexpr std::size_t INPUT_CAP = 64 * KiB;

    // `owned`: close `fd` at the end. `input_fd` >= 0: read guest input
    // from it (not owned) once started.
    FdCharBackend(int fd, bool owned, std::string description, int input_fd = -1);
    // file:PATH (truncate) or append:PATH.
    static Result<std::unique_ptr<FdCharBackend>, std::string> open_file(std::string const& path,
                                                                         bool append);
    ~FdCharBackend() override;

    void write(u8 byte) override;
    std::span<u8 const> pending_input() override { return m_input.pending(); }
    void consume_input(std::size_t count) override;
    Result<void, std::string> start(std::function<void()> input_arrived) override;
    void flush() override;
    std::string description() const override { return m_description; }

private:
    void read_input(std::function<void()> input_arrived);

    int m_fd;
    bool m_owned;
    std::string m_description;
    std::string m_buffer;
    int m_input_fd;
    CharInputQueue m_input{INPUT_CAP};
    FileDescriptor m_wake; // stop, or room in the input queue again
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

// Lines into the worker's log: "<prefix><line>\n", control characters
// other than tab shown as \xNN, CR dropped. Output only.
class LogCharBackend final : public HostCharBackend {
public:
    static constexpr std::size_t MAX_LINE = 512; // longer lines are split

    explicit LogCharBackend(std::string prefix, int fd = 2);
    ~LogCharBackend() override;
    void write(u8 byte) override;
    // Nothing: only whole lines go to the log (the worker flushes after
    // every run(), which must not cut a line the guest is still writing).
    // The last, partial line goes out at the end.
    void flush() override {}
    std::string description() const override { return "log"; }

private:
    void emit_line();

    std::string m_prefix;
    int m_fd;
    std::string m_line;
};

// A backend whose host end a thread serves (FIFOs, a socket): output is
// queued for the thread, input comes from it through CharInputQueue.
class ThreadedCharBackend : public HostCharBackend {
public:
    static constexpr std::size_t OUTPUT_CAP = 64 * KiB;
    static constexpr std::size_t INPUT_CAP = 64 * KiB;

    ~ThreadedCharBackend() override;
    void write(u8 byte) override;
    std::span<u8 const> pending_input() override { return m_input.pending(); }
    void consume_input(std::size_t count) override;
    Result<void, std::string> start(std::function<void()> input_arrived) override;
    u64 dropped_output() const override { return m_dropped.load(); }
    std::string description() const override { return m_description; }

protected:
    ThreadedCharBackend(FileDescriptor wake, std::string description);
    static Result<FileDescriptor, std::string> make_wake_fd();

    // The thread's body: serve the host end until stopping(). It polls
    // wake_fd() besides its own descriptors.
    virtual void serve() = 0;
    // Subclasses call it first in their destructor (the thread uses their
    // members).
    void stop_thread();

    // For serve().
    int wake_fd() const { return m_wake.fd(); }
    void drain_wake();
    bool stopping() const { return m_stop.load(); }
    bool output_waiting() const;
    // Writes queued output with `send` (returns bytes taken, 0 when the
    // peer is full, < 0 on failure); true unless `send` failed.
    bool send_output(std::function<long(u8 const*, std::size_t)> const& send);
    // Drops (and counts) the queued output; sets whether write() queues.
    void discard_output();
    void set_accepting_output(bool accepting) { m_accepting.store(accepting); }
    std::size_t input_room() const { return m_input.room(); }
    void deliver_input(std::span<u8 const> bytes);

private:
    void wake();

    FileDescriptor m_wake;
    std::string m_description;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_accepting{true};
    std::atomic<u64> m_dropped{0};
    mutable std::mutex m_out_mutex;
    std::string m_out; // under m_out_mutex
    CharInputQueue m_input{INPUT_CAP};
    std::function<void()> m_input_arrived;
    std::thread m_thread;
};

// pipe:PATH: guest input from the FIFO PATH.in, output to PATH.out.
class PipeCharBackend final : public ThreadedCharBackend {
public:
    static Result<std::unique_ptr<PipeCharBackend>, std::string> open(std::string const& path);
    ~PipeCharBackend() override;

private:
    PipeCharBackend(FileDescriptor wake, FileDescriptor in, FileDescriptor out, std::string const& path);
    void serve() override;

    FileDescriptor m_in;
    FileDescriptor m_out;
};

// Raw bytes both ways on one descriptor: tty:DEVICE (a host serial port)
// or fd:N (a stream socket the worker inherited, vsad's end of the guest
// agent's port). A peer that hangs up (EOF, an error) stops the input;
// output is then dropped and counted.
class TtyCharBackend final : public ThreadedCharBackend {
public:
    static Result<std::unique_ptr<TtyCharBackend>, std::string> open(std::string const& device);
    // Takes over descriptor `fd` (made non-blocking and close-on-exec).
    static Result<std::unique_ptr<TtyCharBackend>, std::string> adopt(int fd);
    ~TtyCharBackend() override;

private:
    TtyCharBackend(FileDescriptor wake, FileDescriptor tty, std::string description);
    void serve() override;

    FileDescriptor m_tty;
};

// tcp:HOST:PORT: one client at a time on a listening socket.
class TcpCharBackend final : public ThreadedCharBackend {
public:
    static Result<std::unique_ptr<TcpCharBackend>, std::string> listen(std::string const& host, u16 port);
    ~TcpCharBackend() override;

    // The port it listens on (the one chosen when asked for port 0).
    u16 port() const { return m_port; }
    bool client_attached() const { return m_client_attached.load(); }
    u64 clients_served() const { return m_clients_served.load(); }
    u64 clients_refused() const { return m_clients_refused.load(); }

private:
    TcpCharBackend(FileDescriptor wake, FileDescriptor listener, std::string address, u16 port);
    void serve() override;

    FileDescriptor m_listener;
    u16 m_port;
    std::atomic<bool> m_client_attached{false};
    std::atomic<u64> m_clients_served{0};
    std::atomic<u64> m_clients_refused{0};
};

// The parser (see the file comment). `port_name` ("COM1", "LPT1") prefixes
// log lines. `with_input`: the port reads host input (stdio then reads
// stdin). "none" gives null.
Result<std::unique_ptr<HostCharBackend>, std::string>
open_char_backend(std::string const& spec, std::string_view port_name, bool with_input);

} // namespace vsa
