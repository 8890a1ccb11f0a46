# tests/lab/vgafacts.sh: L3 test for x-vga (mkinitrd-l3 -f ...=/tests/vgafacts.sh,
# ptvm.test=vgafacts; tests/lab/xvga.sh). Prints, for each display-class PCI
# device, its ids and boot_vga flag, the first bytes of the legacy video ROM
# shadow at 0xC0000 (55 aa when the firmware ran the card's option ROM), and
# the text the firmware or the kernel left on the card's screen at 0xB8000.
# Exit 0.
say() { echo "PTVM-L3: $*"; }
for d in /sys/bus/pci/devices/*; do
	case $(cat "$d/class") in
	0x03*) say "vga ${d##*/} $(cat "$d/vendor"):$(cat "$d/device") boot_vga=$(cat "$d/boot_vga" 2>/dev/null || echo none)" ;;
	esac
done
say "rom-shadow $(dd if=/dev/mem bs=1 skip=$((0xc0000)) count=2 2>/dev/null | od -An -tx1 | tr -d ' \n')"
# text mode: character, attribute, character, ... from 0xB8000 (first 5 rows)
text=$(dd if=/dev/mem bs=1 skip=$((0xb8000)) count=800 2>/dev/null | od -An -v -tu1 |
	awk '{ for (i = 1; i <= NF; i++) if (n++ % 2 == 0 && $i >= 32 && $i < 127) printf "%c", $i }')
say "vga-text $(echo "$text" | tr -s ' ')"
exit 0
