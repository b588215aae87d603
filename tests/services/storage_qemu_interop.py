#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vsa-vhd against QEMU's vpc driver, both ways.

Our images -> qemu-img info/check/convert and qemu-io reads; QEMU's images
-> vsa-vhd info/check/cat. Usage: storage_qemu_interop.py PATH/TO/vsa-vhd

Size rounding: the VHD footer records the exact size ("current size") and
a CHS geometry that may cover a little less. QEMU 7.2 trusts the current
size only for creators it knows to do so ("win ", "qem2", "d2v ", "CTXS",
"tap"); for any other creator (ours is "vsa ") it exposes the CHS size,
cylinders*heads*sectors*512, unless opened with force_size_calc=current_size.
So for our 20 MiB disk QEMU's default view is shorter than ours, and we
compare that view with the same-length prefix of ours, plus the full disk
with force_size_calc=current_size. QEMU's own images are CHS-rounded *up* at
creation (10M becomes 302/4/17 = 10,514,432 bytes) and record that as the
current size, so both sides agree on them. QEMU 7.2 has no `check` for vpc
("This image format does not support checks", exit 63): that is reported as
skipped and our own `vsa-vhd check` is run instead.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

VSA_VHD = sys.argv[1] if len(sys.argv) > 1 else "vsa-vhd"
MiB = 1024 * 1024
passed = 0
failed = 0


def run(*args, stdin=None, stdout=None, check=True):
    result = subprocess.run(list(args), input=stdin, stdout=stdout if stdout else subprocess.PIPE,
                            stderr=subprocess.PIPE)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}: {result.stderr.decode(errors='replace')}")
    return result


def expect(condition, what):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok: {what}")
    else:
        failed += 1
        print(f"FAIL: {what}")


def vsa_info(path):
    out = run(VSA_VHD, "info", path).stdout.decode()
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def qemu_info(path):
    return json.loads(run("qemu-img", "info", "--output=json", "-f", "vpc", path).stdout)


def vsa_cat(path, out_path, offset=None, length=None):
    args = [VSA_VHD, "cat", path] + ([str(offset), str(length)] if offset is not None else [])
    with open(out_path, "wb") as out:
        run(*args, stdout=out)
    with open(out_path, "rb") as f:
        return f.read()


def qemu_convert(path, out_path, current_size=False):
    if current_size:
        run("qemu-img", "convert", "--image-opts",
            f"driver=vpc,force_size_calc=current_size,file.filename={path}", "-O", "raw", out_path)
    else:
        run("qemu-img", "convert", "-f", "vpc", "-O", "raw", path, out_path)
    with open(out_path, "rb") as f:
        return f.read()


def qemu_check(path, what):
    result = run("qemu-img", "check", "-f", "vpc", path, check=False)
    if result.returncode == 63:
        print(f"skip: qemu-img check {what}: {result.stderr.decode().strip()}")
    else:
        expect(result.returncode == 0, f"qemu-img check {what}")


def vsa_write(path, offset, data):
    run(VSA_VHD, "write", path, str(offset), stdin=data)


def pattern(byte, length):
    return bytes([byte]) * length


def ours_to_qemu(work, kind, size, writes):
    path = os.path.join(work, f"ours-{kind}.vhd")
    run(VSA_VHD, "create", kind, path, f"{size // MiB}M")
    model = bytearray(size)
    for offset, data in writes:
        vsa_write(path, offset, data)
        model[offset:offset + len(data)] = data
    check = run(VSA_VHD, "check", path, check=False)
    expect(check.returncode == 0, f"vsa-vhd check ours {kind}")
    qemu_check(path, f"ours {kind}")
    info = vsa_info(path)
    c, h, s = (int(x) for x in info["geometry"].split("/"))
    chs_size = c * h * s * 512
    expect(qemu_info(path)["virtual-size"] == chs_size, f"qemu sees the CHS size {chs_size} of ours {kind}")
    ours = vsa_cat(path, os.path.join(work, f"ours-{kind}.raw"))
    expect(ours == bytes(model), f"vsa-vhd cat ours {kind} equals the model")
    full = qemu_convert(path, os.path.join(work, f"ours-{kind}-qemu-full.raw"), current_size=True)
    expect(full == ours, f"qemu-img convert (current_size) equals vsa-vhd cat, ours {kind}")
    chs = qemu_convert(path, os.path.join(work, f"ours-{kind}-qemu-chs.raw"))
    expect(len(chs) == chs_size and chs == ours[:chs_size], f"qemu-img convert (CHS) equals our prefix, ours {kind}")
    # QEMU writes into our image, then we read it back.
    run("qemu-io", "-f", "vpc", "-c", f"write -P 0x77 {5 * MiB - 4096} 8192", path)
    model[5 * MiB - 4096:5 * MiB + 4096] = pattern(0x77, 8192)
    expect(run(VSA_VHD, "check", path, check=False).returncode == 0, f"vsa-vhd check after qemu-io write, {kind}")
    expect(vsa_cat(path, os.path.join(work, f"ours-{kind}-2.raw")) == bytes(model),
           f"vsa-vhd reads qemu-io's write into ours {kind}")


