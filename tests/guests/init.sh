#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of the VSA Linux test guest (tests/guests/build-linux-image.sh puts it
# into the initramfs). It proves the kernel reached user space, runs a fixed
# workload whose results boot_test.py recomputes on the host, runs the CPU
# oracle, and powers the machine off. Everything goes to the first serial
# port: with `console=ttyS0 console=tty0` /dev/console is the VGA console
# (the last console= wins), so the output is redirected to /dev/ttyS0 and
# only the markers are copied to tty0 (for screen dumps).
# With `vsa.vga` (linux-vga.img, kernel console tty0 only) the workload's
# result lines go to tty0 as well, so the text screen at power-off ends
# with the boot marker, the results and the done marker, for boot_test.py
# --console vga to read from the emulator's screen dump; the serial copy is
# for debugging and timing.
# With `vsa.cdrom` (linux-cdrom.img, whose initramfs also holds the IDE,
# SCSI, CD-ROM and ISO 9660 modules) it loads them in the order of
# /lib/vsa-modules/order, mounts the CD (/dev/sr0, ata_piix + sr_mod +
# isofs) and prints the SHA-256 of /vsa/payload.bin on it, the SHA-256 of
# the first 4 MiB of the disk (/dev/sda through sd_mod), libata's lines
# about the port and its devices (and any error handling it did), and the
# transfer mode each device was set to (sysfs): `boot_test.py --cdrom-test` checks them.
# With `vsa.input` (linux-input.img, whose initramfs holds evdev, psmouse
# and the ACPI button driver) it prints the kernel's input devices
# (VSA-INPUT-DEV, /proc/bus/input/devices), puts /dev/input/mice into
# ImPS/2 mode (the 200/100/80 rate sequence, then "get ID"), says
# VSA-MOUSE-READY and prints the bytes it reads there (VSA-MOUSE-BYTES,
# hex) once they stop coming, while `boot_test.py --input-test` moves the
# mouse through vsa-vm's control socket (QEMU: QMP). After the workload it
# waits on the "Power Button" event device (VSA-POWER-READY), prints the
# first event it reads (VSA-POWER-BUTTON-SEEN) once the host has pressed
# the ACPI power button, and powers off with `poweroff -f` only (ACPI S5),
# not through port 8900h.
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/ttyS0 2>&1
# Kernel messages share ttyS0 and could cut into a line of the oracle output:
# from here on only emergencies reach the console.
dmesg -n 1
# vsa.quick on the kernel command line (the linux-quick.img variant): one
# round of the workload and no oracle, for a short CI boot.
quick=0
grep -qw vsa.quick /proc/cmdline && quick=1
vga=0
grep -qw vsa.vga /proc/cmdline && vga=1
cdrom=0
grep -qw vsa.cdrom /proc/cmdline && cdrom=1
input=0
grep -qw vsa.input /proc/cmdline && input=1
net=0
grep -qw vsa.net /proc/cmdline && net=1

marker() {
    echo "$*"
    echo "$*" >/dev/tty0 2>/dev/null
}
# A workload result: serial, and the screen too in the vsa.vga variant.
result() {
    if [ $vga = 1 ]; then marker "$*"; else echo "$*"; fi
}

up() { cut -d' ' -f1 /proc/uptime; }

# vgacon's start-up line has scrolled off the screen by now: show it again
# (from the kernel's log) above the markers, for the screen check.
if [ $vga = 1 ]; then
    dmesg | grep -m 2 -E 'Console: colour|console \[tty0\]' | sed 's/^/dmesg: /' >/dev/tty0
fi
marker "VSA-LINUX-BOOT-OK uptime=$(up)"
echo "VSA-LINUX-KERNEL $(uname -r) $(uname -m)"
grep -E '^(vendor_id|cpu family|model|model name|stepping|fpu|flags|bogomips)[[:space:]]*:' /proc/cpuinfo |
    sed 's/^/VSA-LINUX-CPUINFO /'
