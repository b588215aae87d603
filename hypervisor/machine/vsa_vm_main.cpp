// SPDX-License-Identifier: GPL-2.0-or-later
// vsa-vm: the per-VM worker. vsad will start one per running VM; it is
// also a command-line tool for tests, scripts and debugging:
//
//   vsa-vm --memory 64M --disk disk.img --serial stdio
//   vsa-vm --memory 256M --disk disk.vhd --cdrom install.iso --boot cdrom
//
// It runs the guest until it powers off or triple-faults and reports that
// in its exit status, so a script can run a guest to completion.
//
// Saved state: with --save-state FILE, SIGUSR2 or --save-after SECONDS
// saves the whole machine to FILE and stops (exit status 6); a later
// `vsa-vm --restore-state FILE` with the same memory, BIOS and disks goes
// on from there. The disks are flushed at the save and must not change
// until the restore (Virtual Server's saved-state rule).
//
// Under vsad: --control-fd N is the worker's end of a socketpair vsad made
// (control_channel.h says why not a socket path). Over it vsad pauses,
// resumes, resets, saves and turns off the VM and asks for its state, and
// the worker reports what happens (started, paused, saved, powered off by
// the guest, triple fault, errors); control_protocol.h has the protocol.
// Pause stops the VM thread between two slices and the virtual clock with
// it (Clock::pause), so a resumed guest sees no time jump and no flood of
// late timer interrupts. Commands run on the VM thread between slices: the
// reader thread queues them and stops the current slice.
//
// The browser console: --framebuffer-fd N is a memfd vsad made
// (shared_framebuffer.h). While vsad says someone watches (the viewer
// deadline in its header), a frame thread stops the slice every 33 ms and
// the VM thread renders the screen between slices (one consistent frame,
// as for a screenshot) and publishes the tiles that changed; nobody
// watching, nothing is rendered and the frame thread wakes 4 times a
// second only to look. A paused VM publishes once (and again after each
// command) rather than every frame: its screen cannot change. The
// console's keyboard and mouse come as control commands ("key", "mouse")
// to the PS/2 keyboard and mouse.
//
// Exit statuses:
//   0  the guest powered off          4  --timeout expired
//   1  host error (files, a refused   5  stopped by a signal (SIGINT,
//      or unreadable saved state)        SIGTERM, SIGHUP) or turned off
//   2  bad usage                         through the control channel
//   3  the guest triple-faulted       6  state saved (--save-state)
#include "hw/ps2_keyboard.h"
#include "hw/ps2_mouse.h"
#include "hypervisor/base/file_descriptor.h"
#include "hypervisor/machine/char_backends.h"
#include "hypervisor/machine/control_channel.h"
#include "hypervisor/machine/pc_machine.h"
#include "hypervisor/machine/png_image.h"
#include "hypervisor/machine/screen_render.h"
#include "hypervisor/machine/shared_framebuffer.h"
#include "hypervisor/machine/socket_net_backend.h"
#include "services/network/dhcp_endpoint.h"
#include "services/network/nat_endpoint.h"
#include "services/network/virtual_switch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace vsa;

// Exit statuses: scripts and tests tell the outcomes apart by these.
constexpr int EXIT_POWERED_OFF = 0;
constexpr int EXIT_ERROR = 1;
constexpr int EXIT_USAGE = 2;
constexpr int EXIT_TRIPLE_FAULT = 3;
constexpr int EXIT_TIMEOUT = 4;
constexpr int EXIT_STOPPED = 5;
constexpr int EXIT_STATE_SAVED = 6;

// A SCSI controller number below one the command line names, left out.
PcMachineConfig::ScsiController absent_scsi_controller() {
    PcMachineConfig::ScsiController controller;
    controller.present = false;
    return controller;
}

