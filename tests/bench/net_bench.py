#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Virtual network throughput: vsa-vm against QEMU TCG with the same guest images.

(a) host to guest through the NAT: tests/guests' linux-nat.img takes an
    address by DHCP and fetches http://router:18080/payload.bin (--fetch-mib
    MiB of fixed pseudo-random bytes) from a python HTTP server on the
    host's loopback, then checks nothing itself: the harness compares the
    size and SHA-256 the guest prints. vsa-vm --nic user against
    qemu-system-i386 -nic user,model=tulip (both libslirp).
(b) guest to guest over TCP: two linux-nc.img guests (static 10.0.0.1 and
    10.0.0.2 from their MACs; vsa.nc=16) on one cable; 10.0.0.2 sends
    16 MiB of zeros with dd | nc, 10.0.0.1 receives with busybox nc and
    times first byte to end of stream. Two vsa-vm joined by a socketpair
    (--nic fd:N) against two QEMU joined by -netdev socket
    (listen/connect on 127.0.0.1).
Throughput is bytes / guest seconds (from /proc/uptime in the guest;
on these emulators the guest clock follows the host's), in MB/s (10^6).
The guests run one at a time (b: one pair at a time); each peer runs
--repeat times, interleaved, and the best run counts. There is no target:
the script fails only when a run fails (no result, a wrong size or
digest). --record appends a dated section to RESULTS.md.

Usage:
  /usr/bin/python3 tests/bench/net_bench.py --guests build/tests/guests \\
      --vsa-vm build/hypervisor/vsa-vm [--repeat 1] [--record]
"""
import argparse
import datetime
import hashlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "guests"))
from bench_host import cpu_model  # noqa: E402
import nat_test  # noqa: E402

MACS = ["00:03:ff:00:00:01", "00:03:ff:00:00:02"]


def qemu_base(binary, image, serial):
    return [binary, "-M", "pc", "-cpu", "pentium2", "-m", "128", "-display", "none", "-monitor", "none",
            "-drive", f"file={image},format=raw,snapshot=on", "-no-reboot", "-serial", f"file:{serial}"]


def vsa_base(binary, image, serial, timeout):
    return [binary, "--memory", "128M", "--disk", image, "--readonly", "--serial", f"file:{serial}",
            "--timeout", str(int(timeout))]


def fetch_run(args, peer, workdir, size, digest):
    serial = os.path.join(workdir, f"fetch-{peer}.serial.txt")
    if os.path.exists(serial):
        os.unlink(serial)
    image = os.path.join(args.guests, "linux-nat.img")
    if peer == "qemu":
        cmd = qemu_base(args.qemu_binary, image, serial) + ["-nic", "user,model=tulip"]
    else:
        cmd = vsa_base(args.vsa_vm, image, serial, args.timeout) + ["--nic", "user"]
    rc, text, seen, total = nat_test.run_guest(cmd, serial, args.timeout,
                                               os.path.join(workdir, f"fetch-{peer}.stderr.txt"))
    got = nat_test.fetch_result(text)
    if rc != 0 or not got:
        return {"error": f"exit {rc}, " + (next((ln for ln in text.splitlines() if "FETCH" in ln or "DHCP-F" in ln),
                                                 "no fetch result"))}
    nbytes, full, prefix, secs = got
    if nbytes != size or full != digest:
        return {"error": f"got {nbytes} bytes sha256 {full}, sent {size} bytes sha256 {digest}"}
    return {"mbs": nbytes / 1e6 / secs, "secs": secs, "total": total,
            "host_secs": host_interval(seen, "VSA-NET-FETCH-START", "VSA-NET-FETCH-END"),
            "dhcp_host_s": seen.get("VSA-NET-DHCP-OK", 0.0)}


def host_interval(seen, first, last):
    """Host seconds between two serial lines (as polled every 0.25 s), or 0."""
    if first in seen and last in seen:
        return round(seen[last] - seen[first], 2)
    return 0.0


def note_markers(serial, seen, now):
    try:
        with open(serial, "rb") as f:
            text = f.read().decode("latin-1")
    except OSError:
        return
    for m in re.findall(r"^(VSA-[A-Z0-9-]+)", text, re.M):
        seen.setdefault(m, now)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """Whether 127.0.0.1:port is in LISTEN state (without connecting to it:
    QEMU's listening socket netdev takes the first connection as its peer)."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        return any(ln.split()[1] == want and ln.split()[3] == "0A" for ln in list(f)[1:])


def nc_run(args, peer, workdir):
    image = os.path.join(args.guests, "linux-nc.img")
    serials = [os.path.join(workdir, f"nc-{peer}-{i + 1}.serial.txt") for i in range(2)]
    for s in serials:
        if os.path.exists(s):
            os.unlink(s)
    procs, logs = [], []
    start = time.monotonic()
    ends = []
    if peer == "qemu":
        port = free_port()
        for i in range(2):
            how = f"listen=127.0.0.1:{port}" if i == 0 else f"connect=127.0.0.1:{port}"
            cmd = qemu_base(args.qemu_binary, image, serials[i]) + [
                "-netdev", f"socket,id=n0,{how}", "-device", f"tulip,netdev=n0,mac={MACS[i]}"]
            logs.append(open(os.path.join(workdir, f"nc-{peer}-{i + 1}.stderr.txt"), "wb"))
            procs.append(subprocess.Popen(cmd, stdout=logs[-1], stderr=subprocess.STDOUT))
            if i == 0:  # the listener must be up before the other connects
                for _ in range(100):
                    if listening(port):
                        break
                    time.sleep(0.1)
    else:
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ends = [a, b]
        for i, end in enumerate(ends):
            cmd = vsa_base(args.vsa_vm, image, serials[i], args.timeout) + [
                "--nic", f"fd:{end.fileno()},mac={MACS[i]}"]
            logs.append(open(os.path.join(workdir, f"nc-{peer}-{i + 1}.stderr.txt"), "wb"))
            procs.append(subprocess.Popen(cmd, pass_fds=[end.fileno()], stdout=logs[-1], stderr=subprocess.STDOUT))
        for end in ends:
            end.close()
    rcs = [None, None]
    seen = [{}, {}]
    while any(rc is None for rc in rcs) and time.monotonic() - start < args.timeout + 60:
        for i, p in enumerate(procs):
            if rcs[i] is None:
                rcs[i] = p.poll()
            note_markers(serials[i], seen[i], time.monotonic() - start)
        time.sleep(0.25)
    for i, p in enumerate(procs):
        if rcs[i] is None:
            p.kill()
            rcs[i] = p.wait()
        logs[i].close()
    total = time.monotonic() - start
    texts = [open(s, "rb").read().decode("latin-1") if os.path.exists(s) else "" for s in serials]
    recv = re.search(r"^VSA-NET-NC-RECV (\d+) ([0-9.]+)\s*$", texts[0], re.M)
    sent = re.search(r"^VSA-NET-NC-SENT (\d+) ([0-9.]+)\s*$", texts[1], re.M)
    want = 16 << 20
    if not recv or not sent or any(rc != 0 for rc in rcs):
        bad = [ln for t in texts for ln in t.splitlines() if re.match(r"VSA-NET-(NC|PING)", ln)]
        return {"error": f"exit {rcs}, {bad or 'no nc result'}"}
    nbytes, secs = int(recv.group(1)), float(recv.group(2))
    if nbytes != want:
        return {"error": f"received {nbytes} bytes, sent {want}"}
    return {"mbs": nbytes / 1e6 / secs, "secs": secs, "sender_secs": float(sent.group(2)), "total": total,
            "host_secs": host_interval(seen[0], "VSA-NET-NC-FIRST", "VSA-NET-NC-END")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--guests", required=True, help="build directory of tests/guests (linux-nat.img, linux-nc.img)")
    ap.add_argument("--vsa-vm", required=True)
    ap.add_argument("--qemu-binary", default="qemu-system-i386")
    ap.add_argument("--fetch-mib", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=1200, help="host seconds per guest run")
    ap.add_argument("--only", choices=["fetch", "nc"], help="one half only")
    ap.add_argument("--workdir")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="vsa-net-bench-")
    os.makedirs(workdir, exist_ok=True)

    results = {}
    failures = []
    peers = ["vsa-vm", "qemu"]
    if args.only != "nc":
        size = args.fetch_mib << 20
        payload = nat_test.payload_bytes(size)
        digest = hashlib.sha256(payload).hexdigest()
        server = nat_test.serve(payload)
        for rep in range(args.repeat):
            for peer in (peers if rep % 2 == 0 else peers[::-1]):
                r = fetch_run(args, peer, workdir, size, digest)
                print(f"fetch {peer} run {rep + 1}: {r}", flush=True)
                results.setdefault(("fetch", peer), []).append(r)
        server.shutdown()
    if args.only != "fetch":
        for rep in range(args.repeat):
            for peer in (peers if rep % 2 == 0 else peers[::-1]):
                r = nc_run(args, peer, workdir)
                print(f"nc {peer} run {rep + 1}: {r}", flush=True)
                results.setdefault(("nc", peer), []).append(r)

    rows = []
    best = {}
    for (kind, peer), runs in results.items():
        good = [r for r in runs if "error" not in r]
        failures += [f"{kind} {peer}: {r['error']}" for r in runs if "error" in r]
        if good:
            best[(kind, peer)] = max(good, key=lambda r: r["mbs"])
    def cell(r):
        host = f", host {r['host_secs']:.1f} s" if r.get("host_secs") else ""
        return f"{r['mbs']:.2f} MB/s ({r['secs']:.2f} s{host})"

    for kind, what in (("fetch", f"host to guest, NAT, {args.fetch_mib} MiB HTTP"),
                       ("nc", "guest to guest, TCP, 16 MiB")):
        v, q = best.get((kind, "vsa-vm")), best.get((kind, "qemu"))
        if not v and not q:
            continue
        ratio = f"{v['mbs'] / q['mbs']:.2f}" if v and q else "-"
        rows.append(f"| {what} | {cell(v)} |" if v else f"| {what} | failed |")
        rows[-1] += f" {cell(q)} | {ratio} |" if q else " failed | - |"
    table = ["| transfer | vsa-vm | QEMU 7.2 TCG | vsa-vm / QEMU |", "| --- | --- | --- | --- |"] + rows
    print("\n".join(table))
    for f in failures:
        print(f"FAILED {f}")
    print(f"logs in {workdir}")
    if args.record and rows:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        with open(args.results, "a") as f:
            f.write(f"\n## Virtual network throughput: {now}\n\n"
                    f"`tests/bench/net_bench.py --repeat {args.repeat}`, host: {cpu_model()}, "
                    f"{os.cpu_count()} cores; best of {args.repeat}, guest seconds.\n\n" + "\n".join(table) + "\n")
    return 1 if failures or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
