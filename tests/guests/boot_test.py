#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Boots the Linux test guest (build-linux-image.sh) on an emulator and checks it.

The guest's /init (init.sh) prints on the first serial port:
  VSA-LINUX-BOOT-OK uptime=S       user space reached
  VSA-LINUX-KERNEL / -CPUINFO ...  what the kernel saw
  VSA-LINUX-IRQ 0: / LOC: ...      IRQ 0 on I/O APIC input 2 and local APIC
                                   timer ticks (APIC mode; not on Bochs)
  VSA-WL <name> <value>            workload results, recomputed here
  VSA-ORACLE-BEGIN ... END rc=N    cpu_oracle's output, compared with its
                                   native run (run-oracle-native.sh)
  VSA-LINUX-WORKLOAD-DONE S        guest seconds the workload took
and then powers off ("Shutdown" to port 8900h for vsa-vm and Bochs, ACPI
for QEMU). Each of those is one check; the last line is "N passed, N failed".

Emulators (one of):
  default   vsa-vm --memory 256M --disk IMG --readonly --serial stdio
            --timeout T (--vsa-vm PATH; exit status 0 = powered off)
  --qemu    qemu-system-i386 -M pc -cpu pentium2 -m 256 -nographic
            -drive file=IMG,format=raw,snapshot=on -no-reboot (TCG)
  --bochs   Bochs 2.7 (Debian's bochs + bochsbios), COM1 to a file, rfb
            display with no client wait, clock sync=none; it exits on the
            8900h shutdown port
Timings (host seconds to the boot marker, guest seconds of the workload,
host seconds in all) are printed as "TIMING ..." lines.

--quick expects the linux-quick.img variant (no oracle, one workload round);
--console vga (with --quick) the linux-vga.img variant, whose kernel console
is the VGA text console only: the text screen is dumped while the guest
runs and when it powers off (ScreenWatch), and the boot marker, every
workload result, the done marker and kernel messages must be on the last
screen, "Console: colour VGA+ 80x25" on some dumped screen (the kernel
prints it as vgacon starts; /init shows it again from dmesg, since the
boot scrolls it away). vsa-vm dumps through --screen-dump and SIGUSR1;
QEMU (-no-shutdown, QMP) through its monitor: CRTC start address and the
text memory at B8000h. Bochs is not supported with it.
--idle (with --quick) the linux-idle.img variant, which idles 30 s between
VSA-IDLE-BEGIN and VSA-IDLE-END: the emulator's CPU time over that window
is printed as idle_cpu_percent (and its peak RSS as peak_rss_mib).
--save-restore SECONDS (vsa-vm only) stops the guest half-way: vsa-vm runs
with --save-state FILE --save-after SECONDS and must exit 6 (state saved),
then a second vsa-vm --restore-state FILE on the same disk finishes the
boot; the checks run on the two serial logs joined. The .vsv size and the
save and restore times are printed as a "TIMING save_restore" line.
--cdrom-test (with --quick) expects the linux-cdrom.img variant (vsa.cdrom):
the test makes an ISO 9660 image (xorriso, Debian package xorriso) holding
/vsa/payload.bin (1.5 MiB of fixed pseudo-random bytes) and attaches it as
the primary slave CD drive (vsa-vm --cdrom, QEMU media=cdrom index=1). The
guest loads ata_piix, sr_mod, isofs and sd_mod and prints the payload's
SHA-256 (read through the PIIX bus master DMA), the SHA-256 of the disk's
first 4 MiB, and libata's port and device lines; checked here: both
digests, a PATA port with bus master DMA, no libata error handling, the
ATAPI device (ata1.01)
advertising UDMA/100, and both devices set to a DMA mode (sysfs xfer_mode:
XFER_MW_DMA_2 on a PIIX3, as Linux's ata_piix gives the 82371SB multiword
DMA only).
--input-test (with --quick) expects the linux-input.img variant (vsa.input):
the guest loads evdev, psmouse and the ACPI button driver and prints
/proc/bus/input/devices (VSA-INPUT-DEV lines), which must list an "ImPS/2"
PS/2 mouse (the IntelliMouse wheel protocol) and a "Power Button". It
switches /dev/input/mice to ImPS/2 (answer FA 03) and says VSA-MOUSE-READY;
the test then sends MOUSE_MOVES (vsa-vm: "mouse dx dy dz buttons" on a
--control-fd socketpair; QEMU: QMP input-send-event) and checks the bytes
the guest prints (VSA-MOUSE-BYTES): whole 4-byte packets, and per run of
equal button states the same buttons and the same motion sums (Linux may
split or merge motion; mousedev starts a new packet at every button
change). After the workload the guest says VSA-POWER-READY; the test
presses the power button (control "power-button"; QEMU system_powerdown),
the guest must print VSA-POWER-BUTTON-SEEN with a KEY_POWER press event
and power off with poweroff -f: exit status 0, on vsa-vm with its
"ACPI power off" line on stderr and "event powered-off" on the control
socket (QEMU: a SHUTDOWN event from the guest).
--qemu-deviations (default with --qemu) blanks, in both outputs before
comparing, what QEMU 7.2 is known to get wrong while real CPUs (and so the
native oracle, which vsa-vm is held to) agree on it:
  - the x87 denormal-operand flag (DE, 02h): QEMU never raises it;
  - FPREM1's quotient bits (C0, C1, C3): QEMU leaves them clear.

Usage:
  boot_test.py --image OUT/linux.img --expected OUT/cpu_oracle.expected \\
      [--vsa-vm build/hypervisor/vsa-vm | --qemu | --bochs] [--log FILE]
  boot_test.py --quick --image OUT/linux-quick.img --qemu
  boot_test.py --quick --input-test --image OUT/linux-input.img [--qemu]
Exit status: 0 all checks passed, 1 a check failed, 2 bad usage.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from guest_checks import Checks

BOOT_MARKER = "VSA-LINUX-BOOT-OK"
DONE_MARKER = "VSA-LINUX-WORKLOAD-DONE"
IDLE_BEGIN = "VSA-IDLE-BEGIN"
IDLE_END = "VSA-IDLE-END"


def expected_workload(quick):
    seq = "".join(f"{i}\n" for i in range(1, 100001)).encode()
    digest = hashlib.sha256(seq).hexdigest()
    s = 0
    for i in range(1, 100001):
        s = (s * 31 + i) % 1000003
    x = 0.0
    for i in range(1, 20001):
        x += 1 / i
    t = 0
    for i in range(1, 3001):
        t = (t * 7 + i) % 65521
    seq5000 = [str(i) for i in range(1, 5001)]
    wc = f"{sum(len(v) + 1 for v in seq5000)} {max(seq5000)}"
    return {
        "sha256": [digest] * (1 if quick else 5),
        "awk": [str(s)],
        "awkfp": [f"{x:.12f}"],
        "sh": [str(t)],
        "wc": [wc],
    }


class Emulator:
    """Starts the emulator; the guest's serial output lands in self.serial_path."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.serial_path = os.path.join(workdir, "serial.txt")
        self.stdout_path = os.path.join(workdir, "stdout.txt")
        self.proc = None
        self.cdrom = None  # an ISO for the primary slave CD drive (--cdrom-test)
        self.pass_fds = ()  # descriptors the emulator inherits (vsa-vm --control-fd)

    def command(self, image, timeout):
        raise NotImplementedError

    def start(self, image, timeout):
        cmd = self.command(image, timeout)
        self.cmdline = " ".join(cmd)
        out = open(self.serial_path if self.serial_on_stdout else self.stdout_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     cwd=self.workdir, start_new_session=True, pass_fds=self.pass_fds)
        out.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def powered_off(self, rc, serial):
        return rc == 0


class VsaVm(Emulator):
    serial_on_stdout = True

    def __init__(self, workdir, binary, extra, screen_path=None):
        super().__init__(workdir)
        self.binary, self.extra, self.screen_path = binary, extra, screen_path

    def command(self, image, timeout):
        screen = ["--screen-dump", self.screen_path] if self.screen_path else []
        cdrom = ["--cdrom", self.cdrom] if self.cdrom else []
        return [self.binary, "--memory", "256M", "--disk", image, "--readonly", "--serial", "stdio",
                "--timeout", str(int(timeout))] + cdrom + screen + self.extra


class VsaVmStage(VsaVm):
    """One vsa-vm of a --save-restore pair: COM1 goes to its own file, so the
    lines vsa-vm prints itself (state saved / restored) stay out of the serial
    log; they are read from stdout.txt."""
    serial_on_stdout = False

    def command(self, image, timeout):
        return super().command(image, timeout) + ["--serial", f"file:{self.serial_path}"]

    def messages(self):
        return read_serial(self.stdout_path)


class Qemu(Emulator):
    serial_on_stdout = True

    def __init__(self, workdir, binary, cpu, qmp_path=None, no_shutdown=True):
        super().__init__(workdir)
        self.binary, self.cpu, self.qmp_path, self.no_shutdown = binary, cpu, qmp_path, no_shutdown

    def command(self, image, timeout):
        # With a QMP socket for --console vga QEMU stays up after the power
        # off, so the screen can still be read; ScreenWatch then quits it.
        # --input-test's QMP socket (input events) lets it exit.
        qmp = ["-qmp", f"unix:{self.qmp_path},server=on,wait=off"] if self.qmp_path else []
        if self.qmp_path and self.no_shutdown:
            qmp.append("-no-shutdown")
        cdrom = ["-drive", f"file={self.cdrom},format=raw,media=cdrom,index=1,readonly=on"] if self.cdrom else []
        return [self.binary, "-M", "pc", "-cpu", self.cpu, "-m", "256", "-nographic", "-drive",
                f"file={image},format=raw,snapshot=on,index=0", "-no-reboot"] + cdrom + qmp


class Bochs(Emulator):
    serial_on_stdout = False

    def __init__(self, workdir, binary):
        super().__init__(workdir)
        self.binary = binary

    def command(self, image, timeout):
        sectors = os.path.getsize(image) // 512
        cylinders = sectors // (16 * 63)
        rc_path = os.path.join(self.workdir, "bochsrc")
        dbg_rc = os.path.join(self.workdir, "bochs.dbgrc")
        with open(dbg_rc, "w") as f:
            f.write("continue\nquit\n")
        with open(rc_path, "w") as f:
            f.write(f"""megs: 256
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/seabios/vgabios-isavga.bin
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=disk, path={image}, mode=flat, cylinders={cylinders}, heads=16, spt=63
boot: disk
com1: enabled=1, mode=file, dev={self.serial_path}
display_library: rfb, options="timeout=0"
clock: sync=none
mouse: enabled=0
speaker: enabled=0
sound: driver=dummy
log: {os.path.join(self.workdir, "bochs.log")}
""")
        # Debian's bochs is built with its debugger: -rc feeds "continue".
        return [self.binary, "-q", "-f", rc_path, "-rc", dbg_rc]

    def powered_off(self, rc, serial):
        try:
            with open(os.path.join(self.workdir, "bochs.log"), errors="replace") as f:
                log = f.read()
        except OSError:
            log = ""
        with open(self.stdout_path, errors="replace") as f:
            log += f.read()
        return "Shutdown port: shutdown requested" in log


def read_serial(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("latin-1").replace("\r", "")
    except FileNotFoundError:
        return ""


def process_cpu_seconds(pid):
    """User + system CPU seconds of one process (not its children), or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def peak_rss_mib(pid):
    """The process's peak resident set (VmHWM) in MiB, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


SCREEN_COLUMNS, SCREEN_ROWS = 80, 25


def valid_screen(text):
    """An 80x25 text dump as vsa-vm writes it (a dump read half-written is not)."""
    lines = text.split("\n")
    return len(lines) == SCREEN_ROWS + 1 and lines[-1] == "" and all(len(ln) == SCREEN_COLUMNS for ln in lines[:-1])


class ScreenWatch:
    """Collects the guest's text screens: one dump every `interval` host
    seconds while it runs and one when it stops. screens keeps each distinct
    dump in order; final is the one taken at the end (None if none was)."""

    def __init__(self, emu, interval):
        self.emu, self.interval = emu, interval
        self.screens, self.final, self.last_request = [], None, None

    def add(self, text):
        if text is not None and valid_screen(text) and (not self.screens or self.screens[-1] != text):
            self.screens.append(text)

    def poll(self, now):
        raise NotImplementedError

    def finish(self, rc):
        raise NotImplementedError


class VsaVmScreenWatch(ScreenWatch):
    """vsa-vm --screen-dump FILE rewrites FILE on each SIGUSR1 and at exit."""

    def read(self):
        try:
            with open(self.emu.screen_path, encoding="latin-1") as f:
                return f.read()
        except OSError:
            return None

    def sigusr1_caught(self):
        # SIGUSR1's default action kills: signal only once vsa-vm handles it.
        try:
            with open(f"/proc/{self.emu.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("SigCgt:"):
                        return bool(int(line.split()[1], 16) & (1 << (signal.SIGUSR1 - 1)))
        except (OSError, ValueError):
            pass
        return False

    def poll(self, now):
        # The dump requested last time has been written by now (or is being
        # written: valid_screen drops a partial one).
        self.add(self.read())
        if self.last_request is not None and now - self.last_request < self.interval:
            return
        if self.sigusr1_caught():
            self.emu.proc.send_signal(signal.SIGUSR1)
            self.last_request = now

    def finish(self, rc):
        # At exit vsa-vm writes the screen as the guest left it.
        if rc is not None:
            text = self.read()
            if text is not None and valid_screen(text):
                self.final = text
                self.add(text)


class QmpClient:
    """One QMP connection to QEMU (the screen watch and the input driver
    each hold one): connect with the capabilities handshake, commands and
    their replies; asynchronous events met on the way are kept in
    .events."""

    def __init__(self, path):
        self.path, self.sock, self.buffer, self.events = path, None, b"", []

    def connect(self):
        """True once connected; an error is raised to the caller."""
        if self.sock is None:
            sock = socket.socket(socket.AF_UNIX)
            sock.settimeout(10)
            try:
                sock.connect(self.path)
                self.sock = sock
                self.reply()  # the greeting
                self.execute("qmp_capabilities")
            except (OSError, ValueError):
                sock.close()
                self.sock = None
                raise
        return True

    def reply(self):
        while True:
            while b"\n" not in self.buffer:
                data = self.sock.recv(65536)
                if not data:
                    raise OSError("QMP connection closed")
                self.buffer += data
            line, self.buffer = self.buffer.split(b"\n", 1)
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg

    def execute(self, command, **arguments):
        self.sock.sendall(json.dumps({"execute": command, "arguments": arguments}).encode() + b"\n")
        msg = self.reply()
        if "error" in msg:
            raise OSError(f"QMP {command}: {msg['error']}")
        return msg["return"]

    def close(self, drain=0):
        """Closes the connection, first collecting for up to `drain`
        seconds the events QEMU still sends (SHUTDOWN before it exits)."""
        if self.sock is None:
            return
        if drain:
            try:
                self.sock.settimeout(drain)
                while True:
                    data = self.sock.recv(65536)
                    if not data:
                        break
                    self.buffer += data
            except OSError:
                pass
            for line in self.buffer.split(b"\n"):
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if "event" in msg:
                    self.events.append(msg)
        self.sock.close()
        self.sock = None


class QemuScreenWatch(ScreenWatch):
    """Reads QEMU's VGA text screen through QMP's human-monitor-command: the
    CRTC start address (3D4h/3D5h, registers 0Ch/0Dh; the guest's index is
    restored) and 80x25 character/attribute words from B8000h, with the VM
    stopped meanwhile. After the guest powers off (-no-shutdown) the last
    screen is read and QEMU is told to quit (exit status 0)."""

    def __init__(self, emu, interval):
        super().__init__(emu, interval)
        self.qmp, self.quit_sent = QmpClient(emu.qmp_path), False

    def connect(self):
        try:
            return self.qmp.connect()
        except (OSError, ValueError):
            return False  # QEMU not listening yet: the next poll tries again

    def execute(self, command, **arguments):
        return self.qmp.execute(command, **arguments)

    def hmp(self, command_line):
        return self.execute("human-monitor-command", **{"command-line": command_line})

    def in_port(self, port):
        return int(self.hmp(f"i /b {port:#x}").split("=")[1], 16)

    def screen(self):
        index = self.in_port(0x3D4)
        words = []
        for reg in (0x0C, 0x0D):
            self.hmp(f"o /b 0x3d4 {reg:#x}")
            words.append(self.in_port(0x3D5))
        self.hmp(f"o /b 0x3d4 {index:#x}")
        start = (words[0] << 8 | words[1]) * 2
        dump = self.hmp(f"xp /{SCREEN_COLUMNS * SCREEN_ROWS}hx {0xB8000 + start:#x}")
        cells = [int(v, 16) for line in dump.splitlines() for v in line.split(":", 1)[1].split()]
        chars = "".join(chr(c & 0xFF) if 0x20 <= (c & 0xFF) < 0x7F else " " for c in cells)
        return "".join(chars[r * SCREEN_COLUMNS:(r + 1) * SCREEN_COLUMNS] + "\n" for r in range(SCREEN_ROWS))

    def poll(self, now):
        if self.quit_sent or not self.connect():
            return
        try:
            status = self.execute("query-status")["status"]
            if status == "shutdown":
                self.final = self.screen()
                self.add(self.final)
                self.quit_sent = True
                self.execute("quit")
                return
            if status != "running" or (self.last_request is not None and now - self.last_request < self.interval):
                return
            self.last_request = now
            self.execute("stop")
            try:
                self.add(self.screen())
            finally:
                self.execute("cont")
        except (OSError, ValueError, KeyError, IndexError):
            pass

    def finish(self, rc):
        self.qmp.close()


class Run:
    """What one emulator run produced, for the checks and the benchmark."""

    def __init__(self):
        self.serial = ""
        self.rc = None
        self.marker_at = None
        self.done_at = None
        self.total = 0.0
        self.idle_cpu_percent = None
        self.idle_wall_s = None
        self.peak_rss_mib = None


def run(emu, image, boot_timeout, timeout, watch=None, driver=None):
    """Runs the guest to its end.

    Host times matter for Bochs, whose guest clock (clock: sync=none) does
    not follow the host's. Between VSA-IDLE-BEGIN and VSA-IDLE-END (the idle
    image) the emulator's own CPU time over the wall time is its idle cost.
    A driver (--input-test) sees the serial text on every poll and sends
    the guest input once the guest asks for it.
    """
    result = Run()
    start = time.monotonic()
    emu.start(image, timeout)
    if driver:
        driver.started()
    pid = emu.proc.pid
    idle_start = idle_last = None
    while True:
        rc = emu.proc.poll()
        now = time.monotonic() - start
        if rc is None:
            result.peak_rss_mib = peak_rss_mib(pid) or result.peak_rss_mib
            if watch:
                watch.poll(now)
        text = read_serial(emu.serial_path)
        if result.marker_at is None and BOOT_MARKER in text:
            result.marker_at = now
        if result.done_at is None and DONE_MARKER in text:
            result.done_at = now
        if driver:
            driver.poll(text, now, rc is None)
        # Sampled on every poll while the guest idles: the emulator may exit
        # (power off) before the poll that sees VSA-IDLE-END, so the window
        # ends at the last sample taken inside it.
        if rc is None and IDLE_BEGIN in text and IDLE_END not in text:
            sample = (time.monotonic(), process_cpu_seconds(pid))
            if idle_start is None:
                idle_start = sample
            idle_last = sample
        if idle_start is not None and result.idle_cpu_percent is None and IDLE_END in text:
            wall = idle_last[0] - idle_start[0]
            result.idle_wall_s = wall
            if idle_start[1] is not None and idle_last[1] is not None and wall > 1:
                result.idle_cpu_percent = 100 * (idle_last[1] - idle_start[1]) / wall
        if rc is not None:
            break
        if result.marker_at is None and now > boot_timeout:
            break
        if now > timeout:
            break
        time.sleep(0.2)
    result.total = time.monotonic() - start
    if watch:
        watch.finish(rc)
    if driver:
        driver.finish()
    if rc is None:
        emu.stop()
    result.rc = rc
    result.serial = read_serial(emu.serial_path)
    return result


def run_save_restore(emu, image, boot_timeout, timeout, seconds):
    """--save-restore: a vsa-vm that saves after `seconds` and stops, then one
    that restores the state and runs to the end. Returns the joined Run (host
    times from the first start) with .save_rc, .vsv_bytes, .save_s, .restore_s
    and .stage_messages added."""
    state = os.path.join(emu.workdir, "state.vsv")
    stages = []
    for name, extra in (("save", ["--save-state", state, "--save-after", str(seconds)]),
                        ("restore", ["--restore-state", state])):
        workdir = os.path.join(emu.workdir, name)
        os.makedirs(workdir)
        stages.append(VsaVmStage(workdir, emu.binary, emu.extra + extra))
    first = run(stages[0], image, boot_timeout, timeout)
    emu.cmdline = stages[0].cmdline
    result = first
    result.save_rc = first.rc
    result.vsv_bytes = os.path.getsize(state) if os.path.exists(state) else None
    messages = stages[0].messages()
    if first.rc == 6:
        # The boot marker may already be behind us: then only the overall
        # timeout bounds the second run.
        second_boot_timeout = boot_timeout - first.total if first.marker_at is None else timeout
        second = run(stages[1], image, max(second_boot_timeout, 1), max(timeout - first.total, 1))
        emu.cmdline += " ; " + stages[1].cmdline
        messages += stages[1].messages()
        result = Run()
        result.save_rc = first.rc
        result.vsv_bytes = os.path.getsize(state)
        result.serial = first.serial + second.serial
        result.rc = second.rc
        for attr in ("marker_at", "done_at"):
            at_first, at_second = getattr(first, attr), getattr(second, attr)
            setattr(result, attr, at_first if at_first is not None else
                    None if at_second is None else first.total + at_second)
        result.total = first.total + second.total
        result.peak_rss_mib = max(first.peak_rss_mib or 0, second.peak_rss_mib or 0) or None
    m = re.search(r"state saved to .* \((\d+) bytes\) in ([0-9.]+) s", messages)
    result.save_s = float(m.group(2)) if m else None
    m = re.search(r"state restored from .* in ([0-9.]+) s", messages)
    result.restore_s = float(m.group(1)) if m else None
    result.stage_messages = messages
    return result


def normalize_qemu(lines):
    """Blanks QEMU 7.2's known x87 deviations (see the module doc) in the oracle lines."""
    out = []
    for line in lines:
        if line.startswith("f"):
            clear = 0x2 | (0x4300 if line.startswith("fprem1 ") else 0)
            line = re.sub(r"(sw )([0-9a-f]{2,4})\b",
                          lambda m: m.group(1) + format(int(m.group(2), 16) & ~clear, f"0{len(m.group(2))}x"),
                          line)
        out.append(line)
    return out


