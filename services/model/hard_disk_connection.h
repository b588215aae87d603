// SPDX-License-Identifier: GPL-2.0-or-later
// HardDiskConnection: a virtual hard disk image bound to an IDE location of
// one VM (IVMHardDiskConnection). The disk path is stored resolved and
// absolute; the inventory confines client paths before they get here. The
// undo disk path is recorded when undo disks exist (Undoable VMs) and
// otherwise empty. merge_started is recorded (and persisted) before a merge
// of the undo disk into the base begins and cleared when it completes: a
// merge that failed or was cut off by a crash has left the base with part
// of the changes, so the undo disk must then be merged, never discarded.
#pragma once

#include "services/model/bus_location.h"

#include <string>

namespace vsa::services {

class HardDiskConnection {
public:
    HardDiskConnection(BusLocation location, std::string disk_path)
        : m_location(location), m_disk_path(std::move(disk_path)) {}

    BusLocation const& location() const { return m_location; }
    std::string const& disk_path() const { return m_disk_path; }
    std::string const& undo_disk_path() const { return m_undo_disk_path; }
    bool merge_started() const { return m_merge_started; }

    void set_location(BusLocation location) { m_location = location; }
    void set_undo_disk_path(std::string path) { m_undo_disk_path = std::move(path); }
    void set_merge_started(bool started) { m_merge_started = started; }

    friend bool operator==(HardDiskConnection const&, HardDiskConnection const&) = default;

private:
    BusLocation m_location;
    std::string m_disk_path;
    std::string m_undo_disk_path;
    bool m_merge_started{false};
};

// The checks every stored image path passes: absolute, no NUL, at most
// MAX_PATH_BYTES (E_BAD_PATHNAME, E_BUFFER_OVERFLOW).
inline constexpr std::size_t MAX_PATH_BYTES = 4095;
ServiceResult<void> validate_stored_path(std::string const& path, char const* what);

} // namespace vsa::services
