#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the VSA appliance disk image from Debian 12 packages and our own
# Debian package, without mounting anything (image/README.md says how and
# why). One command, as root or with sudo, from a clean clone:
#
#   image/build.sh [--update-lock] [OUT_DIR]      (default OUT_DIR: build-image/out)
#
# Outputs in OUT_DIR: vsa-VERSION.raw.zst (raw GPT disk, BIOS and UEFI),
# vsa-VERSION.vhd (fixed VHD, by `vsa-vhd convert --raw`), vsa-VERSION.qcow2,
# vsa_VERSION_amd64.deb, SHA256SUMS, manifest.txt (every package and
# version in the image) and build-info.txt (times and sizes).
#
# The packages are pinned by image/packages.lock: the build installs those
# versions and fails if the result differs (a Debian point release moved
# on); `--update-lock` accepts the new versions and rewrites the lock.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "$(id -u)" -eq 0 ] || exec sudo -E "$0" "$@"
update_lock=0
if [ "${1:-}" = --update-lock ]; then
    update_lock=1
    shift
fi
work="$top/build-image"
out=$(realpath -m "${1:-$work/out}")
started=$(date +%s)

say() { echo "image: $*"; }

# Fixed identifiers and times: the same inputs give the same disk layout,
# file system identity and file times.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 1767225600)}
DISK_GUID=8f2d6a1e-5b7c-4e0a-9c41-7a5356410001
BIOS_PARTUUID=8f2d6a1e-5b7c-4e0a-9c41-7a5356410002
ESP_PARTUUID=8f2d6a1e-5b7c-4e0a-9c41-7a5356410003
ROOT_PARTUUID=8f2d6a1e-5b7c-4e0a-9c41-7a5356410004
ROOT_FSUUID=5ad1e5a0-7f3b-4c1e-8d2a-7653414f4f54
ROOT_HASH_SEED=0b7c4e19-62d8-4a35-9e07-76534148534b
ESP_VOLID=56534145
DISK_MIB=${VSA_IMAGE_MIB:-4096}

# 1. Tools, then our build and its Debian package (cmake/setup.sh installs
#    whatever Debian package is missing, the image tools included).
# VSA_IMAGE_BUILD_DIR: an existing release build tree to package instead.
build_dir=${VSA_IMAGE_BUILD_DIR:-$work/build}
"$top/cmake/setup.sh" "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF
rm -rf "$work/deb"
(cd "$build_dir" && cpack -G DEB -B "$work/deb" >/dev/null)
deb=$(ls "$work"/deb/vsa_*_amd64.deb)
version=$(dpkg-deb -f "$deb" Version)
say "package $(basename "$deb")"
t_package=$(date +%s)

# 2. The root file system, in a directory. The sources are this machine's
#    own apt sources (whatever mirror it is set up for). systemd-resolved
#    points /etc/resolv.conf at its stub, which does not run in the chroot,
#    so our package's apt run gets the host's resolver for its downloads.
rootfs="$work/rootfs"
rm -rf "$rootfs"
sources=$(mktemp)
trap 'rm -f "$sources"' EXIT
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && grep -E '^deb ' "$f" >>"$sources" || true
done
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && { cat "$f"; echo; } >>"$sources" || true
done
lock="$top/image/packages.lock"
mapfile -t wanted < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$top/image/packages.txt")
include=$(IFS=,; echo "${wanted[*]}")
if [ $update_lock = 0 ] && [ -s "$lock" ]; then
    # Every package at its pinned version (apt refuses if one is gone).
    include=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/ /=/' "$lock" | paste -sd,)
