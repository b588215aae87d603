// SPDX-License-Identifier: GPL-2.0-or-later
// DaemonConfig: everything vsad reads from its configuration, validated in
// one place. Sources, lowest priority first: the embedded defaults below, the
// config file (--config-file), then command-line overrides (--data-dir,
// --port, --define key=value). A bad value stops vsad at start with a message
// naming the key; it never surfaces later.
#pragma once

#include "appliance/request_limits.h"
#include "hypervisor/base/result.h"
#include "services/host_floppy_drives.h"
#include "services/host_optical_drives.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace Poco::Util {
class AbstractConfiguration;
}

namespace vsa::appliance {

struct ListenConfig {
    std::string bind_address{"127.0.0.1"};
    std::uint16_t port{8443};
    // Long polls (IVMTask waits, event streams) get their own listener and
    // thread pool, so they can never starve ordinary calls of workers (a
    // kept-alive Poco connection holds its worker thread). 0 = off.
    std::uint16_t longpoll_port{8444};
};

struct PoolConfig {
    int threads{64}; // at most this many connections served at once
    int queue{256};  // accepted connections waiting for a worker
    int longpoll_threads{16};
};

struct AuthConfig {
    std::chrono::seconds session_idle{1800};
    std::chrono::milliseconds failure_delay{300};
    int max_failures{5};
    std::chrono::seconds failure_window{60};
    std::chrono::seconds lockout{60};
    // How long a verified HTTP Basic credential is remembered (as a keyed
    // digest, never the password) so a client that sends Basic on every call
    // does not pay the slow hash each time.
    std::chrono::seconds credential_cache{300};
    std::string first_admin{"admin"};
    // Where the first start also writes the generated password (mode
    // 0600), for the appliance console to show; empty: only printed.
    std::filesystem::path initial_password_file{};
};

// The console (appliance/console/console_service.h): the browser console's
// WebSocket is always there; the plain VNC listener only when enabled.
struct ConsoleConfig {
    bool vnc_enabled{false};
    std::uint16_t vnc_port_first{5900}; // console.vnc_ports = FIRST-LAST
    std::uint16_t vnc_port_last{5999};
    int max_viewers{16};       // console connections server-wide
    int max_viewers_per_vm{4}; // ... and per VM
    // The largest WebSocket frame a viewer may send: RFB client messages
    // are small (the largest common one, SetEncodings, is a few hundred
    // bytes); a larger frame closes the connection.
    int max_frame_bytes{64 * 1024};
};

struct DaemonConfig {
    std::filesystem::path data_dir{"/var/lib/vsa"};
    std::filesystem::path web_root;    // default: the installed or source web/ folder
    std::filesystem::path certificate; // default: data_dir/tls/server.crt (generated)
    std::filesystem::path private_key; // default: data_dir/tls/server.key (generated)
    // The per-VM worker. Default: vsa-vm next to vsad, else the one of the
    // build tree vsad was built in.
    std::filesystem::path worker_binary;
    // The guest agent's install media (IVMGuestOS.InstallAdditions).
    // Default: vsa-guest-agent.iso next to vsad, else the build tree's.
    std::filesystem::path agent_media;
    // The cgroup v2 group the workers' CPU groups go under
    // (services/worker/cpu_cgroup.h). Default: "vsa" at the top of the
    // cgroup2 mount.
    std::filesystem::path cpu_cgroup;
    ListenConfig listen;
    PoolConfig pool;
    AuthConfig auth;
    RequestLimits limits;
    ConsoleConfig console;
    // Host optical drives VMs may capture (host_optical_drives.h): the
    // host's CD-ROM devices unless dvd.discover_host_drives = false, plus
    // one per dvd.host_drive.ID = PATH key.
    bool discover_optical_drives{true};
    std::vector<services::HostOpticalDrive> optical_drives;
    // Host floppy drives beyond /dev/fd<N> (host_floppy_drives.h): one per
    // floppy.host_drive.ID = PATH key.
    std::vector<services::HostFloppyDrive> floppy_drives;
    // Extra host drives for host drive virtual hard disks
    // (IVMVirtualServer.CreateHostDriveVirtualHardDisk): one per
    // harddisk.host_drive.ID = /dev/NAME key, listed in IVMHostInfo.HostDrives.
    std::vector<std::string> extra_host_drives;

    // Reads every known key, falling back to the defaults above.
    static Result<DaemonConfig, std::string> from(Poco::Util::AbstractConfiguration const& config);
};

// "FIRST-LAST" (or one port) of console.vnc_ports; nothing when malformed.
std::optional<std::pair<std::uint16_t, std::uint16_t>> parse_port_range(std::string_view text);

// The keys and their defaults as config-file text: `vsad --print-config`
// shows it, and README documents it.
std::string default_config_text();

} // namespace vsa::appliance
