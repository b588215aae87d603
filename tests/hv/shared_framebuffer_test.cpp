// SPDX-License-Identifier: GPL-2.0-or-later
// The shared framebuffer in one process: vsad's side (create, read) and
// the worker's (attach a dup of the fd, publish) on two mappings of one
// memfd, as across the two processes. Round trips, per-tile changes,
// resizes, a writer and a reader thread racing, refused descriptors, and
// what a render + publish costs.
#include "hypervisor/machine/shared_framebuffer.h"

#include "hw/vga.h"
#include "hypervisor/io/clock.h"
#include "hypervisor/io/io_bus.h"
#include "hypervisor/io/memory_map.h"
#include "hypervisor/io/pci.h"
#include "tests/machine/vga_test_rig.h"

#include <boost/test/unit_test.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

using namespace vsa;
using Rect = SharedFramebuffer::Rect;

namespace {

struct Pair {
    SharedFramebuffer reader = SharedFramebuffer::create().release_value();
    SharedFramebuffer writer = SharedFramebuffer::attach(::dup(reader.fd())).release_value();
};

ScreenImage image(u32 width, u32 height, u32 seed) {
    ScreenImage out{width, height, std::vector<u32>(std::size_t(width) * height)};
    for (std::size_t i = 0; i < out.pixels.size(); ++i)
        out.pixels[i] = static_cast<u32>((i * 2654435761u + seed) & 0xFFFFFF);
    return out;
}

// The pixels of `rect` set to `value`.
void fill(ScreenImage& img, Rect rect, u32 value) {
    for (u32 y = rect.y; y < rect.y + rect.h; ++y)
        for (u32 x = rect.x; x < rect.x + rect.w; ++x)
            img.pixels[std::size_t(y) * img.width + x] = value;
}

} // namespace

BOOST_AUTO_TEST_SUITE(shared_framebuffer)

BOOST_AUTO_TEST_CASE(fresh_buffer_is_empty_and_unwatched) {
    Pair p;
    std::vector<u32> pixels;
    // 0 x 0 screen, frame 0: nothing to read since frame 0 ... except the
    // size, which a reader with since 0 always takes.
    auto first = p.reader.read_changes(0, pixels);
    BOOST_REQUIRE(first.has_value());
    BOOST_TEST(first->width == 0u);
    BOOST_TEST(first->frame == 0u);
    BOOST_TEST(first->rects.empty());
    u64 now = SharedFramebuffer::monotonic_ms();
    BOOST_TEST(!p.writer.viewers_wanted(now));
    p.reader.want_frames_until(now + 1000);
    BOOST_TEST(p.writer.viewers_wanted(now));
    BOOST_TEST(!p.writer.viewers_wanted(now + 1000));
    p.reader.want_frames_until(0);
    BOOST_TEST(!p.writer.viewers_wanted(now));
}

BOOST_AUTO_TEST_CASE(round_trip_and_changed_tiles_only) {
    Pair p;
    auto screen = image(720, 400, 1);
    BOOST_TEST(p.writer.publish(screen, control::VideoMode::Text));
    std::vector<u32> pixels;
    auto full = p.reader.read_changes(0, pixels);
    BOOST_REQUIRE(full.has_value());
    BOOST_TEST(full->width == 720u);
    BOOST_TEST(full->height == 400u);
    BOOST_TEST((full->mode == control::VideoMode::Text));
    BOOST_TEST(full->resized);
    BOOST_TEST(full->frame == 1u);
    BOOST_TEST(full->rects.size() == std::size_t(12 * 7)); // 720/64 -> 12, 400/64 -> 7
    BOOST_TEST(pixels == screen.pixels);
    // Edge tiles are clipped to the screen.
    BOOST_TEST((full->rects.back() == Rect{704, 384, 16, 16}));

    // Nothing changed: no new frame, nothing to read.
    BOOST_TEST(!p.writer.publish(screen, control::VideoMode::Text));
    BOOST_TEST(!p.reader.read_changes(full->frame, pixels).has_value());

    // Two pixels in two tiles: exactly those tiles.
    screen.pixels[std::size_t(5) * 720 + 70] = 0xABCDEF;    // tile (1, 0)
    screen.pixels[std::size_t(399) * 720 + 719] = 0x123456; // tile (11, 6)
    BOOST_TEST(p.writer.publish(screen, control::VideoMode::Text));
    auto delta = p.reader.read_changes(full->frame, pixels);
    BOOST_REQUIRE(delta.has_value());
    BOOST_TEST(!delta->resized);
    BOOST_TEST(delta->frame == 2u);
    BOOST_REQUIRE(delta->rects.size() == 2u);
    BOOST_TEST((delta->rects[0] == Rect{64, 0, 64, 64}));
    BOOST_TEST((delta->rects[1] == Rect{704, 384, 16, 16}));
    BOOST_TEST(pixels == screen.pixels);

    // A reader that is two frames behind gets the union.
    fill(screen, Rect{0, 0, 10, 10}, 0x111111);
    BOOST_TEST(p.writer.publish(screen, control::VideoMode::Text));
    auto from_one = p.reader.read_changes(1, pixels);
    BOOST_REQUIRE(from_one.has_value());
    BOOST_TEST(from_one->rects.size() == 3u);
    BOOST_TEST(pixels == screen.pixels);

    // A buffer of the wrong size (a new reader) gets the whole screen.
    std::vector<u32> other(3, 0);
    auto refill = p.reader.read_changes(from_one->frame, other);
    BOOST_REQUIRE(refill.has_value());
    BOOST_TEST(refill->resized);
    BOOST_TEST(other == screen.pixels);
}

