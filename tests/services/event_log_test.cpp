// SPDX-License-Identifier: GPL-2.0-or-later
// The event log (services/events/event_log.h) and the batched reads built
// on it (object_updates.h): order, persistence, the bound, damaged files,
// waiting, and what the management model records.
#include "services/events/event_log.h"
#include "services/events/object_updates.h"
#include "services/virtual_server.h"

#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>
#include <thread>

using namespace vsa::services;
using namespace std::chrono_literals;

namespace {

Event vm_event(std::string name, std::string message) {
    Event event;
    event.kind = EventKind::VmStateChange;
    event.object_kind = OBJECT_VM;
    event.object = "{00000000-0000-0000-0000-000000000001}";
    event.object_name = std::move(name);
    event.state = 5;
    event.message = std::move(message);
    return event;
}

std::string read_all(std::filesystem::path const& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<EventKind> kinds(std::vector<Event> const& events) {
    std::vector<EventKind> out;
    for (auto const& event : events)
        out.push_back(event.kind);
    return out;
}

} // namespace

namespace vsa::services {
std::ostream& operator<<(std::ostream& out, EventKind kind) {
    return out << event_kind_name(kind);
}
} // namespace vsa::services

BOOST_AUTO_TEST_SUITE(event_log)

BOOST_AUTO_TEST_CASE(a_line_round_trips_whatever_the_text) {
    Event event = vm_event("web 1 - %20 ünïcode", "line one\nline two\twith tab and 100% of it");
    event.sequence = 42;
    event.time = std::chrono::system_clock::time_point(1'700'000'000'123ms);
    event.severity = EventSeverity::Warning;
    auto line = EventLog::encode_line(event);
    BOOST_TEST(line.find('\n') == std::string::npos);
    auto back = EventLog::decode_line(line);
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST((*back == event));
    // Empty fields and a field that is a lone dash stay apart.
    Event sparse;
    sparse.sequence = 1;
    sparse.object_name = "-";
    auto again = EventLog::decode_line(EventLog::encode_line(sparse));
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(again->object.empty());
    BOOST_TEST(again->object_name == "-");
}

BOOST_AUTO_TEST_CASE(bad_lines_do_not_decode) {
    for (std::string_view line :
         {"", "1 2 3", "0 0 OnVMStateChange Information - - - 0 -",
          "x 0 OnVMStateChange Information - - - 0 -", "1 0 NoSuchKind Information - - - 0 -",
          "1 0 OnVMStateChange Loud - - - 0 -", "1 0 OnVMStateChange Information %G0 - - 0 -",
          "1 0 OnVMStateChange Information %2 - - 0 -", "1 0 OnVMStateChange Information - - - zero -",
          "1 0 OnVMStateChange Information - - - 0 - extra"})
        BOOST_TEST(!EventLog::decode_line(line).has_value(), line);
}

BOOST_AUTO_TEST_CASE(events_are_numbered_in_order_and_read_after_a_number) {
    auto log = EventLog::open({});
    BOOST_TEST(log->last_sequence() == 0u);
    for (int i = 0; i < 10; ++i)
        BOOST_TEST(log->append(vm_event("vm", std::to_string(i))) == std::uint64_t(i + 1));
    auto all = log->after(0, 100);
    BOOST_REQUIRE(all.size() == 10u);
    BOOST_TEST(all.front().sequence == 1u);
    BOOST_TEST(all.back().message == "9");
    auto some = log->after(4, 3);
    BOOST_REQUIRE(some.size() == 3u);
    BOOST_TEST(some[0].sequence == 5u);
    BOOST_TEST(some[2].sequence == 7u);
    BOOST_TEST(log->after(10, 5).empty());
    BOOST_TEST(log->after(1000, 5).empty());
}

BOOST_AUTO_TEST_CASE(the_bound_drops_the_oldest_and_keeps_numbering) {
    vsa::test::TempDir dir;
    auto file = dir.path() / "events.log";
    {
        auto log = EventLog::open({file, 5});
        for (int i = 0; i < 23; ++i)
            log->append(vm_event("vm", std::to_string(i)));
        BOOST_TEST(log->size() == 5u);
        BOOST_TEST(log->first_sequence() == 19u);
        // After a dropped number: the oldest kept, the gap visible.
        auto events = log->after(3, 100);
        BOOST_REQUIRE(events.size() == 5u);
        BOOST_TEST(events.front().sequence == 19u);
        BOOST_TEST(log->write_errors() == 0u);
    }
    // The file was compacted on the way: at most twice the bound of lines.
    auto text = read_all(file);
    BOOST_TEST(std::count(text.begin(), text.end(), '\n') <= 10);
    auto reopened = EventLog::open({file, 5});
    BOOST_TEST(reopened->last_sequence() == 23u);
    BOOST_TEST(reopened->size() == 5u);
    BOOST_TEST(reopened->append(vm_event("vm", "next")) == 24u);
    BOOST_TEST(reopened->load_warnings().empty());
}

BOOST_AUTO_TEST_CASE(events_survive_a_restart_exactly) {
    vsa::test::TempDir dir;
    auto file = dir.path() / "events.log";
    std::vector<Event> before;
    {
        auto log = EventLog::open({file});
        log->append(vm_event("a", "first"));
        log->append(vm_event("b", "second with spaces"));
        before = log->after(0, 10);
    }
    auto log = EventLog::open({file});
    auto after = log->after(0, 10);
    BOOST_REQUIRE(after.size() == 2u);
    BOOST_TEST((after[0] == before[0]));
    BOOST_TEST((after[1] == before[1]));
}

BOOST_AUTO_TEST_CASE(a_torn_or_damaged_file_loads_what_it_can_and_stays_appendable) {
    vsa::test::TempDir dir;
    auto file = dir.path() / "events.log";
    {
        auto log = EventLog::open({file});
        for (int i = 0; i < 3; ++i)
            log->append(vm_event("vm", std::to_string(i)));
    }
    {
        std::ofstream out(file, std::ios::app);
        out << "garbage line\n"
            << "2 0 OnVMStateChange Information - - - 0 out-of-order\n"
            << "4 1700000000000 OnVMStateChange Information IVMVirtualMachine - cut"; // no newline: torn
    }
    auto log = EventLog::open({file});
    BOOST_TEST(log->last_sequence() == 3u);
    BOOST_TEST(log->size() == 3u);
    BOOST_TEST(log->load_warnings().size() == 2u); // the torn line, the skipped ones
    BOOST_TEST(log->append(vm_event("vm", "after")) == 4u);
    auto reopened = EventLog::open({file});
    BOOST_TEST(reopened->load_warnings().empty());
    BOOST_TEST(reopened->last_sequence() == 4u);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_no_log_is_not_fatal) {
    vsa::test::TempDir dir;
    auto file = dir.path() / "events.log";
    {
        std::ofstream out(file, std::ios::binary);
        for (int i = 0; i < 1000; ++i)
            out.put(static_cast<char>(i * 37));
    }
    auto log = EventLog::open({file});
    BOOST_TEST(log->last_sequence() == 0u);
    BOOST_TEST(!log->load_warnings().empty());
    BOOST_TEST(log->append(vm_event("vm", "fresh")) == 1u);
}

BOOST_AUTO_TEST_CASE(a_waiter_wakes_on_append_and_on_close) {
    auto log = EventLog::open({});
    // Nothing new: the wait times out.
    auto start = std::chrono::steady_clock::now();
    BOOST_TEST(log->wait_after(0, 50ms) == 0u);
    BOOST_TEST((std::chrono::steady_clock::now() - start >= 45ms));
    std::thread writer([&] {
        std::this_thread::sleep_for(50ms);
        log->append(vm_event("vm", "wake"));
    });
    start = std::chrono::steady_clock::now();
    BOOST_TEST(log->wait_after(0, 10s) == 1u);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
    writer.join();
    // Something after the number already: no wait at all.
    BOOST_TEST(log->wait_after(0, 10s) == 1u);
    std::thread closer([&] {
        std::this_thread::sleep_for(50ms);
        log->close();
    });
    start = std::chrono::steady_clock::now();
    BOOST_TEST(log->wait_after(1, 10s) == 1u);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
    closer.join();
}

BOOST_AUTO_TEST_CASE(the_model_records_changes_in_order) {
    vsa::test::TempDir dir;
    auto server = VirtualServer::open({dir.path(), "/"}).release_value();
    auto& inventory = server->inventory();
    auto vm = inventory.create_virtual_machine("web", "").release_value();
    BOOST_REQUIRE(
        inventory
            .update_virtual_machine(vm.config_id(), [](VirtualMachine& v) { return v.set_notes("changed"); })
            .has_value());
    // No change, no event.
    BOOST_REQUIRE(
        inventory
            .update_virtual_machine(vm.config_id(), [](VirtualMachine& v) { return v.set_notes("changed"); })
            .has_value());
    BOOST_REQUIRE(inventory.set_vm_state(vm.config_id(), VmState::Running).has_value());
    BOOST_REQUIRE(inventory.set_vm_state(vm.config_id(), VmState::Running).has_value()); // no change
    auto network = inventory.create_virtual_network("lan", "").release_value();
    auto task = server->tasks().create("something", false);
    task->complete(service_error(hr::E_FAIL, "it broke"));
    BOOST_REQUIRE(inventory.delete_virtual_machine(vm.config_id()).is_error()); // running
    BOOST_REQUIRE(inventory.set_vm_state(vm.config_id(), VmState::TurnedOff).has_value());
    BOOST_REQUIRE(inventory.delete_virtual_machine(vm.config_id()).value());

    auto events = server->events().after(0, 100);
    std::vector<EventKind> expected{EventKind::VmRegistered,  EventKind::VmConfigurationChange,
                                    EventKind::VmStateChange, EventKind::NetworkRegistered,
                                    EventKind::TaskCompleted, EventKind::VmStateChange,
                                    EventKind::VmUnregistered};
    BOOST_TEST(kinds(events) == expected, boost::test_tools::per_element());
    BOOST_REQUIRE(events.size() == expected.size());
    BOOST_TEST(events[2].state == static_cast<std::int32_t>(VmState::Running));
    BOOST_TEST(events[2].object == vm.config_id().to_string());
    BOOST_TEST(events[2].object_name == "web");
    BOOST_TEST(events[3].object == network.id().to_string());
    BOOST_TEST(events[4].object == task->id().to_string());
    BOOST_TEST((events[4].severity == EventSeverity::Warning));
    BOOST_TEST(events[4].message.find("it broke") != std::string::npos);
    BOOST_TEST(events[6].message.find("deleted") != std::string::npos);
    for (std::size_t i = 1; i < events.size(); ++i)
        BOOST_TEST(events[i].sequence == events[i - 1].sequence + 1);
}

// IVMDVDDriveEvents / IVMFloppyDriveEvents: a media change in a VM's
// configuration is an eject and an insert about the drive, whatever else
// changed with it.
BOOST_AUTO_TEST_CASE(media_changes_are_events_about_the_drive) {
    vsa::test::TempDir dir;
    auto server = VirtualServer::open({dir.path(), "/"}).release_value();
    auto& inventory = server->inventory();
    auto vm = inventory.create_virtual_machine("media", "").release_value();
    auto id = vm.config_id();
    // Media inside the server's folders (the VM's own).
    auto in_folder = [&](char const* name) { return (vm.folder() / name).string(); };
    std::string const first = in_folder("first.iso"), second = in_folder("second.iso"),
                      vfd = in_folder("a.vfd");
    for (auto const& file : {first, second, vfd})
        std::ofstream(file) << "media";
    BusLocation const at{DriveBusType::Ide, 1, 0};
    auto update = [&](auto change) {
        BOOST_REQUIRE(inventory.update_virtual_machine(id, change).has_value());
    };
    update([&](VirtualMachine& v) -> ServiceResult<void> {
        TRY(v.add_dvd_drive(at));
        return TRY(v.dvd_drive_at(at))->attach_image(first);
    });
    auto mark = server->events().last_sequence();
    update([&](VirtualMachine& v) -> ServiceResult<void> {
        auto* dvd = TRY(v.dvd_drive_at(at));
        TRY(dvd->release_image());
        TRY(dvd->attach_image(second)); // swapped in one change
        TRY(v.set_notes("swapped"));
        return v.floppy_drive().attach_image(vfd);
    });
    update([&](VirtualMachine& v) { return v.floppy_drive().release_image(); });

    auto events = server->events().after(mark, 100);
    std::vector<EventKind> expected{EventKind::VmConfigurationChange, EventKind::MediaEjected,
                                    EventKind::MediaInserted,         EventKind::MediaInserted,
                                    EventKind::VmConfigurationChange, EventKind::MediaEjected};
    BOOST_TEST(kinds(events) == expected, boost::test_tools::per_element());
    BOOST_REQUIRE(events.size() == expected.size());
    BOOST_TEST(events[1].object == id.to_string() + "/dvd/1:0");
    BOOST_TEST(events[1].object_kind == OBJECT_DVD_DRIVE);
    BOOST_TEST(events[1].object_name == "media");
    BOOST_TEST(events[1].message.find(first) != std::string::npos);
    BOOST_TEST(events[2].message.find(second) != std::string::npos);
    BOOST_TEST(events[3].object == id.to_string() + "/fdd/0");
    BOOST_TEST(events[3].object_kind == OBJECT_FLOPPY_DRIVE);
    BOOST_TEST(events[5].message.find(vfd) != std::string::npos);
    BOOST_TEST(events[5].state == 0);
}

BOOST_AUTO_TEST_CASE(retrieve_reads_many_objects_and_reports_per_property_errors) {
    vsa::test::TempDir dir;
    auto server = VirtualServer::open({dir.path(), "/"}).release_value();
    auto& inventory = server->inventory();
    std::vector<std::string> refs;
    for (int i = 0; i < 3; ++i)
        refs.push_back(inventory.create_virtual_machine("vm" + std::to_string(i), "")
                           .release_value()
                           .config_id()
                           .to_string());
    auto network = inventory.create_virtual_network("lan", "").release_value();
    refs.push_back(network.id().to_string());
    refs.push_back("{11111111-2222-3333-4444-555555555555}");
    ObjectUpdates updates(inventory, server->tasks(), server->events());
    auto values = updates.retrieve(refs, {"Name", "State", "SavedStateFilePath"}).release_value();
    BOOST_REQUIRE(values.size() == refs.size() * 3);
    BOOST_TEST(values[0].value == "vm0");
    BOOST_TEST(values[1].value == "1"); // TurnedOff
    BOOST_TEST(values[2].error == hr::VM_E_VM_NO_SAVED_STATE);
    BOOST_TEST(values[9].value == "lan");
    BOOST_TEST(values[10].error == hr::E_INVALIDARG); // networks have no State
    BOOST_TEST(values[12].error == hr::VM_E_VM_UNKNOWN);
    BOOST_TEST(values[12].property == "Name");
    // All properties when none are named.
    auto all = updates.retrieve({refs[0]}, {}).release_value();
    BOOST_TEST(all.size() == ObjectUpdates::properties_of(OBJECT_VM).size());
    // Bounds.
    BOOST_TEST(updates.retrieve(std::vector<std::string>(ObjectUpdates::MAX_OBJECTS + 1, refs[0]), {"Name"})
                   .is_error());
    BOOST_TEST(
        updates.retrieve({refs[0]}, std::vector<std::string>(ObjectUpdates::MAX_PROPERTIES + 1, "Name"))
            .is_error());
}

BOOST_AUTO_TEST_CASE(wait_for_updates_gives_a_snapshot_then_changes) {
    vsa::test::TempDir dir;
    auto server = VirtualServer::open({dir.path(), "/"}).release_value();
    auto& inventory = server->inventory();
    auto a = inventory.create_virtual_machine("a", "").release_value();
    auto b = inventory.create_virtual_machine("b", "").release_value();
    ObjectUpdates updates(inventory, server->tasks(), server->events());

    auto first = updates.wait_for_updates(0, 0ms);
    BOOST_TEST(first.resync);
    BOOST_TEST(first.objects.size() == 2u);
    BOOST_TEST(first.sequence == server->events().last_sequence());

    // Nothing new: an empty answer after the timeout, same number.
    auto idle = updates.wait_for_updates(first.sequence, 30ms);
    BOOST_TEST(!idle.resync);
    BOOST_TEST(idle.objects.empty());
    BOOST_TEST(idle.sequence == first.sequence);

    // A change while waiting wakes the wait with the changed object only.
    std::thread changer([&] {
        std::this_thread::sleep_for(50ms);
        (void)inventory.set_vm_state(b.config_id(), VmState::Running);
        (void)inventory.update_virtual_machine(b.config_id(),
                                               [](VirtualMachine& v) { return v.set_notes("x"); });
    });
    auto start = std::chrono::steady_clock::now();
    auto change = updates.wait_for_updates(first.sequence, 10s);
    BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
    changer.join();
    BOOST_REQUIRE(!change.objects.empty());
    BOOST_TEST(change.objects[0].object == b.config_id().to_string());
    BOOST_TEST(change.sequence > first.sequence);
    // Catch up with the rest; the object appears once however many events named it.
    auto rest = updates.wait_for_updates(first.sequence, 0ms);
    BOOST_TEST(rest.objects.size() == 1u);
    BOOST_TEST(rest.events.size() == 2u);
    auto state = std::find_if(rest.objects[0].properties.begin(), rest.objects[0].properties.end(),
                              [](auto const& p) { return p.property == "State"; });
    BOOST_REQUIRE(state != rest.objects[0].properties.end());
    BOOST_TEST(state->value == "5");

    // A removed object says so.
    (void)inventory.unregister_virtual_machine(a.config_id());
    auto gone = updates.wait_for_updates(rest.sequence, 0ms);
    BOOST_REQUIRE(gone.objects.size() == 1u);
    BOOST_TEST(gone.objects[0].removed);
    BOOST_TEST(gone.objects[0].object_kind == std::string(OBJECT_VM));

    // A number from the future (a reset log) resynchronises.
    BOOST_TEST(updates.wait_for_updates(gone.sequence + 1000, 0ms).resync);
}

BOOST_AUTO_TEST_CASE(a_client_that_fell_behind_the_bound_gets_a_snapshot) {
    vsa::test::TempDir dir;
    VirtualServer::Options options{dir.path(), "/"};
    options.max_events = 4;
    auto server = VirtualServer::open(options).release_value();
    auto& inventory = server->inventory();
    auto vm = inventory.create_virtual_machine("a", "").release_value();
    ObjectUpdates updates(inventory, server->tasks(), server->events());
    auto since = server->events().last_sequence();
    for (int i = 0; i < 10; ++i)
        (void)inventory.update_virtual_machine(
            vm.config_id(), [&](VirtualMachine& v) { return v.set_notes(std::to_string(i)); });
    auto answer = updates.wait_for_updates(since, 0ms);
    BOOST_TEST(answer.resync);
    BOOST_TEST(answer.objects.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
