// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/config.h"

#include <Poco/Exception.h>
#include <Poco/NumberParser.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <sstream>

namespace vsa::appliance {

namespace {

// Reads integer keys with a range check, so "https.port = 99999" or
// "pool.threads = -1" is refused by name at start-up.
class Reader {
public:
    explicit Reader(Poco::Util::AbstractConfiguration const& config) : m_config(config) {}

    template <typename T>
    void integer(char const* key, T& out, long long min, long long max) {
        if (!m_error.empty() || !m_config.hasProperty(key)) return;
        auto text = m_config.getString(key);
        Poco::Int64 value = 0;
        if (!Poco::NumberParser::tryParse64(text, value) || value < min || value > max) {
            std::ostringstream message;
            message << "configuration key " << key << " = '" << text << "': expected an integer from " << min
                    << " to " << max;
            m_error = message.str();
            return;
        }
        out = static_cast<T>(value);
    }

    template <typename Duration>
    void duration(char const* key, Duration& out, long long min, long long max) {
        long long count = out.count();
        integer(key, count, min, max);
        out = Duration(count);
    }

    void path(char const* key, std::filesystem::path& out) {
        if (!m_error.empty() || !m_config.hasProperty(key)) return;
        auto text = m_config.getString(key);
        if (text.empty()) {
            m_error = std::string("configuration key ") + key + " is empty";
            return;
        }
        out = text;
    }

    void string(char const* key, std::string& out) {
        if (m_error.empty() && m_config.hasProperty(key)) out = m_config.getString(key);
    }

