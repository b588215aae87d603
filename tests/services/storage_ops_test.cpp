// SPDX-License-Identifier: GPL-2.0-or-later
// services/storage whole-disk operations: compact, convert, merge, merge_to
// and undo disks, checked through BlockDevice reads of the results, plus
// progress reporting, cancellation and corrupt input.
#include "services/storage/vhd_image.h"
#include "services/storage/vhd_operations.h"
#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

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

template <typename R>
void require_ok(R const& result) {
    BOOST_REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message));
}

std::unique_ptr<VhdImage> open_ok(std::string const& path, bool read_only = false) {
    auto image = VhdImage::open(path, read_only);
    require_ok(image);
    return image.release_value();
}

void write_ok(std::string const& path, std::uint64_t sector, std::vector<std::byte> const& data) {
    auto image = open_ok(path);
    require_ok(image->write(sector, data));
    require_ok(image->flush());
}

// The whole disk as the guest sees it.
std::vector<std::byte> contents(std::string const& path) {
    auto image = open_ok(path, true);
    std::vector<std::byte> out(image->size_bytes());
    require_ok(image->read(0, out));
    return out;
}

std::vector<std::byte> file_bytes(std::string const& path) {
    std::error_code error;
    auto const size = fs::file_size(path, error);
    if (error) return {};
    std::vector<std::byte> bytes(size);
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size));
    return bytes;
}

void put_file(std::string const& path, std::vector<std::byte> const& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<char const*>(bytes.data()), std::streamsize(bytes.size()));
}

void check_clean(std::string const& path) {
    auto problems = check_vhd(path);
    require_ok(problems);
    for (auto const& problem : problems.value())
        BOOST_ERROR(problem);
}

// A 16 MiB dynamic disk (8 blocks of 2 MiB): data in blocks 0, 2 and 5,
// zeros written (so allocated) in blocks 1 and 3.
std::string make_sample(TempDir const& dir, std::string const& name) {
    std::string const path = dir.file(name);
    require_ok(VhdImage::create_dynamic(path, 16 * MIB));
    write_ok(path, 0, pattern_bytes(64 * 1024, 1));
    write_ok(path, 4096 * 2 + 7, pattern_bytes(3 * SECTOR_SIZE, 2));
    write_ok(path, 4096 * 5 + 4095, pattern_bytes(SECTOR_SIZE, 3));
    write_ok(path, 4096, std::vector<std::byte>(2 * MIB));
    write_ok(path, 4096 * 3 + 100, std::vector<std::byte>(8 * SECTOR_SIZE));
    // Block 2 written then zeroed partly: still holds data.
    write_ok(path, 4096 * 2 + 10, std::vector<std::byte>(SECTOR_SIZE));
    return path;
}

