// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/worker/cpu_cgroup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vsa::services {

namespace {

constexpr std::size_t MAX_CONTROL_FILE = 4096;

std::string errno_text(int error) {
    return std::strerror(error);
}

// Writes `text` to an existing control file in one write(2), as cgroupfs
// wants (no O_CREAT: a missing file means the controller is not enabled).
Result<void, std::string> write_control(std::filesystem::path const& file, std::string const& text) {
    int fd = ::open(file.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return "cannot open " + file.string() + ": " + errno_text(errno);
    ssize_t written = ::write(fd, text.data(), text.size());
    int error = errno;
    ::close(fd);
    if (written != static_cast<ssize_t>(text.size()))
        return "cannot write \"" + text + "\" to " + file.string() + ": " +
               (written < 0 ? errno_text(error) : std::string("short write"));
    return {};
}

std::optional<std::string> read_control(std::filesystem::path const& file) {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::string text(MAX_CONTROL_FILE, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return text;
}

bool lists_word(std::string const& text, std::string_view word) {
    std::istringstream words(text);
    std::string w;
    while (words >> w)
        if (w == word) return true;
    return false;
}

Result<void, std::string> make_dir(std::filesystem::path const& dir) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return "cannot create " + dir.string() + ": " + errno_text(errno);
    return {};
}

// Enables the cpu controller for `group`'s children, unless it is already.
Result<void, std::string> enable_cpu_for_children(std::filesystem::path const& group) {
    auto controllers = read_control(group / "cgroup.controllers");
    if (!controllers) return "cannot read " + (group / "cgroup.controllers").string();
    if (!lists_word(*controllers, "cpu"))
        return "the cpu controller is not available in " + group.string() +
               " (bound to cgroup v1, or not delegated)";
    auto enabled = read_control(group / "cgroup.subtree_control");
    if (enabled && lists_word(*enabled, "cpu")) return {};
    return write_control(group / "cgroup.subtree_control", "+cpu");
}

} // namespace

std::uint32_t cgroup_cpu_weight(std::int32_t relative_weight) {
    return static_cast<std::uint32_t>(
        std::clamp(relative_weight, SchedulingParameters::MIN_WEIGHT, SchedulingParameters::MAX_WEIGHT));
}

CgroupCpuMax cgroup_cpu_max(double maximum_percent, unsigned host_processors, std::uint64_t period_us) {
    unsigned const processors = std::max(1u, host_processors);
    CgroupCpuMax result;
    result.period_us = period_us;
    // A whole processor (or more, or nonsense): no cap (see the header).
    if (!std::isfinite(maximum_percent) || maximum_percent * processors >= 100.0 - 1e-9) return result;
    double quota = std::max(maximum_percent, 0.0) / 100.0 * processors * double(period_us);
    result.quota_us =
        std::max<std::uint64_t>(CGROUP_MIN_QUOTA_US, static_cast<std::uint64_t>(std::llround(quota)));
    return result;
}

std::string CgroupCpuMax::text() const {
    return (quota_us ? std::to_string(*quota_us) : std::string("max")) + " " + std::to_string(period_us);
}

CpuCgroups::CpuCgroups(std::filesystem::path root, Log log, std::string off_reason)
    : m_root(std::move(root)), m_log(std::move(log)) {
    if (m_root.empty()) m_off = std::move(off_reason);
}

std::optional<std::filesystem::path> CpuCgroups::default_root(std::filesystem::path const& mounts) {
    std::ifstream in(mounts);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string device, mount_point, type;
        if (!(fields >> device >> mount_point >> type)) continue;
        // Spaces in a mount point are "\040"; no cgroup mount has any.
        if (type == "cgroup2") return std::filesystem::path(mount_point) / "vsa";
    }
    return std::nullopt;
}

std::filesystem::path CpuCgroups::group_of(Guid const& vm) const {
    return m_root / vm.to_string();
}

Result<void, std::string> CpuCgroups::failed_locked(std::string reason) {
    if (!m_logged && m_log) {
        m_log("CPU scheduling is not enforced (" + reason +
              "); reserve, cap and weight are stored and checked only");
        m_logged = true;
    }
    return reason;
}

Result<void, std::string> CpuCgroups::prepare_locked() {
    if (m_off) return *m_off;
    if (m_prepared) return {};
    auto prepared = [&]() -> Result<void, std::string> {
        TRY(enable_cpu_for_children(m_root.parent_path()));
        TRY(make_dir(m_root));
        TRY(enable_cpu_for_children(m_root));
        return {};
    }();
    // Permanent conditions (no controller, no permission) do not change
    // while vsad runs: remember the first reason instead of retrying.
    if (prepared.is_error()) {
        m_off = prepared.error();
        return prepared;
    }
    m_prepared = true;
    return {};
}

Result<void, std::string> CpuCgroups::write_locked(Guid const& vm, SchedulingParameters const& parameters,
                                                   unsigned host_processors) {
    auto group = group_of(vm);
    TRY(write_control(group / "cpu.weight", std::to_string(cgroup_cpu_weight(parameters.relative_weight))));
    TRY(write_control(group / "cpu.max",
                      cgroup_cpu_max(parameters.maximum_on(host_processors), host_processors).text()));
    return {};
}

Result<void, std::string> CpuCgroups::place(Guid const& vm, pid_t pid, SchedulingParameters const& parameters,
                                            unsigned host_processors) {
    std::lock_guard lock(m_mutex);
    auto done = [&]() -> Result<void, std::string> {
        TRY(prepare_locked());
        TRY(make_dir(group_of(vm)));
        TRY(write_locked(vm, parameters, host_processors));
        TRY(write_control(group_of(vm) / "cgroup.procs", std::to_string(pid)));
        return {};
    }();
    if (done.is_error()) return failed_locked(done.release_error());
    return {};
}

Result<void, std::string> CpuCgroups::apply(Guid const& vm, SchedulingParameters const& parameters,
                                            unsigned host_processors) {
    std::lock_guard lock(m_mutex);
    auto done = [&]() -> Result<void, std::string> {
        TRY(prepare_locked());
        TRY(write_locked(vm, parameters, host_processors));
        return {};
    }();
    if (done.is_error()) return failed_locked(done.release_error());
    return {};
}

void CpuCgroups::remove(Guid const& vm) {
    std::lock_guard lock(m_mutex);
    if (!m_prepared) return;
    ::rmdir(group_of(vm).c_str()); // EBUSY/ENOENT: nothing to do about it
}

} // namespace vsa::services
