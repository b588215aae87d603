// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/console/console_service.h"

#include "appliance/console/console_access.h"
#include "services/worker/vm_runtime.h"

#include <Poco/Logger.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SocketAddress.h>

#include <rfb/rfb.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace vsa::appliance::console {

namespace hr = services::hr;
using services::Guid;
using services::ServiceResult;

namespace {

Poco::Logger& rfb_logger() {
    return Poco::Logger::get("vsad.console.rfb");
}

// libvncserver logs through two global function pointers; its chatter
// (every client's protocol version, encodings) is debug, its errors are
// warnings.
void rfb_log(char const* format, ...) {
    auto& log = rfb_logger();
    if (!log.debug()) return;
    char line[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    std::string text(line);
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    log.debug(text);
}

void rfb_err(char const* format, ...) {
    char line[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(line, sizeof line, format, args);
    va_end(args);
    std::string text(line);
    while (!text.empty() && text.back() == '\n')
        text.pop_back();
    // Every viewer is a socketpair, where TCP_NODELAY cannot be set: expected.
    if (text.find("TCP_NODELAY") != std::string::npos) return rfb_logger().debug(text);
    rfb_logger().warning(text);
}

std::string address_text(sockaddr_storage const& address) {
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (address.ss_family == AF_INET) {
        auto const& in = reinterpret_cast<sockaddr_in const&>(address);
        ::inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
        port = ntohs(in.sin_port);
        return std::string(host) + ":" + std::to_string(port);
    }
    if (address.ss_family == AF_INET6) {
        auto const& in6 = reinterpret_cast<sockaddr_in6 const&>(address);
        ::inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
        port = ntohs(in6.sin6_port);
    }
    return "[" + std::string(host) + "]:" + std::to_string(port);
}

} // namespace

// --- Admission --------------------------------------------------------------------

ConsoleService::Admission::Admission(Admission&& other) noexcept
    : m_service(std::exchange(other.m_service, nullptr)), m_vm(other.m_vm),
      m_source(std::move(other.m_source)) {}

ConsoleService::Admission& ConsoleService::Admission::operator=(Admission&& other) noexcept {
    if (this != &other) {
        if (m_service) m_service->release(m_vm);
        m_service = std::exchange(other.m_service, nullptr);
        m_vm = other.m_vm;
        m_source = std::move(other.m_source);
    }
    return *this;
}

ConsoleService::Admission::~Admission() {
    if (m_service) m_service->release(m_vm);
}

// --- The service --------------------------------------------------------------------

ConsoleService::ConsoleService(services::VmRuntime& runtime, services::Inventory const& inventory,
                               ConsoleConfig config, VmrcSettingsStore& vmrc, VmrcCertificates* certificates,
                               Poco::Logger& log)
    : m_runtime(runtime), m_inventory(inventory), m_config(config), m_vmrc(vmrc),
      m_certificates(certificates), m_log(log) {
    load_vmrc(m_vmrc.snapshot());
    m_transport_limits.max_frame_payload = m_config.max_frame_bytes;
    static std::once_flag once;
    std::call_once(once, [] {
        rfbLog = &rfb_log;
        rfbErr = &rfb_err;
        // A viewer that stops reading stalls its VM's screen thread at most
        // this long (libvncserver then drops it); the default is 20 s.
        rfbMaxClientWait = 10'000;
        // Writes to a socket whose viewer left must fail, not kill vsad
        // (libvncserver writes without MSG_NOSIGNAL).
        ::signal(SIGPIPE, SIG_IGN);
    });
    m_wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

ConsoleService::~ConsoleService() {
    stop();
    if (m_wake_fd >= 0) ::close(m_wake_fd);
}

void ConsoleService::start() {
    m_thread = std::thread([this] { run(); });
}

void ConsoleService::wake() {
    if (m_wake_fd < 0) return;
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_wake_fd, &one, sizeof one);
}

void ConsoleService::stop() {
    std::map<Guid, std::shared_ptr<ConsoleScreen>> screens;
    std::vector<std::shared_ptr<ConsoleScreen>> retired;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    wake();
    if (m_thread.joinable()) m_thread.join();
    {
        std::lock_guard lock(m_mutex);
        screens.swap(m_screens);
        retired.swap(m_retired);
        m_listeners.clear();
        m_closed_listeners.clear();
    }
    for (auto const& [vm, screen] : screens)
        screen->stop();
    for (auto const& screen : retired)
        screen->stop();
    // Destroying them joins their threads, which call viewer_left (takes
    // m_mutex): not held here.
    screens.clear();
    retired.clear();
}

ServiceResult<void> ConsoleService::check_access(Principal const& who, Guid const& vm) const {
    return check_console_right(m_inventory, who, vm);
}

ServiceResult<ConsoleService::Admission> ConsoleService::admit(Guid const& vm) {
    auto source = TRY(m_runtime.console_source(vm));
    std::lock_guard lock(m_mutex);
    if (m_stopping) return services::service_error(hr::VM_E_APP_SHUTTING_DOWN, "vsad is stopping");
    if (m_viewers >= m_config.max_viewers)
        return services::service_error(hr::E_FAIL, "too many console connections: the server allows " +
                                                       std::to_string(m_config.max_viewers) +
                                                       " at once (console.max_viewers)");
    int& per_vm = m_viewers_per_vm[vm];
    if (per_vm >= m_config.max_viewers_per_vm) {
        if (per_vm == 0) m_viewers_per_vm.erase(vm);
        return services::service_error(hr::E_FAIL, "too many console connections to this virtual machine: " +
                                                       std::to_string(m_config.max_viewers_per_vm) +
                                                       " at once (console.max_viewers_per_vm)");
    }
    ++per_vm;
    ++m_viewers;
    Admission admission;
    admission.m_service = this;
    admission.m_vm = vm;
    admission.m_source = std::move(source);
    return admission;
}

void ConsoleService::release(Guid const& vm) {
    std::lock_guard lock(m_mutex);
    if (m_viewers > 0) --m_viewers;
    auto it = m_viewers_per_vm.find(vm);
    if (it != m_viewers_per_vm.end() && --it->second <= 0) m_viewers_per_vm.erase(it);
}

void ConsoleService::viewer_left(Guid const& vm) {
    release(vm);
}

int ConsoleService::viewer_count() const {
    std::lock_guard lock(m_mutex);
    return m_viewers;
}

void ConsoleService::attach_websocket(Admission admission, Poco::Net::WebSocket socket, std::string peer) {
    attach(std::move(admission), make_websocket_transport(std::move(socket), m_transport_limits),
           std::move(peer), ConsoleScreen::Kind::WebSocket);
}

void ConsoleService::attach(Admission admission, std::unique_ptr<Transport> transport, std::string peer,
                            ConsoleScreen::Kind kind) {
    if (!admission.m_service) return;
    auto bridge = std::make_unique<Bridge>(std::move(transport), std::move(peer), m_log);
    if (!bridge->open()) return; // the admission is released, the connection closed
    std::lock_guard lock(m_mutex);
    if (m_stopping) return;
    auto& screen = m_screens[admission.m_vm];
    if (!screen || !screen->attach(bridge, kind)) {
        if (screen) m_retired.push_back(screen);
        screen = std::make_shared<ConsoleScreen>(admission.m_vm, admission.m_source,
                                                 static_cast<ScreenHooks&>(*this), m_log);
        screen->attach(bridge, kind);
        screen->start();
    }
    // The slot now belongs to the bridge: the screen frees it when the
    // connection ends (viewer_left).
    admission.m_service = nullptr;
}

void ConsoleService::load_vmrc(VmrcSettings const& settings) {
    m_plain_vnc = settings.plain_vnc_allowed();
    m_idle_timeout_ms = settings.idle_timeout_enabled ? std::int64_t(settings.idle_timeout_s) * 1000 : 0;
    m_placeholder_width = static_cast<u32>(settings.x_resolution);
    m_placeholder_height = static_cast<u32>(settings.y_resolution);
    std::lock_guard lock(m_mutex);
    if (m_listeners.empty()) m_applied = settings;
}

void ConsoleService::vmrc_changed() {
    auto settings = m_vmrc.snapshot();
    load_vmrc(settings);
    std::vector<std::unique_ptr<Listener>> closed;
    char const* why = nullptr;
    {
        std::lock_guard lock(m_mutex);
        if (!settings.plain_vnc_allowed())
            why = "plain VNC is now refused";
        else if (settings.bind_address() != m_applied.bind_address() ||
                 settings.port_first != m_applied.port_first || settings.port_last != m_applied.port_last)
            why = "the VMRC address or port changed; the next ticket opens it anew";
        if (why) {
            closed.swap(m_listeners);
            m_applied = settings;
        }
    }
    // The service's thread may be polling them: it frees them itself, in
    // its next housekeeping (within half a second).
    wake();
    for (auto const& listener : closed) {
        if (!settings.plain_vnc_allowed()) m_tickets.forget(listener->vm);
        m_log.information("console: plain VNC listener for " + listener->vm.to_string() + " on port " +
                          std::to_string(listener->port) + " closed: " + why);
    }
    if (!closed.empty()) {
        std::lock_guard lock(m_mutex);
        m_closed_listeners.insert(m_closed_listeners.end(), std::make_move_iterator(closed.begin()),
                                  std::make_move_iterator(closed.end()));
    }
}

ServiceResult<ConsoleService::Ticket> ConsoleService::create_ticket(Guid const& vm) {
    auto settings = m_vmrc.snapshot();
    if (!settings.enabled)
        return services::service_error(hr::E_FAIL,
                                       "the plain VNC listener is disabled: set console.vnc_enabled "
                                       "or IVMVirtualServer.VMRCEnabled");
    if (settings.encryption_enabled)
        return services::service_error(
            hr::E_FAIL, "VMRCEncryptionEnabled is on: plain VNC (unencrypted) is refused; use the "
                        "browser console over HTTPS");
    TRY(m_runtime.console_source(vm)); // running, with a screen
    std::unique_lock lock(m_mutex);
    if (m_stopping) return services::service_error(hr::VM_E_APP_SHUTTING_DOWN, "vsad is stopping");
    if (m_listeners.empty()) m_applied = settings;
    std::string bind_address = m_applied.bind_address();
    Listener* listener = nullptr;
    for (auto& candidate : m_listeners)
        if (candidate->vm == vm) listener = candidate.get();
    if (!listener) {
        std::vector<std::uint16_t> taken;
        for (auto& other : m_listeners)
            taken.push_back(other->port);
        std::string last_error;
        for (unsigned port = m_applied.port_first; port <= m_applied.port_last && !listener; ++port) {
            if (std::find(taken.begin(), taken.end(), port) != taken.end()) continue;
            try {
                auto made = std::make_unique<Listener>();
                made->vm = vm;
                made->port = static_cast<std::uint16_t>(port);
                made->socket.bind(Poco::Net::SocketAddress(bind_address, static_cast<std::uint16_t>(port)),
                                  true);
                made->socket.listen(8);
                ::fcntl(made->socket.impl()->sockfd(), F_SETFD, FD_CLOEXEC);
                m_listeners.push_back(std::move(made));
                listener = m_listeners.back().get();
            } catch (Poco::Exception const& e) {
                last_error = e.displayText();
            }
        }
        if (!listener)
            return services::service_error(
                hr::E_FAIL, "no free port for the plain VNC listener on " + bind_address +
                                " in the VMRC port range (VMRCAdminPortNumber, console.vnc_ports) " +
                                std::to_string(m_applied.port_first) + "-" +
                                std::to_string(m_applied.port_last) +
                                (last_error.empty() ? "" : " (" + last_error + ")"));
        m_log.information("console: plain VNC listener for " + vm.to_string() + " on " + bind_address + ":" +
                          std::to_string(listener->port));
    }
    auto port = listener->port;
    lock.unlock();
    wake();
    auto ticket = m_tickets.issue(vm, TicketStore::Clock::now());
    return Ticket{port, ticket.password, TicketStore::LIFETIME};
}

bool ConsoleService::redeem_ticket(Guid const& vm, VncChallenge const& challenge,
                                   std::span<u8 const> response) {
    if (!m_plain_vnc) return false;
    return m_tickets.redeem_vnc_response(vm, challenge, response, TicketStore::Clock::now());
}

// --- The service's thread --------------------------------------------------------------

void ConsoleService::run() {
    auto next_housekeeping = std::chrono::steady_clock::now();
    for (;;) {
        std::vector<pollfd> fds;
        std::vector<Listener*> polled;
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping) return;
            fds.push_back({m_wake_fd, POLLIN, 0});
            for (auto& listener : m_listeners) {
                fds.push_back({listener->socket.impl()->sockfd(), POLLIN, 0});
                polled.push_back(listener.get());
            }
        }
        int n = ::poll(fds.data(), fds.size(), 500);
        if (n < 0 && errno != EINTR) {
            m_log.error(std::string("console: poll failed: ") + std::strerror(errno));
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
        if (n > 0 && (fds[0].revents & POLLIN)) {
            std::uint64_t count = 0;
            [[maybe_unused]] auto r = ::read(m_wake_fd, &count, sizeof count);
        }
        // Listeners are only removed by this thread (housekeeping) and
        // stop(), which joins it first: the pointers are still valid.
        for (std::size_t i = 0; n > 0 && i < polled.size(); ++i)
            if (fds[i + 1].revents & POLLIN) accept_on(*polled[i]);
        auto now = std::chrono::steady_clock::now();
        if (now >= next_housekeeping) {
            housekeeping();
            next_housekeeping = now + std::chrono::milliseconds(500);
        }
    }
}

void ConsoleService::accept_on(Listener& listener) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    int fd = ::accept4(listener.socket.impl()->sockfd(), reinterpret_cast<sockaddr*>(&address), &length,
                       SOCK_CLOEXEC);
    if (fd < 0) return;
    FileDescriptor socket(fd);
    std::string peer = address_text(address) + " (VNC)";
    auto admission = admit(listener.vm);
    if (admission.is_error()) {
        m_log.warning("console: refused " + peer + " for " + listener.vm.to_string() + ": " +
                      admission.error().message);
        return; // closed
    }
    attach(admission.release_value(), make_tcp_transport(std::move(socket), m_transport_limits),
           std::move(peer), ConsoleScreen::Kind::Vnc);
}

void ConsoleService::housekeeping() {
    std::vector<std::shared_ptr<ConsoleScreen>> ended;
    std::vector<std::unique_ptr<Listener>> closed;
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_screens.begin(); it != m_screens.end();) {
            if (it->second->finished()) {
                ended.push_back(it->second);
                it = m_screens.erase(it);
            } else {
                ++it;
            }
        }
        for (auto it = m_retired.begin(); it != m_retired.end();) {
            if ((*it)->finished()) {
                ended.push_back(*it);
                it = m_retired.erase(it);
            } else {
                ++it;
            }
        }
        // Closed by vmrc_changed: only this thread may free them.
        m_closed_listeners.clear();
        for (auto it = m_listeners.begin(); it != m_listeners.end();) {
            if (m_runtime.worker_pid((*it)->vm) < 0) {
                closed.push_back(std::move(*it));
                it = m_listeners.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto const& listener : closed) {
        m_tickets.forget(listener->vm);
        m_log.information("console: plain VNC listener for " + listener->vm.to_string() + " on port " +
                          std::to_string(listener->port) + " closed (the virtual machine stopped)");
    }
    // Joined here, without the lock (their threads call viewer_left).
    ended.clear();
}

} // namespace vsa::appliance::console
