#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The full appliance image test of issue 8 (ctest label `image`).

Builds the image with image/build.sh (unless --image names one), then boots
a copy-on-write overlay of the raw disk under QEMU TCG with user networking
and a loopback port forward to port 443:
  1. BIOS (SeaBIOS) first boot: systemd starts vsad, the appliance console
     on the serial line shows the management URL and the generated
     password; SOAP calls with it succeed; the web UI's pages load; the
     password is changed from the serial console (the old one then fails,
     the new one works); an ACPI power button press powers it off cleanly.
  2. UEFI (OVMF) boot of the same disk: the console comes up again and the
     changed password still works; ACPI power-off.
Prints TIMING lines (build, boot-to-ready) and "N passed, N failed".

usage: image_boot_test.py (--build IMAGE_BUILD_SH | --image RAW) [--work DIR]
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoke_test import Checks, Guest, free_port, get, soap  # noqa: E402

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Qmp:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        for _ in range(100):
            try:
                self.sock.connect(path)
                break
            except OSError:
                time.sleep(0.1)
        self.file = self.sock.makefile("rw")
        self.file.readline()
        self.command("qmp_capabilities")

    def command(self, name):
        self.file.write(json.dumps({"execute": name}) + "\n")
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "return" in reply or "error" in reply:
                return reply


