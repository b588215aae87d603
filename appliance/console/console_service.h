// SPDX-License-Identifier: GPL-2.0-or-later
// ConsoleService: each running VM's screen, keyboard and mouse over RFB
// (VNC), for the browser console (noVNC over a WebSocket on vsad's HTTPS
// listener, GET /console/websocket?vm=<VM reference>) and, where the
// administrator enables it, plain VNC clients with a one-time ticket
// (IVMVirtualMachine.CreateConsoleTicket), as Virtual Server's VMRC allowed.
//
// Who does what:
//   - the HTTP handler (http/router.cpp) authenticates the request (session
//     cookie or Basic, as SOAP), checks the Origin and the VM right
//     (console_access.h), asks for a viewer slot (admit), upgrades to a
//     WebSocket and hands it over (attach_websocket); it returns at once,
//     so no HTTP worker thread is held for the console's lifetime;
//   - one ConsoleScreen per VM with viewers (console_screen.h) runs
//     libvncserver on its own thread;
//   - one Bridge per viewer (console_bridge.h) copies bytes on its own
//     thread;
//   - the service's thread accepts plain VNC connections on the VMs'
//     listeners, reaps ended screens, and closes the listeners of VMs that
//     stopped.
//
// Limits: at most max_viewers connections server-wide and
// max_viewers_per_vm per VM (console.* keys), counted from admission to the
// end of the connection; a refusal says which limit.
//
// Plain VNC: a VM gets a listener the first time a ticket is made for it,
// on the first free port of the VMRC port range (VMRCAdminPortNumber,
// default console.vnc_ports), bound to VMRCAdminAddress (default the HTTPS
// bind address); it stays while the VM runs (the same port for every
// ticket) and closes when the VM stops. The VMRC settings
// (vmrc_settings.h) apply live (vmrc_changed): turning plain VNC off
// (VMRCEnabled off, or VMRCEncryptionEnabled on) closes every listener and
// plain VNC viewer and refuses tickets; a new address or port range closes
// the listeners, and the next ticket opens one at the new place (viewers
// already connected stay). VNC authentication is a DES challenge over an
// unencrypted connection: the listener is off by default, tickets are
// one-time and short-lived, and the guest's screen and keys travel in the
// clear (as with VMRC without SSL); use it on trusted networks only.
#pragma once

#include "appliance/config.h"
#include "appliance/console/console_screen.h"
#include "appliance/console/console_tickets.h"
#include "appliance/console/vmrc_settings.h"
#include "services/model/guid.h"
#include "services/service_error.h"

#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/WebSocket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace Poco {
class Logger;
}

namespace vsa::services {
class Inventory;
class VmRuntime;
} // namespace vsa::services

namespace vsa::appliance {
struct Principal;
}

namespace vsa::appliance::console {

class VmrcCertificates;

class ConsoleService final : private ScreenHooks {
public:
    // `vmrc` and `certificates` (may be null) outlive the service.
    ConsoleService(services::VmRuntime& runtime, services::Inventory const& inventory, ConsoleConfig config,
                   VmrcSettingsStore& vmrc, VmrcCertificates* certificates, Poco::Logger& log);
    ~ConsoleService() override; // stop()
    ConsoleService(ConsoleService const&) = delete;
    ConsoleService& operator=(ConsoleService const&) = delete;

    // Starts the service's thread (accepting, reaping).
    void start();
    // Closes every viewer and listener and joins every thread. Later
    // admissions are refused.
    void stop();

    // Whether `who` may open `vm`'s console (console_access.h).
    services::ServiceResult<void> check_access(Principal const& who, services::Guid const& vm) const;

    // A viewer slot for `vm`: held until the connection it admits ends (or
    // the Admission is dropped unused). VM_E_VM_NOT_RUNNING,
    // VM_E_VM_UNKNOWN, or E_FAIL naming the limit reached.
    class Admission {
    public:
        Admission() = default;
        Admission(Admission&& other) noexcept;
        Admission& operator=(Admission&& other) noexcept;
        ~Admission();

