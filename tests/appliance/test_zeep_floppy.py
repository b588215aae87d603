#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The floppy drive's media in a running guest (IVMFloppyDrive AttachImage,
ReleaseImage, AttachHostDrive, ReleaseHostDrive; floppy.host_drive.ID):
python3-zeep against a live vsad that runs real vsa-vm workers.

Usage: test_zeep_floppy.py vsad vsa-vhd vsa-vm floppy_poll_disk.img

The guest (tests/progs/floppy_poll_disk.asm) polls drive A: through INT 13h
and prints "FDPOLL: read <first 16 bytes>" for each new disk and
"FDPOLL: no disk" when the drive empties. Every disk here starts with a
16-byte marker, so the COM1 log says which disk the guest read. The host
floppy drive is an image file named by floppy.host_drive.testfd (a real
/dev/fd0 or a USB floppy is configured the same way). Kept short: it runs
under ASan in the default suite.
"""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeep_support import VsadTestCase, make_counter_vm, read_file, run_tests, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = POLL_DISK = None  # argv

TURNED_OFF, SAVED, RUNNING = 1, 2, 5
NONE, IMAGE, HOST_DRIVE = 0, 1, 2
FLOPPY_144 = 1474560
HOST_DIR = tempfile.mkdtemp(prefix="vsa-floppy-host-")
HOST_IMAGE = os.path.join(HOST_DIR, "host-floppy.img")


def make_floppy(path, marker, size=FLOPPY_144):
    assert len(marker) == 16
    with open(path, "wb") as f:
        f.write(marker + b"\0" * (size - len(marker)))


class FloppyTest(VsadTestCase):
    vsad_defines = {"floppy.host_drive.testfd": HOST_IMAGE}

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(HOST_DIR, ignore_errors=True)

    def wait_log(self, text, count=1, limit=30):
        """Waits until the guest printed `text` at least `count` times."""
        self.assertTrue(wait_for(lambda: read_file(self.log).count(text) >= count, limit, 0.05),
                        "the guest did not print %r %d time(s); COM1: %r" % (text, count, read_file(self.log)[-600:]))

    def test_floppy_media_reach_the_guest(self):
        s = self.s
        make_floppy(HOST_IMAGE, b"VSA-FLOPPY-HOST!")
        vm, self.log, _ = make_counter_vm(s, VSA_VHD, POLL_DISK, "floppy")
        folder = os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm))
        disk_a, disk_b = os.path.join(folder, "a.vfd"), os.path.join(folder, "b.vfd")
        make_floppy(disk_a, b"VSA-FLOPPY-AAAA!")
        make_floppy(disk_b, b"VSA-FLOPPY-BBBB!", 737280)  # a 720 KB disk in the same drive
        odd = os.path.join(folder, "odd.vfd")
        make_floppy(odd, b"VSA-FLOPPY-ODD!!", 1000000)
        fdd = s.IVMVirtualMachine_get_FloppyDrives(_this=vm)[0]

        # The host drive table: the configured image by its id.
        self.assertIn("testfd", s.IVMHostInfo_get_FloppyDrives(_this=s.IVMVirtualServer_get_HostInfo()) or [])

        # Bad media get a clear fault and change nothing, running or not.
        def refusals():
            self.assert_fault(lambda: s.IVMFloppyDrive_AttachImage(_this=fdd, mediaImagePath=odd),
                              "VM_E_IMAGE_CAPTURE_FAIL", text="not a floppy image")
            self.assert_fault(lambda: s.IVMFloppyDrive_AttachImage(
                _this=fdd, mediaImagePath=os.path.join(folder, "missing.vfd")), "VM_E_IMAGE_CAPTURE_FAIL")
            self.assert_fault(lambda: s.IVMFloppyDrive_AttachHostDrive(_this=fdd, driveLetter="nosuch"),
                              "E_INVALIDARG")
            self.assert_fault(lambda: s.IVMFloppyDrive_AttachHostDrive(_this=fdd, driveLetter="B"),
                              "VM_E_HOST_FLOPPY_CAPTURE_FAIL", text="testfd")
        refusals()
        self.assertEqual(s.IVMFloppyDrive_get_Attachment(_this=fdd), NONE)

        # (a) A disk attached before the start is in drive A: at boot.
        s.IVMFloppyDrive_AttachImage(_this=fdd, mediaImagePath=disk_a)
        mark = s.IVMVirtualServer_get_LastEventSequence()
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            self.wait_log(b"FDPOLL: read VSA-FLOPPY-AAAA!")
            refusals()
            self.assertEqual(s.IVMFloppyDrive_get_ImageFile(_this=fdd), disk_a)

            # (b) Live: a swap, an eject, an insert; the guest reads each.
            s.IVMFloppyDrive_AttachImage(_this=fdd, mediaImagePath=disk_b)
            self.wait_log(b"FDPOLL: read VSA-FLOPPY-BBBB!")
            self.assertEqual(s.IVMFloppyDrive_get_ImageFile(_this=fdd), disk_b)
            s.IVMFloppyDrive_ReleaseImage(_this=fdd)
            self.wait_log(b"FDPOLL: no disk")
            self.assertEqual(s.IVMFloppyDrive_get_Attachment(_this=fdd), NONE)
            self.assert_fault(lambda: s.IVMFloppyDrive_ReleaseImage(_this=fdd), "VM_E_NO_MEDIA_CAPTURED")

            # (c) The configured host floppy drive, captured live.
            s.IVMFloppyDrive_AttachHostDrive(_this=fdd, driveLetter="testfd")
            self.wait_log(b"FDPOLL: read VSA-FLOPPY-HOST!")
            self.assertEqual(s.IVMFloppyDrive_get_Attachment(_this=fdd), HOST_DRIVE)
            self.assertEqual(s.IVMFloppyDrive_get_HostDriveLetter(_this=fdd), "testfd")
            self.assert_fault(lambda: s.IVMFloppyDrive_AttachImage(_this=fdd, mediaImagePath=disk_a),
                              "VM_E_MEDIA_WRONG_TYPE")
            self.assert_fault(lambda: s.IVMFloppyDrive_ReleaseImage(_this=fdd), "VM_E_MEDIA_WRONG_TYPE")

            # Save and restore with the host drive's disk in drive A:; the
            # guest goes on polling where it was.
            self.wait_task(s.IVMVirtualMachine_Save(_this=vm))
            self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), SAVED)
            self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
            self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
            s.IVMFloppyDrive_ReleaseHostDrive(_this=fdd)
            self.wait_log(b"FDPOLL: no disk", 2)
            self.assertIn(s.IVMFloppyDrive_get_HostDriveLetter(_this=fdd), ("", None))
            s.IVMFloppyDrive_AttachImage(_this=fdd, mediaImagePath=disk_a)
            self.wait_log(b"FDPOLL: read VSA-FLOPPY-AAAA!", 2)
            # A worker that took everything above is still there.
            self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
            self.assertEqual(read_file(self.log).count(b"FDPOLL: ready"), 1)
        finally:
            if s.IVMVirtualMachine_get_State(_this=vm) != TURNED_OFF:
                self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))

        # The changes were events on the floppy drive, as the DVD drive's.
        events = s.IVMVirtualServer_GetEvents(afterSequence=mark, maxCount=1000) or []
        media = [e.kind for e in events if e.kind.startswith("OnMedia") and e.object == fdd]
        self.assertEqual(media, ["OnMediaEject", "OnMediaInsert", "OnMediaEject", "OnMediaInsert",
                                 "OnMediaEject", "OnMediaInsert"], media)
        # Stopped: the host drive is configuration again.
        s.IVMFloppyDrive_ReleaseImage(_this=fdd)
        s.IVMFloppyDrive_AttachHostDrive(_this=fdd, driveLetter="testfd")
        s.IVMFloppyDrive_ReleaseHostDrive(_this=fdd)


def main():
    global VSAD, VSA_VHD, VSA_VM, POLL_DISK
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    VSAD, VSA_VHD, VSA_VM, POLL_DISK = sys.argv[1:]
    FloppyTest.vsad_binary, FloppyTest.worker_binary = VSAD, VSA_VM
    return run_tests([FloppyTest], failure_note=lambda: read_file(FloppyTest.vsad.stderr_path).decode(
        "utf-8", "replace") if getattr(FloppyTest, "vsad", None) else "")


if __name__ == "__main__":
    sys.exit(main())
