// SPDX-License-Identifier: GPL-2.0-or-later
// The power lifecycle with real vsa-vm workers: the counter disk
// (tests/progs/counter_disk.asm) boots under SeaBIOS and prints a counter on
// COM1 once per timer tick, so the serial log shows whether the guest runs,
// stands still while paused, restarts on reset and goes on from where it was
// after a save and a restore. Also: the refusals of section 6 of vs-api.md,
// a worker killed with SIGKILL, a damaged saved state, vsad's shutdown
// saving or turning off each VM per its ShutdownActionOnQuit, and a running
// VM's screen, heartbeat, accounting, guest shutdown and DVD media.
#include "hypervisor/machine/png_image.h"
#include "services/inventory.h"
#include "services/worker/vm_runtime.h"

#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <signal.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

using namespace vsa::services;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct CounterLine {
    unsigned long count{0};
    unsigned long ticks{0};
};

struct Fixture {
    vsa::test::TempDir dir;
    fs::path root = fs::canonical(dir.path());
    TaskRegistry tasks;
    std::unique_ptr<Inventory> inventory;
    std::unique_ptr<VmRuntime> runtime;
    std::mutex events_mutex;
    std::vector<std::pair<VmEvent, std::string>> events;

    Fixture() {
        auto opened = Inventory::open({root / "data", root / "vms", root / "nets", {}});
        BOOST_REQUIRE_MESSAGE(opened.has_value(), why(opened));
        inventory = opened.release_value();
        VmRuntimeOptions options;
        options.worker_binary = VSA_WORKER_BINARY;
        options.command_timeout = 30s; // ASan, a busy CI host
        options.shutdown_timeout = 60s;
        options.sample_interval = 200ms;     // heartbeats within a test's patience
        options.guest_shutdown_timeout = 3s; // the counter disk ignores the power button
        options.log = [](std::string const& line) { BOOST_TEST_MESSAGE("runtime: " << line); };
        options.floppy_drives = HostFloppyDrives(root / "no-sys", {{"testfd", root / "host-floppy.img"}});
        options.on_event = [this](Guid const&, std::string const&, VmEvent event, std::string const& detail) {
            std::lock_guard lock(events_mutex);
            events.emplace_back(event, detail);
        };
        runtime = std::make_unique<VmRuntime>(*inventory, tasks, options);
    }

    // A VM with its own copy of the counter disk at IDE 0:0.
    VirtualMachine make_vm(std::string const& name, std::int32_t memory_mb = 16) {
        auto vm = inventory->create_virtual_machine(name, "");
        BOOST_REQUIRE_MESSAGE(vm.has_value(), why(vm));
        auto disk = vm.value().folder() / (name + ".img");
        fs::copy_file(VSA_COUNTER_DISK, disk);
        auto updated = inventory->update_virtual_machine(
            vm.value().config_id(), [&](VirtualMachine& v) -> ServiceResult<void> {
                TRY(v.set_memory_mb(memory_mb));
                return v.add_hard_disk_connection(disk.string(), {DriveBusType::Ide, 0, 0});
            });
        BOOST_REQUIRE_MESSAGE(updated.has_value(), why(updated));
        return updated.release_value();
    }

    VmState state(Guid const& id) { return inventory->virtual_machine(id).value().state(); }

    // The complete lines of COM1's log. A last line without its newline is
    // left out: a guest paused mid-line has printed only part of it (CI
    // once read "VSA-COUNTER n 112" of "... 1125182" and saw the ticks
    // jump across the pause).
    std::vector<std::string> serial(VirtualMachine const& vm) {
        std::ifstream in(VmRuntime::default_serial_log(vm));
        std::vector<std::string> lines;
        for (std::string line; std::getline(in, line) && !in.eof();)
            lines.push_back(line);
        return lines;
    }

    std::vector<CounterLine> counters(VirtualMachine const& vm) {
        std::vector<CounterLine> out;
        for (auto const& line : serial(vm)) {
            std::istringstream in(line);
            std::string word;
            CounterLine c;
            if (in >> word >> c.count >> c.ticks && word == "VSA-COUNTER") out.push_back(c);
        }
        return out;
    }

    // Waits (bounded) until the guest has printed `more` counter lines
    // beyond what it had.
    void wait_for_counting(VirtualMachine const& vm, std::size_t more = 3) {
        auto start = counters(vm).size();
        BOOST_REQUIRE_MESSAGE(wait_until([&] { return counters(vm).size() >= start + more; }, 60s),
                              "the guest does not count");
    }

