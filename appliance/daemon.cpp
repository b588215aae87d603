// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/daemon.h"

#include "appliance/auth/account_store.h"
#include "appliance/auth/authenticator.h"
#include "appliance/auth/login_throttle.h"
#include "appliance/auth/session_store.h"
#include "appliance/config.h"
#include "appliance/console/console_service.h"
#include "appliance/console/vmrc_certificate.h"
#include "appliance/console/vmrc_settings.h"
#include "appliance/embedded_wsdl.h"
#include "appliance/http/connection_tracker.h"
#include "appliance/http/router.h"
#include "appliance/http/static_assets.h"
#include "appliance/log_setup.h"
#include "appliance/password_generator.h"
#include "appliance/soap/host_info_cache.h"
#include "appliance/soap/soap_dispatcher.h"
#include "appliance/tls/tls_context.h"
#include "hypervisor/base/file_descriptor.h"
#include "services/virtual_server.h"

#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/ThreadPool.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

#ifndef VSA_DEFAULT_WEB_ROOT
#define VSA_DEFAULT_WEB_ROOT "/usr/share/vsa/web"
#endif
#ifndef VSA_BUILD_WORKER
#define VSA_BUILD_WORKER ""
#endif

namespace vsa::appliance {

using Poco::Util::Option;

namespace {

// One HTTPS listener with its own thread pool and connection deadlines.
// Built on TCPServer with our connection factory (not HTTPServer) so every
// connection is tracked: see http/connection_tracker.h.
class Listener {
public:
    Listener(DaemonConfig const& cfg, Poco::Net::Context::Ptr tls, std::uint16_t port, int threads,
             char const* name)
        : m_socket(Poco::Net::SocketAddress(cfg.listen.bind_address, port), 64, std::move(tls)),
          // Our own pool, sized by the configuration: Poco's default pool
          // caps at 16 threads, fewer than keep-alive clients may need.
          m_pool(name, 2, threads),
          m_tracker({cfg.limits.receive_timeout, cfg.limits.keepalive_timeout + cfg.limits.receive_timeout,
                     cfg.limits.request_timeout}),
          m_params(new Poco::Net::HTTPServerParams) {
        m_params->setMaxThreads(threads);
        m_params->setMaxQueued(cfg.pool.queue);
        m_params->setTimeout(Poco::Timespan(cfg.limits.receive_timeout.count() * 1000));
        m_params->setKeepAlive(true);
        m_params->setKeepAliveTimeout(Poco::Timespan(cfg.limits.keepalive_timeout.count() * 1000));
        m_params->setMaxKeepAliveRequests(cfg.limits.max_keepalive_requests);
        m_params->setServerName("vsad");
    }

    std::uint16_t port() const { return m_socket.address().port(); }

    void start(HttpContext const& http) {
        Poco::Net::HTTPRequestHandlerFactory::Ptr router(new Router(http, m_tracker));
        m_server = std::make_unique<Poco::Net::TCPServer>(
            new TrackedConnectionFactory(m_params, router, m_tracker), m_pool, m_socket, m_params);
        m_server->start();
    }

    // Stop accepting, cut every open connection (idle keep-alive ones, and
    // ones still in their TLS handshake, which Poco cannot interrupt), then
    // wait for the workers.
    void stop() {
        if (!m_server) return;
        m_server->stop();
        m_tracker.shutdown_all();
        m_pool.joinAll();
        m_server.reset();
    }

    ~Listener() { stop(); }

private:
    Poco::Net::SecureServerSocket m_socket;
    Poco::ThreadPool m_pool;
    ConnectionTracker m_tracker;
    Poco::Net::HTTPServerParams::Ptr m_params;
    std::unique_ptr<Poco::Net::TCPServer> m_server;
};

// vsa-vm next to vsad (an installation), else the one built with this vsad
// (a build tree: appliance/vsad and hypervisor/vsa-vm).
std::filesystem::path default_worker_binary() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto beside = self.parent_path() / "vsa-vm";
    if (!ec && std::filesystem::exists(beside, ec)) return beside;
    std::filesystem::path built(VSA_BUILD_WORKER);
    if (!built.empty() && std::filesystem::exists(built, ec)) return built;
    return beside;
}

// The guest agent's install media: beside vsad, else the build tree's.
std::filesystem::path default_agent_media() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto beside = self.parent_path() / "vsa-guest-agent.iso";
    if (!ec && std::filesystem::exists(beside, ec)) return beside;
    std::filesystem::path built(VSA_BUILD_AGENT_MEDIA);
    if (!built.empty() && std::filesystem::exists(built, ec)) return built;
    return beside;
}

