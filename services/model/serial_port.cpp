// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/model/serial_port.h"

#include "services/model/hard_disk_connection.h"

#include <arpa/inet.h>

#include <charconv>

namespace vsa::services {

namespace {

bool all_digits(std::string_view text) {
    if (text.empty() || text.size() > 4) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    return true;
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

} // namespace

std::optional<TcpTarget> parse_tcp_target(std::string_view name) {
    constexpr std::string_view PREFIX = "tcp:";
    if (name.size() > 64 || !name.starts_with(PREFIX)) return std::nullopt;
    name.remove_prefix(PREFIX.size());
    auto colon = name.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = name.substr(0, colon);
    std::string_view port_text = name.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    // Port 0 (any free port) would leave the client unable to find it.
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
        return std::nullopt;
    std::string address(host);
    unsigned char buffer[16];
    if (host == "localhost") {
        // As it is: the worker resolves it.
    } else if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        std::string inner(host.substr(1, host.size() - 2));
        if (::inet_pton(AF_INET6, inner.c_str(), buffer) != 1) return std::nullopt;
    } else if (::inet_pton(AF_INET, address.c_str(), buffer) != 1) {
        return std::nullopt;
    }
    return TcpTarget{std::move(address), static_cast<std::uint16_t>(port)};
}

std::optional<std::string> host_serial_device(std::string_view name) {
    if (name.size() == 4 && upper(name.substr(0, 3)) == "COM" && name[3] >= '1' && name[3] <= '4')
        return "/dev/ttyS" + std::string(1, static_cast<char>(name[3] - 1));
    for (std::string_view prefix : {"/dev/ttyS", "/dev/ttyUSB", "/dev/ttyACM"})
        if (name.starts_with(prefix) && all_digits(name.substr(prefix.size()))) return std::string(name);
    return std::nullopt;
}

ServiceResult<void> SerialPort::configure(SerialPortType type, std::string name, bool connect_immediately) {
    auto shown = [&] { return "\"" + name.substr(0, 64) + "\""; };
    switch (type) {
    case SerialPortType::Null:
        name.clear();
        break;
    case SerialPortType::HostPort:
        if (!host_serial_device(name))
            return service_error(hr::E_INVALIDARG, "a host serial port is COM1..COM4 or a tty device path "
                                                   "(/dev/ttyS<n>, /dev/ttyUSB<n>, /dev/ttyACM<n>), not " +
                                                       shown());
        if (!name.starts_with('/')) name = upper(name);
        break;
    case SerialPortType::TextFile:
        if (auto valid = validate_stored_path(name, "serial port text file"); valid.is_error())
            return service_error(hr::E_INVALIDARG, valid.error().message); // Configure's documented code
        break;
    case SerialPortType::NamedPipe:
        if (name.starts_with("tcp:")) {
            if (!parse_tcp_target(name))
                return service_error(hr::E_INVALIDARG,
                                     "a TCP serial port is tcp:HOST:PORT (HOST an IPv4 address, [IPv6 "
                                     "address] or localhost, PORT 1-65535), not " +
                                         shown());
        } else if (name.starts_with("\\\\")) {
            return service_error(hr::E_INVALIDARG,
                                 "Windows pipe names (" + shown() +
                                     ") do not exist here: give an absolute path (the FIFOs "
                                     "PATH.in and PATH.out) or tcp:HOST:PORT");
        } else {
            if (auto valid = validate_stored_path(name, "serial port named pipe"); valid.is_error())
                return service_error(hr::E_INVALIDARG, valid.error().message);
        }
        break;
    default:
        return service_error(hr::E_INVALIDARG,
                             "unknown serial port type " + std::to_string(static_cast<int>(type)) +
                                 " (VMSerialPortType: 0 HostPort, 1 TextFile, 2 NamedPipe, 3 Null)");
    }
    m_type = type;
    m_name = std::move(name);
    // Only a host port waits for modem activity before opening.
    m_connect_immediately = type == SerialPortType::HostPort && connect_immediately;
    return {};
}

std::optional<std::string> serial_port_file(SerialPort const& port) {
    if (port.type() == SerialPortType::TextFile) return port.name();
    if (port.type() == SerialPortType::NamedPipe && !port.name().starts_with("tcp:")) return port.name();
    return std::nullopt;
}

std::string worker_serial_spec(SerialPort const& port) {
    switch (port.type()) {
    case SerialPortType::HostPort:
        return "tty:" + host_serial_device(port.name()).value_or(port.name());
    case SerialPortType::TextFile:
        return "append:" + port.name();
    case SerialPortType::NamedPipe:
        return port.name().starts_with("tcp:") ? port.name() : "pipe:" + port.name();
    case SerialPortType::Null:
        break;
    }
    return "none";
}

} // namespace vsa::services
