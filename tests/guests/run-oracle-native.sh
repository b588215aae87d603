#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run-oracle-native.sh OUT_DIR
#
# Builds tests/guests/cpu_oracle.c as a static i386 binary
# (OUT_DIR/cpu_oracle, the one build-linux-image.sh puts into the guest) and
# runs it on this host; its output, OUT_DIR/cpu_oracle.expected, is what the
# guest must print (boot_test.py compares the two). x86-64 Linux runs i386
# static binaries natively, so the host CPU is the reference.
#
# Host packages needed: gcc, gcc-multilib (brings libc6-dev-i386).
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
CC=${CC:-gcc}

probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int main(void) { return 0; }' > "$probe/t.c"
if ! "$CC" -m32 -static -o "$probe/t" "$probe/t.c" 2>/dev/null; then
    echo "run-oracle-native: $CC cannot link static i386 programs:" \
         "missing Debian packages gcc-multilib libc6-dev-i386 (apt-get install gcc-multilib)" >&2
    exit 1
fi
# -ffp-contract etc. do not matter: every checked instruction is inline asm.
"$CC" -m32 -static -O1 -Wall -Wextra -Werror -o "$OUT/cpu_oracle.tmp" "$HERE/cpu_oracle.c"
mv "$OUT/cpu_oracle.tmp" "$OUT/cpu_oracle"
"$OUT/cpu_oracle" > "$OUT/cpu_oracle.expected.tmp"
mv "$OUT/cpu_oracle.expected.tmp" "$OUT/cpu_oracle.expected"
echo "run-oracle-native: $OUT/cpu_oracle.expected: $(tail -1 "$OUT/cpu_oracle.expected")"
