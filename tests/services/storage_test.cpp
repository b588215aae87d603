// SPDX-License-Identifier: GPL-2.0-or-later
// services/storage: the VHD format to the byte (footer, header, checksum,
// geometry), then images on a temporary directory: create, read, write,
// reopen, locks, differencing chains, a dozen corrupt images that must fail
// cleanly, byte-flip fuzzing, and random I/O against an in-memory model.
#include "services/storage/disk_image.h"
#include "services/storage/host_file.h"
#include "services/storage/raw_image.h"
#include "services/storage/vhd_format.h"
#include "services/storage/vhd_image.h"
#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace vsa::storage;
using vhd::SECTOR_SIZE;

namespace {

constexpr std::uint64_t MIB = 1024 * 1024;

using vsa::test::TempDir;

using vsa::test::pattern_bytes;

std::vector<std::byte> read_all(BlockDevice& disk, std::uint64_t first, std::uint64_t count) {
    std::vector<std::byte> out(count * disk.sector_size());
    auto result = disk.read(first, out);
    BOOST_REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
    return out;
}

void write_ok(BlockDevice& disk, std::uint64_t first, std::vector<std::byte> const& data) {
    auto result = disk.write(first, data);
    BOOST_REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
}

bool all_zero(std::vector<std::byte> const& data) {
    for (auto b : data)
        if (b != std::byte{0}) return false;
    return true;
}

std::unique_ptr<VhdImage> open_ok(std::string const& path, bool read_only = false) {
    auto image = VhdImage::open(path, read_only);
    BOOST_REQUIRE_MESSAGE(image.has_value(), (image.has_value() ? "" : image.error().message));
    return image.release_value();
}

template <typename R>
void require_ok(R const& result) {
    BOOST_REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
}

std::vector<std::byte> file_bytes(std::string const& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

void put_file(std::string const& path, std::vector<std::byte> const& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<char const*>(bytes.data()), std::streamsize(bytes.size()));
}

// Rewrites both footers (end and copy at 0) after `edit`, with good checksums.
template <typename Edit>
void edit_footer(std::string const& path, Edit edit) {
    auto bytes = file_bytes(path);
    auto footer = vhd::parse_footer(std::span(bytes).last(512)).release_value();
    edit(footer);
    auto serialized = vhd::serialize_footer(footer);
    std::memcpy(bytes.data() + bytes.size() - 512, serialized.data(), 512);
    if (footer.disk_type != vhd::DiskType::Fixed) std::memcpy(bytes.data(), serialized.data(), 512);
    put_file(path, bytes);
}

template <typename Edit>
void edit_header(std::string const& path, Edit edit) {
    auto bytes = file_bytes(path);
    auto header = vhd::parse_dynamic_header(std::span(bytes).subspan(512, 1024)).release_value();
    edit(header);
    auto serialized = vhd::serialize_dynamic_header(header);
    std::memcpy(bytes.data() + 512, serialized.data(), 1024);
    put_file(path, bytes);
}

void set_bat_entry(std::string const& path, std::uint32_t index, std::uint32_t value) {
    auto bytes = file_bytes(path);
    auto header = vhd::parse_dynamic_header(std::span(bytes).subspan(512, 1024)).release_value();
    vhd::store_be32(bytes.data() + header.table_offset + 4 * index, value);
    put_file(path, bytes);
}

std::vector<std::byte> file_range(std::string const& path, std::uint64_t offset, std::size_t length) {
    std::vector<std::byte> bytes(length);
    std::ifstream in(path, std::ios::binary);
    in.seekg(std::streamoff(offset));
    in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(length));
    BOOST_REQUIRE(in.gcount() == std::streamsize(length));
    return bytes;
}

std::uint32_t bat_entry_on_disk(std::string const& path, std::uint32_t index) {
    auto header = vhd::parse_dynamic_header(file_range(path, 512, 1024)).release_value();
    return vhd::load_be32(file_range(path, header.table_offset + 4 * index, 4).data());
}

bool ends_with_footer(std::string const& path) {
    return vhd::parse_footer(file_range(path, fs::file_size(path) - 512, 512)).has_value();
}

StorageErrorKind open_error(std::string const& path, bool read_only = true) {
    auto image = VhdImage::open(path, read_only);
    BOOST_REQUIRE_MESSAGE(image.is_error(), "opening " + path + " should fail");
    BOOST_TEST_MESSAGE("refused as expected: " << image.error().message);
    BOOST_CHECK(!image.error().message.empty());
    return image.error().kind;
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage)

BOOST_AUTO_TEST_CASE(footer_round_trip_and_checksum) {
    vhd::Footer footer;
    footer.disk_type = vhd::DiskType::Dynamic;
    footer.data_offset = 512;
    footer.timestamp = 0x1234'5678;
    footer.original_size = footer.current_size = 40 * MIB;
    footer.geometry = vhd::chs_geometry(footer.current_size / 512);
    footer.unique_id = vhd::random_uuid();
    auto bytes = vhd::serialize_footer(footer);
    BOOST_TEST(std::memcmp(bytes.data(), "conectix", 8) == 0);
    // The checksum is the one's complement of the sum of all other bytes.
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i)
        if (i < 64 || i >= 68) sum += std::to_integer<std::uint32_t>(bytes[i]);
    BOOST_TEST(vhd::load_be32(bytes.data() + 64) == ~sum);
    auto parsed = vhd::parse_footer(bytes);
    require_ok(parsed);
    auto const& f = parsed.value();
    BOOST_TEST(f.current_size == footer.current_size);
    BOOST_TEST(f.data_offset == 512u);
    BOOST_TEST(f.timestamp == 0x1234'5678u);
    BOOST_TEST((f.disk_type == vhd::DiskType::Dynamic));
    BOOST_TEST((f.geometry == footer.geometry));
    BOOST_TEST((f.unique_id == footer.unique_id));
    BOOST_TEST((vhd::serialize_footer(f) == bytes));

    auto bad = bytes;
    bad[100] = std::byte{1};
    BOOST_TEST(vhd::parse_footer(bad).is_error());
    bad = bytes;
    bad[0] = std::byte{'C'};
    BOOST_TEST(vhd::parse_footer(bad).is_error());
    BOOST_TEST(vhd::parse_footer(std::span(bytes).first(100)).is_error());
}

