#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Identity over SOAP (issue 11, area "identity"), python3-zeep against a
live vsad that runs real vsa-vm workers:
- a VM's SMBIOS identity: IVMVirtualMachine.BIOSGUID, BIOSSerialNumber,
  BaseBoardSerialNumber, ChassisSerialNumber, ChassisAssetTag;
- SIDs and the binary descriptor: IVMSecurity.OwnerSid, GroupName, GroupSid,
  _ToSecurityDescriptor, IVMAccessRights.Sid, Flags, SpecialAccess,
  _GetAccessMask, and SID strings where names are taken; the SIDs must
  survive a restart of vsad.

Usage: test_zeep_identity.py vsad vsa-vhd vsa-vm smbios_disk.img

The guest (tests/progs/smbios_disk.asm) finds the SMBIOS entry point in
F0000h-FFFFFh, walks the tables SeaBIOS published from the worker's fw_cfg
files, and prints the type 0 vendor, type 1 serial and UUID, type 2 serial,
type 3 serial and asset tag on COM1 (the VM's default log): they must be
what SOAP set, or what the first boot drew for the ones left empty. Kept
short: it runs under ASan in the default suite.
"""
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import VsadTestCase, run_tests, make_client, make_counter_vm, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = SMBIOS_DISK = None  # argv

TURNED_OFF = 1
ALLOW, DENY = 0, 1
ADMINS, EVERYONE = "S-1-5-32-544", "S-1-1-0"
ACCOUNT_SID = re.compile(r"^S-1-5-21-\d+-\d+-\d+-(\d+)$")
GUID = re.compile(r"^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$")
SERIAL = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{4}-\d{4}-\d{4}-\d{2}$")
PROPS = ["BIOSGUID", "BIOSSerialNumber", "BaseBoardSerialNumber", "ChassisSerialNumber", "ChassisAssetTag"]
ARGS = {"BIOSGUID": "biosGUID", "BIOSSerialNumber": "biosSerialNumber",
        "BaseBoardSerialNumber": "baseBoardSerialNumber", "ChassisSerialNumber": "chassisSerialNumber",
        "ChassisAssetTag": "chassisAssetTag"}


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("ascii", "replace")
    except OSError:
        return ""


def last_report(log):
    """The key=value lines of the guest's last complete report, or None."""
    text = read_text(log)
    start = text.rfind("VSA-SMBIOS\n")
    if start < 0 or "VSA-SMBIOS-END" not in text[start:]:
        return None
    block = text[start:text.index("VSA-SMBIOS-END", start)]
    if "VSA-SMBIOS-FAIL" in block:
        return {"FAIL": block}
    return dict(line.split("=", 1) for line in block.splitlines() if "=" in line)


class IdentityTest(VsadTestCase):
    def get(self, vm, prop):
        return getattr(self.s, "IVMVirtualMachine_get_" + prop)(_this=vm) or ""  # zeep: "" reads as None

    def set(self, vm, prop, value):
        return getattr(self.s, "IVMVirtualMachine_set_" + prop)(_this=vm, **{ARGS[prop]: value})

    def boot_and_read(self, vm, log, boots):
        """Starts the VM, waits for the guest's report number `boots` and
        turns the VM off; returns the report."""
        s = self.s
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            self.assertTrue(wait_for(lambda: read_text(log).count("VSA-SMBIOS-END") >= boots, limit=30),
                            "no SMBIOS report from the guest: " + read_text(log)[-500:])
            return last_report(log)
        finally:
            if s.IVMVirtualMachine_get_State(_this=vm) != TURNED_OFF:
                self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))

    def test_strings_reach_the_guest(self):
        s = self.s
        vm, log, _ = make_counter_vm(s, VSA_VHD, SMBIOS_DISK, "identity")
        # A new VM: all empty ("empty until first boot").
        self.assertEqual([self.get(vm, p) for p in PROPS], [""] * 5)

        # Form checks (E_INVALIDARG), nothing changes.
        self.assert_fault(lambda: self.set(vm, "BIOSGUID", "not-a-guid"), "E_INVALIDARG")
        self.assert_fault(lambda: self.set(vm, "BIOSGUID", "00112233-4455-6677-8899-AABBCCDDEEFF"), "E_INVALIDARG")
        self.assert_fault(lambda: self.set(vm, "BIOSSerialNumber", "x" * 33), "E_INVALIDARG")
        self.assert_fault(lambda: self.set(vm, "ChassisAssetTag", "tab\there"), "E_INVALIDARG")
        self.assert_fault(lambda: self.s.IVMVirtualMachine_get_BIOSGUID(_this="{00000000-0000-0000-0000-000000000001}"),
                          "VM_E_VM_UNKNOWN")
        self.assertEqual(self.get(vm, "BIOSSerialNumber"), "")

        # Three set by the client (32 characters: the limit), two left to
        # the first boot.
        self.set(vm, "BIOSSerialNumber", "SYS-" + "S" * 28)
        self.set(vm, "BaseBoardSerialNumber", "Board 0042")
        self.set(vm, "ChassisAssetTag", "Asset #7 (rack 3)")
        self.assertEqual(self.get(vm, "BIOSSerialNumber"), "SYS-" + "S" * 28)
        self.assertEqual(self.get(vm, "BIOSGUID"), "")

        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            # Made at first boot, written before the worker started.
            guid = self.get(vm, "BIOSGUID")
            self.assertRegex(guid, GUID)
            self.assertRegex(self.get(vm, "ChassisSerialNumber"), SERIAL)
            self.assertEqual(self.get(vm, "BaseBoardSerialNumber"), "Board 0042")
            # Not settable while the VM runs (vs-api.md section 9).
            for prop in PROPS:
                value = "{00112233-4455-6677-8899-AABBCCDDEEFF}" if prop == "BIOSGUID" else "changed"
                self.assert_fault(lambda: self.set(vm, prop, value), "VM_E_VM_RUNNING")
            self.assertTrue(wait_for(lambda: "VSA-SMBIOS-END" in read_text(log), limit=30),
                            "no SMBIOS report from the guest: " + read_text(log)[-500:])
        finally:
            self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))
        report = last_report(log)
        self.assertNotIn("FAIL", report)
        self.assertEqual(report["BIOS-VENDOR"], "SeaBIOS")  # type 0: the BIOS's own
        self.assertEqual(report["UUID"], guid.strip("{}"))
        self.assertEqual(report["SYSTEM-SERIAL"], "SYS-" + "S" * 28)
        self.assertEqual(report["BOARD-SERIAL"], "Board 0042")
        self.assertEqual(report["CHASSIS-SERIAL"], self.get(vm, "ChassisSerialNumber"))
        self.assertEqual(report["ASSET-TAG"], "Asset #7 (rack 3)")

        # Kept in the .vmc; a client's new values (a GUID in any case) and
        # "" (drawn again at the next boot) reach the guest.
        vmc = read_text(s.IVMVirtualMachine_get_File(_this=vm))
        self.assertIn(guid, vmc)
        self.assertIn("Asset #7 (rack 3)", vmc)
        board = "{A0B1C2D3-E4F5-0617-2839-4A5B6C7D8E9F}"
        self.set(vm, "BIOSGUID", board.lower())
        self.assertEqual(self.get(vm, "BIOSGUID"), board)
        self.set(vm, "BaseBoardSerialNumber", "")
        self.set(vm, "ChassisSerialNumber", "CH-0002")
        report = self.boot_and_read(vm, log, 2)
        self.assertNotIn("FAIL", report)
        self.assertEqual(report["UUID"], board.strip("{}"))
        self.assertEqual(report["CHASSIS-SERIAL"], "CH-0002")
        self.assertRegex(report["BOARD-SERIAL"], SERIAL)
        self.assertEqual(report["BOARD-SERIAL"], self.get(vm, "BaseBoardSerialNumber"))