def qemu_to_ours(work, kind):
    path = os.path.join(work, f"qemu-{kind}.vhd")
    run("qemu-img", "create", "-f", "vpc", "-o", f"subformat={kind}", path, "30M")
    for command in ("write -P 0xab 0 1M", "write -P 0xcd 3M 512k", f"write -P 0x11 {2 * MiB - 4096} 8192",
                    f"write -P 0x22 {9 * MiB + 512} 1536"):
        run("qemu-io", "-f", "vpc", "-c", command, path)
    expect(run(VSA_VHD, "check", path, check=False).returncode == 0, f"vsa-vhd check qemu {kind}")
    info = vsa_info(path)
    expect(int(info["virtual size"]) == qemu_info(path)["virtual-size"], f"same virtual size, qemu {kind}")
    ours = vsa_cat(path, os.path.join(work, f"qemu-{kind}-ours.raw"))
    theirs = qemu_convert(path, os.path.join(work, f"qemu-{kind}-qemu.raw"))
    expect(ours == theirs, f"vsa-vhd cat equals qemu-img convert, qemu {kind}")
    # We write into QEMU's image; QEMU reads it back.
    vsa_write(path, 20 * MiB - 100, pattern(0x5A, 300))
    result = run("qemu-io", "-f", "vpc", "-c", f"read -P 0x5a {20 * MiB - 100} 300", path, check=False)
    expect(result.returncode == 0 and b"Pattern verification failed" not in result.stdout,
           f"qemu-io reads our write into qemu {kind}")


def big_sparse(work):
    path = os.path.join(work, "big.vhd")
    size = 127 * 1024 * MiB
    run(VSA_VHD, "create", "dynamic", path, "127G")
    spots = [(0, 0x31), (64 * 1024 * MiB - 512, 0x32), (size - MiB, 0x33)]
    for offset, byte in spots:
        vsa_write(path, offset, pattern(byte, MiB))
    expect(os.path.getsize(path) < 20 * MiB, "127 GB dynamic disk stays small on the host")
    expect(run(VSA_VHD, "check", path, check=False).returncode == 0, "vsa-vhd check 127 GB")
    qemu_check(path, "127 GB")
    info = vsa_info(path)
    expect(int(info["virtual size"]) == size, "127 GB virtual size")
    c, h, s = (int(x) for x in info["geometry"].split("/"))
    chs_size = c * h * s * 512
    expect(qemu_info(path)["virtual-size"] == chs_size, f"qemu sees 127 GB as CHS {chs_size}")
    for offset, byte in spots:
        if offset + MiB <= chs_size:
            result = run("qemu-io", "-f", "vpc", "-c", f"read -P {byte} {offset} 1M", path, check=False)
            expect(result.returncode == 0 and b"Pattern verification failed" not in result.stdout,
                   f"qemu-io reads our pattern at {offset}")
        result = run("qemu-io", "--image-opts", "-c", f"read -P {byte} {offset} 1M",
                     f"driver=vpc,force_size_calc=current_size,file.filename={path}", check=False)
        expect(result.returncode == 0 and b"Pattern verification failed" not in result.stdout,
               f"qemu-io (current_size) reads our pattern at {offset}")
        region = vsa_cat(path, os.path.join(work, "region.raw"), offset, MiB)
        expect(region == pattern(byte, MiB), f"vsa-vhd cat region at {offset}")
    result = run("qemu-io", "-f", "vpc", "-c", f"read -P 0 {100 * 1024 * MiB} 4M", path, check=False)
    expect(result.returncode == 0 and b"Pattern verification failed" not in result.stdout,
           "qemu-io reads zeros from an unallocated region")


