// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/soap/vs_service.h"

#include "appliance/auth/authenticator.h"
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/host_info_cache.h"
#include "services/events/object_updates.h"
#include "services/hard_disk.h"
#include "services/virtual_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <type_traits>

namespace vsa::appliance {

using services::BusLocation;
using services::DriveBusType;
using services::Guid;
using services::HostInfo;
using services::Inventory;
using services::ServiceError;
using services::ServiceResult;
using services::VirtualMachine;
using services::VirtualNetwork;
using services::VmLimits;
namespace hr = services::hr;

namespace {

template <typename T>
struct IsResult : std::false_type {};
template <typename T, typename E>
struct IsResult<Result<T, E>> : std::true_type {};

// Generated types differ from model types in a few places; these convert.
template <typename Out, typename In>
void assign(struct soap* soap, Out& out, In&& in) {
    if constexpr (std::is_same_v<Out, vs__ArrayOfString*>) {
        out = soap_new_vs__ArrayOfString(soap);
        out->item = std::forward<In>(in);
    } else if constexpr (std::is_same_v<Out, std::string> && std::is_arithmetic_v<std::decay_t<In>>) {
        out = std::to_string(in); // xsd:decimal travels as text
    } else {
        out = static_cast<Out>(std::forward<In>(in));
    }
}

// Object references. A VM is named by its ConfigID and a network by its ID
// (both survive renames and re-registration); a disk connection by its VM
// and bus location, a NIC by its VM and adapter id. References carry no
// state, so a stale one fails cleanly with the model's "unknown" HRESULT.
constexpr std::string_view HDC_MARK = "/hdc/";
constexpr std::string_view NIC_MARK = "/nic/";
constexpr std::string_view DVD_MARK = "/dvd/";
constexpr std::string_view FDD_MARK = "/fdd/";

ServiceResult<Guid> parse_guid_ref(std::string_view ref, char const* kind) {
    auto id = Guid::parse(ref);
    if (!id) return Err{bad_reference(ref, kind)};
    return *id;
}

std::string vm_ref(VirtualMachine const& vm) {
    return vm.config_id().to_string();
}
std::string network_ref(VirtualNetwork const& network) {
    return network.id().to_string();
}
// A SCSI location's bus number carries an "s": "<vm>/hdc/s0:3".
std::string hdc_ref(Guid const& vm, BusLocation const& location) {
    return vm.to_string() + std::string(HDC_MARK) + (location.bus_type == DriveBusType::Scsi ? "s" : "") +
           std::to_string(location.bus) + ":" + std::to_string(location.device);
}
std::string nic_ref(Guid const& vm, std::int32_t adapter) {
    return vm.to_string() + std::string(NIC_MARK) + std::to_string(adapter);
}

ServiceError unknown_vm(Guid const& id) {
    return {hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string()};
}

ServiceResult<VirtualMachine> lookup_vm(Inventory const& inventory, std::string_view ref) {
    Guid id = TRY(parse_guid_ref(ref, "IVMVirtualMachine"));
    auto vm = inventory.virtual_machine(id);
    if (!vm) return Err{unknown_vm(id)};
    return std::move(*vm);
}

ServiceResult<VirtualNetwork> lookup_network(Inventory const& inventory, std::string_view ref) {
    Guid id = TRY(parse_guid_ref(ref, "IVMVirtualNetwork"));
    auto network = inventory.virtual_network(id);
    if (!network)
        return Err{ServiceError{hr::VM_E_INVALID_VIRTUAL_NETWORK_ID,
                                "no registered virtual network " + id.to_string()}};
    return std::move(*network);
}

// "<vm>/<mark><rest>": the VM id and the text after the mark.
ServiceResult<std::pair<Guid, std::string_view>> split_sub_ref(std::string_view ref, std::string_view mark,
                                                               char const* kind) {
    auto at = ref.find(mark);
    if (at == std::string_view::npos) return Err{bad_reference(ref, kind)};
    auto id = Guid::parse(ref.substr(0, at));
    if (!id) return Err{bad_reference(ref, kind)};
    return std::pair{*id, ref.substr(at + mark.size())};
}

// "<vm><mark><bus>:<device>": a drive on the IDE bus; "<vm><mark>s<bus>:
// <device>" on SCSI controller <bus>.
ServiceResult<std::pair<Guid, BusLocation>> parse_location_ref(std::string_view ref, std::string_view mark,
                                                               char const* kind) {
    auto parts = TRY(split_sub_ref(ref, mark, kind));
    auto type = DriveBusType::Ide;
    if (parts.second.starts_with('s')) {
        type = DriveBusType::Scsi;
        parts.second.remove_prefix(1);
    }
    auto colon = parts.second.find(':');
    if (colon == std::string_view::npos) return Err{bad_reference(ref, kind)};
    auto bus = parse_reference_number(parts.second.substr(0, colon));
    auto device = parse_reference_number(parts.second.substr(colon + 1));
    if (!bus || !device) return Err{bad_reference(ref, kind)};
    return std::pair{parts.first, BusLocation{type, *bus, *device}};
}

// VMDriveBusType from the wire: 0 IDE, 1 SCSI.
ServiceResult<DriveBusType> disk_bus_type(int value) {
    if (value == static_cast<int>(DriveBusType::Ide)) return DriveBusType::Ide;
    if (value == static_cast<int>(DriveBusType::Scsi)) return DriveBusType::Scsi;
    return Err{
        ServiceError{hr::E_INVALIDARG, "busType " + std::to_string(value) + " is not 0 (IDE) or 1 (SCSI)"}};
}

ServiceResult<std::pair<Guid, BusLocation>> parse_hdc_ref(std::string_view ref) {
    return parse_location_ref(ref, HDC_MARK, "IVMHardDiskConnection");
}

ServiceResult<std::pair<Guid, BusLocation>> parse_dvd_ref(std::string_view ref) {
    return parse_location_ref(ref, DVD_MARK, "IVMDVDDrive");
}

std::string location_ref(Guid const& vm, std::string_view mark, BusLocation const& location) {
    return vm.to_string() + std::string(mark) + std::to_string(location.bus) + ":" +
           std::to_string(location.device);
}

std::string fdd_ref(Guid const& vm, std::int32_t number) {
    return vm.to_string() + std::string(FDD_MARK) + std::to_string(number);
}

// A VM has one floppy drive, number 0.
ServiceResult<Guid> parse_fdd_ref(std::string_view ref) {
    auto parts = TRY(split_sub_ref(ref, FDD_MARK, "IVMFloppyDrive"));
    if (parts.second != "0") return Err{bad_reference(ref, "IVMFloppyDrive")};
    return parts.first;
}

ServiceResult<services::DvdDrive> lookup_dvd(Inventory const& inventory, std::string_view ref) {
    auto parsed = TRY(parse_dvd_ref(ref));
    auto vm = inventory.virtual_machine(parsed.first);
    if (!vm)
        return Err{
            ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + parsed.first.to_string()}};
    for (auto const& drive : vm->dvd_drives())
        if (drive.location() == parsed.second) return drive;
    return Err{ServiceError{hr::VM_E_DRIVE_INVALID, "no CD/DVD drive at " + parsed.second.to_string()}};
}

ServiceResult<services::FloppyDrive> lookup_fdd(Inventory const& inventory, std::string_view ref) {
    Guid id = TRY(parse_fdd_ref(ref));
    auto vm = inventory.virtual_machine(id);
    if (!vm) return Err{ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string()}};
    return vm->floppy_drive();
}

ServiceResult<std::pair<Guid, std::int32_t>> parse_nic_ref(std::string_view ref) {
    auto parts = TRY(split_sub_ref(ref, NIC_MARK, "IVMNetworkAdapter"));
    auto id = parse_reference_number(parts.second);
    if (!id) return Err{bad_reference(ref, "IVMNetworkAdapter")};
    return std::pair{parts.first, *id};
}

ServiceResult<services::HardDiskConnection> lookup_hdc(Inventory const& inventory, std::string_view ref) {
    auto parsed = TRY(parse_hdc_ref(ref));
    auto vm = inventory.virtual_machine(parsed.first);
    if (!vm)
        return Err{
            ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + parsed.first.to_string()}};
    for (auto const& disk : vm->hard_disk_connections())
        if (disk.location() == parsed.second) return disk;
    return Err{ServiceError{hr::VM_E_DRIVE_INVALID, "no hard disk at " + parsed.second.to_string()}};
}

ServiceResult<services::NetworkAdapter> lookup_nic(Inventory const& inventory, std::string_view ref) {
    auto parsed = TRY(parse_nic_ref(ref));
    auto vm = inventory.virtual_machine(parsed.first);
    if (!vm)
        return Err{
            ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + parsed.first.to_string()}};
    for (auto const& nic : vm->network_adapters())
        if (nic.id() == parsed.second) return nic;
    return Err{ServiceError{hr::E_INVALIDARG, "no network adapter " + std::to_string(parsed.second)}};
}

// A task is named by its GUID. An expired one (dropped 10 minutes after it
// completed) is as unknown as one that never existed.
std::string task_ref(services::Task const& task) {
    return task.id().to_string();
}

