#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the smoke ISO (tests/image): the Debian kernel with busybox and
# vsad with its shared libraries. Brings up the first NIC (QEMU user
# networking: 10.0.2.15/24), starts vsad as the packaged appliance would
# (all addresses, port 443, a fresh data directory), prints markers on the
# serial line, and powers off when the test writes "poweroff" to it.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /tmp /var/lib/vsa && mount -t tmpfs tmpfs /tmp
exec </dev/ttyS0 >/dev/ttyS0 2>&1
echo 1 >/proc/sys/kernel/printk
echo "VSA-SMOKE-BOOT uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)"
insmod /lib/e1000.ko
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo "VSA-SMOKE-NET $(ip -o -4 addr show eth0 | awk '{print $4}')"
/usr/lib/vsa/vsad --data-dir=/var/lib/vsa --bind=0.0.0.0 --port=443 -D https.longpoll_port=0 \
    -D web.root=/usr/share/vsa/web >/tmp/vsad.out 2>/tmp/vsad.err &
vsad=$!
i=0
while ! grep -q "vsad ready" /tmp/vsad.out 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 $vsad 2>/dev/null; then
        echo "VSA-SMOKE-FAIL vsad did not start"
        cat /tmp/vsad.out /tmp/vsad.err
        poweroff -f
    fi
    sleep 0.2
done
echo "VSA-SMOKE-PASSWORD $(sed -n 's/.*with password: //p' /tmp/vsad.out)"
echo "VSA-SMOKE-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
while read -r line; do
    [ "$line" = poweroff ] && break
done
kill -TERM $vsad
wait $vsad
echo "VSA-SMOKE-VSAD-EXIT $?"
poweroff -f
