#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A VM's run-as host account over SOAP (issue 11, area "identity"):
IVMVirtualMachine.SetAccountNameAndPassword, AccountName and
RunAsDefinedAccount, with a real host account and a real vsa-vm worker.

Usage: test_zeep_runas.py vsad vsa-vhd vsa-vm counter_disk.img

Needs root (it makes a host account with useradd and chpasswd, and vsad
must be root to start a worker as another account); otherwise it exits
with 77, ctest's skip code, saying why. The account is removed whatever
happens. Checks: a wrong password or an unknown account is E_ACCESSDENIED
and changes nothing; a right one sets AccountName; a startup the account
cannot run (its files are root's, in a 0700 folder) fails with
E_ACCESSDENIED naming the file; once the account owns them the worker runs
with the account's uid and gid (/proc/<pid>/status); without
RunAsDefinedAccount it runs as vsad (root) again.
"""
import os
import pwd
import secrets
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zeep_support import VsadTestCase, read_text, run_tests, make_counter_vm, wait_for, worker_of  # noqa: E402

VSAD = VSA_VHD = VSA_VM = COUNTER_DISK = None  # argv
SKIP = 77
TURNED_OFF, RUNNING = 1, 5
USER = "vsart%05d" % (os.getpid() % 100000)
PASSWORD = "Pw-" + secrets.token_hex(8)


def ids_of(pid):
    """(real, effective, saved, fs uid), likewise gid, and the groups."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return [int(v) for v in fields["Uid"]], [int(v) for v in fields["Gid"]], [int(v) for v in fields["Groups"]]


class RunAsTest(VsadTestCase):
    def test_worker_runs_as_the_account(self):
        s = self.s
        account = pwd.getpwnam(USER)
        vm, _, vsv = make_counter_vm(s, VSA_VHD, COUNTER_DISK, "runas")
        self.assertEqual(s.IVMVirtualMachine_get_AccountName(_this=vm) or "", "")
        self.assertFalse(s.IVMVirtualMachine_get_RunAsDefinedAccount(_this=vm))

        # Refused: wrong password, unknown account, not an account name.
        self.assert_fault(lambda: s.IVMVirtualMachine_SetAccountNameAndPassword(
            _this=vm, accountName=USER, accountPassword="wrong"), "E_ACCESSDENIED")
        self.assert_fault(lambda: s.IVMVirtualMachine_SetAccountNameAndPassword(
            _this=vm, accountName=USER + "x", accountPassword=PASSWORD), "E_ACCESSDENIED")
        self.assert_fault(lambda: s.IVMVirtualMachine_SetAccountNameAndPassword(
            _this=vm, accountName="a/b", accountPassword=PASSWORD), "E_ACCESSDENIED")
        self.assertEqual(s.IVMVirtualMachine_get_AccountName(_this=vm) or "", "")

        s.IVMVirtualMachine_SetAccountNameAndPassword(_this=vm, accountName=USER, accountPassword=PASSWORD)
        self.assertEqual(s.IVMVirtualMachine_get_AccountName(_this=vm), USER)
        s.IVMVirtualMachine_set_RunAsDefinedAccount(_this=vm, runAsDefinedAccountEnabled=True)
        self.assertTrue(s.IVMVirtualMachine_get_RunAsDefinedAccount(_this=vm))
        vmc_path = s.IVMVirtualMachine_get_File(_this=vm)
        with open(vmc_path, encoding="utf-8", errors="replace") as f:
            vmc = f.read()
        self.assertIn(USER, vmc)
        self.assertNotIn(PASSWORD, vmc)

        # The account cannot reach the VM's files yet: a clear refusal.
        message = self.assert_fault(lambda: s.IVMVirtualMachine_Startup(_this=vm), "E_ACCESSDENIED")
        self.assertIn(USER, message)
        self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), TURNED_OFF)

        # Its own folder and disk, reachable through vsad's data folder.
        folder = os.path.dirname(vmc_path)
        path = folder
        while True:
            os.chmod(path, os.stat(path).st_mode | 0o011)
            if os.path.samefile(path, self.vsad.data_dir) or path == "/":
                break
            path = os.path.dirname(path)
        for root, dirs, files in os.walk(folder):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(name, account.pw_uid, account.pw_gid)

        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            self.assertEqual(s.IVMVirtualMachine_get_State(_this=vm), RUNNING)
            self.assertTrue(wait_for(lambda: worker_of(vsv)[0] is not None, limit=10), "no worker process")
            uids, gids, groups = ids_of(worker_of(vsv)[0])
            self.assertEqual(uids, [account.pw_uid] * 4)
            self.assertEqual(gids, [account.pw_gid] * 4)
            self.assertNotIn(0, groups)
        finally:
            self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))

        # Without RunAsDefinedAccount: vsad's account (root) again.
        s.IVMVirtualMachine_set_RunAsDefinedAccount(_this=vm, runAsDefinedAccountEnabled=False)
        self.wait_task(s.IVMVirtualMachine_Startup(_this=vm))
        try:
            self.assertTrue(wait_for(lambda: worker_of(vsv)[0] is not None, limit=10), "no worker process")
            self.assertEqual(ids_of(worker_of(vsv)[0])[0], [0] * 4)
        finally:
            self.wait_task(s.IVMVirtualMachine_TurnOff(_this=vm))

        # "" goes back to the default account, whatever the password.
        s.IVMVirtualMachine_SetAccountNameAndPassword(_this=vm, accountName="", accountPassword="")
        self.assertEqual(s.IVMVirtualMachine_get_AccountName(_this=vm) or "", "")


def stderr_of_vsad():
    return read_text(RunAsTest.vsad.stderr_path) if getattr(RunAsTest, "vsad", None) else ""


def main():
    global VSAD, VSA_VHD, VSA_VM, COUNTER_DISK
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    VSAD, VSA_VHD, VSA_VM, COUNTER_DISK = sys.argv[1:]
    RunAsTest.vsad_binary, RunAsTest.worker_binary = VSAD, VSA_VM
    if os.geteuid() != 0:
        print("skipped: needs root (useradd, and a vsad that may start workers as another account)")
        return SKIP
    if not shutil.which("useradd") or not shutil.which("chpasswd"):
        print("skipped: useradd or chpasswd missing")
        return SKIP
    subprocess.run(["userdel", USER], capture_output=True)  # a leftover of a killed run
    subprocess.run(["useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", USER],
                   check=True)
    try:
        subprocess.run(["chpasswd"], input=f"{USER}:{PASSWORD}\n", text=True, check=True)
        return run_tests([RunAsTest], failure_note=stderr_of_vsad)
    finally:
        subprocess.run(["userdel", USER], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