ServiceResult<services::TaskHandle> lookup_task(services::TaskRegistry& tasks, std::string_view ref) {
    Guid id = TRY(parse_guid_ref(ref, "IVMTask"));
    auto task = tasks.find(id);
    if (!task)
        return Err{ServiceError{hr::E_INVALIDARG, "no task " + id.to_string() +
                                                      " (unknown, or completed more than 10 minutes ago)"}};
    return task;
}

std::vector<std::string> strings_of(vs__ArrayOfString const* array) {
    return array ? array->item : std::vector<std::string>{};
}

} // namespace

ServiceResult<Guid> parse_vm_reference(std::string_view ref) {
    return parse_guid_ref(ref, "IVMVirtualMachine");
}

ServiceResult<Guid> parse_vm_sub_reference(std::string_view ref, std::string_view mark, char const* kind) {
    if (ref.size() > mark.size() && ref.ends_with(mark)) {
        if (auto id = Guid::parse(ref.substr(0, ref.size() - mark.size()))) return *id;
    }
    return Err{bad_reference(ref, kind)};
}

ServiceError bad_reference(std::string_view ref, char const* kind, std::string_view lead) {
    return {hr::E_INVALIDARG, std::string(lead) + "not an " + kind + " reference (got '" +
                                  std::string(ref.substr(0, 64)) + "')"};
}

std::optional<std::int32_t> parse_reference_number(std::string_view text) {
    std::int32_t value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

void record_operation(std::string_view operation) {
    static char const* const path = std::getenv("VSA_OPERATION_LOG");
    if (!path || !*path) return;
    static std::mutex mutex;
    std::lock_guard lock(mutex);
    int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    std::string line = std::string(operation) + "\n";
    (void)!::write(fd, line.data(), line.size());
    ::close(fd);
}

// SOAP_XML_TREE: the contract is document/literal, so messages carry no
// id/href multi-references. Without it gSOAP walks its whole id table each
// time it stores a parsed string (about 12 % of a 64-object
// RetrieveProperties); with it, id and href attributes are ignored.
VsService::VsService()
    : VirtualServerBindingService(SOAP_XML_STRICT | SOAP_XML_TREE | SOAP_ENC_PLAIN | SOAP_C_UTFSTRING) {}

int VsService::fault(ServiceError const& error) {
    return set_service_fault(soap, error);
}

services::Inventory& VsService::inventory() {
    return m_backend->server.inventory();
}

services::VmRuntime& VsService::runtime() {
    return m_backend->server.runtime();
}

int VsService::require_principal() {
    if (m_call->principal) return SOAP_OK;
    if (soap->header && soap->header->vs__SessionToken) {
        auto outcome = m_backend->auth.from_token(*soap->header->vs__SessionToken);
        if (outcome.principal) {
            m_call->principal = std::move(outcome.principal);
            return SOAP_OK;
        }
    }
    m_call->unauthenticated = true;
    return fault({hr::E_ACCESSDENIED, "authentication required: use HTTP Basic, the VSASESSION cookie, or "
                                      "the SessionToken header with a token from Session_Logon"});
}

template <typename Out, typename F>
int VsService::answer(Out& out, F&& produce) {
    if (int rc = require_principal()) return rc;
    auto value = produce();
    if constexpr (IsResult<decltype(value)>::value) {
        if (value.is_error()) return fault(value.error());
        assign(soap, out, value.release_value());
    } else {
        assign(soap, out, std::move(value));
    }
    return SOAP_OK;
}

template <typename F>
int VsService::act(F&& run) {
    if (int rc = require_principal()) return rc;
    ServiceResult<void> outcome = run();
    if (outcome.is_error()) return fault(outcome.error());
    return SOAP_OK;
}

template <typename Out, typename F>
int VsService::host_answer(std::string const& this_ref, Out& out, F&& produce) {
    if (int rc = require_principal()) return rc;
    if (this_ref != HOST_INFO_REF)
        return fault({hr::E_INVALIDARG, "_this is not an IVMHostInfo reference (got '" +
                                            this_ref.substr(0, 64) +
                                            "'; IVMVirtualServer_get_HostInfo returns one)"});
    auto info = m_backend->host_info.current();
    return answer(out, [&] { return produce(*info); });
}

// --- Session --------------------------------------------------------------

int VsService::Session_USCORELogon(_vs__Session_USCORELogon* request,
                                   _vs__Session_USCORELogonResponse& response) {
    auto outcome = m_backend->auth.logon(request->userName, request->password, m_call->client_address);
    switch (outcome.status) {
    case AuthStatus::Authenticated:
        m_call->set_session_cookie = outcome.session_token;
        response.returnval = std::move(outcome.session_token);
        return SOAP_OK;
    case AuthStatus::LockedOut:
        m_call->locked_out = outcome.retry_after;
        return fault({hr::E_ACCESSDENIED, "too many failed logons from this address; retry in " +
                                              std::to_string(outcome.retry_after.count()) + " s"});
    default:
        return fault({hr::E_ACCESSDENIED, "wrong user name or password"});
    }
}

int VsService::Session_USCORELogoff(_vs__Session_USCORELogoff*, _vs__Session_USCORELogoffResponse&) {
    if (int rc = require_principal()) return rc;
    if (soap->header && soap->header->vs__SessionToken)
        m_backend->auth.logoff(*soap->header->vs__SessionToken);
    if (!m_call->cookie_token.empty()) m_backend->auth.logoff(m_call->cookie_token);
    m_call->clear_session_cookie = true;
    return SOAP_OK;
}

int VsService::Session_USCORECurrentUser(_vs__Session_USCORECurrentUser*,
                                         _vs__Session_USCORECurrentUserResponse& response) {
    return answer(response.returnval, [&] { return m_call->principal->user; });
}

// --- IVMVirtualServer -----------------------------------------------------

#define VSA_SERVER_GET(prop, expression)                                                                     \
    int VsService::IVMVirtualServer_USCOREget_USCORE##prop(                                                  \
        _vs__IVMVirtualServer_USCOREget_USCORE##prop*,                                                       \
        _vs__IVMVirtualServer_USCOREget_USCORE##prop##Response& response) {                                  \
        auto const& server = m_backend->server;                                                              \
        (void)server;                                                                                        \
        return answer(response.returnval, [&] { return expression; });                                       \
    }

VSA_SERVER_GET(Name, server.name())
VSA_SERVER_GET(Version, server.version())
VSA_SERVER_GET(ProductID, server.product_id())
VSA_SERVER_GET(UpTime, server.uptime_seconds())
VSA_SERVER_GET(DefaultLocale, server.default_locale())
VSA_SERVER_GET(AvailableSystemCapacity, server.available_system_capacity())
VSA_SERVER_GET(MaximumNumberOfVMs, VmLimits::MAX_RUNNING_VMS)
VSA_SERVER_GET(MaximumMemoryPerVM, VmLimits::MAX_MEMORY_MB)
VSA_SERVER_GET(MinimumMemoryPerVM, VmLimits::MIN_MEMORY_MB)
VSA_SERVER_GET(SuggestedMaximumMemoryPerVM, server.suggested_maximum_memory_mb())
VSA_SERVER_GET(MaximumFloppyDrivesPerVM, VmLimits::MAX_FLOPPY_DRIVES)
VSA_SERVER_GET(MaximumNetworkAdaptersPerVM, VmLimits::MAX_NETWORK_ADAPTERS)
VSA_SERVER_GET(MaximumNumberOfIDEBuses, VmLimits::MAX_IDE_BUSES)
VSA_SERVER_GET(MaximumNumberOfSCSIControllers, VmLimits::MAX_SCSI_CONTROLLERS)
VSA_SERVER_GET(MaximumParallelPortsPerVM, VmLimits::MAX_PARALLEL_PORTS)
VSA_SERVER_GET(MaximumSerialPortsPerVM, VmLimits::MAX_SERIAL_PORTS)
VSA_SERVER_GET(HostInfo, std::string(HOST_INFO_REF))
#undef VSA_SERVER_GET

// --- IVMHostInfo ----------------------------------------------------------

#define VSA_HOST_GET(prop, expression)                                                                       \
    int VsService::IVMHostInfo_USCOREget_USCORE##prop(                                                       \
        _vs__IVMHostInfo_USCOREget_USCORE##prop* request,                                                    \
        _vs__IVMHostInfo_USCOREget_USCORE##prop##Response& response) {                                       \
        return host_answer(request->_USCOREthis, response.returnval,                                         \
                           [&]([[maybe_unused]] HostInfo const& host) { return expression; });               \
    }