def decode_sid(data, at):
    """(SID string, size) of the binary SID at `at`."""
    revision, count = data[at], data[at + 1]
    assert revision == 1, revision
    authority = int.from_bytes(data[at + 2:at + 8], "big")
    subs = struct.unpack_from("<%dI" % count, data, at + 8)
    return "S-1-%d" % authority + "".join("-%d" % v for v in subs), 8 + 4 * count


class SidsTest(VsadTestCase):
    def test_sids_flags_and_the_binary_descriptor(self):
        s = self.service
        user = self.vsad.user
        vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName="sids", configurationPath="")
        sec = s.IVMVirtualMachine_get_Security(_this=vm)
        # Built-in groups: well-known SIDs. An administrator's VM belongs
        # to Administrators, whose primary group it is too.
        self.assertEqual(s.IVMSecurity_get_OwnerName(_this=sec), "Administrators")
        self.assertEqual(s.IVMSecurity_get_OwnerSid(_this=sec), ADMINS)
        self.assertEqual(s.IVMSecurity_get_GroupName(_this=sec), "Administrators")
        self.assertEqual(s.IVMSecurity_get_GroupSid(_this=sec), ADMINS)

        # An account: a SID of this appliance's domain, RID from 1000.
        entry = s.IVMSecurity_AddEntry(_this=sec, nameOrSid=user, type=ALLOW)
        user_sid = s.IVMAccessRights_get_Sid(_this=entry)
        self.assertGreaterEqual(int(ACCOUNT_SID.match(user_sid).group(1)), 1000)
        # A SID is taken where a name is.
        deny = s.IVMSecurity_AddEntry(_this=sec, nameOrSid=EVERYONE, type=DENY)
        self.assertEqual(s.IVMAccessRights_get_Name(_this=deny), "Everyone")
        self.assertEqual(s.IVMSecurity_FindEntry(_this=sec, nameOrSid=user_sid, type=ALLOW), entry)
        self.assert_fault(lambda: s.IVMSecurity_AddEntry(_this=sec, nameOrSid=user_sid, type=ALLOW),
                          "VM_E_SECURITY_DUPLICATE_USER")
        self.assert_fault(lambda: s.IVMSecurity_AddEntry(_this=sec, nameOrSid="S-1-5-21-1-2-3-999999", type=ALLOW),
                          "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMSecurity_AddEntry(_this=sec, nameOrSid="S-1-x", type=ALLOW), "E_INVALIDARG")

        # Owner and primary group by SID and by name.
        s.IVMSecurity_set_OwnerSid(_this=sec, ownerSid=user_sid)
        self.assertEqual(s.IVMSecurity_get_OwnerName(_this=sec), user)
        self.assert_fault(lambda: s.IVMSecurity_set_OwnerSid(_this=sec, ownerSid="Administrators"), "E_INVALIDARG")
        s.IVMSecurity_set_GroupName(_this=sec, groupName=user)
        self.assertEqual(s.IVMSecurity_get_GroupSid(_this=sec), user_sid)
        s.IVMSecurity_set_GroupSid(_this=sec, groupSid=EVERYONE)
        self.assertEqual(s.IVMSecurity_get_GroupName(_this=sec), "Everyone")
        self.assert_fault(lambda: s.IVMSecurity_set_GroupName(_this=sec, groupName="nobody-here"), "E_INVALIDARG")

        # Flags: a byte, kept; SpecialAccess: none here, none can be made.
        s.IVMAccessRights_set_Flags(_this=entry, flags=3)
        self.assertEqual(s.IVMAccessRights_get_Flags(_this=entry), 3)
        self.assert_fault(lambda: s.IVMAccessRights_set_Flags(_this=entry, flags=256), "E_INVALIDARG")
        self.assertFalse(s.IVMAccessRights_get_SpecialAccess(_this=entry))
        self.assert_fault(lambda: s.IVMAccessRights_set_SpecialAccess(_this=entry, specialAccess=True),
                          "E_INVALIDARG")
        s.IVMAccessRights_set_SpecialAccess(_this=entry, specialAccess=False)

        # Access masks: generic bits, or the caller's mapping.
        s.IVMAccessRights_set_ReadAccess(_this=entry, readAccess=True)
        s.IVMAccessRights_set_ExecuteAccess(_this=entry, executeAccess=True)
        s.IVMAccessRights_set_DeleteAccess(_this=deny, deleteAccess=True)
        none = {"GenericRead": 0, "GenericWrite": 0, "GenericExecute": 0, "GenericAll": 0}
        mapping = {"GenericRead": 0x1, "GenericWrite": 0x2, "GenericExecute": 0x4, "GenericAll": 0x8}
        self.assertEqual(s.IVMAccessRights__GetAccessMask(_this=entry, genericMapping=none), 0xA0000000)
        self.assertEqual(s.IVMAccessRights__GetAccessMask(_this=entry, genericMapping=mapping), 0x5)
        self.assertEqual(s.IVMAccessRights__GetAccessMask(_this=deny, genericMapping=mapping), 0x10000)

        # The self-relative SECURITY_DESCRIPTOR, decoded field by field.
        data = s.IVMSecurity__ToSecurityDescriptor(_this=sec, genericMapping=mapping)
        revision, _, control, owner_at, group_at, sacl_at, dacl_at = struct.unpack_from("<BBHIIII", data, 0)
        self.assertEqual((revision, control, sacl_at), (1, 0x8004, 0))
        self.assertEqual(decode_sid(data, owner_at)[0], user_sid)
        self.assertEqual(decode_sid(data, group_at)[0], EVERYONE)
        acl_revision, _, acl_size, count, _ = struct.unpack_from("<BBHHH", data, dacl_at)
        self.assertEqual((acl_revision, acl_size, count), (2, len(data) - dacl_at,
                                                           s.IVMAccessRightsCollection_get_Count(
                                                               _this=s.IVMSecurity_get_AccessRights(_this=sec))))
        aces, at = [], dacl_at + 8
        for _ in range(count):
            kind, flags, size, mask = struct.unpack_from("<BBHI", data, at)
            aces.append((kind, flags, mask, decode_sid(data, at + 8)[0]))
            at += size
        self.assertEqual(at, len(data))
        self.assertEqual(aces[0], (1, 0, 0x10000, EVERYONE))  # deny first (canonical order)
        self.assertIn((0, 3, 0x5, user_sid), aces)
        self.assertIn((0, 0, 0x10000 | 0x20000 | 0x40000 | 0x7, ADMINS), aces)

        # The SIDs survive a restart of vsad (the machine domain and RIDs
        # are kept), and so do the flags and the primary group.
        password = self.vsad.password
        self.assertEqual(self.vsad.stop(), 0)
        type(self).vsad = Vsad(VSAD, data_dir=self.vsad.data_dir, defines={"vm.worker_binary": VSA_VM})
        self.vsad.password = password
        s = make_client(self.vsad).service
        self.assertEqual(s.IVMAccessRights_get_Sid(_this=entry), user_sid)
        self.assertEqual(s.IVMSecurity_get_OwnerSid(_this=sec), user_sid)
        self.assertEqual(s.IVMAccessRights_get_Flags(_this=entry), 3)
        self.assertEqual(s.IVMSecurity_get_GroupSid(_this=sec), EVERYONE)
        # Moving an entry by SID.
        s.IVMAccessRights_set_Sid(_this=deny, sid=ADMINS)
        self.assertTrue(s.IVMSecurity_FindEntry(_this=sec, nameOrSid="Administrators", type=DENY))


def main():
    global VSAD, VSA_VHD, VSA_VM, SMBIOS_DISK
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    VSAD, VSA_VHD, VSA_VM, SMBIOS_DISK = sys.argv[1:]
    for case in (SidsTest, IdentityTest):
        case.vsad_binary, case.worker_binary = VSAD, VSA_VM
    return run_tests([SidsTest, IdentityTest], failure_note=lambda: "".join(
        read_text(case.vsad.stderr_path) for case in (SidsTest, IdentityTest) if getattr(case, "vsad", None)))


if __name__ == "__main__":
    sys.exit(main())
