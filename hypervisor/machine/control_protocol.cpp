// SPDX-License-Identifier: GPL-2.0-or-later
#include "hypervisor/machine/control_protocol.h"

#include <array>
#include <charconv>
#include <utility>

namespace vsa::control {

namespace {

constexpr std::array<std::pair<Command, std::string_view>, 13> COMMANDS{{
    {Command::Pause, "pause"},
    {Command::Resume, "resume"},
    {Command::Reset, "reset"},
    {Command::Save, "save"},
    {Command::TurnOff, "turn-off"},
    {Command::Query, "query"},
    {Command::PowerButton, "power-button"},
    {Command::InsertMedia, "insert-media"},
    {Command::EjectMedia, "eject-media"},
    {Command::Screenshot, "screenshot"},
    {Command::Key, "key"},
    {Command::Mouse, "mouse"},
    {Command::NicLink, "nic-link"},
}};

constexpr std::array<std::pair<VideoMode, std::string_view>, 4> VIDEO_MODES{{
    {VideoMode::Text, "text"},
    {VideoMode::Cga, "cga"},
    {VideoMode::Vga, "vga"},
    {VideoMode::Svga, "svga"},
}};

// IDE slots 0-3: the most a PC's two channels hold.
constexpr unsigned MAX_SLOT = 3;
// Floppy drives fd0 (A:) and fd1 (B:).
constexpr unsigned MAX_FLOPPY = 1;

constexpr char HEX[] = "0123456789ABCDEF";
constexpr char LOWER_HEX[] = "0123456789abcdef";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

constexpr std::array<std::pair<Event, std::string_view>, 11> EVENTS{{
    {Event::Restoring, "restoring"},
    {Event::Started, "started"},
    {Event::Paused, "paused"},
    {Event::Resumed, "resumed"},
    {Event::Reset, "reset"},
    {Event::Saved, "saved"},
    {Event::SaveFailed, "save-failed"},
    {Event::PoweredOff, "powered-off"},
    {Event::TripleFault, "triple-fault"},
    {Event::TurnedOff, "turned-off"},
    {Event::Error, "error"},
}};

bool printable(std::string_view text) {
    for (char c : text)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) return false;
    return true;
}

std::string safe_text(std::string_view text) {
    std::string out(text.substr(0, MAX_TEXT));
    for (char& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) c = '?';
    return out;
}

// Cuts the first space-separated word off `rest`.
std::string_view take_word(std::string_view& rest) {
    auto space = rest.find(' ');
    std::string_view word = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    return word;
}

// Plain decimal: digits only (no sign, no spaces), at most what fits.
template <typename T>
std::optional<T> parse_number(std::string_view text) {
    if (text.empty() || text.size() > 20) return std::nullopt;
    for (char c : text)
        if (c < '0' || c > '9') return std::nullopt;
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::string cut(std::string_view text) {
    return std::string(text.substr(0, 40)) + (text.size() > 40 ? "..." : "");
}

// The line checks every decoder shares.
std::optional<std::string> bad_line(std::string_view line) {
    if (line.size() + 1 > MAX_LINE) return std::string("line too long");
    if (line.empty()) return std::string("empty line");
    if (!printable(line)) return std::string("line with control or non-ASCII bytes");
    return std::nullopt;
}

// "width=W height=H mode=M", exactly so.
Result<ScreenInfo, std::string> decode_screen(std::string_view rest) {
    ScreenInfo screen;
    auto field = [&](std::string_view name) -> std::optional<std::string_view> {
        auto word = take_word(rest);
        if (!word.starts_with(name) || word.size() <= name.size() || word[name.size()] != '=')
            return std::nullopt;
        return word.substr(name.size() + 1);
    };
    auto width = field("width");
    auto height = field("height");
    auto mode = field("mode");
    if (!width || !height || !mode || !rest.empty()) return std::string("reply with bad screen fields");
    auto w = parse_number<u32>(*width);
    auto h = parse_number<u32>(*height);
    if (!w || !h) return std::string("reply with a bad screen size");
    screen.width = *w;
    screen.height = *h;
    for (auto const& [value, name] : VIDEO_MODES)
        if (*mode == name) {
            screen.mode = value;
            return screen;
        }
    return "reply with an unknown video mode '" + cut(*mode) + "'";
}

Result<Reply, std::string> decode_reply(std::string_view rest) {
    auto seq = parse_number<u32>(take_word(rest));
    if (!seq) return std::string("reply without a valid sequence number");
    Reply reply;
    reply.seq = *seq;
    auto verdict = take_word(rest);
    if (verdict == "error") {
        reply.ok = false;
        reply.error = std::string(rest);
        return reply;
    }
    if (verdict != "ok") return "reply neither ok nor error: '" + cut(verdict) + "'";
    if (rest.empty()) return reply;
    if (rest.starts_with("width=")) {
        auto screen = decode_screen(rest);
        if (screen.is_error()) return screen.release_error();
        reply.screen = screen.release_value();
        return reply;
    }
    auto state_field = take_word(rest);
    auto instructions_field = take_word(rest);
    auto disk_read_field = take_word(rest);
    auto disk_written_field = take_word(rest);
    if (!rest.empty()) return std::string("reply with trailing fields");
    Status status;
    if (state_field == "state=running")
        status.state = RunState::Running;
    else if (state_field == "state=paused")
        status.state = RunState::Paused;
    else
        return "reply with a bad state field: '" + cut(state_field) + "'";
    constexpr std::string_view INSTRUCTIONS = "instructions=";
    if (!instructions_field.starts_with(INSTRUCTIONS))
        return "reply with a bad instructions field: '" + cut(instructions_field) + "'";
    auto count = parse_number<u64>(instructions_field.substr(INSTRUCTIONS.size()));
    if (!count) return "reply with a bad instruction count: '" + cut(instructions_field) + "'";
    status.instructions = *count;
    if (!disk_read_field.empty()) {
        constexpr std::string_view DISK_READ = "disk-read=";
        constexpr std::string_view DISK_WRITTEN = "disk-written=";
        if (!disk_read_field.starts_with(DISK_READ) || !disk_written_field.starts_with(DISK_WRITTEN))
            return "reply with bad disk fields: '" + cut(disk_read_field) + "'";
        auto read = parse_number<u64>(disk_read_field.substr(DISK_READ.size()));
        auto written = parse_number<u64>(disk_written_field.substr(DISK_WRITTEN.size()));
        if (!read || !written) return "reply with a bad disk byte count: '" + cut(disk_read_field) + "'";
        status.disk_read = *read;
        status.disk_written = *written;
    }
    reply.status = status;
    return reply;
}

Result<Notification, std::string> decode_event(std::string_view rest) {
    auto name = take_word(rest);
    for (auto const& [event, text] : EVENTS)
        if (name == text) return Notification{event, std::string(rest)};
    return "unknown event '" + cut(name) + "'";
}

} // namespace

namespace {

// "screenshot <path> [<W>x<H>]" (the bare command is matched above).
Result<Request, std::string> decode_screenshot(u32 seq, std::string_view args) {
    Request request{seq, Command::Screenshot};
    auto path = decode_path(take_word(args));
    if (!path) return std::string("screenshot: a bad or empty path");
    request.path = std::move(*path);
    if (args.empty()) return request;
    if (args == "text") {
        request.text = true;
        return request;
    }
    auto x = args.find('x');
    if (x == std::string_view::npos) return "screenshot: unexpected '" + cut(args) + "'";
    auto width = parse_number<unsigned>(args.substr(0, x));
    auto height = parse_number<unsigned>(args.substr(x + 1));
    if (!width || !height || *width == 0 || *height == 0 || *width > MAX_SCREENSHOT_SIDE ||
        *height > MAX_SCREENSHOT_SIDE)
        return std::string("screenshot: the size is not <W>x<H> of 1 to 4096");
    request.width = *width;
    request.height = *height;
    return request;
}

// "key <hex>": lower-case hex pairs only, so one key has one spelling.
Result<Request, std::string> decode_key(u32 seq, std::string_view args) {
    Request request{seq, Command::Key};
    if (args.empty() || args.size() % 2 != 0 || args.size() / 2 > MAX_KEY_BYTES)
        return std::string("key: wants 1 to 16 bytes as hex pairs");
    for (std::size_t i = 0; i < args.size(); i += 2) {
        char hi = args[i], lo = args[i + 1];
        bool lower = (hi < 'A' || hi > 'F') && (lo < 'A' || lo > 'F');
        int h = hex_value(hi), l = hex_value(lo);
        if (h < 0 || l < 0 || !lower) return "key: not lower-case hex: '" + cut(args) + "'";
        request.scancodes.push_back(static_cast<u8>(h << 4 | l));
    }
    return request;
}

// A decimal in -MAX_MOUSE_DELTA..MAX_MOUSE_DELTA as std::to_string writes
// it: an optional '-', digits without leading zeros, no "-0".
std::optional<int> parse_delta(std::string_view text) {
    bool negative = text.starts_with('-');
    if (negative) text.remove_prefix(1);
    if (text.size() > 5 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    auto magnitude = parse_number<int>(text);
    if (!magnitude || *magnitude > MAX_MOUSE_DELTA || (negative && *magnitude == 0)) return std::nullopt;
    return negative ? -*magnitude : *magnitude;
}

// "mouse <dx> <dy> <dz> <buttons>".
Result<Request, std::string> decode_mouse(u32 seq, std::string_view args) {
    Request request{seq, Command::Mouse};
    if (args.ends_with(' ')) return std::string("mouse: trailing space");
    std::optional<int> deltas[3];
    for (auto& delta : deltas) {
        delta = parse_delta(take_word(args));
        if (!delta) return std::string("mouse: dx, dy and dz must be -4096..4096");
    }
    auto buttons_text = take_word(args);
    auto buttons = parse_number<unsigned>(buttons_text);
    if (!buttons || buttons_text.size() != 1 || *buttons > MOUSE_BUTTONS)
        return std::string("mouse: buttons must be 0..7");
    if (!args.empty()) return "mouse: unexpected '" + cut(args) + "'";
    request.dx = *deltas[0];
    request.dy = *deltas[1];
    request.dz = *deltas[2];
    request.buttons = *buttons;
    return request;
}

// "nic-link <adapter> up|down".
Result<Request, std::string> decode_nic_link(u32 seq, std::string_view args) {
    Request request{seq, Command::NicLink};
    auto adapter_text = take_word(args);
    auto adapter = parse_number<unsigned>(adapter_text);
    if (!adapter || adapter_text.size() != 1 || *adapter > MAX_NIC)
        return std::string("nic-link: the adapter is not 0-3");
    request.slot = *adapter;
    if (args == "up")
        request.link_up = true;
    else if (args == "down")
        request.link_up = false;
    else
        return "nic-link: wants up or down, not '" + cut(args) + "'";
    return request;
}

} // namespace

std::string_view command_name(Command command) {
    for (auto const& [value, name] : COMMANDS)
        if (value == command) return name;
    return "?";
}

std::string_view event_name(Event event) {
    for (auto const& [value, name] : EVENTS)
        if (value == event) return name;
    return "?";
}

std::string_view video_mode_name(VideoMode mode) {
    for (auto const& [value, name] : VIDEO_MODES)
        if (value == mode) return name;
    return "?";
}

std::string_view run_state_name(RunState state) {
    return state == RunState::Paused ? "paused" : "running";
}

std::string encode_path(std::string_view path) {
    std::string out;
    for (char c : path) {
        auto byte = static_cast<unsigned char>(c);
        if (byte > 0x20 && byte < 0x7F && c != '%') {
            out += c;
        } else {
            out += '%';
            out += HEX[byte >> 4];
            out += HEX[byte & 15];
        }
    }
    return out;
}

std::optional<std::string> decode_path(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == ' ') return std::nullopt;
        if (c != '%') {
            out += c;
            continue;
        }
        if (i + 2 >= text.size()) return std::nullopt; // a cut-off %XX
        int hi = hex_value(text[i + 1]);
        int lo = hex_value(text[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out += static_cast<char>(hi << 4 | lo);
        i += 2;
    }
    if (out.empty() || out.find('\0') != std::string::npos) return std::nullopt;
    return out;
}

std::string encode(Request const& request) {
    std::string line = std::to_string(request.seq) + " " + std::string(command_name(request.command));
    std::string slot = (request.floppy ? "fd" : "") + std::to_string(request.slot);
    if (request.command == Command::InsertMedia)
        line += " " + slot + " " + encode_path(request.path);
    else if (request.command == Command::EjectMedia)
        line += " " + slot + (request.force ? " force" : "");
    else if (request.command == Command::Screenshot && !request.path.empty()) {
        line += " " + encode_path(request.path);
        if (request.text)
            line += " text";
        else if (request.width != 0 || request.height != 0)
            line += " " + std::to_string(request.width) + "x" + std::to_string(request.height);
    } else if (request.command == Command::Key) {
        line += ' ';
        for (u8 byte : request.scancodes) {
            line += LOWER_HEX[byte >> 4];
            line += LOWER_HEX[byte & 15];
        }
    } else if (request.command == Command::Mouse) {
        line += " " + std::to_string(request.dx) + " " + std::to_string(request.dy) + " " +
                std::to_string(request.dz) + " " + std::to_string(request.buttons);
    } else if (request.command == Command::NicLink) {
        line += " " + std::to_string(request.slot) + (request.link_up ? " up" : " down");
    }
    return line + "\n";
}

std::string encode(Reply const& reply) {
    std::string line = "reply " + std::to_string(reply.seq);
    if (!reply.ok) {
        line += " error";
        auto text = safe_text(reply.error);
        if (!text.empty()) line += " " + text;
    } else {
        line += " ok";
        if (reply.status)
            line += " state=" + std::string(run_state_name(reply.status->state)) +
                    " instructions=" + std::to_string(reply.status->instructions) +
                    " disk-read=" + std::to_string(reply.status->disk_read) +
                    " disk-written=" + std::to_string(reply.status->disk_written);
        else if (reply.screen)
            line += " width=" + std::to_string(reply.screen->width) +
                    " height=" + std::to_string(reply.screen->height) +
                    " mode=" + std::string(video_mode_name(reply.screen->mode));
    }
    return line + "\n";
}

std::string encode(Notification const& notification) {
    std::string line = "event " + std::string(event_name(notification.event));
    auto text = safe_text(notification.text);
    if (!text.empty()) line += " " + text;
    return line + "\n";
}

Result<Request, std::string> decode_request(std::string_view line) {
    if (auto bad = bad_line(line)) return *bad;
    std::string_view rest = line;
    auto seq_text = take_word(rest);
    auto seq = parse_number<u32>(seq_text);
    if (!seq || *seq == 0) return "bad sequence number '" + cut(seq_text) + "'";
    for (auto const& [command, name] : COMMANDS)
        if (rest == name && command != Command::InsertMedia && command != Command::EjectMedia &&
            command != Command::Key && command != Command::Mouse && command != Command::NicLink)
            return Request{*seq, command};
    std::string_view args = rest;
    auto word = take_word(args);
    if (word == "screenshot") return decode_screenshot(*seq, args);
    if (word == "key") return decode_key(*seq, args);
    if (word == "mouse") return decode_mouse(*seq, args);
    if (word == "nic-link") return decode_nic_link(*seq, args);
    if (word != "insert-media" && word != "eject-media") return "unknown command '" + cut(rest) + "'";
    Request request{*seq, word == "insert-media" ? Command::InsertMedia : Command::EjectMedia};
    auto slot_text = take_word(args);
    request.floppy = slot_text.starts_with("fd");
    if (request.floppy) slot_text.remove_prefix(2);
    auto slot = parse_number<unsigned>(slot_text);
    if (!slot || *slot > (request.floppy ? MAX_FLOPPY : MAX_SLOT))
        return std::string(word) + ": the slot is not 0-3, fd0 or fd1";
    request.slot = *slot;
    if (request.command == Command::InsertMedia) {
        auto path = decode_path(args);
        if (!path) return std::string("insert-media: a bad or empty path");
        request.path = std::move(*path);
        return request;
    }
    if (args == "force")
        request.force = true;
    else if (!args.empty())
        return "eject-media: unexpected '" + cut(args) + "'";
    return request;
}

u32 salvage_seq(std::string_view line) {
    if (line.size() + 1 > MAX_LINE) return 0;
    auto seq = parse_number<u32>(take_word(line));
    return seq ? *seq : 0;
}

Result<WorkerMessage, std::string> decode_worker_message(std::string_view line) {
    if (auto bad = bad_line(line)) return *bad;
    std::string_view rest = line;
    auto kind = take_word(rest);
    if (kind == "reply") {
        auto reply = decode_reply(rest);
        if (reply.is_error()) return reply.release_error();
        return WorkerMessage(reply.release_value());
    }
    if (kind == "event") {
        auto event = decode_event(rest);
        if (event.is_error()) return event.release_error();
        return WorkerMessage(event.release_value());
    }
    return "neither a reply nor an event: '" + cut(kind) + "'";
}

void LineReader::feed(std::string_view bytes) {
    m_buffer.append(bytes);
}

std::optional<Result<std::string, std::string>> LineReader::next() {
    for (;;) {
        if (m_report_overlong) {
            m_report_overlong = false;
            return Result<std::string, std::string>(Err{std::string("line too long")});
        }
        auto newline = m_buffer.find('\n');
        if (newline == std::string::npos) {
            if (m_buffer.size() < MAX_LINE) return std::nullopt;
            // No newline within MAX_LINE bytes: the line cannot be valid.
            // Drop what we have and the rest of it up to its newline.
            m_buffer.clear();
            if (m_discarding) return std::nullopt;
            m_discarding = true;
            m_report_overlong = true;
            continue;
        }
        std::string line = m_buffer.substr(0, newline);
        m_buffer.erase(0, newline + 1);
        if (m_discarding) {
            m_discarding = false; // the end of the overlong line
            continue;
        }
        if (line.size() + 1 > MAX_LINE)
            return Result<std::string, std::string>(Err{std::string("line too long")});
        return Result<std::string, std::string>(std::move(line));
    }
}

} // namespace vsa::control
