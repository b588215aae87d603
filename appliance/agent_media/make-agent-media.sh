#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the guest agent's install media, the ISO image that
# IVMGuestOS.InstallAdditions puts into a VM's empty DVD drive: a README
# and Debian's i386 qemu-guest-agent package (VSA's guests are 32-bit),
# fetched once into CACHE with the guest images' private i386 apt setup
# (tests/guests/private-apt.sh; the host's apt state is not touched);
# without it, e.g. no apt access, the ISO holds the README
# alone, which says how to install the package from the guest's own
# archive).
#   make-agent-media.sh OUT.iso README.TXT CACHE_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
readme=$2
cache=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache"
cp "$readme" "$work/README.TXT"
deb=$(ls "$cache"/qemu-guest-agent_*_i386.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
    # In a subshell: private_apt_setup exits on a missing tool.
    if (
        # shellcheck source=../../tests/guests/private-apt.sh
        . "$here/../../tests/guests/private-apt.sh"
        private_apt_setup make-agent-media "$cache/apt" >/dev/null
        cd "$cache" && timeout 300 apt-get "${APT_OPTS[@]}" download qemu-guest-agent
    ); then
        deb=$(ls "$cache"/qemu-guest-agent_*_i386.deb 2>/dev/null | head -n 1 || true)
    fi
    [ -n "$deb" ] || echo "make-agent-media.sh: warning: apt-get download qemu-guest-agent failed; the media holds the README only" >&2
fi
[ -z "$deb" ] || cp "$deb" "$work/"
xorriso -as mkisofs -quiet -V VSA_GUEST_AGENT -J -r -o "$out.tmp" "$work"
mv "$out.tmp" "$out"
