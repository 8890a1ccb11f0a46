#!/usr/bin/env bash
# ivshmem.sh: --device ivshmem (ivshmem-plain, as Looking Glass uses it) under
# ptvm with an L3 Linux, in ONE lab run. Inside L2 the host side writes a
# pattern into a file in /dev/shm before ptvm starts; the guest
# (tests/lab/shmfacts.sh) finds 1af4:1110, reads the pattern through BAR2,
# writes a reply, and the host side finds the reply in the file after ptvm
# exits. Cases:
#   direct   direct kernel boot, 32M file made beforehand: ptvm places the BARs
#   seabios  --firmware seabios --kernel, 64M: SeaBIOS reprograms the BARs and
#            ptvm's mappings follow
#   create   direct boot, the file does not exist: ptvm creates it (1M, zeros)
#   bad-size, bad-path, bad-arg
#            an existing file of another size, a path that cannot be created,
#            a size that is not a power of two: ptvm fails with one error line
# Prints TAP. usage: ivshmem.sh [--work DIR]   Environment: PTVM.
# Exit: 0 all passed, 1 a check failed, 77 the lab cannot run here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

declare -A size_mib=([direct]=32 [seabios]=64 [create]=1)
declare -A status=([direct]=0 [seabios]=0 [create]=0)

# --- inside the lab ------------------------------------------------------------
# usage: ivshmem.sh --inner PTVM KERNEL INITRD MARKER WORD(8 hex digits)
if [ "${1:-}" = --inner ]; then
	bin=$2 kernel=$3 initrd=$4 marker=$5 word=$6
	lab_install_vmm ptvm "$bin"
	cp "$kernel" /tmp/vmlinuz
	cp "$initrd" /tmp/l3.cpio.gz
	# Write the host's pattern into file $1 of $2 MiB.
	prepare() {
		rm -f "$1"
		truncate -s "${2}M" "$1"
		printf 'PTVM-IVSHMEM-HOST-%s' "$marker" | dd of="$1" conv=notrunc status=none
		printf "\\x${word:6:2}\\x${word:4:2}\\x${word:2:2}\\x${word:0:2}" |
			dd of="$1" bs=1 seek=64 conv=notrunc status=none
		printf 'PTVM-IVSHMEM-LAST-PAGE' |
			dd of="$1" bs=4096 seek=$(($2 * 256 - 1)) conv=notrunc status=none
	}
	# Save what the guest left in file $1 ($2 MiB) for case $3.
	collect() {
		stat -c %s "$1" > "$OUT/$3.size" 2>/dev/null || echo none > "$OUT/$3.size"
		od -An -tx4 -j 4096 -N 12 "$1" 2>/dev/null | tr -s ' ' | sed 's/^ //' > "$OUT/$3.reply"
		od -An -tx4 -j $(($2 * MiB - 4096 + 256)) -N 4 "$1" 2>/dev/null | tr -d ' ' > "$OUT/$3.reply-end"
		od -An -c -N 26 "$1" 2>/dev/null | tr -d ' \n' > "$OUT/$3.head"
	}
	MiB=1048576
	k=(--kernel /tmp/vmlinuz --initrd /tmp/l3.cpio.gz --memory 512M --on-reboot exit
	   --cmdline "console=ttyS0 panic=-1 quiet ptvm.test=shmfacts ptvm.end=exit")
	P=$LAB_PTVM_BIN
	for name in direct seabios create; do
		f=/dev/shm/ptvm-lab-$name sz=${size_mib[$name]}
		fw=()
		[ "$name" = seabios ] && fw=(--firmware seabios)
		if [ "$name" = create ]; then rm -f "$f"; else prepare "$f" "$sz"; fi
		lab_run_case "$name" "$P" run "${fw[@]}" "${k[@]}" \
			--device "ivshmem,path=$f,size=${sz}M"
		collect "$f" "$sz" "$name"
	done
	# the errors come before the guest runs; a short timeout catches a boot
	LAB_BOOT_TIMEOUT=60 lab_run_case bad-size "$P" -q run "${k[@]}" \
		--device ivshmem,path=/dev/shm/ptvm-lab-direct,size=16M
	LAB_BOOT_TIMEOUT=60 lab_run_case bad-path "$P" -q run "${k[@]}" \
		--device ivshmem,path=/proc/ptvm-lab-ivshmem,size=1M
	LAB_BOOT_TIMEOUT=60 lab_run_case bad-arg "$P" -q run "${k[@]}" \
		--device ivshmem,path=/dev/shm/ptvm-lab-x,size=48M
	[ -e /dev/shm/ptvm-lab-x ] && echo yes > "$OUT/bad-arg.created"
	rm -f /dev/shm/ptvm-lab-*
	exit 0
fi

# --- on this machine -------------------------------------------------------------
work=${LAB_WORK:-$LAB_REPO/build-lab-work}
lab_parse_work_option "$@"
lab_require_or_skip qemu-system-x86_64
[ -f /usr/share/seabios/bios-256k.bin ] ||
	{ echo "ivshmem.sh: SKIP: seabios is not installed" >&2; exit 77; }