struct Recorder {
    std::vector<std::uint32_t> seen;
    std::uint32_t cancel_at{1000};
    Progress progress() {
        return Progress{[this](std::uint32_t percent) {
            seen.push_back(percent);
            return percent < cancel_at;
        }};
    }
    void check_complete() const {
        BOOST_REQUIRE(!seen.empty());
        BOOST_TEST(seen.back() == 100u);
        for (std::size_t i = 1; i < seen.size(); ++i)
            BOOST_TEST(seen[i] > seen[i - 1]);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(storage_ops)

BOOST_AUTO_TEST_CASE(compact_reclaims_zero_blocks) {
    TempDir dir;
    std::string const path = make_sample(dir, "a.vhd");
    auto const before = contents(path);
    auto const info_before = inspect_vhd(path).release_value();
    BOOST_TEST(info_before.allocated_blocks == 5u);

    Recorder recorder;
    require_ok(compact(path, recorder.progress()));
    recorder.check_complete();

    auto const info_after = inspect_vhd(path).release_value();
    BOOST_TEST(info_after.allocated_blocks == 3u);
    // Each block after the first takes its 2 MiB, its bitmap and the gap
    // that puts its data on a 4 KiB boundary: 4 KiB in all.
    BOOST_TEST(info_after.file_size == info_before.file_size - 2 * (2 * MIB + vhd::BLOCK_DATA_ALIGNMENT));
    BOOST_TEST(info_after.unique_id == info_before.unique_id); // children still find it
    BOOST_TEST((contents(path) == before));
    check_clean(path);
    BOOST_TEST(!fs::exists(path + ".tmp"));

    // Again: nothing left to drop, still the same disk.
    require_ok(compact(path));
    BOOST_TEST(inspect_vhd(path).value().file_size == info_after.file_size);
    BOOST_TEST((contents(path) == before));
}

BOOST_AUTO_TEST_CASE(compact_refuses_fixed_and_differencing) {
    TempDir dir;
    std::string const fixed = dir.file("f.vhd");
    require_ok(VhdImage::create_fixed(fixed, 4 * MIB));
    auto result = compact(fixed);
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST((result.error().kind == StorageErrorKind::WrongType));
    BOOST_TEST(result.error().to_service_error().code.value == 0xA004'067Bu);

    std::string const child = dir.file("c.vhd");
    require_ok(VhdImage::create_differencing(child, fixed));
    result = compact(child);
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST((result.error().kind == StorageErrorKind::WrongType));
    BOOST_TEST(!fs::exists(child + ".tmp"));
}

BOOST_AUTO_TEST_CASE(convert_both_ways) {
    TempDir dir;
    std::string const dynamic = make_sample(dir, "d.vhd");
    auto const expected = contents(dynamic);
    std::string const fixed = dir.file("f.vhd");
    Recorder recorder;
    require_ok(convert(dynamic, fixed, vhd::DiskType::Fixed, recorder.progress()));
    recorder.check_complete();
    BOOST_TEST((inspect_vhd(fixed).value().type == vhd::DiskType::Fixed));
    BOOST_TEST(inspect_vhd(fixed).value().file_size == 16 * MIB + SECTOR_SIZE);
    BOOST_TEST((contents(fixed) == expected));
    check_clean(fixed);

    std::string const back = dir.file("b.vhd");
    require_ok(convert(fixed, back, vhd::DiskType::Dynamic));
    auto const info = inspect_vhd(back).release_value();
    BOOST_TEST((info.type == vhd::DiskType::Dynamic));
    BOOST_TEST(info.allocated_blocks == 3u); // zero blocks are left out
    BOOST_TEST((info.geometry == inspect_vhd(dynamic).value().geometry));
    BOOST_TEST((contents(back) == expected));
    check_clean(back);

    // The destination must not exist; it is left alone.
    auto const untouched = file_bytes(back);
    auto result = convert(fixed, back, vhd::DiskType::Dynamic);
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST((file_bytes(back) == untouched));
    result = convert(fixed, dir.file("x.vhd"), vhd::DiskType::Differencing);
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST((result.error().kind == StorageErrorKind::InvalidRequest));
    BOOST_TEST(!fs::exists(dir.file("x.vhd")));
}

// The appliance image build (image/build.sh) writes its VHD this way.
BOOST_AUTO_TEST_CASE(convert_a_raw_image) {
    TempDir dir;
    std::string const dynamic = make_sample(dir, "d.vhd");
    auto const expected = contents(dynamic);
    std::string const raw = dir.file("disk.raw");
    std::ofstream(raw, std::ios::binary)
        .write(reinterpret_cast<char const*>(expected.data()), std::streamsize(expected.size()));
    std::string const fixed = dir.file("f.vhd");
    Recorder recorder;
    require_ok(convert_raw(raw, fixed, vhd::DiskType::Fixed, recorder.progress()));
    recorder.check_complete();
    auto const info = inspect_vhd(fixed).release_value();
    BOOST_TEST((info.type == vhd::DiskType::Fixed));
    BOOST_TEST(info.file_size == expected.size() + SECTOR_SIZE);
    BOOST_TEST((info.geometry == vhd::chs_geometry(expected.size() / SECTOR_SIZE)));
    BOOST_TEST((contents(fixed) == expected));
    check_clean(fixed);

    std::string const sparse = dir.file("s.vhd");
    require_ok(convert_raw(raw, sparse, vhd::DiskType::Dynamic));
    BOOST_TEST(inspect_vhd(sparse).value().allocated_blocks == 3u);
    BOOST_TEST((contents(sparse) == expected));

    // Nothing to convert, or nothing there: an error and no file.
    std::ofstream(dir.file("empty.raw"));
    BOOST_TEST(convert_raw(dir.file("empty.raw"), dir.file("e.vhd"), vhd::DiskType::Fixed).is_error());
    BOOST_TEST(!fs::exists(dir.file("e.vhd")));
    BOOST_TEST(convert_raw(dir.file("missing.raw"), dir.file("m.vhd"), vhd::DiskType::Fixed).is_error());
    BOOST_TEST(!fs::exists(dir.file("m.vhd")));
}

BOOST_AUTO_TEST_CASE(convert_and_merge_to_flatten_a_chain) {
    TempDir dir;
    std::string const base = make_sample(dir, "base.vhd");
    std::string const middle = dir.file("middle.vhd");
    std::string const top = dir.file("top.vhd");
    require_ok(VhdImage::create_differencing(middle, base));
    write_ok(middle, 20, pattern_bytes(10 * SECTOR_SIZE, 4));
    write_ok(middle, 4096 * 7, pattern_bytes(4096 * SECTOR_SIZE, 5));
    require_ok(VhdImage::create_differencing(top, middle));
    write_ok(top, 25, pattern_bytes(2 * SECTOR_SIZE, 6));
    write_ok(top, 0, std::vector<std::byte>(SECTOR_SIZE)); // zeros over the base's data
    auto const expected = contents(top);

    for (auto type : {vhd::DiskType::Fixed, vhd::DiskType::Dynamic}) {
        std::string const flat = dir.file(type == vhd::DiskType::Fixed ? "flat-f.vhd" : "flat-d.vhd");
        require_ok(convert(top, flat, type));
        BOOST_TEST((inspect_vhd(flat).value().type == type));
        BOOST_TEST((contents(flat) == expected));
        check_clean(flat);
        std::string const merged = dir.file(type == vhd::DiskType::Fixed ? "mt-f.vhd" : "mt-d.vhd");
        Recorder recorder;
        require_ok(merge_to(top, merged, type, recorder.progress()));
        recorder.check_complete();
        BOOST_TEST((contents(merged) == expected));
    }
    auto result = merge_to(base, dir.file("no.vhd"), vhd::DiskType::Fixed);
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST((result.error().kind == StorageErrorKind::WrongType));
    BOOST_TEST(!fs::exists(dir.file("no.vhd")));
}

BOOST_AUTO_TEST_CASE(merge_writes_only_the_childs_sectors) {
    for (auto parent_type : {vhd::DiskType::Fixed, vhd::DiskType::Dynamic}) {
        TempDir dir;
        std::string const base = dir.file("base.vhd");
        if (parent_type == vhd::DiskType::Fixed)
            require_ok(VhdImage::create_fixed(base, 8 * MIB));
        else
            require_ok(VhdImage::create_dynamic(base, 8 * MIB));
        auto const base_data = pattern_bytes(3 * MIB, 7);
        write_ok(base, 0, base_data);
        std::string const child = dir.file("child.vhd");
        require_ok(VhdImage::create_differencing(child, base));
        auto const a = pattern_bytes(10 * SECTOR_SIZE, 8);
        auto const b = pattern_bytes(4 * SECTOR_SIZE, 9);
        write_ok(child, 10, a);
        write_ok(child, 5000, b);
        write_ok(child, 12000, std::vector<std::byte>(SECTOR_SIZE)); // zeros are data too

        std::vector<std::byte> expected(8 * MIB);
        std::memcpy(expected.data(), base_data.data(), base_data.size());
        std::memcpy(expected.data() + 10 * SECTOR_SIZE, a.data(), a.size());
        std::memcpy(expected.data() + 5000 * SECTOR_SIZE, b.data(), b.size());
        std::memset(expected.data() + 12000 * SECTOR_SIZE, 0, SECTOR_SIZE);
        auto const child_bytes = file_bytes(child);

        Recorder recorder;
        require_ok(merge(child, recorder.progress()));
        recorder.check_complete();
        BOOST_TEST((contents(base) == expected));
        BOOST_TEST((file_bytes(child) == child_bytes)); // the caller deletes it
        check_clean(base);
        // Every block of the dynamic parent it did not touch stays unallocated.
        if (parent_type == vhd::DiskType::Dynamic)
            BOOST_TEST(inspect_vhd(base).value().allocated_blocks == 3u);
    }
}

BOOST_AUTO_TEST_CASE(merge_refuses_a_disk_without_parent) {
    TempDir dir;
    std::string const path = make_sample(dir, "d.vhd");
    auto const before = file_bytes(path);
    auto result = merge(path);
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST((result.error().kind == StorageErrorKind::WrongType));
    BOOST_TEST((file_bytes(path) == before));
}

BOOST_AUTO_TEST_CASE(undo_disk_create_commit_discard) {
    TempDir dir;
    std::string const base = make_sample(dir, "vm.vhd");
    auto const original = contents(base);
    auto created = create_undo_disk(base);
    require_ok(created);
    std::string const vud = created.value();
    BOOST_TEST(vud == dir.file("vm.vud"));
    BOOST_TEST((inspect_vhd(vud).value().type == vhd::DiskType::Differencing));
    BOOST_TEST(create_undo_disk(base).is_error()); // one at a time

    // Discard: the guest's writes vanish.
    write_ok(vud, 0, pattern_bytes(4 * SECTOR_SIZE, 10));
    require_ok(discard_undo_disk(vud));
    BOOST_TEST(!fs::exists(vud));
    BOOST_TEST((contents(base) == original));

    // Commit: they land in the base.
    require_ok(create_undo_disk(base));
    auto const data = pattern_bytes(4 * SECTOR_SIZE, 11);
    write_ok(vud, 100, data);
    auto expected = original;
    std::memcpy(expected.data() + 100 * SECTOR_SIZE, data.data(), data.size());
    Recorder recorder;
    require_ok(commit_undo_disk(vud, recorder.progress()));
    recorder.check_complete();
    BOOST_TEST(!fs::exists(vud));
    BOOST_TEST((contents(base) == expected));

    // Not an undo disk: a dynamic disk, or a child named after another base.
    std::string const plain = dir.file("plain.vud");
    require_ok(VhdImage::create_dynamic(plain, 4 * MIB));
    auto result = discard_undo_disk(plain);
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST((result.error().kind == StorageErrorKind::WrongType));
    BOOST_TEST(fs::exists(plain));
    std::string const stranger = dir.file("other.vud");
    require_ok(VhdImage::create_differencing(stranger, base));
    result = discard_undo_disk(stranger);
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST((result.error().kind == StorageErrorKind::WrongType));
    BOOST_TEST(fs::exists(stranger));
    BOOST_TEST(commit_undo_disk(stranger).is_error());
    BOOST_TEST((contents(base) == expected));
}

BOOST_AUTO_TEST_CASE(progress_reports_every_percent) {
    TempDir dir;
    std::string const path = dir.file("small-blocks.vhd");
    require_ok(VhdImage::create_dynamic(path, 16 * MIB, 64 * 1024)); // 256 blocks
    write_ok(path, 0, pattern_bytes(MIB, 12));
    Recorder recorder;
    require_ok(convert(path, dir.file("out.vhd"), vhd::DiskType::Dynamic, recorder.progress()));
    recorder.check_complete();
    BOOST_TEST(recorder.seen.size() == 101u); // 0..100, each once
    BOOST_TEST(recorder.seen.front() == 0u);
}

BOOST_AUTO_TEST_CASE(cancel_leaves_the_source_and_no_output) {
    TempDir dir;
    std::string const path = make_sample(dir, "d.vhd");
    std::string const child = dir.file("child.vhd");
    require_ok(VhdImage::create_differencing(child, path));
    write_ok(child, 4096 * 4, pattern_bytes(8 * SECTOR_SIZE, 13));
    auto const source_bytes = file_bytes(path);
    auto const child_bytes = file_bytes(child);

    auto expect_cancelled = [](vsa::Result<void, StorageError> const& result, Recorder const& recorder) {
        BOOST_REQUIRE(result.is_error());
        BOOST_TEST((result.error().kind == StorageErrorKind::Cancelled));
        BOOST_TEST(result.error().to_service_error().code.value == 0x8000'4004u);
        BOOST_REQUIRE(!recorder.seen.empty());
        BOOST_TEST(recorder.seen.back() >= 50u);
        BOOST_TEST(recorder.seen.back() < 100u);
    };
    {
        Recorder recorder{{}, 50};
        expect_cancelled(compact(path, recorder.progress()), recorder);
        BOOST_TEST(!fs::exists(path + ".tmp"));
    }
    for (auto type : {vhd::DiskType::Fixed, vhd::DiskType::Dynamic}) {
        Recorder recorder{{}, 50};
        expect_cancelled(convert(path, dir.file("out.vhd"), type, recorder.progress()), recorder);
        BOOST_TEST(!fs::exists(dir.file("out.vhd")));
        Recorder again{{}, 50};
        expect_cancelled(merge_to(child, dir.file("out.vhd"), type, again.progress()), again);
        BOOST_TEST(!fs::exists(dir.file("out.vhd")));
    }
    {
        // Cancelled before any block of the child (block 4 of 8) was merged.
        Recorder recorder{{}, 50};
        expect_cancelled(merge(child, recorder.progress()), recorder);
    }
    BOOST_TEST((file_bytes(path) == source_bytes));
    BOOST_TEST((file_bytes(child) == child_bytes));
    // Cancelling at 100 still cancels, for operations with an output.
    Recorder late{{}, 100};
    BOOST_TEST(compact(path, late.progress()).is_error());
    BOOST_TEST((file_bytes(path) == source_bytes));
    BOOST_TEST(!fs::exists(path + ".tmp"));
}

BOOST_AUTO_TEST_CASE(corrupt_input_fails_cleanly) {
    TempDir dir;
    std::string const garbage = dir.file("garbage.vhd");
    put_file(garbage, pattern_bytes(3 * MIB, 14));
    std::string const empty = dir.file("empty.vhd");
    put_file(empty, {});
    std::string const truncated = dir.file("truncated.vhd");
    {
        std::string const good = make_sample(dir, "good.vhd");
        auto bytes = file_bytes(good);
        bytes.resize(bytes.size() - 3 * MIB); // blocks past the end
        put_file(truncated, bytes);
    }
    for (auto const& path : {garbage, empty, truncated, dir.file("missing.vhd")}) {
        BOOST_TEST_CONTEXT(path) {
            BOOST_TEST(compact(path).is_error());
            BOOST_TEST(convert(path, dir.file("out.vhd"), vhd::DiskType::Fixed).is_error());
            BOOST_TEST(!fs::exists(dir.file("out.vhd")));
            BOOST_TEST(merge(path).is_error());
            BOOST_TEST(merge_to(path, dir.file("out.vhd"), vhd::DiskType::Dynamic).is_error());
            BOOST_TEST(discard_undo_disk(path).is_error());
            BOOST_TEST(!fs::exists(dir.file("out.vhd")));
        }
    }
    BOOST_TEST(fs::exists(garbage));
    BOOST_TEST(fs::exists(truncated));
}

BOOST_AUTO_TEST_SUITE_END()
