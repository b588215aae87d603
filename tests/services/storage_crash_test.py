#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Crash safety of VhdImage: SIGKILL a writer at random points, then judge.

Each iteration starts storage_crash_writer on a fresh image (dynamic, or a
differencing child of a populated dynamic parent), lets it write for a
random time and kills it with SIGKILL. Then:
  1. `vsa-vhd check` exits 0, or exits 1 with only the documented
     "footer at the end of the file is damaged" problem: a kill between
     the bitmap write and the new footer (VhdImage::allocate_block) leaves
     that by design, and the next read-write open repairs it;
  2. every write acknowledged ("ACK n" after flush) reads back intact, and
     every other sector holds its base content or the data of a write that
     was perhaps in flight (the writer's verify mode recomputes them all);
  3. qemu-img info and `qemu-img convert -f vpc -O raw` succeed (QEMU 7.2 has
     no check for vpc);
  4. after a read-write open (the repair), `vsa-vhd check` exits 0 and the
     content is still right.
Usage: storage_crash_test.py --writer PATH --vsa-vhd PATH [--iterations N]
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("--writer", required=True)
parser.add_argument("--vsa-vhd", required=True)
parser.add_argument("--iterations", type=int, default=40)
parser.add_argument("--seed", type=int, default=20050101)
args = parser.parse_args()

FLUSH_EVERY = 8
# The ACK for write k may be lost if the kill lands between flush() and the
# print, so writes up to two flush groups past the last ACK may have started.
IN_FLIGHT = 2 * FLUSH_EVERY
WRITES = 1_000_000  # never reached: the kill always comes first
FOOTER_RECOVERED = "the footer at the end of the file is damaged"

passed = 0
failed = 0
recovered_footers = 0


def expect(condition, what, detail=""):
    global passed, failed
    if condition:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}{': ' + detail if detail else ''}")
    return condition


def run(*command):
    return subprocess.run(list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)


def check_image(path, allow_recovered):
    """vsa-vhd check; returns (ok, recovered)."""
    result = run(args.vsa_vhd, "check", path)
    if result.returncode == 0:
        return True, False
    problems = [line for line in result.stderr.decode(errors="replace").splitlines()
                if line.startswith("problem:")]
    if (allow_recovered and result.returncode == 1 and problems
            and all(FOOTER_RECOVERED in line for line in problems)):
        return True, True
    print(result.stderr.decode(errors="replace"))
    return False, False


def kill_writer(path, seed, delay):
    """Runs the writer on path, SIGKILLs it after delay s; returns the last ACK."""
    writer = subprocess.Popen([args.writer, "write", path, str(seed), str(WRITES), str(FLUSH_EVERY)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(delay)
    writer.send_signal(signal.SIGKILL)
    out, err = writer.communicate()
    if writer.returncode != -signal.SIGKILL:
        raise AssertionError(f"writer exited {writer.returncode} before the kill: {err.decode(errors='replace')}")
    acks = [int(line.split()[1]) for line in out.decode().splitlines() if line.startswith("ACK ")]
    return acks[-1] if acks else 0


def iteration(number, kind, work, rng, parent):
    global recovered_footers
    path = os.path.join(work, f"crash{number}.vhd")
    if kind == "dynamic":
        # 64 KiB blocks: 1024 of them, so the writer allocates all the time.
        subprocess.run([args.writer, "create-dynamic", path, "64", "64"], check=True)
        base = []
    else:
        subprocess.run([args.writer, "create-diff", path, parent], check=True)
        base = [parent]
    seed = rng.randrange(1, 2**32)
    delay = rng.uniform(0.005, 0.6)
    acked = kill_writer(path, seed, delay)
    maybe = acked + IN_FLIGHT
    tag = f"#{number} {kind} seed={seed} kill after {delay * 1000:.0f} ms, last ACK {acked}"

    ok, recovered = check_image(path, allow_recovered=True)
    expect(ok, f"{tag}: vsa-vhd check after the kill")
    if recovered:
        recovered_footers += 1
    verify = run(args.writer, "verify", path, str(seed), str(acked), str(maybe), *base)
    expect(verify.returncode == 0, f"{tag}: acknowledged writes read back", verify.stderr.decode(errors="replace"))
    info = run("qemu-img", "info", "-f", "vpc", path)
    expect(info.returncode == 0, f"{tag}: qemu-img info", info.stderr.decode(errors="replace"))
    raw = os.path.join(work, "converted.raw")
    convert = run("qemu-img", "convert", "-f", "vpc", "-O", "raw", path, raw)
    expect(convert.returncode == 0, f"{tag}: qemu-img convert", convert.stderr.decode(errors="replace"))
    if os.path.exists(raw):
        os.unlink(raw)

    # The repair: a read-write open rewrites a lost footer.
    repair = run(args.writer, "verify", path, str(seed), str(acked), str(maybe), *base, "--rw")
    expect(repair.returncode == 0, f"{tag}: read-write reopen", repair.stderr.decode(errors="replace"))
    ok, _ = check_image(path, allow_recovered=False)
    expect(ok, f"{tag}: vsa-vhd check after the read-write reopen")
    os.unlink(path)
    return acked


def main():
    rng = random.Random(args.seed)
    start = time.monotonic()
    work = tempfile.mkdtemp(prefix="vsa-crash-")
    try:
        # The parent: a dynamic disk with 2 MiB blocks, half written.
        parent = os.path.join(work, "parent.vhd")
        subprocess.run([args.writer, "create-dynamic", parent, "64", "2048"], check=True)
        subprocess.run([args.writer, "write", parent, "7", "300", "100"], check=True, stdout=subprocess.DEVNULL)
        acked_total = 0
        for number in range(args.iterations):
            kind = "dynamic" if number % 2 == 0 else "differencing"
            try:
                acked_total += iteration(number, kind, work, rng, parent)
            except (AssertionError, subprocess.SubprocessError, OSError) as error:
                expect(False, f"#{number} {kind}", str(error))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - start
    print(f"{args.iterations} kills in {elapsed:.1f} s, {acked_total} acknowledged writes verified, "
          f"{recovered_footers} kills left the trailing footer to be repaired")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
