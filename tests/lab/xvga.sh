#!/usr/bin/env bash
# xvga.sh: a passed-through VGA card as the guest's primary display, under
# SeaBIOS, in ONE lab run. L1 gets QEMU's std VGA (00:10.0, bound to vfio-pci
# in L2); ptvm runs `--firmware seabios --device vfio,host=0000:00:10.0,x-vga=on`
# with an L3 Linux (vga=0x0f04 so it keeps the text screen). Checks:
#   - SeaBIOS's log (--debugcon) shows the card's option ROM found and run
#   - the L3 Linux sees the card as the boot VGA device (boot_vga = 1)
#   - the ROM shadow at 0xC0000 starts 55 aa (the option ROM was copied there)
#   - SeaBIOS's banner is in the card's text memory at 0xB8000 (its screen)
#   - the L3 console came up and ptvm ended with the guest's status
# and a bad-input case: x-vga=on on a device that is not VGA (QEMU's edu at
# 00:11.0) fails with one error line. Prints TAP.
# usage: xvga.sh [--work DIR]  (DIR outside /tmp). Exit: 0 all passed, 1 a
# check failed, 77 the lab cannot run here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

VGA=0000:00:10.0 EDU=0000:00:11.0

if [ "${1:-}" = --inner ]; then
	bin=$2 kernel=$3 initrd=$4
	lab_install_vmm ptvm "$bin"
	cp "$kernel" /tmp/vmlinuz
	cp "$initrd" /tmp/l3.cpio.gz
	lab_run_case vga "$LAB_PTVM_BIN" run --firmware seabios --kernel /tmp/vmlinuz --initrd /tmp/l3.cpio.gz \
		--cmdline "console=ttyS0 vga=0x0f04 panic=-1 quiet ptvm.test=vgafacts ptvm.end=exit44" \
		--device "vfio,host=$VGA,x-vga=on" --memory 512M --on-reboot exit \
		--debugcon "file:$OUT/vga.debugcon"
	lab_run_case notvga "$LAB_PTVM_BIN" -q run --kernel /tmp/vmlinuz --memory 512M \
		--device "vfio,host=$EDU,x-vga=on"
	exit 0
fi

lab_parse_work_option "$@"
lab_require_or_skip qemu-system-x86_64
[ -f /usr/share/seabios/bios-256k.bin ] || { echo "xvga.sh: SKIP: seabios is not installed" >&2; exit 77; }
bin=$(lab_find_ptvm)
work=$(lab_work_dir "$work")
kernel=$(lab_vmlinuz 6.1)
initrd="$work/l3-xvga.cpio.gz"
"$LAB_DIR/mkinitrd-l3" -f "$LAB_DIR/vgafacts.sh=/tests/vgafacts.sh" "$initrd"
out="$work/xvga"
rm -rf "$out"
mkdir -p "$out"

echo "# xvga.sh: ptvm ($bin) in the lab"
labrc=0
lab_run_lab -o "$out" -t "${LAB_TIMEOUT:-900}" --cwd "$LAB_REPO" -d VGA -d edu -- \
	"$LAB_DIR/xvga.sh" --inner "$bin" "$kernel" "$initrd" || labrc=$?

set +e
lab_check "$labrc" "the lab ran (run-in-lab exit $labrc)"
rc=$(cat "$out/vga.rc" 2>/dev/null || echo none)
lab_read_facts "$out/vga.log" anywhere
grep -aEq 'Running option rom at c[0-9a-f]*:' "$out/vga.debugcon"
lab_check $? "vga: SeaBIOS ran the passed-through card's option ROM (debugcon)"
[ "$(lab_fact 'init reached.*')" -ge 1 ]
lab_check $? "vga: L3 init reached"
[ "$(lab_fact 'vga 0000:00:01.0 0x1234:0x1111 boot_vga=1')" = 1 ]
lab_check $? "vga: the L3 Linux sees the card (1234:1111) as the boot VGA device"
[ "$(lab_fact 'rom-shadow 55aa')" = 1 ]
lab_check $? "vga: the option ROM is shadowed at 0xC0000 (55 aa)"
[ "$(lab_fact 'vga-text .*SeaBIOS.*')" = 1 ]
lab_check $? "vga: SeaBIOS's banner is on the card's own text screen (0xB8000)"
[ "$rc" = 44 ]
lab_check $? "vga: ptvm ended with the guest's status 44 (got $rc)"
nrc=$(cat "$out/notvga.rc" 2>/dev/null || echo none)
[ "$nrc" != 0 ] && [ "$nrc" != none ] && [ "$(wc -l < "$out/notvga.err")" = 1 ] &&
	grep -q 'VGA' "$out/notvga.err"
lab_check $? "notvga: x-vga=on on a non-VGA device is one error line (status $nrc: $(head -1 "$out/notvga.err" 2>/dev/null))"
lab_tap_finish "$out" vga notvga
