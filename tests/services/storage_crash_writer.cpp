// SPDX-License-Identifier: GPL-2.0-or-later
// storage_crash_writer: the victim and the judge of storage_crash_test.py.
//
//   create-dynamic FILE SIZE_MIB BLOCK_KIB   a dynamic VHD with a chosen block
//                                            size (small blocks make the writer
//                                            allocate all the time)
//   create-diff FILE PARENT                  a differencing VHD on PARENT
//   write FILE SEED COUNT FLUSH_EVERY [--trace | --crash-at N MODE CRASH_SEED]
//                                            COUNT random writes; "ACK n" on
//                                            stdout after each flush returns
//   verify FILE SEED ACKED MAYBE [BASE] [--rw]
//
// --trace prints every change the image file sees ("OP n KIND offset
// length", KIND one of data, bitmap, footer, bat, fdatasync, fsync,
// truncate, preallocate), so the caller can aim at each kind of step.
// --crash-at N stops the writer just before change N, as a crash would:
//   kill        SIGKILL only; what was written stays (the page cache outlives
//               a process), as when a VM process dies;
//   power-all   first undoes every write since the last sync, file size
//               included: a host power cut that lost the whole write cache;
//   power-some  undoes a random part of them, 4 KiB page by page, and puts
//               the file size back to what it was after a random one of the
//               unsynced changes: a cut that lost some of it.
// Both power modes then SIGKILL too. Reads after them see exactly what the
// host's disk would hold after the cut.
//
// Every write is derived from (SEED, sequence number), and every sector it
// writes holds a pattern of (SEED, sequence, LBA), so verify can recompute
// what each sector must hold without a log: the last acknowledged write to
// it, or the base (zeros, or BASE's content for a differencing child). The
// writes after the last ACK up to MAYBE were perhaps in flight when the
// writer was killed; a sector they touch may hold any of their patterns
// instead (a killed pwrite can land partly, but in whole pages, so sector
// by sector). --rw opens for writing, which repairs a footer lost in a crash,
// so the caller can check the image again afterwards.
#include "services/storage/disk_image.h"
#include "services/storage/vhd_image.h"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

using namespace vsa::storage;

namespace {

constexpr std::uint32_t SECTOR = 512;
constexpr std::uint64_t CHUNK_SECTORS = 2048; // 1 MiB reads while verifying

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E37'79B9'7F4A'7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58'476D'1CE4'E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D0'49BB'1331'11EBull;
    return x ^ (x >> 31);
}

struct WriteOp {
    std::uint64_t lba;
    std::uint32_t sectors;
};

// Mostly small writes anywhere on the disk, some of 1 MiB: small ones
// allocate blocks one at a time, large ones span block boundaries.
WriteOp write_op(std::uint64_t seed, std::uint32_t seq, std::uint64_t sector_count) {
    std::uint64_t const r1 = splitmix64(seed * 0x1000'0000'01ull + seq);
    std::uint64_t const r2 = splitmix64(r1);
    std::uint32_t sectors = (r2 % 8 == 0) ? 2048 : std::uint32_t(1 + (r2 >> 8) % 128);
    std::uint64_t const lba = r1 % sector_count;
    if (lba + sectors > sector_count) sectors = std::uint32_t(sector_count - lba);
    return {lba, sectors};
}

void fill_sector(std::byte* out, std::uint64_t seed, std::uint32_t seq, std::uint64_t lba) {
    std::uint64_t const key = splitmix64(seed ^ (std::uint64_t(seq) << 40) ^ lba);
    for (std::uint32_t i = 0; i < SECTOR / 8; ++i) {
        std::uint64_t const word = splitmix64(key + i);
        std::memcpy(out + i * 8, &word, 8);
    }
}

bool parse(std::string_view text, std::uint64_t& value) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc{} && end == text.data() + text.size();
}

int fail(char const* what, StorageError const& error) {
    std::fprintf(stderr, "storage_crash_writer: %s: %s\n", what, error.message.c_str());
    return 2;
}

enum class CrashMode { None, Trace, Kill, PowerAll, PowerSome };

