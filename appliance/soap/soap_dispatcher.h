// SPDX-License-Identifier: GPL-2.0-or-later
// SoapDispatcher: runs one SOAP request body through the gSOAP-generated
// skeleton and returns the response body. gSOAP runs in "plain" mode: Poco
// owns HTTP and TLS, gSOAP only reads and writes XML, from and to memory.
// Each worker thread keeps its own gSOAP context (they are never shared).
#pragma once

#include "appliance/request_limits.h"
#include "appliance/soap/soap_call.h"

#include <string>
#include <string_view>

namespace vsa::services {
class VirtualServer;
}

namespace vsa::appliance {

class Authenticator;
class HostInfoCache;
namespace console {
class ConsoleService;
}

// What the operations need; shared by all threads, each part thread-safe.
struct SoapBackend {
    services::VirtualServer& server;
    Authenticator& auth;
    HostInfoCache& host_info;
    // The console (CreateConsoleTicket); null where vsad runs none (tests).
    console::ConsoleService* console{nullptr};
};

class SoapDispatcher {
public:
    SoapDispatcher(SoapBackend backend, RequestLimits limits) : m_backend(backend), m_limits(limits) {}

    struct Reply {
        int http_status{200};
        std::string body;
    };
    Reply dispatch(std::string_view request_body, SoapCall& call);

private:
    SoapBackend m_backend;
    RequestLimits m_limits;
};

} // namespace vsa::appliance
