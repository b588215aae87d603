// SPDX-License-Identifier: GPL-2.0-or-later
// A gSOAP-generated C++ client (the proxy soapcpp2 makes from our WSDL) over
// HTTPS against a running vsad: what a C++ management tool would do.
// Run by run_gsoap_client.py, which starts vsad and passes:
//   gsoap_client_test -- URL CA_FILE USER PASSWORD
#define BOOST_TEST_MODULE gsoap_client
#include <boost/test/unit_test.hpp>

#include "soapH.h"
#include "soapVirtualServerBindingProxy.h"

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

namespace {

struct Target {
    std::string url, ca_file, user, password;
};

Target const& target() {
    static Target t = [] {
        auto& suite = boost::unit_test::framework::master_test_suite();
        if (suite.argc != 5)
            throw std::runtime_error("usage: gsoap_client_test -- URL CA_FILE USER PASSWORD");
        return Target{suite.argv[1], suite.argv[2], suite.argv[3], suite.argv[4]};
    }();
    return t;
}

// A proxy with TLS verification against the server's certificate.
struct Client {
    VirtualServerBindingProxy proxy{SOAP_C_UTFSTRING | SOAP_XML_STRICT};
    std::string endpoint = target().url;

    Client() {
        proxy.soap_endpoint = endpoint.c_str();
        BOOST_REQUIRE_EQUAL(soap_ssl_client_context(proxy.soap, SOAP_SSL_DEFAULT, nullptr, nullptr,
                                                    target().ca_file.c_str(), nullptr, nullptr),
                            SOAP_OK);
    }
    // gSOAP clears userid/passwd after every call: set them before each.
    void basic() {
        proxy.soap->userid = target().user.c_str();
        proxy.soap->passwd = target().password.c_str();
    }
    std::string fault_name() {
        auto const* detail = proxy.soap->fault ? proxy.soap->fault->detail : nullptr;
        return detail && detail->vs__VirtualServerFault ? detail->vs__VirtualServerFault->hresultName : "";
    }
};

#define CALL(client, op, request, response) (client).proxy.op(&(request), (response))

} // namespace

