// SPDX-License-Identifier: GPL-2.0-or-later
// vsa-vhd: create, inspect, check and dump virtual disks from the shell,
// with the same code the VM workers use. Exit status: 0 success, 1 the
// operation failed (for check: problems found), 2 usage or I/O error.
#include "services/storage/disk_image.h"
#include "services/storage/vhd_image.h"
#include "services/storage/vhd_operations.h"
#include "services/storage/vhd_relink.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace vsa::storage;

namespace {

constexpr int EXIT_OK = 0;
constexpr int EXIT_FAILED = 1;
constexpr int EXIT_USAGE = 2;

int usage() {
    std::fputs("usage: vsa-vhd create (fixed|dynamic) FILE SIZE[M|G]\n"
               "       vsa-vhd create differencing FILE PARENT\n"
               "       vsa-vhd info FILE\n"
               "       vsa-vhd check FILE\n"
               "       vsa-vhd cat FILE [OFFSET LENGTH] > raw\n"
               "       vsa-vhd write FILE OFFSET < data\n"
               "       vsa-vhd compact FILE\n"
               "       vsa-vhd convert [--raw] SRC DST (fixed|dynamic)   (--raw: SRC is a raw disk image)\n"
               "       vsa-vhd merge CHILD\n"
               "       vsa-vhd merge-to CHILD DST (fixed|dynamic)\n"
               "       vsa-vhd relink CHILD PARENT    (point a differencing disk at its moved parent)\n"
               "       vsa-vhd undo create BASE       (prints the undo disk's path)\n"
               "       vsa-vhd undo commit UNDO       (merges into BASE, deletes UNDO)\n"
               "       vsa-vhd undo discard UNDO\n"
               "SIZE is in bytes unless followed by M (MiB) or G (GiB); OFFSET and LENGTH in bytes.\n",
               stderr);
    return EXIT_USAGE;
}

int fail(StorageError const& error) {
    std::fprintf(stderr, "vsa-vhd: %s\n", error.message.c_str());
    bool const io = error.kind == StorageErrorKind::Io || error.kind == StorageErrorKind::NotFound ||
                    error.kind == StorageErrorKind::Locked;
    return io ? EXIT_USAGE : EXIT_FAILED;
}

bool parse_u64(std::string_view text, std::uint64_t& value) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc{} && end == text.data() + text.size();
}

bool parse_size(std::string_view text, std::uint64_t& bytes) {
    std::uint64_t multiplier = 1;
    if (!text.empty() && (text.back() == 'M' || text.back() == 'm')) multiplier = 1024ull * 1024;
    if (!text.empty() && (text.back() == 'G' || text.back() == 'g')) multiplier = 1024ull * 1024 * 1024;
    if (multiplier != 1) text.remove_suffix(1);
    std::uint64_t value = 0;
    if (!parse_u64(text, value) || value > UINT64_MAX / multiplier) return false;
    bytes = value * multiplier;
    return true;
}

int create(std::vector<std::string> const& args) {
    if (args.size() != 4) return usage();
    std::string const& kind = args[1];
    std::string const& file = args[2];
    vsa::Result<void, StorageError> result;
    if (kind == "differencing") {
        result = VhdImage::create_differencing(file, args[3]);
    } else {
        std::uint64_t bytes = 0;
        if (!parse_size(args[3], bytes)) {
            std::fprintf(stderr, "vsa-vhd: '%s' is not a size\n", args[3].c_str());
            return EXIT_USAGE;
        }
        if (kind == "fixed")
            result = VhdImage::create_fixed(file, bytes);
        else if (kind == "dynamic")
            result = VhdImage::create_dynamic(file, bytes);
        else
            return usage();
    }
    if (result.is_error()) return fail(result.error());
    return EXIT_OK;
}

