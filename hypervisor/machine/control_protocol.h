// SPDX-License-Identifier: GPL-2.0-or-later
// The control protocol between vsad (the supervisor) and one vsa-vm worker,
// shared by both sides so they encode and decode the same way.
//
// Transport: a connected Unix stream socket (vsa-vm --control-fd, see
// control_channel.h for why a socketpair). Messages are text lines of
// printable ASCII ending in '\n', at most MAX_LINE bytes with the newline:
// easy to read in a trace or with socat, and a torn or hostile line is found
// at the next newline, so one bad message never desynchronises the stream.
//
//   supervisor -> worker   "<seq> <command>"
//       commands: pause, resume, reset, save, turn-off, query,
//                 power-button, insert-media <slot> <path>,
//                 eject-media <slot> [force], screenshot [<path> [<W>x<H>|text]],
//                 key <hex>, mouse <dx> <dy> <dz> <buttons>,
//                 nic-link <adapter> up|down
//   worker -> supervisor   "reply <seq> ok [state=running|paused instructions=N
//                                        [disk-read=N disk-written=N]]"
//                          "reply <seq> ok width=W height=H mode=text|cga|vga|svga"
//                          "reply <seq> error <text>"
//                          "event <name> [<text>]"
//       events: restoring, started, paused, resumed, reset, saved,
//               save-failed <text>, powered-off, triple-fault, turned-off,
//               error <text>
//
// <seq> is a decimal number from 1 to 2^32-1 the supervisor chooses; the
// reply carries it back, so a late reply to a request that timed out is
// recognised and dropped. A request the worker cannot parse gets
// "reply 0 error <why>" (its seq may be what was wrong with it). Every
// command gets exactly one reply; "query" is answered with the state fields.
//
// What each command means (the worker's side, vsa_vm_main.cpp): pause stops
// the VM thread and the virtual clock; resume restarts both; reset is a
// hard reset (the CPU and chipset restart, RAM is kept as on a real PC's
// reset button); save writes the --save-state file and the worker exits
// with status 6 after "event saved" (a failed save leaves the VM as it was:
// "event save-failed"); turn-off stops at once and exits with status 5 after
// "event turned-off"; power-button presses the ACPI power button (an ACPI
// guest shuts down and powers off: "event powered-off"); insert-media puts
// the ISO image <path> into the CD drive in IDE slot <slot> (0 primary
// master ... 3 secondary slave) and eject-media empties it, both answered
// once done (also while paused) and refused while the guest has locked the
// tray, unless "force" breaks the lock of an eject. The slots fd0 and fd1
// are the floppy drives A: and B: instead: insert-media puts a raw floppy
// image there (write-protected if the worker may not write the file), and
// eject-media takes the disk out (a floppy drive has no lock; "force" is
// accepted and changes nothing). A path travels
// percent-encoded: '%', space and any byte outside printable ASCII become
// %XX, so any file name fits the line format.
//
// screenshot answers with the guest screen's size in pixels and its kind
// of video mode; with a <path> the worker also renders the screen
// (screen_render.h) and writes it there as a PNG, scaled to W x H (1 to 4096
// each; the aspect ratio is not kept) when given, else full size. A line holds no image, so the
// picture travels through that file: the worker writes "<path>.tmp" and
// renames it, so the supervisor never reads half a PNG; the supervisor
// picks the path, reads the file and deletes it. "screenshot <path> text"
// writes the screen's text there instead (Vga::text_screen: the rows of a
// text mode as ASCII, or one line naming a graphics mode), the same way.
//
// key and mouse are the console's input (vsad's VNC server). "key <hex>"
// carries 1 to 16 bytes of PS/2 scan code set 2 as lower-case hex pairs,
// exactly as the keyboard would send them: "key e075" is cursor up pressed,
// "key e0f075" its release. The worker feeds them to the PS/2 keyboard
// (which converts them if the guest chose set 1); a key the keyboard drops
// (scanning disabled, buffer full) is still answered ok: input is
// fire-and-forget, as on a real keyboard. "mouse <dx> <dy> <dz> <buttons>"
// is one relative motion in screen orientation: dx > 0 right, dy > 0 down,
// dz > 0 the wheel towards the user (scroll down); each -4096..4096 in
// plain decimal ("-12", no '+'); buttons is the bitmask of the buttons
// held now (1 left, 2 right, 4 middle; 0..7). The worker gives it to the
// PS/2 mouse (hw/ps2_mouse.h), which reports it if the guest enabled it.
//
// "nic-link <adapter> up|down" plugs or pulls the cable of network adapter
// <adapter> (0-3, the --nic order): the NIC's PHY reports the link state
// and, while down, the adapter neither sends nor receives. vsad sends it
// when an adapter of a running VM is detached from or attached to a
// virtual network, so the guest sees what a cable pull would show.
#pragma once

