#!/usr/bin/env bash
# vfio.sh: PCI passthrough under ptvm, in ONE lab run with QEMU's edu (00:10.0),
# nvme (00:11.0, backed by a disk image on this machine) and e1000e (00:12.0)
# bound to vfio-pci in L2. What each guest reports is checked here:
#   edu        freestanding guest (guests/edu.c): ID via the mapped BAR0,
#              liveness, DMA both ways through the IOMMU, MSI, INTx
#   nvme-edu   Linux L3 with edu at 05.0 (multifunction=on) and nvme at 05.1:
#              two devices and a multifunction slot; the nvme driver (MSI-X,
#              table in BAR0 at +0x2000 beside the registers) reads the
#              pattern the host wrote and writes a new one the host then finds
#   e1000e     Linux L3: link up, MSI-X vectors, option ROM through the ROM BAR
#   bad-*      wrong address, device on another driver, device on no driver,
#              missing romfile, /dev/vfio/N not accessible, memlock limit too
#              low (as an unprivileged user): ptvm fails with one error line
#              naming the problem, and the host drivers are unchanged
# Prints TAP. Exit: 0 all passed, 1 a check failed, 77 the lab cannot run here.
# usage: vfio.sh [--work DIR]   (DIR outside /tmp; default $LAB_WORK or
#        build-lab-work/ in the repository). Environment: PTVM (the binary;
#        default the newest build*/ptvm; its guests/ folder must hold
#        edu.bzimage and hello.bzimage).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

EDU=0000:00:10.0 NVME=0000:00:11.0 E1000E=0000:00:12.0

# --- inside the lab: run every case, NAME.log/.err/.rc into $OUT --------------
if [ "${1:-}" = --inner ]; then
	bin=$2 guests=$3 kernel=$4 initrd=$5
	lab_install_vmm ptvm "$bin"
	cp "$kernel" /tmp/vmlinuz
	cp "$initrd" /tmp/l3.cpio.gz
	cp "$guests/edu.bzimage" "$guests/hello.bzimage" /tmp/
	P=$LAB_PTVM_BIN
	l3() { # L3 Linux with test $1, then the --device options
		local t=$1
		shift
		timeout -k 5 300 "$P" -v run --kernel /tmp/vmlinuz --initrd /tmp/l3.cpio.gz --memory 512M \
			--cmdline "console=ttyS0 panic=-1 quiet ptvm.test=$t ptvm.end=exit" \
			--on-reboot exit "$@"
	}
	bad() { # a guest that never runs: the error comes first
		timeout -k 5 60 "$P" -q run --kernel /tmp/hello.bzimage --memory 128M "$@"
	}
	drivers() { # the host driver of each device we touch
		for d in $EDU $NVME $E1000E 0000:00:01.0 0000:00:1f.2; do
			l=$(readlink /sys/bus/pci/devices/$d/driver 2>/dev/null || true)
			echo "$d ${l##*/}"
		done
	}
	run() { # run NAME CMD...: output, errors and status into $OUT (CMD has its own timeout)
		local name=$1 rc
		shift
		set +e
		"$@" < /dev/null > "$OUT/$name.log" 2> "$OUT/$name.err"
		rc=$?
		set -e
		echo "$rc" > "$OUT/$name.rc"
		echo "case $name: exit $rc"
	}
	drivers > "$OUT/drivers-before"
	run edu timeout -k 5 120 "$P" -v run --kernel /tmp/edu.bzimage --memory 256M --device vfio,host=$EDU
	run nvme-edu l3 nvme --device vfio,host=$EDU,addr=5.0,multifunction=on \
		--device vfio,host=$NVME,addr=5.1
	run e1000e l3 e1000e --device vfio,host=$E1000E
	run bad-address bad --device vfio,host=0000:00:1e.0
	run bad-driver bad --device vfio,host=0000:00:01.0
	run bad-nodriver bad --device vfio,host=0000:00:1f.2
	run bad-romfile bad --device vfio,host=$EDU,romfile=/nonexistent/edu.rom
	chmod 666 /dev/kvm
	run bad-perm timeout -k 5 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$P" -q run --kernel /tmp/hello.bzimage --memory 128M --device vfio,host=$EDU
	# the group opens for anyone now, so the memlock check is what stops it
	chmod 666 /dev/vfio/3
	run bad-memlock timeout -k 5 60 bash -c 'ulimit -l 1024 && exec "$@"' _ \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$P" -q run --kernel /tmp/hello.bzimage --memory 128M --device vfio,host=$EDU
	chmod 600 /dev/vfio/3
	drivers > "$OUT/drivers-after"
	exit 0
