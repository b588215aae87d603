// SPDX-License-Identifier: GPL-2.0-or-later
// SerialPort: the configuration of one of the VM's two COM ports
// (IVMSerialPort). Like Virtual Server, every VM has both ports; an
// unconnected port is type Null. Only the configuration lives here; the
// worker opens the host end (hypervisor/machine/char_backends.h), with the
// --serial value worker_serial_spec() makes.
//
// Virtual Server's VMSerialPortType onto a Linux host, and the Name each
// type takes (IVMSerialPort.Configure):
//   HostPort   a host serial port: "COM1".."COM4" for /dev/ttyS0..3, or a
//              tty device path /dev/ttyS<n>, /dev/ttyUSB<n>, /dev/ttyACM<n>
//              (used raw, at the speed the host port is set to)
//   TextFile   an absolute path: the guest's output is appended to the file
//   NamedPipe  an absolute path PATH: the named pipes (FIFOs) PATH.in (input
//              to the guest) and PATH.out (its output), made when missing;
//              or "tcp:HOST:PORT": a TCP socket the worker listens on (HOST
//              an IPv4 address, [IPv6 address] or localhost; PORT 1-65535),
//              one client at a time, raw bytes both ways. Virtual Server's
//              "\\server\pipe\name" has no Linux meaning and is refused.
//   Null       nothing (a name given is dropped)
// ConnectImmediately is kept for a host port only (the worker always opens
// its host end when the VM starts).
#pragma once

#include "services/model/enums.h"
#include "services/service_error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vsa::services {

class SerialPort {
public:
    explicit SerialPort(std::int32_t id = 0) : m_id(id) {}

    std::int32_t id() const { return m_id; }
    SerialPortType type() const { return m_type; }
    std::string const& name() const { return m_name; }
    bool connect_immediately() const { return m_connect_immediately; }

    // IVMSerialPort.Configure: E_INVALIDARG for an unknown type or a name the
    // type does not take (see the file comment), E_BAD_PATHNAME and friends
    // for a bad path (validate_stored_path). Names are stored normalized
    // ("com1" -> "COM1"). Only the form is checked here: whether the host
    // has the port, and whether a path lies inside vsad's roots, is vsad's
    // business when the client configures it.
    ServiceResult<void> configure(SerialPortType type, std::string name, bool connect_immediately);

    friend bool operator==(SerialPort const&, SerialPort const&) = default;

private:
    std::int32_t m_id;
    SerialPortType m_type{SerialPortType::Null};
    std::string m_name;
    bool m_connect_immediately{false};
};

struct TcpTarget {
    std::string host; // "127.0.0.1", "[::1]", "localhost"
    std::uint16_t port{0};
    friend bool operator==(TcpTarget const&, TcpTarget const&) = default;
};

// "tcp:HOST:PORT" as the file comment has it; nullopt for anything else.
std::optional<TcpTarget> parse_tcp_target(std::string_view name);
// A HostPort name's device: "COM2" (any case) -> "/dev/ttyS1", a tty path
// as it is; nullopt for anything else.
std::optional<std::string> host_serial_device(std::string_view name);
// The path a port's configuration names on the host filesystem, which vsad
// confines to its roots: a TextFile's file, a NamedPipe's FIFO path (not a
// TCP target); nullopt for the other types.
std::optional<std::string> serial_port_file(SerialPort const& port);
// The worker's --serial value (char_backends.h): "append:PATH",
// "pipe:PATH", "tcp:HOST:PORT", "tty:DEVICE"; "none" for Null.
std::string worker_serial_spec(SerialPort const& port);

} // namespace vsa::services
