#!/bin/sh
# L3 side of tests/lab/vfio.sh: e1000e brings its link up on MSI-X vectors;
# its option ROM (the emulated ROM BAR) starts with 0x55 0xAA.
dev=$(grep -l 0x10d3 /sys/bus/pci/devices/*/device | head -1)
dev=${dev%/device}
echo "PTVM-L3: e1000e at ${dev##*/} driver=$(basename "$(readlink "$dev/driver")")"
if [ -e "$dev/rom" ]; then
	echo 1 > "$dev/rom"
	echo "PTVM-L3: rom signature $(head -c 2 "$dev/rom" | od -An -tx1 | tr -d ' ')"
	echo 0 > "$dev/rom"
else
	echo "PTVM-L3: rom none"
fi
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ip link set eth0 up
i=0
while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "PTVM-L3: eth0 carrier $(cat /sys/class/net/eth0/carrier 2>/dev/null)"
grep -E 'eth0' /proc/interrupts | sed 's/^/PTVM-L3: irq /'
exit 0
