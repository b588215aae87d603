// SPDX-License-Identifier: GPL-2.0-or-later
// VsService: the VM's COM and LPT ports (IVMSerialPort, IVMParallelPort and
// their collections), the floppy drive's number, host drive and collection,
// and IVMDVDDrive.SetBusLocation. Adapters only: what a port's Name means
// on this host is services/model/serial_port.h and parallel_port.h, when it
// may change is VirtualMachine's (virtual_machine_ports.cpp), host floppy
// drives are services/host_floppy_drives.h.
//
// References: "<vm>/com/<id>" (0 COM1, 1 COM2), "<vm>/lpt/0",
// "<vm>/fdd/0" (as in vs_service.cpp); collections "<vm>/SerialPorts",
// "<vm>/ParallelPorts", "<vm>/FloppyDrives". They carry no state: one of a
// VM that is gone fails with VM_E_VM_UNKNOWN.
#include "appliance/soap/fault_mapping.h"
#include "appliance/soap/vs_service.h"
#include "services/host_floppy_drives.h"
#include "services/virtual_server.h"

#include <filesystem>

namespace vsa::appliance {

using services::BusLocation;
using services::DriveBusType;
using services::Guid;
using services::ServiceError;
using services::ServiceResult;
using services::VirtualMachine;
namespace hr = services::hr;

namespace {

constexpr std::string_view COM_MARK = "/com/";
constexpr std::string_view LPT_MARK = "/lpt/";
constexpr std::string_view FDD_MARK = "/fdd/";
constexpr std::string_view DVD_MARK = "/dvd/";

// "<vm><mark><number>" with number in [0, count): the VM and the number.
ServiceResult<std::pair<Guid, std::int32_t>> parse_numbered_ref(std::string_view ref, std::string_view mark,
                                                                std::int32_t count, char const* kind) {
    auto at = ref.find(mark);
    if (at == std::string_view::npos) return Err{bad_reference(ref, kind)};
    auto id = Guid::parse(ref.substr(0, at));
    auto number = parse_reference_number(ref.substr(at + mark.size()));
    if (!id || !number || *number < 0 || *number >= count) return Err{bad_reference(ref, kind)};
    return std::pair{*id, *number};
}

std::string numbered_ref(Guid const& vm, std::string_view mark, std::int32_t number) {
    return vm.to_string() + std::string(mark) + std::to_string(number);
}

ServiceResult<VirtualMachine> find_vm(services::Inventory const& inventory, Guid const& id) {
    auto vm = inventory.virtual_machine(id);
    if (!vm) return Err{ServiceError{hr::VM_E_VM_UNKNOWN, "no registered virtual machine " + id.to_string()}};
    return std::move(*vm);
}

// The item references of one of this file's collections, read afresh.
ServiceResult<std::vector<std::string>> port_collection(services::Inventory const& inventory,
                                                        std::string_view ref, std::string_view property,
                                                        char const* kind) {
    auto slash = ref.rfind('/');
    if (slash == std::string_view::npos || ref.substr(slash + 1) != property)
        return Err{bad_reference(ref, kind)};
    auto id = Guid::parse(ref.substr(0, slash));
    if (!id) return Err{bad_reference(ref, kind)};
    VirtualMachine vm = TRY(find_vm(inventory, *id));
    std::vector<std::string> refs;
    if (property == "SerialPorts") {
        for (auto const& port : vm.serial_ports())
            refs.push_back(numbered_ref(*id, COM_MARK, port.id()));
    } else if (property == "ParallelPorts") {
        refs.push_back(numbered_ref(*id, LPT_MARK, vm.parallel_port().id()));
    } else {
        refs.push_back(numbered_ref(*id, FDD_MARK, vm.floppy_drive().drive_number()));
    }
    return refs;
}

// A value read from a model object, or the lookup's error.
template <typename T, typename F>
auto then(ServiceResult<T> result, F&& read)
    -> ServiceResult<std::decay_t<std::invoke_result_t<F, T const&>>> {
    if (result.is_error()) return Err{result.error()};
    return read(result.value());
}

template <typename Out, typename In>
void store(struct soap* soap, Out& out, In&& in) {
    if constexpr (std::is_same_v<Out, vs__ArrayOfString*>) {
        out = soap_new_vs__ArrayOfString(soap);
        out->item = std::forward<In>(in);
    } else {
        out = static_cast<Out>(std::forward<In>(in));
    }
}

} // namespace

// The model's answer into the response, or its error as the fault; an
// operation without a value answers ServiceResult<void>.
#define VSA_PORTS_ANSWER(expression)                                                                         \
    do {                                                                                                     \
        if (int rc = require_principal()) return rc;                                                         \
        auto result = [&]() { return expression; }();                                                        \
        if (result.is_error()) return fault(result.error());                                                 \
        store(soap, response.returnval, result.release_value());                                             \
        return SOAP_OK;                                                                                      \
    } while (false)
#define VSA_PORTS_ACT(expression)                                                                            \
    do {                                                                                                     \
        if (int rc = require_principal()) return rc;                                                         \
        ServiceResult<void> result = [&]() -> ServiceResult<void> { return expression; }();                  \
        if (result.is_error()) return fault(result.error());                                                 \
        return SOAP_OK;                                                                                      \
    } while (false)

#define VSA_OP(op)                                                                                           \
    int VsService::op([[maybe_unused]] _vs__##op* request, [[maybe_unused]] _vs__##op##Response& response)

// --- IVMVirtualMachine ------------------------------------------------------

VSA_OP(IVMVirtualMachine_USCOREget_USCORESerialPorts) {
    VSA_PORTS_ANSWER(port_collection(inventory(), request->_USCOREthis + "/SerialPorts", "SerialPorts",
                                     "IVMVirtualMachine"));
}

VSA_OP(IVMVirtualMachine_USCOREget_USCOREParallelPorts) {
    VSA_PORTS_ANSWER(port_collection(inventory(), request->_USCOREthis + "/ParallelPorts", "ParallelPorts",
                                     "IVMVirtualMachine"));
}

// --- IVMSerialPort ----------------------------------------------------------

namespace {

ServiceResult<services::SerialPort> lookup_serial(services::Inventory const& inventory,
                                                  std::string_view ref) {
    auto parsed = TRY(parse_numbered_ref(ref, COM_MARK, 2, "IVMSerialPort"));
    VirtualMachine vm = TRY(find_vm(inventory, parsed.first));
    return vm.serial_ports()[static_cast<std::size_t>(parsed.second)];
}

// A host port must exist as a terminal device: the worker could not start
// the VM otherwise.
ServiceResult<void> check_host_serial(std::string const& name) {
    auto device = services::host_serial_device(name);
    if (!device) return {}; // the model refuses it with its own message
    std::error_code ec;
    auto status = std::filesystem::status(*device, ec);
    if (ec || status.type() != std::filesystem::file_type::character)
        return service_error(hr::E_INVALIDARG, "this host has no serial port " + name + " (" + *device +
                                                   " is no character device); IVMHostInfo.SerialPorts "
                                                   "lists the host's ports");
    return {};
}

} // namespace

VSA_OP(IVMSerialPort_USCOREget_USCORE_USCOREID) {
    VSA_PORTS_ANSWER(
        then(lookup_serial(inventory(), request->_USCOREthis), [](auto const& p) { return p.id(); }));
}

VSA_OP(IVMSerialPort_USCOREget_USCOREType) {
    VSA_PORTS_ANSWER(then(lookup_serial(inventory(), request->_USCOREthis),
                          [](auto const& p) { return static_cast<std::int32_t>(p.type()); }));
}

VSA_OP(IVMSerialPort_USCOREget_USCOREName) {
    VSA_PORTS_ANSWER(
        then(lookup_serial(inventory(), request->_USCOREthis), [](auto const& p) { return p.name(); }));
}

VSA_OP(IVMSerialPort_USCOREget_USCOREConnectImmediately) {
    VSA_PORTS_ANSWER(then(lookup_serial(inventory(), request->_USCOREthis),
                          [](auto const& p) { return p.connect_immediately(); }));
}

VSA_OP(IVMSerialPort_USCOREConfigure) {
    VSA_PORTS_ACT(([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_numbered_ref(request->_USCOREthis, COM_MARK, 2, "IVMSerialPort"));
        auto type = services::enum_from_int<services::SerialPortType>(request->portType);
        if (!type)
            return service_error(hr::E_INVALIDARG, "unknown serial port type " +
                                                       std::to_string(request->portType) +
                                                       " (VMSerialPortType: 0 HostPort, 1 TextFile, 2 "
                                                       "NamedPipe, 3 Null)");
        if (*type == services::SerialPortType::HostPort) TRY(check_host_serial(request->portName));
        TRY(inventory().update_virtual_machine(parsed.first, [&](VirtualMachine& vm) {
            return vm.configure_serial_port(parsed.second, *type, request->portName,
                                            request->connectImmediately);
        }));
        return Ok{};
    }()));
}

// --- IVMParallelPort --------------------------------------------------------

VSA_OP(IVMParallelPort_USCOREget_USCORE_USCOREID) {
    VSA_PORTS_ANSWER(([&]() -> ServiceResult<std::int32_t> {
        auto parsed = TRY(parse_numbered_ref(request->_USCOREthis, LPT_MARK, 1, "IVMParallelPort"));
        VirtualMachine vm = TRY(find_vm(inventory(), parsed.first));
        return vm.parallel_port().id();
    }()));
}

VSA_OP(IVMParallelPort_USCOREget_USCOREName) {
    VSA_PORTS_ANSWER(([&]() -> ServiceResult<std::string> {
        auto parsed = TRY(parse_numbered_ref(request->_USCOREthis, LPT_MARK, 1, "IVMParallelPort"));
        VirtualMachine vm = TRY(find_vm(inventory(), parsed.first));
        return vm.parallel_port().name();
    }()));
}

VSA_OP(IVMParallelPort_USCOREset_USCOREName) {
    VSA_PORTS_ACT(([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_numbered_ref(request->_USCOREthis, LPT_MARK, 1, "IVMParallelPort"));
        TRY(inventory().update_virtual_machine(
            parsed.first, [&](VirtualMachine& vm) { return vm.set_parallel_port_name(request->portName); }));
        return Ok{};
    }()));
}

