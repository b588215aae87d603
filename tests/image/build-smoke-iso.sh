#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# build-smoke-iso.sh OUT_ISO VSAD WEB_ROOT CACHE_DIR
#
# The fast smoke image of issue 8: Debian 12's amd64 kernel, busybox, and
# vsad with every shared library it loads (found with ldd), in an
# initramfs, on a hybrid BIOS/UEFI ISO made by grub-mkrescue. Boots in
# seconds under QEMU TCG (smoke_test.py).
#
# The kernel and busybox .debs are downloaded (never installed) with a
# private apt state under CACHE_DIR, over the system's sources list; a
# complete cache is used without network.
set -euo pipefail
out=$1 vsad=$2 web=$3
cache=$(mkdir -p "$4" && cd "$4" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ ! -f "$cache/vmlinuz" ] || [ ! -f "$cache/e1000.ko" ] || [ ! -f "$cache/busybox" ]; then
    mkdir -p "$cache/lists/partial" "$cache/cache/archives/partial" "$cache/debs"
    apt=(-oDir::State::Lists="$cache/lists" -oDir::State::Status=/dev/null -oDir::Cache="$cache/cache"
        -oDebug::NoLocking=1 -oAPT::Sandbox::User=root -qq)
    apt-get "${apt[@]}" update || echo "build-smoke-iso: apt-get update had errors; going on if the packages resolve" >&2
    kernel=$(apt-cache "${apt[@]}" depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    [ -n "$kernel" ] || { echo "build-smoke-iso: cannot resolve linux-image-amd64" >&2; exit 1; }
    rm -f "$cache"/debs/*.deb
    (cd "$cache/debs" && apt-get "${apt[@]}" download "$kernel" busybox-static)
    rm -rf "$cache/extract" && mkdir -p "$cache/extract"
    dpkg-deb -x "$cache"/debs/busybox-static_*.deb "$cache/extract"
    dpkg-deb --fsys-tarfile "$cache"/debs/linux-image-*.deb |
        tar -x -C "$cache/extract" --wildcards './boot/vmlinuz-*' '*/e1000/e1000.ko*'
    e1000=$(find "$cache/extract" -name 'e1000.ko*' | head -n 1)
    case "$e1000" in
    *.xz) xz -dc "$e1000" >"$cache/e1000.ko" ;;
    *) cp "$e1000" "$cache/e1000.ko" ;;
    esac
    cp "$cache/extract/bin/busybox" "$cache/busybox"
    cp "$(ls "$cache"/extract/boot/vmlinuz-* | head -n 1)" "$cache/vmlinuz"
    rm -rf "$cache/extract"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Without its debug sections: the sanitizer tree's vsad is 188 MB, 132 MB
# without them, and every megabyte is packed here and unpacked by the
# emulated guest. Symbols stay, so a report still names the functions.
objcopy --strip-debug "$vsad" "$work/vsad"
specs=(dir:bin:755 dir:sbin:755 dir:usr:755 dir:usr/bin:755 dir:usr/sbin:755 dir:lib:755 dir:lib64:755
    dir:usr/lib:755 dir:usr/lib/vsa:755 dir:usr/share:755 dir:usr/share/vsa:755 dir:proc:755 dir:sys:755
    dir:dev:755 dir:tmp:1777 dir:var:755 dir:var/lib:755 dir:etc:755 chr:dev/console:600:5:1
    file:init:755:"$here/smoke-init.sh" file:bin/busybox:755:"$cache/busybox" file:lib/e1000.ko:644:"$cache/e1000.ko"
    file:usr/lib/vsa/vsad:755:"$work/vsad")
# vsad's libraries at the paths the loader looks for them.
declare -A dirs=()
while read -r lib; do
    [ -f "$lib" ] || continue
    d=$(dirname "${lib#/}")
    if [ -z "${dirs[$d]:-}" ]; then
        path=""
        IFS=/ read -ra parts <<<"$d"
        for p in "${parts[@]}"; do
            path=${path:+$path/}$p
            [ -n "${dirs[$path]:-}" ] || { specs+=("dir:$path:755"); dirs[$path]=1; }
        done
    fi
    specs+=("file:${lib#/}:755:$(readlink -f "$lib")")
done < <(ldd "$vsad" | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' | sort -u)
# The admin UI.
web=$(cd "$web" && pwd)
specs+=(dir:usr/share/vsa/web:755)
while read -r entry; do
    if [ -d "$web/$entry" ]; then
        specs+=("dir:usr/share/vsa/web/$entry:755")
    else
        specs+=("file:usr/share/vsa/web/$entry:644:$web/$entry")
    fi
done < <(cd "$web" && find . -mindepth 1 | sed 's|^\./||' | sort)
# Dedupe directories the library walk and the fixed list both name.
mapfile -t specs < <(printf '%s\n' "${specs[@]}" | awk '!seen[$0]++')

mkdir -p "$work/iso/boot/grub"
python3 "$here/../guests/mkcpio.py" "$work/iso/boot/initrd.gz" "${specs[@]}"
cp "$cache/vmlinuz" "$work/iso/boot/vmlinuz"
cat >"$work/iso/boot/grub/grub.cfg" <<'CFG'
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
menuentry "VSA smoke" {
    linux /boot/vmlinuz console=ttyS0,115200 quiet panic=-1
    initrd /boot/initrd.gz
}
CFG
grub-mkrescue -o "$out.tmp" "$work/iso" 2>"$work/mkrescue.log" || { cat "$work/mkrescue.log" >&2; exit 1; }
mv "$out.tmp" "$out"
echo "build-smoke-iso: $out ($(du -m "$out" | cut -f1) MiB, initramfs $(du -m "$work/iso/boot/initrd.gz" | cut -f1) MiB)"
