// SPDX-License-Identifier: GPL-2.0-or-later
#include "appliance/config.h"

#include <Poco/AutoPtr.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <boost/test/unit_test.hpp>

#include <sstream>

using namespace vsa::appliance;

namespace {

Poco::AutoPtr<Poco::Util::MapConfiguration>
map(std::initializer_list<std::pair<char const*, char const*>> entries) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    for (auto const& [key, value] : entries)
        config->setString(key, value);
    return config;
}

} // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults_when_nothing_is_set) {
    auto parsed = DaemonConfig::from(*map({}));
    BOOST_REQUIRE(parsed.has_value());
    auto const& c = parsed.value();
    BOOST_TEST(c.data_dir == "/var/lib/vsa");
    BOOST_TEST(c.listen.bind_address == "127.0.0.1");
    BOOST_TEST(c.listen.port == 8443);
    BOOST_TEST(c.limits.max_body_bytes == 16u << 20);
    BOOST_TEST(c.certificate == "/var/lib/vsa/tls/server.crt");
    BOOST_TEST(c.private_key == "/var/lib/vsa/tls/server.key");
}

BOOST_AUTO_TEST_CASE(overrides_are_read_and_paths_follow_the_data_dir) {
    auto parsed = DaemonConfig::from(*map({{"vsa.data_dir", "/tmp/x"},
                                           {"https.port", "0"},
                                           {"https.bind", "::1"},
                                           {"pool.threads", "8"},
                                           {"auth.lockout_seconds", "5"},
                                           {"limits.max_body_bytes", "65536"},
                                           {"limits.receive_timeout_ms", "1500"}}));
    BOOST_REQUIRE(parsed.has_value());
    auto const& c = parsed.value();
    BOOST_TEST(c.listen.port == 0);
    BOOST_TEST(c.listen.bind_address == "::1");
    BOOST_TEST(c.pool.threads == 8);
    BOOST_TEST(c.auth.lockout.count() == 5);
    BOOST_TEST(c.limits.max_body_bytes == 65536u);
    BOOST_TEST(c.limits.receive_timeout.count() == 1500);
    BOOST_TEST(c.certificate == "/tmp/x/tls/server.crt");
}

BOOST_AUTO_TEST_CASE(bad_values_are_refused_by_name) {
    for (auto [key, value] : std::initializer_list<std::pair<char const*, char const*>>{
             {"https.port", "99999"},
             {"https.port", "-1"},
             {"https.port", "eighty"},
             {"https.port", ""},
             {"pool.threads", "0"},
             {"limits.max_body_bytes", "12"},
             {"auth.max_failures", "1e3"},
             {"limits.receive_timeout_ms", "99999999999999999999"},
             {"vsa.data_dir", ""},
             {"https.bind", ""},
             {"dvd.discover_host_drives", "perhaps"},
             {"dvd.host_drive.cd", "relative/path.iso"},
             {"dvd.host_drive.cd", ""},
             {"dvd.host_drive.b@d", "/dev/sr0"},
             {"floppy.host_drive.usb", "relative.img"},
             {"floppy.host_drive.b@d", "/dev/fd0"},
         }) {
        auto parsed = DaemonConfig::from(*map({{key, value}}));
        BOOST_TEST_CONTEXT(key << " = '" << value << "'") {
            BOOST_REQUIRE(parsed.is_error());
            BOOST_TEST(parsed.error().find(key) != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(default_config_text_reads_back_as_the_defaults) {
    std::istringstream text(default_config_text());
    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> file(
        new Poco::Util::PropertyFileConfiguration(text));
    auto from_text = DaemonConfig::from(*file);
    auto from_nothing = DaemonConfig::from(*map({}));
    BOOST_REQUIRE(from_text.has_value());
    BOOST_TEST(from_text.value().listen.port == from_nothing.value().listen.port);
    BOOST_TEST(from_text.value().limits.max_body_bytes == from_nothing.value().limits.max_body_bytes);
    BOOST_TEST(from_text.value().auth.session_idle.count() == from_nothing.value().auth.session_idle.count());
    BOOST_TEST(from_text.value().pool.longpoll_threads == from_nothing.value().pool.longpoll_threads);
    BOOST_TEST(from_text.value().discover_optical_drives == from_nothing.value().discover_optical_drives);
    BOOST_TEST(from_text.value().optical_drives.empty());
}

BOOST_AUTO_TEST_CASE(host_optical_drives_are_configured) {
    auto parsed = DaemonConfig::from(*map({{"dvd.discover_host_drives", "false"},
                                           {"dvd.host_drive.testcd", "/srv/iso/test.iso"},
                                           {"dvd.host_drive.usb-dvd", "/dev/sr7"}}));
    BOOST_REQUIRE(parsed.has_value());
    auto const& c = parsed.value();
    BOOST_TEST(!c.discover_optical_drives);
    BOOST_REQUIRE(c.optical_drives.size() == 2u);
    for (auto const& drive : c.optical_drives) {
        if (drive.id == "testcd")
            BOOST_TEST(drive.device == "/srv/iso/test.iso");
        else
            BOOST_TEST((drive.id == "usb-dvd" && drive.device == "/dev/sr7"));
    }
    BOOST_TEST(DaemonConfig::from(*map({})).value().discover_optical_drives);
}

BOOST_AUTO_TEST_CASE(host_floppy_drives_are_configured) {
    auto parsed = DaemonConfig::from(
        *map({{"floppy.host_drive.usbfloppy", "/dev/sdc"}, {"floppy.host_drive.A", "/srv/floppy.img"}}));
    BOOST_REQUIRE(parsed.has_value());
    auto const& drives = parsed.value().floppy_drives;
    BOOST_REQUIRE(drives.size() == 2u);
    for (auto const& drive : drives) {
        if (drive.id == "usbfloppy")
            BOOST_TEST(drive.device == "/dev/sdc");
        else // a letter names (and replaces) the discovered fd0
            BOOST_TEST((drive.id == "fd0" && drive.device == "/srv/floppy.img"));
    }
    BOOST_TEST(DaemonConfig::from(*map({})).value().floppy_drives.empty());
}

BOOST_AUTO_TEST_SUITE_END()
