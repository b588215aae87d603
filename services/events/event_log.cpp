// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/events/event_log.h"

#include "services/persist/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace vsa::services {

namespace {

struct KindName {
    EventKind kind;
    std::string_view name;
};

constexpr std::array KIND_NAMES{
    KindName{EventKind::VmStateChange, "OnVMStateChange"},
    KindName{EventKind::HeartbeatStopped, "OnHeartbeatStopped"},
    KindName{EventKind::VirtualServerStarted, "VirtualServerStarted"},
    KindName{EventKind::VirtualServerStopped, "VirtualServerStopped"},
    KindName{EventKind::VmTurnedOffByGuest, "VirtualMachineTurnedOffByGuest"},
    KindName{EventKind::VmProcessorError, "VirtualMachineProcessorError"},
    KindName{EventKind::VmWorkerDied, "VirtualMachineWorkerDied"},
    KindName{EventKind::VmError, "VirtualMachineError"},
    KindName{EventKind::VmRegistered, "VirtualMachineRegistered"},
    KindName{EventKind::VmUnregistered, "VirtualMachineUnregistered"},
    KindName{EventKind::VmConfigurationChange, "VirtualMachineConfigurationChange"},
    KindName{EventKind::NetworkRegistered, "VirtualNetworkRegistered"},
    KindName{EventKind::NetworkUnregistered, "VirtualNetworkUnregistered"},
    KindName{EventKind::NetworkConfigurationChange, "VirtualNetworkConfigurationChange"},
    KindName{EventKind::ServerConfigurationChange, "VirtualServerConfigurationChange"},
    KindName{EventKind::TaskCompleted, "TaskCompleted"},
    KindName{EventKind::VmReset, "OnReset"},
    KindName{EventKind::VmShutdownRequested, "OnRequestShutdown"},
    KindName{EventKind::MediaInserted, "OnMediaInsert"},
    KindName{EventKind::MediaEjected, "OnMediaEject"},
    KindName{EventKind::EventLogged, "OnEventLogged"},
    KindName{EventKind::ScriptFailed, "EventScriptFailed"},
};

constexpr std::array<std::string_view, 3> SEVERITY_NAMES{"Information", "Warning", "Error"};

// A log file bigger than this is not ours to load whole (the bound keeps
// ours far below it: 2 x 10,000 lines of at most a few KiB).
constexpr std::size_t MAX_FILE_BYTES = 256u << 20;
// A message is one sentence; a huge one (a hostile worker's error text)
// is cut so one event cannot blow up the log.
constexpr std::size_t MAX_FIELD = 4096;

// Percent-encoding of one field: '%', space, '-' alone, and every byte
// outside printable ASCII become %XX, so fields never contain the
// separator or a newline. The empty field is "-".
std::string encode_field(std::string_view text) {
    if (text.empty()) return "-";
    if (text.size() > MAX_FIELD) text = text.substr(0, MAX_FIELD);
    static constexpr char HEX[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (c <= 0x20 || c >= 0x7F || c == '%' || (c == '-' && text.size() == 1)) {
            out += '%';
            out += HEX[c >> 4];
            out += HEX[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::optional<std::string> decode_field(std::string_view field) {
    if (field == "-") return std::string{};
    std::string out;
    out.reserve(field.size());
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] != '%') {
            out += field[i];
            continue;
        }
        if (i + 2 >= field.size()) return std::nullopt;
        int hi = hex_digit(field[i + 1]), lo = hex_digit(field[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

template <typename Int>
std::optional<Int> parse_number(std::string_view text) {
    Int value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::vector<std::string_view> split(std::string_view line) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    while (start <= line.size()) {
        auto space = line.find(' ', start);
        if (space == std::string_view::npos) space = line.size();
        fields.push_back(line.substr(start, space - start));
        start = space + 1;
    }
    return fields;
}

} // namespace

std::string_view event_kind_name(EventKind kind) {
    for (auto const& entry : KIND_NAMES)
        if (entry.kind == kind) return entry.name;
    return "Unknown";
}

std::optional<EventKind> event_kind_from_name(std::string_view name) {
    for (auto const& entry : KIND_NAMES)
        if (entry.name == name) return entry.kind;
    return std::nullopt;
}

std::string_view event_severity_name(EventSeverity severity) {
    return SEVERITY_NAMES[static_cast<std::size_t>(severity)];
}

bool operator==(Event const& a, Event const& b) {
    return a.sequence == b.sequence && a.time == b.time && a.kind == b.kind && a.severity == b.severity &&
           a.object_kind == b.object_kind && a.object == b.object && a.object_name == b.object_name &&
           a.state == b.state && a.message == b.message;
}

// "<seq> <unix ms> <kind> <severity> <object kind> <object> <name> <state> <message>"
std::string EventLog::encode_line(Event const& event) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(event.time.time_since_epoch()).count();
    std::string line = std::to_string(event.sequence) + ' ' + std::to_string(ms) + ' ' +
                       std::string(event_kind_name(event.kind)) + ' ' +
                       std::string(event_severity_name(event.severity)) + ' ';
    line += encode_field(event.object_kind) + ' ' + encode_field(event.object) + ' ' +
            encode_field(event.object_name) + ' ' + std::to_string(event.state) + ' ' +
            encode_field(event.message);
    return line;
}

std::optional<Event> EventLog::decode_line(std::string_view line) {
    auto fields = split(line);
    if (fields.size() != 9) return std::nullopt;
    Event event;
    auto sequence = parse_number<std::uint64_t>(fields[0]);
    auto ms = parse_number<std::int64_t>(fields[1]);
    auto kind = event_kind_from_name(fields[2]);
    auto state = parse_number<std::int32_t>(fields[7]);
    if (!sequence || *sequence == 0 || !ms || !kind || !state) return std::nullopt;
    auto severity = std::find(SEVERITY_NAMES.begin(), SEVERITY_NAMES.end(), fields[3]);
    if (severity == SEVERITY_NAMES.end()) return std::nullopt;
    auto object_kind = decode_field(fields[4]);
    auto object = decode_field(fields[5]);
    auto name = decode_field(fields[6]);
    auto message = decode_field(fields[8]);
    if (!object_kind || !object || !name || !message) return std::nullopt;
    event.sequence = *sequence;
    event.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(*ms));
    event.kind = *kind;
    event.severity = static_cast<EventSeverity>(severity - SEVERITY_NAMES.begin());
    event.object_kind = std::move(*object_kind);
    event.object = std::move(*object);
    event.object_name = std::move(*name);
    event.state = *state;
    event.message = std::move(*message);
    return event;
}

EventLog::EventLog(Options options) : m_options(std::move(options)) {
    if (m_options.max_records == 0) m_options.max_records = 1;
}

EventLog::~EventLog() {
    if (m_fd >= 0) {
        ::fsync(m_fd);
        ::close(m_fd);
    }
}

std::unique_ptr<EventLog> EventLog::open(Options options) {
    std::unique_ptr<EventLog> log(new EventLog(std::move(options)));
    log->load();
    return log;
}

void EventLog::load() {
    if (m_options.file.empty()) return;
    std::error_code ec;
    bool torn = false;
    if (std::filesystem::exists(m_options.file, ec)) {
        auto text = read_file_capped(m_options.file, MAX_FILE_BYTES);
        if (text.is_error()) {
            m_warnings.push_back("event log not loaded, starting empty: " + text.error().message);
            torn = true; // rewrite it below so appends land in a sound file
        } else {
            std::string_view rest = text.value();
            std::size_t line_number = 0, skipped = 0;
            while (!rest.empty()) {
                auto newline = rest.find('\n');
                ++line_number;
                if (newline == std::string_view::npos) {
                    // A last line without its newline: the write was cut.
                    m_warnings.push_back("event log line " + std::to_string(line_number) +
                                         " is incomplete (cut by a crash?) and was dropped");
                    torn = true;
                    break;
                }
                auto line = rest.substr(0, newline);
                rest.remove_prefix(newline + 1);
                auto event = decode_line(line);
                // Numbers must grow: an out-of-order line is damage too.
                if (!event || event->sequence <= m_last) {
                    ++skipped;
                    continue;
                }
                m_last = event->sequence;
                m_events.push_back(std::move(*event));
                if (m_events.size() > m_options.max_records) m_events.pop_front();
                ++m_file_lines;
            }
            if (skipped) {
                m_warnings.push_back("event log: " + std::to_string(skipped) + " damaged line(s) skipped");
                torn = true;
            }
        }
    }
    if (torn || m_file_lines > 2 * m_options.max_records) compact();
    m_fd = ::open(m_options.file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (m_fd < 0)
        m_warnings.push_back("cannot open the event log " + m_options.file.string() +
                             " for writing (events stay in memory): " + std::strerror(errno));
}

void EventLog::compact() {
    std::string contents;
    for (auto const& event : m_events)
        contents += encode_line(event) + '\n';
    if (auto written = write_file_atomically(m_options.file, contents); written.is_error()) {
        ++m_write_errors;
        m_warnings.push_back("cannot rewrite the event log: " + written.error().message);
        return;
    }
    m_file_lines = m_events.size();
    // The old descriptor names the replaced file: reopen the new one.
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = ::open(m_options.file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        if (m_fd < 0) ++m_write_errors;
    }
}

void EventLog::append_to_file(Event const& event) {
    if (m_fd < 0) return;
    std::string line = encode_line(event) + '\n';
    // O_APPEND with one write: the line lands whole or (power loss) cut,
    // which the loader drops.
    auto written = ::write(m_fd, line.data(), line.size());
    if (written != static_cast<ssize_t>(line.size())) {
        ++m_write_errors;
        return;
    }
    if (++m_file_lines > 2 * m_options.max_records) compact();
}

std::uint64_t EventLog::append(Event event) {
    std::uint64_t sequence;
    {
        std::lock_guard lock(m_mutex);
        event.sequence = sequence = ++m_last;
        // Millisecond precision: what the file keeps, so a reloaded event
        // equals the one served before the restart.
        event.time =
            std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
        if (event.message.size() > MAX_FIELD) event.message.resize(MAX_FIELD);
        m_events.push_back(std::move(event));
        if (m_events.size() > m_options.max_records) m_events.pop_front();
        // After the push: a compaction rewrites the kept events, this one too.
        append_to_file(m_events.back());
        if (m_listener) m_listener(m_events.back());
    }
    m_changed.notify_all();
    return sequence;
}

void EventLog::set_listener(Listener listener) {
    std::lock_guard lock(m_mutex);
    m_listener = std::move(listener);
}

std::vector<Event> EventLog::after(std::uint64_t after, std::size_t max) const {
    std::lock_guard lock(m_mutex);
    std::vector<Event> out;
    // Numbers grow (gaps only where a damaged line was dropped): search.
    auto it =
        std::upper_bound(m_events.begin(), m_events.end(), after,
                         [](std::uint64_t value, Event const& event) { return value < event.sequence; });
    for (; it != m_events.end() && out.size() < max; ++it)
        out.push_back(*it);
    return out;
}

std::uint64_t EventLog::last_sequence() const {
    std::lock_guard lock(m_mutex);
    return m_last;
}

std::uint64_t EventLog::first_sequence() const {
    std::lock_guard lock(m_mutex);
    return m_events.empty() ? m_last + 1 : m_events.front().sequence;
}

std::size_t EventLog::size() const {
    std::lock_guard lock(m_mutex);
    return m_events.size();
}

std::uint64_t EventLog::wait_after(std::uint64_t after, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(m_mutex);
    m_changed.wait_for(lock, timeout, [&] { return m_closed || m_last > after; });
    return m_last;
}

void EventLog::close() {
    {
        std::lock_guard lock(m_mutex);
        m_closed = true;
    }
    m_changed.notify_all();
}

std::vector<std::string> EventLog::load_warnings() const {
    std::lock_guard lock(m_mutex);
    return m_warnings;
}

std::size_t EventLog::write_errors() const {
    std::lock_guard lock(m_mutex);
    return m_write_errors;
}

} // namespace vsa::services
