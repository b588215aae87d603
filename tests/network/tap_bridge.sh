#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# ctest network.tap_bridge: runs vsa_hv_tests' tap_bridge suite
# (tests/network/tap_endpoint_test.cpp) in a network namespace of its own,
# where it may make a bridge and TAP devices without touching the host's
# networks. Exits 77 (ctest's SKIP_RETURN_CODE for this test) where that
# cannot be done: no /dev/net/tun, or no right to make a namespace (not
# root / no CAP_SYS_ADMIN).
# Usage: tap_bridge.sh <vsa_hv_tests>
set -u
tests=$1
if [ ! -c /dev/net/tun ]; then
    echo "SKIP: /dev/net/tun is missing (no TAP devices here)"
    exit 77
fi
if ! command -v unshare >/dev/null 2>&1; then
    echo "SKIP: no unshare(1) (util-linux)"
    exit 77
fi
if ! unshare --net true 2>/dev/null; then
    echo "SKIP: cannot make a network namespace (needs root)"
    exit 77
fi
exec unshare --net env VSA_TEST_NETNS=1 "$tests" --run_test=tap_bridge --color_output=no --log_level=message