BOOST_AUTO_TEST_CASE(resize_and_mode_change_mark_every_tile) {
    Pair p;
    std::vector<u32> pixels;
    BOOST_TEST(p.writer.publish(image(720, 400, 1), control::VideoMode::Text));
    auto first = p.reader.read_changes(0, pixels).value();
    auto big = image(1024, 768, 2);
    BOOST_TEST(p.writer.publish(big, control::VideoMode::Svga));
    auto second = p.reader.read_changes(first.frame, pixels);
    BOOST_REQUIRE(second.has_value());
    BOOST_TEST(second->resized);
    BOOST_TEST(second->width == 1024u);
    BOOST_TEST((second->mode == control::VideoMode::Svga));
    BOOST_TEST(second->rects.size() == std::size_t(16 * 12));
    BOOST_TEST(pixels == big.pixels);

    // Same pixels, another mode (800x600 vs 600x800 would look the same
    // size): the reader is told to take everything.
    BOOST_TEST(p.writer.publish(big, control::VideoMode::Vga));
    auto third = p.reader.read_changes(second->frame, pixels);
    BOOST_REQUIRE(third.has_value());
    BOOST_TEST(third->resized);
    BOOST_TEST((third->mode == control::VideoMode::Vga));

    // Transposed size: same pixel count, still a resize.
    auto tall = image(768, 1024, 3);
    BOOST_TEST(p.writer.publish(tall, control::VideoMode::Vga));
    auto fourth = p.reader.read_changes(third->frame, pixels);
    BOOST_REQUIRE(fourth.has_value());
    BOOST_TEST(fourth->resized);
    BOOST_TEST(fourth->width == 768u);
    BOOST_TEST(pixels == tall.pixels);

    // The largest screen fits; a larger or inconsistent image is refused.
    auto max = image(SharedFramebuffer::MAX_WIDTH, SharedFramebuffer::MAX_HEIGHT, 4);
    BOOST_TEST(p.writer.publish(max, control::VideoMode::Svga));
    auto fifth = p.reader.read_changes(fourth->frame, pixels);
    BOOST_REQUIRE(fifth.has_value());
    BOOST_TEST(fifth->rects.size() == std::size_t(SharedFramebuffer::TILES));
    BOOST_TEST(pixels == max.pixels);
    BOOST_TEST(!p.writer.publish(image(SharedFramebuffer::MAX_WIDTH + 1, 8, 5), control::VideoMode::Svga));
    ScreenImage broken{16, 16, std::vector<u32>(10)};
    BOOST_TEST(!p.writer.publish(broken, control::VideoMode::Svga));
    BOOST_TEST(!p.reader.read_changes(fifth->frame, pixels).has_value());
}

BOOST_AUTO_TEST_CASE(a_new_writer_republishes_everything) {
    // A restarted worker attaches to the same memfd: frames keep counting,
    // and its first publish marks every tile (its predecessor may have died
    // in the middle of one).
    Pair p;
    std::vector<u32> pixels;
    auto screen = image(640, 480, 1);
    BOOST_TEST(p.writer.publish(screen, control::VideoMode::Vga));
    auto first = p.reader.read_changes(0, pixels).value();
    auto second_writer = SharedFramebuffer::attach(::dup(p.reader.fd())).release_value();
    BOOST_TEST(second_writer.publish(screen, control::VideoMode::Vga));
    auto again = p.reader.read_changes(first.frame, pixels);
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(again->frame == first.frame + 1);
    BOOST_TEST(again->rects.size() == std::size_t(10 * 8));
    BOOST_TEST(pixels == screen.pixels);
}

