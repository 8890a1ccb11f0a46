# tests/lab/shmfacts.sh: L3 test for ivshmem-plain (mkinitrd-l3 -f
# ...=/tests/shmfacts.sh, ptvm.test=shmfacts; tests/lab/ivshmem.sh).
# Finds the 1af4:1110 function, reports its identity and BARs, reads the host's
# pattern through BAR2 as 32-bit words with busybox devmem (an mmap of
# /dev/mem: sysfs resourceN of a memory BAR only mmaps, and read() of /dev/mem
# above 1 MiB gave nothing here), checks the register BAR0 reads 0, and writes
# a reply the host checks in the file after ptvm exits:
#   BAR2 + 0x1000: 0x4b4f4b4f ("OKOK"), then the word the host wrote at +0x40
#                  inverted, then BAR2's size in KiB
#   last page + 0x100: 0x444e4521 ("!END")
# Exit 0 if the device was found and the reply written, 1 otherwise.
say() { echo "PTVM-L3: $*"; }
# Print N 32-bit words from physical address ADDR as devmem shows them (0x%08X).
words() {
	local i=0 out=
	while [ $i -lt $2 ]; do
		out="$out $(devmem $(($1 + 4 * i)) 32)"
		i=$((i + 1))
	done
	echo $out
}

dev=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1110 ] && dev=$d && break
done
if [ -z "$dev" ]; then
	say "ivshmem: none"
	exit 1
fi
say "ivshmem: ${dev##*/} class=$(cat "$dev/class") rev=$(cat "$dev/revision")" \
	"subsys=$(cat "$dev/subsystem_vendor"):$(cat "$dev/subsystem_device")"
# resource: one "start end flags" line per BAR (0-based)
set -- $(sed -n 1p "$dev/resource")
bar0=$1 bar0_end=$2
set -- $(sed -n 3p "$dev/resource")
bar2=$1 bar2_end=$2 bar2_flags=$3
size=$((bar2_end - bar2 + 1))
say "ivshmem bar0 size=$((bar0_end - bar0 + 1))"
say "ivshmem bar2 size_kib=$((size / 1024)) flags=$bar2_flags above4g=$([ $((bar2 >> 32)) -gt 0 ] && echo yes || echo no)"
[ $((bar2)) -ne 0 ] && [ $((bar0)) -ne 0 ] || { say "ivshmem: BARs not assigned"; exit 1; }
# the memory decode bit must be on for either BAR to answer
say "ivshmem command=$(od -An -tx2 -j4 -N2 "$dev/config" | tr -d ' ')"
say "ivshmem regs $(devmem $((bar0)) 32) $(devmem $((bar0 + 8)) 32) $(devmem $((bar0 + 12)) 32)"
say "ivshmem head $(words $((bar2)) 8)"
say "ivshmem tail $(words $((bar2 + size - 4096)) 8)"
word=$(devmem $((bar2 + 0x40)) 32)
say "ivshmem word $word"
devmem $((bar2 + 0x1000)) 32 0x4b4f4b4f
devmem $((bar2 + 0x1004)) 32 $(( ~word & 0xffffffff ))
devmem $((bar2 + 0x1008)) 32 $((size / 1024))
devmem $((bar2 + size - 4096 + 0x100)) 32 0x444e4521
say "ivshmem reply $(devmem $((bar2 + 0x1000)) 32) $(devmem $((bar2 + 0x1004)) 32)"
exit 0
