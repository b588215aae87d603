#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vsa-vm from the command line, as scripts use it: exit statuses, the
debug console and serial sinks, the screen dump (on exit and on SIGUSR1),
the instruction trace, saved states (--save-state, --save-after, SIGUSR2,
--restore-state), and clear errors for bad usage or missing files."""
import argparse
import os
import signal
import socket
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


def exit_status(process, timeout):
    """The process's exit status, or None (and it is killed) after timeout s."""
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return None


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

# The El Torito CD: a disk first on the cable, the CD after it, and
# --boot cdrom still boots the CD.
boot_cdrom = os.path.join(args.progs, "boot_cdrom.iso")
rc, out, err = run("--memory", "16M", "--disk", boot_disk, "--readonly", "--cdrom", boot_cdrom, "--boot", "cdrom",
                   "--vgabios", "none", "--serial", "stdio", "--deterministic", "--timeout", "300", timeout=400)
check("boot_cdrom_powers_off", rc == 0, f"rc={rc} {err[-500:]}")
check("boot_cdrom_serial", "VSA-CDBOOT-OK" in out and "VSA boot disk test" not in out, out[-500:])

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
rc = exit_status(p, 30)
check("sigterm_exit_5", rc == 5, f"rc={rc}")

# Saved state. A spinning guest never ends by itself: --save-after saves it
# and stops with exit 6; restored, it spins on until the timeout (4).
state = os.path.join(work, "spin.vsv")
rc, out, err = run("--bios", spin, "--vgabios", "none", "--save-state", state, "--save-after", "0.3",
                   "--timeout", "60")
check("save_after_exit_6", rc == 6 and os.path.getsize(state) > 0 and "state saved" in err, f"rc={rc} {err}")
check("no_temporary_files_left", sorted(f for f in os.listdir(work) if f.startswith("spin.vsv")) == ["spin.vsv"],
      os.listdir(work))
rc, out, err = run("--bios", spin, "--vgabios", "none", "--restore-state", state, "--timeout", "0.5")
check("restored_runs_on", rc == 4 and "state restored" in err, f"rc={rc} {err}")
# Save again from the restored machine (a chain of saves).
state2 = os.path.join(work, "spin2.vsv")
rc, out, err = run("--bios", spin, "--vgabios", "none", "--restore-state", state, "--save-state", state2,
                   "--save-after", "0.2", "--timeout", "60")
check("restore_then_save_exit_6", rc == 6 and os.path.exists(state2), f"rc={rc} {err}")

