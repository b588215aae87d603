#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The power lifecycle over SOAP: python3-zeep against a live vsad that runs
real vsa-vm workers.

Usage: test_zeep_lifecycle.py vsad vsa-vhd vsa-vm counter_disk.img

The guest is tests/progs/counter_disk.asm: it boots under SeaBIOS and prints
"VSA-COUNTER <count> <ticks>" on COM1 once per timer tick, and vsad sends
COM1 to <vm folder>/<name>.com1.log. So the log shows the guest running,
standing still while paused, and going on from where it was after Save and
Startup (restore). Also: the faults for invalid transitions (section 6 of
vs-api.md), and vsad's stop saving a running VM (ShutdownActionOnQuit Save)
that a restarted vsad then restores. Startup, Save, Reset and TurnOff return
an IVMTask at once: the test follows each through IsComplete or
WaitForCompletion, Result, PercentCompleted and IVMVirtualServer.Tasks.
VhdTaskTest creates dynamic, fixed and differencing VHDs through their
tasks and cancels a large fixed one. Kept short: it runs under ASan in the
default suite.
"""
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

import zeep
import zeep.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import ZeepTestCase, run_tests, make_client, make_counter_vm, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = COUNTER_DISK = None  # argv

TURNED_OFF, SAVED, RUNNING, PAUSED = 1, 2, 5, 6
SUCCESS, CANCELLED, DISK_RELATED_ERROR = 0, 1, 4
E_ABORT = 0x80004004


def start_vsad(data_dir=None):
    return Vsad(VSAD, data_dir=data_dir, defines={"vm.worker_binary": VSA_VM})


def counters(log):
    try:
        with open(log, encoding="latin-1") as f:
            text = f.read()
    except OSError:
        return []
    return [(int(m.group(1)), int(m.group(2))) for m in re.finditer(r"^VSA-COUNTER (\d+) (\d+)$", text, re.M)]


def workers_for(path):
    """Processes whose command line names `path` (a VM's files)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if path.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


class VsadTestCase(ZeepTestCase):
    def setUp(self):
        self.vsad = start_vsad()
        self.s = make_client(self.vsad).service

    def tearDown(self):
        code = self.vsad.stop()
        shutil.rmtree(self.vsad.data_dir, ignore_errors=True)
        self.assertEqual(code, 0, "vsad exited with status %s" % code)

    def run_task(self, begin, poll=False):
        """Starts an operation that must succeed; returns its task reference
        after checking what IVMTask and IVMTask2 say about it."""
        s = self.s
        task = begin()
        self.assertTrue(task, "no task reference")
        self.assertIn(task, s.IVMVirtualServer_get_Tasks())
        self.wait_task(task, poll, succeed=False)
        self.assertEqual(s.IVMTask_get_Result(_this=task), SUCCESS, s.IVMTask2_get_ErrorDescription(_this=task))
        self.assertEqual(s.IVMTask_get_PercentCompleted(_this=task), 100)
        self.assertEqual(s.IVMTask2_get_Error(_this=task), 0)
        self.assertIn(s.IVMTask2_get_ErrorDescription(_this=task), ("", None))
        self.assertGreater(s.IVMTask_get_ID(_this=task), 0)
        # Completed tasks stay listed (for 10 minutes).
        self.assertIn(task, s.IVMVirtualServer_get_Tasks())
        return task


class LifecycleTest(VsadTestCase):

    def make_counter_vm(self, name):
        """A VM with a fixed VHD holding the counter disk at IDE 0:0."""
        return make_counter_vm(self.s, VSA_VHD, COUNTER_DISK, name)

    def wait_counting(self, log, more=3):
        start = len(counters(log))
        self.assertTrue(wait_for(lambda: len(counters(log)) >= start + more), "the guest does not count")

    def test_power_cycle(self):
        s = self.s
        vm, log, vsv = self.make_counter_vm("counter")
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), TURNED_OFF)
        # Invalid transitions while off.
        self.assert_fault(lambda: s.IVMVirtualMachine_Pause(_this=vm), "E_FAIL")
        self.assert_fault(lambda: s.IVMVirtualMachine_Resume(_this=vm), "E_FAIL")
        self.assert_fault(lambda: s.IVMVirtualMachine_TurnOff(_this=vm), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMVirtualMachine_Save(_this=vm), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMVirtualMachine_Reset(_this=vm), "VM_E_VM_NOT_RUNNING")
        self.assert_fault(lambda: s.IVMVirtualMachine_DiscardSavedState(_this=vm), "VM_E_VM_NO_SAVED_STATE")
        self.assert_fault(lambda: s.IVMVirtualMachine_get_SavedStateFilePath(_this=vm), "VM_E_VM_NO_SAVED_STATE")
        self.assert_fault(lambda: s.IVMVirtualMachine_Startup(_this="not-a-vm"), "E_INVALIDARG")
        # A refusal makes no task.
        self.assertEqual(s.IVMVirtualServer_get_Tasks() or [], [])

        # Startup returns its task at once; the VM runs once it completes.
        task = self.run_task(lambda: s.IVMVirtualMachine_Startup(_this=vm), poll=True)
        self.assertEqual(s.IVMTask_get_Description(_this=task), 'Startup of virtual machine "counter"')
        self.assertFalse(s.IVMTask_get_IsCancelable(_this=task))
        self.assert_fault(lambda: s.IVMTask_Cancel(_this=task), "E_FAIL")
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
        self.wait_counting(log)
        self.assert_fault(lambda: s.IVMVirtualMachine_Startup(_this=vm), "VM_E_VM_RUNNING")
        self.assert_fault(lambda: s.IVMVirtualMachine_set_Memory(_this=vm, memory=32), "VM_E_VM_RUNNING")
        self.assert_fault(lambda: s.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=vm), "VM_E_VM_RUNNING")

        # Pause: nothing more is printed; Resume: it counts on.
        s.IVMVirtualMachine_Pause(_this=vm)
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), PAUSED)
        self.assert_fault(lambda: s.IVMVirtualMachine_Pause(_this=vm), "E_FAIL")
        frozen = counters(log)
        time.sleep(1.0)
        self.assertEqual(counters(log), frozen)
        s.IVMVirtualMachine_Resume(_this=vm)
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
        self.assert_fault(lambda: s.IVMVirtualMachine_Resume(_this=vm), "E_FAIL")
        self.wait_counting(log)
        resumed = counters(log)
        self.assertEqual(resumed[len(frozen)][0], frozen[-1][0] + 1)

        # Save: <name>.vsv in the VM folder; State Saved.
        save = self.run_task(lambda: s.IVMVirtualMachine_Save(_this=vm))
        self.assertIn("Save", s.IVMTask_get_Description(_this=save))
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), SAVED)
        self.assertEqual(s.IVMVirtualMachine_get_SavedStateFilePath(_this=vm), vsv)
        self.assertTrue(os.path.isfile(vsv))
        self.assertEqual(workers_for(vsv), [])
        last = counters(log)[-1][0]
        self.assert_fault(lambda: s.IVMVirtualMachine_Pause(_this=vm), "E_FAIL")
        self.assert_fault(lambda: s.IVMVirtualMachine_set_Memory(_this=vm, memory=32), "VM_E_VM_RUNNING")

        # Startup again restores: the counter goes on from the saved value.
        self.run_task(lambda: s.IVMVirtualMachine_Startup(_this=vm))
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
        self.assertFalse(os.path.exists(vsv))
        self.wait_counting(log)
        values = [c for c, _ in counters(log)]
        at = values.index(last)
        self.assertEqual(values[at + 1], last + 1, values[at - 2:at + 5])
        self.assertNotIn("VSA-COUNTER-BOOT", open(log).read().split("VSA-COUNTER %d " % last)[1])

        # Reset reboots the guest; TurnOff stops it at once.
        self.run_task(lambda: s.IVMVirtualMachine_Reset(_this=vm))
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
        self.assertTrue(wait_for(lambda: open(log).read().count("VSA-COUNTER-BOOT") == 2))
        turn_off = self.run_task(lambda: s.IVMVirtualMachine_TurnOff(_this=vm))
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), TURNED_OFF)
        self.assertFalse(os.path.exists(vsv))
        self.assertEqual(workers_for(vsv), [])

        # Save then DiscardSavedState; then Delete.
        self.run_task(lambda: s.IVMVirtualMachine_Startup(_this=vm))
        self.run_task(lambda: s.IVMVirtualMachine_Save(_this=vm))
        s.IVMVirtualMachine_DiscardSavedState(_this=vm)
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), TURNED_OFF)
        self.assertFalse(os.path.exists(vsv))
        self.assertTrue(s.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=vm))

        # Every task so far is listed, in creation order, the first Startup
        # first and the last TurnOff among them.
        listed = s.IVMVirtualServer_get_Tasks()
        self.assertEqual(len(listed), 7)
        self.assertEqual(listed[0], task)
        self.assertIn(turn_off, listed)
        ids = [s.IVMTask_get_ID(_this=t) for t in listed]
        self.assertEqual(ids, sorted(ids))

        # Stale and malformed task references, and out-of-range waits.
        self.assert_fault(lambda: s.IVMTask_get_IsComplete(_this="not-a-task"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMTask_get_Result(_this="{00000000-0000-0000-0000-000000000001}"),
                          "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMTask_Cancel(_this=""), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMTask_WaitForCompletion(_this=task, timeout=-2), "E_POINTER")
        self.assert_fault(lambda: s.IVMTask_WaitForCompletion(_this=task, timeout=2**31 - 1), "E_POINTER")
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=task, timeout=-1))
        self.assertTrue(s.IVMTask_WaitForCompletion(_this=task, timeout=0))

    def test_undo_disks(self):
        """Undoable on: the worker runs on <disk>.vud, TurnOff keeps it,
        MergeUndoDisks folds it into the base through a task, DiscardUndoDisks
        and switching Undoable off delete it."""
        s = self.s
        vm, log, _ = self.make_counter_vm("undo")
        hdc = s.IVMVirtualMachine_get_HardDiskConnections(_this=vm)[0]
        vhd = s.IVMHardDiskConnection_get_HardDisk(_this=hdc)
        vud = os.path.splitext(vhd)[0] + ".vud"
        self.assertFalse(s.IVMVirtualMachine_get_Undoable(_this=vm))
        self.assertEqual(s.IVMVirtualMachine_get_UndoAction(_this=vm), 1)  # Keep
        s.IVMVirtualMachine_set_Undoable(_this=vm, enableUndo=True)
        self.assertTrue(s.IVMVirtualMachine_get_Undoable(_this=vm))
        self.assert_fault(lambda: s.IVMVirtualMachine_set_UndoAction(_this=vm, undoAction=3), "E_INVALIDARG")
        s.IVMVirtualMachine_set_UndoAction(_this=vm, undoAction=0)  # Discard
        self.assertEqual(s.IVMVirtualMachine_get_UndoAction(_this=vm), 0)
        self.assertIn(s.IVMHardDiskConnection_get_UndoHardDisk(_this=hdc), ("", None))
        with open(vhd, "rb") as f:
            before = f.read()

        self.run_task(lambda: s.IVMVirtualMachine_Startup(_this=vm))
        self.wait_counting(log)
        self.assertEqual(s.IVMHardDiskConnection_get_UndoHardDisk(_this=hdc), vud)
        self.assertTrue(os.path.isfile(vud))
        self.assertNotEqual(workers_for(vud), [], "the worker does not run on the undo disk")
        self.assertEqual(workers_for(vhd), [], "the worker was given the base disk")
        # Refusals while running; Save would keep what Discard drops.
        self.assert_fault(lambda: s.IVMVirtualMachine_DiscardUndoDisks(_this=vm), "VM_E_VM_RUNNING")
        self.assert_fault(lambda: s.IVMVirtualMachine_MergeUndoDisks(_this=vm), "VM_E_VM_RUNNING")
        self.assert_fault(lambda: s.IVMVirtualMachine_set_Undoable(_this=vm, enableUndo=False), "VM_E_VM_RUNNING")
        self.assert_fault(lambda: s.IVMVirtualMachine_Save(_this=vm), "E_FAIL")
        self.run_task(lambda: s.IVMVirtualMachine_TurnOff(_this=vm))
        self.assertTrue(os.path.isfile(vud), "TurnOff keeps the undo disk")
        with open(vhd, "rb") as f:
            self.assertEqual(f.read(), before, "the base disk was written")

        # The counter guest writes nothing: put a change into the undo disk
        # for the merge to fold in.
        change = b"UNDO" * 128
        subprocess.run([VSA_VHD, "write", vud, str(1 << 20)], input=change, check=True, capture_output=True)
        task = self.run_task(lambda: s.IVMVirtualMachine_MergeUndoDisks(_this=vm))
        self.assertFalse(s.IVMTask_get_IsCancelable(_this=task))
        self.assert_fault(lambda: s.IVMTask_Cancel(_this=task), "E_FAIL")
        self.assertIn("undo disks", s.IVMTask_get_Description(_this=task))
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), TURNED_OFF)
        self.assertFalse(os.path.exists(vud))
        self.assertIn(s.IVMHardDiskConnection_get_UndoHardDisk(_this=hdc), ("", None))
        with open(vhd, "rb") as f:
            f.seek(1 << 20)
            self.assertEqual(f.read(len(change)), change, "the merge did not reach the base disk")

        # A new run makes a new undo disk; DiscardUndoDisks deletes it, and
        # again is no error.
        self.run_task(lambda: s.IVMVirtualMachine_Startup(_this=vm))
        self.wait_counting(log)
        self.run_task(lambda: s.IVMVirtualMachine_TurnOff(_this=vm))
        self.assertTrue(os.path.isfile(vud))
        s.IVMVirtualMachine_DiscardUndoDisks(_this=vm)
        self.assertFalse(os.path.exists(vud))
        s.IVMVirtualMachine_DiscardUndoDisks(_this=vm)
        # Nothing to merge: a task that is already complete.
        self.run_task(lambda: s.IVMVirtualMachine_MergeUndoDisks(_this=vm))

        # Switching Undoable off deletes the undo disks.
        self.run_task(lambda: s.IVMVirtualMachine_Startup(_this=vm))
        self.wait_counting(log)
        self.run_task(lambda: s.IVMVirtualMachine_TurnOff(_this=vm))
        self.assertTrue(os.path.isfile(vud))
        s.IVMVirtualMachine_set_Undoable(_this=vm, enableUndo=False)
        self.assertFalse(os.path.exists(vud))
        self.assertFalse(s.IVMVirtualMachine_get_Undoable(_this=vm))

    def test_vsad_stop_saves_and_restart_restores(self):
        s = self.s
        vm, log, vsv = self.make_counter_vm("keeper")
        self.assertEqual(s.IVMVirtualMachine_get_ShutdownActionOnQuit(_this=vm), 0)  # Save
        self.assert_fault(lambda: s.IVMVirtualMachine_set_ShutdownActionOnQuit(_this=vm, action=7), "E_INVALIDARG")
        # Restored by hand below (AutoStartAtLaunch has its own test in test_zeep_settings.py).
        s.IVMVirtualMachine_set_AutoStartAtLaunch(_this=vm, autoStart=0)
        self.run_task(lambda: s.IVMVirtualMachine_Startup(_this=vm))
        self.wait_counting(log)
        self.assertEqual(len(workers_for(vsv)), 1)
        data_dir, password = self.vsad.data_dir, self.vsad.password
        self.assertEqual(self.vsad.stop(), 0)
        # No worker outlives vsad; the VM was saved.
        self.assertEqual(workers_for(vsv), [])
        self.assertTrue(os.path.isfile(vsv))
        last = counters(log)[-1][0]

        self.vsad = start_vsad(data_dir)
        self.vsad.password = password
        s = self.s = make_client(self.vsad).service
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), SAVED)
        self.assertEqual(s.IVMVirtualServer_get_Tasks() or [], [])  # tasks do not outlive vsad
        self.run_task(lambda: s.IVMVirtualMachine_Startup(_this=vm))
        self.wait_counting(log)
        values = [c for c, _ in counters(log)]
        self.assertEqual(values[values.index(last) + 1], last + 1)
        # TurnOff at quit: the worker is stopped, nothing is saved.
        s.IVMVirtualMachine_set_ShutdownActionOnQuit(_this=vm, action=1)
        self.assertEqual(self.vsad.stop(), 0)
        self.assertEqual(workers_for(vsv), [])
        self.assertFalse(os.path.exists(vsv))