echo "VSA-LINUX-MEMTOTAL $(grep MemTotal /proc/meminfo | tr -s ' ')"
# The interrupt path: in APIC mode IRQ 0 (the PIT) arrives on I/O APIC
# input 2 and the ticks are the local APIC timer's (LOC); the kernel's own
# words about it and about its clocksources follow.
grep -E '^ *(0|LOC):' /proc/interrupts | tr -s ' ' | sed 's/^ */VSA-LINUX-IRQ /'
dmesg | grep -E 'Enabling APIC mode|\.\.TIMER|IO-APIC|Marking TSC unstable|Switched to clocksource' |
    sed 's/^\[[^]]*\] *//; s/^/VSA-LINUX-APIC /'

if [ $cdrom = 1 ]; then
    for m in $(cat /lib/vsa-modules/order); do
        insmod "/lib/vsa-modules/$m.ko" || echo "VSA-CDROM insmod failed: $m"
    done
    # The SCSI scan is asynchronous: wait (at most 20 s) for both nodes.
    n=0
    while [ $n -lt 100 ] && { [ ! -b /dev/sr0 ] || [ ! -b /dev/sda ]; }; do
        sleep 0.2 2>/dev/null || sleep 1
        n=$((n + 1))
    done
    mkdir -p /mnt
    if mount -t iso9660 -o ro /dev/sr0 /mnt; then
        echo "VSA-CDROM sha256 $(sha256sum /mnt/vsa/payload.bin | cut -d' ' -f1)"
        umount /mnt
    else
        echo "VSA-CDROM mount failed"
    fi
    echo "VSA-DISK sha256 $(dd if=/dev/sda bs=65536 count=64 2>/dev/null | sha256sum | cut -d' ' -f1)"
    dmesg | grep -E 'ata[0-9]+(\.[0-9]+)?: (PATA|ATAPI:|ATA-[0-9]+:|configured for|.*(exception|timeout|failed|limiting|error))' |
        sed 's/^\[[^]]*\] *//; s/^/VSA-IDE /'
    # libata's first probe is quiet about the mode it set ("configured
    # for" only after a reset): the transport class has it.
    for d in /sys/class/ata_device/dev*; do
        [ -r "$d/xfer_mode" ] && echo "VSA-IDE ${d##*/} xfer_mode $(cat "$d/xfer_mode")"
    done
fi

sleep_short() { sleep 0.2 2>/dev/null || sleep 1; }