// --- IVMFloppyDrive ---------------------------------------------------------

namespace {

ServiceResult<services::FloppyDrive> lookup_floppy(services::Inventory const& inventory,
                                                   std::string_view ref) {
    auto parsed = TRY(parse_numbered_ref(ref, FDD_MARK, 1, "IVMFloppyDrive"));
    VirtualMachine vm = TRY(find_vm(inventory, parsed.first));
    return vm.floppy_drive();
}

} // namespace

VSA_OP(IVMFloppyDrive_USCOREget_USCOREDriveNumber) {
    VSA_PORTS_ANSWER(then(lookup_floppy(inventory(), request->_USCOREthis),
                          [](auto const& d) { return d.drive_number(); }));
}

// Empty for an image or nothing, as the DVD drive's.
VSA_OP(IVMFloppyDrive_USCOREget_USCOREHostDriveLetter) {
    VSA_PORTS_ANSWER(then(lookup_floppy(inventory(), request->_USCOREthis), [](auto const& d) {
        return d.attachment() == services::FloppyAttachment::HostDrive ? d.host_drive_letter()
                                                                       : std::string();
    }));
}

VSA_OP(IVMFloppyDrive_USCOREAttachHostDrive) {
    VSA_PORTS_ACT(([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_numbered_ref(request->_USCOREthis, FDD_MARK, 1, "IVMFloppyDrive"));
        TRY(find_vm(inventory(), parsed.first));
        return runtime().attach_floppy_host_drive(parsed.first, request->driveLetter);
    }()));
}