def check_apic_mode(checks, lines):
    """The kernel ran in APIC mode: IRQ 0 on I/O APIC input 2 (the override
    SeaBIOS's MADT carries), its ticks from the local APIC timer (LOC > 0).
    Prints what the kernel said about its clocksources (informational: a
    loaded host can make Linux's watchdog drop the TSC)."""
    irq = {}
    for line in lines:
        m = re.match(r"VSA-LINUX-IRQ (\w+): (.*)$", line)
        if m:
            irq[m.group(1)] = m.group(2).split()
    timer = irq.get("0", [])
    loc = irq.get("LOC", [])
    on_ioapic = "IO-APIC" in timer and "2-edge" in timer
    checks.check(on_ioapic, "IRQ 0 on I/O APIC input 2", " ".join(timer) if timer else "no line for IRQ 0")
    ticks = int(loc[0]) if loc and loc[0].isdigit() else 0
    checks.check(ticks > 0, "local APIC timer ticks", f"LOC {ticks}" if loc else "no LOC line")
    for line in lines:
        if line.startswith("VSA-LINUX-APIC "):
            print("info: " + line)


def check_screens(checks, watch, want, screen_log):
    """The --console vga checks, on the dumped text screens only."""
    if screen_log:
        with open(screen_log, "w") as f:
            for i, screen in enumerate(watch.screens):
                f.write(f"--- screen {i + 1} of {len(watch.screens)}\n{screen}")
    final = watch.final
    print(f"text screens dumped: {len(watch.screens)} distinct")
    # The kernel's messages (a panic, say) are on the screen only: show it.
    shown = final if final is not None else watch.screens[-1] if watch.screens else None
    if shown is not None:
        print(("final" if final is not None else "last periodic") + " text screen:\n+" + "-" * SCREEN_COLUMNS + "+")
        for line in shown.rstrip("\n").split("\n"):
            print(f"|{line}|")
        print("+" + "-" * SCREEN_COLUMNS + "+")
    if final is None:
        checks.check(False, "screen at the end", "no text screen dumped when the emulator stopped")
        return
    rows = [line.rstrip() for line in final.split("\n")]
    checks.check(any(r.startswith(BOOT_MARKER + " ") for r in rows), "screen boot marker")
    got = {}
    for row in rows:
        m = re.match(r"VSA-WL (\S+) (.*)$", row)
        if m:
            got.setdefault(m.group(1), []).append(m.group(2).strip())
    for name, values in want.items():
        checks.check(got.get(name) == values, f"screen workload {name}",
                     f"{got.get(name)}" + ("" if got.get(name) == values else f" != expected {values}"))
    done = [r for r in rows if re.match(DONE_MARKER + r" [0-9.]+$", r)]
    checks.check(bool(done), "screen workload marker", done[0] if done else "missing")
    # Lines the kernel itself printed through vgacon before /init ran.
    kernel = [r for r in rows if re.match(r"\[\s*[0-9]+\.[0-9]+\] ", r)]
    checks.check(bool(kernel), "screen kernel messages", f"{len(kernel)} on the last screen" +
                 (f", e.g. {kernel[-1]!r}" if kernel else ""))
    vgacon = re.compile(r"(dmesg: )?\[\s*[0-9]+\.[0-9]+\] Console: colour VGA\+ 80x25")
    live = any(m and not m.group(1) for s in watch.screens for m in map(vgacon.match, s.split("\n")))
    seen = any(vgacon.match(r) for s in watch.screens for r in s.split("\n"))
    checks.check(seen, "screen vgacon message", "'Console: colour VGA+ 80x25' " +
                 ("caught on a dump as the kernel printed it" if live else
                  "shown again by /init from dmesg" if seen else "on no dumped screen"))