// The ids AttachHostDrive takes, not device paths (host_optical_drives.h).
VSA_HOST_GET(DVDDrives, m_backend->server.runtime().optical_drives().ids())
// Likewise the floppy drives' ids (host_floppy_drives.h).
VSA_HOST_GET(FloppyDrives, m_backend->server.runtime().floppy_drives().ids())
VSA_HOST_GET(HostDrives, host.host_drives)
VSA_HOST_GET(LogicalProcessorCount, host.logical_processor_count)
VSA_HOST_GET(Memory, host.memory_mb)
VSA_HOST_GET(MemoryAvail, host.memory_avail_mb)
VSA_HOST_GET(MemoryAvailString, std::to_string(host.memory_avail_mb))
VSA_HOST_GET(MemoryTotalString, std::to_string(host.memory_mb))
VSA_HOST_GET(MMX, host.mmx)
VSA_HOST_GET(NetworkAdapters, host.network_adapters)
VSA_HOST_GET(NetworkAddresses, host.network_addresses)
VSA_HOST_GET(OperatingSystem, host.operating_system)
VSA_HOST_GET(OSMajorVersion, host.os_major_version)
VSA_HOST_GET(OSMinorVersion, host.os_minor_version)
VSA_HOST_GET(OSServicePackString, host.os_service_pack)
VSA_HOST_GET(OSVersionString, host.os_version)
VSA_HOST_GET(ParallelPort, host.parallel_port)
VSA_HOST_GET(PhysicalProcessorCount, host.physical_processor_count)
VSA_HOST_GET(ProcessorFeaturesString, host.processor_features)
VSA_HOST_GET(ProcessorManufacturerString, host.processor_manufacturer)
VSA_HOST_GET(ProcessorSpeed, host.processor_speed_mhz)
VSA_HOST_GET(ProcessorSpeedString, std::to_string(host.processor_speed_mhz))
VSA_HOST_GET(ProcessorVersionString, host.processor_version)
VSA_HOST_GET(SerialPorts, host.serial_ports)
VSA_HOST_GET(SSE, host.sse)
VSA_HOST_GET(SSE2, host.sse2)
VSA_HOST_GET(ThreeDNow, host.three_d_now)
VSA_HOST_GET(UTCTime, std::time(nullptr))
#undef VSA_HOST_GET

int VsService::IVMHostInfo_USCOREGetHostDriveSize(_vs__IVMHostInfo_USCOREGetHostDriveSize* request,
                                                  _vs__IVMHostInfo_USCOREGetHostDriveSizeResponse& response) {
    return host_answer(request->_USCOREthis, response.returnval, [&](HostInfo const&) {
        return m_backend->server.host().host_drive_size_mb(request->hostDriveIdentifier);
    });
}

int VsService::IVMHostInfo_USCOREIsHostDriveMounted(
    _vs__IVMHostInfo_USCOREIsHostDriveMounted* request,
    _vs__IVMHostInfo_USCOREIsHostDriveMountedResponse& response) {
    return host_answer(request->_USCOREthis, response.returnval, [&](HostInfo const&) {
        return m_backend->server.host().is_host_drive_mounted(request->hostDriveIdentifier);
    });
}

// --- IVMVirtualServer: inventory -------------------------------------------

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// The listings need the read right on the server (access_policy.cpp) and
// show only the VMs and networks the caller may read, as the batched reads
// do: an object you may not read is not yours to know about.
std::vector<std::string> VsService::readable_vm_refs() {
    std::vector<std::string> refs;
    for (auto const& vm : inventory().virtual_machines())
        if (auto ref = vm_ref(vm); may_read(ref)) refs.push_back(std::move(ref));
    return refs;
}

std::vector<std::string> VsService::readable_network_refs() {
    std::vector<std::string> refs;
    for (auto const& network : inventory().virtual_networks())
        if (auto ref = network_ref(network); may_read(ref)) refs.push_back(std::move(ref));
    return refs;
}

VSA_OP(IVMVirtualServer_USCOREget_USCOREVirtualMachines) {
    return answer(response.returnval, [&] { return readable_vm_refs(); });
}

VSA_OP(IVMVirtualServer_USCOREget_USCOREVirtualNetworks) {
    return answer(response.returnval, [&] { return readable_network_refs(); });
}

VSA_OP(IVMVirtualServer_USCOREget_USCOREDefaultVMConfigurationPath) {
    return answer(response.returnval, [&] { return inventory().default_vm_path().string(); });
}

VSA_OP(IVMVirtualServer_USCOREset_USCOREDefaultVMConfigurationPath) {
    return act([&] { return inventory().set_default_vm_path(request->path); });
}

VSA_OP(IVMVirtualServer_USCOREget_USCOREDefaultVNConfigurationPath) {
    return answer(response.returnval, [&] { return inventory().default_vn_path().string(); });
}

VSA_OP(IVMVirtualServer_USCOREget_USCORESearchPaths) {
    return answer(response.returnval, [&] {
        std::vector<std::string> paths;
        for (auto const& path : inventory().search_paths())
            paths.push_back(path.string());
        return paths;
    });
}

VSA_OP(IVMVirtualServer_USCOREset_USCORESearchPaths) {
    return act([&] { return inventory().set_search_paths(strings_of(request->paths)); });
}

VSA_OP(IVMVirtualServer_USCORECreateVirtualMachine) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return vm_ref(
            TRY(inventory().create_virtual_machine(request->configurationName, request->configurationPath)));
    });
}

VSA_OP(IVMVirtualServer_USCORERegisterVirtualMachine) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return vm_ref(TRY(
            inventory().register_virtual_machine(request->configurationName, request->configurationPath)));
    });
}

// false (S_FALSE) only for a well-formed reference to no registered VM: a
// malformed one is E_INVALIDARG like any other bad reference.
VSA_OP(IVMVirtualServer_USCOREUnregisterVirtualMachine) {
    return answer(response.returnval, [&]() -> ServiceResult<bool> {
        return inventory().unregister_virtual_machine(
            TRY(parse_guid_ref(request->virtualMachine, "IVMVirtualMachine")));
    });
}

VSA_OP(IVMVirtualServer_USCOREDeleteVirtualMachine) {
    return answer(response.returnval, [&]() -> ServiceResult<bool> {
        return inventory().delete_virtual_machine(
            TRY(parse_guid_ref(request->virtualMachine, "IVMVirtualMachine")));
    });
}

// Not found is S_FALSE with no object: an empty reference.
VSA_OP(IVMVirtualServer_USCOREFindVirtualMachine) {
    return answer(response.returnval, [&] {
        auto vm = inventory().find_virtual_machine(request->configurationName);
        return vm ? vm_ref(*vm) : std::string();
    });
}

VSA_OP(IVMVirtualServer_USCORECreateVirtualNetwork) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return network_ref(
            TRY(inventory().create_virtual_network(request->configurationName, request->configurationPath)));
    });
}

VSA_OP(IVMVirtualServer_USCORERegisterVirtualNetwork) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return network_ref(TRY(
            inventory().register_virtual_network(request->configurationName, request->configurationPath)));
    });
}

VSA_OP(IVMVirtualServer_USCOREUnregisterVirtualNetwork) {
    return answer(response.returnval, [&]() -> ServiceResult<bool> {
        Guid id = TRY(parse_guid_ref(request->virtualNetwork, "IVMVirtualNetwork"));
        bool removed = TRY(inventory().unregister_virtual_network(id));
        runtime().network_removed(id); // its switch stops; running VMs' adapters are unplugged
        return removed;
    });
}

VSA_OP(IVMVirtualServer_USCOREDeleteVirtualNetwork) {
    return answer(response.returnval, [&]() -> ServiceResult<bool> {
        Guid id = TRY(parse_guid_ref(request->virtualNetwork, "IVMVirtualNetwork"));
        bool removed = TRY(inventory().delete_virtual_network(id));
        runtime().network_removed(id);
        return removed;
    });
}

VSA_OP(IVMVirtualServer_USCOREFindVirtualNetwork) {
    return answer(response.returnval, [&] {
        auto network = inventory().find_virtual_network(request->configurationName);
        return network ? network_ref(*network) : std::string();
    });
}

VSA_OP(IVMVirtualServer_USCOREGetVirtualMachineFiles) {
    return answer(response.returnval, [&] {
        return inventory().find_files(Inventory::FileKind::VirtualMachine,
                                      strings_of(request->inAdditionalSearchPaths),
                                      request->inExcludedRegisteredVMs);
    });
}

VSA_OP(IVMVirtualServer_USCOREGetVirtualNetworkFiles) {
    return answer(response.returnval, [&] {
        return inventory().find_files(Inventory::FileKind::VirtualNetwork,
                                      strings_of(request->inAdditionalSearchPaths),
                                      request->inExcludedRegisteredVNs);
    });
}

#define VSA_FILES_OP(op, kind)                                                                               \
    VSA_OP(IVMVirtualServer_USCORE##op) {                                                                    \
        return answer(response.returnval, [&] {                                                              \
            return inventory().find_files(Inventory::FileKind::kind,                                         \
                                          strings_of(request->inAdditionalSearchPaths), false);              \
        });                                                                                                  \
    }
VSA_FILES_OP(GetHardDiskFiles, HardDisk)
VSA_FILES_OP(GetDVDFiles, Dvd)
VSA_FILES_OP(GetFloppyDiskFiles, Floppy)
#undef VSA_FILES_OP

// --- IVMVirtualServer: tasks and disk creation ----------------------------

VSA_OP(IVMVirtualServer_USCOREget_USCORETasks) {
    return answer(response.returnval, [&] {
        std::vector<std::string> refs;
        for (auto const& task : m_backend->server.tasks().list())
            refs.push_back(task_ref(*task));
        return refs;
    });
}

VSA_OP(IVMVirtualServer_USCORECreateDynamicVirtualHardDisk) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return task_ref(
            *TRY(m_backend->server.disk_tasks().create_dynamic(request->imagePath, request->size)));
    });
}

VSA_OP(IVMVirtualServer_USCORECreateFixedVirtualHardDisk) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return task_ref(*TRY(m_backend->server.disk_tasks().create_fixed(request->imagePath, request->size)));
    });
}

