#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The VM console end to end: a live vsad with a real vsa-vm worker, an RFB
client over the WebSocket (GET /console/websocket?vm=...) and over the
plain VNC listener with a one-time ticket (IVMVirtualMachine.
CreateConsoleTicket).

Usage: test_console.py vsad vsa-vhd vsa-vm keys_disk.img

The guest is tests/appliance/keys_disk.asm: light-red blocks on rows 0-4 of
the text screen, "VSA-KEYS-READY" on COM1, then every key the BIOS reads is
echoed to the screen (row 12) and to COM1. So the test sees a frame that is
not blank, and what it types arrives in the guest.

The WebSocket and RFB clients are written here on the standard library
(ssl, socket): the test must be able to send what a browser would not (no
cookie, a foreign Origin, an oversized frame). VNC authentication's DES is
libvncserver's own rfbEncryptBytes through ctypes, the routine every VNC
client implements.
"""
import base64
import ctypes
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad, soap_envelope  # noqa: E402
from zeep_support import ZeepTestCase, make_client, make_counter_vm, run_tests, wait_for  # noqa: E402

VSAD = VSA_VHD = VSA_VM = KEYS_DISK = None  # argv
ADMIN_PASSWORD = "admin-console-Secret-1"
BOB_PASSWORD = "bob-console-Secret-1"
LIGHT_RED = (0xFF, 0x55, 0x55)  # the VGA BIOS's DAC colour 12
state = {}


def read_text(path):
    try:
        with open(path, encoding="latin-1") as f:
            return f.read()
    except OSError:
        return ""


# --- A minimal WebSocket client (RFC 6455) ------------------------------------------

class Closed(Exception):
    pass


class WebSocket:
    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def _recv_exact(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Closed("connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send_frame(self, payload, opcode=2):
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def recv_frame(self):
        first, second = self._recv_exact(2)
        n = second & 0x7F
        if n == 126:
            n, = struct.unpack(">H", self._recv_exact(2))
        elif n == 127:
            n, = struct.unpack(">Q", self._recv_exact(8))
        payload = self._recv_exact(n)
        opcode = first & 0x0F
        if opcode == 8:
            raise Closed("close frame %r" % payload[:2])
        return opcode, payload

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def tls_socket(port, timeout=30):
    context = ssl.create_default_context(cafile=state["vsad"].certificate)
    context.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def ws_open(vm, cookie=None, origin="same", extra_headers=(), authorization=None):
    """(status, headers text, WebSocket or None)."""
    port = state["vsad"].port
    host = f"127.0.0.1:{port}"
    sock = tls_socket(port)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET /console/websocket?vm={vm} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if origin == "same":
        lines.append(f"Origin: https://{host}")
    elif origin is not None:
        lines.append(f"Origin: {origin}")
    if cookie:
        lines.append(f"Cookie: VSASESSION={cookie}")
    if authorization:
        lines.append(f"Authorization: {authorization}")
    lines += list(extra_headers)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    if status != 101:
        sock.close()
        return status, head.decode(errors="replace") + "\n" + rest.decode(errors="replace"), None
    ws = WebSocket(sock)
    ws.buffer = rest
    return status, head.decode(), ws


# --- A minimal RFB 3.8 client ---------------------------------------------------------

class WsStream:
    """RFB bytes over WebSocket binary frames."""

    def __init__(self, ws):
        self.ws = ws
        self.pending = b""

    def read(self, n):
        while len(self.pending) < n:
            opcode, payload = self.ws.recv_frame()
            if opcode in (1, 2, 0):
                self.pending += payload
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    def write(self, data):
        self.ws.send_frame(data)


class TcpStream:
    def __init__(self, sock):
        self.sock = sock

    def read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise Closed("connection closed")
            data += chunk
        return data

    def write(self, data):
        self.sock.sendall(data)


def vnc_response(challenge, password):
    lib = ctypes.CDLL("libvncserver.so.1")
    buffer = ctypes.create_string_buffer(bytes(challenge), 16)
    key = ctypes.create_string_buffer(password.encode()[:8], 9)
    lib.rfbEncryptBytes(buffer, key)
    return buffer.raw[:16]


class Rfb:
    def __init__(self, stream):
        self.s = stream

    def handshake(self, password=None):
        """Returns (width, height, name); raises PermissionError when the
        server refuses the authentication."""
        version = self.s.read(12)
        assert version.startswith(b"RFB 003."), version
        self.s.write(b"RFB 003.008\n")
        count, = self.s.read(1)
        if count == 0:
            length, = struct.unpack(">I", self.s.read(4))
            raise PermissionError(self.s.read(length).decode())
        types = list(self.s.read(count))
        if password is None:
            assert 1 in types, types
            self.s.write(b"\x01")
        else:
            assert 2 in types, types
            self.s.write(b"\x02")
            challenge = self.s.read(16)
            self.s.write(vnc_response(challenge, password))
        result, = struct.unpack(">I", self.s.read(4))
        if result != 0:
            raise PermissionError("security result %d" % result)
        self.s.write(b"\x01")  # ClientInit: shared
        width, height = struct.unpack(">HH", self.s.read(4))
        self.format = self.s.read(16)
        length, = struct.unpack(">I", self.s.read(4))
        self.name = self.s.read(length)
        self.width, self.height = width, height
        # Raw and DesktopSize.
        encodings = [0, -223]
        self.s.write(struct.pack(">BxH", 2, len(encodings)) + b"".join(struct.pack(">i", e) for e in encodings))
        self.pixels = bytearray(width * height * 4)
        return width, height, self.name

    def request(self, incremental):
        self.s.write(struct.pack(">BBHHHH", 3, 1 if incremental else 0, 0, 0, self.width, self.height))

    def read_update(self):
        """Reads messages until a FramebufferUpdate; returns its rectangles."""
        while True:
            kind, = self.s.read(1)
            if kind == 0:
                break
            if kind == 2:  # Bell
                continue
            if kind == 1:
                raise AssertionError("colour map message for a true-colour format")
            if kind == 3:
                self.s.read(3)
                length, = struct.unpack(">I", self.s.read(4))
                self.s.read(length)
                continue
            raise AssertionError("unexpected server message %d" % kind)
        self.s.read(1)
        count, = struct.unpack(">H", self.s.read(2))
        rects = []
        for _ in range(count):
            x, y, w, h, encoding = struct.unpack(">HHHHi", self.s.read(12))
            if encoding == -223:
                self.width, self.height = w, h
                self.pixels = bytearray(w * h * 4)
            elif encoding == 0:
                data = self.s.read(w * h * 4)
                for row in range(h):
                    start = ((y + row) * self.width + x) * 4
                    self.pixels[start:start + w * 4] = data[row * w * 4:(row + 1) * w * 4]
            else:
                raise AssertionError("unexpected encoding %d" % encoding)
            rects.append((x, y, w, h, encoding))
        return rects

    def pixel(self, x, y):
        i = (y * self.width + x) * 4
        return tuple(self.pixels[i:i + 3])  # red in the low byte: R, G, B

    def key(self, keysym, down):
        self.s.write(struct.pack(">BBxxI", 4, 1 if down else 0, keysym))

    def type(self, text):
        for c in text:
            self.key(ord(c), True)
            self.key(ord(c), False)


def logon(user, password):
    r = requests.post(state["vsad"].endpoint, data=soap_envelope("Session_Logon", [("userName", user),
                                                                                  ("password", password)]),
                      headers={"Content-Type": "text/xml; charset=utf-8"}, verify=state["vsad"].certificate,
                      timeout=60)
    assert r.status_code == 200, r.text
    return r.cookies.get("VSASESSION")


def open_console(vm=None, limit=15.0):
    """An RFB session over the WebSocket. A viewer that just left frees its
    slot once the server has seen it go: a 503 is retried for a while."""
    deadline = time.monotonic() + limit
    while True:
        status, text, ws = ws_open(vm or state["vm"], cookie=state["cookie"])
        if status != 503 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 101, text
    rfb = Rfb(WsStream(ws))
    rfb.handshake()
    return ws, rfb


def full_frame(rfb, limit=30.0):
    """Requests full frames until one shows the guest's picture."""
    deadline = time.monotonic() + limit
    while True:
        rfb.request(False)
        rfb.read_update()
        # The worker may publish while the guest paints: wait for all of it.
        if rfb.width == 720 and rfb.pixel(10, 10) == LIGHT_RED and rfb.pixel(700, 70) == LIGHT_RED:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"no guest picture: {rfb.width}x{rfb.height} pixel {rfb.pixel(10, 10)}")
        time.sleep(0.2)


