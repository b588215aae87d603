#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""IVMVirtualServer's VMRC members over SOAP (python3-zeep) against a live
vsad with a real vsa-vm worker: every setting read and changed, the faults
for bad values, the settings after a restart, and what they do to the
console (appliance/console/vmrc_settings.h):

  - VMRCEnabled: a ticket's plain VNC port answers an RFB handshake, and
    refuses connections once it is off (tickets fault E_FAIL);
  - VMRCEncryptionEnabled: plain VNC refused;
  - VMRCAdminPortNumber: the next listener opens on the new port;
  - VMRCIdleConnectionTimeout: a viewer that sends nothing is dropped;
  - VMRCX/YResolution: only set, read and kept (its effect, the screen
    before the worker's first frame, cannot be forced from here);
  - the certificate request parses with `openssl req -verify` and carries
    the name; a certificate signed for its key is installed and served to
    new TLS connections, a foreign one is refused.

Usage: test_zeep_vmrc.py vsad vsa-vhd vsa-vm keys_disk.img
"""
import base64
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import ZeepTestCase, make_client, make_counter_vm, run_tests, wait_for  # noqa: E402
import test_console  # noqa: E402  (its RFB and WebSocket clients)

VSAD = VSA_VHD = VSA_VM = KEYS_DISK = None  # argv
state = {}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args, stdin=None):
    done = subprocess.run(["openssl", *args], input=stdin, capture_output=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError("openssl %s: %s" % (" ".join(args), done.stderr.decode(errors="replace")))
    return done.stdout


def to_pem(base64_der, kind):
    lines = [base64_der[i:i + 64] for i in range(0, len(base64_der), 64)]
    return ("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (kind, "\n".join(lines), kind)).encode()


def served_certificate(port):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return base64.b64encode(tls.getpeercert(binary_form=True)).decode()


def rfb_greeting(port):
    """The first 12 bytes a plain VNC port sends, or None when it refuses or
    closes."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            data = b""
            while len(data) < 12:
                chunk = sock.recv(12 - len(data))
                if not chunk:
                    return None
                data += chunk
            return data
    except OSError:
        return None


class Vmrc(ZeepTestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = state["service"]

    def test_1_defaults_and_the_authenticators(self):
        s = self.s
        self.assertFalse(s.IVMVirtualServer_get_VMRCEnabled())  # console.vnc_enabled
        self.assertEqual(s.IVMVirtualServer_get_VMRCAdminAddress(), "127.0.0.1")  # https.bind_address
        self.assertEqual(s.IVMVirtualServer_get_VMRCAdminPortNumber(), state["vnc_port"])
        self.assertFalse(s.IVMVirtualServer_get_VMRCEncryptionEnabled())
        self.assertEqual(s.IVMVirtualServer_get_VMRCIdleConnectionTimeout(), 900)
        self.assertFalse(s.IVMVirtualServer_get_VMRCIdleConnectionTimeoutEnabled())
        self.assertEqual(s.IVMVirtualServer_get_VMRCXResolution(), 640)
        self.assertEqual(s.IVMVirtualServer_get_VMRCYResolution(), 480)
        self.assertEqual(s.IVMVirtualServer_get_VMRCEncryptionCertificateRequest() or "", "")
        with open(state["vsad"].certificate, "rb") as f:
            der = ssl.PEM_cert_to_DER_cert(f.read().decode())
        self.assertEqual(s.IVMVirtualServer_get_VMRCEncryptionCertificate(), base64.b64encode(der).decode())

        current = s.IVMVirtualServer_get_VMRCAuthenticator()
        self.assertEqual(current, "vmrcauth/0")
        self.assertEqual(s.IVMVirtualServer_get_VMRCAuthenticators(), ["vmrcauth/0"])
        collection = "server/VMRCAuthenticators"
        self.assertEqual(s.IVMRCAuthenticatorCollection_get_Count(_this=collection), 1)
        self.assertEqual(s.IVMRCAuthenticatorCollection_get_Item(_this=collection, index=1), "vmrcauth/0")
        self.assert_fault(lambda: s.IVMRCAuthenticatorCollection_get_Item(_this=collection, index=2),
                          "DISP_E_BADINDEX")
        self.assertEqual(s.IVMRCAuthenticatorCollection_get__NewEnum(_this=collection), ["vmrcauth/0"])
        self.assert_fault(lambda: s.IVMRCAuthenticatorCollection_get_Count(_this="server/Nope"), "E_INVALIDARG")
        self.assertEqual(s.IVMRCAuthenticator_get_Name(_this=current), "VNC")
        self.assertEqual(s.IVMRCAuthenticator_get_Type(_this=current), 0)
        self.assertIn("one-time ticket", s.IVMRCAuthenticator_get_Description(_this=current))
        self.assert_fault(lambda: s.IVMRCAuthenticator_get_Name(_this="vmrcauth/2"), "E_INVALIDARG")
        s.IVMVirtualServer_set_VMRCAuthenticator(authenticator=0)

    def test_2_bad_values_fault(self):
        s = self.s
        for port in (0, 65536, -5):
            self.assert_fault(lambda: s.IVMVirtualServer_set_VMRCAdminPortNumber(port=port), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_set_VMRCAdminAddress(address="192.0.2.77"), "E_INVALIDARG",
                          text="not an address of this host")
        self.assert_fault(lambda: s.IVMVirtualServer_set_VMRCAdminAddress(address="not-an-ip"), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_set_VMRCAuthenticator(authenticator=2), "E_INVALIDARG",
                          text="Windows domain")
        for kind in (1, 3, 4, -1, 9):
            self.assert_fault(lambda: s.IVMVirtualServer_set_VMRCAuthenticator(authenticator=kind), "E_INVALIDARG")
        for seconds in (0, 86401):
            self.assert_fault(lambda: s.IVMVirtualServer_set_VMRCIdleConnectionTimeout(timeout=seconds),
                              "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_set_VMRCXResolution(width=100), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_set_VMRCYResolution(height=5000), "E_INVALIDARG")
        self.assert_fault(lambda: s.IVMVirtualServer_VMRCCreateEncryptionCertificateRequest(
            distinguishedName="CN=x", keyLength=1024), "E_INVALIDARG", text="keyLength")
        self.assert_fault(lambda: s.IVMVirtualServer_VMRCCreateEncryptionCertificateRequest(
            distinguishedName="O=no common name", keyLength=2048), "E_INVALIDARG", text="CN")
        self.assert_fault(lambda: s.IVMVirtualServer_set_VMRCEncryptionCertificate(certificate="bm9wZQ=="),
                          "E_INVALIDARG")
        # Nothing changed.
        self.assertEqual(s.IVMVirtualServer_get_VMRCAdminPortNumber(), state["vnc_port"])
        self.assertEqual(s.IVMVirtualServer_get_VMRCXResolution(), 640)

    def test_3_resolution(self):
        # The placeholder screen a viewer gets until the worker's first
        # frame. Not observable here: a worker renders on request within
        # the screen's 500 ms wait, even paused; only the value and its
        # persistence (Persistence) are checked.
        s = self.s
        s.IVMVirtualServer_set_VMRCXResolution(width=800)
        s.IVMVirtualServer_set_VMRCYResolution(height=600)
        self.assertEqual((s.IVMVirtualServer_get_VMRCXResolution(), s.IVMVirtualServer_get_VMRCYResolution()),
                         (800, 600))

    def test_4_enabled_switches_the_plain_vnc_listener(self):
        s = self.s
        vm = state["vm"]
        self.assert_fault(lambda: s.IVMVirtualMachine_CreateConsoleTicket(_this=vm), "E_FAIL", text="VMRCEnabled")
        new_port = state["vnc_port2"]
        s.IVMVirtualServer_set_VMRCAdminPortNumber(port=new_port)
        self.assertEqual(s.IVMVirtualServer_get_VMRCAdminPortNumber(), new_port)
        s.IVMVirtualServer_set_VMRCAdminAddress(address="")
        self.assertEqual(s.IVMVirtualServer_get_VMRCAdminAddress() or "", "")  # zeep reads "" as None
        s.IVMVirtualServer_set_VMRCAdminAddress(address="127.0.0.1")
        s.IVMVirtualServer_set_VMRCEnabled(enabled=True)
        self.assertTrue(s.IVMVirtualServer_get_VMRCEnabled())
        ticket = s.IVMVirtualMachine_CreateConsoleTicket(_this=vm)
        self.assertEqual(ticket.port, new_port)
        self.assertEqual(rfb_greeting(ticket.port), b"RFB 003.008\n")
        s.IVMVirtualServer_set_VMRCEnabled(enabled=False)
        self.assertTrue(wait_for(lambda: rfb_greeting(ticket.port) is None, 5), "the listener is still open")
        self.assert_fault(lambda: s.IVMVirtualMachine_CreateConsoleTicket(_this=vm), "E_FAIL")
        # Encryption demanded: plain VNC refused although enabled.
        s.IVMVirtualServer_set_VMRCEnabled(enabled=True)
        s.IVMVirtualServer_set_VMRCEncryptionEnabled(enabled=True)
        self.assertTrue(s.IVMVirtualServer_get_VMRCEncryptionEnabled())
        self.assert_fault(lambda: s.IVMVirtualMachine_CreateConsoleTicket(_this=vm), "E_FAIL",
                          text="VMRCEncryptionEnabled")
        s.IVMVirtualServer_set_VMRCEncryptionEnabled(enabled=False)
        ticket = s.IVMVirtualMachine_CreateConsoleTicket(_this=vm)
        self.assertEqual(rfb_greeting(ticket.port), b"RFB 003.008\n")

    def test_5_idle_viewers_are_dropped(self):
        s = self.s
        s.IVMVirtualServer_set_VMRCIdleConnectionTimeout(timeout=1)
        s.IVMVirtualServer_set_VMRCIdleConnectionTimeoutEnabled(enabled=True)
        self.assertEqual(s.IVMVirtualServer_get_VMRCIdleConnectionTimeout(), 1)
        self.assertTrue(s.IVMVirtualServer_get_VMRCIdleConnectionTimeoutEnabled())
        ticket = s.IVMVirtualMachine_CreateConsoleTicket(_this=state["vm"])
        sock = socket.create_connection(("127.0.0.1", ticket.port), timeout=30)
        try:
            rfb = test_console.Rfb(test_console.TcpStream(sock))
            rfb.handshake(password=ticket.password)
            started = time.monotonic()
            # Silent from here: vsad closes the connection after ~1 s.
            with self.assertRaises((test_console.Closed, ConnectionError, OSError)):
                while time.monotonic() - started < 15:
                    data = sock.recv(65536)
                    if not data:
                        raise test_console.Closed("closed")
            elapsed = time.monotonic() - started
            self.assertGreater(elapsed, 0.7)
            self.assertLess(elapsed, 5)
        finally:
            sock.close()
        # The browser console too: a WebSocket viewer that sends no input.
        ws, rfb = test_console.open_console(state["vm"])
        try:
            started = time.monotonic()
            with self.assertRaises((test_console.Closed, ConnectionError, ssl.SSLError, OSError)):
                while time.monotonic() - started < 15:
                    ws.recv_frame()
            elapsed = time.monotonic() - started
            self.assertGreater(elapsed, 0.7)
            self.assertLess(elapsed, 5)
        finally:
            ws.close()
        s.IVMVirtualServer_set_VMRCIdleConnectionTimeoutEnabled(enabled=False)

    def test_6_certificate_request_and_install(self):
        s = self.s
        work = state["work"]
        request = s.IVMVirtualServer_VMRCCreateEncryptionCertificateRequest(
            distinguishedName="CN=127.0.0.1, O=VSA Test\\, Inc., C=US", keyLength=2048)
        self.assertEqual(s.IVMVirtualServer_get_VMRCEncryptionCertificateRequest(), request)
        key_file = os.path.join(state["vsad"].data_dir, "vmrc", "request.key")
        self.assertEqual(os.stat(key_file).st_mode & 0o777, 0o600)
        csr = os.path.join(work, "request.csr")
        with open(csr, "wb") as f:
            f.write(to_pem(request, "CERTIFICATE REQUEST"))
        text = openssl("req", "-in", csr, "-noout", "-verify", "-subject").decode()
        self.assertIn("CN = 127.0.0.1", text)
        self.assertIn("O = \"VSA Test, Inc.\"", text)
        # A CA of the test's signs it for 127.0.0.1; a foreign key's
        # certificate from the same CA is refused.
        ca_key, ca_cert = os.path.join(work, "ca.key"), os.path.join(work, "ca.crt")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_cert,
                "-days", "2", "-subj", "/CN=VSA test CA")
        ext = os.path.join(work, "san.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\n")
        signed = os.path.join(work, "signed.crt")
        openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
                "-extfile", ext, "-out", signed)
        foreign_key, foreign = os.path.join(work, "foreign.key"), os.path.join(work, "foreign.crt")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", foreign_key, "-out", foreign,
                "-days", "2", "-subj", "/CN=127.0.0.1")
        with open(foreign) as f:
            self.assert_fault(lambda: s.IVMVirtualServer_set_VMRCEncryptionCertificate(certificate=f.read()),
                              "E_INVALIDARG", text="not the key of the outstanding")
        with open(signed) as f:
            der = base64.b64encode(ssl.PEM_cert_to_DER_cert(f.read())).decode()
        # Clients trust both the generated certificate and the test CA.
        bundle = os.path.join(work, "bundle.pem")
        with open(bundle, "w") as out, open(state["vsad"].certificate) as a, open(ca_cert) as b:
            out.write(a.read() + b.read())
        state["vsad"].certificate = bundle
        s.IVMVirtualServer_set_VMRCEncryptionCertificate(certificate=der)
        self.assertEqual(s.IVMVirtualServer_get_VMRCEncryptionCertificate(), der)
        self.assertEqual(s.IVMVirtualServer_get_VMRCEncryptionCertificateRequest() or "", "")
        # New TLS connections (the browser console's included) get it.
        self.assertEqual(served_certificate(state["vsad"].port), der)
        state["installed"] = der


