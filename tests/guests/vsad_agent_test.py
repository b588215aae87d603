#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""VSA's Virtual Machine Additions for real: Debian's qemu-guest-agent in a
Linux guest, driven through vsad's SOAP API (python3-zeep):

    vsad_agent_test.py --vsad BIN --vsa-vhd BIN --vsa-vm BIN --image linux-agent.img

linux-agent.img (build-linux-image.sh, init.sh `vsa.agent`) boots the
Debian 12 i386 kernel, names itself vsa-agent-linux, sets its clock to
2001-01-01 and runs `qemu-ga -m isa-serial -p /dev/ttyS2`: the VM's agent
port, a third 16550A at 0x3E8 whose IRQ 4 it shares with COM1, the
kernel's console. Through vsad the test calls every IVMGuestOS and
IVMGuestOS2 member against that agent and checks what the guest did:
the agent is found (CanShutdown), OSName is the guest's os-release
PRETTY_NAME, AdditionsVersion qemu-ga's, ComputerName its host name, the
heartbeat beats, host time sync moved the guest's clock from 2001 to the
host's time (guest-set-time, which also runs hwclock), ExecuteCommand
runs commands in the guest (output, exit status), SetParameter writes the
guest's parameter file and GetParameter reads it back, InstallAdditions
fills the empty DVD drive; after a Save and a restore the same agent
answers again; Shutdown makes qemu-ga run /sbin/shutdown and the VM
turns itself off.