VSA_OP(IVMVirtualServer_USCORECreateDifferencingVirtualHardDisk) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return task_ref(*TRY(
            m_backend->server.disk_tasks().create_differencing(request->imagePath, request->parentPath)));
    });
}

// --- IVMTask, IVMTask2 ----------------------------------------------------

#define VSA_TASK_GET(iface, prop, Type, expression)                                                          \
    VSA_OP(iface##_USCOREget_USCORE##prop) {                                                                 \
        return answer(response.returnval, [&]() -> ServiceResult<Type> {                                     \
            services::TaskHandle task = TRY(lookup_task(m_backend->server.tasks(), request->_USCOREthis));   \
            return expression;                                                                               \
        });                                                                                                  \
    }
VSA_TASK_GET(IVMTask, Description, std::string, task->description())
VSA_TASK_GET(IVMTask, ID, std::int32_t, task->number())
VSA_TASK_GET(IVMTask, IsCancelable, bool, task->is_cancelable())
VSA_TASK_GET(IVMTask, IsComplete, bool, task->is_complete())
VSA_TASK_GET(IVMTask, PercentCompleted, std::int32_t, task->percent_completed())
VSA_TASK_GET(IVMTask, Result, std::int32_t, static_cast<std::int32_t>(task->result()))
VSA_TASK_GET(IVMTask2, Error, std::uint32_t, task->error().value)
VSA_TASK_GET(IVMTask2, ErrorDescription, std::string, task->error_description())
#undef VSA_TASK_GET

VSA_OP(IVMTask_USCORECancel) {
    return act([&]() -> ServiceResult<void> {
        return TRY(lookup_task(m_backend->server.tasks(), request->_USCOREthis))->cancel();
    });
}

// This thread is one of the listener's workers (the long-poll listener
// runs the same service): the wait is capped (task_wait_cap) so it never
// nears the request deadline and a client loops on false instead.
VSA_OP(IVMTask_USCOREWaitForCompletion) {
    return answer(response.returnval, [&]() -> ServiceResult<bool> {
        services::TaskHandle task = TRY(lookup_task(m_backend->server.tasks(), request->_USCOREthis));
        return services::TaskRegistry::wait(*task, request->timeout, task_wait_cap(*m_limits));
    });
}

// --- IVMVirtualMachine ----------------------------------------------------

#define VSA_VM_GET(prop, Type, expression)                                                                   \
    VSA_OP(IVMVirtualMachine_USCOREget_USCORE##prop) {                                                       \
        return answer(response.returnval, [&]() -> ServiceResult<Type> {                                     \
            Guid id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));                        \
            auto value = inventory().read_virtual_machine(                                                   \
                id, [](VirtualMachine const& vm) -> Type { return expression; });                            \
            if (!value) return Err{unknown_vm(id)};                                                          \
            return std::move(*value);                                                                        \
        });                                                                                                  \
    }
VSA_VM_GET(Name, std::string, vm.name())
VSA_VM_GET(ConfigID, std::string, vm.config_id().to_string())
VSA_VM_GET(File, std::string, vm.file().string())
VSA_VM_GET(State, std::int32_t, static_cast<std::int32_t>(vm.state()))
VSA_VM_GET(Memory, std::int32_t, vm.memory_mb())
VSA_VM_GET(Notes, std::string, vm.notes())
VSA_VM_GET(Undoable, bool, vm.undoable())
VSA_VM_GET(UndoAction, std::int32_t, static_cast<std::int32_t>(vm.undo_action()))
#undef VSA_VM_GET

VSA_OP(IVMVirtualMachine_USCOREget_USCORESavedStateFilePath) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        VirtualMachine vm = TRY(lookup_vm(inventory(), request->_USCOREthis));
        if (vm.state() != services::VmState::Saved)
            return Err{ServiceError{hr::VM_E_VM_NO_SAVED_STATE,
                                    "virtual machine \"" + vm.name() + "\" has no saved state"}};
        return vm.saved_state_file().string();
    });
}

VSA_OP(IVMVirtualMachine_USCOREget_USCOREShutdownActionOnQuit) {
    return answer(response.returnval, [&]() -> ServiceResult<std::int32_t> {
        VirtualMachine vm = TRY(lookup_vm(inventory(), request->_USCOREthis));
        return static_cast<std::int32_t>(vm.shutdown_action());
    });
}

// --- IVMVirtualMachine: power ---------------------------------------------

// Startup, TurnOff, Save and Reset return their task at once; a refusal in
// the VM's state is the call's fault (services/worker/vm_runtime.h).
#define VSA_VM_POWER_TASK(op, method)                                                                        \
    VSA_OP(IVMVirtualMachine_USCORE##op) {                                                                   \
        return answer(response.returnval, [&]() -> ServiceResult<std::string> {                              \
            Guid id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));                        \
            return task_ref(*TRY(runtime().method(id)));                                                     \
        });                                                                                                  \
    }
VSA_VM_POWER_TASK(TurnOff, turn_off)
VSA_VM_POWER_TASK(Save, save)
VSA_VM_POWER_TASK(Reset, reset)
VSA_VM_POWER_TASK(MergeUndoDisks, merge_undo_disks)
#undef VSA_VM_POWER_TASK

VSA_OP(IVMVirtualMachine_USCOREStartup) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));
        TRY(require_disk_rights(id));
        return task_ref(*TRY(runtime().startup(id)));
    });
}

#define VSA_VM_POWER_CALL(op, method)                                                                        \
    VSA_OP(IVMVirtualMachine_USCORE##op) {                                                                   \
        return act([&]() -> ServiceResult<void> {                                                            \
            return runtime().method(TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine")));         \
        });                                                                                                  \
    }
VSA_VM_POWER_CALL(Pause, pause)
VSA_VM_POWER_CALL(Resume, resume)
VSA_VM_POWER_CALL(DiscardSavedState, discard_saved_state)
VSA_VM_POWER_CALL(DiscardUndoDisks, discard_undo_disks)
#undef VSA_VM_POWER_CALL

// Every setter goes through update_virtual_machine: validated on a copy,
// written to the .vmc, then committed, so a fault changes nothing.
template <typename Change>
static ServiceResult<void> update_vm(Inventory& inventory, std::string const& ref, Change&& change) {
    Guid id = TRY(parse_guid_ref(ref, "IVMVirtualMachine"));
    TRY(inventory.update_virtual_machine(id, std::forward<Change>(change)));
    return Ok{};
}

VSA_OP(IVMVirtualMachine_USCOREset_USCOREName) {
    return act([&] {
        return update_vm(inventory(), request->_USCOREthis,
                         [&](VirtualMachine& vm) { return vm.set_name(request->name); });
    });
}

VSA_OP(IVMVirtualMachine_USCOREset_USCOREMemory) {
    return act([&] {
        return update_vm(inventory(), request->_USCOREthis,
                         [&](VirtualMachine& vm) { return vm.set_memory_mb(request->memory); });
    });
}

VSA_OP(IVMVirtualMachine_USCOREset_USCOREShutdownActionOnQuit) {
    return act([&] {
        return update_vm(inventory(), request->_USCOREthis, [&](VirtualMachine& vm) -> ServiceResult<void> {
            auto action = services::enum_from_int<services::ShutdownAction>(request->action);
            if (!action)
                return Err{ServiceError{hr::E_INVALIDARG, "ShutdownActionOnQuit is 0 (Save), 1 (TurnOff) or "
                                                          "2 (Shutdown), not " +
                                                              std::to_string(request->action)}};
            return vm.set_shutdown_action(*action);
        });
    });
}

// Through the runtime: disabling deletes the undo disks in the same change.
VSA_OP(IVMVirtualMachine_USCOREset_USCOREUndoable) {
    return act([&]() -> ServiceResult<void> {
        return runtime().set_undoable(TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine")),
                                      request->enableUndo);
    });
}

VSA_OP(IVMVirtualMachine_USCOREset_USCOREUndoAction) {
    return act([&] {
        return update_vm(inventory(), request->_USCOREthis, [&](VirtualMachine& vm) -> ServiceResult<void> {
            auto action = services::enum_from_int<services::UndoAction>(request->undoAction);
            if (!action)
                return Err{
                    ServiceError{hr::E_INVALIDARG, "UndoAction is 0 (Discard), 1 (Keep) or 2 (Commit), "
                                                   "not " +
                                                       std::to_string(request->undoAction)}};
            return vm.set_undo_action(*action);
        });
    });
}

VSA_OP(IVMVirtualMachine_USCOREset_USCORENotes) {
    return act([&] {
        return update_vm(inventory(), request->_USCOREthis,
                         [&](VirtualMachine& vm) { return vm.set_notes(request->notes); });
    });
}

VSA_OP(IVMVirtualMachine_USCOREget_USCOREHardDiskConnections) {
    return answer(response.returnval, [&]() -> ServiceResult<std::vector<std::string>> {
        VirtualMachine vm = TRY(lookup_vm(inventory(), request->_USCOREthis));
        std::vector<std::string> refs;
        for (auto const& disk : vm.hard_disk_connections())
            refs.push_back(hdc_ref(vm.config_id(), disk.location()));
        return refs;
    });
}

VSA_OP(IVMVirtualMachine_USCOREAddHardDiskConnection) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));
        BusLocation location{TRY(disk_bus_type(request->busType)), request->busNumber, request->deviceNumber};
        auto path = TRY(inventory().resolve_media_path(id, request->hardDiskPath));
        TRY(inventory().update_virtual_machine(
            id, [&](VirtualMachine& vm) { return vm.add_hard_disk_connection(path.string(), location); }));
        return hdc_ref(id, location);
    });
}

