// SPDX-License-Identifier: GPL-2.0-or-later
// The management scenario from a gSOAP-generated C++ client: the proxy
// soapcpp2 makes from our WSDL, as a C++ management tool would use it. Run
// by run_client_scenario.py (like the Perl and node clients), which starts
// vsad with two accounts (an administrator and "viewer") and passes:
//
//   gsoap_scenario_client [--agent-disk=IMG] URL CA_FILE ADMIN ADMIN_PASSWORD VIEWER VIEWER_PASSWORD ISO
//
// IVMGuestOS2 answers only through a guest agent: a second VM boots
// --agent-disk (tests/progs/agent_disk.img); without it that interface is
// not called and the run fails.
//
// Scenario: log on (Session_Logon, then the SessionToken header); create a
// dynamic VHD (task), a VM, attach the disk and a DVD image, start it
// (task), see it Running with a non-empty 64x48 thumbnail, call every
// non-event interface of the model once at least and check the answer
// (every_interface: a table, "interfaces called: N/38"), pause, resume,
// save (task), start it again from the saved state, turn it off, read the
// event log, and delete it; an ACL step where the viewer is denied reading
// a VM (the fault names the right) until the administrator allows it.
// Faults are checked for their VirtualServerFault detail (HRESULT, name,
// message). Prints one line per check and "N passed, N failed"; exits 1 on
// any failure.
#include "soapH.h"
#include "soapVirtualServerBindingProxy.h"

#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

constexpr unsigned E_ACCESSDENIED = 0x80070005;
constexpr unsigned E_INVALIDARG = 0x80070057;
// VMVMState (vs-api.md section 4).
constexpr int TURNED_OFF = 1, SAVED = 2, RUNNING = 5, PAUSED = 6;

int g_passed = 0;
int g_failed = 0;

bool check(bool condition, std::string const& what) {
    ++(condition ? g_passed : g_failed);
    std::printf("%s %s\n", condition ? "PASS" : "FAIL", what.c_str());
    std::fflush(stdout);
    return condition;
}

struct Fault {
    unsigned hresult{0};
    std::string name, message, faultstring;
};

// One session: a proxy with TLS verification against vsad's certificate
// (host-name checking on: it names 127.0.0.1) and, once logged on, the
// SessionToken header on every call.
class Session {
public:
    Session(std::string url, std::string const& ca_file) : m_endpoint(std::move(url)) {
        m_proxy.soap_endpoint = m_endpoint.c_str();
        m_proxy.soap->recv_timeout = m_proxy.soap->send_timeout = 120; // seconds: a hung call fails
        if (soap_ssl_client_context(m_proxy.soap, SOAP_SSL_DEFAULT, nullptr, nullptr, ca_file.c_str(),
                                    nullptr, nullptr) != SOAP_OK)
            throw std::runtime_error("cannot set up TLS with " + ca_file);
    }

    void set_token(std::string token) { m_token = std::move(token); }

    // Calls `op`; the response, or nullopt with the fault in last_fault().
    template <class Request, class Response>
    std::optional<Response> call(int (VirtualServerBindingProxy::*op)(Request*, Response&), Request request) {
        Response response;
        if (send(op, request, response)) return response;
        return std::nullopt;
    }

    // Calls `op` into `response`: whether it succeeded (else the fault is
    // in last_fault()). The per-operation part is this one line, the rest
    // is settle(): fewer instantiations keep the compile short.
    template <class Request, class Response>
    bool send(int (VirtualServerBindingProxy::*op)(Request*, Response&), Request& request,
              Response& response) {
        if (!m_token.empty()) m_proxy.soap_header(&m_token);
        return settle((m_proxy.*op)(&request, response));
    }

    Fault const& last_fault() const { return m_fault; }

private:
    bool settle(int rc) {
        m_fault = {};
        if (rc == SOAP_OK) return true;
        if (rc == 401) { // no or a dead session: HTTP 401, no SOAP body to read
            m_fault = {E_ACCESSDENIED, "HTTP 401", "", ""};
            return false;
        }
        auto const* fault = m_proxy.soap->fault;
        auto const* detail = fault && fault->detail ? fault->detail->vs__VirtualServerFault : nullptr;
        if (!detail) {
            // A transport or HTTP failure is not part of the scenario.
            char buffer[512] = {};
            soap_sprint_fault(m_proxy.soap, buffer, sizeof buffer);
            throw std::runtime_error("gSOAP error " + std::to_string(rc) + ": " + buffer);
        }
        char const** faultstring = soap_faultstring(m_proxy.soap);
        m_fault = {detail->hresult, detail->hresultName, detail->message,
                   faultstring && *faultstring ? *faultstring : ""};
        return false;
    }

    VirtualServerBindingProxy m_proxy{SOAP_C_UTFSTRING | SOAP_XML_STRICT};
    std::string m_endpoint;
    std::string m_token;
    Fault m_fault;
};

// The response of a call that must succeed (a failed check naming the
// fault otherwise).
bool succeeded(Session& s, bool ok, std::string const& what) {
    if (!ok) check(false, what + ": " + s.last_fault().name + " " + s.last_fault().message);
    return ok;
}
template <class Request, class Response>
std::optional<Response> must(Session& s, int (VirtualServerBindingProxy::*op)(Request*, Response&),
                             Request request, std::string const& what) {
    auto response = s.call(op, std::move(request));
    succeeded(s, response.has_value(), what);
    return response;
}

