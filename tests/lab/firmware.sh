#!/usr/bin/env bash
# firmware.sh: boot the Debian kernel with the L3 initramfs through firmware
# under ptvm inside the lab (one lab run), and check what the firmware and
# the guest report (the L3 side is tests/lab/fwfacts.sh):
#   seabios      --firmware seabios --kernel, --smbios strings: SeaBIOS's
#                debug log (port 0x402) shows it and its fw_cfg; the guest
#                reaches init, sees the ICH9 LPC bridge, the ACPI tables from
#                the table loader, the SMBIOS strings, KVM, and powers off
#   seabios-hv   --cpu hyperv,hide-kvm: the kernel detects Microsoft Hyper-V
#                and no KVM signature
#   ovmf-write   --firmware ovmf,vars=FILE --kernel: the kernel boots through
#                its EFI stub and writes a UEFI variable through efivarfs
#   ovmf-check   the same vars file in a new run: the variable is there
#   bench        time from VMM start to the kernel's first console line,
#                ptvm vs QEMU (same firmware files, same lab run), SeaBIOS
#                and OVMF; reported, not judged. A benchmark, so not among
#                the default cases: bench/firmware/run runs it
# Prints TAP. usage: firmware.sh [--work DIR] [CASE...] (default: all but bench)
# Environment: PTVM, LAB_BOOT_TIMEOUT (seconds per boot, default 400).
# Exit: 0 all passed, 1 a check failed, 77 the lab cannot run here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

all_cases=(seabios seabios-hv ovmf-write ovmf-check) # and bench, by name
value=ptvm$RANDOM$RANDOM

# --- inside the lab ------------------------------------------------------------
# Run "$@" (a VMM command line) with its console in $OUT/bench-$tag.log and
# record in $OUT/bench-$tag.time the seconds from start until the console
# first shows "Linux version" (polled every 20 ms; "none" if never).
stamped() {
	local tag=$1 t0 pid log seen=none
	shift
	log=/tmp/bench-$tag.log
	t0=$EPOCHREALTIME
	timeout -k 5 "${LAB_BOOT_TIMEOUT:-400}" "$@" < /dev/null > "$log" 2> "$OUT/bench-$tag.err" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -qs 'Linux version' "$log"; then
			seen=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')
			break
		fi
		sleep 0.02
	done
	set +e
	wait "$pid"
	echo $? > "$OUT/bench-$tag.rc"
	set -e
	echo "$seen" > "$OUT/bench-$tag.time"
	cp "$log" "$OUT/bench-$tag.log"
	echo "bench $tag: first kernel line after $seen s, exit $(cat "$OUT/bench-$tag.rc")"
}

# Boot to the kernel's first console line under ptvm and QEMU, SeaBIOS and
# OVMF, same kernel, initramfs and firmware files. loglevel=6 shows the
# kernel's notices ("Linux version" first) but not its many info lines,
# which would make the serial console, not the boot, what is measured.
bench() {
	local c="console=ttyS0 panic=-1 loglevel=6 ptvm.end=poweroff"
	local k=(--kernel /tmp/vmlinuz --initrd /tmp/l3.cpio.gz --cmdline "$c")
	local q=(-M q35 -enable-kvm -cpu host -smp 1 -m 512M -nodefaults -no-user-config
		-display none -no-reboot -serial stdio -L /usr/share/qemu
		-kernel /tmp/vmlinuz -initrd /tmp/l3.cpio.gz -append "$c")
	stamped ptvm-seabios "$LAB_PTVM_BIN" run --firmware seabios "${k[@]}" --memory 512M --on-reboot exit
	[ -n "${LAB_QEMU_BIN:-}" ] &&
		stamped qemu-seabios "$LAB_QEMU_BIN" "${q[@]}" -bios /usr/share/seabios/bios-256k.bin
	rm -f /tmp/bench-vars.fd
	stamped ptvm-ovmf "$LAB_PTVM_BIN" run --firmware ovmf,vars=/tmp/bench-vars.fd "${k[@]}" --memory 512M --on-reboot exit
	cp /usr/share/OVMF/OVMF_VARS_4M.fd /tmp/bench-qvars.fd
	[ -n "${LAB_QEMU_BIN:-}" ] &&
		stamped qemu-ovmf "$LAB_QEMU_BIN" "${q[@]}" \
			-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
			-drive if=pflash,format=raw,file=/tmp/bench-qvars.fd
	echo "case bench: done"
}