# SIGUSR2 saves and stops.
state3 = os.path.join(work, "usr2.vsv")
p = subprocess.Popen([args.vsa_vm, "--bios", spin, "--vgabios", "none", "--save-state", state3, "--timeout", "60"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
time.sleep(0.5)
p.send_signal(signal.SIGUSR2)
rc = exit_status(p, 30)
check("sigusr2_saves_exit_6", rc == 6 and os.path.exists(state3), f"rc={rc}")

# Refused restores: another configuration (named), a damaged file, no file.
rc, out, err = run("--bios", spin, "--vgabios", "none", "--memory", "128M", "--restore-state", state)
check("restore_other_memory_exit_1", rc == 1 and "RAM size" in err, err)
rc, out, err = run("--bios", cpu_rom, "--vgabios", "none", "--restore-state", state)
check("restore_other_bios_exit_1", rc == 1 and "system BIOS" in err, err)
with open(state, "rb") as f:
    data = bytearray(f.read())
cut = os.path.join(work, "cut.vsv")
with open(cut, "wb") as f:
    f.write(data[:len(data) // 2])
rc, out, err = run("--bios", spin, "--vgabios", "none", "--restore-state", cut)
check("restore_truncated_exit_1", rc == 1 and "truncated" in err, err)
data[len(data) // 3] ^= 0x10
flipped = os.path.join(work, "flipped.vsv")
with open(flipped, "wb") as f:
    f.write(data)
rc, out, err = run("--bios", spin, "--vgabios", "none", "--restore-state", flipped)
check("restore_corrupt_exit_1", rc == 1 and "checksum" in err, err)
rc, out, err = run("--bios", spin, "--vgabios", "none", "--restore-state", os.path.join(work, "none.vsv"))
check("restore_missing_exit_1", rc == 1 and "none.vsv" in err, err)
rc, out, err = run("--bios", spin, "--save-after", "1")
check("save_after_needs_save_state_exit_2", rc == 2 and "--save-state" in err, err)

# Round trip of the SeaBIOS boot: saved part-way, restored, the serial log
# joined is the one of an unbroken run, and the screen is the final one.
# The save is on host time, so a fast host may finish first: then retry
# with an earlier save point.
boot_args = ["--memory", "32M", "--disk", boot_disk, "--readonly", "--serial", "stdio", "--deterministic",
             "--timeout", "100"]
rc, whole, err = run(*boot_args)
boot_state = os.path.join(work, "boot.vsv")
after = 0.4
for attempt in range(6):
    rc1, first, err1 = run(*boot_args, "--save-state", boot_state, "--save-after", str(after))
    if rc1 != 0:
        break
    after /= 3  # the guest powered off before the save point
check("boot_saved_part_way", rc1 == 6 and "VSA-BOOT-OK" not in first, f"rc={rc1} {err1}")
rc2, second, err2 = run(*boot_args, "--restore-state", boot_state, "--screen-dump", "stderr")
check("boot_restored_powers_off", rc2 == 0, f"rc={rc2} {err2[-500:]}")
check("boot_joined_serial_is_whole", first + second == whole, f"{(first + second)[-300:]!r} vs {whole[-300:]!r}")
check("boot_restored_screen", "VSA 32-BIT PROTECTED MODE OK!" in err2, err2[-800:])

# The control channel (--control-fd): garbage gets error replies and the
# worker goes on answering; pause stops it, turn-off ends it with status 5.
import socket  # noqa: E402
ours, theirs = socket.socketpair()
p = subprocess.Popen([args.vsa_vm, "--bios", spin, "--vgabios", "none", "--control-fd", str(theirs.fileno()),
                      "--timeout", "120"], pass_fds=[theirs.fileno()], stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE)
theirs.close()
ours.settimeout(60)
received = b""


def control_lines(count):
    global received
    while received.count(b"\n") < count:
        chunk = ours.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.decode("latin-1").splitlines()


ours.sendall(b"\x00\xff\x01garbage\n" + b"9" * 5000 + b"\n12 sing\n0 pause\n1 pause\n2 pause\n3 query\n")
lines = control_lines(9)
check("control_started_event", lines[:1] == ["event started"], lines[:1])
check("control_garbage_error_replies", lines[1].startswith("reply 0 error") and
      lines[2] == "reply 0 error line too long" and lines[3].startswith("reply 12 error unknown command") and
      lines[4].startswith("reply 0 error bad sequence number"), lines[1:5])
check("control_pause", lines[5:8] == ["reply 1 ok", "event paused", "reply 2 error already paused"], lines[5:8])
check("control_query_paused", lines[8].startswith("reply 3 ok state=paused instructions="), lines[8:9])
ours.sendall(b"4 resume\n5 turn-off\n")
lines = control_lines(13)
check("control_resume_turn_off", lines[9:13] == ["reply 4 ok", "event resumed", "reply 5 ok", "event turned-off"],
      lines[9:])
rc = exit_status(p, 60)
check("control_turn_off_exit_5", rc == 5, f"rc={rc}")
ours.close()
# Media and the power button over the control channel: the CD drive (the
# first free IDE slot, 0) takes and gives back an image, also while paused;
# a missing image, an empty slot and a bad path are error replies.
ours, theirs = socket.socketpair()
p = subprocess.Popen([args.vsa_vm, "--bios", spin, "--vgabios", "none", "--cdrom", "empty", "--control-fd",
                      str(theirs.fileno()), "--timeout", "120"], pass_fds=[theirs.fileno()],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
theirs.close()
ours.settimeout(60)
received = b""
iso_arg = boot_cdrom.replace("%", "%25").replace(" ", "%20")
ours.sendall(f"1 insert-media 0 {iso_arg}\n2 eject-media 0\n3 eject-media 2\n"
             f"4 insert-media 0 {work}/missing.iso\n5 power-button\n6 pause\n"
             f"7 insert-media 0 {iso_arg}\n8 eject-media 0 force\n".encode())
lines = control_lines(10)
# The reader answers an undecodable request at once, ahead of queued ones:
# sent alone, so the order above stays fixed.
ours.sendall(b"9 insert-media 0 /x%zz\n")
lines = control_lines(11)
check("control_media", lines[1:4] == ["reply 1 ok", "reply 2 ok", "reply 3 error no CD drive in IDE slot 2"],
      lines[:4])
check("control_media_missing", lines[4].startswith("reply 4 error") and "missing.iso" in lines[4], lines[4:5])
check("control_power_button", lines[5] == "reply 5 ok", lines[5:6])
check("control_media_paused", lines[6:10] == ["reply 6 ok", "event paused", "reply 7 ok", "reply 8 ok"],
      lines[6:10])
check("control_media_bad_path", lines[10].startswith("reply 9 error insert-media"), lines[10:11])
ours.sendall(b"10 turn-off\n")
rc = exit_status(p, 60)
check("control_media_turn_off_exit_5", rc == 5, f"rc={rc}")
ours.close()
rc, out, err = run("--bios", spin, "--control-fd", "999")
check("control_fd_not_open_exit_2", rc == 2 and "--control-fd" in err, err)

# The console (--framebuffer-fd): vsad's memfd gets the screen only while
# its viewer deadline lies ahead; key and mouse commands are answered.
# The layout is shared_framebuffer.h's: magic, version, sequence, width,
# height, mode (u32), frame, viewer_deadline_ms, geometry_frame (u64), the
# tile table, pixels from 8192.
FB_BYTES = 8192 + 2560 * 1600 * 4
screen_disk = os.path.join(args.progs, "screen_disk.img")
fb = os.memfd_create("vsa-fb-test")
os.ftruncate(fb, FB_BYTES)
os.pwrite(fb, struct.pack("<II", 0x42465356, 1), 0)


def fb_header():
    magic, version, seq, width, height, mode, frame = struct.unpack("<IIIIIIQ", os.pread(fb, 32, 0))
    return width, height, mode, frame


ours, theirs = socket.socketpair()
p = subprocess.Popen([args.vsa_vm, "--disk", screen_disk, "--serial", "stdio", "--control-fd",
                      str(theirs.fileno()), "--framebuffer-fd", str(fb), "--timeout", "120"],
                     pass_fds=[theirs.fileno(), fb], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
theirs.close()
ours.settimeout(60)
received = b""
serial = b""
while b"VSA-SCREEN-READY" not in serial:
    chunk = p.stdout.read1(4096)
    if not chunk:
        break
    serial += chunk
check("fb_guest_ready", b"VSA-SCREEN-READY" in serial, serial[-200:])
time.sleep(0.5)
check("fb_nothing_unwatched", fb_header()[3] == 0, fb_header())
os.pwrite(fb, struct.pack("<Q", int(time.monotonic() * 1000) + 30000), 32)
deadline = time.monotonic() + 20
while fb_header()[3] == 0 and time.monotonic() < deadline:
    time.sleep(0.05)
width, height, mode, frame = fb_header()
check("fb_text_screen_published", (width, height, mode) == (720, 400, 0) and frame > 0, fb_header())
first_pixel = struct.unpack("<I", os.pread(fb, 4, 8192))[0]
check("fb_pixels_light_red", first_pixel == 0xFF5555, hex(first_pixel))
time.sleep(0.5)
check("fb_idle_screen_no_new_frames", fb_header()[3] == frame, (fb_header(), frame))
ours.sendall(b"1 key 1c\n2 key f01c\n3 mouse 5 -5 1 1\n4 mouse 0 0 0 0\n")
lines = control_lines(5)
check("fb_input_replies", lines[1:5] == ["reply 1 ok", "reply 2 ok", "reply 3 ok", "reply 4 ok"], lines)
# Refused by the reader at once, so sent alone (see control_media).
ours.sendall(b"5 mouse 1 2 3 8\n")
lines = control_lines(6)
check("fb_bad_mouse_refused", lines[5:6] == ["reply 5 error mouse: buttons must be 0..7"], lines[5:])
ours.sendall(b"6 pause\n7 key 1c\n")
lines = control_lines(9)
check("fb_input_paused", lines[6:9] == ["reply 6 ok", "event paused", "reply 7 ok"], lines[6:])
os.pwrite(fb, struct.pack("<Q", 0), 32)
ours.sendall(b"8 turn-off\n")
rc = exit_status(p, 60)
check("fb_turn_off_exit_5", rc == 5, f"rc={rc}")
ours.close()
rc, out, err = run("--bios", spin, "--framebuffer-fd", "999")
check("fb_fd_not_open_exit_2", rc == 2 and "--framebuffer-fd" in err, err)
small = os.memfd_create("vsa-fb-small")
os.ftruncate(small, 4096)
p = subprocess.run([args.vsa_vm, "--bios", spin, "--framebuffer-fd", str(small), "--timeout", "5"],
                   pass_fds=[small], capture_output=True, timeout=60)
check("fb_wrong_size_exit_1", p.returncode == 1 and b"framebuffer" in p.stderr, p.stderr)
os.close(small)
os.close(fb)

# Serial over TCP and a printer on LPT1: lpt_disk.img waits for a byte on
# COM1, then prints through INT 17h and the ports with IRQ 7 and powers off.
# The worker names the port it listens on (port 0: any free one); the test
# attaches, sends the byte and sees the guest's output.
lpt_disk = os.path.join(args.progs, "lpt_disk.img")
printer = os.path.join(work, "printer.txt")
p = subprocess.Popen([args.vsa_vm, "--memory", "16M", "--disk", lpt_disk, "--readonly", "--vgabios", "none",
                      "--serial", "tcp:127.0.0.1:0", "--parallel", f"file:{printer}", "--deterministic",
                      "--timeout", "300"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
port, line = 0, ""
for _ in range(20):
    line = p.stderr.readline().decode("latin-1")
    if not line or "COM1 listening on tcp 127.0.0.1:" in line:
        break
if "COM1 listening on tcp 127.0.0.1:" in line:
    port = int(line.rsplit(":", 1)[1])
check("tcp_serial_announced", port > 0, line)
received = b""
if port:
    client = socket.create_connection(("127.0.0.1", port), timeout=120)
    deadline = time.monotonic() + 300
    client.sendall(b"g")
    while b"VSA-LPT-OK" not in received and b"FAIL" not in received and time.monotonic() < deadline:
        try:
            chunk = client.recv(4096)
        except socket.timeout:
            break
        if not chunk:
            break
        received += chunk
    client.close()
rc = exit_status(p, 300)
err = p.stderr.read().decode("latin-1")
text = received.decode("latin-1")
check("tcp_serial_input_and_output", "[lpt] got g" in text and "VSA-LPT-OK" in text, text[-300:] + err[-300:])
check("tcp_serial_guest_powers_off", rc == 0, f"rc={rc} {err[-300:]}")
printed = open(printer, "rb").read() if os.path.exists(printer) else b""
check("parallel_to_file", printed == b"INT17: hello, printer\r\nPORTIO: direct, IRQ 7\r\n", repr(printed))
rc, out, err = run("--parallel", "stdio")
check("parallel_stdio_exit_2", rc == 2 and "--parallel" in err, err)
rc, out, err = run("--serial", "stdio", "--serial2", "stdio")
check("two_stdin_readers_exit_2", rc == 2 and "stdin" in err, err)
rc, out, err = run("--serial", "tcp:127.0.0.1:99999")
check("bad_tcp_port_exit_1", rc == 1 and "port" in err, err)
rc, out, err = run("--serial", "pipe:" + os.path.join(work, "missing-dir", "com1"))
check("bad_pipe_exit_1", rc == 1 and "missing-dir" in err, err)

# Bad usage and host errors: clear messages, distinct statuses.
rc, out, err = run("--memory", "lots")
check("bad_memory_exit_2", rc == 2 and "--memory" in err, err)
rc, out, err = run("--frobnicate")
check("unknown_option_exit_2", rc == 2 and "unknown" in err, err)
rc, out, err = run("--bios", os.path.join(work, "missing.bin"))
check("missing_bios_exit_1", rc == 1 and "missing.bin" in err, err)
rc, out, err = run("--disk", os.path.join(work, "missing.img"))
check("missing_disk_exit_1", rc == 1 and "missing.img" in err, err)
rc, out, err = run("--cdrom", os.path.join(work, "missing.iso"))
check("missing_cdrom_image_exit_1", rc == 1 and "missing.iso" in err, err)
rc, out, err = run("--boot", "tape")
check("bad_boot_exit_2", rc == 2 and "--boot" in err, err)
rc, out, err = run("--floppy", os.path.join(work, "missing.vfd"), "--boot", "floppy")
check("missing_floppy_image_exit_1", rc == 1 and "missing.vfd" in err, err)
rc, out, err = run("--disk=", "--disk=", "--cdrom", "empty", "--cdrom", "empty", "--cdrom", "empty")
check("five_ide_drives_exit_2", rc == 2 and "at most 4" in err, err)
bad_size = os.path.join(work, "odd.rom")
with open(bad_size, "wb") as f:
    f.write(b"\x00" * 1000)
rc, out, err = run("--bios", bad_size)
check("odd_sized_bios_exit_1", rc == 1 and "64 KiB" in err, err)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
