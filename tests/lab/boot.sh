#!/usr/bin/env bash
# boot.sh: boot the Debian kernel with the L3 initramfs (mkinitrd-l3) under a
# VMM inside the lab, several cases in ONE lab run, and check from the guest's
# own console what it found: init reached, the vCPU count, MemTotal for the
# memory given, the q35 host bridge 8086:29c0 at 00:00.0, the MADT and MCFG
# ACPI tables, the ECAM window in /proc/iomem; and that the VMM's exit status
# is what the guest chose (poweroff -> 0, debug-exit 42 -> 42). Prints TAP.
#
# usage: boot.sh [--vmm ptvm|qemu] [--work DIR] [--show] [CASE...]
#   --vmm      the VMM under test (default ptvm; qemu checks the harness and
#              the lab themselves with the same assertions)
#   --work     a folder outside /tmp for the initramfs and the lab's output
#              (default $LAB_WORK, else build-lab-work/ in the repository);
#              the consoles are kept in WORK/boot-VMM/CASE.log
#   --show     print every guest console (as TAP comments), e.g. for a demo
#   CASE       NAME:CPUS:MEMORY:END, e.g. 1cpu:1:512M:poweroff. Default cases:
#              1cpu-poweroff:1:512M:poweroff 2cpu-exit42:2:768M:exit42
# Environment: PTVM (the ptvm binary; default the newest build*/ptvm),
# LAB_BOOT_TIMEOUT (seconds per guest boot, default 240), LAB_VERBOSE=1 (full
# kernel log on the console instead of `quiet`).
# Exit: 0 all passed, 1 a check failed, 77 the lab cannot run here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

default_cases=(1cpu-poweroff:1:512M:poweroff 2cpu-exit42:2:768M:exit42)

# --- inside the lab: boot every case, write NAME.log and NAME.rc to $OUT ------
# usage: boot.sh --inner VMM VMM_BINARY KERNEL INITRD CASE...
if [ "${1:-}" = --inner ]; then
	vmm=$2 bin=$3 kernel=$4 initrd=$5
	shift 5
	# the VMM runs from a copy on L2's tmpfs, not over 9p
	lab_install_vmm "$vmm" "$bin"
	cp "$kernel" /tmp/vmlinuz
	cp "$initrd" /tmp/l3.cpio.gz
	for c in "$@"; do
		IFS=: read -r name cpus mem end <<< "$c"
		cmdline="console=ttyS0 panic=-1 ptvm.end=$end"
		[ "${LAB_VERBOSE:-0}" = 1 ] || cmdline="$cmdline quiet"
		lab_vmm_argv "$vmm" /tmp/vmlinuz /tmp/l3.cpio.gz "$cmdline" "$cpus" "$mem"
		lab_run_case "$name" "${LAB_VMM_ARGV[@]}"
	done
	exit 0
fi

# --- on this machine: run the lab, then check what each guest printed ----------
vmm=ptvm work=${LAB_WORK:-$LAB_REPO/build-lab-work} show=0
while [ $# -gt 0 ]; do
	case "$1" in
	--vmm) vmm=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--show) show=1; shift ;;
	-h|--help) lab_usage; exit 0 ;;
	-*) lab_die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=("${default_cases[@]}")
for c in "${cases[@]}"; do
	IFS=: read -r name cpus mem end <<< "$c"
	[[ "$name" =~ ^[A-Za-z0-9_.-]+$ && "$cpus" =~ ^[0-9]+$ && -n "$end" ]] ||
		lab_die "case '$c': write NAME:CPUS:MEMORY:END, e.g. 2cpu:2:512M:exit42"
	lab_size_mib "$mem" >/dev/null
	lab_expected_status qemu "$end" >/dev/null
