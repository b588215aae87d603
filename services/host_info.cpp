// SPDX-License-Identifier: GPL-2.0-or-later
// HostProbe: IVMHostInfo from procfs, sysfs and os-release. The file formats are the kernel's
// (Documentation/filesystems/proc.rst, Documentation/ABI/) and os-release(5). Every file is
// treated as untrusted text: reads are capped, numbers go through std::from_chars and a value
// that does not parse leaves its field empty or zero.
#include "services/host_info.h"
#include "hypervisor/base/file_descriptor.h"
#include "services/model/virtual_network.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <set>
#include <system_error>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace vsa::services {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t MAX_FILE_BYTES = std::size_t{1} << 20;
// cpuinfo has ~1.5 KiB per logical CPU on x86, so a 4096-CPU host needs ~6 MiB. Cutting it
// short would silently lose the later sockets from physical_processor_count.
constexpr std::size_t MAX_CPUINFO_BYTES = std::size_t{16} << 20;
constexpr std::size_t MAX_DIRECTORY_ENTRIES = 16384;
constexpr std::size_t MAX_ADDRESSES = 4096;
// Far above any NR_CPUS the kernel allows; a larger count in the online list is garbage.
constexpr std::uint64_t MAX_CPUS = 1u << 22;
// NAME_MAX: no name in /sys/block can be longer.
constexpr std::size_t MAX_DRIVE_NAME = 255;

using vsa::FileDescriptor;

// Regular files only: a FIFO or device node planted in a fake tree (or a bind mount over
// /proc) must not block the probe, hence O_NONBLOCK on open and the S_ISREG check.
std::optional<std::string> read_file(fs::path const& path, std::size_t cap = MAX_FILE_BYTES) {
    FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (file.fd() < 0) return std::nullopt;
    struct stat info {};
    if (::fstat(file.fd(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;

    // procfs and sysfs report a size of 0, so read until EOF rather than trusting st_size.
    constexpr std::size_t CHUNK_BYTES = std::size_t{64} << 10;
    std::string text;
    while (text.size() < cap) {
        std::size_t const used = text.size();
        std::size_t const want = std::min(CHUNK_BYTES, cap - used);
        text.resize(used + want);
        ssize_t const got = ::read(file.fd(), text.data() + used, want);
        if (got < 0) {
            text.resize(used);
            if (errno == EINTR) continue;
            return std::nullopt;
        }
        text.resize(used + static_cast<std::size_t>(got));
        if (got == 0) break;
    }
    return text;
}

std::vector<std::string> directory_names(fs::path const& directory) {
    std::vector<std::string> names;
    std::error_code error;
    fs::directory_iterator it(directory, error);
    for (; !error && it != fs::directory_iterator(); it.increment(error)) {
        if (names.size() >= MAX_DIRECTORY_ENTRIES) break;
        names.push_back(it->path().filename().string());
    }
    return names;
}

bool exists_no_follow(fs::path const& path) {
    std::error_code error;
    return fs::exists(fs::symlink_status(path, error));
}

bool exists_following(fs::path const& path) {
    std::error_code error;
    return fs::exists(fs::status(path, error));
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_space(text.back()))
        text.remove_suffix(1);
    return text;
}

// Calls visit(line) for each line, without its '\n'. A last line cut short by truncation is
// still visited: its parsers must cope with half a value anyway.
template <typename Visit>
void for_each_line(std::string_view text, Visit&& visit) {
    while (!text.empty()) {
        std::size_t const end = text.find('\n');
        if (end == std::string_view::npos) {
            visit(text);
            return;
        }
        visit(text.substr(0, end));
        text.remove_prefix(end + 1);
    }
}

template <typename Visit>
void for_each_word(std::string_view text, Visit&& visit) {
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i]))
            ++i;
        std::size_t const start = i;
        while (i < text.size() && !is_space(text[i]))
            ++i;
        if (i > start) visit(text.substr(start, i - start));
    }
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
    if (text.empty()) return std::nullopt;
    T value{};
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::int32_t clamp_to_int32(std::uint64_t value) {
    constexpr auto INT32_MAX_MB = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
    return static_cast<std::int32_t>(std::min(value, INT32_MAX_MB));
}

