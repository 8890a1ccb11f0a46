#!/bin/sh
# L3 side of bench/vfio/run: sequential read throughput of the passed-through
# nvme, page cache dropped before each pass, as busybox dd reports it.
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/nvme0n1 ] || { echo "PTVM-L3: nvme: no /dev/nvme0n1"; exit 1; }
for pass in 1 2 3; do
	echo 3 > /proc/sys/vm/drop_caches
	echo "PTVM-L3: dd pass $pass $(dd if=/dev/nvme0n1 of=/dev/null bs=1M count=48 2>&1 | tail -1)"
done
exit 0
