// SPDX-License-Identifier: GPL-2.0-or-later
// VsService, area "misc" of issue 11: floppy image creation and type,
// IVMVirtualMachine.AttachedDriveTypes, IVMVirtualServer's
// UnconnectedNetworkAdapters and SupportDrivers, the hidden _ID members of
// IVMVirtualNetwork and IVMNetworkAdapter, host drive virtual hard disks.
// Adapters only: the rules are in services/floppy_images.h,
// services/drive_types.h, services/support_drivers.h and
// services/host_drive_disks.h.
//
// References (as vs_service.cpp makes them): a VM or network is its GUID, a
// NIC "<vm>/nic/<n>"; a support driver "supportdriver/<module>", their
// collection "server/SupportDrivers".
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/drive_types.h"
#include "services/floppy_images.h"
#include "services/hard_disk.h"
#include "services/host_drive_disks.h"
#include "services/inventory.h"
#include "services/support_drivers.h"
#include "services/virtual_server.h"

namespace vsa::appliance {

using services::Guid;
using services::ServiceError;
using services::ServiceResult;
using services::VirtualMachine;
namespace hr = services::hr;

namespace {

constexpr std::string_view NIC_MARK = "/nic/";
constexpr std::string_view DRIVER_PREFIX = "supportdriver/";
constexpr std::string_view DRIVERS_REF = "server/SupportDrivers";

ServiceResult<VirtualMachine> find_vm(services::Inventory const& inventory, Guid const& id) {
    auto vm = inventory.virtual_machine(id);
    if (!vm) return service_error(hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string());
    return std::move(*vm);
}

std::string nic_ref(Guid const& vm, std::int32_t adapter) {
    return vm.to_string() + std::string(NIC_MARK) + std::to_string(adapter);
}

std::string driver_ref(services::SupportDriver const& driver) {
    return std::string(DRIVER_PREFIX) + driver.module;
}

ServiceResult<services::SupportDriver> find_driver(std::string_view ref) {
    if (!ref.starts_with(DRIVER_PREFIX)) return Err{bad_reference(ref, "IVMSupportDriver")};
    auto module = ref.substr(DRIVER_PREFIX.size());
    for (auto& driver : services::support_drivers())
        if (driver.module == module) return std::move(driver);
    return service_error(hr::E_INVALIDARG, "no support driver '" + std::string(module.substr(0, 64)) +
                                               "' on this host (IVMVirtualServer.SupportDrivers lists them)");
}

ServiceResult<std::vector<std::string>> driver_refs(std::string_view collection_ref) {
    if (collection_ref != DRIVERS_REF)
        return Err{bad_reference(collection_ref, "IVMSupportDriverCollection")};
    std::vector<std::string> refs;
    for (auto const& driver : services::support_drivers())
        refs.push_back(driver_ref(driver));
    return refs;
}

void store_refs(struct soap* soap, vs__ArrayOfString*& out, std::vector<std::string> refs) {
    out = soap_new_vs__ArrayOfString(soap);
    out->item = std::move(refs);
}

} // namespace

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// --- Floppy images ------------------------------------------------------------

VSA_OP(IVMVirtualServer_USCORECreateFloppyDiskImage) {
    if (int rc = require_principal()) return rc;
    auto made =
        services::create_floppy_image(inventory().path_policy(), request->imagePath, request->imageType);
    if (made.is_error()) return deliver_void(soap, Err{made.error()});
    return SOAP_OK;
}

VSA_OP(IVMVirtualServer_USCOREGetFloppyDiskImageType) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, services::floppy_image_type(inventory().path_policy(), request->imagePath),
                   [&](services::FloppyImageType type) { response.returnval = static_cast<int>(type); });
}

// --- Drives and network adapters -----------------------------------------------

VSA_OP(IVMVirtualMachine_USCOREget_USCOREAttachedDriveTypes) {
    if (int rc = require_principal()) return rc;
    auto types = [&]() -> ServiceResult<std::array<std::uint8_t, services::DRIVE_TYPE_BYTES>> {
        Guid id = TRY(parse_vm_reference(request->_USCOREthis));
        VirtualMachine vm = TRY(find_vm(inventory(), id));
        std::vector<std::pair<services::BusLocation, services::DriveType>> drives;
        for (auto const& disk : vm.hard_disk_connections())
            drives.emplace_back(disk.location(), services::DriveType::HardDisk);
        for (auto const& dvd : vm.dvd_drives())
            drives.emplace_back(dvd.location(), services::DriveType::Dvd);
        return services::attached_drive_types(drives);
    }();
    return deliver(
        soap, std::move(types), [&](std::array<std::uint8_t, services::DRIVE_TYPE_BYTES> const& bytes) {
            response.returnval.__ptr = static_cast<unsigned char*>(soap_malloc(soap, bytes.size()));
            if (response.returnval.__ptr) std::copy(bytes.begin(), bytes.end(), response.returnval.__ptr);
            response.returnval.__size = response.returnval.__ptr ? static_cast<int>(bytes.size()) : 0;
        });
}

VSA_OP(IVMVirtualServer_USCOREget_USCOREUnconnectedNetworkAdapters) {
    if (int rc = require_principal()) return rc;
    std::vector<std::string> refs;
    for (auto const& vm : inventory().virtual_machines()) {
        if (!may_read(vm.config_id().to_string())) continue;
        for (auto const& nic : vm.network_adapters())
            if (!nic.virtual_network()) refs.push_back(nic_ref(vm.config_id(), nic.id()));
    }
    store_refs(soap, response.returnval, std::move(refs));
    return SOAP_OK;
}