# usage: firmware.sh --inner PTVM KERNEL INITRD VALUE CASE...
if [ "${1:-}" = --inner ]; then
	bin=$2 kernel=$3 initrd=$4 value=$5
	shift 5
	lab_install_vmm ptvm "$bin"
	command -v qemu-system-x86_64 >/dev/null && lab_install_vmm qemu "$(command -v qemu-system-x86_64)"
	cp "$kernel" /tmp/vmlinuz
	cp "$initrd" /tmp/l3.cpio.gz
	rm -f /tmp/vars.fd
	for name in "$@"; do
		base="console=ttyS0 panic=-1 quiet ptvm.test=fwfacts"
		case $name in
		seabios) fw=(--firmware seabios --smbios type=0,vendor=ptvm-lab-bios
				--smbios type=1,manufacturer=ptvm-lab,product=fw-seabios)
			cmdline="$base ptvm.end=poweroff" ;;
		seabios-hv) fw=(--firmware seabios --cpu hyperv,hide-kvm)
			cmdline="$base ptvm.end=poweroff" ;;
		ovmf-write) fw=(--firmware ovmf,vars=/tmp/vars.fd --smbios type=1,product=fw-ovmf)
			cmdline="$base ptvm.efivar=write ptvm.efivar_value=$value ptvm.end=poweroff" ;;
		ovmf-check) fw=(--firmware ovmf,vars=/tmp/vars.fd)
			cmdline="$base ptvm.efivar=check ptvm.end=poweroff" ;;
		bench) bench; continue ;;
		*) echo "unknown case $name"; continue ;;
		esac
		# LAB_BOOT_TIMEOUT: the outer run always sets it (default 400 s)
		lab_run_case "$name" "$LAB_PTVM_BIN" run "${fw[@]}" --kernel /tmp/vmlinuz --initrd /tmp/l3.cpio.gz \
			--cmdline "$cmdline" --cpus 1 --memory 512M --on-reboot exit \
			--debugcon "file:$OUT/$name.debugcon"
		[ -f /tmp/vars.fd ] && ls -l /tmp/vars.fd
	done
	exit 0
fi

# --- on this machine -------------------------------------------------------------
lab_parse_work_and_cases "$@"
lab_require_or_skip qemu-system-x86_64
[ -f /usr/share/seabios/bios-256k.bin ] && [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] ||
	{ echo "firmware.sh: SKIP: seabios or ovmf is not installed" >&2; exit 77; }
bin=$(lab_find_ptvm)
work=$(lab_work_dir "$work")
kernel=$(lab_vmlinuz 6.1)
initrd="$work/l3-firmware.cpio.gz"
"$LAB_DIR/mkinitrd-l3" -m efivarfs -f "$LAB_DIR/fwfacts.sh=/tests/fwfacts.sh" "$initrd"
out="$work/firmware"
lab_fresh_dir "$out"

echo "# firmware.sh: ptvm ($bin) in the lab, cases: ${cases[*]}"
labrc=0
lab_run_lab -o "$out" -t "${LAB_TIMEOUT:-1500}" --cwd "$LAB_REPO" -- \
	env LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-400}" \
	"$LAB_DIR/firmware.sh" --inner "$bin" "$kernel" "$initrd" "$value" "${cases[@]}" || labrc=$?
# from here on a failed check is a result, not a reason to stop
set +e

lab_check "$labrc" "the lab ran (run-in-lab exit $labrc)"

