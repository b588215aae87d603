// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/hresult.h"
#include "services/virtual_server.h"

#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <regex>
#include <set>

using namespace vsa::services;

BOOST_AUTO_TEST_SUITE(virtual_server)

BOOST_AUTO_TEST_CASE(identity_is_drawn_once_and_kept) {
    vsa::test::TempDir dir;
    auto first = VirtualServer::open({dir.path() / "data", "/"});
    BOOST_REQUIRE(first.has_value());
    auto id = first.value()->product_id();
    BOOST_TEST(std::regex_match(id, std::regex(R"(\d{5}(-\d{5}){3})")), id);
    auto again = VirtualServer::open({dir.path() / "data", "/"});
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(again.value()->product_id() == id);
    vsa::test::TempDir other;
    BOOST_TEST(VirtualServer::open({other.path(), "/"}).value()->product_id() != id);
}

BOOST_AUTO_TEST_CASE(a_corrupt_identity_file_is_refused_with_its_name) {
    vsa::test::TempDir dir;
    std::ofstream(dir.path() / "server.id") << "not-an-id\n";
    auto opened = VirtualServer::open({dir.path(), "/"});
    BOOST_REQUIRE(opened.is_error());
    BOOST_TEST(opened.error().message.find("server.id") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(version_has_virtual_servers_shape) {
    vsa::test::TempDir dir;
    auto server = VirtualServer::open({dir.path(), "/"}).release_value();
    BOOST_TEST(std::regex_match(server->version(), std::regex(R"(\d+\.\d+\.\d{3}\.\d+ EE)")),
               server->version());
    BOOST_TEST(!server->name().empty());
    BOOST_TEST(server->uptime_seconds() >= 0);
    BOOST_TEST(server->uptime_seconds() < 5);
}

BOOST_AUTO_TEST_CASE(suggested_memory_stays_within_the_vm_limits) {
    vsa::test::TempDir dir;
    auto server = VirtualServer::open({dir.path(), "/"}).release_value();
    auto suggested = server->suggested_maximum_memory_mb();
    BOOST_TEST(suggested >= VmLimits::MIN_MEMORY_MB);
    BOOST_TEST(suggested <= VmLimits::MAX_MEMORY_MB);
    // A fake host with 1 GiB free: 1024 - 512 reserved.
    std::filesystem::create_directories(dir.path() / "host" / "proc");
    std::ofstream(dir.path() / "host" / "proc" / "meminfo")
        << "MemTotal: 2097152 kB\nMemAvailable: 1048576 kB\n";
    auto fake = VirtualServer::open({dir.path() / "data2", dir.path() / "host"}).release_value();
    BOOST_TEST(fake->suggested_maximum_memory_mb() == 512);
}

BOOST_AUTO_TEST_CASE(hresult_table_is_complete_and_unique) {
    std::set<std::uint32_t> values;
    std::set<std::string_view> names;
    std::size_t vm_codes = 0;
    for (auto const& info : hresult_table()) {
        BOOST_TEST(values.insert(info.value).second, info.name);
        BOOST_TEST(names.insert(info.name).second, info.name);
        BOOST_TEST(!info.meaning.empty());
        if (info.name.starts_with("VM_E_")) {
            ++vm_codes;
            BOOST_TEST((info.value & 0xFFFF'0000u) == 0xA004'0000u, info.name);
        }
    }
    BOOST_TEST(vm_codes == 70u); // section 5 of the reference lists 70
    BOOST_TEST(find_hresult(hr::VM_E_VM_UNKNOWN)->name == "VM_E_VM_UNKNOWN");
    BOOST_TEST(find_hresult(HResult{0x1234'5678}) == nullptr);
    BOOST_TEST(service_error(hr::E_INVALIDARG, "").is_client_error());
    BOOST_TEST(!service_error(hr::E_FAIL, "").is_client_error());
}

BOOST_AUTO_TEST_SUITE_END()