VSA_OP(IVMFloppyDrive_USCOREReleaseHostDrive) {
    VSA_PORTS_ACT(([&]() -> ServiceResult<void> {
        auto parsed = TRY(parse_numbered_ref(request->_USCOREthis, FDD_MARK, 1, "IVMFloppyDrive"));
        return runtime().release_floppy_host_drive(parsed.first);
    }()));
}

// --- IVMDVDDrive.SetBusLocation ----------------------------------------------

VSA_OP(IVMDVDDrive_USCORESetBusLocation) {
    VSA_PORTS_ACT(([&]() -> ServiceResult<void> {
        // "<vm>/dvd/<bus>:<device>", as vs_service.cpp names drives.
        std::string_view ref = request->_USCOREthis;
        auto at = ref.find(DVD_MARK);
        if (at == std::string_view::npos) return Err{bad_reference(ref, "IVMDVDDrive")};
        auto id = Guid::parse(ref.substr(0, at));
        auto rest = ref.substr(at + DVD_MARK.size());
        auto colon = rest.find(':');
        auto bus =
            colon == std::string_view::npos ? std::nullopt : parse_reference_number(rest.substr(0, colon));
        auto device =
            colon == std::string_view::npos ? std::nullopt : parse_reference_number(rest.substr(colon + 1));
        if (!id || !bus || !device) return Err{bad_reference(ref, "IVMDVDDrive")};
        if (request->busType != static_cast<int>(DriveBusType::Ide))
            return service_error(hr::E_INVALIDARG, "CD/DVD drives attach to IDE only (busType 0), not " +
                                                       std::to_string(request->busType));
        BusLocation from{DriveBusType::Ide, *bus, *device};
        BusLocation to{DriveBusType::Ide, request->busNumber, request->deviceNumber};
        TRY(inventory().update_virtual_machine(
            *id, [&](VirtualMachine& vm) { return vm.move_dvd_drive(from, to); }));
        return Ok{};
    }()));
}

