// SPDX-License-Identifier: GPL-2.0-or-later
// libFuzzer target for the VHD reader: an image is untrusted input (a user
// uploads it, or attaches one copied from another host), so no byte pattern
// may crash, hang or make us allocate without bound.
//
// Each input goes two ways: through the pure parsers of vhd_format.h on the
// buffer itself (footer at either end, header, layout, BAT, locator text),
// and as a file through open_disk_image and VhdImage: a few reads at the
// start, middle and end, then the deep check. A file is needed because the
// image code reads through HostFile; it lives in a private temp directory,
// so relative parent locators resolve to nothing there.
#include "services/storage/disk_image.h"
#include "services/storage/vhd_format.h"
#include "services/storage/vhd_image.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace vsa::storage;

namespace {

std::string const& image_path() {
    static std::string const path = [] {
        char dir[] = "/tmp/vsa-vhd-fuzz-XXXXXX";
        if (!mkdtemp(dir)) std::abort();
        // libFuzzer leaves through exit() at -max_total_time: tidy up then.
        static std::string const directory = dir;
        std::atexit([] {
            ::unlink((directory + "/input.vhd").c_str());
            ::rmdir(directory.c_str());
        });
        return directory + "/input.vhd";
    }();
    return path;
}

void write_file(std::string const& path, std::uint8_t const* data, std::size_t size) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) std::abort();
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::write(fd, data + done, size - done);
        if (n <= 0) std::abort();
        done += std::size_t(n);
    }
    ::close(fd);
}

void parse_buffer(std::span<std::byte const> bytes) {
    if (bytes.size() < vhd::FOOTER_SIZE) return;
    auto footer = vhd::parse_footer(bytes.last(vhd::FOOTER_SIZE));
    if (footer.is_error()) footer = vhd::parse_footer(bytes.first(vhd::FOOTER_SIZE));
    if (footer.is_error()) return;
    (void)vhd::serialize_footer(footer.value());
    std::uint64_t const offset = footer.value().data_offset;
    if (offset > bytes.size() || bytes.size() - offset < vhd::DYNAMIC_HEADER_SIZE) return;
    auto header = vhd::parse_dynamic_header(bytes.subspan(offset, vhd::DYNAMIC_HEADER_SIZE));
    if (header.is_error()) return;
    (void)vhd::serialize_dynamic_header(header.value());
    (void)vhd::utf16_to_utf8(header.value().parent_unicode_name);
    auto layout = vhd::validate_dynamic_layout(footer.value(), header.value(), bytes.size());
    if (layout.is_error()) return;
    for (auto const& locator : header.value().parent_locators) {
        std::uint64_t const at = locator.platform_data_offset;
        std::uint64_t const length =
            std::min<std::uint64_t>(locator.platform_data_length, vhd::MAX_LOCATOR_BYTES);
        if (at <= bytes.size() && bytes.size() - at >= length)
            (void)vhd::utf16le_to_utf8(bytes.subspan(at, length));
    }
    // The layout check bounds the BAT by the file size, so this is small.
    std::uint64_t const bat_at = header.value().table_offset;
    std::uint64_t const bat_length = std::uint64_t(header.value().max_table_entries) * 4;
    if (bat_at > bytes.size() || bytes.size() - bat_at < bat_length) return;
    auto bat = vhd::parse_bat(bytes.subspan(bat_at, bat_length), header.value().max_table_entries);
    (void)vhd::find_bat_problems(bat, header.value(), layout.value(), bytes.size() - vhd::FOOTER_SIZE);
}

void read_some(BlockDevice& disk) {
    std::uint64_t const sectors = disk.sector_count();
    if (sectors == 0) return;
    std::vector<std::byte> buffer(std::size_t(disk.sector_size()) * 8);
    for (std::uint64_t at : {std::uint64_t(0), sectors / 2, sectors > 8 ? sectors - 8 : 0}) {
        std::uint64_t const count = std::min<std::uint64_t>(8, sectors - at);
        (void)disk.read(at, std::span(buffer).first(count * disk.sector_size()));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    parse_buffer(std::as_bytes(std::span(data, size)));

    std::string const& path = image_path();
    write_file(path, data, size);
    (void)detect_image_format(path);
    if (auto disk = open_disk_image(path, true); disk.has_value()) read_some(*disk.value());
    if (auto vhd = VhdImage::open(path, true); vhd.has_value()) {
        read_some(*vhd.value());
        std::vector<std::string> problems;
        vhd.value()->check(problems);
        (void)vhd.value()->info();
    }
    (void)check_vhd(path);
    return 0;
}
