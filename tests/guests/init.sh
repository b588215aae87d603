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
# With `vsa.agent` (linux-agent.img, whose initramfs holds Debian's
# qemu-guest-agent and its libraries) it names the host vsa-agent-linux,
# sets the clock to 2001-01-01 (wrong on purpose: vsad's host time sync
# must put it right through guest-set-time and hwclock), makes
# /sbin/shutdown (guest-shutdown runs it; busybox has none) and runs
# `qemu-ga -m isa-serial -p /dev/ttyS2`, the agent port (0x3E8, IRQ 4
# shared with ttyS0), with its log on ttyS0 (VSA-QGA lines), until the
# agent's shutdown powers the guest off through ACPI.
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
# cmdarg NAME: the value of NAME=VALUE on the kernel command line (empty if
# absent).
cmdarg() {
    for w in $(cat /proc/cmdline); do
        case $w in "$1="*) echo "${w#*=}"; return ;; esac
    done
}
# vsa.net: static 10.0.0.N; vsa.net=dhcp: an address from DHCP (udhcpc).
net=0
netmode=
if grep -qw vsa.net /proc/cmdline; then
    net=1
    netmode=static
    [ "$(cmdarg vsa.net)" = dhcp ] && netmode=dhcp
fi
nc_mib=$(cmdarg vsa.nc)
# The quick workload adds ~30 s to a vsa-vm boot and tells nothing about the
# network: the DHCP and nc (benchmark) modes skip it.
workload=1
agent=0
grep -qw vsa.agent /proc/cmdline && agent=1
{ [ "$netmode" = dhcp ] || [ -n "$nc_mib" ] || [ $agent = 1 ]; } && workload=0

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

if [ $workload = 1 ]; then
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
else
    marker "VSA-LINUX-WORKLOAD-SKIPPED"
fi

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
# vsa.net=dhcp (linux-dhcp.img, linux-nat.img): eth0's address, netmask,
# default route and DNS server come from DHCP (busybox udhcpc, at most 4
# rounds of 5 discovers 3 s apart), VSA-NET-DHCP-OK/-FAILED; then each
# address of vsa.ping=A,B,... other than its own is pinged as above, and
# the peers' echoes are waited for if there was one.
# vsa.carrier: after that, VSA-NET-CARRIER-READY and one VSA-NET-CARRIER
# line per change of eth0's carrier (sampled every 0.2 s) until a down and
# a following up were seen, or 300 guest seconds passed.
# vsa.fetch=URL (DHCP mode): once the DHCP router answers a ping (at most
# 300 s), wget URL, where the host name `router` stands
# for the DHCP router's address; VSA-NET-FETCH-OK bytes, the first 40 hex
# digits of its SHA-256 (the whole line must fit an 80-column screen) and
# the guest seconds it took (the full digest on serial only).
# vsa.nc=MiB (static mode, the throughput benchmark): 10.0.0.1 receives
# with busybox nc on TCP port 5001 and times from the first byte to the
# end; 10.0.0.2 sends MiB MiB of zeros (dd | nc) and times connect to close.
# Every marker goes to the screen too (marker), shorter than 80 columns.
ping_summary() { # busybox ping's output on stdin
    awk '/packets transmitted/ { tx = $1; rx = $4 }
         /round-trip/ { split($4, a, "/"); avg = a[2] }
         END { printf "tx=%s rx=%s avg=%sms\n", tx, rx, avg }'
}
ping_until() { # ADDR: ping until a reply comes, at most 90 tries of 2 s
    n=0
    ok=0
    while [ $n -lt 90 ]; do
        if ping -c 1 -W 2 "$1" >/tmp/ping.txt 2>&1; then ok=1; break; fi
        n=$((n + 1))
    done
    if [ $ok = 1 ]; then
        ping -c 3 -W 2 "$1" >/tmp/ping.txt 2>&1
        marker "VSA-NET-PING-OK $1 $(ping_summary </tmp/ping.txt)"
    else
        marker "VSA-NET-PING-FAILED $1"
    fi
}
in_echos() { awk '/^Icmp:/ { if (h) { print $10; exit } h = 1 }' /proc/net/snmp; }
wait_echos() { # until an echo request was answered, at most 180 s
    n=0
    while [ $n -lt 900 ] && [ "$(in_echos)" = 0 ]; do
        sleep_short
        n=$((n + 1))
    done
    marker "VSA-NET-ECHOS-ANSWERED $(in_echos)"
}
udhcpc_script() { # the script udhcpc runs on its events
    cat >/tmp/udhcpc.sh <<'SCRIPT'
#!/bin/sh
case "$1" in
deconfig)
    ifconfig "$interface" 0.0.0.0 up
    ;;
