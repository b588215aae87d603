// SPDX-License-Identifier: GPL-2.0-or-later
// The SOAP layer without HTTP: envelopes in, responses and faults out. This
// is where fault mapping and the decoder limits are pinned down.
#include "appliance/auth/authenticator.h"
#include "appliance/soap/host_info_cache.h"
#include "appliance/soap/soap_dispatcher.h"
#include "services/virtual_server.h"

#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

#include <random>

using namespace vsa;
using namespace vsa::appliance;

namespace {

std::string envelope(std::string const& body, std::string const& header = "",
                     std::string const& soap_ns = "http://schemas.xmlsoap.org/soap/envelope/") {
    return "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"" + soap_ns +
           "\" xmlns:vs=\"urn:vsa:virtualserver:1\">" +
           (header.empty() ? "" : "<soap:Header>" + header + "</soap:Header>") + "<soap:Body>" + body +
           "</soap:Body></soap:Envelope>";
}

struct SoapFixture {
    test::TempDir dir;
    std::unique_ptr<services::VirtualServer> server =
        services::VirtualServer::open({dir.path() / "data", "/"}).release_value();
    std::unique_ptr<AccountStore> accounts =
        AccountStore::open(dir.path() / "accounts.json", PasswordHashParams{1u << 10, 8, 1}).release_value();
    SessionStore sessions{std::chrono::seconds(60)};
    LoginThrottle throttle{{2, std::chrono::seconds(60), std::chrono::seconds(60)}};
    AuthConfig config = [] {
        AuthConfig c;
        c.failure_delay = std::chrono::milliseconds(0);
        return c;
    }();
    Authenticator auth{*accounts, sessions, throttle, config};
    HostInfoCache host_info{server->host()};
    RequestLimits limits = [] {
        RequestLimits l;
        l.soap_max_string = 4096;
        l.soap_max_depth = 16;
        l.soap_max_occurs = 100;
        return l;
    }();
    SoapDispatcher dispatcher{{*server, auth, host_info}, limits};

    SoapFixture() { BOOST_REQUIRE(accounts->add("admin", "s3cret-pass", true).has_value()); }