def qemu_sees(path, model, work, what):
    """qemu-img convert -f vpc -O raw, both size views, against the model."""
    full = qemu_convert(path, os.path.join(work, "ops-full.raw"), current_size=True)
    expect(full == bytes(model), f"qemu-img convert (current_size) equals the model, {what}")
    c, h, s = (int(x) for x in vsa_info(path)["geometry"].split("/"))
    chs = qemu_convert(path, os.path.join(work, "ops-chs.raw"))
    expect(chs == bytes(model)[:c * h * s * 512], f"qemu-img convert (CHS) equals the model prefix, {what}")


def operations(work):
    """compact, convert, merge-to and merge, read back by QEMU."""
    size = 20 * MiB
    path = os.path.join(work, "ops.vhd")
    run(VSA_VHD, "create", "dynamic", path, "20M")
    model = bytearray(size)
    # Blocks 2 and 6 end up all zeros: compact must drop them.
    writes = [(0, pattern(0xB1, 4096)), (4 * MiB, pattern(0xB2, 2 * MiB)), (9 * MiB + 512, pattern(0xB3, 512)),
              (4 * MiB, bytes(2 * MiB)), (12 * MiB, bytes(MiB))]
    for offset, data in writes:
        vsa_write(path, offset, data)
        model[offset:offset + len(data)] = data
    before = os.path.getsize(path)
    run(VSA_VHD, "compact", path)
    # A block after the first takes 2 MiB + 4 KiB: its bitmap and the gap
    # that starts its data on a 4 KiB boundary (vhd::aligned_block_start).
    expect(os.path.getsize(path) == before - 2 * (2 * MiB + 4096), "compact drops the two zeroed blocks")
    expect(run(VSA_VHD, "check", path, check=False).returncode == 0, "vsa-vhd check after compact")
    qemu_sees(path, model, work, "compacted")
    for kind in ("fixed", "dynamic"):
        out = os.path.join(work, f"ops-{kind}.vhd")
        run(VSA_VHD, "convert", path, out, kind)
        expect(vsa_info(out)["type"] == kind, f"convert makes a {kind} disk")
        qemu_sees(out, model, work, f"converted to {kind}")
    again = run(VSA_VHD, "convert", path, os.path.join(work, "ops-fixed.vhd"), "fixed", check=False)
    expect(again.returncode != 0, "convert refuses an existing destination")
    child = os.path.join(work, "ops-child.vhd")
    run(VSA_VHD, "create", "differencing", child, path)
    vsa_write(child, 9 * MiB, pattern(0xC1, 1024))
    model[9 * MiB:9 * MiB + 1024] = pattern(0xC1, 1024)
    flat = os.path.join(work, "ops-flat.vhd")
    run(VSA_VHD, "merge-to", child, flat, "dynamic")
    qemu_sees(flat, model, work, "merge-to of a differencing disk")
    run(VSA_VHD, "merge", child)
    qemu_sees(path, model, work, "parent after merge")
    # Undo disks: changes go to BASE.vud; discard leaves the base as it was,
    # commit folds them in and deletes the undo disk.
    vud = run(VSA_VHD, "undo", "create", path, stdout=subprocess.PIPE).stdout.decode().strip()
    expect(vud == os.path.join(work, "ops.vud"), f"undo disk next to its base ({vud})")
    expect(run(VSA_VHD, "undo", "create", path, check=False).returncode != 0, "a second undo disk is refused")
    vsa_write(vud, 0, pattern(0xD1, 512))
    run(VSA_VHD, "undo", "discard", vud)
    expect(not os.path.exists(vud), "discard deletes the undo disk")
    qemu_sees(path, model, work, "base after a discarded undo disk")
    vud = run(VSA_VHD, "undo", "create", path, stdout=subprocess.PIPE).stdout.decode().strip()
    vsa_write(vud, 0, pattern(0xD2, 512))
    model[0:512] = pattern(0xD2, 512)
    run(VSA_VHD, "undo", "commit", vud)
    expect(not os.path.exists(vud), "commit deletes the undo disk")
    qemu_sees(path, model, work, "base after a committed undo disk")
    expect(run(VSA_VHD, "undo", "discard", path, check=False).returncode != 0,
           "undo discard refuses a disk that is not an undo disk")


