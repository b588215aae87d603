#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Runs the Perl SOAP::Lite scenario (soap_lite_client.pl) against a live vsad.

Usage: run_soap_lite_client.py vsad vsa-vm boot.iso

Makes two accounts before vsad starts (an administrator and "viewer"),
starts vsad with real vsa-vm workers, copies the ISO into the default VM
folder (inside the allowed roots) and runs the Perl client, whose exit
status and "N passed, N failed" line are the result.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vsad_fixture import Vsad  # noqa: E402

PASSWORDS = {"admin": "perl-admin-Secret-1", "viewer": "perl-viewer-Secret-2"}


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    vsad_binary, worker, iso = (os.path.abspath(a) for a in sys.argv[1:4])
    data_dir = tempfile.mkdtemp(prefix="vsad-perl-")
    daemon = None
    try:
        for name, flags in (("admin", ["--admin"]), ("viewer", [])):
            subprocess.run([vsad_binary, "user", "add", name, *flags, f"--data-dir={data_dir}", "--password-stdin"],
                           input=PASSWORDS[name] + "\n", text=True, check=True, capture_output=True, timeout=120)
        daemon = Vsad(vsad_binary, data_dir=data_dir, defines={"vm.worker_binary": worker})
        media = os.path.join(data_dir, "Virtual Machines", "media")
        os.makedirs(media, exist_ok=True)
        shutil.copy(iso, os.path.join(media, "boot.iso"))
        done = subprocess.run(["perl", os.path.join(os.path.dirname(os.path.abspath(__file__)), "soap_lite_client.pl"),
                               daemon.endpoint, daemon.certificate, "admin", PASSWORDS["admin"], "viewer",
                               PASSWORDS["viewer"], os.path.realpath(os.path.join(media, "boot.iso"))],
                              timeout=600)
        code = daemon.stop()
        daemon = None
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