class Persistence(ZeepTestCase):
    def test_settings_survive_a_restart(self):
        old = state["vsad"]
        s = state["service"]
        self.s = s
        self.wait_task(s.IVMVirtualMachine_TurnOff(_this=state["vm"]))
        s.IVMVirtualServer_set_VMRCIdleConnectionTimeout(timeout=42)
        s.IVMVirtualServer_set_VMRCEncryptionEnabled(enabled=True)
        certificate = old.certificate
        self.assertEqual(old.stop(), 0)
        daemon = Vsad(VSAD, data_dir=old.data_dir, defines=state["defines"])
        daemon.user, daemon.password = old.user, old.password
        daemon.certificate = certificate
        state["vsad"] = daemon
        self.s = s = make_client(daemon).service
        self.assertTrue(s.IVMVirtualServer_get_VMRCEnabled())
        self.assertEqual(s.IVMVirtualServer_get_VMRCAdminAddress(), "127.0.0.1")
        self.assertEqual(s.IVMVirtualServer_get_VMRCAdminPortNumber(), state["vnc_port2"])
        self.assertEqual(s.IVMVirtualServer_get_VMRCAuthenticator(), "vmrcauth/0")
        self.assertTrue(s.IVMVirtualServer_get_VMRCEncryptionEnabled())
        self.assertEqual(s.IVMVirtualServer_get_VMRCIdleConnectionTimeout(), 42)
        self.assertFalse(s.IVMVirtualServer_get_VMRCIdleConnectionTimeoutEnabled())
        self.assertEqual((s.IVMVirtualServer_get_VMRCXResolution(), s.IVMVirtualServer_get_VMRCYResolution()),
                         (800, 600))
        self.assertEqual(s.IVMVirtualServer_get_VMRCEncryptionCertificate(), state["installed"])
        self.assertEqual(served_certificate(daemon.port), state["installed"])
        # "" goes back to the generated https certificate.
        s.IVMVirtualServer_set_VMRCEncryptionCertificate(certificate="")
        with open(os.path.join(daemon.data_dir, "tls", "server.crt")) as f:
            generated = base64.b64encode(ssl.PEM_cert_to_DER_cert(f.read())).decode()
        self.assertEqual(served_certificate(daemon.port), generated)
        self.assertEqual(s.IVMVirtualServer_get_VMRCEncryptionCertificate(), generated)


