// SPDX-License-Identifier: GPL-2.0-or-later
// VirtualMachine: the COM and LPT ports as clients change them.
#include "services/model/virtual_machine.h"

namespace vsa::services {

namespace {

// What two ports must not share: the host file, device or TCP port they
// open ("" for none). Two listeners on one TCP port cannot both bind,
// whatever their addresses; two writers of one file would mix their bytes.
std::string serial_resource(SerialPort const& port) {
    if (port.type() == SerialPortType::Null) return {};
    if (auto tcp = parse_tcp_target(port.name())) return "tcp port " + std::to_string(tcp->port);
    if (port.type() == SerialPortType::HostPort) return host_serial_device(port.name()).value_or(port.name());
    return port.name();
}

} // namespace

ServiceResult<void> VirtualMachine::configure_serial_port(std::int32_t id, SerialPortType type,
                                                          std::string name, bool connect_immediately) {
    auto* port = TRY(serial_port(id));
    SerialPort wanted(id);
    TRY(wanted.configure(type, std::move(name), connect_immediately));
    if (wanted == *port) return {};
    TRY(require_off("Serial ports"));
    auto const resource = serial_resource(wanted);
    if (!resource.empty()) {
        auto const& other = m_serial[id == 0 ? 1 : 0];
        if (serial_resource(other) == resource)
            return service_error(hr::VM_E_PREF_ILLEGAL_VALUE,
                                 "COM" + std::to_string(other.id() + 1) + " already uses " + resource);
        if (auto lpt = m_parallel.output_file(folder(), m_name); lpt && lpt->string() == resource)
            return service_error(hr::VM_E_PREF_ILLEGAL_VALUE, "LPT1 already uses " + resource);
    }
    *port = std::move(wanted);
    return {};
}

ServiceResult<void> VirtualMachine::set_parallel_port_name(std::string name) {
    ParallelPort wanted;
    TRY(wanted.set_name(std::move(name)));
    if (wanted == m_parallel) return {};
    TRY(require_off("The parallel port"));
    if (auto file = wanted.output_file(folder(), m_name)) {
        for (auto const& serial : m_serial)
            if (serial_resource(serial) == file->string())
                return service_error(hr::VM_E_PREF_ILLEGAL_VALUE, "COM" + std::to_string(serial.id() + 1) +
                                                                      " already uses " + file->string());
    }
    m_parallel = std::move(wanted);
    return {};
}

} // namespace vsa::services
