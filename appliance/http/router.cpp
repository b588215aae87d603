// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/http/router.h"

#include "appliance/auth/authenticator.h"
#include "appliance/console/console_access.h"
#include "appliance/console/console_service.h"
#include "appliance/http/connection_tracker.h"
#include "appliance/http/static_assets.h"
#include "appliance/soap/soap_dispatcher.h"
#include "appliance/soap/xml_guard.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <istream>

namespace vsa::appliance {

namespace {

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

void send_text(HTTPServerResponse& response, HTTPResponse::HTTPStatus status, std::string const& text) {
    response.setStatusAndReason(status);
    response.setContentType("text/plain; charset=utf-8");
    response.set("Cache-Control", "no-store");
    response.setContentLength(static_cast<std::streamsize>(text.size()));
    response.send() << text;
}

// The status line of a SOAP answer. SOAP 1.1 sends a fault with HTTP 500
// (and we answer 401/429 before gSOAP runs), but a browser logs every such
// answer to its console as a failed load, even when the page handles the
// fault as it should and shows its message. The admin UI's requests say
// who they are (X-Requested-With: XMLHttpRequest): they get 200 and the
// real status in X-VSA-Status, with the same fault envelope. Every other
// client gets the status SOAP prescribes.
void set_soap_status(HTTPServerResponse& response, int status, bool browser) {
    if (browser && status >= 400) {
        response.setStatusAndReason(HTTPResponse::HTTP_OK);
        response.set("X-VSA-Status", std::to_string(status));
        return;
    }
    response.setStatusAndReason(static_cast<HTTPResponse::HTTPStatus>(status));
}

// A fixed SOAP 1.1 fault for answers given before gSOAP runs (401, 429), so
// SOAP clients still get a parseable body with the HRESULT.
std::string soap_fault_body(char const* code, std::uint32_t hresult, char const* name,
                            std::string const& text) {
    return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" "
                       "xmlns:vs=\"urn:vsa:virtualserver:1\"><SOAP-ENV:Body><SOAP-ENV:Fault>"
                       "<faultcode>SOAP-ENV:") +
           code + "</faultcode><faultstring>" + text +
           "</faultstring><detail><vs:VirtualServerFault><vs:hresult>" + std::to_string(hresult) +
           "</vs:hresult><vs:hresultName>" + name + "</vs:hresultName><vs:message>" + text +
           "</vs:message></vs:VirtualServerFault></detail></SOAP-ENV:Fault></SOAP-ENV:Body></"
           "SOAP-ENV:Envelope>\n";
}

constexpr std::uint32_t E_ACCESSDENIED = 0x8007'0005;

class RequestHandler final : public Poco::Net::HTTPRequestHandler {
public:
    RequestHandler(HttpContext const& context, ConnectionTracker& tracker, int fd)
        : m_context(context), m_tracker(tracker), m_fd(fd) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
        // From here the request (body, work, response) has its own deadline.
        struct Phase {
            ConnectionTracker& tracker;
            int fd;
            Phase(ConnectionTracker& t, int f) : tracker(t), fd(f) { tracker.begin_request(fd); }
            ~Phase() { tracker.end_request(fd); }
        } phase(m_tracker, m_fd);
        try {
            add_security_headers(response, long_poll_origin(request));
            route(request, response);
        } catch (Poco::Exception const& e) {
            fail(response, e.displayText());
        } catch (std::exception const& e) {
            fail(response, e.what());
        } catch (...) {
            fail(response, "unknown exception");
        }
    }

private:
    void fail(HTTPServerResponse& response, std::string const& what) {
        // A peer that vanished mid-response is routine, not an error.
        m_context.log.warning("request failed: " + what);
        if (!response.sent()) {
            response.setKeepAlive(false);
            send_text(response, HTTPResponse::HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
        }
    }

    // The long-poll listener's origin as the pages of the main listener
    // reach it (same host name, the long-poll port), for their CSP.
    std::string long_poll_origin(HTTPServerRequest const& request) const {
        if (m_context.long_poll || m_context.long_poll_port == 0) return {};
        auto host = request.getHost();
        if (!is_valid_host_header(host)) return {};
        return "https://" + std::string(host_name_of(host)) + ":" + std::to_string(m_context.long_poll_port);
    }

    // On the long-poll listener: whether a request's Origin may call it.
    // Pages come from the main listener (another port, so another origin:
    // CORS applies) on the same host name; the listener's own origin is
    // allowed too. Without an Origin header (SOAP clients) CORS does not
    // apply at all.
    enum class Cors { None, Allowed, Refused };
    Cors cors_check(HTTPServerRequest const& request, std::string& origin) const {
        origin = request.get("Origin", "");
        if (origin.empty()) return Cors::None;
        auto host = request.getHost();
        if (!is_valid_host_header(host)) return Cors::Refused;
        auto name = std::string(host_name_of(host));
        if (origin == "https://" + name + ":" + std::to_string(m_context.main_port) ||
            origin == "https://" + host)
            return Cors::Allowed;
        return Cors::Refused;
    }

    void allow_origin(HTTPServerResponse& response, std::string const& origin) {
        response.set("Access-Control-Allow-Origin", origin);
        response.set("Access-Control-Allow-Credentials", "true");
        response.set("Vary", "Origin");
        // Cross-origin scripts see only the headers named here.
        response.set("Access-Control-Expose-Headers", "X-VSA-Status, Retry-After");
    }

    // The long-poll listener's CORS: a preflight (OPTIONS) is answered
    // here; other requests get the allow headers, or are refused when they
    // come from a page of a foreign origin. True when answered.
    bool cors(HTTPServerRequest& request, HTTPServerResponse& response, std::string_view path) {
        std::string origin;
        auto verdict = cors_check(request, origin);
        if (verdict == Cors::Refused) {
            reject(response, HTTPResponse::HTTP_FORBIDDEN,
                   "origin " + origin.substr(0, 200) + " may not call this long-poll listener\n");
            return true;
        }
        if (request.getMethod() == "OPTIONS" && path == SOAP_PATH) {
            if (verdict == Cors::Allowed) {
                allow_origin(response, origin);
                response.set("Access-Control-Allow-Methods", "POST");
                response.set("Access-Control-Allow-Headers",
                             "Content-Type, SOAPAction, X-Requested-With, Accept");
                response.set("Access-Control-Max-Age", "600");
            }
            response.set("Allow", "GET, HEAD, POST, OPTIONS");
            response.setStatusAndReason(HTTPResponse::HTTP_NO_CONTENT);
            response.setContentLength(0);
            response.send();
            return true;
        }
        if (verdict == Cors::Allowed) allow_origin(response, origin);
        return false;
    }

    void route(HTTPServerRequest& request, HTTPServerResponse& response) {
        auto const& limits = m_context.limits;
        auto const& uri = request.getURI();
        if (uri.size() > limits.max_uri_length)
            return reject(response, HTTPResponse::HTTP_REQUEST_URI_TOO_LONG, "request URI too long\n");
        if (static_cast<int>(request.size()) > limits.max_header_fields)
            return reject(response, HTTPResponse::HTTP_REQUEST_HEADER_FIELDS_TOO_LARGE,
                          "too many header fields\n");

        std::string_view path(uri);
        std::string_view query;
        if (auto q = path.find('?'); q != std::string_view::npos) {
            query = path.substr(q + 1);
            path = path.substr(0, q);
        }
        auto const& method = request.getMethod();
        bool get = method == "GET" || method == "HEAD";
        if (m_context.long_poll && cors(request, response, path)) return;

        if (path == SOAP_PATH && method == "POST") return soap(request, response);
        if (get &&
            ((path == SOAP_PATH && (query == "wsdl" || query == "WSDL")) || path == "/VirtualServer.wsdl"))
            return wsdl(request, response);
        if (path == CONSOLE_PATH) return console(request, response);
        if (path == SOAP_PATH) {
            response.set("Allow", "GET, HEAD, POST");
            return reject(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED,
                          "use POST for SOAP, GET ?wsdl for the contract\n");
        }
        if (!get) {
            response.set("Allow", "GET, HEAD");
            return reject(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
        }
        return asset(request, response, path);
    }

    // Answers without reading the body; the connection closes because the
    // unread body would otherwise be parsed as the next request.
    void reject(HTTPServerResponse& response, HTTPResponse::HTTPStatus status, std::string const& text) {
        response.setKeepAlive(false);
        send_text(response, status, text);
    }

    void asset(HTTPServerRequest& request, HTTPServerResponse& response, std::string_view path) {
        auto const* found = m_context.assets.find(path);
        if (!found) return send_text(response, HTTPResponse::HTTP_NOT_FOUND, "not found\n");
        response.set("ETag", found->etag);
        // Revalidate on every load: the UI must change the moment vsad is
        // upgraded, and the ETag keeps that to a 304.
        response.set("Cache-Control", "no-cache");
        if (request.get("If-None-Match", "") == found->etag) {
            response.setStatusAndReason(HTTPResponse::HTTP_NOT_MODIFIED);
            response.setContentLength(0);
            response.send();
            return;
        }
        response.setContentType(found->content_type);
        send_body(request, response, found->body);
    }

    void send_body(HTTPServerRequest& request, HTTPServerResponse& response, std::string const& body) {
        response.setContentLength(static_cast<std::streamsize>(body.size()));
        if (request.getMethod() == "HEAD") {
            response.send();
            return;
        }
        response.sendBuffer(body.data(), body.size());
    }

    void wsdl(HTTPServerRequest& request, HTTPServerResponse& response) {
        std::string host = request.getHost();
        if (!is_valid_host_header(host)) host = m_context.default_host;
        auto text = wsdl_for_host(m_context.wsdl, host);
        response.setContentType("text/xml; charset=utf-8");
        response.set("Cache-Control", "no-cache");
        send_body(request, response, text);
    }

    void soap(HTTPServerRequest& request, HTTPServerResponse& response) {
        auto const& limits = m_context.limits;
        if (!is_soap_content_type(request.getContentType()))
            return reject(response, HTTPResponse::HTTP_UNSUPPORTED_MEDIA_TYPE,
                          "SOAP requests must be text/xml (SOAP 1.1) or application/soap+xml (SOAP 1.2)\n");
        auto declared = request.getContentLength64();
        if (declared != Poco::Net::HTTPMessage::UNKNOWN_CONTENT_LENGTH &&
            static_cast<std::uint64_t>(declared) > limits.max_body_bytes)
            return reject(response, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE, "request body too large\n");

        SoapCall call;
        call.client_address = request.clientAddress().host().toString();
        call.long_poll = m_context.long_poll;
        call.long_poll_port = m_context.long_poll_port;
        Poco::Net::NameValueCollection cookies;
        request.getCookies(cookies);
        call.cookie_token = cookies.get(std::string(SESSION_COOKIE), "");
        bool browser = request.get("X-Requested-With", "") == "XMLHttpRequest";

        auto outcome = m_context.auth.from_http(request.get("Authorization", ""), call.cookie_token,
                                                call.client_address);
        if (outcome.status == AuthStatus::LockedOut)
            return locked_out(response, outcome.retry_after, browser);
        if (outcome.status == AuthStatus::BadCredentials) return unauthorized(response, browser, true);
        call.principal = std::move(outcome.principal);

        // Read at most one byte past the limit, to tell "too large" apart.
        std::string body;
        body.reserve(declared > 0 ? static_cast<std::size_t>(declared) : 4096);
        auto& in = request.stream();
        char buffer[16384];
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
            body.append(buffer, static_cast<std::size_t>(in.gcount()));
            if (body.size() > limits.max_body_bytes)
                return reject(response, HTTPResponse::HTTP_REQUEST_ENTITY_TOO_LARGE,
                              "request body too large\n");
        }
        if (body.empty()) return reject(response, HTTPResponse::HTTP_BAD_REQUEST, "empty SOAP request\n");
        if (has_markup_declaration(body))
            return reject(response, HTTPResponse::HTTP_BAD_REQUEST,
                          "DOCTYPE and entity declarations are not allowed in SOAP messages\n");
        // gSOAP enforces its depth limit only on elements it decodes, not on
        // header blocks it skips: check the whole document first.
        if (xml_depth_exceeds(body, limits.soap_max_depth))
            return reject(response, HTTPResponse::HTTP_BAD_REQUEST,
                          "XML nested deeper than " + std::to_string(limits.soap_max_depth) + " levels\n");

        auto reply = m_context.soap.dispatch(body, call);
        if (call.locked_out) return locked_out(response, *call.locked_out, browser);
        if (call.unauthenticated) return unauthorized(response, browser, false);

        if (call.set_session_cookie)
            response.add("Set-Cookie", std::string(SESSION_COOKIE) + "=" + *call.set_session_cookie +
                                           "; Path=/; Secure; HttpOnly; SameSite=Strict");
        if (call.clear_session_cookie)
            response.add("Set-Cookie", std::string(SESSION_COOKIE) +
                                           "=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
        set_soap_status(response, reply.http_status, browser);
        response.setContentType("text/xml; charset=utf-8");
        response.set("Cache-Control", "no-store");
        response.setContentLength(static_cast<std::streamsize>(reply.body.size()));
        response.sendBuffer(reply.body.data(), reply.body.size());
    }

    // The console's WebSocket. Every check comes before the upgrade, so a
    // refusal is an ordinary HTTP answer with a text the page can show;
    // after the upgrade the socket goes to the console service and this
    // thread returns to the pool.
    void console(HTTPServerRequest& request, HTTPServerResponse& response) {
        if (!m_context.console || m_context.long_poll)
            return reject(response, HTTPResponse::HTTP_NOT_FOUND, "no console on this listener\n");
        if (request.getMethod() != "GET") {
            response.set("Allow", "GET");
            return reject(response, HTTPResponse::HTTP_METHOD_NOT_ALLOWED,
                          "the console is a WebSocket: GET with Upgrade: websocket\n");
        }
        auto client = request.clientAddress().host().toString();
        Poco::Net::NameValueCollection cookies;
        request.getCookies(cookies);
        auto outcome = m_context.auth.from_http(request.get("Authorization", ""),
                                                cookies.get(std::string(SESSION_COOKIE), ""), client);
        if (outcome.status == AuthStatus::LockedOut) {
            response.set("Retry-After", std::to_string(outcome.retry_after.count()));
            return reject(response, HTTPResponse::HTTP_TOO_MANY_REQUESTS,
                          "too many failed logons from this address; retry in " +
                              std::to_string(outcome.retry_after.count()) + " s\n");
        }
        if (outcome.status != AuthStatus::Authenticated || !outcome.principal)
            return reject(response, HTTPResponse::HTTP_UNAUTHORIZED,
                          outcome.status == AuthStatus::BadCredentials
                              ? "wrong user name or password, or the session has ended: log on again\n"
                              : "log on first: the console needs the session cookie Session_Logon sets\n");
        auto origin = request.get("Origin", "");
        if (!console::origin_matches_host(origin, request.getHost())) {
            m_context.log.warning("console: refused a WebSocket from " + client + " with Origin '" +
                                  origin.substr(0, 128) + "' for Host '" + request.getHost().substr(0, 128) +
                                  "'");
            return reject(response, HTTPResponse::HTTP_FORBIDDEN,
                          "the console WebSocket must come from this server's own pages: Origin must be "
                          "https://<the Host header>\n");
        }
        std::string vm_text;
        try {
            for (auto const& [name, value] : Poco::URI(request.getURI()).getQueryParameters())
                if (name == "vm") vm_text = value;
        } catch (Poco::Exception const&) {
            return reject(response, HTTPResponse::HTTP_BAD_REQUEST, "malformed query string\n");
        }
        // The reference the SOAP API gives a VM is its ConfigID.
        auto vm = services::Guid::parse(vm_text);
        if (!vm)
            return reject(
                response, HTTPResponse::HTTP_BAD_REQUEST,
                "vm= must be a virtual machine reference (its ConfigID, as the SOAP API gives it)\n");
        if (auto allowed = m_context.console->check_access(*outcome.principal, *vm); allowed.is_error()) {
            bool unknown = allowed.error().code == services::hr::VM_E_VM_UNKNOWN;
            return reject(response, unknown ? HTTPResponse::HTTP_NOT_FOUND : HTTPResponse::HTTP_FORBIDDEN,
                          allowed.error().message + "\n");
        }
        if (Poco::icompare(request.get("Upgrade", ""), "websocket") != 0)
            return reject(response, HTTPResponse::HTTP_BAD_REQUEST,
                          "the console is a WebSocket (RFB in binary frames): send Upgrade: websocket\n");
        auto admission = m_context.console->admit(*vm);
        if (admission.is_error()) {
            auto code = admission.error().code;
            auto status = code == services::hr::VM_E_VM_NOT_RUNNING || code == services::hr::VM_E_VM_UNKNOWN
                              ? HTTPResponse::HTTP_CONFLICT
                              : HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
            return reject(response, status, admission.error().message + "\n");
        }
        Poco::Net::WebSocket socket(request, response); // sends 101 Switching Protocols
        // The upgrade took the socket out of Poco's HTTP session; this makes
        // the connection's request loop end at once instead of waiting for
        // a next request on a socket it no longer has.
        response.setKeepAlive(false);
        m_context.console->attach_websocket(admission.release_value(), std::move(socket),
                                            client + " (WebSocket, user " + outcome.principal->user + ")");
    }

    void unauthorized(HTTPServerResponse& response, bool browser, bool bad_credentials) {
        // A challenge makes browsers pop up their own login dialog; our UI
        // (X-Requested-With) shows its login page instead.
        if (!browser) response.set("WWW-Authenticate", "Basic realm=\"VSA\", charset=\"UTF-8\"");
        auto text = bad_credentials ? std::string("wrong user name or password")
                                    : std::string("authentication required");
        auto body = soap_fault_body("Client", E_ACCESSDENIED, "E_ACCESSDENIED", text);
        set_soap_status(response, HTTPResponse::HTTP_UNAUTHORIZED, browser);
        response.setContentType("text/xml; charset=utf-8");
        response.set("Cache-Control", "no-store");
        response.setKeepAlive(false); // the request body may be unread
        response.setContentLength(static_cast<std::streamsize>(body.size()));
        response.sendBuffer(body.data(), body.size());
    }

    void locked_out(HTTPServerResponse& response, std::chrono::seconds retry_after, bool browser) {
        auto text = "too many failed logons from this address; retry in " +
                    std::to_string(retry_after.count()) + " s";
        auto body = soap_fault_body("Client", E_ACCESSDENIED, "E_ACCESSDENIED", text);
        set_soap_status(response, HTTPResponse::HTTP_TOO_MANY_REQUESTS, browser);
        response.set("Retry-After", std::to_string(retry_after.count()));
        response.setContentType("text/xml; charset=utf-8");
        response.set("Cache-Control", "no-store");
        response.setKeepAlive(false);
        response.setContentLength(static_cast<std::streamsize>(body.size()));
        response.sendBuffer(body.data(), body.size());
    }

    HttpContext const& m_context;
    ConnectionTracker& m_tracker;
    int m_fd;
};

} // namespace

void add_security_headers(Poco::Net::HTTPServerResponse& response, std::string_view connect_src) {
    // The UI is self-contained: nothing from another origin (but vsad's own
    // long-poll listener), no framing.
    std::string connect = "connect-src 'self'";
    if (!connect_src.empty()) connect += " " + std::string(connect_src);
    response.set("Content-Security-Policy",
                 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " + connect +
                     "; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    response.set("Strict-Transport-Security", "max-age=31536000");
    response.set("X-Frame-Options", "DENY");
    response.set("X-Content-Type-Options", "nosniff");
    response.set("Referrer-Policy", "no-referrer");
    response.set("Cross-Origin-Resource-Policy", "same-origin");
    response.set("Cross-Origin-Opener-Policy", "same-origin");
}

std::string_view host_name_of(std::string_view host_header) {
    if (host_header.starts_with('[')) {
        auto close = host_header.find(']');
        return close == std::string_view::npos ? host_header : host_header.substr(0, close + 1);
    }
    auto colon = host_header.rfind(':');
    return colon == std::string_view::npos ? host_header : host_header.substr(0, colon);
}

bool is_valid_host_header(std::string_view host) {
    if (host.empty() || host.size() > 255) return false;
    for (char c : host) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '-' || c == ':' || c == '[' || c == ']';
        if (!ok) return false;
    }
    return true;
}

std::string wsdl_for_host(std::string const& wsdl, std::string_view host) {
    static constexpr std::string_view PLACEHOLDER = "https://localhost:8443/VirtualServer";
    auto at = wsdl.find(PLACEHOLDER);
    if (at == std::string::npos) return wsdl;
    std::string out = wsdl;
    out.replace(at, PLACEHOLDER.size(), "https://" + std::string(host) + std::string(SOAP_PATH));
    return out;
}

Poco::Net::HTTPRequestHandler* Router::createRequestHandler(Poco::Net::HTTPServerRequest const& request) {
    int fd = -1;
    if (auto const* impl = dynamic_cast<Poco::Net::HTTPServerRequestImpl const*>(&request))
        fd = const_cast<Poco::Net::HTTPServerRequestImpl*>(impl)->socket().impl()->sockfd();
    return new RequestHandler(m_context, m_tracker, fd);
}

} // namespace vsa::appliance
