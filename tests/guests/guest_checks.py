# SPDX-License-Identifier: GPL-2.0-or-later
"""What the real-guest tests share: the PASS/FAIL tally whose last line,
`N passed, N failed`, ctest's output shows, reading a serial log that may
not exist yet, and a fixed VHD holding a raw guest disk."""
import os
import shutil
import subprocess


class Checks:
    """Counts named checks and prints each as a PASS or FAIL line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, name, detail=""):
        print(("PASS " if ok else "FAIL ") + name + (f": {detail}" if detail else ""), flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        return ok

    def summary(self):
        """Prints the tally line; returns the exit status (1 on a failure)."""
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def stop_vsad(daemon, checks):
    """Stops a vsad_fixture.Vsad: its exit status is a check; its data
    folder (VM logs, configurations) goes if everything passed, else it is
    kept and named."""
    code = daemon.stop()
    checks.check(code == 0, "vsad stopped cleanly", f"exit {code}")
    if not checks.failed:
        daemon.cleanup()
    else:
        print(f"kept {daemon.data_dir}")


def read_log(path):
    """A serial log's text so far (latin-1: guests write any byte), or ""."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("latin-1")
    except OSError:
        return ""


def fixed_vhd_from_image(vsa_vhd, image, vhd):
    """Makes `vhd` a fixed VHD (vsa-vhd, whole MiB) holding the raw disk
    `image`: a fixed VHD is the raw disk plus a footer."""
    size = os.path.getsize(image)
    subprocess.run([vsa_vhd, "create", "fixed", vhd, f"{(size + (1 << 20) - 1) >> 20}M"],
                   check=True, capture_output=True)
    with open(image, "rb") as src, open(vhd, "r+b") as disk:
        shutil.copyfileobj(src, disk)
