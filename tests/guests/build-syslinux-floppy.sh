#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# build-syslinux-floppy.sh KERNEL OUT_DIR
#
# Makes a SYSLINUX boot floppy for the boot-protocol test kernel
# (tests/progs/test_kernel.asm, assembled to test_kernel.bin):
#   OUT_DIR/syslinux-floppy.img  1,474,560 bytes, FAT12 (mformat -f 1440),
#                                SYSLINUX installed by `syslinux --install`
#                                (no mount, no loop device), holding
#                                /vmlinuz (KERNEL), /initrd.img and
#                                /syslinux.cfg
#   OUT_DIR/floppy-initrd.img    the initrd: 200 KiB of fixed pseudo-random
#                                bytes (SHA-256 in counter mode over a fixed
#                                seed), also on the floppy
# syslinux.cfg boots the kernel at once (no prompt) with APPEND_LINE below;
# the test (syslinux_floppy_test.py) expects exactly this command line.
#
# Same inputs give a byte-identical image: timestamps from SOURCE_DATE_EPOCH
# (default 2000-01-01), fixed volume serial. Host packages: syslinux, mtools.
set -euo pipefail

APPEND_LINE='vsa.test=syslinux-floppy root=/dev/fd0 ro quiet vsa.words="one two three"'

if [ $# -ne 2 ]; then
    echo "usage: $0 KERNEL OUT_DIR" >&2
    exit 2
fi
KERNEL=$1
OUT=$(mkdir -p "$2" && cd "$2" && pwd)
missing=()
command -v syslinux >/dev/null || missing+=(syslinux)
command -v mformat >/dev/null && command -v mcopy >/dev/null || missing+=(mtools)
if [ ${#missing[@]} -gt 0 ]; then
    echo "build-syslinux-floppy: missing host packages: ${missing[*]} (apt-get install them)" >&2
    exit 1
fi
[ -f "$KERNEL" ] || { echo "build-syslinux-floppy: kernel $KERNEL not found" >&2; exit 1; }

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-946684800}
STAGE=$(mktemp -d "$OUT/stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

cp "$KERNEL" "$STAGE/vmlinuz"
python3 - "$STAGE/initrd.img" <<'PY'
import hashlib, sys
out = bytearray()
n = 0
while len(out) < 200 * 1024:
    out += hashlib.sha256(b"vsa-floppy-initrd" + n.to_bytes(4, "little")).digest()
    n += 1
open(sys.argv[1], "wb").write(out[:200 * 1024])
PY
cat > "$STAGE/syslinux.cfg" <<CFG
DEFAULT vsa
PROMPT 0
TIMEOUT 0
LABEL vsa
  KERNEL vmlinuz
  INITRD initrd.img
  APPEND $APPEND_LINE
CFG
# mcopy -m takes the sources' mtimes: make them fixed.
touch -d "@$SOURCE_DATE_EPOCH" "$STAGE/vmlinuz" "$STAGE/initrd.img" "$STAGE/syslinux.cfg"

IMG=$STAGE/floppy.img
truncate -s 1474560 "$IMG"
export MTOOLS_SKIP_CHECK=1
mformat -i "$IMG" -f 1440 -v VSAFLOPPY -N 56534146 ::
mcopy -m -i "$IMG" "$STAGE/vmlinuz" "$STAGE/initrd.img" "$STAGE/syslinux.cfg" ::/
syslinux --install "$IMG"
size=$(stat -c %s "$IMG")
if [ "$size" -ne 1474560 ]; then
    echo "build-syslinux-floppy: image is $size bytes, not 1474560" >&2
    exit 1
fi
mv "$STAGE/initrd.img" "$OUT/floppy-initrd.img"
mv "$IMG" "$OUT/syslinux-floppy.img"
echo "build-syslinux-floppy: $OUT/syslinux-floppy.img"