fi

# --- on this machine ------------------------------------------------------------
work=${LAB_WORK:-$LAB_REPO/build-lab-work}
while [ $# -gt 0 ]; do
	case "$1" in
	--work) work=$2; shift 2 ;;
	-h|--help) sed -n '2,22p' "$0"; exit 0 ;;
	*) lab_die "unknown option $1 (see --help)" ;;
	esac
done
lab_require_or_skip qemu-system-x86_64
bin=$(lab_find_ptvm)
guests=$(dirname "$bin")/guests
[ -f "$guests/edu.bzimage" ] && [ -f "$guests/hello.bzimage" ] ||
	lab_die "no $guests/edu.bzimage or hello.bzimage: build the guests (meson -Dguests=true)"
mkdir -p "$work"
work=$(cd "$work" && pwd)
case "$work" in
/tmp|/tmp/*) lab_die "--work $work: L1's /tmp is not visible in the lab; use a folder outside /tmp" ;;
esac
kernel=$(lab_vmlinuz 6.1)
initrd="$work/l3-vfio.cpio.gz"
"$LAB_DIR/mkinitrd-l3" -m nvme -m e1000e -f "$LAB_DIR/vfio/nvme.sh=/tests/nvme.sh" \
	-f "$LAB_DIR/vfio/e1000e.sh=/tests/e1000e.sh" "$initrd"
out="$work/vfio"
rm -rf "$out"
mkdir -p "$out"
# the nvme disk: a known pattern at 0, zeros where the guest will write (sector 8)
img="$work/vfio-nvme.img"
rm -f "$img"
truncate -s 64M "$img"
printf 'PTVM-NVME-PATTERN' | dd of="$img" conv=notrunc status=none

echo "# vfio.sh: $bin in the lab"
set +e
"$LAB_DIR/run-in-lab" -o "$out" -t "${LAB_TIMEOUT:-900}" --cwd "$LAB_REPO" \
	-d edu -d 'nvme,serial=lab0,drive=nvm0' -d e1000e \
	-D "if=none,id=nvm0,file=$img,format=raw" -- \
	"$LAB_DIR/vfio.sh" --inner "$bin" "$guests" "$kernel" "$initrd" 2>&1 | sed 's/^/# lab: /'
labrc=${PIPESTATUS[0]}

n=0 failed=0
# Print one TAP result: ok (status 0) or not ok, with description $2.
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
# Lines the L3 guest printed, without the "PTVM-L3: " prefix.
facts() { sed -n 's/\r$//; s/^PTVM-L3: //p' "$out/$1.log" 2>/dev/null; }
rc() { cat "$out/$1.rc" 2>/dev/null || echo none; }
check "$labrc" "the lab ran (run-in-lab exit $labrc)"

# edu, freestanding
[ "$(rc edu)" = 0 ]
check $? "edu: guest exit status 0 (got $(rc edu))"
grep -q 'SUMMARY: .* 0 failures' "$out/edu.log"
check $? "edu: guest summary has 0 failures ($(grep -a SUMMARY "$out/edu.log" | tr -d '\r'))"
for what in 'PASS: edu ID register through BAR0' 'PASS: DMA round trip' 'PASS: MSI delivered once' \
	'PASS: INTx delivered once' 'PASS: second INTx after EOI'; do
	grep -q "$what" "$out/edu.log"
	check $? "edu: $what"
done
grep -q 'mapped .* MiB of guest RAM into the IOMMU in' "$out/edu.err"
check $? "edu: ptvm logged the IOMMU mapping and its time"
grep -q 'BAR 0 .* mapped' "$out/edu.err" 2>/dev/null || grep -q 'at guest 00:' "$out/edu.err"
check $? "edu: device placed in the guest"

# nvme + edu, multifunction slot 5
f=$(facts nvme-edu)
[ "$(rc nvme-edu)" = 0 ]
check $? "nvme-edu: L3 test passed (exit $(rc nvme-edu))"
grep -q '^pci 0000:00:05.0 1234:11e8' <<< "$f"
check $? "nvme-edu: edu is guest function 00:05.0"
grep -q '^pci 0000:00:05.1 1b36:0010' <<< "$f"
check $? "nvme-edu: nvme is guest function 00:05.1"
grep -q "^nvme read 'PTVM-NVME-PATTERN'" <<< "$f"
check $? "nvme-edu: the guest's nvme driver read the host's pattern"
grep -q "^nvme readback 'PTVM-WRITTEN-BY-L3'" <<< "$f"
check $? "nvme-edu: the guest read back what it wrote"
[ "$(dd if="$img" bs=1 skip=4096 count=18 status=none)" = PTVM-WRITTEN-BY-L3 ]
check $? "nvme-edu: the host image holds the guest's write"
nq=$(grep -c -E '^irq .*PCI-MSI.*nvme0q[0-9]' <<< "$f" || true)
[ "$nq" -ge 2 ]
check $? "nvme-edu: nvme uses MSI-X vectors (admin + I/O queues: $nq)"

# e1000e
f=$(facts e1000e)
[ "$(rc e1000e)" = 0 ]
check $? "e1000e: L3 test passed (exit $(rc e1000e))"
grep -q '^eth0 carrier 1' <<< "$f"
check $? "e1000e: link up"
nv=$(grep -c -E '^irq .*PCI-MSI.*eth0' <<< "$f" || true)
[ "$nv" -ge 3 ]
check $? "e1000e: MSI-X vectors (rx, tx, other: $nv)"
grep -q '^rom signature 55aa' <<< "$f"
check $? "e1000e: option ROM through the emulated ROM BAR starts with 55 aa"

# bad input: non-zero exit, one error line naming the problem
bad_case() {
	local name=$1 want=$2 lines
	[ "$(rc "$name")" != 0 ] && [ "$(rc "$name")" != none ]
	check $? "$name: ptvm fails (exit $(rc "$name"))"
	grep -q -- "$want" "$out/$name.err"
	check $? "$name: error says '$want' ($(head -1 "$out/$name.err" 2>/dev/null))"
	lines=$(grep -c 'ptvm:' "$out/$name.err" || true)
	[ "$lines" = 1 ]
	check $? "$name: exactly one error line ($lines)"
}
bad_case bad-address 'no such PCI device'
bad_case bad-driver 'bound to virtio-pci, not vfio-pci'
bad_case bad-nodriver 'not bound to vfio-pci (no driver)'
bad_case bad-romfile 'cannot open romfile /nonexistent/edu.rom'
bad_case bad-perm 'permission denied on /dev/vfio/'
bad_case bad-memlock '128 MiB of locked memory needed but RLIMIT_MEMLOCK allows 1 MiB'
cmp -s "$out/drivers-before" "$out/drivers-after"
check $? "host drivers unchanged by the failed runs ($(tr '\n' ' ' < "$out/drivers-after"))"

echo "1..$n"
if [ "$failed" -gt 0 ]; then
	echo "# $failed check(s) failed; logs in $out (NAME.log, NAME.err), lab console $out/lab-console.log"
	exit 1
fi
exit 0
