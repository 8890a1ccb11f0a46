#!/bin/sh
# L3 side of bench/vfio/run: sequential read throughput of the passed-through
# nvme (48 MiB with busybox dd), page cache dropped before each pass.
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/nvme0n1 ] || { echo "PTVM-L3: nvme: no /dev/nvme0n1"; exit 1; }
# busybox dd prints no rate: time it with /proc/uptime (10 ms resolution)
for pass in 1 2 3; do
	echo 3 > /proc/sys/vm/drop_caches
	t0=$(cut -d' ' -f1 /proc/uptime)
	dd if=/dev/nvme0n1 of=/dev/null bs=1M count=48 2>/dev/null
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "PTVM-L3: dd pass $pass $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", 48 / (b - a > 0.01 ? b - a : 0.01) }')MB/s"
done
exit 0
