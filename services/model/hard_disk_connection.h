// SPDX-License-Identifier: GPL-2.0-or-later
// HardDiskConnection: a virtual hard disk image bound to an IDE location of
// one VM (IVMHardDiskConnection). The disk path is stored resolved and
// absolute; the inventory confines client paths before they get here. The
// undo disk path is recorded when undo disks exist (Undoable VMs) and
// otherwise empty.
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

    void set_location(BusLocation location) { m_location = location; }
    void set_undo_disk_path(std::string path) { m_undo_disk_path = std::move(path); }

    friend bool operator==(HardDiskConnection const&, HardDiskConnection const&) = default;

private:
    BusLocation m_location;
    std::string m_disk_path;
    std::string m_undo_disk_path;
};

// The checks every stored image path passes: absolute, no NUL, at most
// MAX_PATH_BYTES (E_BAD_PATHNAME, E_BUFFER_OVERFLOW).
inline constexpr std::size_t MAX_PATH_BYTES = 4095;
ServiceResult<void> validate_stored_path(std::string const& path, char const* what);

} // namespace vsa::services