    private:
        friend class ConsoleService;
        ConsoleService* m_service{nullptr};
        services::Guid m_vm;
        std::shared_ptr<services::ConsoleSource> m_source;
    };
    services::ServiceResult<Admission> admit(services::Guid const& vm);

    // Takes over an upgraded WebSocket (the service owns it from here).
    void attach_websocket(Admission admission, Poco::Net::WebSocket socket, std::string peer);

    struct Ticket {
        std::uint16_t port{0};
        std::string password;
        std::chrono::seconds expires_in{0};
    };
    // CreateConsoleTicket: E_FAIL when the plain VNC listener is disabled
    // or no port is free; VM_E_VM_NOT_RUNNING / VM_E_VM_UNKNOWN.
    services::ServiceResult<Ticket> create_ticket(services::Guid const& vm);

    bool vnc_enabled() const { return m_plain_vnc.load(); }
    int viewer_count() const;
    ConsoleConfig const& config() const { return m_config; }

    // The VMRC settings (IVMVirtualServer.VMRC*), and the console's TLS
    // certificate (null where vsad has none, as in tests).
    VmrcSettingsStore& vmrc() { return m_vmrc; }
    VmrcCertificates* certificates() { return m_certificates; }
    // Applies the current VMRC settings to listeners and viewers; call
    // after every change.
    void vmrc_changed();

private:
    struct Listener {
        services::Guid vm;
        Poco::Net::ServerSocket socket;
        std::uint16_t port{0};
    };

    void attach(Admission admission, std::unique_ptr<Transport> transport, std::string peer,
                ConsoleScreen::Kind kind);
    void release(services::Guid const& vm);
    void run();
    void accept_on(Listener& listener);
    void housekeeping();
    void wake();

    // ScreenHooks
    void viewer_left(services::Guid const& vm) override;
    bool redeem_ticket(services::Guid const& vm, VncChallenge const& challenge,
                       std::span<u8 const> response) override;
    bool plain_vnc_allowed() const override { return m_plain_vnc.load(); }
    std::chrono::milliseconds idle_timeout() const override {
        return std::chrono::milliseconds(m_idle_timeout_ms.load());
    }
    std::pair<u32, u32> placeholder_size() const override {
        return {m_placeholder_width.load(), m_placeholder_height.load()};
    }
    void load_vmrc(VmrcSettings const& settings);

    services::VmRuntime& m_runtime;
    services::Inventory const& m_inventory;
    ConsoleConfig m_config;
    VmrcSettingsStore& m_vmrc;
    VmrcCertificates* m_certificates;
    // Applied from m_vmrc (load_vmrc), read by the threads.
    std::atomic<bool> m_plain_vnc{false};
    std::atomic<std::int64_t> m_idle_timeout_ms{0};
    std::atomic<u32> m_placeholder_width{640};
    std::atomic<u32> m_placeholder_height{480};
    VmrcSettings m_applied; // under m_mutex: where the listeners were opened
    Poco::Logger& m_log;
    TicketStore m_tickets;
    TransportLimits m_transport_limits;

    mutable std::mutex m_mutex;
    bool m_stopping{false};
    int m_viewers{0};
    std::map<services::Guid, int> m_viewers_per_vm;
    std::map<services::Guid, std::shared_ptr<ConsoleScreen>> m_screens;
    std::vector<std::shared_ptr<ConsoleScreen>> m_retired; // ending; joined by the service thread
    std::vector<std::unique_ptr<Listener>> m_listeners;
    std::vector<std::unique_ptr<Listener>> m_closed_listeners; // freed by the service's thread
    int m_wake_fd{-1};                                         // eventfd: new listener, stop
    std::thread m_thread;
};

} // namespace vsa::appliance::console