fi
say "debootstrapping (mmdebstrap, minbase) into $rootfs"
mmdebstrap --mode=root --variant=minbase --format=directory --aptopt='APT::Install-Recommends "false"' \
    --include="$include" \
    --customize-hook="copy-in $deb /tmp" \
    --customize-hook='rm -f "$1/etc/resolv.conf" && cp /etc/resolv.conf "$1/etc/resolv.conf"' \
    --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/'"$(basename "$deb")" \
    --customize-hook='rm -f "$1"/tmp/*.deb' \
    bookworm "$rootfs" - <"$sources"
dpkg-query --admindir="$rootfs/var/lib/dpkg" -W -f='${Package} ${Version}\n' | LC_ALL=C sort >"$work/manifest.txt"
# Our own package is built here, not pinned.
grep -v '^vsa ' "$work/manifest.txt" | LC_ALL=C sort >"$work/manifest.pinned"
if [ $update_lock = 1 ] || [ ! -s "$lock" ]; then
    {
        echo "# Every Debian package in the appliance image, at its version (image/build.sh"
        echo "# installs exactly these). Rewritten by: image/build.sh --update-lock"
        cat "$work/manifest.pinned"
    } >"$lock"
    say "wrote $lock"
elif ! diff -u <(sed -e '/^#/d' "$lock") "$work/manifest.pinned"; then
    say "the image's packages differ from image/packages.lock (above); run image/build.sh --update-lock to accept"
    exit 1
fi
t_rootfs=$(date +%s)

# 3. The appliance's own configuration, written straight into the tree.
say "configuring the root file system"
install -m 0755 "$top/image/rootfs/vsa-firstboot" "$rootfs/usr/lib/vsa/vsa-firstboot"
install -m 0644 "$top/image/rootfs/vsa-firstboot.service" "$rootfs/etc/systemd/system/"
echo vsa >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tvsa\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
printf 'PARTUUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$ROOT_PARTUUID" >"$rootfs/etc/fstab"
# Each deployed copy gets its own machine id at first boot (and so runs
# vsa-firstboot); no copy shares SSH host keys: they are made when an
# operator turns SSH on.
echo uninitialized >"$rootfs/etc/machine-id"
rm -f "$rootfs"/etc/ssh/ssh_host_*
ln -sf ../run/systemd/resolve/stub-resolv.conf "$rootfs/etc/resolv.conf"
systemctl --root="$rootfs" enable systemd-networkd.service systemd-resolved.service vsad.service \
    vsa-firstboot.service vsa-console@tty1.service vsa-console@ttyS0.service >/dev/null 2>&1
systemctl --root="$rootfs" disable ssh.service >/dev/null 2>&1 || true
# The console replaces the login prompts on tty1 and the serial line.
systemctl --root="$rootfs" mask getty@tty1.service serial-getty@ttyS0.service >/dev/null 2>&1
mkdir -p "$rootfs/boot/grub"
sed "s/@ROOT_PARTUUID@/$ROOT_PARTUUID/g" "$top/image/rootfs/grub.cfg.in" >"$rootfs/boot/grub/grub.cfg"
rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/* "$rootfs"/var/log/*.log \
    "$rootfs"/var/log/apt/*
[ -L "$rootfs/vmlinuz" ] && [ -L "$rootfs/initrd.img" ] || { say "no /vmlinuz or /initrd.img in the tree"; exit 1; }
# Clamp every time to SOURCE_DATE_EPOCH (files the install just wrote).
find "$rootfs" -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch -h -d "@$SOURCE_DATE_EPOCH"

# 4. Boot loaders: GRUB for BIOS (core.img in the BIOS boot partition) and
#    for UEFI (the removable-media path on the ESP). Both find the root file
#    system by UUID and read /boot/grub/grub.cfg there.
boot="$work/boot"
rm -rf "$boot"
mkdir -p "$boot"
sed "s/@ROOT_FSUUID@/$ROOT_FSUUID/g" "$top/image/rootfs/early.cfg.in" >"$boot/early.cfg"
grub_modules="part_gpt part_msdos ext2 fat search search_fs_uuid configfile normal linux echo test serial
    terminal gzio minicmd"
# shellcheck disable=SC2086
grub-mkimage -O i386-pc -o "$boot/core.img" -c "$boot/early.cfg" -p /boot/grub biosdisk $grub_modules
# shellcheck disable=SC2086
grub-mkimage -O x86_64-efi -o "$boot/BOOTX64.EFI" -c "$boot/early.cfg" -p /boot/grub \
    $grub_modules efi_gop efi_uga all_video
mkfs.vfat -i "$ESP_VOLID" -n VSA-ESP -C "$boot/esp.img" 65536 >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$boot/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$boot/esp.img" "$boot/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

# 5. The disk: GPT with a BIOS boot partition, the ESP and the root file
#    system (ext4 filled from the directory by mke2fs -d).
disk="$work/vsa.raw"
rm -f "$disk" "$work/root.img"
truncate -s "${DISK_MIB}M" "$disk"
sfdisk -q --no-reread --no-tell-kernel "$disk" <<EOF
label: gpt
label-id: $DISK_GUID
first-lba: 2048
start=2048, size=2048, type=21686148-6449-6E6F-744E-656564454649, uuid=$BIOS_PARTUUID, name="bios"
start=4096, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_PARTUUID, name="esp"
start=135168, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$ROOT_PARTUUID, name="vsa-root"
EOF
root_start=$(sfdisk -l -o Start "$disk" | tail -n 1 | tr -d ' ')
root_sectors=$(sfdisk -l -o Sectors "$disk" | tail -n 1 | tr -d ' ')
say "root file system: $((root_sectors / 2048)) MiB"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mke2fs -q -t ext4 -b 4096 -d "$rootfs" -L vsa-root -U "$ROOT_FSUUID" \
    -E "hash_seed=$ROOT_HASH_SEED,root_owner=0:0" -F "$work/root.img" "$((root_sectors / 8))"
dd if="$work/root.img" of="$disk" bs=1M seek=$((root_start * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
dd if="$boot/esp.img" of="$disk" bs=1M seek=$((4096 * 512)) oflag=seek_bytes conv=notrunc status=none
python3 "$top/image/grub_bios.py" "$disk" /usr/lib/grub/i386-pc/boot.img "$boot/core.img" 2048
rm -f "$work/root.img"
t_disk=$(date +%s)

# 6. The downloads.
say "writing the outputs to $out"
mkdir -p "$out"
name="vsa-$version"
rm -f "$out/$name".raw.zst "$out/$name".vhd "$out/$name".qcow2
zstd -q -T0 -10 "$disk" -o "$out/$name.raw.zst"
"$build_dir/services/vsa-vhd" convert --raw "$disk" "$out/$name.vhd" fixed >/dev/null 2>&1
qemu-img convert -f raw -O qcow2 -c "$disk" "$out/$name.qcow2"
cp "$deb" "$out/"
cp "$work/manifest.txt" "$out/manifest.txt"
ln -f "$disk" "$out/$name.raw" 2>/dev/null || cp --sparse=always "$disk" "$out/$name.raw"
(cd "$out" && sha256sum "$name.raw.zst" "$name.vhd" "$name.qcow2" "$(basename "$deb")" >SHA256SUMS)
t_done=$(date +%s)
{
    echo "version $version"
    echo "source_date_epoch $SOURCE_DATE_EPOCH"
    echo "seconds_package $((t_package - started))"
    echo "seconds_rootfs $((t_rootfs - t_package))"
    echo "seconds_disk $((t_disk - t_rootfs))"
    echo "seconds_outputs $((t_done - t_disk))"
    echo "seconds_total $((t_done - started))"
    echo "packages $(wc -l <"$work/manifest.txt")"
    echo "rootfs_used_mib $(du -sm "$rootfs" | cut -f1)"
    for f in "$name.raw" "$name.raw.zst" "$name.vhd" "$name.qcow2" "$(basename "$deb")"; do
        echo "size_bytes $f $(stat -c %s "$out/$f") allocated $(($(stat -c %b "$out/$f") * 512))"
    done
} >"$out/build-info.txt"
cat "$out/build-info.txt"
say "done: $out/$name.raw (+ .raw.zst, .vhd, .qcow2)"