BOOST_AUTO_TEST_CASE(dynamic_header_round_trip) {
    vhd::DynamicHeader header;
    header.table_offset = 1536;
    header.max_table_entries = 20;
    header.block_size = 512 * 1024;
    header.parent_unique_id = vhd::random_uuid();
    header.parent_timestamp = 42;
    header.parent_unicode_name = vhd::utf8_to_utf16("Parent disk é €.vhd");
    header.parent_locators[0] = {vhd::PLATFORM_W2KU, 1, 60, 2048};
    header.parent_locators[1] = {vhd::PLATFORM_W2RU, 1, 30, 2560};
    auto bytes = vhd::serialize_dynamic_header(header);
    BOOST_TEST(std::memcmp(bytes.data(), "cxsparse", 8) == 0);
    // The Unicode name is big-endian: 'P' is 00 50.
    BOOST_TEST(std::to_integer<int>(bytes[64]) == 0);
    BOOST_TEST(std::to_integer<int>(bytes[65]) == 'P');
    auto parsed = vhd::parse_dynamic_header(bytes);
    require_ok(parsed);
    BOOST_TEST(parsed.value().table_offset == 1536u);
    BOOST_TEST(parsed.value().block_size == 512u * 1024);
    BOOST_TEST(vhd::utf16_to_utf8(parsed.value().parent_unicode_name) == "Parent disk é €.vhd");
    BOOST_TEST(parsed.value().parent_locators[1].platform_data_offset == 2560u);
    BOOST_TEST((vhd::serialize_dynamic_header(parsed.value()) == bytes));

    auto bad = bytes;
    bad[900] = std::byte{7};
    BOOST_TEST(vhd::parse_dynamic_header(bad).is_error());
    header.block_size = 3 * 1024 * 1024; // not a power of two
    BOOST_TEST(vhd::parse_dynamic_header(vhd::serialize_dynamic_header(header)).is_error());
    header.block_size = 1u << 31;
    BOOST_TEST(vhd::parse_dynamic_header(vhd::serialize_dynamic_header(header)).is_error());
}

BOOST_AUTO_TEST_CASE(utf16_locators) {
    auto bytes = vhd::utf8_to_utf16le("/srv/vm/disk 😀.vhd");
    BOOST_TEST(std::to_integer<int>(bytes[0]) == '/');
    BOOST_TEST(std::to_integer<int>(bytes[1]) == 0);
    BOOST_TEST(vhd::utf16le_to_utf8(bytes) == "/srv/vm/disk 😀.vhd");
    // Malformed input degrades to U+FFFD, never crashes.
    BOOST_TEST(vhd::utf16_to_utf8(std::u16string(1, char16_t(0xD800))) == "\xEF\xBF\xBD");
    BOOST_TEST(vhd::utf8_to_utf16("\xC3").size() == 1u);
    BOOST_TEST(vhd::utf8_to_utf16("\xE2\x82").size() == 2u);
}

BOOST_AUTO_TEST_CASE(chs_geometry_follows_the_specification) {
    // Worked by hand through the specification's algorithm.
    struct Case {
        std::uint64_t bytes;
        vhd::Geometry expected;
    };
    Case const cases[] = {
        {3 * MIB, {90, 4, 17}},
        {10 * MIB, {301, 4, 17}}, // QEMU rounds its own 10M images up to 302/4/17 instead
        {40 * MIB, {963, 5, 17}},
        {500 * MIB, {1015, 16, 63}},
        {1024 * MIB, {2080, 16, 63}},
        {127ull * 1024 * MIB, {65278, 16, 255}},
        {vhd::MAX_DISK_SIZE, {65535, 16, 255}},
        {4ull * 1024 * 1024 * MIB, {65535, 16, 255}}, // clamped
    };
    for (auto const& c : cases) {
        auto g = vhd::chs_geometry(c.bytes / 512);
        BOOST_TEST_CONTEXT("size " << c.bytes) {
            BOOST_TEST(g.cylinders == c.expected.cylinders);
            BOOST_TEST(g.heads == c.expected.heads);
            BOOST_TEST(g.sectors_per_track == c.expected.sectors_per_track);
            BOOST_TEST(g.total_sectors() <= c.bytes / 512);
        }
    }
}

BOOST_AUTO_TEST_CASE(timestamps_and_uuids) {
    BOOST_TEST(std::chrono::system_clock::to_time_t(vhd::from_vhd_timestamp(0)) == 946684800);
    auto now = std::chrono::system_clock::now();
    auto ts = vhd::to_vhd_timestamp(now);
    BOOST_TEST(std::abs(std::chrono::system_clock::to_time_t(vhd::from_vhd_timestamp(ts)) -
                        std::chrono::system_clock::to_time_t(now)) <= 1);
    BOOST_TEST(vhd::to_vhd_timestamp(std::chrono::system_clock::from_time_t(0)) == 0u);
    auto a = vhd::random_uuid();
    auto b = vhd::random_uuid();
    BOOST_TEST((a != b));
    auto text = vhd::uuid_string(a);
    BOOST_TEST(text.size() == 36u);
    BOOST_TEST(text[8] == '-');
    BOOST_TEST(text[14] == '4');
}

BOOST_AUTO_TEST_CASE(fixed_disk_read_write_reopen) {
    TempDir dir;
    auto path = dir.file("fixed.vhd");
    require_ok(VhdImage::create_fixed(path, 5 * MIB));
    BOOST_TEST(fs::file_size(path) == 5 * MIB + 512);
    auto data = pattern_bytes(3 * 512, 1);
    {
        auto disk = open_ok(path);
        BOOST_TEST((disk->type() == vhd::DiskType::Fixed));
        BOOST_TEST(disk->sector_count() == 5 * MIB / 512);
        BOOST_TEST(all_zero(read_all(*disk, 0, 16)));
        write_ok(*disk, disk->sector_count() - 3, data);
        require_ok(disk->flush());
    }
    auto disk = open_ok(path, true);
    BOOST_TEST((read_all(*disk, disk->sector_count() - 3, 3) == data));
    BOOST_TEST(disk->write(0, data).is_error()); // read-only
}

