// SPDX-License-Identifier: GPL-2.0-or-later
// vsa-vm: the per-VM worker. vsad will start one per running VM; it is
// also a command-line tool for tests, scripts and debugging:
//
//   vsa-vm --memory 64M --disk disk.img --serial stdio
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
// Exit statuses:
//   0  the guest powered off          4  --timeout expired
//   1  host error (files, a refused   5  stopped by a signal (SIGINT,
//      or unreadable saved state)        SIGTERM, SIGHUP)
//   2  bad usage                      6  state saved (--save-state)
//   3  the guest triple-faulted
#include "hypervisor/machine/pc_machine.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>
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

constexpr char const* USAGE = R"(usage: vsa-vm [options]
  --memory SIZE        guest RAM, e.g. 64M or 1G (default 64M)
  --disk FILE          an ATA disk (VHD or raw); repeat for up to 4 drives
                       (primary master, primary slave, secondary master, slave)
  --readonly           open every disk read-only
  --bios FILE          system BIOS (default /usr/share/seabios/bios.bin)
  --vgabios FILE       VGA option ROM (default /usr/share/seabios/vgabios-stdvga.bin);
                       "none" for no VGA BIOS
  --fw-cfg NAME=FILE   give the BIOS FILE as fw_cfg file NAME, e.g.
                       genroms/extra.rom=FILE (an option ROM SeaBIOS runs)
  --serial WHERE       COM1: stdio, none, or file:PATH (default none)
  --serial2 WHERE      COM2, as --serial
  --debugcon WHERE     debug console port 0x402: stdio, none or file:PATH
  --trace FILE         write one line per executed instruction to FILE
  --deterministic[=NS] virtual time advances NS ns per instruction (default 10)
                       instead of following the host clock: reproducible runs
  --screen-dump WHERE  print the 80x25 text screen on exit and on SIGUSR1:
                       stdout (-), stderr, or a file path
  --timeout SECONDS    stop the guest after SECONDS of host time
  --timer-slack MS     while the guest idles, its timer ticks may come up to
                       MS milliseconds late to share host wakeups (default
                       16; 0: always on time)
  --stats              at exit, print to stderr the instructions retired and
                       decoded, TLB flushes, page walks, halts and host sleeps
  --save-state FILE    on SIGUSR2 (or --save-after) save the whole machine to
                       FILE (.vsv) and stop with exit status 6
  --save-after SECONDS with --save-state: save after SECONDS of host time
  --restore-state FILE start from a state saved by --save-state instead of
                       power-on; --memory, --bios, --vgabios, --fw-cfg and the
                       disks must be the ones it was saved with, and the disks
                       unchanged since
  --help
exit status: 0 guest powered off, 3 triple fault, 4 timeout,
             5 stopped by a signal, 6 state saved, 1 host error, 2 bad usage
)";

// Host side of a serial port or the debug console: output to a file
// descriptor, input queued by the stdin reader thread.
class FdBackend final : public CharBackend {
public:
    explicit FdBackend(int fd, bool owned) : m_fd(fd), m_owned(owned) {}
    ~FdBackend() override {
        flush();
        if (m_owned) ::close(m_fd);
    }
    void write(u8 byte) override {
        m_buffer.push_back(static_cast<char>(byte));
        // Line-buffered: tests read serial output as it comes.
        if (byte == '\n' || m_buffer.size() >= 4096) flush();
    }
    void flush() {
        std::size_t done = 0;
        while (done < m_buffer.size()) {
            ssize_t n = ::write(m_fd, m_buffer.data() + done, m_buffer.size() - done);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                break; // the reader went away: drop, the guest must not stall
            }
            done += static_cast<std::size_t>(n);
        }
        m_buffer.clear();
    }
    // Any thread.
    void push_input(std::span<u8 const> bytes) {
        std::lock_guard lock(m_input_mutex);
        m_incoming.insert(m_incoming.end(), bytes.begin(), bytes.end());
    }
    // VM thread: move what arrived behind what the guest has not taken yet.
    std::span<u8 const> pending_input() override {
        {
            std::lock_guard lock(m_input_mutex);
            m_input.insert(m_input.end(), m_incoming.begin(), m_incoming.end());
            m_incoming.clear();
        }
        return m_input;
    }
    void consume_input(std::size_t count) override {
        m_input.erase(m_input.begin(),
                      m_input.begin() + static_cast<std::ptrdiff_t>(std::min(count, m_input.size())));
    }

private:
    int m_fd;
    bool m_owned;
    std::string m_buffer;
    std::mutex m_input_mutex;
    std::vector<u8> m_incoming;
    std::vector<u8> m_input;
};

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

