#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""VM, NIC, network and DHCP settings, collections and AutoStartAtLaunch
over SOAP: python3-zeep against a live vsad.

Usage: test_zeep_settings.py vsad vsa-vhd vsa-vm counter_disk.img

The autostart case runs real vsa-vm workers on the counter disk
(tests/progs/counter_disk.asm): vsad's stop saves the running VMs, and the
next vsad starts the ones whose AutoStartAtLaunch says so, after their
delay, from their saved state.
"""
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import ZeepTestCase, run_tests, make_client, make_counter_vm, strings, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = COUNTER_DISK = None  # argv
TURNED_OFF, SAVED, RUNNING = 1, 2, 5
NEVER, ALWAYS, IF_RUNNING_AT_QUIT = 0, 1, 2


class SettingsTest(ZeepTestCase):
    def start(self, data_dir=None, credentials=None):
        daemon = Vsad(VSAD, data_dir=data_dir, defines={"vm.worker_binary": VSA_VM})
        if credentials:
            daemon.user, daemon.password = credentials
        self.vsad = daemon
        self.s = make_client(daemon).service

    def restart(self):
        data_dir, credentials = self.vsad.data_dir, (self.vsad.user, self.vsad.password)
        self.assertEqual(self.vsad.stop(), 0)
        self.start(data_dir, credentials)

    def setUp(self):
        self.start()

    def tearDown(self):
        code = self.vsad.stop()
        shutil.rmtree(self.vsad.data_dir, ignore_errors=True)
        self.assertEqual(code, 0, "vsad exited with status %s" % code)

    def make_counter_vm(self, name):
        return make_counter_vm(self.s, VSA_VHD, COUNTER_DISK, name)[0]

    def run_on_child(self, name, top):
        """A running counter VM that boots from `top`, a differencing disk
        made over its own VHD; returns the VM, that VHD and `top`."""
        s = self.s
        vm = self.make_counter_vm(name)
        vhd = os.path.join(os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm)), name + ".vhd")
        self.wait_task(s.IVMVirtualServer_CreateDifferencingVirtualHardDisk(imagePath=top, parentPath=vhd))
        s.IVMVirtualMachine_RemoveHardDiskConnection(
            _this=vm, hardDiskConnection=s.IVMVirtualMachine_get_HardDiskConnections(_this=vm)[0])
        s.IVMVirtualMachine_AddHardDiskConnection(_this=vm, hardDiskPath=top, busType=0, busNumber=0,
                                                  deviceNumber=0)
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        return vm, vhd, top

    def test_network_adapter_settings(self):
        s = self.s
        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="nics", configurationPath="")
        other = s.IVMVirtualServer_CreateVirtualMachine(configurationName="other", configurationPath="")
        nics = [s.IVMVirtualMachine_AddNetworkAdapter(_this=vm) for _ in range(3)]
        other_nic = s.IVMVirtualMachine_AddNetworkAdapter(_this=other)
        self.assertEqual(s.IVMNetworkAdapter_get_VirtualMachine(_this=nics[1]), vm)
        self.assertTrue(s.IVMNetworkAdapter_get_IsEthernetAddressDynamic(_this=nics[0]))
        # A dynamic address cannot be set; a static one can, if unique.
        self.assert_fault(lambda: s.IVMNetworkAdapter_set_EthernetAddress(_this=nics[0], address="00-03-FF-01-02-03"),
                          "VM_E_CANT_SET_DYNAMIC_MAC_ADDRESS")
        s.IVMNetworkAdapter_set_IsEthernetAddressDynamic(_this=nics[0], dynamic=False)
        self.assertFalse(s.IVMNetworkAdapter_get_IsEthernetAddressDynamic(_this=nics[0]))
        s.IVMNetworkAdapter_set_EthernetAddress(_this=nics[0], address="00-03-ff-01-02-03")
        self.assertEqual(s.IVMNetworkAdapter_get_EthernetAddress(_this=nics[0]), "00-03-FF-01-02-03")
        self.assert_fault(lambda: s.IVMNetworkAdapter_set_EthernetAddress(_this=nics[0], address="not-a-mac"),
                          "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMNetworkAdapter_set_EthernetAddress(_this=nics[0], address="01-00-5E-00-00-01"),
                          "E_INVALIDARG")  # a group address
        s.IVMNetworkAdapter_set_IsEthernetAddressDynamic(_this=other_nic, dynamic=False)
        self.assert_fault(
            lambda: s.IVMNetworkAdapter_set_EthernetAddress(_this=other_nic, address="00-03-FF-01-02-03"),
            "E_INVALIDARG")  # taken by nics[0]
        # Back to dynamic keeps a unique address.
        s.IVMNetworkAdapter_set_IsEthernetAddressDynamic(_this=nics[0], dynamic=True)
        self.assertTrue(s.IVMNetworkAdapter_get_IsEthernetAddressDynamic(_this=nics[0]))

        # RemoveNetworkAdapter renumbers the ones after it.
        last_mac = s.IVMNetworkAdapter_get_EthernetAddress(_this=nics[2])
        s.IVMVirtualMachine_RemoveNetworkAdapter(_this=vm, networkAdapter=nics[1])
        left = s.IVMVirtualMachine_get_NetworkAdapters(_this=vm)
        self.assertEqual(len(left), 2)
        self.assertEqual(s.IVMNetworkAdapter_get_EthernetAddress(_this=left[1]), last_mac)
        self.assert_fault(lambda: s.IVMVirtualMachine_RemoveNetworkAdapter(_this=other, networkAdapter=left[0]),
                          "E_INVALIDARG")
        # The settings are in the .vmc: they survive a restart.
        self.restart()
        s = self.s
        left = s.IVMVirtualMachine_get_NetworkAdapters(_this=vm)
        self.assertEqual(len(left), 2)
        self.assertEqual(s.IVMNetworkAdapter_get_EthernetAddress(_this=left[1]), last_mac)
        self.assertFalse(s.IVMNetworkAdapter_get_IsEthernetAddressDynamic(_this=other_nic))

    def test_disk_location_and_collections(self):
        s = self.s
        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="coll", configurationPath="")
        folder = os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm))
        disks = []
        for i in range(2):
            path = os.path.join(folder, f"d{i}.vhd")
            subprocess.run([VSA_VHD, "create", "dynamic", path, "16M"], check=True, capture_output=True)
            disks.append(s.IVMVirtualMachine_AddHardDiskConnection(_this=vm, hardDiskPath=path, busType=0,
                                                                   busNumber=0, deviceNumber=i))
        # SetBusLocation moves a disk; an occupied place is refused.
        self.assert_fault(lambda: s.IVMHardDiskConnection_SetBusLocation(_this=disks[0], busType=0, busNumber=0,
                                                                         deviceNumber=1),
                          "VM_E_DRIVE_BUS_LOC_IN_USE")
        self.assert_fault(lambda: s.IVMHardDiskConnection_SetBusLocation(_this=disks[0], busType=1, busNumber=0,
                                                                         deviceNumber=0), "E_INVALIDARG")
        s.IVMHardDiskConnection_SetBusLocation(_this=disks[0], busType=0, busNumber=1, deviceNumber=1)
        moved = [c for c in s.IVMVirtualMachine_get_HardDiskConnections(_this=vm)
                 if s.IVMHardDiskConnection_get_BusNumber(_this=c) == 1]
        self.assertEqual(len(moved), 1)
        self.assertEqual(s.IVMHardDiskConnection_get_DeviceNumber(_this=moved[0]), 1)
        self.assertTrue(s.IVMHardDiskConnection_get_HardDisk(_this=moved[0]).endswith("d0.vhd"))

        # Each collection agrees with its property.
        s.IVMVirtualMachine_AddDVDROMDrive(_this=vm, busType=0, busNumber=1, deviceNumber=0)
        s.IVMVirtualMachine_AddNetworkAdapter(_this=vm)
        net = s.IVMVirtualServer_CreateVirtualNetwork(configurationName="lan", configurationPath="")
        nic = s.IVMVirtualMachine_get_NetworkAdapters(_this=vm)[0]
        s.IVMNetworkAdapter_AttachToVirtualNetwork(_this=nic, virtualNetwork=net)
        # A task, so the task collection has an item.
        self.wait_task(s.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath=os.path.join(folder, "t.vhd"),
                                                                       size=8))
        cases = [
            ("IVMVirtualMachineCollection", "server/VirtualMachines", s.IVMVirtualServer_get_VirtualMachines()),
            ("IVMVirtualNetworkCollection", "server/VirtualNetworks", s.IVMVirtualServer_get_VirtualNetworks()),
            ("IVMTaskCollection", "server/Tasks", s.IVMVirtualServer_get_Tasks() or []),
            ("IVMHardDiskConnectionCollection", f"{vm}/HardDiskConnections",
             s.IVMVirtualMachine_get_HardDiskConnections(_this=vm)),
            ("IVMNetworkAdapterCollection", f"{vm}/NetworkAdapters", s.IVMVirtualMachine_get_NetworkAdapters(_this=vm)),
            ("IVMNetworkAdapterCollection", f"{net}/NetworkAdapters",
             s.IVMVirtualNetwork_get_NetworkAdapters(_this=net)),
            ("IVMDVDDriveCollection", f"{vm}/DVDROMDrives", s.IVMVirtualMachine_get_DVDROMDrives(_this=vm)),
        ]
        for iface, ref, items in cases:
            count = getattr(s, f"{iface}_get_Count")(_this=ref)
            self.assertEqual(count, len(items), ref)
            self.assertEqual(getattr(s, f"{iface}_get__NewEnum")(_this=ref) or [], items, ref)
            for index, item in enumerate(items, 1):
                self.assertEqual(getattr(s, f"{iface}_get_Item")(_this=ref, index=index), item, ref)
            self.assert_fault(lambda: getattr(s, f"{iface}_get_Item")(_this=ref, index=count + 1), "DISP_E_BADINDEX")
            self.assert_fault(lambda: getattr(s, f"{iface}_get_Item")(_this=ref, index=0), "DISP_E_BADINDEX")
        self.assertEqual(s.IVMVirtualMachineCollection_get_Count(_this="server/VirtualMachines"), 1)
        # A collection reference of the wrong interface, or of nothing, is refused.
        self.assert_fault(lambda: s.IVMTaskCollection_get_Count(_this="server/VirtualMachines"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMDVDDriveCollection_get_Count(_this="nothing"), "E_INVALIDARG")
        self.assert_fault(
            lambda: s.IVMDVDDriveCollection_get_Count(_this="{00000000-0000-0000-0000-000000000001}/DVDROMDrives"),
            "VM_E_VM_UNKNOWN")

    def test_network_traffic_counters(self):
        # A network no running VM is plugged into has no switch: every
        # counter reads 0 and every history holds 60 zero seconds. The
        # counters of a switch with traffic: tests/network/virtual_switch_test
        # (exact counts) and guest.linux_dhcp_vsad (two guests pinging).
        s = self.s
        net = s.IVMVirtualServer_CreateVirtualNetwork(configurationName="countednet", configurationPath="")
        for kind in ("Bytes", "Packets"):
            for what in ("Received", "Sent", "Dropped"):
                self.assertEqual(getattr(s, f"IVMVirtualNetwork_get_{kind}{what}")(_this=net), 0)
                self.assertEqual(list(getattr(s, f"IVMVirtualNetwork_get_{kind}{what}History")(_this=net)),
                                 [0] * 60)
        self.assert_fault(lambda: s.IVMVirtualNetwork_get_PacketsSent(_this="{00000000-0000-0000-0000-000000000009}"),
                          "VM_E_INVALID_VIRTUAL_NETWORK_ID")
        self.assert_fault(lambda: s.IVMVirtualNetwork_get_BytesDroppedHistory(_this="not-a-network"), "E_INVALIDARG")

    def test_network_host_adapter_and_dhcp(self):
        s = self.s
        net = s.IVMVirtualServer_CreateVirtualNetwork(configurationName="dhcpnet", configurationPath="")
        self.assertEqual(s.IVMVirtualNetwork_get_HostAdapter(_this=net) or "", "")
        self.assert_fault(lambda: s.IVMVirtualNetwork_set_HostAdapter(_this=net, adapter="nosuchnic0"),
                          "VM_E_ADAPTER_NOT_FOUND")
        host = s.IVMVirtualServer_get_HostInfo()
        adapters = s.IVMHostInfo_get_NetworkAdapters(_this=host) or []
        # "NAT" comes first and needs no host interface.
        self.assertEqual(adapters[0], "NAT")
        s.IVMVirtualNetwork_set_HostAdapter(_this=net, adapter="NAT")
        self.assertEqual(s.IVMVirtualNetwork_get_HostAdapter(_this=net), "NAT")
        s.IVMVirtualNetwork_set_HostAdapter(_this=net, adapter="")
        self.assertEqual(s.IVMVirtualNetwork_get_HostAdapter(_this=net) or "", "")
        # A host interface that is not a Linux bridge cannot be bridged to.
        bridges = {name for name in adapters[1:] if os.path.isdir("/sys/class/net/%s/bridge" % name)}
        for name in adapters[1:]:
            if name not in bridges:
                self.assert_fault(lambda: s.IVMVirtualNetwork_set_HostAdapter(_this=net, adapter=name),
                                  "VM_E_ADAPTER_NOT_FOUND")
                break

        dhcp = s.IVMVirtualNetwork_get_DHCPVirtualNetworkServer(_this=net)
        s.IVMDHCPVirtualNetworkServer_ConfigureDHCPServer(_this=dhcp, network="192.168.50.0",
                                                          networkMask="255.255.255.0",
                                                          startingIPAddress="192.168.50.16",
                                                          endingIPAddress="192.168.50.200",
                                                          serverIPAddress="192.168.50.1")
        s.IVMDHCPVirtualNetworkServer_set_IsEnabled(_this=dhcp, enabled=True)
        s.IVMDHCPVirtualNetworkServer_set_DefaultGatewayAddress(_this=dhcp, address="192.168.50.2")
        s.IVMDHCPVirtualNetworkServer_set_DNSServers(_this=dhcp, servers="192.168.50.3,10.0.0.53")
        s.IVMDHCPVirtualNetworkServer_set_WINSServers(_this=dhcp, servers="192.168.50.4")
        s.IVMDHCPVirtualNetworkServer_ConfigureDHCPLeaseTimes(_this=dhcp, leaseTime=7200, leaseRenewalTime=3600,
                                                              leaseRebindingTime=6300)
        self.assert_fault(lambda: s.IVMDHCPVirtualNetworkServer_ConfigureDHCPServer(
            _this=dhcp, network="192.168.50.0", networkMask="255.255.255.0", startingIPAddress="192.168.50.3",
            endingIPAddress="192.168.50.200", serverIPAddress="192.168.50.1"), "VM_E_INVALID_STARTING_ADDRESS")
        self.assert_fault(lambda: s.IVMDHCPVirtualNetworkServer_ConfigureDHCPServer(
            _this=dhcp, network="192.168.50.7", networkMask="255.255.255.0", startingIPAddress="192.168.50.16",
            endingIPAddress="192.168.50.200", serverIPAddress="192.168.50.1"), "VM_E_INVALID_NETWORK_ADDRESS")
        self.assert_fault(lambda: s.IVMDHCPVirtualNetworkServer_ConfigureDHCPLeaseTimes(
            _this=dhcp, leaseTime=100, leaseRenewalTime=200, leaseRebindingTime=150), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMDHCPVirtualNetworkServer_set_DefaultGatewayAddress(
            _this=dhcp, address="10.9.9.9"), "VM_E_INVALID_IP_ADDRESS")
        self.assert_fault(lambda: s.IVMDHCPVirtualNetworkServer_get_Network(_this=net), "E_INVALIDARG")

        def read(d):
            get = lambda name: getattr(s, f"IVMDHCPVirtualNetworkServer_get_{name}")(_this=d)  # noqa: E731
            return {name: get(name) for name in ("IsEnabled", "Network", "NetworkMask", "StartingIPAddress",
                                                 "EndingIPAddress", "ServerIPAddress", "DefaultGatewayAddress",
                                                 "DNSServers", "WINSServers", "LeaseTime", "LeaseRenewalTime",
                                                 "LeaseRebindingTime")}
        expected = {"IsEnabled": True, "Network": "192.168.50.0", "NetworkMask": "255.255.255.0",
                    "StartingIPAddress": "192.168.50.16", "EndingIPAddress": "192.168.50.200",
                    "ServerIPAddress": "192.168.50.1", "DefaultGatewayAddress": "192.168.50.2",
                    "DNSServers": "192.168.50.3,10.0.0.53", "WINSServers": "192.168.50.4"}
        got = read(dhcp)
        for key, value in expected.items():
            self.assertEqual(got[key], value, key)
        self.assertEqual([int(got[k]) for k in ("LeaseTime", "LeaseRenewalTime", "LeaseRebindingTime")],
                         [7200, 3600, 6300])
        # Kept in the .vnc across a restart.
        self.restart()
        self.s = s = self.s
        again = read(s.IVMVirtualNetwork_get_DHCPVirtualNetworkServer(_this=net))
        self.assertEqual(again, got)

    def test_files_folders_and_network_registration(self):
        s = self.s
        data = self.vsad.data_dir
        # DefaultVMConfigurationPath moves to another existing folder in the roots.
        media = os.path.join(data, "media")
        os.makedirs(os.path.join(media, "vms"))
        s.IVMVirtualServer_set_SearchPaths(paths=strings([media]))
        s.IVMVirtualServer_set_DefaultVMConfigurationPath(path=os.path.join(media, "vms"))
        self.assertEqual(os.path.realpath(s.IVMVirtualServer_get_DefaultVMConfigurationPath()),
                         os.path.realpath(os.path.join(media, "vms")))
        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="filed", configurationPath="")
        self.assertTrue(os.path.realpath(s.IVMVirtualMachine_get_File(_this=vm)).startswith(
            os.path.realpath(os.path.join(media, "vms"))))
        with open(os.path.join(media, "disc.iso"), "wb") as f:
            f.write(bytes(2048 * 20))
        isos = [os.path.realpath(p) for p in s.IVMVirtualServer_GetDVDFiles(inAdditionalSearchPaths=strings([]))
                or []]
        self.assertIn(os.path.realpath(os.path.join(media, "disc.iso")), isos)
        vmcs = s.IVMVirtualServer_GetVirtualMachineFiles(inAdditionalSearchPaths=strings([]),
                                                         inExcludedRegisteredVMs=False) or []
        self.assertIn(os.path.realpath(s.IVMVirtualMachine_get_File(_this=vm)), [os.path.realpath(p) for p in vmcs])
        self.assertEqual(s.IVMVirtualServer_GetVirtualMachineFiles(inAdditionalSearchPaths=strings([]),
                                                                   inExcludedRegisteredVMs=True) or [], [])

        # A network: renamed, unregistered (its file stays, listed), registered again.
        net = s.IVMVirtualServer_CreateVirtualNetwork(configurationName="lab", configurationPath="")
        nic = s.IVMVirtualMachine_AddNetworkAdapter(_this=vm)
        s.IVMNetworkAdapter_AttachToVirtualNetwork(_this=nic, virtualNetwork=net)
        s.IVMVirtualNetwork_set_Name(_this=net, name="lab2")
        self.assertEqual(s.IVMVirtualNetwork_get_Name(_this=net), "lab2")
        s.IVMNetworkAdapter_DetachFromVirtualNetwork(_this=nic)
        self.assertIn(s.IVMNetworkAdapter_get_VirtualNetwork(_this=nic), ("", None))
        vnc = s.IVMVirtualNetwork_get_File(_this=net)
        self.assertTrue(s.IVMVirtualServer_UnregisterVirtualNetwork(virtualNetwork=net))
        self.assertTrue(os.path.isfile(vnc))
        self.assertIn(os.path.realpath(vnc), [os.path.realpath(p) for p in s.IVMVirtualServer_GetVirtualNetworkFiles(
            inAdditionalSearchPaths=strings([]), inExcludedRegisteredVNs=True) or []])
        again = s.IVMVirtualServer_RegisterVirtualNetwork(configurationName="", configurationPath=vnc)
        self.assertEqual(s.IVMVirtualNetwork_get_Name(_this=again), "lab2")
        self.assertFalse(s.IVMVirtualServer_UnregisterVirtualNetwork(virtualNetwork="{00000000-0000-0000-0000-000000000007}"))

    def test_hard_disks(self):
        s = self.s
        folder = s.IVMVirtualServer_get_DefaultVMConfigurationPath()
        base = os.path.join(folder, "disks", "base.vhd")
        child = os.path.join(folder, "disks", "child.vhd")
        self.wait_task(s.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath=base, size=64))
        self.wait_task(s.IVMVirtualServer_CreateDifferencingVirtualHardDisk(imagePath=child, parentPath=base))
        disk = s.IVMVirtualServer_GetHardDisk(imagePath=base)
        self.assertEqual(disk, base)
        self.assertEqual(s.IVMHardDisk_get_File(_this=disk), base)
        self.assertEqual(s.IVMHardDisk_get_Type(_this=disk), 0)  # dynamic
        self.assertEqual(int(s.IVMHardDisk_get_SizeInGuest(_this=disk)), 64 << 20)
        self.assertLess(int(s.IVMHardDisk_get_SizeOnHost(_this=disk)), 1 << 20)  # sparse: headers only
        self.assertIn(s.IVMHardDisk_get_Parent(_this=disk), ("", None))
        diff = s.IVMVirtualServer_GetHardDisk(imagePath=child)
        self.assertEqual(s.IVMHardDisk_get_Type(_this=diff), 2)  # differencing
        self.assertEqual(s.IVMHardDisk_get_Parent(_this=diff), base)

        # Merge writes the child's sectors into the parent.
        payload = (b"VSA-MERGED-SECTOR" * 31)[:512]  # whole sectors
        subprocess.run([VSA_VHD, "write", child, str(1 << 20)], input=payload, check=True, capture_output=True)
        before = subprocess.run([VSA_VHD, "cat", base, str(1 << 20), str(len(payload))], check=True,
                                capture_output=True).stdout
        self.assertNotEqual(before, payload)
        empty_size = os.path.getsize(base)
        task = s.IVMHardDisk_Merge(_this=diff)
        self.assertFalse(s.IVMTask_get_IsCancelable(_this=task))
        self.wait_task(task)
        after = subprocess.run([VSA_VHD, "cat", base, str(1 << 20), str(len(payload))], check=True,
                               capture_output=True).stdout
        self.assertEqual(after, payload)
        self.assertGreater(os.path.getsize(base), empty_size)  # a block was allocated

        # Compact drops all-zero blocks: zero the one block, compact, smaller.
        subprocess.run([VSA_VHD, "write", base, str(1 << 20)], input=bytes(len(payload)), check=True,
                       capture_output=True)
        grown = os.path.getsize(base)
        task = s.IVMHardDisk_Compact(_this=disk)
        self.assertTrue(s.IVMTask_get_IsCancelable(_this=task))
        self.wait_task(task)
        self.assertLess(os.path.getsize(base), grown)  # the zero block is gone
        check = subprocess.run([VSA_VHD, "check", base], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

        # Wrong kinds of disk, and paths that name no disk.
        self.assert_fault(lambda: s.IVMHardDisk_Compact(_this=diff), "VM_E_WRONG_HD_IMAGE_TYPE")
        self.assert_fault(lambda: s.IVMHardDisk_Merge(_this=disk), "VM_E_WRONG_HD_IMAGE_TYPE")
        self.assert_fault(lambda: s.IVMVirtualServer_GetHardDisk(imagePath="disks/base.vhd"), "E_BAD_PATHNAME")
        self.assert_fault(lambda: s.IVMVirtualServer_GetHardDisk(imagePath=os.path.join(folder, "none.vhd")),
                          "E_FILE_NOT_FOUND")
        self.assert_fault(lambda: s.IVMVirtualServer_GetHardDisk(imagePath="/etc/passwd"), "E_ACCESSDENIED")
        junk = os.path.join(folder, "junk.vhd")
        with open(junk, "wb") as f:
            f.write(b"not a disk" * 100)
        self.assert_fault(lambda: s.IVMHardDisk_get_Type(_this=s.IVMVirtualServer_GetHardDisk(imagePath=junk)),
                          "VM_E_INVALID_HD_FILE")

        # A disk a running VM has open (here the child it boots from) is not merged.
        vm, vhd, top = self.run_on_child("diskuser", os.path.join(folder, "disks", "top.vhd"))
        self.assert_fault(lambda: s.IVMHardDisk_Merge(_this=s.IVMVirtualServer_GetHardDisk(imagePath=top)),
                          "E_SHARING_VIOLATION")
        self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))
        self.wait_task(s.IVMHardDisk_Merge(_this=s.IVMVirtualServer_GetHardDisk(imagePath=top)))

    def test_relinking_a_differencing_disk(self):
        s = self.s
        folder = s.IVMVirtualServer_get_DefaultVMConfigurationPath()
        base = os.path.join(folder, "relink", "base.vhd")
        child = os.path.join(folder, "relink", "child.vhd")
        self.wait_task(s.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath=base, size=16))
        base_data = (b"BASE" * 128) * 8
        subprocess.run([VSA_VHD, "write", base, "0"], input=base_data, check=True, capture_output=True)
        self.wait_task(s.IVMVirtualServer_CreateDifferencingVirtualHardDisk(imagePath=child, parentPath=base))
        child_data = (b"CHLD" * 128) * 2
        subprocess.run([VSA_VHD, "write", child, "1024"], input=child_data, check=True, capture_output=True)
        expected = base_data[:1024] + child_data + base_data[1024 + len(child_data):]

        # The parent moves: the child no longer finds it, until re-linked.
        moved = os.path.join(folder, "relink", "moved", "renamed-base.vhd")
        os.makedirs(os.path.dirname(moved))
        os.rename(base, moved)
        self.assert_fault(lambda: s.IVMHardDisk_get_Parent(_this=child), "VM_E_PARENT_PATH_NOT_FOUND")
        s.IVMHardDisk_set_Parent(_this=child, parent=moved)
        self.assertEqual(s.IVMHardDisk_get_Parent(_this=child), moved)
        self.assertEqual(s.IVMHardDisk_get_Type(_this=child), 2)
        read = subprocess.run([VSA_VHD, "cat", child, "0", str(len(expected))], check=True,
                              capture_output=True).stdout
        self.assertEqual(read, expected)
        check = subprocess.run([VSA_VHD, "check", child], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)

        # Refusals leave the child as it is.
        other = os.path.join(folder, "relink", "other.vhd")
        self.wait_task(s.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath=other, size=16))
        with open(child, "rb") as f:
            before = f.read()
        self.assert_fault(lambda: s.IVMHardDisk_set_Parent(_this=child, parent=other),
                          "VM_E_PARENT_CHILD_ID_MISMATCH")
        self.assert_fault(lambda: s.IVMHardDisk_set_Parent(_this=moved, parent=other), "VM_E_WRONG_HD_IMAGE_TYPE")
        self.assert_fault(lambda: s.IVMHardDisk_set_Parent(_this=child, parent="/etc/passwd"), "E_ACCESSDENIED")
        self.assert_fault(lambda: s.IVMHardDisk_set_Parent(_this=child, parent="relink/base.vhd"), "E_BAD_PATHNAME")
        self.assert_fault(lambda: s.IVMHardDisk_set_Parent(_this=child, parent=base), "E_FILE_NOT_FOUND")
        junk = os.path.join(folder, "relink", "junk.vhd")
        with open(junk, "wb") as f:
            f.write(b"not a disk" * 100)
        self.assert_fault(lambda: s.IVMHardDisk_set_Parent(_this=child, parent=junk), "VM_E_INVALID_HD_FILE")
        with open(child, "rb") as f:
            self.assertEqual(f.read(), before)

        # Not while a running VM uses the child.
        vm, vhd, top = self.run_on_child("relinker", os.path.join(folder, "relink", "top.vhd"))
        self.assert_fault(lambda: s.IVMHardDisk_set_Parent(_this=top, parent=vhd), "E_SHARING_VIOLATION")
        self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))
        s.IVMHardDisk_set_Parent(_this=top, parent=vhd)
        self.assertEqual(s.IVMHardDisk_get_Parent(_this=top), vhd)

    def test_autostart_at_launch(self):
        s = self.s
        back = self.make_counter_vm("comesback")  # IfRunningAtQuit, the default
        always = self.make_counter_vm("always")
        never = self.make_counter_vm("never")
        self.assertEqual(s.IVMVirtualMachine_get_AutoStartAtLaunch(_this=back), IF_RUNNING_AT_QUIT)
        self.assertEqual(s.IVMVirtualMachine_get_AutoStartAtLaunchDelay(_this=back), 0)
        s.IVMVirtualMachine_set_AutoStartAtLaunch(_this=always, autoStart=ALWAYS)
        s.IVMVirtualMachine_set_AutoStartAtLaunchDelay(_this=always, delay=2)
        s.IVMVirtualMachine_set_AutoStartAtLaunch(_this=never, autoStart=NEVER)
        self.assert_fault(lambda: s.IVMVirtualMachine_set_AutoStartAtLaunch(_this=never, autoStart=3), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualMachine_set_AutoStartAtLaunchDelay(_this=never, delay=-1),
                          "E_INVALIDARG")
        self.assertEqual(s.IVMVirtualMachine_get_AutoStartAtLaunchDelay(_this=always), 2)
        # "comesback" and "never" run when vsad stops; "always" does not.
        self.wait_task(s.IVMVirtualMachine_Startup(_this=back))
        self.wait_task(s.IVMVirtualMachine_Startup(_this=never))
        self.restart()
        s = self.s
        # vsad's stop saved the running two; the next start brings back
        # "comesback" at once and "always" after its 2 s, not "never".
        self.assertTrue(wait_for(lambda: s.IVMVirtualMachine_get_State(_this=back) == RUNNING),
                        "the VM that was running did not come back")
        self.assertTrue(wait_for(lambda: s.IVMVirtualMachine_get_State(_this=always) == RUNNING),
                        "the Always VM did not start")
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=never), SAVED)
        # The flag is consumed: turned off now, it stays off after a restart.
        self.wait_task(s.IVMVirtualMachine_TurnOff(_this=back))
        self.restart()
        s = self.s
        self.assertTrue(wait_for(lambda: s.IVMVirtualMachine_get_State(_this=always) == RUNNING))
        time.sleep(1.0)
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=back), TURNED_OFF)


def main():
    global VSAD, VSA_VHD, VSA_VM, COUNTER_DISK
    if len(sys.argv) < 5:
        print("usage: test_zeep_settings.py vsad vsa-vhd vsa-vm counter_disk.img", file=sys.stderr)
        return 2
    VSAD, VSA_VHD, VSA_VM, COUNTER_DISK = (os.path.abspath(a) for a in sys.argv[1:5])
    return run_tests((SettingsTest,))


if __name__ == "__main__":
    sys.exit(main())
