// SPDX-License-Identifier: GPL-2.0-or-later
// The guest agent client (services/worker/guest_agent.h): the protocol's
// pieces, then a GuestAgent over a socketpair against a scripted fake
// agent, well-behaved and hostile (stale data, wrong sync ids, garbage,
// errors, an over-long line, silence, a closed port). Every call must end
// within its deadline with a result or an error; none may hang or crash.
#include "services/worker/guest_agent.h"

#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

using namespace vsa;
using namespace vsa::services;
namespace proto = vsa::services::guest_agent_protocol;
using namespace std::chrono_literals;

namespace {

// A fake agent on the other end of a socketpair: it splits what it reads
// into lines (a 0xFF byte starts afresh, as qemu-ga's parser does) and
// sends what `answer` returns for each. Sync requests get the right
// answer unless `answer` handles them itself (returns non-empty).
class FakeAgent {
public:
    using Answer = std::function<std::string(std::string const& line)>;

    // `chunk` > 0: each reply goes out `chunk` bytes at a time, `pace`
    // apart (a slow serial line).
    explicit FakeAgent(Answer answer, std::size_t chunk = 0, std::chrono::milliseconds pace = {})
        : m_answer(std::move(answer)), m_chunk(chunk), m_pace(pace) {
        int pair[2];
        BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
        m_client = FileDescriptor(pair[0]);
        m_fd = pair[1];
        m_thread = std::thread([this] { serve(); });
    }
    ~FakeAgent() {
        close_port();
        m_thread.join();
    }
    FileDescriptor take_client() { return std::move(m_client); }
    void close_port() {
        if (!m_closed.exchange(true)) ::shutdown(m_fd, SHUT_RDWR);
    }
    int commands() const { return m_commands.load(); }

    static std::string sync_answer(std::string const& line) {
        std::smatch match;
        static std::regex const id("\"id\":([0-9]+)");
        if (!std::regex_search(line, match, id)) return {};
        return "\xFF{\"return\": " + match[1].str() + "}\n";
    }

private:
    void serve() {
        std::string line;
        char buffer[4096];
        for (;;) {
            ssize_t n = ::read(m_fd, buffer, sizeof buffer);
            if (n <= 0) break;
            for (ssize_t i = 0; i < n; ++i) {
                char c = buffer[i];
                if (c == '\xFF') {
                    line.clear();
                } else if (c == '\n') {
                    std::string reply = m_answer(line);
                    if (reply.empty() && line.find("guest-sync-delimited") != std::string::npos)
                        reply = sync_answer(line);
                    if (line.find("guest-sync-delimited") == std::string::npos) ++m_commands;
                    if (!send_paced(reply)) return;
                    line.clear();
                } else {
                    line += c;
                }
            }
        }
        ::close(m_fd);
    }

    bool send_paced(std::string const& reply) {
        std::size_t step = m_chunk ? m_chunk : reply.size();
        for (std::size_t at = 0; at < reply.size(); at += step) {
            if (at && m_pace.count()) std::this_thread::sleep_for(m_pace);
            if (m_closed) return false;
            auto n = std::min(step, reply.size() - at);
            if (::send(m_fd, reply.data() + at, n, MSG_NOSIGNAL) < 0) return false;
        }
        return true;
    }

    Answer m_answer;
    std::size_t m_chunk;
    std::chrono::milliseconds m_pace;
    FileDescriptor m_client;
    int m_fd{-1};
    std::atomic<bool> m_closed{false};
    std::atomic<int> m_commands{0};
    std::thread m_thread;
};

GuestAgent::Options quick() {
    GuestAgent::Options options;
    options.monitor = false;
    options.call_timeout = 400ms;
    return options;
}

bool has(std::string const& line, char const* command) {
    return line.find(std::string("\"") + command + "\"") != std::string::npos;
}

// A well-behaved agent.
std::string normal(std::string const& line) {
    if (has(line, "guest-sync-delimited")) return {}; // FakeAgent answers it
    if (has(line, "guest-ping")) return "{\"return\": {}}\n";
    if (has(line, "guest-info"))
        return "{\"return\": {\"version\": \"8.2.0\", \"supported_commands\": []}}\n";
    if (has(line, "guest-get-osinfo"))
        return "{\"return\": {\"name\": \"Debian GNU/Linux\", \"pretty-name\": \"Debian GNU/Linux 12 "
               "(bookworm)\"}}\n";
    if (has(line, "guest-get-host-name")) return "{\"return\": {\"host-name\": \"deb\\u0001ian\"}}\n";
    if (has(line, "guest-exec")) return "{\"return\": {\"pid\": 7}}\n";
    if (has(line, "guest-exec-status"))
        return "{\"return\": {\"exited\": true, \"exitcode\": 3, \"out-data\": \"aGk=\", \"err-data\": "
               "\"b29wcw==\"}}\n";
    if (has(line, "guest-set-time")) return "{\"return\": {}}\n";
    return "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no\"}}\n";
}

auto elapsed_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::steady_clock::now() - start;
}

} // namespace

