#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Quick start, command 2: install what is missing, build with AddressSanitizer
# and UndefinedBehaviorSanitizer, and run every test except the benchmarks.
# Extra arguments go to ctest (e.g. -L unit, -R zeep).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$top/build-asan"
# Packages and configuration; the build itself is below, beside the guest
# stage's.
VSA_SETUP_BUILD=0 "$top/cmake/setup.sh" "$build" -DCMAKE_BUILD_TYPE=Debug -DVSA_SANITIZE=ON -DBUILD_TESTING=ON
jobs=$(nproc 2>/dev/null || echo 2)

# The real-guest boot: Debian 12's i686 Linux (tests/guests) on vsa-vm, to
# its shell marker and power-off, with the VGA text console as the kernel's
# console (guest.linux_vga_vsa_vm: checked on screen dumps, and the workload
# and APIC checks on the serial port, the same checks as the serial-console
# boot guest.linux_quick_vsa_vm, which is left to `ctest -L guest_quick`:
# a second boot beside the sanitizer tests cost ~3.5 min of CI time). The CPU is an interpreter, so this tree is
# optimised and without sanitizers (under ASan at -O0 the boot would take
# tens of minutes); the sanitizers already run the same code below on
# SeaBIOS and the test programs. A selective run (ctest arguments) skips
# it. The longer guests: `ctest -L '^guest$'` in build-guest/. Line tables
# only (-g1): the full debug info made this build 30 % slower (pc_machine.cpp
# 16.3 s against 11.0 s) for a tree nobody steps through.
#
# The stage runs in the background. Its vsa-vm builds (one job) beside the
# sanitizer build, at the same priority: niced, it got almost no CPU until
# the sanitizer tests ended, and the boot then ran after them (a 4-min
# tail, CI of 78a6251). The boot itself runs at a lower priority beside
# the sanitizer tests, which wait on sockets and child processes much of
# the time: it takes up that slack instead of running after them.
#
# Then the management path with a real guest agent (guest.linux_agent_vsad's
# script, tests/guests/vsad_agent_test.py): the sanitizer tree's vsad, once
# that build is done (the stamp below), runs the optimised vsa-vm as its
# worker on linux-agent.img, where Debian's qemu-ga answers every
# IVMGuestOS member, across a Save and restore, up to Shutdown.
guest_pid=""
if [ $# -eq 0 ]; then
    guest="$top/build-guest"
    mkdir -p "$guest"
    guest_log="$guest/guest-stage.log"
    built_stamp="$guest/sanitizer-build.done"
    rm -f "$built_stamp"
    TOP="$top" GUEST="$guest" BUILD="$build" STAMP="$built_stamp" bash -c '
        set -e
        cmake -S "$TOP" -B "$GUEST" -DVSA_MACHINE_ONLY=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON \
            "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" >/dev/null
        cmake --build "$GUEST" -j 1 --target vsa-vm >/dev/null
        cd "$GUEST"
        nice -n 10 ctest --output-on-failure -R "guest\.linux_vga_vsa_vm\$"
        while [ ! -e "$STAMP" ]; do sleep 5; done
        echo "--- guest.linux_agent_vsad (vsad of $BUILD, vsa-vm of $GUEST)"
        nice -n 10 /usr/bin/python3 "$TOP/tests/guests/vsad_agent_test.py" --vsad "$BUILD/appliance/vsad" \
            --vsa-vhd "$BUILD/services/vsa-vhd" --vsa-vm "$GUEST/hypervisor/vsa-vm" \
            --image "$GUEST/tests/guests/linux-agent.img" --timeout 1200' >"$guest_log" 2>&1 &
    guest_pid=$!
    # A failed sanitizer build ends the run: the stage goes with it.
    trap 'if [ -n "$guest_pid" ]; then pkill -P "$guest_pid" 2>/dev/null; kill "$guest_pid" 2>/dev/null; fi; true' EXIT
fi
cmake --build "$build" -j "$jobs"
[ -z "$guest_pid" ] || touch "$built_stamp"

# A sanitizer report fails the test that triggered it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One test per core: most tests are single-threaded, and the long ones are
# marked with a COST so they start first (tests/hv, tests/services).
status=0
(cd "$build" && ctest --output-on-failure --timeout 900 -j "$jobs" -LE 'bench|guest|^image$|^stress$' "$@") || status=$?

if [ -n "$guest_pid" ]; then
    guest_status=0
    wait "$guest_pid" || guest_status=$?
    guest_pid=""
    echo "--- guest boots (build-guest/, log: $guest_log)"
    cat "$guest_log"
    [ "$guest_status" -eq 0 ] || status=$guest_status
fi
exit "$status"
