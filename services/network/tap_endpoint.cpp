// SPDX-License-Identifier: GPL-2.0-or-later
// A virtual network as a port of a host bridge; see tap_endpoint.h.
#include "services/network/tap_endpoint.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vsa::network {

namespace {

// The largest frame a TAP hands over (no offloads asked for: at most the
// device's MTU, but the MTU can be raised under us); anything above
// MAX_FRAME is passed on whole so the switch drops and counts it.
constexpr std::size_t READ_BUFFER = 65'536;
constexpr std::size_t MAX_PROBLEMS = 64;

std::string errno_text(int error) {
    return std::strerror(error);
}

void set_name(ifreq& request, std::string const& name) {
    std::memset(&request, 0, sizeof request);
    std::memcpy(request.ifr_name, name.data(), std::min(name.size(), std::size_t(IFNAMSIZ - 1)));
}

bool valid_name(std::string const& name) {
    if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
    for (char c : name) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7F || c == '/' || c == ':') return false;
    }
    return true;
}

} // namespace

TapEndpoint::TapEndpoint(FileDescriptor tap, std::string device, std::string bridge)
    : m_tap(std::move(tap)), m_device(std::move(device)), m_bridge(std::move(bridge)), m_buffer(READ_BUFFER) {
}

TapEndpoint::~TapEndpoint() = default; // closing the descriptor removes the device (and its bridge port)

Result<std::shared_ptr<TapEndpoint>, std::string> TapEndpoint::create(std::string const& device,
                                                                      std::string const& bridge) {
    if (!valid_name(device)) return "\"" + device.substr(0, 40) + "\" is not a network interface name";
    if (!valid_name(bridge)) return "\"" + bridge.substr(0, 40) + "\" is not a network interface name";
    // Any socket takes the interface ioctls; the bridge ones too.
    FileDescriptor control(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!control.is_open()) return "cannot open a socket for interface requests: " + errno_text(errno);
    ifreq request;
    // The bridge first: its absence is the most likely mistake, and says
    // more than a failure to make the TAP would.
    set_name(request, bridge);
    if (::ioctl(control.fd(), SIOCGIFINDEX, &request) != 0)
        return "the host has no network interface \"" + bridge + "\" (" + errno_text(errno) + ")";

    FileDescriptor tap(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!tap.is_open()) {
        int error = errno;
        if (error == ENOENT || error == ENODEV || error == ENXIO)
            return "no TAP devices: /dev/net/tun is missing (load the tun module) (" + errno_text(error) +
                   ")";
        return "cannot open /dev/net/tun (bridging needs root or CAP_NET_ADMIN): " + errno_text(error);
    }
    set_name(request, device);
    request.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (::ioctl(tap.fd(), TUNSETIFF, &request) != 0) {
        int error = errno;
        if (error == EPERM || error == EACCES)
            return "cannot make TAP device \"" + device + "\": bridging needs root or CAP_NET_ADMIN (" +
                   errno_text(error) + ")";
        return "cannot make TAP device \"" + device + "\": " + errno_text(error);
    }
    std::string made(request.ifr_name, strnlen(request.ifr_name, IFNAMSIZ));

    // Into the bridge, then up (a port that comes up in the bridge starts
    // forwarding at once when the bridge runs no spanning tree).
    set_name(request, made);
    if (::ioctl(control.fd(), SIOCGIFINDEX, &request) != 0)
        return "TAP device \"" + made + "\" vanished: " + errno_text(errno);
    int index = request.ifr_ifindex;
    set_name(request, bridge);
    request.ifr_ifindex = index;
    if (::ioctl(control.fd(), SIOCBRADDIF, &request) != 0) {
        int error = errno;
        if (error == EOPNOTSUPP || error == EINVAL)
            return "\"" + bridge +
                   "\" is not a Linux bridge: bridging needs one (e.g. br0 with the host's NIC as its port)";
        if (error == EPERM || error == EACCES)
            return "cannot add \"" + made + "\" to bridge \"" + bridge + "\": needs root or CAP_NET_ADMIN (" +
                   errno_text(error) + ")";
        return "cannot add \"" + made + "\" to bridge \"" + bridge + "\": " + errno_text(error);
    }
    // A bridge port needs no address of its own: without this the kernel
    // would give it an IPv6 link-local address and send its duplicate
    // address detection and router solicitations into the virtual network.
    // Best effort (no IPv6 on the host: nothing to switch off).
    FileDescriptor ipv6(
        ::open(("/proc/sys/net/ipv6/conf/" + made + "/disable_ipv6").c_str(), O_WRONLY | O_CLOEXEC));
    if (ipv6.is_open()) {
        [[maybe_unused]] auto written = ::write(ipv6.fd(), "1", 1);
    }
    set_name(request, made);
    if (::ioctl(control.fd(), SIOCGIFFLAGS, &request) != 0)
        return "cannot read the flags of \"" + made + "\": " + errno_text(errno);
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    if (::ioctl(control.fd(), SIOCSIFFLAGS, &request) != 0)
        return "cannot bring \"" + made + "\" up: " + errno_text(errno);
    return std::shared_ptr<TapEndpoint>(new TapEndpoint(std::move(tap), std::move(made), bridge));
}

void TapEndpoint::attached(Sender sender) {
    m_send = std::move(sender);
}

void TapEndpoint::deliver(std::span<std::uint8_t const> frame) {
    if (m_dead) return;
    ssize_t n = ::write(m_tap.fd(), frame.data(), frame.size());
    if (n == static_cast<ssize_t>(frame.size())) return;
    // EAGAIN: the device's queue is full (the host is not reading it, or
    // it is down); EIO: the device is down. Either way the frame is lost,
    // as on a congested port.
    m_refused++;
}

void TapEndpoint::before_poll(std::vector<pollfd>& fds, int&) {
    if (!m_dead) fds.push_back(pollfd{m_tap.fd(), POLLIN, 0});
}

void TapEndpoint::after_poll(std::span<pollfd const> fds) {
    if (m_dead || fds.empty() || !(fds[0].revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL))) return;
    for (unsigned i = 0; i < VirtualSwitch::READ_BUDGET; ++i) {
        ssize_t n = ::read(m_tap.fd(), m_buffer.data(), m_buffer.size());
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
            // EBADFD and the like: the device was deleted under us. Stop
            // polling it rather than spin on its error.
            m_dead = true;
            problem("TAP device \"" + m_device + "\" (bridge \"" + m_bridge +
                    "\") failed: " + errno_text(errno) + "; the network is guest-only now");
            return;
        }
        // A zero-length read is a runt too: the switch drops and counts it.
        if (m_send) m_send(std::span<std::uint8_t const>(m_buffer.data(), static_cast<std::size_t>(n)));
    }
}

void TapEndpoint::problem(std::string text) {
    std::lock_guard lock(m_problems_mutex);
    if (m_problems.size() < MAX_PROBLEMS) m_problems.push_back(std::move(text));
}

std::vector<std::string> TapEndpoint::take_problems() {
    std::vector<std::string> out;
    std::lock_guard lock(m_problems_mutex);
    out.swap(m_problems);
    return out;
}

} // namespace vsa::network
