#!/usr/bin/env bash
# host-tools.sh: the host tools (ptvm check, groups, bind, unbind) against the
# real sysfs of the lab's L2 host, in ONE lab run with two devices left on
# their L2 drivers (--no-bind):
#   00:10.0 edu             no driver in L2
#   00:11.0 virtio-rng-pci  on virtio-pci (a real host driver)
# Checks: check fails with the fixing command for a device not on vfio-pci and
# passes once it is; bind then unbind returns each device to exactly its
# driver and driver_override; a bind that fails midway restores the devices
# already bound; --group; and a managed device (ptvm run --device
# vfio,host=...,managed=on) goes back to virtio-pci when ptvm gets SIGTERM.
# Prints TAP.
#
# usage: host-tools.sh [--work DIR]
#   --work  a folder outside /tmp for the lab's output (default $LAB_WORK,
#           else build-lab-work/ in the repository)
# Environment: PTVM (the ptvm binary; default the newest build*/ptvm).
# Exit: 0 all passed, 1 a check failed, 77 the lab cannot run here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

EDU=0000:00:10.0
RNG=0000:00:11.0

# --- inside the lab: run the steps, one result line per check in $OUT/results --
# usage: host-tools.sh --inner PTVM KERNEL INITRD
if [ "${1:-}" = --inner ]; then
	set +e    # a failed check is a result, not a reason to stop
	ptvm=$(lab_copy_program "$2" /tmp/vmm)
	export LD_LIBRARY_PATH=/tmp/vmm/lib
	kernel=$3 initrd=$4
	res="$OUT/results"
	: > "$res"
	# Record one check: status $1 (0 = pass), description $2.
	result() { echo "$1|$2" >> "$res"; }
	# "driver override" of a device as sysfs shows it now.
	state() {
		local d=/sys/bus/pci/devices/$1 drv=none
		[ -e "$d/driver" ] && drv=$(basename "$(readlink "$d/driver")")
		echo "$drv $(cat "$d/driver_override")"
	}
	# Run ptvm with output in $OUT/NAME.out; status in $rc.
	run() {
		local name=$1
		shift
		"$ptvm" "$@" > "$OUT/$name.out" 2>&1
		rc=$?
		echo "\$ ptvm $* -> $rc" >> "$OUT/commands.log"
	}

	edu0=$(state $EDU)
	rng0=$(state $RNG)
	echo "before: edu '$edu0', rng '$rng0'" >> "$OUT/commands.log"
	[ "${rng0%% *}" = virtio-pci ]
	result $? "the rng device starts on virtio-pci (got '$rng0')"

	run groups groups
	[ $rc = 0 ] && grep -q "$EDU" "$OUT/groups.out" && grep -q "$RNG" "$OUT/groups.out"
	result $? "groups lists both devices (exit $rc)"
	run groups-json groups --json
	[ $rc = 0 ] && python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["groups"]; assert any(d["address"]==sys.argv[2] and d["driver"]=="virtio-pci" for x in g for d in x["devices"])' "$OUT/groups-json.out" $RNG
	result $? "groups --json is JSON and shows $RNG on virtio-pci"

	run check-edu-unbound check $EDU
	[ $rc = 1 ] && grep -q -- "-- fix: sudo ptvm bind $EDU\$" "$OUT/check-edu-unbound.out"
	result $? "check $EDU (no driver) fails with the fix 'sudo ptvm bind $EDU' (exit $rc)"
	run check-rng-host check $RNG
	[ $rc = 1 ] && grep -q -- "on virtio-pci, not vfio-pci -- fix: sudo ptvm bind $RNG\$" "$OUT/check-rng-host.out"
	result $? "check $RNG (virtio-pci) fails with the fix 'sudo ptvm bind $RNG' (exit $rc)"

	run bind-edu bind $EDU
	[ $rc = 0 ] && [ "$(state $EDU)" = "vfio-pci vfio-pci" ] && [ -f /run/ptvm/$EDU ]
	result $? "bind $EDU: on vfio-pci, state file written (exit $rc, now '$(state $EDU)')"
	run check-edu-bound check $EDU
	[ $rc = 0 ] && grep -q "^ready: $EDU can be passed through now" "$OUT/check-edu-bound.out"
	result $? "check $EDU passes once it is on vfio-pci (exit $rc)"
	run check-edu-json check --json $EDU --memory 256M
	[ $rc = 0 ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["ok"] and r["devices"][0]["driver"]=="vfio-pci"' "$OUT/check-edu-json.out"
	result $? "check --json $EDU --memory 256M says ok (exit $rc)"
	run unbind-edu unbind $EDU
	[ $rc = 0 ] && [ "$(state $EDU)" = "$edu0" ] && [ ! -e /run/ptvm/$EDU ]
	result $? "unbind $EDU: back to exactly '$edu0' (exit $rc, now '$(state $EDU)')"

	run bind-rng bind $RNG
	[ $rc = 0 ] && [ "$(state $RNG)" = "vfio-pci vfio-pci" ]
	result $? "bind $RNG: virtio-pci -> vfio-pci (exit $rc, now '$(state $RNG)')"
	run check-rng-bound check $RNG
	[ $rc = 0 ]
	result $? "check $RNG passes on vfio-pci (exit $rc)"
	run unbind-rng unbind $RNG
	[ $rc = 0 ] && [ "$(state $RNG)" = "$rng0" ] && [ ! -e /run/ptvm/$RNG ]
	result $? "unbind $RNG: back to exactly '$rng0' (exit $rc, now '$(state $RNG)')"

	# all or nothing: the second address does not exist, so the first is given back
	run bind-rollback bind $RNG 0000:00:1e.0
	[ $rc = 1 ] && [ "$(state $RNG)" = "$rng0" ] && [ ! -e /run/ptvm/$RNG ]
	result $? "bind $RNG 0000:00:1e.0 fails and leaves $RNG on '$rng0' (exit $rc, now '$(state $RNG)')"

	run bind-group bind --group $RNG $EDU
	[ $rc = 0 ] && [ "$(state $RNG)" = "vfio-pci vfio-pci" ] && [ "$(state $EDU)" = "vfio-pci vfio-pci" ]
	result $? "bind --group $RNG $EDU: both on vfio-pci (exit $rc)"
	run unbind-group unbind --group $EDU $RNG
	[ $rc = 0 ] && [ "$(state $RNG)" = "$rng0" ] && [ "$(state $EDU)" = "$edu0" ]
	result $? "unbind --group: both back to their old state (exit $rc)"

	# managed: ptvm run binds the device, SIGTERM ends it, the device goes back
	cp "$kernel" /tmp/vmlinuz
	cp "$initrd" /tmp/l3.cpio.gz
	"$ptvm" run --kernel /tmp/vmlinuz --initrd /tmp/l3.cpio.gz --memory 256M \
		--cmdline "console=ttyS0 quiet ptvm.end=hang" \
		--device vfio,host=$RNG,managed=on > "$OUT/managed.log" 2>&1 &
	pid=$!
	bound=1
	for _ in $(seq 1 100); do
		[ "$(state $RNG)" = "vfio-pci vfio-pci" ] && { bound=0; break; }
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	sleep 2
	alive=1
	kill -0 $pid 2>/dev/null && alive=0
	kill -TERM $pid 2>/dev/null
	wait $pid
	mrc=$?
	result $bound "managed=on: ptvm run put $RNG on vfio-pci"
	result $alive "managed=on: ptvm was still running 2 s later (see managed.log)"
	# only meaningful if ptvm had bound it: otherwise it never left
	[ $bound = 0 ] && [ $mrc = 143 ] && [ "$(state $RNG)" = "$rng0" ] && [ ! -e /run/ptvm/$RNG ]
	result $? "managed=on: after SIGTERM (exit $mrc) $RNG is back on '$rng0' (now '$(state $RNG)')"
	exit 0
fi

# --- on this machine: run the lab, then turn the results into TAP --------------
lab_parse_work_option "$@"
lab_require_or_skip qemu-system-x86_64
bin=$(lab_find_ptvm)
work=$(lab_work_dir "$work")
kernel=$(lab_vmlinuz 6.1)
initrd="$work/l3.cpio.gz"
"$LAB_DIR/mkinitrd-l3" "$initrd"
out="$work/host-tools"
lab_fresh_dir "$out"

echo "# host-tools.sh: $bin in the lab"
labrc=0
lab_run_lab --no-bind -d edu -d virtio-rng-pci -o "$out" -t "${LAB_TIMEOUT:-900}" \
	--cwd "$LAB_REPO" -- "$LAB_DIR/host-tools.sh" --inner "$bin" "$kernel" "$initrd" || labrc=$?

lab_check "$labrc" "the lab ran (run-in-lab exit $labrc)"
while IFS='|' read -r st desc; do
	lab_check "$st" "$desc"
done < <(cat "$out/results" 2>/dev/null)
echo "1..$LAB_TAP_N"
if [ "$LAB_TAP_FAILED" -gt 0 ]; then
	echo "# $LAB_TAP_FAILED check(s) failed; each command's output is in $out (NAME.out, commands.log, managed.log)"
	sed 's/^/# | /' "$out/commands.log" 2>/dev/null || true
	exit 1
fi
exit 0