constexpr char const* USAGE = R"(usage: vsa-vm [options]
  --memory SIZE        guest RAM, e.g. 64M or 1G (default 64M)
  --disk FILE          an ATA disk (VHD or raw); repeat for up to 4 drives
                       (primary master, primary slave, secondary master, slave)
  --cdrom FILE         an ATAPI CD/DVD-ROM drive with the ISO image FILE ("" or
                       "empty": a drive without media); it takes the next free
                       IDE slot, in command-line order with --disk
  --scsi-controller C:ID
                       SCSI controller C (0-3; a PVSCSI adapter in PCI slot
                       7 + C) with its own SCSI ID (0-7; Virtual Server's
                       default is 7)
  --scsi-disk C:T:FILE a disk (VHD or raw) at target T (0-6, not the
                       controller's ID) of SCSI controller C (made with ID 7
                       when --scsi-controller did not name it)
  --floppy FILE        floppy drive A: with the raw image FILE (.vfd/.flp, a PC
                       floppy size; "empty": a drive without a disk)
  --floppy2 FILE       floppy drive B:, likewise (A: exists then too)
  --floppy-ro          write-protect the floppy disks
  --boot WHAT          boot from the disks first (disk, the default), from
                       the CD drives first (cdrom) or from the floppy (floppy);
                       or an order of them, e.g. cdrom,floppy,disk (kinds left
                       out follow in the order disk, cdrom, floppy)
  --num-lock           Num Lock on when the guest's operating system starts
  --readonly           open every disk read-only
  --bios FILE          system BIOS (default /usr/share/seabios/bios.bin; with a
                       SCSI controller bios-256k.bin, which has PVSCSI)
  --vgabios FILE       VGA option ROM (default /usr/share/seabios/vgabios-stdvga.bin);
                       "none" for no VGA BIOS
  --fw-cfg NAME=FILE   give the BIOS FILE as fw_cfg file NAME, e.g.
                       genroms/extra.rom=FILE (an option ROM SeaBIOS runs)
  --smbios KEY=VALUE   the SMBIOS identity the BIOS shows (hw/smbios_tables.h):
                       uuid= (the system UUID, {8-4-4-4-12}), serial= (system),
                       board-serial=, chassis-serial=, asset-tag=; any of them
                       gives SeaBIOS our tables (missing strings stay empty)
  --serial WHERE       COM1: none (the default), stdio, stderr, file:PATH
                       (truncated first), append:PATH, log (lines in this
                       worker's stderr, prefixed "vsa-vm: COM1: "), pipe:PATH
                       (input from the FIFO PATH.in, output to PATH.out; made
                       if missing), tty:DEVICE (a host serial port, raw) or
                       tcp:HOST:PORT (listen; one client at a time; output
                       while no client is attached is dropped)
  --serial2 WHERE      COM2, as --serial
  --agent WHERE        the guest agent's port, a third 16550A at 0x3E8 sharing
                       IRQ 4 (Linux: /dev/ttyS2, for qemu-ga -m isa-serial):
                       as --serial, plus fd:N (an inherited stream socket,
                       as vsad passes it); default none (no such port)
  --parallel WHERE     a printer on LPT1 (0x378, IRQ 7): file:PATH,
                       append:PATH, log or none (the default: no LPT port)
  --debugcon WHERE     debug console port 0x402: as --serial (output only)
  --trace FILE         write one line per executed instruction to FILE
  --deterministic[=NS] virtual time advances NS ns per instruction (default 10)
                       instead of following the host clock: reproducible runs
  --screen-dump WHERE  print the 80x25 text screen on exit and on SIGUSR1:
                       stdout (-), stderr, or a file path
  --screenshot FILE    on exit, write the screen as it shows (text or
                       graphics) to FILE as a PNG image
  --timeout SECONDS    stop the guest after SECONDS of host time
  --timer-slack MS     while the guest idles, its timer ticks may come up to
                       MS milliseconds late to share host wakeups (half that
                       in its first idle second; default 32; 0: always on
                       time)
  --stats              at exit, print to stderr the instructions retired and
                       decoded, TLB flushes, page walks, halts and host sleeps
  --save-state FILE    on SIGUSR2 (or --save-after) save the whole machine to
                       FILE (.vsv) and stop with exit status 6
  --save-after SECONDS with --save-state: save after SECONDS of host time
  --restore-state FILE start from a state saved by --save-state instead of
                       power-on; --memory, --bios, --vgabios, --fw-cfg and the
                       disks must be the ones it was saved with, and the disks
                       unchanged since; each CD drive must hold the image it
                       held at the save (or be empty)
  --nic fd:N[,mac=MAC] a DEC 21140A Ethernet adapter (up to 4, in PCI slots 3
                       to 6) whose cable is the inherited SOCK_SEQPACKET (or
                       SOCK_DGRAM) socket N: each datagram is one Ethernet
                       frame without FCS, both ways. MAC as 00:03:ff:12:34:56;
                       default 00:03:ff (Virtual Server's prefix) and three
                       random bytes. link=down starts with the cable pulled
                       (control command nic-link plugs it)
  --nic user[,mac=MAC][,net=A.B.C.D/N][,link=down]
                       the same adapter on a network of its own inside vsa-vm,
                       as QEMU's -nic user: DHCP and NAT (libslirp), no root.
                       Default net 10.0.2.0/24: gateway .2 is the host (its
                       127.0.0.1 ports are the gateway's), DNS .3 (the host's
                       resolvers), DHCP server .4, leases from .16
  --control-fd N       a connected Unix stream socket (inherited) carrying
                       vsad's control protocol: pause, resume, reset, save,
                       turn-off, query; the worker reports its events there
  --framebuffer-fd N   a memfd (inherited) vsad made for the guest screen
                       (shared_framebuffer.h): while vsad wants frames, the
                       worker renders the screen up to 30 times a second and
                       publishes the tiles that changed there
  --help
exit status: 0 guest powered off, 3 triple fault, 4 timeout,
             5 stopped by a signal or turned off, 6 state saved,
             1 host error, 2 bad usage
)";

std::optional<u64> parse_size(std::string_view text) {
    u64 value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || value == 0) return std::nullopt;
    std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
    u64 unit = MiB; // a bare number is MiB, as in Virtual Server's memory setting
    if (suffix == "K" || suffix == "k")
        unit = KiB;
    else if (suffix == "M" || suffix == "m" || suffix.empty())
        unit = MiB;
    else if (suffix == "G" || suffix == "g")
        unit = GiB;
    else
        return std::nullopt;
    if (value > (u64(1) << 40) / unit) return std::nullopt;
    return value * unit;
}

// Host input reaches the VM thread through PcMachine::post() (the UARTs
// are polled after posted work). The backends' threads outlive the
// machine (its last UART bytes still go out through them), so they wake
// it through this latch, which is cut before the machine goes.
class InputWake {
public:
    void attach(PcMachine* machine) {
        std::lock_guard lock(m_mutex);
        m_machine = machine;
    }
    void operator()() {
        post([] {});
    }
    void post(std::function<void()> work) {
        std::lock_guard lock(m_mutex);
        if (m_machine) m_machine->post(std::move(work));
    }

private:
    std::mutex m_mutex;
    PcMachine* m_machine{nullptr};
};