BOOST_AUTO_TEST_CASE(create_refuses_bad_sizes) {
    TempDir dir;
    BOOST_TEST(
        (VhdImage::create_dynamic(dir.file("a.vhd"), 1 * MIB).error().kind == StorageErrorKind::TooSmall));
    BOOST_TEST((VhdImage::create_fixed(dir.file("b.vhd"), 3000ull * 1024 * 1024 * MIB).error().kind ==
                StorageErrorKind::TooLarge));
    BOOST_TEST((VhdImage::create_fixed(dir.file("c.vhd"), 5 * MIB + 1).error().kind ==
                StorageErrorKind::InvalidRequest));
    BOOST_TEST((VhdImage::create_dynamic(dir.file("d.vhd"), 5 * MIB, 3000).error().kind ==
                StorageErrorKind::InvalidRequest));
    require_ok(VhdImage::create_dynamic(dir.file("e.vhd"), 5 * MIB));
    BOOST_TEST(VhdImage::create_dynamic(dir.file("e.vhd"), 5 * MIB).is_error()); // exists
    BOOST_TEST(!fs::exists(dir.file("a.vhd")));
}

// A parent written after its child was made is reported by check (the
// child's "Parent Time Stamp" no longer matches).
BOOST_AUTO_TEST_CASE(check_reports_a_parent_modified_after_the_child) {
    TempDir dir;
    auto parent = dir.file("parent.vhd");
    auto child = dir.file("child.vhd");
    require_ok(VhdImage::create_dynamic(parent, 8 * MIB));
    require_ok(VhdImage::create_differencing(child, parent));
    {
        std::vector<std::string> problems;
        auto disk = VhdImage::open(child, true);
        BOOST_REQUIRE(disk.has_value());
        disk.value()->check(problems);
        BOOST_TEST(problems.empty());
    }
    fs::last_write_time(parent, fs::last_write_time(parent) + std::chrono::seconds(120));
    std::vector<std::string> problems;
    auto disk = VhdImage::open(child, true);
    BOOST_REQUIRE(disk.has_value());
    disk.value()->check(problems);
    BOOST_REQUIRE(problems.size() == 1u);
    BOOST_TEST(problems[0].find("was modified after") != std::string::npos);
}

// A fixed disk promises its whole size: more than the volume has free is
// refused before anything is written, and a created one is preallocated.
BOOST_AUTO_TEST_CASE(fixed_disk_needs_and_reserves_its_space) {
    TempDir dir;
    auto free_now = free_space_for(dir.file("x.vhd"));
    BOOST_REQUIRE(free_now.has_value());
    std::uint64_t const too_big = (free_now.value() / MIB + 64) * MIB;
    if (too_big <= 2040ull * 1024 * MIB) {
        auto refused = VhdImage::create_fixed(dir.file("big.vhd"), too_big);
        BOOST_TEST((refused.is_error() && refused.error().kind == StorageErrorKind::NoSpace));
        if (refused.is_error()) BOOST_TEST(refused.error().message.find("MiB are free") != std::string::npos);
        BOOST_TEST(!fs::exists(dir.file("big.vhd")));
    }
    require_ok(VhdImage::create_fixed(dir.file("small.vhd"), 8 * MIB));
    struct stat st {};
    BOOST_REQUIRE(::stat(dir.file("small.vhd").c_str(), &st) == 0);
    // 512-byte blocks: at least the data area is allocated (tmpfs and ext4
    // both support fallocate; a file system that cannot leaves it sparse).
    BOOST_TEST(std::uint64_t(st.st_blocks) * 512 >= 8 * MIB);
}

BOOST_AUTO_TEST_CASE(dynamic_disk_sparse_and_boundaries) {
    TempDir dir;
    auto path = dir.file("dyn.vhd");
    // Not a multiple of the 2 MIB block: the last block is partial.
    std::uint64_t const size = 5 * MIB + 7 * 512;
    require_ok(VhdImage::create_dynamic(path, size));
    auto const empty_size = fs::file_size(path);
    std::uint64_t const per_block = 4096;
    auto across = pattern_bytes(6 * 512, 2);
    auto last = pattern_bytes(7 * 512, 3);
    {
        auto disk = open_ok(path);
        BOOST_TEST(disk->sector_count() == size / 512);
        BOOST_TEST(all_zero(read_all(*disk, 0, disk->sector_count())));
        write_ok(*disk, per_block - 3, across); // straddles blocks 0 and 1
        write_ok(*disk, disk->sector_count() - 7, last);
        BOOST_TEST(disk->info().allocated_blocks == 3u);
        BOOST_TEST(disk->write(disk->sector_count() - 6, last).is_error()); // past the end
        require_ok(disk->flush());
    }
    // Header and BAT end at 2048; each block's data starts on a 4 KiB
    // boundary (aligned_block_start), its bitmap just before it.
    BOOST_TEST(empty_size == 2048u + 512);
    BOOST_TEST(fs::file_size(path) == 3 * (4096 + 2 * MIB) + 512);
    auto disk = open_ok(path, true);
    for (std::uint32_t block = 0; block < 3; ++block)
        BOOST_TEST((std::uint64_t(bat_entry_on_disk(path, block)) * 512 + 512) % 4096 == 0u);
    BOOST_TEST((read_all(*disk, per_block - 3, 6) == across));
    BOOST_TEST((read_all(*disk, disk->sector_count() - 7, 7) == last));
    BOOST_TEST(all_zero(read_all(*disk, 0, per_block - 3)));
    BOOST_TEST(all_zero(read_all(*disk, per_block + 3, 100)));
    BOOST_TEST(all_zero(read_all(*disk, 2 * per_block, 10))); // unallocated block 2
    std::vector<std::string> problems;
    disk->check(problems);
    BOOST_TEST(problems.empty());
}

