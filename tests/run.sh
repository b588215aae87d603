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
# Linux guests are not in the default run until vsa-vm boots them (issue 5):
# `ctest -L guest_quick`, `ctest -L '^guest$'` run them by hand.
ctest --output-on-failure --timeout 900 -LE 'bench|guest' "$@"