VSA_OP(IVMVirtualMachine_USCORERemoveHardDiskConnection) {
    return act([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_hdc_ref(request->hardDiskConnection));
        Guid vm_id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));
        if (parsed.first != vm_id)
            return Err{ServiceError{hr::E_INVALIDARG,
                                    "the hard disk connection belongs to another virtual machine"}};
        TRY(inventory().update_virtual_machine(
            vm_id, [&](VirtualMachine& vm) { return vm.remove_hard_disk_connection(parsed.second); }));
        return Ok{};
    });
}

VSA_OP(IVMVirtualMachine_USCOREget_USCORENetworkAdapters) {
    return answer(response.returnval, [&]() -> ServiceResult<std::vector<std::string>> {
        VirtualMachine vm = TRY(lookup_vm(inventory(), request->_USCOREthis));
        std::vector<std::string> refs;
        for (auto const& nic : vm.network_adapters())
            refs.push_back(nic_ref(vm.config_id(), nic.id()));
        return refs;
    });
}

VSA_OP(IVMVirtualMachine_USCOREAddNetworkAdapter) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));
        return nic_ref(id, TRY(inventory().add_network_adapter(id)));
    });
}

// --- IVMHardDiskConnection ------------------------------------------------

#define VSA_HDC_GET(prop, Type, expression)                                                                  \
    VSA_OP(IVMHardDiskConnection_USCOREget_USCORE##prop) {                                                   \
        return answer(response.returnval, [&]() -> ServiceResult<Type> {                                     \
            services::HardDiskConnection disk = TRY(lookup_hdc(inventory(), request->_USCOREthis));          \
            return expression;                                                                               \
        });                                                                                                  \
    }
VSA_HDC_GET(HardDisk, std::string, disk.disk_path())
VSA_HDC_GET(UndoHardDisk, std::string, disk.undo_disk_path())
VSA_HDC_GET(BusType, std::int32_t, static_cast<std::int32_t>(disk.location().bus_type))
VSA_HDC_GET(BusNumber, std::int32_t, disk.location().bus)
VSA_HDC_GET(DeviceNumber, std::int32_t, disk.location().device)
#undef VSA_HDC_GET

// --- IVMNetworkAdapter ----------------------------------------------------

VSA_OP(IVMNetworkAdapter_USCOREget_USCOREEthernetAddress) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        services::NetworkAdapter nic = TRY(lookup_nic(inventory(), request->_USCOREthis));
        return nic.ethernet_address().to_string();
    });
}

VSA_OP(IVMNetworkAdapter_USCOREget_USCOREVirtualNetwork) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        services::NetworkAdapter nic = TRY(lookup_nic(inventory(), request->_USCOREthis));
        return nic.virtual_network() ? nic.virtual_network()->id.to_string() : std::string();
    });
}

VSA_OP(IVMNetworkAdapter_USCOREAttachToVirtualNetwork) {
    return act([&]() -> ServiceResult<void> {
        auto nic = TRY(parse_nic_ref(request->_USCOREthis));
        Guid network = TRY(parse_guid_ref(request->virtualNetwork, "IVMVirtualNetwork"));
        TRY(inventory().attach_network_adapter(nic.first, nic.second, network));
        runtime().sync_network_adapters(nic.first); // a running VM's cable moves now
        return Ok{};
    });
}

VSA_OP(IVMNetworkAdapter_USCOREDetachFromVirtualNetwork) {
    return act([&]() -> ServiceResult<void> {
        auto nic = TRY(parse_nic_ref(request->_USCOREthis));
        TRY(inventory().detach_network_adapter(nic.first, nic.second));
        runtime().sync_network_adapters(nic.first);
        return Ok{};
    });
}

// --- IVMVirtualNetwork ----------------------------------------------------

#define VSA_VN_GET(prop, Type, expression)                                                                   \
    VSA_OP(IVMVirtualNetwork_USCOREget_USCORE##prop) {                                                       \
        return answer(response.returnval, [&]() -> ServiceResult<Type> {                                     \
            VirtualNetwork network = TRY(lookup_network(inventory(), request->_USCOREthis));                 \
            return expression;                                                                               \
        });                                                                                                  \
    }
VSA_VN_GET(Name, std::string, network.name())
VSA_VN_GET(ID, std::string, network.id().to_string())
VSA_VN_GET(File, std::string, network.file().string())
VSA_VN_GET(Notes, std::string, network.notes())
#undef VSA_VN_GET

template <typename Change>
static ServiceResult<void> update_network(Inventory& inventory, std::string const& ref, Change&& change) {
    Guid id = TRY(parse_guid_ref(ref, "IVMVirtualNetwork"));
    TRY(inventory.update_virtual_network(id, std::forward<Change>(change)));
    return Ok{};
}

VSA_OP(IVMVirtualNetwork_USCOREset_USCOREName) {
    return act([&] {
        return update_network(inventory(), request->_USCOREthis,
                              [&](VirtualNetwork& network) { return network.set_name(request->name); });
    });
}

VSA_OP(IVMVirtualNetwork_USCOREset_USCORENotes) {
    return act([&] {
        return update_network(inventory(), request->_USCOREthis,
                              [&](VirtualNetwork& network) { return network.set_notes(request->notes); });
    });
}

VSA_OP(IVMVirtualNetwork_USCOREget_USCORENetworkAdapters) {
    return answer(response.returnval, [&]() -> ServiceResult<std::vector<std::string>> {
        VirtualNetwork network = TRY(lookup_network(inventory(), request->_USCOREthis));
        std::vector<std::string> refs;
        for (auto const& nic : inventory().network_adapters_on(network.id()))
            refs.push_back(nic_ref(nic.vm, nic.adapter));
        return refs;
    });
}

// --- Removable media ------------------------------------------------------

VSA_OP(IVMVirtualMachine_USCOREget_USCOREDVDROMDrives) {
    return answer(response.returnval, [&]() -> ServiceResult<std::vector<std::string>> {
        VirtualMachine vm = TRY(lookup_vm(inventory(), request->_USCOREthis));
        std::vector<std::string> refs;
        for (auto const& drive : vm.dvd_drives())
            refs.push_back(location_ref(vm.config_id(), DVD_MARK, drive.location()));
        return refs;
    });
}

VSA_OP(IVMVirtualMachine_USCOREAddDVDROMDrive) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        Guid id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));
        if (request->busType != static_cast<int>(DriveBusType::Ide))
            return Err{ServiceError{hr::E_INVALIDARG, "CD/DVD drives are IDE only (busType 0)"}};
        BusLocation location{DriveBusType::Ide, request->busNumber, request->deviceNumber};
        TRY(inventory().update_virtual_machine(
            id, [&](VirtualMachine& vm) { return vm.add_dvd_drive(location); }));
        return location_ref(id, DVD_MARK, location);
    });
}

VSA_OP(IVMVirtualMachine_USCORERemoveDVDROMDrive) {
    return act([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_dvd_ref(request->dvdDrive));
        Guid vm_id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));
        if (parsed.first != vm_id)
            return Err{ServiceError{hr::E_INVALIDARG, "the CD/DVD drive belongs to another virtual machine"}};
        TRY(inventory().update_virtual_machine(
            vm_id, [&](VirtualMachine& vm) { return vm.remove_dvd_drive(parsed.second); }));
        return Ok{};
    });
}

VSA_OP(IVMVirtualMachine_USCOREget_USCOREFloppyDrives) {
    return answer(response.returnval, [&]() -> ServiceResult<std::vector<std::string>> {
        VirtualMachine vm = TRY(lookup_vm(inventory(), request->_USCOREthis));
        return std::vector<std::string>{fdd_ref(vm.config_id(), vm.floppy_drive().drive_number())};
    });
}

#define VSA_DVD_GET(prop, Type, expression)                                                                  \
    VSA_OP(IVMDVDDrive_USCOREget_USCORE##prop) {                                                             \
        return answer(response.returnval, [&]() -> ServiceResult<Type> {                                     \
            services::DvdDrive drive = TRY(lookup_dvd(inventory(), request->_USCOREthis));                   \
            return expression;                                                                               \
        });                                                                                                  \
    }
VSA_DVD_GET(Attachment, std::int32_t, static_cast<std::int32_t>(drive.attachment()))
VSA_DVD_GET(ImageFile, std::string, drive.image_file())
VSA_DVD_GET(BusType, std::int32_t, static_cast<std::int32_t>(drive.location().bus_type))
VSA_DVD_GET(BusNumber, std::int32_t, drive.location().bus)
VSA_DVD_GET(DeviceNumber, std::int32_t, drive.location().device)
// Empty (Virtual Server's S_FALSE) for an image or nothing, as ImageFile is
// empty for a host drive.
VSA_DVD_GET(HostDriveLetter, std::string,
            drive.attachment() == services::DvdAttachment::HostDrive ? drive.host_drive_letter()
                                                                     : std::string())
#undef VSA_DVD_GET

