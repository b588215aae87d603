// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/host_optical_drives.h"

#include "services/model/dvd_drive.h"

#include <algorithm>
#include <charconv>
#include <fstream>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vsa::services {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t CD_SECTOR_BYTES = 2048;
// Device numbers of discovered drives stay below this; a bigger suffix is
// not a name the kernel gives.
constexpr unsigned MAX_SR_NUMBER = 1u << 20;

// "sr<digits>" -> the number; nullopt for any other name.
std::optional<unsigned> sr_number(std::string_view name) {
    if (!name.starts_with("sr") || name.size() == 2 || name.size() > 9) return std::nullopt;
    unsigned number = 0;
    auto const [end, error] = std::from_chars(name.data() + 2, name.data() + name.size(), number);
    if (error != std::errc{} || end != name.data() + name.size() || number >= MAX_SR_NUMBER)
        return std::nullopt;
    return number;
}

// SCSI peripheral device type 5 is a CD/DVD device (SPC-3, table 83). A
// missing or unreadable file does not disqualify an sr device: the name is
// the CD-ROM driver's.
bool is_cdrom_type(fs::path const& type_file) {
    std::ifstream in(type_file);
    if (!in) return true;
    std::string text;
    std::getline(in, text, '\n');
    return text == "5";
}

std::vector<HostOpticalDrive> discover(fs::path const& root) {
    std::vector<std::pair<unsigned, std::string>> found;
    std::error_code error;
    fs::path const folder = root / "sys/class/block";
    for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
        std::string const name = it->path().filename().string();
        auto number = sr_number(name);
        if (!number || !is_cdrom_type(it->path() / "device/type")) continue;
        found.emplace_back(*number, name);
        if (found.size() >= 256) break; // more than any host has; bounds a hostile tree
    }
    std::sort(found.begin(), found.end());
    std::vector<HostOpticalDrive> drives;
    for (auto const& [number, name] : found)
        drives.push_back({name, fs::path("/dev") / name});
    return drives;
}

} // namespace

HostOpticalDrives::HostOpticalDrives(fs::path root, std::vector<HostOpticalDrive> configured, bool discover)
    : m_root(std::move(root)), m_configured(std::move(configured)), m_discover(discover) {}

std::vector<HostOpticalDrive> HostOpticalDrives::list() const {
    std::vector<HostOpticalDrive> drives;
    if (m_discover) {
        for (auto& drive : discover(m_root)) {
            bool const replaced = std::any_of(m_configured.begin(), m_configured.end(),
                                              [&](HostOpticalDrive const& c) { return c.id == drive.id; });
            if (!replaced) drives.push_back(std::move(drive));
        }
    }
    drives.insert(drives.end(), m_configured.begin(), m_configured.end());
    return drives;
}

std::vector<std::string> HostOpticalDrives::ids() const {
    std::vector<std::string> ids;
    for (auto const& drive : list())
        ids.push_back(drive.id);
    return ids;
}

ServiceResult<HostOpticalDrive> HostOpticalDrives::find(std::string_view id) const {
    for (auto const& drive : list())
        if (drive.id == id) return drive;
    auto const known = ids();
    std::string names;
    for (auto const& name : known)
        names += (names.empty() ? "" : ", ") + name;
    return service_error(hr::E_INVALIDARG,
                         "\"" + std::string(id.substr(0, 40)) +
                             "\" is not a host optical drive of this server (" +
                             (names.empty() ? std::string("it has none") : "it has " + names) +
                             "; see IVMHostInfo.DVDDrives)");
}

std::optional<ProbedMedia> probe_host_media(fs::path const& device) {
    // O_NONBLOCK: a CD-ROM device opens without a disc (and without waiting
    // for the tray) and reports size 0; a FIFO configured by mistake does
    // not hang vsad.
    int fd = ::open(device.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat st {};
    ProbedMedia media;
    if (::fstat(fd, &st) == 0) {
        if (S_ISREG(st.st_mode)) {
            media.size = std::uint64_t(st.st_size);
            media.signature = std::to_string(media.size) + " " + std::to_string(st.st_ino) + " " +
                              std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
        } else if (S_ISBLK(st.st_mode) && ::ioctl(fd, BLKGETSIZE64, &media.size) == 0) {
            media.signature = std::to_string(media.size);
        }
    }
    ::close(fd);
    return media;
}

std::optional<std::string> HostOpticalDrives::media_signature(fs::path const& device) {
    auto media = probe_host_media(device);
    if (!media || media->size < CD_SECTOR_BYTES) return std::nullopt;
    return media->signature;
}

bool HostOpticalDrives::has_media(fs::path const& device) {
    return media_signature(device).has_value();
}

std::optional<std::string> HostOpticalDrives::configuration_problem(HostOpticalDrive const& drive) {
    auto id = normalize_host_drive_id(drive.id);
    if (!id || *id != drive.id)
        return "\"" + drive.id +
               "\" is not a host drive id (1 to 32 of A-Z a-z 0-9 _ -; a drive letter upper-case)";
    if (!drive.device.is_absolute()) return "the host drive " + drive.id + " needs an absolute path";
    return std::nullopt;
}

} // namespace vsa::services