class Console(ZeepTestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = state["service"]

    def test_1_frame_and_keys_over_the_websocket(self):
        ws, rfb = open_console()
        try:
            full_frame(rfb)
            self.assertEqual((rfb.width, rfb.height), (720, 400))
            # Not blank: the blocks are light red, the rest of row 5+ black/grey.
            self.assertEqual(rfb.pixel(700, 70), LIGHT_RED)
            # Typed keys go to the worker as "key" commands; a refused one
            # would be logged ("console input not delivered").
            rfb.type("vsa42")
            time.sleep(1)
            with open(state["vsad"].stderr_path, errors="replace") as f:
                self.assertNotIn("console input not delivered", f.read())
        finally:
            ws.close()

    def test_1b_typed_keys_reach_the_guest(self):
        ws, rfb = open_console()
        try:
            full_frame(rfb)
            before = bytes(rfb.pixels)
            rfb.type("vsa42")
            # The guest echoes them on COM1 (a partial line reaches the log
            # when the worker's loop comes round: vsad queries it every second).
            self.assertTrue(wait_for(lambda: "vsa42" in read_text(state["com1"]), 15),
                            "the guest never echoed the keys: " + read_text(state["com1"])[-100:])
            # ... and its screen shows them (row 12: y 192-207).
            deadline = time.monotonic() + 30
            while True:
                rfb.request(False)
                rfb.read_update()
                row = bytes(rfb.pixels[192 * 720 * 4:208 * 720 * 4])
                if row != before[192 * 720 * 4:208 * 720 * 4]:
                    break
                self.assertLess(time.monotonic(), deadline, "the typed keys never reached the screen")
                time.sleep(0.2)
        finally:
            ws.close()

    def test_2_refusals(self):
        vm = state["vm"]
        status, text, _ = ws_open(vm)
        self.assertEqual(status, 401, text)
        self.assertIn("log on", text)
        status, text, _ = ws_open(vm, cookie="not-a-session")
        self.assertEqual(status, 401, text)
        status, text, _ = ws_open(vm, cookie=state["cookie"], origin="https://evil.example")
        self.assertEqual(status, 403, text)
        self.assertIn("Origin", text)
        status, text, _ = ws_open(vm, cookie=state["cookie"], origin=None)
        self.assertEqual(status, 403, text)
        status, text, _ = ws_open("not-a-vm", cookie=state["cookie"])
        self.assertEqual(status, 400, text)
        status, text, _ = ws_open("{00000000-0000-0000-0000-000000000001}", cookie=state["cookie"])
        self.assertEqual(status, 404, text)
        status, text, _ = ws_open(vm, cookie=state["bob_cookie"])
        self.assertEqual(status, 403, text)
        self.assertIn("lacks the", text)
        # A plain GET (no upgrade) is told what the endpoint is.
        port = state["vsad"].port
        r = requests.get(f"https://127.0.0.1:{port}/console/websocket?vm={vm}", verify=state["vsad"].certificate,
                         headers={"Origin": f"https://127.0.0.1:{port}", "Cookie": "VSASESSION=" + state["cookie"]},
                         timeout=30)
        self.assertEqual(r.status_code, 400, r.text)
        self.assertIn("WebSocket", r.text)

    def test_3_oversized_frame_closes_the_connection(self):
        ws, rfb = open_console()
        try:
            # vsad may close the connection while the frame is still being sent.
            with self.assertRaises((Closed, ConnectionError, ssl.SSLError, OSError)):
                ws.send_frame(b"\x00" * (65 * 1024))
                for _ in range(1000):
                    ws.recv_frame()
        finally:
            ws.close()
        # vsad is fine and serves the next viewer.
        ws, rfb = open_console()
        full_frame(rfb)
        ws.close()

    def test_4_garbage_and_abrupt_disconnects(self):
        for payload in (b"GET / HTTP/1.1\r\n\r\n", b"\xff" * 300, b"RFB 003.008\n" + os.urandom(2000)):
            status, text, ws = ws_open(state["vm"], cookie=state["cookie"])
            self.assertEqual(status, 101, text)
            ws.send_frame(payload)
            ws.sock.close()  # no close frame
        status, text, ws = ws_open(state["vm"], cookie=state["cookie"])
        ws.sock.close()  # gone before the RFB handshake
        self.assertTrue(state["vsad"].alive())
        ws, rfb = open_console()
        full_frame(rfb)
        ws.close()

    def test_5_viewer_limit(self):
        sockets = []
        try:
            self.assertTrue(wait_for(lambda: ws_ok(), 20), "the earlier viewers' slots are not freed")
            for _ in range(4):
                ws, rfb = open_console()
                sockets.append(ws)
            status, text, _ = ws_open(state["vm"], cookie=state["cookie"])
            self.assertEqual(status, 503, text)
            self.assertIn("too many console connections", text)
        finally:
            for ws in sockets:
                ws.close()
        self.assertTrue(wait_for(lambda: ws_ok(), 20), "the slots are not freed")

    def test_6_plain_vnc_with_a_ticket(self):
        ticket = self.s.IVMVirtualMachine_CreateConsoleTicket(_this=state["vm"])
        self.assertEqual(len(ticket.password), 8)
        self.assertEqual(ticket.expiresIn, 60)
        self.assertEqual(ticket.port, state["vnc_port"])

        def connect(password):
            sock = socket.create_connection(("127.0.0.1", ticket.port), timeout=30)
            return sock, Rfb(TcpStream(sock)), password

        sock, rfb, _ = connect(ticket.password)
        try:
            width, height, _ = rfb.handshake(password=ticket.password)
            full_frame(rfb)
        finally:
            sock.close()
        # Used up.
        sock, rfb, _ = connect(ticket.password)
        with self.assertRaises((PermissionError, Closed)):
            rfb.handshake(password=ticket.password)
        sock.close()
        # A wrong password, then the right one of a new ticket.
        second = self.s.IVMVirtualMachine_CreateConsoleTicket(_this=state["vm"])
        self.assertEqual(second.port, ticket.port)  # one listener per VM
        sock, rfb, _ = connect("wrongpwd")
        with self.assertRaises((PermissionError, Closed)):
            rfb.handshake(password="wrongpwd")
        sock.close()
        sock, rfb, _ = connect(second.password)
        rfb.handshake(password=second.password)
        sock.close()
        # Bob may not control the VM: no ticket either.
        bob = make_client(state["vsad"], BOB_PASSWORD, user="bob").service
        self.assert_fault(lambda: bob.IVMVirtualMachine_CreateConsoleTicket(_this=state["vm"]), "E_ACCESSDENIED")

    def test_6b_a_session_outlives_the_http_deadlines(self):
        # vsad runs here with a 2 s request deadline and 1.5 s keep-alive
        # wait (main()): a console still served after 5 s is no longer an
        # HTTP request to the connection tracker.
        ws, rfb = open_console()
        try:
            full_frame(rfb)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                rfb.request(False)
                rfb.read_update()
                time.sleep(0.5)
            self.assertEqual(rfb.pixel(10, 10), LIGHT_RED)
        finally:
            ws.close()

    def test_7_the_vm_stopping_ends_the_session(self):
        ws, rfb = open_console()
        full_frame(rfb)
        self.wait_task(self.s.IVMVirtualMachine_TurnOff(_this=state["vm"]))
        with self.assertRaises((Closed, ConnectionError, ssl.SSLError, OSError)):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                rfb.request(True)
                rfb.read_update()
        ws.close()
        self.assertTrue(state["vsad"].alive())
        status, text, _ = ws_open(state["vm"], cookie=state["cookie"])
        self.assertEqual(status, 409, text)
        self.assertIn("not running", text)
        self.assert_fault(lambda: self.s.IVMVirtualMachine_CreateConsoleTicket(_this=state["vm"]),
                          "VM_E_VM_NOT_RUNNING")


def ws_ok():
    status, _, ws = ws_open(state["vm"], cookie=state["cookie"])
    if ws:
        ws.close()
    return status == 101


class Disabled(ZeepTestCase):
    def test_ticket_refused_when_the_listener_is_off(self):
        with Vsad(VSAD) as other:
            s = make_client(other).service
            self.s = s
            self.assert_fault(lambda: s.IVMVirtualMachine_CreateConsoleTicket(
                _this="{00000000-0000-0000-0000-000000000001}"), "E_FAIL",
                text="the plain VNC listener is disabled: set console.vnc_enabled")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    global VSAD, VSA_VHD, VSA_VM, KEYS_DISK
    VSAD, VSA_VHD, VSA_VM, KEYS_DISK = sys.argv[1:5]
    data_dir = tempfile.mkdtemp(prefix="vsad-console-")
    # An administrator and "bob", who has no rights on the VM.
    for user, password, flags in (("admin", ADMIN_PASSWORD, ["--admin"]), ("bob", BOB_PASSWORD, [])):
        done = subprocess.run([VSAD, "user", "add", user, *flags, f"--data-dir={data_dir}", "--password-stdin"],
                              input=password + "\n", capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            print(done.stderr)
            return 1
    vnc_port = free_port()
    vsad = Vsad(VSAD, data_dir=data_dir, extra_args=os.environ.get("VSA_CONSOLE_VSAD_ARGS", "-D vsa.log_level=information").split(),
                defines={"vm.worker_binary": VSA_VM, "console.vnc_enabled": "true",
                         "limits.request_timeout_ms": "2000", "limits.keepalive_timeout_ms": "500",
                         "limits.receive_timeout_ms": "1000",
                         "console.vnc_ports": f"{vnc_port}-{vnc_port}"})
    vsad.user, vsad.password = "admin", ADMIN_PASSWORD
    state["vsad"], state["vnc_port"] = vsad, vnc_port
    try:
        service = make_client(vsad).service
        state["service"] = service
        vm, com1, _ = make_counter_vm(service, VSA_VHD, KEYS_DISK, "console")
        state["vm"], state["com1"] = vm, com1
        task = service.IVMVirtualMachine_Startup(_this=vm)
        while not service.IVMTask_WaitForCompletion(_this=task, timeout=5000):
            pass
        if not wait_for(lambda: "VSA-KEYS-READY" in read_text(com1), 60):
            print("the keys guest did not start:", read_text(com1))
            return 1
        state["cookie"] = logon(vsad.user, vsad.password)
        state["bob_cookie"] = logon("bob", BOB_PASSWORD)

        def note():
            with open(vsad.stderr_path, errors="replace") as f:
                lines = [line for line in f if "console" in line or "vsad.vm" in line]
            return "".join(lines[-60:])

        code = run_tests([Console, Disabled], failure_note=note)
        if not vsad.alive():
            print("vsad died")
            code = 1
        if vsad.stop() != 0:
            print("vsad did not stop cleanly")
            code = 1
        return code
    finally:
        vsad.stop()
        vsad.cleanup()


if __name__ == "__main__":
    sys.exit(main())
