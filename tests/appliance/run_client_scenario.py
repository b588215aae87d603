#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs one real client's management scenario against a live vsad.

Usage: run_client_scenario.py vsad vsa-vm boot.iso CLIENT_COMMAND...

Makes two accounts before vsad starts (an administrator and "viewer"),
starts vsad with real vsa-vm workers, copies the ISO into the default VM
folder (inside the allowed roots) and runs
  CLIENT_COMMAND... URL CA_FILE admin ADMIN_PASSWORD viewer VIEWER_PASSWORD ISO
whose exit status and "N passed, N failed" line are the result. Used for the
python3-zeep (zeep_scenario_client.py), Perl SOAP::Lite
(soap_lite_client.pl), node soap (tests/clients/node/soap_client.mjs) and
gSOAP C++ (gsoap_scenario_client) scenarios, which share this contract.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402

PASSWORDS = {"admin": "client-admin-Secret-1", "viewer": "client-viewer-Secret-2"}


def show_logs(data_dir):
    """On a failure, print vsad's and the workers' logs: CI keeps only the output."""
    for root, _, files in os.walk(data_dir):
        for name in sorted(files):
            if name == "vsad.stderr" or name.endswith(".log"):
                path = os.path.join(root, name)
                with open(path, errors="replace") as f:
                    lines = f.readlines()[-60:]
                print(f"--- {os.path.relpath(path, data_dir)} (last {len(lines)} lines)")
                print("".join(lines), end="")


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    vsad_binary, worker, iso = (os.path.abspath(a) for a in sys.argv[1:4])
    client = sys.argv[4:]
    data_dir = tempfile.mkdtemp(prefix="vsad-client-")
    daemon = None
    try:
        for name, flags in (("admin", ["--admin"]), ("viewer", [])):
            subprocess.run([vsad_binary, "user", "add", name, *flags, f"--data-dir={data_dir}", "--password-stdin"],
                           input=PASSWORDS[name] + "\n", text=True, check=True, capture_output=True, timeout=120)
        daemon = Vsad(vsad_binary, data_dir=data_dir, defines={"vm.worker_binary": worker})
        media = os.path.join(data_dir, "Virtual Machines", "media")
        os.makedirs(media, exist_ok=True)
        shutil.copy(iso, os.path.join(media, "boot.iso"))
        done = subprocess.run([*client, daemon.endpoint, daemon.certificate, "admin", PASSWORDS["admin"], "viewer",
                               PASSWORDS["viewer"], os.path.realpath(os.path.join(media, "boot.iso"))],
                              timeout=600)
        code = daemon.stop()
        daemon = None
        if code != 0 or done.returncode != 0:
            show_logs(data_dir)
        if code != 0:
            print(f"vsad exited with status {code}")
            return 1
        return done.returncode
    finally:
        if daemon is not None:
            daemon.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
