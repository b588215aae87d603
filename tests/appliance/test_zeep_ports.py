#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""COM and LPT ports, the floppy drive's host drive and collections, and
IVMDVDDrive.SetBusLocation over SOAP: python3-zeep against a live vsad that
runs real vsa-vm workers.

Usage: test_zeep_ports.py vsad vsa-vhd vsa-vm counter_disk.img lpt_disk.img

Two guests from tests/progs: counter_disk.asm prints "VSA-COUNTER ..." on
COM1 forever (COM1 configured to a text file: the lines must land there,
not in the default log); lpt_disk.asm waits for a byte on COM1, then prints
through LPT1 and reports on COM1 (COM1 configured to a TCP socket the test
connects to, LPT1 to "LPT1", i.e. <vm name>.lpt1.txt in the VM folder).
Kept short: it runs under ASan in the default suite.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeep_support import VsadTestCase, read_file, run_tests, make_counter_vm, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = COUNTER_DISK = LPT_DISK = None  # argv

TURNED_OFF, RUNNING = 1, 5
HOST_PORT, TEXT_FILE, NAMED_PIPE, NULL = 0, 1, 2, 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortsTest(VsadTestCase):
    def test_collections_settings_and_errors(self):
        s = self.s
        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="settings", configurationPath="")
        folder = os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm))

        # COM1 and COM2: the property, the collection, their defaults.
        coms = s.IVMVirtualMachine_get_SerialPorts(_this=vm)
        self.assertEqual(len(coms), 2)
        col = vm + "/SerialPorts"
        self.assertEqual(s.IVMSerialPortCollection_get_Count(_this=col), 2)
        self.assertEqual([s.IVMSerialPortCollection_get_Item(_this=col, index=i) for i in (1, 2)], coms)
        self.assertEqual(s.IVMSerialPortCollection_get__NewEnum(_this=col), coms)
        self.assert_fault(lambda: s.IVMSerialPortCollection_get_Item(_this=col, index=3), "DISP_E_BADINDEX")
        self.assert_fault(lambda: s.IVMSerialPortCollection_get_Item(_this=col, index=0), "DISP_E_BADINDEX")
        self.assertEqual([s.IVMSerialPort_get__ID(_this=c) for c in coms], [0, 1])
        for com in coms:
            self.assertEqual(s.IVMSerialPort_get_Type(_this=com), NULL)
            self.assertIn(s.IVMSerialPort_get_Name(_this=com), ("", None))
            self.assertFalse(s.IVMSerialPort_get_ConnectImmediately(_this=com))
        com1, com2 = coms

        # LPT1.
        lpts = s.IVMVirtualMachine_get_ParallelPorts(_this=vm)
        self.assertEqual(len(lpts), 1)
        lcol = vm + "/ParallelPorts"
        self.assertEqual(s.IVMParallelPortCollection_get_Count(_this=lcol), 1)
        self.assertEqual(s.IVMParallelPortCollection_get_Item(_this=lcol, index=1), lpts[0])
        self.assertEqual(s.IVMParallelPortCollection_get__NewEnum(_this=lcol), lpts)
        self.assert_fault(lambda: s.IVMParallelPortCollection_get_Item(_this=lcol, index=2), "DISP_E_BADINDEX")
        lpt = lpts[0]
        self.assertEqual(s.IVMParallelPort_get__ID(_this=lpt), 0)
        self.assertIn(s.IVMParallelPort_get_Name(_this=lpt), ("", None))
        s.IVMParallelPort_set_Name(_this=lpt, portName="lpt1")
        self.assertEqual(s.IVMParallelPort_get_Name(_this=lpt), "LPT1")
        self.assert_fault(lambda: s.IVMParallelPort_set_Name(_this=lpt, portName="LPT2"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMParallelPort_set_Name(_this=lpt, portName="/etc/printer.txt"),
                          "E_ACCESSDENIED")

        # Configure: each type, normalized names, and what is refused.
        port = free_port()
        s.IVMSerialPort_Configure(_this=com1, portType=NAMED_PIPE, portName=f"tcp:127.0.0.1:{port}",
                                  connectImmediately=True)
        self.assertEqual(s.IVMSerialPort_get_Type(_this=com1), NAMED_PIPE)
        self.assertEqual(s.IVMSerialPort_get_Name(_this=com1), f"tcp:127.0.0.1:{port}")
        self.assertFalse(s.IVMSerialPort_get_ConnectImmediately(_this=com1))  # host ports only
        text = os.path.join(folder, "com2.txt")
        s.IVMSerialPort_Configure(_this=com2, portType=TEXT_FILE, portName=text, connectImmediately=False)
        self.assertEqual(s.IVMSerialPort_get_Name(_this=com2), text)
        pipe = os.path.join(folder, "com2-pipe")
        s.IVMSerialPort_Configure(_this=com2, portType=NAMED_PIPE, portName=pipe, connectImmediately=False)
        self.assertEqual(s.IVMSerialPort_get_Name(_this=com2), pipe)
        bad = [
            (7, "x", "E_INVALIDARG"),
            (-1, "x", "E_INVALIDARG"),
            (HOST_PORT, "COM9", "E_INVALIDARG"),
            (HOST_PORT, "/dev/ttyUSB97", "E_INVALIDARG"),  # no such device here
            (HOST_PORT, "/etc/passwd", "E_INVALIDARG"),
            (TEXT_FILE, "relative.txt", "E_INVALIDARG"),
            (TEXT_FILE, "/etc/vsa-ports-test.txt", "E_ACCESSDENIED"),
            (NAMED_PIPE, "\\\\.\\pipe\\com1", "E_INVALIDARG"),
            (NAMED_PIPE, "tcp:127.0.0.1:0", "E_INVALIDARG"),
            (NAMED_PIPE, "tcp:example.invalid:23", "E_INVALIDARG"),
            (NAMED_PIPE, f"tcp:0.0.0.0:{port}", "VM_E_PREF_ILLEGAL_VALUE"),  # COM1 listens there
            (TEXT_FILE, os.path.join(folder, "settings.lpt1.txt"), "VM_E_PREF_ILLEGAL_VALUE"),  # LPT1's file
        ]
        for kind, name, hresult in bad:
            with self.subTest(kind=kind, name=name):
                self.assert_fault(lambda: s.IVMSerialPort_Configure(_this=com2, portType=kind, portName=name,
                                                                    connectImmediately=False), hresult)
        self.assertEqual(s.IVMSerialPort_get_Name(_this=com2), pipe)  # refusals change nothing
        self.assert_fault(lambda: s.IVMSerialPort_get_Type(_this=vm + "/com/2"), "E_INVALIDARG")
        if os.path.exists("/dev/ttyS0"):
            s.IVMSerialPort_Configure(_this=com2, portType=HOST_PORT, portName="com1", connectImmediately=True)
            self.assertEqual(s.IVMSerialPort_get_Name(_this=com2), "COM1")
            self.assertTrue(s.IVMSerialPort_get_ConnectImmediately(_this=com2))
        s.IVMSerialPort_Configure(_this=com2, portType=NULL, portName="ignored", connectImmediately=False)
        self.assertIn(s.IVMSerialPort_get_Name(_this=com2), ("", None))
        # Kept in the .vmc.
        with open(s.IVMVirtualMachine_get_File(_this=vm), encoding="utf-8", errors="replace") as f:
            vmc = f.read()
        self.assertIn(f"tcp:127.0.0.1:{port}", vmc)
        self.assertIn("LPT1", vmc)

        # The floppy drive: number, collection, host drives.
        fdds = s.IVMVirtualMachine_get_FloppyDrives(_this=vm)
        fcol = vm + "/FloppyDrives"
        self.assertEqual(s.IVMFloppyDriveCollection_get_Count(_this=fcol), 1)
        self.assertEqual(s.IVMFloppyDriveCollection_get_Item(_this=fcol, index=1), fdds[0])
        self.assertEqual(s.IVMFloppyDriveCollection_get__NewEnum(_this=fcol), fdds)
        self.assert_fault(lambda: s.IVMFloppyDriveCollection_get_Item(_this=fcol, index=2), "DISP_E_BADINDEX")
        fdd = fdds[0]
        self.assertEqual(s.IVMFloppyDrive_get_DriveNumber(_this=fdd), 0)
        self.assertIn(s.IVMFloppyDrive_get_HostDriveLetter(_this=fdd), ("", None))
        self.assert_fault(lambda: s.IVMFloppyDrive_AttachHostDrive(_this=fdd, driveLetter=""), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMFloppyDrive_AttachHostDrive(_this=fdd, driveLetter="Q"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMFloppyDrive_ReleaseHostDrive(_this=fdd), "VM_E_NO_MEDIA_CAPTURED")
        if os.path.exists("/sys/block/fd0"):
            s.IVMFloppyDrive_AttachHostDrive(_this=fdd, driveLetter="A:")
            self.assertEqual(s.IVMFloppyDrive_get_HostDriveLetter(_this=fdd), "fd0")
            self.assertEqual(s.IVMFloppyDrive_get_Attachment(_this=fdd), 2)
            s.IVMFloppyDrive_ReleaseHostDrive(_this=fdd)
        else:
            self.assert_fault(lambda: s.IVMFloppyDrive_AttachHostDrive(_this=fdd, driveLetter="A"),
                              "VM_E_HOST_FLOPPY_CAPTURE_FAIL", text="no floppy drive")
        self.assertEqual(s.IVMFloppyDrive_get_Attachment(_this=fdd), 0)

        # SetBusLocation on a stopped VM: the reference follows the drive.
        dvd = s.IVMVirtualMachine_AddDVDROMDrive(_this=vm, busType=0, busNumber=1, deviceNumber=0)
        s.IVMDVDDrive_SetBusLocation(_this=dvd, busType=0, busNumber=0, deviceNumber=1)
        self.assertEqual(s.IVMVirtualMachine_get_DVDROMDrives(_this=vm), [vm + "/dvd/0:1"])
        moved = vm + "/dvd/0:1"
        self.assertEqual(s.IVMDVDDrive_get_BusNumber(_this=moved), 0)
        self.assertEqual(s.IVMDVDDrive_get_DeviceNumber(_this=moved), 1)
        self.assert_fault(lambda: s.IVMDVDDrive_get_BusNumber(_this=dvd), "VM_E_DRIVE_INVALID")
        self.assert_fault(lambda: s.IVMDVDDrive_SetBusLocation(_this=moved, busType=1, busNumber=0,
                                                               deviceNumber=0), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMDVDDrive_SetBusLocation(_this=moved, busType=0, busNumber=2,
                                                               deviceNumber=0), "E_INVALIDARG")
        s.IVMVirtualMachine_AddDVDROMDrive(_this=vm, busType=0, busNumber=1, deviceNumber=1)
        self.assert_fault(lambda: s.IVMDVDDrive_SetBusLocation(_this=moved, busType=0, busNumber=1,
                                                               deviceNumber=1), "VM_E_DRIVE_BUS_LOC_IN_USE")

    def test_com1_to_a_text_file(self):
        s = self.s
        vm, default_log, _ = make_counter_vm(s, VSA_VHD, COUNTER_DISK, "textcom")
        folder = os.path.dirname(default_log)
        text = os.path.join(folder, "guest-com1.txt")
        com1 = s.IVMVirtualMachine_get_SerialPorts(_this=vm)[0]
        s.IVMSerialPort_Configure(_this=com1, portType=TEXT_FILE, portName=text, connectImmediately=False)
        dvd = s.IVMVirtualMachine_AddDVDROMDrive(_this=vm, busType=0, busNumber=1, deviceNumber=0)
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            self.assertTrue(wait_for(lambda: read_file(text).count(b"VSA-COUNTER ") >= 3, 30),
                            "no counter lines in %s: %r" % (text, read_file(text)[-200:]))
            self.assertNotIn(b"VSA-COUNTER", read_file(default_log))
            # Running: ports and drive locations stay as they are.
            self.assert_fault(lambda: s.IVMSerialPort_Configure(_this=com1, portType=NULL, portName="",
                                                                connectImmediately=False), "VM_E_VM_RUNNING")
            lpt = s.IVMVirtualMachine_get_ParallelPorts(_this=vm)[0]
            self.assert_fault(lambda: s.IVMParallelPort_set_Name(_this=lpt, portName="LPT1"), "VM_E_VM_RUNNING")
            self.assert_fault(lambda: s.IVMDVDDrive_SetBusLocation(_this=dvd, busType=0, busNumber=1,
                                                                   deviceNumber=1), "VM_E_VM_RUNNING")
            # The floppy's host drive is configuration only: any state.
            fdd = s.IVMVirtualMachine_get_FloppyDrives(_this=vm)[0]
            self.assertEqual(s.IVMFloppyDrive_get_DriveNumber(_this=fdd), 0)
        finally:
            self.turn_off(vm)

    def test_com1_to_tcp_and_lpt1_to_a_file(self):
        s = self.s
        vm, _, _ = make_counter_vm(s, VSA_VHD, LPT_DISK, "printer")
        folder = os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm))
        port = free_port()
        com1 = s.IVMSerialPort_Configure
        com1(_this=s.IVMVirtualMachine_get_SerialPorts(_this=vm)[0], portType=NAMED_PIPE,
             portName=f"tcp:127.0.0.1:{port}", connectImmediately=False)
        s.IVMParallelPort_set_Name(_this=s.IVMVirtualMachine_get_ParallelPorts(_this=vm)[0], portName="LPT1")
        printed = os.path.join(folder, "printer.lpt1.txt")
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        received = b""
        try:
            client = None
            deadline = time.monotonic() + 30
            while client is None and time.monotonic() < deadline:
                try:
                    client = socket.create_connection(("127.0.0.1", port), timeout=1)
                except OSError:
                    time.sleep(0.05)
            self.assertIsNotNone(client, "nothing listens on COM1's TCP port %d" % port)
            with client:
                client.settimeout(30)
                client.sendall(b"g")  # the guest waits for one byte on COM1
                while b"VSA-LPT-OK" not in received and b"FAIL" not in received and time.monotonic() < deadline:
                    try:
                        chunk = client.recv(4096)
                    except socket.timeout:
                        break
                    if not chunk:
                        break
                    received += chunk
            self.assertIn(b"[lpt] got g", received, received[-300:])
            self.assertIn(b"VSA-LPT-OK", received, received[-300:])
            # The guest powers off by itself.
            self.assertTrue(wait_for(lambda: s.IVMVirtualMachine_get_State(_this=vm) == TURNED_OFF, 30))
            self.assertEqual(read_file(printed), b"INT17: hello, printer\r\nPORTIO: direct, IRQ 7\r\n")
        finally:
            self.turn_off(vm)


def main():
    global VSAD, VSA_VHD, VSA_VM, COUNTER_DISK, LPT_DISK
    if len(sys.argv) != 6:
        print(__doc__)
        return 2
    VSAD, VSA_VHD, VSA_VM, COUNTER_DISK, LPT_DISK = sys.argv[1:]
    PortsTest.vsad_binary, PortsTest.worker_binary = VSAD, VSA_VM
    return run_tests([PortsTest], failure_note=lambda: read_file(PortsTest.vsad.stderr_path).decode(
        "utf-8", "replace") if getattr(PortsTest, "vsad", None) else "")


if __name__ == "__main__":
    sys.exit(main())