for name in "${cases[@]}"; do
	if [ "$name" = bench ]; then
		for fw in seabios ovmf; do
			p=$(cat "$out/bench-ptvm-$fw.time" 2>/dev/null || echo none)
			q=$(cat "$out/bench-qemu-$fw.time" 2>/dev/null || echo none)
			[ "$p" != none ]
			lab_check $? "bench: ptvm reached the kernel's first console line under $fw"
			echo "# bench $fw: first kernel console line after ptvm ${p} s, QEMU ${q} s"
		done
		continue
	fi
	log="$out/$name.log" dbg="$out/$name.debugcon"
	if [ ! -f "$out/$name.rc" ]; then
		lab_check 1 "$name: ptvm ran"
		continue
	fi
	rc=$(cat "$out/$name.rc")
	lab_read_facts "$log" anywhere
	[ "$(lab_fact 'init reached.*')" -ge 1 ]
	lab_check $? "$name: guest init reached"
	case $name in
	seabios)
		grep -q '^SeaBIOS (version' "$dbg"
		lab_check $? "$name: SeaBIOS's debug log shows its banner"
		grep -q '^Found QEMU fw_cfg' "$dbg" && grep -q 'fw_cfg DMA interface supported' "$dbg"
		lab_check $? "$name: SeaBIOS found fw_cfg with DMA"
		grep -q 'Booting from ROM' "$dbg"
		lab_check $? "$name: SeaBIOS booted the kernel through linuxboot_dma (fw_cfg)"
		[ "$(lab_fact 'pci 0000:00:1f.0 8086:2918 class 0x060100')" = 1 ]
		lab_check $? "$name: guest sees the ICH9 LPC bridge at 00:1f.0"
		tables=$(sed -n 's/^acpi tables: //p' <<< "$LAB_FACTS")
		grep -qw APIC <<< "$tables" && grep -qw MCFG <<< "$tables" && grep -qw DSDT <<< "$tables"
		lab_check $? "$name: ACPI tables from the table loader (tables: ${tables:-none})"
		[ "$(lab_fact 'dmi bios_vendor=ptvm-lab-bios')" = 1 ] && [ "$(lab_fact 'dmi sys_vendor=ptvm-lab')" = 1 ] &&
			[ "$(lab_fact 'dmi product_name=fw-seabios')" = 1 ]
		lab_check $? "$name: SMBIOS type 0/1 strings from --smbios reach the guest"
		[ "$(lab_fact 'hypervisor: KVM')" = 1 ]
		lab_check $? "$name: the kernel detects KVM"
		;;
	seabios-hv)
		[ "$(lab_fact 'hypervisor: Microsoft Hyper-V')" = 1 ]
		lab_check $? "$name: --cpu hyperv: the kernel detects Microsoft Hyper-V"
		[ "$(lab_fact 'kvm signature: 0')" = 1 ]
		lab_check $? "$name: --cpu hide-kvm: no KVM paravirtualization found"
		;;
	ovmf-write)
		[ "$(lab_fact 'efi: booted through UEFI')" = 1 ]
		lab_check $? "$name: the kernel booted through UEFI (EFI stub)"
		[ "$(lab_fact 'dmi product_name=fw-ovmf')" = 1 ]
		lab_check $? "$name: SMBIOS strings reach the guest through OVMF"
		[ "$(lab_fact "efivar written value=$value")" = 1 ]
		lab_check $? "$name: a UEFI variable was written through efivarfs"
		;;
	ovmf-check)
		[ "$(lab_fact "efivar value=$value")" = 1 ]
		lab_check $? "$name: the UEFI variable written in the previous run is there ($value)"
		;;
	esac
	[ "$(lab_fact 'end poweroff')" = 1 ] && [ "$rc" = 0 ]
	lab_check $? "$name: guest powered off and ptvm exited 0 (exit $rc)"
done
lab_tap_finish "$out" "${cases[@]}"
