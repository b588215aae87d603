#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Two Linux guests on one cable: net_test.py --vsa-vm BIN --image linux-net.img

Makes one AF_UNIX SOCK_SEQPACKET socketpair and starts two vsa-vm workers
on the vsa.net image, each with one end as its DEC 21140 (vsa-vm --nic
fd:N,mac=...). The guests' /init (init.sh, vsa.net) loads tulip, takes
10.0.0.1 and 10.0.0.2 from the last byte of the MAC, and pings the other;
both must report a reply (VSA-NET-PING-OK), answered echoes, and power off.
Prints `N passed, N failed` and exits non-zero on a failure.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

from guest_checks import Checks, read_log as read

MACS = ["00:03:ff:00:00:01", "00:03:ff:00:00:02"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vsa-vm", required=True)
    ap.add_argument("--image", required=True, help="linux-net.img")
    ap.add_argument("--timeout", type=float, default=1500, help="host seconds for both guests")
    ap.add_argument("--workdir", help="keep serial logs here (default: a temporary directory)")
    args = ap.parse_args()

    workdir = args.workdir or tempfile.mkdtemp(prefix="vsa-net-test-")
    os.makedirs(workdir, exist_ok=True)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    procs, serials = [], []
    start = time.monotonic()
    for i, end in enumerate((a, b)):
        serial = os.path.join(workdir, f"guest{i + 1}.serial.txt")
        serials.append(serial)
        cmd = [args.vsa_vm, "--memory", "128M", "--disk", args.image, "--readonly",
               "--serial", f"file:{serial}", "--timeout", str(int(args.timeout)),
               "--nic", f"fd:{end.fileno()},mac={MACS[i]}"]
        out = open(os.path.join(workdir, f"guest{i + 1}.stderr.txt"), "wb")
        procs.append(subprocess.Popen(cmd, pass_fds=[end.fileno()], stdout=out, stderr=subprocess.STDOUT))
    # The workers hold their ends now.
    a.close()
    b.close()
    rcs = [None, None]
    while any(rc is None for rc in rcs) and time.monotonic() - start < args.timeout + 60:
        for i, p in enumerate(procs):
            if rcs[i] is None:
                rcs[i] = p.poll()
        time.sleep(0.5)
    for i, p in enumerate(procs):
        if rcs[i] is None:
            p.kill()
            rcs[i] = p.wait()
    total = time.monotonic() - start

    checks = Checks()
    check = checks.check

    for i, path in enumerate(serials):
        text = read(path)
        lines = text.splitlines()
        peer = f"10.0.0.{2 - i}"
        tag = f"guest{i + 1}"
        check("VSA-LINUX-BOOT-OK" in text, f"{tag} booted")
        check(f"VSA-NET-MAC {MACS[i]}" in text, f"{tag} eth0 has the configured MAC",
              next((ln for ln in lines if ln.startswith("VSA-NET-MAC")), "no VSA-NET-MAC line"))
        ping = next((ln for ln in lines if ln.startswith("VSA-NET-PING")), "")
        check(ping.startswith(f"VSA-NET-PING-OK {peer} ") and " rx=0 " not in ping and " rx=" in ping,
              f"{tag} pinged {peer}", ping or "no VSA-NET-PING line")
        echos = next((ln for ln in lines if ln.startswith("VSA-NET-ECHOS-ANSWERED")), "")
        check(echos != "" and echos.split()[-1] not in ("0", "VSA-NET-ECHOS-ANSWERED"),
              f"{tag} answered the peer's pings", echos or "no VSA-NET-ECHOS-ANSWERED line")
        check("insmod failed" not in text, f"{tag} loaded tulip")
        # /proc/net/dev: rx bytes packets errs drop fifo frame compressed
        # multicast, then tx bytes packets errs drop fifo colls carrier.
        dev = next((ln.split() for ln in lines if ln.startswith("VSA-NET-DEV eth0:")), [])
        check(len(dev) == 18 and dev[4] == dev[5] == dev[12] == dev[13] == "0",
              f"{tag} counted no receive or transmit errors", " ".join(dev[2:]) or "no VSA-NET-DEV line")
        check("tulip_stop_rxtx() failed" not in text, f"{tag}: tulip stopped its DMA when it asked to")
        for ln in lines:
            if ln.startswith(("VSA-NET-DEV", "VSA-NET-DMESG")):
                print(f"  {tag} {ln}")
        check(rcs[i] == 0, f"{tag} powered off", f"exit status {rcs[i]}")
    print(f"TIMING both guests {total:.1f} s")
    print(f"logs in {workdir}")
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
