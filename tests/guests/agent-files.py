#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Prints the mkcpio.py specs that put an i386 program and every shared
library it loads into an initramfs:

    agent-files.py ROOT PROGRAM DEST

ROOT is a tree of unpacked Debian packages (fetch-debs.sh's agent-root),
PROGRAM a path inside it (usr/sbin/qemu-ga), DEST where the program goes in
the initramfs. The libraries are found by their DT_NEEDED names (readelf,
binutils), transitively, in the directories ld.so searches on Debian i386,
and go to /lib under those names, so the soname symlinks of the packages
are not needed; the program interpreter (PT_INTERP) goes to its own path.
Symbolic links are followed inside ROOT only: an absolute link target is
taken relative to ROOT, never the build host's own file.

Why not ldd: it runs the program, an i386 binary that the host may not be
able to run, and it would resolve against the host's libraries.
"""
import os
import re
import subprocess
import sys

SEARCH = ["lib/i386-linux-gnu", "usr/lib/i386-linux-gnu", "lib", "usr/lib"]


def inside(root, path):
    """PATH (relative to ROOT) with every symlink resolved within ROOT."""
    parts = [p for p in path.split("/") if p]
    done = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        if part == ".":
            continue
        here = os.path.join(root, *done, part)
        if os.path.islink(here):
            hops += 1
            if hops > 40:
                raise SystemExit(f"agent-files: symlink loop at {path}")
            target = os.readlink(here)
            if target.startswith("/"):
                done = []
            parts = [p for p in target.split("/") if p] + parts
            continue
        done.append(part)
    return os.path.join(root, *done)


def readelf(args, path):
    out = subprocess.run(["readelf", "-W"] + args + [path], check=True, capture_output=True, text=True).stdout
    return out


def needed(path):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf(["-d"], path))


def interpreter(path):
    m = re.search(r"Requesting program interpreter: ([^\]]+)\]", readelf(["-l"], path))
    return m.group(1) if m else None


def find_library(root, name):
    for d in SEARCH:
        p = inside(root, os.path.join(d, name))
        if os.path.isfile(p):
            return p
    raise SystemExit(f"agent-files: {name} not found under {root}")


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    root, program, dest = sys.argv[1], sys.argv[2], sys.argv[3].lstrip("/")
    binary = inside(root, program)
    if not os.path.isfile(binary):
        raise SystemExit(f"agent-files: {program} not found under {root}")
    interp = interpreter(binary)
    if not interp:
        raise SystemExit(f"agent-files: {program} has no program interpreter")
    specs = [f"file:{dest}:755:{binary}"]
    seen = {}
    todo = needed(binary)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        seen[name] = find_library(root, name)
        todo += needed(seen[name])
    interp_rel = interp.lstrip("/")
    for name in sorted(seen):
        if "lib/" + name != interp_rel:
            specs.append(f"file:lib/{name}:755:{seen[name]}")
    specs.append(f"file:{interp_rel}:755:{inside(root, interp_rel)}")
    print("\n".join(specs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
