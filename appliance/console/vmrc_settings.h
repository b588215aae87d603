// SPDX-License-Identifier: GPL-2.0-or-later
// VmrcSettings: the console's server-wide settings that IVMVirtualServer's
// VMRC* members read and change (Virtual Server's VMRC server, mapped onto
// our console service, console_service.h), validated here and kept in
// <data_dir>/vmrc_settings.xml so they survive a restart:
//
//   VMRCEnabled          the plain VNC listeners (one per VM, opened by
//                        CreateConsoleTicket) on or off. The browser console
//                        (noVNC over a WebSocket on vsad's HTTPS listener)
//                        is always there.
//   VMRCAdminAddress     the address the plain VNC listeners bind to; ""
//                        = every IPv4 interface (0.0.0.0). Must be an
//                        address of one of this host's interfaces.
//   VMRCAdminPortNumber  the first port of the per-VM listener range
//                        (console.vnc_ports); the range keeps its length
//                        (cut at 65535).
//   VMRCAuthenticator    the plain VNC listeners' authentication: only
//                        vmVMRCAuthentication_VNC (a one-time ticket as the
//                        VNC password) exists in vsad.
//   VMRCEncryptionEnabled  when on, unencrypted consoles are refused: no
//                        plain VNC listener (it cannot do TLS), only the
//                        browser console over HTTPS.
//   VMRCIdleConnectionTimeout(+Enabled)  a viewer that sends no key or
//                        pointer event for that many seconds is closed.
//   VMRCX/YResolution    the size of the screen a new viewer sees until
//                        the VM has drawn its first frame.
//
// Until changed through SOAP, the enabled switch, the address and the ports
// follow the configuration (console.vnc_enabled, console.vnc_ports,
// https.bind_address); once changed (a put of the value it already has
// does not count), the stored value wins.
// Thread-safe; every change is written atomically before it is answered.
#pragma once

#include "appliance/config.h"
#include "services/service_error.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::appliance::console {

// VMRCAuthenticationType (vs-api.md section 4).
enum class VmrcAuthType : std::int32_t {
    Invalid = -1,
    Vnc = 0,
    Srp = 1,
    Ntlm = 2,
    Kerberos = 3,
    Automatic = 4,
};

struct VmrcAuthenticator {
    VmrcAuthType type;
    std::string_view name;
    std::string_view description;
};

// The methods vsad's console really offers (IVMVirtualServer.
// VMRCAuthenticators), in collection order.
std::span<VmrcAuthenticator const> vmrc_authenticators();
// One of them, or nullptr.
VmrcAuthenticator const* find_vmrc_authenticator(std::int32_t type);

inline constexpr std::int32_t MIN_IDLE_TIMEOUT_S = 1;     // reference: 1 s ..
inline constexpr std::int32_t MAX_IDLE_TIMEOUT_S = 86400; // .. 24 hours
inline constexpr std::int32_t DEFAULT_IDLE_TIMEOUT_S = 900;
// The placeholder screen: big enough for every VGA text and graphics mode
// a guest starts in, small enough that a screen's buffers stay bounded.
inline constexpr std::int32_t MIN_X_RESOLUTION = 320, MAX_X_RESOLUTION = 2048;
inline constexpr std::int32_t MIN_Y_RESOLUTION = 200, MAX_Y_RESOLUTION = 2048;

struct VmrcSettings {
    bool enabled{false};
    std::string admin_address; // "" = every interface
    std::uint16_t port_first{5900};
    std::uint16_t port_last{5999};
    VmrcAuthType authenticator{VmrcAuthType::Vnc};
    bool encryption_enabled{false};
    std::int32_t idle_timeout_s{DEFAULT_IDLE_TIMEOUT_S};
    bool idle_timeout_enabled{false};
    std::int32_t x_resolution{640};
    std::int32_t y_resolution{480};

    // Plain VNC may be offered: enabled and encryption not demanded.
    bool plain_vnc_allowed() const { return enabled && !encryption_enabled; }
    // What the listeners bind to.
    std::string bind_address() const { return admin_address.empty() ? "0.0.0.0" : admin_address; }
};

// Checks (E_INVALIDARG with a message saying why).
services::ServiceResult<void> check_admin_port(std::int64_t port);
services::ServiceResult<void> check_idle_timeout(std::int64_t seconds);
services::ServiceResult<void> check_resolution(char axis, std::int64_t pixels);
services::ServiceResult<void> check_authenticator(std::int64_t type);
// "" or an IPv4/IPv6 address in `host_addresses` (the host's interfaces);
// returns the address in canonical form.
services::ServiceResult<std::string> check_admin_address(std::string_view address,
                                                         std::vector<std::string> const& host_addresses);
// The addresses of this host's interfaces (getifaddrs), canonical text.
std::vector<std::string> host_interface_addresses();
// The listener range moved to start at `first`, keeping its length (cut at
// 65535).
std::pair<std::uint16_t, std::uint16_t> moved_port_range(std::uint16_t first, std::uint16_t old_first,
                                                         std::uint16_t old_last);

class VmrcSettingsStore {
public:
    // Reads <data_dir>/vmrc_settings.xml over the defaults from `config`
    // and `bind_address` (https.bind_address). A damaged file fails the
    // open with a message naming it.
    static services::ServiceResult<std::unique_ptr<VmrcSettingsStore>>
    open(std::filesystem::path data_dir, ConsoleConfig const& config, std::string const& bind_address);
    // In memory only (tests, vsad without a data dir).
    explicit VmrcSettingsStore(VmrcSettings defaults) : m_settings(std::move(defaults)) {}

    VmrcSettings snapshot() const;
    // Applies `change` to a copy, writes it, then keeps it; on a write
    // failure nothing changes.
    template <typename F>
    services::ServiceResult<void> update(F&& change) {
        std::lock_guard lock(m_mutex);
        VmrcSettings next = m_settings;
        change(next);
        bool pin_enabled = m_pinned_enabled || next.enabled != m_settings.enabled;
        bool pin_address = m_pinned_address || next.admin_address != m_settings.admin_address;
        bool pin_ports = m_pinned_ports || next.port_first != m_settings.port_first;
        TRY(write_locked(next, pin_enabled, pin_address, pin_ports));
        m_settings = std::move(next);
        m_pinned_enabled = pin_enabled;
        m_pinned_address = pin_address;
        m_pinned_ports = pin_ports;
        return {};
    }

private:
    services::ServiceResult<void> write_locked(VmrcSettings const& next, bool enabled, bool address,
                                               bool ports) const;

    std::filesystem::path m_file; // empty: not persisted
    mutable std::mutex m_mutex;
    VmrcSettings m_settings;
    // Which configuration-backed values were set through SOAP (stored);
    // the others follow the configuration at each start.
    bool m_pinned_enabled{false}, m_pinned_address{false}, m_pinned_ports{false};
};

} // namespace vsa::appliance::console