# --input-test: what the host does with the mouse, in screen orientation
# (dx > 0 right, dy > 0 down, dz > 0 the wheel towards the user) with the
# buttons held (1 left, 2 right, 4 middle). Eight runs of equal buttons
# (mousedev keeps 16 packets per reader), every sign of every axis, each
# button alone and two at once, and a motion past a packet's 127 counts.
MOUSE_MOVES = [
    (10, 0, 0, 0), (0, -20, 0, 0), (-5, 7, 0, 0), (0, 0, 2, 0),
    (0, 0, 0, 1), (30, -3, 0, 1),
    (0, 0, 0, 0),
    (0, 0, -3, 2),
    (0, 0, 0, 0),
    (0, 0, 0, 4), (-100, 60, 0, 4),
    (0, 0, 0, 3),
    (200, -150, 0, 0),
]
MOUSE_READY = "VSA-MOUSE-READY"
POWER_READY = "VSA-POWER-READY"
EV_KEY, KEY_POWER = 1, 116


def mouse_runs(packets):
    """[(buttons, dx, dy, dz)] with consecutive equal button states merged
    (their motions summed): what survives any way of splitting a motion."""
    runs = []
    for buttons, dx, dy, dz in packets:
        if runs and runs[-1][0] == buttons:
            b, x, y, z = runs[-1]
            runs[-1] = (b, x + dx, y + dy, z + dz)
        else:
            runs.append((buttons, dx, dy, dz))
    return runs