// Sees every change to the image (HostFileObserver), names it, keeps an
// undo log of what has not been synced, and crashes on cue.
class FaultInjector final : public HostFileObserver {
public:
    FaultInjector(std::string path, CrashMode mode, std::uint64_t crash_at, std::uint64_t crash_seed)
        : m_path(std::move(path)), m_mode(mode), m_crash_at(crash_at), m_random(crash_seed) {}
    ~FaultInjector() override {
        HostFile::set_observer(nullptr);
        if (m_fd >= 0) ::close(m_fd);
    }
    FaultInjector(FaultInjector const&) = delete;
    FaultInjector& operator=(FaultInjector const&) = delete;

    // What the image looks like, to tell its BAT, bitmaps and footers apart.
    bool learn_layout() {
        auto image = VhdImage::open(m_path, true);
        if (image.is_error()) return false;
        auto const& header = image.value()->dynamic_header();
        m_bat_begin = header.table_offset;
        m_bat_end = header.table_offset + vhd::bat_bytes(header);
        m_block_bytes = std::uint64_t(vhd::bitmap_bytes(header)) + header.block_size;
        m_fd = ::open(m_path.c_str(), O_RDWR | O_CLOEXEC);
        if (m_fd < 0) return false;
        m_size = std::uint64_t(::lseek(m_fd, 0, SEEK_END));
        return true;
    }

    void before_change(HostFile const& file, Change change, std::uint64_t offset,
                       std::span<std::byte const> data) override {
        if (file.path() != m_path) return;
        ++m_count;
        char const* kind = name(change, offset, data);
        if (m_mode == CrashMode::Trace) {
            char line[96];
            int const length =
                std::snprintf(line, sizeof line, "OP %llu %s %llu %zu\n", (unsigned long long)m_count, kind,
                              (unsigned long long)offset, data.size());
            (void)!::write(STDOUT_FILENO, line, std::size_t(length));
        }
        if (m_mode != CrashMode::None && m_mode != CrashMode::Trace && m_count == m_crash_at) crash();
        record(change, offset, data);
    }

private:
    struct Page {
        std::uint64_t offset;
        std::vector<std::byte> old; // what the page held before the write
    };

    char const* name(Change change, std::uint64_t offset, std::span<std::byte const> data) {
        switch (change) {
        case Change::Sync:
            return "fsync";
        case Change::SyncData:
            return "fdatasync";
        case Change::Truncate:
            return "truncate";
        case Change::Preallocate:
            return "preallocate";
        case Change::Write:
            break;
        }
        if (offset >= m_bat_begin && offset < m_bat_end) return "bat";
        if (data.size() == SECTOR && std::memcmp(data.data(), "conectix", 8) == 0) {
            // A footer past the end announces a new block just before it:
            // its bitmap, and the write that puts the bitmap (and zeros
            // before it) where the old footer was.
            if (offset >= m_size && offset >= m_block_bytes && m_size >= SECTOR) {
                m_bitmap_writes.push_back(offset - m_block_bytes);
                m_bitmap_writes.push_back(m_size - SECTOR);
            }
            return "footer";
        }
        if (std::find(m_bitmap_writes.begin(), m_bitmap_writes.end(), offset) != m_bitmap_writes.end())
            return "bitmap";
        return "data";
    }

    // The undo log: pages written and sizes since the last sync.
    void record(Change change, std::uint64_t offset, std::span<std::byte const> data) {
        if (change == Change::Sync || change == Change::SyncData) {
            m_pages.clear();
            m_sizes.clear();
            return;
        }
        if (m_sizes.empty()) m_sizes.push_back(m_size);
        std::uint64_t begin = offset, end = offset;
        if (change == Change::Write) {
            end = offset + data.size();
        } else if (change == Change::Truncate && offset < m_size) {
            end = m_size; // a shrink cuts off what lay beyond
        }
        for (std::uint64_t page = begin / 4096 * 4096; page < end; page += 4096) {
            Page saved{page, std::vector<std::byte>(4096)};
            ssize_t const got = ::pread(m_fd, saved.old.data(), 4096, off_t(page));
            if (got < 0) saved.old.clear(); // never expected; the undo then skips it
            m_pages.push_back(std::move(saved));
        }
        if (change == Change::Write)
            m_size = std::max(m_size, end);
        else if (change == Change::Truncate || change == Change::Preallocate)
            m_size = change == Change::Truncate ? offset : std::max(m_size, offset);
        m_sizes.push_back(m_size);
    }

