#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""SCSI controllers over SOAP: python3-zeep against a live vsad that runs
real vsa-vm workers.

Usage: test_zeep_scsi.py vsad vsa-vhd vsa-vm counter_disk.img

AddSCSIController, Configure, the collection, RemoveSCSIController and their
faults; a hard disk on SCSI (AddHardDiskConnection and SetBusLocation with
busType 1); then the VM boots tests/progs/counter_disk.asm from that SCSI
disk alone (no IDE disk: SeaBIOS reads it through the PVSCSI adapter) and
its "VSA-COUNTER" lines reach COM1's log. Kept short: it runs under ASan in
the default suite.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeep_support import VsadTestCase, read_file, run_tests, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = COUNTER_DISK = None  # argv

TURNED_OFF = 1
IDE, SCSI = 0, 1


class ScsiTest(VsadTestCase):
    def test_controllers_disks_and_boot(self):
        s = self.s
        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="scsi", configurationPath="")
        folder = os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm))
        vhd = os.path.join(folder, "scsi.vhd")
        subprocess.run([VSA_VHD, "create", "fixed", vhd, "4M"], check=True, capture_output=True)
        with open(COUNTER_DISK, "rb") as image, open(vhd, "r+b") as disk:
            disk.write(image.read())  # a fixed VHD is the raw disk plus a footer
        s.IVMVirtualMachine_set_Memory(_this=vm, memory=16)
        self.assertEqual(s.IVMVirtualServer_get_MaximumNumberOfSCSIControllers(), 4)

        # None at first; a disk cannot go on a controller that is not there.
        self.assertFalse(s.IVMVirtualMachine_get_SCSIControllers(_this=vm))
        col = vm + "/SCSIControllers"
        self.assertEqual(s.IVMSCSIControllerCollection_get_Count(_this=col), 0)
        self.assert_fault(lambda: s.IVMVirtualMachine_AddHardDiskConnection(
            _this=vm, hardDiskPath=vhd, busType=SCSI, busNumber=0, deviceNumber=0), "E_INVALIDARG",
            text="no SCSI controller 0")

        # One controller: defaults, Configure and its range.
        c0 = s.IVMVirtualMachine_AddSCSIController(_this=vm)
        self.assertEqual(s.IVMSCSIController_get__ID(_this=c0), 0)
        self.assertFalse(s.IVMSCSIController_get_IsBusShared(_this=c0))
        self.assertEqual(s.IVMSCSIController_get_SCSIID(_this=c0), 7)
        s.IVMSCSIController_Configure(_this=c0, isBusShared=True, SCSIID=6)
        self.assertTrue(s.IVMSCSIController_get_IsBusShared(_this=c0))
        self.assertEqual(s.IVMSCSIController_get_SCSIID(_this=c0), 6)
        for bad in (5, 8, -1, 0):
            self.assert_fault(lambda: s.IVMSCSIController_Configure(_this=c0, isBusShared=False, SCSIID=bad),
                              "E_INVALIDARG")
        # A shared bus takes device 0 only.
        self.assert_fault(lambda: s.IVMVirtualMachine_AddHardDiskConnection(
            _this=vm, hardDiskPath=vhd, busType=SCSI, busNumber=0, deviceNumber=3), "E_INVALIDARG")
        s.IVMSCSIController_Configure(_this=c0, isBusShared=False, SCSIID=7)

        # A disk on SCSI 0:3, moved to 0:0; the ranges and the controller's own ID.
        for bus, device in ((0, 7), (0, -1), (4, 0), (1, 0)):
            self.assert_fault(lambda: s.IVMVirtualMachine_AddHardDiskConnection(
                _this=vm, hardDiskPath=vhd, busType=SCSI, busNumber=bus, deviceNumber=device), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualMachine_AddHardDiskConnection(
            _this=vm, hardDiskPath=vhd, busType=2, busNumber=0, deviceNumber=0), "E_INVALIDARG")
        hdc = s.IVMVirtualMachine_AddHardDiskConnection(_this=vm, hardDiskPath=vhd, busType=SCSI, busNumber=0,
                                                        deviceNumber=3)
        self.assertEqual(s.IVMHardDiskConnection_get_BusType(_this=hdc), SCSI)
        self.assertEqual(s.IVMHardDiskConnection_get_BusNumber(_this=hdc), 0)
        self.assertEqual(s.IVMHardDiskConnection_get_DeviceNumber(_this=hdc), 3)
        self.assertEqual(s.IVMVirtualMachine_get_HardDiskConnections(_this=vm), [hdc])
        # The disk stops the controller from taking ID 6 + shared (device 3 is not 0).
        self.assert_fault(lambda: s.IVMSCSIController_Configure(_this=c0, isBusShared=True, SCSIID=6),
                          "VM_E_DRIVE_BUS_LOC_IN_USE")
        s.IVMHardDiskConnection_SetBusLocation(_this=hdc, busType=SCSI, busNumber=0, deviceNumber=0)
        hdc = s.IVMVirtualMachine_get_HardDiskConnections(_this=vm)[0]
        self.assertEqual(s.IVMHardDiskConnection_get_DeviceNumber(_this=hdc), 0)
        self.assert_fault(lambda: s.IVMHardDiskConnection_SetBusLocation(_this=hdc, busType=SCSI, busNumber=0,
                                                                         deviceNumber=7), "E_INVALIDARG")

        # Up to four controllers; numbers stay, a removed one's is reused.
        more = [s.IVMVirtualMachine_AddSCSIController(_this=vm) for _ in range(3)]
        self.assertEqual([s.IVMSCSIController_get__ID(_this=c) for c in more], [1, 2, 3])
        self.assert_fault(lambda: s.IVMVirtualMachine_AddSCSIController(_this=vm), "E_FAIL")
        refs = s.IVMVirtualMachine_get_SCSIControllers(_this=vm)
        self.assertEqual(refs, [c0] + more)
        self.assertEqual(s.IVMSCSIControllerCollection_get_Count(_this=col), 4)
        self.assertEqual([s.IVMSCSIControllerCollection_get_Item(_this=col, index=i) for i in range(1, 5)], refs)
        self.assertEqual(s.IVMSCSIControllerCollection_get__NewEnum(_this=col), refs)
        self.assert_fault(lambda: s.IVMSCSIControllerCollection_get_Item(_this=col, index=5), "DISP_E_BADINDEX")
        self.assert_fault(lambda: s.IVMSCSIControllerCollection_get_Item(_this=col, index=0), "DISP_E_BADINDEX")
        self.assert_fault(lambda: s.IVMVirtualMachine_RemoveSCSIController(_this=vm, controller=c0),
                          "VM_E_DRIVE_BUS_LOC_IN_USE")
        s.IVMVirtualMachine_RemoveSCSIController(_this=vm, controller=more[1])
        self.assertEqual(s.IVMVirtualMachine_get_SCSIControllers(_this=vm), [c0, more[0], more[2]])
        self.assert_fault(lambda: s.IVMVirtualMachine_RemoveSCSIController(_this=vm, controller=more[1]),
                          "VM_E_PREF_NOT_FOUND")
        self.assert_fault(lambda: s.IVMSCSIController_get_SCSIID(_this=more[1]), "VM_E_PREF_NOT_FOUND")
        self.assert_fault(lambda: s.IVMSCSIController_get_SCSIID(_this=vm + "/scsi/9"), "E_INVALIDARG")
        self.assertEqual(s.IVMVirtualMachine_AddSCSIController(_this=vm), more[1])
        for c in more:
            s.IVMVirtualMachine_RemoveSCSIController(_this=vm, controller=c)
        self.assertEqual(s.IVMSCSIControllerCollection_get_Count(_this=col), 1)

        # The configuration is kept in the .vmc.
        with open(s.IVMVirtualMachine_get_File(_this=vm), "rb") as f:
            vmc = f.read()
        self.assertIn(b"scsi_adapter", vmc)
        self.assertIn(b"scsi.vhd", vmc)

        # Boot from the SCSI disk alone and see the guest run.
        log = os.path.join(folder, "scsi.com1.log")
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            self.assertTrue(wait_for(lambda: read_file(log).count(b"VSA-COUNTER ") >= 2, 30),
                            "no counter lines in %s: %r" % (log, read_file(log)[-300:]))
            # Running: the controllers stay as they are.
            self.assert_fault(lambda: s.IVMVirtualMachine_AddSCSIController(_this=vm), "VM_E_VM_RUNNING")
            self.assert_fault(lambda: s.IVMSCSIController_Configure(_this=c0, isBusShared=True, SCSIID=6),
                              "VM_E_VM_RUNNING")
            s.IVMSCSIController_Configure(_this=c0, isBusShared=False, SCSIID=7)  # no change: fine
            self.assert_fault(lambda: s.IVMVirtualMachine_RemoveSCSIController(_this=vm, controller=c0),
                              "VM_E_VM_RUNNING")
        finally:
            if s.IVMVirtualMachine_get_State(_this=vm) != TURNED_OFF:
                self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))


def main():
    global VSAD, VSA_VHD, VSA_VM, COUNTER_DISK
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    VSAD, VSA_VHD, VSA_VM, COUNTER_DISK = sys.argv[1:]
    ScsiTest.vsad_binary, ScsiTest.worker_binary = VSAD, VSA_VM
    return run_tests([ScsiTest], failure_note=lambda: read_file(ScsiTest.vsad.stderr_path).decode(
        "utf-8", "replace") if getattr(ScsiTest, "vsad", None) else "")


if __name__ == "__main__":
    sys.exit(main())