BOOST_AUTO_TEST_CASE(reads_every_server_property_with_basic_auth) {
    Client c;
#define READ_SERVER(prop, check)                                                                             \
    {                                                                                                        \
        _vs__IVMVirtualServer_USCOREget_USCORE##prop request;                                                \
        _vs__IVMVirtualServer_USCOREget_USCORE##prop##Response response;                                     \
        c.basic();                                                                                           \
        BOOST_REQUIRE_MESSAGE(CALL(c, IVMVirtualServer_USCOREget_USCORE##prop, request, response) ==         \
                                  SOAP_OK,                                                                   \
                              #prop << ": gSOAP error " << c.proxy.soap->error);                             \
        auto const& value = response.returnval;                                                              \
        BOOST_TEST_CONTEXT(#prop) {                                                                          \
            check;                                                                                           \
        }                                                                                                    \
    }
    READ_SERVER(Name, BOOST_TEST(value == "VSA Virtual Server Appliance"))
    READ_SERVER(Version, BOOST_TEST(std::regex_match(value, std::regex(R"(\d+\.\d+\.\d{3}\.\d+ EE)"))))
    READ_SERVER(ProductID, BOOST_TEST(std::regex_match(value, std::regex(R"(\d{5}(-\d{5}){3})"))))
    READ_SERVER(UpTime, BOOST_TEST(value >= 0))
    READ_SERVER(DefaultLocale, BOOST_TEST(value == 1033u))
    READ_SERVER(AvailableSystemCapacity, BOOST_TEST(value == 100.0))
    READ_SERVER(MaximumNumberOfVMs, BOOST_TEST(value == 64))
    READ_SERVER(MaximumMemoryPerVM, BOOST_TEST(value == 3712))
    READ_SERVER(MinimumMemoryPerVM, BOOST_TEST(value == 4))
    READ_SERVER(SuggestedMaximumMemoryPerVM, BOOST_TEST((value >= 4 && value <= 3712)))
    READ_SERVER(MaximumFloppyDrivesPerVM, BOOST_TEST(value == 2))
    READ_SERVER(MaximumNetworkAdaptersPerVM, BOOST_TEST(value == 4))
    READ_SERVER(MaximumNumberOfIDEBuses, BOOST_TEST(value == 2))
    READ_SERVER(MaximumNumberOfSCSIControllers, BOOST_TEST(value == 4))
    READ_SERVER(MaximumParallelPortsPerVM, BOOST_TEST(value == 1))
    READ_SERVER(MaximumSerialPortsPerVM, BOOST_TEST(value == 2))
    READ_SERVER(HostInfo, BOOST_TEST(!value.empty()))
#undef READ_SERVER
}

BOOST_AUTO_TEST_CASE(session_logon_reads_host_info_then_logoff) {
    Client c;
    _vs__Session_USCORELogon logon;
    logon.userName = target().user;
    logon.password = target().password;
    _vs__Session_USCORELogonResponse logon_response;
    BOOST_REQUIRE_EQUAL(CALL(c, Session_USCORELogon, logon, logon_response), SOAP_OK);
    std::string token = logon_response.returnval;
    BOOST_TEST(token.size() == 43u);

    c.proxy.soap_header(&token);
    _vs__Session_USCORECurrentUser who;
    _vs__Session_USCORECurrentUserResponse who_response;
    BOOST_REQUIRE_EQUAL(CALL(c, Session_USCORECurrentUser, who, who_response), SOAP_OK);
    BOOST_TEST(who_response.returnval == target().user);

    c.proxy.soap_header(&token);
    _vs__IVMVirtualServer_USCOREget_USCOREHostInfo host;
    _vs__IVMVirtualServer_USCOREget_USCOREHostInfoResponse host_response;
    BOOST_REQUIRE_EQUAL(CALL(c, IVMVirtualServer_USCOREget_USCOREHostInfo, host, host_response), SOAP_OK);
    std::string ref = host_response.returnval;

#define READ_HOST(prop, check)                                                                               \
    {                                                                                                        \
        c.proxy.soap_header(&token);                                                                         \
        _vs__IVMHostInfo_USCOREget_USCORE##prop request;                                                     \
        request._USCOREthis = ref;                                                                           \
        _vs__IVMHostInfo_USCOREget_USCORE##prop##Response response;                                          \
        BOOST_REQUIRE_MESSAGE(CALL(c, IVMHostInfo_USCOREget_USCORE##prop, request, response) == SOAP_OK,     \
                              #prop << ": gSOAP error " << c.proxy.soap->error);                             \
        auto const& value = response.returnval;                                                              \
        BOOST_TEST_CONTEXT(#prop) {                                                                          \
            check;                                                                                           \
        }                                                                                                    \
    }
    READ_HOST(DVDDrives, BOOST_TEST(value != nullptr))
    READ_HOST(FloppyDrives, BOOST_TEST(value != nullptr))
    READ_HOST(HostDrives, BOOST_TEST(value != nullptr))
    READ_HOST(LogicalProcessorCount, BOOST_TEST(value >= 1))
    READ_HOST(Memory, BOOST_TEST(std::stoll(value) > 0))
    READ_HOST(MemoryAvail, BOOST_TEST(std::stoll(value) > 0))
    READ_HOST(MemoryAvailString, BOOST_TEST(std::stoll(value) > 0))
    READ_HOST(MemoryTotalString, BOOST_TEST(std::stoll(value) > 0))
    READ_HOST(MMX, (void)value)
    READ_HOST(NetworkAdapters, BOOST_TEST(value != nullptr))
    READ_HOST(NetworkAddresses, BOOST_TEST(value != nullptr))
    READ_HOST(OperatingSystem, BOOST_TEST(!value.empty()))
    READ_HOST(OSMajorVersion, BOOST_TEST(value >= 3))
    READ_HOST(OSMinorVersion, BOOST_TEST(value >= 0))
    READ_HOST(OSServicePackString, (void)value)
    READ_HOST(OSVersionString, BOOST_TEST(value.find("Linux") != std::string::npos))
    READ_HOST(ParallelPort, (void)value)
    READ_HOST(PhysicalProcessorCount, BOOST_TEST(value >= 1))
    READ_HOST(ProcessorFeaturesString, BOOST_TEST(!value.empty()))
    READ_HOST(ProcessorManufacturerString, BOOST_TEST(!value.empty()))
    READ_HOST(ProcessorSpeed, BOOST_TEST(value >= 0))
    READ_HOST(ProcessorSpeedString, BOOST_TEST(!value.empty()))
    READ_HOST(ProcessorVersionString, BOOST_TEST(!value.empty()))
    READ_HOST(SerialPorts, (void)value)
    READ_HOST(SSE, (void)value)
    READ_HOST(SSE2, (void)value)
    READ_HOST(ThreeDNow, (void)value)
    READ_HOST(UTCTime, BOOST_TEST(std::abs(value - std::time(nullptr)) < 30))
#undef READ_HOST

    // A wrong reference is a typed fault.
    c.proxy.soap_header(&token);
    _vs__IVMHostInfo_USCOREget_USCOREMemory bad;
    bad._USCOREthis = "no-such-object";
    _vs__IVMHostInfo_USCOREget_USCOREMemoryResponse bad_response;
    BOOST_TEST(CALL(c, IVMHostInfo_USCOREget_USCOREMemory, bad, bad_response) ==
               SOAP_CLI_FAULT); // faultcode Client
    BOOST_TEST(c.fault_name() == "E_INVALIDARG");

    c.proxy.soap_header(&token);
    _vs__Session_USCORELogoff logoff;
    _vs__Session_USCORELogoffResponse logoff_response;
    BOOST_REQUIRE_EQUAL(CALL(c, Session_USCORELogoff, logoff, logoff_response), SOAP_OK);

    // The token is dead: HTTP 401.
    c.proxy.soap_header(&token);
    BOOST_TEST(CALL(c, Session_USCORECurrentUser, who, who_response) == 401);
}

BOOST_AUTO_TEST_CASE(wrong_password_is_refused) {
    Client c;
    _vs__Session_USCORELogon logon;
    logon.userName = target().user;
    logon.password = "definitely-not-the-password";
    _vs__Session_USCORELogonResponse response;
    BOOST_TEST(CALL(c, Session_USCORELogon, logon, response) == SOAP_CLI_FAULT);
    BOOST_TEST(c.fault_name() == "E_ACCESSDENIED");
}

// The inventory through the generated C++ proxy: create a VM, configure it,
// find it, plug a NIC into a new network, then delete both; a duplicate
// name and an out-of-range memory size are typed faults.
BOOST_AUTO_TEST_CASE(manages_the_inventory) {
    Client c;
#define INVOKE(op, request, response) (c.basic(), CALL(c, op, request, response))

    _vs__IVMVirtualServer_USCORECreateVirtualMachine create;
    create.configurationName = "gsoap-vm";
    _vs__IVMVirtualServer_USCORECreateVirtualMachineResponse created;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualServer_USCORECreateVirtualMachine, create, created), SOAP_OK);
    std::string const vm = created.returnval;
    BOOST_TEST(std::regex_match(vm, std::regex(R"(\{[0-9A-F-]{36}\})")));

    BOOST_TEST(INVOKE(IVMVirtualServer_USCORECreateVirtualMachine, create, created) == SOAP_CLI_FAULT);
    BOOST_TEST(c.fault_name() == "E_ALREADY_EXISTS"); // the .vmc is there; other spellings: duplicate name

    _vs__IVMVirtualMachine_USCOREset_USCOREMemory set_memory;
    set_memory._USCOREthis = vm;
    set_memory.memory = 512;
    _vs__IVMVirtualMachine_USCOREset_USCOREMemoryResponse set_memory_response;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualMachine_USCOREset_USCOREMemory, set_memory, set_memory_response),
                        SOAP_OK);
    set_memory.memory = 1;
    BOOST_TEST(INVOKE(IVMVirtualMachine_USCOREset_USCOREMemory, set_memory, set_memory_response) ==
               SOAP_CLI_FAULT);
    BOOST_TEST(c.fault_name() == "E_INVALIDARG");

    _vs__IVMVirtualMachine_USCOREget_USCOREMemory get_memory;
    get_memory._USCOREthis = vm;
    _vs__IVMVirtualMachine_USCOREget_USCOREMemoryResponse memory;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualMachine_USCOREget_USCOREMemory, get_memory, memory), SOAP_OK);
    BOOST_TEST(memory.returnval == 512);

    _vs__IVMVirtualServer_USCOREFindVirtualMachine find;
    find.configurationName = "GSOAP-VM";
    _vs__IVMVirtualServer_USCOREFindVirtualMachineResponse found;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualServer_USCOREFindVirtualMachine, find, found), SOAP_OK);
    BOOST_TEST(found.returnval == vm);

    _vs__IVMVirtualServer_USCOREget_USCOREVirtualMachines list;
    _vs__IVMVirtualServer_USCOREget_USCOREVirtualMachinesResponse listed;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualServer_USCOREget_USCOREVirtualMachines, list, listed), SOAP_OK);
    BOOST_REQUIRE(listed.returnval != nullptr);
    BOOST_TEST((std::find(listed.returnval->item.begin(), listed.returnval->item.end(), vm) !=
                listed.returnval->item.end()));

    _vs__IVMVirtualServer_USCORECreateVirtualNetwork create_network;
    create_network.configurationName = "gsoap-net";
    _vs__IVMVirtualServer_USCORECreateVirtualNetworkResponse network;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualServer_USCORECreateVirtualNetwork, create_network, network),
                        SOAP_OK);

    _vs__IVMVirtualMachine_USCOREAddNetworkAdapter add_nic;
    add_nic._USCOREthis = vm;
    _vs__IVMVirtualMachine_USCOREAddNetworkAdapterResponse nic;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualMachine_USCOREAddNetworkAdapter, add_nic, nic), SOAP_OK);
    _vs__IVMNetworkAdapter_USCOREAttachToVirtualNetwork attach;
    attach._USCOREthis = nic.returnval;
    attach.virtualNetwork = network.returnval;
    _vs__IVMNetworkAdapter_USCOREAttachToVirtualNetworkResponse attached;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMNetworkAdapter_USCOREAttachToVirtualNetwork, attach, attached), SOAP_OK);
    _vs__IVMVirtualNetwork_USCOREget_USCORENetworkAdapters on_network;
    on_network._USCOREthis = network.returnval;
    _vs__IVMVirtualNetwork_USCOREget_USCORENetworkAdaptersResponse plugged;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualNetwork_USCOREget_USCORENetworkAdapters, on_network, plugged),
                        SOAP_OK);
    BOOST_REQUIRE(plugged.returnval != nullptr);
    BOOST_TEST(plugged.returnval->item == std::vector<std::string>{nic.returnval});

    _vs__IVMVirtualServer_USCOREDeleteVirtualNetwork delete_network;
    delete_network.virtualNetwork = network.returnval;
    _vs__IVMVirtualServer_USCOREDeleteVirtualNetworkResponse network_deleted;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualServer_USCOREDeleteVirtualNetwork, delete_network, network_deleted),
                        SOAP_OK);
    BOOST_TEST(network_deleted.returnval);
    _vs__IVMVirtualServer_USCOREDeleteVirtualMachine delete_vm;
    delete_vm.virtualMachine = vm;
    _vs__IVMVirtualServer_USCOREDeleteVirtualMachineResponse vm_deleted;
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualServer_USCOREDeleteVirtualMachine, delete_vm, vm_deleted), SOAP_OK);
    BOOST_TEST(vm_deleted.returnval);
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualServer_USCOREDeleteVirtualMachine, delete_vm, vm_deleted), SOAP_OK);
    BOOST_TEST(!vm_deleted.returnval); // S_FALSE: no longer registered
    BOOST_REQUIRE_EQUAL(INVOKE(IVMVirtualServer_USCOREFindVirtualMachine, find, found), SOAP_OK);
    BOOST_TEST(found.returnval.empty());
#undef INVOKE
}
