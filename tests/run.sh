#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Quick start, command 2: install what is missing, build with AddressSanitizer
# and UndefinedBehaviorSanitizer, and run every test except the benchmarks.
# Extra arguments go to ctest (e.g. -L unit, -R zeep).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$top/build-asan"
"$top/cmake/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Debug -DVSA_SANITIZE=ON -DBUILD_TESTING=ON
# A sanitizer report fails the test that triggered it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$build"
# One test per core: most tests are single-threaded, and the long ones are
# marked with a COST so they start first (tests/hv, tests/services).
jobs=$(nproc 2>/dev/null || echo 2)
ctest --output-on-failure --timeout 900 -j "$jobs" -LE 'bench|guest|^image$|^stress$' "$@"

# The real-guest boots: Debian 12's i686 Linux (tests/guests) on vsa-vm, to
# its shell marker and power-off, on the serial console and on the VGA text
# console (checked on screen dumps). The CPU is an interpreter, so this tree is
# optimised and without sanitizers (under ASan at -O0 the boot would take
# tens of minutes); the sanitizers already ran the same code above on
# SeaBIOS and the test programs. A selective run (ctest arguments) skips
# it. The longer guests: `ctest -L '^guest$'` in build-guest/.
if [ $# -eq 0 ]; then
    guest="$top/build-guest"
    cmake -S "$top" -B "$guest" -DVSA_MACHINE_ONLY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON >/dev/null
    cmake --build "$guest" -j "$jobs" --target vsa-vm
    cd "$guest"
    ctest --output-on-failure -j "$jobs" -R 'guest\.linux_(quick|vga)_vsa_vm$'
fi