done
lab_require_or_skip qemu-system-x86_64
case "$vmm" in
ptvm) bin=$(lab_find_ptvm) ;;
qemu) bin=$(command -v qemu-system-x86_64) ;;
*) lab_die "--vmm $vmm: use ptvm or qemu" ;;
esac
work=$(lab_work_dir "$work")
kernel=$(lab_vmlinuz 6.1)
initrd="$work/l3.cpio.gz"
"$LAB_DIR/mkinitrd-l3" "$initrd"
out="$work/boot-$vmm"
lab_fresh_dir "$out"

echo "# boot.sh: $vmm ($bin) in the lab, cases: ${cases[*]}"
labrc=0
lab_run_lab -o "$out" -t "${LAB_TIMEOUT:-900}" --cwd "$LAB_REPO" -- \
	env LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-240}" LAB_VERBOSE="${LAB_VERBOSE:-0}" \
	"$LAB_DIR/boot.sh" --inner "$vmm" "$bin" "$kernel" "$initrd" "${cases[@]}" || labrc=$?
# from here on a failed check is a result, not a reason to stop
set +e

lab_check "$labrc" "the lab ran (run-in-lab exit $labrc)"

for c in "${cases[@]}"; do
	IFS=: read -r name cpus mem end <<< "$c"
	log="$out/$name.log"
	if [ ! -f "$out/$name.rc" ]; then
		lab_check 1 "$name: the VMM ran"
		continue
	fi
	rc=$(cat "$out/$name.rc")
	want=$(lab_expected_status "$vmm" "$end")
	lab_read_facts "$log"

	[ "$(lab_fact 'init reached.*')" -ge 1 ]
	lab_check $? "$name: guest init reached"
	got=$(sed -n 's/^cpus=\([0-9]*\) .*/\1/p' <<< "$LAB_FACTS" | head -1)
	[ "$got" = "$cpus" ]
	lab_check $? "$name: guest sees cpus=$cpus (got '${got:-none}')"
	mib=$(lab_size_mib "$mem")
	kb=$(sed -n 's/^memtotal_kb=\([0-9]*\)$/\1/p' <<< "$LAB_FACTS" | head -1)
	[ -n "$kb" ] && [ "$kb" -le $((mib * 1024)) ] && [ "$kb" -ge $((mib * 1024 * 3 / 4)) ]
	lab_check $? "$name: MemTotal ${kb:-none} kB is within 75-100% of $mem"
	[ "$(lab_fact 'pci 0000:00:00.0 8086:29c0 class 0x060000')" = 1 ]
	lab_check $? "$name: host bridge 8086:29c0 class 0x060000 at 0000:00:00.0"
	tables=$(sed -n 's/^acpi tables: //p' <<< "$LAB_FACTS")
	grep -qw APIC <<< "$tables" && grep -qw MCFG <<< "$tables"
	lab_check $? "$name: ACPI MADT (APIC) and MCFG present (tables: ${tables:-none})"
	[ "$(lab_fact 'iomem b0000000-bfffffff : PCI MMCONFIG 0000 \[bus 00-ff\]')" = 1 ]
	lab_check $? "$name: ECAM b0000000-bfffffff for buses 00-ff in /proc/iomem"
	[ "$(lab_fact "end $end")" = 1 ]
	lab_check $? "$name: guest reached its end action ($end)"
	[ "$rc" = "$want" ]
	lab_check $? "$name: $vmm exit status $rc is what the guest chose ($end -> $want)"
done
echo "1..$LAB_TAP_N"
if [ "$show" = 1 ]; then
	for c in "${cases[@]}"; do
		name=${c%%:*}
		echo "# --- $name: $(cat "$out/$name.cmd" 2>/dev/null); exit status $(cat "$out/$name.rc" 2>/dev/null)"
		sed 's/\r$//; s/^/# | /' "$out/$name.log" 2>/dev/null
	done
fi
if [ "$LAB_TAP_FAILED" -gt 0 ]; then
	echo "# $LAB_TAP_FAILED check(s) failed; consoles and VMM stderr in $out (NAME.log, NAME.err), lab console $out/lab-console.log"
	for c in "${cases[@]}"; do
		lab_show_case "$out" "${c%%:*}"
	done
	exit 1
fi
exit 0
