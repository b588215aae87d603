#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Installs GRUB's BIOS boot code into a GPT disk image file, without a
device or a mount: what grub-install/grub-bios-setup do, for a file.

usage: grub_bios.py DISK BOOT_IMG CORE_IMG CORE_LBA

- BOOT_IMG (grub's i386-pc boot.img) becomes the protective MBR's code
  (bytes 0-439; the disk signature and partition table stay as sfdisk
  wrote them). Its 64-bit "kernel sector" at 0x5C must point at CORE_LBA.
- CORE_IMG (grub-mkimage -O i386-pc: diskboot.img, then the rest) goes to
  CORE_LBA, the BIOS boot partition. diskboot's block list, the last 12
  bytes of its sector (start LBA u64, sector count u16, load segment u16),
  must name the sectors after it.
Both offsets are GRUB's on-disk contract (grub's boot.S / diskboot.S).
"""
import struct
import sys

KERNEL_SECTOR = 0x5C
MBR_CODE_END = 440
SECTOR = 512
BLOCKLIST = SECTOR - 12


def main():
    disk, boot_img, core_img, core_lba = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    boot = bytearray(open(boot_img, "rb").read())
    core = bytearray(open(core_img, "rb").read())
    if len(boot) != SECTOR:
        sys.exit(f"grub_bios: {boot_img} is not one sector")
    if len(core) % SECTOR:
        core += bytes(SECTOR - len(core) % SECTOR)
    sectors = len(core) // SECTOR
    start, count, segment = struct.unpack_from("<QHH", core, BLOCKLIST)
    if start != 2 or segment != 0x820:
        sys.exit(f"grub_bios: {core_img} does not start with an untouched diskboot.img")
    struct.pack_into("<QH", core, BLOCKLIST, core_lba + 1, sectors - 1)
    struct.pack_into("<Q", boot, KERNEL_SECTOR, core_lba)
    with open(disk, "r+b") as f:
        f.seek(core_lba * SECTOR)
        f.write(core)
        f.seek(0)
        f.write(boot[:MBR_CODE_END])
    print(f"grub_bios: boot.img in the MBR, core.img ({sectors} sectors) at LBA {core_lba}")


if __name__ == "__main__":
    main()