VSA_OP(IVMDVDDrive_USCOREAttachImage) {
    return act([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_dvd_ref(request->_USCOREthis));
        auto path = TRY(inventory().resolve_media_path(parsed.first, request->imagePath));
        // A running VM's drive changes first (VmRuntime::attach_dvd_image).
        return runtime().attach_dvd_image(parsed.first, parsed.second, path);
    });
}

VSA_OP(IVMDVDDrive_USCOREReleaseImage) {
    return act([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_dvd_ref(request->_USCOREthis));
        return runtime().release_dvd_image(parsed.first, parsed.second);
    });
}

// Host optical drives: only ids of services/host_optical_drives.h's table
// (the "drive letter"), never a path; the rules are VmRuntime's.
VSA_OP(IVMDVDDrive_USCOREAttachHostDrive) {
    return act([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_dvd_ref(request->_USCOREthis));
        return runtime().attach_dvd_host_drive(parsed.first, parsed.second, request->driveLetter);
    });
}

VSA_OP(IVMDVDDrive_USCOREReleaseHostDrive) {
    return act([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_dvd_ref(request->_USCOREthis));
        return runtime().release_dvd_host_drive(parsed.first, parsed.second);
    });
}

#define VSA_FDD_GET(prop, Type, expression)                                                                  \
    VSA_OP(IVMFloppyDrive_USCOREget_USCORE##prop) {                                                          \
        return answer(response.returnval, [&]() -> ServiceResult<Type> {                                     \
            services::FloppyDrive drive = TRY(lookup_fdd(inventory(), request->_USCOREthis));                \
            return expression;                                                                               \
        });                                                                                                  \
    }
VSA_FDD_GET(Attachment, std::int32_t, static_cast<std::int32_t>(drive.attachment()))
VSA_FDD_GET(ImageFile, std::string, drive.image_file())
#undef VSA_FDD_GET

VSA_OP(IVMFloppyDrive_USCOREAttachImage) {
    return act([&]() -> ServiceResult<void> {
        Guid id = TRY(parse_fdd_ref(request->_USCOREthis));
        auto path = TRY(inventory().resolve_media_path(id, request->mediaImagePath));
        return runtime().attach_floppy_image(id, path);
    });
}

VSA_OP(IVMFloppyDrive_USCOREReleaseImage) {
    return act([&]() -> ServiceResult<void> {
        Guid id = TRY(parse_fdd_ref(request->_USCOREthis));
        return runtime().release_floppy_image(id);
    });
}

// --- Start policies, NIC and network settings, DHCP, collections ----------

VSA_OP(IVMVirtualMachine_USCOREget_USCOREAutoStartAtLaunch) {
    return answer(response.returnval, [&]() -> ServiceResult<std::int32_t> {
        VirtualMachine vm = TRY(lookup_vm(inventory(), request->_USCOREthis));
        return static_cast<std::int32_t>(vm.autostart());
    });
}

VSA_OP(IVMVirtualMachine_USCOREset_USCOREAutoStartAtLaunch) {
    return act([&]() -> ServiceResult<void> {
        Guid id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));
        auto type = services::enum_from_int<services::AutoStartType>(request->autoStart);
        if (!type)
            return service_error(hr::E_INVALIDARG, "AutoStartAtLaunch must be 0 (Never), 1 (Always) or 2 "
                                                   "(IfRunningAtQuit)");
        TRY(inventory().update_virtual_machine(id,
                                               [&](VirtualMachine& vm) { return vm.set_autostart(*type); }));
        return Ok{};
    });
}

VSA_OP(IVMVirtualMachine_USCOREget_USCOREAutoStartAtLaunchDelay) {
    return answer(response.returnval, [&]() -> ServiceResult<std::int32_t> {
        VirtualMachine vm = TRY(lookup_vm(inventory(), request->_USCOREthis));
        return vm.autostart_delay_seconds();
    });
}

VSA_OP(IVMVirtualMachine_USCOREset_USCOREAutoStartAtLaunchDelay) {
    return act([&]() -> ServiceResult<void> {
        Guid id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));
        TRY(inventory().update_virtual_machine(
            id, [&](VirtualMachine& vm) { return vm.set_autostart_delay_seconds(request->delay); }));
        return Ok{};
    });
}

VSA_OP(IVMVirtualMachine_USCORERemoveNetworkAdapter) {
    return act([&]() -> ServiceResult<void> {
        auto nic = TRY(parse_nic_ref(request->networkAdapter));
        Guid vm_id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualMachine"));
        if (nic.first != vm_id)
            return service_error(hr::E_INVALIDARG, "the network adapter belongs to another virtual machine");
        TRY(inventory().update_virtual_machine(
            vm_id, [&](VirtualMachine& vm) { return vm.remove_network_adapter(nic.second); }));
        return Ok{};
    });
}

VSA_OP(IVMHardDiskConnection_USCORESetBusLocation) {
    return act([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_hdc_ref(request->_USCOREthis));
        BusLocation to{TRY(disk_bus_type(request->busType)), request->busNumber, request->deviceNumber};
        TRY(inventory().update_virtual_machine(parsed.first, [&](VirtualMachine& vm) {
            return vm.move_hard_disk_connection(parsed.second, to);
        }));
        return Ok{};
    });
}

VSA_OP(IVMNetworkAdapter_USCOREset_USCOREEthernetAddress) {
    return act([&]() -> ServiceResult<void> {
        auto nic = TRY(parse_nic_ref(request->_USCOREthis));
        return inventory().set_ethernet_address(nic.first, nic.second, request->address);
    });
}

VSA_OP(IVMNetworkAdapter_USCOREget_USCOREIsEthernetAddressDynamic) {
    return answer(response.returnval, [&]() -> ServiceResult<bool> {
        return TRY(lookup_nic(inventory(), request->_USCOREthis)).is_ethernet_address_dynamic();
    });
}

VSA_OP(IVMNetworkAdapter_USCOREset_USCOREIsEthernetAddressDynamic) {
    return act([&]() -> ServiceResult<void> {
        auto nic = TRY(parse_nic_ref(request->_USCOREthis));
        return inventory().set_ethernet_address_dynamic(nic.first, nic.second, request->dynamic);
    });
}

VSA_OP(IVMNetworkAdapter_USCOREget_USCOREVirtualMachine) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        auto nic = TRY(parse_nic_ref(request->_USCOREthis));
        TRY(lookup_nic(inventory(), request->_USCOREthis)); // the NIC must exist
        return nic.first.to_string();
    });
}

VSA_OP(IVMVirtualNetwork_USCOREget_USCOREHostAdapter) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return TRY(lookup_network(inventory(), request->_USCOREthis)).host_adapter();
    });
}

// "" (guest-only), "NAT", or a Linux bridge (virtual_network.h); another
// host interface is refused: a virtual network joins the host's network
// as a port of a bridge, never by taking over a NIC.
VSA_OP(IVMVirtualNetwork_USCOREset_USCOREHostAdapter) {
    return act([&]() -> ServiceResult<void> {
        std::string const& name = request->adapter;
        if (!name.empty() && name != services::NAT_HOST_ADAPTER) {
            auto host = m_backend->host_info.current();
            auto listed = [&](std::vector<std::string> const& names) {
                return std::find(names.begin(), names.end(), name) != names.end();
            };
            if (!listed(host->network_adapters))
                return service_error(hr::VM_E_ADAPTER_NOT_FOUND,
                                     "the host has no network interface \"" + name.substr(0, 64) +
                                         "\" (IVMHostInfo.NetworkAdapters lists them)");
            if (!listed(host->network_bridges))
                return service_error(
                    hr::VM_E_ADAPTER_NOT_FOUND,
                    "\"" + name + "\" is not a Linux bridge: bridging needs a bridge with the NIC " +
                        "as its port (e.g. br0 with " + name + " in it); \"NAT\" needs none");
        }
        Guid id = TRY(parse_guid_ref(request->_USCOREthis, "IVMVirtualNetwork"));
        auto updated = TRY(inventory().update_virtual_network(
            id, [&](VirtualNetwork& network) { return network.set_host_adapter(name); }));
        runtime().networks().configure(updated); // a running network's NAT or bridge follows
        return Ok{};
    });
}

// IVMVirtualNetwork's traffic counters (virtual_switch.h TrafficRates).
#define VSA_VN_TRAFFIC(prop, series)                                                                         \
    VSA_OP(IVMVirtualNetwork_USCOREget_USCORE##prop) {                                                       \
        return answer(response.returnval, [&]() -> ServiceResult<std::int32_t> {                             \
            VirtualNetwork network = TRY(lookup_network(inventory(), request->_USCOREthis));                 \
            auto current = runtime().networks().rates(network.id()).series.current;                          \
            return static_cast<std::int32_t>(std::min<std::uint64_t>(current, INT32_MAX));                   \
        });                                                                                                  \
    }                                                                                                        \
    VSA_OP(IVMVirtualNetwork_USCOREget_USCORE##prop##History) {                                              \
        if (int rc = require_principal()) return rc;                                                         \
        auto network = lookup_network(inventory(), request->_USCOREthis);                                    \
        if (network.is_error()) return fault(network.error());                                               \
        auto const& history = runtime().networks().rates(network.value().id()).series.history;               \
        response.returnval = soap_new_vs__ArrayOfUnsignedInt(soap);                                          \
        response.returnval->item.assign(history.begin(), history.end());                                     \
        return SOAP_OK;                                                                                      \
    }
