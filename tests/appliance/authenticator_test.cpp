// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/auth/authenticator.h"

#include "tests/appliance/test_support.h"

#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>

#include <atomic>
#include <thread>

using namespace vsa::appliance;

namespace {

std::string basic(std::string const& credentials) {
    std::string out(4 * ((credentials.size() + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                    reinterpret_cast<unsigned char const*>(credentials.data()),
                    static_cast<int>(credentials.size()));
    return "Basic " + out;
}

struct AuthFixture {
    vsa::test::TempDir dir;
    std::unique_ptr<AccountStore> accounts;
    std::chrono::steady_clock::time_point now{std::chrono::steady_clock::now()};
    SessionStore sessions{std::chrono::seconds(60), [this] { return now; }};
    LoginThrottle throttle{{3, std::chrono::seconds(60), std::chrono::seconds(30)}, [this] { return now; }};
    AuthConfig config = [] {
        AuthConfig c;
        c.failure_delay = std::chrono::milliseconds(0);
        return c;
    }();
    std::unique_ptr<Authenticator> auth;

    AuthFixture() {
        accounts = AccountStore::open(dir.path() / "accounts.json", PasswordHashParams{1u << 10, 8, 1})
                       .release_value();
        BOOST_REQUIRE(accounts->add("admin", "correct horse", true).has_value());
        BOOST_REQUIRE(accounts->add("operator", "battery staple", false).has_value());
        auth = std::make_unique<Authenticator>(*accounts, sessions, throttle, config);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(authenticator)

BOOST_AUTO_TEST_CASE(parses_basic_authorization) {
    std::string user, password;
    BOOST_TEST(parse_basic_authorization(basic("admin:pw:with:colons"), user, password));
    BOOST_TEST(user == "admin");
    BOOST_TEST(password == "pw:with:colons");
    BOOST_TEST(parse_basic_authorization("bAsIc " + basic("a:").substr(6), user, password));
    BOOST_TEST(password.empty());
    for (std::string bad : std::vector<std::string>{
             "", "Basic", "Basic ", "Bearer abc", "Basic !!!!", "Basic YWRtaW4=" /* no colon */,
             "Basic " + basic(":nouser").substr(6), "Basic abc", "Basic " + std::string(5000, 'A')})
        BOOST_TEST(!parse_basic_authorization(bad, user, password), bad);
}

BOOST_FIXTURE_TEST_CASE(basic_credentials_authenticate_and_carry_the_role, AuthFixture) {
    auto outcome = auth->from_http(basic("admin:correct horse"), "", "10.0.0.1");
    BOOST_REQUIRE(outcome.status == AuthStatus::Authenticated);
    BOOST_TEST(outcome.principal->user == "admin");
    BOOST_TEST(outcome.principal->administrator);
    // Second call takes the cached path and must agree.
    outcome = auth->from_http(basic("admin:correct horse"), "", "10.0.0.1");
    BOOST_TEST((outcome.status == AuthStatus::Authenticated));
    outcome = auth->from_http(basic("OPERATOR:battery staple"), "", "10.0.0.1");
    BOOST_REQUIRE(outcome.status == AuthStatus::Authenticated);
    BOOST_TEST(outcome.principal->user == "operator"); // the stored spelling
    BOOST_TEST(!outcome.principal->administrator);
}

BOOST_FIXTURE_TEST_CASE(no_credentials_is_not_a_failure, AuthFixture) {
    for (int i = 0; i < 10; ++i)
        BOOST_TEST((auth->from_http("", "", "10.0.0.2").status == AuthStatus::NoCredentials));
    BOOST_TEST(!throttle.is_locked("10.0.0.2"));
}

BOOST_FIXTURE_TEST_CASE(wrong_passwords_lock_the_address_out_even_for_the_right_one, AuthFixture) {
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(
            (auth->from_http(basic("admin:wrong"), "", "10.0.0.3").status == AuthStatus::BadCredentials));
    auto locked = auth->from_http(basic("admin:correct horse"), "", "10.0.0.3");
    BOOST_TEST((locked.status == AuthStatus::LockedOut));
    BOOST_TEST(locked.retry_after.count() == 30);
    BOOST_TEST((auth->logon("admin", "correct horse", "10.0.0.3").status == AuthStatus::LockedOut));
    // Another address is unaffected.
    BOOST_TEST(
        (auth->from_http(basic("admin:correct horse"), "", "10.0.0.4").status == AuthStatus::Authenticated));
    now += std::chrono::seconds(31);
    BOOST_TEST(
        (auth->from_http(basic("admin:correct horse"), "", "10.0.0.3").status == AuthStatus::Authenticated));
}

BOOST_FIXTURE_TEST_CASE(malformed_authorization_counts_as_a_failure, AuthFixture) {
    for (int i = 0; i < 3; ++i)
        BOOST_TEST((auth->from_http("Basic ????", "", "10.0.0.5").status == AuthStatus::BadCredentials));
    BOOST_TEST((auth->from_http("Basic ????", "", "10.0.0.5").status == AuthStatus::LockedOut));
}

BOOST_FIXTURE_TEST_CASE(a_password_change_invalidates_the_cached_credential, AuthFixture) {
    BOOST_REQUIRE(auth->from_http(basic("admin:correct horse"), "", "10.0.0.6").status ==
                  AuthStatus::Authenticated);
    BOOST_REQUIRE(accounts->set_password("admin", "new password!").has_value());
    BOOST_TEST(
        (auth->from_http(basic("admin:correct horse"), "", "10.0.0.6").status == AuthStatus::BadCredentials));
    BOOST_TEST(
        (auth->from_http(basic("admin:new password!"), "", "10.0.0.6").status == AuthStatus::Authenticated));
    BOOST_REQUIRE(accounts->remove("admin").has_value());
    BOOST_TEST(
        (auth->from_http(basic("admin:new password!"), "", "10.0.0.6").status == AuthStatus::BadCredentials));
}

BOOST_FIXTURE_TEST_CASE(logon_token_works_as_cookie_and_header_until_logoff, AuthFixture) {
    auto logon = auth->logon("operator", "battery staple", "10.0.0.7");
    BOOST_REQUIRE(logon.status == AuthStatus::Authenticated);
    BOOST_TEST(logon.session_token.size() == 43u);
    BOOST_TEST((auth->from_http("", logon.session_token, "10.0.0.7").status == AuthStatus::Authenticated));
    BOOST_TEST((auth->from_token(logon.session_token).principal->user == "operator"));
    BOOST_TEST(auth->logoff(logon.session_token));
    BOOST_TEST((auth->from_token(logon.session_token).status == AuthStatus::BadCredentials));
    // A stale cookie is "no credentials", so the login page still works.
    BOOST_TEST((auth->from_http("", logon.session_token, "10.0.0.7").status == AuthStatus::NoCredentials));
}

BOOST_FIXTURE_TEST_CASE(sessions_expire_when_idle_and_die_with_their_account, AuthFixture) {
    auto token = auth->logon("operator", "battery staple", "10.0.0.8").session_token;
    now += std::chrono::seconds(59);
    BOOST_TEST((auth->from_token(token).status == AuthStatus::Authenticated)); // refreshes
    now += std::chrono::seconds(59);
    BOOST_TEST((auth->from_token(token).status == AuthStatus::Authenticated));
    now += std::chrono::seconds(61);
    BOOST_TEST((auth->from_token(token).status == AuthStatus::BadCredentials));

    token = auth->logon("operator", "battery staple", "10.0.0.8").session_token;
    BOOST_REQUIRE(accounts->remove("operator").has_value());
    BOOST_TEST((auth->from_token(token).status == AuthStatus::BadCredentials));
}

BOOST_FIXTURE_TEST_CASE(a_burst_of_the_same_credential_agrees_and_never_hangs, AuthFixture) {
    // Many connections bringing one credential at once share one slow hash
    // (single flight): every waiter must get the leader's answer.
    LoginThrottle lenient{{1000, std::chrono::seconds(60), std::chrono::seconds(1)}};
    Authenticator burst(*accounts, sessions, lenient, config);
    for (auto const& [credential, expected] :
         {std::pair{std::string("admin:correct horse"), AuthStatus::Authenticated},
          std::pair{std::string("admin:wrong one"), AuthStatus::BadCredentials}}) {
        std::vector<std::thread> threads;
        std::atomic<int> agreed{0};
        for (int i = 0; i < 16; ++i)
            threads.emplace_back([&, i, credential = credential, expected = expected] {
                if (burst.from_http(basic(credential), "", "10.0.1." + std::to_string(i)).status == expected)
                    ++agreed;
            });
        for (auto& t : threads)
            t.join();
        BOOST_TEST(agreed.load() == 16, credential);
    }
}

BOOST_FIXTURE_TEST_CASE(garbage_tokens_are_rejected, AuthFixture) {
    for (std::string token :
         {std::string(), std::string(43, 'A'), std::string(10000, 'x'), std::string("\0\0", 2)})
        BOOST_TEST((auth->from_token(token).status == AuthStatus::BadCredentials));
}

BOOST_FIXTURE_TEST_CASE(a_new_password_ends_sessions_and_the_cached_credential, AuthFixture) {
    auto token = auth->logon("operator", "battery staple", "10.0.1.1").session_token;
    auto other = auth->logon("admin", "correct horse", "10.0.1.1").session_token;
    BOOST_REQUIRE(auth->from_http(basic("operator:battery staple"), "", "10.0.1.1").status ==
                  AuthStatus::Authenticated);
    BOOST_REQUIRE(auth->set_password("OPERATOR", "new staple!").has_value());
    BOOST_TEST((auth->from_token(token).status == AuthStatus::BadCredentials));
    BOOST_TEST((auth->from_token(other).status == AuthStatus::Authenticated)); // another account's
    BOOST_TEST((auth->from_http(basic("operator:battery staple"), "", "10.0.1.2").status ==
                AuthStatus::BadCredentials));
    BOOST_TEST(
        (auth->check_password("operator", "new staple!", "10.0.1.2").status == AuthStatus::Authenticated));
    BOOST_TEST((auth->check_password("operator", "battery staple", "10.0.1.3").status ==
                AuthStatus::BadCredentials));
    BOOST_TEST(auth->set_password("operator", "short").is_error());
    BOOST_TEST(
        (auth->check_password("operator", "new staple!", "10.0.1.2").status == AuthStatus::Authenticated));

    token = auth->open_session("operator");
    BOOST_TEST((auth->from_token(token).principal->user == "operator"));
    BOOST_REQUIRE(auth->remove_account("operator").has_value());
    BOOST_TEST((auth->from_token(token).status == AuthStatus::BadCredentials));
    BOOST_TEST(sessions.size() == 1u); // admin's
    // The last administrator stays.
    auto removed = auth->remove_account("admin");
    BOOST_REQUIRE(removed.is_error());
    BOOST_TEST((removed.error().kind == AccountErrorKind::LastAdministrator));
    BOOST_TEST((auth->from_token(other).status == AuthStatus::Authenticated));
}

BOOST_AUTO_TEST_SUITE_END()