// Orders "eth2" before "eth10" and "sr9" before "sr10", as people expect to see them.
bool natural_less(std::string_view a, std::string_view b) {
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < a.size() && j < b.size()) {
        if (is_digit(a[i]) && is_digit(b[j])) {
            std::size_t a_end = i;
            while (a_end < a.size() && is_digit(a[a_end]))
                ++a_end;
            std::size_t b_end = j;
            while (b_end < b.size() && is_digit(b[b_end]))
                ++b_end;
            while (i + 1 < a_end && a[i] == '0')
                ++i;
            while (j + 1 < b_end && b[j] == '0')
                ++j;
            std::string_view const a_number = a.substr(i, a_end - i);
            std::string_view const b_number = b.substr(j, b_end - j);
            if (a_number.size() != b_number.size()) return a_number.size() < b_number.size();
            if (a_number != b_number) return a_number < b_number;
            i = a_end;
            j = b_end;
            continue;
        }
        if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
        ++i;
        ++j;
    }
    if (i == a.size() && j != b.size()) return true;
    if (i != a.size() || j != b.size()) return false;
    // Equal but for leading zeros: fall back to plain order so the sort stays strict.
    return a < b;
}

void natural_sort(std::vector<std::string>& names) {
    std::sort(names.begin(), names.end(),
              [](std::string const& a, std::string const& b) { return natural_less(a, b); });
}

// "prefix" followed by one or more characters of the given class and nothing else.
template <typename Class>
bool is_prefix_then(std::string_view name, std::string_view prefix, Class&& char_class) {
    if (!name.starts_with(prefix) || name.size() == prefix.size()) return false;
    name.remove_prefix(prefix.size());
    return std::all_of(name.begin(), name.end(), char_class);
}

bool is_optical_name(std::string_view name) {
    return is_prefix_then(name, "sr", is_digit);
}
bool is_floppy_name(std::string_view name) {
    return is_prefix_then(name, "fd", is_digit);
}

bool is_host_disk_name(std::string_view name) {
    for (std::string_view prefix : {"sd", "vd", "hd", "xvd"}) {
        if (is_prefix_then(name, prefix, is_lower)) return true;
    }
    // mmcblk0 but not its boot partitions (mmcblk0boot0), which are tiny firmware areas.
    if (is_prefix_then(name, "mmcblk", is_digit)) return true;
    // nvme0n1 but not the hidden per-path nodes of multipath namespaces (nvme0c0n1).
    std::size_t const n = name.find('n', 4);
    if (!name.starts_with("nvme") || n == std::string_view::npos) return false;
    return is_prefix_then(name.substr(0, n), "nvme", is_digit) &&
           is_prefix_then(name.substr(n), "n", is_digit);
}

std::string join(std::vector<std::string> const& parts, std::string_view separator) {
    std::string out;
    for (auto const& part : parts) {
        if (part.empty()) continue;
        if (!out.empty()) out += separator;
        out += part;
    }
    return out;
}

// --- CPUs ---------------------------------------------------------------------------------

struct CpuInfo {
    std::int32_t processors{0};
    std::set<std::string> physical_ids;
    // From the first processor block: x86 lists the same values for every CPU.
    std::optional<std::string> vendor;
    std::optional<std::string> model;
    std::optional<std::string> flags;
    std::optional<std::string> arm_features;
    std::optional<std::string> mhz;
};

CpuInfo parse_cpuinfo(std::string_view text) {
    CpuInfo cpu;
    for_each_line(text, [&](std::string_view line) {
        std::size_t const colon = line.find(':');
        if (colon == std::string_view::npos) return;
        std::string_view const key = trim(line.substr(0, colon));
        std::string_view const value = trim(line.substr(colon + 1));
        auto first = [&](std::optional<std::string>& field) {
            if (!field) field = std::string(value);
        };
        if (key == "processor") {
            if (cpu.processors < std::numeric_limits<std::int32_t>::max()) ++cpu.processors;
        } else if (key == "physical id") {
            if (cpu.physical_ids.size() < MAX_CPUS) cpu.physical_ids.emplace(value);
        } else if (key == "vendor_id") {
            first(cpu.vendor);
        } else if (key == "model name") {
            first(cpu.model);
        } else if (key == "flags") {
            first(cpu.flags);
        } else if (key == "Features") {
            // arm64 names the flag list "Features".
            first(cpu.arm_features);
        } else if (key == "cpu MHz") {
            first(cpu.mhz);
        }
    });
    return cpu;
}

