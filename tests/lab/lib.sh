# tests/lab/lib.sh: helpers shared by the lab scripts (run-in-lab, mkinitrd-l3,
# boot.sh, bench/boot/run). Source it from bash; it defines functions and a few
# variables and changes no shell options of the caller.
#
# Two kinds of helpers live here:
#   - on this machine (L1): finding the repository, the kernel cache, ptvm;
#   - inside the lab (L2): copying a VMM to tmpfs, building a VMM command line
#     for ptvm or QEMU, and the exit status each VMM gives for a guest's choice.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_REPO=$(cd "$LAB_DIR/../.." && pwd)
LAB_CACHE=${LAB_CACHE:-/var/tmp/lab-cache}

# Print one error line naming the problem and exit with status ${2:-2}.
lab_die() {
	echo "${0##*/}: $1" >&2
	exit "${2:-2}"
}

# Print the calling script's header comment (its usage), without the #! line.
lab_usage() {
	awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"
}

# Exit 77 (meson's "skipped") when a tool the lab cannot run without is missing.
lab_require_or_skip() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 && continue
		echo "${0##*/}: SKIP: $tool is missing (scripts/setup-deps installs it)" >&2
		exit 77
	done
}

# Fail (status 2) when a tool is missing: for tools the lab itself does not need.
lab_require() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 ||
			lab_die "$tool is missing: run scripts/setup-deps (Debian: apt-get install the package that has it)"
	done
}

# Decompress one kernel module file (.ko, .ko.xz, .ko.zst) to stdout.
lab_modcat() {
	case "$1" in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -qdc "$1" ;;
	*) cat "$1" ;;
	esac
}

# Print the folder holding Debian kernel series $1 (6.1 or 6.12) unpacked under
# LAB_CACHE, downloading the package once. Needs `apt-get update` to have run.
lab_kernel_dir() {
	local series=${1:-6.1} meta kdir pkg
	case "$series" in
	6.1) meta=linux-image-amd64 kdir="$LAB_CACHE/kernel" ;;
	*) meta=linux-image-$series-amd64 kdir="$LAB_CACHE/kernel-$series" ;;
	esac
	if [ ! -f "$kdir/.done" ]; then
		mkdir -p "$LAB_CACHE" || lab_die "cannot create $LAB_CACHE (set LAB_CACHE to a writable folder)"
		# one download at a time: several labs may start at once
		(
			flock 9
			[ -f "$kdir/.done" ] && exit 0
			rm -rf "$kdir" && mkdir -p "$kdir"
			pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
			[ -n "$pkg" ] || lab_die "cannot resolve the Debian package $meta: run 'apt-get update' (scripts/setup-deps does)"
			echo "${0##*/}: downloading $pkg into $kdir (once)" >&2
			(cd "$kdir" && apt-get download "$pkg" >"$kdir/download.log" 2>&1) ||
				lab_die "apt-get download $pkg failed (see $kdir/download.log; run 'apt-get update' first)"
			(cd "$kdir" && dpkg-deb -x ./*.deb root && rm -f ./*.deb) ||
				lab_die "cannot unpack $pkg into $kdir"
			touch "$kdir/.done"
		) 9> "$LAB_CACHE/.kernel-download.lock" || exit
	fi
	echo "$kdir"
}

# Print the path of the kernel image of series $1 (downloaded if needed).
lab_vmlinuz() {
	local kdir f
	kdir=$(lab_kernel_dir "${1:-6.1}") || exit
	f=$(ls "$kdir"/root/boot/vmlinuz-* 2>/dev/null | head -1)
	[ -n "$f" ] || lab_die "no vmlinuz in $kdir/root/boot (remove $kdir and retry)"
	echo "$f"
}

# Print the path of the ptvm binary: $PTVM, else the newest build*/ptvm.
lab_find_ptvm() {
	local f
	if [ -n "${PTVM:-}" ]; then
		[ -x "$PTVM" ] || lab_die "PTVM=$PTVM is not an executable"
		echo "$PTVM"
		return
	fi
	f=$(ls -t "$LAB_REPO"/build*/ptvm 2>/dev/null | head -1)
	[ -n "$f" ] || lab_die "no ptvm binary: build it (meson setup build && ninja -C build) or set PTVM=PATH"
	echo "$f"
}

# Print a hash that changes whenever any of the given files changes.
lab_hash_files() {
	cat "$@" | sha256sum | cut -c1-16
}

# Print size $1 ("512M", "2G") in MiB; fail for other forms.
lab_size_mib() {
	case "$1" in
	*[0-9]M) echo "${1%M}" ;;
	*[0-9]G) echo $((${1%G} * 1024)) ;;
	*) lab_die "memory size '$1': give it as NUMBER M or NUMBER G" ;;
	esac
}

