#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Two Linux guests on one vsad virtual network, through the SOAP API:
vsad_net_test.py --vsad BIN --vsa-vhd BIN --vsa-vm BIN --image linux-dhcp.img

The management path end to end, with python3-zeep against a live vsad:
a guest-only virtual network whose DHCP server hands out exactly two
addresses (10.237.0.16-17) and the default gateway 10.237.0.2, two VMs
with one DEC 21140 each on it, booted from linux-dhcp.img (init.sh
`vsa.net=dhcp vsa.ping=10.237.0.16,10.237.0.17 vsa.carrier vsa.fetch=...`):
each guest takes a lease with busybox udhcpc from vsad's DHCP server and
pings the other address. Then the test turns the network's NAT on while
it runs (HostAdapter "NAT": the NAT gateway is the DHCP default gateway),
and each guest, which waits for its router to answer, fetches a file over
HTTP from a server this test runs on the host's 127.0.0.1:18080. The test
reads the network's traffic counters (IVMVirtualNetwork Bytes/Packets*),
detaches both cables (DetachFromVirtualNetwork while running: the guests'
tulip must report carrier 0), attaches them again (carrier 1), and the
guests power off. COM1 of each VM is vsad's default text log.

Prints `N passed, N failed` and exits non-zero on a failure.
"""
import argparse
import hashlib
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "appliance"))
from vsad_fixture import Vsad  # noqa: E402
from zeep_support import make_client, wait_for  # noqa: E402
from nat_test import payload_bytes, serve  # noqa: E402
from guest_checks import Checks, fixed_vhd_from_image, read_log as read, stop_vsad  # noqa: E402

POOL = ["10.237.0.16", "10.237.0.17"]
GATEWAY = "10.237.0.2"  # the DHCP default gateway, and the NAT's once NAT is on
PAYLOAD_SIZE = 1 << 20
RUNNING, TURNED_OFF = 5, 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vsad", required=True)
    ap.add_argument("--vsa-vhd", required=True)
    ap.add_argument("--vsa-vm", required=True)
    ap.add_argument("--image", required=True, help="linux-dhcp.img")
    ap.add_argument("--timeout", type=float, default=1500, help="host seconds for each wait")
    args = ap.parse_args()

    checks = Checks()
    check = checks.check

    start = time.monotonic()
    payload = payload_bytes(PAYLOAD_SIZE)
    server = serve(payload)
    daemon = Vsad(args.vsad, defines={"vm.worker_binary": args.vsa_vm, "dvd.discover_host_drives": "false"})
    logs = []
    try:
        s = make_client(daemon).service
        net = s.IVMVirtualServer_CreateVirtualNetwork(configurationName="vsa-net-test", configurationPath="")
        dhcp = s.IVMVirtualNetwork_get_DHCPVirtualNetworkServer(_this=net)
        s.IVMDHCPVirtualNetworkServer_ConfigureDHCPServer(
            _this=dhcp, network="10.237.0.0", networkMask="255.255.0.0", startingIPAddress=POOL[0],
            endingIPAddress=POOL[1], serverIPAddress="10.237.0.1")
        s.IVMDHCPVirtualNetworkServer_set_DefaultGatewayAddress(_this=dhcp, address=GATEWAY)
        s.IVMDHCPVirtualNetworkServer_set_IsEnabled(_this=dhcp, enabled=True)
        check((s.IVMVirtualNetwork_get_HostAdapter(_this=net) or "") == "", "the network starts guest-only")

        vms, nics = [], []
        for i in range(2):
            name = f"netguest{i + 1}"
            vm = s.IVMVirtualServer_CreateVirtualMachine(configurationName=name, configurationPath="")
            folder = os.path.dirname(s.IVMVirtualMachine_get_File(_this=vm))
            vhd = os.path.join(folder, name + ".vhd")
            fixed_vhd_from_image(args.vsa_vhd, args.image, vhd)
            s.IVMVirtualMachine_set_Memory(_this=vm, memory=128)
            s.IVMVirtualMachine_AddHardDiskConnection(_this=vm, hardDiskPath=vhd, busType=0, busNumber=0,
                                                      deviceNumber=0)
            nic = s.IVMVirtualMachine_AddNetworkAdapter(_this=vm)
            s.IVMNetworkAdapter_AttachToVirtualNetwork(_this=nic, virtualNetwork=net)
            vms.append(vm)
            nics.append(nic)
            logs.append(os.path.join(folder, name + ".com1.log"))
        for vm in vms:
            s.IVMVirtualMachine_Startup(_this=vm)
        check(wait_for(lambda: all(s.IVMVirtualMachine_get_State(_this=vm) == RUNNING for vm in vms), 120),
              "both VMs run")

        def wait_marker(pattern, what, limit=args.timeout):
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                found = [re.search(pattern, read(log), re.M) for log in logs]
                if all(found):
                    return found
                if not daemon.alive():
                    break
                time.sleep(2)
            found = [re.search(pattern, read(log), re.M) for log in logs]
            check(all(found), what, f"not seen in {[os.path.basename(p) for p, f in zip(logs, found) if not f]}")
            return None

        # DHCP: each guest holds one of the two pool addresses, router none.
        leases = wait_marker(r"^VSA-NET-DHCP-(OK|FAILED).*$", "both guests got a DHCP answer")
        if leases:
            lines = [m.group(0) for m in leases]
            addresses = sorted(ln.split()[1] for ln in lines if ln.startswith("VSA-NET-DHCP-OK"))
            check(addresses == POOL, "the guests hold the two pool addresses", "; ".join(lines))
            check(all(f"router={GATEWAY}" in ln for ln in lines), "the router is the DHCP default gateway",
                  "; ".join(lines))
        pings = wait_marker(r"^VSA-NET-ECHOS-ANSWERED.*$", "both guests finished their pings")
        if pings:
            for i, log in enumerate(logs):
                text = read(log)
                ping = next((ln for ln in text.splitlines() if ln.startswith("VSA-NET-PING")), "")
                check(ping.startswith("VSA-NET-PING-OK") and "rx=0 " not in ping,
                      f"guest {i + 1} pinged the other", ping or "no VSA-NET-PING line")
                echos = pings[i].group(0).split()
                check(len(echos) == 2 and echos[1] != "0", f"guest {i + 1} answered the other's pings",
                      pings[i].group(0))

        # NAT on, while the guests run: their router now leads to the host.
        check(server.requests == 0, "nothing reached the host while the network was guest-only",
              f"{server.requests} requests")
        s.IVMVirtualNetwork_set_HostAdapter(_this=net, adapter="NAT")
        fetched = wait_marker(r"^VSA-NET-FETCH-(OK|FAILED).*$", "both guests fetched from the host")
        if fetched:
            want = hashlib.sha256(payload).hexdigest()[:40]
            for i, m in enumerate(fetched):
                words = m.group(0).split()
                check(words[0] == "VSA-NET-FETCH-OK" and words[1:3] == [str(PAYLOAD_SIZE), want],
                      f"guest {i + 1} got the host's file through the NAT", m.group(0))
            check(server.requests == 2, "the host's server answered both", f"{server.requests} requests")

        # The network's counters: the last 60 seconds hold the pings.
        def series(prop):
            return list(getattr(s, f"IVMVirtualNetwork_get_{prop}")(_this=net))
        history = {p: series(p + "History") for p in ("PacketsReceived", "PacketsSent", "PacketsDropped",
                                                    "BytesReceived", "BytesSent", "BytesDropped")}
        current = {p: getattr(s, f"IVMVirtualNetwork_get_{p}")(_this=net) for p in history}
        print(f"  counters now {current}")
        print("  history sums " + str({p: sum(v) for p, v in history.items()}))
        check(all(len(v) == 60 for v in history.values()), "each history holds 60 seconds")
        got, sent = sum(history["PacketsReceived"]), sum(history["PacketsSent"])
        check(got >= 12, "the network counted the guests' frames", f"{got} packets received in 60 s")
        check(sent >= got - sum(history["PacketsDropped"]), "what came in went out (flooding counts more)",
              f"received {got} sent {sent}")
        byte_ratio = sum(history["BytesReceived"]) / max(got, 1)
        check(42 <= byte_ratio <= 1518, "bytes per received frame are Ethernet sized", f"{byte_ratio:.1f}")
        check(sum(history["PacketsDropped"]) == 0, "nothing dropped", str(history["PacketsDropped"][:10]))

        # Cables: pulled while running (the guest's tulip polls its PHY).
        ready = wait_marker(r"^VSA-NET-CARRIER-READY.*$", "both guests watch their carrier")
        if ready:
            pulled = time.monotonic()
            for nic in nics:
                s.IVMNetworkAdapter_DetachFromVirtualNetwork(_this=nic)
            down = wait_marker(r"^VSA-NET-CARRIER 0.*$", "both guests saw the cable pulled", 600)
            if down:
                print(f"  carrier loss seen {time.monotonic() - pulled:.0f} s after the detach")
                plugged = time.monotonic()
                for nic in nics:
                    s.IVMNetworkAdapter_AttachToVirtualNetwork(_this=nic, virtualNetwork=net)
                up = wait_marker(r"^VSA-NET-CARRIER 1.*$", "both guests saw the cable back", 600)
                if up:
                    print(f"  carrier back {time.monotonic() - plugged:.0f} s after the attach")

        # The guests power off by themselves.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and any(
                s.IVMVirtualMachine_get_State(_this=vm) != TURNED_OFF for vm in vms):
            time.sleep(2)
        check(all(s.IVMVirtualMachine_get_State(_this=vm) == TURNED_OFF for vm in vms), "both guests powered off")
    except Exception as error:  # noqa: BLE001 - any failure is a test failure with its text
        check(False, "the scenario ran", repr(error))
    finally:
        for i, log in enumerate(logs):
            for ln in read(log).splitlines():
                if ln.startswith(("VSA-NET-DEV", "VSA-NET-DHCP", "VSA-NET-CARRIER", "VSA-NET-FETCH", "VSA-NET-PING")):
                    print(f"  guest {i + 1} {ln}")
        if checks.failed:
            print("--- vsad stderr (tail) ---\n" + read(daemon.stderr_path)[-3000:])
        server.shutdown()
        stop_vsad(daemon, checks)
    print(f"TIMING {time.monotonic() - start:.1f} s")
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
