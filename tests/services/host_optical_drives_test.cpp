// SPDX-License-Identifier: GPL-2.0-or-later
// HostOpticalDrives: which host optical drives a DVD drive may capture (a
// fake /sys/class/block plus configured drives), ids versus paths, and
// has_media() on files and devices; HostFile::size() of a block device.
#include "services/host_optical_drives.h"
#include "services/storage/host_file.h"
#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace vsa::services;
using Drives = std::vector<HostOpticalDrive>;

namespace {

void write_text(fs::path const& path, std::string const& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

// sysfs as the kernel lays it out for the block devices named.
void fake_block_device(fs::path const& root, std::string const& name, std::string const& type) {
    fs::path const dir = root / "sys/class/block" / name;
    fs::create_directories(dir);
    if (!type.empty()) write_text(dir / "device/type", type + "\n");
}

} // namespace

BOOST_AUTO_TEST_SUITE(host_optical_drives)

BOOST_AUTO_TEST_CASE(discovered_cdrom_devices_then_configured_drives) {
    vsa::test::TempDir root;
    fake_block_device(root.path(), "sr0", "5");
    fake_block_device(root.path(), "sr10", "5");
    fake_block_device(root.path(), "sr2", "");  // no type file: the name decides
    fake_block_device(root.path(), "sr3", "0"); // a disk behind the sr driver? not a CD
    fake_block_device(root.path(), "vda", "0");
    fake_block_device(root.path(), "loop0", "");
    fake_block_device(root.path(), "srx", "5");
    fake_block_device(root.path(), "sr", "5");
    HostOpticalDrives drives(root.path(), {{"testcd", "/srv/iso/test.iso"}, {"sr10", "/dev/sr7"}});
    BOOST_TEST((drives.list() == Drives{{"sr0", "/dev/sr0"},
                                        {"sr2", "/dev/sr2"},
                                        {"testcd", "/srv/iso/test.iso"},
                                        {"sr10", "/dev/sr7"}}));
    BOOST_TEST((drives.ids() == std::vector<std::string>{"sr0", "sr2", "testcd", "sr10"}));
    BOOST_TEST(drives.find("sr0").value().device == "/dev/sr0");
    BOOST_TEST(drives.find("sr10").value().device == "/dev/sr7");
    // Only ids of the table; a path or another device is no id.
    for (auto id : {"sr3", "sr1", "/dev/sr0", "vda", "", "TESTCD", "../sr0"}) {
        auto found = drives.find(id);
        BOOST_REQUIRE(found.is_error());
        BOOST_TEST((found.error().code == hr::E_INVALIDARG), id);
    }
    BOOST_TEST(drives.find("nope").error().message.find("sr0, sr2, testcd, sr10") != std::string::npos);

    HostOpticalDrives configured_only(root.path(), {{"testcd", "/srv/iso/test.iso"}}, false);
    BOOST_TEST((configured_only.list() == Drives{{"testcd", "/srv/iso/test.iso"}}));
    HostOpticalDrives none(root.path() / "missing");
    BOOST_TEST(none.list().empty());
    BOOST_TEST(none.find("sr0").error().message.find("it has none") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(configured_entries_are_checked) {
    BOOST_TEST(!HostOpticalDrives::configuration_problem({"usb-dvd_2", "/dev/sr7"}));
    BOOST_TEST(!HostOpticalDrives::configuration_problem({"D", "/dev/sr0"}));
    for (auto const& bad : std::vector<HostOpticalDrive>{{"d", "/dev/sr0"},
                                                         {"a b", "/dev/sr0"},
                                                         {"", "/dev/sr0"},
                                                         {"x/y", "/dev/sr0"},
                                                         {"cd", "dev/sr0"},
                                                         {"cd", ""}})
        BOOST_TEST(HostOpticalDrives::configuration_problem(bad).has_value(),
                   bad.id + " = " + bad.device.string());
}

BOOST_AUTO_TEST_CASE(media_is_something_to_read) {
    vsa::test::TempDir dir;
    auto const iso = dir.path() / "disc.iso";
    std::ofstream(iso) << std::string(4096, 'x');
    auto const empty = dir.path() / "empty.iso";
    std::ofstream(empty) << "";
    auto const short_file = dir.path() / "short.iso";
    std::ofstream(short_file) << std::string(100, 'x');
    BOOST_TEST(HostOpticalDrives::has_media(iso));
    BOOST_TEST(!HostOpticalDrives::has_media(empty));
    BOOST_TEST(!HostOpticalDrives::has_media(short_file));
    BOOST_TEST(!HostOpticalDrives::has_media(dir.path() / "missing.iso"));
    BOOST_TEST(!HostOpticalDrives::has_media(dir.path()));
    BOOST_TEST(!HostOpticalDrives::has_media("/dev/null"));
    // A FIFO would block a plain open(); has_media must not.
    auto const fifo = dir.path() / "fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    BOOST_TEST(!HostOpticalDrives::has_media(fifo));
}

BOOST_AUTO_TEST_CASE(a_block_device_has_the_size_the_kernel_reports) {
    // Any readable block device will do; a host without one (or a
    // non-root run) has nothing to check here.
    std::error_code error;
    for (fs::directory_iterator it("/sys/class/block", error), end; !error && it != end;
         it.increment(error)) {
        std::string const name = it->path().filename().string();
        fs::path const device = fs::path("/dev") / name;
        struct stat st {};
        if (::stat(device.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) continue;
        auto file = vsa::storage::HostFile::open(device.string(), vsa::storage::HostFile::Mode::ReadOnly);
        if (file.is_error()) continue;
        std::ifstream sectors_file(it->path() / "size");
        std::uint64_t sectors = 0;
        if (!(sectors_file >> sectors)) continue;
        auto size = file.value().size();
        BOOST_REQUIRE(size.has_value());
        BOOST_TEST(size.value() == sectors * 512, name);
        BOOST_TEST(HostOpticalDrives::has_media(device) == (sectors * 512 >= 2048), name);
        BOOST_TEST_MESSAGE("checked the size of " << device << ": " << size.value() << " bytes");
        return;
    }
    BOOST_TEST_MESSAGE("no readable block device: nothing to check");
}

BOOST_AUTO_TEST_SUITE_END()