# Parse [--work DIR] [-h] [CASE...] for a script with named cases: sets work
# as lab_parse_work_option does, and the array cases to the CASE arguments or,
# when none are given, to the array all_cases the script defines.
lab_parse_work_and_cases() {
	work=${LAB_WORK:-$LAB_REPO/build-lab-work}
	while [ $# -gt 0 ]; do
		case "$1" in
		--work) work=$2; shift 2 ;;
		-h|--help) lab_usage; exit 0 ;;
		-*) lab_die "unknown option $1 (see --help)" ;;
		*) break ;;
		esac
	done
	cases=("$@")
	[ ${#cases[@]} -gt 0 ] || cases=("${all_cases[@]}")
}

# Parse the options of a lab script that takes only --work DIR and -h/--help
# into the caller's variable work (default $LAB_WORK, else build-lab-work/ in
# the repository).
lab_parse_work_option() {
	work=${LAB_WORK:-$LAB_REPO/build-lab-work}
	while [ $# -gt 0 ]; do
		case "$1" in
		--work) work=$2; shift 2 ;;
		-h|--help) lab_usage; exit 0 ;;
		*) lab_die "unknown argument $1 (see --help)" ;;
		esac
	done
}

# Print the absolute path of work folder $1, created if needed; fail for one
# under /tmp, which the lab (L2) cannot see.
lab_work_dir() {
	local work
	mkdir -p "$1" || lab_die "cannot create --work $1"
	work=$(cd "$1" && pwd) || exit
	case "$work" in
	/tmp|/tmp/*) lab_die "--work $work: L1's /tmp is not visible in the lab; use a folder outside /tmp" ;;
	esac
	echo "$work"
}

# Make $1 an empty folder for one lab run's output.
lab_fresh_dir() {
	rm -rf "$1" && mkdir -p "$1" || lab_die "cannot empty or create $1"
}

# Print the exit status case NAME ($2) recorded in $1/NAME.rc, or "none".
lab_case_rc() {
	cat "$1/$2.rc" 2>/dev/null || echo none
}

# Run run-in-lab with arguments "$@", its output as TAP comments ("# lab: ");
# return its exit status.
lab_run_lab() {
	"$LAB_DIR/run-in-lab" "$@" 2>&1 | sed 's/^/# lab: /'
	return "${PIPESTATUS[0]}"
}

# TAP results so far: lab_check counts them, the script prints the plan.
LAB_TAP_N=0
LAB_TAP_FAILED=0

# Print one TAP result: ok when status $1 is 0, else not ok (counted in
# LAB_TAP_FAILED); description $2.
lab_check() {
	LAB_TAP_N=$((LAB_TAP_N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $LAB_TAP_N - $2"
	else
		echo "not ok $LAB_TAP_N - $2"
		LAB_TAP_FAILED=$((LAB_TAP_FAILED + 1))
	fi
}

# Set LAB_FACTS to the lines the L3 guest printed on console file $1, with the
# "PTVM-L3: " marker removed and CRs dropped (the console may use CRLF). The
# marker must start the line, or with $2 = anywhere stand anywhere in it
# (firmware output may precede it on the same line).
lab_read_facts() {
	local re='^PTVM-L3: '
	[ "${2:-}" = anywhere ] && re='.*PTVM-L3: '
	LAB_FACTS=$(sed -n "s/\r\$//; s/$re//p" "$1" 2>/dev/null) || LAB_FACTS=
}

# Print how many lines of LAB_FACTS match regular expression $1 as a whole.
lab_fact() {
	grep -c -x -e "$1" <<< "$LAB_FACTS" || true
}

# Print, as TAP comments, the command and the last lines of the console
# (NAME.log) and the VMM's stderr (NAME.err) of case $2 whose files are in $1.
lab_show_case() {
	echo "# --- $2: $(cat "$1/$2.cmd" 2>/dev/null)"
	sed 's/\r$//' "$1/$2.log" 2>/dev/null | tail -n 15 | sed 's/^/# | /'
	tail -n 5 "$1/$2.err" 2>/dev/null | sed 's/^/# err| /'
}

# --- inside the lab (L2) -------------------------------------------------------

# Copy program $1 and every library ldd lists for it into folder $2 (a tmpfs):
# L2 reads this machine's files over 9p, slowly, so a VMM is run from a copy.
# Prints the path of the copy; run it with LD_LIBRARY_PATH=$2/lib.
lab_copy_program() {
	local prog=$1 dest=$2 lib
	mkdir -p "$dest/lib" || return
	cp "$prog" "$dest/" || return
	# the system's libraries, not copies made earlier for another program
	for lib in $(env -u LD_LIBRARY_PATH ldd "$prog" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
		[ -e "$dest/lib/${lib##*/}" ] && continue
		cp -L "$lib" "$dest/lib/" || return
	done
	echo "$dest/${prog##*/}"
}