// The appliance console (image/) shows the first password on the screen
// until the administrator changes it; only root and vsad read the file.
Result<void, std::string> write_initial_password(std::filesystem::path const& file,
                                                 std::string const& password) {
    auto fail = [&](char const* what) {
        return Err{std::string("cannot ") + what + " " + file.string() + ": " + std::strerror(errno)};
    };
    FileDescriptor fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.is_open()) return fail("create");
    if (::fchmod(fd.fd(), 0600) != 0) return fail("set the mode of");
    std::string line = password + "\n";
    if (::write(fd.fd(), line.data(), line.size()) != ssize_t(line.size())) return fail("write");
    if (::fsync(fd.fd()) != 0 || fd.close() != 0) return fail("write");
    return Ok{};
}

} // namespace

void VsaDaemon::defineOptions(Poco::Util::OptionSet& options) {
    ServerApplication::defineOptions(options);
    options.addOption(Option("help", "h", "show this help and exit"));
    options.addOption(Option("config-file", "c", "read configuration from FILE (Poco properties syntax)")
                          .argument("FILE")
                          .repeatable(false));
    options.addOption(
        Option("data-dir", "", "keep state (accounts, TLS key, identity) in DIR").argument("DIR"));
    options.addOption(Option("bind", "", "listen on ADDRESS (default 127.0.0.1)").argument("ADDRESS"));
    options.addOption(Option("port", "p", "HTTPS port (default 8443; 0 = any free port)").argument("PORT"));
    options.addOption(
        Option("define", "D", "set configuration key=value").argument("KEY=VALUE").repeatable(true));
    options.addOption(Option("log-level", "", "fatal ... information (default) ... trace").argument("LEVEL"));
    options.addOption(Option("print-config", "", "print the default configuration and exit"));
}

void VsaDaemon::handleOption(std::string const& name, std::string const& value) {
    ServerApplication::handleOption(name, value);
    if (name == "help") {
        display_help();
        m_stop = true;
        stopOptionsProcessing();
    } else if (name == "print-config") {
        std::cout << default_config_text();
        m_stop = true;
        stopOptionsProcessing();
    } else if (name == "config-file") {
        loadConfiguration(value, PRIO_APPLICATION);
    } else if (name == "data-dir") {
        config().setString("vsa.data_dir", value);
    } else if (name == "bind") {
        config().setString("https.bind", value);
    } else if (name == "port") {
        config().setString("https.port", value);
    } else if (name == "log-level") {
        config().setString("vsa.log_level", value);
    } else if (name == "define") {
        auto eq = value.find('=');
        if (eq == std::string::npos || eq == 0)
            throw Poco::InvalidArgumentException("--define needs KEY=VALUE", value);
        config().setString(value.substr(0, eq), value.substr(eq + 1));
    }
}

void VsaDaemon::display_help() {
    Poco::Util::HelpFormatter help(options());
    help.setCommand(commandName());
    help.setUsage("[OPTIONS] | user (add|passwd|remove|list) ...");
    help.setHeader("vsad: the VSA management service (HTTPS, SOAP, admin web UI).\n"
                   "Run `vsad user --help` for account management.");
    help.format(std::cout);
}

