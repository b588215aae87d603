// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/events/object_updates.h"

#include "services/inventory.h"
#include "services/task/task_registry.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_set>

namespace vsa::services {

namespace {

// One readable property: its name and how to read it from a snapshot.
template <typename Object>
struct Reader {
    std::string_view name;
    std::function<ServiceResult<std::string>(Object const&)> read;
};

std::string text(bool value) {
    return value ? "true" : "false";
}
template <typename Int>
std::string text(Int value) requires std::is_integral_v<Int> {
    return std::to_string(value);
}

std::vector<Reader<VirtualMachine>> const& vm_readers() {
    static std::vector<Reader<VirtualMachine>> const readers{
        {"Name", [](auto const& vm) -> ServiceResult<std::string> { return vm.name(); }},
        {"ConfigID", [](auto const& vm) -> ServiceResult<std::string> { return vm.config_id().to_string(); }},
        {"File", [](auto const& vm) -> ServiceResult<std::string> { return vm.file().string(); }},
        {"State",
         [](auto const& vm) -> ServiceResult<std::string> {
             return text(static_cast<std::int32_t>(vm.state()));
         }},
        {"Memory", [](auto const& vm) -> ServiceResult<std::string> { return text(vm.memory_mb()); }},
        {"Notes", [](auto const& vm) -> ServiceResult<std::string> { return vm.notes(); }},
        {"Undoable", [](auto const& vm) -> ServiceResult<std::string> { return text(vm.undoable()); }},
        {"UndoAction",
         [](auto const& vm) -> ServiceResult<std::string> {
             return text(static_cast<std::int32_t>(vm.undo_action()));
         }},
        {"ShutdownActionOnQuit",
         [](auto const& vm) -> ServiceResult<std::string> {
             return text(static_cast<std::int32_t>(vm.shutdown_action()));
         }},
        {"SavedStateFilePath",
         [](auto const& vm) -> ServiceResult<std::string> {
             // As IVMVirtualMachine_get_SavedStateFilePath answers.
             if (vm.state() != VmState::Saved)
                 return service_error(hr::VM_E_VM_NO_SAVED_STATE,
                                      "virtual machine \"" + vm.name() + "\" has no saved state");
             return vm.saved_state_file().string();
         }},
    };
    return readers;
}

std::vector<Reader<VirtualNetwork>> const& network_readers() {
    static std::vector<Reader<VirtualNetwork>> const readers{
        {"Name", [](auto const& network) -> ServiceResult<std::string> { return network.name(); }},
        {"ID", [](auto const& network) -> ServiceResult<std::string> { return network.id().to_string(); }},
        {"File", [](auto const& network) -> ServiceResult<std::string> { return network.file().string(); }},
        {"Notes", [](auto const& network) -> ServiceResult<std::string> { return network.notes(); }},
    };
    return readers;
}

std::vector<Reader<Task>> const& task_readers() {
    static std::vector<Reader<Task>> const readers{
        {"Description", [](auto const& task) -> ServiceResult<std::string> { return task.description(); }},
        {"ID", [](auto const& task) -> ServiceResult<std::string> { return text(task.number()); }},
        {"IsCancelable",
         [](auto const& task) -> ServiceResult<std::string> { return text(task.is_cancelable()); }},
        {"IsComplete",
         [](auto const& task) -> ServiceResult<std::string> { return text(task.is_complete()); }},
        {"PercentCompleted",
         [](auto const& task) -> ServiceResult<std::string> { return text(task.percent_completed()); }},
        {"Result",
         [](auto const& task) -> ServiceResult<std::string> {
             return text(static_cast<std::int32_t>(task.result()));
         }},
        {"Error", [](auto const& task) -> ServiceResult<std::string> { return text(task.error().value); }},
        {"ErrorDescription",
         [](auto const& task) -> ServiceResult<std::string> { return task.error_description(); }},
    };
    return readers;
}

template <typename Object>
std::vector<std::string_view> names_of(std::vector<Reader<Object>> const& readers) {
    std::vector<std::string_view> names;
    for (auto const& reader : readers)
        names.push_back(reader.name);
    return names;
}

// Reads `properties` (all when empty) of one object through its readers.
template <typename Object>
std::vector<PropertyValue> read_with(std::vector<Reader<Object>> const& readers, Object const& object,
                                     std::string const& ref, std::vector<std::string> const& properties,
                                     std::string_view kind) {
    std::vector<PropertyValue> values;
    auto read_one = [&](Reader<Object> const& reader) {
        PropertyValue value{ref, std::string(reader.name), {}, {}, false, hr::S_OK, {}};
        auto result = reader.read(object);
        if (result.is_error()) {
            value.error = result.error().code;
            value.message = result.error().message;
        } else {
            value.value = result.release_value();
        }
        values.push_back(std::move(value));
    };
    if (properties.empty()) {
        for (auto const& reader : readers)
            read_one(reader);
        return values;
    }
    for (auto const& name : properties) {
        auto reader =
            std::find_if(readers.begin(), readers.end(), [&](auto const& r) { return r.name == name; });
        if (reader != readers.end()) {
            read_one(*reader);
        } else {
            values.push_back({ref,
                              name,
                              {},
                              {},
                              false,
                              hr::E_INVALIDARG,
                              std::string(kind) + " has no property \"" + name.substr(0, 64) + "\""});
        }
    }
    return values;
}

} // namespace

std::vector<std::string_view> ObjectUpdates::properties_of(std::string_view object_kind) {
    if (object_kind == OBJECT_VM) return names_of(vm_readers());
    if (object_kind == OBJECT_NETWORK) return names_of(network_readers());
    if (object_kind == OBJECT_TASK) return names_of(task_readers());
    return {};
}

std::vector<PropertyValue> ObjectUpdates::read(std::string const& object,
                                               std::vector<std::string> const& properties,
                                               std::string* kind) const {
    auto id = Guid::parse(object);
    if (id) {
        if (auto vm = m_inventory.virtual_machine(*id)) {
            if (kind) *kind = OBJECT_VM;
            return read_with(vm_readers(), *vm, object, properties, OBJECT_VM);
        }
        if (auto network = m_inventory.virtual_network(*id)) {
            if (kind) *kind = OBJECT_NETWORK;
            return read_with(network_readers(), *network, object, properties, OBJECT_NETWORK);
        }
        if (auto task = m_tasks.find(*id)) {
            if (kind) *kind = OBJECT_TASK;
            return read_with(task_readers(), *task, object, properties, OBJECT_TASK);
        }
    }
    if (kind) kind->clear();
    // Unknown: every asked property carries the reason, so a batch over a
    // VM deleted meanwhile still answers for the others.
    std::vector<PropertyValue> values;
    PropertyValue unknown{object.substr(0, 128),
                          {},
                          {},
                          {},
                          false,
                          hr::VM_E_VM_UNKNOWN,
                          id ? "no registered virtual machine, virtual network or task " + object
                             : "not an object reference: \"" + object.substr(0, 64) + "\""};
    if (properties.empty()) {
        values.push_back(unknown);
    } else {
        for (auto const& name : properties) {
            unknown.property = name;
            values.push_back(unknown);
        }
    }
    return values;
}

ServiceResult<std::vector<PropertyValue>>
ObjectUpdates::retrieve(std::vector<std::string> const& objects,
                        std::vector<std::string> const& properties) const {
    if (objects.size() > MAX_OBJECTS)
        return service_error(hr::E_INVALIDARG, "at most " + std::to_string(MAX_OBJECTS) +
                                                   " objects per call (got " +
                                                   std::to_string(objects.size()) + ")");
    if (properties.size() > MAX_PROPERTIES)
        return service_error(hr::E_INVALIDARG, "at most " + std::to_string(MAX_PROPERTIES) +
                                                   " properties per call (got " +
                                                   std::to_string(properties.size()) + ")");
    std::vector<PropertyValue> values;
    values.reserve(objects.size() * std::max<std::size_t>(properties.size(), 1));
    for (auto const& object : objects) {
        auto one = read(object, properties, nullptr);
        std::move(one.begin(), one.end(), std::back_inserter(values));
    }
    return values;
}

ObjectUpdate ObjectUpdates::describe(std::string const& object) const {
    ObjectUpdate update;
    update.object = object;
    auto values = read(object, {}, &update.object_kind);
    if (update.object_kind.empty()) {
        update.removed = true;
    } else {
        update.properties = std::move(values);
    }
    return update;
}

UpdateSet ObjectUpdates::snapshot() const {
    UpdateSet set;
    // The number first: an event after it is then reported next time even
    // if the snapshot below already shows its effect (seen twice, never lost).
    set.sequence = m_events.last_sequence();
    set.resync = true;
    for (auto const& vm : m_inventory.virtual_machines()) {
        auto ref = vm.config_id().to_string();
        set.objects.push_back(
            {std::string(OBJECT_VM), ref, false, read_with(vm_readers(), vm, ref, {}, OBJECT_VM)});
    }
    for (auto const& network : m_inventory.virtual_networks()) {
        auto ref = network.id().to_string();
        set.objects.push_back({std::string(OBJECT_NETWORK), ref, false,
                               read_with(network_readers(), network, ref, {}, OBJECT_NETWORK)});
    }
    return set;
}

UpdateSet ObjectUpdates::wait_for_updates(std::uint64_t since, std::chrono::milliseconds timeout) const {
    auto last = m_events.last_sequence();
    // 0, or a number this log never handed out (its data folder was reset).
    if (since == 0 || since > last) return snapshot();
    if (since < last || timeout.count() > 0) last = m_events.wait_after(since, timeout);
    UpdateSet set;
    set.sequence = since;
    if (last <= since) return set; // timed out: nothing new
    auto events = m_events.after(since, MAX_EVENTS);
    // Dropped before the client saw them: its picture may be stale anywhere.
    if (events.empty() || events.front().sequence > since + 1) {
        if (since + 1 < m_events.first_sequence()) return snapshot();
    }
    std::unordered_set<std::string> seen;
    for (auto const& event : events) {
        set.sequence = event.sequence;
        if (event.object.empty() || !seen.insert(event.object).second) continue;
        auto update = describe(event.object);
        if (update.removed) update.object_kind = event.object_kind;
        set.objects.push_back(std::move(update));
    }
    set.events = std::move(events);
    return set;
}

} // namespace vsa::services