// The kernel's cpu list format (Documentation/admin-guide/cputopology.rst): "0-3,6,8-9".
std::optional<std::int32_t> count_cpu_list(std::string_view list) {
    list = trim(list);
    if (list.empty()) return std::nullopt;
    std::uint64_t total = 0;
    while (true) {
        std::size_t const comma = list.find(',');
        std::string_view const part = list.substr(0, comma);
        std::size_t const dash = part.find('-');
        if (dash == std::string_view::npos) {
            if (!parse_number<std::uint32_t>(part)) return std::nullopt;
            total += 1;
        } else {
            auto const first = parse_number<std::uint32_t>(part.substr(0, dash));
            auto const last = parse_number<std::uint32_t>(part.substr(dash + 1));
            if (!first || !last || *last < *first) return std::nullopt;
            total += std::uint64_t(*last) - *first + 1;
        }
        if (total > MAX_CPUS) return std::nullopt;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return static_cast<std::int32_t>(total);
}

std::int32_t round_mhz(std::string_view text) {
    auto const mhz = parse_number<double>(text);
    // from_chars also accepts "nan" and "inf".
    if (!mhz || !std::isfinite(*mhz) || *mhz < 0 || *mhz >= std::numeric_limits<std::int32_t>::max())
        return 0;
    return static_cast<std::int32_t>(std::lround(*mhz));
}

// --- Memory -------------------------------------------------------------------------------

// "MemTotal:       24684092 kB" -> 24684092.
std::optional<std::uint64_t> meminfo_kb(std::string_view text, std::string_view wanted) {
    std::optional<std::uint64_t> found;
    for_each_line(text, [&](std::string_view line) {
        if (found) return;
        std::size_t const colon = line.find(':');
        if (colon == std::string_view::npos || line.substr(0, colon) != wanted) return;
        std::string_view value = trim(line.substr(colon + 1));
        std::size_t const space = value.find_first_of(" \t");
        std::string_view const unit = space == std::string_view::npos ? "" : trim(value.substr(space));
        if (unit.empty() || unit == "kB") found = parse_number<std::uint64_t>(value.substr(0, space));
        // A key whose value is garbage counts as seen, so a later duplicate cannot sneak in.
        if (!found) found = 0;
    });
    return found;
}

// --- Operating system ---------------------------------------------------------------------

// os-release(5) values are shell-style: bare, 'single' or "double" quoted with \" \\ \$ \`
// escapes. An unterminated quote makes the value invalid.
std::optional<std::string> unquote_os_release_value(std::string_view value) {
    value = trim(value);
    if (value.empty()) return std::string{};
    char const quote = value.front();
    if (quote != '"' && quote != '\'') return std::string(value);
    std::string out;
    for (std::size_t i = 1; i < value.size(); ++i) {
        char const c = value[i];
        if (c == quote) return out;
        if (quote == '"' && c == '\\' && i + 1 < value.size() &&
            std::string_view("\"\\$`").find(value[i + 1]) != std::string_view::npos) {
            out += value[++i];
            continue;
        }
        out += c;
    }
    return std::nullopt;
}

std::string os_release_pretty_name(std::string_view text) {
    std::string pretty;
    for_each_line(text, [&](std::string_view line) {
        line = trim(line);
        if (!line.starts_with("PRETTY_NAME=")) return;
        auto value = unquote_os_release_value(line.substr(std::string_view("PRETTY_NAME=").size()));
        // The last assignment wins, as it would when the file is sourced by a shell.
        pretty = value ? std::move(*value) : std::string{};
    });
    return pretty;
}

// --- Devices ------------------------------------------------------------------------------

std::vector<std::string> to_device_paths(std::vector<std::string> names) {
    natural_sort(names);
    for (auto& name : names)
        name.insert(0, "/dev/");
    return names;
}

// The octal escapes (\040 for a space) of /proc/self/mounts and /proc/swaps.
std::string decode_octal_escapes(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '3' &&
            text[i + 2] >= '0' && text[i + 2] <= '7' && text[i + 3] >= '0' && text[i + 3] <= '7') {
            out +=
                static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += text[i];
    }
    return out;
}

