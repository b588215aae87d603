// SPDX-License-Identifier: GPL-2.0-or-later
// IVMVirtualMachine's raw key members over the .vmc (persist/raw_keys.h
// has the key and value syntax):
//
//   Get/Set/RemoveConfigurationValue  the .vmc as vsad would write it now
//       (its model plus every key it keeps but does not model). A write
//       edits that tree, and the model is read back from the result
//       (parse_vmc) and committed like any other change
//       (Inventory::update_virtual_machine), so a raw write of
//       hardware/memory/ram_size is the Memory property, and a write the
//       model cannot read back (ram_size "lots", a disk outside the
//       allowed roots) is refused with nothing changed. The reference says
//       some keys "cannot be changed while the virtual machine is
//       running": here every key under hardware/ (what the worker was
//       started with), unless the VM is TurnedOff: VM_E_PREF_VM_ACTIVE.
//       Customer-defined keys anywhere else change in any state.
//   Attach/Fetch/RemoveScriptFromEvent  the VM's event scripts, in its .vmc
//       (a key of ours; Virtual Server's is not published):
//         settings/event_scripts/event[@id=<VMEventType>] (string)
//   Get/Set/RemoveActivationValue  the running session's copy of the
//       configuration (ActivationStore).
#pragma once

#include "services/inventory.h"
#include "services/persist/raw_keys.h"

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace vsa::services {

inline constexpr char const* VM_SCRIPTS_KEY = "settings/event_scripts";

ServiceResult<persist::PreferenceValue> vm_configuration_value(Inventory const& inventory, Guid const& id,
                                                               std::string_view key);
ServiceResult<void> set_vm_configuration_value(Inventory& inventory, Guid const& id, std::string_view key,
                                               persist::PreferenceValue const& value);
ServiceResult<void> remove_vm_configuration_value(Inventory& inventory, Guid const& id, std::string_view key);

// E_INVALIDARG for an event outside VMEventType or a command line
// scripts::split_command_line refuses; VM_E_SCRIPT_ALREADY_EXISTS (the
// reference's VM_E_SCRIPT_ALREADY_ATTACHED_TO_EVENT has no published value)
// when one is attached. Removing a script that is not there is S_OK.
ServiceResult<void> attach_vm_script(Inventory& inventory, Guid const& id, std::int32_t event,
                                     std::string_view command_line);
ServiceResult<std::optional<std::string>> vm_script(Inventory const& inventory, Guid const& id,
                                                    std::int32_t event);
ServiceResult<void> remove_vm_script(Inventory& inventory, Guid const& id, std::int32_t event);
// The command line of `event` in a VM's .vmc, for the script dispatcher.
std::optional<std::string> vm_script_of(VirtualMachine const& vm, std::int32_t event);

// Activation values: "when a virtual machine is started, a copy is made of
// its configuration values, which becomes its set of activation values ...
// maintained until the virtual machine is shut down or restarted", stored
// "internally" (the reference). Here: a copy of the .vmc tree taken when
// the VM is launched or restored (begin, from the event dispatcher; or
// lazily by the first activation call of a session), in memory, dropped when
// it is turned off or saved (end). Changing them never touches the .vmc or
// the running machine: vsad's worker reads nothing back from them (the
// reference: "the activation value may never be used").
// No session (TurnedOff, Saved): VM_E_PREF_NOT_FOUND.
class ActivationStore {
public:
    void begin(VirtualMachine const& vm);
    void end(Guid const& id);

    ServiceResult<persist::PreferenceValue> value(Inventory const& inventory, Guid const& id,
                                                  std::string_view key);
    ServiceResult<void> set_value(Inventory const& inventory, Guid const& id, std::string_view key,
                                  persist::PreferenceValue const& value);
    ServiceResult<void> remove_value(Inventory const& inventory, Guid const& id, std::string_view key);

private:
    // The session's text, taken now if the VM runs and has none yet.
    ServiceResult<std::string*> session(Inventory const& inventory, Guid const& id);

    std::mutex m_mutex;
    std::map<Guid, std::string> m_sessions; // .vmc text
};

} // namespace vsa::services
