#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Issue 11, area "misc", over SOAP: floppy image creation and type,
IVMVirtualMachine.AttachedDriveTypes, IVMVirtualServer.UnconnectedNetworkAdapters,
the hidden _ID members of IVMVirtualNetwork and IVMNetworkAdapter, and the
support drivers (the host kernel modules vsad relies on), against a live vsad.

Usage: test_zeep_misc.py vsad vsa-vhd

No guest runs: every member here reads or writes configuration and files.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeep_support import VsadTestCase, read_text, run_tests, strings  # noqa: E402

VSAD = VSA_VHD = None  # argv

LOW, HIGH = 1, 2
DRIVE_NULL, DRIVE_HARD_DISK, DRIVE_DVD = 0, 1, 2
VMM, NETWORK_SERVICES = 0, 1


def drive_index(bus_type, bus, device):
    # The documented layout: [2 bus types][4 buses][7 devices], row-major.
    return (bus_type * 4 + bus) * 7 + device


class MiscTest(VsadTestCase):
    def test_floppy_images(self):
        s = self.s
        media = os.path.join(self.vsad.data_dir, "media")
        os.makedirs(media, exist_ok=True)
        s.IVMVirtualServer_set_SearchPaths(paths=strings([media]))

        high = os.path.join(media, "blank.vfd")
        s.IVMVirtualServer_CreateFloppyDiskImage(imagePath=high, imageType=HIGH)
        self.assertEqual(os.path.getsize(high), 1474560)
        with open(high, "rb") as f:
            self.assertEqual(f.read().count(b"\0"), 1474560)  # blank
        self.assertEqual(s.IVMVirtualServer_GetFloppyDiskImageType(imagePath=high), HIGH)
        # The containing folder is made when missing.
        low = os.path.join(media, "sub", "low.flp")
        s.IVMVirtualServer_CreateFloppyDiskImage(imagePath=low, imageType=LOW)
        self.assertEqual(os.path.getsize(low), 737280)
        self.assertEqual(s.IVMVirtualServer_GetFloppyDiskImageType(imagePath=low), LOW)
        # The new image is listed where floppy images come from (a scan of the search paths).
        listed = s.IVMVirtualServer_GetFloppyDiskFiles(inAdditionalSearchPaths=strings([])) or []
        self.assertIn(os.path.realpath(high), [os.path.realpath(p) for p in listed])

        # Every documented type by size.
        for size, kind in ((1720320, 3), (368640, 4), (1228800, 5), (1884160, 6), (2949120, 0)):
            path = os.path.join(media, "t%d.img" % size)
            with open(path, "wb") as f:
                f.truncate(size)
            self.assertEqual(s.IVMVirtualServer_GetFloppyDiskImageType(imagePath=path), kind, size)

        # A floppy image usable as media by the floppy drive.
        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="floppy", configurationPath="")
        fdd = s.IVMVirtualMachine_get_FloppyDrives(_this=vm)[0]
        s.IVMFloppyDrive_AttachImage(_this=fdd, mediaImagePath=high)
        self.assertEqual(os.path.realpath(s.IVMFloppyDrive_get_ImageFile(_this=fdd)), os.path.realpath(high))
        s.IVMFloppyDrive_ReleaseImage(_this=fdd)

        # Errors.
        self.assert_fault(lambda: s.IVMVirtualServer_CreateFloppyDiskImage(imagePath=high, imageType=HIGH),
                          "E_ALREADY_EXISTS")
        self.assertEqual(os.path.getsize(high), 1474560)
        for kind in (0, 3, 4, 5, 6, 7, -1):
            self.assert_fault(lambda: s.IVMVirtualServer_CreateFloppyDiskImage(
                imagePath=os.path.join(media, "x%d.vfd" % kind), imageType=kind), "E_INVALIDARG")
        self.assertFalse(os.path.exists(os.path.join(media, "x3.vfd")))
        self.assert_fault(lambda: s.IVMVirtualServer_CreateFloppyDiskImage(imagePath="rel.vfd", imageType=HIGH),
                          "E_BAD_PATHNAME")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateFloppyDiskImage(imagePath="/tmp/out-of-root.vfd",
                                                                           imageType=HIGH), "E_ACCESSDENIED")
        self.assertFalse(os.path.exists("/tmp/out-of-root.vfd"))
        self.assert_fault(lambda: s.IVMVirtualServer_GetFloppyDiskImageType(
            imagePath=os.path.join(media, "missing.vfd")), "E_FILE_NOT_FOUND")
        self.assert_fault(lambda: s.IVMVirtualServer_GetFloppyDiskImageType(
            imagePath=os.path.join(media, "nodir", "missing.vfd")), "E_PATH_NOT_FOUND")
        odd = os.path.join(media, "odd.vfd")
        with open(odd, "wb") as f:
            f.write(b"x" * 1000)
        self.assert_fault(lambda: s.IVMVirtualServer_GetFloppyDiskImageType(imagePath=odd), "DISP_E_EXCEPTION",
                          text="not a floppy image")
        self.assert_fault(lambda: s.IVMVirtualServer_GetFloppyDiskImageType(imagePath="/etc/passwd"),
                          "E_ACCESSDENIED")

    def test_attached_drive_types(self):
        s = self.s
        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="drives", configurationPath="")
        folder = os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm))

        def expected():
            types = bytearray(56)
            for hdc in s.IVMVirtualMachine_get_HardDiskConnections(_this=vm) or []:
                types[drive_index(s.IVMHardDiskConnection_get_BusType(_this=hdc),
                                  s.IVMHardDiskConnection_get_BusNumber(_this=hdc),
                                  s.IVMHardDiskConnection_get_DeviceNumber(_this=hdc))] = DRIVE_HARD_DISK
            for dvd in s.IVMVirtualMachine_get_DVDROMDrives(_this=vm) or []:
                types[drive_index(s.IVMDVDDrive_get_BusType(_this=dvd), s.IVMDVDDrive_get_BusNumber(_this=dvd),
                                  s.IVMDVDDrive_get_DeviceNumber(_this=dvd))] = DRIVE_DVD
            return bytes(types)

        for dvd in s.IVMVirtualMachine_get_DVDROMDrives(_this=vm) or []:
            s.IVMVirtualMachine_RemoveDVDROMDrive(_this=vm, dvdDrive=dvd)
        self.assertEqual(s.IVMVirtualMachine_get_AttachedDriveTypes(_this=vm), bytes(56))
        vhd = os.path.join(folder, "d.vhd")
        subprocess.run([VSA_VHD, "create", "dynamic", vhd, "8M"], check=True, capture_output=True)
        s.IVMVirtualMachine_AddHardDiskConnection(_this=vm, hardDiskPath=vhd, busType=0, busNumber=0,
                                                  deviceNumber=1)
        s.IVMVirtualMachine_AddDVDROMDrive(_this=vm, busType=0, busNumber=1, deviceNumber=0)
        types = s.IVMVirtualMachine_get_AttachedDriveTypes(_this=vm)
        self.assertEqual(len(types), 56)
        self.assertEqual(types[drive_index(0, 0, 1)], DRIVE_HARD_DISK)
        self.assertEqual(types[drive_index(0, 1, 0)], DRIVE_DVD)
        self.assertEqual(sum(1 for b in types if b), 2)
        self.assertEqual(types, expected())

        self.assert_fault(lambda: s.IVMVirtualMachine_get_AttachedDriveTypes(
            _this="{00000000-0000-0000-0000-000000000001}"), "VM_E_VM_UNKNOWN")
        self.assert_fault(lambda: s.IVMVirtualMachine_get_AttachedDriveTypes(_this="junk"), "E_INVALIDARG")

    def test_unconnected_adapters_and_ids(self):
        s = self.s
        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="nics", configurationPath="")
        nic = s.IVMVirtualMachine_AddNetworkAdapter(_this=vm)
        self.assertEqual(s.IVMNetworkAdapter_get__ID(_this=nic), int(nic.rsplit("/", 1)[1]))
        unconnected = s.IVMVirtualServer_get_UnconnectedNetworkAdapters() or []
        self.assertIn(nic, unconnected)
        for ref in s.IVMVirtualMachine_get_NetworkAdapters(_this=vm) or []:
            self.assertEqual(ref in unconnected, s.IVMNetworkAdapter_get_VirtualNetwork(_this=ref) in ("", None))

        net = s.IVMVirtualServer_CreateVirtualNetwork(configurationName="misc-lan", configurationPath="")
        self.assertEqual(s.IVMVirtualNetwork_get__ID(_this=net), s.IVMVirtualNetwork_get_ID(_this=net))
        s.IVMNetworkAdapter_AttachToVirtualNetwork(_this=nic, virtualNetwork=net)
        self.assertNotIn(nic, s.IVMVirtualServer_get_UnconnectedNetworkAdapters() or [])
        s.IVMNetworkAdapter_DetachFromVirtualNetwork(_this=nic)
        self.assertIn(nic, s.IVMVirtualServer_get_UnconnectedNetworkAdapters() or [])

        self.assert_fault(lambda: s.IVMNetworkAdapter_get__ID(_this=vm + "/nic/99"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMNetworkAdapter_get__ID(_this=vm + "/nic/x"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualNetwork_get__ID(_this="{00000000-0000-0000-0000-000000000001}"),
                          "VM_E_INVALID_VIRTUAL_NETWORK_ID")
        self.assert_fault(lambda: s.IVMVirtualNetwork_get__ID(_this="junk"), "E_INVALIDARG")

    def test_support_drivers(self):
        s = self.s
        refs = s.IVMVirtualServer_get_SupportDrivers() or []
        col = "server/SupportDrivers"
        self.assertEqual(s.IVMSupportDriverCollection_get_Count(_this=col), len(refs))
        self.assertEqual(s.IVMSupportDriverCollection_get__NewEnum(_this=col) or [], refs)
        # What this host has, read the same way the server does (sysfs).
        modules = [r.split("/", 1)[1] for r in refs]
        for module in modules:
            self.assertIn(module, ("kvm", "kvm_intel", "kvm_amd", "tun", "bridge"))
        if os.path.isdir("/sys/module/bridge"):
            self.assertIn("bridge", modules)
        if os.path.isdir("/sys/class/misc/tun"):
            self.assertIn("tun", modules)
        self.assertTrue(refs, "a host that runs vsad has TUN/TAP or bridging")
        release = os.uname().release
        for index, ref in enumerate(refs, 1):
            self.assertEqual(s.IVMSupportDriverCollection_get_Item(_this=col, index=index), ref)
            module = ref.split("/", 1)[1]
            kind = s.IVMSupportDriver_get_Type(_this=ref)
            self.assertEqual(kind, VMM if module.startswith("kvm") else NETWORK_SERVICES)
            self.assertTrue(s.IVMSupportDriver_get_Description(_this=ref))
            self.assertTrue(s.IVMSupportDriver_get_Manufacturer(_this=ref))
            self.assertEqual(s.IVMSupportDriver_get_Provider(_this=ref), "Linux " + release)
            version = s.IVMSupportDriver_get_Version(_this=ref)
            own = "/sys/module/%s/version" % module
            if os.path.exists(own):
                with open(own) as f:
                    self.assertEqual(version, f.read().strip())
            else:
                self.assertEqual(len(version.split(".")), 4, version)
            date = s.IVMSupportDriver_get_Date(_this=ref) or ""
            self.assertTrue(date == "" or (len(date) == 10 and date[4] == "-"), date)
        self.assert_fault(lambda: s.IVMSupportDriverCollection_get_Item(_this=col, index=0), "DISP_E_BADINDEX")
        self.assert_fault(lambda: s.IVMSupportDriverCollection_get_Item(_this=col, index=len(refs) + 1),
                          "DISP_E_BADINDEX")
        self.assert_fault(lambda: s.IVMSupportDriverCollection_get_Count(_this="server/Nothing"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMSupportDriver_get_Version(_this="supportdriver/ext4"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMSupportDriver_get_Type(_this="kvm"), "E_INVALIDARG")


def main():
    global VSAD, VSA_VHD
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    VSAD, VSA_VHD = sys.argv[1:]
    MiscTest.vsad_binary = VSAD
    return run_tests([MiscTest], failure_note=lambda: read_text(MiscTest.vsad.stderr_path)
                     if getattr(MiscTest, "vsad", None) else "")


if __name__ == "__main__":
    sys.exit(main())