std::string_view field(std::string_view line, std::size_t index) {
    std::string_view found;
    std::size_t current = 0;
    bool done = false;
    for_each_word(line, [&](std::string_view word) {
        if (!done && current++ == index) {
            found = word;
            done = true;
        }
    });
    return found;
}

bool any_line_field_in(std::optional<std::string> const& text, std::size_t index,
                       std::set<std::string> const& wanted, bool decode) {
    if (!text || wanted.empty()) return false;
    bool hit = false;
    for_each_line(*text, [&](std::string_view line) {
        if (hit) return;
        std::string_view const value = field(line, index);
        if (value.empty()) return;
        hit = wanted.contains(decode ? decode_octal_escapes(value) : std::string(value));
    });
    return hit;
}

std::vector<std::string> interface_addresses_of_host() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return {};
    std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> const owner(list, &::freeifaddrs);
    return interface_addresses(list);
}

// --- The pieces of HostProbe::read() --------------------------------------------------------

// Real sysfs entries are symlinks into /sys/devices; a fake tree may use plain directories, and
// the name alone decides.
void probe_block_devices(fs::path const& root, HostInfo& info) {
    std::vector<std::string> dvd;
    std::vector<std::string> floppy;
    std::vector<std::string> disks;
    for (auto& name : directory_names(root / "sys/block")) {
        if (is_optical_name(name))
            dvd.push_back(std::move(name));
        else if (is_floppy_name(name))
            floppy.push_back(std::move(name));
        else if (is_host_disk_name(name))
            disks.push_back(std::move(name));
    }
    info.dvd_drives = to_device_paths(std::move(dvd));
    info.floppy_drives = to_device_paths(std::move(floppy));
    info.host_drives = to_device_paths(std::move(disks));
}

void probe_processors(fs::path const& root, bool real_root, HostInfo& info) {
    CpuInfo const cpu = parse_cpuinfo(read_file(root / "proc/cpuinfo", MAX_CPUINFO_BYTES).value_or(""));
    // The online list is authoritative; cpuinfo lists the same CPUs but may be cut short.
    auto online = count_cpu_list(read_file(root / "sys/devices/system/cpu/online").value_or(""));
    if (!online && cpu.processors > 0) online = cpu.processors;
    if (!online && real_root) {
        long const count = ::sysconf(_SC_NPROCESSORS_ONLN);
        if (count > 0) online = clamp_to_int32(static_cast<std::uint64_t>(count));
    }
    info.logical_processor_count = online.value_or(0);
    info.physical_processor_count = static_cast<std::int32_t>(cpu.physical_ids.size());
    // Virtual machines and some architectures list no "physical id"; CPUs exist, so at least
    // one package does.
    if (info.physical_processor_count == 0 && info.logical_processor_count > 0)
        info.physical_processor_count = 1;

    std::string const flags = cpu.flags.value_or(cpu.arm_features.value_or(""));
    std::vector<std::string> feature_list;
    for_each_word(flags, [&](std::string_view flag) {
        info.mmx = info.mmx || flag == "mmx";
        info.sse = info.sse || flag == "sse";
        info.sse2 = info.sse2 || flag == "sse2";
        // Exactly "3dnow": "3dnowprefetch" is on every modern AMD part that lacks 3DNow!.
        info.three_d_now = info.three_d_now || flag == "3dnow";
        feature_list.emplace_back(flag);
    });
    info.processor_features = join(feature_list, ",");
    info.processor_manufacturer = cpu.vendor.value_or("");
    info.processor_version = cpu.model.value_or("");

    // cpuinfo's "cpu MHz" is the current clock, which drifts with frequency scaling; the
    // cpufreq maximum is what the part is sold as.
    auto const max_khz = parse_number<std::uint64_t>(
        trim(read_file(root / "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").value_or("")));
    info.processor_speed_mhz =
        max_khz && *max_khz >= 1000 ? clamp_to_int32(*max_khz / 1000) : round_mhz(cpu.mhz.value_or(""));
}