int VsaDaemon::main(std::vector<std::string> const&) {
    if (m_stop) return EXIT_OK;
    auto& log = Poco::Logger::get("vsad");
    try {
        setup_logging(config().getString("vsa.log_level", "information"));
    } catch (Poco::Exception const& e) {
        std::cerr << "vsad: bad log level: " << e.displayText() << "\n";
        return EXIT_CONFIG;
    }

    auto parsed = DaemonConfig::from(config());
    if (parsed.is_error()) {
        log.fatal(parsed.error());
        return EXIT_CONFIG;
    }
    auto cfg = parsed.release_value();
    if (cfg.web_root.empty()) cfg.web_root = VSA_DEFAULT_WEB_ROOT;

    if (cfg.worker_binary.empty()) cfg.worker_binary = default_worker_binary();
    services::VmRuntimeOptions worker;
    worker.worker_binary = cfg.worker_binary;
    worker.agent_media = cfg.agent_media.empty() ? default_agent_media() : cfg.agent_media;
    worker.cpu_cgroup_root = cfg.cpu_cgroup;
    worker.optical_drives = services::HostOpticalDrives("/", cfg.optical_drives, cfg.discover_optical_drives);
    worker.floppy_drives = services::HostFloppyDrives("/", cfg.floppy_drives);
    worker.log = [](std::string const& line) { Poco::Logger::get("vsad.vm").information(line); };
    // The server records these in its event log; vsad's log gets them too.
    worker.on_event = [](services::Guid const&, std::string const& name, services::VmEvent what,
                         std::string const& detail) {
        auto text = "virtual machine \"" + name + "\": " + detail;
        auto& logger = Poco::Logger::get("vsad.vm");
        // Asked-for power changes are routine; the rest is trouble.
        if (what == services::VmEvent::Reset || what == services::VmEvent::ShutdownRequested)
            logger.information(text);
        else
            logger.warning(text);
    };
    services::VirtualServer::Options server_options{cfg.data_dir, "/", {}, {}, std::move(worker)};
    // Event scripts: what they printed and how they ended.
    server_options.scripts.log = [](std::string const& line) {
        Poco::Logger::get("vsad.scripts").information(line);
    };
    server_options.extra_host_drives = cfg.extra_host_drives;
    auto server = services::VirtualServer::open(std::move(server_options));
    if (server.is_error()) {
        log.fatal(server.error().message);
        return EXIT_CANTCREAT;
    }
    auto accounts_file = cfg.data_dir / "accounts.json";
    auto accounts = AccountStore::open(accounts_file);
    if (accounts.is_error()) {
        log.fatal(accounts.error());
        return EXIT_DATAERR;
    }
    if (accounts.value()->size() == 0) {
        auto password = generate_password();
        if (auto added = accounts.value()->add(cfg.auth.first_admin, password, true); added.is_error()) {
            log.fatal("cannot create the first administrator: " + added.error());
            return EXIT_CANTCREAT;
        }
        // Printed once, to stdout only; the store keeps a salted scrypt hash.
        std::cout << "Created administrator '" << cfg.auth.first_admin << "' with password: " << password
                  << "\n(shown only now; change it with: vsad user passwd " << cfg.auth.first_admin
                  << " --data-dir=" << cfg.data_dir.string() << ")" << std::endl;
        if (!cfg.auth.initial_password_file.empty()) {
            if (auto written = write_initial_password(cfg.auth.initial_password_file, password);
                written.is_error()) {
                log.fatal(written.error());
                return EXIT_CANTCREAT;
            }
        }
    }

    auto assets = StaticAssets::load(cfg.web_root);
    if (assets.is_error()) {
        log.fatal(assets.error());
        return EXIT_CONFIG;
    }
    auto tls = make_server_tls_context(cfg);
    if (tls.is_error()) {
        log.fatal(tls.error());
        return EXIT_CONFIG;
    }

    SessionStore sessions(cfg.auth.session_idle);
    LoginThrottle throttle({cfg.auth.max_failures, cfg.auth.failure_window, cfg.auth.lockout});
    Authenticator auth(*accounts.value(), sessions, throttle, cfg.auth);
    HostInfoCache host_info(server.value()->host());
    // vsad's own warnings and errors are events too (OnEventLogged), until
    // the server goes.
    auto& events = server.value()->events();
    forward_problems([&events](bool error, std::string const& source, std::string const& text) {
        services::Event event;
        event.kind = services::EventKind::EventLogged;
        event.severity = error ? services::EventSeverity::Error : services::EventSeverity::Warning;
        event.object_kind = services::OBJECT_SERVER;
        event.message = source + ": " + text;
        events.append(std::move(event));
    });
    struct ProblemsOff {
        ~ProblemsOff() { forward_problems({}); }
    } problems_off;

    // The console: its own threads (never the HTTP pools'); stopped before
    // the listeners and the VMs, so no viewer outlives what it shows.
    // Its VMRC settings and certificate (IVMVirtualServer.VMRC*): the
    // certificate serves every new TLS connection once one is installed.
    auto vmrc = console::VmrcSettingsStore::open(cfg.data_dir, cfg.console, cfg.listen.bind_address);
    if (vmrc.is_error()) {
        log.fatal("cannot read the console settings: " + vmrc.error().message);
        return EXIT_CONFIG;
    }
    auto vmrc_certificates = console::VmrcCertificates::open(cfg.data_dir, cfg.certificate);
    if (vmrc_certificates.is_error()) {
        log.fatal("cannot read the console certificate: " + vmrc_certificates.error().message);
        return EXIT_CONFIG;
    }
    vmrc_certificates.value()->attach(tls.value()->sslContext());
    console::ConsoleService console_service(server.value()->runtime(), server.value()->inventory(),
                                            cfg.console, *vmrc.value(), vmrc_certificates.value().get(),
                                            Poco::Logger::get("vsad.console"));
    console_service.start();
    struct ConsoleOff {
        console::ConsoleService& service;
        ~ConsoleOff() { service.stop(); }
    } console_off{console_service};
    SoapDispatcher dispatcher({*server.value(), auth, host_info, &console_service}, cfg.limits);

    try {
        Listener main_listener(cfg, tls.value(), cfg.listen.port, cfg.pool.threads, "vsad-http");
        std::unique_ptr<Listener> longpoll_listener;
        if (cfg.listen.longpoll_port != 0)
            longpoll_listener = std::make_unique<Listener>(cfg, tls.value(), cfg.listen.longpoll_port,
                                                           cfg.pool.longpoll_threads, "vsad-longpoll");

        HttpContext http{cfg.limits,
                         assets.value(),
                         dispatcher,
                         auth,
                         std::string(embedded_wsdl()),
                         cfg.listen.bind_address + ":" + std::to_string(main_listener.port()),
                         Poco::Logger::get("vsad.http")};
        http.console = &console_service;
        if (longpoll_listener) http.long_poll_port = longpoll_listener->port();
        http.main_port = main_listener.port();
        // The long-poll listener's context differs only in its role. Both
        // outlive the listeners (stopped below before they go).
        HttpContext long_poll_http = http;
        long_poll_http.long_poll = true;
        long_poll_http.console = nullptr;
        main_listener.start(http);
        server.value()->record_started();
        if (auto due = server.value()->start_autostart_vms())
            log.information(std::to_string(due) + " virtual machine(s) to start (AutoStartAtLaunch)");
        std::string ready = "vsad ready: https://" + http.default_host + "/";
        if (longpoll_listener) {
            longpoll_listener->start(long_poll_http);
            ready += " long-poll: https://" + cfg.listen.bind_address + ":" +
                     std::to_string(longpoll_listener->port()) + "/";
        }
        log.information(ready);
        std::cout << ready << std::endl;

        waitForTerminationRequest();
        log.information("vsad stopping");
        // Wakes the long polls first, so stopping the listeners does not
        // wait out their timeouts.
        server.value()->record_stopping();
        console_service.stop();
        main_listener.stop();
        if (longpoll_listener) longpoll_listener->stop();
        // No request is in flight any more: save or turn off the running
        // VMs (each per its ShutdownActionOnQuit); no worker outlives vsad.
        server.value()->runtime().shutdown();
    } catch (Poco::Exception const& e) {
        log.fatal("cannot serve HTTPS on " + cfg.listen.bind_address + ": " + e.displayText());
        return EXIT_SOFTWARE;
    }
    log.information("vsad stopped");
    return EXIT_OK;
}

} // namespace vsa::appliance
