// SPDX-License-Identifier: GPL-2.0-or-later
// storage::relink_parent (IVMHardDisk.Parent's setter): a differencing disk
// re-linked to its moved parent reads as before; wrong parents, disks that
// are not differencing and damaged files are refused with the file
// unchanged; a path longer than the old locator's space fits; and a crash
// before any of its changes (a process kill or a power cut losing any part
// of what was not synced) leaves a child that opens on the old or the new
// parent and reads the same.
#include "services/storage/host_file.h"
#include "services/storage/vhd_image.h"
#include "services/storage/vhd_relink.h"
#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
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

template <typename R>
StorageErrorKind kind_of(R const& result) {
    BOOST_REQUIRE(result.is_error());
    return result.error().kind;
}

std::vector<std::byte> file_bytes(std::string const& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

void write_file(std::string const& path, std::vector<std::byte> const& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<char const*>(bytes.data()), std::streamsize(bytes.size()));
}

void write_ok(std::string const& path, std::uint64_t sector, std::vector<std::byte> const& data) {
    auto image = VhdImage::open(path, false);
    require_ok(image);
    require_ok(image.value()->write(sector, data));
    require_ok(image.value()->flush());
}

std::vector<std::byte> contents(std::string const& path) {
    auto image = VhdImage::open(path, true);
    require_ok(image);
    std::vector<std::byte> out(image.value()->size_bytes());
    require_ok(image.value()->read(0, out));
    return out;
}

// A parent with data, a child with its own writes on top, and what the
// child reads.
struct Chain {
    std::string parent;
    std::string child;
    std::vector<std::byte> model;
};

Chain make_chain(TempDir const& dir, std::string const& parent_name = "parent.vhd") {
    Chain chain{dir.file(parent_name), dir.file("child.vhd"), {}};
    require_ok(VhdImage::create_dynamic(chain.parent, 8 * MIB));
    auto base = pattern_bytes(3 * MIB, 1);
    write_ok(chain.parent, 1024, base);
    require_ok(VhdImage::create_differencing(chain.child, chain.parent));
    auto own = pattern_bytes(64 * 1024, 2);
    write_ok(chain.child, 4096, own);
    chain.model.assign(8 * MIB, std::byte{0});
    std::memcpy(chain.model.data() + 1024 * SECTOR_SIZE, base.data(), base.size());
    std::memcpy(chain.model.data() + 4096 * SECTOR_SIZE, own.data(), own.size());
    return chain;
}

std::vector<std::string> locators(std::string const& child) {
    auto image = VhdImage::open(child, true);
    require_ok(image);
    return image.value()->info().parent_locators;
}

std::vector<std::string> problems_of(std::string const& path) {
    auto checked = check_vhd(path);
    require_ok(checked);
    return checked.value();
}

} // namespace

BOOST_AUTO_TEST_SUITE(vhd_relink)

BOOST_AUTO_TEST_CASE(relinks_a_child_to_its_moved_parent) {
    TempDir dir;
    Chain chain = make_chain(dir);
    fs::create_directories(dir.path() / "elsewhere");
    std::string const moved = (dir.path() / "elsewhere" / "renamed.vhd").string();
    fs::rename(chain.parent, moved);
    BOOST_TEST((kind_of(VhdImage::open(chain.child, true)) == StorageErrorKind::ParentNotFound));

    auto const size_before = fs::file_size(chain.child);
    require_ok(relink_parent(chain.child, moved));
    BOOST_TEST((contents(chain.child) == chain.model));
    auto image = VhdImage::open(chain.child, true);
    require_ok(image);
    BOOST_TEST(image.value()->info().parent_path == moved);
    BOOST_TEST(vhd::utf16_to_utf8(image.value()->dynamic_header().parent_unicode_name) == "renamed.vhd");
    image.value().reset();
    auto const found = locators(chain.child);
    BOOST_TEST(found.size() == 2u);
    BOOST_TEST((std::find(found.begin(), found.end(), "W2ku: " + moved) != found.end()));
    BOOST_TEST((std::find(found.begin(), found.end(), "W2ru: .\\elsewhere\\renamed.vhd") != found.end()));
    // Two new locator sectors after the data, nothing else.
    BOOST_TEST(fs::file_size(chain.child) == size_before + 2 * SECTOR_SIZE);
    BOOST_TEST(problems_of(chain.child).empty());

    // The child keeps working: writes land after the relocated locators.
    auto more = pattern_bytes(2 * MIB, 3);
    write_ok(chain.child, 6 * 2048, more);
    std::memcpy(chain.model.data() + 6 * MIB, more.data(), more.size());
    BOOST_TEST((contents(chain.child) == chain.model));
    BOOST_TEST(problems_of(chain.child).empty());

    // The relative locator now leads there: move both, keep their places.
    fs::create_directories(dir.path() / "moved-again" / "elsewhere");
    fs::rename(chain.child, dir.path() / "moved-again" / "child.vhd");
    fs::rename(moved, dir.path() / "moved-again" / "elsewhere" / "renamed.vhd");
    BOOST_TEST((contents((dir.path() / "moved-again" / "child.vhd").string()) == chain.model));
}

