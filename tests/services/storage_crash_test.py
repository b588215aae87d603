#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Crash safety of VhdImage: crash a writer at many points, then judge.

Two phases, each crash on a fresh image (dynamic, or a differencing child
of a populated dynamic parent):
  * timed: storage_crash_writer writes for a random time and is SIGKILLed
    from outside (--iterations of them);
  * aimed: one traced run lists every change the writer makes to the file
    (data, bitmap, footer, bat, fdatasync, fsync); then, for the first, the
    last and random other changes of each kind, the writer crashes itself
    just before that change, either as a process kill (the page cache keeps
    what was written) or as a host power cut (its fault injector first
    undoes all, or a random part, of what was written since the last sync).
    The writer flushes every AIMED_FLUSH_EVERY writes, rarely enough that
    VhdImage also commits metadata between flushes (MAX_PENDING_METADATA),
    so crashes land inside the batched path too: between new blocks' data
    and the sync, between the sync and the BAT writes, between the BAT
    writes and the final fsync.
After every crash:
  1. `vsa-vhd check` exits 0, or exits 1 with only the documented
     "footer at the end of the file is damaged" problem: a power cut that
     kept a new block's bitmap (written over the old footer) but not the
     file's new size leaves that by design, and the next read-write open
     repairs it;
  2. every write acknowledged ("ACK n" after flush) reads back intact, and
     every other sector holds its base content or the data of a write that
     was perhaps in flight (the writer's verify mode recomputes them all);
  3. qemu-img info and `qemu-img convert -f vpc -O raw` succeed (QEMU 7.2 has
     no check for vpc);
  4. after a read-write open (the repair), `vsa-vhd check` exits 0 and the
     content is still right.
Usage: storage_crash_test.py --writer PATH --vsa-vhd PATH [--iterations N] [--aimed N]
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
parser.add_argument("--aimed", type=int, default=3, help="crash points per kind of change (and mode)")
parser.add_argument("--seed", type=int, default=20050101)
args = parser.parse_args()

FLUSH_EVERY = 8
WRITES = 1_000_000  # never reached: the kill always comes first
AIMED_FLUSH_EVERY = 40
AIMED_WRITES = 240
AIMED_MODES = ["kill", "power-all", "power-some"]
FOOTER_RECOVERED = "the footer at the end of the file is damaged"

passed = 0
failed = 0
recovered_footers = 0
aimed_kinds = {}  # kind of change -> crashes placed just before one


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


def acks_of(out):
    acks = [int(line.split()[1]) for line in out.decode().splitlines() if line.startswith("ACK ")]
    return acks[-1] if acks else 0


def kill_writer(path, seed, delay):
    """Runs the writer on path, SIGKILLs it after delay s; returns the last ACK."""
    writer = subprocess.Popen([args.writer, "write", path, str(seed), str(WRITES), str(FLUSH_EVERY)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(delay)
    writer.send_signal(signal.SIGKILL)
    out, err = writer.communicate()
    if writer.returncode != -signal.SIGKILL:
        raise AssertionError(f"writer exited {writer.returncode} before the kill: {err.decode(errors='replace')}")
    return acks_of(out)


def new_image(path, kind, parent):
    """Makes a fresh image; returns the base argument for verify."""
    if kind == "dynamic":
        # 64 KiB blocks: 1024 of them, so the writer allocates all the time.
        subprocess.run([args.writer, "create-dynamic", path, "64", "64"], check=True)
        return []
    subprocess.run([args.writer, "create-diff", path, parent], check=True)
    return [parent]


def judge(tag, path, seed, acked, maybe, base, work):
    """Steps 1 to 4 of the module comment."""
    global recovered_footers
    ok, recovered = check_image(path, allow_recovered=True)
    expect(ok, f"{tag}: vsa-vhd check after the crash")
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

    # The repair: a read-write open rewrites a lost footer and trims the
    # blocks whose BAT entries never reached the file.
    repair = run(args.writer, "verify", path, str(seed), str(acked), str(maybe), *base, "--rw")
    expect(repair.returncode == 0, f"{tag}: read-write reopen", repair.stderr.decode(errors="replace"))
    ok, _ = check_image(path, allow_recovered=False)
    expect(ok, f"{tag}: vsa-vhd check after the read-write reopen")


def iteration(number, kind, work, rng, parent):
    path = os.path.join(work, f"crash{number}.vhd")
    base = new_image(path, kind, parent)
    seed = rng.randrange(1, 2**32)
    delay = rng.uniform(0.005, 0.6)
    acked = kill_writer(path, seed, delay)
    # The ACK for write k may be lost if the kill lands between flush() and
    # the print, so writes up to two flush groups past the last ACK may have
    # started.
    maybe = acked + 2 * FLUSH_EVERY
    tag = f"#{number} {kind} seed={seed} kill after {delay * 1000:.0f} ms, last ACK {acked}"
    judge(tag, path, seed, acked, maybe, base, work)
    os.unlink(path)
    return acked


def aimed(kind, work, rng, parent):
    """Crashes just before chosen changes of each kind; returns the crash count."""
    path = os.path.join(work, f"aimed-{kind}.vhd")
    seed = rng.randrange(1, 2**32)
    new_image(path, kind, parent)
    trace = run(args.writer, "write", path, str(seed), str(AIMED_WRITES), str(AIMED_FLUSH_EVERY), "--trace")
    os.unlink(path)
    if not expect(trace.returncode == 0, f"aimed {kind}: traced run", trace.stderr.decode(errors="replace")):
        return 0
    by_kind = {}
    for line in trace.stdout.decode().splitlines():
        if line.startswith("OP "):
            _, number, what, *_ = line.split()
            by_kind.setdefault(what, []).append(int(number))
    # Each flush that allocated makes one fdatasync and one fsync; more
    # fdatasyncs than that means metadata was committed between flushes,
    # the batched path this phase is about.
    syncs = f"{len(by_kind.get('fdatasync', []))} fdatasync, {len(by_kind.get('fsync', []))} fsync"
    expect(len(by_kind.get("fdatasync", [])) > len(by_kind.get("fsync", [])),
           f"aimed {kind}: metadata commits between flushes", syncs)
    print(f"aimed {kind}: traced " + ", ".join(f"{len(v)} {k}" for k, v in sorted(by_kind.items())))
    crashes = 0
    for what, numbers in sorted(by_kind.items()):
        chosen = {numbers[0], numbers[-1]}
        while len(chosen) < min(args.aimed, len(numbers)):
            chosen.add(rng.choice(numbers))
        for at in sorted(chosen):
            for mode in AIMED_MODES:
                base = new_image(path, kind, parent)
                crash_seed = rng.randrange(1, 2**32)
                writer = run(args.writer, "write", path, str(seed), str(AIMED_WRITES), str(AIMED_FLUSH_EVERY),
                             "--crash-at", str(at), mode, str(crash_seed))
                tag = f"aimed {kind} seed={seed} {mode} before change {at} ({what}) crash_seed={crash_seed}"
                if expect(writer.returncode == -signal.SIGKILL, f"{tag}: writer crashed",
                          f"exit {writer.returncode}: {writer.stderr.decode(errors='replace')}"):
                    # The crash comes from inside, so the last ACK printed is
                    # the last flush that returned; any write after it may
                    # have been in flight.
                    acked = acks_of(writer.stdout)
                    judge(tag, path, seed, acked, acked + AIMED_FLUSH_EVERY, base, work)
                    crashes += 1
                    aimed_kinds[what] = aimed_kinds.get(what, 0) + 1
                os.unlink(path)
    return crashes


def main():
    rng = random.Random(args.seed)
    start = time.monotonic()
    work = tempfile.mkdtemp(prefix="vsa-crash-")
    crashes = 0
    acked_total = 0
    try:
        # The parent: a dynamic disk with 2 MiB blocks, half written.
        parent = os.path.join(work, "parent.vhd")
        subprocess.run([args.writer, "create-dynamic", parent, "64", "2048"], check=True)
        subprocess.run([args.writer, "write", parent, "7", "300", "100"], check=True, stdout=subprocess.DEVNULL)
        for number in range(args.iterations):
            kind = "dynamic" if number % 2 == 0 else "differencing"
            try:
                acked_total += iteration(number, kind, work, rng, parent)
            except (AssertionError, subprocess.SubprocessError, OSError) as error:
                expect(False, f"#{number} {kind}", str(error))
        timed = time.monotonic() - start
        # A parent with 64 KiB blocks, so its children have 1024 small
        # blocks too and reach MAX_PENDING_METADATA between flushes.
        small_parent = os.path.join(work, "parent64k.vhd")
        subprocess.run([args.writer, "create-dynamic", small_parent, "64", "64"], check=True)
        subprocess.run([args.writer, "write", small_parent, "8", "300", "100"], check=True,
                       stdout=subprocess.DEVNULL)
        for kind in ("dynamic", "differencing"):
            try:
                crashes += aimed(kind, work, rng, small_parent)
            except (AssertionError, subprocess.SubprocessError, OSError) as error:
                expect(False, f"aimed {kind}", str(error))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - start
    print(f"timed: {args.iterations} kills in {timed:.1f} s, {acked_total} acknowledged writes verified")
    print(f"aimed: {crashes} crashes in {elapsed - timed:.1f} s, just before "
          + ", ".join(f"{count} {what}" for what, count in sorted(aimed_kinds.items())) + " changes")
    print(f"{recovered_footers} crashes left the trailing footer to be repaired")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