bin=$(lab_find_ptvm)
work=$(lab_work_dir "$work")
kernel=$(lab_vmlinuz 6.1)
initrd="$work/l3-ivshmem.cpio.gz"
"$LAB_DIR/mkinitrd-l3" -f "$LAB_DIR/shmfacts.sh=/tests/shmfacts.sh" "$initrd"
out="$work/ivshmem"
lab_fresh_dir "$out"
marker=$RANDOM$RANDOM
word=$(printf '%08x' $(((RANDOM << 16 | RANDOM) & 0xffffffff)))
inv=$(printf '%08x' $((~0x$word & 0xffffffff)))

echo "# ivshmem.sh: ptvm ($bin) in the lab, marker $marker, word 0x$word"
labrc=0
lab_run_lab -o "$out" -t "${LAB_TIMEOUT:-900}" --cwd "$LAB_REPO" -- \
	env LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-300}" \
	"$LAB_DIR/ivshmem.sh" --inner "$bin" "$kernel" "$initrd" "$marker" "$word" || labrc=$?

# Print string $1, padded with NULs to 32 bytes, as the guest's devmem shows
# eight little-endian 32-bit words.
as_words() {
	{ printf '%s' "$1"; head -c $((32 - ${#1})) /dev/zero; } | od -An -v -tx4 |
		tr a-f A-F | xargs printf ' 0x%s' | sed 's/^ //'
}
# Eight zero words as devmem shows them, each with a leading space.
zeros() { printf ' 0x00000000%.0s' 1 2 3 4 5 6 7 8; }

# checks: each command's status is a result, not a reason to stop
set +e
lab_check "$labrc" "the lab ran (run-in-lab exit $labrc)"
for name in direct seabios create; do
	sz=${size_mib[$name]}
	lab_read_facts "$out/$name.log" anywhere
	[ "$(lab_fact 'ivshmem: 0000:00:0[0-9a-f].0 class=0x050000 rev=0x01 subsys=0x1af4:0x1100')" = 1 ]
	lab_check $? "$name: the guest sees 1af4:1110, class 0x0500, rev 1, subsystem 1af4:1100"
	[ "$(lab_fact "ivshmem bar2 size_kib=$((sz * 1024)) flags=0x[0-9a-f]*4220[0-9a-f] above4g=.*")" = 1 ] &&
		[ "$(lab_fact 'ivshmem bar0 size=256')" = 1 ]
	lab_check $? "$name: BAR0 256 bytes, BAR2 ${sz}M 64-bit prefetchable ($(grep -a 'bar2' <<< "$LAB_FACTS"))"
	[ "$(lab_fact 'ivshmem regs 0x00000000 0x00000000 0x00000000')" = 1 ]
	lab_check $? "$name: the registers in BAR0 read 0"
	if [ "$name" = create ]; then
		[ "$(lab_fact "ivshmem head$(zeros)")" = 1 ] && [ "$(lab_fact "ivshmem tail$(zeros)")" = 1 ] &&
			[ "$(lab_fact 'ivshmem word 0x00000000')" = 1 ]
		lab_check $? "$name: the new file reads as zeros through BAR2"
		[ "$(cat "$out/$name.size" 2>/dev/null)" = $((sz * 1048576)) ]
		lab_check $? "$name: ptvm created the file with ${sz}M ($(cat "$out/$name.size" 2>/dev/null) bytes)"
	else
		[ "$(lab_fact "ivshmem head $(as_words "PTVM-IVSHMEM-HOST-$marker")")" = 1 ] &&
			[ "$(lab_fact "ivshmem tail $(as_words PTVM-IVSHMEM-LAST-PAGE)")" = 1 ] &&
			[ "$(lab_fact "ivshmem word 0x$(echo "$word" | tr a-f A-F)")" = 1 ]
		lab_check $? "$name: the guest read the host's pattern at the start and in the last page of BAR2"
	fi
	[ "$(cat "$out/$name.reply" 2>/dev/null)" = "4b4f4b4f $([ $name = create ] && echo ffffffff || echo "$inv") $(printf '%08x' $((sz * 1024)))" ] &&
		[ "$(cat "$out/$name.reply-end" 2>/dev/null)" = 444e4521 ]
	lab_check $? "$name: the host found the guest's reply in the file ($(cat "$out/$name.reply" 2>/dev/null))"
	[ "$(lab_fact 'test shmfacts rc=0')" = 1 ] && [ "$(lab_case_rc "$out" "$name")" = "${status[$name]}" ]
	lab_check $? "$name: the guest's test passed and ptvm exited $(lab_case_rc "$out" "$name")"
done
# bad cases: exit status and one error line naming the problem
bad() { # NAME STATUS TEXT
	[ "$(lab_case_rc "$out" "$1")" = "$2" ] && [ "$(wc -l < "$out/$1.err")" = 1 ] &&
		grep -q -- "$3" "$out/$1.err"
	lab_check $? "$1: ptvm exits $2 with one line: $(head -c 160 "$out/$1.err" 2>/dev/null)"
}
bad bad-size 1 'is 33554432 bytes, not size=16M: give its size or remove the file'
bad bad-path 1 'cannot open /proc/ptvm-lab-ivshmem for reading and writing'
bad bad-arg 2 'bad size=48M: give a power of two of at least 1M'
[ ! -e "$out/bad-arg.created" ]
lab_check $? "bad-arg: no file was created"
lab_tap_finish "$out" direct seabios create bad-size bad-path bad-arg
