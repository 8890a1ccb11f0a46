# tests/lab/diskfacts.sh: L3 test for booting from a disk
# (mkinitrd-l3 -f ...=/tests/diskfacts.sh, ptvm.test=diskfacts; tests/lab/disk-boot.sh).
# Prints the kernel command line the boot loader gave (syslinux.cfg or the
# systemd-boot entry on the disk, see tests/lab/mkdisk) and whether the
# kernel came up through UEFI. Exit 0.
say() { echo "PTVM-L3: $*"; }
say "cmdline $(cat /proc/cmdline)"
if [ -d /sys/firmware/efi ]; then
	say "efi: booted through UEFI"
else
	say "efi: none"
fi
exit 0
