#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host drive virtual hard disks over SOAP (IVMVirtualServer.CreateHostDriveVirtualHardDisk,
IVMHardDisk.HostDriveIdentifier) against a live vsad with real vsa-vm workers.

Usage: test_zeep_host_drive.py vsad vsa-vhd vsa-vm counter_disk.img

The host drive is a loop device over a temporary file holding the counter
disk (tests/progs/counter_disk.asm, which prints "VSA-COUNTER ..." on COM1),
named to vsad with -D harddisk.host_drive.loop=/dev/loopN. A VM whose only
disk is the linked .vhd (a few bytes) boots and counts: its worker read the
boot sector from the device. Needs root and loop devices; without them the
test prints why and exits 77, which ctest reports as skipped.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeep_support import VsadTestCase, read_file, run_tests, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = COUNTER_DISK = None  # argv
LOOP = None  # the loop device made in main()
SKIP = 77

TURNED_OFF = 1
HOST_DRIVE_TYPE = 4


class HostDriveTest(VsadTestCase):
    def test_linked_disk_boots(self):
        s = self.s
        host = s.IVMVirtualServer_get_HostInfo()
        self.assertIn(LOOP, s.IVMHostInfo_get_HostDrives(_this=host) or [])
        self.assertFalse(s.IVMHostInfo_IsHostDriveMounted(_this=host, hostDriveIdentifier=LOOP))

        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="linked", configurationPath="")
        folder = os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm))
        s.IVMVirtualMachine_set_Memory(_this=vm, memory=16)
        linked = os.path.join(folder, "disks", "linked.vhd")
        task = s.IVMVirtualServer_CreateHostDriveVirtualHardDisk(imagePath=linked, hostDriveIdentifier=LOOP,
                                                                 mountReadOnly=False)
        self.wait_task(task)
        self.assertLess(os.path.getsize(linked), 4096)  # a link, not a copy
        self.assertEqual(s.IVMHardDisk_get_Type(_this=linked), HOST_DRIVE_TYPE)
        self.assertEqual(s.IVMHardDisk_get_HostDriveIdentifier(_this=linked), LOOP)
        self.assertEqual(int(s.IVMHardDisk_get_SizeInGuest(_this=linked)), os.path.getsize(COUNTER_DISK))

        # Other disks have no host drive (the reference's S_FALSE).
        plain = os.path.join(folder, "plain.vhd")
        subprocess.run([VSA_VHD, "create", "dynamic", plain, "8M"], check=True, capture_output=True)
        self.assertIn(s.IVMHardDisk_get_HostDriveIdentifier(_this=plain), ("", None))

        # Errors.
        self.assert_fault(lambda: s.IVMVirtualServer_CreateHostDriveVirtualHardDisk(
            imagePath=linked, hostDriveIdentifier=LOOP, mountReadOnly=False), "E_ALREADY_EXISTS")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateHostDriveVirtualHardDisk(
            imagePath=os.path.join(folder, "x.vhd"), hostDriveIdentifier="/dev/nosuchdisk9",
            mountReadOnly=False), "VM_E_HOST_DRIVE_NOT_FOUND")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateHostDriveVirtualHardDisk(
            imagePath=os.path.join(folder, "x.vhd"), hostDriveIdentifier="sda", mountReadOnly=False),
            "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateHostDriveVirtualHardDisk(
            imagePath=os.path.join(folder, "x.img"), hostDriveIdentifier=LOOP, mountReadOnly=False),
            "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateHostDriveVirtualHardDisk(
            imagePath="/tmp/outside.vhd", hostDriveIdentifier=LOOP, mountReadOnly=False), "E_ACCESSDENIED")
        self.assertFalse(os.path.exists(os.path.join(folder, "x.vhd")))

        # A read-only link: still a host drive disk.
        ro = os.path.join(folder, "ro.vhd")
        self.wait_task(s.IVMVirtualServer_CreateHostDriveVirtualHardDisk(imagePath=ro, hostDriveIdentifier=LOOP,
                                                                         mountReadOnly=True))
        self.assertIn(b"read_only=true", read_file(ro))

        # The VM boots from the device.
        s.IVMVirtualMachine_AddHardDiskConnection(_this=vm, hardDiskPath=linked, busType=0, busNumber=0,
                                                  deviceNumber=0)
        log = os.path.join(folder, "linked.com1.log")
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            self.assertTrue(wait_for(lambda: read_file(log).count(b"VSA-COUNTER ") >= 3, 30),
                            read_file(log)[-400:])
        finally:
            if s.IVMVirtualMachine_get_State(_this=vm) != TURNED_OFF:
                self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))


def main():
    global VSAD, VSA_VHD, VSA_VM, COUNTER_DISK, LOOP
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    VSAD, VSA_VHD, VSA_VM, COUNTER_DISK = sys.argv[1:]
    HostDriveTest.vsad_binary, HostDriveTest.worker_binary = VSAD, VSA_VM
    if os.geteuid() != 0:
        print("SKIPPED: loop devices need root")
        return SKIP
    if not os.path.exists("/dev/loop-control") or not shutil.which("losetup"):
        print("SKIPPED: no loop device support (/dev/loop-control or losetup missing)")
        return SKIP
    backing = tempfile.NamedTemporaryFile(prefix="vsa-host-drive-", suffix=".img", delete=False)
    try:
        with open(COUNTER_DISK, "rb") as image:
            backing.write(image.read())
        backing.close()
        made = subprocess.run(["losetup", "-f", "--show", backing.name], capture_output=True, text=True)
        if made.returncode != 0 or not made.stdout.strip().startswith("/dev/loop"):
            print("SKIPPED: losetup -f --show failed: " + (made.stderr or made.stdout).strip())
            return SKIP
        LOOP = made.stdout.strip()
        HostDriveTest.vsad_defines = {"harddisk.host_drive.loop": LOOP}
        try:
            return run_tests([HostDriveTest], failure_note=lambda: read_file(HostDriveTest.vsad.stderr_path).decode(
                "utf-8", "replace") if getattr(HostDriveTest, "vsad", None) else "")
        finally:
            subprocess.run(["losetup", "-d", LOOP], capture_output=True)
    finally:
        os.unlink(backing.name)


if __name__ == "__main__":
    sys.exit(main())