if [ $input = 1 ]; then
    for m in $(cat /lib/vsa-modules/order); do
        insmod "/lib/vsa-modules/$m.ko" || echo "VSA-INPUT insmod failed: $m"
    done
    # serio binds psmouse to the aux port asynchronously (kseriod): wait
    # (at most 30 s) for a device with a mouse handler.
    n=0
    while [ $n -lt 150 ] && ! grep -q '^H: Handlers=.*mouse' /proc/bus/input/devices; do
        sleep_short
        n=$((n + 1))
    done
    sed 's/^/VSA-INPUT-DEV /' /proc/bus/input/devices
    dmesg | grep -iE 'psmouse|serio|i8042|input:|button' | sed 's/^\[[^]]*\] *//; s/^/VSA-INPUT-DMESG /'
    # mousedev's mixer in IntelliMouse mode: 4-byte packets with the wheel.
    # Every command byte is acknowledged (FA); what is left to read after
    # the write is the answer to the last, "get ID": FA 03.
    exec 3<>/dev/input/mice
    printf '\363\310\363\144\363\120\362' >&3
    cat <&3 >/tmp/mice.bin &
    catpid=$!
    marker "VSA-MOUSE-READY"
    # The host sends its moves at once: wait (at most 60 s) for more than
    # the 2 answer bytes, then until nothing new came for 2 s.
    n=0
    while [ $n -lt 300 ] && [ "$(wc -c </tmp/mice.bin)" -le 2 ]; do
        sleep_short
        n=$((n + 1))
    done
    last=-1
    quiet=0
    n=0
    while [ $quiet -lt 10 ] && [ $n -lt 300 ]; do
        size=$(wc -c </tmp/mice.bin)
        if [ "$size" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0; fi
        last=$size
        sleep_short
        n=$((n + 1))
    done
    kill $catpid
    wait $catpid 2>/dev/null
    exec 3<&-
    od -An -v -tx1 /tmp/mice.bin | sed 's/^ */VSA-MOUSE-BYTES /'
    echo "VSA-MOUSE-DONE $(wc -c </tmp/mice.bin) bytes"
fi

t0=$(up)
# 1. sha256 over a generated ~590 KB file, five times: same digest each time.
seq 1 100000 >/tmp/seq.txt
i=$((4 * quick))
while [ $i -lt 5 ]; do
    result "VSA-WL sha256 $(sha256sum /tmp/seq.txt | cut -d' ' -f1)"
    i=$((i + 1))
done
# 2. awk arithmetic (busybox awk computes in doubles: this runs on the x87).
result "VSA-WL awk $(awk 'BEGIN { s = 0; for (i = 1; i <= 100000; i++) s = (s * 31 + i) % 1000003; print s }')"
result "VSA-WL awkfp $(awk 'BEGIN { x = 0; for (i = 1; i <= 20000; i++) x += 1 / i; printf "%.12f\n", x }')"
# 3. shell arithmetic and fork/exec.
s=0
i=1
while [ $i -le 3000 ]; do
    s=$(((s * 7 + i) % 65521))
    i=$((i + 1))
done
result "VSA-WL sh $s"
result "VSA-WL wc $(seq 1 5000 | wc -c) $(seq 1 5000 | sort -r | head -1)"
# 4. The CPU oracle, compared line by line with its native run.
if [ $quick = 0 ] && [ -x /bin/cpu_oracle ]; then
    echo "VSA-ORACLE-BEGIN"
    /bin/cpu_oracle
    echo "VSA-ORACLE-END rc=$?"
fi
t1=$(up)
marker "VSA-LINUX-WORKLOAD-DONE $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }')"

# vsa.idle=N (the linux-idle.img variant): stay idle N seconds with only the
# kernel's timers running, so a harness can measure what an idle guest
# costs the host (issue 5: under 2 % of one core).
idle=$(sed -n 's/.*vsa\.idle=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
if [ -n "$idle" ]; then
    marker "VSA-IDLE-BEGIN $idle"
    sleep "$idle"
    marker "VSA-IDLE-END"
fi

# Let the serial port send what the tty layer still holds (up to its 4 KiB
# buffer, 0.36 s at 115200 baud) before powering off: the power-off is
# immediate, and output still in guest memory would be lost - on a loaded
# host that was the end of the oracle's output and the last marker. The
# driver's transmit count (tx:) stops moving once the buffer is empty;
# sampled every 0.2 s, for at most 10 s.
drain_serial() {
    last=
    n=0
    while [ $n -lt 50 ]; do
        tx=$(sed -n 's/^0:.* tx:\([0-9]*\).*/\1/p' /proc/tty/driver/serial 2>/dev/null)
        if [ -z "$tx" ]; then
            sleep 1
            return
        fi
        [ "$tx" = "$last" ] && return
        last=$tx
        n=$((n + 1))
        sleep 0.2 2>/dev/null || sleep 1
    done
}

# vsa.input: the host presses the ACPI power button; the button driver
# reports it as KEY_POWER on its input device ("Power Button", an event
# device through evdev). One event is read (16 bytes on i386: time, type,
# code, value), at most 120 s waited for.
if [ $input = 1 ]; then
    ev=$(awk '/^N: Name="Power Button"/ { p = 1 } p && /^H: Handlers=/ { h = $0; sub(/^H: Handlers=/, "", h); n = split(h, a, " "); for (i = 1; i <= n; i++) if (a[i] ~ /^event[0-9]+$/) { print a[i]; exit } }' /proc/bus/input/devices)
    if [ -n "$ev" ] && [ -c "/dev/input/$ev" ]; then
        dd if="/dev/input/$ev" of=/tmp/power.bin bs=16 count=1 2>/dev/null &
        ddpid=$!
        marker "VSA-POWER-READY $ev"
        n=0
        while [ $n -lt 600 ] && kill -0 $ddpid 2>/dev/null; do
            sleep_short
            n=$((n + 1))
        done
        if [ -s /tmp/power.bin ]; then
            marker "VSA-POWER-BUTTON-SEEN $(od -An -v -tx1 /tmp/power.bin | tr -s ' \n' ' ')"
        else
            kill $ddpid 2>/dev/null
            marker "VSA-POWER-BUTTON-TIMEOUT"
        fi
    else
        marker "VSA-POWER-BUTTON-MISSING"
    fi
    # ACPI soft off (S5 through PM1a_CNT) only: the port 8900h is not used.
    drain_serial
    sync
    poweroff -f
    marker "VSA-LINUX-POWEROFF-FAILED"
    while :; do sleep 3600; done
fi
# vsa.net (linux-net.img, net_test.py): tulip drives the DEC 21140; eth0
# gets 10.0.0.N, N the last byte of its MAC (the test gives 1 and 2), and
# pings the other address until a reply comes (at most 180 s), then waits
# (at most 180 s) until the peer's pings have been answered, so that both
# guests see each other whichever boots first.
if [ $net = 1 ]; then
    for m in $(cat /lib/vsa-modules/order); do
        insmod "/lib/vsa-modules/$m.ko" || echo "VSA-NET insmod failed: $m"
    done
    mac=$(cat /sys/class/net/eth0/address 2>/dev/null)
    echo "VSA-NET-MAC $mac"
    me=$((0x${mac##*:}))
    peer=$((3 - me))
    ifconfig eth0 10.0.0.$me netmask 255.255.255.0 up || echo "VSA-NET ifconfig failed"
    n=0
    ok=0
    while [ $n -lt 90 ]; do
        if ping -c 1 -W 2 10.0.0.$peer >/tmp/ping.txt 2>&1; then ok=1; break; fi
        n=$((n + 1))
    done
    if [ $ok = 1 ]; then
        ping -c 3 -W 2 10.0.0.$peer >/tmp/ping.txt 2>&1
        marker "VSA-NET-PING-OK 10.0.0.$peer $(grep -E 'packets transmitted' /tmp/ping.txt)"
    else
        marker "VSA-NET-PING-FAILED 10.0.0.$peer"
    fi
    n=0
    while [ $n -lt 900 ] && [ "$(awk '/^Icmp:/ { if (h) { print $10; exit } h = 1 }' /proc/net/snmp)" = 0 ]; do
        sleep_short
        n=$((n + 1))
    done
    echo "VSA-NET-ECHOS-ANSWERED $(awk '/^Icmp:/ { if (h) { print $10; exit } h = 1 }' /proc/net/snmp)"
    sleep 2
    sed 's/^ *//' /proc/net/dev | grep '^eth0' | tr -s ' ' | sed 's/^/VSA-NET-DEV /'
    dmesg | grep -iE 'tulip|eth0' | sed 's/^\[[^]]*\] *//; s/^/VSA-NET-DMESG /'
fi
drain_serial

# Power off: vsa-vm (and Bochs) turn off on "Shutdown" written to port 8900h;
# /dev/port writes one byte to the port at its file offset. QEMU ignores the
# port and turns off through ACPI with poweroff -f.
for c in S h u t d o w n; do
    printf '%s' "$c" | dd of=/dev/port bs=1 seek=$((0x8900)) conv=notrunc 2>/dev/null
done
sync
poweroff -f
marker "VSA-LINUX-POWEROFF-FAILED"
while :; do sleep 3600; done