def main():
    global VSAD, VSA_VHD, VSA_VM, KEYS_DISK
    VSAD, VSA_VHD, VSA_VM, KEYS_DISK = sys.argv[1:5]
    vnc_port, vnc_port2 = free_port(), free_port()
    while vnc_port2 == vnc_port:
        vnc_port2 = free_port()
    defines = {"vm.worker_binary": VSA_VM, "console.vnc_ports": f"{vnc_port}-{vnc_port}"}
    vsad = Vsad(VSAD, defines=defines)
    work = tempfile.mkdtemp(prefix="vmrc-test-")
    state.update(vsad=vsad, defines=defines, vnc_port=vnc_port, vnc_port2=vnc_port2, work=work)
    test_console.state["vsad"] = vsad
    try:
        service = make_client(vsad).service
        state["service"] = service
        vm, com1, _ = make_counter_vm(service, VSA_VHD, KEYS_DISK, "vmrc")
        state["vm"] = vm
        task = service.IVMVirtualMachine_Startup(_this=vm)
        while not service.IVMTask_WaitForCompletion(_this=task, timeout=5000):
            pass
        test_console.state["cookie"] = test_console.logon(vsad.user, vsad.password)

        def note():
            with open(state["vsad"].stderr_path, errors="replace") as f:
                return "".join(line for line in f if "console" in line)[-3000:]

        code = run_tests([Vmrc], failure_note=note)
        if code == 0:
            code = run_tests([Persistence], failure_note=note)
        if state["vsad"].stop() != 0:
            print("vsad did not stop cleanly")
            code = 1
        return code
    finally:
        state["vsad"].stop()
        state["vsad"].cleanup()
        if state["vsad"] is not vsad:
            vsad.cleanup()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
