# SPDX-License-Identifier: GPL-2.0-or-later
"""What every python3-zeep scenario needs: a client for a live vsad, fault
checks, task waits, and the counter-disk VM that real workers run.

Kept beside vsad_fixture.py so each test_zeep_*.py script holds only its
scenario; a fix here (a timeout, how a fault is read) reaches all of them.
"""
import os
import shutil
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

from vsad_fixture import Vsad

NS = "urn:vsa:virtualserver:1"
TIMEOUT = 60  # seconds per call; generous for ASan builds


def make_client(daemon, password=None, user=None, transport_class=Transport):
    """A zeep client of `daemon` (a vsad_fixture.Vsad) with HTTP basic
    authentication."""
    session = requests.Session()
    session.trust_env = False  # REQUESTS_CA_BUNDLE etc. must not override verify
    session.verify = daemon.certificate
    session.auth = (user or daemon.user, password or daemon.password)
    transport = transport_class(session=session, timeout=TIMEOUT, operation_timeout=TIMEOUT)
    return zeep.Client(f"https://127.0.0.1:{daemon.port}/VirtualServer?wsdl", transport=transport)


def service_at(client, port):
    """The same contract at another listener of the same vsad (the long-poll
    port)."""
    return client.create_service("{%s}VirtualServerBinding" % NS, f"https://127.0.0.1:{port}/VirtualServer")


def strings(items):
    # zeep needs the ArrayOfString wrapper spelled out (a bare list sends
    # only its first element).
    return {"item": list(items)}


def wait_for(condition, limit=60.0, step=0.1):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def fault_node(fault):
    """The VirtualServerFault detail of a zeep Fault, or None."""
    if fault.detail is None:
        return None
    return fault.detail.find(f"{{{NS}}}VirtualServerFault")


def make_counter_vm(service, vsa_vhd, disk_image, name, memory=16):
    """A VM with a fixed VHD holding `disk_image` (a tests/progs disk) at IDE
    0:0. Returns the VM, its COM1 log and its saved-state file."""
    vm = service.IVMVirtualServer_CreateVirtualMachine(configurationName=name, configurationPath="")
    folder = os.path.dirname(service.IVMVirtualMachine_get_File(_this=vm))
    vhd = os.path.join(folder, name + ".vhd")
    subprocess.run([vsa_vhd, "create", "fixed", vhd, "4M"], check=True, capture_output=True)
    with open(disk_image, "rb") as image, open(vhd, "r+b") as disk:
        disk.write(image.read())  # a fixed VHD is the raw disk plus a footer
    service.IVMVirtualMachine_set_Memory(_this=vm, memory=memory)
    service.IVMVirtualMachine_AddHardDiskConnection(_this=vm, hardDiskPath=vhd, busType=0, busNumber=0,
                                                    deviceNumber=0)
    return vm, os.path.join(folder, name + ".com1.log"), os.path.join(folder, name + ".vsv")


class ZeepTestCase(unittest.TestCase):
    """Assertions over a zeep service in self.s."""

    def assert_fault(self, call, hresult_name, hresult=None, text=None):
        """The call fails with a VirtualServerFault named hresult_name (whose
        message holds `text`, if given); returns the message."""
        with self.assertRaises(zeep.exceptions.Fault) as caught:
            call()
        node = fault_node(caught.exception)
        self.assertIsNotNone(node, caught.exception.message if caught.exception.detail is None
                             else ET.tostring(caught.exception.detail))
        message = node.findtext(f"{{{NS}}}message")
        self.assertEqual(node.findtext(f"{{{NS}}}hresultName"), hresult_name, message)
        if hresult is not None:
            self.assertEqual(int(node.findtext(f"{{{NS}}}hresult")), hresult)
        if text:
            self.assertIn(text, message)
        return message

    def wait_task(self, task, poll=False, succeed=True):
        """Waits for an IVMTask: polling IsComplete, or WaitForCompletion,
        which the server caps and which says whether it is done. With
        `succeed`, the task must also have succeeded."""
        s = self.s
        deadline = time.monotonic() + TIMEOUT
        if poll:
            self.assertTrue(wait_for(lambda: s.IVMTask_get_IsComplete(_this=task), TIMEOUT, 0.05),
                            "the task does not complete")
        else:
            while not s.IVMTask_WaitForCompletion(_this=task, timeout=5000):
                self.assertLess(time.monotonic(), deadline, "the task does not complete")
        self.assertTrue(s.IVMTask_get_IsComplete(_this=task))
        if succeed:
            self.assertEqual(s.IVMTask_get_Result(_this=task), 0, s.IVMTask2_get_ErrorDescription(_this=task))


def read_file(path):
    """The bytes of `path`; b"" while it does not exist (a log not written yet)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def read_text(path):
    """The text of `path` (bad UTF-8 replaced); "" while it does not exist."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def worker_of(path):
    """(pid, arguments) of the vsa-vm worker one of whose arguments is
    `path` (its saved-state file) or lies in the folder `path` (the VM
    folder); (None, []) when there is none."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if args and os.path.basename(args[0]) == "vsa-vm" and any(
                a == path or a.startswith(path + os.sep) for a in args):
            return int(entry), args
    return None, []


class VsadTestCase(ZeepTestCase):
    """A test class with a vsad of its own that runs real vsa-vm workers:
    started in setUpClass (self.s is its service), stopped in tearDownClass,
    which fails unless it exits cleanly, and its data folder removed. The
    script sets vsad_binary and worker_binary from its arguments before the
    tests run (worker_binary None: vsad's default), and vsad_defines for
    more configuration keys. A vsad that does not exit cleanly has the tail
    of its stderr printed before its data folder goes."""

    vsad_binary = None
    worker_binary = None
    vsad_defines = {}

    @classmethod
    def setUpClass(cls):
        defines = {"vm.worker_binary": cls.worker_binary} if cls.worker_binary else {}
        cls.vsad = Vsad(cls.vsad_binary, defines={**defines, **cls.vsad_defines})
        cls.service = make_client(cls.vsad).service

    @classmethod
    def tearDownClass(cls):
        code = cls.vsad.stop()
        if code != 0:
            print("--- vsad stderr (tail) ---\n" + read_text(cls.vsad.stderr_path)[-3000:])
        shutil.rmtree(cls.vsad.data_dir, ignore_errors=True)
        assert code == 0, "vsad exited with status %s" % code

    def setUp(self):
        self.s = self.service

    def turn_off(self, vm):
        """Turns the VM off unless it is off (VMVMState 1) already."""
        if self.s.IVMVirtualMachine_get_State(_this=vm) != 1:
            self.wait_task(self.s.IVMVirtualMachine_TurnOff(_this=vm))


def run_tests(cases, failfast=False, failure_note=None):
    """Runs the TestCase classes `cases` in order, prints the runtime and the
    "N passed, N failed" line ctest's output shows, and returns the exit
    status (1 on any failure or when nothing ran). `failure_note()`, called
    after the run, may return text worth printing when something failed
    (vsad's stderr)."""
    started = time.monotonic()
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for case in cases:
        suite.addTests(loader.loadTestsFromTestCase(case))
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout, failfast=failfast).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped)
    note = failure_note() if failed and failure_note else ""
    if note:
        print("--- vsad stderr (tail) ---\n" + note[-4000:])
    print(f"runtime {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or result.testsRun == 0 else 0
