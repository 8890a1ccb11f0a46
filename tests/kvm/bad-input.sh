#!/usr/bin/env bash
# bad-input.sh: what ptvm run does with bad input and with a guest that
# crashes. Each case must end with a non-zero status and ONE stderr line that
# names the problem and the fix (a triple fault prints the registers too).
# Prints TAP.
#
# usage: bad-input.sh PTVM GUESTS_DIR   (GUESTS_DIR holds hello.bzimage and
#        fault.bzimage). Cases that need root (no permission on /dev/kvm, no
#        /dev/kvm) are skipped for other users; the crash case is skipped
#        without a usable /dev/kvm.
set -uo pipefail
ptvm=$1 guests=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0

# Print one TAP line: ok when $1 is 0.
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

# expect NAME STATUS PATTERN CMD...: CMD exits STATUS and prints exactly one
# stderr line matching PATTERN (an extended regular expression).
expect() {
	local name=$1 want=$2 pat=$3 rc lines
	shift 3
	"$@" > "$tmp/out" 2> "$tmp/err" < /dev/null
	rc=$?
	lines=$(wc -l < "$tmp/err")
	if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && grep -Eq -e "$pat" "$tmp/err"; then
		check 0 "$name: status $rc, one line: $(cat "$tmp/err")"
	else
		check 1 "$name: want status $want and one line matching /$pat/"
		echo "# got status $rc, $lines lines:"
		sed 's/^/#   /' "$tmp/err"
	fi
}

hello=$guests/hello.bzimage
expect "no --kernel" 2 "--kernel" "$ptvm" run
expect "unknown option" 2 "unknown option '--bogus'" "$ptvm" run --kernel "$hello" --bogus
expect "bad memory size" 2 "--memory.*12Q" "$ptvm" run --kernel "$hello" --memory 12Q
expect "too many cpus" 2 "--cpus" "$ptvm" run --kernel "$hello" --cpus 999
expect "bad device address" 2 "host=" "$ptvm" run --kernel "$hello" --device vfio,host=zz:1
expect "missing kernel file" 1 "/nonexistent/vmlinuz.*(No such file|not found|check the path)" \
	"$ptvm" run --kernel /nonexistent/vmlinuz
printf 'not a kernel' > "$tmp/notbz"
expect "not a bzImage" 1 "not a Linux bzImage" "$ptvm" run --kernel "$tmp/notbz"
truncate -s 200M "$tmp/big.initrd"
expect "too little memory for kernel and initrd" 1 "--memory" \
	"$ptvm" run --kernel "$hello" --initrd "$tmp/big.initrd" --memory 64M
expect "missing initrd" 1 "/nonexistent/initrd" "$ptvm" run --kernel "$hello" --initrd /nonexistent/initrd
expect "serial file in a missing folder" 1 "serial.*check the path" \
	"$ptvm" run --kernel "$hello" --serial file:/nonexistent/dir/log

if [ "$(id -u)" = 0 ] && command -v setpriv > /dev/null && [ -e /dev/kvm ] &&
	[ "$(stat -c %a /dev/kvm)" != 666 ]; then
	expect "no permission on /dev/kvm" 1 "no permission to open /dev/kvm.*kvm group" \
		setpriv --reuid=65534 --regid=65534 --clear-groups "$ptvm" run --kernel "$hello"
else
	n=$((n + 1)); echo "ok $n - no permission on /dev/kvm # SKIP needs root, setpriv and a /dev/kvm not open to all"
fi
if [ "$(id -u)" = 0 ] && command -v unshare > /dev/null; then
	expect "no /dev/kvm" 1 "/dev/kvm does not exist.*modprobe" \
		unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" run --kernel "$1"' "$ptvm" "$hello"
else
	n=$((n + 1)); echo "ok $n - no /dev/kvm # SKIP needs root and unshare"
fi

# A guest triple fault: the registers, then status 1.
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	"$ptvm" run --kernel "$guests/fault.bzimage" --cmdline fault=triple > "$tmp/out" 2> "$tmp/err"
	rc=$?
	grep -q "triple fault" "$tmp/err" && grep -Eq "rip [0-9a-f]{16}" "$tmp/err" && [ "$rc" = 1 ]
	check $? "guest triple fault: registers printed, status $rc"
else
	n=$((n + 1)); echo "ok $n - guest triple fault # SKIP no usable /dev/kvm"
fi
echo "1..$n"
[ "$failed" = 0 ]
