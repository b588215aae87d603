#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""CPU interpreter speed: vsa-vm against Bochs 2.7, in MIPS.

The guest is tests/progs/bench_rom.asm (built as bench_rom.bin by the
vsa_test_programs target): a raw 64 KiB BIOS image that switches to 32-bit
flat protected mode at once and runs one of two loops a given number of
times, then powers off by writing "Shutdown" to port 8900h:

  alu  register-only add/xor/rol/shr/sub/dec/jnz, 10 instructions/iteration
  mem  loads, stores, push/pop and call/ret over a 4 KiB buffer,
       12 instructions/iteration

Both peers boot it the same way, as their only firmware (vsa-vm --bios,
Bochs romimage:), so neither pays for a BIOS POST whose cost depends on how
the emulator paces timers rather than on how fast it executes instructions.
The loop and the iteration count are patched into the image's header
("VSABENCH", loop, iterations) for each run.

Method. A run's wall time is startup + set-up + I * N / speed + shutdown,
where I is the loop's instructions per iteration. Each peer runs every loop
with N and with 2N iterations; the difference of the two wall times is the
time of exactly I * N instructions, with emulator start-up, the ROM's
set-up and the exit cancelled out:

    MIPS = I * N / (t(2N) - t(N)) / 1e6

Time is the emulator process's CPU time (user + system, from wait4) by
default, --clock wall for wall time. Both peers run one busy emulation
thread, so the two agree on an idle host; on a shared 2-core machine where
other jobs compete, wall time swings by tens of percent between runs while
CPU time stays within a few percent, which is why it is the default.

Runs are interleaved (for each repetition: N and 2N for each peer, the peer
order alternating between repetitions) so slow drifts of the host hit both
peers alike. The headline MIPS uses the best (lowest) time of each N over
the repetitions, since load from other jobs only ever adds time; the
median of the per-repetition MIPS is printed beside it as a noise gauge
(far apart = a noisy host: rerun with more --repeat). The ratio is
vsa-vm's headline MIPS over Bochs's. Every run must print
"BENCH END checksum=X", and X must equal Bochs's for the same loop and N:
a peer that skips or miscomputes work is reported as invalid (exit 2).

Bochs configuration: Debian's bochs-bin (2.7, built with its internal
debugger, which costs it some speed; there is no nogui display library, so
rfb with no client wait), clock: sync=none so it never sleeps, no sound,
speaker or mouse, port_e9_hack for the ROM's output. It exits when the ROM
writes "Shutdown" to port 8900h ("Shutdown port: shutdown requested").
`cpu: ips=` only scales emulated time and does not change wall time.

vsa-vm: `vsa-vm --memory 64M --bios ROM --serial stdio --debugcon FILE
--timeout S` (plus --vsa-vm-arg ...); it must exit 0 on the 8900h shutdown.
Without --vsa-vm, or if the file does not exist yet, only Bochs is measured.
Measure a Release or RelWithDebInfo build without sanitizers.

--qemu adds QEMU TCG as a third, informational peer (-bios, isa-debug-exit).

Usage:
  /usr/bin/python3 tests/bench/cpu_bench.py --rom build/tests/progs/bench_rom.bin \
      [--vsa-vm build/hypervisor/vsa-vm] [--repeat 3] [--record]

