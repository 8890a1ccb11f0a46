#!/usr/bin/env bash
# firmware.sh: boot the Debian kernel with the L3 initramfs through firmware
# under ptvm inside the lab (one lab run), and check what the firmware and
# the guest report:
#   seabios      --firmware seabios --kernel: SeaBIOS's debug log (port 0x402)
#                shows it and its fw_cfg; the guest reaches init, sees the
#                q35 host bridge and the ICH9 LPC bridge and ACPI tables
#                from the table loader, and powers off (exit 0)
#   ovmf-write   --firmware ovmf,vars=FILE --kernel: the kernel boots through
#                its EFI stub (/sys/firmware/efi exists) and writes a UEFI
#                variable through efivarfs
#   ovmf-check   the same vars file in a new run: the variable is there
# Prints TAP. usage: firmware.sh [--work DIR] [CASE...] (default: all three)
# Environment: PTVM, LAB_BOOT_TIMEOUT (seconds per boot, default 400).
# Exit: 0 all passed, 1 a check failed, 77 the lab cannot run here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

all_cases=(seabios ovmf-write ovmf-check)
value=ptvm$RANDOM$RANDOM

# --- inside the lab ------------------------------------------------------------
# usage: firmware.sh --inner PTVM KERNEL INITRD VALUE CASE...
if [ "${1:-}" = --inner ]; then
	bin=$2 kernel=$3 initrd=$4 value=$5
	shift 5
	lab_install_vmm ptvm "$bin"
	cp "$kernel" /tmp/vmlinuz
	cp "$initrd" /tmp/l3.cpio.gz
	rm -f /tmp/vars.fd
	for name in "$@"; do
		base="console=ttyS0 panic=-1 quiet"
		case $name in
		seabios) fw=(--firmware seabios) cmdline="$base ptvm.end=poweroff" ;;
		ovmf-write) fw=(--firmware ovmf,vars=/tmp/vars.fd)
			cmdline="$base ptvm.test=efivar ptvm.efivar=write ptvm.efivar_value=$value ptvm.end=poweroff" ;;
		ovmf-check) fw=(--firmware ovmf,vars=/tmp/vars.fd)
			cmdline="$base ptvm.test=efivar ptvm.efivar=check ptvm.end=poweroff" ;;
		*) echo "unknown case $name"; continue ;;
		esac
		argv=("$LAB_PTVM_BIN" run "${fw[@]}" --kernel /tmp/vmlinuz --initrd /tmp/l3.cpio.gz
			--cmdline "$cmdline" --cpus 1 --memory 512M --on-reboot exit
			--debugcon "file:$OUT/$name.debugcon")
		printf '%q ' "${argv[@]}" > "$OUT/$name.cmd"
		t0=$EPOCHREALTIME
		set +e
		timeout -k 5 "${LAB_BOOT_TIMEOUT:-400}" "${argv[@]}" < /dev/null > "$OUT/$name.log" 2> "$OUT/$name.err"
		rc=$?
		set -e
		echo "$rc" > "$OUT/$name.rc"
		echo "case $name: exit $rc after $(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
		[ -f /tmp/vars.fd ] && ls -l /tmp/vars.fd
	done
	exit 0
fi

# --- on this machine -------------------------------------------------------------
work=${LAB_WORK:-$LAB_REPO/build-lab-work}
while [ $# -gt 0 ]; do
	case "$1" in
	--work) work=$2; shift 2 ;;
	-h|--help) sed -n '2,18p' "$0"; exit 0 ;;
	-*) lab_die "unknown option $1 (see --help)" ;;
	*) break ;;
	esac
done
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=("${all_cases[@]}")
lab_require_or_skip qemu-system-x86_64
[ -f /usr/share/seabios/bios-256k.bin ] && [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] ||
	{ echo "firmware.sh: SKIP: seabios or ovmf is not installed" >&2; exit 77; }
