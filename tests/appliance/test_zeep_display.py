#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A running VM's display, guest, accounting and DVD media over SOAP:
python3-zeep against a live vsad that runs a real vsa-vm worker.

Usage: test_zeep_display.py vsad vsa-vhd vsa-vm screen_disk.img

The guest is tests/progs/screen_disk.asm: it paints rows 0-4 of the text
screen with light-red full blocks and "VSA-SCREEN" on row 10, prints
"VSA-SCREEN-READY" on COM1 and idles with interrupts on. So the thumbnail's
top rows are exactly DAC colour 12, the screen is 720x400 text, the guest
heartbeats (it takes its timer interrupts) and ignores the ACPI power
button (no ACPI support): IVMGuestOS.Shutdown leaves it running.

Host optical drives: vsad is configured with two drive ids standing for
files ("testcd", an image of 64 sectors, and "emptycd", an empty file: a
drive without a disc, until the test writes a disc into it), with the
host's own drives not discovered, so the test does not depend on the
machine having /dev/sr0. What reaches a worker is read from its command
line and its open files (/proc/PID/fd).
"""
import os
import shutil
import struct
import sys
import tempfile
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import ZeepTestCase, make_client, make_counter_vm, wait_for, worker_of  # noqa: E402

VSAD = VSA_VHD = VSA_VM = SCREEN_DISK = None  # argv
TURNED_OFF, RUNNING, PAUSED = 1, 5, 6
TEXT_MODE = 0
E_ABORT = 0x80004004
LIGHT_RED = (0xFF, 0x55, 0x55)  # the VGA BIOS's DAC colour 12


def read_text(path):
    try:
        with open(path, encoding="latin-1") as f:
            return f.read()
    except OSError:
        return ""


def decode_png(data):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB PNG, by the book
    (PNG spec section 9: the five filter types), to check what libpng wrote
    without trusting it."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, "bad CRC in " + kind.decode()
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 2), "not 8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 3
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b = previous[i]
            c = previous[i - 3] if i >= 3 else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[x * 3:x * 3 + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def open_files(pid):
    files = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            files.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return files


class DisplayTest(ZeepTestCase):
    def setUp(self):
        self.media = os.path.realpath(tempfile.mkdtemp(prefix="vsa-hostcd-"))
        self.testcd = os.path.join(self.media, "testcd.iso")
        with open(self.testcd, "wb") as f:
            f.write(b"CD01" * (64 * 512))
        self.emptycd = os.path.join(self.media, "emptycd.iso")
        open(self.emptycd, "wb").close()
        self.vsad = Vsad(VSAD, defines={"vm.worker_binary": VSA_VM, "dvd.discover_host_drives": "false",
                                        "dvd.host_drive.testcd": self.testcd,
                                        "dvd.host_drive.emptycd": self.emptycd})
        self.s = make_client(self.vsad).service

    def tearDown(self):
        code = self.vsad.stop()
        shutil.rmtree(self.vsad.data_dir, ignore_errors=True)
        shutil.rmtree(self.media, ignore_errors=True)
        self.assertEqual(code, 0, "vsad exited with status %s" % code)

    def make_screen_vm(self, name):
        s = self.s
        vm, log, _ = make_counter_vm(s, VSA_VHD, SCREEN_DISK, name)
        dvd = s.IVMVirtualMachine_AddDVDROMDrive(_this=vm, busType=0, busNumber=1, deviceNumber=0)
        return vm, dvd, os.path.dirname(log), log

    def test_running_vm(self):
        s = self.s
        vm, dvd, folder, log = self.make_screen_vm("screen")
        display = s.IVMVirtualMachine_get_Display(_this=vm)
        guest = s.IVMVirtualMachine_get_GuestOS(_this=vm)
        accountant = s.IVMVirtualMachine_get_Accountant(_this=vm)
        self.assertEqual(display, vm + "/display")
        self.assertEqual(guest, vm + "/guestos")
        self.assertEqual(accountant, vm + "/accountant")

        # Off: the display and guest need a running VM; the accountant
        # reads zeros; bad references are refused.
        self.assert_fault(lambda: s.IVMDisplay_get_Width(_this=display), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMDisplay_get_Thumbnail(_this=display), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMDisplay_get_Text(_this=display), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMGuestOS_get_IsHeartbeating(_this=guest), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMGuestOS_Shutdown(_this=guest), "VM_E_VM_NOT_RUNNING")
        self.assertIn(s.IVMGuestOS_get_AdditionsVersion(_this=guest), ("", None))
        self.assertEqual(s.IVMAccountant_get_UpTime(_this=accountant), 0)
        self.assertEqual(s.IVMAccountant_get_CPUUtilization(_this=accountant), 0)
        self.assert_fault(lambda: s.IVMDisplay_get_Width(_this=guest), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMDisplay_get_Width(_this="not-a-display"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualMachine_get_Display(_this="{00000000-0000-0000-0000-000000000001}"),
                          "VM_E_VM_UNKNOWN")

        task = s.IVMVirtualMachine_Startup(_this=vm)
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=task, timeout=30000))
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
        self.assertTrue(wait_for(lambda: "VSA-SCREEN-READY" in read_text(log)), "the guest did not paint")

        # The screen: mode 3 text, 80x25 cells of 9x16 dots.
        self.assertEqual(s.IVMDisplay_get_Width(_this=display), 720)
        self.assertEqual(s.IVMDisplay_get_Height(_this=display), 400)
        self.assertEqual(s.IVMDisplay_get_VideoMode(_this=display), TEXT_MODE)

        # The thumbnail: 64x48, blue << 24 | green << 16 | red << 8; the top
        # rows are the light-red blocks, further down the background shows.
        started = time.monotonic()
        thumbnail = s.IVMDisplay_get_Thumbnail(_this=display)
        took = time.monotonic() - started
        self.assertEqual(len(thumbnail), 64 * 48)
        red = LIGHT_RED[2] << 24 | LIGHT_RED[1] << 16 | LIGHT_RED[0] << 8
        self.assertEqual(thumbnail[0], red)
        self.assertEqual(thumbnail[5 * 64 + 40], red)
        self.assertNotEqual(thumbnail[40 * 64 + 10], red)
        print(f"Thumbnail over SOAP: {took * 1000:.0f} ms", file=sys.stderr)

        # The whole screen as a PNG, and one scaled.
        png = s.IVMDisplay_CaptureScreen(_this=display, width=0, height=0)
        width, height, rows = decode_png(png)
        self.assertEqual((width, height), (720, 400))
        self.assertEqual(rows[0][0], LIGHT_RED)
        self.assertEqual(rows[79][719], LIGHT_RED)  # the 9th dot of a block repeats
        # "VSA-SCREEN" on row 10 (y 160-175): yellow strokes on blue.
        label = set(rows[160 + y][x] for y in range(16) for x in range(90))
        self.assertIn((0xFF, 0xFF, 0x55), label)
        self.assertIn((0x00, 0x00, 0xAA), label)
        small = s.IVMDisplay_CaptureScreen(_this=display, width=64, height=48)
        self.assertEqual(decode_png(small)[:2], (64, 48))
        self.assert_fault(lambda: s.IVMDisplay_CaptureScreen(_this=display, width=0, height=48), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMDisplay_CaptureScreen(_this=display, width=-1, height=48), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMDisplay_CaptureScreen(_this=display, width=5000, height=48),
                          "E_INVALIDARG")

        # The same screen as text: 25 rows of 80, the blocks as '#', the
        # label on row 10.
        rows = s.IVMDisplay_get_Text(_this=display).split("\n")
        self.assertEqual(len([row for row in rows if row]), 25, rows)
        self.assertEqual(rows[0], "#" * 80)
        self.assertIn("VSA-SCREEN", rows[10])

        # The guest idles taking timer interrupts: it heartbeats.
        self.assertTrue(wait_for(lambda: s.IVMGuestOS_get_IsHeartbeating(_this=guest), 10))
        self.assertGreater(s.IVMGuestOS_get_HeartbeatPercentage(_this=guest), 0)
        # No guest agent in this guest: the OS name is unknown (vs_service_guest.cpp).
        self.assert_fault(lambda: s.IVMGuestOS_get_OSName(_this=guest), "VM_E_ADDITIONS_FEATURE_NOT_AVAIL")
        self.assertTrue(wait_for(lambda: s.IVMAccountant_get_UpTime(_this=accountant) >= 1, 10))
        cpu = s.IVMAccountant_get_CPUUtilization(_this=accountant)
        self.assertGreaterEqual(cpu, 0)
        self.assertLessEqual(cpu, 100)

        # Paused: no heartbeat, no guest shutdown; the screen still answers.
        s.IVMVirtualMachine_Pause(_this=vm)
        self.assertTrue(wait_for(lambda: not s.IVMGuestOS_get_IsHeartbeating(_this=guest), 10))
        self.assert_fault(lambda: s.IVMGuestOS_Shutdown(_this=guest), "VM_E_VM_PAUSED")
        self.assertEqual(s.IVMDisplay_get_Width(_this=display), 720)
        s.IVMVirtualMachine_Resume(_this=vm)
        self.assertTrue(wait_for(lambda: s.IVMGuestOS_get_IsHeartbeating(_this=guest), 10))

        # DVD media while running: through the worker's drive, then the .vmc.
        iso = os.path.join(folder, "data.iso")
        with open(iso, "wb") as f:
            f.write(b"\0" * 64 * 2048)
        missing = os.path.join(folder, "missing.iso")
        s.IVMDVDDrive_AttachImage(_this=dvd, imagePath=iso)
        self.assertEqual(s.IVMDVDDrive_get_ImageFile(_this=dvd), iso)
        self.assertEqual(s.IVMDVDDrive_get_Attachment(_this=dvd), 1)
        self.assert_fault(lambda: s.IVMDVDDrive_AttachImage(_this=dvd, imagePath=iso), "VM_E_DRIVE_IN_USE")
        s.IVMDVDDrive_ReleaseImage(_this=dvd)
        self.assertEqual(s.IVMDVDDrive_get_Attachment(_this=dvd), 0)
        # The worker refuses an image it cannot open (the model takes any
        # absolute path): the fault says why and the .vmc is unchanged.
        message = self.assert_fault(lambda: s.IVMDVDDrive_AttachImage(_this=dvd, imagePath=missing), "E_FAIL")
        self.assertIn("missing.iso", message)
        self.assertEqual(s.IVMDVDDrive_get_Attachment(_this=dvd), 0)

        # Shutdown presses the ACPI power button; this guest has no ACPI,
        # so it keeps running and the task stays open until the VM stops.
        shutdown = s.IVMGuestOS_Shutdown(_this=guest)
        self.assertTrue(shutdown)
        self.assertIn(shutdown, s.IVMVirtualServer_get_Tasks())
        self.assert_fault(lambda: s.IVMGuestOS_Shutdown(_this=guest), "E_FAIL")
        time.sleep(1.5)
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
        self.assertFalse(s.IVMTask_get_IsComplete(_this=shutdown))
        off = s.IVMVirtualMachine_TurnOff(_this=vm)
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=off, timeout=30000))
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=shutdown, timeout=30000))
        self.assertEqual(s.IVMTask2_get_Error(_this=shutdown), E_ABORT)

        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), TURNED_OFF)
        self.assert_fault(lambda: s.IVMDisplay_get_Height(_this=display), "VM_E_VM_NOT_RUNNING")
        self.assertEqual(s.IVMAccountant_get_UpTime(_this=accountant), 0)
        # Stopped: media change only the configuration.
        s.IVMDVDDrive_AttachImage(_this=dvd, imagePath=iso)
        self.assertEqual(s.IVMDVDDrive_get_ImageFile(_this=dvd), iso)

    def test_host_optical_drive(self):
        s = self.s
        host = s.IVMVirtualServer_get_HostInfo()
        self.assertEqual(sorted(s.IVMHostInfo_get_DVDDrives(_this=host) or []), ["emptycd", "testcd"])
        vm, dvd, folder, log = self.make_screen_vm("hostcd")
        iso = os.path.join(folder, "image.iso")
        with open(iso, "wb") as f:
            f.write(b"\0" * 16 * 2048)

        # Stopped: the configuration only.
        self.assertIn(s.IVMDVDDrive_get_HostDriveLetter(_this=dvd), ("", None))
        s.IVMDVDDrive_AttachHostDrive(_this=dvd, driveLetter="testcd")
        self.assertEqual(s.IVMDVDDrive_get_HostDriveLetter(_this=dvd), "testcd")
        self.assertEqual(s.IVMDVDDrive_get_Attachment(_this=dvd), 2)
        self.assertIn(s.IVMDVDDrive_get_ImageFile(_this=dvd), ("", None))
        with open(s.IVMVirtualMachine_get_File(_this=vm), encoding="utf-8") as f:
            vmc = f.read()
        self.assertIn('<attachment type="integer">2</attachment>', vmc)
        self.assertIn(">testcd<", vmc)
        # Only ids of the table: no other name, and no path, is a drive.
        for bad in ("nosuch", "sr0", self.testcd, "/dev/sda", "../testcd"):
            self.assert_fault(lambda: s.IVMDVDDrive_AttachHostDrive(_this=dvd, driveLetter=bad), "E_INVALIDARG")
        self.assertEqual(s.IVMDVDDrive_get_HostDriveLetter(_this=dvd), "testcd")
        # The drive holds media: release it first; the image calls are the wrong type.
        self.assert_fault(lambda: s.IVMDVDDrive_AttachHostDrive(_this=dvd, driveLetter="emptycd"),
                          "VM_E_DRIVE_IN_USE")
        self.assert_fault(lambda: s.IVMDVDDrive_AttachImage(_this=dvd, imagePath=iso), "VM_E_DRIVE_IN_USE")
        self.assert_fault(lambda: s.IVMDVDDrive_ReleaseImage(_this=dvd), "VM_E_MEDIA_WRONG_TYPE")
        s.IVMDVDDrive_ReleaseHostDrive(_this=dvd)
        self.assertEqual(s.IVMDVDDrive_get_Attachment(_this=dvd), 0)
        self.assertIn(s.IVMDVDDrive_get_HostDriveLetter(_this=dvd), ("", None))
        s.IVMDVDDrive_ReleaseHostDrive(_this=dvd)  # nothing captured: S_OK
        s.IVMDVDDrive_AttachImage(_this=dvd, imagePath=iso)
        self.assert_fault(lambda: s.IVMDVDDrive_ReleaseHostDrive(_this=dvd), "VM_E_MEDIA_WRONG_TYPE")
        self.assertIn(s.IVMDVDDrive_get_HostDriveLetter(_this=dvd), ("", None))
        s.IVMDVDDrive_ReleaseImage(_this=dvd)
        bad_ref = vm + "/dvd/0:1"  # no drive there
        self.assert_fault(lambda: s.IVMDVDDrive_AttachHostDrive(_this=bad_ref, driveLetter="testcd"),
                          "VM_E_DRIVE_INVALID")
        self.assert_fault(lambda: s.IVMDVDDrive_get_HostDriveLetter(_this="not-a-drive"), "E_INVALIDARG")

        # Started with the drive captured: the worker reads the drive's file.
        s.IVMDVDDrive_AttachHostDrive(_this=dvd, driveLetter="testcd")
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=s.IVMVirtualMachine_Startup(_this=vm), timeout=30000))
        self.assertTrue(wait_for(lambda: "VSA-SCREEN-READY" in read_text(log)), "the guest did not start")
        pid, args = worker_of(folder)
        self.assertIsNotNone(pid)
        self.assertIn("--cdrom=" + self.testcd, args)
        self.assertIn(self.testcd, open_files(pid))

        # Running: release and capture reach the worker's drive at once.
        s.IVMDVDDrive_ReleaseHostDrive(_this=dvd)
        self.assertNotIn(self.testcd, open_files(pid))
        self.assertEqual(s.IVMDVDDrive_get_Attachment(_this=dvd), 0)
        # A drive without a disc: captured, and an empty drive to the guest.
        s.IVMDVDDrive_AttachHostDrive(_this=dvd, driveLetter="emptycd")
        self.assertEqual(s.IVMDVDDrive_get_HostDriveLetter(_this=dvd), "emptycd")
        self.assertNotIn(self.emptycd, open_files(pid))
        self.assert_fault(lambda: s.IVMDVDDrive_AttachImage(_this=dvd, imagePath=iso), "VM_E_DRIVE_IN_USE")
        # A disc arrives in the host drive: the VM's drive follows within a
        # sample interval; and it goes again.
        with open(self.emptycd, "wb") as f:
            f.write(b"CD02" * (32 * 512))
        self.assertTrue(wait_for(lambda: self.emptycd in open_files(pid), 15), "the new disc did not arrive")
        os.truncate(self.emptycd, 0)
        self.assertTrue(wait_for(lambda: self.emptycd not in open_files(pid), 15), "the disc did not go")
        s.IVMDVDDrive_ReleaseHostDrive(_this=dvd)
        s.IVMDVDDrive_AttachHostDrive(_this=dvd, driveLetter="testcd")
        self.assertIn(self.testcd, open_files(pid))
        self.assert_fault(lambda: s.IVMDVDDrive_AttachHostDrive(_this=dvd, driveLetter="nosuch"), "E_INVALIDARG")
        self.assertIn(self.testcd, open_files(pid))
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=s.IVMVirtualMachine_TurnOff(_this=vm), timeout=30000))
        self.assertEqual(s.IVMDVDDrive_get_HostDriveLetter(_this=dvd), "testcd")  # the capture stays

        # Started on a drive without a disc: an empty drive, the VM runs.
        s.IVMDVDDrive_ReleaseHostDrive(_this=dvd)
        s.IVMDVDDrive_AttachHostDrive(_this=dvd, driveLetter="emptycd")
        os.truncate(log, 0)
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=s.IVMVirtualMachine_Startup(_this=vm), timeout=30000))
        self.assertTrue(wait_for(lambda: "VSA-SCREEN-READY" in read_text(log)), "the guest did not start")
        pid, args = worker_of(folder)
        self.assertIn("--cdrom=empty", args)
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=s.IVMVirtualMachine_TurnOff(_this=vm), timeout=30000))


if __name__ == "__main__":
    VSAD, VSA_VHD, VSA_VM, SCREEN_DISK = sys.argv[1:5]
    del sys.argv[1:5]
    unittest.main(verbosity=2)
