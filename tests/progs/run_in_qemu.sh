#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Manual check of the guest test programs against QEMU TCG (and Bochs 2.7 if
# installed), the peers we trust while vsa-vm is being written. Not part of
# ctest: it needs qemu-system-i386 and takes a few seconds.
#
#   tests/progs/run_in_qemu.sh [BUILD_DIR]     (default: build)
#
# BUILD_DIR is a configured build tree; the programs are built there first
# (target vsa_test_programs). For each program it prints what the guest
# printed and PASS/FAIL; exits non-zero if any program failed.
#
# Known QEMU deviation: TCG does not check data-segment limits, so the ROM's
# pm_gp_limit checks (a read past a 4 KiB limit must raise #GP(0)) fail under
# QEMU and pass under Bochs and real CPUs. Those two checks and the exception
# count that depends on them are the only failures accepted from QEMU.
set -euo pipefail

src_dir=$(cd "$(dirname "$0")" && pwd)
build_dir=${1:-build}
progs="$build_dir/tests/progs"
cmake --build "$build_dir" --target vsa_test_programs >/dev/null

work=$(mktemp -d /tmp/vsa-progs.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0

report() { # name, ok(0/1)
  if [ "$2" = 0 ]; then echo "== $1: PASS"; else echo "== $1: FAIL"; failed=1; fi
}

# --- boot_disk under SeaBIOS ---------------------------------------------------
# -display none (not -nographic): with -nographic SeaBIOS mirrors the screen
# onto the serial port and the two outputs interleave.
echo "== boot_disk (QEMU, SeaBIOS)"
set +e
timeout 60 qemu-system-i386 -display none -m 64 -no-reboot -monitor none \
  -drive file="$progs/boot_disk.img",format=raw,if=ide,snapshot=on \
  -serial file:"$work/boot_serial.txt" \
  -debugcon file:"$work/boot_seabios.txt" -global isa-debugcon.iobase=0x402
rc=$?
set -e
tr -d '\r' < "$work/boot_serial.txt"
# QEMU exits 0 when the guest powers off; 124 means the timeout hit.
ok=1
if [ $rc = 0 ] && grep -qx 'VSA-BOOT-OK' "$work/boot_serial.txt" && ! grep -q 'VSA-BOOT-FAIL' "$work/boot_serial.txt"; then ok=0; fi
report "boot_disk (qemu exit $rc)" $ok

# --- cpu_test_rom as the only firmware -------------------------------------------
# isa-debug-exit ends the run (QEMU has no port 8900h); status byte 0 -> exit 1.
echo "== cpu_test_rom (QEMU, -bios)"
set +e
timeout 60 qemu-system-i386 -display none -m 64 -no-reboot -monitor none -serial none \
  -bios "$progs/cpu_test_rom.bin" \
  -debugcon file:"$work/rom_debugcon.txt" -global isa-debugcon.iobase=0x402 \
  -device isa-debug-exit,iobase=0x501,iosize=2
rc=$?
set -e
cat "$work/rom_debugcon.txt"
unexpected=$(grep '^FAIL' "$work/rom_debugcon.txt" |
  grep -v -e '^FAIL pm_gp_limit_pushed_eip ' -e '^FAIL pm_gp_limit_error_code ' \
          -e '^FAIL pm_exception_count ' || true)
ok=1
if grep -q '^CHECKS ' "$work/rom_debugcon.txt" && [ -z "$unexpected" ]; then ok=0; fi
[ -n "$unexpected" ] && printf 'unexpected failures:\n%s\n' "$unexpected"
report "cpu_test_rom (qemu exit $rc; known TCG limit-check deviation accepted)" $ok

# --- Bochs, if present: the ROM must say ALL PASS, the disk VSA-BOOT-OK -----------
if command -v bochs-bin >/dev/null; then
  # Debian's Bochs has no nogui library and is built with its debugger, which
  # waits for a command at t=0: rfb without waiting for a client, and an rc
  # file that says "continue". The sound mixer thread crashes unless the
  # dummy driver is chosen.
  printf 'c\nquit\n' > "$work/bochs.rc"
  common="display_library: rfb, options=\"timeout=0\"
vgaromimage: file=/usr/share/seabios/vgabios-isavga.bin
clock: sync=none
port_e9_hack: enabled=1
mouse: enabled=0
speaker: enabled=0
sound: driver=dummy
log: $work/bochs.log"
  printf '%s\nmegs: 64\nromimage: file=%s\n' "$common" "$progs/cpu_test_rom.bin" > "$work/rom.bochsrc"
  echo "== cpu_test_rom (Bochs, romimage)"
  timeout 120 bochs-bin -q -f "$work/rom.bochsrc" -rc "$work/bochs.rc" </dev/null > "$work/bochs_rom.out" 2>&1 || true
  grep -a -e '^PASS' -e '^FAIL' -e '^INFO' -e '^CHECKS' -e 'ALL PASS' -e 'FAILED$' "$work/bochs_rom.out" | grep -v '^PASS' || true
  ok=1
  grep -aqx 'ALL PASS' "$work/bochs_rom.out" && grep -aq 'Shutdown port: shutdown requested' "$work/bochs_rom.out" && ok=0
  report "cpu_test_rom (bochs)" $ok

  cp "$progs/boot_disk.img" "$work/disk.img"
  printf '%s\nmegs: 64\nromimage: file=/usr/share/bochs/BIOS-bochs-latest\nata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14\nata0-master: type=disk, path=%s, mode=flat, cylinders=2, heads=16, spt=63\nboot: disk\ncom1: enabled=1, mode=file, dev=%s\n' \
    "$common" "$work/disk.img" "$work/bochs_com1.txt" > "$work/disk.bochsrc"
  echo "== boot_disk (Bochs, Bochs BIOS)"
  timeout 120 bochs-bin -q -f "$work/disk.bochsrc" -rc "$work/bochs.rc" </dev/null > "$work/bochs_disk.out" 2>&1 || true
  cat "$work/bochs_com1.txt"; echo
  ok=1
  grep -qx 'VSA-BOOT-OK' "$work/bochs_com1.txt" && grep -aq 'Shutdown port: shutdown requested' "$work/bochs_disk.out" && ok=0
  report "boot_disk (bochs)" $ok
else
  echo "== bochs-bin not installed: Bochs runs skipped"
fi

exit $failed
