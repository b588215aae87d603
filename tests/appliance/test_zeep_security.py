#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Security over SOAP: python3-zeep as three users against a live vsad.

Usage: test_zeep_security.py PATH/TO/vsad

The accounts are made with `vsad user add` before vsad starts: "admin" (an
administrator), "bob" and "carol" (plain users). The administrator creates a
VM and a network; bob is refused reading the VM (the fault names the right),
reads it once an allow entry grants read but is still refused a power
operation (execute); a deny entry for carol wins over the allow entry for her
group; OwnerName is set and read and the owner may then manage the
permissions; CurrentUserAccessRights answers for each user; RemoveEntry takes
a right back; the server's own ACL guards listing and creating VMs; a disk is
secured by its path; and everything survives a restart of vsad. The tests run
in order (test_1 ... test_9) as one scenario.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import zeep.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import ZeepTestCase, run_tests, make_client  # noqa: E402

VSAD_BINARY = None  # argv[1]
PASSWORDS = {"admin": "admin-password-1", "bob": "bob-password-1", "carol": "carol-password-1"}

ALLOW, DENY = 0, 1
RIGHTS = ("ReadAccess", "WriteAccess", "ExecuteAccess", "DeleteAccess", "ReadPermissions", "ChangePermissions")

data_dir = None
vsad = None
vsad_stderr = ""
clients = {}
state = {}  # references handed from one step to the next


def user_tool(*args, password=None):
    done = subprocess.run([VSAD_BINARY, "user", *args, f"--data-dir={data_dir}"] +
                          (["--password-stdin"] if password is not None else []),
                          input=(password + "\n") if password is not None else "",
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"vsad user {args}: {done.stderr}")


def start_vsad():
    global vsad
    vsad = Vsad(VSAD_BINARY, data_dir=data_dir)
    vsad.user, vsad.password = "admin", PASSWORDS["admin"]
    clients.clear()
    for name, password in PASSWORDS.items():
        clients[name] = make_client(vsad, password, user=name).service


def stop_vsad():
    global vsad_stderr
    code = vsad.stop()
    with open(vsad.stderr_path, errors="replace") as f:
        vsad_stderr = f.read()
    return code


def setUpModule():
    global data_dir
    data_dir = tempfile.mkdtemp(prefix="vsad-security-")
    user_tool("add", "admin", "--admin", password=PASSWORDS["admin"])
    user_tool("add", "bob", "--group=operators", password=PASSWORDS["bob"])
    user_tool("add", "carol", password=PASSWORDS["carol"])
    user_tool("groups", "carol", "operators")  # the other way to join a group
    start_vsad()


def tearDownModule():
    if vsad is not None and vsad.alive():
        code = stop_vsad()
        if code != 0:
            raise AssertionError(f"vsad exited with status {code} on SIGTERM")
    if data_dir:
        shutil.rmtree(data_dir, ignore_errors=True)