int info(std::string const& file) {
    auto format = detect_image_format(file);
    if (format.is_error()) return fail(format.error());
    if (format.value() != ImageFormat::Vhd) {
        auto image = open_disk_image(file, true);
        if (image.is_error()) return fail(image.error());
        std::printf("format: %s\nvirtual size: %llu\nsector size: %u\n",
                    std::string(image_format_name(format.value())).c_str(),
                    static_cast<unsigned long long>(image.value()->size_bytes()),
                    image.value()->sector_size());
        return EXIT_OK;
    }
    auto result = inspect_vhd(file);
    if (result.is_error()) return fail(result.error());
    VhdInfo const& i = result.value();
    std::time_t const created = std::chrono::system_clock::to_time_t(vhd::from_vhd_timestamp(i.timestamp));
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&created));
    std::printf("format: vhd\ntype: %s\nvirtual size: %llu\nfile size: %llu\nsize on host: %llu\n"
                "geometry: %u/%u/%u\nuuid: %s\ncreator: %s\ntimestamp: %s\n",
                std::string(vhd::disk_type_name(i.type)).c_str(),
                static_cast<unsigned long long>(i.virtual_size), static_cast<unsigned long long>(i.file_size),
                static_cast<unsigned long long>(i.host_allocated_bytes), i.geometry.cylinders,
                i.geometry.heads, i.geometry.sectors_per_track, vhd::uuid_string(i.unique_id).c_str(),
                i.creator.c_str(), when);
    if (i.type != vhd::DiskType::Fixed)
        std::printf("block size: %u\nallocated blocks: %u of %u\n", i.block_size, i.allocated_blocks,
                    i.total_blocks);
    if (i.type == vhd::DiskType::Differencing) {
        std::printf("parent: %s\nparent uuid: %s\n", i.parent_path.c_str(),
                    vhd::uuid_string(i.parent_unique_id).c_str());
        for (auto const& locator : i.parent_locators)
            std::printf("parent locator: %s\n", locator.c_str());
    }
    if (i.footer_recovered) std::printf("warning: trailing footer damaged, using the copy at offset 0\n");
    return EXIT_OK;
}

int check(std::string const& file) {
    auto result = check_vhd(file);
    if (result.is_error()) {
        std::fprintf(stderr, "vsa-vhd: %s\n", result.error().message.c_str());
        return EXIT_USAGE;
    }
    for (auto const& problem : result.value())
        std::fprintf(stderr, "problem: %s\n", problem.c_str());
    if (!result.value().empty()) return EXIT_FAILED;
    std::fprintf(stderr, "%s: no problems found\n", file.c_str());
    return EXIT_OK;
}

bool all_zero(std::vector<std::byte> const& buffer, std::size_t length) {
    for (std::size_t i = 0; i < length; ++i)
        if (buffer[i] != std::byte{0}) return false;
    return true;
}

int cat(std::vector<std::string> const& args) {
    if (args.size() != 2 && args.size() != 4) return usage();
    auto opened = open_disk_image(args[1], true);
    if (opened.is_error()) return fail(opened.error());
    BlockDevice& disk = *opened.value();
    std::uint64_t const sector = disk.sector_size();
    std::uint64_t offset = 0;
    std::uint64_t length = disk.size_bytes();
    if (args.size() == 4) {
        if (!parse_u64(args[2], offset) || !parse_u64(args[3], length)) return usage();
        if (offset % sector != 0 || length % sector != 0 || offset > disk.size_bytes() ||
            length > disk.size_bytes() - offset) {
            std::fprintf(stderr, "vsa-vhd: the range must be sector-aligned and inside the disk\n");
            return EXIT_USAGE;
        }
    }
    // Into a regular file, runs of zeros become holes, so exporting a mostly
    // empty 127 GB disk does not write 127 GB.
    struct stat st {};
    bool const sparse = ::fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode);
    std::uint64_t out_position = sparse ? std::uint64_t(::lseek(STDOUT_FILENO, 0, SEEK_CUR)) : 0;
    std::vector<std::byte> buffer(1024 * 1024);
    std::uint64_t done = 0;
    while (done < length) {
        std::size_t const chunk = std::size_t(std::min<std::uint64_t>(buffer.size(), length - done));
        auto read = disk.read((offset + done) / sector, std::span(buffer).first(chunk));
        if (read.is_error()) return fail(read.error());
        if (sparse && all_zero(buffer, chunk)) {
            out_position += chunk;
            if (::lseek(STDOUT_FILENO, off_t(out_position), SEEK_SET) < 0) return EXIT_USAGE;
        } else {
            std::size_t written = 0;
            while (written < chunk) {
                ssize_t n = ::write(STDOUT_FILENO, buffer.data() + written, chunk - written);
                if (n <= 0) {
                    std::fprintf(stderr, "vsa-vhd: cannot write the output: %s\n", std::strerror(errno));
                    return EXIT_USAGE;
                }
                written += std::size_t(n);
            }
            out_position += chunk;
        }
        done += chunk;
    }
    if (sparse && ::ftruncate(STDOUT_FILENO, off_t(out_position)) != 0) return EXIT_USAGE;
    return EXIT_OK;
}

