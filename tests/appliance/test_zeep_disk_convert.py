#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""IVMHardDisk Convert, MergeTo and HostFreeDiskSpace over SOAP: python3-zeep
against a live vsad.

Usage: test_zeep_disk_convert.py vsad vsa-vhd vsa-vm counter_disk.img

A dynamic disk with data is converted to a fixed one and back: qemu-img
compare (QEMU's own VHD reader) and vsa-vhd cat both see the same guest
bytes, and the source is unchanged. MergeTo flattens a child -> parent chain
into a new dynamic or fixed disk that reads as the child did. Faults: an
existing target, a relative target, a target outside the allowed folders, a
bad type, MergeTo of a disk that is not a differencing disk, and a source a
running VM (a real vsa-vm worker on the counter disk) has open.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeep_support import VsadTestCase, make_counter_vm, run_tests  # noqa: E402

VSAD = VSA_VHD = VSA_VM = COUNTER_DISK = None  # argv
DYNAMIC, FIXED, DIFFERENCING = 0, 1, 2
MiB = 1 << 20


def vhd(*args, data=None):
    return subprocess.run([VSA_VHD, *args], input=data, check=True, capture_output=True).stdout


def guest_bytes(path):
    return vhd("cat", path)


def qemu_same(a, b):
    """qemu-img compare of two VHDs, both sized from their footers (not the
    CHS geometry QEMU uses by default)."""
    opts = "driver=vpc,force_size_calc=current_size,file.filename="
    done = subprocess.run(["qemu-img", "compare", "--image-opts", opts + a, opts + b], capture_output=True,
                          text=True)
    return done.returncode == 0, done.stdout + done.stderr


class DiskConvertTest(VsadTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.folder = cls.service.IVMVirtualServer_get_DefaultVMConfigurationPath()

    def path(self, *parts):
        return os.path.join(self.folder, "convert", *parts)

    def make_dynamic(self, name, size_mb, writes):
        path = self.path(name)
        self.wait_task(self.s.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath=path, size=size_mb))
        for offset, data in writes:
            vhd("write", path, str(offset), data=data)
        return path

    def run_task(self, task):
        self.assertTrue(self.s.IVMTask_get_IsCancelable(_this=task))
        self.wait_task(task)
        self.assertEqual(self.s.IVMTask_get_PercentCompleted(_this=task), 100)

    def test_convert_dynamic_to_fixed_and_back(self):
        s = self.s
        writes = [(0, b"\x55\xaa" * 256), (3 * MiB + 512, b"VSA" * 700), (15 * MiB, bytes(range(256)) * 16)]
        source = self.make_dynamic("source.vhd", 16, writes)
        before = guest_bytes(source)
        stat_before = os.stat(source)
        fixed = self.path("fixed.vhd")
        disk = s.IVMVirtualServer_GetHardDisk(imagePath=source)
        self.run_task(s.IVMHardDisk_Convert(_this=disk, convertedDiskImagePath=fixed, convertedDiskImageType=FIXED))
        fixed_disk = s.IVMVirtualServer_GetHardDisk(imagePath=fixed)
        self.assertEqual(s.IVMHardDisk_get_Type(_this=fixed_disk), FIXED)
        self.assertEqual(int(s.IVMHardDisk_get_SizeInGuest(_this=fixed_disk)), 16 * MiB)
        self.assertEqual(guest_bytes(fixed), before)
        same, why = qemu_same(source, fixed)
        self.assertTrue(same, why)
        # The source is left as it was.
        self.assertEqual(os.stat(source).st_mtime_ns, stat_before.st_mtime_ns)
        self.assertEqual(guest_bytes(source), before)

        back = self.path("back.vhd")
        self.run_task(s.IVMHardDisk_Convert(_this=fixed_disk, convertedDiskImagePath=back,
                                            convertedDiskImageType=DYNAMIC))
        back_disk = s.IVMVirtualServer_GetHardDisk(imagePath=back)
        self.assertEqual(s.IVMHardDisk_get_Type(_this=back_disk), DYNAMIC)
        self.assertEqual(guest_bytes(back), before)
        same, why = qemu_same(fixed, back)
        self.assertTrue(same, why)
        # Only the blocks holding data are stored (3 of the 8 blocks of 2 MB).
        self.assertLess(os.path.getsize(back), 8 * MiB)
        check = subprocess.run([VSA_VHD, "check", back], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

    def test_merge_to_flattens_a_chain(self):
        s = self.s
        base = self.make_dynamic("chain-base.vhd", 8, [(0, b"B" * 4096), (2 * MiB, b"b" * 1024)])
        child = self.path("chain-child.vhd")
        self.wait_task(s.IVMVirtualServer_CreateDifferencingVirtualHardDisk(imagePath=child, parentPath=base))
        vhd("write", child, "512", data=b"C" * 1024)  # over the parent's data
        vhd("write", child, str(5 * MiB), data=b"c" * 512)  # where the parent has none
        view = guest_bytes(child)
        self.assertNotEqual(view, guest_bytes(base))
        child_disk = s.IVMVirtualServer_GetHardDisk(imagePath=child)
        for name, kind in (("flat-dynamic.vhd", DYNAMIC), ("flat-fixed.vhd", FIXED)):
            flat = self.path(name)
            self.run_task(s.IVMHardDisk_MergeTo(_this=child_disk, newDiskImagePath=flat, newDiskImageType=kind))
            flat_disk = s.IVMVirtualServer_GetHardDisk(imagePath=flat)
            self.assertEqual(s.IVMHardDisk_get_Type(_this=flat_disk), kind)
            self.assertIn(s.IVMHardDisk_get_Parent(_this=flat_disk), ("", None))
            self.assertEqual(guest_bytes(flat), view, name)
        # The chain is unchanged; Convert of the child also stands alone.
        self.assertEqual(guest_bytes(child), view)
        self.assertEqual(s.IVMHardDisk_get_Type(_this=child_disk), DIFFERENCING)
        copy = self.path("child-copy.vhd")
        self.run_task(s.IVMHardDisk_Convert(_this=child_disk, convertedDiskImagePath=copy,
                                            convertedDiskImageType=DYNAMIC))
        self.assertEqual(guest_bytes(copy), view)
        # MergeTo is for differencing disks only.
        base_disk = s.IVMVirtualServer_GetHardDisk(imagePath=base)
        self.assert_fault(lambda: s.IVMHardDisk_MergeTo(_this=base_disk, newDiskImagePath=self.path("no.vhd"),
                                                        newDiskImageType=DYNAMIC), "VM_E_WRONG_HD_IMAGE_TYPE")
        self.assertFalse(os.path.exists(self.path("no.vhd")))

    def test_bad_targets(self):
        s = self.s
        source = self.make_dynamic("faults.vhd", 4, [])
        disk = s.IVMVirtualServer_GetHardDisk(imagePath=source)
        existing = self.make_dynamic("existing.vhd", 4, [])

        def convert(target, kind=DYNAMIC):
            return lambda: s.IVMHardDisk_Convert(_this=disk, convertedDiskImagePath=target,
                                                 convertedDiskImageType=kind)

        self.assert_fault(convert(existing), "E_ALREADY_EXISTS")
        self.assert_fault(convert(source), "E_ALREADY_EXISTS")
        self.assert_fault(convert("relative/copy.vhd"), "E_BAD_PATHNAME")
        self.assert_fault(convert(""), "E_BAD_PATHNAME")
        self.assert_fault(convert("/etc/vsa-convert-test.vhd"), "E_ACCESSDENIED")
        self.assertFalse(os.path.exists("/etc/vsa-convert-test.vhd"))
        self.assert_fault(convert(self.path("typed.vhd"), DIFFERENCING), "VM_E_WRONG_HD_IMAGE_TYPE")
        self.assert_fault(convert(self.path("typed.vhd"), 7), "VM_E_WRONG_HD_IMAGE_TYPE")
        self.assertFalse(os.path.exists(self.path("typed.vhd")))
        self.assert_fault(lambda: s.IVMHardDisk_Convert(_this="/etc/passwd", convertedDiskImagePath=self.path("x.vhd"),
                                                        convertedDiskImageType=DYNAMIC), "E_ACCESSDENIED")
        self.assert_fault(lambda: s.IVMHardDisk_MergeTo(_this=disk, newDiskImagePath=existing,
                                                        newDiskImageType=DYNAMIC), "VM_E_WRONG_HD_IMAGE_TYPE")

    def test_host_free_disk_space(self):
        s = self.s
        source = self.make_dynamic("space.vhd", 4, [])
        free = int(s.IVMHardDisk_get_HostFreeDiskSpace(_this=s.IVMVirtualServer_GetHardDisk(imagePath=source)))
        info = os.statvfs(os.path.dirname(source))
        expected = info.f_bavail * info.f_frsize
        self.assertGreater(free, 0)
        self.assertLess(abs(free - expected), 256 * MiB, (free, expected))  # other writers meanwhile
        self.assert_fault(lambda: s.IVMHardDisk_get_HostFreeDiskSpace(_this="relative.vhd"), "E_BAD_PATHNAME")

    def test_cancel_leaves_no_file(self):
        s = self.s
        source = self.make_dynamic("big.vhd", 512, [(i * 8 * MiB, b"x" * 4096) for i in range(64)])
        target = self.path("big-fixed.vhd")
        task = s.IVMHardDisk_Convert(_this=s.IVMVirtualServer_GetHardDisk(imagePath=source),
                                     convertedDiskImagePath=target, convertedDiskImageType=FIXED)
        try:
            s.IVMTask_Cancel(_this=task)
            cancelled = True
        except Exception:  # noqa: BLE001 - E_FAIL: it completed first
            cancelled = False
        self.wait_task(task, succeed=False)
        result = s.IVMTask_get_Result(_this=task)
        if cancelled and result == 1:
            self.assertFalse(os.path.exists(target))
            self.assertEqual(s.IVMTask2_get_Error(_this=task), 0x80004004)  # E_ABORT
        else:
            self.assertEqual(result, 0, s.IVMTask2_get_ErrorDescription(_this=task))
            self.assertTrue(os.path.exists(target))
        leftovers = [n for n in os.listdir(self.path()) if n.startswith("big-fixed") and n != "big-fixed.vhd"]
        self.assertEqual(leftovers, [])

    def test_source_in_use_by_a_running_vm(self):
        s = self.s
        vm, _, _ = make_counter_vm(s, VSA_VHD, COUNTER_DISK, "busy")
        source = os.path.join(os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm)), "busy.vhd")
        disk = s.IVMVirtualServer_GetHardDisk(imagePath=source)
        target = self.path("busy-copy.vhd")
        # A child of the VM's disk: the VM writes its parent while it runs.
        child = self.path("busy-child.vhd")
        self.wait_task(s.IVMVirtualServer_CreateDifferencingVirtualHardDisk(imagePath=child, parentPath=source))
        child_disk = s.IVMVirtualServer_GetHardDisk(imagePath=child)
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            self.assert_fault(lambda: s.IVMHardDisk_Convert(_this=disk, convertedDiskImagePath=target,
                                                            convertedDiskImageType=DYNAMIC),
                              "E_SHARING_VIOLATION", text="busy")
            self.assert_fault(lambda: s.IVMHardDisk_MergeTo(_this=child_disk, newDiskImagePath=target,
                                                            newDiskImageType=FIXED),
                              "E_SHARING_VIOLATION", text="in use")
            self.assertFalse(os.path.exists(target))
        finally:
            self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))
        self.run_task(s.IVMHardDisk_Convert(_this=disk, convertedDiskImagePath=target, convertedDiskImageType=DYNAMIC))
        self.assertEqual(guest_bytes(target), guest_bytes(source))


def main():
    global VSAD, VSA_VHD, VSA_VM, COUNTER_DISK
    if len(sys.argv) < 5:
        print("usage: test_zeep_disk_convert.py vsad vsa-vhd vsa-vm counter_disk.img", file=sys.stderr)
        return 2
    VSAD, VSA_VHD, VSA_VM, COUNTER_DISK = (os.path.abspath(a) for a in sys.argv[1:5])
    DiskConvertTest.vsad_binary, DiskConvertTest.worker_binary = VSAD, VSA_VM
    return run_tests((DiskConvertTest,))


if __name__ == "__main__":
    sys.exit(main())
