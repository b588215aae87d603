// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/persist/atomic_file.h"

#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace vsa::services;
namespace fs = std::filesystem;

namespace {

std::string slurp(fs::path const& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t entries(fs::path const& folder) {
    std::size_t count = 0;
    for ([[maybe_unused]] auto const& entry : fs::directory_iterator(folder))
        ++count;
    return count;
}

} // namespace

BOOST_AUTO_TEST_SUITE(atomic_file)

BOOST_AUTO_TEST_CASE(writes_and_replaces_whole_files) {
    vsa::test::TempDir dir;
    auto file = dir.path() / "a.vmc";
    BOOST_REQUIRE(write_file_atomically(file, "first").has_value());
    BOOST_TEST(slurp(file) == "first");
    struct stat info {};
    BOOST_REQUIRE(::stat(file.c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 0777) == 0640u);
    ::chmod(file.c_str(), 0600);
    BOOST_REQUIRE(write_file_atomically(file, "second, longer").has_value());
    BOOST_TEST(slurp(file) == "second, longer");
    BOOST_REQUIRE(::stat(file.c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 0777) == 0600u); // the mode survives
    BOOST_TEST(entries(dir.path()) == 1u);      // no temporaries left
}

BOOST_AUTO_TEST_CASE(a_failure_between_write_and_rename_keeps_the_old_file) {
    vsa::test::TempDir dir;
    auto file = dir.path() / "options.xml";
    BOOST_REQUIRE(write_file_atomically(file, "old contents").has_value());
    fs::path seen_temporary;
    AtomicWriteHooks crash;
    crash.before_rename = [&](fs::path const& temporary) -> ServiceResult<void> {
        seen_temporary = temporary;
        // The new bytes are complete and durable in the temporary...
        BOOST_TEST(slurp(temporary) == "new contents");
        BOOST_TEST(temporary.parent_path() == dir.path());
        // ...and the real name still holds the old ones.
        BOOST_TEST(slurp(file) == "old contents");
        return service_error(hr::E_FAIL, "simulated crash");
    };
    auto result = write_file_atomically(file, "new contents", crash);
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST(result.error().message == "simulated crash");
    BOOST_TEST(slurp(file) == "old contents");
    BOOST_TEST(!fs::exists(seen_temporary)); // cleaned up
    BOOST_TEST(entries(dir.path()) == 1u);
}

BOOST_AUTO_TEST_CASE(a_crash_leaves_a_temporary_that_is_swept) {
    vsa::test::TempDir dir;
    auto file = dir.path() / "web.vmc";
    BOOST_REQUIRE(write_file_atomically(file, "good").has_value());
    // What a SIGKILL before the rename leaves behind.
    std::ofstream(dir.path() / ".web.vmc.tmp-AbC123") << "half";
    std::ofstream(dir.path() / "keep.me") << "x";
    BOOST_TEST(remove_stale_temporaries(dir.path()) == 1u);
    BOOST_TEST(slurp(file) == "good");
    BOOST_TEST(fs::exists(dir.path() / "keep.me"));
}

BOOST_AUTO_TEST_CASE(errors_name_the_path) {
    vsa::test::TempDir dir;
    auto missing_folder = dir.path() / "no" / "such.xml";
    auto result = write_file_atomically(missing_folder, "x");
    BOOST_REQUIRE(result.is_error());
    BOOST_TEST(result.error().message.find(missing_folder.string()) != std::string::npos);
    fs::create_directory(dir.path() / "folder");
    auto not_a_file = write_file_atomically(dir.path() / "folder", "x");
    BOOST_REQUIRE(not_a_file.is_error());
    BOOST_TEST(not_a_file.error().code == hr::E_ACCESSDENIED);
}

BOOST_AUTO_TEST_CASE(reads_are_capped_and_refuse_special_files) {
    vsa::test::TempDir dir;
    auto file = dir.path() / "big";
    std::ofstream(file) << std::string(1000, 'x');
    BOOST_TEST(read_file_capped(file, 1000).value().size() == 1000u);
    auto too_big = read_file_capped(file, 999);
    BOOST_REQUIRE(too_big.is_error());
    BOOST_TEST(too_big.error().message.find("1000 bytes") != std::string::npos);
    // A FIFO must neither block the open nor be read.
    auto fifo = dir.path() / "fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    BOOST_TEST(read_file_capped(fifo, 100).is_error());
    BOOST_TEST(read_file_capped(dir.path(), 100).is_error());
    BOOST_TEST(read_file_capped("/dev/zero", 100).is_error());
    auto missing = read_file_capped(dir.path() / "missing", 100);
    BOOST_REQUIRE(missing.is_error());
    BOOST_TEST(missing.error().code == hr::E_FILE_NOT_FOUND);
}

BOOST_AUTO_TEST_SUITE_END()
