// SPDX-License-Identifier: GPL-2.0-or-later
// bench_bare_https: the baseline peer for tests/bench/soap_bench.py.
//
// A Poco HTTPS server put together the way vsad is (appliance/daemon.cpp):
// the same TLS context (make_server_tls_context), the same thread pool and
// HTTPServerParams sizing taken from DaemonConfig's defaults, and the same
// authentication path (AccountStore + SessionStore + LoginThrottle +
// Authenticator::from_http on every request, so the credential cache HMAC
// is paid here too). What it leaves out is everything the SOAP path adds:
// routing, the XML guard and gSOAP. It reads and discards the request body
// and answers with the exact bytes vsad sends for IVMVirtualServer_get_Name,
// with the same response headers, so both peers put the same bytes on the
// wire and the benchmark's ratio measures only the SOAP path's cost.
//
// Usage:
//   bench_bare_https --data-dir=DIR [--port=0] [--bind=127.0.0.1]
//                    [--certificate=FILE --private-key=FILE]
//                    [--password=PW | password on stdin] [--minimal-headers]
//                    [--credential-cache-seconds=N]   (vsad's auth.credential_cache_seconds)
// Prints "bare ready: https://ADDR:PORT/" on stdout once it listens, and
// stops cleanly on SIGTERM or SIGINT.
#include "appliance/auth/account_store.h"
#include "appliance/auth/authenticator.h"
#include "appliance/auth/login_throttle.h"
#include "appliance/auth/session_store.h"
#include "appliance/config.h"
#include "appliance/http/router.h"
#include "appliance/tls/tls_context.h"

#include <Poco/AutoPtr.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/ThreadPool.h>

#include <csignal>
#include <iostream>
#include <istream>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>

namespace {

using namespace vsa::appliance;
using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

// Byte for byte what vsad answered to IVMVirtualServer_get_Name (497 bytes,
// gSOAP's trailing CRLF included).
constexpr std::string_view GET_NAME_RESPONSE =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://schemas.xmlsoap.org/soap/envelope/\" "
    "xmlns:SOAP-ENC=\"http://schemas.xmlsoap.org/soap/encoding/\" "
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:vs=\"urn:vsa:virtualserver:1\">"
    "<SOAP-ENV:Body><vs:IVMVirtualServer_get_NameResponse><vs:returnval>VSA Virtual Server Appliance"
    "</vs:returnval></vs:IVMVirtualServer_get_NameResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>\r\n";

constexpr std::string_view UNAUTHORIZED = "wrong user name or password\n";

struct Options {
    std::string data_dir;
    std::string bind{"127.0.0.1"};
    std::string port{"0"};
    std::string certificate;
    std::string private_key;
    std::optional<std::string> password;
    std::string credential_cache_seconds; // empty: DaemonConfig's default
    bool minimal_headers{false};
};

struct BareContext {
    Authenticator& auth;
    bool minimal_headers;
};

class BareHandler final : public Poco::Net::HTTPRequestHandler {
public:
    explicit BareHandler(BareContext const& context) : m_context(context) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
        try {
            if (!m_context.minimal_headers) add_security_headers(response);
            auto outcome = m_context.auth.from_http(request.get("Authorization", ""), {},
                                                    request.clientAddress().host().toString());
            if (outcome.status != AuthStatus::Authenticated) {
                response.setStatusAndReason(HTTPResponse::HTTP_UNAUTHORIZED);
                response.set("WWW-Authenticate", "Basic realm=\"VSA\", charset=\"UTF-8\"");
                response.setKeepAlive(false); // the body is unread
                response.setContentType("text/plain; charset=utf-8");
                response.setContentLength(static_cast<std::streamsize>(UNAUTHORIZED.size()));
                response.sendBuffer(UNAUTHORIZED.data(), UNAUTHORIZED.size());
                return;
            }
            // Read the body as vsad does; a kept-alive connection needs it
            // consumed before the next request.
            std::string body;
            auto declared = request.getContentLength64();
            body.reserve(declared > 0 ? static_cast<std::size_t>(declared) : 4096);
            auto& in = request.stream();
            char buffer[16384];
            while (in.read(buffer, sizeof buffer) || in.gcount() > 0)
                body.append(buffer, static_cast<std::size_t>(in.gcount()));

            response.setStatusAndReason(HTTPResponse::HTTP_OK);
            response.setContentType("text/xml; charset=utf-8");
            response.set("Cache-Control", "no-store");
            response.setContentLength(static_cast<std::streamsize>(GET_NAME_RESPONSE.size()));
            response.sendBuffer(GET_NAME_RESPONSE.data(), GET_NAME_RESPONSE.size());
        } catch (std::exception const& e) {
            std::cerr << "bench_bare_https: request failed: " << e.what() << "\n";
            if (!response.sent()) {
                response.setKeepAlive(false);
                response.setStatusAndReason(HTTPResponse::HTTP_INTERNAL_SERVER_ERROR);
                response.setContentLength(0);
                response.send();
            }
        }
    }

private:
    BareContext const& m_context;
};

class BareFactory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit BareFactory(BareContext const& context) : m_context(context) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(HTTPServerRequest const&) override {
        return new BareHandler(m_context);
    }

private:
    BareContext const& m_context;
};