BOOST_AUTO_TEST_CASE(moved_objects_keep_one_owner) {
    auto created = SharedFramebuffer::create();
    BOOST_REQUIRE(created.has_value());
    SharedFramebuffer a = created.release_value();
    int fd = a.fd();
    SharedFramebuffer b = std::move(a);
    BOOST_TEST(b.fd() == fd);
    BOOST_TEST(a.fd() == -1);
    std::vector<u32> pixels;
    BOOST_TEST(!a.read_changes(0, pixels).has_value());
    BOOST_TEST(!a.publish(image(8, 8, 1), control::VideoMode::Text));
    a = std::move(b);
    BOOST_TEST(a.fd() == fd);
}

BOOST_AUTO_TEST_CASE(attach_refuses_what_is_not_a_framebuffer) {
    // Not a descriptor at all.
    BOOST_TEST(SharedFramebuffer::attach(-1).is_error());
    // The wrong size.
    int small = ::memfd_create("small", MFD_CLOEXEC);
    BOOST_REQUIRE(small >= 0);
    BOOST_REQUIRE(::ftruncate(small, 4096) == 0);
    auto refused = SharedFramebuffer::attach(small); // closes it
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(refused.error().find("byte memory file") != std::string::npos);
    // The right size without the header vsad writes.
    int blank = ::memfd_create("blank", MFD_CLOEXEC);
    BOOST_REQUIRE(blank >= 0);
    BOOST_REQUIRE(::ftruncate(blank, static_cast<off_t>(SharedFramebuffer::MAPPING_BYTES)) == 0);
    auto no_magic = SharedFramebuffer::attach(blank);
    BOOST_REQUIRE(no_magic.is_error());
    BOOST_TEST(no_magic.error().find("magic") != std::string::npos);
    // A good one with a future version.
    Pair p;
    u32 version = 2;
    BOOST_REQUIRE(::pwrite(p.reader.fd(), &version, sizeof version, 4) == sizeof version);
    auto future = SharedFramebuffer::attach(::dup(p.reader.fd()));
    BOOST_REQUIRE(future.is_error());
    BOOST_TEST(future.error().find("version") != std::string::npos);
    // vsad's memfd cannot be resized by the worker.
    BOOST_TEST(::ftruncate(p.reader.fd(), 4096) != 0);
}

BOOST_AUTO_TEST_CASE(hostile_header_is_not_trusted) {
    // A worker that scribbles a huge size into the header: the reader
    // refuses it instead of reading past the mapping.
    Pair p;
    BOOST_TEST(p.writer.publish(image(64, 64, 1), control::VideoMode::Text));
    u32 huge = 100000;
    BOOST_REQUIRE(::pwrite(p.reader.fd(), &huge, sizeof huge, 12) == sizeof huge); // width
    std::vector<u32> pixels;
    BOOST_TEST(!p.reader.read_changes(0, pixels).has_value());
    BOOST_TEST(pixels.empty());
    // A sequence stuck odd (a writer that died half-way): the reader gives
    // up after a few milliseconds instead of spinning.
    u32 odd = 7;
    BOOST_REQUIRE(::pwrite(p.reader.fd(), &odd, sizeof odd, 8) == sizeof odd);
    BOOST_TEST(!p.reader.read_changes(0, pixels).has_value());
}

BOOST_AUTO_TEST_CASE(concurrent_writer_and_reader) {
    // The writer flips between sizes and scribbles tiles; the reader must
    // never see a size that was not published, and once the writer is done
    // one more read gives exactly the final image (tearing repaired).
    Pair p;
    std::atomic<bool> done{false};
    ScreenImage final_image;
    std::thread writer([&] {
        std::mt19937 rng(3);
        ScreenImage a = image(320, 200, 1), b = image(640, 480, 2);
        for (int i = 0; i < 400; ++i) {
            ScreenImage& img = (i / 50) % 2 ? b : a;
            u32 x = rng() % img.width, y = rng() % img.height;
            fill(img, Rect{x, y, std::min(100u, img.width - x), std::min(50u, img.height - y)},
                 static_cast<u32>(rng() & 0xFFFFFF));
            p.writer.publish(img, (i / 50) % 2 ? control::VideoMode::Vga : control::VideoMode::Cga);
            if (i == 399) final_image = img;
        }
        done.store(true);
    });
    std::vector<u32> pixels;
    u64 since = 0;
    unsigned reads = 0;
    while (!done.load()) {
        auto changes = p.reader.read_changes(since, pixels);
        if (!changes) continue;
        ++reads;
        if (changes->frame == 0) continue; // before the first publish: 0 x 0
        bool small =
            changes->width == 320 && changes->height == 200 && changes->mode == control::VideoMode::Cga;
        bool large =
            changes->width == 640 && changes->height == 480 && changes->mode == control::VideoMode::Vga;
        BOOST_TEST((small || large));
        BOOST_TEST(pixels.size() == std::size_t(changes->width) * changes->height);
        BOOST_TEST(changes->frame >= since);
        since = changes->frame;
    }
    writer.join();
    auto last = p.reader.read_changes(since, pixels);
    if (last) since = last->frame;
    BOOST_TEST(pixels == final_image.pixels);
    BOOST_TEST(!p.reader.read_changes(since, pixels).has_value());
    BOOST_TEST_MESSAGE("concurrent: " << reads << " reads during 400 publishes");
}