// "fd:N[,mac=MAC][,link=up|down]" or "user[,mac=MAC][,net=A.B.C.D/N][,link=up|down]"
// (vsa-vm --nic).
struct NicOption {
    int fd{-1};                        // fd:N
    bool user{false};                  // user: vsa-vm's own switch with DHCP and NAT
    std::uint32_t network{0x0A000200}; // user: 10.0.2.0/24
    unsigned prefix{24};
    MacAddress mac{};
    bool link_up{true};
};
std::optional<MacAddress> parse_mac(std::string_view item) {
    MacAddress mac{};
    if (item.size() != 17) return std::nullopt;
    for (unsigned i = 0; i < 6; ++i) {
        unsigned byte = 0;
        auto [q, e] = std::from_chars(item.data() + 3 * i, item.data() + 3 * i + 2, byte, 16);
        if (e != std::errc() || q != item.data() + 3 * i + 2 || (i < 5 && item[3 * i + 2] != ':'))
            return std::nullopt;
        mac[i] = static_cast<u8>(byte);
    }
    return mac;
}
std::optional<NicOption> parse_nic(std::string_view text, std::string& error) {
    NicOption nic;
    auto comma = text.find(',');
    std::string_view kind = text.substr(0, comma);
    if (kind == "user") {
        nic.user = true;
    } else if (kind.starts_with("fd:")) {
        std::string_view number = kind.substr(3);
        auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), nic.fd);
        if (ec != std::errc() || p != number.data() + number.size() || nic.fd < 0) {
            error = "--nic: bad descriptor '" + std::string(number) + "'";
            return std::nullopt;
        }
    } else {
        error = "--nic wants fd:N[,mac=MAC][,link=down] or user[,mac=MAC][,net=A.B.C.D/N][,link=down]";
        return std::nullopt;
    }
    bool have_mac = false;
    while (comma != std::string_view::npos) {
        text.remove_prefix(comma + 1);
        comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        if (item == "link=up" || item == "link=down") {
            nic.link_up = item == "link=up";
            continue;
        }
        if (nic.user && item.starts_with("net=")) {
            std::string value(item.substr(4));
            auto slash = value.find('/');
            in_addr address{};
            unsigned prefix = 0;
            auto const* end = value.data() + value.size();
            auto [q, e] = slash == std::string::npos
                              ? std::from_chars_result{nullptr, std::errc::invalid_argument}
                              : std::from_chars(value.data() + slash + 1, end, prefix);
            // At least 32 addresses: the DHCP server leases from the 16th up.
            if (e != std::errc() || q != end || prefix < 8 || prefix > 27 ||
                ::inet_pton(AF_INET, value.substr(0, slash).c_str(), &address) != 1) {
                error = "--nic: bad net '" + value + "' (A.B.C.D/N, N from 8 to 27)";
                return std::nullopt;
            }
            nic.prefix = prefix;
            nic.network = ntohl(address.s_addr) & (~0u << (32 - prefix));
            continue;
        }
        if (!item.starts_with("mac=")) {
            error = "--nic: bad option '" + std::string(item) + "' (mac=xx:xx:xx:xx:xx:xx, link=up|down" +
                    (nic.user ? ", net=A.B.C.D/N)" : ")");
            return std::nullopt;
        }
        item.remove_prefix(4);
        auto mac = parse_mac(item);
        if (!mac) {
            error = "--nic: bad MAC address '" + std::string(item) + "'";
            return std::nullopt;
        }
        if ((*mac)[0] & 1) {
            error = "--nic: a multicast MAC address cannot be an adapter's";
            return std::nullopt;
        }
        nic.mac = *mac;
        have_mac = true;
    }
    if (!have_mac) {
        std::random_device rd;
        nic.mac = {0x00, 0x03, 0xFF, static_cast<u8>(rd()), static_cast<u8>(rd()), static_cast<u8>(rd())};
    }
    return nic;
}

// --nic user: a network of the NIC's own, as QEMU's "-nic user": a
// VirtualSwitch (services/network) with a DHCP server and libslirp's NAT on
// it, joined to the NIC through a socketpair whose other end is an
// ordinary --nic fd: cable. The gateway (network + 2) is the host: its
// ports are the host's loopback ones; network + 3 answers DNS with the
// host's resolvers; the DHCP server has network + 4 (not the gateway's
// address, which libslirp answers ARP for) and leases from network + 16 (its
// server never hands out the first 16 addresses; QEMU starts at + 15).
struct UserNetwork {
    std::unique_ptr<network::VirtualSwitch> sw;
    std::shared_ptr<network::DhcpEndpoint> dhcp;
    std::shared_ptr<network::NatEndpoint> nat;
};
Result<UserNetwork, std::string> make_user_network(NicOption const& nic, unsigned index, int& guest_fd) {
    std::uint32_t const net = nic.network;
    std::uint32_t const mask = ~0u << (32 - nic.prefix);
    network::NatEndpoint::Config nat_config;
    nat_config.network = net;
    nat_config.mask = mask;
    nat_config.gateway = net + 2;
    nat_config.dns = net + 3;
    nat_config.host_loopback = true;
    auto nat = network::NatEndpoint::create(nat_config);
    if (nat.is_error()) return "user network: " + nat.error();
    network::DhcpServer::Config dhcp_config;
    dhcp_config.server_mac = {0x02, 0x56, 0x53, 0x41, 0x00, static_cast<std::uint8_t>(index)};
    dhcp_config.server_ip = net + 4;
    dhcp_config.network = net;
    dhcp_config.mask = mask;
    dhcp_config.pool_start = net + 16;
    dhcp_config.pool_end = (net | ~mask) - 1;
    dhcp_config.gateway = net + 2;
    dhcp_config.dns = {net + 3};
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        return std::string("user network: socketpair: ") + std::strerror(errno);
    UserNetwork user;
    user.sw = std::make_unique<network::VirtualSwitch>("user" + std::to_string(index));
    auto port = user.sw->attach_socket(FileDescriptor(pair[0]), "nic");
    if (port.is_error()) {
        ::close(pair[1]);
        return "user network: " + port.error();
    }
    user.dhcp = std::make_shared<network::DhcpEndpoint>(dhcp_config, std::filesystem::path());
    user.sw->attach_endpoint(user.dhcp, "dhcp");
    user.nat = nat.release_value();
    user.sw->attach_endpoint(user.nat, "nat");
    guest_fd = pair[1];
    return user;
}

// Control requests on their way from the reader thread to the VM thread,
// which takes them between slices (or while paused, waiting here).
class Mailbox {
public:
    void push(control::Request request) {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(request);
        m_changed.notify_all();
    }
    void close() {
        std::lock_guard lock(m_mutex);
        m_closed = true;
        m_changed.notify_all();
    }
    std::optional<control::Request> pop() {
        std::lock_guard lock(m_mutex);
        if (m_queue.empty()) return std::nullopt;
        auto request = m_queue.front();
        m_queue.pop_front();
        return request;
    }
    // Until something arrives or `timeout` passes (signals cannot notify
    // a condition variable, so a paused VM thread also polls for them).
    void wait(std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_mutex);
        m_changed.wait_for(lock, timeout, [&] { return !m_queue.empty() || m_closed; });
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::deque<control::Request> m_queue;
    bool m_closed{false};
};

PcMachine* g_machine = nullptr;
std::atomic<bool> g_dump_requested{false};
std::atomic<int> g_stop_signal{0};
std::atomic<bool> g_save_requested{false};

void on_stop_signal(int sig) {
    g_stop_signal.store(sig);
    if (g_machine) g_machine->request_stop();
}
void on_save_signal(int) {
    // One save: a second SIGUSR2 while it is written changes nothing.
    if (g_save_requested.exchange(true)) return;
    if (g_machine) g_machine->request_save();
}
void on_dump_signal(int) {
    g_dump_requested.store(true);
    // Stop the slice so the dump happens promptly; run() is re-entered.
    if (g_machine) g_machine->request_stop();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::round(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() *
                      1000) /
           1000;
}