#include "hypervisor/base/result.h"
#include "hypervisor/base/types.h"

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vsa::control {

// A line longer than this (newline included) is refused: no message needs
// more, and the reader's buffer stays bounded whatever the peer sends.
inline constexpr std::size_t MAX_LINE = 1024;
// Free text (error messages) is cut to fit a line with room to spare.
inline constexpr std::size_t MAX_TEXT = 900;

enum class Command {
    Pause,
    Resume,
    Reset,
    Save,
    TurnOff,
    Query,
    PowerButton,
    InsertMedia,
    EjectMedia,
    Screenshot,
    Key,
    Mouse,
    NicLink,
};

// The largest screenshot scale target (each side).
inline constexpr unsigned MAX_SCREENSHOT_SIDE = 4096;
// key: the most scan code bytes one command carries (Pause, the longest
// key sequence, has 8).
inline constexpr std::size_t MAX_KEY_BYTES = 16;
// mouse: the largest motion or wheel step per command, each way.
inline constexpr int MAX_MOUSE_DELTA = 4096;
inline constexpr unsigned MOUSE_LEFT = 1;
inline constexpr unsigned MOUSE_RIGHT = 2;
inline constexpr unsigned MOUSE_MIDDLE = 4;
inline constexpr unsigned MOUSE_BUTTONS = 7; // every button bit
// nic-link: the highest adapter index (four adapters, as Virtual Server).
inline constexpr unsigned MAX_NIC = 3;

enum class Event {
    Restoring,   // loading the saved state (before "started")
    Started,     // the machine runs (built, and restored if asked)
    Paused,      // the VM thread and the virtual clock stopped
    Resumed,     // running again after a pause
    Reset,       // hard reset done
    Saved,       // the state file is written; the worker exits (status 6)
    SaveFailed,  // the save did not happen; the VM is as it was
    PoweredOff,  // the guest turned the machine off (exit status 0)
    TripleFault, // the CPU shut down (exit status 3)
    TurnedOff,   // stopped on request (exit status 5)
    Error,       // a host error; the worker exits (status 1) after this
};

enum class RunState { Running, Paused };

struct Request {
    u32 seq{0};
    Command command{Command::Query};
    // insert-media and eject-media: the IDE slot (0-3), or with `floppy`
    // the floppy drive (0-1, on the wire "fd0"/"fd1"); nic-link: the
    // adapter (0-MAX_NIC).
    unsigned slot{0};
    bool floppy{false};
    // insert-media: the image's path; screenshot: where the PNG goes (may
    // be empty: only the size and mode). Any bytes; encoded on the wire.
    std::string path;
    // screenshot with a path: scale to width x height (0 x 0: full size).
    unsigned width{0};
    unsigned height{0};
    // eject-media: break the guest's lock.
    bool force{false};
    // screenshot with a path: write the screen's text instead of a PNG.
    bool text{false};
    // key: set 2 scan code bytes (1 to MAX_KEY_BYTES).
    std::vector<u8> scancodes;
    // mouse: motion (screen orientation, dy > 0 down), wheel (dz > 0
    // towards the user) and the buttons held (MOUSE_*).
    int dx{0};
    int dy{0};
    int dz{0};
    unsigned buttons{0};
    // nic-link: the cable plugged (true) or pulled.
    bool link_up{true};
    friend bool operator==(Request const&, Request const&) = default;
};

struct Status {
    RunState state{RunState::Running};
    u64 instructions{0};
    // Bytes through the IDE drives since power-on or reset (optional on the
    // wire: a reply without them reads as 0).
    u64 disk_read{0};
    u64 disk_written{0};
    friend bool operator==(Status const&, Status const&) = default;
};

// The kinds of video mode Virtual Server tells apart (VMDisplayVideoMode).
enum class VideoMode { Text, Cga, Vga, Svga };

struct ScreenInfo {
    u32 width{0}; // pixels
    u32 height{0};
    VideoMode mode{VideoMode::Text};
    friend bool operator==(ScreenInfo const&, ScreenInfo const&) = default;
};

struct Reply {
    u32 seq{0};
    bool ok{true};
    std::string error;                // when !ok
    std::optional<Status> status;     // the answer to "query"
    std::optional<ScreenInfo> screen; // the answer to "screenshot"
    friend bool operator==(Reply const&, Reply const&) = default;
};

struct Notification {
    Event event{Event::Started};
    std::string text; // detail for save-failed and error; may be empty
    friend bool operator==(Notification const&, Notification const&) = default;
};

using WorkerMessage = std::variant<Reply, Notification>;

std::string_view command_name(Command command);
std::string_view event_name(Event event);
std::string_view run_state_name(RunState state);
std::string_view video_mode_name(VideoMode mode);

// Encoders return the whole line, newline included. Free text is made safe
// first (control and non-ASCII bytes become '?', cut to MAX_TEXT), so an
// encoder never produces a line the decoder refuses.
std::string encode(Request const& request);
std::string encode(Reply const& reply);
std::string encode(Notification const& notification);

// Decoders take one line without its newline. They accept exactly what the
// encoders write and refuse everything else with a reason; they never
// throw, whatever the bytes.
Result<Request, std::string> decode_request(std::string_view line);
Result<WorkerMessage, std::string> decode_worker_message(std::string_view line);
// The sequence number of a request decode_request refused, when its first
// word is still a valid one (an unknown command from a newer supervisor):
// the error reply then reaches the waiting caller. Else 0.
u32 salvage_seq(std::string_view line);

// The path encoding of insert-media, exposed for tests.
std::string encode_path(std::string_view path);
std::optional<std::string> decode_path(std::string_view text);

// Splits a byte stream into lines. A line over MAX_LINE is dropped up to its
// newline and reported once as an error, so the buffer never holds more
// than MAX_LINE bytes.
class LineReader {
public:
    void feed(std::string_view bytes);
    // The next complete line (without '\n'), an error for an overlong one,
    // or nothing until more bytes arrive.
    std::optional<Result<std::string, std::string>> next();

private:
    std::string m_buffer;
    bool m_discarding{false}; // inside an overlong line, until its newline
    bool m_report_overlong{false};
};

} // namespace vsa::control