Prints `N passed, N failed` and exits non-zero on a failure.
"""
import argparse
import os
import re
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "appliance"))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import fault_node, make_client, wait_for, NS  # noqa: E402
from guest_checks import Checks, fixed_vhd_from_image, read_log as read, stop_vsad  # noqa: E402
import zeep  # noqa: E402

NAME = "agentlinux"
HOSTNAME = "vsa-agent-linux"
PRETTY_NAME = "VSA test guest (Debian 12 i386 kernel, qemu-ga)"
TURNED_OFF, SAVED, RUNNING = 1, 2, 5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vsad", required=True)
    ap.add_argument("--vsa-vhd", required=True)
    ap.add_argument("--vsa-vm", required=True)
    ap.add_argument("--image", required=True, help="linux-agent.img")
    ap.add_argument("--timeout", type=float, default=1500, help="host seconds for the boot")
    args = ap.parse_args()

    checks = Checks()
    check = checks.check

    def fault_of(call):
        """(hresultName, message) of the fault `call` raises, or None."""
        try:
            call()
        except zeep.exceptions.Fault as fault:
            node = fault_node(fault)
            if node is None:
                return ("?", fault.message)
            return (node.findtext(f"{{{NS}}}hresultName"), node.findtext(f"{{{NS}}}message"))
        return None

    start = time.monotonic()
    daemon = Vsad(args.vsad, defines={"vm.worker_binary": args.vsa_vm, "dvd.discover_host_drives": "false"})
    com1 = ""
    try:
        s = make_client(daemon).service

        def wait_task(task, limit=600):
            deadline = time.monotonic() + limit
            while not s.IVMTask_WaitForCompletion(_this=task, timeout=5000):
                if time.monotonic() > deadline:
                    return "the task does not complete"
            if s.IVMTask_get_Result(_this=task) != 0:
                return s.IVMTask2_get_ErrorDescription(_this=task)
            return ""

        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName=NAME, configurationPath="")
        folder = os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm))
        com1 = os.path.join(folder, NAME + ".com1.log")
        vhd = os.path.join(folder, NAME + ".vhd")
        fixed_vhd_from_image(args.vsa_vhd, args.image, vhd)
        s.IVMVirtualMachine_set_Memory(_this=vm, memory=128)
        s.IVMVirtualMachine_AddHardDiskConnection(_this=vm, hardDiskPath=vhd, busType=0, busNumber=0,
                                                  deviceNumber=0)
        dvd = s.IVMVirtualMachine_AddDVDROMDrive(_this=vm, busType=0, busNumber=1, deviceNumber=0)
        guest = s.IVMVirtualMachine_get_GuestOS(_this=vm)
        check(s.IVMGuestOS_get_IsHostTimeSyncEnabled(_this=guest), "host time sync is on by default")

        check(wait_task(s.IVMVirtualMachine_Startup(_this=vm)) == "", "the VM starts")
        booted = time.monotonic()
        # The agent is up once vsad's monitor had its first ping answered.
        found = wait_for(lambda: s.IVMGuestOS_get_CanShutdown(_this=guest) or not daemon.alive(),
                         args.timeout, 2) and daemon.alive()
        check(found, "vsad found the guest's qemu-ga (CanShutdown)",
              f"{time.monotonic() - booted:.0f} s after start" if found else read(com1)[-2000:])
        if not found:
            raise RuntimeError("no agent")
        start_line = re.search(r"^VSA-AGENT-START .*$", read(com1), re.M)
        print("  " + (start_line.group(0) if start_line else "no VSA-AGENT-START line"))

        check(s.IVMGuestOS_get_OSName(_this=guest) == PRETTY_NAME, "OSName is the guest's os-release PRETTY_NAME",
              repr(s.IVMGuestOS_get_OSName(_this=guest)))
        # Read at first contact (guest-info, ~4 KB over the 38400-baud port).
        wait_for(lambda: s.IVMGuestOS_get_AdditionsVersion(_this=guest), 60, 1)
        version = s.IVMGuestOS_get_AdditionsVersion(_this=guest) or ""
        check(re.fullmatch(r"7\.2\.\d+", version) is not None, "AdditionsVersion is qemu-ga's (7.2.x)", repr(version))
        check(s.IVMGuestOS2_get_ComputerName(_this=guest) == HOSTNAME, "ComputerName is the guest's host name",
              repr(s.IVMGuestOS2_get_ComputerName(_this=guest)))
        check(wait_for(lambda: s.IVMGuestOS_get_IsHeartbeating(_this=guest), 10), "the heartbeat beats")
        check(s.IVMGuestOS_get_HeartbeatPercentage(_this=guest) > 0, "HeartbeatPercentage is above 0",
              str(s.IVMGuestOS_get_HeartbeatPercentage(_this=guest)))

        # ExecuteCommand: /bin/sh -c in the guest, through guest-exec.
        out = s.IVMGuestOS_ExecuteCommand(_this=guest, command="echo hello; uname -m; hostname")
        check(out == f"hello\ni686\n{HOSTNAME}\n", "ExecuteCommand returns the guest's output", repr(out))
        refused = fault_of(lambda: s.IVMGuestOS_ExecuteCommand(_this=guest, command="echo oops >&2; exit 3"))
        check(refused is not None and refused[0] == "E_FAIL" and "3" in refused[1] and "oops" in refused[1],
              "a failing command is E_FAIL with its status and standard error", repr(refused))

        # Host time sync: the guest started in 2001; vsad set its clock at
        # first contact (guest-set-time; qemu-ga also writes the RTC).
        def guest_skew():
            return abs(int(s.IVMGuestOS_ExecuteCommand(_this=guest, command="date +%s")) - time.time())
        synced = wait_for(lambda: guest_skew() < 120, 60, 2)
        check(synced, "host time sync set the guest's clock", f"skew {guest_skew():.0f} s")
        rtc = s.IVMGuestOS_ExecuteCommand(_this=guest, command="hwclock -r -u 2>&1 || true")
        check(" 2001" not in rtc and str(time.gmtime().tm_year) in rtc, "and the guest's RTC", rtc.strip())
        s.IVMGuestOS_set_IsHostTimeSyncEnabled(_this=guest, enabled=False)
        check(not s.IVMGuestOS_get_IsHostTimeSyncEnabled(_this=guest), "host time sync turns off")
        s.IVMGuestOS_set_IsHostTimeSyncEnabled(_this=guest, enabled=True)

        # Parameters: a JSON file in the guest, through guest-file-*.
        s.IVMGuestOS_SetParameter(_this=guest, name="Color", value="blue \"sky\"")
        s.IVMGuestOS_SetParameter(_this=guest, name="Size", value="42")
        check(s.IVMGuestOS2_GetParameter(_this=guest, name="Color") == "blue \"sky\"" and
              s.IVMGuestOS2_GetParameter(_this=guest, name="Size") == "42", "SetParameter / GetParameter round trip")
        stored = s.IVMGuestOS_ExecuteCommand(_this=guest, command="cat /var/lib/vsa-guest-parameters.json")
        check('"Color"' in stored and '"Size"' in stored, "the parameters are in the guest's file", stored.strip())
        check(s.IVMGuestOS2_GetParameter(_this=guest, name="VirtualMachineName") == NAME and
              s.IVMGuestOS2_GetParameter(_this=guest, name="HostName") == socket.gethostname(),
              "the stock parameters")

        # The install media into the empty DVD drive.
        s.IVMGuestOS_InstallAdditions(_this=guest)
        check((s.IVMDVDDrive_get_ImageFile(_this=dvd) or "").endswith("vsa-guest-agent.iso"),
              "InstallAdditions fills the empty DVD drive")

        # Save and restore: the same agent answers again (its serial line
        # and the guest's tty are part of the state).
        check(wait_task(s.IVMVirtualMachine_Save(_this=vm)) == "", "the VM saves")
        check(s.IVMVirtualMachine_get_State(_this=vm) == SAVED, "and is saved")
        check(fault_of(lambda: s.IVMGuestOS_get_CanShutdown(_this=guest)) is not None,
              "the agent is not asked while saved")
        check(wait_task(s.IVMVirtualMachine_Startup(_this=vm)) == "", "the VM restores")
        check(wait_for(lambda: s.IVMGuestOS_get_CanShutdown(_this=guest), 120, 1), "the agent answers after the restore")
        out = s.IVMGuestOS_ExecuteCommand(_this=guest, command="cat /proc/uptime >/dev/null && echo again")
        check(out == "again\n", "ExecuteCommand after the restore", repr(out))
        check(s.IVMGuestOS2_GetParameter(_this=guest, name="Size") == "42", "the parameters survived")

        # Shutdown through the agent: qemu-ga runs /sbin/shutdown, which
        # powers the guest off through ACPI.
        error = wait_task(s.IVMGuestOS_Shutdown(_this=guest))
        check(error == "", "the Shutdown task succeeds", error)
        check("VSA-AGENT-SHUTDOWN" in read(com1), "the guest ran /sbin/shutdown",
              (re.search(r"^VSA-AGENT-SHUTDOWN.*$", read(com1), re.M) or [""])[0])
        check(s.IVMVirtualMachine_get_State(_this=vm) == TURNED_OFF, "the VM is off")
        check(s.IVMGuestOS_get_AdditionsVersion(_this=guest) == version, "AdditionsVersion is kept while off")
    except Exception as error:  # noqa: BLE001 - any failure is a test failure with its text
        check(False, "the scenario ran", repr(error))
    finally:
        for ln in read(com1).splitlines():
            if ln.startswith(("VSA-AGENT", "VSA-QGA", "VSA-LINUX-BOOT")):
                print(f"  guest {ln}")
        if checks.failed:
            print("--- COM1 (tail) ---\n" + read(com1)[-3000:])
            print("--- vsad stderr (tail) ---\n" + read(daemon.stderr_path)[-3000:])
        stop_vsad(daemon, checks)
    print(f"TIMING {time.monotonic() - start:.1f} s")
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
