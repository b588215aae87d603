// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: IVMHardDisk's Convert, MergeTo and HostFreeDiskSpace. Adapters
// only: the rules (paths, types, in-use disks, free space) are
// VhdTasks::convert / merge_to (services/task/vhd_tasks.h) and
// services/hard_disk.h; the copying is storage::convert / merge_to.
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/hard_disk.h"
#include "services/virtual_server.h"

namespace vsa::appliance {

namespace {

// A task is named by its GUID (as in vs_service.cpp).
std::string task_ref(services::TaskHandle const& task) {
    return task->id().to_string();
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

VSA_OP(IVMHardDisk_USCOREget_USCOREHostFreeDiskSpace) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, services::hard_disk_free_space(inventory(), request->_USCOREthis),
                   [&](std::uint64_t bytes) { response.returnval = std::to_string(bytes); });
}

VSA_OP(IVMHardDisk_USCOREConvert) {
    if (int rc = require_principal()) return rc;
    return deliver(soap,
                   m_backend->server.disk_tasks().convert(request->_USCOREthis,
                                                          request->convertedDiskImagePath,
                                                          request->convertedDiskImageType),
                   [&](services::TaskHandle task) { response.returnval = task_ref(task); });
}

VSA_OP(IVMHardDisk_USCOREMergeTo) {
    if (int rc = require_principal()) return rc;
    return deliver(soap,
                   m_backend->server.disk_tasks().merge_to(request->_USCOREthis, request->newDiskImagePath,
                                                           request->newDiskImageType),
                   [&](services::TaskHandle task) { response.returnval = task_ref(task); });
}

#undef VSA_OP

} // namespace vsa::appliance
