#!/usr/bin/env bash
# devices.sh: Linux on ptvm's legacy devices, in ONE lab run with three boots:
#   devices      ptvm.test=devices (tests/lab/devices-l3.sh in L3): COM1 IRQ,
#                i8042 probe, RTC read/set/alarm IRQ, PM timer, SCI; the test's
#                failure count leaves through the debug-exit port
#   reboot-acpi  reboot -f: Linux resets through the FADT reset register (0xCF9)
#   reboot-kbd   reboot -f with reboot=k: through the i8042 (command 0xFE)
# ptvm runs with -v so its log names the reset path. Prints TAP.
#
# usage: devices.sh [--work DIR]
#   --work  a folder outside /tmp for the initramfs and the lab's output
#           (default $LAB_WORK, else build-lab-work/ in the repository); the
#           consoles are kept in WORK/devices/NAME.log, ptvm's log in NAME.err
# Environment: PTVM (the ptvm binary; default the newest build*/ptvm),
# LAB_BOOT_TIMEOUT (seconds per guest boot, default 240).
# Exit: 0 all passed, 1 a check failed, 77 the lab cannot run here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cases=(devices reboot-acpi reboot-kbd)

# Kernel command line of case $1.
case_cmdline() {
	case "$1" in
	devices) echo "console=ttyS0 panic=-1 ptvm.test=devices ptvm.end=exit" ;;
	reboot-acpi) echo "console=ttyS0 panic=-1 ptvm.end=reboot" ;;
	reboot-kbd) echo "console=ttyS0 panic=-1 ptvm.end=reboot reboot=k" ;;
	esac
}

# --- inside the lab: boot every case, write NAME.log, NAME.err, NAME.rc -------
# usage: devices.sh --inner PTVM_BINARY KERNEL INITRD
if [ "${1:-}" = --inner ]; then
	lab_install_vmm ptvm "$2"
	cp "$3" /tmp/vmlinuz
	cp "$4" /tmp/l3.cpio.gz
	for name in "${cases[@]}"; do
		lab_vmm_argv ptvm /tmp/vmlinuz /tmp/l3.cpio.gz "$(case_cmdline "$name")" 1 512M
		lab_run_case "$name" "${LAB_VMM_ARGV[0]}" -v "${LAB_VMM_ARGV[@]:1}"
	done
	exit 0
fi

# --- on this machine: run the lab, then check the consoles and ptvm's logs ----
lab_parse_work_option "$@"
lab_require_or_skip qemu-system-x86_64
bin=$(lab_find_ptvm)
work=$(lab_work_dir "$work")
kernel=$(lab_vmlinuz 6.1)
initrd="$work/l3-devices.cpio.gz"
"$LAB_DIR/mkinitrd-l3" -f "$LAB_DIR/devices-l3.sh=/tests/devices.sh" "$initrd"
out="$work/devices"
lab_fresh_dir "$out"

echo "# devices.sh: ptvm ($bin) in the lab, cases: ${cases[*]}"
labrc=0
lab_run_lab -o "$out" -t "${LAB_TIMEOUT:-900}" --cwd "$LAB_REPO" -- \
	env LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-240}" \
	"$LAB_DIR/devices.sh" --inner "$bin" "$kernel" "$initrd" || labrc=$?
# from here on a failed check is a result, not a reason to stop
set +e

# The console of case $1 without CRs.
console() { sed 's/\r$//' "$out/$1.log" 2>/dev/null; }
lab_check "$labrc" "the lab ran (run-in-lab exit $labrc)"

# the guest's own checks, one TAP line each
while read -r line; do
	case "$line" in
	"dev ok "*) lab_check 0 "devices: ${line#dev ok }" ;;
	"dev FAIL "*) lab_check 1 "devices: ${line#dev FAIL }" ;;
	esac
done < <(console devices | sed -n 's/^PTVM-L3: //p')
console devices | grep -q '^PTVM-L3: dev failures=' && rc=0 || rc=1
lab_check $rc "devices: the guest test ran to the end"
rc=$(lab_case_rc "$out" devices)
[ "$rc" = 0 ]
lab_check $? "devices: ptvm exit status $rc is the guest's failure count 0"

for name in reboot-acpi reboot-kbd; do
	rc=$(lab_case_rc "$out" "$name")
	console "$name" | grep -q 'reboot: Restarting system'
	lab_check $? "$name: Linux restarted the machine"
	[ "$rc" = 0 ]
	lab_check $? "$name: ptvm exit status $rc (--on-reboot exit: 0)"
done
grep -q 'pm: guest reset through 0xcf9' "$out/reboot-acpi.err" 2>/dev/null
lab_check $? "reboot-acpi: the reset came through 0xCF9"
grep -q 'i8042: guest reset through the keyboard controller' "$out/reboot-kbd.err" 2>/dev/null
lab_check $? "reboot-kbd: the reset came through the i8042"

lab_tap_finish "$out" "${cases[@]}"
