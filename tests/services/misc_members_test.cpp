// SPDX-License-Identifier: GPL-2.0-or-later
// Area "misc" of issue 11, the pure parts: floppy image type by size,
// creating floppy images (sizes, path policy, existing files), the
// AttachedDriveTypes layout, support drivers read from a fake host tree,
// host drive links (format, detection, what they may point at) and
// administrator-named host drives.
#include "services/drive_types.h"
#include "services/floppy_images.h"
#include "services/host_info.h"
#include "services/storage/disk_image.h"
#include "services/storage/host_drive_link.h"
#include "services/storage/raw_image.h"
#include "services/support_drivers.h"
#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace vsa::services;

namespace {

void write_file(fs::path const& path, std::string const& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

void write_sized(fs::path const& path, std::uintmax_t bytes) {
    write_file(path, "");
    fs::resize_file(path, bytes);
}

} // namespace

BOOST_AUTO_TEST_SUITE(misc_members)

BOOST_AUTO_TEST_CASE(floppy_type_by_size) {
    BOOST_TEST((floppy_image_type_for_size(737'280) == FloppyImageType::LowDensity));
    BOOST_TEST((floppy_image_type_for_size(1'474'560) == FloppyImageType::HighDensity));
    BOOST_TEST((floppy_image_type_for_size(1'720'320) == FloppyImageType::Dmf));
    BOOST_TEST((floppy_image_type_for_size(368'640) == FloppyImageType::LowDensitySingleSided));
    BOOST_TEST((floppy_image_type_for_size(1'228'800) == FloppyImageType::MediumDensity));
    BOOST_TEST((floppy_image_type_for_size(1'884'160) == FloppyImageType::HighDensityMss));
    BOOST_TEST((floppy_image_type_for_size(2'949'120) == FloppyImageType::Unknown));
    for (std::uint64_t bytes : {0ull, 1ull, 512ull, 737'279ull, 737'281ull, 1'474'561ull, 10'000'000ull})
        BOOST_TEST(!floppy_image_type_for_size(bytes).has_value(), bytes);
    BOOST_TEST((creatable_floppy_image_size(1) == 737'280u));
    BOOST_TEST((creatable_floppy_image_size(2) == 1'474'560u));
    for (std::int32_t type : {-1, 0, 3, 4, 5, 6, 7, 1000})
        BOOST_TEST(!creatable_floppy_image_size(type).has_value(), type);
}

BOOST_AUTO_TEST_CASE(create_floppy_images) {
    vsa::test::TempDir dir;
    PathPolicy policy({dir.path()});
    auto made = create_floppy_image(policy, dir.file("new/a.vfd"), 2);
    BOOST_REQUIRE(made.has_value());
    BOOST_TEST(fs::file_size(made.value()) == 1'474'560u);
    // Blank and usable as floppy media by the storage layer the worker uses.
    BOOST_TEST(vsa::storage::open_floppy_image(made.value().string(), false).has_value());
    std::ifstream in(made.value(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    BOOST_TEST(bytes.find_first_not_of('\0') == std::string::npos);
    BOOST_TEST((floppy_image_type(policy, made.value().string()).value() == FloppyImageType::HighDensity));

    auto low = create_floppy_image(policy, dir.file("low.flp"), 1);
    BOOST_REQUIRE(low.has_value());
    BOOST_TEST((floppy_image_type(policy, dir.file("low.flp")).value() == FloppyImageType::LowDensity));

    auto again = create_floppy_image(policy, dir.file("new/a.vfd"), 1);
    BOOST_TEST((again.error().code == hr::E_ALREADY_EXISTS));
    BOOST_TEST(fs::file_size(dir.file("new/a.vfd")) == 1'474'560u); // untouched
    BOOST_TEST((create_floppy_image(policy, dir.file("dmf.vfd"), 3).error().code == hr::E_INVALIDARG));
    BOOST_TEST(!fs::exists(dir.file("dmf.vfd")));
    BOOST_TEST((create_floppy_image(policy, "relative.vfd", 2).error().code == hr::E_BAD_PATHNAME));
    BOOST_TEST((create_floppy_image(policy, "", 2).error().code == hr::E_BAD_PATHNAME));
    BOOST_TEST((create_floppy_image(policy, "/etc/evil.vfd", 2).error().code == hr::E_ACCESSDENIED));
    BOOST_TEST((create_floppy_image(policy, dir.file("x/../y.vfd"), 2).error().code == hr::E_ACCESSDENIED));
    // A dangling symlink inside the root is refused, not followed.
    fs::create_symlink("/tmp/vsa-misc-nowhere.vfd", dir.path() / "link.vfd");
    BOOST_TEST(create_floppy_image(policy, dir.file("link.vfd"), 2).has_value() == false);
    BOOST_TEST(!fs::exists("/tmp/vsa-misc-nowhere.vfd"));
}

BOOST_AUTO_TEST_CASE(floppy_type_errors) {
    vsa::test::TempDir dir;
    PathPolicy policy({dir.path()});
    BOOST_TEST((floppy_image_type(policy, dir.file("none.vfd")).error().code == hr::E_FILE_NOT_FOUND));
    BOOST_TEST(
        (floppy_image_type(policy, dir.file("nofolder/none.vfd")).error().code == hr::E_PATH_NOT_FOUND));
    write_sized(dir.path() / "odd.vfd", 1000);
    auto odd = floppy_image_type(policy, dir.file("odd.vfd"));
    BOOST_TEST(odd.error().code.value == 0x80020009u); // DISP_E_EXCEPTION: not a floppy image
    BOOST_TEST(odd.error().message.find("1000 bytes") != std::string::npos);
    fs::create_directories(dir.path() / "folder.vfd");
    BOOST_TEST(floppy_image_type(policy, dir.file("folder.vfd")).error().code.value == 0x80020009u);
    write_sized(dir.path() / "big.img", 2'949'120);
    BOOST_TEST((floppy_image_type(policy, dir.file("big.img")).value() == FloppyImageType::Unknown));
    BOOST_TEST((floppy_image_type(policy, "/etc/passwd").error().code == hr::E_ACCESSDENIED));
}

BOOST_AUTO_TEST_CASE(drive_type_layout) {
    BOOST_TEST(DRIVE_TYPE_BYTES == 56u);
    BOOST_TEST(drive_type_index({DriveBusType::Ide, 0, 0}).value() == 0u);
    BOOST_TEST(drive_type_index({DriveBusType::Ide, 1, 1}).value() == 8u);   // (0*4+1)*7+1
    BOOST_TEST(drive_type_index({DriveBusType::Scsi, 0, 0}).value() == 28u); // (1*4+0)*7
    BOOST_TEST(drive_type_index({DriveBusType::Scsi, 3, 6}).value() == 55u);
    BOOST_TEST(!drive_type_index({DriveBusType::Scsi, 4, 0}).has_value());
    BOOST_TEST(!drive_type_index({DriveBusType::Ide, 0, 7}).has_value());
    BOOST_TEST(!drive_type_index({DriveBusType::Ide, -1, 0}).has_value());
    BOOST_TEST(!drive_type_index({static_cast<DriveBusType>(-1), 0, 0}).has_value());

    std::vector<std::pair<BusLocation, DriveType>> drives{
        {{DriveBusType::Ide, 0, 0}, DriveType::HardDisk},
        {{DriveBusType::Ide, 1, 0}, DriveType::Dvd},
        {{DriveBusType::Ide, 9, 9}, DriveType::HardDisk}, // outside: left out
    };
    auto types = attached_drive_types(drives);
    BOOST_TEST(types[0] == 1);
    BOOST_TEST(types[7] == 2);
    int set = 0;
    for (auto t : types)
        set += t != 0;
    BOOST_TEST(set == 2);
}

BOOST_AUTO_TEST_CASE(support_drivers_from_a_host_tree) {
    vsa::test::TempDir dir;
    fs::path const root = dir.path();
    // kvm and bridge built in (sysfs), kvm_intel installed as a .ko, tun
    // seen through its misc device; no kvm_amd anywhere.
    fs::create_directories(root / "sys/module/kvm");
    fs::create_directories(root / "sys/module/bridge");
    write_file(root / "sys/module/bridge/version", "2.3\n");
    fs::create_directories(root / "sys/class/misc/tun");
    fs::path const mods = root / "lib/modules/6.1.0-18-amd64";
    write_file(mods / "modules.dep", "kernel/arch/x86/kvm/kvm-intel.ko.xz: kernel/arch/x86/kvm/kvm.ko.xz\n");
    write_file(mods / "kernel/arch/x86/kvm/kvm-intel.ko.xz", "x");
    fs::last_write_time(mods / "kernel/arch/x86/kvm/kvm-intel.ko.xz",
                        fs::file_time_type::clock::now() - std::chrono::hours(24 * 400));
    std::string modinfo = std::string("tun.description=Universal TUN/TAP device driver") + '\0' +
                          "tun.author=Max Krasnyansky" + '\0' + "kvm.license=GPL" + '\0';
    write_file(mods / "modules.builtin.modinfo", modinfo);
    write_file(root / "boot/vmlinuz-6.1.0-18-amd64", "kernel");

    auto drivers = support_drivers(root, "6.1.0-18-amd64");
    std::vector<std::string> names;
    for (auto const& d : drivers)
        names.push_back(d.module);
    BOOST_TEST(names == (std::vector<std::string>{"kvm", "kvm_intel", "tun", "bridge"}),
               boost::test_tools::per_element());
    BOOST_TEST(int(drivers[0].type) == 0);
    BOOST_TEST(int(drivers[1].type) == 0);
    BOOST_TEST(int(drivers[2].type) == 1);
    BOOST_TEST(int(drivers[3].type) == 1);
    BOOST_TEST(drivers[2].description == "Universal TUN/TAP device driver");
    BOOST_TEST(drivers[2].manufacturer == "Max Krasnyansky");
    BOOST_TEST(drivers[0].manufacturer == "The Linux kernel developers");
    BOOST_TEST(drivers[0].description.find("VMM") != std::string::npos);
    BOOST_TEST(drivers[3].version == "2.3");
    BOOST_TEST(drivers[0].version == "6.1.0.0");
    BOOST_TEST(drivers[0].provider == "Linux 6.1.0-18-amd64");
    // Dates: the .ko's own (400 days ago) differs from the kernel image's (now).
    BOOST_TEST(drivers[1].date.size() == 10u);
    BOOST_TEST(drivers[0].date.size() == 10u);
    BOOST_TEST(drivers[1].date != drivers[0].date);

    // A host with none of them lists none.
    vsa::test::TempDir empty;
    BOOST_TEST(support_drivers(empty.path(), "6.1.0").empty());
}

BOOST_AUTO_TEST_CASE(kernel_release_as_version_quad) {
    BOOST_TEST(kernel_version_quad("6.1.0-18-amd64") == "6.1.0.0");
    BOOST_TEST(kernel_version_quad("6.18.44-fc-v595") == "6.18.44.0");
    BOOST_TEST(kernel_version_quad("5.10") == "5.10.0.0");
    BOOST_TEST(kernel_version_quad("") == "0.0.0.0");
    BOOST_TEST(kernel_version_quad("1.2.3.4.5") == "1.2.3.4");
}

BOOST_AUTO_TEST_CASE(host_drive_link_format) {
    using namespace vsa::storage;
    auto text = host_drive_link_text({"/dev/sdb", true});
    BOOST_TEST(text == "VSA-HOST-DRIVE-LINK 1\ndevice=/dev/sdb\nread_only=true\n");
    auto parsed = parse_host_drive_link(text);
    BOOST_REQUIRE(parsed.has_value());
    BOOST_TEST(parsed.value().device == "/dev/sdb");
    BOOST_TEST(parsed.value().read_only);
    BOOST_TEST(parse_host_drive_link("VSA-HOST-DRIVE-LINK 1\ndevice=/dev/sdb\n").value().read_only == false);
    for (std::string bad :
         {"", "VSA-HOST-DRIVE-LINK 2\ndevice=/dev/sdb\n", "VSA-HOST-DRIVE-LINK 1\n",
          "VSA-HOST-DRIVE-LINK 1\ndevice=/etc/passwd\n", "VSA-HOST-DRIVE-LINK 1\ndevice=/dev/../etc/shadow\n",
          "VSA-HOST-DRIVE-LINK 1\ndevice=/dev/sdb", // unterminated
          "VSA-HOST-DRIVE-LINK 1\ndevice=/dev/sdb\ndevice=/dev/sdc\n",
          "VSA-HOST-DRIVE-LINK 1\ndevice=/dev/sdb\nextra=1\n", "VSA-HOST-DRIVE-LINK 1\ndevice=/dev/s b\n"})
        BOOST_TEST(parse_host_drive_link(bad).is_error(), bad);
}

BOOST_AUTO_TEST_CASE(host_drive_link_detection) {
    using namespace vsa::storage;
    vsa::test::TempDir dir;
    std::string const link = dir.file("linked.vhd");
    BOOST_REQUIRE(write_host_drive_link(link, {"/dev/null", false}).has_value());
    BOOST_TEST(write_host_drive_link(link, {"/dev/null", false}).is_error()); // never over a file
    BOOST_TEST(is_host_drive_link(link));
    BOOST_TEST((detect_image_format(link).value() == ImageFormat::HostDrive));
    // /dev/null is a character device: refused as a disk.
    auto opened = open_disk_image(link, true);
    BOOST_REQUIRE(opened.is_error());
    BOOST_TEST((opened.error().kind == StorageErrorKind::WrongType));
    // The same text in a raw image (what a guest could write) is a raw disk.
    write_file(dir.path() / "guest.img", host_drive_link_text({"/dev/sda", false}));
    BOOST_TEST(!is_host_drive_link(dir.file("guest.img")));
    BOOST_TEST((detect_image_format(dir.file("guest.img")).value() == ImageFormat::Raw));
    // A bigger cookie-less .vhd starting with the magic is no link.
    std::string big = host_drive_link_text({"/dev/sda", false});
    big.resize(HOST_DRIVE_LINK_MAX_BYTES + 1, '\n');
    write_file(dir.path() / "big.vhd", big);
    BOOST_TEST(!is_host_drive_link(dir.file("big.vhd")));
    BOOST_TEST(detect_image_format(dir.file("big.vhd")).is_error());
    BOOST_TEST(read_host_drive_link(dir.file("guest.img")).is_error());
    BOOST_TEST(host_drive_size(dir.file("guest.img")).is_error()); // a regular file, not a device
    BOOST_TEST((host_drive_size("/dev/no-such-device").error().kind == StorageErrorKind::NotFound));
}

BOOST_AUTO_TEST_CASE(configured_host_drives) {
    vsa::test::TempDir dir;
    write_file(dir.path() / "sys/block/sda/size", "2048\n");
    write_file(dir.path() / "sys/block/loop7/size", "4096\n");
    write_file(dir.path() / "sys/block/loop8/size", "4096\n");
    HostProbe probe(dir.path(), {});
    BOOST_TEST(probe.read().host_drives == (std::vector<std::string>{"/dev/sda"}),
               boost::test_tools::per_element());
    BOOST_TEST((probe.host_drive_size_mb("/dev/loop7").error().code == hr::VM_E_HOST_DRIVE_NOT_FOUND));
    probe.set_configured_drives({"/dev/loop7", "/dev/loop9"}); // loop9 is not there
    BOOST_TEST(probe.read().host_drives == (std::vector<std::string>{"/dev/sda", "/dev/loop7"}),
               boost::test_tools::per_element());
    BOOST_TEST(probe.host_drive_size_mb("/dev/loop7").value() == 2);
    BOOST_TEST((probe.host_drive_size_mb("/dev/loop9").error().code == hr::VM_E_HOST_DRIVE_NOT_FOUND));
    BOOST_TEST((probe.host_drive_size_mb("/dev/loop8").error().code == hr::VM_E_HOST_DRIVE_NOT_FOUND));
}

BOOST_AUTO_TEST_SUITE_END()