class VhdTaskTest(VsadTestCase):
    def test_disks_are_created_through_tasks(self):
        s = self.s
        folder = s.IVMVirtualServer_get_DefaultVMConfigurationPath()
        dynamic = os.path.join(folder, "disks", "dynamic.vhd")  # the folder is created
        task = self.run_task(lambda: s.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath=dynamic, size=1024))
        self.assertIn("dynamic.vhd", s.IVMTask_get_Description(_this=task))
        self.assertFalse(s.IVMTask_get_IsCancelable(_this=task))
        self.assertTrue(os.path.isfile(dynamic))
        self.assertLess(os.path.getsize(dynamic), 1 << 20)  # sparse: header and BAT only

        fixed = os.path.join(folder, "fixed.vhd")
        self.run_task(lambda: s.IVMVirtualServer_CreateFixedVirtualHardDisk(imagePath=fixed, size=64))
        self.assertEqual(os.path.getsize(fixed), (64 << 20) + 512)

        # The child relative to its parent's folder.
        self.run_task(lambda: s.IVMVirtualServer_CreateDifferencingVirtualHardDisk(imagePath="child.vhd",
                                                                                   parentPath=dynamic))
        self.assertTrue(os.path.isfile(os.path.join(folder, "disks", "child.vhd")))
        # A parent that is no VHD: the task fails, not the call.
        notes = os.path.join(folder, "notes.vhd")
        with open(notes, "w") as f:
            f.write("not a disk")
        bad = s.IVMVirtualServer_CreateDifferencingVirtualHardDisk(imagePath="bad.vhd", parentPath=notes)
        self.wait_task(bad, succeed=False)
        self.assertEqual(s.IVMTask_get_Result(_this=bad), DISK_RELATED_ERROR)
        self.assertEqual(s.IVMTask2_get_Error(_this=bad), 0xA0040682)  # VM_E_INVALID_HD_FILE
        self.assertTrue(s.IVMTask2_get_ErrorDescription(_this=bad))

        # Bad input faults the call.
        self.assert_fault(lambda: s.IVMVirtualServer_CreateFixedVirtualHardDisk(imagePath=fixed, size=64),
                          "E_ALREADY_EXISTS")
        other = os.path.join(folder, "other.vhd")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateFixedVirtualHardDisk(imagePath=other, size=0),
                          "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath=other, size=-1),
                          "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath=other, size=2088961),
                          "VM_E_IMAGE_SIZE_TOO_LARGE")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath=other, size=2),
                          "VM_E_IMAGE_SIZE_TOO_SMALL")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath="rel.vhd", size=8),
                          "E_BAD_PATHNAME")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateFixedVirtualHardDisk(imagePath="/etc/x.vhd", size=8),
                          "E_ACCESSDENIED")
        self.assert_fault(lambda: s.IVMVirtualServer_CreateDifferencingVirtualHardDisk(
            imagePath=other, parentPath=os.path.join(folder, "missing.vhd")), "E_PATH_NOT_FOUND")
        self.assertFalse(os.path.exists(other))

    def test_a_large_fixed_disk_is_cancelled(self):
        s = self.s
        folder = s.IVMVirtualServer_get_DefaultVMConfigurationPath()
        big = os.path.join(folder, "big.vhd")
        # 8 GB: reserving it takes a few hundred ms here (fallocate in
        # 64 MB pieces), time for the Cancel to arrive on the way.
        task = s.IVMVirtualServer_CreateFixedVirtualHardDisk(imagePath=big, size=8192)
        self.assertTrue(s.IVMTask_get_IsCancelable(_this=task))
        try:
            s.IVMTask_Cancel(_this=task)
            cancelled = True
        except zeep.exceptions.Fault:
            cancelled = False  # it completed first: "already complete"
        self.wait_task(task, succeed=False)
        result = s.IVMTask_get_Result(_this=task)
        if cancelled:
            self.assertEqual(result, CANCELLED)
            self.assertEqual(s.IVMTask2_get_Error(_this=task), E_ABORT)
            self.assertLess(s.IVMTask_get_PercentCompleted(_this=task), 100)
            self.assertFalse(os.path.exists(big), "the partial file must go")
            print("cancelled at %d %%" % s.IVMTask_get_PercentCompleted(_this=task))
        else:
            print("the creation completed before the Cancel arrived")
            self.assertEqual(result, SUCCESS)
            os.unlink(big)
        self.assert_fault(lambda: s.IVMTask_Cancel(_this=task), "E_FAIL")  # complete now
        self.assertIn(task, s.IVMVirtualServer_get_Tasks())


