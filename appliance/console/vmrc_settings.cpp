// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/console/vmrc_settings.h"

#include "services/persist/atomic_file.h"
#include "services/persist/preferences_xml.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <system_error>

namespace vsa::appliance::console {

namespace hr = services::hr;
using services::ServiceResult;

namespace {

constexpr char const* FILE_NAME = "vmrc_settings.xml";
constexpr char const* HEADER = " VSA console (VMRC) settings: IVMVirtualServer.VMRC* ";
constexpr std::size_t MAX_FILE_BYTES = 64 * 1024;

constexpr VmrcAuthenticator AUTHENTICATORS[] = {
    {VmrcAuthType::Vnc, "VNC",
     "VNC authentication (RFB security type 2) on the plain VNC listener; the password is a one-time "
     "ticket from IVMVirtualMachine.CreateConsoleTicket (8 characters, 60 s, one use). The browser "
     "console needs none: it rides on the vsad session or Basic login over HTTPS."},
};

// Canonical text of an IPv4 or IPv6 address; nothing when it is neither.
std::optional<std::string> canonical_address(std::string_view text) {
    std::string copy(text);
    char out[INET6_ADDRSTRLEN] = {};
    in_addr v4{};
    if (::inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
        ::inet_ntop(AF_INET, &v4, out, sizeof out);
        return std::string(out);
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
        ::inet_ntop(AF_INET6, &v6, out, sizeof out);
        return std::string(out);
    }
    return std::nullopt;
}

} // namespace

std::span<VmrcAuthenticator const> vmrc_authenticators() {
    return AUTHENTICATORS;
}

VmrcAuthenticator const* find_vmrc_authenticator(std::int32_t type) {
    for (auto const& authenticator : AUTHENTICATORS)
        if (static_cast<std::int32_t>(authenticator.type) == type) return &authenticator;
    return nullptr;
}

ServiceResult<void> check_admin_port(std::int64_t port) {
    if (port < 1 || port > 65535)
        return services::service_error(hr::E_INVALIDARG,
                                       "VMRCAdminPortNumber " + std::to_string(port) + " is outside 1-65535");
    return {};
}

ServiceResult<void> check_idle_timeout(std::int64_t seconds) {
    if (seconds < MIN_IDLE_TIMEOUT_S || seconds > MAX_IDLE_TIMEOUT_S)
        return services::service_error(hr::E_INVALIDARG,
                                       "VMRCIdleConnectionTimeout " + std::to_string(seconds) +
                                           " s is outside 1-86400 s (1 second to 24 hours)");
    return {};
}

ServiceResult<void> check_resolution(char axis, std::int64_t pixels) {
    bool x = axis == 'X';
    auto min = x ? MIN_X_RESOLUTION : MIN_Y_RESOLUTION;
    auto max = x ? MAX_X_RESOLUTION : MAX_Y_RESOLUTION;
    if (pixels < min || pixels > max)
        return services::service_error(hr::E_INVALIDARG, std::string("VMRC") + axis + "Resolution " +
                                                             std::to_string(pixels) + " is outside " +
                                                             std::to_string(min) + "-" + std::to_string(max));
    return {};
}

ServiceResult<void> check_authenticator(std::int64_t type) {
    if (type >= 0 && type <= INT32_MAX && find_vmrc_authenticator(static_cast<std::int32_t>(type))) return {};
    std::string why;
    switch (type) {
    case static_cast<std::int64_t>(VmrcAuthType::Srp):
        why = "vmVMRCAuthentication_SRP is not supported (as in Virtual Server)";
        break;
    case static_cast<std::int64_t>(VmrcAuthType::Ntlm):
    case static_cast<std::int64_t>(VmrcAuthType::Kerberos):
    case static_cast<std::int64_t>(VmrcAuthType::Automatic):
        why = "NTLM and Kerberos need a Windows domain, which vsad's accounts are not part of; the console "
              "offers only vmVMRCAuthentication_VNC (0)";
        break;
    default:
        why = std::to_string(type) + " is not a VMRCAuthenticationType the console offers (only 0, VNC)";
    }
    return services::service_error(hr::E_INVALIDARG, "VMRCAuthenticator: " + why);
}

ServiceResult<std::string> check_admin_address(std::string_view address,
                                               std::vector<std::string> const& host_addresses) {
    if (address.empty()) return std::string();
    auto canonical = canonical_address(address);
    if (!canonical)
        return services::service_error(hr::E_INVALIDARG, "VMRCAdminAddress '" +
                                                             std::string(address.substr(0, 64)) +
                                                             "' is not an IPv4 or IPv6 address");
    if (std::find(host_addresses.begin(), host_addresses.end(), *canonical) == host_addresses.end())
        return services::service_error(hr::E_INVALIDARG, "VMRCAdminAddress " + *canonical +
                                                             " is not an address of this host's interfaces "
                                                             "(\"\" listens on all of them)");
    return *canonical;
}

std::vector<std::string> host_interface_addresses() {
    std::vector<std::string> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (auto* it = list; it; it = it->ifa_next) {
        if (!it->ifa_addr) continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (it->ifa_addr->sa_family == AF_INET)
            ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(it->ifa_addr)->sin_addr, text, sizeof text);
        else if (it->ifa_addr->sa_family == AF_INET6)
            ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(it->ifa_addr)->sin6_addr, text,
                        sizeof text);
        else
            continue;
        out.emplace_back(text);
    }
    ::freeifaddrs(list);
    return out;
}