bool take_value(std::string_view arg, std::string_view name, std::string& out) {
    if (!arg.starts_with(name) || arg.size() <= name.size() || arg[name.size()] != '=') return false;
    out = std::string(arg.substr(name.size() + 1));
    return true;
}

std::optional<Options> parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg(argv[i]);
        std::string password;
        if (arg == "--minimal-headers") {
            o.minimal_headers = true;
        } else if (take_value(arg, "--password", password)) {
            o.password = std::move(password);
        } else if (!take_value(arg, "--data-dir", o.data_dir) && !take_value(arg, "--port", o.port) &&
                   !take_value(arg, "--bind", o.bind) && !take_value(arg, "--certificate", o.certificate) &&
                   !take_value(arg, "--private-key", o.private_key) &&
                   !take_value(arg, "--credential-cache-seconds", o.credential_cache_seconds)) {
            std::cerr << "bench_bare_https: unknown option " << arg
                      << " (options take the form --key=value)\n";
            return std::nullopt;
        }
    }
    if (o.data_dir.empty()) {
        std::cerr << "bench_bare_https: --data-dir is required\n";
        return std::nullopt;
    }
    if (o.certificate.empty() != o.private_key.empty()) {
        std::cerr << "bench_bare_https: give both --certificate and --private-key, or neither\n";
        return std::nullopt;
    }
    return o;
}

int serve(Options const& options) {
    DaemonConfig cfg; // defaults: the pool and limits vsad runs with
    cfg.data_dir = options.data_dir;
    cfg.listen.bind_address = options.bind;
    try {
        cfg.listen.port = static_cast<std::uint16_t>(std::stoi(options.port));
        if (!options.credential_cache_seconds.empty())
            cfg.auth.credential_cache = std::chrono::seconds(std::stoi(options.credential_cache_seconds));
    } catch (std::exception const&) {
        std::cerr << "bench_bare_https: bad --port or --credential-cache-seconds\n";
        return 64;
    }
    // Like DaemonConfig::from: generated under the data dir unless given.
    cfg.certificate = cfg.data_dir / "tls" / "server.crt";
    cfg.private_key = cfg.data_dir / "tls" / "server.key";
    if (!options.certificate.empty()) cfg.certificate = options.certificate;
    if (!options.private_key.empty()) cfg.private_key = options.private_key;

    std::string password;
    if (options.password) {
        password = *options.password;
    } else if (!std::getline(std::cin, password)) {
        std::cerr << "bench_bare_https: no password on stdin\n";
        return 64;
    }
    auto accounts = AccountStore::open(cfg.data_dir / "accounts.json");
    if (accounts.is_error()) {
        std::cerr << "bench_bare_https: " << accounts.error() << "\n";
        return 73;
    }
    if (auto found = accounts.value()->find(cfg.auth.first_admin); !found) {
        if (auto added = accounts.value()->add(cfg.auth.first_admin, password, true); added.is_error()) {
            std::cerr << "bench_bare_https: " << added.error() << "\n";
            return 73;
        }
    } else if (auto set = accounts.value()->set_password(cfg.auth.first_admin, password); set.is_error()) {
        std::cerr << "bench_bare_https: " << set.error() << "\n";
        return 73;
    }

    auto tls = make_server_tls_context(cfg);
    if (tls.is_error()) {
        std::cerr << "bench_bare_https: " << tls.error() << "\n";
        return 78;
    }

    SessionStore sessions(cfg.auth.session_idle);
    LoginThrottle throttle({cfg.auth.max_failures, cfg.auth.failure_window, cfg.auth.lockout});
    Authenticator auth(*accounts.value(), sessions, throttle, cfg.auth);
    BareContext context{auth, options.minimal_headers};

    // The same HTTPServerParams as daemon.cpp's make_params.
    Poco::AutoPtr<Poco::Net::HTTPServerParams> params(new Poco::Net::HTTPServerParams);
    params->setMaxThreads(cfg.pool.threads);
    params->setMaxQueued(cfg.pool.queue);
    params->setTimeout(Poco::Timespan(cfg.limits.receive_timeout.count() * 1000));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(cfg.limits.keepalive_timeout.count() * 1000));
    params->setMaxKeepAliveRequests(cfg.limits.max_keepalive_requests);
    params->setServerName("vsad");

    // Block the stop signals before any thread starts, so only sigwait sees them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    try {
        Poco::Net::SocketAddress address(cfg.listen.bind_address, cfg.listen.port);
        Poco::Net::SecureServerSocket socket(address, 64, tls.value());
        Poco::ThreadPool pool("bare-http", 2, cfg.pool.threads);
        Poco::Net::HTTPServer server(new BareFactory(context), pool, socket, params);
        server.start();
        std::cout << "bare ready: https://" << cfg.listen.bind_address << ":" << socket.address().port()
                  << "/" << std::endl;
        int signal = 0;
        sigwait(&stop_signals, &signal);
        server.stopAll(true);
        pool.joinAll();
    } catch (Poco::Exception const& e) {
        std::cerr << "bench_bare_https: " << e.displayText() << "\n";
        return 70;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    auto options = parse_options(argc, argv);
    if (!options) return 64;
    Poco::Net::initializeSSL();
    int status = serve(*options);
    Poco::Net::uninitializeSSL();
    return status;
}
