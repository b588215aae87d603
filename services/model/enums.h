// SPDX-License-Identifier: GPL-2.0-or-later
// The enumerations of the Virtual Server COM API that the configuration
// model stores, with their documented values (vs-api.md section 4). The
// values are the wire values: the SOAP adapter and the .vmc file both use
// them as integers, so never renumber.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vsa::services {

enum class AutoStartType : std::int32_t { // VMAutoStartType
    Never = 0,
    Always = 1,
    IfRunningAtQuit = 2, // the default
};

enum class ShutdownAction : std::int32_t { // VMShutdownAction
    Save = 0,                              // the default
    TurnOff = 1,
    Shutdown = 2,
};

enum class UndoAction : std::int32_t { // VMUndoAction
    Discard = 0,
    Keep = 1,
    Commit = 2,
};

enum class DriveBusType : std::int32_t { // VMDriveBusType
    Invalid = -1,
    Ide = 0,
    Scsi = 1,
};

enum class DriveType : std::int32_t { // VMDriveType: what a bus location holds
    Null = 0,
    HardDisk = 1,
    Dvd = 2,
};

enum class DvdAttachment : std::int32_t { // VMDVDDriveAttachmentType
    None = 0,
    Image = 1,
    HostDrive = 2,
};

enum class FloppyAttachment : std::int32_t { // VMFloppyDriveAttachmentType
    None = 0,
    Image = 1,
    HostDrive = 2,
};

enum class SerialPortType : std::int32_t { // VMSerialPortType
    HostPort = 0,
    TextFile = 1,
    NamedPipe = 2,
    Null = 3,
};

enum class VmState : std::int32_t { // VMVMState
    Invalid = 0,
    TurnedOff = 1,
    Saved = 2,
    TurningOn = 3,
    Restoring = 4,
    Running = 5,
    Paused = 6,
    Saving = 7,
    TurningOff = 8,
    MergingDrives = 9,
    DeleteMachine = 10,
};

// Integer -> enum for values read from files or clients; std::nullopt for a
// value the enumeration does not have.
template <typename Enum>
std::optional<Enum> enum_from_int(std::int64_t value);

template <>
inline std::optional<AutoStartType> enum_from_int(std::int64_t value) {
    if (value < 0 || value > 2) return std::nullopt;
    return static_cast<AutoStartType>(value);
}
template <>
inline std::optional<ShutdownAction> enum_from_int(std::int64_t value) {
    if (value < 0 || value > 2) return std::nullopt;
    return static_cast<ShutdownAction>(value);
}
template <>
inline std::optional<UndoAction> enum_from_int(std::int64_t value) {
    if (value < 0 || value > 2) return std::nullopt;
    return static_cast<UndoAction>(value);
}
template <>
inline std::optional<DriveBusType> enum_from_int(std::int64_t value) {
    if (value < -1 || value > 1) return std::nullopt;
    return static_cast<DriveBusType>(value);
}
template <>
inline std::optional<SerialPortType> enum_from_int(std::int64_t value) {
    if (value < 0 || value > 3) return std::nullopt;
    return static_cast<SerialPortType>(value);
}

// A VM whose configuration may change: off, with no saved state
// (vs-api.md section 6, "Only while off").
inline bool is_off(VmState state) {
    return state == VmState::TurnedOff;
}
// Neither running nor in a transition: off or saved.
inline bool is_stopped(VmState state) {
    return state == VmState::TurnedOff || state == VmState::Saved;
}

// The VMVMState's name without its "vmVMState_" prefix, for messages.
inline std::string_view vm_state_name(VmState state) {
    switch (state) {
    case VmState::Invalid:
        return "Invalid";
    case VmState::TurnedOff:
        return "TurnedOff";
    case VmState::Saved:
        return "Saved";
    case VmState::TurningOn:
        return "TurningOn";
    case VmState::Restoring:
        return "Restoring";
    case VmState::Running:
        return "Running";
    case VmState::Paused:
        return "Paused";
    case VmState::Saving:
        return "Saving";
    case VmState::TurningOff:
        return "TurningOff";
    case VmState::MergingDrives:
        return "MergingDrives";
    case VmState::DeleteMachine:
        return "DeleteMachine";
    }
    return "?";
}

} // namespace vsa::services