std::pair<std::uint16_t, std::uint16_t> moved_port_range(std::uint16_t first, std::uint16_t old_first,
                                                         std::uint16_t old_last) {
    unsigned span = old_last >= old_first ? unsigned(old_last - old_first) : 0;
    unsigned last = std::min(65535u, unsigned(first) + span);
    return {first, static_cast<std::uint16_t>(last)};
}

ServiceResult<std::unique_ptr<VmrcSettingsStore>> VmrcSettingsStore::open(std::filesystem::path data_dir,
                                                                          ConsoleConfig const& config,
                                                                          std::string const& bind_address) {
    VmrcSettings defaults;
    defaults.enabled = config.vnc_enabled;
    defaults.port_first = config.vnc_port_first;
    defaults.port_last = config.vnc_port_last;
    // The listeners bound to the HTTPS bind address before these settings
    // existed: the same default ("0.0.0.0" is every interface, our "").
    defaults.admin_address = bind_address == "0.0.0.0" ? "" : bind_address;
    auto store = std::make_unique<VmrcSettingsStore>(defaults);
    store->m_file = data_dir / FILE_NAME;

    std::error_code ec;
    if (!std::filesystem::exists(store->m_file, ec)) return store;
    auto text = TRY(services::read_file_capped(store->m_file, MAX_FILE_BYTES));
    auto xml = TRY(services::persist::PreferencesXml::parse(
        text, store->m_file.string(), services::persist::XmlLimits{MAX_FILE_BYTES, 8, 1000}));
    services::persist::PreferenceReader reader(xml.source());
    auto root = xml.root();
    auto& s = store->m_settings;
    if (auto enabled = TRY(reader.boolean(root, "enabled"))) {
        s.enabled = *enabled;
        store->m_pinned_enabled = true;
    }
    if (auto address = TRY(reader.string(root, "admin_address", 64))) {
        // An address that was valid when set; the interface may be gone
        // since: the listener's bind then fails with a message naming it.
        s.admin_address = *address;
        store->m_pinned_address = true;
    }
    if (auto first = TRY(reader.integer(root, "admin_port", 1, 65535))) {
        auto range = moved_port_range(static_cast<std::uint16_t>(*first), s.port_first, s.port_last);
        s.port_first = range.first;
        s.port_last = range.second;
        store->m_pinned_ports = true;
    }
    if (auto type = TRY(reader.integer(root, "authenticator", -1, 4))) {
        if (find_vmrc_authenticator(static_cast<std::int32_t>(*type)))
            s.authenticator = static_cast<VmrcAuthType>(*type);
    }
    s.encryption_enabled = TRY(reader.boolean(root, "encryption_enabled")).value_or(false);
    s.idle_timeout_s = static_cast<std::int32_t>(
        TRY(reader.integer(root, "idle_timeout", MIN_IDLE_TIMEOUT_S, MAX_IDLE_TIMEOUT_S))
            .value_or(DEFAULT_IDLE_TIMEOUT_S));
    s.idle_timeout_enabled = TRY(reader.boolean(root, "idle_timeout_enabled")).value_or(false);
    s.x_resolution = static_cast<std::int32_t>(
        TRY(reader.integer(root, "x_resolution", MIN_X_RESOLUTION, MAX_X_RESOLUTION)).value_or(640));
    s.y_resolution = static_cast<std::int32_t>(
        TRY(reader.integer(root, "y_resolution", MIN_Y_RESOLUTION, MAX_Y_RESOLUTION)).value_or(480));
    return store;
}

VmrcSettings VmrcSettingsStore::snapshot() const {
    std::lock_guard lock(m_mutex);
    return m_settings;
}

ServiceResult<void> VmrcSettingsStore::write_locked(VmrcSettings const& next, bool enabled, bool address,
                                                    bool ports) const {
    if (m_file.empty()) return {};
    services::persist::PreferencesXml xml(HEADER);
    auto root = xml.root();
    namespace persist = services::persist;
    if (enabled) persist::set_boolean(root, "enabled", next.enabled);
    if (address) persist::set_string(root, "admin_address", next.admin_address);
    if (ports) persist::set_integer(root, "admin_port", next.port_first);
    persist::set_integer(root, "authenticator", static_cast<std::int32_t>(next.authenticator));
    persist::set_boolean(root, "encryption_enabled", next.encryption_enabled);
    persist::set_integer(root, "idle_timeout", next.idle_timeout_s);
    persist::set_boolean(root, "idle_timeout_enabled", next.idle_timeout_enabled);
    persist::set_integer(root, "x_resolution", next.x_resolution);
    persist::set_integer(root, "y_resolution", next.y_resolution);
    return services::write_file_atomically(m_file, xml.serialize());
}

} // namespace vsa::appliance::console
