#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""IVMGuestOS / IVMGuestOS2 through the guest agent over SOAP: python3-zeep
against a live vsad running real vsa-vm workers.

Usage: test_zeep_guest_agent.py vsad vsa-vhd vsa-vm agent_disk.img counter_disk.img

agent_disk.asm answers a minimal subset of qemu-guest-agent's protocol on
the agent port (0x3E8) with fixed replies (OS name "VSA Test Agent OS 1.0",
version "vsa-test-agent 1.0", host name "vsa-agent-guest", guest-exec
output "hello\\n", one file it keeps in memory) and reports SET-TIME and
SHUTDOWN on COM1. counter_disk.asm has no agent: the members then fail with
VM_E_ADDITIONS_FEATURE_NOT_AVAIL. Kept short: it runs under ASan in the
default suite.
"""
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeep_support import VsadTestCase, read_file, run_tests, make_counter_vm, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = AGENT_DISK = COUNTER_DISK = None  # argv

TURNED_OFF, RUNNING, PAUSED = 1, 5, 6
NO_AGENT = "VM_E_ADDITIONS_FEATURE_NOT_AVAIL"


class GuestAgentTest(VsadTestCase):
    def test_with_agent(self):
        s = self.s
        vm, com1_log, _ = make_counter_vm(s, VSA_VHD, AGENT_DISK, "agent")
        dvd = s.IVMVirtualMachine_AddDVDROMDrive(_this=vm, busType=0, busNumber=1, deviceNumber=0)
        guest = s.IVMVirtualMachine_get_GuestOS(_this=vm)

        # Off: the settings work, the guest members want a running VM.
        self.assertTrue(s.IVMGuestOS_get_IsHostTimeSyncEnabled(_this=guest))
        s.IVMGuestOS_set_IsHostTimeSyncEnabled(_this=guest, enabled=False)
        self.assertFalse(s.IVMGuestOS_get_IsHostTimeSyncEnabled(_this=guest))
        s.IVMGuestOS_set_IsHostTimeSyncEnabled(_this=guest, enabled=True)
        self.assertIn(s.IVMGuestOS_get_AdditionsVersion(_this=guest), ("", None))
        self.assert_fault(lambda: s.IVMGuestOS_get_CanShutdown(_this=guest), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMGuestOS_InstallAdditions(_this=guest), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMGuestOS2_get_ComputerName(_this=guest), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMGuestOS_get_CanShutdown(_this=vm), "E_INVALIDARG")

        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            # The monitor's first ping answered: the agent is there.
            self.assertTrue(wait_for(lambda: s.IVMGuestOS_get_CanShutdown(_this=guest), 30),
                            read_file(com1_log)[-300:])
            self.assertEqual(s.IVMGuestOS_get_OSName(_this=guest), "VSA Test Agent OS 1.0")
            self.assertTrue(wait_for(lambda: s.IVMGuestOS_get_AdditionsVersion(_this=guest) == "vsa-test-agent 1.0",
                                     10))
            self.assertEqual(s.IVMGuestOS2_get_ComputerName(_this=guest), "vsa-agent-guest")
            self.assertTrue(s.IVMGuestOS_get_IsHeartbeating(_this=guest))
            self.assertGreater(s.IVMGuestOS_get_HeartbeatPercentage(_this=guest), 0)
            # Host time sync is on: the clock was set at first contact.
            self.assertTrue(wait_for(lambda: b"SET-TIME" in read_file(com1_log), 10))

            self.assertEqual(s.IVMGuestOS_ExecuteCommand(_this=guest, command="echo hello"), "hello\n")
            self.assert_fault(lambda: s.IVMGuestOS_ExecuteCommand(_this=guest, command=""), "E_INVALIDARG")

            # Parameters: a store in the guest, and the stock ones.
            s.IVMGuestOS_SetParameter(_this=guest, name="Color", value="blue \"sky\"")
            self.assertEqual(s.IVMGuestOS2_GetParameter(_this=guest, name="Color"), "blue \"sky\"")
            s.IVMGuestOS_SetParameter(_this=guest, name="Size", value="42")
            self.assertEqual(s.IVMGuestOS2_GetParameter(_this=guest, name="Color"), "blue \"sky\"")
            self.assertEqual(s.IVMGuestOS2_GetParameter(_this=guest, name="Size"), "42")
            self.assertIn(s.IVMGuestOS2_GetParameter(_this=guest, name="Unset"), ("", None))
            self.assertEqual(s.IVMGuestOS2_GetParameter(_this=guest, name="VirtualMachineName"), "agent")
            self.assertEqual(s.IVMGuestOS2_GetParameter(_this=guest, name="HostName"), socket.gethostname())
            self.assert_fault(lambda: s.IVMGuestOS_SetParameter(_this=guest, name="a\\b", value="x"),
                              "E_INVALIDARG")
            self.assert_fault(lambda: s.IVMGuestOS_SetParameter(_this=guest, name="", value="x"), "E_INVALIDARG")
            self.assert_fault(lambda: s.IVMGuestOS2_GetParameter(_this=guest, name="n" * 256), "E_INVALIDARG")

            # The agent's install media into the empty DVD drive, once.
            s.IVMGuestOS_InstallAdditions(_this=guest)
            self.assertTrue(s.IVMDVDDrive_get_ImageFile(_this=dvd).endswith("vsa-guest-agent.iso"))
            self.assert_fault(lambda: s.IVMGuestOS_InstallAdditions(_this=guest), "VM_E_DRIVE_INVALID")

            # Paused: the guest cannot answer.
            s.IVMVirtualMachine_Pause(_this=vm)
            self.assert_fault(lambda: s.IVMGuestOS_get_OSName(_this=guest), "VM_E_VM_PAUSED")
            self.assert_fault(lambda: s.IVMGuestOS_Shutdown(_this=guest), "VM_E_VM_PAUSED")
            s.IVMVirtualMachine_Resume(_this=vm)

            # Shutdown through the agent: the guest powers off by itself.
            self.wait_task(s.IVMGuestOS_Shutdown(_this=guest))
            self.assertIn(b"SHUTDOWN", read_file(com1_log))
            self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), TURNED_OFF)
            # The version stays in the .vmc.
            self.assertEqual(s.IVMGuestOS_get_AdditionsVersion(_this=guest), "vsa-test-agent 1.0")
        finally:
            self.turn_off(vm)

    def test_without_agent(self):
        s = self.s
        vm, com1_log, _ = make_counter_vm(s, VSA_VHD, COUNTER_DISK, "plain")
        guest = s.IVMVirtualMachine_get_GuestOS(_this=vm)
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            self.assertTrue(wait_for(lambda: b"VSA-COUNTER" in read_file(com1_log), 20))
            # The emulator-observed heartbeat stands in.
            self.assertTrue(wait_for(lambda: s.IVMGuestOS_get_IsHeartbeating(_this=guest), 10))
            self.assertFalse(s.IVMGuestOS_get_CanShutdown(_this=guest))
            for call in (lambda: s.IVMGuestOS_get_OSName(_this=guest),
                         lambda: s.IVMGuestOS2_get_ComputerName(_this=guest),
                         lambda: s.IVMGuestOS_ExecuteCommand(_this=guest, command="true"),
                         lambda: s.IVMGuestOS_SetParameter(_this=guest, name="a", value="b"),
                         lambda: s.IVMGuestOS2_GetParameter(_this=guest, name="HostName")):
                self.assert_fault(call, NO_AGENT, text="no guest agent answered")
            self.assertIn(s.IVMGuestOS_get_AdditionsVersion(_this=guest), ("", None))
            # No empty DVD drive at all.
            self.assert_fault(lambda: s.IVMGuestOS_InstallAdditions(_this=guest), "VM_E_DRIVE_INVALID")
        finally:
            self.turn_off(vm)


def main():
    global VSAD, VSA_VHD, VSA_VM, AGENT_DISK, COUNTER_DISK
    if len(sys.argv) != 6:
        print(__doc__)
        return 2
    VSAD, VSA_VHD, VSA_VM, AGENT_DISK, COUNTER_DISK = sys.argv[1:]
    GuestAgentTest.vsad_binary, GuestAgentTest.worker_binary = VSAD, VSA_VM
    return run_tests([GuestAgentTest], failure_note=lambda: read_file(GuestAgentTest.vsad.stderr_path).decode(
        "utf-8", "replace") if getattr(GuestAgentTest, "vsad", None) else "")


if __name__ == "__main__":
    sys.exit(main())