bound | renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    if [ -n "$router" ]; then
        while route del default 2>/dev/null; do :; done
        route add default gw "${router%% *}" dev "$interface"
    fi
    : >/etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
    echo "$ip router=${router%% *} dns=${dns%% *} lease=$lease" >/tmp/dhcp.lease
    ;;
esac
exit 0
SCRIPT
    chmod 755 /tmp/udhcpc.sh
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", b - a }'; }
if [ $net = 1 ]; then
    for m in $(cat /lib/vsa-modules/order); do
        insmod "/lib/vsa-modules/$m.ko" || echo "VSA-NET insmod failed: $m"
    done
    mac=$(cat /sys/class/net/eth0/address 2>/dev/null)
    marker "VSA-NET-MAC $mac"
    me=$((0x${mac##*:}))
    myip=
    peers=
    if [ "$netmode" = static ]; then
        myip=10.0.0.$me
        peers=10.0.0.$((3 - me))
        ifconfig eth0 "$myip" netmask 255.255.255.0 up || echo "VSA-NET ifconfig failed"
    else
        mkdir -p /etc
        udhcpc_script
        ifconfig eth0 up
        t0=$(up)
        n=0
        while [ $n -lt 4 ] && [ ! -s /tmp/dhcp.lease ]; do
            udhcpc -f -q -n -t 5 -T 3 -i eth0 -s /tmp/udhcpc.sh >/tmp/udhcpc.log 2>&1
            n=$((n + 1))
        done
        if [ -s /tmp/dhcp.lease ]; then
            echo "VSA-NET-DHCP-TIME $(secs "$t0" "$(up)") s, $n round(s)"
            marker "VSA-NET-DHCP-OK $(cat /tmp/dhcp.lease)"
            myip=$(cut -d' ' -f1 /tmp/dhcp.lease)
            router=$(sed 's/.* router=\([^ ]*\).*/\1/' /tmp/dhcp.lease)
            for a in $(cmdarg vsa.ping | tr ',' ' '); do
                [ "$a" != "$myip" ] && peers="$peers $a"
            done
        else
            marker "VSA-NET-DHCP-FAILED"
            sed 's/^/VSA-NET-UDHCPC /' /tmp/udhcpc.log | tail -5
        fi
    fi
    for p in $peers; do ping_until "$p"; done
    [ -n "$peers" ] && wait_echos

    fetch=$(cmdarg vsa.fetch)
    if [ -n "$fetch" ] && [ -n "$myip" ]; then
        url=$(echo "$fetch" | sed "s#//router\([:/]\)#//${router:-router}\1#")
        # The router may not lead anywhere yet (vsad_net_test.py turns the
        # network's NAT on only after the guests have pinged each other on
        # the guest-only network): wait, at most 300 s, until it answers.
        if [ -n "$router" ]; then
            w0=$(up)
            n=0
            while [ $n -lt 150 ] && ! ping -c 1 -W 2 "$router" >/dev/null 2>&1; do
                n=$((n + 1))
            done
            echo "VSA-NET-FETCH-ROUTER $n failed pings, $(secs "$w0" "$(up)") s"
        fi
        # Serial only: the host times the transfer by these lines too.
        echo "VSA-NET-FETCH-START"
        t0=$(up)
        if wget -q -O /tmp/f "$url" >/tmp/wget.txt 2>&1; then
            t1=$(up)
            echo "VSA-NET-FETCH-END"
            sum=$(sha256sum /tmp/f | cut -d' ' -f1)
            echo "VSA-NET-FETCH-SHA256 $sum"
            marker "VSA-NET-FETCH-OK $(wc -c </tmp/f) $(echo "$sum" | cut -c1-40) $(secs "$t0" "$t1")"
        else
            marker "VSA-NET-FETCH-FAILED $(head -1 /tmp/wget.txt | cut -c1-50)"
        fi
        rm -f /tmp/f
    fi

    if [ -n "$nc_mib" ] && [ "$netmode" = static ]; then
        if [ $me = 1 ]; then
            # nc's stdin is a FIFO that never ends: at end of input busybox
            # nc shuts its sending half, which would end the sender's
            # connection early.
            mkfifo /tmp/hold
            timeout 300 nc -l -p 5001 <>/tmp/hold | {
                dd bs=1 count=1 of=/dev/null 2>/dev/null
                a=$(up)
                echo "VSA-NET-NC-FIRST"
                rest=$(wc -c)
                echo "VSA-NET-NC-END"
                echo "$a $(up) $((rest + 1))" >/tmp/nc.txt
            }
            read -r a b bytes </tmp/nc.txt
            if [ "$bytes" -gt 1 ]; then
                marker "VSA-NET-NC-RECV $bytes $(secs "$a" "$b")"
            else
                marker "VSA-NET-NC-FAILED nothing received"
            fi
        else
            n=0
            ok=0
            while [ $n -lt 60 ]; do
                a=$(up)
                if dd if=/dev/zero bs=65536 count=$((nc_mib * 16)) 2>/dev/null | nc 10.0.0.1 5001; then
                    ok=1
                    break
                fi
                sleep 1
                n=$((n + 1))
            done
            if [ $ok = 1 ]; then
                marker "VSA-NET-NC-SENT $((nc_mib * 1048576)) $(secs "$a" "$(up)")"
            else
                marker "VSA-NET-NC-FAILED no connection"
            fi
        fi
    fi

    if grep -qw vsa.carrier /proc/cmdline; then
        c=$(cat /sys/class/net/eth0/carrier 2>/dev/null)
        marker "VSA-NET-CARRIER-READY $c"
        end=$(($(cut -d. -f1 /proc/uptime) + 300))
        down=0
        while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do
            sleep_short
            v=$(cat /sys/class/net/eth0/carrier 2>/dev/null)
            [ "$v" = "$c" ] && continue
            c=$v
            marker "VSA-NET-CARRIER $c uptime=$(up)"
            [ "$c" = 0 ] && down=1
            [ "$c" = 1 ] && [ $down = 1 ] && break
        done
        [ "$c" = 1 ] && [ $down = 1 ] || marker "VSA-NET-CARRIER-TIMEOUT"
    fi
    sleep 2
    sed 's/^ *//' /proc/net/dev | grep '^eth0' | tr -s ' ' | sed 's/^/VSA-NET-DEV /'
    dmesg | grep -iE 'tulip|eth0' | sed 's/^\[[^]]*\] *//; s/^/VSA-NET-DMESG /'
fi

if [ $agent = 1 ]; then
    hostname vsa-agent-linux
    date -s '2001-01-01 00:00:00' >/dev/null
    # Replaces nothing of busybox's (no shutdown applet), but never write
    # through a link to the busybox binary.
    rm -f /sbin/shutdown
    cat >/sbin/shutdown <<'SHUTDOWN'
#!/bin/sh
echo "VSA-AGENT-SHUTDOWN $*" >/dev/ttyS0
echo "VSA-AGENT-SHUTDOWN $*" >/dev/tty0
sync
# The line must leave the UART before the power goes.
sleep 1
poweroff -f
SHUTDOWN
    chmod 755 /sbin/shutdown
    dmesg | grep -E 'ttyS[0-9]+ at' | sed 's/^\[[^]]*\] *//; s/^/VSA-AGENT-SERIAL /'
    marker "VSA-AGENT-START $(date -u '+%Y-%m-%d %H:%M:%S') $(/usr/sbin/qemu-ga -V 2>&1 | head -1)"
    {
        /usr/sbin/qemu-ga -m isa-serial -p /dev/ttyS2 2>&1
        echo "exit status $?"
    } | sed 's/^/VSA-QGA /'
    marker "VSA-AGENT-EXITED"
    grep -E '^ *4:' /proc/interrupts | tr -s ' ' | sed 's/^ */VSA-AGENT-IRQ /'
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