def expected_mouse_runs():
    """The runs /dev/input/mice must show for MOUSE_MOVES: PS/2 counts Y
    up (mousedev negates Linux's REL_Y, which is the host's dy); the wheel
    byte keeps the host's sign (psmouse and mousedev both negate it)."""
    return mouse_runs([(b, dx, -dy, dz) for dx, dy, dz, b in MOUSE_MOVES])


def decode_mice(data):
    """The bytes read from /dev/input/mice after the ImPS/2 switch: FA
    (the acknowledgement(s) of the last command bytes), 03 (the ImPS/2
    device ID), then 4-byte packets. Returns (packets, error)."""
    i = 0
    while i < len(data) and data[i] == 0xFA:
        i += 1
    if i == 0 or i >= len(data) or data[i] != 0x03:
        return None, f"no FA 03 (ImPS/2 ID) answer at the start: {data[:4].hex(' ')}"
    body = data[i + 1:]
    if len(body) % 4:
        return None, f"{len(body)} bytes after the ID: not whole 4-byte packets"
    packets = []
    for k in range(0, len(body), 4):
        b0, b1, b2, b3 = body[k:k + 4]
        if not b0 & 0x08 or b0 & 0xC0:
            return None, f"packet {k // 4}: bad first byte {b0:02x} (bit 3 clear or overflow set)"
        dx = b1 - 256 if b0 & 0x10 else b1
        dy = b2 - 256 if b0 & 0x20 else b2
        dz = b3 - 256 if b3 & 0x80 else b3
        packets.append((b0 & 0x07, dx, dy, dz))
    return packets, None


