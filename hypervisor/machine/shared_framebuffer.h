// SPDX-License-Identifier: GPL-2.0-or-later
// SharedFramebuffer: the guest screen in shared memory, from the VM worker
// (vsa-vm, the writer) to vsad (the reader, which serves it to the browser
// console over VNC), with per-tile change tracking.
//
// Why shared memory and not the control socket: a 1024x768 screen is 3 MiB
// and a console wants ~30 frames a second; the control protocol is text
// lines (control_protocol.h). vsad creates the memfd (create()), passes it
// to the worker (vsa-vm --framebuffer-fd=N), and both map it (attach() in
// the worker). vsad owns it: a worker that is restarted (restore from a
// saved state) can be handed the same memfd, and the header keeps counting
// frames, so the reader's "since" stays meaningful. vsad seals the size
// (F_SEAL_SHRINK/GROW), so a misbehaving worker cannot truncate the memfd
// under vsad's reads (which would be a SIGBUS in vsad).
//
// Layout (all little-endian host order; both sides are the same build):
//
//   offset 0           Header (below), padded to HEADER_BYTES (2 pages:
//                      the tile table alone is 8000 bytes)
//   offset PIXELS_OFFSET   MAX_WIDTH * MAX_HEIGHT u32 pixels, 0x00RRGGBB,
//                      row-major, stride = the current width (not
//                      MAX_WIDTH: a reader copies whole rows of a small
//                      screen as one block)
//
//   Header
//     u32 magic 'VSFB'      u32 version 1
//     u32 sequence          seqlock: odd while the writer changes anything
//                           below (geometry, frame, tile table, pixels)
//     u32 width, height     the screen in pixels (0 x 0: nothing shown)
//     u32 mode              control::VideoMode as u32
//     u64 frame             bumped by every publish that changed something
//     u64 viewer_deadline_ms  CLOCK_MONOTONIC ms until which vsad wants
//                           frames (0 = nobody watches); written by vsad
//     u64 geometry_frame    the frame in which width/height/mode last changed
//     u64 tile_frame[TILES] the frame in which each TILE x TILE tile last
//                           changed; the grid covers MAX_WIDTH x MAX_HEIGHT
//                           (2560x1600 = 40x25 tiles), indexed ty*TILES_X+tx
//
// The region has a fixed size for the largest screen (Vga::DISPI_MAX_XRES
// x DISPI_MAX_YRES, 16 MB): a mode change never remaps anything.
//
// Concurrency. One writer (the worker's VM thread), any number of readers.
// The header fields live in the mapping as plain integers accessed through
// std::atomic_ref (lock-free, hence address-free: valid across processes).
//   Writer (publish): compares the new image with the mapping tile by tile.
//   At the first difference it makes `sequence` odd, then for each changed
//   tile copies the pixels and stores tile_frame[t] = F (release), then
//   frame = F (release), then `sequence` even (release). An unchanged
//   screen touches nothing: the compare is the whole cost.
//   Reader (read_changes): takes `sequence` (even) and the header, copies
//   the tiles whose tile_frame is after `since_frame`, then re-checks
//   `sequence`; a change means a publish overlapped, and the read is
//   retried (a few times). If the retries run out, the copy may hold torn
//   tiles, but every tile being written then ends with tile_frame = a frame
//   newer than the one reported, so the next read (since the reported
//   frame) copies it again: tearing is always repaired by the next read.
//   Header values are checked (size bounds, mode) before use: the reader
//   does not trust the worker.
#pragma once

#include "hypervisor/base/result.h"
#include "hypervisor/base/types.h"
#include "hypervisor/machine/control_protocol.h"
#include "hypervisor/machine/screen_render.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace vsa {

