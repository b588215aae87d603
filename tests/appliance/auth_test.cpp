// SPDX-License-Identifier: GPL-2.0-or-later
// Tests for appliance/auth: password hashing, the account file, sessions and
// the login throttle. Time is a fake clock so expiry tests do not sleep, and
// scrypt runs with N = 2^10 except where the defaults themselves are tested.
#include "appliance/auth/account_store.h"
#include "appliance/auth/login_throttle.h"
#include "appliance/auth/password_hash.h"
#include "appliance/auth/session_store.h"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace vsa::appliance;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

PasswordHashParams const FAST{1u << 10, 8, 1};

struct FakeClock {
    std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
    SteadyClockFn fn() {
        return [this] { return now; };
    }
    void advance(std::chrono::steady_clock::duration step) { now += step; }
};

// A fresh directory per test, removed afterwards even if the test fails.
struct TempDir {
    fs::path path;
    TempDir() {
        std::random_device random;
        path = fs::temp_directory_path() /
               ("vsa-auth-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

struct AccountFixture {
    TempDir dir;
    fs::path file = dir.path / "etc" / "accounts.json";

    std::unique_ptr<AccountStore> open_store() {
        auto store = AccountStore::open(file, FAST);
        BOOST_REQUIRE_MESSAGE(store.has_value(), (store.has_value() ? "" : store.error()));
        return store.release_value();
    }
    void write_file(std::string const& content) {
        fs::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    }
    std::string read_file() {
        std::ifstream in(file, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
};

std::string replace_all(std::string text, std::string const& from, std::string const& to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
        text.replace(pos, from.size(), to);
    return text;
}

} // namespace

BOOST_AUTO_TEST_SUITE(password_hash)

BOOST_AUTO_TEST_CASE(round_trip_and_encoding) {
    auto hash = hash_password("correct horse battery staple", FAST);
    BOOST_REQUIRE(hash.has_value());
    std::string const& encoded = hash.value();
    BOOST_TEST(encoded.rfind("$scrypt$ln=10,r=8,p=1$", 0) == 0u);
    auto key_start = encoded.rfind('$');
    auto salt_start = encoded.rfind('$', key_start - 1);
    BOOST_TEST(key_start - salt_start - 1 == 22u);        // 16 bytes
    BOOST_TEST(encoded.size() - key_start - 1 == 43u);    // 32 bytes
    BOOST_TEST(encoded.find('=') == encoded.find("=10")); // no padding anywhere else
    BOOST_TEST(is_well_formed_password_hash(encoded));
    BOOST_TEST(verify_password("correct horse battery staple", encoded));
}

BOOST_AUTO_TEST_CASE(wrong_password_fails) {
    auto hash = hash_password("correct horse battery staple", FAST).release_value();
    BOOST_TEST(!verify_password("correct horse battery stapl", hash));
    BOOST_TEST(!verify_password("Correct horse battery staple", hash));
    BOOST_TEST(!verify_password("", hash));
}

BOOST_AUTO_TEST_CASE(empty_password_round_trips) {
    auto hash = hash_password("", FAST).release_value();
    BOOST_TEST(verify_password("", hash));
    BOOST_TEST(!verify_password("x", hash));
}

BOOST_AUTO_TEST_CASE(same_password_gets_different_salts) {
    auto first = hash_password("hunter22", FAST).release_value();
    auto second = hash_password("hunter22", FAST).release_value();
    BOOST_TEST(first != second);
    BOOST_TEST(first.substr(0, first.rfind('$')) != second.substr(0, second.rfind('$')));
    BOOST_TEST(verify_password("hunter22", first));
    BOOST_TEST(verify_password("hunter22", second));
}

BOOST_AUTO_TEST_CASE(default_parameters) {
    // N = 2^15, r = 8 needs 32 MiB: this fails unless maxmem is set explicitly.
    auto hash = hash_password("default cost password");
    BOOST_REQUIRE_MESSAGE(hash.has_value(), (hash.has_value() ? "" : hash.error()));
    BOOST_TEST(hash.value().rfind("$scrypt$ln=15,r=8,p=1$", 0) == 0u);
    BOOST_TEST(verify_password("default cost password", hash.value()));
    BOOST_TEST(!verify_password("default cost passwort", hash.value()));
}

BOOST_AUTO_TEST_CASE(bad_parameters_are_refused) {
    for (PasswordHashParams params :
         {PasswordHashParams{0, 8, 1}, PasswordHashParams{1000, 8, 1}, PasswordHashParams{1u << 9, 8, 1},
          PasswordHashParams{1u << 21, 8, 1}, PasswordHashParams{1u << 10, 0, 1},
          PasswordHashParams{1u << 10, 33, 1}, PasswordHashParams{1u << 10, 8, 0},
          PasswordHashParams{1u << 10, 8, 17}, PasswordHashParams{1u << 20, 32, 1}}) {
        BOOST_TEST_CONTEXT("n=" << params.n << " r=" << params.r << " p=" << params.p) {
            auto hash = hash_password("password", params);
            BOOST_TEST(hash.is_error());
        }
    }
}

BOOST_AUTO_TEST_CASE(malformed_encodings_are_false) {
    std::string const good = hash_password("password", FAST).release_value();
    BOOST_REQUIRE(verify_password("password", good));
    auto key_start = good.rfind('$') + 1;
    auto salt_start = good.rfind('$', key_start - 2) + 1;
    std::string salt = good.substr(salt_start, key_start - 1 - salt_start);
    std::string key = good.substr(key_start);
    std::string params = "ln=10,r=8,p=1";
    auto make = [&](std::string const& p, std::string const& s, std::string const& k) {
        return "$scrypt$" + p + "$" + s + "$" + k;
    };
    BOOST_REQUIRE(make(params, salt, key) == good);

    // The key's last character carries two unused bits; a lax decoder would
    // accept it with them set and decode the same bytes.
    std::string non_canonical_key = key;
    non_canonical_key.back() = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        [std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
             .find(key.back()) ^
         1];

    std::vector<std::string> const bad{
        "",
        "$",
        "$$$$",
        "$scrypt$",
        "$scrypt$" + params,
        "$scrypt$" + params + "$" + salt,
        good.substr(0, good.size() - 1), // truncated key
        good.substr(0, good.size() / 2), // truncated in the salt
        good + "A",
        good + "$",
        " " + good,
        replace_all(good, "$scrypt$", "$SCRYPT$"),
        replace_all(good, "$scrypt$", "$argon2id$"),
        replace_all(good, "$scrypt$", "$2b$"),
        make("ln=99,r=8,p=1", salt, key),
        make("ln=4294967306,r=8,p=1", salt, key),
        make("ln=9,r=8,p=1", salt, key),
        make("ln=21,r=8,p=1", salt, key),
        make("ln=-10,r=8,p=1", salt, key),
        make("ln=010,r=8,p=1", salt, key),
        make("ln=,r=8,p=1", salt, key),
        make("ln=10,r=0,p=1", salt, key),
        make("ln=10,r=33,p=1", salt, key),
        make("ln=10,r=8,p=0", salt, key),
        make("ln=10,r=8,p=17", salt, key),
        make("r=8,ln=10,p=1", salt, key),
        make("ln=10,r=8", salt, key),
        make("ln=10,r=8,p=1,x=1", salt, key),
        make("ln=10;r=8;p=1", salt, key),
        make("ln=10,r=8,p=1 ", salt, key),
        make(params, salt + "==", key),
        make(params, salt.substr(1), key),
        make(params, "*" + salt.substr(1), key),
        make(params, salt, key + "="),
        make(params, salt, key.substr(0, 42)),
        make(params, salt, "-" + key.substr(1)), // base64url, not base64
        make(params, salt, non_canonical_key),
        make(params, "", key),
        make(params, salt, ""),
        make(params, key, salt), // swapped: wrong lengths
        std::string("$scrypt$ln=10,r=8,p=1$\0", 23) + salt + "$" + key,
        std::string(1 << 20, '$'),
        "$scrypt$" + std::string(1 << 16, 'A'),
    };
    for (std::size_t i = 0; i < bad.size(); ++i) {
        BOOST_TEST_CONTEXT("variant " << i) {
            BOOST_TEST(!verify_password("password", bad[i]));
            BOOST_TEST(!is_well_formed_password_hash(bad[i]));
        }
    }
}

BOOST_AUTO_TEST_CASE(tampered_hash_fails) {
    std::string const good = hash_password("password", FAST).release_value();
    std::string other_cost = replace_all(good, "ln=10", "ln=11");
    BOOST_TEST(is_well_formed_password_hash(other_cost));
    BOOST_TEST(!verify_password("password", other_cost));

    std::string flipped = good;
    char& c = flipped[flipped.size() - 5];
    c = (c == 'A') ? 'B' : 'A';
    BOOST_TEST(is_well_formed_password_hash(flipped));
    BOOST_TEST(!verify_password("password", flipped));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(account_store, AccountFixture)

BOOST_AUTO_TEST_CASE(missing_file_is_an_empty_store) {
    auto store = open_store();
    BOOST_TEST(store->size() == 0u);
    BOOST_TEST(store->names().empty());
    BOOST_TEST(store->generation() == 0u);
    BOOST_TEST(!store->find("admin").has_value());
    BOOST_TEST(!fs::exists(file)); // opening alone writes nothing
}

BOOST_AUTO_TEST_CASE(add_find_verify) {
    auto store = open_store();
    BOOST_REQUIRE(store->add("alice", "wonderland", false).has_value());
    BOOST_REQUIRE(store->add("root", "toor-toor", true).has_value());
    BOOST_TEST(store->size() == 2u);
    BOOST_TEST(store->generation() == 2u);

    auto alice = store->find("alice");
    BOOST_REQUIRE(alice.has_value());
    BOOST_TEST(alice->name == "alice");
    BOOST_TEST(!alice->administrator);
    BOOST_TEST(is_well_formed_password_hash(alice->password_hash));
    BOOST_TEST(alice->password_hash.find("wonderland") == std::string::npos);
    BOOST_TEST(store->find("root")->administrator);

    BOOST_TEST(store->verify("alice", "wonderland"));
    BOOST_TEST(!store->verify("alice", "toor-toor"));
    BOOST_TEST(store->verify("root", "toor-toor"));
    BOOST_TEST(!store->verify("root", "wonderland"));
}

BOOST_AUTO_TEST_CASE(names_are_case_insensitive) {
    auto store = open_store();
    BOOST_REQUIRE(store->add("Alice", "wonderland", false).has_value());
    BOOST_TEST(store->find("ALICE")->name == "Alice");
    BOOST_TEST(store->find("alice")->name == "Alice");
    BOOST_TEST(store->verify("aLiCe", "wonderland"));

    auto duplicate = store->add("alice", "something-else", true);
    BOOST_REQUIRE(duplicate.is_error());
    BOOST_TEST(duplicate.error().find("exists") != std::string::npos);
    BOOST_TEST(store->add("Alice", "wonderland", false).is_error());
    BOOST_TEST(store->size() == 1u);
    BOOST_TEST(store->generation() == 1u);
    BOOST_TEST((store->names() == std::vector<std::string>{"Alice"}));

    BOOST_REQUIRE(store->add("bob", "builder1", false).has_value());
    BOOST_REQUIRE(store->add("Carol", "carol-pass", false).has_value());
    BOOST_TEST((store->names() == std::vector<std::string>{"Alice", "bob", "Carol"}));
}

BOOST_AUTO_TEST_CASE(bad_names_are_refused) {
    auto store = open_store();
    std::vector<std::string> const bad{
        "",
        "-bob",
        ".hidden",
        "_x",
        "a b",
        "a/b",
        "a\\b",
        "a:b",
        "a@b",
        "caf\xc3\xa9",
        "a\nb",
        std::string("a\0b", 3),
        std::string(65, 'a'),
        "../etc",
    };
    for (auto const& name : bad) {
        BOOST_TEST_CONTEXT("name #" << (&name - bad.data())) {
            BOOST_TEST(store->add(name, "password", false).is_error());
        }
    }
    BOOST_TEST(store->size() == 0u);
    BOOST_TEST(store->generation() == 0u);

    for (std::string name :
         {std::string(64, 'z'), std::string("a.b_c-d"), std::string("9"), std::string("X")}) {
        BOOST_TEST_CONTEXT(name) {
            BOOST_TEST(store->add(name, "password", false).has_value());
        }
    }
    BOOST_TEST(store->size() == 4u);
}

BOOST_AUTO_TEST_CASE(password_length_limits) {
    auto store = open_store();
    BOOST_TEST(store->add("short", "1234567", false).is_error());
    BOOST_TEST(store->add("long", std::string(1025, 'x'), false).is_error());
    BOOST_TEST(store->size() == 0u);
    BOOST_TEST(store->add("eight", "12345678", false).has_value());
    BOOST_TEST(store->add("maximal", std::string(1024, 'x'), false).has_value());
    BOOST_TEST(store->verify("maximal", std::string(1024, 'x')));
    BOOST_TEST(!store->verify("maximal", std::string(1025, 'x')));
}

BOOST_AUTO_TEST_CASE(remove_account) {
    auto store = open_store();
    BOOST_REQUIRE(store->add("alice", "wonderland", false).has_value());
    BOOST_REQUIRE(store->add("bob", "builder1", false).has_value());
    auto before = store->generation();
    BOOST_REQUIRE(store->remove("ALICE").has_value());
    BOOST_TEST(store->generation() == before + 1);
    BOOST_TEST(!store->find("alice").has_value());
    BOOST_TEST(!store->verify("alice", "wonderland"));
    BOOST_TEST(store->size() == 1u);

    BOOST_TEST(store->remove("alice").is_error());
    BOOST_TEST(store->remove("nobody").is_error());
    BOOST_TEST(store->generation() == before + 1);
    // The name is free again.
    BOOST_TEST(store->add("Alice", "new-password", false).has_value());
}

BOOST_AUTO_TEST_CASE(change_password) {
    auto store = open_store();
    BOOST_REQUIRE(store->add("alice", "wonderland", false).has_value());
    auto before = store->generation();
    BOOST_REQUIRE(store->set_password("Alice", "looking-glass").has_value());
    BOOST_TEST(store->generation() == before + 1);
    BOOST_TEST(!store->verify("alice", "wonderland"));
    BOOST_TEST(store->verify("alice", "looking-glass"));
    BOOST_TEST(store->find("alice")->name == "alice");

    BOOST_TEST(store->set_password("alice", "short").is_error());
    BOOST_TEST(store->set_password("nobody", "long enough").is_error());
    BOOST_TEST(store->generation() == before + 1);
    BOOST_TEST(store->verify("alice", "looking-glass"));
}

BOOST_AUTO_TEST_CASE(unknown_user_does_not_verify) {
    auto store = open_store();
    BOOST_REQUIRE(store->add("alice", "wonderland", false).has_value());
    BOOST_TEST(!store->verify("bob", "wonderland"));
    BOOST_TEST(!store->verify("", ""));
    BOOST_TEST(!store->verify(std::string(100000, 'a'), "wonderland"));
    BOOST_TEST(!store->verify("alice", std::string(100000, 'a')));
    BOOST_TEST(!store->find(std::string(100000, 'a')).has_value());
}

BOOST_AUTO_TEST_CASE(changes_persist_across_reopen) {
    {
        auto store = open_store();
        BOOST_REQUIRE(store->add("Alice", "wonderland", false).has_value());
        BOOST_REQUIRE(store->add("root", "toor-toor", true).has_value());
        BOOST_REQUIRE(store->add("gone", "soon-gone", false).has_value());
        BOOST_REQUIRE(store->remove("gone").has_value());
        BOOST_REQUIRE(store->set_password("root", "new-root-pw").has_value());
    }
    std::string content = read_file();
    BOOST_TEST(content.find("\"version\":1") != std::string::npos);
    BOOST_TEST(content.find("wonderland") == std::string::npos);
    BOOST_TEST(content.find("new-root-pw") == std::string::npos);

    auto store = open_store();
    BOOST_TEST(store->size() == 2u);
    BOOST_TEST(store->generation() == 0u);
    BOOST_TEST((store->names() == std::vector<std::string>{"Alice", "root"}));
    BOOST_TEST(store->verify("alice", "wonderland"));
    BOOST_TEST(store->verify("root", "new-root-pw"));
    BOOST_TEST(!store->verify("root", "toor-toor"));
    BOOST_TEST(store->find("root")->administrator);
    BOOST_TEST(!store->find("Alice")->administrator);
    BOOST_TEST(!store->find("gone").has_value());
}

// Groups (for access control lists): optional in the file, so files from
// before them open unchanged; written only when an account has some.
BOOST_AUTO_TEST_CASE(groups_persist_and_stay_optional) {
    {
        auto store = open_store();
        BOOST_REQUIRE(store->add("plain", "password-1", false).has_value());
        BOOST_REQUIRE(store->add("bob", "password-2", false, {"operators", "Backup"}).has_value());
        BOOST_TEST(store->add("bad", "password-3", false, {"Administrators"}).is_error());
        BOOST_TEST(store->add("bad", "password-3", false, {"everyone"}).is_error());
        BOOST_TEST(store->add("bad", "password-3", false, {"a/b"}).is_error());
        BOOST_TEST(store->add("bad", "password-3", false, {"x", "X"}).is_error());
        BOOST_TEST(!store->find("bad").has_value());
        BOOST_REQUIRE(store->set_groups("plain", {"operators"}).has_value());
        BOOST_TEST(store->set_groups("nobody", {"operators"}).is_error());
    }
    BOOST_TEST(read_file().find("\"groups\":[\"operators\",\"Backup\"]") != std::string::npos);
    auto store = open_store();
    BOOST_TEST((store->find("bob")->groups == std::vector<std::string>{"operators", "Backup"}));
    BOOST_TEST((store->find("plain")->groups == std::vector<std::string>{"operators"}));
    BOOST_TEST(store->find_group("BACKUP").value_or("") == "Backup");
    BOOST_TEST(!store->find_group("nobody").has_value());
    BOOST_REQUIRE(store->set_groups("plain", {}).has_value());
    BOOST_REQUIRE(store->set_groups("bob", {}).has_value());
    BOOST_TEST(read_file().find("groups") == std::string::npos); // back to the old format
    BOOST_TEST(!store->find_group("operators").has_value());
}

BOOST_AUTO_TEST_CASE(bad_groups_in_the_file_are_errors) {
    std::string const hash = hash_password("password", FAST).release_value();
    for (std::string groups : {"\"groups\":\"operators\"", "\"groups\":[1]", "\"groups\":[\"a b\"]",
                               "\"groups\":[\"Everyone\"]"}) {
        write_file("{\"version\":1,\"accounts\":[{\"name\":\"alice\",\"hash\":\"" + hash +
                   "\",\"administrator\":false," + groups + "}]}");
        BOOST_TEST(AccountStore::open(file, FAST).is_error(), groups);
    }
}

BOOST_AUTO_TEST_CASE(file_and_directory_modes) {
    auto store = open_store();
    BOOST_REQUIRE(store->add("alice", "wonderland", false).has_value());
    struct stat info {};
    BOOST_REQUIRE(::stat(file.c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 07777) == 0600u);
    BOOST_TEST(S_ISREG(info.st_mode));
    BOOST_REQUIRE(::stat(file.parent_path().c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 07777) == 0700u);
    BOOST_TEST(!fs::exists(fs::path(file.string() + ".tmp")));

    // A wider mode left on the file by someone else is not kept.
    fs::permissions(file, fs::perms::all);
    BOOST_REQUIRE(store->add("bob", "builder1", false).has_value());
    BOOST_REQUIRE(::stat(file.c_str(), &info) == 0);
    BOOST_TEST((info.st_mode & 07777) == 0600u);
}

BOOST_AUTO_TEST_CASE(failed_save_rolls_back) {
    auto store = open_store();
    BOOST_REQUIRE(store->add("alice", "wonderland", false).has_value());
    auto generation = store->generation();
    std::string saved = read_file();

    // A directory where the temp file must go makes every save fail, even
    // for root (who ignores permission bits).
    fs::path temp = file.string() + ".tmp";
    fs::create_directory(temp);

    auto added = store->add("bob", "builder1", false);
    BOOST_REQUIRE(added.is_error());
    BOOST_TEST(added.error().find(file.string()) != std::string::npos);
    BOOST_TEST(!store->find("bob").has_value());

    BOOST_TEST(store->set_password("alice", "looking-glass").is_error());
    BOOST_TEST(store->verify("alice", "wonderland"));
    BOOST_TEST(!store->verify("alice", "looking-glass"));

    BOOST_TEST(store->remove("alice").is_error());
    BOOST_TEST(store->find("alice").has_value());

    BOOST_TEST(store->size() == 1u);
    BOOST_TEST(store->generation() == generation);
    BOOST_TEST(read_file() == saved);

    fs::remove(temp);
    BOOST_TEST(store->add("bob", "builder1", false).has_value());
    BOOST_TEST(store->generation() == generation + 1);
}

BOOST_AUTO_TEST_CASE(corrupt_files_are_errors) {
    std::string const hash = hash_password("password", FAST).release_value();
    auto entry = [&](std::string const& name, std::string const& h, std::string const& admin) {
        return "{\"name\":" + name + ",\"hash\":" + h + ",\"administrator\":" + admin + "}";
    };
    std::string const quoted_hash = "\"" + hash + "\"";
    std::string const valid =
        "{\"version\":1,\"accounts\":[" + entry("\"alice\"", quoted_hash, "false") + "]}";

    // The valid document opens; every variant below must not.
    write_file(valid);
    BOOST_REQUIRE(AccountStore::open(file, FAST).has_value());

    std::vector<std::string> const corrupt{
        "",
        "not json at all",
        "\x00\x01\x02",
        "{",
        valid.substr(0, valid.size() / 2),
        valid.substr(0, valid.size() - 1),
        "[]",
        "null",
        "1",
        "\"text\"",
        "{}",
        "{\"accounts\":[]}",
        "{\"version\":1}",
        "{\"version\":2,\"accounts\":[]}",
        "{\"version\":0,\"accounts\":[]}",
        "{\"version\":\"1\",\"accounts\":[]}",
        "{\"version\":1.5,\"accounts\":[]}",
        "{\"version\":true,\"accounts\":[]}",
        "{\"version\":1,\"accounts\":{}}",
        "{\"version\":1,\"accounts\":\"alice\"}",
        "{\"version\":1,\"accounts\":[1]}",
        "{\"version\":1,\"accounts\":[[]]}",
        "{\"version\":1,\"accounts\":[" + entry("1", quoted_hash, "false") + "]}",
        "{\"version\":1,\"accounts\":[" + entry("\"alice\"", "7", "false") + "]}",
        "{\"version\":1,\"accounts\":[" + entry("\"alice\"", quoted_hash, "\"yes\"") + "]}",
        "{\"version\":1,\"accounts\":[" + entry("\"alice\"", quoted_hash, "1") + "]}",
        "{\"version\":1,\"accounts\":[{\"name\":\"alice\",\"hash\":" + quoted_hash + "}]}",
        "{\"version\":1,\"accounts\":[{\"name\":\"alice\",\"administrator\":false}]}",
        "{\"version\":1,\"accounts\":[" + entry("\"bad name\"", quoted_hash, "false") + "]}",
        "{\"version\":1,\"accounts\":[" + entry("\"alice\"", "\"plaintext\"", "false") + "]}",
        "{\"version\":1,\"accounts\":[" + entry("\"alice\"", quoted_hash, "false") + "," +
            entry("\"ALICE\"", quoted_hash, "true") + "]}",
        std::string(200, '[') + std::string(200, ']'),
    };
    for (std::size_t i = 0; i < corrupt.size(); ++i) {
        BOOST_TEST_CONTEXT("variant " << i) {
            write_file(corrupt[i]);
            auto store = AccountStore::open(file, FAST);
            BOOST_REQUIRE(store.is_error());
            BOOST_TEST(store.error().find(file.string()) != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(unreadable_path_is_an_error) {
    fs::create_directories(file); // a directory where the file should be
    auto store = AccountStore::open(file, FAST);
    BOOST_REQUIRE(store.is_error());
    BOOST_TEST(store.error().find(file.string()) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_params_fail_open) {
    auto store = AccountStore::open(file, PasswordHashParams{1000, 8, 1});
    BOOST_TEST(store.is_error());
}

// vsad and `vsad user` (the appliance console) share the file.
BOOST_AUTO_TEST_CASE(two_processes_share_the_file) {
    auto daemon = open_store();
    BOOST_REQUIRE(daemon->add("admin", "admin-pass-1", true).has_value());
    BOOST_REQUIRE(daemon->add("viewer", "viewer-pass-1", false).has_value());
    auto nothing = daemon->refresh();
    BOOST_REQUIRE(nothing.has_value());
    BOOST_TEST(nothing.value().empty()); // its own writes are not news

    auto tool = open_store();
    BOOST_REQUIRE(tool->set_password("admin", "console-pass-1").has_value());
    BOOST_REQUIRE(tool->add("helper", "helper-pass-1", false).has_value());
    auto before = daemon->generation();
    auto stale = daemon->refresh();
    BOOST_REQUIRE(stale.has_value());
    BOOST_TEST(stale.value() == std::vector<std::string>{"admin"});
    BOOST_TEST(daemon->generation() > before);
    BOOST_TEST(daemon->verify("admin", "console-pass-1"));
    BOOST_TEST(daemon->find("helper").has_value());

    // A change starts from the file as it is now: nothing the other side
    // wrote is lost, and the reload's news is still reported.
    BOOST_REQUIRE(tool->remove("viewer").has_value());
    BOOST_REQUIRE(daemon->add("second", "second-pass-1", false).has_value());
    BOOST_TEST(!daemon->find("viewer").has_value());
    auto reopened = open_store();
    BOOST_TEST(reopened->names() == (std::vector<std::string>{"admin", "helper", "second"}));
    auto removed = daemon->refresh();
    BOOST_REQUIRE(removed.has_value());
    BOOST_TEST(removed.value() == std::vector<std::string>{"viewer"});

    // root writing for vsad's user keeps the file's owner.
    if (::geteuid() == 0) {
        BOOST_REQUIRE(daemon->set_password("helper", "helper-pass-2").has_value());
        BOOST_REQUIRE(::chown(file.c_str(), 4321, 4321) == 0);
        BOOST_REQUIRE(tool->set_password("helper", "helper-pass-3").has_value());
        struct stat info {};
        BOOST_REQUIRE(::stat(file.c_str(), &info) == 0);
        BOOST_TEST(info.st_uid == 4321u);
        BOOST_TEST(info.st_gid == 4321u);
        BOOST_REQUIRE(daemon->refresh().has_value());
    } else {
        BOOST_REQUIRE(daemon->set_password("helper", "helper-pass-3").has_value());
    }

    // A broken file (hand edit) keeps what memory holds.
    write_file("{ broken");
    BOOST_TEST(daemon->refresh().is_error());
    BOOST_TEST(daemon->verify("helper", "helper-pass-3"));
    // and a change is refused rather than overwrite what someone is editing.
    auto refused = daemon->try_set_password("helper", "helper-pass-4");
    BOOST_REQUIRE(refused.is_error());
    BOOST_TEST(int(refused.error().kind) == int(AccountErrorKind::Storage));
}

BOOST_AUTO_TEST_CASE(concurrent_changes_and_logins) {
    auto store = open_store();
    BOOST_REQUIRE(store->add("alice", "wonderland", false).has_value());
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3; ++i) {
                if (!store->add("user" + std::to_string(t) + "_" + std::to_string(i), "password", false))
                    ++failures;
                if (!store->verify("alice", "wonderland")) ++failures;
                if (store->verify("nobody", "wonderland")) ++failures;
            }
        });
    }
    for (auto& thread : threads)
        thread.join();
    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(store->size() == 13u);
    BOOST_TEST(store->generation() == 13u);
    BOOST_TEST(open_store()->size() == 13u);
}

BOOST_FIXTURE_TEST_CASE(changes_say_why_they_were_refused, AccountFixture) {
    auto store = open_store();
    BOOST_REQUIRE(store->try_add("alice", "wonderland", false, {"operators"}).has_value());
    auto kind = [](vsa::Result<void, AccountError> const& result) {
        BOOST_REQUIRE(result.is_error());
        return result.error().kind;
    };
    BOOST_TEST((kind(store->try_add("bad name", "wonderland", false)) == AccountErrorKind::Invalid));
    BOOST_TEST((kind(store->try_add("bob", "short", false)) == AccountErrorKind::Invalid));
    BOOST_TEST((kind(store->try_add("bob", "wonderland", false, {"Everyone"})) == AccountErrorKind::Invalid));
    BOOST_TEST((kind(store->try_add("ALICE", "wonderland", false)) == AccountErrorKind::Exists));
    BOOST_TEST((kind(store->try_set_password("nobody", "wonderland")) == AccountErrorKind::NotFound));
    BOOST_TEST((kind(store->try_set_groups("nobody", {})) == AccountErrorKind::NotFound));
    BOOST_TEST((kind(store->try_set_administrator("nobody", true)) == AccountErrorKind::NotFound));
    BOOST_TEST((kind(store->try_remove("nobody", true)) == AccountErrorKind::NotFound));
    BOOST_TEST(!AccountStore::name_problem("ok.name-1").has_value());
    BOOST_TEST(AccountStore::name_problem("-no").has_value());
    BOOST_TEST(AccountStore::password_problem("1234567").has_value());
    BOOST_TEST(AccountStore::groups_problem({"a", "A"}).has_value());
}

BOOST_FIXTURE_TEST_CASE(the_last_administrator_cannot_be_demoted_or_removed, AccountFixture) {
    auto store = open_store();
    BOOST_REQUIRE(store->add("root", "password-1", true).has_value());
    BOOST_REQUIRE(store->add("alice", "password-2", false).has_value());
    auto generation = store->generation();
    auto demoted = store->try_set_administrator("ROOT", false);
    BOOST_REQUIRE(demoted.is_error());
    BOOST_TEST((demoted.error().kind == AccountErrorKind::LastAdministrator));
    BOOST_TEST(demoted.error().message.find("last administrator") != std::string::npos);
    auto removed = store->try_remove("root", true);
    BOOST_REQUIRE(removed.is_error());
    BOOST_TEST((removed.error().kind == AccountErrorKind::LastAdministrator));
    BOOST_TEST(store->generation() == generation); // nothing changed
    BOOST_TEST(store->find("root")->administrator);

    // With a second administrator either may go; then the other is the last.
    BOOST_REQUIRE(store->try_set_administrator("alice", true).has_value());
    BOOST_REQUIRE(store->try_set_administrator("alice", true).has_value()); // no change, no error
    BOOST_REQUIRE(store->try_set_administrator("root", false).has_value());
    BOOST_TEST(!open_store()->find("root")->administrator); // on disk
    BOOST_TEST(store->try_set_administrator("alice", false).is_error());
    BOOST_REQUIRE(store->try_set_administrator("root", true).has_value());
    BOOST_REQUIRE(store->try_remove("alice", true).has_value());
    BOOST_TEST(!store->find("alice"));
    // The command line's remove does not guard (root on the console can add one back).
    BOOST_REQUIRE(store->remove("root").has_value());
    BOOST_TEST(store->size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(session_store)

BOOST_AUTO_TEST_CASE(create_and_touch) {
    FakeClock clock;
    SessionStore sessions(60s, clock.fn());
    auto token = sessions.create("alice");
    BOOST_TEST(token.size() == 43u);
    BOOST_TEST(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
               std::string::npos);
    BOOST_TEST(sessions.touch(token).value_or("<none>") == "alice");
    BOOST_TEST(sessions.size() == 1u);

    std::set<std::string> tokens{token};
    for (int i = 0; i < 100; ++i)
        tokens.insert(sessions.create("bob"));
    BOOST_TEST(tokens.size() == 101u);
    BOOST_TEST(sessions.size() == 101u);
}

BOOST_AUTO_TEST_CASE(unknown_tokens_are_rejected) {
    SessionStore sessions(60s);
    auto token = sessions.create("alice");
    std::string altered = token;
    altered[10] = altered[10] == 'A' ? 'B' : 'A';
    for (std::string const& bad : {std::string(), std::string("x"), altered, token + "A", token.substr(1),
                                   std::string(43, 'A'), std::string(1 << 20, 'A')}) {
        BOOST_TEST(!sessions.touch(bad).has_value());
        BOOST_TEST(!sessions.remove(bad));
    }
    BOOST_TEST(sessions.touch(token).has_value());
}

BOOST_AUTO_TEST_CASE(idle_expiry) {
    FakeClock clock;
    SessionStore sessions(60s, clock.fn());
    auto token = sessions.create("alice");

    // Use keeps the session alive past the timeout measured from creation.
    clock.advance(50s);
    BOOST_TEST(sessions.touch(token).has_value());
    clock.advance(50s);
    BOOST_TEST(sessions.touch(token).has_value());
    clock.advance(60s); // exactly the timeout: still valid
    BOOST_TEST(sessions.touch(token).has_value());

    clock.advance(60s + 1ms);
    BOOST_TEST(!sessions.touch(token).has_value());
    BOOST_TEST(sessions.size() == 0u);
    BOOST_TEST(!sessions.touch(token).has_value());
}

BOOST_AUTO_TEST_CASE(remove_session) {
    SessionStore sessions(60s);
    auto alice = sessions.create("alice");
    auto bob = sessions.create("bob");
    BOOST_TEST(sessions.remove(alice));
    BOOST_TEST(!sessions.remove(alice));
    BOOST_TEST(!sessions.touch(alice).has_value());
    BOOST_TEST(sessions.touch(bob).value_or("<none>") == "bob");
    BOOST_TEST(sessions.size() == 1u);
}

BOOST_AUTO_TEST_CASE(remove_all_sessions_of_a_user) {
    SessionStore sessions(60s);
    std::vector<std::string> alice{sessions.create("alice"), sessions.create("Alice"),
                                   sessions.create("alice")};
    auto bob = sessions.create("bob");
    sessions.remove_user("ALICE");
    BOOST_TEST(sessions.size() == 1u);
    for (auto const& token : alice)
        BOOST_TEST(!sessions.touch(token).has_value());
    BOOST_TEST(sessions.touch(bob).has_value());
    sessions.remove_user("nobody");
    BOOST_TEST(sessions.size() == 1u);
}

BOOST_AUTO_TEST_CASE(full_store_drops_least_recently_used) {
    FakeClock clock;
    SessionStore sessions(60s, clock.fn(), 3);
    auto a = sessions.create("a");
    clock.advance(1s);
    auto b = sessions.create("b");
    clock.advance(1s);
    auto c = sessions.create("c");
    clock.advance(1s);
    BOOST_TEST(sessions.touch(a).has_value()); // now b is the least recently used
    clock.advance(1s);
    auto d = sessions.create("d");
    BOOST_TEST(sessions.size() == 3u);
    BOOST_TEST(!sessions.touch(b).has_value());
    BOOST_TEST(sessions.touch(a).has_value());
    BOOST_TEST(sessions.touch(c).has_value());
    BOOST_TEST(sessions.touch(d).has_value());
}

BOOST_AUTO_TEST_CASE(expired_sessions_are_purged_on_create) {
    FakeClock clock;
    SessionStore sessions(60s, clock.fn(), 3);
    auto a = sessions.create("a");
    auto b = sessions.create("b");
    clock.advance(30s);
    auto c = sessions.create("c");
    clock.advance(31s);
    auto d = sessions.create("d");
    BOOST_TEST(sessions.size() == 2u);
    BOOST_TEST(!sessions.touch(a).has_value());
    BOOST_TEST(!sessions.touch(b).has_value());
    BOOST_TEST(sessions.touch(c).has_value());
    BOOST_TEST(sessions.touch(d).has_value());
}

BOOST_AUTO_TEST_CASE(bounded_under_load) {
    SessionStore sessions(3600s, {}, 50);
    for (int i = 0; i < 500; ++i)
        sessions.create("user" + std::to_string(i % 7));
    BOOST_TEST(sessions.size() == 50u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(login_throttle)

BOOST_AUTO_TEST_CASE(locks_after_max_failures_in_window) {
    FakeClock clock;
    LoginThrottle throttle({}, clock.fn());
    for (int i = 0; i < 4; ++i) {
        throttle.record_failure("10.0.0.1");
        clock.advance(5s);
    }
    BOOST_TEST(!throttle.is_locked("10.0.0.1"));
    BOOST_TEST(throttle.retry_after("10.0.0.1").count() == 0);
    throttle.record_failure("10.0.0.1");
    BOOST_TEST(throttle.is_locked("10.0.0.1"));
    BOOST_TEST(throttle.retry_after("10.0.0.1").count() == 60);
    // Other addresses are unaffected.
    BOOST_TEST(!throttle.is_locked("10.0.0.2"));
    BOOST_TEST(throttle.retry_after("10.0.0.2").count() == 0);
}

BOOST_AUTO_TEST_CASE(failures_spread_beyond_window_do_not_lock) {
    FakeClock clock;
    LoginThrottle throttle({}, clock.fn());
    // Four failures fit in any 60 s window; the fifth always arrives once the
    // first has left it.
    for (int i = 0; i < 20; ++i) {
        throttle.record_failure("10.0.0.1");
        BOOST_TEST(!throttle.is_locked("10.0.0.1"));
        clock.advance(15s);
    }
}

BOOST_AUTO_TEST_CASE(lockout_expires) {
    FakeClock clock;
    LoginThrottle throttle({.max_failures = 3, .window = 60s, .lockout = 120s}, clock.fn());
    for (int i = 0; i < 3; ++i)
        throttle.record_failure("c");
    BOOST_TEST(throttle.is_locked("c"));
    clock.advance(250ms);
    BOOST_TEST(throttle.retry_after("c").count() == 120); // 119.75 s rounds up
    clock.advance(119s);
    BOOST_TEST(throttle.is_locked("c"));
    BOOST_TEST(throttle.retry_after("c").count() == 1);
    clock.advance(750ms);
    BOOST_TEST(!throttle.is_locked("c"));
    BOOST_TEST(throttle.retry_after("c").count() == 0);
    // The history went with the lockout: one more failure does not re-lock.
    throttle.record_failure("c");
    BOOST_TEST(!throttle.is_locked("c"));
}

BOOST_AUTO_TEST_CASE(failures_while_locked_do_not_extend) {
    FakeClock clock;
    LoginThrottle throttle({.max_failures = 2, .window = 60s, .lockout = 30s}, clock.fn());
    throttle.record_failure("c");
    throttle.record_failure("c");
    clock.advance(20s);
    for (int i = 0; i < 10; ++i)
        throttle.record_failure("c");
    BOOST_TEST(throttle.retry_after("c").count() == 10);
    clock.advance(10s);
    BOOST_TEST(!throttle.is_locked("c"));
}

BOOST_AUTO_TEST_CASE(success_clears_history) {
    FakeClock clock;
    LoginThrottle throttle({}, clock.fn());
    for (int i = 0; i < 4; ++i)
        throttle.record_failure("c");
    throttle.record_success("c");
    BOOST_TEST(throttle.size() == 0u);
    for (int i = 0; i < 4; ++i)
        throttle.record_failure("c");
    BOOST_TEST(!throttle.is_locked("c"));
    throttle.record_failure("c");
    BOOST_TEST(throttle.is_locked("c"));
    // A success reported during a lockout does not lift it.
    throttle.record_success("c");
    BOOST_TEST(throttle.is_locked("c"));
}

BOOST_AUTO_TEST_CASE(tracked_clients_are_bounded) {
    FakeClock clock;
    LoginThrottle throttle({.max_failures = 2, .window = 60s, .lockout = 60s, .max_clients = 3}, clock.fn());
    throttle.record_failure("a");
    throttle.record_failure("b");
    throttle.record_failure("c");
    throttle.record_failure("a"); // a locks and becomes the most recent; b is now the oldest
    BOOST_TEST(throttle.is_locked("a"));
    throttle.record_failure("d"); // evicts b
    BOOST_TEST(throttle.size() == 3u);
    throttle.record_failure("b"); // b starts afresh (evicting c), so one failure does not lock
    BOOST_TEST(!throttle.is_locked("b"));
    BOOST_TEST(throttle.is_locked("a"));
    throttle.record_failure("d");
    BOOST_TEST(throttle.is_locked("d"));

    for (int i = 0; i < 1000; ++i)
        throttle.record_failure("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    BOOST_TEST(throttle.size() == 3u);
}

BOOST_AUTO_TEST_CASE(stale_entries_are_forgotten) {
    FakeClock clock;
    LoginThrottle throttle({}, clock.fn());
    throttle.record_failure("c");
    BOOST_TEST(throttle.size() == 1u);
    clock.advance(61s);
    BOOST_TEST(!throttle.is_locked("c"));
    BOOST_TEST(throttle.size() == 0u);
}

BOOST_AUTO_TEST_CASE(real_clock_default) {
    LoginThrottle throttle({.max_failures = 1});
    throttle.record_failure("c");
    BOOST_TEST(throttle.is_locked("c"));
    BOOST_TEST(throttle.retry_after("c").count() == 60);
}

BOOST_AUTO_TEST_SUITE_END()
