#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The admin UI in a real browser (issue 7): starts a real vsad (real VM
workers, a long-poll listener on its own port, as deployed) with the
typewriter CD in its data folder, then runs browser_suite.mjs, which drives
Debian's chromium through playwright-core. The screenshots of every page
land in --artifacts.

  run_browser_suite.py --vsad BIN --vsa-vm BIN --client-dir DIR
                       --typewriter ISO --artifacts DIR
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "appliance"))
from vsad_fixture import Vsad  # noqa: E402


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vsad", required=True)
    parser.add_argument("--vsa-vm", required=True)
    parser.add_argument("--client-dir", required=True, help="where npm_ci.sh installed the suite")
    parser.add_argument("--typewriter", required=True)
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()

    if not os.access(args.chromium, os.X_OK):
        print(f"run_browser_suite: {args.chromium} is missing (Debian package chromium; cmake/setup.sh installs it)")
        return 1
    shutil.rmtree(args.artifacts, ignore_errors=True)
    os.makedirs(args.artifacts)
    daemon = Vsad(args.vsad, defines={"vm.worker_binary": args.vsa_vm, "https.longpoll_port": free_port()})
    status = 1
    try:
        # Inside the folders vsad may use (its VM folder).
        media = os.path.join(daemon.data_dir, "Virtual Machines")
        os.makedirs(media, exist_ok=True)
        iso = os.path.join(media, "typewriter.iso")
        shutil.copyfile(args.typewriter, iso)
        env = dict(os.environ, VSA_URL=daemon.url, VSA_USER=daemon.user, VSA_PASSWORD=daemon.password,
                   VSA_ISO=iso, VSA_ARTIFACTS=os.path.abspath(args.artifacts), VSA_CHROMIUM=args.chromium)
        # The suite's report goes to the test's output and, with the
        # screenshots, to the artifacts folder.
        suite = subprocess.run(["node", os.path.join(args.client_dir, "browser_suite.mjs")], env=env, timeout=900,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sys.stdout.write(suite.stdout)
        with open(os.path.join(args.artifacts, "suite.log"), "w") as log:
            log.write(suite.stdout)
        status = suite.returncode
    finally:
        code = daemon.stop()
        if code != 0:
            print(f"run_browser_suite: vsad exited with status {code}; its log: {daemon.stderr_path}")
            status = status or 1
        if status != 0:
            try:
                with open(daemon.stderr_path, errors="replace") as log:
                    print("--- vsad stderr (last 60 lines) ---")
                    print("".join(log.readlines()[-60:]))
            except OSError:
                pass
        else:
            shutil.rmtree(daemon.data_dir, ignore_errors=True)
    print(f"run_browser_suite: screenshots in {os.path.abspath(args.artifacts)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
