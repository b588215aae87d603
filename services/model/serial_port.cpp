// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/serial_port.h"

#include "services/model/hard_disk_connection.h"

namespace vsa::services {

ServiceResult<void> SerialPort::configure(SerialPortType type, std::string name, bool connect_immediately) {
    if (type < SerialPortType::HostPort || type > SerialPortType::Null)
        return service_error(hr::E_INVALIDARG,
                             "unknown serial port type " + std::to_string(static_cast<int>(type)));
    if (type == SerialPortType::Null) {
        name.clear();
    } else if (auto valid = validate_stored_path(name, "serial port target"); valid.is_error()) {
        return service_error(hr::E_INVALIDARG, valid.error().message);
    }
    m_type = type;
    m_name = std::move(name);
    // Only a host port waits for modem activity before opening.
    m_connect_immediately = type == SerialPortType::HostPort && connect_immediately;
    return {};
}

} // namespace vsa::services