bin=$(lab_find_ptvm)
mkdir -p "$work"
work=$(cd "$work" && pwd)
kernel=$(lab_vmlinuz 6.1)
initrd="$work/l3-firmware.cpio.gz"
"$LAB_DIR/mkinitrd-l3" -m efivarfs -f "$LAB_DIR/efivar.sh=/tests/efivar.sh" "$initrd"
out="$work/firmware"
rm -rf "$out"
mkdir -p "$out"

echo "# firmware.sh: ptvm ($bin) in the lab, cases: ${cases[*]}"
set +e
"$LAB_DIR/run-in-lab" -o "$out" -t "${LAB_TIMEOUT:-1500}" --cwd "$LAB_REPO" -- \
	env LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-400}" \
	"$LAB_DIR/firmware.sh" --inner "$bin" "$kernel" "$initrd" "$value" "${cases[@]}" 2>&1 | sed 's/^/# lab: /'
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
check "$labrc" "the lab ran (run-in-lab exit $labrc)"

for name in "${cases[@]}"; do
	log="$out/$name.log" dbg="$out/$name.debugcon"
	if [ ! -f "$out/$name.rc" ]; then
		check 1 "$name: ptvm ran"
		continue
	fi
	rc=$(cat "$out/$name.rc")
	facts=$(sed -n 's/\r$//; s/.*PTVM-L3: //p' "$log")
	fact() { grep -c -x -e "$1" <<< "$facts" || true; }
	[ "$(fact 'init reached.*')" -ge 1 ]
	check $? "$name: guest init reached"
	case $name in
	seabios)
		grep -q '^SeaBIOS (version' "$dbg"
		check $? "$name: SeaBIOS's debug log shows its banner"
		grep -q '^Found QEMU fw_cfg' "$dbg" && grep -q 'fw_cfg DMA interface supported' "$dbg"
		check $? "$name: SeaBIOS found fw_cfg with DMA"
		grep -q 'Booting from ROM' "$dbg"
		check $? "$name: SeaBIOS booted the kernel through linuxboot_dma (fw_cfg)"
		[ "$(fact 'pci 0000:00:1f.0 8086:2918 class 0x060100')" = 1 ]
		check $? "$name: guest sees the ICH9 LPC bridge at 00:1f.0"
		tables=$(sed -n 's/^acpi tables: //p' <<< "$facts")
		grep -qw APIC <<< "$tables" && grep -qw MCFG <<< "$tables" && grep -qw DSDT <<< "$tables"
		check $? "$name: ACPI tables from the table loader (tables: ${tables:-none})"
		;;
	ovmf-write)
		[ "$(fact 'efi: booted through UEFI')" = 1 ]
		check $? "$name: the kernel booted through UEFI (EFI stub)"
		[ "$(fact "efivar written value=$value")" = 1 ]
		check $? "$name: a UEFI variable was written through efivarfs"
		;;
	ovmf-check)
		[ "$(fact "efivar value=$value")" = 1 ]
		check $? "$name: the UEFI variable written in the previous run is there ($value)"
		;;
	esac
	[ "$(fact 'end poweroff')" = 1 ] && [ "$rc" = 0 ]
	check $? "$name: guest powered off and ptvm exited 0 (exit $rc)"
done
echo "1..$n"
if [ "$failed" -gt 0 ]; then
	echo "# $failed check(s) failed; consoles, stderr and firmware logs in $out"
	for name in "${cases[@]}"; do
		echo "# --- $name: $(cat "$out/$name.cmd" 2>/dev/null)"
		tail -n 15 "$out/$name.log" 2>/dev/null | sed 's/^/# | /'
		tail -n 5 "$out/$name.err" 2>/dev/null | sed 's/^/# err| /'
		tail -n 8 "$out/$name.debugcon" 2>/dev/null | sed 's/^/# fw| /'
	done
	exit 1
fi
exit 0