def relinked(work):
    """A differencing child re-linked to its moved parent (vsa-vhd relink,
    IVMHardDisk.set_Parent): QEMU still opens it and reads exactly what it
    read before (its vpc driver reads a child's own blocks and ignores the
    parent), and we read the whole chain through the new locators."""
    parent = os.path.join(work, "relink-parent.vhd")
    child = os.path.join(work, "relink-child.vhd")
    run(VSA_VHD, "create", "dynamic", parent, "20M")
    model = bytearray(20 * MiB)
    for offset, data in [(0, pattern(0xE1, 3 * MiB)), (7 * MiB + 512, pattern(0xE2, 4096))]:
        vsa_write(parent, offset, data)
        model[offset:offset + len(data)] = data
    run(VSA_VHD, "create", "differencing", child, parent)
    for offset, data in [(MiB, pattern(0xE3, 8192)), (15 * MiB, pattern(0xE4, MiB))]:
        vsa_write(child, offset, data)
        model[offset:offset + len(data)] = data
    before = os.path.join(work, "relink-child-before.vhd")
    shutil.copyfile(child, before)
    info_before = qemu_info(child)
    # Moved twice: the second time to a path whose locators need more
    # sectors than the ones the child was made with.
    deep = os.path.join(work, "relink", *(["d" * 200] * 3))
    for target in (os.path.join(work, "relink", "moved", "parent.vhd"), os.path.join(deep, "parent.vhd")):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.rename(parent, target)
        parent = target
        expect(run(VSA_VHD, "info", child, check=False).returncode != 0, "the child misses its moved parent")
        run(VSA_VHD, "relink", child, parent)
        expect(run(VSA_VHD, "check", child, check=False).returncode == 0, f"vsa-vhd check after relink ({len(parent)} chars)")
        expect(f"W2ku: {parent}" in run(VSA_VHD, "info", child).stdout.decode(), "the absolute locator names the parent")
        expect(vsa_cat(child, os.path.join(work, "relink.raw")) == bytes(model), "vsa-vhd reads the chain after relink")
        info = qemu_info(child)
        expect(info["format"] == "vpc" and info["virtual-size"] == info_before["virtual-size"],
               "qemu-img info accepts the re-linked child")
        qemu_check(child, "re-linked child")
        compare = run("qemu-img", "compare", "-f", "vpc", "-F", "vpc", before, child, check=False)
        expect(compare.returncode == 0, "qemu-img compare: the re-linked child reads as before: "
               + compare.stdout.decode(errors="replace").strip())
    stranger = os.path.join(work, "relink-stranger.vhd")
    run(VSA_VHD, "create", "dynamic", stranger, "20M")
    with open(child, "rb") as f:
        unchanged = f.read()
    expect(run(VSA_VHD, "relink", child, stranger, check=False).returncode == 1, "relink refuses another disk")
    with open(child, "rb") as f:
        expect(f.read() == unchanged, "a refused relink leaves the child as it was")


def main():
    if shutil.which("qemu-img") is None or shutil.which("qemu-io") is None:
        print("qemu-img/qemu-io not found: apt-get install qemu-utils")
        return 1
    with tempfile.TemporaryDirectory(prefix="vsa-qemu-") as work:
        try:
            writes = [(0, pattern(0xA1, 4096)), (MiB - 100, pattern(0xA2, 300)),
                      (2 * MiB - 512, pattern(0xA3, 1024)), (20 * MiB - 4096, pattern(0xA4, 4096))]
            for kind in ("fixed", "dynamic"):
                ours_to_qemu(work, kind, 20 * MiB, writes)
                qemu_to_ours(work, kind)
            operations(work)
            relinked(work)
            big_sparse(work)
        except AssertionError as error:
            expect(False, str(error))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
