// SPDX-License-Identifier: GPL-2.0-or-later
// vhd_bench: one timed pass of I/O through the BlockDevice API, the way a
// disk controller drives it (synchronous, one request at a time). The image
// is opened with open_disk_image, so a .img file is a RawImage and a .vhd a
// VhdImage, and both are measured through the very same calls.
//
//   vhd_bench FILE (seqread|seqwrite|randread|randwrite) IO_BYTES COUNT [SEED]
//
// Sequential passes walk the disk from sector 0, wrapping at the end; random
// ones pick IO_BYTES-aligned offsets uniformly over the whole disk. Writes
// end with flush(), inside the timed span, so write-back caching cannot make
// a backend look faster than the host's storage. Prints one line:
//   bytes=N seconds=S mib_per_s=X iops=Y
#include "services/storage/disk_image.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
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
        std::fputs("usage: vhd_bench FILE (seqread|seqwrite|randread|randwrite) IO_BYTES COUNT [SEED]\n",
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
    auto opened = open_disk_image(argv[1], !write);
    if (opened.is_error()) {
        std::fprintf(stderr, "vhd_bench: %s\n", opened.error().message.c_str());
        return 2;
    }
    BlockDevice& disk = *opened.value();
    std::uint64_t const sector = disk.sector_size();
    if (io_bytes == 0 || io_bytes % sector != 0 || io_bytes > disk.size_bytes()) {
        std::fputs("vhd_bench: IO_BYTES must be a whole number of sectors within the disk\n", stderr);
        return 2;
    }
    std::uint64_t const slots = disk.size_bytes() / io_bytes;
    std::vector<std::byte> buffer(io_bytes);
    // Non-zero data: a backend must not get away with writing holes.
    for (std::size_t i = 0; i < buffer.size(); ++i)
        buffer[i] = std::byte(i * 131 + 7);

    std::uint64_t state = seed;
    auto const start = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < count; ++i) {
        std::uint64_t const slot = random ? splitmix64(state) % slots : i % slots;
        std::uint64_t const first = slot * io_bytes / sector;
        auto result = write ? disk.write(first, buffer) : disk.read(first, buffer);
        if (result.is_error()) {
            std::fprintf(stderr, "vhd_bench: %s\n", result.error().message.c_str());
            return 1;
        }
    }
    if (write) {
        if (auto result = disk.flush(); result.is_error()) {
            std::fprintf(stderr, "vhd_bench: %s\n", result.error().message.c_str());
            return 1;
        }
    }
    double const seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double const bytes = double(io_bytes) * double(count);
    std::printf("bytes=%.0f seconds=%.6f mib_per_s=%.1f iops=%.0f\n", bytes, seconds,
                bytes / seconds / 1048576.0, double(count) / seconds);
    return 0;
}