void probe_memory(fs::path const& root, HostInfo& info) {
    std::string const meminfo = read_file(root / "proc/meminfo").value_or("");
    info.memory_mb = meminfo_kb(meminfo, "MemTotal").value_or(0) / 1024;
    // MemAvailable appeared in Linux 3.14; before that MemFree is the best guess.
    auto avail_kb = meminfo_kb(meminfo, "MemAvailable");
    if (!avail_kb) avail_kb = meminfo_kb(meminfo, "MemFree");
    // Clients compute used memory as Memory - MemoryAvail, which must not go negative.
    info.memory_avail_mb = std::min(avail_kb.value_or(0) / 1024, info.memory_mb);
}

// The kernel files come first so that a fake root never sees the real host; uname() only fills
// gaps on the real one.
void probe_operating_system(fs::path const& root, bool real_root, HostInfo& info) {
    std::optional<utsname> uts;
    auto kernel_text = [&](std::string_view file, auto member) -> std::string {
        if (auto text = read_file(root / file)) return std::string(trim(*text));
        if (!real_root) return {};
        if (!uts) {
            uts.emplace();
            if (::uname(&*uts) != 0) *uts = utsname{};
        }
        auto const& chars = *uts.*member;
        return std::string(chars, ::strnlen(chars, sizeof chars));
    };
    std::string const sysname = kernel_text("proc/sys/kernel/ostype", &utsname::sysname);
    std::string const release = kernel_text("proc/sys/kernel/osrelease", &utsname::release);
    std::string const version = kernel_text("proc/sys/kernel/version", &utsname::version);

    // os-release(5): /etc/os-release, else /usr/lib/os-release.
    auto os_release = read_file(root / "etc/os-release");
    if (!os_release) os_release = read_file(root / "usr/lib/os-release");
    info.operating_system = os_release_pretty_name(os_release.value_or(""));
    if (info.operating_system.empty()) info.operating_system = sysname;

    KernelRelease kernel = parse_kernel_release(release);
    info.os_major_version = kernel.major;
    info.os_minor_version = kernel.minor;
    info.os_service_pack = std::move(kernel.service_pack);
    info.os_version = join({sysname, release, version}, " ");
}

void probe_ports(fs::path const& root, HostInfo& info) {
    // /dev/parportN is the ppdev node, so only ppdev's class proves that it exists.
    std::vector<std::string> parallel;
    for (std::string_view class_dir : {"sys/class/ppdev", "sys/class/parport"}) {
        for (auto& name : directory_names(root / class_dir)) {
            if (is_prefix_then(name, "parport", is_digit)) parallel.push_back(std::move(name));
        }
        if (!parallel.empty()) break;
    }
    natural_sort(parallel);
    if (!parallel.empty()) info.parallel_port = "/dev/" + parallel.front();

    // The 8250 driver registers ttyS0..ttyS3 (or more) whether or not a UART answers; those
    // that did not answer have type 0 (PORT_UNKNOWN). Consoles without a "device" link are not
    // hardware at all.
    std::vector<std::string> serial;
    fs::path const tty_class = root / "sys/class/tty";
    for (auto& name : directory_names(tty_class)) {
        if (!is_prefix_then(name, "ttyS", is_digit)) continue;
        if (!exists_no_follow(tty_class / name / "device")) continue;
        if (auto type = read_file(tty_class / name / "type")) {
            auto const port_type = parse_number<std::int32_t>(trim(*type));
            if (!port_type || *port_type == 0) continue;
        }
        serial.push_back(std::move(name));
    }
    info.serial_ports = join(to_device_paths(std::move(serial)), ";");
}

} // namespace

KernelRelease parse_kernel_release(std::string_view release) {
    release = trim(release);
    std::array<std::int32_t, 3> numbers{};
    std::size_t parsed = 0;
    std::size_t pos = 0;
    while (parsed < numbers.size()) {
        std::size_t end = pos;
        while (end < release.size() && is_digit(release[end]))
            ++end;
        if (end == pos) break;
        auto const number = parse_number<std::int32_t>(release.substr(pos, end - pos));
        if (!number) return {};
        numbers[parsed++] = *number;
        pos = end;
        // Only a '.' followed by a digit continues the version: "6.1.0.1" has a fourth part
        // that becomes the service pack.
        if (parsed == numbers.size() || pos + 1 >= release.size() || release[pos] != '.' ||
            !is_digit(release[pos + 1]))
            break;
        ++pos;
    }
    if (parsed == 0) return {};
    std::string_view rest = release.substr(pos);
    if (!rest.empty() && (rest.front() == '-' || rest.front() == '.')) rest.remove_prefix(1);
    return {numbers[0], numbers[1], numbers[2], std::string(rest)};
}