BOOST_AUTO_TEST_CASE(relinks_back_and_forth) {
    TempDir dir;
    Chain chain = make_chain(dir);
    std::string const copy = dir.file("copy.vhd");
    fs::copy_file(chain.parent, copy);
    fs::last_write_time(copy, fs::last_write_time(chain.parent));
    for (int round = 0; round < 3; ++round) {
        std::string const target = round % 2 == 0 ? copy : chain.parent;
        require_ok(relink_parent(chain.child, target));
        auto image = VhdImage::open(chain.child, true);
        require_ok(image);
        BOOST_TEST(image.value()->info().parent_path == target);
        image.value().reset();
        BOOST_TEST((contents(chain.child) == chain.model));
        BOOST_TEST(problems_of(chain.child).empty());
    }
}

BOOST_AUTO_TEST_CASE(a_path_longer_than_the_reserved_space_fits) {
    TempDir dir;
    Chain chain = make_chain(dir);
    // The old W2ku holds a short path in one sector; this one needs three.
    fs::path deep = dir.path();
    for (char c : std::string("abc"))
        deep /= std::string(200, c);
    fs::create_directories(deep);
    std::string const moved = (deep / "parent.vhd").string();
    BOOST_REQUIRE(moved.size() * 2 > 2 * SECTOR_SIZE);
    fs::rename(chain.parent, moved);
    require_ok(relink_parent(chain.child, moved));
    auto image = VhdImage::open(chain.child, true);
    require_ok(image);
    BOOST_TEST(image.value()->info().parent_path == moved);
    bool seen = false;
    for (auto const& locator : image.value()->dynamic_header().parent_locators) {
        if (locator.platform_code != vhd::PLATFORM_W2KU) continue;
        seen = true;
        BOOST_TEST(locator.platform_data_length == moved.size() * 2);
        BOOST_TEST(locator.platform_data_space == 3u);
    }
    BOOST_TEST(seen);
    image.value().reset();
    BOOST_TEST((contents(chain.child) == chain.model));
    BOOST_TEST(problems_of(chain.child).empty());
}

BOOST_AUTO_TEST_CASE(a_parent_with_another_id_is_refused) {
    TempDir dir;
    Chain chain = make_chain(dir);
    std::string const stranger = dir.file("stranger.vhd");
    require_ok(VhdImage::create_dynamic(stranger, 8 * MIB));
    auto const before = file_bytes(chain.child);
    BOOST_TEST((kind_of(relink_parent(chain.child, stranger)) == StorageErrorKind::ParentMismatch));
    BOOST_TEST((file_bytes(chain.child) == before));
}

BOOST_AUTO_TEST_CASE(only_differencing_disks_relink) {
    TempDir dir;
    Chain chain = make_chain(dir);
    std::string const fixed = dir.file("fixed.vhd");
    std::string const dynamic = dir.file("dynamic.vhd");
    require_ok(VhdImage::create_fixed(fixed, 4 * MIB));
    require_ok(VhdImage::create_dynamic(dynamic, 8 * MIB));
    for (auto const& disk : {fixed, dynamic}) {
        auto const before = file_bytes(disk);
        BOOST_TEST((kind_of(relink_parent(disk, chain.parent)) == StorageErrorKind::WrongType));
        BOOST_TEST((file_bytes(disk) == before));
    }
}

