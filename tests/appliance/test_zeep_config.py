#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Configuration values, event scripts and locale over SOAP (python3-zeep
against a live vsad with real vsa-vm workers).

Usage: test_zeep_config.py vsad vsa-vhd vsa-vm counter_disk.img kbflags_disk.img

- IVMVirtualServer Get/Set/RemoveConfigurationValue: per-user preferences
  of each VARIANT kind, round trip, remove, missing and bad keys, and that
  another user does not see them.
- IVMVirtualMachine Get/Set/RemoveConfigurationValue: raw .vmc keys, the
  model read back (ram_size is Memory), a value the model refuses, hardware
  keys refused while running; activation values while running and not
  after.
- Attach/Fetch/RemoveScriptFromEvent (server and VM), VM_E_SCRIPT_ALREADY_EXISTS,
  bad events and command lines, administrators only.
- Scripts really run on VM start and turn-off of the counter disk VM
  (tests/progs): a python helper with arguments containing spaces writes
  its argv and the VSA_* environment to a marker file, only when
  VSScriptsEnabled / VMScriptsEnabled are on; a missing program is an
  EventScriptFailed event.
- set_Locale and QueryLocale.
- The BIOS settings as raw keys (hardware/bios/boot_order, num_lock): the
  defaults, a bad order refused, and Num Lock reaching the guest: the
  keyboard-flags disk (tests/progs/kbflags_disk.asm) prints 32.
