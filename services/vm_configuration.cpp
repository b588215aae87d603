// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/vm_configuration.h"

#include "services/persist/vmc_file.h"
#include "services/scripts/command_line.h"
#include "services/server_preferences.h"

namespace vsa::services {

namespace {

ServiceResult<persist::PreferencesXml> vmc_tree(std::string_view text, std::filesystem::path const& file) {
    return persist::PreferencesXml::parse(text, file.string(),
                                          persist::XmlLimits{persist::MAX_VMC_BYTES, 32, 100'000});
}

ServiceResult<std::pair<std::string, std::filesystem::path>> vmc_text(Inventory const& inventory,
                                                                      Guid const& id) {
    auto text = inventory.read_virtual_machine(
        id, [](VirtualMachine const& vm) -> ServiceResult<std::pair<std::string, std::filesystem::path>> {
            return std::make_pair(TRY(persist::serialize_vmc(vm)), vm.file());
        });
    if (!text)
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    return std::move(*text);
}

bool is_hardware_key(std::string_view key) {
    return key == "hardware" || key.starts_with("hardware/") || key.starts_with("hardware[");
}

bool in_session(VmState state) {
    return state != VmState::TurnedOff && state != VmState::Saved && state != VmState::Invalid;
}

// Edits the VM's .vmc tree and commits what the model reads back from it.
template <typename Edit>
ServiceResult<void> edit_vmc(Inventory& inventory, Guid const& id, std::string_view key, bool hardware_guard,
                             Edit&& edit) {
    TRY(persist::check_key(key));
    auto updated = inventory.update_virtual_machine(id, [&](VirtualMachine& vm) -> ServiceResult<void> {
        if (hardware_guard && is_hardware_key(key) && vm.state() != VmState::TurnedOff)
            return service_error(hr::VM_E_PREF_VM_ACTIVE,
                                 "\"" + std::string(key.substr(0, 120)) +
                                     "\" is hardware: it can change only while the virtual machine is "
                                     "turned off (it is " +
                                     std::string(vm_state_name(vm.state())) + ")");
        auto xml = TRY(vmc_tree(TRY(persist::serialize_vmc(vm)), vm.file()));
        TRY(edit(xml.root()));
        auto reread = persist::parse_vmc(xml.serialize(), vm.file());
        if (reread.is_error())
            return service_error(hr::E_INVALIDARG,
                                 "the change would leave a configuration vsad cannot use: " +
                                     reread.error().message);
        auto changed = reread.release_value();
        if (changed.config_id().is_null()) changed.set_config_id(vm.config_id());
        changed.set_state(vm.state());
        vm = std::move(changed);
        return {};
    });
    if (updated.is_error()) return updated.release_error();
    return {};
}

std::string script_key(std::int32_t event) {
    return std::string(VM_SCRIPTS_KEY) + "/event[@id=" + std::to_string(event) + "]";
}

} // namespace

ServiceResult<persist::PreferenceValue> vm_configuration_value(Inventory const& inventory, Guid const& id,
                                                               std::string_view key) {
    TRY(persist::check_key(key));
    auto [text, file] = TRY(vmc_text(inventory, id));
    auto xml = TRY(vmc_tree(text, file));
    return persist::get_value(xml.root(), key, xml.source());
}

ServiceResult<void> set_vm_configuration_value(Inventory& inventory, Guid const& id, std::string_view key,
                                               persist::PreferenceValue const& value) {
    return edit_vmc(inventory, id, key, true,
                    [&](pugi::xml_node root) { return persist::set_value(root, key, value); });
}

ServiceResult<void> remove_vm_configuration_value(Inventory& inventory, Guid const& id,
                                                  std::string_view key) {
    return edit_vmc(inventory, id, key, true,
                    [&](pugi::xml_node root) { return persist::remove_value(root, key); });
}

ServiceResult<void> attach_vm_script(Inventory& inventory, Guid const& id, std::int32_t event,
                                     std::string_view command_line) {
    TRY(check_event_type(event));
    TRY(scripts::split_command_line(command_line));
    auto key = script_key(event);
    return edit_vmc(inventory, id, key, false, [&](pugi::xml_node root) -> ServiceResult<void> {
        if (persist::find_path(root, key))
            return service_error(hr::VM_E_SCRIPT_ALREADY_EXISTS,
                                 "a script is already attached to " + std::string(vm_event_type_name(event)) +
                                     " of this virtual machine; remove it first");
        return persist::set_value(root, key, persist::PreferenceValue::of_string(std::string(command_line)));
    });
}

ServiceResult<std::optional<std::string>> vm_script(Inventory const& inventory, Guid const& id,
                                                    std::int32_t event) {
    TRY(check_event_type(event));
    auto value = vm_configuration_value(inventory, id, script_key(event));
    if (value.is_error()) {
        if (value.error().code == hr::VM_E_PREF_NOT_FOUND) return std::optional<std::string>{};
        return value.release_error();
    }
    return std::optional<std::string>(value.value().text);
}

ServiceResult<void> remove_vm_script(Inventory& inventory, Guid const& id, std::int32_t event) {
    TRY(check_event_type(event));
    auto key = script_key(event);
    return edit_vmc(inventory, id, key, false, [&](pugi::xml_node root) -> ServiceResult<void> {
        if (auto node = persist::find_path(root, key)) node.parent().remove_child(node);
        return {};
    });
}

std::optional<std::string> vm_script_of(VirtualMachine const& vm, std::int32_t event) {
    auto text = persist::serialize_vmc(vm);
    if (text.is_error()) return std::nullopt;
    auto xml = vmc_tree(text.value(), vm.file());
    if (xml.is_error()) return std::nullopt;
    auto value = persist::get_value(xml.value().root(), script_key(event), vm.file().string());
    if (value.is_error() || value.value().kind != persist::PreferenceValue::Kind::String) return std::nullopt;
    return value.value().text;
}

void ActivationStore::begin(VirtualMachine const& vm) {
    auto text = persist::serialize_vmc(vm);
    if (text.is_error()) return;
    std::lock_guard lock(m_mutex);
    // A client's first activation call may have taken the copy already
    // (the event reaches us a moment after the state changed): keep it.
    m_sessions.emplace(vm.config_id(), text.release_value());
}

void ActivationStore::end(Guid const& id) {
    std::lock_guard lock(m_mutex);
    m_sessions.erase(id);
}

ServiceResult<std::string*> ActivationStore::session(Inventory const& inventory, Guid const& id) {
    auto state = inventory.read_virtual_machine(id, [](VirtualMachine const& vm) { return vm.state(); });
    if (!state)
        return service_error(hr::VM_E_VM_UNKNOWN, "no virtual machine with ConfigID " + id.to_string());
    if (!in_session(*state)) {
        m_sessions.erase(id);
        return service_error(hr::VM_E_PREF_NOT_FOUND, "the virtual machine has no activation values: it is " +
                                                          std::string(vm_state_name(*state)) +
                                                          ", not running");
    }
    auto it = m_sessions.find(id);
    if (it == m_sessions.end()) {
        auto [text, file] = TRY(vmc_text(inventory, id));
        (void)file;
        it = m_sessions.emplace(id, std::move(text)).first;
    }
    return &it->second;
}

ServiceResult<persist::PreferenceValue> ActivationStore::value(Inventory const& inventory, Guid const& id,
                                                               std::string_view key) {
    TRY(persist::check_key(key));
    std::lock_guard lock(m_mutex);
    auto* text = TRY(session(inventory, id));
    auto xml = TRY(vmc_tree(*text, "activation"));
    return persist::get_value(xml.root(), key, "activation values");
}

ServiceResult<void> ActivationStore::set_value(Inventory const& inventory, Guid const& id,
                                               std::string_view key, persist::PreferenceValue const& value) {
    TRY(persist::check_key(key));
    std::lock_guard lock(m_mutex);
    auto* text = TRY(session(inventory, id));
    auto xml = TRY(vmc_tree(*text, "activation"));
    TRY(persist::set_value(xml.root(), key, value));
    auto updated = xml.serialize();
    if (updated.size() > persist::MAX_VMC_BYTES)
        return service_error(hr::E_INVALIDARG, "the activation values would exceed " +
                                                   std::to_string(persist::MAX_VMC_BYTES) + " bytes");
    *text = std::move(updated);
    return {};
}

ServiceResult<void> ActivationStore::remove_value(Inventory const& inventory, Guid const& id,
                                                  std::string_view key) {
    TRY(persist::check_key(key));
    std::lock_guard lock(m_mutex);
    auto* text = TRY(session(inventory, id));
    auto xml = TRY(vmc_tree(*text, "activation"));
    TRY(persist::remove_value(xml.root(), key));
    *text = xml.serialize();
    return {};
}

} // namespace vsa::services