class VsadDeathTest(unittest.TestCase):
    def test_workers_die_with_vsad(self):
        """vsad killed outright (no chance to save): its workers go too."""
        daemon = start_vsad()
        try:
            s = make_client(daemon).service
            helper = LifecycleTest("test_power_cycle")
            helper.s = s
            vm, log, vsv = helper.make_counter_vm("orphan")
            s.IVMVirtualMachine_Startup(_this=vm)
            self.assertTrue(wait_for(lambda: len(counters(log)) > 0))
            self.assertEqual(len(workers_for(vsv)), 1)
            daemon.process.kill()
            daemon.process.wait()
            self.assertTrue(wait_for(lambda: workers_for(vsv) == [], 20), workers_for(vsv))
        finally:
            daemon.cleanup()


def main():
    global VSAD, VSA_VHD, VSA_VM, COUNTER_DISK
    if len(sys.argv) < 5:
        print("usage: test_zeep_lifecycle.py vsad vsa-vhd vsa-vm counter_disk.img", file=sys.stderr)
        return 2
    VSAD, VSA_VHD, VSA_VM, COUNTER_DISK = (os.path.abspath(a) for a in sys.argv[1:5])
    return run_tests((LifecycleTest, VhdTaskTest, VsadDeathTest))


if __name__ == "__main__":
    sys.exit(main())
