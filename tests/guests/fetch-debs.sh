#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fetch-debs.sh CACHE_DIR
#
# Downloads (never installs) the Debian 12 i386 packages the Linux guest image
# is made of, and unpacks the two files the image needs:
#   CACHE_DIR/vmlinuz    the kernel of linux-image-686 (its versioned package,
#                        e.g. linux-image-6.1.0-50-686, is resolved from the
#                        metapackage's dependency)
#   CACHE_DIR/busybox    /bin/busybox of busybox-static
#   CACHE_DIR/agent-root/   qemu-guest-agent and every package it needs at
#                        run time (libc6, GLib, ...), unpacked: the agent
#                        variant's initramfs takes /usr/sbin/qemu-ga and the
#                        shared libraries it loads from here
#   CACHE_DIR/manifest.txt  the package files used, with their SHA-256
#
# apt-get runs on the system's sources list but with a private state under
# CACHE_DIR (private-apt.sh), so the host's apt configuration and state are
# untouched and the i386 lists do not need `dpkg --add-architecture i386`.
#
# Idempotent: with a populated cache (manifest.txt present and the files it
# names still there) it exits at once without any network access. Delete
# CACHE_DIR/manifest.txt to fetch the newest versions again.
#
# Host-side tools the image build needs (syslinux, mtools) are NOT fetched
# here: build-linux-image.sh checks for them and names the Debian packages to
# install (the project's convention: cmake/debian-packages.txt).
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 CACHE_DIR" >&2
    exit 2
fi
CACHE=$(mkdir -p "$1" && cd "$1" && pwd)
MANIFEST=$CACHE/manifest.txt

if [ -f "$MANIFEST" ] && [ -f "$CACHE/vmlinuz" ] && [ -f "$CACHE/busybox" ] &&
    [ -f "$CACHE/agent-root/usr/sbin/qemu-ga" ]; then
    ok=1
    while read -r _sum file; do
        [ -f "$CACHE/debs/$file" ] || ok=0
    done < <(grep -v '^#' "$MANIFEST")
    if [ $ok = 1 ]; then
        echo "fetch-debs: cache $CACHE is complete, nothing to do"
        exit 0
    fi
fi

# shellcheck source=private-apt.sh
. "$(dirname "$0")/private-apt.sh"
private_apt_setup fetch-debs "$CACHE"

KPKG=$(apt-cache "${APT_OPTS[@]}" depends linux-image-686 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$KPKG" ]; then
    echo "fetch-debs: cannot resolve linux-image-686's kernel package (no i386 lists?)" >&2
    exit 1
fi
# The guest agent and its run-time closure, as apt resolves it (Depends
# only: nothing is installed, so maintainer scripts and recommends do not
# matter).
AGENT_PKGS=($(apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances --no-pre-depends qemu-guest-agent 2>/dev/null |
    grep -v '^ ' | grep -v '^<' | sort -u))
case " ${AGENT_PKGS[*]} " in
    *" qemu-guest-agent "*" libc6 "* | *" libc6 "*" qemu-guest-agent "*) ;;
    *) echo "fetch-debs: cannot resolve qemu-guest-agent's dependencies (got: ${AGENT_PKGS[*]})" >&2; exit 1 ;;
esac
PKGS=(linux-image-686 "$KPKG" busybox-static "${AGENT_PKGS[@]}")
apt_require "${PKGS[@]}"

(cd "$CACHE/debs" && apt-get "${APT_OPTS[@]}" download "${PKGS[@]}")

# The newest downloaded .deb of package $1 (i386 or arch all).
deb_of() {
    local f
    for f in "$CACHE/debs/$1"_*_i386.deb "$CACHE/debs/$1"_*_all.deb; do
        if [ -f "$f" ]; then echo "$f"; fi
    done | sort | tail -1
}
KDEB=$(deb_of "$KPKG")
BDEB=$(deb_of busybox-static)

# Only /boot of the kernel package: its modules (~250 MB) are not needed, the
# initramfs-only guest uses built-in drivers (8250 serial, devtmpfs, ACPI).
rm -rf "$CACHE/extract" && mkdir -p "$CACHE/extract"
dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$CACHE/extract" ./boot
dpkg-deb -x "$BDEB" "$CACHE/extract"
VMLINUZ=$(ls -1 "$CACHE"/extract/boot/vmlinuz-*-686 | head -1)
cp "$VMLINUZ" "$CACHE/vmlinuz.tmp" && mv "$CACHE/vmlinuz.tmp" "$CACHE/vmlinuz"
cp "$CACHE/extract/bin/busybox" "$CACHE/busybox.tmp" && mv "$CACHE/busybox.tmp" "$CACHE/busybox"
chmod 0755 "$CACHE/busybox"

rm -rf "$CACHE/agent-root.tmp" && mkdir -p "$CACHE/agent-root.tmp"
agent_debs=()
for p in "${AGENT_PKGS[@]}"; do
    d=$(deb_of "$p")
    dpkg-deb -x "$d" "$CACHE/agent-root.tmp"
    agent_debs+=("$(basename "$d")")
done
rm -rf "$CACHE/agent-root" && mv "$CACHE/agent-root.tmp" "$CACHE/agent-root"

{
    echo "# packages unpacked into this cache ($(basename "$VMLINUZ"))"
    (cd "$CACHE/debs" && sha256sum "$(basename "$KDEB")" "$(basename "$BDEB")" \
        "$(basename "$(deb_of linux-image-686)")" "${agent_debs[@]}")
} > "$MANIFEST.tmp"
mv "$MANIFEST.tmp" "$MANIFEST"
echo "fetch-debs: done: $CACHE/vmlinuz ($(basename "$VMLINUZ")), $CACHE/busybox, $CACHE/agent-root (${#AGENT_PKGS[@]} packages)"
