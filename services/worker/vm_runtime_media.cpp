// SPDX-License-Identifier: GPL-2.0-or-later
// VmRuntime: captured host optical drives (vm_runtime.h, "A captured host
// optical drive"). Capture and release go through change_dvd_media, as an
// ISO image's attach and release do; the sampler's watch_host_drives()
// carries later disc changes in the host drive to running workers.
#include "services/worker/vm_runtime.h"

#include "services/worker/vm_runtime_session.h"

namespace vsa::services {

VmRuntime::HostMedia VmRuntime::probe_host_drive(std::string const& drive_id) const {
    HostMedia media;
    media.drive_id = drive_id;
    auto drive = m_options.optical_drives.find(drive_id);
    if (drive.is_error()) return media; // unplugged, or a letter from Virtual Server: an empty drive
    media.signature = HostOpticalDrives::media_signature(drive.value().device);
    if (media.signature) media.path = drive.value().device.string();
    return media;
}

std::map<unsigned, VmRuntime::HostMedia> VmRuntime::host_media_of(VirtualMachine const& vm) const {
    std::map<unsigned, HostMedia> media;
    for (auto const& dvd : vm.dvd_drives()) {
        auto slot = dvd.location().worker_slot();
        if (slot && dvd.attachment() == DvdAttachment::HostDrive)
            media[*slot] = probe_host_drive(dvd.host_drive_letter());
    }
    return media;
}

ServiceResult<void> VmRuntime::attach_dvd_host_drive(Guid const& id, BusLocation const& at,
                                                     std::string_view drive_id) {
    // Only ids of the table: a client never names a path a worker opens.
    auto drive = TRY(m_options.optical_drives.find(drive_id));
    HostMedia media = probe_host_drive(drive.id);
    DvdChange change;
    change.edit = [&](DvdDrive& dvd) { return dvd.attach_host_drive(drive.id); };
    change.insert = media.path;
    change.empty_if_unreadable = true;
    change.done = [&](Session& session, bool inserted) {
        if (!inserted) media.signature.reset();
        if (auto slot = at.worker_slot()) session.host_media[*slot] = media;
    };
    return change_dvd_media(id, at, change);
}

ServiceResult<void> VmRuntime::release_dvd_host_drive(Guid const& id, BusLocation const& at) {
    DvdChange change;
    change.edit = [](DvdDrive& dvd) { return dvd.release_host_drive(); };
    change.done = [&](Session& session, bool) {
        if (auto slot = at.worker_slot()) session.host_media.erase(*slot);
    };
    return change_dvd_media(id, at, change);
}

void VmRuntime::watch_host_drives() {
    std::vector<std::shared_ptr<Session>> live;
    {
        std::lock_guard lock(m_mutex);
        if (m_shutting_down) return;
        for (auto const& [id, session] : m_sessions)
            if (!session->ended && session->worker && session->running_since) live.push_back(session);
    }
    auto const timeout = std::min(m_options.command_timeout, std::chrono::milliseconds(2'000));
    for (auto const& session : live) {
        // A client's command (a save, a media change) has the VM: next time.
        std::unique_lock command(session->command_mutex, std::try_to_lock);
        if (!command.owns_lock()) continue;
        auto vm = m_inventory.virtual_machine(session->id);
        if (!vm || (vm->state() != VmState::Running && vm->state() != VmState::Paused)) continue;
        std::shared_ptr<WorkerProcess> worker;
        std::map<unsigned, HostMedia> known;
        {
            std::lock_guard lock(m_mutex);
            if (session->ended) continue;
            worker = session->worker;
            known = session->host_media;
        }
        for (auto const& [slot, now] : host_media_of(*vm)) {
            auto it = known.find(slot);
            if (it != known.end() && it->second.drive_id == now.drive_id &&
                it->second.signature == now.signature)
                continue;
            // The disc in the host drive changed. Whatever the guest thinks
            // of its tray, the old disc is gone: the eject is forced.
            std::string const where = "virtual machine \"" + session->name + "\": host drive " + now.drive_id;
            control::Request eject{0, control::Command::EjectMedia};
            eject.slot = slot;
            eject.force = true;
            std::string outcome = "is empty now";
            auto done = worker->request(eject, timeout);
            if (done.has_value() && now.path) {
                control::Request insert{0, control::Command::InsertMedia};
                insert.slot = slot;
                insert.path = *now.path;
                done = worker->request(insert, timeout);
                outcome = "has a new disc";
            }
            if (done.is_error())
                log(where + ": the disc changed but the VM's drive did not follow: " + done.error().message);
            else
                log(where + " " + outcome + " (the VM's drive follows)");
            // Noted even after a failure, so a bad disc is not retried every
            // sample; the next change tries again.
            std::lock_guard lock(m_mutex);
            if (!session->ended) session->host_media[slot] = now;
        }
    }
}

} // namespace vsa::services