void write_screen(PcMachine& machine, std::string const& where) {
    std::string screen = machine.text_screen();
    if (where == "-" || where == "stdout") {
        std::cout << screen << std::flush;
    } else if (where == "stderr") {
        std::cerr << screen << std::flush;
    } else {
        std::FILE* f = std::fopen(where.c_str(), "w");
        if (!f) {
            std::cerr << "vsa-vm: cannot write screen dump to " << where << "\n";
            return;
        }
        std::fwrite(screen.data(), 1, screen.size(), f);
        std::fclose(f);
    }
}

} // namespace

int main(int argc, char** argv) {
    PcMachineConfig config;
    std::string serial = "none", serial2 = "none", agent = "none", parallel = "none", debugcon = "none",
                screen_dump, trace_path;
    std::string screenshot_path;
    std::string save_path, restore_path;
    int control_fd = -1;
    int framebuffer_fd = -1;
    double timeout_seconds = 0;
    double save_after_seconds = 0;
    bool print_stats = false;
    // The IDE slot the next --disk or --cdrom takes.
    unsigned next_slot = 0;
    std::optional<std::string> floppy_paths[2];
    std::vector<NicOption> nic_options;
    bool floppy_read_only = false;

    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&](std::string_view name) -> std::optional<std::string> {
            if (arg.starts_with(std::string(name) + "=")) return arg.substr(name.size() + 1);
            if (arg == name && i + 1 < argc) return std::string(argv[++i]);
            return std::nullopt;
        };
        auto is = [&](std::string_view name) {
            return arg == name || arg.starts_with(std::string(name) + "=");
        };
        std::optional<std::string> v;
        if (arg == "--help" || arg == "-h") {
            std::cout << USAGE;
            return 0;
        } else if (is("--memory") && (v = value("--memory"))) {
            auto size = parse_size(*v);
            if (!size) {
                std::cerr << "vsa-vm: bad --memory value '" << *v << "'\n";
                return EXIT_USAGE;
            }
            config.ram_bytes = *size;
        } else if (is("--disk") && (v = value("--disk"))) {
            // Slots CD drives took before this disk stay empty in `disks`.
            config.disks.resize(next_slot);
            config.disks.push_back(*v);
            ++next_slot;
        } else if (is("--scsi-controller") && (v = value("--scsi-controller"))) {
            unsigned controller = 0, id = 0;
            std::string_view text = *v;
            auto colon = text.find(':');
            bool ok = colon != std::string_view::npos;
            if (ok) {
                auto [e1, ec1] = std::from_chars(text.data(), text.data() + colon, controller);
                auto [e2, ec2] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), id);
                ok = ec1 == std::errc() && e1 == text.data() + colon && ec2 == std::errc() &&
                     e2 == text.data() + text.size() && controller < PcMachineConfig::MAX_SCSI_CONTROLLERS &&
                     id <= 7;
            }
            if (!ok) {
                std::cerr << "vsa-vm: --scsi-controller wants CONTROLLER:ID (0-3, 0-7)\n";
                return EXIT_USAGE;
            }
            if (config.scsi.size() <= controller)
                config.scsi.resize(controller + 1, absent_scsi_controller());
            config.scsi[controller].present = true;
            config.scsi[controller].scsi_id = static_cast<u8>(id);
        } else if (is("--scsi-disk") && (v = value("--scsi-disk"))) {
            unsigned controller = 0, target = 0;
            std::string_view text = *v;
            auto c_end = text.find(':');
            auto t_end = c_end == std::string_view::npos ? c_end : text.find(':', c_end + 1);
            bool ok = t_end != std::string_view::npos;
            if (ok) {
                auto [e1, ec1] = std::from_chars(text.data(), text.data() + c_end, controller);
                auto [e2, ec2] = std::from_chars(text.data() + c_end + 1, text.data() + t_end, target);
                ok = ec1 == std::errc() && e1 == text.data() + c_end && ec2 == std::errc() &&
                     e2 == text.data() + t_end && controller < PcMachineConfig::MAX_SCSI_CONTROLLERS &&
                     target < PcMachineConfig::SCSI_TARGETS && t_end + 1 < text.size();
            }
            if (!ok) {
                std::cerr << "vsa-vm: --scsi-disk wants CONTROLLER:TARGET:FILE (0-3, 0-6)\n";
                return EXIT_USAGE;
            }
            if (config.scsi.size() <= controller)
                config.scsi.resize(controller + 1, absent_scsi_controller());
            config.scsi[controller].present = true;
            config.scsi[controller].disks.push_back({target, std::string(text.substr(t_end + 1))});
        } else if (is("--cdrom") && (v = value("--cdrom"))) {
            config.cdroms.push_back({next_slot, *v == "empty" ? std::string() : *v});
            ++next_slot;
        } else if (is("--floppy") && (v = value("--floppy"))) {
            floppy_paths[0] = *v == "empty" ? std::string() : *v;
        } else if (is("--floppy2") && (v = value("--floppy2"))) {
            floppy_paths[1] = *v == "empty" ? std::string() : *v;
        } else if (arg == "--floppy-ro") {
            floppy_read_only = true;
        } else if (is("--boot") && (v = value("--boot"))) {
            // A comma-separated order of kinds; the kinds left out follow.
            config.boot_order.clear();
            std::string_view rest = *v;
            bool bad = rest.empty();
            while (!rest.empty() && !bad) {
                auto comma = rest.find(',');
                auto word = rest.substr(0, comma);
                rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
                if (word == "disk" || word == "c")
                    config.boot_order.push_back(PcMachineConfig::BootDevice::Disk);
                else if (word == "cdrom" || word == "d")
                    config.boot_order.push_back(PcMachineConfig::BootDevice::Cdrom);
                else if (word == "floppy" || word == "a")
                    config.boot_order.push_back(PcMachineConfig::BootDevice::Floppy);
                else
                    bad = true;
            }
            if (bad) {
                std::cerr << "vsa-vm: --boot wants disk, cdrom or floppy, or an order of them "
                             "(cdrom,floppy,disk)\n";
                return EXIT_USAGE;
            }
        } else if (arg == "--num-lock") {
            config.num_lock = true;
        } else if (is("--timer-slack") && (v = value("--timer-slack"))) {
            unsigned ms = 0;
            auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ms);
            if (ec != std::errc() || end != v->data() + v->size() || ms > 1000) {
                std::cerr << "vsa-vm: bad --timer-slack value (0..1000 ms)\n";
                return EXIT_USAGE;
            }
            config.idle_timer_slack_ns = u64{ms} * 1'000'000;
        } else if (arg == "--stats") {
            print_stats = true;
        } else if (arg == "--readonly") {
            config.disks_read_only = true;
        } else if (is("--bios") && (v = value("--bios"))) {
            config.bios_path = *v;
        } else if (is("--vgabios") && (v = value("--vgabios"))) {
            config.vgabios_path = *v == "none" ? "" : *v;
        } else if (is("--fw-cfg") && (v = value("--fw-cfg"))) {
            auto eq = v->find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == v->size()) {
                std::cerr << "vsa-vm: --fw-cfg wants NAME=FILE\n";
                return EXIT_USAGE;
            }
            config.fw_cfg_files.emplace_back(v->substr(0, eq), v->substr(eq + 1));
        } else if (is("--smbios") && (v = value("--smbios"))) {
            auto eq = v->find('=');
            std::string key = v->substr(0, eq == std::string::npos ? v->size() : eq);
            std::string text = eq == std::string::npos ? std::string() : v->substr(eq + 1);
            auto& smbios = config.smbios ? *config.smbios : config.smbios.emplace();
            if (eq == std::string::npos || text.size() > SMBIOS_MAX_STRING) {
                std::cerr << "vsa-vm: --smbios wants KEY=VALUE, VALUE at most 64 characters\n";
                return EXIT_USAGE;
            }
            if (key == "uuid") {
                auto uuid = parse_smbios_uuid(text);
                if (!uuid) {
                    std::cerr << "vsa-vm: --smbios uuid= wants xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n";
                    return EXIT_USAGE;
                }
                smbios.uuid = *uuid;
            } else if (key == "serial") {
                smbios.system_serial = text;
            } else if (key == "board-serial") {
                smbios.board_serial = text;
            } else if (key == "chassis-serial") {
                smbios.chassis_serial = text;
            } else if (key == "asset-tag") {
                smbios.chassis_asset_tag = text;
            } else {
                std::cerr << "vsa-vm: unknown --smbios key " << key << "\n";
                return EXIT_USAGE;
            }
        } else if (is("--serial2") && (v = value("--serial2"))) {
            serial2 = *v;
        } else if (is("--agent") && (v = value("--agent"))) {
            agent = *v;
        } else if (is("--serial") && (v = value("--serial"))) {
            serial = *v;
        } else if (is("--parallel") && (v = value("--parallel"))) {
            // A printer takes no input, and stdout belongs to --serial.
            if (*v != "none" && *v != "log" && !v->starts_with("file:") && !v->starts_with("append:")) {
                std::cerr << "vsa-vm: --parallel wants file:PATH, append:PATH, log or none\n";
                return EXIT_USAGE;
            }
            parallel = *v;
        } else if (is("--debugcon") && (v = value("--debugcon"))) {
            debugcon = *v;
        } else if (is("--trace") && (v = value("--trace"))) {
            trace_path = *v;
        } else if (arg == "--deterministic") {
            config.clock_mode = Clock::Mode::Deterministic;
        } else if (arg.starts_with("--deterministic=")) {
            config.clock_mode = Clock::Mode::Deterministic;
            unsigned ns = 0;
            auto text = arg.substr(16);
            auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), ns);
            if (ec != std::errc() || p != text.data() + text.size() || ns == 0 || ns > 1'000'000) {
                std::cerr << "vsa-vm: bad --deterministic value\n";
                return EXIT_USAGE;
            }
            config.ns_per_instruction = ns;
        } else if (is("--screen-dump") && (v = value("--screen-dump"))) {
            screen_dump = *v;
        } else if (is("--screenshot") && (v = value("--screenshot"))) {
            screenshot_path = *v;
        } else if (is("--timeout") && (v = value("--timeout"))) {
            char* end = nullptr;
            timeout_seconds = std::strtod(v->c_str(), &end);
            if (!end || *end || timeout_seconds <= 0) {
                std::cerr << "vsa-vm: bad --timeout value\n";
                return EXIT_USAGE;
            }
        } else if (is("--save-state") && (v = value("--save-state"))) {
            save_path = *v;
        } else if (is("--save-after") && (v = value("--save-after"))) {
            char* end = nullptr;
            save_after_seconds = std::strtod(v->c_str(), &end);
            if (!end || *end || !(save_after_seconds > 0)) {
                std::cerr << "vsa-vm: bad --save-after value\n";
                return EXIT_USAGE;
            }
        } else if (is("--restore-state") && (v = value("--restore-state"))) {
            restore_path = *v;
        } else if (is("--nic") && (v = value("--nic"))) {
            std::string error;
            auto nic = parse_nic(*v, error);
            if (!nic) {
                std::cerr << "vsa-vm: " << error << "\n";
                return EXIT_USAGE;
            }
            struct stat info {};
            if (!nic->user && (::fstat(nic->fd, &info) != 0 || !S_ISSOCK(info.st_mode))) {
                std::cerr << "vsa-vm: --nic wants an open socket descriptor, got " << nic->fd << "\n";
                return EXIT_USAGE;
            }
            if (nic_options.size() == PcMachineConfig::MAX_NICS) {
                std::cerr << "vsa-vm: at most " << PcMachineConfig::MAX_NICS << " --nic\n";
                return EXIT_USAGE;
            }
            nic_options.push_back(*nic);
        } else if (is("--control-fd") && (v = value("--control-fd"))) {
            int fd = -1;
            auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), fd);
            struct stat info {};
            if (ec != std::errc() || p != v->data() + v->size() || fd < 0 || ::fstat(fd, &info) != 0 ||
                !S_ISSOCK(info.st_mode)) {
                std::cerr << "vsa-vm: --control-fd wants an open socket descriptor, got '" << *v << "'\n";
                return EXIT_USAGE;
            }
            control_fd = fd;
        } else if (is("--framebuffer-fd") && (v = value("--framebuffer-fd"))) {
            int fd = -1;
            auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), fd);
            if (ec != std::errc() || p != v->data() + v->size() || fd < 0 || ::fcntl(fd, F_GETFD) < 0) {
                std::cerr << "vsa-vm: --framebuffer-fd wants an open descriptor, got '" << *v << "'\n";
                return EXIT_USAGE;
            }
            framebuffer_fd = fd;
        } else {
            std::cerr << "vsa-vm: unknown or incomplete option '" << arg << "'\n" << USAGE;
            return EXIT_USAGE;
        }
    }
    if (next_slot > 4) {
        std::cerr << "vsa-vm: at most 4 IDE drives (--disk and --cdrom together)\n";
        return EXIT_USAGE;
    }
    // --floppy2 alone still gives the machine a drive A: (empty).
    for (unsigned d = 0; d < 2; ++d)
        if (floppy_paths[d] || floppy_paths[1])
            config.floppies.push_back({floppy_paths[d].value_or(""), floppy_read_only});
    auto is_stdio = [](std::string const& spec) { return spec == "stdio" || spec == "-"; };
    if (is_stdio(serial) + is_stdio(serial2) + is_stdio(agent) > 1) {
        std::cerr << "vsa-vm: only one serial port can read stdin (--serial, --serial2 or --agent stdio)\n";
        return EXIT_USAGE;
    }
    if (save_after_seconds > 0 && save_path.empty()) {
        std::cerr << "vsa-vm: --save-after needs --save-state FILE\n";
        return EXIT_USAGE;
    }

    // From here on, vsad hears of every outcome through the channel too.
    std::unique_ptr<control::ControlChannel> channel;
    if (control_fd >= 0) {
        ::fcntl(control_fd, F_SETFD, FD_CLOEXEC);
        channel = std::make_unique<control::ControlChannel>(control_fd);
    }
    auto notify = [&](control::Event event, std::string text = {}) {
        if (channel) channel->send(control::Notification{event, std::move(text)});
    };
    auto fail = [&](std::string const& message) {
        std::cerr << "vsa-vm: " << message << "\n";
        notify(control::Event::Error, message);
        return EXIT_ERROR;
    };

    std::optional<SharedFramebuffer> framebuffer;
    if (framebuffer_fd >= 0) {
        ::fcntl(framebuffer_fd, F_SETFD, FD_CLOEXEC);
        auto attached = SharedFramebuffer::attach(framebuffer_fd);
        if (attached.is_error()) return fail("--framebuffer-fd: " + attached.error());
        framebuffer.emplace(attached.release_value());
    }

    // Before the backends: their threads may call it until they are joined.
    InputWake input_wake;
    auto com1 = open_char_backend(serial, "COM1", true);
    auto com2 = open_char_backend(serial2, "COM2", true);
    auto agent_port = open_char_backend(agent, "agent", true);
    auto lpt1 = open_char_backend(parallel, "LPT1", false);
    auto dbg = open_char_backend(debugcon, "debugcon", false);
    for (auto* r : {&com1, &com2, &agent_port, &lpt1, &dbg})
        if (r->is_error()) return fail(r->error());
    config.com1 = com1.value().get();
    config.com2 = com2.value().get();
    config.agent = agent_port.value().get();
    config.lpt1 = lpt1.value().get();
    config.debugcon = dbg.value().get();
    std::pair<char const*, HostCharBackend*> const host_ports[] = {{"COM1", com1.value().get()},
                                                                   {"COM2", com2.value().get()},
                                                                   {"agent", agent_port.value().get()},
                                                                   {"LPT1", lpt1.value().get()},
                                                                   {"debugcon", dbg.value().get()}};
    for (auto [name, backend] : host_ports)
        if (auto* tcp = dynamic_cast<TcpCharBackend*>(backend)) // scripts asking for port 0 learn the port
            std::cerr << "vsa-vm: " << name << " listening on " << tcp->description() << "\n";
    std::vector<std::unique_ptr<SocketNetBackend>> nic_backends;
    std::vector<UserNetwork> user_networks; // --nic user; after the backends: goes first
    for (auto const& nic : nic_options) {
        int fd = nic.fd;
        if (nic.user) {
            auto made = make_user_network(nic, static_cast<unsigned>(user_networks.size()), fd);
            if (made.is_error()) return fail("--nic: " + made.error());
            user_networks.push_back(made.release_value());
        }
        auto opened = SocketNetBackend::open(fd);
        if (opened.is_error()) return fail("--nic: " + opened.error());
        nic_backends.push_back(opened.release_value());
        config.nics.push_back({nic.mac, nic_backends.back().get()});
    }
    std::FILE* trace = nullptr;
    if (!trace_path.empty()) {
        trace = std::fopen(trace_path.c_str(), "w");
        if (!trace) return fail("cannot open trace file " + trace_path);
        config.trace = trace;
    }

    auto created = PcMachine::create(config);
    if (created.is_error()) return fail(created.error());
    auto machine = created.release_value();
    if (!restore_path.empty()) {
        notify(control::Event::Restoring);
        auto started = std::chrono::steady_clock::now();
        auto restored = machine->restore_state(restore_path);
        if (restored.is_error()) return fail("cannot restore the saved state: " + restored.error());
        std::cerr << "vsa-vm: state restored from " << restore_path << " in " << seconds_since(started)
                  << " s\n";
    }
    // The cables as the supervisor has them now (after a restore too: the
    // adapter may have been detached or attached while the VM was saved).
    for (std::size_t i = 0; i < nic_options.size(); ++i)
        machine->set_nic_link(static_cast<unsigned>(i), nic_options[i].link_up);
    g_machine = machine.get();

    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    sa.sa_handler = on_dump_signal;
    sigaction(SIGUSR1, &sa, nullptr);
    if (!save_path.empty()) {
        sa.sa_handler = on_save_signal;
        sigaction(SIGUSR2, &sa, nullptr);
    }
    signal(SIGPIPE, SIG_IGN);

    // Host input (stdin, a FIFO, a TCP client) comes on the backends'
    // threads, which block until they have something to do.
    input_wake.attach(machine.get());
    struct DetachInput {
        InputWake& wake;
        ~DetachInput() { wake.attach(nullptr); }
    } detach_input{input_wake}; // on every way out, before the machine goes
    for (auto [name, backend] : host_ports) {
        if (!backend) continue;
        auto started = backend->start([&input_wake] { input_wake(); });
        if (started.is_error()) return fail(std::string(name) + ": " + started.error());
    }
    // Frames from the sockets go to the NICs on the VM thread.
    for (unsigned i = 0; i < nic_backends.size(); ++i) {
        SocketNetBackend* backend = nic_backends[i].get();
        PcMachine* vm = machine.get();
        auto started = backend->start([&input_wake, backend, vm, i] {
            input_wake.post([backend, vm, i] {
                for (auto const& frame : backend->take())
                    (void)vm->receive_frame(i, frame);
            });
        });
        if (started.is_error()) return fail("--nic: " + started.error());
    }

    // The timeout and --save-after are host time, in every clock mode: the
    // timeout bounds a test's run.
    std::atomic<bool> timed_out{false};
    std::mutex finished_mutex;
    std::condition_variable finished_changed;
    bool finished = false; // under finished_mutex
    std::thread timeout_thread;
    if (timeout_seconds > 0 || save_after_seconds > 0) {
        timeout_thread = std::thread([&] {
            using Clock = std::chrono::steady_clock;
            auto start = Clock::now();
            auto until = start + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(timeout_seconds));
            auto save_at = start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(save_after_seconds));
            bool save_pending = save_after_seconds > 0;
            std::unique_lock lock(finished_mutex);
            while (!finished) {
                auto now = Clock::now();
                if (save_pending && now >= save_at) {
                    save_pending = false;
                    if (!g_save_requested.exchange(true)) machine->request_save();
                }
                if (timeout_seconds > 0 && now >= until) {
                    timed_out.store(true);
                    machine->request_stop();
                    break;
                }
                auto next = Clock::time_point::max();
                if (save_pending) next = save_at;
                if (timeout_seconds > 0) next = std::min(next, until);
                if (next == Clock::time_point::max())
                    finished_changed.wait(lock);
                else
                    finished_changed.wait_until(lock, next);
            }
        });
    }

    // The console's frame clock: while vsad wants frames, a frame is due
    // every 33 ms and the slice stops so the VM thread renders it.
    constexpr auto FRAME_PERIOD = std::chrono::milliseconds(33);
    constexpr auto VIEWER_POLL = std::chrono::milliseconds(250);
    std::atomic<bool> frame_due{false};
    std::thread frame_thread;
    if (framebuffer) {
        frame_thread = std::thread([&] {
            std::unique_lock lock(finished_mutex);
            while (!finished) {
                bool wanted = framebuffer->viewers_wanted(SharedFramebuffer::monotonic_ms());
                if (wanted) {
                    frame_due.store(true);
                    machine->request_stop();
                }
                finished_changed.wait_for(lock, wanted ? FRAME_PERIOD : VIEWER_POLL);
            }
        });
    }
    // VM thread, between slices: render and publish a due frame.
    auto publish_frame = [&] {
        if (!framebuffer || !frame_due.exchange(false)) return false;
        if (!framebuffer->viewers_wanted(SharedFramebuffer::monotonic_ms())) return false;
        framebuffer->publish(render_screen(machine->vga()), screen_info(machine->vga()).mode);
        return true;
    };
    // Paused: the screen only changes through a command (reset), so one
    // frame after each does.
    bool paused_frame_done = false;

    // Control requests: queued by the channel's reader, run here on the VM
    // thread between slices.
    Mailbox mailbox;
    std::atomic<bool> control_lost{false};
    // "started" comes first, before the reader can answer anything.
    notify(control::Event::Started, restore_path.empty() ? "" : "restored");
    if (channel) {
        channel->start(
            [&](control::Request request) {
                mailbox.push(request);
                machine->request_stop(); // end the slice; the loop takes it
            },
            [&] {
                // vsad is gone: nobody may own this VM any more.
                control_lost.store(true);
                mailbox.close();
                machine->request_stop();
            });
    }

    bool paused = false;
    bool turned_off = false;
    auto reply = [&](control::Request const& request, std::string error = {},
                     std::optional<control::Status> status = std::nullopt) {
        if (channel) channel->send(control::Reply{request.seq, error.empty(), std::move(error), status});
    };
    // True when the request ends the run.
    auto handle = [&](control::Request const& request) {
        paused_frame_done = false;
        switch (request.command) {
        case control::Command::Pause:
            if (paused) {
                reply(request, "already paused");
                break;
            }
            machine->clock().pause();
            paused = true;
            reply(request);
            notify(control::Event::Paused);
            break;
        case control::Command::Resume:
            if (!paused) {
                reply(request, "not paused");
                break;
            }
            machine->clock().resume();
            paused = false;
            reply(request);
            notify(control::Event::Resumed);
            break;
        case control::Command::Reset:
            machine->hard_reset();
            reply(request);
            notify(control::Event::Reset);
            break;
        case control::Command::Query: {
            auto disks = machine->disk_traffic();
            reply(request, {},
                  control::Status{paused ? control::RunState::Paused : control::RunState::Running,
                                  machine->instructions_retired(), disks.read, disks.written});
            break;
        }
        case control::Command::Save:
            if (save_path.empty()) {
                reply(request, "no --save-state file to save to");
                break;
            }
            if (g_save_requested.exchange(true)) {
                reply(request, "a save is already under way");
                break;
            }
            // Accepted; "saved" or "save-failed" follows. Even paused, the
            // machine reaches its save point without running the CPU.
            reply(request);
            machine->request_save();
            break;
        case control::Command::TurnOff:
            reply(request);
            turned_off = true;
            return true;
        case control::Command::PowerButton:
            machine->press_power_button();
            machine->run_posted_work();
            reply(request);
            break;
        case control::Command::InsertMedia:
        case control::Command::EjectMedia: {
            // Posted to the machine and run right here (between slices, or
            // paused): the reply carries the outcome.
            auto done = [&reply, request](Result<void, std::string> outcome) {
                reply(request, outcome.is_error() ? outcome.error() : std::string());
            };
            if (request.floppy && request.command == control::Command::InsertMedia)
                machine->insert_floppy(request.slot, request.path, false, done);
            else if (request.floppy)
                machine->eject_floppy(request.slot, done);
            else if (request.command == control::Command::InsertMedia)
                machine->insert_media(request.slot, request.path, done);
            else
                machine->eject_media(request.slot, request.force, done);
            machine->run_posted_work();
            break;
        }
        case control::Command::Screenshot: {
            // Between slices on the VM thread, so VRAM and the registers
            // are one consistent frame (a paused VM answers too).
            control::ScreenInfo info = screen_info(machine->vga());
            if (!request.path.empty() && request.text) {
                std::string text = machine->text_screen();
                auto written = write_file_replacing(request.path, text.data(), text.size());
                if (written.is_error()) {
                    reply(request, "screenshot: " + written.error());
                    break;
                }
            } else if (!request.path.empty()) {
                ScreenImage image = render_screen(machine->vga());
                if (request.width != 0 && request.height != 0)
                    image = scale_image(image, request.width, request.height);
                auto written = write_png_file(request.path, image);
                if (written.is_error()) {
                    reply(request, "screenshot: " + written.error());
                    break;
                }
            }
            if (channel) channel->send(control::Reply{request.seq, true, {}, std::nullopt, info});
            break;
        }
        case control::Command::Key:
            // A key the keyboard drops (disabled by the guest, buffer full)
            // is lost as on real hardware: still ok.
            machine->keyboard().send_scancodes(request.scancodes);
            reply(request);
            break;
        case control::Command::Mouse:
            machine->mouse().input(request.dx, request.dy, request.dz, static_cast<u8>(request.buttons));
            reply(request);
            break;
        case control::Command::NicLink:
            if (!machine->set_nic_link(request.slot, request.link_up)) {
                reply(request, "nic-link: there is no network adapter " + std::to_string(request.slot));
                break;
            }
            reply(request);
            break;
        }
        return false;
    };

    MachineExit exit = MachineExit::Stopped;
    bool saved = false;
    for (;;) {
        bool ended = false;
        while (auto request = mailbox.pop())
            if ((ended = handle(*request))) break;
        if (ended || control_lost.load()) break;
        if (paused && !g_save_requested.load()) {
            // The VM thread blocks here: no instruction runs, the clock
            // stands still, until a command, a signal or the timeout.
            if (g_stop_signal.load() != 0 || timed_out.load()) break;
            if (!paused_frame_done && publish_frame()) paused_frame_done = true;
            mailbox.wait(std::chrono::milliseconds(100));
            continue;
        }
        publish_frame();
        exit = machine->run();
        for (auto [name, backend] : host_ports)
            if (backend) backend->flush();
        if (exit == MachineExit::Stopped) {
            if (g_stop_signal.load() != 0 || timed_out.load()) break;
            if (g_dump_requested.exchange(false))
                write_screen(*machine, screen_dump.empty() ? "stderr" : screen_dump);
            continue; // a dump or a control request: keep running
        }
        if (exit == MachineExit::SaveRequested) {
            if (save_path.empty()) continue; // not ours to save (cannot happen without --save-state)
            auto started = std::chrono::steady_clock::now();
            auto written = machine->save_state(save_path);
            if (written.is_error()) {
                // The guest is not lost for a full disk: it keeps running
                // (or stays paused).
                std::cerr << "vsa-vm: cannot save the state (the guest keeps running): " << written.error()
                          << "\n";
                notify(control::Event::SaveFailed, written.error());
                g_save_requested.store(false); // SIGUSR2 or vsad may try again
                continue;
            }
            std::error_code ec;
            auto size = std::filesystem::file_size(save_path, ec);
            std::cerr << "vsa-vm: state saved to " << save_path << " (" << (ec ? 0 : size) << " bytes) in "
                      << seconds_since(started) << " s\n";
            saved = true;
        }
        break;
    }
    {
        std::lock_guard lock(finished_mutex);
        finished = true;
    }
    finished_changed.notify_all();
    if (channel) channel->stop();
    if (timeout_thread.joinable()) timeout_thread.join();
    if (frame_thread.joinable()) frame_thread.join();
    if (!screen_dump.empty()) write_screen(*machine, screen_dump);
    if (!screenshot_path.empty()) {
        auto written = write_png_file(screenshot_path, render_screen(machine->vga()));
        if (written.is_error()) std::cerr << "vsa-vm: screenshot: " << written.error() << "\n";
    }
    if (trace) std::fclose(trace);
    g_machine = nullptr;
    if (print_stats) {
        MachineRunStats s = machine->run_stats();
        std::cerr << "vsa-vm: stats: instructions " << s.instructions << ", decoded " << s.decodes
                  << ", tlb_flushes " << s.tlb_flushes << ", page_walks " << s.page_walks << ", halts "
                  << s.halts << ", sleeps " << s.sleeps << "\n";
    }
    // The machine goes first (its UART FIFOs reach the sinks), then vsad
    // hears how it ended.
    input_wake.attach(nullptr);
    machine.reset();
    for (auto [name, backend] : host_ports)
        if (backend && backend->dropped_output())
            std::cerr << "vsa-vm: " << name << " (" << backend->description()
                      << "): " << backend->dropped_output()
                      << " output bytes dropped (no client, or it did not keep up)\n";
    for (std::size_t i = 0; i < nic_backends.size(); ++i)
        if (nic_backends[i]->dropped_in() || nic_backends[i]->dropped_out())
            std::cerr << "vsa-vm: NIC " << i << ": " << nic_backends[i]->dropped_out() << " frames out and "
                      << nic_backends[i]->dropped_in() << " frames in dropped\n";
    for (auto& user : user_networks) {
        if (auto dropped = user.sw->totals().frames_dropped)
            std::cerr << "vsa-vm: " << user.sw->name() << ": the switch dropped " << dropped << " frames\n";
        for (auto const& problem : user.dhcp->take_problems())
            std::cerr << "vsa-vm: " << user.sw->name() << " DHCP: " << problem << "\n";
        for (auto const& error : user.nat->take_guest_errors())
            std::cerr << "vsa-vm: " << user.sw->name() << " NAT: " << error << "\n";
    }

    if (saved) {
        notify(control::Event::Saved);
        return EXIT_STATE_SAVED;
    }
    switch (exit) {
    case MachineExit::PoweredOff:
        notify(control::Event::PoweredOff);
        return EXIT_POWERED_OFF;
    case MachineExit::TripleFault:
        std::cerr << "vsa-vm: the guest triple-faulted (CPU shutdown)\n";
        notify(control::Event::TripleFault);
        return EXIT_TRIPLE_FAULT;
    case MachineExit::Stopped:
    case MachineExit::SaveRequested:
        break;
    }
    if (timed_out.load() && !turned_off) {
        std::cerr << "vsa-vm: timeout after " << timeout_seconds << " s\n";
        notify(control::Event::TurnedOff, "timeout");
        return EXIT_TIMEOUT;
    }
    notify(control::Event::TurnedOff, turned_off            ? ""
                                      : control_lost.load() ? "the control channel closed"
                                                            : "stopped by a signal");
    return EXIT_STOPPED;
}