    [[noreturn]] void crash() {
        if (m_mode == CrashMode::PowerAll || m_mode == CrashMode::PowerSome) {
            bool const all = m_mode == CrashMode::PowerAll;
            // Newest first, so an older page's content wins where both are
            // undone: the state before either write.
            for (auto it = m_pages.rbegin(); it != m_pages.rend(); ++it) {
                if (!all && m_random() % 2 == 0) continue;
                if (!it->old.empty())
                    (void)!::pwrite(m_fd, it->old.data(), it->old.size(), off_t(it->offset));
            }
            if (!m_sizes.empty()) {
                std::uint64_t const size = all ? m_sizes.front() : m_sizes[m_random() % m_sizes.size()];
                (void)!::ftruncate(m_fd, off_t(size));
            }
        }
        std::raise(SIGKILL);
        std::abort();
    }

    std::string m_path;
    CrashMode m_mode;
    std::uint64_t m_crash_at;
    std::mt19937_64 m_random;
    int m_fd{-1};
    std::uint64_t m_count{0};
    std::uint64_t m_size{0};
    std::uint64_t m_bat_begin{0}, m_bat_end{0}, m_block_bytes{0};
    std::vector<std::uint64_t> m_bitmap_writes; // offsets
    std::vector<Page> m_pages;
    std::vector<std::uint64_t> m_sizes; // after the last sync, then after each change since
};

int write_mode(std::string const& path, std::uint64_t seed, std::uint64_t count, std::uint64_t flush_every,
               FaultInjector* injector) {
    if (injector) {
        if (!injector->learn_layout()) {
            std::fputs("storage_crash_writer: cannot read the image's layout\n", stderr);
            return 2;
        }
        HostFile::set_observer(injector);
    }
    auto opened = open_disk_image(path, false);
    if (opened.is_error()) return fail("open", opened.error());
    auto& disk = *opened.value();
    std::vector<std::byte> buffer;
    for (std::uint32_t seq = 1; seq <= count; ++seq) {
        WriteOp const op = write_op(seed, seq, disk.sector_count());
        buffer.resize(std::size_t(op.sectors) * SECTOR);
        for (std::uint32_t i = 0; i < op.sectors; ++i)
            fill_sector(buffer.data() + std::size_t(i) * SECTOR, seed, seq, op.lba + i);
        if (auto result = disk.write(op.lba, buffer); result.is_error()) return fail("write", result.error());
        if (seq % flush_every == 0 || seq == count) {
            if (auto result = disk.flush(); result.is_error()) return fail("flush", result.error());
            // write(2), not stdio: the line must be in the pipe before the
            // next write starts, and nothing may sit in a buffer at SIGKILL.
            char line[32];
            int const length = std::snprintf(line, sizeof line, "ACK %u\n", seq);
            if (::write(STDOUT_FILENO, line, std::size_t(length)) != length) return 2;
        }
    }
    return 0;
}