--record appends a dated section to tests/bench/RESULTS.md. Exit status:
0 measured, 2 a run failed or a checksum disagreed.
"""
import argparse
import datetime
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_host import cpu_model  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

LOOPS = {"alu": 1, "mem": 2}
HEADER_MAGIC = b"VSABENCH"

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--rom", default=os.path.join(ROOT, "build/tests/progs/bench_rom.bin"))
parser.add_argument("--vsa-vm", default="")
parser.add_argument("--vsa-vm-arg", action="append", default=[],
                    help="extra argument for vsa-vm (repeatable)")
parser.add_argument("--bochs", default="bochs-bin")
parser.add_argument("--qemu", default="", help="also run this qemu-system-i386 (informational)")
parser.add_argument("--loops", default="alu,mem")
parser.add_argument("--target-ratio", type=float, default=1.0,
                    help="fail (exit 1) when vsa-vm's MIPS over Bochs's is below this on any loop"
                         " (issue 3's target: at least Bochs's speed)")
parser.add_argument("--alu-iterations", type=int, default=20_000_000)
parser.add_argument("--mem-iterations", type=int, default=15_000_000)
parser.add_argument("--repeat", type=int, default=3)
parser.add_argument("--timeout", type=int, default=600, help="seconds per run")
parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                    help="time a run by the emulator's CPU time (default) or wall time")
parser.add_argument("--record", action="store_true",
                    help="append the results to tests/bench/RESULTS.md")
parser.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
args = parser.parse_args()
if not 1 <= args.alu_iterations <= 2**31 - 1 or not 1 <= args.mem_iterations <= 2**31 - 1:
    parser.error("iterations must be between 1 and 2^31 - 1 (2N must fit the 32-bit header)")


def fail(message):
    print(f"cpu_bench: {message}", file=sys.stderr)
    sys.exit(2)


def read_rom():
    with open(args.rom, "rb") as f:
        rom = bytearray(f.read())
    if len(rom) != 65536 or rom[:8] != HEADER_MAGIC:
        fail(f"{args.rom} is not a bench ROM (64 KiB, starting with {HEADER_MAGIC!r})")
    return rom


ROM = read_rom()
INSNS_PER_ITER = {"alu": struct.unpack_from("<I", ROM, 16)[0],
                  "mem": struct.unpack_from("<I", ROM, 20)[0]}


def patched_rom(workdir, loop, iterations):
    rom = bytearray(ROM)
    struct.pack_into("<II", rom, 8, LOOPS[loop], iterations)
    path = os.path.join(workdir, f"bench_{loop}_{iterations}.bin")
    with open(path, "wb") as f:
        f.write(rom)
    return path


def checksum_of(text):
    for line in text.splitlines():
        if line.startswith("BENCH END checksum="):
            return line.split("=", 1)[1].strip()[:8]
    return None


def timed(cmd, cwd):
    """Runs cmd; returns (seconds by --clock, exit status, output)."""
    out_path = os.path.join(cwd, "run_output.txt")
    with open(out_path, "wb") as out_file:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out_file,
                                stderr=subprocess.STDOUT)
        deadline = start + args.timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                return None, -1, f"timed out after {args.timeout} s"
            time.sleep(0.005)
        wall = time.perf_counter() - start
    with open(out_path, "rb") as f:
        out = f.read().decode("latin-1")
    cpu = usage.ru_utime + usage.ru_stime
    return (cpu if args.clock == "cpu" else wall), os.waitstatus_to_exitcode(status), out


class Bochs:
    name = "bochs"

    def __init__(self, workdir):
        self.workdir = workdir
        self.binary = shutil.which(args.bochs)
        if not self.binary:
            fail(f"{args.bochs} not found (Debian packages bochs, bochsbios)")
        # The debugger build stops at t=0 and reads commands: continue, quit.
        self.dbg_rc = os.path.join(workdir, "bochs_dbg.rc")
        with open(self.dbg_rc, "w") as f:
            f.write("c\nquit\n")

    def version(self):
        _, _, out = timed([self.binary, "--help"], self.workdir)
        for line in out.splitlines():
            if "Bochs x86 Emulator" in line:
                return line.strip()
        return "Bochs"

    def run(self, rom):
        rc_path = os.path.join(self.workdir, "bochsrc")
        with open(rc_path, "w") as f:
            f.write(f"""megs: 64
