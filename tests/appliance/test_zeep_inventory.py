#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The inventory over SOAP: python3-zeep against a live vsad on loopback.

Usage: test_zeep_inventory.py PATH/TO/vsad PATH/TO/vsa-vhd

Creates, configures, finds, lists, unregisters, re-registers and deletes a VM
and a virtual network through IVMVirtualServer, IVMVirtualMachine,
IVMHardDiskConnection, IVMNetworkAdapter and IVMVirtualNetwork, and checks
that bad input (memory out of range, duplicate names, paths escaping the
allowed folders, bad references) is a VirtualServerFault with the right
HRESULT that changes nothing. vsad runs on this host, so files it reports
are checked on disk too.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import ZeepTestCase, run_tests, make_client as zeep_client, strings  # noqa: E402

VSAD_BINARY = None  # argv[1]
VSA_VHD = None  # argv[2]

E_INVALIDARG = 0x80070057
E_ACCESSDENIED = 0x80070005
VM_E_VM_UNKNOWN = 0xA0040207

vsad = None
vsad_stderr = ""


def setUpModule():
    global vsad
    vsad = Vsad(VSAD_BINARY)


def tearDownModule():
    global vsad_stderr
    if vsad is not None:
        code = vsad.stop()
        try:
            with open(vsad.stderr_path, errors="replace") as f:
                vsad_stderr = f.read()
        except OSError:
            pass
        vsad.cleanup()
        if code != 0:
            raise AssertionError(f"vsad exited with status {code} on SIGTERM")


def make_client(daemon=None, password=None):
    return zeep_client(daemon or vsad, password)


def empty_ref(value):
    return value in ("", None)


