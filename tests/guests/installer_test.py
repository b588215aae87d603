#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Debian 12's i386 installer CD boots on vsa-vm to its first dialog.

Boots debian-installer.iso (build-installer-iso.sh: the netboot installer
behind ISOLINUX, what mini.iso is) with `vsa-vm --cdrom ISO --boot cdrom
--memory 512M`, no disk (with 256M it stops at "Low memory mode: at least 273
megabytes of memory are required"), and drives it through the control socket
(--control-fd, control_protocol.h) like a person at the console:

  1. waits for the boot menu: ISOLINUX's vesamenu.c32 switches to a VESA
     graphics mode, the first one since power-on (the text dump then names
     a graphics mode; a text-mode menu would show "installer menu"), keeps
     menu.png;
  2. the menu has no timeout: selects the default entry "Install" with
     Enter, after editing its line (Tab, then EDIT typed at the end) unless
     --no-edit. The entry boots with vga=788 (an 800x600 framebuffer), so
     the installer's text frontend would draw on a graphics console the
     text dump cannot read: the default EDIT appends "vga=normal" (the
     boot loader takes the last vga=), "nomodeset" (else the bochs DRM
     driver the installer loads for the Bochs VBE display switches the
     console to a 1024x768 framebuffer); as few keys as possible, since
     every key costs vesamenu a graphics redraw (--edit can add
     "console=ttyS0,115200 console=tty0" for kernel messages on COM1);
  3. polls the text screen ("screenshot <path> text" every --interval
     seconds) until the installer's first dialog, the language choice
     ("Select a language" / "Choose language"), is on it; keeps
     first-screen.txt and first-screen.png; turns the VM off.

Every distinct screen is appended to screens.log, COM1 goes to serial.log,
all in --workdir. Prints TIMING lines (host seconds to the menu, to the
installer's first screen) and "N passed, N failed".

Usage: installer_test.py --vsa-vm build/hypervisor/vsa-vm
           --iso OUT/debian-installer.iso --workdir DIR [--timeout 3600]
Exit status: 0 the first screen appeared, 1 it did not (the last screen and
the serial log say where the boot stopped), 2 bad usage.
"""
import argparse
import os
import socket
import subprocess
import sys
import threading
import time

FIRST_SCREEN = ("Select a language", "Choose language")
DEFAULT_EDIT = " vga=normal nomodeset"

# PS/2 scan code set 2 make codes; the break code is F0 + make.
SET2 = {
    "a": "1c", "b": "32", "c": "21", "d": "23", "e": "24", "f": "2b", "g": "34", "h": "33", "i": "43",
    "j": "3b", "k": "42", "l": "4b", "m": "3a", "n": "31", "o": "44", "p": "4d", "q": "15", "r": "2d",
    "s": "1b", "t": "2c", "u": "3c", "v": "2a", "w": "1d", "x": "22", "y": "35", "z": "1a",
    "1": "16", "2": "1e", "3": "26", "4": "25", "5": "2e", "6": "36", "7": "3d", "8": "3e", "9": "46",
    "0": "45", " ": "29", "-": "4e", "=": "55", ",": "41", ".": "49", "/": "4a", ";": "4c",
    "\t": "0d", "\n": "5a",
}
SHIFTED = {"_": "-", "+": "="}
LSHIFT = "12"


class Control:
    """The supervisor's end of vsa-vm's control socket."""

    def __init__(self, sock):
        self.sock = sock
        self.seq = 0
        self.replies = {}
        self.events = []
        self.cond = threading.Condition()
        self.closed = False
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                with self.cond:
                    self.closed = True
                    self.cond.notify_all()
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                words = line.decode(errors="replace").split(" ")
                with self.cond:
                    if words[0] == "reply" and len(words) >= 3:
                        self.replies[int(words[1])] = " ".join(words[2:])
                    elif words[0] == "event":
                        self.events.append(" ".join(words[1:]))
                    self.cond.notify_all()

    def request(self, command, timeout=30):
        self.seq += 1
        seq = self.seq
        self.sock.sendall(f"{seq} {command}\n".encode())
        deadline = time.monotonic() + timeout
        with self.cond:
            while seq not in self.replies and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.replies.pop(seq, None)

    def key(self, codes):
        return self.request(f"key {codes}")

    def type_text(self, text):
        for ch in text:
            shift = ch.isupper() or ch in SHIFTED
            code = SET2[SHIFTED.get(ch, ch.lower())]
            if shift:
                self.key(LSHIFT)
            self.key(code)
            self.key("f0" + code)
            if shift:
                self.key("f0" + LSHIFT)
            # vesamenu redraws its edit line in a 640x480 graphics mode on
            # every key, slowly on an interpreted CPU: faster typing fills
            # the BIOS's 15-key buffer and keys are lost (seen on a loaded
            # host at 50 ms a key: "nomodeset" arrived as "no="; at 250 ms,
            # with 55 keys to type, as "nomset").
            time.sleep(0.4)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vsa-vm", required=True)
    parser.add_argument("--iso", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--memory", default="512M", help="guest RAM (the installer wants 273 MB)")
    parser.add_argument("--timeout", type=float, default=3600, help="host seconds to the first screen")
    parser.add_argument("--menu-timeout", type=float, default=300, help="host seconds to the boot menu")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between screen polls")
    parser.add_argument("--edit", default=DEFAULT_EDIT, help="text appended to the Install entry's line")
    parser.add_argument("--no-edit", action="store_true", help="just Enter on the default entry")
    args = parser.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    work = os.path.abspath(args.workdir)
    serial_log = os.path.join(work, "serial.log")
    screens_log = os.path.join(work, "screens.log")
    open(screens_log, "w").close()
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    cmd = [args.vsa_vm, "--memory", args.memory, "--cdrom", os.path.abspath(args.iso), "--boot", "cdrom",
           "--serial", f"file:{serial_log}", "--control-fd", str(child.fileno()),
           "--timeout", str(int(args.timeout + args.menu_timeout + 120))]
    print("running:", " ".join(cmd), flush=True)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, pass_fds=[child.fileno()])
    child.close()
    ctl = Control(parent)
    last_text = [None]
    passed = failed = 0

    def screen():
        """(reply, text) of the current screen; a new screen goes to screens.log."""
        path = os.path.join(work, "screen.txt")
        reply = ctl.request(f"screenshot {path} text")
        text = ""
        if reply and reply.startswith("ok") and os.path.exists(path):
            with open(path, errors="replace") as f:
                text = f.read()
            os.unlink(path)
        if text != last_text[0]:
            last_text[0] = text
            with open(screens_log, "a") as f:
                f.write(f"=== t={time.monotonic() - start:.1f}s {reply}\n{text}\n")
        return reply, text

    def png(name):
        return ctl.request(f"screenshot {os.path.join(work, name)}")

    def wait_for(condition, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            reply, text = screen()
            if reply and condition(reply, text):
                return reply, text
            time.sleep(args.interval)
        return None

    try:
        # SeaBIOS and ISOLINUX's banner use the text mode: the first
        # graphics mode is vesamenu's.
        def menu_up(reply, text):
            return "installer menu" in text or "mode=text" not in reply

        menu = wait_for(menu_up, args.menu_timeout)
        t_menu = time.monotonic() - start
        if menu is None:
            print(f"FAIL the boot menu did not appear in {args.menu_timeout:.0f} s")
            failed += 1
        else:
            print(f"PASS the boot menu is up ({menu[0]}) after {t_menu:.1f} s", flush=True)
            passed += 1
            time.sleep(3)  # vesamenu draws its background and entries
            png("menu.png")
            if not args.no_edit:
                ctl.type_text("\t")
                time.sleep(1)
                ctl.type_text(args.edit)
                time.sleep(0.5)
                png("menu-edited.png")
            ctl.type_text("\n")
            print("selected Install" + ("" if args.no_edit else f" with{args.edit!r} appended"), flush=True)
            found = wait_for(lambda reply, text: any(s in text for s in FIRST_SCREEN), args.timeout)
            t_first = time.monotonic() - start
            if found:
                print(f"PASS the installer's first screen after {t_first:.1f} s", flush=True)
                passed += 1
                time.sleep(1)
                png("first-screen.png")
                _, text = screen()
                with open(os.path.join(work, "first-screen.txt"), "w") as f:
                    f.write(text)
                print("--- first screen ---\n" + text + "--- end ---")
                print(f"TIMING installer host_s_menu={t_menu:.1f} host_s_first_screen={t_first:.1f}")
            else:
                png("last-screen.png")
                print(f"FAIL no installer screen after {t_first:.1f} s; the last screen:\n{last_text[0]}")
                failed += 1
    finally:
        if proc.poll() is None:
            ctl.request("turn-off", timeout=10)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        parent.close()
    print(f"vsa-vm exit status {proc.returncode}; events: {' | '.join(ctl.events)}")
    if os.path.exists(serial_log):
        with open(serial_log, errors="replace") as f:
            tail = f.read()[-3000:]
        print("--- COM1 (end) ---\n" + tail + "\n--- end ---")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
