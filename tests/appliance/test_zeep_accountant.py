#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""IVMAccountant's scheduling and counters, and the virtual CPU's
IVMVirtualMachine properties, over SOAP: python3-zeep against a live vsad
that runs real vsa-vm workers.

Usage: test_zeep_accountant.py vsad vsa-vhd vsa-vm busy_disk.img

The guest is tests/progs/busy_disk.asm: it reads 8 sectors at a time from
its disk without pause for about 3 seconds of virtual time (its virtual CPU
never halts meanwhile), writes one sector, prints "VSA-BUSY-DONE <reads>"
on COM1 and idles. So its worker's CPU use shows in CPUUtilizationHistory,
and DiskBytesRead must reach at least <reads> x 4096 bytes (plus the boot
sector the BIOS read), DiskBytesWritten 512.

Scheduling: the ranges follow the host's processor count (a VM may reserve
or be capped at most 100 / <processors> percent), reserve > cap is
E_INVALIDARG, the values survive a restart of vsad (they are in the .vmc),
and the reserve is admission control: with the host's capacity reserved by
running VMs, another VM that reserves any is refused VM_E_OUT_OF_RESERVE.
Where cgroup v2 with the cpu controller is writable here, the running
worker must be in <cgroup2 mount>/vsa/<VM id> with cpu.weight and cpu.max
as services/worker/cpu_cgroup.h maps them; elsewhere that part is skipped
with the reason printed.
"""
import os
import shutil
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import ZeepTestCase, run_tests, make_client, make_counter_vm, wait_for, worker_of  # noqa: E402

VSAD = VSA_VHD = VSA_VM = BUSY_DISK = None  # argv
RUNNING = 5
E_INVALIDARG = 0x80070057
VM_E_OUT_OF_RESERVE = 0xA0040208
PERIOD_US = 100000


def read_text(path):
    try:
        with open(path, encoding="latin-1") as f:
            return f.read()
    except OSError:
        return ""


def cgroup_v2_cpu():
    """(vsad's default cgroup root, None) when cgroup v2's cpu controller
    can be used here, else (None, the reason)."""
    mount = None
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 3 and fields[2] == "cgroup2":
                mount = fields[1]
                break
    if mount is None:
        return None, "no cgroup2 file system is mounted"
    controllers = read_text(os.path.join(mount, "cgroup.controllers")).split()
    if "cpu" not in controllers:
        return None, f"the cpu controller is not available in {mount} (bound to cgroup v1, or not delegated)"
    if not os.access(os.path.join(mount, "cgroup.subtree_control"), os.W_OK):
        return None, f"{mount} is not writable"
    return os.path.join(mount, "vsa"), None


def cpu_max_text(maximum, processors):
    """What cpu_cgroup.h writes for a cap of `maximum` percent."""
    if maximum * processors >= 100.0 - 1e-9:
        return f"max {PERIOD_US}"
    return f"{max(1000, round(maximum / 100.0 * processors * PERIOD_US))} {PERIOD_US}"


class AccountantTest(ZeepTestCase):
    def setUp(self):
        self.vsad = Vsad(VSAD, defines={"vm.worker_binary": VSA_VM})
        self.s = make_client(self.vsad).service
        self.processors = os.sysconf("SC_NPROCESSORS_ONLN")
        self.limit = 100.0 / self.processors

    def tearDown(self):
        code = self.vsad.stop()
        shutil.rmtree(self.vsad.data_dir, ignore_errors=True)
        self.assertEqual(code, 0, "vsad exited with status %s" % code)

    def restart_vsad(self):
        self.assertEqual(self.vsad.stop(), 0)
        password = self.vsad.password  # printed at the first start only
        self.vsad = Vsad(VSAD, data_dir=self.vsad.data_dir, defines={"vm.worker_binary": VSA_VM})
        self.vsad.password = self.vsad.password or password
        self.s = make_client(self.vsad).service

    def scheduling(self, accountant):
        s = self.s
        return (s.IVMAccountant_get_ReservedSystemCapacity(_this=accountant),
                s.IVMAccountant_get_MaximumSystemCapacity(_this=accountant),
                s.IVMAccountant_get_RelativeWeight(_this=accountant))

    def set_scheduling(self, accountant, reserved, maximum, weight):
        self.s.IVMAccountant_SetSchedulingParameters(_this=accountant, reservedSystemCapacity=reserved,
                                                     maxSystemCapacity=maximum, relativeWeight=weight)

    def start(self, vm):
        s = self.s
        task = s.IVMVirtualMachine_Startup(_this=vm)
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=task, timeout=30000))
        self.assertEqual(s.IVMTask_get_Result(_this=task), 0, s.IVMTask2_get_ErrorDescription(_this=task))
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)

    def turn_off(self, vm):
        s = self.s
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=s.IVMVirtualMachine_TurnOff(_this=vm), timeout=30000))

    def test_virtual_cpu(self):
        s = self.s
        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="cpu", configurationPath="")
        # hypervisor/cpu/cpu_profile.h: no MMX, SSE, SSE2 or 3DNow! in
        # CPUID, a 1 GHz time-stamp counter.
        for prop in ("Has3DNow", "HasMMX", "HasSSE", "HasSSE2"):
            self.assertIs(getattr(s, "IVMVirtualMachine_get_" + prop)(_this=vm), False, prop)
        self.assertEqual(s.IVMVirtualMachine_get_ProcessorSpeed(_this=vm), 1000)
        self.assert_fault(lambda: s.IVMVirtualMachine_get_HasMMX(_this="{00000000-0000-0000-0000-000000000001}"),
                          "VM_E_VM_UNKNOWN")
        self.assert_fault(lambda: s.IVMVirtualMachine_get_ProcessorSpeed(_this="nonsense"), "E_INVALIDARG")

    def test_scheduling_counters_and_admission(self):
        s, limit = self.s, self.limit
        vm, log, _ = make_counter_vm(s, VSA_VHD, BUSY_DISK, "busy")
        folder = os.path.dirname(log)
        accountant = s.IVMVirtualMachine_get_Accountant(_this=vm)

        # Defaults: no reserve, a whole processor as the cap, weight 100.
        self.assertAlmostEqual(s.IVMAccountant_get_AllowableMaximumSystemCapacity(_this=accountant), limit)
        self.assertAlmostEqual(s.IVMAccountant_get_AllowableReservedSystemCapacity(_this=accountant), limit)
        reserved, maximum, weight = self.scheduling(accountant)
        self.assertEqual((reserved, weight), (0.0, 100))
        self.assertAlmostEqual(maximum, limit)
        self.assertEqual(s.IVMVirtualServer_get_AvailableSystemCapacity(), 100.0)

        # Off: every counter reads 0.
        self.assertEqual(list(s.IVMAccountant_get_CPUUtilizationHistory(_this=accountant)), [0] * 60)
        for prop in ("DiskBytesRead", "DiskBytesWritten", "NetworkBytesSent", "NetworkBytesReceived"):
            self.assertEqual(getattr(s, "IVMAccountant_get_" + prop)(_this=accountant), 0, prop)
        self.assert_fault(lambda: s.IVMAccountant_get_DiskBytesRead(_this=vm), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMAccountant_get_RelativeWeight(
            _this="{00000000-0000-0000-0000-000000000001}/accountant"), "VM_E_VM_UNKNOWN")

        # Out of range (E_INVALIDARG), and nothing changes.
        for bad in ((-1, limit, 100), (0, 0.5, 100), (0, limit + 1, 100), (limit + 1, limit + 1, 100),
                    (0, limit, 0), (0, limit, 10001)):
            self.assert_fault(lambda: self.set_scheduling(accountant, *bad), "E_INVALIDARG", E_INVALIDARG)
        message = self.assert_fault(lambda: self.set_scheduling(accountant, 2, 1, 100), "E_INVALIDARG",
                                    E_INVALIDARG)
        self.assertIn("exceeds maxSystemCapacity", message)
        reserved, maximum, weight = self.scheduling(accountant)
        self.assertEqual((reserved, weight), (0.0, 100))
        self.assertAlmostEqual(maximum, limit)

        # Valid values are kept in the .vmc and survive a restart of vsad.
        reserved, maximum, weight = round(limit * 0.3, 4), round(limit * 0.6, 4), 250
        self.set_scheduling(accountant, reserved, maximum, weight)
        self.assertEqual(self.scheduling(accountant), (reserved, maximum, weight))
        vmc = ET.parse(os.path.join(folder, "busy.vmc")).getroot()
        self.assertEqual(vmc.findtext("settings/scheduling/relative_weight"), "250")
        self.assertEqual(float(vmc.findtext("settings/scheduling/maximum_capacity")), maximum)
        self.restart_vsad()
        s = self.s
        self.assertEqual(self.scheduling(accountant), (reserved, maximum, weight))

        # Running: the reserve is taken from the host's capacity.
        self.start(vm)
        self.assertTrue(wait_for(lambda: "VSA-BUSY-START" in read_text(log), 30), "the guest did not start")
        self.assertAlmostEqual(s.IVMVirtualServer_get_AvailableSystemCapacity(), 100.0 - reserved)
        pid, _args = worker_of(folder)
        self.assertIsNotNone(pid)

        # Enforcement with cgroup v2, where this host allows it.
        root, why = cgroup_v2_cpu()
        if root is None:
            print(f"cgroup v2 part skipped: {why}", file=sys.stderr)
        else:
            group = os.path.join(root, vm)
            self.assertTrue(os.path.isdir(group), f"vsad made no cgroup {group}")
            self.assertIn(str(pid), read_text(os.path.join(group, "cgroup.procs")).split())
            self.assertEqual(read_text(os.path.join(group, "cpu.weight")).strip(), "250")
            self.assertEqual(read_text(os.path.join(group, "cpu.max")).strip(), cpu_max_text(maximum, self.processors))
            # Changed while running: the worker's group follows.
            self.set_scheduling(accountant, reserved, limit, 4000)
            self.assertEqual(read_text(os.path.join(group, "cpu.weight")).strip(), "4000")
            self.assertEqual(read_text(os.path.join(group, "cpu.max")).strip(), f"max {PERIOD_US}")
            self.set_scheduling(accountant, reserved, maximum, weight)

        # The guest's disk reads and its busy CPU show in the counters.
        self.assertTrue(wait_for(lambda: "VSA-BUSY-DONE" in read_text(log), 30), read_text(log))
        self.assertNotIn("VSA-BUSY-FAIL", read_text(log))
        reads = int(read_text(log).split("VSA-BUSY-DONE ")[1].split()[0])
        self.assertGreater(reads, 0)
        least = 512 + reads * 4096
        self.assertTrue(wait_for(lambda: s.IVMAccountant_get_DiskBytesRead(_this=accountant) >= least, 10),
                        f"DiskBytesRead {s.IVMAccountant_get_DiskBytesRead(_this=accountant)} < {least}")
        self.assertTrue(wait_for(lambda: s.IVMAccountant_get_DiskBytesWritten(_this=accountant) >= 512, 10))
        history = list(s.IVMAccountant_get_CPUUtilizationHistory(_this=accountant))
        self.assertEqual(len(history), 60)
        self.assertTrue(all(0 <= h <= 100 for h in history), history)
        self.assertGreater(max(history), 0, history)
        self.assertGreaterEqual(s.IVMAccountant_get_UpTime(_this=accountant), 3)
        self.assertTrue(0 <= s.IVMAccountant_get_CPUUtilization(_this=accountant) <= 100)
        self.assertEqual(s.IVMAccountant_get_NetworkBytesSent(_this=accountant), 0)  # no network adapter
        print(f"busy guest: {reads} reads, DiskBytesRead "
              f"{s.IVMAccountant_get_DiskBytesRead(_this=accountant)}, CPU history {history[:8]}", file=sys.stderr)

        # Admission: VMs that are on reserve the whole host; one more that
        # reserves anything cannot start. Needs as many running VMs as the
        # host has processors: done on hosts with at most two.
        if self.processors > 2:
            print(f"admission part skipped: it needs {self.processors} running VMs", file=sys.stderr)
        else:
            self.set_scheduling(accountant, limit, limit, weight)  # a running VM's reserve grows
            self.assertAlmostEqual(s.IVMVirtualServer_get_AvailableSystemCapacity(), 100.0 - limit)
            others = []
            for i in range(self.processors - 1):
                other = s.IVMVirtualServer_CreateVirtualMachine(configurationName=f"fill{i}", configurationPath="")
                s.IVMVirtualMachine_set_Memory(_this=other, memory=16)
                self.set_scheduling(s.IVMVirtualMachine_get_Accountant(_this=other), limit, limit, 100)
                self.start(other)
                others.append(other)
            self.assertAlmostEqual(s.IVMVirtualServer_get_AvailableSystemCapacity(), 0.0)
            late = s.IVMVirtualServer_CreateVirtualMachine(configurationName="late", configurationPath="")
            s.IVMVirtualMachine_set_Memory(_this=late, memory=16)
            late_accountant = s.IVMVirtualMachine_get_Accountant(_this=late)
            self.assertAlmostEqual(s.IVMAccountant_get_AllowableReservedSystemCapacity(_this=late_accountant), 0.0)
            self.set_scheduling(late_accountant, 1, limit, 100)  # stored; checked at start
            self.assert_fault(lambda: s.IVMVirtualMachine_Startup(_this=late), "VM_E_OUT_OF_RESERVE",
                              VM_E_OUT_OF_RESERVE)
            self.assertNotEqual(s.IVMVirtualMachine_get_State(_this=late), RUNNING)
            # Started with no reserve, a VM cannot then take what the
            # others hold.
            self.set_scheduling(late_accountant, 0, limit, 100)
            self.start(late)
            message = self.assert_fault(lambda: self.set_scheduling(late_accountant, 1, limit, 100), "E_INVALIDARG")
            self.assertIn("AllowableReservedSystemCapacity", message)
            self.turn_off(late)
            for other in others:
                self.turn_off(other)
            self.assertAlmostEqual(s.IVMVirtualServer_get_AvailableSystemCapacity(), 100.0 - limit)

        self.turn_off(vm)
        self.assertEqual(s.IVMVirtualServer_get_AvailableSystemCapacity(), 100.0)
        self.assertEqual(s.IVMAccountant_get_DiskBytesRead(_this=accountant), 0)
        self.assertEqual(list(s.IVMAccountant_get_CPUUtilizationHistory(_this=accountant)), [0] * 60)


def main():
    global VSAD, VSA_VHD, VSA_VM, BUSY_DISK
    if len(sys.argv) < 5:
        print("usage: test_zeep_accountant.py vsad vsa-vhd vsa-vm busy_disk.img", file=sys.stderr)
        return 2
    VSAD, VSA_VHD, VSA_VM, BUSY_DISK = (os.path.abspath(a) for a in sys.argv[1:5])
    return run_tests((AccountantTest,))


if __name__ == "__main__":
    sys.exit(main())
