# tests/lab/fwfacts.sh: L3 test for the firmware boot path
# (mkinitrd-l3 -f ...=/tests/fwfacts.sh, ptvm.test=fwfacts; tests/lab/firmware.sh).
# Prints what the firmware handed over: SMBIOS strings (/sys/class/dmi/id),
# the hypervisor the kernel detected (CPUID leaves), whether it booted
# through UEFI; then, with ptvm.efivar=..., works on a UEFI variable that
# must persist in ptvm's vars file:
# ptvm.efivar=write  create PtvmTest-<guid> (non-volatile) holding a value
#                    taken from ptvm.efivar_value=WORD
# ptvm.efivar=check  print the variable's value as "PTVM-L3: efivar value=WORD"
# Exit 0 on success; 1 when an efivar step fails.
say() { echo "PTVM-L3: $*"; }
guid=7b1f3b51-93f8-4a39-8f5e-5f2b0a7c1d01
var=/sys/firmware/efi/efivars/PtvmTest-$guid
mode= value=
for kv in $(cat /proc/cmdline); do
	case $kv in
	ptvm.efivar=*) mode=${kv#*=} ;;
	ptvm.efivar_value=*) value=${kv#*=} ;;
	esac
done
for f in bios_vendor sys_vendor product_name; do
	say "dmi $f=$(cat /sys/class/dmi/id/$f 2>/dev/null)"
done
say "hypervisor: $(dmesg | sed -n 's/.*Hypervisor detected: //p' | head -1)"
say "kvm signature: $(dmesg | grep -c 'Booting paravirtualized kernel on KVM')"
[ -n "$mode" ] || exit 0
if [ ! -d /sys/firmware/efi ]; then
	say "efivar: no /sys/firmware/efi (not booted through UEFI)"
	exit 1
fi
say "efi: booted through UEFI"
mkdir -p /sys/firmware/efi/efivars
mount -t efivarfs none /sys/firmware/efi/efivars 2>/dev/null ||
	grep -q efivarfs /proc/mounts || { say "efivar: cannot mount efivarfs"; exit 1; }
case $mode in
write)
	[ -e "$var" ] && chattr -i "$var" 2>/dev/null && rm -f "$var"
	# 4 attribute bytes: NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS
	{ printf '\007\000\000\000'; printf '%s' "$value"; } > /tmp/efivar.bin
	cat /tmp/efivar.bin > "$var" || { say "efivar: write failed"; exit 1; }
	say "efivar written value=$value"
	;;
check)
	[ -e "$var" ] || { say "efivar: PtvmTest variable missing"; exit 1; }
	say "efivar value=$(dd if="$var" bs=1 skip=4 2>/dev/null)"
	;;
*)
	say "efivar: give ptvm.efivar=write or check"
	exit 1
	;;
esac
exit 0
