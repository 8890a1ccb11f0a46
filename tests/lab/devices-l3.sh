# devices-l3.sh: runs inside the L3 guest (busybox sh) as ptvm.test=devices.
# Checks what Linux makes of ptvm's legacy devices (devices/): the 16550A and
# its IRQ, the i8042, the RTC (read, set through SET mode, alarm IRQ 8), the
# ACPI PM timer and SCI. One "PTVM-L3: dev ok|FAIL ..." line per check; the
# exit status is the number of failures.
fail=0
ok() { echo "PTVM-L3: dev ok $*"; }
bad() { echo "PTVM-L3: dev FAIL $*"; fail=$((fail + 1)); }
check() { if eval "$1"; then ok "$2"; else bad "$2"; fi; }

# Sum of the per-CPU counts of IRQ $1 in /proc/interrupts (empty if absent).
irq_count() {
	awk -v irq="$1:" '$1 == irq { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts
}
# The /proc/interrupts line of IRQ $1.
irq_line() { awk -v irq="$1:" '$1 == irq' /proc/interrupts; }

# Serial: the console is ttyS0, opened by init, so its IRQ is in use.
echo "PTVM-L3: dev irq4: $(irq_line 4)"
n=$(irq_count 4)
check '[ "${n:-0}" -gt 0 ] && irq_line 4 | grep -q ttyS0' "COM1 IRQ 4 serves ttyS0 (${n:-no} interrupts)"
check 'grep -q "uart:16550A" /proc/tty/driver/serial 2>/dev/null || dmesg | grep -q "ttyS0 at I/O 0x3f8.*16550A"' \
	"ttyS0 is a 16550A"

# i8042: the controller passed the probe and owns IRQ 1.
check 'irq_line 1 | grep -q i8042' "i8042 holds IRQ 1"
check '[ -e /sys/bus/serio/devices/serio0 ]' "serio0 (i8042 KBD port) exists"

# RTC: rtc_cmos, the time agrees with the system clock it set at boot.
check 'grep -q rtc_cmos /sys/class/rtc/rtc0/name 2>/dev/null' "rtc0 is rtc_cmos"
rtc=$(cat /sys/class/rtc/rtc0/since_epoch 2>/dev/null) now=$(date +%s)
check '[ -n "$rtc" ] && [ $((rtc - now)) -le 2 ] && [ $((now - rtc)) -le 2 ]' \
	"RTC ${rtc:-?} agrees with the system clock $now"
check 'hwclock -r -u >/dev/null 2>&1' "hwclock reads the RTC"

# RTC set: the guest writes a new time (SET mode) and reads it back running.
date -u -s "2031-05-06 07:08:09" >/dev/null
hwclock -w -u 2>/dev/null
sleep 2
rtc=$(cat /sys/class/rtc/rtc0/since_epoch 2>/dev/null)
want=1935817689 # 2031-05-06 07:08:09 UTC
check '[ -n "$rtc" ] && [ "$rtc" -ge $((want + 1)) ] && [ "$rtc" -le $((want + 5)) ]' \
	"RTC set to 2031-05-06 07:08:09 and running (since_epoch ${rtc:-?}, want $want+2)"

# RTC alarm: IRQ 8 fires (Linux's update interrupts are built on it too).
c0=$(irq_count 8)
echo 0 > /sys/class/rtc/rtc0/wakealarm 2>/dev/null
echo +2 > /sys/class/rtc/rtc0/wakealarm 2>/dev/null
sleep 4
c1=$(irq_count 8)
echo "PTVM-L3: dev irq8: $(irq_line 8)"
check '[ -n "$c1" ] && [ "$c1" -gt "${c0:-0}" ]' "RTC alarm raised IRQ 8 (${c0:-none} -> ${c1:-none})"

# ACPI PM: the PM timer is a usable clocksource and the SCI is wired.
check 'grep -qw acpi_pm /sys/devices/system/clocksource/clocksource0/available_clocksource' \
	"acpi_pm clocksource available"
check 'irq_line 9 | grep -q acpi' "SCI (IRQ 9) registered for acpi"

echo "PTVM-L3: dev failures=$fail"
exit $fail
