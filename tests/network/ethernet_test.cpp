// SPDX-License-Identifier: GPL-2.0-or-later
// Frame field helpers and the Internet checksum (RFC 1071's example).
#include "services/network/ethernet.h"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace vsa::network;

BOOST_AUTO_TEST_SUITE(ethernet)

BOOST_AUTO_TEST_CASE(fields_of_a_frame) {
    std::vector<std::uint8_t> f{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
                                0x03, 0xFF, 0x12, 0x34, 0x56, 0x08, 0x06};
    BOOST_TEST(destination_mac(f) == BROADCAST_MAC);
    BOOST_TEST(format_mac(source_mac(f)) == "00:03:ff:12:34:56");
    BOOST_TEST(is_multicast(destination_mac(f)));
    BOOST_TEST(!is_multicast(source_mac(f)));
    BOOST_TEST(ethertype(f) == ETHERTYPE_ARP);
    f.resize(10);
    BOOST_TEST(ethertype(f) == 0);
}

BOOST_AUTO_TEST_CASE(internet_checksum) {
    // RFC 1071 section 3: 0001 f203 f4f5 f6f7 sums to ddf2 (before the complement).
    std::vector<std::uint8_t> d{0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7};
    BOOST_TEST(checksum_add(d) == 0xDDF2u);
    BOOST_TEST(checksum_finish(checksum_add(d)) == 0x220Du);
    // Odd length: the last byte is the high half of a word.
    std::vector<std::uint8_t> odd{0x01};
    BOOST_TEST(checksum_add(odd) == 0x0100u);
}

BOOST_AUTO_TEST_SUITE_END()