class InventoryTest(ZeepTestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = make_client()
        cls.s = cls.client.service

    def vms(self):
        return list(self.s.IVMVirtualServer_get_VirtualMachines() or [])

    def networks(self):
        return list(self.s.IVMVirtualServer_get_VirtualNetworks() or [])

    def make_vhd(self, path):
        subprocess.run([VSA_VHD, "create", "dynamic", path, "16M"], check=True, capture_output=True)
        self.assertTrue(os.path.isfile(path))

    def test_server_paths(self):
        s = self.s
        data_dir = os.path.realpath(vsad.data_dir)
        vm_path = s.IVMVirtualServer_get_DefaultVMConfigurationPath()
        self.assertTrue(os.path.realpath(vm_path).startswith(data_dir), vm_path)
        self.assertTrue(os.path.isdir(vm_path))
        vn_path = s.IVMVirtualServer_get_DefaultVNConfigurationPath()
        self.assertTrue(os.path.isdir(vn_path), vn_path)

        media = os.path.join(vsad.data_dir, "media")
        os.makedirs(media, exist_ok=True)
        self.make_vhd(os.path.join(media, "shared.vhd"))
        s.IVMVirtualServer_set_SearchPaths(paths=strings([media]))
        self.assertEqual([os.path.realpath(p) for p in s.IVMVirtualServer_get_SearchPaths()],
                         [os.path.realpath(media)])
        files = s.IVMVirtualServer_GetHardDiskFiles(inAdditionalSearchPaths=strings([])) or []
        self.assertIn(os.path.realpath(os.path.join(media, "shared.vhd")), [os.path.realpath(f) for f in files])
        # Floppy images: .vfd and .flp, from the search paths and the extra folders.
        extra = os.path.join(vm_path, "floppies")  # inside the server's folders
        os.makedirs(extra, exist_ok=True)
        for folder, name in ((media, "boot.vfd"), (extra, "tools.flp"), (extra, "notes.txt")):
            with open(os.path.join(folder, name), "wb") as f:
                f.write(b"\0" * 1474560)
        floppies = s.IVMVirtualServer_GetFloppyDiskFiles(inAdditionalSearchPaths=strings([extra])) or []
        self.assertEqual(sorted(os.path.basename(f) for f in floppies), ["boot.vfd", "tools.flp"])

        # a missing folder is refused and changes nothing
        self.assert_fault(lambda: s.IVMVirtualServer_set_SearchPaths(
            paths=strings([media, os.path.join(vsad.data_dir, "no-such-folder")])), "E_PATH_NOT_FOUND")
        self.assertEqual(len(s.IVMVirtualServer_get_SearchPaths()), 1)
        self.assert_fault(lambda: s.IVMVirtualServer_set_DefaultVMConfigurationPath(path="relative/folder"),
                          "E_BAD_PATHNAME")
        self.assertEqual(s.IVMVirtualServer_get_DefaultVMConfigurationPath(), vm_path)

    def test_vm_and_network_scenario(self):
        s = self.s
        before = self.vms()
        ref = s.IVMVirtualServer_CreateVirtualMachine(configurationName="alpha", configurationPath="")
        self.assertTrue(ref)
        self.assertIn(ref, self.vms())
        self.assertEqual(len(self.vms()), len(before) + 1)
        self.assertEqual(s.IVMVirtualMachine_get_Name(_this=ref), "alpha")
        self.assertRegex(s.IVMVirtualMachine_get_ConfigID(_this=ref), r"^\{[0-9A-F-]{36}\}$")
        self.assertEqual(s.IVMVirtualMachine_get_ConfigID(_this=ref), ref)
        vmc = s.IVMVirtualMachine_get_File(_this=ref)
        self.assertTrue(vmc.endswith("alpha.vmc"), vmc)
        self.assertTrue(os.path.isfile(vmc))
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=ref), 1)  # vmVMState_TurnedOff

        self.assertEqual(s.IVMVirtualMachine_get_Memory(_this=ref), 128)
        s.IVMVirtualMachine_set_Memory(_this=ref, memory=256)
        self.assertEqual(s.IVMVirtualMachine_get_Memory(_this=ref), 256)
        s.IVMVirtualMachine_set_Notes(_this=ref, notes="web server <test> & co")
        self.assertEqual(s.IVMVirtualMachine_get_Notes(_this=ref), "web server <test> & co")
        with open(vmc, errors="replace") as f:
            self.assertIn("256", f.read())  # written through to the .vmc

        self.assertEqual(s.IVMVirtualServer_FindVirtualMachine(configurationName="ALPHA"), ref)
        self.assertTrue(empty_ref(s.IVMVirtualServer_FindVirtualMachine(configurationName="nope")))

        # a disk, given relative to the VM's folder
        vhd = os.path.join(os.path.dirname(vmc), "alpha-disk0.vhd")
        self.make_vhd(vhd)
        hdc = s.IVMVirtualMachine_AddHardDiskConnection(_this=ref, hardDiskPath="alpha-disk0.vhd", busType=0,
                                                        busNumber=0, deviceNumber=1)
        self.assertEqual(list(s.IVMVirtualMachine_get_HardDiskConnections(_this=ref)), [hdc])
        self.assertEqual(os.path.realpath(s.IVMHardDiskConnection_get_HardDisk(_this=hdc)), os.path.realpath(vhd))
        self.assertEqual((s.IVMHardDiskConnection_get_BusType(_this=hdc),
                          s.IVMHardDiskConnection_get_BusNumber(_this=hdc),
                          s.IVMHardDiskConnection_get_DeviceNumber(_this=hdc)), (0, 0, 1))

        # a CD/DVD drive next to the disk, with an ISO; the floppy drive with an image
        folder = os.path.dirname(vmc)
        iso = os.path.join(folder, "install.iso")
        with open(iso, "wb") as f:
            f.write(b"\0" * 2048 * 20)
        dvd = s.IVMVirtualMachine_AddDVDROMDrive(_this=ref, busType=0, busNumber=1, deviceNumber=0)
        self.assertEqual(list(s.IVMVirtualMachine_get_DVDROMDrives(_this=ref)), [dvd])
        self.assertEqual(s.IVMDVDDrive_get_Attachment(_this=dvd), 0)
        self.assert_fault(lambda: s.IVMVirtualMachine_AddDVDROMDrive(_this=ref, busType=0, busNumber=0,
                                                                     deviceNumber=1), "VM_E_DRIVE_BUS_LOC_IN_USE")
        s.IVMDVDDrive_AttachImage(_this=dvd, imagePath="install.iso")
        self.assertEqual(s.IVMDVDDrive_get_Attachment(_this=dvd), 1)
        self.assertEqual(os.path.realpath(s.IVMDVDDrive_get_ImageFile(_this=dvd)), os.path.realpath(iso))
        self.assertEqual((s.IVMDVDDrive_get_BusType(_this=dvd), s.IVMDVDDrive_get_BusNumber(_this=dvd),
                          s.IVMDVDDrive_get_DeviceNumber(_this=dvd)), (0, 1, 0))
        self.assert_fault(lambda: s.IVMDVDDrive_AttachImage(_this=dvd, imagePath="/etc/hostname"), "E_ACCESSDENIED")
        self.assertEqual(os.path.realpath(s.IVMDVDDrive_get_ImageFile(_this=dvd)), os.path.realpath(iso))
        s.IVMDVDDrive_ReleaseImage(_this=dvd)
        self.assertEqual(s.IVMDVDDrive_get_Attachment(_this=dvd), 0)
        self.assertTrue(empty_ref(s.IVMDVDDrive_get_ImageFile(_this=dvd)))
        s.IVMVirtualMachine_RemoveDVDROMDrive(_this=ref, dvdDrive=dvd)
        self.assertFalse(s.IVMVirtualMachine_get_DVDROMDrives(_this=ref))
        self.assert_fault(lambda: s.IVMDVDDrive_get_Attachment(_this=dvd), "VM_E_DRIVE_INVALID")

        floppies = list(s.IVMVirtualMachine_get_FloppyDrives(_this=ref))
        self.assertEqual(len(floppies), 1)
        vfd = os.path.join(folder, "boot.vfd")
        with open(vfd, "wb") as f:
            f.write(b"\0" * 1474560)
        s.IVMFloppyDrive_AttachImage(_this=floppies[0], mediaImagePath=vfd)
        self.assertEqual(s.IVMFloppyDrive_get_Attachment(_this=floppies[0]), 1)
        self.assertEqual(os.path.realpath(s.IVMFloppyDrive_get_ImageFile(_this=floppies[0])), os.path.realpath(vfd))
        s.IVMFloppyDrive_ReleaseImage(_this=floppies[0])
        self.assertEqual(s.IVMFloppyDrive_get_Attachment(_this=floppies[0]), 0)

        # a network and a NIC plugged into it
        net = s.IVMVirtualServer_CreateVirtualNetwork(configurationName="lan", configurationPath="")
        self.assertIn(net, self.networks())
        self.assertEqual(s.IVMVirtualNetwork_get_ID(_this=net), net)
        self.assertEqual(s.IVMVirtualNetwork_get_Name(_this=net), "lan")
        self.assertTrue(os.path.isfile(s.IVMVirtualNetwork_get_File(_this=net)))
        s.IVMVirtualNetwork_set_Notes(_this=net, notes="lab")
        self.assertEqual(s.IVMVirtualNetwork_get_Notes(_this=net), "lab")
        self.assertEqual(s.IVMVirtualServer_FindVirtualNetwork(configurationName="LAN"), net)
        nic = s.IVMVirtualMachine_AddNetworkAdapter(_this=ref)
        self.assertEqual(list(s.IVMVirtualMachine_get_NetworkAdapters(_this=ref)), [nic])
        self.assertRegex(s.IVMNetworkAdapter_get_EthernetAddress(_this=nic), r"^([0-9A-F]{2}-){5}[0-9A-F]{2}$")
        self.assertTrue(empty_ref(s.IVMNetworkAdapter_get_VirtualNetwork(_this=nic)))
        s.IVMNetworkAdapter_AttachToVirtualNetwork(_this=nic, virtualNetwork=net)
        self.assertEqual(s.IVMNetworkAdapter_get_VirtualNetwork(_this=nic), net)
        self.assertEqual(list(s.IVMVirtualNetwork_get_NetworkAdapters(_this=net) or []), [nic])

        # rename, then unregister and register again: same id, same configuration
        s.IVMVirtualMachine_set_Name(_this=ref, name="alpha2")
        vmc = s.IVMVirtualMachine_get_File(_this=ref)
        self.assertTrue(vmc.endswith("alpha2.vmc") and os.path.isfile(vmc), vmc)
        self.assertIs(s.IVMVirtualServer_UnregisterVirtualMachine(virtualMachine=ref), True)
        self.assertIs(s.IVMVirtualServer_UnregisterVirtualMachine(virtualMachine=ref), False)  # S_FALSE
        self.assertNotIn(ref, self.vms())
        self.assertTrue(os.path.isfile(vmc))  # unregister keeps the files
        self.assertTrue(empty_ref(s.IVMVirtualServer_FindVirtualMachine(configurationName="alpha2")))
        self.assert_fault(lambda: s.IVMVirtualMachine_get_Name(_this=ref), "VM_E_VM_UNKNOWN", VM_E_VM_UNKNOWN)
        again = s.IVMVirtualServer_RegisterVirtualMachine(configurationName="", configurationPath=vmc)
        self.assertEqual(again, ref)
        self.assertEqual(s.IVMVirtualMachine_get_Memory(_this=ref), 256)
        self.assertEqual(list(s.IVMVirtualMachine_get_HardDiskConnections(_this=ref)), [hdc])
        self.assertEqual(s.IVMNetworkAdapter_get_VirtualNetwork(_this=nic), net)

        s.IVMVirtualMachine_RemoveHardDiskConnection(_this=ref, hardDiskConnection=hdc)
        self.assertFalse(s.IVMVirtualMachine_get_HardDiskConnections(_this=ref))
        self.assert_fault(lambda: s.IVMHardDiskConnection_get_HardDisk(_this=hdc), "VM_E_DRIVE_INVALID")

        # deleting the network unplugs the NIC; deleting the VM keeps the .vhd
        self.assertIs(s.IVMVirtualServer_DeleteVirtualNetwork(virtualNetwork=net), True)
        self.assertNotIn(net, self.networks())
        self.assertTrue(empty_ref(s.IVMNetworkAdapter_get_VirtualNetwork(_this=nic)))
        self.assertIs(s.IVMVirtualServer_DeleteVirtualNetwork(virtualNetwork=net), False)
        self.assertIs(s.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=ref), True)
        self.assertFalse(os.path.exists(vmc))
        self.assertTrue(os.path.isfile(vhd))
        self.assertIs(s.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=ref), False)
        self.assertEqual(self.vms(), before)

    def test_bad_input_changes_nothing(self):
        s = self.s
        ref = s.IVMVirtualServer_CreateVirtualMachine(configurationName="beta", configurationPath="")
        vmc = s.IVMVirtualMachine_get_File(_this=ref)
        with open(vmc, "rb") as f:
            vmc_bytes = f.read()
        listed = self.vms()

        low = s.IVMVirtualServer_get_MinimumMemoryPerVM()
        high = s.IVMVirtualServer_get_MaximumMemoryPerVM()
        for memory in (0, low - 1, high + 1, -5):
            self.assert_fault(lambda: s.IVMVirtualMachine_set_Memory(_this=ref, memory=memory), "E_INVALIDARG",
                              E_INVALIDARG)
        self.assertEqual(s.IVMVirtualMachine_get_Memory(_this=ref), 128)

        self.assert_fault(lambda: s.IVMVirtualServer_CreateVirtualMachine(configurationName="BETA",
                                                                          configurationPath=""),
                          "VM_E_CONFIG_DUPLICATE_NAME")
        # the same spelling finds the .vmc already there
        self.assert_fault(lambda: s.IVMVirtualServer_CreateVirtualMachine(configurationName="beta",
                                                                          configurationPath=""),
                          "E_ALREADY_EXISTS")
        other = s.IVMVirtualServer_CreateVirtualMachine(configurationName="gamma", configurationPath="")
        self.assert_fault(lambda: s.IVMVirtualMachine_set_Name(_this=other, name="Beta"),
                          "VM_E_CONFIG_DUPLICATE_NAME")
        self.assertEqual(s.IVMVirtualMachine_get_Name(_this=other), "gamma")

        # paths escaping the allowed folders
        for folder in ("/etc", "../../../../tmp", "/"):
            self.assert_fault(lambda: s.IVMVirtualServer_CreateVirtualMachine(configurationName="escape",
                                                                              configurationPath=folder),
                              "E_ACCESSDENIED", E_ACCESSDENIED)
        for disk in ("/etc/passwd", "../../../../../etc/passwd", "../../escape.vhd"):
            self.assert_fault(lambda: s.IVMVirtualMachine_AddHardDiskConnection(
                _this=ref, hardDiskPath=disk, busType=0, busNumber=0, deviceNumber=0), "E_ACCESSDENIED",
                E_ACCESSDENIED)
        self.assertFalse(s.IVMVirtualMachine_get_HardDiskConnections(_this=ref))
        self.assert_fault(lambda: s.IVMVirtualMachine_AddHardDiskConnection(
            _this=ref, hardDiskPath="x.vhd", busType=0, busNumber=2, deviceNumber=0), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualMachine_AddHardDiskConnection(
            _this=ref, hardDiskPath="x.vhd", busType=1, busNumber=0, deviceNumber=0), "E_INVALIDARG")

        # references
        for bad in ("", "garbage", "{" + "0" * 40 + "}", ref + "/nic/0"):
            self.assert_fault(lambda: s.IVMVirtualMachine_get_Memory(_this=bad), "E_INVALIDARG", E_INVALIDARG)
        unknown = "{12345678-1234-4234-8234-123456789ABC}"
        self.assert_fault(lambda: s.IVMVirtualMachine_get_Memory(_this=unknown), "VM_E_VM_UNKNOWN")
        self.assertIs(s.IVMVirtualServer_UnregisterVirtualMachine(virtualMachine=unknown), False)
        self.assert_fault(lambda: s.IVMVirtualServer_DeleteVirtualMachine(virtualMachine="garbage"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMNetworkAdapter_get_EthernetAddress(_this=ref + "/nic/7"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualNetwork_get_Name(_this=unknown), "VM_E_INVALID_VIRTUAL_NETWORK_ID")

        with open(vmc, "rb") as f:
            self.assertEqual(f.read(), vmc_bytes, "a failed call rewrote the .vmc")
        self.assertEqual([r for r in self.vms() if r != other], listed)
        self.assertIs(s.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=ref), True)
        self.assertIs(s.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=other), True)


