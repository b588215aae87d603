#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The appliance's accounts over SOAP (the Accounts_* extension), python3-zeep
against a live vsad.

Usage: test_zeep_accounts.py PATH/TO/vsad

The first administrator ("admin", made by vsad on its first start) adds
"alice"; she can log on but not manage accounts (E_ACCESSDENIED); bad names,
short passwords and built-in groups are refused with E_INVALIDARG and a
duplicate with E_ALREADY_EXISTS; alice changes her own password (the old one
stops working at once, also over HTTP Basic, whose verified credentials vsad
caches, and her old sessions end; she gets a new token); admin resets it (her
sessions end again); her groups are set, listed and usable in an ACL; the
last administrator can be neither demoted nor removed, nor can an
administrator remove their own account; alice is removed (her logon and token
are refused); and the accounts survive a restart of vsad. The tests run in
order (test_1 ... test_9) as one scenario.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import zeep
import zeep.exceptions

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import TIMEOUT, ZeepTestCase, fault_node, make_client, run_tests, strings  # noqa: E402
from zeep.transports import Transport  # noqa: E402

NS = "urn:vsa:virtualserver:1"
VSAD_BINARY = None  # argv[1]
# Failed logons are part of the scenario: no delay, and no lockout of
# 127.0.0.1 halfway through. The credential cache keeps its default (300 s),
# so the test shows that a password change is not hidden by it.
DEFINES = {"auth.max_failures": "1000", "auth.failure_delay_ms": "0"}

data_dir = None
vsad = None
vsad_stderr = ""
state = {}


class StatusTransport(Transport):
    """Remembers the HTTP status of the last SOAP POST."""

    last_status = None

    def post_xml(self, *args, **kwargs):
        response = super().post_xml(*args, **kwargs)
        self.last_status = response.status_code
        return response


def client_as(user, password):
    """A zeep service authenticating with HTTP Basic as user/password (the
    WSDL is read as the administrator, so a client with a wrong password can
    still be built)."""
    client = make_client(vsad, transport_class=StatusTransport)
    client.transport.session.auth = (user, password) if user else None
    return client


def start_vsad():
    global vsad
    vsad = Vsad(VSAD_BINARY, data_dir=data_dir, defines=DEFINES)
    if "admin_password" in state:  # a restart: the first start printed it
        vsad.password = state["admin_password"]
    state["admin_password"] = vsad.password


def stop_vsad():
    global vsad_stderr
    code = vsad.stop()
    with open(vsad.stderr_path, errors="replace") as f:
        vsad_stderr = f.read()
    return code


def setUpModule():
    global data_dir
    data_dir = tempfile.mkdtemp(prefix="vsad-accounts-")
    start_vsad()


def tearDownModule():
    if vsad is not None and vsad.alive():
        code = stop_vsad()
        if code != 0:
            raise AssertionError(f"vsad exited with status {code} on SIGTERM")
    if data_dir:
        shutil.rmtree(data_dir, ignore_errors=True)


