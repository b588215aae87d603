// SPDX-License-Identifier: GPL-2.0-or-later
// Whole-machine saved state (.vsv): the file format on its own (checksums,
// page maps, identity messages, bounds), then the assembled PC booting the
// nasm test disk under SeaBIOS, saved mid-run and restored into a fresh
// machine, which must finish exactly as a machine that was never stopped.
// Bad files (cut, flipped, hostile with a valid checksum, another
// configuration) must fail with the machine left as it was.
#include "hw/ata_disk.h"
#include "hw/piix3_ide.h"
#include "hypervisor/machine/machine_state.h"
#include "hypervisor/machine/pc_machine.h"
#include "test_programs.h" // generated: build/tests/progs
#include "tests/hw/hw_test_support.h"
#include "tests/hw/memory_block_device_support.h"
#include "tests/machine/machine_test_support.h"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

using namespace vsa;
using namespace vsa::test;
namespace fs = std::filesystem;

namespace {

// A scratch directory, removed with everything in it.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "vsa-vsv-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()));
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(std::string const& name) const { return (path / name).string(); }
};

std::vector<u8> read_bytes(std::string const& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<u8>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(std::string const& path, std::vector<u8> const& data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<char const*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// The trailer CRC over everything before it, recomputed after an edit: a
// hostile file, not a damaged one.
void reseal(std::vector<u8>& file) {
    u32 crc = vsa::crc32(std::span(file.data(), file.size() - 4));
    std::memcpy(file.data() + file.size() - 4, &crc, 4);
}

// Where the device block's stored pages are in a .vsv (format in
// machine_state.h): the first (the machine, chipset and ISA devices) and
// the last (the CPU, after the VGA's VRAM).
struct DeviceBlock {
    std::size_t first_page{0};
    std::size_t first_size{0};
    std::size_t last_page{0};
    std::size_t last_size{0};
};
DeviceBlock device_block(std::vector<u8> const& file) {
    u64 length = 0;
    std::memcpy(&length, file.data() + 96, 8);
    u64 pages = (length + 4095) / 4096;
    std::size_t bitmap = 104;
    std::size_t at = bitmap + (pages + 7) / 8;
    DeviceBlock block;
    bool first = true;
    for (u64 p = 0; p < pages; ++p) {
        if (!(file[bitmap + p / 8] & (1u << (p % 8)))) continue;
        std::size_t size = std::min<u64>(4096, length - p * 4096);
        if (first) block.first_page = at, block.first_size = size, first = false;
        block.last_page = at;
        block.last_size = size;
        at += size;
    }
    return block;
}

// A Result's error for a message, or "" (error() on a value aborts, and a
// check's message is built even when the check passes).
template <typename R>
std::string error_of(R const& result) {
    return result.is_error() ? result.error() : std::string();
}

PcMachineConfig boot_config(SharedBackend& serial, SharedBackend& debugcon) {
    PcMachineConfig config;
    config.ram_bytes = 32 * MiB;
    config.disks = {VSA_PROG_BOOT_DISK};
    config.disks_read_only = true;
    config.clock_mode = Clock::Mode::Deterministic;
    config.rtc_start = 1'700'000'000;
    config.com1 = &serial;
    config.debugcon = &debugcon;
    return config;
}

// Runs to virtual time `at` and stops there through request_save() (a
// timer on the machine's own clock: the same instruction every time).
void run_to_save_point(PcMachine& machine, u64 at) {
    Timer trigger(machine.clock(), [&] { machine.request_save(); });
    trigger.arm_at(at);
    MachineExit exit = run_with_limit(machine);
    BOOST_REQUIRE_MESSAGE(exit == MachineExit::SaveRequested, "the guest ended before the save point");
}

struct Outcome {
    MachineExit exit{MachineExit::Stopped};
    u64 instructions{0};
    std::string serial, debugcon, screen;
};

std::string describe(Outcome const& o) {
    return "exit " + std::to_string(static_cast<int>(o.exit)) + ", " + std::to_string(o.instructions) +
           " instructions, serial tail: " +
           o.serial.substr(o.serial.size() > 200 ? o.serial.size() - 200 : 0);
}

} // namespace

BOOST_AUTO_TEST_SUITE(machine_state)

BOOST_AUTO_TEST_CASE(checksum_and_hash_vectors) {
    std::string check = "123456789";
    auto bytes = std::span(reinterpret_cast<u8 const*>(check.data()), check.size());
    BOOST_TEST(vsa::crc32(bytes) == 0xCBF4'3926u);
    // Incremental over any split equals one pass (the writer streams).
    BOOST_TEST(vsa::crc32(bytes.subspan(5), vsa::crc32(bytes.first(5))) == 0xCBF4'3926u);
    BOOST_TEST(vsa::crc32({}) == 0u);
    BOOST_TEST(fnv1a64({}) == FNV1A_OFFSET);
    BOOST_TEST(fnv1a64(bytes.first(1)) == 0xAF63'AC4C'8601'9AFCull); // "1"
}

BOOST_AUTO_TEST_CASE(identity_mismatch_names_the_field) {
    MachineIdentity here;
    here.ram_bytes = 64 * MiB;
    here.bios_size = 256 * KiB;
    here.bios_hash = 1;
    here.vgabios_size = 38 * KiB;
    here.vgabios_hash = 2;
    here.disk_bytes[0] = 1'000'000'000;
    BOOST_TEST(check_identity(here, here).has_value());
    auto message = [&](auto edit) {
        MachineIdentity saved = here;
        edit(saved);
        auto r = check_identity(saved, here);
        return r.is_error() ? r.error() : std::string();
    };
    std::string m = message([](auto& s) { s.ram_bytes = 128 * MiB; });
    BOOST_TEST(m.find("RAM size") != std::string::npos, m);
    BOOST_TEST(m.find("128 MiB") != std::string::npos, m);
    BOOST_TEST(m.find("64 MiB") != std::string::npos, m);
    m = message([](auto& s) { s.bios_hash = 3; });
    BOOST_TEST(m.find("system BIOS") != std::string::npos, m);
    m = message([](auto& s) { s.vgabios_size = 0, s.vgabios_hash = 0; });
    BOOST_TEST(m.find("VGA BIOS") != std::string::npos, m);
    m = message([](auto& s) { s.fw_cfg_files_hash = 9; });
    BOOST_TEST(m.find("fw_cfg") != std::string::npos, m);
    m = message([](auto& s) { s.disk_bytes[1] = 512; });
    BOOST_TEST(m.find("disk count") != std::string::npos, m);
    m = message([](auto& s) { s.disk_bytes[0] = 512; });
    BOOST_TEST(m.find("disk 1 (primary master) size") != std::string::npos, m);
    m = message([](auto& s) { s.disk_bytes[0] = 0, s.disk_bytes[2] = 1'000'000'000; });
    BOOST_TEST(m.find("disk 1 (primary master)") != std::string::npos, m);
}

// The file layer alone: zero pages cost a bit, odd lengths survive, a cut
// or flipped file fails before anything is believed, limits hold.
BOOST_AUTO_TEST_CASE(file_round_trip_and_damage) {
    TempDir dir;
    std::mt19937 rng(11);
    MachineIdentity id;
    id.ram_bytes = 1 * MiB;
    id.bios_size = 64 * KiB;
    id.disk_bytes[0] = 10 * MiB;
    std::vector<u8> ram(id.ram_bytes, 0);
    for (std::size_t page : {0u, 1u, 7u, 100u, 255u})
        for (std::size_t i = 0; i < 4096; i += 1 + rng() % 64)
            ram[page * 4096 + i] = static_cast<u8>(1 + rng() % 255);
    std::vector<u8> devices(3 * 4096 + 123, 0); // a short last page
    for (std::size_t i = 0; i < 200; ++i)
        devices[i] = static_cast<u8>(rng());
    devices.back() = 0x5A;

    std::string path = dir.file("a.vsv");
    BOOST_REQUIRE(write_saved_state(path, id, devices, ram).has_value());
    auto file = read_bytes(path);
    BOOST_TEST(file.size() < 6 * 4096 + 1024); // 5 RAM pages + 2 device pages + maps
    unsigned entries = 0;
    for ([[maybe_unused]] auto const& e : fs::directory_iterator(dir.path))
        ++entries;
    BOOST_TEST(entries == 1u); // no temporary file left behind

    auto loaded = SavedStateFile::read(path, id, devices.size());
    BOOST_REQUIRE_MESSAGE(loaded.has_value(), error_of(loaded));
    BOOST_TEST(loaded.value().device_state() == devices);
    std::vector<u8> restored(ram.size(), 0xEE); // stale contents must be zeroed
    loaded.value().copy_ram(restored);
    BOOST_TEST(restored == ram);
    std::vector<u8> zeroed(ram.size(), 0); // the caller vouches for the zeros
    loaded.value().copy_ram(zeroed, true);
    BOOST_TEST(zeroed == ram);

    // Bounds: the device stream larger than this machine's, another RAM size.
    auto small = SavedStateFile::read(path, id, devices.size() - 1);
    BOOST_TEST(small.is_error());
    MachineIdentity bigger = id;
    bigger.ram_bytes = 2 * MiB;
    auto other = SavedStateFile::read(path, bigger, devices.size());
    BOOST_REQUIRE(other.is_error());
    BOOST_TEST(other.error().find("RAM size") != std::string::npos, other.error());

    // Every cut and many flips fail, with a message.
    for (std::size_t cut = 0; cut < file.size(); cut += 1 + (cut < 200 ? 0 : rng() % 97)) {
        auto r = SavedStateFile::parse(std::vector<u8>(file.begin(), file.begin() + cut), id, devices.size());
        BOOST_REQUIRE(r.is_error());
        BOOST_TEST(!r.error().empty());
    }
    for (int round = 0; round < 500; ++round) {
        auto bad = file;
        bad[rng() % bad.size()] ^= static_cast<u8>(1u << (rng() % 8));
        BOOST_TEST(SavedStateFile::parse(bad, id, devices.size()).is_error());
    }
    auto grown = file;
    grown.push_back(0);
    BOOST_TEST(SavedStateFile::parse(grown, id, devices.size()).is_error());
    // Hostile, resealed: every structural edit of the maps is still caught
    // or yields a consistent file; nothing reads out of bounds (ASan).
    for (int round = 0; round < 500; ++round) {
        auto bad = file;
        std::size_t at = 96 + rng() % std::min<std::size_t>(bad.size() - 100, 2 * 4096);
        bad[at] = static_cast<u8>(rng());
        reseal(bad);
        auto r = SavedStateFile::parse(bad, id, devices.size());
        if (r.has_value()) {
            std::vector<u8> out(id.ram_bytes);
            r.value().copy_ram(out);
        }
    }
    // Not a .vsv, or a future format.
    BOOST_TEST(SavedStateFile::parse({'h', 'e', 'l', 'l', 'o'}, id, 100).error().find("magic") !=
               std::string::npos);
    auto future = file;
    future[6] = 2;
    reseal(future);
    BOOST_TEST(SavedStateFile::parse(future, id, devices.size()).error().find("version") !=
               std::string::npos);
    // Oversized files are refused before they are read.
    auto huge = SavedStateFile::read(path, id, 0);
    BOOST_TEST(huge.is_error());
    // A directory that does not exist: an error naming the path.
    auto nowhere = write_saved_state(dir.file("missing/x.vsv"), id, devices, ram);
    BOOST_REQUIRE(nowhere.is_error());
    BOOST_TEST(nowhere.error().find("missing/x.vsv") != std::string::npos, nowhere.error());
}

// The item: the boot disk under SeaBIOS stopped at save points
// (early in SeaBIOS, half-way, in the boot program), and a chain of fresh
// machines each restored from the last one's file, which must finish
// exactly as a machine that only paused at the same points: both then run
// the same CPU slices, and deterministic time makes the rest identical to
// the instruction. Also: saving changes nothing (the chain's files equal
// the reference's), save -> restore -> save is byte-identical, and a
// machine that already ran to its end can be restored over.
BOOST_AUTO_TEST_CASE(boot_saved_mid_run_resumes_identically) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    TempDir dir;
    // The length of the whole run, for save points inside it.
    u64 total_ns = 0;
    {
        SharedBackend serial, debugcon;
        auto machine = make_machine(boot_config(serial, debugcon));
        BOOST_REQUIRE((run_with_limit(*machine) == MachineExit::PoweredOff));
        total_ns = machine->clock().now();
    }
    BOOST_TEST_MESSAGE("the boot takes " << total_ns / 1'000'000 << " ms of virtual time");
    std::vector<u64> points;
    for (double fraction : {0.05, 0.5, 0.93})
        points.push_back(static_cast<u64>(static_cast<double>(total_ns) * fraction));

    // Reference: pauses at every point, saves there, runs on.
    struct Point {
        std::string file;
        u64 now;
        std::size_t serial, debugcon; // output lengths so far
    };
    std::vector<Point> saved;
    SharedBackend ref_serial, ref_debugcon;
    auto ref = make_machine(boot_config(ref_serial, ref_debugcon));
    for (std::size_t i = 0; i < points.size(); ++i) {
        run_to_save_point(*ref, points[i]);
        Point p{dir.file("ref" + std::to_string(i) + ".vsv"), ref->clock().now(), ref_serial.text().size(),
                ref_debugcon.text().size()};
        auto r = ref->save_state(p.file);
        BOOST_REQUIRE_MESSAGE(r.has_value(), error_of(r));
        saved.push_back(p);
    }
    Outcome expected;
    expected.exit = run_with_limit(*ref);
    expected.instructions = ref->instructions_retired();
    expected.serial = ref_serial.text();
    expected.debugcon = ref_debugcon.text();
    expected.screen = ref->text_screen();
    BOOST_TEST((expected.exit == MachineExit::PoweredOff));
    BOOST_TEST(expected.serial.find("VSA-BOOT-OK") != std::string::npos);
    BOOST_TEST(saved[0].serial < saved[2].serial); // the points are apart in the guest's output
    BOOST_TEST_MESSAGE(".vsv of the 32 MiB machine: " << fs::file_size(saved[1].file) << " bytes");

    // The chain: a fresh machine per point, restored from the previous
    // machine's file (the first from the reference's), run to the next
    // point and saved there, then thrown away.
    Outcome got;
    got.serial = expected.serial.substr(0, saved[0].serial);
    got.debugcon = expected.debugcon.substr(0, saved[0].debugcon);
    std::string from = saved[0].file;
    for (std::size_t i = 0; i < points.size(); ++i) {
        BOOST_TEST_CONTEXT("restored at point " << i << " (" << saved[i].now << " ns)") {
            SharedBackend serial, debugcon;
            auto machine = make_machine(boot_config(serial, debugcon));
            auto restored = machine->restore_state(from);
            BOOST_REQUIRE_MESSAGE(restored.has_value(), error_of(restored));
            BOOST_TEST(machine->clock().now() == saved[i].now);
            std::string again = dir.file("again.vsv");
            BOOST_REQUIRE(machine->save_state(again).has_value());
            BOOST_TEST((read_bytes(again) == read_bytes(from))); // save -> restore -> save
            if (i + 1 < points.size()) {
                run_to_save_point(*machine, points[i + 1]);
                from = dir.file("chain" + std::to_string(i + 1) + ".vsv");
                BOOST_REQUIRE(machine->save_state(from).has_value());
                BOOST_TEST((read_bytes(from) == read_bytes(saved[i + 1].file))); // saving changed nothing
            } else {
                got.exit = run_with_limit(*machine);
                got.instructions = machine->instructions_retired();
                got.screen = machine->text_screen();
            }
            got.serial += serial.text();
            got.debugcon += debugcon.text();
        }
    }
    BOOST_TEST((got.exit == expected.exit), describe(got) << " vs " << describe(expected));
    BOOST_TEST(got.instructions == expected.instructions);
    BOOST_TEST(got.serial == expected.serial);
    BOOST_TEST(got.debugcon == expected.debugcon);
    BOOST_TEST(got.screen == expected.screen);

    // Restored over the reference machine, which already ran to its end:
    // the same ending again (every RAM page, register and timer replaced).
    auto over = ref->restore_state(saved[2].file);
    BOOST_REQUIRE_MESSAGE(over.has_value(), error_of(over));
    BOOST_TEST((run_with_limit(*ref) == MachineExit::PoweredOff));
    BOOST_TEST(ref->instructions_retired() == expected.instructions);
    BOOST_TEST(ref_serial.text().substr(expected.serial.size()) == expected.serial.substr(saved[2].serial));
    BOOST_TEST(ref->text_screen() == expected.screen);
}

// Cut, flipped and hostile files, and files of another configuration: the
// restore fails with a message and the machine is exactly as it was (its
// own saved state is byte-identical before and after, and the state is all
// of it: the previous test shows a restored machine runs on identically).
BOOST_AUTO_TEST_CASE(bad_files_leave_the_machine_unchanged) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    TempDir dir;
    std::mt19937 rng(5);
    // A state from early in the boot, and the victim machine further on.
    SharedBackend s2, d2;
    auto victim = make_machine(boot_config(s2, d2));
    std::string good_path = dir.file("good.vsv");
    run_to_save_point(*victim, 60'000'000);
    BOOST_REQUIRE(victim->save_state(good_path).has_value());
    auto const good = read_bytes(good_path);
    run_to_save_point(*victim, 150'000'000);
    std::string before_path = dir.file("before.vsv");
    BOOST_REQUIRE(victim->save_state(before_path).has_value());
    auto const before = read_bytes(before_path);
    std::string bad_path = dir.file("bad.vsv");
    std::string after_path = dir.file("after.vsv");
    auto unchanged = [&] {
        BOOST_REQUIRE(victim->save_state(after_path).has_value());
        return read_bytes(after_path) == before;
    };

    unsigned cuts = 0;
    for (std::size_t cut = 0; cut < good.size(); cut += 1 + rng() % (good.size() / 20)) {
        write_bytes(bad_path, std::vector<u8>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
        auto r = victim->restore_state(bad_path);
        BOOST_REQUIRE(r.is_error());
        BOOST_TEST(!r.error().empty());
        ++cuts;
    }
    BOOST_TEST(unchanged());
    for (int round = 0; round < 20; ++round) {
        auto bad = good;
        bad[rng() % bad.size()] ^= static_cast<u8>(1u << (rng() % 8));
        write_bytes(bad_path, bad);
        auto r = victim->restore_state(bad_path);
        BOOST_REQUIRE(r.is_error());
        BOOST_TEST(r.error().find("checksum") != std::string::npos, r.error());
    }
    BOOST_TEST(unchanged());
    BOOST_TEST_MESSAGE(cuts << " cuts and 20 flips refused");

    // Hostile: valid checksum, edited device stream (the machine, chipset
    // and ISA devices, and the CPU). Refused streams must leave no trace; an
    // accepted one (a flipped value bit can be a valid state) is replaced
    // by `before` again.
    DeviceBlock block = device_block(good);
    unsigned refused = 0, accepted = 0;
    for (int round = 0; round < 90; ++round) {
        auto bad = good;
        bool cpu = round % 2;
        std::size_t base = cpu ? block.last_page : block.first_page;
        std::size_t size = cpu ? block.last_size : block.first_size;
        std::size_t at = base + rng() % size;
        if (round % 3 == 0)
            bad[at] = static_cast<u8>(rng());
        else
            bad[at] ^= static_cast<u8>(1u << (rng() % 8));
        reseal(bad);
        write_bytes(bad_path, bad);
        auto r = victim->restore_state(bad_path);
        if (r.is_error()) {
            ++refused;
            BOOST_TEST(unchanged(), "after: " << r.error());
        } else {
            ++accepted;
            auto back = victim->restore_state(before_path);
            BOOST_REQUIRE_MESSAGE(back.has_value(), error_of(back));
            BOOST_TEST(unchanged());
        }
    }
    BOOST_TEST_MESSAGE("hostile device streams: " << refused << " refused, " << accepted << " accepted");
    BOOST_TEST(refused > 25u);

    // Another configuration: refused by name.
    {
        SharedBackend s, d;
        auto config = boot_config(s, d);
        config.ram_bytes = 64 * MiB;
        auto bigger = make_machine(config);
        auto r = bigger->restore_state(good_path);
        BOOST_REQUIRE(r.is_error());
        BOOST_TEST(r.error().find("RAM size") != std::string::npos, r.error());
        BOOST_TEST(r.error().find("32 MiB") != std::string::npos, r.error());
        config = boot_config(s, d);
        config.disks.clear();
        auto diskless = make_machine(config);
        r = diskless->restore_state(good_path);
        BOOST_REQUIRE(r.is_error());
        BOOST_TEST(r.error().find("disk count") != std::string::npos, r.error());
        config = boot_config(s, d);
        config.vgabios_path.clear();
        auto no_vgabios = make_machine(config);
        r = no_vgabios->restore_state(good_path);
        BOOST_REQUIRE(r.is_error());
        BOOST_TEST(r.error().find("VGA BIOS") != std::string::npos, r.error());
        r = victim->restore_state(dir.file("does-not-exist.vsv"));
        BOOST_REQUIRE(r.is_error());
        BOOST_TEST(r.error().find("does-not-exist.vsv") != std::string::npos, r.error());
    }
    BOOST_TEST(unchanged());

    // And the victim still runs to its end.
    BOOST_TEST((run_with_limit(*victim) == MachineExit::PoweredOff));
    BOOST_TEST(s2.text().find("VSA-BOOT-OK") != std::string::npos);
}

// RealTime machines resume at the saved virtual time, not the host's.
BOOST_AUTO_TEST_CASE(real_time_clock_resumes_at_the_saved_time) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    TempDir dir;
    SharedBackend s, d;
    auto config = boot_config(s, d);
    config.clock_mode = Clock::Mode::RealTime;
    auto machine = make_machine(config);
    std::thread saver([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        machine->request_save();
    });
    MachineExit exit = run_with_limit(*machine);
    saver.join();
    BOOST_REQUIRE((exit == MachineExit::SaveRequested));
    u64 saved_at = machine->clock().now();
    std::string path = dir.file("rt.vsv");
    BOOST_REQUIRE(machine->save_state(path).has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto fresh = make_machine(config);
    auto r = fresh->restore_state(path);
    BOOST_REQUIRE_MESSAGE(r.has_value(), error_of(r));
    u64 now = fresh->clock().now();
    BOOST_TEST(now >= saved_at);
    BOOST_TEST(now < saved_at + 150'000'000u); // the 200 ms between are not guest time
    BOOST_TEST((run_with_limit(*fresh) == MachineExit::PoweredOff));
    BOOST_TEST(s.text().find("VSA-BOOT-OK") != std::string::npos);
}

// Network adapters (version 5 of the machine walk): their state goes with
// the machine, and a state saved with NICs only loads into a machine with
// as many.
BOOST_AUTO_TEST_CASE(nics_are_saved_and_their_count_must_match) {
    if (!seabios_present()) {
        BOOST_TEST_MESSAGE("SKIP: /usr/share/seabios/bios.bin is not installed");
        return;
    }
    TempDir dir;
    SharedBackend s, d;
    auto config = boot_config(s, d);
    config.nics = {{{0x00, 0x03, 0xFF, 0, 0, 1}, nullptr}, {{0x00, 0x03, 0xFF, 0, 0, 2}, nullptr}};
    auto machine = make_machine(config);
    run_to_save_point(*machine, 20'000'000);
    machine->set_nic_link(1, false);
    // Stopped receivers take nothing; there is no NIC 2.
    std::vector<u8> frame(64, 0xFF);
    BOOST_TEST(!machine->receive_frame(0, frame));
    BOOST_TEST(!machine->receive_frame(2, frame));
    std::string path = dir.file("nics.vsv");
    BOOST_REQUIRE(machine->save_state(path).has_value());
    auto same = make_machine(config);
    auto r = same->restore_state(path);
    BOOST_REQUIRE_MESSAGE(r.has_value(), error_of(r));
    BOOST_TEST((run_with_limit(*same) == MachineExit::PoweredOff));
    BOOST_TEST(s.text().find("VSA-BOOT-OK") != std::string::npos);
    auto fewer_config = config;
    fewer_config.nics.pop_back();
    auto fewer = make_machine(fewer_config);
    auto refused = fewer->restore_state(path);
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(refused.error().find("network adapters") != std::string::npos, refused.error());
    config.nics.resize(5);
    BOOST_TEST(PcMachine::create(config).is_error());
}

// PIIX3 IDE: re-driving a channel's IRQ line at load is not a new rising
// edge, so a bus-master IRQ status bit the driver cleared while the line
// was high stays clear (hw/piix3_ide.cpp post_load).
BOOST_AUTO_TEST_CASE(ide_post_load_keeps_the_cleared_irq_status_bit) {
    struct Rig {
        test::FakeIrqLine irq14, irq15;
        IoBus io;
        std::unique_ptr<MemoryMap> memory = MemoryMap::create(16 * MiB).release_value();
        PciBus bus{io, *memory};
        test::MemoryBlockDevice disk{4096};
        AtaDisk drive{disk, "P0"};
        Piix3Ide ide{irq14, irq15, *memory};
        Rig() {
            BOOST_REQUIRE(io.map(PciBus::CONFIG_ADDRESS, 8, bus));
            BOOST_REQUIRE(bus.attach(1, 1, ide));
            ide.channel(0).attach(0, &drive);
            ide.reset();
            BOOST_REQUIRE(ide.map_ports(io));
        }
        void cfg_write(u8 reg, u32 value) {
            io.write(0xCF8, Width::Dword, 0x8000'0000u | (1u << 11) | (1u << 8) | reg);
            io.write(0xCFC, Width::Dword, value);
        }
    };
    Rig a;
    a.cfg_write(0x20, 0xC000); // bus master BAR
    a.cfg_write(0x04, 0x0005); // I/O decode, bus master
    a.io.write(0x1F6, Width::Byte, 0xA0);
    a.io.write(0x1F7, Width::Byte, 0xEC); // IDENTIFY: data ready, IRQ 14 up
    BOOST_REQUIRE(a.irq14.level());
    BOOST_REQUIRE(a.io.read(0xC002, Width::Byte) & 0x04);
    a.io.write(0xC002, Width::Byte, 0x04); // the driver acknowledges the bit
    BOOST_REQUIRE(!(a.io.read(0xC002, Width::Byte) & 0x04));
    BOOST_REQUIRE(a.irq14.level());

    Rig b;
    auto bytes = test::save_state(a.ide);
    auto loader = StateVisitor::loader(bytes);
    b.ide.visit_state(loader);
    BOOST_REQUIRE_MESSAGE(loader.ok(), loader.error());
    b.ide.post_load();
    BOOST_TEST(b.irq14.level());
    BOOST_TEST(!(b.io.read(0xC002, Width::Byte) & 0x04));
    BOOST_TEST((test::save_state(b.ide) == bytes));
}

BOOST_AUTO_TEST_SUITE_END()
