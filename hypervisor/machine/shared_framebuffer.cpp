// SPDX-License-Identifier: GPL-2.0-or-later
// The shared framebuffer. shared_framebuffer.h has the layout and the
// seqlock protocol.
#include "hypervisor/machine/shared_framebuffer.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <utility>

namespace vsa {

namespace {

struct Header {
    u32 magic;
    u32 version;
    u32 sequence;
    u32 width;
    u32 height;
    u32 mode;
    u64 frame;
    u64 viewer_deadline_ms;
    u64 geometry_frame;
    u64 tile_frame[SharedFramebuffer::TILES];
};

static_assert(sizeof(Header) <= SharedFramebuffer::HEADER_BYTES);
static_assert(SharedFramebuffer::HEADER_BYTES % SharedFramebuffer::PAGE == 0);
static_assert(std::atomic_ref<u32>::is_always_lock_free && std::atomic_ref<u64>::is_always_lock_free,
              "the header's atomics must be lock-free to work across processes");
static_assert(alignof(Header) >= std::atomic_ref<u64>::required_alignment);

constexpr u32 MODE_COUNT = 4; // control::VideoMode's values

// A reader gives up on a header a publish keeps busy after this many tries
// (each waits a little): the caller asks again at its next frame.
constexpr int READ_ATTEMPTS = 64;

template <typename T>
std::atomic_ref<T> atomic(T& field) {
    return std::atomic_ref<T>(field);
}

std::string errno_text(char const* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

} // namespace

u64 SharedFramebuffer::monotonic_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return u64(ts.tv_sec) * 1000 + u64(ts.tv_nsec) / 1'000'000;
}

Result<SharedFramebuffer, std::string> SharedFramebuffer::create() {
    int fd = ::memfd_create("vsa-framebuffer", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return errno_text("memfd_create");
    if (::ftruncate(fd, static_cast<off_t>(MAPPING_BYTES)) != 0) {
        auto error = errno_text("ftruncate");
        ::close(fd);
        return error;
    }
    // The worker maps it too: a fixed size means neither side can make the
    // other's mapping fault past the end of the file.
    if (::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
        auto error = errno_text("sealing the framebuffer");
        ::close(fd);
        return error;
    }
    void* base = ::mmap(nullptr, MAPPING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        auto error = errno_text("mmap");
        ::close(fd);
        return error;
    }
    // A new memfd reads as zeros: only the identification is needed.
    auto* header = static_cast<Header*>(base);
    header->magic = MAGIC;
    header->version = VERSION;
    header->mode = static_cast<u32>(control::VideoMode::Text);
    atomic(header->sequence).store(0, std::memory_order_release);
    return SharedFramebuffer(fd, static_cast<u8*>(base));
}

Result<SharedFramebuffer, std::string> SharedFramebuffer::attach(int fd) {
    struct stat info {};
    if (fd < 0) return std::string("no framebuffer descriptor");
    if (::fstat(fd, &info) != 0) {
        auto error = errno_text("fstat");
        ::close(fd);
        return error;
    }
    if (!S_ISREG(info.st_mode) || static_cast<u64>(info.st_size) != MAPPING_BYTES) {
        ::close(fd);
        return "the framebuffer is not a " + std::to_string(MAPPING_BYTES) + "-byte memory file";
    }
    void* base = ::mmap(nullptr, MAPPING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        auto error = errno_text("mmap");
        ::close(fd);
        return error;
    }
    SharedFramebuffer fb(fd, static_cast<u8*>(base));
    auto const* header = static_cast<Header const*>(base);
    if (header->magic != MAGIC) return std::string("the framebuffer has a bad magic number");
    if (header->version != VERSION)
        return "the framebuffer has version " + std::to_string(header->version) + ", not " +
               std::to_string(VERSION);
    return fb;
}

SharedFramebuffer::SharedFramebuffer(SharedFramebuffer&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)), m_base(std::exchange(other.m_base, nullptr)),
      m_published(other.m_published) {}

SharedFramebuffer& SharedFramebuffer::operator=(SharedFramebuffer&& other) noexcept {
    if (this != &other) {
        release();
        m_fd = std::exchange(other.m_fd, -1);
        m_base = std::exchange(other.m_base, nullptr);
        m_published = other.m_published;
    }
    return *this;
}

SharedFramebuffer::~SharedFramebuffer() {
    release();
}

void SharedFramebuffer::release() {
    if (m_base) ::munmap(m_base, MAPPING_BYTES);
    if (m_fd >= 0) ::close(m_fd);
    m_base = nullptr;
    m_fd = -1;
}

bool SharedFramebuffer::publish(ScreenImage const& image, control::VideoMode mode) {
    if (!m_base || image.width > MAX_WIDTH || image.height > MAX_HEIGHT ||
        image.pixels.size() != std::size_t(image.width) * image.height)
        return false;
    auto* header = reinterpret_cast<Header*>(m_base);
    auto* shared = reinterpret_cast<u32*>(m_base + PIXELS_OFFSET);
    // Only this thread writes these fields: relaxed loads see our own values.
    u32 sequence = atomic(header->sequence).load(std::memory_order_relaxed);
    u64 frame = atomic(header->frame).load(std::memory_order_relaxed) + 1;
    u32 width = image.width, height = image.height;
    bool geometry = !m_published || atomic(header->width).load(std::memory_order_relaxed) != width ||
                    atomic(header->height).load(std::memory_order_relaxed) != height ||
                    atomic(header->mode).load(std::memory_order_relaxed) != static_cast<u32>(mode);
    // Odd for the whole change (a writer that died with it odd left a
    // half-written frame: the first publish redoes every tile).
    bool writing = false;
    auto begin_write = [&] {
        if (writing) return;
        writing = true;
        if (!(sequence & 1)) ++sequence;
        atomic(header->sequence).store(sequence, std::memory_order_relaxed);
        // Orders the odd sequence before every data store below (the
        // writer half of the seqlock).
        std::atomic_thread_fence(std::memory_order_release);
    };
    if (geometry) {
        begin_write();
        atomic(header->width).store(width, std::memory_order_relaxed);
        atomic(header->height).store(height, std::memory_order_relaxed);
        atomic(header->mode).store(static_cast<u32>(mode), std::memory_order_relaxed);
        atomic(header->geometry_frame).store(frame, std::memory_order_relaxed);
    }
    u32 const tiles_x = (width + TILE - 1) / TILE, tiles_y = (height + TILE - 1) / TILE;
    for (u32 ty = 0; ty < tiles_y; ++ty) {
        u32 y0 = ty * TILE, rows = std::min(TILE, height - y0);
        for (u32 tx = 0; tx < tiles_x; ++tx) {
            u32 x0 = tx * TILE, cols = std::min(TILE, width - x0);
            std::size_t row_bytes = std::size_t(cols) * sizeof(u32);
            bool changed = geometry;
            for (u32 y = y0; !changed && y < y0 + rows; ++y) {
                std::size_t at = std::size_t(y) * width + x0;
                changed = std::memcmp(&shared[at], &image.pixels[at], row_bytes) != 0;
            }
            if (!changed) continue;
            begin_write();
            for (u32 y = y0; y < y0 + rows; ++y) {
                std::size_t at = std::size_t(y) * width + x0;
                std::memcpy(&shared[at], &image.pixels[at], row_bytes);
            }
            // After the pixels: a reader that sees this frame number sees
            // them (and one that copied them half-written sees a frame
            // newer than it reported, so it copies them again).
            atomic(header->tile_frame[ty * TILES_X + tx]).store(frame, std::memory_order_release);
        }
    }
    m_published = true;
    if (!writing) return false;
    atomic(header->frame).store(frame, std::memory_order_release);
    atomic(header->sequence).store(sequence + 1, std::memory_order_release);
    return true;
}

bool SharedFramebuffer::viewers_wanted(u64 now_ms) const {
    if (!m_base) return false;
    auto* header = reinterpret_cast<Header*>(m_base);
    return now_ms < atomic(header->viewer_deadline_ms).load(std::memory_order_relaxed);
}

void SharedFramebuffer::want_frames_until(u64 monotonic_ms) {
    if (!m_base) return;
    auto* header = reinterpret_cast<Header*>(m_base);
    atomic(header->viewer_deadline_ms).store(monotonic_ms, std::memory_order_relaxed);
}

std::optional<SharedFramebuffer::FrameChanges>
SharedFramebuffer::read_changes(u64 since_frame, std::vector<u32>& pixels) const {
    if (!m_base) return std::nullopt;
    auto* header = reinterpret_cast<Header*>(m_base);
    auto const* shared = reinterpret_cast<u32 const*>(m_base + PIXELS_OFFSET);
    FrameChanges changes;
    for (int attempt = 0; attempt < READ_ATTEMPTS; ++attempt) {
        if (attempt > 0) {
            // A publish is under way (it takes a few ms at most).
            if (attempt < 8)
                ::sched_yield();
            else {
                timespec pause{0, 200'000};
                ::nanosleep(&pause, nullptr);
            }
        }
        u32 sequence = atomic(header->sequence).load(std::memory_order_acquire);
        if (sequence & 1) continue;
        u32 width = atomic(header->width).load(std::memory_order_relaxed);
        u32 height = atomic(header->height).load(std::memory_order_relaxed);
        u32 mode = atomic(header->mode).load(std::memory_order_relaxed);
        u64 frame = atomic(header->frame).load(std::memory_order_relaxed);
        u64 geometry_frame = atomic(header->geometry_frame).load(std::memory_order_relaxed);
        // The reader half of the seqlock: the loads above happen before
        // the sequence is checked again.
        std::atomic_thread_fence(std::memory_order_acquire);
        if (atomic(header->sequence).load(std::memory_order_relaxed) != sequence) continue;
        // The worker is not trusted to keep the header sane.
        if (width > MAX_WIDTH || height > MAX_HEIGHT || mode >= MODE_COUNT) return std::nullopt;
        std::size_t size = std::size_t(width) * height;
        bool full =
            since_frame == 0 || since_frame > frame || geometry_frame > since_frame || pixels.size() != size;
        if (!full && frame == since_frame) return std::nullopt;
        changes = FrameChanges{width, height, static_cast<control::VideoMode>(mode), frame, full, {}};
        if (pixels.size() != size) pixels.assign(size, 0);
        u32 const tiles_x = (width + TILE - 1) / TILE, tiles_y = (height + TILE - 1) / TILE;
        for (u32 ty = 0; ty < tiles_y; ++ty) {
            u32 y0 = ty * TILE, rows = std::min(TILE, height - y0);
            for (u32 tx = 0; tx < tiles_x; ++tx) {
                u32 x0 = tx * TILE, cols = std::min(TILE, width - x0);
                // Acquire: the pixels stored before this frame number are
                // visible below.
                u64 tile = atomic(header->tile_frame[ty * TILES_X + tx]).load(std::memory_order_acquire);
                if (!full && tile <= since_frame) continue;
                for (u32 y = y0; y < y0 + rows; ++y) {
                    std::size_t at = std::size_t(y) * width + x0;
                    std::memcpy(&pixels[at], &shared[at], std::size_t(cols) * sizeof(u32));
                }
                changes.rects.push_back(Rect{x0, y0, cols, rows});
            }
        }
        // A publish that overlapped the copy may have torn it: try again
        // (the last try's tearing is repaired by the next read, see the
        // header).
        std::atomic_thread_fence(std::memory_order_acquire);
        if (atomic(header->sequence).load(std::memory_order_relaxed) == sequence ||
            attempt == READ_ATTEMPTS - 1)
            return changes;
    }
    return std::nullopt;
}

} // namespace vsa