romimage: file={rom}
vgaromimage: file=/usr/share/seabios/vgabios-isavga.bin
display_library: rfb, options="timeout=0"
clock: sync=none
port_e9_hack: enabled=1
mouse: enabled=0
speaker: enabled=0
sound: driver=dummy
log: {os.path.join(self.workdir, "bochs.log")}
""")
        elapsed, rc, out = timed([self.binary, "-q", "-f", rc_path, "-rc", self.dbg_rc], self.workdir)
        if elapsed is None or "Shutdown port: shutdown requested" not in out:
            return None, out
        return elapsed, out


class VsaVm:
    name = "vsa-vm"

    def __init__(self, workdir, binary):
        self.workdir = workdir
        self.binary = binary

    def version(self):
        return f"vsa-vm ({self.binary})"

    def run(self, rom):
        debugcon = os.path.join(self.workdir, "vsa_debugcon.txt")
        cmd = [self.binary, "--memory", "64M", "--bios", rom, "--serial", "stdio",
               "--debugcon", debugcon, "--timeout", str(args.timeout)] + args.vsa_vm_arg
        elapsed, rc, out = timed(cmd, self.workdir)
        if os.path.exists(debugcon):
            with open(debugcon, encoding="latin-1") as f:
                out += "\n" + f.read()
        if elapsed is None or rc != 0:
            return None, f"exit status {rc}\n{out}"
        return elapsed, out


class Qemu:
    name = "qemu-tcg"

    def __init__(self, workdir, binary):
        self.workdir = workdir
        self.binary = binary

    def version(self):
        _, _, out = timed([self.binary, "--version"], self.workdir)
        return out.splitlines()[0] if out else "QEMU"

    def run(self, rom):
        debugcon = os.path.join(self.workdir, "qemu_debugcon.txt")
        cmd = [self.binary, "-display", "none", "-no-reboot", "-monitor", "none", "-serial", "none",
               "-bios", rom, "-debugcon", f"file:{debugcon}", "-global", "isa-debugcon.iobase=0x402",
               "-device", "isa-debug-exit,iobase=0x501,iosize=2"]
        elapsed, rc, out = timed(cmd, self.workdir)
        if os.path.exists(debugcon):
            with open(debugcon, encoding="latin-1") as f:
                out += f.read()
        if elapsed is None or rc != 1:  # debug-exit with status 0 -> 1
            return None, f"exit status {rc}\n{out}"
        return elapsed, out


def main():
    loops = [name.strip() for name in args.loops.split(",") if name.strip()]
    for name in loops:
        if name not in LOOPS:
            fail(f"unknown loop {name} (alu, mem)")
    workdir = tempfile.mkdtemp(prefix="vsa-cpu-bench.")
    try:
        peers = [Bochs(workdir)]
        if args.vsa_vm and os.access(args.vsa_vm, os.X_OK):
            peers.append(VsaVm(workdir, args.vsa_vm))
        else:
            where = args.vsa_vm or "(no --vsa-vm given)"
            print(f"vsa-vm not found at {where}: measuring Bochs only")
        if args.qemu:
            peers.append(Qemu(workdir, args.qemu))
        for peer in peers:
            print(f"peer {peer.name}: {peer.version()}")
        return measure(workdir, peers, loops)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(workdir, peers, loops):
    iterations = {"alu": args.alu_iterations, "mem": args.mem_iterations}
    times = {}      # (loop, peer, count) -> [seconds per repetition]
    per_rep = {}    # (loop, peer) -> [MIPS of each repetition's own N/2N pair]
    reference = {}  # (loop, count) -> Bochs's checksum
    bad = False
    for rep in range(args.repeat):
        order = peers if rep % 2 == 0 else list(reversed(peers))
        for loop in loops:
            n = iterations[loop]
            for peer in order:
                pair = {}
                for count in (n, 2 * n):
                    elapsed, out = peer.run(patched_rom(workdir, loop, count))
                    summed = checksum_of(out)
                    if elapsed is None or summed is None:
                        print(f"FAIL {peer.name} {loop} N={count}: the run did not finish cleanly\n"
                              + out[-2000:])
                        bad = True
                        continue
                    if peer.name == "bochs":
                        reference.setdefault((loop, count), summed)
                    want = reference.get((loop, count))
                    if want is not None and summed != want:
                        print(f"FAIL {peer.name} {loop} N={count}: checksum {summed}, Bochs {want}")
                        bad = True
                        continue
                    pair[count] = elapsed
                    times.setdefault((loop, peer.name, count), []).append(elapsed)
                if len(pair) == 2:
                    t1, t2 = pair[n], pair[2 * n]
                    value = INSNS_PER_ITER[loop] * n / (t2 - t1) / 1e6 if t2 > t1 else float("nan")
                    per_rep.setdefault((loop, peer.name), []).append(value)
                    print(f"rep {rep + 1} {loop:3} {peer.name:8} t(N)={t1:7.3f} s t(2N)={t2:7.3f} s"
                          f" -> {value:8.1f} MIPS")

    # Headline: the best (lowest) time of each N over the repetitions. Other
    # load on the host only ever adds time, so the minimum is the estimate
    # least disturbed by it; the per-repetition median is shown beside it.
    rows = []
    for loop in loops:
        n = iterations[loop]
        best = {}
        for peer in peers:
            t1s, t2s = times.get((loop, peer.name, n)), times.get((loop, peer.name, 2 * n))
            if not t1s or not t2s or min(t2s) <= min(t1s):
                if t1s and t2s:
                    print(f"FAIL {peer.name} {loop}: best t(2N) <= best t(N); raise the counts")
                    bad = True
                continue
            best[peer.name] = INSNS_PER_ITER[loop] * n / (min(t2s) - min(t1s)) / 1e6
        for peer in peers:
            if peer.name not in best:
                continue
            ratio = best[peer.name] / best["bochs"] if "bochs" in best and peer.name != "bochs" else None
            med = statistics.median(per_rep[(loop, peer.name)])
            rows.append((loop, peer.name, best[peer.name], med, ratio))
    print()
    print(f"{'loop':4} {'peer':8} {'MIPS (best)':>11} {'MIPS (median)':>13} {'ratio/bochs':>11}")
    for loop, name, value, med, ratio in rows:
        shown = f"{ratio:.3f}" if ratio is not None else "-"
        print(f"{loop:4} {name:8} {value:11.1f} {med:13.1f} {shown:>11}")
    if args.record and rows:
        record(peers, loops, iterations, rows)
    if bad:
        return 2
    slow = [(loop, ratio) for loop, name, _, _, ratio in rows if name == "vsa-vm" and ratio is not None
            and ratio < args.target_ratio]
    for loop, ratio in slow:
        print(f"BELOW TARGET {loop}: vsa-vm at {ratio:.3f} of Bochs, target {args.target_ratio:.2f}")
    return 1 if slow else 0


def record(peers, loops, iterations, rows):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "",
        f"## CPU interpreter speed: {stamp}",
        "",
        f"`tests/bench/cpu_bench.py`: bench_rom.bin as the only firmware, MIPS = I*N / (t(2N) - t(N)),"
        f" t = {args.clock} time, best of {args.repeat} interleaved repetition(s) for each N."
        f" Host: {cpu_model()}, {os.cpu_count()} CPU(s).",
        "Iterations N: " + ", ".join(f"{loop} {iterations[loop]:,} ({INSNS_PER_ITER[loop]} insns/iteration)"
                                     for loop in loops) + ".",
        "Peers: " + "; ".join(p.version() for p in peers) + ".",
        "",
        "| loop | peer | MIPS (best) | MIPS (median of repetitions) | ratio to Bochs |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for loop, name, value, med, ratio in rows:
        shown = f"{ratio:.3f}" if ratio is not None else "-"
        lines.append(f"| {loop} | {name} | {value:.1f} | {med:.1f} | {shown} |")
    with open(args.results, "a") as f:
        f.write("\n".join(lines) + "\n")
    print(f"recorded in {args.results}")


if __name__ == "__main__":
    sys.exit(main())