class InputDriver:
    """Sends the guest's input when it asks: the mouse moves after
    VSA-MOUSE-READY, the power button after VSA-POWER-READY."""

    def __init__(self):
        self.mouse_sent_at = self.power_sent_at = None
        self.errors = []

    def started(self):
        pass

    def poll(self, text, now, running):
        if not running:
            return
        if self.mouse_sent_at is None and MOUSE_READY in text:
            self.mouse_sent_at = now
            self.send_mouse()
        if self.power_sent_at is None and POWER_READY in text:
            self.power_sent_at = now
            self.send_power_button()

    def finish(self):
        pass


class VsaVmControl(InputDriver):
    """vsa-vm --control-fd: one end of a socketpair; every request must get
    "reply <seq> ok"; the events are kept."""

    def __init__(self, emu):
        super().__init__()
        self.sock, theirs = socket.socketpair()
        self.theirs = theirs
        emu.pass_fds = (theirs.fileno(),)
        emu.extra = emu.extra + ["--control-fd", str(theirs.fileno())]
        self.seq, self.pending, self.buffer = 0, {}, b""
        self.events, self.replies = [], []

    def started(self):
        self.theirs.close()
        self.sock.setblocking(False)

    def request(self, command):
        self.seq += 1
        self.pending[self.seq] = command
        try:
            self.sock.sendall(f"{self.seq} {command}\n".encode())
        except OSError as e:
            self.errors.append(f"{command}: {e}")
        self.read()

    def send_mouse(self):
        for dx, dy, dz, buttons in MOUSE_MOVES:
            self.request(f"mouse {dx} {dy} {dz} {buttons}")

    def send_power_button(self):
        self.request("power-button")

    def read(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                return
            if not data:
                return
            self.buffer += data
            while b"\n" in self.buffer:
                line, self.buffer = self.buffer.split(b"\n", 1)
                words = line.decode("latin-1").split()
                if len(words) >= 2 and words[0] == "event":
                    self.events.append(" ".join(words[1:]))
                elif len(words) >= 3 and words[0] == "reply" and words[1].isdigit():
                    command = self.pending.pop(int(words[1]), "?")
                    self.replies.append((command, " ".join(words[2:])))
                    if words[2] != "ok":
                        self.errors.append(f"{command}: {' '.join(words[2:])}")

    def poll(self, text, now, running):
        self.read()
        super().poll(text, now, running)

    def finish(self):
        # vsa-vm has exited or is about to be stopped: the rest of its lines.
        self.sock.setblocking(True)
        self.sock.settimeout(2)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buffer += data
        except OSError:
            pass
        self.sock.setblocking(False)
        self.buffer += b"\n"
        self.read()
        self.sock.close()
        for seq, command in self.pending.items():
            self.errors.append(f"{command}: no reply")


class QemuQmpInput(InputDriver):
    """QEMU: QMP input-send-event (relative motion, button presses; the
    wheel as wheel-up/wheel-down button presses) and system_powerdown."""

    def __init__(self, emu):
        super().__init__()
        self.emu, self.qmp = emu, QmpClient(emu.qmp_path)
        self.buttons = 0

    @property
    def events(self):
        return self.qmp.events

    def connect(self):
        try:
            return self.qmp.connect()
        except (OSError, ValueError) as e:
            self.errors.append(f"QMP connect: {e}")
            return False

    def execute(self, command, **arguments):
        return self.qmp.execute(command, **arguments)

    def send_mouse(self):
        if not self.connect():
            return
        names = {1: "left", 2: "right", 4: "middle"}
        try:
            for dx, dy, dz, buttons in MOUSE_MOVES:
                events = [{"type": "rel", "data": {"axis": "x", "value": dx}},
                          {"type": "rel", "data": {"axis": "y", "value": dy}}]
                for bit, name in names.items():
                    if (buttons ^ self.buttons) & bit:
                        events.append({"type": "btn", "data": {"down": bool(buttons & bit), "button": name}})
                wheel = "wheel-down" if dz > 0 else "wheel-up"
                for _ in range(abs(dz)):
                    events.append({"type": "btn", "data": {"down": True, "button": wheel}})
                    events.append({"type": "btn", "data": {"down": False, "button": wheel}})
                self.buttons = buttons
                self.execute("input-send-event", events=events)
        except (OSError, ValueError) as e:
            self.errors.append(str(e))

    def send_power_button(self):
        if not self.connect():
            return
        try:
            self.execute("system_powerdown")
        except (OSError, ValueError) as e:
            self.errors.append(str(e))

    def finish(self):
        # QEMU sends SHUTDOWN before it exits: collect the last events.
        self.qmp.close(drain=2)


def check_input(checks, lines, serial, driver, qemu):
    """The --input-test checks (see the module doc)."""
    devs, block = [], []
    for ln in lines:
        if ln.startswith("VSA-INPUT-DEV"):
            entry = ln[len("VSA-INPUT-DEV"):].strip()
            if entry:
                block.append(entry)
            elif block:
                devs.append(block)
                block = []
    if block:
        devs.append(block)

    def field(dev, tag):
        return next((e[3:] for e in dev if e.startswith(tag + ": ")), "")
    mice = [d for d in devs if re.search(r"\bmouse\d+\b", field(d, "H"))]
    for d in devs:
        print("input device: " + " | ".join(d))
    mouse = mice[0] if mice else None
    # psmouse names the protocol it settled on: vsa-vm's mouse is an
    # IntelliMouse (ID 3); QEMU's also answers the Explorer sequence (ID 4).
    name = 'Name="ImExPS/2 Generic Explorer Mouse"' if qemu else 'Name="ImPS/2 Generic Wheel Mouse"'
    ok = mouse is not None and field(mouse, "N") == name and field(mouse, "P") == "Phys=isa0060/serio1/input0" and \
        re.search(r"\bevent\d+\b", field(mouse, "H")) is not None
    checks.check(ok, "ps2 wheel mouse", (" | ".join(mouse) + ("" if ok else f" (want {name} on serio1)")) if mouse
                 else f"no mouse among {len(devs)} input devices")
    power = [d for d in devs if field(d, "N") == 'Name="Power Button"']
    checks.check(bool(power), "power button device", " | ".join(power[0]) if power else "none")

    hexes = " ".join(ln[len("VSA-MOUSE-BYTES"):] for ln in lines if ln.startswith("VSA-MOUSE-BYTES"))
    try:
        data = bytes.fromhex(hexes)
    except ValueError:
        data = b""
    checks.check(driver.mouse_sent_at is not None, "mouse moves sent",
                 f"{len(MOUSE_MOVES)} moves after {driver.mouse_sent_at:.1f} s" if driver.mouse_sent_at is not None
                 else f"{MOUSE_READY} not seen")
    packets, error = decode_mice(data)
    print(f"mouse bytes ({len(data)}): {data.hex(' ')}")
    if packets is not None:
        print("mouse packets (buttons, dx, dy up, dz): " + " ".join(str(p) for p in packets))
    want = expected_mouse_runs()
    got = mouse_runs(packets) if packets is not None else None
    checks.check(got == want, "mouse packets",
                 error if packets is None else
                 f"{len(packets)} packets, {len(got)} button runs as sent: {got}" if got == want else
                 f"runs {got} != expected {want}")

    seen = [ln for ln in lines if ln.startswith("VSA-POWER-BUTTON-SEEN")]
    event = None
    if seen:
        try:
            raw = bytes.fromhex(seen[0][len("VSA-POWER-BUTTON-SEEN"):].strip())
            if len(raw) == 16:
                event = struct.unpack("<HHi", raw[8:16])
        except ValueError:
            pass
    checks.check(driver.power_sent_at is not None, "power button pressed",
                 f"after {driver.power_sent_at:.1f} s" if driver.power_sent_at is not None
                 else f"{POWER_READY} not seen")
    checks.check(event == (EV_KEY, KEY_POWER, 1), "power button event",
                 f"EV_KEY KEY_POWER press: {seen[0]}" if event == (EV_KEY, KEY_POWER, 1) else
                 f"{seen[0] if seen else 'VSA-POWER-BUTTON-SEEN missing'} (type, code, value {event})")
    checks.check(not driver.errors, "input channel", "all requests answered" if not driver.errors
                 else "; ".join(driver.errors[:6]))
    if qemu:
        shutdown = [e for e in driver.events if e.get("event") == "SHUTDOWN"]
        reason = shutdown[0].get("data", {}).get("reason") if shutdown else None
        checks.check(reason == "guest-shutdown", "acpi power off", f"QMP SHUTDOWN reason {reason}")
    else:
        acpi = "vsa-vm: ACPI power off" in serial
        checks.check(acpi and "powered-off" in driver.events, "acpi power off",
                     f"vsa-vm said 'ACPI power off': {acpi}; control events {driver.events}")
    return data, packets


CDROM_PAYLOAD_BYTES = 3 * 512 * 1024


def cdrom_payload():
    """1.5 MiB of fixed pseudo-random bytes (a SHA-256 chain)."""
    out = bytearray()
    block = b"vsa-cdrom-payload"
    while len(out) < CDROM_PAYLOAD_BYTES:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:CDROM_PAYLOAD_BYTES])