    static bool wait_until(std::function<bool()> const& condition, std::chrono::milliseconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < deadline) {
            if (condition()) return true;
            std::this_thread::sleep_for(50ms);
        }
        return condition();
    }

    void run(ServiceResult<TaskHandle> begun) {
        BOOST_REQUIRE_MESSAGE(begun.has_value(), why(begun));
        auto const& task = begun.value();
        auto done = task->wait_for(60s);
        BOOST_REQUIRE_MESSAGE(done.has_value(), why(done));
        // What a client reads through IVMTask once it is complete.
        BOOST_TEST(task->is_complete());
        BOOST_TEST(task->percent_completed() == 100);
        BOOST_TEST((task->result() == TaskResult::Success));
        BOOST_TEST(task->error().value == hr::S_OK.value);
        BOOST_TEST(!task->is_cancelable());
        BOOST_TEST((task->cancel().error().code == hr::E_FAIL));
        BOOST_TEST(tasks.find(task->id()) == task);
        BOOST_TEST(task->description().find("virtual machine") != std::string::npos, task->description());
    }
};

template <typename T>
HResult code_of(ServiceResult<T> const& result) {
    BOOST_REQUIRE_MESSAGE(result.is_error(), "expected an error");
    return result.error().code;
}

bool process_exists(pid_t pid) {
    return pid > 0 && ::kill(pid, 0) == 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(vm_runtime)

BOOST_FIXTURE_TEST_CASE(arguments_come_from_the_vmc, Fixture) {
    auto vm = make_vm("args", 32);
    auto disk = vm.hard_disk_connections()[0].disk_path();
    auto other = vm.folder() / "second.img";
    fs::copy_file(VSA_COUNTER_DISK, other);
    vm = inventory
             ->update_virtual_machine(
                 vm.config_id(),
                 [&](VirtualMachine& v) {
                     return v.add_hard_disk_connection(other.string(), {DriveBusType::Ide, 1, 0});
                 })
             .value();
    auto args = runtime->worker_arguments(vm);
    std::vector<std::string> expected{"--memory",
                                      "32M",
                                      "--disk=" + disk,
                                      "--disk=",
                                      "--disk=" + other.string(),
                                      "--floppy",
                                      "empty",
                                      "--serial",
                                      "append:" + VmRuntime::default_serial_log(vm).string(),
                                      "--boot",
                                      "disk,cdrom,floppy",
                                      "--save-state",
                                      vm.saved_state_file().string()};
    BOOST_TEST(args == expected, boost::test_tools::per_element());
    // The BIOS settings (bios_settings.h) as vsa-vm's --boot and --num-lock.
    vm = inventory
             ->update_virtual_machine(vm.config_id(),
                                      [&](VirtualMachine& v) -> ServiceResult<void> {
                                          TRY(v.set_boot_order({BootDevice::Cdrom, BootDevice::Floppy}));
                                          return v.set_num_lock(true);
                                      })
             .value();
    args = runtime->worker_arguments(vm);
    auto boot = std::find(args.begin(), args.end(), "--boot");
    BOOST_REQUIRE(boot != args.end());
    BOOST_TEST(*(boot + 1) == "cdrom,floppy");
    BOOST_TEST(*(boot + 2) == "--num-lock");
    vm.set_state(VmState::Saved);
    args = runtime->worker_arguments(vm);
    BOOST_TEST(args.back() == vm.saved_state_file().string());
    BOOST_TEST(args[args.size() - 2] == "--restore-state");
    // DVD drives take their IDE slots as CD drives: one with an image at
    // primary slave, an empty one at secondary slave.
    auto iso = vm.folder() / "install.iso";
    fs::copy_file(VSA_COUNTER_DISK, iso);
    vm = inventory
             ->update_virtual_machine(vm.config_id(),
                                      [&](VirtualMachine& v) -> ServiceResult<void> {
                                          TRY(v.add_dvd_drive({DriveBusType::Ide, 0, 1}));
                                          TRY(v.add_dvd_drive({DriveBusType::Ide, 1, 1}));
                                          auto dvd = TRY(v.dvd_drive_at({DriveBusType::Ide, 0, 1}));
                                          return dvd->attach_image(iso.string());
                                      })
             .value();
    args = runtime->worker_arguments(vm);
    std::vector<std::string> drives(args.begin() + 2, args.begin() + 6);
    std::vector<std::string> expected_drives{"--disk=" + disk, "--cdrom=" + iso.string(),
                                             "--disk=" + other.string(), "--cdrom=empty"};
    BOOST_TEST(drives == expected_drives, boost::test_tools::per_element());
}

// The floppy drive (vm_runtime_floppy.cpp): every worker's drive A:, with
// the VM's image or its host drive's disk, empty when that is unusable;
// what AttachImage and AttachHostDrive refuse.
BOOST_FIXTURE_TEST_CASE(floppy_media_reach_the_worker, Fixture) {
    auto vm = make_vm("floppy");
    auto const id = vm.config_id();
    auto floppy_argument = [&] {
        auto args = runtime->worker_arguments(inventory->virtual_machine(id).value());
        auto it = std::find(args.begin(), args.end(), "--floppy");
        BOOST_TEST((std::find(args.begin(), args.end(), "--floppy-ro") == args.end()));
        return it == args.end() || it + 1 == args.end() ? std::string("(missing)") : *(it + 1);
    };
    auto make_file = [](fs::path const& path, std::size_t bytes) {
        std::ofstream(path, std::ios::binary) << std::string(bytes, 'F');
    };
    BOOST_TEST(floppy_argument() == "empty");

    auto image = vm.folder() / "a.vfd";
    auto odd = vm.folder() / "odd.vfd";
    make_file(image, 1'474'560);
    make_file(odd, 1'000'000);
    BOOST_TEST(code_of(runtime->attach_floppy_image(id, vm.folder() / "missing.vfd")) ==
               hr::VM_E_IMAGE_CAPTURE_FAIL);
    BOOST_TEST(code_of(runtime->attach_floppy_image(id, odd)) == hr::VM_E_IMAGE_CAPTURE_FAIL);
    BOOST_TEST(floppy_argument() == "empty");
    BOOST_REQUIRE(runtime->attach_floppy_image(id, image).has_value());
    BOOST_TEST(floppy_argument() == image.string());
    // A disk that went bad since: the drive is empty, the VM still starts.
    fs::resize_file(image, 1000);
    BOOST_TEST(floppy_argument() == "empty");
    fs::resize_file(image, 1'474'560);
    BOOST_TEST(code_of(runtime->attach_floppy_host_drive(id, "testfd")) == hr::VM_E_MEDIA_WRONG_TYPE);
    BOOST_TEST(runtime->release_floppy_image(id).has_value());
    BOOST_TEST(code_of(runtime->release_floppy_image(id)) == hr::VM_E_NO_MEDIA_CAPTURED);

    // The configured host drive: captured without a disk (an empty drive),
    // then its disk is what the worker gets.
    BOOST_TEST(code_of(runtime->attach_floppy_host_drive(id, "A")) == hr::VM_E_HOST_FLOPPY_CAPTURE_FAIL);
    BOOST_TEST(code_of(runtime->attach_floppy_host_drive(id, "no/such")) == hr::E_INVALIDARG);
    BOOST_REQUIRE(runtime->attach_floppy_host_drive(id, "testfd").has_value());
    BOOST_TEST(inventory->virtual_machine(id).value().floppy_drive().host_drive_letter() == "testfd");
    BOOST_TEST(floppy_argument() == "empty");
    make_file(root / "host-floppy.img", 737'280);
    BOOST_TEST(floppy_argument() == (root / "host-floppy.img").string());
    BOOST_TEST(code_of(runtime->attach_floppy_image(id, image)) == hr::VM_E_MEDIA_WRONG_TYPE);
    BOOST_TEST(runtime->release_floppy_host_drive(id).has_value());
    BOOST_TEST(floppy_argument() == "empty");
}

// COM and LPT ports as configured (SerialPort, ParallelPort): vsa-vm's
// --serial / --serial2 / --parallel values.
BOOST_FIXTURE_TEST_CASE(ports_reach_the_worker, Fixture) {
    auto vm = make_vm("ports", 32);
    auto com1 = vm.folder() / "com1.txt";
    vm = inventory
             ->update_virtual_machine(
                 vm.config_id(),
                 [&](VirtualMachine& v) -> ServiceResult<void> {
                     TRY(v.configure_serial_port(0, SerialPortType::TextFile, com1.string(), false));
                     TRY(v.configure_serial_port(1, SerialPortType::NamedPipe, "tcp:127.0.0.1:4555", false));
                     return v.set_parallel_port_name("LPT1");
                 })
             .value();
    auto args = runtime->worker_arguments(vm);
    auto after = [&](std::string const& option) {
        auto it = std::find(args.begin(), args.end(), option);
        return it == args.end() || it + 1 == args.end() ? std::string("(missing)") : *(it + 1);
    };
    BOOST_TEST(after("--serial") == "append:" + com1.string());
    BOOST_TEST(after("--serial2") == "tcp:127.0.0.1:4555");
    BOOST_TEST(after("--parallel") == "append:" + (vm.folder() / "ports.lpt1.txt").string());
    // Unconnected: COM1 back to its log, no COM2, no LPT1.
    vm = inventory
             ->update_virtual_machine(vm.config_id(),
                                      [&](VirtualMachine& v) -> ServiceResult<void> {
                                          TRY(v.configure_serial_port(0, SerialPortType::Null, "", false));
                                          TRY(v.configure_serial_port(1, SerialPortType::Null, "", false));
                                          return v.set_parallel_port_name("");
                                      })
             .value();
    args = runtime->worker_arguments(vm);
    BOOST_TEST(after("--serial") == "append:" + VmRuntime::default_serial_log(vm).string());
    BOOST_TEST(after("--serial2") == "(missing)");
    BOOST_TEST(after("--parallel") == "(missing)");
}

// Network adapters: one socketpair end each at the fixed inherited
// numbers, with the MAC; an adapter on no network starts with its cable
// pulled (the guest sees no carrier until AttachToVirtualNetwork).
BOOST_FIXTURE_TEST_CASE(network_adapters_reach_the_worker, Fixture) {
    auto vm = make_vm("nics", 32);
    auto id = vm.config_id();
    auto first = inventory->add_network_adapter(id);
    auto second = inventory->add_network_adapter(id);
    BOOST_REQUIRE(first.has_value());
    BOOST_REQUIRE(second.has_value());
    auto net = inventory->create_virtual_network("args-net", "");
    BOOST_REQUIRE(net.has_value());
    BOOST_REQUIRE(inventory->attach_network_adapter(id, first.value(), net.value().id()).has_value());
    vm = *inventory->virtual_machine(id);
    auto mac = [](MacAddress const& address) {
        std::string text = address.to_string();
        for (auto& c : text)
            c = c == '-' ? ':' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return text;
    };
    auto args = runtime->worker_arguments(vm);
    std::vector<std::string> nics;
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == "--nic") nics.push_back(args[i + 1]);
    int const fd = WorkerProcess::FIRST_INHERITED_FD;
    std::vector<std::string> expected{
        "fd:" + std::to_string(fd) + ",mac=" + mac(vm.network_adapters()[0].ethernet_address()),
        "fd:" + std::to_string(fd + 1) + ",mac=" + mac(vm.network_adapters()[1].ethernet_address()) +
            ",link=down"};
    BOOST_TEST(nics == expected, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(refusals_while_off, Fixture) {
    auto vm = make_vm("off");
    auto id = vm.config_id();
    BOOST_TEST(code_of(runtime->pause(id)) == hr::E_FAIL);
    BOOST_TEST(code_of(runtime->resume(id)) == hr::E_FAIL);
    BOOST_TEST(code_of(runtime->turn_off(id)) == hr::VM_E_VM_NOT_RUNNING);
    BOOST_TEST(code_of(runtime->save(id)) == hr::VM_E_VM_NOT_RUNNING);
    BOOST_TEST(code_of(runtime->reset(id)) == hr::VM_E_VM_NOT_RUNNING);
    BOOST_TEST(code_of(runtime->discard_saved_state(id)) == hr::VM_E_VM_NO_SAVED_STATE);
    BOOST_TEST(code_of(runtime->query(id)) == hr::VM_E_VM_NOT_RUNNING);
    Guid unknown = Guid::parse("{00000000-0000-0000-0000-000000000001}").value();
    BOOST_TEST(code_of(runtime->startup(unknown)) == hr::VM_E_VM_UNKNOWN);
    BOOST_TEST(code_of(runtime->pause(unknown)) == hr::VM_E_VM_UNKNOWN);
    BOOST_TEST((state(id) == VmState::TurnedOff));
    // An undoable VM on a raw disk is refused (undo disks are differencing
    // VHDs) rather than run on its base disk; tests/services/
    // undo_disks_test.cpp has the rest.
    (void)inventory->update_virtual_machine(id, [](VirtualMachine& v) { return v.set_undoable(true); });
    BOOST_TEST(runtime->startup(id).is_error());
    BOOST_TEST((state(id) == VmState::TurnedOff));
}

BOOST_FIXTURE_TEST_CASE(pause_resume_reset_save_restore_turn_off, Fixture) {
    auto vm = make_vm("life");
    auto id = vm.config_id();
    run(runtime->startup(id));
    BOOST_TEST((state(id) == VmState::Running));
    wait_for_counting(vm);
    BOOST_TEST(serial(vm).front() == "VSA-COUNTER-BOOT");

    // On: no second start, no configuration change, no delete.
    BOOST_TEST(code_of(runtime->startup(id)) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(inventory->update_virtual_machine(
                   id, [](VirtualMachine& v) { return v.set_memory_mb(32); })) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(inventory->delete_virtual_machine(id)) == hr::VM_E_VM_RUNNING);
    BOOST_TEST(code_of(runtime->resume(id)) == hr::E_FAIL);
    BOOST_TEST(code_of(runtime->discard_saved_state(id)) == hr::VM_E_VM_RUNNING);
    auto status = runtime->query(id);
    BOOST_REQUIRE_MESSAGE(status.has_value(), why(status));
    BOOST_TEST((status.value().state == vsa::control::RunState::Running));
    BOOST_TEST(status.value().instructions > 0u);

    // Pause: the VM thread stops, so nothing is printed and no instruction
    // retires; the virtual clock stops too, so after a resume the BIOS tick
    // count goes on from where it was instead of jumping by the pause.
    BOOST_REQUIRE_MESSAGE(runtime->pause(id).has_value(), "pause");
    BOOST_TEST((state(id) == VmState::Paused));
    BOOST_TEST(code_of(runtime->pause(id)) == hr::E_FAIL);
    BOOST_TEST(code_of(runtime->reset(id)) == hr::VM_E_VM_NOT_RUNNING);
    auto paused_at = runtime->query(id).value();
    BOOST_TEST((paused_at.state == vsa::control::RunState::Paused));
    auto before = counters(vm);
    std::this_thread::sleep_for(1500ms); // 27 ticks of host time
    BOOST_TEST(counters(vm).size() == before.size());
    BOOST_TEST(runtime->query(id).value().instructions == paused_at.instructions);
    BOOST_REQUIRE_MESSAGE(runtime->resume(id).has_value(), "resume");
    BOOST_TEST((state(id) == VmState::Running));
    wait_for_counting(vm);
    auto after = counters(vm);
    auto const& last_paused = before.back();
    auto const& first_resumed = after[before.size()];
    BOOST_TEST(first_resumed.count == last_paused.count + 1);
    BOOST_TEST(first_resumed.ticks - last_paused.ticks < 10u,
               "ticks jumped from " << last_paused.ticks << " to " << first_resumed.ticks);

    // Reset: the BIOS boots the disk again; the counter restarts.
    // (The reset may cut a line short: count the banners in the text.)
    auto boots = [&] {
        std::size_t count = 0;
        for (auto const& line : serial(vm))
            if (line.find("VSA-COUNTER-BOOT") != std::string::npos) ++count;
        return count;
    };
    auto boots_before = boots();
    run(runtime->reset(id));
    BOOST_TEST((state(id) == VmState::Running));
    BOOST_REQUIRE(wait_until([&] { return boots() == boots_before + 1; }, 60s));
    wait_for_counting(vm);
    auto since_reset = counters(vm);
    BOOST_TEST(since_reset.back().count < after.back().count + 20);

    // Save: the worker writes <name>.vsv and exits; the VM is Saved.
    run(runtime->save(id));
    BOOST_TEST((state(id) == VmState::Saved));
    BOOST_TEST(fs::exists(vm.saved_state_file()));
    BOOST_TEST(runtime->worker_pid(id) == -1);
    BOOST_TEST(code_of(runtime->pause(id)) == hr::E_FAIL);
    BOOST_TEST(code_of(runtime->save(id)) == hr::VM_E_VM_NOT_RUNNING);
    auto const saved_log = counters(vm);
    auto const at_save = saved_log.back();

    // Startup restores: the counter goes on from the saved value, and the
    // used saved state is gone.
    run(runtime->startup(id));
    BOOST_TEST((state(id) == VmState::Running));
    BOOST_TEST(!fs::exists(vm.saved_state_file()));
    wait_for_counting(vm);
    // The log goes on in the same file: the first line after the saved ones
    // continues the count. (Searching for the saved count from the start
    // could find the same number before the reset, followed by the reset's 1.)
    auto restored = counters(vm);
    std::size_t const index = saved_log.size() - 1;
    BOOST_REQUIRE(index + 1 < restored.size());
    BOOST_TEST(restored[index].count == at_save.count);
    BOOST_TEST(restored[index + 1].count == at_save.count + 1);
    BOOST_TEST(restored.back().count > at_save.count);

    // Save while paused works too, and the restored VM runs (not paused).
    BOOST_REQUIRE(runtime->pause(id).has_value());
    run(runtime->save(id));
    BOOST_TEST((state(id) == VmState::Saved));
    BOOST_REQUIRE(runtime->discard_saved_state(id).has_value());
    BOOST_TEST((state(id) == VmState::TurnedOff));
    BOOST_TEST(!fs::exists(vm.saved_state_file()));
    BOOST_TEST(code_of(runtime->discard_saved_state(id)) == hr::VM_E_VM_NO_SAVED_STATE);

    // A fresh boot, then TurnOff.
    run(runtime->startup(id));
    wait_for_counting(vm, 1);
    auto pid = runtime->worker_pid(id);
    BOOST_TEST(process_exists(pid));
    run(runtime->turn_off(id));
    BOOST_TEST((state(id) == VmState::TurnedOff));
    BOOST_TEST(!process_exists(pid));
    BOOST_TEST(!fs::exists(vm.saved_state_file()));
    // Everything above was asked for: only the notices of the reset and of
    // the turn-off (IVMVirtualMachineEvents OnReset, OnRequestShutdown).
    std::lock_guard lock(events_mutex);
    BOOST_REQUIRE(events.size() == 2u);
    BOOST_TEST((events[0].first == VmEvent::Reset));
    BOOST_TEST((events[1].first == VmEvent::ShutdownRequested));
    BOOST_TEST(events[1].second == "turn off");
}

BOOST_FIXTURE_TEST_CASE(a_killed_worker_is_noticed, Fixture) {
    auto vm = make_vm("victim");
    auto id = vm.config_id();
    run(runtime->startup(id));
    wait_for_counting(vm, 1);
    auto pid = runtime->worker_pid(id);
    BOOST_REQUIRE(pid > 0);
    BOOST_REQUIRE(::kill(pid, SIGKILL) == 0);
    BOOST_REQUIRE(wait_until([&] { return state(id) == VmState::TurnedOff; }, 30s));
    BOOST_TEST(runtime->worker_pid(id) == -1);
    BOOST_TEST(runtime->running_count() == 0u);
    {
        std::lock_guard lock(events_mutex);
        BOOST_REQUIRE(events.size() == 1u);
        BOOST_TEST((events[0].first == VmEvent::WorkerDied));
        BOOST_TEST(events[0].second.find("signal 9") != std::string::npos, events[0].second);
    }
    // The VM is usable again.
    run(runtime->startup(id));
    BOOST_TEST((state(id) == VmState::Running));
    run(runtime->turn_off(id));
}

BOOST_FIXTURE_TEST_CASE(a_damaged_saved_state_is_refused, Fixture) {
    auto vm = make_vm("damaged");
    auto id = vm.config_id();
    run(runtime->startup(id));
    wait_for_counting(vm, 1);
    run(runtime->save(id));
    {
        std::fstream file(vm.saved_state_file(), std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(100);
        file.put('\x5A');
    }
    auto begun = runtime->startup(id);
    BOOST_REQUIRE(begun.has_value());
    auto done = begun.value()->wait_for(60s);
    BOOST_TEST(code_of(done) == hr::VM_E_PREF_UNLOADABLE_ACTIVATION);
    BOOST_TEST(done.error().message.find("checksum") != std::string::npos, done.error().message);
    // The task says so too (IVMTask.Result, IVMTask2.Error), and stays 0 %.
    BOOST_TEST((begun.value()->result() == TaskResult::IncompatibleSavedStateError));
    BOOST_TEST(begun.value()->error().value == hr::VM_E_PREF_UNLOADABLE_ACTIVATION.value);
    BOOST_TEST(begun.value()->percent_completed() == 0);
    // The file stays: the administrator decides (DiscardSavedState).
    BOOST_TEST((state(id) == VmState::Saved));
    BOOST_TEST(fs::exists(vm.saved_state_file()));
    BOOST_REQUIRE(runtime->discard_saved_state(id).has_value());
    BOOST_TEST((state(id) == VmState::TurnedOff));
}

// A worker is untrusted: garbage on the control socket is logged and
// dropped, a worker that dies before it starts fails the Startup cleanly,
// and a missing binary is an error, never a crash.
BOOST_FIXTURE_TEST_CASE(a_bad_worker_fails_startup_cleanly, Fixture) {
    auto vm = make_vm("impostor");
    auto id = vm.config_id();
    auto script = root / "fake-vsa-vm";
    {
        std::ofstream out(script);
        out << "#!/bin/sh\n"
               "printf 'reply x ok\\nevent bogus\\nevent started with\\001junk\\n\\000\\377\\n' >&3\n"
               "head -c 5000 /dev/zero | tr '\\0' 'A' >&3\n"
               "printf '\\nevent error the disk is on fire\\n' >&3\n"
               "exit 9\n";
    }
    fs::permissions(script, fs::perms::owner_all);
    for (auto const& binary : {script, root / "missing-vsa-vm"}) {
        VmRuntimeOptions options;
        options.worker_binary = binary;
        options.log = [](std::string const& line) { BOOST_TEST_MESSAGE("runtime: " << line); };
        VmRuntime fake(*inventory, tasks, options);
        auto begun = fake.startup(id);
        BOOST_REQUIRE(begun.has_value());
        auto done = begun.value()->wait_for(30s);
        BOOST_TEST(code_of(done) == hr::E_FAIL);
        BOOST_TEST((begun.value()->result() == TaskResult::UnexpectedError));
        BOOST_TEST(begun.value()->error_description() == done.error().message);
        if (binary == script)
            BOOST_TEST(done.error().message.find("the disk is on fire") != std::string::npos,
                       done.error().message);
        else
            BOOST_TEST(done.error().message.find("exit status 127") != std::string::npos,
                       done.error().message);
        BOOST_TEST((state(id) == VmState::TurnedOff));
        BOOST_TEST(fake.running_count() == 0u);
    }
}

BOOST_FIXTURE_TEST_CASE(shutdown_saves_or_turns_off, Fixture) {
    auto saved = make_vm("keeps-state");
    auto off = make_vm("powers-off");
    BOOST_REQUIRE(inventory
                      ->update_virtual_machine(
                          off.config_id(),
                          [](VirtualMachine& v) { return v.set_shutdown_action(ShutdownAction::TurnOff); })
                      .has_value());
    run(runtime->startup(saved.config_id()));
    run(runtime->startup(off.config_id()));
    BOOST_REQUIRE(runtime->pause(off.config_id()).has_value()); // a paused VM is turned off too
    wait_for_counting(saved, 1);
    auto pids =
        std::vector<pid_t>{runtime->worker_pid(saved.config_id()), runtime->worker_pid(off.config_id())};
    runtime->shutdown();
    BOOST_TEST((state(saved.config_id()) == VmState::Saved));
    BOOST_TEST(fs::exists(saved.saved_state_file()));
    BOOST_TEST((state(off.config_id()) == VmState::TurnedOff));
    for (auto pid : pids)
        BOOST_TEST(!process_exists(pid));
    BOOST_TEST(code_of(runtime->startup(off.config_id())) == hr::VM_E_APP_SHUTTING_DOWN);
}

BOOST_FIXTURE_TEST_CASE(display_guest_accounting_and_media, Fixture) {
    auto vm = make_vm("watched");
    auto id = vm.config_id();
    BusLocation cd{DriveBusType::Ide, 1, 0};
    BOOST_REQUIRE(
        inventory->update_virtual_machine(id, [&](VirtualMachine& v) { return v.add_dvd_drive(cd); })
            .has_value());
    auto iso = vm.folder() / "data.iso";
    auto missing = vm.folder() / "missing.iso";
    std::ofstream(iso) << std::string(64 * 2048, '\0');

    // Off: no screen, no guest; the accountant reads zeros.
    BOOST_TEST(code_of(runtime->screen_info(id)) == hr::VM_E_VM_NOT_RUNNING);
    BOOST_TEST(code_of(runtime->screenshot(id, 0, 0)) == hr::VM_E_VM_NOT_RUNNING);
    BOOST_TEST(code_of(runtime->guest_activity(id)) == hr::VM_E_VM_NOT_RUNNING);
    BOOST_TEST(code_of(runtime->shutdown_guest(id)) == hr::VM_E_VM_NOT_RUNNING);
    auto off = runtime->accounting(id);
    BOOST_REQUIRE(off.has_value());
    BOOST_TEST(!off.value().running);
    BOOST_TEST(off.value().uptime_seconds == 0);

    run(runtime->startup(id));
    wait_for_counting(vm, 2);

    // The screen: SeaBIOS leaves mode 3 text, 80x25 cells of 9x16 dots.
    auto info = runtime->screen_info(id);
    BOOST_REQUIRE_MESSAGE(info.has_value(), why(info));
    BOOST_TEST(info.value().width == 720u);
    BOOST_TEST(info.value().height == 400u);
    BOOST_TEST((info.value().mode == vsa::control::VideoMode::Text));
    auto shot = runtime->screenshot(id, 0, 0);
    BOOST_REQUIRE_MESSAGE(shot.has_value(), why(shot));
    auto image = vsa::decode_png(shot.value().png);
    BOOST_REQUIRE(image.has_value());
    BOOST_TEST(image.value().width == 720u);
    BOOST_TEST(image.value().height == 400u);
    // SeaBIOS's boot messages: some pixels are not the black background.
    BOOST_TEST(
        std::any_of(image.value().pixels.begin(), image.value().pixels.end(), [](auto p) { return p != 0; }));
    auto small = runtime->screenshot(id, 64, 48);
    BOOST_REQUIRE_MESSAGE(small.has_value(), why(small));
    BOOST_TEST(vsa::decode_png(small.value().png).value().width == 64u);
    BOOST_TEST(code_of(runtime->screenshot(id, 0, 48)) == hr::E_INVALIDARG);
    BOOST_TEST(code_of(runtime->screenshot(id, 5000, 48)) == hr::E_INVALIDARG);
    auto thumbnail = runtime->thumbnail(id);
    BOOST_REQUIRE_MESSAGE(thumbnail.has_value(), why(thumbnail));
    BOOST_TEST(thumbnail.value().size() == 64u * 48u);

    // The counter halts between timer ticks, so it heartbeats.
    BOOST_TEST(wait_until([&] { return runtime->guest_activity(id).value().heartbeating; }, 10s));
    BOOST_TEST(runtime->guest_activity(id).value().heartbeat_percentage > 0);
    BOOST_TEST(wait_until([&] { return runtime->accounting(id).value().uptime_seconds >= 1; }, 10s));
    auto counts = runtime->accounting(id).value();
    BOOST_TEST(counts.running);
    BOOST_TEST(counts.cpu_percent >= 0);
    BOOST_TEST(counts.cpu_percent <= 100);

    // Paused: no heartbeat, no guest shutdown.
    BOOST_REQUIRE(runtime->pause(id).has_value());
    BOOST_TEST(wait_until([&] { return !runtime->guest_activity(id).value().heartbeating; }, 10s));
    BOOST_TEST(code_of(runtime->shutdown_guest(id)).value == 0xA0040507u); // VM_E_VM_PAUSED
    BOOST_REQUIRE(runtime->resume(id).has_value());

    // DVD media reach the running worker's drive, then the .vmc.
    auto dvd = [&] { return *inventory->virtual_machine(id).value().dvd_drive_at(cd).value(); };
    BOOST_REQUIRE_MESSAGE(runtime->attach_dvd_image(id, cd, iso).has_value(), "attach");
    BOOST_TEST(dvd().image_file() == iso.string());
    BOOST_TEST(code_of(runtime->attach_dvd_image(id, cd, iso)) == hr::VM_E_DRIVE_IN_USE);
    BOOST_REQUIRE(runtime->release_dvd_image(id, cd).has_value());
    BOOST_TEST((dvd().attachment() == DvdAttachment::None));
    // An image the worker cannot open: its words, and the .vmc unchanged.
    auto refused = runtime->attach_dvd_image(id, cd, missing);
    BOOST_TEST(code_of(refused) == hr::E_FAIL);
    BOOST_TEST(refused.error().message.find("missing.iso") != std::string::npos, refused.error().message);
    BOOST_TEST((dvd().attachment() == DvdAttachment::None));

    // The counter has no ACPI: the power button is ignored, the task times
    // out and the VM runs on.
    auto shutdown = runtime->shutdown_guest(id);
    BOOST_REQUIRE_MESSAGE(shutdown.has_value(), why(shutdown));
    BOOST_TEST(code_of(runtime->shutdown_guest(id)) == hr::E_FAIL);
    BOOST_TEST(shutdown.value()->wait_until_complete(20s));
    BOOST_TEST(shutdown.value()->error().value == hr::VM_E_TIMED_OUT.value);
    BOOST_TEST((state(id) == VmState::Running));
    run(runtime->turn_off(id));
    BOOST_TEST(!runtime->accounting(id).value().running);
    // Stopped: the .vmc only.
    BOOST_TEST(runtime->attach_dvd_image(id, cd, iso).has_value());
    BOOST_TEST(dvd().image_file() == iso.string());
}

BOOST_AUTO_TEST_SUITE_END()
