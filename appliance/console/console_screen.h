// SPDX-License-Identifier: GPL-2.0-or-later
// ConsoleScreen: one running VM's screen as RFB servers (libvncserver),
// while it has viewers. Created for the first viewer, it ends when the last
// one has left, when the VM's worker stops, or when vsad stops.
//
// Two rfbScreenInfo share one framebuffer: the WebSocket viewers' (security
// type None: the session cookie authenticated them before the upgrade) and
// the plain VNC viewers' (VNC authentication, checked against the VM's
// one-time tickets). libvncserver chooses the security type per screen,
// not per client, hence two; both are fed and served by the same thread.
//
// The thread (the only one that touches libvncserver's structures):
//   - takes new viewers (Bridge, console_bridge.h) and gives their
//     socketpair end to rfbNewClient;
//   - keeps the worker rendering (SharedFramebuffer::want_frames_until,
//     refreshed every second; the worker renders only while it is ahead);
//   - reads the changed tiles about 30 times a second, converts them to
//     libvncserver's pixel layout, and marks them modified (a new size or
//     mode: rfbNewFramebuffer, which clients with DesktopSize follow), so
//     text and graphics modes both appear;
//   - runs rfbProcessEvents, whose callbacks turn RFB key events into PS/2
//     set 2 scan codes (keysym_scancode.h) and absolute pointer positions
//     into relative motion plus wheel steps (buttons 4 and 5), sent through
//     the ConsoleSource (queued there: this thread never waits on the
//     worker);
//   - reaps bridges that ended.
// Keys a viewer still holds when it leaves are released, so the guest does
// not see a stuck Ctrl.
//
// The absolute pointer of RFB becomes relative PS/2 motion: the guest's own
// acceleration makes its cursor drift from the viewer's (there is no
// absolute pointing device, such as a USB tablet, in the emulated PC).
#pragma once

#include "appliance/console/console_bridge.h"
#include "appliance/console/console_tickets.h"
#include "services/model/guid.h"
#include "services/worker/console_source.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace Poco {
class Logger;
}

struct _rfbScreenInfo;
struct _rfbClientRec;

namespace vsa::appliance::console {

// What a screen needs from the service that owns it.
class ScreenHooks {
public:
    virtual ~ScreenHooks() = default;
    // A viewer of `vm` has gone: its admission slot is free again.
    virtual void viewer_left(services::Guid const& vm) = 0;
    // A plain VNC viewer's answer to its challenge: true uses a ticket up.
    virtual bool redeem_ticket(services::Guid const& vm, VncChallenge const& challenge,
                               std::span<u8 const> response) = 0;
    // The VMRC settings (vmrc_settings.h) the screen's thread applies: plain
    // VNC viewers are closed once it is refused; a viewer without key or
    // pointer events for the idle timeout (zero: none) is closed; the size
    // of the screen before the worker's first frame.
    virtual bool plain_vnc_allowed() const = 0;
    virtual std::chrono::milliseconds idle_timeout() const = 0;
    virtual std::pair<u32, u32> placeholder_size() const = 0;
};

class ConsoleScreen {
public:
    enum class Kind { WebSocket, Vnc };

    ConsoleScreen(services::Guid vm, std::shared_ptr<services::ConsoleSource> source, ScreenHooks& hooks,
                  Poco::Logger& log);
    // stop() and join.
    ~ConsoleScreen();
    ConsoleScreen(ConsoleScreen const&) = delete;
    ConsoleScreen& operator=(ConsoleScreen const&) = delete;

    void start();
    // Takes `bridge` (moved from only on success) unless the screen is
    // ending; then the caller makes a new screen.
    bool attach(std::unique_ptr<Bridge>& bridge, Kind kind);
    // Asks the thread to end (closing every viewer); returns at once.
    void stop();
    bool finished() const { return m_finished.load(); }
    services::Guid const& vm() const { return m_vm; }

private:
    struct Pending {
        std::unique_ptr<Bridge> bridge;
        Kind kind;
    };
    struct Viewer;

    void run();
    void serve();
    bool set_up();
    void tear_down();
    void take_new_viewers();
    void update_frame();
    void resize(u32 width, u32 height);
    void convert(u32 x, u32 y, u32 w, u32 h);
    void reap_bridges();
    // Closes the viewers the VMRC settings no longer allow (plain VNC
    // refused, idle too long).
    void enforce_settings();

    static void on_key(signed char down, unsigned int keysym, _rfbClientRec* client);
    static void on_pointer(int button_mask, int x, int y, _rfbClientRec* client);
    static signed char on_password(_rfbClientRec* client, char const* response, int length);
    static void on_client_gone(_rfbClientRec* client);

    services::Guid m_vm;
    std::shared_ptr<services::ConsoleSource> m_source;
    ScreenHooks& m_hooks;
    Poco::Logger& m_log;

    // The thread's own.
    _rfbScreenInfo* m_web{nullptr};
    _rfbScreenInfo* m_vnc{nullptr};
    std::vector<u32> m_shadow; // the worker's pixels (0x00RRGGBB)
    std::vector<u32> m_pixels; // libvncserver's (red in the low byte)
    u32 m_width{0}, m_height{0};
    u64 m_frame{0};
    std::vector<std::unique_ptr<Bridge>> m_bridges;
    std::size_t m_unknown_keys{0};
    std::chrono::steady_clock::time_point m_next_enforce{};

    std::mutex m_mutex;
    std::vector<Pending> m_pending; // under m_mutex
    bool m_closing{false};          // under m_mutex: attach refuses
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_finished{false};
    std::thread m_thread;
};

} // namespace vsa::appliance::console