VSA_VN_TRAFFIC(BytesReceived, bytes_received)
VSA_VN_TRAFFIC(BytesSent, bytes_sent)
VSA_VN_TRAFFIC(BytesDropped, bytes_dropped)
VSA_VN_TRAFFIC(PacketsReceived, packets_received)
VSA_VN_TRAFFIC(PacketsSent, packets_sent)
VSA_VN_TRAFFIC(PacketsDropped, packets_dropped)
#undef VSA_VN_TRAFFIC

namespace {

constexpr std::string_view DHCP_SUFFIX = "/dhcp";

// "<network>/dhcp": the network's DHCP server.
ServiceResult<std::string> dhcp_network_ref(std::string_view ref) {
    if (ref.size() <= DHCP_SUFFIX.size() || ref.substr(ref.size() - DHCP_SUFFIX.size()) != DHCP_SUFFIX)
        return Err{bad_reference(ref, "IVMDHCPVirtualNetworkServer")};
    return std::string(ref.substr(0, ref.size() - DHCP_SUFFIX.size()));
}

ServiceResult<services::DhcpSettings> lookup_dhcp(Inventory const& inventory, std::string_view ref) {
    return TRY(lookup_network(inventory, TRY(dhcp_network_ref(ref)))).dhcp();
}

} // namespace

VSA_OP(IVMVirtualNetwork_USCOREget_USCOREDHCPVirtualNetworkServer) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return network_ref(TRY(lookup_network(inventory(), request->_USCOREthis))) + std::string(DHCP_SUFFIX);
    });
}

#define VSA_DHCP_GET(prop, Type, expression)                                                                 \
    VSA_OP(IVMDHCPVirtualNetworkServer_USCOREget_USCORE##prop) {                                             \
        return answer(response.returnval, [&]() -> ServiceResult<Type> {                                     \
            services::DhcpSettings dhcp = TRY(lookup_dhcp(inventory(), request->_USCOREthis));               \
            return expression;                                                                               \
        });                                                                                                  \
    }
VSA_DHCP_GET(IsEnabled, bool, dhcp.is_enabled())
VSA_DHCP_GET(Network, std::string, dhcp.network())
VSA_DHCP_GET(NetworkMask, std::string, dhcp.network_mask())
VSA_DHCP_GET(StartingIPAddress, std::string, dhcp.starting_ip_address())
VSA_DHCP_GET(EndingIPAddress, std::string, dhcp.ending_ip_address())
VSA_DHCP_GET(ServerIPAddress, std::string, dhcp.server_ip_address())
VSA_DHCP_GET(DefaultGatewayAddress, std::string, dhcp.default_gateway_address())
VSA_DHCP_GET(DNSServers, std::string, dhcp.dns_servers())
VSA_DHCP_GET(WINSServers, std::string, dhcp.wins_servers())
VSA_DHCP_GET(LeaseTime, std::string, std::to_string(dhcp.lease_time()))
VSA_DHCP_GET(LeaseRenewalTime, std::string, std::to_string(dhcp.lease_renewal_time()))
VSA_DHCP_GET(LeaseRebindingTime, std::string, std::to_string(dhcp.lease_rebinding_time()))
#undef VSA_DHCP_GET

#define VSA_DHCP_ACT(op, statement)                                                                          \
    VSA_OP(IVMDHCPVirtualNetworkServer_USCORE##op) {                                                         \
        return act([&]() -> ServiceResult<void> {                                                            \
            auto network = TRY(dhcp_network_ref(request->_USCOREthis));                                      \
            Guid id = TRY(parse_guid_ref(network, "IVMVirtualNetwork"));                                     \
            auto updated =                                                                                   \
                TRY(inventory().update_virtual_network(id, [&](VirtualNetwork& net) -> ServiceResult<void> { \
                    auto& dhcp = net.dhcp();                                                                 \
                    statement;                                                                               \
                }));                                                                                         \
            runtime().networks().configure(updated); /* a running network's server follows */                \
            return Ok{};                                                                                     \
        });                                                                                                  \
    }
VSA_DHCP_ACT(set_USCOREIsEnabled, dhcp.set_enabled(request->enabled); return Ok{})
VSA_DHCP_ACT(set_USCOREDefaultGatewayAddress, return dhcp.set_default_gateway_address(request->address))
VSA_DHCP_ACT(set_USCOREDNSServers, return dhcp.set_dns_servers(request->servers))
VSA_DHCP_ACT(set_USCOREWINSServers, return dhcp.set_wins_servers(request->servers))
VSA_DHCP_ACT(ConfigureDHCPLeaseTimes,
             return dhcp.configure_lease_times(request->leaseTime, request->leaseRenewalTime,
                                               request->leaseRebindingTime))
VSA_DHCP_ACT(ConfigureDHCPServer,
             return dhcp.configure(request->network, request->networkMask, request->startingIPAddress,
                                   request->endingIPAddress, request->serverIPAddress))
#undef VSA_DHCP_ACT

// Collections: "<owner>/<Property>", read afresh on every call.
ServiceResult<std::vector<std::string>> VsService::collection(std::string_view ref, char const* kind) {
    auto slash = ref.rfind('/');
    if (slash == std::string_view::npos) return Err{bad_reference(ref, kind)};
    auto owner = ref.substr(0, slash);
    auto property = ref.substr(slash + 1);
    std::string_view wanted = kind;
    std::vector<std::string> refs;
    if (owner == "server") {
        if (property == "VirtualMachines" && wanted == "IVMVirtualMachineCollection")
            return readable_vm_refs();
        if (property == "VirtualNetworks" && wanted == "IVMVirtualNetworkCollection")
            return readable_network_refs();
        if (property == "Tasks" && wanted == "IVMTaskCollection") {
            for (auto const& task : m_backend->server.tasks().list())
                refs.push_back(task_ref(*task));
            return refs;
        }
        return Err{bad_reference(ref, kind)};
    }
    Guid id = TRY(parse_guid_ref(owner, kind));
    if (property == "NetworkAdapters" && wanted == "IVMNetworkAdapterCollection") {
        if (auto vm = inventory().virtual_machine(id)) {
            for (auto const& nic : vm->network_adapters())
                refs.push_back(nic_ref(id, nic.id()));
            return refs;
        }
        if (inventory().virtual_network(id)) {
            for (auto const& nic : inventory().network_adapters_on(id))
                refs.push_back(nic_ref(nic.vm, nic.adapter));
            return refs;
        }
        return service_error(hr::VM_E_VM_UNKNOWN,
                             "no registered virtual machine or network " + id.to_string());
    }
    if (property == "HardDiskConnections" && wanted == "IVMHardDiskConnectionCollection") {
        VirtualMachine vm = TRY(lookup_vm(inventory(), owner));
        for (auto const& disk : vm.hard_disk_connections())
            refs.push_back(hdc_ref(id, disk.location()));
        return refs;
    }
    if (property == "DVDROMDrives" && wanted == "IVMDVDDriveCollection") {
        VirtualMachine vm = TRY(lookup_vm(inventory(), owner));
        for (auto const& drive : vm.dvd_drives())
            refs.push_back(location_ref(id, DVD_MARK, drive.location()));
        return refs;
    }
    return Err{bad_reference(ref, kind)};
}

#define VSA_COLLECTION(iface)                                                                                \
    VSA_OP(iface##_USCOREget_USCORECount) {                                                                  \
        return answer(response.returnval, [&]() -> ServiceResult<std::int32_t> {                             \
            return static_cast<std::int32_t>(TRY(collection(request->_USCOREthis, #iface)).size());          \
        });                                                                                                  \
    }                                                                                                        \
    VSA_OP(iface##_USCOREget_USCOREItem) {                                                                   \
        return answer(response.returnval, [&]() -> ServiceResult<std::string> {                              \
            auto items = TRY(collection(request->_USCOREthis, #iface));                                      \
            if (request->index < 1 || static_cast<std::size_t>(request->index) > items.size())               \
                return service_error(hr::DISP_E_BADINDEX, "index " + std::to_string(request->index) +        \
                                                              " is outside 1.." +                            \
                                                              std::to_string(items.size()));                 \
            return items[static_cast<std::size_t>(request->index) - 1];                                      \
        });                                                                                                  \
    }                                                                                                        \
    VSA_OP(iface##_USCOREget_USCORE_USCORENewEnum) {                                                         \
        return answer(response.returnval, [&]() -> ServiceResult<std::vector<std::string>> {                 \
            return collection(request->_USCOREthis, #iface);                                                 \
        });                                                                                                  \
    }
VSA_COLLECTION(IVMVirtualMachineCollection)
VSA_COLLECTION(IVMVirtualNetworkCollection)
VSA_COLLECTION(IVMHardDiskConnectionCollection)
VSA_COLLECTION(IVMNetworkAdapterCollection)
VSA_COLLECTION(IVMDVDDriveCollection)
VSA_COLLECTION(IVMTaskCollection)
#undef VSA_COLLECTION

// --- Virtual hard disks ---------------------------------------------------

VSA_OP(IVMVirtualServer_USCOREGetHardDisk) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        // Existence only: a disk a running VM holds locked is still a disk
        // (its properties are read when asked for).
        return TRY(services::resolve_hard_disk(inventory(), request->imagePath)).string();
    });
}

#define VSA_HD_GET(prop, Type, expression)                                                                   \
    VSA_OP(IVMHardDisk_USCOREget_USCORE##prop) {                                                             \
        return answer(response.returnval, [&]() -> ServiceResult<Type> {                                     \
            services::HardDiskInfo disk =                                                                    \
                TRY(services::inspect_hard_disk(inventory(), request->_USCOREthis));                         \
            return expression;                                                                               \
        });                                                                                                  \
    }
VSA_HD_GET(File, std::string, disk.file.string())
VSA_HD_GET(Type, std::int32_t, static_cast<std::int32_t>(disk.type))
VSA_HD_GET(SizeInGuest, std::string, std::to_string(disk.size_in_guest))
VSA_HD_GET(SizeOnHost, std::string, std::to_string(disk.size_on_host))
VSA_HD_GET(Parent, std::string, disk.parent.string())
#undef VSA_HD_GET

// Re-links a differencing disk to its parent at another path
// (services/hard_disk.h, services/storage/vhd_relink.h).
VSA_OP(IVMHardDisk_USCOREset_USCOREParent) {
    return act([&]() -> ServiceResult<void> {
        return services::set_hard_disk_parent(inventory(), request->_USCOREthis, request->parent);
    });
}

VSA_OP(IVMHardDisk_USCORECompact) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return task_ref(*TRY(m_backend->server.disk_tasks().compact(request->_USCOREthis)));
    });
}

