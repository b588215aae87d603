// SPDX-License-Identifier: GPL-2.0-or-later
#include "services/path_policy.h"

#include "tests/appliance/test_support.h"
#include "tests/services/model_test_support.h"

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <unistd.h>

using namespace vsa::services;
namespace fs = std::filesystem;

namespace {

struct Roots {
    vsa::test::TempDir dir;
    fs::path vms;
    fs::path media;
    fs::path outside;
    PathPolicy policy;

    Roots() {
        vms = fs::canonical(dir.path()) / "vms";
        media = fs::canonical(dir.path()) / "media";
        outside = fs::canonical(dir.path()) / "outside";
        for (auto const& folder : {vms, media, outside})
            fs::create_directories(folder);
        std::ofstream(outside / "secret") << "x";
        std::ofstream(media / "disk.vhd") << "x";
        policy = PathPolicy({vms, media});
    }
};

void expect_denied(ServiceResult<fs::path> const& result, std::string const& path) {
    BOOST_REQUIRE_MESSAGE(result.is_error(), path + " was allowed");
    BOOST_TEST(result.error().code == hr::E_ACCESSDENIED, path);
    BOOST_TEST(result.error().message.find(path) != std::string::npos, result.error().message);
}

} // namespace

BOOST_AUTO_TEST_SUITE(path_policy)

BOOST_AUTO_TEST_CASE(paths_inside_the_roots_resolve) {
    Roots roots;
    BOOST_TEST(roots.policy.resolve((roots.media / "disk.vhd").string()).value() == roots.media / "disk.vhd");
    // A file that does not exist yet, in folders that do not either.
    BOOST_TEST(roots.policy.resolve((roots.vms / "new" / "a" / "b.vmc").string()).value() ==
               roots.vms / "new" / "a" / "b.vmc");
    BOOST_TEST(roots.policy.resolve(roots.vms.string()).value() == roots.vms);
    BOOST_TEST(roots.policy.resolve((roots.vms / "." / "x").string()).value() == roots.vms / "x");
}

BOOST_AUTO_TEST_CASE(relative_paths_use_the_first_base_that_has_them) {
    Roots roots;
    BOOST_TEST(roots.policy.resolve("disk.vhd", {roots.vms, roots.media}).value() ==
               roots.media / "disk.vhd");
    BOOST_TEST(roots.policy.resolve("fresh.vhd", {roots.vms, roots.media}).value() ==
               roots.vms / "fresh.vhd");
    auto no_base = roots.policy.resolve("disk.vhd");
    BOOST_REQUIRE(no_base.is_error());
    BOOST_TEST(no_base.error().code == hr::E_BAD_PATHNAME);
}

BOOST_AUTO_TEST_CASE(dot_dot_is_refused_even_when_it_would_stay_inside) {
    Roots roots;
    expect_denied(roots.policy.resolve((roots.vms / ".." / "outside" / "secret").string()),
                  (roots.vms / ".." / "outside" / "secret").string());
    expect_denied(roots.policy.resolve((roots.vms / "a" / ".." / "b").string()), (roots.vms / "a").string());
    expect_denied(roots.policy.resolve("../outside/secret", {roots.vms}), "../outside/secret");
}

BOOST_AUTO_TEST_CASE(paths_outside_every_root_are_refused) {
    Roots roots;
    expect_denied(roots.policy.resolve((roots.outside / "secret").string()),
                  (roots.outside / "secret").string());
    expect_denied(roots.policy.resolve("/etc/passwd"), "/etc/passwd");
    // A sibling whose name starts with a root's name is not inside it.
    fs::create_directories(roots.dir.path() / "vms2");
    expect_denied(roots.policy.resolve((fs::canonical(roots.dir.path()) / "vms2" / "x").string()), "vms2");
}

BOOST_AUTO_TEST_CASE(symlinks_that_leave_the_roots_are_refused) {
    Roots roots;
    // A link to a file outside.
    fs::create_symlink(roots.outside / "secret", roots.vms / "link.vhd");
    expect_denied(roots.policy.resolve((roots.vms / "link.vhd").string()), (roots.vms / "link.vhd").string());
    // A link to a folder outside, and a new file under it.
    fs::create_directory_symlink(roots.outside, roots.vms / "escape");
    expect_denied(roots.policy.resolve((roots.vms / "escape" / "new.vmc").string()),
                  (roots.vms / "escape" / "new.vmc").string());
    // A dangling link: creating a file through it would land outside.
    fs::create_symlink(roots.outside / "not-yet", roots.vms / "dangling.vhd");
    expect_denied(roots.policy.resolve((roots.vms / "dangling.vhd").string()),
                  (roots.vms / "dangling.vhd").string());
    // A loop.
    fs::create_symlink(roots.vms / "loop", roots.vms / "loop");
    BOOST_TEST(roots.policy.resolve((roots.vms / "loop").string()).is_error());
    // A relative path through a link, too.
    expect_denied(roots.policy.resolve("escape/secret", {roots.vms}), "escape/secret");
}

BOOST_AUTO_TEST_CASE(symlinks_that_stay_inside_are_followed) {
    Roots roots;
    fs::create_symlink(roots.media / "disk.vhd", roots.vms / "alias.vhd");
    BOOST_TEST(roots.policy.resolve((roots.vms / "alias.vhd").string()).value() == roots.media / "disk.vhd");
    // A root that is itself reached through a symlink.
    fs::create_directory_symlink(roots.media, roots.dir.path() / "media-link");
    PathPolicy linked({roots.dir.path() / "media-link"});
    BOOST_TEST(linked.resolve((roots.dir.path() / "media-link" / "disk.vhd").string()).value() ==
               roots.media / "disk.vhd");
}

BOOST_AUTO_TEST_CASE(malformed_paths_are_refused) {
    Roots roots;
    BOOST_TEST(roots.policy.resolve("").error().code == hr::E_BAD_PATHNAME);
    BOOST_TEST(roots.policy.resolve(std::string("/a\0b", 4)).error().code == hr::E_INVALID_NAME);
    BOOST_TEST(roots.policy.resolve("/a\nb").error().code == hr::E_INVALID_NAME);
    BOOST_TEST(roots.policy.resolve("/\xff\xfe").error().code == hr::E_INVALID_NAME);
    BOOST_TEST(roots.policy.resolve("/" + std::string(5000, 'a')).error().code == hr::E_BUFFER_OVERFLOW);
    BOOST_TEST(PathPolicy().resolve("/tmp").error().code == hr::E_ACCESSDENIED); // no roots: nothing allowed
}

BOOST_AUTO_TEST_SUITE_END()
