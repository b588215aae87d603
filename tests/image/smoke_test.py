#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The smoke boot of issue 8: the smoke ISO (build-smoke-iso.sh) boots under
QEMU TCG (BIOS, from the CD), vsad comes up in it, and from the host,
through QEMU's user networking and a loopback port forward, a real SOAP
call with the password the guest printed on its serial line succeeds and
the admin UI's login page loads. Then the guest powers off cleanly.

usage: smoke_test.py ISO [--timeout SECONDS]
Prints TIMING lines (boot-to-ready) and "N passed, N failed".
"""
import argparse
import base64
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "guests"))
from guest_checks import Checks  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Guest:
    """QEMU with the serial line on its stdin/stdout."""

    def __init__(self, command):
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip("\r\n")
            print("guest| " + line, flush=True)
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def wait_for(self, pattern, timeout):
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    m = regex.search(line)
                    if m:
                        return m
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.cond.wait(min(left, 0.5))

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()


def soap(port, operation, user, password, params=()):
    inner = "".join(f"<vs:{k}>{escape(str(v))}</vs:{k}>" for k, v in params)
    body = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:vs="urn:vsa:virtualserver:1"><s:Body><vs:{operation}>{inner}</vs:{operation}>'
            '</s:Body></s:Envelope>')
    request = urllib.request.Request(f"https://127.0.0.1:{port}/VirtualServer", data=body.encode(), method="POST")
    request.add_header("Content-Type", "text/xml; charset=utf-8")
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    # The guest made its own self-signed certificate a moment ago.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(request, context=context, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def get(port, path):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with urllib.request.urlopen(f"https://127.0.0.1:{port}{path}", context=context, timeout=60) as response:
        return response.status, response.read().decode(errors="replace")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("iso")
    parser.add_argument("--timeout", type=float, default=240)
    args = parser.parse_args()
    port = free_port()
    checks = Checks()
    check = checks.check

    started = time.monotonic()
    guest = Guest(["qemu-system-x86_64", "-M", "pc", "-m", "1024", "-smp", "1", "-accel", "tcg",
                   "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
                   "-cdrom", args.iso, "-boot", "d",
                   "-nic", f"user,model=e1000,hostfwd=tcp:127.0.0.1:{port}-:443"])
    try:
        booted = guest.wait_for(r"VSA-SMOKE-BOOT uptime=([\d.]+)", args.timeout)
        if not check(booted is not None, "the kernel booted and ran /init"):
            return checks.summary()
        boot_seconds = time.monotonic() - started
        password = guest.wait_for(r"VSA-SMOKE-PASSWORD (\S+)", args.timeout)
        ready = guest.wait_for(r"VSA-SMOKE-READY", args.timeout)
        if not check(password is not None and ready is not None, "vsad started and printed its password"):
            return checks.summary()
        ready_seconds = time.monotonic() - started
        status, body = soap(port, "IVMVirtualServer_get_Version", "admin", password.group(1))
        check(status == 200 and "IVMVirtualServer_get_VersionResponse" in body,
              f"SOAP IVMVirtualServer_get_Version over the port forward (HTTP {status})")
        status, body = soap(port, "IVMVirtualServer_get_Name", "admin", "wrong-password")
        check(status == 401, f"a wrong password is refused (HTTP {status})")
        status, body = get(port, "/login.html")
        check(status == 200 and "<form" in body, "the admin UI's login page loads")
        guest.send("poweroff\n")
        exited = guest.wait_for(r"VSA-SMOKE-VSAD-EXIT (\d+)", 120)
        check(exited is not None and exited.group(1) == "0", "vsad stopped cleanly on SIGTERM")
        try:
            guest.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        check(guest.proc.returncode == 0, f"the guest powered off (QEMU exit {guest.proc.returncode})")
        print(f"TIMING boot_to_init_s={boot_seconds:.1f} boot_to_vsad_ready_s={ready_seconds:.1f}")
    finally:
        if guest.proc.poll() is None:
            guest.proc.kill()
            guest.proc.wait()
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