// A fault with the given HRESULT whose message matches, and whose
// faultstring is that message (vsad puts the same text in both).
template <class Request, class Response>
void expect_fault(Session& s, int (VirtualServerBindingProxy::*op)(Request*, Response&), Request request,
                  unsigned hresult, std::string const& name, std::string const& pattern,
                  std::string const& what) {
    bool faulted = !s.call(op, std::move(request)).has_value();
    auto const& f = s.last_fault();
    check(faulted && f.hresult == hresult && f.name == name &&
              std::regex_search(f.message, std::regex(pattern)) && f.faultstring == f.message,
          what + " (" + (faulted ? f.name + ": " + f.message : std::string("no fault")) + ")");
}

using Proxy = VirtualServerBindingProxy;

std::string logon(Session& s, std::string const& user, std::string const& password) {
    _vs__Session_USCORELogon request;
    request.userName = user;
    request.password = password;
    auto response = must(s, &Proxy::Session_USCORELogon, request, "Session_Logon as " + user);
    std::string token = response ? response->returnval : "";
    s.set_token(token);
    return token;
}

// Waits for the task to complete and checks its Result.
void wait_task(Session& s, std::string const& task, std::string const& what) {
    if (!check(!task.empty(), what + " returns a task")) return;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    for (;;) {
        _vs__IVMTask_USCOREWaitForCompletion wait;
        wait._USCOREthis = task;
        wait.timeout = 5000;
        auto done = must(s, &Proxy::IVMTask_USCOREWaitForCompletion, wait, what + ": WaitForCompletion");
        if (!done || done->returnval || std::chrono::steady_clock::now() > deadline) break;
    }
    _vs__IVMTask_USCOREget_USCOREResult result;
    result._USCOREthis = task;
    auto r = must(s, &Proxy::IVMTask_USCOREget_USCOREResult, result, what + ": Result");
    _vs__IVMTask2_USCOREget_USCOREErrorDescription error;
    error._USCOREthis = task;
    auto e = must(s, &Proxy::IVMTask2_USCOREget_USCOREErrorDescription, error, what + ": ErrorDescription");
    check(r && r->returnval == 0, what + " completes (Result " + (r ? std::to_string(r->returnval) : "?") +
                                      ": " + (e ? e->returnval : "") + ")");
}

int state(Session& s, std::string const& vm) {
    _vs__IVMVirtualMachine_USCOREget_USCOREState request;
    request._USCOREthis = vm;
    auto response = must(s, &Proxy::IVMVirtualMachine_USCOREget_USCOREState, request, "get_State");
    return response ? response->returnval : -1;
}

// INTERFACE_OP on the object `ref` (no _this on the root object's
// operations), its other arguments set by `fill`: the answer's returnval
// (an array's items), or whether it succeeded for an operation answering
// nothing. A fault fails a check naming it and gives nullopt / false.
template <class Request, class Response, class Fill>
auto invoke(Session& s, int (Proxy::*op)(Request*, Response&), std::string const& ref, char const* what,
            Fill fill) {
    Request request{};
    if constexpr (requires { request._USCOREthis; }) request._USCOREthis = ref;
    fill(request);
    Response response{};
    bool ok = succeeded(s, s.send(op, request, response), what);
    if constexpr (!requires { response.returnval; }) {
        return ok;
    } else if constexpr (std::is_pointer_v<decltype(response.returnval)>) {
        using Items = decltype(response.returnval->item);
        return ok ? std::optional(response.returnval ? response.returnval->item : Items{}) : std::nullopt;
    } else {
        return ok ? std::optional(response.returnval) : std::nullopt;
    }
}
// The `fill` of operations without other arguments, and of get_Item(1):
// named types, so each operation is one instantiation however often used.
struct NoArguments {
    void operator()(auto&) const {}
};
struct FirstItem {
    void operator()(auto& r) const { r.index = 1; }
};
// CALL(IVMKeyboard, PressKey, kb, r.key = "Key_A"): the call on session `a`.
#define CALL(iface, op, ref, ...)                                                                            \
    invoke(a, &Proxy::iface##_USCORE##op, ref, #iface "_" #op, [&](auto& r) {                                \
        (void)r;                                                                                             \
        __VA_ARGS__;                                                                                         \
    })