BOOST_AUTO_TEST_CASE(requests_are_checked) {
    TempDir dir;
    auto path = dir.file("r.vhd");
    require_ok(VhdImage::create_dynamic(path, 4 * MIB));
    auto disk = open_ok(path);
    std::vector<std::byte> odd(100);
    BOOST_TEST((disk->read(0, odd).error().kind == StorageErrorKind::InvalidRequest));
    BOOST_TEST((disk->write(0, odd).error().kind == StorageErrorKind::InvalidRequest));
    std::vector<std::byte> one(512);
    BOOST_TEST(disk->read(disk->sector_count(), one).is_error());
    BOOST_TEST(disk->read(~0ull, one).is_error());
    BOOST_TEST(disk->read(~0ull - 1, std::span(one)).is_error());
    BOOST_TEST(disk->read(disk->sector_count() - 1, one).has_value());
    BOOST_TEST(disk->read(disk->sector_count(), std::span<std::byte>()).has_value()); // empty at the end
}

BOOST_AUTO_TEST_CASE(second_writer_is_refused) {
    TempDir dir;
    auto path = dir.file("lock.vhd");
    require_ok(VhdImage::create_dynamic(path, 4 * MIB));
    {
        auto writer = open_ok(path);
        auto second = VhdImage::open(path, false);
        BOOST_REQUIRE(second.is_error());
        BOOST_TEST((second.error().kind == StorageErrorKind::Locked));
        BOOST_TEST(second.error().message.find("in use") != std::string::npos);
        BOOST_TEST((second.error().to_service_error().code == vsa::services::hr::VM_E_HD_IMAGE_OPEN_FAIL));
        BOOST_TEST(VhdImage::open(path, true).is_error()); // no reader under a writer
    }
    auto reader1 = open_ok(path, true);
    auto reader2 = open_ok(path, true);
    BOOST_TEST(VhdImage::open(path, false).is_error());
}

BOOST_AUTO_TEST_CASE(a_disk_open_for_writing_can_still_be_described) {
    // IVMHardDisk's properties of a running VM's disk: inspect_vhd reads it
    // without a lock, while a lock-taking open is still refused.
    TempDir dir;
    auto base = dir.file("base.vhd");
    auto child = dir.file("child.vhd");
    require_ok(VhdImage::create_dynamic(base, 6 * MIB));
    require_ok(VhdImage::create_differencing(child, base));
    auto writer = open_ok(child);
    write_ok(*writer, 0, pattern_bytes(512, 9));
    BOOST_TEST((VhdImage::open(child, true).error().kind == StorageErrorKind::Locked));
    auto info = inspect_vhd(child);
    BOOST_REQUIRE(info.has_value());
    BOOST_TEST((info.value().type == vhd::DiskType::Differencing));
    BOOST_TEST(info.value().virtual_size == 6 * MIB);
    BOOST_TEST(info.value().parent_path == base);
    // Still no second writer, and nothing was written by the description.
    BOOST_TEST((VhdImage::open(child, false).error().kind == StorageErrorKind::Locked));
    BOOST_TEST((VhdImage::open(base, false).error().kind == StorageErrorKind::Locked)); // the writer's parent
}

BOOST_AUTO_TEST_CASE(differencing_chain_reads_through) {
    TempDir dir;
    auto base = dir.file("base.vhd");
    auto child = dir.file("child.vhd");
    auto grandchild = dir.file("grand.vhd");
    require_ok(VhdImage::create_dynamic(base, 6 * MIB));
    auto base_data = pattern_bytes(64 * 512, 4);
    {
        auto disk = open_ok(base);
        write_ok(*disk, 4090, base_data); // blocks 0 and 1
    }
    require_ok(VhdImage::create_differencing(child, base));
    auto child_data = pattern_bytes(3 * 512, 5);
    {
        auto disk = open_ok(child);
        BOOST_TEST((disk->type() == vhd::DiskType::Differencing));
        BOOST_TEST(disk->sector_count() == 6 * MIB / 512);
        BOOST_TEST((read_all(*disk, 4090, 64) == base_data));
        write_ok(*disk, 4095, child_data); // crosses a block and the bitmap's first byte boundary
        auto info = disk->info();
        BOOST_TEST(info.parent_path == base);
        BOOST_TEST(info.parent_locators.size() == 2u);
    }
    // The base is locked shared while the child is open: no writer under it.
    require_ok(VhdImage::create_differencing(grandchild, child));
    auto disk = open_ok(grandchild);
    BOOST_TEST(VhdImage::open(base, false).is_error());
    auto expected = base_data;
    std::memcpy(expected.data() + 5 * 512, child_data.data(), child_data.size());
    BOOST_TEST((read_all(*disk, 4090, 64) == expected));
    auto mine = pattern_bytes(512, 6);
    write_ok(*disk, 4091, mine);
    std::memcpy(expected.data() + 512, mine.data(), 512);
    BOOST_TEST((read_all(*disk, 4090, 64) == expected));
    BOOST_TEST(all_zero(read_all(*disk, 9000, 100)));
    // The base did not change.
    disk.reset();
    auto base_disk = open_ok(base, true);
    BOOST_TEST((read_all(*base_disk, 4090, 64) == base_data));
}

BOOST_AUTO_TEST_CASE(differencing_parent_found_by_relative_locator_and_name) {
    TempDir dir;
    fs::create_directories(dir.file("a"));
    require_ok(VhdImage::create_fixed(dir.file("a/parent.vhd"), 4 * MIB));
    require_ok(VhdImage::create_differencing(dir.file("a/child.vhd"), dir.file("a/parent.vhd")));
    // Move both: the absolute W2ku locator is stale, W2ru still works.
    fs::rename(dir.file("a"), dir.file("b"));
    {
        auto disk = open_ok(dir.file("b/child.vhd"));
        BOOST_TEST(disk->parent() != nullptr);
    }
    // Blank the locators: only the Unicode name (next to the child) is left.
    edit_header(dir.file("b/child.vhd"), [](vhd::DynamicHeader& h) {
        for (auto& l : h.parent_locators)
            l = {};
    });
    auto disk = open_ok(dir.file("b/child.vhd"));
    BOOST_TEST(disk->info().parent_path == dir.file("b/parent.vhd"));
}