class SecurityTest(ZeepTestCase):
    def assert_denied(self, call, right, object_text):
        message = self.assert_fault(call, "E_ACCESSDENIED")
        self.assertIn(f"lacks the {right} right", message)
        self.assertIn(object_text, message)

    def rights(self, user, security):
        """The effective rights of `user` on the object of `security`, as a set of names."""
        s = clients[user]
        current = s.IVMSecurity_get_CurrentUserAccessRights(_this=security)
        self.assertEqual(s.IVMAccessRights_get_Name(_this=current), user)
        self.assertEqual(s.IVMAccessRights_get_Type(_this=current), ALLOW)
        return {r for r in RIGHTS if getattr(s, f"IVMAccessRights_get_{r}")(_this=current)}

    def test_1_admin_creates_objects_with_default_permissions(self):
        a = clients["admin"]
        vm = a.IVMVirtualServer_CreateVirtualMachine(configurationName="secvm", configurationPath="")
        net = a.IVMVirtualServer_CreateVirtualNetwork(configurationName="secnet", configurationPath="")
        state.update(vm=vm, net=net)
        vm_security = a.IVMVirtualMachine_get_Security(_this=vm)
        self.assertEqual(vm_security, vm + "#security")
        state["vm_security"] = vm_security
        state["net_security"] = a.IVMVirtualNetwork_get_Security(_this=net)
        state["server_security"] = a.IVMVirtualServer_get_Security()
        # An administrator's objects belong to the Administrators group,
        # which alone is listed, with every right.
        self.assertEqual(a.IVMSecurity_get_OwnerName(_this=vm_security), "Administrators")
        entries = a.IVMSecurity_get_AccessRights(_this=vm_security)
        self.assertEqual(a.IVMAccessRightsCollection_get_Count(_this=entries), 1)
        first = a.IVMAccessRightsCollection_get_Item(_this=entries, index=1)
        self.assertEqual(a.IVMAccessRights_get_Name(_this=first), "Administrators")
        self.assertEqual(a.IVMAccessRights_get_Type(_this=first), ALLOW)
        self.assertTrue(all(getattr(a, f"IVMAccessRights_get_{r}")(_this=first) for r in RIGHTS))
        self.assertEqual(self.rights("admin", vm_security), set(RIGHTS))
        self.assertEqual(self.rights("admin", state["server_security"]), set(RIGHTS))
        self.assert_fault(lambda: a.IVMAccessRightsCollection_get_Item(_this=entries, index=0), "DISP_E_BADINDEX")
        self.assert_fault(lambda: a.IVMAccessRightsCollection_get_Item(_this=entries, index=2), "DISP_E_BADINDEX")

    def test_2_other_users_are_denied_and_told_which_right(self):
        b = clients["bob"]
        vm = state["vm"]
        self.assert_denied(lambda: b.IVMVirtualMachine_get_Memory(_this=vm), "read", 'virtual machine "secvm"')
        self.assert_denied(lambda: b.IVMVirtualMachine_get_Name(_this=vm), "read", vm)
        self.assert_denied(lambda: b.IVMVirtualNetwork_get_Name(_this=state["net"]), "read",
                           'virtual network "secnet"')
        # Parts of a VM are guarded by the VM.
        floppy = clients["admin"].IVMVirtualMachine_get_FloppyDrives(_this=vm)[0]
        self.assert_denied(lambda: b.IVMFloppyDrive_get_Attachment(_this=floppy), "read", "secvm")
        # Reading the permissions needs its own right; asking for one's own
        # rights needs none.
        self.assert_denied(lambda: b.IVMSecurity_get_OwnerName(_this=state["vm_security"]), "read-permissions",
                           "secvm")
        self.assertEqual(self.rights("bob", state["vm_security"]), set())
        # The server: nothing for non-administrators by default.
        self.assert_denied(lambda: b.IVMVirtualServer_get_VirtualMachines(), "read", "the server")
        self.assert_denied(lambda: b.IVMVirtualServer_CreateVirtualMachine(configurationName="bobs",
                                                                             configurationPath=""),
                           "write", "the server")
        # A stale or malformed security reference faults cleanly.
        self.assert_fault(lambda: b.IVMSecurity_get_CurrentUserAccessRights(
            _this="{00000000-0000-0000-0000-000000000001}#security"), "VM_E_VM_UNKNOWN")
        self.assert_fault(lambda: b.IVMSecurity_get_CurrentUserAccessRights(_this="nonsense"), "E_INVALIDARG")

    def test_3_an_allow_entry_grants_read_but_not_execute(self):
        a, b = clients["admin"], clients["bob"]
        vm, security = state["vm"], state["vm_security"]
        entry = a.IVMSecurity_AddEntry(_this=security, nameOrSid="bob", type=ALLOW)
        self.assertEqual(entry, security + "/bob/0")
        state["bob_entry"] = entry
        self.assertFalse(a.IVMAccessRights_get_ReadAccess(_this=entry))  # new entries grant nothing
        a.IVMAccessRights_set_ReadAccess(_this=entry, readAccess=True)
        self.assertTrue(a.IVMAccessRights_get_ReadAccess(_this=entry))

        self.assertEqual(b.IVMVirtualMachine_get_Name(_this=vm), "secvm")
        self.assertEqual(b.IVMVirtualMachine_get_Memory(_this=vm), 128)
        self.assert_denied(lambda: b.IVMVirtualMachine_Startup(_this=vm), "execute", "secvm")
        self.assert_denied(lambda: b.IVMVirtualMachine_set_Memory(_this=vm, memory=256), "write", "secvm")
        self.assert_denied(lambda: b.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=vm), "delete", "secvm")
        self.assertEqual(a.IVMVirtualMachine_get_Memory(_this=vm), 128)  # nothing changed
        self.assertEqual(self.rights("bob", security), {"ReadAccess"})
        # The delete right, given and taken back.
        a.IVMAccessRights_set_DeleteAccess(_this=entry, deleteAccess=True)
        self.assertEqual(self.rights("bob", security), {"ReadAccess", "DeleteAccess"})
        a.IVMAccessRights_set_DeleteAccess(_this=entry, deleteAccess=False)
        self.assertEqual(self.rights("bob", security), {"ReadAccess"})
        a.IVMAccessRights_set_ChangePermissions(_this=entry, changePermissions=True)
        self.assertEqual(self.rights("bob", security), {"ReadAccess", "ChangePermissions"})
        a.IVMAccessRights_set_ChangePermissions(_this=entry, changePermissions=False)
        self.assertEqual(self.rights("bob", security), {"ReadAccess"})

        self.assertEqual(a.IVMSecurity_FindEntry(_this=security, nameOrSid="BOB", type=ALLOW), entry)
        self.assertIn(a.IVMSecurity_FindEntry(_this=security, nameOrSid="bob", type=DENY), ("", None))
        self.assert_fault(lambda: a.IVMSecurity_AddEntry(_this=security, nameOrSid="bob", type=ALLOW),
                          "VM_E_SECURITY_DUPLICATE_USER")
        self.assert_fault(lambda: a.IVMSecurity_AddEntry(_this=security, nameOrSid="nobody", type=ALLOW),
                          "E_INVALIDARG")
        self.assert_fault(lambda: a.IVMSecurity_AddEntry(_this=security, nameOrSid="carol", type=7),
                          "E_INVALIDARG")
        entries = a.IVMSecurity_get_AccessRights(_this=security)
        self.assertEqual(a.IVMAccessRightsCollection_get_Count(_this=entries), 2)
        self.assertEqual(list(a.IVMAccessRightsCollection_get__NewEnum(_this=entries)),
                         [security + "/Administrators/0", entry])
        # bob may not grant himself more.
        self.assert_denied(lambda: b.IVMAccessRights_set_ExecuteAccess(_this=entry, executeAccess=True),
                           "change-permissions", "secvm")
        # Effective rights are read-only.
        current = a.IVMSecurity_get_CurrentUserAccessRights(_this=security)
        self.assert_fault(lambda: a.IVMAccessRights_set_ReadAccess(_this=current, readAccess=False),
                          "E_INVALIDARG")

    def test_4_a_deny_entry_wins_over_a_group_allow(self):
        a, b, c = clients["admin"], clients["bob"], clients["carol"]
        net, security = state["net"], state["net_security"]
        # bob and carol are both in the group operators (vsad user add --group).
        operators = a.IVMSecurity_AddEntry(_this=security, nameOrSid="Operators", type=ALLOW)
        self.assertEqual(operators, security + "/operators/0")  # the name as the accounts spell it
        a.IVMAccessRights_set_ReadAccess(_this=operators, readAccess=True)
        a.IVMAccessRights_set_WriteAccess(_this=operators, writeAccess=True)
        carol_deny = a.IVMSecurity_AddEntry(_this=security, nameOrSid="carol", type=DENY)
        a.IVMAccessRights_set_ReadAccess(_this=carol_deny, readAccess=True)
        self.assertEqual(a.IVMAccessRights_get_Type(_this=carol_deny), DENY)

        self.assertEqual(b.IVMVirtualNetwork_get_Name(_this=net), "secnet")
        self.assert_denied(lambda: c.IVMVirtualNetwork_get_Name(_this=net), "read", "secnet")
        c.IVMVirtualNetwork_set_Notes(_this=net, notes="carol may write")  # only read is denied
        self.assertEqual(a.IVMVirtualNetwork_get_Notes(_this=net), "carol may write")
        self.assertEqual(self.rights("carol", security), {"WriteAccess"})
        self.assertEqual(self.rights("bob", security), {"ReadAccess", "WriteAccess"})
        # Administrators are never locked out.
        admins_deny = a.IVMSecurity_AddEntry(_this=security, nameOrSid="Administrators", type=DENY)
        a.IVMAccessRights_set_ReadAccess(_this=admins_deny, readAccess=True)
        self.assertEqual(a.IVMVirtualNetwork_get_Name(_this=net), "secnet")
        a.IVMSecurity_RemoveEntry(_this=security, entryToDelete=admins_deny)

    def test_5_owner_name_and_the_owners_rights(self):
        a, b, c = clients["admin"], clients["bob"], clients["carol"]
        security = state["vm_security"]
        a.IVMSecurity_set_OwnerName(_this=security, ownerName="bob")
        self.assertEqual(a.IVMSecurity_get_OwnerName(_this=security), "bob")
        # The owner may read and change the permissions without an entry saying so.
        self.assertEqual(b.IVMSecurity_get_OwnerName(_this=security), "bob")
        self.assertEqual(self.rights("bob", security), {"ReadAccess", "ReadPermissions", "ChangePermissions"})
        carol_entry = b.IVMSecurity_AddEntry(_this=security, nameOrSid="carol", type=ALLOW)
        b.IVMAccessRights_set_ExecuteAccess(_this=carol_entry, executeAccess=True)
        self.assertEqual(self.rights("carol", security), {"ExecuteAccess"})
        b.IVMSecurity_RemoveEntry(_this=security, entryToDelete=carol_entry)
        self.assertEqual(self.rights("carol", security), set())
        self.assert_fault(lambda: a.IVMSecurity_set_OwnerName(_this=security, ownerName="nobody"), "E_INVALIDARG")
        self.assert_denied(lambda: c.IVMSecurity_set_OwnerName(_this=security, ownerName="carol"),
                           "change-permissions", "secvm")

    def test_6_remove_entry_takes_the_right_back(self):
        a, b = clients["admin"], clients["bob"]
        security, entry = state["vm_security"], state["bob_entry"]
        a.IVMSecurity_RemoveEntry(_this=security, entryToDelete=entry)
        self.assert_denied(lambda: b.IVMVirtualMachine_get_Name(_this=state["vm"]), "read", "secvm")
        a.IVMSecurity_RemoveEntry(_this=security, entryToDelete=entry)  # already gone: no error (S_FALSE)
        self.assert_fault(lambda: a.IVMAccessRights_get_ReadAccess(_this=entry), "E_INVALIDARG")  # stale
        self.assert_fault(lambda: a.IVMSecurity_RemoveEntry(_this=security,
                                                             entryToDelete=state["net_security"] + "/carol/1"),
                          "E_INVALIDARG")  # an entry of another object
        entries = a.IVMSecurity_get_AccessRights(_this=security)
        self.assertEqual(a.IVMAccessRightsCollection_get_Count(_this=entries), 1)
        # Renaming and retyping an entry moves its reference.
        moved = a.IVMSecurity_AddEntry(_this=security, nameOrSid="carol", type=ALLOW)
        a.IVMAccessRights_set_Name(_this=moved, name="bob")
        a.IVMAccessRights_set_Type(_this=security + "/bob/0", type=DENY)
        self.assertEqual(a.IVMSecurity_FindEntry(_this=security, nameOrSid="bob", type=DENY), security + "/bob/1")
        a.IVMSecurity_RemoveEntry(_this=security, entryToDelete=security + "/bob/1")

    def test_7_the_server_acl_guards_listing_and_creating(self):
        a, b = clients["admin"], clients["bob"]
        server = state["server_security"]
        self.assertEqual(server, "server#security")
        entry = a.IVMSecurity_AddEntry(_this=server, nameOrSid="bob", type=ALLOW)
        a.IVMAccessRights_set_ReadAccess(_this=entry, readAccess=True)
        a.IVMAccessRights_set_WriteAccess(_this=entry, writeAccess=True)
        # Listing needs read on the server, and shows only what bob may read:
        # not secvm (test_6 took his read right on it back).
        self.assertNotIn(state["vm"], b.IVMVirtualServer_get_VirtualMachines() or [])
        self.assertIn(state["vm"], a.IVMVirtualServer_get_VirtualMachines())
        # A VM bob creates is his: he owns it and has every right on it.
        bobs = b.IVMVirtualServer_CreateVirtualMachine(configurationName="bobvm", configurationPath="")
        bobs_security = b.IVMVirtualMachine_get_Security(_this=bobs)
        self.assertEqual(b.IVMSecurity_get_OwnerName(_this=bobs_security), "bob")
        self.assertEqual(self.rights("bob", bobs_security), set(RIGHTS))
        self.assertEqual(self.rights("carol", bobs_security), set())
        # The batched reads check each object as the single reads do: a VM
        # bob may not read answers E_ACCESSDENIED, and its events are left out.
        secret = a.IVMVirtualServer_CreateVirtualMachine(configurationName="secret", configurationPath="")
        values = b.IVMVirtualServer_RetrieveProperties(objects={"item": [secret, bobs]},
                                                       properties={"item": ["Name"]})
        self.assertEqual([(o.object, o.properties.item[0].hresult) for o in values],
                         [(secret, 0x80070005), (bobs, None)])  # None: read without error
        self.assertEqual(values[1].properties.item[0].value, "bobvm")
        self.assertFalse(values[0].properties.item[0].value)
        # So do the listings: bob sees his VM, not the secret one.
        listed = b.IVMVirtualServer_get_VirtualMachines() or []
        self.assertIn(bobs, listed)
        self.assertNotIn(secret, listed)
        self.assertIn(secret, a.IVMVirtualServer_get_VirtualMachines())
        self.assertEqual(b.IVMVirtualMachineCollection_get_Count(_this="server/VirtualMachines"), len(listed))
        seen = [e.object for e in b.IVMVirtualServer_GetEvents(afterSequence=0, maxCount=1000) or []]
        self.assertIn(bobs, seen)
        self.assertNotIn(secret, seen)
        self.assertIn(secret, [e.object for e in a.IVMVirtualServer_GetEvents(afterSequence=0, maxCount=1000)])
        snapshot = b.IVMVirtualServer_WaitForUpdates(sinceSequence=0, timeout=0)
        self.assertNotIn(secret, [o.object for o in snapshot.objects.item])
        self.assertTrue(a.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=secret))
        b.IVMVirtualMachine_set_Memory(_this=bobs, memory=64)
        self.assertTrue(b.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=bobs))
        a.IVMSecurity_RemoveEntry(_this=server, entryToDelete=entry)
        self.assert_denied(lambda: b.IVMVirtualServer_get_VirtualMachines(), "read", "the server")

        # set_Security copies another object's descriptor onto the server.
        a.IVMVirtualServer_set_Security(security=state["net_security"])
        entries = a.IVMSecurity_get_AccessRights(_this=server)
        self.assertEqual(a.IVMAccessRightsCollection_get_Count(_this=entries), 3)
        self.assertTrue(b.IVMVirtualServer_get_Name())  # operators may read now
        self.assert_denied(lambda: clients["carol"].IVMVirtualServer_get_Name(), "read", "the server")
        fresh = a.IVMVirtualServer_CreateVirtualMachine(configurationName="template", configurationPath="")
        a.IVMVirtualServer_set_Security(security=a.IVMVirtualMachine_get_Security(_this=fresh))
        self.assertEqual(a.IVMAccessRightsCollection_get_Count(_this=entries), 1)
        self.assert_denied(lambda: b.IVMVirtualServer_get_Name(), "read", "the server")
        self.assertTrue(a.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=fresh))

    def test_8_disks_are_secured_by_path(self):
        a, b = clients["admin"], clients["bob"]
        folder = a.IVMVirtualServer_get_DefaultVMConfigurationPath()
        disk = os.path.join(folder, "secured.vhd")
        with open(disk, "wb") as f:
            f.write(b"not really a vhd, but a file")
        security = a.IVMHardDisk_get_Security(_this=disk)
        self.assertEqual(security, os.path.realpath(disk) + "#security")
        state["disk_security"] = security
        self.assertEqual(a.IVMSecurity_get_OwnerName(_this=security), "Administrators")
        entry = a.IVMSecurity_AddEntry(_this=security, nameOrSid="bob", type=ALLOW)
        a.IVMAccessRights_set_WriteAccess(_this=entry, writeAccess=True)
        self.assertEqual(self.rights("bob", security), {"WriteAccess"})
        self.assert_denied(lambda: b.IVMSecurity_get_AccessRights(_this=security), "read-permissions",
                           "secured.vhd")
        # Attaching needs write on the VM as well as on the disk.
        self.assert_denied(lambda: b.IVMVirtualMachine_AddHardDiskConnection(
            _this=state["vm"], hardDiskPath=disk, busType=0, busNumber=0, deviceNumber=0), "write", "secvm")
        # Re-linking needs write on the disk and read on the new parent;
        # capturing a host drive, write on the VM (media, like AttachImage).
        parent = os.path.join(folder, "secured-parent.vhd")
        with open(parent, "wb") as f:
            f.write(b"not a vhd either")
        self.assert_denied(lambda: b.IVMHardDisk_set_Parent(_this=disk, parent=parent), "read",
                           "secured-parent.vhd")
        self.assert_denied(lambda: clients["carol"].IVMHardDisk_set_Parent(_this=disk, parent=parent), "write",
                           "secured.vhd")
        dvd = state["vm"] + "/dvd/1:0"
        self.assert_denied(lambda: b.IVMDVDDrive_AttachHostDrive(_this=dvd, driveLetter="sr0"), "write", "secvm")
        self.assert_denied(lambda: b.IVMDVDDrive_ReleaseHostDrive(_this=dvd), "write", "secvm")
        # Everyone: every authenticated user.
        everyone = a.IVMSecurity_AddEntry(_this=security, nameOrSid="Everyone", type=ALLOW)
        a.IVMAccessRights_set_ReadPermissions(_this=everyone, readPermissions=True)
        entries = clients["carol"].IVMSecurity_get_AccessRights(_this=security)
        self.assertEqual(clients["carol"].IVMAccessRightsCollection_get_Count(_this=entries), 3)
        self.assert_fault(lambda: a.IVMHardDisk_get_Security(_this=os.path.join(folder, "missing.vhd")),
                          "E_FILE_NOT_FOUND")
        self.assert_fault(lambda: a.IVMHardDisk_get_Security(_this="/etc/passwd"), "E_ACCESSDENIED")
        self.assert_fault(lambda: a.IVMHardDisk_get_Security(_this="relative.vhd"), "E_BAD_PATHNAME")

        # Startup opens the VM's disks for the caller: bob may start this VM,
        # but not while he may not read (and write) its disk.
        task = a.IVMVirtualServer_CreateDynamicVirtualHardDisk(imagePath=os.path.join(folder, "started.vhd"),
                                                               size=16)
        while not a.IVMTask_WaitForCompletion(_this=task, timeout=5000):
            pass
        started = os.path.join(folder, "started.vhd")
        vm = a.IVMVirtualServer_CreateVirtualMachine(configurationName="diskvm", configurationPath="")
        a.IVMVirtualMachine_AddHardDiskConnection(_this=vm, hardDiskPath=started, busType=0, busNumber=0,
                                                  deviceNumber=0)
        vm_entry = a.IVMSecurity_AddEntry(_this=a.IVMVirtualMachine_get_Security(_this=vm), nameOrSid="bob",
                                          type=ALLOW)
        a.IVMAccessRights_set_ExecuteAccess(_this=vm_entry, executeAccess=True)
        disk_security = a.IVMHardDisk_get_Security(_this=started)
        disk_entry = a.IVMSecurity_AddEntry(_this=disk_security, nameOrSid="bob", type=ALLOW)
        a.IVMAccessRights_set_ReadAccess(_this=disk_entry, readAccess=True)
        self.assert_denied(lambda: b.IVMVirtualMachine_Startup(_this=vm), "write", "started.vhd")
        a.IVMVirtualMachine_set_Undoable(_this=vm, enableUndo=True)  # the base is then only read
        try:
            task = b.IVMVirtualMachine_Startup(_this=vm)
            while not a.IVMTask_WaitForCompletion(_this=task, timeout=5000):
                pass
        except zeep.exceptions.Fault as fault:  # the VM may fail to start here: any failure but a denial
            self.assertNotIn("access denied", fault.message)
        if a.IVMVirtualMachine_get_State(_this=vm) != 1:  # TurnedOff
            task = a.IVMVirtualMachine_TurnOff(_this=vm)
            while not a.IVMTask_WaitForCompletion(_this=task, timeout=5000):
                pass
        a.IVMVirtualMachine_DiscardUndoDisks(_this=vm)
        a.IVMVirtualMachine_set_Undoable(_this=vm, enableUndo=False)
        a.IVMAccessRights_set_ReadAccess(_this=disk_entry, readAccess=False)
        a.IVMAccessRights_set_WriteAccess(_this=disk_entry, writeAccess=True)
        self.assert_denied(lambda: b.IVMVirtualMachine_Startup(_this=vm), "read", "started.vhd")
        self.assertTrue(a.IVMVirtualServer_DeleteVirtualMachine(virtualMachine=vm))

    def test_9_permissions_survive_a_restart_and_denials_are_logged(self):
        self.assertEqual(stop_vsad(), 0)
        self.assertIn("lacks the execute right", vsad_stderr)
        start_vsad()
        a, b, c = clients["admin"], clients["bob"], clients["carol"]
        self.assertEqual(a.IVMSecurity_get_OwnerName(_this=state["vm_security"]), "bob")
        self.assert_denied(lambda: b.IVMVirtualMachine_get_Name(_this=state["vm"]), "read", "secvm")
        self.assertEqual(b.IVMVirtualNetwork_get_Name(_this=state["net"]), "secnet")
        self.assert_denied(lambda: c.IVMVirtualNetwork_get_Name(_this=state["net"]), "read", "secnet")
        deny = a.IVMSecurity_FindEntry(_this=state["net_security"], nameOrSid="carol", type=DENY)
        self.assertTrue(a.IVMAccessRights_get_ReadAccess(_this=deny))
        self.assertEqual(self.rights("bob", state["disk_security"]), {"WriteAccess", "ReadPermissions"})
        self.assert_denied(lambda: b.IVMVirtualServer_get_Name(), "read", "the server")


def main():
    global VSAD_BINARY
    if len(sys.argv) < 2:
        print("usage: test_zeep_security.py PATH/TO/vsad", file=sys.stderr)
        return 2
    VSAD_BINARY = os.path.abspath(sys.argv[1])
    return run_tests((SecurityTest,), failfast=True, failure_note=lambda: vsad_stderr)


if __name__ == "__main__":
    sys.exit(main())
