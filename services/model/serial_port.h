// SPDX-License-Identifier: GPL-2.0-or-later
// SerialPort: the configuration of one of the VM's two COM ports
// (IVMSerialPort). Like Virtual Server, every VM has both ports; an
// unconnected port is type Null. The backends map onto Linux as: HostPort
// -> a host tty device path, TextFile -> a file written with the guest's
// output, NamedPipe -> a Unix socket path. Only the configuration lives
// here; the worker opens the backend.
#pragma once

#include "services/model/enums.h"
#include "services/service_error.h"

#include <cstdint>
#include <string>

namespace vsa::services {

class SerialPort {
public:
    explicit SerialPort(std::int32_t id = 0) : m_id(id) {}

    std::int32_t id() const { return m_id; }
    SerialPortType type() const { return m_type; }
    std::string const& name() const { return m_name; }
    bool connect_immediately() const { return m_connect_immediately; }

    // IVMSerialPort.Configure. Null needs no name (any is dropped); the other
    // types need an absolute path (E_INVALIDARG otherwise).
    ServiceResult<void> configure(SerialPortType type, std::string name, bool connect_immediately);

    friend bool operator==(SerialPort const&, SerialPort const&) = default;

private:
    std::int32_t m_id;
    SerialPortType m_type{SerialPortType::Null};
    std::string m_name;
    bool m_connect_immediately{false};
};

} // namespace vsa::services