"""
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeep_support import VsadTestCase, run_tests, make_client, make_counter_vm, strings, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = COUNTER_DISK = KBFLAGS_DISK = None  # argv

LAUNCHED, TURNED_OFF = 2, 5
RUNNING = 5

HELPER = r'''
import json, os, sys
record = {"argv": sys.argv[1:], "env": {k: v for k, v in os.environ.items() if k.startswith("VSA_")},
          "cwd": os.getcwd(), "path": os.environ.get("PATH", "")}
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(record) + "\n")
'''


def records(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


class ConfigTest(VsadTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.scratch = tempfile.mkdtemp(prefix="vsa config test ")  # a space in every path

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.scratch, ignore_errors=True)
        super().tearDownClass()

    def value(self, kind, v):
        field = {"string": "stringValue", "integer": "integerValue", "boolean": "booleanValue",
                 "bytes": "bytesValue"}[kind]
        return {"type": kind, field: v}

    def assert_value(self, got, kind, expected):
        self.assertEqual(got.type, kind)
        field = {"string": got.stringValue, "integer": got.integerValue, "boolean": got.booleanValue,
                 "bytes": got.bytesValue}[kind]
        self.assertEqual(field, expected)

    def test_server_preferences(self):
        s = self.s
        cases = [("ui/theme", "string", "dark blue"), ("ui/refresh_seconds", "integer", 4000000000),
                 ("ui/show[@id=3]/enabled", "boolean", True), ("ui/blob", "bytes", b"\x00\x01\xfe")]
        for key, kind, v in cases:
            s.IVMVirtualServer_SetConfigurationValue(preferenceKey=key, preferenceValue=self.value(kind, v))
        for key, kind, v in cases:
            self.assert_value(s.IVMVirtualServer_GetConfigurationValue(preferenceKey=key), kind, v)
        # Overwrite with another kind, remove, and the key is gone.
        s.IVMVirtualServer_SetConfigurationValue(preferenceKey="ui/theme", preferenceValue=self.value("integer", 7))
        self.assert_value(s.IVMVirtualServer_GetConfigurationValue(preferenceKey="ui/theme"), "integer", 7)
        s.IVMVirtualServer_RemoveConfigurationValue(preferenceKey="ui/theme")
        self.assert_fault(lambda: s.IVMVirtualServer_GetConfigurationValue(preferenceKey="ui/theme"),
                          "VM_E_PREF_NOT_FOUND")
        self.assert_fault(lambda: s.IVMVirtualServer_RemoveConfigurationValue(preferenceKey="ui/theme"),
                          "VM_E_PREF_NOT_FOUND")
        self.assert_fault(lambda: s.IVMVirtualServer_GetConfigurationValue(preferenceKey="no/such/key"),
                          "VM_E_PREF_NOT_FOUND")
        for bad in ("", "a//b", "a/1b", "a[@id=x]", "/".join(["k"] * 30)):
            self.assert_fault(lambda: s.IVMVirtualServer_GetConfigurationValue(preferenceKey=bad), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_SetConfigurationValue(
            preferenceKey="ui/blob/below", preferenceValue=self.value("string", "x")), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_SetConfigurationValue(
            preferenceKey="k", preferenceValue={"type": "integer"}), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_SetConfigurationValue(
            preferenceKey="k", preferenceValue={"type": "float", "stringValue": "1"}), "E_INVALIDARG")
        # Per user: another account has its own (empty) preferences and may
        # not attach scripts.
        s.Accounts_Add(name="carol", password="carol-password-1", administrator=False, groups=strings([]))
        carol = make_client(self.vsad, user="carol", password="carol-password-1").service
        self.assert_fault(lambda: carol.IVMVirtualServer_GetConfigurationValue(preferenceKey="ui/refresh_seconds"),
                          "VM_E_PREF_NOT_FOUND")
        carol.IVMVirtualServer_SetConfigurationValue(preferenceKey="ui/refresh_seconds",
                                                     preferenceValue=self.value("integer", 1))
        self.assert_value(s.IVMVirtualServer_GetConfigurationValue(preferenceKey="ui/refresh_seconds"), "integer",
                          4000000000)
        self.assert_fault(lambda: carol.IVMVirtualServer_AttachScriptToEvent(
            eventType=LAUNCHED, scriptCommandLine="/usr/bin/true"), "E_ACCESSDENIED")
        self.assert_fault(lambda: carol.IVMVirtualServer_set_VSScriptsEnabled(shouldEnable=True), "E_ACCESSDENIED")

    def test_locale(self):
        s = self.s
        self.assertEqual(s.IVMVirtualServer_QueryLocale(inLanguage="da, en-gb;q=0.8, en;q=0.7"), 1033)
        self.assertEqual(s.IVMVirtualServer_QueryLocale(inLanguage="en-US"), 1033)
        self.assertEqual(s.IVMVirtualServer_QueryLocale(inLanguage="fr-FR, de;q=0.5"), 1033)  # the default
        s.IVMVirtualServer_set_Locale(inLocale=1033)
        self.assert_fault(lambda: s.IVMVirtualServer_set_Locale(inLocale=1031), "E_FAIL", text="1031")

    def test_scripts_and_vm_configuration(self):
        s = self.s
        vm, _log, _vsv = make_counter_vm(s, VSA_VHD, COUNTER_DISK, "configvm")

        # Raw .vmc keys: the model's and our own.
        self.assert_value(s.IVMVirtualMachine_GetConfigurationValue(_this=vm, configurationKey="hardware/memory/ram_size"),
                          "integer", 16)
        s.IVMVirtualMachine_SetConfigurationValue(_this=vm, configurationKey="hardware/memory/ram_size",
                                                  configurationValue=self.value("integer", 24))
        self.assertEqual(s.IVMVirtualMachine_get_Memory(_this=vm), 24)  # the model read it back
        self.assert_fault(lambda: s.IVMVirtualMachine_SetConfigurationValue(
            _this=vm, configurationKey="hardware/memory/ram_size", configurationValue=self.value("string", "lots")),
            "E_INVALIDARG")
        self.assertEqual(s.IVMVirtualMachine_get_Memory(_this=vm), 24)
        for key, kind, v in [("customer/owner", "string", "ops team"), ("customer/ticket", "integer", 42),
                             ("customer/flags[@id=1]/on", "boolean", False), ("customer/raw", "bytes", b"\xde\xad")]:
            s.IVMVirtualMachine_SetConfigurationValue(_this=vm, configurationKey=key,
                                                      configurationValue=self.value(kind, v))
            self.assert_value(s.IVMVirtualMachine_GetConfigurationValue(_this=vm, configurationKey=key), kind, v)
        with open(s.IVMVirtualMachine_get_File(_this=vm)) as f:
            self.assertIn("ops team", f.read())  # written to the .vmc
        s.IVMVirtualMachine_RemoveConfigurationValue(_this=vm, configurationKey="customer/owner")
        self.assert_fault(lambda: s.IVMVirtualMachine_GetConfigurationValue(_this=vm, configurationKey="customer/owner"),
                          "VM_E_PREF_NOT_FOUND")
        self.assert_fault(lambda: s.IVMVirtualMachine_RemoveConfigurationValue(_this=vm, configurationKey="customer/owner"),
                          "VM_E_PREF_NOT_FOUND")

        # Scripts: attach, fetch, the "already exists" error, remove.
        marker = os.path.join(self.scratch, "marker file.jsonl")
        helper = os.path.join(self.scratch, "event helper.py")
        with open(helper, "w") as f:
            f.write(HELPER)
        line = f'/usr/bin/python3 "{helper}" "{marker}" \'two words\' plain'
        s.IVMVirtualServer_AttachScriptToEvent(eventType=LAUNCHED, scriptCommandLine=line)
        self.assertEqual(s.IVMVirtualServer_FetchScriptByEvent(eventType=LAUNCHED), line)
        self.assert_fault(lambda: s.IVMVirtualServer_AttachScriptToEvent(eventType=LAUNCHED, scriptCommandLine=line),
                          "VM_E_SCRIPT_ALREADY_EXISTS")
        self.assertIn(s.IVMVirtualServer_FetchScriptByEvent(eventType=TURNED_OFF), ("", None))
        s.IVMVirtualMachine_AttachScriptToEvent(_this=vm, eventType=TURNED_OFF, scriptCommandLine=line)
        self.assert_fault(lambda: s.IVMVirtualMachine_AttachScriptToEvent(_this=vm, eventType=TURNED_OFF,
                                                                          scriptCommandLine=line),
                          "VM_E_SCRIPT_ALREADY_EXISTS")
        self.assertEqual(s.IVMVirtualMachine_FetchScriptByEvent(_this=vm, eventType=TURNED_OFF), line)
        s.IVMVirtualMachine_AttachScriptToEvent(_this=vm, eventType=LAUNCHED, scriptCommandLine="/usr/bin/true")
        s.IVMVirtualMachine_RemoveScriptFromEvent(_this=vm, eventType=LAUNCHED)
        self.assertIn(s.IVMVirtualMachine_FetchScriptByEvent(_this=vm, eventType=LAUNCHED), ("", None))
        for bad_event in (-1, 12):
            self.assert_fault(lambda: s.IVMVirtualServer_AttachScriptToEvent(eventType=bad_event,
                                                                             scriptCommandLine="/usr/bin/true"),
                              "E_INVALIDARG")
            self.assert_fault(lambda: s.IVMVirtualMachine_FetchScriptByEvent(_this=vm, eventType=bad_event),
                              "E_INVALIDARG")
        for bad_line in ("", "touch /tmp/x", '/usr/bin/touch "unterminated'):
            self.assert_fault(lambda: s.IVMVirtualMachine_AttachScriptToEvent(_this=vm, eventType=7,
                                                                              scriptCommandLine=bad_line),
                              "E_INVALIDARG")

        # Disabled (the default): the VM starts and stops, nothing runs.
        self.assertFalse(s.IVMVirtualServer_get_VSScriptsEnabled())
        self.assertFalse(s.IVMVirtualServer_get_VMScriptsEnabled())
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        # Activation values: the session's copy, while it runs.
        self.assert_value(s.IVMVirtualMachine_GetActivationValue(_this=vm, activationKey="hardware/memory/ram_size"),
                          "integer", 24)
        s.IVMVirtualMachine_SetActivationValue(_this=vm, activationKey="session/note",
                                               activationValue=self.value("string", "only now"))
        self.assert_value(s.IVMVirtualMachine_GetActivationValue(_this=vm, activationKey="session/note"),
                          "string", "only now")
        s.IVMVirtualMachine_RemoveActivationValue(_this=vm, activationKey="session/note")
        self.assert_fault(lambda: s.IVMVirtualMachine_GetActivationValue(_this=vm, activationKey="session/note"),
                          "VM_E_PREF_NOT_FOUND")
        self.assert_fault(lambda: s.IVMVirtualMachine_GetConfigurationValue(_this=vm, configurationKey="session/note"),
                          "VM_E_PREF_NOT_FOUND")  # never in the .vmc
        self.assert_fault(lambda: s.IVMVirtualMachine_SetConfigurationValue(
            _this=vm, configurationKey="hardware/memory/ram_size", configurationValue=self.value("integer", 32)),
            "VM_E_PREF_VM_ACTIVE")
        s.IVMVirtualMachine_SetConfigurationValue(_this=vm, configurationKey="customer/ticket",
                                                  configurationValue=self.value("integer", 43))  # any time
        self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))
        self.assert_fault(lambda: s.IVMVirtualMachine_GetActivationValue(_this=vm, activationKey="hardware/memory/ram_size"),
                          "VM_E_PREF_NOT_FOUND", text="not running")
        time.sleep(1.0)  # the dispatcher had the events long ago; give a script the time to write
        self.assertEqual(records(marker), [])

        # Enabled: the server's script on the start, the VM's on the turn-off.
        s.IVMVirtualServer_set_VSScriptsEnabled(shouldEnable=True)
        s.IVMVirtualServer_set_VMScriptsEnabled(shouldEnable=True)
        self.assertTrue(s.IVMVirtualServer_get_VSScriptsEnabled())
        self.assertTrue(s.IVMVirtualServer_get_VMScriptsEnabled())
        s.IVMVirtualMachine_AttachScriptToEvent(_this=vm, eventType=LAUNCHED,
                                                scriptCommandLine="/nonexistent/vsa-test-program --flag")
        mark = max([e.sequence for e in (s.IVMVirtualServer_GetEvents(afterSequence=0, maxCount=1000) or [])] + [0])
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        self.assertTrue(wait_for(lambda: len(records(marker)) >= 1, 20), "the start script did not run")
        started = records(marker)[0]
        self.assertEqual(started["argv"], [marker, "two words", "plain"])
        self.assertEqual(started["env"]["VSA_EVENT"], str(LAUNCHED))
        self.assertEqual(started["env"]["VSA_EVENT_NAME"], "vmEvent_VirtualMachineLaunched")
        self.assertEqual(started["env"]["VSA_SCRIPT_SCOPE"], "server")
        self.assertEqual(started["env"]["VSA_VM_NAME"], "configvm")
        self.assertEqual(started["env"]["VSA_VM_ID"], vm)
        self.assertEqual(started["cwd"], os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm)))

        def failures():
            events = s.IVMVirtualServer_GetEvents(afterSequence=mark, maxCount=1000) or []
            return [e for e in events if e.kind == "EventScriptFailed"]
        self.assertTrue(wait_for(lambda: failures(), 20), "no EventScriptFailed for the missing program")
        self.assertIn("No such file", failures()[0].message)
        self.assertEqual(failures()[0].object, vm)

        self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))
        self.assertTrue(wait_for(lambda: len(records(marker)) >= 2, 20), "the turn-off script did not run")
        stopped = records(marker)[1]
        self.assertEqual(stopped["env"]["VSA_EVENT"], str(TURNED_OFF))
        self.assertEqual(stopped["env"]["VSA_SCRIPT_SCOPE"], "vm")
        self.assertEqual(stopped["argv"], [marker, "two words", "plain"])
        time.sleep(0.5)
        self.assertEqual(len(records(marker)), 2)  # each event once

        s.IVMVirtualServer_RemoveScriptFromEvent(eventType=LAUNCHED)
        s.IVMVirtualMachine_RemoveScriptFromEvent(_this=vm, eventType=TURNED_OFF)
        s.IVMVirtualMachine_RemoveScriptFromEvent(_this=vm, eventType=LAUNCHED)
        self.assertIn(s.IVMVirtualServer_FetchScriptByEvent(eventType=LAUNCHED), ("", None))
        s.IVMVirtualServer_set_VSScriptsEnabled(shouldEnable=False)
        s.IVMVirtualServer_set_VMScriptsEnabled(shouldEnable=False)

    def test_bios_settings(self):
        s = self.s
        vm, log, _vsv = make_counter_vm(s, VSA_VHD, KBFLAGS_DISK, "biosvm")
        get = lambda key: s.IVMVirtualMachine_GetConfigurationValue(_this=vm, configurationKey=key)  # noqa: E731
        self.assert_value(get("hardware/bios/boot_order"), "string", "disk,cdrom,floppy")
        self.assert_value(get("hardware/bios/num_lock"), "boolean", False)
        self.assert_fault(lambda: s.IVMVirtualMachine_SetConfigurationValue(
            _this=vm, configurationKey="hardware/bios/boot_order", configurationValue=self.value("string", "disk,tape")),
            "E_INVALIDARG", text="tape")
        self.assert_value(get("hardware/bios/boot_order"), "string", "disk,cdrom,floppy")
        s.IVMVirtualMachine_SetConfigurationValue(_this=vm, configurationKey="hardware/bios/boot_order",
                                                  configurationValue=self.value("string", "cdrom,disk"))
        s.IVMVirtualMachine_SetConfigurationValue(_this=vm, configurationKey="hardware/bios/num_lock",
                                                  configurationValue=self.value("boolean", True))
        self.assert_value(get("hardware/bios/boot_order"), "string", "cdrom,disk")
        s.IVMVirtualMachine_Startup(_this=vm)

        def flags():
            try:
                with open(log, errors="replace") as f:
                    return [line.strip() for line in f if line.startswith("VSA-KBFLAGS ")]
            except FileNotFoundError:
                return []
        # The disk (after the empty CD drive) boots and reports Num Lock on.
        self.assertTrue(wait_for(lambda: flags(), 30), "no VSA-KBFLAGS line in the COM1 log")
        self.assertEqual(flags(), ["VSA-KBFLAGS 32"])
        # The guest powers off by itself; while it ran, hardware keys were refused.
        wait_for(lambda: s.IVMVirtualMachine_get_State(_this=vm) != RUNNING, 30)


def main():
    global VSAD, VSA_VHD, VSA_VM, COUNTER_DISK, KBFLAGS_DISK
    if len(sys.argv) < 6:
        print("usage: test_zeep_config.py vsad vsa-vhd vsa-vm counter_disk.img kbflags_disk.img", file=sys.stderr)
        return 2
    VSAD, VSA_VHD, VSA_VM, COUNTER_DISK, KBFLAGS_DISK = (os.path.abspath(a) for a in sys.argv[1:6])
    ConfigTest.vsad_binary, ConfigTest.worker_binary = VSAD, VSA_VM
    return run_tests((ConfigTest,))


if __name__ == "__main__":
    sys.exit(main())
