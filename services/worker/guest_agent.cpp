// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/worker/guest_agent.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>
#include <random>
#include <sstream>

namespace vsa::services {

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr char SENTINEL = '\xFF';

// The parsed "return" object of a reply, or E_FAIL.
ServiceResult<Poco::JSON::Object::Ptr> as_object(std::string const& json, std::string_view command) {
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(GuestAgent::MAX_DEPTH);
        auto value = parser.parse(json);
        if (value.type() == typeid(Poco::JSON::Object::Ptr)) return value.extract<Poco::JSON::Object::Ptr>();
    } catch (Poco::Exception const&) {
    } catch (std::exception const&) {
    }
    return service_error(hr::E_FAIL,
                         "the guest agent's answer to " + std::string(command) + " is not an object");
}

std::optional<std::string> string_member(Poco::JSON::Object::Ptr const& object, std::string const& name) {
    if (!object || !object->has(name)) return std::nullopt;
    auto value = object->get(name);
    if (!value.isString()) return std::nullopt;
    return value.extract<std::string>();
}

std::optional<std::int64_t> integer_member(Poco::JSON::Object::Ptr const& object, std::string const& name) {
    if (!object || !object->has(name)) return std::nullopt;
    auto value = object->get(name);
    if (!value.isInteger()) return std::nullopt;
    try {
        return value.convert<std::int64_t>();
    } catch (Poco::Exception const&) {
        return std::nullopt;
    }
}

bool bool_member(Poco::JSON::Object::Ptr const& object, std::string const& name) {
    if (!object || !object->has(name)) return false;
    auto value = object->get(name);
    return value.type() == typeid(bool) && value.extract<bool>();
}

std::string base64_encode(std::string const& data) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << data;
    encoder.close();
    return out.str();
}

std::optional<std::string> base64_decode(std::string const& text) {
    try {
        std::istringstream in(text);
        Poco::Base64Decoder decoder(in);
        std::string out((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
        return out;
    } catch (Poco::Exception const&) {
        return std::nullopt;
    }
}

} // namespace

// --- The protocol's pieces ---------------------------------------------------------

namespace guest_agent_protocol {

std::string quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            static char const hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[u >> 4];
            out += hex[u & 15];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string command_line(std::string_view command, std::string_view arguments) {
    std::string line = "{\"execute\":" + quote(command);
    if (!arguments.empty()) line += ",\"arguments\":" + std::string(arguments);
    return line + "}\n";
}

std::string clean_text(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, GuestAgent::MAX_TEXT)) {
        auto u = static_cast<unsigned char>(c);
        out += u >= 0x20 && u < 0x7F ? c : '?';
    }
    return out;
}

ServiceResult<std::string> parse_reply(std::string_view line) {
    Poco::JSON::Object::Ptr reply;
    try {
        Poco::JSON::Parser parser;
        parser.setDepth(GuestAgent::MAX_DEPTH);
        auto value = parser.parse(std::string(line));
        if (value.type() == typeid(Poco::JSON::Object::Ptr)) reply = value.extract<Poco::JSON::Object::Ptr>();
    } catch (Poco::Exception const&) {
    } catch (std::exception const&) {
    }
    if (!reply) return service_error(hr::E_FAIL, "the guest agent's reply is not a JSON object");
    try {
        if (reply->has("return")) {
            std::ostringstream out;
            Poco::JSON::Stringifier::condense(reply->get("return"), out);
            return out.str();
        }
        if (reply->has("error")) {
            auto error = reply->getObject("error");
            std::string cls = string_member(error, "class").value_or("GenericError");
            std::string desc = string_member(error, "desc").value_or("");
            return service_error(hr::E_FAIL, "the guest agent refused: " + clean_text(cls) +
                                                 (desc.empty() ? "" : ": " + clean_text(desc)));
        }
    } catch (Poco::Exception const&) {
    } catch (std::exception const&) {
    }
    return service_error(hr::E_FAIL, "the guest agent's reply has neither \"return\" nor \"error\"");
}

} // namespace guest_agent_protocol

using namespace guest_agent_protocol;

// --- Transport ---------------------------------------------------------------------

