#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# build-linux-image.sh CACHE_DIR OUT_DIR [ORACLE_BINARY]
#
# Builds the Linux test guest from the files fetch-debs.sh left in CACHE_DIR:
#   OUT_DIR/initrd.gz   gzip'd newc initramfs: busybox-static, /init
#                       (tests/guests/init.sh), /dev/console, and
#                       /bin/cpu_oracle when ORACLE_BINARY is given
#   OUT_DIR/linux.img   32.5 MiB raw disk: MBR (SYSLINUX mbr.bin) with one active
#                       FAT16 partition at 1 MiB holding vmlinuz, initrd.gz,
#                       syslinux.cfg and SYSLINUX (ldlinux.sys/.c32)
#   OUT_DIR/linux-idle.img   quick, then 30 s idle between VSA-IDLE-BEGIN/END
#                            (`vsa.idle=30`), for the idle host-CPU measurement
#   OUT_DIR/linux-quick.img  the same with `vsa.quick` on the kernel command
#                       line: /init runs one round of the workload and not
#                       the oracle (a short boot for CI)
#   OUT_DIR/linux-vga.img    quick, with the VGA text console as the only
#                       kernel console (`console=tty0 vsa.quick vsa.vga`):
#                       /init also shows its results on tty0, for checking
#                       the boot through the emulator's text screen dump
#   OUT_DIR/linux-cdrom.img  quick, with `vsa.cdrom`: its own initramfs
#                       (OUT_DIR/initrd-cdrom.gz) also holds the IDE/SCSI/
#                       CD-ROM/ISO 9660 modules of the same kernel package
#                       (ata_piix, libata, scsi_mod, sr_mod, cdrom, isofs,
#                       sd_mod and what they need); /init loads them and
#                       reads a file from the CD and the start of the disk
#                       through ata_piix's bus master DMA (boot_test.py
#                       --cdrom-test makes the ISO)
#   OUT_DIR/linux-input.img  quick, with `vsa.input`: its own initramfs
#                       (OUT_DIR/initrd-input.gz) also holds evdev, psmouse
#                       and the ACPI button driver (button) of the same
#                       kernel package (mousedev is built in); /init reads
#                       the PS/2 mouse through /dev/input/mice in ImPS/2
#                       mode, waits for the ACPI power button and powers
#                       off through ACPI only (boot_test.py --input-test
#                       moves the mouse and presses the button)
#   OUT_DIR/linux-net.img  quick, with `vsa.net`: its own initramfs
#                       (OUT_DIR/initrd-net.gz) also holds tulip (the DEC
#                       21140 driver) of the same kernel package; /init
#                       brings eth0 up with 10.0.0.N, N the last byte of its
#                       MAC, and pings its peer (net_test.py runs two)
#   OUT_DIR/linux-dhcp.img  the same initramfs, `vsa.net=dhcp
#                       vsa.ping=10.237.0.16,10.237.0.17 vsa.carrier
#                       vsa.fetch=http://router:18080/payload.bin`: DHCP,
#                       pings the other pool address, fetches from the host
#                       through a NAT, reports carrier changes
#                       (vsad_net_test.py: two guests under vsad)
#   OUT_DIR/linux-nat.img   the same initramfs, `vsa.net=dhcp
#                       vsa.fetch=http://router:18080/payload.bin`: DHCP,
#                       then fetches the file from the host through the NAT
#                       (nat_test.py, net_bench.py)
#   OUT_DIR/linux-nc.img    the same initramfs, `vsa.net vsa.nc=16`: 10.0.0.2
#                       sends 16 MiB to 10.0.0.1 over TCP (net_bench.py)
#   OUT_DIR/linux-agent.img  quick without the workload, `vsa.agent`: its own
#                       initramfs (OUT_DIR/initrd-agent.gz) also holds
#                       Debian's qemu-guest-agent (/usr/sbin/qemu-ga) with
#                       the shared libraries it loads (agent-files.py, from
#                       CACHE_DIR/agent-root) and an /etc/os-release; /init
#                       runs `qemu-ga -m isa-serial -p /dev/ttyS2`, the VSA
#                       agent port, until the agent powers the guest off
#                       (vsad_agent_test.py drives it through vsad)
# Nothing is mounted and no loop device is used: the partition table is
# written by a few lines of Python, the FAT by mtools on `IMG@@OFFSET`, the
# boot loader by `syslinux --install --offset`, and the MBR code by dd.
# Every time stamp is fixed (SOURCE_DATE_EPOCH, default 2000-01-01) and the
# volume serial is constant, so the same inputs give the same image bytes.
#
# Host packages needed (checked below): syslinux, syslinux-common, mtools,
# python3, binutils (readelf).
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 CACHE_DIR OUT_DIR [ORACLE_BINARY]" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
ORACLE=${3:-}

MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
missing=()
command -v syslinux >/dev/null || missing+=(syslinux)
[ -f "$MBR_BIN" ] || missing+=(syslinux-common)
command -v mformat >/dev/null && command -v mcopy >/dev/null || missing+=(mtools)
[ -x /usr/bin/python3 ] || missing+=(python3)
command -v readelf >/dev/null || missing+=(binutils)
if [ ${#missing[@]} -gt 0 ]; then
    echo "build-linux-image: missing Debian packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 1
fi
for f in vmlinuz busybox agent-root/usr/sbin/qemu-ga; do
    [ -f "$CACHE/$f" ] || { echo "build-linux-image: $CACHE/$f missing: run fetch-debs.sh $CACHE first" >&2; exit 1; }
done
if [ -n "$ORACLE" ] && [ ! -f "$ORACLE" ]; then
    echo "build-linux-image: oracle binary $ORACLE not found" >&2
    exit 1
fi

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-946684800}
# mtools stamps new directory entries with the current time unless told
# otherwise; mcopy -m takes the source file's mtime, so the sources get a
# fixed one.
STAGE=$(mktemp -d "$OUT/stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

# --- initramfs ---------------------------------------------------------------
specs=(dir:bin:755 dir:dev:755 dir:proc:555 dir:sys:555 dir:tmp:1777 dir:sbin:755
       dir:usr:755 dir:usr/bin:755 dir:usr/sbin:755
       chr:dev/console:600:5:1 chr:dev/ttyS0:660:4:64
       "file:bin/busybox:755:$CACHE/busybox" symlink:bin/sh:busybox
       "file:init:755:$HERE/init.sh")
[ -n "$ORACLE" ] && specs+=("file:bin/cpu_oracle:755:$ORACLE")
/usr/bin/python3 "$HERE/mkcpio.py" "$STAGE/initrd.gz" "${specs[@]}"

# --- the variants' initramfs: the same plus kernel modules ---------------------
# The CD-ROM variant's modules, in load order (each after what it depends
# on; `depends=` in the .ko). The crc/t10-pi modules are sd_mod's; the
# generic crypto drivers come first so crc-t10dif and crc64-rocksoft find
# them without modprobe.
MODULES=(drivers/scsi/scsi_common drivers/scsi/scsi_mod drivers/ata/libata drivers/ata/ata_piix
         drivers/cdrom/cdrom drivers/scsi/sr_mod fs/isofs/isofs
         crypto/crct10dif_common crypto/crct10dif_generic lib/crc-t10dif lib/crc64
         crypto/crc64_rocksoft_generic lib/crc64-rocksoft block/t10-pi drivers/scsi/sd_mod)
# The versioned package the unpacked vmlinuz came from (not the
# linux-image-686 metapackage).
KVER=$(basename "$(ls -1 "$CACHE"/extract/boot/vmlinuz-* | head -1)" | sed 's/^vmlinuz-//')
KDEB=$(ls -1 "$CACHE/debs/linux-image-${KVER}_"*_i386.deb 2>/dev/null | sort | tail -1)
[ -n "$KDEB" ] || { echo "build-linux-image: no linux-image-$KVER .deb in $CACHE/debs: run fetch-debs.sh $CACHE" >&2; exit 1; }
mkdir "$STAGE/mods"
# The input variant's modules: none depends on another (empty `depends=`);
# evdev first, so the mouse and the button get event devices as they appear.
INPUT_MODULES=(drivers/input/evdev drivers/input/mouse/psmouse drivers/acpi/button)
# The network variant's: tulip depends on nothing.
NET_MODULES=(drivers/net/ethernet/dec/tulip/tulip)
members=()
for m in "${MODULES[@]}" "${INPUT_MODULES[@]}" "${NET_MODULES[@]}"; do members+=("./lib/modules/$KVER/kernel/$m.ko"); done
dpkg-deb --fsys-tarfile "$KDEB" | tar -x -C "$STAGE/mods" "${members[@]}"
# variant_initrd NAME EXTRA_SPEC... -- MODULE...: writes STAGE/initrd-NAME.gz,
# the base initramfs plus the extra entries (after the base's and
# lib/vsa-modules) and MODULE.ko of each module (paths under the kernel
# package's kernel/, in load order) in /lib/vsa-modules, whose file `order`
# /init reads the load order from.
variant_initrd() {
    local name=$1 m base
    shift
    local vspecs=("${specs[@]}" dir:lib:755 dir:lib/vsa-modules:755)
    while [ "$1" != -- ]; do vspecs+=("$1"); shift; done
    shift
    local order=()
    for m in "$@"; do
        base=$(basename "$m")
        vspecs+=("file:lib/vsa-modules/$base.ko:644:$STAGE/mods/lib/modules/$KVER/kernel/$m.ko")
        order+=("$base")
    done
    printf '%s\n' "${order[@]}" > "$STAGE/$name-modules.order"
    touch -d "@$SOURCE_DATE_EPOCH" "$STAGE/$name-modules.order"
    vspecs+=("file:lib/vsa-modules/order:644:$STAGE/$name-modules.order")
    /usr/bin/python3 "$HERE/mkcpio.py" "$STAGE/initrd-$name.gz" "${vspecs[@]}"
    touch -d "@$SOURCE_DATE_EPOCH" "$STAGE/initrd-$name.gz"
}
# The CD-ROM variant also has a mount point for the CD.
variant_initrd cdrom dir:mnt:755 -- "${MODULES[@]}"
variant_initrd input -- "${INPUT_MODULES[@]}"
variant_initrd net -- "${NET_MODULES[@]}"
# The agent variant: qemu-ga, its libraries, what it reads and writes
# (guest-get-osinfo reads /etc/os-release; the parameter store of
# IVMGuestOS.SetParameter is a file in /var/lib; qemu-ga keeps its state in
# /var/run). /init makes /sbin/shutdown, which busybox lacks.
cat > "$STAGE/os-release" <<'OSR'
PRETTY_NAME="VSA test guest (Debian 12 i386 kernel, qemu-ga)"
NAME="VSA test guest"
VERSION_ID="12"
ID=vsa-test-guest
ID_LIKE=debian
OSR
touch -d "@$SOURCE_DATE_EPOCH" "$STAGE/os-release"
mapfile -t agent_specs < <(/usr/bin/python3 "$HERE/agent-files.py" "$CACHE/agent-root" usr/sbin/qemu-ga usr/sbin/qemu-ga)
variant_initrd agent dir:etc:755 "file:etc/os-release:644:$STAGE/os-release" dir:var:755 dir:var/lib:755 \
    dir:var/run:755 dir:run:755 "${agent_specs[@]}" --

# --- FAT partition contents ----------------------------------------------------
cp "$CACHE/vmlinuz" "$STAGE/vmlinuz"
write_cfg() { # FILE EXTRA_KERNEL_ARGS [CONSOLE_ARGS]
    cat > "$1" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND ${3:-console=ttyS0,115200 console=tty0}$2
CFG
    touch -d "@$SOURCE_DATE_EPOCH" "$1"
}
write_cfg "$STAGE/syslinux.cfg" ""
# The variants for feature tests skip the kernel's crypto self-tests
# (cryptomgr.notests): crypto_algapi_init runs them at late init, 89 s of
# an ~130 s vsa-vm boot (initcall_debug, RelWithDebInfo). They all pass.
# linux.img and linux-quick.img keep them: a CPU check, and the boot
# benchmark's (tests/bench/linux_boot_bench.py) workload stays the same.
mkdir "$STAGE/quick" "$STAGE/idle" "$STAGE/vga" "$STAGE/cdrom" "$STAGE/input" "$STAGE/net" \
    "$STAGE/dhcp" "$STAGE/nat" "$STAGE/nc" "$STAGE/agent"
write_cfg "$STAGE/quick/syslinux.cfg" " vsa.quick"
write_cfg "$STAGE/idle/syslinux.cfg" " vsa.quick cryptomgr.notests vsa.idle=30"
# No console=ttyS0: every kernel message goes through vgacon only.
write_cfg "$STAGE/vga/syslinux.cfg" " vsa.quick cryptomgr.notests vsa.vga" "console=tty0"
write_cfg "$STAGE/cdrom/syslinux.cfg" " vsa.quick cryptomgr.notests vsa.cdrom"
write_cfg "$STAGE/input/syslinux.cfg" " vsa.quick cryptomgr.notests vsa.input"
write_cfg "$STAGE/net/syslinux.cfg" " vsa.quick cryptomgr.notests vsa.net"
# The vsad network test's DHCP pool is 10.237.0.16-17: each guest pings the
# other, then reports carrier changes (the host pulls the link down and up).
write_cfg "$STAGE/dhcp/syslinux.cfg" " vsa.quick cryptomgr.notests vsa.net=dhcp vsa.ping=10.237.0.16,10.237.0.17 vsa.carrier vsa.fetch=http://router:18080/payload.bin"
# `router` is the DHCP router: 10.0.2.2, the host's loopback, behind the NAT.
write_cfg "$STAGE/nat/syslinux.cfg" " vsa.quick cryptomgr.notests vsa.net=dhcp vsa.fetch=http://router:18080/payload.bin"
# Guest-to-guest TCP throughput: 10.0.0.2 sends 16 MiB to 10.0.0.1.
write_cfg "$STAGE/nc/syslinux.cfg" " vsa.quick cryptomgr.notests vsa.net vsa.nc=16"
write_cfg "$STAGE/agent/syslinux.cfg" " vsa.quick cryptomgr.notests vsa.agent"
touch -d "@$SOURCE_DATE_EPOCH" "$STAGE/vmlinuz" "$STAGE/initrd.gz"

# --- disk ----------------------------------------------------------------------
IMG=$STAGE/linux.img
# A whole number of 16-head, 63-sector cylinders (66), so emulators that
# derive a CHS geometry from the size (Bochs) accept it.
DISK_SECTORS=$((66 * 16 * 63))
PART_START=2048
PART_SECTORS=$((DISK_SECTORS - PART_START))
OFFSET=$((PART_START * 512))
truncate -s $((DISK_SECTORS * 512)) "$IMG"

# MBR partition table: one active FAT16 (type 06h) partition; CHS fields are
# computed for a 16-head, 63-sector geometry and saturate as usual. The disk
# signature is fixed for reproducibility.
/usr/bin/python3 - "$IMG" "$PART_START" "$PART_SECTORS" <<'PY'
import struct, sys
img, start, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def chs(lba):
    c, rem = divmod(lba, 16 * 63)
    h, s = divmod(rem, 63)
    if c > 1023:
        c, h, s = 1023, 15, 62
    return bytes([h, ((c >> 2) & 0xC0) | (s + 1), c & 0xFF])
entry = bytes([0x80]) + chs(start) + bytes([0x06]) + chs(start + count - 1) + struct.pack("<II", start, count)
with open(img, "r+b") as f:
    f.seek(440)
    f.write(struct.pack("<IH", 0x56534131, 0) + entry + bytes(48) + b"\x55\xAA")
PY

export MTOOLS_SKIP_CHECK=1
mformat -i "$IMG@@$OFFSET" -T $PART_SECTORS -h 16 -s 63 -H $PART_START \
    -v VSALINUX -N 56534131 ::
mcopy -m -i "$IMG@@$OFFSET" "$STAGE/vmlinuz" "$STAGE/initrd.gz" "$STAGE/syslinux.cfg" ::/
syslinux --install --offset "$OFFSET" "$IMG"
dd if="$MBR_BIN" of="$IMG" bs=440 count=1 conv=notrunc status=none

cp "$IMG" "$STAGE/linux-quick.img"
mcopy -o -m -i "$STAGE/linux-quick.img@@$OFFSET" "$STAGE/quick/syslinux.cfg" ::/syslinux.cfg
cp "$IMG" "$STAGE/linux-idle.img"
mcopy -o -m -i "$STAGE/linux-idle.img@@$OFFSET" "$STAGE/idle/syslinux.cfg" ::/syslinux.cfg
cp "$IMG" "$STAGE/linux-vga.img"
mcopy -o -m -i "$STAGE/linux-vga.img@@$OFFSET" "$STAGE/vga/syslinux.cfg" ::/syslinux.cfg

# variant_image NAME [INITRD]: STAGE/linux-NAME.img, the quick image with
# STAGE/NAME/syslinux.cfg and, if given, STAGE/initrd-INITRD.gz as its
# initramfs under the usual name.
variant_image() {
    local img=$STAGE/linux-$1.img
    cp "$STAGE/linux-quick.img" "$img"
    mcopy -o -m -i "$img@@$OFFSET" "$STAGE/$1/syslinux.cfg" ::/syslinux.cfg
    if [ -n "${2:-}" ]; then
        cp -p "$STAGE/initrd-$2.gz" "$STAGE/$1/initrd.gz"
        mcopy -o -m -i "$img@@$OFFSET" "$STAGE/$1/initrd.gz" ::/initrd.gz
    fi
}
variant_image cdrom cdrom
variant_image input input
variant_image net net
variant_image dhcp net
variant_image nat net
variant_image nc net
variant_image agent agent

mv "$STAGE/initrd.gz" "$OUT/initrd.gz"
mv "$STAGE/initrd-net.gz" "$OUT/initrd-net.gz"
mv "$STAGE/linux-net.img" "$OUT/linux-net.img"
mv "$STAGE/linux-dhcp.img" "$OUT/linux-dhcp.img"
mv "$STAGE/linux-nat.img" "$OUT/linux-nat.img"
mv "$STAGE/linux-nc.img" "$OUT/linux-nc.img"
mv "$STAGE/initrd-agent.gz" "$OUT/initrd-agent.gz"
mv "$STAGE/linux-agent.img" "$OUT/linux-agent.img"
mv "$STAGE/initrd-input.gz" "$OUT/initrd-input.gz"
mv "$STAGE/linux-input.img" "$OUT/linux-input.img"
mv "$STAGE/initrd-cdrom.gz" "$OUT/initrd-cdrom.gz"
mv "$STAGE/linux-cdrom.img" "$OUT/linux-cdrom.img"
mv "$IMG" "$OUT/linux.img"
mv "$STAGE/linux-quick.img" "$OUT/linux-quick.img"
mv "$STAGE/linux-idle.img" "$OUT/linux-idle.img"
mv "$STAGE/linux-vga.img" "$OUT/linux-vga.img"
echo "build-linux-image: $OUT/linux.img ($(sha256sum "$OUT/linux.img" | cut -c1-16)...)," \
     "initrd $(stat -c %s "$OUT/initrd.gz") bytes"