Result<std::unique_ptr<FdBackend>, std::string> open_sink(std::string const& where) {
    if (where == "none") return std::unique_ptr<FdBackend>();
    if (where == "stdio" || where == "-") return std::make_unique<FdBackend>(STDOUT_FILENO, false);
    if (where == "stderr") return std::make_unique<FdBackend>(STDERR_FILENO, false);
    std::string path = where.starts_with("file:") ? where.substr(5) : where;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
    return std::make_unique<FdBackend>(fd, true);
}

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
    std::string serial = "none", serial2 = "none", debugcon = "none", screen_dump, trace_path;
    std::string save_path, restore_path;
    double timeout_seconds = 0;
    double save_after_seconds = 0;
    bool print_stats = false;

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
            config.disks.push_back(*v);
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
        } else if (is("--serial2") && (v = value("--serial2"))) {
            serial2 = *v;
        } else if (is("--serial") && (v = value("--serial"))) {
            serial = *v;
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
        } else {
            std::cerr << "vsa-vm: unknown or incomplete option '" << arg << "'\n" << USAGE;
            return EXIT_USAGE;
        }
    }
    if (config.disks.size() > 4) {
        std::cerr << "vsa-vm: at most 4 disks\n";
        return EXIT_USAGE;
    }
    if (save_after_seconds > 0 && save_path.empty()) {
        std::cerr << "vsa-vm: --save-after needs --save-state FILE\n";
        return EXIT_USAGE;
    }

    auto com1 = open_sink(serial);
    auto com2 = open_sink(serial2);
    auto dbg = open_sink(debugcon);
    for (auto* r : {&com1, &com2, &dbg})
        if (r->is_error()) {
            std::cerr << "vsa-vm: " << r->error() << "\n";
            return EXIT_ERROR;
        }
    config.com1 = com1.value().get();
    config.com2 = com2.value().get();
    config.debugcon = dbg.value().get();
    std::FILE* trace = nullptr;
    if (!trace_path.empty()) {
        trace = std::fopen(trace_path.c_str(), "w");
        if (!trace) {
            std::cerr << "vsa-vm: cannot open trace file " << trace_path << "\n";
            return EXIT_ERROR;
        }
        config.trace = trace;
    }

    auto created = PcMachine::create(config);
    if (created.is_error()) {
        std::cerr << "vsa-vm: " << created.error() << "\n";
        return EXIT_ERROR;
    }
    auto machine = created.release_value();
    if (!restore_path.empty()) {
        auto started = std::chrono::steady_clock::now();
        auto restored = machine->restore_state(restore_path);
        if (restored.is_error()) {
            std::cerr << "vsa-vm: cannot restore the saved state: " << restored.error() << "\n";
            return EXIT_ERROR;
        }
        std::cerr << "vsa-vm: state restored from " << restore_path << " in " << seconds_since(started)
                  << " s\n";
    }
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

    // Serial input from stdin, for --serial stdio: a reader thread hands
    // bytes to the VM thread through post().
    std::atomic<bool> input_done{false};
    std::thread input_thread;
    if (serial == "stdio") {
        input_thread = std::thread([&] {
            std::vector<u8> buffer(256);
            while (!input_done.load()) {
                pollfd p{STDIN_FILENO, POLLIN, 0};
                if (::poll(&p, 1, 100) <= 0) continue;
                ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
                if (n <= 0) break; // EOF: the guest simply gets no more input
                com1.value()->push_input(std::span<u8 const>(buffer.data(), static_cast<std::size_t>(n)));
                machine->post([] {}); // the VM thread polls the UARTs after posted work
            }
        });
    }

    // The timeout and --save-after are host time, in every clock mode: the
    // timeout bounds a test's run.
    std::atomic<bool> timed_out{false};
    std::atomic<bool> finished{false};
    std::thread timeout_thread;
    if (timeout_seconds > 0 || save_after_seconds > 0) {
        timeout_thread = std::thread([&] {
            auto start = std::chrono::steady_clock::now();
            auto until = start + std::chrono::duration<double>(timeout_seconds);
            auto save_at = start + std::chrono::duration<double>(save_after_seconds);
            bool save_pending = save_after_seconds > 0;
            while (!finished.load()) {
                auto now = std::chrono::steady_clock::now();
                if (save_pending && now >= save_at) {
                    save_pending = false;
                    if (!g_save_requested.exchange(true)) machine->request_save();
                }
                if (timeout_seconds > 0 && now >= until) {
                    timed_out.store(true);
                    machine->request_stop();
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        });
    }

    MachineExit exit = MachineExit::Stopped;
    bool saved = false;
    for (;;) {
        exit = machine->run();
        if (exit == MachineExit::Stopped && g_dump_requested.exchange(false) && !timed_out.load() &&
            g_stop_signal.load() == 0) {
            write_screen(*machine, screen_dump.empty() ? "stderr" : screen_dump);
            continue; // SIGUSR1 only: keep running
        }
        if (exit == MachineExit::SaveRequested) {
            if (save_path.empty()) continue; // not ours to save (cannot happen without --save-state)
            auto started = std::chrono::steady_clock::now();
            auto written = machine->save_state(save_path);
            if (written.is_error()) {
                // The guest is not lost for a full disk: it keeps running.
                std::cerr << "vsa-vm: cannot save the state (the guest keeps running): " << written.error()
                          << "\n";
                g_save_requested.store(false); // SIGUSR2 may try again
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
    finished.store(true);
    input_done.store(true);
    if (timeout_thread.joinable()) timeout_thread.join();
    if (input_thread.joinable()) input_thread.join();
    if (!screen_dump.empty()) write_screen(*machine, screen_dump);
    if (trace) std::fclose(trace);
    g_machine = nullptr;
    if (print_stats) {
        MachineRunStats s = machine->run_stats();
        std::cerr << "vsa-vm: stats: instructions " << s.instructions << ", decoded " << s.decodes
                  << ", tlb_flushes " << s.tlb_flushes << ", page_walks " << s.page_walks << ", halts "
                  << s.halts << ", sleeps " << s.sleeps << "\n";
    }

    switch (exit) {
    case MachineExit::PoweredOff:
        return EXIT_POWERED_OFF;
    case MachineExit::TripleFault:
        std::cerr << "vsa-vm: the guest triple-faulted (CPU shutdown)\n";
        return EXIT_TRIPLE_FAULT;
    case MachineExit::Stopped:
    case MachineExit::SaveRequested:
        break;
    }
    if (saved) return EXIT_STATE_SAVED;
    if (timed_out.load()) {
        std::cerr << "vsa-vm: timeout after " << timeout_seconds << " s\n";
        return EXIT_TIMEOUT;
    }
    return EXIT_STOPPED;
}
