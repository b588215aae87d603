// SPDX-License-Identifier: GPL-2.0-or-later
// HostProbe against fake proc/sys/etc trees with fixed text, so every parser is checked to the
// byte; then against garbage, special files and an empty root; then once on the real host.
#include "services/host_info.h"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace vsa::services;

namespace {

constexpr std::uint32_t HOST_DRIVE_NOT_FOUND = 0xA004'067E;

using Strings = std::vector<std::string>;

// A private directory under the system temp dir, removed with everything in it at the end.
class FakeRoot {
public:
    FakeRoot() {
        std::random_device random;
        do {
            m_path = fs::temp_directory_path() /
                     ("vsa-host-info-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
        } while (!fs::create_directories(m_path));
    }
    FakeRoot(FakeRoot const&) = delete;
    FakeRoot& operator=(FakeRoot const&) = delete;
    ~FakeRoot() {
        std::error_code error;
        fs::remove_all(m_path, error);
    }

    fs::path const& path() const { return m_path; }

    void write(std::string_view relative, std::string_view text) const {
        fs::path const file = m_path / relative;
        fs::create_directories(file.parent_path());
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        out.close();
        BOOST_REQUIRE(!out.fail());
    }

    void make_directory(std::string_view relative) const { fs::create_directories(m_path / relative); }

private:
    fs::path m_path;
};

constexpr std::string_view CPUINFO = "processor\t: 0\n"
                                     "vendor_id\t: GenuineIntel\n"
                                     "cpu family\t: 6\n"
                                     "model name\t: Intel(R) Xeon(R) CPU E5-2690 0 @ 2.90GHz\n"
                                     "cpu MHz\t\t: 2899.999\n"
                                     "physical id\t: 0\n"
                                     "flags\t\t: fpu vme de pse tsc mmx fxsr sse sse2 ht 3dnowprefetch\n"
                                     "\n"
                                     "processor\t: 1\n"
                                     "vendor_id\t: GenuineIntel\n"
                                     "model name\t: Intel(R) Xeon(R) CPU E5-2690 0 @ 2.90GHz\n"
                                     "cpu MHz\t\t: 1200.000\n"
                                     "physical id\t: 0\n"
                                     "flags\t\t: fpu vme de pse tsc mmx fxsr sse sse2 ht 3dnowprefetch\n"
                                     "\n"
                                     "processor\t: 2\n"
                                     "vendor_id\t: GenuineIntel\n"
                                     "physical id\t: 1\n"
                                     "\n"
                                     "processor\t: 3\n"
                                     "vendor_id\t: GenuineIntel\n"
                                     "physical id\t: 1\n";

// A host with every kind of device the probe knows about, and a few it must skip.
void build_full_host(FakeRoot const& root) {
    root.write("proc/cpuinfo", CPUINFO);
    root.write("proc/meminfo", "MemTotal:       16323412 kB\n"
                               "MemFree:            1000 kB\n"
                               "MemAvailable:    8123456 kB\n"
                               "Buffers:          123456 kB\n");
    root.write("etc/os-release", "# comment\n"
                                 "NAME=\"Debian GNU/Linux\"\n"
                                 "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                                 "VERSION_ID=\"12\"\n");
    root.write("proc/sys/kernel/osrelease", "6.1.0-21-amd64\n");
    root.write("proc/sys/kernel/ostype", "Linux\n");
    root.write("proc/sys/kernel/version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)\n");

    // sda: mounted through a partition. sdb: not mounted (sdb10 is somebody else's).
    // sdc: a partition is held by device-mapper. vda: a partition is swap. nvme0n1: the
    // kernel-mounted root, "/dev/root" in mounts. xvda: a whole-disk mount with an escape.
    // mmcblk0: unused, with a size too large for a long.
    root.write("sys/block/sda/size", "41943040\n");
    root.write("sys/block/sda/dev", "8:0\n");
    root.write("sys/block/sda/sda1/dev", "8:1\n");
    root.write("sys/block/sda/sda1/partition", "1\n");
    root.make_directory("sys/block/sda/holders");
    root.make_directory("sys/block/sda/sda1/holders");
    root.write("sys/block/sdb/size", "3907029168\n");
    root.write("sys/block/sdb/dev", "8:16\n");
    root.make_directory("sys/block/sdb/holders");
    root.write("sys/block/sdc/size", "2048\n");
    root.write("sys/block/sdc/sdc1/dev", "8:33\n");
    root.make_directory("sys/block/sdc/sdc1/holders/dm-0");
    root.write("sys/block/vda/size", "20971520\n");
    root.write("sys/block/vda/vda1/dev", "254:1\n");
    root.write("sys/block/vda/vda2/dev", "254:2\n");
    root.write("sys/block/nvme0n1/size", "1000215216\n");
    root.write("sys/block/nvme0n1/dev", "259:0\n");
    root.write("sys/block/nvme0n1/nvme0n1p1/dev", "259:1\n");
    root.make_directory("sys/block/xvda");
    root.write("sys/block/mmcblk0/size", "18446744073709551615\n");
    root.write("sys/block/mmcblk0/dev", "179:0\n");
    for (auto name : {"mmcblk0boot0", "nvme0c0n1", "sr0", "loop0", "fd0", "zram0", "dm-0", "ram0", "md0"})
        root.make_directory(std::string("sys/block/") + name);

    root.write("proc/self/mounts", "/dev/sda1 / ext4 rw,relatime 0 0\n"
                                   "proc /proc proc rw,nosuid 0 0\n"
                                   "/dev/sdb10 /mnt/other ext4 rw 0 0\n"
                                   "/dev/xvd\\141 /srv ext4 rw 0 0\n");
    root.write("proc/self/mountinfo", "22 1 259:1 / / rw,relatime - ext4 /dev/root rw\n"
                                      "23 22 0:21 / /proc rw,relatime - proc proc rw\n");
    root.write("proc/swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                             "/dev/vda2                               partition\t1048572\t\t0\t\t-2\n");

    for (auto name : {"lo", "eth0", "eth10", "eth2"})
        root.make_directory(std::string("sys/class/net/") + name);
    // Linux bridges have a "bridge" directory; "NAT" is reserved (left out).
    root.make_directory("sys/class/net/br10/bridge");
    root.make_directory("sys/class/net/br0/bridge");
    root.make_directory("sys/class/net/NAT");

    root.make_directory("sys/class/tty/ttyS0/device");
    root.write("sys/class/tty/ttyS0/type", "4\n");
    root.make_directory("sys/class/tty/ttyS1/device");
    root.write("sys/class/tty/ttyS1/type", "0\n");
    root.make_directory("sys/class/tty/ttyS2/device"); // no type file: trust the device link
    root.write("sys/class/tty/ttyS3/type", "4\n");     // no device link: not hardware
    root.make_directory("sys/class/tty/ttyS10");
    // Real sysfs links point into /sys/devices; only the link's presence matters.
    fs::create_directory_symlink("../../../devices/platform/serial8250",
                                 root.path() / "sys/class/tty/ttyS10/device");
    root.write("sys/class/tty/ttyS10/type", "4\n");
    root.make_directory("sys/class/tty/ttyUSB0/device");
    root.make_directory("sys/class/tty/tty0");
    root.make_directory("sys/class/tty/console");

    root.make_directory("sys/class/ppdev/parport1");
    root.make_directory("sys/class/ppdev/parport0");
}

std::uint32_t error_code(auto const& result) {
    return result.is_error() ? result.error().code.value : 0;
}

} // namespace

BOOST_AUTO_TEST_SUITE(host_info)

BOOST_AUTO_TEST_CASE(full_fake_host_reads_every_field) {
    FakeRoot root;
    build_full_host(root);
    HostInfo const info = HostProbe(root.path()).read();

    BOOST_TEST(info.dvd_drives == (Strings{"/dev/sr0"}));
    BOOST_TEST(info.floppy_drives == (Strings{"/dev/fd0"}));
    BOOST_TEST(info.host_drives == (Strings{"/dev/mmcblk0", "/dev/nvme0n1", "/dev/sda", "/dev/sdb",
                                            "/dev/sdc", "/dev/vda", "/dev/xvda"}));
    BOOST_TEST(info.logical_processor_count == 4);
    BOOST_TEST(info.physical_processor_count == 2);
    BOOST_TEST(info.memory_mb == 15940u);
    BOOST_TEST(info.memory_avail_mb == 7933u);
    BOOST_TEST(info.mmx);
    BOOST_TEST(info.sse);
    BOOST_TEST(info.sse2);
    BOOST_TEST(!info.three_d_now); // "3dnowprefetch" is not "3dnow"
    BOOST_TEST(info.network_adapters == (Strings{"NAT", "br0", "br10", "eth0", "eth2", "eth10"}));
    BOOST_TEST(info.network_bridges == (Strings{"br0", "br10"}));
    BOOST_TEST(info.network_addresses.empty()); // a fake root never asks getifaddrs()
    BOOST_TEST(info.operating_system == "Debian GNU/Linux 12 (bookworm)");
    BOOST_TEST(info.os_major_version == 6);
    BOOST_TEST(info.os_minor_version == 1);
    BOOST_TEST(info.os_service_pack == "21-amd64");
    BOOST_TEST(info.os_version == "Linux 6.1.0-21-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.90-1 (2024-05-03)");
    BOOST_TEST(info.parallel_port == "/dev/parport0");
    BOOST_TEST(info.processor_features == "fpu,vme,de,pse,tsc,mmx,fxsr,sse,sse2,ht,3dnowprefetch");
    BOOST_TEST(info.processor_manufacturer == "GenuineIntel");
    BOOST_TEST(info.processor_speed_mhz == 2900); // the first CPU's "cpu MHz", rounded
    BOOST_TEST(info.processor_version == "Intel(R) Xeon(R) CPU E5-2690 0 @ 2.90GHz");
    BOOST_TEST(info.serial_ports == "/dev/ttyS0;/dev/ttyS2;/dev/ttyS10");
}

BOOST_AUTO_TEST_CASE(host_drive_size_in_megabytes) {
    FakeRoot root;
    build_full_host(root);
    HostProbe const probe(root.path());

    BOOST_TEST(probe.host_drive_size_mb("/dev/sda").value() == 20480);
    BOOST_TEST(probe.host_drive_size_mb("/dev/sdb").value() == 1907729); // 1907729.09 rounded down
    BOOST_TEST(probe.host_drive_size_mb("/dev/sdc").value() == 1);
    BOOST_TEST(probe.host_drive_size_mb("/dev/vda").value() == 10240);
    BOOST_TEST(probe.host_drive_size_mb("/dev/nvme0n1").value() == 488386);
    BOOST_TEST(probe.host_drive_size_mb("/dev/mmcblk0").value() == std::numeric_limits<std::int32_t>::max());
    // Present but without a size: our failure, not the caller's.
    BOOST_TEST(error_code(probe.host_drive_size_mb("/dev/xvda")) == hr::E_FAIL.value);
}

BOOST_AUTO_TEST_CASE(host_drive_mounted_by_each_route) {
    FakeRoot root;
    build_full_host(root);
    HostProbe const probe(root.path());

    BOOST_TEST(probe.is_host_drive_mounted("/dev/sda").value());      // partition in mounts
    BOOST_TEST(!probe.is_host_drive_mounted("/dev/sdb").value());     // /dev/sdb10 is not sdb's
    BOOST_TEST(probe.is_host_drive_mounted("/dev/sdc").value());      // partition held by dm-0
    BOOST_TEST(probe.is_host_drive_mounted("/dev/vda").value());      // partition is swap
    BOOST_TEST(probe.is_host_drive_mounted("/dev/nvme0n1").value());  // mountinfo 259:1
    BOOST_TEST(probe.is_host_drive_mounted("/dev/xvda").value());     // "\141" decodes to 'a'
    BOOST_TEST(!probe.is_host_drive_mounted("/dev/mmcblk0").value()); // unused
}

BOOST_AUTO_TEST_CASE(unknown_and_malformed_drive_ids) {
    FakeRoot root;
    build_full_host(root);
    HostProbe const probe(root.path());

    // Well-formed but not a host drive: absent, or a device that is not a pass-through disk.
    for (std::string_view id : {"/dev/sdz", "/dev/sr0", "/dev/fd0", "/dev/loop0", "/dev/dm-0", "/dev/zram0",
                                "/dev/mmcblk0boot0", "/dev/nvme0c0n1", "/dev/sda1", "/dev/null"}) {
        BOOST_TEST_CONTEXT(id) {
            BOOST_TEST(error_code(probe.host_drive_size_mb(id)) == HOST_DRIVE_NOT_FOUND);
            BOOST_TEST(error_code(probe.is_host_drive_mounted(id)) == HOST_DRIVE_NOT_FOUND);
        }
    }
    std::string const too_long = "/dev/sd" + std::string(300, 'a');
    for (std::string_view id :
         {std::string_view(""), std::string_view("sda"), std::string_view("/dev/"), std::string_view("/dev"),
          std::string_view("/dev/sda/"), std::string_view("/dev/../dev/sda"), std::string_view("/dev/.."),
          std::string_view("/dev/."), std::string_view("/dev/sd..a"), std::string_view("/dev/sda\0", 9),
          std::string_view("/dev/sd a"), std::string_view("/sys/block/sda"),
          std::string_view("\\\\.\\PhysicalDrive0"), std::string_view(too_long)}) {
        BOOST_TEST_CONTEXT(std::string(id)) {
            BOOST_TEST(error_code(probe.host_drive_size_mb(id)) == hr::E_INVALIDARG.value);
            BOOST_TEST(error_code(probe.is_host_drive_mounted(id)) == hr::E_INVALIDARG.value);
        }
    }
}

BOOST_AUTO_TEST_CASE(empty_root_gives_an_empty_inventory) {
    FakeRoot root;
    HostProbe const probe(root.path());
    HostInfo const info = probe.read();
    // "NAT" needs nothing of the host; everything else is empty.
    HostInfo nat_only;
    nat_only.network_adapters = {"NAT"};
    BOOST_TEST((info == nat_only));
    BOOST_TEST(info.operating_system.empty());
    BOOST_TEST(info.logical_processor_count == 0);
    BOOST_TEST(info.physical_processor_count == 0);
    BOOST_TEST(error_code(probe.host_drive_size_mb("/dev/sda")) == HOST_DRIVE_NOT_FOUND);
    BOOST_TEST(error_code(probe.is_host_drive_mounted("/dev/sda")) == HOST_DRIVE_NOT_FOUND);

    HostProbe const missing(root.path() / "does-not-exist");
    BOOST_TEST((missing.read() == nat_only));
    BOOST_TEST(error_code(missing.is_host_drive_mounted("/dev/sda")) == HOST_DRIVE_NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(garbage_content_gives_empty_fields) {
    FakeRoot root;
    // A NUL inside a number: the kernel never writes one, a damaged file or a fake tree might.
    // NOLINTNEXTLINE(bugprone-string-literal-with-embedded-nul)
    static constexpr char meminfo[] = "MemTotal: banana kB\n"
                                      "MemAvailable: 99999999999999999999999 kB\n"
                                      "MemFree: 12\0x34 kB\n";
    root.write("proc/meminfo", std::string_view(meminfo, sizeof meminfo - 1));
    // Truncated in the middle of the flags line; "nan" is a double to from_chars, not a clock.
    root.write("proc/cpuinfo", "processor\t: 0\n"
                               "vendor_id\t: GenuineIntel\n"
                               "physical id\t: 0\n"
                               "cpu MHz\t\t: nan\n"
                               "model name\n"
                               "flags\t\t: fpu mmx ss");
    root.write("sys/devices/system/cpu/online", "3-1\n");
    root.write("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "fast\n");
    root.write("proc/sys/kernel/osrelease", "banana\n");
    root.write("proc/sys/kernel/ostype", "Linux");
    root.write("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12\n");
    root.write("sys/block/sda/size", "12abc\n");
    root.write("sys/block/sdb/size", "");
    root.write("sys/block/sdc/size", "-2048\n");
    root.write("proc/self/mounts", "\n   \n/dev/sdb\\\n/dev/sdb\\04\n\\");
    root.write("proc/swaps", "");
    root.write("proc/self/mountinfo", "1 2\n1 2 8:16");
    root.make_directory("sys/class/tty/ttyS0/device");
    root.write("sys/class/tty/ttyS0/type", "x\n");
    root.make_directory("sys/class/tty/ttyS1/device");
    root.write("sys/class/tty/ttyS1/type", "");

    HostProbe const probe(root.path());
    HostInfo const info = probe.read();
    BOOST_TEST(info.memory_mb == 0u);
    BOOST_TEST(info.memory_avail_mb == 0u);
    BOOST_TEST(info.logical_processor_count == 1); // the online list is garbage; cpuinfo counts 1
    BOOST_TEST(info.physical_processor_count == 1);
    BOOST_TEST(info.processor_manufacturer == "GenuineIntel");
    BOOST_TEST(info.processor_version == "");
    BOOST_TEST(info.processor_features == "fpu,mmx,ss");
    BOOST_TEST(info.mmx);
    BOOST_TEST(!info.sse);
    BOOST_TEST(info.processor_speed_mhz == 0);
    BOOST_TEST(info.os_major_version == 0);
    BOOST_TEST(info.os_minor_version == 0);
    BOOST_TEST(info.os_service_pack == "");
    BOOST_TEST(info.operating_system == "Linux"); // the unterminated quote is rejected
    BOOST_TEST(info.os_version == "Linux banana");
    BOOST_TEST(info.serial_ports == "");

    for (auto id : {"/dev/sda", "/dev/sdb", "/dev/sdc"}) {
        BOOST_TEST_CONTEXT(id) {
            BOOST_TEST(error_code(probe.host_drive_size_mb(id)) == hr::E_FAIL.value);
        }
    }
    // Broken lines in mounts and mountinfo; sdb has no dev file, so "8:16" cannot match either.
    BOOST_TEST(!probe.is_host_drive_mounted("/dev/sdb").value());
}

BOOST_AUTO_TEST_CASE(oversized_and_special_files) {
    FakeRoot root;
    // Past the 1 MiB cap: MemTotal is never seen.
    root.write("proc/meminfo", std::string(std::size_t{2} << 20, 'x') + "\nMemTotal: 2048 kB\n");
    // A FIFO with no writer would block a plain open() or read() forever.
    fs::create_directories(root.path() / "proc");
    BOOST_REQUIRE(::mkfifo((root.path() / "proc/cpuinfo").c_str(), 0600) == 0);
    root.make_directory("proc/sys/kernel/osrelease"); // a directory where a file belongs
    root.write("usr/lib/os-release", "PRETTY_NAME='Fallback OS'\n");

    HostInfo const info = HostProbe(root.path()).read();
    BOOST_TEST(info.memory_mb == 0u);
    BOOST_TEST(info.logical_processor_count == 0);
    BOOST_TEST(info.processor_features == "");
    BOOST_TEST(info.os_major_version == 0);
    BOOST_TEST(info.os_version == "");
    BOOST_TEST(info.operating_system == "Fallback OS"); // os-release(5): usr/lib is the fallback
}

BOOST_AUTO_TEST_CASE(processor_sources) {
    FakeRoot root;
    root.write("proc/cpuinfo", CPUINFO);
    root.write("sys/devices/system/cpu/online", "0-1,3\n");
    HostProbe const probe(root.path());
    BOOST_TEST(probe.read().logical_processor_count == 3); // the online list wins over cpuinfo
    root.write("sys/devices/system/cpu/online", "0\n");
    BOOST_TEST(probe.read().logical_processor_count == 1);
    root.write("sys/devices/system/cpu/online", "0-4294967295\n");
    BOOST_TEST(probe.read().logical_processor_count == 4); // absurd: back to cpuinfo

    // The cpufreq maximum beats the current clock; no "physical id" still means one package.
    root.write("proc/cpuinfo", "processor\t: 0\n"
                               "vendor_id\t: AuthenticAMD\n"
                               "cpu MHz\t\t: 1400.000\n"
                               "flags\t\t: fpu mmx 3dnowext 3dnow\n");
    root.write("sys/devices/system/cpu/online", "0\n");
    root.write("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "3500000\n");
    HostInfo info = probe.read();
    BOOST_TEST(info.processor_speed_mhz == 3500);
    BOOST_TEST(info.physical_processor_count == 1);
    BOOST_TEST(info.three_d_now);
    BOOST_TEST(!info.sse);

    // arm64 calls the flag list "Features".
    root.write("proc/cpuinfo", "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm\n");
    info = probe.read();
    BOOST_TEST(info.processor_features == "fp,asimd,evtstrm");
    BOOST_TEST(!info.mmx);
}

BOOST_AUTO_TEST_CASE(memory_avail_fallbacks) {
    FakeRoot root;
    HostProbe const probe(root.path());
    root.write("proc/meminfo", "MemTotal: 2097152 kB\nMemFree: 1048576 kB\n"); // before Linux 3.14
    BOOST_TEST(probe.read().memory_mb == 2048u);
    BOOST_TEST(probe.read().memory_avail_mb == 1024u);
    root.write("proc/meminfo", "MemTotal: 2097152 kB\nMemAvailable: 4194304 kB\n");
    BOOST_TEST(probe.read().memory_avail_mb == 2048u); // never more than the total
}

BOOST_AUTO_TEST_CASE(os_release_quoting) {
    FakeRoot root;
    root.write("proc/sys/kernel/ostype", "Linux\n");
    HostProbe const probe(root.path());
    root.write("etc/os-release", "PRETTY_NAME='Single quoted'\n");
    BOOST_TEST(probe.read().operating_system == "Single quoted");
    root.write("etc/os-release", "PRETTY_NAME=\"Say \\\"hi\\\" \\\\ \\$HOME \\n\"\n");
    BOOST_TEST(probe.read().operating_system == "Say \"hi\" \\ $HOME \\n");
    root.write("etc/os-release", "PRETTY_NAME=Plain\nPRETTY_NAME=Later\n");
    BOOST_TEST(probe.read().operating_system == "Later");
    root.write("etc/os-release", "PRETTY_NAME=\"\"\n");
    BOOST_TEST(probe.read().operating_system == "Linux");
}

BOOST_AUTO_TEST_CASE(kernel_release_parsing) {
    struct Case {
        std::string_view release;
        std::int32_t major;
        std::int32_t minor;
        std::int32_t patch;
        std::string_view service_pack;
    };
    for (auto const& c : {
             Case{"6.1.0-21-amd64", 6, 1, 0, "21-amd64"},
             Case{"6.18.44-fc-v657", 6, 18, 44, "fc-v657"},
             Case{"5.15.0", 5, 15, 0, ""},
             Case{" 5.15.0\n", 5, 15, 0, ""},
             Case{"6.1", 6, 1, 0, ""},
             Case{"6.1-rc1", 6, 1, 0, "rc1"},
             Case{"4.19.0.1-foo", 4, 19, 0, "1-foo"},
             Case{"6.8.0+", 6, 8, 0, "+"},
             Case{"6.", 6, 0, 0, ""},
             Case{"2147483647.0.0", 2147483647, 0, 0, ""},
             Case{"banana", 0, 0, 0, ""},
             Case{"", 0, 0, 0, ""},
             Case{"-1.2", 0, 0, 0, ""},
             Case{"2147483648.1", 0, 0, 0, ""},
             Case{"6.99999999999", 0, 0, 0, ""},
         }) {
        BOOST_TEST_CONTEXT(std::string(c.release)) {
            KernelRelease const parsed = parse_kernel_release(c.release);
            BOOST_TEST(parsed.major == c.major);
            BOOST_TEST(parsed.minor == c.minor);
            BOOST_TEST(parsed.patch == c.patch);
            BOOST_TEST(parsed.service_pack == c.service_pack);
        }
    }
}

BOOST_AUTO_TEST_CASE(interface_address_filtering) {
    // A hand-built getifaddrs() list, in the order the kernel might give it.
    std::vector<sockaddr_in> v4;
    std::vector<sockaddr_in6> v6;
    for (auto text : {"127.0.0.1", "192.168.1.10", "10.0.0.1", "192.168.1.10", "0.0.0.0"}) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        BOOST_REQUIRE(::inet_pton(AF_INET, text, &address.sin_addr) == 1);
        v4.push_back(address);
    }
    for (auto text : {"::1", "fe80::1", "2001:db8::5", "febf::1", "::", "fec0::1"}) {
        sockaddr_in6 address{};
        address.sin6_family = AF_INET6;
        BOOST_REQUIRE(::inet_pton(AF_INET6, text, &address.sin6_addr) == 1);
        v6.push_back(address);
    }
    std::vector<ifaddrs> nodes(1 + v4.size() + v6.size());
    nodes[0].ifa_addr = nullptr; // getifaddrs() gives these for some tunnels
    std::size_t next = 1;
    for (std::size_t i = 0; i < v6.size(); ++i) {
        nodes[next++].ifa_addr = reinterpret_cast<sockaddr*>(&v6[i]);
        if (i < v4.size()) nodes[next++].ifa_addr = reinterpret_cast<sockaddr*>(&v4[i]);
    }
    for (std::size_t i = 0; i + 1 < nodes.size(); ++i)
        nodes[i].ifa_next = &nodes[i + 1];

    BOOST_TEST(interface_addresses(nodes.data()) ==
               (Strings{"192.168.1.10", "10.0.0.1", "2001:db8::5", "fec0::1"}));
    BOOST_TEST(interface_addresses(nullptr).empty());
}

BOOST_AUTO_TEST_CASE(injected_addresses_replace_getifaddrs) {
    FakeRoot root;
    HostProbe const probe(root.path(), Strings{"192.0.2.1", "2001:db8::1"});
    BOOST_TEST(probe.read().network_addresses == (Strings{"192.0.2.1", "2001:db8::1"}));
}

BOOST_AUTO_TEST_CASE(real_host_smoke) {
    HostProbe const probe;
    HostInfo const info = probe.read();
    BOOST_TEST(info.logical_processor_count >= 1);
    BOOST_TEST(info.physical_processor_count >= 1);
    BOOST_TEST(info.memory_mb > 0u);
    BOOST_TEST(info.memory_avail_mb <= info.memory_mb);
    BOOST_TEST(!info.operating_system.empty());
    BOOST_TEST(!info.os_version.empty());
    for (auto const& address : info.network_addresses)
        BOOST_TEST(!address.starts_with("127."));
    // Every listed drive must be answerable, whatever the answer is.
    for (auto const& drive : info.host_drives) {
        BOOST_TEST_CONTEXT(drive) {
            BOOST_TEST(error_code(probe.is_host_drive_mounted(drive)) == 0u);
            BOOST_TEST(error_code(probe.host_drive_size_mb(drive)) == 0u);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
