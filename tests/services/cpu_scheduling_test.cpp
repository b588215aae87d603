// SPDX-License-Identifier: GPL-2.0-or-later
// CPU scheduling (services/model/scheduling.h, services/worker/
// cpu_cgroup.h): the ranges SetSchedulingParameters accepts, the mappings
// of RelativeWeight onto cpu.weight and of MaximumSystemCapacity onto
// cpu.max, the cgroup writer against a temporary directory laid out as
// cgroupfs would be, and the parameters' round trip through a .vmc.
#include "services/persist/vmc_file.h"
#include "services/worker/cpu_cgroup.h"

#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>
#include <vector>

using namespace vsa;
using namespace vsa::services;

namespace {

SchedulingParameters params(double reserved, double maximum, std::int32_t weight) {
    SchedulingParameters p;
    p.reserved_percent = reserved;
    p.maximum_percent = maximum;
    p.relative_weight = weight;
    return p;
}

bool valid(double reserved, double maximum, std::int32_t weight, unsigned processors) {
    return check_scheduling(params(reserved, maximum, weight), processors).has_value();
}

std::string slurp(std::filesystem::path const& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void put(std::filesystem::path const& file, std::string const& text) {
    std::ofstream(file) << text;
}

// What the kernel shows for a group whose parent enabled "cpu": the
// interface files exist (empty here).
void make_fake_group(std::filesystem::path const& dir) {
    std::filesystem::create_directories(dir);
    for (char const* name : {"cgroup.procs", "cpu.weight", "cpu.max", "cgroup.subtree_control"})
        put(dir / name, "");
    put(dir / "cgroup.controllers", "cpu io memory pids");
}

} // namespace

BOOST_AUTO_TEST_SUITE(cpu_scheduling)

BOOST_AUTO_TEST_CASE(ranges_follow_the_host_processor_count) {
    // One processor: 0-100 reserve, 1-100 cap.
    BOOST_TEST(valid(0, 100, 100, 1));
    BOOST_TEST(valid(100, 100, 1, 1));
    BOOST_TEST(!valid(0, 100.5, 100, 1));
    // Two: 50 each (the reference's example), four: 25.
    BOOST_TEST(valid(50, 50, 10'000, 2));
    BOOST_TEST(!valid(0, 50.01, 100, 2));
    BOOST_TEST(!valid(50.01, 50, 100, 2));
    BOOST_TEST(valid(25, 25, 100, 4));
    BOOST_TEST(!valid(0, 26, 100, 4));
    // 100 / 3 read back and sent again, or rounded, is still the limit.
    BOOST_TEST(valid(100.0 / 3, 100.0 / 3, 100, 3));
    BOOST_TEST(valid(0, 33.333333333333336, 100, 3));
    // Lower bounds, reserve <= cap, the weight, nonsense.
    BOOST_TEST(!valid(-0.1, 10, 100, 1));
    BOOST_TEST(!valid(0, 0.99, 100, 1));
    BOOST_TEST(valid(0, 1, 100, 1));
    BOOST_TEST(!valid(20, 10, 100, 1));
    BOOST_TEST(valid(10, 10, 100, 1));
    BOOST_TEST(!valid(0, 10, 0, 1));
    BOOST_TEST(!valid(0, 10, 10'001, 1));
    BOOST_TEST(!valid(std::nan(""), 10, 100, 1));
    BOOST_TEST(!valid(0, INFINITY, 100, 1));
    auto error = check_scheduling(params(20, 10, 100), 1);
    BOOST_REQUIRE(error.is_error());
    BOOST_TEST(error.error().code.value == hr::E_INVALIDARG.value);
    BOOST_TEST(error.error().message.find("exceeds maxSystemCapacity") != std::string::npos);
    // A never-set cap is a whole processor of whatever host.
    SchedulingParameters unset;
    BOOST_TEST(unset.maximum_on(4) == 25.0);
    BOOST_TEST(check_scheduling(unset, 4).has_value());
    // A cap set on a smaller host is clamped on a bigger one.
    BOOST_TEST(params(0, 100, 100).maximum_on(2) == 50.0);
}

BOOST_AUTO_TEST_CASE(weight_maps_onto_cpu_weight_unchanged) {
    BOOST_TEST(cgroup_cpu_weight(1) == 1u);
    BOOST_TEST(cgroup_cpu_weight(100) == 100u); // both defaults
    BOOST_TEST(cgroup_cpu_weight(10'000) == 10'000u);
    BOOST_TEST(cgroup_cpu_weight(0) == 1u);
    BOOST_TEST(cgroup_cpu_weight(50'000) == 10'000u);
}

BOOST_AUTO_TEST_CASE(cap_maps_onto_cpu_max_quota_and_period) {
    // p percent of n processors = p / 100 * n * period.
    BOOST_TEST(cgroup_cpu_max(30, 2).text() == "60000 100000");
    BOOST_TEST(cgroup_cpu_max(10, 4).text() == "40000 100000");
    BOOST_TEST(cgroup_cpu_max(12.5, 1).text() == "12500 100000");
    BOOST_TEST(cgroup_cpu_max(1, 1).text() == "1000 100000");
    BOOST_TEST(cgroup_cpu_max(1, 8).text() == "8000 100000");
    // The kernel's minimum quota.
    BOOST_TEST(cgroup_cpu_max(0.1, 1).text() == "1000 100000");
    // A whole processor (the default cap) or more: no cap.
    BOOST_TEST(cgroup_cpu_max(100, 1).text() == "max 100000");
    BOOST_TEST(cgroup_cpu_max(50, 2).text() == "max 100000");
    BOOST_TEST(cgroup_cpu_max(100.0 / 3, 3).text() == "max 100000");
    BOOST_TEST(!cgroup_cpu_max(25, 4).quota_us.has_value());
    // Another period scales the quota with it.
    BOOST_TEST(cgroup_cpu_max(30, 2, 50'000).text() == "30000 50000");
}

BOOST_AUTO_TEST_CASE(writer_places_a_worker_and_follows_changes) {
    test::TempDir dir;
    auto mount = dir.path();
    put(mount / "cgroup.controllers", "cpuset cpu io memory pids");
    put(mount / "cgroup.subtree_control", "");
    auto root = mount / "vsa";
    make_fake_group(root);
    auto vm = Guid::parse("0d2a7a5e-8b53-4f4e-9d59-5b0b0b8a6c01").value();
    make_fake_group(root / vm.to_string());

    std::vector<std::string> log;
    CpuCgroups cgroups(root, [&](std::string const& line) { log.push_back(line); });
    BOOST_TEST(cgroups.group_of(vm) == root / vm.to_string());
    auto placed = cgroups.place(vm, 4242, params(10, 30, 250), 2);
    BOOST_TEST(placed.has_value(), (placed.is_error() ? placed.error() : ""));
    BOOST_TEST(slurp(mount / "cgroup.subtree_control") == "+cpu");
    BOOST_TEST(slurp(root / "cgroup.subtree_control") == "+cpu");
    BOOST_TEST(slurp(root / vm.to_string() / "cgroup.procs") == "4242");
    BOOST_TEST(slurp(root / vm.to_string() / "cpu.weight") == "250");
    BOOST_TEST(slurp(root / vm.to_string() / "cpu.max") == "60000 100000");

    // Controllers already enabled are left alone.
    put(mount / "cgroup.subtree_control", "cpu memory");
    BOOST_TEST(cgroups.apply(vm, params(0, 50, 10'000), 2).has_value());
    BOOST_TEST(slurp(mount / "cgroup.subtree_control") == "cpu memory");
    BOOST_TEST(slurp(root / vm.to_string() / "cpu.weight") == "10000");
    BOOST_TEST(slurp(root / vm.to_string() / "cpu.max") == "max 100000");
    // A never-set cap is a whole processor: no cap.
    BOOST_TEST(cgroups.apply(vm, SchedulingParameters{}, 2).has_value());
    BOOST_TEST(slurp(root / vm.to_string() / "cpu.max") == "max 100000");
    BOOST_TEST(log.empty());

    // A VM whose group the "kernel" did not populate (no cpu.weight):
    // the reason, logged once.
    auto other = Guid::parse("0d2a7a5e-8b53-4f4e-9d59-5b0b0b8a6c02").value();
    auto failed = cgroups.place(other, 4343, params(0, 30, 100), 2);
    BOOST_REQUIRE(failed.is_error());
    BOOST_TEST(failed.error().find("cpu.weight") != std::string::npos);
    BOOST_TEST(cgroups.apply(other, params(0, 30, 100), 2).is_error());
    BOOST_TEST(log.size() == 1u);
}

BOOST_AUTO_TEST_CASE(writer_without_the_cpu_controller_says_why_once) {
    test::TempDir dir;
    auto mount = dir.path();
    put(mount / "cgroup.controllers", "hugetlb"); // cpu bound to cgroup v1, as on hybrid hosts
    put(mount / "cgroup.subtree_control", "");
    std::vector<std::string> log;
    CpuCgroups cgroups(mount / "vsa", [&](std::string const& line) { log.push_back(line); });
    auto vm = Guid::parse("0d2a7a5e-8b53-4f4e-9d59-5b0b0b8a6c03").value();
    for (int i = 0; i < 3; ++i) {
        auto placed = cgroups.place(vm, 4242, params(0, 30, 100), 2);
        BOOST_REQUIRE(placed.is_error());
        BOOST_TEST(placed.error().find("cpu controller is not available") != std::string::npos);
    }
    BOOST_TEST(log.size() == 1u);
    BOOST_TEST(!std::filesystem::exists(mount / "vsa")); // nothing made
    BOOST_TEST(slurp(mount / "cgroup.subtree_control").empty());

    // No cgroup2 at all.
    CpuCgroups none(
        {}, [&](std::string const& line) { log.push_back(line); }, "no cgroup2 file system");
    BOOST_TEST(none.place(vm, 1, params(0, 30, 100), 2).error() == "no cgroup2 file system");
    BOOST_TEST(log.size() == 2u);
}

BOOST_AUTO_TEST_CASE(default_root_is_under_the_cgroup2_mount) {
    test::TempDir dir;
    put(dir.path() / "mounts", "proc /proc proc rw 0 0\n"
                               "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
                               "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n");
    BOOST_TEST(CpuCgroups::default_root(dir.path() / "mounts").value() == "/sys/fs/cgroup/unified/vsa");
    put(dir.path() / "mounts", "proc /proc proc rw 0 0\n");
    BOOST_TEST(!CpuCgroups::default_root(dir.path() / "mounts").has_value());
}

BOOST_AUTO_TEST_CASE(parameters_round_trip_through_the_vmc) {
    test::TempDir dir;
    VirtualMachine vm("sched", dir.path() / "sched.vmc",
                      Guid::parse("0d2a7a5e-8b53-4f4e-9d59-5b0b0b8a6c04").value());
    // Never set: no cap in the file, read back as never set.
    auto text = persist::serialize_vmc(vm);
    BOOST_REQUIRE(text.has_value());
    auto read = persist::parse_vmc(text.value(), vm.file());
    BOOST_REQUIRE(read.has_value());
    BOOST_TEST((read.value().scheduling() == SchedulingParameters{}));

    BOOST_TEST(vm.set_scheduling(params(12.5, 100.0 / 3, 777), 3).has_value());
    BOOST_TEST(vm.set_scheduling(params(60, 50, 100), 2).is_error()); // unchanged
    text = persist::serialize_vmc(vm);
    BOOST_REQUIRE(text.has_value());
    BOOST_TEST(text.value().find("<relative_weight") != std::string::npos);
    read = persist::parse_vmc(text.value(), vm.file());
    BOOST_REQUIRE(read.has_value());
    BOOST_TEST((read.value().scheduling() == params(12.5, 100.0 / 3, 777))); // exact: shortest round trip
    BOOST_TEST(read.value().same_configuration(vm));

    // A file with nonsense in it does not load.
    auto bad = text.value();
    auto at = bad.find(">777<");
    BOOST_REQUIRE(at != std::string::npos);
    bad.replace(at, 5, ">0<");
    BOOST_TEST(persist::parse_vmc(bad, vm.file()).is_error());
}

BOOST_AUTO_TEST_SUITE_END()