BOOST_AUTO_TEST_SUITE(guest_agent)

BOOST_AUTO_TEST_CASE(command_lines_and_quoting) {
    BOOST_TEST(proto::command_line("guest-ping", "") == "{\"execute\":\"guest-ping\"}\n");
    BOOST_TEST(proto::command_line("guest-exec", "{\"pid\":1}") ==
               "{\"execute\":\"guest-exec\",\"arguments\":{\"pid\":1}}\n");
    BOOST_TEST(proto::quote("a\"b\\c\n\x01") == "\"a\\\"b\\\\c\\u000a\\u0001\"");
    BOOST_TEST(proto::clean_text("ok\x01\xFF") == "ok??");
    BOOST_TEST(proto::clean_text(std::string(10'000, 'x')).size() == GuestAgent::MAX_TEXT);
}

BOOST_AUTO_TEST_CASE(replies_well_formed_and_malformed) {
    BOOST_TEST(proto::parse_reply("{\"return\": {}}").value() == "{}");
    BOOST_TEST(proto::parse_reply("{\"return\": 42}").value() == "42");
    BOOST_TEST(proto::parse_reply(" {\"return\" : [1, \"a\"]} ").value() == "[1,\"a\"]");
    auto error = proto::parse_reply("{\"error\": {\"class\": \"GenericError\", \"desc\": \"bad\\nthing\"}}");
    BOOST_TEST_REQUIRE(error.is_error());
    BOOST_TEST((error.error().code == hr::E_FAIL));
    BOOST_TEST(error.error().message.find("GenericError: bad?thing") != std::string::npos);
    // Malformed: each an E_FAIL, none a crash.
    for (std::string bad :
         {"", "garbage", "{\"return\": ", "[1,2]", "42", "{\"neither\": 1}", "{\"error\": 5}",
          "{\"return\": \"\\ud800\"", "\"string\"", "{\"return\" 1}", "{{{{"}) {
        auto reply = proto::parse_reply(bad);
        BOOST_TEST(reply.is_error(), bad);
    }
    // Nesting past the limit is refused, not recursed into.
    std::string deep = "{\"return\": " + std::string(10'000, '[') + std::string(10'000, ']') + "}";
    BOOST_TEST(proto::parse_reply(deep).is_error());
    std::string fine = "{\"return\": " + std::string(8, '[') + std::string(8, ']') + "}";
    BOOST_TEST(proto::parse_reply(fine).has_value());
}

BOOST_AUTO_TEST_CASE(a_well_behaved_agent) {
    FakeAgent fake(normal);
    GuestAgent agent(fake.take_client(), quick());
    BOOST_TEST(agent.ping().has_value());
    BOOST_TEST(agent.version().value() == "8.2.0");
    BOOST_TEST(agent.os_name().value() == "Debian GNU/Linux 12 (bookworm)");
    BOOST_TEST(agent.host_name().value() == "deb?ian"); // control characters cleaned
    BOOST_TEST(agent.set_time(1'700'000'000'000'000'000).has_value());
    auto run = agent.exec("/bin/sh", {"-c", "echo \"hi\""}, 2s);
    BOOST_TEST_REQUIRE(run.has_value());
    BOOST_TEST(run.value().exit_code == 3);
    BOOST_TEST(run.value().out == "hi");
    BOOST_TEST(run.value().err == "oops");
    auto unknown = agent.call("guest-fstrim", "");
    BOOST_TEST_REQUIRE(unknown.is_error());
    BOOST_TEST(unknown.error().message.find("CommandNotFound") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(files_through_guest_file_commands) {
    std::string stored;
    FakeAgent fake([&](std::string const& line) -> std::string {
        if (has(line, "guest-file-open")) {
            if (line.find("\"r\"") != std::string::npos && stored.empty())
                return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"No such file\"}}\n";
            return "{\"return\": 1000}\n";
        }
        if (has(line, "guest-file-write")) {
            std::smatch match;
            std::regex_search(line, match, std::regex("\"buf-b64\":\"([^\"]*)\""));
            stored = match[1].str();
            return "{\"return\": {\"count\": 5, \"eof\": false}}\n";
        }
        if (has(line, "guest-file-read"))
            return "{\"return\": {\"count\": 5, \"buf-b64\": \"" + stored + "\", \"eof\": true}}\n";
        if (has(line, "guest-file-close")) return "{\"return\": {}}\n";
        return {};
    });
    GuestAgent agent(fake.take_client(), quick());
    auto missing = agent.read_file("/x", 100);
    BOOST_TEST_REQUIRE(missing.has_value());
    BOOST_TEST(!missing.value().has_value());
    BOOST_TEST(agent.write_file("/x", "hello \"world\"\n").has_value());
    auto back = agent.read_file("/x", 100);
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST(back.value().value_or("?") == "hello \"world\"\n");
    auto too_big = agent.read_file("/x", 4);
    BOOST_TEST(too_big.is_error());
}

BOOST_AUTO_TEST_CASE(stale_data_and_wrong_sync_ids_are_skipped) {
    FakeAgent fake([](std::string const& line) -> std::string {
        if (has(line, "guest-sync-delimited"))
            // Leftovers of an earlier call, an old sync answer, then ours.
            return "{\"return\": {}}\n garbage \xFF{\"return\": 1}\n" + FakeAgent::sync_answer(line);
        return normal(line);
    });
    GuestAgent agent(fake.take_client(), quick());
    BOOST_TEST(agent.version().value() == "8.2.0");
    BOOST_TEST(agent.ping().has_value());
}

BOOST_AUTO_TEST_CASE(garbage_replies_fail_and_the_next_call_recovers) {
    std::atomic<int> calls{0};
    FakeAgent fake([&](std::string const& line) -> std::string {
        if (!has(line, "guest-info")) return {};
        switch (calls++) {
        case 0:
            return "this is not json\n";
        case 1:
            return "{\"return\": [" + std::string(5000, '[') + "\n";
        case 2:
            return "{\"return\": {\"version\": 17}}\n"; // not a string
        case 3:
            return "{\"return\": \"a string, not an object\"}\n";
        default:
            return normal(line);
        }
    });
    GuestAgent agent(fake.take_client(), quick());
    for (int i = 0; i < 4; ++i) {
        auto version = agent.version();
        BOOST_TEST_REQUIRE(version.is_error(), i);
        BOOST_TEST((version.error().code == hr::E_FAIL));
    }
    BOOST_TEST(agent.version().value() == "8.2.0");
}

BOOST_AUTO_TEST_CASE(an_over_long_line_is_cut_off) {
    FakeAgent fake([](std::string const& line) -> std::string {
        if (has(line, "guest-ping")) return std::string(GuestAgent::MAX_LINE + 100, 'x'); // no newline
        return {};
    });
    auto options = quick();
    options.call_timeout = 3s;
    GuestAgent agent(fake.take_client(), options);
    auto start = std::chrono::steady_clock::now();
    auto ping = agent.ping();
    BOOST_TEST_REQUIRE(ping.is_error());
    BOOST_TEST(ping.error().message.find("longer than") != std::string::npos);
    BOOST_TEST(elapsed_since(start) < 3s);
}

BOOST_AUTO_TEST_CASE(silence_times_out_as_no_agent) {
    FakeAgent fake([](std::string const&) { return std::string("\x01\x02 noise without end"); });
    GuestAgent agent(fake.take_client(), quick());
    auto start = std::chrono::steady_clock::now();
    auto ping = agent.ping();
    BOOST_TEST_REQUIRE(ping.is_error());
    BOOST_TEST((ping.error().code == hr::VM_E_ADDITIONS_FEATURE_NOT_AVAIL));
    BOOST_TEST(ping.error().message.find("no guest agent answered") != std::string::npos);
    BOOST_TEST(elapsed_since(start) >= 350ms);
    BOOST_TEST(elapsed_since(start) < 2s);
}

BOOST_AUTO_TEST_CASE(a_slow_reply_that_keeps_coming_is_waited_for) {
    // guest-info as qemu-ga 7.2 sends it: ~4 KB, here 200 bytes every 50 ms
    // (1 s in all) against a 400 ms call timeout.
    std::string commands;
    for (int i = 0; i < 50; ++i)
        commands += std::string(i ? "," : "") + "{\"enabled\": true, \"name\": \"guest-command-" +
                    std::to_string(i) + "\", \"success-response\": true}";
    std::string info =
        "{\"return\": {\"version\": \"7.2.22\", \"supported_commands\": [" + commands + "]}}\n";
    BOOST_TEST_REQUIRE(info.size() > 3000u);
    FakeAgent fake(
        [&](std::string const& line) -> std::string {
            if (has(line, "guest-info")) return info;
            return {};
        },
        200, 50ms);
    GuestAgent agent(fake.take_client(), quick());
    auto start = std::chrono::steady_clock::now();
    auto version = agent.version();
    if (version.is_error()) BOOST_FAIL(version.error().message);
    BOOST_TEST(version.value() == "7.2.22");
    BOOST_TEST(elapsed_since(start) >= 800ms);
}

BOOST_AUTO_TEST_CASE(a_reply_that_never_ends_is_cut_off_at_the_reply_limit) {
    // A byte every 100 ms, without a newline: never silent for the 400 ms
    // call timeout, so only the 1.5 s reply limit ends the call.
    FakeAgent fake(
        [](std::string const& line) -> std::string {
            if (has(line, "guest-ping")) return std::string(1000, ' ');
            return {};
        },
        1, 100ms);
    auto options = quick();
    options.reply_limit = 1500ms;
    GuestAgent agent(fake.take_client(), options);
    auto start = std::chrono::steady_clock::now();
    auto ping = agent.ping();
    BOOST_TEST_REQUIRE(ping.is_error());
    BOOST_TEST((ping.error().code == hr::VM_E_ADDITIONS_FEATURE_NOT_AVAIL));
    BOOST_TEST(elapsed_since(start) >= 1400ms);
    BOOST_TEST(elapsed_since(start) < 3s);
}

BOOST_AUTO_TEST_CASE(a_closed_port_fails_at_once) {
    FakeAgent fake(normal);
    GuestAgent agent(fake.take_client(), quick());
    BOOST_TEST(agent.ping().has_value());
    fake.close_port();
    auto start = std::chrono::steady_clock::now();
    BOOST_TEST((agent.ping().error().code == hr::VM_E_ADDITIONS_FEATURE_NOT_AVAIL));
    BOOST_TEST(elapsed_since(start) < 1s);
}

BOOST_AUTO_TEST_CASE(shutdown_has_no_reply_unless_refused) {
    FakeAgent quiet([](std::string const&) { return std::string(); });
    GuestAgent agent(quiet.take_client(), quick());
    BOOST_TEST(agent.shutdown().has_value());
    FakeAgent refusing([](std::string const& line) -> std::string {
        if (has(line, "guest-shutdown"))
            return "{\"error\": {\"class\": \"GenericError\", \"desc\": \"denied\"}}\n";
        return {};
    });
    GuestAgent refused(refusing.take_client(), quick());
    auto result = refused.shutdown();
    BOOST_TEST_REQUIRE(result.is_error());
    BOOST_TEST(result.error().message.find("denied") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_monitor_heartbeat_and_time_sync) {
    std::atomic<int> set_times{0};
    FakeAgent fake([&](std::string const& line) -> std::string {
        if (has(line, "guest-set-time")) ++set_times;
        return normal(line);
    });
    GuestAgent::Options options;
    options.ping_interval = 50ms;
    std::atomic<bool> contacted{false};
    options.on_contact = [&](std::string const& version) { contacted = version == "8.2.0"; };
    GuestAgent agent(fake.take_client(), options);
    agent.set_time_sync(true);
    for (int i = 0; i < 100 && !(agent.status().answered && set_times > 0); ++i)
        std::this_thread::sleep_for(20ms);
    auto status = agent.status();
    BOOST_TEST(status.answered);
    BOOST_TEST(status.heartbeating);
    BOOST_TEST(status.heartbeat_percentage == 100);
    BOOST_TEST(status.version == "8.2.0");
    BOOST_TEST(status.os_name == "Debian GNU/Linux 12 (bookworm)");
    BOOST_TEST(contacted.load());
    BOOST_TEST(set_times.load() >= 1);
    // The port goes away: the heartbeat stops.
    fake.close_port();
    for (int i = 0; i < 100 && agent.status().heartbeating; ++i)
        std::this_thread::sleep_for(20ms);
    BOOST_TEST(!agent.status().heartbeating);
    BOOST_TEST(agent.status().heartbeat_percentage < 100);
}

// The real agent: Debian's qemu-guest-agent (cmake/debian-packages.txt),
// run on this host on a Unix socket instead of a guest's serial port (the
// protocol is the same on every transport), so the client is checked
// against qemu-ga itself and not only against the fake above. Everything
// that could change this host (shutdown, clock, suspend, freeze, users,
// CPUs, memory) is blocked with -b, and none of it is called: only reads,
// files in a temporary folder and a harmless command.
BOOST_AUTO_TEST_CASE(the_real_qemu_guest_agent) {
    std::filesystem::path const qemu_ga = "/usr/sbin/qemu-ga";
    BOOST_TEST_REQUIRE(std::filesystem::exists(qemu_ga),
                       "qemu-guest-agent is not installed (cmake/setup.sh)");
    char folder_template[] = "/tmp/vsa-qga-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(folder_template) != nullptr);
    std::filesystem::path const folder = folder_template;
    std::string const socket_path = (folder / "qga.sock").string();
    std::vector<std::string> args{qemu_ga.string(),
                                  "-m",
                                  "unix-listen",
                                  "-p",
                                  socket_path,
                                  "-t",
                                  folder.string(),
                                  "-f",
                                  (folder / "qga.pid").string(),
                                  "-l",
                                  (folder / "qga.log").string(),
                                  "-b",
                                  "guest-shutdown,guest-set-time,guest-suspend-disk,guest-suspend-ram,"
                                  "guest-suspend-hybrid,guest-fsfreeze-freeze,guest-fsfreeze-freeze-list,"
                                  "guest-fsfreeze-thaw,guest-set-user-password,guest-set-vcpus,"
                                  "guest-set-memory-blocks,guest-fstrim,guest-network-get-interfaces"};
    std::vector<char*> argv;
    for (auto& arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    BOOST_TEST_REQUIRE(::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    struct Reap {
        pid_t pid;
        std::filesystem::path folder;
        ~Reap() {
            ::kill(pid, SIGTERM);
            ::waitpid(pid, nullptr, 0);
            std::error_code ec;
            std::filesystem::remove_all(folder, ec);
        }
    } reap{pid, folder};

    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    BOOST_TEST_REQUIRE(fd >= 0);
    FileDescriptor stream(fd);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    socket_path.copy(address.sun_path, sizeof address.sun_path - 1);
    bool connected = false;
    for (int i = 0; i < 100 && !connected; ++i) {
        connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        if (!connected) std::this_thread::sleep_for(50ms);
    }
    BOOST_TEST_REQUIRE(connected, "qemu-ga did not listen on " << socket_path);

    GuestAgent::Options options = quick();
    options.call_timeout = 5s; // a real process on a loaded host
    GuestAgent agent(std::move(stream), options);
    BOOST_TEST(agent.ping().has_value());
    auto version = agent.version();
    BOOST_TEST_REQUIRE(version.has_value());
    BOOST_TEST(std::regex_match(version.value(), std::regex("[0-9]+\\.[0-9]+.*")), version.value());
    // The host's own os-release and name, as a guest's would be.
    std::string pretty;
    std::ifstream os_release("/etc/os-release");
    for (std::string line; std::getline(os_release, line);)
        if (line.starts_with("PRETTY_NAME=")) pretty = line.substr(12);
    if (pretty.size() >= 2 && pretty.front() == '"') pretty = pretty.substr(1, pretty.size() - 2);
    BOOST_TEST(agent.os_name().value_or("?") == pretty);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    BOOST_TEST(agent.host_name().value_or("?") == host);

    auto run = agent.exec("/bin/sh", {"-c", "echo hi; echo oops >&2; exit 3"}, 10s);
    BOOST_TEST_REQUIRE(run.has_value(), (run.is_error() ? run.error().message : ""));
    BOOST_TEST(run.value().exit_code == 3);
    BOOST_TEST(run.value().out == "hi\n");
    BOOST_TEST(run.value().err == "oops\n");

    std::string const file = (folder / "parameters.json").string();
    auto missing = agent.read_file(file, 100);
    BOOST_TEST_REQUIRE(missing.has_value());
    BOOST_TEST(!missing.value().has_value());
    BOOST_TEST(agent.write_file(file, "hello \"world\"\n").has_value());
    auto back = agent.read_file(file, 100);
    BOOST_TEST_REQUIRE(back.has_value());
    BOOST_TEST(back.value().value_or("?") == "hello \"world\"\n");

    // A command the agent refuses: its error, and the next call works.
    auto refused = agent.call("guest-fstrim", "");
    BOOST_TEST_REQUIRE(refused.is_error());
    BOOST_TEST(refused.error().message.find("disabled") != std::string::npos, refused.error().message);
    BOOST_TEST(agent.ping().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