class SharedFramebuffer {
public:
    static constexpr u32 MAGIC = 0x42465356; // "VSFB" in memory order
    static constexpr u32 VERSION = 1;
    static constexpr u32 MAX_WIDTH = 2560;  // Vga::DISPI_MAX_XRES
    static constexpr u32 MAX_HEIGHT = 1600; // Vga::DISPI_MAX_YRES
    static constexpr u32 TILE = 64;
    static constexpr u32 TILES_X = (MAX_WIDTH + TILE - 1) / TILE;
    static constexpr u32 TILES_Y = (MAX_HEIGHT + TILE - 1) / TILE;
    static constexpr u32 TILES = TILES_X * TILES_Y;
    static constexpr std::size_t PAGE = 4096;
    static constexpr std::size_t HEADER_BYTES = 2 * PAGE;
    static constexpr std::size_t PIXELS_OFFSET = HEADER_BYTES;
    static constexpr std::size_t MAPPING_BYTES = PIXELS_OFFSET + std::size_t(MAX_WIDTH) * MAX_HEIGHT * 4;

    struct Rect {
        u32 x{0}, y{0}, w{0}, h{0};
        friend bool operator==(Rect const&, Rect const&) = default;
    };

    struct FrameChanges {
        u32 width{0};
        u32 height{0};
        control::VideoMode mode{control::VideoMode::Text};
        u64 frame{0}; // pass it as since_frame to the next read_changes
        // The whole screen was copied: the size or the mode changed since
        // since_frame, or the caller's buffer did not fit, or since_frame
        // was 0 (or not a frame this buffer has seen).
        bool resized{false};
        // What changed, in pixels, clipped to the screen (tiles, not merged).
        std::vector<Rect> rects;
    };

    // vsad: a new memfd of MAPPING_BYTES, sealed against resizing, mapped,
    // with the header initialised (0 x 0 screen, frame 0, no viewers).
    static Result<SharedFramebuffer, std::string> create();
    // The worker: maps `fd` (taken over: closed with the object, or at
    // once on failure) after checking its size, magic and version.
    static Result<SharedFramebuffer, std::string> attach(int fd);

    SharedFramebuffer(SharedFramebuffer&& other) noexcept;
    SharedFramebuffer& operator=(SharedFramebuffer&& other) noexcept;
    SharedFramebuffer(SharedFramebuffer const&) = delete;
    SharedFramebuffer& operator=(SharedFramebuffer const&) = delete;
    ~SharedFramebuffer();

    int fd() const { return m_fd; }

    // CLOCK_MONOTONIC in milliseconds (the clock of viewer_deadline_ms;
    // the same in every process).
    static u64 monotonic_ms();

    // ---- writer (the worker's VM thread) ----
    // Makes the mapping show `image` (at most MAX_WIDTH x MAX_HEIGHT; a
    // larger or inconsistent image is refused and returns false): copies
    // only the tiles that differ and marks them with a new frame; a new
    // size or mode marks every tile; no difference, no new frame.
    // Returns true if a new frame was published.
    bool publish(ScreenImage const& image, control::VideoMode mode);
    // Whether vsad wants frames now (its deadline is after now_ms).
    bool viewers_wanted(u64 now_ms) const;

    // ---- reader (vsad) ----
    // Asks the worker for frames until `monotonic_ms` (0: stop).
    void want_frames_until(u64 monotonic_ms);
    // Brings `pixels` (width * height, row-major) up to date with the tiles
    // changed after since_frame, and says what changed. Nothing changed
    // (and the buffer fits): nullopt. Also nullopt when the header is
    // invalid or a publish keeps it busy for longer than a few
    // milliseconds; the caller simply asks again later.
    std::optional<FrameChanges> read_changes(u64 since_frame, std::vector<u32>& pixels) const;

private:
    SharedFramebuffer(int fd, u8* base) : m_fd(fd), m_base(base) {}
    void release();

    int m_fd{-1};
    u8* m_base{nullptr};
    // Writer side: the first publish after attach marks every tile (a
    // previous worker may have died half-way through a publish).
    bool m_published{false};
};

} // namespace vsa