class AccountsTest(ZeepTestCase):
    @property
    def admin(self):
        if "admin" not in state:
            state["admin"] = client_as("admin", state["admin_password"])
        return state["admin"].service

    def accounts(self):
        return {a.name: (a.administrator, list(a.groups.item) if a.groups else [])
                for a in self.admin.Accounts_List()}

    def assert_refused(self, client, call):
        """The call is refused as unauthenticated: HTTP 401 with E_ACCESSDENIED."""
        client.transport.last_status = None
        try:
            call()
        except zeep.exceptions.TransportError as e:
            self.assertEqual(e.status_code, 401)
        except zeep.exceptions.Fault as e:
            self.assertEqual(client.transport.last_status, 401)
            self.assertEqual(fault_node(e).findtext(f"{{{NS}}}hresultName"), "E_ACCESSDENIED")
        else:
            self.fail("the call was accepted")

    def test_1_first_administrator_is_listed(self):
        self.assertEqual(self.accounts(), {"admin": (True, [])})

    def test_2_add_user_who_can_log_on(self):
        self.admin.Accounts_Add(name="alice", password="alice-password-1", administrator=False,
                                groups=strings(["operators", "web"]))
        self.assertEqual(self.accounts()["alice"], (False, ["operators", "web"]))
        alice = client_as("alice", "alice-password-1")
        self.assertEqual(alice.service.Session_CurrentUser(), "alice")
        # a session token, to see it end with the password change
        tokens = client_as(None, None)
        state["alice_token"] = tokens.service.Session_Logon(userName="alice", password="alice-password-1")
        state["alice"] = alice
        state["tokens"] = tokens
        tokens.transport.session.cookies.clear()
        self.assertEqual(tokens.service.Session_CurrentUser(_soapheaders={"SessionToken": state["alice_token"]}),
                         "alice")

    def test_3_user_cannot_manage_accounts(self):
        self.s = state["alice"].service
        s = self.s
        for call in (lambda: s.Accounts_List(),
                     lambda: s.Accounts_Add(name="mallory", password="mallory-pass", administrator=True,
                                            groups=strings([])),
                     lambda: s.Accounts_Remove(name="admin"),
                     lambda: s.Accounts_SetGroups(name="alice", groups=strings(["admins"])),
                     lambda: s.Accounts_SetAdministrator(name="alice", administrator=True),
                     lambda: s.Accounts_SetPassword(name="admin", password="taken-over-1")):
            self.assert_fault(call, "E_ACCESSDENIED", text="is not an administrator")
        self.assertNotIn("mallory", self.accounts())
        self.assertEqual(self.accounts()["alice"], (False, ["operators", "web"]))

    def test_4_bad_input_gets_clear_faults(self):
        self.s = a = self.admin
        add = a.Accounts_Add
        self.assert_fault(lambda: add(name="", password="long-enough-1", administrator=False, groups=strings([])),
                          "E_INVALIDARG", text="invalid account name")
        self.assert_fault(lambda: add(name="bad name!", password="long-enough-1", administrator=False,
                                      groups=strings([])), "E_INVALIDARG", text="invalid account name")
        self.assert_fault(lambda: add(name="-dash", password="long-enough-1", administrator=False,
                                      groups=strings([])), "E_INVALIDARG", text="invalid account name")
        self.assert_fault(lambda: add(name="x" * 65, password="long-enough-1", administrator=False,
                                      groups=strings([])), "E_INVALIDARG", text="at most 64")
        self.assert_fault(lambda: add(name="bob", password="short", administrator=False, groups=strings([])),
                          "E_INVALIDARG", text="shorter than 8")
        self.assert_fault(lambda: add(name="bob", password="long-enough-1", administrator=False,
                                      groups=strings(["Administrators"])), "E_INVALIDARG", text="built-in group")
        self.assert_fault(lambda: add(name="bob", password="long-enough-1", administrator=False,
                                      groups=strings(["a/b"])), "E_INVALIDARG", text="invalid group name")
        self.assert_fault(lambda: add(name="ALICE", password="long-enough-1", administrator=False,
                                      groups=strings([])), "E_ALREADY_EXISTS", text="already exists")
        self.assert_fault(lambda: a.Accounts_SetPassword(name="nobody", password="long-enough-1"),
                          "E_INVALIDARG", text="no account 'nobody'")
        self.assert_fault(lambda: a.Accounts_SetPassword(name="alice", password="short"),
                          "E_INVALIDARG", text="shorter than 8")
        self.assert_fault(lambda: a.Accounts_SetGroups(name="nobody", groups=strings([])), "E_INVALIDARG")
        self.assert_fault(lambda: a.Accounts_SetAdministrator(name="nobody", administrator=True), "E_INVALIDARG")
        self.assert_fault(lambda: a.Accounts_Remove(name="nobody"), "E_INVALIDARG", text="no account")
        self.assertEqual(set(self.accounts()), {"admin", "alice"})

    def test_5_change_own_password(self):
        alice = state["alice"]
        self.s = s = alice.service
        self.assert_fault(lambda: s.Accounts_ChangeOwnPassword(currentPassword="wrong-password",
                                                               newPassword="alice-password-2"),
                          "E_ACCESSDENIED", text="current password is wrong")
        self.assert_fault(lambda: s.Accounts_ChangeOwnPassword(currentPassword="alice-password-1",
                                                               newPassword="short"),
                          "E_INVALIDARG", text="shorter than 8")
        # Still the old password: both refusals changed nothing.
        self.assertEqual(s.Session_CurrentUser(), "alice")
        token = s.Accounts_ChangeOwnPassword(currentPassword="alice-password-1", newPassword="alice-password-2")
        self.assertGreaterEqual(len(token), 40)
        # The old password is refused at once, though vsad had cached it
        # (this client used it over Basic a moment ago).
        self.assert_refused(alice, lambda: s.Session_CurrentUser())
        # Her old session ended; the new token works.
        tokens = state["tokens"]
        tokens.transport.session.cookies.clear()
        self.assert_refused(tokens, lambda: tokens.service.Session_CurrentUser(
            _soapheaders={"SessionToken": state["alice_token"]}))
        tokens.transport.session.cookies.clear()
        self.assertEqual(tokens.service.Session_CurrentUser(_soapheaders={"SessionToken": token}), "alice")
        state["alice_token"] = token
        state["alice"] = client_as("alice", "alice-password-2")
        self.assertEqual(state["alice"].service.Session_CurrentUser(), "alice")

    def test_6_administrator_resets_a_password(self):
        self.admin.Accounts_SetPassword(name="Alice", password="alice-password-3")  # any spelling
        self.assert_refused(state["alice"], lambda: state["alice"].service.Session_CurrentUser())
        tokens = state["tokens"]
        tokens.transport.session.cookies.clear()
        self.assert_refused(tokens, lambda: tokens.service.Session_CurrentUser(
            _soapheaders={"SessionToken": state["alice_token"]}))
        state["alice"] = client_as("alice", "alice-password-3")
        self.assertEqual(state["alice"].service.Session_CurrentUser(), "alice")

    def test_7_groups_are_set_listed_and_used(self):
        a = self.admin
        a.Accounts_SetGroups(name="alice", groups=strings(["auditors"]))
        self.assertEqual(self.accounts()["alice"], (False, ["auditors"]))
        # The group exists for the access control lists now: an entry for it
        # can be added, and alice gets its rights on her next request.
        security = a.IVMVirtualServer_get_Security()
        entry = a.IVMSecurity_AddEntry(_this=security, nameOrSid="auditors", type=0)
        a.IVMAccessRights_set_ReadAccess(_this=entry, readAccess=True)
        s = state["alice"].service
        current = s.IVMSecurity_get_CurrentUserAccessRights(_this=security)
        self.assertTrue(s.IVMAccessRights_get_ReadAccess(_this=current))
        a.Accounts_SetGroups(name="alice", groups=strings([]))
        self.assertEqual(self.accounts()["alice"], (False, []))
        current = s.IVMSecurity_get_CurrentUserAccessRights(_this=security)
        self.assertFalse(s.IVMAccessRights_get_ReadAccess(_this=current))
        a.IVMSecurity_RemoveEntry(_this=security, entryToDelete=entry)

    def test_8_the_last_administrator_stays(self):
        self.s = a = self.admin
        self.assert_fault(lambda: a.Accounts_SetAdministrator(name="admin", administrator=False),
                          "E_ACCESSDENIED", text="last administrator")
        self.assert_fault(lambda: a.Accounts_Remove(name="ADMIN"), "E_ACCESSDENIED", text="your own account")
        # A second administrator may demote the first; then she is the last.
        a.Accounts_SetAdministrator(name="alice", administrator=True)
        self.assertEqual(self.accounts()["alice"], (True, []))
        alice = state["alice"].service
        self.assertEqual(len(alice.Accounts_List()), 2)  # an administrator now, at once
        alice.Accounts_SetAdministrator(name="admin", administrator=False)
        self.assertEqual(self.accounts_as(alice), {"admin": (False, []), "alice": (True, [])})
        self.s = alice
        self.assert_fault(lambda: alice.Accounts_SetAdministrator(name="alice", administrator=False),
                          "E_ACCESSDENIED", text="last administrator")
        self.assert_fault(lambda: alice.Accounts_Remove(name="alice"), "E_ACCESSDENIED")
        self.assert_fault(lambda: a.Accounts_List(), "E_ACCESSDENIED", text="is not an administrator")
        alice.Accounts_SetAdministrator(name="admin", administrator=True)
        alice.Accounts_SetAdministrator(name="admin", administrator=True)  # no change is no error
        self.s = a
        a.Accounts_SetAdministrator(name="alice", administrator=False)
        self.assertEqual(self.accounts(), {"admin": (True, []), "alice": (False, [])})

    def accounts_as(self, service):
        return {x.name: (x.administrator, list(x.groups.item) if x.groups else [])
                for x in service.Accounts_List()}

    def test_9_remove_and_restart(self):
        a = self.admin
        a.Accounts_Add(name="bob", password="bob-password-1", administrator=False, groups=strings(["web"]))
        a.Accounts_Remove(name="alice")
        self.assertEqual(set(self.accounts()), {"admin", "bob"})
        self.assert_refused(state["alice"], lambda: state["alice"].service.Session_CurrentUser())
        tokens = state["tokens"]
        token = tokens.service.Session_Logon(userName="bob", password="bob-password-1")
        tokens.transport.session.cookies.clear()
        with self.assertRaises(zeep.exceptions.Fault):
            tokens.service.Session_Logon(userName="alice", password="alice-password-3")
        # The file holds what the answers said: vsad user reads it, and a
        # restarted vsad has the same accounts (and bob's session is gone).
        listed = subprocess.run([VSAD_BINARY, "user", "list", f"--data-dir={data_dir}"], capture_output=True,
                                text=True, timeout=TIMEOUT, check=True).stdout
        self.assertEqual(listed.split("\n"), ["admin\tadministrator", "bob\tuser\tweb", ""])
        self.assertEqual(stop_vsad(), 0)
        start_vsad()
        state.pop("admin")
        self.assertEqual(self.accounts(), {"admin": (True, []), "bob": (False, ["web"])})
        bob = client_as("bob", "bob-password-1")
        self.assertEqual(bob.service.Session_CurrentUser(), "bob")
        tokens = client_as(None, None)
        self.assert_refused(tokens, lambda: tokens.service.Session_CurrentUser(_soapheaders={"SessionToken": token}))


def main():
    global VSAD_BINARY
    if len(sys.argv) < 2:
        print("usage: test_zeep_accounts.py PATH/TO/vsad", file=sys.stderr)
        return 2
    VSAD_BINARY = os.path.abspath(sys.argv[1])
    return run_tests((AccountsTest,), failfast=True, failure_note=lambda: vsad_stderr)


if __name__ == "__main__":
    sys.exit(main())