    std::string const& error() const { return m_error; }

private:
    Poco::Util::AbstractConfiguration const& m_config;
    std::string m_error;
};

} // namespace

std::optional<std::pair<std::uint16_t, std::uint16_t>> parse_port_range(std::string_view text) {
    auto number = [](std::string_view part) -> std::optional<std::uint16_t> {
        while (!part.empty() && part.front() == ' ')
            part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ')
            part.remove_suffix(1);
        if (part.empty() || part.size() > 5) return std::nullopt;
        unsigned value = 0;
        for (char c : part) {
            if (c < '0' || c > '9') return std::nullopt;
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (value == 0 || value > 65535) return std::nullopt;
        return static_cast<std::uint16_t>(value);
    };
    auto dash = text.find('-');
    auto first = number(text.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : number(text.substr(dash + 1));
    if (!first || !last || *first > *last) return std::nullopt;
    return std::pair{*first, *last};
}

Result<DaemonConfig, std::string> DaemonConfig::from(Poco::Util::AbstractConfiguration const& config) {
    DaemonConfig c;
    Reader r(config);
    r.path("vsa.data_dir", c.data_dir);
    r.path("web.root", c.web_root);
    r.path("https.certificate", c.certificate);
    r.path("https.private_key", c.private_key);
    r.path("vm.worker_binary", c.worker_binary);
    r.path("vm.agent_media", c.agent_media);
    r.path("vm.cpu_cgroup", c.cpu_cgroup);
    r.string("https.bind", c.listen.bind_address);
    r.integer("https.port", c.listen.port, 0, 65535);
    r.integer("https.longpoll_port", c.listen.longpoll_port, 0, 65535);
    r.integer("pool.threads", c.pool.threads, 2, 1024);
    r.integer("pool.queue", c.pool.queue, 1, 65536);
    r.integer("pool.longpoll_threads", c.pool.longpoll_threads, 1, 1024);
    r.duration("auth.session_idle_seconds", c.auth.session_idle, 10, 7LL * 86400);
    r.duration("auth.failure_delay_ms", c.auth.failure_delay, 0, 10'000);
    r.integer("auth.max_failures", c.auth.max_failures, 1, 1000);
    r.duration("auth.failure_window_seconds", c.auth.failure_window, 1, 86400);
    r.duration("auth.lockout_seconds", c.auth.lockout, 1, 86400);
    r.duration("auth.credential_cache_seconds", c.auth.credential_cache, 0, 86400);
    r.string("auth.first_admin", c.auth.first_admin);
    r.path("auth.initial_password_file", c.auth.initial_password_file);
    r.integer("limits.max_body_bytes", c.limits.max_body_bytes, 4096, 1ll << 30);
    r.integer("limits.max_header_fields", c.limits.max_header_fields, 8, 1000);
    r.integer("limits.max_uri_length", c.limits.max_uri_length, 256, 65536);
    r.duration("limits.receive_timeout_ms", c.limits.receive_timeout, 100, 3'600'000);
    r.duration("limits.send_timeout_ms", c.limits.send_timeout, 100, 3'600'000);
    r.duration("limits.keepalive_timeout_ms", c.limits.keepalive_timeout, 100, 3'600'000);
    r.duration("limits.request_timeout_ms", c.limits.request_timeout, 100, 3'600'000);
    r.integer("limits.max_keepalive_requests", c.limits.max_keepalive_requests, 1, 1'000'000);
    r.integer("limits.soap_max_depth", c.limits.soap_max_depth, 8, 1000);
    r.integer("limits.soap_max_string", c.limits.soap_max_string, 1024, 1ll << 30);
    r.integer("limits.soap_max_occurs", c.limits.soap_max_occurs, 16, 100'000'000);
    r.integer("console.max_viewers", c.console.max_viewers, 1, 1024);
    r.integer("console.max_viewers_per_vm", c.console.max_viewers_per_vm, 1, 1024);
    r.integer("console.max_frame_bytes", c.console.max_frame_bytes, 1024, 16 << 20);
    if (!r.error().empty()) return Err{r.error()};
    if (config.hasProperty("console.vnc_enabled")) {
        auto text = config.getString("console.vnc_enabled");
        bool value = false;
        if (!Poco::NumberParser::tryParseBool(text, value))
            return Err{"configuration key console.vnc_enabled = '" + text + "': expected true or false"};
        c.console.vnc_enabled = value;
    }
    if (config.hasProperty("console.vnc_ports")) {
        auto text = config.getString("console.vnc_ports");
        auto ports = parse_port_range(text);
        if (!ports)
            return Err{"configuration key console.vnc_ports = '" + text +
                       "': expected FIRST-LAST (ports 1-65535, FIRST <= LAST) or one port"};
        c.console.vnc_port_first = ports->first;
        c.console.vnc_port_last = ports->second;
    }
    if (config.hasProperty("dvd.discover_host_drives")) {
        auto text = config.getString("dvd.discover_host_drives");
        bool value = true;
        if (!Poco::NumberParser::tryParseBool(text, value))
            return Err{"configuration key dvd.discover_host_drives = '" + text + "': expected true or false"};
        c.discover_optical_drives = value;
    }
    Poco::Util::AbstractConfiguration::Keys ids;
    config.keys("dvd.host_drive", ids);
    for (auto const& id : ids) {
        services::HostOpticalDrive drive{id, config.getString("dvd.host_drive." + id, "")};
        if (auto problem = services::HostOpticalDrives::configuration_problem(drive))
            return Err{"configuration key dvd.host_drive." + id + ": " + *problem};
        c.optical_drives.push_back(std::move(drive));
    }
    Poco::Util::AbstractConfiguration::Keys floppy_ids;
    config.keys("floppy.host_drive", floppy_ids);
    for (auto const& id : floppy_ids) {
        // "A" or "fd0" names (and replaces) the discovered drive fd0.
        services::HostFloppyDrive drive{services::normalize_floppy_drive_id(id).value_or(id),
                                        config.getString("floppy.host_drive." + id, "")};
        if (auto problem = services::HostFloppyDrives::configuration_problem(drive))
            return Err{"configuration key floppy.host_drive." + id + ": " + *problem};
        c.floppy_drives.push_back(std::move(drive));
    }
    Poco::Util::AbstractConfiguration::Keys disk_ids;
    config.keys("harddisk.host_drive", disk_ids);
    for (auto const& id : disk_ids) {
        std::string const device = config.getString("harddisk.host_drive." + id, "");
        std::string_view const name =
            std::string_view(device).substr(std::min<std::size_t>(5, device.size()));
        bool const ok = device.starts_with("/dev/") && !name.empty() && name.size() <= 64 &&
                        std::all_of(name.begin(), name.end(), [](char ch) {
                            return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
                        });
        if (!ok)
            return Err{"configuration key harddisk.host_drive." + id + " = '" + device +
                       "': expected a block device /dev/NAME (NAME: A-Z a-z 0-9 _ -)"};
        c.extra_host_drives.push_back(device);
    }
    if (c.listen.bind_address.empty()) return Err{std::string("configuration key https.bind is empty")};
    if (c.certificate.empty()) c.certificate = c.data_dir / "tls" / "server.crt";
    if (c.private_key.empty()) c.private_key = c.data_dir / "tls" / "server.key";
    return c;
}

std::string default_config_text() {
    DaemonConfig d;
    std::ostringstream o;
    o << "# vsad configuration (Poco properties syntax). Every key is optional.\n"
      << "vsa.data_dir = " << d.data_dir.string() << "\n"
      << "# web.root = <folder of the static admin UI>\n"
      << "# https.certificate = <data_dir>/tls/server.crt (generated, self-signed)\n"
      << "# https.private_key = <data_dir>/tls/server.key\n"
      << "# vm.worker_binary = <vsa-vm next to vsad, else the build tree's>\n"
      << "# vm.agent_media = <vsa-guest-agent.iso next to vsad, else the build tree's>\n"
      << "# vm.cpu_cgroup = <cgroup2 mount>/vsa (the VMs' CPU cgroups go under it)\n"
      << "https.bind = " << d.listen.bind_address << "\n"
      << "https.port = " << d.listen.port << "\n"
      << "https.longpoll_port = " << d.listen.longpoll_port << "\n"
      << "pool.threads = " << d.pool.threads << "\n"
      << "pool.queue = " << d.pool.queue << "\n"
      << "pool.longpoll_threads = " << d.pool.longpoll_threads << "\n"
      << "auth.session_idle_seconds = " << d.auth.session_idle.count() << "\n"
      << "auth.failure_delay_ms = " << d.auth.failure_delay.count() << "\n"
      << "auth.max_failures = " << d.auth.max_failures << "\n"
      << "auth.failure_window_seconds = " << d.auth.failure_window.count() << "\n"
      << "auth.lockout_seconds = " << d.auth.lockout.count() << "\n"
      << "auth.credential_cache_seconds = " << d.auth.credential_cache.count() << "\n"
      << "auth.first_admin = " << d.auth.first_admin << "\n"
      << "# auth.initial_password_file = <also write the first administrator's generated password here>\n"
      << "limits.max_body_bytes = " << d.limits.max_body_bytes << "\n"
      << "limits.max_header_fields = " << d.limits.max_header_fields << "\n"
      << "limits.max_uri_length = " << d.limits.max_uri_length << "\n"
      << "limits.receive_timeout_ms = " << d.limits.receive_timeout.count() << "\n"
      << "limits.send_timeout_ms = " << d.limits.send_timeout.count() << "\n"
      << "limits.keepalive_timeout_ms = " << d.limits.keepalive_timeout.count() << "\n"
      << "limits.request_timeout_ms = " << d.limits.request_timeout.count() << "\n"
      << "limits.max_keepalive_requests = " << d.limits.max_keepalive_requests << "\n"
      << "limits.soap_max_depth = " << d.limits.soap_max_depth << "\n"
      << "limits.soap_max_string = " << d.limits.soap_max_string << "\n"
      << "limits.soap_max_occurs = " << d.limits.soap_max_occurs << "\n"
      << "# Host optical drives VMs may capture (IVMDVDDrive.AttachHostDrive): the host's\n"
      << "# CD-ROM devices (sr0 = /dev/sr0, ...) unless this is false, plus one per\n"
      << "# dvd.host_drive.ID = PATH (a device or an ISO image; ID: A-Z a-z 0-9 _ -).\n"
      << "# The console: the browser console's WebSocket (/console/websocket) is always on;\n"
      << "# a plain VNC listener per running VM (tickets from IVMVirtualMachine.\n"
      << "# CreateConsoleTicket, on the https.bind address, unencrypted) only if enabled.\n"
      << "console.vnc_enabled = " << (d.console.vnc_enabled ? "true" : "false") << "\n"
      << "console.vnc_ports = " << d.console.vnc_port_first << "-" << d.console.vnc_port_last << "\n"
      << "console.max_viewers = " << d.console.max_viewers << "\n"
      << "console.max_viewers_per_vm = " << d.console.max_viewers_per_vm << "\n"
      << "console.max_frame_bytes = " << d.console.max_frame_bytes << "\n"
      << "dvd.discover_host_drives = " << (d.discover_optical_drives ? "true" : "false") << "\n"
      << "# dvd.host_drive.usbdvd = /dev/sr7\n"
      << "# Host floppy drives VMs may capture (IVMFloppyDrive.AttachHostDrive): the host's\n"
      << "# /dev/fd<N> (id fd<N>, letters A and B), plus one per floppy.host_drive.ID = PATH\n"
      << "# (a USB floppy /dev/sdX, a loop device or a raw floppy image; A or fd0 replace fd0).\n"
      << "# floppy.host_drive.usbfloppy = /dev/sdc\n"
      << "# Host drives for host drive virtual hard disks (IVMVirtualServer.\n"
      << "# CreateHostDriveVirtualHardDisk) beyond the disks found (sd*, vd*, nvme*, ...):\n"
      << "# harddisk.host_drive.ID = /dev/NAME, listed in IVMHostInfo.HostDrives.\n"
      << "# harddisk.host_drive.scratch = /dev/loop0\n";
    return o.str();
}

} // namespace vsa::appliance
