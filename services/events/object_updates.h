// SPDX-License-Identifier: GPL-2.0-or-later
// Batched reads of the management model, for clients that watch many
// objects: RetrieveProperties (chosen properties of many objects in one
// call) and WaitForUpdates (block until something changes, then return the
// changed objects with their properties). A console showing 64 VMs makes
// one call instead of 64 x 5, and a long poll instead of polling each VM.
//
// Objects are named by their SOAP references: a VM by its ConfigID, a
// virtual network by its ID, a task by its GUID (all GUIDs, so the kind is
// found by looking the GUID up). Property names are the SOAP property names
// (IVMVirtualMachine_get_<Name>); values travel as text - numbers in
// decimal, booleans "true"/"false" - exactly as the single-property
// operations would answer, and a property that single operation would
// fault on (SavedStateFilePath of a VM without a saved state, an unknown
// object, an unknown property name) carries that HRESULT and message
// instead of failing the whole batch.
//
// WaitForUpdates works on the event log's sequence numbers: "since N"
// means "everything after event N". Since 0 (or a number from a log that
// was reset) returns every registered VM and network at once: the initial
// snapshot. Otherwise it waits until an event after N exists (or the
// timeout), then returns those events and, once each, every object they
// name with all its properties; an object that is gone (unregistered,
// deleted, an expired task) comes back with removed = true. If events
// after N have already been dropped from the log (the client was away too
// long), `resync` is set and the answer is a full snapshot again.
#pragma once

#include "services/events/event_log.h"
#include "services/hresult.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vsa::services {

class Inventory;
class TaskRegistry;

struct PropertyValue {
    std::string object;
    std::string property;
    std::string value;              // scalar properties
    std::vector<std::string> items; // array properties (is_array)
    bool is_array{false};
    HResult error{hr::S_OK}; // not S_OK: the property could not be read
    std::string message;     // why not
};

struct ObjectUpdate {
    std::string object_kind; // OBJECT_VM, OBJECT_NETWORK, OBJECT_TASK
    std::string object;
    bool removed{false};
    std::vector<PropertyValue> properties;
};

struct UpdateSet {
    std::uint64_t sequence{0}; // pass as `since` next time
    bool resync{false};        // a full snapshot: forget what you had
    std::vector<Event> events;
    std::vector<ObjectUpdate> objects;
};

class ObjectUpdates {
public:
    // Bounds on one call, so one request cannot make an unbounded answer.
    static constexpr std::size_t MAX_OBJECTS = 4096;
    static constexpr std::size_t MAX_PROPERTIES = 64;
    static constexpr std::size_t MAX_EVENTS = 1000;

    ObjectUpdates(Inventory const& inventory, TaskRegistry& tasks, EventLog const& events)
        : m_inventory(inventory), m_tasks(tasks), m_events(events) {}

    // The properties RetrieveProperties knows for an object kind, in order;
    // an empty `properties` argument means all of them.
    static std::vector<std::string_view> properties_of(std::string_view object_kind);

    // One PropertyValue per (object, property), objects in the given order.
    // E_INVALIDARG past MAX_OBJECTS objects or MAX_PROPERTIES names.
    ServiceResult<std::vector<PropertyValue>> retrieve(std::vector<std::string> const& objects,
                                                       std::vector<std::string> const& properties) const;

    // See the top of this file. `timeout` 0 answers at once.
    UpdateSet wait_for_updates(std::uint64_t since, std::chrono::milliseconds timeout) const;

private:
    // All properties of one object, or removed when it does not exist.
    ObjectUpdate describe(std::string const& object) const;
    UpdateSet snapshot() const;
    std::vector<PropertyValue> read(std::string const& object, std::vector<std::string> const& properties,
                                    std::string* kind) const;

    Inventory const& m_inventory;
    TaskRegistry& m_tasks;
    EventLog const& m_events;
};

} // namespace vsa::services
