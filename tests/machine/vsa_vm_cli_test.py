#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vsa-vm from the command line, as scripts use it: exit statuses, the
debug console and serial sinks, the screen dump (on exit and on SIGUSR1),
the instruction trace, and clear errors for bad usage or missing files."""
import argparse
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("--vsa-vm", required=True)
parser.add_argument("--progs", required=True, help="build directory of tests/progs")
args = parser.parse_args()

passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"PASS {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def catches_signal(pid, sig):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return (int(line.split()[1], 16) >> (int(sig) - 1)) & 1 == 1
    except OSError:
        pass
    return False


def run(*extra, timeout=120):
    p = subprocess.run([args.vsa_vm, *extra], capture_output=True, timeout=timeout)
    return p.returncode, p.stdout.decode("latin-1"), p.stderr.decode("latin-1")


def rom_with(code):
    """A 64 KiB ROM: `code` at F000:0000, the reset vector jumps there."""
    rom = bytearray(b"\xf4" * 65536)
    rom[0:len(code)] = code
    rom[0xFFF0:0xFFF5] = b"\xea\x00\x00\x00\xf0"
    return bytes(rom)


work = tempfile.mkdtemp(prefix="vsa-vm-cli-")
cpu_rom = os.path.join(args.progs, "cpu_test_rom.bin")
boot_disk = os.path.join(args.progs, "boot_disk.img")

# Power off: exit 0; the debug console goes where --debugcon says.
log = os.path.join(work, "debugcon.txt")
rc, out, err = run("--bios", cpu_rom, "--vgabios", "none", "--debugcon", f"file:{log}", "--deterministic")
text = open(log, encoding="latin-1").read() if os.path.exists(log) else ""
check("power_off_exit_0", rc == 0, f"rc={rc} {err}")
check("debugcon_to_file", "ALL PASS" in text, text[-300:])

# Triple fault: exit 3. cli; lidt cs:[0x100] (limit 0); int3.
triple = os.path.join(work, "triple.rom")
with open(triple, "wb") as f:
    rom = bytearray(rom_with(b"\xfa\x2e\x0f\x01\x1e\x00\x01\xcc"))
    rom[0x100:0x106] = bytes(6)
    f.write(rom)
rc, out, err = run("--bios", triple, "--vgabios", "none")
check("triple_fault_exit_3", rc == 3 and "triple" in err, f"rc={rc} {err}")

# Timeout: a guest spinning forever (jmp $) stops with exit 4.
spin = os.path.join(work, "spin.rom")
with open(spin, "wb") as f:
    f.write(rom_with(b"\xeb\xfe"))
start = time.monotonic()
rc, out, err = run("--bios", spin, "--vgabios", "none", "--timeout", "1")
check("timeout_exit_4", rc == 4 and time.monotonic() - start < 30, f"rc={rc} {err}")

# A trace has one line per instruction, starting at the reset vector.
trace = os.path.join(work, "trace.txt")
rc, out, err = run("--bios", spin, "--vgabios", "none", "--timeout", "0.3", "--trace", trace)
lines = open(trace).read().splitlines() if os.path.exists(trace) else []
check("trace_from_reset_vector", len(lines) > 10 and lines[0].startswith("f000:0000fff0"), lines[:2])

# The SeaBIOS boot: serial to stdout, screen dump to stdout at exit.
rc, out, err = run("--memory", "32M", "--disk", boot_disk, "--readonly", "--serial", "stdio",
                   "--deterministic", "--screen-dump", "-", "--timeout", "600", timeout=700)
check("boot_disk_powers_off", rc == 0, f"rc={rc} {err[-500:]}")
check("boot_disk_serial", "VSA-BOOT-OK" in out, out[-500:])
check("screen_dump_on_exit", "VSA 32-BIT PROTECTED MODE OK!" in out)

# SIGUSR1 dumps the screen and the guest keeps running; SIGTERM stops it (5).
screen = os.path.join(work, "screen.txt")
p = subprocess.Popen([args.vsa_vm, "--memory", "16M", "--screen-dump", screen],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
deadline = time.monotonic() + 120
# Until vsa-vm has installed its handler, SIGUSR1's default action would
# kill it: wait for the bit in SigCgt (a loaded CI host can take seconds).
while time.monotonic() < deadline and p.poll() is None and not catches_signal(p.pid, signal.SIGUSR1):
    time.sleep(0.05)
dumped = ""
while time.monotonic() < deadline and "SeaBIOS" not in dumped:
    time.sleep(0.5)
    p.send_signal(signal.SIGUSR1)
    time.sleep(0.3)
    dumped = open(screen, encoding="latin-1").read() if os.path.exists(screen) else ""
check("sigusr1_screen_dump", "SeaBIOS" in dumped, dumped[:200])
check("still_running_after_dump", p.poll() is None)
p.send_signal(signal.SIGTERM)
try:
    rc = p.wait(timeout=30)
except subprocess.TimeoutExpired:
    p.kill()
    rc = None
check("sigterm_exit_5", rc == 5, f"rc={rc}")

# Bad usage and host errors: clear messages, distinct statuses.
rc, out, err = run("--memory", "lots")
check("bad_memory_exit_2", rc == 2 and "--memory" in err, err)
rc, out, err = run("--frobnicate")
check("unknown_option_exit_2", rc == 2 and "unknown" in err, err)
rc, out, err = run("--bios", os.path.join(work, "missing.bin"))
check("missing_bios_exit_1", rc == 1 and "missing.bin" in err, err)
rc, out, err = run("--disk", os.path.join(work, "missing.img"))
check("missing_disk_exit_1", rc == 1 and "missing.img" in err, err)
bad_size = os.path.join(work, "odd.rom")
with open(bad_size, "wb") as f:
    f.write(b"\x00" * 1000)
rc, out, err = run("--bios", bad_size)
check("odd_sized_bios_exit_1", rc == 1 and "64 KiB" in err, err)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