std::vector<std::string> interface_addresses(ifaddrs const* list) {
    std::vector<std::string> v4;
    std::vector<std::string> v6;
    auto add_once = [](std::vector<std::string>& to, char const* text) {
        if (std::find(to.begin(), to.end(), text) == to.end()) to.emplace_back(text);
    };
    std::size_t seen = 0;
    for (ifaddrs const* entry = list; entry && seen < MAX_ADDRESSES; entry = entry->ifa_next, ++seen) {
        if (!entry->ifa_addr) continue;
        std::array<char, INET6_ADDRSTRLEN> text{};
        if (entry->ifa_addr->sa_family == AF_INET) {
            // memcpy rather than a cast: ifa_addr is a plain sockaddr pointer to what is really
            // a sockaddr_in or sockaddr_in6, and reading through a cast breaks strict aliasing.
            sockaddr_in address{};
            std::memcpy(&address, entry->ifa_addr, sizeof address);
            std::uint32_t const host_order = ntohl(address.sin_addr.s_addr);
            if ((host_order >> 24) == 127 || host_order == 0) continue;
            if (::inet_ntop(AF_INET, &address.sin_addr, text.data(), text.size())) add_once(v4, text.data());
        } else if (entry->ifa_addr->sa_family == AF_INET6) {
            sockaddr_in6 address{};
            std::memcpy(&address, entry->ifa_addr, sizeof address);
            auto const* bytes = address.sin6_addr.s6_addr;
            static constexpr std::array<std::uint8_t, 16> LOOPBACK{0, 0, 0, 0, 0, 0, 0, 0,
                                                                   0, 0, 0, 0, 0, 0, 0, 1};
            static constexpr std::array<std::uint8_t, 16> UNSPECIFIED{};
            bool const link_local = bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
            if (link_local || std::memcmp(bytes, LOOPBACK.data(), 16) == 0 ||
                std::memcmp(bytes, UNSPECIFIED.data(), 16) == 0)
                continue;
            if (::inet_ntop(AF_INET6, &address.sin6_addr, text.data(), text.size()))
                add_once(v6, text.data());
        }
    }
    v4.insert(v4.end(), v6.begin(), v6.end());
    return v4;
}

HostProbe::HostProbe(fs::path root)
    : m_root(std::move(root)), m_is_real_root(m_root.lexically_normal() == fs::path("/")) {}

HostProbe::HostProbe(fs::path root, std::vector<std::string> addresses) : HostProbe(std::move(root)) {
    m_addresses = std::move(addresses);
}

HostInfo HostProbe::read() const {
    try {
        HostInfo info;
        probe_block_devices(m_root, info);
        for (auto const& device : m_configured) {
            std::string_view const name =
                std::string_view(device).substr(std::min<std::size_t>(5, device.size()));
            if (device.starts_with("/dev/") && exists_following(m_root / "sys/block" / name) &&
                std::find(info.host_drives.begin(), info.host_drives.end(), device) == info.host_drives.end())
                info.host_drives.push_back(device);
        }
        probe_processors(m_root, m_is_real_root, info);
        probe_memory(m_root, info);
        // "NAT" (a virtual network's NAT, no host interface), then the
        // bridges (what a virtual network can be bridged to), then the
        // other interfaces (listed so an administrator sees what could be
        // made a bridge's port). An interface named "NAT" is left out: the
        // name is reserved.
        std::vector<std::string> bridges, others;
        for (auto& name : directory_names(m_root / "sys/class/net")) {
            if (name == "lo" || name == NAT_HOST_ADAPTER) continue;
            std::error_code ec;
            bool bridge = fs::is_directory(m_root / "sys/class/net" / name / "bridge", ec);
            (bridge ? bridges : others).push_back(std::move(name));
        }
        natural_sort(bridges);
        natural_sort(others);
        info.network_adapters.emplace_back(NAT_HOST_ADAPTER);
        info.network_adapters.insert(info.network_adapters.end(), bridges.begin(), bridges.end());
        info.network_adapters.insert(info.network_adapters.end(), others.begin(), others.end());
        info.network_bridges = std::move(bridges);
        if (m_addresses)
            info.network_addresses = *m_addresses;
        else if (m_is_real_root)
            info.network_addresses = interface_addresses_of_host();
        probe_operating_system(m_root, m_is_real_root, info);
        probe_ports(m_root, info);
        return info;
    } catch (std::exception const&) {
        // Only allocation failure can get here; an empty inventory beats a dead daemon.
        return HostInfo{};
    }
}

