#!/bin/sh
# L3 side of tests/lab/vfio.sh: the passed-through devices as the guest's own
# drivers see them. nvme: read the pattern the host wrote, write a new one,
# read it back from the device (page cache dropped), count MSI-X interrupts.
for d in /sys/bus/pci/devices/*; do
	drv=$(readlink "$d/driver" 2>/dev/null)
	echo "PTVM-L3: dev ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") driver=${drv##*/}"
done
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -b /dev/nvme0n1 ]; then
	echo "PTVM-L3: nvme: no /dev/nvme0n1"
	dmesg | grep -i nvme | sed 's/^/PTVM-L3: dmesg /'
	exit 1
fi
echo "PTVM-L3: nvme read '$(dd if=/dev/nvme0n1 bs=512 count=1 2>/dev/null | head -c 17)'"
printf 'PTVM-WRITTEN-BY-L3' | dd of=/dev/nvme0n1 bs=512 seek=8 conv=sync 2>/dev/null
sync
echo 3 > /proc/sys/vm/drop_caches
echo "PTVM-L3: nvme readback '$(dd if=/dev/nvme0n1 bs=512 skip=8 count=1 2>/dev/null | head -c 18)'"
grep -E 'nvme0q[0-9]' /proc/interrupts | sed 's/^/PTVM-L3: irq /'
exit 0