// ---- what a frame costs the worker ----

namespace {

constexpr PhysAddr LFB_BASE = test::VgaTestRig::LFB_BASE;

struct VgaRig : test::VgaTestRig {
    VgaRig() : VgaTestRig(16 * MiB) {}
    // Mode 3 (80x25, 9x16 cells = 720x400), a full screen of text.
    void text_mode() {
        out8(0x3C2, 0x67);
        seq(0x01, 0x00);
        seq(0x02, 0x03);
        seq(0x03, 0x00);
        seq(0x04, 0x02);
        gc(0x05, 0x10);
        gc(0x06, 0x0E);
        crtc(0x11, 0x00);
        crtc(0x01, 0x4F);
        crtc(0x07, 0x1F);
        crtc(0x09, 0x4F);
        crtc(0x12, 0x8F);
        crtc(0x13, 0x28);
        crtc(0x0C, 0x00);
        crtc(0x0D, 0x00);
        crtc(0x17, 0xA3);
        for (u8 i = 0; i < 16; ++i)
            attr(i, i);
        attr(0x12, 0x0F);
        attr(0x10, 0x0C);
        for (u32 i = 0; i < 80 * 25; ++i) {
            memory->write(0xB8000 + 2 * i, Width::Byte, 'A' + i % 26);
            memory->write(0xB8000 + 2 * i + 1, Width::Byte, 0x1E);
        }
    }
    void vbe_mode(u16 width, u16 height) {
        pci.config_write(2, 0, pci::BAR0, Width::Dword, static_cast<u32>(LFB_BASE));
        pci.config_write(2, 0, pci::COMMAND, Width::Word, pci::COMMAND_MEMORY | pci::COMMAND_IO);
        dispi(Vga::DISPI_XRES, width);
        dispi(Vga::DISPI_YRES, height);
        dispi(Vga::DISPI_BPP, 32);
        dispi(Vga::DISPI_ENABLE, Vga::DISPI_ENABLED | Vga::DISPI_LFB_ENABLED);
        for (u32 i = 0; i < u32(width) * height; i += 7)
            memory->write(LFB_BASE + u64(i) * 4, Width::Dword, i * 2654435761u);
    }
};

// Milliseconds per call of `work`, the mean of `rounds`.
template <typename F>
double mean_ms(int rounds, F&& work) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i)
        work();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
           rounds;
}

void measure(char const* what, VgaRig& rig) {
    Pair p;
    auto mode = screen_info(rig.vga).mode;
    // The first publish copies everything; the ones after it find nothing
    // changed (an idle screen: render + compare).
    double first = mean_ms(1, [&] { p.writer.publish(render_screen(rig.vga), mode); });
    double render = mean_ms(10, [&] { (void)render_screen(rig.vga); });
    ScreenImage image = render_screen(rig.vga);
    double idle_publish = mean_ms(10, [&] { p.writer.publish(image, mode); });
    std::vector<u32> pixels;
    double full_read = mean_ms(1, [&] { (void)p.reader.read_changes(0, pixels); });
    BOOST_TEST(pixels == image.pixels);
    BOOST_TEST_MESSAGE(what << " " << image.width << "x" << image.height << ": render " << render
                            << " ms, publish unchanged " << idle_publish << " ms, first render+publish "
                            << first << " ms, full read " << full_read << " ms");
}

} // namespace

BOOST_AUTO_TEST_CASE(render_and_publish_cost) {
    // Figures for the report, not limits (this build may be Debug with
    // sanitizers: a release build is several times faster).
    {
        VgaRig rig;
        rig.text_mode();
        BOOST_TEST(render_screen(rig.vga).width == 720u);
        measure("text", rig);
    }
    {
        VgaRig rig;
        rig.vbe_mode(1024, 768);
        BOOST_TEST(render_screen(rig.vga).width == 1024u);
        measure("vbe 32bpp", rig);
    }
}

BOOST_AUTO_TEST_SUITE_END()