ServiceResult<std::string> HostProbe::find_host_drive(std::string_view drive_id) const {
    constexpr std::string_view DEV_PREFIX = "/dev/";
    std::string_view name = drive_id;
    bool valid = name.starts_with(DEV_PREFIX);
    if (valid) name.remove_prefix(DEV_PREFIX.size());
    valid = valid && !name.empty() && name.size() <= MAX_DRIVE_NAME &&
            name.find("..") == std::string_view::npos && name != "." &&
            std::all_of(name.begin(), name.end(),
                        [](char c) { return c != '/' && static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
    if (!valid) return service_error(hr::E_INVALIDARG, "host drive id must look like /dev/NAME");
    bool const configured =
        std::find(m_configured.begin(), m_configured.end(), drive_id) != m_configured.end();
    if ((!is_host_disk_name(name) && !configured) || !exists_following(m_root / "sys/block" / name))
        return service_error(hr::VM_E_HOST_DRIVE_NOT_FOUND, "no host drive " + std::string(drive_id));
    return std::string(name);
}

ServiceResult<std::int32_t> HostProbe::host_drive_size_mb(std::string_view drive_id) const {
    try {
        std::string const name = TRY(find_host_drive(drive_id));
        // sys/block/NAME/size counts 512-byte sectors whatever the disk's own sector size.
        auto const sectors =
            parse_number<std::uint64_t>(trim(read_file(m_root / "sys/block" / name / "size").value_or("")));
        if (!sectors) return service_error(hr::E_FAIL, "cannot read the size of " + std::string(drive_id));
        // The COM property is a long: a disk past 2 PiB reports the largest size it can.
        return clamp_to_int32(*sectors / 2048);
    } catch (std::exception const&) {
        return service_error(hr::E_OUTOFMEMORY, "out of memory");
    }
}

ServiceResult<bool> HostProbe::is_host_drive_mounted(std::string_view drive_id) const {
    try {
        std::string const name = TRY(find_host_drive(drive_id));
        fs::path const disk_dir = m_root / "sys/block" / name;

        // The disk and its partitions (sda1, nvme0n1p1, mmcblk0p1) in sys/block/NAME/NAME*.
        std::vector<fs::path> node_dirs{disk_dir};
        std::set<std::string> device_paths{"/dev/" + name};
        for (auto const& entry : directory_names(disk_dir)) {
            if (entry.size() <= name.size() || !entry.starts_with(name)) continue;
            node_dirs.push_back(disk_dir / entry);
            device_paths.insert("/dev/" + entry);
        }

        // LVM, RAID or dm-crypt on top: the host uses the disk even though no mount names it,
        // and writing to it from a guest would corrupt the volume above.
        std::set<std::string> device_numbers;
        for (auto const& dir : node_dirs) {
            if (!directory_names(dir / "holders").empty()) return true;
            if (auto number = read_file(dir / "dev")) {
                std::string_view const trimmed = trim(*number);
                if (!trimmed.empty()) device_numbers.emplace(trimmed);
            }
        }

        if (any_line_field_in(read_file(m_root / "proc/self/mounts"), 0, device_paths, true)) return true;
        if (any_line_field_in(read_file(m_root / "proc/swaps"), 0, device_paths, true)) return true;
        // A root file system mounted by the kernel itself shows as "/dev/root" in mounts;
        // mountinfo's third field, major:minor, still names the real device.
        return any_line_field_in(read_file(m_root / "proc/self/mountinfo"), 2, device_numbers, false);
    } catch (std::exception const&) {
        return service_error(hr::E_OUTOFMEMORY, "out of memory");
    }
}

} // namespace vsa::services
