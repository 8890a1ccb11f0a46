#!/usr/bin/env python3
"""Run one test guest (guests/<name>.bzimage) under ptvm and judge it.

The guest judges itself: it prints PASS:/FAIL:/SKIP: lines and a SUMMARY
to COM1 and leaves through the debug-exit port with its failure count.
This script checks the exit status, that the serial log has a SUMMARY (or
the lines given with --expect), no FAIL: lines, no --forbid lines and no
EXCEPTION: line unless one is expected.

Exit status: 0 pass, 1 fail, 77 skip (no usable /dev/kvm, or ptvm not built).

--vmm qemu runs the same guest under QEMU q35 with TCG instead (a
cross-check of the guests themselves; needs no KVM). QEMU's firmware
(SeaBIOS) differs from ptvm's direct boot in known ways, so the guest gets
allow-rsdt bp-rsdp=optional allow-fw-reserved timing=loose on its command
line there (TCG loses timer ticks when the host is busy),
and devices=N is dropped (q35 has its built-in ICH9 functions).
"""
import argparse
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
KVM_GET_API_VERSION = 0xAE00
QEMU_EXTRA = "allow-rsdt bp-rsdp=optional allow-fw-reserved timing=loose"


def kvm_usable():
    """None if /dev/kvm can be opened and speaks API 12, else the reason."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        return "cannot open /dev/kvm: %s" % e.strerror
    try:
        ver = fcntl.ioctl(fd, KVM_GET_API_VERSION)
    except OSError as e:
        return "KVM_GET_API_VERSION failed: %s" % e.strerror
    finally:
        os.close(fd)
    return None if ver == 12 else "unexpected KVM API version %d" % ver


def ptvm_command(a, log):
    return [a.ptvm, "run", "--kernel", a.guest, "--cmdline", a.cmdline,
            "--cpus", str(a.cpus), "--memory", a.memory, "--serial", "file:" + log] + a.ptvm_arg


def qemu_command(a, log):
    return ["qemu-system-x86_64", "-M", "q35", "-accel", "tcg", "-display", "none",
            "-monitor", "none", "-no-reboot", "-serial", "file:" + log,
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x01",
            "-smp", str(a.cpus), "-m", a.memory, "-kernel", a.guest,
            "-append", " ".join([QEMU_EXTRA] +
                                [w for w in a.cmdline.split() if not w.startswith("devices=")])] + a.qemu_arg


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ptvm", help="path of the ptvm binary")
    p.add_argument("--vmm", choices=["ptvm", "qemu"], default="ptvm")
    p.add_argument("--guest", required=True, help="the .bzimage to boot")
    p.add_argument("--cmdline", default="")
    p.add_argument("--cpus", type=int, default=1)
    p.add_argument("--memory", default="512M")
    p.add_argument("--expect-status", type=int, default=0)
    p.add_argument("--expect", action="append", default=[],
                   help="a line (substring) the serial log must contain")
    p.add_argument("--forbid", action="append", default=[],
                   help="a line (substring) the serial log must not contain")
    p.add_argument("--ptvm-arg", action="append", default=[],
                   help="an extra argument for ptvm run (ignored with --vmm qemu)")
    p.add_argument("--qemu-arg", action="append", default=[],
                   help="an extra argument for QEMU (ignored with --vmm ptvm)")
    p.add_argument("--no-summary", action="store_true",
                   help="the guest prints no SUMMARY line")
    p.add_argument("--timeout", type=float, default=120)
    a = p.parse_args()

    if a.vmm == "ptvm":
        if not a.ptvm or not os.access(a.ptvm, os.X_OK):
            print("SKIP: ptvm is not built (%s)" % a.ptvm)
            return SKIP
        why = kvm_usable()
        if why:
            print("SKIP: %s" % why)
            return SKIP
    elif not shutil.which("qemu-system-x86_64"):
        print("SKIP: qemu-system-x86_64 not installed")
        return SKIP

    with tempfile.TemporaryDirectory(prefix="ptvm-guest-") as d:
        log = os.path.join(d, "serial.log")
        cmd = ptvm_command(a, log) if a.vmm == "ptvm" else qemu_command(a, log)
        print("$ " + " ".join("'%s'" % c if " " in c or not c else c for c in cmd))
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=a.timeout)
            status, out = r.returncode, r.stdout.decode(errors="replace")
        except subprocess.TimeoutExpired as e:
            status, out = None, (e.stdout or b"").decode(errors="replace")
        try:
            with open(log, errors="replace") as f:
                serial = f.read()
        except OSError:
            serial = ""

    if out:
        print("--- %s output ---\n%s" % (a.vmm, out.rstrip()))
    print("--- serial ---\n%s" % serial.rstrip())
    print("---")
    if a.vmm == "qemu" and status is not None:
        # isa-debug-exit: QEMU exits with (value << 1) | 1
        status = status >> 1 if status & 1 else -status

    problems = []
    lines = serial.splitlines()
    if status is None:
        problems.append("timed out after %g s" % a.timeout)
    elif status != a.expect_status:
        problems.append("exit status %d, expected %d" % (status, a.expect_status))
    if not a.no_summary and not any(l.startswith("SUMMARY:") for l in lines):
        problems.append("no SUMMARY line in the serial log")
    want_exception = any(e.startswith("EXCEPTION:") for e in a.expect)
    for l in lines:
        if l.startswith("FAIL:") or (l.startswith("EXCEPTION:") and not want_exception):
            problems.append("guest reported: " + l)
    for e in a.forbid:
        if e in serial:
            problems.append("serial log has %r" % e)
    for e in a.expect:
        if e not in serial:
            problems.append("serial log lacks %r" % e)
    for pr in problems:
        print("FAIL: " + pr)
    if not problems:
        print("PASS: %s (status %d)" % (os.path.basename(a.guest), status))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