# Copy the binary $2 of VMM $1 (ptvm or qemu) to /tmp/vmm and set what
# lab_vmm_argv and the copy need: LAB_PTVM_BIN or LAB_QEMU_BIN, LD_LIBRARY_PATH
# and, for QEMU, QEMU_MODULE_DIR (a copy would look for modules beside itself).
lab_install_vmm() {
	local copy
	copy=$(lab_copy_program "$2" /tmp/vmm) || lab_die "cannot copy $2 to /tmp/vmm"
	case "$1" in
	ptvm) LAB_PTVM_BIN=$copy ;;
	qemu) LAB_QEMU_BIN=$copy ;;
	*) lab_die "unknown VMM '$1' (use ptvm or qemu)" ;;
	esac
	export LD_LIBRARY_PATH=/tmp/vmm/lib
	export QEMU_MODULE_DIR=/usr/lib/x86_64-linux-gnu/qemu
}

# Fill the array LAB_VMM_ARGV with the command that boots KERNEL INITRD CMDLINE
# CPUS MEMORY under VMM ($1: ptvm or qemu), console on stdout. For ptvm,
# LAB_PTVM_BIN names the binary; for QEMU, LAB_QEMU_BIN (default
# qemu-system-x86_64). The QEMU command is the most comparable minimal one:
# q35 + KVM, no default devices, no config files, debug-exit at 0xf4. Both end
# on a guest reboot (--on-reboot exit, -no-reboot), so a panic=-1 guest stops.
lab_vmm_argv() {
	local vmm=$1 kernel=$2 initrd=$3 cmdline=$4 cpus=$5 memory=$6
	case "$vmm" in
	ptvm)
		LAB_VMM_ARGV=("${LAB_PTVM_BIN:?}" run --kernel "$kernel" --initrd "$initrd"
			--cmdline "$cmdline" --cpus "$cpus" --memory "$memory" --on-reboot exit)
		;;
	qemu)
		# -L: a copy of QEMU looks for its firmware beside itself, so name
		# Debian's folders (bios-256k.bin is in seabios, linuxboot in qemu)
		LAB_VMM_ARGV=("${LAB_QEMU_BIN:-qemu-system-x86_64}" -L /usr/share/qemu -L /usr/share/seabios
			-M q35 -enable-kvm -cpu host
			-smp "$cpus" -m "$memory" -nodefaults -no-user-config -display none
			-no-reboot -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=1
			-kernel "$kernel" -initrd "$initrd" -append "$cmdline")
		;;
	*)
		lab_die "unknown VMM '$vmm' (use ptvm or qemu)"
		;;
	esac
}

# Print the exit status VMM $1 gives when the guest ends with action $2
# (poweroff, reboot, or exitN = N written to the debug-exit port 0xf4).
# ptvm exits with N itself; QEMU's isa-debug-exit exits with (N << 1) | 1.
lab_expected_status() {
	local vmm=$1 action=$2 n
	case "$action" in
	poweroff | reboot) echo 0 ;; # both VMMs end on reboot here, with 0
	exit[0-9]*)
		n=${action#exit}
		if [ "$vmm" = qemu ]; then echo $(((n << 1 | 1) & 255)); else echo $((n & 255)); fi
		;;
	*) lab_die "no expected status for guest action '$action'" ;;
	esac
}

# Run case $1: the command "${@:2}" under timeout LAB_BOOT_TIMEOUT (default
# 240 s), stdin empty; write its command line to $OUT/NAME.cmd, its stdout to
# NAME.log, stderr to NAME.err and exit status to NAME.rc, and say how it
# ended. Returns 0 whatever the command did: its status is a result.
lab_run_case() {
	local name=$1 rc=0 t0
	shift
	printf '%q ' "$@" > "$OUT/$name.cmd"
	t0=$EPOCHREALTIME
	timeout -k 5 "${LAB_BOOT_TIMEOUT:-240}" "$@" \
		< /dev/null > "$OUT/$name.log" 2> "$OUT/$name.err" || rc=$?
	echo "$rc" > "$OUT/$name.rc"
	echo "case $name: ${1##*/} exit $rc after $(awk "BEGIN {printf \"%.1f\", $EPOCHREALTIME - $t0}") s"
}

# End a lab test's TAP output: print the plan; when a check failed, show each
# named case from folder $1 (command, console, stderr, and the firmware log if
# there is one) and exit 1; else exit 0.
lab_tap_finish() {
	local out=$1 name
	shift
	echo "1..$LAB_TAP_N"
	[ "$LAB_TAP_FAILED" -gt 0 ] || exit 0
	echo "# $LAB_TAP_FAILED check(s) failed; consoles, stderr and firmware logs in $out"
	for name in "$@"; do
		lab_show_case "$out" "$name"
		tail -n 12 "$out/$name.debugcon" 2>/dev/null | sed 's/^/# fw| /'
	done
	exit 1
}