    SoapDispatcher::Reply call(std::string const& body, bool authenticated = true, SoapCall* out = nullptr) {
        SoapCall call;
        call.client_address = "192.0.2.1";
        if (authenticated) call.principal = Principal{"admin", true};
        auto reply = dispatcher.dispatch(body, call);
        if (out) *out = call;
        return reply;
    }
};

bool contains(std::string const& text, std::string const& part) {
    return text.find(part) != std::string::npos;
}

void check_client_fault(SoapDispatcher::Reply const& reply, std::string const& hresult_name) {
    BOOST_TEST(reply.http_status == 500);
    BOOST_TEST(contains(reply.body, "<faultcode>SOAP-ENV:Client</faultcode>"), reply.body);
    BOOST_TEST(contains(reply.body, "<vs:hresultName>" + hresult_name + "</vs:hresultName>"), reply.body);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(soap_dispatcher, SoapFixture)

BOOST_AUTO_TEST_CASE(reads_server_properties) {
    auto reply = call(envelope("<vs:IVMVirtualServer_get_Name/>"));
    BOOST_TEST(reply.http_status == 200);
    BOOST_TEST(contains(reply.body, "<vs:returnval>VSA Virtual Server Appliance</vs:returnval>"), reply.body);
    reply = call(envelope("<vs:IVMVirtualServer_get_MaximumMemoryPerVM/>"));
    BOOST_TEST(contains(reply.body, "<vs:returnval>3712</vs:returnval>"), reply.body);
    reply = call(envelope("<vs:IVMVirtualServer_get_ProductID/>"));
    BOOST_TEST(contains(reply.body, "<vs:returnval>" + server->product_id() + "</vs:returnval>"), reply.body);
}

BOOST_AUTO_TEST_CASE(host_info_through_its_reference) {
    auto reply = call(envelope("<vs:IVMVirtualServer_get_HostInfo/>"));
    BOOST_TEST(contains(reply.body, "<vs:returnval>hostinfo</vs:returnval>"), reply.body);
    reply = call(envelope("<vs:IVMHostInfo_get_LogicalProcessorCount><vs:_this>hostinfo</vs:_this>"
                          "</vs:IVMHostInfo_get_LogicalProcessorCount>"));
    BOOST_TEST(reply.http_status == 200);
    auto expected = "<vs:returnval>" + std::to_string(server->host().read().logical_processor_count) + "<";
    BOOST_TEST(contains(reply.body, expected), reply.body);
    reply = call(envelope("<vs:IVMHostInfo_get_NetworkAdapters><vs:_this>hostinfo</vs:_this>"
                          "</vs:IVMHostInfo_get_NetworkAdapters>"));
    BOOST_TEST(reply.http_status == 200);
    BOOST_TEST(contains(reply.body, "IVMHostInfo_get_NetworkAdaptersResponse"), reply.body);
}

BOOST_AUTO_TEST_CASE(a_wrong_object_reference_is_an_invalidarg_fault) {
    auto reply =
        call(envelope("<vs:IVMHostInfo_get_Memory><vs:_this>vm:1</vs:_this></vs:IVMHostInfo_get_Memory>"));
    check_client_fault(reply, "E_INVALIDARG");
    BOOST_TEST(contains(reply.body, "<vs:hresult>2147942487</vs:hresult>"), reply.body);
}

BOOST_AUTO_TEST_CASE(host_drive_errors_carry_virtual_server_codes) {
    auto reply = call(envelope("<vs:IVMHostInfo_GetHostDriveSize><vs:_this>hostinfo</vs:_this>"
                               "<vs:hostDriveIdentifier>/dev/nonexistent0</vs:hostDriveIdentifier>"
                               "</vs:IVMHostInfo_GetHostDriveSize>"));
    check_client_fault(reply, "VM_E_HOST_DRIVE_NOT_FOUND");
    reply = call(envelope("<vs:IVMHostInfo_IsHostDriveMounted><vs:_this>hostinfo</vs:_this>"
                          "<vs:hostDriveIdentifier>../../etc/passwd</vs:hostDriveIdentifier>"
                          "</vs:IVMHostInfo_IsHostDriveMounted>"));
    check_client_fault(reply, "E_INVALIDARG");
}

BOOST_AUTO_TEST_CASE(operations_need_a_principal_but_logon_does_not) {
    SoapCall out;
    auto reply = call(envelope("<vs:IVMVirtualServer_get_Name/>"), false, &out);
    BOOST_TEST(out.unauthenticated);
    check_client_fault(reply, "E_ACCESSDENIED");

    reply = call(
        envelope("<vs:Session_Logon><vs:userName>admin</vs:userName><vs:password>s3cret-pass</vs:password>"
                 "</vs:Session_Logon>"),
        false, &out);
    BOOST_TEST(reply.http_status == 200);
    BOOST_REQUIRE(out.set_session_cookie.has_value());
    auto token = *out.set_session_cookie;
    BOOST_TEST(contains(reply.body, "<vs:returnval>" + token + "</vs:returnval>"));

    auto header = "<vs:SessionToken>" + token + "</vs:SessionToken>";
    reply = call(envelope("<vs:Session_CurrentUser/>", header), false, &out);
    BOOST_TEST(!out.unauthenticated);
    BOOST_TEST(contains(reply.body, "<vs:returnval>admin</vs:returnval>"), reply.body);

    reply = call(envelope("<vs:Session_Logoff/>", header), false, &out);
    BOOST_TEST(reply.http_status == 200);
    BOOST_TEST(out.clear_session_cookie);
    reply = call(envelope("<vs:Session_CurrentUser/>", header), false, &out);
    BOOST_TEST(out.unauthenticated);
}

BOOST_AUTO_TEST_CASE(failed_logons_fault_then_lock_out) {
    SoapCall out;
    auto wrong = envelope("<vs:Session_Logon><vs:userName>admin</vs:userName><vs:password>nope</vs:password>"
                          "</vs:Session_Logon>");
    for (int i = 0; i < 2; ++i) {
        auto reply = call(wrong, false, &out);
        check_client_fault(reply, "E_ACCESSDENIED");
        BOOST_TEST(!out.locked_out.has_value());
    }
    call(envelope("<vs:Session_Logon><vs:userName>admin</vs:userName><vs:password>s3cret-pass</vs:password>"
                  "</vs:Session_Logon>"),
         false, &out);
    BOOST_TEST(out.locked_out.has_value());
    BOOST_TEST(!out.set_session_cookie.has_value());
}

BOOST_AUTO_TEST_CASE(decoder_failures_are_client_faults_with_our_detail) {
    check_client_fault(call(envelope("<vs:NoSuchOperation/>")), "E_INVALIDARG");
    BOOST_TEST(contains(call(envelope("<vs:NoSuchOperation/>")).body, "NoSuchOperation"));
    // A parameter in the wrong namespace must not become a silent empty value.
    check_client_fault(
        call(envelope("<vs:IVMHostInfo_get_Memory><x:_this xmlns:x=\"urn:other\">hostinfo</x:_this>"
                      "</vs:IVMHostInfo_get_Memory>")),
        "E_INVALIDARG");
    // A missing required parameter.
    check_client_fault(call(envelope("<vs:IVMHostInfo_get_Memory/>")), "E_INVALIDARG");
    check_client_fault(call("this is not XML"), "E_INVALIDARG");
    check_client_fault(call(envelope("<vs:IVMVirtualServer_get_Name>")), "E_INVALIDARG");
    check_client_fault(call("<a><b></a>"), "E_INVALIDARG");
}

BOOST_AUTO_TEST_CASE(decoder_limits_hold) {
    std::string deep;
    for (int i = 0; i < 200; ++i)
        deep += "<vs:x>";
    auto reply = call(envelope("<vs:IVMVirtualServer_get_Name>" + deep + "</vs:IVMVirtualServer_get_Name>"));
    BOOST_TEST(reply.http_status == 500);
    std::string header_deep;
    for (int i = 0; i < 200; ++i)
        header_deep += "<h>";
    reply = call(envelope("<vs:IVMVirtualServer_get_Name/>", header_deep));
    BOOST_TEST(reply.http_status == 500);
    // A string longer than soap_max_string.
    reply = call(envelope("<vs:Session_Logon><vs:userName>" + std::string(10000, 'a') +
                          "</vs:userName><vs:password>x</vs:password></vs:Session_Logon>"),
                 false);
    check_client_fault(reply, "E_INVALIDARG");
}

BOOST_AUTO_TEST_CASE(soap12_clients_get_soap12_faults) {
    auto reply =
        call(envelope("<vs:IVMHostInfo_get_Memory><vs:_this>bad</vs:_this></vs:IVMHostInfo_get_Memory>", "",
                      "http://www.w3.org/2003/05/soap-envelope"));
    BOOST_TEST(reply.http_status == 500);
    BOOST_TEST(contains(reply.body, "http://www.w3.org/2003/05/soap-envelope"), reply.body);
    BOOST_TEST(contains(reply.body, "<vs:hresultName>E_INVALIDARG</vs:hresultName>"), reply.body);
}

BOOST_AUTO_TEST_CASE(random_mutations_never_crash) {
    // Byte flips, truncations and splices of valid requests: the dispatcher
    // must answer every one with 200 or a fault, and stay usable.
    std::vector<std::string> seeds{
        envelope("<vs:IVMVirtualServer_get_Name/>"),
        envelope(
            "<vs:IVMHostInfo_GetHostDriveSize><vs:_this>hostinfo</vs:_this><vs:hostDriveIdentifier>/dev/sda"
            "</vs:hostDriveIdentifier></vs:IVMHostInfo_GetHostDriveSize>"),
        envelope("<vs:Session_Logon><vs:userName>admin</vs:userName><vs:password>x</vs:password></"
                 "vs:Session_Logon>"),
    };
    std::mt19937 random(12345);
    for (int i = 0; i < 3000; ++i) {
        auto text = seeds[random() % seeds.size()];
        int edits = 1 + static_cast<int>(random() % 4);
        for (int e = 0; e < edits && !text.empty(); ++e) {
            auto at = random() % text.size();
            switch (random() % 4) {
            case 0:
                text[at] = static_cast<char>(random());
                break;
            case 1:
                text.resize(at);
                break;
            case 2:
                text.insert(at, text.substr(random() % text.size(), random() % 40));
                break;
            default:
                text.erase(at, random() % 16);
                break;
            }
        }
        // Logons would lock out 192.0.2.1; the fixture clears by success.
        auto reply = call(text, random() % 2 == 0);
        BOOST_TEST((reply.http_status == 200 || reply.http_status == 500));
    }
    auto reply = call(envelope("<vs:IVMVirtualServer_get_Name/>"));
    BOOST_TEST(reply.http_status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