class RestartTest(unittest.TestCase):
    """What a client was told succeeded is still there after vsad restarts on the same data folder."""

    def test_inventory_survives_restart(self):
        first = Vsad(VSAD_BINARY)
        data_dir, password = first.data_dir, first.password
        try:
            s = make_client(first).service
            vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="keeper", configurationPath="")
            s.IVMVirtualMachine_set_Memory(_this=vm, memory=384)
            net = s.IVMVirtualServer_CreateVirtualNetwork(configurationName="keeper-net", configurationPath="")
            nic = s.IVMVirtualMachine_AddNetworkAdapter(_this=vm)
            s.IVMNetworkAdapter_AttachToVirtualNetwork(_this=nic, virtualNetwork=net)
            mac = s.IVMNetworkAdapter_get_EthernetAddress(_this=nic)
            self.assertEqual(first.stop(), 0)
            second = Vsad(VSAD_BINARY, data_dir=data_dir)
            try:
                s = make_client(second, password).service
                self.assertEqual(list(s.IVMVirtualServer_get_VirtualMachines()), [vm])
                self.assertEqual(list(s.IVMVirtualServer_get_VirtualNetworks()), [net])
                self.assertEqual(s.IVMVirtualMachine_get_Memory(_this=vm), 384)
                self.assertEqual(s.IVMNetworkAdapter_get_EthernetAddress(_this=nic), mac)
                self.assertEqual(s.IVMNetworkAdapter_get_VirtualNetwork(_this=nic), net)
                self.assertEqual(s.IVMVirtualServer_FindVirtualMachine(configurationName="keeper"), vm)
            finally:
                self.assertEqual(second.stop(), 0)
        finally:
            first.cleanup()


def main():
    global VSAD_BINARY, VSA_VHD
    if len(sys.argv) < 3:
        print("usage: test_zeep_inventory.py PATH/TO/vsad PATH/TO/vsa-vhd", file=sys.stderr)
        return 2
    VSAD_BINARY = os.path.abspath(sys.argv[1])
    VSA_VHD = os.path.abspath(sys.argv[2])
    return run_tests((InventoryTest, RestartTest), failure_note=lambda: vsad_stderr)


if __name__ == "__main__":
    sys.exit(main())