// Any offset and length: partial sectors are read, patched and written back.
int write(std::vector<std::string> const& args) {
    if (args.size() != 3) return usage();
    std::uint64_t offset = 0;
    if (!parse_u64(args[2], offset)) return usage();
    std::vector<std::byte> data;
    std::byte chunk[65536];
    for (;;) {
        ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            std::fprintf(stderr, "vsa-vhd: cannot read the input: %s\n", std::strerror(errno));
            return EXIT_USAGE;
        }
        if (n == 0) break;
        data.insert(data.end(), chunk, chunk + n);
    }
    auto opened = open_disk_image(args[1], false);
    if (opened.is_error()) return fail(opened.error());
    BlockDevice& disk = *opened.value();
    std::uint64_t const sector = disk.sector_size();
    if (offset > disk.size_bytes() || data.size() > disk.size_bytes() - offset) {
        std::fprintf(stderr, "vsa-vhd: %zu bytes at offset %llu do not fit in the disk (%llu bytes)\n",
                     data.size(), static_cast<unsigned long long>(offset),
                     static_cast<unsigned long long>(disk.size_bytes()));
        return EXIT_FAILED;
    }
    if (data.empty()) return EXIT_OK;
    std::uint64_t const first = offset / sector;
    std::uint64_t const last = (offset + data.size() - 1) / sector;
    std::vector<std::byte> span_buffer((last - first + 1) * sector);
    auto head = disk.read(first, std::span(span_buffer).first(sector));
    auto tail = disk.read(last, std::span(span_buffer).last(sector));
    if (head.is_error()) return fail(head.error());
    if (tail.is_error()) return fail(tail.error());
    std::memcpy(span_buffer.data() + (offset - first * sector), data.data(), data.size());
    auto written = disk.write(first, span_buffer);
    if (written.is_error()) return fail(written.error());
    auto flushed = disk.flush();
    if (flushed.is_error()) return fail(flushed.error());
    return EXIT_OK;
}

// A percentage on stderr, redrawn in place, for a person watching.
Progress terminal_progress() {
    if (!::isatty(STDERR_FILENO)) return {};
    return Progress{[](std::uint32_t percent) {
        std::fprintf(stderr, "\r%3u%%", percent);
        if (percent == 100) std::fputc('\n', stderr);
        return true;
    }};
}

bool parse_target(std::string const& text, vhd::DiskType& type) {
    if (text == "fixed")
        type = vhd::DiskType::Fixed;
    else if (text == "dynamic")
        type = vhd::DiskType::Dynamic;
    else
        return false;
    return true;
}

int operation(std::vector<std::string> const& args) {
    std::string const& command = args[0];
    vsa::Result<void, StorageError> result;
    vhd::DiskType type{};
    if (command == "compact" && args.size() == 2)
        result = compact(args[1], terminal_progress());
    else if (command == "merge" && args.size() == 2)
        result = merge(args[1], terminal_progress());
    else if (command == "convert" && args.size() == 4 && parse_target(args[3], type))
        result = convert(args[1], args[2], type, terminal_progress());
    else if (command == "convert" && args.size() == 5 && args[1] == "--raw" && parse_target(args[4], type))
        result = convert_raw(args[2], args[3], type, terminal_progress());
    else if (command == "merge-to" && args.size() == 4 && parse_target(args[3], type))
        result = merge_to(args[1], args[2], type, terminal_progress());
    else
        return usage();
    if (result.is_error()) {
        if (::isatty(STDERR_FILENO)) std::fputc('\n', stderr);
        return fail(result.error());
    }
    return EXIT_OK;
}

// Undo disks (.vud), as a VM with Undoable set uses them: a differencing
// disk over the base that is kept, committed or discarded at shutdown.
int undo(std::vector<std::string> const& args) {
    if (args.size() != 3) return usage();
    std::string const& action = args[1];
    if (action == "create") {
        auto created = create_undo_disk(args[2]);
        if (created.is_error()) return fail(created.error());
        std::printf("%s\n", created.value().c_str());
        return EXIT_OK;
    }
    vsa::Result<void, StorageError> result;
    if (action == "commit")
        result = commit_undo_disk(args[2], terminal_progress());
    else if (action == "discard")
        result = discard_undo_disk(args[2]);
    else
        return usage();
    if (result.is_error()) {
        if (::isatty(STDERR_FILENO)) std::fputc('\n', stderr);
        return fail(result.error());
    }
    return EXIT_OK;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) return usage();
    std::string const& command = args[0];
    if (command == "create") return create(args);
    if (command == "info" && args.size() == 2) return info(args[1]);
    if (command == "check" && args.size() == 2) return check(args[1]);
    if (command == "cat") return cat(args);
    if (command == "write") return write(args);
    if (command == "undo") return undo(args);
    if (command == "relink" && args.size() == 3) {
        auto result = relink_parent(args[1], args[2]);
        return result.is_error() ? fail(result.error()) : EXIT_OK;
    }
    if (command == "compact" || command == "convert" || command == "merge" || command == "merge-to")
        return operation(args);
    return usage();
}
