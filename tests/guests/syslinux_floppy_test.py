#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""SYSLINUX boots a Linux boot-protocol kernel from a floppy on vsa-vm.

Builds the floppy with build-syslinux-floppy.sh (FAT12 1.44 MB, SYSLINUX,
the test kernel tests/progs/test_kernel.asm as /vmlinuz, a 200 KiB initrd
of fixed pseudo-random bytes, an APPEND line), boots it with
`vsa-vm --floppy IMG --boot floppy` (SeaBIOS -> 82077AA + 8237 DMA ->
SYSLINUX -> the kernel's real-mode setup -> 32-bit protected mode at 1 MiB)
and checks the kernel's COM1 report against the files on the host:

  - the setup sectors arrived whole and the loader is SYSLINUX
    (type_of_loader 3Xh), with LOADED_HIGH kept in loadflags;
  - the protected-mode part at 1 MiB: its CRC-32 and length equal those of
    the kernel file's protected-mode part, and its 64 KiB pattern is intact;
  - the command line holds the APPEND line verbatim (SYSLINUX adds
    BOOT_IMAGE= before and initrd= after it);
  - the initrd: size 204,800, page-aligned, above the kernel and inside RAM,
    and its CRC-32 in guest memory equals the host's;
  - the guest powered off (vsa-vm exit status 0).

--qemu runs the same floppy on QEMU instead (a reference for the image and
the kernel; QEMU does not power off on port 8900h, so the run ends at the
"done" line).

Usage: syslinux_floppy_test.py --vsa-vm build/hypervisor/vsa-vm \\
           --kernel build/tests/progs/test_kernel.bin [--workdir DIR]
Exit status: 0 all checks passed, 1 a check failed, 2 bad usage.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
APPEND = 'vsa.test=syslinux-floppy root=/dev/fd0 ro quiet vsa.words="one two three"'
INITRD_SIZE = 200 * 1024
MEMORY_MIB = 32
PREFIX = "VSA-TESTKERNEL "


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"PASS {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""))


def parse_report(text):
    """The kernel's lines as {key: value}: 'key=value ...' pairs, or the
    word after the prefix mapped to the rest of the line."""
    report = {}
    for line in text.splitlines():
        line = line.rstrip("\r")
        if not line.startswith(PREFIX):
            continue
        rest = line[len(PREFIX):]
        if rest.startswith("cmdline="):
            report["cmdline"] = rest[len("cmdline="):]
            continue
        words = rest.split(" ")
        if "=" not in words[0]:
            report[words[0]] = " ".join(words[1:])
            continue
        for word in words:
            key, _, value = word.partition("=")
            report[key] = value
    return report


def kernel_pm_part(kernel):
    setup_sects = kernel[0x1F1] or 4
    syssize = int.from_bytes(kernel[0x1F4:0x1F8], "little")
    start = (setup_sects + 1) * 512
    return kernel[start:start + syssize * 16]


def run_vsa_vm(args, image, serial_log, timeout):
    cmd = [args.vsa_vm, "--memory", f"{MEMORY_MIB}M", "--floppy", image, "--boot", "floppy",
           "--serial", f"file:{serial_log}", "--timeout", str(timeout)]
    print("running:", " ".join(cmd))
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, timeout=timeout + 60).returncode