int verify_mode(std::string const& path, std::uint64_t seed, std::uint64_t acked, std::uint64_t maybe,
                std::string const& base_path, bool read_write) {
    auto opened = open_disk_image(path, !read_write);
    if (opened.is_error()) return fail("open", opened.error());
    auto& disk = *opened.value();
    std::unique_ptr<BlockDevice> base;
    if (!base_path.empty()) {
        auto base_opened = open_disk_image(base_path, true);
        if (base_opened.is_error()) return fail("open base", base_opened.error());
        base = base_opened.release_value();
    }

    std::uint64_t const sectors = disk.sector_count();
    std::vector<std::uint32_t> last(sectors, 0); // 0: the base content
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> in_flight;
    for (std::uint32_t seq = 1; seq <= maybe; ++seq) {
        WriteOp const op = write_op(seed, seq, sectors);
        for (std::uint64_t lba = op.lba; lba < op.lba + op.sectors; ++lba) {
            if (seq <= acked)
                last[lba] = seq;
            else
                in_flight[lba].push_back(seq);
        }
    }

    std::vector<std::byte> got(CHUNK_SECTORS * SECTOR);
    std::vector<std::byte> base_data(CHUNK_SECTORS * SECTOR);
    std::byte expected[SECTOR];
    std::uint64_t bad = 0;
    for (std::uint64_t first = 0; first < sectors; first += CHUNK_SECTORS) {
        std::uint64_t const n = std::min(CHUNK_SECTORS, sectors - first);
        std::span<std::byte> view(got.data(), n * SECTOR);
        if (auto result = disk.read(first, view); result.is_error()) return fail("read", result.error());
        std::span<std::byte> base_view(base_data.data(), n * SECTOR);
        if (base) {
            if (auto result = base->read(first, base_view); result.is_error())
                return fail("read base", result.error());
        } else {
            std::fill(base_view.begin(), base_view.end(), std::byte{0});
        }
        for (std::uint64_t i = 0; i < n; ++i) {
            std::uint64_t const lba = first + i;
            std::byte const* sector = got.data() + i * SECTOR;
            if (last[lba] == 0)
                std::memcpy(expected, base_data.data() + i * SECTOR, SECTOR);
            else
                fill_sector(expected, seed, last[lba], lba);
            if (std::memcmp(sector, expected, SECTOR) == 0) continue;
            bool matched = false;
            if (auto it = in_flight.find(lba); it != in_flight.end()) {
                for (std::uint32_t seq : it->second) {
                    fill_sector(expected, seed, seq, lba);
                    if (std::memcmp(sector, expected, SECTOR) == 0) matched = true;
                }
            }
            if (matched) continue;
            if (++bad <= 10)
                std::fprintf(stderr, "sector %llu: not what write %u left there\n", (unsigned long long)lba,
                             last[lba]);
        }
    }
    if (read_write) {
        if (auto result = disk.flush(); result.is_error()) return fail("flush", result.error());
    }
    if (bad != 0) {
        std::fprintf(stderr, "%llu sectors differ (acked %llu, maybe up to %llu)\n", (unsigned long long)bad,
                     (unsigned long long)acked, (unsigned long long)maybe);
        return 1;
    }
    return 0;
}

int usage() {
    std::fputs("usage: storage_crash_writer create-dynamic FILE SIZE_MIB BLOCK_KIB\n"
               "       storage_crash_writer create-diff FILE PARENT\n"
               "       storage_crash_writer write FILE SEED COUNT FLUSH_EVERY\n"
               "                            [--trace | --crash-at N kill|power-all|power-some CRASH_SEED]\n"
               "       storage_crash_writer verify FILE SEED ACKED MAYBE [BASE] [--rw]\n",
               stderr);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) return usage();
    std::string const& mode = args[0];
    std::uint64_t a = 0, b = 0, c = 0;
    if (mode == "create-dynamic" && args.size() == 4 && parse(args[2], a) && parse(args[3], b)) {
        auto result = VhdImage::create_dynamic(args[1], a * 1024 * 1024, std::uint32_t(b * 1024));
        return result.is_error() ? fail("create", result.error()) : 0;
    }
    if (mode == "create-diff" && args.size() == 3) {
        auto result = VhdImage::create_differencing(args[1], args[2]);
        return result.is_error() ? fail("create", result.error()) : 0;
    }
    if (mode == "write" && args.size() >= 5 && parse(args[2], a) && parse(args[3], b) && parse(args[4], c) &&
        c > 0 && b < UINT32_MAX) {
        if (args.size() == 5) return write_mode(args[1], a, b, c, nullptr);
        std::uint64_t at = 0, crash_seed = 0;
        if (args.size() == 6 && args[5] == "--trace") {
            FaultInjector injector(args[1], CrashMode::Trace, 0, 0);
            return write_mode(args[1], a, b, c, &injector);
        }
        if (args.size() == 9 && args[5] == "--crash-at" && parse(args[6], at) && at > 0 &&
            parse(args[8], crash_seed)) {
            CrashMode const crash = args[7] == "kill"         ? CrashMode::Kill
                                    : args[7] == "power-all"  ? CrashMode::PowerAll
                                    : args[7] == "power-some" ? CrashMode::PowerSome
                                                              : CrashMode::None;
            if (crash != CrashMode::None) {
                FaultInjector injector(args[1], crash, at, crash_seed);
                return write_mode(args[1], a, b, c, &injector);
            }
        }
    }
    if (mode == "verify" && args.size() >= 5 && parse(args[2], a) && parse(args[3], b) && parse(args[4], c) &&
        b <= c && c < UINT32_MAX) {
        bool read_write = false;
        std::string base;
        for (std::size_t i = 5; i < args.size(); ++i) {
            if (args[i] == "--rw")
                read_write = true;
            else
                base = args[i];
        }
        return verify_mode(args[1], a, b, c, base, read_write);
    }
    return usage();
}