def make_cdrom_iso(workdir):
    """An ISO 9660 image with /vsa/payload.bin; returns (path, payload sha256)."""
    tree = os.path.join(workdir, "iso-tree")
    os.makedirs(os.path.join(tree, "vsa"))
    payload = cdrom_payload()
    with open(os.path.join(tree, "vsa", "payload.bin"), "wb") as f:
        f.write(payload)
    iso = os.path.join(workdir, "cdrom.iso")
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-V", "VSA_CDROM", "-o", iso, tree],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return iso, hashlib.sha256(payload).hexdigest()


def check_cdrom(checks, lines, image, payload_sha):
    """The VSA-CDROM / VSA-DISK / VSA-IDE lines of a vsa.cdrom guest."""
    def value(prefix):
        found = [ln[len(prefix):].strip() for ln in lines if ln.startswith(prefix)]
        return found[0] if found else None
    got = value("VSA-CDROM sha256 ")
    checks.check(got == payload_sha, "cdrom file", f"sha256 {got}" + ("" if got == payload_sha else
                                                                     f" != expected {payload_sha}"))
    with open(image, "rb") as f:
        disk_sha = hashlib.sha256(f.read(4 * 1024 * 1024)).hexdigest()
    got = value("VSA-DISK sha256 ")
    checks.check(got == disk_sha, "disk read", f"sha256 {got}" + ("" if got == disk_sha else
                                                                 f" != expected {disk_sha}"))
    ide = [ln[len("VSA-IDE "):] for ln in lines if ln.startswith("VSA-IDE ")]
    port = [ln for ln in ide if re.search(r"ata\d+: PATA max \S*DMA\S* .*bmdma 0x[0-9a-f]*[1-9a-f]", ln)]
    checks.check(bool(port), "ide port", port[0] if port else f"no PATA port with bus master DMA in {ide}")
    # The ISO is the primary slave (QEMU also has an empty drive on the
    # secondary master).
    atapi = [ln for ln in ide if ln.startswith("ata1.01: ATAPI: ")]
    checks.check(bool(atapi) and atapi[0].endswith("max UDMA/100"), "atapi identify",
                 atapi[0] if atapi else f"no ATAPI device ata1.01 in {ide}")
    disk = [ln for ln in ide if re.match(r"ata1\.00: ATA-\d+: ", ln)]
    checks.check(bool(disk), "disk identify", disk[0] if disk else f"no ATA disk ata1.00 in {ide}")
    # Error handling (a DMA timeout, a bus error, a fallback to PIO) would
    # still end with the right data: catch it here.
    trouble = [ln for ln in ide if re.search(r"exception|timeout|failed|limiting|error", ln)]
    checks.check(not trouble, "no libata errors", "none" if not trouble else "; ".join(trouble[:6]))
    # libata's transport class names the mode: XFER_MW_DMA_n or XFER_UDMA_n.
    for name, dev in (("atapi dma mode", "dev1.1"), ("disk dma mode", "dev1.0")):
        mode = [ln for ln in ide if ln.startswith(dev + " xfer_mode ")]
        dma = bool(mode) and re.search(r"xfer_mode XFER_(MW_DMA|UDMA)_\d", mode[0]) is not None
        checks.check(dma, name, mode[0] if mode else f"no xfer_mode line for {dev} in {ide}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", required=True, help="linux.img (or linux-quick.img with --quick)")
    ap.add_argument("--expected", help="cpu_oracle.expected from run-oracle-native.sh")
    ap.add_argument("--quick", action="store_true", help="the vsa.quick image: no oracle, one workload round")
    peer = ap.add_mutually_exclusive_group()
    peer.add_argument("--qemu", action="store_true", help="run qemu-system-i386 (TCG) instead of vsa-vm")
    peer.add_argument("--bochs", action="store_true", help="run Bochs 2.7 instead of vsa-vm")
    ap.add_argument("--vsa-vm", default="vsa-vm", help="vsa-vm binary (default: vsa-vm on PATH)")
    ap.add_argument("--vsa-vm-arg", action="append", default=[], help="extra vsa-vm argument (repeatable)")
    ap.add_argument("--qemu-binary", default="qemu-system-i386")
    ap.add_argument("--qemu-cpu", default="pentium2")
    ap.add_argument("--bochs-binary", default="bochs")
    ap.add_argument("--boot-timeout", type=float, default=900, help="host seconds to the boot marker")
    ap.add_argument("--timeout", type=float, default=2400, help="host seconds for the whole run")
    ap.add_argument("--qemu-deviations", action=argparse.BooleanOptionalAction, default=None,
                    help="ignore QEMU 7.2's known x87 deviations (default: on with --qemu)")
    ap.add_argument("--log", help="copy the serial log here")
    ap.add_argument("--idle", action="store_true",
                    help="the linux-idle.img variant: also measure the host CPU of the idle window")
    ap.add_argument("--console", choices=("serial", "vga"), default="serial",
                    help="vga: the linux-vga.img variant (with --quick), checked on the text screen dumps")
    ap.add_argument("--screen-interval", type=float, default=0.5,
                    help="host seconds between text screen dumps while the guest runs (--console vga)")
    ap.add_argument("--screen-log", help="write every distinct dumped text screen here (--console vga)")
    ap.add_argument("--cdrom-test", action="store_true",
                    help="the linux-cdrom.img variant (with --quick): attach a generated ISO, check the guest "
                         "read it (and the disk) through ata_piix with DMA")
    ap.add_argument("--input-test", action="store_true",
                    help="the linux-input.img variant (with --quick): move the PS/2 mouse and press the ACPI "
                         "power button from the host, check what the guest read and that it powered off by ACPI")
    ap.add_argument("--save-restore", type=float, metavar="SECONDS",
                    help="vsa-vm only: save the state after SECONDS and stop, restore it in a second "
                         "vsa-vm, check the joined serial logs")
    args = ap.parse_args()
    if args.save_restore is not None and (args.qemu or args.bochs or args.save_restore <= 0 or
                                          args.console != "serial"):
        print("boot_test: --save-restore SECONDS (> 0) is for vsa-vm on the serial console only",
              file=sys.stderr)
        return 2

    if not os.path.isfile(args.image):
        print(f"boot_test: no image {args.image} (build-linux-image.sh makes it)", file=sys.stderr)
        return 2
    if not args.quick and not args.expected:
        print("boot_test: --expected is needed unless --quick", file=sys.stderr)
        return 2
    if args.console == "vga" and (args.bochs or not args.quick):
        print("boot_test: --console vga needs --quick (linux-vga.img) and vsa-vm or --qemu", file=sys.stderr)
        return 2
    if args.cdrom_test and (args.bochs or not args.quick or args.console != "serial"):
        print("boot_test: --cdrom-test needs --quick (linux-cdrom.img), the serial console, vsa-vm or --qemu",
              file=sys.stderr)
        return 2
    if args.input_test and (args.bochs or not args.quick or args.console != "serial" or args.cdrom_test or
                            args.save_restore is not None):
        print("boot_test: --input-test needs --quick (linux-input.img), the serial console, vsa-vm or --qemu",
              file=sys.stderr)
        return 2
    if args.cdrom_test and not shutil.which("xorriso"):
        print("boot_test: --cdrom-test needs xorriso (Debian package xorriso)", file=sys.stderr)
        return 2
    ignore_de = args.qemu if args.qemu_deviations is None else args.qemu_deviations
    image = os.path.abspath(args.image)

    workdir = tempfile.mkdtemp(prefix="vsa-boot-test-")
    try:
        if args.qemu:
            if not shutil.which(args.qemu_binary):
                print(f"boot_test: {args.qemu_binary} not found (package qemu-system-x86)", file=sys.stderr)
                return 2
            vga = args.console == "vga"
            qmp = os.path.join(workdir, "qmp.sock") if vga or args.input_test else None
            emu = Qemu(workdir, args.qemu_binary, args.qemu_cpu, qmp, no_shutdown=vga)
        elif args.bochs:
            if not shutil.which(args.bochs_binary):
                print(f"boot_test: {args.bochs_binary} not found (packages bochs, bochsbios)", file=sys.stderr)
                return 2
            emu = Bochs(workdir, args.bochs_binary)
        else:
            binary = shutil.which(args.vsa_vm) or args.vsa_vm
            if not os.access(binary, os.X_OK):
                print(f"boot_test: vsa-vm binary {args.vsa_vm} not found", file=sys.stderr)
                return 2
            vga = args.console == "vga"
            emu = VsaVm(workdir, os.path.abspath(binary), args.vsa_vm_arg,
                        os.path.join(workdir, "screen.txt") if vga else None)

        payload_sha = None
        if args.cdrom_test:
            emu.cdrom, payload_sha = make_cdrom_iso(workdir)

        driver = None
        if args.input_test:
            driver = QemuQmpInput(emu) if args.qemu else VsaVmControl(emu)
        watch = None
        if args.console == "vga":
            watch = (QemuScreenWatch if args.qemu else VsaVmScreenWatch)(emu, args.screen_interval)
        if args.save_restore is not None:
            result = run_save_restore(emu, image, args.boot_timeout, args.timeout, args.save_restore)
        else:
            result = run(emu, image, args.boot_timeout, args.timeout, watch, driver)
        serial, rc, marker_at, done_at, total = (result.serial, result.rc, result.marker_at, result.done_at,
                                                 result.total)
        print(f"command: {emu.cmdline}")
        if args.log:
            with open(args.log, "w") as f:
                f.write(serial)
        lines = serial.split("\n")
        checks = Checks()
        if args.save_restore is not None:
            checks.check(result.save_rc == 6, "state saved",
                         f"exit status {result.save_rc}, {result.vsv_bytes} bytes, {result.save_s} s"
                         if result.save_rc == 6 else
                         f"exit status {result.save_rc} (6 expected); vsa-vm said: {result.stage_messages[-500:]!r}")
            checks.check(result.restore_s is not None, "state restored",
                         f"in {result.restore_s} s" if result.restore_s is not None else
                         f"vsa-vm said: {result.stage_messages[-500:]!r}")
            print(f"TIMING save_restore save_after_s={args.save_restore} vsv_bytes={result.vsv_bytes} "
                  f"save_s={result.save_s} restore_s={result.restore_s}")

        checks.check(marker_at is not None, "boot marker",
                     f"after {marker_at:.1f} s" if marker_at is not None else
                     f"not seen; last serial lines: {lines[-6:]}")
        kernel = [line for line in lines if line.startswith("VSA-LINUX-KERNEL ")]
        checks.check(bool(kernel), "kernel line", kernel[0] if kernel else "missing")
        if not args.bochs:
            check_apic_mode(checks, lines)

        want = expected_workload(args.quick)
        got = {}
        for line in lines:
            m = re.match(r"VSA-WL (\S+) (.*)$", line)
            if m:
                got.setdefault(m.group(1), []).append(m.group(2).strip())
        for name, values in want.items():
            checks.check(got.get(name) == values, f"workload {name}",
                         f"{got.get(name)}" + ("" if got.get(name) == values else f" != expected {values}"))

        if not args.quick:
            try:
                b = lines.index("VSA-ORACLE-BEGIN")
                e = next(i for i in range(b, len(lines)) if lines[i].startswith("VSA-ORACLE-END"))
                guest = lines[b + 1:e]
                end_line = lines[e]
            except (ValueError, StopIteration):
                guest, end_line = None, ""
            with open(args.expected) as f:
                native = f.read().rstrip("\n").split("\n")
            if guest is None:
                checks.check(False, "cpu oracle", "no complete VSA-ORACLE section in the serial log")
            else:
                cmp_guest, cmp_native = guest, native
                note = ""
                if ignore_de:
                    # The checksum covers the raw text: compare the line count only.
                    cmp_guest = [ln for ln in normalize_qemu(guest) if not ln.startswith("CHECKSUM")]
                    cmp_native = [ln for ln in normalize_qemu(native) if not ln.startswith("CHECKSUM")]
                    note = " (QEMU's known x87 deviations ignored)"
                diffs = [(i, n, g) for i, (n, g) in enumerate(zip(cmp_native, cmp_guest)) if n != g]
                same = not diffs and len(cmp_native) == len(cmp_guest) and end_line == "VSA-ORACLE-END rc=0"
                detail = f"{len(guest)} lines equal to native{note}"
                if not same:
                    detail = (f"{len(diffs)} differing lines of {len(cmp_native)} native / {len(cmp_guest)} guest, "
                              f"{end_line!r}{note}")
                    for i, n, g in diffs[:20]:
                        detail += f"\n    line {i + 1}: native {n!r}\n    {' ' * len(str(i + 1))}       guest  {g!r}"
                checks.check(same, "cpu oracle", detail)

        done = [line for line in lines if line.startswith(DONE_MARKER)]
        workload_s = None
        if done:
            m = re.match(DONE_MARKER + r" ([0-9.]+)", done[0])
            workload_s = float(m.group(1)) if m else None
        checks.check(workload_s is not None, "workload marker", done[0] if done else "missing")
        if args.idle:
            checks.check(result.idle_cpu_percent is not None, "idle window",
                         f"{result.idle_cpu_percent:.2f} % of one host core while the guest idled"
                         if result.idle_cpu_percent is not None else "VSA-IDLE-BEGIN/END not both seen")
            # The guest sleeps N seconds of its own time: an emulator whose
            # guest clock follows the host's (all but Bochs, clock sync=none)
            # must take N host seconds, idle ticks coalesced or not.
            begin = re.search(IDLE_BEGIN + r" ([0-9]+)", serial)
            if begin and not args.bochs:
                want_s = int(begin.group(1))
                wall = result.idle_wall_s
                checks.check(wall is not None and 0.9 * want_s <= wall <= 1.2 * want_s, "idle guest time",
                             f"the guest's {want_s} s sleep took {wall:.1f} host s" if wall is not None
                             else "no idle window")
        if watch:
            check_screens(checks, watch, want, args.screen_log)
        if args.cdrom_test:
            check_cdrom(checks, lines, image, payload_sha)
        if args.input_test:
            check_input(checks, lines, serial, driver, args.qemu)
        off = rc is not None and emu.powered_off(rc, serial)
        checks.check(off, "power off", f"exit status {rc}" if rc is not None else
                     f"still running after {total:.0f} s (killed)")
        uptime = re.search(BOOT_MARKER + r" uptime=([0-9.]+)", serial)
        host_wl = None if marker_at is None or done_at is None else round(done_at - marker_at, 1)
        print(f"TIMING host_s_to_boot_marker={marker_at if marker_at is None else round(marker_at, 1)} "
              f"host_s_marker_to_done={host_wl} guest_uptime_at_marker={uptime.group(1) if uptime else None} "
              f"guest_workload_s={workload_s} host_total_s={total:.1f} "
              f"peak_rss_mib={None if result.peak_rss_mib is None else round(result.peak_rss_mib)} "
              f"idle_cpu_percent={None if result.idle_cpu_percent is None else round(result.idle_cpu_percent, 2)}")
        return checks.summary()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
