// SPDX-License-Identifier: GPL-2.0-or-later
// The HTTP front door. One handler object per request (ClickHouse's shape):
//   GET  /, /*.html, /css/*, /js/* ...  static admin UI (no authentication)
//   GET  /VirtualServer?wsdl, /VirtualServer.wsdl   the contract (no authentication)
//   POST /VirtualServer                              SOAP (authenticated per operation)
//   GET  /console/websocket?vm=<VM reference>        a VM's console: RFB over a
//        WebSocket (session cookie or Basic, Origin check, the VM right;
//        appliance/console/console_service.h)
// Everything runs inside one try block: whatever Poco, gSOAP or our code
// throws becomes a 500 on this request, never a dead worker or daemon.
#pragma once

#include "appliance/request_limits.h"

#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <string>

namespace Poco {
class Logger;
}

namespace vsa::appliance {

class Authenticator;
class ConnectionTracker;
namespace console {
class ConsoleService;
}
class SoapDispatcher;
class StaticAssets;

struct HttpContext {
    RequestLimits limits;
    StaticAssets const& assets;
    SoapDispatcher& soap;
    Authenticator& auth;
    std::string wsdl;         // the committed contract; soap:address is rewritten per request
    std::string default_host; // used when the Host header is absent or malformed
    Poco::Logger& log;
    // The listener's role: the long-poll one (https.longpoll_port) serves
    // the waits (WaitForUpdates); its port is named when the main one
    // refuses a wait.
    bool long_poll{false};
    std::uint16_t long_poll_port{0};
    // The main listener's port: the long-poll listener accepts CORS
    // requests from pages of https://<its own host name>:<main_port> only.
    std::uint16_t main_port{0};
    // The console (main listener only; null: 404).
    console::ConsoleService* console{nullptr};
};

inline constexpr std::string_view SOAP_PATH = "/VirtualServer";
inline constexpr std::string_view CONSOLE_PATH = "/console/websocket";

class Router final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    Router(HttpContext const& context, ConnectionTracker& tracker) : m_context(context), m_tracker(tracker) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(Poco::Net::HTTPServerRequest const& request) override;

private:
    HttpContext const& m_context;
    ConnectionTracker& m_tracker;
};

// The headers every answer carries (CSP without external origins, HSTS,
// no framing, no sniffing). The benchmark's bare peer sends the same.
// `connect_src` adds one origin the page may fetch from (the long-poll
// listener's), besides its own.
void add_security_headers(Poco::Net::HTTPServerResponse& response, std::string_view connect_src = {});

// "host" of a Host header "host:port" or "[v6]:port" (brackets kept).
std::string_view host_name_of(std::string_view host_header);

// Exposed for tests.
bool is_valid_host_header(std::string_view host);
std::string wsdl_for_host(std::string const& wsdl, std::string_view host);

} // namespace vsa::appliance
