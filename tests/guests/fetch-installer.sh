#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-installer.sh CACHE_DIR
#
# Downloads (never installs) Debian 12's debian-installer-12-netboot-i386
# package and unpacks the text-frontend netboot tree of its i386 installer:
#   CACHE_DIR/installer/netboot/debian-installer/i386/
#       linux, initrd.gz          the installer's kernel and initrd
#       boot-screens/             the boot menu (syslinux.cfg, menu.cfg,
#                                 txt.cfg, vesamenu.c32, splash.png, ...)
#   CACHE_DIR/installer/manifest.txt   the .deb used, with its SHA-256
# The package holds no mini.iso (only the PXE trees, ~100 MB); mini.iso is
# the same tree behind ISOLINUX, which build-installer-iso.sh rebuilds.
# The EFI/GRUB parts are not unpacked.
#
# The same private apt state as fetch-debs.sh (private-apt.sh), but in
# CACHE_DIR/installer/ so it never collides with a fetch-debs.sh run on the
# same cache.
#
# Idempotent: with manifest.txt and the tree present it exits at once,
# without network access. Delete CACHE_DIR/installer/manifest.txt to refresh.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 CACHE_DIR" >&2
    exit 2
fi
CACHE=$(mkdir -p "$1/installer" && cd "$1/installer" && pwd)
MANIFEST=$CACHE/manifest.txt
PKG=debian-installer-12-netboot-i386

TREE=$CACHE/netboot/debian-installer/i386
if [ -f "$MANIFEST" ] && [ -f "$TREE/linux" ] && [ -f "$TREE/initrd.gz" ]; then
    echo "fetch-installer: cache $CACHE is complete, nothing to do"
    exit 0
fi

# shellcheck source=private-apt.sh
. "$(dirname "$0")/private-apt.sh"
private_apt_setup fetch-installer "$CACHE"
apt_require "$PKG"
rm -f "$CACHE/debs/${PKG}"_*.deb
(cd "$CACHE/debs" && apt-get "${APT_OPTS[@]}" download "$PKG")
DEB=$(ls -1 "$CACHE/debs/${PKG}"_*.deb | sort | tail -1)

IN_DEB=./usr/lib/debian-installer/images/12/i386/text/debian-installer/i386
rm -rf "$CACHE/extract" "$CACHE/netboot" && mkdir -p "$CACHE/extract" "$CACHE/netboot/debian-installer"
dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$CACHE/extract" \
    "$IN_DEB/linux" "$IN_DEB/initrd.gz" "$IN_DEB/boot-screens"
mv "$CACHE/extract/$IN_DEB" "$TREE"
rm -rf "$CACHE/extract"

{
    echo "# the text netboot tree of this package (debian-installer/i386)"
    (cd "$CACHE/debs" && sha256sum "$(basename "$DEB")")
} > "$MANIFEST.tmp"
mv "$MANIFEST.tmp" "$MANIFEST"
echo "fetch-installer: done: $TREE ($(stat -c %s "$TREE/initrd.gz") bytes of initrd.gz)"
