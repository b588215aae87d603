#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The management scenario from python3-zeep, in one piece, under the same
contract as the Perl, node and gSOAP clients. Run by run_client_scenario.py,
which starts vsad with two accounts (an administrator and "viewer") and
passes:

  zeep_scenario_client.py URL CA_FILE ADMIN ADMIN_PASSWORD VIEWER VIEWER_PASSWORD ISO

Scenario: log on (Session_Logon, then the SessionToken header); create a
dynamic VHD (task), a VM, attach the disk and a DVD image, start it (task),
see it Running with a non-empty 64x48 thumbnail, pause, resume, save (task),
start it again from the saved state, turn it off, read the event log, and
delete it; an ACL step where the viewer is denied reading a VM (the fault
names the right) until the administrator allows it. Faults are checked for
their VirtualServerFault detail (HRESULT, name, message). Prints one line
per check and "N passed, N failed"; exits 1 on any failure. The other
test_zeep_*.py scripts go through each interface in depth; this one is the
scenario every client runs.
"""
import os
import re
import sys
import time

import requests
import zeep
import zeep.exceptions
from zeep.transports import Transport

NS = "urn:vsa:virtualserver:1"
E_ACCESSDENIED = 0x80070005
E_INVALIDARG = 0x80070057
TURNED_OFF, SAVED, RUNNING, PAUSED = 1, 2, 5, 6  # VMVMState
TIMEOUT = 120

counts = {"passed": 0, "failed": 0}


def check(condition, what):
    counts["passed" if condition else "failed"] += 1
    print(f"{'PASS' if condition else 'FAIL'} {what}", flush=True)
    return condition


class Session:
    """A zeep client that trusts exactly vsad's certificate and, once logged
    on, sends the SessionToken header with every call."""

    def __init__(self, url, ca_file):
        http = requests.Session()
        http.trust_env = False
        http.verify = ca_file
        self.client = zeep.Client(f"{url}?wsdl", transport=Transport(session=http, timeout=TIMEOUT,
                                                                       operation_timeout=TIMEOUT))
        self.headers = {}
        self.last_fault = None

    def logon(self, user, password):
        token = self.must("Session_Logon", userName=user, password=password)
        self.headers = {"SessionToken": token}
        return token

    def call(self, operation, **params):
        """(True, value), or (False, fault) for a SOAP fault with a
        VirtualServerFault detail or a bare HTTP 401; anything else raises."""
        try:
            return True, getattr(self.client.service, operation)(_soapheaders=self.headers, **params)
        except zeep.exceptions.Fault as fault:
            node = fault.detail.find(f"{{{NS}}}VirtualServerFault") if fault.detail is not None else None
            if node is None:
                raise
            self.last_fault = {"hresult": int(node.findtext(f"{{{NS}}}hresult")),
                               "name": node.findtext(f"{{{NS}}}hresultName"),
                               "message": node.findtext(f"{{{NS}}}message"), "faultstring": fault.message}
            return False, self.last_fault
        except zeep.exceptions.TransportError as error:
            if error.status_code != 401:
                raise
            self.last_fault = {"hresult": E_ACCESSDENIED, "name": "HTTP 401", "message": "", "faultstring": ""}
            return False, self.last_fault

    def must(self, operation, **params):
        ok, value = self.call(operation, **params)
        if not ok:
            check(False, f"{operation}: {value['name']} {value['message']}")
            return None
        return value


def expect_fault(session, operation, hresult, name, pattern, what, **params):
    ok, fault = session.call(operation, **params)
    check(not ok and fault["hresult"] == hresult and fault["name"] == name and re.search(pattern, fault["message"])
          and fault["faultstring"] == fault["message"],
          f"{what} ({'no fault' if ok else fault['name'] + ': ' + fault['message']})")


def wait_task(s, task, what):
    if not check(bool(task), f"{what} returns a task"):
        return
    deadline = time.monotonic() + TIMEOUT
    while not s.must("IVMTask_WaitForCompletion", _this=task, timeout=5000) and time.monotonic() < deadline:
        pass
    result = s.must("IVMTask_get_Result", _this=task)
    error = s.must("IVMTask2_get_ErrorDescription", _this=task)
    check(result == 0, f"{what} completes (Result {result}: {error or ''})")


def scenario(url, ca, admin, admin_password, viewer, viewer_password, iso):
    a = Session(url, ca)
    token = a.logon(admin, admin_password)
    check(isinstance(token, str) and len(token) > 20, "Session_Logon returns a token")
    check(a.must("Session_CurrentUser") == admin, "the token authenticates as the administrator")
    ok, fault = Session(url, ca).call("IVMVirtualServer_get_Name")
    check(not ok and fault["hresult"] == E_ACCESSDENIED, f"no token, no access ({'no fault' if ok else fault['name']})")
    expect_fault(a, "IVMVirtualMachine_get_Name", E_INVALIDARG, "E_INVALIDARG", "not-a-vm",
                 "a bad reference faults with E_INVALIDARG naming it", _this="not-a-vm")

    # The disk: a dynamic VHD inside the default VM folder.
    folder = a.must("IVMVirtualServer_get_DefaultVMConfigurationPath")
    vhd = os.path.join(folder, "zeep", "zeep.vhd")
    wait_task(a, a.must("IVMVirtualServer_CreateDynamicVirtualHardDisk", imagePath=vhd, size=64),
              "CreateDynamicVirtualHardDisk")
    check(os.path.isfile(vhd), "the VHD exists")
    vm = a.must("IVMVirtualServer_CreateVirtualMachine", configurationName="zeep-vm", configurationPath="")
    check(bool(vm), "CreateVirtualMachine")
    a.must("IVMVirtualMachine_set_Memory", _this=vm, memory=32)
    check(bool(a.must("IVMVirtualMachine_AddHardDiskConnection", _this=vm, hardDiskPath=vhd, busType=0,
                      busNumber=0, deviceNumber=0)), "AddHardDiskConnection")
    dvd = a.must("IVMVirtualMachine_AddDVDROMDrive", _this=vm, busType=0, busNumber=1, deviceNumber=0)
    a.must("IVMDVDDrive_AttachImage", _this=dvd, imagePath=iso)
    check(a.must("IVMDVDDrive_get_ImageFile", _this=dvd) == iso, "the DVD image is attached")

    # The power cycle, from the event-log sequence number before it.
    mark = a.must("IVMVirtualServer_get_LastEventSequence")
    state = lambda: a.must("IVMVirtualMachine_get_State", _this=vm)  # noqa: E731
    wait_task(a, a.must("IVMVirtualMachine_Startup", _this=vm), "Startup")
    check(state() == RUNNING, "the VM is Running")
    display = a.must("IVMVirtualMachine_get_Display", _this=vm)
    pixels = []
    for _ in range(50):  # the firmware needs a moment to draw something
        answer = a.must("IVMDisplay_get_Thumbnail", _this=display)
        # zeep hands an ArrayOfUnsignedInt over as its list of items.
        pixels = list(answer if isinstance(answer, list) else getattr(answer, "item", None) or [])
        if any(pixels):
            break
        time.sleep(0.2)
    check(len(pixels) == 64 * 48, f"the thumbnail has 64 x 48 pixels ({len(pixels)})")
    check(any(pixels), "the thumbnail is not blank")
    a.must("IVMVirtualMachine_Pause", _this=vm)
    check(state() == PAUSED, "Pause: the VM is Paused")
    a.must("IVMVirtualMachine_Resume", _this=vm)
    check(state() == RUNNING, "Resume: the VM is Running")
    wait_task(a, a.must("IVMVirtualMachine_Save", _this=vm), "Save")
    check(state() == SAVED, "the VM is Saved")
    wait_task(a, a.must("IVMVirtualMachine_Startup", _this=vm), "Startup from the saved state")
    check(state() == RUNNING, "restored and Running")
    wait_task(a, a.must("IVMVirtualMachine_TurnOff", _this=vm), "TurnOff")
    check(state() == TURNED_OFF, "the VM is TurnedOff")

    # Every state change of the cycle, in order: Starting, Running, Paused,
    # Running, Saving, Saved, Starting, Restoring, Running, TurningOff,
    # TurnedOff.
    events = a.must("IVMVirtualServer_GetEvents", afterSequence=mark, maxCount=1000) or []
    states = ",".join(str(e.state) for e in events if e.kind == "OnVMStateChange" and e.object == vm)
    check(states == "3,5,6,5,7,2,3,4,5,8,1", f"the event log has every state in order ({states})")

    # ACLs: the viewer may not read the VM until the administrator allows it.
    v = Session(url, ca)
    v.logon(viewer, viewer_password)
    vm2 = a.must("IVMVirtualServer_CreateVirtualMachine", configurationName="zeep-acl", configurationPath="")
    expect_fault(v, "IVMVirtualMachine_get_Name", E_ACCESSDENIED, "E_ACCESSDENIED", f"'{viewer}' lacks the read right",
                 "the viewer is denied, and told which right", _this=vm2)
    security = a.must("IVMVirtualMachine_get_Security", _this=vm2)
    entry = a.must("IVMSecurity_AddEntry", _this=security, nameOrSid=viewer, type=0)
    a.must("IVMAccessRights_set_ReadAccess", _this=entry, readAccess=True)
    check(v.must("IVMVirtualMachine_get_Name", _this=vm2) == "zeep-acl", "allowed, the viewer reads it")
    expect_fault(v, "IVMVirtualMachine_Startup", E_ACCESSDENIED, "E_ACCESSDENIED", "lacks the execute right",
                 "but may not start it", _this=vm2)

    check(a.must("IVMVirtualServer_DeleteVirtualMachine", virtualMachine=vm) is True, "DeleteVirtualMachine")
    check(a.must("IVMVirtualServer_DeleteVirtualMachine", virtualMachine=vm2) is True,
          "DeleteVirtualMachine (ACL VM)")
    check(vm not in (a.must("IVMVirtualServer_get_VirtualMachines") or []), "the VM is gone")
    a.must("Session_Logoff")
    ok, fault = a.call("IVMVirtualServer_get_Name")
    check(not ok and fault["hresult"] == E_ACCESSDENIED, f"Session_Logoff ends the session ({'no fault' if ok else fault['name']})")


def main():
    if len(sys.argv) != 8:
        print("usage: zeep_scenario_client.py URL CA ADMIN PASSWORD VIEWER PASSWORD ISO", file=sys.stderr)
        return 2
    try:
        scenario(*sys.argv[1:8])
    except Exception as error:  # a transport or client failure ends the scenario
        check(False, f"the scenario runs to its end ({error!r})")
    print(f"{counts['passed']} passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