// --- Collections ------------------------------------------------------------

#define VSA_PORT_COLLECTION(iface, property)                                                                 \
    VSA_OP(iface##_USCOREget_USCORECount) {                                                                  \
        VSA_PORTS_ANSWER(then(port_collection(inventory(), request->_USCOREthis, property, #iface),          \
                              [](auto const& items) { return static_cast<std::int32_t>(items.size()); }));   \
    }                                                                                                        \
    VSA_OP(iface##_USCOREget_USCOREItem) {                                                                   \
        VSA_PORTS_ANSWER(([&]() -> ServiceResult<std::string> {                                              \
            auto items = TRY(port_collection(inventory(), request->_USCOREthis, property, #iface));          \
            if (request->index < 1 || static_cast<std::size_t>(request->index) > items.size())               \
                return service_error(hr::DISP_E_BADINDEX, "index " + std::to_string(request->index) +        \
                                                              " is outside 1.." +                            \
                                                              std::to_string(items.size()));                 \
            return items[static_cast<std::size_t>(request->index) - 1];                                      \
        }()));                                                                                               \
    }                                                                                                        \
    VSA_OP(iface##_USCOREget_USCORE_USCORENewEnum) {                                                         \
        VSA_PORTS_ANSWER(port_collection(inventory(), request->_USCOREthis, property, #iface));              \
    }
VSA_PORT_COLLECTION(IVMSerialPortCollection, "SerialPorts")
VSA_PORT_COLLECTION(IVMParallelPortCollection, "ParallelPorts")
VSA_PORT_COLLECTION(IVMFloppyDriveCollection, "FloppyDrives")
#undef VSA_PORT_COLLECTION

#undef VSA_OP
#undef VSA_PORTS_ACT
#undef VSA_PORTS_ANSWER

} // namespace vsa::appliance