VSA_OP(IVMHardDisk_USCOREMerge) {
    return answer(response.returnval, [&]() -> ServiceResult<std::string> {
        return task_ref(*TRY(m_backend->server.disk_tasks().merge(request->_USCOREthis)));
    });
}

// --- Events and batched reads (VSA extensions) -----------------------------

namespace {

vs__ArrayOfString* string_array(struct soap* soap, std::vector<std::string> items) {
    auto* array = soap_new_vs__ArrayOfString(soap);
    array->item = std::move(items);
    return array;
}

vs__VsaEvent* soap_event(struct soap* soap, services::Event const& event) {
    auto* out = soap_new_vs__VsaEvent(soap);
    out->sequence = static_cast<LONG64>(event.sequence);
    out->time = std::chrono::system_clock::to_time_t(event.time);
    out->kind = std::string(services::event_kind_name(event.kind));
    out->severity = std::string(services::event_severity_name(event.severity));
    out->objectKind = event.object_kind;
    out->object = event.object;
    out->objectName = event.object_name;
    out->state = event.state;
    out->message = event.message;
    return out;
}

vs__ArrayOfVsaEvent* soap_events(struct soap* soap, std::vector<services::Event> const& events) {
    auto* out = soap_new_vs__ArrayOfVsaEvent(soap);
    out->item.reserve(events.size());
    for (auto const& event : events)
        out->item.push_back(soap_event(soap, event));
    return out;
}

// The optional fields stay out of the answer when they hold their
// defaults: a 64-VM inventory read is mostly plain values, and every
// element left out is parsing and serialising saved on both ends.
vs__PropertyValue* soap_property(struct soap* soap, services::PropertyValue&& value) {
    auto* item = soap_new_vs__PropertyValue(soap);
    item->property = std::move(value.property);
    item->value = std::move(value.value);
    if (value.is_array) {
        item->isArray = soap_new_bool(soap);
        *item->isArray = true;
        item->items = string_array(soap, std::move(value.items));
    }
    if (value.error != hr::S_OK) {
        item->hresult = soap_new_unsignedInt(soap);
        *item->hresult = value.error.value;
        item->message = soap_new_std__string(soap);
        *item->message = std::move(value.message);
    }
    return item;
}

vs__ArrayOfPropertyValue* soap_properties(struct soap* soap, std::vector<services::PropertyValue> values) {
    auto* out = soap_new_vs__ArrayOfPropertyValue(soap);
    out->item.reserve(values.size());
    for (auto& value : values)
        out->item.push_back(soap_property(soap, std::move(value)));
    return out;
}

// Values come object by object (ObjectUpdates::retrieve keeps the order
// asked), so one ObjectProperties per run of the same reference.
vs__ArrayOfObjectProperties* soap_object_properties(struct soap* soap,
                                                    std::vector<services::PropertyValue> values) {
    auto* out = soap_new_vs__ArrayOfObjectProperties(soap);
    vs__ObjectProperties* current = nullptr;
    for (auto& value : values) {
        if (!current || current->object != value.object) {
            current = soap_new_vs__ObjectProperties(soap);
            current->object = std::move(value.object);
            current->properties = soap_new_vs__ArrayOfPropertyValue(soap);
            out->item.push_back(current);
        }
        current->properties->item.push_back(soap_property(soap, std::move(value)));
    }
    return out;
}

services::ObjectUpdates object_updates(services::VirtualServer& server) {
    return services::ObjectUpdates(server.inventory(), server.tasks(), server.events());
}

} // namespace

VSA_OP(IVMVirtualServer_USCOREget_USCORELongPollPort) {
    return answer(response.returnval, [&] { return static_cast<int>(m_call->long_poll_port); });
}

VSA_OP(IVMVirtualServer_USCOREget_USCORELastEventSequence) {
    return answer(response.returnval,
                  [&] { return static_cast<LONG64>(m_backend->server.events().last_sequence()); });
}

VSA_OP(IVMVirtualServer_USCOREGetEvents) {
    return answer(response.returnval, [&]() -> ServiceResult<vs__ArrayOfVsaEvent*> {
        if (request->afterSequence < 0)
            return service_error(hr::E_INVALIDARG, "afterSequence must be 0 or more");
        if (request->maxCount < 1 ||
            request->maxCount > static_cast<int>(services::ObjectUpdates::MAX_EVENTS))
            return service_error(hr::E_INVALIDARG, "maxCount must be 1.." +
                                                       std::to_string(services::ObjectUpdates::MAX_EVENTS));
        auto events = m_backend->server.events().after(static_cast<std::uint64_t>(request->afterSequence),
                                                       static_cast<std::size_t>(request->maxCount));
        // Events about a VM or network the caller may not read are left
        // out (the gap in the numbers shows that something happened).
        std::erase_if(events, [&](services::Event const& event) { return !may_read(event.object); });
        for (auto const& event : events)
            record_operation("event:" + std::string(event_kind_name(event.kind)));
        return soap_events(soap, events);
    });
}

// The wait holds this thread: only the long-poll listener's threads may
// wait (its pool is sized for waiters), so ordinary calls never queue
// behind long polls. The main port still answers at once (timeout 0), and
// serves waits itself when no long-poll listener is configured.
VSA_OP(IVMVirtualServer_USCOREWaitForUpdates) {
    return answer(response.returnval, [&]() -> ServiceResult<vs__UpdateSet*> {
        if (request->sinceSequence < 0)
            return service_error(hr::E_INVALIDARG, "sinceSequence must be 0 or more");
        if (request->timeout < 0)
            return service_error(hr::E_INVALIDARG, "timeout must be 0 or more milliseconds");
        if (request->timeout > 0 && !m_call->long_poll && m_call->long_poll_port != 0)
            return service_error(hr::E_INVALIDARG,
                                 "WaitForUpdates with a timeout is served on the long-poll port " +
                                     std::to_string(m_call->long_poll_port) +
                                     " (this port answers timeout 0 only)");
        auto timeout = std::min(std::chrono::milliseconds(request->timeout), task_wait_cap(*m_limits));
        auto set = object_updates(m_backend->server)
                       .wait_for_updates(static_cast<std::uint64_t>(request->sinceSequence), timeout);
        std::erase_if(set.events, [&](services::Event const& event) { return !may_read(event.object); });
        std::erase_if(set.objects,
                      [&](services::ObjectUpdate const& object) { return !may_read(object.object); });
        for (auto const& event : set.events)
            record_operation("event:" + std::string(event_kind_name(event.kind)));
        auto* out = soap_new_vs__UpdateSet(soap);
        out->sequence = static_cast<LONG64>(set.sequence);
        out->resync = set.resync;
        out->events = soap_events(soap, set.events);
        out->objects = soap_new_vs__ArrayOfObjectUpdate(soap);
        for (auto& object : set.objects) {
            auto* item = soap_new_vs__ObjectUpdate(soap);
            item->objectKind = std::move(object.object_kind);
            item->object = std::move(object.object);
            item->removed = object.removed;
            item->properties = soap_properties(soap, std::move(object.properties));
            out->objects->item.push_back(item);
        }
        return out;
    });
}

VSA_OP(IVMVirtualServer_USCORERetrieveProperties) {
    return answer(response.returnval, [&]() -> ServiceResult<vs__ArrayOfObjectProperties*> {
        auto values = TRY(object_updates(m_backend->server)
                              .retrieve(strings_of(request->objects), strings_of(request->properties)));
        // Per object, as the single-property operations would check it.
        std::map<std::string, bool> readable;
        for (auto& value : values) {
            auto [entry, fresh] = readable.try_emplace(value.object, true);
            if (fresh) entry->second = may_read(value.object);
            if (entry->second) continue;
            value.value.clear();
            value.items.clear();
            value.error = hr::E_ACCESSDENIED;
            value.message = "access denied: the read right on " + value.object + " is missing";
        }
        return soap_object_properties(soap, std::move(values));
    });
}

#undef VSA_OP

} // namespace vsa::appliance
