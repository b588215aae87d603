// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/support_drivers.h"

#include <sys/stat.h>
#include <sys/utsname.h>

#include <array>
#include <cctype>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

namespace vsa::services {

namespace fs = std::filesystem;

namespace {

struct Known {
    std::string_view module;
    SupportDriverType type;
    std::string_view role;                    // the description when the host has none
    std::array<std::string_view, 2> evidence; // paths under root proving it is loaded or built in
};

constexpr std::array<Known, 5> KNOWN{{
    {"kvm",
     SupportDriverType::VirtualMachineMonitor,
     "Kernel-based Virtual Machine: the kernel's VMM, for a KVM CPU backend (vsa-vm interprets today)",
     {"sys/module/kvm", "dev/kvm"}},
    {"kvm_intel",
     SupportDriverType::VirtualMachineMonitor,
     "KVM for Intel VT-x processors",
     {"sys/module/kvm_intel", ""}},
    {"kvm_amd",
     SupportDriverType::VirtualMachineMonitor,
     "KVM for AMD-V processors",
     {"sys/module/kvm_amd", ""}},
    {"tun",
     SupportDriverType::NetworkServices,
     "TUN/TAP devices: a virtual network's port on a host bridge",
     {"sys/module/tun", "sys/class/misc/tun"}},
    {"bridge",
     SupportDriverType::NetworkServices,
     "Ethernet bridging: the host bridges virtual networks join",
     {"sys/module/bridge", ""}},
}};

bool path_exists(fs::path const& path) {
    std::error_code error;
    return fs::exists(path, error);
}

std::string read_line(fs::path const& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

std::string file_date(fs::path const& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return {};
    std::tm tm{};
    if (!::gmtime_r(&info.st_mtime, &tm)) return {};
    char text[16];
    std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
    return text;
}

// modules.dep: "kernel/drivers/net/tun.ko.xz: dep..." -> module name -> path.
std::map<std::string, std::string> installed_modules(fs::path const& modules_dir) {
    std::map<std::string, std::string> found;
    auto add_from = [&](fs::path const& list, bool colon) {
        std::ifstream in(modules_dir / list);
        std::string line;
        while (std::getline(in, line)) {
            std::string path = colon ? line.substr(0, line.find(':')) : line;
            std::string name = fs::path(path).filename().string();
            name = name.substr(0, name.find(".ko"));
            for (char& c : name)
                if (c == '-') c = '_';
            if (!name.empty()) found.emplace(name, colon ? path : std::string());
        }
    };
    add_from("modules.dep", true);
    add_from("modules.builtin", false); // built in: no file of its own
    return found;
}

// modules.builtin.modinfo: NUL-separated "module.key=value".
std::multimap<std::string, std::string> builtin_modinfo(fs::path const& file, std::string_view module) {
    std::multimap<std::string, std::string> info;
    std::ifstream in(file, std::ios::binary);
    std::string prefix = std::string(module) + ".";
    std::string entry;
    while (std::getline(in, entry, '\0')) {
        if (entry.compare(0, prefix.size(), prefix) != 0) continue;
        auto eq = entry.find('=', prefix.size());
        if (eq == std::string::npos) continue;
        info.emplace(entry.substr(prefix.size(), eq - prefix.size()), entry.substr(eq + 1));
    }
    return info;
}

} // namespace

std::string kernel_version_quad(std::string_view release) {
    std::array<unsigned long, 4> parts{};
    std::size_t index = 0;
    std::size_t at = 0;
    while (index < parts.size() && at < release.size() &&
           std::isdigit(static_cast<unsigned char>(release[at]))) {
        unsigned long value = 0;
        while (at < release.size() && std::isdigit(static_cast<unsigned char>(release[at])) &&
               value < 100'000'000)
            value = value * 10 + unsigned(release[at++] - '0');
        parts[index++] = value;
        if (at < release.size() && release[at] == '.')
            ++at;
        else
            break;
    }
    return std::to_string(parts[0]) + "." + std::to_string(parts[1]) + "." + std::to_string(parts[2]) + "." +
           std::to_string(parts[3]);
}

std::vector<SupportDriver> support_drivers(fs::path const& root, std::string release) {
    if (release.empty()) {
        struct utsname names {};
        if (::uname(&names) == 0) release = names.release;
    }
    fs::path const modules_dir = root / "lib/modules" / release;
    auto const installed = installed_modules(modules_dir);
    fs::path const kernel_image = root / "boot" / ("vmlinuz-" + release);

    std::vector<SupportDriver> drivers;
    for (auto const& known : KNOWN) {
        std::string const name(known.module);
        bool present = false;
        for (auto evidence : known.evidence)
            if (!evidence.empty() && path_exists(root / evidence)) present = true;
        auto file = installed.find(name);
        if (!present && file == installed.end()) continue;

        SupportDriver driver;
        driver.module = name;
        driver.type = known.type;
        // The module's own file when it is a loadable one, else the kernel
        // image it is built into.
        driver.date = file != installed.end() && !file->second.empty() ? file_date(modules_dir / file->second)
                                                                       : file_date(kernel_image);
        auto modinfo = builtin_modinfo(modules_dir / "modules.builtin.modinfo", name);
        auto description = modinfo.find("description");
        driver.description = description != modinfo.end() ? description->second : std::string(known.role);
        std::string authors;
        for (auto [it, end] = modinfo.equal_range("author"); it != end; ++it)
            authors += (authors.empty() ? "" : ", ") + it->second;
        driver.manufacturer = authors.empty() ? "The Linux kernel developers" : authors;
        driver.provider = "Linux " + release;
        std::string own_version = read_line(root / "sys/module" / name / "version");
        driver.version = own_version.empty() ? kernel_version_quad(release) : own_version;
        drivers.push_back(std::move(driver));
    }
    return drivers;
}

} // namespace vsa::services