BOOST_AUTO_TEST_CASE(differencing_parent_errors) {
    TempDir dir;
    auto parent = dir.file("p.vhd");
    auto child = dir.file("c.vhd");
    require_ok(VhdImage::create_dynamic(parent, 4 * MIB));
    require_ok(VhdImage::create_differencing(child, parent));
    // A different disk under the parent's name: UUID mismatch.
    fs::remove(parent);
    require_ok(VhdImage::create_dynamic(parent, 4 * MIB));
    BOOST_TEST((open_error(child) == StorageErrorKind::ParentMismatch));
    BOOST_TEST((VhdImage::open(child, true).error().to_service_error().code ==
                vsa::services::hr::VM_E_PARENT_CHILD_ID_MISMATCH));
    fs::remove(parent);
    BOOST_TEST((open_error(child) == StorageErrorKind::ParentNotFound));
    BOOST_TEST((VhdImage::open(child, true).error().to_service_error().code ==
                vsa::services::hr::VM_E_PARENT_PATH_NOT_FOUND));
}

BOOST_AUTO_TEST_CASE(differencing_loop_and_depth_refused) {
    TempDir dir;
    require_ok(VhdImage::create_fixed(dir.file("p.vhd"), 4 * MIB));
    require_ok(VhdImage::create_differencing(dir.file("c.vhd"), dir.file("p.vhd")));
    // The parent becomes a copy of the child, whose locators point at the
    // parent's own path: p -> p.
    fs::remove(dir.file("p.vhd"));
    fs::copy_file(dir.file("c.vhd"), dir.file("p.vhd"));
    BOOST_TEST((open_error(dir.file("c.vhd")) == StorageErrorKind::Corrupt));

    std::string previous = dir.file("d0.vhd");
    require_ok(VhdImage::create_dynamic(previous, 4 * MIB));
    for (int i = 1; i <= MAX_PARENT_DEPTH + 1; ++i) {
        std::string next = dir.file("d" + std::to_string(i) + ".vhd");
        require_ok(VhdImage::create_differencing(next, previous));
        previous = next;
    }
    BOOST_TEST((open_error(previous) == StorageErrorKind::Unsupported));
    open_ok(dir.file("d" + std::to_string(MAX_PARENT_DEPTH) + ".vhd"), true);
}

