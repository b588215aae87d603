// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime: the floppy drive's media (vm_runtime.h, "The floppy drive"):
// drive A: of the worker at startup, and IVMFloppyDrive's changes while the
// VM runs (insert-media / eject-media fd0), modelled on change_dvd_media.
#include "services/storage/raw_image.h"
#include "services/worker/vm_runtime.h"
#include "services/worker/vm_runtime_session.h"

#include <unistd.h>

namespace vsa::services {

namespace {

// A disk the worker can read as a floppy, write-protected when the host
// cannot write it (as the worker itself decides for a disk inserted live:
// the saved state records the flag, so startup and live insert agree).
std::optional<VmRuntime::FloppyMedia> readable_floppy(std::string const& path) {
    if (path.empty() || !HostFloppyDrives::media_signature(path)) return std::nullopt;
    return VmRuntime::FloppyMedia{path, ::access(path.c_str(), W_OK) != 0};
}

} // namespace

std::optional<VmRuntime::FloppyMedia> VmRuntime::floppy_media_of(VirtualMachine const& vm) const {
    auto const& drive = vm.floppy_drive();
    std::string path;
    std::string what;
    if (drive.attachment() == FloppyAttachment::Image) {
        path = drive.image_file();
        what = "floppy image " + path;
    } else if (drive.attachment() == FloppyAttachment::HostDrive) {
        auto host = m_options.floppy_drives.find(drive.host_drive_letter());
        what = "host floppy drive " + drive.host_drive_letter();
        if (host.is_error()) {
            log("virtual machine \"" + vm.name() + "\": " + what + " is not there; drive A: is empty");
            return std::nullopt;
        }
        path = host.value().device.string();
    } else {
        return std::nullopt;
    }
    auto media = readable_floppy(path);
    if (!media)
        log("virtual machine \"" + vm.name() + "\": " + what +
            " holds no readable disk of a floppy size; drive A: is empty");
    return media;
}

ServiceResult<void> VmRuntime::attach_floppy_image(Guid const& id, std::filesystem::path const& image) {
    // Checked in any state: a file the worker could not take is refused
    // now, not at the next startup.
    auto opened = storage::open_floppy_image(image.string(), true);
    if (opened.is_error())
        return service_error(hr::VM_E_IMAGE_CAPTURE_FAIL,
                             "cannot attach the floppy image: " + opened.error().message);
    FloppyChange change;
    change.edit = [&](FloppyDrive& drive) { return drive.attach_image(image.string()); };
    change.insert = FloppyMedia{image.string(), ::access(image.c_str(), W_OK) != 0};
    return change_floppy_media(id, change);
}

ServiceResult<void> VmRuntime::release_floppy_image(Guid const& id) {
    return change_floppy_media(id, {[](FloppyDrive& drive) { return drive.release_image(); }, std::nullopt});
}

ServiceResult<void> VmRuntime::attach_floppy_host_drive(Guid const& id, std::string_view letter) {
    // Only ids of the table: a client never names a path a worker opens.
    auto host = TRY(m_options.floppy_drives.find(letter));
    FloppyChange change;
    change.edit = [&](FloppyDrive& drive) { return drive.attach_host_drive(host.id); };
    // A drive without a disk (or with one of no floppy size) is captured
    // all the same: the guest sees an empty drive.
    change.insert = readable_floppy(host.device.string());
    if (!change.insert)
        log("host floppy drive " + host.id + " (" + host.device.string() +
            ") holds no readable disk of a floppy size; the VM's drive A: stays empty");
    return change_floppy_media(id, change);
}

ServiceResult<void> VmRuntime::release_floppy_host_drive(Guid const& id) {
    return change_floppy_media(id,
                               {[](FloppyDrive& drive) { return drive.release_host_drive(); }, std::nullopt});
}

ServiceResult<void> VmRuntime::change_floppy_media(Guid const& id, FloppyChange const& change) {
    auto edit = [&](VirtualMachine& vm) { return change.edit(vm.floppy_drive()); };
    auto live = [&](WorkerProcess& worker, VirtualMachine const& vm) -> ServiceResult<void> {
        // A swap is an eject and an insert: the guest sees the disk change.
        control::Request request{0, change.insert ? control::Command::InsertMedia
                                                  : control::Command::EjectMedia};
        request.floppy = true;
        request.slot = 0;
        if (change.insert) request.path = change.insert->path;
        auto reply = worker.request(request, m_options.command_timeout);
        if (reply.is_error()) {
            auto error = reply.release_error();
            if (change.insert)
                return service_error(hr::VM_E_IMAGE_CAPTURE_FAIL,
                                     "the floppy drive of virtual machine \"" + vm.name() +
                                         "\" did not take " + change.insert->path + ": " + error.message);
            return error;
        }
        return Ok{};
    };
    return change_media(id, "floppy drive", edit, live);
}

} // namespace vsa::services
