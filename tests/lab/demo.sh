#!/usr/bin/env bash
# demo.sh: the README's demo. Boots the Debian kernel with a busybox initramfs
# under ptvm, with QEMU's NVMe controller (backed by a small disk image on this
# machine) passed through with VFIO, and shows the guest's console: the guest's
# own nvme driver finds the disk, reads what the host wrote, writes a line that
# the host then reads back from the image.
#
# This machine rarely has a spare device and an IOMMU, so it runs in the nested
# lab (tests/lab/run-in-lab, docs/lab.md): the device, the IOMMU and a real
# /dev/kvm live inside an emulated machine. Takes about a minute.
#
# usage: tests/lab/demo.sh [--work DIR]    (DIR outside /tmp; default
#        build-lab-work/ in the repository). PTVM names the binary (default:
#        the newest build*/ptvm).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

NVME=0000:00:10.0

# --- inside the lab: one ptvm run with the NVMe passed through ---------------
if [ "${1:-}" = --inner ]; then
	bin=$2 kernel=$3 initrd=$4
	lab_install_vmm ptvm "$bin"
	cp "$kernel" /tmp/vmlinuz
	cp "$initrd" /tmp/l3.cpio.gz
	set -x
	exec "$LAB_PTVM_BIN" -v run --kernel /tmp/vmlinuz --initrd /tmp/l3.cpio.gz --memory 512M --cpus 2 \
		--cmdline "console=ttyS0 panic=-1 quiet ptvm.test=nvme ptvm.end=exit" \
		--on-reboot exit --device vfio,host=$NVME
fi

work=${LAB_WORK:-$LAB_REPO/build-lab-work}
[ "${1:-}" = --work ] && work=$2
work=$(lab_work_dir "$work")
lab_require_or_skip qemu-system-x86_64
bin=$(lab_find_ptvm)
kernel=$(lab_vmlinuz 6.1)
initrd="$work/l3-demo.cpio.gz"
"$LAB_DIR/mkinitrd-l3" -m nvme -f "$LAB_DIR/vfio/nvme.sh=/tests/nvme.sh" "$initrd"
img="$work/demo-nvme.img"
rm -f "$img"
truncate -s 64M "$img"
printf 'PTVM-NVME-PATTERN' | dd of="$img" conv=notrunc status=none

echo "demo: ptvm ($bin) boots Linux with an NVMe controller passed through, inside the lab"
set +e
"$LAB_DIR/run-in-lab" -t 600 --cwd "$LAB_REPO" -d 'nvme,serial=demo0,drive=nvm0' \
	-D "if=none,id=nvm0,file=$img,format=raw" -- \
	"$LAB_DIR/demo.sh" --inner "$bin" "$kernel" "$initrd"
rc=$?
set -e
echo
echo "demo: ptvm exited with status $rc (the guest's nvme test result)"
written=$(dd if="$img" bs=1 skip=4096 count=18 status=none | tr -d '\0')
echo "demo: sector 8 of the disk image now holds: '$written'"
[ "$rc" = 0 ] && [ "$written" = PTVM-WRITTEN-BY-L3 ]