def run_qemu(image, serial_log, timeout):
    cmd = ["qemu-system-i386", "-M", "pc", "-m", str(MEMORY_MIB), "-display", "none", "-no-reboot",
           "-drive", f"file={image},format=raw,if=floppy,snapshot=on", "-boot", "a",
           "-serial", f"file:{serial_log}"]
    print("running:", " ".join(cmd))
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if os.path.exists(serial_log) and PREFIX + "done" in open(serial_log, errors="replace").read():
                break
            time.sleep(0.2)
    finally:
        proc.kill()
        proc.wait()
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vsa-vm", help="vsa-vm binary")
    parser.add_argument("--qemu", action="store_true", help="boot on qemu-system-i386 instead")
    parser.add_argument("--kernel", required=True, help="test_kernel.bin (tests/progs)")
    parser.add_argument("--workdir", help="keep the floppy and the serial log here")
    parser.add_argument("--timeout", type=int, default=120, help="host seconds for the boot")
    args = parser.parse_args()
    if not args.qemu and not args.vsa_vm:
        parser.error("--vsa-vm or --qemu is needed")

    workdir = args.workdir or tempfile.mkdtemp(prefix="vsa-syslinux-floppy-")
    os.makedirs(workdir, exist_ok=True)
    subprocess.run([os.path.join(HERE, "build-syslinux-floppy.sh"), args.kernel, workdir], check=True)
    image = os.path.join(workdir, "syslinux-floppy.img")
    with open(args.kernel, "rb") as f:
        kernel = f.read()
    with open(os.path.join(workdir, "floppy-initrd.img"), "rb") as f:
        initrd = f.read()
    serial_log = os.path.join(workdir, "serial.log")
    if os.path.exists(serial_log):
        os.unlink(serial_log)

    start = time.monotonic()
    status = run_qemu(image, serial_log, args.timeout) if args.qemu else run_vsa_vm(args, image, serial_log,
                                                                                     args.timeout)
    elapsed = time.monotonic() - start
    text = open(serial_log, errors="replace").read() if os.path.exists(serial_log) else ""
    print("--- COM1 ---\n" + text + "--- end ---")
    report = parse_report(text)

    c = Checks()
    c.check(report.get("setup", "").startswith("seg="), "the real-mode setup ran", "no 'setup seg=' line")
    c.check(report.get("setup-sectors") == "ok", "setup sectors intact", report.get("setup-sectors", "missing"))
    loader = report.get("loader", "")
    c.check(re.fullmatch(r"3[0-9a-f]", loader) is not None, "type_of_loader is SYSLINUX (3Xh)", loader)
    loadflags = int(report.get("loadflags", "0"), 16)
    c.check(loadflags & 0x01 == 0x01, "loadflags keep LOADED_HIGH", f"{loadflags:02x}")
    c.check("pm" in report and report["pm"] == "ok", "32-bit protected mode at 1 MiB")
    pm = kernel_pm_part(kernel)
    want_crc = f"{zlib.crc32(pm):08x}"
    c.check(report.get("len") == f"{len(pm):08x}", "protected-mode part length",
            f"{report.get('len')} != {len(pm):08x}")
    c.check(report.get("pm-crc32") == want_crc, "protected-mode part CRC-32 at 1 MiB",
            f"{report.get('pm-crc32')} != {want_crc}")
    c.check(report.get("pm-pattern") == "ok", "protected-mode pattern intact", report.get("pm-pattern", "missing"))
    cmdline = report.get("cmdline", "")
    c.check(APPEND in cmdline, "command line holds the APPEND line", repr(cmdline))
    c.check(cmdline.startswith("BOOT_IMAGE=vmlinuz "), "command line starts with BOOT_IMAGE=vmlinuz", repr(cmdline))
    c.check("initrd=initrd.img" in cmdline, "command line names the initrd", repr(cmdline))
    cmdptr = int(report.get("cmdline-ptr", "0"), 16)
    c.check(0 < cmdptr < 0xA0000, "command line in low memory", f"{cmdptr:08x}")
    initrd_at = int(report.get("initrd", "0"), 16)
    initrd_size = int(report.get("size", "0"), 16)
    c.check(initrd_size == len(initrd) == INITRD_SIZE, "initrd size", f"{initrd_size} != {len(initrd)}")
    c.check(initrd_at % 4096 == 0 and initrd_at >= 0x100000 + len(pm)
            and initrd_at + initrd_size <= MEMORY_MIB * 1024 * 1024,
            "initrd page-aligned, above the kernel, inside RAM", f"{initrd_at:08x}")
    want_initrd = f"{zlib.crc32(initrd):08x}"
    c.check(report.get("initrd-crc32") == want_initrd, "initrd CRC-32 in guest memory",
            f"{report.get('initrd-crc32')} != {want_initrd}")
    c.check("done" in report, "the kernel finished")
    if not args.qemu:
        c.check(status == 0, "vsa-vm exit status 0 (guest powered off)", f"status {status}")
    print(f"TIMING syslinux_floppy host_s={elapsed:.1f}")
    print(f"{c.passed} passed, {c.failed} failed")
    if not args.workdir and c.failed == 0:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