BOOST_AUTO_TEST_CASE(bad_parents_and_loops_are_refused) {
    TempDir dir;
    Chain chain = make_chain(dir);
    auto const before = file_bytes(chain.child);
    BOOST_TEST((kind_of(relink_parent(chain.child, dir.file("missing.vhd"))) == StorageErrorKind::NotFound));
    std::string const junk = dir.file("junk.vhd");
    write_file(junk, pattern_bytes(64 * 1024, 9));
    BOOST_TEST((kind_of(relink_parent(chain.child, junk)) == StorageErrorKind::Corrupt));
    // The child as its own parent (its chain contains itself).
    BOOST_TEST((kind_of(relink_parent(chain.child, chain.child)) == StorageErrorKind::InvalidRequest));
    BOOST_TEST((kind_of(relink_parent(dir.file("nothing.vhd"), chain.parent)) == StorageErrorKind::NotFound));
    BOOST_TEST((file_bytes(chain.child) == before));
    // In use: a writer holds the child.
    {
        auto open = VhdImage::open(chain.child, false);
        require_ok(open);
        BOOST_TEST((kind_of(relink_parent(chain.child, chain.parent)) == StorageErrorKind::Locked));
    }
    BOOST_TEST((contents(chain.child) == chain.model));
}

BOOST_AUTO_TEST_CASE(a_damaged_child_is_refused_unchanged) {
    TempDir dir;
    Chain chain = make_chain(dir);
    auto const good = file_bytes(chain.child);
    auto const header_at = vhd::load_be64(good.data() + 16); // the footer copy's data offset
    auto const table_at = vhd::load_be64(good.data() + header_at + 16);
    struct Damage {
        char const* what;
        std::size_t offset;
    };
    std::vector<Damage> const damages{
        {"header checksum", std::size_t(header_at + 36)},
        {"header cookie", std::size_t(header_at)},
        {"a locator entry", std::size_t(header_at + 576 + 16)},
        {"the trailing footer", good.size() - 512 + 70},
    };
    for (auto const& damage : damages) {
        BOOST_TEST_CONTEXT(damage.what) {
            auto bad = good;
            bad[damage.offset] ^= std::byte{0x5A};
            write_file(chain.child, bad);
            BOOST_TEST((kind_of(relink_parent(chain.child, chain.parent)) == StorageErrorKind::Corrupt));
            BOOST_TEST((file_bytes(chain.child) == bad));
        }
    }
    // A BAT entry past the end of the file (the checksums still match).
    auto bad = good;
    vhd::store_be32(bad.data() + table_at, 0x00FF'FFFF);
    write_file(chain.child, bad);
    BOOST_TEST((kind_of(relink_parent(chain.child, chain.parent)) == StorageErrorKind::Corrupt));
    BOOST_TEST((file_bytes(chain.child) == bad));
    // Truncated.
    bad = good;
    bad.resize(1000);
    write_file(chain.child, bad);
    BOOST_TEST((kind_of(relink_parent(chain.child, chain.parent)) == StorageErrorKind::Corrupt));
    BOOST_TEST((file_bytes(chain.child) == bad));
}

namespace {

// Records every change relink_parent makes to the child.
class Recorder final : public HostFileObserver {
public:
    explicit Recorder(std::string path) : m_path(std::move(path)) { HostFile::set_observer(this); }
    ~Recorder() override { HostFile::set_observer(nullptr); }
    Recorder(Recorder const&) = delete;
    Recorder& operator=(Recorder const&) = delete;

    struct Op {
        Change change;
        std::uint64_t offset;
        std::vector<std::byte> data;
    };
    void before_change(HostFile const& file, Change change, std::uint64_t offset,
                       std::span<std::byte const> data) override {
        if (file.path() == m_path) m_ops.push_back({change, offset, {data.begin(), data.end()}});
    }
    std::vector<Op> const& ops() const { return m_ops; }

private:
    std::string m_path;
    std::vector<Op> m_ops;
};

void apply_op(std::vector<std::byte>& file, Recorder::Op const& op) {
    if (op.change == HostFileObserver::Change::Truncate) {
        file.resize(op.offset, std::byte{0});
    } else if (op.change == HostFileObserver::Change::Write) {
        if (file.size() < op.offset + op.data.size()) file.resize(op.offset + op.data.size(), std::byte{0});
        std::memcpy(file.data() + op.offset, op.data.data(), op.data.size());
    }
}

} // namespace

BOOST_AUTO_TEST_CASE(a_crash_at_any_point_leaves_the_old_or_the_new_child) {
    TempDir dir;
    Chain chain = make_chain(dir);
    // The old parent stays where it is, a copy (same unique ID, same
    // modification time) is the new one: a state is good when the child
    // opens on either and reads the same.
    std::string const copy = dir.file("copy.vhd");
    fs::copy_file(chain.parent, copy);
    fs::last_write_time(copy, fs::last_write_time(chain.parent));
    auto const base = file_bytes(chain.child);
    std::vector<Recorder::Op> ops;
    {
        Recorder recorder(chain.child);
        require_ok(relink_parent(chain.child, copy));
        ops = recorder.ops();
    }
    auto const done = file_bytes(chain.child);
    BOOST_REQUIRE(ops.size() >= 4u);

    // Every state a crash just before op k can leave: the ops up to the last
    // sync before k are durable; of the ones after it a process kill keeps
    // all, a power cut any subset, and the file size after any of them.
    std::size_t states = 0, new_states = 0, recovered = 0;
    for (std::size_t k = 0; k <= ops.size(); ++k) {
        std::size_t synced = 0;
        for (std::size_t i = 0; i < k; ++i)
            if (ops[i].change == HostFileObserver::Change::Sync ||
                ops[i].change == HostFileObserver::Change::SyncData)
                synced = i + 1;
        std::vector<std::byte> durable = base;
        for (std::size_t i = 0; i < synced; ++i)
            apply_op(durable, ops[i]);
        std::vector<std::size_t> pending;
        for (std::size_t i = synced; i < k; ++i)
            if (ops[i].change == HostFileObserver::Change::Write) pending.push_back(i);
        BOOST_REQUIRE(pending.size() <= 4u);
        for (unsigned subset = 0; subset < (1u << pending.size()); ++subset) {
            std::vector<std::byte> state = durable;
            std::vector<std::size_t> sizes{durable.size()};
            for (std::size_t j = 0; j < pending.size(); ++j) {
                if (subset & (1u << j)) apply_op(state, ops[pending[j]]);
                sizes.push_back(std::max(sizes.back(), ops[pending[j]].offset + ops[pending[j]].data.size()));
            }
            for (std::size_t size : sizes) {
                std::vector<std::byte> cut = state;
                cut.resize(size, std::byte{0});
                BOOST_TEST_CONTEXT("crash before op " << k << ", subset " << subset << ", size " << size) {
                    ++states;
                    write_file(chain.child, cut);
                    auto image = VhdImage::open(chain.child, true);
                    require_ok(image);
                    std::string const parent = image.value()->info().parent_path;
                    BOOST_TEST((parent == chain.parent || parent == copy));
                    if (parent == copy) ++new_states;
                    bool const footer_lost = image.value()->info().footer_recovered;
                    if (footer_lost) ++recovered;
                    image.value().reset();
                    BOOST_TEST((contents(chain.child) == chain.model));
                    auto problems = problems_of(chain.child);
                    BOOST_TEST(problems.size() == (footer_lost ? 1u : 0u));
                    // A read-write open repairs what a cut left.
                    require_ok(VhdImage::open(chain.child, false));
                    BOOST_TEST(problems_of(chain.child).empty());
                    BOOST_TEST((contents(chain.child) == chain.model));
                }
            }
        }
    }
    BOOST_TEST_MESSAGE(states << " crash states, " << new_states << " on the new parent, " << recovered
                              << " with the trailing footer recovered");
    BOOST_TEST(new_states > 0u);
    BOOST_TEST(recovered > 0u);
    BOOST_TEST((base != done));
}

BOOST_AUTO_TEST_SUITE_END()
