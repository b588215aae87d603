// SPDX-License-Identifier: GPL-2.0-or-later
// ServerPreferences: what IVMVirtualServer keeps besides the inventory:
//
//   Get/Set/RemoveConfigurationValue  per-user preferences, one file per
//       user: <data_dir>/preferences/<hex of the user name>.xml, a
//       <preferences> tree addressed by raw keys (persist/raw_keys.h), at
//       most MAX_USER_PREFERENCES_BYTES each. Each user sees only their own.
//   VSScriptsEnabled, VMScriptsEnabled, Attach/Fetch/RemoveScriptFromEvent
//       (the server's scripts) and Locale: <data_dir>/server_preferences.xml
//         <scripts>
//           <vs_enabled type="boolean">false</vs_enabled>
//           <vm_enabled type="boolean">false</vm_enabled>
//           <event id="2" type="string">/usr/local/bin/on-start --log</event>
//         </scripts>
//         <locale type="integer">1033</locale>
//       Both switches are off on a new installation, as in Virtual Server:
//       a script runs with vsad's rights, so someone must turn them on.
//
// Every change is written atomically before it is answered. Thread-safe
// (one mutex; the files are small).
#pragma once

#include "services/persist/raw_keys.h"
#include "services/service_error.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace vsa::services {

inline constexpr std::size_t MAX_USER_PREFERENCES_BYTES = 1024 * 1024;
// VMEventType (vs-api.md section 4): 0 vmEvent_VirtualServerStarted ..
// 11 vmEvent_VirtualMachineHostDiskSpaceError.
inline constexpr std::int32_t MIN_VM_EVENT_TYPE = 0;
inline constexpr std::int32_t MAX_VM_EVENT_TYPE = 11;
// The Windows LCIDs vsad's messages and admin UI exist in: en-US only.
inline constexpr std::uint32_t LCID_EN_US = 1033;

class ServerPreferences {
public:
    // Reads server_preferences.xml (a missing file: the defaults). A damaged
    // file fails the open with a message naming it.
    static ServiceResult<std::unique_ptr<ServerPreferences>> open(std::filesystem::path data_dir);

    // Per-user preferences (raw keys).
    ServiceResult<persist::PreferenceValue> user_value(std::string_view user, std::string_view key) const;
    ServiceResult<void> set_user_value(std::string_view user, std::string_view key,
                                       persist::PreferenceValue const& value);
    ServiceResult<void> remove_user_value(std::string_view user, std::string_view key);

    bool vs_scripts_enabled() const;
    bool vm_scripts_enabled() const;
    ServiceResult<void> set_vs_scripts_enabled(bool enabled);
    ServiceResult<void> set_vm_scripts_enabled(bool enabled);

    // The server's scripts. E_INVALIDARG for an event type outside
    // VMEventType or a command line split_command_line refuses;
    // VM_E_SCRIPT_ALREADY_EXISTS when the event has one. fetch: nullopt
    // when none; remove: S_OK when none (the reference lists no error).
    ServiceResult<void> attach_script(std::int32_t event, std::string_view command_line);
    ServiceResult<std::optional<std::string>> script(std::int32_t event) const;
    ServiceResult<void> remove_script(std::int32_t event);

    // IVMVirtualServer.Locale: E_FAIL for an LCID we have no UI for.
    ServiceResult<void> set_locale(std::uint32_t lcid);
    std::uint32_t locale() const;

private:
    explicit ServerPreferences(std::filesystem::path data_dir) : m_data_dir(std::move(data_dir)) {}
    ServiceResult<void> write_locked() const;
    std::filesystem::path user_file(std::string_view user) const;

    std::filesystem::path m_data_dir;
    mutable std::mutex m_mutex;
    bool m_vs_enabled{false};
    bool m_vm_enabled{false};
    std::map<std::int32_t, std::string> m_scripts;
    std::uint32_t m_locale{LCID_EN_US};
};

// VMEventType check shared with the VM's scripts: E_INVALIDARG outside 0..11.
ServiceResult<void> check_event_type(std::int32_t event);
// The enum's name for messages and scripts ("vmEvent_VirtualMachineLaunched").
std::string_view vm_event_type_name(std::int32_t event);
// IVMVirtualServer.QueryLocale: the best LCID we support for an HTTP
// Accept-Language value ("da, en-gb;q=0.8, en;q=0.7"): ranges by falling q
// (q=0 excluded), first an exact tag match, then a primary-language match
// ("en", "en-*"), "*" matching anything. Nothing matching, or an
// unparsable string: the default, LCID_EN_US (the reference lists no error).
std::uint32_t query_locale(std::string_view accept_language);

} // namespace vsa::services