#define GET(iface, prop, ref)                                                                                \
    invoke(a, &Proxy::iface##_USCOREget_USCORE##prop, ref, #iface "_get_" #prop, NoArguments{})

template <class T>
bool has(std::optional<std::vector<T>> const& list, T const& item) {
    return list && std::find(list->begin(), list->end(), item) != list->end();
}
template <class T>
T first(std::optional<std::vector<T>> const& list) {
    return list && !list->empty() ? list->front() : T{};
}

#define VM_TASK(op, vm, what)                                                                                \
    [&] {                                                                                                    \
        _vs__IVMVirtualMachine_USCORE##op request;                                                           \
        request._USCOREthis = (vm);                                                                          \
        auto response = must(a, &Proxy::IVMVirtualMachine_USCORE##op, request, what);                        \
        return response ? response->returnval : std::string();                                               \
    }()

#define VM_CALL(op, vm, what)                                                                                \
    do {                                                                                                     \
        _vs__IVMVirtualMachine_USCORE##op request;                                                           \
        request._USCOREthis = (vm);                                                                          \
        must(a, &Proxy::IVMVirtualMachine_USCORE##op, request, what);                                        \
    } while (false)

// Count, Item(1) and _NewEnum of a collection: Count is _NewEnum's size,
// Item(1) its first, and `member` is in it.
#define COLLECTION(iface, col, member)                                                                       \
    [&] {                                                                                                    \
        auto all = GET(iface, _USCORENewEnum, col);                                                          \
        auto count = GET(iface, Count, col);                                                                 \
        auto one = invoke(a, &Proxy::iface##_USCOREget_USCOREItem, col, #iface "_get_Item", FirstItem{});    \
        return all && count == int(all->size()) && has(all, std::string(member)) && one == first(all);       \
    }

// At least one call on every non-event interface of the model (the 38 of
// vs-api.md; the event interfaces are the event log, read below), each
// with a check of its answer, while `vm` is Running (display, keyboard,
// mouse and guest need that). The parts that change only while a VM is off
// go on a second VM that never starts: a NIC on a new network, a SCSI
// controller, the ports. Prints "interfaces called: N/38"; fewer fail.
void every_interface(Session& a, std::string const& vm, std::string const& vhd, std::string const& dvd,
                     std::string const& task, std::string const& folder, std::string const& viewer,
                     std::string const& agent_vm) {
    auto const parts = CALL(IVMVirtualServer, CreateVirtualMachine, "", r.configurationName = "gsoap-parts");
    std::string const pvm = parts.value_or("");
    std::string net, hdc, fdd, nic, com, lpt, scsi, guest, security, entry, driver, auth;
    std::string const com_file = folder + "/gsoap/com2.txt";
    struct Probe {
        char const* interface;
        char const* check;
        std::function<bool()> run;
    };
    std::vector<Probe> const probes = {
        {"IVMVirtualServer", "MinimumMemoryPerVM <= 32 <= MaximumMemoryPerVM",
         [&] {
             auto low = GET(IVMVirtualServer, MinimumMemoryPerVM, ""),
                  high = GET(IVMVirtualServer, MaximumMemoryPerVM, "");
             return low && high && *low <= 32 && 32 <= *high;
         }},
        {"IVMVirtualMachine", "Memory is the 32 set, Name the one given",
         [&] {
             return GET(IVMVirtualMachine, Memory, vm) == 32 &&
                    GET(IVMVirtualMachine, Name, vm) == "gsoap-vm";
         }},
        {"IVMVirtualMachineCollection", "server/VirtualMachines holds the VM",
         COLLECTION(IVMVirtualMachineCollection, "server/VirtualMachines", vm)},
        {"IVMVirtualNetwork", "a new network's Name is the one given",
         [&] {
             net = CALL(IVMVirtualServer, CreateVirtualNetwork, "", r.configurationName = "gsoap-net")
                       .value_or("");
             return GET(IVMVirtualNetwork, Name, net) == "gsoap-net";
         }},
        {"IVMVirtualNetworkCollection", "server/VirtualNetworks holds it",
         COLLECTION(IVMVirtualNetworkCollection, "server/VirtualNetworks", net)},
        {"IVMDHCPVirtualNetworkServer", "set_IsEnabled false reads back",
         [&] {
             auto dhcp = GET(IVMVirtualNetwork, DHCPVirtualNetworkServer, net).value_or("");
             return CALL(IVMDHCPVirtualNetworkServer, set_USCOREIsEnabled, dhcp, r.enabled = false) &&
                    GET(IVMDHCPVirtualNetworkServer, IsEnabled, dhcp) == false;
         }},
        // A disk of its own: the running VM holds the scenario's open.
        {"IVMHardDisk", "a new 3 MB fixed disk: File, Type 1 (fixed), SizeInGuest >= 3 MB",
         [&] {
             auto path = folder + "/gsoap/fixed.vhd";
             auto task =
                 CALL(IVMVirtualServer, CreateFixedVirtualHardDisk, "", r.imagePath = path, r.size = 3);
             wait_task(a, task.value_or(""), "CreateFixedVirtualHardDisk");
             auto disk = CALL(IVMVirtualServer, GetHardDisk, "", r.imagePath = path).value_or("");
             auto size = GET(IVMHardDisk, SizeInGuest, disk);
             return GET(IVMHardDisk, File, disk) == path && GET(IVMHardDisk, Type, disk) == 1 && size &&
                    std::stod(*size) >= 3 * 1024 * 1024;
         }},
        {"IVMHardDiskConnection", "HardDisk is the VHD attached",
         [&] {
             hdc = first(GET(IVMVirtualMachine, HardDiskConnections, vm));
             return GET(IVMHardDiskConnection, HardDisk, hdc) == vhd;
         }},
        {"IVMHardDiskConnectionCollection", "holds the connection",
         COLLECTION(IVMHardDiskConnectionCollection, vm + "/HardDiskConnections", hdc)},
        {"IVMDVDDrive", "Attachment 1 (image), BusNumber 1",
         [&] { return GET(IVMDVDDrive, Attachment, dvd) == 1 && GET(IVMDVDDrive, BusNumber, dvd) == 1; }},
        {"IVMDVDDriveCollection", "holds the drive",
         COLLECTION(IVMDVDDriveCollection, vm + "/DVDROMDrives", dvd)},
        {"IVMFloppyDrive", "drive A: (DriveNumber 0), empty (Attachment 0)",
         [&] {
             fdd = first(GET(IVMVirtualMachine, FloppyDrives, vm));
             return GET(IVMFloppyDrive, DriveNumber, fdd) == 0 && GET(IVMFloppyDrive, Attachment, fdd) == 0;
         }},
        {"IVMFloppyDriveCollection",
         "holds drive A:", COLLECTION(IVMFloppyDriveCollection, vm + "/FloppyDrives", fdd)},
        {"IVMNetworkAdapter", "a new NIC attached to the network names it",
         [&] {
             nic = CALL(IVMVirtualMachine, AddNetworkAdapter, pvm).value_or("");
             return CALL(IVMNetworkAdapter, AttachToVirtualNetwork, nic, r.virtualNetwork = net) &&
                    GET(IVMNetworkAdapter, VirtualNetwork, nic) == net;
         }},
        {"IVMNetworkAdapterCollection", "the network's NICs hold it",
         COLLECTION(IVMNetworkAdapterCollection, net + "/NetworkAdapters", nic)},
        {"IVMSerialPort", "COM2 configured as a text file reads back",
         [&] {
             auto ports = GET(IVMVirtualMachine, SerialPorts, pvm);
             com = ports && ports->size() == 2 ? ports->back() : "";
             return CALL(IVMSerialPort, Configure, com, r.portType = 1, r.portName = com_file) &&
                    GET(IVMSerialPort, Type, com) == 1 && GET(IVMSerialPort, Name, com) == com_file &&
                    GET(IVMSerialPort, _USCOREID, com) == 1;
         }},
        {"IVMSerialPortCollection", "holds COM2",
         COLLECTION(IVMSerialPortCollection, pvm + "/SerialPorts", com)},
        {"IVMParallelPort", "set_Name LPT1 reads back",
         [&] {
             lpt = first(GET(IVMVirtualMachine, ParallelPorts, pvm));
             return CALL(IVMParallelPort, set_USCOREName, lpt, r.portName = "LPT1") &&
                    GET(IVMParallelPort, Name, lpt) == "LPT1";
         }},
        {"IVMParallelPortCollection", "holds LPT1",
         COLLECTION(IVMParallelPortCollection, pvm + "/ParallelPorts", lpt)},
        {"IVMSCSIController", "a new controller configured to SCSI ID 6 reads back",
         [&] {
             scsi = CALL(IVMVirtualMachine, AddSCSIController, pvm).value_or("");
             return CALL(IVMSCSIController, Configure, scsi, r.isBusShared = false, r.SCSIID = 6) &&
                    GET(IVMSCSIController, SCSIID, scsi) == 6 &&
                    GET(IVMSCSIController, IsBusShared, scsi) == false;
         }},
        {"IVMSCSIControllerCollection", "holds it",
         COLLECTION(IVMSCSIControllerCollection, pvm + "/SCSIControllers", scsi)},
        {"IVMDisplay", "a text mode (VideoMode 0) of at least 640 x 400",
         [&] {
             auto display = GET(IVMVirtualMachine, Display, vm).value_or("");
             return GET(IVMDisplay, VideoMode, display) == 0 && GET(IVMDisplay, Width, display) >= 640 &&
                    GET(IVMDisplay, Height, display) >= 400;
         }},
        {"IVMKeyboard", "PressKey / ReleaseKey Key_LeftShift: IsPressed follows",
         [&] {
             auto kb = GET(IVMVirtualMachine, Keyboard, vm).value_or("");
             bool down = CALL(IVMKeyboard, PressKey, kb, r.key = "Key_LeftShift") &&
                         CALL(IVMKeyboard, IsPressed, kb, r.key = "Key_LeftShift") == true;
             return CALL(IVMKeyboard, ReleaseKey, kb, r.key = "Key_LeftShift") && down &&
                    CALL(IVMKeyboard, IsPressed, kb, r.key = "Key_LeftShift") == false;
         }},
        {"IVMMouse", "SetButton right: GetButton follows; relative coordinates",
         [&] {
             auto mouse = GET(IVMVirtualMachine, Mouse, vm).value_or("");
             bool down = CALL(IVMMouse, SetButton, mouse, r.buttonIndex = 2, r.down = true) &&
                         CALL(IVMMouse, GetButton, mouse, r.buttonIndex = 2) == true;
             return CALL(IVMMouse, SetButton, mouse, r.buttonIndex = 2, r.down = false) && down &&
                    CALL(IVMMouse, GetButton, mouse, r.buttonIndex = 2) == false &&
                    GET(IVMMouse, UsingAbsoluteCoordinates, mouse) == false;
         }},
        {"IVMAccountant", "SetSchedulingParameters weight 200 reads back",
         [&] {
             auto acc = GET(IVMVirtualMachine, Accountant, vm).value_or("");
             auto cap = GET(IVMAccountant, AllowableMaximumSystemCapacity, acc);
             return cap && *cap > 0 && *cap <= 100 &&
                    CALL(IVMAccountant, SetSchedulingParameters, acc, r.reservedSystemCapacity = 0,
                         r.maxSystemCapacity = *cap, r.relativeWeight = 200) &&
                    GET(IVMAccountant, RelativeWeight, acc) == 200;
         }},
        {"IVMGuestOS", "set_IsHostTimeSyncEnabled false reads back; HeartbeatPercentage 0..100",
         [&] {
             guest = GET(IVMVirtualMachine, GuestOS, vm).value_or("");
             bool off = CALL(IVMGuestOS, set_USCOREIsHostTimeSyncEnabled, guest, r.enabled = false) &&
                        GET(IVMGuestOS, IsHostTimeSyncEnabled, guest) == false;
             auto beat = GET(IVMGuestOS, HeartbeatPercentage, guest);
             return CALL(IVMGuestOS, set_USCOREIsHostTimeSyncEnabled, guest, r.enabled = true) && off &&
                    beat && *beat >= 0 && *beat <= 100;
         }},
        // On the agent VM (start_agent_vm), started before the power cycle:
        // its agent answers once the guest has booted.
        {"IVMGuestOS2", "the agent VM's ComputerName, GetParameter VirtualMachineName",
         [&] {
             if (agent_vm.empty()) return false;
             auto agent = GET(IVMVirtualMachine, GuestOS, agent_vm).value_or("");
             for (int i = 0; i < 300; ++i) {
                 _vs__IVMGuestOS_USCOREget_USCORECanShutdown can;
                 can._USCOREthis = agent;
                 auto answer = a.call(&Proxy::IVMGuestOS_USCOREget_USCORECanShutdown, can);
                 if (answer && answer->returnval) break;
                 std::this_thread::sleep_for(std::chrono::milliseconds(100));
             }
             return GET(IVMGuestOS2, ComputerName, agent) == "vsa-agent-guest" &&
                    CALL(IVMGuestOS2, GetParameter, agent, r.name = "VirtualMachineName") == "gsoap-agent";
         }},
        {"IVMHostInfo", "LogicalProcessorCount >= 1, OperatingSystem named",
         [&] {
             auto host = GET(IVMVirtualServer, HostInfo, "").value_or("");
             auto cpus = GET(IVMHostInfo, LogicalProcessorCount, host);
             auto os = GET(IVMHostInfo, OperatingSystem, host);
             return cpus >= 1 && os && !os->empty();
         }},
        {"IVMSecurity", "set_GroupName Everyone reads back",
         [&] {
             security = GET(IVMVirtualMachine, Security, pvm).value_or("");
             return CALL(IVMSecurity, set_USCOREGroupName, security, r.groupName = "Everyone") &&
                    GET(IVMSecurity, GroupName, security) == "Everyone";
         }},
        {"IVMAccessRights", "a new entry for the viewer: set_WriteAccess reads back, no read",
         [&] {
             entry = CALL(IVMSecurity, AddEntry, security, r.nameOrSid = viewer, r.type = 0).value_or("");
             return CALL(IVMAccessRights, set_USCOREWriteAccess, entry, r.writeAccess = true) &&
                    GET(IVMAccessRights, WriteAccess, entry) == true &&
                    GET(IVMAccessRights, ReadAccess, entry) == false &&
                    GET(IVMAccessRights, Name, entry) == viewer;
         }},
        {"IVMAccessRightsCollection", "the ACL holds the entry",
         [&] {
             auto acl = GET(IVMSecurity, AccessRights, security).value_or("");
             return COLLECTION(IVMAccessRightsCollection, acl, entry)();
         }},
        {"IVMTask", "the Startup task: IsComplete, PercentCompleted 100",
         [&] {
             return GET(IVMTask, IsComplete, task) == true && GET(IVMTask, PercentCompleted, task) == 100;
         }},
        {"IVMTask2", "the Startup task: Error 0", [&] { return GET(IVMTask2, Error, task) == 0u; }},
        {"IVMTaskCollection", "server/Tasks holds the Startup task",
         COLLECTION(IVMTaskCollection, "server/Tasks", task)},
        {"IVMSupportDriver", "Provider is \"Linux \" + this kernel's release",
         [&] {
             driver = first(GET(IVMVirtualServer, SupportDrivers, ""));
             if (driver.empty())
                 std::printf("no support driver on this host (neither tun nor bridge): IVMSupportDriver "
                             "cannot be called\n");
             utsname host{};
             uname(&host);
             return !driver.empty() &&
                    GET(IVMSupportDriver, Provider, driver) == std::string("Linux ") + host.release;
         }},
        {"IVMSupportDriverCollection", "holds it",
         COLLECTION(IVMSupportDriverCollection, "server/SupportDrivers", driver)},
        {"IVMRCAuthenticator", "the console's method: VNC, Type 0",
         [&] {
             auth = first(GET(IVMVirtualServer, VMRCAuthenticators, ""));
             return GET(IVMRCAuthenticator, Name, auth) == "VNC" && GET(IVMRCAuthenticator, Type, auth) == 0;
         }},
        {"IVMRCAuthenticatorCollection", "holds it",
         COLLECTION(IVMRCAuthenticatorCollection, "server/VMRCAuthenticators", auth)},
    };
    int called = 0;
    std::set<std::string> names;
    for (auto const& probe : probes) {
        names.insert(probe.interface);
        called += check(probe.run(), std::string(probe.interface) + ": " + probe.check);
    }
    std::printf("interfaces called: %d/38\n", called);
    check(called == 38 && names.size() == 38, "interfaces called: " + std::to_string(called) + "/38 (" +
                                                  std::to_string(names.size()) + " listed)");
    auto removed = CALL(IVMVirtualServer, DeleteVirtualMachine, "", r.virtualMachine = pvm);
    check(removed == true && CALL(IVMVirtualServer, DeleteVirtualNetwork, "", r.virtualNetwork = net) == true,
          "the parts VM and the network are deleted");
}

// IVMGuestOS2 answers only through a guest agent: a second VM boots
// --agent-disk (tests/progs/agent_disk.img) from a fixed VHD (the raw disk
// plus a footer), started before the power cycle so that its agent has
// answered by the tour; "" (said why) without an agent disk.
std::string start_agent_vm(Session& a, std::string const& folder, std::string const& agent_disk) {
    if (agent_disk.empty()) {
        std::printf("IVMGuestOS2 needs a guest agent: no --agent-disk was given\n");
        return "";
    }
    auto const path = folder + "/gsoap/agent.vhd";
    wait_task(
        a,
        CALL(IVMVirtualServer, CreateFixedVirtualHardDisk, "", r.imagePath = path, r.size = 3).value_or(""),
        "CreateFixedVirtualHardDisk (agent disk)");
    {
        std::ifstream image(agent_disk, std::ios::binary);
        std::fstream disk(path, std::ios::binary | std::ios::in | std::ios::out);
        disk << image.rdbuf();
        if (!check(image.good() && disk.good(), "the agent disk is copied into its VHD")) return "";
    }
    auto const vm =
        CALL(IVMVirtualServer, CreateVirtualMachine, "", r.configurationName = "gsoap-agent").value_or("");
    CALL(IVMVirtualMachine, set_USCOREMemory, vm, r.memory = 16);
    CALL(IVMVirtualMachine, AddHardDiskConnection, vm, r.hardDiskPath = path);
    check(!VM_TASK(Startup, vm, "Startup (agent VM)").empty(), "Startup (agent VM) returns a task");
    return vm;
}

void scenario(std::vector<std::string> const& args, std::string const& agent_disk) {
    auto const& url = args[0];
    auto const& ca = args[1];
    auto const& admin = args[2];
    auto const& viewer = args[4];
    auto const& iso = args[6];

    Session a(url, ca);
    std::string token = logon(a, admin, args[3]);
    check(token.size() > 20, "Session_Logon returns a token");
    auto who =
        must(a, &Proxy::Session_USCORECurrentUser, _vs__Session_USCORECurrentUser{}, "Session_CurrentUser");
    check(who && who->returnval == admin, "the token authenticates as the administrator");
    Session anonymous(url, ca);
    check(!anonymous.call(&Proxy::IVMVirtualServer_USCOREget_USCOREName,
                          _vs__IVMVirtualServer_USCOREget_USCOREName{}) &&
              anonymous.last_fault().name == "HTTP 401",
          "no token, no access (HTTP 401)");
    {
        _vs__IVMVirtualMachine_USCOREget_USCOREName bad;
        bad._USCOREthis = "not-a-vm";
        expect_fault(a, &Proxy::IVMVirtualMachine_USCOREget_USCOREName, bad, E_INVALIDARG, "E_INVALIDARG",
                     "not-a-vm", "a bad reference faults with E_INVALIDARG naming it");
    }

    // The disk: a dynamic VHD inside the default VM folder.
    auto folder = must(a, &Proxy::IVMVirtualServer_USCOREget_USCOREDefaultVMConfigurationPath,
                       _vs__IVMVirtualServer_USCOREget_USCOREDefaultVMConfigurationPath{},
                       "DefaultVMConfigurationPath");
    std::string const vhd = (folder ? folder->returnval : std::string("/nonexistent")) + "/gsoap/gsoap.vhd";
    {
        _vs__IVMVirtualServer_USCORECreateDynamicVirtualHardDisk create;
        create.imagePath = vhd;
        create.size = 64;
        auto task = must(a, &Proxy::IVMVirtualServer_USCORECreateDynamicVirtualHardDisk, create,
                         "CreateDynamicVirtualHardDisk");
        wait_task(a, task ? task->returnval : "", "CreateDynamicVirtualHardDisk");
    }
    check(std::filesystem::exists(vhd), "the VHD exists");

    _vs__IVMVirtualServer_USCORECreateVirtualMachine create_vm;
    create_vm.configurationName = "gsoap-vm";
    auto created =
        must(a, &Proxy::IVMVirtualServer_USCORECreateVirtualMachine, create_vm, "CreateVirtualMachine");
    std::string const vm = created ? created->returnval : "";
    check(!vm.empty(), "CreateVirtualMachine");
    {
        _vs__IVMVirtualMachine_USCOREset_USCOREMemory memory;
        memory._USCOREthis = vm;
        memory.memory = 32;
        must(a, &Proxy::IVMVirtualMachine_USCOREset_USCOREMemory, memory, "set_Memory");
        _vs__IVMVirtualMachine_USCOREAddHardDiskConnection disk;
        disk._USCOREthis = vm;
        disk.hardDiskPath = vhd;
        auto connection =
            must(a, &Proxy::IVMVirtualMachine_USCOREAddHardDiskConnection, disk, "AddHardDiskConnection");
        check(connection && !connection->returnval.empty(), "AddHardDiskConnection");
    }
    std::string dvd;
    {
        _vs__IVMVirtualMachine_USCOREAddDVDROMDrive add;
        add._USCOREthis = vm;
        add.busNumber = 1;
        auto drive = must(a, &Proxy::IVMVirtualMachine_USCOREAddDVDROMDrive, add, "AddDVDROMDrive");
        dvd = drive ? drive->returnval : "";
        _vs__IVMDVDDrive_USCOREAttachImage attach;
        attach._USCOREthis = dvd;
        attach.imagePath = iso;
        must(a, &Proxy::IVMDVDDrive_USCOREAttachImage, attach, "AttachImage");
        _vs__IVMDVDDrive_USCOREget_USCOREImageFile image;
        image._USCOREthis = dvd;
        auto file = must(a, &Proxy::IVMDVDDrive_USCOREget_USCOREImageFile, image, "get_ImageFile");
        check(file && file->returnval == iso, "the DVD image is attached");
    }

    std::string const agent_vm = start_agent_vm(a, folder ? folder->returnval : "", agent_disk);

    // The power cycle, from the event-log sequence number before it.
    auto mark = must(a, &Proxy::IVMVirtualServer_USCOREget_USCORELastEventSequence,
                     _vs__IVMVirtualServer_USCOREget_USCORELastEventSequence{}, "LastEventSequence");
    std::string const started = VM_TASK(Startup, vm, "Startup");
    wait_task(a, started, "Startup");
    check(state(a, vm) == RUNNING, "the VM is Running");
    {
        _vs__IVMVirtualMachine_USCOREget_USCOREDisplay get_display;
        get_display._USCOREthis = vm;
        auto display = must(a, &Proxy::IVMVirtualMachine_USCOREget_USCOREDisplay, get_display, "get_Display");
        std::vector<unsigned> pixels;
        bool drawn = false;
        // The firmware needs a moment to draw something.
        for (int i = 0; i < 50 && display && !drawn; ++i) {
            _vs__IVMDisplay_USCOREget_USCOREThumbnail thumbnail;
            thumbnail._USCOREthis = display->returnval;
            auto answer = must(a, &Proxy::IVMDisplay_USCOREget_USCOREThumbnail, thumbnail, "get_Thumbnail");
            pixels = answer && answer->returnval ? answer->returnval->item : std::vector<unsigned>{};
            for (unsigned pixel : pixels)
                drawn = drawn || pixel != 0;
            if (!drawn) std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        check(pixels.size() == 64 * 48,
              "the thumbnail has 64 x 48 pixels (" + std::to_string(pixels.size()) + ")");
        check(drawn, "the thumbnail is not blank");
    }
    every_interface(a, vm, vhd, dvd, started, folder ? folder->returnval : "", viewer, agent_vm);
    if (!agent_vm.empty()) {
        wait_task(a, VM_TASK(TurnOff, agent_vm, "TurnOff (agent VM)"), "TurnOff (agent VM)");
        check(CALL(IVMVirtualServer, DeleteVirtualMachine, "", r.virtualMachine = agent_vm) == true,
              "DeleteVirtualMachine (agent VM)");
    }
    VM_CALL(Pause, vm, "Pause");
    check(state(a, vm) == PAUSED, "Pause: the VM is Paused");
    VM_CALL(Resume, vm, "Resume");
    check(state(a, vm) == RUNNING, "Resume: the VM is Running");
    wait_task(a, VM_TASK(Save, vm, "Save"), "Save");
    check(state(a, vm) == SAVED, "the VM is Saved");
    wait_task(a, VM_TASK(Startup, vm, "Startup from the saved state"), "Startup from the saved state");
    check(state(a, vm) == RUNNING, "restored and Running");
    wait_task(a, VM_TASK(TurnOff, vm, "TurnOff"), "TurnOff");
    check(state(a, vm) == TURNED_OFF, "the VM is TurnedOff");

    // Every state change of the cycle, in order: Starting, Running, Paused,
    // Running, Saving, Saved, Starting, Restoring, Running, TurningOff,
    // TurnedOff.
    {
        _vs__IVMVirtualServer_USCOREGetEvents get;
        get.afterSequence = mark ? mark->returnval : 0;
        get.maxCount = 1000;
        auto events = must(a, &Proxy::IVMVirtualServer_USCOREGetEvents, get, "GetEvents");
        std::string states;
        std::set<std::string> seen; // "kind object" and "kind objectName"
        if (events && events->returnval)
            for (auto const* event : events->returnval->item) {
                if (!event) continue;
                if (event->kind == "OnVMStateChange" && event->object == vm)
                    states += (states.empty() ? "" : ",") + std::to_string(event->state);
                seen.insert(event->kind + " " + event->object);
                seen.insert(event->kind + " " + event->objectName);
            }
        check(states == "3,5,6,5,7,2,3,4,5,8,1", "the event log has every state in order (" + states + ")");
        // And the other changes since the mark: the tasks, the parts VM
        // and the network of the per-interface step.
        for (std::string const& want : std::initializer_list<std::string>{
                 "TaskCompleted " + started, "VirtualMachineRegistered gsoap-parts",
                 "VirtualMachineUnregistered gsoap-parts", "VirtualNetworkRegistered gsoap-net",
                 "VirtualNetworkUnregistered gsoap-net"})
            check(seen.count(want) == 1, "the event log has " + want);
    }

    // ACLs: the viewer may not read the VM until the administrator allows it.
    Session v(url, ca);
    logon(v, viewer, args[5]);
    _vs__IVMVirtualServer_USCORECreateVirtualMachine create_acl;
    create_acl.configurationName = "gsoap-acl";
    auto acl_created =
        must(a, &Proxy::IVMVirtualServer_USCORECreateVirtualMachine, create_acl, "CreateVirtualMachine");
    std::string const vm2 = acl_created ? acl_created->returnval : "";
    _vs__IVMVirtualMachine_USCOREget_USCOREName read_name;
    read_name._USCOREthis = vm2;
    expect_fault(v, &Proxy::IVMVirtualMachine_USCOREget_USCOREName, read_name, E_ACCESSDENIED,
                 "E_ACCESSDENIED", "'" + viewer + "' lacks the read right",
                 "the viewer is denied, and told which right");
    {
        _vs__IVMVirtualMachine_USCOREget_USCORESecurity get_security;
        get_security._USCOREthis = vm2;
        auto security =
            must(a, &Proxy::IVMVirtualMachine_USCOREget_USCORESecurity, get_security, "get_Security");
        _vs__IVMSecurity_USCOREAddEntry add;
        add._USCOREthis = security ? security->returnval : "";
        add.nameOrSid = viewer;
        add.type = 0; // vmAccessRightsType_Allowed
        auto entry = must(a, &Proxy::IVMSecurity_USCOREAddEntry, add, "AddEntry");
        _vs__IVMAccessRights_USCOREset_USCOREReadAccess allow;
        allow._USCOREthis = entry ? entry->returnval : "";
        allow.readAccess = true;
        must(a, &Proxy::IVMAccessRights_USCOREset_USCOREReadAccess, allow, "set_ReadAccess");
    }
    auto name = must(v, &Proxy::IVMVirtualMachine_USCOREget_USCOREName, read_name, "get_Name as the viewer");
    check(name && name->returnval == "gsoap-acl", "allowed, the viewer reads it");
    _vs__IVMVirtualMachine_USCOREStartup start_acl;
    start_acl._USCOREthis = vm2;
    expect_fault(v, &Proxy::IVMVirtualMachine_USCOREStartup, start_acl, E_ACCESSDENIED, "E_ACCESSDENIED",
                 "lacks the execute right", "but may not start it");

    for (auto const& [ref, what] :
         {std::pair{vm, "DeleteVirtualMachine"}, {vm2, "DeleteVirtualMachine (ACL VM)"}}) {
        _vs__IVMVirtualServer_USCOREDeleteVirtualMachine remove;
        remove.virtualMachine = ref;
        auto removed = must(a, &Proxy::IVMVirtualServer_USCOREDeleteVirtualMachine, remove, what);
        check(removed && removed->returnval, what);
    }
    {
        auto listed = must(a, &Proxy::IVMVirtualServer_USCOREget_USCOREVirtualMachines,
                           _vs__IVMVirtualServer_USCOREget_USCOREVirtualMachines{}, "get_VirtualMachines");
        bool present = false;
        if (listed && listed->returnval)
            for (auto const& ref : listed->returnval->item)
                present = present || ref == vm;
        check(listed && !present, "the VM is gone");
    }
    must(a, &Proxy::Session_USCORELogoff, _vs__Session_USCORELogoff{}, "Session_Logoff");
    check(!a.call(&Proxy::IVMVirtualServer_USCOREget_USCOREName,
                  _vs__IVMVirtualServer_USCOREget_USCOREName{}) &&
              a.last_fault().name == "HTTP 401",
          "Session_Logoff ends the session (HTTP 401)");
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::string agent_disk;
    if (!args.empty() && args.front().starts_with("--agent-disk=")) {
        agent_disk = args.front().substr(std::string_view("--agent-disk=").size());
        args.erase(args.begin());
    }
    if (args.size() != 7) {
        std::fprintf(
            stderr,
            "usage: gsoap_scenario_client [--agent-disk=IMG] URL CA ADMIN PASSWORD VIEWER PASSWORD ISO\n");
        return 2;
    }
    try {
        scenario(args, agent_disk);
    } catch (std::exception const& e) {
        // A transport or client failure ends the scenario: a failed check,
        // so the summary line still comes out.
        check(false, std::string("the scenario runs to its end (") + e.what() + ")");
    }
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