BOOST_AUTO_TEST_CASE(corrupt_images_fail_cleanly) {
    TempDir dir;
    auto fresh = [&](std::string const& name) {
        auto path = dir.file(name);
        require_ok(VhdImage::create_dynamic(path, 8 * MIB));
        auto disk = open_ok(path);
        write_ok(*disk, 0, pattern_bytes(512, 7));
        write_ok(*disk, 5000, pattern_bytes(512, 8));
        return path;
    };
    auto bad_cookie = fresh("cookie.vhd");
    {
        auto bytes = file_bytes(bad_cookie);
        bytes[bytes.size() - 512] = std::byte{'X'};
        bytes[0] = std::byte{'X'};
        put_file(bad_cookie, bytes);
    }
    BOOST_TEST((open_error(bad_cookie) == StorageErrorKind::Corrupt));
    BOOST_TEST((VhdImage::open(bad_cookie, true).error().to_service_error().code ==
                vsa::services::hr::VM_E_INVALID_HD_FILE));

    auto bad_checksum = fresh("checksum.vhd");
    {
        auto bytes = file_bytes(bad_checksum);
        bytes[bytes.size() - 512 + 48] ^= std::byte{1};
        bytes[48] ^= std::byte{1};
        put_file(bad_checksum, bytes);
    }
    BOOST_TEST((open_error(bad_checksum) == StorageErrorKind::Corrupt));

    auto bad_header_checksum = fresh("hchecksum.vhd");
    {
        auto bytes = file_bytes(bad_header_checksum);
        bytes[512 + 30] ^= std::byte{1};
        put_file(bad_header_checksum, bytes);
    }
    BOOST_TEST((open_error(bad_header_checksum) == StorageErrorKind::Corrupt));

    auto past_eof = fresh("pasteof.vhd");
    set_bat_entry(past_eof, 3, 0x0100'0000);
    BOOST_TEST((open_error(past_eof) == StorageErrorKind::Corrupt));

    auto overlapping = fresh("overlap.vhd");
    {
        auto image = open_ok(overlapping, true);
        auto const entry = vhd::load_be32(file_bytes(overlapping).data() + 1536);
        image.reset();
        set_bat_entry(overlapping, 3, entry + 1); // shares most of block 0's sectors
    }
    BOOST_TEST((open_error(overlapping) == StorageErrorKind::Corrupt));

    auto over_metadata = fresh("overmeta.vhd");
    set_bat_entry(over_metadata, 3, 1); // the dynamic header
    BOOST_TEST((open_error(over_metadata) == StorageErrorKind::Corrupt));

    auto absurd = fresh("absurd.vhd");
    edit_footer(absurd, [](vhd::Footer& f) { f.current_size = 1ull << 60; });
    BOOST_TEST((open_error(absurd) == StorageErrorKind::TooLarge));

    auto bat_too_small = fresh("batsmall.vhd");
    edit_footer(bat_too_small, [](vhd::Footer& f) { f.current_size = 100 * MIB; });
    BOOST_TEST((open_error(bat_too_small) == StorageErrorKind::Corrupt));

    auto huge_bat = fresh("hugebat.vhd");
    edit_header(huge_bat, [](vhd::DynamicHeader& h) { h.max_table_entries = 0xFFFF'FFF0; });
    BOOST_TEST((open_error(huge_bat) == StorageErrorKind::Corrupt));

    auto table_outside = fresh("table.vhd");
    edit_header(table_outside, [](vhd::DynamicHeader& h) { h.table_offset = 1ull << 50; });
    BOOST_TEST((open_error(table_outside) == StorageErrorKind::Corrupt));

    auto header_outside = fresh("hdr.vhd");
    edit_footer(header_outside, [](vhd::Footer& f) { f.data_offset = ~0ull - 511; });
    BOOST_TEST((open_error(header_outside) == StorageErrorKind::Corrupt));

    auto locator_outside = dir.file("loc.vhd");
    require_ok(VhdImage::create_fixed(dir.file("locparent.vhd"), 4 * MIB));
    require_ok(VhdImage::create_differencing(locator_outside, dir.file("locparent.vhd")));
    edit_header(locator_outside,
                [](vhd::DynamicHeader& h) { h.parent_locators[0].platform_data_offset = 1ull << 40; });
    BOOST_TEST((open_error(locator_outside) == StorageErrorKind::Corrupt));

    auto truncated = fresh("trunc.vhd");
    fs::resize_file(truncated, fs::file_size(truncated) / 2);
    BOOST_TEST((open_error(truncated) == StorageErrorKind::Corrupt));

    auto fixed_truncated = dir.file("fixtrunc.vhd");
    require_ok(VhdImage::create_fixed(fixed_truncated, 4 * MIB));
    {
        auto bytes = file_bytes(fixed_truncated);
        std::vector<std::byte> cut(bytes.begin() + 4096,
                                   bytes.end()); // the footer survives, the data does not
        put_file(fixed_truncated, cut);
    }
    BOOST_TEST((open_error(fixed_truncated) == StorageErrorKind::Corrupt));

    auto tiny = dir.file("tiny.vhd");
    put_file(tiny, pattern_bytes(100, 9));
    BOOST_TEST((open_error(tiny) == StorageErrorKind::Corrupt));
    put_file(tiny, {});
    BOOST_TEST((open_error(tiny) == StorageErrorKind::Corrupt));
    BOOST_TEST((open_error(dir.file("missing.vhd")) == StorageErrorKind::NotFound));

    // check_vhd reports them as problems rather than I/O errors.
    auto report = check_vhd(past_eof);
    require_ok(report);
    BOOST_TEST(!report.value().empty());
}

BOOST_AUTO_TEST_CASE(damaged_trailing_footer_is_recovered) {
    TempDir dir;
    auto path = dir.file("crash.vhd");
    require_ok(VhdImage::create_dynamic(path, 8 * MIB));
    auto data = pattern_bytes(512 * 8, 10);
    {
        auto disk = open_ok(path);
        write_ok(*disk, 100, data);
    }
    // A crash between the data and the new footer: garbage at the end.
    auto bytes = file_bytes(path);
    auto const good_size = bytes.size();
    bytes.resize(bytes.size() - 512);
    auto junk = pattern_bytes(700, 11);
    bytes.insert(bytes.end(), junk.begin(), junk.end());
    put_file(path, bytes);
    {
        auto disk = open_ok(path, true);
        BOOST_TEST(disk->info().footer_recovered);
        BOOST_TEST((read_all(*disk, 100, 8) == data));
        std::vector<std::string> problems;
        disk->check(problems);
        BOOST_TEST(!problems.empty());
    }
    {
        auto disk = open_ok(path); // writable: repairs
        BOOST_TEST((read_all(*disk, 100, 8) == data));
    }
    BOOST_TEST(fs::file_size(path) == good_size);
    auto disk = open_ok(path, true);
    BOOST_TEST(!disk->info().footer_recovered);
    auto report = check_vhd(path);
    require_ok(report);
    BOOST_TEST(report.value().empty());
}

BOOST_AUTO_TEST_CASE(new_blocks_reach_the_bat_at_flush) {
    TempDir dir;
    auto path = dir.file("pending.vhd");
    auto copy = dir.file("crashed.vhd");
    require_ok(VhdImage::create_dynamic(path, 8 * MIB));
    auto const empty_size = fs::file_size(path);
    auto data = pattern_bytes(512 * 8, 20);
    auto disk = open_ok(path);
    write_ok(*disk, 100, data);
    // Live in memory at once, on disk only after the flush's data sync.
    BOOST_TEST((read_all(*disk, 100, 8) == data));
    BOOST_TEST(disk->info().allocated_blocks == 1u);
    BOOST_TEST(bat_entry_on_disk(path, 0) == vhd::UNUSED_BAT_ENTRY);
    // The file grew by the whole block and still ends with a footer.
    BOOST_TEST(fs::file_size(path) == 4096 + 2 * MIB + 512); // data from 4096 (aligned)
    BOOST_TEST(ends_with_footer(path));

    // The file as a crash of this process would leave it: valid, the
    // unflushed write gone, the new block unreferenced space at the end.
    fs::copy_file(path, copy);
    {
        auto report = check_vhd(copy);
        require_ok(report);
        BOOST_TEST(report.value().empty());
        auto crashed = open_ok(copy, true);
        BOOST_TEST(crashed->info().allocated_blocks == 0u);
        BOOST_TEST(all_zero(read_all(*crashed, 100, 8)));
    }
    open_ok(copy).reset(); // a read-write open trims the orphan
    BOOST_TEST(fs::file_size(copy) == empty_size);
    BOOST_TEST(ends_with_footer(copy));

    require_ok(disk->flush());
    BOOST_TEST(bat_entry_on_disk(path, 0) != vhd::UNUSED_BAT_ENTRY);
    disk.reset();
    auto reopened = open_ok(path, true);
    BOOST_TEST((read_all(*reopened, 100, 8) == data));
    BOOST_TEST(fs::file_size(path) == 4096 + 2 * MIB + 512);
}

BOOST_AUTO_TEST_CASE(pending_metadata_is_committed_without_a_flush) {
    TempDir dir;
    auto path = dir.file("batch.vhd");
    std::uint32_t const block = 64 * 1024;
    require_ok(VhdImage::create_dynamic(path, 16 * MIB, block));
    auto disk = open_ok(path);
    auto data = pattern_bytes(512, 21);
    std::uint32_t const per_block = block / 512;
    for (std::uint32_t i = 0; i + 1 < MAX_PENDING_METADATA; ++i)
        write_ok(*disk, std::uint64_t(i) * 2 * per_block, data); // every other block
    for (std::uint32_t i = 0; i + 1 < MAX_PENDING_METADATA; ++i)
        BOOST_TEST(bat_entry_on_disk(path, 2 * i) == vhd::UNUSED_BAT_ENTRY);
    // One more pending entry: a guest that never flushes still gets its
    // blocks onto the BAT.
    write_ok(*disk, std::uint64_t(MAX_PENDING_METADATA - 1) * 2 * per_block, data);
    for (std::uint32_t i = 0; i < MAX_PENDING_METADATA; ++i) {
        BOOST_TEST(bat_entry_on_disk(path, 2 * i) != vhd::UNUSED_BAT_ENTRY);
        BOOST_TEST(bat_entry_on_disk(path, 2 * i + 1) == vhd::UNUSED_BAT_ENTRY);
    }
    // Writes into committed blocks of a dynamic disk change no metadata.
    std::size_t const metadata = 1536 + 1024; // footer copy, header, BAT (256 entries)
    auto const size = fs::file_size(path);
    auto const before = file_range(path, 0, metadata);
    write_ok(*disk, 5, pattern_bytes(512, 25));
    BOOST_TEST(fs::file_size(path) == size);
    BOOST_TEST((file_range(path, 0, metadata) == before));
    // One more new block, then a close without flush() commits it too.
    write_ok(*disk, 1 * per_block, data);
    disk.reset();
    BOOST_TEST(bat_entry_on_disk(path, 1) != vhd::UNUSED_BAT_ENTRY);
    auto reopened = open_ok(path, true);
    BOOST_TEST((read_all(*reopened, 5, 1) == pattern_bytes(512, 25)));
    BOOST_TEST((read_all(*reopened, per_block, 1) == data));
    BOOST_TEST(reopened->info().allocated_blocks == MAX_PENDING_METADATA + 1);
}

BOOST_AUTO_TEST_CASE(differencing_bitmap_changes_wait_for_the_data_sync) {
    TempDir dir;
    auto parent = dir.file("base.vhd");
    auto child = dir.file("child.vhd");
    require_ok(VhdImage::create_dynamic(parent, 8 * MIB));
    auto const base = pattern_bytes(8 * 512, 22);
    {
        auto disk = open_ok(parent);
        write_ok(*disk, 0, base);
        require_ok(disk->flush());
    }
    require_ok(VhdImage::create_differencing(child, parent));
    auto first = pattern_bytes(512, 23);
    auto second = pattern_bytes(512, 24);
    auto disk = open_ok(child);
    write_ok(*disk, 0, first);
    require_ok(disk->flush());
    std::uint64_t const block_at = std::uint64_t(bat_entry_on_disk(child, 0)) * 512;
    auto bitmap_on_disk = [&] { return std::to_integer<unsigned>(file_range(child, block_at, 1)[0]); };
    BOOST_TEST(bitmap_on_disk() == 0x80u); // sector 0 only
    write_ok(*disk, 1, second);
    // The bit for sector 1 is live in memory, not yet on disk: a host crash
    // must not keep it without the data it vouches for.
    auto got = read_all(*disk, 0, 3);
    BOOST_TEST(std::memcmp(got.data(), first.data(), 512) == 0);
    BOOST_TEST(std::memcmp(got.data() + 512, second.data(), 512) == 0);
    BOOST_TEST(std::memcmp(got.data() + 1024, base.data() + 1024, 512) == 0);
    BOOST_TEST(bitmap_on_disk() == 0x80u);
    require_ok(disk->flush());
    BOOST_TEST(bitmap_on_disk() == 0xC0u);
    disk.reset();
    auto reopened = open_ok(child, true);
    BOOST_TEST((read_all(*reopened, 1, 1) == second));
}

BOOST_AUTO_TEST_CASE(byte_flips_never_crash) {
    TempDir dir;
    auto parent = dir.file("fp.vhd");
    auto path = dir.file("fz.vhd");
    require_ok(VhdImage::create_dynamic(parent, 4 * MIB, 64 * 1024));
    require_ok(VhdImage::create_differencing(path, parent));
    {
        auto disk = open_ok(path);
        write_ok(*disk, 0, pattern_bytes(512 * 300, 12));
    }
    auto const original = file_bytes(path);
    std::mt19937 random(13);
    std::size_t const metadata = 1536 + 512 + 1024; // footer copy, header, BAT, locators
    int opened = 0;
    for (int round = 0; round < 300; ++round) {
        auto bytes = original;
        for (int flips = 0; flips < 3; ++flips) {
            std::size_t at = random() % 2 ? random() % metadata : bytes.size() - 512 + random() % 512;
            bytes[at] = std::byte(random() & 0xFF);
        }
        put_file(path, bytes);
        auto disk = VhdImage::open(path, random() % 2);
        if (disk.is_error()) continue;
        ++opened;
        std::vector<std::byte> buffer(512 * 64);
        for (std::uint64_t s = 0; s < disk.value()->sector_count(); s += 64)
            (void)disk.value()->read(s, buffer);
        (void)disk.value()->write(random() % 8000, std::span(buffer).first(512));
        std::vector<std::string> problems;
        disk.value()->check(problems);
    }
    BOOST_TEST_MESSAGE(opened << " of 300 mutated images opened");
}

namespace {

// Random I/O against a byte-array model, with reopen in between.
void random_against_model(std::string const& path, std::vector<std::byte>& model, unsigned seed,
                          int operations) {
    std::mt19937_64 random(seed);
    auto disk = open_ok(path);
    std::uint64_t const sectors = disk->sector_count();
    BOOST_REQUIRE(sectors * 512 == model.size());
    for (int op = 0; op < operations; ++op) {
        std::uint64_t const count = 1 + random() % 300;
        std::uint64_t const first = random() % (sectors - count);
        if (op % 97 == 96) {
            disk.reset(); // the lock is exclusive, even within one process
            disk = open_ok(path);
        }
        if (random() % 2) {
            auto data = pattern_bytes(count * 512, unsigned(random()));
            write_ok(*disk, first, data);
            std::memcpy(model.data() + first * 512, data.data(), data.size());
        } else {
            auto got = read_all(*disk, first, count);
            BOOST_REQUIRE(std::memcmp(got.data(), model.data() + first * 512, got.size()) == 0);
        }
    }
    auto whole = read_all(*disk, 0, sectors);
    BOOST_TEST((whole == model));
}

} // namespace

BOOST_AUTO_TEST_CASE(random_io_matches_model) {
    TempDir dir;
    std::uint64_t const size = 9 * MIB + 5 * 512;
    for (std::uint32_t block : {16u * 1024, 2u * 1024 * 1024, 4u * 1024 * 1024}) {
        BOOST_TEST_CONTEXT("block size " << block) {
            auto path = dir.file("model" + std::to_string(block) + ".vhd");
            require_ok(VhdImage::create_dynamic(path, size, block));
            std::vector<std::byte> model(size);
            random_against_model(path, model, block, 400);
            // A differencing child on top keeps the same contents and diverges.
            auto child = dir.file("child" + std::to_string(block) + ".vhd");
            require_ok(VhdImage::create_differencing(child, path));
            random_against_model(child, model, block + 1, 400);
            auto report = check_vhd(child);
            require_ok(report);
            BOOST_TEST(report.value().empty());
        }
    }
    auto fixed = dir.file("model-fixed.vhd");
    require_ok(VhdImage::create_fixed(fixed, size));
    std::vector<std::byte> model(size);
    random_against_model(fixed, model, 77, 300);
}

BOOST_AUTO_TEST_CASE(raw_iso_floppy_and_factory) {
    TempDir dir;
    auto raw = dir.file("disk.img");
    put_file(raw, pattern_bytes(1000, 14)); // not a whole number of sectors
    {
        auto disk = open_disk_image(raw, false);
        require_ok(disk);
        BOOST_TEST(disk.value()->sector_count() == 2u);
        auto got = read_all(*disk.value(), 0, 2);
        BOOST_TEST(std::memcmp(got.data(), pattern_bytes(1000, 14).data(), 1000) == 0);
        BOOST_TEST(all_zero(std::vector<std::byte>(got.begin() + 1000, got.end())));
        write_ok(*disk.value(), 1, pattern_bytes(512, 15));
    }
    BOOST_TEST(fs::file_size(raw) == 1024u);

    auto iso = dir.file("cd.iso");
    put_file(iso, pattern_bytes(2048 * 3, 16));
    auto cd = open_disk_image(iso, false);
    require_ok(cd);
    BOOST_TEST(cd.value()->sector_size() == 2048u);
    BOOST_TEST(cd.value()->read_only());
    auto const cd_bytes = pattern_bytes(2048 * 3, 16);
    BOOST_TEST((read_all(*cd.value(), 1, 1) ==
                std::vector<std::byte>(cd_bytes.begin() + 2048, cd_bytes.begin() + 4096)));
    BOOST_TEST(
        (cd.value()->write(0, std::vector<std::byte>(2048)).error().kind == StorageErrorKind::ReadOnly));
    std::vector<std::byte> small(512);
    BOOST_TEST(cd.value()->read(0, small).is_error());

    auto floppy = dir.file("boot.vfd");
    require_ok(RawImage::create(floppy, FLOPPY_144_BYTES));
    auto fd = open_disk_image(floppy, false);
    require_ok(fd);
    BOOST_TEST(fd.value()->sector_count() == 2880u);
    auto bad_floppy = dir.file("bad.vfd");
    put_file(bad_floppy, pattern_bytes(5000, 17));
    BOOST_TEST(open_disk_image(bad_floppy, true).is_error());

    // By content, not name: a VHD called .img is a VHD; a .vhd without a footer is refused.
    require_ok(VhdImage::create_dynamic(dir.file("really-vhd.img"), 4 * MIB));
    BOOST_TEST((detect_image_format(dir.file("really-vhd.img")).value() == ImageFormat::Vhd));
    BOOST_TEST(open_disk_image(dir.file("really-vhd.img"), true).value()->sector_count() == 8192u);
    put_file(dir.file("fake.vhd"), pattern_bytes(4096, 18));
    BOOST_TEST((open_disk_image(dir.file("fake.vhd"), true).error().kind == StorageErrorKind::Corrupt));
    BOOST_TEST((open_disk_image(dir.file("nothing.img"), true).error().kind == StorageErrorKind::NotFound));
}

BOOST_AUTO_TEST_CASE(errors_map_to_hresults) {
    using namespace vsa::services;
    BOOST_TEST(
        (storage_error(StorageErrorKind::Corrupt, "x").to_service_error().code == hr::VM_E_INVALID_HD_FILE));
    BOOST_TEST((storage_error(StorageErrorKind::TooLarge, "x").to_service_error().code ==
                hr::VM_E_IMAGE_SIZE_TOO_LARGE));
    BOOST_TEST((storage_error(StorageErrorKind::TooSmall, "x").to_service_error().code ==
                hr::VM_E_IMAGE_SIZE_TOO_SMALL));
    BOOST_TEST((storage_error(StorageErrorKind::WrongType, "x").to_service_error().code ==
                hr::VM_E_WRONG_HD_IMAGE_TYPE));
    BOOST_TEST(
        (storage_error(StorageErrorKind::InvalidRequest, "x").to_service_error().code == hr::E_INVALIDARG));
    BOOST_TEST(storage_error(StorageErrorKind::Io, "x").to_service_error().message == "x");
    for (auto code : {hr::VM_E_INVALID_HD_FILE, hr::VM_E_HD_IMAGE_OPEN_FAIL,
                      hr::VM_E_PARENT_CHILD_ID_MISMATCH, hr::E_DISK_FULL, hr::VM_E_HD_IMAGE_ACCESS})
        BOOST_TEST(find_hresult(code) != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
