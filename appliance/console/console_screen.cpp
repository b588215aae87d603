// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/console/console_screen.h"

#include "appliance/console/keysym_scancode.h"

#include <Poco/Logger.h>
#include <Poco/NumberFormatter.h>

#include <rfb/rfb.h>

#include <sys/select.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

namespace vsa::appliance::console {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds FRAME_INTERVAL{33};  // ~30 Hz
constexpr std::chrono::milliseconds WANT_REFRESH{1'000}; // renew the worker's render deadline
constexpr u64 WANT_AHEAD_MS = 3'000;                     // how far ahead it is set
// How long a new screen waits for the worker's first frame to learn the
// guest's screen size: a screen made at the placeholder size is resized at
// once, which every viewer then has to follow (noVNC copies its canvas).
constexpr std::chrono::milliseconds FIRST_FRAME_WAIT{500};
constexpr long PROCESS_USEC = 5'000;                       // each screen's select() per round
constexpr std::chrono::milliseconds ENFORCE_INTERVAL{200}; // idle and plain VNC checks

} // namespace

// Per RFB client (cl->clientData): where its pointer was, which buttons it
// held, which keys are down.
struct ConsoleScreen::Viewer {
    ConsoleScreen* screen{nullptr};
    Kind kind{Kind::WebSocket};
    std::string peer;
    bool have_position{false};
    int x{0}, y{0};
    int buttons{0};     // RFB mask as last seen
    std::set<u16> held; // (extended << 8) | code
    // The last key or pointer event (the connection at first): the idle
    // timeout counts from here.
    SteadyClock::time_point last_input{SteadyClock::now()};
};

ConsoleScreen::ConsoleScreen(services::Guid vm, std::shared_ptr<services::ConsoleSource> source,
                             ScreenHooks& hooks, Poco::Logger& log)
    : m_vm(vm), m_source(std::move(source)), m_hooks(hooks), m_log(log) {}

ConsoleScreen::~ConsoleScreen() {
    stop();
    if (m_thread.joinable()) m_thread.join();
    // Viewers queued after the thread ended (attach raced the end): never
    // served, their slots are freed here.
    for (auto& pending : m_pending) {
        pending.bridge.reset();
        m_hooks.viewer_left(m_vm);
    }
}

void ConsoleScreen::start() {
    m_thread = std::thread([this] { run(); });
}

bool ConsoleScreen::attach(std::unique_ptr<Bridge>& bridge, Kind kind) {
    std::lock_guard lock(m_mutex);
    if (m_closing || m_stop) return false;
    m_pending.push_back({std::move(bridge), kind});
    return true;
}

void ConsoleScreen::stop() {
    m_stop = true;
}

void ConsoleScreen::run() {
    try {
        if (set_up()) serve();
    } catch (std::exception const& e) {
        m_log.error("console of " + m_vm.to_string() + ": " + e.what());
    } catch (...) {
        m_log.error("console of " + m_vm.to_string() + ": unknown exception");
    }
    {
        std::lock_guard lock(m_mutex);
        m_closing = true;
    }
    tear_down();
    m_finished = true;
}

bool ConsoleScreen::set_up() {
    m_source->framebuffer().want_frames_until(SharedFramebuffer::monotonic_ms() + WANT_AHEAD_MS);
    // Until the worker's first frame: VMRCXResolution x VMRCYResolution.
    auto [width, height] = m_hooks.placeholder_size();
    {
        std::vector<u32> first;
        auto deadline = SteadyClock::now() + FIRST_FRAME_WAIT;
        while (!m_stop && SteadyClock::now() < deadline) {
            auto frame = m_source->framebuffer().read_changes(0, first);
            if (frame && frame->width != 0 && frame->height != 0) {
                width = frame->width;
                height = frame->height;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    auto make = [&](bool vnc_auth) -> rfbScreenInfoPtr {
        // rfbGetScreen parses a command line; ours has no options for it.
        char program[] = "vsad";
        char* argv[] = {program, nullptr};
        int argc = 1;
        rfbScreenInfoPtr screen =
            rfbGetScreen(&argc, argv, static_cast<int>(width), static_cast<int>(height), 8, 3, 4);
        if (!screen) return nullptr;
        // No listening socket of libvncserver's own: viewers arrive as
        // socketpair ends (rfbNewClient). No HTTP server, no UDP.
        screen->port = 0;
        screen->ipv6port = 0;
        screen->autoPort = FALSE;
        screen->httpPort = 0;
        screen->httpDir = nullptr;
        screen->alwaysShared = TRUE; // several viewers watch the same VM
        screen->deferUpdateTime = 0;
        screen->screenData = this;
        screen->kbdAddEvent = &ConsoleScreen::on_key;
        screen->ptrAddEvent = &ConsoleScreen::on_pointer;
        screen->desktopName = "VSA virtual machine";
        screen->permitFileTransfer = FALSE;
        if (vnc_auth) {
            // Any non-null value offers VNC authentication; our check
            // replaces the default one, which would read it.
            screen->authPasswdData = this;
            screen->passwordCheck = &ConsoleScreen::on_password;
        }
        return screen;
    };
    m_pixels.assign(std::size_t(width) * height, 0);
    m_width = width;
    m_height = height;
    m_web = make(false);
    m_vnc = make(true);
    if (!m_web || !m_vnc) {
        m_log.error("console of " + m_vm.to_string() + ": libvncserver could not make a screen");
        return false;
    }
    for (auto* screen : {m_web, m_vnc}) {
        screen->frameBuffer = reinterpret_cast<char*>(m_pixels.data());
        rfbInitServer(screen);
    }
    return true;
}

void ConsoleScreen::tear_down() {
    // Every bridge first (their threads end and libvncserver sees EOF),
    // then libvncserver's clients and screens.
    for (auto& bridge : m_bridges)
        bridge->abort();
    for (auto* screen : {m_web, m_vnc}) {
        if (!screen) continue;
        rfbShutdownServer(screen, TRUE);
        rfbScreenCleanup(screen);
    }
    m_web = m_vnc = nullptr;
    for (auto& bridge : m_bridges) {
        bridge.reset();
        m_hooks.viewer_left(m_vm);
    }
    m_bridges.clear();
    std::vector<Pending> pending;
    {
        std::lock_guard lock(m_mutex);
        pending.swap(m_pending);
    }
    for (auto& item : pending) {
        item.bridge.reset();
        m_hooks.viewer_left(m_vm);
    }
}

void ConsoleScreen::serve() {
    auto next_frame = SteadyClock::now();
    auto next_want = next_frame + WANT_REFRESH;
    bool had_viewers = false;
    while (!m_stop) {
        take_new_viewers();
        if (!m_bridges.empty()) had_viewers = true;
        if (!m_source->running()) {
            m_log.information("console of " + m_vm.to_string() + ": the virtual machine stopped; " +
                              std::to_string(m_bridges.size()) + " viewer(s) disconnected");
            return;
        }
        auto now = SteadyClock::now();
        if (now >= next_want) {
            m_source->framebuffer().want_frames_until(SharedFramebuffer::monotonic_ms() + WANT_AHEAD_MS);
            next_want = now + WANT_REFRESH;
        }
        if (now >= next_frame) {
            update_frame();
            next_frame = now + FRAME_INTERVAL;
        }
        rfbProcessEvents(m_web, PROCESS_USEC);
        rfbProcessEvents(m_vnc, PROCESS_USEC);
        reap_bridges();
        if (now >= m_next_enforce) {
            enforce_settings();
            m_next_enforce = now + ENFORCE_INTERVAL;
        }
        if (had_viewers && m_bridges.empty()) {
            std::lock_guard lock(m_mutex);
            if (m_pending.empty()) {
                m_closing = true;
                return;
            }
        }
    }
}

void ConsoleScreen::take_new_viewers() {
    std::vector<Pending> pending;
    {
        std::lock_guard lock(m_mutex);
        pending.swap(m_pending);
    }
    for (auto& item : pending) {
        int fd = item.bridge->release_server_fd();
        // libvncserver keeps its sockets in an fd_set: a descriptor past
        // FD_SETSIZE would be written out of bounds.
        if (fd < 0 || fd >= FD_SETSIZE) {
            m_log.error("console: descriptor " + std::to_string(fd) + " is out of libvncserver's range; " +
                        item.bridge->peer() + " refused");
            if (fd >= 0) ::close(fd);
            item.bridge->abort();
            m_hooks.viewer_left(m_vm);
            continue;
        }
        item.bridge->start();
        rfbClientPtr client = rfbNewClient(item.kind == Kind::Vnc ? m_vnc : m_web, fd);
        if (client) {
            auto* viewer = new Viewer{this, item.kind, item.bridge->peer()};
            client->clientData = viewer;
            client->clientGoneHook = &ConsoleScreen::on_client_gone;
            m_log.information("console of " + m_vm.to_string() + ": viewer " + viewer->peer + " connected");
        }
        // Without a client libvncserver has closed its end: the bridge
        // sees EOF and ends, and is reaped like any other.
        m_bridges.push_back(std::move(item.bridge));
    }
}

void ConsoleScreen::reap_bridges() {
    auto ended = std::stable_partition(m_bridges.begin(), m_bridges.end(),
                                       [](auto const& bridge) { return !bridge->finished(); });
    for (auto it = ended; it != m_bridges.end(); ++it) {
        it->reset();
        m_hooks.viewer_left(m_vm);
    }
    m_bridges.erase(ended, m_bridges.end());
}

void ConsoleScreen::update_frame() {
    auto changes = m_source->framebuffer().read_changes(m_frame, m_shadow);
    if (!changes) return;
    m_frame = changes->frame;
    if (changes->width == 0 || changes->height == 0) return; // nothing shown yet
    if (m_shadow.size() < std::size_t(changes->width) * changes->height) return;
    if (changes->resized || changes->width != m_width || changes->height != m_height) {
        resize(changes->width, changes->height);
        return;
    }
    for (auto const& rect : changes->rects) {
        if (rect.w == 0 || rect.h == 0 || rect.x >= m_width || rect.y >= m_height) continue;
        u32 w = std::min(rect.w, m_width - rect.x);
        u32 h = std::min(rect.h, m_height - rect.y);
        convert(rect.x, rect.y, w, h);
        for (auto* screen : {m_web, m_vnc})
            rfbMarkRectAsModified(screen, static_cast<int>(rect.x), static_cast<int>(rect.y),
                                  static_cast<int>(rect.x + w), static_cast<int>(rect.y + h));
    }
}

void ConsoleScreen::resize(u32 width, u32 height) {
    bool same_size = width == m_width && height == m_height;
    if (!same_size) {
        // A new buffer: libvncserver may still point at the old one until
        // rfbNewFramebuffer has switched both screens.
        std::vector<u32> pixels(std::size_t(width) * height, 0);
        m_pixels.swap(pixels);
        m_width = width;
        m_height = height;
        convert(0, 0, width, height);
        for (auto* screen : {m_web, m_vnc})
            rfbNewFramebuffer(screen, reinterpret_cast<char*>(m_pixels.data()), static_cast<int>(width),
                              static_cast<int>(height), 8, 3, 4);
        return; // `pixels` (the old buffer) goes here, no longer referenced
    }
    convert(0, 0, width, height);
    for (auto* screen : {m_web, m_vnc})
        rfbMarkRectAsModified(screen, 0, 0, static_cast<int>(width), static_cast<int>(height));
}

void ConsoleScreen::convert(u32 x, u32 y, u32 w, u32 h) {
    // 0x00RRGGBB to libvncserver's default true-colour layout (red in the
    // low byte: bytes R, G, B, 0 in memory).
    for (u32 row = y; row < y + h; ++row) {
        u32 const* from = m_shadow.data() + std::size_t(row) * m_width + x;
        u32* to = m_pixels.data() + std::size_t(row) * m_width + x;
        for (u32 i = 0; i < w; ++i) {
            u32 p = from[i];
            to[i] = ((p >> 16) & 0xFF) | (p & 0xFF00) | ((p & 0xFF) << 16);
        }
    }
}

// --- libvncserver's callbacks (on this screen's thread) ---------------------------

void ConsoleScreen::enforce_settings() {
    bool plain_vnc = m_hooks.plain_vnc_allowed();
    auto idle = m_hooks.idle_timeout();
    auto now = SteadyClock::now();
    for (auto* screen : {m_web, m_vnc}) {
        rfbClientIteratorPtr clients = rfbGetClientIterator(screen);
        while (rfbClientPtr client = rfbClientIteratorNext(clients)) {
            auto* viewer = static_cast<Viewer*>(client->clientData);
            if (!viewer || client->sock < 0) continue;
            char const* why = nullptr;
            if (screen == m_vnc && !plain_vnc)
                why = "plain VNC is now refused (VMRCEnabled off or VMRCEncryptionEnabled on)";
            else if (idle.count() > 0 && now - viewer->last_input >= idle)
                why = "idle for longer than VMRCIdleConnectionTimeout";
            if (!why) continue;
            m_log.information("console of " + m_vm.to_string() + ": viewer " + viewer->peer +
                              " closed: " + why);
            rfbCloseClient(client);
        }
        rfbReleaseClientIterator(clients);
    }
}

void ConsoleScreen::on_key(signed char down, unsigned int keysym, _rfbClientRec* client) {
    auto* viewer = static_cast<Viewer*>(client->clientData);
    if (!viewer) return;
    auto* self = viewer->screen;
    auto key = set2_key(keysym);
    if (!key) {
        // A symbol the US layout has no key for: dropped, logged a few times.
        if (self->m_unknown_keys++ < 8)
            self->m_log.debug("console: no PS/2 key for keysym 0x" +
                              Poco::NumberFormatter::formatHex(keysym));
        return;
    }
    viewer->last_input = SteadyClock::now();
    u16 id = static_cast<u16>((key->extended ? 0x100 : 0) | key->code);
    if (down)
        viewer->held.insert(id);
    else
        viewer->held.erase(id);
    self->m_source->send_key(set2_bytes(*key, down != 0));
}

void ConsoleScreen::on_pointer(int button_mask, int x, int y, _rfbClientRec* client) {
    auto* viewer = static_cast<Viewer*>(client->clientData);
    if (!viewer) return;
    viewer->last_input = SteadyClock::now();
    int dx = viewer->have_position ? x - viewer->x : 0;
    int dy = viewer->have_position ? y - viewer->y : 0;
    viewer->have_position = true;
    viewer->x = x;
    viewer->y = y;
    // RFB: bit 0 left, 1 middle, 2 right, 3 wheel up, 4 wheel down (a
    // wheel step is a press and a release: count presses).
    int pressed = button_mask & ~viewer->buttons;
    viewer->buttons = button_mask;
    int dz = ((pressed & 0x10) ? 1 : 0) - ((pressed & 0x08) ? 1 : 0);
    unsigned buttons = ((button_mask & 1) ? control::MOUSE_LEFT : 0) |
                       ((button_mask & 4) ? control::MOUSE_RIGHT : 0) |
                       ((button_mask & 2) ? control::MOUSE_MIDDLE : 0);
    viewer->screen->m_source->send_pointer(dx, dy, dz, buttons);
}

signed char ConsoleScreen::on_password(_rfbClientRec* client, char const* response, int length) {
    auto* self = static_cast<ConsoleScreen*>(client->screen->screenData);
    auto* viewer = static_cast<Viewer*>(client->clientData);
    std::string peer = viewer ? viewer->peer : std::string("a VNC viewer");
    VncChallenge challenge{};
    std::memcpy(challenge.data(), client->authChallenge, challenge.size());
    std::span<u8 const> answer(reinterpret_cast<u8 const*>(response),
                               length > 0 ? static_cast<std::size_t>(length) : 0);
    if (self->m_hooks.redeem_ticket(self->m_vm, challenge, answer)) {
        self->m_log.information("console of " + self->m_vm.to_string() + ": " + peer +
                                " authenticated with a ticket");
        return TRUE;
    }
    self->m_log.warning("console of " + self->m_vm.to_string() +
                        ": refused a wrong, used or expired VNC "
                        "ticket from " +
                        peer);
    return FALSE;
}

void ConsoleScreen::on_client_gone(_rfbClientRec* client) {
    auto* viewer = static_cast<Viewer*>(client->clientData);
    client->clientData = nullptr;
    if (!viewer) return;
    // Release what the viewer still held, as a keyboard unplugged would.
    for (u16 id : viewer->held)
        viewer->screen->m_source->send_key(
            set2_bytes(Set2Key{(id & 0x100) != 0, static_cast<u8>(id & 0xFF)}, false));
    if (viewer->buttons & 7) viewer->screen->m_source->send_pointer(0, 0, 0, 0);
    viewer->screen->m_log.information("console of " + viewer->screen->m_vm.to_string() + ": viewer " +
                                      viewer->peer + " left");
    delete viewer;
}

} // namespace vsa::appliance::console
