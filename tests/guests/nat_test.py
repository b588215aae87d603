#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A guest fetches a file from the host through the NAT: nat_test.py --vsa-vm BIN --image linux-nat.img

Serves a fixed pseudo-random payload (--size bytes, 4 MiB) as
/payload.bin on 127.0.0.1:18080 (python's http.server in a thread; the
port is the one on the image's kernel command line), boots linux-nat.img
(`vsa.net=dhcp vsa.fetch=http://router:18080/payload.bin`) with user-mode
networking (vsa-vm --nic user, or QEMU's -nic user,model=tulip with
--qemu) and checks what the guest's /init reports: a DHCP lease whose
router is 10.0.2.2 (the host's loopback seen from the guest), the fetched
file's size and SHA-256, and the power-off.
Prints `N passed, N failed` and a TIMING line (host seconds from the start
to each marker, guest seconds of the fetch); exits non-zero on a failure.
net_bench.py imports serve() and run_guest().
"""
import argparse
import hashlib
import http.server
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

from guest_checks import Checks

PORT = 18080
ROUTER = "10.0.2.2"


def payload_bytes(size):
    return random.Random(0x56534131).randbytes(size)


def serve(payload):
    """Starts an HTTP server for /payload.bin on 127.0.0.1:PORT; returns it
    (its .requests counts the GETs answered). Exits with a message when the
    port is taken."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):
            if self.path != "/payload.bin":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            self.server.requests += 1

        def log_message(self, fmt, *args):
            pass

    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    except OSError as e:
        sys.exit(f"nat_test: cannot listen on 127.0.0.1:{PORT} ({e}): the guest image fetches from that "
                 "port; stop whatever holds it")
    server.requests = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def guest_command(args, image, serial):
    if args.qemu:
        return [args.qemu_binary, "-M", "pc", "-cpu", "pentium2", "-m", "128", "-display", "none",
                "-monitor", "none", "-drive", f"file={image},format=raw,snapshot=on", "-no-reboot",
                "-serial", f"file:{serial}", "-nic", "user,model=tulip"]
    return [args.vsa_vm, "--memory", "128M", "--disk", image, "--readonly", "--serial", f"file:{serial}",
            "--timeout", str(int(args.timeout)), "--nic", "user"]


def run_guest(cmd, serial, timeout, log_path):
    """Runs one guest to its end; returns (exit status, serial text, {marker: host seconds
    when it first showed on the serial port}, total seconds)."""
    seen = {}
    start = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        rc = None
        while rc is None and time.monotonic() - start < timeout + 60:
            rc = proc.poll()
            try:
                with open(serial, "rb") as f:
                    text = f.read().decode("latin-1")
            except OSError:
                text = ""
            now = time.monotonic() - start
            for m in re.findall(r"^(VSA-[A-Z0-9-]+)", text, re.M):
                seen.setdefault(m, now)
            if rc is None:
                time.sleep(0.25)
        if rc is None:
            proc.kill()
            rc = proc.wait()
    with open(serial, "rb") as f:
        text = f.read().decode("latin-1")
    return rc, text, seen, time.monotonic() - start


def fetch_result(text):
    """(bytes, full sha256, 40-digit sha256 prefix, guest seconds) or None."""
    ok = re.search(r"^VSA-NET-FETCH-OK (\d+) ([0-9a-f]{40}) ([0-9.]+)\s*$", text, re.M)
    full = re.search(r"^VSA-NET-FETCH-SHA256 ([0-9a-f]{64})\s*$", text, re.M)
    if not ok:
        return None
    return int(ok.group(1)), full.group(1) if full else "", ok.group(2), float(ok.group(3))


def main():
    ap = argparse.ArgumentParser()
    peer = ap.add_mutually_exclusive_group(required=True)
    peer.add_argument("--vsa-vm", help="vsa-vm binary (--nic user)")
    peer.add_argument("--qemu", action="store_true", help="qemu-system-i386 TCG with -nic user,model=tulip")
    ap.add_argument("--qemu-binary", default="qemu-system-i386")
    ap.add_argument("--image", required=True, help="linux-nat.img")
    ap.add_argument("--size", type=int, default=4 << 20, help="payload bytes (default 4 MiB)")
    ap.add_argument("--timeout", type=float, default=1200, help="host seconds for the guest")
    ap.add_argument("--workdir", help="keep the serial log here (default: a temporary directory)")
    args = ap.parse_args()

    workdir = args.workdir or tempfile.mkdtemp(prefix="vsa-nat-test-")
    os.makedirs(workdir, exist_ok=True)
    payload = payload_bytes(args.size)
    digest = hashlib.sha256(payload).hexdigest()
    server = serve(payload)
    serial = os.path.join(workdir, "serial.txt")
    if os.path.exists(serial):
        os.unlink(serial)
    cmd = guest_command(args, args.image, serial)
    rc, text, seen, total = run_guest(cmd, serial, args.timeout, os.path.join(workdir, "stderr.txt"))
    server.shutdown()

    checks = Checks()
    check = checks.check

    lines = text.splitlines()

    def line(prefix):
        return next((ln for ln in lines if ln.startswith(prefix)), "")

    check("VSA-LINUX-BOOT-OK" in text, "booted")
    check("insmod failed" not in text and line("VSA-NET-MAC") != "", "tulip loaded", line("VSA-NET-MAC"))
    dhcp = line("VSA-NET-DHCP-OK") or line("VSA-NET-DHCP-FAILED")
    check(re.match(rf"VSA-NET-DHCP-OK 10\.0\.2\.\d+ router={re.escape(ROUTER)} ", dhcp) is not None,
          f"DHCP lease with router {ROUTER}", dhcp or "no VSA-NET-DHCP line")
    fetch = fetch_result(text)
    check(fetch is not None, "fetched",
          line("VSA-NET-FETCH-OK") or line("VSA-NET-FETCH-FAILED") or "no VSA-NET-FETCH line")
    if fetch:
        size, full, prefix, secs = fetch
        check(size == args.size, "size", f"{size} bytes, sent {args.size}")
        check(full == digest and digest.startswith(prefix), "SHA-256", f"guest {full or prefix}, host {digest}")
        mbs = size / 1e6 / secs if secs > 0 else float("inf")
        print(f"  fetch: {size} bytes in {secs:.2f} guest s = {mbs:.2f} MB/s")
    check(server.requests >= 1, "the host server answered", f"{server.requests} request(s)")
    check(rc == 0, "powered off", f"exit status {rc}")
    for ln in lines:
        if ln.startswith(("VSA-NET-DEV", "VSA-NET-DHCP-TIME", "VSA-NET-UDHCPC")):
            print(f"  {ln}")
    marks = " ".join(f"{m}={t:.1f}" for m, t in seen.items()
                     if m in ("VSA-LINUX-BOOT-OK", "VSA-NET-MAC", "VSA-NET-DHCP-OK", "VSA-NET-FETCH-OK"))
    print(f"TIMING total={total:.1f} {marks}")
    print(f"logs in {workdir}")
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
