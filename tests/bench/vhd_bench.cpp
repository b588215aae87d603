// SPDX-License-Identifier: GPL-2.0-or-later
// vhd_bench: one timed pass of I/O through the BlockDevice API, the way a
// disk controller drives it (synchronous, one request at a time). An image
// is opened with open_disk_image, so a .img file is a RawImage and a .vhd a
// VhdImage, and all are measured through the very same calls.
//
//   vhd_bench FILE[,FILE...] (seqread|seqwrite|randread|randwrite) IO_BYTES COUNT [SEED]
//
// Sequential passes walk the disk from sector 0, wrapping at the end; random
// ones pick IO_BYTES-aligned offsets uniformly over the whole disk. Writes
// end with flush(), inside the timed span, so write-back caching cannot make
// a backend look faster than the host's storage.
//
// With several files, each request goes to every image in turn (the same
// offset, the first image rotating from request to request) and each image
// is timed on its own calls only; the flushes at the end go in an order
// rotated by SEED. A slow spell of the host then falls on all images alike
// instead of on whichever pass it happened to hit, which is what lets a
// noisy shared machine compare two backends to a few percent.
// Prints one line per file:
//   file=F bytes=N seconds=S mib_per_s=X iops=Y
#include "services/storage/disk_image.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace vsa::storage;

namespace {

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t x = (state += 0x9E37'79B9'7F4A'7C15ull);
    x = (x ^ (x >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D0'49BB'1331'11EBull;
    return x ^ (x >> 31);
}

bool parse(std::string_view text, std::uint64_t& value) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc{} && end == text.data() + text.size();
}

} // namespace

int main(int argc, char** argv) {
    std::uint64_t io_bytes = 0, count = 0, seed = 1;
    if (argc < 5 || !parse(argv[3], io_bytes) || !parse(argv[4], count) ||
        (argc > 5 && !parse(argv[5], seed))) {
        std::fputs("usage: vhd_bench FILE[,FILE...] (seqread|seqwrite|randread|randwrite) IO_BYTES COUNT "
                   "[SEED]\n",
                   stderr);
        return 2;
    }
    std::string_view const mode = argv[2];
    bool const write = mode == "seqwrite" || mode == "randwrite";
    bool const random = mode == "randread" || mode == "randwrite";
    if (!write && !random && mode != "seqread") {
        std::fprintf(stderr, "vhd_bench: unknown mode '%s'\n", argv[2]);
        return 2;
    }
    std::vector<std::string> files;
    for (std::string_view list = argv[1]; !list.empty();) {
        std::size_t const comma = list.find(',');
        files.emplace_back(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    std::vector<std::unique_ptr<BlockDevice>> disks;
    for (auto const& file : files) {
        auto opened = open_disk_image(file, !write);
        if (opened.is_error()) {
            std::fprintf(stderr, "vhd_bench: %s\n", opened.error().message.c_str());
            return 2;
        }
        disks.push_back(opened.release_value());
    }
    if (disks.empty()) return 2;
    // Requests cover the smallest disk, so every image gets the same ones.
    std::uint64_t const sector = disks.front()->sector_size();
    std::uint64_t size = disks.front()->size_bytes();
    for (auto const& disk : disks) {
        size = std::min(size, disk->size_bytes());
        if (disk->sector_size() != sector) {
            std::fputs("vhd_bench: the images have different sector sizes\n", stderr);
            return 2;
        }
    }
    if (io_bytes == 0 || io_bytes % sector != 0 || io_bytes > size) {
        std::fputs("vhd_bench: IO_BYTES must be a whole number of sectors within the disk\n", stderr);
        return 2;
    }
    std::uint64_t const slots = size / io_bytes;
    // Page-aligned, as guest RAM (and qemu-img bench's buffer) is: a 1 MiB
    // vector from malloc starts 16 bytes into a page, and on this host the
    // kernel then copies out of the page cache at a sixth of the speed,
    // which made every cached read here look slow next to QEMU's.
    std::size_t const buffer_bytes = (io_bytes + 4095) / 4096 * 4096;
    std::unique_ptr<std::byte, decltype(&std::free)> memory(
        static_cast<std::byte*>(std::aligned_alloc(4096, buffer_bytes)), &std::free);
    if (!memory) return 2;
    std::span<std::byte> const buffer(memory.get(), io_bytes);
    // Non-zero data: a backend must not get away with writing holes.
    for (std::size_t i = 0; i < buffer.size(); ++i)
        buffer[i] = std::byte(i * 131 + 7);

    using Clock = std::chrono::steady_clock;
    std::size_t const n = disks.size();
    std::vector<Clock::duration> spent(n, Clock::duration::zero());
    auto fail = [](StorageError const& error) {
        std::fprintf(stderr, "vhd_bench: %s\n", error.message.c_str());
        return 1;
    };
    std::uint64_t state = seed;
    for (std::uint64_t i = 0; i < count; ++i) {
        std::uint64_t const slot = random ? splitmix64(state) % slots : i % slots;
        std::uint64_t const first = slot * io_bytes / sector;
        for (std::size_t k = 0; k < n; ++k) {
            std::size_t const which = (i + k) % n;
            auto const start = Clock::now();
            auto result = write ? disks[which]->write(first, buffer) : disks[which]->read(first, buffer);
            spent[which] += Clock::now() - start;
            if (result.is_error()) return fail(result.error());
        }
    }
    if (write) {
        for (std::size_t k = 0; k < n; ++k) {
            std::size_t const which = (seed + k) % n;
            auto const start = Clock::now();
            auto result = disks[which]->flush();
            spent[which] += Clock::now() - start;
            if (result.is_error()) return fail(result.error());
        }
    }
    double const bytes = double(io_bytes) * double(count);
    for (std::size_t k = 0; k < n; ++k) {
        double const seconds = std::chrono::duration<double>(spent[k]).count();
        std::printf("file=%s bytes=%.0f seconds=%.6f mib_per_s=%.1f iops=%.0f\n", files[k].c_str(), bytes,
                    seconds, bytes / seconds / 1048576.0, double(count) / seconds);
    }
    return 0;
}