GuestAgent::GuestAgent(FileDescriptor stream, Options options)
    : m_stream(std::move(stream)), m_wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      m_options(std::move(options)) {
    std::random_device seed;
    m_next_sync_id = static_cast<std::int64_t>(seed() & 0x3FFFFFFF) + 1;
    if (m_options.monitor) m_monitor = std::thread([this] { monitor_loop(); });
}

GuestAgent::~GuestAgent() {
    m_stopping = true;
    if (m_wake.is_open()) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(m_wake.fd(), &one, sizeof one);
    }
    { std::lock_guard lock(m_monitor_mutex); }
    m_monitor_wake.notify_all();
    if (m_monitor.joinable()) m_monitor.join();
}

void GuestAgent::Deadline::progress() {
    at = std::min(cap, std::max(at, SteadyClock::now() + quiet));
}

GuestAgent::Deadline GuestAgent::deadline_in(std::chrono::milliseconds quiet) const {
    auto now = SteadyClock::now();
    return Deadline{now + quiet, now + std::max(quiet, m_options.reply_limit), quiet};
}

bool GuestAgent::wait_readable(Deadline const& deadline) {
    for (;;) {
        if (m_stopping) return false;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline.at - SteadyClock::now());
        if (left.count() <= 0) return false;
        pollfd p[2] = {{m_stream.fd(), POLLIN, 0}, {m_wake.fd(), POLLIN, 0}};
        int n = ::poll(p, 2, static_cast<int>(std::min<long long>(left.count() + 1, 60'000)));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || p[1].revents) return false;
        if (p[0].revents) return true;
    }
}

bool GuestAgent::send(std::string_view bytes, Deadline const& deadline) {
    while (!bytes.empty()) {
        ssize_t n = ::send(m_stream.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            // The worker's queue is full (a guest not reading): wait a bit.
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline.at - SteadyClock::now());
            if (left.count() <= 0 || m_stopping) return false;
            pollfd p[2] = {{m_stream.fd(), POLLOUT, 0}, {m_wake.fd(), POLLIN, 0}};
            if (::poll(p, 2, static_cast<int>(std::min<long long>(left.count() + 1, 60'000))) < 0 &&
                errno != EINTR)
                return false;
            if (p[1].revents) return false;
            continue;
        }
        m_closed = true;
        return false;
    }
    return true;
}

GuestAgent::Read GuestAgent::read_line(Deadline& deadline, bool after_sentinel, std::string& line) {
    for (;;) {
        if (after_sentinel) {
            auto at = m_in.find(SENTINEL);
            if (at != std::string::npos) {
                m_in.erase(0, at + 1);
                after_sentinel = false;
            } else {
                m_in.clear(); // all stale
            }
        }
        if (!after_sentinel) {
            auto end = m_in.find('\n');
            if (end != std::string::npos) {
                line = m_in.substr(0, end);
                m_in.erase(0, end + 1);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                return Read::Line;
            }
            if (m_in.size() > MAX_LINE) {
                m_in.clear();
                return Read::TooLong;
            }
        }
        if (m_closed) return Read::Closed;
        if (!wait_readable(deadline)) return m_stopping ? Read::Stopped : Read::Timeout;
        char buffer[4096];
        ssize_t n = ::recv(m_stream.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) {
            m_in.append(buffer, static_cast<std::size_t>(n));
            deadline.progress();
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            m_closed = true;
        }
    }
}

ServiceError GuestAgent::no_agent(std::string_view what) const {
    return service_error(hr::VM_E_ADDITIONS_FEATURE_NOT_AVAIL,
                         "no guest agent answered on the agent port (" + std::string(what) +
                             "); run qemu-guest-agent in the guest: qemu-ga -m isa-serial -p /dev/ttyS2");
}

ServiceResult<void> GuestAgent::synchronise(Deadline& deadline) {
    std::int64_t id = m_next_sync_id++;
    if (m_next_sync_id > 0x3FFFFFFF) m_next_sync_id = 1;
    // 0xFF first: the agent drops a half-received line and resets its parser.
    std::string request = std::string(1, SENTINEL) +
                          command_line("guest-sync-delimited", "{\"id\":" + std::to_string(id) + "}");
    if (!send(request, deadline)) return no_agent(m_closed ? "the port is closed" : "cannot send");
    for (;;) {
        std::string line;
        switch (read_line(deadline, true, line)) {
        case Read::Line:
            break;
        case Read::TooLong:
            continue; // garbage: look for the next sentinel
        case Read::Closed:
            return no_agent("the port is closed");
        case Read::Stopped:
            return no_agent("the virtual machine is stopping");
        case Read::Timeout:
            return no_agent("no answer to guest-sync-delimited");
        }
        auto value = parse_reply(line);
        // A stale sync answer (an earlier call timed out) or noise: the
        // one with our id comes after its own sentinel.
        if (value.has_value() && value.value() == std::to_string(id)) return {};
    }
}

ServiceResult<std::string> GuestAgent::call_locked(std::string_view command, std::string_view arguments,
                                                   Deadline deadline, bool expect_reply) {
    if (!m_stream.is_open()) return no_agent("no agent port");
    TRY(synchronise(deadline));
    if (!send(command_line(command, arguments), deadline)) return no_agent("cannot send");
    if (!expect_reply) return std::string();
    for (;;) {
        std::string line;
        switch (read_line(deadline, false, line)) {
        case Read::Line:
            break;
        case Read::TooLong:
            return service_error(hr::E_FAIL, "the guest agent's answer to " + std::string(command) +
                                                 " is longer than " + std::to_string(MAX_LINE) + " bytes");
        case Read::Closed:
            return no_agent("the port closed");
        case Read::Stopped:
            return no_agent("the virtual machine is stopping");
        case Read::Timeout:
            return no_agent("no answer to " + std::string(command));
        }
        // Blank lines and stray sentinels are not replies.
        while (!line.empty() && line.front() == SENTINEL)
            line.erase(0, 1);
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        return parse_reply(line);
    }
}

ServiceResult<std::string> GuestAgent::call(std::string_view command, std::string_view arguments,
                                            std::optional<std::chrono::milliseconds> timeout) {
    std::lock_guard lock(m_call_mutex);
    return call_locked(command, arguments, deadline_in(timeout.value_or(m_options.call_timeout)), true);
}

// --- Commands ---------------------------------------------------------------------------

ServiceResult<void> GuestAgent::ping() {
    TRY(call("guest-ping", ""));
    return {};
}

ServiceResult<std::string> GuestAgent::version() {
    auto info = TRY(as_object(TRY(call("guest-info", "")), "guest-info"));
    auto version = string_member(info, "version");
    if (!version) return service_error(hr::E_FAIL, "the guest agent's guest-info has no version");
    return clean_text(*version);
}

ServiceResult<std::string> GuestAgent::os_name() {
    auto info = TRY(as_object(TRY(call("guest-get-osinfo", "")), "guest-get-osinfo"));
    auto name = string_member(info, "pretty-name");
    if (!name) name = string_member(info, "name");
    if (!name) return service_error(hr::E_FAIL, "the guest agent's guest-get-osinfo names no system");
    return clean_text(*name);
}

ServiceResult<std::string> GuestAgent::host_name() {
    auto info = TRY(as_object(TRY(call("guest-get-host-name", "")), "guest-get-host-name"));
    auto name = string_member(info, "host-name");
    if (!name) return service_error(hr::E_FAIL, "the guest agent's guest-get-host-name has no host-name");
    return clean_text(*name);
}

ServiceResult<void> GuestAgent::shutdown() {
    std::lock_guard lock(m_call_mutex);
    TRY(call_locked("guest-shutdown", "{\"mode\":\"powerdown\"}", deadline_in(m_options.call_timeout),
                    false));
    // Success has no reply; an error (not supported, not permitted) does,
    // and comes quickly.
    std::string line;
    auto error_wait = deadline_in(std::chrono::milliseconds(500));
    error_wait.cap = error_wait.at;
    if (read_line(error_wait, false, line) == Read::Line) {
        auto reply = parse_reply(line);
        if (reply.is_error()) return reply.release_error();
    }
    return {};
}

ServiceResult<void> GuestAgent::set_time(std::int64_t ns_since_epoch) {
    TRY(call("guest-set-time", "{\"time\":" + std::to_string(ns_since_epoch) + "}"));
    return {};
}

ServiceResult<GuestAgent::ExecResult> GuestAgent::exec(std::string const& path,
                                                       std::vector<std::string> const& args,
                                                       std::chrono::milliseconds timeout) {
    std::string arguments = "{\"path\":" + quote(path) + ",\"arg\":[";
    for (std::size_t i = 0; i < args.size(); ++i)
        arguments += (i ? "," : "") + quote(args[i]);
    arguments += "],\"capture-output\":true}";
    auto started = TRY(as_object(TRY(call("guest-exec", arguments)), "guest-exec"));
    auto pid = integer_member(started, "pid");
    if (!pid) return service_error(hr::E_FAIL, "the guest agent's guest-exec answer has no pid");
    auto deadline = SteadyClock::now() + timeout;
    auto pause = std::chrono::milliseconds(50);
    for (;;) {
        auto status = TRY(as_object(TRY(call("guest-exec-status", "{\"pid\":" + std::to_string(*pid) + "}")),
                                    "guest-exec-status"));
        if (bool_member(status, "exited")) {
            ExecResult result;
            result.exit_code = integer_member(status, "exitcode").value_or(0);
            result.signal = integer_member(status, "signal");
            result.truncated = bool_member(status, "out-truncated") || bool_member(status, "err-truncated");
            if (auto out = string_member(status, "out-data")) result.out = base64_decode(*out).value_or("");
            if (auto err = string_member(status, "err-data")) result.err = base64_decode(*err).value_or("");
            return result;
        }
        if (SteadyClock::now() + pause >= deadline)
            return service_error(hr::VM_E_TIMED_OUT, "the guest's process " + std::to_string(*pid) +
                                                         " did not finish in time; it keeps running");
        std::unique_lock lock(m_monitor_mutex);
        m_monitor_wake.wait_for(lock, pause, [&] { return m_stopping.load(); });
        if (m_stopping) return no_agent("the virtual machine is stopping");
        pause = std::min(pause * 2, std::chrono::milliseconds(500));
    }
}

ServiceResult<std::optional<std::string>> GuestAgent::read_file(std::string const& path,
                                                                std::size_t max_bytes) {
    auto opened = call("guest-file-open", "{\"path\":" + quote(path) + ",\"mode\":\"r\"}");
    if (opened.is_error()) {
        if (opened.error().code == hr::E_FAIL &&
            opened.error().message.starts_with("the guest agent refused"))
            return std::optional<std::string>(); // no such file
        return opened.release_error();
    }
    std::string handle = opened.release_value();
    if (handle.empty() || handle.find_first_not_of("0123456789") != std::string::npos)
        return service_error(hr::E_FAIL, "the guest agent's guest-file-open answer is not a handle");
    std::string data;
    ServiceResult<void> outcome{};
    for (int reads = 0; reads < 64; ++reads) {
        auto chunk = call("guest-file-read", "{\"handle\":" + handle + ",\"count\":65536}");
        if (chunk.is_error()) {
            outcome = chunk.release_error();
            break;
        }
        auto object = as_object(chunk.value(), "guest-file-read");
        if (object.is_error()) {
            outcome = object.release_error();
            break;
        }
        auto bytes = base64_decode(string_member(object.value(), "buf-b64").value_or(""));
        if (!bytes) {
            outcome = service_error(hr::E_FAIL, "the guest agent's file data is not base64");
            break;
        }
        data += *bytes;
        if (data.size() > max_bytes) {
            outcome = service_error(hr::E_FAIL, "the guest file " + path + " is larger than " +
                                                    std::to_string(max_bytes) + " bytes");
            break;
        }
        if (bool_member(object.value(), "eof") || bytes->empty()) break;
    }
    (void)call("guest-file-close", "{\"handle\":" + handle + "}");
    if (outcome.is_error()) return outcome.release_error();
    return std::optional<std::string>(std::move(data));
}

ServiceResult<void> GuestAgent::write_file(std::string const& path, std::string const& data) {
    std::string handle = TRY(call("guest-file-open", "{\"path\":" + quote(path) + ",\"mode\":\"w\"}"));
    if (handle.empty() || handle.find_first_not_of("0123456789") != std::string::npos)
        return service_error(hr::E_FAIL, "the guest agent's guest-file-open answer is not a handle");
    auto written = call("guest-file-write",
                        "{\"handle\":" + handle + ",\"buf-b64\":" + quote(base64_encode(data)) + "}");
    auto closed = call("guest-file-close", "{\"handle\":" + handle + "}");
    if (written.is_error()) return written.release_error();
    if (closed.is_error()) return closed.release_error();
    return {};
}

// --- The monitor --------------------------------------------------------------------------

GuestAgent::Status GuestAgent::status() const {
    std::lock_guard lock(m_status_mutex);
    Status status;
    status.answered = m_answered;
    status.version = m_version;
    status.os_name = m_os_name;
    if (!m_pings.empty()) status.heartbeating = m_pings.back().second;
    unsigned beats = 0;
    for (auto const& [at, ok] : m_pings)
        beats += ok;
    if (!m_pings.empty())
        status.heartbeat_percentage =
            static_cast<std::int32_t>((beats * 100 + m_pings.size() / 2) / m_pings.size());
    return status;
}

void GuestAgent::set_time_sync(bool enabled) {
    {
        std::lock_guard lock(m_status_mutex);
        m_time_sync = enabled;
        m_time_sync_due = enabled;
    }
    m_monitor_wake.notify_all();
}

void GuestAgent::request_time_sync() {
    {
        std::lock_guard lock(m_status_mutex);
        m_time_sync_due = m_time_sync;
    }
    m_monitor_wake.notify_all();
}

void GuestAgent::record_ping(bool ok) {
    std::lock_guard lock(m_status_mutex);
    auto now = SteadyClock::now();
    m_pings.emplace_back(now, ok);
    while (!m_pings.empty() && m_pings.front().first < now - m_options.window)
        m_pings.pop_front();
    if (ok) {
        m_answered = true;
    } else {
        m_contacted = false; // an agent that comes back may be another one
    }
}

void GuestAgent::monitor_loop() {
    constexpr unsigned SILENT_PINGS = 10;
    unsigned silent = 0;
    while (!m_stopping) {
        bool ok = false;
        {
            std::lock_guard lock(m_call_mutex);
            // A ping's answer is short: twice its timeout in all.
            auto deadline = deadline_in(m_options.ping_timeout);
            deadline.cap = deadline.at + m_options.ping_timeout;
            ok = call_locked("guest-ping", "", deadline, true).has_value();
        }
        record_ping(ok);
        if (ok) {
            bool first = false, sync = false;
            {
                std::lock_guard lock(m_status_mutex);
                first = !m_contacted;
                auto now = SteadyClock::now();
                sync = m_time_sync &&
                       (first || m_time_sync_due || now - m_last_time_sync >= m_options.time_sync_interval);
            }
            if (first) {
                auto version = this->version();
                auto name = os_name();
                std::lock_guard lock(m_status_mutex);
                if (version.has_value()) m_version = version.value();
                if (name.has_value()) m_os_name = name.value();
                m_contacted = version.has_value();
            }
            if (first && m_options.on_contact && !status().version.empty())
                m_options.on_contact(status().version);
            if (sync) {
                auto now = std::chrono::system_clock::now().time_since_epoch();
                bool set =
                    set_time(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()).has_value();
                std::lock_guard lock(m_status_mutex);
                if (set) m_time_sync_due = false;
                m_last_time_sync = SteadyClock::now();
            }
        }
        // Silence: ping less often, so a guest that does not read the
        // port (no agent yet) gathers less stale input for the agent to
        // answer once it starts.
        silent = ok ? 0 : silent + 1;
        auto pause = silent > SILENT_PINGS ? m_options.ping_interval * 5 : m_options.ping_interval;
        std::unique_lock lock(m_monitor_mutex);
        m_monitor_wake.wait_for(lock, pause, [&] { return m_stopping.load(); });
    }
}

} // namespace vsa::services
