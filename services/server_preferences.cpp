// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/server_preferences.h"

#include "services/persist/atomic_file.h"
#include "services/scripts/command_line.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <system_error>
#include <vector>

namespace vsa::services {

namespace {

constexpr char const* SERVER_FILE = "server_preferences.xml";
constexpr char const* SERVER_HEADER = " VSA server preferences: event scripts, locale ";
constexpr char const* USER_HEADER = " VSA per-user preferences (IVMVirtualServer.SetConfigurationValue) ";
constexpr std::size_t MAX_SERVER_FILE_BYTES = 1024 * 1024;

struct Locale {
    std::string_view tag; // lower case
    std::uint32_t lcid;
};
constexpr Locale SUPPORTED_LOCALES[] = {{"en-us", LCID_EN_US}};

ServiceResult<persist::PreferencesXml> load_xml(std::filesystem::path const& file, std::size_t max_bytes,
                                                char const* header) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return persist::PreferencesXml(header);
    auto text = TRY(read_file_capped(file, max_bytes));
    return persist::PreferencesXml::parse(text, file.string(), persist::XmlLimits{max_bytes, 32, 100'000});
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

} // namespace

ServiceResult<void> check_event_type(std::int32_t event) {
    if (event < MIN_VM_EVENT_TYPE || event > MAX_VM_EVENT_TYPE)
        return service_error(hr::E_INVALIDARG,
                             "event type " + std::to_string(event) + " is not a VMEventType (0-11)");
    return {};
}

std::string_view vm_event_type_name(std::int32_t event) {
    static constexpr std::string_view NAMES[] = {
        "vmEvent_VirtualServerStarted",
        "vmEvent_VirtualServerStopped",
        "vmEvent_VirtualMachineLaunched",
        "vmEvent_VirtualMachineStateRestored",
        "vmEvent_VirtualMachineStateSaved",
        "vmEvent_VirtualMachineTurnedOff",
        "vmEvent_VirtualMachineTurnedOffByGuest",
        "vmEvent_VirtualMachineReset",
        "vmEvent_VirtualMachineNoHeartbeat",
        "vmEvent_VirtualMachineProcessorError",
        "vmEvent_VirtualMachineHostDiskSpaceWarning",
        "vmEvent_VirtualMachineHostDiskSpaceError",
    };
    if (event < MIN_VM_EVENT_TYPE || event > MAX_VM_EVENT_TYPE) return "vmEvent_Unknown";
    return NAMES[event];
}

std::uint32_t query_locale(std::string_view accept_language) {
    struct Range {
        std::string tag;
        double q;
        std::size_t order;
    };
    std::vector<Range> ranges;
    std::size_t order = 0;
    while (!accept_language.empty() && ranges.size() < 64) {
        auto comma = accept_language.find(',');
        auto item = trim(accept_language.substr(0, comma));
        accept_language =
            comma == std::string_view::npos ? std::string_view{} : accept_language.substr(comma + 1);
        auto semicolon = item.find(';');
        auto tag = lower(trim(item.substr(0, semicolon)));
        double q = 1.0;
        if (semicolon != std::string_view::npos) {
            auto parameter = trim(item.substr(semicolon + 1));
            if (parameter.starts_with("q=") || parameter.starts_with("Q=")) {
                auto number = std::string(parameter.substr(2));
                char* end = nullptr;
                q = std::strtod(number.c_str(), &end);
                if (end == number.c_str() || q < 0 || q > 1) q = 0;
            }
        }
        if (!tag.empty() && q > 0) ranges.push_back({tag, q, order++});
    }
    std::stable_sort(ranges.begin(), ranges.end(), [](Range const& a, Range const& b) { return a.q > b.q; });
    for (auto const& range : ranges) {
        if (range.tag == "*") return LCID_EN_US;
        for (auto const& locale : SUPPORTED_LOCALES)
            if (range.tag == locale.tag) return locale.lcid;
        auto primary = range.tag.substr(0, range.tag.find('-'));
        for (auto const& locale : SUPPORTED_LOCALES)
            if (locale.tag.substr(0, locale.tag.find('-')) == primary) return locale.lcid;
    }
    return LCID_EN_US;
}

ServiceResult<std::unique_ptr<ServerPreferences>> ServerPreferences::open(std::filesystem::path data_dir) {
    std::unique_ptr<ServerPreferences> preferences(new ServerPreferences(data_dir));
    auto xml = TRY(load_xml(data_dir / SERVER_FILE, MAX_SERVER_FILE_BYTES, SERVER_HEADER));
    persist::PreferenceReader reader(xml.source());
    auto root = xml.root();
    preferences->m_vs_enabled = TRY(reader.boolean(root, "scripts/vs_enabled")).value_or(false);
    preferences->m_vm_enabled = TRY(reader.boolean(root, "scripts/vm_enabled")).value_or(false);
    for (auto event : root.child("scripts").children("event")) {
        auto id = TRY(reader.id(event, MIN_VM_EVENT_TYPE, MAX_VM_EVENT_TYPE));
        auto line = TRY(reader.string(event, "", scripts::MAX_COMMAND_LINE)).value_or("");
        if (!line.empty()) preferences->m_scripts[static_cast<std::int32_t>(id)] = line;
    }
    auto locale = TRY(reader.integer(root, "locale", 0, UINT32_MAX)).value_or(LCID_EN_US);
    preferences->m_locale = static_cast<std::uint32_t>(locale);
    return preferences;
}

ServiceResult<void> ServerPreferences::write_locked() const {
    persist::PreferencesXml xml(SERVER_HEADER);
    auto root = xml.root();
    persist::set_boolean(root, "scripts/vs_enabled", m_vs_enabled);
    persist::set_boolean(root, "scripts/vm_enabled", m_vm_enabled);
    auto scripts = root.child("scripts");
    for (auto const& [event, line] : m_scripts) {
        auto node = persist::ensure_child_with_id(scripts, "event", event);
        node.append_attribute("type") = "string";
        node.text().set(line.c_str());
    }
    persist::set_integer(root, "locale", m_locale);
    return write_file_atomically(m_data_dir / SERVER_FILE, xml.serialize());
}

std::filesystem::path ServerPreferences::user_file(std::string_view user) const {
    static constexpr char HEX[] = "0123456789abcdef";
    std::string name;
    for (unsigned char c : user) {
        name += HEX[c >> 4];
        name += HEX[c & 15];
    }
    return m_data_dir / "preferences" / (name + ".xml");
}

ServiceResult<persist::PreferenceValue> ServerPreferences::user_value(std::string_view user,
                                                                      std::string_view key) const {
    TRY(persist::check_key(key));
    std::lock_guard lock(m_mutex);
    auto xml = TRY(load_xml(user_file(user), MAX_USER_PREFERENCES_BYTES, USER_HEADER));
    return persist::get_value(xml.root(), key, xml.source());
}

ServiceResult<void> ServerPreferences::set_user_value(std::string_view user, std::string_view key,
                                                      persist::PreferenceValue const& value) {
    TRY(persist::check_key(key));
    std::lock_guard lock(m_mutex);
    auto file = user_file(user);
    auto xml = TRY(load_xml(file, MAX_USER_PREFERENCES_BYTES, USER_HEADER));
    TRY(persist::set_value(xml.root(), key, value));
    auto text = xml.serialize();
    if (text.size() > MAX_USER_PREFERENCES_BYTES)
        return service_error(hr::E_INVALIDARG, "the preferences of a user may take at most " +
                                                   std::to_string(MAX_USER_PREFERENCES_BYTES) + " bytes");
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec)
        return service_error(hr::E_FAIL,
                             "cannot create " + file.parent_path().string() + ": " + ec.message());
    return write_file_atomically(file, text);
}

ServiceResult<void> ServerPreferences::remove_user_value(std::string_view user, std::string_view key) {
    TRY(persist::check_key(key));
    std::lock_guard lock(m_mutex);
    auto file = user_file(user);
    auto xml = TRY(load_xml(file, MAX_USER_PREFERENCES_BYTES, USER_HEADER));
    TRY(persist::remove_value(xml.root(), key));
    return write_file_atomically(file, xml.serialize());
}

bool ServerPreferences::vs_scripts_enabled() const {
    std::lock_guard lock(m_mutex);
    return m_vs_enabled;
}

bool ServerPreferences::vm_scripts_enabled() const {
    std::lock_guard lock(m_mutex);
    return m_vm_enabled;
}

ServiceResult<void> ServerPreferences::set_vs_scripts_enabled(bool enabled) {
    std::lock_guard lock(m_mutex);
    auto before = m_vs_enabled;
    m_vs_enabled = enabled;
    if (auto written = write_locked(); written.is_error()) {
        m_vs_enabled = before;
        return written;
    }
    return {};
}

ServiceResult<void> ServerPreferences::set_vm_scripts_enabled(bool enabled) {
    std::lock_guard lock(m_mutex);
    auto before = m_vm_enabled;
    m_vm_enabled = enabled;
    if (auto written = write_locked(); written.is_error()) {
        m_vm_enabled = before;
        return written;
    }
    return {};
}

ServiceResult<void> ServerPreferences::attach_script(std::int32_t event, std::string_view command_line) {
    TRY(check_event_type(event));
    TRY(scripts::split_command_line(command_line));
    std::lock_guard lock(m_mutex);
    if (m_scripts.contains(event))
        return service_error(hr::VM_E_SCRIPT_ALREADY_EXISTS, "a script is already attached to " +
                                                                 std::string(vm_event_type_name(event)) +
                                                                 "; remove it first");
    m_scripts[event] = std::string(command_line);
    if (auto written = write_locked(); written.is_error()) {
        m_scripts.erase(event);
        return written;
    }
    return {};
}

ServiceResult<std::optional<std::string>> ServerPreferences::script(std::int32_t event) const {
    TRY(check_event_type(event));
    std::lock_guard lock(m_mutex);
    auto it = m_scripts.find(event);
    if (it == m_scripts.end()) return std::optional<std::string>{};
    return std::optional<std::string>(it->second);
}

ServiceResult<void> ServerPreferences::remove_script(std::int32_t event) {
    TRY(check_event_type(event));
    std::lock_guard lock(m_mutex);
    auto it = m_scripts.find(event);
    if (it == m_scripts.end()) return {};
    auto line = it->second;
    m_scripts.erase(it);
    if (auto written = write_locked(); written.is_error()) {
        m_scripts[event] = line;
        return written;
    }
    return {};
}

ServiceResult<void> ServerPreferences::set_locale(std::uint32_t lcid) {
    bool supported = std::any_of(std::begin(SUPPORTED_LOCALES), std::end(SUPPORTED_LOCALES),
                                 [&](Locale const& locale) { return locale.lcid == lcid; });
    if (!supported)
        return service_error(hr::E_FAIL, "locale " + std::to_string(lcid) +
                                             " is not supported: vsad has only en-US (1033)");
    std::lock_guard lock(m_mutex);
    auto before = m_locale;
    m_locale = lcid;
    if (auto written = write_locked(); written.is_error()) {
        m_locale = before;
        return written;
    }
    return {};
}

std::uint32_t ServerPreferences::locale() const {
    std::lock_guard lock(m_mutex);
    return m_locale;
}

} // namespace vsa::services
