#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`vsad user ...` account management and vsad's command line, against the
real binary: accounts made offline work on a running daemon, bad input is
refused with a clear message, and no password ever reaches the logs.

usage: test_cli.py VSAD
"""
import base64
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad, soap_envelope  # noqa: E402

VSAD = None


def user_tool(data_dir, *args, password=None):
    return subprocess.run([VSAD, "user", *args, f"--data-dir={data_dir}"] +
                          (["--password-stdin"] if password is not None else []),
                          input=(password + "\n") if password is not None else "",
                          capture_output=True, text=True, timeout=60)


def call_as(vsad, user, password, operation="Session_CurrentUser"):
    request = urllib.request.Request(vsad.endpoint, data=soap_envelope(operation), method="POST")
    request.add_header("Content-Type", "text/xml; charset=utf-8")
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context(cafile=vsad.certificate)
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


class UserToolTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="vsad-cli-")

    def tearDown(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def test_accounts_made_offline_work_online(self):
        r = user_tool(self.data_dir, "add", "operator", password="operator-pass-1")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = user_tool(self.data_dir, "add", "boss", "--admin", password="boss-pass-123")
        self.assertEqual(r.returncode, 0, r.stderr)
        listing = user_tool(self.data_dir, "list")
        self.assertEqual(listing.returncode, 0)
        self.assertIn("operator\tuser", listing.stdout)
        self.assertIn("boss\tadministrator", listing.stdout)

        # With accounts present, vsad creates no generated administrator.
        with Vsad(VSAD, data_dir=self.data_dir, defines={"auth.failure_delay_ms": 0}) as vsad:
            self.assertIsNone(vsad.password)
            status, body = call_as(vsad, "operator", "operator-pass-1")
            self.assertEqual(status, 200, body)
            self.assertIn("<vs:returnval>operator</vs:returnval>", body)
            self.assertEqual(call_as(vsad, "boss", "boss-pass-123")[0], 200)

        r = user_tool(self.data_dir, "passwd", "operator", password="operator-pass-2")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = user_tool(self.data_dir, "remove", "boss")
        self.assertEqual(r.returncode, 0, r.stderr)
        with Vsad(VSAD, data_dir=self.data_dir, defines={"auth.failure_delay_ms": 0}) as vsad:
            self.assertEqual(call_as(vsad, "operator", "operator-pass-1")[0], 401)
            self.assertEqual(call_as(vsad, "operator", "operator-pass-2")[0], 200)
            self.assertEqual(call_as(vsad, "boss", "boss-pass-123")[0], 401)

    def test_bad_input_is_refused_clearly(self):
        self.assertEqual(user_tool(self.data_dir, "add", "x", password="short").returncode, 1)
        self.assertEqual(user_tool(self.data_dir, "add", "bad name!", password="long-enough-1").returncode, 1)
        self.assertEqual(user_tool(self.data_dir, "add", "dup", password="long-enough-1").returncode, 0)
        dup = user_tool(self.data_dir, "add", "DUP", password="long-enough-1")
        self.assertEqual(dup.returncode, 1)
        self.assertIn("vsad user:", dup.stderr)
        self.assertEqual(user_tool(self.data_dir, "remove", "nobody").returncode, 1)
        self.assertEqual(user_tool(self.data_dir, "frobnicate").returncode, 64)
        self.assertEqual(user_tool(self.data_dir, "add").returncode, 64)
        # A corrupt account store is reported, not silently replaced.
        with open(os.path.join(self.data_dir, "accounts.json"), "w") as f:
            f.write("{ not json")
        r = user_tool(self.data_dir, "list")
        self.assertEqual(r.returncode, 1)
        self.assertIn("accounts.json", r.stderr)
        started = subprocess.run([VSAD, f"--data-dir={self.data_dir}", "--port=0", "-D", "https.longpoll_port=0"],
                                 capture_output=True, text=True, timeout=60)
        self.assertNotEqual(started.returncode, 0)
        self.assertIn("accounts.json", started.stderr)

    def test_console_password_change_reaches_a_running_vsad(self):
        # The appliance console changes the administrator's password with
        # `vsad user passwd` while vsad runs (image/vsa-console): vsad must
        # take it up, end the old credentials, and keep its own changes.
        initial = os.path.join(self.data_dir, "initial-password")
        with Vsad(VSAD, data_dir=self.data_dir,
                  defines={"auth.failure_delay_ms": 0, "auth.initial_password_file": initial}) as vsad:
            with open(initial) as f:
                self.assertEqual(f.read(), vsad.password + "\n")
            self.assertEqual(os.stat(initial).st_mode & 0o777, 0o600)
            self.assertEqual(user_tool(self.data_dir, "check", "admin", password=vsad.password).returncode, 0)
            self.assertEqual(user_tool(self.data_dir, "check", "admin", password="not-the-password").returncode, 1)
            self.assertEqual(user_tool(self.data_dir, "check", "nobody", password=vsad.password).returncode, 1)
            self.assertEqual(call_as(vsad, "admin", vsad.password)[0], 200)  # now cached as good

            r = user_tool(self.data_dir, "passwd", "admin", password="console-pass-1")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(user_tool(self.data_dir, "check", "admin", password=vsad.password).returncode, 1)
            time.sleep(1.2)  # vsad looks at the file at most once a second
            self.assertEqual(call_as(vsad, "admin", vsad.password)[0], 401)
            self.assertEqual(call_as(vsad, "admin", "console-pass-1")[0], 200)

            # A change vsad makes afterwards starts from the file as the tool
            # left it: the tool's account survives vsad's own write.
            r = user_tool(self.data_dir, "add", "helper", password="helper-pass-1")
            self.assertEqual(r.returncode, 0, r.stderr)
            add = soap_envelope("Accounts_Add", [("name", "second"), ("password", "second-pass-1"),
                                                 ("administrator", "false"), ("groups", "")])
            request = urllib.request.Request(vsad.endpoint, data=add, method="POST")
            request.add_header("Content-Type", "text/xml; charset=utf-8")
            request.add_header("Authorization", "Basic " + base64.b64encode(b"admin:console-pass-1").decode())
            with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=vsad.certificate),
                                        timeout=30) as response:
                self.assertEqual(response.status, 200)
            listing = user_tool(self.data_dir, "list").stdout
            for name in ("admin", "helper", "second"):
                self.assertIn(name + "\t", listing)
            self.assertEqual(call_as(vsad, "helper", "helper-pass-1")[0], 200)

    def test_bad_configuration_stops_vsad_at_start(self):
        for args, key in ((["--port=99999"], "https.port"), (["-D", "pool.threads=0"], "pool.threads"),
                          (["-D", "limits.max_body_bytes=lots"], "limits.max_body_bytes")):
            r = subprocess.run([VSAD, f"--data-dir={self.data_dir}", *args], capture_output=True, text=True,
                               timeout=60)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(key, r.stderr + r.stdout, args)
        r = subprocess.run([VSAD, "--print-config"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertIn("https.port = 8443", r.stdout)

    def test_passwords_never_reach_the_logs(self):
        with Vsad(VSAD, data_dir=self.data_dir, defines={"auth.failure_delay_ms": 0, "vsa.log_level": "trace"}) as vsad:
            secret_wrong = "Wr0ng-Secret-XYZZY"
            self.assertEqual(call_as(vsad, "admin", secret_wrong)[0], 401)
            self.assertEqual(call_as(vsad, "admin", vsad.password)[0], 200)
            body = soap_envelope("Session_Logon", [("userName", "admin"), ("password", secret_wrong)])
            request = urllib.request.Request(vsad.endpoint, data=body, method="POST")
            request.add_header("Content-Type", "text/xml")
            try:
                urllib.request.urlopen(request, context=ssl.create_default_context(cafile=vsad.certificate),
                                       timeout=30)
            except urllib.error.HTTPError:
                pass
            vsad.stop()
            with open(vsad.stderr_path, errors="replace") as f:
                log = f.read()
            self.assertNotIn(secret_wrong, log)
            self.assertNotIn(vsad.password, log)
            with open(os.path.join(self.data_dir, "accounts.json")) as f:
                store = f.read()
            self.assertNotIn(vsad.password, store)
            self.assertIn("$scrypt$", store)
            self.assertEqual(os.stat(os.path.join(self.data_dir, "accounts.json")).st_mode & 0o777, 0o600)
            self.assertEqual(os.stat(os.path.join(self.data_dir, "tls", "server.key")).st_mode & 0o777, 0o600)


if __name__ == "__main__":
    VSAD = sys.argv.pop(1)
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    print(f"{result.testsRun - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