VSA_OP(IVMNetworkAdapter_USCOREget_USCORE_USCOREID) {
    if (int rc = require_principal()) return rc;
    auto number = [&]() -> ServiceResult<std::int32_t> {
        std::string_view ref = request->_USCOREthis;
        auto at = ref.find(NIC_MARK);
        if (at == std::string_view::npos) return Err{bad_reference(ref, "IVMNetworkAdapter")};
        Guid id = TRY(parse_vm_reference(ref.substr(0, at)));
        auto adapter = parse_reference_number(ref.substr(at + NIC_MARK.size()));
        if (!adapter) return Err{bad_reference(ref, "IVMNetworkAdapter")};
        VirtualMachine vm = TRY(find_vm(inventory(), id));
        for (auto const& nic : vm.network_adapters())
            if (nic.id() == *adapter) return *adapter;
        return service_error(hr::E_INVALIDARG, "the VM has no network adapter " + std::to_string(*adapter));
    }();
    return deliver(soap, std::move(number), [&](std::int32_t adapter) { response.returnval = adapter; });
}

VSA_OP(IVMVirtualNetwork_USCOREget_USCORE_USCOREID) {
    if (int rc = require_principal()) return rc;
    auto id = [&]() -> ServiceResult<std::string> {
        auto guid = Guid::parse(request->_USCOREthis);
        if (!guid) return Err{bad_reference(request->_USCOREthis, "IVMVirtualNetwork")};
        auto network = inventory().virtual_network(*guid);
        if (!network)
            return service_error(hr::VM_E_INVALID_VIRTUAL_NETWORK_ID,
                                 "no registered virtual network " + guid->to_string());
        return network->id().to_string();
    }();
    return deliver(soap, std::move(id), [&](std::string text) { response.returnval = std::move(text); });
}

// --- Support drivers --------------------------------------------------------------

VSA_OP(IVMVirtualServer_USCOREget_USCORESupportDrivers) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, driver_refs(DRIVERS_REF), [&](std::vector<std::string> refs) {
        store_refs(soap, response.returnval, std::move(refs));
    });
}

VSA_OP(IVMSupportDriverCollection_USCOREget_USCORECount) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, driver_refs(request->_USCOREthis), [&](std::vector<std::string> const& refs) {
        response.returnval = static_cast<int>(refs.size());
    });
}

VSA_OP(IVMSupportDriverCollection_USCOREget_USCOREItem) {
    if (int rc = require_principal()) return rc;
    auto item = [&]() -> ServiceResult<std::string> {
        auto refs = TRY(driver_refs(request->_USCOREthis));
        if (request->index < 1 || static_cast<std::size_t>(request->index) > refs.size())
            return service_error(hr::DISP_E_BADINDEX, "index " + std::to_string(request->index) +
                                                          " is outside 1.." + std::to_string(refs.size()));
        return refs[static_cast<std::size_t>(request->index) - 1];
    }();
    return deliver(soap, std::move(item), [&](std::string ref) { response.returnval = std::move(ref); });
}

VSA_OP(IVMSupportDriverCollection_USCOREget_USCORE_USCORENewEnum) {
    if (int rc = require_principal()) return rc;
    return deliver(soap, driver_refs(request->_USCOREthis), [&](std::vector<std::string> refs) {
        store_refs(soap, response.returnval, std::move(refs));
    });
}

#define VSA_DRIVER_GET(prop, expression)                                                                     \
    VSA_OP(IVMSupportDriver_USCOREget_USCORE##prop) {                                                        \
        if (int rc = require_principal()) return rc;                                                         \
        return deliver(soap, find_driver(request->_USCOREthis),                                              \
                       [&](services::SupportDriver const& driver) { response.returnval = expression; });     \
    }
VSA_DRIVER_GET(Date, driver.date)
VSA_DRIVER_GET(Description, driver.description)
VSA_DRIVER_GET(Manufacturer, driver.manufacturer)
VSA_DRIVER_GET(Provider, driver.provider)
VSA_DRIVER_GET(Type, static_cast<int>(driver.type))
VSA_DRIVER_GET(Version, driver.version)
#undef VSA_DRIVER_GET

// --- Host drive virtual hard disks -------------------------------------------------

VSA_OP(IVMVirtualServer_USCORECreateHostDriveVirtualHardDisk) {
    if (int rc = require_principal()) return rc;
    auto task = [&]() -> ServiceResult<std::string> {
        auto disk = TRY(services::create_host_drive_disk(inventory().path_policy(), m_backend->server.host(),
                                                         request->imagePath, request->hostDriveIdentifier,
                                                         request->mountReadOnly));
        // Writing the link takes no time: the task is complete at once, so a
        // client that waits on it as on the other creations sees success.
        auto handle = m_backend->server.tasks().create("Creation of host drive virtual hard disk '" +
                                                           disk.file.string() + "' (" + disk.device +
                                                           (disk.read_only ? ", read-only)" : ")"),
                                                       false);
        handle->report_progress(100);
        handle->complete(Ok{});
        return handle->id().to_string();
    }();
    return deliver(soap, std::move(task), [&](std::string ref) { response.returnval = std::move(ref); });
}

VSA_OP(IVMHardDisk_USCOREget_USCOREHostDriveIdentifier) {
    if (int rc = require_principal()) return rc;
    auto id = [&]() -> ServiceResult<std::string> {
        auto file = TRY(services::resolve_hard_disk(inventory(), request->_USCOREthis));
        return services::host_drive_identifier(file);
    }();
    return deliver(soap, std::move(id), [&](std::string text) { response.returnval = std::move(text); });
}

#undef VSA_OP

} // namespace vsa::appliance
