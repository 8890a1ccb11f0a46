#!/usr/bin/env bash
# disk-boot.sh: firmware boots an L3 Linux from a passed-through NVMe disk
# under ptvm, in ONE lab run. Two disk images are built here with
# tests/lab/mkdisk (no mount): a BIOS one (MBR, FAT16, syslinux) and a UEFI
# one (GPT, ESP, systemd-boot). They back two QEMU nvme devices in L1
# (00:10.0 and 00:11.0), bound to vfio-pci in L2:
#   bios   ptvm --firmware seabios --boot order=disk --device vfio,host=00:10.0:
#          SeaBIOS's own NVMe driver finds the disk, mbr.bin starts syslinux,
#          which loads the kernel and initramfs from the FAT partition
#   uefi   ptvm --firmware ovmf,vars=FILE --boot order=disk --device
#          vfio,host=00:11.0: OVMF's NvmExpressDxe finds the disk, BdsDxe runs
#          \EFI\BOOT\BOOTX64.EFI (systemd-boot), which starts the kernel's EFI
#          stub with its loader entry
# No --kernel is given: the kernel, initramfs and command line all come from
# the disk. Checks (tests/lab/diskfacts.sh in L3 reports): init reached, the
# command line is the one on the disk (a per-run marker word in it), UEFI or
# not, and ptvm's exit status is the one the guest chose (ptvm.end=exitN).
# Prints TAP. usage: disk-boot.sh [--work DIR] [CASE...] (default: bios uefi)
# Environment: PTVM, LAB_BOOT_TIMEOUT (seconds per boot, default 400).
# Exit: 0 all passed, 1 a check failed, 77 the lab cannot run here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

all_cases=(bios uefi)
declare -A dev=([bios]=0000:00:10.0 [uefi]=0000:00:11.0)
declare -A status=([bios]=42 [uefi]=43)

# --- inside the lab ------------------------------------------------------------
# usage: disk-boot.sh --inner PTVM CASE...
if [ "${1:-}" = --inner ]; then
	bin=$2
	shift 2
	lab_install_vmm ptvm "$bin"
	rm -f /tmp/vars.fd
	for name in "$@"; do
		case $name in
		bios) fw=(--firmware seabios) ;;
		uefi) fw=(--firmware ovmf,vars=/tmp/vars.fd) ;;
		*) echo "unknown case $name"; continue ;;
		esac
		lab_run_case "$name" "$LAB_PTVM_BIN" run "${fw[@]}" --boot order=disk \
			--device "vfio,host=${dev[$name]}" --cpus 1 --memory 512M --on-reboot exit \
			--debugcon "file:$OUT/$name.debugcon"
	done
	exit 0
fi

# --- on this machine -------------------------------------------------------------
lab_parse_work_and_cases "$@"
lab_require_or_skip qemu-system-x86_64
[ -f /usr/share/seabios/bios-256k.bin ] && [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] ||
	{ echo "disk-boot.sh: SKIP: seabios or ovmf is not installed" >&2; exit 77; }
for tool in sfdisk mkfs.fat mcopy syslinux; do
	command -v "$tool" >/dev/null ||
		lab_die "$tool is missing: run scripts/setup-deps (fdisk dosfstools mtools syslinux syslinux-common systemd-boot-efi)"
done
bin=$(lab_find_ptvm)
work=$(lab_work_dir "$work")
kernel=$(lab_vmlinuz 6.1)
initrd="$work/l3-disk.cpio.gz"
"$LAB_DIR/mkinitrd-l3" -f "$LAB_DIR/diskfacts.sh=/tests/diskfacts.sh" "$initrd"
out="$work/disk-boot"
rm -rf "$out"
mkdir -p "$out"
declare -A marker
for name in "${all_cases[@]}"; do
	marker[$name]=ptvmdisk$name$RANDOM$RANDOM
	"$LAB_DIR/mkdisk" "$name" "$kernel" "$initrd" \
		"console=ttyS0 panic=-1 quiet ptvm.test=diskfacts ptvm.end=exit${status[$name]} ${marker[$name]}" \
		"$out/$name.img"
done

echo "# disk-boot.sh: ptvm ($bin) in the lab, cases: ${cases[*]}"
labrc=0
lab_run_lab -o "$out" -t "${LAB_TIMEOUT:-1200}" --cwd "$LAB_REPO" \
	-d 'nvme,serial=bios0,drive=nvm0' -D "if=none,id=nvm0,file=$out/bios.img,format=raw" \
	-d 'nvme,serial=uefi0,drive=nvm1' -D "if=none,id=nvm1,file=$out/uefi.img,format=raw" -- \
	env LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-400}" \
	"$LAB_DIR/disk-boot.sh" --inner "$bin" "${cases[@]}" || labrc=$?

# checks: each command's status is a result, not a reason to stop
set +e
lab_check "$labrc" "the lab ran (run-in-lab exit $labrc)"

for name in "${cases[@]}"; do
	log="$out/$name.log" dbg="$out/$name.debugcon"
	if [ ! -f "$out/$name.rc" ]; then
		lab_check 1 "$name: ptvm ran"
		continue
	fi
	rc=$(cat "$out/$name.rc")
	# firmware output may precede the first line on the console
	lab_read_facts "$log" anywhere
	case $name in
	bios)
		# SeaBIOS logs each drive it registers with its size in sectors
		sectors=$(($(stat -c %s "$out/$name.img") / 512))
		grep -q "^drive .* s=$sectors\$" "$dbg" && grep -q '^Booting from Hard Disk' "$dbg"
		lab_check $? "$name: SeaBIOS found the passed-through disk ($sectors sectors) and booted from it"
		grep -aq '^SYSLINUX ' "$log"
		lab_check $? "$name: syslinux started from the disk (its banner on the console)"
		;;
	uefi)
		grep -aq 'BdsDxe: starting Boot[0-9A-F]* "UEFI .*NVMe' "$log"
		lab_check $? "$name: OVMF started a boot option on the NVMe disk"
		;;
	esac
	[ "$(lab_fact 'init reached.*')" -ge 1 ]
	lab_check $? "$name: guest init reached"
	[ "$(lab_fact "cmdline .* ${marker[$name]}.*")" = 1 ]
	lab_check $? "$name: the kernel command line came from the disk (marker ${marker[$name]})"
	if [ "$name" = uefi ]; then
		[ "$(lab_fact 'efi: booted through UEFI')" = 1 ]
	else
		[ "$(lab_fact 'efi: none')" = 1 ]
	fi
	lab_check $? "$name: the kernel booted through $([ "$name" = uefi ] && echo UEFI || echo BIOS)"
	[ "$(lab_fact "end exit${status[$name]}")" = 1 ] && [ "$rc" = "${status[$name]}" ]
	lab_check $? "$name: ptvm exited with the guest's status ${status[$name]} (exit $rc)"
done
lab_tap_finish "$out" "${cases[@]}"
