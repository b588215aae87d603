// SPDX-License-Identifier: GPL-2.0-or-later
// The vsad <-> vsa-vm control protocol: every message survives an encode ->
// decode round trip, the decoders refuse anything else with a reason, and
// no byte sequence (random, truncated, overlong, NULs) makes the line
// splitter or a decoder crash or grow without bound.
#include "hypervisor/machine/control_channel.h"
#include "hypervisor/machine/control_protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <vector>

using namespace vsa;
using namespace vsa::control;

namespace {

std::string strip_newline(std::string line) {
    BOOST_REQUIRE(!line.empty() && line.back() == '\n');
    line.pop_back();
    return line;
}

WorkerMessage decode_ok(std::string const& line) {
    auto message = decode_worker_message(strip_newline(line));
    BOOST_REQUIRE_MESSAGE(message.has_value(), line + " -> " + (message.is_error() ? message.error() : ""));
    return message.value();
}

std::vector<std::string> all_lines(LineReader& reader, std::size_t& errors) {
    std::vector<std::string> lines;
    while (auto line = reader.next()) {
        if (line->is_error())
            ++errors;
        else
            lines.push_back(line->value());
    }
    return lines;
}

} // namespace

BOOST_AUTO_TEST_SUITE(control_protocol)

BOOST_AUTO_TEST_CASE(requests_round_trip) {
    for (auto command :
         {Command::Pause, Command::Resume, Command::Reset, Command::Save, Command::TurnOff, Command::Query}) {
        for (u32 seq : {1u, 42u, 0xFFFF'FFFFu}) {
            Request request{seq, command};
            auto line = encode(request);
            auto decoded = decode_request(strip_newline(line));
            BOOST_REQUIRE_MESSAGE(decoded.has_value(), line);
            BOOST_TEST((decoded.value() == request));
        }
    }
    BOOST_TEST(encode(Request{7, Command::TurnOff}) == "7 turn-off\n");
    BOOST_TEST(encode(Request{8, Command::PowerButton}) == "8 power-button\n");
}

// Media requests carry a slot and a path of any bytes: spaces, '%',
// non-ASCII and control bytes survive the percent encoding.
BOOST_AUTO_TEST_CASE(media_requests_round_trip) {
    std::vector<Request> requests;
    for (std::string path : {std::string("/srv/iso/debian.iso"), std::string("/a b/100% c.iso"),
                             std::string("/t\xc3\xa9st/\x01\x7f\xff.iso"), std::string("%41")}) {
        Request r{9, Command::InsertMedia};
        r.slot = 3;
        r.path = path;
        requests.push_back(r);
    }
    Request eject{10, Command::EjectMedia};
    eject.slot = 1;
    requests.push_back(eject);
    eject.force = true;
    requests.push_back(eject);
    for (auto const& request : requests) {
        auto line = encode(request);
        // The encoded path is one word of printable ASCII.
        if (request.command == Command::InsertMedia)
            BOOST_TEST(std::count(line.begin(), line.end(), ' ') == 3);
        BOOST_TEST(std::all_of(line.begin(), line.end() - 1, [](char c) { return c >= 0x20 && c < 0x7F; }));
        auto decoded = decode_request(strip_newline(line));
        BOOST_REQUIRE_MESSAGE(decoded.has_value(),
                              line << " -> " << (decoded.is_error() ? decoded.error() : ""));
        BOOST_TEST((decoded.value() == request));
    }
    Request spaced{11, Command::InsertMedia};
    spaced.slot = 2;
    spaced.path = "/a b/100%.iso";
    BOOST_TEST(encode(spaced) == "11 insert-media 2 /a%20b/100%25.iso\n");
    BOOST_TEST(encode(eject) == "10 eject-media 1 force\n");
    BOOST_TEST(decode_path("%4").has_value() == false);
    BOOST_TEST(decode_path("%zz").has_value() == false);
    BOOST_TEST(decode_path("a%00b").has_value() == false);
}

// Floppy drives are slots fd0 and fd1; the IDE slots keep their numbers.
BOOST_AUTO_TEST_CASE(floppy_media_requests) {
    Request insert{15, Command::InsertMedia};
    insert.floppy = true;
    insert.slot = 1;
    insert.path = "/srv/fd/dos 6.vfd";
    Request eject{16, Command::EjectMedia};
    eject.floppy = true;
    BOOST_TEST(encode(insert) == "15 insert-media fd1 /srv/fd/dos%206.vfd\n");
    BOOST_TEST(encode(eject) == "16 eject-media fd0\n");
    for (auto const& request : {insert, eject}) {
        auto decoded = decode_request(strip_newline(encode(request)));
        BOOST_REQUIRE(decoded.has_value());
        BOOST_TEST((decoded.value() == request));
    }
    auto ide = decode_request("17 eject-media 1");
    BOOST_REQUIRE(ide.has_value());
    BOOST_TEST(!ide.value().floppy);
    BOOST_TEST(ide.value().slot == 1u);
    for (std::string bad : {"1 insert-media fd2 /a.vfd", "1 eject-media fd", "1 eject-media fdx",
                            "1 insert-media fd0", "1 eject-media fd-1", "1 eject-media 4"}) {
        auto decoded = decode_request(bad);
        BOOST_TEST(decoded.is_error(), bad);
    }
}

// screenshot: bare (size and mode only), with a path (full size), with a
// path and a scale target, with a path for the text; the reply carries the
// screen's size and mode.
BOOST_AUTO_TEST_CASE(screenshot_round_trip) {
    Request bare{12, Command::Screenshot};
    Request full = bare;
    full.path = "/run/vsa/shot 1.png";
    Request thumb = full;
    thumb.width = 64;
    thumb.height = 48;
    Request text = full;
    text.text = true;
    for (auto const& request : {bare, full, thumb, text}) {
        auto line = encode(request);
        auto decoded = decode_request(strip_newline(line));
        BOOST_REQUIRE_MESSAGE(decoded.has_value(),
                              line << " -> " << (decoded.is_error() ? decoded.error() : ""));
        BOOST_TEST((decoded.value() == request));
    }
    BOOST_TEST(encode(bare) == "12 screenshot\n");
    BOOST_TEST(encode(thumb) == "12 screenshot /run/vsa/shot%201.png 64x48\n");
    BOOST_TEST(encode(text) == "12 screenshot /run/vsa/shot%201.png text\n");

    for (auto mode : {VideoMode::Text, VideoMode::Cga, VideoMode::Vga, VideoMode::Svga}) {
        Reply reply{13, true, "", std::nullopt, ScreenInfo{720, 400, mode}};
        auto message = decode_ok(encode(reply));
        BOOST_REQUIRE(std::holds_alternative<Reply>(message));
        BOOST_TEST((std::get<Reply>(message) == reply));
    }
    BOOST_TEST(encode(Reply{14, true, "", std::nullopt, ScreenInfo{1024, 768, VideoMode::Svga}}) ==
               "reply 14 ok width=1024 height=768 mode=svga\n");
    for (std::string bad : std::vector<std::string>{
             "1 screenshot /a.png 64", "1 screenshot /a.png 0x48", "1 screenshot /a.png 64x0",
             "1 screenshot /a.png 4097x1", "1 screenshot /a.png 64x48 more", "1 screenshot %",
             "1 screenshot /a.png x", "1 screenshot /a.png -1x5", "1 screenshot /a.png text more",
             "1 screenshot /a.png TEXT"})
        BOOST_TEST(decode_request(bad).is_error(), "accepted '" << bad << "'");
    for (std::string bad : std::vector<std::string>{
             "reply 1 ok width=1", "reply 1 ok width=1 height=2", "reply 1 ok width=1 height=2 mode=cga more",
             "reply 1 ok width=1 height=2 mode=ega", "reply 1 ok width=x height=2 mode=vga",
             "reply 1 ok width=1 depth=2 mode=vga", "reply 1 ok width= height=2 mode=vga"})
        BOOST_TEST(decode_worker_message(bad).is_error(), "accepted '" << bad << "'");
}

// Console input: scan code bytes as lower-case hex, mouse motion signed.
BOOST_AUTO_TEST_CASE(input_requests_round_trip) {
    Request up{3, Command::Key};
    up.scancodes = {0xE0, 0x75};
    BOOST_TEST(encode(up) == "3 key e075\n");
    Request up_break{4, Command::Key};
    up_break.scancodes = {0xE0, 0xF0, 0x75};
    BOOST_TEST(encode(up_break) == "4 key e0f075\n");
    Request pause_key{5, Command::Key};
    pause_key.scancodes = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
    Request longest{6, Command::Key};
    longest.scancodes.assign(MAX_KEY_BYTES, 0xAB);
    Request zero{7, Command::Key};
    zero.scancodes = {0x00};
    Request move{8, Command::Mouse};
    move.dx = -12;
    move.dy = 7;
    move.dz = 0;
    move.buttons = MOUSE_LEFT | MOUSE_MIDDLE;
    BOOST_TEST(encode(move) == "8 mouse -12 7 0 5\n");
    Request extremes{9, Command::Mouse};
    extremes.dx = -MAX_MOUSE_DELTA;
    extremes.dy = MAX_MOUSE_DELTA;
    extremes.dz = -1;
    extremes.buttons = MOUSE_BUTTONS;
    Request still{10, Command::Mouse};
    for (auto const& request : {up, up_break, pause_key, longest, zero, move, extremes, still}) {
        auto line = encode(request);
        auto decoded = decode_request(strip_newline(line));
        BOOST_REQUIRE_MESSAGE(decoded.has_value(),
                              line + " -> " + (decoded.is_error() ? decoded.error() : ""));
        BOOST_TEST((decoded.value() == request), line);
    }
    for (std::string bad : std::vector<std::string>{"1 key",
                                                    "1 key ",
                                                    "1 key e",
                                                    "1 key e07",
                                                    "1 key E075",
                                                    "1 key e0F0",
                                                    "1 key e0 75",
                                                    "1 key 0x75",
                                                    "1 key zz",
                                                    "1 key " + std::string(2 * MAX_KEY_BYTES + 2, 'a'),
                                                    "1 key-e075",
                                                    "1 mouse",
                                                    "1 mouse 1 2 3",
                                                    "1 mouse 1 2 3 4 5",
                                                    "1 mouse 1 2 3 8",
                                                    "1 mouse 1 2 3 -1",
                                                    "1 mouse 1 2 3 07",
                                                    "1 mouse 4097 0 0 0",
                                                    "1 mouse 0 -4097 0 0",
                                                    "1 mouse 0 0 99999999999 0",
                                                    "1 mouse +1 0 0 0",
                                                    "1 mouse -0 0 0 0",
                                                    "1 mouse 01 0 0 0",
                                                    "1 mouse - 0 0 0",
                                                    "1 mouse 1.5 0 0 0",
                                                    "1 mouse 1  2 3 4",
                                                    "1 mouse 1 2 3 4 ",
                                                    "1 mouse x 2 3 4"}) {
        auto decoded = decode_request(bad);
        BOOST_TEST(decoded.is_error(), "accepted '" << bad << "'");
        if (decoded.is_error()) BOOST_TEST(!decoded.error().empty());
    }
}

BOOST_AUTO_TEST_CASE(nic_link_round_trips_and_refuses_bad_lines) {
    Request down{11, Command::NicLink};
    down.slot = 2;
    down.link_up = false;
    BOOST_TEST(encode(down) == "11 nic-link 2 down\n");
    Request up{12, Command::NicLink};
    up.slot = MAX_NIC;
    BOOST_TEST(encode(up) == "12 nic-link 3 up\n");
    for (auto const& request : {down, up}) {
        auto decoded = decode_request(strip_newline(encode(request)));
        BOOST_REQUIRE(decoded.has_value());
        BOOST_TEST((decoded.value() == request));
    }
    for (std::string bad :
         {"1 nic-link", "1 nic-link 0", "1 nic-link 4 up", "1 nic-link 00 up", "1 nic-link -1 up",
          "1 nic-link 0 UP", "1 nic-link 0 up ", "1 nic-link 0 sideways", "1 nic-link x down"}) {
        auto decoded = decode_request(bad);
        BOOST_TEST(decoded.is_error(), "accepted '" << bad << "'");
    }
    // A command this worker does not know still answers its caller.
    BOOST_TEST(salvage_seq("7 nic-link 9 up") == 7u);
}

BOOST_AUTO_TEST_CASE(replies_and_events_round_trip) {
    std::vector<Reply> replies{
        {1, true, "", std::nullopt},
        {2, false, "already paused", std::nullopt},
        {0, false, "", std::nullopt},
        {3, true, "", Status{RunState::Running, 0}},
        {4, true, "", Status{RunState::Paused, 0xFFFF'FFFF'FFFF'FFFFull}},
        {5, true, "", Status{RunState::Running, 5, 1ull << 40, 0xFFFF'FFFF'FFFF'FFFFull}},
    };
    for (auto const& reply : replies) {
        auto message = decode_ok(encode(reply));
        BOOST_REQUIRE(std::holds_alternative<Reply>(message));
        BOOST_TEST((std::get<Reply>(message) == reply));
    }
    for (auto event :
         {Event::Restoring, Event::Started, Event::Paused, Event::Resumed, Event::Reset, Event::Saved,
          Event::SaveFailed, Event::PoweredOff, Event::TripleFault, Event::TurnedOff, Event::Error}) {
        for (std::string text : std::vector<std::string>{"", "disk full: /vm/a.vsv"}) {
            Notification notification{event, text};
            auto message = decode_ok(encode(notification));
            BOOST_REQUIRE(std::holds_alternative<Notification>(message));
            BOOST_TEST((std::get<Notification>(message) == notification));
        }
    }
    BOOST_TEST(encode(Reply{9, true, "", Status{RunState::Paused, 12, 1024, 512}}) ==
               "reply 9 ok state=paused instructions=12 disk-read=1024 disk-written=512\n");
    // The disk fields are optional on the wire: without them both are 0.
    auto short_reply = decode_ok("reply 9 ok state=running instructions=7\n");
    BOOST_REQUIRE(std::holds_alternative<Reply>(short_reply));
    BOOST_TEST((std::get<Reply>(short_reply).status == Status{RunState::Running, 7, 0, 0}));
    BOOST_TEST(encode(Notification{Event::TripleFault, ""}) == "event triple-fault\n");
}

BOOST_AUTO_TEST_CASE(unsafe_text_is_made_safe) {
    // A host error message may hold anything (a file name with a newline):
    // the encoder must still write exactly one decodable line.
    std::string nasty = "bad\nname\r\x01\xff" + std::string(5000, 'x');
    auto line = encode(Notification{Event::Error, nasty});
    BOOST_TEST(line.size() <= MAX_LINE);
    BOOST_TEST(line.find('\n') == line.size() - 1);
    auto message = decode_ok(line);
    auto const& text = std::get<Notification>(message).text;
    BOOST_TEST(text.starts_with("bad?name???"));
    BOOST_TEST(text.size() == MAX_TEXT);
    auto reply = encode(Reply{5, false, nasty, std::nullopt});
    BOOST_TEST(reply.size() <= MAX_LINE);
    BOOST_TEST(std::get<Reply>(decode_ok(reply)).error.size() == MAX_TEXT);
}

BOOST_AUTO_TEST_CASE(bad_requests_are_refused) {
    for (std::string bad : std::vector<std::string>{"",
                                                    "pause",
                                                    "0 pause",
                                                    "-1 pause",
                                                    "+1 pause",
                                                    "1  pause",
                                                    "1 pause ",
                                                    " 1 pause",
                                                    "1 PAUSE",
                                                    "1 paus",
                                                    "1 pause extra",
                                                    "99999999999 pause",
                                                    "4294967296 pause",
                                                    "1\tpause",
                                                    std::string("1 pa\0se", 7),
                                                    "1 turn_off",
                                                    "x query",
                                                    std::string(MAX_LINE, '1') + " query",
                                                    "1 \xc3\xa9",
                                                    "1 power-button now",
                                                    "1 insert-media",
                                                    "1 insert-media 0",
                                                    "1 insert-media 4 /x.iso",
                                                    "1 insert-media 0 /a b.iso",
                                                    "1 insert-media 0 %",
                                                    "1 insert-media -1 /x.iso",
                                                    "1 eject-media",
                                                    "1 eject-media 9",
                                                    "1 eject-media 0 gently",
                                                    "1 eject-media 0 force force"}) {
        auto decoded = decode_request(bad);
        BOOST_TEST(decoded.is_error(), "accepted '" << bad << "'");
        if (decoded.is_error()) BOOST_TEST(!decoded.error().empty());
    }
    // An unknown command still names its sequence number, so a newer
    // supervisor's request gets its error reply instead of a timeout.
    BOOST_TEST(salvage_seq("17 hibernate") == 17u);
    BOOST_TEST(salvage_seq("garbage") == 0u);
    BOOST_TEST(salvage_seq("") == 0u);
}

BOOST_AUTO_TEST_CASE(bad_worker_messages_are_refused) {
    for (std::string bad :
         std::vector<std::string>{"",
                                  "reply",
                                  "reply x ok",
                                  "reply 1",
                                  "reply 1 maybe",
                                  "reply 1 ok state=running",
                                  "reply 1 ok state=asleep instructions=1",
                                  "reply 1 ok state=running instructions=",
                                  "reply 1 ok state=running instructions=-1",
                                  "reply 1 ok state=running instructions=99999999999999999999",
                                  "reply 1 ok state=running instructions=1 more",
                                  "reply 1 ok state=running instructions=1 disk-read=1",
                                  "reply 1 ok state=running instructions=1 disk-read=x disk-written=1",
                                  "reply 1 ok state=running instructions=1 disk-written=1 disk-read=1",
                                  "reply 1 ok state=running instructions=1 disk-read=1 disk-written=2 more",
                                  "reply -1 ok",
                                  "event",
                                  "event exploded",
                                  "Event started",
                                  "hello",
                                  "reply 1 ok\r"}) {
        auto decoded = decode_worker_message(bad);
        BOOST_TEST(decoded.is_error(), "accepted '" << bad << "'");
    }
}

BOOST_AUTO_TEST_CASE(line_reader_splits_and_bounds) {
    LineReader reader;
    std::size_t errors = 0;
    // Lines may arrive in any fragments.
    std::string stream = "1 pause\n2 resume\n3 query\n";
    for (char c : stream)
        reader.feed(std::string_view(&c, 1));
    auto lines = all_lines(reader, errors);
    BOOST_TEST(errors == 0u);
    BOOST_TEST((lines == std::vector<std::string>{"1 pause", "2 resume", "3 query"}));

    // An overlong line is reported once and skipped up to its newline; the
    // next line is read normally.
    reader.feed(std::string(MAX_LINE * 3, 'a'));
    lines = all_lines(reader, errors);
    BOOST_TEST(errors == 1u);
    BOOST_TEST(lines.empty());
    reader.feed(std::string(MAX_LINE * 3, 'b'));
    lines = all_lines(reader, errors);
    BOOST_TEST(errors == 1u); // still the same line
    reader.feed("tail\n4 save\n");
    lines = all_lines(reader, errors);
    BOOST_TEST((lines == std::vector<std::string>{"4 save"}));
    // In one chunk with its newline, too.
    errors = 0;
    reader.feed(std::string(MAX_LINE + 5, 'c') + "\n5 reset\n");
    lines = all_lines(reader, errors);
    BOOST_TEST(errors == 1u);
    BOOST_TEST((lines == std::vector<std::string>{"5 reset"}));
}

BOOST_AUTO_TEST_CASE(random_bytes_never_crash) {
    std::mt19937_64 random(20240611);
    std::vector<std::string> alphabet{"1",     "9",    " ",     "\n",     "pause",         "reply",
                                      "event", "ok",   "error", "state=", "instructions=", "paused",
                                      "\0",    "\xff", "-",     "=",      "turn-off",      "query",
                                      "key",   "e0",   "F0",    "mouse",  "4096",          "0"};
    std::size_t lines_seen = 0;
    for (int round = 0; round < 2000; ++round) {
        LineReader reader;
        std::string bytes;
        auto pieces = random() % 40;
        for (unsigned i = 0; i < pieces; ++i) {
            if (random() % 4 == 0) {
                bytes.push_back(static_cast<char>(random() % 256));
            } else {
                auto const& piece = alphabet[random() % alphabet.size()];
                bytes += piece.empty() ? std::string(1, '\0') : piece;
            }
        }
        if (random() % 10 == 0) bytes += std::string(random() % (3 * MAX_LINE), 'z');
        std::size_t at = 0;
        while (at < bytes.size()) {
            auto size = std::min<std::size_t>(bytes.size() - at, 1 + random() % 64);
            reader.feed(std::string_view(bytes).substr(at, size));
            at += size;
            while (auto line = reader.next()) {
                if (line->is_error()) continue;
                ++lines_seen;
                BOOST_REQUIRE(line->value().size() < MAX_LINE);
                // Whatever decodes must re-encode to the same line.
                if (auto request = decode_request(line->value()))
                    BOOST_TEST(strip_newline(encode(request.value())) == line->value());
                (void)decode_worker_message(line->value());
                (void)salvage_seq(line->value());
            }
        }
    }
    BOOST_TEST(lines_seen > 0u);
}

// The worker's end over a real socketpair: requests reach the handler,
// garbage is answered with an error reply and does not stop the reader, and
// the supervisor's end closing is reported.
BOOST_AUTO_TEST_CASE(channel_over_a_socketpair) {
    std::array<int, 2> ends{};
    BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends.data()) == 0);
    int supervisor = ends[0];
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<Request> requests;
    bool closed = false;
    {
        ControlChannel channel(ends[1]);
        channel.start(
            [&](Request request) {
                std::lock_guard lock(mutex);
                requests.push_back(request);
                changed.notify_all();
            },
            [&] {
                std::lock_guard lock(mutex);
                closed = true;
                changed.notify_all();
            });
        std::string garbage =
            "1 pause\n\x01\x02 nonsense\n" + std::string(3000, 'q') + "\n7 dance\n2 query\n";
        BOOST_REQUIRE(::write(supervisor, garbage.data(), garbage.size()) ==
                      static_cast<ssize_t>(garbage.size()));
        {
            std::unique_lock lock(mutex);
            BOOST_REQUIRE(
                changed.wait_for(lock, std::chrono::seconds(10), [&] { return requests.size() == 2; }));
        }
        BOOST_TEST((requests[0] == Request{1, Command::Pause}));
        BOOST_TEST((requests[1] == Request{2, Command::Query}));
        channel.send(Notification{Event::Paused, ""});
        // Read back: three error replies (the control bytes, the overlong
        // line, the unknown command under its own seq), then the event.
        std::string received;
        LineReader reader;
        std::vector<std::string> lines;
        std::size_t errors = 0;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (lines.size() < 4 && std::chrono::steady_clock::now() < deadline) {
            std::array<char, 512> buffer{};
            auto n = ::read(supervisor, buffer.data(), buffer.size());
            if (n <= 0) break;
            reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
            auto more = all_lines(reader, errors);
            lines.insert(lines.end(), more.begin(), more.end());
        }
        BOOST_REQUIRE(lines.size() == 4u);
        BOOST_TEST(lines[0].starts_with("reply 0 error "));
        BOOST_TEST(lines[1].starts_with("reply 0 error line too long"));
        BOOST_TEST(lines[2].starts_with("reply 7 error unknown command"));
        BOOST_TEST(lines[3] == "event paused");
        ::close(supervisor);
        std::unique_lock lock(mutex);
        BOOST_TEST(changed.wait_for(lock, std::chrono::seconds(10), [&] { return closed; }));
    }
}

BOOST_AUTO_TEST_SUITE_END()
