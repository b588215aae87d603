#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# build-installer-iso.sh CACHE_DIR OUT_DIR
#
# Rebuilds Debian 12's i386 netboot installer CD (what mini.iso is) from the
# tree fetch-installer.sh unpacked: OUT_DIR/debian-installer.iso, an ISO 9660
# image (xorriso -as mkisofs) booting ISOLINUX (/isolinux.bin of the host's
# isolinux package, El Torito no-emulation, boot info table) whose
# /isolinux.cfg is the installer's own boot menu config
# (boot-screens/syslinux.cfg: vesamenu.c32, the menu of menu.cfg, no
# timeout, default entry "Install": debian-installer/i386/linux with
# "vga=788 initrd=debian-installer/i386/initrd.gz --- quiet"). The tree keeps
# its PXE paths (debian-installer/i386/...), relative to the CD's root where
# isolinux.bin lives. ISOLINUX and the tree's .c32 modules are the same
# SYSLINUX build (6.04~git20190206, Debian 12), checked below.
#
# Timestamps come from SOURCE_DATE_EPOCH (default 2000-01-01), so the same
# inputs give the same image. Host packages: isolinux, xorriso.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 CACHE_DIR OUT_DIR" >&2
    exit 2
fi
TREE=$1/installer/netboot/debian-installer/i386
OUT=$(mkdir -p "$2" && cd "$2" && pwd)
ISOLINUX_BIN=/usr/lib/ISOLINUX/isolinux.bin
LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
missing=()
[ -f "$ISOLINUX_BIN" ] || missing+=(isolinux)
[ -f "$LDLINUX" ] || missing+=(syslinux-common)
command -v xorriso >/dev/null || missing+=(xorriso)
if [ ${#missing[@]} -gt 0 ]; then
    echo "build-installer-iso: missing host packages: ${missing[*]} (apt-get install them)" >&2
    exit 1
fi
for f in linux initrd.gz boot-screens/syslinux.cfg boot-screens/ldlinux.c32; do
    [ -f "$TREE/$f" ] || { echo "build-installer-iso: $TREE/$f missing: run fetch-installer.sh $1 first" >&2; exit 1; }
done
if ! cmp -s "$LDLINUX" "$TREE/boot-screens/ldlinux.c32"; then
    echo "build-installer-iso: the installer's ldlinux.c32 is not the host's: ISOLINUX would refuse its modules" >&2
    exit 1
fi

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-946684800}
STAGE=$(mktemp -d "$OUT/stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/root/debian-installer"
cp -r "$TREE" "$STAGE/root/debian-installer/i386"
cp "$ISOLINUX_BIN" "$STAGE/root/isolinux.bin"
cp "$LDLINUX" "$STAGE/root/ldlinux.c32"
cp "$TREE/boot-screens/syslinux.cfg" "$STAGE/root/isolinux.cfg"
find "$STAGE/root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

xorriso -as mkisofs -quiet -o "$STAGE/debian-installer.iso" -V DEBIAN_INSTALLER -R -J \
    -b isolinux.bin -c boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table \
    "$STAGE/root"
mv "$STAGE/debian-installer.iso" "$OUT/debian-installer.iso"
echo "build-installer-iso: $OUT/debian-installer.iso ($(stat -c %s "$OUT/debian-installer.iso") bytes)"