def boot(raw, firmware, port, work):
    overlay = os.path.join(work, f"overlay-{firmware}.qcow2")
    if firmware == "bios":
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", raw, "-F", "raw", overlay], check=True)
    qmp = os.path.join(work, f"qmp-{firmware}.sock")
    command = ["qemu-system-x86_64", "-M", "pc", "-m", "2048", "-smp", "2", "-accel", "tcg",
               "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
               "-qmp", f"unix:{qmp},server=on,wait=off",
               "-drive", f"file={os.path.join(work, 'overlay-bios.qcow2')},if=ide,format=qcow2",
               "-nic", f"user,model=e1000,hostfwd=tcp:127.0.0.1:{port}-:443"]
    if firmware == "uefi":
        command += ["-bios", "/usr/share/ovmf/OVMF.fd"]
    guest = Guest(command)
    return guest, Qmp(qmp)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build")
    parser.add_argument("--image")
    parser.add_argument("--work")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    checks = Checks()
    check = checks.check

    raw = args.image
    if args.build:
        started = time.monotonic()
        top = os.path.dirname(os.path.dirname(os.path.abspath(args.build)))
        result = subprocess.run([args.build], cwd=top)
        print(f"TIMING image_build_s={time.monotonic() - started:.0f}")
        if not check(result.returncode == 0, "image/build.sh built the image"):
            return checks.summary()
        out = os.path.join(top, "build-image", "out")
        raw = sorted(f for f in os.listdir(out) if f.endswith(".raw"))[-1]
        raw = os.path.join(out, raw)
    work = args.work or tempfile.mkdtemp(prefix="vsa-image-test-")
    os.makedirs(work, exist_ok=True)
    port = free_port()
    new_password = "console-changed-1"

    # 1. BIOS, first boot.
    started = time.monotonic()
    guest, qmp = boot(raw, "bios", port, work)
    try:
        shown = guest.wait_for(r"Password\s+(\S{12,})", args.timeout)
        url = guest.wait_for(r"Manage this server at\s+(https://\S+)", 5)
        if not check(shown is not None, "BIOS boot: the console shows the generated password"):
            return checks.summary()
        ready = time.monotonic() - started
        password = ANSI.sub("", shown.group(1))
        check(url is not None and url.group(1) == "https://10.0.2.15/",
              "the console shows the management URL (DHCP on the first NIC)")
        deadline = time.monotonic() + 120
        status, body = 0, ""
        while time.monotonic() < deadline:
            try:
                status, body = soap(port, "IVMVirtualServer_get_Version", "admin", password)
                break
            except OSError:
                time.sleep(2)
        check(status == 200 and "VersionResponse" in body, f"SOAP get_Version with that password ({status})")
        status, body = soap(port, "IVMVirtualServer_get_Name", "admin", password)
        check(status == 200 and "NameResponse" in body, "SOAP get_Name")
        status, body = soap(port, "IVMVirtualServer_get_HostInfo", "admin", password)
        check(status == 200, "SOAP get_HostInfo")
        status, body = soap(port, "IVMVirtualServer_get_Version", "admin", "not-the-password")
        check(status == 401, "a wrong password is refused")
        # A VM runs: vsa-vm workers start, and run, under the hardened unit.
        status, body = soap(port, "IVMVirtualServer_CreateVirtualMachine", "admin", password,
                            [("configurationName", "image-test"), ("configurationPath", "")])
        vm = re.search(r"<[^>]*returnval[^>]*>([^<]+)<", body)
        if check(status == 200 and vm is not None, f"SOAP CreateVirtualMachine ({status})"):
            this = [("_this", vm.group(1))]
            status, body = soap(port, "IVMVirtualMachine_Startup", "admin", password, this)
            check(status == 200, f"SOAP Startup ({status}) {body[-300:] if status != 200 else ''}")
            state = None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                status, body = soap(port, "IVMVirtualMachine_get_State", "admin", password, this)
                state = re.search(r"returnval[^>]*>(\d+)<", body)
                if state and state.group(1) == "5":
                    break
                time.sleep(2)
            check(state is not None and state.group(1) == "5", "the VM is running (vmVMState_Running)")
            status, body = soap(port, "IVMVirtualMachine_TurnOff", "admin", password, this)
            check(status == 200, f"SOAP TurnOff ({status})")
        for page in ("/", "/login.html", "/index.html", "/js/soap.js", "/vendor/novnc/core/rfb.js"):
            try:
                status, _ = get(port, page)
            except OSError as e:
                status = str(e)
            check(status == 200, f"web UI {page} loads ({status})")

        # Change the password at the serial console: P, then the new one twice.
        # (vsad user turns echo off with TCSAFLUSH at each prompt, which
        # drops anything typed before it: answer each prompt once it shows.)
        guest.send("P")
        guest.wait_for(r"New password:", 60)
        time.sleep(0.5)
        guest.send(new_password + "\n")
        guest.wait_for(r"Repeat password:", 30)
        time.sleep(0.5)
        guest.send(new_password + "\n")
        changed = guest.wait_for(r"Done\. Sessions with the old password", 60)
        check(changed is not None, "the console changed the administrator's password")
        guest.send("x")
        time.sleep(2.5)  # vsad picks the change up within a second
        check(soap(port, "IVMVirtualServer_get_Version", "admin", password)[0] == 401,
              "the old password no longer works")
        check(soap(port, "IVMVirtualServer_get_Version", "admin", new_password)[0] == 200,
              "the new password works")
        check(guest.wait_for(r"Password\s+\(changed by the administrator\)", 30) is not None,
              "the console no longer shows a password")

        qmp.command("system_powerdown")
        try:
            guest.proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            pass
        check(guest.proc.returncode == 0 and guest.wait_for(r"reboot: Power down", 1) is not None,
              f"ACPI power button: clean power-off (QEMU exit {guest.proc.returncode})")
        print(f"TIMING bios_first_boot_to_console_ready_s={ready:.0f}")
    finally:
        if guest.proc.poll() is None:
            guest.proc.kill()
            guest.proc.wait()

    # 2. UEFI, second boot of the same disk.
    started = time.monotonic()
    guest, qmp = boot(raw, "uefi", port, work)
    try:
        shown = guest.wait_for(r"Manage this server at\s+(https://\S+)", args.timeout)
        if check(shown is not None, "UEFI boot: the console comes up"):
            print(f"TIMING uefi_boot_to_console_ready_s={time.monotonic() - started:.0f}")
            status = 0
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    status = soap(port, "IVMVirtualServer_get_Version", "admin", new_password)[0]
                    break
                except OSError:
                    time.sleep(2)
            check(status == 200, "the changed password works after a reboot")
        qmp.command("system_powerdown")
        try:
            guest.proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            pass
        check(guest.proc.returncode == 0, f"UEFI: clean power-off (QEMU exit {guest.proc.returncode})")
    finally:
        if guest.proc.poll() is None:
            guest.proc.kill()
            guest.proc.wait()
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
