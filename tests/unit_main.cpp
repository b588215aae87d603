// SPDX-License-Identifier: GPL-2.0-or-later
// The one Boost.Test module of the unit tests; every *_test.cpp adds suites.
#define BOOST_TEST_MODULE vsa_unit_tests
#include <boost/test/unit_test.hpp>
